/* SPDX-License-Identifier: Apache-2.0 */
/* test_identity.c — the device identity (fs38/identity.h): UEID, a device key generated inside
 * PSA that cannot be exported, the certificate check, lifecycle rules, power cuts during
 * provisioning, and 100 devices (each its own flash and hardware unique key) that must all get
 * distinct keys, UEIDs and setup credentials. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "support.h"
#include "fs38/auth.h"
#include "fs38/identity.h"
#include "fs38/store.h"
#include "fs38/util.h"

#define SS 4096u
#define FLASH_SIZE (24u * SS)
#define KEY_ID ((psa_key_id_t)0x00380003u)

typedef struct {
    ts_device d; /* flash, HUK file, store bound to PSA ITS (tests/support.h) */
    fs38_identity id;
} rig;

static void rig_new(rig *r)
{
    memset(r, 0, sizeof *r);
    ts_device_new(&r->d, FLASH_SIZE, (fs38_store_config){ NULL, 0, 8u * SS, 2u * SS });
    assert_int_equal(fs38_identity_init(&r->id, &r->d.s, KEY_ID), FS38_OK);
}

/* Power cycle: store closed, PSA's RAM gone, flash reopened. */
static void rig_power_cycle(rig *r)
{
    ts_device_power_off_on(&r->d);
    ts_device_open(&r->d);
    assert_int_equal(fs38_identity_init(&r->id, &r->d.s, KEY_ID), FS38_OK);
}

static void rig_free(rig *r)
{
    ts_device_free(&r->d, false);
}

