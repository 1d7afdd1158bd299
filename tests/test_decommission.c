/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_decommission.c — secure decommissioning (control 12, fs38/decommission.h).
 *
 * A device is populated with every kind of secret: the device key, a key-agreement key and a
 * raw KEK (persistent PSA keys in the sealed store), the admin account (setup credential, then
 * a changed password), an application secret in the store, and security-log records in the log
 * region. Before decommissioning the test records every secret's bytes: the keys in their
 * stored form (what PSA hands to its storage, read back through the store), the raw KEK, the
 * setup credential, the password, the password record (salt + hash), the store values, and —
 * since what is on flash is sealed — every 16-byte window of every sealed record's ciphertext
 * and of the log region. Afterwards it scans the whole flash file: none may be found.
 *
 * The scan can fail: a control run that only deletes logically (keys destroyed, records
 * deleted: what a naive "factory reset" does) still finds old ciphertext on flash.
 *
 * Then the power is cut at every program/erase operation of a decommissioning (each time on a
 * fresh copy of the populated flash): after the cut no key is usable unless the
 * decommissioning had not begun, the start-up resume completes it, and the scan finds nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "support.h"
#include "fs38/attest.h"
#include "fs38/auth.h"
#include "fs38/decommission.h"
#include "fs38/identity.h"
#include "fs38/store.h"
#include "fs38/util.h"

#define SS 4096u
#define FLASH_SIZE (24u * SS)
#define STORE_OFF 0u
#define STORE_SIZE (8u * SS)
#define STORE_BANK (2u * SS)
#define LOG_OFF (8u * SS)
#define LOG_SIZE (4u * SS)
#define KEY_ID ((psa_key_id_t)0x00380003u)
#define KEY_ECDH ((psa_key_id_t)0x00380001u)
#define KEY_KEK ((psa_key_id_t)0x00380002u)
#define PASSWORD "a long and fine passphrase, 2026"
#define W 16u /* window length */

typedef struct {
    ts_device d; /* flash, HUK file, store bound to PSA ITS (tests/support.h) */
    fs38_identity id;
    fs38_decom_region log;
    psa_key_id_t keys[2];
    fs38_decommission_config dcfg;
    fs38_decommission_ctx dctx;
    uint8_t point[65];
} rig;

/* After the store is open: identity and the decommissioning configuration. */
static void rig_setup(rig *r)
{
    assert_int_equal(fs38_identity_init(&r->id, &r->d.s, KEY_ID), FS38_OK);
    r->log = (fs38_decom_region){ "log", LOG_OFF, LOG_SIZE };
    r->keys[0] = KEY_ECDH;
    r->keys[1] = KEY_KEK;
    memset(&r->dcfg, 0, sizeof r->dcfg);
    r->dcfg.id = &r->id;
    r->dcfg.port = &r->d.f.port;
    r->dcfg.keys = r->keys;
    r->dcfg.n_keys = 2;
    r->dcfg.regions = &r->log;
    r->dcfg.n_regions = 1;
}

static void rig_new(rig *r)
{
    memset(r, 0, sizeof *r);
    ts_device_new(&r->d, FLASH_SIZE, (fs38_store_config){ NULL, STORE_OFF, STORE_SIZE, STORE_BANK });
    rig_setup(r);
}

static void rig_power_cycle(rig *r)
{
    ts_device_power_off_on(&r->d);
    ts_device_open(&r->d);
    rig_setup(r);
}

static void rig_free(rig *r, bool keep_huk)
{
    ts_device_free(&r->d, keep_huk);
}

/* ---- a set of 16-byte windows ------------------------------------------------------------- */

typedef struct {
    uint8_t (*w)[W];
    uint8_t *used;
    size_t cap, n;
} wset;

static void wset_init(wset *s)
{
    s->cap = 1u << 17;
    s->w = calloc(s->cap, W);
    s->used = calloc(s->cap, 1);
    s->n = 0;
    assert_non_null(s->w);
    assert_non_null(s->used);
}

