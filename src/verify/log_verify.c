/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_verify.c — verification of security-log batches (control 7), for the fleet / backend
 * side (fs38 log verify) and the fuzzer. Contract in fs38/log.h, formats in docs/log-format.md.
 *
 * Trust comes only from k_0 (or a resume state) forward: the verifier derives k_{e+1} from k_e
 * when it accepts the SEAL of epoch e, and never derives a key backwards. Nothing in a record
 * is trusted before its MAC verifies: the header's length only frames the record (bounded by
 * the batch), its seq and kind are read after the MAC, and an epoch number (batch hint, seal
 * payload) only selects which key to try.
 *
 * Walking a batch's records in order, with (next, head, epoch) the chain so far:
 *   A  seq == next and the MAC verifies with prev = head under k_epoch       -> OK
 *   B  seq <  next: already verified (same MAC remembered, or authentic with its
 *      predecessor in the batch, or the start of a run of consecutive older records) -> REPLAYED
 *   C  seq >  next (or head unknown) and the MAC verifies with prev = the 32 bytes just before
 *      it in the batch (its predecessor's MAC field, or the batch's chain link for the first
 *      record) under k_epoch .. k_{epoch+skip}: an anchor. What lies between the last accepted
 *      record and the anchor is analysed (span), then the anchor is accepted.
 *   otherwise the record is damaged: the next anchor is searched byte by byte (a changed length
 *      breaks the framing), and the span before it is analysed.
 * Span analysis names what happened to the seqs next .. anchor-1: a record whose MAC fails
 * where its seq belongs is MODIFIED (a changed tag is told apart from changed content: the
 * following record then verifies with the MAC recomputed from the content); an authentic
 * record out of its place is REORDERED; seqs with no record are MISSING; a record whose own
 * predecessor is missing is UNVERIFIABLE. When exactly one seq is unaccounted for and the span
 * holds damaged bytes, that seq is MODIFIED (a changed header or length).
 *
 * OK needs proof (fs38_log_verify_finish): nothing found AND the last batch ends with the export's
 * authentic, decodable closing checkpoint (signed when signers are given, with the nonce when one
 * is expected). A batch with no record proves nothing and is TRUNCATED wherever it appears; an
 * authentic record whose payload does not decode is MALFORMED.
 *
 * An epoch reached without the seals in between (across a gap, or a batch starting at a later
 * epoch without a resume state) is "unproven": a key captured in that epoch could have made
 * those records. Records that verify only like that are reported OK with `unproven` set, and
 * the verification fails anyway because of the gap.
 */
#include <string.h>
#include "fs38/cbor.h"
#include "inner.h"
#include "fs38/log.h"
#include "fs38/util.h"

#define SEQ_WINDOW (1u << 24)   /* how far ahead an anchor's seq may be */
#define SPAN_NAMED 64u
#define WRONG_KEY_FRAMES 16u
#define COLD_TRIES 4096u        /* MACs tried before anything verified: then "wrong K0" */

typedef struct batch_ctx {
    fs38_log_verifier *v;
    const uint8_t *batch;
    size_t batch_len;
    const uint8_t *blob;
    size_t n;
    size_t blob_off;
    const uint8_t *hint_prev;
    uint64_t hint_start, hint_epoch;
    bool first_checked;        /* the first record's hints were compared */
    uint64_t accepted;         /* records accepted in this batch */
    bool last_accepted_cp;     /* the last record of the batch was accepted and is a checkpoint */
    size_t last_end;           /* end of the last accepted / explained record */
    bool tail_bad;             /* the batch ends in damaged bytes */
    uint64_t cold_tries;       /* MACs tried while nothing verified yet (wrong K0?) */
    struct { uint32_t seq; uint8_t kind; uint8_t mac[FS38_LOG_MAC_LEN]; } adopt[8]; /* authentic, early */
    fs38_log_entry wrap;       /* the latest wrap marker of the batch */
    bool have_wrap;
    unsigned n_adopt;
    uint64_t cp_start;
    bool cp_nonce_ok;
    bool cp_sig_ok;            /* the checkpoint's signature verified with cfg.signers */
} batch_ctx;

/* ---- reporting --------------------------------------------------------------------------------- */

static bool is_problem(fs38_logv_kind k)
{
    return k != FS38_LOGV_OK && k != FS38_LOGV_NOTE;
}

static void report(batch_ctx *b, fs38_logv_kind kind, bool has_seq, uint64_t from, uint64_t to, size_t off,
                   const fs38_log_frame *f, const char *why)
{
    fs38_log_verifier *v = b->v;
    if (is_problem(kind))
        v->problems++;
    if (!v->cfg.report)
        return;
    fs38_logv_item it;
    memset(&it, 0, sizeof it);
    it.kind = kind;
    it.batch = v->batches;
    it.has_seq = has_seq;
    it.from = from;
    it.to = to;
    it.offset = b->blob_off + off;
    it.epoch = v->epoch;
    it.unproven = kind == FS38_LOGV_OK && !v->proven;
    it.frame = f;
    it.why = why ? why : "";
    v->cfg.report(v->cfg.user, &it);
}

/* ---- keys -------------------------------------------------------------------------------------- */

static void drop_ahead(fs38_log_verifier *v)
{
    for (unsigned i = 0; i < v->n_ahead; i++) {
        if (v->ahead[i])
            psa_destroy_key(v->ahead[i]);
        v->ahead[i] = 0;
        fs38_wipe(v->ahead_bytes[i], FS38_LOG_KEY_LEN);
    }
    v->n_ahead = 0;
}

/* Make ahead[0 .. want] exist (want < FS38_LOGV_KEYS). */
static FS38_NODISCARD fs38_err fill_ahead(fs38_log_verifier *v, unsigned want)
{
    while (v->n_ahead <= want) {
        unsigned i = v->n_ahead;
        if (i == 0) {
            memcpy(v->ahead_bytes[0], v->key, FS38_LOG_KEY_LEN);
        } else {
            if (v->epoch + i > v->cfg.max_epoch)
                return FS38_ERR_LIMIT;
            fs38_err e = fs38_log_evolve(v->ahead_bytes[i - 1], v->ahead_bytes[i]);
            if (e)
                return e;
        }
        fs38_err e = fs38_hmac_key_import(v->ahead_bytes[i], FS38_LOG_KEY_LEN, &v->ahead[i]);
        if (e)
            return e;
        v->n_ahead++;
    }
    return FS38_OK;
}

