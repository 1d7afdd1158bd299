/* SPDX-License-Identifier: Apache-2.0 */
/* test_log.c — the security log (control 7): append / export / verify round trips, every byte
 * of an export tampered, records deleted / reordered / duplicated, the tail truncated, an old
 * batch replayed, the ring wrapped (LOST and TRIM markers, resuming from a verified state),
 * forward security (a key captured at record 500 cannot forge record 400), signed checkpoints
 * and nonces, time-based epochs, truncation found by the device itself, and a power cut at
 * every program / erase of a scripted workload. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "support.h"
#include "fs38/cbor.h"
#include "fs38/event.h"
#include "fs38/log.h"
#include "fs38/store.h"
#include "fs38/util.h"

#define SS 4096u
#define STORE_SECTORS 4u

typedef struct {
    ts_device d; /* flash, HUK, sealed store (tests/support.h) */
    uint32_t log_sectors;
    fs38_log_config lcfg;
    fs38_log log;
    uint8_t k0[32];
} rig;

static rig R; /* large: not on the stack */

static void rig_flash(rig *r, uint32_t log_sectors, uint32_t epoch_records)
{
    fs38_log_close(&r->log);
    memset(r, 0, sizeof *r);
    r->log_sectors = log_sectors;
    ts_device_prepare(&r->d, (STORE_SECTORS + log_sectors + FS38_POSIX_COUNTER_SECTORS) * SS,
                      (fs38_store_config){ NULL, 0, STORE_SECTORS * SS, 0 });
    r->lcfg.port = &r->d.f.port;
    r->lcfg.store = &r->d.s;
    r->lcfg.offset = STORE_SECTORS * SS;
    r->lcfg.size = log_sectors * SS;
    r->lcfg.epoch_records = epoch_records;
}

static void rig_new(rig *r, uint32_t log_sectors, uint32_t epoch_records)
{
    rig_flash(r, log_sectors, epoch_records);
    ts_device_open(&r->d);
    fs38_err e = fs38_log_create(&r->log, &r->lcfg, NULL, r->k0);
    if (e)
        fail_msg("create: %s", r->log.diag.msg);
}

/* A full power cycle; the store and the log are reopened from flash. */
static void rig_reboot(rig *r)
{
    fs38_log_close(&r->log);
    ts_device_power_off_on(&r->d);
    ts_device_open(&r->d);
    fs38_err e = fs38_log_open(&r->log, &r->lcfg);
    if (e)
        fail_msg("log reopen: %s (%s)", fs38_strerror(e), r->log.diag.msg);
}

static void rig_free(rig *r)
{
    fs38_log_close(&r->log);
    ts_device_free(&r->d, false);
}

static FS38_NODISCARD fs38_err ev(rig *r, unsigned i)
{
    char d[48];
    snprintf(d, sizeof d, "event %u", i);
    fs38_event_rec e = { FS38_EV_LOGIN_FAILED, FS38_SEV_WARNING, (int64_t)i, d };
    return fs38_log_append(&r->log, &e);
}

static void append_n(rig *r, unsigned from, unsigned n)
{
    for (unsigned i = from; i < from + n; i++) {
        fs38_err e = ev(r, i);
        if (e)
            fail_msg("append %u: %s (%s)", i, fs38_strerror(e), r->log.diag.msg);
    }
}

/* A complete export from `since` (malloc'd). */
static uint8_t *export_from(rig *r, uint32_t since, size_t *len, const uint8_t *nonce, size_t nonce_len)
{
    size_t cap = fs38_log_export_bound(&r->log, since);
    assert_true(cap > 0);
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    fs38_log_cursor c;
    fs38_log_cursor_init(&c, since);
    c.nonce = nonce;
    c.nonce_len = nonce_len;
    fs38_err e = fs38_log_export(&r->log, &c, buf, cap, len);
    if (e)
        fail_msg("export: %s (%s)", fs38_strerror(e), r->log.diag.msg);
    assert_true(c.done);
    return buf;
}

/* ---- verification results ------------------------------------------------------------------- */

typedef struct {
    fs38_logv_kind kind;
    bool has_seq, unproven;
    uint64_t from, to;
    size_t off;
    char why[120];
} vitem;

typedef struct {
    vitem *it;
    size_t n, cap;
    unsigned count[16];
    bool verbose;
} vres;

static void collect(void *u, const fs38_logv_item *it)
{
    vres *r = u;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        r->it = realloc(r->it, r->cap * sizeof *r->it);
        assert_non_null(r->it);
    }
    vitem *x = &r->it[r->n++];
    x->kind = it->kind;
    x->has_seq = it->has_seq;
    x->unproven = it->unproven;
    x->from = it->from;
    x->to = it->to;
    x->off = it->offset;
    snprintf(x->why, sizeof x->why, "%s", it->why);
    r->count[it->kind]++;
    if (getenv("LOGV_DEBUG"))
        print_message("    [%s %llu off %zu %s]\n", fs38_logv_name(it->kind), (unsigned long long)it->from, it->offset,
                      it->why);
    if (r->verbose && it->kind != FS38_LOGV_OK)
        print_message("  batch %u %s %llu..%llu off %zu: %s\n", it->batch, fs38_logv_name(it->kind),
                      (unsigned long long)it->from, (unsigned long long)it->to, it->offset, it->why);
}

static void vres_free(vres *r)
{
    free(r->it);
    memset(r, 0, sizeof *r);
}

typedef struct {
    const fs38_log_vstate *resume;
    const fs38_keyring *signers;
    const uint8_t *nonce;
    size_t nonce_len;
    fs38_log_vstate *state_out;
    uint32_t max_skip;
} vopts;

static FS38_NODISCARD fs38_err verify(const uint8_t k0[32], const uint8_t *const *b, const size_t *len, size_t nb, const vopts *o,
                       vres *res)
{
    static fs38_log_verifier v;
    fs38_log_verify_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.k0 = k0;
    cfg.report = collect;
    cfg.user = res;
    if (o) {
        cfg.resume = o->resume;
        cfg.signers = o->signers;
        cfg.nonce = o->nonce;
        cfg.nonce_len = o->nonce_len;
        cfg.max_skip = o->max_skip;
    }
    assert_int_equal(fs38_log_verify_init(&v, &cfg), FS38_OK);
    for (size_t i = 0; i < nb; i++)
        assert_int_equal(fs38_log_verify_batch(&v, b[i], len[i]), FS38_OK);
    fs38_err e = fs38_log_verify_finish(&v, o ? o->state_out : NULL);
    fs38_log_verify_free(&v);
    return e;
}

static FS38_NODISCARD fs38_err verify1(const uint8_t k0[32], const uint8_t *b, size_t len, vres *res)
{
    return verify(k0, &b, &len, 1, NULL, res);
}

static unsigned problems(const vres *r)
{
    unsigned p = 0;
    for (unsigned k = 0; k < 16; k++)
        if (k != FS38_LOGV_OK && k != FS38_LOGV_NOTE)
            p += r->count[k];
    return p;
}

static bool has(const vres *r, fs38_logv_kind k, uint64_t from, uint64_t to)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->it[i].kind == k && r->it[i].has_seq && r->it[i].from == from && r->it[i].to == to)
            return true;
    return false;
}

static void dump(const vres *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->it[i].kind != FS38_LOGV_OK)
            print_message("  %s %llu..%llu (seq %d) off %zu: %s\n", fs38_logv_name(r->it[i].kind),
                          (unsigned long long)r->it[i].from, (unsigned long long)r->it[i].to, r->it[i].has_seq,
                          r->it[i].off, r->it[i].why);
}

#define EXPECT(res, k, a, b)                                                                        \
    do {                                                                                            \
        if (!has(res, k, a, b)) {                                                                   \
            dump(res);                                                                              \
            fail_msg("expected %s %llu..%llu", fs38_logv_name(k), (unsigned long long)(a),         \
                     (unsigned long long)(b));                                                      \
        }                                                                                           \
    } while (0)

