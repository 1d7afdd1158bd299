/* SPDX-License-Identifier: Apache-2.0 */
/* test_suit_vectors.c — every SUIT vector in tests/vectors/suit/ reaches the verdict its
 * README gives, plus envelopes built here for what the vectors don't cover. */
#include <stdlib.h>
#include <string.h>
#include "support.h"
#include "fs38/cbor.h"
#include "fs38/suit.h"

static fs38_keyring example_keys; /* only suit-example-p256-public */

static int setup(void **state)
{
    (void)state;
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
    fs38_keyring_init(&example_keys);
    ts_keyring_hex(&example_keys, ts_example_pub);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fs38_keyring_free(&example_keys);
    return 0;
}

typedef struct {
    uint8_t *buf;
    size_t len;
    fs38_suit_manifest m;
    fs38_diag d;
} loaded;

static FS38_NODISCARD fs38_err load_auth(loaded *l, const char *path, const fs38_keyring *kr)
{
    l->buf = ts_read_file(path, &l->len);
    assert_non_null(l->buf);
    return fs38_suit_authenticate(&l->m, l->buf, l->len, kr, &l->d);
}

static void unload(loaded *l)
{
    free(l->buf);
    l->buf = NULL;
}

/* ---- harness component: stub contents by digest, records what directives asked ---- */
static const char pat_a_hex[] = "00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210";
static const char pat_b_hex[] = "0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff";

typedef struct {
    uint8_t digest[FS38_SUIT_MAX_COMPONENTS][32]; /* what each component "holds" */
    uint64_t size[FS38_SUIT_MAX_COMPONENTS];
    uint64_t slot;                                /* writable slot of component 0 */
    char fetched_uri[FS38_SUIT_MAX_COMPONENTS][128];
    int fetches, copies, writes, invokes;
    unsigned invoked_component;
    size_t written_len;
    size_t enc_info_len;
} harness;

