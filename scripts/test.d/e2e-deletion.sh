#!/usr/bin/env bash
# End to end, the user-deletion saga across every service (modelled on e2e.sh): the whole
# stack from scripts/run.sh on free ports, driven through the gateway with curl.
#  1. alice and bob register; bob posts a story; story-service learns bob's name from
#     user.registered (waited for: mentions resolve against that copy).
#  2. alice posts "hello @bob" (story publishes user.mentioned), likes and comments on bob's
#     story; bob gets MENTION, LIKE_NOTIFICATION and COMMENT_NOTIFICATION (REST), live too.
#  3. alice deletes her account (DELETE /auth/users/:id). Within a deadline: her stories are
#     gone (story consumed user.deleted), her like and comment are gone (social), and bob's
#     notifications caused by alice are gone from notifyd; bob's own WELCOME stays.
#  4. Her unexpired token is refused by the gateway, and also straight on social-service's and
#     story-service's own ports (401 user_deleted: both consumed user.deleted and keep a
#     tombstone), so no late like from her is written or published; carol's like still
#     reaches bob.
# Each step fails with what was seen. DELETION_DEADLINE (seconds, default 20) bounds every wait.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
DEADLINE="${DELETION_DEADLINE:-20}"
fail() { echo "e2e-deletion: FAILED: $*"; exit 1; }
step() { echo "e2e-deletion: $*"; }

# shellcheck source=lib/stack.sh
. scripts/test.d/lib/stack.sh
stack_up e2e-deletion

