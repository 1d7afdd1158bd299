/* SPDX-License-Identifier: Apache-2.0 */
/*
 * commands.h — fs38-device's commands. Each: int cmd_x(const char *dir, int argc, char **argv)
 * where argv holds the arguments after the command name. To add a command: write it in its
 * own cmd_*.c, declare it here, and add one line to DEVICE_EXTRA_COMMANDS.
 */
#ifndef FS38_DEVICE_COMMANDS_H
#define FS38_DEVICE_COMMANDS_H

#include "device.h"

typedef struct device_command {
    const char *name;
    int (*run)(const char *dir, int argc, char **argv);
    const char *args;
    const char *summary;
} device_command;

extern device g_dev;

/* cmd_slots.c — secure boot (control 2) */
int cmd_init(const char *dir, int argc, char **argv);
int cmd_flash_slot(const char *dir, int argc, char **argv);
int cmd_boot(const char *dir, int argc, char **argv);
int cmd_commit(const char *dir, int argc, char **argv);
int cmd_status(const char *dir, int argc, char **argv);

/* cmd_update.c — updates (control 3) */
int cmd_update(const char *dir, int argc, char **argv);
int cmd_confirm(const char *dir, int argc, char **argv);
int cmd_pubkey(const char *dir, int argc, char **argv);

/* cmd_identity.c — identity, accounts, attestation, decommissioning (controls 1, 6, 8, 12) */
int cmd_provision(const char *dir, int argc, char **argv);
int cmd_csr(const char *dir, int argc, char **argv);
int cmd_install_cert(const char *dir, int argc, char **argv);
int cmd_identity(const char *dir, int argc, char **argv);
int cmd_attest(const char *dir, int argc, char **argv);
int cmd_login(const char *dir, int argc, char **argv);
int cmd_passwd(const char *dir, int argc, char **argv);
int cmd_decommission(const char *dir, int argc, char **argv);
/* An attestation token (EAT, COSE_Sign1 by the device key) for nonce on an opened device with
 * its keys (device_keys_open): the same token as the attest command. *booted: the running slot
 * measured (-1 none). FS38_OK, or fs38_attest's / the identity's error with diag set. */
FS38_NODISCARD fs38_err device_attest_token(device *d, const uint8_t *nonce, size_t nonce_len, uint8_t *token,
                                            size_t cap, size_t *len, int *booted, fs38_diag *diag);
/* Complete an interrupted decommissioning (call right after device_open). 0 or -1. */
int device_decommission_resume(device *d);

/* cmd_net.c — network commands over the secure channel (control 4); update --from and
 * log push are reached through cmd_update / cmd_log (net.h) */
int cmd_fetch(const char *dir, int argc, char **argv);
/* cmd_run.c — the fleet agent over MQTT (issue 11) */
int cmd_run(const char *dir, int argc, char **argv);

/* cmd_log.c — the security log (control 7) */
int cmd_log(const char *dir, int argc, char **argv);
/* Create the security log on an open device, write k0 (hex) to k0_path (created, mode 0600) and
 * make the log the event sink. For provisioning (cmd_provision --log-key-out). 0 or -1 (printed). */
int device_log_provision(device *d, const char *k0_path);
/* Advance FS38_COUNTER_BOOT once (called by the boot command) and stamp the log's events with it. */
void device_log_boot(device *d);

/* cmd_privacy.c — consent, telemetry, pseudonyms (control 11), wireless policy (control 10),
 * the debug lock (control 5) */
int cmd_consent(const char *dir, int argc, char **argv);
int cmd_telemetry(const char *dir, int argc, char **argv);
int cmd_pseudonym(const char *dir, int argc, char **argv);
int cmd_wireless(const char *dir, int argc, char **argv);
int cmd_lock_debug(const char *dir, int argc, char **argv);
/* The vendor's facts (control 13): DIR/vendor, else the built-in defaults. 0 or -1 (printed). */
typedef struct device_vendor_info {
    char support_until[11]; /* "YYYY-MM-DD" */
    char disclosure[64];    /* disclosure contact */
    char mac[32];           /* the device's MAC address, "" when unknown */
} device_vendor_info;
int device_vendor(const char *dir, device_vendor_info *v);

