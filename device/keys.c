/* SPDX-License-Identifier: Apache-2.0 */
/* keys.c — the reference device's own keys (persistent PSA keys, generated inside the device). */
#include <string.h>

#include <mbedtls/pk.h>
#include <mbedtls/psa_util.h>

#include "fs38/util.h"
#include "keys.h"

int device_keys_open(device *d)
{
    /* PSA persistent keys live in the sealed store, which device_open binds as PSA's
     * internal trusted storage (src/storage/its.c): nothing more to do on this port. */
    if (!d->store_open) {
        host_err("the sealed store is not open");
        return -1;
    }
    return 0;
}

static void ecdh_attributes(psa_key_attributes_t *at)
{
    psa_set_key_id(at, DEV_KEY_ECDH);
    psa_set_key_lifetime(at, PSA_KEY_LIFETIME_PERSISTENT);
    psa_set_key_type(at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(at, 256);
    psa_set_key_usage_flags(at, PSA_KEY_USAGE_DERIVE); /* not exportable */
    psa_set_key_algorithm(at, PSA_ALG_ECDH);
}

int device_ecdh_key(device *d, psa_key_id_t *key)
{
    (void)d;
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    if (psa_get_key_attributes(DEV_KEY_ECDH, &at) == PSA_SUCCESS) {
        psa_reset_key_attributes(&at);
        *key = DEV_KEY_ECDH;
        return 0;
    }
    ecdh_attributes(&at);
    psa_key_id_t id = 0;
    psa_status_t st = psa_generate_key(&at, &id);
    if (st != PSA_SUCCESS) {
        host_err("generating the device key-agreement key failed (PSA %d)", (int)st);
        return -1;
    }
    *key = id;
    return 0;
}

int device_import_ecdh_key(device *d, const uint8_t *pem, size_t len)
{
    (void)d;
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    int ret = mbedtls_pk_parse_key(&pk, pem, len, NULL, 0, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
    if (ret) {
        host_err("not a P-256 private key (Mbed TLS error -0x%04x)", (unsigned)-ret);
        mbedtls_pk_free(&pk);
        return -1;
    }
    psa_destroy_key(DEV_KEY_ECDH);
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    ecdh_attributes(&at);
    psa_key_id_t id = 0;
    ret = mbedtls_pk_import_into_psa(&pk, &at, &id);
    mbedtls_pk_free(&pk);
    if (ret) {
        host_err("storing the key-agreement key failed (Mbed TLS error -0x%04x)", (unsigned)-ret);
        return -1;
    }
    return 0;
}

int device_install_kek(device *d, const uint8_t kek[16])
{
    (void)d;
    psa_destroy_key(DEV_KEY_KEK); /* replace any previous one */
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_id(&at, DEV_KEY_KEK);
    psa_set_key_lifetime(&at, PSA_KEY_LIFETIME_PERSISTENT);
    psa_set_key_type(&at, PSA_KEY_TYPE_RAW_DATA);
    psa_set_key_bits(&at, 128);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_EXPORT); /* the NIST KW module needs the raw KEK */
    psa_key_id_t id = 0;
    psa_status_t st = psa_import_key(&at, kek, 16, &id);
    if (st != PSA_SUCCESS) {
        host_err("storing the key-encryption key failed (PSA %d)", (int)st);
        return -1;
    }
    return 0;
}

int device_decrypt_keys(device *d, fs38_decrypt_keys *k, uint8_t kek_buf[16])
{
    memset(k, 0, sizeof *k);
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    if (psa_get_key_attributes(DEV_KEY_ECDH, &at) == PSA_SUCCESS)
        k->ecdh_key = DEV_KEY_ECDH;
    psa_reset_key_attributes(&at);
    size_t n = 0;
    if (psa_export_key(DEV_KEY_KEK, kek_buf, 16, &n) == PSA_SUCCESS && n == 16) {
        k->kek = kek_buf;
        k->kek_len = 16;
    }
    (void)d;
    return 0;
}
