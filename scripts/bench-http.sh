#!/usr/bin/env bash
# HTTP keep-alive requests/s on one loop: wrk against Sources/web-hello (release build) and,
# in the same run, against nginx with one worker answering `return 200` (the reference).
# Server pinned to core 0, wrk (1 thread, 100 connections) to core 1; ROUNDS alternating runs
# of DURATION each; prints every run and the medians. Needs wrk and nginx (apt).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ROUNDS=${ROUNDS:-3}; DURATION=${DURATION:-10s}; CONNECTIONS=${CONNECTIONS:-100}
OURS_PORT=${OURS_PORT:-18080}; NGINX_PORT=${NGINX_PORT:-18081}

swift build -c release --product web-hello >/dev/null
DIR="$(mktemp -d /tmp/bench-http.XXXXXX)"
mkdir -p "$DIR/logs"
cat > "$DIR/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $DIR/nginx.pid;
error_log $DIR/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $DIR/body;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { default_type text/plain; return 200 "Hello, World!"; }
  }
}
CONF
taskset -c 0 .build/release/web-hello "$OURS_PORT" >"$DIR/ours.log" 2>&1 & OURS=$!
taskset -c 0 nginx -p "$DIR" -c "$DIR/nginx.conf" >"$DIR/nginx.log" 2>&1 & NGINX=$!
trap 'kill $OURS $NGINX 2>/dev/null || true; rm -rf "$DIR"' EXIT
for port in "$OURS_PORT" "$NGINX_PORT"; do
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
done

run() { taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "http://127.0.0.1:$1/" | awk '/Requests\/sec/ {print $2}'; }
ours=(); nginx=()
for i in $(seq "$ROUNDS"); do
    o=$(run "$OURS_PORT"); n=$(run "$NGINX_PORT")
    echo "round $i: web-hello $o req/s, nginx $n req/s"
    ours+=("$o"); nginx+=("$n")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mo=$(median "${ours[@]}"); mn=$(median "${nginx[@]}")
echo "median: web-hello $mo req/s, nginx $mn req/s, ratio $(awk -v a="$mo" -v b="$mn" 'BEGIN {printf "%.2f", a/b}')"
