#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Controls 5, 10, 11 and 13 through the programs: fs38-device consent / telemetry / pseudonym
# (privacy), wireless set / show (wireless policy), lock-debug and identity (attack surface,
# support period, disclosure contact), fs38 attest verify --require-debug-locked. Every command
# and exit code; the security-log events of consent and debug lock; and the token's new claims
# decoded by an independent decoder (python3-cbor2), which also checks the signature.
. "$(dirname "$0")/lib.sh"

: "${FS38_DEVICE:?FS38_DEVICE is not set}"
PY=${FS38_PYTHON:-/usr/bin/python3}
CA="$T/ca"
dev() { "$FS38_DEVICE" --state "$T/d" "$@"; }

expect_rc 0 "keygen" "$FS38" keygen --out "$T/v.pem" --pub "$T/v.pub"
expect_rc 0 "ca init" "$FS38" ca init --out "$CA"
expect_rc 0 "init" dev init --trust "$T/v.pub"
expect_rc 0 "provision (with the security log)" dev provision --csr "$T/d.csr" --cost 10000 --log-key-out "$T/k0"
expect_rc 0 "ca issue" "$FS38" ca issue "$CA" "$T/d.csr" --out "$T/d.crt"
expect_rc 0 "install-cert" dev install-cert "$T/d.crt"

# ---- identity: support period and disclosure contact (control 13) ----
expect_rc 0 "identity" dev identity
expect_grep "$T/out" "^support period: security updates until 2031-12-31$" "identity: default support period"
expect_grep "$T/out" "^vulnerability disclosure: mailto:security@fs38\.example$" "identity: default contact"
printf 'support-until 2030-06-30\ndisclosure https://vendor.example/.well-known/security.txt\nmac 00:11:22:a1:b2:c3\n' >"$T/d/vendor"
expect_rc 0 "identity with a vendor file" dev identity
expect_grep "$T/out" "^support period: security updates until 2030-06-30$" "identity: vendor support period"
expect_grep "$T/out" "^vulnerability disclosure: https://vendor\.example/\.well-known/security\.txt$" "identity: vendor contact"
echo "support-until soon" >"$T/d/bad-vendor"
cp "$T/d/vendor" "$T/vendor.good" && cp "$T/d/bad-vendor" "$T/d/vendor"
expect_rc 2 "a malformed vendor file is refused by attest" dev attest --nonce 00112233445566778899 --out "$T/x.tok"
expect_grep "$T/err" "line 1 is invalid" "vendor file: which line"
cp "$T/vendor.good" "$T/d/vendor"

# ---- consent, telemetry, pseudonyms (control 11) ----
cat >"$T/rec.json" <<'EOF'
{"device_id": "meter-00042", "fw_version": "1.2.3", "uptime_s": 86400, "owner_email": "alice@example.com",
 "lat": 52.520008, "lon": -0.127758, "battery_mv": 3711, "ssid": "HomeNet"}
