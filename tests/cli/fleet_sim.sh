#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fleet_sim.sh — a small scripts/fleet-sim run, so CI exercises the whole fleet path at once:
# Mosquitto from `fs38 fleet broker-config`, two `fs38 collect` in one share group, 20 simulated
# devices (build/bench/fleet_sim: libfs38 store / identity / log on RAM ports, one TLS + MQTT
# connection each) x 3 batches, the database read back independently — on SQLite and on a
# throw-away PostgreSQL cluster. The run must end with exactly
#   fleet: 20 devices x 3 batches: lost 0, unverified 0, duplicated 0; X batches/s (R x raw HMAC)
# and exit 0 (every device acknowledged to its last record).
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "$(dirname "$FS38")/.." && pwd)
[ -x "$build/bench/fleet_sim" ] || { fail "$build/bench/fleet_sim not built"; finish; }

LINE='^fleet: 20 devices x 3 batches: lost 0, unverified 0, duplicated 0; [0-9]+ batches/s \([0-9.e+-]+ x raw HMAC\)$'
for db in sqlite pg; do
    args=()
    [ "$db" = pg ] && args=(--db pg)
    expect_rc 0 "fleet-sim 20 x 3 ($db, 2 collectors)" timeout 300 "$src/scripts/fleet-sim" --build "$build" \
        --devices 20 --batches 3 --collectors 2 --ack-wait 60 "${args[@]}"
    CHECKS=$((CHECKS + 1))
    if ! tail -1 "$T/out" | grep -Eq "$LINE"; then
        fail "fleet-sim ($db): last line is not the expected one"
        sed 's/^/  | /' "$T/out" "$T/err" >&2
    fi
    expect_grep "$T/out" "^fleet-sim: connected=20 failed=0 " "every device connected ($db)"
    expect_grep "$T/out" "^fleet-sim: acked_devices=20 unacked_devices=0 " "every device acknowledged ($db)"
done

finish
