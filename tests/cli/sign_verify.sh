#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fs38 sign -> verify: authentic envelopes pass; wrong key, tampering, wrong image are
# rejected (exit 1, one line on stderr); I/O and usage errors exit 2.
. "$(dirname "$0")/lib.sh"

keypair a
keypair b
random_file "$T/img" 4321

# ESP256 (default) and ES256
expect_rc 0 "sign" "$FS38" sign --key "$T/a.pem" --image "$T/img" --seq 3 --vendor-id "$UUID_VENDOR" \
    --class-id "$UUID_CLASS" --out "$T/env.suit"
expect_rc 0 "verify" "$FS38" verify --key "$T/a.pub.pem" "$T/env.suit"
expect_grep "$T/out" "^verify: OK \(sequence 3, ESP256, signer [0-9a-f]{16}\)$" "verify output"
expect_lines "$T/err" 0 "verify OK prints nothing on stderr"
sign "$T/a.pem" "$T/img" 7 "$T/es256.suit" --alg es256 --component app
expect_rc 0 "verify ES256" "$FS38" verify --key "$T/a.pub.pem" "$T/es256.suit"
expect_grep "$T/out" "^verify: OK \(sequence 7, ES256, signer " "ES256 verify output"

# Deterministic manifest: same inputs, same manifest bytes (signatures are randomised).
sign "$T/a.pem" "$T/img" 3 "$T/env2.suit"
CHECKS=$((CHECKS + 1))
[ "$(tail -c 100 "$T/env.suit" | od -An -tx1)" = "$(tail -c 100 "$T/env2.suit" | od -An -tx1)" ] ||
    fail "manifest bytes differ between two signings of the same image"

# Image check
expect_rc 0 "verify --image" "$FS38" verify --key "$T/a.pub.pem" "$T/env.suit" --image "$T/img"
cp "$T/img" "$T/img.bad"
flip "$T/img.bad" 1000
expect_rc 1 "verify with a tampered image" "$FS38" verify --key "$T/a.pub.pem" "$T/env.suit" --image "$T/img.bad"
expect_lines "$T/err" 1 "tampered image: one line on stderr"
expect_grep "$T/err" "^verify: rejected: .*digest" "tampered image reason"
head -c 4000 "$T/img" >"$T/img.short"
expect_rc 1 "verify with a truncated image" "$FS38" verify --key "$T/a.pub.pem" "$T/env.suit" --image "$T/img.short"
expect_grep "$T/err" "^verify: rejected: .*size" "truncated image reason"
cat "$T/img" "$T/img" >"$T/img.long"
expect_rc 1 "verify with a longer image" "$FS38" verify --key "$T/a.pub.pem" "$T/env.suit" --image "$T/img.long"
expect_grep "$T/err" "^verify: rejected: .*size" "longer image reason"

# Wrong key / keyring
expect_rc 1 "verify with the wrong key" "$FS38" verify --key "$T/b.pub.pem" "$T/env.suit"
expect_lines "$T/err" 1 "wrong key: one line on stderr"
expect_grep "$T/err" "^verify: rejected: " "wrong key message"
expect_lines "$T/out" 0 "wrong key: nothing on stdout"
expect_rc 0 "verify with a keyring holding the right key" "$FS38" verify --key "$T/b.pub.pem" --key "$T/a.pub.pem" "$T/env.suit"

# Tampered envelope: last signature byte (auth bstr is short: 0x58 LL at offsets 4..5).
cp "$T/env.suit" "$T/sig.suit"
auth_len=$(byte "$T/env.suit" 5)
flip "$T/sig.suit" $((5 + auth_len))
expect_rc 1 "verify with a flipped signature byte" "$FS38" verify --key "$T/a.pub.pem" "$T/sig.suit"
expect_lines "$T/err" 1 "flipped signature: one line on stderr"
expect_grep "$T/err" "^verify: rejected: .*signature" "flipped signature reason"
# Tampered manifest (its last byte: invoke's reporting policy)
cp "$T/env.suit" "$T/man.suit"
flip "$T/man.suit" $(($(stat -c %s "$T/env.suit") - 1))
expect_rc 1 "verify with a modified manifest" "$FS38" verify --key "$T/a.pub.pem" "$T/man.suit"
expect_grep "$T/err" "^verify: rejected: " "modified manifest message"
# Truncated envelope
head -c 100 "$T/env.suit" >"$T/trunc.suit"
expect_rc 1 "verify a truncated envelope" "$FS38" verify --key "$T/a.pub.pem" "$T/trunc.suit"
expect_lines "$T/err" 1 "truncated envelope: one line on stderr"
# Not CBOR at all
echo "hello" >"$T/text.suit"
expect_rc 1 "verify a text file" "$FS38" verify --key "$T/a.pub.pem" "$T/text.suit"

