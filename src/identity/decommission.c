/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decommission.c — secure decommissioning (control 12). See fs38/decommission.h for the
 * contract and the receipt format.
 *
 * Power cuts. The state lives in the sealed store, whose every write is atomic:
 *   - before "id/lc" = decommissioning is committed: the device is unchanged (a receipt may have
 *     been stored in "dc/receipt", but it was never returned to anyone, and the next run
 *     overwrites it);
 *   - from then on: fs38_identity_signing_key refuses the key; each later step is idempotent
 *     (destroying an absent key, erasing an erased sector, wiping a store) and the whole of
 *     steps 2-5 is redone by fs38_decommission_resume at the next start;
 *   - fs38_store_wipe is atomic too: after a cut the store holds either its old contents (still
 *     "decommissioning": resumed) or nothing (a blank device: keys, regions and store are all
 *     gone by then, since the regions are erased before the store).
 * So no power cut ever leaves a key that anything will use, and once the call has returned
 * FS38_OK nothing of the old keys, store or regions is left in flash (test_decommission scans
 * the flash image for every secret after each cut point).
 */
#include <string.h>
#include "fs38/decommission.h"
#include "fs38/event.h"
#include "fs38/util.h"
#include "inner.h"

#define REC_RECEIPT "dc/receipt"

/* ---- receipt claims ------------------------------------------------------------------------- */

static size_t name_len(const char *s)
{
    size_t n = 0;
    while (s && n < FS38_EAT_NAME_MAX && s[n] >= 0x20 && s[n] <= 0x7e)
        n++;
    return s && n < FS38_EAT_NAME_MAX && s[n] == 0 ? n : 0;
}

fs38_err fs38_receipt_encode(const uint8_t *ueid, size_t ueid_len, const int64_t *iat, const uint8_t *nonce,
                             size_t nonce_len, const psa_key_id_t *keys, size_t n_keys,
                             const fs38_decom_region *regions, size_t n_regions, const uint8_t *cert_digest,
                             uint8_t *out, size_t cap, size_t *out_len, fs38_diag *diag)
{
    if (!ueid || ueid_len < 7 || ueid_len > FS38_EAT_UEID_MAX || !out_len || (!keys && n_keys) ||
        (!regions && n_regions) || n_keys > FS38_DECOM_MAX_KEYS + 1u || n_regions > FS38_DECOM_MAX_REGIONS + 1u ||
        (nonce && (nonce_len < FS38_EAT_NONCE_MIN || nonce_len > FS38_EAT_NONCE_MAX)))
        return fs38_diag_set(diag, FS38_ERR_ARG, "receipt: invalid arguments");
    for (size_t i = 0; i < n_regions; i++)
        if (name_len(regions[i].name) == 0)
            return fs38_diag_set(diag, FS38_ERR_ARG, "receipt: invalid region name");
    const char *ver = fs38_version();
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, out, cap);
    /* ueid, swname, swversion, lifecycle, receipt, erased + the optional ones */
    fs38_cbor_put_map(&e, 6u + (iat ? 1u : 0u) + (nonce ? 1u : 0u) + (cert_digest ? 1u : 0u));
    if (iat) {
        fs38_cbor_put_uint(&e, FS38_CLAIM_IAT);
        fs38_cbor_put_int(&e, *iat);
    }
    if (nonce) {
        fs38_cbor_put_uint(&e, FS38_CLAIM_NONCE);
        fs38_cbor_put_bstr(&e, nonce, nonce_len);
    }
    fs38_cbor_put_uint(&e, FS38_CLAIM_UEID);
    fs38_cbor_put_bstr(&e, ueid, ueid_len);
    fs38_cbor_put_uint(&e, FS38_CLAIM_SWNAME);
    fs38_cbor_put_tstr(&e, "fs38", 4);
    fs38_cbor_put_uint(&e, FS38_CLAIM_SWVERSION);
    fs38_cbor_put_array(&e, 2);
    fs38_cbor_put_tstr(&e, ver, strlen(ver));
    fs38_cbor_put_uint(&e, FS38_VERSION_SCHEME_SEMVER);
    fs38_cbor_put_int(&e, FS38_CLAIM_LIFECYCLE);
    fs38_cbor_put_uint(&e, FS38_LIFECYCLE_DECOMMISSIONED);
    fs38_cbor_put_int(&e, FS38_CLAIM_RECEIPT);
    fs38_cbor_put_tstr(&e, FS38_RECEIPT_TYPE, sizeof FS38_RECEIPT_TYPE - 1u);
    fs38_cbor_put_int(&e, FS38_CLAIM_ERASED);
    fs38_cbor_put_map(&e, 2);
    fs38_cbor_put_uint(&e, FS38_RECEIPT_ERASED_KEYS);
    fs38_cbor_put_array(&e, n_keys);
    for (size_t i = 0; i < n_keys; i++)
        fs38_cbor_put_uint(&e, keys[i]);
    fs38_cbor_put_uint(&e, FS38_RECEIPT_ERASED_REGIONS);
    fs38_cbor_put_array(&e, n_regions);
    for (size_t i = 0; i < n_regions; i++) {
        fs38_cbor_put_array(&e, 3);
        fs38_cbor_put_tstr(&e, regions[i].name, name_len(regions[i].name));
        fs38_cbor_put_uint(&e, regions[i].offset);
        fs38_cbor_put_uint(&e, regions[i].size);
    }
    if (cert_digest) {
        fs38_cbor_put_int(&e, FS38_CLAIM_CERT_DIGEST);
        fs38_cbor_put_bstr(&e, cert_digest, 32);
    }
    if (fs38_cbor_enc_finish(&e, out_len) != FS38_OK)
        return fs38_diag_set(diag, FS38_ERR_BUFFER, "receipt claims need %zu bytes, buffer %zu", *out_len, cap);
    return FS38_OK;
}


