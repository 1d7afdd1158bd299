/* SPDX-License-Identifier: Apache-2.0 */
/* eat_verify.c — verifying Entity Attestation Tokens (RFC 9711) on the fleet side (control 8):
 * COSE_Sign1 signature, claims, nonce. The device side (encoding, signing) is
 * src/identity/attest.c; format in docs/formats-eat.md. */
#include <string.h>
#include "fs38/attest.h"
#include "fs38/cbor.h"
#include "fs38/util.h"
#include "inner.h"

static FS38_NODISCARD fs38_err bad(fs38_diag *d, const char *what)
{
    return fs38_diag_set(d, FS38_ERR_CLAIMS, "%s", what);
}

static FS38_NODISCARD fs38_err get_digest(fs38_cbor_dec *dec, uint8_t out[32])
{
    size_t n;
    int64_t alg;
    fs38_err e = fs38_cbor_get_array(dec, &n);
    if (e == FS38_OK && n != 2)
        e = FS38_ERR_CLAIMS;
    if (e == FS38_OK)
        e = fs38_cbor_get_int(dec, &alg);
    if (e == FS38_OK && alg != FS38_COSE_HASH_SHA256)
        e = FS38_ERR_CLAIMS;
    if (e == FS38_OK)
        e = fs38_claim_bytes(dec, out, 32, 32, &n);
    return e;
}

static FS38_NODISCARD fs38_err get_measurement(fs38_cbor_dec *dec, fs38_measurement *m, fs38_diag *d)
{
    size_t n;
    unsigned seen = 0;
    memset(m, 0, sizeof *m);
    if (fs38_cbor_get_map(dec, &n) != FS38_OK || n > 8)
        return bad(d, "measurement is not a map of at most 8 entries");
    for (size_t i = 0; i < n; i++) {
        uint64_t k, v;
        fs38_err e = fs38_cbor_get_uint(dec, &k);
        if (e != FS38_OK || k < FS38_MKEY_NAME || k > FS38_MKEY_BOOTED)
            return bad(d, "measurement has an unknown key");
        if (seen & (1u << k))
            return bad(d, "measurement has a duplicate key");
        seen |= 1u << k;
        size_t dl;
        switch (k) {
        case FS38_MKEY_NAME: e = fs38_claim_name(dec, m->name); break;
        case FS38_MKEY_STATUS:
            e = fs38_cbor_get_uint(dec, &v);
            if (e == FS38_OK && v > FS38_MEAS_EMPTY)
                e = FS38_ERR_CLAIMS;
            m->status = (fs38_meas_status)v;
            break;
        case FS38_MKEY_SEQUENCE: e = fs38_cbor_get_uint(dec, &m->sequence); break;
        case FS38_MKEY_IMAGE: e = get_digest(dec, m->image_digest); break;
        case FS38_MKEY_MANIFEST: e = get_digest(dec, m->manifest_digest); break;
        case FS38_MKEY_SIGNER: e = fs38_claim_bytes(dec, m->signer_kid, FS38_KID_LEN, FS38_KID_LEN, &dl); break;
        default: /* FS38_MKEY_BOOTED */
            e = fs38_cbor_get_bool(dec, &m->booted);
            if (e == FS38_OK && !m->booted)
                e = FS38_ERR_CLAIMS; /* present only as true */
            break;
        }
        if (e != FS38_OK)
            return bad(d, "measurement has an invalid value");
    }
    const unsigned base = 1u << FS38_MKEY_NAME | 1u << FS38_MKEY_STATUS;
    const unsigned all = 1u << FS38_MKEY_SEQUENCE | 1u << FS38_MKEY_IMAGE | 1u << FS38_MKEY_MANIFEST | 1u << FS38_MKEY_SIGNER;
    const unsigned has = seen & all;
    if ((seen & base) != base)
        return bad(d, "measurement without slot name or status");
    /* sequence, digests and signer: all of them exactly when the slot verified */
    if ((has != 0 && has != all) || (m->status == FS38_MEAS_VERIFIED) != (has == all))
        return bad(d, "measurement digests do not match its status");
    return FS38_OK;
}

