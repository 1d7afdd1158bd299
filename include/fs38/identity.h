/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/identity.h — the device's own identity (controls 6 and 8): a UEID, a device key that is
 * generated inside the device and never leaves it, the certificate the manufacturer's CA
 * issued for that key, and the lifecycle state. Everything is kept in the sealed store
 * (fs38/store.h); the key is a persistent PSA key, so it is kept there too once the store is
 * bound as PSA's internal trusted storage (fs38_its_bind).
 *
 *   UEID           RFC 9711 §4.2.1 type RAND: 0x01 followed by 16 bytes from PSA's DRBG
 *                  (psa_generate_random). Record "id/ueid" (17 bytes).
 *   device key     persistent PSA key (id chosen by the caller): ECDSA P-256, usage
 *                  SIGN_HASH | VERIFY_HASH, algorithm PSA_ALG_ECDSA(PSA_ALG_SHA_256), no EXPORT
 *                  usage: only its public half can leave PSA. It signs the CSR, attestation
 *                  tokens (fs38/attest.h) and decommissioning receipts (fs38/decommission.h).
 *   certificate    DER, as issued (record "id/cert"), accepted only for this key.
 *   lifecycle      record "id/lc" (1 byte, absent = blank):
 *
 *     blank ──provision──▶ provisioned ──install cert──▶ operational
 *       ▲                       │                            │
 *       │                       └──────── decommission ──────┤
 *       │                                                    ▼
 *     provision ◀── decommissioned ◀── (keys destroyed, ── decommissioning
 *                                       regions erased)
 *
 * Provisioning is power-safe: the key and the UEID are written first and the lifecycle record
 * last, so a cut leaves a blank device (whose leftover key is destroyed by the next
 * provisioning) or a provisioned one. The device key is handed out (fs38_identity_signing_key)
 * only in the provisioned and operational states: once decommissioning has begun nothing can
 * use it, even if the power is cut before it is destroyed.
 *
 * Lifecycle: fs38_identity_init() → calls; the context holds no resource (the key lives in
 * PSA, the records in the store), so there is no teardown — but the store it points to must
 * stay open while it is used. The context is caller-owned and holds no secret. Not
 * thread-safe (nor is the store under it; see fs38/port.h).
 */
#ifndef FS38_IDENTITY_H
#define FS38_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <psa/crypto.h>
#include "fs38/err.h"
#include "fs38/keys.h"
#include "fs38/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FS38_UEID_TYPE_RAND 0x01u
#define FS38_UEID_LEN 17u          /* type byte + 16 random bytes */
#define FS38_P256_POINT_LEN 65u    /* uncompressed public point 04 || x || y */
#define FS38_CERT_MAX 1000u        /* largest certificate (DER) kept in the store */

typedef enum fs38_lifecycle {
    FS38_LIFECYCLE_BLANK = 0,           /* no identity (never provisioned, or erased) */
    FS38_LIFECYCLE_PROVISIONED = 1,     /* key + UEID generated; no certificate yet */
    FS38_LIFECYCLE_OPERATIONAL = 2,     /* certificate installed */
    FS38_LIFECYCLE_DECOMMISSIONING = 3, /* decommissioning begun, not finished: key unusable */
    FS38_LIFECYCLE_DECOMMISSIONED = 4   /* keys destroyed, regions erased; may be provisioned again */
} fs38_lifecycle;

typedef struct fs38_identity {
    fs38_store *store;  /* open sealed store (bound with fs38_its_bind for the key) */
    psa_key_id_t key;   /* persistent key id of the device key (the PSA implementation's) */
    fs38_key psa_key;   /* the key interface over that PSA id (fs38_key_psa) */
    const fs38_key *dev_key; /* the device key used: &psa_key, or fs38_identity_use_key()'s */
    fs38_diag diag;     /* why the last call failed */
} fs38_identity;

/*
 * "Store errors" below: what fs38_store_get() / fs38_store_put() / fs38_store_delete() can
 * return for the records involved (FS38_ERR_STATE for a store that is not open or broken,
 * FS38_ERR_STORE_CORRUPT, FS38_ERR_STORE_FULL and FS38_ERR_LIMIT on writes, FS38_ERR_CRYPTO,
 * FS38_ERR_IO / FS38_ERR_POWER or the port's code). After every failed call id->diag says why.
 */

