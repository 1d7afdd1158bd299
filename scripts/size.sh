#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/size.sh [BUILD_M4] — the footprint of fs38 on a Cortex-M4, from the LINKED images of the
# Cortex-M4 port (port/cortex-m, built by `make m4`: arm-none-eabi-gcc -Os -mthumb, --gc-sections,
# Mbed TLS with the port's configurations, newlib-nano). Used by `make size`. One line per image:
#
#   size: fs38-boot.elf flash N bytes, ram M bytes, stack S bytes (measured), heap 0
#   size: fs38-app.elf flash N bytes, ram M bytes, stack S bytes (measured), heap H
#
# flash = .text (vectors, code, read-only data) + .ARM.exidx + .data's load image; ram = .data +
# .bss (contexts and buffers; the stack and heap reservations are not counted in it); stack = the
# high-water mark the image measured on the target by painting its stack at reset, the largest
# over every run of the M4 scenarios (scripts/m4-test.sh, run here first when the images are newer
# than the last measurement); heap = the most newlib's malloc took (sbrk high-water) in those runs.
# Then a table per input module (fs38 objects, port objects, Mbed TLS objects, libc, libgcc) from
# the map file. Exits non-zero when the images or a measurement are missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
m4=${1:-$here/build-m4}
case "$m4" in /*) ;; *) m4="$here/$m4" ;; esac
size=${ARM_SIZE:-arm-none-eabi-size}
for f in fs38-boot.elf fs38-app.elf; do
  [ -f "$m4/$f" ] || { echo "size: $m4/$f missing (make m4)" >&2; exit 1; }
done
if [ ! -f "$m4/measured.txt" ] || [ "$m4/fs38-boot.elf" -nt "$m4/measured.txt" ] ||
   [ "$m4/fs38-app.elf" -nt "$m4/measured.txt" ]; then
  "$here/scripts/m4-test.sh" "$m4" >/dev/null
fi

# section sizes of a linked image (size -A): sum of the named sections
sect() { "$size" -A "$1" | awk -v want=" $2 " 'index(want, " " $1 " ") { s += $2 } END { print s + 0 }'; }
# largest measured value of an image: field "stack" or "heap"
measured() {
  awk -v img="$1" -v what="$2" '$2 == "stack" && $3 == img { for (i = 2; i < NF; i++) if ($i == what) { v = $(i + (what == "stack" ? 2 : 1)) + 0; if (v > m) m = v } }
       END { print m + 0 }' "$m4/measured.txt"
}

for img in fs38-boot.elf fs38-app.elf; do
  elf="$m4/$img"
  flash=$(sect "$elf" ".text .ARM.exidx .data")
  ram=$(sect "$elf" ".data .bss")
  stack=$(measured "$img" stack)
  heap=$(measured "$img" heap)
  [ "$stack" -gt 0 ] || { echo "size: no stack measurement of $img in $m4/measured.txt" >&2; exit 1; }
  echo "size: $img flash $flash bytes, ram $ram bytes, stack $stack bytes (measured), heap $heap"
done
for img in fs38-boot.elf fs38-app.elf; do
  echo
  map="$m4/${img%.elf}.map"
  if [ -f "$m4/${img%.elf}-modules.map" ] && [ ! "$m4/${img%.elf}-modules.map" -ot "$m4/$img" ]; then
    # a link-time optimised image: its map knows only LTO partitions; the same objects linked
    # without LTO (${img%.elf}-modules.elf) give the modules, LTO's saving is stated on top
    map="$m4/${img%.elf}-modules.map"
    plain=$(sect "$m4/${img%.elf}-modules.elf" ".text .ARM.exidx .data")
    flash=$(sect "$m4/$img" ".text .ARM.exidx .data")
    echo "$img by module (arm-none-eabi-gcc $(arm-none-eabi-gcc -dumpversion) -Os -mthumb, --gc-sections; from ${img%.elf}-modules.map,"
    echo "  the same objects linked without LTO: flash $plain bytes; link-time optimisation takes $((plain - flash)) bytes off that):"
  else
    echo "$img by module (arm-none-eabi-gcc $(arm-none-eabi-gcc -dumpversion) -Os -mthumb, --gc-sections; from ${img%.elf}.map):"
  fi
  python3 "$here/port/cortex-m/m4-tool.py" modules --map "$map"
done
