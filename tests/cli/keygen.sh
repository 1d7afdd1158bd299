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


# All outputs or none: both files are checked before a key exists, and named together at the end.
no_temporaries() {
    CHECKS=$((CHECKS + 1))
    if find "$T" -name '.*.tmp-*' | grep -q .; then
        fail "$1: temporary files left behind: $(find "$T" -name '.*.tmp-*' | tr '\n' ' ')"
    fi
}
expect_rc 2 "keygen with an unwritable --pub" "$FS38" keygen --out "$T/half.pem" --pub "$T/no/such/dir/half.pub"
expect_grep "$T/err" "no/such/dir/half.pub" "unwritable --pub is named"
CHECKS=$((CHECKS + 1))
[ -e "$T/half.pem" ] && fail "keygen left a private key although --pub could not be written"
no_temporaries "keygen with an unwritable --pub"
expect_rc 2 "keygen with a directory as --pub" "$FS38" keygen --out "$T/half.pem" --pub "$T"
expect_grep "$T/err" "is a directory" "directory as --pub: reason"
CHECKS=$((CHECKS + 1))
[ -e "$T/half.pem" ] && fail "keygen left a private key although --pub is a directory"
expect_rc 2 "keygen with a directory as --out" "$FS38" keygen --out "$T" --force
expect_grep "$T/err" "is a directory" "directory as --out: reason"
expect_rc 2 "keygen with a file as a directory" "$FS38" keygen --out "$T/k.pem/x.pem"
# An existing key (--force) and an existing public key are not clobbered by a failed keygen.
cp "$T/k.pem" "$T/k.keep"
cp "$T/k.pub.pem" "$T/k.pub.keep"
expect_rc 2 "keygen --force with an unwritable --pub" "$FS38" keygen --out "$T/k.pem" --force \
    --pub "$T/no/such/dir/k.pub"
CHECKS=$((CHECKS + 1))
cmp -s "$T/k.pem" "$T/k.keep" || fail "a failed keygen --force replaced the existing key"
expect_rc 2 "keygen with an unwritable --out and an existing --pub" "$FS38" keygen --out "$T/no/such/dir/k.pem" \
    --pub "$T/k.pub.pem"
CHECKS=$((CHECKS + 1))
cmp -s "$T/k.pub.pem" "$T/k.pub.keep" || fail "a failed keygen replaced the existing public key"
expect_rc 2 "keygen with the same file twice" "$FS38" keygen --out "$T/same.pem" --pub "$T/same.pem"
CHECKS=$((CHECKS + 1))
[ -e "$T/same.pem" ] && fail "keygen wrote a file given for both outputs"
no_temporaries "failed keygens"
# A successful --force replaces the key whole (rename), mode 0600, and the public key matches it.
expect_rc 0 "keygen --force --pub" "$FS38" keygen --out "$T/k.pem" --force --pub "$T/k.pub.pem"
CHECKS=$((CHECKS + 1))
cmp -s "$T/k.pem" "$T/k.keep" && fail "keygen --force did not replace the key"
CHECKS=$((CHECKS + 1))
[ "$(stat -c %a "$T/k.pem")" = 600 ] || fail "replaced key mode is $(stat -c %a "$T/k.pem"), expected 600"
no_temporaries "keygen --force --pub"

finish
