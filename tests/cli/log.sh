#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The security log (control 7) through the programs: fs38-device log init/export/release/status/
# append/seal, events of boot and updates landing in it, and fs38 log verify/show on the exports —
# tampering, truncation, replay, resume, nonce, signed checkpoints, ring wrap, a power cut.
. "$(dirname "$0")/lib.sh"

: "${FS38_DEVICE:?FS38_DEVICE is not set}"
S="$T/state"
dev() { "$FS38_DEVICE" --state "$S" "$@"; }
PY=/usr/bin/python3

keypair vendor
keypair other
random_file "$T/a1.img" 3000
random_file "$T/b2.img" 4000
sign "$T/vendor.pem" "$T/a1.img" 1 "$T/a1.suit"
sign "$T/vendor.pem" "$T/b2.img" 2 "$T/b2.suit"
sign "$T/other.pem" "$T/b2.img" 3 "$T/b3-other.suit"

expect_rc 0 "init" dev init --trust "$T/vendor.pub.pem"
expect_rc 0 "status before the log exists" dev log status
expect_grep "$T/out" "^log: not initialised" "status says not initialised"
expect_rc 1 "export without a log" dev log export --out "$T/none"
expect_grep "$T/err" "no security log" "export without a log says why"
expect_rc 2 "log init needs --key-out" dev log init

# events before the log exists are dropped; a log created twice issues a new k0
expect_rc 0 "flash-slot A" dev flash-slot A "$T/a1.suit" "$T/a1.img"
expect_rc 0 "boot before the log" dev boot
expect_rc 0 "log init" dev log init --key-out "$T/k0.old"
CHECKS=$((CHECKS + 1))
[ "$(stat -c %a "$T/k0.old")" = 600 ] || fail "k0 file is not mode 600"
expect_grep "$T/k0.old" "^[0-9a-f]{64}$" "k0 is 64 hex digits"
expect_rc 1 "log init twice" dev log init --key-out "$T/k0.again"
expect_grep "$T/err" "already has a security log" "log init twice says why"
expect_rc 2 "k0 is never overwritten" dev log init --force --key-out "$T/k0.old"
expect_rc 0 "log init --force" dev log init --force --key-out "$T/k0"
K0="$T/k0"

# the lifecycle raises events through fs38_event()
expect_rc 0 "boot" dev boot
expect_rc 0 "flash-slot B" dev flash-slot B "$T/b2.suit" "$T/b2.img"
expect_rc 0 "commit B" dev commit
expect_rc 1 "update by an untrusted signer" dev update "$T/b3-other.suit" "$T/b2.img"
expect_rc 1 "rollback update" dev update "$T/a1.suit" "$T/a1.img"
expect_rc 0 "application events" dev log append --code login-failed --severity 4 --arg 3 --detail "user admin" --count 3
expect_rc 0 "status" dev log status
expect_grep "$T/out" "^log: records 0\.\." "status shows the records"
expect_grep "$T/out" "^log: boot [0-9]+; checkpoints unsigned" "status shows the boot counter"

expect_rc 0 "export" dev log export --out "$T/b1"
expect_grep "$T/out" "^log export: records 0\.\.[0-9]+ .*checkpoint" "export summary"
expect_rc 0 "verify" "$FS38" log verify --k0 "$K0" "$T/b1"
expect_grep "$T/out" "^seq 0: OK  log created \(cleared after seq" "genesis of the cleared log"
expect_grep "$T/out" "^seq [0-9]+: OK  log-cleared" "log-cleared event"
expect_grep "$T/out" "^seq [0-9]+: OK  boot-ok " "boot verdict"
expect_grep "$T/out" "^seq [0-9]+: OK  update-confirmed|^seq [0-9]+: OK  update-rejected" "update events"
expect_grep "$T/out" "^seq [0-9]+: OK  rollback-refused" "rollback refused"
expect_grep "$T/out" "^seq [0-9]+: OK  login-failed \(warning\) boot [0-9]+ t=[0-9]+ms arg=3 \"user admin\"" "login failure"
expect_grep "$T/out" "^seq [0-9]+: OK  checkpoint of an export from 0" "the checkpoint closes it"
expect_grep "$T/out" "^log verify: [0-9]+ record\(s\) verified, 0 problem\(s\).*: OK$" "summary OK"
expect_rc 1 "the old k0 verifies nothing" "$FS38" log verify --k0 "$T/k0.old" "$T/b1"
expect_grep "$T/out" "no record verifies with this K0" "wrong k0 named"

