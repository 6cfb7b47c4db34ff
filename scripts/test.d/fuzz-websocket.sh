#!/usr/bin/env bash
# libFuzzer run of the WebSocket frame parser, connection state machine and handshake
# (Fuzz/WebSocket/FuzzEntry.swift) for a bounded time. Builds with swiftc straight from the
# module's sources (it is pure: only OpenSSL and zlib), runs FUZZ_SECONDS (default 30) seconds
# on a scratch copy of the checked-in corpus, and exits non-zero on a crash or a leak.
#   FUZZ_SECONDS=300 scripts/test.d/fuzz-websocket.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="${FUZZ_OUT:-$ROOT/.build/fuzz-websocket}"
SECONDS_TO_RUN="${FUZZ_SECONDS:-30}"
mkdir -p "$OUT/corpus"

echo "fuzz-websocket: building"
swiftc -sanitize=fuzzer,address -parse-as-library -O -swift-version 6 -module-name WebSocket \
    -I Sources/COpenSSL -I Sources/CZlib \
    Sources/WebSocket/*.swift Fuzz/WebSocket/FuzzEntry.swift \
    -lcrypto -lz -o "$OUT/fuzz-websocket" >"$OUT/build.log" 2>&1 \
    || { cat "$OUT/build.log"; echo "fuzz-websocket: build FAILED"; exit 1; }

cp Fuzz/WebSocket/corpus/* "$OUT/corpus/"
echo "fuzz-websocket: running ${SECONDS_TO_RUN}s"
# The Swift backtracer can hang a crashing libFuzzer binary: disable it, and bound the run.
set +e
SWIFT_BACKTRACE=enable=no timeout $((SECONDS_TO_RUN + 60)) "$OUT/fuzz-websocket" \
    -max_total_time="$SECONDS_TO_RUN" -max_len=70000 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$OUT/" "$OUT/corpus" Fuzz/WebSocket/corpus >"$OUT/log" 2>&1
rc=$?
set -e
grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec)" "$OUT/log" || true
if [ $rc -ne 0 ]; then
    tail -40 "$OUT/log"
    echo "fuzz-websocket: FAILED (exit $rc); crash inputs in $OUT/"
    exit 1
fi
echo "fuzz-websocket: clean"