/* k_target (target >= v->epoch) into k: from the nearest cached key at or below it. */
static FS38_NODISCARD fs38_err derive_to(fs38_log_verifier *v, uint64_t target, uint8_t k[FS38_LOG_KEY_LEN])
{
    uint64_t at = v->epoch;
    memcpy(k, v->key, FS38_LOG_KEY_LEN);
    if (v->n_ahead && v->epoch + v->n_ahead - 1u <= target) {
        at = v->epoch + v->n_ahead - 1u;
        memcpy(k, v->ahead_bytes[v->n_ahead - 1], FS38_LOG_KEY_LEN);
    }
    if (v->have_far && v->far_epoch <= target && v->far_epoch > at) {
        at = v->far_epoch;
        memcpy(k, v->far, FS38_LOG_KEY_LEN);
    }
    for (; at < target; at++) {
        fs38_err e = fs38_log_evolve(k, k);
        if (e)
            return e;
    }
    if (target - v->epoch >= FS38_LOGV_KEYS) {
        memcpy(v->far, k, FS38_LOG_KEY_LEN);
        v->far_epoch = (uint32_t)target;
        v->have_far = true;
    }
    return FS38_OK;
}

/* The chain's epoch becomes `epoch` (>= the current one): old keys are wiped. */
static FS38_NODISCARD fs38_err set_epoch(fs38_log_verifier *v, uint32_t epoch)
{
    if (epoch < v->epoch)
        return FS38_ERR_ARG;
    if (epoch > v->cfg.max_epoch)
        return FS38_ERR_LIMIT;
    uint32_t d = epoch - v->epoch;
    if (d == 0)
        return FS38_OK;
    /* remember the key being left (naming late records only) */
    const unsigned slot = v->n_past < 4u ? v->n_past++ : (unsigned)(v->epoch % 4u);
    memcpy(v->past[slot], v->key, FS38_LOG_KEY_LEN);
    v->past_epoch[slot] = v->epoch;
    if (d < v->n_ahead) {
        memcpy(v->key, v->ahead_bytes[d], FS38_LOG_KEY_LEN);
        for (unsigned i = 0; i < d; i++) {
            psa_destroy_key(v->ahead[i]);
            fs38_wipe(v->ahead_bytes[i], FS38_LOG_KEY_LEN);
        }
        for (unsigned i = d; i < v->n_ahead; i++) {
            v->ahead[i - d] = v->ahead[i];
            memcpy(v->ahead_bytes[i - d], v->ahead_bytes[i], FS38_LOG_KEY_LEN);
            v->ahead[i] = 0;
        }
        for (unsigned i = v->n_ahead - d; i < v->n_ahead; i++)
            fs38_wipe(v->ahead_bytes[i], FS38_LOG_KEY_LEN);
        v->n_ahead -= d;
    } else {
        uint8_t k[FS38_LOG_KEY_LEN];
        fs38_err err = derive_to(v, epoch, k);
        if (err) {
            fs38_wipe(k, sizeof k);
            return err;
        }
        drop_ahead(v);
        memcpy(v->key, k, sizeof k);
        fs38_wipe(k, sizeof k);
    }
    v->epoch = epoch;
    return FS38_OK;
}

/*
 * Does f verify with prev under an epoch in [lo, hi] (lo >= v->epoch)? *found gets the epoch.
 * `first` is tried first when in range. FS38_OK, FS38_ERR_BAD_MAC, or a crypto error.
 */
static FS38_NODISCARD fs38_err auth(fs38_log_verifier *v, const fs38_log_frame *f, const uint8_t *prev, uint64_t lo, uint64_t hi,
                     uint64_t first, uint32_t *found)
{
    if (!prev || lo < v->epoch)
        return FS38_ERR_BAD_MAC;
    if (hi > v->cfg.max_epoch)
        hi = v->cfg.max_epoch;
    if (first >= lo && first <= hi && first - v->epoch >= FS38_LOGV_KEYS) {
        /* a far hint (a batch starting at a later epoch): derive it once */
        uint8_t k[FS38_LOG_KEY_LEN];
        psa_key_id_t id = 0;
        fs38_err e = derive_to(v, first, k);
        if (!e)
            e = fs38_hmac_key_import(k, FS38_LOG_KEY_LEN, &id);
        fs38_wipe(k, sizeof k);
        if (!e) {
            e = fs38_log_mac_check(id, prev, f);
            psa_destroy_key(id);
        }
        if (e != FS38_ERR_BAD_MAC) {
            if (!e)
                *found = (uint32_t)first;
            return e;
        }
    }
    uint8_t k[FS38_LOG_KEY_LEN];
    bool have_k = false;
    fs38_err res = FS38_ERR_BAD_MAC;
    if (hi - v->epoch >= FS38_LOGV_KEYS) {
        fs38_err e = fill_ahead(v, FS38_LOGV_KEYS - 1u);
        if (e == FS38_ERR_LIMIT)
            hi = v->epoch + v->n_ahead - 1u;
        else if (e)
            return e;
    }
    for (uint64_t ep = lo; ep <= hi; ep++) {
        const uint64_t i = ep - v->epoch;
        fs38_err e;
        if (i < FS38_LOGV_KEYS) {
            e = fill_ahead(v, (unsigned)i);
            if (e) {
                res = e == FS38_ERR_LIMIT ? FS38_ERR_BAD_MAC : e;
                break;
            }
            e = fs38_log_mac_check(v->ahead[i], prev, f);
        } else {
            if (!have_k) {
                memcpy(k, v->ahead_bytes[v->n_ahead - 1], sizeof k);
                for (uint64_t x = v->epoch + v->n_ahead - 1u; x < ep; x++)
                    if ((e = fs38_log_evolve(k, k)) != FS38_OK)
                        goto out;
                have_k = true;
            } else if ((e = fs38_log_evolve(k, k)) != FS38_OK) {
                goto out;
            }
            psa_key_id_t id = 0;
            e = fs38_hmac_key_import(k, FS38_LOG_KEY_LEN, &id);
            if (e)
                goto out;
            e = fs38_log_mac_check(id, prev, f);
            psa_destroy_key(id);
        }
        if (e == FS38_OK) {
            *found = (uint32_t)ep;
            res = FS38_OK;
            break;
        }
        if (e != FS38_ERR_BAD_MAC) {
            res = e;
            break;
        }
        continue;
    out:
        res = e;
        break;
    }
    fs38_wipe(k, sizeof k);
    return res;
}

/* Does f verify with prev under one of the past epochs' keys? (Naming only.) */
static bool auth_past(fs38_log_verifier *v, const fs38_log_frame *f, const uint8_t *prev)
{
    for (unsigned i = 0; i < v->n_past; i++) {
        psa_key_id_t id = 0;
        if (fs38_hmac_key_import(v->past[i], FS38_LOG_KEY_LEN, &id) != FS38_OK)
            return false;
        fs38_err e = fs38_log_mac_check(id, prev, f);
        psa_destroy_key(id);
        if (e == FS38_OK)
            return true;
    }
    return false;
}

