/* SPDX-License-Identifier: Apache-2.0 */
/* test_boot.c — secure boot: A/B selection, fallback, refusal, anti-rollback, exhaustive
 * tamper of envelope and image, power cuts while a slot is programmed. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "support.h"
#include "fs38/boot.h"
#include "fs38/util.h"
#include "fs38/keys.h"
#include "suit_build.h"

#define FLASH_SIZE (512u * 1024u)
#define SLOT_SIZE (128u * 1024u)
#define IMG_SIZE 4096u

static psa_key_id_t signer, other_signer;
static uint8_t signer_pt[65];
static fs38_keyring trust;

typedef struct {
    ts_flash f;
    fs38_boot_config cfg;
    fs38_boot_ctx ctx;
} rig;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
    signer = ts_gen_signer(signer_pt);
    uint8_t pt2[65];
    other_signer = ts_gen_signer(pt2);
    fs38_keyring_init(&trust);
    assert_int_equal(fs38_keyring_add_p256(&trust, signer_pt, sizeof signer_pt), FS38_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fs38_keyring_free(&trust);
    return 0;
}

static void rig_new(rig *r)
{
    memset(r, 0, sizeof *r);
    ts_flash_new(&r->f, FLASH_SIZE);
    ts_boot_config(&r->cfg, &r->f.port, &trust, SLOT_SIZE);
    assert_int_equal(fs38_boot_init(&r->ctx, &r->cfg), FS38_OK);
}

static void rig_reboot(rig *r)
{
    ts_flash_reboot(&r->f);
    assert_int_equal(fs38_boot_init(&r->ctx, &r->cfg), FS38_OK);
}

static void make_image(uint8_t *img, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        img[i] = (uint8_t)(i * 31u + seed);
}

/* signed envelope for img; vendor/class may differ from the device's */
static size_t make_env_for(psa_key_id_t key, uint64_t seq, const uint8_t *img, size_t n, const uint8_t *vendor,
                           const uint8_t *class_id, uint8_t *env, size_t cap)
{
    uint8_t h[32], man[512];
    assert_int_equal(fs38_sha256(img, n, h), FS38_OK);
    size_t ml = ts_boot_manifest(seq, vendor, class_id, h, n, man, sizeof man);
    return ts_envelope(key, FS38_COSE_ALG_ESP256, man, ml, env, cap);
}

static void flash_slot(rig *r, unsigned slot, uint64_t seq, uint8_t seed)
{
    uint8_t img[IMG_SIZE], env[1024];
    make_image(img, sizeof img, seed);
    size_t el = make_env_for(signer, seq, img, sizeof img, ts_vendor, ts_class, env, sizeof env);
    assert_int_equal(fs38_slot_program(&r->cfg, slot, env, el, img, sizeof img), FS38_OK);
}

