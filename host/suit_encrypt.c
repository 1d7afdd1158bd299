/* SPDX-License-Identifier: Apache-2.0 */
/* suit_encrypt.c — encrypt a payload and build its COSE_Encrypt encryption-info (host side). */
#include <string.h>
#include <mbedtls/nist_kw.h>
#include <psa/crypto.h>
#include "fs38/cbor.h"
#include "fs38/decrypt.h"
#include "fs38/util.h"
#include "suit_build.h"
#include "suit_encrypt.h"

static const uint8_t esdh_protected[] = { 0xa1, 0x01, 0x38, 0x1c }; /* {1: -29} */
static const uint8_t gcm_protected[] = { 0xa1, 0x01, 0x01 };        /* {1: 1} */

static FS38_NODISCARD fs38_err wrap(const uint8_t kek[16], const uint8_t cek[16], uint8_t out[24])
{
    mbedtls_nist_kw_context kw;
    size_t olen = 0;
    mbedtls_nist_kw_init(&kw);
    int rc = mbedtls_nist_kw_setkey(&kw, MBEDTLS_CIPHER_ID_AES, kek, 128, 1);
    if (!rc)
        rc = mbedtls_nist_kw_wrap(&kw, MBEDTLS_KW_MODE_KW, cek, 16, out, &olen, 24);
    mbedtls_nist_kw_free(&kw);
    return rc || olen != 24 ? FS38_ERR_CRYPTO : FS38_OK;
}

/* ECDH-ES: fresh ephemeral key; returns its public point and the KEK */
static FS38_NODISCARD fs38_err esdh(const uint8_t device_pub[65], uint8_t eph_pub[65], uint8_t kek[16])
{
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&at, PSA_ALG_ECDH);
    psa_key_id_t eph = 0;
    if (psa_generate_key(&at, &eph) != PSA_SUCCESS)
        return FS38_ERR_CRYPTO;
    uint8_t z[32];
    size_t n = 0, zl = 0;
    fs38_err e = FS38_OK;
    if (psa_export_public_key(eph, eph_pub, 65, &n) != PSA_SUCCESS || n != 65 ||
        psa_raw_key_agreement(PSA_ALG_ECDH, eph, device_pub, 65, z, sizeof z, &zl) != PSA_SUCCESS)
        e = FS38_ERR_ARG; /* not a valid P-256 device key */
    psa_destroy_key(eph);
    if (!e)
        e = fs38_esdh_kek(z, zl, esdh_protected, sizeof esdh_protected, kek);
    fs38_wipe(z, sizeof z);
    return e;
}

static FS38_NODISCARD fs38_err encrypt_content(int64_t alg, const uint8_t cek_raw[16], const uint8_t *iv, const uint8_t *plain,
                                size_t n, uint8_t *ct, size_t cap, size_t *ct_len)
{
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&at, 128);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_ENCRYPT);
    psa_set_key_algorithm(&at, alg == FS38_COSE_ALG_A128CTR ? PSA_ALG_CTR : PSA_ALG_GCM);
    psa_key_id_t cek = 0;
    if (psa_import_key(&at, cek_raw, 16, &cek) != PSA_SUCCESS)
        return FS38_ERR_CRYPTO;
    psa_status_t st;
    if (alg == FS38_COSE_ALG_A128CTR) {
        psa_cipher_operation_t op = PSA_CIPHER_OPERATION_INIT;
        size_t a = 0, b = 0;
        st = psa_cipher_encrypt_setup(&op, cek, PSA_ALG_CTR);
        if (st == PSA_SUCCESS)
            st = psa_cipher_set_iv(&op, iv, 16);
        if (st == PSA_SUCCESS)
            st = psa_cipher_update(&op, plain, n, ct, cap, &a);
        if (st == PSA_SUCCESS)
            st = psa_cipher_finish(&op, ct + a, cap - a, &b);
        psa_cipher_abort(&op);
        *ct_len = a + b;
    } else {
        uint8_t aad[32];
        size_t aad_len;
        if (fs38_enc_structure(gcm_protected, sizeof gcm_protected, aad, sizeof aad, &aad_len) != FS38_OK) {
            psa_destroy_key(cek);
            return FS38_ERR_BUFFER;
        }
        st = psa_aead_encrypt(cek, PSA_ALG_GCM, iv, 12, aad, aad_len, plain, n, ct, cap, ct_len);
    }
    psa_destroy_key(cek);
    return st == PSA_SUCCESS ? FS38_OK : FS38_ERR_CRYPTO;
}

