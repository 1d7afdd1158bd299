/* SPDX-License-Identifier: Apache-2.0 */
/* decrypt.c — COSE_Encrypt payload decryption for SUIT: A128CTR / A128GCM content,
 * A128KW / ECDH-ES+A128KW key distribution (draft-ietf-suit-firmware-encryption). */
#include <string.h>
#include <mbedtls/nist_kw.h>
#include "fs38/cbor.h"
#include "inner.h"
#include "fs38/decrypt.h"
#include "fs38/util.h"

static FS38_NODISCARD fs38_err bad(fs38_diag *diag, const char *what)
{
    return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "encryption-info: %s", what);
}

/* {1: alg} in a protected bstr (may be empty) */
static FS38_NODISCARD fs38_err protected_alg(const uint8_t *p, size_t len, int64_t *alg, bool *has)
{
    *has = false;
    if (!len)
        return FS38_OK;
    fs38_cbor_dec d;
    size_t n;
    fs38_cbor_dec_init(&d, p, len);
    fs38_err e = fs38_cbor_get_map(&d, &n);
    for (size_t i = 0; !e && i < n; i++) {
        int64_t label;
        e = fs38_cbor_get_int(&d, &label);
        if (!e && label == 1) {
            e = fs38_cbor_get_int(&d, alg);
            *has = true;
        } else if (!e) {
            e = FS38_ERR_UNSUPPORTED_PARAM; /* nothing else belongs in these protected headers */
        }
    }
    if (!e && !fs38_cbor_at_end(&d))
        e = FS38_ERR_CBOR_TRAILING;
    return e;
}

/* COSE_Key {1: 2 (EC2), -1: 1 (P-256), -2: x, -3: y} -> 04||x||y */
static FS38_NODISCARD fs38_err parse_ephemeral(fs38_cbor_dec *d, uint8_t point[65])
{
    size_t n;
    fs38_err e = fs38_cbor_get_map(d, &n);
    int have = 0;
    for (size_t i = 0; !e && i < n; i++) {
        int64_t label, v;
        const uint8_t *p;
        size_t len;
        if ((e = fs38_cbor_get_int(d, &label)))
            break;
        if (label == 1 || label == -1) {
            e = fs38_cbor_get_int(d, &v);
            if (!e && v != (label == 1 ? 2 : 1))
                e = FS38_ERR_UNSUPPORTED_ALG;
            have |= label == 1 ? 1 : 2;
        } else if (label == -2 || label == -3) {
            e = fs38_cbor_get_bstr(d, &p, &len);
            if (!e && len != 32)
                e = FS38_ERR_COSE_FORMAT;
            if (!e)
                memcpy(point + (label == -2 ? 1 : 33), p, 32);
            have |= label == -2 ? 4 : 8;
        } else {
            e = fs38_cbor_skip(d);
        }
    }
    point[0] = 0x04;
    if (!e && have != 15)
        e = FS38_ERR_COSE_FORMAT;
    return e;
}

