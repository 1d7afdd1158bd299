/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_suit.c — libFuzzer targets for SUIT processing and secure boot (fs38/suit.h, boot.h).
 *
 * Built twice:
 *
 *   fuzz_suit            the input is an envelope. fs38_suit_authenticate with a keyring of
 *                        the draft's example P-256 key and the HMAC key 'a'*32; when it
 *                        succeeds, every command sequence runs with harmless stub platform
 *                        ops. Seeds: tests/vectors/suit/ (every .cbor) + fuzz/corpus/suit.
 *
 *   fuzz_suit_manifest   (FS38_FUZZ_MANIFEST_MODE) the input is a manifest — the first CBOR
 *                        item of the input; any complete (key, value) pairs after it become
 *                        extra envelope members (severed members, integrated payloads). The
 *                        harness wraps it in an envelope whose authentication wrapper holds
 *                        its SHA-256 digest and a COSE_Mac0 (fs38_cose_mac0_create, fast) over
 *                        that digest, so authentication always passes and every input reaches
 *                        the manifest decoder and the command interpreter. Seeds:
 *                        fuzz/corpus/suit_manifest (the vectors' manifests).
 *
 * Both then run the whole boot path on the same envelope: it is programmed into slot A of a
 * RAM-backed flash (with a fixed 1 KiB image) and fs38_boot_verify_slot, fs38_boot_select
 * and, on success, fs38_boot_commit run on it.
 *
 * Invariants (a violation aborts): every span the manifest and the interpreter hand out lies
 * inside the envelope buffer (an exact-size heap copy, so ASan also sees stray reads);
 * rejections carry a diagnostic with the same code; in manifest mode authentication never
 * fails on the MAC or the digest; boot verifies a slot only if fs38_suit_authenticate
 * accepted the envelope, and a verified slot's image digest is the SHA-256 of the bytes in
 * flash; commit makes the counter equal the sequence number, and a counter above it makes
 * the slot fail with FS38_ERR_ROLLBACK.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <psa/crypto.h>
#include "fs38/boot.h"
#include "fs38/cbor.h"
#include "fs38/cose.h"
#include "fs38/suit.h"
#include "fs38/util.h"
#include "fs38_ram.h"

#define FUZZ_NAME "fuzz_suit"
#include "fuzz_common.h"

/* The draft examples' vendor and class ids (also tests/support.c's ts_vendor / ts_class). */
static const uint8_t VENDOR[16] = { 0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad, 0x5f, 0xdf,
                                    0xbe, 0x9d, 0xe6, 0x63, 0xe4, 0xd4, 0x1f, 0xfe };
static const uint8_t CLASS[16] = { 0x14, 0x92, 0xaf, 0x14, 0x25, 0x69, 0x5e, 0x48,
                                   0xbf, 0x42, 0x9b, 0x2d, 0x51, 0xf2, 0xab, 0x45 };
static const uint8_t DEVICE[16] = { 0xd0, 0x0d, 0xfe, 0xed, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };

/* The image every boot slot holds: IMAGE_LEN bytes, byte i = (i * 7 + 3) & 0xff
 * (fuzz/corpus/make_seeds.py builds manifests for exactly this image). */
#define IMAGE_LEN 1024u
static uint8_t image[IMAGE_LEN];
static uint8_t image_digest[32];

static fs38_keyring kr;
static psa_key_id_t hmac_key;

/* ---- the RAM flash port (port/ram): two 8 KiB slots (image at 4096), counters in RAM ---- */
#define SECTOR 4096u
#define SLOT_SIZE (2u * SECTOR)
#define FLASH_SIZE (2u * SLOT_SIZE)
static uint8_t flash[FLASH_SIZE];
static fs38_ram ram; /* entropy all 0x42, clock 0, no wall time; a refused call is a bug (bad_calls) */
static fs38_port ram_port;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    hmac_key = fuzz_example_keyring(&kr, 1);
    for (unsigned i = 0; i < IMAGE_LEN; i++)
        image[i] = (uint8_t)((i * 7u + 3u) & 0xffu);
    CHECK(fs38_sha256(image, IMAGE_LEN, image_digest) == FS38_OK);
    const fs38_ram_config rc = { .flash = flash, .flash_size = FLASH_SIZE, .sector_size = SECTOR,
                                 .fixed_entropy = true, .entropy_byte = 0x42 };
    CHECK(fs38_ram_init(&ram, &rc, &ram_port) == FS38_OK);
    return 0;
}