/* ---- remembered records ------------------------------------------------------------------------- */

static void seen_add(fs38_log_verifier *v, uint64_t seq, const uint8_t *mac)
{
    unsigned i = (unsigned)(seq % FS38_LOGV_SEEN);
    v->seen[i].seq = seq;
    memcpy(v->seen[i].mac, mac, sizeof v->seen[i].mac);
}

static bool seen_match(const fs38_log_verifier *v, uint64_t seq, const uint8_t *mac)
{
    unsigned i = (unsigned)(seq % FS38_LOGV_SEEN);
    return v->seen[i].seq == seq && seq < v->next && memcmp(v->seen[i].mac, mac, sizeof v->seen[i].mac) == 0;
}

static const uint8_t *seen_mac(const fs38_log_verifier *v, uint64_t seq)
{
    unsigned i = (unsigned)(seq % FS38_LOGV_SEEN);
    return v->seen[i].seq == seq && seq < v->next ? v->seen[i].mac : NULL;
}

/* ---- gaps --------------------------------------------------------------------------------------- */

static void gap_emit(batch_ctx *b, uint64_t from, uint64_t to, fs38_logv_kind kind, const char *why)
{
    report(b, kind, true, from, to, b->last_end, NULL, why);
}

/* Gaps wait for the record after them: a LOST / TRIM marker may explain them. Those found
 * before the first accepted record (the oldest records) wait until the end. */
static void gap_add(batch_ctx *b, uint64_t from, uint64_t to)
{
    fs38_log_verifier *v = b->v;
    if (from > to)
        return;
    if (v->n_gaps < FS38_LOGV_GAPS) {
        v->gaps[v->n_gaps].from = from;
        v->gaps[v->n_gaps].to = to;
        v->gaps[v->n_gaps].start = !v->any;
        v->n_gaps++;
    } else {
        gap_emit(b, from, to, FS38_LOGV_MISSING, "not in the batches");
    }
}

/* A seq of a pending gap turned up (out of order): it is no longer missing. */
static bool gap_remove(fs38_log_verifier *v, uint64_t q)
{
    for (unsigned i = 0; i < v->n_gaps; i++) {
        uint64_t f = v->gaps[i].from, t = v->gaps[i].to;
        if (q < f || q > t)
            continue;
        if (f == t) {
            v->gaps[i] = v->gaps[--v->n_gaps];
        } else if (q == f) {
            v->gaps[i].from = q + 1u;
        } else if (q == t) {
            v->gaps[i].to = q - 1u;
        } else if (v->n_gaps < FS38_LOGV_GAPS) {
            v->gaps[i].to = q - 1u;
            v->gaps[v->n_gaps].from = q + 1u;
            v->gaps[v->n_gaps].to = t;
            v->gaps[v->n_gaps].start = v->gaps[i].start;
            v->n_gaps++;
        }
        return true;
    }
    return false;
}

static void gap_flush(batch_ctx *b, bool all)
{
    fs38_log_verifier *v = b->v;
    for (unsigned i = 0; i < v->n_gaps;) {
        if (all || !v->gaps[i].start) {
            gap_emit(b, v->gaps[i].from, v->gaps[i].to, FS38_LOGV_MISSING, "not in the batches");
            v->gaps[i] = v->gaps[--v->n_gaps];
        } else {
            i++;
        }
    }
}

/* An authenticated LOST / TRIM marker explains pending gaps (or a gap right before it). */
static void gap_explain(batch_ctx *b, const fs38_log_entry *en);
static void gap_explain(batch_ctx *b, const fs38_log_entry *en)
{
    fs38_log_verifier *v = b->v;
    const bool lost = en->kind == FS38_LOG_LOST;
    const char *why = !lost ? "released (acknowledged) and overwritten on the device: not verified here"
                      : en->reason == FS38_LOG_LOST_TRUNCATED ? "lost on the device (its log was truncated)"
                      : en->reason == FS38_LOG_LOST_CUT ? "lost on the device (overwritten; power cut before the marker)"
                                                        : "lost on the device (ring overwritten before export)";
    /* a wrap marker is cumulative: LOST [from, to] also says everything before `from` was
     * released (acknowledged) before it was overwritten */
    if (lost && en->reason != FS38_LOG_LOST_TRUNCATED && en->from > 0) {
        fs38_log_entry below = *en;
        below.kind = FS38_LOG_TRIM;
        below.from = 0;
        below.to = en->from - 1u;
        gap_explain(b, &below);
    }
    for (unsigned i = 0; i < v->n_gaps;) {
        uint64_t f = v->gaps[i].from, t = v->gaps[i].to;
        if (t < en->from || f > en->to) {
            i++;
            continue;
        }
        uint64_t a = f > en->from ? f : en->from, z = t < en->to ? t : en->to;
        gap_emit(b, a, z, lost ? FS38_LOGV_LOST : FS38_LOGV_RELEASED, why);
        /* keep the parts outside the marker's range */
        if (f < a && z < t && v->n_gaps < FS38_LOGV_GAPS) {
            v->gaps[i].to = a - 1u;
            v->gaps[v->n_gaps].from = z + 1u;
            v->gaps[v->n_gaps].to = t;
            v->gaps[v->n_gaps].start = v->gaps[i].start;
            v->n_gaps++;
            i++;
        } else if (f < a) {
            v->gaps[i].to = a - 1u;
            i++;
        } else if (z < t) {
            v->gaps[i].from = z + 1u;
            i++;
        } else {
            v->gaps[i] = v->gaps[--v->n_gaps];
        }
    }
}

/* ---- accepting ----------------------------------------------------------------------------------- */

static void check_checkpoint(batch_ctx *b, const fs38_log_frame *f, const fs38_log_entry *en,
                             const uint8_t prev[FS38_LOG_MAC_LEN], size_t off)
{
    fs38_log_verifier *v = b->v;
    b->cp_start = en->start;
    b->cp_nonce_ok = v->cfg.nonce ? en->nonce && en->nonce_len == v->cfg.nonce_len &&
                                        memcmp(en->nonce, v->cfg.nonce, en->nonce_len) == 0
                                  : true;
    b->cp_sig_ok = false;
    if (!v->cfg.signers)
        return;
    if (!en->sig) {
        /* only the checkpoint closing the batch must be signed (older ones may predate the
         * device key) */
        if (off + f->size == b->n)
            report(b, FS38_LOGV_BAD_CHECKPOINT, true, f->seq, f->seq, off, f, "checkpoint not signed");
        return;
    }
    uint8_t tbs[128];
    size_t tl = 0;
    fs38_diag d;
    fs38_diag_clear(&d);
    fs38_err e = fs38_log_checkpoint_tbs(f->seq, prev, en->start, en->boot, en->time_ms, en->nonce, en->nonce_len,
                                         tbs, sizeof tbs, &tl);
    if (!e)
        e = fs38_cose_sign1_verify(en->sig, en->sig_len, tbs, tl, NULL, 0, v->cfg.signers, NULL, &d);
    if (e)
        report(b, FS38_LOGV_BAD_CHECKPOINT, true, f->seq, f->seq, off, f,
               e == FS38_ERR_BAD_SIGNATURE || e == FS38_ERR_UNTRUSTED_SIGNER
                   ? "checkpoint signature does not verify with the device certificate"
                   : "checkpoint signature malformed");
    else
        b->cp_sig_ok = true;
}

