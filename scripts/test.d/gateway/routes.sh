# gateway.sh, part 1: routing, auth_request and the user id, through the real services.
# Sets TOKEN, ALICE_ID, BOB_ID, STORY_ID for the later parts.

# Two users register and one logs in, through the gateway (/ and /v1/ prefixes).
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

check "GET /stories without a token -> 200" [ "$(status "$GW/stories")" = 200 ]
story=$(curl -fsS -X POST "$GW/stories" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"caption":"gateway story","category":"test","tags":["gw"]}')
STORY_ID=$(echo "$story" | json_field '["id"]')
check "POST /stories with a token -> the caller's story" [ "$(echo "$story" | json_field '["userId"]')" = "$ALICE_ID" ]

# Protected routes: no token -> 401 from auth_request; with a token the user id reaches the
# service (bob's like of alice's story is recorded for bob).
BOB_TOKEN=$(curl -fsS -X POST "$GW/auth/login" -H 'Content-Type: application/json' \
    -d '{"email":"gwbob@example.com","password":"password123"}' | json_field '["token"]')
check "a forged X-User-Id without a token -> 401" \
    [ "$(status -X POST "$GW/social/likes/$STORY_ID" -H "X-User-Id: $BOB_ID")" = 401 ]
check "POST /v1/social/likes with a token -> 201" \
    [ "$(status -X POST "$GW/v1/social/likes/$STORY_ID" -H "Authorization: Bearer $BOB_TOKEN")" = 201 ]
likes=$(curl -fsS "$GW/social/likes/$STORY_ID")
check "the like is recorded for the caller (public GET)" [ "$(echo "$likes" | json_field '["users"][0]["id"]')" = "$BOB_ID" ]
check "X-User-Id from the gateway is verified by auth_request" \
    [ "$(curl -fsS "$GW/v1/auth/validate-token" -H "Authorization: Bearer $TOKEN" -D - -o /dev/null | tr -d '\r' | awk -F': ' 'tolower($1)=="x-user-id"{print $2}')" = "$ALICE_ID" ]

# The services' /metrics (and health probes) stay internal: the gateway routes no such path.
for path in /metrics /v1/metrics /healthz; do
    check "GET $path through the gateway -> 404" [ "$(status "$GW$path")" = 404 ]
done
for path in /metrics /v1/metrics /auth/metrics /social/metrics /stories/metrics /notifications/metrics; do
    check "GET $path through the gateway exposes no metrics" \
        bash -c '! curl -s "$1" -H "Authorization: Bearer $2" | grep -q "^# TYPE"' _ "$GW$path" "$TOKEN"
done

# The API description is served as JSON, byte for byte the repository's docs/openapi.json.
check "GET /openapi.json -> 200 application/json, the file's bytes" bash -c '
    h=$(curl -fsS -D - -o "$2" "$1/openapi.json" | tr -d "\r") &&
    grep -qi "^content-type: application/json" <<<"$h" && cmp -s "$2" "$3/docs/openapi.json"' _ "$GW" "$WORK/openapi" "$ROOT"
check "GET /v1/openapi.json -> 200" [ "$(status "$GW/v1/openapi.json")" = 200 ]
