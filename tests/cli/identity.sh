#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Identity, accounts, attestation and decommissioning through the programs (controls 1, 6, 8,
# 12): fs38 ca init/issue, fs38-device provision/install-cert/login/passwd/attest/decommission,
# fs38 attest verify, fs38 receipt verify. Exit codes and output lines are the documented ones.
# An independent verifier (/usr/bin/python3 with python3-cbor2 and python3-cryptography, as the
# cross tests use) checks the token's COSE_Sign1 against the certificate's key.
. "$(dirname "$0")/lib.sh"

: "${FS38_DEVICE:?FS38_DEVICE is not set}"
PY=${FS38_PYTHON:-/usr/bin/python3}
COST=10000 # the lowest PBKDF2 cost provisioning accepts: keeps the test fast
CA="$T/ca"
dev() { local s=$1; shift; "$FS38_DEVICE" --state "$T/$s" "$@"; }
STORE_OFF=$((0x602000)) STORE_LEN=65536 LOG_OFF=$((0x612000)) LOG_LEN=262144 # device/layout.h

keypair vendor
random_file "$T/fw.img" 6000
sign "$T/vendor.pem" "$T/fw.img" 4 "$T/fw.suit"

# ---- the CA ----
expect_rc 0 "ca init" "$FS38" ca init --out "$CA"
CHECKS=$((CHECKS + 1))
[ "$(stat -c %a "$CA/ca.key")" = 600 ] || fail "ca.key is mode $(stat -c %a "$CA/ca.key"), expected 600"
CHECKS=$((CHECKS + 1))
[ "$(stat -c %a "$CA")" = 700 ] || fail "CA directory is mode $(stat -c %a "$CA"), expected 700"
expect_rc 2 "ca init twice" "$FS38" ca init --out "$CA"
expect_grep "$T/err" "already holds a CA" "ca init twice message"
chmod 644 "$CA/ca.key"
expect_rc 2 "a CA key readable by others is refused" "$FS38" ca issue "$CA" /dev/null
expect_grep "$T/err" "group or others" "CA key mode message"
chmod 600 "$CA/ca.key"

# ---- three devices: provision, issue, install ----
for d in d1 d2 d3; do
    expect_rc 0 "init $d" dev $d init --trust "$T/vendor.pub.pem"
    expect_rc 0 "provision $d" dev $d provision --csr "$T/$d.csr" --cost $COST
    expect_grep "$T/out" "^setup-credential: [0-9a-z]{5}(-[0-9a-z]{5}){3}$" "$d: setup-credential line"
    expect_grep "$T/out" "^ueid: 01[0-9a-f]{32}$" "$d: ueid line"
    expect_lines <(grep '^setup-credential: ' "$T/out") 1 "$d: the credential is printed once"
    sed -n 's/^setup-credential: //p' "$T/out" >"$T/$d.setup"
    sed -n 's/^ueid: //p' "$T/out" >"$T/$d.ueid"
    expect_rc 0 "issue $d" "$FS38" ca issue "$CA" "$T/$d.csr" --out "$T/$d.crt"
    expect_grep "$T/out" "^ca issue: certificate serial [0-9a-f]{32} for UEID $(cat "$T/$d.ueid")" "$d: issue line"
    # the CSR and the certificate name the device by its UEID in the CN (a broker's user name)
    openssl req -in "$T/$d.csr" -noout -subject -nameopt RFC2253 >"$T/subj" 2>/dev/null || fail "$d: openssl req"
    expect_grep "$T/subj" "^subject=O=fs38,serialNumber=$(cat "$T/$d.ueid"),CN=$(cat "$T/$d.ueid")$" "$d: CSR CN is the UEID"
    openssl x509 -in "$T/$d.crt" -noout -subject -nameopt RFC2253 >"$T/subj" 2>/dev/null || fail "$d: openssl x509"
    expect_grep "$T/subj" "^subject=O=fs38,serialNumber=$(cat "$T/$d.ueid"),CN=$(cat "$T/$d.ueid")$" "$d: certificate CN is the UEID"
