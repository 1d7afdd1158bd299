#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Several fs38-device processes on one state directory at the same time: the device lock (the
# port's lock, held for the whole command) must serialise them.
#   - 64 parallel wrong logins: no more passwords checked than the back-off allows (3), counted
#     both from the refusals (a checked password says "login refused", a refusal during the
#     back-off "too many failed attempts") and from the security log's login-failed events;
#   - 32 parallel `log append`: every event is in the export, and the export verifies;
#   - parallel update + boot + status: nothing exits 2, the store opens afterwards, boot works.
# The racy parts run ROUNDS times on fresh copies of a provisioned device (a 1-in-15 race shows).
# Bounded: every process is waited for, and ctest's TIMEOUT stops the script.
. "$(dirname "$0")/lib.sh"

: "${FS38_DEVICE:?FS38_DEVICE is not set}"
COST=10000 # the lowest PBKDF2 cost: keeps the logins fast
ROUNDS=${FS38_CONC_ROUNDS:-4}
LOGINS=64
APPENDS=32
THRESHOLD=3 # FS38_AUTH_LOCKOUT_THRESHOLD: passwords checked before the back-off
devs() { local s=$1; shift; "$FS38_DEVICE" --state "$s" "$@"; }

keypair vendor
random_file "$T/a1.img" 3000
random_file "$T/b2.img" 5000
sign "$T/vendor.pem" "$T/a1.img" 1 "$T/a1.suit"
sign "$T/vendor.pem" "$T/b2.img" 2 "$T/b2.suit"

TPL="$T/template"
expect_rc 0 "init" devs "$TPL" init --trust "$T/vendor.pub.pem"
expect_rc 0 "flash-slot A" devs "$TPL" flash-slot A "$T/a1.suit" "$T/a1.img"
expect_rc 0 "provision with the log" devs "$TPL" provision --csr "$T/t.csr" --cost $COST --log-key-out "$T/k0"
expect_rc 0 "boot the template" devs "$TPL" boot
expect_grep "$T/out" "^boot: slot A, sequence 1$" "template boots A"

# wait_all: wait for every background job; prints nothing
wait_all() {
    local p
    for p in $(jobs -p); do wait "$p"; done
}

# ---- 64 parallel wrong logins ----
for r in $(seq 1 "$ROUNDS"); do
    S="$T/login$r"
    rm -rf "$S"
    cp -a "$TPL" "$S"
    mkdir -p "$T/l$r"
    for i in $(seq 1 $LOGINS); do
        (printf 'wrong-password-%s\n' "$i" | "$FS38_DEVICE" --state "$S" login admin >"$T/l$r/$i.out" 2>"$T/l$r/$i.err"
         echo $? >"$T/l$r/$i.rc") &
    done
    wait_all
    checked=0 backoff=0 bad=0
    for i in $(seq 1 $LOGINS); do
        rc=$(cat "$T/l$r/$i.rc")
        if [ "$rc" != 1 ]; then
            bad=$((bad + 1))
            sed "s/^/  login $i (exit $rc): /" "$T/l$r/$i.err" >&2
        elif grep -q "too many failed attempts" "$T/l$r/$i.err"; then
            backoff=$((backoff + 1))
        elif grep -Eq "^login refused" "$T/l$r/$i.err"; then
            checked=$((checked + 1))
        else
            bad=$((bad + 1))
            sed "s/^/  login $i: /" "$T/l$r/$i.err" >&2
        fi
    done
    echo "round $r: $LOGINS parallel wrong logins: $checked password(s) checked, $backoff refused by the back-off, $bad other"
    CHECKS=$((CHECKS + 1))
    [ "$bad" -eq 0 ] || fail "round $r: $bad login(s) did not exit 1 with a refusal"
    CHECKS=$((CHECKS + 1))
    [ "$checked" -le "$THRESHOLD" ] && [ "$checked" -ge 1 ] ||
        fail "round $r: $checked passwords checked, the back-off allows $THRESHOLD"
    # the device afterwards: the store opens, boot works, and the log agrees
    expect_rc 0 "round $r: boot after the logins" devs "$S" boot
    expect_grep "$T/out" "^boot: slot A, sequence 1$" "round $r: boot line"
    expect_rc 0 "round $r: identity (the store opens)" devs "$S" identity
    expect_rc 0 "round $r: export" devs "$S" log export --out "$T/l$r.batch"
    expect_rc 0 "round $r: verify" "$FS38" log verify --k0 "$T/k0" "$T/l$r.batch"
    logged=$(grep -c 'login-failed.*"wrong password"' "$T/out")
    CHECKS=$((CHECKS + 1))
    [ "$logged" -eq "$checked" ] ||
        fail "round $r: the log shows $logged checked password(s), the refusals $checked"