EOF
expect_rc 0 "consent show before anything" dev consent show diagnostics
expect_grep "$T/out" "^consent: diagnostics never asked" "never asked"
expect_rc 1 "telemetry without consent" dev telemetry --purpose diagnostics --in "$T/rec.json" --out "$T/o.json"
expect_grep "$T/err" "nothing sent: no consent for purpose diagnostics \(never granted\)" "no consent: reason"
CHECKS=$((CHECKS + 1))
[ ! -e "$T/o.json" ] || fail "an output file was written without consent"
expect_rc 1 "pseudonym without consent" dev pseudonym --purpose diagnostics meter-00042
expect_rc 0 "consent grant" dev consent grant diagnostics
expect_grep "$T/out" "^consent: diagnostics granted for notice version 1$" "grant line"
expect_rc 0 "telemetry" dev telemetry --purpose diagnostics --in "$T/rec.json" --out "$T/o.json"
expect_grep "$T/out" "^telemetry: 6 of 8 field\(s\) sent for diagnostics \(2 dropped" "telemetry summary"
expect_rc 0 "pseudonym" dev pseudonym --purpose diagnostics meter-00042
expect_grep "$T/out" "^[0-9a-f]{32}$" "pseudonym: 32 hex digits"
P1=$(cat "$T/out")
expect_rc 0 "pseudonym again: stable" dev pseudonym --purpose diagnostics meter-00042
CHECKS=$((CHECKS + 1))
[ "$(cat "$T/out")" = "$P1" ] || fail "the pseudonym is not stable"
CHECKS=$((CHECKS + 1))
"$PY" - "$T/o.json" "$P1" <<'EOF' || fail "the minimised record is not what the purpose allows"
import json, sys
o = json.load(open(sys.argv[1]))
assert set(o) == {"device_id", "fw_version", "uptime_s", "lat", "lon", "battery_mv"}, o
assert o["device_id"] == sys.argv[2]
assert o["lat"] == 52.52 and o["lon"] == -0.13 and o["uptime_s"] == 86400 and o["fw_version"] == "1.2.3"
assert "meter" not in open(sys.argv[1]).read() and "alice" not in open(sys.argv[1]).read()
EOF
expect_rc 0 "consent grant analytics" dev consent grant analytics
expect_rc 0 "pseudonym for another purpose" dev pseudonym --purpose analytics meter-00042
CHECKS=$((CHECKS + 1))
[ "$(cat "$T/out")" != "$P1" ] || fail "two purposes give the same pseudonym (linkable)"
expect_rc 0 "consent show" dev consent show diagnostics
expect_grep "$T/out" "^consent: diagnostics granted for notice version 1, 20[0-9-]+T" "show: granted with its time"
expect_grep "$T/out" "^kept: [0-9]+ bytes under diagnostics$" "show: the last record is kept"
expect_rc 0 "consent revoke" dev consent revoke diagnostics
expect_grep "$T/out" "what was kept under it is erased" "revoke line"
expect_rc 0 "consent show after revoke" dev consent show diagnostics
expect_grep "$T/out" "^consent: diagnostics revoked" "show: revoked"
expect_grep "$T/out" "^kept: nothing under diagnostics$" "show: nothing kept"
rm -f "$T/o.json"
expect_rc 1 "telemetry after revoke" dev telemetry --purpose diagnostics --in "$T/rec.json" --out "$T/o.json"
expect_grep "$T/err" "\(revoked\)" "revoked: reason"
CHECKS=$((CHECKS + 1))
[ ! -e "$T/o.json" ] || fail "an output file was written after the revocation"
expect_rc 0 "grant again" dev consent grant diagnostics
expect_rc 0 "pseudonym after revoke + grant" dev pseudonym --purpose diagnostics meter-00042
CHECKS=$((CHECKS + 1))
[ "$(cat "$T/out")" != "$P1" ] || fail "a new grant kept the old pseudonym (linkable across the revocation)"
# usage errors and malformed records: exit 2, nothing written
expect_rc 2 "unknown purpose" dev consent grant marketing
expect_grep "$T/err" "unknown purpose 'marketing'" "unknown purpose: reason"
expect_rc 2 "unknown consent action" dev consent allow diagnostics
expect_rc 2 "consent without a purpose" dev consent grant
expect_rc 2 "telemetry without --in" dev telemetry --purpose diagnostics --out "$T/o.json"
expect_rc 2 "pseudonym without --purpose" dev pseudonym meter-00042
echo '{"device_id": {"nested": 1}}' >"$T/nested.json"
expect_rc 2 "a nested value" dev telemetry --purpose diagnostics --in "$T/nested.json" --out "$T/o.json"
expect_grep "$T/err" "field 'device_id' is object" "nested: reason"
echo '{"uptime_s": 1' >"$T/trunc.json"
expect_rc 2 "truncated JSON" dev telemetry --purpose diagnostics --in "$T/trunc.json" --out "$T/o.json"
echo '[1, 2]' >"$T/array.json"
expect_rc 2 "not an object" dev telemetry --purpose diagnostics --in "$T/array.json" --out "$T/o.json"
echo '{"lat": 200}' >"$T/far.json"
expect_rc 2 "a location out of range" dev telemetry --purpose diagnostics --in "$T/far.json" --out "$T/o.json"
CHECKS=$((CHECKS + 1))
[ ! -e "$T/o.json" ] || fail "an output file was written for a malformed record"

