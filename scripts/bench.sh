#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/bench.sh BUILD_DIR — run every benchmark executable in BUILD_DIR/bench (bench_*), then
# list the static stack frames (-fstack-usage, the .su files next to libfs38's objects) of fs38's
# functions along the boot verifier's call chains — also for Cortex-M4 when `make m4` has
# left its .su files in build-m4/app/fs38. Used by `make bench` (a Release build in build-bench).
# Benchmarks print ratios against baselines measured in the same run; nothing here asserts on
# timings. BENCH_ARGS is passed to every benchmark (e.g. --quick).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: scripts/bench.sh BUILD_DIR}
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
[ -d "$build/bench" ] || { echo "bench: $build/bench does not exist (configure and build $build first)" >&2; exit 1; }

# bench_channel measures RFC 9177 Q-Block2 against Debian 13's libcoap when `make deps` fetched it
[ -z "${FS38_LIBCOAP_DIR:-}" ] && [ -x "$here/build/libcoap/bin/coap-server-openssl" ] && export FS38_LIBCOAP_DIR="$here/build/libcoap"
mapfile -t bins < <(find "$build/bench" -maxdepth 1 -type f -name 'bench_*' -perm -u+x | sort)
[ ${#bins[@]} -gt 0 ] || { echo "bench: no benchmark executables in $build/bench" >&2; exit 1; }
for b in "${bins[@]}"; do
  echo "=== $(basename "$b")"
  # shellcheck disable=SC2086
  "$b" ${BENCH_ARGS:-}
  echo
done

# ---- static frames along the verifier's call chains ------------------------------------------
# A function missing from the .su files was inlined: its frame is part of its caller's.
chains() { # $1 = label, rest = .su files
  local label=$1; shift
  [ $# -gt 0 ] || return 0
  awk -F'\t' -v label="$label" -v nesting=4 '
    { name = $1; sub(/.*:/, "", name); sub(/\..*/, "", name)   # strip file:line:col: and .part.0 etc.
      if ($2 + 0 > frame[name]) frame[name] = $2 + 0 }
    function chain(title, list, tail,   n, f, i, total, s) {
      n = split(list, f, " "); total = 0; s = ""
      for (i = 1; i <= n; i++) {
        if (f[i] in frame) { s = s sprintf("%s %d", f[i], frame[f[i]]); total += frame[f[i]] }
        else s = s sprintf("%s (inlined)", f[i])
        if (i < n) s = s " > "
      }
      printf "  %-22s %5d B  %s > %s\n", title, total, s, tail
    }
    END {
      printf "static stack frames of fs38 along fs38_boot_verify_slot (%s, -fstack-usage)\n", label
      chain("signature check", "fs38_boot_verify_slot fs38_suit_authenticate authenticate fs38_cose_sign1_verify sig_structure_hash", "[Mbed TLS psa_verify_hash / psa_hash_*]")
      chain("manifest digest", "fs38_boot_verify_slot fs38_suit_authenticate authenticate fs38_sha256", "[Mbed TLS psa_hash_compute]")
      chain("image digest", "fs38_boot_verify_slot fs38_suit_run run_commands run_on_component cond_image_match slot_digest fs38_flash_read", "[port flash_read]")
      rc = ("run_commands" in frame ? frame["run_commands"] : 0) + ("do_try_each" in frame ? frame["do_try_each"] : 0)
      printf "  %-22s %5d B  not on the boot manifest path: each try-each / run-sequence level (<= FS38_SUIT_MAX_NESTING = %d) adds run_commands + do_try_each\n", "+ worst-case nesting", nesting * rc, nesting
      printf "  largest frames:"
      m = 0
      for (k in frame) { names[++m] = k }
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (frame[names[j]] > frame[names[i]]) { t = names[i]; names[i] = names[j]; names[j] = t }
      for (i = 1; i <= m && i <= 8; i++) printf " %s %d%s", names[i], frame[names[i]], i < 8 && i < m ? "," : "\n"
    }' "$@"
}

mapfile -t host_su < <(find "$build" -path '*fs38.dir*' -name '*.su' | sort)
if [ ${#host_su[@]} -gt 0 ]; then
  chains "host $(uname -m), this build" "${host_su[@]}"
else
  echo "bench: no .su files under $build (libfs38 is built with -fstack-usage)" >&2
fi
mapfile -t arm_su < <(find "$here/build-m4/app/fs38" -name '*.su' 2>/dev/null | sort)
if [ ${#arm_su[@]} -gt 0 ]; then
  echo
  chains "Cortex-M4 -Os, from make m4 (build-m4/app/fs38)" "${arm_su[@]}"
fi
