#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/size.sh [OUT_DIR] — cross-compile every src/*.c for a Cortex-M4 and print, per module,
# the flash (text + data) and RAM (data + bss) it takes, from arm-none-eabi-size on the object
# files, plus the largest stack frame of the module (-fstack-usage). Used by `make size`.
#
#   arm-none-eabi-gcc -Os -mcpu=cortex-m4 -mthumb -ffunction-sections -fdata-sections -std=c11
#     -DFS38_MBEDTLS_BAREMETAL -DMBEDTLS_CONFIG_FILE='"fs38_mbedtls_config.h"'
#     -I include -I port/mbedtls -I <Mbed TLS 3.6 include>
#
# Objects only, no link: the numbers are upper bounds of what a linker with --gc-sections keeps
# (unused functions drop out), and exclude Mbed TLS and the C library. The warning flags are
# fs38's own (FS38_WARN from CMakeLists.txt); warnings are shown, SIZE_WERROR=1 makes them
# errors. Exits non-zero when any file fails to compile.
# OUT_DIR defaults to build-size/. Environment: ARM_CC, ARM_SIZE (tool names).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/build-size}
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
cc=${ARM_CC:-arm-none-eabi-gcc}
size=${ARM_SIZE:-arm-none-eabi-size}
for t in "$cc" "$size"; do
  command -v "$t" >/dev/null || { echo "size: $t not found (scripts/deps installs gcc-arm-none-eabi)" >&2; exit 1; }
done

# Mbed TLS headers: the source tree scripts/deps fetched, else a system 3.6 install's headers
# (copied alone, so no host header can leak into the cross build). Our config is forced with
# MBEDTLS_CONFIG_FILE either way.
mkdir -p "$out/obj"
if [ -f "$here/build/deps/mbedtls/include/mbedtls/build_info.h" ]; then
  mbed_inc="$here/build/deps/mbedtls/include"
elif [ -f /usr/include/mbedtls/build_info.h ] && [ -d /usr/include/psa ]; then
  mbed_inc="$out/mbedtls-include"
  rm -rf "$mbed_inc"; mkdir -p "$mbed_inc"
  cp -r /usr/include/mbedtls /usr/include/psa "$mbed_inc/"
else
  echo "size: no Mbed TLS 3.6 headers (run scripts/deps)" >&2
  exit 1
fi

# fs38's warning set, as CMakeLists.txt defines it
warn=$(awk '/^set\(FS38_WARN/{on=1} on{print} on&&/\)/{exit}' "$here/CMakeLists.txt" |
       sed -e 's/set(FS38_WARN//' -e 's/)//' | tr -s ' \n' ' ')
[ -n "${warn// /}" ] || warn="-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 -Wconversion -Wno-sign-conversion"
[ "${SIZE_WERROR:-0}" = 1 ] && warn="$warn -Werror"
version=$(sed -n 's/^project(fs38 VERSION \([0-9.]*\).*/\1/p' "$here/CMakeLists.txt")
version=${version:-0.0.0}
# fs38/config.h as CMake would generate it for an MCU build (FS38_UPDATE_CHUNK 512 unless
# SIZE_UPDATE_CHUNK says otherwise)
mkdir -p "$out/include/fs38"
IFS=. read -r vmaj vmin vpat <<<"$version"
sed -e "s/@PROJECT_VERSION_MAJOR@/${vmaj:-0}/" -e "s/@PROJECT_VERSION_MINOR@/${vmin:-0}/" \
    -e "s/@PROJECT_VERSION_PATCH@/${vpat:-0}/" -e "s/@PROJECT_VERSION@/$version/" \
    -e "s/@FS38_UPDATE_CHUNK@/${SIZE_UPDATE_CHUNK:-512}/" \
    "$here/include/fs38/config.h.in" >"$out/include/fs38/config.h"

cflags=(-Os -mcpu=cortex-m4 -mthumb -ffunction-sections -fdata-sections -std=c11 -fstack-usage
        -DFS38_MBEDTLS_BAREMETAL "-DMBEDTLS_CONFIG_FILE=\"fs38_mbedtls_config.h\""
        -I "$out/include" -I "$here/include" -I "$here/port/mbedtls" -I "$mbed_inc")
# shellcheck disable=SC2206
cflags+=($warn)

shopt -s nullglob
srcs=("$here"/src/*.c)
[ ${#srcs[@]} -gt 0 ] || { echo "size: no sources in src/" >&2; exit 1; }
rm -f "$out"/obj/*.o "$out"/obj/*.su
failed=()
for src in "${srcs[@]}"; do
  mod=$(basename "$src" .c)
  if ! (cd "$out/obj" && "$cc" "${cflags[@]}" -c "$src" -o "$mod.o") 2>"$out/obj/$mod.log"; then
    failed+=("$mod")
  fi
  if [ -s "$out/obj/$mod.log" ]; then sed "s|^|size: |" "$out/obj/$mod.log" >&2; fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "size: FAILED to compile for Cortex-M4: ${failed[*]}" >&2
  exit 1
fi

echo "fs38 on Cortex-M4 ($("$cc" -dumpversion), -Os -mthumb, objects before --gc-sections; Mbed TLS and libc not included)"
printf '%-12s %9s %7s %7s %11s %9s %11s\n' module text data bss "flash(t+d)" "RAM(d+b)" "max frame"
printf '%-12s %9s %7s %7s %11s %9s %11s\n' ------ ---- ---- --- ---------- -------- ---------
tt=0; td=0; tb=0; tmax=0
for src in "${srcs[@]}"; do
  mod=$(basename "$src" .c)
  read -r text data bss _ < <("$size" -B "$out/obj/$mod.o" | awk 'NR==2{print $1, $2, $3}')
  frame=$(awk -F'\t' '{ if ($2+0 > m) { m = $2+0; f = $1 } } END { sub(/.*:/, "", f); printf "%d %s", m, f }' \
          "$out/obj/$mod.su" 2>/dev/null || echo "0 -")
  fbytes=${frame%% *}
  printf '%-12s %9d %7d %7d %11d %9d %6d B  %s\n' "$mod" "$text" "$data" "$bss" $((text + data)) $((data + bss)) \
         "$fbytes" "${frame#* }"
  tt=$((tt + text)); td=$((td + data)); tb=$((tb + bss))
  [ "$fbytes" -gt "$tmax" ] && tmax=$fbytes
done
printf '%-12s %9s %7s %7s %11s %9s %11s\n' ------ ---- ---- --- ---------- -------- ---------
printf '%-12s %9d %7d %7d %11d %9d %6d B\n' total "$tt" "$td" "$tb" $((tt + td)) $((td + tb)) "$tmax"
