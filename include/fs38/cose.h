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
 *
 * Lifecycle: fs38_keyring_init() -> fs38_keyring_add_* -> use -> fs38_keyring_free(), which
 * destroys the keys the keyring imported (not those added by id). Contexts given a keyring
 * (fs38_boot_config.trust, fs38_log_verify_config.signers) keep it by pointer: it must outlive
 * them. Verification only reads a keyring; adding and freeing are not thread-safe.
 */
#ifndef FS38_COSE_H
#define FS38_COSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <psa/crypto.h>
#include "fs38/err.h"
#include "fs38/keys.h"
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

/**
 * \brief Make an empty keyring.
 *
 * \param[out] kr Keyring to reset (must not be NULL); holds no key afterwards. psa_crypto_init()
 *                must have been called before keys are added.
 */
void fs38_keyring_init(fs38_keyring *kr);

/**
 * \brief Import a P-256 public key (trust anchor for COSE_Sign1 ES256 / ESP256) into PSA and
 *        add it, with its fs38 key id, to the keyring.
 *
 * \param[in,out] kr    Initialised keyring; changed only on FS38_OK.
 * \param[in]     point The uncompressed point 04||x||y; copied into PSA (not kept).
 * \param[in]     len   Must be 65.
 * \return FS38_OK; FS38_ERR_ARG when kr or point is NULL, len is not 65, point does not start
 *         with 0x04, or PSA refuses the import (not a point on P-256); FS38_ERR_LIMIT when the
 *         keyring already holds FS38_KEYRING_MAX keys; FS38_ERR_CRYPTO when hashing the point
 *         for its key id fails (e.g. psa_crypto_init() not called).
 * \note The imported key is owned by the keyring: fs38_keyring_free() destroys it.
 */
FS38_NODISCARD fs38_err fs38_keyring_add_p256(fs38_keyring *kr, const uint8_t *point, size_t len);

/**
 * \brief Import a raw HMAC-SHA-256 key into PSA and add it to the keyring, for COSE_Mac0
 *        verification.
 *
 * \param[in,out] kr  Initialised keyring; changed only on FS38_OK.
 * \param[in]     key len secret bytes; copied into PSA (a volatile key usable for HMAC-SHA-256
 *                    sign and verify), not kept: the caller wipes its copy.
 * \param[in]     len 16..64.
 * \return FS38_OK; FS38_ERR_ARG when kr or key is NULL or len is outside 16..64;
 *         FS38_ERR_LIMIT when the keyring is full; FS38_ERR_CRYPTO when PSA refuses the import.
 * \note The imported key is owned by the keyring: fs38_keyring_free() destroys it. HMAC
 *       entries have no key id (kid all zero).
 */
FS38_NODISCARD fs38_err fs38_keyring_add_hmac(fs38_keyring *kr, const uint8_t *key, size_t len);

/**
 * \brief Add an existing PSA key (e.g. one held by a secure element) by id; the keyring does
 *        not own it.
 *
 * \param[in,out] kr   Initialised keyring; changed only on FS38_OK.
 * \param[in]     key  PSA key id. For FS38_KEY_P256_VERIFY its public part must be exportable
 *                     (a P-256 public key or key pair): the fs38 key id is computed from it.
 *                     Its usage policy is not checked here: a key that does not allow
 *                     VERIFY_HASH with ECDSA(SHA-256) (P-256) or VERIFY_MESSAGE with
 *                     HMAC(SHA-256) (HMAC) simply never verifies anything.
 * \param[in]     kind FS38_KEY_P256_VERIFY or FS38_KEY_HMAC256 (other values are not
 *                     refused, and such an entry is never used).
 * \return FS38_OK; FS38_ERR_ARG when kr is NULL, or for FS38_KEY_P256_VERIFY when the public
 *         key cannot be exported as a 65-byte point (no such key, not P-256);
 *         FS38_ERR_CRYPTO when hashing the point fails; FS38_ERR_LIMIT when the keyring is full.
 * \note The key stays the caller's: it must outlive every use of the keyring, and
 *       fs38_keyring_free() does not destroy it.
 */
FS38_NODISCARD fs38_err fs38_keyring_add_psa(fs38_keyring *kr, psa_key_id_t key, fs38_key_kind kind);

/**
 * \brief Destroy the keys the keyring imported (fs38_keyring_add_p256 / _add_hmac) and empty
 *        it; keys added with fs38_keyring_add_psa() are left alone.
 *
 * \param[in,out] kr Keyring, initialised (already freed is fine); NULL is ignored. Afterwards it
 *                   is an empty keyring, as after fs38_keyring_init().
 */
void fs38_keyring_free(fs38_keyring *kr);