#define EXPECT_CLEAN(res)                                                                           \
    do {                                                                                            \
        if (problems(res)) {                                                                        \
            dump(res);                                                                              \
            fail_msg("expected no problem, got %u", problems(res));                                 \
        }                                                                                           \
    } while (0)

/* ---- batch surgery ---------------------------------------------------------------------------- */

typedef struct {
    fs38_log_batch pb;
    size_t off[4096];   /* record offsets in the blob */
    uint32_t seq[4096];
    size_t size[4096];
    size_t n;
} frames;

static void split(const uint8_t *b, size_t len, frames *fr)
{
    memset(fr, 0, sizeof *fr);
    assert_int_equal(fs38_log_batch_parse(b, len, &fr->pb, NULL), FS38_OK);
    size_t pos = 0;
    while (pos < fr->pb.records_len) {
        fs38_log_frame f;
        assert_int_equal(fs38_log_frame_parse(fr->pb.records + pos, fr->pb.records_len - pos, &f), FS38_OK);
        fr->off[fr->n] = pos;
        fr->seq[fr->n] = f.seq;
        fr->size[fr->n] = f.size;
        fr->n++;
        pos += f.size;
    }
}

/* split() into a new malloc'd frames. */
static frames *split_new(const uint8_t *b, size_t len)
{
    frames *fr = malloc(sizeof *fr);
    assert_non_null(fr);
    split(b, len, fr);
    return fr;
}

/* Record i of fr, parsed and decoded. */
static void entry_at(const frames *fr, size_t i, fs38_log_frame *f, fs38_log_entry *en)
{
    assert_int_equal(fs38_log_frame_parse(fr->pb.records + fr->off[i], fr->size[i], f), FS38_OK);
    assert_int_equal(fs38_log_decode(f, en), FS38_OK);
}

/* The test's own record MAC: HMAC-SHA-256(k, prev || rec[0..n)) (PSA) written at rec + n. */
static void remac(const uint8_t k[32], const uint8_t prev[32], uint8_t *rec, size_t n)
{
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&a, PSA_KEY_TYPE_HMAC);
    psa_set_key_bits(&a, 256);
    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_SIGN_MESSAGE);
    psa_set_key_algorithm(&a, PSA_ALG_HMAC(PSA_ALG_SHA_256));
    psa_key_id_t id = 0;
    assert_int_equal(psa_import_key(&a, k, 32, &id), PSA_SUCCESS);
    psa_mac_operation_t op = PSA_MAC_OPERATION_INIT;
    size_t ml = 0;
    assert_int_equal(psa_mac_sign_setup(&op, id, PSA_ALG_HMAC(PSA_ALG_SHA_256)), PSA_SUCCESS);
    assert_int_equal(psa_mac_update(&op, prev, 32), PSA_SUCCESS);
    assert_int_equal(psa_mac_update(&op, rec, n), PSA_SUCCESS);
    assert_int_equal(psa_mac_sign_finish(&op, rec + n, 32, &ml), PSA_SUCCESS);
    psa_destroy_key(id);
    assert_int_equal(ml, 32);
}

/* A new log (8 sectors, 8 records per epoch) with `events` events, exported whole (malloc'd,
 * *len bytes) and split into *fr (malloc'd). */
static uint8_t *new_log_exported(unsigned events, size_t *len, frames **fr)
{
    rig_new(&R, 8, 8);
    append_n(&R, 0, events);
    uint8_t *b = export_from(&R, 0, len, NULL, 0);
    *fr = split_new(b, *len);
    return b;
}

/* A batch with the given header hints and the given records (order of indexes into fr). */
static size_t rebuild_hdr(const frames *fr, const size_t *idx, size_t n, uint64_t start, uint64_t epoch,
                          const uint8_t prev[32], uint8_t *out, size_t cap)
{
    size_t blob = 0;
    for (size_t i = 0; i < n; i++)
        blob += fr->size[idx[i]];
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, out, cap);
    fs38_cbor_put_array(&e, 6);
    fs38_cbor_put_tstr(&e, FS38_LOG_BATCH_MAGIC, strlen(FS38_LOG_BATCH_MAGIC));
    fs38_cbor_put_uint(&e, 1);
    fs38_cbor_put_uint(&e, start);
    fs38_cbor_put_uint(&e, epoch);
    fs38_cbor_put_bstr(&e, prev, 32);
    fs38_cbor_put_bstr_head(&e, blob);
    for (size_t i = 0; i < n; i++)
        fs38_cbor_put_raw(&e, fr->pb.records + fr->off[idx[i]], fr->size[idx[i]]);
    size_t len = 0;
    assert_int_equal(fs38_cbor_enc_finish(&e, &len), FS38_OK);
    return len;
}

/* A batch with the same header hints and the given records (order of indexes into fr). */
static size_t rebuild(const frames *fr, const size_t *idx, size_t n, uint8_t *out, size_t cap)
{
    return rebuild_hdr(fr, idx, n, fr->pb.start, fr->pb.epoch, fr->pb.prev, out, cap);
}

/* ---- tests ---------------------------------------------------------------------------------------- */

static void test_roundtrip(void **state)
{
    (void)state;
    rig_new(&R, 8, 16);
    append_n(&R, 0, 200);
    fs38_log_info info;
    assert_int_equal(fs38_log_info_get(&R.log, &info), FS38_OK);
    /* 1 genesis + 200 events + a seal every 16 records */
    assert_true(info.next_seq > 201);
    assert_true(info.epoch >= 12);
    rig_reboot(&R);
    append_n(&R, 200, 10);
    size_t len;
    uint8_t *b = export_from(&R, 0, &len, NULL, 0);
    vres res = { 0 };
    assert_int_equal(verify1(R.k0, b, len, &res), FS38_OK);
    EXPECT_CLEAN(&res);
    assert_true(res.count[FS38_LOGV_OK] > 220);
    /* the events come back, in order, with their details */
    frames *fr = split_new(b, len);
    unsigned next_ev = 0;
    for (size_t i = 0; i < fr->n; i++) {
        fs38_log_frame f;
        fs38_log_entry en;
        entry_at(fr, i, &f, &en);
        assert_int_equal(f.seq, i);
        if (en.kind == FS38_LOG_EVENT) {
            char want[48];
            snprintf(want, sizeof want, "event %u", next_ev);
            assert_int_equal(en.code, FS38_EV_LOGIN_FAILED);
            assert_int_equal(en.arg, next_ev);
            assert_int_equal(en.detail_len, strlen(want));
            assert_memory_equal(en.detail, want, en.detail_len);
            next_ev++;
        }
    }
    assert_int_equal(next_ev, 210);
    /* the last record is the checkpoint */
    assert_int_equal(fr->pb.records[fr->off[fr->n - 1]] & 0x0f, FS38_LOG_CHECKPOINT);
    /* another device's K0 verifies nothing */
    uint8_t other[32];
    memset(other, 0x5a, sizeof other);
    vres res2 = { 0 };
    assert_int_equal(verify1(other, b, len, &res2), FS38_ERR_LOG_VERIFY);
    assert_int_equal(res2.count[FS38_LOGV_OK], 0);
    assert_true(res2.count[FS38_LOGV_BAD_BATCH] >= 1);
    vres_free(&res);
    vres_free(&res2);
    free(fr);
    free(b);
    rig_free(&R);
}

/* Two log contexts on the same ring (and store) appending in turns, across sectors and epoch
 * changes: each call re-reads the head under the device lock and reopens when the other wrote,
 * so nothing is lost and the export verifies (before: both wrote at the same position and the
 * export lost events). */
