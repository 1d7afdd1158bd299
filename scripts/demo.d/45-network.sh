# SPDX-License-Identifier: Apache-2.0
# Chapter 4b — the network (control 4): an encrypted update over CoAP/DTLS from libcoap's
# coap-server-openssl, the security log to Mosquitto over TLS, a server with a wrong CA refused.
# Sourced by scripts/demo.sh: $FS38, $DEV, $W, $STATE, the helpers run/refuse/expect, and what
# chapter 3 left (DEVICE_CA: the fleet CA that issued the device certificate; LOG_K0).
# Servers listen on 127.0.0.1 only, on free ports, and are stopped by PID (trap, and at the end
# of the chapter); every device command is bounded by its --timeout.

chapter "4b. Network: updates over CoAP/DTLS and the log over MQTT/TLS, authenticated both ways"

[ -n "${DEVICE_CA:-}" ] && [ -f "$DEVICE_CA/ca.crt" ] || { echo "demo: chapter 45 needs chapter 3's fleet CA" >&2; exit 1; }
for b in coap-server-openssl coap-client-openssl mosquitto_sub openssl; do
  command -v "$b" >/dev/null || { echo "demo: $b is missing (scripts/deps installs libcoap3-bin, mosquitto-clients)" >&2; exit 1; }
done
PEERS_DIR="$W/peers"
mkdir -p "$PEERS_DIR"
FS38_COAP_SERVER=coap-server-openssl
FS38_COAP_CLIENT=coap-client-openssl
# shellcheck source=/dev/null
. "$here/tests/cli/peers.sh"
# shellcheck source=/dev/null
. "$here/tests/cli/broker.sh"
net_stop() { peers_stop_all || true; broker_stop || true; }
trap 'net_stop; rm -rf "$W"' EXIT
CA="$DEVICE_CA/ca.crt"
NET="--ca $CA --timeout 5000"

step "The update server: libcoap's coap-server-openssl, its certificate (SAN 127.0.0.1) from the fleet CA; it requires the device's client certificate and checks it against the same CA"
run "$FS38" ca server "$DEVICE_CA" --name 127.0.0.1 --out "$W/coap-srv.crt" --key-out "$W/coap-srv.key"
P=$(peers_free_port_pair udp)
show coap-server-openssl -A 127.0.0.1 -p "$P" -d 10 -c "$W/coap-srv.crt" -j "$W/coap-srv.key" -R "$CA"
peers_coap_server "$P" -d 10 -c "$W/coap-srv.crt" -j "$W/coap-srv.key" -R "$CA" || { echo "demo: coap-server did not start" >&2; exit 1; }
echo "   (coaps:// on 127.0.0.1:$((P + 1)), PID $PEER_PID)"

step "A release encrypted for this device (its key-agreement key was made anew after chapter 3's decommissioning), published on the server"
"$DEV" --state "$STATE" boot >/dev/null 2>&1
counter=$("$DEV" --state "$STATE" status | sed -n 's/^anti-rollback counter: //p')
SEQ=$((${counter:-0} + 7))
run "$DEV" --state "$STATE" pubkey --out "$W/net-ecdh.pub"
head -c 400000 /dev/urandom >"$W/fw-net.bin"
run "$FS38" sign --key "$W/vendor.pem" --image "$W/fw-net.bin" --seq "$SEQ" --vendor-id "$VENDOR" --class-id "$CLASS" \
  --encrypt-to "$W/net-ecdh.pub" --payload-out "$W/fw-net.payload" --out "$W/fw-net.suit"
for f in fw-net.suit fw-net.payload; do
  show coap-client-openssl -m put -f "$W/$f" "coap://127.0.0.1:$P/$f"
  timeout 60 coap-client-openssl -m put -b 1024 -f "$W/$f" "coap://127.0.0.1:$P/$f" >/dev/null
done

