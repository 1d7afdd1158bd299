#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# net_device.sh — fs38-device's network commands against real peers (control 4): libcoap's
# coap-server-openssl (DTLS 1.2, PKI with client certificates required, and PSK) and Mosquitto
# with TLS (require_certificate, use_identity_as_username, ACL pattern fs38/%u/#).
#   fetch       1 MiB block-wise, byte-exact; 4.04 -> exit 1; a server certificate from another
#               CA -> exit 1 and a channel-refused event in the device's log; a server that
#               does not ask for the client certificate -> exit 1 (default policy), works with
#               --client-auth optional; PSK mode; nothing listening -> exit 3 within the timeout
#   update      --from/--payload-from of a signed + encrypted update, boot shows the new slot;
#               a power cut mid-download, then the next run resumes from the agent's offset;
#               the same refusals as the file form (rollback)
#   log push    mqtts:// — mosquitto_sub (collector certificate) receives the batch byte-exact,
#               a fresh export verifies with k0; a publish under another UEID's topic is
#               dropped by the broker's ACL; coaps:// POST, read back byte-exact
# Every peer listens on 127.0.0.1, on free ports, and is stopped by PID; every command runs
# under `timeout`. Our code never uses MQTT's plaintext port 1883 (checked in the sources).
. "$(dirname "$0")/lib.sh"
: "${FS38_DEVICE:?FS38_DEVICE is not set}"
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
PEERS_DIR=$T
FS38_COAP_SERVER=coap-server-openssl
FS38_COAP_CLIENT=coap-client-openssl
. "$here/peers.sh"
. "$here/broker.sh"
trap 'peers_stop_all; broker_stop; rm -rf "$T"' EXIT

for b in coap-server-openssl coap-client-openssl mosquitto_sub mosquitto_pub openssl; do
    command -v "$b" >/dev/null || { echo "FAIL: $b not found (scripts/deps)" >&2; exit 1; }
done

S="$T/state"
dev() { timeout 60 "$FS38_DEVICE" --state "$S" "$@"; }

# coap_put PORT PATH FILE: load a resource into a coap-server (its plaintext listener on PORT)
coap_put() {
    timeout 60 coap-client-openssl -m put -b 1024 -f "$3" "coap://127.0.0.1:$1/$2" >/dev/null 2>&1 ||
        fail "coap-client could not PUT $2"
}

# ---- the device: vendor key, slot A v1, identity + certificate from the fleet CA ----
keypair vendor
random_file "$T/v1.img" 4000
sign "$T/vendor.pem" "$T/v1.img" 1 "$T/v1.suit"
expect_rc 0 "init" dev init --trust "$T/vendor.pub.pem"
expect_rc 0 "flash-slot A" dev flash-slot A "$T/v1.suit" "$T/v1.img"
expect_rc 0 "boot" dev boot
expect_rc 0 "provision" dev provision --csr "$T/dev.csr" --cost 10000 --log-key-out "$T/k0"
UEID=$(sed -n 's/^ueid: //p' "$T/out")
expect_rc 0 "ca init" "$FS38" ca init --out "$T/ca"
expect_rc 0 "ca issue" "$FS38" ca issue "$T/ca" "$T/dev.csr" --out "$T/dev.crt"
expect_rc 0 "install-cert" dev install-cert "$T/dev.crt" --ca "$T/ca/ca.crt"
expect_rc 0 "server certificate" "$FS38" ca server "$T/ca" --name 127.0.0.1 --out "$T/srv.crt" --key-out "$T/srv.key"
expect_rc 0 "another CA" "$FS38" ca init --out "$T/ca2"
expect_rc 0 "rogue server certificate" "$FS38" ca server "$T/ca2" --name 127.0.0.1 --out "$T/rogue.crt" --key-out "$T/rogue.key"
[ -n "$UEID" ] || { fail "no UEID printed by provision"; finish; }

