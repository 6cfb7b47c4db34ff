#!/usr/bin/env bash
# Builds the HTTP1 libFuzzer target (the module's pure sources + Fuzz/HTTP1/*.swift) and
# runs it for a bounded time on a scratch copy of the checked-in corpus. Exits non-zero on a
# crash, a leak or a timeout; the crashing input is kept under fuzz-out/.
# FUZZ_SECONDS (default 30) sets the run time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d /tmp/fuzz-http1.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

echo "building the HTTP1 fuzzer"
# ld.gold warns once per ASan helper symbol ("Cannot export local symbol"): harmless, filtered.
swiftc -sanitize=fuzzer,address -parse-as-library -O -swift-version 6 \
    "$ROOT"/Sources/HTTP1/*.swift "$ROOT"/Fuzz/HTTP1/*.swift -o "$WORK/fuzz-http1" \
    2> >(grep -v "Cannot export local symbol" >&2)

"$ROOT/scripts/fuzz-run.sh" fuzz-http1 "$WORK/fuzz-http1" 4096 "$ROOT/Fuzz/HTTP1/corpus"
