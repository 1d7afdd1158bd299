/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/privacy.h — personal data on the device (control 11): consent per purpose, pseudonyms,
 * and a telemetry filter that sends only what a purpose needs.
 *
 * Purposes. The firmware declares each purpose it sends data for (fs38_purpose): a name
 * (1..FS38_PURPOSE_MAX characters of a-z, 0-9, '-'), the version of the privacy notice the
 * user is shown for it, an allow-list of fields (everything else is dropped), how identifiers
 * are pseudonymised (epoch length for rotation) and the precision of location.
 *
 * Consent. fs38_consent_set() records, in the sealed store (fs38/store.h), whether the user
 * granted or revoked a purpose, when, and for which version of the notice; every change is a
 * security-log event (FS38_EV_CONSENT_GRANTED / FS38_EV_CONSENT_REVOKED, detail = purpose).
 * A consent counts only for the notice version it was given for or a later one: a purpose whose
 * notice_version is above the consented version has no consent until the user grants it again.
 * Revoking erases what was kept under the purpose: its data record (fs38_privacy_keep) and its
 * pseudonym salt, so the pseudonyms issued before cannot be linked to the ones issued after a
 * new grant.
 *
 * Pseudonyms. pseudonym = HMAC-SHA-256(K_purpose, "fs38-pn" || u64 epoch (LE) || identifier),
 * truncated to FS38_PSEUDONYM_LEN = 16 bytes (128 bits: collisions are negligible below 2^64
 * identifiers, and the truncation leaves no way back to the identifier). K_purpose is a volatile,
 * non-exportable PSA HMAC key derived inside PSA by HKDF-SHA-256 from the device's privacy root
 * secret (32 random bytes created at first use, sealed in the store, never leaving the device)
 * with the purpose's salt (16 random bytes created at each grant) and the info
 * "fs38 pseudonym v1" || purpose name; it is destroyed before the call returns. So a pseudonym is
 * stable for a purpose while its consent stands, unlinkable across purposes (different keys),
 * across devices (different root secrets) and across a revoke + grant (new salt). Rotation: a
 * purpose with epoch_s > 0 gets a new pseudonym each period, epoch = wall time / epoch_s (the
 * port's wall_time is then required); epoch_s = 0 means epoch 0 for ever.
 *
 * Store records (all sealed): "pv/root" (32 bytes), "pv/c/<purpose>" (consent: u8 version 1,
 * u8 granted, u32 notice version, i64 time, little endian; 14 bytes), "pv/s/<purpose>" (salt,
 * 16 bytes, present only while granted), "pv/d/<purpose>" (data kept under the purpose, at most
 * FS38_STORE_VALUE_MAX bytes).
 *
 * Lifecycle: fs38_privacy_init() (binds an open store and the port; no resources) → any call →
 * nothing to release. Caller-owned context, no allocation; one thread at a time per context
 * (store writes are serialised by the port's device lock, fs38/port.h).
 */
#ifndef FS38_PRIVACY_H
#define FS38_PRIVACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fs38/err.h"
#include "fs38/port.h"
#include "fs38/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FS38_PURPOSE_MAX 16u        /* characters of a purpose name */
#define FS38_PSEUDONYM_LEN 16u      /* bytes of a pseudonym (truncated HMAC-SHA-256) */
#define FS38_PSEUDONYM_HEX (2u * FS38_PSEUDONYM_LEN + 1u) /* as lower-case hex, with NUL */
#define FS38_FIELD_NAME_MAX 32u     /* characters of a telemetry field name */
#define FS38_LOCATION_DECIMALS_MAX 6u

/* How an allowed field is passed on. */
typedef enum fs38_field_kind {
    FS38_FIELD_VALUE = 0,      /* as it is (numbers, booleans, strings) */
    FS38_FIELD_IDENTIFIER = 1, /* a string or number replaced by its pseudonym (lower-case hex) */
    FS38_FIELD_LOCATION = 2    /* a latitude or longitude (number), coarsened */
} fs38_field_kind;

typedef struct fs38_field_rule {
    const char *name;          /* NUL-terminated, 1..FS38_FIELD_NAME_MAX characters */
    fs38_field_kind kind;
} fs38_field_rule;

typedef struct fs38_purpose {
    const char *name;          /* a-z 0-9 '-', 1..FS38_PURPOSE_MAX characters */
    uint32_t notice_version;   /* the privacy notice's version (>= 1) */
    uint64_t epoch_s;          /* pseudonym rotation period in seconds; 0: never rotate */
    uint8_t location_decimals; /* location kept to this many decimals (0..6; 2 = ~1.1 km) */
    const fs38_field_rule *allow; /* the allow-list: n_allow rules */
    size_t n_allow;
} fs38_purpose;

typedef enum fs38_field_type {
    FS38_FIELD_NUMBER = 0,
    FS38_FIELD_STRING = 1,
    FS38_FIELD_BOOL = 2
} fs38_field_type;

/* A telemetry field, already parsed by the caller (JSON or anything else). */
typedef struct fs38_field {
    const char *name;    /* NUL-terminated */
    fs38_field_type type;
    double num;          /* FS38_FIELD_NUMBER (finite) */
    const char *str;     /* FS38_FIELD_STRING: str_len bytes */
    size_t str_len;
    bool b;              /* FS38_FIELD_BOOL */
} fs38_field;

/* A field as it may leave the device. name and (for values) str point into the purpose's rule
 * and the input field; a pseudonym is held in pseudonym[] (str points at it). */
typedef struct fs38_field_out {
    const char *name;
    fs38_field_type type;
    double num;
    const char *str;
    size_t str_len;
    bool b;
    char pseudonym[FS38_PSEUDONYM_HEX];
} fs38_field_out;

typedef struct fs38_consent {
    bool recorded;           /* a record exists (false: never asked) */
    bool granted;
    uint32_t notice_version;
    int64_t time;            /* unix seconds of the change (0 when the port has no wall time) */
} fs38_consent;

typedef struct fs38_privacy {
    fs38_store *store;       /* open sealed store (borrowed) */
    const fs38_port *port;   /* wall time (consent time, rotation); borrowed */
    fs38_diag diag;          /* why the last call failed */
} fs38_privacy;

/**
 * \brief Bind a privacy context to an open store and the port.
 * \param[out] p     Context (caller-owned; zeroed, then filled).
 * \param[in]  store Open sealed store; must stay open while p is used.
 * \param[in]  port  Port (its wall_time gives times and epochs; may be NULL: times are 0 and
 *                   rotating purposes are refused).
 * \return FS38_OK; FS38_ERR_ARG when p or store is NULL.
 */
FS38_NODISCARD fs38_err fs38_privacy_init(fs38_privacy *p, fs38_store *store, const fs38_port *port);

/**
 * \brief Record consent for a purpose (granted or revoked) with the notice version and the
 *        time; raises FS38_EV_CONSENT_GRANTED / _REVOKED. Granting creates the purpose's salt
 *        (when it has none); revoking deletes its data and salt first, then records the
 *        revocation (an interrupted revoke leaves nothing kept: the data goes first).
 * \param[in,out] p              Context.
 * \param[in]     purpose        Purpose name.
 * \param[in]     granted        true to grant, false to revoke.
 * \param[in]     notice_version Version of the notice shown (>= 1).
 * \return FS38_OK; FS38_ERR_ARG (bad name, version 0, NULL); store errors (fs38/store.h);
 *         FS38_ERR_CRYPTO (random salt).
 */
FS38_NODISCARD fs38_err fs38_consent_set(fs38_privacy *p, const char *purpose, bool granted, uint32_t notice_version);

/**
 * \brief Read the consent record of a purpose.
 * \param[in,out] p       Context.
 * \param[in]     purpose Purpose name.
 * \param[out]    out     Filled; out->recorded false when there is no record (FS38_OK).
 * \return FS38_OK; FS38_ERR_ARG; FS38_ERR_STORE_CORRUPT when the record is malformed; store errors.
 */
FS38_NODISCARD fs38_err fs38_consent_get(fs38_privacy *p, const char *purpose, fs38_consent *out);

/**
 * \brief Is the purpose consented for its current notice version?
 * \param[in,out] p   Context.
 * \param[in]     pur Purpose.
 * \return FS38_OK when consent stands; FS38_ERR_POLICY (diag says why: never asked, revoked,
 *         or given for an older notice); FS38_ERR_ARG; store errors.
 */
FS38_NODISCARD fs38_err fs38_consent_check(fs38_privacy *p, const fs38_purpose *pur);

/**
 * \brief The pseudonym of an identifier for a purpose in the current epoch (see above).
 * \param[in,out] p     Context.
 * \param[in]     pur   Purpose (consent required).
 * \param[in]     id    The identifier, len bytes (1..1024).
 * \param[in]     len   Bytes.
 * \param[out]    out   FS38_PSEUDONYM_LEN bytes on FS38_OK.
 * \return FS38_OK; FS38_ERR_POLICY without consent; FS38_ERR_STATE when the purpose rotates and
 *         the port has no wall time; FS38_ERR_ARG; FS38_ERR_CRYPTO; store errors.
 */
FS38_NODISCARD fs38_err fs38_pseudonym(fs38_privacy *p, const fs38_purpose *pur, const uint8_t *id, size_t len,
                                       uint8_t out[FS38_PSEUDONYM_LEN]);

/**
 * \brief As fs38_pseudonym() for a given epoch (tests, backfill of one period).
 * \param[in,out] p     Context.
 * \param[in]     pur   Purpose (consent required).
 * \param[in]     epoch Epoch number.
 * \param[in]     id    Identifier, len bytes (1..1024).
 * \param[in]     len   Bytes.
 * \param[out]    out   FS38_PSEUDONYM_LEN bytes on FS38_OK.
 * \return As fs38_pseudonym() (no FS38_ERR_STATE).
 */
FS38_NODISCARD fs38_err fs38_pseudonym_at(fs38_privacy *p, const fs38_purpose *pur, uint64_t epoch, const uint8_t *id,
                                          size_t len, uint8_t out[FS38_PSEUDONYM_LEN]);

/**
 * \brief Minimise a telemetry record for a purpose: only allowed fields pass, identifiers are
 *        pseudonymised, locations coarsened (rounded down to the purpose's grid of
 *        10^-location_decimals degrees); nothing is produced without consent.
 * \param[in,out] p     Context.
 * \param[in]     pur   Purpose.
 * \param[in]     in    n input fields (borrowed; out points into them).
 * \param[in]     n     Number of input fields (at most 64).
 * \param[out]    out   cap output fields; the first *n_out are written on FS38_OK.
 * \param[in]     cap   Capacity of out.
 * \param[out]    n_out Fields written (0 on any error).
 * \return FS38_OK; FS38_ERR_POLICY without consent (nothing written); FS38_ERR_ARG (NULL, a
 *         malformed field: bad name, a duplicate name, a non-finite number, a location that is
 *         not a number or out of -180..180, an identifier that is neither a string nor a number);
 *         FS38_ERR_BUFFER when cap is too small; errors of fs38_pseudonym().
 */
FS38_NODISCARD fs38_err fs38_telemetry_filter(fs38_privacy *p, const fs38_purpose *pur, const fs38_field *in, size_t n,
                                              fs38_field_out *out, size_t cap, size_t *n_out);

/**
 * \brief Keep data under a purpose (replacing what was kept); refused without consent.
 * \param[in,out] p    Context.
 * \param[in]     pur  Purpose.
 * \param[in]     data len bytes (sealed in the store).
 * \param[in]     len  0..FS38_STORE_VALUE_MAX.
 * \return FS38_OK; FS38_ERR_POLICY without consent; FS38_ERR_ARG; store errors.
 */
FS38_NODISCARD fs38_err fs38_privacy_keep(fs38_privacy *p, const fs38_purpose *pur, const uint8_t *data, size_t len);

/**
 * \brief Read the data kept under a purpose.
 * \param[in,out] p       Context.
 * \param[in]     purpose Purpose name.
 * \param[out]    buf     cap bytes.
 * \param[in]     cap     Capacity.
 * \param[out]    len     Length of the data.
 * \return FS38_OK; FS38_ERR_NOT_FOUND (nothing kept); FS38_ERR_BUFFER; FS38_ERR_ARG; store errors.
 */
FS38_NODISCARD fs38_err fs38_privacy_kept(fs38_privacy *p, const char *purpose, uint8_t *buf, size_t cap, size_t *len);

/**
 * \brief Is a purpose name valid (1..FS38_PURPOSE_MAX characters of a-z, 0-9, '-')?
 * \param[in] name NUL-terminated, or NULL (false).
 * \return true or false.
 */
bool fs38_purpose_name_valid(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* FS38_PRIVACY_H */
