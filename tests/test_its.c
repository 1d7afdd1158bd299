/* SPDX-License-Identifier: Apache-2.0 */
/* test_its.c — PSA Internal Trusted Storage (psa_its_*) on the sealed store, and Mbed TLS
 * persistent keys kept there: they survive store close/reopen and PSA re-initialisation, are
 * never on flash in the clear, and a power cut while a key is created leaves it either whole
 * or absent. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "support.h"
#include "fs38/store.h"

/* The PSA ITS 1.0 API (Mbed TLS declares it only in its private library headers). */
typedef uint64_t its_uid;
struct psa_storage_info_t {
    uint32_t size;
    uint32_t flags;
};
psa_status_t psa_its_set(its_uid uid, uint32_t data_length, const void *p_data, uint32_t create_flags);
psa_status_t psa_its_get(its_uid uid, uint32_t data_offset, uint32_t data_length, void *p_data,
                         size_t *p_data_length);
psa_status_t psa_its_get_info(its_uid uid, struct psa_storage_info_t *p_info);
psa_status_t psa_its_remove(its_uid uid);
#define WRITE_ONCE 1u

#define SS 4096u
#define FLASH_SIZE (24u * SS)
#define KEY_ID ((psa_key_id_t)0x100)

/* The shared rig (tests/support.h): flash, HUK file, store bound to PSA ITS. */
typedef ts_device rig;

static void rig_new(rig *r)
{
    ts_device_new(r, FLASH_SIZE, (fs38_store_config){ NULL, 4u * SS, 4u * SS, 0 });
}

/* Full power cycle: store closed, PSA's RAM (key slots) gone, flash reopened. */
static void rig_power_cycle(rig *r)
{
    ts_device_power_off_on(r);
    ts_device_open(r);
}

static void rig_free(rig *r)
{
    ts_device_free(r, false);
}

static int flash_contains(rig *r, const uint8_t *needle, size_t n)
{
    size_t fl;
    uint8_t *img = ts_read_file(r->f.path, &fl);
    assert_non_null(img);
    int found = 0;
    for (size_t i = 0; !found && i + n <= fl; i++)
        found = memcmp(img + i, needle, n) == 0;
    free(img);
    return found;
}

static void test_its_api(void **state)
{
    (void)state;
    rig r;
    struct psa_storage_info_t info;
    uint8_t buf[64];
    size_t n = 0;

    /* unbound */
    assert_int_equal(psa_its_get_info(7, &info), PSA_ERROR_DOES_NOT_EXIST);
    assert_int_equal(psa_its_get(7, 0, 0, buf, &n), PSA_ERROR_DOES_NOT_EXIST);
    assert_int_equal(psa_its_set(7, 3, "abc", 0), PSA_ERROR_STORAGE_FAILURE);
    assert_int_equal(psa_its_remove(7), PSA_ERROR_STORAGE_FAILURE);

    rig_new(&r);
    assert_int_equal(psa_its_get_info(7, &info), PSA_ERROR_DOES_NOT_EXIST);
    assert_int_equal(psa_its_set(7, 10, "0123456789", 0), PSA_SUCCESS);
    assert_int_equal(psa_its_get_info(7, &info), PSA_SUCCESS);
    assert_int_equal(info.size, 10);
    assert_int_equal(info.flags, 0);
    assert_int_equal(psa_its_get(7, 0, 10, buf, &n), PSA_SUCCESS);
    assert_int_equal(n, 10);
    assert_memory_equal(buf, "0123456789", 10);
    assert_int_equal(psa_its_get(7, 4, 3, buf, &n), PSA_SUCCESS);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "456", 3);
    assert_int_equal(psa_its_get(7, 8, 3, buf, &n), PSA_ERROR_INVALID_ARGUMENT);
    assert_int_equal(psa_its_get(7, 11, 0, buf, &n), PSA_ERROR_INVALID_ARGUMENT);
    assert_int_equal(psa_its_get(7, 10, 0, buf, &n), PSA_SUCCESS);
    /* replace */
    assert_int_equal(psa_its_set(7, 2, "xy", 0), PSA_SUCCESS);
    assert_int_equal(psa_its_get_info(7, &info), PSA_SUCCESS);
    assert_int_equal(info.size, 2);
    /* the store record is named after the uid, and sealed */
    uint8_t raw[32];
    size_t rl;
    assert_int_equal(fs38_store_get(&r.s, "its/0000000000000007", raw, sizeof raw, &rl), FS38_OK);
    assert_int_equal(rl, 6);
    /* write-once */
    assert_int_equal(psa_its_set(0x1234567890abcdefULL, 4, "once", WRITE_ONCE), PSA_SUCCESS);
    assert_int_equal(psa_its_set(0x1234567890abcdefULL, 4, "twice", 0), PSA_ERROR_NOT_PERMITTED);
    assert_int_equal(psa_its_remove(0x1234567890abcdefULL), PSA_ERROR_NOT_PERMITTED);
    assert_int_equal(psa_its_get_info(0x1234567890abcdefULL, &info), PSA_SUCCESS);
    assert_int_equal(info.flags, WRITE_ONCE);
    /* arguments */
    assert_int_equal(psa_its_set(0, 1, "a", 0), PSA_ERROR_INVALID_ARGUMENT);
    assert_int_equal(psa_its_set(8, 1, "a", 0x100), PSA_ERROR_NOT_SUPPORTED);
    static uint8_t big[FS38_STORE_VALUE_MAX];
    assert_int_equal(psa_its_set(8, FS38_STORE_VALUE_MAX - 3, big, 0), PSA_ERROR_INVALID_ARGUMENT);
    assert_int_equal(psa_its_set(8, FS38_STORE_VALUE_MAX - 4, big, 0), PSA_SUCCESS);
    assert_int_equal(psa_its_set(9, 0, NULL, 0), PSA_SUCCESS);
    assert_int_equal(psa_its_get_info(9, &info), PSA_SUCCESS);
    assert_int_equal(info.size, 0);
    /* remove */
    assert_int_equal(psa_its_remove(7), PSA_SUCCESS);
    assert_int_equal(psa_its_remove(7), PSA_ERROR_DOES_NOT_EXIST);
    assert_int_equal(psa_its_get_info(7, &info), PSA_ERROR_DOES_NOT_EXIST);
    rig_power_cycle(&r);
    assert_int_equal(psa_its_get_info(7, &info), PSA_ERROR_DOES_NOT_EXIST);
    assert_int_equal(psa_its_get(0x1234567890abcdefULL, 0, 4, buf, &n), PSA_SUCCESS);
    assert_memory_equal(buf, "once", 4);
    rig_free(&r);
}

