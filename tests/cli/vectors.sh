#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fs38 verify on the IETF SUIT example vectors (tests/vectors/suit, see ORIGIN.md):
# every signed example (ES256 and ESP256) is authentic with the example key; unsigned and
# negative vectors are rejected with exactly one line on stderr.
. "$(dirname "$0")/lib.sh"

: "${FS38_VECTORS:?FS38_VECTORS is not set}"
K="$FS38_VECTORS/keys/suit-example-p256-public.pem"

n=0
for f in "$FS38_VECTORS"/manifest/*.signed*.cbor "$FS38_VECTORS"/manifest-esp256/*.cbor; do
    [ -e "$f" ] || { fail "no vector $f"; continue; }
    n=$((n + 1))
    expect_rc 0 "verify $(basename "$f")" "$FS38" verify --key "$K" "$f" &&
        expect_grep "$T/out" "^verify: OK \(sequence [0-5], ES?P?256, signer 3792794e86d38e2e\)$" "$(basename "$f") output"
done
case "$n" in 14) ;; *) fail "expected 14 signed vectors, found $n" ;; esac

n=0
for f in "$FS38_VECTORS"/manifest/*.unsigned*.cbor "$FS38_VECTORS"/negative/*.cbor; do
    [ -e "$f" ] || { fail "no vector $f"; continue; }
    n=$((n + 1))
    expect_rc 1 "verify $(basename "$f")" "$FS38" verify --key "$K" "$f"
    expect_lines "$T/err" 1 "$(basename "$f"): one line on stderr"
    expect_grep "$T/err" "^verify: rejected: " "$(basename "$f") message"
done
case "$n" in 12) ;; *) fail "expected 12 rejected vectors, found $n" ;; esac

# Specific reasons
expect_rc 1 "unsigned" "$FS38" verify --key "$K" "$FS38_VECTORS/manifest/example0-secure-boot.unsigned.cbor"
expect_grep "$T/err" "COSE|authentication" "unsigned envelope reason"
expect_rc 1 "manifest modified" "$FS38" verify --key "$K" "$FS38_VECTORS/negative/example0-manifest-modified.cbor"
expect_grep "$T/err" "digest" "modified manifest reason"
expect_rc 1 "untrusted signer" "$FS38" verify --key "$K" "$FS38_VECTORS/negative/example0-signed-by-untrusted-key.cbor"
# ... which verifies with its own key
expect_rc 0 "signer's own key" "$FS38" verify --key "$FS38_VECTORS/keys/fwenc-dependent-signer-p256-public.pem" \
    "$FS38_VECTORS/negative/example0-signed-by-untrusted-key.cbor"
# A keyring of two keys accepts both
expect_rc 0 "two trusted keys" "$FS38" verify --key "$FS38_VECTORS/keys/fwenc-dependent-signer-p256-public.pem" \
    --key "$K" "$FS38_VECTORS/manifest/example0-secure-boot.signed.cbor"

finish
