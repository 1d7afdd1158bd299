/* SPDX-License-Identifier: Apache-2.0 */
/* test_cbor.c — the bounded CBOR decoder and the encoder (RFC 8949). */
#include <stdlib.h>
#include <string.h>
#include "support.h"
#include "fs38/cbor.h"

static void decode_hex(const char *hex, fs38_cbor_dec *d, uint8_t *buf, size_t cap)
{
    size_t n = ts_unhex(hex, buf, cap);
    assert_true(n != (size_t)-1);
    fs38_cbor_dec_init(d, buf, n);
}

static void test_uints_and_ints(void **state)
{
    (void)state;
    uint8_t b[16];
    fs38_cbor_dec d;
    uint64_t u;
    int64_t i;
    decode_hex("00", &d, b, sizeof b);
    assert_int_equal(fs38_cbor_get_uint(&d, &u), FS38_OK);
    assert_int_equal(u, 0);
    decode_hex("1818", &d, b, sizeof b);
    assert_int_equal(fs38_cbor_get_uint(&d, &u), FS38_OK);
    assert_int_equal(u, 24);
    decode_hex("1b000000e8d4a51000", &d, b, sizeof b);
    assert_int_equal(fs38_cbor_get_uint(&d, &u), FS38_OK);
    assert_int_equal(u, 1000000000000ull);
    decode_hex("3863", &d, b, sizeof b);
    assert_int_equal(fs38_cbor_get_int(&d, &i), FS38_OK);
    assert_int_equal(i, -100);
    decode_hex("3bffffffffffffffff", &d, b, sizeof b); /* -2^64: outside int64 */
    assert_int_equal(fs38_cbor_get_int(&d, &i), FS38_ERR_CBOR_TYPE);
    assert_int_equal(d.pos, 0);
    decode_hex("3b7fffffffffffffff", &d, b, sizeof b); /* INT64_MIN */
    assert_int_equal(fs38_cbor_get_int(&d, &i), FS38_OK);
    assert_true(i == INT64_MIN);
    decode_hex("20", &d, b, sizeof b);
    assert_int_equal(fs38_cbor_get_uint(&d, &u), FS38_ERR_CBOR_TYPE);
}

static void test_nonminimal_rejected(void **state)
{
    (void)state;
    static const char *bad[] = { "1817", "190017", "1a00000017", "1b0000000000000017", "1900ff",
                                 "1a0000ffff", "1b00000000ffffffff", "5801ff", "980100", "d80101" };
    uint8_t b[16];
    fs38_cbor_dec d;
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        decode_hex(bad[k], &d, b, sizeof b);
        if (fs38_cbor_skip(&d) != FS38_ERR_CBOR_NONMINIMAL)
            fail_msg("accepted non-minimal %s", bad[k]);
        decode_hex(bad[k], &d, b, sizeof b);
        d.flags = FS38_CBOR_ALLOW_NONMINIMAL;
        assert_int_equal(fs38_cbor_skip(&d), FS38_OK);
    }
}

static void test_indefinite_and_reserved(void **state)
{
    (void)state;
    uint8_t b[16];
    fs38_cbor_dec d;
    static const char *indef[] = { "5fff", "7fff", "9fff", "bfff", "ff" };
    for (size_t k = 0; k < 5; k++) {
        decode_hex(indef[k], &d, b, sizeof b);
        assert_int_equal(fs38_cbor_skip(&d), FS38_ERR_CBOR_INDEFINITE);
    }
    static const char *reserved[] = { "1c", "3d", "5e", "f800" /* simple < 32 in 2 bytes */ };
    for (size_t k = 0; k < 4; k++) {
        decode_hex(reserved[k], &d, b, sizeof b);
        assert_int_equal(fs38_cbor_skip(&d), FS38_ERR_CBOR_MALFORMED);
    }
}

