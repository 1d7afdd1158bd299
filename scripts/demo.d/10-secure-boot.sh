# SPDX-License-Identifier: Apache-2.0
# Chapter 1 — secure boot (control 2) and resilience against malformed input (control 9).
# Sourced by scripts/demo.sh: $FS38, $DEV, $W, $STATE and the helpers run/refuse/expect.

VENDOR=fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe
CLASS=1492af14-2569-5e48-bf42-9b2d51f2ab45

chapter "1. Secure boot: only firmware signed by the vendor runs"

step "The vendor creates its firmware signing key (P-256); the private key file is mode 0600"
run "$FS38" keygen --out "$W/vendor.pem" --pub "$W/vendor.pub"
ls -l "$W/vendor.pem" | awk '{print "   " $1 "  vendor.pem"}'

step "Two firmware releases, signed as SUIT envelopes (COSE_Sign1, ESP256)"
head -c 150000 /dev/urandom > "$W/fw-v1.bin"
head -c 180000 /dev/urandom > "$W/fw-v2.bin"
run "$FS38" sign --key "$W/vendor.pem" --image "$W/fw-v1.bin" --seq 1 --vendor-id $VENDOR --class-id $CLASS --out "$W/fw-v1.suit"
run "$FS38" sign --key "$W/vendor.pem" --image "$W/fw-v2.bin" --seq 2 --vendor-id $VENDOR --class-id $CLASS --out "$W/fw-v2.suit"
expect "sequence: 2" "$FS38" inspect "$W/fw-v2.suit"
expect "verify: OK (sequence 2, ESP256" "$FS38" verify --key "$W/vendor.pub" "$W/fw-v2.suit" --image "$W/fw-v2.bin"

step "A new device: its ROM holds the vendor's public key as the only trust anchor"
run "$DEV" --state "$STATE" init --trust "$W/vendor.pub" --vendor-id $VENDOR --class-id $CLASS

step "Its security log starts now: every boot verdict and update decision below is recorded (control 7)"
run "$DEV" --state "$STATE" log init --key-out "$W/log-k0-life1"

step "Factory programming: v1 into slot A; the bootloader verifies before it runs anything"
run "$DEV" --state "$STATE" flash-slot A "$W/fw-v1.suit" "$W/fw-v1.bin"
expect "boot: slot A, sequence 1" "$DEV" --state "$STATE" boot

step "v2 into slot B: the higher verified sequence boots"
run "$DEV" --state "$STATE" flash-slot B "$W/fw-v2.suit" "$W/fw-v2.bin"
expect "boot: slot B, sequence 2" "$DEV" --state "$STATE" boot

step "Refusal: one byte of the image in slot B changed on flash (an attacker with a flash programmer)"
cp "$STATE/flash.bin" "$W/flash.good"
printf '\xff' | dd of="$STATE/flash.bin" bs=1 seek=$((3 * 1024 * 1024 + 4096 + 777)) conv=notrunc status=none
expect "boot: slot B refused: image digest mismatch" "$DEV" --state "$STATE" boot
echo "   (the device fell back to the verified slot A)"
cp "$W/flash.good" "$STATE/flash.bin"

step "Refusal: a tampered image is rejected by the verifier too, with the reason"
cp "$W/fw-v2.bin" "$W/fw-v2-tampered.bin"
printf 'X' | dd of="$W/fw-v2-tampered.bin" bs=1 seek=1000 conv=notrunc status=none
refuse "image digest mismatch" "$FS38" verify --key "$W/vendor.pub" "$W/fw-v2.suit" --image "$W/fw-v2-tampered.bin"

step "Refusal: firmware signed by someone else's key"
run "$FS38" keygen --out "$W/attacker.pem" --pub "$W/attacker.pub"
run "$FS38" sign --key "$W/attacker.pem" --image "$W/fw-v2.bin" --seq 9 --vendor-id $VENDOR --class-id $CLASS --out "$W/evil.suit"
refuse "not trusted" "$FS38" verify --key "$W/vendor.pub" "$W/evil.suit"

step "Refusal: malformed input — every truncation of an envelope is a clean error (control 9)"
n=$(stat -c %s "$W/fw-v2.suit"); bad=0
for len in $(seq 0 $((n - 1))); do
  head -c "$len" "$W/fw-v2.suit" > "$W/cut.suit"
  set +e; "$FS38" verify --key "$W/vendor.pub" "$W/cut.suit" >/dev/null 2>&1; rc=$?; set -e
  [ $rc -eq 1 ] || bad=$((bad + 1))
done
echo "   $n truncated envelopes: $((n - bad)) refused with exit 1, $bad otherwise"
[ $bad -eq 0 ] || { echo "demo: a truncated envelope was not refused" >&2; exit 1; }

step "Commit v2: the anti-rollback counter moves to 2 (boot alone never moves it)"
expect "commit: slot B, anti-rollback counter 2" "$DEV" --state "$STATE" commit

step "Refusal: a rolled-back image (v1, sequence 1) in a slot no longer boots"
expect "boot: slot A refused: sequence 1 < installed 2" "$DEV" --state "$STATE" boot
