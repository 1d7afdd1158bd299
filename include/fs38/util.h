/* SPDX-License-Identifier: Apache-2.0 */
/* fs38/util.h — constant-time comparison, secret wiping, SHA-256 helpers. */
#ifndef FS38_UTIL_H
#define FS38_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "fs38/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Constant-time comparison of len bytes: 0 when equal, non-zero otherwise. */
int fs38_ct_compare(const void *a, const void *b, size_t len);
/* Wipe memory so the compiler cannot drop the stores (for secrets). */
void fs38_wipe(void *p, size_t len);
/* SHA-256 of a buffer through PSA. */
FS38_NODISCARD fs38_err fs38_sha256(const uint8_t *p, size_t len, uint8_t out[32]);

#ifdef __cplusplus
}
#endif
#endif
