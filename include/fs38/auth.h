/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/auth.h — local accounts without universal default passwords (control 1).
 *
 * Provisioning gives each device its own setup credential for the local account (`admin` on
 * the reference device): 20 characters of Crockford base32 (100 bits) from PSA's DRBG, shown
 * once (for the label) as xxxxx-xxxxx-xxxxx-xxxxx and stored only as a salted slow hash:
 * PBKDF2-HMAC-SHA-256 (Mbed TLS PKCS#5: this PSA build has no PBKDF2) with a 16-byte random
 * salt and a tunable iteration count that each record carries. Records live in the sealed store
 * ("au/u/<user>"; "au/cost" the device's cost; "au/fail" the failure counter).
 *
 * Logging in with the setup credential returns FS38_ERR_AUTH_CHANGE, never FS38_OK: the
 * password must be changed (fs38_auth_change) before any login succeeds. A caller that only
 * grants access on FS38_OK therefore cannot skip the change.
 *
 * Normalisation (fs38_auth_normalize; SP 800-63B asks for NFKC/NFKD, whose tables do not fit a
 * device, so fs38 applies this documented subset of NFKC plus whitespace trimming). A password
 * must be strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF,
 * no stray or missing continuation bytes) of at most FS38_AUTH_PASSWORD_MAX bytes. Then:
 *   1. every Unicode space separator (category Zs: U+0020, U+00A0, U+1680, U+2000..U+200A,
 *      U+202F, U+205F, U+3000) becomes U+0020;
 *   2. fullwidth ASCII U+FF01..U+FF5E becomes U+0021..U+007E (NFKC's own mapping);
 *   3. leading and trailing spaces are removed and every run of spaces inside becomes one.
 * Nothing else changes (no case folding, no other compatibility mappings, no composition).
 * The policy checks the normalised text, and the stored hash is of the normalised text, so
 * "pass word", " pass word " and "ｐａｓｓ　ｗｏｒｄ" are the same password. Credentials
 * stored before normalisation existed (record version 1) are checked against the bytes as
 * typed, so they keep working; every password set now is stored normalised (version 2).
 *
 * Password policy (NIST SP 800-63B §3.1.1.2; no composition rules, no expiry), in this order:
 * at most FS38_AUTH_PASSWORD_MAX bytes; valid UTF-8; after normalisation no control characters
 * (C0, DEL, C1); not one of the Mirai botnet's passwords (src/identity/passwords_mirai.c) nor of the
 * most common passwords (src/identity/passwords_common.c), ignoring ASCII case; at least
 * FS38_AUTH_PASSWORD_MIN characters (Unicode code points); not a single repeated character
 * nor a run of consecutive characters ("abcdefgh", "87654321", by code point); no 8-character
 * piece of this device's UEID (hex) or serial; not containing the user name (names of 3 or more
 * characters); not the current password (compared normalised, fs38_auth_change only). The
 * refusal names the rule, never the password.
 *
 * Failed attempts: a device-wide counter (so it says nothing about which users exist) is
 * incremented and persisted BEFORE the password is checked — a power cut after a wrong guess
 * cannot erase the failure — and cleared after a right one. From FS38_AUTH_LOCKOUT_THRESHOLD
 * consecutive failures on, every attempt must wait a back-off of backoff_base_s, doubling with
 * each further failure up to backoff_max_s; during it attempts are refused without looking at
 * the password. The back-off is measured on the port's monotonic clock from the last failure,
 * persisted with it: when the clock reads less than the stored time (a reboot restarted it) the
 * stored time is moved to now, so a reboot restarts the back-off and never shortens it.
 * Each failure raises FS38_EV_LOGIN_FAILED (arg: consecutive failures), each failure that starts
 * a back-off FS38_EV_LOCKOUT (arg: seconds). An unknown user costs the same PBKDF2 work as a
 * known one and gets the same refusal, FS38_ERR_AUTH_REFUSED.
 *
 * Password bytes are wiped from every buffer of the library after use; they never appear in
 * diagnostics or events. Caller-owned context (fs38_auth_init only: it holds no resource); no
 * allocation; one context per thread. Contexts in several tasks or processes share the records
 * through the store and are serialised by the port's device lock (fs38/port.h), which a login,
 * a change's password check and fs38_auth_status hold for their whole check.
 */
#ifndef FS38_AUTH_H
#define FS38_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fs38/err.h"
#include "fs38/port.h"
#include "fs38/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FS38_AUTH_USER_MAX 16u            /* user names: 1..16 of [a-z0-9._-] */
#define FS38_AUTH_PASSWORD_MIN 8u         /* characters */
#define FS38_AUTH_PASSWORD_MAX 128u       /* bytes */
#define FS38_AUTH_SETUP_LEN 23u           /* "xxxxx-xxxxx-xxxxx-xxxxx" (without the NUL) */
#define FS38_AUTH_SETUP_BITS 100u
#define FS38_AUTH_SALT_LEN 16u
#define FS38_AUTH_HASH_LEN 32u
#define FS38_AUTH_ITERATIONS_DEFAULT 100000u /* PBKDF2 iterations when nothing else is set */
#define FS38_AUTH_ITERATIONS_MIN 1000u       /* the lowest cost accepted (tests); use >= 10000 */
#define FS38_AUTH_ITERATIONS_MAX 10000000u
#define FS38_AUTH_LOCKOUT_THRESHOLD 3u       /* consecutive failures before the back-off */
#define FS38_AUTH_BACKOFF_BASE_S 30u
#define FS38_AUTH_BACKOFF_MAX_S 3600u

typedef struct fs38_auth_config {
    fs38_store *store;            /* the sealed store holding the records */
    const fs38_port *port;        /* monotonic_ms times the back-off */
    uint32_t iterations;          /* cost of new hashes: 0 = the device's recorded cost or the default */
    uint32_t lockout_threshold;   /* 0 = FS38_AUTH_LOCKOUT_THRESHOLD */
    uint32_t backoff_base_s;      /* 0 = FS38_AUTH_BACKOFF_BASE_S */
    uint32_t backoff_max_s;       /* 0 = FS38_AUTH_BACKOFF_MAX_S */
    const uint8_t *ueid;          /* the device's UEID: no piece of it in a password (may be NULL) */
    size_t ueid_len;
    const char *serial;           /* another device identifier (label serial) or NULL */
} fs38_auth_config;

typedef struct fs38_auth {
    fs38_auth_config cfg;
    uint32_t iterations;          /* cost in force for new hashes */
    fs38_diag diag;               /* why the last call refused (never contains a password) */
    uint32_t failures;            /* consecutive failures after the last call */
    uint32_t retry_after_s;       /* > 0: seconds before another attempt is looked at */
} fs38_auth;

/*
 * "Store errors" below: what the sealed store answers for the auth records (fs38/store.h) —
 * FS38_ERR_STATE (store not open, or broken by a failed write), FS38_ERR_STORE_CORRUPT (also
 * for an auth record of the wrong length or version), FS38_ERR_STORE_FULL and FS38_ERR_LIMIT
 * (writes), FS38_ERR_CRYPTO, FS38_ERR_IO / FS38_ERR_POWER or another code of the port's flash
 * and counter callbacks, the code of the port's lock(); and FS38_ERR_BUFFER when "au/fail" or
 * "au/cost" is longer than its format. a->diag names the record that failed.
 */

/**
 * \brief Set up a context: copy the configuration, fill in the defaults, and fix the cost of
 *        new hashes (cfg->iterations, else the device's recorded cost "au/cost", else
 *        FS38_AUTH_ITERATIONS_DEFAULT).
 *
 * \param[out] a   Context; zeroed, then filled (untouched when an argument is NULL).
 * \param[in]  cfg Copied. cfg->store (open, and kept open while a is used), cfg->port (needs
 *                 monotonic_ms), ueid and serial are kept by pointer and must outlive a. ueid
 *                 may be NULL (ueid_len 0); a UEID longer than 64 bytes is not checked against
 *                 passwords at all. serial: NUL-terminated or NULL (its first 64 bytes count).
 * \return FS38_OK; FS38_ERR_ARG when a, cfg, cfg->store, cfg->port or cfg->port->monotonic_ms
 *         is NULL, ueid is NULL with a length, or the cost is outside
 *         FS38_AUTH_ITERATIONS_MIN..FS38_AUTH_ITERATIONS_MAX; store errors reading "au/cost"
 *         (only when cfg->iterations is 0; a missing or shorter record means the default).
 */
FS38_NODISCARD fs38_err fs38_auth_init(fs38_auth *a, const fs38_auth_config *cfg);

/**
 * \brief Create (or replace) `user` with a fresh setup credential (FS38_AUTH_SETUP_BITS from
 *        PSA's RNG, Crockford base32, "xxxxx-xxxxx-xxxxx-xxxxx"), marked must-change. Records
 *        the cost in force (a->iterations) as the device's cost "au/cost" and clears the failure
 *        counter, in that order, then stores the credential. Only for provisioning.
 *
 * \param[in,out] a     Initialised context (a->failures = 0 on FS38_OK; a->diag on failure).
 * \param[in]     user  NUL-terminated, 1..FS38_AUTH_USER_MAX of [a-z0-9._-].
 * \param[out]    setup FS38_AUTH_SETUP_LEN characters + NUL on FS38_OK, to be shown once
 *                      (label) and then wiped by the caller; wiped by the library on failure.
 * \return FS38_OK; FS38_ERR_ARG when a or setup is NULL, or user is not a valid name (refused
 *         before anything is written); FS38_ERR_CRYPTO when the RNG or
 *         PBKDF2 fails; store errors (put "au/cost", delete "au/fail", put "au/u/<user>").
 * \note The credential is stored only as a salted PBKDF2 hash; no event is raised.
 */
FS38_NODISCARD fs38_err fs38_auth_provision(fs38_auth *a, const char *user, char setup[FS38_AUTH_SETUP_LEN + 1]);

/**
 * \brief Log in: under the device lock, refuse during a back-off, count the failure first
 *        (persisted), check the password (PBKDF2 of the normalised text for version 2 records,
 *        the same work for an unknown user), then clear the counter on success. A right
 *        password on a record hashed with a lower cost than a->iterations re-hashes it (best
 *        effort).
 *
 * \param[in,out] a        Initialised context: a->failures (consecutive failures after the
 *                         call), a->retry_after_s (> 0: seconds before the next attempt is
 *                         looked at) and a->diag are set.
 * \param[in]     user     NUL-terminated (must not be NULL); an invalid name is an unknown user.
 * \param[in]     password len bytes, read during the call only (may be NULL when len is 0).
 * \param[in]     len      Bytes.
 * \return FS38_OK: logged in (event FS38_EV_LOGIN_OK). FS38_ERR_AUTH_CHANGE: right setup
 *         credential, but the password must be changed first (FS38_EV_LOGIN_OK, severity
 *         notice). FS38_ERR_AUTH_REFUSED: wrong user or password (FS38_EV_LOGIN_FAILED, plus
 *         FS38_EV_LOCKOUT and a->retry_after_s > 0 when the failures reached the threshold).
 *         FS38_ERR_AUTH_LOCKED: a back-off is running, the password was not looked at
 *         (FS38_EV_LOGIN_FAILED; a->retry_after_s seconds left; the failure is not counted).
 *         FS38_ERR_ARG when a or user is NULL or password is NULL with a length; the port's
 *         lock() code; store errors ("au/fail", "au/u/<user>"); FS38_ERR_CRYPTO when PBKDF2
 *         fails.
 */
FS38_NODISCARD fs38_err fs38_auth_login(fs38_auth *a, const char *user, const char *password, size_t len);

/**
 * \brief Change a password: the current one is checked exactly like a login (same counter,
 *        back-off and refusals, but a setup credential is accepted here), then the new one
 *        against the policy and against the current one; it is stored normalised (record
 *        version 2) with a fresh salt and the cost in force, without the must-change mark.
 *        Raises FS38_EV_PASSWORD_CHANGED.
 *
 * \param[in,out] a            Initialised context (failures, retry_after_s, diag as for login).
 * \param[in]     user         NUL-terminated (must not be NULL).
 * \param[in]     current      current_len bytes (may be NULL when current_len is 0).
 * \param[in]     current_len  Bytes.
 * \param[in]     new_password new_len bytes (may be NULL when new_len is 0).
 * \param[in]     new_len      Bytes.
 * \return FS38_OK; FS38_ERR_AUTH_REFUSED / FS38_ERR_AUTH_LOCKED and their events as for
 *         fs38_auth_login() (never FS38_ERR_AUTH_CHANGE); FS38_ERR_PASSWORD_POLICY when the new
 *         password breaks the policy or equals the current one (a->diag names the rule;
 *         FS38_EV_PASSWORD_REFUSED; the failure counter was already cleared by the right current
 *         password); FS38_ERR_ARG when a or user is NULL or a password is NULL with a length;
 *         the port's lock() code; store errors (also while storing the new credential);
 *         FS38_ERR_CRYPTO (PBKDF2, RNG for the salt).
 * \note The check of the current password and the store of the new one are one critical
 *       section under the device lock: two parallel changes never both pass the check against
 *       the same old credential.
 */
FS38_NODISCARD fs38_err fs38_auth_change(fs38_auth *a, const char *user, const char *current, size_t current_len,
                          const char *new_password, size_t new_len);

/**
 * \brief The password policy alone (see above), without the "not the current password" rule;
 *        reads no record.
 *
 * \param[in]  a        Initialised context (its UEID and serial are used).
 * \param[in]  user     NUL-terminated user name, or NULL (then not checked); checked only when
 *                      it has 3 or more characters.
 * \param[in]  password len bytes (may be NULL when len is 0).
 * \param[in]  len      Bytes.
 * \param[out] d        May be NULL; on refusal the rule broken (never the password).
 * \return FS38_OK; FS38_ERR_PASSWORD_POLICY (raises FS38_EV_PASSWORD_REFUSED); FS38_ERR_ARG
 *         when a is NULL or password is NULL with a length (d not written).
 */
FS38_NODISCARD fs38_err fs38_auth_check_policy(const fs38_auth *a, const char *user, const char *password, size_t len,
                                fs38_diag *d);

/**
 * \brief The normalisation described above.
 *
 * \param[in]  pw      len bytes (may be NULL when len is 0).
 * \param[in]  len     Bytes.
 * \param[out] out     FS38_AUTH_PASSWORD_MAX bytes; receives the normalised text (never longer
 *                     than the input, not NUL-terminated). On a UTF-8 error what was written is
 *                     wiped. Secret: the caller wipes it after use.
 * \param[out] out_len Its length on FS38_OK; 0 on FS38_ERR_PASSWORD_POLICY.
 * \param[out] d       May be NULL; on refusal the reason and byte offset, never the bytes.
 * \return FS38_OK; FS38_ERR_PASSWORD_POLICY when pw is longer than FS38_AUTH_PASSWORD_MAX bytes
 *         or not valid UTF-8 (no event); FS38_ERR_ARG when out or out_len is NULL or pw is NULL
 *         with a length (d not written).
 */
FS38_NODISCARD fs38_err fs38_auth_normalize(const char *pw, size_t len, char out[FS38_AUTH_PASSWORD_MAX],
                                            size_t *out_len, fs38_diag *d);

/**
 * \brief The failure counter and the back-off left now, without attempting anything (under the
 *        device lock). When the clock restarted since the last failure, the stored failure time
 *        is moved to now (a write), as an attempt would.
 *
 * \param[in,out] a             Initialised context (a->diag on failure; a->failures and
 *                              a->retry_after_s are not changed).
 * \param[out]    failures      Consecutive failures; written on FS38_OK only.
 * \param[out]    retry_after_s Seconds of back-off left (0: none); written on FS38_OK only.
 * \return FS38_OK; FS38_ERR_ARG when an argument is NULL; the port's lock() code; store errors
 *         (reading "au/fail", or rewriting it).
 */
FS38_NODISCARD fs38_err fs38_auth_status(fs38_auth *a, uint32_t *failures, uint32_t *retry_after_s);

/**
 * \brief Back-off after `failures` consecutive failures: 0 below the context's lockout
 *        threshold, else backoff_base_s doubled for each failure beyond the threshold, capped
 *        at backoff_max_s.
 *
 * \param[in] a        Initialised context (must not be NULL).
 * \param[in] failures Consecutive failures.
 * \return Seconds.
 */
uint32_t fs38_auth_backoff_s(const fs38_auth *a, uint32_t failures);

/** The embedded lists (src/identity/passwords_mirai.c, passwords_common.c): lower-case
 *  entries, each ending with a NUL; *_len bytes in all. Read-only, static storage. */
extern const char fs38_passwords_mirai[];
extern const size_t fs38_passwords_mirai_len;
extern const char fs38_passwords_common[];
extern const size_t fs38_passwords_common_len;

/**
 * \brief Is password an entry of such a list (ASCII letters of password folded to lower case;
 *        nothing else normalised)? Not constant-time (a policy check, not an authentication).
 *
 * \param[in] list     Entries, each NUL-terminated, list_len bytes in all.
 * \param[in] list_len Bytes.
 * \param[in] password len bytes (may be NULL when len is 0).
 * \param[in] len      Bytes.
 * \return true when an entry equals it; false otherwise.
 */
bool fs38_password_listed(const char *list, size_t list_len, const char *password, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* FS38_AUTH_H */
