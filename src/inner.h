/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inner.h — what libfs38 shares with itself and never exports (the BearSSL inner.h idea).
 *
 * Nothing here is part of the public API in include/fs38/: names, signatures and formats may
 * change in any release. Only src/ (libfs38 and libfs38_verify) includes this header; tools,
 * the device, tests and fuzzers use the public headers.
 *
 * Sections: byte order, keys, formatting, boot slots, claims (EAT tokens and decommissioning
 * receipts), payload encryption, the security log.
 */
#ifndef FS38_INNER_H
#define FS38_INNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <psa/crypto.h>

#include "fs38/attest.h"
#include "fs38/boot.h"
#include "fs38/cbor.h"
#include "fs38/decommission.h"
#include "fs38/err.h"
#include "fs38/log.h"

/* ---- byte order: every on-flash and on-wire integer of our own formats is little-endian -- */

static inline void fs38_put_le16(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}

static inline void fs38_put_le32(uint8_t *b, uint32_t v)
{
    for (unsigned i = 0; i < 4u; i++)
        b[i] = (uint8_t)(v >> (8u * i));
}

static inline void fs38_put_le64(uint8_t *b, uint64_t v)
{
    for (unsigned i = 0; i < 8u; i++)
        b[i] = (uint8_t)(v >> (8u * i));
}

static inline uint32_t fs38_get_le16(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8;
}

static inline uint32_t fs38_get_le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint64_t fs38_get_le64(const uint8_t *b)
{
    return (uint64_t)fs38_get_le32(b) | (uint64_t)fs38_get_le32(b + 4) << 32;
}

/* ---- keys ------------------------------------------------------------------------------- */

/*
 * Import len (16..64) raw bytes as a volatile HMAC-SHA-256 PSA key usable to sign and verify
 * messages. *id is set only on FS38_OK; the caller destroys it. The caller wipes its copy of
 * the bytes. FS38_ERR_ARG on a bad length, FS38_ERR_CRYPTO when PSA refuses.
 */
FS38_NODISCARD fs38_err fs38_hmac_key_import(const uint8_t *key, size_t len, psa_key_id_t *id);

/* ---- formatting (the core has no stdio) ------------------------------------------------- */

/*
 * Minimal snprintf for the core (which uses no stdio): same conversions as
 * fs38_diag_set. Always NUL-terminates when cap > 0. Returns the number of bytes written.
 */
size_t fs38_fmt(char *buf, size_t cap, const char *fmt, ...);

/* ---- boot slots (src/boot/boot.c; the update agent shares them) -------------------------- */

/* Make a slot unbootable (clears its header magic); used when a trial is reverted. */
FS38_NODISCARD fs38_err fs38_slot_invalidate(const fs38_boot_config *cfg, unsigned slot);

/* Read a slot's header: envelope and image lengths. FS38_ERR_NO_IMAGE when empty/invalid. */
FS38_NODISCARD fs38_err fs38_slot_header(const fs38_boot_config *cfg, unsigned slot, uint32_t *env_len, uint32_t *image_len);

/* Image offset inside a slot for this configuration. */
uint32_t fs38_slot_image_offset(const fs38_boot_config *cfg);
/* FS38_ERR_WRONG_SLOT with "image linked for slot B, this is slot A" (bound: the envelope's
 * component-slot; slot: the one it was checked for), into d. */
FS38_NODISCARD fs38_err fs38_wrong_slot(fs38_diag *d, uint64_t bound, unsigned slot);

/* ---- claims maps: EAT tokens (src/identity/attest.c encodes, src/verify/eat_verify.c
 *      decodes) and decommissioning receipts (decommission.c / receipt_verify.c) ---------- */

/* Keys of a measurement map inside the fs38-measurements claim (docs/formats-eat.md). */
#define FS38_MKEY_NAME 1
#define FS38_MKEY_STATUS 2
#define FS38_MKEY_SEQUENCE 3
#define FS38_MKEY_IMAGE 4
#define FS38_MKEY_MANIFEST 5
#define FS38_MKEY_SIGNER 6
#define FS38_MKEY_BOOTED 7

/* The receipt's fs38-receipt claim value and the bits of its "erased" list. */
#define FS38_RECEIPT_TYPE "decommission"
#define FS38_RECEIPT_ERASED_KEYS 1
#define FS38_RECEIPT_ERASED_REGIONS 2

/* Control 5 / 13 claims (src/identity/attest.c): a "YYYY-MM-DD" date (month 1..12, day
 * 1..31), a disclosure contact of 1..FS38_EAT_CONTACT_MAX-1 printable ASCII characters, and
 * the fs38-debug bits' "every debug port locked" test. */
bool fs38_claim_date_ok(const char *s, size_t n);
bool fs38_claim_contact_ok(const char *s, size_t n);

/* A bstr of min..max bytes copied to out. */
FS38_NODISCARD fs38_err fs38_claim_bytes(fs38_cbor_dec *dec, uint8_t *out, size_t min, size_t max, size_t *len);
/* A claim a token must carry: its bit in the walker's "seen" mask and its name. */
typedef struct fs38_claim_required {
    unsigned bit;
    const char *name;
} fs38_claim_required;
/* Where the claims tokens and receipts share go (the fields of fs38_eat_claims or
 * fs38_receipt_claims): iat, nonce, ueid, swname, swversion. */
