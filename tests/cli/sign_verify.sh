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

# --slot A|B binds the image to a slot (component-slot + condition-component-slot in the shared
# sequence); verify checks such an envelope like any other, inspect shows the binding
expect_rc 0 "sign --slot B" "$FS38" sign --key "$T/a.pem" --image "$T/img" --seq 4 --vendor-id "$UUID_VENDOR" \
    --class-id "$UUID_CLASS" --slot B --out "$T/slot-b.suit"
expect_grep "$T/out" "^sign: wrote .*slot-b.suit \([0-9]+ bytes, sequence 4, ESP256, signer [0-9a-f]{16}, slot B\)$" "sign --slot output"
expect_rc 0 "verify a slot-bound envelope" "$FS38" verify --key "$T/a.pub.pem" "$T/slot-b.suit" --image "$T/img"
expect_rc 0 "inspect a slot-bound envelope" "$FS38" inspect "$T/slot-b.suit"
expect_grep "$T/out" "component-slot: 1" "inspect shows the slot parameter"
expect_grep "$T/out" "condition-component-slot" "inspect shows the slot condition"
expect_rc 2 "sign with --slot C" "$FS38" sign --key "$T/a.pem" --image "$T/img" --seq 4 --vendor-id "$UUID_VENDOR" \
    --class-id "$UUID_CLASS" --slot C --out "$T/slot-c.suit"
expect_grep "$T/err" "invalid --slot 'C': expected A or B" "sign --slot C explains"

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

