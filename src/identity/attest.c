/* SPDX-License-Identifier: Apache-2.0 */
/* attest.c — Entity Attestation Tokens (RFC 9711) signed by the device key (control 8).
 * Format: fs38/attest.h and docs/formats-eat.md. */
#include <string.h>
#include "fs38/attest.h"
#include "fs38/cbor.h"
#include "fs38/event.h"
#include "fs38/util.h"
#include "inner.h"

#define MAX_CLAIMS 32u /* claims in one map (keeps the duplicate check bounded) */


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

fs38_dbgstat fs38_dbgstat_of(const fs38_security_state *s)
{
    if (!s || (s->debug & FS38_DEBUG_LOCKED) != FS38_DEBUG_LOCKED)
        return FS38_DBG_ENABLED;
    return (s->debug & FS38_DEBUG_PERMANENT) ? FS38_DBG_DISABLED_PERMANENTLY : FS38_DBG_DISABLED;
}

bool fs38_eat_debug_locked(const fs38_eat_claims *c)
{
    if (!c || c->dbgstat < FS38_DBG_DISABLED_SINCE_BOOT || c->dbgstat > FS38_DBG_DISABLED_FULLY_AND_PERMANENTLY)
        return false;
    return !c->has_security || (c->debug & FS38_DEBUG_LOCKED) == FS38_DEBUG_LOCKED;
}

bool fs38_claim_date_ok(const char *s, size_t n)
{
    if (!s || n != FS38_EAT_DATE_LEN || s[4] != '-' || s[7] != '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    const int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

bool fs38_claim_contact_ok(const char *s, size_t n)
{
    if (!s || n == 0 || n >= FS38_EAT_CONTACT_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return false;
    return true;
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
    fs38_cbor_put_uint(e, FS38_MKEY_NAME);
    fs38_cbor_put_tstr(e, m->name, strlen(m->name));
    fs38_cbor_put_uint(e, FS38_MKEY_STATUS);
    fs38_cbor_put_uint(e, (uint64_t)m->status);
    if (v) {
        fs38_cbor_put_uint(e, FS38_MKEY_SEQUENCE);
        fs38_cbor_put_uint(e, m->sequence);
        fs38_cbor_put_uint(e, FS38_MKEY_IMAGE);
        put_digest(e, m->image_digest);
        fs38_cbor_put_uint(e, FS38_MKEY_MANIFEST);
        put_digest(e, m->manifest_digest);
        fs38_cbor_put_uint(e, FS38_MKEY_SIGNER);
        fs38_cbor_put_bstr(e, m->signer_kid, FS38_KID_LEN);
    }
    if (m->booted) {
        fs38_cbor_put_uint(e, FS38_MKEY_BOOTED);
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
    const fs38_security_state *sec = cfg->security;
    if (sec) {
        if ((sec->debug & ~FS38_DEBUG_ALL) || sec->n_services > FS38_SERVICES_MAX ||
            (sec->secure_boot != 0 && sec->secure_boot != 1))
            return fs38_diag_set(diag, FS38_ERR_ARG, "attest: invalid security state");
        for (size_t i = 0; i < sec->n_services; i++)
            if (!valid_name(sec->services[i]))
                return fs38_diag_set(diag, FS38_ERR_ARG, "attest: invalid service name %zu", i);
    }
    if (cfg->support_until && !fs38_claim_date_ok(cfg->support_until, strlen(cfg->support_until)))
        return fs38_diag_set(diag, FS38_ERR_ARG, "attest: support period end must be a date YYYY-MM-DD");
    if (cfg->disclosure && !fs38_claim_contact_ok(cfg->disclosure, strlen(cfg->disclosure)))
        return fs38_diag_set(diag, FS38_ERR_ARG, "attest: disclosure contact must be 1..63 printable characters");
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
    fs38_cbor_put_map(&en, 7u + (has_iat ? 1u : 0u) + (cfg->oemid ? 1u : 0u) + (cfg->hwmodel ? 1u : 0u) +
                               (sec ? 3u : 0u) + (cfg->support_until ? 1u : 0u) + (cfg->disclosure ? 1u : 0u));
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
    if (sec) { /* attack surface (control 5) */
        fs38_cbor_put_int(&en, FS38_CLAIM_DEBUG);
        fs38_cbor_put_uint(&en, sec->debug);
        fs38_cbor_put_int(&en, FS38_CLAIM_SERVICES);
        fs38_cbor_put_array(&en, sec->n_services);
        for (size_t i = 0; i < sec->n_services; i++)
            fs38_cbor_put_tstr(&en, sec->services[i], strlen(sec->services[i]));
        fs38_cbor_put_int(&en, FS38_CLAIM_SECURE_BOOT);
        fs38_cbor_put_bool(&en, sec->secure_boot == 1);
    }
    if (cfg->support_until) { /* disclosure (control 13) */
        fs38_cbor_put_int(&en, FS38_CLAIM_SUPPORT_UNTIL);
        fs38_cbor_put_tstr(&en, cfg->support_until, FS38_EAT_DATE_LEN);
    }
    if (cfg->disclosure) {
        fs38_cbor_put_int(&en, FS38_CLAIM_DISCLOSURE);
        fs38_cbor_put_tstr(&en, cfg->disclosure, strlen(cfg->disclosure));
    }
    e = fs38_cbor_enc_finish(&en, out_len);
    if (e != FS38_OK)
        return fs38_diag_set(diag, FS38_ERR_BUFFER, "claims need %zu bytes, buffer %zu", *out_len, cap);
    return FS38_OK;
}

fs38_err fs38_attest(fs38_attest_ctx *ctx, const fs38_attest_config *cfg, const uint8_t *nonce, size_t nonce_len,
                     uint8_t *out, size_t cap, size_t *out_len)
{
    const fs38_key *key = NULL;
    uint8_t point[FS38_P256_POINT_LEN], kid[FS38_KID_LEN];
    size_t claims_len = 0;
    if (!ctx || !cfg || !cfg->id || !out || !out_len)
        return FS38_ERR_ARG;
    fs38_diag_clear(&ctx->diag);
    fs38_err e = fs38_identity_device_key(cfg->id, &key);
    if (e == FS38_OK)
        e = fs38_identity_public_key(cfg->id, point);
    if (e != FS38_OK)
        return fs38_diag_set(&ctx->diag, e, "%s", cfg->id->diag.msg);
    e = fs38_key_id(point, sizeof point, kid);
    if (e == FS38_OK)
        e = fs38_eat_encode(cfg, nonce, nonce_len, ctx->claims, sizeof ctx->claims, &claims_len, &ctx->diag);
    if (e != FS38_OK)
        return e;
    e = fs38_cose_sign1_sign_key(key, FS38_COSE_ALG_ES256, kid, sizeof kid, ctx->claims, claims_len, false, out, cap,
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