static FS38_NODISCARD fs38_err h_digest(void *user, const fs38_suit_cmd *c, uint8_t out[32])
{
    harness *h = user;
    if (FS38_SUIT_HAS(c->params, FS38_SUIT_PARAM_IMAGE_SIZE) && h->size[c->component] != c->params->image_size)
        return FS38_ERR_IMAGE_SIZE;
    memcpy(out, h->digest[c->component], 32);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err h_slot(void *user, const fs38_suit_cmd *c)
{
    harness *h = user;
    return c->params->component_slot == h->slot ? FS38_OK : FS38_ERR_CONDITION;
}

/* "download": the component now holds exactly what the manifest expects */
static FS38_NODISCARD fs38_err h_fetch(void *user, const fs38_suit_cmd *c)
{
    harness *h = user;
    size_t n = c->params->uri.len < 127 ? c->params->uri.len : 127;
    memcpy(h->fetched_uri[c->component], c->params->uri.p, n);
    h->fetched_uri[c->component][n] = 0;
    if (FS38_SUIT_HAS(c->params, FS38_SUIT_PARAM_IMAGE_DIGEST))
        memcpy(h->digest[c->component], c->params->digest.p, 32);
    h->size[c->component] = c->params->image_size;
    h->fetches++;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err h_copy(void *user, const fs38_suit_cmd *c)
{
    harness *h = user;
    unsigned src = (unsigned)c->params->source_component;
    memcpy(h->digest[c->component], h->digest[src], 32);
    h->size[c->component] = h->size[src];
    h->copies++;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err h_write(void *user, const fs38_suit_cmd *c)
{
    harness *h = user;
    h->written_len = c->params->content.len;
    h->enc_info_len = c->params->encryption_info.len;
    h->writes++;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err h_invoke(void *user, const fs38_suit_cmd *c)
{
    harness *h = user;
    h->invoked_component = c->component;
    h->invokes++;
    return FS38_OK;
}

static const fs38_suit_ops h_ops = { h_digest, h_slot, h_fetch, h_copy, h_write, h_invoke };

static void runner_init(fs38_suit_runner *r, harness *h)
{
    memset(r, 0, sizeof *r);
    memset(h, 0, sizeof *h);
    r->vendor_id = ts_vendor;
    r->class_id = ts_class;
    r->ops = &h_ops;
    r->user = h;
}

static void hold(harness *h, unsigned comp, const char *hex, uint64_t size)
{
    assert_int_equal(ts_unhex(hex, h->digest[comp], 32), 32);
    h->size[comp] = size;
}

/* ---- positive vectors ---- */

typedef struct {
    const char *name;
    uint64_t seq;
    const char *digest_prefix; /* manifest digest, first 4 bytes */
} vec;

static const vec man_vecs[] = {
    { "example0-secure-boot", 0, "6658ea56" },    { "example1-download-install", 1, "1f2e7acc" },
    { "example3-ab-images", 3, "f6d44a62" },      { "example4-load-external", 4, "5b5f6586" },
    { "example5-two-images", 5, "15ce60f7" },
};

static void check_digest_prefix(const fs38_suit_manifest *m, const char *hex)
{
    uint8_t p[4];
    assert_int_equal(ts_unhex(hex, p, 4), 4);
    assert_memory_equal(m->manifest_digest, p, 4);
}

static void test_signed_es256_verify(void **state)
{
    (void)state;
    char path[256];
    for (size_t i = 0; i < sizeof man_vecs / sizeof man_vecs[0]; i++) {
        loaded l;
        snprintf(path, sizeof path, "suit/manifest/%s.signed.cbor", man_vecs[i].name);
        assert_int_equal(load_auth(&l, path, &example_keys), FS38_OK);
        assert_int_equal(l.m.auth_alg, -7);
        assert_int_equal(l.m.sequence, man_vecs[i].seq);
        check_digest_prefix(&l.m, man_vecs[i].digest_prefix);
        unload(&l);
    }
    loaded l;
    assert_int_equal(load_auth(&l, "suit/manifest/example2-severable.signed-full.cbor", &example_keys), FS38_OK);
    assert_int_equal(l.m.sequence, 2);
    check_digest_prefix(&l.m, "6a5197ed");
    unload(&l);
}

static void test_signed_esp256_verify(void **state)
{
    (void)state;
    static const char *files[] = {
        "example0-secure-boot.esp256",       "example1-download-install.esp256", "example2-severable.esp256-full",
        "example2-severable.esp256-severed", "example3-ab-images.esp256",        "example4-load-external.esp256",
        "example5-two-images.esp256",
    };
    char path[256];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        loaded l;
        snprintf(path, sizeof path, "suit/manifest-esp256/%s.cbor", files[i]);
        fs38_err e = load_auth(&l, path, &example_keys);
        if (e)
            print_error("%s: %s\n", files[i], l.d.msg);
        assert_int_equal(e, FS38_OK);
        assert_int_equal(l.m.auth_alg, -9);
        unload(&l);
    }
}

static void test_unsigned_rejected(void **state)
{
    (void)state;
    static const char *files[] = {
        "example0-secure-boot.unsigned",      "example1-download-install.unsigned", "example2-severable.unsigned-severed",
        "example3-ab-images.unsigned",        "example4-load-external.unsigned",    "example5-two-images.unsigned",
    };
    char path[256];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        loaded l;
        snprintf(path, sizeof path, "suit/manifest/%s.cbor", files[i]);
        assert_int_equal(load_auth(&l, path, &example_keys), FS38_ERR_NO_AUTH);
        assert_false(l.m.authenticated);
        assert_non_null(strstr(l.d.msg, "COSE"));
        unload(&l);
    }
}

static void test_negative_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        fs38_err want;
        const char *msg;
    } cases[] = {
        { "example0-bad-signature", FS38_ERR_BAD_SIGNATURE, "signature" },
        { "example0-manifest-modified", FS38_ERR_MANIFEST_DIGEST, "manifest digest mismatch" },
        { "example0-digest-recomputed-signature-stale", FS38_ERR_BAD_SIGNATURE, "signature" },
        { "example0-signed-by-untrusted-key", FS38_ERR_BAD_SIGNATURE, "signature" },
        { "example2-severed-text-modified", FS38_ERR_SEVERED_DIGEST, "severed text digest mismatch" },
        { "example2-severed-install-modified", FS38_ERR_SEVERED_DIGEST, "severed install digest mismatch" },
    };
    char path[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        loaded l;
        snprintf(path, sizeof path, "suit/negative/%s.cbor", cases[i].file);
        fs38_err e = load_auth(&l, path, &example_keys);
        if (e != cases[i].want)
            print_error("%s: got %d (%s)\n", cases[i].file, e, l.d.msg);
        assert_int_equal(e, cases[i].want);
        assert_non_null(strstr(l.d.msg, cases[i].msg));
        assert_false(l.m.authenticated);
        unload(&l);
    }
}