/* ---- invariant helpers ---- */

static const uint8_t *env_lo; /* the envelope being processed */
static size_t env_n;

static bool in_env(const uint8_t *p, size_t n)
{
    return p >= env_lo && p <= env_lo + env_n && n <= (size_t)(env_lo + env_n - p);
}

static void check_span(fs38_span s)
{
    if (s.p)
        CHECK(in_env(s.p, s.len));
    else
        CHECK(s.len == 0);
}

static void check_diag(fs38_err e, const fs38_diag *d)
{
    CHECK(memchr(d->msg, 0, sizeof d->msg) != NULL);
    if (e) {
        CHECK(d->err == e);
        CHECK(d->msg[0] != 0);
    }
}

static void check_member(const fs38_suit_member *mem)
{
    CHECK(mem->state == FS38_MEMBER_ABSENT || mem->state == FS38_MEMBER_PRESENT || mem->state == FS38_MEMBER_SEVERED);
    if (mem->state == FS38_MEMBER_PRESENT)
        CHECK(mem->body.p != NULL);
    check_span(mem->body);
}

static void check_manifest(const fs38_suit_manifest *m)
{
    CHECK(m->authenticated);
    check_span(m->auth);
    check_span(m->manifest);
    check_span(m->manifest_wrapped);
    CHECK(m->manifest.p > m->manifest_wrapped.p &&
          m->manifest.p + m->manifest.len == m->manifest_wrapped.p + m->manifest_wrapped.len);
    uint8_t h[32];
    CHECK(fs38_sha256(m->manifest_wrapped.p, m->manifest_wrapped.len, h) == FS38_OK);
    CHECK(memcmp(h, m->manifest_digest, 32) == 0);
    CHECK(m->n_integrated <= FS38_SUIT_MAX_INTEGRATED);
    for (size_t i = 0; i < m->n_integrated; i++) {
        check_span(m->integrated[i].name);
        check_span(m->integrated[i].data);
        fs38_span out;
        CHECK(fs38_suit_integrated(m, (const char *)m->integrated[i].name.p, m->integrated[i].name.len, &out) ==
              FS38_OK);
        check_span(out);
    }
    CHECK(m->signer < kr.n);
    CHECK(m->signer_is_mac == (kr.a[m->signer].kind == FS38_KEY_HMAC256));
    CHECK(m->signer_is_mac ? m->auth_alg == FS38_COSE_ALG_HMAC256
                           : (m->auth_alg == FS38_COSE_ALG_ES256 || m->auth_alg == FS38_COSE_ALG_ESP256));
    CHECK(m->version == 1);
    CHECK(m->n_components >= 1 && m->n_components <= FS38_SUIT_MAX_COMPONENTS);
    for (size_t i = 0; i < m->n_components; i++) {
        check_span(m->components[i]);
        CHECK(m->components[i].p != NULL && fs38_cbor_check_single(m->components[i].p, m->components[i].len) == FS38_OK);
    }
    check_span(m->reference_uri);
    check_span(m->manifest_component_id);
    check_span(m->shared_seq);
    check_span(m->dependencies);
    check_member(&m->validate);
    check_member(&m->load);
    check_member(&m->invoke);
    check_member(&m->dependency_resolution);
    check_member(&m->payload_fetch);
    check_member(&m->install);
    check_member(&m->text);
    fs38_diag d;
    CHECK(fs38_suit_check_sequence(m, m->sequence, &d) == FS38_OK);
    if (m->sequence < UINT64_MAX) {
        fs38_err e = fs38_suit_check_sequence(m, m->sequence + 1, &d);
        CHECK(e == FS38_ERR_ROLLBACK);
        check_diag(e, &d);
    }
}

