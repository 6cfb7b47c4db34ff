# gateway.sh, part 5: CORS from the one list of origins (INSTAVERSE_ALLOWED_ORIGINS plus the
# gateway's own origin). The WebSocket side of the same list is checked in e2e.sh.

cors_for() { # cors_for ORIGIN: the Access-Control-Allow-Origin the gateway answers ORIGIN with
    curl -s -D - -o /dev/null "$GW/stories" -H "Origin: $1" | tr -d '\r' |
        awk -F': ' 'tolower($1) == "access-control-allow-origin" { print $2 }'
}
check "CORS header for a listed origin" [ "$(cors_for https://app.instaverse.test)" = https://app.instaverse.test ]
check "CORS header for the gateway's own origin ($GW)" [ "$(cors_for "$GW")" = "$GW" ]
check "no CORS header for an unlisted origin" [ -z "$(cors_for https://evil.example)" ]
check "no CORS header for a listed origin's lookalike" [ -z "$(cors_for https://app.instaverse.test.evil.example)" ]
preflight=$(curl -s -D - -o /dev/null -X OPTIONS "$GW/v1/social/likes/1" -H 'Origin: https://app.instaverse.test' \
    -H 'Access-Control-Request-Method: POST' | tr -d '\r')
check "OPTIONS preflight -> 204 with CORS headers" bash -c "head -1 <<<\"\$1\" | grep -q ' 204' && grep -qi '^access-control-allow-methods' <<<\"\$1\"" _ "$preflight"
