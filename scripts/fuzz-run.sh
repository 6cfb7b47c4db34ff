#!/usr/bin/env bash
# Runs one built libFuzzer binary for a bounded time: what every scripts/test.d/fuzz-*.sh
# does after building its fuzzer.
#
#   scripts/fuzz-run.sh NAME BINARY MAX_LEN CORPUS_DIR [libFuzzer flags...]
#
# Fuzzes FUZZ_SECONDS (default 30) on a scratch copy of the checked-in corpus (so new units
# never dirty the repository), with the Swift backtracer off (it can hang a crashing fuzzer)
# and a hard timeout. Prints libFuzzer's final stats; on a crash prints the log's tail, keeps
# the input as fuzz-out/NAME-crash-* and exits non-zero.
set -euo pipefail
name=$1 binary=$2 max_len=$3 corpus=$4
shift 4
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
secs="${FUZZ_SECONDS:-30}"
work="$(dirname "$binary")/run-$name"
rm -rf "$work" && mkdir -p "$work/corpus" "$ROOT/fuzz-out"
cp "$corpus"/* "$work/corpus/"
echo "$name: fuzzing for ${secs}s"
set +e
SWIFT_BACKTRACE=enable=no timeout -k 10 $((secs + 120)) "$binary" \
    -max_total_time="$secs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$ROOT/fuzz-out/$name-" "$@" "$work/corpus" >"$work/log" 2>&1
rc=$?
set -e
grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|stat::peak_rss_mb)" "$work/log" || true
if [ $rc -ne 0 ]; then
    tail -n 40 "$work/log"
    echo "$name: FAILED (exit $rc); inputs in fuzz-out/"
    exit 1
fi
echo "$name: clean"
