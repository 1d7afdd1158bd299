# SPDX-License-Identifier: Apache-2.0
# broker.sh — start / stop a Mosquitto broker for tests (sourced; reusable for the TLS run).
#
#   broker_start DIR [CONFIG LINE]...
#       Writes DIR/mosquitto.conf — "listener PORT 127.0.0.1" on a free port, no persistence,
#       log to DIR/mosquitto.log — plus the given lines (e.g. "allow_anonymous true", or the
#       TLS options: cafile / certfile / keyfile / require_certificate / acl_file ...), starts
#       mosquitto in the background and waits (<= 5 s) until it listens. Sets BROKER_PORT,
#       BROKER_PID, BROKER_LOG. Retries on another port if the chosen one was taken. Returns
#       non-zero (and prints why) when mosquitto is missing or does not come up.
#   broker_stop        SIGTERM to BROKER_PID (after SIGCONT, in case it was stopped), waited for.
#   broker_kill        SIGKILL to BROKER_PID, waited for (a broker that dies mid-session).
#   broker_wait_log REGEX [SECONDS]  wait (default 5 s) until the broker's log matches.
# Only 127.0.0.1 is listened on; callers stop the broker by PID (trap broker_stop EXIT).
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
BROKER_PID=
BROKER_PORT=
BROKER_LOG=

broker_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

broker_start() {
    local dir=$1 attempt i
    shift
    if [ ! -x "$MOSQUITTO" ]; then
        echo "broker: mosquitto not found (scripts/deps installs the Debian package mosquitto)" >&2
        return 2
    fi
    mkdir -p "$dir"
    BROKER_LOG=$dir/mosquitto.log
    for attempt in 1 2 3; do
        BROKER_PORT=$(broker_free_port) || return 2
        {
            echo "listener $BROKER_PORT 127.0.0.1"
            echo "persistence false"
            echo "log_dest file $BROKER_LOG"
            echo "log_type all"
            # as root, mosquitto would switch to the user "mosquitto", who cannot write to DIR
            [ "$(id -u)" = 0 ] && echo "user root"
            printf '%s\n' "$@"
        } >"$dir/mosquitto.conf"
        : >"$BROKER_LOG"
        "$MOSQUITTO" -c "$dir/mosquitto.conf" >"$dir/mosquitto.out" 2>&1 &
        BROKER_PID=$!
        for i in $(seq 50); do
            if grep -q "Opening ipv4 listen socket on port $BROKER_PORT" "$BROKER_LOG" 2>/dev/null; then
                return 0
            fi
            kill -0 "$BROKER_PID" 2>/dev/null || break
            sleep 0.1
        done
        broker_kill
    done
    echo "broker: mosquitto did not start; its output:" >&2
    sed 's/^/  | /' "$dir/mosquitto.out" "$BROKER_LOG" >&2 2>/dev/null
    return 1
}

broker_stop() {
    if [ -n "$BROKER_PID" ]; then
        kill -CONT "$BROKER_PID" 2>/dev/null
        kill "$BROKER_PID" 2>/dev/null
        wait "$BROKER_PID" 2>/dev/null
        BROKER_PID=
    fi
}

broker_kill() {
    if [ -n "$BROKER_PID" ]; then
        kill -KILL "$BROKER_PID" 2>/dev/null
        wait "$BROKER_PID" 2>/dev/null
        BROKER_PID=
    fi
}

broker_wait_log() {
    local re=$1 secs=${2:-5} i
    for i in $(seq $((secs * 10))); do
        grep -Eq -- "$re" "$BROKER_LOG" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
