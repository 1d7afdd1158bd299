/* SPDX-License-Identifier: Apache-2.0 */
/* keys.c — the key interface (fs38/keys.h): its wrappers and the PSA implementation. */
#include <string.h>
#include "fs38/keys.h"

#define LABEL_MAX 1024u

static fs38_err psa_code(psa_status_t st)
{
    switch (st) {
    case PSA_SUCCESS: return FS38_OK;
    case PSA_ERROR_INVALID_HANDLE:
    case PSA_ERROR_DOES_NOT_EXIST: return FS38_ERR_NOT_FOUND;
    case PSA_ERROR_INSUFFICIENT_STORAGE: return FS38_ERR_STORE_FULL;
    default: return FS38_ERR_CRYPTO;
    }
}

static psa_key_id_t psa_id(const fs38_key *k)
{
    return (psa_key_id_t)k->ref;
}

static fs38_err psa_sign(const fs38_key *k, const uint8_t hash[32], uint8_t sig[FS38_KEY_SIG_LEN])
{
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_status_t st = psa_get_key_attributes(psa_id(k), &at);
    if (st != PSA_SUCCESS)
        return psa_code(st);
    psa_algorithm_t alg = psa_get_key_algorithm(&at);
    psa_reset_key_attributes(&at);
    if (!PSA_ALG_IS_ECDSA(alg))
        alg = PSA_ALG_ECDSA(PSA_ALG_SHA_256);
    size_t n = 0;
    st = psa_sign_hash(psa_id(k), alg, hash, 32, sig, FS38_KEY_SIG_LEN, &n);
    if (st == PSA_SUCCESS && n != FS38_KEY_SIG_LEN)
        return FS38_ERR_CRYPTO;
    return psa_code(st);
}

static fs38_err psa_public(const fs38_key *k, uint8_t point[FS38_KEY_POINT_LEN])
{
    size_t n = 0;
    psa_status_t st = psa_export_public_key(psa_id(k), point, FS38_KEY_POINT_LEN, &n);
    if (st == PSA_SUCCESS && n != FS38_KEY_POINT_LEN)
        return FS38_ERR_CRYPTO;
    return psa_code(st);
}

static fs38_err psa_ecdh(const fs38_key *k, const uint8_t peer[FS38_KEY_POINT_LEN], uint8_t secret[FS38_KEY_SECRET_LEN])
{
    size_t n = 0;
    psa_status_t st = psa_raw_key_agreement(PSA_ALG_ECDH, psa_id(k), peer, FS38_KEY_POINT_LEN, secret,
                                            FS38_KEY_SECRET_LEN, &n);
    if (st == PSA_SUCCESS && n != FS38_KEY_SECRET_LEN)
        st = PSA_ERROR_GENERIC_ERROR;
    if (st != PSA_SUCCESS)
        memset(secret, 0, FS38_KEY_SECRET_LEN);
    return psa_code(st);
}

static fs38_err psa_derive(const fs38_key *k, const uint8_t *label, size_t label_len, uint8_t out[32])
{
    size_t n = 0;
    psa_status_t st = psa_mac_compute(psa_id(k), PSA_ALG_HMAC(PSA_ALG_SHA_256), label_len ? label : (const uint8_t *)"",
                                      label_len, out, 32, &n);
    if (st == PSA_SUCCESS && n != 32)
        st = PSA_ERROR_GENERIC_ERROR;
    if (st != PSA_SUCCESS)
        memset(out, 0, 32);
    return psa_code(st);
}

static fs38_err psa_generate(const fs38_key *k)
{
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t got = 0;
    (void)psa_destroy_key(psa_id(k)); /* a leftover of an interrupted provisioning or an earlier life */
    psa_set_key_id(&at, psa_id(k));
    psa_set_key_lifetime(&at, PSA_KEY_LIFETIME_PERSISTENT);
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH); /* no EXPORT */
    psa_set_key_algorithm(&at, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    psa_status_t st = psa_generate_key(&at, &got);
    psa_reset_key_attributes(&at);
    return psa_code(st);
}

static fs38_err psa_destroy(const fs38_key *k)
{
    return psa_code(psa_destroy_key(psa_id(k)));
}

static const fs38_key_ops psa_ops = { psa_sign, psa_public, psa_ecdh, psa_derive, psa_generate, psa_destroy };

fs38_err fs38_key_psa(fs38_key *k, psa_key_id_t id)
{
    if (!k || id == 0)
        return FS38_ERR_ARG;
    k->ops = &psa_ops;
    k->ctx = NULL;
    k->ref = (uint32_t)id;
    return FS38_OK;
}

fs38_err fs38_key_psa_id(const fs38_key *k, psa_key_id_t *id)
{
    if (!k || !id)
        return FS38_ERR_ARG;
    if (k->ops != &psa_ops)
        return FS38_ERR_UNSUPPORTED_ALG;
    *id = psa_id(k);
    return FS38_OK;
}

fs38_err fs38_key_sign_hash(const fs38_key *k, const uint8_t hash[32], uint8_t sig[FS38_KEY_SIG_LEN])
{
    if (!k || !k->ops || !hash || !sig)
        return FS38_ERR_ARG;
    return k->ops->sign_hash ? k->ops->sign_hash(k, hash, sig) : FS38_ERR_UNSUPPORTED_ALG;
}

fs38_err fs38_key_public(const fs38_key *k, uint8_t point[FS38_KEY_POINT_LEN])
{
    if (!k || !k->ops || !point)
        return FS38_ERR_ARG;
    return k->ops->public_key ? k->ops->public_key(k, point) : FS38_ERR_UNSUPPORTED_ALG;
}

fs38_err fs38_key_ecdh(const fs38_key *k, const uint8_t peer[FS38_KEY_POINT_LEN], uint8_t secret[FS38_KEY_SECRET_LEN])
{
    if (!k || !k->ops || !peer || !secret)
        return FS38_ERR_ARG;
    return k->ops->ecdh ? k->ops->ecdh(k, peer, secret) : FS38_ERR_UNSUPPORTED_ALG;
}

fs38_err fs38_key_derive(const fs38_key *k, const uint8_t *label, size_t label_len, uint8_t out[32])
{
    if (!k || !k->ops || !out || (!label && label_len) || label_len > LABEL_MAX)
        return FS38_ERR_ARG;
    return k->ops->derive ? k->ops->derive(k, label, label_len, out) : FS38_ERR_UNSUPPORTED_ALG;
}

fs38_err fs38_key_generate(const fs38_key *k)
{
    if (!k || !k->ops)
        return FS38_ERR_ARG;
    return k->ops->generate ? k->ops->generate(k) : FS38_ERR_UNSUPPORTED_ALG;
}

fs38_err fs38_key_destroy(const fs38_key *k)
{
    if (!k || !k->ops)
        return FS38_ERR_ARG;
    return k->ops->destroy ? k->ops->destroy(k) : FS38_ERR_UNSUPPORTED_ALG;
}