/**
 * \brief fs38 key id of a P-256 public point: the first FS38_KID_LEN bytes of SHA-256(04||x||y).
 *
 * \param[in]  point The uncompressed point, len bytes (not checked to be on the curve).
 * \param[in]  len   Must be 65.
 * \param[out] kid   FS38_KID_LEN bytes; written only on FS38_OK.
 * \return FS38_OK; FS38_ERR_ARG when point is NULL, len is not 65 or point[0] is not 0x04;
 *         FS38_ERR_CRYPTO when PSA's SHA-256 fails (psa_crypto_init() not called).
 */
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
 * Errors both verifiers give for a message that is not well formed ("COSE format errors"
 * below): FS38_ERR_COSE_FORMAT — not CBOR of the expected shape (a tag other than the
 * expected one, not an array of 4, protected header not a bstr or not a map or with trailing
 * bytes, alg in the unprotected header, kid twice or not a bstr, payload neither bstr nor null,
 * signature / tag not a bstr, trailing bytes), or an attached payload with `detached` given,
 * or a detached payload without; FS38_ERR_UNSUPPORTED_ALG — no protected alg, an alg that is
 * not an integer, or not the algorithm of this verifier; FS38_ERR_UNSUPPORTED_PARAM — a crit
 * header, or an unprotected header other than kid (text labels included).
 */

/**
 * \brief Verify a COSE_Sign1 (tagged 18 or untagged, ES256 or ESP256) against the P-256 keys
 *        of a keyring.
 *
 * kid rule: without a kid every P-256 key is tried; with one (in either header bucket, at
 * most once) it must be exactly an 8-byte fs38 key id of a keyring entry and only that entry
 * is tried. The unprotected kid is not signed: removing it leaves a message that still
 * verifies.
 *
 * \param[in]  msg          The message, len bytes (must not be NULL).
 * \param[in]  len          Bytes.
 * \param[in]  detached     The payload when the message's payload is null; must be NULL when
 *                          the payload is attached.
 * \param[in]  detached_len Its length.
 * \param[in]  aad          External AAD, aad_len bytes; NULL means none (aad_len is then
 *                          ignored).
 * \param[in]  aad_len      Bytes.
 * \param[in]  kr           Trust anchors (must not be NULL); only FS38_KEY_P256_VERIFY entries
 *                          are used.
 * \param[out] info         May be NULL. Written only on FS38_OK: alg, the kid and the attached
 *                          payload (NULL / 0 when detached) as pointers into msg (valid as long
 *                          as msg is, unchanged), and the index of the entry that verified.
 * \param[out] diag         May be NULL; says why on failure.
 * \return FS38_OK; FS38_ERR_ARG when msg or kr is NULL; the COSE format errors above (alg
 *         other than -7 / -9 is FS38_ERR_UNSUPPORTED_ALG); FS38_ERR_BAD_SIGNATURE when the
 *         signature is not 64 bytes (r||s) or no tried key verifies it (also when the keyring
 *         holds no P-256 key); FS38_ERR_UNTRUSTED_SIGNER when a kid is present but is not 8
 *         bytes or names no P-256 entry; FS38_ERR_CRYPTO when hashing the Sig_structure fails.
 */
FS38_NODISCARD fs38_err fs38_cose_sign1_verify(const uint8_t *msg, size_t len, const uint8_t *detached,
                                size_t detached_len, const uint8_t *aad, size_t aad_len,
                                const fs38_keyring *kr, fs38_cose_info *info, fs38_diag *diag);

/**
 * \brief Verify a COSE_Mac0 (tagged 17 or untagged, alg 5 = HMAC 256/256) against every HMAC
 *        key of a keyring. The tag comparison is constant-time (psa_mac_verify_finish).
 *
 * \param[in]  msg          The message, len bytes (must not be NULL).
 * \param[in]  len          Bytes.
 * \param[in]  detached     As for fs38_cose_sign1_verify().
 * \param[in]  detached_len Its length.
 * \param[in]  aad          External AAD, or NULL for none.
 * \param[in]  aad_len      Bytes.
 * \param[in]  kr           Trust anchors (must not be NULL); only FS38_KEY_HMAC256 entries are
 *                          used. A kid in the message selects nothing and is not checked.
 * \param[out] info         May be NULL; as for fs38_cose_sign1_verify() (pointers into msg).
 * \param[out] diag         May be NULL.
 * \return FS38_OK; FS38_ERR_ARG when msg or kr is NULL; the COSE format errors above (alg
 *         other than 5 is FS38_ERR_UNSUPPORTED_ALG); FS38_ERR_BAD_MAC when the tag is not 32
 *         bytes or no HMAC key verifies it (also when the keyring holds none, and when PSA
 *         fails during a MAC: never FS38_ERR_CRYPTO).
 */
