#!/usr/bin/env bash
# The same storm against notifyd, socketify (uWebSockets with Python callbacks, PyPI, in a
# venv under .run/) and nginx+nchan (Debian libnginx-mod-nchan, its own nginx -p dir, one
# worker, worker_rlimit_nofile 19000), in the same run, alternating servers each round;
# prints every round, the medians, and notifyd's connect rate as a ratio of each peer's.
# Each server on core 0 (fresh process per round), the generator on core 1. notifyd
# connections carry a JWT it verifies; the peers accept anonymous connections (they do less).
#   CONNECTIONS=10000 scripts/bench/peers.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CONNECTIONS=${CONNECTIONS:-10000}; HOLD=${HOLD:-1}
P_NOTIFYD=${P_NOTIFYD:-15024}; P_SOCKETIFY=${P_SOCKETIFY:-15025}; P_NCHAN=${P_NCHAN:-15026}
VENV="$ROOT/.run/peers-venv"
if ! "$VENV/bin/python" -c "import socketify" 2>/dev/null; then
    python3 -m venv "$VENV"; "$VENV/bin/pip" install -q socketify
fi
dpkg -s libnginx-mod-nchan >/dev/null 2>&1 || apt-get install -y -q nginx-light libnginx-mod-nchan >/dev/null
build notifyd
start_rabbitmq
NGX="$BENCH_DIR/nginx"; mkdir -p "$NGX/logs"
cat > "$NGX/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
worker_processes 1;
worker_rlimit_nofile 19000;
daemon off;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log warn;
events { worker_connections 19000; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $NGX/body;
  server {
    listen 127.0.0.1:$P_NCHAN backlog=4096;
    location ~ /sub/(\w+)$ { nchan_subscriber; nchan_channel_id \$1; }
    location ~ /pub/(\w+)$ { nchan_publisher; nchan_channel_id \$1; nchan_message_buffer_length 10; nchan_message_timeout 60s; }
  }
}
CONF
start_server() {  # name -> SERVER_PID, URL
    case $1 in
    notifyd) start_notifyd "p$i" "$P_NOTIFYD"; SERVER_PID=$NOTIFYD_PID; URL="ws://127.0.0.1:$P_NOTIFYD/ws?userId={user}"; EXTRA=(--jwt-keys "$JWT_KEYS") ;;
    socketify)
        taskset -c 0 "$VENV/bin/python" scripts/bench/socketify_app.py "$P_SOCKETIFY" >"$BENCH_DIR/socketify.out" 2>&1 &
        SERVER_PID=$!; PIDS+=("$SERVER_PID")
        for _ in $(seq 200); do grep -q listening "$BENCH_DIR/socketify.out" 2>/dev/null && break; sleep 0.05; done
        URL="ws://127.0.0.1:$P_SOCKETIFY/ws"; EXTRA=() ;;
    nchan)
        taskset -c 0 nginx -p "$NGX" -c "$NGX/nginx.conf" >"$BENCH_DIR/nginx.out" 2>&1 &
        PIDS+=("$!")
        for _ in $(seq 200); do [ -s "$NGX/nginx.pid" ] && break; sleep 0.05; done
        sleep 0.2
        SERVER_PID=$(pgrep -P "$(cat "$NGX/nginx.pid")" | head -1)  # the one worker
        URL="ws://127.0.0.1:$P_NCHAN/sub/u{user}"; EXTRA=() ;;
    esac
}
declare -A rates p99 kib
for i in $(seq "$ROUNDS"); do
    for s in notifyd socketify nchan; do
        stop_started
        start_server "$s"
        load storm --connections "$CONNECTIONS" --target "$URL" "${EXTRA[@]}" --hold "$HOLD" --server-pid "$SERVER_PID" >"$BENCH_DIR/round.txt"
        r=$(field "r['connectRate']"); p=$(field "r['handshake']['p99']/1000"); k=$(field "r.get('kibPerIdleConnection')")
        f=$(field "sum(r['failures'].values())"); g=$(field "r['generatorPeakCorePercent']")
        echo "round $i $s: $r conn/s, handshake p99 $p ms, $k KiB/idle conn, $f failures, generator peak $g% of a core"
        rates[$s]+="$r "; p99[$s]+="$p "; kib[$s]+="$k "
    done
done
for s in notifyd socketify nchan; do
    # shellcheck disable=SC2086
    eval "m_$s=$(median ${rates[$s]})"
    # shellcheck disable=SC2086
    echo "median $s: $(median ${rates[$s]}) conn/s, handshake p99 $(median ${p99[$s]}) ms, $(median ${kib[$s]}) KiB/idle conn"
done
echo "ratio notifyd/socketify $(awk -v a="$m_notifyd" -v b="$m_socketify" 'BEGIN {printf "%.2f", a/b}'), notifyd/nchan $(awk -v a="$m_notifyd" -v b="$m_nchan" 'BEGIN {printf "%.2f", a/b}') ($CONNECTIONS connections, medians of $ROUNDS)"
