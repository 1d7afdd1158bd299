/* SPDX-License-Identifier: Apache-2.0 */
/* test_keys.c — the key interface (fs38/keys.h): the PSA implementation (sign verifies, public
 * key, ECDH agrees both ways, derive is HMAC-SHA-256, generate / destroy), argument and
 * unsupported-operation errors, and a keeper that is not PSA (a stand-in for a TPM or an IoT SAFE
 * applet, counting its calls) used by the identity through fs38_identity_use_key: provisioning
 * generates in the keeper, the attestation token is signed by it and verifies, the keeper going
 * away is FS38_ERR_IO, and decommissioning destroys the key in the keeper. */
#include <string.h>
#include "support.h"
#include "fs38/attest.h"
#include "fs38/cose.h"
#include "fs38/decommission.h"
#include "fs38/keys.h"

#define SS 4096u
#define FLASH_SIZE (16u * SS)

static psa_key_id_t volatile_key(psa_key_usage_t usage, psa_algorithm_t alg, psa_key_type_t type, size_t bits)
{
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t id = 0;
    psa_set_key_type(&at, type);
    psa_set_key_bits(&at, bits);
    psa_set_key_usage_flags(&at, usage);
    psa_set_key_algorithm(&at, alg);
    assert_int_equal(psa_generate_key(&at, &id), PSA_SUCCESS);
    return id;
}

static void psa_implementation(void **state)
{
    (void)state;
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
    fs38_key k, a, b, h;
    uint8_t hash[32], sig[64], point[65], pa[65], pb[65], za[32], zb[32], mac[32], ref[32];
    size_t n = 0;
    assert_int_equal(fs38_key_psa(NULL, 1), FS38_ERR_ARG);
    assert_int_equal(fs38_key_psa(&k, 0), FS38_ERR_ARG);
    const psa_key_id_t sk = volatile_key(PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH,
                                         PSA_ALG_ECDSA(PSA_ALG_SHA_256),
                                         PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256);
    assert_int_equal(fs38_key_psa(&k, sk), FS38_OK);
    assert_int_equal(k.ref, (uint32_t)sk);
    memset(hash, 0x5a, sizeof hash);
    assert_int_equal(fs38_key_sign_hash(&k, hash, sig), FS38_OK);
    assert_int_equal(psa_verify_hash(sk, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, 32, sig, 64), PSA_SUCCESS);
    hash[0] ^= 1;
    assert_int_not_equal(psa_verify_hash(sk, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, 32, sig, 64), PSA_SUCCESS);
    assert_int_equal(fs38_key_public(&k, point), FS38_OK);
    assert_int_equal(psa_export_public_key(sk, pa, sizeof pa, &n), PSA_SUCCESS);
    assert_memory_equal(point, pa, 65);
    assert_int_equal(fs38_key_sign_hash(&k, NULL, sig), FS38_ERR_ARG);
    /* a signing key does not agree keys: PSA refuses, the interface says CRYPTO */
    assert_int_equal(fs38_key_ecdh(&k, pa, za), FS38_ERR_CRYPTO);

    /* ECDH both ways */
    const psa_key_id_t ka = volatile_key(PSA_KEY_USAGE_DERIVE, PSA_ALG_ECDH,
                                         PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256);
    const psa_key_id_t kb = volatile_key(PSA_KEY_USAGE_DERIVE, PSA_ALG_ECDH,
                                         PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256);
    assert_int_equal(fs38_key_psa(&a, ka), FS38_OK);
    assert_int_equal(fs38_key_psa(&b, kb), FS38_OK);
    assert_int_equal(fs38_key_public(&a, pa), FS38_OK);
    assert_int_equal(fs38_key_public(&b, pb), FS38_OK);
    assert_int_equal(fs38_key_ecdh(&a, pb, za), FS38_OK);
    assert_int_equal(fs38_key_ecdh(&b, pa, zb), FS38_OK);
    assert_memory_equal(za, zb, 32);
    pb[40] ^= 1; /* not on the curve */
    assert_int_equal(fs38_key_ecdh(&a, pb, za), FS38_ERR_CRYPTO);

    /* derive = HMAC-SHA-256(key, label) */
    const psa_key_id_t hk = volatile_key(PSA_KEY_USAGE_SIGN_MESSAGE, PSA_ALG_HMAC(PSA_ALG_SHA_256),
                                         PSA_KEY_TYPE_HMAC, 256);
    assert_int_equal(fs38_key_psa(&h, hk), FS38_OK);
    assert_int_equal(fs38_key_derive(&h, (const uint8_t *)"fs38 sealing root v1", 20, mac), FS38_OK);
    assert_int_equal(psa_mac_compute(hk, PSA_ALG_HMAC(PSA_ALG_SHA_256), (const uint8_t *)"fs38 sealing root v1", 20,
                                     ref, sizeof ref, &n),
                     PSA_SUCCESS);
    assert_memory_equal(mac, ref, 32);
    assert_int_equal(fs38_key_derive(&h, NULL, 1, mac), FS38_ERR_ARG);
    assert_int_equal(fs38_key_derive(&h, mac, 1025, mac), FS38_ERR_ARG);

    /* destroy, then the key is gone */
    assert_int_equal(fs38_key_destroy(&k), FS38_OK);
    assert_int_equal(fs38_key_destroy(&k), FS38_ERR_NOT_FOUND);
    assert_int_equal(fs38_key_public(&k, point), FS38_ERR_NOT_FOUND);
    assert_int_equal(fs38_key_destroy(&a), FS38_OK);
    assert_int_equal(fs38_key_destroy(&b), FS38_OK);
    assert_int_equal(fs38_key_destroy(&h), FS38_OK);
    mbedtls_psa_crypto_free();
}