enum {
    S_NONCE = FS38_SEEN_NONCE,
    S_UEID = FS38_SEEN_UEID,
    S_SWNAME = FS38_SEEN_SWNAME,
    S_SWVER = FS38_SEEN_SWVER,
    S_DBG = FS38_SEEN_OWN,
    S_MEAS = FS38_SEEN_OWN << 1,
    S_LC = FS38_SEEN_OWN << 2,
    S_DEBUG = FS38_SEEN_OWN << 3,
    S_SERVICES = FS38_SEEN_OWN << 4,
    S_SECBOOT = FS38_SEEN_OWN << 5
};

/* A tstr that check accepts, copied NUL-terminated into out (cap bytes). */
static FS38_NODISCARD fs38_err get_text(fs38_cbor_dec *dec, char *out, size_t cap, bool (*check)(const char *, size_t))
{
    const char *t;
    size_t n;
    fs38_err e = fs38_cbor_get_tstr(dec, &t, &n);
    if (e != FS38_OK || n >= cap || !check(t, n))
        return FS38_ERR_CLAIMS;
    memcpy(out, t, n);
    out[n] = 0;
    return FS38_OK;
}

typedef struct eat_walk {
    fs38_eat_claims *c;
    unsigned seen; /* a copy of the walker's bits: the security claims go together */
} eat_walk;

static FS38_NODISCARD fs38_err eat_claim1(fs38_eat_claims *c, int64_t key, fs38_cbor_dec *dec, unsigned *seen, bool *known,
                                          fs38_diag *d);

static FS38_NODISCARD fs38_err eat_claim(void *user, int64_t key, fs38_cbor_dec *dec, unsigned *seen, bool *known,
                                     fs38_diag *d)
{
    eat_walk *w = user;
    fs38_err e = eat_claim1(w->c, key, dec, seen, known, d);
    w->seen = *seen;
    return e;
}

static fs38_err eat_claim1(fs38_eat_claims *c, int64_t key, fs38_cbor_dec *dec, unsigned *seen, bool *known,
                           fs38_diag *d)
{
    fs38_err e = FS38_OK;
    uint64_t v = 0;
    size_t n = 0;
    *known = true;
    switch (key) {
    case FS38_CLAIM_OEMID:
        e = fs38_claim_bytes(dec, c->oemid, 3, 16, &c->oemid_len);
        break;
    case FS38_CLAIM_HWMODEL:
        e = fs38_claim_bytes(dec, c->hwmodel, 1, FS38_EAT_HWMODEL_MAX, &c->hwmodel_len);
        break;
    case FS38_CLAIM_DBGSTAT:
        e = fs38_cbor_get_uint(dec, &v);
        if (e == FS38_OK && v > FS38_DBG_DISABLED_FULLY_AND_PERMANENTLY)
            e = FS38_ERR_CLAIMS;
        c->dbgstat = (fs38_dbgstat)v;
        *seen |= S_DBG;
        break;
    case FS38_CLAIM_MEASUREMENTS:
        e = fs38_cbor_get_array(dec, &n);
        if (e != FS38_OK)
            return bad(d, "fs38-measurements is not an array");
        if (n > FS38_EAT_MAX_MEASUREMENTS)
            return bad(d, "too many measurements");
        for (size_t i = 0; i < n; i++) {
            e = get_measurement(dec, &c->meas[i], d);
            if (e != FS38_OK)
                return e;
            for (size_t j = 0; j < i; j++)
                if (strcmp(c->meas[j].name, c->meas[i].name) == 0)
                    return bad(d, "two measurements of the same slot");
        }
        c->n_meas = n;
        *seen |= S_MEAS;
        break;
    case FS38_CLAIM_LIFECYCLE:
        e = fs38_cbor_get_uint(dec, &v);
        if (e == FS38_OK && v > FS38_LIFECYCLE_DECOMMISSIONED)
            e = FS38_ERR_CLAIMS;
        c->lifecycle = (fs38_lifecycle)v;
        *seen |= S_LC;
        break;
    case FS38_CLAIM_DEBUG:
        e = fs38_cbor_get_uint(dec, &v);
        if (e == FS38_OK && (v & ~(uint64_t)FS38_DEBUG_ALL))
            e = FS38_ERR_CLAIMS;
        c->debug = (uint32_t)v;
        *seen |= S_DEBUG;
        break;
    case FS38_CLAIM_SERVICES:
        e = fs38_cbor_get_array(dec, &n);
        if (e != FS38_OK || n > FS38_SERVICES_MAX)
            return bad(d, "fs38-services is not an array of at most 8 names");
        for (size_t i = 0; i < n; i++)
            if (fs38_claim_name(dec, c->services[i]) != FS38_OK)
                return bad(d, "fs38-services has an invalid service name");
        c->n_services = n;
        *seen |= S_SERVICES;
        break;
    case FS38_CLAIM_SECURE_BOOT:
        e = fs38_cbor_get_bool(dec, &c->secure_boot);
        *seen |= S_SECBOOT;
        break;
    case FS38_CLAIM_SUPPORT_UNTIL:
        e = get_text(dec, c->support_until, sizeof c->support_until, fs38_claim_date_ok);
        break;
    case FS38_CLAIM_DISCLOSURE:
        e = get_text(dec, c->disclosure, sizeof c->disclosure, fs38_claim_contact_ok);
        break;
    case FS38_CLAIM_RECEIPT:
        return bad(d, "this is a decommissioning receipt, not an attestation token");
    default:
        *known = false;
        return FS38_OK;
    }
    if (e != FS38_OK)
        return fs38_diag_set(d, FS38_ERR_CLAIMS, "claim %lld has an invalid value", (long long)key);
    return FS38_OK;
}

