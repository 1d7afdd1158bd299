/* SPDX-License-Identifier: Apache-2.0 */
/* test_attest.c — Entity Attestation Tokens (fs38/attest.h): the round trip, the exact claims
 * encoding, nonce and signer checks, every single-byte change and every truncation refused,
 * strict claims parsing (hand-made claim sets signed with the real device key), measurements
 * taken from a boot context, and the lifecycle rules (no token without an identity, none
 * once decommissioning has begun). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "support.h"
#include "fs38/attest.h"
#include "fs38/cbor.h"
#include "fs38/decommission.h"
#include "fs38/event.h"
#include "fs38/store.h"
#include "fs38/util.h"

#define SS 4096u
#define FLASH_SIZE (16u * SS)
#define KEY_ID ((psa_key_id_t)0x00380003u)

typedef struct {
    ts_device d; /* flash, HUK file, store bound to PSA ITS (tests/support.h) */
    fs38_identity id;
    uint8_t point[65];
    fs38_keyring kr;      /* the device's public key, as a verifier gets it from the certificate */
    fs38_measurement meas[2];
    fs38_attest_config cfg;
    fs38_attest_ctx ctx;
} rig;

static const uint8_t NONCE[16] = { 0x6e, 0x6f, 0x6e, 0x63, 0x65, 0x2d, 0x31, 0x32,
                                   0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x30 };

static void rig_new(rig *r, bool provision)
{
    memset(r, 0, sizeof *r);
    ts_device_new(&r->d, FLASH_SIZE, (fs38_store_config){ NULL, 0, 4u * SS, SS });
    assert_int_equal(fs38_identity_init(&r->id, &r->d.s, KEY_ID), FS38_OK);
    fs38_keyring_init(&r->kr);
    if (provision) {
        assert_int_equal(fs38_identity_provision(&r->id), FS38_OK);
        assert_int_equal(fs38_identity_public_key(&r->id, r->point), FS38_OK);
        assert_int_equal(fs38_keyring_add_p256(&r->kr, r->point, 65), FS38_OK);
    }
    fs38_measurement *a = &r->meas[0];
    a->name[0] = 'A';
    a->status = FS38_MEAS_VERIFIED;
    a->sequence = 7;
    memset(a->image_digest, 0x11, 32);
    memset(a->manifest_digest, 0x22, 32);
    memset(a->signer_kid, 0x33, 8);
    a->booted = true;
    r->meas[1].name[0] = 'B';
    r->meas[1].status = FS38_MEAS_EMPTY;
    r->cfg.id = &r->id;
    r->cfg.port = &r->d.f.port;
    r->cfg.dbgstat = FS38_DBG_DISABLED_PERMANENTLY;
    r->cfg.oemid = ts_vendor;
    r->cfg.hwmodel = ts_class;
    r->cfg.hwmodel_len = 16;
    r->cfg.meas = r->meas;
    r->cfg.n_meas = 2;
}

static void rig_free(rig *r)
{
    fs38_keyring_free(&r->kr);
    ts_device_free(&r->d, false);
}

static size_t make_token(rig *r, const uint8_t *nonce, size_t nl, uint8_t *tok)
{
    size_t len = 0;
    fs38_err e = fs38_attest(&r->ctx, &r->cfg, nonce, nl, tok, FS38_EAT_MAX, &len);
    if (e != FS38_OK)
        fail_msg("attest: %s", r->ctx.diag.msg);
    return len;
}

static int g_attest_events;
static void sink(void *user, const fs38_event_rec *e)
{
    (void)user;
    g_attest_events += e->code == FS38_EV_ATTESTATION;
}

