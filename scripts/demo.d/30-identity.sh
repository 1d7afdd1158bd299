# SPDX-License-Identifier: Apache-2.0
# Chapter 3 — device identity and attestation (controls 6, 8), no universal default passwords
# (control 1), secure decommissioning (control 12).
# Sourced by scripts/demo.sh: $FS38, $DEV, $W, $STATE and the helpers run/refuse/expect.
# Leaves the device operational again, with a new identity (DEVICE_CA, DEVICE_CERT,
# ADMIN_SETUP are exported for later chapters).

chapter "3. Identity: a unique key, certificate and password per device; attestation; decommissioning"

# exit status 4 ("password change required") is neither run's 0 nor refuse's 1
expect_exit() {
  local want=$1 text=$2; shift 2
  printf '$ %s\n' "$(echo "$*" | sed "s|$W|\$W|g; s|$build/tools/||; s|$build/device/||")"
  local out rc
  set +e; out=$("$@" 2>&1); rc=$?; set -e
  echo "$out"
  [ $rc -eq "$want" ] || { echo "demo: expected exit $want, got $rc" >&2; exit 1; }
  grep -qF -- "$text" <<<"$out" || { echo "demo: expected '$text'" >&2; exit 1; }
  echo "   (exit $want as expected)"
}
# the old sealed store as an attacker reading the flash chip sees it: 32-byte windows (hex)
store_fragments() {
  od -An -v -tx1 -j $((0x602000)) -N 65536 "$STATE/flash.bin" | tr -d ' \n' |
    awk '{ for (i = 1; i + 63 <= length($0); i += 4) { w = substr($0, i, 64); t = w;
           if (gsub(/ff/, "", t) <= 8) print w } }'
}

step "The manufacturer's CA: a P-256 key (file mode 0600), a self-signed certificate, an index"
run "$FS38" ca init --out "$W/ca"
ls -l "$W/ca/ca.key" | awk '{print "   " $1 "  ca.key"}'

step "Factory: the device generates its own key inside (PSA, never exported), a random UEID and a setup credential for 'admin', and writes a CSR signed by that key"
prov=$(run "$DEV" --state "$STATE" provision --csr "$W/device.csr")
echo "$prov"
ADMIN_SETUP=$(sed -n 's/^setup-credential: //p' <<<"$prov")
UEID=$(sed -n 's/^ueid: //p' <<<"$prov")
[ -n "$ADMIN_SETUP" ] && [ -n "$UEID" ] || { echo "demo: no setup credential / UEID printed" >&2; exit 1; }
echo "   (the credential is printed once, for the label; the device keeps only a salted PBKDF2 hash)"

step "The CA checks the CSR's signature and the UEID in its subject, then issues the certificate (unique serial, recorded in its index)"
expect "for UEID $UEID" "$FS38" ca issue "$W/ca" "$W/device.csr" --out "$W/device.crt"

step "Refusal: a certificate issued for another device's key is not installed"
"$DEV" --state "$W/other-device" init --trust "$W/vendor.pub" >/dev/null
"$DEV" --state "$W/other-device" provision --csr "$W/other.csr" >/dev/null
"$FS38" ca issue "$W/ca" "$W/other.csr" --out "$W/other.crt" >/dev/null
refuse "is not this device's own key" "$DEV" --state "$STATE" install-cert "$W/other.crt"
expect "lifecycle operational" "$DEV" --state "$STATE" install-cert "$W/device.crt" --ca "$W/ca/ca.crt"
run "$DEV" --state "$STATE" identity

step "Secure boot needs only the ROM, the slots and the boot state: a flipped byte in the sealed store stops the commands that need the store, never boot"
cp "$STATE/flash.bin" "$W/flash-intact.bin"
printf '\x5a' | dd of="$STATE/flash.bin" bs=1 seek=$((0x602000 + 64 + 10)) conv=notrunc status=none
show "(one byte of the store region changed on the flash chip)"
expect "boot: slot" "$DEV" --state "$STATE" boot
show "$DEV --state $STATE identity"
set +e; out=$("$DEV" --state "$STATE" identity 2>&1); rc=$?; set -e
echo "$out" | tidy
[ $rc -eq 2 ] && grep -qF "cannot open the sealed store" <<<"$out" || { echo "demo: identity should fail on a damaged store" >&2; exit 1; }
echo "   (refused as expected: exit 2 — the store fails closed; boot went on)"
cp "$W/flash-intact.bin" "$STATE/flash.bin"