static void test_untrusted_key_trusted_then_ok(void **state)
{
    (void)state;
    /* the same file verifies once its signer is trusted: the rejection was about trust */
    fs38_keyring kr;
    fs38_keyring_init(&kr);
    ts_keyring_hex(&kr, "040e908aa8f066db1f084e0c3652c63952bd99f2a5bdb22f9e01367aad03aba68b"
                        "77da1bd8ac4f0cb490ba210648bf79ab164d49ad3551d71d314b2749ee42d29a");
    loaded l;
    assert_int_equal(load_auth(&l, "suit/negative/example0-signed-by-untrusted-key.cbor", &kr), FS38_OK);
    unload(&l);
    fs38_keyring_free(&kr);
}

static void test_severable(void **state)
{
    (void)state;
    fs38_suit_runner r;
    harness h;
    static const char *full[] = { "suit/manifest/example2-severable.signed-full.cbor",
                                  "suit/manifest-esp256/example2-severable.esp256-full.cbor" };
    static const char *severed[] = { "suit/manifest/example2-severable.signed-severed.cbor",
                                     "suit/manifest-esp256/example2-severable.esp256-severed.cbor" };
    for (int i = 0; i < 2; i++) {
        loaded l;
        assert_int_equal(load_auth(&l, full[i], &example_keys), FS38_OK);
        assert_int_equal(l.m.install.state, FS38_MEMBER_PRESENT);
        assert_true(l.m.install.severable);
        assert_int_equal(l.m.text.state, FS38_MEMBER_PRESENT);
        runner_init(&r, &h);
        assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_INSTALL, &l.d), FS38_OK);
        assert_string_equal(h.fetched_uri[0], "http://example.com/very/long/path/to/file/file.bin");
        unload(&l);

        assert_int_equal(load_auth(&l, severed[i], &example_keys), FS38_OK);
        assert_int_equal(l.m.install.state, FS38_MEMBER_SEVERED);
        assert_int_equal(l.m.text.state, FS38_MEMBER_SEVERED);
        /* secure boot still fully executable */
        runner_init(&r, &h);
        hold(&h, 0, pat_a_hex, 34768);
        assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_VALIDATE, &l.d), FS38_OK);
        assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_INVOKE, &l.d), FS38_OK);
        assert_int_equal(h.invokes, 1);
        /* install is unavailable, never fabricated */
        assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_INSTALL, &l.d), FS38_ERR_SEVERED_MISSING);
        assert_int_equal(h.fetches, 0);
        unload(&l);
    }
}