# ---- wireless (control 10) ----
expect_rc 0 "wireless show: nothing" dev wireless show
expect_grep "$T/out" "^wireless: not configured$" "not configured"
expect_rc 1 "a listed passphrase" dev wireless set --ssid HomeNet --security wpa2-psk --psk password
expect_grep "$T/err" "refused \(psk-listed\)" "listed: rule"
expect_rc 1 "a short passphrase" dev wireless set --ssid HomeNet --security wpa2-psk --psk 'xK9!short'
expect_grep "$T/err" "refused \(psk-short\)" "short: rule"
expect_rc 1 "a passphrase from the SSID" dev wireless set --ssid HomeNet --security wpa2-psk --psk 'HomeNet-2024-secure'
expect_grep "$T/err" "derived from the SSID" "SSID: reason"
expect_rc 1 "a passphrase from the MAC (vendor file)" dev wireless set --ssid Lab --security wpa2-psk --psk 'router-a1b2c3-key'
expect_grep "$T/err" "derived from the MAC address" "MAC: reason"
UEID=$(sed -n 's/^ueid: //p' <(dev identity))
expect_rc 1 "a passphrase from the serial number (UEID)" dev wireless set --ssid Lab --security wpa2-psk --psk "x-$UEID"
expect_grep "$T/err" "derived from the serial number" "serial: reason"
expect_rc 1 "SAE without PMF" dev wireless set --ssid Lab --security wpa3-sae --psk 'k7Qz-Vw9r-Lx2p-Ty4m' --pmf optional
expect_grep "$T/err" "refused \(pmf\)" "PMF: rule"
expect_rc 2 "open networks cannot be asked for" dev wireless set --ssid Lab --security open --psk x
expect_rc 2 "set without --psk" dev wireless set --ssid Lab --security wpa3-sae
expect_rc 2 "unknown action" dev wireless forget
expect_rc 0 "wireless show: still nothing (refusals change nothing)" dev wireless show
expect_grep "$T/out" "^wireless: not configured$" "refusals stored nothing"
expect_rc 0 "WPA3-SAE accepted" dev wireless set --ssid Lab --security wpa3-sae --psk 'k7Qz-Vw9r-Lx2p-Ty4m'
expect_grep "$T/out" "^wireless: wpa3-sae network 'Lab' accepted \(PMF required\)" "accepted line"
expect_no_grep "$T/out" "k7Qz" "set does not print the passphrase"
expect_rc 0 "wireless show" dev wireless show
expect_grep "$T/out" "^ssid: Lab$" "show: ssid"
expect_grep "$T/out" "^security: wpa3-sae$" "show: security"
expect_grep "$T/out" "^psk: set \(sealed in the store, never shown\)$" "show: psk hidden"
expect_no_grep "$T/out" "k7Qz" "show does not print the passphrase"
CHECKS=$((CHECKS + 1))
! grep -qa "k7Qz-Vw9r" "$T/d/flash.bin" || fail "the passphrase is in the flash in the clear"

# ---- debug lock and attestation (controls 5 and 13) ----
printf '# enabled network services\ncoap-client\nmqtt-client\n' >"$T/d/services"
NONCE=$("$FS38" attest nonce)
expect_rc 0 "attest (debug open)" dev attest --nonce "$NONCE" --out "$T/open.tok"
expect_rc 0 "verify shows the claims" "$FS38" attest verify --ca "$CA" "$T/open.tok" --nonce "$NONCE"
expect_grep "$T/out" "^debug: enabled$" "verify: dbgstat enabled"
expect_grep "$T/out" "^debug ports: JTAG/SWD open, UART console enabled, test modes on, no permanent lock$" "verify: ports"
expect_grep "$T/out" "^network services: coap-client, mqtt-client$" "verify: services"
expect_grep "$T/out" "^secure boot: enforced$" "verify: secure boot"
expect_grep "$T/out" "^support period: security updates until 2030-06-30$" "verify: support period"
expect_grep "$T/out" "^vulnerability disclosure: https://vendor\.example/\.well-known/security\.txt$" "verify: contact"
expect_rc 1 "--require-debug-locked refuses an open device" "$FS38" attest verify --ca "$CA" "$T/open.tok" \
    --nonce "$NONCE" --require-debug-locked