static void test_roundtrip(void **state)
{
    (void)state;
    rig r;
    uint8_t tok[FS38_EAT_MAX], ueid[FS38_UEID_LEN];
    fs38_eat_claims c;
    fs38_cose_info info;
    fs38_diag d;
    rig_new(&r, true);
    g_attest_events = 0;
    fs38_event_set_sink(sink, NULL);
    size_t len = make_token(&r, NONCE, sizeof NONCE, tok);
    fs38_event_set_sink(NULL, NULL);
    assert_int_equal(g_attest_events, 1);
    assert_int_equal(tok[0], 0xd2); /* tag 18: COSE_Sign1 */
    assert_int_equal(fs38_eat_verify(tok, len, &r.kr, NONCE, sizeof NONCE, &c, &info, &d), FS38_OK);
    assert_int_equal(info.alg, FS38_COSE_ALG_ES256);
    assert_int_equal(info.kid_len, FS38_KID_LEN);
    assert_int_equal(fs38_identity_ueid(&r.id, ueid), FS38_OK);
    assert_int_equal(c.ueid_len, sizeof ueid);
    assert_memory_equal(c.ueid, ueid, sizeof ueid);
    assert_int_equal(c.nonce_len, sizeof NONCE);
    assert_memory_equal(c.nonce, NONCE, sizeof NONCE);
    assert_true(c.has_iat);
    assert_int_equal(c.dbgstat, FS38_DBG_DISABLED_PERMANENTLY);
    assert_int_equal(c.lifecycle, FS38_LIFECYCLE_PROVISIONED);
    assert_string_equal(c.swname, "fs38");
    assert_string_equal(c.swversion, fs38_version());
    assert_int_equal(c.version_scheme, FS38_VERSION_SCHEME_SEMVER);
    assert_int_equal(c.oemid_len, 16);
    assert_memory_equal(c.oemid, ts_vendor, 16);
    assert_int_equal(c.hwmodel_len, 16);
    assert_int_equal(c.n_meas, 2);
    assert_string_equal(c.meas[0].name, "A");
    assert_int_equal(c.meas[0].status, FS38_MEAS_VERIFIED);
    assert_int_equal(c.meas[0].sequence, 7);
    assert_memory_equal(c.meas[0].image_digest, r.meas[0].image_digest, 32);
    assert_memory_equal(c.meas[0].manifest_digest, r.meas[0].manifest_digest, 32);
    assert_memory_equal(c.meas[0].signer_kid, r.meas[0].signer_kid, 8);
    assert_true(c.meas[0].booted);
    assert_string_equal(c.meas[1].name, "B");
    assert_int_equal(c.meas[1].status, FS38_MEAS_EMPTY);
    assert_false(c.meas[1].booted);

    /* another nonce: FS38_ERR_NONCE (a replayed token); no nonce given: not checked */
    uint8_t other[16];
    memcpy(other, NONCE, 16);
    other[15] ^= 1;
    assert_int_equal(fs38_eat_verify(tok, len, &r.kr, other, 16, &c, NULL, &d), FS38_ERR_NONCE);
    assert_int_equal(fs38_eat_verify(tok, len, &r.kr, NONCE, 15, &c, NULL, &d), FS38_ERR_NONCE);
    assert_int_equal(fs38_eat_verify(tok, len, &r.kr, NULL, 0, &c, NULL, &d), FS38_OK);
    /* another device's key: not this signer */
    fs38_keyring kr2;
    uint8_t p2[65];
    psa_key_id_t k2 = ts_gen_signer(p2);
    fs38_keyring_init(&kr2);
    assert_int_equal(fs38_keyring_add_p256(&kr2, p2, 65), FS38_OK);
    assert_int_not_equal(fs38_eat_verify(tok, len, &kr2, NONCE, 16, &c, NULL, &d), FS38_OK);
    fs38_keyring_free(&kr2);
    psa_destroy_key(k2);
    /* two tokens for the same nonce differ (ECDSA is randomised) but both verify */
    uint8_t tok2[FS38_EAT_MAX];
    size_t len2 = make_token(&r, NONCE, sizeof NONCE, tok2);
    assert_int_equal(fs38_eat_verify(tok2, len2, &r.kr, NONCE, 16, &c, NULL, &d), FS38_OK);
    rig_free(&r);
}

