/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/cose.h — COSE_Sign1 and COSE_Mac0 (RFC 9052 / RFC 9053) over PSA Crypto keys.
 *
 * Algorithms: ES256 (-7) and ESP256 (-9, RFC 9864: ECDSA P-256 with SHA-256, fully
 * specified) for COSE_Sign1, signatures as raw r||s (64 bytes); HMAC 256/256 (5) for
 * COSE_Mac0. Payloads may be attached or detached (payload field `null`, bytes supplied by
 * the caller). The algorithm must be in the protected header; a `crit` header is refused.
 *
 * Keys are PSA key ids, so they can live in a secure element. A keyring is the device's
 * table of trusted keys (its "ROM" trust anchors): public P-256 keys for signatures and,
 * optionally, HMAC keys for COSE_Mac0.
 */
#ifndef FS38_COSE_H
#define FS38_COSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <psa/crypto.h>
#include "fs38/err.h"
#include "fs38/util.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FS38_COSE_ALG_ES256 (-7)
#define FS38_COSE_ALG_ESP256 (-9)
#define FS38_COSE_ALG_HMAC256 5

#define FS38_COSE_TAG_SIGN1 18
#define FS38_COSE_TAG_MAC0 17

#define FS38_KEYRING_MAX 8
#define FS38_KID_LEN 8 /* fs38 key id: first 8 bytes of SHA-256(uncompressed public point) */

typedef enum fs38_key_kind {
    FS38_KEY_P256_VERIFY = 1, /* P-256 public key: COSE_Sign1 ES256/ESP256 */
    FS38_KEY_HMAC256 = 2      /* HMAC-SHA-256 key: COSE_Mac0 alg 5 */
} fs38_key_kind;

typedef struct fs38_trust_anchor {
    psa_key_id_t key;
    fs38_key_kind kind;
    bool owned;                 /* imported by the keyring: destroyed by fs38_keyring_free */
    uint8_t kid[FS38_KID_LEN];  /* P-256: fs38 key id; HMAC: zero */
} fs38_trust_anchor;

typedef struct fs38_keyring {
    fs38_trust_anchor a[FS38_KEYRING_MAX];
    size_t n;
} fs38_keyring;

/* Empty keyring. psa_crypto_init() must have been called before adding keys. */
void fs38_keyring_init(fs38_keyring *kr);
/* Import a P-256 public key given as the 65-byte uncompressed point 04||x||y. */
FS38_NODISCARD fs38_err fs38_keyring_add_p256(fs38_keyring *kr, const uint8_t *point, size_t len);
/* Import a raw HMAC-SHA-256 key (16..64 bytes) for COSE_Mac0 verification. */
FS38_NODISCARD fs38_err fs38_keyring_add_hmac(fs38_keyring *kr, const uint8_t *key, size_t len);
/* Add an existing PSA key (e.g. held by a secure element); the keyring does not own it. */
FS38_NODISCARD fs38_err fs38_keyring_add_psa(fs38_keyring *kr, psa_key_id_t key, fs38_key_kind kind);
/* Destroy the keys the keyring imported. */
void fs38_keyring_free(fs38_keyring *kr);

/* fs38 key id of a P-256 public point: SHA-256(04||x||y)[0..8). */
FS38_NODISCARD fs38_err fs38_key_id(const uint8_t *point, size_t len, uint8_t kid[FS38_KID_LEN]);

/* What a verification found. */
typedef struct fs38_cose_info {
    int64_t alg;
    const uint8_t *kid;        /* unprotected/protected kid header, NULL if absent */
    size_t kid_len;
    const uint8_t *payload;    /* attached payload (NULL when detached) */
    size_t payload_len;
    size_t signer;             /* index of the keyring entry that verified */
} fs38_cose_info;

/*
 * Verify a COSE_Sign1 (tagged 18 or untagged) against the P-256 keys of the keyring.
 * kid rule: without a kid every P-256 key is tried; with one (in either header bucket, at
 * most once) it must be exactly an 8-byte fs38 key id of a keyring entry and only that entry
 * is tried — a kid of another length or naming no entry gives FS38_ERR_UNTRUSTED_SIGNER.
 * The unprotected kid is not signed: removing it leaves a message that still verifies.
 * `detached` supplies the payload when the message's payload is null (must be NULL
 * otherwise); `aad` is the external AAD (may be NULL/0).
 * Returns FS38_OK, FS38_ERR_COSE_FORMAT, FS38_ERR_UNSUPPORTED_ALG, FS38_ERR_UNTRUSTED_SIGNER,
 * FS38_ERR_BAD_SIGNATURE.
 */
FS38_NODISCARD fs38_err fs38_cose_sign1_verify(const uint8_t *msg, size_t len, const uint8_t *detached,
                                size_t detached_len, const uint8_t *aad, size_t aad_len,
                                const fs38_keyring *kr, fs38_cose_info *info, fs38_diag *diag);

/* Verify a COSE_Mac0 (tagged 17 or untagged, alg 5) against every HMAC key of the keyring.
 * The tag comparison is constant-time (PSA). */
FS38_NODISCARD fs38_err fs38_cose_mac0_verify(const uint8_t *msg, size_t len, const uint8_t *detached,
                               size_t detached_len, const uint8_t *aad, size_t aad_len,
                               const fs38_keyring *kr, fs38_cose_info *info, fs38_diag *diag);

/*
 * Produce a tagged COSE_Sign1 with `key` (a PSA P-256 key pair allowing
 * PSA_ALG_ECDSA(PSA_ALG_SHA_256) or PSA_ALG_DETERMINISTIC_ECDSA(PSA_ALG_SHA_256) sign_hash).
 * alg is FS38_COSE_ALG_ES256 or FS38_COSE_ALG_ESP256. kid (may be NULL) goes in the
 * unprotected header. With `detached` the payload field is null.
 */
FS38_NODISCARD fs38_err fs38_cose_sign1_sign(psa_key_id_t key, int64_t alg, const uint8_t *kid, size_t kid_len,
                              const uint8_t *payload, size_t payload_len, bool detached,
                              uint8_t *out, size_t cap, size_t *out_len);

/* Produce a tagged COSE_Mac0 (HMAC 256/256) with a PSA HMAC key allowing PSA_ALG_HMAC(SHA-256). */
FS38_NODISCARD fs38_err fs38_cose_mac0_create(psa_key_id_t key, const uint8_t *payload, size_t payload_len,
                               bool detached, uint8_t *out, size_t cap, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif /* FS38_COSE_H */