static void wset_free(wset *s)
{
    free(s->w);
    free(s->used);
}

static size_t wslot(const wset *s, const uint8_t *p)
{
    uint64_t h = 1469598103934665603ull;
    for (unsigned i = 0; i < W; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return (size_t)(h & (s->cap - 1));
}

static bool wset_has(const wset *s, const uint8_t *p)
{
    for (size_t i = wslot(s, p);; i = (i + 1) & (s->cap - 1)) {
        if (!s->used[i])
            return false;
        if (memcmp(s->w[i], p, W) == 0)
            return true;
    }
}

static void wset_add(wset *s, const uint8_t *p)
{
    static const uint8_t ff[W] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    if (memcmp(p, ff, W) == 0 || wset_has(s, p))
        return;
    assert_true(s->n < s->cap / 2);
    size_t i = wslot(s, p);
    while (s->used[i])
        i = (i + 1) & (s->cap - 1);
    memcpy(s->w[i], p, W);
    s->used[i] = 1;
    s->n++;
}

/* every window of a secret (>= W bytes) */
static void wset_add_all(wset *s, const uint8_t *p, size_t n)
{
    assert_true(n >= W);
    for (size_t i = 0; i + W <= n; i++)
        wset_add(s, p + i);
}

/* Hits: offsets of the flash file where a window of the set starts. */
static size_t scan_flash(const rig *r, const wset *s, size_t *first)
{
    size_t fl, hits = 0;
    uint8_t *img = ts_read_file(r->d.f.path, &fl);
    assert_non_null(img);
    for (size_t i = 0; i + W <= fl; i++)
        if (wset_has(s, img + i)) {
            if (!hits && first)
                *first = i;
            hits++;
        }
    free(img);
    return hits;
}

/*
 * The sealed records' ciphertext + GCM tag, from the store's documented flash format
 * (src/storage/store.c): per bank a 64-byte header, then records on 8-byte boundaries: 0xA5, kind,
 * u16 ct_len, ..., 40-byte header (whose name tag is re-derived identically after a wipe, so it
 * is not a secret), ct_len bytes of ciphertext, 16-byte tag.
 */
static void add_store_ciphertext(const rig *r, wset *s, size_t *records)
{
    size_t fl;
    uint8_t *img = ts_read_file(r->d.f.path, &fl);
    assert_non_null(img);
    for (uint32_t b = STORE_OFF; b < STORE_OFF + STORE_SIZE; b += STORE_BANK) {
        uint32_t off = 64;
        while (off + 40 <= STORE_BANK) {
            const uint8_t *h = img + b + off;
            if (h[0] != 0xA5 || (h[1] != 1 && h[1] != 2))
                break;
            const uint32_t ct = (uint32_t)h[2] | (uint32_t)h[3] << 8;
            const uint32_t size = (40u + ct + 16u + 7u) & ~7u;
            if (off + size > STORE_BANK)
                break;
            wset_add_all(s, h + 40, ct + 16u);
            (*records)++;
            off += size;
        }
    }
    free(img);
}

/* ---- populating a device -------------------------------------------------------------------- */

typedef struct {
    char setup[FS38_AUTH_SETUP_LEN + 1];
    uint8_t receipt_point[65];
    size_t records;
    size_t plain_secrets;
} populated;

static size_t fake_cert(const uint8_t point[65], uint8_t *out)
{
    static const uint8_t head[] = { 0x30, 0x81, 0x80, 0x03, 0x42, 0x00 };
    memcpy(out, head, sizeof head);
    memcpy(out + sizeof head, point, 65);
    return sizeof head + 65;
}

static void add_stored_form(rig *r, wset *s, psa_key_id_t k, size_t *count)
{
    char name[32];
    uint8_t v[FS38_STORE_VALUE_MAX];
    size_t n = 0;
    snprintf(name, sizeof name, "its/%016llx", (unsigned long long)k);
    assert_int_equal(fs38_store_get(&r->d.s, name, v, sizeof v, &n), FS38_OK);
    wset_add_all(s, v, n);
    (*count)++;
}

static void populate(rig *r, populated *p, wset *s)
{
    uint8_t der[256], buf[256];
    size_t n = 0;
    memset(p, 0, sizeof *p);
    /* identity + certificate */
    assert_int_equal(fs38_identity_provision(&r->id), FS38_OK);
    assert_int_equal(fs38_identity_public_key(&r->id, r->point), FS38_OK);
    memcpy(p->receipt_point, r->point, 65);
    assert_int_equal(fs38_identity_install_cert(&r->id, der, fake_cert(r->point, der), r->point), FS38_OK);
    /* the admin account */
    fs38_auth a;
    fs38_auth_config ac;
    memset(&ac, 0, sizeof ac);
    ac.store = &r->d.s;
    ac.port = &r->d.f.port;
    ac.iterations = FS38_AUTH_ITERATIONS_MIN;
    assert_int_equal(fs38_auth_init(&a, &ac), FS38_OK);
    assert_int_equal(fs38_auth_provision(&a, "admin", p->setup), FS38_OK);
    wset_add_all(s, (const uint8_t *)p->setup, strlen(p->setup));
    assert_int_equal(fs38_store_get(&r->d.s, "au/u/admin", buf, sizeof buf, &n), FS38_OK);
    wset_add_all(s, buf + 6, n - 6); /* the setup credential's salt + hash */
    assert_int_equal(fs38_auth_change(&a, "admin", p->setup, strlen(p->setup), PASSWORD, strlen(PASSWORD)), FS38_OK);
    wset_add_all(s, (const uint8_t *)PASSWORD, strlen(PASSWORD));
    assert_int_equal(fs38_store_get(&r->d.s, "au/u/admin", buf, sizeof buf, &n), FS38_OK);
    wset_add_all(s, buf + 6, n - 6); /* salt + hash */
    p->plain_secrets += 4;
    /* other device keys: key agreement (generated inside), a raw KEK (exportable, like the
     * reference device's) */
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t got;
    psa_set_key_id(&at, KEY_ECDH);
    psa_set_key_lifetime(&at, PSA_KEY_LIFETIME_PERSISTENT);
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&at, PSA_ALG_ECDH);
    assert_int_equal(psa_generate_key(&at, &got), PSA_SUCCESS);
    psa_reset_key_attributes(&at);
    uint8_t kek[16];
    assert_int_equal(psa_generate_random(kek, sizeof kek), PSA_SUCCESS);
    psa_set_key_id(&at, KEY_KEK);
    psa_set_key_lifetime(&at, PSA_KEY_LIFETIME_PERSISTENT);
    psa_set_key_type(&at, PSA_KEY_TYPE_RAW_DATA);
    psa_set_key_bits(&at, 128);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_EXPORT);
    assert_int_equal(psa_import_key(&at, kek, sizeof kek, &got), PSA_SUCCESS);
    psa_reset_key_attributes(&at);
    wset_add_all(s, kek, sizeof kek);
    p->plain_secrets++;
    /* the keys in their stored form (each contains the key material) */
    add_stored_form(r, s, KEY_ID, &p->plain_secrets);
    add_stored_form(r, s, KEY_ECDH, &p->plain_secrets);
    add_stored_form(r, s, KEY_KEK, &p->plain_secrets);
    /* an application secret in the store */
    uint8_t psk[48];
    assert_int_equal(psa_generate_random(psk, sizeof psk), PSA_SUCCESS);
    assert_int_equal(fs38_store_put(&r->d.s, "app/wifi-psk", psk, sizeof psk), FS38_OK);
    wset_add_all(s, psk, sizeof psk);
    p->plain_secrets++;
    /* security-log records in the log region */
    uint8_t *logbuf = malloc(LOG_SIZE);
    assert_non_null(logbuf);
    assert_int_equal(psa_generate_random(logbuf, LOG_SIZE), PSA_SUCCESS);
    assert_int_equal(fs38_flash_program(&r->d.f.port, LOG_OFF, logbuf, LOG_SIZE - 100), FS38_OK);
    wset_add_all(s, logbuf, LOG_SIZE - 100);
    free(logbuf);
    p->plain_secrets++;
    /* and what is on flash: every sealed record */
    add_store_ciphertext(r, s, &p->records);
}

