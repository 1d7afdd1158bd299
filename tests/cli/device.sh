#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fs38-device: init, factory programming, A/B boot with fallback, anti-rollback commit.
. "$(dirname "$0")/lib.sh"

: "${FS38_DEVICE:?FS38_DEVICE is not set}"
S="$T/state"
MiB=1048576
SLOT_B=$((3 * MiB))
IMAGE_OFFSET=4096
dev() { "$FS38_DEVICE" --state "$S" "$@"; }

keypair vendor
keypair other
random_file "$T/a1.img" 5000
random_file "$T/b2.img" 7001
sign "$T/vendor.pem" "$T/a1.img" 1 "$T/a1.suit"
sign "$T/vendor.pem" "$T/b2.img" 2 "$T/b2.suit"
sign "$T/other.pem" "$T/b2.img" 9 "$T/b9-other.suit"

# init
expect_rc 0 "init" dev init --trust "$T/vendor.pub.pem"
CHECKS=$((CHECKS + 1))
[ "$(stat -c %s "$S/flash.bin")" = $((8 * MiB)) ] || fail "flash.bin is not 8 MiB"
CHECKS=$((CHECKS + 1))
[ "$(od -An -tx1 -N16 "$S/flash.bin" | tr -d ' ')" = ffffffffffffffffffffffffffffffff ] || fail "flash not erased"
expect_grep "$S/rom" "^vendor-id $UUID_VENDOR$" "default vendor id in ROM"
expect_grep "$S/rom" "^class-id $UUID_CLASS$" "default class id in ROM"
expect_grep "$S/rom" "^trust 04[0-9a-f]{128}$" "trust anchor in ROM"
expect_rc 2 "init twice" dev init --trust "$T/vendor.pub.pem"
expect_grep "$T/err" "already initialised" "init twice message"

# empty device
expect_rc 1 "boot an empty device" dev boot
expect_grep "$T/err" "^boot: no bootable image$" "empty device"

# slot A, sequence 1
expect_rc 0 "flash-slot A" dev flash-slot A "$T/a1.suit" "$T/a1.img"
expect_rc 0 "boot A" dev boot
expect_grep "$T/out" "^boot: slot A, sequence 1$" "boot picks A"
expect_lines "$T/out" 1 "one line on stdout"

# slot B, sequence 2: preferred
expect_rc 0 "flash-slot B" dev flash-slot B "$T/b2.suit" "$T/b2.img"
expect_rc 0 "boot B" dev boot
expect_grep "$T/out" "^boot: slot B, sequence 2$" "boot picks the higher sequence"
expect_rc 0 "status" dev status
expect_grep "$T/out" "^slot A: sequence 1, verified" "status slot A"
expect_grep "$T/out" "^slot B: sequence 2, verified" "status slot B"
expect_grep "$T/out" "^anti-rollback counter: 0$" "status counter"

# corrupt one byte of B's image: fall back to A, with B's reason
cp "$S/flash.bin" "$T/flash.good"
flip "$S/flash.bin" $((SLOT_B + IMAGE_OFFSET + 1234))
expect_rc 0 "boot with B corrupted" dev boot
expect_grep "$T/out" "^boot: slot A, sequence 1$" "falls back to A"
expect_grep "$T/err" "^boot: slot B refused: .*digest" "B refused for its digest"
expect_lines "$T/err" 1 "one refusal line"

# corrupt A as well: nothing boots
flip "$S/flash.bin" $((IMAGE_OFFSET + 17))
expect_rc 1 "boot with both corrupted" dev boot
expect_grep "$T/err" "^boot: slot A refused: .*digest" "A refused"
expect_grep "$T/err" "^boot: slot B refused: .*digest" "B refused"
expect_grep "$T/err" "^boot: no bootable image$" "no bootable image"
expect_lines "$T/out" 0 "nothing on stdout"

