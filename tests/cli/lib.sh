# SPDX-License-Identifier: Apache-2.0
# lib.sh — helpers for the command-line tests (sourced by tests/cli/*.sh).
# Environment (set by tests/cli.cmake): FS38, FS38_DEVICE, FS38_VECTORS.
set -u

: "${FS38:?FS38 (path of the fs38 binary) is not set}"
: "${FS38_DEVICE:=}"
: "${FS38_VECTORS:=}"

UUID_VENDOR=fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe
UUID_CLASS=1492af14-2569-5e48-bf42-9b2d51f2ab45

T=$(mktemp -d "${TMPDIR:-/tmp}/fs38-cli.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
FAILS=0
CHECKS=0

fail() {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}

# run CMD...: runs a command, keeping its exit status in RC, its output in $T/out and $T/err.
run() {
    "$@" >"$T/out" 2>"$T/err"
    RC=$?
}

# expect_rc N DESCRIPTION CMD...: run CMD and check its exit status.
expect_rc() {
    local want=$1 what=$2
    shift 2
    CHECKS=$((CHECKS + 1))
    run "$@"
    if [ "$RC" -ne "$want" ]; then
        fail "$what: exit $RC, expected $want"
        sed 's/^/  stdout: /' "$T/out" >&2
        sed 's/^/  stderr: /' "$T/err" >&2
        return 1
    fi
    return 0
}

# expect_grep FILE REGEX DESCRIPTION: FILE ($T/out or $T/err) must match the extended regex.
expect_grep() {
    CHECKS=$((CHECKS + 1))
    if ! grep -Eq -- "$2" "$1"; then
        fail "$3: no line matching '$2' in $(basename "$1")"
        sed 's/^/  | /' "$1" >&2
    fi
}

expect_no_grep() {
    CHECKS=$((CHECKS + 1))
    if grep -Eq -- "$2" "$1"; then
        fail "$3: unexpected line matching '$2' in $(basename "$1")"
        sed 's/^/  | /' "$1" >&2
    fi
}

# expect_lines FILE N DESCRIPTION: FILE has exactly N lines.
expect_lines() {
    CHECKS=$((CHECKS + 1))
    local lines
    lines=$(wc -l <"$1" | tr -d ' ')
    if [ "$lines" -ne "$2" ]; then
        fail "$3: $lines line(s) in $(basename "$1"), expected $2"
        sed 's/^/  | /' "$1" >&2
    fi
}

# flip FILE OFFSET: invert every bit of one byte in place.
flip() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    [ -n "$b" ] || { fail "flip: offset $2 is past the end of $1"; return 1; }
    printf "$(printf '\\%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# byte FILE OFFSET: the unsigned value of one byte.
byte() {
    od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '
}

# keypair NAME: $T/NAME.pem and $T/NAME.pub.pem
keypair() {
    "$FS38" keygen --out "$T/$1.pem" --pub "$T/$1.pub.pem" >/dev/null || fail "keygen $1"
}

# sign KEY IMAGE SEQ OUT [more options]
sign() {
    local key=$1 img=$2 seq=$3 out=$4
    shift 4
    "$FS38" sign --key "$key" --image "$img" --seq "$seq" --vendor-id "$UUID_VENDOR" \
        --class-id "$UUID_CLASS" --out "$out" "$@" >/dev/null || fail "sign $out"
}

# random_file PATH SIZE
random_file() {
    head -c "$2" /dev/urandom >"$1"
}

finish() {
    if [ "$FAILS" -ne 0 ]; then
        echo "$FAILS of $CHECKS checks failed" >&2
        exit 1
    fi
    echo "all $CHECKS checks passed"
    exit 0
}
