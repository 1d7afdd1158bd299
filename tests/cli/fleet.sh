#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fleet.sh — the fleet side of issue 11 end to end on loopback, against SQLite (default) or a
# throw-away PostgreSQL cluster (`fleet.sh postgresql`): real Mosquitto configured by
# `fs38 fleet broker-config`, real devices (fs38-device, pushing with `log push mqtts://`),
# `fs38 fleet enroll`, `fs38 collect`, `fs38 fleet status --json`, `fs38 fleet attest`,
# `fs38 fleet publish` (libcoap's coap-server-openssl holds the payload).
#   - enrol 3 devices (k0 never in clear in the database; a certificate from another CA refused)
#   - pushes verified and stored; a tampered batch -> forgery, an old batch replayed -> replay,
#     a cut batch -> truncation, a batch that skips records -> gap, a batch from a device that is
#     not enrolled -> unenrolled; a redelivered (identical) batch -> duplicate, no alert; the ack
#     published after the commit
#   - firmware state from the verified log: installed, confirmed, reverted, refused
#   - two collectors in one share group: every batch handled once, every record stored once
#   - kill -9 of the collector mid-stream, restarted with its persistent session: nothing lost
#   - six processes racing over the same overlapping batches of one device (fleet import): each
#     record stored once, no error (the per-device lock)
#   - attest: challenge published, the device's EAT verified, claims stored; a stale token refused
#   - publish: payload PUT over CoAP/DTLS, the envelope announced retained on fs38/<class>/update
# Every server listens on 127.0.0.1 on a free port and is stopped by PID.
. "$(dirname "$0")/lib.sh"
: "${FS38_DEVICE:?FS38_DEVICE is not set}"
here=$(cd "$(dirname "$0")" && pwd)
KIND=${1:-sqlite}
PGBIN=${FS38_PGBIN:-/usr/lib/postgresql/15/bin}
PEERS_DIR=$T
FS38_COAP_SERVER=coap-server-openssl
. "$here/peers.sh"

MQ_PID=
PG_DIR=
PG_PID=
COL_PIDS=()
cleanup() {
    local p
    for p in "${COL_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${COL_PIDS[@]}"; do wait "$p" 2>/dev/null; done
    peers_stop_all
    if [ -n "$MQ_PID" ]; then kill "$MQ_PID" 2>/dev/null; wait "$MQ_PID" 2>/dev/null; fi
    if [ -n "$PG_PID" ]; then
        kill -TERM "$PG_PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
    rm -rf "$T"
}
trap cleanup EXIT

for b in mosquitto coap-server-openssl coap-client-openssl openssl python3; do
    command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] || { echo "FAIL: $b not found (scripts/deps)" >&2; exit 1; }
done
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
dev() {
    local d=$1
    shift
    timeout 60 "$FS38_DEVICE" --state "$T/$d" "$@"
}
declare -A U
declare -A LAST # the last record a device exported (its head after the last push)

# ---- the database ----
if [ "$KIND" = postgresql ]; then
    [ -x "$PGBIN/initdb" ] || { echo "FAIL: $PGBIN/initdb not found (scripts/deps: postgresql)" >&2; exit 1; }
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/fs38-pg.XXXXXX")
    PGP=$(free_port)
    as_pg=()
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$PG_DIR"
        as_pg=(runuser -u postgres --) # PostgreSQL refuses to run as root
    fi
    "${as_pg[@]}" "$PGBIN/initdb" -D "$PG_DIR/data" -U fs38 --auth=trust -E UTF8 >"$PG_DIR/initdb.out" 2>&1 ||
        { cat "$PG_DIR/initdb.out" >&2; fail "initdb"; finish; }
    "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $PGP -k $PG_DIR -c fsync=off" start >/dev/null ||
        { cat "$PG_DIR/log" >&2; fail "pg_ctl start"; finish; }
    PG_PID=$(head -n 1 "$PG_DIR/data/postmaster.pid")
    DB="postgresql://fs38@127.0.0.1:$PGP/postgres"
    sql() { "$PGBIN/psql" -X -At -F '|' "$DB" -c "$1"; }
else
    DB="$T/fleet.db"
    sql() {
        python3 -c 'import sqlite3, sys
for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("|".join("" if v is None else str(v) for v in r))' "$DB" "$1"
    }
fi