# show: text, JSON, RFC 5424
expect_rc 0 "show" "$FS38" log show "$T/b1"
expect_grep "$T/out" "^seq [0-9]+  rollback-refused" "show text"
expect_rc 0 "show --json" "$FS38" log show --json "$T/b1"
if [ -x "$PY" ]; then
    CHECKS=$((CHECKS + 1))
    "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r[0]["kind"]=="genesis" and any(x.get("event")=="login-failed" and x["detail"]=="user admin" for x in r)' "$T/out" ||
        fail "show --json is not the expected JSON"
fi
expect_rc 0 "show --rfc5424" "$FS38" log show --rfc5424 --hostname dev1 "$T/b1"
BOM=$'\xef\xbb\xbf'
expect_grep "$T/out" '^<108>1 - dev1 fs38 - login-failed \[fs38@32473 seq="[0-9]+" batch="1" boot="[0-9]+" mono="[0-9]+" code="21" arg="3" verified="no"\] '"$BOM"'user admin$' "RFC 5424 line (MSG: BOM + UTF-8)"
expect_no_grep "$T/out" '^[^<]' "only syslog lines"
expect_no_grep "$T/out" '\] [^'"$BOM"']' "every MSG starts with the BOM"
# RFC 5424 HOSTNAME = 1*255 PRINTUSASCII (%d33-126): anything else is refused, nothing printed
for h in "dev 1" "dev]1" "$(printf 'h%.0s' $(seq 300))" "" "dév1" $'dev\t1' 'dev"1' "dev=1" "[::1]"; do
    expect_rc 2 "--hostname '${h:0:20}' (${#h} chars) refused" "$FS38" log show --rfc5424 --hostname "$h" "$T/b1"
    expect_grep "$T/err" "hostname must be 1 to 255 printable ASCII" "bad hostname: says why"
    expect_lines "$T/out" 0 "bad hostname: nothing printed"
done
H255=$(printf 'h%.0s' $(seq 255))
expect_rc 0 "--hostname of 255 characters" "$FS38" log show --rfc5424 --hostname "$H255" "$T/b1"
expect_grep "$T/out" "^<[0-9]+>1 - $H255 fs38 " "255-character hostname used"
expect_rc 0 "--hostname -" "$FS38" log show --rfc5424 --hostname - "$T/b1"
expect_grep "$T/out" '^<[0-9]+>1 - - fs38 - ' "NILVALUE hostname"
# the SD-ID's enterprise number: 32473 (RFC 5612 documentation number) unless set
expect_rc 0 "--enterprise-number" "$FS38" log show --rfc5424 --enterprise-number 4294967295 "$T/b1"
expect_grep "$T/out" '^<108>1 - - fs38 - login-failed \[fs38@4294967295 seq=' "SD-ID with the given number"
expect_no_grep "$T/out" '32473' "no documentation number left"
for pen in abc -1 +5 0 012 4294967296 12.3 "" " 7" 99999999999999999999; do
    expect_rc 2 "--enterprise-number '$pen' refused" "$FS38" log show --rfc5424 --enterprise-number "$pen" "$T/b1"
    expect_grep "$T/err" "enterprise-number must be a private enterprise number" "bad enterprise number: says why"