static fs38_log LOG_B;
static void test_two_contexts(void **state)
{
    (void)state;
    rig_new(&R, 8, 16);
    fs38_err e = fs38_log_open(&LOG_B, &R.lcfg);
    if (e)
        fail_msg("open B: %s", LOG_B.diag.msg);
    for (unsigned i = 0; i < 200; i++) {
        char d[48];
        snprintf(d, sizeof d, "event %u", i);
        fs38_event_rec er = { FS38_EV_LOGIN_FAILED, FS38_SEV_WARNING, (int64_t)i, d };
        fs38_log *l = i % 2 ? &LOG_B : &R.log;
        e = fs38_log_append(l, &er);
        if (e)
            fail_msg("append %u: %s (%s)", i, fs38_strerror(e), l->diag.msg);
    }
    fs38_log_close(&LOG_B);
    size_t len;
    uint8_t *b = export_from(&R, 0, &len, NULL, 0);
    vres res = { 0 };
    assert_int_equal(verify1(R.k0, b, len, &res), FS38_OK);
    EXPECT_CLEAN(&res);
    frames *fr = split_new(b, len);
    unsigned next_ev = 0;
    for (size_t i = 0; i < fr->n; i++) {
        fs38_log_frame f;
        fs38_log_entry en;
        entry_at(fr, i, &f, &en);
        if (en.kind == FS38_LOG_EVENT) {
            assert_int_equal(en.arg, next_ev);
            next_ev++;
        }
    }
    assert_int_equal(next_ev, 200);
    vres_free(&res);
    free(fr);
    free(b);
    rig_free(&R);
}

/* Which record (seq) holds byte `at` of the batch, or -1 for the batch header. */
static long owner(const frames *fr, size_t at)
{
    if (at < fr->pb.records_off)
        return -1;
    size_t p = at - fr->pb.records_off;
    for (size_t i = 0; i < fr->n; i++)
        if (p >= fr->off[i] && p < fr->off[i] + fr->size[i])
            return (long)fr->seq[i];
    return -2;
}

static void test_tamper_every_byte(void **state)
{
    (void)state;
    size_t len;
    frames *fr;
    uint8_t *b = new_log_exported(20, &len, &fr);
    uint8_t *t = malloc(len);
    const uint8_t masks[] = { 0x01, 0x80, 0xff };
    unsigned named = 0, header = 0;
    for (size_t at = 0; at < len; at++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(t, b, len);
            t[at] ^= masks[m];
            vres res = { 0 };
            fs38_err e = verify1(R.k0, t, len, &res);
            if (e != FS38_ERR_LOG_VERIFY || problems(&res) == 0) {
                dump(&res);
                fail_msg("byte %zu ^ %02x: not detected", at, masks[m]);
            }
            long who = owner(fr, at);
            if (who >= 0) {
                /* named: that record modified (or, for a chain link, the batch header) */
                if (!has(&res, FS38_LOGV_MODIFIED, (uint64_t)who, (uint64_t)who)) {
                    dump(&res);
                    fail_msg("byte %zu ^ %02x (record %ld): not named", at, masks[m], who);
                }
                named++;
            } else {
                assert_true(res.count[FS38_LOGV_BAD_BATCH] + res.count[FS38_LOGV_TRUNCATED] > 0);
                header++;
            }
            /* no record that was changed is reported OK */
            vres_free(&res);
        }
    }
    print_message("tamper: %zu bytes x %zu masks: %u named in records, %u in the batch header\n", len,
                  sizeof masks, named, header);
    free(t);
    free(fr);
    free(b);
    rig_free(&R);
}

static void test_delete_reorder_duplicate_truncate(void **state)
{
    (void)state;
    size_t len;
    frames *fr;
    uint8_t *b = new_log_exported(40, &len, &fr);
    const size_t n = fr->n;
    size_t *idx = malloc((n + 4) * sizeof *idx);
    uint8_t *out = malloc(len + 1024);
    vres res = { 0 };

    /* delete record 10 */
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (i != 10)
            idx[k++] = i;
    size_t ol = rebuild(fr, idx, k, out, len + 1024);
    assert_int_equal(verify1(R.k0, out, ol, &res), FS38_ERR_LOG_VERIFY);
    EXPECT(&res, FS38_LOGV_MISSING, 10, 10);
    EXPECT(&res, FS38_LOGV_UNVERIFIABLE, 11, 11);
    assert_int_equal(problems(&res), 2);
    vres_free(&res);

    /* delete 12..15 */
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (i < 12 || i > 15)
            idx[k++] = i;
    ol = rebuild(fr, idx, k, out, len + 1024);
    assert_int_equal(verify1(R.k0, out, ol, &res), FS38_ERR_LOG_VERIFY);
    EXPECT(&res, FS38_LOGV_MISSING, 12, 15);
    EXPECT(&res, FS38_LOGV_UNVERIFIABLE, 16, 16);
    vres_free(&res);

    /* swap 20 and 21 */
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    idx[20] = 21;
    idx[21] = 20;
    ol = rebuild(fr, idx, n, out, len + 1024);
    assert_int_equal(verify1(R.k0, out, ol, &res), FS38_ERR_LOG_VERIFY);
    EXPECT(&res, FS38_LOGV_REORDERED, 21, 21); /* 21 came before its place; 20 is where it belongs */
    assert_int_equal(problems(&res), 1);
    vres_free(&res);

    /* move 5 after 9 */
    k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 5)
            continue;
        idx[k++] = i;
        if (i == 9)
            idx[k++] = 5;
    }
    ol = rebuild(fr, idx, k, out, len + 1024);
    assert_int_equal(verify1(R.k0, out, ol, &res), FS38_ERR_LOG_VERIFY);
    EXPECT(&res, FS38_LOGV_REORDERED, 5, 5);
    vres_free(&res);

    /* duplicate 30 */
    k = 0;
    for (size_t i = 0; i < n; i++) {
        idx[k++] = i;
        if (i == 30)
            idx[k++] = 30;
    }
    ol = rebuild(fr, idx, k, out, len + 1024);
    assert_int_equal(verify1(R.k0, out, ol, &res), FS38_ERR_LOG_VERIFY);
    EXPECT(&res, FS38_LOGV_REPLAYED, 30, 30);
    assert_int_equal(problems(&res), 1);
    vres_free(&res);

    /* truncate the tail: the last 3 records dropped (batch re-encoded) */
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    ol = rebuild(fr, idx, n - 3, out, len + 1024);
    assert_int_equal(verify1(R.k0, out, ol, &res), FS38_ERR_LOG_VERIFY);
    EXPECT(&res, FS38_LOGV_TRUNCATED, fr->seq[n - 4], fr->seq[n - 4]);
    assert_int_equal(problems(&res), 1);
    vres_free(&res);

    /* the file cut short inside a record: truncated after the record before it */
    const size_t cut = len - 70;
    size_t in = 0;
    while (in + 1 < n && fr->pb.records_off + fr->off[in + 1] <= cut)
        in++;
    assert_true(fr->pb.records_off + fr->off[in] < cut);
    assert_int_equal(verify1(R.k0, b, cut, &res), FS38_ERR_LOG_VERIFY);
    EXPECT(&res, FS38_LOGV_TRUNCATED, fr->seq[in - 1], fr->seq[in - 1]);
    assert_int_equal(problems(&res), 1);
    vres_free(&res);

    /* the file cut at a record boundary */
    assert_int_equal(verify1(R.k0, b, fr->pb.records_off + fr->off[n - 5], &res), FS38_ERR_LOG_VERIFY);
    EXPECT(&res, FS38_LOGV_TRUNCATED, fr->seq[n - 6], fr->seq[n - 6]);
    vres_free(&res);

    /* a record of another batch of the same log spliced in: not OK */
    free(idx);
    free(out);
    free(fr);
    free(b);
    rig_free(&R);
}

