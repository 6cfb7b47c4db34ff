# gateway.sh, part 2: every error nginx produces itself is the services' JSON shape.

# A 401 from the auth check names auth-service's reason (it comes in WWW-Authenticate).
check "no token on a protected route -> 401 JSON missing_token" json_error 401 missing_token \
    -X POST "$GW/social/likes/$STORY_ID" -H 'Content-Type: application/json' -d '{}'
check "a bad token on a public GET -> 401 JSON malformed" json_error 401 malformed "$GW/stories" -H 'Authorization: Bearer nope'
dave=$(curl -fsS -X POST "$GW/auth/register" -H 'Content-Type: application/json' \
    -d '{"username":"gwdave","email":"gwdave@example.com","password":"password123"}')
DAVE_TOKEN=$(echo "$dave" | json_field '["token"]')
check "a user deletes the account through the gateway -> 204" [ "$(status -X DELETE "$GW/auth/users/$(echo "$dave" | json_field '["user"]["id"]')" -H "Authorization: Bearer $DAVE_TOKEN")" = 204 ]
check "a deleted user's token -> 401 JSON user_deleted" json_error 401 user_deleted \
    -X POST "$GW/social/follows/$ALICE_ID" -H "Authorization: Bearer $DAVE_TOKEN"
check "an unknown path -> 404 JSON" json_error 404 not_found "$GW/nothing-here"
check "an unknown path under /v1 -> 404 JSON" json_error 404 not_found "$GW/v1/nothing/here"
check "POST /openapi.json -> 405 JSON" json_error 405 method_not_allowed -X POST "$GW/openapi.json" -d '{}'
check "TRACE -> 405 JSON" json_error 405 "" -X TRACE "$GW/stories"
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
check "a 70 KB JSON body -> 413 JSON" json_error 413 payload_too_large \
    -X POST "$GW/auth/register" -H 'Content-Type: application/json' --data-binary "{\"bio\":\"$big\"}"
head -c $((5 * 1024 * 1024 + 1)) /dev/zero > "$WORK/toobig"
check "an image over 5 MiB -> 413 JSON" json_error 413 payload_too_large -X POST "$GW/stories/$STORY_ID/image" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: image/png' --data-binary "@$WORK/toobig"
check "an over-long URL -> 414 JSON" json_error 414 uri_too_long "$GW/stories?q=$(head -c 9000 /dev/zero | tr '\0' 'q')"
check "a CORS header on an error page for an allowed origin" bash -c '
    json_error 404 not_found "$1/nothing" -H "Origin: https://app.instaverse.test" &&
    [ "$(header Access-Control-Allow-Origin)" = https://app.instaverse.test ]' _ "$GW"

# A malformed request (two Host headers) is refused by nginx's parser: 400 JSON.
bad_request() {
    python3 - "$INSTAVERSE_NGINX_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.sendall(b"GET /stories HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n")
data = b""
while True:
    d = s.recv(65536)
    if not d: break
    data += d
head, _, body = data.partition(b"\r\n\r\n")
lines = head.decode().lower().split("\r\n")
ok = lines[0].startswith("http/1.1 400") and "content-type: application/json" in lines and b'"error":"bad_request"' in body
print("    " + lines[0], body[:120]) if not ok else None
sys.exit(0 if ok else 1)
PY
}
check "a malformed request -> 400 JSON" bad_request

# notifyd is down in this test: its routes answer 502 JSON with Retry-After, not HTML.
check "notifyd down -> 502 JSON with Retry-After" bash -c '
    json_error 502 upstream_unavailable "$1/notifications/$2" -H "Authorization: Bearer $3" && [ -n "$(header Retry-After)" ]' \
    _ "$GW" "$ALICE_ID" "$TOKEN"
