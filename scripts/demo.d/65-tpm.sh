# SPDX-License-Identifier: Apache-2.0
# Chapter 6b — a TPM 2.0 as the device's secure element (issue 15, docs/secure-elements.md): the
# device key, the sealing root and the monotonic counters inside swtpm (libtpms, a real TPM 2.0
# implementation), so that copying the flash back no longer rolls the device back.
# Sourced by scripts/demo.sh: $FS38, $DEV, $W, the helpers, and what chapters 1 and 3 left (the
# vendor key, fw-v1/fw-v2 (sequences 1, 2), VENDOR, CLASS; DEVICE_CA). swtpm listens on
# 127.0.0.1 on free ports, keeps its state in $W/tpmstate, and is stopped by PID.

chapter "6b. A TPM 2.0 keeps the device key, the sealing root and the anti-rollback counters"

for b in swtpm tpm2_getcap tpm2_readpublic; do
  command -v "$b" >/dev/null || { echo "demo: $b is missing (scripts/deps installs swtpm, tpm2-tools)" >&2; exit 1; }
done
[ -n "${DEVICE_CA:-}" ] && [ -f "$W/vendor.pub" ] && [ -f "$W/fw-v2.suit" ] ||
  { echo "demo: chapter 65 needs chapter 1's vendor key and firmware and chapter 3's CA" >&2; exit 1; }
TS="$W/tpm-device"
# two free TCP ports P, P+1 on 127.0.0.1: the TPM on P, swtpm's control channel on P+1
PEERS_DIR="$W/peers"
mkdir -p "$PEERS_DIR"
# shellcheck source=/dev/null
. "$here/tests/cli/peers.sh"
TP=$(peers_free_port_pair tcp)
[ -n "$TP" ] || { echo "demo: no free port pair for swtpm" >&2; exit 1; }
TCTI="swtpm:host=127.0.0.1,port=$TP"
export TPM2TOOLS_TCTI=$TCTI TSS2_LOG=all+none
TPM_PID=
tpm_stop() { [ -z "$TPM_PID" ] || { kill "$TPM_PID" 2>/dev/null; wait "$TPM_PID" 2>/dev/null; TPM_PID=; }; }
trap 'tpm_stop; rm -rf "$W"' EXIT
mkdir -p "$W/tpmstate"

step "swtpm: a TPM 2.0 on 127.0.0.1:$TP, its state (the TPM's own non-volatile memory) in \$W/tpmstate"
show swtpm socket --tpm2 --server "type=tcp,port=$TP,bindaddr=127.0.0.1" --ctrl "type=tcp,port=$((TP + 1)),bindaddr=127.0.0.1" \
  --tpmstate "dir=$W/tpmstate" --flags not-need-init,startup-clear
swtpm socket --tpm2 --server type=tcp,port="$TP",bindaddr=127.0.0.1 \
  --ctrl type=tcp,port=$((TP + 1)),bindaddr=127.0.0.1 --tpmstate dir="$W/tpmstate" \
  --flags not-need-init,startup-clear >"$W/swtpm.log" 2>&1 &
TPM_PID=$!
for _ in $(seq 50); do tpm2_getcap properties-fixed >/dev/null 2>&1 && break; sleep 0.1; done
tpm2_getcap properties-fixed >/dev/null 2>&1 || { cat "$W/swtpm.log" >&2; echo "demo: swtpm did not start" >&2; exit 1; }
echo "   (PID $TPM_PID; tpm2-tools reach it with TPM2TOOLS_TCTI=$TCTI)"

step "A new device bound to the TPM: the sealing key and the NV counters are created in it; the device keeps no HUK file"
expect "sealing key 0x81380002" "$DEV" --state "$TS" init --trust "$W/vendor.pub" --vendor-id "$VENDOR" --class-id "$CLASS" --tpm "$TCTI"
[ ! -e "$TS/huk" ] || { echo "demo: a TPM device keeps a HUK file" >&2; exit 1; }
run tpm2_getcap handles-persistent

