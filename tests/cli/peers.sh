# SPDX-License-Identifier: Apache-2.0
# peers.sh — start and stop real protocol peers for the network tests (sourced by
# tests/cli/coap.sh and, later, the DTLS / MQTT tests). Every peer listens on 127.0.0.1 only,
# on a free port, is remembered by PID and stopped by that PID (peers_stop_all, also on EXIT
# when the caller installs the trap below); nothing is ever stopped by name.
#
#   peers_free_udp_port             print a UDP port that is free on 127.0.0.1 now
#   peers_free_port_pair udp|tcp    print a port P free on 127.0.0.1 with P+1 free too
#                                   (coap-server: coap on P, coaps on P+1; swtpm: the TPM on
#                                   P, its control channel on P+1)
#   peers_coap_server PORT [ARGS..] start libcoap's coap-server on 127.0.0.1:PORT (extra
#                                   arguments passed on, e.g. -d 10, or -c/-j/-C/-k for DTLS),
#                                   wait (at most 5 s) until it answers; its PID is in
#                                   PEER_PID and its log in $PEERS_DIR/coap-server-PORT.log
#   peers_stop_all                  stop every peer started here (TERM, then KILL after 2 s)
# Environment: FS38_COAP_SERVER (default coap-server-notls; coap-server-openssl for DTLS),
# FS38_COAP_CLIENT (default coap-client-notls), PEERS_DIR (default: a fresh temporary dir).
# The binaries come from Debian's libcoap3-bin (scripts/deps).

: "${FS38_COAP_SERVER:=coap-server-notls}"
: "${FS38_COAP_CLIENT:=coap-client-notls}"
: "${PEERS_DIR:=$(mktemp -d "${TMPDIR:-/tmp}/fs38-peers.XXXXXX")}"
PEERS_PIDS=""

peers_free_udp_port() {
    python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

peers_free_port_pair() {
    python3 - "$1" <<'PY'
import socket, sys
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
for _ in range(200):
    a = socket.socket(socket.AF_INET, kind); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket(socket.AF_INET, kind)
    try:
        b.bind(("127.0.0.1", p + 1)); print(p); break
    except OSError:
        pass
    finally:
        a.close(); b.close()
PY
}

peers_coap_server() {
    local port=$1
    shift
    command -v "$FS38_COAP_SERVER" >/dev/null || { echo "peers: $FS38_COAP_SERVER not found (scripts/deps installs libcoap3-bin)" >&2; return 1; }
    "$FS38_COAP_SERVER" -A 127.0.0.1 -p "$port" "$@" >"$PEERS_DIR/coap-server-$port.log" 2>&1 &
    PEER_PID=$!
    PEERS_PIDS="$PEERS_PIDS $PEER_PID"
    local i
    for i in $(seq 1 50); do
        if ! kill -0 "$PEER_PID" 2>/dev/null; then
            echo "peers: coap-server on port $port exited:" >&2
            cat "$PEERS_DIR/coap-server-$port.log" >&2
            return 1
        fi
        if timeout 2 "$FS38_COAP_CLIENT" -B 1 -m get "coap://127.0.0.1:$port/" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    echo "peers: coap-server on port $port did not answer within 5 s" >&2
    return 1
}

peers_stop_all() {
    local pid i
    for pid in $PEERS_PIDS; do
        kill -TERM "$pid" 2>/dev/null || continue
        for i in $(seq 1 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PEERS_PIDS=""
}