static void test_rollback_order(void **state)
{
    (void)state;
    static const char *order[] = { "example5-two-images", "example0-secure-boot", "example1-download-install",
                                   "example2-severable", "example3-ab-images", "example4-load-external",
                                   "example5-two-images" };
    uint64_t installed = 0;
    char path[256];
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        loaded l;
        snprintf(path, sizeof path, "suit/manifest/%s.%s.cbor", order[i],
                 strcmp(order[i], "example2-severable") ? "signed" : "signed-full");
        assert_int_equal(load_auth(&l, path, &example_keys), FS38_OK);
        fs38_err e = fs38_suit_check_sequence(&l.m, installed, &l.d);
        if (i == 0 || i == 6) {
            assert_int_equal(e, FS38_OK); /* seq 5 first; re-offering 5 is allowed */
            installed = l.m.sequence;
        } else {
            assert_int_equal(e, FS38_ERR_ROLLBACK);
            char want[64];
            snprintf(want, sizeof want, "sequence %d < installed 5", (int)(i - 1));
            assert_string_equal(l.d.msg, want);
        }
        unload(&l);
    }
}

static void test_image_match_harness(void **state)
{
    (void)state;
    fs38_suit_runner r;
    harness h;
    loaded l;
    assert_int_equal(load_auth(&l, "suit/manifest/example0-secure-boot.signed.cbor", &example_keys), FS38_OK);

    runner_init(&r, &h);
    hold(&h, 0, pat_a_hex, 34768);
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_VALIDATE, &l.d), FS38_OK);
    assert_int_equal(r.checked[0] & 7u, 7u);

    runner_init(&r, &h);
    hold(&h, 0, pat_b_hex, 34768);
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_VALIDATE, &l.d), FS38_ERR_IMAGE_DIGEST);
    assert_non_null(strstr(l.d.msg, "image digest mismatch"));

    runner_init(&r, &h);
    hold(&h, 0, pat_a_hex, 100); /* shorter than the manifest's image-size */
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_VALIDATE, &l.d), FS38_ERR_IMAGE_SIZE);

    static const uint8_t other[16] = { 1 };
    runner_init(&r, &h);
    hold(&h, 0, pat_a_hex, 34768);
    r.vendor_id = other;
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_VALIDATE, &l.d), FS38_ERR_VENDOR_ID);
    assert_string_equal(l.d.msg, "vendor id mismatch");
    runner_init(&r, &h);
    hold(&h, 0, pat_a_hex, 34768);
    r.class_id = other;
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_VALIDATE, &l.d), FS38_ERR_CLASS_ID);
    assert_string_equal(l.d.msg, "class id mismatch");

    /* example1 has no invoke */
    unload(&l);
    assert_int_equal(load_auth(&l, "suit/manifest/example1-download-install.signed.cbor", &example_keys), FS38_OK);
    runner_init(&r, &h);
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_INVOKE, &l.d), FS38_ERR_NOT_FOUND);
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_INSTALL, &l.d), FS38_OK);
    assert_string_equal(h.fetched_uri[0], "http://example.com/file.bin");
    unload(&l);
}

static void test_ab_try_each(void **state)
{
    (void)state;
    fs38_suit_runner r;
    harness h;
    loaded l;
    assert_int_equal(load_auth(&l, "suit/manifest/example3-ab-images.signed.cbor", &example_keys), FS38_OK);
    for (uint64_t slot = 0; slot < 2; slot++) {
        runner_init(&r, &h);
        h.slot = slot;
        assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_INSTALL, &l.d), FS38_OK);
        assert_string_equal(h.fetched_uri[0], slot ? "http://example.com/file2.bin" : "http://example.com/file1.bin");
        assert_int_equal(h.size[0], slot ? 76834 : 34768);
        uint8_t want[32];
        ts_unhex(slot ? pat_b_hex : pat_a_hex, want, 32);
        assert_memory_equal(h.digest[0], want, 32);
    }
    /* a device in slot 2 matches neither alternative */
    runner_init(&r, &h);
    h.slot = 2;
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_INSTALL, &l.d), FS38_ERR_CONDITION);
    assert_int_equal(h.fetches, 0);
    unload(&l);
}