static void assert_keys_gone(void)
{
    const psa_key_id_t ids[] = { KEY_ID, KEY_ECDH, KEY_KEK };
    for (size_t i = 0; i < 3; i++) {
        psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
        if (psa_get_key_attributes(ids[i], &at) == PSA_SUCCESS)
            fail_msg("key 0x%x still exists", (unsigned)ids[i]);
    }
}

static void check_receipt(const uint8_t *receipt, size_t len, const uint8_t point[65], size_t n_keys)
{
    fs38_keyring kr;
    fs38_receipt_claims c;
    fs38_diag d;
    fs38_keyring_init(&kr);
    assert_int_equal(fs38_keyring_add_p256(&kr, point, 65), FS38_OK);
    fs38_err e = fs38_receipt_verify(receipt, len, &kr, NULL, 0, &c, NULL, &d);
    if (e != FS38_OK)
        fail_msg("receipt: %s", d.msg);
    fs38_keyring_free(&kr);
    assert_int_equal(c.ueid_len, FS38_UEID_LEN);
    assert_int_equal(c.lifecycle, FS38_LIFECYCLE_DECOMMISSIONED);
    assert_int_equal(c.n_keys, n_keys);
    assert_int_equal(c.keys[0], KEY_ID);
    assert_int_equal(c.n_regions, 2);
    assert_string_equal(c.regions[0].name, "store");
    assert_int_equal(c.regions[0].offset, STORE_OFF);
    assert_int_equal(c.regions[0].size, STORE_SIZE);
    assert_string_equal(c.regions[1].name, "log");
    assert_int_equal(c.regions[1].size, LOG_SIZE);
    assert_true(c.has_cert_digest);
    assert_true(c.has_iat);
}

