#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/fuzz.sh BUILD_DIR [SECONDS] — build fs38's libFuzzer targets with clang-14 and run each
# for SECONDS (default 30). Used by `make fuzz` (after scripts/deps).
#
#   - configures BUILD_DIR with CC=clang-14 -DFS38_FUZZ=ON -DFS38_TESTS=OFF -DFS38_WERROR=ON
#     and builds only the fuzzers (target fuzz_all);
#   - runs every target on its working corpus BUILD_DIR/fuzz-corpus/<target>, seeded from
#     fuzz/corpus/<name>/ (and tests/vectors/suit/**.cbor for the targets marked SUIT_VECTORS in
#     fuzz/targets.cmake: fuzz_cbor and fuzz_suit). The
#     committed seeds are never written to; the working corpus is kept between runs, so
#     FUZZ_FRESH=1 starts again from the seeds only;
#   - prints "fuzz: NAME: N runs, no crash" per target; on a crash, leak or timeout it prints
#     the reproducer (BUILD_DIR/fuzz-artifacts/<target>/...) and the end of the log, goes on
#     with the other targets and exits non-zero at the end.
# Environment: FUZZ_TARGETS (default: every fs38_fuzz_target in fuzz/targets.cmake), FUZZ_JOBS (build parallelism),
# FUZZ_ARGS (extra libFuzzer flags), FUZZ_FRESH=1.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: scripts/fuzz.sh BUILD_DIR [SECONDS]}
secs=${2:-30}
case "$secs" in ''|*[!0-9]*) echo "fuzz: SECONDS must be a positive integer" >&2; exit 2 ;; esac
case "$build" in /*) ;; *) build="$here/$build" ;; esac
# every target registered with fs38_fuzz_target() in fuzz/targets.cmake
all_targets=$(sed -n 's/^fs38_fuzz_target(\([a-z0-9_]*\).*/\1/p' "$here/fuzz/targets.cmake" | tr '\n' ' ')
targets=${FUZZ_TARGETS:-$all_targets}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}

cc=$(command -v clang-14 || true)
if [ -z "$cc" ]; then
  echo "fuzz: clang-14 not found (scripts/deps installs clang-14 and libclang-rt-14-dev)" >&2
  exit 1
fi

# A build directory configured with another compiler cannot be switched: start it afresh.
if [ -f "$build/CMakeCache.txt" ] && ! grep -q "^CMAKE_C_COMPILER:[A-Z]*=$cc\$" "$build/CMakeCache.txt"; then
  echo "fuzz: $build was configured with another compiler: reconfiguring from scratch"
  rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
fi
echo "fuzz: configuring $build (clang-14, FS38_FUZZ=ON)"
mkdir -p "$build"
CC="$cc" cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFS38_FUZZ=ON -DFS38_TESTS=OFF \
  -DFS38_WERROR=ON -DFS38_MBEDTLS_SRC="$here/build/deps/mbedtls" >"$build/configure.log" 2>&1 || {
  cat "$build/configure.log" >&2; echo "fuzz: configure failed" >&2; exit 1; }
echo "fuzz: building $targets"
# shellcheck disable=SC2086
if ! cmake --build "$build" -j"$jobs" --target $targets >"$build/build.log" 2>&1; then
  tail -n 60 "$build/build.log" >&2
  echo "fuzz: build failed (full log: $build/build.log)" >&2
  exit 1
fi

seed_dirs() { # target -> seed files
  local t=$1 name=${1#fuzz_}
  [ -d "$here/fuzz/corpus/$name" ] && find "$here/fuzz/corpus/$name" -maxdepth 1 -type f
  # targets marked SUIT_VECTORS in fuzz/targets.cmake also start from the SUIT test vectors
  if grep -q "^fs38_fuzz_target($t [^)]*SUIT_VECTORS" "$here/fuzz/targets.cmake"; then
    find "$here/tests/vectors/suit" -type f -name '*.cbor'
  fi
  return 0
}

status=0
for t in $targets; do
  bin="$build/fuzz/$t"
  corpus="$build/fuzz-corpus/$t"
  art="$build/fuzz-artifacts/$t"
  log="$build/fuzz-logs/$t.log"
  [ "${FUZZ_FRESH:-0}" = 1 ] && rm -rf "$corpus"
  mkdir -p "$corpus" "$art" "$(dirname "$log")"
  # copy the seeds in under their content hash (never touch the committed files)
  while IFS= read -r f; do
    [ -n "$f" ] || continue
    h=$(sha1sum "$f" | cut -c1-40)
    [ -e "$corpus/$h" ] || cp "$f" "$corpus/$h"
  done < <(seed_dirs "$t")
  echo "fuzz: $t: running ${secs}s on $(find "$corpus" -type f | wc -l) inputs"
  rc=0
  # shellcheck disable=SC2086
  (cd "$art" && "$bin" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$art/" ${FUZZ_ARGS:-} "$corpus") >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  [ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
  if [ "$rc" = 0 ] && [ -n "$runs" ] && ! grep -q -E '^(==[0-9]+==ERROR|SUMMARY: |.*invariant failed)' "$log"; then
    echo "fuzz: $t: $runs runs, no crash"
  else
    status=1
    repro=$(ls -t "$art" 2>/dev/null | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | head -n 1 || true)
    echo "fuzz: $t: CRASH (libFuzzer exit $rc)${repro:+, reproducer: $art/$repro}" >&2
    grep -E 'invariant failed|ERROR: |SUMMARY: |^    #[0-9]+ ' "$log" | head -n 25 >&2 || tail -n 25 "$log" >&2
    echo "fuzz: full log: $log; rerun: $bin ${repro:+$art/$repro}" >&2
  fi
done
exit $status