/* ---- a keeper that is not PSA ---------------------------------------------------------------- */

typedef struct keeper {
    psa_key_id_t inside; /* the keeper's own key (here a volatile PSA key, out of the library's sight) */
    bool present, gone;  /* gone: the keeper does not answer */
    unsigned signs, generates, destroys;
} keeper;

static fs38_err k_sign(const fs38_key *k, const uint8_t hash[32], uint8_t sig[64])
{
    keeper *kp = k->ctx;
    size_t n = 0;
    if (kp->gone)
        return FS38_ERR_IO;
    if (!kp->present)
        return FS38_ERR_NOT_FOUND;
    kp->signs++;
    return psa_sign_hash(kp->inside, PSA_ALG_ECDSA(PSA_ALG_SHA_256), hash, 32, sig, 64, &n) == PSA_SUCCESS ? FS38_OK
                                                                                                       : FS38_ERR_CRYPTO;
}

static fs38_err k_public(const fs38_key *k, uint8_t point[65])
{
    keeper *kp = k->ctx;
    size_t n = 0;
    if (kp->gone)
        return FS38_ERR_IO;
    if (!kp->present)
        return FS38_ERR_NOT_FOUND;
    return psa_export_public_key(kp->inside, point, 65, &n) == PSA_SUCCESS ? FS38_OK : FS38_ERR_CRYPTO;
}

static fs38_err k_generate(const fs38_key *k)
{
    keeper *kp = k->ctx;
    if (kp->gone)
        return FS38_ERR_IO;
    if (kp->present)
        (void)psa_destroy_key(kp->inside);
    kp->inside = volatile_key(PSA_KEY_USAGE_SIGN_HASH, PSA_ALG_ECDSA(PSA_ALG_SHA_256),
                              PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256);
    kp->present = true;
    kp->generates++;
    return FS38_OK;
}

static fs38_err k_destroy(const fs38_key *k)
{
    keeper *kp = k->ctx;
    if (kp->gone)
        return FS38_ERR_IO;
    if (!kp->present)
        return FS38_ERR_NOT_FOUND;
    (void)psa_destroy_key(kp->inside);
    kp->present = false;
    kp->destroys++;
    return FS38_OK;
}

static const fs38_key_ops keeper_ops = { k_sign, k_public, NULL, NULL, k_generate, k_destroy };

