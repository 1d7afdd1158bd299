/* SPDX-License-Identifier: Apache-2.0 */
/* util.c — constant-time compare, wipe, SHA-256 convenience. */
#include <psa/crypto.h>
#include "fs38/util.h"

int fs38_ct_compare(const void *a, const void *b, size_t len)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= (uint8_t)(x[i] ^ y[i]);
    return acc;
}

void fs38_wipe(void *p, size_t len)
{
    volatile uint8_t *v = p;
    while (len--)
        *v++ = 0;
}

fs38_err fs38_sha256(const uint8_t *p, size_t len, uint8_t out[32])
{
    size_t olen = 0;
    psa_status_t st = psa_hash_compute(PSA_ALG_SHA_256, p, len, out, 32, &olen);
    return st == PSA_SUCCESS && olen == 32 ? FS38_OK : FS38_ERR_CRYPTO;
}
