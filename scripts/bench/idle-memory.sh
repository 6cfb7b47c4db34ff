#!/usr/bin/env bash
# Memory per idle WebSocket connection: the server's VmRSS growth per idle connection
# (kernel socket buffers are not in VmRSS), the figure FACTS.md gives for uWebSockets (272 B).
#
#   scripts/bench/idle-memory.sh [ws-echo|notifyd] [N] [RUNS]     (defaults: ws-echo 10000 3)
#
# Algorithm, per run (a fresh server each run):
#   1. start the server pinned to core 0 (taskset), wait for its port;
#   2. open WARMUP (200) idle connections from a client process pinned to core 1 and wait
#      until they are all open (loop structures, read buffer, allocator arenas are warm);
#   3. read the server's VmRSS; open N more idle connections from a second client process;
#      wait until every one is open (notifyd: authenticated and its backlog received, so the
#      session is live); read VmRSS again (after it stays the same for 0.5 s);
#   4. print (after - before) / N; stop clients and server.
# Prints every run and the median of RUNS.
#
# notifyd runs against a private RabbitMQ (scripts/servers.sh with its own INSTAVERSE_RUN_DIR)
# and a temporary SQLite store; users 1..N each get one session, authenticated with a JWT in
# an `Authorization: Bearer` header (tokens made here with the key in INSTAVERSE_JWT_KEYS; the
# paths file holds "PATH<TAB>TOKEN" lines, and notifyd refuses tokens in URLs). The clients are
# `ws-echo --idle` processes (the project's own WebSocket client); N above ~18,000 would need
# several client processes (20,000 open files per process).
#
# Env: CONFIG=release (or debug), SOURCES=127.0.0.2,127.0.0.3, SERVER_CPU=0, CLIENT_CPU=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET="${1:-ws-echo}"
N="${2:-10000}"
RUNS="${3:-3}"
WARMUP="${WARMUP:-200}"
CONFIG="${CONFIG:-release}"
SOURCES="${SOURCES:-127.0.0.2,127.0.0.3}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"

case "$TARGET" in ws-echo|notifyd) ;; *) echo "usage: $0 [ws-echo|notifyd] [N] [RUNS]" >&2; exit 2 ;; esac
[ "$N" -le 18000 ] || { echo "N > 18000 needs several client processes (20,000 fds each)" >&2; exit 2; }

WORK="$(mktemp -d /tmp/idle-memory.XXXXXX)"
PIDS=()
RMQ_RUN_DIR=""
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -n "$RMQ_RUN_DIR" ]; then INSTAVERSE_RUN_DIR="$RMQ_RUN_DIR" "$ROOT/scripts/servers.sh" down >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf 'idle-memory: %s\n' "$*" >&2; }

# wait_line FILE PATTERN SECONDS: waits until FILE has a line matching PATTERN.
wait_line() {
    local deadline=$((SECONDS + $3))
    until grep -q -- "$2" "$1" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || { log "timeout waiting for '$2' in $1"; cat "$1" >&2 || true; return 1; }
        sleep 0.05
    done
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# stable_rss PID: VmRSS once two reads 0.5 s apart agree (late frees and writes settle).
stable_rss() {
    local a b
    a=$(rss_kib "$1")
    for _ in $(seq 20); do
        sleep 0.5
        b=$(rss_kib "$1")
        [ "$a" = "$b" ] && break
        a=$b
    done
    echo "$a"
}

log "building $TARGET and ws-echo ($CONFIG)"
(cd "$ROOT" && swift build -c "$CONFIG" --product ws-echo >/dev/null && \
    { [ "$TARGET" = ws-echo ] || swift build -c "$CONFIG" --product notifyd >/dev/null; })
BIN="$ROOT/.build/$CONFIG"

if [ "$TARGET" = notifyd ]; then
    RMQ_RUN_DIR="$WORK/run"
    INSTAVERSE_RUN_DIR="$RMQ_RUN_DIR" "$ROOT/scripts/servers.sh" up rabbitmq >/dev/null
    # shellcheck disable=SC1091
    AMQP_URL="$(. "$RMQ_RUN_DIR/env"; echo "$INSTAVERSE_AMQP_URL")"
    SECRET="idle-memory-bench-secret-0123456789abcdef"
    export INSTAVERSE_JWT_KEYS="bench:$SECRET"
    # Paths for users WARMUP+1..WARMUP+N (measured) and 1..WARMUP (warm-up): one token each.
    python3 - "$SECRET" "$WARMUP" "$N" "$WORK" <<'EOF'
import base64, hashlib, hmac, json, sys, time
secret, warmup, n, work = sys.argv[1].encode(), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "bench"}, separators=(",", ":")).encode())
now = int(time.time())
def path(user):
    payload = b64(json.dumps({"sub": str(user), "role": "user", "iat": now, "exp": now + 86400}, separators=(",", ":")).encode())
    signing = header + b"." + payload
    token = signing + b"." + b64(hmac.new(secret, signing, hashlib.sha256).digest())
    return "/ws?userId=%d\t%s\n" % (user, token.decode())