/* The claims bytes are exactly the documented deterministic encoding. */
static void test_claims_encoding(void **state)
{
    (void)state;
    rig r;
    uint8_t claims[FS38_EAT_CLAIMS_MAX], ueid[FS38_UEID_LEN], exp[FS38_EAT_CLAIMS_MAX];
    size_t len = 0, el = 0;
    fs38_diag d;
    rig_new(&r, true);
    r.cfg.port = NULL; /* no iat */
    r.cfg.oemid = NULL;
    r.cfg.hwmodel = NULL;
    assert_int_equal(fs38_eat_encode(&r.cfg, NONCE, 8, claims, sizeof claims, &len, &d), FS38_OK);
    assert_int_equal(fs38_identity_ueid(&r.id, ueid), FS38_OK);
    /* built by hand from docs/formats-eat.md */
    const char *v = fs38_version();
    el = 0;
    exp[el++] = 0xa7;                                    /* map(7) */
    exp[el++] = 0x0a; exp[el++] = 0x48;                  /* 10: bstr(8) */
    memcpy(exp + el, NONCE, 8); el += 8;
    exp[el++] = 0x19; exp[el++] = 0x01; exp[el++] = 0x00; /* 256 */
    exp[el++] = 0x51; memcpy(exp + el, ueid, 17); el += 17;
    exp[el++] = 0x19; exp[el++] = 0x01; exp[el++] = 0x07; exp[el++] = 0x03; /* 263: 3 */
    exp[el++] = 0x19; exp[el++] = 0x01; exp[el++] = 0x0e; exp[el++] = 0x64;  /* 270: "fs38" */
    memcpy(exp + el, "fs38", 4); el += 4;
    exp[el++] = 0x19; exp[el++] = 0x01; exp[el++] = 0x0f; exp[el++] = 0x82;  /* 271: [ */
    exp[el++] = (uint8_t)(0x60 + strlen(v)); memcpy(exp + el, v, strlen(v)); el += strlen(v);
    exp[el++] = 0x19; exp[el++] = 0x40; exp[el++] = 0x00;                   /* 16384 ] */
    exp[el++] = 0x3a; exp[el++] = 0x00; exp[el++] = 0x01; exp[el++] = 0x11; exp[el++] = 0x70; /* -70001 */
    exp[el++] = 0x82;                                                        /* [ */
    exp[el++] = 0xa7;                                                        /* {7 */
    exp[el++] = 0x01; exp[el++] = 0x61; exp[el++] = 'A';
    exp[el++] = 0x02; exp[el++] = 0x00;
    exp[el++] = 0x03; exp[el++] = 0x07;
    exp[el++] = 0x04; exp[el++] = 0x82; exp[el++] = 0x2f; exp[el++] = 0x58; exp[el++] = 0x20;
    memset(exp + el, 0x11, 32); el += 32;
    exp[el++] = 0x05; exp[el++] = 0x82; exp[el++] = 0x2f; exp[el++] = 0x58; exp[el++] = 0x20;
    memset(exp + el, 0x22, 32); el += 32;
    exp[el++] = 0x06; exp[el++] = 0x48; memset(exp + el, 0x33, 8); el += 8;
    exp[el++] = 0x07; exp[el++] = 0xf5;
    exp[el++] = 0xa2; exp[el++] = 0x01; exp[el++] = 0x61; exp[el++] = 'B'; exp[el++] = 0x02; exp[el++] = 0x02;
    exp[el++] = 0x3a; exp[el++] = 0x00; exp[el++] = 0x01; exp[el++] = 0x11; exp[el++] = 0x71; /* -70002 */
    exp[el++] = 0x01;                                                        /* provisioned */
    assert_int_equal(len, el);
    assert_memory_equal(claims, exp, el);
    /* keys in increasing encoded order (RFC 8949 §4.2.1), checked generically too */
    fs38_cbor_dec dec;
    size_t n;
    fs38_cbor_dec_init(&dec, claims, len);
    assert_int_equal(fs38_cbor_get_map(&dec, &n), FS38_OK);
    const uint8_t *prev = NULL;
    size_t prev_len = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *k;
        size_t kl;
        assert_int_equal(fs38_cbor_get_raw(&dec, &k, &kl), FS38_OK);
        if (prev)
            assert_true(prev_len < kl || (prev_len == kl && memcmp(prev, k, kl) < 0));
        prev = k;
        prev_len = kl;
        assert_int_equal(fs38_cbor_skip(&dec), FS38_OK);
    }
    rig_free(&r);
}

