/* SPDX-License-Identifier: Apache-2.0 */
/* test_cose.c — COSE_Sign1 / COSE_Mac0 sign and verify, header rules, keyring. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "support.h"
#include "fs38/cbor.h"
#include "fs38/cose.h"

static int setup(void **state)
{
    (void)state;
    return psa_crypto_init() == PSA_SUCCESS ? 0 : -1;
}

static const uint8_t payload[] = "the quick brown fox";

/* A new signing key (its point in pt) and a keyring holding just its public key. */
static psa_key_id_t signer_in_ring(uint8_t pt[65], fs38_keyring *kr)
{
    psa_key_id_t k = ts_gen_signer(pt);
    fs38_keyring_init(kr);
    assert_int_equal(fs38_keyring_add_p256(kr, pt, 65), FS38_OK);
    return k;
}

/* An unprotected header {4: h'<kid>'} (11 bytes) at un. */
static void kid_header(uint8_t *un, const uint8_t kid[8])
{
    un[0] = 0xa1;
    un[1] = 0x04;
    un[2] = 0x48;
    memcpy(un + 3, kid, 8);
}

static void test_sign_verify_roundtrip(void **state)
{
    (void)state;
    uint8_t pt[65], msg[256];
    fs38_keyring kr;
    psa_key_id_t k = signer_in_ring(pt, &kr);
    uint8_t kid[8];
    assert_int_equal(fs38_key_id(pt, sizeof pt, kid), FS38_OK);
    assert_memory_equal(kr.a[0].kid, kid, 8);
    const int64_t algs[] = { FS38_COSE_ALG_ES256, FS38_COSE_ALG_ESP256 };
    for (int a = 0; a < 2; a++) {
        for (int detached = 0; detached < 2; detached++) {
            size_t n;
            assert_int_equal(fs38_cose_sign1_sign(k, algs[a], kid, 8, payload, sizeof payload, detached, msg,
                                                  sizeof msg, &n),
                             FS38_OK);
            fs38_cose_info info;
            fs38_diag d;
            fs38_err e = fs38_cose_sign1_verify(msg, n, detached ? payload : NULL, detached ? sizeof payload : 0,
                                                NULL, 0, &kr, &info, &d);
            assert_int_equal(e, FS38_OK);
            assert_int_equal(info.alg, algs[a]);
            assert_int_equal(info.kid_len, 8);
            if (!detached) {
                assert_int_equal(info.payload_len, sizeof payload);
                assert_memory_equal(info.payload, payload, sizeof payload);
            }
            /* detached message without the payload, or attached with an extra one */
            assert_int_equal(fs38_cose_sign1_verify(msg, n, detached ? NULL : payload, sizeof payload, NULL, 0, &kr,
                                                    &info, &d),
                             FS38_ERR_COSE_FORMAT);
            /* other external AAD */
            assert_int_equal(fs38_cose_sign1_verify(msg, n, detached ? payload : NULL, sizeof payload,
                                                    (const uint8_t *)"x", 1, &kr, &info, &d),
                             FS38_ERR_BAD_SIGNATURE);
            /* every single-byte change of the message is rejected */
            for (size_t i = 0; i < n; i++) {
                msg[i] ^= 0x01;
                e = fs38_cose_sign1_verify(msg, n, detached ? payload : NULL, detached ? sizeof payload : 0, NULL,
                                           0, &kr, &info, &d);
                if (e == FS38_OK)
                    fail_msg("byte %zu of %zu (alg %d, detached %d) changed and still verified", i, n, (int)algs[a], detached);
                msg[i] ^= 0x01;
            }
        }
    }
    psa_destroy_key(k);
    fs38_keyring_free(&kr);
}

