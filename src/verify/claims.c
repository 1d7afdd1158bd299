/* SPDX-License-Identifier: Apache-2.0 */
/* claims.c — reading the claims maps of EAT tokens and decommissioning receipts (the verifier
 * side of controls 8 and 12): bounded walk, duplicate keys refused, typed claim readers.
 * Contracts in src/inner.h. */
#include <string.h>
#include "fs38/cbor.h"
#include "fs38/cose.h"
#include "fs38/util.h"
#include "inner.h"

#define MAX_CLAIMS 32u /* claims in one map (keeps the duplicate check bounded) */

static FS38_NODISCARD fs38_err bad(fs38_diag *d, const char *what)
{
    return fs38_diag_set(d, FS38_ERR_CLAIMS, "%s", what);
}

static FS38_NODISCARD fs38_err claims_require(unsigned seen, const fs38_claim_required *req, size_t n, fs38_diag *d)
{
    for (size_t i = 0; i < n; i++)
        if (!(seen & req[i].bit))
            return fs38_diag_set(d, FS38_ERR_CLAIMS, "claim %s is missing", req[i].name);
    return FS38_OK;
}

fs38_err fs38_claim_bytes(fs38_cbor_dec *dec, uint8_t *out, size_t min, size_t max, size_t *len)
{
    const uint8_t *p;
    size_t n;
    fs38_err e = fs38_cbor_get_bstr(dec, &p, &n);
    if (e != FS38_OK)
        return e;
    if (n < min || n > max)
        return FS38_ERR_CLAIMS;
    memcpy(out, p, n);
    *len = n;
    return FS38_OK;
}

/* A text string of 1..FS38_EAT_NAME_MAX-1 printable ASCII characters. */
fs38_err fs38_claim_name(fs38_cbor_dec *dec, char out[FS38_EAT_NAME_MAX])
{
    const char *p;
    size_t n;
    fs38_err e = fs38_cbor_get_tstr(dec, &p, &n);
    if (e != FS38_OK)
        return e;
    if (n == 0 || n >= FS38_EAT_NAME_MAX)
        return FS38_ERR_CLAIMS;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return FS38_ERR_CLAIMS;
    memcpy(out, p, n);
    out[n] = 0;
    return FS38_OK;
}

/* Read the next map key (int or text); its raw span goes to *raw for the duplicate check.
 * *is_int tells whether it is an integer key (then *key holds it). */
static FS38_NODISCARD fs38_err get_key(fs38_cbor_dec *dec, int64_t *key, bool *is_int, const uint8_t **raw, size_t *raw_len)
{
    fs38_cbor_dec probe = *dec;
    fs38_err e = fs38_cbor_get_raw(&probe, raw, raw_len);
    if (e != FS38_OK)
        return e;
    *is_int = fs38_cbor_get_int(dec, key) == FS38_OK;
    if (*is_int)
        return FS38_OK;
    if (!fs38_cbor_next_is(dec, FS38_CBOR_TSTR))
        return FS38_ERR_CLAIMS;
    *dec = probe;
    return FS38_OK;
}

/* A shared claim (iat, nonce, ueid, swname, swversion) into f: *handled false for any other key. */
static FS38_NODISCARD fs38_err read_common(const fs38_claims_common *f, int64_t key, fs38_cbor_dec *dec, unsigned *seen,
                                           bool *handled)
{
    fs38_err e = FS38_OK;
    *handled = true;
    switch (key) {
    case FS38_CLAIM_IAT:
        e = fs38_cbor_get_int(dec, f->iat);
        *f->has_iat = e == FS38_OK;
        break;
    case FS38_CLAIM_NONCE:
        e = fs38_claim_bytes(dec, f->nonce, FS38_EAT_NONCE_MIN, FS38_EAT_NONCE_MAX, f->nonce_len);
        *seen |= FS38_SEEN_NONCE;
        break;
    case FS38_CLAIM_UEID:
        e = fs38_claim_bytes(dec, f->ueid, 7, FS38_EAT_UEID_MAX, f->ueid_len);
        *seen |= FS38_SEEN_UEID;
        break;
    case FS38_CLAIM_SWNAME:
        e = fs38_claim_name(dec, f->swname);
        *seen |= FS38_SEEN_SWNAME;
        break;
    case FS38_CLAIM_SWVERSION:
        e = fs38_claim_swversion(dec, f->swversion, f->version_scheme);
        *seen |= FS38_SEEN_SWVER;
        break;
    default:
        *handled = false;
    }
    return e;
}

