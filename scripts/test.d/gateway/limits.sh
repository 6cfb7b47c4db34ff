# gateway.sh, part 6: the credential limits hold for every spelling of the paths, in two
# zones. Each case sends from its own loopback address (127.0.0.N), so it starts with a full
# bucket: login admits a burst of 30 and then one every 2 s, register 10 and one every 10 s,
# so within 80 and 30 attempts (the loop stops at the first) each must meet the
# gateway's 429 (its JSON body, with Retry-After; unknown emails keep auth-service's own
# per-email limit out of it).
limited() { # limited ADDRESS PATH COUNT KIND: some attempt of COUNT gets the gateway's 429
    local address=$1 path=$2 count=$3 kind=$4 i body
    for i in $(seq "$count"); do
        if [ "$kind" = login ]; then
            body="{\"email\":\"nobody$i.$RANDOM@example.com\",\"password\":\"wrong-password\"}"
        else
            body="{\"username\":\"gw$RANDOM$i\",\"email\":\"gw$RANDOM.$i@example.com\",\"password\":\"password123\"}"
        fi
        if json_error 429 too_many_requests --interface "$address" -X POST "$GW$path" \
                -H 'Content-Type: application/json' -d "$body" >/dev/null; then
            [ -n "$(header Retry-After)" ] && return 0
        fi
    done
    echo "    $count attempts on $path from $address, no gateway 429 (last: $(head -c 120 "$BODY"))"
    return 1
}
n=2
for path in /auth/login /auth/login/ /v1/auth/login /v1/auth/login/ /auth//login //v1//auth/login/ /auth/./login; do
    check "login limit on $path (429 JSON, Retry-After)" limited "127.0.0.$n" "$path" 80 login
    n=$((n + 1))
done
for path in /auth/register /auth/register/ /v1/auth/register/ /auth//register; do
    check "register limit on $path (429 JSON, Retry-After)" limited "127.0.0.$n" "$path" 30 register
    n=$((n + 1))
done
check "a percent-encoded path (/auth/%6Cogin) is refused -> 400" json_error 400 token_in_url -X POST "$GW/auth/%6Cogin" -d '{}'
# Separate zones: an address that used up its logins can still register.
check "register still works after the login limit was hit" bash -c '
    [ "$(curl -s -o /dev/null -w "%{http_code}" --interface 127.0.0.2 -X POST "$1/auth/register" -H "Content-Type: application/json" \
        -d "{\"username\":\"gwcarol\",\"email\":\"gwcarol@example.com\",\"password\":\"password123\"}")" = 201 ]' _ "$GW"
