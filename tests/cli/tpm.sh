#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fs38-device with a TPM 2.0 (init --tpm TCTI) against swtpm (a real TPM 2.0 implementation,
# libtpms), started on free loopback ports and stopped by PID:
#   - provision / attest / decommission with the device key in the TPM: the CSR's key is the TPM
#     object's (tpm2_readpublic), the token verifies (fs38 attest verify), tpm2_getcap /
#     tpm2_nvreadpublic show the objects before and not after decommissioning;
#   - the rollback attack (copy the state directory, install and commit a newer firmware, put
#     the old directory back) works without the TPM and is refused with it;
#   - swtpm killed before and during a command: a clear error, nothing half-written, recovery
#     when it is back (its state directory kept).
. "$(dirname "$0")/lib.sh"

: "${FS38_DEVICE:?FS38_DEVICE is not set}"
for p in swtpm tpm2_getcap tpm2_nvreadpublic tpm2_readpublic openssl python3 coap-server-openssl coap-client-openssl; do
    command -v "$p" >/dev/null || { echo "FAIL: $p is missing (scripts/deps installs swtpm, tpm2-tools)" >&2; exit 1; }
done
COST=10000
dev() { local s=$1; shift; timeout 60 "$FS38_DEVICE" --state "$T/$s" "$@"; }

PEERS_DIR=$T
FS38_COAP_SERVER=coap-server-openssl
FS38_COAP_CLIENT=coap-client-openssl
. "$(dirname "$0")/peers.sh"
# two free TCP ports P, P+1 on 127.0.0.1 (swtpm: the TPM on P, its control channel on P+1)
P=$(peers_free_port_pair tcp)
[ -n "$P" ] || { echo "FAIL: no free port pair" >&2; exit 1; }
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$P"
TCTI=$TPM2TOOLS_TCTI
export TSS2_LOG=all+none
mkdir -p "$T/tpmstate"
TPM_PID=
start_tpm() {
    swtpm socket --tpm2 --server type=tcp,port="$P",bindaddr=127.0.0.1 \
        --ctrl type=tcp,port=$((P + 1)),bindaddr=127.0.0.1 --tpmstate dir="$T/tpmstate" \
        --flags not-need-init,startup-clear >>"$T/swtpm.log" 2>&1 &
    TPM_PID=$!
    for _ in $(seq 50); do
        tpm2_getcap properties-fixed >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "FAIL: swtpm did not start" >&2
    cat "$T/swtpm.log" >&2
    exit 1
}
stop_tpm() { # SIG: TERM (an orderly stop) or KILL (the TPM goes away)
    [ -n "$TPM_PID" ] || return 0
    kill -"${1:-TERM}" "$TPM_PID" 2>/dev/null
    wait "$TPM_PID" 2>/dev/null
    TPM_PID=
}
TAP_PID=
trap 'peers_stop_all; stop_tpm; [ -z "$TAP_PID" ] || kill "$TAP_PID" 2>/dev/null; rm -rf "$T"' EXIT
start_tpm

persistent() { tpm2_getcap handles-persistent 2>/dev/null; }
nvindices() { tpm2_nvreadpublic 2>/dev/null | grep -E '^0x'; }
has() { # has WHAT LIST-COMMAND HANDLE DESCRIPTION
    CHECKS=$((CHECKS + 1))
    "$2" | grep -qi "$3" || fail "$4: $3 not in $1"
}
has_not() {
    CHECKS=$((CHECKS + 1))
    ! "$2" | grep -qi "$3" || fail "$4: $3 still in $1"
}

keypair vendor
random_file "$T/a.img" 5000
random_file "$T/b.img" 7000
sign "$T/vendor.pem" "$T/a.img" 1 "$T/a1.suit"
sign "$T/vendor.pem" "$T/b.img" 2 "$T/b2.suit"
sign "$T/vendor.pem" "$T/b.img" 4000 "$T/b4000.suit"
sign "$T/vendor.pem" "$T/a.img" 9000 "$T/a9000.suit"

# ---- provision, attest, decommission with the key in the TPM ----
expect_rc 0 "init --tpm" dev d init --trust "$T/vendor.pub.pem" --tpm "$TCTI"
expect_grep "$T/out" "^init: TPM at $TCTI: sealing key 0x81380002, NV counters 0x01380000\.\.0x01380003" "init --tpm line"
CHECKS=$((CHECKS + 1))
[ ! -e "$T/d/huk" ] || fail "a TPM device keeps a HUK file"
has persistent persistent 0x81380002 "after init"
for i in 0 1 2 3; do has "NV indices" nvindices 0x138000$i "after init"; done
has_not persistent persistent 0x81380001 "no device key before provisioning"

