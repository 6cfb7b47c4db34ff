#!/usr/bin/env bash
# Private servers on loopback for tests and `make run`: RabbitMQ, PostgreSQL, nginx.
#
#   scripts/servers.sh up [rabbitmq] [postgres] [nginx=CONF]   start (default: rabbitmq postgres)
#   scripts/servers.sh down                                    stop everything started, by PID
#   scripts/servers.sh env                                     print the env file
#
# Every server gets free ports (picked here) and a private data dir under one state dir
# (mktemp, /tmp). What was picked is written as shell exports to $INSTAVERSE_RUN_DIR/env
# (default: .run/env in the repository), which tests and `make` source. Two clones run
# side by side without colliding: each has its own .run/ and its own ports.
#
# Readiness waits on the real condition: `rabbitmqctl wait` on the node's PID file,
# `pg_ctl -w`, and an HTTP answer from nginx. No fixed sleeps.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${INSTAVERSE_RUN_DIR:-$ROOT/.run}"
ENV_FILE="$RUN_DIR/env"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
RMQ_BIN="${RMQ_BIN:-/usr/lib/rabbitmq/bin}"

# What this script writes to an env file must come from that file, never from the caller's
# environment (a test run exports its own servers' variables to the scripts it starts).
unset INSTAVERSE_STATE_DIR INSTAVERSE_AMQP_URL INSTAVERSE_AMQP_PORT INSTAVERSE_PG_URL INSTAVERSE_PG_PORT \
      INSTAVERSE_PG_DIR INSTAVERSE_NGINX_DIR INSTAVERSE_NGINX_PORT INSTAVERSE_GATEWAY_URL \
      INSTAVERSE_RABBITMQ_NODE INSTAVERSE_RABBITMQ_DIR INSTAVERSE_RABBITMQ_EPMD_PORT

log() { printf 'servers: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# free_port: asks the kernel for a free loopback port. Racy by nature, but two runs
# would have to be handed the same port between this call and the server's bind.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

state_dir() {
    if [ -f "$ENV_FILE" ]; then
        # shellcheck disable=SC1090
        . "$ENV_FILE"
    fi
    if [ -z "${INSTAVERSE_STATE_DIR:-}" ] || [ ! -d "$INSTAVERSE_STATE_DIR" ]; then
        mkdir -p "$RUN_DIR"
        INSTAVERSE_STATE_DIR="$(mktemp -d /tmp/instaverse.XXXXXX)"
        chmod 755 "$INSTAVERSE_STATE_DIR"
        echo "export INSTAVERSE_STATE_DIR=$INSTAVERSE_STATE_DIR" > "$ENV_FILE"
    fi
}

put_env() { echo "export $1=$2" >> "$ENV_FILE"; }

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds
    local limit=$1 what=$2; shift 2
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.1
    done
    log "$what ready"
}

start_rabbitmq() {
    [ -n "${INSTAVERSE_AMQP_URL:-}" ] && { log "rabbitmq already up"; return; }
    local dir="$INSTAVERSE_STATE_DIR/rabbitmq" port dist epmd_port node
    mkdir -p "$dir/mnesia" "$dir/log" "$dir/home"
    port=$(free_port); dist=$(free_port); epmd_port=$(free_port)
    node="instaverse$port@localhost"
    cat > "$dir/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$port
disk_free_limit.absolute = 50MB
loopback_users = none
EOF
    : > "$dir/enabled_plugins"
    echo '[].' > "$dir/enabled_plugins"
    # Our own epmd, in the foreground of a background job, so its PID is known.
    ERL_EPMD_ADDRESS=127.0.0.1 epmd -port "$epmd_port" -address 127.0.0.1 > "$dir/log/epmd.log" 2>&1 &
    echo $! > "$dir/epmd.pid"
    (
        cd "$dir"
        export HOME="$dir/home" RABBITMQ_NODENAME="$node" RABBITMQ_NODE_PORT="$port" \
            RABBITMQ_DIST_PORT="$dist" ERL_EPMD_PORT="$epmd_port" ERL_EPMD_ADDRESS=127.0.0.1 \
            RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" \
            RABBITMQ_PID_FILE="$dir/rabbitmq.pid" RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" \
            RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
        exec "$RMQ_BIN/rabbitmq-server" > "$dir/log/stdout.log" 2>&1
    ) &
    echo $! > "$dir/server.pid"
    put_env INSTAVERSE_RABBITMQ_NODE "$node"
    put_env INSTAVERSE_RABBITMQ_DIR "$dir"
    put_env INSTAVERSE_RABBITMQ_EPMD_PORT "$epmd_port"
    rmqctl wait "$dir/rabbitmq.pid" --timeout 60 >/dev/null 2>&1 ||
        { tail -20 "$dir/log/stdout.log" >&2; die "rabbitmq did not start (logs: $dir/log)"; }
    put_env INSTAVERSE_AMQP_URL "amqp://guest:guest@127.0.0.1:$port/%2f"
    put_env INSTAVERSE_AMQP_PORT "$port"
    log "rabbitmq up: amqp://127.0.0.1:$port (node $node)"
}

