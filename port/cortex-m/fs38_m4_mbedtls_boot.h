/* SPDX-License-Identifier: Apache-2.0 */
/* fs38_m4_mbedtls_boot.h — Mbed TLS 3.6 configuration of the bootloader (fs38-boot.elf):
 * PSA Crypto with SHA-256 and ECDSA P-256 verification by the p256-m driver, static key slots
 * (no heap), no RNG (boot never draws a random number: the external RNG hook fails). */
#ifndef FS38_M4_MBEDTLS_BOOT_H
#define FS38_M4_MBEDTLS_BOOT_H

#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_CRYPTO_CONFIG
#define MBEDTLS_PSA_CRYPTO_CONFIG_FILE "fs38_m4_psa_boot.h"
#define MBEDTLS_PSA_P256M_DRIVER_ENABLED
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG
#define MBEDTLS_PSA_STATIC_KEY_SLOTS
#define MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS
#define MBEDTLS_PSA_KEY_SLOT_COUNT 2
#define MBEDTLS_PSA_STATIC_KEY_SLOT_BUFFER_SIZE 65
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_HAVE_ASM

#endif
