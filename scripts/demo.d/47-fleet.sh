# SPDX-License-Identifier: Apache-2.0
# Chapter 4c — the fleet side (issue 11): Mosquitto configured by `fs38 fleet broker-config`,
# devices enrolled in a database (SQLite), their logs pushed over MQTT/TLS, verified and stored
# exactly once by `fs38 collect`, tampering and strangers raised as alerts (docs/fleet-broker.md);
# the device's agent `fs38-device run --once` freeing its ring on the collector's ack and answering
# a `fs38 fleet attest` challenge (docs/fleet.md).
# Sourced by scripts/demo.sh: $FS38, $DEV, $W, $STATE, the helpers, and what the earlier chapters
# left (chapter 3: DEVICE_CA, DEVICE_CERT and LOG_K0, the k0 provisioning handed out; chapter 1:
# the vendor key, VENDOR, CLASS). The broker listens on 127.0.0.1 only and is stopped by PID.

chapter "4c. The fleet: enrolment, logs collected and verified over MQTT, tampering raised as alerts"

[ -n "${DEVICE_CA:-}" ] && [ -f "${DEVICE_CERT:-}" ] && [ -f "${LOG_K0:-}" ] ||
  { echo "demo: chapter 47 needs chapter 3's fleet CA, device certificate and k0" >&2; exit 1; }
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
[ -x "$MOSQUITTO" ] || { echo "demo: mosquitto is missing (scripts/deps)" >&2; exit 1; }
FL="$W/fleet"
mkdir -p "$FL"
FLEET_MQ_PID=
FLEET_COL_PID=
FLEET_ATT_PID=
fleet_stop() {
  local p
  for p in $FLEET_COL_PID $FLEET_ATT_PID $FLEET_MQ_PID; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  FLEET_COL_PID= FLEET_ATT_PID= FLEET_MQ_PID=
}
trap 'fleet_stop; rm -rf "$W"' EXIT
DB="$FL/fleet.db"
DBKEY="$FL/db.key"
FCERTS=(--ca "$DEVICE_CA" --cert "$FL/broker/collector.crt" --key "$FL/broker/collector.key")

step "fs38 fleet broker-config: Mosquitto's settings for the fleet — a TLS listener on 127.0.0.1, client certificates from the fleet CA, the certificate's CN (the UEID) as user name, an ACL that ties every topic to it"
BP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run "$FS38" fleet broker-config --ca "$DEVICE_CA" --out "$FL/broker" --port "$BP"
grep -E '^(listener|require_certificate|use_identity_as_username|allow_anonymous|tls_version|acl_file)' \
  "$FL/broker/mosquitto.conf" | sed 's/^/   | /' | tidy
grep -E '^(pattern|user|topic)' "$FL/broker/acl" | sed 's/^/   | acl: /'
echo "log_type debug" >>"$FL/broker/mosquitto.conf"
echo "   (log_type debug added here, so that the broker's log shows every PUBLISH)"
show "$MOSQUITTO" -c "$FL/broker/mosquitto.conf"
"$MOSQUITTO" -c "$FL/broker/mosquitto.conf" >"$FL/mosquitto.out" 2>&1 &
FLEET_MQ_PID=$!
for _ in $(seq 50); do
  grep -q "Opening ipv4 listen socket on port $BP" "$FL/broker/mosquitto.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "Opening ipv4 listen socket on port $BP" "$FL/broker/mosquitto.log" 2>/dev/null ||
  { cat "$FL/mosquitto.out" >&2; echo "demo: mosquitto did not start from broker-config" >&2; exit 1; }
echo "   (mosquitto PID $FLEET_MQ_PID, mqtts://127.0.0.1:$BP)"
URL="mqtts://127.0.0.1:$BP"
NETF=(--ca "$DEVICE_CA/ca.crt" --timeout 5000)