/* ---- stub platform ops: per-component "contents" (a digest and a size), nothing touched ---- */

typedef struct {
    uint8_t digest[FS38_SUIT_MAX_COMPONENTS][32];
    uint64_t size[FS38_SUIT_MAX_COMPONENTS];
    unsigned calls;
} stub_state;

static volatile uint8_t sink;

static void check_params(const fs38_suit_params *pp)
{
    CHECK((pp->set & ~(uint32_t)((1u << 25) - 1u)) == 0);
    check_span(pp->vendor_id);
    check_span(pp->class_id);
    check_span(pp->device_id);
    check_span(pp->digest);
    check_span(pp->content);
    check_span(pp->encryption_info);
    check_span(pp->uri);
    check_span(pp->invoke_args);
    uint8_t acc = 0;
    for (size_t i = 0; i < pp->uri.len; i++)
        acc ^= pp->uri.p[i];
    sink = acc;
}

static void check_cmd(const stub_state *st, const fs38_suit_cmd *c)
{
    (void)st;
    CHECK(c->m != NULL && c->component < c->m->n_components);
    CHECK(c->component_id.p == c->m->components[c->component].p &&
          c->component_id.len == c->m->components[c->component].len);
    CHECK(c->params != NULL);
    check_params(c->params);
    if (c->source_params)
        check_params(c->source_params);
}

