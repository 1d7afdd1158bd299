/* SPDX-License-Identifier: Apache-2.0 */
/* cose.c — COSE_Sign1 (ES256 / ESP256) and COSE_Mac0 (HMAC 256/256), RFC 9052/9053, via PSA. */
#include <string.h>
#include "fs38/cbor.h"
#include "fs38/cose.h"
#include "inner.h"

/* ---- keyring ---- */

void fs38_keyring_init(fs38_keyring *kr)
{
    memset(kr, 0, sizeof *kr);
}

fs38_err fs38_key_id(const uint8_t *point, size_t len, uint8_t kid[FS38_KID_LEN])
{
    uint8_t h[32];
    if (!point || len != 65 || point[0] != 0x04)
        return FS38_ERR_ARG;
    fs38_err e = fs38_sha256(point, len, h);
    if (!e)
        memcpy(kid, h, FS38_KID_LEN);
    return e;
}

static FS38_NODISCARD fs38_err keyring_push(fs38_keyring *kr, psa_key_id_t key, fs38_key_kind kind, bool owned,
                             const uint8_t *kid)
{
    if (kr->n >= FS38_KEYRING_MAX)
        return FS38_ERR_LIMIT;
    fs38_trust_anchor *a = &kr->a[kr->n++];
    a->key = key;
    a->kind = kind;
    a->owned = owned;
    if (kid)
        memcpy(a->kid, kid, FS38_KID_LEN);
    else
        memset(a->kid, 0, FS38_KID_LEN);
    return FS38_OK;
}

fs38_err fs38_keyring_add_p256(fs38_keyring *kr, const uint8_t *point, size_t len)
{
    uint8_t kid[FS38_KID_LEN];
    if (!kr || kr->n >= FS38_KEYRING_MAX)
        return kr ? FS38_ERR_LIMIT : FS38_ERR_ARG;
    fs38_err e = fs38_key_id(point, len, kid);
    if (e)
        return e;
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_VERIFY_HASH);
    psa_set_key_algorithm(&at, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    psa_key_id_t id = 0;
    if (psa_import_key(&at, point, len, &id) != PSA_SUCCESS)
        return FS38_ERR_ARG; /* not a point on P-256 */
    return keyring_push(kr, id, FS38_KEY_P256_VERIFY, true, kid);
}

fs38_err fs38_keyring_add_hmac(fs38_keyring *kr, const uint8_t *key, size_t len)
{
    if (!kr || !key || len < 16 || len > 64)
        return FS38_ERR_ARG;
    if (kr->n >= FS38_KEYRING_MAX)
        return FS38_ERR_LIMIT;
    psa_key_id_t id = 0;
    fs38_err e = fs38_hmac_key_import(key, len, &id);
    if (e != FS38_OK)
        return e;
    return keyring_push(kr, id, FS38_KEY_HMAC256, true, NULL);
}

fs38_err fs38_keyring_add_psa(fs38_keyring *kr, psa_key_id_t key, fs38_key_kind kind)
{
    if (!kr)
        return FS38_ERR_ARG;
    uint8_t kid[FS38_KID_LEN] = { 0 };
    if (kind == FS38_KEY_P256_VERIFY) {
        uint8_t pt[65];
        size_t n = 0;
        if (psa_export_public_key(key, pt, sizeof pt, &n) != PSA_SUCCESS || n != 65)
            return FS38_ERR_ARG;
        fs38_err e = fs38_key_id(pt, n, kid);
        if (e)
            return e;
    }
    return keyring_push(kr, key, kind, false, kid);
}

void fs38_keyring_free(fs38_keyring *kr)
{
    if (!kr)
        return;
    for (size_t i = 0; i < kr->n; i++)
        if (kr->a[i].owned)
            psa_destroy_key(kr->a[i].key);
    memset(kr, 0, sizeof *kr);
}

/* ---- parsing ---- */