done
# MSGID (1*32 PRINTUSASCII) for an event code this build does not name
expect_rc 0 "an event of an unknown code" dev log append --code 987654321 --detail "vendor event"
expect_rc 0 "export it" dev log export --out "$T/b-code"
expect_rc 0 "show --rfc5424 unknown code" "$FS38" log show --rfc5424 "$T/b-code"
expect_grep "$T/out" '^<[0-9]+>1 - - fs38 - event-987654321 \[fs38@32473 seq="[0-9]+" batch="1" boot="[0-9]+" mono="[0-9]+" code="987654321" ' "MSGID event-N"
# MSG stays valid UTF-8 on one line: controls become '?', bytes that are not UTF-8 U+FFFD
expect_rc 0 "events with odd details" dev log append --code login-failed --detail $'caf\xc3\xa9 \xff\xc0\xaf tab\there'
expect_rc 0 "export the odd details" dev log export --out "$T/b-odd"
expect_rc 0 "show --rfc5424 odd details" "$FS38" log show --rfc5424 "$T/b-odd"
expect_grep "$T/out" "\] ${BOM}caf"$'\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd tab\\?here$' "invalid UTF-8 replaced, control replaced"
if command -v iconv >/dev/null 2>&1; then
    CHECKS=$((CHECKS + 1))
    iconv -f UTF-8 -t UTF-8 "$T/out" >/dev/null 2>&1 || fail "rfc5424 output is not valid UTF-8"
fi

# one byte changed: the verifier names the record
cp "$T/b1" "$T/b1.bad"
flip "$T/b1.bad" 120
expect_rc 1 "a changed byte" "$FS38" log verify --k0 "$K0" "$T/b1.bad"
expect_grep "$T/out" "^seq [0-9]+: modified \(batch 1, offset [0-9]+" "modified record named"
expect_grep "$T/out" "FAILED \(tampering or loss\)$" "summary FAILED"
# the tail cut off
head -c $(($(stat -c %s "$T/b1") - 30)) "$T/b1" >"$T/b1.cut"
expect_rc 1 "a truncated export" "$FS38" log verify --k0 "$K0" --quiet "$T/b1.cut"
expect_grep "$T/out" "^truncated after [0-9]+" "truncation named"
expect_no_grep "$T/out" "OK  " "--quiet prints no OK line"

# batches in order, replay, resume
LAST=$(grep -Eo 'checkpoint [0-9]+' "$T/out" | head -1)
expect_rc 0 "more events" dev log append --code lockout --severity 3 --arg 60 --detail "admin locked for 60 s"
N1=$("$FS38" log show "$T/b1" | tail -1 | awk '{print $2}')
expect_rc 0 "export --since" dev log export --since $((N1 + 1)) --out "$T/b2"
expect_rc 0 "verify two batches" "$FS38" log verify --k0 "$K0" "$T/b1" "$T/b2"
expect_grep "$T/out" "OK  lockout \(error\)" "lockout event"
expect_rc 1 "an old batch replayed" "$FS38" log verify --k0 "$K0" "$T/b1" "$T/b2" "$T/b1"
expect_grep "$T/out" "^seq 0\.\.$N1: replayed" "replay named as a range"
expect_rc 1 "the second batch alone" "$FS38" log verify --k0 "$K0" "$T/b2"
expect_grep "$T/out" "^missing 0\.\.$N1 " "records before it missing"
expect_rc 0 "verify --state (first)" "$FS38" log verify --k0 "$K0" --state "$T/vstate" "$T/b1"
expect_grep "$T/vstate" "^fs38-log-vstate 1 $((N1 + 1)) [0-9]+ [0-9a-f]{64}$" "state written"
# the state file is read strictly (docs/log-format.md §5.1): anything else is refused, exit 2
GOODSTATE=$(cat "$T/vstate")
read -r _ _ SN SE SH <"$T/vstate"
for bad in "fs38-log-vstate 1 -1 $SE $SH" "fs38-log-vstate 1 $SN $SE $SH junk" "fs38-log-vstate 1  $SN $SE $SH" \
           "fs38-log-vstate 2 $SN $SE $SH" "fs38-log-vstate 1 0$SN $SE $SH" "fs38-log-vstate 1 $SN 4294967296 $SH" \
           "fs38-log-vstate 1 $SN $SE ${SH:1}" "fs38-log-vstate 1 4294967297 $SE $SH" ""; do
    printf '%s\n' "$bad" >"$T/vstate.bad"
    expect_rc 2 "state file '${bad:0:40}...' refused" "$FS38" log verify --k0 "$K0" --state "$T/vstate.bad" "$T/b2"
    expect_grep "$T/err" "not a verifier state file" "bad state file: says why"
