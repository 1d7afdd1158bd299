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
 * The context is caller-owned and holds no secret. Not thread-safe.
 */
#ifndef FS38_IDENTITY_H
#define FS38_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <psa/crypto.h>
#include "fs38/err.h"
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
    psa_key_id_t key;   /* persistent key id of the device key */
    fs38_diag diag;     /* why the last call failed */
} fs38_identity;

/* Set up a context; nothing is read yet. key: the persistent PSA key id of the device key. */
FS38_NODISCARD fs38_err fs38_identity_init(fs38_identity *id, fs38_store *store, psa_key_id_t key);

/* The lifecycle state (blank when never set). */
FS38_NODISCARD fs38_err fs38_identity_lifecycle(fs38_identity *id, fs38_lifecycle *lc);
/* Record a lifecycle state (used by provisioning and decommissioning). */
FS38_NODISCARD fs38_err fs38_identity_set_lifecycle(fs38_identity *id, fs38_lifecycle lc);
/* "blank", "provisioned", "operational", "decommissioning", "decommissioned" or "unknown". */
const char *fs38_lifecycle_name(fs38_lifecycle lc);

/*
 * Give the device its identity: a new UEID and a new device key generated inside PSA (any
 * leftover key with the same id, e.g. from an interrupted provisioning or an earlier life of
 * the device, is destroyed first). Allowed when blank or decommissioned; otherwise
 * FS38_ERR_PROVISIONED (or FS38_ERR_DECOMMISSIONED while a decommissioning is unfinished).
 * Raises FS38_EV_PROVISIONED.
 */
FS38_NODISCARD fs38_err fs38_identity_provision(fs38_identity *id);

/* The UEID (FS38_ERR_NOT_PROVISIONED when there is none). */
FS38_NODISCARD fs38_err fs38_identity_ueid(fs38_identity *id, uint8_t ueid[FS38_UEID_LEN]);
/* The device key's public point (65 bytes). */
FS38_NODISCARD fs38_err fs38_identity_public_key(fs38_identity *id, uint8_t point[FS38_P256_POINT_LEN]);
/* The device key, for signing: only in the provisioned and operational states
 * (FS38_ERR_NOT_PROVISIONED / FS38_ERR_DECOMMISSIONED otherwise). */
FS38_NODISCARD fs38_err fs38_identity_signing_key(fs38_identity *id, psa_key_id_t *key);

/*
 * Install the certificate the CA issued (DER). `point` is the public key the caller's X.509
 * parser found in it; it must be this device's key (FS38_ERR_CERT_MISMATCH otherwise), and the
 * DER must carry that point as a P-256 subjectPublicKey (BIT STRING 03 42 00 04 ..). Allowed in
 * the provisioned and operational (replacement) states. Moves to operational.
 */
FS38_NODISCARD fs38_err fs38_identity_install_cert(fs38_identity *id, const uint8_t *der, size_t len,
                                    const uint8_t point[FS38_P256_POINT_LEN]);
/* The installed certificate (FS38_ERR_NOT_FOUND when none; FS38_ERR_BUFFER with *len set). */
FS38_NODISCARD fs38_err fs38_identity_cert(fs38_identity *id, uint8_t *buf, size_t cap, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* FS38_IDENTITY_H */