static void test_truncation_and_huge_lengths(void **state)
{
    (void)state;
    uint8_t b[16];
    fs38_cbor_dec d;
    /* string longer than the buffer; array / map counts larger than the bytes left */
    static const char *bad[] = { "43 0102", "5a ffffffff 00", "9a 7fffffff 00", "bb 7fffffffffffffff 00",
                                 "19 01", "82 01", "a1 01", "c1" };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        decode_hex(bad[k], &d, b, sizeof b);
        assert_int_equal(fs38_cbor_skip(&d), FS38_ERR_CBOR_TRUNCATED);
        assert_int_equal(d.pos, 0);
    }
}

static void test_depth_limit(void **state)
{
    (void)state;
    uint8_t b[64];
    for (unsigned depth = 1; depth < 40; depth++) {
        for (unsigned i = 0; i < depth; i++)
            b[i] = 0x81; /* [ [ [ ... */
        b[depth] = 0x00;
        fs38_cbor_dec d;
        fs38_cbor_dec_init(&d, b, depth + 1);
        fs38_err e = fs38_cbor_skip(&d);
        assert_int_equal(e, depth <= FS38_CBOR_MAX_DEPTH ? FS38_OK : FS38_ERR_CBOR_DEPTH);
    }
    /* tags nest too */
    memset(b, 0xc1, 30);
    b[30] = 0;
    fs38_cbor_dec d;
    fs38_cbor_dec_init(&d, b, 31);
    assert_int_equal(fs38_cbor_skip(&d), FS38_ERR_CBOR_DEPTH);
    /* a per-decoder lower limit */
    fs38_cbor_dec_init(&d, (const uint8_t *)"\x81\x81\x81\x00", 4);
    d.max_depth = 2;
    assert_int_equal(fs38_cbor_skip(&d), FS38_ERR_CBOR_DEPTH);
}

static void test_strings_maps_and_skip(void **state)
{
    (void)state;
    /* {1: h'0102', "a": [true, null, 1.5 (f97e00? no: f93e00)], 2: 6(h'')} */
    uint8_t b[64];
    fs38_cbor_dec d;
    decode_hex("a3 01 420102 6161 83 f5 f6 f93e00 02 c640", &d, b, sizeof b);
    size_t n, len;
    const uint8_t *p;
    const char *s;
    uint64_t k, tag;
    bool bv;
    assert_int_equal(fs38_cbor_get_map(&d, &n), FS38_OK);
    assert_int_equal(n, 3);
    assert_int_equal(fs38_cbor_get_uint(&d, &k), FS38_OK);
    assert_int_equal(fs38_cbor_get_bstr(&d, &p, &len), FS38_OK);
    assert_int_equal(len, 2);
    assert_int_equal(p[1], 2);
    assert_int_equal(fs38_cbor_get_tstr(&d, &s, &len), FS38_OK);
    assert_int_equal(len, 1);
    assert_int_equal(s[0], 'a');
    assert_int_equal(fs38_cbor_get_array(&d, &n), FS38_OK);
    assert_int_equal(fs38_cbor_get_bool(&d, &bv), FS38_OK);
    assert_true(bv);
    assert_true(fs38_cbor_next_is_null(&d));
    assert_int_equal(fs38_cbor_get_null(&d), FS38_OK);
    assert_int_equal(fs38_cbor_skip(&d), FS38_OK); /* half float passes through skip */
    assert_int_equal(fs38_cbor_get_uint(&d, &k), FS38_OK);
    assert_int_equal(fs38_cbor_get_tag(&d, &tag), FS38_OK);
    assert_int_equal(tag, 6);
    assert_int_equal(fs38_cbor_get_bstr(&d, &p, &len), FS38_OK);
    assert_int_equal(len, 0);
    assert_true(fs38_cbor_at_end(&d));

    decode_hex("a3 01 420102 6161 83 f5 f6 f93e00 02 c640", &d, b, sizeof b);
    assert_int_equal(fs38_cbor_skip(&d), FS38_OK);
    assert_true(fs38_cbor_at_end(&d));
    size_t total = d.len;
    assert_int_equal(fs38_cbor_check_single(b, total), FS38_OK);
    b[total] = 0;
    assert_int_equal(fs38_cbor_check_single(b, total + 1), FS38_ERR_CBOR_TRAILING);
    assert_int_equal(fs38_cbor_check_single(b, 0), FS38_ERR_CBOR_TRUNCATED);
}

