/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/decommission.h — secure decommissioning (control 12): a receipt signed by the device key,
 * then every PSA key destroyed, the sealed store and the other secret-bearing regions (security
 * log, ...) erased physically and read back blank, and the lifecycle set to decommissioned.
 *
 * Order and power cuts (src/decommission.c has the details):
 *   1. the receipt is signed (COSE_Sign1 ES256 by the device key, claims below) and stored in
 *      the sealed store ("dc/receipt"), then the lifecycle "decommissioning" is recorded — the
 *      commit point. From here on fs38_identity_signing_key refuses the key.
 *   2. every key is destroyed (psa_destroy_key: the device key, then cfg->keys);
 *   3. every region of cfg->regions is erased sector by sector, then read back: all 0xFF;
 *   4. the sealed store is wiped (fs38_store_wipe: every bank erased) and read back: blank but
 *      for the one bank header of the new, empty store;
 *   5. the store is reopened; lifecycle "decommissioned" and the receipt are recorded again.
 * A power cut before 1 completes leaves the device as it was (no receipt was released). A cut
 * anywhere after it leaves "decommissioning" (the key refused; fs38_decommission_resume, called
 * at start-up, completes the work and gives back the stored receipt) or, after 4, an empty
 * store: a blank device without keys. tests/test_decommission.c cuts every program / erase.
 * The receipt is only valid when fs38_decommission returned FS38_OK: it says what WAS erased.
 *
 * Receipt = tagged COSE_Sign1 over the CBOR map (deterministic order):
 *     6       iat           int (when the port knows the time)
 *     10      nonce         bstr 8..64 (only when the caller gave one)
 *     256     ueid          bstr
 *     270     swname        "fs38"
 *     271     swversion     [ version, 16384 ]
 *     -70002  fs38-lifecycle  4 (decommissioned)
 *     -70010  fs38-receipt    "decommission"   (marks a receipt: never accepted as a token)
 *     -70011  fs38-erased     { 1: [ * uint PSA key id ], 2: [ * [ tstr name, uint offset, uint size ] ] }
 *     -70012  fs38-cert-sha256  bstr 32: SHA-256 of the device certificate (when one was installed)
 * docs/formats-eat.md §3 is the reference.
 */
#ifndef FS38_DECOMMISSION_H
#define FS38_DECOMMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fs38/attest.h"
#include "fs38/cose.h"
#include "fs38/err.h"
#include "fs38/identity.h"
#include "fs38/port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FS38_RECEIPT_MAX 1000u          /* whole receipt (it is kept in the sealed store) */
#define FS38_RECEIPT_CLAIMS_MAX 800u
#define FS38_DECOM_MAX_KEYS 32u         /* PSA keys besides the device key */
#define FS38_DECOM_MAX_REGIONS 4u       /* regions besides the sealed store */
#define FS38_DECOM_CHUNK 256u

typedef struct fs38_decom_region {
    const char *name;   /* printable, 1..15 characters ("log") */
    uint32_t offset;    /* sector aligned */
    uint32_t size;      /* multiple of the sector size */
} fs38_decom_region;

typedef struct fs38_decommission_config {
    fs38_identity *id;                /* device key, UEID; id->store is the sealed store wiped */
    const fs38_port *port;            /* flash (erase, read back) and time */
    const psa_key_id_t *keys;         /* other persistent PSA keys (absent ones are skipped) */
    size_t n_keys;
    const fs38_decom_region *regions; /* other regions to erase (must not overlap the store) */
    size_t n_regions;
    const uint8_t *nonce;             /* optional challenge for the receipt (8..64 bytes) */
    size_t nonce_len;
} fs38_decommission_config;

typedef enum fs38_decom_outcome {
    FS38_DECOM_NONE = 0,     /* resume: there was nothing to complete */
    FS38_DECOM_DONE = 1,     /* decommissioned now */
    FS38_DECOM_RESUMED = 2,  /* an interrupted decommissioning was completed */
    FS38_DECOM_ALREADY = 3   /* it was decommissioned before: the stored receipt is returned */
} fs38_decom_outcome;

