#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/m4-test.sh [BUILD_M4] — the Cortex-M4 port's scenarios under
# `qemu-system-arm -M mps2-an386 -nographic`, each run with a timeout. Every run is a power-on
# of the emulated board: fs38-boot.elf loads flash.bin (semihosting), verifies, jumps to the
# application, which may confirm itself and install an update offered as update.suit /
# update.payload. The console output is compared line by line with the expected lines (the
# port's measurement lines "m4: ..." are set aside: they feed `make size`). Exits non-zero on
# the first mismatch. Used by `make m4-test` and CTest (m4_qemu).
#
# scripts/m4-test.sh --bench [BUILD_M4] runs only the boot-time benchmark (fs38-boot-bench.elf
# under -icount shift=0: instructions of fs38_boot_verify_slot on a 256 KiB image against
# SHA-256 of it + one ECDSA verification); the scenarios run it last too.
#
# Sourced (`M4_WORK=DIR; . scripts/m4-test.sh [BUILD_M4]`, as scripts/demo.d/70-cortex-m.sh
# does, in a subshell): checks the images, defines scenario / run / offer / withdraw / bench with
# the boards in DIR, and returns without running a scenario; with M4_SHOW=1, run also prints each
# power-on's command and the board's console.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_only=0
if [ "${1:-}" = --bench ]; then bench_only=1; shift; fi
m4=${1:-$here/build-m4}
case "$m4" in /*) ;; *) m4="$here/$m4" ;; esac
tool="$here/port/cortex-m/m4-tool.py"
fs38=${FS38:-$here/build/tools/fs38}
[ -x "$fs38" ] || { echo "m4-test: $fs38 missing (FS38=path of the host fs38 tool)" >&2; exit 1; }
qemu=${QEMU:-qemu-system-arm}
command -v "$qemu" >/dev/null || { echo "m4-test: $qemu not found (scripts/deps installs qemu-system-arm)" >&2; exit 1; }
for f in fs38-boot.elf app-v1.suit app-v1.bin app-v2.suit app-v2.bin app-v2-enc.suit app-v2-enc.payload keys/device.pem; do
  [ -f "$m4/$f" ] || { echo "m4-test: $m4/$f missing (make m4)" >&2; exit 1; }
done
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/fs38-m4.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  stack_log="$m4/measured.txt.new"
else # sourced: the caller's directory; the measurements of `make size` are left alone
  work=${M4_WORK:?M4_WORK (a scratch directory) must be set before sourcing m4-test.sh}
  stack_log="$work/measured.txt"
fi
: >"$stack_log"
pass=0
# The bootloader prints a refused slot's reason as the code's short name ("IMAGE_DIGEST") unless
# it was built with M4_BOOT_REASON_TEXT=1; the texts are in the host's table, read here from
# FS38_ERR_LIST (include/fs38/err.h) to compare with the reference device's lines.
reasons="$work/reasons.sed"
python3 - "$here/include/fs38/err.h" >"$reasons" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
for name, text in re.findall(r'X\(\s*FS38_ERR_([A-Z0-9_]+)\s*,\s*-?\d+\s*,\s*"([^"]*)"', src):
    print('s/^\\(\\(boot\\|update\\|confirm\\): .*\\): %s$/\\1: %s/' % (name, text.replace('/', '\\/')))
PY
[ -s "$reasons" ] || { echo "m4-test: no error table read from include/fs38/err.h" >&2; exit 1; }
# An application built without diagnostic text (M4_APP_PROFILE="0 ..."; make m4 records the
# profile in profile-app.txt) states a reason by its code only, where the library's message
# would say more: the expected lines say what that build prints instead.
want_sed="$work/want.sed"
: >"$want_sed"
if [ "$(cut -d' ' -f1 "$m4/profile-app.txt" 2>/dev/null)" = 0 ]; then
  echo "m4-test: the application has no diagnostic text (M4_APP_PROFILE=$(cat "$m4/profile-app.txt"))"
  cat >"$want_sed" <<'S'
s/^update: rejected: image linked for slot A, this is slot B$/update: rejected: image linked for another slot/
s/^\(seq 5: OK  rollback-refused (error) boot 4 t=0ms arg=-65\) "sequence 1 < installed 2"$/\1 ""/
S
fi

# run NAME RC [semihosting args] <<< expected lines: one power-on in $dir
run() {
  local name=$1 want_rc=$2 args=${3:-} rc=0 sh="enable=on,target=native"
  local a
  for a in $args; do sh="$sh,arg=$a"; done
  [ -z "${M4_SHOW:-}" ] || printf '$ (cd %s && timeout 60 %s -M mps2-an386 -nographic -monitor none -serial stdio -semihosting-config %s -kernel %s)\n' \
    "$dir" "$qemu" "$sh" "$m4/fs38-boot.elf"
  (cd "$dir" && timeout 60 "$qemu" -M mps2-an386 -nographic -monitor none -serial stdio \
      -semihosting-config "$sh" -kernel "$m4/fs38-boot.elf" </dev/null >out.raw 2>&1) || rc=$?
  tr -d '\r' <"$dir/out.raw" >"$dir/out.all"
  grep '^m4: stack' "$dir/out.all" >>"$stack_log" || true
  grep -v '^m4: ' "$dir/out.all" | sed -f "$reasons" >"$dir/out.txt" || true
  sed -f "$want_sed" >"$dir/want.txt"
  if [ "$rc" != "$want_rc" ] || ! diff -u "$dir/want.txt" "$dir/out.txt" >"$dir/diff.txt"; then
    echo "m4-test: FAIL $scenario / $name (exit $rc, expected $want_rc)" >&2
    cat "$dir/diff.txt" >&2 || true
    sed 's/^/  | /' "$dir/out.all" >&2
    exit 1
  fi
  [ -z "${M4_SHOW:-}" ] || sed 's/^/   /' "$dir/out.all"
  pass=$((pass + 1))
}

# scenario NAME [--slot-b]: a new board, slot A programmed with v1 (and B with v2)
scenario() {
  scenario=$1
  dir="$work/$1"
  mkdir -p "$dir"
  local b=()
  [ "${2:-}" = --slot-b ] && b=(--slot-b "$m4/app-v2.suit" "$m4/app-v2.bin")
  python3 "$tool" factory --out "$dir/flash.bin" --slot-a "$m4/app-v1.suit" "$m4/app-v1.bin" "${b[@]}" \
    --device-key "$m4/keys/device.pem"
  echo "m4-test: $scenario"
}
offer() { cp "$m4/$1" "$dir/update.suit"; cp "$m4/$2" "$dir/update.payload"; }
withdraw() { rm -f "$dir/update.suit" "$dir/update.payload"; }
v2_size=$(stat -c %s "$m4/app-v2.bin")

bench() {
  scenario=bench
  dir="$work/bench"
  mkdir -p "$dir"
  python3 "$tool" factory --out "$dir/flash.bin" --slot-a "$m4/app-v1.suit" "$m4/app-v1.bin" \
    --slot-b "$m4/app-v2.suit" "$m4/app-v2.bin" --device-key "$m4/keys/device.pem"
  local rc=0
  (cd "$dir" && timeout 120 "$qemu" -M mps2-an386 -nographic -monitor none -serial stdio -icount shift=0 \
      -semihosting-config enable=on,target=native -kernel "$m4/fs38-boot-bench.elf" </dev/null >out.raw 2>&1) || rc=$?
  tr -d '\r' <"$dir/out.raw" | tee "$m4/bench.txt"
  [ "$rc" = 0 ] && grep -q '^bench: ratio ' "$m4/bench.txt" ||
    { echo "m4-test: FAIL bench (exit $rc)" >&2; exit 1; }
}
if [ "$bench_only" = 1 ]; then bench; exit 0; fi
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0 # sourced: the functions only

# 1. good boot (factory image in slot A, slot B empty)
scenario good-boot
run boot 0 <<'L'
boot: slot B refused: no image
boot: slot A, sequence 1
app: version 1 running from slot A
log: security log created; k0 written to log-k0.hex
L

# 2. the higher sequence boots; one byte of slot B's image flipped -> fallback to A; an untrusted signer -> A
scenario tampered --slot-b
run boot-b 0 <<'L'
boot: slot B, sequence 2
app: version 2 running from slot B
log: security log created; k0 written to log-k0.hex
L
printf '\x5a' | dd of="$dir/flash.bin" bs=1 seek=$((0x100000 + 4096 + 777)) conv=notrunc status=none
run boot-flipped 0 <<'L'
boot: slot B refused: image digest mismatch
boot: slot A, sequence 1
app: version 1 running from slot A
L

# an image signed by a key the ROM does not trust, in slot B -> refused, A boots
"$fs38" keygen --out "$dir/attacker.pem" --pub "$dir/attacker.pub" >/dev/null
"$fs38" sign --key "$dir/attacker.pem" --image "$m4/app-v2.bin" --seq 9 --vendor-id fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe \
  --class-id 1492af14-2569-5e48-bf42-9b2d51f2ab45 --out "$dir/evil.suit" >/dev/null
python3 "$tool" slot --flash "$dir/flash.bin" --slot B "$dir/evil.suit" "$m4/app-v2.bin"
run boot-untrusted 0 <<'L'
boot: slot B refused: untrusted signer
boot: slot A, sequence 1
app: version 1 running from slot A
L

# 2b. slot binding: every envelope names the slot its image is linked for (fs38 sign --slot,
#     SUIT component-slot). An image linked for slot A offered while A runs (so for slot B) is
#     refused by the update agent before anything is written; version 2 (linked for B) copied
#     into slot A is refused by the bootloader, which boots the same image from B
scenario slot-binding
offer app-v1.suit app-v1.bin
run offered-for-wrong-slot 0 <<'L'
boot: slot B refused: no image
boot: slot A, sequence 1
app: version 1 running from slot A
log: security log created; k0 written to log-k0.hex
update: rejected: image linked for slot A, this is slot B
L
withdraw
run nothing-written 0 <<'L'
boot: slot B refused: no image
boot: slot A, sequence 1
app: version 1 running from slot A
L
python3 "$tool" slot --flash "$dir/flash.bin" --slot A "$m4/app-v2.suit" "$m4/app-v2.bin"
python3 "$tool" slot --flash "$dir/flash.bin" --slot B "$m4/app-v2.suit" "$m4/app-v2.bin"
run placed-in-wrong-slot 0 <<'L'
boot: slot A refused: image linked for another slot
boot: slot B, sequence 2
app: version 2 running from slot B
L
# an envelope without a slot binding (signed without --slot) is refused on this port
"$fs38" sign --key "$m4/keys/vendor.pem" --image "$m4/app-v2.bin" --seq 3 --vendor-id fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe \
  --class-id 1492af14-2569-5e48-bf42-9b2d51f2ab45 --out "$dir/unbound.suit" >/dev/null
python3 "$tool" slot --flash "$dir/flash.bin" --slot B "$dir/unbound.suit" "$m4/app-v2.bin"
run unbound 1 <<'L'
boot: slot A refused: image linked for another slot
boot: slot B refused: image linked for another slot
boot: no bootable image
L

# 3. encrypted update installed by the app, trial boot, self-test, confirm; then rollback refused
scenario update
offer app-v2-enc.suit app-v2-enc.payload
run install 0 <<L
boot: slot B refused: no image
boot: slot A, sequence 1
app: version 1 running from slot A
log: security log created; k0 written to log-k0.hex
update: sequence 2 installed in slot B ($v2_size bytes, decrypted on the fly); the next boot tries it
L
withdraw
run trial 0 <<'L'
boot: slot B, sequence 2
app: version 2 running from slot B
confirm: slot B, sequence 2 committed; anti-rollback counter 2
L
run confirmed 0 <<'L'
boot: slot A refused: sequence 1 < installed 2
boot: slot B, sequence 2
app: version 2 running from slot B
L
# rollback: version 1 (sequence 1) offered again after the commit
offer app-v1.suit app-v1.bin
run rollback 0 export=1 <<'L'
boot: slot A refused: sequence 1 < installed 2
boot: slot B, sequence 2
app: version 2 running from slot B
update: rejected: sequence 1 < installed 2
log export: records 0..6 -> log-export.cbor
L
withdraw
# the security log the application kept, verified on the host with the k0 it handed out
"$fs38" log verify --k0 "$dir/log-k0.hex" "$dir/log-export.cbor" >"$dir/verify.txt" 2>&1 ||
  { echo "m4-test: FAIL update / log verify" >&2; cat "$dir/verify.txt" >&2; exit 1; }
sed -f "$want_sed" <<'L' | diff -u - "$dir/verify.txt" || { echo "m4-test: FAIL update / log verify output" >&2; exit 1; }
seq 0: OK  log created, boot 0, 96 records per epoch
seq 1: OK  update-begin (notice) boot 1 t=0ms arg=2 "update offered"
seq 2: OK  update-installed (notice) boot 1 t=0ms arg=2 "update installed, pending trial"
seq 3: OK  update-confirmed (notice) boot 2 t=0ms arg=2 "update confirmed"
seq 4: OK  update-begin (notice) boot 4 t=0ms arg=1 "update offered"
seq 5: OK  rollback-refused (error) boot 4 t=0ms arg=-65 "sequence 1 < installed 2"
seq 6: OK  checkpoint of an export from 0, unsigned, boot 4
log verify: 7 record(s) verified, 0 problem(s), checkpoint signatures not checked (no --cert): OK
L
pass=$((pass + 1))

# 4. a trial that is never confirmed (self-test fails) is reverted by the next boot
scenario revert
offer app-v2-enc.suit app-v2-enc.payload
run install 0 <<L
boot: slot B refused: no image
boot: slot A, sequence 1
app: version 1 running from slot A
log: security log created; k0 written to log-k0.hex
update: sequence 2 installed in slot B ($v2_size bytes, decrypted on the fly); the next boot tries it
L
withdraw
run trial-fails 0 selftest=0 <<'L'
boot: slot B, sequence 2
app: version 2 running from slot B
app: self-test failed; not confirming
L
run reverted 0 <<'L'
boot: slot B refused: reverted: trial boot was not confirmed
boot: slot A, sequence 1
app: version 1 running from slot A
L
run after-revert 0 <<'L'
boot: slot B refused: no image
boot: slot A, sequence 1
app: version 1 running from slot A
L

# 5. an update cut by power loss at several flash operations (counted from the application's
#    start: 1-3 are the NV seed rewrite, then the boot count and its log record, the update's log
#    record, boot state and slot erase, then the payload in 1 KiB programs with progress records
#    every 64 KiB), each cut a real end of the emulator (exit 3), resumed by the next power-on,
#    then installed, tried and confirmed
scenario power-cut
run provision 0 <<'L'
boot: slot B refused: no image
boot: slot A, sequence 1
app: version 1 running from slot A
log: security log created; k0 written to log-k0.hex
L
offer app-v2-enc.suit app-v2-enc.payload
run cut-in-seed-write 3 cut=2 <<'L'
boot: slot B refused: no image
boot: slot A, sequence 1
L
for c in 10 150; do
run cut-at-$c 3 cut=$c <<'L'
boot: slot B refused: no image
boot: slot A, sequence 1
app: version 1 running from slot A
L
done
run cut-at-300 3 cut=300 <<'L'
boot: slot B refused: no image
boot: slot A, sequence 1
app: version 1 running from slot A
update: resuming an interrupted download at byte 65536 of 262144
L
run cut-at-135 3 cut=135 <<'L'
boot: slot B refused: no image
boot: slot A, sequence 1
app: version 1 running from slot A
update: resuming an interrupted download at byte 196608 of 262144
L
run resumed 0 <<L
boot: slot B refused: no image
boot: slot A, sequence 1
app: version 1 running from slot A
update: resuming an interrupted download at byte 262144 of 262144
update: sequence 2 installed in slot B ($v2_size bytes, decrypted on the fly); the next boot tries it
L
withdraw
run trial 0 <<'L'
boot: slot B, sequence 2
app: version 2 running from slot B
confirm: slot B, sequence 2 committed; anti-rollback counter 2
L
cmp -s <(tail -c +$((0x101000 + 1)) "$dir/flash.bin" | head -c "$v2_size") "$m4/app-v2.bin" ||
  { echo "m4-test: FAIL power-cut: slot B does not hold version 2's image byte for byte" >&2; exit 1; }

# 6. power cuts in the bootloader's own writes (like MCUboot's simulator): from three saved
#    states — an update installed and not yet tried (boot starts the trial: 1 state write), a
#    trial that was not confirmed (boot reverts it: state write + slot invalidation), and a
#    confirmation cut between its state write and the counter advance (boot completes it) — cut
#    power at each program / erase the bootloader makes ("bootcut=N", counted by its "m4: ...
#    flash operations N" line; none, half or all of that operation landing: "cutpart=0|1|2",
#    so the cut also falls between two operations), then power on again (the self-test failing, so nothing confirms)
#    and require one of the legal outcomes; anything else (the other image, an unconfirmed
#    image booting as if confirmed, nothing bootable) fails
# power_on ARG: one run in $dir whose output is judged by the caller (rc, out.all, out.txt)
power_on() {
  rc=0
  local sh="enable=on,target=native" a
  for a in $1; do sh="$sh,arg=$a"; done
  (cd "$dir" && timeout 60 "$qemu" -M mps2-an386 -nographic -monitor none -serial stdio \
      -semihosting-config "$sh" -kernel "$m4/fs38-boot.elf" </dev/null >out.raw 2>&1) || rc=$?
  tr -d '\r' <"$dir/out.raw" >"$dir/out.all"
  grep '^m4: stack' "$dir/out.all" >>"$stack_log" || true
  grep -v '^m4: ' "$dir/out.all" | sed -f "$reasons" >"$dir/out.txt" || true
}
boot_lines() { grep -E '^(boot|app: version)' "$dir/out.txt" || true; }
boot_ops() { sed -n 's/^m4: stack fs38-boot.elf .* flash operations \([0-9]*\)$/\1/p' "$dir/out.all"; }
# boot_sweep LABEL BASE.bin LEGAL-OUTCOME-FILE...
boot_sweep() {
  local label=$1 base=$2 n j ok f rc part
  shift 2
  cp "$base" "$dir/flash.bin"
  power_on selftest=0
  n=$(boot_ops)
  [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -le 16 ] ||
    { echo "m4-test: FAIL boot-cuts / $label: the bootloader made '${n:-no}' flash operations (expected 1..16)" >&2; exit 1; }
  for j in $(seq 1 "$n"); do
   for part in 0 1 2; do
    cp "$base" "$dir/flash.bin"
    run "$label-cut-$j.$part" 3 "bootcut=$j cutpart=$part" </dev/null
    power_on selftest=0
    ok=0
    for f in "$@"; do
      [ "$rc" = 0 ] && boot_lines | cmp -s - "$f" && ok=1
    done
    if [ "$ok" != 1 ]; then
      echo "m4-test: FAIL boot-cuts / $label: after a cut at the bootloader's flash operation $j of $n ($part/2 of it applied) the next power-on is in no legal state (exit $rc):" >&2
      sed 's/^/  | /' "$dir/out.all" >&2
      echo "  legal outcomes:" >&2
      for f in "$@"; do sed 's/^/  = /' "$f" >&2; echo "  --" >&2; done
      exit 1
    fi
    pass=$((pass + 1))
    echo "m4-test: boot-cuts / $label: cut at $j of $n ($part/2 applied) -> $(boot_lines | head -1)"
   done
  done
}
scenario boot-cuts
legal="$work/legal"
mkdir -p "$legal"
printf 'boot: slot B, sequence 2\napp: version 2 running from slot B\n' >"$legal/trial"
printf 'boot: slot B refused: reverted: trial boot was not confirmed\nboot: slot A, sequence 1\napp: version 1 running from slot A\n' >"$legal/reverted"
printf 'boot: slot B refused: no image\nboot: slot A, sequence 1\napp: version 1 running from slot A\n' >"$legal/invalidated"
printf 'boot: slot A refused: sequence 1 < installed 2\nboot: slot B, sequence 2\napp: version 2 running from slot B\n' >"$legal/committed"
offer app-v2-enc.suit app-v2-enc.payload
run install 0 <<L
boot: slot B refused: no image
boot: slot A, sequence 1
app: version 1 running from slot A
log: security log created; k0 written to log-k0.hex
update: sequence 2 installed in slot B ($v2_size bytes, decrypted on the fly); the next boot tries it
L
withdraw
cp "$dir/flash.bin" "$work/untried.bin"
run trial-fails 0 selftest=0 <<'L'
boot: slot B, sequence 2
app: version 2 running from slot B
app: self-test failed; not confirming
L
cp "$dir/flash.bin" "$work/trying.bin"
# the confirmation cut at the application's 6th flash operation (after its state write, in the
# counter advance): the next boot completes it (checked below: it boots B and writes)
cp "$work/untried.bin" "$dir/flash.bin"
run confirm-cut 3 cut=6 <<'L'
boot: slot B, sequence 2
app: version 2 running from slot B
L
cp "$dir/flash.bin" "$work/confirming.bin"
boot_sweep start-trial "$work/untried.bin" "$legal/trial" "$legal/reverted"
boot_sweep revert "$work/trying.bin" "$legal/reverted" "$legal/invalidated"
boot_sweep complete-confirm "$work/confirming.bin" "$legal/trial" "$legal/committed"

bench
echo "m4-test: $pass runs passed"
mv "$stack_log" "$m4/measured.txt"