expect_rc 0 "provision" dev d provision --csr "$T/d.csr" --cost $COST
has persistent persistent 0x81380001 "after provisioning"
# the CSR is signed by, and carries, the TPM's key
expect_rc 0 "openssl req -verify" openssl req -in "$T/d.csr" -noout -verify
openssl req -in "$T/d.csr" -noout -pubkey >"$T/csr.pub" 2>/dev/null || fail "CSR public key"
tpm2_readpublic -c 0x81380001 -f pem -o "$T/tpm.pub" >/dev/null 2>&1 || fail "tpm2_readpublic"
CHECKS=$((CHECKS + 1))
cmp -s <(openssl pkey -pubin -in "$T/csr.pub" -outform DER 2>/dev/null) \
       <(openssl pkey -pubin -in "$T/tpm.pub" -outform DER 2>/dev/null) || fail "the CSR's key is not the TPM object's"
tpm2_readpublic -c 0x81380001 >"$T/attrs" 2>/dev/null
expect_grep "$T/attrs" "fixedtpm\|fixedparent" "the device key cannot leave the TPM"
expect_grep "$T/attrs" "sensitivedataorigin" "the device key was generated inside the TPM"

expect_rc 0 "ca init" "$FS38" ca init --out "$T/ca"
expect_rc 0 "ca issue" "$FS38" ca issue "$T/ca" "$T/d.csr" --out "$T/d.crt"
expect_rc 0 "install-cert" dev d install-cert "$T/d.crt"

# ---- what an observer of the TPM's bus sees: the same TPM through a wiretap (tcp_tap.py, by
# PID, 127.0.0.1): the sealing root (TPM2_HMAC) and ECDH secrets travel only encrypted (a salted
# session, AES-128-CFB); tpm2_hmac through the same tap shows them in clear, so the tap would
# see them ----
Q=$(peers_free_port_pair tcp)
python3 "$(dirname "$0")/tcp_tap.py" "$Q" "$P" "$T/wire" 300 &
TAP_PID=$!
for _ in $(seq 50); do
    TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$Q" tpm2_getcap properties-fixed >/dev/null 2>&1 && break
    sleep 0.1
done
rm -f "$T/wire" "$T/wire.in"
cp -a "$T/d" "$T/dw"
sed -i "s|^tcti .*|tcti swtpm:host=127.0.0.1,port=$Q|" "$T/dw/tpm"
expect_rc 0 "status through the wiretap" dev dw status
expect_rc 0 "attest through the wiretap" dev dw attest --nonce 00112233445566778899aabbccddeeff --out "$T/dw.tok"
printf '%s' "fs38 sealing root v1" >"$T/label0"
printf 'fs38 sealing root v1\001' >"$T/label1"
tpm2_hmac -c 0x81380002 -g sha256 -o "$T/root0" "$T/label0" >/dev/null 2>&1 || fail "tpm2_hmac block 0"
tpm2_hmac -c 0x81380002 -g sha256 -o "$T/root1" "$T/label1" >/dev/null 2>&1 || fail "tpm2_hmac block 1"
in_wire() { python3 -c 'import sys; sys.exit(0 if open(sys.argv[1], "rb").read() in open(sys.argv[2], "rb").read() else 1)' "$1" "$2"; }
CHECKS=$((CHECKS + 1))
[ -s "$T/wire" ] && [ "$(stat -c %s "$T/root0")" = 32 ] || fail "no TPM traffic through the wiretap, or no sealing-root block"
CHECKS=$((CHECKS + 1))
in_wire "$T/root0" "$T/wire" && fail "the sealing root (block 0) crossed the TPM bus in clear"
CHECKS=$((CHECKS + 1))
in_wire "$T/root1" "$T/wire" && fail "the sealing root (block 1) crossed the TPM bus in clear"
CHECKS=$((CHECKS + 1))
in_wire "$T/label0" "$T/wire.in" || fail "the wiretap did not see the device's HMAC commands"
TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$Q" tpm2_hmac -c 0x81380002 -g sha256 -o "$T/root0.tap" "$T/label0" \
    >/dev/null 2>&1 || fail "tpm2_hmac through the wiretap"