# The kid rule (docs/formats.md, COSE_Sign1): the unprotected kid is not signed. Removed, the
# envelope still verifies (every trusted key is tried); shortened, lengthened or altered, it
# names no trusted key and is refused. Layout of an `fs38 sign` envelope: auth bstr length at
# offset 5, COSE_Sign1 bstr length at 46, its unprotected map `a1 04 48 <kid>` at 53..63.
# rekid IN OUT UNPROTECTED_HEX: IN with another unprotected map, lengths adjusted.
rekid() {
    local h new delta auth_len sign1_len
    h=$(xxd -p "$1" | tr -d '\n')
    [ "${h:106:6}" = a10448 ] || { fail "rekid: no 8-byte kid at offset 53 of $1"; return 1; }
    new=$3
    delta=$((11 - ${#new} / 2))
    auth_len=$((16#${h:10:2} - delta))
    sign1_len=$((16#${h:92:2} - delta))
    printf '%s%02x%s%02x%s%s%s' "${h:0:10}" "$auth_len" "${h:12:80}" "$sign1_len" "${h:94:12}" "$new" \
        "${h:128}" | xxd -r -p >"$2"
}
kid=$(xxd -p -s 56 -l 8 "$T/env.suit")
rekid "$T/env.suit" "$T/same.suit" "a10448$kid"
CHECKS=$((CHECKS + 1))
cmp -s "$T/env.suit" "$T/same.suit" || fail "rekid does not reproduce the envelope"
rekid "$T/env.suit" "$T/nokid.suit" a0
expect_rc 0 "verify with the kid removed (every trusted key tried)" "$FS38" verify --key "$T/b.pub.pem" \
    --key "$T/a.pub.pem" "$T/nokid.suit"
expect_grep "$T/out" "^verify: OK \(sequence 3, ESP256, signer $kid\)$" "kid removed: the signer is found"
expect_rc 1 "verify with the kid removed and the wrong key" "$FS38" verify --key "$T/b.pub.pem" "$T/nokid.suit"
rekid "$T/env.suit" "$T/short.suit" "a10447${kid:0:14}"
expect_rc 1 "verify with a shortened kid" "$FS38" verify --key "$T/a.pub.pem" "$T/short.suit"
expect_lines "$T/err" 1 "shortened kid: one line on stderr"
expect_grep "$T/err" "^verify: rejected: signer key id ${kid:0:14} is 7 bytes, not an 8-byte fs38 key id: not trusted$" \
    "shortened kid reason"
rekid "$T/env.suit" "$T/long.suit" "a10449${kid}00"
expect_rc 1 "verify with a lengthened kid" "$FS38" verify --key "$T/a.pub.pem" "$T/long.suit"
expect_grep "$T/err" "^verify: rejected: signer key id .* is 9 bytes, not an 8-byte fs38 key id: not trusted$" \
    "lengthened kid reason"
rekid "$T/env.suit" "$T/empty.suit" a10440
expect_rc 1 "verify with an empty kid" "$FS38" verify --key "$T/a.pub.pem" "$T/empty.suit"
expect_grep "$T/err" "is 0 bytes, not an 8-byte fs38 key id: not trusted$" "empty kid reason"
cp "$T/env.suit" "$T/altered.suit"
flip "$T/altered.suit" 63
bad_kid=$(xxd -p -s 56 -l 8 "$T/altered.suit")
expect_rc 1 "verify with an altered kid" "$FS38" verify --key "$T/a.pub.pem" "$T/altered.suit"
expect_grep "$T/err" "^verify: rejected: signer key id $bad_kid is not trusted$" "altered kid reason"
sign "$T/b.pem" "$T/img" 3 "$T/env-b.suit"
rekid "$T/env.suit" "$T/otherkid.suit" "a10448$(xxd -p -s 56 -l 8 "$T/env-b.suit")"
expect_rc 1 "verify with the kid of another trusted key" "$FS38" verify --key "$T/a.pub.pem" --key "$T/b.pub.pem" \
    "$T/otherkid.suit"
expect_grep "$T/err" "^verify: rejected: signature does not verify with any of 1 trusted key" \
    "kid of another trusted key: only that key is tried"

# COSE_Mac0 (HMAC-SHA-256) envelopes: --hmac-key with the SUIT encryption examples' key.
MAC_ENV="$FS38_VECTORS/encryption/fwenc-aeskw-write.suit.cbor"
MAC_KEY="$FS38_VECTORS/keys/fwenc-hmac256-key.hex"
expect_rc 0 "verify a MAC'd envelope with --hmac-key" "$FS38" verify --hmac-key "$MAC_KEY" "$MAC_ENV"
expect_grep "$T/out" "^verify: OK \(sequence 1, HMAC256, HMAC key .*fwenc-hmac256-key.hex\)$" "MAC'd envelope output"
expect_rc 0 "verify a MAC'd envelope with a signature key and --hmac-key" "$FS38" verify --key "$T/a.pub.pem" \
    --hmac-key "$MAC_KEY" "$FS38_VECTORS/encryption/fwenc-aeskw-fetch-copy.suit.cbor"
printf '61616161 61616161 61616161 61616161\n61616161 61616161 61616161 61616162\n' >"$T/wrong-hmac.hex"
expect_rc 1 "verify a MAC'd envelope with the wrong HMAC key" "$FS38" verify --hmac-key "$T/wrong-hmac.hex" "$MAC_ENV"
expect_lines "$T/err" 1 "wrong HMAC key: one line on stderr"
expect_grep "$T/err" "^verify: rejected: MAC does not verify" "wrong HMAC key reason"
expect_no_grep "$T/err" "6161" "wrong HMAC key: no key material on stderr"
expect_rc 1 "verify a MAC'd envelope with a signature key only" "$FS38" verify --key "$T/a.pub.pem" "$MAC_ENV"
expect_rc 1 "verify a signed envelope with an HMAC key only" "$FS38" verify --hmac-key "$MAC_KEY" "$T/env.suit"
printf '6161616161616161616161616161\n' >"$T/short-hmac.hex"
expect_rc 2 "verify with a 14-byte HMAC key" "$FS38" verify --hmac-key "$T/short-hmac.hex" "$MAC_ENV"
expect_grep "$T/err" "28 hex digits: an HMAC key is 16..64 bytes" "short HMAC key message"
printf 'aa%.0s' $(seq 65) >"$T/long-hmac.hex"
expect_rc 2 "verify with a 65-byte HMAC key" "$FS38" verify --hmac-key "$T/long-hmac.hex" "$MAC_ENV"
printf 'secret-not-hex-0123456789abcdef0123456789\n' >"$T/text-hmac.hex"
expect_rc 2 "verify with a non-hex HMAC key file" "$FS38" verify --hmac-key "$T/text-hmac.hex" "$MAC_ENV"
expect_grep "$T/err" "byte 0 is not a hex digit" "non-hex HMAC key message"
expect_no_grep "$T/err" "secret" "non-hex HMAC key: the file's text is not shown"
expect_rc 2 "verify with a missing HMAC key file" "$FS38" verify --hmac-key "$T/missing.hex" "$MAC_ENV"

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
expect_grep "$T/err" "at least one --key or --hmac-key" "verify without a key: message"
expect_rc 2 "verify with 9 keys" "$FS38" verify --key "$T/a.pub.pem" --key "$T/a.pub.pem" --key "$T/a.pub.pem" \
    --key "$T/a.pub.pem" --key "$T/a.pub.pem" --hmac-key "$MAC_KEY" --hmac-key "$MAC_KEY" --hmac-key "$MAC_KEY" \
    --hmac-key "$MAC_KEY" "$T/env.suit"
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
"$FS38" verify --help >"$T/out"
expect_grep "$T/out" "--hmac-key KEY.hex" "verify --help documents --hmac-key"
"$FS38" sign --help >"$T/out"
expect_grep "$T/out" "--kek with a pre-shared 16-byte key \\(A128KW\\) read from the file" "sign --help: --kek takes a file"


# ---- outputs: the envelope and the payload are written together or not at all ----
"$FS38" keygen --out "$T/devx.pem" --pub "$T/devx.pub.pem" --ecdh >/dev/null || fail "keygen --ecdh"
no_temporaries() {
    CHECKS=$((CHECKS + 1))
    if find "$T" -name '.*.tmp-*' | grep -q .; then
        fail "$1: temporary files left behind: $(find "$T" -name '.*.tmp-*' | tr '\n' ' ')"
    fi
}
expect_rc 2 "sign --encrypt-to with an unwritable --payload-out" "$FS38" sign --key "$T/a.pem" --image "$T/img" \
    --seq 5 --vendor-id "$UUID_VENDOR" --class-id "$UUID_CLASS" --out "$T/enc.suit" \
    --encrypt-to "$T/devx.pub.pem" --payload-out "$T/no/such/dir/payload"
expect_grep "$T/err" "no/such/dir/payload" "unwritable --payload-out is named"
CHECKS=$((CHECKS + 1))
[ -e "$T/enc.suit" ] && fail "sign left an envelope whose encrypted payload was not written (content key lost)"
expect_rc 2 "sign with a directory as --payload-out" "$FS38" sign --key "$T/a.pem" --image "$T/img" \
    --seq 5 --vendor-id "$UUID_VENDOR" --class-id "$UUID_CLASS" --out "$T/enc.suit" \
    --encrypt-to "$T/devx.pub.pem" --payload-out "$T"
expect_grep "$T/err" "is a directory" "directory as --payload-out: reason"
CHECKS=$((CHECKS + 1))
[ -e "$T/enc.suit" ] && fail "sign left an envelope although --payload-out is a directory"
expect_rc 2 "sign with a directory as --out" "$FS38" sign --key "$T/a.pem" --image "$T/img" \
    --seq 5 --vendor-id "$UUID_VENDOR" --class-id "$UUID_CLASS" --out "$T" \
    --encrypt-to "$T/devx.pub.pem" --payload-out "$T/pay.bin"
CHECKS=$((CHECKS + 1))
[ -e "$T/pay.bin" ] && fail "sign left a payload although --out is a directory"
# existing files are not clobbered by a failed sign
cp "$T/env.suit" "$T/env.keep"
expect_rc 2 "sign over an existing envelope, payload unwritable" "$FS38" sign --key "$T/a.pem" --image "$T/img" \
    --seq 5 --vendor-id "$UUID_VENDOR" --class-id "$UUID_CLASS" --out "$T/env.suit" \
    --encrypt-to "$T/devx.pub.pem" --payload-out "$T/no/such/dir/payload"
CHECKS=$((CHECKS + 1))
cmp -s "$T/env.suit" "$T/env.keep" || fail "a failed sign replaced the existing envelope"
expect_rc 2 "sign with the same file for --out and --payload-out" "$FS38" sign --key "$T/a.pem" --image "$T/img" \
    --seq 5 --vendor-id "$UUID_VENDOR" --class-id "$UUID_CLASS" --out "$T/both" --payload-out "$T/both"
CHECKS=$((CHECKS + 1))
[ -e "$T/both" ] && fail "sign wrote a file given for both outputs"
no_temporaries "failed signs"
expect_rc 0 "sign --encrypt-to" "$FS38" sign --key "$T/a.pem" --image "$T/img" --seq 5 --vendor-id "$UUID_VENDOR" \
    --class-id "$UUID_CLASS" --out "$T/enc.suit" --encrypt-to "$T/devx.pub.pem" --payload-out "$T/enc.bin"
CHECKS=$((CHECKS + 1))
[ -s "$T/enc.suit" ] && [ -s "$T/enc.bin" ] || fail "sign --encrypt-to did not write both outputs"
no_temporaries "sign --encrypt-to"

# ---- numbers: strict (no sign, spaces, junk, overflow) with the option and its range named ----
for bad in -5 1x "" 99999999999999999999999 " 5" "5 " +5 0x10 1e3; do
    expect_rc 2 "sign --seq '$bad'" "$FS38" sign --key "$T/a.pem" --image "$T/img" --seq "$bad" \
        --vendor-id "$UUID_VENDOR" --class-id "$UUID_CLASS" --out "$T/num.suit"
    expect_grep "$T/err" "sign --seq: invalid value '.*': expected a decimal integer 0\.\.18446744073709551615" \
        "sign --seq '$bad': option and range named"
done
CHECKS=$((CHECKS + 1))
[ -e "$T/num.suit" ] && fail "sign with a bad --seq wrote an envelope"
expect_rc 0 "sign --seq 18446744073709551615 (the largest)" "$FS38" sign --key "$T/a.pem" --image "$T/img" \
    --seq 18446744073709551615 --vendor-id "$UUID_VENDOR" --class-id "$UUID_CLASS" --out "$T/num.suit"
for bad in -5 1x "" 99999999999999999999999 " 5" 7 65; do
    expect_rc 2 "attest nonce --bytes '$bad'" "$FS38" attest nonce --bytes "$bad"
    expect_grep "$T/err" "attest nonce --bytes: invalid value '.*': expected a decimal integer 8\.\.64" \
        "attest nonce --bytes '$bad': option and range named"
done
expect_rc 0 "attest nonce --bytes 8" "$FS38" attest nonce --bytes 8

finish