/* ---- the operation -------------------------------------------------------------------------- */

static bool key_exists(psa_key_id_t k)
{
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    const bool ok = psa_get_key_attributes(k, &at) == PSA_SUCCESS;
    psa_reset_key_attributes(&at);
    return ok;
}

static FS38_NODISCARD fs38_err check_config(fs38_decommission_ctx *ctx, const fs38_decommission_config *cfg)
{
    if (!cfg->id || !cfg->id->store || !cfg->port || (!cfg->keys && cfg->n_keys) ||
        (!cfg->released && cfg->n_released) || cfg->n_released > FS38_DECOM_MAX_KEYS ||
        (!cfg->regions && cfg->n_regions) || cfg->n_keys > FS38_DECOM_MAX_KEYS ||
        cfg->n_regions > FS38_DECOM_MAX_REGIONS ||
        (cfg->nonce && (cfg->nonce_len < FS38_EAT_NONCE_MIN || cfg->nonce_len > FS38_EAT_NONCE_MAX)))
        return fs38_diag_set(&ctx->diag, FS38_ERR_ARG, "decommission: invalid configuration");
    const fs38_store_config *sc = &cfg->id->store->cfg;
    const uint32_t ss = cfg->port->sector_size;
    for (size_t i = 0; i < cfg->n_regions; i++) {
        const fs38_decom_region *r = &cfg->regions[i];
        if (name_len(r->name) == 0 || ss == 0 || r->size == 0 || r->offset % ss || r->size % ss ||
            r->offset > cfg->port->flash_size || r->size > cfg->port->flash_size - r->offset)
            return fs38_diag_set(&ctx->diag, FS38_ERR_ARG, "decommission: invalid region %zu", i);
        if (r->offset < sc->offset + sc->size && sc->offset < r->offset + r->size)
            return fs38_diag_set(&ctx->diag, FS38_ERR_ARG, "decommission: region %s overlaps the sealed store",
                                 r->name);
    }
    return FS38_OK;
}