CHECKS=$((CHECKS + 1))
in_wire "$T/root0" "$T/wire" || fail "control: tpm2_hmac's clear answer is not in the wiretap's log"
kill "$TAP_PID" 2>/dev/null
wait "$TAP_PID" 2>/dev/null
TAP_PID=
# the salt key's name recorded at init: a TPM that answers with another storage key (here: the
# recorded name changed, as if something on the bus made its own key) gets no secret out
expect_grep "$T/d/tpm" "^salt 000b[0-9a-f]{64}$" "init recorded the salt key's name (SHA-256)"
cp -a "$T/d" "$T/dz"
sed -i 's/^salt 000b\(.\)/salt 000b0\1/; s/^salt \(.\{68\}\).*/salt \1/' "$T/dz/tpm"
CHECKS=$((CHECKS + 1))
cmp -s "$T/d/tpm" "$T/dz/tpm" && fail "the recorded salt name was not changed"
expect_rc 2 "attest with another salt key recorded" dev dz attest --nonce 00112233445566778899aabbccddeeff --out "$T/dz.tok"
expect_grep "$T/err" "not the one recorded when the TPM was bound" "another storage key is refused, and said so"
CHECKS=$((CHECKS + 1))
[ ! -e "$T/dz.tok" ] || fail "a token was written although the session could not be trusted"
NONCE=$("$FS38" attest nonce)
expect_rc 0 "attest (TPM2_Sign)" dev d attest --nonce "$NONCE" --out "$T/tok"
expect_rc 0 "attest verify" "$FS38" attest verify --ca "$T/ca" "$T/tok" --nonce "$NONCE"
expect_grep "$T/out" "^attest: valid token" "the TPM-signed token verifies"
# control 5 with a TPM: the debug "OTP bit" is the TPM's spare NV counter, not the parked flash one
expect_grep "$T/out" "^debug: enabled$" "TPM device: debug open before lock-debug"
expect_rc 1 "TPM device: --require-debug-locked refuses it" "$FS38" attest verify --ca "$T/ca" "$T/tok" \
    --nonce "$NONCE" --require-debug-locked
expect_rc 0 "TPM device: lock-debug" dev d lock-debug
NONCE=$("$FS38" attest nonce)
expect_rc 0 "attest after lock-debug" dev d attest --nonce "$NONCE" --out "$T/tok"
expect_rc 0 "TPM device: --require-debug-locked accepts it" "$FS38" attest verify --ca "$T/ca" "$T/tok" \
    --nonce "$NONCE" --require-debug-locked

cp "$T/d/flash.bin" "$T/flash.before-decommission"
expect_rc 0 "decommission" dev d decommission --receipt "$T/receipt" --nonce "$NONCE"
expect_grep "$T/out" "TPM: evicted 0x81380001 0x81380002, undefined 0x01380000 0x01380001 0x01380002 0x01380003" \
    "decommission: the TPM objects removed"
expect_rc 0 "receipt verify" "$FS38" receipt verify --ca "$T/ca" "$T/receipt" --nonce "$NONCE" --json
# the receipt lists the TPM objects (as keys: 0x81380001 = 2167930881, ...)
for h in 0x81380001 0x81380002 0x01380000 0x01380001 0x01380002 0x01380003; do
    expect_grep "$T/out" "\"keys_destroyed\":\[[0-9,]*\b$((h))\b" "receipt lists $h"
done
for h in 0x81380001 0x81380002; do has_not persistent persistent $h "after decommissioning"; done
for i in 0 1 2 3; do has_not "NV indices" nvindices 0x138000$i "after decommissioning"; done
expect_rc 1 "no attestation after decommissioning" dev d attest --nonce "$NONCE" --out "$T/tok2"