# rmqctl ARGS...: rabbitmqctl against our private node (reads the env file for its name).
rmqctl() {
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    local dir="$INSTAVERSE_RABBITMQ_DIR"
    HOME="$dir/home" ERL_EPMD_PORT="$INSTAVERSE_RABBITMQ_EPMD_PORT" \
        "$RMQ_BIN/rabbitmqctl" -n "$INSTAVERSE_RABBITMQ_NODE" "$@"
}

stop_rabbitmq() {
    local dir="${INSTAVERSE_RABBITMQ_DIR:-}"
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    if [ -f "$dir/server.pid" ]; then
        rmqctl stop >/dev/null 2>&1 || true
        stop_pid "$(cat "$dir/server.pid")" rabbitmq
        # the beam process itself (rabbitmq-server execs into a shell that starts erl)
        [ -f "$dir/rabbitmq.pid" ] && stop_pid "$(cat "$dir/rabbitmq.pid")" beam
    fi
    [ -f "$dir/epmd.pid" ] && stop_pid "$(cat "$dir/epmd.pid")" epmd
    return 0
}

# stop_pid PID NAME: SIGTERM, wait up to 10 s, then SIGKILL.
stop_pid() {
    local pid=$1 name=$2 i
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || { log "$name ($pid) stopped"; return 0; }; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    log "$name ($pid) killed"
}

start_postgres() {
    [ -n "${INSTAVERSE_PG_PORT:-}" ] && { log "postgres already up"; return; }
    local dir="$INSTAVERSE_STATE_DIR/postgres" port
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    port=$(free_port)
    as_postgres "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres > "$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start > /dev/null ||
        { tail -20 "$dir/log" >&2; die "postgres did not start"; }
    local db
    for db in users_db stories_db social_db notify_db; do
        as_postgres "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE $db" postgres
    done
    put_env INSTAVERSE_PG_DIR "$dir"
    put_env INSTAVERSE_PG_PORT "$port"
    put_env INSTAVERSE_PG_URL "postgresql://postgres@127.0.0.1:$port"
    log "postgres up: 127.0.0.1:$port (databases users_db stories_db social_db notify_db)"
}

stop_postgres() {
    local dir="${INSTAVERSE_PG_DIR:-}"
    [ -n "$dir" ] && [ -f "$dir/data/postmaster.pid" ] || return 0
    as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null 2>&1 ||
        stop_pid "$(head -1 "$dir/data/postmaster.pid")" postgres
    log "postgres stopped"
}

