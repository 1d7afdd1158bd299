/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/attest.h — Entity Attestation Tokens (RFC 9711) signed by the device key (control 8).
 *
 * A token is a tagged COSE_Sign1 (ES256, kid = fs38 key id of the device key in the unprotected
 * header) whose payload is a CBOR map of claims, in this order (deterministic encoding, keys
 * sorted as RFC 8949 §4.2.1 requires):
 *
 *     6       iat            int: seconds since 1970 (only when the port knows the time)
 *     10      nonce          bstr 8..64: the verifier's challenge
 *     256     ueid           bstr: the device's UEID (RAND type, 17 bytes)
 *     258     oemid          bstr 16: the vendor id (optional)
 *     259     hwmodel        bstr 1..32: the class id (optional)
 *     263     dbgstat        uint 0..4 (RFC 9711 §4.2.9)
 *     270     swname         tstr "fs38"
 *     271     swversion      [ tstr version, 16384 (semver) ]
 *     -70001  fs38-measurements  [ * measurement ]   (private use, docs/formats-eat.md)
 *     -70002  fs38-lifecycle     uint (fs38_lifecycle)   (private use)
 *     -70003  fs38-debug         uint: FS38_DEBUG_* bits (fs38/port.h)      } when the caller
 *     -70004  fs38-services      [ * tstr ]: enabled network services      } gives its security
 *     -70005  fs38-secure-boot   bool: secure boot enforced                 } state (cfg.security)
 *     -70006  fs38-support-until tstr "YYYY-MM-DD": vendor support period end (control 13)
 *     -70007  fs38-disclosure    tstr: vulnerability disclosure contact (control 13)
 *
 *     measurement = { 1: tstr slot name, 2: uint status (0 verified, 1 refused, 2 empty),
 *                     ? 3: uint sequence, ? 4: [-16, bstr 32] image digest,
 *                     ? 5: [-16, bstr 32] manifest digest, ? 6: bstr 8 signer kid,
 *                     ? 7: true (the slot that runs) }      3..6 exactly when verified
 *
 * docs/formats-eat.md is the reference (with an example). The verifier here checks the
 * signature against a keyring (the device public key taken from its certificate by the
 * caller, who also checks the chain), the nonce (constant time), the structure and the types,
 * and refuses a decommissioning receipt (claim -70010) presented as a token. Unknown claims of
 * other kinds are skipped (RFC 9711 §4), so a newer device's tokens stay verifiable.
 *
 * Lifecycle: none. fs38_attest_ctx is working memory for one call at a time (no set-up, no
 * teardown, holds no resource); fs38_attest_config only points at things the caller owns (the
 * identity, the port, the measurements), read during each call. No allocation; claims are
 * copied out of the token. Not thread-safe per context (nor is the identity's store).
 */
#ifndef FS38_ATTEST_H
#define FS38_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fs38/boot.h"
#include "fs38/cbor.h"
#include "fs38/cose.h"
#include "fs38/err.h"
#include "fs38/identity.h"
#include "fs38/port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Claim keys (CWT / EAT registry) and fs38's private-use claims (< -65536, RFC 8392 §9.1). */
#define FS38_CLAIM_IAT 6
#define FS38_CLAIM_NONCE 10
#define FS38_CLAIM_UEID 256
#define FS38_CLAIM_OEMID 258
#define FS38_CLAIM_HWMODEL 259
#define FS38_CLAIM_DBGSTAT 263
#define FS38_CLAIM_SWNAME 270
#define FS38_CLAIM_SWVERSION 271
#define FS38_CLAIM_MEASUREMENTS (-70001) /* fs38-measurements */
#define FS38_CLAIM_LIFECYCLE (-70002)    /* fs38-lifecycle */
#define FS38_CLAIM_DEBUG (-70003)        /* fs38-debug: FS38_DEBUG_* bits */
#define FS38_CLAIM_SERVICES (-70004)     /* fs38-services */
#define FS38_CLAIM_SECURE_BOOT (-70005)  /* fs38-secure-boot */
#define FS38_CLAIM_SUPPORT_UNTIL (-70006) /* fs38-support-until */
#define FS38_CLAIM_DISCLOSURE (-70007)   /* fs38-disclosure */
#define FS38_CLAIM_RECEIPT (-70010)      /* fs38-receipt (fs38/decommission.h) */
#define FS38_CLAIM_ERASED (-70011)       /* fs38-erased */
#define FS38_CLAIM_CERT_DIGEST (-70012)  /* fs38-cert-sha256 */

#define FS38_VERSION_SCHEME_SEMVER 16384 /* CoSWID version-scheme (RFC 9393) */
#define FS38_COSE_HASH_SHA256 (-16)      /* COSE algorithm SHA-256 */

#define FS38_EAT_NONCE_MIN 8u
#define FS38_EAT_NONCE_MAX 64u
#define FS38_EAT_MAX_MEASUREMENTS 4u
#define FS38_EAT_CLAIMS_MAX 1024u        /* encoded claims (the largest configuration takes about 880) */
#define FS38_EAT_MAX 1152u               /* whole token: claims + the COSE_Sign1 around them (86 bytes) */
#define FS38_EAT_NAME_MAX 16u            /* swname, swversion, slot names (with NUL) */
#define FS38_EAT_UEID_MAX 33u            /* RFC 9711: 7..33 bytes */
#define FS38_EAT_HWMODEL_MAX 32u
#define FS38_EAT_DATE_LEN 10u            /* "YYYY-MM-DD" */
#define FS38_EAT_CONTACT_MAX 64u         /* disclosure contact with NUL: 1..63 printable ASCII */

/* Debug status (RFC 9711 §4.2.9). */
typedef enum fs38_dbgstat {
    FS38_DBG_ENABLED = 0,
    FS38_DBG_DISABLED = 1,
    FS38_DBG_DISABLED_SINCE_BOOT = 2,
    FS38_DBG_DISABLED_PERMANENTLY = 3,
    FS38_DBG_DISABLED_FULLY_AND_PERMANENTLY = 4
} fs38_dbgstat;

typedef enum fs38_meas_status {
    FS38_MEAS_VERIFIED = 0, /* the slot verified completely: digests, sequence and signer follow */
    FS38_MEAS_REFUSED = 1,  /* something is there but it does not verify */
    FS38_MEAS_EMPTY = 2     /* no image */
} fs38_meas_status;

typedef struct fs38_measurement {
    char name[FS38_EAT_NAME_MAX]; /* slot name, NUL-terminated ("A", "B") */
    fs38_meas_status status;
    uint64_t sequence;            /* the rest: only when verified */
    uint8_t image_digest[32];
    uint8_t manifest_digest[32];
    uint8_t signer_kid[FS38_KID_LEN];
    bool booted;                  /* the slot that runs */
} fs38_measurement;

/* What a token says (copied out of it). */
typedef struct fs38_eat_claims {
    uint8_t nonce[FS38_EAT_NONCE_MAX];
    size_t nonce_len;
    uint8_t ueid[FS38_EAT_UEID_MAX];
    size_t ueid_len;
    bool has_iat;
    int64_t iat;
    uint8_t oemid[16];
    size_t oemid_len;                  /* 0: absent */
    uint8_t hwmodel[FS38_EAT_HWMODEL_MAX];
    size_t hwmodel_len;                /* 0: absent */
    fs38_dbgstat dbgstat;
    char swname[FS38_EAT_NAME_MAX];
    char swversion[FS38_EAT_NAME_MAX];
    int64_t version_scheme;            /* 0 when the version has none */
    fs38_lifecycle lifecycle;
    fs38_measurement meas[FS38_EAT_MAX_MEASUREMENTS];
    size_t n_meas;
    /* attack surface (control 5): present together, when the token carries them */
    bool has_security;
    uint32_t debug;                    /* FS38_DEBUG_* bits */
    bool secure_boot;
    size_t n_services;
    char services[FS38_SERVICES_MAX][FS38_SERVICE_NAME_MAX];
    /* disclosure (control 13): "" when absent */
    char support_until[FS38_EAT_DATE_LEN + 1];
    char disclosure[FS38_EAT_CONTACT_MAX];
} fs38_eat_claims;

typedef struct fs38_attest_config {
    fs38_identity *id;               /* device key, UEID, lifecycle */
    const fs38_port *port;           /* for iat (wall_time); may be NULL */
    fs38_dbgstat dbgstat;            /* what the platform knows of its debug ports */
    const uint8_t *oemid;            /* 16 bytes (vendor id) or NULL */
    const uint8_t *hwmodel;          /* class id or NULL */
    size_t hwmodel_len;              /* 1..32 */
    const fs38_measurement *meas;    /* the boot measurements (fs38_attest_boot_measurements) */
    size_t n_meas;
    const fs38_security_state *security; /* debug state, services, secure boot
                                            (fs38_port_security_state) or NULL: no such claims */
    const char *support_until;       /* "YYYY-MM-DD": end of the vendor's security support, or NULL */
    const char *disclosure;          /* vulnerability disclosure contact (URI, e-mail), 1..63
                                        printable ASCII, or NULL */
} fs38_attest_config;

typedef struct fs38_attest_ctx {
    fs38_diag diag;
    uint8_t claims[FS38_EAT_CLAIMS_MAX];
} fs38_attest_ctx;

/**
 * \brief Produce a signed token for the verifier's nonce. Refused unless the device is
 *        provisioned or operational. Raises FS38_EV_ATTESTATION.
 *
 * \param[out] ctx       Working memory (claims buffer) and ctx->diag; caller-owned, needs no
 *                       set-up and keeps nothing between calls.
 * \param[in]  cfg       Identity, port, debug status, ids and measurements; read during the
 *                       call only (cfg->id must have an open store).
 * \param[in]  nonce     The verifier's challenge, nonce_len bytes (8..64); copied into the token.
 * \param[in]  nonce_len FS38_EAT_NONCE_MIN..FS38_EAT_NONCE_MAX.
 * \param[out] out       cap bytes; the tagged COSE_Sign1 on FS38_OK (FS38_EAT_MAX is always
 *                       enough).
 * \param[in]  cap       Capacity of out.
 * \param[out] out_len   The token's length on FS38_OK.
 * \return FS38_OK; FS38_ERR_ARG when ctx, cfg, cfg->id, out or out_len is NULL, or for a bad
 *         nonce length or configuration (see fs38_eat_encode()); FS38_ERR_NOT_PROVISIONED
 *         (blank, or no device key / UEID); FS38_ERR_DECOMMISSIONED; FS38_ERR_BUFFER when cap
 *         is too small; FS38_ERR_STORE_CORRUPT and the other errors of the identity's store
 *         (fs38/identity.h); FS38_ERR_CRYPTO when hashing or signing fails.
 */
FS38_NODISCARD fs38_err fs38_attest(fs38_attest_ctx *ctx, const fs38_attest_config *cfg, const uint8_t *nonce, size_t nonce_len,
                     uint8_t *out, size_t cap, size_t *out_len);

/**
 * \brief The measurements of a boot context whose slots were verified (fs38_boot_verify_slot
 *        or fs38_boot_select): one per slot, named "A", "B", ...
 *
 * \param[in]  b           Boot context (read only; slot[i].present / verdict / digests).
 * \param[in]  booted_slot Index of the slot that runs (marked booted), or -1.
 * \param[out] out         FS38_SLOT_COUNT measurements, all written (copies, no pointers).
 * \return The number written: FS38_SLOT_COUNT.
 */
size_t fs38_attest_boot_measurements(const fs38_boot_ctx *b, int booted_slot,
                                     fs38_measurement out[FS38_SLOT_COUNT]);

/**
 * \brief Encode the claims map of cfg + nonce (what fs38_attest() signs); the UEID and the
 *        lifecycle are read from cfg->id, iat from cfg->port's wall_time when it knows it.
 *        The lifecycle is not checked here.
 *
 * \param[in]  cfg       Configuration: cfg->id required; n_meas <= FS38_EAT_MAX_MEASUREMENTS,
 *                       each measurement a printable name of 1..15 characters and a valid
 *                       status; dbgstat valid; hwmodel_len 1..32 when hwmodel is set; the
 *                       security state valid (known debug bits, at most FS38_SERVICES_MAX
 *                       names of 1..15 printable characters); support_until a date
 *                       "YYYY-MM-DD"; disclosure 1..63 printable ASCII characters.
 * \param[in]  nonce     nonce_len bytes (8..64).
 * \param[in]  nonce_len FS38_EAT_NONCE_MIN..FS38_EAT_NONCE_MAX.
 * \param[out] out       cap bytes, or NULL to measure only.
 * \param[in]  cap       Capacity of out.
 * \param[out] out_len   The encoded length (needed length when measuring).
 * \param[out] diag      Diagnostic on failure, or NULL.
 * \return FS38_OK; FS38_ERR_ARG for NULL cfg / cfg->id / out_len, a bad nonce length or an
 *         invalid configuration; FS38_ERR_NOT_PROVISIONED (no UEID); FS38_ERR_BUFFER when cap
 *         is too small (*out_len holds the bytes written before the overflow, not the size
 *         needed); errors of fs38_identity_ueid() / fs38_identity_lifecycle().
 */
FS38_NODISCARD fs38_err fs38_eat_encode(const fs38_attest_config *cfg, const uint8_t *nonce, size_t nonce_len, uint8_t *out,
                         size_t cap, size_t *out_len, fs38_diag *diag);

/**
 * \brief Decode and check a claims map (a token's payload): types and ranges, no duplicate
 *        keys, at most 32 claims, every required claim (nonce, ueid, dbgstat, swname,
 *        swversion, fs38-measurements, fs38-lifecycle) present; unknown claims are skipped.
 *
 * \param[in]  claims The encoded map, len bytes.
 * \param[in]  len    Bytes.
 * \param[out] c      Zeroed, then filled (copies, no pointers into claims); partly filled on
 *                    error.
 * \param[out] diag   Diagnostic on failure, or NULL.
 * \return FS38_OK; FS38_ERR_ARG when c is NULL; FS38_ERR_CLAIMS for anything wrong with the
 *         claims (including malformed CBOR, trailing bytes, a missing claim, and a
 *         decommissioning receipt presented as a token).
 */
FS38_NODISCARD fs38_err fs38_eat_parse(const uint8_t *claims, size_t len, fs38_eat_claims *c, fs38_diag *diag);

/**
 * \brief Verify a token: COSE_Sign1 by a key of kr, well-formed claims (fs38_eat_parse()), and
 *        — when nonce is not NULL — the nonce (constant-time comparison).
 *
 * \param[in]  token     The token, len bytes.
 * \param[in]  len       Bytes.
 * \param[in]  kr        Trusted keys (the device public key from its certificate, whose chain
 *                       the caller checked).
 * \param[in]  nonce     Expected nonce, or NULL to skip the nonce check.
 * \param[in]  nonce_len Its length (0 when nonce is NULL).
 * \param[out] c         The claims (zeroed first; meaningful on FS38_OK only).
 * \param[out] info      Which key signed, or NULL. Its kid / payload pointers point into token
 *                       and are valid as long as the caller's token buffer is.
 * \param[out] diag      Diagnostic on failure, or NULL.
 * \return FS38_OK; FS38_ERR_ARG when c or kr is NULL (or nonce NULL with nonce_len > 0), or
 *         token is NULL; the errors of fs38_cose_sign1_verify(): FS38_ERR_COSE_FORMAT,
 *         FS38_ERR_UNSUPPORTED_ALG, FS38_ERR_UNSUPPORTED_PARAM, FS38_ERR_BAD_SIGNATURE,
 *         FS38_ERR_UNTRUSTED_SIGNER, FS38_ERR_CRYPTO; FS38_ERR_CLAIMS (fs38_eat_parse(); also a
 *         detached payload); FS38_ERR_NONCE when the nonce differs.
 */
FS38_NODISCARD fs38_err fs38_eat_verify(const uint8_t *token, size_t len, const fs38_keyring *kr, const uint8_t *nonce,
                         size_t nonce_len, fs38_eat_claims *c, fs38_cose_info *info, fs38_diag *diag);

/**
 * \brief The RFC 9711 debug status a security state amounts to: FS38_DBG_DISABLED_PERMANENTLY
 *        when every debug port is locked (FS38_DEBUG_LOCKED) by a one-way lock
 *        (FS38_DEBUG_PERMANENT), FS38_DBG_DISABLED when they are locked but could be re-opened,
 *        FS38_DBG_ENABLED otherwise (any port open, or nothing known).
 * \param[in] s State, or NULL (FS38_DBG_ENABLED).
 * \return The status.
 */
fs38_dbgstat fs38_dbgstat_of(const fs38_security_state *s);

/**
 * \brief Is a token's debug state "locked", as `fs38 attest verify --require-debug-locked` asks:
 *        dbgstat disabled-since-boot (2) or stronger — debug cannot be re-enabled before the next
 *        boot at least — and, when the token carries fs38-debug, every FS38_DEBUG_LOCKED bit set.
 * \param[in] c Parsed claims.
 * \return true when locked; false otherwise (also for NULL).
 */
bool fs38_eat_debug_locked(const fs38_eat_claims *c);

/**
 * \brief Name of a debug status.
 * \param[in] s A status.
 * \return A static string: "enabled", "disabled", "disabled-since-boot",
 *         "disabled-permanently", "disabled-fully-and-permanently" or "unknown"; never NULL.
 */
const char *fs38_dbgstat_name(fs38_dbgstat s);

/**
 * \brief Name of a measurement status.
 * \param[in] s A status.
 * \return A static string: "verified", "refused", "empty" or "unknown"; never NULL.
 */
const char *fs38_meas_status_name(fs38_meas_status s);

#ifdef __cplusplus
}
#endif
#endif /* FS38_ATTEST_H */
