/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/keys.h — "a key the library can use but not read" (controls 6, 8): the seam between
 * libfs38 and wherever a device keeps its private keys. The library asks a key to sign a
 * SHA-256 digest, to agree a shared secret, to derive bytes for the sealing root, to give its
 * public half, to be (re)generated or destroyed; it never sees the private key.
 *
 * Implementations:
 *   - PSA key ids (fs38_key_psa(), here): today's behaviour, the key lives in PSA (in the
 *     sealed store when it is bound as PSA's ITS);
 *   - a TPM 2.0 (port/tpm/fs38_tpm.h: the key is a persistent TPM object, TPM2_Sign,
 *     TPM2_ECDH_ZGen, TPM2_HMAC);
 *   - designed for: a PSA secure-element driver (the same fs38_key_psa over a key whose
 *     lifetime names the SE's location), a PKCS#11 token (C_Sign with CKM_ECDSA, C_DeriveKey
 *     with CKM_ECDH1_DERIVE, C_Sign with CKM_SHA256_HMAC) or a GSMA IoT SAFE applet (COMPUTE
 *     SIGNATURE, COMPUTE DH, ...). docs/secure-elements.md maps every operation.
 *
 * Every operation is optional for an implementation (NULL: FS38_ERR_UNSUPPORTED_ALG from the
 * wrapper). Keys are ECC P-256 (sign, ecdh) or a secret for HMAC-SHA-256 (derive).
 *
 * Lifecycle: the caller owns the fs38_key struct (and whatever ctx points to); an fs38_key holds
 * no secret, only a reference (ref: a PSA key id, a TPM handle, an applet's key slot). Not
 * thread-safe beyond what the implementation offers. No allocation.
 */
#ifndef FS38_KEYS_H
#define FS38_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <psa/crypto.h>
#include "fs38/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FS38_KEY_SIG_LEN 64u    /* ECDSA P-256 signature as raw r || s (COSE's form) */
#define FS38_KEY_POINT_LEN 65u  /* uncompressed P-256 point 04 || x || y */
#define FS38_KEY_SECRET_LEN 32u /* ECDH P-256 shared secret (the x coordinate) */

typedef struct fs38_key fs38_key;

/*
 * What an implementation provides. Every callback gets the key back unchanged; it returns
 * FS38_OK or a code of fs38/err.h (FS38_ERR_NOT_FOUND: the key does not exist; FS38_ERR_IO: the
 * device holding it did not answer; FS38_ERR_CRYPTO: it refused the operation). Buffers are the
 * caller's, valid during the call only.
 */
typedef struct fs38_key_ops {
    /** ECDSA P-256 over a SHA-256 digest: hash 32 bytes in, sig 64 bytes (r || s) out. */
    fs38_err (*sign_hash)(const fs38_key *k, const uint8_t hash[32], uint8_t sig[FS38_KEY_SIG_LEN]);
    /** The public point (04 || x || y). */
    fs38_err (*public_key)(const fs38_key *k, uint8_t point[FS38_KEY_POINT_LEN]);
    /** ECDH P-256 with the peer's public point: the shared secret (x coordinate, 32 bytes). */
    fs38_err (*ecdh)(const fs38_key *k, const uint8_t peer[FS38_KEY_POINT_LEN], uint8_t secret[FS38_KEY_SECRET_LEN]);
    /** HMAC-SHA-256(key, label): 32 bytes out (the sealing root derivation). */
    fs38_err (*derive)(const fs38_key *k, const uint8_t *label, size_t label_len, uint8_t out[32]);
    /** Create the key (a P-256 signing key), replacing any key under the same reference. */
    fs38_err (*generate)(const fs38_key *k);
    /** Destroy the key; FS38_ERR_NOT_FOUND when there was none. */
    fs38_err (*destroy)(const fs38_key *k);
} fs38_key_ops;

struct fs38_key {
    const fs38_key_ops *ops; /* never NULL in a usable key */
    void *ctx;               /* the implementation's (a TPM context, a PKCS#11 session, ...) */
    uint32_t ref;            /* the key's reference: PSA key id, TPM handle, applet slot; listed
                                in decommissioning receipts */
};

/**
 * \brief Make k the PSA key id (today's behaviour: every op is psa_sign_hash /
 *        psa_export_public_key / psa_raw_key_agreement / psa_mac_compute / psa_generate_key /
 *        psa_destroy_key on that id).
 *
 * \param[out] k  Key to fill.
 * \param[in]  id PSA key id (non-zero). generate() makes a persistent ECDSA P-256 key (usage
 *                SIGN_HASH | VERIFY_HASH, PSA_ALG_ECDSA(SHA-256), not exportable) with this id.
 * \return FS38_OK; FS38_ERR_ARG when k is NULL or id is 0.
 */
FS38_NODISCARD fs38_err fs38_key_psa(fs38_key *k, psa_key_id_t id);

/**
 * \brief Is k the PSA implementation (fs38_key_psa)? For callers that need a PSA key id: Mbed
 *        TLS's opaque PK in the secure channel (a keeper outside PSA reaches Mbed TLS through a
 *        PSA driver: docs/secure-elements.md).
 * \param[in]  k  Key.
 * \param[out] id Its PSA key id on FS38_OK.
 * \return FS38_OK; FS38_ERR_ARG (NULL); FS38_ERR_UNSUPPORTED_ALG when k is kept elsewhere.
 */
FS38_NODISCARD fs38_err fs38_key_psa_id(const fs38_key *k, psa_key_id_t *id);

/**
 * \brief Sign a SHA-256 digest (ECDSA P-256).
 * \param[in]  k    Key.
 * \param[in]  hash 32 bytes.
 * \param[out] sig  64 bytes, r || s (each big-endian, left-padded to 32 bytes); undefined on error.
 * \return FS38_OK; FS38_ERR_ARG (NULL argument or key without ops); FS38_ERR_UNSUPPORTED_ALG
 *         when the key cannot sign; the implementation's code.
 */
FS38_NODISCARD fs38_err fs38_key_sign_hash(const fs38_key *k, const uint8_t hash[32], uint8_t sig[FS38_KEY_SIG_LEN]);

/**
 * \brief The public point.
 * \param[in]  k     Key.
 * \param[out] point 65 bytes, 04 || x || y.
 * \return FS38_OK; FS38_ERR_ARG; FS38_ERR_UNSUPPORTED_ALG; FS38_ERR_NOT_FOUND when the key does
 *         not exist; the implementation's code.
 */
FS38_NODISCARD fs38_err fs38_key_public(const fs38_key *k, uint8_t point[FS38_KEY_POINT_LEN]);

/**
 * \brief ECDH P-256.
 * \param[in]  k      Key (a key-agreement key).
 * \param[in]  peer   The peer's public point, 65 bytes.
 * \param[out] secret 32 bytes; the caller wipes it after use.
 * \return FS38_OK; FS38_ERR_ARG; FS38_ERR_UNSUPPORTED_ALG; the implementation's code
 *         (FS38_ERR_CRYPTO for a point not on the curve).
 */
FS38_NODISCARD fs38_err fs38_key_ecdh(const fs38_key *k, const uint8_t peer[FS38_KEY_POINT_LEN],
                                      uint8_t secret[FS38_KEY_SECRET_LEN]);

/**
 * \brief HMAC-SHA-256 of label under the key: how a sealing root is derived from a key that
 *        cannot be read (port.hardware_key can be implemented with it).
 * \param[in]  k         Key (an HMAC key).
 * \param[in]  label     label_len bytes (may be NULL when label_len is 0).
 * \param[in]  label_len Bytes, at most 1024.
 * \param[out] out       32 bytes; a secret: the caller wipes it.
 * \return FS38_OK; FS38_ERR_ARG (also label_len > 1024); FS38_ERR_UNSUPPORTED_ALG; the
 *         implementation's code.
 */
FS38_NODISCARD fs38_err fs38_key_derive(const fs38_key *k, const uint8_t *label, size_t label_len, uint8_t out[32]);

/**
 * \brief (Re)create the key inside its keeper, destroying any key under the same reference.
 * \param[in] k Key.
 * \return FS38_OK; FS38_ERR_ARG; FS38_ERR_UNSUPPORTED_ALG; FS38_ERR_STORE_FULL when the keeper
 *         has no room; the implementation's code.
 */
FS38_NODISCARD fs38_err fs38_key_generate(const fs38_key *k);

/**
 * \brief Destroy the key.
 * \param[in] k Key.
 * \return FS38_OK (destroyed); FS38_ERR_NOT_FOUND (there was none); FS38_ERR_ARG;
 *         FS38_ERR_UNSUPPORTED_ALG; the implementation's code.
 */
FS38_NODISCARD fs38_err fs38_key_destroy(const fs38_key *k);

#ifdef __cplusplus
}
#endif
#endif /* FS38_KEYS_H */