typedef struct {
    const uint8_t *protected_p; /* bstr content */
    size_t protected_len;
    int64_t alg;
    bool has_alg;
    const uint8_t *kid;
    size_t kid_len;
    const uint8_t *payload; /* NULL when detached */
    size_t payload_len;
    const uint8_t *tag_or_sig;
    size_t tag_or_sig_len;
} cose_msg;

/* Header map: we read alg (1), crit (2) and kid (4). Other protected labels are skipped (they
 * are signed). The unprotected bucket is not signed, so it may hold nothing but kid, and the
 * kid only selects trust anchors (fs38_cose_sign1_verify): a kid that names no anchor exactly
 * (unknown, altered, shortened, lengthened) is refused, but a kid can be removed, or added
 * with the right value, and the message still verifies (every anchor is tried without one).
 * So every byte of a COSE_Sign1 is checked except the presence of an unprotected kid: the same
 * signature verifies in the message with and without it. (HMAC anchors have no key id: a
 * COSE_Mac0 kid selects nothing and is not checked.) A kid may appear only once (RFC 9052 §3:
 * not in both buckets). */
static FS38_NODISCARD fs38_err parse_headers(fs38_cbor_dec *d, cose_msg *m, bool is_protected, fs38_diag *diag)
{
    size_t n;
    if (fs38_cbor_get_map(d, &n))
        return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "COSE %s header is not a map",
                             is_protected ? "protected" : "unprotected");
    for (size_t i = 0; i < n; i++) {
        int64_t label;
        if (fs38_cbor_get_int(d, &label)) {
            if (!is_protected)
                return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_PARAM, "COSE unprotected header has a text label");
            /* text labels: skip the pair */
            if (fs38_cbor_skip(d) || fs38_cbor_skip(d))
                return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "COSE header malformed");
            continue;
        }
        if (label == 1) {
            if (!is_protected)
                return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "COSE algorithm must be protected");
            if (fs38_cbor_get_int(d, &m->alg))
                return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_ALG, "COSE algorithm is not an integer");
            m->has_alg = true;
        } else if (label == 2) {
            return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_PARAM, "COSE crit header not supported");
        } else if (label == 4) {
            if (m->kid)
                return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "COSE kid appears more than once");
            if (fs38_cbor_get_bstr(d, &m->kid, &m->kid_len))
                return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "COSE kid is not a byte string");
        } else if (!is_protected) {
            return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_PARAM, "unsupported COSE unprotected header %lld",
                                 (long long)label);
        } else if (fs38_cbor_skip(d)) {
            return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "COSE header value malformed");
        }
    }
    return FS38_OK;
}

static FS38_NODISCARD fs38_err parse_msg(const uint8_t *msg, size_t len, uint64_t want_tag, cose_msg *m,
                          fs38_diag *diag)
{
    const char *what = want_tag == FS38_COSE_TAG_SIGN1 ? "COSE_Sign1" : "COSE_Mac0";
    fs38_cbor_dec d;
    memset(m, 0, sizeof *m);
    fs38_cbor_dec_init(&d, msg, len);
    fs38_cbor_head h;
    if (fs38_cbor_peek(&d, &h) == FS38_OK && h.major == FS38_CBOR_TAG) {
        uint64_t tag;
        if (fs38_cbor_get_tag(&d, &tag) != FS38_OK || tag != want_tag)
            return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "%s has tag %llu, expected %llu", what,
                                 (unsigned long long)tag, (unsigned long long)want_tag);
    }
    size_t n;
    if (fs38_cbor_get_array(&d, &n) || n != 4)
        return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "%s is not an array of 4", what);
    if (fs38_cbor_get_bstr(&d, &m->protected_p, &m->protected_len))
        return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "%s protected header is not a bstr", what);
    if (m->protected_len) {
        fs38_cbor_dec pd;
        fs38_cbor_dec_init(&pd, m->protected_p, m->protected_len);
        fs38_err e = parse_headers(&pd, m, true, diag);
        if (e)
            return e;
        if (!fs38_cbor_at_end(&pd))
            return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "%s protected header has trailing bytes", what);
    }
    fs38_err e = parse_headers(&d, m, false, diag);
    if (e)
        return e;
    if (fs38_cbor_next_is_null(&d)) {
        if (fs38_cbor_get_null(&d) != FS38_OK)
            return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "%s payload is malformed", what);
        m->payload = NULL;
    } else if (fs38_cbor_get_bstr(&d, &m->payload, &m->payload_len)) {
        return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "%s payload is neither bstr nor null", what);
    }
    if (fs38_cbor_get_bstr(&d, &m->tag_or_sig, &m->tag_or_sig_len))
        return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "%s %s is not a bstr", what,
                             want_tag == FS38_COSE_TAG_SIGN1 ? "signature" : "tag");
    if (!fs38_cbor_at_end(&d))
        return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "%s has trailing bytes", what);
    if (!m->has_alg)
        return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_ALG, "%s has no protected algorithm", what);
    return FS38_OK;
}