done
expect_rc 0 "flash a slot of d1" dev d1 flash-slot A "$T/fw.suit" "$T/fw.img"
expect_rc 1 "provision twice" dev d1 provision --csr "$T/again.csr" --cost $COST
expect_grep "$T/err" "already provisioned" "provision twice: reason"
expect_no_grep "$T/out" "setup-credential" "provision twice prints no new credential"
# every device distinct: UEIDs, setup credentials, certificate serials and keys
CHECKS=$((CHECKS + 1))
[ "$(cat "$T"/d?.ueid | sort -u | wc -l)" = 3 ] || fail "UEIDs are not distinct"
CHECKS=$((CHECKS + 1))
[ "$(cat "$T"/d?.setup | sort -u | wc -l)" = 3 ] || fail "setup credentials are not distinct"
CHECKS=$((CHECKS + 1))
[ "$(grep -c '^V' "$CA/index.txt")" = 3 ] || fail "the CA index does not list 3 certificates"
CHECKS=$((CHECKS + 1))
[ "$(grep '^V' "$CA/index.txt" | cut -f2 | sort -u | wc -l)" = 3 ] || fail "serials are not distinct"
CHECKS=$((CHECKS + 1))
[ "$(grep '^V' "$CA/index.txt" | cut -f4 | sort -u | wc -l)" = 3 ] || fail "device keys are not distinct"
# the CA refuses: the same device twice, a CSR whose signature does not verify, a non-CSR
expect_rc 1 "issue twice" "$FS38" ca issue "$CA" "$T/d1.csr" --out "$T/x.crt"
expect_grep "$T/err" "already has certificate serial" "issue twice: reason"
# one base64 digit of the last body line (the end of the signature) changed
awk '{ l[NR] = $0 } END { for (i = 1; i <= NR; i++) { if (i == NR - 1) { c = substr(l[i], 1, 1);
     l[i] = (c == "A" ? "B" : "A") substr(l[i], 2) } print l[i] } }' "$T/d2.csr" >"$T/bad.csr"
if cmp -s "$T/bad.csr" "$T/d2.csr"; then fail "could not alter the CSR"; fi
expect_rc 1 "a CSR whose signature does not verify" "$FS38" ca issue "$CA" "$T/bad.csr" --out "$T/x.crt"
expect_grep "$T/err" "signature does not verify" "altered CSR: reason"
expect_rc 1 "not a CSR" "$FS38" ca issue "$CA" "$T/fw.suit"

expect_rc 1 "another device's certificate is refused" dev d1 install-cert "$T/d2.crt"
expect_grep "$T/err" "is not this device's own key" "foreign certificate: reason"
expect_rc 1 "not a certificate" dev d1 install-cert "$T/fw.suit"
expect_rc 0 "install d1's own certificate (checked against the CA)" dev d1 install-cert "$T/d1.crt" --ca "$CA/ca.crt"
expect_rc 0 "identity" dev d1 identity
expect_grep "$T/out" "^lifecycle: operational$" "identity: lifecycle"
expect_grep "$T/out" "^ueid: $(cat "$T/d1.ueid")$" "identity: ueid"

# ---- accounts ----
SETUP=$(cat "$T/d1.setup")
NEWPW="river otter copper lantern 91"
login() { printf '%s\n' "$2" | "$FS38_DEVICE" --state "$T/d1" login "$1"; }
passwd() { printf '%s\n%s\n' "$2" "$3" | "$FS38_DEVICE" --state "$T/d1" passwd "$1"; }
no_echo() { # nothing the device printed contains one of the passwords
    for pw in "$SETUP" "$NEWPW" "7ujMko0vizxv" "password1" "wrong-password-1"; do
        expect_no_grep "$T/out" "$pw" "no password echoed ($1, stdout)"
        expect_no_grep "$T/err" "$pw" "no password echoed ($1, stderr)"
    done
}
expect_rc 4 "first login with the setup credential: change required" login admin "$SETUP"
expect_grep "$T/err" "password change required" "change required message"
no_echo "setup login"
expect_rc 1 "wrong password" login admin "wrong-password-1"
cp "$T/err" "$T/err.wrong"
no_echo "wrong login"
expect_rc 1 "unknown user" login mallory "wrong-password-1"
CHECKS=$((CHECKS + 1))
cmp -s "$T/err" "$T/err.wrong" || fail "an unknown user is refused differently from a wrong password"
expect_grep "$T/err" "^login refused$" "generic refusal"
expect_rc 1 "a Mirai password is refused" passwd admin "$SETUP" "7ujMko0vizxv"
expect_grep "$T/err" "Mirai" "Mirai refusal names the list"
no_echo "Mirai passwd"
expect_rc 1 "a common password is refused" passwd admin "$SETUP" "password1"
expect_grep "$T/err" "most common" "common password refusal"
expect_rc 1 "a short password is refused" passwd admin "$SETUP" "x7!kq"
expect_grep "$T/err" "too short" "short password refusal"
expect_rc 1 "the device's UEID in the password is refused" passwd admin "$SETUP" "pw-$(cut -c3-14 "$T/d1.ueid")"
expect_grep "$T/err" "UEID" "UEID refusal"
expect_rc 4 "still the setup credential after refused changes" login admin "$SETUP"
expect_rc 0 "change the setup credential" passwd admin "$SETUP" "$NEWPW"
no_echo "passwd"
expect_rc 0 "login with the new password" login admin "$NEWPW"
expect_grep "$T/out" "^login: admin logged in$" "login message"
expect_rc 1 "the setup credential is gone" login admin "$SETUP"
expect_rc 0 "a right login clears the counter" login admin "$NEWPW"
# back-off: the third consecutive failure locks for 30 s; a new process (a reboot) does not reset it
expect_rc 1 "failure 1" login admin "wrong-password-1"
expect_rc 1 "failure 2" login admin "wrong-password-1"
expect_rc 1 "failure 3" login admin "wrong-password-1"
expect_grep "$T/err" "3 failed attempts: locked out for 30 s" "lockout message"
expect_rc 1 "the right password during the back-off" login admin "$NEWPW"
expect_grep "$T/err" "too many failed attempts, retry in [0-9]+ s" "back-off: remaining time"
expect_rc 1 "passwd during the back-off" passwd admin "$NEWPW" "another fine passphrase"
expect_grep "$T/err" "retry in" "passwd back-off"
no_echo "back-off"

