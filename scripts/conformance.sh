#!/usr/bin/env bash
# WebSocket conformance with the Autobahn testsuite (scripts/autobahn.sh does the installing).
#
#   scripts/conformance.sh all            server then client, every case 1.*-13.* (`make conformance`)
#   scripts/conformance.sh server [CASES] fuzzingclient against ws-echo (our server), default "*"
#   scripts/conformance.sh client [CASES] our client (ws-echo --autobahn-client) against the fuzzingserver
#
# Reports: reports/autobahn/server and reports/autobahn/client (index.json + HTML per case),
# or under $CONFORMANCE_OUT when set. Exits non-zero if any case is FAILED.
# Env: CONFORMANCE_CONFIG=release|debug (default release) picks the ws-echo build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${CONFORMANCE_OUT:-$ROOT/reports/autobahn}"
CONFIG="${CONFORMANCE_CONFIG:-release}"

log() { printf 'conformance: %s\n' "$*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

build() {
    swift build -c "$CONFIG" --product ws-echo >&2
    BIN="$(swift build -c "$CONFIG" --show-bin-path)/ws-echo"
}

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

run_server() {
    local cases=${1:-*} out="$OUT/server" portfile
    build
    scripts/autobahn.sh install
    portfile="$(mktemp)"
    "$BIN" --port 0 >"$portfile" &
    PIDS+=($!)
    for _ in $(seq 100); do [ -s "$portfile" ] && break; sleep 0.1; done
    local port; port="$(head -1 "$portfile")"; rm -f "$portfile"
    [ -n "$port" ] || { log "ws-echo did not start"; return 1; }
    log "server: cases $cases against ws-echo on 127.0.0.1:$port, report in $out"
    rm -rf "$out"
    scripts/autobahn.sh server "ws://127.0.0.1:$port/" "$cases" "$out"
}

run_client() {
    local cases=${1:-*} out="$OUT/client" port
    build
    scripts/autobahn.sh install
    port="$(free_port)"
    rm -rf "$out"
    mkdir -p "$out"
    scripts/autobahn.sh client-server "$port" "$out" "$cases" >"$out/fuzzingserver.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    log "client: cases $cases against the fuzzingserver on 127.0.0.1:$port, report in $out"
    "$BIN" --autobahn-client "ws://127.0.0.1:$port" >&2
    scripts/autobahn.sh summary "$out"
}

case "${1:-all}" in
    server) shift; run_server "$@" ;;
    client) shift; run_client "$@" ;;
    all)
        status=0
        run_server "*" || status=1
        run_client "*" || status=1
        exit $status ;;
    *) echo "usage: conformance.sh all | server [CASES] | client [CASES]" >&2; exit 2 ;;
esac
