# gateway.sh, part 7 (last: it takes auth-service away). An auth check that cannot be made is
# a 503 JSON with Retry-After, never nginx's HTML 500: first auth-service's database refuses
# connections (auth answers 5xx), then auth-service itself is gone (connection refused).
AUTH_DB="${SUFFIX}_users"
psql_admin() { "$PG_BIN/psql" -q "$INSTAVERSE_PG_URL/postgres" -c "$1" >/dev/null; }
psql_admin "ALTER DATABASE $AUTH_DB ALLOW_CONNECTIONS false"
psql_admin "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$AUTH_DB'"
check "auth's database down: a protected route -> 503 JSON with Retry-After" bash -c '
    json_error 503 auth_unavailable -X POST "$1/social/follows/$2" -H "Authorization: Bearer $3" &&
    [ -n "$(header Retry-After)" ]' _ "$GW" "$BOB_ID" "$TOKEN"
psql_admin "ALTER DATABASE $AUTH_DB ALLOW_CONNECTIONS true"

kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true   # auth-service, started first
check "auth-service down: a protected route -> 503 JSON with Retry-After" bash -c '
    json_error 503 auth_unavailable -X POST "$1/social/follows/$2" -H "Authorization: Bearer $3" &&
    [ -n "$(header Retry-After)" ]' _ "$GW" "$BOB_ID" "$TOKEN"
check "auth-service down: a public GET without a token still answers (200)" [ "$(status "$GW/stories")" = 200 ]
check "auth-service down: a public GET with a token -> 503 JSON" json_error 503 auth_unavailable "$GW/stories" -H "Authorization: Bearer $TOKEN"
check "auth-service down: its own routes -> 502 JSON" json_error 502 upstream_unavailable -X POST "$GW/auth/login" \
    -H 'Content-Type: application/json' -d '{"email":"gwalice@example.com","password":"password123"}'
