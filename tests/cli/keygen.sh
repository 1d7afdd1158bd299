#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fs38 keygen: private key created with mode 0600, public key PEM, no silent overwrite.
. "$(dirname "$0")/lib.sh"

umask 022
expect_rc 0 "keygen" "$FS38" keygen --out "$T/k.pem" --pub "$T/k.pub.pem"
CHECKS=$((CHECKS + 1))
[ "$(stat -c %a "$T/k.pem")" = 600 ] || fail "private key mode is $(stat -c %a "$T/k.pem"), expected 600"
expect_grep "$T/k.pem" "BEGIN (EC )?PRIVATE KEY" "private key is PEM"
expect_grep "$T/k.pub.pem" "BEGIN PUBLIC KEY" "public key is SubjectPublicKeyInfo PEM"
expect_no_grep "$T/out" "PRIVATE" "keygen prints no key material"

# A second key is different.
expect_rc 0 "keygen without --pub" "$FS38" keygen --out "$T/k2.pem"
CHECKS=$((CHECKS + 1))
cmp -s "$T/k.pem" "$T/k2.pem" && fail "two generated keys are identical"

# An existing key is kept unless --force.
cp "$T/k.pem" "$T/k.orig"
expect_rc 2 "keygen over an existing key" "$FS38" keygen --out "$T/k.pem"
expect_lines "$T/err" 1 "refusal is one line"
CHECKS=$((CHECKS + 1))
cmp -s "$T/k.pem" "$T/k.orig" || fail "existing key was modified"
chmod 644 "$T/k.pem"
expect_rc 0 "keygen --force" "$FS38" keygen --out "$T/k.pem" --force
CHECKS=$((CHECKS + 1))
[ "$(stat -c %a "$T/k.pem")" = 600 ] || fail "replaced key mode is $(stat -c %a "$T/k.pem"), expected 600"

# Usage errors.
expect_rc 2 "keygen without --out" "$FS38" keygen
expect_rc 2 "keygen with an unknown option" "$FS38" keygen --out "$T/x.pem" --bits 256
expect_rc 2 "keygen into a missing directory" "$FS38" keygen --out "$T/no/such/dir/k.pem"
expect_rc 0 "keygen --help" "$FS38" keygen --help
expect_grep "$T/out" "usage: fs38 keygen" "keygen --help prints usage"

finish
