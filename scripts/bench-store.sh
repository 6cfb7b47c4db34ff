#!/usr/bin/env bash
# Insert throughput of the SQLite notification store, release build, in the directory
# TMPDIR points at (default /tmp; point it at the production disk to measure that).
# Usage: scripts/bench-store.sh [rows]   (default 100000 rows per batch size and setting)
# Run it 3 times and quote the median; the machine is shared, so figures move.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build -c release --product store-bench >/dev/null
"$(swift build -c release --show-bin-path)/store-bench" "${1:-100000}"