step "Provisioning generates the device key inside the TPM (0x81380001): fixedTPM, sensitiveDataOrigin — it never exists outside it"
run "$DEV" --state "$TS" provision --csr "$W/tpm-device.csr" --cost 10000
run tpm2_getcap handles-persistent
grep -q 0x81380001 <<<"$(tpm2_getcap handles-persistent)" || { echo "demo: no device key in the TPM" >&2; exit 1; }
show tpm2_readpublic -c 0x81380001
attrs=$(tpm2_readpublic -c 0x81380001)
grep -A1 -E '^(attributes|type|curve-id):' <<<"$attrs" | grep -v -e '^--' | sed 's/^/   /'
grep -q 'fixedtpm.*sensitivedataorigin' <<<"$attrs" || { echo "demo: the device key's attributes" >&2; exit 1; }
openssl req -in "$W/tpm-device.csr" -noout -pubkey | openssl pkey -pubin -outform DER >"$W/csr.der" 2>/dev/null
tpm2_readpublic -c 0x81380001 -f pem -o "$W/tpm.pub" >/dev/null 2>&1
openssl pkey -pubin -in "$W/tpm.pub" -outform DER >"$W/tpm.der" 2>/dev/null
cmp -s "$W/csr.der" "$W/tpm.der" || { echo "demo: the CSR's key is not the TPM's" >&2; exit 1; }
echo "   (the CSR carries that key: openssl req -pubkey = tpm2_readpublic -f pem)"
run "$FS38" ca issue "$DEVICE_CA" "$W/tpm-device.csr" --out "$W/tpm-device.crt"
expect "lifecycle operational" "$DEV" --state "$TS" install-cert "$W/tpm-device.crt"

step "Attestation signed inside the TPM (TPM2_Sign), verified against the fleet CA"
run "$DEV" --state "$TS" flash-slot A "$W/fw-v1.suit" "$W/fw-v1.bin"
expect "anti-rollback counter 1" "$DEV" --state "$TS" commit
TNONCE=$("$FS38" attest nonce)
run "$DEV" --state "$TS" attest --nonce "$TNONCE" --out "$W/tpm.tok"
expect "attest: valid token" "$FS38" attest verify --ca "$DEVICE_CA" "$W/tpm.tok" --nonce "$TNONCE"

step "The rollback attack: the attacker copies the device's whole state (the flash with its counters and sealed store) ..."
show cp -a "$TS" "$TS.old"
cp -a "$TS" "$TS.old"
step "... the owner installs and commits v2 (the counter in the TPM moves to 2; a failed login is written to the sealed store) ..."
run "$DEV" --state "$TS" flash-slot B "$W/fw-v2.suit" "$W/fw-v2.bin"
expect "anti-rollback counter 2" "$DEV" --state "$TS" commit
refuse "login refused" "$DEV" --state "$TS" login admin <<<"not-the-password"
step "... and the attacker puts the old copy back, to run v1 again"
show "mv $TS $TS.now; cp -a $TS.old $TS"
mv "$TS" "$TS.now"
cp -a "$TS.old" "$TS"
refuse "boot: slot A refused: sequence 1 < installed 2" "$DEV" --state "$TS" boot
show "$DEV" --state "$TS" attest --nonce "$TNONCE" --out "$W/tpm2.tok"
set +e; out=$("$DEV" --state "$TS" attest --nonce "$TNONCE" --out "$W/tpm2.tok" 2>&1); rc=$?; set -e
echo "$out" | tidy
[ $rc -eq 2 ] && grep -qF "rolled back" <<<"$out" || { echo "demo: the restored store was not reported rolled back (exit $rc)" >&2; exit 1; }
echo "   (refused: exit 2 — the counters live in the TPM, not in the flash the attacker copied)"

step "The same attack on a device without a TPM succeeds: its counters are in the flash (why the TPM matters)"
PS="$W/plain-device"
"$DEV" --state "$PS" init --trust "$W/vendor.pub" --vendor-id "$VENDOR" --class-id "$CLASS" >/dev/null
"$DEV" --state "$PS" flash-slot A "$W/fw-v1.suit" "$W/fw-v1.bin" >/dev/null
"$DEV" --state "$PS" commit >/dev/null 2>&1
cp -a "$PS" "$PS.old"
"$DEV" --state "$PS" flash-slot B "$W/fw-v2.suit" "$W/fw-v2.bin" >/dev/null
expect "anti-rollback counter 2" "$DEV" --state "$PS" commit
rm -rf "$PS"
mv "$PS.old" "$PS"
expect "boot: slot A, sequence 1" "$DEV" --state "$PS" boot
echo "   (v1 runs again: the attack worked without the TPM)"

step "The owner's state back; decommissioning destroys the device key in the TPM and removes the TPM objects"
rm -rf "$TS"
mv "$TS.now" "$TS"
expect "boot: slot B, sequence 2" "$DEV" --state "$TS" boot
expect "TPM: evicted 0x81380001 0x81380002" "$DEV" --state "$TS" decommission --receipt "$W/tpm.receipt"
expect "keys destroyed: 0x81380001 0x81380002" "$FS38" receipt verify --ca "$DEVICE_CA" "$W/tpm.receipt"
run tpm2_getcap handles-persistent
if grep -q 0x8138 <<<"$(tpm2_getcap handles-persistent)"; then echo "demo: TPM objects left after decommissioning" >&2; exit 1; fi
echo "   (no persistent object left in the TPM)"

tpm_stop
unset TPM2TOOLS_TCTI TSS2_LOG
trap 'rm -rf "$W"' EXIT