/* Sign and store the receipt into out, listing the keys that exist now. */
static FS38_NODISCARD fs38_err make_receipt(fs38_decommission_ctx *ctx, const fs38_decommission_config *cfg, uint8_t *out,
                             size_t cap, size_t *out_len)
{
    fs38_identity *id = cfg->id;
    const fs38_key *key = NULL;
    psa_key_id_t keys[FS38_DECOM_MAX_KEYS + 1u];
    fs38_decom_region regions[FS38_DECOM_MAX_REGIONS + 1u];
    uint8_t ueid[FS38_UEID_LEN], point[FS38_P256_POINT_LEN], kid[FS38_KID_LEN], digest[32];
    size_t n_keys = 0, claims_len = 0, cert_len = 0;
    int64_t now = 0;
    bool has_iat = false, has_cert = false;

    fs38_err e = fs38_identity_device_key(id, &key);
    if (e == FS38_OK)
        e = fs38_identity_ueid(id, ueid);
    if (e == FS38_OK)
        e = fs38_identity_public_key(id, point);
    if (e != FS38_OK)
        return fs38_diag_set(&ctx->diag, e, "%s", id->diag.msg);
    keys[n_keys++] = (psa_key_id_t)key->ref; /* a PSA id, or the keeper's reference (a TPM handle) */
    for (size_t i = 0; i < cfg->n_keys; i++)
        if (cfg->keys[i] != id->key && key_exists(cfg->keys[i]))
            keys[n_keys++] = cfg->keys[i];
    for (size_t i = 0; i < cfg->n_released; i++) {
        if (n_keys >= FS38_DECOM_MAX_KEYS + 1u)
            return fs38_diag_set(&ctx->diag, FS38_ERR_ARG, "decommission: more than %u keys to list",
                                 FS38_DECOM_MAX_KEYS + 1u);
        keys[n_keys++] = (psa_key_id_t)cfg->released[i];
    }
    const fs38_store_config *sc = &id->store->cfg;
    regions[0] = (fs38_decom_region){ "store", sc->offset, sc->size };
    for (size_t i = 0; i < cfg->n_regions; i++)
        regions[i + 1u] = cfg->regions[i];
    e = fs38_identity_cert(id, ctx->buf, sizeof ctx->buf, &cert_len);
    if (e == FS38_OK) {
        e = fs38_sha256(ctx->buf, cert_len, digest);
        has_cert = e == FS38_OK;
    } else if (e == FS38_ERR_NOT_FOUND) {
        e = FS38_OK;
    }
    if (e != FS38_OK)
        return fs38_diag_set(&ctx->diag, e, "cannot read the device certificate (%s)", fs38_strerror(e));
    if (cfg->port->wall_time && cfg->port->wall_time(cfg->port->ctx, &now) == FS38_OK)
        has_iat = true;
    e = fs38_receipt_encode(ueid, sizeof ueid, has_iat ? &now : NULL, cfg->nonce, cfg->nonce_len, keys, n_keys,
                            regions, cfg->n_regions + 1u, has_cert ? digest : NULL, ctx->claims, sizeof ctx->claims,
                            &claims_len, &ctx->diag);
    if (e == FS38_OK)
        e = fs38_key_id(point, sizeof point, kid);
    if (e == FS38_OK)
        e = fs38_cose_sign1_sign_key(key, FS38_COSE_ALG_ES256, kid, sizeof kid, ctx->claims, claims_len, false, out,
                                     cap < FS38_RECEIPT_MAX ? cap : FS38_RECEIPT_MAX, out_len);
    if (e != FS38_OK)
        return ctx->diag.err == e ? e : fs38_diag_set(&ctx->diag, e, "signing the receipt failed (%s)", fs38_strerror(e));
    e = fs38_store_put(id->store, REC_RECEIPT, out, *out_len);
    if (e != FS38_OK)
        return fs38_diag_set(&ctx->diag, e, "cannot keep the receipt (%s)", fs38_strerror(e));
    return FS38_OK;
}

/* The stored receipt into out (*out_len 0 when there is none). */
static FS38_NODISCARD fs38_err load_receipt(fs38_decommission_ctx *ctx, fs38_store *s, uint8_t *out, size_t cap, size_t *out_len)
{
    *out_len = 0;
    fs38_err e = fs38_store_get(s, REC_RECEIPT, out, cap, out_len);
    if (e == FS38_ERR_NOT_FOUND) {
        *out_len = 0;
        return FS38_OK;
    }
    if (e != FS38_OK) {
        *out_len = 0;
        return fs38_diag_set(&ctx->diag, e, "cannot read the stored receipt (%s)", fs38_strerror(e));
    }
    return FS38_OK;
}

/* Destroy one key through the key interface (a PSA key, or the device key in its keeper). */
static FS38_NODISCARD fs38_err destroy_key(fs38_decommission_ctx *ctx, const fs38_decommission_config *cfg,
                                           const fs38_key *k)
{
    fs38_err e = fs38_key_destroy(k);
    if (e == FS38_OK) {
        ctx->keys_destroyed++;
        return FS38_OK;
    }
    if (e == FS38_ERR_NOT_FOUND)
        return FS38_OK; /* absent, or destroyed before a power cut */
    if (e == FS38_ERR_IO)
        return fs38_diag_set(&ctx->diag, e, "destroying key 0x%x failed: its keeper does not answer",
                             (unsigned)k->ref);
    /* PSA reports a storage failure in its own words: ask the flash what happened (a power cut
     * or an I/O error is reported as such) */
    uint8_t probe;
    fs38_err fe = fs38_flash_read(cfg->port, cfg->id->store->cfg.offset, &probe, 1);
    return fs38_diag_set(&ctx->diag, fe != FS38_OK ? fe : FS38_ERR_CRYPTO, "destroying key 0x%x failed (%s)",
                         (unsigned)k->ref, fs38_strerror(e));
}

