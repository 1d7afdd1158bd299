#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# coap_qblock.sh — the CoAP client against Debian 13's libcoap 4.3.4 coap-server, which
# implements RFC 9177 Q-Block (started with -L 5: COAP_BLOCK_USE_LIBCOAP | TRY_Q_BLOCK), on
# loopback over the test-only plaintext UDP transport; the same program and checks as
# tests/cli/coap.sh (Block2, pipelined, Block1 uploads, 4.04, timeout), and with
# FS38_COAP_QBLOCK=1 the cfg.qblock2 downloads must use Q-Block2: 1 MiB byte-exact with one
# request per set of 10 blocks (from 0 and from a resume point), and the lossy server (-l)
# recovered byte-exact. Bounded: the servers are stopped by PID on exit, CTest has a timeout.
# Environment: FS38_COAP_INTEROP (the interop binary), FS38_LIBCOAP_DIR (scripts/deps
# --libcoap-dir DIR: DIR/bin/coap-server-openssl and coap-client-openssl). Their absence
# fails the test.
set -u
: "${FS38_COAP_INTEROP:?FS38_COAP_INTEROP is not set}"
: "${FS38_LIBCOAP_DIR:?FS38_LIBCOAP_DIR is not set}"
here=$(cd "$(dirname "$0")" && pwd)
export FS38_COAP_SERVER=$FS38_LIBCOAP_DIR/bin/coap-server-openssl
export FS38_COAP_CLIENT=$FS38_LIBCOAP_DIR/bin/coap-client-openssl
for b in "$FS38_COAP_SERVER" "$FS38_COAP_CLIENT"; do
    [ -x "$b" ] || { echo "FAIL: $b not found (scripts/deps --libcoap-dir $FS38_LIBCOAP_DIR)" >&2; exit 1; }
done
version=$({ "$FS38_COAP_SERVER" -h 2>&1 || true; } | sed -n 's/.* v\(4\.[0-9.]*\) .*/\1/p' | head -n 1)
case "$version" in 4.3.[4-9]*|4.[4-9]*) ;; *) echo "FAIL: $FS38_COAP_SERVER is libcoap '$version', not >= 4.3.4" >&2; exit 1 ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/fs38-coapqb.XXXXXX") || exit 2
PEERS_DIR=$T
. "$here/../cli/peers.sh"
trap 'peers_stop_all; rm -rf "$T"' EXIT

port=$(peers_free_udp_port) || exit 2
dead=$(peers_free_udp_port) || exit 2
[ "$port" != "$dead" ] || dead=$(peers_free_udp_port)
peers_coap_server "$port" -d 10 -v 3 -L 5 || exit 1
lossy=$(peers_free_udp_port) || exit 2
while [ "$lossy" = "$port" ] || [ "$lossy" = "$dead" ]; do lossy=$(peers_free_udp_port) || exit 2; done
# datagrams 130, 131, 160 fall into the pipelined GET, 250 and 290 into the Q-Block2 one
peers_coap_server "$lossy" -d 10 -v 3 -L 5 -l 130,131,160,250,290 || exit 1
head -c 102400 /dev/urandom >"$T/small.bin"
if ! timeout 60 "$FS38_COAP_CLIENT" -m put -b 1024 -f "$T/small.bin" "coap://127.0.0.1:$lossy/small" >"$T/put-small.log" 2>&1; then
    echo "FAIL: coap-client could not PUT the 100 KiB resource to the lossy server" >&2; cat "$T/put-small.log" >&2; exit 1
fi
head -c 1048576 /dev/urandom >"$T/big.bin"
if ! timeout 60 "$FS38_COAP_CLIENT" -m put -b 1024 -f "$T/big.bin" "coap://127.0.0.1:$port/big" >"$T/put.log" 2>&1; then
    echo "FAIL: coap-client could not PUT the 1 MiB resource" >&2; cat "$T/put.log" >&2; exit 1
fi

rc=0
FS38_COAP_QBLOCK=1 FS38_COAP_PORT=$port FS38_COAP_DEAD_PORT=$dead FS38_COAP_BIG=$T/big.bin FS38_COAP_UP_OUT=$T/up.bin \
    FS38_COAP_LOSSY_PORT=$lossy FS38_COAP_SMALL=$T/small.bin \
    timeout 120 "$FS38_COAP_INTEROP" || rc=$?
if [ "$rc" -ne 0 ]; then
    echo "FAIL: coap_interop exited $rc against libcoap $version; coap-server log:" >&2
    tail -n 20 "$T/coap-server-$port.log" >&2
    exit 1
fi
if ! timeout 60 "$FS38_COAP_CLIENT" -m get -b 1024 -o "$T/up.back" "coap://127.0.0.1:$port/up" >"$T/get.log" 2>&1 ||
   ! cmp -s "$T/up.bin" "$T/up.back"; then
    echo "FAIL: /up as coap-client reads it differs from what fs38 uploaded" >&2; exit 1
fi
echo "coap_qblock: Q-Block2 1 MiB, lossy Q-Block2, Block2, uploads, 4.04, timeout: all passed against libcoap $version"
