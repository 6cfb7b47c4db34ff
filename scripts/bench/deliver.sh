#!/usr/bin/env bash
# Delivery latency through notifyd: USERS sessions connected, then RATE events/s published
# to RabbitMQ (instaverse.events, confirms) for DURATION s, each to a connected user; reports
# publish-to-receive p50/p99/p99.9, throughput, lost and duplicates. ROUNDS runs (a fresh
# notifyd and store each), medians printed. notifyd on core 0, the generator on core 1
# (its publisher thread included). STORE_SYNC=normal by default (full = fsync per commit).
#   RATE=5000 scripts/bench/deliver.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
USERS=${USERS:-1000}; RATE=${RATE:-5000}; DURATION=${DURATION:-10}; PORT=${PORT:-15014}
build notifyd
start_rabbitmq
thr=(); p50=(); p99=(); p999=(); lost=(); dup=()
for i in $(seq "$ROUNDS"); do
    stop_started
    start_notifyd "d$i" "$PORT"
    load deliver --connections "$USERS" --target "ws://127.0.0.1:$PORT/ws?userId={user}" --jwt-keys "$JWT_KEYS" \
        --amqp "$INSTAVERSE_AMQP_URL" --rate "$RATE" --duration "$DURATION" --grace 10 \
        --server-pid "$NOTIFYD_PID" >"$BENCH_DIR/round.txt"
    t=$(field "r['messagesPerSecond']"); a=$(field "r['messageLatency']['p50']/1000"); b=$(field "r['messageLatency']['p99']/1000")
    c=$(field "r['messageLatency']['p999']/1000"); l=$(field "r['lost']"); d=$(field "r['duplicates']"); pc=$(field "r['confirmed']")
    echo "round $i: $pc confirmed, $t delivered/s, p50 $a ms, p99 $b ms, p99.9 $c ms, lost $l, duplicates $d"
    grep WARNING "$BENCH_DIR/round.txt" | grep -v generator-bound || true
    thr+=("$t"); p50+=("$a"); p99+=("$b"); p999+=("$c"); lost+=("$l"); dup+=("$d")
done
echo "median of $ROUNDS: $(median "${thr[@]}") delivered/s, p50 $(median "${p50[@]}") ms, p99 $(median "${p99[@]}") ms, p99.9 $(median "${p999[@]}") ms, lost $(median "${lost[@]}"), duplicates $(median "${dup[@]}") ($USERS users, $RATE events/s offered for $DURATION s)"