static void test_untrusted_and_wrong_key(void **state)
{
    (void)state;
    uint8_t pt1[65], pt2[65], msg[256], kid1[8];
    psa_key_id_t k1 = ts_gen_signer(pt1);
    psa_key_id_t k2 = ts_gen_signer(pt2);
    fs38_keyring kr;
    fs38_keyring_init(&kr);
    assert_int_equal(fs38_keyring_add_p256(&kr, pt2, sizeof pt2), FS38_OK);
    assert_int_equal(fs38_key_id(pt1, 65, kid1), FS38_OK);
    size_t n;
    fs38_diag d;
    /* with a kid naming an unknown key */
    assert_int_equal(fs38_cose_sign1_sign(k1, -9, kid1, 8, payload, sizeof payload, false, msg, sizeof msg, &n),
                     FS38_OK);
    assert_int_equal(fs38_cose_sign1_verify(msg, n, NULL, 0, NULL, 0, &kr, NULL, &d), FS38_ERR_UNTRUSTED_SIGNER);
    assert_non_null(strstr(d.msg, "not trusted"));
    /* without kid: every key is tried, none verifies */
    assert_int_equal(fs38_cose_sign1_sign(k1, -9, NULL, 0, payload, sizeof payload, false, msg, sizeof msg, &n),
                     FS38_OK);
    assert_int_equal(fs38_cose_sign1_verify(msg, n, NULL, 0, NULL, 0, &kr, NULL, &d), FS38_ERR_BAD_SIGNATURE);
    /* second key added: now it verifies, and says which */
    assert_int_equal(fs38_keyring_add_p256(&kr, pt1, sizeof pt1), FS38_OK);
    fs38_cose_info info;
    assert_int_equal(fs38_cose_sign1_verify(msg, n, NULL, 0, NULL, 0, &kr, &info, &d), FS38_OK);
    assert_int_equal(info.signer, 1);
    psa_destroy_key(k1);
    psa_destroy_key(k2);
    fs38_keyring_free(&kr);
}

/* hand-built COSE_Sign1 with given protected / unprotected headers */
static size_t handmade(const char *prot_hex, const char *unprot_hex, uint8_t *out, size_t cap)
{
    uint8_t prot[32], unprot[32], sig[64];
    size_t pl = ts_unhex(prot_hex, prot, sizeof prot), ul = ts_unhex(unprot_hex, unprot, sizeof unprot);
    memset(sig, 7, sizeof sig);
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, out, cap);
    fs38_cbor_put_tag(&e, 18);
    fs38_cbor_put_array(&e, 4);
    fs38_cbor_put_bstr(&e, prot, pl);
    fs38_cbor_put_raw(&e, unprot, ul);
    fs38_cbor_put_bstr(&e, payload, sizeof payload);
    fs38_cbor_put_bstr(&e, sig, sizeof sig);
    size_t n;
    assert_int_equal(fs38_cbor_enc_finish(&e, &n), FS38_OK);
    return n;
}

/* Re-encode a COSE_Sign1 made by fs38_cose_sign1_sign with other header maps (raw CBOR): the
 * signed parts (protected header, payload, signature) are kept as they are. */
static size_t reheader(const uint8_t *in, size_t in_len, const uint8_t *prot_map, size_t prot_map_len,
                       const uint8_t *unprot, size_t ul, uint8_t *out, size_t cap)
{
    fs38_cbor_dec d;
    uint64_t tag;
    size_t n;
    const uint8_t *prot, *pl, *sig;
    size_t prot_len, pl_len, sig_len;
    fs38_cbor_dec_init(&d, in, in_len);
    assert_int_equal(fs38_cbor_get_tag(&d, &tag), FS38_OK);
    assert_int_equal(fs38_cbor_get_array(&d, &n), FS38_OK);
    assert_int_equal(fs38_cbor_get_bstr(&d, &prot, &prot_len), FS38_OK);
    assert_int_equal(fs38_cbor_skip(&d), FS38_OK);
    assert_int_equal(fs38_cbor_get_bstr(&d, &pl, &pl_len), FS38_OK);
    assert_int_equal(fs38_cbor_get_bstr(&d, &sig, &sig_len), FS38_OK);
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, out, cap);
    fs38_cbor_put_tag(&e, tag);
    fs38_cbor_put_array(&e, 4);
    if (prot_map)
        fs38_cbor_put_bstr(&e, prot_map, prot_map_len);
    else
        fs38_cbor_put_bstr(&e, prot, prot_len);
    fs38_cbor_put_raw(&e, unprot, ul);
    fs38_cbor_put_bstr(&e, pl, pl_len);
    fs38_cbor_put_bstr(&e, sig, sig_len);
    size_t out_len;
    assert_int_equal(fs38_cbor_enc_finish(&e, &out_len), FS38_OK);
    return out_len;
}