fs38_err suit_encrypt(const suit_encrypt_opts *o, const uint8_t *plain, size_t n, uint8_t *ct, size_t ct_cap,
                      size_t *ct_len, uint8_t *info, size_t info_cap, size_t *info_len)
{
    if (!o || (!o->device_pub == !o->kek) || ct_cap < n + 16)
        return FS38_ERR_ARG;
    if (o->content_alg != FS38_COSE_ALG_A128CTR && o->content_alg != FS38_COSE_ALG_A128GCM)
        return FS38_ERR_UNSUPPORTED_ALG;
    bool ctr = o->content_alg == FS38_COSE_ALG_A128CTR;
    uint8_t cek[16], iv[16], kek[16], wrapped[24], eph[65];
    size_t iv_len = ctr ? 16 : 12;
    if (psa_generate_random(cek, sizeof cek) != PSA_SUCCESS || psa_generate_random(iv, iv_len) != PSA_SUCCESS)
        return FS38_ERR_CRYPTO;
    fs38_err e = o->kek ? (memcpy(kek, o->kek, 16), FS38_OK) : esdh(o->device_pub, eph, kek);
    if (!e)
        e = wrap(kek, cek, wrapped);
    if (!e)
        e = encrypt_content(o->content_alg, cek, iv, plain, n, ct, ct_cap, ct_len);
    fs38_wipe(kek, sizeof kek);
    fs38_wipe(cek, sizeof cek);
    if (e)
        return e;

    fs38_cbor_enc enc;
    fs38_cbor_enc_init(&enc, info, info_cap);
    fs38_cbor_put_tag(&enc, FS38_COSE_TAG_ENCRYPT);
    fs38_cbor_put_array(&enc, 4);
    if (ctr) {
        fs38_cbor_put_bstr(&enc, NULL, 0);
        fs38_cbor_put_map(&enc, 2);
        fs38_cbor_put_uint(&enc, 1);
        fs38_cbor_put_int(&enc, FS38_COSE_ALG_A128CTR);
    } else {
        fs38_cbor_put_bstr(&enc, gcm_protected, sizeof gcm_protected);
        fs38_cbor_put_map(&enc, 1);
    }
    fs38_cbor_put_uint(&enc, 5);
    fs38_cbor_put_bstr(&enc, iv, iv_len);
    fs38_cbor_put_null(&enc); /* detached ciphertext */
    fs38_cbor_put_array(&enc, 1);
    fs38_cbor_put_array(&enc, 3);
    size_t hdrs = (o->kid ? 1u : 0u) + 1u;
    if (o->kek) {
        fs38_cbor_put_bstr(&enc, NULL, 0);
        fs38_cbor_put_map(&enc, hdrs);
        fs38_cbor_put_uint(&enc, 1);
        fs38_cbor_put_int(&enc, FS38_COSE_ALG_A128KW);
    } else {
        fs38_cbor_put_bstr(&enc, esdh_protected, sizeof esdh_protected);
        fs38_cbor_put_map(&enc, hdrs);
        fs38_cbor_put_int(&enc, -1); /* ephemeral key */
        fs38_cbor_put_map(&enc, 4);
        fs38_cbor_put_uint(&enc, 1);
        fs38_cbor_put_uint(&enc, 2);
        fs38_cbor_put_int(&enc, -1);
        fs38_cbor_put_uint(&enc, 1);
        fs38_cbor_put_int(&enc, -2);
        fs38_cbor_put_bstr(&enc, eph + 1, 32);
        fs38_cbor_put_int(&enc, -3);
        fs38_cbor_put_bstr(&enc, eph + 33, 32);
    }
    if (o->kid) {
        fs38_cbor_put_uint(&enc, 4);
        fs38_cbor_put_bstr(&enc, o->kid, o->kid_len);
    }
    fs38_cbor_put_bstr(&enc, wrapped, sizeof wrapped);
    return fs38_cbor_enc_finish(&enc, info_len);
}

fs38_err suit_build_encrypt(suit_build *sb, const suit_encrypt_opts *o, uint8_t *payload, size_t cap,
                            size_t *payload_len, uint8_t *info, size_t info_cap)
{
    if (!sb || !payload_len)
        return FS38_ERR_ARG;
    size_t info_len = 0;
    fs38_err e = suit_encrypt(o, sb->image, sb->image_len, payload, cap, payload_len, info, info_cap, &info_len);
    if (e != FS38_OK)
        return e;
    sb->enc_info = info;
    sb->enc_info_len = info_len;
    sb->payload = payload;
    sb->payload_len = *payload_len;
    return FS38_OK;
}