static FS38_NODISCARD fs38_err destroy(fs38_decommission_ctx *ctx, const fs38_decommission_config *cfg, psa_key_id_t k)
{
    fs38_key key;
    fs38_err e = fs38_key_psa(&key, k);
    return e != FS38_OK ? e : destroy_key(ctx, cfg, &key);
}

/* Read [off, off+len) back; every byte must be 0xFF except [skip_off, skip_off+skip_len). */
static FS38_NODISCARD fs38_err read_back(fs38_decommission_ctx *ctx, const fs38_port *p, const char *name, uint32_t off,
                          uint32_t len, uint32_t skip_off, uint32_t skip_len)
{
    for (uint32_t pos = 0; pos < len;) {
        uint32_t n = len - pos < FS38_DECOM_CHUNK ? len - pos : FS38_DECOM_CHUNK;
        fs38_err e = fs38_flash_read(p, off + pos, ctx->buf, n);
        if (e != FS38_OK)
            return fs38_diag_set(&ctx->diag, e, "reading back %s failed (%s)", name, fs38_strerror(e));
        for (uint32_t i = 0; i < n; i++) {
            const uint32_t at = off + pos + i;
            if (ctx->buf[i] != 0xFF && !(at >= skip_off && at - skip_off < skip_len))
                return fs38_diag_set(&ctx->diag, FS38_ERR_ERASE, "%s not erased: byte at 0x%x reads 0x%x", name, at,
                                     (unsigned)ctx->buf[i]);
        }
        pos += n;
    }
    return FS38_OK;
}

static FS38_NODISCARD fs38_err erase_region(fs38_decommission_ctx *ctx, const fs38_port *p, const fs38_decom_region *r)
{
    for (uint32_t off = 0; off < r->size; off += p->sector_size) {
        fs38_err e = fs38_flash_erase(p, r->offset + off, p->sector_size);
        if (e != FS38_OK)
            return fs38_diag_set(&ctx->diag, e, "erasing %s failed (%s)", r->name, fs38_strerror(e));
    }
    fs38_err e = read_back(ctx, p, r->name, r->offset, r->size, 0, 0);
    if (e == FS38_OK)
        ctx->bytes_erased += r->size;
    return e;
}

/* Wipe the sealed store and check it: blank but for the header of the new empty store's bank. */
static FS38_NODISCARD fs38_err wipe_store(fs38_decommission_ctx *ctx, const fs38_decommission_config *cfg)
{
    fs38_store *s = cfg->id->store;
    const fs38_store_config sc = s->cfg;
    const uint32_t bank = sc.bank_size ? sc.bank_size : cfg->port->sector_size; /* fs38/store.h */
    const uint32_t nbanks = bank ? sc.size / bank : 0;
    fs38_err e = fs38_store_wipe(s);
    if (e != FS38_OK)
        return fs38_diag_set(&ctx->diag, e, "wiping the sealed store failed (%s)", s->diag.msg);
    /* which bank holds the new header? */
    uint32_t hdr_bank = nbanks;
    for (uint32_t b = 0; b < nbanks && e == FS38_OK; b++) {
        e = fs38_flash_read(cfg->port, sc.offset + b * bank, ctx->buf, FS38_STORE_BANK_HDR);
        for (uint32_t i = 0; e == FS38_OK && i < FS38_STORE_BANK_HDR; i++)
            if (ctx->buf[i] != 0xFF) {
                if (hdr_bank != nbanks)
                    e = fs38_diag_set(&ctx->diag, FS38_ERR_ERASE, "store not erased: two bank headers");
                hdr_bank = b;
                break;
            }
    }
    if (e == FS38_OK)
        e = read_back(ctx, cfg->port, "store", sc.offset, sc.size, sc.offset + hdr_bank * bank,
                      hdr_bank < nbanks ? FS38_STORE_BANK_HDR : 0u);
    if (e != FS38_OK)
        return e;
    ctx->bytes_erased += sc.size;
    e = fs38_store_open(s, &sc);
    if (e != FS38_OK)
        return fs38_diag_set(&ctx->diag, e, "reopening the sealed store failed (%s)", s->diag.msg);
    return FS38_OK;
}