static FS38_NODISCARD fs38_err parse_recipient(fs38_cbor_dec *d, fs38_encryption_info *info, fs38_diag *diag)
{
    size_t n;
    if (fs38_cbor_get_array(d, &n) || n != 3)
        return bad(diag, "recipient is not an array of 3");
    if (fs38_cbor_get_bstr(d, &info->recipient_protected, &info->recipient_protected_len))
        return bad(diag, "recipient protected header is not a bstr");
    bool has_alg;
    int64_t alg = 0;
    if (protected_alg(info->recipient_protected, info->recipient_protected_len, &alg, &has_alg))
        return bad(diag, "recipient protected header malformed");
    size_t m;
    if (fs38_cbor_get_map(d, &m))
        return bad(diag, "recipient unprotected header is not a map");
    bool have_eph = false;
    for (size_t i = 0; i < m; i++) {
        int64_t label;
        if (fs38_cbor_get_int(d, &label))
            return bad(diag, "recipient header label");
        if (label == 1) {
            if (has_alg || fs38_cbor_get_int(d, &alg))
                return bad(diag, "recipient algorithm");
            has_alg = true;
        } else if (label == 4) {
            if (fs38_cbor_get_bstr(d, &info->kid, &info->kid_len))
                return bad(diag, "recipient kid");
        } else if (label == -1) {
            if (parse_ephemeral(d, info->ephemeral))
                return bad(diag, "ephemeral key is not a P-256 COSE_Key");
            have_eph = true;
        } else if (fs38_cbor_skip(d)) {
            return bad(diag, "recipient header value");
        }
    }
    if (!has_alg)
        return bad(diag, "recipient has no algorithm");
    if (alg == FS38_COSE_ALG_A128KW) {
        if (info->recipient_protected_len)
            return bad(diag, "A128KW recipient must have an empty protected header");
    } else if (alg == FS38_COSE_ALG_ECDH_ES_A128KW) {
        if (!info->recipient_protected_len)
            return bad(diag, "ECDH-ES+A128KW algorithm must be protected");
        if (!have_eph)
            return bad(diag, "ECDH-ES+A128KW recipient has no ephemeral key");
    } else {
        return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_ALG, "unsupported key distribution algorithm %lld",
                             (long long)alg);
    }
    info->key_alg = alg;
    if (fs38_cbor_get_bstr(d, &info->wrapped_cek, &info->wrapped_cek_len) || info->wrapped_cek_len != 24)
        return bad(diag, "wrapped CEK is not 24 bytes");
    return FS38_OK;
}

fs38_err fs38_decrypt_parse(const uint8_t *enc, size_t len, fs38_encryption_info *info, fs38_diag *diag)
{
    fs38_cbor_dec d;
    memset(info, 0, sizeof *info);
    if (!enc)
        return bad(diag, "missing");
    fs38_err e = fs38_cbor_check_single(enc, len);
    if (e)
        return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "encryption-info: %s", fs38_strerror(e));
    fs38_cbor_dec_init(&d, enc, len);
    fs38_cbor_head h;
    if (fs38_cbor_peek(&d, &h) == FS38_OK && h.major == FS38_CBOR_TAG) {
        uint64_t tag;
        if (fs38_cbor_get_tag(&d, &tag) != FS38_OK || tag != FS38_COSE_TAG_ENCRYPT)
            return bad(diag, "not a COSE_Encrypt (tag 96)");
    }
    size_t n;
    if (fs38_cbor_get_array(&d, &n) || n != 4)
        return bad(diag, "not an array of 4");
    if (fs38_cbor_get_bstr(&d, &info->content_protected, &info->content_protected_len))
        return bad(diag, "protected header is not a bstr");
    bool has_alg;
    int64_t alg = 0;
    if (protected_alg(info->content_protected, info->content_protected_len, &alg, &has_alg))
        return bad(diag, "protected header malformed");
    size_t m;
    if (fs38_cbor_get_map(&d, &m))
        return bad(diag, "unprotected header is not a map");
    bool unprot_alg = false;
    for (size_t i = 0; i < m; i++) {
        int64_t label;
        if (fs38_cbor_get_int(&d, &label))
            return bad(diag, "header label");
        if (label == 1) {
            if (has_alg || fs38_cbor_get_int(&d, &alg))
                return bad(diag, "algorithm given twice or malformed");
            has_alg = unprot_alg = true;
        } else if (label == 5) {
            const uint8_t *iv;
            if (fs38_cbor_get_bstr(&d, &iv, &info->iv_len) || info->iv_len > sizeof info->iv)
                return bad(diag, "IV");
            memcpy(info->iv, iv, info->iv_len);
        } else if (fs38_cbor_skip(&d)) {
            return bad(diag, "header value");
        }
    }
    if (!has_alg)
        return bad(diag, "no content algorithm");
    if (alg == FS38_COSE_ALG_A128GCM) {
        if (unprot_alg)
            return bad(diag, "A128GCM algorithm must be protected");
        if (info->iv_len != 12)
            return bad(diag, "A128GCM needs a 12-byte IV");
    } else if (alg == FS38_COSE_ALG_A128CTR) {
        if (info->content_protected_len)
            return bad(diag, "A128CTR needs an empty protected header");
        if (info->iv_len != 16)
            return bad(diag, "A128CTR needs a 16-byte IV");
    } else {
        return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_ALG, "unsupported content encryption algorithm %lld",
                             (long long)alg);
    }
    info->content_alg = alg;
    if (fs38_cbor_get_null(&d))
        return bad(diag, "ciphertext must be detached (null)");
    if (fs38_cbor_get_array(&d, &n) || n != 1)
        return bad(diag, "exactly one recipient is supported");
    return parse_recipient(&d, info, diag);
}

