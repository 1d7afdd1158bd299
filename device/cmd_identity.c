/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_identity.c — fs38-device commands of identity, accounts, attestation and
 * decommissioning (controls 1, 6, 8, 12):
 *
 *   provision --csr CSR.pem [--cost N] [--log-key-out K0]
 *                                        device key + UEID generated inside the device, the
 *                                        admin setup credential (printed once as
 *                                        "setup-credential: ..."), the security log (its initial
 *                                        key k0 to K0, device_log_provision), a CSR signed by
 *                                        the device key
 *   csr --out CSR.pem                    the CSR again
 *   install-cert CERT.pem [--ca CA.crt]  store the certificate (refused unless it is for this
 *                                        device's key and UEID)
 *   identity                             UEID, lifecycle, key id, certificate
 *   attest --nonce HEX --out TOKEN       EAT (COSE_Sign1) over the boot measurements
 *   login USER                           password on stdin: exit 0 ok, 1 refused, 4 change required
 *   passwd USER                          current and new password on stdin (two lines)
 *   decommission --receipt R [--nonce HEX] [--power-cut K]
 *
 * Passwords are read from stdin with read(2) (no stdio buffer keeps them), without echo on a
 * terminal, wiped after use, and never printed. Exit status: 0 success, 1 refused, 2 usage or
 * I/O error, 3 power cut (--power-cut), 4 password change required.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "commands.h"
#include "fs38/attest.h"
#include "fs38/auth.h"
#include "fs38/decommission.h"
#include "fs38/identity.h"
#include "fs38/util.h"
#include "csr.h"
#include "keys.h"
#include "layout.h"

#define EXIT_POWER 3
#define EXIT_CHANGE 4
#define ADMIN "admin"
#define COST_MIN 10000u /* NIST SP 800-63B: at least 10,000 PBKDF2 iterations */

static fs38_identity g_id;
static fs38_auth g_auth;
static fs38_attest_ctx g_att;
static fs38_decommission_ctx g_dec;

/* ---- opening ------------------------------------------------------------------------------- */

static void decom_config(device *d, fs38_decommission_config *c, psa_key_id_t keys[FS38_DECOM_MAX_KEYS],
                         fs38_decom_region *log_region)
{
    size_t n = 0;
    memset(c, 0, sizeof *c);
    for (psa_key_id_t k = DEV_KEY_FIRST; k <= DEV_KEY_LAST && n < FS38_DECOM_MAX_KEYS; k++)
        if (k != DEV_KEY_IDENTITY)
            keys[n++] = k;
    *log_region = (fs38_decom_region){ "log", DEV_LOG_OFFSET, DEV_LOG_SIZE };
    c->id = &g_id;
    c->port = &d->port;
    c->keys = keys;
    c->n_keys = n;
    c->regions = log_region;
    c->n_regions = 1;
}

int device_decommission_resume(device *d)
{
    psa_key_id_t keys[FS38_DECOM_MAX_KEYS];
    fs38_decom_region log_region;
    fs38_decommission_config c;
    uint8_t receipt[FS38_RECEIPT_MAX];
    size_t len = 0;
    if (device_identity_init(d, &g_id))
        return -1;
    decom_config(d, &c, keys, &log_region);
    fs38_lifecycle lc = FS38_LIFECYCLE_BLANK;
    if (fs38_identity_lifecycle(&g_id, &lc) == FS38_OK && lc == FS38_LIFECYCLE_DECOMMISSIONING)
        device_log_close(d); /* its region and key are about to be erased: nothing may write there */
    fs38_err e = fs38_decommission_resume(&g_dec, &c, receipt, sizeof receipt, &len);
    if (e != FS38_OK) {
        host_err("completing the interrupted decommissioning failed: %s", g_dec.diag.msg);
        return -1;
    }
    if (g_dec.outcome == FS38_DECOM_RESUMED)
        fprintf(stderr, "%s: an interrupted decommissioning was completed (%zu key(s) destroyed, store and log "
                        "erased); 'decommission --receipt FILE' writes its receipt\n",
                host_prog(), g_dec.keys_destroyed);
    return 0;
}

/* device_open + the device's keys + the identity context, completing an interrupted
 * decommissioning first. 0 or -1 (message printed). */
static int open_identity(const char *dir)
{
    if (device_open(&g_dev, dir))
        return -1;
    if (device_keys_open(&g_dev) || device_decommission_resume(&g_dev)) {
        device_close(&g_dev);
        return -1;
    }
    return 0;
}

static int auth_open(uint32_t iterations, const uint8_t *ueid)
{
    fs38_auth_config ac;
    memset(&ac, 0, sizeof ac);
    ac.store = &g_dev.store;
    ac.port = &g_dev.port;
    ac.iterations = iterations;
    ac.ueid = ueid;
    ac.ueid_len = ueid ? FS38_UEID_LEN : 0;
    fs38_err e = fs38_auth_init(&g_auth, &ac);
    if (e != FS38_OK) {
        host_err("accounts unavailable: %s", g_auth.diag.msg[0] ? g_auth.diag.msg : fs38_strerror(e));
        return -1;
    }
    return 0;
}

/* The device opened with its accounts at the recorded cost, bound to the UEID when the device
 * has one (read into ueid, which the accounts keep using: it must outlive them). 0, or -1 (said
 * why) with the device closed. */
static int open_accounts(const char *dir, uint8_t ueid[FS38_UEID_LEN])
{
    if (open_identity(dir))
        return -1;
    const bool have_ueid = fs38_identity_ueid(&g_id, ueid) == FS38_OK;
    if (auth_open(0, have_ueid ? ueid : NULL)) {
        device_close(&g_dev);
        return -1;
    }
    return 0;
}

static int exit_for(fs38_err e)
{
    return e == FS38_ERR_IO || e == FS38_ERR_ARG || e == FS38_ERR_CRYPTO || e == FS38_ERR_STATE ||
                   e == FS38_ERR_STORE_CORRUPT || e == FS38_ERR_STORE_ROLLBACK || e == FS38_ERR_STORE_FULL
               ? HOST_EXIT_USAGE
               : HOST_EXIT_REJECT;
}

/* ---- X.509 helpers (legacy Mbed TLS API: PSA has no X.509) ---------------------------------- */

static void mbed_err(const char *what, int ret)
{
    host_err("%s failed (Mbed TLS error -0x%04x)", what, (unsigned)-ret);
}

/* A CSR for the device key (which never leaves PSA: an opaque PK signs it), into output i of o
 * (the caller commits). An exit code. */
static int write_csr(host_out *o, int i)
{
    uint8_t ueid[FS38_UEID_LEN];
    char hex[2 * FS38_UEID_LEN + 1], subject[160];
    unsigned char pem[2048];
    const fs38_key *key = NULL;
    fs38_err e = fs38_identity_device_key(&g_id, &key);
    if (e == FS38_OK)
        e = fs38_identity_ueid(&g_id, ueid);
    if (e != FS38_OK) {
        fprintf(stderr, "csr: refused: %s\n", g_id.diag.msg);
        return exit_for(e);
    }
    host_hex(ueid, sizeof ueid, hex);
    snprintf(subject, sizeof subject, "CN=%s,serialNumber=%s,O=fs38", hex, hex); /* CN = UEID (broker user name) */
    /* signed through the key interface: the key may be in PSA or in a TPM (csr.c) */
    if (device_csr_pem(key, subject, pem, sizeof pem, &e))
        return e == FS38_ERR_IO || e == FS38_OK ? HOST_EXIT_USAGE : exit_for(e);
    return host_out_write(o, i, pem, strlen((const char *)pem)) ? HOST_EXIT_USAGE : HOST_EXIT_OK;
}

/* ---- provision / csr / install-cert / identity ---------------------------------------------- */

static int provision_run(const char *dir, const char *csr, uint32_t cost, const char *log_key_out)
{
    uint8_t ueid[FS38_UEID_LEN], point[FS38_P256_POINT_LEN], kid[FS38_KID_LEN];
    char setup[FS38_AUTH_SETUP_LEN + 1], hex[2 * FS38_UEID_LEN + 1], kid_hex[2 * FS38_KID_LEN + 1];
    /* Every output is checked before the device changes: provisioning happens once, and its
     * setup credential and k0 are shown once, so a CSR or k0 that cannot be written must stop
     * it here, not after. The CSR's temporary file is held until it is written. */
    if (log_key_out && strcmp(log_key_out, csr) == 0) {
        host_err("provision: --csr and --log-key-out name the same file %s", csr);
        return HOST_EXIT_USAGE;
    }
    host_out o;
    host_out_init(&o);
    const int i_csr = host_out_add(&o, csr, 0644, false);
    if (i_csr < 0)
        return HOST_EXIT_USAGE;
    if (log_key_out && host_out_check(log_key_out, true)) {
        host_out_abort(&o);
        return HOST_EXIT_USAGE;
    }
    if (open_identity(dir)) {
        host_out_abort(&o);
        return HOST_EXIT_USAGE;
    }
    int rc = HOST_EXIT_USAGE;
    fs38_err e = fs38_identity_provision(&g_id);
    if (e != FS38_OK) {
        fprintf(stderr, "provision: refused: %s\n", g_id.diag.msg[0] ? g_id.diag.msg : fs38_strerror(e));
        rc = exit_for(e);
        goto out;
    }
    if (fs38_identity_ueid(&g_id, ueid) || fs38_identity_public_key(&g_id, point) ||
        fs38_key_id(point, sizeof point, kid)) {
        host_err("provision: reading the new identity failed: %s", g_id.diag.msg);
        goto out;
    }
    host_hex(ueid, sizeof ueid, hex);
    host_hex(kid, sizeof kid, kid_hex);
    if (auth_open(cost, ueid))
        goto out;
    e = fs38_auth_provision(&g_auth, ADMIN, setup);
    if (e != FS38_OK) {
        host_err("provision: creating the setup credential failed: %s", g_auth.diag.msg);
        goto out;
    }
    printf("provision: device key generated inside the device (P-256, not exportable), key id %s\n", kid_hex);
    printf("ueid: %s\n", hex);
    printf("setup-credential: %s\n", setup);
    printf("provision: account '%s' gets this setup credential (PBKDF2-HMAC-SHA-256, %u iterations); it is shown "
           "only this once: print it on the device label\n",
           ADMIN, g_auth.iterations);
    fs38_wipe(setup, sizeof setup);
    if (log_key_out) { /* the security log (cmd_log.c), created now; its k0 leaves once */
        if (device_log_provision(&g_dev, log_key_out)) {
            host_err("provision: the device is provisioned, but its security log was not created");
            goto out;
        }
        printf("provision: security log created; its initial key k0 is in %s (mode 0600)\n", log_key_out);
    }
    rc = write_csr(&o, i_csr);
    if (rc == HOST_EXIT_OK && host_out_commit(&o))
        rc = HOST_EXIT_USAGE;
    if (rc == HOST_EXIT_OK)
        printf("csr: %s (subject serialNumber %s, signed by the device key)\n", csr, hex);
    else
        host_err("provision: the device is provisioned; write its CSR with 'csr --out CSR.pem'");
out:
    host_out_abort(&o);
    device_close(&g_dev);
    return rc;
}

int cmd_provision(const char *dir, int argc, char **argv)
{
    const char *csr = NULL, *cost_s = NULL, *log_key = NULL;
    const host_opt opts[] = {
        { .name = "--csr", .value = &csr },
        { .name = "--cost", .value = &cost_s },
        { .name = "--log-key-out", .value = &log_key },
        { .name = NULL },
    };
    if (device_no_positional("provision", argc, argv, opts))
        return HOST_EXIT_USAGE;
    if (!csr) {
        host_err("provision: --csr CSR.pem is required");
        return HOST_EXIT_USAGE;
    }
    uint64_t cost = FS38_AUTH_ITERATIONS_DEFAULT;
    if (cost_s && host_parse_u64("provision --cost (PBKDF2 iterations)", cost_s, COST_MIN,
                                 FS38_AUTH_ITERATIONS_MAX, 0, &cost))
        return HOST_EXIT_USAGE;
    return provision_run(dir, csr, (uint32_t)cost, log_key);
}

int cmd_csr(const char *dir, int argc, char **argv)
{
    const char *out = NULL;
    const host_opt opts[] = { { .name = "--out", .value = &out }, { .name = NULL } };
    if (device_no_positional("csr", argc, argv, opts))
        return HOST_EXIT_USAGE;
    if (!out) {
        host_err("csr: --out CSR.pem is required");
        return HOST_EXIT_USAGE;
    }
    host_out o;
    host_out_init(&o);
    const int i = host_out_add(&o, out, 0644, false);
    if (i < 0)
        return HOST_EXIT_USAGE;
    if (open_identity(dir)) {
        host_out_abort(&o);
        return HOST_EXIT_USAGE;
    }
    int rc = write_csr(&o, i);
    if (rc == HOST_EXIT_OK && host_out_commit(&o))
        rc = HOST_EXIT_USAGE;
    if (rc == HOST_EXIT_OK)
        printf("csr: %s\n", out);
    host_out_abort(&o);
    device_close(&g_dev);
    return rc;
}

static int install_cert_run(const char *dir, const char *path, const char *ca_path)
{
    uint8_t *buf = NULL, ueid[FS38_UEID_LEN], point[FS38_P256_POINT_LEN];
    size_t len = 0;
    char serial[80], hex[2 * FS38_UEID_LEN + 1];
    mbedtls_x509_crt crt, ca;
    int rc = HOST_EXIT_USAGE;
    mbedtls_x509_crt_init(&crt);
    mbedtls_x509_crt_init(&ca);
    if (host_read_file(path, 64 * 1024, &buf, &len) || host_psa_init())
        goto out;
    int ret = mbedtls_x509_crt_parse(&crt, buf, strstr((char *)buf, "-----BEGIN") ? len + 1 : len);
    if (ret) {
        fprintf(stderr, "install-cert: refused: %s is not an X.509 certificate (Mbed TLS error -0x%04x)\n", path,
                (unsigned)-ret);
        rc = HOST_EXIT_REJECT;
        goto out;
    }
    if (ca_path) {
        uint32_t flags = 0;
        ret = mbedtls_x509_crt_parse_file(&ca, ca_path);
        if (ret) {
            mbed_err("reading the CA certificate", ret);
            goto out;
        }
        ret = mbedtls_x509_crt_verify(&crt, &ca, NULL, NULL, &flags, NULL, NULL);
        if (ret) {
            char why[256];
            mbedtls_x509_crt_verify_info(why, sizeof why, "", flags);
            why[strcspn(why, "\n")] = 0;
            fprintf(stderr, "install-cert: refused: the certificate does not chain to %s: %s\n", ca_path, why);
            rc = HOST_EXIT_REJECT;
            goto out;
        }
    }
    if (host_pk_point(&crt.pk, point)) {
        fprintf(stderr, "install-cert: refused: the certificate's key is not a P-256 key\n");
        rc = HOST_EXIT_REJECT;
        goto out;
    }
    if (open_identity(dir))
        goto out;
    if (fs38_identity_ueid(&g_id, ueid) != FS38_OK) {
        fprintf(stderr, "install-cert: refused: %s\n", g_id.diag.msg);
        rc = HOST_EXIT_REJECT;
        goto close;
    }
    host_hex(ueid, sizeof ueid, hex);
    uint8_t own[FS38_P256_POINT_LEN], kid[FS38_KID_LEN], own_kid[FS38_KID_LEN];
    char kid_hex[2 * FS38_KID_LEN + 1], own_hex[2 * FS38_KID_LEN + 1];
    fs38_err e = fs38_identity_public_key(&g_id, own);
    if (e == FS38_OK && memcmp(own, point, sizeof own) != 0) {
        if (fs38_key_id(point, sizeof point, kid) != FS38_OK || fs38_key_id(own, sizeof own, own_kid) != FS38_OK) {
            host_err("install-cert: cannot compute key identifiers");
            rc = HOST_EXIT_USAGE;
            goto close;
        }
        host_hex(kid, sizeof kid, kid_hex);
        host_hex(own_kid, sizeof own_kid, own_hex);
        e = fs38_diag_set(&g_id.diag, FS38_ERR_CERT_MISMATCH,
                          "its public key (key id %s) is not this device's own key (key id %s)", kid_hex, own_hex);
    } else if (e == FS38_OK &&
               (host_x509_serial_number(&crt.subject, serial, sizeof serial) || strcmp(serial, hex) != 0)) {
        e = fs38_diag_set(&g_id.diag, FS38_ERR_CERT_MISMATCH, "its subject does not name this device's UEID %s", hex);
    } else if (e == FS38_OK) {
        e = fs38_identity_install_cert(&g_id, crt.raw.p, crt.raw.len, point); /* checks the key again */
    }
    if (e != FS38_OK) {
        fprintf(stderr, "install-cert: refused: %s\n", g_id.diag.msg[0] ? g_id.diag.msg : fs38_strerror(e));
        rc = exit_for(e);
        goto close;
    }
    char dn[256];
    mbedtls_x509_dn_gets(dn, sizeof dn, &crt.subject);
    printf("install-cert: certificate for %s installed; lifecycle operational\n", dn);
    rc = HOST_EXIT_OK;
close:
    device_close(&g_dev);
out:
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_free(&ca);
    free(buf);
    return rc;
}

int cmd_install_cert(const char *dir, int argc, char **argv)
{
    const char *ca = NULL, *pos[2];
    size_t npos = 0;
    const host_opt opts[] = { { .name = "--ca", .value = &ca }, { .name = NULL } };
    if (host_parse_args(argc, argv, opts, pos, 2, &npos) != 0 || npos != 1) {
        host_err("install-cert: expected CERT.pem [--ca CA.crt]");
        return HOST_EXIT_USAGE;
    }
    return install_cert_run(dir, pos[0], ca);
}

int cmd_identity(const char *dir, int argc, char **argv)
{
    const host_opt opts[] = { { .name = NULL } };
    fs38_lifecycle lc = FS38_LIFECYCLE_BLANK;
    uint8_t ueid[FS38_UEID_LEN], point[FS38_P256_POINT_LEN], kid[FS38_KID_LEN], *cert;
    char hex[2 * FS38_UEID_LEN + 1];
    size_t cl = 0;
    if (device_no_positional("identity", argc, argv, opts) || open_identity(dir))
        return HOST_EXIT_USAGE;
    int rc = HOST_EXIT_USAGE;
    if (fs38_identity_lifecycle(&g_id, &lc) != FS38_OK) {
        host_err("identity: %s", g_id.diag.msg);
        goto out;
    }
    printf("lifecycle: %s\n", fs38_lifecycle_name(lc));
    if (fs38_identity_ueid(&g_id, ueid) == FS38_OK) {
        host_hex(ueid, sizeof ueid, hex);
        printf("ueid: %s\n", hex);
    }
    if ((lc == FS38_LIFECYCLE_PROVISIONED || lc == FS38_LIFECYCLE_OPERATIONAL) &&
        fs38_identity_public_key(&g_id, point) == FS38_OK && fs38_key_id(point, sizeof point, kid) == FS38_OK) {
        host_hex(kid, sizeof kid, hex);
        printf("device key: P-256, key id %s (inside the device, not exportable)\n", hex);
    }
    cert = malloc(FS38_CERT_MAX);
    if (cert && fs38_identity_cert(&g_id, cert, FS38_CERT_MAX, &cl) == FS38_OK) {
        mbedtls_x509_crt crt;
        char dn[256], sn[128];
        mbedtls_x509_crt_init(&crt);
        if (mbedtls_x509_crt_parse_der(&crt, cert, cl) == 0) {
            mbedtls_x509_dn_gets(dn, sizeof dn, &crt.subject);
            printf("certificate: %s\n", dn);
            mbedtls_x509_serial_gets(sn, sizeof sn, &crt.serial);
            printf("certificate serial: %s\n", sn);
            mbedtls_x509_dn_gets(dn, sizeof dn, &crt.issuer);
            printf("issuer: %s\n", dn);
        }
        mbedtls_x509_crt_free(&crt);
    } else {
        printf("certificate: none\n");
    }
    free(cert);
    device_vendor_info vi; /* control 13: also in attestation tokens */
    if (device_vendor(dir, &vi) == 0) {
        printf("support period: security updates until %s\n", vi.support_until);
        printf("vulnerability disclosure: %s\n", vi.disclosure);
    }
    rc = HOST_EXIT_OK;
out:
    device_close(&g_dev);
    return rc;
}

/* ---- attest ----------------------------------------------------------------------------------- */

/* The slot running now, without changing the boot state (as cmd_update.c decides). */
static int running_slot(device *d)
{
    fs38_boot_ctx *b = &d->boot;
    fs38_bootstate st;
    if (fs38_bootstate_read(&d->port, d->cfg.state.offset, d->cfg.state.size, &st) == FS38_OK) {
        if (st.pending == FS38_PENDING_TRYING && st.pending_slot < FS38_SLOT_COUNT &&
            b->slot[st.pending_slot].verdict == FS38_OK)
            return st.pending_slot;
        if (st.confirmed_slot < FS38_SLOT_COUNT && b->slot[st.confirmed_slot].verdict == FS38_OK)
            return st.confirmed_slot;
    }
    int best = -1;
    for (unsigned i = 0; i < FS38_SLOT_COUNT; i++)
        if (b->slot[i].verdict == FS38_OK && (best < 0 || b->slot[i].sequence > b->slot[best].sequence))
            best = (int)i;
    return best;
}

static int parse_nonce(const char *cmd, const char *hex, uint8_t *out, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 < FS38_EAT_NONCE_MIN || n / 2 > FS38_EAT_NONCE_MAX || host_unhex(hex, out, n / 2)) {
        host_err("%s: --nonce must be 8 to 64 bytes as hex (16 to 128 hex digits)", cmd);
        return -1;
    }
    *len = n / 2;
    return 0;
}

