#!/usr/bin/env bash
# `make run`: start the stack in the background with embedded defaults; `make stop` ends it.
# What runs is listed at the end; logs and state live under the state dir it prints.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export INSTAVERSE_RUN_DIR="${INSTAVERSE_RUN_DIR:-$ROOT/.run/stack}"
if [ "${1:-}" = stop ]; then
    exec scripts/servers.sh down
fi
swift build -c "${CONFIG:-debug}"
scripts/servers.sh up rabbitmq postgres
set -a; . "$INSTAVERSE_RUN_DIR/env"; set +a
echo
echo "The stack is up (stop it with: make stop)."
echo "  RabbitMQ    $INSTAVERSE_AMQP_URL"
echo "  PostgreSQL  $INSTAVERSE_PG_URL (users_db, stories_db, social_db, notify_db)"
echo "  state dir   $INSTAVERSE_STATE_DIR"
echo "notifyd, the services and the gateway are not built yet: see README.md (Status)."
