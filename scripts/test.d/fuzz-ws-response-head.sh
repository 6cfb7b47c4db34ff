#!/usr/bin/env bash
# libFuzzer run of the WebSocket client's response-head parser (Sources/Web/WebSocketResponseHead.swift,
# Fuzz/WebSocketResponseHead/FuzzEntry.swift) for FUZZ_SECONDS (default 30); non-zero on a crash.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="${FUZZ_OUT:-$ROOT/.build/fuzz-ws-response-head}"
SECONDS_TO_RUN="${FUZZ_SECONDS:-30}"
mkdir -p "$OUT/corpus"
echo "fuzz-ws-response-head: building"
swiftc -sanitize=fuzzer,address -parse-as-library -O -swift-version 6 -module-name WebResponseHeadFuzz \
    Sources/Web/WebSocketResponseHead.swift Fuzz/WebSocketResponseHead/FuzzEntry.swift \
    -o "$OUT/fuzz" >"$OUT/build.log" 2>&1 \
    || { cat "$OUT/build.log"; echo "fuzz-ws-response-head: build FAILED"; exit 1; }
cp Fuzz/WebSocketResponseHead/corpus/* "$OUT/corpus/"
echo "fuzz-ws-response-head: running ${SECONDS_TO_RUN}s"
set +e
SWIFT_BACKTRACE=enable=no timeout $((SECONDS_TO_RUN + 60)) "$OUT/fuzz" \
    -max_total_time="$SECONDS_TO_RUN" -max_len=12000 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$OUT/" "$OUT/corpus" >"$OUT/log" 2>&1
rc=$?
set -e
grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec)" "$OUT/log" || true
if [ $rc -ne 0 ]; then tail -40 "$OUT/log"; echo "fuzz-ws-response-head: FAILED (exit $rc); inputs in $OUT/"; exit 1; fi
echo "fuzz-ws-response-head: clean"