/* Change one byte of the flash file directly (the attacker with a flash programmer). */
static void poke(rig *r, uint32_t off, uint8_t xor_mask)
{
    int fd = open(r->f.path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= xor_mask;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

static void test_empty_flash_refuses(void **state)
{
    (void)state;
    rig r;
    rig_new(&r);
    unsigned s;
    assert_int_equal(fs38_boot_select(&r.ctx, &s), FS38_ERR_NOT_BOOTABLE);
    assert_int_equal(r.ctx.chosen, -1);
    assert_string_equal(r.ctx.slot[0].reason, "no image");
    assert_string_equal(r.ctx.slot[1].reason, "no image");
    ts_flash_free(&r.f);
}

static void test_ab_selection_and_fallback(void **state)
{
    (void)state;
    rig r;
    rig_new(&r);
    unsigned s;
    flash_slot(&r, 0, 1, 1);
    assert_int_equal(fs38_boot_select(&r.ctx, &s), FS38_OK);
    assert_int_equal(s, 0);
    assert_int_equal(r.ctx.slot[0].sequence, 1);
    flash_slot(&r, 1, 2, 2);
    assert_int_equal(fs38_boot_select(&r.ctx, &s), FS38_OK);
    assert_int_equal(s, 1);
    assert_int_equal(r.ctx.slot[1].sequence, 2);
    /* newer slot corrupt: fall back to A, say why B was refused */
    poke(&r, SLOT_SIZE + FS38_SLOT_DEFAULT_IMAGE_OFFSET + 100, 0x20);
    assert_int_equal(fs38_boot_select(&r.ctx, &s), FS38_OK);
    assert_int_equal(s, 0);
    assert_int_equal(r.ctx.slot[1].verdict, FS38_ERR_IMAGE_DIGEST);
    assert_non_null(strstr(r.ctx.slot[1].reason, "image digest mismatch"));
    /* both corrupt: refuse */
    poke(&r, FS38_SLOT_DEFAULT_IMAGE_OFFSET + 7, 0x01);
    assert_int_equal(fs38_boot_select(&r.ctx, &s), FS38_ERR_NOT_BOOTABLE);
    assert_int_equal(r.ctx.slot[0].verdict, FS38_ERR_IMAGE_DIGEST);
    /* equal sequence numbers: slot A wins */
    flash_slot(&r, 0, 5, 3);
    flash_slot(&r, 1, 5, 4);
    assert_int_equal(fs38_boot_select(&r.ctx, &s), FS38_OK);
    assert_int_equal(s, 0);
    ts_flash_free(&r.f);
}

static void test_boot_never_advances_counter_commit_does(void **state)
{
    (void)state;
    rig r;
    rig_new(&r);
    unsigned s;
    uint64_t c;
    flash_slot(&r, 0, 3, 1);
    flash_slot(&r, 1, 7, 2);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fs38_boot_select(&r.ctx, &s), FS38_OK);
        assert_int_equal(s, 1);
    }
    assert_int_equal(r.f.port.counter_read(r.f.port.ctx, FS38_COUNTER_ROLLBACK, &c), FS38_OK);
    assert_int_equal(c, 0);
    /* B corrupt: A (older) still boots, because nothing was committed */
    poke(&r, SLOT_SIZE + FS38_SLOT_DEFAULT_IMAGE_OFFSET, 0xff);
    assert_int_equal(fs38_boot_select(&r.ctx, &s), FS38_OK);
    assert_int_equal(s, 0);
    poke(&r, SLOT_SIZE + FS38_SLOT_DEFAULT_IMAGE_OFFSET, 0xff);
    /* commit B: the counter moves to 7 and A (3) is refused from now on, across reboots */
    assert_int_equal(fs38_boot_commit(&r.ctx, 1), FS38_OK);
    rig_reboot(&r);
    assert_int_equal(r.f.port.counter_read(r.f.port.ctx, FS38_COUNTER_ROLLBACK, &c), FS38_OK);
    assert_int_equal(c, 7);
    assert_int_equal(fs38_boot_select(&r.ctx, &s), FS38_OK);
    assert_int_equal(s, 1);
    assert_int_equal(r.ctx.slot[0].verdict, FS38_ERR_ROLLBACK);
    assert_string_equal(r.ctx.slot[0].reason, "sequence 3 < installed 7");
    /* and when B breaks, nothing boots: the rollback is not an escape hatch */
    poke(&r, SLOT_SIZE + FS38_SLOT_DEFAULT_IMAGE_OFFSET + 1, 0x01);
    assert_int_equal(fs38_boot_select(&r.ctx, &s), FS38_ERR_NOT_BOOTABLE);
    /* commit refuses a slot that does not verify, and never lowers the counter */
    assert_int_equal(fs38_boot_commit(&r.ctx, 1), FS38_ERR_IMAGE_DIGEST);
    assert_int_equal(fs38_boot_commit(&r.ctx, 0), FS38_ERR_ROLLBACK);
    assert_int_equal(r.f.port.counter_read(r.f.port.ctx, FS38_COUNTER_ROLLBACK, &c), FS38_OK);
    assert_int_equal(c, 7);
    ts_flash_free(&r.f);
}