/**
 * \brief Set up a context; nothing is read yet.
 *
 * \param[out] id    Context to fill (zeroed first).
 * \param[in]  store Sealed store, kept by pointer: it must be open whenever id is used and
 *                   outlive id; bind it with fs38_its_bind() so the device key persists.
 * \param[in]  key   Persistent PSA key id of the device key (non-zero).
 * \return FS38_OK; FS38_ERR_ARG when id or store is NULL or key is 0.
 */
FS38_NODISCARD fs38_err fs38_identity_init(fs38_identity *id, fs38_store *store, psa_key_id_t key);

/**
 * \brief Keep the device key somewhere else than PSA (a TPM, a secure element, an IoT SAFE
 *        applet): every later use of the device key (provisioning's generation, the public
 *        key, signatures of tokens, receipts, CSRs; decommissioning's destruction) goes through
 *        key. Call right after fs38_identity_init(), before any other call.
 *
 * \param[in,out] id  Context.
 * \param[in]     key Kept by pointer (must outlive id); needs sign_hash, public_key, generate
 *                    and destroy (fs38/keys.h). key->ref is what receipts list.
 * \return FS38_OK; FS38_ERR_ARG when id or key is NULL or key has no ops.
 */
FS38_NODISCARD fs38_err fs38_identity_use_key(fs38_identity *id, const fs38_key *key);

/**
 * \brief The device key through the key interface, for signing — only in the provisioned and
 *        operational states (as fs38_identity_signing_key()).
 *
 * \param[in,out] id  Context.
 * \param[out]    key Written on FS38_OK only; owned by id (or its fs38_identity_use_key caller).
 * \return FS38_OK; FS38_ERR_ARG when id or key is NULL; FS38_ERR_NOT_PROVISIONED;
 *         FS38_ERR_DECOMMISSIONED; errors of fs38_identity_lifecycle().
 */
FS38_NODISCARD fs38_err fs38_identity_device_key(fs38_identity *id, const fs38_key **key);

/**
 * \brief Read the lifecycle state.
 *
 * \param[in,out] id Context (id->diag written on failure).
 * \param[out]    lc The state on FS38_OK; FS38_LIFECYCLE_BLANK when no state was ever recorded.
 * \return FS38_OK; FS38_ERR_ARG when id, its store or lc is NULL; FS38_ERR_STORE_CORRUPT when
 *         the record is not one valid byte; FS38_ERR_BUFFER when the record is longer than one
 *         byte (it is only ever written by fs38_identity_set_lifecycle, so this means the record
 *         was written by something else); store errors.
 */
FS38_NODISCARD fs38_err fs38_identity_lifecycle(fs38_identity *id, fs38_lifecycle *lc);

/**
 * \brief Record a lifecycle state (used by provisioning and decommissioning; no transition
 *        rules are checked here).
 *
 * \param[in,out] id Context.
 * \param[in]     lc FS38_LIFECYCLE_BLANK .. FS38_LIFECYCLE_DECOMMISSIONED.
 * \return FS38_OK; FS38_ERR_ARG when id or its store is NULL or lc is out of range; store
 *         errors of fs38_store_put().
 */
FS38_NODISCARD fs38_err fs38_identity_set_lifecycle(fs38_identity *id, fs38_lifecycle lc);

/**
 * \brief Name of a lifecycle state.
 * \param[in] lc A state.
 * \return A static string: "blank", "provisioned", "operational", "decommissioning",
 *         "decommissioned" or "unknown"; never NULL.
 */
const char *fs38_lifecycle_name(fs38_lifecycle lc);

/**
 * \brief Give the device its identity: a new UEID and a new device key generated inside PSA
 *        (any leftover key with the same id, e.g. from an interrupted provisioning or an
 *        earlier life of the device, is destroyed first); any earlier certificate is deleted.
 *        Allowed when blank or decommissioned. Raises FS38_EV_PROVISIONED.
 *
 * \param[in,out] id Context.
 * \return FS38_OK; FS38_ERR_ARG when id or its store is NULL; FS38_ERR_PROVISIONED when
 *         provisioned or operational; FS38_ERR_DECOMMISSIONED while a decommissioning is
 *         unfinished; FS38_ERR_STORE_FULL when PSA has no room for the key
 *         (PSA_ERROR_INSUFFICIENT_STORAGE) or the store none for the records; FS38_ERR_CRYPTO
 *         when key or UEID generation fails; errors of fs38_identity_lifecycle(); store errors.
 * \note Power-safe: the lifecycle record is written last (the commit point).
 */
