#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# mqtt.sh — fs38's MQTT 3.1.1 client (fs38/mqtt.h) against a real Mosquitto broker started here
# on 127.0.0.1 at a free port (tests/cli/broker.sh), stopped by PID, every step bounded in time.
# The client runs in tests/mqtt_interop.c over a TEST-ONLY plaintext TCP transport (the device
# library itself only runs MQTT over fs38_channel's TLS); allow_anonymous is for this run only.
#   session:    CONNECT clean-session 0 twice: the second CONNACK says session present
#   publish:    a 100 KiB log batch, QoS 1, to fs38/<ueid>/log; mosquitto_sub gets it byte-exact
#   subscribe:  fs38/<class-id>/update; mosquitto_pub's notice arrives byte-exact, another
#               class's topic does not
#   keep-alive: 1 s keep-alive held for 3 s (PINGREQs answered); broker frozen (SIGSTOP) ->
#               "no PINGRESP" timeout
#   killed:     broker killed mid-session -> connection closed / network error
#   refused:    broker requiring a password: anonymous -> CONNACK 5, wrong password -> 4 or 5,
#               each an mqtt-refused security event; right password -> accepted
# Environment: MQTT_INTEROP (the built tests/mqtt_interop).
set -u
: "${MQTT_INTEROP:?MQTT_INTEROP (path of the mqtt_interop binary) is not set}"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/broker.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/fs38-mqtt.XXXXXX") || exit 2
BG=
cleanup() {
    [ -n "$BG" ] && kill "$BG" 2>/dev/null && wait "$BG" 2>/dev/null
    broker_stop
    rm -rf "$T"
}
trap cleanup EXIT
FAILS=0
CHECKS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
check() { CHECKS=$((CHECKS + 1)); }
show() { sed 's/^/  | /' "$@" >&2; }
wait_file() { local i; for i in $(seq $((${2:-10} * 10))); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

for tool in mosquitto_sub mosquitto_pub mosquitto_passwd; do
    command -v "$tool" >/dev/null || { echo "mqtt: $tool not found (scripts/deps installs mosquitto-clients)" >&2; exit 1; }
done

UEID=01a1b2c3d4e5f60718293a4b5c6d7e8f90
CLASS=1492af14-2569-5e48-bf42-9b2d51f2ab45
I() { timeout 40 "$MQTT_INTEROP" "$@" >"$T/out" 2>"$T/err"; RC=$?; }

broker_start "$T/b1" "allow_anonymous true" || exit 1
P=$BROKER_PORT

# --- persistent session -----------------------------------------------------------------------
check
I --ueid "$UEID" "$P" connect
[ $RC = 0 ] && grep -qx "session_present=0" "$T/out" || { fail "first connect: rc $RC"; show "$T/out" "$T/err"; }
check
I --ueid "$UEID" "$P" connect
[ $RC = 0 ] && grep -qx "session_present=1" "$T/out" || { fail "second connect (clean session 0): session not present"; show "$T/out" "$T/err"; }
grep -q "New client connected from 127.0.0.1:[0-9]* as $UEID (p2, c0, k30)" "$BROKER_LOG" ||
    fail "the broker saw no MQTT 3.1.1 (p2) clean-session-0 (c0) CONNECT from client id $UEID"

# --- 100 KiB log batch, QoS 1, byte-exact at mosquitto_sub ----------------------------------------
head -c 102400 /dev/urandom >"$T/batch"
timeout 30 mosquitto_sub -h 127.0.0.1 -p "$P" -i fs38-test-sub -q 1 -t "fs38/$UEID/log" -C 1 -N -W 20 >"$T/got" 2>"$T/sub.err" &
BG=$!
broker_wait_log "Received SUBSCRIBE from fs38-test-sub" 10 || fail "mosquitto_sub did not subscribe"
check
I --ueid "$UEID" "$P" publish "fs38/$UEID/log" "$T/batch"
[ $RC = 0 ] || { fail "publish 100 KiB: rc $RC"; show "$T/out" "$T/err"; }
wait "$BG"; SUBRC=$?; BG=
check
if [ $SUBRC != 0 ] || ! cmp -s "$T/batch" "$T/got"; then
    fail "mosquitto_sub did not receive the batch byte-exact (rc $SUBRC, $(wc -c <"$T/got") bytes)"; show "$T/sub.err"
fi
grep -Eq "Received PUBLISH from $UEID \(d0, q1, r0, m1, 'fs38/$UEID/log', \.\.\. \(102400 bytes\)\)" "$BROKER_LOG" ||
    { fail "broker log shows no QoS 1 PUBLISH of 102400 bytes"; grep PUBLISH "$BROKER_LOG" | head -3 >&2; }
grep -q "Sending PUBACK to $UEID" "$BROKER_LOG" || fail "broker sent no PUBACK"

# --- subscribe to fs38/<class>/update ----------------------------------------------------------
head -c 3000 /dev/urandom >"$T/notice"
rm -f "$T/ready"
timeout 40 "$MQTT_INTEROP" --ueid "${UEID}01" "$P" subscribe "fs38/$CLASS/update" "$T/upd" "$T/ready" >"$T/sout" 2>"$T/serr" &
BG=$!
wait_file "$T/ready" 10 || fail "subscriber not ready"
mosquitto_pub -h 127.0.0.1 -p "$P" -q 1 -t "fs38/00000000-0000-0000-0000-000000000000/update" -m "other class" || fail "mosquitto_pub (other)"
mosquitto_pub -h 127.0.0.1 -p "$P" -q 1 -t "fs38/$CLASS/update" -f "$T/notice" || fail "mosquitto_pub"
wait "$BG"; SRC=$?; BG=
check
if [ $SRC != 0 ] || ! cmp -s "$T/notice" "$T/upd" || ! grep -q "granted=1 topic=fs38/$CLASS/update len=3000" "$T/sout"; then
    fail "update notice not received byte-exact (rc $SRC)"; show "$T/sout" "$T/serr"
fi
grep -q "Sending SUBACK to ${UEID}01" "$BROKER_LOG" || fail "broker sent no SUBACK"
grep -q "Received PUBACK from ${UEID}01" "$BROKER_LOG" || fail "our PUBACK for the QoS 1 notice did not reach the broker"

# --- keep-alive ----------------------------------------------------------------------------------
check
I --ueid "${UEID}02" --keepalive 1 "$P" ping 3 "$T/ready2"
n=$(sed -n 's/^pingreq=\([0-9]*\) connected=1$/\1/p' "$T/out")
[ $RC = 0 ] && [ -n "$n" ] && [ "$n" -ge 2 ] || { fail "keep-alive: rc $RC"; show "$T/out" "$T/err"; }
[ "$(grep -c "Received PINGREQ from ${UEID}02" "$BROKER_LOG")" -ge 2 ] || fail "broker saw fewer than 2 PINGREQ"
grep -q "Sending PINGRESP to ${UEID}02" "$BROKER_LOG" || fail "broker sent no PINGRESP"
# a frozen broker answers no PINGREQ: the connection is declared lost
rm -f "$T/ready3"
timeout 40 "$MQTT_INTEROP" --ueid "${UEID}03" --keepalive 1 "$P" ping 10 "$T/ready3" >"$T/pout" 2>"$T/perr" &
BG=$!
wait_file "$T/ready3" 10 || fail "ping client not ready"
kill -STOP "$BROKER_PID"
wait "$BG"; PRC=$?; BG=
kill -CONT "$BROKER_PID"
check
[ $PRC = 1 ] && grep -q "error: timed out: mqtt: no PINGRESP within 1 s" "$T/perr" || { fail "frozen broker: rc $PRC"; show "$T/pout" "$T/perr"; }

# --- broker killed mid-session -------------------------------------------------------------------
rm -f "$T/ready4"
timeout 40 "$MQTT_INTEROP" --ueid "${UEID}04" "$P" hold "$T/ready4" >"$T/hout" 2>"$T/herr" &
BG=$!
wait_file "$T/ready4" 10 || fail "hold client not ready"
broker_kill
wait "$BG"; HRC=$?; BG=
check
[ $HRC = 1 ] && grep -Eq "error: (connection closed|network unreachable): mqtt: " "$T/herr" || { fail "broker killed: rc $HRC"; show "$T/hout" "$T/herr"; }
grep -q "^event:" "$T/herr" && fail "a lost connection is not a protocol refusal (no mqtt-refused event)"

# --- CONNACK refusals ----------------------------------------------------------------------------
mkdir -p "$T/b2"
mosquitto_passwd -b -c "$T/b2/passwd" fs38dev 'right horse battery' >/dev/null 2>&1 || fail "mosquitto_passwd"
broker_start "$T/b2" "allow_anonymous false" "password_file $T/b2/passwd" || exit 1
P=$BROKER_PORT
check
I --ueid "$UEID" "$P" connect
if [ $RC != 1 ] || ! grep -q "error: refused by the peer: mqtt: broker refused the connection: return code 5 (not authorized)" "$T/err" ||
   ! grep -q "^event: mqtt-refused arg=-205 .*return code 5" "$T/err"; then
    fail "anonymous on a password broker: rc $RC"; show "$T/out" "$T/err"
fi
check
I --ueid "$UEID" --user fs38dev --pass wrong "$P" connect
if [ $RC != 1 ] || ! grep -Eq "error: refused by the peer: .*return code [45] " "$T/err" ||
   ! grep -q "^event: mqtt-refused arg=-205" "$T/err"; then
    fail "wrong password: rc $RC"; show "$T/out" "$T/err"
fi
grep -q "wrong" "$T/err" && fail "the password appears in the diagnostic"
check
I --ueid "$UEID" --user fs38dev --pass 'right horse battery' "$P" connect
[ $RC = 0 ] || { fail "right password: rc $RC"; show "$T/out" "$T/err"; }
broker_stop

echo "mqtt: $CHECKS checks, $FAILS failed"
[ "$FAILS" = 0 ]