static void test_replay_and_resume(void **state)
{
    (void)state;
    rig_new(&R, 8, 8);
    append_n(&R, 0, 30);
    size_t l1, l2, l3;
    uint8_t *b1 = export_from(&R, 0, &l1, NULL, 0);
    frames *fr = split_new(b1, l1);
    uint32_t next = fr->seq[fr->n - 1] + 1u;
    append_n(&R, 30, 25);
    uint8_t *b2 = export_from(&R, next, &l2, NULL, 0);
    vres res = { 0 };
    const uint8_t *bs[3] = { b1, b2, b1 };
    size_t ls[3] = { l1, l2, l1 };
    fs38_log_vstate st;
    vopts o = { .state_out = &st };
    assert_int_equal(verify(R.k0, bs, ls, 2, &o, &res), FS38_OK);
    EXPECT_CLEAN(&res);
    vres_free(&res);
    /* an old batch replayed after a newer one */
    assert_int_equal(verify(R.k0, bs, ls, 3, NULL, &res), FS38_ERR_LOG_VERIFY);
    for (size_t i = 0; i < fr->n; i++)
        EXPECT(&res, FS38_LOGV_REPLAYED, fr->seq[i], fr->seq[i]);
    assert_int_equal(res.count[FS38_LOGV_TRUNCATED], 0);
    vres_free(&res);
    /* b2 alone, without a resume state: records before it missing */
    assert_int_equal(verify(R.k0, &bs[1], &ls[1], 1, NULL, &res), FS38_ERR_LOG_VERIFY);
    EXPECT(&res, FS38_LOGV_MISSING, 0, next - 1u);
    vres_free(&res);
    /* b3 resumed from the state after b1 + b2 */
    append_n(&R, 55, 12);
    split(b2, l2, fr);
    uint8_t *b3 = export_from(&R, fr->seq[fr->n - 1] + 1u, &l3, NULL, 0);
    vopts o2 = { .resume = &st };
    assert_int_equal(verify(R.k0, (const uint8_t *const *)&b3, &l3, 1, &o2, &res), FS38_OK);
    EXPECT_CLEAN(&res);
    vres_free(&res);
    /* the same batch resumed from a later state is a replay */
    fs38_log_vstate st3;
    o2.state_out = &st3;
    assert_int_equal(verify(R.k0, (const uint8_t *const *)&b3, &l3, 1, &o2, &res), FS38_OK);
    vres_free(&res);
    vopts o3 = { .resume = &st3 };
    assert_int_equal(verify(R.k0, (const uint8_t *const *)&b3, &l3, 1, &o3, &res), FS38_ERR_LOG_VERIFY);
    assert_true(res.count[FS38_LOGV_REPLAYED] > 0);
    vres_free(&res);
    free(fr);
    free(b1);
    free(b2);
    free(b3);
    rig_free(&R);
}

/* A small export buffer: the export comes in several batches, only the last closes it. */
static void test_chunked_export(void **state)
{
    (void)state;
    rig_new(&R, 8, 16);
    append_n(&R, 0, 120);
    uint8_t *bufs[64];
    size_t lens[64], nb = 0;
    fs38_log_cursor c;
    fs38_log_cursor_init(&c, 0);
    do {
        assert_true(nb < 64);
        bufs[nb] = malloc(1500);
        fs38_err e = fs38_log_export(&R.log, &c, bufs[nb], 1500, &lens[nb]);
        if (e)
            fail_msg("export %zu: %s", nb, R.log.diag.msg);
        nb++;
    } while (!c.done);
    assert_true(nb > 3);
    vres res = { 0 };
    assert_int_equal(verify(R.k0, (const uint8_t *const *)bufs, lens, nb, NULL, &res), FS38_OK);
    EXPECT_CLEAN(&res);
    vres_free(&res);
    /* without the last batch the export is truncated */
    assert_int_equal(verify(R.k0, (const uint8_t *const *)bufs, lens, nb - 1, NULL, &res), FS38_ERR_LOG_VERIFY);
    assert_int_equal(res.count[FS38_LOGV_TRUNCATED], 1);
    vres_free(&res);
    /* a buffer too small for one record */
    uint8_t tiny[80];
    size_t tl;
    fs38_log_cursor_init(&c, 0);
    assert_int_equal(fs38_log_export(&R.log, &c, tiny, sizeof tiny, &tl), FS38_ERR_BUFFER);
    for (size_t i = 0; i < nb; i++)
        free(bufs[i]);
    rig_free(&R);
}

static void test_ring_wrap(void **state)
{
    (void)state;
    /* 4 sectors of ~45 records: 600 events wrap the ring several times */
    rig_new(&R, 4, 16);
    append_n(&R, 0, 600);
    fs38_log_info info;
    assert_int_equal(fs38_log_info_get(&R.log, &info), FS38_OK);
    assert_true(info.oldest_seq > 400);
    size_t len;
    uint8_t *b = export_from(&R, 0, &len, NULL, 0);
    vres res = { 0 };
    assert_int_equal(verify1(R.k0, b, len, &res), FS38_ERR_LOG_VERIFY);
    EXPECT(&res, FS38_LOGV_LOST, 0, info.oldest_seq - 1u);
    assert_int_equal(problems(&res), 1);
    assert_true(res.count[FS38_LOGV_OK] > 100);
    free(b);
    vres_free(&res);

    /* with exports acknowledged as they go, nothing is lost: resume verifies everything */
    rig_new(&R, 4, 16);
    fs38_log_vstate st;
    bool have = false;
    uint32_t since = 0;
    for (unsigned round = 0; round < 12; round++) {
        append_n(&R, round * 50, 50);
        uint8_t *bb = export_from(&R, since, &len, NULL, 0);
        frames *fr = split_new(bb, len);
        since = fr->seq[fr->n - 1] + 1u;
        vopts o = { .resume = have ? &st : NULL, .state_out = &st };
        fs38_err e = verify(R.k0, (const uint8_t *const *)&bb, &len, 1, &o, &res);
        if (e) {
            dump(&res);
            fail_msg("round %u", round);
        }
        have = true;
        assert_int_equal(fs38_log_release(&R.log, since - 1u), FS38_OK);
        vres_free(&res);
        free(fr);
        free(bb);
        if (round == 6)
            rig_reboot(&R);
    }
    /* an export from the start without a resume state: the acknowledged records are gone
     * (missing here: this verifier cannot vouch for them), but none was lost */
    b = export_from(&R, 0, &len, NULL, 0);
    assert_int_equal(verify1(R.k0, b, len, &res), FS38_ERR_LOG_VERIFY);
    assert_int_equal(res.count[FS38_LOGV_LOST], 0);
    assert_int_equal(res.count[FS38_LOGV_MISSING], 1);
    assert_int_equal(problems(&res), 1);
    free(b);
    vres_free(&res);
    /* and with a resume state, an export from the start is just the new records */
    rig_free(&R);
}

