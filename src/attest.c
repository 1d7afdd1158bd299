/* SPDX-License-Identifier: Apache-2.0 */
/* attest.c — Entity Attestation Tokens (RFC 9711) signed by the device key (control 8).
 * Format: fs38/attest.h and docs/formats-eat.md. */
#include <string.h>
#include "fs38/attest.h"
#include "fs38/cbor.h"
#include "fs38/event.h"
#include "fs38/util.h"

#define MAX_CLAIMS 32u /* claims in one map (keeps the duplicate check bounded) */

/* measurement map keys */
#define M_NAME 1
#define M_STATUS 2
#define M_SEQUENCE 3
#define M_IMAGE 4
#define M_MANIFEST 5
#define M_SIGNER 6
#define M_BOOTED 7

const char *fs38_dbgstat_name(fs38_dbgstat s)
{
    switch (s) {
    case FS38_DBG_ENABLED: return "enabled";
    case FS38_DBG_DISABLED: return "disabled";
    case FS38_DBG_DISABLED_SINCE_BOOT: return "disabled-since-boot";
    case FS38_DBG_DISABLED_PERMANENTLY: return "disabled-permanently";
    case FS38_DBG_DISABLED_FULLY_AND_PERMANENTLY: return "disabled-fully-and-permanently";
    }
    return "unknown";
}

const char *fs38_meas_status_name(fs38_meas_status s)
{
    switch (s) {
    case FS38_MEAS_VERIFIED: return "verified";
    case FS38_MEAS_REFUSED: return "refused";
    case FS38_MEAS_EMPTY: return "empty";
    }
    return "unknown";
}

/* ---- encoding ------------------------------------------------------------------------------- */

static void put_digest(fs38_cbor_enc *e, const uint8_t d[32])
{
    fs38_cbor_put_array(e, 2);
    fs38_cbor_put_int(e, FS38_COSE_HASH_SHA256);
    fs38_cbor_put_bstr(e, d, 32);
}

static void put_measurement(fs38_cbor_enc *e, const fs38_measurement *m)
{
    const bool v = m->status == FS38_MEAS_VERIFIED;
    fs38_cbor_put_map(e, 2u + (v ? 4u : 0u) + (m->booted ? 1u : 0u));
    fs38_cbor_put_uint(e, M_NAME);
    fs38_cbor_put_tstr(e, m->name, strlen(m->name));
    fs38_cbor_put_uint(e, M_STATUS);
    fs38_cbor_put_uint(e, (uint64_t)m->status);
    if (v) {
        fs38_cbor_put_uint(e, M_SEQUENCE);
        fs38_cbor_put_uint(e, m->sequence);
        fs38_cbor_put_uint(e, M_IMAGE);
        put_digest(e, m->image_digest);
        fs38_cbor_put_uint(e, M_MANIFEST);
        put_digest(e, m->manifest_digest);
        fs38_cbor_put_uint(e, M_SIGNER);
        fs38_cbor_put_bstr(e, m->signer_kid, FS38_KID_LEN);
    }
    if (m->booted) {
        fs38_cbor_put_uint(e, M_BOOTED);
        fs38_cbor_put_bool(e, true);
    }
}

static bool valid_name(const char *s)
{
    size_t n = 0;
    for (; n < FS38_EAT_NAME_MAX && s[n]; n++)
        if (s[n] < 0x21 || s[n] > 0x7e)
            return false;
    return n > 0 && n < FS38_EAT_NAME_MAX;
}