static const char *malformed_why(uint8_t kind)
{
    switch (kind) {
    case FS38_LOG_GENESIS: return "authentic, but its payload is not a genesis record (CBOR)";
    case FS38_LOG_EVENT: return "authentic, but its payload is not an event (CBOR)";
    case FS38_LOG_SEAL: return "authentic, but its payload is not a seal (CBOR)";
    case FS38_LOG_LOST: return "authentic, but its payload is not a LOST marker (CBOR)";
    case FS38_LOG_TRIM: return "authentic, but its payload is not a TRIM marker (CBOR)";
    case FS38_LOG_CHECKPOINT: return "authentic, but its payload is not a checkpoint (CBOR)";
    case FS38_LOG_RELEASE: return "authentic, but its payload is not a release record (CBOR)";
    }
    return "authentic, but its payload does not decode";
}

/* f verified under `epoch` with predecessor MAC `prev`: it becomes the chain head. */
static FS38_NODISCARD fs38_err accept(batch_ctx *b, const fs38_log_frame *f, size_t off, uint32_t epoch,
                       const uint8_t prev[FS38_LOG_MAC_LEN], const char *why)
{
    fs38_log_verifier *v = b->v;
    if (epoch > v->epoch) {
        fs38_err e = set_epoch(v, epoch);
        if (e)
            return e;
        v->proven = false; /* seals between were not seen */
    }
    fs38_log_entry en;
    /* every payload must decode: an authentic record that does not is a finding (MALFORMED), it
     * still takes its place in the chain (its MAC verified) but steers nothing. Only SEAL, LOST,
     * TRIM and CHECKPOINT steer the verification. */
    const bool needs = f->kind == FS38_LOG_SEAL || f->kind == FS38_LOG_LOST || f->kind == FS38_LOG_TRIM ||
                       f->kind == FS38_LOG_CHECKPOINT;
    const bool decoded = fs38_log_decode(f, &en) == FS38_OK;
    if (needs && decoded && f->kind == FS38_LOG_LOST && en.reason == FS38_LOG_LOST_TRUNCATED) {
        gap_explain(b, &en);
    } else if (needs && decoded && (f->kind == FS38_LOG_LOST || f->kind == FS38_LOG_TRIM)) {
        /* wrap markers are cumulative: the latest one explains the oldest gap (batch end) */
        if (!b->have_wrap || en.to >= b->wrap.to) {
            b->wrap = en;
            b->have_wrap = true;
        }
    }
    v->next = (uint64_t)f->seq + 1u;
    memcpy(v->head, f->mac, FS38_LOG_MAC_LEN);
    v->any = true;
    v->last_ok_seq = f->seq;
    seen_add(v, f->seq, f->mac);
    if (decoded && v->proven)
        v->ok++;
    else if (decoded)
        v->unproven++;
    b->accepted++;
    b->last_end = off + f->size;
    b->last_accepted_cp = decoded && f->kind == FS38_LOG_CHECKPOINT && off + f->size == b->n;
    if (decoded)
        report(b, FS38_LOGV_OK, true, f->seq, f->seq, off, f, why);
    else
        report(b, FS38_LOGV_MALFORMED, true, f->seq, f->seq, off, f, malformed_why(f->kind));
    fs38_err e = FS38_OK;
    if (needs && decoded && f->kind == FS38_LOG_SEAL) {
        if (en.epoch != v->epoch)
            report(b, FS38_LOGV_NOTE, true, f->seq, f->seq, off, f, "seal names another epoch");
        e = v->epoch < UINT32_MAX ? set_epoch(v, v->epoch + 1u) : FS38_ERR_LIMIT;
    } else if (needs && decoded && f->kind == FS38_LOG_CHECKPOINT) {
        check_checkpoint(b, f, &en, prev, off);
    }
    /* records met earlier, authentic but ahead of their place (reported REORDERED then) */
    for (unsigned i = 0; i < b->n_adopt && !e;) {
        if (b->adopt[i].seq != v->next) {
            i++;
            continue;
        }
        memcpy(v->head, b->adopt[i].mac, FS38_LOG_MAC_LEN);
        seen_add(v, v->next, v->head);
        v->next++;
        if (b->adopt[i].kind == FS38_LOG_SEAL)
            e = set_epoch(v, v->epoch + 1u);
        b->adopt[i] = b->adopt[--b->n_adopt];
        i = 0;
    }
    return e;
}

/* ---- batches ------------------------------------------------------------------------------------- */

static const uint8_t *prev_bytes(const batch_ctx *b, size_t off)
{
    if (off == 0)
        return b->hint_prev;
    return off >= FS38_LOG_MAC_LEN ? b->blob + off - FS38_LOG_MAC_LEN : NULL;
}

static FS38_NODISCARD fs38_err frame_at(const batch_ctx *b, size_t off, fs38_log_frame *f)
{
    return fs38_log_frame_parse(b->blob + off, b->n - off, f);
}

/* Epochs an anchor with this seq may be under. */
static uint64_t skip_for(const fs38_log_verifier *v, uint64_t seq)
{
    uint64_t d = seq > v->next ? seq - v->next : 0;
    return d < v->cfg.max_skip ? d : v->cfg.max_skip;
}

/* Is the frame at off an anchor (authentic w.r.t. the bytes before it, seq >= next)? */
static FS38_NODISCARD fs38_err try_anchor(batch_ctx *b, size_t off, const fs38_log_frame *f, uint32_t *epoch)
{
    fs38_log_verifier *v = b->v;
    if (v->any && (f->seq < v->next || f->seq - v->next > SEQ_WINDOW))
        return FS38_ERR_BAD_MAC;
    const uint8_t *p = prev_bytes(b, off);
    if (!p)
        return FS38_ERR_BAD_MAC;
    uint64_t hi = v->epoch + skip_for(v, f->seq);
    uint64_t first = v->epoch;
    if (!v->any && off == 0) {
        /* the first record of a verification that does not start at the genesis */
        first = b->hint_epoch;
        if (first <= f->seq && first > hi)
            hi = first;
    }
    if (!v->any) {
        b->cold_tries += hi - v->epoch + 1u;
        if (b->cold_tries > COLD_TRIES + (hi - v->epoch + 1u))
            return FS38_ERR_LIMIT;
    }
    return auth(v, f, p, v->epoch, hi, first, epoch);
}

