#!/usr/bin/env bash
# The seed's client end to end: `scripts/run.sh` (what `make run` does) starts the whole stack
# on free ports, and Tests/fixtures/seed_flow.py uses only the endpoints the seed lists
# (register, login, stories, likes with no body, comments with only text, the WebSocket at
# /?userId=ID, GET /notifications/:userId, PUT /notifications/:id/read) plus follows, through
# the gateway. Every like, comment, follow and mention must arrive live and in the listing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export INSTAVERSE_RUN_DIR="$ROOT/.run/seed-flow"
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export INSTAVERSE_AUTH_PORT=$(free) INSTAVERSE_STORY_PORT=$(free) INSTAVERSE_SOCIAL_PORT=$(free)
export INSTAVERSE_NOTIFYD_PORT=$(free) INSTAVERSE_GATEWAY_PORT=$(free)
export INSTAVERSE_AUTH_SCRYPT_LOG2N=12
trap 'scripts/run.sh stop >/dev/null 2>&1 || true' EXIT

mkdir -p "$ROOT/.run"
scripts/run.sh > "$INSTAVERSE_RUN_DIR.log" 2>&1 || { cat "$INSTAVERSE_RUN_DIR.log"; echo "seed-flow: FAILED: run.sh did not start the stack"; exit 1; }
. "$INSTAVERSE_RUN_DIR/env"
if ! python3 Tests/fixtures/seed_flow.py "http://127.0.0.1:$INSTAVERSE_GATEWAY_PORT"; then
    tail -n 20 "$INSTAVERSE_STATE_DIR"/logs/*.log
    exit 1
fi
