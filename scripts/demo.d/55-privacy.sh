# SPDX-License-Identifier: Apache-2.0
# Chapter 5b — what the device sends and how it can be reached: consent and minimised,
# pseudonymised telemetry (control 11), the wireless policy (control 10), the debug lock in the
# attestation token (control 5) with the support period and disclosure contact (control 13).
# Sourced by scripts/demo.sh: $FS38, $DEV, $W, $STATE, $DEVICE_CA and the helpers.
# Leaves the device's debug ports locked (one-way): later chapters do not use the device.

chapter "5b. Privacy, wireless policy and a locked debug port, visible in attestation"

cat >"$W/record.json" <<'EOF'
{"device_id": "meter-00042", "fw_version": "1.2.3", "uptime_s": 86400, "owner_email": "alice@example.com",
 "lat": 52.520008, "lon": 13.404954, "battery_mv": 3711, "ssid": "HomeNet"}
EOF
step "A telemetry record as the application produces it: an identifier, an e-mail address, a precise location, the Wi-Fi name"
show "cat \$W/record.json"
tidy <"$W/record.json"

step "Without the user's consent for 'diagnostics', nothing is produced: exit 1 and no output file"
refuse "no consent for purpose diagnostics" "$DEV" --state "$STATE" telemetry --purpose diagnostics --in "$W/record.json" --out "$W/sent.json"
[ ! -e "$W/sent.json" ] || { echo "demo: an output file was written without consent" >&2; exit 1; }

step "The user consents (notice version 1): a sealed record and a security-log event"
expect "diagnostics granted for notice version 1" "$DEV" --state "$STATE" consent grant diagnostics

step "Minimised: only the purpose's allow-list; the identifier pseudonymised (HMAC-SHA-256 under a key derived inside the device), the location coarsened to 2 decimals"
expect "6 of 8 field(s) sent for diagnostics" "$DEV" --state "$STATE" telemetry --purpose diagnostics --in "$W/record.json" --out "$W/sent.json"
show "cat \$W/sent.json"
cat "$W/sent.json"
! grep -q -e meter -e alice -e HomeNet -e 52.520008 "$W/sent.json" || { echo "demo: personal data left the device" >&2; exit 1; }
PN=$("$DEV" --state "$STATE" pseudonym --purpose diagnostics meter-00042)
grep -qF "\"device_id\": \"$PN\"" "$W/sent.json" || { echo "demo: the identifier is not its pseudonym" >&2; exit 1; }
echo "   (device_id is the pseudonym of meter-00042 for this purpose: $PN)"

step "The user revokes: what was kept under the purpose is erased, and nothing is sent any more"
expect "what was kept under it is erased" "$DEV" --state "$STATE" consent revoke diagnostics
expect "kept: nothing under diagnostics" "$DEV" --state "$STATE" consent show diagnostics
rm -f "$W/sent.json"
refuse "(revoked)" "$DEV" --state "$STATE" telemetry --purpose diagnostics --in "$W/record.json" --out "$W/sent.json"
[ ! -e "$W/sent.json" ] || { echo "demo: an output file was written after the revocation" >&2; exit 1; }

step "Wireless policy: a weak Wi-Fi passphrase (a common password, one derived from the SSID) is refused; WPA3-SAE with PMF and a strong passphrase is sealed in the store"
refuse "psk-listed" "$DEV" --state "$STATE" wireless set --ssid HomeNet --security wpa2-psk --psk password
refuse "derived from the SSID" "$DEV" --state "$STATE" wireless set --ssid HomeNet --security wpa2-psk --psk HomeNet-2024-secure
expect "accepted (PMF required)" "$DEV" --state "$STATE" wireless set --ssid HomeNet --security wpa3-sae --psk 'k7Qz-Vw9r-Lx2p-Ty4m'
expect "psk: set (sealed in the store, never shown)" "$DEV" --state "$STATE" wireless show

step "The token says the debug port is open (the reference device starts with its OTP bit clear): a verifier that requires a locked device refuses it"
NONCE=$("$FS38" attest nonce)
run "$DEV" --state "$STATE" attest --nonce "$NONCE" --out "$W/open.tok"
refuse "debug ports are not locked" "$FS38" attest verify --ca "$DEVICE_CA" "$W/open.tok" --nonce "$NONCE" --require-debug-locked

step "Production lock: one-way (an OTP bit, a monotonic counter on the POSIX port) and a security-log event"
expect "dbgstat disabled-permanently" "$DEV" --state "$STATE" lock-debug

step "The new token carries dbgstat (RFC 9711) = disabled-permanently, the port bits, the services, secure boot, the support period and the disclosure contact; the verifier now accepts it"
NONCE=$("$FS38" attest nonce)
run "$DEV" --state "$STATE" attest --nonce "$NONCE" --out "$W/locked.tok"
expect "debug: disabled-permanently" "$FS38" attest verify --ca "$DEVICE_CA" "$W/locked.tok" --nonce "$NONCE" --require-debug-locked
expect "support period: security updates until" "$DEV" --state "$STATE" identity