static void test_forward_security(void **state)
{
    (void)state;
    rig_new(&R, 64, 0); /* default: 64 records per epoch */
    append_n(&R, 0, 499); /* genesis + 499 events + seals: record 500 is reached */
    while (R.log.next_seq <= 500)
        append_n(&R, 1000, 1);
    /* the attacker takes the device now: the current key, the epoch, everything */
    uint8_t stolen[32];
    memcpy(stolen, R.log.key, 32);
    const uint32_t stolen_epoch = R.log.epoch;
    size_t len;
    uint8_t *b = export_from(&R, 0, &len, NULL, 0);
    frames *fr = split_new(b, len);
    assert_true(fr->n > 501);
    uint8_t *t = malloc(len);
    memcpy(t, b, len);
    uint8_t *rec = t + fr->pb.records_off + fr->off[400];
    fs38_log_frame f;
    assert_int_equal(fs38_log_frame_parse(rec, fr->size[400], &f), FS38_OK);
    assert_int_equal(f.seq, 400);
    /* forge record 400 with every key the attacker can derive (the stolen one and later ones) */
    uint8_t k[32];
    memcpy(k, stolen, 32);
    for (unsigned step = 0; step < 4; step++) {
        rec[FS38_LOG_HDR_LEN + 10] ^= 0x20; /* change the event */
        remac(k, rec - 32 /* MAC of 399 */, rec, FS38_LOG_HDR_LEN + f.plen);
        vres res = { 0 };
        assert_int_equal(verify1(R.k0, t, len, &res), FS38_ERR_LOG_VERIFY);
        EXPECT(&res, FS38_LOGV_MODIFIED, 400, 400);
        /* and record 400 is never reported OK */
        for (size_t i = 0; i < res.n; i++)
            assert_false(res.it[i].kind == FS38_LOGV_OK && res.it[i].from == 400);
        vres_free(&res);
        assert_int_equal(fs38_log_evolve(k, k), FS38_OK);
        memcpy(t, b, len);
    }
    /* even deleting what lies between and forging a "later" record 401 only yields an
     * unproven record next to a reported gap */
    print_message("forward security: key of epoch %u (record 500) cannot forge record 400\n", stolen_epoch);
    fs38_wipe(stolen, sizeof stolen);
    fs38_wipe(k, sizeof k);
    free(t);
    free(fr);
    free(b);
    rig_free(&R);
}

static void test_signed_checkpoint_and_nonce(void **state)
{
    (void)state;
    rig_new(&R, 8, 8);
    uint8_t pt[65], pt2[65];
    psa_key_id_t key = ts_gen_signer(pt);
    psa_key_id_t key2 = ts_gen_signer(pt2);
    fs38_log_set_sign_key(&R.log, key);
    append_n(&R, 0, 10);
    const uint8_t nonce[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    size_t len;
    uint8_t *b = export_from(&R, 0, &len, nonce, sizeof nonce);
    fs38_keyring kr, kr2;
    fs38_keyring_init(&kr);
    fs38_keyring_init(&kr2);
    assert_int_equal(fs38_keyring_add_p256(&kr, pt, 65), FS38_OK);
    assert_int_equal(fs38_keyring_add_p256(&kr2, pt2, 65), FS38_OK);
    vres res = { 0 };
    vopts o = { .signers = &kr, .nonce = nonce, .nonce_len = sizeof nonce };
    assert_int_equal(verify(R.k0, (const uint8_t *const *)&b, &len, 1, &o, &res), FS38_OK);
    EXPECT_CLEAN(&res);
    vres_free(&res);
    /* another device's certificate */
    vopts o2 = { .signers = &kr2 };
    assert_int_equal(verify(R.k0, (const uint8_t *const *)&b, &len, 1, &o2, &res), FS38_ERR_LOG_VERIFY);
    assert_int_equal(res.count[FS38_LOGV_BAD_CHECKPOINT], 1);
    vres_free(&res);
    /* a stale export (another nonce expected) */
    const uint8_t other[] = { 9, 9, 9 };
    vopts o3 = { .nonce = other, .nonce_len = sizeof other };
    assert_int_equal(verify(R.k0, (const uint8_t *const *)&b, &len, 1, &o3, &res), FS38_ERR_LOG_VERIFY);
    assert_int_equal(res.count[FS38_LOGV_BAD_CHECKPOINT], 1);
    vres_free(&res);
    free(b);
    /* without a signing key: MAC chain only; a certificate then finds the checkpoint unsigned */
    fs38_log_set_sign_key(&R.log, 0);
    append_n(&R, 10, 3);
    b = export_from(&R, 0, &len, NULL, 0);
    assert_int_equal(verify1(R.k0, b, len, &res), FS38_OK);
    vres_free(&res);
    assert_int_equal(verify(R.k0, (const uint8_t *const *)&b, &len, 1, &o, &res), FS38_ERR_LOG_VERIFY);
    assert_true(res.count[FS38_LOGV_BAD_CHECKPOINT] >= 1);
    vres_free(&res);
    free(b);
    fs38_keyring_free(&kr);
    fs38_keyring_free(&kr2);
    psa_destroy_key(key);
    psa_destroy_key(key2);
    rig_free(&R);
}

/* ---- time-based epochs: a port whose clock the test moves ------------------------------------ */

static uint64_t fake_ms;
static uint64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_ms;
}

static void test_time_epochs(void **state)
{
    (void)state;
    rig_flash(&R, 8, 1000);
    fs38_port p = R.d.f.port;
    p.monotonic_ms = fake_clock;
    R.lcfg.port = &p;
    R.lcfg.epoch_ms = 1000;
    R.d.scfg.port = &p;
    fake_ms = 5;
    assert_int_equal(fs38_store_open(&R.d.s, &R.d.scfg), FS38_OK);
    assert_int_equal(fs38_log_create(&R.log, &R.lcfg, NULL, R.k0), FS38_OK);
    append_n(&R, 0, 3);
    /* idle: each tick after an epoch's time closes it, even with no record in it */
    for (unsigned i = 0; i < 5; i++) {
        fake_ms += 1000;
        assert_int_equal(fs38_log_tick(&R.log), FS38_OK);
    }
    assert_int_equal(R.log.epoch, 5);
    fake_ms += 10;
    assert_int_equal(fs38_log_tick(&R.log), FS38_OK); /* not yet */
    assert_int_equal(R.log.epoch, 5);
    fake_ms += 2000;
    append_n(&R, 3, 1); /* the epoch's time is up: sealed before the record */
    assert_int_equal(R.log.epoch, 6);
    size_t len;
    uint8_t *b = export_from(&R, 0, &len, NULL, 0);
    vres res = { 0 };
    assert_int_equal(verify1(R.k0, b, len, &res), FS38_OK);
    EXPECT_CLEAN(&res);
    vres_free(&res);
    free(b);
    fs38_log_close(&R.log);
    fs38_store_close(&R.d.s);
    R.lcfg.port = &R.d.f.port;
    rig_free(&R);
}

/* The newest records erased behind the device's back: found at open, recorded as LOST. */
static void test_device_detects_truncation(void **state)
{
    (void)state;
    rig_new(&R, 8, 8);
    append_n(&R, 0, 100);
    fs38_log_info before;
    assert_int_equal(fs38_log_info_get(&R.log, &before), FS38_OK);
    const uint32_t cur = R.log.cur;
    fs38_log_close(&R.log);
    /* erase the sector being written and the one before (the attacker) */
    for (uint32_t k = 0; k < 2; k++) {
        uint32_t s = (cur + 8u - k) % 8u;
        assert_int_equal(fs38_flash_erase(&R.d.f.port, R.lcfg.offset + s * SS, SS), FS38_OK);
    }
    rig_reboot(&R);
    append_n(&R, 100, 5);
    size_t len;
    uint8_t *b = export_from(&R, 0, &len, NULL, 0);
    vres res = { 0 };
    assert_int_equal(verify1(R.k0, b, len, &res), FS38_ERR_LOG_VERIFY);
    assert_true(res.count[FS38_LOGV_LOST] == 1);
    bool named = false;
    for (size_t i = 0; i < res.n; i++)
        if (res.it[i].kind == FS38_LOGV_LOST && strstr(res.it[i].why, "truncated"))
            named = true;
    assert_true(named);
    vres_free(&res);
    free(b);
    rig_free(&R);
}