# ---- attestation ----
NONCE=$("$FS38" attest nonce)
expect_rc 0 "attest" dev d1 attest --nonce "$NONCE" --out "$T/tok"
expect_rc 0 "attest verify" "$FS38" attest verify --ca "$CA" "$T/tok" --nonce "$NONCE"
expect_grep "$T/out" "^attest: valid token" "verify: valid"
expect_grep "$T/out" "^ueid: $(cat "$T/d1.ueid")$" "verify: ueid"
expect_grep "$T/out" "^nonce: $NONCE$" "verify: nonce"
expect_grep "$T/out" "^lifecycle: operational$" "verify: lifecycle"
expect_grep "$T/out" "^debug: enabled$" "verify: debug status"
expect_grep "$T/out" "^software: fs38 [0-9]+\.[0-9]+\.[0-9]+" "verify: version"
expect_grep "$T/out" "^slot A: verified, sequence 4, image sha-256 $(sha256sum "$T/fw.img" | cut -c1-64)" \
    "verify: slot A measurement (the image's SHA-256)"
expect_grep "$T/out" "running$" "verify: the running slot"
expect_grep "$T/out" "^slot B: empty$" "verify: slot B"
expect_rc 0 "attest verify --json" "$FS38" attest verify --ca "$CA" "$T/tok" --nonce "$NONCE" --json
CHECKS=$((CHECKS + 1))
"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["valid"] and j["measurements"][0]["sequence"]==4 and j["ueid"]==sys.argv[2]' \
    "$T/out" "$(cat "$T/d1.ueid")" || fail "--json output"
expect_rc 1 "another nonce (a replay)" "$FS38" attest verify --ca "$CA" "$T/tok" --nonce "$("$FS38" attest nonce)"
expect_grep "$T/err" "nonce" "replay: reason"
cp "$T/tok" "$T/tok.bad"
flip "$T/tok.bad" 40
expect_rc 1 "a changed token" "$FS38" attest verify --ca "$CA" "$T/tok.bad" --nonce "$NONCE"
expect_rc 0 "another CA" "$FS38" ca init --out "$T/ca2"
expect_rc 1 "a token checked against another CA" "$FS38" attest verify --ca "$T/ca2" "$T/tok" --nonce "$NONCE"
expect_grep "$T/err" "no certificate from this CA" "other CA: reason"
expect_rc 1 "a certificate of another CA given explicitly" "$FS38" attest verify --ca "$T/ca2" "$T/tok" \
    --nonce "$NONCE" --cert "$T/d1.crt"
expect_grep "$T/err" "does not chain" "wrong chain: reason"
expect_rc 1 "d2's certificate does not verify d1's token" "$FS38" attest verify --ca "$CA" "$T/tok" \
    --nonce "$NONCE" --cert "$T/d2.crt"