fs38_err device_attest_token(device *d, const uint8_t *nonce, size_t nonce_len, uint8_t *token, size_t cap,
                             size_t *len, int *booted, fs38_diag *diag)
{
    fs38_measurement meas[FS38_SLOT_COUNT];
    if (device_identity_init(d, &g_id))
        return fs38_diag_set(diag, FS38_ERR_STATE, "the device identity cannot be opened");
    fs38_security_state sec; /* control 5: debug state (the port's OTP bit), services */
    device_vendor_info vi;   /* control 13: support period, disclosure contact */
    if (fs38_port_security_state(&d->port, &sec) != FS38_OK || device_vendor(d->dir, &vi))
        return fs38_diag_set(diag, FS38_ERR_IO, "cannot read the device's security state or vendor facts");
    for (unsigned i = 0; i < FS38_SLOT_COUNT; i++)
        if (fs38_boot_verify_slot(&d->boot, i) != FS38_OK) {
            /* a slot that does not verify is measured as such (no digest) in the token */
        }
    *booted = running_slot(d);
    fs38_attest_config c;
    memset(&c, 0, sizeof c);
    c.id = &g_id;
    c.port = &d->port;
    c.dbgstat = fs38_dbgstat_of(&sec); /* enabled until `lock-debug` */
    c.security = &sec;
    c.support_until = vi.support_until;
    c.disclosure = vi.disclosure;
    c.oemid = d->rom.vendor_id;
    c.hwmodel = d->rom.class_id;
    c.hwmodel_len = sizeof d->rom.class_id;
    c.n_meas = fs38_attest_boot_measurements(&d->boot, *booted, meas);
    c.meas = meas;
    fs38_err e = fs38_attest(&g_att, &c, nonce, nonce_len, token, cap, len);
    if (e != FS38_OK)
        fs38_diag_set(diag, e, "%s", g_att.diag.msg[0] ? g_att.diag.msg : fs38_strerror(e));
    return e;
}

