/* SPDX-License-Identifier: Apache-2.0 */
/* test_decrypt.c — every draft-ietf-suit-firmware-encryption vector decrypts to its
 * plaintext, streamed in chunks of every size; tampering and wrong keys are refused. */
#include <stdlib.h>
#include <string.h>
#include "support.h"
#include "fs38/decrypt.h"

static psa_key_id_t receiver;
static uint8_t kek[16];
static uint8_t *plain;
static size_t plain_len;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
    uint8_t d[32];
    assert_int_equal(ts_unhex("60fe6dd6d85d5740a5349b6f91267eeac5ba81b8cb53ee249e4b4eb102c476b3", d, 32), 32);
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&at, PSA_ALG_ECDH);
    assert_int_equal(psa_import_key(&at, d, 32, &receiver), PSA_SUCCESS);
    memset(kek, 'a', sizeof kek);
    plain = ts_read_file("suit/encryption/plaintext.bin", &plain_len);
    assert_non_null(plain);
    assert_int_equal(plain_len, 30);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(plain);
    psa_destroy_key(receiver);
    return 0;
}

static const char *names[] = { "aeskw-a128gcm", "aeskw-a128ctr", "esdh-a128gcm", "esdh-a128ctr" };

static fs38_decrypt_keys keys_all(void)
{
    fs38_decrypt_keys k = { receiver, kek, sizeof kek, (const uint8_t *)"kid-1", 5 };
    return k;
}

/* decrypt the vector streamed in chunks of `chunk` bytes; returns the finish result */
static FS38_NODISCARD fs38_err run(const char *name, size_t chunk, const uint8_t *ct_override, size_t ct_len_override,
                    const fs38_decrypt_keys *keys, uint8_t *out, size_t *out_len)
{
    char p[128];
    size_t ei_len, ct_len;
    snprintf(p, sizeof p, "suit/encryption/%s.encryption-info.cbor", name);
    uint8_t *ei = ts_read_file(p, &ei_len);
    snprintf(p, sizeof p, "suit/encryption/%s.ciphertext.bin", name);
    uint8_t *ct = ts_read_file(p, &ct_len);
    assert_non_null(ei);
    assert_non_null(ct);
    const uint8_t *c = ct_override ? ct_override : ct;
    size_t cl = ct_override ? ct_len_override : ct_len;
    fs38_decryptor d;
    fs38_diag dg;
    fs38_err e = fs38_decrypt_begin(&d, ei, ei_len, keys, &dg);
    *out_len = 0;
    if (!e) {
        uint8_t buf[128];
        for (size_t off = 0; off < cl && !e; off += chunk) {
            size_t n = cl - off < chunk ? cl - off : chunk, o;
            e = fs38_decrypt_update(&d, c + off, n, buf, sizeof buf, &o);
            memcpy(out + *out_len, buf, o);
            *out_len += o;
        }
        size_t o = 0;
        fs38_err f = fs38_decrypt_finish(&d, buf, sizeof buf, &o);
        if (!e)
            e = f;
        memcpy(out + *out_len, buf, o);
        *out_len += o;
    }
    free(ei);
    free(ct);
    return e;
}

static void test_vectors_every_chunk_size(void **state)
{
    (void)state;
    fs38_decrypt_keys k = keys_all();
    for (size_t v = 0; v < 4; v++) {
        for (size_t chunk = 1; chunk <= 47; chunk++) {
            uint8_t out[128];
            size_t n;
            fs38_err e = run(names[v], chunk, NULL, 0, &k, out, &n);
            if (e)
                fail_msg("%s chunk %zu: %d", names[v], chunk, e);
            assert_int_equal(n, plain_len);
            assert_memory_equal(out, plain, plain_len);
        }
    }
}

