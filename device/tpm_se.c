/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_se.c — the device key in the TPM as a PSA key, for Mbed TLS (TLS / DTLS client
 * authentication in src/net/channel.c takes a PSA key id: mbedtls_pk_setup_opaque). PSA's
 * secure-element driver interface (psa/crypto_se_driver.h, MBEDTLS_PSA_CRYPTO_SE_C) routes
 * psa_sign_hash and psa_export_public_key of a key whose lifetime names DEV_SE_LOCATION to this
 * driver, which calls the key interface (fs38/keys.h): TPM2_Sign. The key itself is registered,
 * not created, in PSA (mbedtls_psa_register_se_key with slot number = the TPM handle); PSA keeps
 * only its attributes (in the sealed store, as every persistent PSA key).
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS /* the SE driver tables' members are MBEDTLS_PRIVATE */
#include <string.h>

#include <psa/crypto.h>
#include <psa/crypto_se_driver.h>

#include "device.h"
#include "keys.h"

#if defined(FS38_HAVE_TPM) && defined(MBEDTLS_PSA_CRYPTO_SE_C)

static const fs38_key *g_key; /* the device's TPM key while a TPM device is open */

static psa_status_t psa_of(fs38_err e)
{
    switch (e) {
    case FS38_OK: return PSA_SUCCESS;
    case FS38_ERR_NOT_FOUND: return PSA_ERROR_DOES_NOT_EXIST;
    case FS38_ERR_IO: return PSA_ERROR_COMMUNICATION_FAILURE;
    default: return PSA_ERROR_HARDWARE_FAILURE;
    }
}

static psa_status_t se_validate(psa_drv_se_context_t *c, void *pd, const psa_key_attributes_t *at,
                                psa_key_creation_method_t method, psa_key_slot_number_t slot)
{
    (void)c;
    (void)pd;
    (void)at;
    return method == PSA_KEY_CREATION_REGISTER && slot == FS38_TPM_H_IDENTITY ? PSA_SUCCESS : PSA_ERROR_NOT_PERMITTED;
}

static psa_status_t se_destroy(psa_drv_se_context_t *c, void *pd, psa_key_slot_number_t slot)
{
    /* PSA forgets the registration; the TPM object is evicted through the key interface
     * (decommissioning) */
    (void)c;
    (void)pd;
    (void)slot;
    return PSA_SUCCESS;
}

static psa_status_t se_export_public(psa_drv_se_context_t *c, psa_key_slot_number_t slot, uint8_t *out, size_t cap,
                                     size_t *len)
{
    (void)c;
    if (!g_key || slot != g_key->ref)
        return PSA_ERROR_DOES_NOT_EXIST;
    if (cap < FS38_KEY_POINT_LEN)
        return PSA_ERROR_BUFFER_TOO_SMALL;
    psa_status_t st = psa_of(fs38_key_public(g_key, out));
    if (st == PSA_SUCCESS)
        *len = FS38_KEY_POINT_LEN;
    return st;
}

static psa_status_t se_sign(psa_drv_se_context_t *c, psa_key_slot_number_t slot, psa_algorithm_t alg,
                            const uint8_t *hash, size_t hash_len, uint8_t *sig, size_t cap, size_t *sig_len)
{
    (void)c;
    if (!g_key || slot != g_key->ref)
        return PSA_ERROR_DOES_NOT_EXIST;
    if (!PSA_ALG_IS_ECDSA(alg) || PSA_ALG_SIGN_GET_HASH(alg) != PSA_ALG_SHA_256 || hash_len != 32)
        return PSA_ERROR_NOT_SUPPORTED;
    if (cap < FS38_KEY_SIG_LEN)
        return PSA_ERROR_BUFFER_TOO_SMALL;
    psa_status_t st = psa_of(fs38_key_sign_hash(g_key, hash, sig)); /* TPM2_Sign, r || s as PSA wants */
    if (st == PSA_SUCCESS)
        *sig_len = FS38_KEY_SIG_LEN;
    return st;
}

static const psa_drv_se_key_management_t se_keys = {
    .p_validate_slot_number = se_validate,
    .p_destroy = se_destroy,
    .p_export_public = se_export_public,
};
static const psa_drv_se_asymmetric_t se_asym = { .p_sign = se_sign };
static const psa_drv_se_t se_driver = {
    .hal_version = PSA_DRV_SE_HAL_VERSION,
    .persistent_data_size = 0,
    .key_management = &se_keys,
    .asymmetric = &se_asym,
};

void device_tpm_se_register(void)
{
    /* before psa_crypto_init (device_open); refused, harmlessly, when PSA is already up */
    (void)psa_register_se_driver(DEV_SE_LOCATION, &se_driver);
}

void device_tpm_se_use(const fs38_key *key)
{
    g_key = key;
}

static void se_attributes(psa_key_attributes_t *at)
{
    psa_set_key_id(at, DEV_KEY_TPM_TLS);
    psa_set_key_lifetime(at, PSA_KEY_LIFETIME_FROM_PERSISTENCE_AND_LOCATION(PSA_KEY_PERSISTENCE_DEFAULT, DEV_SE_LOCATION));
    psa_set_key_type(at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(at, 256);
    psa_set_key_usage_flags(at, PSA_KEY_USAGE_SIGN_HASH);
    psa_set_key_algorithm(at, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    psa_set_key_slot_number(at, FS38_TPM_H_IDENTITY);
}

int device_tpm_tls_key(device *d, psa_key_id_t *id)
{
    if (!d->tpm_on)
        return -1;
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    if (psa_get_key_attributes(DEV_KEY_TPM_TLS, &at) != PSA_SUCCESS) {
        psa_reset_key_attributes(&at);
        se_attributes(&at); /* registered on first use: PSA keeps its attributes in the store */
        psa_status_t st = mbedtls_psa_register_se_key(&at);
        if (st != PSA_SUCCESS) {
            host_err("cannot register the TPM's device key with PSA for TLS (PSA %d)", (int)st);
            return -1;
        }
    }
    psa_reset_key_attributes(&at);
    *id = DEV_KEY_TPM_TLS;
    return 0;
}

#else

void device_tpm_se_register(void)
{
}

void device_tpm_se_use(const fs38_key *key)
{
    (void)key;
}

int device_tpm_tls_key(device *d, psa_key_id_t *id)
{
    (void)d;
    (void)id;
    return -1;
}

#endif