static void test_api(void **state)
{
    (void)state;
    rig_flash(&R, 8, 8);
    assert_int_equal(fs38_store_open(&R.d.s, &R.d.scfg), FS38_OK);
    assert_int_equal(fs38_log_open(&R.log, &R.lcfg), FS38_ERR_LOG_UNINIT);
    fs38_log_config bad = R.lcfg;
    bad.size = 2 * SS;
    assert_int_equal(fs38_log_open(&R.log, &bad), FS38_ERR_ARG);
    bad = R.lcfg;
    bad.offset = 100;
    assert_int_equal(fs38_log_open(&R.log, &bad), FS38_ERR_ARG);
    bad = R.lcfg;
    bad.epoch_records = 1;
    assert_int_equal(fs38_log_create(&R.log, &bad, NULL, R.k0), FS38_ERR_ARG);
    fs38_event_rec e = { FS38_EV_BOOT_OK, FS38_SEV_INFO, 1, "x" };
    assert_int_equal(fs38_log_append(&R.log, &e), FS38_ERR_STATE);
    /* a fixed k0 (reproducible seeds) */
    uint8_t k0[32], out[32];
    memset(k0, 0x4b, sizeof k0);
    assert_int_equal(fs38_log_create(&R.log, &R.lcfg, k0, out), FS38_OK);
    assert_memory_equal(k0, out, 32);
    /* long details are cut, never split inside a UTF-8 sequence */
    char d[400];
    memset(d, 'a', sizeof d);
    d[FS38_LOG_DETAIL_MAX - 1] = (char)0xc3;
    d[FS38_LOG_DETAIL_MAX] = (char)0xa9;
    d[sizeof d - 1] = 0;
    fs38_event_rec big = { FS38_EV_BOOT_REFUSED, FS38_SEV_ERROR, -62, d };
    assert_int_equal(fs38_log_append(&R.log, &big), FS38_OK);
    assert_int_equal(fs38_log_release(&R.log, 1000), FS38_ERR_ARG);
    /* the sink */
    fs38_event_set_sink(fs38_log_sink, &R.log);
    fs38_event(FS38_EV_UPDATE_REJECTED, FS38_SEV_ERROR, FS38_ERR_ROLLBACK, "sequence 3 < installed 5");
    fs38_event_set_sink(NULL, NULL);
    assert_int_equal(R.log.next_seq, 3);
    size_t len;
    uint8_t *b = export_from(&R, 0, &len, NULL, 0);
    vres res = { 0 };
    assert_int_equal(verify1(k0, b, len, &res), FS38_OK);
    frames *fr = split_new(b, len);
    fs38_log_frame f;
    fs38_log_entry en;
    entry_at(fr, 1, &f, &en);
    assert_int_equal(en.detail_len, FS38_LOG_DETAIL_MAX - 1);
    entry_at(fr, 2, &f, &en);
    assert_int_equal(en.code, FS38_EV_UPDATE_REJECTED);
    assert_int_equal(en.arg, FS38_ERR_ROLLBACK);
    vres_free(&res);
    free(fr);
    free(b);
    rig_free(&R);
}

/* ---- power cuts ------------------------------------------------------------------------------ */

#define SWEEP_EVENTS 260u

/* The workload: events, a release and an export now and then (4 sectors: wraps twice; 8 records
 * per epoch: a key change every 8 records, store compactions). Returns the number of events
 * acknowledged (append returned OK) before the first error in *done. */
static FS38_NODISCARD fs38_err workload(rig *r, unsigned *done, uint8_t *exp, size_t cap)
{
    *done = 0;
    for (unsigned i = 0; i < SWEEP_EVENTS; i++) {
        fs38_err e = ev(r, i);
        if (e)
            return e;
        *done = i + 1;
        if (i % 40 == 39) {
            fs38_log_cursor c;
            fs38_log_cursor_init(&c, 0);
            size_t len;
            e = fs38_log_export(&r->log, &c, exp, cap, &len);
            if (e)
                return e;
            if (i % 80 == 79) {
                e = fs38_log_release(&r->log, r->log.next_seq - 30u);
                if (e)
                    return e;
            }
        }
    }
    return FS38_OK;
}

/* After a cut and reboot: the log opens, verifies clean (markers excepted), holds every
 * acknowledged event still in the ring, and keeps working. */
static void check_after_cut(rig *r, unsigned done, uint64_t k)
{
    fs38_err e = fs38_store_open(&r->d.s, &r->d.scfg);
    if (e)
        fail_msg("cut %llu: store open: %s", (unsigned long long)k, r->d.s.diag.msg);
    e = fs38_log_open(&r->log, &r->lcfg);
    if (e == FS38_ERR_LOG_UNINIT && done == 0)
        return; /* cut inside create */
    if (e)
        fail_msg("cut %llu: log open: %s (%s)", (unsigned long long)k, fs38_strerror(e), r->log.diag.msg);
    for (int round = 0; round < 2; round++) {
        size_t len;
        uint8_t *b = export_from(r, 0, &len, NULL, 0);
        vres res = { 0 };
        /* the verdict is judged item by item below (a wrapped ring may report LOST/MISSING) */
        const fs38_err ve = verify1(r->k0, b, len, &res);
        (void)ve;
        /* allowed: what the ring's wrap took before the batch starts (LOST when never released,
         * MISSING when released: acknowledged records are erased without a marker) — never
         * anything inside it, and never a loss blamed on a truncation */
        frames *fb = malloc(sizeof *fb);
        split(b, len, fb);
        const uint64_t first = fb->seq[0];
        free(fb);
        unsigned bad = 0;
        for (size_t i = 0; i < res.n; i++) {
            const vitem *x = &res.it[i];
            if (x->kind == FS38_LOGV_OK || x->kind == FS38_LOGV_NOTE)
                continue;
            if ((x->kind == FS38_LOGV_LOST || x->kind == FS38_LOGV_MISSING) && x->has_seq && x->to + 1u == first &&
                !strstr(x->why, "truncated"))
                continue;
            bad++;
        }
        if (bad) {
            dump(&res);
            fail_msg("cut %llu (after %u events, round %d): %u problems", (unsigned long long)k, done, round, bad);
        }
        /* the last acknowledged event is there */
        bool found = done == 0;
        frames *fr = split_new(b, len);
        for (size_t i = 0; i < fr->n && !found; i++) {
            fs38_log_frame f;
            fs38_log_entry en;
            if (fs38_log_frame_parse(fr->pb.records + fr->off[i], fr->size[i], &f) == FS38_OK &&
                fs38_log_decode(&f, &en) == FS38_OK && en.kind == FS38_LOG_EVENT && en.arg == (int64_t)done - 1)
                found = true;
        }
        if (!found && round == 0)
            fail_msg("cut %llu: event %u (acknowledged) is gone", (unsigned long long)k, done - 1);
        free(fr);
        free(b);
        vres_free(&res);
        /* and it keeps working */
        append_n(r, 5000, 30);
    }
}

static void test_power_cut_sweep(void **state)
{
    (void)state;
    static uint8_t exp[64 * 1024];
    rig_flash(&R, 4, 8);
    assert_int_equal(fs38_store_open(&R.d.s, &R.d.scfg), FS38_OK);
    uint8_t k0[32];
    memset(k0, 0x33, sizeof k0);
    uint64_t before = fs38_posix_ops(&R.d.f.posix);
    assert_int_equal(fs38_log_create(&R.log, &R.lcfg, k0, R.k0), FS38_OK);
    unsigned done;
    assert_int_equal(workload(&R, &done, exp, sizeof exp), FS38_OK);
    const uint64_t total = fs38_posix_ops(&R.d.f.posix) - before;
    rig_free(&R);
    for (uint64_t k = 1; k <= total; k++) {
        rig_flash(&R, 4, 8);
        assert_int_equal(fs38_store_open(&R.d.s, &R.d.scfg), FS38_OK);
        fs38_posix_cut_at(&R.d.f.posix, k);
        done = 0;
        fs38_err e = fs38_log_create(&R.log, &R.lcfg, k0, R.k0);
        if (!e)
            e = workload(&R, &done, exp, sizeof exp);
        assert_int_equal(e, FS38_ERR_POWER);
        memcpy(R.k0, k0, 32);
        fs38_log_close(&R.log);
        fs38_store_close(&R.d.s);
        ts_flash_reboot(&R.d.f);
        check_after_cut(&R, done, k);
        rig_free(&R);
    }
    print_message("log: %llu cut points swept (%u events, 4 sectors, 8 records per epoch)\n",
                  (unsigned long long)total, SWEEP_EVENTS);
}