static void test_identity_and_signer_refusals(void **state)
{
    (void)state;
    rig r;
    rig_new(&r);
    uint8_t img[IMG_SIZE], env[1024];
    static const uint8_t other[16] = { 0xde, 0xad };
    make_image(img, sizeof img, 9);
    size_t el = make_env_for(signer, 1, img, sizeof img, other, ts_class, env, sizeof env);
    assert_int_equal(fs38_slot_program(&r.cfg, 0, env, el, img, sizeof img), FS38_OK);
    assert_int_equal(fs38_boot_verify_slot(&r.ctx, 0), FS38_ERR_VENDOR_ID);
    assert_string_equal(r.ctx.slot[0].reason, "vendor id mismatch");
    el = make_env_for(signer, 1, img, sizeof img, ts_vendor, other, env, sizeof env);
    assert_int_equal(fs38_slot_program(&r.cfg, 0, env, el, img, sizeof img), FS38_OK);
    assert_int_equal(fs38_boot_verify_slot(&r.ctx, 0), FS38_ERR_CLASS_ID);
    el = make_env_for(other_signer, 1, img, sizeof img, ts_vendor, ts_class, env, sizeof env);
    assert_int_equal(fs38_slot_program(&r.cfg, 0, env, el, img, sizeof img), FS38_OK);
    assert_int_equal(fs38_boot_verify_slot(&r.ctx, 0), FS38_ERR_BAD_SIGNATURE);
    /* image shorter in the slot header than the manifest says */
    el = make_env_for(signer, 1, img, sizeof img, ts_vendor, ts_class, env, sizeof env);
    assert_int_equal(fs38_slot_program(&r.cfg, 0, env, el, img, sizeof img - 1), FS38_OK);
    assert_int_equal(fs38_boot_verify_slot(&r.ctx, 0), FS38_ERR_IMAGE_SIZE);
    /* an unsigned vector in a slot */
    size_t vl;
    uint8_t *v = ts_read_file("suit/manifest/example0-secure-boot.unsigned.cbor", &vl);
    assert_int_equal(fs38_slot_program(&r.cfg, 0, v, vl, img, sizeof img), FS38_OK);
    assert_int_equal(fs38_boot_verify_slot(&r.ctx, 0), FS38_ERR_NO_AUTH);
    free(v);
    /* an authentic manifest without invoke (example1, download only) is not bootable */
    fs38_keyring ex;
    fs38_keyring_init(&ex);
    ts_keyring_hex(&ex, ts_example_pub);
    r.cfg.trust = &ex;
    assert_int_equal(fs38_boot_init(&r.ctx, &r.cfg), FS38_OK);
    v = ts_read_file("suit/manifest/example1-download-install.signed.cbor", &vl);
    assert_int_equal(fs38_slot_program(&r.cfg, 0, v, vl, img, sizeof img), FS38_OK);
    fs38_err e = fs38_boot_verify_slot(&r.ctx, 0);
    assert_true(e == FS38_ERR_IMAGE_SIZE || e == FS38_ERR_IMAGE_DIGEST || e == FS38_ERR_POLICY);
    free(v);
    fs38_keyring_free(&ex);
    ts_flash_free(&r.f);
}

/* Every single-byte change of the envelope and of the 4 KiB image is refused. */
static void test_exhaustive_tamper(void **state)
{
    (void)state;
    rig r;
    rig_new(&r);
    uint8_t img[IMG_SIZE], env[1024];
    make_image(img, sizeof img, 42);
    size_t el = make_env_for(signer, 1, img, sizeof img, ts_vendor, ts_class, env, sizeof env);
    assert_int_equal(fs38_slot_program(&r.cfg, 0, env, el, img, sizeof img), FS38_OK);
    assert_int_equal(fs38_boot_verify_slot(&r.ctx, 0), FS38_OK);
    static const uint8_t masks[] = { 0x01, 0x80, 0xff };
    size_t refused = 0;
    for (size_t m = 0; m < sizeof masks; m++) {
        for (size_t i = 0; i < el; i++) {
            poke(&r, FS38_SLOT_HEADER_SIZE + (uint32_t)i, masks[m]);
            fs38_err e = fs38_boot_verify_slot(&r.ctx, 0);
            if (e == FS38_OK)
                fail_msg("envelope byte %zu ^ 0x%02x accepted", i, masks[m]);
            refused++;
            poke(&r, FS38_SLOT_HEADER_SIZE + (uint32_t)i, masks[m]);
        }
    }
    for (size_t i = 0; i < sizeof img; i++) {
        uint8_t mask = masks[i % sizeof masks];
        poke(&r, FS38_SLOT_DEFAULT_IMAGE_OFFSET + (uint32_t)i, mask);
        fs38_err e = fs38_boot_verify_slot(&r.ctx, 0);
        if (e != FS38_ERR_IMAGE_DIGEST)
            fail_msg("image byte %zu ^ 0x%02x: %d (%s)", i, mask, e, r.ctx.slot[0].reason);
        refused++;
        poke(&r, FS38_SLOT_DEFAULT_IMAGE_OFFSET + (uint32_t)i, mask);
    }
    assert_int_equal(fs38_boot_verify_slot(&r.ctx, 0), FS38_OK);
    print_message("tamper: %zu single-byte changes refused (envelope %zu bytes x 3, image %u bytes)\n", refused, el,
                  IMG_SIZE);
    ts_flash_free(&r.f);
}

