/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/err.h — error codes and rejection diagnostics.
 *
 * Every fs38 call that can fail returns an fs38_err: FS38_OK (0) on success, a negative code
 * otherwise (each function's comment lists the codes it can return). Calls that reject input
 * (CBOR, COSE, SUIT, boot, store, log, auth, update) also fill an fs38_diag — a context's own,
 * or an `fs38_diag *` argument that may be NULL — a short human-readable sentence saying what
 * failed and where, e.g.
 *     "manifest digest mismatch"
 *     "sequence 3 < installed 5"
 *     "unsupported algorithm -9"
 * A diagnostic never contains key material or other secrets.
 */
#ifndef FS38_ERR_H
#define FS38_ERR_H

#include <stddef.h>
#include <stdint.h>
#include "fs38/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * FS38_NODISCARD marks every call that returns an fs38_err (fs38_diag_set, which only hands
 * its argument back, excepted): ignoring the result is a compile warning (an error in fs38's
 * own -Werror build). GCC does not accept a (void) cast as handling it (clang does): a caller
 * that really does not care tests the result and says why in the empty branch, e.g.
 *     if (fs38_store_delete(&s, "x") != FS38_OK) { ... best effort: nothing to undo ... }
 */
/*
 * FS38_PRIVATE(field) names a field of a context whose layout is the library's own: callers
 * allocate the context (sizeof works) but reach its state only through the functions of its
 * header. Outside libfs38 the field is renamed (private_field), so code that touches it
 * stands out and breaks on purpose; libfs38 (and its white-box tests) define
 * FS38_ALLOW_PRIVATE_ACCESS. The same idea as Mbed TLS's MBEDTLS_PRIVATE.
 */
#if defined(FS38_ALLOW_PRIVATE_ACCESS)
#define FS38_PRIVATE(field) field
#else
#define FS38_PRIVATE(field) private_##field
#endif

#if defined(__GNUC__) || defined(__clang__)
#define FS38_NODISCARD __attribute__((warn_unused_result))
#else
#define FS38_NODISCARD
#endif

/*
 * FS38_ERR_LIST(X): every error code, exactly once. Each entry is
 *     X(name, value, text, meaning)
 *   name, value  the enumerator. Names and values never change (binary compatibility); a new
 *                code takes a value not used before.
 *   text         what fs38_strerror() returns: short and constant.
 *   meaning      one line for the documentation.
 * The enum below, fs38_strerror() (src/core/err.c) and the error table of docs/formats.md §12
 * (scripts/gen-error-table, checked by the CTest test docs_error_table) are all generated
 * from this list, so they cannot disagree. Keep each entry on its own X(...) and the strings
 * free of '|' and '"'.
 */