static void test_persistent_keys_survive_and_stay_sealed(void **state)
{
    (void)state;
    rig r;
    rig_new(&r);

    /* an exportable persistent AES key, so that its bytes can be looked for on flash */
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_id(&a, KEY_ID);
    psa_set_key_lifetime(&a, PSA_KEY_LIFETIME_PERSISTENT);
    psa_set_key_type(&a, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&a, 256);
    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_EXPORT | PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT);
    psa_set_key_algorithm(&a, PSA_ALG_GCM);
    psa_key_id_t id = 0;
    assert_int_equal(psa_generate_key(&a, &id), PSA_SUCCESS);
    assert_int_equal(id, KEY_ID);
    uint8_t k1[32], k2[32];
    size_t kl;
    assert_int_equal(psa_export_key(id, k1, sizeof k1, &kl), PSA_SUCCESS);
    assert_int_equal(kl, 32);
    /* a second one: persistent P-256 signing key, not exportable */
    psa_key_attributes_t e = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_id(&e, KEY_ID + 1);
    psa_set_key_lifetime(&e, PSA_KEY_LIFETIME_PERSISTENT);
    psa_set_key_type(&e, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&e, 256);
    psa_set_key_usage_flags(&e, PSA_KEY_USAGE_SIGN_HASH);
    psa_set_key_algorithm(&e, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    psa_key_id_t sid = 0;
    assert_int_equal(psa_generate_key(&e, &sid), PSA_SUCCESS);
    uint8_t pub[65];
    size_t pl;
    assert_int_equal(psa_export_public_key(sid, pub, sizeof pub, &pl), PSA_SUCCESS);
    /* the same id again: refused, the store knows it exists */
    psa_key_id_t dup = 0;
    assert_int_equal(psa_generate_key(&a, &dup), PSA_ERROR_ALREADY_EXISTS);

    /* nothing in Mbed TLS's plaintext file backend */
    assert_int_equal(access("0000000000000100.psa_its", F_OK), -1);

    rig_power_cycle(&r);
    assert_int_equal(psa_export_key(KEY_ID, k2, sizeof k2, &kl), PSA_SUCCESS);
    assert_memory_equal(k1, k2, 32);
    assert_false(flash_contains(&r, k1, 16));
    assert_false(flash_contains(&r, k1 + 16, 16));
    /* the signing key works and is the same key */
    uint8_t h[32] = { 1, 2, 3 }, sig[64];
    size_t sl;
    assert_int_equal(psa_sign_hash(KEY_ID + 1, PSA_ALG_ECDSA(PSA_ALG_SHA_256), h, sizeof h, sig, sizeof sig, &sl),
                     PSA_SUCCESS);
    psa_key_attributes_t v = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&v, PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_usage_flags(&v, PSA_KEY_USAGE_VERIFY_HASH);
    psa_set_key_algorithm(&v, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    psa_key_id_t vid = 0;
    assert_int_equal(psa_import_key(&v, pub, pl, &vid), PSA_SUCCESS);
    assert_int_equal(psa_verify_hash(vid, PSA_ALG_ECDSA(PSA_ALG_SHA_256), h, sizeof h, sig, sl), PSA_SUCCESS);
    psa_destroy_key(vid);

    /* destroying a persistent key removes it from the store, across power cycles */
    assert_int_equal(psa_destroy_key(KEY_ID), PSA_SUCCESS);
    rig_power_cycle(&r);
    assert_int_equal(psa_export_key(KEY_ID, k2, sizeof k2, &kl), PSA_ERROR_INVALID_HANDLE);
    struct psa_storage_info_t info;
    assert_int_equal(psa_its_get_info(KEY_ID, &info), PSA_ERROR_DOES_NOT_EXIST);
    assert_int_equal(psa_its_get_info(KEY_ID + 1, &info), PSA_SUCCESS);

    /* another device (other HUK) with this flash has no keys at all */
    char other[256];
    snprintf(other, sizeof other, "%s", ts_tmp_path("huk-other"));
    unlink(other);
    fs38_its_bind(NULL);
    fs38_store_close(&r.s);
    mbedtls_psa_crypto_free();
    r.f.cfg.huk_path = other;
    ts_flash_reboot(&r.f);
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_ERR_STORE_CORRUPT);
    assert_int_equal(psa_sign_hash(KEY_ID + 1, PSA_ALG_ECDSA(PSA_ALG_SHA_256), h, sizeof h, sig, sizeof sig, &sl),
                     PSA_ERROR_INVALID_HANDLE);
    unlink(other);
    r.f.cfg.huk_path = r.huk;
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
    fs38_its_bind(&r.s);
    assert_int_equal(psa_destroy_key(KEY_ID + 1), PSA_SUCCESS);
    rig_free(&r);
}