/* A record claiming seq < next: already verified? */
static bool is_replay(batch_ctx *b, size_t off, const fs38_log_frame *f, const char **why)
{
    fs38_log_verifier *v = b->v;
    if (seen_match(v, f->seq, f->mac)) {
        *why = "already verified (same record)";
        return true;
    }
    uint32_t ep;
    const uint8_t *p = prev_bytes(b, off);
    if (p && auth(v, f, p, v->epoch, v->epoch, v->epoch, &ep) == FS38_OK) {
        *why = "already verified seq (another record with it)";
        return true;
    }
    fs38_log_frame g;
    if (off + f->size < b->n && frame_at(b, off + f->size, &g) == FS38_OK && g.seq == f->seq + 1u &&
        g.seq < v->next) {
        *why = "sequence goes back to records verified before";
        return true;
    }
    return false;
}

/* The next anchor at or after `from`: its offset, or b->n when none. */
static FS38_NODISCARD fs38_err find_anchor(batch_ctx *b, size_t from, size_t *at)
{
    fs38_log_verifier *v = b->v;
    for (size_t off = from; off + FS38_LOG_OVERHEAD <= b->n; off++) {
        fs38_log_frame f;
        if (frame_at(b, off, &f) != FS38_OK)
            continue;
        uint32_t ep;
        const char *why;
        if (f.seq == v->next) {
            fs38_err e = auth(v, &f, v->head, v->epoch, v->epoch, v->epoch, &ep);
            if (e == FS38_OK) {
                *at = off;
                return FS38_OK;
            }
            if (e != FS38_ERR_BAD_MAC)
                return e;
        }
        if (v->any && f.seq < v->next) {
            if (is_replay(b, off, &f, &why)) {
                *at = off;
                return FS38_OK;
            }
            continue;
        }
        fs38_err e = try_anchor(b, off, &f, &ep);
        if (e == FS38_OK) {
            *at = off;
            return FS38_OK;
        }
        if (e != FS38_ERR_BAD_MAC)
            return e;
    }
    *at = b->n;
    return FS38_OK;
}

typedef struct bad_frame {
    size_t off;
    uint64_t seq;
    bool mac_authentic;   /* its MAC field verified as the predecessor of the anchor */
    bool after_bad;       /* the record before it in the batch is damaged too */
} bad_frame;

/* The MAC of the record with seq q - 1 as far as known: the chain head, a remembered record, or
 * a record of the batch claiming q - 1 (authenticated below, by q's own MAC). */
static const uint8_t *pred_of(batch_ctx *b, uint64_t q, size_t not_at)
{
    fs38_log_verifier *v = b->v;
    if (q == 0)
        return NULL;
    if (q == v->next && (v->any || v->next == 0))
        return v->head;
    const uint8_t *m = seen_mac(v, q - 1u);
    if (m)
        return m;
    for (size_t pos = 0; pos < b->n;) {
        fs38_log_frame g;
        if (fs38_log_frame_parse(b->blob + pos, b->n - pos, &g) != FS38_OK)
            break;
        if (g.seq + 1u == q && pos != not_at)
            return g.mac;
        pos += g.size;
    }
    return NULL;
}

static bool is_named(const uint64_t *named, unsigned n, uint64_t q)
{
    for (unsigned i = 0; i < n; i++)
        if (named[i] == q)
            return true;
    return false;
}

/* Name what lies in [b->last_end, end) given that the anchor after it (if `anchored`) has seq
 * `anchor_seq`. May accept records (a record after one whose tag alone was changed). */
