/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/util.h — constant-time comparison, secret wiping, SHA-256 helpers.
 *
 * Stateless functions: no context, no lifecycle; safe to call from any thread (fs38_sha256
 * needs psa_crypto_init() to have been called, like every PSA user).
 */
#ifndef FS38_UTIL_H
#define FS38_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "fs38/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief Compare two buffers in time that depends only on len (for MACs, digests, nonces).
 *
 * \param[in] a    First buffer, len readable bytes (may be NULL only when len is 0).
 * \param[in] b    Second buffer, len readable bytes (may be NULL only when len is 0).
 * \param[in] len  Bytes to compare.
 * \return 0 when the buffers are equal, non-zero otherwise (not an ordering: unlike memcmp
 *         the sign means nothing).
 */
int fs38_ct_compare(const void *a, const void *b, size_t len);

/**
 * \brief Zero memory through volatile stores, so the compiler cannot drop them (for secrets).
 *
 * \param[out] p   Buffer to wipe (may be NULL only when len is 0).
 * \param[in]  len Bytes to zero.
 */
void fs38_wipe(void *p, size_t len);

/**
 * \brief SHA-256 of a buffer, computed by PSA (psa_hash_compute).
 *
 * \param[in]  p   Data, len bytes (may be NULL only when len is 0).
 * \param[in]  len Bytes to hash.
 * \param[out] out The 32-byte digest; written only on FS38_OK.
 * \return FS38_OK; FS38_ERR_CRYPTO when PSA fails (psa_crypto_init() not called, or PSA
 *         refuses). Never FS38_ERR_ARG: the pointers are not checked.
 */
FS38_NODISCARD fs38_err fs38_sha256(const uint8_t *p, size_t len, uint8_t out[32]);

#ifdef __cplusplus
}
#endif
#endif