static void test_tamper_and_truncation(void **state)
{
    (void)state;
    rig r;
    uint8_t tok[FS38_EAT_MAX];
    fs38_eat_claims c;
    fs38_diag d;
    rig_new(&r, true);
    size_t len = make_token(&r, NONCE, sizeof NONCE, tok);
    for (size_t i = 0; i < len; i++)
        for (unsigned m = 0; m < 3; m++) {
            static const uint8_t masks[3] = { 0x01, 0x80, 0xff };
            uint8_t *copy = malloc(len);
            memcpy(copy, tok, len);
            copy[i] ^= masks[m];
            fs38_err e = fs38_eat_verify(copy, len, &r.kr, NONCE, sizeof NONCE, &c, NULL, &d);
            if (e == FS38_OK)
                fail_msg("token with byte %zu ^ 0x%02x accepted", i, masks[m]);
            free(copy);
        }
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, tok, n);
        assert_int_not_equal(fs38_eat_verify(copy, n, &r.kr, NONCE, sizeof NONCE, &c, NULL, &d), FS38_OK);
        free(copy);
    }
    rig_free(&r);
}

/* Sign arbitrary claims with the device key and run them through the verifier. */
static FS38_NODISCARD fs38_err verify_claims(rig *r, const uint8_t *claims, size_t len, fs38_eat_claims *c, fs38_diag *d)
{
    uint8_t tok[2048], kid[8];
    size_t tl = 0;
    assert_int_equal(fs38_key_id(r->point, 65, kid), FS38_OK);
    assert_int_equal(fs38_cose_sign1_sign(KEY_ID, FS38_COSE_ALG_ES256, kid, 8, claims, len, false, tok, sizeof tok, &tl),
                     FS38_OK);
    fs38_diag_clear(d);
    return fs38_eat_verify(tok, tl, &r->kr, NULL, 0, c, NULL, d);
}

static void put_meas_ok(fs38_cbor_enc *e, const char *name)
{
    uint8_t z[32] = { 0 };
    fs38_cbor_put_map(e, 6);
    fs38_cbor_put_uint(e, 1);
    fs38_cbor_put_tstr(e, name, strlen(name));
    fs38_cbor_put_uint(e, 2);
    fs38_cbor_put_uint(e, 0);
    fs38_cbor_put_uint(e, 3);
    fs38_cbor_put_uint(e, 1);
    fs38_cbor_put_uint(e, 4);
    fs38_cbor_put_array(e, 2);
    fs38_cbor_put_int(e, -16);
    fs38_cbor_put_bstr(e, z, 32);
    fs38_cbor_put_uint(e, 5);
    fs38_cbor_put_array(e, 2);
    fs38_cbor_put_int(e, -16);
    fs38_cbor_put_bstr(e, z, 32);
    fs38_cbor_put_uint(e, 6);
    fs38_cbor_put_bstr(e, z, 8);
}

/* The base claims (all required ones) + `extra` entries written by the caller after them. */
static void base_claims(fs38_cbor_enc *e, size_t extra, unsigned skip)
{
    static const uint8_t ueid[17] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17 };
    size_t n = 7 + extra;
    for (unsigned b = 0; b < 7; b++)
        n -= (skip >> b) & 1u;
    fs38_cbor_put_map(e, n);
    if (!(skip & 1)) { fs38_cbor_put_uint(e, 10); fs38_cbor_put_bstr(e, NONCE, 16); }
    if (!(skip & 2)) { fs38_cbor_put_uint(e, 256); fs38_cbor_put_bstr(e, ueid, 17); }
    if (!(skip & 4)) { fs38_cbor_put_uint(e, 263); fs38_cbor_put_uint(e, 1); }
    if (!(skip & 8)) { fs38_cbor_put_uint(e, 270); fs38_cbor_put_tstr(e, "fs38", 4); }
    if (!(skip & 16)) {
        fs38_cbor_put_uint(e, 271);
        fs38_cbor_put_array(e, 1);
        fs38_cbor_put_tstr(e, "9.9.9", 5);
    }
    if (!(skip & 32)) {
        fs38_cbor_put_int(e, -70001);
        fs38_cbor_put_array(e, 1);
        put_meas_ok(e, "A");
    }
    if (!(skip & 64)) { fs38_cbor_put_int(e, -70002); fs38_cbor_put_uint(e, 2); }
}