fs38_err fs38_eat_parse(const uint8_t *claims, size_t len, fs38_eat_claims *c, fs38_diag *diag)
{
    if (!c)
        return FS38_ERR_ARG;
    memset(c, 0, sizeof *c);
    static const fs38_claim_required required[] = { { S_NONCE, "nonce" },     { S_UEID, "ueid" },
                                                    { S_DBG, "dbgstat" },     { S_SWNAME, "swname" },
                                                    { S_SWVER, "swversion" }, { S_MEAS, "fs38-measurements" },
                                                    { S_LC, "fs38-lifecycle" } };
    const fs38_claims_common common = { &c->iat,      &c->has_iat, c->nonce,     &c->nonce_len,     c->ueid,
                                        &c->ueid_len, c->swname,   c->swversion, &c->version_scheme };
    eat_walk w = { c, 0 };
    fs38_err e = fs38_claims_walk(claims, len, &common, eat_claim, &w, required, sizeof required / sizeof required[0], diag);
    if (e != FS38_OK)
        return e;
    const unsigned sec = w.seen & (S_DEBUG | S_SERVICES | S_SECBOOT);
    if (sec != 0 && sec != (S_DEBUG | S_SERVICES | S_SECBOOT))
        return bad(diag, "fs38-debug, fs38-services and fs38-secure-boot go together");
    c->has_security = sec != 0;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err parse_eat(const uint8_t *claims, size_t len, void *c, fs38_diag *diag)
{
    return fs38_eat_parse(claims, len, c, diag);
}

fs38_err fs38_eat_verify(const uint8_t *token, size_t len, const fs38_keyring *kr, const uint8_t *nonce,
                         size_t nonce_len, fs38_eat_claims *c, fs38_cose_info *info, fs38_diag *diag)
{
    return fs38_claims_verify(token, len, kr, nonce, nonce_len, parse_eat, c, sizeof *c, c ? c->nonce : NULL,
                              c ? &c->nonce_len : NULL,
                              "the token's nonce is not the expected one (replayed or made for another challenge)",
                              info, diag);
}