# ---- the rollback attack: without a TPM it works, with one it is refused ----
attack() { # attack NAME [--tpm TCTI]
    local s=$1
    shift
    expect_rc 0 "$s: init" dev "$s" init --trust "$T/vendor.pub.pem" "$@"
    expect_rc 0 "$s: provision" dev "$s" provision --csr "$T/$s.csr" --cost $COST
    expect_rc 0 "$s: flash A (sequence 1)" dev "$s" flash-slot A "$T/a1.suit" "$T/a.img"
    expect_rc 0 "$s: commit A" dev "$s" commit
    rm -rf "$T/$s.old"
    cp -a "$T/$s" "$T/$s.old" # the attacker's copy of the whole state
    expect_rc 0 "$s: install B (sequence 2)" dev "$s" flash-slot B "$T/b2.suit" "$T/b.img"
    expect_rc 0 "$s: commit B" dev "$s" commit
    expect_grep "$T/out" "^commit: slot B, anti-rollback counter 2$" "$s: counter 2"
    printf 'not-the-password\n' | timeout 60 "$FS38_DEVICE" --state "$T/$s" login admin >/dev/null 2>&1 # a store write
    rm -rf "$T/$s"
    mv "$T/$s.old" "$T/$s" # ... put back
}
attack plain
expect_rc 0 "plain: boot after the restore" dev plain boot
expect_grep "$T/out" "^boot: slot A, sequence 1$" "without a TPM the old image boots (the attack works)"
expect_rc 0 "plain: status" dev plain status
expect_grep "$T/out" "^anti-rollback counter: 1$" "without a TPM the counter went back"

attack tpm --tpm "$TCTI"
expect_rc 1 "tpm: boot after the restore" dev tpm boot
expect_grep "$T/err" "^boot: slot A refused: sequence 1 < installed 2$" "with the TPM the old image is refused"
expect_rc 2 "tpm: the store after the restore" dev tpm attest --nonce "$NONCE" --out "$T/tok3"
expect_grep "$T/err" "rolled back" "with the TPM the store reports the rollback"

# the TPM binding removed (DIR/tpm stands in for the ROM's configuration): the device falls back to
# its flash counters, which init --tpm set to their maximum, so nothing boots (fail closed)
cp -a "$T/tpm" "$T/unbound"
rm -f "$T/unbound/tpm"
expect_rc 1 "unbound: boot without the TPM binding" dev unbound boot
expect_grep "$T/err" "^boot: slot A refused: sequence 1 < installed 9223372036854775807$" "unbound: fails closed"