/* Commands beyond secure boot, one line each. */
#define DEVICE_EXTRA_COMMANDS \
    { "update", cmd_update, "ENV.suit PAYLOAD [--chunk N] [--power-cut K]\n" \
      "       update --from ENV_URL --payload-from PAYLOAD_URL --ca SERVER_CA.pem [--power-cut K] [NET]", \
      "install a signed (and encrypted) update into the other slot; --from: fetched over\n" \
      "      coaps:// (CoAP/DTLS), the payload streamed block by block into the update agent,\n" \
      "      resumed from the agent's offset after a power cut" }, \
    { "fetch", cmd_fetch, "URL --ca SERVER_CA.pem --out FILE [NET]", \
      "fetch coaps://host:port/path (CoAP over DTLS 1.2, block-wise) into FILE (atomically).\n" \
      "      NET options of fetch, update --from and log push: --ca SERVER_CA.pem (the fleet CA;\n" \
      "      the device authenticates with its certificate and its key inside PSA),\n" \
      "      --client-auth required|optional (default required: a server that does not ask for\n" \
      "      the device certificate is refused), --timeout MS (default 10000),\n" \
      "      --qblock2: CoAP downloads as RFC 9177 Q-Block2 sets (NON, one request per 10\n" \
      "      blocks, a set held in 10 KiB while the next comes; Block2 when the server has none),\n" \
      "      --psk-id ID [--psk FILE]: PSK mode; FILE holds the key as hex and is imported into\n" \
      "      the sealed store (fs38 ITS) as a persistent PSA key; later runs need only --psk-id.\n" \
      "      exit: 0 done, 1 refused (TLS/auth/policy, CoAP 4.xx/5.xx, MQTT CONNACK refusal),\n" \
      "      2 usage or local I/O, 3 network unreachable, timed out or closed (update: also a\n" \
      "      --power-cut)" }, \
    { "run", cmd_run, "--broker mqtts://HOST:PORT --ca SERVER_CA.pem [--once] [--wait MS] [--interval S] [--heartbeat S] [NET]", \
      "the fleet agent over MQTT (docs/fleet.md): push the log and free the ring up to the\n" \
      "      collector's ack, answer attestation challenges, install announced updates (payload\n" \
      "      over coaps://), confirm a trial boot; --once: handle what is pending, then exit;\n" \
      "      --interval S (300): push what the collector has not acknowledged; an idle log\n" \
      "      only every --heartbeat S (3600; 0: every interval)" }, \
    { "confirm", cmd_confirm, "", "confirm the image on trial (after its self-test): commit it" }, \
    { "pubkey", cmd_pubkey, "[--out PUB.pem]", "export the device's key-agreement public key (for encrypted updates)" }, \
    { "log", cmd_log, "init|export|push|release|status|append|seal ... (log --help)", "the security log: create (k0 out once), export a verifiable batch, push it\n" \
      "      (log push mqtts://host:port | coaps://host:port/path --ca CA [--file EXPORT] [NET]),\n" \
      "      acknowledge, inspect" }, \
    { "provision", cmd_provision, "--csr CSR.pem [--cost N] [--log-key-out K0]", "factory: generate the device key and UEID inside the device, the admin setup credential, and a CSR" }, \
    { "csr", cmd_csr, "--out CSR.pem", "write the device's CSR again" }, \
    { "install-cert", cmd_install_cert, "CERT.pem [--ca CA.crt]", "store the certificate the CA issued (refused unless it is for this device's key)" }, \
    { "identity", cmd_identity, "", "show the UEID, lifecycle state, device key id and certificate" }, \
    { "attest", cmd_attest, "--nonce HEX --out TOKEN", "sign an attestation token (EAT) for the verifier's nonce" }, \
    { "login", cmd_login, "USER", "log in, password on stdin (exit 0 ok, 1 refused, 4 password change required)" }, \
    { "passwd", cmd_passwd, "USER", "change a password: current and new on stdin, one line each" }, \
    { "decommission", cmd_decommission, "--receipt RECEIPT [--nonce HEX]", "sign a receipt, destroy every key, erase store and log, lifecycle decommissioned" }, \
    { "consent", cmd_consent, "grant|revoke|show PURPOSE", "record or show the user's consent for a purpose (diagnostics, analytics);\n" \
      "      revoking erases what was kept under it; each change is a security-log event" }, \
    { "telemetry", cmd_telemetry, "--purpose P --in RECORD.json --out OUT.json", "minimise a telemetry record for a purpose: allowed fields only, identifiers\n" \
      "      pseudonymised, location coarsened (exit 1 and no output without consent)" }, \
    { "pseudonym", cmd_pseudonym, "--purpose P VALUE", "print VALUE's pseudonym for a purpose (HMAC-SHA-256 under a key derived inside the device)" }, \
    { "wireless", cmd_wireless, "set --ssid S --security wpa2-psk|wpa3-sae --psk P [--pmf required|optional] | show", \
      "check a Wi-Fi configuration against the wireless policy and seal it in the store (exit 1\n" \
      "      with the reason when refused); show never prints the passphrase" }, \
    { "lock-debug", cmd_lock_debug, "", "lock the debug ports for good (JTAG/SWD, UART console, test modes; one-way OTP bit)" },

#endif
