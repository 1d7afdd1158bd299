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
 * piece of this device's UEID (hex) or serial; not containing the user name; not the current
 * password (compared normalised). The refusal names the rule, never the password.
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
 * diagnostics or events. Caller-owned context; no allocation; not thread-safe.
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

/* Set up a context (reads the device's recorded cost unless cfg->iterations is set). */
FS38_NODISCARD fs38_err fs38_auth_init(fs38_auth *a, const fs38_auth_config *cfg);

/*
 * Create (or replace) `user` with a fresh setup credential; its text (FS38_AUTH_SETUP_LEN
 * characters + NUL) goes to setup, to be shown once — wipe it afterwards. Records the cost in
 * force as the device's cost and clears the failure counter. Only for provisioning.
 */
FS38_NODISCARD fs38_err fs38_auth_provision(fs38_auth *a, const char *user, char setup[FS38_AUTH_SETUP_LEN + 1]);

/*
 * Log in. FS38_OK: logged in. FS38_ERR_AUTH_CHANGE: right (setup) credential, but the password
 * must be changed first. FS38_ERR_AUTH_REFUSED: wrong user or password (a->retry_after_s > 0
 * when this failure started a back-off). FS38_ERR_AUTH_LOCKED: a back-off is running
 * (a->retry_after_s seconds left); the password was not looked at.
 */
FS38_NODISCARD fs38_err fs38_auth_login(fs38_auth *a, const char *user, const char *password, size_t len);

/*
 * Change a password: the current one is checked exactly like a login (same counter, back-off
 * and refusals), then the new one against the policy (FS38_ERR_PASSWORD_POLICY, a->diag says
 * why; raises FS38_EV_PASSWORD_REFUSED). On success the must-change mark is gone and
 * FS38_EV_PASSWORD_CHANGED is raised.
 */
FS38_NODISCARD fs38_err fs38_auth_change(fs38_auth *a, const char *user, const char *current, size_t current_len,
                          const char *new_password, size_t new_len);

/* The policy alone (FS38_OK or FS38_ERR_PASSWORD_POLICY with the reason in *d). */
FS38_NODISCARD fs38_err fs38_auth_check_policy(const fs38_auth *a, const char *user, const char *password, size_t len,
                                fs38_diag *d);

/*
 * The normalisation above: pw (len bytes) into out (at most FS38_AUTH_PASSWORD_MAX bytes, never
 * longer than the input), its length in *out_len. FS38_OK, or FS38_ERR_PASSWORD_POLICY with the
 * reason in *d (may be NULL): longer than FS38_AUTH_PASSWORD_MAX bytes, or not valid UTF-8 (the
 * reason and byte offset, never the bytes). No allocation; wipe out after use.
 */
FS38_NODISCARD fs38_err fs38_auth_normalize(const char *pw, size_t len, char out[FS38_AUTH_PASSWORD_MAX],
                                            size_t *out_len, fs38_diag *d);

/* Failure counter and the back-off left now, without attempting anything. */
FS38_NODISCARD fs38_err fs38_auth_status(fs38_auth *a, uint32_t *failures, uint32_t *retry_after_s);

/* Back-off (seconds) after `failures` consecutive failures (0 below the threshold). */
uint32_t fs38_auth_backoff_s(const fs38_auth *a, uint32_t failures);

/* The embedded lists: lower-case entries, each ending with a NUL; *_len bytes in all. */
extern const char fs38_passwords_mirai[];
extern const size_t fs38_passwords_mirai_len;
extern const char fs38_passwords_common[];
extern const size_t fs38_passwords_common_len;
/* Is password (len bytes, compared ignoring ASCII case) an entry of such a list? */
bool fs38_password_listed(const char *list, size_t list_len, const char *password, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* FS38_AUTH_H */