expect_grep "$T/err" "debug ports are not locked \(dbgstat enabled" "refusal: reason"
expect_grep "$T/out" "^debug: enabled$" "the refused token's claims are shown"
expect_rc 1 "--require-debug-locked --json" "$FS38" attest verify --ca "$CA" "$T/open.tok" --nonce "$NONCE" \
    --require-debug-locked --json
expect_grep "$T/out" '^\{"valid":false,"reason":"the device' "json refusal"
expect_rc 2 "lock-debug takes no argument" dev lock-debug now
expect_rc 0 "lock-debug" dev lock-debug
expect_grep "$T/out" "^lock-debug: debug ports locked for good: .*dbgstat disabled-permanently$" "lock-debug line"
expect_rc 0 "lock-debug again" dev lock-debug
expect_grep "$T/out" "^lock-debug: already locked" "lock-debug is idempotent"
NONCE=$("$FS38" attest nonce)
expect_rc 0 "attest (debug locked)" dev attest --nonce "$NONCE" --out "$T/locked.tok"
expect_rc 0 "--require-debug-locked accepts a locked device" "$FS38" attest verify --ca "$CA" "$T/locked.tok" \
    --nonce "$NONCE" --require-debug-locked
expect_grep "$T/out" "^debug: disabled-permanently$" "verify: dbgstat"
expect_grep "$T/out" "^debug ports: JTAG/SWD locked, UART console disabled, test modes off, locked permanently \(OTP\)$" "verify: locked ports"
expect_rc 0 "verify --json" "$FS38" attest verify --ca "$CA" "$T/locked.tok" --nonce "$NONCE" --json
CHECKS=$((CHECKS + 1))
"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["valid"] and j["debug_locked"] and j["debug_ports"]["permanent"] and j["services"]==["coap-client","mqtt-client"] and j["support_until"]=="2030-06-30"' \
    "$T/out" || fail "verify --json lacks the new claims"

# an independent decoder: python3-cbor2 + cryptography check the signature and the claims
CHECKS=$((CHECKS + 1))
"$PY" - "$T/locked.tok" "$T/open.tok" "$T/d.crt" <<'EOF' || fail "independent decoding of the new claims"
import sys, cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
key = x509.load_pem_x509_certificate(open(sys.argv[3], "rb").read()).public_key()
def claims(path):
    tok = cbor2.loads(open(path, "rb").read())
    assert tok.tag == 18
    prot, unprot, payload, sig = tok.value
    tbs = cbor2.dumps(["Signature1", prot, b"", payload])
    key.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")), tbs,
               ec.ECDSA(hashes.SHA256()))
    c = cbor2.loads(payload)
    assert list(c.keys()) == sorted(c.keys(), key=lambda k: cbor2.dumps(k)), "keys not in deterministic order"
    return c
locked, opened = claims(sys.argv[1]), claims(sys.argv[2])
# dbgstat (RFC 9711, key 263): 3 = disabled-permanently after lock-debug, 0 = enabled before
assert locked[263] == 3 and opened[263] == 0, (locked[263], opened[263])
assert locked[-70003] == 0xF and opened[-70003] == 0          # fs38-debug bits
assert locked[-70004] == ["coap-client", "mqtt-client"]       # fs38-services
assert locked[-70005] is True                                 # fs38-secure-boot
assert locked[-70006] == "2030-06-30"                         # fs38-support-until
assert locked[-70007] == "https://vendor.example/.well-known/security.txt"  # fs38-disclosure
assert locked[-70002] == 2                                    # lifecycle operational
EOF

# ---- the security log holds the consent, wireless and debug-lock events ----
expect_rc 0 "log export" dev log export --out "$T/log.b"
expect_rc 0 "log verify" "$FS38" log verify --k0 "$T/k0" "$T/log.b"
expect_grep "$T/out" "OK  consent-granted .*\"diagnostics\"" "log: consent granted"
expect_grep "$T/out" "OK  consent-revoked .*\"diagnostics\"" "log: consent revoked"
expect_grep "$T/out" "OK  wireless-refused " "log: wireless refused"
expect_grep "$T/out" "OK  wireless-set .*\"wpa3-sae\"" "log: wireless set"
expect_grep "$T/out" "OK  debug-locked " "log: debug locked"
expect_lines <(grep "OK  debug-locked " "$T/out") 1 "log: one debug-locked event (the second lock changed nothing)"

finish