#define FS38_ERR_LIST(X) \
    /* generic */ \
    X(FS38_OK, 0, "ok", "success") \
    X(FS38_ERR_ARG, -1, "invalid argument", "NULL or out-of-range argument, invalid configuration or geometry") \
    X(FS38_ERR_BUFFER, -2, "buffer too small", \
      "the caller's output buffer is too small") \
    X(FS38_ERR_IO, -3, "I/O error", "port I/O failure") \
    X(FS38_ERR_POWER, -4, "power lost", \
      "power lost during a flash operation (simulated on POSIX); the device is off until it restarts") \
    X(FS38_ERR_CRYPTO, -5, "crypto library failure", \
      "PSA / Mbed TLS failed for a reason other than a verification failure") \
    X(FS38_ERR_STATE, -6, "invalid state", \
      "call not valid in the current state, e.g. fs38_suit_run on an unauthenticated manifest") \
    X(FS38_ERR_NOT_FOUND, -7, "not found", \
      "no such item: absent sequence, unknown integrated payload, missing store record") \
    X(FS38_ERR_LIMIT, -8, "capacity exceeded", "a compile-time capacity was exceeded") \
    /* CBOR (RFC 8949) */ \
    X(FS38_ERR_CBOR_TRUNCATED, -20, "CBOR truncated", "item or declared length runs past the end of the buffer") \
    X(FS38_ERR_CBOR_MALFORMED, -21, "CBOR malformed", "reserved additional info, bad simple value") \
    X(FS38_ERR_CBOR_INDEFINITE, -22, "CBOR indefinite length not allowed", "indefinite length (not allowed)") \
    X(FS38_ERR_CBOR_NONMINIMAL, -23, "CBOR head not minimal", "head not in preferred (shortest) form") \
    X(FS38_ERR_CBOR_TYPE, -24, "CBOR unexpected type", "item has an unexpected major type or value") \
    X(FS38_ERR_CBOR_DEPTH, -25, "CBOR nesting too deep", "nesting deeper than the limit") \
    X(FS38_ERR_CBOR_TRAILING, -26, "CBOR trailing bytes", "bytes left after the expected item") \
    /* COSE (RFC 9052/9053) */ \
    X(FS38_ERR_COSE_FORMAT, -40, "malformed COSE structure", \
      "not a well-formed COSE_Sign1 / COSE_Mac0 / COSE_Encrypt, unprotected alg, payload mismatch") \
    X(FS38_ERR_UNSUPPORTED_ALG, -41, "unsupported algorithm", \
      "COSE, digest or encryption algorithm not supported (or not allowed here), or missing") \
    X(FS38_ERR_BAD_SIGNATURE, -42, "signature invalid", "no trusted P-256 key verifies the signature") \
    X(FS38_ERR_BAD_MAC, -43, "MAC invalid", "no trusted HMAC key verifies the tag") \
    X(FS38_ERR_UNTRUSTED_SIGNER, -44, "untrusted signer", "the kid names a key that is not trusted") \
    /* SUIT (draft-ietf-suit-manifest) */ \
    X(FS38_ERR_SUIT_FORMAT, -60, "malformed SUIT envelope", \
      "envelope, manifest or command structure invalid (the diagnostic says where)") \
    X(FS38_ERR_NO_AUTH, -61, "no authentication block", "no authentication wrapper, or one without a COSE block") \
    X(FS38_ERR_MANIFEST_DIGEST, -62, "manifest digest mismatch", \
      "SHA-256 of the bstr-wrapped manifest differs from the authenticated digest") \
    X(FS38_ERR_SEVERED_DIGEST, -63, "severed member digest mismatch", \
      "a severed member does not match its digest, or has none") \
    X(FS38_ERR_SEVERED_MISSING, -64, "severed member missing", "the sequence to run was severed and not supplied") \
    X(FS38_ERR_ROLLBACK, -65, "rollback refused", \
      "sequence number lower than the installed one (the anti-rollback counter)") \
    X(FS38_ERR_VENDOR_ID, -66, "vendor id mismatch", "condition-vendor-identifier failed") \
    X(FS38_ERR_CLASS_ID, -67, "class id mismatch", "condition-class-identifier failed") \
    X(FS38_ERR_IMAGE_DIGEST, -68, "image digest mismatch", "condition-image-match failed (digest)") \
    X(FS38_ERR_IMAGE_SIZE, -69, "image size invalid", \
      "image shorter than image-size, size missing or different from the slot header, too large for the slot") \
    X(FS38_ERR_COMPONENT, -70, "invalid component", \
      "unknown component, component index out of range, bad copy source") \
    X(FS38_ERR_UNSUPPORTED_COMMAND, -71, "unsupported command", \
      "unknown or unsupported command, or a command whose callback the platform lacks") \
    X(FS38_ERR_UNSUPPORTED_PARAM, -72, "unsupported parameter", \
      "unsupported SUIT parameter or value, or a COSE crit header") \
    X(FS38_ERR_CONDITION, -73, "condition failed", \
      "another condition failed (slot, device id, abort, try-each without match)") \
    X(FS38_ERR_MANIFEST_VERSION, -74, "unsupported manifest version", "manifest-version is not 1") \
    X(FS38_ERR_MISSING_PARAM, -75, "missing parameter", "a command needs a parameter that is not set") \
    X(FS38_ERR_CALLBACK, -76, "platform refused the operation", \
      "reserved for a platform callback that refuses fetch / copy / write / invoke (no fs38 code returns it yet)") \
    /* boot */ \
    X(FS38_ERR_NO_IMAGE, -90, "no image", "slot is empty (erased or without a valid slot header)") \
    X(FS38_ERR_NOT_BOOTABLE, -91, "no bootable image", "no slot verifies") \
    X(FS38_ERR_POLICY, -92, "refused by policy", \
      "authentic, but the boot or update policy refuses it (a check or sequence is missing)") \
    /* sealed storage (control 6) */ \
    X(FS38_ERR_STORE_ROLLBACK, -110, "store rolled back", \
      "the store is older than its monotonic counter (restored or spliced region)") \
    X(FS38_ERR_STORE_CORRUPT, -111, "store record corrupt", "a store record or bank header failed authentication") \
    X(FS38_ERR_STORE_FULL, -112, "store full", "no space even after compaction") \
    /* updates (control 3) */ \
    X(FS38_ERR_DECRYPT, -130, "decryption failed", \
      "payload decryption, CEK unwrap or GCM tag failed, or no key to decrypt with") \
    X(FS38_ERR_TRUNCATED, -131, "payload truncated", "payload (or a log record) ended before its announced size") \
    X(FS38_ERR_OVERSIZE, -132, "payload too large", \
      "payload or envelope larger than the manifest announced or the slot holds") \
    /* identity, authentication, attestation, decommissioning (controls 1, 8, 12) */ \
    X(FS38_ERR_AUTH_REFUSED, -150, "login refused", "login refused: wrong user or password (never says which)") \
    X(FS38_ERR_AUTH_LOCKED, -151, "locked out after failed attempts", \
      "refused: the back-off after failed attempts is running") \
    X(FS38_ERR_AUTH_CHANGE, -152, "password change required", \
      "password right, but it must be changed before anything else") \
    X(FS38_ERR_PASSWORD_POLICY, -153, "password refused by policy", \
      "new password refused by the policy (the diagnostic says why)") \
    X(FS38_ERR_NOT_PROVISIONED, -154, "device not provisioned", "the device has no identity (key, UEID)") \
    X(FS38_ERR_PROVISIONED, -155, "device already provisioned", "the device already has an identity") \
    X(FS38_ERR_DECOMMISSIONED, -156, "device decommissioned", "the device is decommissioned, or being decommissioned") \
    X(FS38_ERR_CERT_MISMATCH, -157, "certificate does not match the device", \
      "certificate not for this device's key / UEID") \
    X(FS38_ERR_NONCE, -158, "nonce mismatch", "the token's nonce is not the expected one") \
    X(FS38_ERR_CLAIMS, -159, "invalid claims", "token / receipt claims malformed, missing or of another kind") \
    X(FS38_ERR_ERASE, -160, "region not erased", "a region did not read back erased after erasing it") \
    /* security log (control 7) */ \
    X(FS38_ERR_LOG_UNINIT, -180, "security log not initialised", "no security log was created (fs38_log_create)") \
    X(FS38_ERR_LOG_BATCH, -181, "malformed log batch", "not a well-formed log record / batch") \
    X(FS38_ERR_LOG_VERIFY, -182, "log tampering or loss found", "log verification found tampering or loss") \
    /* secure channel and protocols (TLS / DTLS, CoAP, MQTT) */ \
    X(FS38_ERR_TIMEOUT, -200, "timed out", "no answer within the time allowed") \
    X(FS38_ERR_NET, -201, "network unreachable", "cannot connect, or the network failed under the connection") \
    X(FS38_ERR_TLS, -202, "secure channel refused", \
      "TLS/DTLS handshake or peer authentication failed (CA, validity, host name, version, suite)") \
    X(FS38_ERR_CLOSED, -203, "connection closed", "the peer closed the connection") \
    X(FS38_ERR_PROTOCOL, -204, "protocol error", "a CoAP / MQTT message is malformed, oversized or unexpected") \
    X(FS38_ERR_PEER, -205, "refused by the peer", "the server answered with a refusal (CoAP 4.xx/5.xx, MQTT return code)") \
    X(FS38_ERR_WRONG_SLOT, -93, "image linked for another slot", \
      "the envelope binds its image to another slot (SUIT component-slot), or is bound to none where a binding is required")