step "No default password: the first login with the setup credential only allows setting a new one"
echo "   (passwords are typed on standard input; the device never echoes or logs them)"
expect_exit 4 "password change required" "$DEV" --state "$STATE" login admin <<<"$ADMIN_SETUP"

step "Refusal: a password from the Mirai botnet's list (it looks strong, Mirai tried it on every camera)"
refuse "Mirai botnet" "$DEV" --state "$STATE" passwd admin <<<"$ADMIN_SETUP
7ujMko0vizxv"

step "Refusal: one of the most common passwords, and one that contains the device's own UEID"
refuse "most common" "$DEV" --state "$STATE" passwd admin <<<"$ADMIN_SETUP
password1"
refuse "UEID" "$DEV" --state "$STATE" passwd admin <<<"$ADMIN_SETUP
id-${UEID:2:12}"

step "Refusal: the same listed password with spaces around it or in fullwidth letters (passwords are validated as UTF-8 and normalised before every check: spaces, fullwidth forms)"
refuse "most common" "$DEV" --state "$STATE" passwd admin <<<"$ADMIN_SETUP
  password1  "
refuse "most common" "$DEV" --state "$STATE" passwd admin <<<"$ADMIN_SETUP
ｐａｓｓｗｏｒｄ１"
step "Refusal: eight characters that are one repeated letter, counted as characters, not bytes"
refuse "repeated" "$DEV" --state "$STATE" passwd admin <<<"$ADMIN_SETUP
éééééééééé"

step "A long passphrase is accepted; it logs in"
ADMIN_PW="sandstone kettle orbit 42"
expect "password of admin changed" "$DEV" --state "$STATE" passwd admin <<<"$ADMIN_SETUP
$ADMIN_PW"
expect "admin logged in" "$DEV" --state "$STATE" login admin <<<"$ADMIN_PW"

step "Back-off: three wrong passwords lock logins for 30 s, doubling with each further failure; each failure and lockout is a security event"
echo "   (16 guesses at once, as an attacker with a script would: the device lock serialises them and"
echo "    the failure is recorded before each password is checked, so no more than three are checked)"
show "for i in \$(seq 16); do echo guess-\$i | $DEV --state $STATE login admin & done; wait"
mkdir -p "$W/guesses"
for i in $(seq 16); do
  (rc=0; echo "guess-$i" | "$DEV" --state "$STATE" login admin >"$W/guesses/$i.out" 2>&1 || rc=$?
   echo "$rc" >"$W/guesses/$i.rc") &