static void test_strict_claims(void **state)
{
    (void)state;
    rig r;
    uint8_t buf[1024];
    fs38_cbor_enc e;
    fs38_eat_claims c;
    fs38_diag d;
    size_t len;
    rig_new(&r, true);

    /* the base set verifies; unknown claims (int and text keys) are skipped */
    fs38_cbor_enc_init(&e, buf, sizeof buf);
    base_claims(&e, 2, 0);
    fs38_cbor_put_uint(&e, 99999);
    fs38_cbor_put_array(&e, 0);
    fs38_cbor_put_tstr(&e, "vendor-thing", 12);
    fs38_cbor_put_bool(&e, true);
    assert_int_equal(fs38_cbor_enc_finish(&e, &len), FS38_OK);
    assert_int_equal(verify_claims(&r, buf, len, &c, &d), FS38_OK);
    assert_string_equal(c.swversion, "9.9.9");
    assert_int_equal(c.version_scheme, 0);

    /* each required claim missing */
    static const char *names[] = { "nonce", "ueid", "dbgstat", "swname", "swversion", "fs38-measurements",
                                   "fs38-lifecycle" };
    for (unsigned b = 0; b < 7; b++) {
        fs38_cbor_enc_init(&e, buf, sizeof buf);
        base_claims(&e, 0, 1u << b);
        assert_int_equal(fs38_cbor_enc_finish(&e, &len), FS38_OK);
        assert_int_equal(verify_claims(&r, buf, len, &c, &d), FS38_ERR_CLAIMS);
        assert_non_null(strstr(d.msg, names[b]));
    }

    /* a duplicate claim */
    fs38_cbor_enc_init(&e, buf, sizeof buf);
    base_claims(&e, 1, 0);
    fs38_cbor_put_uint(&e, 263);
    fs38_cbor_put_uint(&e, 0);
    assert_int_equal(fs38_cbor_enc_finish(&e, &len), FS38_OK);
    assert_int_equal(verify_claims(&r, buf, len, &c, &d), FS38_ERR_CLAIMS);
    assert_non_null(strstr(d.msg, "duplicate"));

    /* a receipt marker: a receipt is not a token */
    fs38_cbor_enc_init(&e, buf, sizeof buf);
    base_claims(&e, 1, 0);
    fs38_cbor_put_int(&e, FS38_CLAIM_RECEIPT);
    fs38_cbor_put_tstr(&e, "decommission", 12);
    assert_int_equal(fs38_cbor_enc_finish(&e, &len), FS38_OK);
    assert_int_equal(verify_claims(&r, buf, len, &c, &d), FS38_ERR_CLAIMS);
    assert_non_null(strstr(d.msg, "receipt"));

    /* values out of range or of the wrong type */
    static const struct {
        int64_t key;
        int kind; /* 0 uint value, 1 bstr of len value, 2 tstr */
        uint64_t value;
    } vals[] = {
        { 263, 0, 5 },     { -70002, 0, 5 },   { 10, 1, 7 },     { 10, 1, 65 },  { 256, 1, 6 },
        { 256, 1, 34 },    { 258, 1, 2 },      { 259, 1, 33 },   { 270, 0, 1 },  { 6, 2, 0 },
        { 271, 2, 0 },     { -70001, 0, 0 },
    };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint8_t z[80] = { 0 };
        fs38_cbor_enc_init(&e, buf, sizeof buf);
        /* replace: write the base set without the claim if it is a base one, then the bad one */
        unsigned skip = vals[i].key == 10 ? 1u : vals[i].key == 256 ? 2u : vals[i].key == 263 ? 4u
                        : vals[i].key == 270 ? 8u : vals[i].key == 271 ? 16u : vals[i].key == -70001 ? 32u
                        : vals[i].key == -70002 ? 64u : 0u;
        base_claims(&e, 1, skip);
        fs38_cbor_put_int(&e, vals[i].key);
        if (vals[i].kind == 0)
            fs38_cbor_put_uint(&e, vals[i].value);
        else if (vals[i].kind == 1)
            fs38_cbor_put_bstr(&e, z, (size_t)vals[i].value);
        else
            fs38_cbor_put_tstr(&e, "x", 1);
        assert_int_equal(fs38_cbor_enc_finish(&e, &len), FS38_OK);
        fs38_err err = verify_claims(&r, buf, len, &c, &d);
        if (err != FS38_ERR_CLAIMS)
            fail_msg("claim %lld (case %zu) accepted: %s", (long long)vals[i].key, i, fs38_strerror(err));
    }

    /* measurements: digests without "verified", "verified" without digests, a false "booted",
     * an unknown key, two of the same slot, too many */
    for (int m = 0; m < 6; m++) {
        fs38_cbor_enc_init(&e, buf, sizeof buf);
        base_claims(&e, 1, 32);
        fs38_cbor_put_int(&e, -70001);
        uint8_t z[32] = { 0 };
        switch (m) {
        case 0: /* status refused but digests present */
            fs38_cbor_put_array(&e, 1);
            fs38_cbor_put_map(&e, 3);
            fs38_cbor_put_uint(&e, 1); fs38_cbor_put_tstr(&e, "A", 1);
            fs38_cbor_put_uint(&e, 2); fs38_cbor_put_uint(&e, 1);
            fs38_cbor_put_uint(&e, 6); fs38_cbor_put_bstr(&e, z, 8);
            break;
        case 1: /* verified without digests */
            fs38_cbor_put_array(&e, 1);
            fs38_cbor_put_map(&e, 2);
            fs38_cbor_put_uint(&e, 1); fs38_cbor_put_tstr(&e, "A", 1);
            fs38_cbor_put_uint(&e, 2); fs38_cbor_put_uint(&e, 0);
            break;
        case 2: /* booted: false */
            fs38_cbor_put_array(&e, 1);
            fs38_cbor_put_map(&e, 3);
            fs38_cbor_put_uint(&e, 1); fs38_cbor_put_tstr(&e, "A", 1);
            fs38_cbor_put_uint(&e, 2); fs38_cbor_put_uint(&e, 2);
            fs38_cbor_put_uint(&e, 7); fs38_cbor_put_bool(&e, false);
            break;
        case 3: /* unknown key */
            fs38_cbor_put_array(&e, 1);
            fs38_cbor_put_map(&e, 3);
            fs38_cbor_put_uint(&e, 1); fs38_cbor_put_tstr(&e, "A", 1);
            fs38_cbor_put_uint(&e, 2); fs38_cbor_put_uint(&e, 2);
            fs38_cbor_put_uint(&e, 9); fs38_cbor_put_uint(&e, 0);
            break;
        case 4: /* the same slot twice */
            fs38_cbor_put_array(&e, 2);
            put_meas_ok(&e, "A");
            put_meas_ok(&e, "A");
            break;
        default: /* five measurements */
            fs38_cbor_put_array(&e, 5);
            for (int k = 0; k < 5; k++) {
                char nm[2] = { (char)('A' + k), 0 };
                put_meas_ok(&e, nm);
            }
            break;
        }
        assert_int_equal(fs38_cbor_enc_finish(&e, &len), FS38_OK);
        if (verify_claims(&r, buf, len, &c, &d) != FS38_ERR_CLAIMS)
            fail_msg("bad measurement case %d accepted", m);
    }
    /* not a map; trailing bytes; 33 claims */
    buf[0] = 0x80;
    assert_int_equal(verify_claims(&r, buf, 1, &c, &d), FS38_ERR_CLAIMS);
    fs38_cbor_enc_init(&e, buf, sizeof buf);
    base_claims(&e, 0, 0);
    fs38_cbor_put_uint(&e, 0);
    assert_int_equal(fs38_cbor_enc_finish(&e, &len), FS38_OK);
    assert_int_equal(verify_claims(&r, buf, len, &c, &d), FS38_ERR_CLAIMS);
    fs38_cbor_enc_init(&e, buf, sizeof buf);
    base_claims(&e, 26, 0);
    for (unsigned k = 0; k < 26; k++) {
        fs38_cbor_put_uint(&e, 1000 + k);
        fs38_cbor_put_uint(&e, 0);
    }
    assert_int_equal(fs38_cbor_enc_finish(&e, &len), FS38_OK);
    assert_int_equal(verify_claims(&r, buf, len, &c, &d), FS38_ERR_CLAIMS);
    assert_non_null(strstr(d.msg, "too many"));
    rig_free(&r);
}

