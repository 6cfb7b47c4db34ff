#!/usr/bin/env bash
# libFuzzer run of the WebSocket frame parser, connection state machine and handshake
# (Fuzz/WebSocket/FuzzEntry.swift) for a bounded time. Builds with swiftc straight from the
# module's sources and CryptoBytes' (it is pure: only OpenSSL and zlib), runs FUZZ_SECONDS (default 30) seconds
# on a scratch copy of the checked-in corpus, and exits non-zero on a crash or a leak.
#   FUZZ_SECONDS=300 scripts/test.d/fuzz-websocket.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="${FUZZ_OUT:-$ROOT/.build/fuzz-websocket}"
mkdir -p "$OUT"

echo "fuzz-websocket: building"
FLAGS=(-sanitize=fuzzer,address -parse-as-library -O -swift-version 6)
{
    swiftc "${FLAGS[@]}" -wmo -module-name CryptoBytes -I Sources/COpenSSL -emit-module \
        -emit-module-path "$OUT/CryptoBytes.swiftmodule" -c -o "$OUT/CryptoBytes.o" Sources/CryptoBytes/*.swift &&
    swiftc "${FLAGS[@]}" -module-name WebSocket -I "$OUT" -I Sources/COpenSSL -I Sources/CZlib \
        Sources/WebSocket/*.swift Fuzz/WebSocket/FuzzEntry.swift "$OUT/CryptoBytes.o" \
        -lcrypto -lz -o "$OUT/fuzz-websocket"
} >"$OUT/build.log" 2>&1 || { cat "$OUT/build.log"; echo "fuzz-websocket: build FAILED"; exit 1; }

exec scripts/fuzz-run.sh fuzz-websocket "$OUT/fuzz-websocket" 70000 Fuzz/WebSocket/corpus
