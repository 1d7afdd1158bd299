#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fleet_device.sh — `fs38-device run` (the fleet agent, issue 11) against a real Mosquitto with
# TLS, client certificates, identity as user name and the fleet ACL (docs/fleet.md), and
# libcoap's coap-server-openssl holding update payloads; mosquitto_sub / mosquitto_pub with the
# collector's certificate play the fleet side:
#   log + ack   run --once publishes a fresh export on fs38/<ueid>/log (it verifies with k0),
#               the collector's ack (CBOR uint) on fs38/<ueid>/ack frees the ring (log status:
#               released up to it); an ack beyond the head is ignored; the next push starts at
#               the release point
#   challenge   a nonce queued on fs38/<ueid>/challenge (persistent session) is answered on
#               fs38/<ueid>/attest with a token `fs38 attest verify --nonce` accepts
#   update      a notice {1: envelope, 2: coaps:// URL} retained on fs38/<class>/update: the
#               payload is streamed from coap-server into the update agent, the log pushed again
#               shows update-installed; the retained notice is not acted on twice; after the
#               trial boot the next run confirms (update-confirmed in the pushed log)
#   revert      a trial whose run cannot reach the broker (exit 3) is not confirmed: the next boot
#               reverts it, and the next run pushes boot-reverted and does not reinstall
#   usage       no --broker, mqtt:// plaintext -> 2; nothing listening -> 3
# Every peer listens on 127.0.0.1 on a free port and is stopped by PID.
. "$(dirname "$0")/lib.sh"
: "${FS38_DEVICE:?FS38_DEVICE is not set}"
here=$(cd "$(dirname "$0")" && pwd)
PEERS_DIR=$T
FS38_COAP_SERVER=coap-server-openssl
FS38_COAP_CLIENT=coap-client-openssl
. "$here/peers.sh"
. "$here/broker.sh"
SUB_PID=
RUN_PID=
trap '[ -n "$SUB_PID" ] && kill "$SUB_PID" 2>/dev/null; [ -n "$RUN_PID" ] && kill "$RUN_PID" 2>/dev/null; peers_stop_all; broker_stop; rm -rf "$T"' EXIT

for b in coap-server-openssl coap-client-openssl mosquitto mosquitto_sub mosquitto_pub openssl python3; do
    command -v "$b" >/dev/null || [ -x "$MOSQUITTO" ] || { echo "FAIL: $b not found (scripts/deps)" >&2; exit 1; }
done

S="$T/state"
dev() { timeout 60 "$FS38_DEVICE" --state "$S" "$@"; }

