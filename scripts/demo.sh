#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/demo.sh BUILD_DIR — the product's main job: the reference device's lifecycle,
# told step by step. Each capability has a chapter in scripts/demo.d/NN-*.sh, run in order
# in one shell, sharing the variables below. Every refusal shown is a real refusal by the
# real code; the demo stops with an error if anything behaves otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
FS38="$build/tools/fs38"
DEV="$build/device/fs38-device"
for b in "$FS38" "$DEV"; do
  [ -x "$b" ] || { echo "demo: $b is missing (run make build)" >&2; exit 2; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/fs38-demo.XXXXXX")
trap 'rm -rf "$W"' EXIT
STATE="$W/device"

chapter() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step() { printf '\n-- %s\n' "$*"; }
# show CMD...: print a command the way a reader would type it
show() { printf '$ %s\n' "$(echo "$*" | sed "s|$W|\$W|g; s|$build/tools/||; s|$build/device/||")"; }
# tidy: output with the temporary directory written as $W
tidy() { sed "s|$W|\$W|g"; }
# run CMD...: show the command and its output; it must succeed
run() { show "$@"; "$@" 2>&1 | tidy; }
# refuse TEXT CMD...: show it, and require that it fails with exit 1 — a refusal of bad
# input — saying TEXT
refuse() {
  local want=$1; shift
  show "$@"
  local out rc
  set +e; out=$("$@" 2>&1); rc=$?; set -e
  echo "$out" | tidy
  if [ $rc -ne 1 ]; then echo "demo: expected a refusal (exit 1), got exit $rc" >&2; exit 1; fi
  grep -qF -- "$want" <<<"$out" || { echo "demo: expected the refusal to say '$want'" >&2; exit 1; }
  echo "   (refused as expected: exit 1)"
}
# expect TEXT CMD...: run and require TEXT in its output
expect() {
  local want=$1; shift
  show "$@"
  local out; out=$("$@" 2>&1) || { echo "$out" | tidy; echo "demo: command failed" >&2; exit 1; }
  echo "$out" | tidy
  grep -qF -- "$want" <<<"$out" || { echo "demo: expected '$want'" >&2; exit 1; }
}
export FS38 DEV W STATE build here
export -f show tidy run refuse expect chapter step
for ch in "$here"/scripts/demo.d/[0-9]*.sh; do
  # shellcheck source=/dev/null
  . "$ch"
done
printf '\n\033[1mdemo: every step behaved as described.\033[0m\n'
