/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/decommission.h — secure decommissioning (control 12): a receipt signed by the device key,
 * then every PSA key destroyed, the sealed store and the other secret-bearing regions (security
 * log, ...) erased physically and read back blank, and the lifecycle set to decommissioned.
 *
 * Order and power cuts (src/identity/decommission.c has the details):
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
 *
 * Lifecycle: none. fs38_decommission_ctx is working memory for one call (no set-up, no
 * teardown, no resource held; it holds nothing secret: the receipt is public).
 * fs38_decommission_config only points at things the caller owns. Not thread-safe: nothing
 * else may use the identity, its store or the regions during the call (see fs38/port.h).
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
    /* Objects of a hardware keeper that the caller removes itself once the call has returned
     * FS38_OK (a TPM's sealing key and NV counter indices, which the store needs until it is
     * wiped): listed in the receipt's keys after the PSA ones (NULL / 0: none; at most
     * FS38_DECOM_MAX_KEYS entries in the receipt besides the device key, PSA keys first). */
    const uint32_t *released;
    size_t n_released;
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

/**
 * \brief Decommission the device (or complete an interrupted decommissioning, or — already
 *        decommissioned — give the stored receipt back). Raises FS38_EV_DECOMMISSIONED when
 *        the work completes.
 *
 * \param[out] ctx     Working memory, ctx->diag, ctx->outcome (DONE, RESUMED or ALREADY),
 *                     keys_destroyed and bytes_erased; zeroed first, needs no set-up.
 * \param[in]  cfg     Identity (its store must be open and bound with fs38_its_bind(); it is
 *                     wiped and reopened in place, and is open again afterwards), port, extra
 *                     keys and regions, optional nonce; read during the call only.
 * \param[out] out     cap bytes for the receipt (may be NULL when cap is 0). FS38_RECEIPT_MAX
 *                     is enough.
 * \param[in]  cap     Capacity of out.
 * \param[out] out_len Must not be NULL. The receipt's length on FS38_OK (0 when ALREADY and no
 *                     receipt was kept); 0 on every error — a receipt is only valid when the
 *                     call returned FS38_OK.
 * \return FS38_OK; FS38_ERR_ARG when ctx, cfg or out_len is NULL, out is NULL with cap > 0, or
 *         the configuration is invalid (no identity / store / port, too many keys or regions,
 *         a nonce not 8..64 bytes, a region unaligned, unnamed, outside the flash or
 *         overlapping the store); FS38_ERR_NOT_PROVISIONED on a blank device (no key to sign a
 *         receipt) or when the UEID / device key is missing; FS38_ERR_BUFFER when cap is too
 *         small for the receipt (new or stored); FS38_ERR_ERASE when a region or the store
 *         does not read back erased; FS38_ERR_CRYPTO (signing, hashing, destroying a key);
 *         the errors of the identity and its store (fs38/identity.h, fs38/store.h: e.g.
 *         FS38_ERR_STORE_FULL keeping the receipt, FS38_ERR_STORE_CORRUPT); FS38_ERR_IO /
 *         FS38_ERR_POWER or the port's code from erasing and reading back. After a failure past
 *         the commit point the device stays "decommissioning" (key refused): call again or
 *         fs38_decommission_resume().
 */
FS38_NODISCARD fs38_err fs38_decommission(fs38_decommission_ctx *ctx, const fs38_decommission_config *cfg, uint8_t *out,
                           size_t cap, size_t *out_len);

/**
 * \brief At start-up: complete an interrupted decommissioning if there is one (outcome
 *        RESUMED, the stored receipt in out), else do nothing (outcome NONE, *out_len 0, also
 *        for blank, provisioned, operational and decommissioned devices).
 *
 * \param[out] ctx     As for fs38_decommission().
 * \param[in]  cfg     As for fs38_decommission().
 * \param[out] out     As for fs38_decommission().
 * \param[in]  cap     Capacity of out.
 * \param[out] out_len As for fs38_decommission().
 * \return FS38_OK; the errors of fs38_decommission() except FS38_ERR_NOT_PROVISIONED.
 */
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

/**
 * \brief Decode and check receipt claims: types, no duplicate keys, the fs38-receipt marker
 *        and every required claim (ueid, swname, swversion, fs38-lifecycle, fs38-erased);
 *        an attestation token's claims are refused.
 *
 * \param[in]  claims The encoded claims map, len bytes.
 * \param[in]  len    Bytes.
 * \param[out] c      Zeroed, then filled (copies, no pointers); partly filled on error.
 * \param[out] diag   Diagnostic on failure, or NULL.
 * \return FS38_OK; FS38_ERR_ARG when c is NULL; FS38_ERR_CLAIMS for anything wrong with the
 *         claims (malformed CBOR included).
 */
FS38_NODISCARD fs38_err fs38_receipt_parse(const uint8_t *claims, size_t len, fs38_receipt_claims *c, fs38_diag *diag);

/**
 * \brief Verify a receipt: COSE_Sign1 by a key of kr and well-formed receipt claims; when nonce
 *        is not NULL the receipt must carry exactly that nonce (constant-time comparison).
 *
 * \param[in]  receipt   The receipt, len bytes.
 * \param[in]  len       Bytes.
 * \param[in]  kr        Trusted keys (the device public key from its certificate).
 * \param[in]  nonce     Expected nonce, or NULL to skip the check.
 * \param[in]  nonce_len Its length (0 when nonce is NULL).
 * \param[out] c         The claims (zeroed first; meaningful on FS38_OK only).
 * \param[out] info      Which key signed, or NULL; its pointers point into receipt.
 * \param[out] diag      Diagnostic on failure, or NULL.
 * \return FS38_OK; FS38_ERR_ARG when c or kr is NULL, receipt is NULL, or nonce is NULL with
 *         nonce_len > 0; the errors of fs38_cose_sign1_verify() (FS38_ERR_COSE_FORMAT,
 *         FS38_ERR_UNSUPPORTED_ALG, FS38_ERR_UNSUPPORTED_PARAM, FS38_ERR_BAD_SIGNATURE,
 *         FS38_ERR_UNTRUSTED_SIGNER, FS38_ERR_CRYPTO); FS38_ERR_CLAIMS; FS38_ERR_NONCE when a
 *         nonce was expected and the receipt carries another one or none.
 */
FS38_NODISCARD fs38_err fs38_receipt_verify(const uint8_t *receipt, size_t len, const fs38_keyring *kr, const uint8_t *nonce,
                             size_t nonce_len, fs38_receipt_claims *c, fs38_cose_info *info, fs38_diag *diag);

#ifdef __cplusplus
}
#endif
#endif /* FS38_DECOMMISSION_H */