# start_nginx CONF: CONF is an nginx config template, filled in by scripts/render-nginx.py:
# @PORT@, @STATE@, @ALLOWED_ORIGINS_MAP@ and any @NAME@ whose NAME is an exported
# INSTAVERSE_NAME variable. The gateway's own origin (INSTAVERSE_PUBLIC_ORIGIN) defaults to
# the URL this nginx answers on, so a page it serves may open the WebSocket; @DOCS@
# (INSTAVERSE_DOCS, where /openapi.json is served from) defaults to the repository's docs/.
start_nginx() {
    local conf=$1 dir="$INSTAVERSE_STATE_DIR/nginx" port
    [ -f "$conf" ] || die "nginx config $conf not found"
    [ -n "${INSTAVERSE_NGINX_PORT:-}" ] && { log "nginx already up"; return; }
    mkdir -p "$dir/logs" "$dir/tmp"
    port=${INSTAVERSE_GATEWAY_PORT:-$(free_port)}
    INSTAVERSE_PUBLIC_ORIGIN="${INSTAVERSE_PUBLIC_ORIGIN:-http://127.0.0.1:$port}" INSTAVERSE_DOCS="${INSTAVERSE_DOCS:-$ROOT/docs}" \
        python3 "$ROOT/scripts/render-nginx.py" "$conf" "$dir/nginx.conf" PORT="$port" STATE="$dir" ||
        die "cannot render $conf"
    nginx -t -p "$dir" -c "$dir/nginx.conf" -g "pid $dir/nginx.pid;" > "$dir/check.log" 2>&1 ||
        { cat "$dir/check.log" >&2; die "nginx config does not check"; }
    nginx -p "$dir" -c "$dir/nginx.conf" -g "pid $dir/nginx.pid; daemon off;" > "$dir/logs/stdout.log" 2>&1 &
    echo $! > "$dir/server.pid"
    put_env INSTAVERSE_NGINX_DIR "$dir"
    put_env INSTAVERSE_NGINX_PORT "$port"
    put_env INSTAVERSE_GATEWAY_URL "http://127.0.0.1:$port"
    wait_for 30 nginx python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" ||
        { cat "$dir/logs/error.log" >&2 2>/dev/null; die "nginx did not start"; }
    log "nginx up: http://127.0.0.1:$port"
}

stop_nginx() {
    local dir="${INSTAVERSE_NGINX_DIR:-}"
    [ -n "$dir" ] && [ -f "$dir/server.pid" ] || return 0
    stop_pid "$(cat "$dir/server.pid")" nginx
}

cmd=${1:-}; shift || true
case "$cmd" in
up)
    state_dir
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    [ $# -gt 0 ] || set -- rabbitmq postgres
    for what in "$@"; do
        case "$what" in
            rabbitmq) start_rabbitmq ;;
            postgres) start_postgres ;;
            nginx=*) start_nginx "${what#nginx=}" ;;
            *) die "unknown server $what" ;;
        esac
        # shellcheck disable=SC1090
        . "$ENV_FILE"
    done
    log "environment written to $ENV_FILE"
    ;;
down)
    [ -f "$ENV_FILE" ] || { log "nothing to stop"; exit 0; }
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    stop_nginx; stop_rabbitmq; stop_postgres
    [ -n "${INSTAVERSE_STATE_DIR:-}" ] && case "$INSTAVERSE_STATE_DIR" in /tmp/instaverse.*) rm -rf "$INSTAVERSE_STATE_DIR" ;; esac
    rm -f "$ENV_FILE"
    log "all stopped"
    ;;
rabbitmqctl) rmqctl "$@" ;;
stop-rabbitmq) . "$ENV_FILE"; stop_rabbitmq ;;
restart-rabbitmq)
    # For failure tests: stop the broker node (keeping epmd and data), then start it again
    # on the same port. Used as `servers.sh restart-rabbitmq stop|start`.
    . "$ENV_FILE"
    case "${1:-}" in
        stop) rmqctl stop >/dev/null 2>&1 || stop_pid "$(cat "$INSTAVERSE_RABBITMQ_DIR/server.pid")" rabbitmq ;;
        start)
            dir="$INSTAVERSE_RABBITMQ_DIR"
            # A node killed by the fallback leaves its PID file; `rabbitmqctl wait` would read
            # the dead PID and fail at once.
            rm -f "$dir/rabbitmq.pid"
            (
                cd "$dir"
                export HOME="$dir/home" RABBITMQ_NODENAME="$INSTAVERSE_RABBITMQ_NODE" RABBITMQ_NODE_PORT="$INSTAVERSE_AMQP_PORT" \
                    ERL_EPMD_PORT="$INSTAVERSE_RABBITMQ_EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1 \
                    RABBITMQ_DIST_PORT="$(free_port)" \
                    RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" \
                    RABBITMQ_PID_FILE="$dir/rabbitmq.pid" RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" \
                    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
                    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
                exec "$RMQ_BIN/rabbitmq-server" >> "$dir/log/stdout.log" 2>&1
            ) &
            echo $! > "$dir/server.pid"
            rmqctl wait "$dir/rabbitmq.pid" --timeout 60 >/dev/null 2>&1 || die "rabbitmq did not restart"
            log "rabbitmq restarted" ;;
        *) die "restart-rabbitmq stop|start" ;;
    esac
    ;;
env) cat "$ENV_FILE" ;;
*) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