# ---- usage ----
expect_rc 2 "fetch without --ca" dev fetch coaps://127.0.0.1:1/x --out "$T/x"
expect_rc 2 "fetch of coap:// (plaintext is not a mode)" dev fetch coap://127.0.0.1:1/x --ca "$T/ca/ca.crt" --out "$T/x"
expect_grep "$T/err" "plaintext is not a mode" "plaintext refused"
expect_rc 2 "log push to mqtt://" dev log push mqtt://127.0.0.1:1883 --ca "$T/ca/ca.crt"
expect_rc 2 "--timeout 0" dev fetch coaps://127.0.0.1:1/x --ca "$T/ca/ca.crt" --out "$T/x" --timeout 0

# ---- coap-server-openssl, PKI, client certificates required (-R: verified against our CA) ----
P=$(peers_free_port_pair udp)
peers_coap_server "$P" -d 10 -v 4 -c "$T/srv.crt" -j "$T/srv.key" -R "$T/ca/ca.crt" || { fail "coap-server (PKI)"; finish; }
C=$((P + 1))
random_file "$T/big.bin" 1048576
coap_put "$P" big "$T/big.bin"

expect_rc 0 "fetch 1 MiB over CoAP/DTLS" dev fetch "coaps://127.0.0.1:$C/big" --ca "$T/ca/ca.crt" --out "$T/got.bin"
expect_grep "$T/out" "^fetch: 1048576 bytes from coaps://127.0.0.1:$C/big over DTLSv1.2" "fetch line"
CHECKS=$((CHECKS + 1))
cmp -s "$T/big.bin" "$T/got.bin" || fail "the fetched 1 MiB differs from what the server holds"
# the session went to the sealed store and the next run (a new process) offers it; libcoap
# 4.3.1's coap-server cannot resume with client certificates (OpenSSL: "session id context
# uninitialized", alert 80), so the device falls back to one full handshake, silently: the
# fetch works, no channel-refused event (resumption across runs is shown with Mosquitto below)
last_open() { # the device's last channel-open event, as fs38 log show renders it
    dev log export --out "$T/open.log" >/dev/null 2>&1 && "$FS38" log show "$T/open.log" 2>/dev/null |
        grep 'channel-open' | tail -n 1
}
refusals() {
    dev log export --out "$T/ref.log" >/dev/null 2>&1 && "$FS38" log show "$T/ref.log" 2>/dev/null | grep -c 'channel-refused'
}
CHECKS=$((CHECKS + 1))
last_open | grep -q 'arg=0 "DTLSv1.2 127.0.0.1 full handshake"' || fail "the first fetch was not a full handshake: $(last_open)"
ref0=$(refusals)
expect_rc 0 "fetch again (a new run, the stored session offered)" dev fetch "coaps://127.0.0.1:$C/big" --ca "$T/ca/ca.crt" --out "$T/got2.bin"
CHECKS=$((CHECKS + 1))
last_open | grep -q 'arg=0 "DTLSv1.2 127.0.0.1 full handshake"' || fail "no full handshake after coap-server refused the session: $(last_open)"
CHECKS=$((CHECKS + 1))
[ "$(refusals)" = "$ref0" ] || fail "the refused resumption attempt was logged as a channel refusal"
CHECKS=$((CHECKS + 1))
cmp -s "$T/big.bin" "$T/got2.bin" || fail "the fetch over the resumed session differs"

expect_rc 1 "fetch of a missing resource: the server's 4.04" dev fetch "coaps://127.0.0.1:$C/none" --ca "$T/ca/ca.crt" --out "$T/none.bin"
expect_grep "$T/err" "4\.04 Not Found" "4.04 named"
CHECKS=$((CHECKS + 1))
[ ! -e "$T/none.bin" ] || fail "a refused fetch left an output file"
expect_rc 2 "fetch into an unwritable place" dev fetch "coaps://127.0.0.1:$C/big" --ca "$T/ca/ca.crt" --out "$T/no/such/dir/x"

# ---- update over coaps://: signed + encrypted, a power cut mid-download, resume ----
expect_rc 0 "pubkey" dev pubkey --out "$T/dev.ecdh.pub"
random_file "$T/v2.img" 300000
sign "$T/vendor.pem" "$T/v2.img" 2 "$T/v2.suit" --encrypt-to "$T/dev.ecdh.pub" --payload-out "$T/v2.payload"
CHECKS=$((CHECKS + 1))
cmp -s "$T/v2.img" "$T/v2.payload" && fail "payload not encrypted"
coap_put "$P" v2.suit "$T/v2.suit"
coap_put "$P" v2.payload "$T/v2.payload"
expect_rc 3 "update --from with a power cut mid-download" dev update --from "coaps://127.0.0.1:$C/v2.suit" \
    --payload-from "coaps://127.0.0.1:$C/v2.payload" --ca "$T/ca/ca.crt" --power-cut 300