static FS38_NODISCARD fs38_err analyse_span(batch_ctx *b, size_t end, bool anchored, uint64_t anchor_seq)
{
    fs38_log_verifier *v = b->v;
    const size_t start = b->last_end;
    if (start >= end) {
        if (anchored && anchor_seq > v->next)
            gap_add(b, v->next, anchor_seq - 1u);
        return FS38_OK;
    }
    const uint64_t s0 = v->next;
    const uint64_t problems0 = v->problems;
    uint64_t named[SPAN_NAMED];
    unsigned n_named = 0;
    bad_frame bad[SPAN_NAMED];
    unsigned n_bad = 0;
    uint8_t cand[2][FS38_LOG_MAC_LEN];
    unsigned n_cand = 0;
    bool prev_bad = false;
    size_t pos = start;
    bool junk = false;
    fs38_err e;
    while (pos < end) {
        fs38_log_frame f;
        if (fs38_log_frame_parse(b->blob + pos, end - pos, &f) != FS38_OK) {
            junk = true;
            break;
        }
        uint32_t ep = 0;
        const uint64_t expected = v->next;
        bool done = false;
        /* 1. in its place: chained to the head, or to what precedes it (its stored MAC, or the
         *    MAC recomputed from its content when only its tag was changed) */
        if (f.seq == expected && (v->any || expected == 0)) {
            const uint8_t *try_prev[3] = { v->head, n_cand > 0 ? cand[0] : NULL, n_cand > 1 ? cand[1] : NULL };
            for (unsigned c = 0; c < 3 && !done; c++) {
                if (!try_prev[c])
                    continue;
                e = auth(v, &f, try_prev[c], v->epoch, v->epoch, v->epoch, &ep);
                if (e && e != FS38_ERR_BAD_MAC)
                    return e;
                if (!e) {
                    uint8_t prev[FS38_LOG_MAC_LEN];
                    memcpy(prev, try_prev[c], sizeof prev);
                    e = accept(b, &f, pos, ep, prev, "");
                    if (e)
                        return e;
                    done = true;
                }
            }
        }
        if (done) {
            memcpy(cand[0], f.mac, FS38_LOG_MAC_LEN);
            n_cand = 1;
            prev_bad = false;
            pos += f.size;
            continue;
        }
        /* 2. authentic, but not in its place: ahead (reordered), behind (replayed, or a record
         *    of a gap that turns up late) */
        const uint8_t *pp = pred_of(b, f.seq, pos);
        bool authentic = false;
        if (pp) {
            e = auth(v, &f, pp, v->epoch, v->epoch, v->epoch, &ep);
            if (e && e != FS38_ERR_BAD_MAC)
                return e;
            authentic = e == FS38_OK;
            if (!authentic && f.seq < s0)
                authentic = auth_past(v, &f, pp);
        }
        const char *why = "";
        if (authentic && f.seq >= s0) {
            report(b, FS38_LOGV_REORDERED, true, f.seq, f.seq, pos, &f, "authentic record out of its place");
            if (n_named < SPAN_NAMED)
                named[n_named++] = f.seq;
            if (b->n_adopt < sizeof b->adopt / sizeof b->adopt[0]) {
                b->adopt[b->n_adopt].seq = f.seq;
                b->adopt[b->n_adopt].kind = f.kind;
                memcpy(b->adopt[b->n_adopt].mac, f.mac, FS38_LOG_MAC_LEN);
                b->n_adopt++;
            }
            done = true;
        } else if (authentic && gap_remove(v, f.seq)) {
            report(b, FS38_LOGV_REORDERED, true, f.seq, f.seq, pos, &f, "authentic record found later than its place");
            done = true;
        } else if ((authentic && f.seq < s0) || (f.seq < s0 && v->any && is_replay(b, pos, &f, &why))) {
            report(b, FS38_LOGV_REPLAYED, true, f.seq, f.seq, pos, &f,
                   authentic && !seen_match(v, f.seq, f.mac) ? "already verified seq (another record with it)"
                   : *why                                   ? why
                                                            : "already verified (same record)");
            done = true;
        }
        /* 3. damaged */
        uint8_t computed[FS38_LOG_MAC_LEN];
        bool have_computed = false;
        if (!done) {
            const uint8_t *base = n_cand ? cand[0] : (v->any || v->next == 0) ? v->head : NULL;
            if (base && f.seq == expected && fill_ahead(v, 0) == FS38_OK &&
                fs38_log_mac(v->ahead[0], prev_bad ? base : v->head, f.start, FS38_LOG_HDR_LEN + f.plen, computed) ==
                    FS38_OK)
                have_computed = true;
            if (f.seq == expected && (!anchored || expected < anchor_seq)) {
                if (prev_bad)
                    report(b, FS38_LOGV_UNVERIFIABLE, true, f.seq, f.seq, pos, NULL,
                           "cannot be checked: the record before it is damaged (or this one is)");
                else
                    report(b, FS38_LOGV_MODIFIED, true, f.seq, f.seq, pos, NULL, "record fails its MAC");
                if (n_named < SPAN_NAMED)
                    named[n_named++] = f.seq;
                /* its place is taken: the chain goes on with its stored or recomputed MAC */
                v->next = expected + 1u;
            } else if (n_bad < SPAN_NAMED) {
                bad[n_bad].off = pos;
                bad[n_bad].seq = f.seq;
                bad[n_bad].mac_authentic = anchored && pos + f.size == end;
                bad[n_bad].after_bad = prev_bad;
                n_bad++;
            }
        }
        memcpy(cand[0], f.mac, FS38_LOG_MAC_LEN);
        n_cand = 1;
        if (have_computed) {
            memcpy(cand[1], computed, FS38_LOG_MAC_LEN);
            n_cand = 2;
        }
        fs38_wipe(computed, sizeof computed);
        prev_bad = !done;
        pos += f.size;
    }
    if (!anchored)
        b->tail_bad = true;

    /* seqs still unaccounted for: [lo, hi) minus the named ones */
    const uint64_t lo = v->next;
    uint64_t hi = anchored ? (anchor_seq > lo ? anchor_seq : lo) : lo; /* exclusive */
    if (!anchored && (junk || n_bad))
        hi = lo + (n_bad ? n_bad : 1u); /* the damaged tail holds the records expected next */
    /* exactly one seq unaccounted for and damaged bytes: that record was changed (header,
     * length, tag) */
    uint64_t unnamed = 0, the_one = 0;
    for (uint64_t q = lo; q < hi && unnamed < 2; q++)
        if (!is_named(named, n_named, q)) {
            unnamed++;
            the_one = q;
        }
    if (unnamed == 1 && (junk || n_bad)) {
        report(b, FS38_LOGV_MODIFIED, true, the_one, the_one, n_bad ? bad[0].off : start, NULL,
               "record changed (header, length or tag)");
        if (n_named < SPAN_NAMED)
            named[n_named++] = the_one;
        n_bad = 0;
        junk = false;
    }
    for (unsigned i = 0; i < n_bad; i++) {
        const uint64_t q = bad[i].seq;
        if (q >= lo && q < hi && !is_named(named, n_named, q)) {
            const bool pred_missing = q > lo && !is_named(named, n_named, q - 1u);
            if (bad[i].mac_authentic && pred_missing && !bad[i].after_bad)
                report(b, FS38_LOGV_UNVERIFIABLE, true, q, q, bad[i].off, NULL,
                       "cannot be checked: the record before it is missing");
            else
                report(b, FS38_LOGV_MODIFIED, true, q, q, bad[i].off, NULL, "record fails its MAC");
            if (n_named < SPAN_NAMED)
                named[n_named++] = q;
        } else {
            report(b, FS38_LOGV_MODIFIED, false, q, q, bad[i].off, NULL,
                   "record fails its MAC (and its seq does not belong here)");
        }
    }
    if (junk && v->problems == problems0)
        report(b, FS38_LOGV_MODIFIED, false, 0, 0, pos, NULL, "bytes that are no record");
    /* missing: the unnamed seqs, as ranges */
    if (anchored && hi > lo) {
        for (unsigned i = 1; i < n_named; i++) /* sort */
            for (unsigned j = i; j > 0 && named[j - 1] > named[j]; j--) {
                uint64_t t = named[j];
                named[j] = named[j - 1];
                named[j - 1] = t;
            }
        uint64_t cur = lo;
        for (unsigned i = 0; i < n_named; i++) {
            if (named[i] < cur || named[i] >= hi)
                continue;
            if (named[i] > cur)
                gap_add(b, cur, named[i] - 1u);
            cur = named[i] + 1u;
        }
        if (cur < hi)
            gap_add(b, cur, hi - 1u);
    }
    return FS38_OK;
}

/* First accepted record of a batch: do the header's hints agree with it? */
static void check_hints(batch_ctx *b, const fs38_log_frame *f, uint32_t epoch, const uint8_t *prev_used)
{
    if (b->first_checked)
        return;
    b->first_checked = true;
    if (b->hint_start != f->seq)
        report(b, FS38_LOGV_BAD_BATCH, true, f->seq, f->seq, 0, NULL, "batch header: start seq modified");
    else if (b->hint_epoch != epoch)
        report(b, FS38_LOGV_BAD_BATCH, true, f->seq, f->seq, 0, NULL, "batch header: epoch modified");
    else if (memcmp(b->hint_prev, prev_used, FS38_LOG_MAC_LEN) != 0)
        report(b, FS38_LOGV_BAD_BATCH, true, f->seq, f->seq, 0, NULL, "batch header: chain link modified");
}