static void test_kdf_context_matches_vector(void **state)
{
    (void)state;
    /* the ES-DH vectors only decrypt if the KDF context is byte-exact; parse the
     * recipient's protected header and compare against the published context */
    size_t ei_len, ctx_len;
    uint8_t *ei = ts_read_file("suit/encryption/esdh-a128gcm.encryption-info.cbor", &ei_len);
    uint8_t *ctx = ts_read_file("suit/encryption/kdf-context-esdh-a128kw.cbor", &ctx_len);
    fs38_encryption_info info;
    fs38_diag d;
    assert_int_equal(fs38_decrypt_parse(ei, ei_len, &info, &d), FS38_OK);
    assert_int_equal(info.key_alg, FS38_COSE_ALG_ECDH_ES_A128KW);
    assert_int_equal(info.content_alg, FS38_COSE_ALG_A128GCM);
    assert_int_equal(info.recipient_protected_len, 4);
    assert_memory_equal(ctx + ctx_len - 23 - 1 - 4, info.recipient_protected, 4); /* [.., 128, h'a101381c', tstr(23)] */
    free(ei);
    free(ctx);
}

/* The GCM AAD: Enc_structure ["Encrypt", protected, h''] byte for byte (RFC 9052 5.3). */
static void test_enc_structure(void **state)
{
    (void)state;
    static const uint8_t prot[] = { 0xa1, 0x01, 0x01 }; /* {1: 1} */
    static const uint8_t want[] = { 0x83, 0x67, 'E', 'n', 'c', 'r', 'y', 'p', 't', 0x43, 0xa1, 0x01, 0x01, 0x40 };
    uint8_t out[64];
    size_t n = 0;
    assert_int_equal(fs38_enc_structure(prot, sizeof prot, out, sizeof out, &n), FS38_OK);
    assert_int_equal(n, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    /* an empty protected header is h'' */
    assert_int_equal(fs38_enc_structure(NULL, 0, out, sizeof out, &n), FS38_OK);
    assert_int_equal(n, 11);
    assert_int_equal(out[9], 0x40);
    assert_int_equal(out[10], 0x40);
    /* too small, bad arguments */
    assert_int_equal(fs38_enc_structure(prot, sizeof prot, out, sizeof want - 1, &n), FS38_ERR_BUFFER);
    assert_int_equal(fs38_enc_structure(prot, sizeof prot, out, sizeof out, NULL), FS38_ERR_ARG);
    assert_int_equal(fs38_enc_structure(NULL, 1, out, sizeof out, &n), FS38_ERR_ARG);
    assert_int_equal(fs38_enc_structure(prot, sizeof prot, NULL, sizeof out, &n), FS38_ERR_ARG);
}

static void test_tampering_and_wrong_keys(void **state)
{
    (void)state;
    fs38_decrypt_keys k = keys_all();
    uint8_t out[128];
    size_t n;
    for (size_t v = 0; v < 4; v++) {
        char p[128];
        size_t ct_len;
        snprintf(p, sizeof p, "suit/encryption/%s.ciphertext.bin", names[v]);
        uint8_t *ct = ts_read_file(p, &ct_len);
        bool gcm = strstr(names[v], "gcm") != NULL;
        for (size_t i = 0; i < ct_len; i++) {
            ct[i] ^= 0x10;
            fs38_err e = run(names[v], 7, ct, ct_len, &k, out, &n);
            if (gcm)
                assert_int_equal(e, FS38_ERR_DECRYPT); /* tag */
            else
                assert_true(e == FS38_OK && memcmp(out, plain, plain_len) != 0); /* CTR: digest catches it */
            ct[i] ^= 0x10;
        }
        if (gcm) /* truncated stream: tag missing */
            for (size_t cut = 0; cut < ct_len; cut++)
                assert_int_equal(run(names[v], 5, ct, cut, &k, out, &n), FS38_ERR_DECRYPT);
        free(ct);
    }
    /* wrong KEK */
    uint8_t wrong[16];
    memset(wrong, 'b', sizeof wrong);
    fs38_decrypt_keys kw = { 0, wrong, 16, NULL, 0 };
    assert_int_equal(run("aeskw-a128gcm", 8, NULL, 0, &kw, out, &n), FS38_ERR_DECRYPT);
    /* wrong kid */
    fs38_decrypt_keys kk = { 0, kek, 16, (const uint8_t *)"kid-9", 5 };
    assert_int_equal(run("aeskw-a128ctr", 8, NULL, 0, &kk, out, &n), FS38_ERR_DECRYPT);
    /* wrong device key for ES-DH */
    uint8_t pt[65];
    psa_key_id_t other = ts_gen_ecdh(pt);
    fs38_decrypt_keys ko = { other, NULL, 0, NULL, 0 };
    assert_int_equal(run("esdh-a128ctr", 8, NULL, 0, &ko, out, &n), FS38_ERR_DECRYPT);
    psa_destroy_key(other);
    /* no key at all */
    fs38_decrypt_keys none = { 0, NULL, 0, NULL, 0 };
    assert_int_equal(run("esdh-a128gcm", 8, NULL, 0, &none, out, &n), FS38_ERR_DECRYPT);
}

static void test_ctr_seek_resumes(void **state)
{
    (void)state;
    size_t ei_len, ct_len;
    uint8_t *ei = ts_read_file("suit/encryption/esdh-a128ctr.encryption-info.cbor", &ei_len);
    uint8_t *ct = ts_read_file("suit/encryption/esdh-a128ctr.ciphertext.bin", &ct_len);
    fs38_decrypt_keys k = keys_all();
    fs38_decryptor d;
    fs38_diag dg;
    assert_int_equal(fs38_decrypt_begin(&d, ei, ei_len, &k, &dg), FS38_OK);
    assert_int_equal(fs38_decrypt_seek(&d, 16), FS38_OK);
    uint8_t out[64];
    size_t n;
    assert_int_equal(fs38_decrypt_update(&d, ct + 16, ct_len - 16, out, sizeof out, &n), FS38_OK);
    assert_int_equal(n, ct_len - 16);
    assert_memory_equal(out, plain + 16, n);
    assert_int_equal(fs38_decrypt_seek(&d, 7), FS38_ERR_ARG);
    /* a cipher that cannot be restarted (its key gone from PSA under it): refused, and the
     * decryptor is aborted — inactive, nothing half-restarted */
    psa_key_id_t cek = d.FS38_PRIVATE(cek);
    assert_int_equal(psa_destroy_key(cek), PSA_SUCCESS);
    assert_int_equal(fs38_decrypt_seek(&d, 32), FS38_ERR_CRYPTO);
    assert_int_equal(fs38_decrypt_update(&d, ct, 16, out, sizeof out, &n), FS38_ERR_STATE);
    assert_int_equal(fs38_decrypt_seek(&d, 32), FS38_ERR_STATE);
    fs38_decrypt_abort(&d); /* harmless again */
    free(ei);
    free(ct);
    /* GCM cannot seek */
    ei = ts_read_file("suit/encryption/aeskw-a128gcm.encryption-info.cbor", &ei_len);
    assert_int_equal(fs38_decrypt_begin(&d, ei, ei_len, &k, &dg), FS38_OK);
    assert_int_equal(fs38_decrypt_seek(&d, 16), FS38_ERR_STATE);
    fs38_decrypt_abort(&d);
    free(ei);
}

static void test_malformed_encryption_info(void **state)
{
    (void)state;
    fs38_decrypt_keys k = keys_all();
    for (size_t v = 0; v < 4; v++) {
        char p[128];
        size_t ei_len;
        snprintf(p, sizeof p, "suit/encryption/%s.encryption-info.cbor", names[v]);
        uint8_t *ei = ts_read_file(p, &ei_len);
        for (size_t cut = 0; cut < ei_len; cut++) {
            uint8_t *c = malloc(cut ? cut : 1);
            memcpy(c, ei, cut);
            fs38_decryptor d;
            fs38_diag dg;
            assert_true(fs38_decrypt_begin(&d, c, cut, &k, &dg) != FS38_OK);
            free(c);
        }
        /* every single-byte change: refused at init, or a different key/IV (caught by the
         * digest) — never a crash; a change to the algorithm ids is named */
        for (size_t i = 0; i < ei_len; i++) {
            ei[i] ^= 0x04;
            fs38_decryptor d;
            fs38_diag dg;
            if (fs38_decrypt_begin(&d, ei, ei_len, &k, &dg) == FS38_OK)
                fs38_decrypt_abort(&d);
            ei[i] ^= 0x04;
        }
        free(ei);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_every_chunk_size),
        cmocka_unit_test(test_kdf_context_matches_vector),
        cmocka_unit_test(test_enc_structure),
        cmocka_unit_test(test_tampering_and_wrong_keys),
        cmocka_unit_test(test_ctr_seek_resumes),
        cmocka_unit_test(test_malformed_encryption_info),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