# I/O errors: exit 2
expect_rc 2 "verify a missing envelope" "$FS38" verify --key "$T/a.pub.pem" "$T/missing.suit"
expect_grep "$T/err" "^fs38: .*missing.suit" "missing envelope message"
expect_rc 2 "verify with a missing key file" "$FS38" verify --key "$T/missing.pem" "$T/env.suit"
expect_rc 2 "verify with a missing image" "$FS38" verify --key "$T/a.pub.pem" "$T/env.suit" --image "$T/missing.img"
expect_rc 2 "verify with a private key as trust anchor" "$FS38" verify --key "$T/a.pem" "$T/env.suit"
expect_rc 2 "sign with a missing image" "$FS38" sign --key "$T/a.pem" --image "$T/missing.img" --seq 1 \
    --vendor-id "$UUID_VENDOR" --class-id "$UUID_CLASS" --out "$T/x.suit"
expect_rc 2 "sign with a public key" "$FS38" sign --key "$T/a.pub.pem" --image "$T/img" --seq 1 \
    --vendor-id "$UUID_VENDOR" --class-id "$UUID_CLASS" --out "$T/x.suit"

# Usage errors: exit 2
expect_rc 2 "fs38 without a command" "$FS38"
expect_rc 2 "unknown command" "$FS38" frobnicate
expect_rc 2 "verify without --key" "$FS38" verify "$T/env.suit"
expect_rc 2 "verify without an envelope" "$FS38" verify --key "$T/a.pub.pem"
expect_rc 2 "verify with an unknown option" "$FS38" verify --key "$T/a.pub.pem" --frob "$T/env.suit"
expect_grep "$T/err" "usage: fs38 verify" "unknown option prints usage"
expect_rc 2 "sign without --seq" "$FS38" sign --key "$T/a.pem" --image "$T/img" \
    --vendor-id "$UUID_VENDOR" --class-id "$UUID_CLASS" --out "$T/x.suit"
for bad in fa6b4a53d5ad5fdfbe9de663e4d41ffe fa6b4a53-d5ad-5fdf-be9d-e663e4d41ff fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffg \
    "{fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe}" fa6b4a53-d5ad5-fdf-be9d-e663e4d41ffe ""; do
    expect_rc 2 "sign with vendor id '$bad'" "$FS38" sign --key "$T/a.pem" --image "$T/img" --seq 1 \
        --vendor-id "$bad" --class-id "$UUID_CLASS" --out "$T/x.suit"
done
expect_rc 2 "sign with a bad class id" "$FS38" sign --key "$T/a.pem" --image "$T/img" --seq 1 \
    --vendor-id "$UUID_VENDOR" --class-id nope --out "$T/x.suit"
expect_rc 2 "sign with a negative sequence" "$FS38" sign --key "$T/a.pem" --image "$T/img" --seq -1 \
    --vendor-id "$UUID_VENDOR" --class-id "$UUID_CLASS" --out "$T/x.suit"
expect_rc 2 "sign with an unknown algorithm" "$FS38" sign --key "$T/a.pem" --image "$T/img" --seq 1 \
    --vendor-id "$UUID_VENDOR" --class-id "$UUID_CLASS" --alg rs256 --out "$T/x.suit"
CHECKS=$((CHECKS + 1))
[ -e "$T/x.suit" ] && fail "a failed sign left an output file"
expect_rc 0 "fs38 --help" "$FS38" --help
expect_grep "$T/out" "keygen" "help lists keygen"
for c in keygen sign verify inspect; do
    expect_rc 0 "fs38 $c --help" "$FS38" "$c" --help
    expect_grep "$T/out" "usage: fs38 $c" "$c --help"
done

finish