fs38_err fs38_cose_kdf_context(const uint8_t *recipient_protected, size_t len, uint8_t *out, size_t cap,
                               size_t *out_len)
{
    static const char other[] = "SUIT Payload Encryption";
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, out, cap);
    fs38_cbor_put_array(&e, 4);
    fs38_cbor_put_int(&e, FS38_COSE_ALG_A128KW);
    for (int party = 0; party < 2; party++) {
        fs38_cbor_put_array(&e, 3);
        fs38_cbor_put_null(&e);
        fs38_cbor_put_null(&e);
        fs38_cbor_put_null(&e);
    }
    fs38_cbor_put_array(&e, 3);
    fs38_cbor_put_uint(&e, 128);
    fs38_cbor_put_bstr(&e, recipient_protected, len);
    fs38_cbor_put_bstr(&e, (const uint8_t *)other, sizeof other - 1);
    return fs38_cbor_enc_finish(&e, out_len);
}

fs38_err fs38_enc_structure(const uint8_t *prot, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    if (!out_len || (!prot && len) || (!out && cap))
        return FS38_ERR_ARG;
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, out, cap);
    fs38_cbor_put_array(&e, 3);
    fs38_cbor_put_tstr(&e, "Encrypt", 7);
    fs38_cbor_put_bstr(&e, prot, len);
    fs38_cbor_put_bstr(&e, NULL, 0);
    return fs38_cbor_enc_finish(&e, out_len);
}

fs38_err fs38_esdh_kek(const uint8_t *z, size_t z_len, const uint8_t *recipient_protected, size_t len,
                       uint8_t kek[16])
{
    uint8_t ctx[96];
    size_t ctx_len = 0;
    fs38_err e = fs38_cose_kdf_context(recipient_protected, len, ctx, sizeof ctx, &ctx_len);
    if (e)
        return e;
    psa_key_derivation_operation_t op = PSA_KEY_DERIVATION_OPERATION_INIT;
    psa_status_t st = psa_key_derivation_setup(&op, PSA_ALG_HKDF(PSA_ALG_SHA_256));
    if (st == PSA_SUCCESS)
        st = psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_SECRET, z, z_len);
    if (st == PSA_SUCCESS)
        st = psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_INFO, ctx, ctx_len);
    if (st == PSA_SUCCESS)
        st = psa_key_derivation_output_bytes(&op, kek, 16);
    psa_key_derivation_abort(&op);
    return st == PSA_SUCCESS ? FS38_OK : FS38_ERR_CRYPTO;
}

/* KEK from ECDH-ES: Z = ECDH(device key, ephemeral); KEK = HKDF-SHA-256(Z, info = KDF context) */
static FS38_NODISCARD fs38_err esdh_kek(const fs38_encryption_info *info, psa_key_id_t key, uint8_t kek[16], fs38_diag *diag)
{
    uint8_t z[32];
    size_t zlen = 0;
    if (!key)
        return fs38_diag_set(diag, FS38_ERR_DECRYPT, "no device key-agreement key");
    if (psa_raw_key_agreement(PSA_ALG_ECDH, key, info->ephemeral, sizeof info->ephemeral, z, sizeof z, &zlen) !=
            PSA_SUCCESS ||
        zlen != 32) {
        fs38_wipe(z, sizeof z);
        return fs38_diag_set(diag, FS38_ERR_DECRYPT, "ECDH with the ephemeral key failed");
    }
    fs38_err e = fs38_esdh_kek(z, zlen, info->recipient_protected, info->recipient_protected_len, kek);
    fs38_wipe(z, sizeof z);
    return e ? fs38_diag_set(diag, e, "HKDF failed") : FS38_OK;
}