/* ---- tests ------------------------------------------------------------------------------------ */

static void test_decommission_flash_scan(void **state)
{
    (void)state;
    rig r;
    populated p;
    wset s;
    uint8_t receipt[FS38_RECEIPT_MAX], ueid[FS38_UEID_LEN];
    size_t len = 0, first = 0;
    wset_init(&s);
    rig_new(&r);
    populate(&r, &p, &s);
    assert_int_equal(fs38_identity_ueid(&r.id, ueid), FS38_OK);
    /* sanity: before, the scanner finds the sealed records and the log */
    const size_t before = scan_flash(&r, &s, NULL);
    assert_true(before > 1000);

    assert_int_equal(fs38_decommission(&r.dctx, &r.dcfg, receipt, sizeof receipt, &len), FS38_OK);
    assert_int_equal(r.dctx.outcome, FS38_DECOM_DONE);
    assert_int_equal(r.dctx.keys_destroyed, 3);
    assert_int_equal(r.dctx.bytes_erased, STORE_SIZE + LOG_SIZE);
    check_receipt(receipt, len, p.receipt_point, 3);
    fs38_lifecycle lc;
    assert_int_equal(fs38_identity_lifecycle(&r.id, &lc), FS38_OK);
    assert_int_equal(lc, FS38_LIFECYCLE_DECOMMISSIONED);
    assert_keys_gone();

    /* after a power cycle too: nothing of it anywhere in the flash file */
    rig_power_cycle(&r);
    assert_keys_gone();
    const size_t after = scan_flash(&r, &s, &first);
    if (after)
        fail_msg("%zu secret window(s) still on flash, the first at 0x%zx", after, first);
    print_message("flash scan: %zu secret fragments (%zu plain secrets, %zu sealed records, the log) found %zu "
                  "times before decommissioning, 0 times after\n",
                  s.n, p.plain_secrets, p.records, before);
    /* the log region reads blank; the store holds only the new lifecycle and the receipt */
    uint8_t blank[LOG_SIZE];
    assert_int_equal(fs38_flash_read(&r.d.f.port, LOG_OFF, blank, LOG_SIZE), FS38_OK);
    for (size_t i = 0; i < LOG_SIZE; i++)
        assert_int_equal(blank[i], 0xff);
    uint8_t again[FS38_RECEIPT_MAX];
    size_t len2 = 0;
    assert_int_equal(fs38_decommission(&r.dctx, &r.dcfg, again, sizeof again, &len2), FS38_OK);
    assert_int_equal(r.dctx.outcome, FS38_DECOM_ALREADY);
    assert_int_equal(len2, len);
    assert_memory_equal(again, receipt, len);

    /* a new life: provisioned again as a new device */
    uint8_t ueid2[FS38_UEID_LEN], point2[65];
    assert_int_equal(fs38_identity_provision(&r.id), FS38_OK);
    assert_int_equal(fs38_identity_ueid(&r.id, ueid2), FS38_OK);
    assert_int_equal(fs38_identity_public_key(&r.id, point2), FS38_OK);
    assert_memory_not_equal(ueid, ueid2, sizeof ueid);
    assert_memory_not_equal(p.receipt_point, point2, 65);
    rig_free(&r, false);
    wset_free(&s);
}