/* The kid rule (docs/formats.md): absent -> every anchor is tried; present -> it must be exactly
 * an anchor's 8-byte key id. Removing the unprotected kid still verifies; shortening,
 * lengthening, altering it or naming an unknown key is refused as an untrusted signer. */
static void test_kid_rule(void **state)
{
    (void)state;
    uint8_t pt[65], other_pt[65], msg[256], v[256], kid[8], other_kid[8], un[32];
    psa_key_id_t k = ts_gen_signer(pt);
    psa_key_id_t other = ts_gen_signer(other_pt);
    fs38_keyring kr;
    fs38_keyring_init(&kr);
    assert_int_equal(fs38_keyring_add_p256(&kr, other_pt, 65), FS38_OK);
    assert_int_equal(fs38_keyring_add_p256(&kr, pt, 65), FS38_OK);
    assert_int_equal(fs38_key_id(pt, 65, kid), FS38_OK);
    assert_int_equal(fs38_key_id(other_pt, 65, other_kid), FS38_OK);
    size_t n, vn;
    fs38_diag d;
    fs38_cose_info info;
    assert_int_equal(fs38_cose_sign1_sign(k, -9, kid, 8, payload, sizeof payload, false, msg, sizeof msg, &n),
                     FS38_OK);
    assert_int_equal(fs38_cose_sign1_verify(msg, n, NULL, 0, NULL, 0, &kr, &info, &d), FS38_OK);
    assert_int_equal(info.signer, 1);
    /* kid removed: a different envelope, verified by trying every anchor */
    vn = reheader(msg, n, NULL, 0, (const uint8_t *)"\xa0", 1, v, sizeof v);
    assert_int_not_equal(vn, n);
    assert_int_equal(fs38_cose_sign1_verify(v, vn, NULL, 0, NULL, 0, &kr, &info, &d), FS38_OK);
    assert_int_equal(info.signer, 1);
    assert_null(info.kid);
    /* shortened (a prefix of the right kid: 7, 4, 1, 0 bytes) and lengthened (9 bytes) */
    const size_t lens[] = { 7, 4, 1, 0, 9 };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        un[0] = 0xa1;
        un[1] = 0x04;
        un[2] = (uint8_t)(0x40 + lens[i]);
        memcpy(un + 3, kid, 8);
        un[11] = 0x5a;
        vn = reheader(msg, n, NULL, 0, un, 3 + lens[i], v, sizeof v);
        fs38_diag_clear(&d);
        fs38_err e = fs38_cose_sign1_verify(v, vn, NULL, 0, NULL, 0, &kr, &info, &d);
        if (e != FS38_ERR_UNTRUSTED_SIGNER)
            fail_msg("kid of %zu bytes: %s (%s), expected FS38_ERR_UNTRUSTED_SIGNER", lens[i], fs38_strerror(e), d.msg);
        char want[64];
        snprintf(want, sizeof want, "is %zu bytes, not an 8-byte fs38 key id: not trusted", lens[i]);
        if (!strstr(d.msg, want))
            fail_msg("kid of %zu bytes: diag '%s' does not say '%s'", lens[i], d.msg, want);
    }
    /* altered (each byte in turn) */
    for (size_t i = 0; i < 8; i++) {
        kid_header(un, kid);
        un[3 + i] ^= 0x80;
        vn = reheader(msg, n, NULL, 0, un, 11, v, sizeof v);
        assert_int_equal(fs38_cose_sign1_verify(v, vn, NULL, 0, NULL, 0, &kr, &info, &d), FS38_ERR_UNTRUSTED_SIGNER);
        assert_non_null(strstr(d.msg, "is not trusted"));
    }
    /* the key id of another trusted key: only that key is tried, and it does not verify */
    kid_header(un, other_kid);
    vn = reheader(msg, n, NULL, 0, un, 11, v, sizeof v);
    assert_int_equal(fs38_cose_sign1_verify(v, vn, NULL, 0, NULL, 0, &kr, &info, &d), FS38_ERR_BAD_SIGNATURE);
    /* kid twice in the unprotected map, or in both maps */
    static const uint8_t twice_hdr[] = { 0xa2, 0x04, 0x48 };
    memcpy(un, twice_hdr, 3);
    memcpy(un + 3, kid, 8);
    un[11] = 0x04;
    un[12] = 0x48;
    memcpy(un + 13, kid, 8);
    vn = reheader(msg, n, NULL, 0, un, 21, v, sizeof v);
    assert_int_equal(fs38_cose_sign1_verify(v, vn, NULL, 0, NULL, 0, &kr, &info, &d), FS38_ERR_COSE_FORMAT);
    assert_non_null(strstr(d.msg, "kid appears more than once"));
    uint8_t prot[16] = { 0xa2, 0x01, 0x28, 0x04, 0x48 };
    memcpy(prot + 5, kid, 8);
    kid_header(un, kid);
    vn = reheader(msg, n, prot, 13, un, 11, v, sizeof v);
    assert_int_equal(fs38_cose_sign1_verify(v, vn, NULL, 0, NULL, 0, &kr, &info, &d), FS38_ERR_COSE_FORMAT);
    assert_non_null(strstr(d.msg, "kid appears more than once"));
    psa_destroy_key(k);
    psa_destroy_key(other);
    fs38_keyring_free(&kr);
}

