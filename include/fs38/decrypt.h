/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/decrypt.h — streaming payload decryption for SUIT (draft-ietf-suit-firmware-encryption).
 *
 * The manifest's encryption-info parameter is a COSE_Encrypt (tag 96) with a detached
 * ciphertext and one recipient. Supported:
 *   content layer  A128CTR (-65534; unprotected IV of 16 bytes: the initial counter block,
 *                  incremented by one per 16-byte block; no integrity: the manifest's image
 *                  digest provides it) and A128GCM (1; protected alg, unprotected 12-byte IV,
 *                  AAD = Enc_structure ["Encrypt", protected, h''], 16-byte tag at the end of
 *                  the ciphertext stream);
 *   key transport  A128KW (-3) with a pre-shared KEK, and ECDH-ES+A128KW (-29): ephemeral
 *                  P-256 key in the recipient, static device key (a PSA key id that never
 *                  leaves the device), KEK = HKDF-SHA-256(Z, info = COSE_KDF_Context
 *                  [-3, [null,null,null], [null,null,null], [128, recipient protected,
 *                  "SUIT Payload Encryption"]]).
 * Primitives: PSA for ECDH, HKDF, AES-CTR and AES-GCM; Mbed TLS's NIST KW module for the
 * key unwrap (PSA has no key wrap). The CEK only exists as a volatile PSA key; every raw
 * intermediate (Z, KEK, CEK bytes) is wiped right after use.
 *
 * Streaming: fs38_decrypt_update() takes ciphertext in pieces of any size and returns as
 * much plaintext; RAM use is constant. For GCM the last 16 bytes of the stream are the tag:
 * the decryptor holds back 16 bytes and fs38_decrypt_finish() verifies the tag.
 */
#ifndef FS38_DECRYPT_H
#define FS38_DECRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <psa/crypto.h>
#include "fs38/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FS38_COSE_ALG_A128GCM 1
#define FS38_COSE_ALG_A128CTR (-65534)
#define FS38_COSE_ALG_A128KW (-3)
#define FS38_COSE_ALG_ECDH_ES_A128KW (-29)
#define FS38_COSE_TAG_ENCRYPT 96

/* Keys the device can unwrap with. */
typedef struct fs38_decrypt_keys {
    psa_key_id_t ecdh_key;   /* P-256 key pair allowing PSA_ALG_ECDH / USAGE_DERIVE, or 0 */
    const uint8_t *kek;      /* A128KW pre-shared key-encryption key (16 bytes), or NULL */
    size_t kek_len;
    const uint8_t *kek_kid;  /* its kid, or NULL to accept any */
    size_t kek_kid_len;
} fs38_decrypt_keys;

/* What an encryption-info says (fs38_decrypt_parse). */
typedef struct fs38_encryption_info {
    int64_t content_alg;     /* FS38_COSE_ALG_A128GCM or FS38_COSE_ALG_A128CTR */
    int64_t key_alg;         /* FS38_COSE_ALG_A128KW or FS38_COSE_ALG_ECDH_ES_A128KW */
    uint8_t iv[16];
    size_t iv_len;
    const uint8_t *content_protected; size_t content_protected_len;
    const uint8_t *recipient_protected; size_t recipient_protected_len;
    const uint8_t *kid; size_t kid_len;
    const uint8_t *wrapped_cek; size_t wrapped_cek_len;
    uint8_t ephemeral[65];   /* ECDH-ES: uncompressed ephemeral public point */
} fs38_encryption_info;

typedef struct fs38_decryptor {
    fs38_encryption_info info;
    psa_key_id_t cek;
    psa_cipher_operation_t cipher;   /* CTR */
    psa_aead_operation_t aead;       /* GCM */
    uint8_t held[16];                /* GCM: the last bytes seen, possibly the tag */
    size_t held_len;
    uint64_t in_bytes;               /* ciphertext consumed */
    bool active;
} fs38_decryptor;

/* Parse an encryption-info (COSE_Encrypt) without touching keys. */
FS38_NODISCARD fs38_err fs38_decrypt_parse(const uint8_t *enc, size_t len, fs38_encryption_info *info, fs38_diag *diag);

/* Parse, unwrap the CEK with the device's keys and start a decryption at stream offset 0. */
FS38_NODISCARD fs38_err fs38_decrypt_init(fs38_decryptor *d, const uint8_t *enc, size_t len, const fs38_decrypt_keys *keys,
                           fs38_diag *diag);
/*
 * CTR only: restart the keystream at plaintext offset `offset` (a multiple of 16), to resume
 * an interrupted download. FS38_ERR_STATE for GCM (its tag needs the whole stream).
 */
FS38_NODISCARD fs38_err fs38_decrypt_seek(fs38_decryptor *d, uint64_t offset);
/* Decrypt in[0..len) into out (cap >= len + 16); *out_len gets the bytes produced. */
FS38_NODISCARD fs38_err fs38_decrypt_update(fs38_decryptor *d, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                             size_t *out_len);
/* End of stream: GCM verifies the tag (FS38_ERR_DECRYPT on failure) and may produce the last
 * bytes into out (cap >= 16). Always releases the CEK. */
FS38_NODISCARD fs38_err fs38_decrypt_finish(fs38_decryptor *d, uint8_t *out, size_t cap, size_t *out_len);
/* Abandon a decryption; destroys the CEK. Safe on an inactive decryptor. */
void fs38_decrypt_abort(fs38_decryptor *d);
/* The COSE_KDF_Context of ECDH-ES+A128KW for SUIT: [-3, [null,null,null], [null,null,null],
 * [128, recipient_protected, "SUIT Payload Encryption"]]. */
FS38_NODISCARD fs38_err fs38_cose_kdf_context(const uint8_t *recipient_protected, size_t len, uint8_t *out, size_t cap,
                               size_t *out_len);
/* KEK = HKDF-SHA-256(salt none, IKM z, info = the KDF context), 16 bytes (both sides use it). */
FS38_NODISCARD fs38_err fs38_esdh_kek(const uint8_t *z, size_t z_len, const uint8_t *recipient_protected, size_t len,
                       uint8_t kek[16]);
/* Ciphertext bytes that a plaintext of n bytes becomes (GCM adds the 16-byte tag). */
uint64_t fs38_decrypt_ciphertext_size(int64_t content_alg, uint64_t n);

#ifdef __cplusplus
}
#endif
#endif /* FS38_DECRYPT_H */
