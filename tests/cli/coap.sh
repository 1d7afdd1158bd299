#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# coap.sh — the CoAP client (fs38/coap.h) against libcoap's coap-server on loopback, over the
# test-only plaintext UDP transport (DTLS is the secure channel's test). Bounded: the
# coap-server is stopped by PID on exit, the interop program has a CTest timeout.
#   1. libcoap's own coap-client PUTs a 1 MiB file to /big (coap-server -d: dynamic resources);
#   2. tests/net/coap_interop.c GETs it block-wise byte-exact (1024- and 256-byte blocks, and a
#      resume from the middle; again with 8 requests in flight, and from a server that loses
#      some answers), PUTs and POSTs 100 KiB block-wise (Block1) and GETs them back,
#      is refused with "server answered 4.04 Not Found", and times out against a port with no
#      server after its configured retransmissions;
#   3. coap-client fetches /up back and it must equal what our client uploaded.
# Environment: FS38_COAP_INTEROP (the interop binary; set by tests/CMakeLists.txt).
set -u
: "${FS38_COAP_INTEROP:?FS38_COAP_INTEROP is not set}"
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/fs38-coap.XXXXXX") || exit 2
PEERS_DIR=$T
. "$here/peers.sh"
trap 'peers_stop_all; rm -rf "$T"' EXIT

port=$(peers_free_udp_port) || exit 2
dead=$(peers_free_udp_port) || exit 2
[ "$port" != "$dead" ] || dead=$(peers_free_udp_port)
peers_coap_server "$port" -d 10 -v 3 || exit 1
# a server that does not send its datagrams number 130, 131 and 160 (coap-server -l, counted
# from its start): past the ~100 answers to the 100 KiB PUT below, inside our pipelined GET
lossy=$(peers_free_udp_port) || exit 2
while [ "$lossy" = "$port" ] || [ "$lossy" = "$dead" ]; do lossy=$(peers_free_udp_port) || exit 2; done
peers_coap_server "$lossy" -d 10 -v 3 -l 130,131,160 || exit 1
head -c 102400 /dev/urandom >"$T/small.bin"
if ! timeout 60 "$FS38_COAP_CLIENT" -m put -b 1024 -f "$T/small.bin" "coap://127.0.0.1:$lossy/small" >"$T/put-small.log" 2>&1; then
    echo "FAIL: coap-client could not PUT the 100 KiB resource to the lossy server" >&2; cat "$T/put-small.log" >&2; exit 1
fi

head -c 1048576 /dev/urandom >"$T/big.bin"
if ! timeout 60 "$FS38_COAP_CLIENT" -m put -b 1024 -f "$T/big.bin" "coap://127.0.0.1:$port/big" >"$T/put.log" 2>&1; then
    echo "FAIL: coap-client could not PUT the 1 MiB resource" >&2; cat "$T/put.log" >&2; exit 1
fi

rc=0
FS38_COAP_PORT=$port FS38_COAP_DEAD_PORT=$dead FS38_COAP_BIG=$T/big.bin FS38_COAP_UP_OUT=$T/up.bin \
    FS38_COAP_LOSSY_PORT=$lossy FS38_COAP_SMALL=$T/small.bin \
    timeout 120 "$FS38_COAP_INTEROP" || rc=$?
if [ "$rc" -ne 0 ]; then
    echo "FAIL: coap_interop exited $rc; coap-server log:" >&2
    tail -n 20 "$T/coap-server-$port.log" >&2
    exit 1
fi

# what our client uploaded, as libcoap's client reads it back
if ! timeout 60 "$FS38_COAP_CLIENT" -m get -b 1024 -o "$T/up.back" "coap://127.0.0.1:$port/up" >"$T/get.log" 2>&1 ||
   ! cmp -s "$T/up.bin" "$T/up.back"; then
    echo "FAIL: /up as coap-client reads it differs from what fs38 uploaded" >&2; exit 1
fi
echo "coap: 1 MiB GET, 100 KiB PUT/POST, 4.04 refusal, timeout: all passed against $FS38_COAP_SERVER"