/* The control: deleting logically (what a "factory reset" that only forgets does: keys
 * destroyed, records deleted, even the log erased) leaves the sealed secrets on flash — the
 * scan above would see them. */
static void test_scan_catches_logical_deletion(void **state)
{
    (void)state;
    rig r;
    populated p;
    wset s;
    wset_init(&s);
    rig_new(&r);
    populate(&r, &p, &s);
    assert_int_equal(fs38_flash_erase(&r.d.f.port, LOG_OFF, LOG_SIZE), FS38_OK);
    assert_int_equal(psa_destroy_key(KEY_ID), PSA_SUCCESS);
    assert_int_equal(psa_destroy_key(KEY_ECDH), PSA_SUCCESS);
    assert_int_equal(psa_destroy_key(KEY_KEK), PSA_SUCCESS);
    assert_int_equal(fs38_store_delete(&r.d.s, "app/wifi-psk"), FS38_OK);
    assert_int_equal(fs38_store_delete(&r.d.s, "au/u/admin"), FS38_OK);
    rig_power_cycle(&r);
    assert_keys_gone();
    const size_t left = scan_flash(&r, &s, NULL);
    print_message("control: after logical deletion only, %zu secret windows are still on flash\n", left);
    assert_true(left > 100);
    rig_free(&r, false);
    wset_free(&s);
}