expect_grep "$T/err" "^update: power lost at flash operation 300 \([1-9][0-9]* of 300[0-9]* payload bytes accepted\)" "power cut mid-download"
expect_rc 0 "boot after the cut: still v1" dev boot
expect_grep "$T/out" "^boot: slot A, sequence 1$" "running image untouched"
expect_rc 0 "update --from resumes" dev update --from "coaps://127.0.0.1:$C/v2.suit" \
    --payload-from "coaps://127.0.0.1:$C/v2.payload" --ca "$T/ca/ca.crt"
expect_grep "$T/out" "^update: resuming an interrupted download at byte [1-9][0-9]* of " "resumed from the agent's offset"
expect_grep "$T/out" "^update: sequence 2 installed in slot B \(300000 bytes, decrypted on the fly\)" "installed"
expect_rc 0 "boot the update" dev boot
expect_grep "$T/out" "^boot: slot B, sequence 2$" "boot shows the new slot"
expect_rc 0 "confirm" dev confirm
# the same refusals as the file form: v1 again is a rollback
coap_put "$P" v1.suit "$T/v1.suit"
coap_put "$P" v1.img "$T/v1.img"
expect_rc 1 "update --from of a rolled-back release" dev update --from "coaps://127.0.0.1:$C/v1.suit" \
    --payload-from "coaps://127.0.0.1:$C/v1.img" --ca "$T/ca/ca.crt"
expect_grep "$T/err" "^update: rejected: .*sequence 1" "rollback refused as in the file form"
expect_rc 1 "update --from a missing envelope" dev update --from "coaps://127.0.0.1:$C/nothing" \
    --payload-from "coaps://127.0.0.1:$C/v2.payload" --ca "$T/ca/ca.crt"
expect_grep "$T/err" "envelope.*4\.04" "missing envelope named"

# ---- --qblock2: RFC 9177 Q-Block2 from Debian 13's libcoap 4.3.4 (scripts/deps --libcoap-dir;
# make deps puts it in build/libcoap), a set held in 10 KiB; Debian 12's 4.3.1 has no Q-Block:
# the same option falls back to Block2 there ----
expect_rc 0 "fetch --qblock2 from libcoap 4.3.1 (no Q-Block: Block2)" dev fetch "coaps://127.0.0.1:$C/big" \
    --ca "$T/ca/ca.crt" --out "$T/got-qb1.bin" --qblock2
expect_grep "$T/out" "^fetch: 1048576 bytes from coaps://127.0.0.1:$C/big over DTLSv1.2 .*got-qb1.bin$" "Block2 after the fallback"
CHECKS=$((CHECKS + 1))
cmp -s "$T/big.bin" "$T/got-qb1.bin" || fail "fetch --qblock2 from 4.3.1 differs"
L=${FS38_LIBCOAP_DIR:-$src/build/libcoap}
if [ ! -x "$L/bin/coap-server-openssl" ]; then
    fail "libcoap 4.3.4 not found in $L (scripts/deps --libcoap-dir $L)"
