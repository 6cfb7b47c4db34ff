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
# Social asks story-service about posts it has not seen yet (the seed's synchronous pattern).
export INSTAVERSE_STORY_URL="http://127.0.0.1:$INSTAVERSE_STORY_PORT"
export INSTAVERSE_STORY_QUEUE="$SUFFIX.story" INSTAVERSE_SOCIAL_QUEUE="$SUFFIX.social" INSTAVERSE_STORY_DATA_DIR="$WORK/images"
mkdir -p "$WORK/logs"
for s in auth story social; do
    "$BIN/$s-service" > "$WORK/logs/$s.log" 2>&1 &
    PIDS+=($!)
done

# The gateway's upstreams; notifyd is not part of this test, so its upstream is a closed port.
# The allowed origins: one listed origin, plus the gateway's own (its URL, servers.sh's default).
export INSTAVERSE_AUTH_UPSTREAM="127.0.0.1:$INSTAVERSE_AUTH_PORT"
export INSTAVERSE_STORY_UPSTREAM="127.0.0.1:$INSTAVERSE_STORY_PORT"
export INSTAVERSE_SOCIAL_UPSTREAM="127.0.0.1:$INSTAVERSE_SOCIAL_PORT"
export INSTAVERSE_NOTIFY_UPSTREAM="127.0.0.1:$(free_port)"
export INSTAVERSE_ALLOWED_ORIGINS='https://app.instaverse.test'
unset INSTAVERSE_PUBLIC_ORIGIN

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
# json_error STATUS CODE CURL_ARGS...: the request answers STATUS with Content-Type
# application/json and the body {"error": CODE, "message": "<non-empty>"} (CODE "" = any
# code). The answer's headers and body stay in $HEADERS and $BODY; header NAME prints one.
HEADERS="$WORK/headers" BODY="$WORK/body"
json_error() {
    local want=$1 code=$2 got; shift 2
    got=$(curl -s -D "$HEADERS" -o "$BODY" -w '%{http_code}' "$@")
    [ "$got" = "$want" ] && grep -qi '^content-type: application/json' "$HEADERS" &&
        python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))
sys.exit(0 if isinstance(b, dict) and isinstance(b.get("message"), str) and b["message"]
         and isinstance(b.get("error"), str) and sys.argv[2] in ("", b["error"]) else 1)' "$BODY" "$code" 2>/dev/null ||
        { echo "    got $got, $(grep -i '^content-type' "$HEADERS" | tr -d '\r'), body: $(head -c 200 "$BODY")"; return 1; }
}
header() { tr -d '\r' < "$HEADERS" | awk -F': ' -v h="$1" 'tolower($1) == tolower(h) { print $2 }'; }
export HEADERS BODY && export -f json_error header   # for checks that run in bash -c
# The checks, by topic; each file is sourced here and uses check, status, json_error, $GW,
# $TOKEN, ... Order matters: auth-service is stopped by the last one.
for part in routes errors images tokens origins limits auth-down; do
    . "$ROOT/scripts/test.d/gateway/$part.sh"
done

if [ $failures -ne 0 ]; then
    echo "gateway: $failures check(s) failed; nginx error log:"
    tail -n 30 "$INSTAVERSE_NGINX_DIR/logs/error.log" || true
    tail -n 20 "$WORK"/logs/*.log || true
    exit 1
fi
echo "gateway: all checks passed"