static void test_refusals_and_resume_noop(void **state)
{
    (void)state;
    rig r;
    uint8_t receipt[FS38_RECEIPT_MAX];
    size_t len = 99;
    rig_new(&r);
    /* blank: nothing to sign a receipt with */
    assert_int_equal(fs38_decommission(&r.dctx, &r.dcfg, receipt, sizeof receipt, &len), FS38_ERR_NOT_PROVISIONED);
    assert_int_equal(len, 0);
    assert_int_equal(fs38_identity_provision(&r.id), FS38_OK);
    /* nothing interrupted: the start-up resume does nothing */
    assert_int_equal(fs38_decommission_resume(&r.dctx, &r.dcfg, receipt, sizeof receipt, &len), FS38_OK);
    assert_int_equal(r.dctx.outcome, FS38_DECOM_NONE);
    psa_key_id_t k;
    assert_int_equal(fs38_identity_signing_key(&r.id, &k), FS38_OK);
    /* a region overlapping the store, or misaligned, is refused before anything happens */
    fs38_decom_region bad = { "log", STORE_OFF + SS, SS };
    r.dcfg.regions = &bad;
    assert_int_equal(fs38_decommission(&r.dctx, &r.dcfg, receipt, sizeof receipt, &len), FS38_ERR_ARG);
    bad = (fs38_decom_region){ "log", LOG_OFF + 1, SS };
    assert_int_equal(fs38_decommission(&r.dctx, &r.dcfg, receipt, sizeof receipt, &len), FS38_ERR_ARG);
    bad = (fs38_decom_region){ "", LOG_OFF, SS };
    assert_int_equal(fs38_decommission(&r.dctx, &r.dcfg, receipt, sizeof receipt, &len), FS38_ERR_ARG);
    r.dcfg.regions = &r.log;
    assert_int_equal(fs38_identity_signing_key(&r.id, &k), FS38_OK);
    /* receipt with a nonce; a receipt is no attestation token and vice versa */
    static const uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    r.dcfg.nonce = nonce;
    r.dcfg.nonce_len = sizeof nonce;
    uint8_t point[65];
    assert_int_equal(fs38_identity_public_key(&r.id, point), FS38_OK);
    assert_int_equal(fs38_decommission(&r.dctx, &r.dcfg, receipt, sizeof receipt, &len), FS38_OK);
    assert_int_equal(r.dctx.keys_destroyed, 1);
    fs38_keyring kr;
    fs38_receipt_claims rc;
    fs38_eat_claims ec;
    fs38_diag d;
    fs38_keyring_init(&kr);
    assert_int_equal(fs38_keyring_add_p256(&kr, point, 65), FS38_OK);
    assert_int_equal(fs38_receipt_verify(receipt, len, &kr, nonce, sizeof nonce, &rc, NULL, &d), FS38_OK);
    assert_false(rc.has_cert_digest);
    uint8_t other[8] = { 1, 2, 3, 4, 5, 6, 7, 9 };
    assert_int_equal(fs38_receipt_verify(receipt, len, &kr, other, sizeof other, &rc, NULL, &d), FS38_ERR_NONCE);
    assert_int_equal(fs38_eat_verify(receipt, len, &kr, NULL, 0, &ec, NULL, &d), FS38_ERR_CLAIMS);
    assert_non_null(strstr(d.msg, "receipt"));
    /* every single-byte change of the receipt is refused */
    for (size_t i = 0; i < len; i++) {
        uint8_t *copy = malloc(len);
        memcpy(copy, receipt, len);
        copy[i] ^= 0x01;
        assert_int_not_equal(fs38_receipt_verify(copy, len, &kr, NULL, 0, &rc, NULL, &d), FS38_OK);
        free(copy);
    }
    fs38_keyring_free(&kr);
    rig_free(&r, false);
}