static void test_load_external(void **state)
{
    (void)state;
    fs38_suit_runner r;
    harness h;
    loaded l;
    assert_int_equal(load_auth(&l, "suit/manifest/example4-load-external.signed.cbor", &example_keys), FS38_OK);
    assert_int_equal(l.m.n_components, 3);
    runner_init(&r, &h);
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_PAYLOAD_FETCH, &l.d), FS38_OK);
    assert_string_equal(h.fetched_uri[1], "http://example.com/file.bin");
    assert_int_equal(h.size[1], 0); /* payload-fetch sets no size for the download area */
    h.size[1] = 34768;
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_INSTALL, &l.d), FS38_OK);
    assert_int_equal(h.copies, 1);
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_VALIDATE, &l.d), FS38_OK);
    /* load copies component 0 to 2 and expects another image: the harness copy keeps
     * component 0's size and digest, so image-match must fail */
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_LOAD, &l.d), FS38_ERR_IMAGE_SIZE);
    hold(&h, 0, pat_a_hex, 76834);
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_LOAD, &l.d), FS38_ERR_IMAGE_DIGEST);
    hold(&h, 0, pat_b_hex, 76834);
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_LOAD, &l.d), FS38_OK);
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_INVOKE, &l.d), FS38_OK);
    assert_int_equal(h.invoked_component, 2);
    unload(&l);
}

static void test_two_images(void **state)
{
    (void)state;
    fs38_suit_runner r;
    harness h;
    loaded l;
    assert_int_equal(load_auth(&l, "suit/manifest/example5-two-images.signed.cbor", &example_keys), FS38_OK);
    runner_init(&r, &h);
    hold(&h, 0, pat_a_hex, 34768);
    hold(&h, 1, pat_b_hex, 76834);
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_VALIDATE, &l.d), FS38_OK);
    assert_true(r.checked[0] & FS38_SUIT_CHECKED_IMAGE);
    assert_true(r.checked[1] & FS38_SUIT_CHECKED_IMAGE);
    hold(&h, 1, pat_a_hex, 76834);
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_VALIDATE, &l.d), FS38_ERR_IMAGE_DIGEST);
    assert_non_null(strstr(l.d.msg, "component 1"));
    unload(&l);
}

static void test_mac0_vectors(void **state)
{
    (void)state;
    fs38_keyring kr;
    fs38_keyring_init(&kr);
    uint8_t key[32];
    memset(key, 'a', sizeof key);
    assert_int_equal(fs38_keyring_add_hmac(&kr, key, sizeof key), FS38_OK);
    static const char *files[] = { "suit/encryption/fwenc-aeskw-write.suit.cbor",
                                   "suit/encryption/fwenc-aeskw-fetch-copy.suit.cbor",
                                   "suit/encryption/fwenc-aeskw-slot-fetch-copy.suit.cbor" };
    for (size_t i = 0; i < 3; i++) {
        loaded l;
        assert_int_equal(load_auth(&l, files[i], &kr), FS38_OK);
        assert_int_equal(l.m.auth_alg, 5);
        assert_true(l.m.signer_is_mac);
        /* the example signature key does not authenticate a MAC'd envelope */
        fs38_suit_manifest m2;
        fs38_diag d;
        assert_int_equal(fs38_suit_authenticate(&m2, l.buf, l.len, &example_keys, &d), FS38_ERR_BAD_MAC);
        unload(&l);
    }
    loaded l;
    assert_int_equal(load_auth(&l, files[0], &kr), FS38_OK);
    fs38_suit_runner r;
    harness h;
    runner_init(&r, &h);
    assert_int_equal(fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_INSTALL, &l.d), FS38_OK);
    assert_int_equal(h.writes, 1);
    assert_int_equal(h.written_len, 46);
    assert_true(h.enc_info_len > 0);
    unload(&l);
    /* a wrong HMAC key */
    fs38_keyring_free(&kr);
    fs38_keyring_init(&kr);
    key[0] = 'b';
    assert_int_equal(fs38_keyring_add_hmac(&kr, key, sizeof key), FS38_OK);
    assert_int_equal(load_auth(&l, files[0], &kr), FS38_ERR_BAD_MAC);
    unload(&l);
    fs38_keyring_free(&kr);
}

