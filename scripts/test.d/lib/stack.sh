# Sourced by the scripts of scripts/test.d that need the whole stack (scripts/test.sh runs only
# scripts/test.d/*.sh, so this file is not a test of its own).
#
# stack_up NAME: starts the stack the way a user does (`scripts/run.sh`, what `make run` does)
# with its state under .run/NAME and every port free-picked, so it never collides with another
# test or a developer's `make run`; fast password hashing for test users (production: 2^17).
# On return the stack is up, .run/NAME/env is sourced and G is the gateway's base URL. The
# stack is stopped when the script exits (an EXIT trap; a caller that needs its own trap
# calls stack_down in it). If the stack does not start, prints run.sh's output and exits 1.
stack_up() {
    local name=$1
    export INSTAVERSE_RUN_DIR="$ROOT/.run/$name"
    mkdir -p "$ROOT/.run"
    export INSTAVERSE_AUTH_PORT=$(stack_free_port) INSTAVERSE_STORY_PORT=$(stack_free_port)
    export INSTAVERSE_SOCIAL_PORT=$(stack_free_port) INSTAVERSE_NOTIFYD_PORT=$(stack_free_port)
    export INSTAVERSE_GATEWAY_PORT=$(stack_free_port)
    export INSTAVERSE_AUTH_SCRYPT_LOG2N=12
    trap stack_down EXIT
    if ! "$ROOT/scripts/run.sh" > "$INSTAVERSE_RUN_DIR.log" 2>&1; then
        cat "$INSTAVERSE_RUN_DIR.log"
        echo "$name: FAILED: run.sh did not start the stack"
        exit 1
    fi
    # shellcheck disable=SC1091
    . "$INSTAVERSE_RUN_DIR/env"
    G="http://127.0.0.1:$INSTAVERSE_GATEWAY_PORT"
}

# stack_down: stops what stack_up started (idempotent, silent).
stack_down() {
    "$ROOT/scripts/run.sh" stop >/dev/null 2>&1 || true
}

# A TCP port nobody listens on right now.
stack_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