/* Steps 2-5 (idempotent). */
static FS38_NODISCARD fs38_err complete(fs38_decommission_ctx *ctx, const fs38_decommission_config *cfg, const uint8_t *receipt,
                         size_t receipt_len)
{
    fs38_identity *id = cfg->id;
    fs38_err e = destroy_key(ctx, cfg, id->dev_key ? id->dev_key : &id->psa_key);
    for (size_t i = 0; i < cfg->n_keys && e == FS38_OK; i++)
        e = destroy(ctx, cfg, cfg->keys[i]);
    for (size_t i = 0; i < cfg->n_regions && e == FS38_OK; i++)
        e = erase_region(ctx, cfg->port, &cfg->regions[i]);
    if (e == FS38_OK)
        e = wipe_store(ctx, cfg);
    if (e == FS38_OK)
        e = fs38_identity_set_lifecycle(id, FS38_LIFECYCLE_DECOMMISSIONED);
    if (e == FS38_OK && receipt_len)
        e = fs38_store_put(id->store, REC_RECEIPT, receipt, receipt_len);
    if (e != FS38_OK)
        return ctx->diag.err == e ? e
                                  : fs38_diag_set(&ctx->diag, e, "decommissioning failed (%s)",
                                                  id->diag.err == e ? id->diag.msg : fs38_strerror(e));
    fs38_event(FS38_EV_DECOMMISSIONED, FS38_SEV_NOTICE, (int64_t)ctx->keys_destroyed,
               "keys destroyed, store and regions erased");
    return FS38_OK;
}

static FS38_NODISCARD fs38_err run(fs38_decommission_ctx *ctx, const fs38_decommission_config *cfg, uint8_t *out, size_t cap,
                    size_t *out_len, bool resume_only)
{
    fs38_lifecycle lc = FS38_LIFECYCLE_BLANK;
    if (!ctx || !cfg || !out_len || (!out && cap))
        return FS38_ERR_ARG;
    memset(ctx, 0, sizeof *ctx);
    *out_len = 0;
    fs38_err e = check_config(ctx, cfg);
    if (e != FS38_OK)
        return e;
    e = fs38_identity_lifecycle(cfg->id, &lc);
    if (e != FS38_OK)
        return fs38_diag_set(&ctx->diag, e, "%s", cfg->id->diag.msg);
    switch (lc) {
    case FS38_LIFECYCLE_DECOMMISSIONING:
        ctx->outcome = FS38_DECOM_RESUMED;
        e = load_receipt(ctx, cfg->id->store, out, cap, out_len);
        if (e != FS38_OK)
            return e;
        break;
    case FS38_LIFECYCLE_DECOMMISSIONED:
        if (resume_only)
            return FS38_OK;
        ctx->outcome = FS38_DECOM_ALREADY;
        return load_receipt(ctx, cfg->id->store, out, cap, out_len);
    case FS38_LIFECYCLE_BLANK:
        if (resume_only)
            return FS38_OK;
        return fs38_diag_set(&ctx->diag, FS38_ERR_NOT_PROVISIONED,
                             "device not provisioned: no identity, no key to sign a receipt");
    default:
        if (resume_only)
            return FS38_OK;
        ctx->outcome = FS38_DECOM_DONE;
        e = make_receipt(ctx, cfg, out, cap, out_len);
        if (e == FS38_OK)
            e = fs38_identity_set_lifecycle(cfg->id, FS38_LIFECYCLE_DECOMMISSIONING); /* commit */
        if (e != FS38_OK) {
            *out_len = 0;
            return ctx->diag.err == e ? e : fs38_diag_set(&ctx->diag, e, "%s", cfg->id->diag.msg);
        }
        break;
    }
    e = complete(ctx, cfg, out, *out_len);
    if (e != FS38_OK)
        *out_len = 0;
    return e;
}

fs38_err fs38_decommission(fs38_decommission_ctx *ctx, const fs38_decommission_config *cfg, uint8_t *out,
                           size_t cap, size_t *out_len)
{
    return run(ctx, cfg, out, cap, out_len, false);
}

fs38_err fs38_decommission_resume(fs38_decommission_ctx *ctx, const fs38_decommission_config *cfg, uint8_t *out,
                                  size_t cap, size_t *out_len)
{
    return run(ctx, cfg, out, cap, out_len, true);
}