fs38_err fs38_eat_encode(const fs38_attest_config *cfg, const uint8_t *nonce, size_t nonce_len, uint8_t *out,
                         size_t cap, size_t *out_len, fs38_diag *diag)
{
    uint8_t ueid[FS38_UEID_LEN];
    fs38_lifecycle lc = FS38_LIFECYCLE_BLANK;
    int64_t now = 0;
    bool has_iat = false;
    if (!cfg || !cfg->id || !out_len || (!nonce && nonce_len) || (!cfg->meas && cfg->n_meas))
        return fs38_diag_set(diag, FS38_ERR_ARG, "attest: invalid arguments");
    if (nonce_len < FS38_EAT_NONCE_MIN || nonce_len > FS38_EAT_NONCE_MAX)
        return fs38_diag_set(diag, FS38_ERR_ARG, "nonce is %zu bytes: 8 to 64 are allowed", nonce_len);
    if (cfg->n_meas > FS38_EAT_MAX_MEASUREMENTS || (unsigned)cfg->dbgstat > FS38_DBG_DISABLED_FULLY_AND_PERMANENTLY ||
        (cfg->hwmodel && (cfg->hwmodel_len == 0 || cfg->hwmodel_len > FS38_EAT_HWMODEL_MAX)))
        return fs38_diag_set(diag, FS38_ERR_ARG, "attest: invalid configuration");
    for (size_t i = 0; i < cfg->n_meas; i++)
        if (!valid_name(cfg->meas[i].name) || (unsigned)cfg->meas[i].status > FS38_MEAS_EMPTY)
            return fs38_diag_set(diag, FS38_ERR_ARG, "attest: invalid measurement %zu", i);
    fs38_err e = fs38_identity_ueid(cfg->id, ueid);
    if (e == FS38_OK)
        e = fs38_identity_lifecycle(cfg->id, &lc);
    if (e != FS38_OK)
        return fs38_diag_set(diag, e, "%s", cfg->id->diag.msg);
    if (cfg->port && cfg->port->wall_time && cfg->port->wall_time(cfg->port->ctx, &now) == FS38_OK)
        has_iat = true;

    const char *ver = fs38_version();
    fs38_cbor_enc en;
    fs38_cbor_enc_init(&en, out, cap);
    fs38_cbor_put_map(&en, 7u + (has_iat ? 1u : 0u) + (cfg->oemid ? 1u : 0u) + (cfg->hwmodel ? 1u : 0u));
    if (has_iat) {
        fs38_cbor_put_uint(&en, FS38_CLAIM_IAT);
        fs38_cbor_put_int(&en, now);
    }
    fs38_cbor_put_uint(&en, FS38_CLAIM_NONCE);
    fs38_cbor_put_bstr(&en, nonce, nonce_len);
    fs38_cbor_put_uint(&en, FS38_CLAIM_UEID);
    fs38_cbor_put_bstr(&en, ueid, sizeof ueid);
    if (cfg->oemid) {
        fs38_cbor_put_uint(&en, FS38_CLAIM_OEMID);
        fs38_cbor_put_bstr(&en, cfg->oemid, 16);
    }
    if (cfg->hwmodel) {
        fs38_cbor_put_uint(&en, FS38_CLAIM_HWMODEL);
        fs38_cbor_put_bstr(&en, cfg->hwmodel, cfg->hwmodel_len);
    }
    fs38_cbor_put_uint(&en, FS38_CLAIM_DBGSTAT);
    fs38_cbor_put_uint(&en, (uint64_t)cfg->dbgstat);
    fs38_cbor_put_uint(&en, FS38_CLAIM_SWNAME);
    fs38_cbor_put_tstr(&en, "fs38", 4);
    fs38_cbor_put_uint(&en, FS38_CLAIM_SWVERSION);
    fs38_cbor_put_array(&en, 2);
    fs38_cbor_put_tstr(&en, ver, strlen(ver));
    fs38_cbor_put_uint(&en, FS38_VERSION_SCHEME_SEMVER);
    fs38_cbor_put_int(&en, FS38_CLAIM_MEASUREMENTS);
    fs38_cbor_put_array(&en, cfg->n_meas);
    for (size_t i = 0; i < cfg->n_meas; i++)
        put_measurement(&en, &cfg->meas[i]);
    fs38_cbor_put_int(&en, FS38_CLAIM_LIFECYCLE);
    fs38_cbor_put_uint(&en, (uint64_t)lc);
    e = fs38_cbor_enc_finish(&en, out_len);
    if (e != FS38_OK)
        return fs38_diag_set(diag, FS38_ERR_BUFFER, "claims need %zu bytes, buffer %zu", *out_len, cap);
    return FS38_OK;
}

