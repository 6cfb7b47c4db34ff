#!/usr/bin/env bash
# `make run`: build, then start the whole stack in the background with embedded defaults:
# a private RabbitMQ and PostgreSQL (free ports, data under /tmp/instaverse.*), notifyd (5004),
# auth (5001), story (5002), social (5003) and the nginx gateway (8000). `make stop` ends it.
#
# Ports can be moved with INSTAVERSE_{AUTH,STORY,SOCIAL,NOTIFYD}_PORT and
# INSTAVERSE_GATEWAY_PORT; browser origins with INSTAVERSE_ALLOWED_ORIGINS and
# INSTAVERSE_PUBLIC_ORIGIN (see below). A development JWT key is generated once and kept in
# .run/stack/jwt-keys (never printed). Logs: <state dir>/logs/*.log.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export INSTAVERSE_RUN_DIR="${INSTAVERSE_RUN_DIR:-$ROOT/.run/stack}"
PIDS="$INSTAVERSE_RUN_DIR/pids"
SERVICES=(notifyd auth-service story-service social-service)

stop_all() {
    local f pid name i
    if [ -d "$PIDS" ]; then
        for f in "$PIDS"/*.pid; do
            [ -e "$f" ] || continue
            pid=$(cat "$f"); name=$(basename "$f" .pid)
            if kill -0 "$pid" 2>/dev/null; then
                kill -TERM "$pid" 2>/dev/null || true
                for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
                kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
                echo "run: $name ($pid) stopped"
            fi
            rm -f "$f"
        done
    fi
    scripts/servers.sh down
}

if [ "${1:-}" = stop ]; then
    stop_all
    exit 0
fi

if [ -d "$PIDS" ] && ls "$PIDS"/*.pid >/dev/null 2>&1; then
    echo "run: the stack is already running (make stop first)"; exit 1
fi

CONFIG="${CONFIG:-debug}"
swift build -c "$CONFIG" --product notifyd
for s in auth-service story-service social-service; do swift build -c "$CONFIG" --product "$s"; done
BIN="$(swift build -c "$CONFIG" --show-bin-path)"

trap 'echo "run: start failed; stopping what started"; stop_all' ERR
scripts/servers.sh up rabbitmq postgres
set -a; . "$INSTAVERSE_RUN_DIR/env"; set +a
mkdir -p "$PIDS" "$INSTAVERSE_STATE_DIR/logs" "$INSTAVERSE_STATE_DIR/notifyd" "$INSTAVERSE_STATE_DIR/stories"

keys="$INSTAVERSE_RUN_DIR/jwt-keys"
if [ ! -s "$keys" ]; then
    (umask 077; echo "dev$(date +%Y%m%d):$(python3 -c 'import secrets; print(secrets.token_hex(32))')" > "$keys")
fi
export INSTAVERSE_JWT_KEYS="$(cat "$keys")"
export INSTAVERSE_AUTH_PORT="${INSTAVERSE_AUTH_PORT:-5001}" INSTAVERSE_STORY_PORT="${INSTAVERSE_STORY_PORT:-5002}"
export INSTAVERSE_SOCIAL_PORT="${INSTAVERSE_SOCIAL_PORT:-5003}" INSTAVERSE_NOTIFYD_PORT="${INSTAVERSE_NOTIFYD_PORT:-5004}"
export INSTAVERSE_STORE_PATH="$INSTAVERSE_STATE_DIR/notifyd/notifications.db"
export INSTAVERSE_STORY_DATA_DIR="$INSTAVERSE_STATE_DIR/stories"
# social-service asks story-service about posts its copy has not seen yet (GET /stories/:id).
export INSTAVERSE_STORY_URL="${INSTAVERSE_STORY_URL:-http://127.0.0.1:$INSTAVERSE_STORY_PORT}"
export INSTAVERSE_GATEWAY_PORT="${INSTAVERSE_GATEWAY_PORT:-8000}"
# One list of browser origins for notifyd's WebSocket Origin check and the gateway's CORS:
# INSTAVERSE_ALLOWED_ORIGINS (default http://localhost:3000, a dev server) plus the gateway's
# own origin, INSTAVERSE_PUBLIC_ORIGIN, and its loopback spellings, so a page the gateway
# serves opens the WebSocket. render-nginx.py merges and checks the list for both.
export INSTAVERSE_PUBLIC_ORIGIN="${INSTAVERSE_PUBLIC_ORIGIN:-http://localhost:$INSTAVERSE_GATEWAY_PORT}"
INSTAVERSE_ALLOWED_ORIGINS="$(INSTAVERSE_ALLOWED_ORIGINS="${INSTAVERSE_ALLOWED_ORIGINS:-http://localhost:3000},http://localhost:$INSTAVERSE_GATEWAY_PORT,http://127.0.0.1:$INSTAVERSE_GATEWAY_PORT" \
    python3 scripts/render-nginx.py --origins)"
export INSTAVERSE_ALLOWED_ORIGINS

port_of() {
    case "$1" in
        notifyd) echo "$INSTAVERSE_NOTIFYD_PORT" ;; auth-service) echo "$INSTAVERSE_AUTH_PORT" ;;
        story-service) echo "$INSTAVERSE_STORY_PORT" ;; social-service) echo "$INSTAVERSE_SOCIAL_PORT" ;;
    esac
}

for s in "${SERVICES[@]}"; do
    nohup "$BIN/$s" > "$INSTAVERSE_STATE_DIR/logs/$s.log" 2>&1 < /dev/null &
    echo $! > "$PIDS/$s.pid"
done
for s in "${SERVICES[@]}"; do
    port=$(port_of "$s")
    deadline=$((SECONDS + 60))
    until curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; do
        if ! kill -0 "$(cat "$PIDS/$s.pid")" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
            echo "run: $s did not come up; its log:"; tail -20 "$INSTAVERSE_STATE_DIR/logs/$s.log"; false
        fi
        sleep 0.1
    done
    echo "run: $s up on 127.0.0.1:$port"
done

export INSTAVERSE_AUTH_UPSTREAM="127.0.0.1:$INSTAVERSE_AUTH_PORT" INSTAVERSE_STORY_UPSTREAM="127.0.0.1:$INSTAVERSE_STORY_PORT"
export INSTAVERSE_SOCIAL_UPSTREAM="127.0.0.1:$INSTAVERSE_SOCIAL_PORT" INSTAVERSE_NOTIFY_UPSTREAM="127.0.0.1:$INSTAVERSE_NOTIFYD_PORT"
scripts/servers.sh up "nginx=gateway/nginx.conf.in"
trap - ERR

cat <<EOF

The stack is up (stop it with: make stop).
  gateway       http://127.0.0.1:$INSTAVERSE_GATEWAY_PORT   (/auth, /stories, /social, /notifications, /ws; also under /v1;
                the API description at /openapi.json; browser origins $INSTAVERSE_ALLOWED_ORIGINS)
  notifyd       http://127.0.0.1:$INSTAVERSE_NOTIFYD_PORT   (ws://127.0.0.1:$INSTAVERSE_NOTIFYD_PORT/ws?userId=ID, /metrics)
  auth-service  http://127.0.0.1:$INSTAVERSE_AUTH_PORT
  story-service http://127.0.0.1:$INSTAVERSE_STORY_PORT
  social-service http://127.0.0.1:$INSTAVERSE_SOCIAL_PORT
  RabbitMQ      $INSTAVERSE_AMQP_URL
  PostgreSQL    $INSTAVERSE_PG_URL (users_db, stories_db, social_db)
  logs          $INSTAVERSE_STATE_DIR/logs/
Try: curl -s -X POST http://127.0.0.1:$INSTAVERSE_GATEWAY_PORT/auth/register -H 'Content-Type: application/json' \\
       -d '{"username":"alice","email":"alice@example.com","password":"correct horse battery"}'
EOF
