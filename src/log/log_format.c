/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_format.c — security-log formats shared by the device (log.c), the verifier
 * (log_verify.c) and the host tools: record framing, payload decoding, batch parsing, the
 * epoch key evolution and the checkpoint's signed payload. See docs/log-format.md.
 */
#include <string.h>
#include "fs38/cbor.h"
#include "inner.h"
#include "fs38/log.h"
#include "fs38/util.h"

#define REC_MAGIC 0xB0u

static const uint8_t k_epoch_info[] = "fs38 log epoch";
static const char k_cp_context[] = "fs38-log-checkpoint";

fs38_err fs38_log_frame_parse(const uint8_t *p, size_t avail, fs38_log_frame *f)
{
    if (!p || !f)
        return FS38_ERR_ARG;
    memset(f, 0, sizeof *f);
    if (avail < FS38_LOG_HDR_LEN)
        return FS38_ERR_TRUNCATED;
    const uint8_t kind = (uint8_t)(p[0] & 0x0Fu);
    if ((p[0] & 0xF0u) != REC_MAGIC || kind < FS38_LOG_GENESIS || kind > FS38_LOG_RELEASE)
        return FS38_ERR_LOG_BATCH;
    f->kind = kind;
    f->plen = p[1];
    f->seq = fs38_get_le32(p + 2);
    f->start = p;
    f->size = FS38_LOG_OVERHEAD + f->plen;
    f->payload = p + FS38_LOG_HDR_LEN;
    f->mac = p + FS38_LOG_HDR_LEN + f->plen;
    if (avail < f->size)
        return FS38_ERR_TRUNCATED;
    return FS38_OK;
}

/* ---- payloads --------------------------------------------------------------------------------- */

static FS38_NODISCARD fs38_err get_u(fs38_cbor_dec *d, uint64_t *v)
{
    return fs38_cbor_get_uint(d, v);
}

/* uint or null (null -> *present = false). */
static FS38_NODISCARD fs38_err get_u_or_null(fs38_cbor_dec *d, uint64_t *v, bool *present)
{
    if (fs38_cbor_next_is_null(d)) {
        *present = false;
        *v = 0;
        return fs38_cbor_get_null(d);
    }
    *present = true;
    return fs38_cbor_get_uint(d, v);
}

static FS38_NODISCARD fs38_err get_bstr_or_null(fs38_cbor_dec *d, const uint8_t **p, size_t *len)
{
    if (fs38_cbor_next_is_null(d)) {
        *p = NULL;
        *len = 0;
        return fs38_cbor_get_null(d);
    }
    return fs38_cbor_get_bstr(d, p, len);
}

fs38_err fs38_log_mac(psa_key_id_t key, const uint8_t prev[FS38_LOG_MAC_LEN], const uint8_t *rec, size_t n,
                      uint8_t out[FS38_LOG_MAC_LEN])
{
    psa_mac_operation_t op = PSA_MAC_OPERATION_INIT;
    size_t ol = 0;
    psa_status_t st = psa_mac_sign_setup(&op, key, PSA_ALG_HMAC(PSA_ALG_SHA_256));
    if (st == PSA_SUCCESS)
        st = psa_mac_update(&op, prev, FS38_LOG_MAC_LEN);
    if (st == PSA_SUCCESS)
        st = psa_mac_update(&op, rec, n);
    if (st == PSA_SUCCESS)
        st = psa_mac_sign_finish(&op, out, FS38_LOG_MAC_LEN, &ol);
    psa_mac_abort(&op);
    return st == PSA_SUCCESS && ol == FS38_LOG_MAC_LEN ? FS38_OK : FS38_ERR_CRYPTO;
}

fs38_err fs38_log_mac_check(psa_key_id_t key, const uint8_t prev[FS38_LOG_MAC_LEN], const fs38_log_frame *f)
{
    psa_mac_operation_t op = PSA_MAC_OPERATION_INIT;
    psa_status_t st = psa_mac_verify_setup(&op, key, PSA_ALG_HMAC(PSA_ALG_SHA_256));
    if (st == PSA_SUCCESS)
        st = psa_mac_update(&op, prev, FS38_LOG_MAC_LEN);
    if (st == PSA_SUCCESS)
        st = psa_mac_update(&op, f->start, FS38_LOG_HDR_LEN + f->plen);
    if (st == PSA_SUCCESS)
        st = psa_mac_verify_finish(&op, f->mac, FS38_LOG_MAC_LEN);
    psa_mac_abort(&op);
    if (st == PSA_ERROR_INVALID_SIGNATURE)
        return FS38_ERR_BAD_MAC;
    return st == PSA_SUCCESS ? FS38_OK : FS38_ERR_CRYPTO;
}