# ---- CA, vendor key, devices d1..d3 (enrolled) and d4 (never enrolled) ----
keypair vendor
random_file "$T/v1.img" 3000
random_file "$T/v2.img" 5000
sign "$T/vendor.pem" "$T/v1.img" 1 "$T/v1.suit"
sign "$T/vendor.pem" "$T/v2.img" 2 "$T/v2.suit"
expect_rc 0 "ca init" "$FS38" ca init --out "$T/ca"
for d in d1 d2 d3 d4; do
    expect_rc 0 "$d init" dev $d init --trust "$T/vendor.pub.pem" || finish
    expect_rc 0 "$d flash" dev $d flash-slot A "$T/v1.suit" "$T/v1.img"
    expect_rc 0 "$d boot" dev $d boot
    expect_rc 0 "$d provision" dev $d provision --csr "$T/$d.csr" --cost 10000 --log-key-out "$T/$d.k0"
    U[$d]=$(sed -n 's/^ueid: //p' "$T/out")
    expect_rc 0 "$d ca issue" "$FS38" ca issue "$T/ca" "$T/$d.csr" --out "$T/$d.crt"
    expect_rc 0 "$d install-cert" dev $d install-cert "$T/$d.crt" --ca "$T/ca/ca.crt"
done

# ---- broker-config, Mosquitto ----
BP=$(free_port)
B=$T/broker
expect_rc 0 "fleet broker-config" "$FS38" fleet broker-config --ca "$T/ca" --out "$B" --port "$BP"
for f in mosquitto.conf acl ca.crt broker.crt broker.key collector.crt collector.key README; do
    CHECKS=$((CHECKS + 1))
    [ -s "$B/$f" ] || fail "broker-config did not write $f"
done
for f in broker.key collector.key; do
    CHECKS=$((CHECKS + 1))
    [ "$(stat -c %a "$B/$f")" = 600 ] || fail "$f is not mode 0600"
done
expect_grep "$B/mosquitto.conf" "^listener $BP 127\.0\.0\.1$" "listener on loopback only"
expect_grep "$B/mosquitto.conf" "^require_certificate true$" "client certificates required"
expect_grep "$B/mosquitto.conf" "^use_identity_as_username true$" "identity as user name"
expect_grep "$B/mosquitto.conf" "^allow_anonymous false$" "no anonymous clients"
expect_grep "$B/acl" "^pattern write fs38/%u/log$" "devices publish only their own log"
expect_grep "$B/acl" "^pattern read fs38/%u/ack$" "devices read only their own ack"
expect_grep "$B/acl" "^user fs38-collector$" "the collector's ACL"
openssl x509 -in "$B/collector.crt" -noout -subject -ext extendedKeyUsage >"$T/col.txt" 2>&1
expect_grep "$T/col.txt" "CN ?= ?fs38-collector" "collector CN"
expect_grep "$T/col.txt" "TLS Web Client Authentication" "collector certificate is a client certificate"
expect_rc 0 "collector certificate chains to the CA" openssl verify -CAfile "$T/ca/ca.crt" "$B/collector.crt"
expect_rc 2 "broker-config without --out" "$FS38" fleet broker-config --ca "$T/ca"
echo "log_type debug" >>"$B/mosquitto.conf" # the test reads the PUBLISH lines
"$MOSQUITTO" -c "$B/mosquitto.conf" >"$T/mosquitto.out" 2>&1 &
MQ_PID=$!
for _ in $(seq 50); do
    grep -q "Opening ipv4 listen socket on port $BP" "$B/mosquitto.log" 2>/dev/null && break
    sleep 0.1
done
grep -q "Opening ipv4 listen socket on port $BP" "$B/mosquitto.log" 2>/dev/null ||
    { cat "$T/mosquitto.out" "$B/mosquitto.log" >&2; fail "mosquitto did not start from broker-config"; finish; }
URL="mqtts://127.0.0.1:$BP"
CERTS=(--ca "$T/ca" --cert "$B/collector.crt" --key "$B/collector.key")

# push DEV [ARGS]: log push over mqtts; remembers the last record exported in LAST[DEV]
push() {
    local d=$1
    shift
    expect_rc 0 "$d log push $*" dev $d log push "$URL" --ca "$T/ca/ca.crt" "$@" || return 1
    local last
    last=$(sed -n 's/^log push: export of records [0-9]*\.\.\([0-9]*\) .*/\1/p' "$T/out")
    [ -n "$last" ] && LAST[$d]=$last
    return 0
}
# export DEV FILE: a batch into FILE (the device's head moves on: the checkpoint)
export_to() { # the last record it holds in EXP_LAST
    expect_rc 0 "$1 log export" dev "$1" log export --out "$2"
    EXP_LAST=$(sed -n 's/^log export: records [0-9]*\.\.\([0-9]*\) .*/\1/p' "$T/out")
}

