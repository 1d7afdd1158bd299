/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_log.c — libFuzzer target for the security-log batch parser and verifier (fs38/log.h).
 *
 * Input: one flags byte, then one batch — or, with flag 0x04, two batches split at the position
 * given by the next two bytes (big endian, modulo the rest). k0 is fixed (32 x 0x4b: the seeds in
 * fuzz/corpus/log/ are real exports of a log created with fs38_log_create(k0_in) = that key —
 * small, signed with a nonce and seals, two batches, a replay, a resume, a wrapped ring with a
 * cumulative LOST marker, a tampered byte, a truncated tail — each behind its flags byte); flag 0x01 checks
 * checkpoint signatures against the SUIT draft's example P-256 key (the seeds' signing key);
 * flag 0x02 resumes from a fixed state (seq 5, epoch 0) instead of the genesis; flag 0x08 expects
 * the seeds' nonce 01..08 in the final checkpoint. Every batch is verified from an exact-size heap
 * copy (ASan sees any over-read) and also rendered the way `fs38 log show` does (batch parse,
 * framing, payload decode).
 *
 * Invariants: verification never fails except as a finding (no crypto / argument error);
 * every report names offsets inside the batch and frames inside it; finish returns OK exactly
 * when nothing was found; an OK record's frame parses and its seq is what the report says; the
 * epoch search stays bounded (max_skip 8, max_epoch 4096).
 *
 * The oracle of an OK (proof_check): whenever finish says OK, the harness re-derives on its own
 * — its own CBOR reader, framing, key evolution (PSA HKDF), HMAC (PSA), checkpoint TBS encoding —
 * what OK promises: every batch is a well-formed envelope holding >= 1 record and nothing else;
 * the last batch ends in a CHECKPOINT whose payload decodes and whose MAC verifies under k_e
 * (e = the batch's epoch + the SEALs before it) with its predecessor's MAC; its `start` is where
 * the export began; with signers its COSE_Sign1 verifies over the TBS the harness builds; with a
 * nonce it carries exactly that nonce. (An empty batch that passes — the bug this catches — has
 * no record, so it fails the first of these.)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <psa/crypto.h>
#include "fs38/log.h"

#define FUZZ_NAME "fuzz_log"
#include "fuzz_common.h"

static fs38_keyring kr;
static uint8_t k0[FS38_LOG_KEY_LEN];
static fs38_log_verifier ver;
static const uint8_t k_nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

/* ---- the oracle's own reading of a batch (nothing from log_format.c) ------------------------ */

typedef struct rd {
    const uint8_t *p;
    size_t n, i;
} rd;

/* One CBOR head (definite lengths only): major type and argument. */
static bool rd_head(rd *r, unsigned *mt, uint64_t *v)
{
    if (r->i >= r->n)
        return false;
    const uint8_t ib = r->p[r->i++];
    const unsigned ai = ib & 31u;
    *mt = ib >> 5;
    if (ai < 24) {
        *v = ai;
        return true;
    }
    if (ai > 27)
        return false;
    const size_t k = (size_t)1 << (ai - 24);
    if (r->n - r->i < k)
        return false;
    *v = 0;
    for (size_t j = 0; j < k; j++)
        *v = *v << 8 | r->p[r->i++];
    return true;
}

static bool rd_expect(rd *r, unsigned want_mt, uint64_t *v)
{
    unsigned mt;
    return rd_head(r, &mt, v) && mt == want_mt;
}

static bool rd_bytes(rd *r, unsigned want_mt, const uint8_t **p, size_t *len)
{
    uint64_t l;
    if (!rd_expect(r, want_mt, &l) || l > r->n - r->i)
        return false;
    *p = r->p + r->i;
    *len = (size_t)l;
    r->i += (size_t)l;
    return true;
}

/* bstr or null (NULL, 0) */
static bool rd_bstr_or_null(rd *r, const uint8_t **p, size_t *len)
{
    if (r->i < r->n && r->p[r->i] == 0xf6) {
        r->i++;
        *p = NULL;
        *len = 0;
        return true;
    }
    return rd_bytes(r, 2, p, len);
}

typedef struct env {
    uint64_t start, epoch;
    const uint8_t *prev;
    const uint8_t *rec;
    size_t rec_len;
    size_t nrec;
    size_t last_off;      /* offset of the last record in rec */
    unsigned seals_before_last;
} env;

static void read_envelope(const uint8_t *b, size_t len, env *e)
{
    memset(e, 0, sizeof *e);
    rd r = { b, len, 0 };
    uint64_t v;
    const uint8_t *p;
    size_t l;
    CHECK(rd_expect(&r, 4, &v) && v == 6);
    CHECK(rd_bytes(&r, 3, &p, &l) && l == 8 && memcmp(p, "fs38-log", 8) == 0);
    CHECK(rd_expect(&r, 0, &v) && v == 1);
    CHECK(rd_expect(&r, 0, &e->start));
    CHECK(rd_expect(&r, 0, &e->epoch));
    CHECK(rd_bytes(&r, 2, &e->prev, &l) && l == 32);
    CHECK(rd_bytes(&r, 2, &e->rec, &e->rec_len));
    CHECK(r.i == len); /* nothing after the batch */
    unsigned seals = 0;
    for (size_t pos = 0; pos < e->rec_len;) {
        CHECK(e->rec_len - pos >= 38u);
        const uint8_t h = e->rec[pos];
        CHECK((h & 0xF0u) == 0xB0u && (h & 0x0Fu) >= 1u && (h & 0x0Fu) <= 7u);
        const size_t size = 38u + e->rec[pos + 1];
        CHECK(size <= e->rec_len - pos);
        e->last_off = pos;
        e->seals_before_last = seals;
        if ((h & 0x0Fu) == 3u)
            seals++;
        e->nrec++;
        pos += size;
    }
}

static void evolve(uint8_t k[32])
{
    static const uint8_t info[] = "fs38 log epoch";
    psa_key_derivation_operation_t op = PSA_KEY_DERIVATION_OPERATION_INIT;
    CHECK(psa_key_derivation_setup(&op, PSA_ALG_HKDF(PSA_ALG_SHA_256)) == PSA_SUCCESS);
    CHECK(psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_SECRET, k, 32) == PSA_SUCCESS);
    CHECK(psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_INFO, info, sizeof info - 1u) == PSA_SUCCESS);
    CHECK(psa_key_derivation_output_bytes(&op, k, 32) == PSA_SUCCESS);
    psa_key_derivation_abort(&op);
}