typedef struct fs38_claims_common {
    int64_t *iat;
    bool *has_iat;
    uint8_t *nonce; /* FS38_EAT_NONCE_MAX bytes */
    size_t *nonce_len;
    uint8_t *ueid; /* FS38_EAT_UEID_MAX bytes */
    size_t *ueid_len;
    char *swname;    /* FS38_EAT_NAME_MAX */
    char *swversion; /* FS38_EAT_NAME_MAX */
    int64_t *version_scheme;
} fs38_claims_common;
/* The "seen" bits of the shared claims; a caller's own bits start at FS38_SEEN_OWN. */
#define FS38_SEEN_NONCE 1u
#define FS38_SEEN_UEID 2u
#define FS38_SEEN_SWNAME 4u
#define FS38_SEEN_SWVER 8u
#define FS38_SEEN_OWN 16u
/*
 * Walk a claims map (at most 32 claims, any duplicate key refused, keys int or text;
 * text-keyed claims are skipped). The shared claims are read into *common (their FS38_SEEN_*
 * bits set); cb gets every other integer key with the decoder at its value; it consumes the
 * value and sets *known, or leaves it (*known = false) to be skipped, and sets the bits of what
 * it saw in *seen. Then every claim of req[0..n) must have been seen: FS38_ERR_CLAIMS naming the
 * first missing.
 */
typedef fs38_err (*fs38_claim_fn)(void *user, int64_t key, fs38_cbor_dec *dec, unsigned *seen, bool *known, fs38_diag *d);
FS38_NODISCARD fs38_err fs38_claims_walk(const uint8_t *buf, size_t len, const fs38_claims_common *common, fs38_claim_fn cb,
                                         void *user, const fs38_claim_required *req, size_t n, fs38_diag *d);
/* A tstr of 1..FS38_EAT_NAME_MAX-1 printable ASCII characters, NUL-terminated in out. */
FS38_NODISCARD fs38_err fs38_claim_name(fs38_cbor_dec *dec, char out[FS38_EAT_NAME_MAX]);
/* swversion: [ name, ? scheme ]. */
FS38_NODISCARD fs38_err fs38_claim_swversion(fs38_cbor_dec *dec, char out[FS38_EAT_NAME_MAX], int64_t *scheme);

/*
 * A signed claims map (an EAT token or a decommissioning receipt): check the COSE_Sign1
 * signature against kr (info gets the verified message; NULL for none), zero c (c_size bytes)
 * and parse the payload into it with parse, then, when nonce is given, compare the parsed
 * nonce (*c_nonce, *c_nonce_len: fields of c, read after parsing) with it in constant time.
 * FS38_ERR_ARG when c or kr is NULL or nonce is NULL with nonce_len > 0 (c untouched);
 * FS38_ERR_NONCE with the diagnostic nonce_why when the nonces differ; else what the signature
 * check or parse returns.
 */
typedef fs38_err (*fs38_claims_parse_fn)(const uint8_t *claims, size_t len, void *c, fs38_diag *d);
FS38_NODISCARD fs38_err fs38_claims_verify(const uint8_t *msg, size_t len, const fs38_keyring *kr, const uint8_t *nonce,
                                           size_t nonce_len, fs38_claims_parse_fn parse, void *c, size_t c_size,
                                           const uint8_t *c_nonce, const size_t *c_nonce_len, const char *nonce_why,
                                           fs38_cose_info *info, fs38_diag *diag);

/* Encode the receipt claims (what fs38_decommission signs); keys / regions as they will be
 * listed. */
FS38_NODISCARD fs38_err fs38_receipt_encode(const uint8_t *ueid, size_t ueid_len, const int64_t *iat, const uint8_t *nonce,
                             size_t nonce_len, const psa_key_id_t *keys, size_t n_keys,
                             const fs38_decom_region *regions, size_t n_regions, const uint8_t *cert_digest,
                             uint8_t *out, size_t cap, size_t *out_len, fs38_diag *diag);

/* ---- payload encryption (src/boot/decrypt.c) ------------------------------------------- */

/* The COSE_KDF_Context of ECDH-ES+A128KW for SUIT: [-3, [null,null,null], [null,null,null],
 * [128, recipient_protected, "SUIT Payload Encryption"]]. */
FS38_NODISCARD fs38_err fs38_cose_kdf_context(const uint8_t *recipient_protected, size_t len, uint8_t *out, size_t cap,
                               size_t *out_len);

/* ---- the security log: shared by the writer (src/log/) and the verifier (src/verify/) ---- */

/* Check a framed record's MAC, HMAC-SHA-256(key, prev || header || payload), in constant time
 * (PSA): FS38_OK, FS38_ERR_BAD_MAC, or FS38_ERR_CRYPTO. Used by the device and the verifier. */
FS38_NODISCARD fs38_err fs38_log_mac_check(psa_key_id_t key, const uint8_t prev[FS38_LOG_MAC_LEN], const fs38_log_frame *f);
/* Compute a record's MAC, HMAC-SHA-256(key, prev || rec[0..n)) (rec: header || payload), into
 * out: FS38_OK or FS38_ERR_CRYPTO. The writer MACs its records with it; the verifier uses it to
 * name what a record's MAC should have been. */
FS38_NODISCARD fs38_err fs38_log_mac(psa_key_id_t key, const uint8_t prev[FS38_LOG_MAC_LEN], const uint8_t *rec, size_t n,
                                     uint8_t out[FS38_LOG_MAC_LEN]);

/* The detached payload a checkpoint's COSE_Sign1 signs:
 * ["fs38-log-checkpoint", seq, prev-MAC, start, boot, time_ms, nonce|null]. */
FS38_NODISCARD fs38_err fs38_log_checkpoint_tbs(uint32_t seq, const uint8_t prev[FS38_LOG_MAC_LEN], uint64_t start,
                                 uint64_t boot, uint64_t time_ms, const uint8_t *nonce, size_t nonce_len,
                                 uint8_t *out, size_t cap, size_t *len);

#endif /* FS38_INNER_H */