FS38_NODISCARD fs38_err fs38_cose_mac0_verify(const uint8_t *msg, size_t len, const uint8_t *detached,
                               size_t detached_len, const uint8_t *aad, size_t aad_len,
                               const fs38_keyring *kr, fs38_cose_info *info, fs38_diag *diag);

/**
 * \brief Produce a tagged COSE_Sign1 (protected header {alg}, empty external AAD).
 *
 * \param[in]  key         A PSA P-256 key pair allowing sign_hash with
 *                         PSA_ALG_ECDSA(PSA_ALG_SHA_256) or
 *                         PSA_ALG_DETERMINISTIC_ECDSA(PSA_ALG_SHA_256) (the key's own ECDSA
 *                         algorithm is used; ECDSA(SHA-256) otherwise).
 * \param[in]  alg         FS38_COSE_ALG_ES256 or FS38_COSE_ALG_ESP256.
 * \param[in]  kid         Goes in the unprotected header; NULL (or kid_len 0) for none.
 * \param[in]  kid_len     Bytes.
 * \param[in]  payload     payload_len bytes (may be NULL only when payload_len is 0); signed
 *                         in either case.
 * \param[in]  payload_len Bytes.
 * \param[in]  detached    true: the message's payload field is null (the verifier supplies
 *                         the bytes).
 * \param[out] out         cap bytes; NULL measures (nothing written, *out_len = size needed).
 * \param[in]  cap         Capacity of out.
 * \param[out] out_len     May be NULL. Bytes written on FS38_OK; on FS38_ERR_BUFFER the bytes
 *                         written before the item that did not fit (not the size needed).
 * \return FS38_OK; FS38_ERR_UNSUPPORTED_ALG for another alg; FS38_ERR_ARG when payload is NULL
 *         with a length, or key names no key (its attributes cannot be read); FS38_ERR_CRYPTO
 *         when hashing fails or PSA refuses to sign (not a P-256 key pair, usage or algorithm
 *         not allowed); FS38_ERR_BUFFER when out is too small.
 */
FS38_NODISCARD fs38_err fs38_cose_sign1_sign(psa_key_id_t key, int64_t alg, const uint8_t *kid, size_t kid_len,
                              const uint8_t *payload, size_t payload_len, bool detached,
                              uint8_t *out, size_t cap, size_t *out_len);

/**
 * \brief The same as fs38_cose_sign1_sign(), signed through the key interface (fs38/keys.h):
 *        the key may live in PSA, a TPM, a secure element; only its sign_hash is called.
 *
 * \param[in] key A key whose sign_hash gives ECDSA P-256 over SHA-256 (must not be NULL).
 * \return As fs38_cose_sign1_sign(), except: FS38_ERR_ARG when key is NULL; the key's own code
 *         when it fails to sign (FS38_ERR_IO: its keeper did not answer; FS38_ERR_NOT_FOUND: no
 *         such key; FS38_ERR_CRYPTO: refused, also for a key without sign_hash).
 */
FS38_NODISCARD fs38_err fs38_cose_sign1_sign_key(const fs38_key *key, int64_t alg, const uint8_t *kid, size_t kid_len,
                                                 const uint8_t *payload, size_t payload_len, bool detached,
                                                 uint8_t *out, size_t cap, size_t *out_len);

/**
 * \brief Produce a tagged COSE_Mac0 (HMAC 256/256, protected header {alg: 5}, no kid, empty
 *        external AAD).
 *
 * \param[in]  key         A PSA HMAC key allowing PSA_ALG_HMAC(PSA_ALG_SHA_256) sign_message.
 * \param[in]  payload     payload_len bytes; must not be NULL when payload_len > 0 (not
 *                         checked). MACed in either case.
 * \param[in]  payload_len Bytes.
 * \param[in]  detached    true: the message's payload field is null.
 * \param[out] out         cap bytes; NULL measures, as for fs38_cose_sign1_sign().
 * \param[in]  cap         Capacity of out.
 * \param[out] out_len     May be NULL; as for fs38_cose_sign1_sign().
 * \return FS38_OK; FS38_ERR_ARG when payload is NULL with a non-zero payload_len;
 *         FS38_ERR_CRYPTO when PSA refuses the MAC (no such key, not an HMAC key, usage or
 *         algorithm not allowed); FS38_ERR_BUFFER when out is too small.
 */
FS38_NODISCARD fs38_err fs38_cose_mac0_create(psa_key_id_t key, const uint8_t *payload, size_t payload_len,
                               bool detached, uint8_t *out, size_t cap, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif /* FS38_COSE_H */