# ---- the TPM goes away ----
expect_rc 0 "k: init --tpm" dev k init --trust "$T/vendor.pub.pem" --tpm "$TCTI"
expect_rc 0 "k: provision" dev k provision --csr "$T/k.csr" --cost $COST
expect_rc 0 "k: flash A" dev k flash-slot A "$T/a1.suit" "$T/a.img"
expect_rc 0 "k: commit A" dev k commit
stop_tpm KILL
cp "$T/k/flash.bin" "$T/k.flash"
expect_rc 2 "k: attest without the TPM" dev k attest --nonce "$NONCE" --out "$T/tok4"
expect_grep "$T/err" "TPM.*(does not answer|cannot reach)" "k: a clear error"
CHECKS=$((CHECKS + 1))
cmp -s "$T/k/flash.bin" "$T/k.flash" || fail "k: the flash changed while the TPM was away"
CHECKS=$((CHECKS + 1))
[ ! -e "$T/tok4" ] || fail "k: a token was written without the TPM"
start_tpm
expect_rc 0 "k: attest when the TPM is back" dev k attest --nonce "$NONCE" --out "$T/tok4"
# killed during a command: commit of sequence 4000 is 3999 TPM2_NV_Increment
expect_rc 0 "k: flash B (sequence 4000)" dev k flash-slot B "$T/b4000.suit" "$T/b.img"
cp "$T/k/flash.bin" "$T/k.flash"
"$FS38_DEVICE" --state "$T/k" commit >"$T/out" 2>"$T/err" &
CPID=$!
sleep 0.3
stop_tpm KILL
wait $CPID
RC=$?
CHECKS=$((CHECKS + 1))
[ $RC = 2 ] || fail "k: commit with the TPM killed: exit $RC, expected 2 ($(cat "$T/err"))"
expect_grep "$T/err" "TPM.*(does not answer|cannot reach)" "k: commit: a clear error"
CHECKS=$((CHECKS + 1))
cmp -s "$T/k/flash.bin" "$T/k.flash" || fail "k: the interrupted commit wrote to the flash"
start_tpm
expect_rc 0 "k: status when the TPM is back" dev k status
expect_grep "$T/out" "^slot B: sequence 4000, verified" "k: B intact"
expect_rc 0 "k: commit again" dev k commit
expect_grep "$T/out" "^commit: slot B, anti-rollback counter 4000$" "k: the commit completes"
# a TPM counter moves one TPM2_NV_Increment at a time: a jump of more than 4096 is refused, in words
expect_rc 0 "k: flash A (sequence 9000)" dev k flash-slot A "$T/a9000.suit" "$T/a.img"
expect_rc 1 "k: commit of a 5000-step jump" dev k commit
expect_grep "$T/err" "more than 4096 steps" "k: the jump refused"
expect_rc 0 "k: status after the refused jump" dev k status
expect_grep "$T/out" "^anti-rollback counter: 4000$" "k: the counter unchanged"
expect_rc 0 "k: ca issue" "$FS38" ca issue "$T/ca" "$T/k.csr" --out "$T/k.crt"
expect_rc 0 "k: install-cert after the recovery" dev k install-cert "$T/k.crt"
expect_rc 0 "k: attest after the recovery" dev k attest --nonce "$NONCE" --out "$T/tok5"
expect_rc 0 "k: the token verifies" "$FS38" attest verify --ca "$T/ca" "$T/tok5" --nonce "$NONCE"
# DTLS client authentication with the key in the TPM (PSA secure-element driver -> TPM2_Sign):
# coap-server-openssl requires and verifies the device certificate (-R)
expect_rc 0 "server certificate" "$FS38" ca server "$T/ca" --name 127.0.0.1 --out "$T/srv.crt" --key-out "$T/srv.key"
CP=$(python3 -c '
import socket
for _ in range(50):
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    try:  # coap-server also listens on TCP P and P + 1
        for q, k in ((p + 1, socket.SOCK_DGRAM), (p, socket.SOCK_STREAM), (p + 1, socket.SOCK_STREAM)):
            socket.socket(socket.AF_INET, k).bind(("127.0.0.1", q))
        print(p); break
    except OSError: pass')
peers_coap_server "$CP" -d 10 -v 4 -c "$T/srv.crt" -j "$T/srv.key" -R "$T/ca/ca.crt" || fail "coap-server (PKI)"
expect_rc 0 "k: fetch over DTLS, the device authenticated by the TPM key" \
    dev k fetch "coaps://127.0.0.1:$((CP + 1))/" --ca "$T/ca/ca.crt" --out "$T/fetched"
expect_grep "$T/fetched" "libcoap" "k: the server's resource"
# (-R: the server requires the client certificate and verifies it and its CertificateVerify,
# signed inside the TPM, as in net_device.sh; a server without -R is refused by the device's policy)
stop_tpm KILL
expect_rc 2 "k: fetch without the TPM" dev k fetch "coaps://127.0.0.1:$((CP + 1))/" --ca "$T/ca/ca.crt" --out "$T/f2"
expect_grep "$T/err" "cannot reach the TPM" "k: fetch: the TPM is named"
start_tpm
# decommissioning after TLS: the key's PSA registration goes too (0x00380005 = 3670021)
expect_rc 0 "k: decommission" dev k decommission --receipt "$T/k.receipt"
expect_grep "$T/out" "TPM: evicted 0x81380001 0x81380002" "k: TPM objects removed"
expect_rc 0 "k: receipt verify" "$FS38" receipt verify --ca "$T/ca" "$T/k.receipt" --json
expect_grep "$T/out" "\"keys_destroyed\":\[2167930881,3670021," "k: the receipt lists the TPM key and its PSA registration"
has_not persistent persistent 0x81380001 "k: after decommissioning"

# the handshake's signature is the TPM's: with the key evicted behind the device's back, the
# same fetch fails
expect_rc 0 "n: init --tpm" dev n init --trust "$T/vendor.pub.pem" --tpm "$TCTI"
expect_rc 0 "n: provision" dev n provision --csr "$T/n.csr" --cost $COST
expect_rc 0 "n: ca issue" "$FS38" ca issue "$T/ca" "$T/n.csr" --out "$T/n.crt"
expect_rc 0 "n: install-cert" dev n install-cert "$T/n.crt"
expect_rc 0 "n: fetch" dev n fetch "coaps://127.0.0.1:$((CP + 1))/" --ca "$T/ca/ca.crt" --out "$T/f3"
tpm2_evictcontrol -C o -c 0x81380001 >/dev/null 2>&1 || fail "tpm2_evictcontrol"
run dev n fetch "coaps://127.0.0.1:$((CP + 1))/" --ca "$T/ca/ca.crt" --out "$T/f4"
CHECKS=$((CHECKS + 1))
[ "$RC" -ne 0 ] || fail "n: fetch succeeded with the TPM key evicted: the handshake was not signed in the TPM"
expect_grep "$T/err" "0x81380001 does not exist|handshake|refused" "n: why the fetch failed"

finish