done
wait
checked=$(cat "$W"/guesses/*.out | grep -c -E '^login refused$|locked out for 30 s$' || true)
waited=$(cat "$W"/guesses/*.out | grep -c 'retry in' || true)
cat "$W"/guesses/*.out | sort | uniq -c | sed 's/^ */   /' | tidy
[ "$(cat "$W"/guesses/*.rc | sort -u)" = 1 ] || { echo "demo: a guess was not refused with exit 1" >&2; exit 1; }
[ "$checked" -eq 3 ] && [ "$waited" -eq 13 ] || { echo "demo: $checked passwords checked (3 allowed), $waited refused unchecked" >&2; exit 1; }
echo "   (3 passwords checked, 13 refused by the back-off without a check: refused as expected)"
echo "   (an unknown user gets the same 'login refused', after the same PBKDF2 work)"
step "Refusal: even the right password waits; a new process (a reboot) does not reset the back-off"
refuse "retry in" "$DEV" --state "$STATE" login admin <<<"$ADMIN_PW"

step "Attestation: the verifier sends a fresh nonce; the device signs a token (RFC 9711 EAT, COSE_Sign1) over its boot measurements"
NONCE=$("$FS38" attest nonce)
run "$DEV" --state "$STATE" attest --nonce "$NONCE" --out "$W/token"
expect "attest: valid token" "$FS38" attest verify --ca "$W/ca" "$W/token" --nonce "$NONCE"

step "Refusal: the same token replayed against a new challenge"
refuse "nonce is not the expected one" "$FS38" attest verify --ca "$W/ca" "$W/token" --nonce "$("$FS38" attest nonce)"

step "Before decommissioning, the fleet exports this first life's security log and verifies all of it"
run "$DEV" --state "$STATE" log export --out "$W/life1.cbor"
expect ": OK" "$FS38" log verify --k0 "$W/log-k0-life1" --quiet "$W/life1.cbor"
"$FS38" log show --rfc5424 "$W/life1.cbor" | grep -E "boot-refused|update-rejected|rollback|login-failed|lockout" | head -n 6 | tidy || true

step "Decommissioning: a receipt signed by the device key, then every key destroyed, store and log erased (and read back blank)"
store_fragments >"$W/old-store.frag"
cp "$STATE/flash.bin" "$W/flash-before-decommissioning.bin"
expect "lifecycle decommissioned" "$DEV" --state "$STATE" decommission --receipt "$W/receipt"
expect "receipt: valid decommissioning receipt" "$FS38" receipt verify --ca "$W/ca" "$W/receipt" --retire

step "Flash scan: nothing of the old secrets is left anywhere in the 8 MiB flash"
od -An -v -tx1 "$W/flash-before-decommissioning.bin" | tr -d ' \n' >"$W/before.hex"
od -An -v -tx1 "$STATE/flash.bin" | tr -d ' \n' >"$W/after.hex"
before=$({ grep -o -F -f "$W/old-store.frag" "$W/before.hex" || true; } | wc -l)
after=$({ grep -o -F -f "$W/old-store.frag" "$W/after.hex" || true; } | wc -l)
echo "   $(wc -l <"$W/old-store.frag") fragments of the sealed store (device key, other keys, password hash, certificate):"
echo "     found $before times in the flash before decommissioning, $after times after"
[ "$before" -gt 0 ] && [ "$after" -eq 0 ] || { echo "demo: the flash scan found old secrets" >&2; exit 1; }
for secret in "$ADMIN_SETUP" "$ADMIN_PW"; do
  if grep -a -q -F -- "$secret" "$STATE/flash.bin"; then echo "demo: a password is on flash" >&2; exit 1; fi
done
echo "   the setup credential and the password: not found (they never were: only salted hashes, sealed)"
log_left=$(od -An -v -tx1 -j $((0x612000)) -N 262144 "$STATE/flash.bin" | tr -d ' \nf' | wc -c)
[ "$log_left" -eq 0 ] || { echo "demo: the log region is not blank" >&2; exit 1; }
echo "   the security-log region: blank"

step "Refusal: a decommissioned device attests nothing, and its old tokens are refused (certificate retired)"
refuse "decommissioned" "$DEV" --state "$STATE" attest --nonce "$NONCE" --out "$W/token2"
refuse "retired" "$FS38" attest verify --ca "$W/ca" "$W/token" --nonce "$NONCE"

step "A new life: provisioned again as a new device, with a new key, UEID, setup credential and certificate"
LOG_K0="$W/log-k0"
prov=$(run "$DEV" --state "$STATE" provision --csr "$W/device2.csr" --log-key-out "$LOG_K0")
echo "$prov"
ADMIN_SETUP=$(sed -n 's/^setup-credential: //p' <<<"$prov")
[ "$(sed -n 's/^ueid: //p' <<<"$prov")" != "$UEID" ] || { echo "demo: the new life kept the old UEID" >&2; exit 1; }
run "$FS38" ca issue "$W/ca" "$W/device2.csr" --out "$W/device2.crt"
expect "lifecycle operational" "$DEV" --state "$STATE" install-cert "$W/device2.crt"
DEVICE_CA="$W/ca"
DEVICE_CERT="$W/device2.crt"
export DEVICE_CA DEVICE_CERT ADMIN_SETUP LOG_K0