#define FS38_ERR_ENUMERATOR_(name, value, text, meaning) name = (value),
typedef enum fs38_err {
    FS38_ERR_LIST(FS38_ERR_ENUMERATOR_)
} fs38_err;
#undef FS38_ERR_ENUMERATOR_

/**
 * \brief Short, constant description of an error code (the `text` of FS38_ERR_LIST).
 *
 * \param[in] err Any value.
 * \return A static string; "unknown error" for a value that is no code; never NULL.
 */
const char *fs38_strerror(fs38_err err);

/*
 * A rejection diagnostic: the error code and one sentence naming what failed and where.
 * Fill it with fs38_diag_set(); read diag.msg. Contexts embed one; it may also be NULL
 * wherever a call takes an `fs38_diag *`.
 */
#if FS38_DIAG_TEXT
#define FS38_DIAG_MAX 128
#else
#define FS38_DIAG_MAX 1 /* fs38/config.h: diagnostics compiled out, msg is always "" */
#endif
typedef struct fs38_diag {
    fs38_err err;
    char msg[FS38_DIAG_MAX];
} fs38_diag;

/**
 * \brief Reset a diagnostic to FS38_OK and an empty message.
 *
 * \param[out] d Diagnostic; NULL is ignored.
 */
void fs38_diag_clear(fs38_diag *d);