fs38_err fs38_log_decode(const fs38_log_frame *f, fs38_log_entry *e)
{
    if (!f || !e || !f->payload)
        return FS38_ERR_ARG;
    memset(e, 0, sizeof *e);
    e->kind = (fs38_log_kind)f->kind;
    e->seq = f->seq;
    fs38_cbor_dec d;
    fs38_cbor_dec_init(&d, f->payload, f->plen);
    size_t n = 0;
    fs38_err err = fs38_cbor_get_array(&d, &n);
    if (err)
        return FS38_ERR_LOG_BATCH;
    bool present = false;
    size_t len = 0;
    const uint8_t *p = NULL;
    switch (e->kind) {
    case FS38_LOG_GENESIS:
        if (n != 5)
            return FS38_ERR_LOG_BATCH;
        err = get_u(&d, &e->version);
        if (!err) err = get_u(&d, &e->boot);
        if (!err) err = get_u(&d, &e->time_ms);
        if (!err) err = get_u(&d, &e->epoch_records);
        if (!err) err = get_u_or_null(&d, &e->prev_head, &present);
        e->cleared = present;
        break;
    case FS38_LOG_EVENT: {
        if (n != 6)
            return FS38_ERR_LOG_BATCH;
        err = fs38_cbor_get_int(&d, &e->code);
        if (!err) err = fs38_cbor_get_int(&d, &e->severity);
        if (!err) err = get_u(&d, &e->boot);
        if (!err) err = get_u(&d, &e->time_ms);
        if (!err) err = fs38_cbor_get_int(&d, &e->arg);
        if (!err) err = fs38_cbor_get_tstr(&d, &e->detail, &e->detail_len);
        break;
    }
    case FS38_LOG_SEAL:
        if (n != 1)
            return FS38_ERR_LOG_BATCH;
        err = get_u(&d, &e->epoch);
        break;
    case FS38_LOG_LOST:
    case FS38_LOG_TRIM:
        if (n != (e->kind == FS38_LOG_LOST ? 4u : 3u))
            return FS38_ERR_LOG_BATCH;
        err = get_u(&d, &e->from);
        if (!err) err = get_u(&d, &e->to);
        if (!err) err = get_bstr_or_null(&d, &p, &len);
        if (!err && p && len != FS38_LOG_MAC_LEN)
            err = FS38_ERR_LOG_BATCH;
        e->link = p;
        if (!err && e->kind == FS38_LOG_LOST)
            err = get_u(&d, &e->reason);
        if (!err && (e->from > e->to || e->to > UINT32_MAX))
            err = FS38_ERR_LOG_BATCH;
        break;
    case FS38_LOG_CHECKPOINT:
        if (n != 5)
            return FS38_ERR_LOG_BATCH;
        err = get_u(&d, &e->start);
        if (!err) err = get_u(&d, &e->boot);
        if (!err) err = get_u(&d, &e->time_ms);
        if (!err) err = get_bstr_or_null(&d, &e->nonce, &e->nonce_len);
        if (!err && e->nonce_len > FS38_LOG_NONCE_MAX)
            err = FS38_ERR_LOG_BATCH;
        if (!err) err = get_bstr_or_null(&d, &e->sig, &e->sig_len);
        break;
    case FS38_LOG_RELEASE:
        if (n != 3)
            return FS38_ERR_LOG_BATCH;
        err = get_u(&d, &e->upto);
        if (!err) err = get_u(&d, &e->boot);
        if (!err) err = get_u(&d, &e->time_ms);
        break;
    default:
        return FS38_ERR_LOG_BATCH;
    }
    if (err || !fs38_cbor_at_end(&d))
        return FS38_ERR_LOG_BATCH;
    return FS38_OK;
}

/* ---- batches ---------------------------------------------------------------------------------- */