static void test_header_rules(void **state)
{
    (void)state;
    uint8_t pt[65], msg[256];
    fs38_keyring kr;
    psa_key_id_t k = signer_in_ring(pt, &kr);
    fs38_diag d;
    size_t n = handmade("", "a10126", msg, sizeof msg); /* alg only unprotected */
    assert_int_equal(fs38_cose_sign1_verify(msg, n, NULL, 0, NULL, 0, &kr, NULL, &d), FS38_ERR_COSE_FORMAT);
    n = handmade("a0", "a0", msg, sizeof msg); /* no alg at all */
    assert_int_equal(fs38_cose_sign1_verify(msg, n, NULL, 0, NULL, 0, &kr, NULL, &d), FS38_ERR_UNSUPPORTED_ALG);
    n = handmade("a10138 22", "a0", msg, sizeof msg); /* ES384 */
    assert_int_equal(fs38_cose_sign1_verify(msg, n, NULL, 0, NULL, 0, &kr, NULL, &d), FS38_ERR_UNSUPPORTED_ALG);
    assert_string_equal(d.msg, "unsupported algorithm -35");
    n = handmade("a2012802 8101", "a0", msg, sizeof msg); /* crit */
    assert_int_equal(fs38_cose_sign1_verify(msg, n, NULL, 0, NULL, 0, &kr, NULL, &d), FS38_ERR_UNSUPPORTED_PARAM);
    n = handmade("a10128", "a0", msg, sizeof msg); /* well-formed, signature garbage */
    assert_int_equal(fs38_cose_sign1_verify(msg, n, NULL, 0, NULL, 0, &kr, NULL, &d), FS38_ERR_BAD_SIGNATURE);
    n = handmade("a10128 00", "a0", msg, sizeof msg); /* trailing byte inside protected */
    assert_int_equal(fs38_cose_sign1_verify(msg, n, NULL, 0, NULL, 0, &kr, NULL, &d), FS38_ERR_COSE_FORMAT);
    msg[0] = 0xd1; /* tag 17 on a Sign1 */
    n = handmade("a10128", "a0", msg + 0, sizeof msg);
    msg[0] = 0xd1;
    assert_int_equal(fs38_cose_sign1_verify(msg, n, NULL, 0, NULL, 0, &kr, NULL, &d), FS38_ERR_COSE_FORMAT);
    /* untagged is accepted as a Sign1 */
    n = handmade("a10128", "a0", msg, sizeof msg);
    assert_int_equal(fs38_cose_sign1_verify(msg + 1, n - 1, NULL, 0, NULL, 0, &kr, NULL, &d), FS38_ERR_BAD_SIGNATURE);
    psa_destroy_key(k);
    fs38_keyring_free(&kr);
}