static void test_esdh_and_dependency(void **state)
{
    (void)state;
    loaded l;
    assert_int_equal(load_auth(&l, "suit/encryption/fwenc-esdh-write.suit.cbor", &example_keys), FS38_OK);
    assert_int_equal(l.m.auth_alg, -9);
    unload(&l);
    /* outer manifest is signed by the dependent signer: rejected with only the example key */
    assert_int_equal(load_auth(&l, "suit/encryption/fwenc-esdh-dependency.suit.cbor", &example_keys),
                     FS38_ERR_BAD_SIGNATURE);
    unload(&l);
    /* trust domains (optional): authentic, and process-dependency is refused as unsupported */
    assert_int_equal(load_auth(&l, "suit/trust-domains/example0_dependent.cbor", &example_keys), FS38_OK);
    unload(&l);
    assert_int_equal(load_auth(&l, "suit/trust-domains/example2_integrated.cbor", &example_keys), FS38_OK);
    assert_int_equal(l.m.n_integrated, 1);
    fs38_span sp;
    assert_int_equal(fs38_suit_integrated(&l.m, "#dependent.suit", 15, &sp), FS38_OK);
    assert_int_equal(sp.len, 190);
    fs38_suit_runner r;
    harness h;
    runner_init(&r, &h);
    fs38_err e = fs38_suit_run(&r, &l.m, FS38_SUIT_SEQ_INSTALL, &l.d);
    assert_int_equal(e, FS38_ERR_UNSUPPORTED_COMMAND);
    assert_non_null(strstr(l.d.msg, "dependencies are not supported"));
    unload(&l);
}

/* Every truncation of every vector: a clean error, never success, never a crash. */
static void test_truncations(void **state)
{
    (void)state;
    static const char *files[] = { "suit/manifest/example0-secure-boot.signed.cbor",
                                   "suit/manifest/example2-severable.signed-full.cbor",
                                   "suit/manifest/example4-load-external.signed.cbor",
                                   "suit/manifest-esp256/example5-two-images.esp256.cbor" };
    for (size_t f = 0; f < 4; f++) {
        size_t len;
        uint8_t *buf = ts_read_file(files[f], &len);
        assert_non_null(buf);
        for (size_t n = 0; n < len; n++) {
            uint8_t *cut = malloc(n ? n : 1); /* exact-size copy: ASan sees any over-read */
            memcpy(cut, buf, n);
            fs38_suit_manifest m;
            fs38_diag d;
            fs38_err e = fs38_suit_authenticate(&m, cut, n, &example_keys, &d);
            assert_true(e < 0);
            assert_true(d.msg[0] != '\0');
            free(cut);
        }
        free(buf);
    }
}

/* ---- envelopes built here ---- */

static psa_key_id_t example_signer;

static size_t make_env(const uint8_t *manifest, size_t mlen, uint8_t *out, size_t cap)
{
    if (!example_signer)
        example_signer = ts_import_signer(ts_example_d);
    return ts_envelope(example_signer, FS38_COSE_ALG_ESP256, manifest, mlen, out, cap);
}

/* manifest {1:1, 2:seq, 3: common{2:[[h'00']]}, 7: <seq bytes>} */
static size_t manifest_with(const uint8_t *seq, size_t seq_len, uint64_t version, uint8_t *out, size_t cap)
{
    static const uint8_t common[] = { 0xa1, 0x02, 0x81, 0x81, 0x41, 0x00 };
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, out, cap);
    fs38_cbor_put_map(&e, 4);
    fs38_cbor_put_uint(&e, 1);
    fs38_cbor_put_uint(&e, version);
    fs38_cbor_put_uint(&e, 2);
    fs38_cbor_put_uint(&e, 7);
    fs38_cbor_put_uint(&e, 3);
    fs38_cbor_put_bstr(&e, common, sizeof common);
    fs38_cbor_put_uint(&e, 7);
    fs38_cbor_put_bstr(&e, seq, seq_len);
    size_t n;
    assert_int_equal(fs38_cbor_enc_finish(&e, &n), FS38_OK);
    return n;
}

