# SPDX-License-Identifier: Apache-2.0
# Chapter 5 — fs38 as a library others take: install into a prefix, build a firmware team's own
# program against it with pkg-config, and run it (docs/integrating.md shows the CMake ways).
# Sourced by scripts/demo.sh: $FS38, $DEV, $W, $build, $here and the helpers run/expect.

chapter "5. Taking fs38 into another build: install, pkg-config, an out-of-tree program"

step "One version, from one place (the CMake project), in every binary and in the installed package"
run "$FS38" --version
run "$DEV" --version

step "cmake --install: libfs38 (static and shared, Mbed TLS 3.6 inside), the public headers with the generated fs38/config.h, the verifier library, a CMake package and fs38.pc"
show "cmake --install $build --prefix $W/prefix"
cmake --install "$build" --prefix "$W/prefix" >"$W/install.log" 2>&1 || { cat "$W/install.log"; echo "demo: install failed" >&2; exit 1; }
(cd "$W/prefix" && find . -name 'libfs38*' -o -name fs38.pc -o -name fs38Config.cmake -o -name config.h -path '*fs38*' | sort | sed 's|^\./|   |')

step "A program of the firmware team's own, compiled against the installed tree only: it authenticates the IETF SUIT example envelope, refuses its bad-signature twin, and checks the library's struct sizes agree with its headers"
PC="$(cd "$W/prefix" && dirname "$(find "$PWD" -name fs38.pc -print -quit)")"
show "cc consumer.c \$(pkg-config --cflags fs38) -Wl,-Bstatic \$(pkg-config --libs --static fs38) -Wl,-Bdynamic -o consumer"
PKG_CONFIG_PATH="$PC" cc -std=c11 -O2 "$here/tests/install/consumer.c" $(PKG_CONFIG_PATH="$PC" pkg-config --cflags fs38) \
  -Wl,-Bstatic $(PKG_CONFIG_PATH="$PC" pkg-config --libs --static fs38) -Wl,-Bdynamic -o "$W/consumer"
expect "consumer: OK" "$W/consumer" "$here/tests/vectors/suit"