static int attest_run(const char *dir, const uint8_t *nonce, size_t nonce_len, const char *out)
{
    uint8_t token[FS38_EAT_MAX];
    size_t len = 0;
    int booted = -1;
    fs38_diag diag;
    memset(&diag, 0, sizeof diag);
    host_out o;
    host_out_init(&o);
    const int i_out = host_out_add(&o, out, 0644, false);
    if (i_out < 0)
        return HOST_EXIT_USAGE;
    if (open_identity(dir)) {
        host_out_abort(&o);
        return HOST_EXIT_USAGE;
    }
    int rc;
    fs38_err e = device_attest_token(&g_dev, nonce, nonce_len, token, sizeof token, &len, &booted, &diag);
    if (e != FS38_OK) {
        fprintf(stderr, "attest: refused: %s\n", diag.msg[0] ? diag.msg : fs38_strerror(e));
        rc = exit_for(e);
    } else if (host_out_write(&o, i_out, token, len) || host_out_commit(&o)) {
        rc = HOST_EXIT_USAGE;
    } else {
        printf("attest: token (%zu bytes, COSE_Sign1 ES256 by the device key) written to %s; running slot %s\n", len,
               out, booted >= 0 ? (booted == 0 ? "A" : "B") : "none");
        rc = HOST_EXIT_OK;
    }
    host_out_abort(&o);
    device_close(&g_dev);
    return rc;
}