with open(work + "/warmup.paths", "w") as f:
    f.writelines(path(u) for u in range(1, warmup + 1))
with open(work + "/measured.paths", "w") as f:
    f.writelines(path(u) for u in range(warmup + 1, warmup + n + 1))
EOF
fi

start_server() { # start_server RUN: starts the server, sets SERVER_PID and PORT
    local out="$WORK/server.$1.out"
    if [ "$TARGET" = ws-echo ]; then
        taskset -c "$SERVER_CPU" "$BIN/ws-echo" --port 0 >"$out" 2>"$WORK/server.$1.err" &
        SERVER_PID=$!
        PIDS+=("$SERVER_PID")
        wait_line "$out" '^[0-9]' 30
        PORT=$(head -1 "$out")
    else
        INSTAVERSE_AMQP_URL="$AMQP_URL" INSTAVERSE_NOTIFYD_PORT=0 INSTAVERSE_STORE_PATH="$WORK/store.$1.db" \
        INSTAVERSE_STORE_SYNC=normal INSTAVERSE_NOTIFYD_QUEUE="bench.$1.$$" INSTAVERSE_NOTIFYD_EXCHANGE="bench.$1.$$" \
        INSTAVERSE_LOG_LEVEL=warning \
            taskset -c "$SERVER_CPU" "$BIN/notifyd" >"$out" 2>"$WORK/server.$1.err" &
        SERVER_PID=$!
        PIDS+=("$SERVER_PID")
        wait_line "$out" 'listening on' 60
        PORT=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$out" | head -1)
    fi
}

client() { # client NAME COUNT [PATHS]: starts an idle client, waits until its connections are open
    local out="$WORK/$1.out" extra=()
    [ -n "${3:-}" ] && extra=(--paths "$3" --await-message)
    taskset -c "$CLIENT_CPU" "$BIN/ws-echo" --idle "$2" --target-port "$PORT" --sources "$SOURCES" "${extra[@]}" \
        >"$out" 2>&1 &
    PIDS+=("$!")
    wait_line "$out" '^idle ' 300
    grep -q ' 0 failed' "$out" || { log "$1: $(cat "$out")"; return 1; }
}

results=()
for run in $(seq "$RUNS"); do
    start_server "$run"
    if [ "$TARGET" = ws-echo ]; then
        client "warm.$run" "$WARMUP"
    else
        client "warm.$run" "$WARMUP" "$WORK/warmup.paths"
    fi
    before=$(stable_rss "$SERVER_PID")
    if [ "$TARGET" = ws-echo ]; then
        client "idle.$run" "$N"
    else
        client "idle.$run" "$N" "$WORK/measured.paths"
    fi
    after=$(stable_rss "$SERVER_PID")
    per=$(( (after - before) * 1024 / N ))
    results+=("$per")
    log "run $run: VmRSS $before kB -> $after kB for $N idle connections: $per B per connection"
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
done
median=$(printf '%s\n' "${results[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "$TARGET: idle connections $N, runs: ${results[*]} B per connection; median $median B per connection"
