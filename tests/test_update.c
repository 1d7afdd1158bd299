/* SPDX-License-Identifier: Apache-2.0 */
/* test_update.c — the update agent (control 3): encrypted and plain updates at every chunk
 * size, each rejection with its own error leaving the device as it was, resume after a
 * power cut, and the power-loss proof: a cut at every program/erase operation of a full
 * update (begin, stream, finish, first boot, confirm) and of the revert path. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "support.h"
#include "fs38/boot.h"
#include "fs38/event.h"
#include "fs38/update.h"
#include "fs38/util.h"
#include "suit_build.h"
#include "suit_encrypt.h"

#define FLASH_SIZE (1024u * 1024u)
#define SLOT_SIZE (256u * 1024u)
#define STATE_OFF (2u * SLOT_SIZE)

static psa_key_id_t signer, other_signer, device_key, other_device_key;
static uint8_t signer_pt[65], signer_kid[8], device_pt[65], other_device_pt[65];
static fs38_keyring trust;
static const uint8_t kek[16] = "0123456789abcdef";

/* ---- events ---- */
static int ev_count[64];
static fs38_event_code ev_last;
static void sink(void *user, const fs38_event_rec *ev)
{
    (void)user;
    ev_count[ev->code % 64]++;
    ev_last = ev->code;
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
    signer = ts_gen_signer(signer_pt);
    assert_int_equal(fs38_key_id(signer_pt, 65, signer_kid), FS38_OK);
    uint8_t pt[65];
    other_signer = ts_gen_signer(pt);
    device_key = ts_gen_ecdh(device_pt);
    other_device_key = ts_gen_ecdh(other_device_pt);
    fs38_keyring_init(&trust);
    assert_int_equal(fs38_keyring_add_p256(&trust, signer_pt, 65), FS38_OK);
    fs38_event_set_sink(sink, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fs38_event_set_sink(NULL, NULL);
    fs38_keyring_free(&trust);
    return 0;
}

/* ---- device rig ---- */
typedef struct {
    ts_flash f;
    fs38_boot_config cfg;
    fs38_boot_ctx boot;
    fs38_update_ctx upd;
} rig;

static void rig_open(rig *r)
{
    ts_boot_config(&r->cfg, &r->f.port, &trust, SLOT_SIZE);
    r->cfg.state = (fs38_region){ STATE_OFF, 2 * 4096 };
    assert_int_equal(fs38_boot_init(&r->boot, &r->cfg), FS38_OK);
}

static void rig_reboot(rig *r)
{
    ts_flash_reboot(&r->f);
    rig_open(r);
}

/* ---- firmware and envelopes ---- */
typedef struct {
    uint8_t *image;
    size_t image_len;
    uint8_t *payload; /* what the device fetches */
    size_t payload_len;
    suit_buf env;
} release;

typedef enum { PLAIN, CTR_ECDH, GCM_ECDH, CTR_KW, GCM_KW } mode;

static int release_slot = -1; /* >= 0: make_release binds the image to that slot (fs38 sign --slot) */

static void make_release(release *rl, uint64_t seq, size_t len, uint8_t seed, mode md, psa_key_id_t key,
                         const uint8_t *vendor, const uint8_t *class_id, const uint8_t *dev_pub)
{
    memset(rl, 0, sizeof *rl);
    rl->image = malloc(len);
    rl->image_len = len;
    for (size_t i = 0; i < len; i++)
        rl->image[i] = (uint8_t)(i * 7u + seed + (i >> 8));
    suit_build sb;
    suit_build_firmware(&sb, seq, vendor, class_id, rl->image, len, FS38_COSE_ALG_ESP256, key,
                        key == signer ? signer_kid : (const uint8_t *)"\0\0\0\0\0\0\0\0");
    if (release_slot >= 0) {
        sb.bind_slot = true;
        sb.slot = (uint64_t)release_slot;
    }
    uint8_t info[512];
    if (md != PLAIN) {
        suit_encrypt_opts o;
        memset(&o, 0, sizeof o);
        o.content_alg = md == GCM_ECDH || md == GCM_KW ? FS38_COSE_ALG_A128GCM : FS38_COSE_ALG_A128CTR;
        if (md == CTR_ECDH || md == GCM_ECDH)
            o.device_pub = dev_pub ? dev_pub : device_pt;
        else
            o.kek = kek;
        rl->payload = malloc(len + 16);
        assert_int_equal(suit_build_encrypt(&sb, &o, rl->payload, len + 16, &rl->payload_len, info, sizeof info),
                         FS38_OK);
    } else {
        rl->payload = malloc(len);
        memcpy(rl->payload, rl->image, len);
        rl->payload_len = len;
    }
    assert_int_equal(suit_build_envelope(&sb, &rl->env), FS38_OK);
}

static void free_release(release *rl)
{
    free(rl->image);
    free(rl->payload);
}

/* factory image in slot A (sequence 1) */
static release factory;

static void rig_new(rig *r)
{
    memset(r, 0, sizeof *r);
    ts_flash_new(&r->f, FLASH_SIZE);
    rig_open(r);
    assert_int_equal(fs38_slot_program(&r->cfg, 0, factory.env.b, factory.env.len, factory.image, factory.image_len),
                     FS38_OK);
}

static fs38_update_config ucfg(rig *r, unsigned running)
{
    fs38_update_config c;
    memset(&c, 0, sizeof c);
    c.boot = &r->cfg;
    c.running_slot = running;
    c.keys.ecdh_key = device_key;
    c.keys.kek = kek;
    c.keys.kek_len = 16;
    return c;
}

/* The running slot as the device knows it (fs38_boot_running: no state change). */
static unsigned running_slot(rig *r)
{
    fs38_bootstate before, after;
    assert_int_equal(fs38_bootstate_read(&r->f.port, STATE_OFF, 8192, &before), FS38_OK);
    unsigned s;
    assert_int_equal(fs38_boot_running(&r->boot, &s), FS38_OK);
    assert_int_equal(fs38_bootstate_read(&r->f.port, STATE_OFF, 8192, &after), FS38_OK);
    assert_int_equal(before.seq, after.seq); /* nothing written */
    return s;
}

/* begin + write in chunks + finish */
static FS38_NODISCARD fs38_err install(rig *r, const release *rl, size_t chunk)
{
    fs38_update_config c = ucfg(r, running_slot(r));
    fs38_err e = fs38_update_begin(&r->upd, &c, rl->env.b, rl->env.len);
    for (uint64_t off = r->upd.offset; !e && off < rl->payload_len; off += chunk) {
        size_t n = rl->payload_len - off < chunk ? (size_t)(rl->payload_len - off) : chunk;
        e = fs38_update_write(&r->upd, rl->payload + off, n);
    }
    if (!e)
        e = fs38_update_finish(&r->upd);
    if (e == FS38_ERR_POWER)
        fs38_update_abort(&r->upd); /* the RAM of a device that lost power: release it */
    return e;
}

static uint64_t counter(rig *r)
{
    uint64_t c;
    assert_int_equal(r->f.port.counter_read(r->f.port.ctx, FS38_COUNTER_ROLLBACK, &c), FS38_OK);
    return c;
}

static unsigned boot(rig *r)
{
    unsigned s;
    fs38_err e = fs38_boot_select(&r->boot, &s);
    if (e)
        fail_msg("boot failed: %d (A: %s, B: %s)", e, r->boot.slot[0].reason, r->boot.slot[1].reason);
    return s;
}

static int group_setup(void **state)
{
    (void)state;
    make_release(&factory, 1, 20000, 1, PLAIN, signer, ts_vendor, ts_class, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    free_release(&factory);
    return 0;
}

/* ---- full cycle in every mode and chunk size ---- */

static void full_cycle(mode md, size_t len, size_t chunk)
{
    rig r;
    rig_new(&r);
    assert_int_equal(boot(&r), 0);
    release rl;
    make_release(&rl, 2, len, 9, md, signer, ts_vendor, ts_class, NULL);
    uint64_t before = r.f.posix.bytes_programmed;
    fs38_err e = install(&r, &rl, chunk);
    if (e)
        fail_msg("mode %d chunk %zu: %d %s", md, chunk, e, r.upd.diag.msg);
    uint64_t written = r.f.posix.bytes_programmed - before;
    /* each image byte once, plus the envelope, slot header and state records */
    assert_true(written >= len);
    assert_true(written <= len + rl.env.len + 16 + 8 * FS38_BOOTSTATE_RECORD);
    assert_int_equal(counter(&r), 0);
    assert_int_equal(boot(&r), 1); /* trial */
    assert_int_equal(r.boot.slot[1].sequence, 2);
    unsigned s;
    assert_int_equal(fs38_boot_confirm(&r.boot, &s), FS38_OK);
    assert_int_equal(s, 1);
    assert_int_equal(counter(&r), 2);
    rig_reboot(&r);
    assert_int_equal(boot(&r), 1);
    assert_int_equal(boot(&r), 1); /* confirmed: stays */
    assert_int_equal(r.boot.slot[0].verdict, FS38_ERR_ROLLBACK);
    free_release(&rl);
    ts_flash_free(&r.f);
}

static void test_modes_and_chunk_sizes(void **state)
{
    (void)state;
    static const size_t chunks[] = { 1, 7, 16, 511, 512, 513, 4096, 100000 };
    for (mode md = PLAIN; md <= GCM_KW; md++)
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++)
            full_cycle(md, chunks[c] == 1 ? 3000 : 70001, chunks[c]);
    print_message("update: sizeof(fs38_update_ctx) = %zu bytes (constant; no image-sized buffer)\n",
                  sizeof(fs38_update_ctx));
}

/* ---- rejections ---- */

static void expect_rejected(const release *rl, fs38_err want, const char *msg)
{
    rig r;
    rig_new(&r);
    assert_int_equal(boot(&r), 0);
    int rejected_before = ev_count[FS38_EV_UPDATE_REJECTED] + ev_count[FS38_EV_ROLLBACK_REFUSED];
    fs38_err e = install(&r, rl, 1000);
    if (e != want)
        fail_msg("expected %d (%s), got %d: %s", want, msg, e, r.upd.diag.msg);
    if (msg && !strstr(r.upd.diag.msg, msg))
        fail_msg("diagnostic '%s' does not say '%s'", r.upd.diag.msg, msg);
    assert_int_equal(ev_count[FS38_EV_UPDATE_REJECTED] + ev_count[FS38_EV_ROLLBACK_REFUSED], rejected_before + 1);
    /* nothing lost: the running image still boots, nothing pending, counter unchanged */
    rig_reboot(&r);
    assert_int_equal(boot(&r), 0);
    assert_int_equal(r.boot.slot[0].sequence, 1);
    assert_int_equal(r.boot.slot[1].verdict == FS38_OK, 0);
    fs38_bootstate st;
    assert_int_equal(fs38_bootstate_read(&r.f.port, STATE_OFF, 8192, &st), FS38_OK);
    assert_int_equal(st.pending, FS38_PENDING_NONE);
    assert_int_equal(counter(&r), 0);
    ts_flash_free(&r.f);
}

/* rl with payload byte `at` flipped by mask: rejected as expect_rejected says. */
static void expect_payload_flip_rejected(const release *rl, size_t at, uint8_t mask, fs38_err want, const char *msg)
{
    release bad = *rl;
    uint8_t *p = malloc(rl->payload_len);
    assert_non_null(p);
    memcpy(p, rl->payload, rl->payload_len);
    p[at] ^= mask;
    bad.payload = p;
    expect_rejected(&bad, want, msg);
    free(p);
}

static void test_rejections(void **state)
{
    (void)state;
    release rl;
    static const uint8_t other_id[16] = { 9, 9, 9 };

    make_release(&rl, 2, 30000, 3, CTR_ECDH, signer, ts_vendor, ts_class, NULL);
    /* bad signature: last byte of the COSE signature (just before the manifest member) */
    {
        release bad = rl;
        suit_buf env = rl.env;
        bad.env = env;
        /* the 64-byte r||s signature is the bstr "58 40 ..." inside the COSE_Sign1 */
        size_t at = 0;
        for (size_t i = 0; i + 66 < bad.env.len && !at; i++)
            if (bad.env.b[i] == 0x58 && bad.env.b[i + 1] == 0x40)
                at = i + 2 + 20;
        assert_true(at > 0);
        bad.env.b[at] ^= 0x01;
        expect_rejected(&bad, FS38_ERR_BAD_SIGNATURE, "signature");
    }
    /* payload tampered (CTR: caught by the payload digest) */
    {
        release bad = rl;
        uint8_t *p = malloc(rl.payload_len);
        memcpy(p, rl.payload, rl.payload_len);
        p[12345] ^= 0x40;
        bad.payload = p;
        expect_rejected(&bad, FS38_ERR_IMAGE_DIGEST, "payload digest mismatch");
        /* truncated stream */
        bad.payload = rl.payload;
        bad.payload_len = rl.payload_len - 100;
        expect_rejected(&bad, FS38_ERR_TRUNCATED, "payload ended after");
        free(p);
    }
    free_release(&rl);

    make_release(&rl, 2, 30000, 3, CTR_ECDH, other_signer, ts_vendor, ts_class, NULL);
    expect_rejected(&rl, FS38_ERR_UNTRUSTED_SIGNER, "not trusted");
    free_release(&rl);
    make_release(&rl, 2, 30000, 3, PLAIN, signer, other_id, ts_class, NULL);
    expect_rejected(&rl, FS38_ERR_VENDOR_ID, "vendor id mismatch");
    free_release(&rl);
    make_release(&rl, 2, 30000, 3, PLAIN, signer, ts_vendor, other_id, NULL);
    expect_rejected(&rl, FS38_ERR_CLASS_ID, "class id mismatch");
    free_release(&rl);
    make_release(&rl, 2, SLOT_SIZE, 3, PLAIN, signer, ts_vendor, ts_class, NULL);
    expect_rejected(&rl, FS38_ERR_OVERSIZE, "does not fit");
    free_release(&rl);
    /* a sequence number no monotonic counter can hold would brick the device once confirmed */
    make_release(&rl, UINT64_MAX, 3000, 3, PLAIN, signer, ts_vendor, ts_class, NULL);
    expect_rejected(&rl, FS38_ERR_UNSUPPORTED_PARAM, "beyond what the anti-rollback counter holds");
    free_release(&rl);
    /* encrypted for another device */
    make_release(&rl, 2, 30000, 3, GCM_ECDH, signer, ts_vendor, ts_class, other_device_pt);
    expect_rejected(&rl, FS38_ERR_DECRYPT, "unwrap");
    free_release(&rl);
    /* GCM payload tampered: the tag fails */
    make_release(&rl, 2, 30000, 3, GCM_KW, signer, ts_vendor, ts_class, NULL);
    expect_payload_flip_rejected(&rl, 100, 0x01, FS38_ERR_DECRYPT, "tag mismatch"); /* the tag is checked first */
    free_release(&rl);
    /* plain payload tampered: image digest */
    make_release(&rl, 2, 30000, 3, PLAIN, signer, ts_vendor, ts_class, NULL);
    expect_payload_flip_rejected(&rl, 29999, 0x80, FS38_ERR_IMAGE_DIGEST, "image digest mismatch");
    {
        /* a payload longer than announced */
        release bad = rl;
        uint8_t *q = malloc(rl.payload_len + 10);
        assert_non_null(q);
        memcpy(q, rl.payload, rl.payload_len);
        bad.payload = q;
        bad.payload_len = rl.payload_len + 10;
        expect_rejected(&bad, FS38_ERR_OVERSIZE, "payload exceeds");
        free(q);
    }
    free_release(&rl);
}

static void test_gcm_tag_failure(void **state)
{
    (void)state;
    /* a GCM payload whose manifest carries no payload digest: only the tag can catch a
     * tampered ciphertext — build the envelope from a ciphertext, then flip a byte of the
     * ciphertext the device receives *and* of the digest's input: use the tag bytes, which
     * the payload digest covers, so flip and re-sign instead */
    release rl;
    make_release(&rl, 2, 5000, 4, GCM_KW, signer, ts_vendor, ts_class, NULL);
    /* tamper the ciphertext, then re-sign a manifest whose payload digest matches it */
    uint8_t *ct = malloc(rl.payload_len);
    memcpy(ct, rl.payload, rl.payload_len);
    ct[rl.payload_len - 1] ^= 0x01; /* last tag byte */
    /* rebuild the envelope with the same encryption-info but the tampered payload */
    suit_build sb;
    suit_build_firmware(&sb, 2, ts_vendor, ts_class, rl.image, rl.image_len, FS38_COSE_ALG_ESP256, signer,
                        signer_kid);
    /* recover the encryption-info from the original envelope */
    fs38_suit_manifest m;
    fs38_diag d;
    assert_int_equal(fs38_suit_authenticate(&m, rl.env.b, rl.env.len, &trust, &d), FS38_OK);
    const uint8_t *p = m.install.body.p;
    const uint8_t *found = NULL;
    size_t found_len = 0;
    for (size_t i = 0; i + 2 < m.install.body.len; i++) {
        if (p[i] == 0x13 && (p[i + 1] == 0x58 || p[i + 1] == 0x59)) { /* key 19, bstr */
            found_len = p[i + 1] == 0x58 ? p[i + 2] : (size_t)(p[i + 2] << 8 | p[i + 3]);
            found = p + i + (p[i + 1] == 0x58 ? 3 : 4);
            break;
        }
    }
    assert_non_null(found);
    uint8_t info[512];
    memcpy(info, found, found_len);
    sb.enc_info = info;
    sb.enc_info_len = found_len;
    sb.payload = ct;
    sb.payload_len = rl.payload_len;
    release bad = rl;
    assert_int_equal(suit_build_envelope(&sb, &bad.env), FS38_OK);
    bad.payload = ct;
    expect_rejected(&bad, FS38_ERR_DECRYPT, "tag");
    free(ct);
    free_release(&rl);
}

static void test_rollback_and_trial_rules(void **state)
{
    (void)state;
    rig r;
    rig_new(&r);
    release v3, v2;
    make_release(&v3, 3, 10000, 5, CTR_KW, signer, ts_vendor, ts_class, NULL);
    make_release(&v2, 2, 10000, 6, CTR_KW, signer, ts_vendor, ts_class, NULL);
    assert_int_equal(boot(&r), 0);
    assert_int_equal(install(&r, &v3, 4096), FS38_OK);
    assert_int_equal(boot(&r), 1);
    /* while a trial runs, no other update is accepted */
    assert_int_equal(install(&r, &v2, 4096), FS38_ERR_STATE);
    unsigned s;
    assert_int_equal(fs38_boot_confirm(&r.boot, &s), FS38_OK);
    assert_int_equal(counter(&r), 3);
    /* now sequence 2 is a rollback */
    int before = ev_count[FS38_EV_ROLLBACK_REFUSED];
    assert_int_equal(install(&r, &v2, 4096), FS38_ERR_ROLLBACK);
    assert_string_equal(r.upd.diag.msg, "sequence 2 < installed 3");
    assert_int_equal(ev_count[FS38_EV_ROLLBACK_REFUSED], before + 1);
    assert_int_equal(boot(&r), 1);
    /* confirm with nothing on trial */
    assert_int_equal(fs38_boot_confirm(&r.boot, &s), FS38_ERR_STATE);
    /* an unconfirmed update is reverted on the following boot */
    release v4;
    make_release(&v4, 4, 10000, 7, GCM_ECDH, signer, ts_vendor, ts_class, NULL);
    assert_int_equal(install(&r, &v4, 999), FS38_OK);
    assert_int_equal(boot(&r), 0);  /* trial of v4 in slot A */
    assert_int_equal(boot(&r), 1);  /* not confirmed: back to v3 */
    assert_true(r.boot.reverted);
    assert_int_equal(r.boot.reverted_slot, 0);
    assert_int_equal(counter(&r), 3);
    assert_int_equal(boot(&r), 1);
    assert_int_equal(r.boot.slot[0].verdict, FS38_ERR_NO_IMAGE); /* invalidated */
    free_release(&v2);
    free_release(&v3);
    free_release(&v4);
    ts_flash_free(&r.f);
}

static void test_resume_after_cut(void **state)
{
    (void)state;
    rig r;
    rig_new(&r);
    release rl;
    make_release(&rl, 2, 200000, 8, CTR_ECDH, signer, ts_vendor, ts_class, NULL);
    assert_int_equal(boot(&r), 0);
    /* cut the power in the middle of the stream */
    fs38_posix_cut_at(&r.f.posix, 300);
    assert_int_equal(install(&r, &rl, 512), FS38_ERR_POWER);
    uint64_t reached = r.upd.offset;
    rig_reboot(&r);
    assert_int_equal(boot(&r), 0);
    fs38_update_config c = ucfg(&r, 0);
    assert_int_equal(fs38_update_begin(&r.upd, &c, rl.env.b, rl.env.len), FS38_OK);
    assert_true(r.upd.resumed);
    assert_true(r.upd.offset > 0 && r.upd.offset <= reached);
    assert_int_equal(r.upd.offset % FS38_UPDATE_PROGRESS, 0);
    uint64_t ops_before = r.f.posix.bytes_programmed;
    for (uint64_t off = r.upd.offset; off < rl.payload_len; off += 4096) {
        size_t n = rl.payload_len - off < 4096 ? (size_t)(rl.payload_len - off) : 4096;
        assert_int_equal(fs38_update_write(&r.upd, rl.payload + off, n), FS38_OK);
    }
    assert_int_equal(fs38_update_finish(&r.upd), FS38_OK);
    assert_true(r.f.posix.bytes_programmed - ops_before < rl.image_len); /* did not start over */
    assert_int_equal(boot(&r), 1);
    /* a different envelope for the same slot restarts cleanly */
    fs38_posix_cut_at(&r.f.posix, 0);
    ts_flash_free(&r.f);
    rig_new(&r);
    assert_int_equal(boot(&r), 0);
    fs38_posix_cut_at(&r.f.posix, 300);
    assert_int_equal(install(&r, &rl, 512), FS38_ERR_POWER);
    rig_reboot(&r);
    release other;
    make_release(&other, 2, 150000, 9, CTR_ECDH, signer, ts_vendor, ts_class, NULL);
    c = ucfg(&r, 0);
    assert_int_equal(fs38_update_begin(&r.upd, &c, other.env.b, other.env.len), FS38_OK);
    assert_false(r.upd.resumed);
    assert_int_equal(r.upd.offset, 0);
    fs38_update_abort(&r.upd);
    assert_int_equal(install(&r, &other, 8192), FS38_OK);
    assert_int_equal(boot(&r), 1);
    assert_int_equal(r.boot.slot[1].image_size, 150000);
    free_release(&other);
    free_release(&rl);
    ts_flash_free(&r.f);
}

/* A port whose power fails just before the program that invalidates slot B (8 zero bytes on
 * its header): the cut between two flash operations that the half-applied cuts of
 * fs38_posix_cut_at never produce. */
static const fs38_port *cut_inner;
static uint32_t cut_slot_off;
static FS38_NODISCARD fs38_err cut_before_invalidate(void *ctx, uint32_t off, const void *buf, size_t len)
{
    static const uint8_t zero[8] = { 0 };
    if (off == cut_slot_off && len == sizeof zero && memcmp(buf, zero, len) == 0)
        return FS38_ERR_POWER;
    return cut_inner->flash_program(ctx, off, buf, len);
}

/* A trial that is not confirmed is reverted by the next boot; power fails in that boot between
 * its state write and the slot invalidation (or before both). Before anything was ever
 * confirmed (the factory image), the unconfirmed image must still never boot on its own. */
static void test_revert_cut_between_writes(void **state)
{
    (void)state;
    release rl;
    make_release(&rl, 2, 20000, 4, PLAIN, signer, ts_vendor, ts_class, NULL);
    rig r;
    rig_new(&r);
    assert_int_equal(boot(&r), 0);
    assert_int_equal(install(&r, &rl, 4096), FS38_OK);
    rig_reboot(&r);
    assert_int_equal(boot(&r), 1); /* the trial; its self-test fails: no confirmation */
    rig_reboot(&r);
    fs38_port cut = r.f.port;
    cut.flash_program = cut_before_invalidate;
    cut_inner = &r.f.port;
    cut_slot_off = r.cfg.slot[1].offset;
    fs38_boot_config c = r.cfg;
    c.port = &cut;
    assert_int_equal(fs38_boot_init(&r.boot, &c), FS38_OK);
    unsigned s;
    assert_int_equal(fs38_boot_select(&r.boot, &s), FS38_ERR_POWER);
    for (int i = 0; i < 3; i++) { /* the next power-ons: the factory image, the trial reverted */
        rig_reboot(&r);
        assert_int_equal(boot(&r), 0);
        assert_int_equal(counter(&r), 0);
    }
    ts_flash_free(&r.f);
    free_release(&rl);
}

/* ---- the power-loss proof ---- */

typedef enum { CONFIRM_PATH, REVERT_PATH } path;

/* The scripted lifecycle; stops at the first error (a cut). */
static size_t sweep_chunk = 4096; /* payload bytes per write call in the scripted lifecycle */

static FS38_NODISCARD fs38_err script(rig *r, const release *rl, path p)
{
    fs38_err e = install(r, rl, sweep_chunk);
    unsigned s;
    if (!e)
        e = fs38_boot_select(&r->boot, &s); /* first boot: the trial */
    if (!e && p == CONFIRM_PATH)
        e = fs38_boot_confirm(&r->boot, &s);
    if (!e)
        e = fs38_boot_select(&r->boot, &s); /* confirmed, or reverted */
    return e;
}

static void check_invariants(rig *r, const release *rl, path p)
{
    unsigned s = boot(r); /* some verified image boots: never none, never a partial one */
    const fs38_slot_info *si = &r->boot.slot[s];
    assert_int_equal(si->verdict, FS38_OK);
    assert_true(si->sequence == 1 || si->sequence == 2);
    if (si->sequence == 2) {
        /* the new image runs only as a trial or once confirmed, never by its sequence alone */
        assert_int_equal(si->image_size, rl->image_len);
        assert_true((r->boot.st.pending == FS38_PENDING_TRYING && r->boot.st.pending_slot == s) ||
                    r->boot.st.confirmed_slot == s);
    }
    uint64_t c = counter(r);
    fs38_bootstate st;
    assert_int_equal(fs38_bootstate_read(&r->f.port, STATE_OFF, 8192, &st), FS38_OK);
    if (p == REVERT_PATH) {
        assert_int_equal(c, 0); /* never confirmed: the counter never moves */
    } else {
        /* the counter never exceeds the confirmed image's sequence */
        assert_true(c == 0 || (c == 2 && st.confirmed_slot == 1));
    }
}

static void complete_after_cut(rig *r, const release *rl, path p)
{
    /* the device boots (trial state may be reverted by that boot), then the update is
     * retried until it has been installed and confirmed (or reverted, on that path) */
    unsigned s = boot(r);
    if (p == CONFIRM_PATH) {
        fs38_bootstate st;
        assert_int_equal(fs38_bootstate_read(&r->f.port, STATE_OFF, 8192, &st), FS38_OK);
        if (!(s == 1 && st.confirmed_slot == 1)) {
            if (!(s == 1 && st.pending == FS38_PENDING_TRYING)) {
                assert_int_equal(s, 0);
                fs38_err e = install(r, rl, 4096);
                if (e)
                    fail_msg("retry failed: %d %s", e, r->upd.diag.msg);
                assert_int_equal(boot(r), 1);
            }
            assert_int_equal(fs38_boot_confirm(&r->boot, &s), FS38_OK);
        }
        assert_int_equal(boot(r), 1);
        assert_int_equal(counter(r), 2);
    } else {
        for (int i = 0; i < 3; i++)
            boot(r);
        assert_int_equal(boot(r), 0);
        assert_int_equal(counter(r), 0);
    }
}

static void sweep(path p, mode md, size_t len, uint64_t *points)
{
    release rl;
    make_release(&rl, 2, len, 11, md, signer, ts_vendor, ts_class, NULL);
    rig r;
    rig_new(&r);
    assert_int_equal(boot(&r), 0);
    uint64_t start = fs38_posix_ops(&r.f.posix);
    assert_int_equal(script(&r, &rl, p), FS38_OK);
    uint64_t total = fs38_posix_ops(&r.f.posix) - start;
    ts_flash_free(&r.f);
    for (uint64_t k = 1; k <= total; k++) {
        rig_new(&r);
        assert_int_equal(boot(&r), 0);
        fs38_posix_cut_at(&r.f.posix, k);
        fs38_err e = script(&r, &rl, p);
        if (e != FS38_ERR_POWER)
            fail_msg("cut at %llu: expected a power loss, got %d", (unsigned long long)k, e);
        rig_reboot(&r);
        check_invariants(&r, &rl, p);
        complete_after_cut(&r, &rl, p);
        ts_flash_free(&r.f);
    }
    *points = total;
    free_release(&rl);
}

static void test_power_loss_sweep(void **state)
{
    (void)state;
    uint64_t a, b, c, d;
    /* sizes such that the download persists its progress several times (every 64 KiB) */
    sweep_chunk = 1000; /* one program per 1000-byte write: a cut point every 1000 bytes */
    sweep(CONFIRM_PATH, CTR_ECDH, 230000, &a);
    sweep_chunk = 4096;
    sweep(CONFIRM_PATH, GCM_KW, 150000, &b);
    sweep(REVERT_PATH, CTR_ECDH, 150000, &c);
    sweep(REVERT_PATH, PLAIN, 100001, &d);
    print_message("power-loss proof: %llu cut points swept (install+trial+confirm: %llu A128CTR/ECDH-ES, %llu "
                  "A128GCM/A128KW; install+trial+revert: %llu A128CTR/ECDH-ES, %llu plain); after every cut a "
                  "verified image booted, the counter never exceeded the confirmed sequence, and the update "
                  "completed on retry\n",
                  (unsigned long long)(a + b + c + d), (unsigned long long)a, (unsigned long long)b,
                  (unsigned long long)c, (unsigned long long)d);
}

/* Slot binding: an update linked for the running slot (A) is refused before anything is
 * written; one linked for the staging slot (B) installs and boots; with require_slot an
 * unbound envelope is refused. */
static void test_slot_binding(void **state)
{
    (void)state;
    release wrong, right, unbound;
    release_slot = 0;
    make_release(&wrong, 2, 20000, 5, CTR_ECDH, signer, ts_vendor, ts_class, NULL);
    release_slot = 1;
    make_release(&right, 2, 20000, 5, CTR_ECDH, signer, ts_vendor, ts_class, NULL);
    release_slot = 0;
    release factory_a; /* the factory image, bound to slot A */
    make_release(&factory_a, 1, 10000, 1, PLAIN, signer, ts_vendor, ts_class, NULL);
    release_slot = -1;
    make_release(&unbound, 2, 20000, 5, PLAIN, signer, ts_vendor, ts_class, NULL);

    expect_rejected(&wrong, FS38_ERR_WRONG_SLOT, "image linked for slot A, this is slot B");

    rig r;
    rig_new(&r);
    assert_int_equal(boot(&r), 0);
    assert_int_equal(install(&r, &right, 4096), FS38_OK);
    rig_reboot(&r);
    assert_int_equal(boot(&r), 1);
    ts_flash_free(&r.f);

    rig_new(&r);
    r.cfg.require_slot = true;
    assert_int_equal(fs38_boot_init(&r.boot, &r.cfg), FS38_OK);
    assert_int_equal(fs38_slot_program(&r.cfg, 0, factory_a.env.b, factory_a.env.len, factory_a.image,
                                       factory_a.image_len), FS38_OK);
    assert_int_equal(boot(&r), 0); /* r.cfg is the update's boot configuration too */
    fs38_err e = install(&r, &unbound, 4096);
    assert_int_equal(e, FS38_ERR_WRONG_SLOT);
    assert_string_equal(r.upd.diag.msg, "the envelope binds the image to no slot (component-slot)");
    ts_flash_free(&r.f);
    free_release(&wrong);
    free_release(&right);
    free_release(&unbound);
    free_release(&factory_a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes_and_chunk_sizes),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_gcm_tag_failure),
        cmocka_unit_test(test_rollback_and_trial_rules),
        cmocka_unit_test(test_resume_after_cut),
        cmocka_unit_test(test_power_loss_sweep),
        cmocka_unit_test(test_slot_binding),
        cmocka_unit_test(test_revert_cut_between_writes),
    };
    int rc = setup(NULL);
    rc |= group_setup(NULL);
    if (rc)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    group_teardown(NULL);
    teardown(NULL);
    return rc;
}