static void test_every_prefix_of_valid_item_is_truncated(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n = ts_unhex("a3 01 420102 6161 83 f5 f6 f93e00 02 c6 5818 000102030405060708090a0b0c0d0e0f1011121314151617",
                        b, sizeof b);
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *c = malloc(cut ? cut : 1);
        memcpy(c, b, cut);
        assert_int_equal(fs38_cbor_check_single(c, cut), FS38_ERR_CBOR_TRUNCATED);
        free(c);
    }
    assert_int_equal(fs38_cbor_check_single(b, n), FS38_OK);
}

static void test_encoder_roundtrip(void **state)
{
    (void)state;
    static const uint64_t vals[] = { 0, 23, 24, 255, 256, 65535, 65536, 0xffffffffull, 0x100000000ull, UINT64_MAX };
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        uint8_t b[16];
        fs38_cbor_enc e;
        fs38_cbor_enc_init(&e, b, sizeof b);
        fs38_cbor_put_uint(&e, vals[k]);
        size_t n;
        assert_int_equal(fs38_cbor_enc_finish(&e, &n), FS38_OK);
        assert_int_equal(n, fs38_cbor_head_size(vals[k]));
        fs38_cbor_dec d;
        fs38_cbor_dec_init(&d, b, n);
        uint64_t u;
        assert_int_equal(fs38_cbor_get_uint(&d, &u), FS38_OK); /* minimal by construction */
        assert_true(u == vals[k]);
    }
    static const int64_t ivals[] = { -1, -24, -25, -256, -257, INT64_MIN, INT64_MAX };
    for (size_t k = 0; k < sizeof ivals / sizeof ivals[0]; k++) {
        uint8_t b[16];
        fs38_cbor_enc e;
        fs38_cbor_enc_init(&e, b, sizeof b);
        fs38_cbor_put_int(&e, ivals[k]);
        size_t n;
        assert_int_equal(fs38_cbor_enc_finish(&e, &n), FS38_OK);
        fs38_cbor_dec d;
        fs38_cbor_dec_init(&d, b, n);
        int64_t v;
        assert_int_equal(fs38_cbor_get_int(&d, &v), FS38_OK);
        assert_true(v == ivals[k]);
    }
}

static void test_encoder_overflow_sticky_and_measure(void **state)
{
    (void)state;
    uint8_t b[4];
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, b, sizeof b);
    fs38_cbor_put_array(&e, 2);
    fs38_cbor_put_bstr(&e, (const uint8_t *)"hello", 5); /* does not fit */
    fs38_cbor_put_uint(&e, 1);                           /* would fit, but the error is sticky */
    size_t n;
    assert_int_equal(fs38_cbor_enc_finish(&e, &n), FS38_ERR_BUFFER);
    fs38_cbor_enc_init(&e, NULL, 0); /* measuring */
    fs38_cbor_put_array(&e, 2);
    fs38_cbor_put_bstr(&e, (const uint8_t *)"hello", 5);
    fs38_cbor_put_uint(&e, 1000);
    assert_int_equal(fs38_cbor_enc_finish(&e, &n), FS38_OK);
    assert_int_equal(n, 1 + 6 + 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uints_and_ints),
        cmocka_unit_test(test_nonminimal_rejected),
        cmocka_unit_test(test_indefinite_and_reserved),
        cmocka_unit_test(test_truncation_and_huge_lengths),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_strings_maps_and_skip),
        cmocka_unit_test(test_every_prefix_of_valid_item_is_truncated),
        cmocka_unit_test(test_encoder_roundtrip),
        cmocka_unit_test(test_encoder_overflow_sticky_and_measure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