fs38_err fs38_claims_walk(const uint8_t *buf, size_t len, const fs38_claims_common *common, fs38_claim_fn cb, void *user,
                          const fs38_claim_required *req, size_t n_req, fs38_diag *d)
{
    unsigned seen = 0;
    fs38_cbor_dec dec;
    size_t n;
    const uint8_t *keys[MAX_CLAIMS];
    size_t key_len[MAX_CLAIMS];
    if (!buf)
        return bad(d, "no claims");
    fs38_cbor_dec_init(&dec, buf, len);
    if (fs38_cbor_get_map(&dec, &n) != FS38_OK)
        return bad(d, "claims are not a CBOR map");
    if (n > MAX_CLAIMS)
        return bad(d, "too many claims");
    for (size_t i = 0; i < n; i++) {
        int64_t key = 0;
        bool is_int = false, known = false;
        if (get_key(&dec, &key, &is_int, &keys[i], &key_len[i]) != FS38_OK)
            return bad(d, "claim key is neither an integer nor a text string");
        for (size_t j = 0; j < i; j++)
            if (key_len[j] == key_len[i] && memcmp(keys[j], keys[i], key_len[i]) == 0)
                return fs38_diag_set(d, FS38_ERR_CLAIMS, "duplicate claim %lld", (long long)key);
        if (is_int) {
            fs38_err e = read_common(common, key, &dec, &seen, &known);
            if (known && e != FS38_OK)
                return fs38_diag_set(d, FS38_ERR_CLAIMS, "claim %lld has an invalid value", (long long)key);
            if (!known && (e = cb(user, key, &dec, &seen, &known, d)) != FS38_OK)
                return e;
        }
        if (!known && fs38_cbor_skip(&dec) != FS38_OK)
            return bad(d, "malformed claim value");
    }
    if (!fs38_cbor_at_end(&dec))
        return bad(d, "bytes after the claims map");
    return claims_require(seen, req, n_req, d);
}

fs38_err fs38_claim_swversion(fs38_cbor_dec *dec, char out[FS38_EAT_NAME_MAX], int64_t *scheme)
{
    size_t n;
    fs38_err e = fs38_cbor_get_array(dec, &n);
    if (e == FS38_OK && (n < 1 || n > 2))
        e = FS38_ERR_CLAIMS;
    if (e == FS38_OK)
        e = fs38_claim_name(dec, out);
    *scheme = 0;
    if (e == FS38_OK && n == 2)
        e = fs38_cbor_get_int(dec, scheme);
    return e;
}

fs38_err fs38_claims_verify(const uint8_t *msg, size_t len, const fs38_keyring *kr, const uint8_t *nonce, size_t nonce_len,
                            fs38_claims_parse_fn parse, void *c, size_t c_size, const uint8_t *c_nonce,
                            const size_t *c_nonce_len, const char *nonce_why, fs38_cose_info *info, fs38_diag *diag)
{
    fs38_cose_info local;
    if (!c || !kr || (!nonce && nonce_len))
        return FS38_ERR_ARG;
    memset(c, 0, c_size);
    if (!info)
        info = &local;
    fs38_err e = fs38_cose_sign1_verify(msg, len, NULL, 0, NULL, 0, kr, info, diag);
    if (e == FS38_OK)
        e = parse(info->payload, info->payload_len, c, diag);
    if (e == FS38_OK && nonce && (*c_nonce_len != nonce_len || fs38_ct_compare(c_nonce, nonce, nonce_len) != 0))
        e = fs38_diag_set(diag, FS38_ERR_NONCE, "%s", nonce_why);
    return e;
}
