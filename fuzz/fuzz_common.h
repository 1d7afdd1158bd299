/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_common.h — what the fuzz targets share: the invariant check, the SUIT draft's example
 * P-256 public key and a freshly generated P-256 signing key. Define FUZZ_NAME (the target's
 * name, a string literal) before including it; CHECK failures print it.
 */
#ifndef FS38_FUZZ_COMMON_H
#define FS38_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <psa/crypto.h>
#include "fs38/cose.h"

#ifndef FUZZ_NAME
#error "define FUZZ_NAME before including fuzz_common.h"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the target: when it does not hold, say which and abort (a libFuzzer crash,
 * a failed replay test). */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, FUZZ_NAME ": invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The SUIT draft examples' signer: its P-256 public key, uncompressed (65 bytes). */
#define FUZZ_EXAMPLE_PUB_LEN 65u
static inline const uint8_t *fuzz_example_pub(void)
{
    static const uint8_t pub[FUZZ_EXAMPLE_PUB_LEN] = {
        0x04, 0x84, 0x96, 0x81, 0x1a, 0xae, 0x0b, 0xaa, 0xab, 0xd2, 0x61, 0x57, 0x18, 0x9e, 0xec, 0xda, 0x26,
        0xbe, 0xaa, 0x8b, 0xf1, 0x1b, 0x6f, 0x3f, 0xe6, 0xe2, 0xb5, 0x65, 0x9c, 0x85, 0xdb, 0xc0, 0xad, 0x3b,
        0x1f, 0x2a, 0x4b, 0x6c, 0x09, 0x81, 0x31, 0xc0, 0xa3, 0x6d, 0xac, 0xd1, 0xd7, 0x8b, 0xd3, 0x81, 0xdc,
        0xdf, 0xb0, 0x9c, 0x05, 0x2d, 0xb3, 0x39, 0x91, 0xdb, 0x73, 0x38, 0xb4, 0xa8, 0x96
    };
    return pub;
}

/* PSA initialised and the fixed keyring of the SUIT / COSE / log targets: kr->a[0] the example
 * P-256 key and, when with_hmac, kr->a[1] the HMAC-SHA-256 key 'a' * 32, whose PSA key id is
 * returned (0 without). */
static inline psa_key_id_t fuzz_example_keyring(fs38_keyring *kr, int with_hmac)
{
    CHECK(psa_crypto_init() == PSA_SUCCESS);
    fs38_keyring_init(kr);
    CHECK(fs38_keyring_add_p256(kr, fuzz_example_pub(), FUZZ_EXAMPLE_PUB_LEN) == FS38_OK);
    if (with_hmac) {
        uint8_t k[32];
        for (size_t i = 0; i < sizeof k; i++)
            k[i] = 'a';
        CHECK(fs38_keyring_add_hmac(kr, k, sizeof k) == FS38_OK);
        return kr->a[1].key;
    }
    return 0;
}

/* A new volatile ECDSA P-256 (SHA-256) signing key: *key, its public point (65 bytes) and kid.
 * PSA must be initialised. */
static inline void fuzz_p256_signer(psa_key_id_t *key, uint8_t point[65], uint8_t kid[FS38_KID_LEN])
{
    size_t n = 0;
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_SIGN_HASH);
    psa_set_key_algorithm(&at, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    CHECK(psa_generate_key(&at, key) == PSA_SUCCESS);
    CHECK(psa_export_public_key(*key, point, 65, &n) == PSA_SUCCESS && n == 65);
    CHECK(fs38_key_id(point, 65, kid) == FS38_OK);
}

#endif