step "The device fetches the envelope over CoAP/DTLS (mutual authentication: its certificate, its key inside PSA) and streams the payload block by block into the update agent; the power fails halfway"
show "$DEV" --state "$STATE" update --from "coaps://127.0.0.1:$((P + 1))/fw-net.suit" --payload-from "coaps://127.0.0.1:$((P + 1))/fw-net.payload" $NET --power-cut 300
set +e
"$DEV" --state "$STATE" update --from "coaps://127.0.0.1:$((P + 1))/fw-net.suit" \
  --payload-from "coaps://127.0.0.1:$((P + 1))/fw-net.payload" $NET --power-cut 300 2>&1 | tidy
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 3 ] || { echo "demo: expected the simulated power loss (exit 3), got $rc" >&2; exit 1; }
step "Power back: the same command resumes from the agent's offset (CoAP Block2 start offset), decrypting on the fly"
expect "resuming an interrupted download" "$DEV" --state "$STATE" update --from "coaps://127.0.0.1:$((P + 1))/fw-net.suit" \
  --payload-from "coaps://127.0.0.1:$((P + 1))/fw-net.payload" $NET
expect "sequence $SEQ" "$DEV" --state "$STATE" boot
expect "anti-rollback counter $SEQ" "$DEV" --state "$STATE" confirm

LIBCOAP="${FS38_LIBCOAP_DIR:-$here/build/libcoap}"
[ -x "$LIBCOAP/bin/coap-server-openssl" ] || { echo "demo: libcoap 4.3.4 is missing in $LIBCOAP (scripts/deps --libcoap-dir)" >&2; exit 1; }
step "A server with RFC 9177 Q-Block2 (Debian 13's libcoap 4.3.4, which scripts/deps fetches): with --qblock2 the device asks once per set of 10 blocks instead of once per block, and hands each set to its receiver while the server already sends the next"
Q=$(peers_free_port_pair udp)
FS38_COAP_SERVER=$LIBCOAP/bin/coap-server-openssl FS38_COAP_CLIENT=$LIBCOAP/bin/coap-client-openssl \
  peers_coap_server "$Q" -d 10 -L 5 -c "$W/coap-srv.crt" -j "$W/coap-srv.key" -R "$CA" ||
  { echo "demo: coap-server 4.3.4 did not start" >&2; exit 1; }
echo "   (libcoap 4.3.4 coap-server -L 5 (Q-Block): coaps:// on 127.0.0.1:$((Q + 1)), PID $PEER_PID)"
head -c 1048576 /dev/urandom >"$W/big.bin"
timeout 60 "$LIBCOAP/bin/coap-client-openssl" -m put -b 1024 -f "$W/big.bin" "coap://127.0.0.1:$Q/big" >/dev/null
expect "(Q-Block2)" "$DEV" --state "$STATE" fetch "coaps://127.0.0.1:$((Q + 1))/big" $NET --out "$W/big.got" --qblock2
cmp -s "$W/big.bin" "$W/big.got" || { echo "demo: the Q-Block2 download differs" >&2; exit 1; }
echo "   (1 MiB byte-exact)"
step "The same option against the first server (Debian 12's libcoap 4.3.1, no Q-Block): it rejects the Q-Block2 request and the device goes on with Block2, nothing lost"
out=$("$DEV" --state "$STATE" fetch "coaps://127.0.0.1:$((P + 1))/fw-net.payload" $NET --out "$W/fw-net.got" --qblock2 2>&1) ||
  { echo "$out" | tidy; echo "demo: fetch --qblock2 from 4.3.1 failed" >&2; exit 1; }
show "$DEV" --state "$STATE" fetch "coaps://127.0.0.1:$((P + 1))/fw-net.payload" $NET --out "$W/fw-net.got" --qblock2
echo "$out" | tidy
case "$out" in *"(Q-Block2)"*) echo "demo: 4.3.1 cannot serve Q-Block2" >&2; exit 1 ;; esac
cmp -s "$W/fw-net.payload" "$W/fw-net.got" || { echo "demo: the Block2 download differs" >&2; exit 1; }

