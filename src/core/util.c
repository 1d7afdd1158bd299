/* SPDX-License-Identifier: Apache-2.0 */
/* util.c — constant-time compare, wipe, SHA-256 convenience. */
#include <psa/crypto.h>
#include "fs38/util.h"
#include "inner.h"

int fs38_ct_compare(const void *a, const void *b, size_t len)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= (uint8_t)(x[i] ^ y[i]);
    return acc;
}

void fs38_wipe(void *p, size_t len)
{
    volatile uint8_t *v = p;
    while (len--)
        *v++ = 0;
}

fs38_err fs38_sha256(const uint8_t *p, size_t len, uint8_t out[32])
{
    size_t olen = 0;
    psa_status_t st = psa_hash_compute(PSA_ALG_SHA_256, p, len, out, 32, &olen);
    return st == PSA_SUCCESS && olen == 32 ? FS38_OK : FS38_ERR_CRYPTO;
}

fs38_err fs38_hmac_key_import(const uint8_t *key, size_t len, psa_key_id_t *id)
{
    if (!key || !id || len < 16u || len > 64u)
        return FS38_ERR_ARG;
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&a, PSA_KEY_TYPE_HMAC);
    psa_set_key_bits(&a, (size_t)(8u * len));
    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_SIGN_MESSAGE | PSA_KEY_USAGE_VERIFY_MESSAGE);
    psa_set_key_algorithm(&a, PSA_ALG_HMAC(PSA_ALG_SHA_256));
    psa_key_id_t k = 0;
    psa_status_t st = psa_import_key(&a, key, len, &k);
    psa_reset_key_attributes(&a);
    if (st != PSA_SUCCESS)
        return FS38_ERR_CRYPTO;
    *id = k;
    return FS38_OK;
}