/* Pick the payload: attached, or the caller's detached bytes (exactly one of them). */
static FS38_NODISCARD fs38_err pick_payload(cose_msg *m, const uint8_t *detached, size_t detached_len, fs38_diag *diag)
{
    if (m->payload) {
        if (detached)
            return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "COSE payload attached but detached bytes given");
        return FS38_OK;
    }
    if (!detached)
        return fs38_diag_set(diag, FS38_ERR_COSE_FORMAT, "COSE payload detached and not supplied");
    m->payload = detached;
    m->payload_len = detached_len;
    return FS38_OK;
}

/* Feed the CBOR head of a bstr/tstr of length n followed by its content to a hash or MAC. */
typedef psa_status_t (*feed_fn)(void *op, const uint8_t *p, size_t n);

static psa_status_t feed_hash(void *op, const uint8_t *p, size_t n)
{
    return psa_hash_update(op, p, n);
}

static psa_status_t feed_mac(void *op, const uint8_t *p, size_t n)
{
    return psa_mac_update(op, p, n);
}

static psa_status_t feed_item(feed_fn f, void *op, uint8_t major, const uint8_t *p, size_t n)
{
    uint8_t head[9];
    size_t hl = fs38_cbor_encode_head(major, n, head);
    psa_status_t st = f(op, head, hl);
    if (st == PSA_SUCCESS && n)
        st = f(op, p, n);
    return st;
}

/* Sig_structure / MAC_structure = [context, body_protected, external_aad, payload] */
static psa_status_t feed_structure(feed_fn f, void *op, const char *context, const cose_msg *m,
                                   const uint8_t *aad, size_t aad_len)
{
    static const uint8_t arr4 = 0x84;
    psa_status_t st = f(op, &arr4, 1);
    if (st == PSA_SUCCESS)
        st = feed_item(f, op, FS38_CBOR_TSTR, (const uint8_t *)context, strlen(context));
    if (st == PSA_SUCCESS)
        st = feed_item(f, op, FS38_CBOR_BSTR, m->protected_p, m->protected_len);
    if (st == PSA_SUCCESS)
        st = feed_item(f, op, FS38_CBOR_BSTR, aad, aad ? aad_len : 0);
    if (st == PSA_SUCCESS)
        st = feed_item(f, op, FS38_CBOR_BSTR, m->payload, m->payload_len);
    return st;
}

static FS38_NODISCARD fs38_err sig_structure_hash(const cose_msg *m, const uint8_t *aad, size_t aad_len, uint8_t out[32])
{
    psa_hash_operation_t op = PSA_HASH_OPERATION_INIT;
    size_t olen = 0;
    psa_status_t st = psa_hash_setup(&op, PSA_ALG_SHA_256);
    if (st == PSA_SUCCESS)
        st = feed_structure(feed_hash, &op, "Signature1", m, aad, aad_len);
    if (st == PSA_SUCCESS)
        st = psa_hash_finish(&op, out, 32, &olen);
    if (st != PSA_SUCCESS) {
        psa_hash_abort(&op);
        return FS38_ERR_CRYPTO;
    }
    return FS38_OK;
}