/**
 * \brief Record err alone (no message): d->msg becomes "". What fs38_diag_set() is when
 *        diagnostics are compiled out (FS38_DIAG_TEXT 0 in fs38/config.h).
 *
 * \param[out] d   Diagnostic; may be NULL (then only err is returned).
 * \param[in]  err The code to record.
 * \return err, unchanged.
 */
fs38_err fs38_diag_code(fs38_diag *d, fs38_err err);

#if FS38_DIAG_TEXT
/**
 * \brief Record err with a printf-like message, and hand err back (so `return
 *        fs38_diag_set(d, FS38_ERR_ARG, "...")` rejects in one line).
 *
 * Understood conversions: %s (const char *; NULL prints "(null)"), %d (int), %u (unsigned),
 * %ld / %lld (long / long long), %lu / %llu (unsigned long / unsigned long long), %x (unsigned,
 * hex; also %lx, %llx, %zx), %zu (size_t), %% . No flags, width or precision; an unknown
 * conversion prints '?'. No stdio, no allocation.
 *
 * \param[out] d   Diagnostic; may be NULL (then only err is returned).
 * \param[in]  err The code to record.
 * \param[in]  fmt Format; NULL or one that produces an empty message: the message is
 *                 fs38_strerror(err). Never pass a secret as an argument.
 * \return err, unchanged.
 * \note The message is truncated to FS38_DIAG_MAX - 1 bytes and always NUL-terminated. The
 *       arguments are copied into d->msg; nothing is kept by pointer.
 */
fs38_err fs38_diag_set(fs38_diag *d, fs38_err err, const char *fmt, ...);
#else
/**
 * \brief Never defined, never called: with diagnostics compiled out (FS38_DIAG_TEXT 0),
 *        fs38_diag_set(d, err, fmt, ...) expands to fs38_diag_code(d, err) with its format and
 *        arguments type-checked as the operand of sizeof (a call to this declaration, never
 *        evaluated: no code, no strings).
 * \param[in] fmt The format, and its arguments.
 * \return Nothing at run time (an unevaluated operand).
 */
int fs38_diag_unused_(const char *fmt, ...);
#define fs38_diag_set(d, err, ...) ((void)sizeof(fs38_diag_unused_(__VA_ARGS__)), fs38_diag_code((d), (err)))
#endif

#ifdef __cplusplus
}
#endif
#endif /* FS38_ERR_H */
