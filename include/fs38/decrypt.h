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
 *
 * Lifecycle (a multi-step operation): fs38_decrypt_begin() → fs38_decrypt_update() (and, CTR
 * only, fs38_decrypt_seek()) → fs38_decrypt_finish(), or fs38_decrypt_abort() at any point.
 * An active decryptor holds a PSA key and a PSA operation: always end it. The decryptor is
 * caller-owned; no allocation. Not thread-safe per decryptor.
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

/**
 * \brief Parse an encryption-info (COSE_Encrypt, tag 96 optional) without touching keys.
 *
 * \param[in]  enc  The encoded COSE_Encrypt, len bytes (may be NULL: FS38_ERR_COSE_FORMAT).
 * \param[in]  len  Bytes.
 * \param[out] info Zeroed, then filled. Its pointer fields (content_protected,
 *                  recipient_protected, kid, wrapped_cek) point into enc and are valid as long
 *                  as the caller's enc buffer is. Partly filled on error.
 * \param[out] diag Diagnostic on failure, or NULL.
 * \return FS38_OK; FS38_ERR_COSE_FORMAT for any structural problem (malformed CBOR, wrong tag,
 *         not 4 elements, attached ciphertext, not exactly one recipient, IV / header rules,
 *         wrapped CEK not 24 bytes, ephemeral key not a P-256 COSE_Key);
 *         FS38_ERR_UNSUPPORTED_ALG for a content algorithm other than A128GCM / A128CTR or a
 *         key algorithm other than A128KW / ECDH-ES+A128KW.
 */
FS38_NODISCARD fs38_err fs38_decrypt_parse(const uint8_t *enc, size_t len, fs38_encryption_info *info, fs38_diag *diag);

/**
 * \brief Begin a decryption: parse the encryption-info, unwrap the CEK with the device's keys
 *        and start the stream at offset 0.
 *
 * \param[out] d    Decryptor (zeroed first). Active on FS38_OK: end it with
 *                  fs38_decrypt_finish() or fs38_decrypt_abort(). Inactive (nothing to
 *                  release) on any error.
 * \param[in]  enc  The encryption-info, len bytes. d->info points into it: enc must stay valid
 *                  and unchanged until the decryption ends.
 * \param[in]  len  Bytes.
 * \param[in]  keys The device's unwrap keys; read during the call only (the KEK bytes are
 *                  copied and wiped; ecdh_key is used, not kept).
 * \param[out] diag Diagnostic on failure, or NULL.
 * \return FS38_OK; errors of fs38_decrypt_parse(); FS38_ERR_DECRYPT when keys is NULL, the
 *         needed key is missing (no 16-byte KEK, no ECDH key), the kid names another KEK, ECDH
 *         fails or the unwrap fails (wrong key); FS38_ERR_BUFFER when the recipient protected
 *         header is too large for the KDF context; FS38_ERR_CRYPTO when HKDF, importing the
 *         CEK or starting the cipher fails; FS38_ERR_COSE_FORMAT when the content protected
 *         header is too large for the GCM AAD.
 * \note Secrets: Z, the KEK and the raw CEK are wiped right after use; the CEK lives on only as
 *       a volatile PSA key inside d, destroyed by finish / abort.
 */
FS38_NODISCARD fs38_err fs38_decrypt_begin(fs38_decryptor *d, const uint8_t *enc, size_t len, const fs38_decrypt_keys *keys,
                           fs38_diag *diag);

/**
 * \brief CTR only: restart the keystream at plaintext offset `offset`, to resume an
 *        interrupted download.
 *
 * \param[in,out] d      Active decryptor.
 * \param[in]     offset A multiple of 16.
 * \return FS38_OK; FS38_ERR_STATE when d is not active or uses GCM (its tag needs the whole
 *         stream); FS38_ERR_ARG when offset is not a multiple of 16; FS38_ERR_CRYPTO when the
 *         cipher cannot be restarted (d is then aborted: inactive, its CEK destroyed; calling
 *         fs38_decrypt_abort() again is harmless).
 */
FS38_NODISCARD fs38_err fs38_decrypt_seek(fs38_decryptor *d, uint64_t offset);