step "Two more devices from the same factory: device-2, and device-3, which the fleet will never enrol"
for d in device-2 device-3; do
  "$DEV" --state "$FL/$d" init --trust "$W/vendor.pub" --vendor-id "$VENDOR" --class-id "$CLASS" >/dev/null
  "$DEV" --state "$FL/$d" flash-slot A "$W/fw-v1.suit" "$W/fw-v1.bin" >/dev/null
  "$DEV" --state "$FL/$d" boot >/dev/null 2>&1
  "$DEV" --state "$FL/$d" provision --csr "$FL/$d.csr" --cost 10000 --log-key-out "$FL/$d.k0" >"$FL/$d.prov"
  "$FS38" ca issue "$DEVICE_CA" "$FL/$d.csr" --out "$FL/$d.crt" >/dev/null
  "$DEV" --state "$FL/$d" install-cert "$FL/$d.crt" >/dev/null
  echo "   $d: UEID $(sed -n 's/^ueid: //p' "$FL/$d.prov"), certificate from the fleet CA"
done
U1=$("$DEV" --state "$STATE" identity | sed -n 's/^ueid: //p')
U2=$(sed -n 's/^ueid: //p' "$FL/device-2.prov")
U3=$(sed -n 's/^ueid: //p' "$FL/device-3.prov")
[ -n "$U1" ] && [ -n "$U2" ] && [ -n "$U3" ] || { echo "demo: a device has no UEID" >&2; exit 1; }

step "Enrolment of the demo device (chapter 3's certificate, and the k0 its provisioning handed out) and of device-2: the UEID is taken from the certificate (which must chain to the fleet CA); k0 is stored only encrypted under the database key (AES-256-GCM, the UEID as associated data)"
echo "   (the database: a SQLite file; tests/cli/fleet.sh runs the same against PostgreSQL)"
expect "fleet enroll: device $U1 enrolled" "$FS38" fleet enroll --db "$DB" --db-key "$DBKEY" --cert "$DEVICE_CERT" --k0 "$LOG_K0" --ca "$DEVICE_CA"
expect "fleet enroll: device $U2 enrolled" "$FS38" fleet enroll --db "$DB" --db-key "$DBKEY" --cert "$FL/device-2.crt" --k0 "$FL/device-2.k0"
ls -l "$DBKEY" | awk '{print "   " $1 "  db.key (" $5 " bytes)"}'
if grep -aqiF "$(tr -d ' \n' <"$LOG_K0")" "$DB"*; then echo "demo: a k0 is in the database in clear" >&2; exit 1; fi
echo "   (k0 is not in the database files in clear)"
step "Refusal: the same device enrolled twice; a certificate from another CA"
refuse "already enrolled" "$FS38" fleet enroll --db "$DB" --db-key "$DBKEY" --cert "$DEVICE_CERT" --k0 "$LOG_K0"
"$FS38" ca init --out "$FL/other-ca" >/dev/null
"$FS38" ca issue "$FL/other-ca" "$FL/device-3.csr" --out "$FL/device-3.other.crt" >/dev/null
refuse "does not chain to the CA" "$FS38" fleet enroll --db "$DB" --db-key "$DBKEY" --cert "$FL/device-3.other.crt" --k0 "$FL/device-3.k0"

step "fs38 collect subscribes to \$share/fs38/fs38/+/log (a share group: more collectors spread the load) with the collector certificate broker-config issued"
show "$FS38" collect --broker "$URL" "${FCERTS[@]}" --db "$DB" --db-key "$DBKEY" --until-idle 3 '&'
"$FS38" collect --broker "$URL" "${FCERTS[@]}" --db "$DB" --db-key "$DBKEY" --until-idle 3 >"$FL/collect.out" 2>&1 &
FLEET_COL_PID=$!
for _ in $(seq 100); do
  grep -q "^collect: subscribed" "$FL/collect.out" && break
  kill -0 "$FLEET_COL_PID" 2>/dev/null || break
  sleep 0.1
done
grep -q "^collect: subscribed" "$FL/collect.out" || { cat "$FL/collect.out" >&2; echo "demo: the collector did not subscribe" >&2; exit 1; }
tidy <"$FL/collect.out" | sed 's/^/   | /'

step "The devices push their security logs (topic fs38/<UEID>/log, QoS 1)"
expect "QoS 1 acknowledged" "$DEV" --state "$STATE" log push "$URL" "${NETF[@]}"
expect "QoS 1 acknowledged" "$DEV" --state "$FL/device-2" log push "$URL" "${NETF[@]}"