typedef struct fs38_decommission_ctx {
    fs38_diag diag;
    fs38_decom_outcome outcome;
    size_t keys_destroyed;             /* by this call */
    uint64_t bytes_erased;             /* erased and read back blank by this call */
    uint8_t claims[FS38_RECEIPT_CLAIMS_MAX];
    uint8_t buf[FS38_CERT_MAX];        /* certificate (for its digest), read-back chunks */
} fs38_decommission_ctx;

/*
 * Decommission (or complete an interrupted decommissioning, or — already decommissioned — give
 * the stored receipt back). The receipt goes to out (FS38_RECEIPT_MAX is enough; *out_len 0
 * when none could be kept). The sealed store must be open and bound (fs38_its_bind); it is open
 * again afterwards. Refused with FS38_ERR_NOT_PROVISIONED on a blank device (no key to sign a
 * receipt). Raises FS38_EV_DECOMMISSIONED.
 */
FS38_NODISCARD fs38_err fs38_decommission(fs38_decommission_ctx *ctx, const fs38_decommission_config *cfg, uint8_t *out,
                           size_t cap, size_t *out_len);

/* At start-up: complete an interrupted decommissioning if there is one (outcome RESUMED, the
 * stored receipt in out), else do nothing (outcome NONE, *out_len 0). */
FS38_NODISCARD fs38_err fs38_decommission_resume(fs38_decommission_ctx *ctx, const fs38_decommission_config *cfg, uint8_t *out,
                                  size_t cap, size_t *out_len);

typedef struct fs38_receipt_region {
    char name[FS38_EAT_NAME_MAX];
    uint32_t offset;
    uint32_t size;
} fs38_receipt_region;

/* What a receipt says (copied out of it). */
typedef struct fs38_receipt_claims {
    uint8_t ueid[FS38_EAT_UEID_MAX];
    size_t ueid_len;
    bool has_iat;
    int64_t iat;
    uint8_t nonce[FS38_EAT_NONCE_MAX];
    size_t nonce_len;                  /* 0: none */
    char swname[FS38_EAT_NAME_MAX];
    char swversion[FS38_EAT_NAME_MAX];
    int64_t version_scheme;
    fs38_lifecycle lifecycle;
    uint32_t keys[FS38_DECOM_MAX_KEYS + 1u];
    size_t n_keys;
    fs38_receipt_region regions[FS38_DECOM_MAX_REGIONS + 1u];
    size_t n_regions;
    bool has_cert_digest;
    uint8_t cert_digest[32];
} fs38_receipt_claims;

/* Encode the receipt claims (what fs38_decommission signs); keys / regions as they will be
 * listed. Exposed for tests and tools. */
FS38_NODISCARD fs38_err fs38_receipt_encode(const uint8_t *ueid, size_t ueid_len, const int64_t *iat, const uint8_t *nonce,
                             size_t nonce_len, const psa_key_id_t *keys, size_t n_keys,
                             const fs38_decom_region *regions, size_t n_regions, const uint8_t *cert_digest,
                             uint8_t *out, size_t cap, size_t *out_len, fs38_diag *diag);

/* Decode and check receipt claims. */
FS38_NODISCARD fs38_err fs38_receipt_parse(const uint8_t *claims, size_t len, fs38_receipt_claims *c, fs38_diag *diag);

/* Verify a receipt: COSE_Sign1 by a key of kr and well-formed receipt claims; when nonce is not
 * NULL the receipt must carry exactly that nonce (FS38_ERR_NONCE). */
FS38_NODISCARD fs38_err fs38_receipt_verify(const uint8_t *receipt, size_t len, const fs38_keyring *kr, const uint8_t *nonce,
                             size_t nonce_len, fs38_receipt_claims *c, fs38_cose_info *info, fs38_diag *diag);

#ifdef __cplusplus
}
#endif
#endif /* FS38_DECOMMISSION_H */