static void test_measurements_from_boot(void **state)
{
    (void)state;
    static fs38_boot_ctx b;
    fs38_measurement m[FS38_SLOT_COUNT];
    memset(&b, 0, sizeof b);
    b.slot[0].present = true;
    b.slot[0].verdict = FS38_ERR_ROLLBACK;
    b.slot[0].sequence = 3;
    b.slot[1].present = true;
    b.slot[1].verdict = FS38_OK;
    b.slot[1].sequence = 9;
    memset(b.slot[1].image_digest, 0xaa, 32);
    memset(b.slot[1].manifest_digest, 0xbb, 32);
    memset(b.slot[1].signer_kid, 0xcc, 8);
    assert_int_equal(fs38_attest_boot_measurements(&b, 1, m), FS38_SLOT_COUNT);
    assert_string_equal(m[0].name, "A");
    assert_int_equal(m[0].status, FS38_MEAS_REFUSED);
    assert_false(m[0].booted);
    assert_string_equal(m[1].name, "B");
    assert_int_equal(m[1].status, FS38_MEAS_VERIFIED);
    assert_int_equal(m[1].sequence, 9);
    assert_memory_equal(m[1].image_digest, b.slot[1].image_digest, 32);
    assert_true(m[1].booted);
    b.slot[0].present = false;
    fs38_attest_boot_measurements(&b, -1, m);
    assert_int_equal(m[0].status, FS38_MEAS_EMPTY);
    assert_false(m[1].booted);
    assert_string_equal(fs38_meas_status_name(FS38_MEAS_REFUSED), "refused");
    assert_string_equal(fs38_dbgstat_name(FS38_DBG_ENABLED), "enabled");
}