static void fill_info(fs38_cose_info *info, const cose_msg *m, size_t signer, bool attached)
{
    if (!info)
        return;
    info->alg = m->alg;
    info->kid = m->kid;
    info->kid_len = m->kid_len;
    info->payload = attached ? m->payload : NULL;
    info->payload_len = attached ? m->payload_len : 0;
    info->signer = signer;
}

fs38_err fs38_cose_sign1_verify(const uint8_t *msg, size_t len, const uint8_t *detached,
                                size_t detached_len, const uint8_t *aad, size_t aad_len,
                                const fs38_keyring *kr, fs38_cose_info *info, fs38_diag *diag)
{
    cose_msg m;
    if (!msg || !kr)
        return fs38_diag_set(diag, FS38_ERR_ARG, "no message or keyring");
    fs38_err e = parse_msg(msg, len, FS38_COSE_TAG_SIGN1, &m, diag);
    if (e)
        return e;
    bool attached = m.payload != NULL;
    if (m.alg != FS38_COSE_ALG_ES256 && m.alg != FS38_COSE_ALG_ESP256)
        return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_ALG, "unsupported algorithm %lld", (long long)m.alg);
    if ((e = pick_payload(&m, detached, detached_len, diag)))
        return e;
    if (m.tag_or_sig_len != 64)
        return fs38_diag_set(diag, FS38_ERR_BAD_SIGNATURE, "signature is %zu bytes, expected 64 (r||s)",
                             m.tag_or_sig_len);
    uint8_t hash[32];
    if ((e = sig_structure_hash(&m, aad, aad_len, hash)))
        return fs38_diag_set(diag, e, "hashing the Sig_structure failed");
    /* kid rule: absent, every P-256 anchor is tried; present, it must be an 8-byte fs38 key id
     * equal to an anchor's, and only that anchor is tried. Any other kid is refused. */
    if (m.kid && m.kid_len != FS38_KID_LEN) {
        char hex[2 * FS38_KID_LEN + 1];
        size_t show = m.kid_len < FS38_KID_LEN ? m.kid_len : FS38_KID_LEN;
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < show; i++) {
            hex[2 * i] = digits[m.kid[i] >> 4];
            hex[2 * i + 1] = digits[m.kid[i] & 15];
        }
        hex[2 * show] = '\0';
        return fs38_diag_set(diag, FS38_ERR_UNTRUSTED_SIGNER,
                             "signer key id %s%s is %zu bytes, not an 8-byte fs38 key id: not trusted", hex,
                             m.kid_len > FS38_KID_LEN ? "..." : "", m.kid_len);
    }
    bool kid_usable = m.kid != NULL;
    size_t tried = 0;
    for (size_t i = 0; i < kr->n; i++) {
        const fs38_trust_anchor *a = &kr->a[i];
        if (a->kind != FS38_KEY_P256_VERIFY)
            continue;
        if (kid_usable && memcmp(a->kid, m.kid, FS38_KID_LEN) != 0)
            continue;
        tried++;
        if (psa_verify_hash(a->key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, sizeof hash, m.tag_or_sig,
                            m.tag_or_sig_len) == PSA_SUCCESS) {
            fill_info(info, &m, i, attached);
            return FS38_OK;
        }
    }
    if (kid_usable && tried == 0) {
        char hex[2 * FS38_KID_LEN + 1];
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < FS38_KID_LEN; i++) {
            hex[2 * i] = digits[m.kid[i] >> 4];
            hex[2 * i + 1] = digits[m.kid[i] & 15];
        }
        hex[sizeof hex - 1] = '\0';
        return fs38_diag_set(diag, FS38_ERR_UNTRUSTED_SIGNER, "signer key id %s is not trusted", hex);
    }
    return fs38_diag_set(diag, FS38_ERR_BAD_SIGNATURE, "signature does not verify with any of %zu trusted key(s)",
                         tried);
}