/* Cut the power at every program / erase operation of a decommissioning. */
static void test_power_cut_sweep(void **state)
{
    (void)state;
    rig r;
    populated p;
    wset s;
    uint8_t receipt[FS38_RECEIPT_MAX];
    size_t len = 0, fl = 0;
    wset_init(&s);
    rig_new(&r);
    populate(&r, &p, &s);
    rig_power_cycle(&r);
    uint8_t *snap = ts_read_file(r.d.f.path, &fl);
    assert_non_null(snap);
    char path[256];
    snprintf(path, sizeof path, "%s", r.d.f.path);

    /* an uncut run: how many operations */
    uint64_t before = fs38_posix_ops(&r.d.f.posix);
    assert_int_equal(fs38_decommission(&r.dctx, &r.dcfg, receipt, sizeof receipt, &len), FS38_OK);
    const uint64_t total = fs38_posix_ops(&r.d.f.posix) - before;
    assert_true(total > 10);

    unsigned unchanged = 0, pending = 0, done = 0, blank = 0, receipts = 0;
    for (uint64_t k = 1; k <= total; k++) {
        /* the populated device again (flash file incl. its counters; same HUK) */
        fs38_its_bind(NULL);
        fs38_store_close(&r.d.s);
        mbedtls_psa_crypto_free();
        fs38_posix_close(&r.d.f.posix);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(snap, 1, fl, f), fl);
        fclose(f);
        ts_flash_reboot(&r.d.f);
        assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
        ts_device_open(&r.d);
        rig_setup(&r);

        fs38_posix_cut_at(&r.d.f.posix, k);
        fs38_err e = fs38_decommission(&r.dctx, &r.dcfg, receipt, sizeof receipt, &len);
        if (e != FS38_ERR_POWER)
            fail_msg("cut %llu of %llu: %s (%s)", (unsigned long long)k, (unsigned long long)total,
                     fs38_strerror(e), r.dctx.diag.msg);
        rig_power_cycle(&r);

        fs38_lifecycle lc;
        psa_key_id_t key;
        assert_int_equal(fs38_identity_lifecycle(&r.id, &lc), FS38_OK);
        fs38_err sk = fs38_identity_signing_key(&r.id, &key);
        switch (lc) {
        case FS38_LIFECYCLE_OPERATIONAL: /* cut before the commit point: nothing was given out */
            unchanged++;
            assert_int_equal(sk, FS38_OK);
            break;
        case FS38_LIFECYCLE_DECOMMISSIONING: /* the key may still exist, but nothing may use it */
            pending++;
            assert_int_equal(sk, FS38_ERR_DECOMMISSIONED);
            break;
        case FS38_LIFECYCLE_DECOMMISSIONED:
        case FS38_LIFECYCLE_BLANK:
            if (lc == FS38_LIFECYCLE_BLANK)
                blank++;
            else
                done++;
            assert_int_not_equal(sk, FS38_OK);
            assert_keys_gone();
            assert_int_equal(scan_flash(&r, &s, NULL), 0);
            break;
        default:
            fail_msg("cut %llu: lifecycle %s", (unsigned long long)k, fs38_lifecycle_name(lc));
        }
        /* start-up: complete it (or, had it not begun, decommission now) */
        e = fs38_decommission_resume(&r.dctx, &r.dcfg, receipt, sizeof receipt, &len);
        if (e != FS38_OK)
            fail_msg("cut %llu: resume: %s", (unsigned long long)k, r.dctx.diag.msg);
        assert_int_equal(r.dctx.outcome, lc == FS38_LIFECYCLE_DECOMMISSIONING ? FS38_DECOM_RESUMED : FS38_DECOM_NONE);
        if (lc == FS38_LIFECYCLE_OPERATIONAL) {
            assert_int_equal(fs38_decommission(&r.dctx, &r.dcfg, receipt, sizeof receipt, &len), FS38_OK);
            assert_int_equal(r.dctx.outcome, FS38_DECOM_DONE);
        }
        if ((lc == FS38_LIFECYCLE_OPERATIONAL || lc == FS38_LIFECYCLE_DECOMMISSIONING) && len) {
            check_receipt(receipt, len, p.receipt_point, 3);
            receipts++;
        }
        rig_power_cycle(&r);
        fs38_lifecycle end;
        assert_int_equal(fs38_identity_lifecycle(&r.id, &end), FS38_OK);
        assert_true(end == FS38_LIFECYCLE_DECOMMISSIONED || (end == FS38_LIFECYCLE_BLANK && lc == FS38_LIFECYCLE_BLANK));
        assert_keys_gone();
        size_t first = 0, hits = scan_flash(&r, &s, &first);
        if (hits)
            fail_msg("cut %llu: %zu secret window(s) on flash after completion (first at 0x%zx)",
                     (unsigned long long)k, hits, first);
    }
    print_message("decommissioning power-cut sweep: %llu cut points (every program/erase): %u before the commit "
                  "point (device unchanged, key usable, no receipt given), %u decommissioning (key refused, "
                  "completed at start-up), %u decommissioned, %u blank (cut after the store wipe); %u receipts "
                  "verified; after each: no key, flash scan clean\n",
                  (unsigned long long)total, unchanged, pending, done, blank, receipts);
    assert_int_equal(unchanged + pending + done + blank, total);
    assert_true(unchanged > 0 && pending > 0);
    free(snap);
    rig_free(&r, false);
    wset_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decommission_flash_scan),
        cmocka_unit_test(test_scan_catches_logical_deletion),
        cmocka_unit_test(test_refusals_and_resume_noop),
        cmocka_unit_test(test_power_cut_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
