#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/install/run.sh — CTest install_consumer: `cmake --install` the build into a temporary
# prefix, check the layout and the version everywhere it appears, then build
# tests/install/consumer.c out of tree against that prefix and run it (it verifies an IETF
# SUIT vector and compares sizeof(fs38_update_ctx) with the library's):
#   a. CMake: find_package(fs38 CONFIG) -> fs38::fs38 (static) and fs38::fs38_shared
#   b. pkg-config: cc $(pkg-config --cflags --libs --static fs38) against libfs38.a,
#      and against libfs38.so
#   c. a consumer that passes -DFS38_UPDATE_CHUNK itself is refused at compile time
# Environment: CMAKE, CC, FS38_BUILD (the build tree), FS38_VERSION, FS38_VECTORS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${CMAKE:=cmake}" "${CC:=cc}" "${FS38_BUILD:?}" "${FS38_VERSION:?}" "${FS38_VECTORS:?}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fs38-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "install: FAIL: $*" >&2; exit 1; }

"$CMAKE" --install "$FS38_BUILD" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log" >&2; fail "cmake --install"; }

# ---- layout -------------------------------------------------------------------------------
libdir=$(cd "$prefix" && dirname "$(find . -name fs38.pc -path '*/pkgconfig/*' -print -quit)")
libdir=${libdir%/pkgconfig}; libdir=${libdir#./}
[ -n "$libdir" ] || fail "no fs38.pc installed"
for f in bin/fs38 bin/fs38-device "$libdir/libfs38.a" "$libdir/libfs38.so" "$libdir/libfs38_verify.a" \
         include/fs38/config.h include/fs38/suit.h include/fs38/update.h \
         "$libdir/cmake/fs38/fs38Config.cmake" "$libdir/cmake/fs38/fs38ConfigVersion.cmake" \
         "$libdir/cmake/fs38/fs38Targets.cmake" share/doc/fs38/LICENSE share/doc/fs38/NOTICE; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
if [ -d "$prefix/include/fs38-mbedtls" ]; then
  # the Mbed TLS headers libfs38 was built with, configured as it was
  cmp -s "$prefix/include/fs38-mbedtls/mbedtls/mbedtls_config.h" "$here/../../port/mbedtls/fs38_mbedtls_config.h" ||
    fail "include/fs38-mbedtls/mbedtls/mbedtls_config.h is not port/mbedtls/fs38_mbedtls_config.h"
fi
# the shared library must not need anything the executable would have to provide
if command -v nm >/dev/null; then
  undef=$(nm -D --undefined-only "$prefix/$libdir/libfs38.so" | awk '{print $2}' | grep -E '^(fs38_|psa_|mbedtls_)' || true)
  [ -z "$undef" ] || fail "libfs38.so leaves undefined: $undef"
fi

# ---- one version everywhere ------------------------------------------------------------------
[ "$("$prefix/bin/fs38" --version)" = "fs38 $FS38_VERSION" ] || fail "fs38 --version: $("$prefix/bin/fs38" --version)"
[ "$("$prefix/bin/fs38-device" --version)" = "fs38-device $FS38_VERSION" ] ||
  fail "fs38-device --version: $("$prefix/bin/fs38-device" --version)"
grep -q "^#define FS38_VERSION_STRING \"$FS38_VERSION\"$" "$prefix/include/fs38/config.h" || fail "config.h version"
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
[ "$(pkg-config --modversion fs38)" = "$FS38_VERSION" ] || fail "fs38.pc version $(pkg-config --modversion fs38)"

# ---- a. CMake consumer --------------------------------------------------------------------------
"$CMAKE" -S "$here" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$CC" \
  -DFS38_EXPECT_VERSION="$FS38_VERSION" -DCMAKE_BUILD_TYPE=Release >"$tmp/cm.log" 2>&1 ||
  { cat "$tmp/cm.log" >&2; fail "configure the find_package consumer"; }
"$CMAKE" --build "$tmp/cm" >"$tmp/cm-build.log" 2>&1 ||
  { cat "$tmp/cm-build.log" >&2; fail "build the find_package consumer"; }
for exe in consumer consumer_shared; do
  echo "== find_package(fs38): $exe"
  "$tmp/cm/$exe" "$FS38_VECTORS" || fail "find_package consumer $exe"
done
# the shared one really runs on the installed libfs38.so
if command -v ldd >/dev/null; then
  # (whole outputs first: grep -q closing the pipe early would fail the pipeline)
  deps_shared=$(ldd "$tmp/cm/consumer_shared")
  deps_static=$(ldd "$tmp/cm/consumer")
  grep -q "$prefix/$libdir/libfs38.so" <<<"$deps_shared" || fail "consumer_shared does not use the installed libfs38.so"
  ! grep -q libfs38 <<<"$deps_static" || fail "static consumer depends on libfs38.so"
fi

# ---- b. pkg-config consumer ----------------------------------------------------------------------
cflags=$(pkg-config --cflags fs38)
# shellcheck disable=SC2046,SC2086
"$CC" -std=c11 -Wall -Wextra -Werror $cflags -o "$tmp/pc-static" "$here/consumer.c" \
  -Wl,-Bstatic $(pkg-config --libs --static fs38) -Wl,-Bdynamic || fail "build the pkg-config consumer (static)"
echo "== pkg-config --static"
"$tmp/pc-static" "$FS38_VECTORS" || fail "pkg-config consumer (static)"
# shellcheck disable=SC2046,SC2086
"$CC" -std=c11 -Wall -Wextra -Werror $cflags -o "$tmp/pc-shared" "$here/consumer.c" \
  $(pkg-config --libs fs38) -Wl,-rpath,"$prefix/$libdir" || fail "build the pkg-config consumer (shared)"
echo "== pkg-config (shared)"
"$tmp/pc-shared" "$FS38_VECTORS" || fail "pkg-config consumer (shared)"

# ---- c. a loose build option is refused -----------------------------------------------------------
# shellcheck disable=SC2086
if "$CC" -std=c11 $cflags -DFS38_UPDATE_CHUNK=512u -c -o "$tmp/loose.o" "$here/consumer.c" 2>"$tmp/loose.log"; then
  fail "a consumer compiled with -DFS38_UPDATE_CHUNK=512u was not refused"
fi
grep -q "fs38/config.h" "$tmp/loose.log" || { cat "$tmp/loose.log" >&2; fail "the refusal does not name fs38/config.h"; }
echo "== -DFS38_UPDATE_CHUNK refused"
echo "install: OK"
