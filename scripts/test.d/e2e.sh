#!/usr/bin/env bash
# End to end, the way a user meets the product: `scripts/run.sh` (what `make run` does) starts
# the whole stack on free ports; two users register through the gateway; bob opens a WebSocket
# through the gateway; alice likes bob's post and follows him; bob receives both notifications
# live, finds them over REST, and alice cannot read bob's notifications. Then `run.sh stop`
# must leave no process of the stack behind.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
fail() { echo "e2e: FAILED: $*"; exit 1; }

# shellcheck source=lib/stack.sh
. scripts/test.d/lib/stack.sh
stack_up e2e
pids=$(cat "$INSTAVERSE_RUN_DIR"/pids/*.pid)
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

register() {
    curl -fsS -X POST "$G/auth/register" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"correct horse battery\"}"
}
A=$(register alice) || fail "register alice"
B=$(register bob) || fail "register bob"
TA=$(echo "$A" | json '["token"]'); TB=$(echo "$B" | json '["token"]'); BID=$(echo "$B" | json '["user"]["id"]')

# One list of origins (run.sh gives notifyd and the gateway the same): the gateway's own origin
# and a listed one open the WebSocket through the gateway and get CORS headers; an unlisted
# origin gets neither.
ws_status() { # ws_status ORIGIN: the handshake status of bob's WebSocket through the gateway
    local out
    out=$(python3 Tests/fixtures/wsclient.py 127.0.0.1 "$INSTAVERSE_GATEWAY_PORT" "/ws?userId=$BID" 1 \
        "Authorization: Bearer $TB" "Origin: $1")
    head -n 1 <<<"$out" | json '["status"]'
}
cors() { curl -s -D - -o /dev/null "$G/stories" -H "Origin: $1" | tr -d '\r' | awk -F': ' 'tolower($1) == "access-control-allow-origin" { print $2 }'; }
for origin in "http://localhost:$INSTAVERSE_GATEWAY_PORT" "http://127.0.0.1:$INSTAVERSE_GATEWAY_PORT" http://localhost:3000; do
    [ "$(ws_status "$origin")" = 101 ] || fail "a WebSocket from $origin through the gateway was refused"
    [ "$(cors "$origin")" = "$origin" ] || fail "no CORS header for $origin"
done
[ "$(ws_status https://evil.example)" = 403 ] || fail "a WebSocket from an unlisted origin was not refused"
[ -z "$(cors https://evil.example)" ] || fail "a CORS header for an unlisted origin"

out=$(mktemp)
python3 Tests/fixtures/wsclient.py 127.0.0.1 "$INSTAVERSE_GATEWAY_PORT" "/v1/ws?userId=$BID" 3 "Authorization: Bearer $TB" > "$out" &
ws=$!
# The backlog (bob's WELCOME) arrives first: only then act, so the likes are live.
for i in $(seq 100); do grep -q '"type":"backlog"' "$out" && break; sleep 0.1; done
grep -q '"status": 101' "$out" || fail "bob's WebSocket was not upgraded: $(cat "$out")"
grep -q '"kind":"WELCOME"' "$out" || fail "bob's backlog has no WELCOME: $(cat "$out")"

# bob's post, liked the seed's way (no body: social learns the owner from story-service).
POST=$(curl -fsS -X POST "$G/stories" -H "Authorization: Bearer $TB" -H 'Content-Type: application/json' \
    -d '{"caption":"sunset"}' | json '["id"]') || fail "bob's story"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$G/social/likes/$POST" -H "Authorization: Bearer $TA")
[ "$code" = 201 ] || fail "like answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$G/social/follows/$BID" -H "Authorization: Bearer $TA")
[ "$code" = 201 ] || fail "follow answered $code"

for i in $(seq 300); do kill -0 $ws 2>/dev/null || break; sleep 0.1; done
kill $ws 2>/dev/null && fail "bob did not receive two live notifications: $(cat "$out")"
grep -q '"type":"notification".*"kind":"LIKE_NOTIFICATION".*"text":"alice liked your post"' "$out" || fail "no live like: $(cat "$out")"
grep -q '"type":"notification".*"kind":"NEW_FOLLOWER"' "$out" || fail "no live follow: $(cat "$out")"

list=$(curl -fsS "$G/notifications/$BID" -H "Authorization: Bearer $TB") || fail "bob's REST list"
[ "$(echo "$list" | json '["unreadCount"]')" = 3 ] || fail "bob's unreadCount: $list"
code=$(curl -s -o /dev/null -w '%{http_code}' "$G/notifications/$BID" -H "Authorization: Bearer $TA")
[ "$code" = 403 ] || fail "alice reading bob's notifications got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$G/notifications/$BID")
[ "$code" = 401 ] || fail "no token got $code"
grep -rq "$TB" "$INSTAVERSE_STATE_DIR"/logs/ "$INSTAVERSE_STATE_DIR"/nginx/logs/ && fail "a token reached a log"

scripts/run.sh stop >/dev/null 2>&1
for p in $pids; do kill -0 "$p" 2>/dev/null && fail "process $p still running after stop"; done
echo "e2e: ok (register, origins, live like + follow over the gateway WebSocket, REST, caller-only access, clean stop)"
