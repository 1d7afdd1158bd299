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
 * flag 0x02 resumes from a fixed state (seq 5, epoch 0) instead of the genesis. Every batch is
 * verified from an exact-size heap copy (ASan sees any over-read) and also rendered the way
 * `fs38 log show` does (batch parse, framing, payload decode).
 *
 * Invariants: verification never fails except as a finding (no crypto / argument error);
 * every report names offsets inside the batch and frames inside it; finish returns OK exactly
 * when nothing was found; an OK record's frame parses and its seq is what the report says; the
 * epoch search stays bounded (max_skip 8, max_epoch 4096).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <psa/crypto.h>
#include "fs38/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define CHECK(cond)                                                                               \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "fuzz_log: invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                              \
        }                                                                                         \
    } while (0)

static const uint8_t example_pub[65] = {
    0x04, 0x84, 0x96, 0x81, 0x1a, 0xae, 0x0b, 0xaa, 0xab, 0xd2, 0x61, 0x57, 0x18, 0x9e, 0xec, 0xda, 0x26,
    0xbe, 0xaa, 0x8b, 0xf1, 0x1b, 0x6f, 0x3f, 0xe6, 0xe2, 0xb5, 0x65, 0x9c, 0x85, 0xdb, 0xc0, 0xad, 0x3b,
    0x1f, 0x2a, 0x4b, 0x6c, 0x09, 0x81, 0x31, 0xc0, 0xa3, 0x6d, 0xac, 0xd1, 0xd7, 0x8b, 0xd3, 0x81, 0xdc,
    0xdf, 0xb0, 0x9c, 0x05, 0x2d, 0xb3, 0x39, 0x91, 0xdb, 0x73, 0x38, 0xb4, 0xa8, 0x96
};

static fs38_keyring kr;
static uint8_t k0[FS38_LOG_KEY_LEN];
static fs38_log_verifier v;

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
    CHECK(it->kind <= FS38_LOGV_NOTE);
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
    CHECK(psa_crypto_init() == PSA_SUCCESS);
    fs38_keyring_init(&kr);
    CHECK(fs38_keyring_add_p256(&kr, example_pub, sizeof example_pub) == FS38_OK);
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
    cfg.max_epoch = 4096;
    cfg.max_skip = 8;
    cfg.report = on_item;
    cfg.user = &c;
    CHECK(fs38_log_verify_init(&v, &cfg) == FS38_OK);
    for (size_t i = 0; i < n; i++) {
        uint8_t *copy = malloc(lens[i] ? lens[i] : 1);
        CHECK(copy != NULL);
        if (lens[i])
            memcpy(copy, parts[i], lens[i]);
        c.batch = copy;
        c.len = lens[i];
        CHECK(fs38_log_verify_batch(&v, copy, lens[i]) == FS38_OK);
        render(copy, lens[i]);
        free(copy);
    }
    c.batch = NULL;
    fs38_log_vstate out;
    fs38_err e = fs38_log_verify_finish(&v, &out);
    CHECK(e == FS38_OK || e == FS38_ERR_LOG_VERIFY);
    CHECK((e == FS38_OK) == (c.problems == 0));
    CHECK(v.problems == c.problems);
    fs38_log_verify_free(&v);
    return 0;
}
