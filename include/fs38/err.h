/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/err.h — error codes and rejection diagnostics.
 *
 * Every fs38 call returns an fs38_err: FS38_OK (0) on success, a negative code otherwise.
 * Calls that reject input (CBOR, COSE, SUIT, boot) also fill an fs38_diag, a short
 * human-readable sentence saying what failed and where, e.g.
 *     "manifest digest mismatch"
 *     "sequence 3 < installed 5"
 *     "unsupported algorithm -9"
 * A diagnostic never contains key material or other secrets.
 */
#ifndef FS38_ERR_H
#define FS38_ERR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * FS38_NODISCARD marks every call that returns an fs38_err: ignoring the result is a compile
 * warning (an error in fs38's own -Werror build). A caller that really does not care says so
 * with an explicit (void) cast.
 */
#if defined(__GNUC__) || defined(__clang__)
#define FS38_NODISCARD __attribute__((warn_unused_result))
#else
#define FS38_NODISCARD
#endif

typedef enum fs38_err {
    FS38_OK = 0,

    /* generic */
    FS38_ERR_ARG = -1,          /* invalid argument (NULL, out of range) */
    FS38_ERR_BUFFER = -2,       /* caller's buffer too small */
    FS38_ERR_IO = -3,           /* port I/O failure */
    FS38_ERR_POWER = -4,        /* power lost during a flash operation (simulated on POSIX) */
    FS38_ERR_CRYPTO = -5,       /* the crypto library failed (not a verification failure) */
    FS38_ERR_STATE = -6,        /* call not valid in the current state */
    FS38_ERR_NOT_FOUND = -7,    /* no such item */
    FS38_ERR_LIMIT = -8,        /* a compile-time capacity was exceeded */

    /* CBOR (RFC 8949) */
    FS38_ERR_CBOR_TRUNCATED = -20,   /* item runs past the end of the buffer */
    FS38_ERR_CBOR_MALFORMED = -21,   /* reserved additional info, bad simple value */
    FS38_ERR_CBOR_INDEFINITE = -22,  /* indefinite length (not allowed) */
    FS38_ERR_CBOR_NONMINIMAL = -23,  /* head not in preferred (shortest) form */
    FS38_ERR_CBOR_TYPE = -24,        /* item has an unexpected major type / value */
    FS38_ERR_CBOR_DEPTH = -25,       /* nesting deeper than the limit */
    FS38_ERR_CBOR_TRAILING = -26,    /* bytes left after the expected item */

    /* COSE (RFC 9052/9053) */
    FS38_ERR_COSE_FORMAT = -40,      /* not a well-formed COSE_Sign1 / COSE_Mac0 / COSE_Encrypt */
    FS38_ERR_UNSUPPORTED_ALG = -41,  /* algorithm not supported (or not allowed here) */
    FS38_ERR_BAD_SIGNATURE = -42,    /* signature does not verify with any trusted key */
    FS38_ERR_BAD_MAC = -43,          /* MAC does not verify */
    FS38_ERR_UNTRUSTED_SIGNER = -44, /* kid names a key that is not trusted */

    /* SUIT (draft-ietf-suit-manifest) */
    FS38_ERR_SUIT_FORMAT = -60,      /* envelope / manifest structure is invalid */
    FS38_ERR_NO_AUTH = -61,          /* envelope carries no COSE authentication block */
    FS38_ERR_MANIFEST_DIGEST = -62,  /* SHA-256(manifest) != authenticated digest */
    FS38_ERR_SEVERED_DIGEST = -63,   /* a severable member does not match its digest */
    FS38_ERR_SEVERED_MISSING = -64,  /* a severed member needed here is absent */
    FS38_ERR_ROLLBACK = -65,         /* sequence number lower than the installed one */
    FS38_ERR_VENDOR_ID = -66,        /* condition vendor-identifier failed */
    FS38_ERR_CLASS_ID = -67,         /* condition class-identifier failed */
    FS38_ERR_IMAGE_DIGEST = -68,     /* condition image-match failed (digest) */
    FS38_ERR_IMAGE_SIZE = -69,       /* image size wrong, missing, or too large for the slot */
    FS38_ERR_COMPONENT = -70,        /* unknown component / component index out of range */
    FS38_ERR_UNSUPPORTED_COMMAND = -71, /* unknown or unsupported critical command */
    FS38_ERR_UNSUPPORTED_PARAM = -72,   /* parameter value not supported */
    FS38_ERR_CONDITION = -73,        /* another condition failed (slot, content, abort) */
    FS38_ERR_MANIFEST_VERSION = -74, /* manifest version is not 1 */
    FS38_ERR_MISSING_PARAM = -75,    /* a command needs a parameter that is not set */
    FS38_ERR_CALLBACK = -76,         /* the platform refused a fetch/copy/write/invoke */

    /* boot */
    FS38_ERR_NO_IMAGE = -90,         /* slot is empty (erased or no slot header) */
    FS38_ERR_NOT_BOOTABLE = -91,     /* no slot verifies */
    FS38_ERR_POLICY = -92,           /* verified, but the device policy refuses it */

    /* sealed storage */
    FS38_ERR_STORE_ROLLBACK = -110,  /* the store is older than its monotonic counter */
    FS38_ERR_STORE_CORRUPT = -111,   /* a record failed authentication */
    FS38_ERR_STORE_FULL = -112,      /* no space even after compaction */

    /* updates */
    FS38_ERR_DECRYPT = -130,         /* payload decryption / key unwrap / tag failed */
    FS38_ERR_TRUNCATED = -131,       /* payload ended before the announced size */
    FS38_ERR_OVERSIZE = -132,        /* payload larger than the manifest announced / slot holds */

    /* identity, authentication, attestation, decommissioning (controls 1, 8, 12) */
    FS38_ERR_AUTH_REFUSED = -150,    /* login refused: wrong user or password (never says which) */
    FS38_ERR_AUTH_LOCKED = -151,     /* refused: the back-off after failed attempts is running */
    FS38_ERR_AUTH_CHANGE = -152,     /* password right, but it must be changed before anything else */
    FS38_ERR_PASSWORD_POLICY = -153, /* new password refused by the policy (the diag says why) */
    FS38_ERR_NOT_PROVISIONED = -154, /* the device has no identity (key, UEID) */
    FS38_ERR_PROVISIONED = -155,     /* the device already has an identity */
    FS38_ERR_DECOMMISSIONED = -156,  /* the device is decommissioned, or being decommissioned */
    FS38_ERR_CERT_MISMATCH = -157,   /* certificate not for this device's key / UEID */
    FS38_ERR_NONCE = -158,           /* the token's nonce is not the expected one */
    FS38_ERR_CLAIMS = -159,          /* token / receipt claims malformed, missing or of another kind */
    FS38_ERR_ERASE = -160,           /* a region did not read back erased after erasing it */

    /* security log (control 7) */
    FS38_ERR_LOG_UNINIT = -180,      /* no security log was created (fs38_log_create) */
    FS38_ERR_LOG_BATCH = -181,       /* not a well-formed log record / batch */
    FS38_ERR_LOG_VERIFY = -182       /* log verification found tampering or loss */
} fs38_err;

/* Short, constant description of an error code (never NULL). */
const char *fs38_strerror(fs38_err err);

/*
 * A rejection diagnostic: the error code and one sentence naming what failed and where.
 * Fill it with fs38_diag_set(); read diag.msg. Contexts embed one; it may also be NULL
 * wherever a call takes an `fs38_diag *`.
 */
#define FS38_DIAG_MAX 128
typedef struct fs38_diag {
    fs38_err err;
    char msg[FS38_DIAG_MAX];
} fs38_diag;

/* Reset to FS38_OK and an empty message. */
void fs38_diag_clear(fs38_diag *d);

/*
 * Record err with a printf-like message and return err. Understood conversions:
 * %s (const char *), %d (int), %u (unsigned), %ld (long), %lld / %lu / %llu (long long /
 * unsigned long / unsigned long long), %x (unsigned, hex), %zu (size_t), %% . Output is
 * truncated to FS38_DIAG_MAX-1 bytes. When the message is empty, fs38_strerror(err) is used.
 * d may be NULL (then only err is returned).
 */
fs38_err fs38_diag_set(fs38_diag *d, fs38_err err, const char *fmt, ...);

/*
 * Minimal snprintf for the core (which uses no stdio): same conversions as
 * fs38_diag_set. Always NUL-terminates when cap > 0. Returns the number of bytes written.
 */
size_t fs38_fmt(char *buf, size_t cap, const char *fmt, ...);

#ifdef __cplusplus
}
#endif
#endif /* FS38_ERR_H */