else
    Q=$(peers_free_port_pair udp)
    FS38_COAP_SERVER=$L/bin/coap-server-openssl FS38_COAP_CLIENT=$L/bin/coap-client-openssl \
        peers_coap_server "$Q" -d 10 -v 3 -L 5 -c "$T/srv.crt" -j "$T/srv.key" -R "$T/ca/ca.crt" ||
        fail "coap-server 4.3.4 (PKI, Q-Block)"
    timeout 60 "$L/bin/coap-client-openssl" -m put -b 1024 -f "$T/big.bin" "coap://127.0.0.1:$Q/big" >/dev/null 2>&1 ||
        fail "coap-client 4.3.4 could not PUT big"
    expect_rc 0 "fetch --qblock2 from libcoap 4.3.4" dev fetch "coaps://127.0.0.1:$((Q + 1))/big" --ca "$T/ca/ca.crt" \
        --out "$T/got-qb.bin" --qblock2
    expect_grep "$T/out" "^fetch: 1048576 bytes from coaps://127.0.0.1:$((Q + 1))/big over DTLSv1.2 .* \\(Q-Block2\\)$" \
        "the body came as Q-Block2 sets"
    CHECKS=$((CHECKS + 1))
    cmp -s "$T/big.bin" "$T/got-qb.bin" || fail "fetch --qblock2 from 4.3.4 differs"
    expect_rc 0 "fetch without --qblock2 from libcoap 4.3.4 (Block2)" dev fetch "coaps://127.0.0.1:$((Q + 1))/big" \
        --ca "$T/ca/ca.crt" --out "$T/got-b2.bin"
    CHECKS=$((CHECKS + 1))
    grep -q "(Q-Block2)$" "$T/out" && fail "a fetch without --qblock2 said Q-Block2"
    CHECKS=$((CHECKS + 1))
    cmp -s "$T/big.bin" "$T/got-b2.bin" || fail "fetch from 4.3.4 without --qblock2 differs"
    # an update streamed into the agent a set at a time: sequence 3 into slot A
    random_file "$T/v3.img" 200000
    sign "$T/vendor.pem" "$T/v3.img" 3 "$T/v3.suit" --encrypt-to "$T/dev.ecdh.pub" --payload-out "$T/v3.payload"
    for f in v3.suit v3.payload; do
        timeout 60 "$L/bin/coap-client-openssl" -m put -b 1024 -f "$T/$f" "coap://127.0.0.1:$Q/$f" >/dev/null 2>&1 ||
            fail "coap-client 4.3.4 could not PUT $f"
    done
    expect_rc 0 "update --from --qblock2 (libcoap 4.3.4)" dev update --from "coaps://127.0.0.1:$((Q + 1))/v3.suit" \
        --payload-from "coaps://127.0.0.1:$((Q + 1))/v3.payload" --ca "$T/ca/ca.crt" --qblock2
    expect_grep "$T/out" "^update: sequence 3 installed in slot A \(200000 bytes, decrypted on the fly\)" "installed over Q-Block2"
    expect_rc 0 "boot the Q-Block2 update" dev boot
    expect_grep "$T/out" "^boot: slot A, sequence 3$" "boot shows sequence 3"
    expect_rc 0 "confirm sequence 3" dev confirm
fi

# ---- refusals of the channel ----
R=$(peers_free_port_pair udp)
peers_coap_server "$R" -d 10 -c "$T/rogue.crt" -j "$T/rogue.key" -R "$T/ca/ca.crt" || fail "coap-server (rogue)"
expect_rc 1 "a server certificate from another CA" dev fetch "coaps://127.0.0.1:$((R + 1))/" --ca "$T/ca/ca.crt" --out "$T/x"
expect_grep "$T/err" "not signed by the fleet CA" "unknown CA named"
expect_lines "$T/err" 1 "one line on stderr"
N=$(peers_free_port_pair udp)
peers_coap_server "$N" -d 10 -c "$T/srv.crt" -j "$T/srv.key" || fail "coap-server (no client auth)"
expect_rc 1 "a server that does not ask for the client certificate" dev fetch "coaps://127.0.0.1:$((N + 1))/" --ca "$T/ca/ca.crt" --out "$T/x"
expect_grep "$T/err" "did not request a client certificate" "policy named"
expect_rc 0 "the same server where policy allows it" dev fetch "coaps://127.0.0.1:$((N + 1))/" --ca "$T/ca/ca.crt" --out "$T/x" --client-auth optional
expect_grep "$T/x" "libcoap" "the server's / resource"
expect_rc 0 "log export" dev log export --out "$T/b.log"
expect_rc 0 "log show" "$FS38" log show "$T/b.log"
expect_grep "$T/out" "channel-refused" "channel-refused event in the device's log"
expect_rc 0 "log verify" "$FS38" log verify --k0 "$T/k0" "$T/b.log"