done
printf '%s' "$GOODSTATE" >"$T/vstate.nonl"
expect_rc 0 "state file without its newline" "$FS38" log verify --k0 "$K0" --state "$T/vstate.nonl" "$T/b2"
expect_rc 0 "verify --state (resumed)" "$FS38" log verify --k0 "$K0" --state "$T/vstate" "$T/b2"
expect_rc 1 "verify --state (the same batch again)" "$FS38" log verify --k0 "$K0" --state "$T/vstate" "$T/b2"
expect_grep "$T/out" "replayed" "resumed replay named"

# OK needs proof: a batch without records, or without its closing checkpoint, proves nothing.
# ["fs38-log",1,0,0,h'00'*32,h''] — the same constant for every device
{ printf '\x86\x68fs38-log\x01\x00\x00\x58\x20'; head -c 32 /dev/zero; printf '\x40'; } >"$T/empty"
CHECKS=$((CHECKS + 1))
[ "$(stat -c %s "$T/empty")" = 48 ] || fail "the empty batch is not 48 bytes"
expect_rc 1 "an empty batch" "$FS38" log verify --k0 "$K0" "$T/empty"
expect_grep "$T/out" "^truncated \(the batch holds no record" "empty batch named"
expect_grep "$T/out" "^log verify: 0 record\(s\) verified, 1 problem\(s\).*FAILED" "empty batch FAILED"
expect_rc 1 "an empty batch with a nonce" "$FS38" log verify --k0 "$K0" --nonce 00112233 "$T/empty"
expect_rc 1 "a verified batch, then an empty one" "$FS38" log verify --k0 "$K0" "$T/b1" "$T/empty"
expect_grep "$T/out" "^truncated after [0-9]+ \(batch 2: the batch holds no record" "empty second batch named"
expect_rc 1 "an empty batch after a resume state" "$FS38" log verify --k0 "$K0" --state "$T/vstate" "$T/empty"
if [ -x "$PY" ]; then
    # the batch re-encoded without its final checkpoint: every record in it is authentic
    "$PY" - "$T/b1" "$T/b1.nocp" "$K0" "$T/b-forged" <<'PYEOF'
import sys, hmac, hashlib, struct
def head(b, i):
    ib = b[i]; mt, ai = ib >> 5, ib & 31
    if ai < 24: return mt, ai, i + 1
    n = 1 << (ai - 24)
    return mt, int.from_bytes(b[i + 1:i + 1 + n], "big"), i + 1 + n
def enc(mt, v):
    if v < 24: return bytes([mt << 5 | v])
    for ai, n in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if v < 1 << (8 * n): return bytes([mt << 5 | ai]) + v.to_bytes(n, "big")
b = open(sys.argv[1], "rb").read()
mt, n, i = head(b, 0); assert mt == 4 and n == 6
mt, l, i = head(b, i); i += l                       # "fs38-log"
_, _, i = head(b, i); _, start, i = head(b, i); _, epoch, i = head(b, i)
mt, l, i = head(b, i); prev = b[i:i + l]; i += l
mt, l, i = head(b, i); recs = b[i:i + l]
frames, p = [], 0
while p < len(recs):
    size = 38 + recs[p + 1]; frames.append(recs[p:p + size]); p += size