FS38_NODISCARD fs38_err fs38_identity_provision(fs38_identity *id);

/**
 * \brief Read the UEID.
 *
 * \param[in,out] id   Context.
 * \param[out]    ueid FS38_UEID_LEN bytes (type FS38_UEID_TYPE_RAND + 16 random bytes);
 *                     its content is undefined on error.
 * \return FS38_OK; FS38_ERR_ARG when id, its store or ueid is NULL; FS38_ERR_NOT_PROVISIONED
 *         when there is no UEID record; FS38_ERR_STORE_CORRUPT when the record has the wrong
 *         length or type; store errors.
 */
FS38_NODISCARD fs38_err fs38_identity_ueid(fs38_identity *id, uint8_t ueid[FS38_UEID_LEN]);

/**
 * \brief The device key's public point (exported from PSA or the key's keeper; the lifecycle is
 *        not checked).
 *
 * \param[in,out] id    Context.
 * \param[out]    point FS38_P256_POINT_LEN bytes, 04 || x || y.
 * \return FS38_OK; FS38_ERR_ARG when id or point is NULL; FS38_ERR_NOT_PROVISIONED when the
 *         key does not exist; FS38_ERR_IO when its keeper (a TPM) does not answer;
 *         FS38_ERR_CRYPTO for any other failure.
 */
FS38_NODISCARD fs38_err fs38_identity_public_key(fs38_identity *id, uint8_t point[FS38_P256_POINT_LEN]);

/**
 * \brief The device key id, for signing — only in the provisioned and operational states.
 *
 * \param[in,out] id  Context.
 * \param[out]    key The PSA key id, written on FS38_OK only. The key stays owned by PSA /
 *                    the identity: do not destroy it.
 * \return FS38_OK; FS38_ERR_ARG when id or key is NULL; FS38_ERR_UNSUPPORTED_ALG when the device
 *         key is not a PSA key (fs38_identity_use_key); FS38_ERR_NOT_PROVISIONED when blank;
 *         FS38_ERR_DECOMMISSIONED when decommissioning or decommissioned; errors of
 *         fs38_identity_lifecycle().
 */
FS38_NODISCARD fs38_err fs38_identity_signing_key(fs38_identity *id, psa_key_id_t *key);

/**
 * \brief Install the certificate the CA issued (DER) and move to operational. Allowed in the
 *        provisioned and operational (replacement) states.
 *
 * \param[in,out] id    Context.
 * \param[in]     der   The certificate, len bytes; copied into the store.
 * \param[in]     len   1..FS38_CERT_MAX.
 * \param[in]     point The public key the caller's X.509 parser found in der (65 bytes). It
 *                      must be this device's key, and der must carry it as a P-256
 *                      subjectPublicKey (BIT STRING 03 42 00 04 ..). The chain and signature
 *                      are not checked here.
 * \return FS38_OK; FS38_ERR_ARG when id, der or point is NULL or len is 0; FS38_ERR_LIMIT when
 *         len > FS38_CERT_MAX; FS38_ERR_NOT_PROVISIONED (blank, or no device key);
 *         FS38_ERR_DECOMMISSIONED (decommissioning / decommissioned); FS38_ERR_CERT_MISMATCH;
 *         FS38_ERR_CRYPTO (reading the public key); errors of fs38_identity_lifecycle(); store
 *         errors.
 */
FS38_NODISCARD fs38_err fs38_identity_install_cert(fs38_identity *id, const uint8_t *der, size_t len,
                                    const uint8_t point[FS38_P256_POINT_LEN]);

/**
 * \brief Read the installed certificate (in any lifecycle state).
 *
 * \param[in,out] id  Context.
 * \param[out]    buf cap bytes; the DER on FS38_OK (may be NULL when cap is 0, to ask the size).
 * \param[in]     cap Capacity of buf (FS38_CERT_MAX is always enough).
 * \param[out]    len Must not be NULL; the certificate's length on FS38_OK and FS38_ERR_BUFFER.
 * \return FS38_OK; FS38_ERR_ARG when id or len is NULL (or buf NULL with cap > 0);
 *         FS38_ERR_NOT_FOUND when no certificate is installed; FS38_ERR_BUFFER when cap is too
 *         small (*len set); store errors. NOT_FOUND and BUFFER leave id->diag unset.
 */
FS38_NODISCARD fs38_err fs38_identity_cert(fs38_identity *id, uint8_t *buf, size_t cap, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* FS38_IDENTITY_H */
