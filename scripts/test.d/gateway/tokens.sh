# gateway.sh, part 4: no token in a URL, in any spelling, gets past the gateway or into a log.

for query in "access_token=SECRET456" "x=1&ACCESS_TOKEN=SECRET456" "access%5Ftoken=SECRET456" \
             "%61ccess_token=SECRET456" "access%5ftoken=SECRET456" "accessToken=SECRET456" \
             "token=$TOKEN" "t=$(sed 's/\./%2E/g' <<<"$TOKEN")"; do
    shown=${query//$TOKEN/<jwt>}
    check "?${shown:0:40} on /stories -> 400 JSON" json_error 400 token_in_url "$GW/stories?$query"
    check "?${shown:0:40} on /ws -> 400 JSON" json_error 400 "" "$GW/ws?userId=$ALICE_ID&$query"
done
check "/ws with a parameter besides userId and since -> 400 JSON" json_error 400 bad_query "$GW/ws?userId=1&x=SECRET456"
check "/ with a parameter besides userId and since -> 400 JSON" json_error 400 bad_query "$GW/?userId=1&x=SECRET456"
check "a Referer holding a token -> 400 JSON" json_error 400 token_in_referer "$GW/stories" \
    -H "Referer: https://app.instaverse.test/page?access_token=SECRET456"
# The refusals do not catch ordinary queries.
check "an ordinary query passes (/stories?limit=5)" [ "$(status "$GW/stories?limit=5")" = 200 ]
check "an encoded non-ASCII query passes (/stories?q=caf%C3%A9)" [ "$(status "$GW/stories?q=caf%C3%A9")" = 200 ]

# Nothing secret in the logs. A proxied /ws request fails upstream (notifyd is down here), so
# the error log holds request lines: none may hold a token. The access log has no query.
curl -s -o /dev/null "$GW/stories?x=1" -H "Authorization: Bearer $TOKEN"
status "$GW/ws?userId=$ALICE_ID&since=1" -H "Authorization: Bearer $TOKEN" >/dev/null
no_secret() { # no_secret FILE: FILE is not empty and holds neither SECRET456 nor the JWT
    [ -s "$1" ] && ! grep -q 'SECRET456' "$1" && ! grep -qF "$TOKEN" "$1"
}
check "error log has the failed upstream but no token" bash -c 'grep -q upstream "$1"' _ "$INSTAVERSE_NGINX_DIR/logs/error.log"
check "error log holds no token" no_secret "$INSTAVERSE_NGINX_DIR/logs/error.log"
check "access log holds no token and no query string" bash -c '! grep -q "?" "$1"' _ "$ACCESS_LOG"
check "access log holds no token" no_secret "$ACCESS_LOG"
# Every variable the config uses is set on every path (early errors included).
check "error log has no uninitialized-variable warning" bash -c '! grep -q uninitialized "$1"' _ "$INSTAVERSE_NGINX_DIR/logs/error.log"