assert frames[-1][0] == 0xB6, "the export ends with its checkpoint"
def batch(start, epoch, prev, blob):
    return (bytes([0x86]) + enc(3, 8) + b"fs38-log" + enc(0, 1) + enc(0, start) + enc(0, epoch)
            + enc(2, 32) + prev + enc(2, len(blob)) + blob)
open(sys.argv[2], "wb").write(batch(start, epoch, prev, b"".join(frames[:-1])))
# genesis + an event whose payload is not CBOR + a checkpoint, all with valid MACs under k0
k0 = bytes.fromhex(open(sys.argv[3]).read().strip())
def rec(kind, seq, pay, prev):
    h = bytes([0xB0 | kind, len(pay)]) + struct.pack("<I", seq) + pay
    return h + hmac.new(k0, prev + h, hashlib.sha256).digest()
g = frames[0]
e = rec(2, 1, b"\xff\xfeNOT CBOR", g[-32:])
c = rec(6, 2, bytes([0x85, 0, 0, 0, 0xf6, 0xf6]), e[-32:])
open(sys.argv[4], "wb").write(batch(0, 0, bytes(32), g + e + c))
PYEOF
    CHECKS=$((CHECKS + 1))
    [ -s "$T/b1.nocp" ] && [ -s "$T/b-forged" ] || fail "python could not re-encode the batch"
    expect_rc 1 "a batch cut before its final checkpoint" "$FS38" log verify --k0 "$K0" "$T/b1.nocp"
    expect_grep "$T/out" "^truncated after [0-9]+ \(batch 1: the export ends without its checkpoint\)" "missing checkpoint named"
    expect_no_grep "$T/out" "^seq [0-9]+: OK  checkpoint" "no checkpoint in it"
    expect_rc 1 "an authentic event whose payload is not CBOR" "$FS38" log verify --k0 "$K0" "$T/b-forged"
    expect_grep "$T/out" "^seq 1: malformed \(batch 1, offset [0-9]+: authentic, but its payload is not an event" "malformed payload named"
    expect_grep "$T/out" "^seq 2: OK  checkpoint of an export from 0" "the chain goes on after it"
    expect_grep "$T/out" "1 problem\(s\).*FAILED" "malformed payload fails the verification"
fi

# a verifier's nonce makes an export fresh
expect_rc 0 "export --nonce" dev log export --out "$T/b3" --nonce 00112233445566778899aabbccddeeff
expect_rc 0 "verify --nonce" "$FS38" log verify --k0 "$K0" --nonce 00112233445566778899aabbccddeeff "$T/b3"
expect_rc 1 "verify another nonce" "$FS38" log verify --k0 "$K0" --nonce 0011 "$T/b3"
expect_grep "$T/out" "^bad checkpoint: .*expected nonce" "stale export named"
expect_rc 1 "a nonce expected, the export has none" "$FS38" log verify --k0 "$K0" --nonce 00112233445566778899aabbccddeeff "$T/b1"
expect_grep "$T/out" "^bad checkpoint: .*expected nonce" "export without a nonce named stale"