static void test_mac0(void **state)
{
    (void)state;
    uint8_t key[32], msg[256];
    memset(key, 0x5a, sizeof key);
    fs38_keyring kr;
    fs38_keyring_init(&kr);
    assert_int_equal(fs38_keyring_add_hmac(&kr, key, sizeof key), FS38_OK);
    size_t n;
    assert_int_equal(fs38_cose_mac0_create(kr.a[0].key, NULL, 5, true, msg, sizeof msg, &n), FS38_ERR_ARG);
    assert_int_equal(fs38_cose_mac0_create(kr.a[0].key, payload, sizeof payload, true, msg, sizeof msg, &n), FS38_OK);
    fs38_diag d;
    assert_int_equal(fs38_cose_mac0_verify(msg, n, payload, sizeof payload, NULL, 0, &kr, NULL, &d), FS38_OK);
    for (size_t i = 0; i < n; i++) {
        msg[i] ^= 0x80;
        assert_true(fs38_cose_mac0_verify(msg, n, payload, sizeof payload, NULL, 0, &kr, NULL, &d) != FS38_OK);
        msg[i] ^= 0x80;
    }
    uint8_t other[sizeof payload];
    memcpy(other, payload, sizeof payload);
    other[0] ^= 1;
    assert_int_equal(fs38_cose_mac0_verify(msg, n, other, sizeof other, NULL, 0, &kr, NULL, &d), FS38_ERR_BAD_MAC);
    /* a signature keyring has no HMAC key */
    fs38_keyring none;
    fs38_keyring_init(&none);
    assert_int_equal(fs38_cose_mac0_verify(msg, n, payload, sizeof payload, NULL, 0, &none, NULL, &d), FS38_ERR_BAD_MAC);
    fs38_keyring_free(&kr);
}

static void test_keyring_limits(void **state)
{
    (void)state;
    fs38_keyring kr;
    fs38_keyring_init(&kr);
    uint8_t bad[65];
    memset(bad, 0x11, sizeof bad);
    bad[0] = 0x04;
    assert_int_equal(fs38_keyring_add_p256(&kr, bad, sizeof bad), FS38_ERR_ARG); /* not on the curve */
    assert_int_equal(fs38_keyring_add_p256(&kr, bad, 64), FS38_ERR_ARG);
    uint8_t pt[65];
    psa_key_id_t k = ts_gen_signer(pt);
    for (int i = 0; i < FS38_KEYRING_MAX; i++)
        assert_int_equal(fs38_keyring_add_p256(&kr, pt, sizeof pt), FS38_OK);
    assert_int_equal(fs38_keyring_add_p256(&kr, pt, sizeof pt), FS38_ERR_LIMIT);
    uint8_t hk[8] = { 0 };
    assert_int_equal(fs38_keyring_add_hmac(&kr, hk, sizeof hk), FS38_ERR_ARG);
    fs38_keyring_free(&kr);
    /* a caller-owned PSA key: the keyring does not destroy it */
    fs38_keyring_init(&kr);
    assert_int_equal(fs38_keyring_add_psa(&kr, k, FS38_KEY_P256_VERIFY), FS38_OK);
    fs38_keyring_free(&kr);
    uint8_t again[65];
    size_t n;
    assert_int_equal(psa_export_public_key(k, again, sizeof again, &n), PSA_SUCCESS);
    psa_destroy_key(k);
}

static void test_ct_compare_and_wipe(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    memset(a, 1, sizeof a);
    memcpy(b, a, sizeof b);
    assert_int_equal(fs38_ct_compare(a, b, 32), 0);
    for (size_t i = 0; i < 32; i++) {
        b[i] ^= 0x40;
        assert_true(fs38_ct_compare(a, b, 32) != 0);
        b[i] ^= 0x40;
    }
    fs38_wipe(a, sizeof a);
    for (size_t i = 0; i < 32; i++)
        assert_int_equal(a[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_verify_roundtrip), cmocka_unit_test(test_untrusted_and_wrong_key),
        cmocka_unit_test(test_header_rules),          cmocka_unit_test(test_mac0),
        cmocka_unit_test(test_keyring_limits),        cmocka_unit_test(test_ct_compare_and_wipe),
        cmocka_unit_test(test_kid_rule),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