/* The last record ends past the batch: was only its length byte changed? */
static FS38_NODISCARD fs38_err tail_length_changed(batch_ctx *b, size_t off, bool *changed)
{
    fs38_log_verifier *v = b->v;
    const size_t avail = b->n - off;
    uint8_t tmp[FS38_LOG_REC_MAX];
    *changed = false;
    if (avail < FS38_LOG_OVERHEAD || avail - FS38_LOG_OVERHEAD > FS38_LOG_PAYLOAD_MAX || !(v->any || v->next == 0))
        return FS38_OK;
    memcpy(tmp, b->blob + off, avail);
    tmp[1] = (uint8_t)(avail - FS38_LOG_OVERHEAD);
    fs38_log_frame f;
    uint32_t ep;
    if (fs38_log_frame_parse(tmp, avail, &f) != FS38_OK || f.seq != v->next)
        return FS38_OK;
    fs38_err e = auth(v, &f, v->head, v->epoch, v->epoch, v->epoch, &ep);
    if (e == FS38_OK) {
        *changed = true;
        report(b, FS38_LOGV_MODIFIED, true, f.seq, f.seq, off, NULL, "record changed (its length)");
        b->last_end = b->n;
        b->tail_bad = true;
    }
    return e == FS38_ERR_BAD_MAC ? FS38_OK : e;
}

/* Before anything verified: does any record of the batch verify with this K0 at all? (A wrong
 * key is then one finding, not one per record.) */