# nothing listening: exit 3 within the timeout
D=$(peers_free_port_pair udp)
start=$(date +%s)
expect_rc 3 "fetch from a port with nothing listening (DTLS)" dev fetch "coaps://127.0.0.1:$D/x" --ca "$T/ca/ca.crt" --out "$T/x" --timeout 2000
CHECKS=$((CHECKS + 1))
[ $(($(date +%s) - start)) -le 10 ] || fail "exit 3 took longer than the timeout allows"
TP=$(broker_free_port)
expect_rc 3 "log push to a TCP port with nothing listening" dev log push "mqtts://127.0.0.1:$TP" --ca "$T/ca/ca.crt" --timeout 2000

# ---- PSK: coap-server-openssl -k; the key imported into the sealed store ----
K=$(peers_free_port_pair udp)
peers_coap_server "$K" -d 10 -k fs38-psk-0123456789 -h fs38 || fail "coap-server (PSK)"
coap_put "$K" small "$T/v1.img"
printf 'fs38-psk-0123456789' | od -An -tx1 -v | tr -d ' \n' >"$T/psk.hex"
expect_rc 0 "fetch in PSK mode" dev fetch "coaps://127.0.0.1:$((K + 1))/small" --psk-id dev1 --psk "$T/psk.hex" --out "$T/small"
CHECKS=$((CHECKS + 1))
cmp -s "$T/v1.img" "$T/small" || fail "PSK fetch differs"
expect_rc 0 "PSK from the sealed store (no --psk)" dev fetch "coaps://127.0.0.1:$((K + 1))/small" --psk-id dev1 --out "$T/small2"
printf '%s' 00112233445566778899aabbccddeeff >"$T/wrong.hex"
# a wrong PSK: OpenSSL's DTLS server silently drops the Finished it cannot authenticate (RFC 6347
# §4.1.2.7), so the device sees no answer: exit 3 (timed out), and nothing is delivered
expect_rc 3 "a wrong PSK gets nothing" dev fetch "coaps://127.0.0.1:$((K + 1))/small" --psk-id dev1 --psk "$T/wrong.hex" --out "$T/xpsk" --timeout 2000
CHECKS=$((CHECKS + 1))
[ ! -e "$T/xpsk" ] || fail "a failed PSK fetch left an output"
printf '%s' 'fs38-psk-0123456789' | od -An -tx1 -v | tr -d ' \n' >"$T/psk.hex"
expect_rc 0 "the right PSK again" dev fetch "coaps://127.0.0.1:$((K + 1))/small" --psk-id dev1 --psk "$T/psk.hex" --out "$T/small3"
expect_rc 2 "a PSK file that is not hex" dev fetch "coaps://127.0.0.1:$((K + 1))/small" --psk-id dev1 --psk "$T/v1.suit" --out "$T/x"

# ---- log push over coaps:// (POST, Block1), read back byte-exact ----
expect_rc 0 "log export for push" dev log export --out "$T/push.log"
expect_rc 0 "log push coaps:// --file" dev log push "coaps://127.0.0.1:$C/logs" --ca "$T/ca/ca.crt" --file "$T/push.log"
expect_grep "$T/out" "^log push: [0-9]+ bytes posted to coaps://" "posted line"
CHECKS=$((CHECKS + 1))
if ! timeout 30 coap-client-openssl -m get -b 1024 -o "$T/logs.back" "coap://127.0.0.1:$P/logs" >/dev/null 2>&1 ||
    ! cmp -s "$T/push.log" "$T/logs.back"; then
    fail "the batch posted over CoAP differs from the export"
fi

# ---- Mosquitto with TLS, client certificates, identity as user name, ACL ----
# the collector's certificate: issued from the fleet CA with openssl (a test-only client)
openssl ecparam -name prime256v1 -genkey -noout -out "$T/col.key" 2>/dev/null
openssl req -new -key "$T/col.key" -subj /CN=collector -out "$T/col.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n' >"$T/col.ext"
openssl x509 -req -in "$T/col.csr" -CA "$T/ca/ca.crt" -CAkey "$T/ca/ca.key" -CAcreateserial -days 2 \
    -extfile "$T/col.ext" -out "$T/col.crt" 2>/dev/null || fail "collector certificate"
{
    echo "user collector"
    echo "topic read fs38/+/log"
    echo "pattern write fs38/%u/#"
    echo "pattern read fs38/%u/#"
} >"$T/acl"
chmod 600 "$T/acl"
broker_start "$T/broker" "cafile $T/ca/ca.crt" "certfile $T/srv.crt" "keyfile $T/srv.key" \
    "require_certificate true" "use_identity_as_username true" "acl_file $T/acl" "allow_anonymous false" ||
    { fail "mosquitto (TLS)"; finish; }