step "The fleet's broker: Mosquitto over TLS on 127.0.0.1 (never the plaintext port 1883), client certificates required, user name = the certificate's CN = the UEID, ACL 'pattern write fs38/%u/#'"
openssl ecparam -name prime256v1 -genkey -noout -out "$W/collector.key" 2>/dev/null
openssl req -new -key "$W/collector.key" -subj /CN=collector -out "$W/collector.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n' >"$W/collector.ext"
openssl x509 -req -in "$W/collector.csr" -CA "$CA" -CAkey "$DEVICE_CA/ca.key" -CAcreateserial -days 1 \
  -extfile "$W/collector.ext" -out "$W/collector.crt" 2>/dev/null
echo "   (the fleet's log collector: a client certificate CN=collector from the same CA, allowed to read fs38/+/log)"
printf 'user collector\ntopic read fs38/+/log\npattern write fs38/%%u/#\npattern read fs38/%%u/#\n' >"$W/broker.acl"
chmod 600 "$W/broker.acl"
broker_start "$W/broker" "cafile $CA" "certfile $W/coap-srv.crt" "keyfile $W/coap-srv.key" "require_certificate true" \
  "use_identity_as_username true" "acl_file $W/broker.acl" "allow_anonymous false" || { echo "demo: mosquitto did not start" >&2; exit 1; }
sed "s/^/   | /" "$W/broker/mosquitto.conf" | grep -v -e log_ -e "user root" | tidy
M=$BROKER_PORT
show mosquitto_sub -h 127.0.0.1 -p "$M" --cafile "$CA" --cert "$W/collector.crt" --key "$W/collector.key" -t 'fs38/+/log' -C 1 -N '>' "$W/pushed.cbor"
timeout 20 mosquitto_sub -h 127.0.0.1 -p "$M" --cafile "$CA" --cert "$W/collector.crt" --key "$W/collector.key" \
  -i collector -q 1 -t 'fs38/+/log' -C 1 -W 15 -N >"$W/pushed.cbor" 2>"$W/sub.err" &
SUB_PID=$!
broker_wait_log "Received SUBSCRIBE from collector" 5 || { echo "demo: the collector did not subscribe" >&2; exit 1; }

step "The device pushes its security log: topic fs38/<its UEID>/log, QoS 1, acknowledged"
expect "QoS 1 acknowledged" "$DEV" --state "$STATE" log push "mqtts://127.0.0.1:$M" $NET
wait "$SUB_PID" || { cat "$W/sub.err" >&2; echo "demo: mosquitto_sub received nothing" >&2; exit 1; }
echo "   mosquitto_sub received $(stat -c %s "$W/pushed.cbor") bytes; the fleet verifies them with k0:"
expect "OK" "$FS38" log verify --k0 "$LOG_K0" "$W/pushed.cbor"
broker_stop || true

step "Refusal: a server whose certificate comes from another CA (an impostor on the network)"
run "$FS38" ca init --out "$W/rogue-ca"
run "$FS38" ca server "$W/rogue-ca" --name 127.0.0.1 --out "$W/rogue.crt" --key-out "$W/rogue.key"
R=$(peers_free_port_pair udp)
peers_coap_server "$R" -d 10 -c "$W/rogue.crt" -j "$W/rogue.key" -R "$CA" || { echo "demo: coap-server did not start" >&2; exit 1; }
refuse "not signed by the fleet CA" "$DEV" --state "$STATE" fetch "coaps://127.0.0.1:$((R + 1))/fw-net.suit" $NET --out "$W/never"
[ ! -e "$W/never" ] || { echo "demo: a refused fetch wrote its output" >&2; exit 1; }
"$DEV" --state "$STATE" log export --out "$W/after-net.cbor" >/dev/null
expect "channel-refused" "$FS38" log show "$W/after-net.cbor"
echo "   (the refusal is in the device's security log)"

net_stop
trap 'rm -rf "$W"' EXIT