/* A power cut at every flash operation of psa_generate_key(persistent): after the reboot the
 * key is either absent (and can be created again) or whole and usable. */
static void test_power_cut_during_key_creation(void **state)
{
    (void)state;
    rig r;
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_id(&a, KEY_ID);
    psa_set_key_lifetime(&a, PSA_KEY_LIFETIME_PERSISTENT);
    psa_set_key_type(&a, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&a, 256);
    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_SIGN_HASH);
    psa_set_key_algorithm(&a, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    uint8_t h[32] = { 9 }, sig[64];
    size_t sl;

    rig_new(&r);
    /* some other items first, so that the store has content to keep */
    assert_int_equal(psa_its_set(1, 5, "hello", 0), PSA_SUCCESS);
    uint64_t before = fs38_posix_ops(&r.f.posix);
    psa_key_id_t id = 0;
    assert_int_equal(psa_generate_key(&a, &id), PSA_SUCCESS);
    const uint64_t total = fs38_posix_ops(&r.f.posix) - before;
    assert_true(total >= 2);
    rig_free(&r);
    mbedtls_psa_crypto_free();
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);

    unsigned whole = 0, absent = 0;
    for (uint64_t k = 1; k <= total; k++) {
        rig_new(&r);
        assert_int_equal(psa_its_set(1, 5, "hello", 0), PSA_SUCCESS);
        fs38_posix_cut_at(&r.f.posix, k);
        id = 0;
        assert_int_not_equal(psa_generate_key(&a, &id), PSA_SUCCESS);
        fs38_its_bind(NULL);
        fs38_store_close(&r.s);
        mbedtls_psa_crypto_free();
        fs38_posix_cut_at(&r.f.posix, 0);
        ts_flash_reboot(&r.f);
        assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
        assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
        fs38_its_bind(&r.s);
        psa_status_t st = psa_sign_hash(KEY_ID, PSA_ALG_ECDSA(PSA_ALG_SHA_256), h, sizeof h, sig, sizeof sig, &sl);
        if (st == PSA_SUCCESS) {
            whole++;
        } else {
            assert_int_equal(st, PSA_ERROR_INVALID_HANDLE);
            absent++;
            assert_int_equal(psa_generate_key(&a, &id), PSA_SUCCESS);
            assert_int_equal(
                psa_sign_hash(KEY_ID, PSA_ALG_ECDSA(PSA_ALG_SHA_256), h, sizeof h, sig, sizeof sig, &sl),
                PSA_SUCCESS);
        }
        uint8_t buf[8];
        size_t n;
        assert_int_equal(psa_its_get(1, 0, 5, buf, &n), PSA_SUCCESS);
        assert_memory_equal(buf, "hello", 5);
        assert_int_equal(psa_destroy_key(KEY_ID), PSA_SUCCESS);
        rig_free(&r);
        mbedtls_psa_crypto_free();
        assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
    }
    print_message("its: %llu cut points in psa_generate_key(persistent): %u whole, %u absent\n",
                  (unsigned long long)total, whole, absent);
}

int main(void)
{
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_its_api),
        cmocka_unit_test(test_persistent_keys_survive_and_stay_sealed),
        cmocka_unit_test(test_power_cut_during_key_creation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