M=$BROKER_PORT
sub() { # sub OUT SECONDS: collect one message on fs38/+/log
    timeout $(($2 + 5)) mosquitto_sub -h 127.0.0.1 -p "$M" --cafile "$T/ca/ca.crt" --cert "$T/col.crt" \
        --key "$T/col.key" -i "collector-$RANDOM" -q 1 -t 'fs38/+/log' -C 1 -W "$2" -N >"$1" 2>"$1.err" &
    SUB_PID=$!
    broker_wait_log "Received SUBSCRIBE from collector" 5 || fail "the collector did not subscribe"
}
sub "$T/mqtt.got" 10
expect_rc 0 "log push mqtts:// --file" dev log push "mqtts://127.0.0.1:$M" --ca "$T/ca/ca.crt" --file "$T/push.log"
expect_grep "$T/out" "^log push: [0-9]+ bytes published to mqtts://127.0.0.1:$M, topic fs38/$UEID/log, QoS 1 acknowledged" "published line"
wait "$SUB_PID"
CHECKS=$((CHECKS + 1))
cmp -s "$T/push.log" "$T/mqtt.got" || fail "mosquitto_sub did not receive the batch byte-exact"
# a fresh export, verified by the collector's side with k0
: >"$BROKER_LOG"
sub "$T/mqtt2.got" 10
expect_rc 0 "log push mqtts:// (fresh export)" dev log push "mqtts://127.0.0.1:$M" --ca "$T/ca/ca.crt"
wait "$SUB_PID"
expect_rc 0 "the pushed batch verifies with k0" "$FS38" log verify --k0 "$T/k0" "$T/mqtt2.got"
CHECKS=$((CHECKS + 1))
last_open | grep -q 'arg=1 "TLSv1.3 127.0.0.1 resumed"' || fail "the second push did not resume TLS 1.3: $(last_open)"
# under another UEID's topic: acknowledged by mosquitto 2 (QoS 1) but dropped by the ACL
: >"$BROKER_LOG"
sub "$T/mqtt3.got" 3
expect_rc 0 "publish under another UEID's topic (PUBACKed, not delivered)" dev log push "mqtts://127.0.0.1:$M" \
    --ca "$T/ca/ca.crt" --file "$T/push.log" --topic fs38/00112233445566778899aabbccddeeff00/log
wait "$SUB_PID"
CHECKS=$((CHECKS + 1))
[ ! -s "$T/mqtt3.got" ] || fail "a publish under another UEID's topic got through the ACL"
expect_grep "$BROKER_LOG" "Denied PUBLISH from $UEID" "the broker denied it"
# a broker certificate from another CA is refused
broker_stop
broker_start "$T/broker2" "cafile $T/ca/ca.crt" "certfile $T/rogue.crt" "keyfile $T/rogue.key" \
    "require_certificate true" "use_identity_as_username true" "allow_anonymous false" || fail "mosquitto (rogue)"
expect_rc 1 "a broker with a certificate from another CA" dev log push "mqtts://127.0.0.1:$BROKER_PORT" --ca "$T/ca/ca.crt"
expect_grep "$T/err" "not signed by the fleet CA" "rogue broker named"
broker_stop

# ---- never the plaintext MQTT port ----
CHECKS=$((CHECKS + 1))
if grep -n '1883' "$src/device/cmd_net.c" "$src"/src/net/*.c; then
    fail "the device's network code mentions port 1883"
fi
CHECKS=$((CHECKS + 1))
grep -q 'port 1883' "$T/broker/mosquitto.log" && fail "mosquitto listened on 1883"

finish