static void test_provision_and_key_policy(void **state)
{
    (void)state;
    rig r;
    fs38_lifecycle lc;
    uint8_t ueid[FS38_UEID_LEN], ueid2[FS38_UEID_LEN], point[65], point2[65], buf[128];
    size_t n = 0;
    rig_new(&r);
    assert_int_equal(fs38_identity_lifecycle(&r.id, &lc), FS38_OK);
    assert_int_equal(lc, FS38_LIFECYCLE_BLANK);
    assert_int_equal(fs38_identity_ueid(&r.id, ueid), FS38_ERR_NOT_PROVISIONED);
    psa_key_id_t k;
    assert_int_equal(fs38_identity_signing_key(&r.id, &k), FS38_ERR_NOT_PROVISIONED);

    assert_int_equal(fs38_identity_provision(&r.id), FS38_OK);
    assert_int_equal(fs38_identity_lifecycle(&r.id, &lc), FS38_OK);
    assert_int_equal(lc, FS38_LIFECYCLE_PROVISIONED);
    assert_int_equal(fs38_identity_ueid(&r.id, ueid), FS38_OK);
    assert_int_equal(ueid[0], FS38_UEID_TYPE_RAND);
    assert_int_equal(fs38_identity_public_key(&r.id, point), FS38_OK);
    assert_int_equal(point[0], 0x04);

    /* the key's policy: persistent, ECDSA(SHA-256) sign/verify only, never exportable */
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    assert_int_equal(psa_get_key_attributes(KEY_ID, &at), PSA_SUCCESS);
    assert_int_equal(psa_get_key_lifetime(&at), PSA_KEY_LIFETIME_PERSISTENT);
    assert_int_equal(psa_get_key_type(&at), PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    assert_int_equal(psa_get_key_bits(&at), 256);
    assert_int_equal(psa_get_key_algorithm(&at), PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    const psa_key_usage_t u = psa_get_key_usage_flags(&at); /* PSA adds the *_MESSAGE usages itself */
    assert_true((u & (PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH)) ==
                (PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH));
    assert_true((u & (PSA_KEY_USAGE_EXPORT | PSA_KEY_USAGE_COPY | PSA_KEY_USAGE_DERIVE)) == 0);
    psa_reset_key_attributes(&at);
    assert_int_equal(psa_export_key(KEY_ID, buf, sizeof buf, &n), PSA_ERROR_NOT_PERMITTED);

    /* a second provisioning is refused and changes nothing */
    assert_int_equal(fs38_identity_provision(&r.id), FS38_ERR_PROVISIONED);
    assert_non_null(strstr(r.id.diag.msg, "already provisioned"));

    /* it survives a power cycle (the key lives in the sealed store) and still signs */
    rig_power_cycle(&r);
    assert_int_equal(fs38_identity_ueid(&r.id, ueid2), FS38_OK);
    assert_memory_equal(ueid, ueid2, sizeof ueid);
    assert_int_equal(fs38_identity_public_key(&r.id, point2), FS38_OK);
    assert_memory_equal(point, point2, sizeof point);
    assert_int_equal(fs38_identity_signing_key(&r.id, &k), FS38_OK);
    uint8_t hash[32] = { 1 }, sig[64];
    assert_int_equal(psa_sign_hash(k, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, 32, sig, sizeof sig, &n), PSA_SUCCESS);
    assert_int_equal(psa_verify_hash(k, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, 32, sig, n), PSA_SUCCESS);
    rig_free(&r);
}

/* A DER-ish blob carrying the point as a P-256 subjectPublicKey BIT STRING. */
static size_t fake_cert(const uint8_t point[65], uint8_t *out)
{
    static const uint8_t head[] = { 0x30, 0x82, 0x01, 0x00, 0x03, 0x42, 0x00 };
    memcpy(out, head, sizeof head);
    memcpy(out + sizeof head, point, 65);
    memset(out + sizeof head + 65, 0x5a, 40);
    return sizeof head + 65 + 40;
}

static void test_install_cert(void **state)
{
    (void)state;
    rig r;
    uint8_t point[65], other[65], der[256], back[FS38_CERT_MAX];
    size_t n = 0;
    fs38_lifecycle lc;
    rig_new(&r);
    assert_int_equal(fs38_identity_install_cert(&r.id, der, 10, point), FS38_ERR_NOT_PROVISIONED);
    assert_int_equal(fs38_identity_provision(&r.id), FS38_OK);
    assert_int_equal(fs38_identity_public_key(&r.id, point), FS38_OK);
    assert_int_equal(fs38_identity_cert(&r.id, back, sizeof back, &n), FS38_ERR_NOT_FOUND);

    /* another key (as a cert for another device would carry) */
    psa_key_id_t ok = ts_gen_signer(other);
    psa_destroy_key(ok);
    size_t dl = fake_cert(other, der);
    assert_int_equal(fs38_identity_install_cert(&r.id, der, dl, other), FS38_ERR_CERT_MISMATCH);
    assert_non_null(strstr(r.id.diag.msg, "not this device's key"));
    /* the caller claims our point, but the DER carries another one */
    assert_int_equal(fs38_identity_install_cert(&r.id, der, dl, point), FS38_ERR_CERT_MISMATCH);
    /* too big for the store */
    uint8_t big[FS38_CERT_MAX + 1];
    memset(big, 0, sizeof big);
    fake_cert(point, big);
    assert_int_equal(fs38_identity_install_cert(&r.id, big, sizeof big, point), FS38_ERR_LIMIT);
    assert_int_equal(fs38_identity_lifecycle(&r.id, &lc), FS38_OK);
    assert_int_equal(lc, FS38_LIFECYCLE_PROVISIONED);

    dl = fake_cert(point, der);
    assert_int_equal(fs38_identity_install_cert(&r.id, der, dl, point), FS38_OK);
    assert_int_equal(fs38_identity_lifecycle(&r.id, &lc), FS38_OK);
    assert_int_equal(lc, FS38_LIFECYCLE_OPERATIONAL);
    assert_int_equal(fs38_identity_cert(&r.id, back, sizeof back, &n), FS38_OK);
    assert_int_equal(n, dl);
    assert_memory_equal(back, der, dl);
    assert_int_equal(fs38_identity_cert(&r.id, back, 10, &n), FS38_ERR_BUFFER);
    rig_free(&r);
}

static void test_lifecycle_rules(void **state)
{
    (void)state;
    rig r;
    psa_key_id_t k;
    uint8_t ueid[FS38_UEID_LEN], ueid2[FS38_UEID_LEN], p1[65], p2[65];
    rig_new(&r);
    assert_int_equal(fs38_identity_provision(&r.id), FS38_OK);
    assert_int_equal(fs38_identity_ueid(&r.id, ueid), FS38_OK);
    assert_int_equal(fs38_identity_public_key(&r.id, p1), FS38_OK);

    /* once decommissioning has begun, nothing gets the key, and provisioning waits for it */
    assert_int_equal(fs38_identity_set_lifecycle(&r.id, FS38_LIFECYCLE_DECOMMISSIONING), FS38_OK);
    assert_int_equal(fs38_identity_signing_key(&r.id, &k), FS38_ERR_DECOMMISSIONED);
    assert_int_equal(fs38_identity_provision(&r.id), FS38_ERR_DECOMMISSIONED);
    rig_power_cycle(&r);
    assert_int_equal(fs38_identity_signing_key(&r.id, &k), FS38_ERR_DECOMMISSIONED);

    /* decommissioned: a new life with a new identity (the old key is replaced) */
    assert_int_equal(fs38_identity_set_lifecycle(&r.id, FS38_LIFECYCLE_DECOMMISSIONED), FS38_OK);
    assert_int_equal(fs38_identity_signing_key(&r.id, &k), FS38_ERR_DECOMMISSIONED);
    assert_int_equal(fs38_identity_provision(&r.id), FS38_OK);
    assert_int_equal(fs38_identity_ueid(&r.id, ueid2), FS38_OK);
    assert_int_equal(fs38_identity_public_key(&r.id, p2), FS38_OK);
    assert_memory_not_equal(ueid, ueid2, sizeof ueid);
    assert_memory_not_equal(p1, p2, sizeof p1);
    assert_int_equal(fs38_identity_signing_key(&r.id, &k), FS38_OK);
    assert_string_equal(fs38_lifecycle_name(FS38_LIFECYCLE_OPERATIONAL), "operational");
    assert_string_equal(fs38_lifecycle_name((fs38_lifecycle)9), "unknown");
    assert_int_equal(fs38_identity_set_lifecycle(&r.id, (fs38_lifecycle)9), FS38_ERR_ARG);
    rig_free(&r);
}

/* Cut the power at every flash operation of a provisioning: afterwards the device is blank
 * (and provisions normally, replacing any leftover key) or provisioned with a working key. */
static void test_provision_power_cut_sweep(void **state)
{
    (void)state;
    rig r;
    rig_new(&r);
    const uint64_t before = fs38_posix_ops(&r.d.f.posix);
    assert_int_equal(fs38_identity_provision(&r.id), FS38_OK);
    const uint64_t total = fs38_posix_ops(&r.d.f.posix) - before;
    rig_free(&r);
    assert_true(total >= 3);
    unsigned blank = 0, provisioned = 0;
    for (uint64_t k = 1; k <= total; k++) {
        rig_new(&r);
        fs38_posix_cut_at(&r.d.f.posix, k);
        fs38_err e = fs38_identity_provision(&r.id);
        if (e != FS38_ERR_POWER && e != FS38_ERR_STORE_FULL && e != FS38_ERR_CRYPTO)
            fail_msg("cut %llu: provision returned %s", (unsigned long long)k, fs38_strerror(e));
        rig_power_cycle(&r);
        fs38_lifecycle lc;
        uint8_t ueid[FS38_UEID_LEN], point[65];
        psa_key_id_t key;
        assert_int_equal(fs38_identity_lifecycle(&r.id, &lc), FS38_OK);
        if (lc == FS38_LIFECYCLE_BLANK) {
            blank++;
            assert_int_equal(fs38_identity_signing_key(&r.id, &key), FS38_ERR_NOT_PROVISIONED);
            assert_int_equal(fs38_identity_provision(&r.id), FS38_OK); /* a leftover key is no obstacle */
        } else {
            provisioned++;
            assert_int_equal(lc, FS38_LIFECYCLE_PROVISIONED);
        }
        assert_int_equal(fs38_identity_ueid(&r.id, ueid), FS38_OK);
        assert_int_equal(fs38_identity_public_key(&r.id, point), FS38_OK);
        assert_int_equal(fs38_identity_signing_key(&r.id, &key), FS38_OK);
        rig_free(&r);
    }
    print_message("provisioning: %llu cut points swept (%u left a blank device, %u a provisioned one)\n",
                  (unsigned long long)total, blank, provisioned);
    assert_true(blank > 0);
}

/* ---- 100 devices ---------------------------------------------------------------------------- */

#define DEVICES 100

typedef struct {
    uint8_t ueid[FS38_UEID_LEN];
    uint8_t point[65];
    char setup[FS38_AUTH_SETUP_LEN + 1];
    uint8_t cred[54]; /* the stored credential record: version, flags, cost, salt, hash */
    uint8_t huk[32];
} device_id;

static int cmp_bytes(const void *a, const void *b, size_t off, size_t n)
{
    return memcmp((const uint8_t *)a + off, (const uint8_t *)b + off, n);
}

/* Every pair of devices differs in field [off, off+n). */
static void all_distinct(device_id *d, size_t off, size_t n, const char *what)
{
    for (size_t i = 0; i < DEVICES; i++)
        for (size_t j = i + 1; j < DEVICES; j++)
            if (cmp_bytes(&d[i], &d[j], off, n) == 0)
                fail_msg("devices %zu and %zu share their %s", i, j, what);
}

static void test_hundred_distinct_devices(void **state)
{
    (void)state;
    static device_id d[DEVICES];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < DEVICES; i++) {
        rig r;
        fs38_auth a;
        fs38_auth_config ac;
        size_t n = 0;
        rig_new(&r);
        assert_int_equal(fs38_identity_provision(&r.id), FS38_OK);
        assert_int_equal(fs38_identity_ueid(&r.id, d[i].ueid), FS38_OK);
        assert_int_equal(fs38_identity_public_key(&r.id, d[i].point), FS38_OK);
        memset(&ac, 0, sizeof ac);
        ac.store = &r.d.s;
        ac.port = &r.d.f.port;
        ac.iterations = FS38_AUTH_ITERATIONS_MIN;
        ac.ueid = d[i].ueid;
        ac.ueid_len = FS38_UEID_LEN;
        assert_int_equal(fs38_auth_init(&a, &ac), FS38_OK);
        assert_int_equal(fs38_auth_provision(&a, "admin", d[i].setup), FS38_OK);
        assert_int_equal(fs38_store_get(&r.d.s, "au/u/admin", d[i].cred, sizeof d[i].cred, &n), FS38_OK);
        assert_int_equal(n, sizeof d[i].cred);
        assert_int_equal(r.d.f.port.hardware_key(r.d.f.port.ctx, d[i].huk, 32), FS38_OK);
        rig_free(&r);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    all_distinct(d, offsetof(device_id, ueid), FS38_UEID_LEN, "UEID");
    all_distinct(d, offsetof(device_id, point), 65, "device key");
    all_distinct(d, offsetof(device_id, setup), FS38_AUTH_SETUP_LEN, "setup credential");
    all_distinct(d, offsetof(device_id, cred) + 6, 16, "password salt");
    all_distinct(d, offsetof(device_id, cred) + 22, 32, "password hash");
    all_distinct(d, offsetof(device_id, huk), 32, "hardware unique key");
    for (size_t i = 0; i < DEVICES; i++) {
        assert_int_equal(d[i].ueid[0], FS38_UEID_TYPE_RAND);
        assert_int_equal(strlen(d[i].setup), FS38_AUTH_SETUP_LEN);
    }
    print_message("%d devices provisioned in %.2f s: all UEIDs, device keys, setup credentials, salts and "
                  "password hashes distinct\n",
                  DEVICES, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_provision_and_key_policy),
        cmocka_unit_test(test_install_cert),
        cmocka_unit_test(test_lifecycle_rules),
        cmocka_unit_test(test_provision_power_cut_sweep),
        cmocka_unit_test(test_hundred_distinct_devices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
