#!/usr/bin/env bash
# The nginx gateway (gateway/nginx.conf.in) in front of the real auth, story and social
# services, checked with curl. Runs inside scripts/test.sh, which exports the test
# PostgreSQL and RabbitMQ (INSTAVERSE_PG_URL, INSTAVERSE_AMQP_URL). Builds nothing: it uses
# the debug binaries in .build. Everything it starts is stopped by the trap.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${INSTAVERSE_BIN_DIR:-$ROOT/.build/debug}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
: "${INSTAVERSE_PG_URL:?run through scripts/test.sh (INSTAVERSE_PG_URL is not set)}"
: "${INSTAVERSE_AMQP_URL:?run through scripts/test.sh (INSTAVERSE_AMQP_URL is not set)}"
for b in auth-service story-service social-service; do
    [ -x "$BIN/$b" ] || { echo "gateway: $BIN/$b is missing (swift build first)"; exit 1; }
done

WORK="$(mktemp -d /tmp/instaverse-gateway.XXXXXX)"
export INSTAVERSE_RUN_DIR="$WORK/run"
PIDS=()
SUFFIX="gw$$"
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    "$ROOT/scripts/servers.sh" down >/dev/null 2>&1 || true
    for db in users stories social; do
        "$PG_BIN/psql" -q "$INSTAVERSE_PG_URL/postgres" -c "DROP DATABASE IF EXISTS ${SUFFIX}_$db WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

failures=0
check() { # check DESCRIPTION COMMAND...: runs a test command, reports, counts failures
    local what=$1; shift
    if "$@"; then echo "  ok   $what"; else echo "  FAIL $what"; failures=$((failures + 1)); fi
}

for db in users stories social; do
    "$PG_BIN/psql" -q "$INSTAVERSE_PG_URL/postgres" -c "CREATE DATABASE ${SUFFIX}_$db" >/dev/null
done
export INSTAVERSE_JWT_KEYS="gw1:gateway-test-secret-0123456789abcdef"
export INSTAVERSE_AUTH_SCRYPT_LOG2N=12 INSTAVERSE_LOG_LEVEL=warning
export INSTAVERSE_AUTH_PORT=$(free_port) INSTAVERSE_STORY_PORT=$(free_port) INSTAVERSE_SOCIAL_PORT=$(free_port)
export INSTAVERSE_AUTH_DB_URL="$INSTAVERSE_PG_URL/${SUFFIX}_users" INSTAVERSE_STORY_DB_URL="$INSTAVERSE_PG_URL/${SUFFIX}_stories" \
       INSTAVERSE_SOCIAL_DB_URL="$INSTAVERSE_PG_URL/${SUFFIX}_social"
export INSTAVERSE_STORY_QUEUE="$SUFFIX.story" INSTAVERSE_SOCIAL_QUEUE="$SUFFIX.social" INSTAVERSE_STORY_DATA_DIR="$WORK/images"
mkdir -p "$WORK/logs"
for s in auth story social; do
    "$BIN/$s-service" > "$WORK/logs/$s.log" 2>&1 &
    PIDS+=($!)
done

# The gateway's upstreams; notifyd is not part of this test, so its upstream is a closed port.
export INSTAVERSE_AUTH_UPSTREAM="127.0.0.1:$INSTAVERSE_AUTH_PORT"
export INSTAVERSE_STORY_UPSTREAM="127.0.0.1:$INSTAVERSE_STORY_PORT"
export INSTAVERSE_SOCIAL_UPSTREAM="127.0.0.1:$INSTAVERSE_SOCIAL_PORT"
export INSTAVERSE_NOTIFY_UPSTREAM="127.0.0.1:$(free_port)"
export INSTAVERSE_CORS_ORIGIN_REGEX='^https://app\.instaverse\.test$'

