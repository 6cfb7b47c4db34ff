#!/usr/bin/env bash
# Connection storm against notifyd (release, core 0) from instaverse-load (core 1):
# CONNECTIONS authenticated WebSocket sessions as fast as possible, held HOLD s, ROUNDS times;
# prints each round and the medians of connect rate, handshake p99, server CPU per
# connection and KiB per idle session. TWO=1: two notifyd processes on two ports as targets
# (for more than ~19k connections: the 20,000 open-files limit per process).
#   CONNECTIONS=10000 scripts/bench/storm.sh;  TWO=1 CONNECTIONS=40000 scripts/bench/storm.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CONNECTIONS=${CONNECTIONS:-10000}; HOLD=${HOLD:-2}; TWO=${TWO:-0}
PORT_A=${PORT_A:-15004}; PORT_B=${PORT_B:-15005}
build notifyd
start_rabbitmq
SRC=$(( (CONNECTIONS + 24999) / 25000 ))
rates=(); p99=(); cpu=(); kib=()
for i in $(seq "$ROUNDS"); do
    # A fresh notifyd per round: memory freed by an earlier round would hide the idle cost.
    stop_started
    start_notifyd "a$i" "$PORT_A"; PID_A=$NOTIFYD_PID
    TARGETS=(--target "ws://127.0.0.1:$PORT_A/ws?userId={user}")
    SERVERS=(--server-pid "$PID_A")
    if [ "$TWO" = 1 ]; then
        start_notifyd "b$i" "$PORT_B"; PID_B=$NOTIFYD_PID
        TARGETS+=(--target "ws://127.0.0.1:$PORT_B/ws?userId={user}")
        SERVERS+=(--server-pid "$PID_B")
    fi
    load storm --connections "$CONNECTIONS" "${TARGETS[@]}" --jwt-keys "$JWT_KEYS" --hold "$HOLD" \
        --source-addresses "$SRC" "${SERVERS[@]}" >"$BENCH_DIR/round.txt"
    r=$(field "r['connectRate']"); p=$(field "r['handshake']['p99']/1000"); c=$(field "r.get('serverCPUPerConnectionMicros')")
    k=$(field "r.get('kibPerIdleConnection')"); f=$(field "sum(r['failures'].values()) or 0")
    fc=$(field "', '.join(f'{k} {v}' for k, v in sorted(r['failures'].items())) or 'none'"); g=$(field "r['generatorPeakCorePercent']")
    echo "round $i: $r conn/s, handshake p99 $p ms, server CPU $c µs/conn, $k KiB/idle conn, $f failures ($fc), generator peak $g% of a core"
    grep WARNING "$BENCH_DIR/round.txt" || true
    rates+=("$r"); p99+=("$p"); cpu+=("$c"); kib+=("$k")
done
echo "median of $ROUNDS: $(median "${rates[@]}") conn/s, handshake p99 $(median "${p99[@]}") ms, server CPU $(median "${cpu[@]}") µs/conn, $(median "${kib[@]}") KiB/idle conn ($CONNECTIONS connections, $([ "$TWO" = 1 ] && echo 2 || echo 1) notifyd)"
