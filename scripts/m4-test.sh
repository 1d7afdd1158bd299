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

# run NAME RC [semihosting args] <<< expected lines: one power-on in $dir
run() {
  local name=$1 want_rc=$2 args=${3:-} rc=0 sh="enable=on,target=native"
  [ -n "$args" ] && sh="$sh,arg=$args"
  [ -z "${M4_SHOW:-}" ] || printf '$ (cd %s && timeout 60 %s -M mps2-an386 -nographic -monitor none -serial stdio -semihosting-config %s -kernel %s)\n' \
    "$dir" "$qemu" "$sh" "$m4/fs38-boot.elf"
  (cd "$dir" && timeout 60 "$qemu" -M mps2-an386 -nographic -monitor none -serial stdio \
      -semihosting-config "$sh" -kernel "$m4/fs38-boot.elf" </dev/null >out.raw 2>&1) || rc=$?
  tr -d '\r' <"$dir/out.raw" >"$dir/out.all"
  grep '^m4: stack' "$dir/out.all" >>"$stack_log" || true
  grep -v '^m4: ' "$dir/out.all" >"$dir/out.txt" || true
  cat >"$dir/want.txt"
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
diff -u - "$dir/verify.txt" <<'L' || { echo "m4-test: FAIL update / log verify output" >&2; exit 1; }
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

bench
echo "m4-test: $pass runs passed"
mv "$stack_log" "$m4/measured.txt"