for port in $INSTAVERSE_AUTH_PORT $INSTAVERSE_STORY_PORT $INSTAVERSE_SOCIAL_PORT; do
    deadline=$((SECONDS + 30))
    until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then echo "gateway: a service on $port did not start"; tail -n 20 "$WORK"/logs/*.log; exit 1; fi
        sleep 0.1
    done
done
"$ROOT/scripts/servers.sh" up "nginx=$ROOT/gateway/nginx.conf.in"
. "$INSTAVERSE_RUN_DIR/env"
GW="$INSTAVERSE_GATEWAY_URL"
ACCESS_LOG="$INSTAVERSE_NGINX_DIR/logs/access.log"

echo "gateway: checks against $GW"
json_field() { python3 -c 'import sys, json; v = json.load(sys.stdin); print(eval("v" + sys.argv[1]))' "$1"; }
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# Register two users and log in, through the gateway (3 of the 6 credential requests the
# limit allows in a burst).
reg1=$(curl -fsS -X POST "$GW/auth/register" -H 'Content-Type: application/json' \
    -d '{"username":"gwalice","email":"gwalice@example.com","password":"password123"}')
check "register through the gateway" [ "$(echo "$reg1" | json_field '["user"]["username"]')" = gwalice ]
reg2=$(curl -fsS -X POST "$GW/v1/auth/register" -H 'Content-Type: application/json' \
    -d '{"username":"gwbob","email":"gwbob@example.com","password":"password123"}')
BOB_ID=$(echo "$reg2" | json_field '["user"]["id"]')
check "register under /v1/" [ -n "$BOB_ID" ]
login=$(curl -fsS -X POST "$GW/v1/auth/login" -H 'Content-Type: application/json' \
    -d '{"email":"gwalice@example.com","password":"password123"}')
TOKEN=$(echo "$login" | json_field '["token"]')
ALICE_ID=$(echo "$login" | json_field '["user"]["id"]')
check "login under /v1/ returns a token" [ -n "$TOKEN" ]

# Protected routes: no token -> 401 from auth_request; with a token the user id reaches the
# service (the like is recorded for alice). social-service checks that the post exists (it
# asks story-service), so the like is on a real post of bob's.
BOB_TOKEN=$(echo "$reg2" | json_field '["token"]')
POST1=$(curl -fsS -X POST "$GW/stories" -H "Authorization: Bearer $BOB_TOKEN" -H 'Content-Type: application/json' \
    -d '{"caption":"bob liked"}' | json_field '["id"]')
check "POST /social/likes without a token -> 401" \
    [ "$(status -X POST "$GW/social/likes/$POST1" -H 'Content-Type: application/json' -d "{\"postOwnerId\":$BOB_ID}")" = 401 ]
check "a forged X-User-Id without a token -> 401" \
    [ "$(status -X POST "$GW/social/likes/$POST1" -H "X-User-Id: $BOB_ID" -H 'Content-Type: application/json' -d "{\"postOwnerId\":$BOB_ID}")" = 401 ]
check "POST /v1/social/likes with a token -> 201" \
    [ "$(status -X POST "$GW/v1/social/likes/$POST1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "{\"postOwnerId\":$BOB_ID}")" = 201 ]
likes=$(curl -fsS "$GW/social/likes/$POST1")
check "the like is recorded for the caller (public GET)" [ "$(echo "$likes" | json_field '["users"][0]["id"]')" = "$ALICE_ID" ]
check "a bad token on a public GET -> 401" [ "$(status "$GW/stories" -H 'Authorization: Bearer nope')" = 401 ]
check "GET /stories without a token -> 200" [ "$(status "$GW/stories")" = 200 ]
story=$(curl -fsS -X POST "$GW/stories" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"caption":"gateway story","category":"test","tags":["gw"]}')
check "POST /stories with a token -> the caller's story" [ "$(echo "$story" | json_field '["userId"]')" = "$ALICE_ID" ]
check "X-User-Id from the gateway is verified by auth_request" \
    [ "$(curl -fsS "$GW/v1/auth/validate-token" -H "Authorization: Bearer $TOKEN" -D - -o /dev/null | tr -d '\r' | awk -F': ' 'tolower($1)=="x-user-id"{print $2}')" = "$ALICE_ID" ]

# CORS: the allowed origin is echoed, another gets no header; preflight is 204.
allowed=$(curl -s -D - -o /dev/null "$GW/stories" -H 'Origin: https://app.instaverse.test' | tr -d '\r')
check "CORS header for an allowed origin" grep -qi '^access-control-allow-origin: https://app.instaverse.test$' <<<"$allowed"
other=$(curl -s -D - -o /dev/null "$GW/stories" -H 'Origin: https://evil.example' | tr -d '\r')
check "no CORS header for another origin" bash -c "! grep -qi '^access-control-allow-origin' <<<\"\$1\"" _ "$other"
preflight=$(curl -s -D - -o /dev/null -X OPTIONS "$GW/v1/social/likes/1" -H 'Origin: https://app.instaverse.test' \
    -H 'Access-Control-Request-Method: POST' | tr -d '\r')
check "OPTIONS preflight -> 204 with CORS headers" bash -c "head -1 <<<\"\$1\" | grep -q ' 204' && grep -qi '^access-control-allow-methods' <<<\"\$1\"" _ "$preflight"

# Body limits: 64 KiB on JSON routes.
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
check "a 70 KB body -> 413" [ "$(status -X POST "$GW/auth/register" -H 'Content-Type: application/json' --data-binary "{\"bio\":\"$big\"}")" = 413 ]

# Nothing secret in the access log: no token, no query string.
curl -s -o /dev/null "$GW/stories?access_token=SECRET123&x=1"
curl -s -o /dev/null "$GW/stories" -H "Authorization: Bearer $TOKEN"
check "access log has no token and no query string" \
    bash -c "[ -s \"\$1\" ] && ! grep -q 'SECRET123' \"\$1\" && ! grep -q 'access_token' \"\$1\" && ! grep -qF \"\$2\" \"\$1\"" _ "$ACCESS_LOG" "$TOKEN"

# A token in the URL is refused before anything logs it: not even the error log, which
# records whole request lines (notifyd is down here, so a proxied request would be logged).
check "access_token in the URL -> 400" [ "$(status "$GW/ws?userId=1&access_token=SECRET456")" = 400 ]
status "$GW/ws?userId=1" -H "Authorization: Bearer $TOKEN" >/dev/null   # proxied, fails: an error log line
check "error log has the failed upstream but no token" \
    bash -c "grep -q 'upstream' \"\$1\" && ! grep -q 'SECRET456' \"\$1\" && ! grep -qF \"\$2\" \"\$1\"" _ "$INSTAVERSE_NGINX_DIR/logs/error.log" "$TOKEN"

# The credentials limit: a burst of logins ends in 429 (5 r/m, burst 5).
codes=""
for _ in $(seq 10); do
    codes+="$(status -X POST "$GW/auth/login" -H 'Content-Type: application/json' -d '{"email":"gwalice@example.com","password":"wrong-password"}') "
done
check "a burst of logins hits limit_req -> 429 ($codes)" grep -q 429 <<<"$codes"

# notifyd is down in this test: its routes answer 502, not a hang.
check "notifyd down -> 502" [ "$(status "$GW/notifications/$ALICE_ID" -H "Authorization: Bearer $TOKEN")" = 502 ]
check "unknown path -> 404" [ "$(status "$GW/nothing-here")" = 404 ]

if [ $failures -ne 0 ]; then
    echo "gateway: $failures check(s) failed; nginx error log:"
    tail -n 30 "$INSTAVERSE_NGINX_DIR/logs/error.log" || true
    tail -n 20 "$WORK"/logs/*.log || true
    exit 1
fi
echo "gateway: all checks passed"