# py EXPR: evaluates EXPR with `d` = the JSON on stdin and prints the result.
py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" 2>/dev/null; }
# call METHOD PATH TOKEN [BODY]: prints the body; the status goes to $CODE_FILE.
CODE_FILE=$(mktemp)
call() {
    local args=(-s -o - -w '%{stderr}%{http_code}' -X "$1" "$G$2")
    [ -n "$3" ] && args+=(-H "Authorization: Bearer $3")
    [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' -d "$4")
    curl "${args[@]}" 2>"$CODE_FILE"
}
code() { cat "$CODE_FILE"; }
# until_true DESCRIPTION COMMAND...: runs COMMAND every 0.2 s until it succeeds or DEADLINE passes.
# WAITED holds how long the last wait took (ms), for the step lines.
until_true() {
    local what=$1; shift
    local end=$((SECONDS + DEADLINE)) start
    start=$(date +%s%3N)
    until "$@"; do
        [ $SECONDS -lt $end ] || { echo "e2e-deletion: gave up waiting for $what after ${DEADLINE}s"; return 1; }
        sleep 0.2
    done
    WAITED=$(( $(date +%s%3N) - start ))
}

register() {
    call POST /auth/register "" "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"correct horse battery\"}"
}
A=$(register alice); [ "$(code)" = 201 ] || fail "register alice: $(code) $A"
B=$(register bob); [ "$(code)" = 201 ] || fail "register bob: $(code) $B"
C=$(register carol); [ "$(code)" = 201 ] || fail "register carol: $(code) $C"
TA=$(echo "$A" | py 'd["token"]'); AID=$(echo "$A" | py 'd["user"]["id"]')
TB=$(echo "$B" | py 'd["token"]'); BID=$(echo "$B" | py 'd["user"]["id"]')
TC=$(echo "$C" | py 'd["token"]')

# 1. bob's story; wait until story-service shows his name (it consumed user.registered).
S=$(call POST /stories "$TB" '{"caption":"sunset"}'); [ "$(code)" = 201 ] || fail "bob's story: $(code) $S"
BPOST=$(echo "$S" | py 'd["id"]')
bob_known() { [ "$(call GET "/stories/$BPOST" "" | py 'd["username"]')" = bob ]; }
until_true "story-service knows bob" bob_known || fail "story-service never learned bob's username (user.registered not consumed)"
step "story-service knows bob (user.registered consumed)"

# bob's live session: WELCOME in the backlog, then MENTION, LIKE and COMMENT live.
live=$(mktemp)
python3 Tests/fixtures/wsclient.py 127.0.0.1 "$INSTAVERSE_GATEWAY_PORT" "/ws?userId=$BID" 4 "Authorization: Bearer $TB" > "$live" &
ws=$!
until_true "bob's backlog" grep -q '"type":"backlog"' "$live" || fail "bob's WebSocket: $(cat "$live")"

# 2. alice: a story mentioning bob, a like and a comment on bob's story.
S=$(call POST /stories "$TA" '{"caption":"hello @bob, look"}'); [ "$(code)" = 201 ] || fail "alice's story: $(code) $S"
APOST=$(echo "$S" | py 'd["id"]')
# The seed's client: a like with no body, a comment with only its text (social finds the owner).
R=$(call POST "/social/likes/$BPOST" "$TA"); [ "$(code)" = 201 ] || fail "alice's like: $(code) $R"
R=$(call POST "/social/comments/$BPOST" "$TA" '{"text":"lovely"}'); [ "$(code)" = 201 ] || fail "alice's comment: $(code) $R"

# kinds_from ACTOR: bob's notification kinds caused by ACTOR (sorted, comma-separated).
kinds_from() {
    call GET "/notifications/$BID?limit=100" "$TB" |
        py "','.join(sorted(n['kind'] for n in d['notifications'] if n['actor']['id'] == $1))"
}
all_three() { [ "$(kinds_from "$AID")" = "COMMENT_NOTIFICATION,LIKE_NOTIFICATION,MENTION" ]; }
until_true "bob's notifications from alice" all_three || fail "bob's notifications from alice: '$(kinds_from "$AID")' (want COMMENT, LIKE, MENTION)"
step "bob has MENTION (user.mentioned from story-service), LIKE and COMMENT from alice (${WAITED} ms)"
until_true "live" bash -c "! kill -0 $ws 2>/dev/null" || { kill $ws 2>/dev/null; fail "bob's live session got: $(cat "$live")"; }
for k in MENTION LIKE_NOTIFICATION COMMENT_NOTIFICATION; do
    grep -q "\"type\":\"notification\".*\"kind\":\"$k\"" "$live" || fail "no live $k: $(cat "$live")"
done
step "bob received the three live"
[ "$(call GET "/stories/user/$AID" "" | py 'len(d["stories"])')" = 1 ] || fail "alice's stories before deletion"

# 3. alice deletes her account.
# alice's own live session through the gateway: the deletion must end it (4003).
alice_ws=$(mktemp)
python3 Tests/fixtures/ws_close.py 127.0.0.1 "$INSTAVERSE_GATEWAY_PORT" "/ws?userId=$AID" "Sec-WebSocket-Protocol: bearer.$TA" > "$alice_ws" &
alice_open() { grep -q '"status": 101' "$alice_ws"; }
until_true "alice's session" alice_open || fail "alice's WebSocket did not open: $(cat "$alice_ws")"
R=$(call DELETE "/auth/users/$AID" "$TA"); [ "$(code)" = 204 ] || fail "delete alice: $(code) $R"
R=$(call GET "/auth/profile/$AID" ""); [ "$(code)" = 404 ] || fail "alice's profile after deletion: $(code) $R"
stories_gone() { [ "$(call GET "/stories/user/$AID" "" | py 'len(d["stories"])')" = 0 ]; }
until_true "stories" stories_gone || fail "alice's stories still listed: $(call GET "/stories/user/$AID" "")"
R=$(call GET "/stories/$APOST" ""); [ "$(code)" = 404 ] || fail "alice's story still readable: $(code) $R"
step "story-service removed alice's stories (${WAITED} ms after the 204)"
social_gone() {
    [ "$(call GET "/social/likes/$BPOST" "" | py "sum(1 for u in d['users'] if u['id'] == $AID)")" = 0 ] &&
    [ "$(call GET "/social/comments/$BPOST" "" | py "sum(1 for c in d['comments'] if c['userId'] == $AID)")" = 0 ]
}
until_true "social" social_gone || fail "alice's like or comment remain: $(call GET "/social/likes/$BPOST" "") $(call GET "/social/comments/$BPOST" "")"
step "social-service removed alice's like and comment (+${WAITED} ms)"
notifications_gone() { [ -z "$(kinds_from "$AID")" ]; }
until_true "notifyd" notifications_gone || fail "bob still has notifications from alice: $(kinds_from "$AID")"
[ "$(call GET "/notifications/$BID?limit=100" "$TB" | py "sum(1 for n in d['notifications'] if n['kind'] == 'WELCOME')")" = 1 ] \
    || fail "bob's WELCOME went too"
step "notifyd removed bob's notifications caused by alice, bob's WELCOME stays (+${WAITED} ms)"

# 4. Through the gateway her unexpired token is refused (auth's validate-token looks the user
#    up). Sent straight to social-service and story-service (as a request already past the
#    gateway would be), it is refused too: both consumed user.deleted (waited for above) and
#    keep a tombstone, so no late like from her is written or published.
R=$(call POST "/social/likes/$BPOST" "$TA")
[ "$(code)" = 401 ] || fail "the gateway let deleted alice's token write: $(code) $R"
R=$(call GET "/notifications/$AID" "$TA"); [ "$(code)" = 401 ] || fail "the gateway let deleted alice's token read: $(code) $R"
alice_closed() { grep -q '"close": 4003' "$alice_ws"; }
until_true "alice's session closed" alice_closed || fail "deleted alice's live session was not closed with 4003: $(cat "$alice_ws")"
again=$(python3 Tests/fixtures/ws_close.py 127.0.0.1 "$INSTAVERSE_GATEWAY_PORT" "/ws?userId=$AID" "Sec-WebSocket-Protocol: bearer.$TA")
case "$again" in *'"status": 401'*user_deleted*) ;; *) fail "deleted alice's new WebSocket through the gateway: $again (want 401 user_deleted)" ;; esac
rm -f "$alice_ws"
step "the gateway refuses deleted alice's unexpired token (401 user_deleted), her live session closed with 4003, a new WebSocket refused"
late=$(curl -s -w ' %{http_code}' -X POST "http://127.0.0.1:$INSTAVERSE_SOCIAL_PORT/social/likes/$BPOST" -H "Authorization: Bearer $TA")
case "$late" in *user_deleted*' 401') ;; *) fail "the late like straight to social-service answered: $late (want 401 user_deleted)" ;; esac
late=$(curl -s -w ' %{http_code}' -X POST "http://127.0.0.1:$INSTAVERSE_STORY_PORT/stories" -H "Authorization: Bearer $TA" \
    -H 'Content-Type: application/json' -d '{"caption":"late"}')
case "$late" in *user_deleted*' 401') ;; *) fail "the late story straight to story-service answered: $late (want 401 user_deleted)" ;; esac
step "social-service and story-service refuse her token on their own ports (401 user_deleted)"
R=$(call POST "/social/likes/$BPOST" "$TC"); [ "$(code)" = 201 ] || fail "carol's like: $(code) $R"
CID=$(echo "$C" | py 'd["user"]["id"]')
carol_seen() { [ "$(kinds_from "$CID")" = LIKE_NOTIFICATION ]; }
until_true "carol's like" carol_seen || fail "carol's like never reached bob"
[ -z "$(kinds_from "$AID")" ] || fail "bob has notifications from deleted alice again: $(kinds_from "$AID")"
orphans=$(call GET "/social/likes/$BPOST" "" | py "sum(1 for u in d['users'] if u['id'] == $AID)")
[ "$orphans" = 0 ] || fail "social_db holds $orphans like(s) from deleted alice"
step "carol's like reached bob; nothing from deleted alice was written or notified"

scripts/run.sh stop >/dev/null 2>&1
echo "e2e-deletion: ok (mention via user.mentioned, like, comment; deletion cleared story, social and notifyd; late writes refused)"