static void test_refusals(void **state)
{
    (void)state;
    rig r;
    uint8_t tok[FS38_EAT_MAX], n64[65] = { 0 };
    size_t len;
    rig_new(&r, false);
    /* blank: no token */
    assert_int_equal(fs38_attest(&r.ctx, &r.cfg, NONCE, 16, tok, sizeof tok, &len), FS38_ERR_NOT_PROVISIONED);
    assert_int_equal(fs38_identity_provision(&r.id), FS38_OK);
    /* nonce bounds: 8..64 */
    assert_int_equal(fs38_attest(&r.ctx, &r.cfg, n64, 7, tok, sizeof tok, &len), FS38_ERR_ARG);
    assert_int_equal(fs38_attest(&r.ctx, &r.cfg, n64, 65, tok, sizeof tok, &len), FS38_ERR_ARG);
    assert_int_equal(fs38_attest(&r.ctx, &r.cfg, n64, 8, tok, sizeof tok, &len), FS38_OK);
    assert_int_equal(fs38_attest(&r.ctx, &r.cfg, n64, 64, tok, sizeof tok, &len), FS38_OK);
    /* output too small is an error, never an overflow */
    assert_int_not_equal(fs38_attest(&r.ctx, &r.cfg, n64, 8, tok, 40, &len), FS38_OK);
    /* bad configuration */
    r.meas[0].name[0] = 0;
    assert_int_equal(fs38_attest(&r.ctx, &r.cfg, NONCE, 16, tok, sizeof tok, &len), FS38_ERR_ARG);
    r.meas[0].name[0] = 'A';
    r.cfg.n_meas = 5;
    assert_int_equal(fs38_attest(&r.ctx, &r.cfg, NONCE, 16, tok, sizeof tok, &len), FS38_ERR_ARG);
    r.cfg.n_meas = 2;
    /* decommissioning begun: no token, even though the key still exists */
    assert_int_equal(fs38_identity_set_lifecycle(&r.id, FS38_LIFECYCLE_DECOMMISSIONING), FS38_OK);
    assert_int_equal(fs38_attest(&r.ctx, &r.cfg, NONCE, 16, tok, sizeof tok, &len), FS38_ERR_DECOMMISSIONED);
    rig_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_claims_encoding),
        cmocka_unit_test(test_tamper_and_truncation),
        cmocka_unit_test(test_strict_claims),
        cmocka_unit_test(test_measurements_from_boot),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
