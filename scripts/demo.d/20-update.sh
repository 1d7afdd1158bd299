# SPDX-License-Identifier: Apache-2.0
# Chapter 2 — signed and encrypted over-the-air updates (control 3).

chapter "2. Updates: signed, encrypted for this device, power-safe, confirmed or reverted"

step "The device generates its own key-agreement key (it never leaves the device) and exports the public half"
run "$DEV" --state "$STATE" pubkey --out "$W/device-ecdh.pub"

step "Release v3, encrypted for this device (A128CTR, key by ECDH-ES+A128KW); the payload travels beside the envelope"
head -c 220000 /dev/urandom > "$W/fw-v3.bin"
run "$FS38" sign --key "$W/vendor.pem" --image "$W/fw-v3.bin" --seq 3 --vendor-id $VENDOR --class-id $CLASS \
    --encrypt-to "$W/device-ecdh.pub" --payload-out "$W/fw-v3.payload" --out "$W/fw-v3.suit"
expect "encryption-info" "$FS38" inspect "$W/fw-v3.suit"
if cmp -s "$W/fw-v3.bin" "$W/fw-v3.payload"; then echo "demo: payload is not encrypted" >&2; exit 1; fi

step "Power is lost in the middle of the download (at flash operation 40)"
show "$DEV" --state "$STATE" update "$W/fw-v3.suit" "$W/fw-v3.payload" --power-cut 40
set +e; "$DEV" --state "$STATE" update "$W/fw-v3.suit" "$W/fw-v3.payload" --power-cut 40 2>&1 | tidy; rc=${PIPESTATUS[0]}; set -e
[ $rc -eq 3 ] || { echo "demo: expected the simulated power loss" >&2; exit 1; }
expect "boot: slot B, sequence 2" "$DEV" --state "$STATE" boot
echo "   (the running image was never touched)"

step "The same update again resumes where the persisted progress stopped, decrypting on the fly into slot A"
expect "installed in slot A" "$DEV" --state "$STATE" update "$W/fw-v3.suit" "$W/fw-v3.payload"
run "$DEV" --state "$STATE" status

step "Next boot tries v3 once; its self-test passes and it confirms: the counter moves to 3"
expect "boot: slot A, sequence 3" "$DEV" --state "$STATE" boot
expect "anti-rollback counter 3" "$DEV" --state "$STATE" confirm
expect "boot: slot A, sequence 3" "$DEV" --state "$STATE" boot

step "Release v4 (A128GCM) installs, boots once, but is never confirmed: the following boot reverts it"
head -c 90000 /dev/urandom > "$W/fw-v4.bin"
run "$FS38" sign --key "$W/vendor.pem" --image "$W/fw-v4.bin" --seq 4 --vendor-id $VENDOR --class-id $CLASS \
    --encrypt-to "$W/device-ecdh.pub" --cipher gcm --payload-out "$W/fw-v4.payload" --out "$W/fw-v4.suit"
expect "installed in slot B" "$DEV" --state "$STATE" update "$W/fw-v4.suit" "$W/fw-v4.payload" --chunk 1000
expect "boot: slot B, sequence 4" "$DEV" --state "$STATE" boot
expect "boot: slot A, sequence 3" "$DEV" --state "$STATE" boot
expect "anti-rollback counter: 3" "$DEV" --state "$STATE" status

step "Refusal: a tampered payload (one byte flipped in transit)"
cp "$W/fw-v4.payload" "$W/bad.payload"
printf '\x00' | dd of="$W/bad.payload" bs=1 seek=5000 conv=notrunc status=none
refuse "payload authentication tag mismatch" "$DEV" --state "$STATE" update "$W/fw-v4.suit" "$W/bad.payload"

step "Refusal: a rolled-back release (v2, sequence 2 < 3)"
refuse "sequence 2 < installed 3" "$DEV" --state "$STATE" update "$W/fw-v2.suit" "$W/fw-v2.bin"

step "Refusal: firmware for another device class"
run "$FS38" sign --key "$W/vendor.pem" --image "$W/fw-v4.bin" --seq 5 --vendor-id $VENDOR \
    --class-id 00000000-0000-0000-0000-000000000001 --encrypt-to "$W/device-ecdh.pub" \
    --payload-out "$W/other.payload" --out "$W/other.suit"
refuse "class id mismatch" "$DEV" --state "$STATE" update "$W/other.suit" "$W/other.payload"

step "Refusal: an update encrypted for a different device"
run "$FS38" keygen --ecdh --out "$W/other-dev.pem" --pub "$W/other-dev.pub"
run "$FS38" sign --key "$W/vendor.pem" --image "$W/fw-v4.bin" --seq 5 --vendor-id $VENDOR --class-id $CLASS \
    --encrypt-to "$W/other-dev.pub" --payload-out "$W/o.payload" --out "$W/o.suit"
refuse "CEK unwrap failed" "$DEV" --state "$STATE" update "$W/o.suit" "$W/o.payload"
expect "boot: slot A, sequence 3" "$DEV" --state "$STATE" boot
echo "   (after every refusal the confirmed image still boots)"