/* ---- OK needs proof: records, a closing checkpoint, its signature, the nonce ----------------- */

/* ["fs38-log", 1, start, epoch, h'00'*32, h''] (start, epoch < 24: 48 bytes) */
static size_t empty_batch(uint8_t out[64], uint8_t start, uint8_t epoch, uint8_t prev_byte)
{
    size_t n = 0;
    out[n++] = 0x86;
    out[n++] = 0x68;
    memcpy(out + n, "fs38-log", 8);
    n += 8;
    out[n++] = 0x01;
    out[n++] = start;
    out[n++] = epoch;
    out[n++] = 0x58;
    out[n++] = 0x20;
    memset(out + n, prev_byte, 32);
    n += 32;
    out[n++] = 0x40;
    return n;
}

static void test_empty_and_unclosed_batches(void **state)
{
    (void)state;
    rig_new(&R, 8, 8);
    uint8_t pt[65];
    psa_key_id_t key = ts_gen_signer(pt);
    fs38_keyring kr;
    fs38_keyring_init(&kr);
    assert_int_equal(fs38_keyring_add_p256(&kr, pt, 65), FS38_OK);
    const uint8_t nonce[] = { 0xa1, 0xb2, 0xc3, 0xd4 };
    vres res = { 0 };

    /* the constant empty batch, with any header values, under every option: never OK */
    uint8_t empty[64];
    const uint8_t hdrs[3][3] = { { 0, 0, 0 }, { 5, 2, 0x77 }, { 23, 23, 0xff } };
    fs38_log_vstate st = { .next = 5, .epoch = 0 };
    for (unsigned h = 0; h < 3; h++) {
        const size_t el = empty_batch(empty, hdrs[h][0], hdrs[h][1], hdrs[h][2]);
        assert_int_equal(el, 48);
        const uint8_t *eb = empty;
        vopts opts[4] = { { 0 }, { .nonce = nonce, .nonce_len = sizeof nonce }, { .signers = &kr },
                          { .resume = &st, .signers = &kr, .nonce = nonce, .nonce_len = sizeof nonce } };
        for (unsigned o = 0; o < 4; o++) {
            assert_int_equal(verify(R.k0, &eb, &el, 1, &opts[o], &res), FS38_ERR_LOG_VERIFY);
            assert_int_equal(res.count[FS38_LOGV_OK], 0);
            assert_int_equal(res.count[FS38_LOGV_TRUNCATED], 1);
            vres_free(&res);
        }
    }

    fs38_log_set_sign_key(&R.log, key);
    append_n(&R, 0, 12);
    size_t len;
    uint8_t *b = export_from(&R, 0, &len, nonce, sizeof nonce);
    frames *fr = split_new(b, len);
    size_t idx[64];
    for (size_t i = 0; i < fr->n; i++)
        idx[i] = i;
    uint8_t *out = malloc(len + 64);
    vopts full = { .signers = &kr, .nonce = nonce, .nonce_len = sizeof nonce };
    assert_int_equal(verify(R.k0, (const uint8_t *const *)&b, &len, 1, &full, &res), FS38_OK);
    EXPECT_CLEAN(&res);
    vres_free(&res);

    /* cut before its final checkpoint (re-encoded: a well-formed batch of authentic records) */
    size_t ol = rebuild(fr, idx, fr->n - 1, out, len + 64);
    const uint8_t *ob = out;
    vopts none = { 0 };
    assert_int_equal(verify(R.k0, &ob, &ol, 1, &none, &res), FS38_ERR_LOG_VERIFY);
    EXPECT(&res, FS38_LOGV_TRUNCATED, fr->seq[fr->n - 2], fr->seq[fr->n - 2]);
    assert_int_equal(problems(&res), 1);
    vres_free(&res);
    assert_int_equal(verify(R.k0, &ob, &ol, 1, &full, &res), FS38_ERR_LOG_VERIFY);
    EXPECT(&res, FS38_LOGV_TRUNCATED, fr->seq[fr->n - 2], fr->seq[fr->n - 2]);
    vres_free(&res);

    /* a closed export followed by an empty batch: the empty batch is still a finding */
    const uint8_t *two[2] = { b, empty };
    size_t two_len[2] = { len, empty_batch(empty, 0, 0, 0) };
    assert_int_equal(verify(R.k0, two, two_len, 2, &none, &res), FS38_ERR_LOG_VERIFY);
    assert_int_equal(res.count[FS38_LOGV_TRUNCATED], 1);
    vres_free(&res);

    /* a stale nonce: the export carries another challenge, or none */
    const uint8_t stale[] = { 0xa1, 0xb2, 0xc3, 0xd5 };
    vopts o_stale = { .nonce = stale, .nonce_len = sizeof stale };
    assert_int_equal(verify(R.k0, (const uint8_t *const *)&b, &len, 1, &o_stale, &res), FS38_ERR_LOG_VERIFY);
    assert_int_equal(res.count[FS38_LOGV_BAD_CHECKPOINT], 1);
    vres_free(&res);
    free(b);

    /* the final checkpoint unsigned while a signer is expected; without a nonce in it */
    fs38_log_set_sign_key(&R.log, 0);
    b = export_from(&R, 0, &len, NULL, 0);
    vopts o_sig = { .signers = &kr };
    assert_int_equal(verify(R.k0, (const uint8_t *const *)&b, &len, 1, &o_sig, &res), FS38_ERR_LOG_VERIFY);
    assert_int_equal(res.count[FS38_LOGV_BAD_CHECKPOINT], 1);
    vres_free(&res);
    vopts o_nonce = { .nonce = nonce, .nonce_len = sizeof nonce };
    assert_int_equal(verify(R.k0, (const uint8_t *const *)&b, &len, 1, &o_nonce, &res), FS38_ERR_LOG_VERIFY);
    assert_int_equal(res.count[FS38_LOGV_BAD_CHECKPOINT], 1);
    vres_free(&res);
    assert_int_equal(verify(R.k0, (const uint8_t *const *)&b, &len, 1, &none, &res), FS38_OK);
    vres_free(&res);

    free(out);
    free(fr);
    free(b);
    fs38_keyring_free(&kr);
    psa_destroy_key(key);
    rig_free(&R);
}

/* The batch header's hints (start, epoch, chain link) disagreeing with the records: a failure. */
static void test_header_hints(void **state)
{
    (void)state;
    size_t l1;
    frames *fr;
    uint8_t *b1 = new_log_exported(20, &l1, &fr);
    const uint32_t next = fr->seq[fr->n - 1] + 1u;
    fs38_log_vstate st;
    vopts o1 = { .state_out = &st };
    vres res = { 0 };
    assert_int_equal(verify(R.k0, (const uint8_t *const *)&b1, &l1, 1, &o1, &res), FS38_OK);
    vres_free(&res);
    append_n(&R, 20, 5);
    size_t l2;
    uint8_t *b2 = export_from(&R, next, &l2, NULL, 0);
    split(b2, l2, fr);
    assert_true(fr->pb.start == next && fr->pb.epoch > 0);
    size_t idx[64];
    for (size_t i = 0; i < fr->n; i++)
        idx[i] = i;
    uint8_t *out = malloc(l2 + 64);
    uint8_t prev[32];
    memcpy(prev, fr->pb.prev, 32);
    vopts o2 = { .resume = &st };
    /* unchanged: OK */
    size_t ol = rebuild(fr, idx, fr->n, out, l2 + 64);
    const uint8_t *ob = out;
    assert_int_equal(verify(R.k0, &ob, &ol, 1, &o2, &res), FS38_OK);
    EXPECT_CLEAN(&res);
    vres_free(&res);
    /* start, epoch, chain link changed */
    for (unsigned which = 0; which < 3; which++) {
        uint8_t p2[32];
        memcpy(p2, prev, 32);
        if (which == 2)
            p2[7] ^= 0x40;
        ol = rebuild_hdr(fr, idx, fr->n, fr->pb.start + (which == 0 ? 1u : 0u),
                         fr->pb.epoch + (which == 1 ? 1u : 0u), p2, out, l2 + 64);
        assert_int_equal(verify(R.k0, &ob, &ol, 1, &o2, &res), FS38_ERR_LOG_VERIFY);
        if (res.count[FS38_LOGV_BAD_BATCH] != 1) {
            dump(&res);
            fail_msg("header hint %u changed: expected one bad batch", which);
        }
        vres_free(&res);
    }
    free(out);
    free(fr);
    free(b1);
    free(b2);
    rig_free(&R);
}