fs38_err fs38_cose_mac0_verify(const uint8_t *msg, size_t len, const uint8_t *detached,
                               size_t detached_len, const uint8_t *aad, size_t aad_len,
                               const fs38_keyring *kr, fs38_cose_info *info, fs38_diag *diag)
{
    cose_msg m;
    if (!msg || !kr)
        return fs38_diag_set(diag, FS38_ERR_ARG, "no message or keyring");
    fs38_err e = parse_msg(msg, len, FS38_COSE_TAG_MAC0, &m, diag);
    if (e)
        return e;
    bool attached = m.payload != NULL;
    if (m.alg != FS38_COSE_ALG_HMAC256)
        return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_ALG, "unsupported algorithm %lld", (long long)m.alg);
    if ((e = pick_payload(&m, detached, detached_len, diag)))
        return e;
    if (m.tag_or_sig_len != 32)
        return fs38_diag_set(diag, FS38_ERR_BAD_MAC, "MAC tag is %zu bytes, expected 32", m.tag_or_sig_len);
    size_t tried = 0;
    for (size_t i = 0; i < kr->n; i++) {
        if (kr->a[i].kind != FS38_KEY_HMAC256)
            continue;
        tried++;
        psa_mac_operation_t op = PSA_MAC_OPERATION_INIT;
        psa_status_t st = psa_mac_verify_setup(&op, kr->a[i].key, PSA_ALG_HMAC(PSA_ALG_SHA_256));
        if (st == PSA_SUCCESS)
            st = feed_structure(feed_mac, &op, "MAC0", &m, aad, aad_len);
        if (st == PSA_SUCCESS)
            st = psa_mac_verify_finish(&op, m.tag_or_sig, m.tag_or_sig_len); /* constant-time */
        if (st == PSA_SUCCESS) {
            fill_info(info, &m, i, attached);
            return FS38_OK;
        }
        psa_mac_abort(&op);
    }
    return fs38_diag_set(diag, FS38_ERR_BAD_MAC, "MAC does not verify with any of %zu trusted key(s)", tried);
}

/* ---- producing ---- */

static FS38_NODISCARD fs38_err encode_msg(uint64_t tag, const uint8_t *prot, size_t prot_len, const uint8_t *kid,
                           size_t kid_len, const uint8_t *payload, size_t payload_len, bool detached,
                           const uint8_t *sig, size_t sig_len, uint8_t *out, size_t cap, size_t *out_len)
{
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, out, cap);
    fs38_cbor_put_tag(&e, tag);
    fs38_cbor_put_array(&e, 4);
    fs38_cbor_put_bstr(&e, prot, prot_len);
    if (kid && kid_len) {
        fs38_cbor_put_map(&e, 1);
        fs38_cbor_put_uint(&e, 4);
        fs38_cbor_put_bstr(&e, kid, kid_len);
    } else {
        fs38_cbor_put_map(&e, 0);
    }
    if (detached)
        fs38_cbor_put_null(&e);
    else
        fs38_cbor_put_bstr(&e, payload, payload_len);
    fs38_cbor_put_bstr(&e, sig, sig_len);
    return fs38_cbor_enc_finish(&e, out_len);
}

