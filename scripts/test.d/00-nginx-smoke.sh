#!/usr/bin/env bash
# The nginx path of scripts/servers.sh: start nginx with a config template in a run dir of
# its own, see it answer, stop it, and check that no nginx we started is left running.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export INSTAVERSE_RUN_DIR="$ROOT/.run/nginx-smoke"
trap '"$ROOT/scripts/servers.sh" down >/dev/null 2>&1 || true' EXIT
"$ROOT/scripts/servers.sh" up "nginx=$ROOT/Tests/fixtures/nginx-smoke.conf"
. "$INSTAVERSE_RUN_DIR/env"
pid=$(cat "$INSTAVERSE_NGINX_DIR/server.pid")
body=$(curl -fsS "$INSTAVERSE_GATEWAY_URL/")
[ "$body" = ok ] || { echo "nginx smoke: expected 'ok', got '$body'"; exit 1; }
"$ROOT/scripts/servers.sh" down
if kill -0 "$pid" 2>/dev/null; then echo "nginx smoke: nginx $pid still running after down"; exit 1; fi
echo "nginx smoke: ok"
