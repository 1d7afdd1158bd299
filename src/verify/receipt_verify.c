/* SPDX-License-Identifier: Apache-2.0 */
/* receipt_verify.c — verifying decommissioning receipts on the fleet side (control 12): COSE_Sign1
 * signature, claims, nonce. The device side is src/identity/decommission.c; the format is in
 * fs38/decommission.h. */
#include <string.h>
#include "fs38/decommission.h"
#include "fs38/cbor.h"
#include "fs38/util.h"
#include "inner.h"

enum {
    R_UEID = FS38_SEEN_UEID,
    R_SWNAME = FS38_SEEN_SWNAME,
    R_SWVER = FS38_SEEN_SWVER,
    R_LC = FS38_SEEN_OWN,
    R_TYPE = FS38_SEEN_OWN << 1,
    R_ERASED = FS38_SEEN_OWN << 2
};

static FS38_NODISCARD fs38_err get_u32(fs38_cbor_dec *dec, uint32_t *v)
{
    uint64_t x;
    fs38_err e = fs38_cbor_get_uint(dec, &x);
    if (e == FS38_OK && x > UINT32_MAX)
        e = FS38_ERR_CLAIMS;
    *v = (uint32_t)x;
    return e;
}

static FS38_NODISCARD fs38_err erased(fs38_cbor_dec *dec, fs38_receipt_claims *c, fs38_diag *d)
{
    size_t n, m;
    uint64_t k;
    bool have_keys = false, have_regions = false;
    if (fs38_cbor_get_map(dec, &n) != FS38_OK || n != 2)
        return fs38_diag_set(d, FS38_ERR_CLAIMS, "fs38-erased is not a map of keys and regions");
    for (size_t i = 0; i < n; i++) {
        if (fs38_cbor_get_uint(dec, &k) != FS38_OK || (k != FS38_RECEIPT_ERASED_KEYS && k != FS38_RECEIPT_ERASED_REGIONS) ||
            (k == FS38_RECEIPT_ERASED_KEYS ? have_keys : have_regions))
            return fs38_diag_set(d, FS38_ERR_CLAIMS, "fs38-erased has an unknown or duplicate member");
        if (fs38_cbor_get_array(dec, &m) != FS38_OK)
            return fs38_diag_set(d, FS38_ERR_CLAIMS, "fs38-erased member is not an array");
        if (k == FS38_RECEIPT_ERASED_KEYS) {
            have_keys = true;
            if (m > FS38_DECOM_MAX_KEYS + 1u)
                return fs38_diag_set(d, FS38_ERR_CLAIMS, "too many keys in the receipt");
            for (size_t j = 0; j < m; j++)
                if (get_u32(dec, &c->keys[j]) != FS38_OK)
                    return fs38_diag_set(d, FS38_ERR_CLAIMS, "invalid key id in the receipt");
            c->n_keys = m;
        } else {
            have_regions = true;
            if (m > FS38_DECOM_MAX_REGIONS + 1u)
                return fs38_diag_set(d, FS38_ERR_CLAIMS, "too many regions in the receipt");
            for (size_t j = 0; j < m; j++) {
                size_t three;
                fs38_receipt_region *r = &c->regions[j];
                if (fs38_cbor_get_array(dec, &three) != FS38_OK || three != 3 ||
                    fs38_claim_name(dec, r->name) != FS38_OK || get_u32(dec, &r->offset) != FS38_OK ||
                    get_u32(dec, &r->size) != FS38_OK)
                    return fs38_diag_set(d, FS38_ERR_CLAIMS, "invalid region in the receipt");
            }
            c->n_regions = m;
        }
    }
    return FS38_OK;
}

static FS38_NODISCARD fs38_err receipt_claim(void *user, int64_t key, fs38_cbor_dec *dec, unsigned *seen, bool *known,
                                     fs38_diag *d)
{
    fs38_receipt_claims *c = user;
    fs38_err e = FS38_OK;
    uint64_t v = 0;
    size_t n = 0;
    const char *t;
    *known = true;
    switch (key) {
    case FS38_CLAIM_LIFECYCLE:
        e = fs38_cbor_get_uint(dec, &v);
        if (e == FS38_OK && v != FS38_LIFECYCLE_DECOMMISSIONED)
            e = FS38_ERR_CLAIMS;
        c->lifecycle = (fs38_lifecycle)v;
        *seen |= R_LC;
        break;
    case FS38_CLAIM_RECEIPT:
        e = fs38_cbor_get_tstr(dec, &t, &n);
        if (e == FS38_OK && (n != sizeof FS38_RECEIPT_TYPE - 1u || memcmp(t, FS38_RECEIPT_TYPE, n) != 0))
            return fs38_diag_set(d, FS38_ERR_CLAIMS, "not a decommissioning receipt");
        *seen |= R_TYPE;
        break;
    case FS38_CLAIM_ERASED:
        *seen |= R_ERASED;
        return erased(dec, c, d);
    case FS38_CLAIM_CERT_DIGEST:
        e = fs38_claim_bytes(dec, c->cert_digest, 32, 32, &n);
        c->has_cert_digest = e == FS38_OK;
        break;
    case FS38_CLAIM_MEASUREMENTS:
        return fs38_diag_set(d, FS38_ERR_CLAIMS, "this is an attestation token, not a receipt");
    default:
        *known = false;
        return FS38_OK;
    }
    if (e != FS38_OK)
        return fs38_diag_set(d, FS38_ERR_CLAIMS, "claim %lld has an invalid value", (long long)key);
    return FS38_OK;
}

fs38_err fs38_receipt_parse(const uint8_t *claims, size_t len, fs38_receipt_claims *c, fs38_diag *diag)
{
    if (!c)
        return FS38_ERR_ARG;
    memset(c, 0, sizeof *c);
    static const fs38_claim_required required[] = { { R_TYPE, "fs38-receipt" }, { R_UEID, "ueid" },
                                                    { R_SWNAME, "swname" },       { R_SWVER, "swversion" },
                                                    { R_LC, "fs38-lifecycle" },   { R_ERASED, "fs38-erased" } };
    const fs38_claims_common common = { &c->iat,      &c->has_iat, c->nonce,     &c->nonce_len,     c->ueid,
                                        &c->ueid_len, c->swname,   c->swversion, &c->version_scheme };
    return fs38_claims_walk(claims, len, &common, receipt_claim, c, required, sizeof required / sizeof required[0],
                            diag);
}

static FS38_NODISCARD fs38_err parse_receipt(const uint8_t *claims, size_t len, void *c, fs38_diag *diag)
{
    return fs38_receipt_parse(claims, len, c, diag);
}

fs38_err fs38_receipt_verify(const uint8_t *receipt, size_t len, const fs38_keyring *kr, const uint8_t *nonce,
                             size_t nonce_len, fs38_receipt_claims *c, fs38_cose_info *info, fs38_diag *diag)
{
    return fs38_claims_verify(receipt, len, kr, nonce, nonce_len, parse_receipt, c, sizeof *c, c ? c->nonce : NULL,
                              c ? &c->nonce_len : NULL, "the receipt's nonce is not the expected one", info, diag);
}