int cmd_attest(const char *dir, int argc, char **argv)
{
    const char *nonce_s = NULL, *out = NULL;
    uint8_t nonce[FS38_EAT_NONCE_MAX];
    size_t nl = 0;
    const host_opt opts[] = { { .name = "--nonce", .value = &nonce_s }, { .name = "--out", .value = &out }, { .name = NULL } };
    if (device_no_positional("attest", argc, argv, opts))
        return HOST_EXIT_USAGE;
    if (!nonce_s || !out) {
        host_err("attest: --nonce HEX and --out TOKEN are required");
        return HOST_EXIT_USAGE;
    }
    if (parse_nonce("attest", nonce_s, nonce, &nl))
        return HOST_EXIT_USAGE;
    return attest_run(dir, nonce, nl, out);
}

/* ---- login / passwd ---------------------------------------------------------------------------- */

#define LINE_CAP (FS38_AUTH_PASSWORD_MAX + 2u)

/*
 * One line of stdin into buf (without the newline), byte by byte with read(2) so that no stdio
 * buffer keeps a copy; no echo on a terminal. A line longer than FS38_AUTH_PASSWORD_MAX gives
 * len FS38_AUTH_PASSWORD_MAX + 1 (the rest is drained). 0, or -1 at end of input / error.
 */