# an independent verifier: COSE_Sign1 Sig_structure, ECDSA P-256 / SHA-256 with the cert's key
CHECKS=$((CHECKS + 1))
"$PY" - "$T/tok" "$T/d1.crt" "$NONCE" <<'EOF' || fail "independent token verification"
import sys, cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
tok = cbor2.loads(open(sys.argv[1], "rb").read())
assert tok.tag == 18
prot, unprot, payload, sig = tok.value
assert cbor2.loads(prot) == {1: -7}
key = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read()).public_key()
tbs = cbor2.dumps(["Signature1", prot, b"", payload])
key.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")), tbs,
           ec.ECDSA(hashes.SHA256()))
c = cbor2.loads(payload)
assert c[10] == bytes.fromhex(sys.argv[3]) and c[256][0] == 1 and len(c[256]) == 17
assert c[270] == "fs38" and c[271][1] == 16384 and c[263] == 0 and c[-70002] == 2
assert c[-70001][0][1] == "A" and c[-70001][0][3] == 4 and c[-70001][0][7] is True
assert list(c.keys()) == sorted(c.keys(), key=lambda k: cbor2.dumps(k)), "keys not in deterministic order"
EOF

# ---- decommissioning ----
# what an attacker reading the flash chip would see before: every 32-byte window of the sealed
# store and of the log region (windows of mostly erased bytes left out)
fragments() { # FLASH OFF LEN -> hex windows on stdout
    od -An -v -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n' |
        awk '{ for (i = 1; i + 63 <= length($0); i += 2) { w = substr($0, i, 64); t = w;
               n = gsub(/ff/, "", t); if (n <= 8 && (i - 1) % 4 == 0) print w } }'
}
hexfile() { od -An -v -tx1 "$1" | tr -d ' \n'; echo; }
fragments "$T/d1/flash.bin" $STORE_OFF $STORE_LEN >"$T/frag"
CHECKS=$((CHECKS + 1))
[ "$(wc -l <"$T/frag")" -gt 500 ] || fail "too few store fragments before decommissioning ($(wc -l <"$T/frag"))"
hexfile "$T/d1/flash.bin" >"$T/flash.hex"
CHECKS=$((CHECKS + 1)) # (grep -o counts non-overlapping 32-byte matches)
[ "$(grep -o -F -f "$T/frag" "$T/flash.hex" | wc -l)" -gt 40 ] || fail "the scan does not find the store before"
expect_rc 0 "decommission" dev d1 decommission --receipt "$T/receipt" --nonce "$NONCE"
expect_grep "$T/out" "erased and read back blank: store 0x602000\+65536, log 0x612000\+262144" "decommission: regions"
expect_grep "$T/out" "lifecycle decommissioned" "decommission: lifecycle"
hexfile "$T/d1/flash.bin" >"$T/flash.hex"
CHECKS=$((CHECKS + 1))
found=$(grep -o -F -f "$T/frag" "$T/flash.hex" | wc -l)
[ "$found" = 0 ] || fail "$found fragments of the old store are still in the flash"
for s in "$SETUP" "$NEWPW"; do
    CHECKS=$((CHECKS + 1))
    ! grep -a -q -F "$s" "$T/d1/flash.bin" || fail "a password is in the flash"
done
CHECKS=$((CHECKS + 1))
[ "$(od -An -v -tx1 -j $LOG_OFF -N $LOG_LEN "$T/d1/flash.bin" | tr -d ' \nf' | wc -c)" = 0 ] || fail "log region not blank"
expect_rc 0 "receipt verify" "$FS38" receipt verify --ca "$CA" "$T/receipt" --nonce "$NONCE"
expect_grep "$T/out" "^receipt: valid decommissioning receipt" "receipt: valid"
expect_grep "$T/out" "^ueid: $(cat "$T/d1.ueid")$" "receipt: ueid"
expect_grep "$T/out" "^keys destroyed: 0x00380003" "receipt: keys"
expect_grep "$T/out" "store 0x602000\+65536 log 0x612000\+262144" "receipt: regions"
expect_rc 1 "receipt with another nonce" "$FS38" receipt verify --ca "$CA" "$T/receipt" --nonce "$("$FS38" attest nonce)"
expect_rc 1 "a receipt is not a token" "$FS38" attest verify --ca "$CA" "$T/receipt" --nonce "$NONCE"
expect_rc 1 "a token is not a receipt" "$FS38" receipt verify --ca "$CA" "$T/tok"
expect_rc 0 "receipt verify --retire" "$FS38" receipt verify --ca "$CA" "$T/receipt" --retire --json
expect_grep "$T/out" '"valid":true' "receipt --json"
CHECKS=$((CHECKS + 1))
[ "$(grep -c '^R' "$CA/index.txt")" = 1 ] || fail "the certificate is not retired in the index"
expect_rc 1 "tokens of a retired certificate are refused" "$FS38" attest verify --ca "$CA" "$T/tok" --nonce "$NONCE"
expect_grep "$T/err" "retired" "retired: reason"
expect_rc 1 "no attestation after decommissioning" dev d1 attest --nonce "$NONCE" --out "$T/tok2"
expect_rc 1 "no login after decommissioning" login admin "$NEWPW"
expect_grep "$T/err" "^login refused$" "generic refusal after decommissioning"
expect_rc 0 "decommission again: the kept receipt" dev d1 decommission --receipt "$T/receipt2"
CHECKS=$((CHECKS + 1))
cmp -s "$T/receipt" "$T/receipt2" || fail "the kept receipt differs"
# a new life with a new identity
expect_rc 0 "provision after decommissioning" dev d1 provision --csr "$T/d1b.csr" --cost $COST
CHECKS=$((CHECKS + 1))
[ "$(sed -n 's/^ueid: //p' "$T/out")" != "$(cat "$T/d1.ueid")" ] || fail "the new life has the old UEID"
expect_rc 0 "the new identity gets a certificate" "$FS38" ca issue "$CA" "$T/d1b.csr" --out "$T/d1b.crt"