fs38_err fs38_attest(fs38_attest_ctx *ctx, const fs38_attest_config *cfg, const uint8_t *nonce, size_t nonce_len,
                     uint8_t *out, size_t cap, size_t *out_len)
{
    psa_key_id_t key;
    uint8_t point[FS38_P256_POINT_LEN], kid[FS38_KID_LEN];
    size_t claims_len = 0;
    if (!ctx || !cfg || !cfg->id || !out || !out_len)
        return FS38_ERR_ARG;
    fs38_diag_clear(&ctx->diag);
    fs38_err e = fs38_identity_signing_key(cfg->id, &key);
    if (e == FS38_OK)
        e = fs38_identity_public_key(cfg->id, point);
    if (e != FS38_OK)
        return fs38_diag_set(&ctx->diag, e, "%s", cfg->id->diag.msg);
    e = fs38_key_id(point, sizeof point, kid);
    if (e == FS38_OK)
        e = fs38_eat_encode(cfg, nonce, nonce_len, ctx->claims, sizeof ctx->claims, &claims_len, &ctx->diag);
    if (e != FS38_OK)
        return e;
    e = fs38_cose_sign1_sign(key, FS38_COSE_ALG_ES256, kid, sizeof kid, ctx->claims, claims_len, false, out, cap,
                             out_len);
    if (e != FS38_OK)
        return fs38_diag_set(&ctx->diag, e, "signing the token failed (%s)", fs38_strerror(e));
    fs38_event(FS38_EV_ATTESTATION, FS38_SEV_INFO, (int64_t)*out_len, "attestation token signed");
    return FS38_OK;
}

size_t fs38_attest_boot_measurements(const fs38_boot_ctx *b, int booted_slot, fs38_measurement out[FS38_SLOT_COUNT])
{
    for (unsigned i = 0; i < FS38_SLOT_COUNT; i++) {
        const fs38_slot_info *si = &b->slot[i];
        fs38_measurement *m = &out[i];
        memset(m, 0, sizeof *m);
        m->name[0] = (char)('A' + i);
        m->booted = (int)i == booted_slot;
        if (!si->present) {
            m->status = FS38_MEAS_EMPTY;
        } else if (si->verdict != FS38_OK) {
            m->status = FS38_MEAS_REFUSED;
        } else {
            m->status = FS38_MEAS_VERIFIED;
            m->sequence = si->sequence;
            memcpy(m->image_digest, si->image_digest, 32);
            memcpy(m->manifest_digest, si->manifest_digest, 32);
            memcpy(m->signer_kid, si->signer_kid, FS38_KID_LEN);
        }
    }
    return FS38_SLOT_COUNT;
}

/* ---- decoding ------------------------------------------------------------------------------- */

static FS38_NODISCARD fs38_err bad(fs38_diag *d, const char *what)
{
    return fs38_diag_set(d, FS38_ERR_CLAIMS, "%s", what);
}

fs38_err fs38_claims_require(unsigned seen, const fs38_claim_required *req, size_t n, fs38_diag *d)
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
        if (e != FS38_OK || k < M_NAME || k > M_BOOTED)
            return bad(d, "measurement has an unknown key");
        if (seen & (1u << k))
            return bad(d, "measurement has a duplicate key");
        seen |= 1u << k;
        size_t dl;
        switch (k) {
        case M_NAME: e = fs38_claim_name(dec, m->name); break;
        case M_STATUS:
            e = fs38_cbor_get_uint(dec, &v);
            if (e == FS38_OK && v > FS38_MEAS_EMPTY)
                e = FS38_ERR_CLAIMS;
            m->status = (fs38_meas_status)v;
            break;
        case M_SEQUENCE: e = fs38_cbor_get_uint(dec, &m->sequence); break;
        case M_IMAGE: e = get_digest(dec, m->image_digest); break;
        case M_MANIFEST: e = get_digest(dec, m->manifest_digest); break;
        case M_SIGNER: e = fs38_claim_bytes(dec, m->signer_kid, FS38_KID_LEN, FS38_KID_LEN, &dl); break;
        default: /* M_BOOTED */
            e = fs38_cbor_get_bool(dec, &m->booted);
            if (e == FS38_OK && !m->booted)
                e = FS38_ERR_CLAIMS; /* present only as true */
            break;
        }
        if (e != FS38_OK)
            return bad(d, "measurement has an invalid value");
    }
    const unsigned base = 1u << M_NAME | 1u << M_STATUS;
    const unsigned all = 1u << M_SEQUENCE | 1u << M_IMAGE | 1u << M_MANIFEST | 1u << M_SIGNER;
    const unsigned has = seen & all;
    if ((seen & base) != base)
        return bad(d, "measurement without slot name or status");
    /* sequence, digests and signer: all of them exactly when the slot verified */
    if ((has != 0 && has != all) || (m->status == FS38_MEAS_VERIFIED) != (has == all))
        return bad(d, "measurement digests do not match its status");
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