static int read_secret(const char *prompt, char buf[LINE_CAP], size_t *len)
{
    struct termios old, quiet;
    const bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    size_t n = 0;
    bool got = false, nl = false;
    for (;;) {
        char c;
        ssize_t r = read(STDIN_FILENO, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got = true;
        if (c == '\n') {
            nl = true;
            break;
        }
        if (n < FS38_AUTH_PASSWORD_MAX + 1u)
            buf[n++] = c;
        c = 0;
    }
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (n && buf[n - 1] == '\r' && n <= FS38_AUTH_PASSWORD_MAX)
        n--;
    *len = n;
    return got || nl ? 0 : -1;
}

static int login_run(const char *dir, const char *user)
{
    char pw[LINE_CAP];
    size_t len = 0;
    if (read_secret("Password: ", pw, &len)) {
        host_err("login: no password on standard input");
        return HOST_EXIT_USAGE;
    }
    int rc = HOST_EXIT_USAGE;
    uint8_t ueid[FS38_UEID_LEN];
    if (open_accounts(dir, ueid))
        goto wipe;
    fs38_err e = fs38_auth_login(&g_auth, user, pw, len);
    fs38_wipe(pw, sizeof pw);
    if (e == FS38_OK) {
        printf("login: %s logged in\n", user);
        rc = HOST_EXIT_OK;
    } else if (e == FS38_ERR_AUTH_CHANGE) {
        fprintf(stderr, "login: %s (fs38-device passwd %s)\n", g_auth.diag.msg, user);
        rc = EXIT_CHANGE;
    } else if (e == FS38_ERR_AUTH_REFUSED || e == FS38_ERR_AUTH_LOCKED) {
        fprintf(stderr, "%s\n", g_auth.diag.msg); /* "login refused...": never says whether the user exists */
        rc = HOST_EXIT_REJECT;
    } else {
        host_err("login: %s", g_auth.diag.msg[0] ? g_auth.diag.msg : fs38_strerror(e));
    }
    device_close(&g_dev);
wipe:
    fs38_wipe(pw, sizeof pw);
    return rc;
}

static int passwd_run(const char *dir, const char *user)
{
    char cur[LINE_CAP], nw[LINE_CAP];
    size_t cl = 0, nl = 0;
    int rc = HOST_EXIT_USAGE;
    if (read_secret("Current password: ", cur, &cl) || read_secret("New password: ", nw, &nl)) {
        host_err("passwd: expected the current and the new password on standard input, one line each");
        goto wipe;
    }
    uint8_t ueid[FS38_UEID_LEN];
    if (open_accounts(dir, ueid))
        goto wipe;
    fs38_err e = fs38_auth_change(&g_auth, user, cur, cl, nw, nl);
    fs38_wipe(cur, sizeof cur);
    fs38_wipe(nw, sizeof nw);
    if (e == FS38_OK) {
        printf("passwd: password of %s changed\n", user);
        rc = HOST_EXIT_OK;
    } else if (e == FS38_ERR_PASSWORD_POLICY) {
        fprintf(stderr, "passwd: new password refused: %s\n", g_auth.diag.msg);
        rc = HOST_EXIT_REJECT;
    } else if (e == FS38_ERR_AUTH_REFUSED || e == FS38_ERR_AUTH_LOCKED) {
        fprintf(stderr, "%s\n", g_auth.diag.msg); /* "password change refused..." */
        rc = HOST_EXIT_REJECT;
    } else {
        host_err("passwd: %s", g_auth.diag.msg[0] ? g_auth.diag.msg : fs38_strerror(e));
    }
    device_close(&g_dev);
wipe:
    fs38_wipe(cur, sizeof cur);
    fs38_wipe(nw, sizeof nw);
    return rc;
}

static int one_user(const char *cmd, int argc, char **argv, const char **user)
{
    const char *pos[2];
    size_t npos = 0;
    const host_opt opts[] = { { .name = NULL } };
    if (host_parse_args(argc, argv, opts, pos, 2, &npos) != 0 || npos != 1) {
        host_err("%s: expected USER (the password%s on standard input)", cmd,
                 strcmp(cmd, "passwd") == 0 ? "s" : "");
        return -1;
    }
    *user = pos[0];
    return 0;
}

int cmd_login(const char *dir, int argc, char **argv)
{
    const char *user;
    return one_user("login", argc, argv, &user) ? HOST_EXIT_USAGE : login_run(dir, user);
}

int cmd_passwd(const char *dir, int argc, char **argv)
{
    const char *user;
    return one_user("passwd", argc, argv, &user) ? HOST_EXIT_USAGE : passwd_run(dir, user);
}

/* ---- decommission ----------------------------------------------------------------------------- */

static int decommission_run(const char *dir, const char *receipt_path, const uint8_t *nonce, size_t nonce_len,
                            uint64_t cut)
{
    psa_key_id_t keys[FS38_DECOM_MAX_KEYS];
    fs38_decom_region log_region;
    fs38_decommission_config c;
    uint8_t receipt[FS38_RECEIPT_MAX];
    size_t len = 0;
    /* The receipt is the only record of an irreversible erase: its file is checked (and its
     * temporary created) before anything is erased. */
    host_out o;
    host_out_init(&o);
    const int i_rec = host_out_add(&o, receipt_path, 0644, false);
    if (i_rec < 0)
        return HOST_EXIT_USAGE;
    /* no automatic resume here: fs38_decommission completes an interrupted one itself */
    if (device_open(&g_dev, dir)) {
        host_out_abort(&o);
        return HOST_EXIT_USAGE;
    }
    if (device_keys_open(&g_dev) || device_identity_init(&g_dev, &g_id)) {
        host_out_abort(&o);
        device_close(&g_dev);
        return HOST_EXIT_USAGE;
    }
    decom_config(&g_dev, &c, keys, &log_region);
    c.nonce = nonce;
    c.nonce_len = nonce_len;
    /* a TPM's objects (tpm_dev.c): the receipt lists them, they are removed once it is out */
    uint32_t tpm_all[DEV_TPM_OBJECTS], tpm_rel[DEV_TPM_OBJECTS];
    size_t n_tpm = 0, n_rel = 0;
    if (device_tpm_objects(&g_dev, tpm_all, &n_tpm, tpm_rel, &n_rel)) {
        host_out_abort(&o);
        device_close(&g_dev);
        return HOST_EXIT_USAGE;
    }
    c.released = tpm_rel;
    c.n_released = n_rel;
    /* The security log is erased with everything else: close it first, so that no event (nor
     * its key evolution) is written into the erased log region or the new, empty store. The
     * receipt is the record of the decommissioning. */
    device_log_close(&g_dev);
    if (cut)
        fs38_posix_cut_at(&g_dev.posix, cut);
    fs38_err e = fs38_decommission(&g_dec, &c, receipt, sizeof receipt, &len);
    int rc;
    if (e == FS38_ERR_POWER) {
        fprintf(stderr, "decommission: power lost at flash operation %" PRIu64 " (%s); the next start completes "
                        "it\n",
                cut, g_dec.diag.msg);
        rc = EXIT_POWER;
    } else if (e != FS38_OK) {
        fprintf(stderr, "decommission: refused: %s\n", g_dec.diag.msg[0] ? g_dec.diag.msg : fs38_strerror(e));
        rc = exit_for(e);
    } else if (len == 0) {
        printf("decommission: the device is decommissioned; no receipt was kept (the power was cut after the "
               "store was erased)\n");
        rc = HOST_EXIT_OK;
    } else if (host_out_write(&o, i_rec, receipt, len) || host_out_commit(&o)) {
        rc = HOST_EXIT_USAGE;
    } else {
        if (g_dec.outcome == FS38_DECOM_ALREADY) {
            printf("decommission: the device was already decommissioned; its receipt is in %s\n", receipt_path);
        } else {
            printf("decommission: %s%zu key(s) destroyed (psa_destroy_key)\n",
                   g_dec.outcome == FS38_DECOM_RESUMED ? "interrupted decommissioning completed; " : "",
                   g_dec.keys_destroyed);
            printf("decommission: erased and read back blank: store 0x%06x+%u, log 0x%06x+%u (%" PRIu64 " bytes)\n",
                   DEV_STORE_OFFSET, DEV_STORE_SIZE, DEV_LOG_OFFSET, DEV_LOG_SIZE, g_dec.bytes_erased);
            printf("decommission: lifecycle decommissioned; receipt (%zu bytes, signed by the device key before "
                   "it was destroyed) in %s\n",
                   len, receipt_path);
        }
        rc = HOST_EXIT_OK;
    }
    const bool tpm = g_dev.tpm_on && rc == HOST_EXIT_OK;
    if (tpm && device_tpm_release(&g_dev, tpm_all, n_tpm))
        rc = HOST_EXIT_USAGE;
    host_out_abort(&o);
    device_close(&g_dev);
    if (tpm && rc == HOST_EXIT_OK && device_tpm_unbind(dir))
        rc = HOST_EXIT_USAGE;
    return rc;
}

int cmd_decommission(const char *dir, int argc, char **argv)
{
    const char *receipt = NULL, *nonce_s = NULL, *cut_s = NULL;
    uint8_t nonce[FS38_EAT_NONCE_MAX];
    size_t nl = 0;
    const host_opt opts[] = {
        { .name = "--receipt", .value = &receipt },
        { .name = "--nonce", .value = &nonce_s },
        { .name = "--power-cut", .value = &cut_s },
        { .name = NULL },
    };
    if (device_no_positional("decommission", argc, argv, opts))
        return HOST_EXIT_USAGE;
    if (!receipt) {
        host_err("decommission: --receipt RECEIPT is required");
        return HOST_EXIT_USAGE;
    }
    if (nonce_s && parse_nonce("decommission", nonce_s, nonce, &nl))
        return HOST_EXIT_USAGE;
    uint64_t cut = 0;
    if (cut_s && host_parse_u64("decommission --power-cut (flash operation number)", cut_s, 1, UINT64_MAX, 0, &cut))
        return HOST_EXIT_USAGE;
    return decommission_run(dir, receipt, nonce_s ? nonce : NULL, nl, cut);
}