# ---- a power cut during decommissioning: completed at the next start ----
expect_rc 0 "install d2's certificate" dev d2 install-cert "$T/d2.crt"
expect_rc 3 "decommission d2, power cut at operation 12" dev d2 decommission --receipt "$T/r2" --power-cut 12
expect_grep "$T/err" "power lost" "power cut message"
expect_rc 1 "no attestation while decommissioning is unfinished" dev d2 attest --nonce "$NONCE" --out "$T/x"
expect_grep "$T/err" "interrupted decommissioning was completed" "completed at the next start"
expect_rc 0 "the receipt of the completed decommissioning" dev d2 decommission --receipt "$T/r2"
expect_rc 0 "it verifies" "$FS38" receipt verify --ca "$CA" "$T/r2"

# ---- provisioning with the security log; decommissioning erases it ----
expect_rc 0 "init d4" dev d4 init --trust "$T/vendor.pub.pem"
expect_rc 0 "provision d4 with its security log" dev d4 provision --csr "$T/d4.csr" --cost $COST --log-key-out "$T/d4.k0"
expect_grep "$T/out" "^setup-credential: " "d4: setup-credential line"
expect_grep "$T/out" "security log created" "d4: log created"
CHECKS=$((CHECKS + 1))
[ "$(stat -c %a "$T/d4.k0")" = 600 ] || fail "k0 file is mode $(stat -c %a "$T/d4.k0"), expected 600"
expect_grep "$T/d4.k0" "^[0-9a-f]{64}$" "k0 file: 64 hex digits"
expect_rc 1 "a failed login (an event for the log)" \
    sh -c 'echo wrong-password-1 | "$1" --state "$2" login admin' sh "$FS38_DEVICE" "$T/d4"
CHECKS=$((CHECKS + 1))
[ "$(od -An -v -tx1 -j $LOG_OFF -N $LOG_LEN "$T/d4/flash.bin" | tr -d ' \nf' | wc -c)" -gt 0 ] || fail "the log region is empty"
expect_rc 0 "decommission d4 (its log open)" dev d4 decommission --receipt "$T/r4"
CHECKS=$((CHECKS + 1))
[ "$(od -An -v -tx1 -j $LOG_OFF -N $LOG_LEN "$T/d4/flash.bin" | tr -d ' \nf' | wc -c)" = 0 ] || fail "d4: log region not blank"
expect_rc 0 "d4: identity after decommissioning" dev d4 identity
CHECKS=$((CHECKS + 1))
[ "$(od -An -v -tx1 -j $LOG_OFF -N $LOG_LEN "$T/d4/flash.bin" | tr -d ' \nf' | wc -c)" = 0 ] || fail "d4: something wrote into the erased log"