static bool hmac_ok(const uint8_t key[32], const uint8_t prev[32], const uint8_t *rec, size_t plen)
{
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&a, PSA_KEY_TYPE_HMAC);
    psa_set_key_bits(&a, 256);
    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_VERIFY_MESSAGE);
    psa_set_key_algorithm(&a, PSA_ALG_HMAC(PSA_ALG_SHA_256));
    psa_key_id_t id = 0;
    CHECK(psa_import_key(&a, key, 32, &id) == PSA_SUCCESS);
    uint8_t msg[32 + 6 + 255];
    memcpy(msg, prev, 32);
    memcpy(msg + 32, rec, 6 + plen);
    const psa_status_t st = psa_mac_verify(id, PSA_ALG_HMAC(PSA_ALG_SHA_256), msg, 32 + 6 + plen, rec + 6 + plen, 32);
    psa_destroy_key(id);
    return st == PSA_SUCCESS;
}

/* CBOR head of major type mt with argument v (preferred encoding) */
static size_t put_head(uint8_t *o, unsigned mt, uint64_t v)
{
    const uint8_t m = (uint8_t)(mt << 5);
    if (v < 24) {
        o[0] = (uint8_t)(m | v);
        return 1;
    }
    size_t k = v <= 0xFF ? 1 : v <= 0xFFFF ? 2 : v <= 0xFFFFFFFFu ? 4 : 8;
    o[0] = (uint8_t)(m | (k == 1 ? 24 : k == 2 ? 25 : k == 4 ? 26 : 27));
    for (size_t j = 0; j < k; j++)
        o[1 + j] = (uint8_t)(v >> (8 * (k - 1 - j)));
    return 1 + k;
}