static FS38_NODISCARD fs38_err unwrap(const uint8_t kek[16], const uint8_t *wrapped, size_t len, uint8_t cek[16], fs38_diag *diag)
{
    mbedtls_nist_kw_context kw;
    size_t olen = 0;
    mbedtls_nist_kw_init(&kw);
    int rc = mbedtls_nist_kw_setkey(&kw, MBEDTLS_CIPHER_ID_AES, kek, 128, 0);
    if (!rc)
        rc = mbedtls_nist_kw_unwrap(&kw, MBEDTLS_KW_MODE_KW, wrapped, len, cek, &olen, 16);
    mbedtls_nist_kw_free(&kw);
    if (rc || olen != 16) {
        fs38_wipe(cek, 16);
        return fs38_diag_set(diag, FS38_ERR_DECRYPT, "CEK unwrap failed (wrong key-encryption key?)");
    }
    return FS38_OK;
}

static FS38_NODISCARD fs38_err start_stream(fs38_decryptor *d, const uint8_t *iv, fs38_diag *diag)
{
    psa_status_t st;
    if (d->info.content_alg == FS38_COSE_ALG_A128CTR) {
        d->cipher = psa_cipher_operation_init();
        st = psa_cipher_decrypt_setup(&d->cipher, d->cek, PSA_ALG_CTR);
        if (st == PSA_SUCCESS)
            st = psa_cipher_set_iv(&d->cipher, iv, 16);
    } else {
        uint8_t aad[64];
        size_t aad_len;
        if (fs38_enc_structure(d->info.content_protected, d->info.content_protected_len, aad, sizeof aad, &aad_len))
            return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "encryption-info: protected header too large");
        d->aead = psa_aead_operation_init();
        st = psa_aead_decrypt_setup(&d->aead, d->cek, PSA_ALG_GCM);
        if (st == PSA_SUCCESS)
            st = psa_aead_set_nonce(&d->aead, iv, 12);
        if (st == PSA_SUCCESS)
            st = psa_aead_update_ad(&d->aead, aad, aad_len);
    }
    return st == PSA_SUCCESS ? FS38_OK : fs38_diag_set(diag, FS38_ERR_CRYPTO, "starting the decryption failed");
}

fs38_err fs38_decrypt_begin(fs38_decryptor *d, const uint8_t *enc, size_t len, const fs38_decrypt_keys *keys,
                           fs38_diag *diag)
{
    memset(d, 0, sizeof *d);
    fs38_err e = fs38_decrypt_parse(enc, len, &d->info, diag);
    if (e)
        return e;
    if (!keys)
        return fs38_diag_set(diag, FS38_ERR_DECRYPT, "no decryption keys");
    uint8_t kek[16], cek[16];
    if (d->info.key_alg == FS38_COSE_ALG_A128KW) {
        if (!keys->kek || keys->kek_len != 16)
            return fs38_diag_set(diag, FS38_ERR_DECRYPT, "no A128KW key-encryption key");
        if (keys->kek_kid && (d->info.kid_len != keys->kek_kid_len ||
                              memcmp(d->info.kid, keys->kek_kid, keys->kek_kid_len) != 0))
            return fs38_diag_set(diag, FS38_ERR_DECRYPT, "encrypted for another key-encryption key (kid)");
        memcpy(kek, keys->kek, 16);
    } else if ((e = esdh_kek(&d->info, keys->ecdh_key, kek, diag))) {
        return e;
    }
    e = unwrap(kek, d->info.wrapped_cek, d->info.wrapped_cek_len, cek, diag);
    fs38_wipe(kek, sizeof kek);
    if (e)
        return e;
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&at, 128);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_DECRYPT);
    psa_set_key_algorithm(&at, d->info.content_alg == FS38_COSE_ALG_A128CTR ? PSA_ALG_CTR : PSA_ALG_GCM);
    psa_status_t st = psa_import_key(&at, cek, sizeof cek, &d->cek);
    fs38_wipe(cek, sizeof cek);
    if (st != PSA_SUCCESS)
        return fs38_diag_set(diag, FS38_ERR_CRYPTO, "importing the CEK failed");
    d->active = true;
    if ((e = start_stream(d, d->info.iv, diag))) {
        fs38_decrypt_abort(d);
        return e;
    }
    return FS38_OK;
}