# ---- CSRs made by openssl: keys other than P-256 are named; --days is capped at the CA ----
SHORT_CA="$T/ca-short"
expect_rc 0 "a CA valid 10 days" "$FS38" ca init --out "$SHORT_CA" --days 10
UEID_X=01$(head -c 16 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
ossl_csr() { # NAME KEYGEN-ARGS...: $T/NAME.key, $T/NAME.csr with a valid UEID subject
    local name=$1
    shift
    openssl genpkey "$@" -out "$T/$name.key" 2>/dev/null &&
        openssl req -new -key "$T/$name.key" -subj "/CN=ossl/serialNumber=$UEID_X" -out "$T/$name.csr" 2>/dev/null ||
        fail "openssl: cannot make the $name CSR"
}
ossl_csr p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
ossl_csr p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
ossl_csr ed25519 -algorithm ED25519
ossl_csr rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048
for k in "p384:P-384 \\(secp384r1\\)" "ed25519:Ed25519" "rsa:RSA"; do
    expect_rc 1 "a ${k%%:*} CSR is refused" "$FS38" ca issue "$SHORT_CA" "$T/${k%%:*}.csr" --out "$T/x.crt"
    expect_lines "$T/err" 1 "${k%%:*} CSR: one line on stderr"
    expect_grep "$T/err" "^ca issue: refused: .*${k%%:*}.csr: the CSR's key is ${k#*:}; fs38 devices use P-256 \\(ES256\\)$" \
        "${k%%:*} CSR: the key type is named"
    expect_no_grep "$T/err" "not a PKCS#10" "${k%%:*} CSR: not called a non-CSR"
done
expect_rc 0 "an openssl P-256 CSR with --days 30 under a 10-day CA" "$FS38" ca issue "$SHORT_CA" "$T/p256.csr" \
    --days 30 --out "$T/p256.crt"
expect_grep "$T/err" "^ca issue: note: 30 days would end at [0-9]{14}Z, after the CA certificate's notAfter [0-9]{14}Z: the certificate's notAfter is capped at [0-9]{14}Z$" \
    "--days beyond the CA: capped, with a note"
ca_end=$(openssl x509 -in "$SHORT_CA/ca.crt" -noout -enddate | cut -d= -f2)
dev_end=$(openssl x509 -in "$T/p256.crt" -noout -enddate | cut -d= -f2)
CHECKS=$((CHECKS + 1))
[ -n "$ca_end" ] && [ "$ca_end" = "$dev_end" ] || fail "device certificate ends $dev_end, the CA $ca_end"
CHECKS=$((CHECKS + 1))
openssl verify -CAfile "$SHORT_CA/ca.crt" "$T/p256.crt" >/dev/null 2>&1 || fail "openssl does not verify the capped certificate"
expect_grep "$SHORT_CA/index.txt" "^V.*$UEID_X.*$(date -u -d "$ca_end" +%Y%m%d%H%M%S)Z" "the index records the capped notAfter"
expect_rc 0 "--days within the CA is kept" "$FS38" ca issue "$SHORT_CA" "$T/p256.csr" --days 2 --reissue --out "$T/p256b.crt"
expect_no_grep "$T/err" "capped" "--days within the CA: no note"
CHECKS=$((CHECKS + 1))
[ "$(openssl x509 -in "$T/p256b.crt" -noout -enddate | cut -d= -f2)" != "$ca_end" ] || fail "a 2-day certificate was capped"
CHECKS=$((CHECKS + 1))
[ "$(date -u -d "$(openssl x509 -in "$T/p256b.crt" -noout -enddate | cut -d= -f2)" +%s)" -le $(($(date +%s) + 2 * 86400 + 60)) ] ||
    fail "--days 2 gave a longer certificate"
# the default (7300 days) under a 10-day CA: capped silently
expect_rc 0 "the default validity under a 10-day CA" "$FS38" ca issue "$SHORT_CA" "$T/p256.csr" --reissue --out "$T/p256c.crt"
expect_no_grep "$T/err" "note" "default validity: no note"
CHECKS=$((CHECKS + 1))
[ "$(openssl x509 -in "$T/p256c.crt" -noout -enddate | cut -d= -f2)" = "$ca_end" ] || fail "the default validity outlives the CA"
# fs38-device --help names init's key options
expect_rc 0 "fs38-device --help" "$FS38_DEVICE" --help
expect_grep "$T/out" "\\[--ecdh-key KEY.pem\\] \\[--kek KEK.hex\\]" "device help: init --ecdh-key / --kek"

# usage errors
expect_rc 2 "provision without --csr" dev d3 provision
expect_rc 2 "provision with a tiny cost" dev d3 provision --csr "$T/x.csr" --cost 10
expect_rc 2 "attest with a short nonce" dev d3 attest --nonce 0011 --out "$T/x"
expect_rc 2 "attest verify without nonce" "$FS38" attest verify --ca "$CA" "$T/tok"
expect_rc 2 "login without user" dev d3 login
finish