/* finish said OK: is it proven? (parts: the batches in order) */
static void proof_check(const uint8_t *const *parts, const size_t *lens, size_t n, bool signers, bool nonce)
{
    env e[2];
    uint64_t run_start = 0;
    bool run_open = false;
    for (size_t i = 0; i < n; i++) {
        read_envelope(parts[i], lens[i], &e[i]);
        CHECK(e[i].nrec >= 1); /* a batch without records proves nothing */
        if (!run_open) {
            run_start = e[i].start;
            run_open = true;
        }
        if (i + 1 < n && (e[i].rec[e[i].last_off] & 0x0Fu) == 6u)
            run_open = false; /* that batch closed its export */
    }
    const env *L = &e[n - 1];
    const uint8_t *cp = L->rec + L->last_off;
    CHECK((cp[0] & 0x0Fu) == 6u); /* ends in a checkpoint */
    const size_t plen = cp[1];
    const uint32_t seq = (uint32_t)cp[2] | (uint32_t)cp[3] << 8 | (uint32_t)cp[4] << 16 | (uint32_t)cp[5] << 24;
    const uint8_t *prev = L->last_off ? cp - 32 : L->prev;
    /* its MAC, under the key of its epoch */
    const uint64_t ep = L->epoch + L->seals_before_last;
    CHECK(ep <= 4096u);
    uint8_t k[32];
    memcpy(k, k0, 32);
    for (uint64_t j = 0; j < ep; j++)
        evolve(k);
    CHECK(hmac_ok(k, prev, cp, plen));
    /* [start, boot, time_ms, nonce / null, COSE_Sign1 / null] */
    rd r = { cp + 6, plen, 0 };
    uint64_t v, start, boot, t;
    const uint8_t *nc, *sig;
    size_t ncl, sigl;
    CHECK(rd_expect(&r, 4, &v) && v == 5);
    CHECK(rd_expect(&r, 0, &start) && rd_expect(&r, 0, &boot) && rd_expect(&r, 0, &t));
    CHECK(rd_bstr_or_null(&r, &nc, &ncl) && rd_bstr_or_null(&r, &sig, &sigl));
    CHECK(r.i == plen);
    CHECK(start == run_start); /* closes the export it claims */
    if (nonce)
        CHECK(nc && ncl == sizeof k_nonce && memcmp(nc, k_nonce, sizeof k_nonce) == 0);
    if (signers) {
        CHECK(sig != NULL);
        uint8_t tbs[160];
        size_t tl = 0;
        static const char ctx[] = "fs38-log-checkpoint";
        tl += put_head(tbs + tl, 4, 7);
        tl += put_head(tbs + tl, 3, sizeof ctx - 1u);
        memcpy(tbs + tl, ctx, sizeof ctx - 1u);
        tl += sizeof ctx - 1u;
        tl += put_head(tbs + tl, 0, seq);
        tl += put_head(tbs + tl, 2, 32);
        memcpy(tbs + tl, prev, 32);
        tl += 32;
        tl += put_head(tbs + tl, 0, start);
        tl += put_head(tbs + tl, 0, boot);
        tl += put_head(tbs + tl, 0, t);
        if (nc) {
            tl += put_head(tbs + tl, 2, ncl);
            memcpy(tbs + tl, nc, ncl);
            tl += ncl;
        } else {
            tbs[tl++] = 0xf6;
        }
        fs38_diag d;
        fs38_diag_clear(&d);
        CHECK(fs38_cose_sign1_verify(sig, sigl, tbs, tl, NULL, 0, &kr, NULL, &d) == FS38_OK);
    }
}

typedef struct {
    const uint8_t *batch;
    size_t len;
    uint64_t problems;
    uint64_t items;
} check_ctx;