/* Every truncation of the envelope as stored in the slot is refused cleanly. */
static void test_truncated_envelopes_in_slot(void **state)
{
    (void)state;
    rig r;
    rig_new(&r);
    uint8_t img[IMG_SIZE], env[1024];
    make_image(img, sizeof img, 5);
    size_t el = make_env_for(signer, 1, img, sizeof img, ts_vendor, ts_class, env, sizeof env);
    for (size_t n = 1; n < el; n++) {
        assert_int_equal(fs38_slot_program(&r.cfg, 1, env, n, img, sizeof img), FS38_OK);
        fs38_err e = fs38_boot_verify_slot(&r.ctx, 1);
        assert_true(e < 0);
        assert_true(r.ctx.slot[1].reason[0] != '\0');
    }
    ts_flash_free(&r.f);
}

/* Power is cut at every program/erase operation while slot B is being programmed:
 * A keeps booting; B boots only if it was completely written. */
static void test_power_cut_while_programming(void **state)
{
    (void)state;
    rig r;
    rig_new(&r);
    flash_slot(&r, 0, 1, 1);
    uint8_t img[IMG_SIZE], env[1024];
    make_image(img, sizeof img, 2);
    size_t el = make_env_for(signer, 2, img, sizeof img, ts_vendor, ts_class, env, sizeof env);
    uint64_t before = fs38_posix_ops(&r.f.posix);
    assert_int_equal(fs38_slot_program(&r.cfg, 1, env, el, img, sizeof img), FS38_OK);
    uint64_t ops = fs38_posix_ops(&r.f.posix) - before;
    assert_true(ops >= 3);
    for (uint64_t k = 1; k <= ops; k++) {
        /* start from B erased */
        assert_int_equal(fs38_flash_erase(&r.f.port, SLOT_SIZE, SLOT_SIZE), FS38_OK);
        fs38_posix_cut_at(&r.f.posix, k);
        assert_int_equal(fs38_slot_program(&r.cfg, 1, env, el, img, sizeof img), FS38_ERR_POWER);
        rig_reboot(&r);
        unsigned s;
        assert_int_equal(fs38_boot_select(&r.ctx, &s), FS38_OK);
        assert_int_equal(s, 0); /* B is never complete when cut */
        assert_int_equal(r.ctx.slot[0].sequence, 1);
    }
    print_message("power cuts: %llu operations of a slot programming swept\n", (unsigned long long)ops);
    ts_flash_free(&r.f);
}

static void test_config_checks(void **state)
{
    (void)state;
    rig r;
    rig_new(&r);
    fs38_boot_config c = r.cfg;
    c.slot[1].offset = SLOT_SIZE / 2; /* overlap */
    assert_int_equal(fs38_boot_init(&r.ctx, &c), FS38_ERR_ARG);
    c = r.cfg;
    c.slot[1].offset = FLASH_SIZE - 4096; /* past the end */
    assert_int_equal(fs38_boot_init(&r.ctx, &c), FS38_ERR_ARG);
    c = r.cfg;
    c.image_offset = 1000; /* unaligned and overlapping the envelope area */
    assert_int_equal(fs38_boot_init(&r.ctx, &c), FS38_ERR_ARG);
    c = r.cfg;
    c.trust = NULL;
    assert_int_equal(fs38_boot_init(&r.ctx, &c), FS38_ERR_ARG);
    /* a port without the anti-rollback counter is refused, not called through NULL */
    fs38_port no_counter = r.f.port;
    no_counter.counter_advance = NULL;
    c = r.cfg;
    c.port = &no_counter;
    assert_int_equal(fs38_boot_init(&r.ctx, &c), FS38_ERR_ARG);
    no_counter = r.f.port;
    no_counter.counter_read = NULL;
    assert_int_equal(fs38_boot_init(&r.ctx, &c), FS38_ERR_ARG);
    uint8_t big[FS38_ENVELOPE_MAX + 1] = { 0 };
    assert_int_equal(fs38_slot_program(&r.cfg, 0, big, sizeof big, NULL, 0), FS38_ERR_ARG);
    ts_flash_free(&r.f);
}

