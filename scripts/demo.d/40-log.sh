# SPDX-License-Identifier: Apache-2.0
# Chapter 4 — the security log (control 7): forward-secure, truncation-evident, verified off the
# device. Sourced by scripts/demo.sh: $FS38, $DEV, $W, $STATE and the helpers run/refuse/expect.
#
# Uses what the earlier chapters left: the device in $STATE, its certificate $DEVICE_CERT and
# admin setup credential $ADMIN_SETUP (chapter 3), the vendor key and firmware files (chapters 1,
# 2). When provisioning created the log (provision --log-key-out), $LOG_K0 names the k0 it wrote;
# otherwise this chapter creates the log itself. Runs on its own too (a fresh device).

chapter "4. Security log: what happened on the device, verifiable by the fleet, tamper-evident"

if [ ! -f "$STATE/rom" ]; then
  step "(no earlier chapter: a fresh device with one signed firmware)"
  VENDOR=${VENDOR:-fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe}
  CLASS=${CLASS:-1492af14-2569-5e48-bf42-9b2d51f2ab45}
  "$FS38" keygen --out "$W/vendor.pem" --pub "$W/vendor.pub" >/dev/null
  head -c 100000 /dev/urandom >"$W/fw-v1.bin"
  "$FS38" sign --key "$W/vendor.pem" --image "$W/fw-v1.bin" --seq 1 --vendor-id "$VENDOR" --class-id "$CLASS" \
    --out "$W/fw-v1.suit" >/dev/null
  run "$DEV" --state "$STATE" init --trust "$W/vendor.pub" --vendor-id "$VENDOR" --class-id "$CLASS"
  run "$DEV" --state "$STATE" flash-slot A "$W/fw-v1.suit" "$W/fw-v1.bin"
fi

if [ -n "${LOG_K0:-}" ] && [ -f "$LOG_K0" ]; then
  step "Provisioning created the log and handed its first key k0 to the fleet ($LOG_K0); the device keeps only the current key, sealed"
  run "$DEV" --state "$STATE" log status
else
  step "The device creates its security log: k0, the fleet's verification key, leaves the device once (mode 0600)"
  LOG_K0="$W/log-k0"
  run "$DEV" --state "$STATE" log init --key-out "$LOG_K0"
  ls -l "$LOG_K0" | awk '{print "   " $1 "  log-k0"}'
fi
export LOG_K0

step "A day in the device's life: every module reports through fs38_event(), the log is the sink"
expect "boot: slot" "$DEV" --state "$STATE" boot
if [ -f "$W/fw-v2.suit" ] && [ -f "$W/fw-v2.bin" ]; then
  refuse "rejected" "$DEV" --state "$STATE" update "$W/fw-v2.suit" "$W/fw-v2.bin"
fi
"$FS38" keygen --out "$W/intruder.pem" --pub "$W/intruder.pub" >/dev/null
head -c 5000 /dev/urandom >"$W/evil.bin"
"$FS38" sign --key "$W/intruder.pem" --image "$W/evil.bin" --seq 99 --vendor-id "${VENDOR:-fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe}" \
  --class-id "${CLASS:-1492af14-2569-5e48-bf42-9b2d51f2ab45}" --out "$W/evil.suit" >/dev/null
refuse "rejected" "$DEV" --state "$STATE" update "$W/evil.suit" "$W/evil.bin"
if "$DEV" --help | grep -q '^  login '; then
  refuse "login refused" "$DEV" --state "$STATE" login admin <<<"guess-a"
  refuse "login refused" "$DEV" --state "$STATE" login admin <<<"guess-b"
  refuse "locked out" "$DEV" --state "$STATE" login admin <<<"guess-c"
else
  run "$DEV" --state "$STATE" log append --code login-failed --severity 4 --arg 1 --detail "admin: wrong password"
fi
if "$DEV" --help | grep -q '^  attest ' && "$DEV" --state "$STATE" identity >/dev/null 2>&1; then
  LOGNONCE=$("$FS38" attest nonce)
  run "$DEV" --state "$STATE" attest --nonce "$LOGNONCE" --out "$W/log-token" >/dev/null