static void identity_in_another_keeper(void **state)
{
    (void)state;
    static ts_device d;
    static fs38_attest_ctx ctx;
    static fs38_decommission_ctx dc;
    static uint8_t tok[FS38_EAT_MAX], receipt[FS38_RECEIPT_MAX];
    keeper kp;
    memset(&kp, 0, sizeof kp);
    const fs38_key key = { &keeper_ops, &kp, 0x81380001u };
    fs38_identity id;
    fs38_keyring kr;
    fs38_eat_claims claims;
    uint8_t point[65], nonce[16];
    size_t len = 0;
    memset(nonce, 7, sizeof nonce);
    ts_device_new(&d, FLASH_SIZE, (fs38_store_config){ NULL, 0, 4u * SS, SS });
    assert_int_equal(fs38_identity_init(&id, &d.s, 0x00380003u), FS38_OK);
    const fs38_key bad = { NULL, NULL, 1 };
    assert_int_equal(fs38_identity_use_key(&id, &bad), FS38_ERR_ARG);
    assert_int_equal(fs38_identity_use_key(&id, &key), FS38_OK);
    assert_int_equal(fs38_identity_provision(&id), FS38_OK);
    assert_int_equal(kp.generates, 1);
    /* no PSA key was made: the PSA id is not the device key, and signing_key says so */
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    assert_int_not_equal(psa_get_key_attributes(0x00380003u, &at), PSA_SUCCESS);
    psa_key_id_t pid = 0;
    assert_int_equal(fs38_identity_signing_key(&id, &pid), FS38_ERR_UNSUPPORTED_ALG);
    const fs38_key *got = NULL;
    assert_int_equal(fs38_identity_device_key(&id, &got), FS38_OK);
    assert_ptr_equal(got, &key);

    /* the token is signed in the keeper and verifies with its public key */
    assert_int_equal(fs38_identity_public_key(&id, point), FS38_OK);
    fs38_keyring_init(&kr);
    assert_int_equal(fs38_keyring_add_p256(&kr, point, 65), FS38_OK);
    fs38_attest_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.id = &id;
    assert_int_equal(fs38_attest(&ctx, &cfg, nonce, sizeof nonce, tok, sizeof tok, &len), FS38_OK);
    assert_int_equal(kp.signs, 1);
    assert_int_equal(fs38_eat_verify(tok, len, &kr, nonce, sizeof nonce, &claims, NULL, NULL), FS38_OK);

    /* the keeper goes away: the token fails with its code, nothing is written */
    kp.gone = true;
    assert_int_equal(fs38_attest(&ctx, &cfg, nonce, sizeof nonce, tok, sizeof tok, &len), FS38_ERR_IO);
    assert_true(ctx.diag.msg[0] != 0);
    kp.gone = false;

    /* decommissioning destroys the key in the keeper and the receipt lists its reference and the
     * released objects */
    const uint32_t released[2] = { 0x81380002u, 0x01380000u };
    fs38_decommission_config dcfg;
    memset(&dcfg, 0, sizeof dcfg);
    dcfg.id = &id;
    dcfg.port = &d.f.port;
    dcfg.released = released;
    dcfg.n_released = 2;
    assert_int_equal(fs38_decommission(&dc, &dcfg, receipt, sizeof receipt, &len), FS38_OK);
    assert_int_equal(kp.destroys, 1);
    assert_false(kp.present);
    assert_int_equal(dc.keys_destroyed, 1);
    fs38_receipt_claims rc;
    assert_int_equal(fs38_receipt_verify(receipt, len, &kr, NULL, 0, &rc, NULL, NULL), FS38_OK);
    assert_int_equal(rc.n_keys, 3);
    assert_int_equal(rc.keys[0], 0x81380001u);
    assert_int_equal(rc.keys[1], 0x81380002u);
    assert_int_equal(rc.keys[2], 0x01380000u);
    fs38_keyring_free(&kr);
    ts_device_free(&d, false);
}

static void unsupported_operations(void **state)
{
    (void)state;
    static const fs38_key_ops none = { NULL, NULL, NULL, NULL, NULL, NULL };
    const fs38_key k = { &none, NULL, 9 };
    uint8_t b[65], s[64];
    memset(b, 0, sizeof b);
    assert_int_equal(fs38_key_sign_hash(&k, b, s), FS38_ERR_UNSUPPORTED_ALG);
    assert_int_equal(fs38_key_public(&k, b), FS38_ERR_UNSUPPORTED_ALG);
    assert_int_equal(fs38_key_ecdh(&k, b, s), FS38_ERR_UNSUPPORTED_ALG);
    assert_int_equal(fs38_key_derive(&k, b, 3, s), FS38_ERR_UNSUPPORTED_ALG);
    assert_int_equal(fs38_key_generate(&k), FS38_ERR_UNSUPPORTED_ALG);
    assert_int_equal(fs38_key_destroy(&k), FS38_ERR_UNSUPPORTED_ALG);
    assert_int_equal(fs38_key_destroy(NULL), FS38_ERR_ARG);
    /* a COSE_Sign1 through a key that cannot sign is a crypto failure */
    assert_int_equal(fs38_cose_sign1_sign_key(&k, FS38_COSE_ALG_ES256, NULL, 0, b, 3, false, NULL, 0, NULL),
                     FS38_ERR_CRYPTO);
    assert_int_equal(fs38_cose_sign1_sign_key(NULL, FS38_COSE_ALG_ES256, NULL, 0, b, 3, false, NULL, 0, NULL),
                     FS38_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(psa_implementation),
        cmocka_unit_test(identity_in_another_keeper),
        cmocka_unit_test(unsupported_operations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