# collector NAME ARGS...: a collector in the background, output in $T/col.NAME
collector() {
    local name=$1
    shift
    "$FS38" collect --broker "$URL" "${CERTS[@]}" --db "$DB" --db-key "$T/db.key" "$@" >"$T/col.$name" 2>&1 &
    COL_PID=$!
    COL_PIDS+=("$COL_PID")
    for _ in $(seq 100); do
        grep -q "^collect: subscribed" "$T/col.$name" && return 0
        kill -0 "$COL_PID" 2>/dev/null || break
        sleep 0.1
    done
    fail "collector $name did not subscribe"
    sed 's/^/  | /' "$T/col.$name" >&2
    return 1
}
collector_wait() { # PID NAME: the collector exits 0
    CHECKS=$((CHECKS + 1))
    wait "$1"
    local rc=$?
    [ "$rc" = 0 ] || { fail "collector $2 exited $rc"; sed 's/^/  | /' "$T/col.$2" >&2; }
}
status_json() {
    "$FS38" fleet status --db "$DB" --json >"$T/status.json" 2>"$T/status.err" || fail "fleet status --json"
}
# jq-like checks on the status: py EXPRESSION (d = the parsed JSON, u = the UEIDs) must be true
check() {
    CHECKS=$((CHECKS + 1))
    python3 - "$T/status.json" "$1" "${U[d1]}" "${U[d2]}" "${U[d3]}" "${U[d4]}" <<'EOF' || fail "status: $2"
import json, sys
d = json.load(open(sys.argv[1]))
u = dict(zip(["d1", "d2", "d3", "d4"], sys.argv[3:7]))
dev = {x["ueid"]: x for x in d["devices"]}
def D(n): return dev.get(u[n])
def kinds(n): return sorted(a["kind"] for a in D(n)["alerts"]) if D(n) else None
ok = eval(sys.argv[2])
if not ok:
    print(json.dumps(d, indent=1), file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
}

# ---- enrolment ----
expect_rc 0 "enroll d1" "$FS38" fleet enroll --db "$DB" --db-key "$T/db.key" --cert "$T/d1.crt" --k0 "$T/d1.k0" --ca "$T/ca"
expect_grep "$T/out" "^fleet enroll: device ${U[d1]} enrolled" "enroll line"
CHECKS=$((CHECKS + 1))
[ "$(stat -c %a "$T/db.key")" = 600 ] && [ "$(stat -c %s "$T/db.key")" = 32 ] || fail "db key not 32 bytes, mode 0600"
# the CA is remembered: no --ca needed from now on
expect_rc 0 "enroll d2" "$FS38" fleet enroll --db "$DB" --db-key "$T/db.key" --cert "$T/d2.crt" --k0 "$T/d2.k0"
expect_rc 0 "enroll d3" "$FS38" fleet enroll --db "$DB" --db-key "$T/db.key" --cert "$T/d3.crt" --k0 "$T/d3.k0"
expect_rc 1 "enroll d1 again" "$FS38" fleet enroll --db "$DB" --db-key "$T/db.key" --cert "$T/d1.crt" --k0 "$T/d1.k0"
expect_grep "$T/err" "already enrolled" "second enrolment refused"
expect_rc 0 "another CA" "$FS38" ca init --out "$T/ca2"
expect_rc 0 "d4 certificate from another CA" "$FS38" ca issue "$T/ca2" "$T/d4.csr" --out "$T/d4.ca2.crt"
expect_rc 1 "enroll a certificate from another CA" "$FS38" fleet enroll --db "$DB" --db-key "$T/db.key" \
    --cert "$T/d4.ca2.crt" --k0 "$T/d4.k0"
expect_grep "$T/err" "does not chain to the CA" "foreign CA named"
head -c 31 /dev/urandom >"$T/short.key"
chmod 600 "$T/short.key"
expect_rc 2 "a db key of 31 bytes" "$FS38" fleet enroll --db "$DB" --db-key "$T/short.key" --cert "$T/d4.crt" --k0 "$T/d4.k0"
CHECKS=$((CHECKS + 1))
sql "SELECT * FROM fleet_devices" >"$T/devices.dump" || fail "cannot read the devices table"
for d in d1 d2 d3; do
    CHECKS=$((CHECKS + 1))
    k0=$(tr -d ' \n' <"$T/$d.k0")
    [ ${#k0} = 64 ] || fail "k0 of $d is not 64 hex digits"
    grep -qi "$k0" "$T/devices.dump" && fail "$d's k0 is in the database in clear"
    [ "$KIND" = sqlite ] && cat "$DB"* | grep -aqi "$k0" && fail "$d's k0 is in the SQLite files in clear"
done
CHECKS=$((CHECKS + 1))
[ "$(sql "SELECT COUNT(*) FROM fleet_devices")" = 3 ] || fail "not three devices enrolled"

# ---- one collector: verified batches, alerts ----
collector one --group g1 --until-idle 4 || finish
P1=$COL_PID
for d in d1 d2 d3; do push $d; done
export_to d2 "$T/d2.old"
push d2 --file "$T/d2.old"
for d in d1 d2 d3; do push $d; done
# a redelivered batch (the same bytes again right away): a duplicate, no alert
export_to d1 "$T/d1.same"
SAME_LAST=$EXP_LAST
push d1 --file "$T/d1.same"
push d1 --file "$T/d1.same"
# tampered: one byte of the last record's payload changed
export_to d1 "$T/d1.bad"
n=$(stat -c %s "$T/d1.bad")
flip "$T/d1.bad" $((n - 40))
push d1 --file "$T/d1.bad"
# an old batch again (d2 has pushed newer ones since)
push d2 --file "$T/d2.old"
# an older export that arrives for the first time after a newer one (reordered delivery, e.g.
# two collectors): nothing new, but no attack either — no alert
export_to d2 "$T/d2.late"
push d2
push d2 --file "$T/d2.late"
# truncated: the last 10 bytes cut
export_to d3 "$T/d3.full"
n=$(stat -c %s "$T/d3.full")
head -c $((n - 10)) "$T/d3.full" >"$T/d3.cut"
push d3 --file "$T/d3.cut"
# a gap: records skipped (two exports the collector never sees, then a push from after them)
export_to d3 /dev/null
export_to d3 "$T/d3.skip"
push d3 --since $((EXP_LAST + 1))
# a device that is not enrolled
push d4
collector_wait "$P1" one
c=$T/col.one
expect_grep "$c" "^collect: ${U[d1]}: verified: [0-9]+ new record\(s\) 0\.\.[0-9]+ stored" "first batch stored"
expect_grep "$c" "^collect: ${U[d1]}: batch already handled \(redelivery\): nothing stored" "redelivery recognised"
expect_grep "$c" "^collect: ${U[d1]}: rejected \(forgery\)" "tampered batch rejected"
expect_grep "$c" "^collect: ${U[d2]}: replayed batch" "old batch named a replay"
expect_grep "$c" "^collect: ${U[d2]}: older batch delivered late: records" "a late first delivery is no replay"
expect_grep "$c" "^collect: ${U[d3]}: rejected \(truncation\)" "cut batch rejected"
expect_grep "$c" "^collect: ${U[d3]}: rejected \(gap\)" "gap rejected"
expect_grep "$c" "^collect: ${U[d4]}: unenrolled device" "unenrolled device"
expect_grep "$c" "^collect: 16 batch\(es\): 9 verified, 2 duplicate, 4 rejected, 1 unenrolled; [0-9]+ record" "summary"
expect_grep "$B/mosquitto.log" "Received PUBLISH from fs38-collector-g1-[0-9]+ \(d0, q1, r0, m[0-9]+, 'fs38/${U[d1]}/ack'" "ack published"
status_json
check "kinds('d1') == ['forgery']" "d1: one forgery alert"
check "kinds('d2') == ['replay']" "d2: one replay alert"
check "kinds('d3') == ['gap', 'truncation']" "d3: gap and truncation alerts"
check "D('d4')['enrolled'] is False and kinds('d4') == ['unenrolled'] and D('d4')['records'] == 0" "d4: unenrolled"
check "all(D(n)['enrolled'] and D(n)['records'] == D(n)['last_sequence'] + 1 for n in ['d1', 'd2', 'd3'])" "records 0..last, each once"
check "D('d2')['last_sequence'] == ${LAST[d2]} and D('d1')['last_sequence'] == $SAME_LAST and D('d3')['last_sequence'] < ${LAST[d3]}" "positions"
check "'forgery' in [a['kind'] for a in D('d1')['alerts']] and 'seq' in D('d1')['alerts'][0]['detail']" "alert detail names the record"
check "all(set(x) >= {'ueid', 'records', 'last_sequence', 'firmware', 'attestation', 'alerts'} for x in d['devices'])" "JSON shape"
"$FS38" fleet status --db "$DB" >"$T/status.txt"
expect_grep "$T/status.txt" "^${U[d4]} \(not enrolled\)" "text status"

# ---- firmware state from the verified log: installed, confirmed, reverted, refused ----
collector fw --group g1 --until-idle 4 || finish
P2=$COL_PID
expect_rc 0 "d1 update v2" dev d1 update "$T/v2.suit" "$T/v2.img"
push d1
sleep 1 # the collector commits before the next state
expect_rc 0 "fw status" "$FS38" fleet status --db "$DB" --json
cp "$T/out" "$T/status.json"
check "D('d1')['firmware']['state'] == 'installed' and D('d1')['firmware']['sequence'] == 2" "d1 installed"
expect_rc 0 "d1 boot v2" dev d1 boot
expect_rc 0 "d1 confirm" dev d1 confirm
push d1
expect_rc 0 "d2 update v2" dev d2 update "$T/v2.suit" "$T/v2.img"
expect_rc 0 "d2 trial boot" dev d2 boot
expect_rc 0 "d2 boot again without confirming: reverted" dev d2 boot
push d2
expect_rc 0 "d3 update v2" dev d3 update "$T/v2.suit" "$T/v2.img"
expect_rc 0 "d3 boot" dev d3 boot
expect_rc 0 "d3 confirm" dev d3 confirm
expect_rc 1 "d3 offered v1 again" dev d3 update "$T/v1.suit" "$T/v1.img"
push d3
collector_wait "$P2" fw
status_json
check "D('d1')['firmware'] == {'sequence': 2, 'state': 'confirmed', 'running': D('d1')['firmware']['running']}" "d1 confirmed"
check "D('d2')['firmware']['state'] == 'reverted' and D('d2')['firmware']['sequence'] == 2" "d2 reverted"
check "D('d3')['firmware']['state'] == 'refused'" "d3 refused"
check "all(D(n)['last_sequence'] == L for n, L in [('d1', ${LAST[d1]}), ('d2', ${LAST[d2]}), ('d3', ${LAST[d3]})])" "every device's head stored"
check "kinds('d1') == ['forgery'] and kinds('d2') == ['replay'] and kinds('d3') == ['gap', 'truncation']" "no new alert"

# ---- two collectors in one share group: each batch handled once, each record stored once ----
before=$(sql "SELECT COUNT(*) FROM fleet_records")
collector A --group g2 --until-idle 5 || finish
PA=$COL_PID
collector B --group g2 --until-idle 5 || finish
PB=$COL_PID
for i in 1 2 3 4 5; do
    for d in d1 d2 d3; do push $d; done
done
collector_wait "$PA" A
collector_wait "$PB" B
nA=$(sed -n 's/^collect: \([0-9]*\) batch(es).*/\1/p' "$T/col.A")
nB=$(sed -n 's/^collect: \([0-9]*\) batch(es).*/\1/p' "$T/col.B")
CHECKS=$((CHECKS + 1))
[ "$((nA + nB))" = 15 ] && [ "$nA" -gt 0 ] && [ "$nB" -gt 0 ] ||
    fail "two collectors: $nA + $nB batches handled, expected 15 shared by both"
sA=$(sed -n 's/^collect: .* \([0-9]*\) record(s) stored; .*/\1/p' "$T/col.A")
sB=$(sed -n 's/^collect: .* \([0-9]*\) record(s) stored; .*/\1/p' "$T/col.B")
after=$(sql "SELECT COUNT(*) FROM fleet_records")
CHECKS=$((CHECKS + 1))
[ "$((before + sA + sB))" = "$after" ] || fail "records: $before + $sA + $sB stored, the table has $after"
CHECKS=$((CHECKS + 1))
sql "SELECT ueid, COUNT(*), COUNT(DISTINCT seq), MAX(seq) FROM fleet_records GROUP BY ueid ORDER BY ueid" >"$T/counts"
while IFS='|' read -r u n nd mx; do
    [ "$n" = "$nd" ] && [ "$n" = $((mx + 1)) ] || fail "device $u: $n records, $nd distinct, max seq $mx"
done <"$T/counts"
status_json
check "all(D(n)['last_sequence'] == L for n, L in [('d1', ${LAST[d1]}), ('d2', ${LAST[d2]}), ('d3', ${LAST[d3]})])" "both collectors: every head stored"
check "kinds('d1') == ['forgery'] and kinds('d2') == ['replay'] and kinds('d3') == ['gap', 'truncation']" "two collectors: no new alert"

# ---- kill -9 mid-stream; the persistent session brings the rest ----
collector K1 --group g3 --client-id fs38-collector-k || finish
PK=$COL_PID
for i in 1 2 3 4 5 6; do
    for d in d1 d2 d3; do push $d; done
    if [ $i = 2 ]; then
        kill -KILL "$PK"
        wait "$PK" 2>/dev/null
    fi
done
collector K2 --group g3 --client-id fs38-collector-k --until-idle 5 || finish
collector_wait "$COL_PID" K2
expect_grep "$T/col.K1" "^collect: ${U[d1]}: verified" "the first run stored batches"
expect_grep "$T/col.K2" "^collect: ${U[d1]}: verified" "batches queued while the collector was down arrive after the restart"
# the batches queued while it was down arrive together: committed in groups (one transaction each)
CHECKS=$((CHECKS + 1))
kb=$(sed -n 's/^collect: \([0-9]*\) batch(es).*/\1/p' "$T/col.K2")
kt=$(sed -n 's/^collect: .* \([0-9]*\) transaction(s)$/\1/p' "$T/col.K2")
[ -n "$kb" ] && [ -n "$kt" ] && [ "$kt" -lt "$kb" ] || fail "restarted collector: $kb batches in $kt transactions (no group commit)"
status_json
check "all(D(n)['last_sequence'] == L for n, L in [('d1', ${LAST[d1]}), ('d2', ${LAST[d2]}), ('d3', ${LAST[d3]})])" "kill -9: nothing lost"
check "all(D(n)['records'] == D(n)['last_sequence'] + 1 for n in ['d1', 'd2', 'd3'])" "kill -9: records 0..last, each once"
check "kinds('d1') == ['forgery'] and kinds('d2') == ['replay'] and kinds('d3') == ['gap', 'truncation']" "kill -9: no new alert"

# ---- the broker restarts under a running collector: it reconnects, its session is still there ----
collector R --group g5 --client-id fs38-collector-r --until-idle 8 || finish
PR=$COL_PID
kill "$MQ_PID"
wait "$MQ_PID" 2>/dev/null
"$MOSQUITTO" -c "$B/mosquitto.conf" >"$T/mosquitto2.out" 2>&1 &
MQ_PID=$!
for _ in $(seq 50); do
    [ "$(grep -c "Opening ipv4 listen socket on port $BP" "$B/mosquitto.log")" -ge 2 ] && break
    sleep 0.1
done
# Mosquitto 2.0 does not restore shared subscriptions from its persistence file: what is published
# before the collector has resubscribed does not reach the group (the device keeps it until the
# ack; docs/fleet-broker.md). So push once the collector is back.
for _ in $(seq 100); do
    [ "$(grep -c "Received SUBSCRIBE from fs38-collector-r" "$B/mosquitto.log")" -ge 2 ] && break
    sleep 0.1
done
CHECKS=$((CHECKS + 1))
[ "$(grep -c "Received SUBSCRIBE from fs38-collector-r" "$B/mosquitto.log")" -ge 2 ] ||
    fail "the collector did not reconnect and resubscribe after the broker's restart"
push d2
collector_wait "$PR" R
expect_grep "$T/col.R" "^collect: ${U[d2]}: verified: [0-9]+ new record" "the collector reconnected after the broker's restart"
status_json
check "D('d2')['last_sequence'] == ${LAST[d2]}" "broker restart: nothing lost"

# ---- a wrong database key: nothing decrypts, nothing is stored ----
head -c 32 /dev/urandom >"$T/other.key"
chmod 600 "$T/other.key"
"$FS38" collect --broker "$URL" "${CERTS[@]}" --db "$DB" --db-key "$T/other.key" --group g4 --until-idle 5 >"$T/col.W" 2>&1 &
PW=$!
COL_PIDS+=("$PW")
for _ in $(seq 100); do grep -q "^collect: subscribed" "$T/col.W" && break; sleep 0.1; done
push d1
CHECKS=$((CHECKS + 1))
wait "$PW"
[ $? = 2 ] || fail "a collector with the wrong --db-key did not stop with exit 2"
expect_grep "$T/col.W" "does not decrypt with this --db-key" "wrong db key named"
status_json
check "D('d1')['last_sequence'] < ${LAST[d1]}" "nothing stored with a wrong db key"

# ---- attestation: challenge on fs38/<ueid>/challenge, the device's EAT on fs38/<ueid>/attest ----
attest_answer() { # DEV: wait for the challenge in the database, answer with the device's token
    local d=$1 nonce=""
    for _ in $(seq 100); do
        nonce=$(sql "SELECT nonce FROM fleet_challenges WHERE ueid = '${U[$d]}'")
        [ -n "$nonce" ] && break
        sleep 0.1
    done
    [ -n "$nonce" ] || { fail "no challenge for $d in the database"; return 1; }
    expect_rc 0 "$d attest" dev "$d" attest --nonce "$nonce" --out "$T/$d.eat"
    expect_rc 0 "$d answers" dev "$d" log push "$URL" --ca "$T/ca/ca.crt" --file "$T/$d.eat" --topic "fs38/${U[$d]}/attest"
}
"$FS38" fleet attest --broker "$URL" "${CERTS[@]}" --db "$DB" --db-key "$T/db.key" --ueid "${U[d1]}" --timeout 30 \
    >"$T/att.out" 2>&1 &
PA=$!
COL_PIDS+=("$PA")
attest_answer d1
CHECKS=$((CHECKS + 1))
wait "$PA" || { fail "fleet attest exited $?"; sed 's/^/  | /' "$T/att.out" >&2; }
expect_grep "$T/att.out" "^fleet attest: ${U[d1]}: verified \(software " "attestation verified"
expect_grep "$B/mosquitto.log" "Received PUBLISH from fs38-attest-[0-9]+ \(d0, q1, r0, m[0-9]+, 'fs38/${U[d1]}/challenge', \.\.\. \(32 bytes\)\)" "challenge published"
status_json
check "D('d1')['attestation'] is not None and D('d1')['attestation']['verified'] and D('d1')['attestation']['dbgstat'] and D('d1')['attestation']['swversion'] is not None" "claims stored"
check "D('d2')['attestation'] is None" "d2 not attested"
# a stale token (the previous nonce) is refused
"$FS38" fleet attest --broker "$URL" "${CERTS[@]}" --db "$DB" --db-key "$T/db.key" --ueid "${U[d1]}" --timeout 30 \
    >"$T/att2.out" 2>&1 &
PA=$!
COL_PIDS+=("$PA")
for _ in $(seq 100); do grep -q "challenged" "$T/att2.out" && break; sleep 0.1; done
expect_rc 0 "stale answer" dev d1 log push "$URL" --ca "$T/ca/ca.crt" --file "$T/d1.eat" --topic "fs38/${U[d1]}/attest"
CHECKS=$((CHECKS + 1))
wait "$PA"
[ $? = 1 ] || fail "fleet attest accepted a stale token"
expect_grep "$T/att2.out" "^fleet attest: ${U[d1]}: FAILED \(token refused" "stale token refused"
status_json
check "'attestation' in kinds('d1')" "attestation alert"
expect_rc 2 "attest without --ueid/--all" "$FS38" fleet attest --broker "$URL" "${CERTS[@]}" --db "$DB" --db-key "$T/db.key"
expect_rc 1 "attest an unknown device" "$FS38" fleet attest --broker "$URL" "${CERTS[@]}" --db "$DB" --db-key "$T/db.key" --ueid 0100

# ---- publish: payload on the CoAP server, envelope retained on fs38/<class>/update ----
CP=$(peers_free_udp_port)
while [ -z "$CP" ] || ! python3 -c "import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', $CP + 1))" 2>/dev/null; do
    CP=$(peers_free_udp_port)
done
peers_coap_server "$CP" -d 10 -c "$B/broker.crt" -j "$B/broker.key" -R "$T/ca/ca.crt" || { fail "coap-server"; finish; }
expect_rc 0 "fleet publish" "$FS38" fleet publish "$T/v2.suit" "$T/v2.img" --broker "$URL" "${CERTS[@]}" \
    --coap "coaps://127.0.0.1:$((CP + 1))/fw/v2"
CLASS=$(echo "$UUID_CLASS" | tr -d -)
expect_grep "$T/out" "announced, retained, on fs38/$CLASS/update" "class topic from the envelope"
expect_grep "$B/mosquitto.log" "Received PUBLISH from fs38-publish-[0-9]+ \(d0, q1, r1, m[0-9]+, 'fs38/$CLASS/update'" "retained notice"
CHECKS=$((CHECKS + 1))
if ! timeout 30 coap-client-openssl -m get -b 1024 -o "$T/fw.back" "coap://127.0.0.1:$CP/fw/v2" >/dev/null 2>&1 ||
    ! cmp -s "$T/v2.img" "$T/fw.back"; then
    fail "the payload on the CoAP server differs"
fi
expect_rc 2 "publish to coap:// (plaintext)" "$FS38" fleet publish "$T/v2.suit" "$T/v2.img" --broker "$URL" "${CERTS[@]}" \
    --coap "coap://127.0.0.1:$CP/fw/v2"

# ---- racing collectors on one device's overlapping batches: every record stored once ----
expect_rc 0 "enroll d4 (late)" "$FS38" fleet enroll --db "$DB" --db-key "$T/db.key" --cert "$T/d4.crt" --k0 "$T/d4.k0"
for i in 1 2 3 4; do export_to d4 "$T/d4.e$i"; done # each holds every record since 0: they overlap
pids=()
for k in 1 2 3 4 5 6; do
    gc=$((k % 2 ? 4 : 1)) # half of them commit all four batches in one transaction
    "$FS38" fleet import --db "$DB" --db-key "$T/db.key" --ueid "${U[d4]}" --group-commit $gc \
        "$T/d4.e1" "$T/d4.e2" "$T/d4.e3" "$T/d4.e4" >"$T/imp.$k" 2>&1 &
    pids+=($!)
done
for k in 1 2 3 4 5 6; do
    CHECKS=$((CHECKS + 1))
    wait "${pids[$((k - 1))]}"
    rc=$?
    # 0, or 1 when this process came late with an older batch (a replay alert): never an error
    [ $rc = 0 ] || [ $rc = 1 ] || { fail "racing import $k exited $rc"; sed 's/^/  | /' "$T/imp.$k" >&2; }
done
CHECKS=$((CHECKS + 1))
got=$(sql "SELECT COUNT(*), COUNT(DISTINCT seq), MAX(seq) FROM fleet_records WHERE ueid = '${U[d4]}'")
[ "$got" = "$((EXP_LAST + 1))|$((EXP_LAST + 1))|$EXP_LAST" ] ||
    fail "racing imports: records (count|distinct|max) $got, expected $((EXP_LAST + 1))|$((EXP_LAST + 1))|$EXP_LAST"
status_json
check "D('d4')['enrolled'] and D('d4')['last_sequence'] == $EXP_LAST and 'forgery' not in kinds('d4')" "racing imports: d4 complete"
# re-exports that overlap across epoch seals (96 records an epoch): one record more each time, so
# the stored position meets every place around the seals; every batch verifies, no alert
bad=0
for i in $(seq 110); do
    dev d4 log append --code 20 --detail "step $i" >/dev/null 2>&1 || bad=$i
    dev d4 log export --out "$T/d4.step" >"$T/step.out" 2>&1 || bad=$i
    "$FS38" fleet import --db "$DB" --db-key "$T/db.key" --ueid "${U[d4]}" "$T/d4.step" >"$T/step.out" 2>&1 ||
        { bad=$i; break; }
done
CHECKS=$((CHECKS + 1))
[ $bad = 0 ] || { fail "overlapping re-export $bad across the epoch seals"; sed 's/^/  | /' "$T/step.out" >&2; }
expect_grep "$T/step.out" "verified: 2 new record\(s\) [0-9]+\.\.[0-9]+ stored, [0-9]+ already stored" "last re-export"
CHECKS=$((CHECKS + 1))
got=$(sql "SELECT COUNT(*) = MAX(seq) + 1, MAX(seq) > 2 * 96 FROM fleet_records WHERE ueid = '${U[d4]}'")
[ "$got" = "1|1" ] || [ "$got" = "t|t" ] || fail "d4 after the re-exports: $got"
expect_rc 1 "import of a tampered batch" "$FS38" fleet import --db "$DB" --db-key "$T/db.key" --ueid "${U[d1]}" "$T/d1.bad"
expect_grep "$T/out" "rejected \(forgery\)" "import names the forgery"
# the MAC chain intact (k0) but the closing checkpoint signed by another key than the enrolled
# certificate's (a copy of d1's state, so that d1's own log keeps only its own signatures): a
# forgery, nothing stored, d1's position unchanged, the alert says why
keypair rogue
cp -a "$T/d1" "$T/d1x"
before=$(sql "SELECT next_seq FROM fleet_devices WHERE ueid = '${U[d1]}'")
expect_rc 0 "d1 export signed by a rogue key" dev d1x log export --out "$T/d1.rogue" --sign-key "$T/rogue.pem"
expect_rc 1 "import of a batch whose checkpoint another key signed" "$FS38" fleet import --db "$DB" --db-key "$T/db.key" \
    --ueid "${U[d1]}" "$T/d1.rogue"
expect_grep "$T/out" "rejected \(forgery\)" "a checkpoint signed by another key is a forgery"
CHECKS=$((CHECKS + 1))
[ "$(sql "SELECT next_seq FROM fleet_devices WHERE ueid = '${U[d1]}'")" = "$before" ] || fail "a forged batch moved d1's position"
status_json
check "any('checkpoint signature does not verify with the device certificate' in a['detail'] for a in D('d1')['alerts'])" \
    "the alert names the checkpoint signature"
expect_rc 0 "d1 export signed by its own key" dev d1 log export --out "$T/d1.own"
expect_rc 0 "import of the same records signed by the device" "$FS38" fleet import --db "$DB" --db-key "$T/db.key" \
    --ueid "${U[d1]}" "$T/d1.own"

# attest --all: every enrolled device challenged; nobody answers here: exit 1, an alert each
expect_rc 1 "attest --all without answers" "$FS38" fleet attest --broker "$URL" "${CERTS[@]}" --db "$DB" \
    --db-key "$T/db.key" --all --timeout 2
expect_grep "$T/out" "^fleet attest: challenged 4 device\(s\)$" "all four challenged"
expect_grep "$T/out" "^fleet attest: 0 of 4 device\(s\) verified$" "none verified"
status_json
check "all(kinds(n).count('attestation') >= 1 for n in ['d2', 'd3', 'd4'])" "no answer is an attestation alert"

finish
