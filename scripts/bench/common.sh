# Shared by scripts/bench/*.sh (sourced). Builds release binaries, starts a private RabbitMQ
# with its own INSTAVERSE_RUN_DIR, starts notifyd / ws-echo pinned to core 0, and gives the
# load generator core 1. Everything started here is stopped by PID on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
ROUNDS=${ROUNDS:-3}
LOAD="$ROOT/.build/release/instaverse-load"
BENCH_DIR="$(mktemp -d /tmp/instaverse-bench.XXXXXX)"
export INSTAVERSE_RUN_DIR="$BENCH_DIR/run"
JWT_KEYS="bench:$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PIDS=()
RABBIT_UP=0

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "$RABBIT_UP" = 1 ]; then scripts/servers.sh down >/dev/null 2>&1 || true; fi
    rm -rf "$BENCH_DIR"
}
trap cleanup EXIT

# stop_started: stops the servers started so far (not RabbitMQ), by PID.
stop_started() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
}

build() { swift build -c release --product instaverse-load >/dev/null; for p in "$@"; do swift build -c release --product "$p" >/dev/null; done; }

start_rabbitmq() {
    scripts/servers.sh up rabbitmq >/dev/null
    RABBIT_UP=1
    # shellcheck disable=SC1091
    source "$INSTAVERSE_RUN_DIR/env"
}

# start_notifyd NAME PORT [extra env...]: notifyd on core 0 with its own store; sets NOTIFYD_PID.
start_notifyd() {
    local name=$1 port=$2; shift 2
    env INSTAVERSE_JWT_KEYS="$JWT_KEYS" INSTAVERSE_AMQP_URL="$INSTAVERSE_AMQP_URL" \
        INSTAVERSE_NOTIFYD_PORT="$port" INSTAVERSE_STORE_PATH="$BENCH_DIR/$name.db" \
        INSTAVERSE_STORE_SYNC="${STORE_SYNC:-normal}" INSTAVERSE_LOG_LEVEL=warning "$@" \
        taskset -c 0 "$ROOT/.build/release/notifyd" >"$BENCH_DIR/$name.out" 2>"$BENCH_DIR/$name.err" &
    NOTIFYD_PID=$!
    PIDS+=("$NOTIFYD_PID")
    for _ in $(seq 200); do grep -q "listening" "$BENCH_DIR/$name.out" 2>/dev/null && return 0; sleep 0.05; done
    echo "notifyd $name did not start:"; cat "$BENCH_DIR/$name.err"; exit 1
}

# start_ws_echo PORT: the project's ws-echo on core 0; sets ECHO_PID.
start_ws_echo() {
    taskset -c 0 "$ROOT/.build/release/ws-echo" --port "$1" --no-deflate >"$BENCH_DIR/echo-$1.out" 2>&1 &
    ECHO_PID=$!
    PIDS+=("$ECHO_PID")
    for _ in $(seq 200); do [ -s "$BENCH_DIR/echo-$1.out" ] && return 0; sleep 0.05; done
    echo "ws-echo did not start"; exit 1
}

# load ARGS...: the generator on core 1; the JSON report goes to $BENCH_DIR/last.json.
load() { taskset -c 1 "$LOAD" "$@" --json "$BENCH_DIR/last.json"; }

# field EXPR: a figure of the last report (python expression over `r`).
field() { python3 -c "import json,sys; r=json.load(open('$BENCH_DIR/last.json')); v=$1; print('-' if v is None else (round(v,2) if isinstance(v,float) else v))"; }

median() { printf '%s\n' "$@" | grep -v '^-$' | sort -g | awk '{a[NR]=$1} END {if (NR==0) print "-"; else print a[int((NR+1)/2)]}'; }
