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
expect_grep "$T/out" '^<108>1 - dev1 fs38 - login-failed \[fs38@32473 seq="[0-9]+" batch="1" boot="[0-9]+" mono="[0-9]+" code="21" arg="3" verified="no"\] user admin$' "RFC 5424 line"
expect_no_grep "$T/out" '^[^<]' "only syslog lines"

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
expect_rc 0 "verify --state (resumed)" "$FS38" log verify --k0 "$K0" --state "$T/vstate" "$T/b2"
expect_rc 1 "verify --state (the same batch again)" "$FS38" log verify --k0 "$K0" --state "$T/vstate" "$T/b2"
expect_grep "$T/out" "replayed" "resumed replay named"

# a verifier's nonce makes an export fresh
expect_rc 0 "export --nonce" dev log export --out "$T/b3" --nonce 00112233445566778899aabbccddeeff
expect_rc 0 "verify --nonce" "$FS38" log verify --k0 "$K0" --nonce 00112233445566778899aabbccddeeff "$T/b3"
expect_rc 1 "verify another nonce" "$FS38" log verify --k0 "$K0" --nonce 0011 "$T/b3"
expect_grep "$T/out" "^bad checkpoint: .*expected nonce" "stale export named"

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