fs38_err fs38_cose_sign1_sign_key(const fs38_key *key, int64_t alg, const uint8_t *kid, size_t kid_len,
                                  const uint8_t *payload, size_t payload_len, bool detached,
                                  uint8_t *out, size_t cap, size_t *out_len)
{
    if (alg != FS38_COSE_ALG_ES256 && alg != FS38_COSE_ALG_ESP256)
        return FS38_ERR_UNSUPPORTED_ALG;
    if (!key || (!payload && payload_len))
        return FS38_ERR_ARG;
    uint8_t prot[4];
    fs38_cbor_enc pe;
    fs38_cbor_enc_init(&pe, prot, sizeof prot);
    fs38_cbor_put_map(&pe, 1);
    fs38_cbor_put_uint(&pe, 1);
    fs38_cbor_put_int(&pe, alg);
    cose_msg m;
    memset(&m, 0, sizeof m);
    m.protected_p = prot;
    m.protected_len = pe.len;
    m.payload = payload ? payload : (const uint8_t *)"";
    m.payload_len = payload_len;
    uint8_t hash[32], sig[FS38_KEY_SIG_LEN];
    fs38_err e = sig_structure_hash(&m, NULL, 0, hash);
    if (e)
        return e;
    e = fs38_key_sign_hash(key, hash, sig);
    if (e == FS38_ERR_ARG || e == FS38_ERR_UNSUPPORTED_ALG)
        e = FS38_ERR_CRYPTO;
    if (e)
        return e;
    return encode_msg(FS38_COSE_TAG_SIGN1, prot, pe.len, kid, kid_len, payload, payload_len, detached, sig,
                      sizeof sig, out, cap, out_len);
}

fs38_err fs38_cose_sign1_sign(psa_key_id_t key, int64_t alg, const uint8_t *kid, size_t kid_len,
                              const uint8_t *payload, size_t payload_len, bool detached,
                              uint8_t *out, size_t cap, size_t *out_len)
{
    fs38_key k;
    if (alg != FS38_COSE_ALG_ES256 && alg != FS38_COSE_ALG_ESP256)
        return FS38_ERR_UNSUPPORTED_ALG;
    if (!payload && payload_len)
        return FS38_ERR_ARG;
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    if (key == 0 || psa_get_key_attributes(key, &at) != PSA_SUCCESS)
        return FS38_ERR_ARG;
    psa_reset_key_attributes(&at);
    fs38_err e = fs38_key_psa(&k, key);
    if (e)
        return e;
    e = fs38_cose_sign1_sign_key(&k, alg, kid, kid_len, payload, payload_len, detached, out, cap, out_len);
    return e == FS38_ERR_NOT_FOUND || e == FS38_ERR_STORE_FULL || e == FS38_ERR_IO ? FS38_ERR_CRYPTO : e;
}

fs38_err fs38_cose_mac0_create(psa_key_id_t key, const uint8_t *payload, size_t payload_len,
                               bool detached, uint8_t *out, size_t cap, size_t *out_len)
{
    static const uint8_t prot[] = { 0xa1, 0x01, 0x05 };
    if (!payload && payload_len)
        return FS38_ERR_ARG; /* as fs38_cose_sign1_sign: never read past an absent payload */
    cose_msg m;
    memset(&m, 0, sizeof m);
    m.protected_p = prot;
    m.protected_len = sizeof prot;
    m.payload = payload ? payload : (const uint8_t *)"";
    m.payload_len = payload_len;
    uint8_t tag[32];
    size_t tag_len = 0;
    psa_mac_operation_t op = PSA_MAC_OPERATION_INIT;
    psa_status_t st = psa_mac_sign_setup(&op, key, PSA_ALG_HMAC(PSA_ALG_SHA_256));
    if (st == PSA_SUCCESS)
        st = feed_structure(feed_mac, &op, "MAC0", &m, NULL, 0);
    if (st == PSA_SUCCESS)
        st = psa_mac_sign_finish(&op, tag, sizeof tag, &tag_len);
    if (st != PSA_SUCCESS) {
        psa_mac_abort(&op);
        return FS38_ERR_CRYPTO;
    }
    return encode_msg(FS38_COSE_TAG_MAC0, prot, sizeof prot, NULL, 0, payload, payload_len, detached, tag,
                      tag_len, out, cap, out_len);
}