fi
run "$DEV" --state "$STATE" log status

step "The fleet asks for the log with a fresh challenge; the export ends with a checkpoint the device key signs"
CHALLENGE=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
run "$DEV" --state "$STATE" log export --nonce "$CHALLENGE" --out "$W/log-1.cbor"

step "The fleet verifies: the HMAC chain from k0 (each record, each epoch's seal), the nonce, and — with the device certificate — the checkpoint signature"
CERT_ARGS=()
[ -n "${DEVICE_CERT:-}" ] && [ -f "$DEVICE_CERT" ] && CERT_ARGS=(--cert "$DEVICE_CERT")
expect ": OK" "$FS38" log verify --k0 "$LOG_K0" "${CERT_ARGS[@]}" --nonce "$CHALLENGE" "$W/log-1.cbor"

step "For the SIEM: RFC 5424 syslog lines (or --json); the device has no wall clock, so boot count and monotonic time travel as structured data"
"$FS38" log show --rfc5424 --hostname device-1 "$W/log-1.cbor" | tail -n 6 | sed 's/^/   /'

step "An attacker with the export (or the flash) changes one character of the lockout record: the verifier names that record"
cp "$W/log-1.cbor" "$W/log-bad.cbor"
target=$(grep -obUaF "back-off" "$W/log-bad.cbor" | head -n 1 | cut -d: -f1 || true)
[ -n "$target" ] || target=$(grep -obUaF "wrong password" "$W/log-bad.cbor" | head -n 1 | cut -d: -f1 || true)
[ -n "$target" ] || target=$(( $(stat -c %s "$W/log-1.cbor") / 2 ))
printf 'B' | dd of="$W/log-bad.cbor" bs=1 seek="$target" conv=notrunc 2>/dev/null
echo "   (byte $target changed)"
refuse ": modified" "$FS38" log verify --k0 "$LOG_K0" --quiet "$W/log-bad.cbor"

step "... cuts off the tail to hide the last events: truncation is named (the closing checkpoint is missing)"
head -c $(( $(stat -c %s "$W/log-1.cbor") - 100 )) "$W/log-1.cbor" >"$W/log-cut.cbor"
refuse "truncated after" "$FS38" log verify --k0 "$LOG_K0" --quiet "$W/log-cut.cbor"

step "... replaces the whole export with an empty batch (48 bytes, no record): nothing is proved, so nothing verifies — it is truncated, and the fleet's fresh challenge is unanswered"
{ printf '\x86\x68fs38-log\x01\x00\x00\x58\x20'; head -c 32 /dev/zero; printf '\x40'; } >"$W/log-empty.cbor"
echo "   ($(stat -c %s "$W/log-empty.cbor") bytes: [\"fs38-log\", 1, 0, 0, h'00'*32, h''])"
refuse "truncated" "$FS38" log verify --k0 "$LOG_K0" "${CERT_ARGS[@]}" --nonce "$CHALLENGE" "$W/log-empty.cbor"

step "The next export continues the chain; replaying yesterday's export after it is named"
NEXT=$(( $("$FS38" log show "$W/log-1.cbor" | tail -n 1 | awk '{print $2}') + 1 ))
run "$DEV" --state "$STATE" log append --code attestation --severity 6 --detail "fleet health check"
run "$DEV" --state "$STATE" log export --since "$NEXT" --out "$W/log-2.cbor"
expect ": OK" "$FS38" log verify --k0 "$LOG_K0" --quiet "$W/log-1.cbor" "$W/log-2.cbor"
refuse "replayed" "$FS38" log verify --k0 "$LOG_K0" --quiet "$W/log-1.cbor" "$W/log-2.cbor" "$W/log-1.cbor"

step "Verified records are acknowledged: the ring may overwrite them; anything it overwrites unacknowledged is reported as lost, never silently"
LAST=$("$FS38" log show "$W/log-2.cbor" | tail -n 1 | awk '{print $2}')
run "$DEV" --state "$STATE" log release "$LAST"
echo "   (forward security: the key evolves every 96 records and the old one is wiped — a key taken from"
echo "    the device today cannot forge yesterday's records; tests/test_log.c shows it for records 400 / 500)"