/**
 * \brief Decrypt the next piece of ciphertext (any size). GCM holds back the last 16 bytes
 *        seen (they may be the tag), so the output can lag the input by up to 16 bytes.
 *
 * \param[in,out] d       Active decryptor.
 * \param[in]     in      Ciphertext, len bytes (may be NULL when len is 0).
 * \param[in]     len     Bytes.
 * \param[out]    out     cap bytes; must not overlap in.
 * \param[in]     cap     At least len + 16.
 * \param[out]    out_len Must not be NULL; set to 0 first, then the plaintext bytes produced.
 * \return FS38_OK; FS38_ERR_STATE when d is not active; FS38_ERR_ARG when cap < len + 16 or
 *         in is NULL with len > 0; FS38_ERR_DECRYPT when PSA fails (d is aborted: the CEK is
 *         destroyed). GCM plaintext is unauthenticated until fs38_decrypt_finish() returns
 *         FS38_OK: do not use it before.
 */
FS38_NODISCARD fs38_err fs38_decrypt_update(fs38_decryptor *d, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                             size_t *out_len);

/**
 * \brief End of stream: GCM verifies the tag and may produce the last bytes. Always ends the
 *        decryption (the CEK is destroyed, d becomes inactive), whatever the result.
 *
 * \param[in,out] d       Active decryptor.
 * \param[out]    out     cap bytes for the last plaintext.
 * \param[in]     cap     At least 16.
 * \param[out]    out_len Must not be NULL; set to 0 first, then the bytes produced.
 * \return FS38_OK; FS38_ERR_STATE when d is not active; FS38_ERR_DECRYPT when the GCM tag does
 *         not verify (or the stream was shorter than a tag) or PSA fails.
 */
FS38_NODISCARD fs38_err fs38_decrypt_finish(fs38_decryptor *d, uint8_t *out, size_t cap, size_t *out_len);

/**
 * \brief Abandon a decryption: abort the cipher, destroy the CEK, wipe held bytes.
 *
 * \param[in,out] d Decryptor, active or not (no-op when inactive; must not be NULL).
 */
void fs38_decrypt_abort(fs38_decryptor *d);

/**
 * \brief ECDH-ES key derivation shared by the device and the host tools:
 *        KEK = HKDF-SHA-256(salt none, IKM z, info = COSE_KDF_Context), 16 bytes.
 *
 * \param[in]  z                   The ECDH shared secret, z_len bytes (not kept; the caller
 *                                 wipes it).
 * \param[in]  z_len               Bytes.
 * \param[in]  recipient_protected The recipient's protected header bytes, len bytes.
 * \param[in]  len                 Bytes.
 * \param[out] kek                 16 bytes, written on FS38_OK (a secret: wipe after use).
 * \return FS38_OK; FS38_ERR_BUFFER when the protected header makes the KDF context exceed
 *         96 bytes; FS38_ERR_CRYPTO when HKDF fails.
 */
FS38_NODISCARD fs38_err fs38_esdh_kek(const uint8_t *z, size_t z_len, const uint8_t *recipient_protected, size_t len,
                       uint8_t kek[16]);

/**
 * \brief The AAD of an A128GCM content layer, shared by the device and the host tools: the
 *        COSE Enc_structure ["Encrypt", protected, h''] (RFC 9052 section 5.3, empty external
 *        AAD), CBOR-encoded.
 *
 * \param[in]  prot     The content layer's protected header bytes (the bstr's contents), len
 *                      bytes (may be NULL when len is 0).
 * \param[in]  len      Bytes.
 * \param[out] out      cap bytes for the encoding.
 * \param[in]  cap      Bytes available at out.
 * \param[out] out_len  Must not be NULL; the encoding's length on FS38_OK.
 * \return FS38_OK; FS38_ERR_ARG when out_len is NULL, prot is NULL with len > 0 or out is NULL
 *         with cap > 0; FS38_ERR_BUFFER when the encoding does not fit in cap bytes (out then
 *         holds a truncated prefix).
 */
FS38_NODISCARD fs38_err fs38_enc_structure(const uint8_t *prot, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/**
 * \brief Ciphertext bytes that a plaintext of n bytes becomes.
 * \param[in] content_alg FS38_COSE_ALG_A128GCM or FS38_COSE_ALG_A128CTR.
 * \param[in] n           Plaintext bytes.
 * \return n + 16 for GCM (the tag), n otherwise.
 */
uint64_t fs38_decrypt_ciphertext_size(int64_t content_alg, uint64_t n);

#ifdef __cplusplus
}
#endif
#endif /* FS38_DECRYPT_H */