fs38_err fs38_claims_walk(const uint8_t *buf, size_t len, fs38_claim_fn cb, void *user, fs38_diag *d)
{
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
            fs38_err e = cb(user, key, &dec, &known, d);
            if (e != FS38_OK)
                return e;
        }
        if (!known && fs38_cbor_skip(&dec) != FS38_OK)
            return bad(d, "malformed claim value");
    }
    if (!fs38_cbor_at_end(&dec))
        return bad(d, "bytes after the claims map");
    return FS38_OK;
}

typedef struct {
    fs38_eat_claims *c;
    unsigned seen;
} eat_walk;

enum { S_NONCE = 1, S_UEID = 2, S_DBG = 4, S_SWNAME = 8, S_SWVER = 16, S_MEAS = 32, S_LC = 64 };

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

static FS38_NODISCARD fs38_err eat_claim(void *user, int64_t key, fs38_cbor_dec *dec, bool *known, fs38_diag *d)
{
    eat_walk *w = user;
    fs38_eat_claims *c = w->c;
    fs38_err e = FS38_OK;
    uint64_t v = 0;
    size_t n = 0;
    *known = true;
    switch (key) {
    case FS38_CLAIM_IAT:
        e = fs38_cbor_get_int(dec, &c->iat);
        c->has_iat = e == FS38_OK;
        break;
    case FS38_CLAIM_NONCE:
        e = fs38_claim_bytes(dec, c->nonce, FS38_EAT_NONCE_MIN, FS38_EAT_NONCE_MAX, &c->nonce_len);
        w->seen |= S_NONCE;
        break;
    case FS38_CLAIM_UEID:
        e = fs38_claim_bytes(dec, c->ueid, 7, FS38_EAT_UEID_MAX, &c->ueid_len);
        w->seen |= S_UEID;
        break;
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
        w->seen |= S_DBG;
        break;
    case FS38_CLAIM_SWNAME:
        e = fs38_claim_name(dec, c->swname);
        w->seen |= S_SWNAME;
        break;
    case FS38_CLAIM_SWVERSION:
        e = fs38_claim_swversion(dec, c->swversion, &c->version_scheme);
        w->seen |= S_SWVER;
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
        w->seen |= S_MEAS;
        break;
    case FS38_CLAIM_LIFECYCLE:
        e = fs38_cbor_get_uint(dec, &v);
        if (e == FS38_OK && v > FS38_LIFECYCLE_DECOMMISSIONED)
            e = FS38_ERR_CLAIMS;
        c->lifecycle = (fs38_lifecycle)v;
        w->seen |= S_LC;
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
    eat_walk w = { c, 0 };
    fs38_err e = fs38_claims_walk(claims, len, eat_claim, &w, diag);
    if (e != FS38_OK)
        return e;
    static const fs38_claim_required required[] = { { S_NONCE, "nonce" },     { S_UEID, "ueid" },
                                                    { S_DBG, "dbgstat" },     { S_SWNAME, "swname" },
                                                    { S_SWVER, "swversion" }, { S_MEAS, "fs38-measurements" },
                                                    { S_LC, "fs38-lifecycle" } };
    return fs38_claims_require(w.seen, required, sizeof required / sizeof required[0], diag);
}

fs38_err fs38_eat_verify(const uint8_t *token, size_t len, const fs38_keyring *kr, const uint8_t *nonce,
                         size_t nonce_len, fs38_eat_claims *c, fs38_cose_info *info, fs38_diag *diag)
{
    fs38_cose_info local;
    if (!c || !kr || (!nonce && nonce_len))
        return FS38_ERR_ARG;
    memset(c, 0, sizeof *c);
    if (!info)
        info = &local;
    fs38_err e = fs38_cose_sign1_verify(token, len, NULL, 0, NULL, 0, kr, info, diag);
    if (e != FS38_OK)
        return e;
    e = fs38_eat_parse(info->payload, info->payload_len, c, diag);
    if (e != FS38_OK)
        return e;
    if (nonce && (c->nonce_len != nonce_len || fs38_ct_compare(c->nonce, nonce, nonce_len) != 0))
        return fs38_diag_set(diag, FS38_ERR_NONCE, "the token's nonce is not the expected one (replayed or "
                                                    "made for another challenge)");
    return FS38_OK;
}

