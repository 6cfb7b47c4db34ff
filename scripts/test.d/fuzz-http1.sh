#!/usr/bin/env bash
# Builds the HTTP1 libFuzzer target (the module's pure sources + Fuzz/HTTP1/Main.swift) and
# runs it for a bounded time on a scratch copy of the checked-in corpus. Exits non-zero on a
# crash, a leak or a timeout; the crashing input is kept under fuzz-out/.
# FUZZ_SECONDS (default 30) sets the run time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SECS="${FUZZ_SECONDS:-30}"
WORK="$(mktemp -d /tmp/fuzz-http1.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

echo "building the HTTP1 fuzzer"
# ld.gold warns once per ASan helper symbol ("Cannot export local symbol"): harmless, filtered.
swiftc -sanitize=fuzzer,address -parse-as-library -O -swift-version 6 \
    "$ROOT"/Sources/HTTP1/*.swift "$ROOT"/Fuzz/HTTP1/Main.swift -o "$WORK/fuzz-http1" \
    2> >(grep -v "Cannot export local symbol" >&2)

mkdir -p "$WORK/corpus" "$ROOT/fuzz-out"
cp "$ROOT"/Fuzz/HTTP1/corpus/* "$WORK/corpus/"
echo "fuzzing HTTP1 for ${SECS}s"
# A crashing Swift binary can hang in the backtracer: disable it, and bound the run.
SWIFT_BACKTRACE=enable=no timeout -k 10 $((SECS + 120)) "$WORK/fuzz-http1" \
    -max_total_time="$SECS" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$ROOT/fuzz-out/http1-" "$WORK/corpus" > "$WORK/log" 2>&1 && status=0 || status=$?
if [ "$status" -ne 0 ]; then tail -n 40 "$WORK/log"; echo "fuzz-http1: FAILED (status $status)"; fi
grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|stat::peak_rss_mb)" "$WORK/log" || true
exit $status