static FS38_NODISCARD fs38_err run_validate_of(const uint8_t *seq, size_t seq_len, fs38_diag *d)
{
    uint8_t man[256], env[1024];
    size_t ml = manifest_with(seq, seq_len, 1, man, sizeof man);
    size_t el = make_env(man, ml, env, sizeof env);
    fs38_suit_manifest m;
    fs38_err e = fs38_suit_authenticate(&m, env, el, &example_keys, d);
    if (e)
        return e;
    fs38_suit_runner r;
    harness h;
    runner_init(&r, &h);
    return fs38_suit_run(&r, &m, FS38_SUIT_SEQ_VALIDATE, d);
}

static void test_unknown_commands(void **state)
{
    (void)state;
    fs38_diag d;
    static const uint8_t unknown[] = { 0x82, 0x18, 0x63, 0x0f };          /* [99, 15] */
    static const uint8_t negative[] = { 0x82, 0x20, 0x00 };               /* [-1, 0] */
    static const uint8_t swap[] = { 0x82, 0x18, 0x1f, 0x02 };             /* [31 swap, 2] */
    static const uint8_t abort_[] = { 0x82, 0x0e, 0x0f };                 /* [14 abort, 15] */
    static const uint8_t idx_oob[] = { 0x84, 0x0c, 0x05, 0x17, 0x02 };    /* [12, 5, 23, 2] */
    static const uint8_t odd[] = { 0x83, 0x0c, 0x00, 0x17 };              /* odd item count */
    static const uint8_t invoke[] = { 0x82, 0x17, 0x02 };                 /* [23 invoke, 2] */
    assert_int_equal(run_validate_of(unknown, sizeof unknown, &d), FS38_ERR_UNSUPPORTED_COMMAND);
    assert_string_equal(d.msg, "unknown command 99");
    assert_int_equal(run_validate_of(negative, sizeof negative, &d), FS38_ERR_UNSUPPORTED_COMMAND);
    assert_int_equal(run_validate_of(swap, sizeof swap, &d), FS38_ERR_UNSUPPORTED_COMMAND);
    assert_int_equal(run_validate_of(abort_, sizeof abort_, &d), FS38_ERR_CONDITION);
    assert_int_equal(run_validate_of(idx_oob, sizeof idx_oob, &d), FS38_ERR_COMPONENT);
    assert_non_null(strstr(d.msg, "component index 5 out of range"));
    assert_int_equal(run_validate_of(odd, sizeof odd, &d), FS38_ERR_SUIT_FORMAT);
    assert_int_equal(run_validate_of(invoke, sizeof invoke, &d), FS38_OK);
}

