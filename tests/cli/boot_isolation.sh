#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Secure boot depends only on the ROM anchors, the slots and the boot state (threat model,
# asset A6): with a flipped byte in the sealed store's region or in the security log's region
# `fs38-device boot` still exits 0 and prints the same "boot: slot X, sequence N" line (a warning
# on stderr names the damage); commands that need the store fail clearly (exit 2, a message).
. "$(dirname "$0")/lib.sh"

: "${FS38_DEVICE:?FS38_DEVICE is not set}"
COST=10000
STORE_OFF=$((0x602000)) STORE_BANK=$((4 * 4096)) STORE_BANKS=4 LOG_OFF=$((0x612000)) # device/layout.h
devs() { local s=$1; shift; "$FS38_DEVICE" --state "$s" "$@"; }

keypair vendor
random_file "$T/a1.img" 3000
sign "$T/vendor.pem" "$T/a1.img" 1 "$T/a1.suit"
TPL="$T/template"
expect_rc 0 "init" devs "$TPL" init --trust "$T/vendor.pub.pem"
expect_rc 0 "flash-slot A" devs "$TPL" flash-slot A "$T/a1.suit" "$T/a1.img"
expect_rc 0 "provision with the log" devs "$TPL" provision --csr "$T/t.csr" --cost $COST --log-key-out "$T/k0"
expect_rc 0 "boot intact" devs "$TPL" boot
expect_grep "$T/out" "^boot: slot A, sequence 1$" "boot line (intact)"
cp "$T/out" "$T/boot.intact"

# ---- a flipped byte in every written bank of the store ----
S="$T/store"
cp -a "$TPL" "$S"
flipped=0
for b in $(seq 0 $((STORE_BANKS - 1))); do
    o=$((STORE_OFF + b * STORE_BANK))
    if [ "$(byte "$S/flash.bin" "$o")" != 255 ]; then
        flip "$S/flash.bin" $((o + 64 + 10)) # inside the first record after the bank header
        flipped=$((flipped + 1))
    fi
done
CHECKS=$((CHECKS + 1))
[ "$flipped" -ge 1 ] || fail "no written store bank found to damage"
expect_rc 2 "identity needs the store: refused" devs "$S" identity
expect_grep "$T/err" "cannot open the sealed store" "identity names the store"
expect_rc 0 "boot with a damaged store" devs "$S" boot
CHECKS=$((CHECKS + 1))
cmp -s "$T/out" "$T/boot.intact" || { fail "boot line differs with a damaged store"; cat "$T/out" >&2; }
expect_grep "$T/err" "warning: booting without the sealed store" "boot warns about the store"
expect_rc 0 "boot again" devs "$S" boot
expect_grep "$T/out" "^boot: slot A, sequence 1$" "boot line again"
expect_rc 0 "status with a damaged store" devs "$S" status
expect_rc 2 "log export needs the store" devs "$S" log export --out "$T/x.batch"
expect_grep "$T/err" "cannot open the sealed store" "log export names the store"
expect_rc 2 "login needs the store" sh -c 'echo wrong-password-1 | "$1" --state "$2" login admin' sh "$FS38_DEVICE" "$S"

# ---- a flipped byte in the log (its genesis record) ----
S="$T/log"
cp -a "$TPL" "$S"
flip "$S/flash.bin" $((LOG_OFF + 10))
expect_rc 0 "boot with a damaged log" devs "$S" boot
CHECKS=$((CHECKS + 1))
cmp -s "$T/out" "$T/boot.intact" || { fail "boot line differs with a damaged log"; cat "$T/out" >&2; }
expect_rc 0 "export with a damaged log" devs "$S" log export --out "$T/l.batch"
expect_rc 1 "the verifier sees the damage" "$FS38" log verify --k0 "$T/k0" "$T/l.batch"

# ---- both ----
S="$T/both"
cp -a "$TPL" "$S"
flip "$S/flash.bin" $((LOG_OFF + 10))
for b in $(seq 0 $((STORE_BANKS - 1))); do
    o=$((STORE_OFF + b * STORE_BANK))
    [ "$(byte "$S/flash.bin" "$o")" != 255 ] && flip "$S/flash.bin" $((o + 64 + 10))
done
expect_rc 0 "boot with store and log damaged" devs "$S" boot
CHECKS=$((CHECKS + 1))
cmp -s "$T/out" "$T/boot.intact" || { fail "boot line differs with store and log damaged"; cat "$T/out" >&2; }

finish