fs38_err fs38_decrypt_seek(fs38_decryptor *d, uint64_t offset)
{
    if (!d->active || d->info.content_alg != FS38_COSE_ALG_A128CTR)
        return FS38_ERR_STATE;
    if (offset % 16)
        return FS38_ERR_ARG;
    uint8_t ctr[16];
    memcpy(ctr, d->info.iv, 16);
    uint64_t add = offset / 16; /* 128-bit big-endian addition of the block index */
    unsigned carry = 0;
    for (int i = 15; i >= 0; i--) {
        unsigned v = ctr[i] + (unsigned)(add & 0xff) + carry;
        ctr[i] = (uint8_t)v;
        carry = v >> 8;
        add >>= 8;
    }
    psa_cipher_abort(&d->cipher);
    fs38_err e = start_stream(d, ctr, NULL);
    if (e) {
        fs38_decrypt_abort(d); /* no half-restarted stream: the CEK destroyed, d inactive */
        return e;
    }
    d->in_bytes = offset;
    return FS38_OK;
}

fs38_err fs38_decrypt_update(fs38_decryptor *d, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                             size_t *out_len)
{
    *out_len = 0;
    if (!d->active)
        return FS38_ERR_STATE;
    if (cap < len + 16 || (!in && len))
        return FS38_ERR_ARG;
    psa_status_t st = PSA_SUCCESS;
    size_t produced = 0;
    if (d->info.content_alg == FS38_COSE_ALG_A128CTR) {
        st = psa_cipher_update(&d->cipher, in, len, out, cap, &produced);
    } else {
        /* hold back the last 16 bytes seen: they may be the tag */
        size_t total = d->held_len + len;
        if (total <= 16) {
            memcpy(d->held + d->held_len, in, len);
            d->held_len = total;
        } else {
            size_t feed = total - 16, from_held = feed < d->held_len ? feed : d->held_len, o = 0;
            if (from_held)
                st = psa_aead_update(&d->aead, d->held, from_held, out, cap, &o);
            produced = o;
            size_t from_in = feed - from_held;
            if (st == PSA_SUCCESS && from_in) {
                st = psa_aead_update(&d->aead, in, from_in, out + produced, cap - produced, &o);
                produced += o;
            }
            /* new held = rest of old held + rest of input = last 16 bytes */
            uint8_t tmp[16];
            size_t k = 0;
            for (size_t i = from_held; i < d->held_len; i++)
                tmp[k++] = d->held[i];
            memcpy(tmp + k, in + from_in, len - from_in);
            memcpy(d->held, tmp, 16);
            d->held_len = 16;
        }
    }
    if (st != PSA_SUCCESS) {
        fs38_decrypt_abort(d);
        return FS38_ERR_DECRYPT;
    }
    d->in_bytes += len;
    *out_len = produced;
    return FS38_OK;
}

fs38_err fs38_decrypt_finish(fs38_decryptor *d, uint8_t *out, size_t cap, size_t *out_len)
{
    *out_len = 0;
    if (!d->active)
        return FS38_ERR_STATE;
    psa_status_t st = PSA_SUCCESS;
    if (d->info.content_alg == FS38_COSE_ALG_A128CTR) {
        st = psa_cipher_finish(&d->cipher, out, cap, out_len);
    } else if (d->held_len != 16) {
        st = PSA_ERROR_INVALID_SIGNATURE; /* stream shorter than a tag */
    } else {
        st = psa_aead_verify(&d->aead, out, cap, out_len, d->held, 16);
    }
    fs38_decrypt_abort(d);
    return st == PSA_SUCCESS ? FS38_OK : FS38_ERR_DECRYPT;
}

void fs38_decrypt_abort(fs38_decryptor *d)
{
    if (!d->active)
        return;
    if (d->info.content_alg == FS38_COSE_ALG_A128CTR)
        psa_cipher_abort(&d->cipher);
    else
        psa_aead_abort(&d->aead);
    psa_destroy_key(d->cek);
    d->cek = 0;
    fs38_wipe(d->held, sizeof d->held);
    d->held_len = 0;
    d->active = false;
}

uint64_t fs38_decrypt_ciphertext_size(int64_t content_alg, uint64_t n)
{
    return content_alg == FS38_COSE_ALG_A128GCM ? n + 16 : n;
}