/* A record with a valid MAC under k (prev || header || payload), written at out. */
static size_t forge(const uint8_t k[32], uint8_t kind, uint32_t seq, const uint8_t *pay, uint8_t plen,
                    const uint8_t prev[32], uint8_t *out)
{
    out[0] = (uint8_t)(0xB0u | kind);
    out[1] = plen;
    out[2] = (uint8_t)seq;
    out[3] = (uint8_t)(seq >> 8);
    out[4] = (uint8_t)(seq >> 16);
    out[5] = (uint8_t)(seq >> 24);
    memcpy(out + 6, pay, plen);
    remac(k, prev, out, FS38_LOG_HDR_LEN + plen);
    return FS38_LOG_OVERHEAD + plen;
}

/* genesis (from a real export) + a forged record of `kind` + a forged checkpoint, all MACed
 * with k0: the batch's length */
static size_t forged_batch(const frames *fr, uint8_t kind, const uint8_t *pay, uint8_t plen, bool cp_garbage,
                           uint8_t *out, size_t cap)
{
    uint8_t blob[2 * FS38_LOG_REC_MAX + 64];
    size_t n = 0;
    memcpy(blob, fr->pb.records + fr->off[0], fr->size[0]); /* genesis, seq 0 */
    n += fr->size[0];
    n += forge(R.k0, kind, 1, pay, plen, blob + n - 32, blob + n);
    const uint8_t cp[] = { 0x85, 0x00, 0x00, 0x00, 0xf6, 0xf6 }; /* [0, 0, 0, null, null] */
    const uint8_t junk[] = { 0xff, 0x00, 0x13 };
    n += cp_garbage ? forge(R.k0, FS38_LOG_CHECKPOINT, 2, junk, sizeof junk, blob + n - 32, blob + n)
                    : forge(R.k0, FS38_LOG_CHECKPOINT, 2, cp, sizeof cp, blob + n - 32, blob + n);
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, out, cap);
    fs38_cbor_put_array(&e, 6);
    fs38_cbor_put_tstr(&e, FS38_LOG_BATCH_MAGIC, strlen(FS38_LOG_BATCH_MAGIC));
    fs38_cbor_put_uint(&e, 1);
    fs38_cbor_put_uint(&e, 0);
    fs38_cbor_put_uint(&e, 0);
    fs38_cbor_put_bstr(&e, fr->pb.prev, 32);
    fs38_cbor_put_bstr(&e, blob, n);
    size_t len = 0;
    assert_int_equal(fs38_cbor_enc_finish(&e, &len), FS38_OK);
    return len;
}

/* An authentic record (valid MAC) whose payload is not the CBOR of its kind: a finding. */
static void test_malformed_payload(void **state)
{
    (void)state;
    rig_new(&R, 8, 8);
    size_t len;
    uint8_t *b = export_from(&R, 0, &len, NULL, 0);
    frames *fr = split_new(b, len);
    uint8_t out[1024];
    vres res = { 0 };
    /* control: a well-formed forged event verifies (the forging is right) */
    const uint8_t good[] = { 0x86, 0x15, 0x04, 0x01, 0x02, 0x03, 0x61, 'x' }; /* [21, 4, 1, 2, 3, "x"] */
    size_t ol = forged_batch(fr, FS38_LOG_EVENT, good, sizeof good, false, out, sizeof out);
    assert_int_equal(verify1(R.k0, out, ol, &res), FS38_OK);
    EXPECT_CLEAN(&res);
    vres_free(&res);
    /* not CBOR / not the event array / trailing bytes */
    const uint8_t not_cbor[] = { 0xff, 0xfe, 'h', 'i' };
    const uint8_t wrong_shape[] = { 0x81, 0x01 };
    const uint8_t trailing[] = { 0x86, 0x15, 0x04, 0x01, 0x02, 0x03, 0x61, 'x', 0x00 };
    const struct { const uint8_t *p; uint8_t n; uint8_t kind; } bad[] = {
        { not_cbor, sizeof not_cbor, FS38_LOG_EVENT },
        { wrong_shape, sizeof wrong_shape, FS38_LOG_EVENT },
        { trailing, sizeof trailing, FS38_LOG_EVENT },
        { not_cbor, 0, FS38_LOG_EVENT },
        { not_cbor, sizeof not_cbor, FS38_LOG_RELEASE },
        { not_cbor, sizeof not_cbor, FS38_LOG_GENESIS },
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ol = forged_batch(fr, bad[i].kind, bad[i].p, bad[i].n, false, out, sizeof out);
        assert_int_equal(verify1(R.k0, out, ol, &res), FS38_ERR_LOG_VERIFY);
        if (!has(&res, FS38_LOGV_MALFORMED, 1, 1) || problems(&res) != 1 || has(&res, FS38_LOGV_OK, 1, 1)) {
            dump(&res);
            fail_msg("malformed payload %u not named", i);
        }
        /* the chain goes on: the checkpoint after it is OK */
        EXPECT(&res, FS38_LOGV_OK, 2, 2);
        vres_free(&res);
    }
    /* a closing checkpoint that does not decode closes nothing */
    ol = forged_batch(fr, FS38_LOG_EVENT, good, sizeof good, true, out, sizeof out);
    assert_int_equal(verify1(R.k0, out, ol, &res), FS38_ERR_LOG_VERIFY);
    EXPECT(&res, FS38_LOGV_MALFORMED, 2, 2);
    EXPECT(&res, FS38_LOGV_TRUNCATED, 2, 2);
    vres_free(&res);
    free(fr);
    free(b);
    rig_free(&R);
}

static void test_default_limits(void **state)
{
    (void)state;
    /* the documented defaults are what the verifier uses */
    static fs38_log_verifier v;
    uint8_t k0[32] = { 0 };
    fs38_log_verify_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.k0 = k0;
    assert_int_equal(fs38_log_verify_init(&v, &cfg), FS38_OK);
    assert_int_equal(v.cfg.max_skip, FS38_LOG_MAX_SKIP_DEFAULT);
    assert_int_equal(v.cfg.max_epoch, FS38_LOG_MAX_EPOCH_DEFAULT);
    assert_int_equal(FS38_LOG_MAX_SKIP_DEFAULT, 64);
    fs38_log_verify_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_api),
        cmocka_unit_test(test_two_contexts),
        cmocka_unit_test(test_tamper_every_byte),
        cmocka_unit_test(test_delete_reorder_duplicate_truncate),
        cmocka_unit_test(test_replay_and_resume),
        cmocka_unit_test(test_chunked_export),
        cmocka_unit_test(test_ring_wrap),
        cmocka_unit_test(test_forward_security),
        cmocka_unit_test(test_signed_checkpoint_and_nonce),
        cmocka_unit_test(test_time_epochs),
        cmocka_unit_test(test_device_detects_truncation),
        cmocka_unit_test(test_power_cut_sweep),
        cmocka_unit_test(test_empty_and_unclosed_batches),
        cmocka_unit_test(test_header_hints),
        cmocka_unit_test(test_malformed_payload),
        cmocka_unit_test(test_default_limits),
    };
    psa_crypto_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