# signed checkpoints against a certificate (here: a P-256 key standing in for the device key)
if command -v openssl >/dev/null 2>&1; then
    keypair devkey
    openssl req -new -x509 -key "$T/devkey.pem" -subj "/CN=fs38 test device" -days 2 -out "$T/dev.crt" 2>/dev/null ||
        fail "openssl req"
    openssl req -new -x509 -key "$T/other.pem" -subj "/CN=another device" -days 2 -out "$T/other.crt" 2>/dev/null
    expect_rc 0 "export signed" dev log export --out "$T/b4" --sign-key "$T/devkey.pem"
    expect_grep "$T/out" "signed with the given key" "export says signed"
    expect_rc 0 "verify --cert" "$FS38" log verify --k0 "$K0" --cert "$T/dev.crt" "$T/b4"
    expect_grep "$T/out" "checkpoint signatures checked: OK$" "signature checked"
    expect_rc 0 "verify --pub" "$FS38" log verify --k0 "$K0" --pub "$T/devkey.pub.pem" "$T/b4"
    expect_rc 1 "verify with another certificate" "$FS38" log verify --k0 "$K0" --cert "$T/other.crt" "$T/b4"
    expect_grep "$T/out" "^bad checkpoint: seq [0-9]+ \(batch 1: checkpoint signature does not verify" "bad signature named"
    expect_rc 1 "unsigned export against a certificate" "$FS38" log verify --k0 "$K0" --cert "$T/dev.crt" "$T/b3"
    expect_grep "$T/out" "checkpoint not signed" "unsigned named"
    expect_rc 1 "an empty batch against a certificate" "$FS38" log verify --k0 "$K0" --cert "$T/dev.crt" --nonce 0011 "$T/empty"
    expect_grep "$T/out" "FAILED" "empty batch FAILED with a certificate"
    expect_rc 2 "not a certificate" "$FS38" log verify --k0 "$K0" --cert "$T/k0" "$T/b4"
fi

# a power cut while appending loses at most the record being written
expect_rc 3 "power cut" dev log append --code attestation --count 40 --power-cut 17
expect_rc 0 "events after the cut" dev log append --code login-ok --detail "after the cut"
expect_rc 0 "export after the cut" dev log export --out "$T/b5"
expect_rc 0 "verify after the cut" "$FS38" log verify --k0 "$K0" --quiet "$T/b5"
expect_rc 0 "seal" dev log seal
expect_grep "$T/out" "^log seal: epoch [0-9]+ begins" "seal"

# the ring wraps: the overwritten records are named, never silently gone
expect_rc 0 "fill the ring" dev log append --code login-failed --detail "brute force" --count 4500
expect_rc 0 "export after the wrap" dev log export --out "$T/b6"
expect_grep "$T/out" "records before [0-9]+ are no longer on the device" "export notes the wrap"
expect_rc 1 "verify after the wrap" "$FS38" log verify --k0 "$K0" --quiet "$T/b6"
expect_grep "$T/out" "^lost 0\.\.[0-9]+ \(lost on the device \(ring overwritten before export\)\)$" "lost range named"
# acknowledged records are released, not lost
OLDEST=$(dev log status | sed -n 's/^log: records \([0-9]*\)\.\..*/\1/p')
HEAD=$(dev log status | sed -n 's/^log: records [0-9]*\.\.\([0-9]*\) .*/\1/p')
expect_rc 0 "release" dev log release "$HEAD"
expect_rc 1 "release beyond the head" dev log release 99999999
expect_rc 0 "more after the release" dev log append --code login-failed --count 1500
expect_rc 0 "export after release" dev log export --out "$T/b7" --since $((HEAD + 1))
expect_rc 0 "status after release" dev log status
expect_grep "$T/out" "released up to $HEAD$" "release shown"

# usage and I/O errors
expect_rc 2 "log without a command" "$FS38" log
expect_rc 2 "verify without --k0" "$FS38" log verify "$T/b1"
expect_rc 2 "verify without a batch" "$FS38" log verify --k0 "$K0"
expect_rc 2 "verify a missing file" "$FS38" log verify --k0 "$K0" "$T/missing"
expect_rc 2 "verify with a bad k0" "$FS38" log verify --k0 "$T/a1.img" "$T/b1"
expect_rc 1 "verify something else" "$FS38" log verify --k0 "$K0" "$T/a1.suit"
expect_grep "$T/out" "bad batch" "not a batch"
expect_rc 1 "show something else" "$FS38" log show "$T/a1.suit"
expect_rc 2 "show --json --rfc5424" "$FS38" log show --json --rfc5424 "$T/b1"
expect_rc 0 "log --help" "$FS38" log --help
expect_rc 0 "device log --help" dev log --help
expect_rc 2 "device log frob" dev log frob
expect_rc 2 "append without --code" dev log append
expect_rc 2 "export without --out" dev log export

finish
