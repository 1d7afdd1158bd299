/* SPDX-License-Identifier: Apache-2.0 */
/*
 * suit_encrypt.h — host side of SUIT payload encryption (draft-ietf-suit-firmware-encryption):
 * encrypts an image and produces the COSE_Encrypt encryption-info a device needs.
 *
 * Content: A128CTR (-65534, random 16-byte initial counter block) or A128GCM (1, random
 * 12-byte IV, tag appended to the ciphertext). CEK: fresh random 16 bytes, wrapped with
 * A128KW (pre-shared KEK) or ECDH-ES+A128KW (ephemeral P-256 key against the device's
 * public key; KEK = HKDF-SHA-256(Z, COSE_KDF_Context)). All primitives from PSA, key wrap
 * from Mbed TLS NIST KW.
 */
#ifndef FS38_TOOLS_SUIT_ENCRYPT_H
#define FS38_TOOLS_SUIT_ENCRYPT_H

#include <stddef.h>
#include <stdint.h>
#include "fs38/err.h"

typedef struct suit_encrypt_opts {
    int64_t content_alg;          /* FS38_COSE_ALG_A128CTR or FS38_COSE_ALG_A128GCM */
    const uint8_t *device_pub;    /* 65-byte P-256 point: ECDH-ES+A128KW, or NULL */
    const uint8_t *kek;           /* 16-byte pre-shared KEK: A128KW, or NULL */
    const uint8_t *kid;           /* recipient kid (optional) */
    size_t kid_len;
} suit_encrypt_opts;

/*
 * Encrypt plain[0..n) into ct (cap >= n + 16): *ct_len = n (CTR) or n + 16 (GCM), and write
 * the encryption-info (COSE_Encrypt, tagged 96) into info (cap info_cap).
 */
fs38_err suit_encrypt(const suit_encrypt_opts *o, const uint8_t *plain, size_t n, uint8_t *ct, size_t ct_cap,
                      size_t *ct_len, uint8_t *info, size_t info_cap, size_t *info_len);

struct suit_build;
/*
 * Encrypt sb->image with o into payload (cap >= sb->image_len + 16; *payload_len bytes) and
 * the encryption-info into info (info_cap bytes), then point sb at both (enc_info, payload):
 * suit_build_envelope() then builds the encrypted form. Errors as suit_encrypt(); sb is
 * changed only on FS38_OK.
 */
fs38_err suit_build_encrypt(struct suit_build *sb, const suit_encrypt_opts *o, uint8_t *payload, size_t cap,
                            size_t *payload_len, uint8_t *info, size_t info_cap);

#endif