step "Refusal: a tampered batch — the device's export with one byte of its last record changed, pushed with log push --file"
"$DEV" --state "$STATE" log append --code attestation --severity 6 --detail "fleet check-in" >/dev/null
run "$DEV" --state "$STATE" log export --out "$FL/tampered.cbor"
n=$(stat -c %s "$FL/tampered.cbor")
printf 'X' | dd of="$FL/tampered.cbor" bs=1 seek=$((n - 40)) conv=notrunc status=none
echo "   (byte $((n - 40)) of $n changed)"
expect "QoS 1 acknowledged" "$DEV" --state "$STATE" log push "$URL" "${NETF[@]}" --file "$FL/tampered.cbor"

step "Refusal: device-3 (a valid certificate from the fleet CA, but never enrolled) pushes its log: the broker lets it publish under its own UEID, the collector has no key for it"
expect "QoS 1 acknowledged" "$DEV" --state "$FL/device-3" log push "$URL" "${NETF[@]}"

step "The next untampered push of the demo device verifies from where its stored chain ends"
expect "QoS 1 acknowledged" "$DEV" --state "$STATE" log push "$URL" "${NETF[@]}"

step "The collector stops after 3 s without a message (--until-idle 3); what it did with each batch:"
show "wait $FLEET_COL_PID"
wait "$FLEET_COL_PID" || { tidy <"$FL/collect.out"; echo "demo: the collector failed" >&2; exit 1; }
FLEET_COL_PID=
tail -n +2 "$FL/collect.out" | tidy | sed 's/^/   | /'
for want in "$U1: verified" "$U2: verified" "$U1: rejected (forgery)" "$U3: unenrolled device" \
    "5 batch(es): 3 verified, 0 duplicate, 1 rejected, 1 unenrolled"; do
  grep -qF -- "$want" "$FL/collect.out" || { echo "demo: expected the collector to report '$want'" >&2; exit 1; }
done
grep -qE "Received PUBLISH from fs38-collector-fs38-[0-9]+ \(d0, q1, r0, m[0-9]+, 'fs38/$U1/ack'" "$FL/broker/mosquitto.log" ||
  { echo "demo: no ack published on fs38/$U1/ack" >&2; exit 1; }
grep -E "Received PUBLISH from fs38-collector-.*'fs38/$U1/ack'" "$FL/broker/mosquitto.log" | tail -n 1 | sed 's/^[0-9]*: /   | mosquitto.log: /'
echo "   (after each commit — never before — the collector publishes the stored position on fs38/<UEID>/ack)"

step "fs38 fleet status: per device the verified records, the last sequence, the firmware state derived from verified log records only, and the alerts"
run "$FS38" fleet status --db "$DB"
show "$FS38 fleet status --db $DB --json | python3 -m json.tool"
"$FS38" fleet status --db "$DB" --json >"$FL/status.json"
python3 -m json.tool "$FL/status.json" | tidy | sed 's/^/   | /'
python3 - "$FL/status.json" "$U1" "$U2" "$U3" <<'PY' ||
import json, sys
d = {x["ueid"]: x for x in json.load(open(sys.argv[1]))["devices"]}
u1, u2, u3 = sys.argv[2:5]
kinds = lambda u: sorted(a["kind"] for a in d[u]["alerts"])
assert d[u1]["enrolled"] and d[u1]["records"] == d[u1]["last_sequence"] + 1 > 0, "device 1: records 0..last"
assert d[u1]["firmware"]["state"] == "confirmed", "device 1: chapter 4b's confirmed update, from its verified log"
assert kinds(u1) == ["forgery"] and "seq" in d[u1]["alerts"][0]["detail"], "device 1: one forgery alert naming the record"
assert d[u2]["enrolled"] and d[u2]["records"] > 0 and kinds(u2) == [], "device 2: verified, no alert"
assert not d[u3]["enrolled"] and d[u3]["records"] == 0 and kinds(u3) == ["unenrolled"], "device 3: unenrolled"
print("   (checked: %s records stored for the demo device, %s for device-2; alerts: forgery for the demo device, unenrolled for device-3)"
      % (d[u1]["records"], d[u2]["records"]))
PY
  { echo "demo: fleet status does not show what happened" >&2; exit 1; }

# the device side: fs38-device run, the fleet agent
step "The device's agent: fs38-device run --once connects with a persistent session (user name = its UEID), pushes its log from its release point and frees its ring once the collector's ack arrives"
"$FS38" collect --broker "$URL" "${FCERTS[@]}" --db "$DB" --db-key "$DBKEY" --until-idle 5 >"$FL/collect2.out" 2>&1 &
FLEET_COL_PID=$!
for _ in $(seq 100); do grep -q "^collect: subscribed" "$FL/collect2.out" && break; sleep 0.1; done
expect "ring released" "$DEV" --state "$STATE" run --broker "$URL" "${NETF[@]}" --once
expect "released up to" "$DEV" --state "$STATE" log status

