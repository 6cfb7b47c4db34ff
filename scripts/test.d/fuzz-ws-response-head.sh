#!/usr/bin/env bash
# libFuzzer run of the WebSocket client's response-head parser (Sources/Web/WebSocketResponseHead.swift,
# Fuzz/WebSocketResponseHead/FuzzEntry.swift) for FUZZ_SECONDS (default 30); non-zero on a crash.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="${FUZZ_OUT:-$ROOT/.build/fuzz-ws-response-head}"
mkdir -p "$OUT"
echo "fuzz-ws-response-head: building"
swiftc -sanitize=fuzzer,address -parse-as-library -O -swift-version 6 -module-name WebResponseHeadFuzz \
    Sources/Web/WebSocketResponseHead.swift Fuzz/WebSocketResponseHead/FuzzEntry.swift \
    -o "$OUT/fuzz" >"$OUT/build.log" 2>&1 \
    || { cat "$OUT/build.log"; echo "fuzz-ws-response-head: build FAILED"; exit 1; }
exec scripts/fuzz-run.sh fuzz-ws-response-head "$OUT/fuzz" 12000 Fuzz/WebSocketResponseHead/corpus