/* An envelope built by the host's builder (fs38 sign), bound to slot `bind` (0 = A, 1 = B) or
 * to none (bind < 0), for the image of seed `seed`, programmed into slot `slot`. */
static void flash_bound(rig *r, unsigned slot, int bind, uint64_t seq, uint8_t seed)
{
    static uint8_t img[IMG_SIZE];
    static suit_buf env;
    uint8_t kid[FS38_KID_LEN];
    assert_int_equal(fs38_key_id(signer_pt, sizeof signer_pt, kid), FS38_OK);
    make_image(img, sizeof img, seed);
    suit_build sb;
    suit_build_firmware(&sb, seq, ts_vendor, ts_class, img, sizeof img, FS38_COSE_ALG_ESP256, signer, kid);
    if (bind >= 0) {
        sb.bind_slot = true;
        sb.slot = (uint64_t)bind;
    }
    assert_int_equal(suit_build_envelope(&sb, &env), FS38_OK);
    assert_int_equal(fs38_slot_program(&r->cfg, slot, env.b, env.len, img, sizeof img), FS38_OK);
}

/* Slot binding (component-slot): an image linked for slot B never boots from slot A and the
 * other way round; with require_slot an unbound envelope is refused too; without it (POSIX:
 * position-independent images) an unbound envelope boots from either slot as before. */
static void test_slot_binding(void **state)
{
    (void)state;
    rig r;
    rig_new(&r);
    /* bound to B, placed in A; bound to A, placed in B: both refused, nothing boots */
    flash_bound(&r, 0, 1, 2, 7);
    flash_bound(&r, 1, 0, 3, 8);
    assert_int_equal(fs38_boot_verify_slot(&r.ctx, 0), FS38_ERR_WRONG_SLOT);
    assert_string_equal(r.ctx.slot[0].reason, "image linked for slot B, this is slot A");
    assert_int_equal(fs38_boot_verify_slot(&r.ctx, 1), FS38_ERR_WRONG_SLOT);
    assert_string_equal(r.ctx.slot[1].reason, "image linked for slot A, this is slot B");
    unsigned s = 9;
    assert_int_equal(fs38_boot_select(&r.ctx, &s), FS38_ERR_NOT_BOOTABLE);

    /* each in its own slot: the higher sequence boots, the other is the fallback */
    flash_bound(&r, 0, 0, 2, 7);
    flash_bound(&r, 1, 1, 3, 8);
    assert_int_equal(fs38_boot_select(&r.ctx, &s), FS38_OK);
    assert_int_equal(s, 1);
    assert_int_equal(r.ctx.slot[0].verdict, FS38_OK);

    /* unbound: accepted in either slot without require_slot ... */
    flash_bound(&r, 1, -1, 4, 9);
    assert_int_equal(fs38_boot_verify_slot(&r.ctx, 1), FS38_OK);
    /* ... refused with it; a bound one still boots */
    r.cfg.require_slot = true;
    assert_int_equal(fs38_boot_init(&r.ctx, &r.cfg), FS38_OK);
    assert_int_equal(fs38_boot_verify_slot(&r.ctx, 1), FS38_ERR_WRONG_SLOT);
    assert_string_equal(r.ctx.slot[1].reason, "the envelope binds the image to no slot (component-slot)");
    assert_int_equal(fs38_boot_select(&r.ctx, &s), FS38_OK);
    assert_int_equal(s, 0);
    ts_flash_free(&r.f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_flash_refuses),
        cmocka_unit_test(test_ab_selection_and_fallback),
        cmocka_unit_test(test_boot_never_advances_counter_commit_does),
        cmocka_unit_test(test_identity_and_signer_refusals),
        cmocka_unit_test(test_exhaustive_tamper),
        cmocka_unit_test(test_truncated_envelopes_in_slot),
        cmocka_unit_test(test_power_cut_while_programming),
        cmocka_unit_test(test_config_checks),
        cmocka_unit_test(test_slot_binding),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