done

# ---- 32 parallel log appends ----
S="$T/appends"
cp -a "$TPL" "$S"
for r in $(seq 1 "$ROUNDS"); do
    for i in $(seq 1 $APPENDS); do
        ("$FS38_DEVICE" --state "$S" log append --code attestation --detail "par-$r-$i" >/dev/null 2>"$T/a$r-$i.err"
         echo $? >"$T/a$r-$i.rc") &
    done
    wait_all
    for i in $(seq 1 $APPENDS); do
        CHECKS=$((CHECKS + 1))
        [ "$(cat "$T/a$r-$i.rc")" = 0 ] || { fail "round $r: append $i exit $(cat "$T/a$r-$i.rc")"; cat "$T/a$r-$i.err" >&2; }
    done
done
expect_rc 0 "export after the appends" devs "$S" log export --out "$T/appends.batch"
expect_rc 0 "verify after the appends" "$FS38" log verify --k0 "$T/k0" "$T/appends.batch"
expect_grep "$T/out" "^log verify: [0-9]+ record\(s\) verified, 0 problem\(s\).*: OK$" "appends: export verifies"
missing=0
for r in $(seq 1 "$ROUNDS"); do
    for i in $(seq 1 $APPENDS); do
        grep -q "^seq [0-9]*: OK  attestation .*\"par-$r-$i\"$" "$T/out" || missing=$((missing + 1))
    done
done
echo "$((ROUNDS * APPENDS)) parallel appends: $missing missing from the verified export"
CHECKS=$((CHECKS + 1))
[ "$missing" -eq 0 ] || fail "$missing of $((ROUNDS * APPENDS)) appended events are missing from the verified export"

# ---- update + boot + status in parallel ----
for r in $(seq 1 "$ROUNDS"); do
    S="$T/upd$r"
    cp -a "$TPL" "$S"
    mkdir -p "$T/u$r"
    ("$FS38_DEVICE" --state "$S" update "$T/b2.suit" "$T/b2.img" --chunk 1024 >"$T/u$r/update.out" 2>"$T/u$r/update.err"
     echo $? >"$T/u$r/update.rc") &
    for i in 1 2 3 4 5 6; do
        ("$FS38_DEVICE" --state "$S" boot >"$T/u$r/boot$i.out" 2>"$T/u$r/boot$i.err"; echo $? >"$T/u$r/boot$i.rc") &
        ("$FS38_DEVICE" --state "$S" status >"$T/u$r/status$i.out" 2>"$T/u$r/status$i.err"; echo $? >"$T/u$r/status$i.rc") &
    done
    wait_all
    for f in "$T/u$r"/*.rc; do
        CHECKS=$((CHECKS + 1))
        [ "$(cat "$f")" = 0 ] || { fail "round $r: $(basename "$f" .rc) exit $(cat "$f")"; cat "${f%.rc}.err" >&2; }
    done
    expect_rc 0 "round $r: the store opens after the parallel update" devs "$S" identity
    expect_rc 0 "round $r: boot after the parallel update" devs "$S" boot
    expect_grep "$T/out" "^boot: slot [AB], sequence [12]$" "round $r: boot line after the update"
    expect_rc 0 "round $r: export after the parallel update" devs "$S" log export --out "$T/u$r.batch"
    expect_rc 0 "round $r: verify after the parallel update" "$FS38" log verify --k0 "$T/k0" "$T/u$r.batch"
done

finish