# a slot signed by an untrusted key is refused
cp "$T/flash.good" "$S/flash.bin"
expect_rc 0 "flash-slot B untrusted" dev flash-slot B "$T/b9-other.suit" "$T/b2.img"
expect_rc 0 "boot with B untrusted" dev boot
expect_grep "$T/out" "^boot: slot A, sequence 1$" "untrusted B ignored"
expect_grep "$T/err" "^boot: slot B refused: " "untrusted B refused"
# image for the wrong envelope
expect_rc 0 "flash-slot B mismatched image" dev flash-slot B "$T/b2.suit" "$T/a1.img"
expect_rc 0 "boot with mismatched B" dev boot
expect_grep "$T/err" "^boot: slot B refused: " "mismatched B refused"

# commit B (sequence 2), then A with sequence 1 and a broken B: rollback refused
cp "$T/flash.good" "$S/flash.bin"
expect_rc 0 "commit" dev commit
expect_grep "$T/out" "^commit: slot B, anti-rollback counter 2$" "commit B"
expect_rc 0 "status after commit" dev status
expect_grep "$T/out" "^anti-rollback counter: 2$" "counter is 2"
expect_grep "$T/out" "^slot A: sequence 1, refused: .*1 < installed 2" "A now below the counter"
expect_rc 0 "flash-slot A again" dev flash-slot A "$T/a1.suit" "$T/a1.img"
flip "$S/flash.bin" $((SLOT_B + IMAGE_OFFSET + 99))
expect_rc 1 "boot after rollback" dev boot
expect_grep "$T/err" "^boot: slot A refused: sequence 1 < installed 2$" "rollback reason for A"
expect_grep "$T/err" "^boot: slot B refused: .*digest" "B still broken"
expect_rc 1 "commit with nothing bootable" dev commit

# --force starts over (fresh flash, counter 0)
expect_rc 0 "init --force" dev init --trust "$T/vendor.pub.pem" --trust "$T/other.pub.pem" --force
expect_rc 0 "status after re-init" dev status
expect_grep "$T/out" "^slot A: empty$" "slot A empty"
expect_grep "$T/out" "^anti-rollback counter: 0$" "counter reset"
expect_rc 0 "flash-slot B other key" dev flash-slot B "$T/b9-other.suit" "$T/b2.img"
expect_rc 0 "boot with the second trust anchor" dev boot
expect_grep "$T/out" "^boot: slot B, sequence 9$" "second trust anchor accepted"

# custom identity: a manifest for another vendor is refused
S2="$T/state2"
expect_rc 0 "init with ids" "$FS38_DEVICE" --state "$S2" init --trust "$T/vendor.pub.pem" \
    --vendor-id 00112233-4455-6677-8899-aabbccddeeff --class-id "$UUID_CLASS"
expect_rc 0 "flash-slot on device 2" "$FS38_DEVICE" --state "$S2" flash-slot A "$T/a1.suit" "$T/a1.img"
expect_rc 1 "boot on device 2" "$FS38_DEVICE" --state "$S2" boot
expect_grep "$T/err" "^boot: slot A refused: .*vendor" "vendor mismatch"

# usage / I/O errors
expect_rc 2 "no --state" "$FS38_DEVICE" boot
expect_rc 2 "no command" "$FS38_DEVICE" --state "$S"
expect_rc 2 "unknown command" dev frob
expect_rc 2 "uninitialised state" "$FS38_DEVICE" --state "$T/nowhere" boot
expect_grep "$T/err" "not an initialised device" "uninitialised message"
expect_rc 2 "bad slot" dev flash-slot C "$T/a1.suit" "$T/a1.img"
expect_rc 2 "missing image" dev flash-slot A "$T/a1.suit" "$T/missing.img"
expect_rc 2 "missing argument" dev flash-slot A "$T/a1.suit"
expect_rc 2 "init without --trust" "$FS38_DEVICE" --state "$T/s3" init
expect_rc 2 "init with a bad uuid" "$FS38_DEVICE" --state "$T/s3" init --trust "$T/vendor.pub.pem" --vendor-id x
expect_rc 2 "init with a missing key" "$FS38_DEVICE" --state "$T/s3" init --trust "$T/missing.pem"
CHECKS=$((CHECKS + 1))
[ -e "$T/s3/rom" ] && fail "failed init left a ROM"
expect_rc 0 "--help" "$FS38_DEVICE" --help