static FS38_NODISCARD fs38_err stub_digest(void *user, const fs38_suit_cmd *c, uint8_t out[32])
{
    stub_state *st = user;
    check_cmd(st, c);
    st->calls++;
    if (FS38_SUIT_HAS(c->params, FS38_SUIT_PARAM_IMAGE_SIZE) && c->params->image_size != st->size[c->component])
        return FS38_ERR_IMAGE_SIZE;
    memcpy(out, st->digest[c->component], 32);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err stub_slot(void *user, const fs38_suit_cmd *c)
{
    stub_state *st = user;
    check_cmd(st, c);
    CHECK(FS38_SUIT_HAS(c->params, FS38_SUIT_PARAM_COMPONENT_SLOT));
    return c->params->component_slot == 1 ? FS38_OK : FS38_ERR_CONDITION;
}

/* "download": the component now holds what the manifest expects */
static FS38_NODISCARD fs38_err stub_fetch(void *user, const fs38_suit_cmd *c)
{
    stub_state *st = user;
    check_cmd(st, c);
    CHECK(FS38_SUIT_HAS(c->params, FS38_SUIT_PARAM_URI));
    if (FS38_SUIT_HAS(c->params, FS38_SUIT_PARAM_IMAGE_DIGEST) && c->params->digest.len == 32)
        memcpy(st->digest[c->component], c->params->digest.p, 32);
    st->size[c->component] = c->params->image_size;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err stub_copy(void *user, const fs38_suit_cmd *c)
{
    stub_state *st = user;
    check_cmd(st, c);
    CHECK(FS38_SUIT_HAS(c->params, FS38_SUIT_PARAM_SOURCE_COMPONENT));
    CHECK(c->source_params != NULL);
    uint64_t src = c->params->source_component;
    CHECK(src < c->m->n_components && src != c->component);
    memcpy(st->digest[c->component], st->digest[src], 32);
    st->size[c->component] = st->size[src];
    return FS38_OK;
}

static FS38_NODISCARD fs38_err stub_write(void *user, const fs38_suit_cmd *c)
{
    stub_state *st = user;
    check_cmd(st, c);
    CHECK(FS38_SUIT_HAS(c->params, FS38_SUIT_PARAM_CONTENT));
    CHECK(fs38_sha256(c->params->content.p, c->params->content.len, st->digest[c->component]) == FS38_OK);
    st->size[c->component] = c->params->content.len;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err stub_invoke(void *user, const fs38_suit_cmd *c)
{
    stub_state *st = user;
    check_cmd(st, c);
    return c->component == 0 ? FS38_OK : FS38_ERR_CALLBACK;
}

static const fs38_suit_ops stub_ops = { stub_digest, stub_slot, stub_fetch, stub_copy, stub_write, stub_invoke };

static void run_sequences(const fs38_suit_manifest *m)
{
    static const fs38_suit_seq seqs[] = { FS38_SUIT_SEQ_DEPENDENCY_RESOLUTION, FS38_SUIT_SEQ_PAYLOAD_FETCH,
                                          FS38_SUIT_SEQ_INSTALL,               FS38_SUIT_SEQ_VALIDATE,
                                          FS38_SUIT_SEQ_LOAD,                  FS38_SUIT_SEQ_INVOKE };
    stub_state st;
    memset(&st, 0, sizeof st);
    for (unsigned c = 0; c < FS38_SUIT_MAX_COMPONENTS; c++) { /* every component holds the boot image */
        memcpy(st.digest[c], image_digest, 32);
        st.size[c] = IMAGE_LEN;
    }
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        fs38_suit_runner r;
        memset(&r, 0, sizeof r);
        r.vendor_id = VENDOR;
        r.class_id = CLASS;
        r.device_id = (i & 1) ? DEVICE : NULL;
        r.ops = &stub_ops;
        r.user = &st;
        fs38_diag d;
        fs38_err e = fs38_suit_run(&r, m, seqs[i], &d);
        check_diag(e, &d);
        const fs38_suit_member *mem = fs38_suit_member_of(m, seqs[i]);
        CHECK(mem != NULL);
        if (mem->state == FS38_MEMBER_ABSENT)
            CHECK(e == FS38_ERR_NOT_FOUND);
        if (mem->state == FS38_MEMBER_SEVERED)
            CHECK(e == FS38_ERR_SEVERED_MISSING);
        /* The runner's state is only specified after a successful run (after a rejection a
         * parameter whose value was malformed may be left half-set). */
        if (e == FS38_OK) {
            CHECK(r.nesting == 0 && r.selected && r.selected < (1u << m->n_components));
            for (unsigned c = 0; c < FS38_SUIT_MAX_COMPONENTS; c++) {
                check_params(&r.params[c]);
                if (c >= m->n_components)
                    CHECK(r.checked[c] == 0 && r.params[c].set == 0);
            }
        }
    }
    /* not a command sequence */
    fs38_suit_runner r;
    memset(&r, 0, sizeof r);
    fs38_diag d;
    CHECK(fs38_suit_run(&r, m, (fs38_suit_seq)FS38_SUIT_MAN_TEXT, &d) == FS38_ERR_ARG);
}

/* ---- the boot path on the same envelope ---- */

static void boot_path(const uint8_t *env, size_t env_len, bool authenticated, const fs38_suit_manifest *m)
{
    if (env_len == 0 || env_len > FS38_ENVELOPE_MAX)
        return;
    fs38_ram_erase_all(&ram);
    fs38_boot_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &ram_port;
    cfg.trust = &kr;
    cfg.vendor_id = VENDOR;
    cfg.class_id = CLASS;
    cfg.slot[0].offset = 0;
    cfg.slot[0].size = SLOT_SIZE;
    cfg.slot[1].offset = SLOT_SIZE;
    cfg.slot[1].size = SLOT_SIZE;
    CHECK(fs38_slot_program(&cfg, 0, env, env_len, image, IMAGE_LEN) == FS38_OK);

    static fs38_boot_ctx ctx; /* ~5 KiB: not on the fuzzer's stack */
    CHECK(fs38_boot_init(&ctx, &cfg) == FS38_OK);
    fs38_err e = fs38_boot_verify_slot(&ctx, 0);
    const fs38_slot_info *si = &ctx.slot[0];
    CHECK(si->verdict == e && si->present);
    CHECK(memchr(si->reason, 0, sizeof si->reason) != NULL);
    CHECK(fs38_boot_verify_slot(&ctx, 1) == FS38_ERR_NO_IMAGE && !ctx.slot[1].present);
    if (e) {
        CHECK(si->reason[0] != 0);
        unsigned slot = 9;
        CHECK(fs38_boot_select(&ctx, &slot) == FS38_ERR_NOT_BOOTABLE && ctx.chosen == -1);
        CHECK(ram.bad_calls == 0); /* fs38 checks its arguments before calling the port */
        return;
    }
    /* verified: the envelope authenticates, and the image in flash is what it describes */
    CHECK(authenticated);
    CHECK(si->reason[0] == 0);
    CHECK(si->sequence == m->sequence && memcmp(si->manifest_digest, m->manifest_digest, 32) == 0);
    CHECK(si->image_size == IMAGE_LEN && memcmp(si->image_digest, image_digest, 32) == 0);
    CHECK(si->alg == m->auth_alg);
    unsigned slot = 9;
    CHECK(fs38_boot_select(&ctx, &slot) == FS38_OK && slot == 0 && ctx.chosen == 0);
    CHECK(fs38_boot_commit(&ctx, 0) == FS38_OK);
    CHECK(ram.counters[FS38_COUNTER_ROLLBACK] == m->sequence && ctx.counter == m->sequence);
    CHECK(fs38_boot_verify_slot(&ctx, 0) == FS38_OK);
    if (m->sequence < UINT64_MAX) {
        ram.counters[FS38_COUNTER_ROLLBACK] = m->sequence + 1;
        CHECK(fs38_boot_verify_slot(&ctx, 0) == FS38_ERR_ROLLBACK);
    }
    CHECK(ram.bad_calls == 0);
}

/* ---- manifest mode: wrap the input into a MAC-authenticated envelope ---- */

#ifdef FS38_FUZZ_MANIFEST_MODE
#define MAX_EXTRA 8

/* Returns a malloc'd envelope of exactly *env_len bytes. */
static uint8_t *wrap_manifest(const uint8_t *in, size_t len, size_t *env_len)
{
    const uint8_t *man = in;
    size_t man_len = len;
    const uint8_t *extra = NULL;
    size_t extra_len = 0, n_extra = 0;
    fs38_cbor_dec d;
    fs38_cbor_dec_init(&d, in, len);
    if (fs38_cbor_get_raw(&d, &man, &man_len) == FS38_OK) {
        extra = in + d.pos;
        size_t end = d.pos;
        while (n_extra < MAX_EXTRA && !fs38_cbor_at_end(&d)) {
            if (fs38_cbor_skip(&d) || fs38_cbor_skip(&d))
                break;
            end = d.pos;
            n_extra++;
        }
        extra_len = (size_t)(in + end - extra);
    } else {
        man = in;
        man_len = len;
    }

    /* SUIT_Digest over the bstr-wrapped manifest */
    uint8_t head[9], h[32];
    size_t hl = fs38_cbor_encode_head(FS38_CBOR_BSTR, man_len, head);
    psa_hash_operation_t op = PSA_HASH_OPERATION_INIT;
    size_t olen = 0;
    CHECK(psa_hash_setup(&op, PSA_ALG_SHA_256) == PSA_SUCCESS);
    CHECK(psa_hash_update(&op, head, hl) == PSA_SUCCESS);
    CHECK(psa_hash_update(&op, man, man_len) == PSA_SUCCESS);
    CHECK(psa_hash_finish(&op, h, sizeof h, &olen) == PSA_SUCCESS);
    uint8_t dg[40];
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, dg, sizeof dg);
    fs38_cbor_put_array(&e, 2);
    fs38_cbor_put_int(&e, FS38_SUIT_ALG_SHA256);
    fs38_cbor_put_bstr(&e, h, 32);
    size_t dg_len = 0;
    CHECK(fs38_cbor_enc_finish(&e, &dg_len) == FS38_OK);
    uint8_t mac[96];
    size_t mac_len = 0;
    CHECK(fs38_cose_mac0_create(hmac_key, dg, dg_len, true, mac, sizeof mac, &mac_len) == FS38_OK);
    uint8_t auth[160];
    fs38_cbor_enc_init(&e, auth, sizeof auth);
    fs38_cbor_put_array(&e, 2);
    fs38_cbor_put_bstr(&e, dg, dg_len);
    fs38_cbor_put_bstr(&e, mac, mac_len);
    size_t auth_len = 0;
    CHECK(fs38_cbor_enc_finish(&e, &auth_len) == FS38_OK);

    fs38_cbor_enc_init(&e, NULL, 0);
    for (int pass = 0; pass < 2; pass++) {
        uint8_t *out = NULL;
        if (pass == 1) {
            out = malloc(*env_len ? *env_len : 1);
            CHECK(out != NULL);
            fs38_cbor_enc_init(&e, out, *env_len);
        }
        fs38_cbor_put_tag(&e, FS38_SUIT_TAG_ENVELOPE);
        fs38_cbor_put_map(&e, 2 + n_extra);
        fs38_cbor_put_uint(&e, FS38_SUIT_ENV_AUTH);
        fs38_cbor_put_bstr(&e, auth, auth_len);
        fs38_cbor_put_uint(&e, FS38_SUIT_ENV_MANIFEST);
        fs38_cbor_put_bstr(&e, man, man_len);
        fs38_cbor_put_raw(&e, extra, extra_len);
        size_t n = 0;
        CHECK(fs38_cbor_enc_finish(&e, &n) == FS38_OK);
        if (pass == 0) {
            *env_len = n;
        } else {
            CHECK(n == *env_len);
            return out;
        }
    }
    return NULL;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *env;
    size_t env_len;
#ifdef FS38_FUZZ_MANIFEST_MODE
    env = wrap_manifest(data, size, &env_len);
#else
    env_len = size;
    env = malloc(size ? size : 1);
    CHECK(env != NULL);
    if (size)
        memcpy(env, data, size);
#endif
    env_lo = env;
    env_n = env_len;

    static fs38_suit_manifest m; /* static: keeps the fuzzer's stack small; reset by authenticate */
    fs38_diag d;
    fs38_err e = fs38_suit_authenticate(&m, env, env_len, &kr, &d);
    check_diag(e, &d);
#ifdef FS38_FUZZ_MANIFEST_MODE
    /* the harness authenticated it: only the manifest (or extra members) may be refused */
    CHECK(e != FS38_ERR_BAD_MAC && e != FS38_ERR_BAD_SIGNATURE && e != FS38_ERR_MANIFEST_DIGEST &&
          e != FS38_ERR_NO_AUTH && e != FS38_ERR_COSE_FORMAT);
#endif
    if (e) {
        CHECK(!m.authenticated);
        fs38_suit_runner r;
        memset(&r, 0, sizeof r);
        CHECK(fs38_suit_run(&r, &m, FS38_SUIT_SEQ_VALIDATE, &d) == FS38_ERR_STATE);
    } else {
        check_manifest(&m);
#ifdef FS38_FUZZ_MANIFEST_MODE
        CHECK(m.signer_is_mac);
#endif
        run_sequences(&m);
    }
    boot_path(env, env_len, e == FS38_OK, &m);
    free(env);
    return 0;
}