fs38_err fs38_log_batch_parse(const uint8_t *buf, size_t len, fs38_log_batch *b, fs38_diag *diag)
{
    if (!buf || !b)
        return FS38_ERR_ARG;
    memset(b, 0, sizeof *b);
    fs38_cbor_dec d;
    fs38_cbor_dec_init(&d, buf, len);
    size_t n = 0;
    const char *magic = NULL;
    size_t mlen = 0;
    uint64_t version = 0;
    const uint8_t *prev = NULL;
    size_t plen = 0;
    if (fs38_cbor_get_array(&d, &n) || n != 6)
        return fs38_diag_set(diag, FS38_ERR_LOG_BATCH, "not an fs38 log batch (no 6-element array)");
    if (fs38_cbor_get_tstr(&d, &magic, &mlen) || mlen != sizeof FS38_LOG_BATCH_MAGIC - 1u ||
        memcmp(magic, FS38_LOG_BATCH_MAGIC, mlen) != 0)
        return fs38_diag_set(diag, FS38_ERR_LOG_BATCH, "not an fs38 log batch (magic)");
    if (fs38_cbor_get_uint(&d, &version) || version != FS38_LOG_BATCH_VERSION)
        return fs38_diag_set(diag, FS38_ERR_LOG_BATCH, "unsupported log batch version");
    if (fs38_cbor_get_uint(&d, &b->start) || b->start > UINT32_MAX)
        return fs38_diag_set(diag, FS38_ERR_LOG_BATCH, "batch header: bad start sequence");
    if (fs38_cbor_get_uint(&d, &b->epoch) || b->epoch > UINT32_MAX)
        return fs38_diag_set(diag, FS38_ERR_LOG_BATCH, "batch header: bad epoch");
    if (fs38_cbor_get_bstr(&d, &prev, &plen) || plen != FS38_LOG_MAC_LEN)
        return fs38_diag_set(diag, FS38_ERR_LOG_BATCH, "batch header: bad chain link");
    b->prev = prev;
    /* The records string is read by hand: a batch cut short keeps what it has (the verifier
     * then reports exactly where it was truncated). */
    fs38_cbor_head h;
    const size_t at = d.pos;
    fs38_err e = fs38_cbor_peek(&d, &h);
    if (e == FS38_ERR_CBOR_TRUNCATED && at < len && (buf[at] >> 5) == FS38_CBOR_BSTR) {
        /* head or content runs past the end */
        uint8_t ai = (uint8_t)(buf[at] & 0x1f);
        size_t hl = ai < 24 ? 1u : ai <= 27 ? 1u + ((size_t)1 << (ai - 24)) : 0u;
        if (hl == 0 || hl > len - at)
            return fs38_diag_set(diag, FS38_ERR_LOG_BATCH, "batch: records field cut short");
        b->records = buf + at + hl;
        b->records_len = len - at - hl;
        b->records_off = at + hl;
        b->truncated = true;
        return FS38_OK;
    }
    if (e || h.major != FS38_CBOR_BSTR)
        return fs38_diag_set(diag, FS38_ERR_LOG_BATCH, "batch: bad records field");
    b->records = buf + at + h.head_len;
    b->records_len = (size_t)h.value;
    b->records_off = at + h.head_len;
    b->trailing = len - (at + h.head_len + (size_t)h.value);
    return FS38_OK;
}

/* ---- keys ------------------------------------------------------------------------------------- */

fs38_err fs38_log_evolve(const uint8_t in[FS38_LOG_KEY_LEN], uint8_t out[FS38_LOG_KEY_LEN])
{
    if (!in || !out)
        return FS38_ERR_ARG;
    uint8_t tmp[FS38_LOG_KEY_LEN];
    psa_key_derivation_operation_t op = PSA_KEY_DERIVATION_OPERATION_INIT;
    psa_status_t st = psa_key_derivation_setup(&op, PSA_ALG_HKDF(PSA_ALG_SHA_256));
    if (st == PSA_SUCCESS)
        st = psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_SECRET, in, FS38_LOG_KEY_LEN);
    if (st == PSA_SUCCESS)
        st = psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_INFO, k_epoch_info,
                                            sizeof k_epoch_info - 1u);
    if (st == PSA_SUCCESS)
        st = psa_key_derivation_output_bytes(&op, tmp, sizeof tmp);
    psa_key_derivation_abort(&op);
    if (st != PSA_SUCCESS) {
        fs38_wipe(tmp, sizeof tmp);
        return FS38_ERR_CRYPTO;
    }
    memcpy(out, tmp, sizeof tmp);
    fs38_wipe(tmp, sizeof tmp);
    return FS38_OK;
}

fs38_err fs38_log_checkpoint_tbs(uint32_t seq, const uint8_t prev[FS38_LOG_MAC_LEN], uint64_t start,
                                 uint64_t boot, uint64_t time_ms, const uint8_t *nonce, size_t nonce_len,
                                 uint8_t *out, size_t cap, size_t *len)
{
    if (!prev || !len || (!nonce && nonce_len))
        return FS38_ERR_ARG;
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, out, cap);
    fs38_cbor_put_array(&e, 7);
    fs38_cbor_put_tstr(&e, k_cp_context, sizeof k_cp_context - 1u);
    fs38_cbor_put_uint(&e, seq);
    fs38_cbor_put_bstr(&e, prev, FS38_LOG_MAC_LEN);
    fs38_cbor_put_uint(&e, start);
    fs38_cbor_put_uint(&e, boot);
    fs38_cbor_put_uint(&e, time_ms);
    if (nonce)
        fs38_cbor_put_bstr(&e, nonce, nonce_len);
    else
        fs38_cbor_put_null(&e);
    return fs38_cbor_enc_finish(&e, len);
}

const char *fs38_logv_name(fs38_logv_kind k)
{
    switch (k) {
    case FS38_LOGV_OK: return "ok";
    case FS38_LOGV_MODIFIED: return "modified";
    case FS38_LOGV_MISSING: return "missing";
    case FS38_LOGV_LOST: return "lost";
    case FS38_LOGV_RELEASED: return "released";
    case FS38_LOGV_REORDERED: return "reordered";
    case FS38_LOGV_REPLAYED: return "replayed";
    case FS38_LOGV_UNVERIFIABLE: return "unverifiable";
    case FS38_LOGV_TRUNCATED: return "truncated";
    case FS38_LOGV_BAD_CHECKPOINT: return "bad checkpoint";
    case FS38_LOGV_BAD_BATCH: return "bad batch";
    case FS38_LOGV_NOTE: return "note";
    case FS38_LOGV_MALFORMED: return "malformed";
    }
    return "unknown";
}