step "fs38 fleet attest: a fresh nonce on fs38/<UEID>/challenge, which the broker keeps in the device's session; the device's next run answers with its token, verified with the enrolled certificate and stored"
show "$FS38" fleet attest --broker "$URL" "${FCERTS[@]}" --db "$DB" --db-key "$DBKEY" --ueid "$U1" --timeout 30 '&'
"$FS38" fleet attest --broker "$URL" "${FCERTS[@]}" --db "$DB" --db-key "$DBKEY" --ueid "$U1" --timeout 30 >"$FL/attest.out" 2>&1 &
FLEET_ATT_PID=$!
for _ in $(seq 100); do grep -q "challenged" "$FL/attest.out" && break; sleep 0.1; done
expect "challenge (32-byte nonce) answered" "$DEV" --state "$STATE" run --broker "$URL" "${NETF[@]}" --once
wait "$FLEET_ATT_PID" || { tidy <"$FL/attest.out"; echo "demo: fleet attest did not verify the answer" >&2; exit 1; }
FLEET_ATT_PID=
tidy <"$FL/attest.out" | sed 's/^/   | /'
wait "$FLEET_COL_PID" || { tidy <"$FL/collect2.out"; echo "demo: the collector failed" >&2; exit 1; }
FLEET_COL_PID=
echo "   the collector, meanwhile (both runs pushed from the device's release point; each push acknowledged after its commit):"
tail -n +2 "$FL/collect2.out" | tidy | sed 's/^/   | /'
[ "$(grep -c "^collect: $U1: verified" "$FL/collect2.out")" -eq 2 ] ||
  { echo "demo: the collector did not store both of the agent's pushes" >&2; exit 1; }
grep -q "^fleet attest: $U1: verified" "$FL/attest.out" || { echo "demo: fleet attest did not verify the token" >&2; exit 1; }
expect "$U1: " "$FS38" fleet status --db "$DB"
"$FS38" fleet status --db "$DB" --json >"$FL/status2.json"
python3 - "$FL/status2.json" "$U1" <<'PY' || { echo "demo: the attestation is not in fleet status" >&2; exit 1; }
import json, sys
d = {x["ueid"]: x for x in json.load(open(sys.argv[1]))["devices"]}[sys.argv[2]]
a = d["attestation"]
assert a and a["verified"], "attested"
print("   (fleet status --json: attestation verified, software %s %s, debug %s, lifecycle %s)"
    % (a["swname"], a["swversion"], a["dbgstat"], a["lifecycle"]))
PY

step "Refusal: a batch whose MAC chain holds — whoever has k0, say a copy of the database and its key — but whose closing checkpoint another key signed (a copy of device-2 exporting with --sign-key): the collector checks every checkpoint against the enrolled certificate's key, so k0 alone cannot write a device's log"
cp -a "$FL/device-2" "$FL/device-2.copy"
"$FS38" keygen --out "$FL/rogue.pem" --pub "$FL/rogue.pub.pem" >/dev/null
run "$DEV" --state "$FL/device-2.copy" log export --out "$FL/rogue.batch" --sign-key "$FL/rogue.pem"
refuse "rejected (forgery)" "$FS38" fleet import --db "$DB" --db-key "$DBKEY" --ueid "$U2" "$FL/rogue.batch"
"$FS38" fleet status --db "$DB" --json >"$FL/status3.json"
python3 - "$FL/status3.json" "$U2" <<'PY' || { echo "demo: the forged checkpoint raised no alert" >&2; exit 1; }
import json, sys
d = {x["ueid"]: x for x in json.load(open(sys.argv[1]))["devices"]}[sys.argv[2]]
a = [x for x in d["alerts"] if "checkpoint signature" in x["detail"]]
assert a and a[-1]["kind"] == "forgery", "a forgery alert naming the checkpoint signature"
print("   (fleet status: device-2 alert '%s': %s)" % (a[-1]["kind"], a[-1]["detail"][:120]))
PY

fleet_stop
trap 'rm -rf "$W"' EXIT