# ---- numbers: strict (update --power-cut -5 was taken as 2^64 - 5) ----
for bad in -5 1x "" 99999999999999999999999 " 5" 0 +1; do
    expect_rc 2 "update --power-cut '$bad'" dev update "$T/b2.suit" "$T/b2.img" --power-cut "$bad"
    expect_grep "$T/err" "update --power-cut .*: invalid value '.*': expected a decimal integer 1\.\.18446744073709551615" \
        "update --power-cut '$bad': option and range named"
done
for bad in -5 1x "" 99999999999999999999999 " 5" 0 16777217; do
    expect_rc 2 "update --chunk '$bad'" dev update "$T/b2.suit" "$T/b2.img" --chunk "$bad"
    expect_grep "$T/err" "update --chunk .*: invalid value '.*': expected a decimal integer 1\.\.16777216" \
        "update --chunk '$bad': option and range named"
done

# ---- provisioning checks its outputs before the device changes ----
P="$T/prov"
pdev() { "$FS38_DEVICE" --state "$P" "$@"; }
expect_rc 0 "init a device to provision" pdev init --trust "$T/vendor.pub.pem"
expect_rc 2 "provision --csr /tmp (a directory)" pdev provision --csr /tmp --cost 10000
expect_grep "$T/err" "/tmp: is a directory" "provision --csr /tmp: reason"
expect_no_grep "$T/out" "setup-credential" "provision --csr /tmp prints no credential"
expect_rc 2 "provision with an unwritable --log-key-out" pdev provision --csr "$T/p.csr" --cost 10000 \
    --log-key-out "$T/no/such/dir/k0"
expect_no_grep "$T/out" "setup-credential" "unwritable --log-key-out: no credential"
CHECKS=$((CHECKS + 1))
[ -e "$T/p.csr" ] && fail "provision with an unwritable --log-key-out wrote a CSR"
echo "old k0" >"$T/p.k0"
expect_rc 2 "provision with an existing --log-key-out" pdev provision --csr "$T/p.csr" --cost 10000 \
    --log-key-out "$T/p.k0"
expect_grep "$T/err" "file exists" "existing --log-key-out: reason"
expect_grep "$T/p.k0" "^old k0$" "existing k0 file kept"
expect_rc 2 "provision with an unwritable --csr and a valid --log-key-out" pdev provision \
    --csr "$T/no/such/dir/p.csr" --cost 10000 --log-key-out "$T/p2.k0"
CHECKS=$((CHECKS + 1))
[ -e "$T/p2.k0" ] && fail "provision with an unwritable --csr wrote k0"
expect_rc 0 "identity after the refused provisions" pdev identity
expect_grep "$T/out" "^lifecycle: blank$" "the device is still unprovisioned"
expect_rc 0 "provision to valid paths" pdev provision --csr "$T/p.csr" --cost 10000 --log-key-out "$T/p2.k0"
expect_grep "$T/out" "^setup-credential: " "provision prints the credential once"
expect_grep "$T/p.csr" "BEGIN CERTIFICATE REQUEST" "CSR written"
expect_grep "$T/p2.k0" "^[0-9a-f]{64}$" "k0 written"
for bad in -5 1x "" 99999999999999999999999 " 5" 9999; do
    expect_rc 2 "provision --cost '$bad'" pdev provision --csr "$T/q.csr" --cost "$bad"
    expect_grep "$T/err" "provision --cost .*: invalid value '.*': expected a decimal integer 10000\.\." \
        "provision --cost '$bad': option and range named"
done
# csr and attest: a directory as output changes nothing
expect_rc 2 "csr --out a directory" pdev csr --out "$T"
expect_rc 2 "attest --out a directory" pdev attest --nonce 0011223344556677 --out "$T"
# decommissioning is irreversible: an unwritable receipt stops it before anything is erased
expect_rc 2 "decommission --receipt /tmp (a directory)" pdev decommission --receipt /tmp
expect_rc 2 "decommission --power-cut -5" pdev decommission --receipt "$T/r.cbor" --power-cut -5
expect_rc 0 "identity after the refused decommissionings" pdev identity
expect_grep "$T/out" "^lifecycle: provisioned$" "the device is still provisioned"
CHECKS=$((CHECKS + 1))
if find "$T" -name '.*.tmp-*' | grep -q .; then fail "temporary files left behind"; fi

finish
