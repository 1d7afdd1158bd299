/* SPDX-License-Identifier: Apache-2.0 */
/* fs38_m4_mbedtls_app.h — Mbed TLS 3.6 configuration of the application (fs38-app.elf): PSA
 * Crypto for the update agent (SHA-256, ECDSA verify and ECDH on P-256 by p256-m, HKDF-SHA-256,
 * AES-128 CTR / GCM, the A128KW key unwrap through NIST_KW), static key slots, and a CTR_DRBG
 * seeded from the NV seed only (the board has no TRNG: the seed is provisioned at the factory
 * and rewritten at each boot, see docs/porting.md). */
#ifndef FS38_M4_MBEDTLS_APP_H
#define FS38_M4_MBEDTLS_APP_H

#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_CRYPTO_CONFIG
#define MBEDTLS_PSA_CRYPTO_CONFIG_FILE "fs38_m4_psa_app.h"
#define MBEDTLS_PSA_P256M_DRIVER_ENABLED
#define MBEDTLS_PSA_STATIC_KEY_SLOTS
#define MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS
#define MBEDTLS_PSA_KEY_SLOT_COUNT 6
#define MBEDTLS_PSA_STATIC_KEY_SLOT_BUFFER_SIZE 72
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_HAVE_ASM

#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_NIST_KW_C
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_ENTROPY_FORCE_SHA256
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_ENTROPY_NV_SEED
#define MBEDTLS_PLATFORM_NV_SEED_READ_MACRO m4_nv_seed_read
#define MBEDTLS_PLATFORM_NV_SEED_WRITE_MACRO m4_nv_seed_write
int m4_nv_seed_read(unsigned char *buf, __SIZE_TYPE__ len);
int m4_nv_seed_write(unsigned char *buf, __SIZE_TYPE__ len);

#endif
