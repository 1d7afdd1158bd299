# SPDX-License-Identifier: Apache-2.0
# Chapter 7 — the same library on a microcontroller (issue 13, docs/porting.md): the Cortex-M4
# port (port/cortex-m, Arm MPS2 AN386) built with arm-none-eabi-gcc by `make m4`, run under
# `qemu-system-arm -M mps2-an386 -nographic` with a timeout: the bootloader verifies and chooses
# a slot, the application installs an encrypted update, tries it and confirms it.
# Sourced by scripts/demo.sh: $FS38, $W, $build, $here and the helpers. The power-ons and their
# expected console lines use scripts/m4-test.sh's functions (sourced in a subshell, so that its
# `run` does not replace the demo's); each QEMU run is one power-on of the board.

chapter "7. On a Cortex-M4: secure boot, fallback and an encrypted update under QEMU"

for b in arm-none-eabi-gcc qemu-system-arm; do
  command -v "$b" >/dev/null || { echo "demo: $b is missing (scripts/deps installs gcc-arm-none-eabi, qemu-system-arm)" >&2; exit 1; }
done
M4DIR="$here/build-m4"

step "make m4: the bootloader (verify-only SUIT, no diagnostic text), the application linked for slot A (v1) and for slot B (v2), signed with the host's fs38 sign, each envelope bound to its slot (v2 also encrypted for the device's key)"
show make m4
make -C "$here" --no-print-directory m4 BUILD="$build" >"$W/m4-build.log" 2>&1 ||
  { tail -n 30 "$W/m4-build.log" >&2; echo "demo: make m4 failed" >&2; exit 1; }
grep '^m4: ' "$W/m4-build.log" | sed "s|$here/||" || echo "   (up to date)"
(cd "$M4DIR" && ls -l fs38-boot.elf fs38-app.elf app-v1.suit app-v2-enc.suit app-v2-enc.payload | awk '{print "   " $5 "\t" $9}')

mkdir -p "$W/m4"
(
  M4_WORK="$W/m4"
  M4_SHOW=1
  # shellcheck source=scripts/m4-test.sh
  . "$here/scripts/m4-test.sh" "$M4DIR"

  step "Factory: slot A programmed with v1 (m4-tool.py factory writes the flash file QEMU's board loads by semihosting); power on"
  scenario good-boot >/dev/null
  run boot 0 <<'L'
boot: slot B refused: no image
boot: slot A, sequence 1
app: version 1 running from slot A
log: security log created; k0 written to log-k0.hex
L

  step "Both slots programmed: the higher verified sequence boots (v2 in slot B)"
  scenario tampered --slot-b >/dev/null
  run boot-b 0 <<'L'
boot: slot B, sequence 2
app: version 2 running from slot B
log: security log created; k0 written to log-k0.hex
L
  step "Refusal: one byte of slot B's image flipped on the flash: the bootloader refuses B and falls back to A"
  echo "   (the bootloader carries no diagnostic text: it names a refusal by the error's short name, IMAGE_DIGEST here;"
  echo "    the expected lines use the host's text for it, 'image digest mismatch', from include/fs38/err.h)"
  show "printf '\\x5a' | dd of=flash.bin bs=1 seek=\$((0x100000 + 4096 + 777)) conv=notrunc"
  printf '\x5a' | dd of="$dir/flash.bin" bs=1 seek=$((0x100000 + 4096 + 777)) conv=notrunc status=none
  run boot-flipped 0 <<'L'
boot: slot B refused: image digest mismatch
boot: slot A, sequence 1
app: version 1 running from slot A
L

  step "An encrypted update (v2, A128CTR, key by ECDH-ES+A128KW) offered to the application running v1: it verifies the envelope, decrypts on the fly into slot B"
  scenario update >/dev/null
  offer app-v2-enc.suit app-v2-enc.payload
  run install 0 <<L
boot: slot B refused: no image
boot: slot A, sequence 1
app: version 1 running from slot A
log: security log created; k0 written to log-k0.hex
update: sequence 2 installed in slot B ($v2_size bytes, decrypted on the fly); the next boot tries it
L
  withdraw
  step "Next power-on: the trial boot of v2; its self-test passes and it confirms (anti-rollback counter 2)"
  run trial 0 <<'L'
boot: slot B, sequence 2
app: version 2 running from slot B
confirm: slot B, sequence 2 committed; anti-rollback counter 2
L
  step "Refusal: from now on v1 (sequence 1, still in slot A) never boots again"
  run confirmed 0 <<'L'
boot: slot A refused: sequence 1 < installed 2
boot: slot B, sequence 2
app: version 2 running from slot B
L
) 2>&1 | tidy | sed "s|$here/||g"

step "make size: flash and RAM of the linked images, the stack measured on the target (painted at reset, the high-water mark over every scenario of scripts/m4-test.sh)"
show make size
make -C "$here" --no-print-directory size BUILD="$build" >"$W/m4-size.log" 2>&1 ||
  { tail -n 30 "$W/m4-size.log" >&2; echo "demo: make size failed" >&2; exit 1; }
grep '^size: ' "$W/m4-size.log" || { echo "demo: make size printed no size: line" >&2; exit 1; }
[ "$(grep -c '^size: fs38-\(boot\|app\)\.elf flash [0-9]* bytes, ram [0-9]* bytes, stack [1-9][0-9]* bytes (measured)' "$W/m4-size.log")" -eq 2 ] ||
  { echo "demo: make size: expected a line for each image, with a measured stack" >&2; exit 1; }