coap_put() {
    timeout 60 coap-client-openssl -m put -b 1024 -f "$3" "coap://127.0.0.1:$1/$2" >/dev/null 2>&1 ||
        fail "coap-client could not PUT $2"
}
# cbor_uint N OUT: N as one CBOR unsigned integer
cbor_uint() {
    python3 -c '
import sys, struct
n = int(sys.argv[1])
b = bytes([n]) if n < 24 else bytes([24, n]) if n < 256 else b"\x19" + struct.pack(">H", n) if n < 65536 else b"\x1a" + struct.pack(">I", n)
open(sys.argv[2], "wb").write(b)' "$1" "$2"
}
# notice ENV URL OUT: the update notice {1: envelope, 2: URL}
notice() {
    python3 -c '
import sys, struct
def head(major, n):
    if n < 24: return bytes([major << 5 | n])
    if n < 256: return bytes([major << 5 | 24, n])
    if n < 65536: return bytes([major << 5 | 25]) + struct.pack(">H", n)
    return bytes([major << 5 | 26]) + struct.pack(">I", n)
env = open(sys.argv[1], "rb").read(); url = sys.argv[2].encode()
open(sys.argv[3], "wb").write(b"\xa2\x01" + head(2, len(env)) + env + b"\x02" + head(3, len(url)) + url)' "$1" "$2" "$3"
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
expect_rc 0 "broker certificate" "$FS38" ca server "$T/ca" --name 127.0.0.1 --out "$T/srv.crt" --key-out "$T/srv.key"
[ -n "$UEID" ] || { fail "no UEID printed by provision"; finish; }
CLASS_HEX=$(echo "$UUID_CLASS" | tr -d -)

# the collector's certificate (CN fs38-collector), issued from the fleet CA with openssl
openssl ecparam -name prime256v1 -genkey -noout -out "$T/col.key" 2>/dev/null
openssl req -new -key "$T/col.key" -subj /CN=fs38-collector -out "$T/col.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n' >"$T/col.ext"
openssl x509 -req -in "$T/col.csr" -CA "$T/ca/ca.crt" -CAkey "$T/ca/ca.key" -CAcreateserial -days 2 \
    -extfile "$T/col.ext" -out "$T/col.crt" 2>/dev/null || fail "collector certificate"
# the fleet ACL of the wire contract (docs/fleet.md)
{
    echo "pattern write fs38/%u/log"
    echo "pattern write fs38/%u/attest"
    echo "pattern read fs38/%u/ack"
    echo "pattern read fs38/%u/challenge"
    echo "pattern read fs38/+/update"
    echo "user fs38-collector"
    echo "topic read fs38/+/log"
    echo "topic read fs38/+/attest"
    echo "topic write fs38/+/ack"
    echo "topic write fs38/+/challenge"
    echo "topic write fs38/+/update"
} >"$T/acl"
chmod 600 "$T/acl"
start_broker() {
    broker_start "$T/broker" "cafile $T/ca/ca.crt" "certfile $T/srv.crt" "keyfile $T/srv.key" \
        "require_certificate true" "use_identity_as_username true" "acl_file $T/acl" "allow_anonymous false"
}
start_broker || { fail "mosquitto (TLS)"; finish; }
M=$BROKER_PORT
URL="mqtts://127.0.0.1:$M"
MQ=(-h 127.0.0.1 -p "$M" --cafile "$T/ca/ca.crt" --cert "$T/col.crt" --key "$T/col.key" -q 1)
# sub TOPIC COUNT OUT SECONDS: collect COUNT messages (one file each: OUT.1, OUT.2, ...)
sub() {
    rm -f "$3".*
    : >"$BROKER_LOG.mark"
    timeout $(($4 + 5)) mosquitto_sub "${MQ[@]}" -i "col-$RANDOM" -t "$1" -C "$2" -W "$4" -F '%x' >"$3" 2>"$3.err" &
    SUB_PID=$!
    local i
    for i in $(seq 50); do
        [ "$(grep -c "Received SUBSCRIBE from col-" "$BROKER_LOG")" -gt "${SUBS:-0}" ] && break
        sleep 0.1
    done
    SUBS=$(grep -c "Received SUBSCRIBE from col-" "$BROKER_LOG")
}
# unsub OUT: wait for the subscriber, split its hex lines into OUT.1, OUT.2, ...
unsub() {
    wait "$SUB_PID"
    SUB_PID=
    local n=0 line
    while read -r line; do
        n=$((n + 1))
        python3 -c 'import sys; open(sys.argv[1], "wb").write(bytes.fromhex(sys.argv[2]))' "$1.$n" "$line"
    done <"$1"
}
pub() { timeout 20 mosquitto_pub "${MQ[@]}" -i "pub-$RANDOM" "$@" || fail "mosquitto_pub $*"; }
# run_bg ARGS...: fs38-device run in the background, output in $T/run.out / $T/run.err
run_bg() {
    timeout 60 "$FS38_DEVICE" --state "$S" run --broker "$URL" --ca "$T/ca/ca.crt" "$@" >"$T/run.out" 2>"$T/run.err" &
    RUN_PID=$!
}
run_wait() {
    wait "$RUN_PID"
    RUN_RC=$?
    RUN_PID=
    CHECKS=$((CHECKS + 1))
    if [ "$RUN_RC" != "$1" ]; then
        fail "$2: run exit $RUN_RC, expected $1"
        sed 's/^/  stdout: /' "$T/run.out" >&2
        sed 's/^/  stderr: /' "$T/run.err" >&2
    fi
}

# ---- usage ----
expect_rc 2 "run without --broker" dev run --ca "$T/ca/ca.crt" --once
expect_rc 2 "run with mqtt:// (plaintext is not a mode)" dev run --broker "mqtt://127.0.0.1:$M" --ca "$T/ca/ca.crt" --once
expect_grep "$T/err" "plaintext is not a mode" "plaintext refused"
expect_rc 2 "run with --wait 0" dev run --broker "$URL" --ca "$T/ca/ca.crt" --once --wait 0
TP=$(broker_free_port)
expect_rc 3 "run --once with nothing listening" dev run --broker "mqtts://127.0.0.1:$TP" --ca "$T/ca/ca.crt" --once --timeout 2000

# ---- log push, the collector's ack frees the ring ----
sub "fs38/+/log" 1 "$T/log1" 20
run_bg --once --wait 15000
unsub "$T/log1"
CHECKS=$((CHECKS + 1))
[ -s "$T/log1.1" ] || fail "the collector received no log batch"
expect_rc 0 "the pushed batch verifies with k0" "$FS38" log verify --k0 "$T/k0" "$T/log1.1"
LAST=$(sed -n 's/^run: log records [0-9]*\.\.\([0-9]*\) .*/\1/p' "$T/run.out" | tail -1)
[ -n "$LAST" ] || fail "run printed no 'log records' line"
cbor_uint "$LAST" "$T/ack"
pub -t "fs38/$UEID/ack" -f "$T/ack"
run_wait 0 "run --once with an ack"
expect_grep "$T/run.out" "^run: connected to $URL as $UEID \(new session\)" "connected, clean session false"
expect_grep "$T/run.out" "^run: ack $LAST: the collector holds the records up to $LAST; ring released" "ack handled"
expect_grep "$BROKER_LOG" "New client connected from 127.0.0.1:[0-9]+ as $UEID \(p2, c0, k60, u'$UEID'\)" \
    "MQTT 3.1.1, clean session 0, user name = UEID"
expect_rc 0 "log status" dev log status
expect_grep "$T/out" "released up to $LAST$" "the ring is released up to the ack"
# the next push starts at the release point
sub "fs38/+/log" 1 "$T/log2" 20
run_bg --once --wait 1000
unsub "$T/log2"
run_wait 0 "run --once (no ack)"
expect_grep "$T/run.out" "^run: connected to .*\(session resumed\)" "session resumed"
expect_grep "$T/run.out" "^run: log records $((LAST + 1))\.\." "the push starts after the released records"
expect_grep "$T/run.out" "^run: no ack from the collector within 1000 ms" "a missing ack is said"
# an ack beyond the head is ignored
cbor_uint 4000000 "$T/ack.big"
pub -t "fs38/$UEID/ack" -f "$T/ack.big"
run_bg --once --wait 1000
run_wait 0 "run --once (ack beyond the head)"
expect_grep "$T/run.err" "ack 4000000 ignored: the log's next record is" "ack beyond the head ignored"
expect_rc 0 "log status" dev log status
expect_grep "$T/out" "released up to $LAST$" "release point unchanged"

# ---- challenge: answered with a token fs38 attest verify accepts ----
NONCE=$("$FS38" attest nonce)
python3 -c 'import sys; open(sys.argv[1], "wb").write(bytes.fromhex(sys.argv[2]))' "$T/nonce" "$NONCE"
pub -t "fs38/$UEID/challenge" -f "$T/nonce" # queued in the device's session
sub "fs38/+/attest" 1 "$T/att" 20
run_bg --once --wait 1000
unsub "$T/att"
run_wait 0 "run --once answering a challenge"
expect_grep "$T/run.out" "^run: challenge \(32-byte nonce\) answered: token \([0-9]+ bytes\) published to fs38/$UEID/attest" "challenge answered"
expect_rc 0 "attest verify of the token" "$FS38" attest verify --ca "$T/ca" "$T/att.1" --nonce "$NONCE"
expect_grep "$T/out" "^attest: valid token" "valid token"
expect_rc 1 "the token does not verify for another nonce" "$FS38" attest verify --ca "$T/ca" "$T/att.1" --nonce "$("$FS38" attest nonce)"

# ---- update announced retained on the class topic, payload from coap-server ----
P=$(peers_free_port_pair udp)
peers_coap_server "$P" -d 10 -c "$T/srv.crt" -j "$T/srv.key" -R "$T/ca/ca.crt" || { fail "coap-server"; finish; }
C=$((P + 1))
expect_rc 0 "pubkey" dev pubkey --out "$T/dev.ecdh.pub"
random_file "$T/v2.img" 200000
sign "$T/vendor.pem" "$T/v2.img" 2 "$T/v2.suit" --encrypt-to "$T/dev.ecdh.pub" --payload-out "$T/v2.payload"
coap_put "$P" v2.payload "$T/v2.payload"
notice "$T/v2.suit" "coaps://127.0.0.1:$C/v2.payload" "$T/v2.notice"
pub -r -t "fs38/$CLASS_HEX/update" -f "$T/v2.notice"
sub "fs38/+/log" 2 "$T/log3" 40
run_bg --once --wait 1000
unsub "$T/log3"
run_wait 0 "run --once installing the announced update"
expect_grep "$T/run.out" "^run: update notice for sequence 2: payload from coaps://127.0.0.1:$C/v2.payload" "notice acted on"
expect_grep "$T/run.out" "^update: sequence 2 installed in slot B \(200000 bytes, decrypted on the fly\)" "installed"
CHECKS=$((CHECKS + 1))
[ -s "$T/log3.2" ] || fail "no second log push after the update"
expect_rc 0 "log show of the push after the update" "$FS38" log show "$T/log3.2"
expect_grep "$T/out" "update-installed" "the collector sees update-installed"
# the retained notice arrives again on every connect: not acted on twice
run_bg --once --wait 1000
run_wait 0 "run --once with the same retained notice"
expect_grep "$T/run.out" "^run: update notice .*already (handled|holds)" "the same notice is not acted on twice"
expect_no_grep "$T/run.out" "^update: " "no second install"
# the trial boot, confirmed by the next run once the fleet is reachable
expect_rc 0 "boot the update" dev boot
expect_grep "$T/out" "^boot: slot B, sequence 2$" "the trial boots slot B"
sub "fs38/+/log" 1 "$T/log4" 20
run_bg --once --wait 1000
unsub "$T/log4"
run_wait 0 "run --once confirming the trial"
expect_grep "$T/run.out" "^run: the fleet is reachable: trial of slot B \(sequence 2\) confirmed" "trial confirmed"
expect_rc 0 "log show of the push after confirming" "$FS38" log show "$T/log4.1"
expect_grep "$T/out" "update-confirmed" "the collector sees update-confirmed"
expect_rc 0 "status" dev status
expect_grep "$T/out" "^confirmed: slot B" "slot B confirmed"

# ---- a trial that cannot reach the fleet is reverted ----
random_file "$T/v3.img" 50000
sign "$T/vendor.pem" "$T/v3.img" 3 "$T/v3.suit" --encrypt-to "$T/dev.ecdh.pub" --payload-out "$T/v3.payload"
coap_put "$P" v3.payload "$T/v3.payload"
notice "$T/v3.suit" "coaps://127.0.0.1:$C/v3.payload" "$T/v3.notice"
pub -r -t "fs38/$CLASS_HEX/update" -f "$T/v3.notice"
run_bg --once --wait 1000
run_wait 0 "run --once installing sequence 3"
expect_grep "$T/run.out" "^update: sequence 3 installed in slot A" "sequence 3 installed"
expect_rc 0 "boot sequence 3 on trial" dev boot
expect_grep "$T/out" "^boot: slot A, sequence 3$" "the trial boots slot A"
broker_stop
expect_rc 3 "run --once of the trial: the broker is unreachable" dev run --broker "$URL" --ca "$T/ca/ca.crt" --once --timeout 2000
expect_no_grep "$T/out" "confirmed" "the trial is not confirmed"
expect_rc 0 "the next boot reverts the trial" dev boot
expect_grep "$T/out" "^boot: slot B, sequence 2$" "reverted to slot B"
start_broker || { fail "mosquitto (restart)"; finish; }
M=$BROKER_PORT
URL="mqtts://127.0.0.1:$M"
MQ=(-h 127.0.0.1 -p "$M" --cafile "$T/ca/ca.crt" --cert "$T/col.crt" --key "$T/col.key" -q 1)
SUBS=0
pub -r -t "fs38/$CLASS_HEX/update" -f "$T/v3.notice" # the restarted broker (no persistence) lost it
sub "fs38/+/log" 1 "$T/log5" 20
run_bg --once --wait 1000
unsub "$T/log5"
run_wait 0 "run --once after the revert"
expect_no_grep "$T/run.out" "confirmed" "nothing confirmed"
expect_no_grep "$T/run.out" "^update: " "the reverted update is not installed again"
expect_rc 0 "log show of the push after the revert" "$FS38" log show "$T/log5.1"
expect_grep "$T/out" "boot-reverted" "the collector sees boot-reverted"
expect_rc 0 "status" dev status
expect_grep "$T/out" "^confirmed: slot B" "slot B still confirmed"

# ---- an idle device: once the collector holds every record, no push per --interval (an export
# would carry only a new checkpoint); something logged (the attestation a challenge raises) is
# pushed at the next interval ----
pushes() { grep -c "^run: log records" "$T/run.out"; }
run_bg --interval 1 --heartbeat 3600
for i in $(seq 100); do [ "$(pushes)" -ge 1 ] && break; sleep 0.1; done
for i in $(seq 20); do # the collector: ack the latest push until the device is idle
    LAST=$(sed -n 's/^run: log records [0-9]*\.\.\([0-9]*\) .*/\1/p' "$T/run.out" | tail -1)
    cbor_uint "${LAST:-0}" "$T/ack.idle"
    pub -t "fs38/$UEID/ack" -f "$T/ack.idle"
    sleep 0.5
    grep -q "^run: idle" "$T/run.out" && break
done
N0=$(pushes)
sleep 3.5 # three intervals
N1=$(pushes)
head -c 16 /dev/urandom >"$T/nonce.idle"
pub -t "fs38/$UEID/challenge" -f "$T/nonce.idle"
for i in $(seq 100); do [ "$(pushes)" -gt "$N1" ] && break; sleep 0.1; done
N2=$(pushes)
kill -TERM "$RUN_PID"
run_wait 0 "run (idle) stopped by SIGTERM"
expect_grep "$T/run.out" "^run: idle: the collector holds every record pushed \(up to $LAST\); the next push when something is logged, or in [0-9]+ s \(--heartbeat\)$" "idle said once acknowledged"
CHECKS=$((CHECKS + 1))
[ "$N1" = "$N0" ] || fail "an idle, acknowledged device pushed again ($N0 -> $N1 batches in three intervals)"
expect_grep "$T/run.out" "^run: challenge \(16-byte nonce\) answered" "the challenge answered"
CHECKS=$((CHECKS + 1))
[ "$N2" -gt "$N1" ] || fail "the record the challenge raised was not pushed at the next interval"

# ---- without --once: keep-alive, a frozen broker is detected, reconnect with back-off, SIGTERM ----
run_bg --interval 1 --keepalive 1 --timeout 1500
for i in $(seq 50); do grep -q "^run: connected" "$T/run.out" && break; sleep 0.2; done
kill -STOP "$BROKER_PID"
for i in $(seq 100); do grep -q "^run: reconnecting in" "$T/run.out" && break; sleep 0.2; done
kill -CONT "$BROKER_PID"
for i in $(seq 150); do [ "$(grep -c "^run: connected" "$T/run.out")" -ge 2 ] && break; sleep 0.2; done
kill -TERM "$RUN_PID"
run_wait 0 "run (loop) stopped by SIGTERM"
expect_grep "$T/run.err" "^run: connection lost: .*(no PINGRESP|timed out)" "the frozen broker is detected by the keep-alive"
expect_grep "$T/run.out" "^run: reconnecting in [0-9]+ ms" "back-off before reconnecting"
CHECKS=$((CHECKS + 1))
[ "$(grep -c "^run: connected to .*session resumed" "$T/run.out")" -ge 2 ] || { fail "no reconnection with the session resumed"; sed 's/^/  | /' "$T/run.out" "$T/run.err" >&2; }
expect_grep "$T/run.out" "^run: done$" "clean stop on SIGTERM"

finish
