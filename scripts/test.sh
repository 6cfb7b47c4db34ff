#!/usr/bin/env bash
# `make test`: start the private servers, run every test against them, stop the servers
# even when a test fails, and exit non-zero on any failure.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export INSTAVERSE_RUN_DIR="${INSTAVERSE_RUN_DIR:-$ROOT/.run/test}"

cleanup() { scripts/servers.sh down || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

scripts/servers.sh up rabbitmq postgres || exit 1
# shellcheck disable=SC1090
set -a; . "$INSTAVERSE_RUN_DIR/env"; set +a
export INSTAVERSE_SERVERS_SCRIPT="$ROOT/scripts/servers.sh"

status=0
step() { # step NAME COMMAND...: runs one stage, remembers a failure, goes on
    local name=$1; shift
    echo "==> $name"
    if ! "$@"; then echo "==> FAILED: $name"; status=1; fi
}

step "swift test" swift test --parallel --num-workers 2 ${SWIFT_TEST_FLAGS:-}
for extra in scripts/test.d/*.sh; do
    [ -e "$extra" ] || continue
    step "$(basename "$extra")" bash "$extra"
done

if [ $status -eq 0 ]; then echo "==> all tests passed"; else echo "==> some tests FAILED"; fi
exit $status