static FS38_NODISCARD fs38_err probe_key(batch_ctx *b, bool *any_ok)
{
    fs38_log_verifier *v = b->v;
    *any_ok = true;
    if (v->any)
        return FS38_OK;
    unsigned frames = 0;
    for (size_t pos = 0; pos < b->n;) {
        fs38_log_frame f;
        if (fs38_log_frame_parse(b->blob + pos, b->n - pos, &f) != FS38_OK)
            break;
        uint32_t ep;
        const uint8_t *p = f.seq == 0 && v->next == 0 ? v->head : prev_bytes(b, pos);
        fs38_err e = p ? try_anchor(b, pos, &f, &ep) : FS38_ERR_BAD_MAC;
        if (e == FS38_OK || (e && e != FS38_ERR_BAD_MAC && e != FS38_ERR_LIMIT))
            return e;
        if (f.seq == 0 && v->next == 0 && auth(v, &f, v->head, 0, 0, 0, &ep) == FS38_OK)
            return FS38_OK;
        if (e == FS38_ERR_LIMIT)
            break;
        frames++;
        pos += f.size;
    }
    b->cold_tries = 0;
    *any_ok = frames < 2;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err walk(batch_ctx *b)
{
    fs38_log_verifier *v = b->v;
    size_t off = 0;
    unsigned failures = 0;
    fs38_err e;
    while (off < b->n) {
        fs38_log_frame f;
        fs38_err pe = frame_at(b, off, &f);
        if (pe == FS38_ERR_TRUNCATED && b->last_end == off) {
            bool changed = false;
            e = tail_length_changed(b, off, &changed);
            if (e)
                return e;
            if (changed)
                break;
            /* a length pointing past the end: changed, or really the end of the batch? */
            size_t at = b->n;
            e = find_anchor(b, off + 1u, &at);
            if (e && e != FS38_ERR_LIMIT)
                return e;
            if (e || at >= b->n)
                break; /* an incomplete record at the end */
            off = at;
            continue;
        }
        uint32_t ep = 0;
        if (pe == FS38_OK) {
            /* A: in its place */
            const bool head_known = v->any || v->next == 0;
            if (head_known && f.seq == v->next) {
                e = auth(v, &f, v->head, v->epoch, v->epoch, v->epoch, &ep);
                if (e && e != FS38_ERR_BAD_MAC)
                    return e;
                if (!e) {
                    e = analyse_span(b, off, true, f.seq);
                    if (e)
                        return e;
                    uint8_t prev[FS38_LOG_MAC_LEN];
                    memcpy(prev, v->head, sizeof prev);
                    if (off == 0)
                        check_hints(b, &f, ep, prev);
                    e = accept(b, &f, off, ep, prev, "");
                    if (e)
                        return e;
                    off += f.size;
                    continue;
                }
            }
            /* B: going back */
            const char *why;
            if (v->any && f.seq < v->next && is_replay(b, off, &f, &why)) {
                e = analyse_span(b, off, true, v->next);
                if (e)
                    return e;
                report(b, FS38_LOGV_REPLAYED, true, f.seq, f.seq, off, &f, why);
                off += f.size;
                b->last_end = off;
                continue;
            }
            /* C: an anchor */
            e = try_anchor(b, off, &f, &ep);
            if (e == FS38_ERR_LIMIT)
                e = FS38_ERR_BAD_MAC;
            if (e && e != FS38_ERR_BAD_MAC)
                return e;
            if (!e) {
                const uint8_t *p = prev_bytes(b, off);
                uint8_t prev[FS38_LOG_MAC_LEN];
                memcpy(prev, p, sizeof prev);
                const bool fork = v->any && f.seq == v->next && memcmp(prev, v->head, sizeof prev) != 0;
                e = analyse_span(b, off, true, f.seq);
                if (e)
                    return e;
                if (off == 0 && !fork)
                    check_hints(b, &f, ep, prev);
                if (fork) {
                    report(b, FS38_LOGV_UNVERIFIABLE, true, f.seq, f.seq, off, &f,
                           "chains to another record than the one verified before it (forked log)");
                    v->proven = false;
                }
                e = accept(b, &f, off, ep, prev, "");
                if (e)
                    return e;
                off += f.size;
                continue;
            }
        }
        /* damaged: resynchronise */
        if (!v->any && ++failures >= WRONG_KEY_FRAMES && b->accepted == 0) {
            report(b, FS38_LOGV_BAD_BATCH, false, 0, 0, off, NULL,
                   "no record verifies with this K0 (another device's log, or all modified)");
            b->last_end = b->n;
            b->tail_bad = true;
            return FS38_OK;
        }
        size_t at = b->n;
        e = find_anchor(b, off + 1u, &at);
        if (e == FS38_ERR_LIMIT && !v->any) {
            report(b, FS38_LOGV_BAD_BATCH, false, 0, 0, off, NULL,
                   "no record verifies with this K0 (another device's log, or all modified)");
            b->last_end = b->n;
            b->tail_bad = true;
            return FS38_OK;
        }
        if (e)
            return e;
        if (at >= b->n) {
            e = analyse_span(b, b->n, false, 0);
            if (e)
                return e;
            b->last_end = b->n;
            b->tail_bad = true;
            break;
        }
        off = at;
    }
    return FS38_OK;
}

fs38_err fs38_log_verify_batch(fs38_log_verifier *v, const uint8_t *batch, size_t len)
{
    if (!v || !batch)
        return FS38_ERR_ARG;
    v->batches++;
    batch_ctx b;
    memset(&b, 0, sizeof b);
    b.v = v;
    b.batch = batch;
    b.batch_len = len;
    fs38_log_batch pb;
    fs38_diag d;
    fs38_diag_clear(&d);
    if (fs38_log_batch_parse(batch, len, &pb, &d) != FS38_OK) {
        report(&b, FS38_LOGV_BAD_BATCH, false, 0, 0, 0, NULL, d.msg);
        v->last_tail_damaged = true;
        return FS38_OK;
    }
    b.blob = pb.records;
    b.n = pb.records_len;
    b.blob_off = pb.records_off;
    b.hint_prev = pb.prev;
    b.hint_start = pb.start;
    b.hint_epoch = pb.epoch;
    if (!v->run_open) {
        v->run_start = pb.start;
        v->run_open = true;
    }
    bool key_ok = true;
    fs38_err e = probe_key(&b, &key_ok);
    if (e)
        return e;
    if (!key_ok) {
        report(&b, FS38_LOGV_BAD_BATCH, false, 0, 0, 0, NULL,
               "no record verifies with this K0 (another device's log, or all modified)");
        v->last_tail_damaged = true;
        return FS38_OK;
    }
    e = walk(&b);
    if (e)
        return e;
    if (b.have_wrap) {
        b.wrap.link = NULL;
        gap_explain(&b, &b.wrap);
    }
    gap_flush(&b, false);
    const size_t bytes_end = b.last_end;
    if (bytes_end < b.n && !b.tail_bad) {
        /* an incomplete record at the end */
        report(&b, FS38_LOGV_TRUNCATED, true, v->any ? v->next - 1u : 0, v->any ? v->next - 1u : 0, bytes_end,
               NULL, "the batch ends inside a record");
        b.tail_bad = true;
    } else if (pb.truncated && !b.tail_bad) {
        report(&b, FS38_LOGV_TRUNCATED, true, v->any ? v->next - 1u : 0, v->any ? v->next - 1u : 0, bytes_end,
               NULL, "the batch is shorter than its records field says");
        b.tail_bad = true;
    }
    if (b.n == 0 && !pb.truncated) {
        /* no record: nothing is proven (not the chain, not a checkpoint, not the nonce) */
        report(&b, FS38_LOGV_TRUNCATED, v->any, v->any ? v->next - 1u : 0, v->any ? v->next - 1u : 0, 0, NULL,
               "the batch holds no record, not even a closing checkpoint");
        b.tail_bad = true;
    }
    if (pb.trailing)
        report(&b, FS38_LOGV_BAD_BATCH, false, 0, 0, b.n, NULL, "bytes after the batch");
    if (b.accepted || b.tail_bad) {
        v->last_tail_damaged = b.tail_bad;
        v->last_closed = b.last_accepted_cp && !b.tail_bad;
        v->last_nonce_ok = false;
        v->last_sig_ok = false;
        if (v->last_closed) {
            if (b.cp_start != v->run_start)
                report(&b, FS38_LOGV_BAD_CHECKPOINT, true, v->next - 1u, v->next - 1u, b.last_end, NULL,
                       "the checkpoint closes an export that starts elsewhere");
            v->run_open = false;
            v->last_nonce_ok = b.cp_nonce_ok;
            v->last_sig_ok = b.cp_sig_ok;
        }
    }
    return FS38_OK;
}

fs38_err fs38_log_verify_init(fs38_log_verifier *v, const fs38_log_verify_config *cfg)
{
    if (!v || !cfg || !cfg->k0 || (cfg->nonce_len && !cfg->nonce) || cfg->nonce_len > FS38_LOG_NONCE_MAX)
        return FS38_ERR_ARG;
    memset(v, 0, sizeof *v);
    v->cfg = *cfg;
    if (!v->cfg.max_epoch)
        v->cfg.max_epoch = FS38_LOG_MAX_EPOCH_DEFAULT;
    if (!v->cfg.max_skip)
        v->cfg.max_skip = FS38_LOG_MAX_SKIP_DEFAULT;
    for (unsigned i = 0; i < FS38_LOGV_SEEN; i++)
        v->seen[i].seq = UINT64_MAX;
    if (psa_crypto_init() != PSA_SUCCESS)
        return FS38_ERR_CRYPTO;
    memcpy(v->key, cfg->k0, FS38_LOG_KEY_LEN);
    v->proven = true;
    memset(v->head, 0, sizeof v->head);
    if (cfg->resume) {
        fs38_err e = set_epoch(v, cfg->resume->epoch);
        if (e) {
            fs38_log_verify_free(v);
            return e;
        }
        v->next = cfg->resume->next;
        memcpy(v->head, cfg->resume->head, FS38_LOG_MAC_LEN);
        v->any = true;
    }
    return FS38_OK;
}

fs38_err fs38_log_verify_finish(fs38_log_verifier *v, fs38_log_vstate *state)
{
    if (!v)
        return FS38_ERR_ARG;
    batch_ctx b;
    memset(&b, 0, sizeof b);
    b.v = v;
    /* OK needs proof: the last batch ends with the export's authentic closing checkpoint
     * (signed when signers are given, with the nonce when one is expected). Anything less is a
     * finding even when nothing else was (an empty batch proves nothing). */
    if (v->batches == 0) {
        report(&b, FS38_LOGV_TRUNCATED, false, 0, 0, 0, NULL, "no batch");
    } else if (!v->last_closed) {
        /* a damaged tail was reported where it is */
        if (!v->last_tail_damaged || v->problems == 0) {
            if (v->any)
                report(&b, FS38_LOGV_TRUNCATED, true, v->next - 1u, v->next - 1u, 0, NULL,
                       "the export ends without its checkpoint");
            else
                report(&b, FS38_LOGV_TRUNCATED, false, 0, 0, 0, NULL,
                       "no record verified: the export ends without its checkpoint");
        }
    } else if (v->cfg.nonce && !v->last_nonce_ok) {
        report(&b, FS38_LOGV_BAD_CHECKPOINT, true, v->next - 1u, v->next - 1u, 0, NULL,
               "the final checkpoint does not carry the expected nonce (stale export)");
    } else if (v->cfg.signers && !v->last_sig_ok && v->problems == 0) {
        report(&b, FS38_LOGV_BAD_CHECKPOINT, true, v->next - 1u, v->next - 1u, 0, NULL,
               "the final checkpoint's signature was not verified");
    }
    gap_flush(&b, true);
    if (state) {
        state->next = v->next;
        state->epoch = v->epoch;
        memcpy(state->head, v->head, FS38_LOG_MAC_LEN);
    }
    return v->problems ? FS38_ERR_LOG_VERIFY : FS38_OK;
}

void fs38_log_verify_free(fs38_log_verifier *v)
{
    if (!v)
        return;
    drop_ahead(v);
    fs38_wipe(v, sizeof *v);
}