static void test_envelope_structure(void **state)
{
    (void)state;
    static const uint8_t invoke[] = { 0x82, 0x17, 0x02 };
    uint8_t man[256], env[1024];
    size_t ml = manifest_with(invoke, sizeof invoke, 1, man, sizeof man);
    size_t el = make_env(man, ml, env, sizeof env);
    fs38_suit_manifest m;
    fs38_diag d;
    assert_int_equal(fs38_suit_authenticate(&m, env, el, &example_keys, &d), FS38_OK);

    /* trailing byte */
    env[el] = 0x00;
    assert_int_equal(fs38_suit_authenticate(&m, env, el + 1, &example_keys, &d), FS38_ERR_SUIT_FORMAT);

    /* auth wrapper after the manifest: rebuild the map with keys swapped */
    fs38_cbor_dec dec;
    fs38_cbor_dec_init(&dec, env, el);
    uint64_t tag;
    size_t n;
    const uint8_t *auth, *mp;
    size_t auth_len, mp_len;
    uint64_t k;
    assert_int_equal(fs38_cbor_get_tag(&dec, &tag), FS38_OK);
    assert_int_equal(fs38_cbor_get_map(&dec, &n), FS38_OK);
    assert_int_equal(fs38_cbor_get_uint(&dec, &k), FS38_OK);
    assert_int_equal(fs38_cbor_get_bstr(&dec, &auth, &auth_len), FS38_OK);
    assert_int_equal(fs38_cbor_get_uint(&dec, &k), FS38_OK);
    assert_int_equal(fs38_cbor_get_bstr(&dec, &mp, &mp_len), FS38_OK);
    uint8_t swapped[1024];
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, swapped, sizeof swapped);
    fs38_cbor_put_tag(&e, 107);
    fs38_cbor_put_map(&e, 2);
    fs38_cbor_put_uint(&e, 3);
    fs38_cbor_put_bstr(&e, mp, mp_len);
    fs38_cbor_put_uint(&e, 2);
    fs38_cbor_put_bstr(&e, auth, auth_len);
    size_t sl;
    assert_int_equal(fs38_cbor_enc_finish(&e, &sl), FS38_OK);
    assert_int_equal(fs38_suit_authenticate(&m, swapped, sl, &example_keys, &d), FS38_ERR_SUIT_FORMAT);
    assert_string_equal(d.msg, "authentication wrapper after the manifest");

    /* manifest version 2 is refused after authentication */
    ml = manifest_with(invoke, sizeof invoke, 2, man, sizeof man);
    el = make_env(man, ml, env, sizeof env);
    assert_int_equal(fs38_suit_authenticate(&m, env, el, &example_keys, &d), FS38_ERR_MANIFEST_VERSION);
}

static void test_unsupported_alg(void **state)
{
    (void)state;
    /* Build a COSE_Sign1 with alg -35 (ES384) by hand: must say "unsupported algorithm -35" */
    static const uint8_t invoke[] = { 0x82, 0x17, 0x02 };
    uint8_t man[256], env[1024];
    size_t ml = manifest_with(invoke, sizeof invoke, 1, man, sizeof man);
    size_t el = make_env(man, ml, env, sizeof env);
    /* the protected header {1: -9} is encoded a1 01 28; find and patch -9 (0x28) to -35 (0x38 0x22)
     * is a length change, so patch to -8 (0x27, EdDSA) instead */
    uint8_t *p = NULL;
    for (size_t i = 0; i + 3 < el; i++)
        if (env[i] == 0x43 && env[i + 1] == 0xa1 && env[i + 2] == 0x01 && env[i + 3] == 0x28)
            p = &env[i + 3];
    assert_non_null(p);
    *p = 0x27;
    fs38_suit_manifest m;
    fs38_diag d;
    assert_int_equal(fs38_suit_authenticate(&m, env, el, &example_keys, &d), FS38_ERR_UNSUPPORTED_ALG);
    assert_string_equal(d.msg, "unsupported algorithm -8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signed_es256_verify),
        cmocka_unit_test(test_signed_esp256_verify),
        cmocka_unit_test(test_unsigned_rejected),
        cmocka_unit_test(test_negative_vectors),
        cmocka_unit_test(test_untrusted_key_trusted_then_ok),
        cmocka_unit_test(test_severable),
        cmocka_unit_test(test_rollback_order),
        cmocka_unit_test(test_image_match_harness),
        cmocka_unit_test(test_ab_try_each),
        cmocka_unit_test(test_load_external),
        cmocka_unit_test(test_two_images),
        cmocka_unit_test(test_mac0_vectors),
        cmocka_unit_test(test_esdh_and_dependency),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_unknown_commands),
        cmocka_unit_test(test_envelope_structure),
        cmocka_unit_test(test_unsupported_alg),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