static void on_item(void *user, const fs38_logv_item *it)
{
    check_ctx *c = user;
    c->items++;
    CHECK(it->why != NULL);
    CHECK(it->kind <= FS38_LOGV_MALFORMED);
    CHECK(it->from <= it->to || !it->has_seq);
    if (it->kind != FS38_LOGV_OK && it->kind != FS38_LOGV_NOTE)
        c->problems++;
    if (it->frame && c->batch) {
        const uint8_t *s = it->frame->start;
        CHECK(s >= c->batch && s + it->frame->size <= c->batch + c->len);
        CHECK(it->frame->seq == it->from);
    }
    if (it->kind == FS38_LOGV_OK) {
        CHECK(it->frame != NULL);
        fs38_log_frame f;
        CHECK(fs38_log_frame_parse(it->frame->start, it->frame->size, &f) == FS38_OK);
        CHECK(f.size == it->frame->size);
    }
    if (c->batch && it->kind != FS38_LOGV_TRUNCATED && it->kind != FS38_LOGV_MISSING &&
        it->kind != FS38_LOGV_LOST && it->kind != FS38_LOGV_RELEASED && it->kind != FS38_LOGV_BAD_CHECKPOINT)
        CHECK(it->offset <= c->len);
}

/* What `fs38 log show` does with a batch. */
static void render(const uint8_t *b, size_t len)
{
    fs38_log_batch pb;
    fs38_diag d;
    fs38_diag_clear(&d);
    if (fs38_log_batch_parse(b, len, &pb, &d) != FS38_OK) {
        CHECK(d.err != FS38_OK && d.msg[0]);
        return;
    }
    CHECK(pb.records_off <= len && pb.records_len <= len - pb.records_off);
    for (size_t pos = 0; pos < pb.records_len;) {
        fs38_log_frame f;
        if (fs38_log_frame_parse(pb.records + pos, pb.records_len - pos, &f) != FS38_OK)
            break;
        fs38_log_entry e;
        if (fs38_log_decode(&f, &e) == FS38_OK && e.kind == FS38_LOG_EVENT)
            CHECK(e.detail + e.detail_len <= (const char *)f.payload + f.plen);
        pos += f.size;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    (void)fuzz_example_keyring(&kr, 0);
    memset(k0, 0x4b, sizeof k0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t flags = data[0];
    const uint8_t *parts[2];
    size_t lens[2], n = 1;
    if ((flags & 0x04) && size >= 3) {
        size_t rest = size - 3;
        size_t split = rest ? (size_t)((data[1] << 8) | data[2]) % (rest + 1) : 0;
        parts[0] = data + 3;
        lens[0] = split;
        parts[1] = data + 3 + split;
        lens[1] = rest - split;
        n = 2;
    } else {
        parts[0] = data + 1;
        lens[0] = size - 1;
    }
    check_ctx c;
    memset(&c, 0, sizeof c);
    fs38_log_vstate st;
    memset(&st, 0, sizeof st);
    st.next = 5;
    fs38_log_verify_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.k0 = k0;
    cfg.signers = (flags & 0x01) ? &kr : NULL;
    cfg.resume = (flags & 0x02) ? &st : NULL;
    cfg.nonce = (flags & 0x08) ? k_nonce : NULL;
    cfg.nonce_len = (flags & 0x08) ? sizeof k_nonce : 0;
    cfg.max_epoch = 4096;
    cfg.max_skip = 8;
    cfg.report = on_item;
    cfg.user = &c;
    CHECK(fs38_log_verify_init(&ver, &cfg) == FS38_OK);
    uint8_t *copies[2] = { NULL, NULL };
    for (size_t i = 0; i < n; i++) {
        uint8_t *copy = malloc(lens[i] ? lens[i] : 1);
        CHECK(copy != NULL);
        if (lens[i])
            memcpy(copy, parts[i], lens[i]);
        c.batch = copy;
        c.len = lens[i];
        CHECK(fs38_log_verify_batch(&ver, copy, lens[i]) == FS38_OK);
        render(copy, lens[i]);
        copies[i] = copy;
    }
    c.batch = NULL;
    fs38_log_vstate out;
    fs38_err e = fs38_log_verify_finish(&ver, &out);
    CHECK(e == FS38_OK || e == FS38_ERR_LOG_VERIFY);
    CHECK((e == FS38_OK) == (c.problems == 0));
    CHECK(ver.problems == c.problems);
    fs38_log_verify_free(&ver);
    if (e == FS38_OK)
        proof_check((const uint8_t *const *)copies, lens, n, cfg.signers != NULL, cfg.nonce != NULL);
    for (size_t i = 0; i < n; i++)
        free(copies[i]);
    return 0;
}
