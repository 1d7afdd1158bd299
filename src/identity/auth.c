/* SPDX-License-Identifier: Apache-2.0 */
/* auth.c — local accounts without universal default passwords (control 1). See fs38/auth.h.
 *
 * Records (sealed store, little endian):
 *   "au/u/<user>"  54 bytes: u8 version | u8 flags (1: must change) | u32 iterations |
 *                  16-byte salt | 32-byte PBKDF2-HMAC-SHA-256(password, salt, iterations)
 *                  version 2: the password as normalised by fs38_auth_normalize (every record
 *                  written now); version 1 (written before normalisation existed): the bytes as
 *                  typed, checked as such, so existing credentials keep working unchanged
 *   "au/cost"      u32: the device's cost for new hashes (set at provisioning)
 *   "au/fail"      13 bytes: u8 version 1 | u32 consecutive failures | u64 monotonic ms of the
 *                  last failure (absent: no failure)
 */
#include <string.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include "fs38/auth.h"
#include "fs38/event.h"
#include "fs38/util.h"
#include "inner.h"

#define REC_VERSION 1u
#define REC_VERSION_NORM 2u /* credential records hashing the normalised password */
#define REC_LEN (6u + FS38_AUTH_SALT_LEN + FS38_AUTH_HASH_LEN)
#define FLAG_MUST_CHANGE 0x01u
#define FAIL_LEN 13u
#define NAME_PREFIX "au/u/"
#define REC_COST "au/cost"
#define REC_FAIL "au/fail"

typedef struct {
    uint8_t version;
    uint8_t flags;
    uint32_t iterations;
    uint8_t salt[FS38_AUTH_SALT_LEN];
    uint8_t hash[FS38_AUTH_HASH_LEN];
} cred;

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ---- records ----------------------------------------------------------------------------- */

static bool valid_user(const char *user, size_t *n)
{
    size_t i = 0;
    if (!user)
        return false;
    for (; i <= FS38_AUTH_USER_MAX && user[i]; i++) {
        char c = user[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    *n = i;
    return i >= 1 && i <= FS38_AUTH_USER_MAX;
}

static void rec_name(const char *user, size_t n, char out[sizeof NAME_PREFIX + FS38_AUTH_USER_MAX])
{
    memcpy(out, NAME_PREFIX, sizeof NAME_PREFIX - 1u);
    memcpy(out + sizeof NAME_PREFIX - 1u, user, n);
    out[sizeof NAME_PREFIX - 1u + n] = 0;
}

/* FS38_OK, FS38_ERR_NOT_FOUND (no such user, or an invalid name), or a store error. */
static FS38_NODISCARD fs38_err load_cred(fs38_auth *a, const char *user, cred *c)
{
    char name[sizeof NAME_PREFIX + FS38_AUTH_USER_MAX];
    uint8_t b[REC_LEN];
    size_t n = 0, ul;
    if (!valid_user(user, &ul))
        return FS38_ERR_NOT_FOUND;
    rec_name(user, ul, name);
    fs38_err e = fs38_store_get(a->cfg.store, name, b, sizeof b, &n);
    if (e == FS38_ERR_BUFFER)
        e = FS38_ERR_STORE_CORRUPT;
    if (e == FS38_OK && (n != REC_LEN || (b[0] != REC_VERSION && b[0] != REC_VERSION_NORM) ||
                         fs38_get_le32(b + 2) < FS38_AUTH_ITERATIONS_MIN ||
                         fs38_get_le32(b + 2) > FS38_AUTH_ITERATIONS_MAX))
        e = FS38_ERR_STORE_CORRUPT;
    if (e == FS38_OK) {
        c->version = b[0];
        c->flags = b[1];
        c->iterations = fs38_get_le32(b + 2);
        memcpy(c->salt, b + 6, FS38_AUTH_SALT_LEN);
        memcpy(c->hash, b + 6 + FS38_AUTH_SALT_LEN, FS38_AUTH_HASH_LEN);
    }
    fs38_wipe(b, sizeof b);
    return e;
}

static FS38_NODISCARD fs38_err pbkdf2(const char *pw, size_t len, const uint8_t salt[FS38_AUTH_SALT_LEN], uint32_t iterations,
                       uint8_t out[FS38_AUTH_HASH_LEN])
{
    int ret = mbedtls_pkcs5_pbkdf2_hmac_ext(MBEDTLS_MD_SHA256, (const unsigned char *)pw, len, salt,
                                            FS38_AUTH_SALT_LEN, iterations, FS38_AUTH_HASH_LEN, out);
    return ret == 0 ? FS38_OK : FS38_ERR_CRYPTO;
}

/* The hash a record of `version` holds for pw: version 2 hashes the normalised password; an input
 * that does not normalise (invalid UTF-8, too long) is hashed as it is, so it costs the same and
 * cannot match (a version 2 hash is always of valid normalised text of at most 128 bytes). */
static FS38_NODISCARD fs38_err hash_password(uint8_t version, const char *pw, size_t len,
                                             const uint8_t salt[FS38_AUTH_SALT_LEN], uint32_t iterations,
                                             uint8_t out[FS38_AUTH_HASH_LEN])
{
    char norm[FS38_AUTH_PASSWORD_MAX];
    size_t nl = 0;
    fs38_err e;
    if (version == REC_VERSION_NORM && fs38_auth_normalize(pw, len, norm, &nl, NULL) == FS38_OK)
        e = pbkdf2(norm, nl, salt, iterations, out);
    else
        e = pbkdf2(pw, len, salt, iterations, out);
    fs38_wipe(norm, sizeof norm);
    return e;
}

/* Hash the normalised pw under a new salt and store it as user's credential (version 2). */
static FS38_NODISCARD fs38_err store_cred(fs38_auth *a, const char *user, const char *pw, size_t len, uint8_t flags)
{
    char name[sizeof NAME_PREFIX + FS38_AUTH_USER_MAX];
    uint8_t b[REC_LEN];
    size_t ul;
    if (!valid_user(user, &ul))
        return fs38_diag_set(&a->diag, FS38_ERR_ARG, "invalid user name (1..16 of a-z 0-9 . _ -)");
    char norm[FS38_AUTH_PASSWORD_MAX];
    size_t nl = 0;
    b[0] = REC_VERSION_NORM;
    b[1] = flags;
    fs38_put_le32(b + 2, a->iterations);
    fs38_err e = fs38_auth_normalize(pw, len, norm, &nl, NULL);
    if (e != FS38_OK) {
        fs38_wipe(b, sizeof b);
        return fs38_diag_set(&a->diag, e, "cannot store the credential: the password is not valid UTF-8 of at "
                                          "most %u bytes", FS38_AUTH_PASSWORD_MAX);
    }
    e = psa_generate_random(b + 6, FS38_AUTH_SALT_LEN) == PSA_SUCCESS ? FS38_OK : FS38_ERR_CRYPTO;
    if (e == FS38_OK)
        e = pbkdf2(norm, nl, b + 6, a->iterations, b + 6 + FS38_AUTH_SALT_LEN);
    fs38_wipe(norm, sizeof norm);
    if (e == FS38_OK) {
        rec_name(user, ul, name);
        e = fs38_store_put(a->cfg.store, name, b, sizeof b);
    }
    fs38_wipe(b, sizeof b);
    if (e != FS38_OK)
        return fs38_diag_set(&a->diag, e, "cannot store the credential (%s)", fs38_strerror(e));
    return FS38_OK;
}

static FS38_NODISCARD fs38_err load_fail(fs38_auth *a, uint32_t *failures, uint64_t *last_ms)
{
    uint8_t b[FAIL_LEN];
    size_t n = 0;
    *failures = 0;
    *last_ms = 0;
    fs38_err e = fs38_store_get(a->cfg.store, REC_FAIL, b, sizeof b, &n);
    if (e == FS38_ERR_NOT_FOUND)
        return FS38_OK;
    if (e == FS38_OK && (n != FAIL_LEN || b[0] != REC_VERSION))
        e = FS38_ERR_STORE_CORRUPT;
    if (e != FS38_OK)
        return fs38_diag_set(&a->diag, e, "cannot read the failure counter (%s)", fs38_strerror(e));
    *failures = fs38_get_le32(b + 1);
    *last_ms = fs38_get_le64(b + 5);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err save_fail(fs38_auth *a, uint32_t failures, uint64_t last_ms)
{
    uint8_t b[FAIL_LEN];
    b[0] = REC_VERSION;
    fs38_put_le32(b + 1, failures);
    fs38_put_le32(b + 5, (uint32_t)last_ms);
    fs38_put_le32(b + 9, (uint32_t)(last_ms >> 32));
    fs38_err e = failures ? fs38_store_put(a->cfg.store, REC_FAIL, b, sizeof b)
                          : fs38_store_delete(a->cfg.store, REC_FAIL);
    if (e != FS38_OK)
        return fs38_diag_set(&a->diag, e, "cannot record the failure counter (%s)", fs38_strerror(e));
    return FS38_OK;
}

/* ---- set-up ------------------------------------------------------------------------------- */

fs38_err fs38_auth_init(fs38_auth *a, const fs38_auth_config *cfg)
{
    if (!a || !cfg || !cfg->store || !cfg->port || !cfg->port->monotonic_ms || (!cfg->ueid && cfg->ueid_len))
        return FS38_ERR_ARG;
    memset(a, 0, sizeof *a);
    a->cfg = *cfg;
    if (!a->cfg.lockout_threshold)
        a->cfg.lockout_threshold = FS38_AUTH_LOCKOUT_THRESHOLD;
    if (!a->cfg.backoff_base_s)
        a->cfg.backoff_base_s = FS38_AUTH_BACKOFF_BASE_S;
    if (!a->cfg.backoff_max_s)
        a->cfg.backoff_max_s = FS38_AUTH_BACKOFF_MAX_S;
    a->iterations = cfg->iterations;
    if (!a->iterations) {
        uint8_t b[4];
        size_t n = 0;
        fs38_err e = fs38_store_get(cfg->store, REC_COST, b, sizeof b, &n);
        if (e == FS38_OK && n == 4)
            a->iterations = fs38_get_le32(b);
        else if (e != FS38_OK && e != FS38_ERR_NOT_FOUND)
            return fs38_diag_set(&a->diag, e, "cannot read the password cost (%s)", fs38_strerror(e));
        if (!a->iterations)
            a->iterations = FS38_AUTH_ITERATIONS_DEFAULT;
    }
    if (a->iterations < FS38_AUTH_ITERATIONS_MIN || a->iterations > FS38_AUTH_ITERATIONS_MAX)
        return fs38_diag_set(&a->diag, FS38_ERR_ARG, "PBKDF2 cost %u outside %u..%u", a->iterations,
                             FS38_AUTH_ITERATIONS_MIN, FS38_AUTH_ITERATIONS_MAX);
    return FS38_OK;
}

uint32_t fs38_auth_backoff_s(const fs38_auth *a, uint32_t failures)
{
    if (failures < a->cfg.lockout_threshold)
        return 0;
    uint64_t s = a->cfg.backoff_base_s;
    for (uint32_t i = a->cfg.lockout_threshold; i < failures && s < a->cfg.backoff_max_s; i++)
        s *= 2u;
    return s > a->cfg.backoff_max_s ? a->cfg.backoff_max_s : (uint32_t)s;
}

fs38_err fs38_auth_provision(fs38_auth *a, const char *user, char setup[FS38_AUTH_SETUP_LEN + 1])
{
    static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz"; /* Crockford base32 */
    uint8_t rnd[(FS38_AUTH_SETUP_BITS + 7u) / 8u];
    uint8_t cost[4];
    if (!a || !setup)
        return FS38_ERR_ARG;
    size_t ul;
    if (!valid_user(user, &ul)) /* refused before anything is written */
        return fs38_diag_set(&a->diag, FS38_ERR_ARG, "invalid user name (1..16 of a-z 0-9 . _ -)");
    if (psa_generate_random(rnd, sizeof rnd) != PSA_SUCCESS)
        return fs38_diag_set(&a->diag, FS38_ERR_CRYPTO, "random generation failed");
    size_t o = 0;
    for (unsigned i = 0; i < FS38_AUTH_SETUP_BITS / 5u; i++) {
        unsigned bit = i * 5u, v = 0;
        for (unsigned k = 0; k < 5u; k++, bit++)
            v = v << 1 | (unsigned)((rnd[bit / 8u] >> (7u - bit % 8u)) & 1u);
        if (i && i % 5u == 0)
            setup[o++] = '-';
        setup[o++] = alphabet[v];
    }
    setup[o] = 0;
    fs38_wipe(rnd, sizeof rnd);
    fs38_put_le32(cost, a->iterations);
    fs38_err e = fs38_store_put(a->cfg.store, REC_COST, cost, sizeof cost);
    if (e != FS38_OK)
        fs38_diag_set(&a->diag, e, "cannot record the password cost (%s)", fs38_strerror(e));
    if (e == FS38_OK)
        e = save_fail(a, 0, 0); /* sets the diag on failure */
    if (e == FS38_OK)
        e = store_cred(a, user, setup, o, FLAG_MUST_CHANGE); /* idem */
    if (e != FS38_OK) {
        fs38_wipe(setup, FS38_AUTH_SETUP_LEN + 1u);
        return e;
    }
    a->failures = 0;
    return FS38_OK;
}

/* ---- checking a password ------------------------------------------------------------------ */

/* Back-off still running after `failures` with the last one at last_ms? (0 = none). Moves a
 * last_ms that lies in the clock's future (the clock restarted) to now and persists it. */
static FS38_NODISCARD fs38_err backoff_left(fs38_auth *a, uint32_t failures, uint64_t *last_ms, uint64_t now, uint32_t *left_s)
{
    *left_s = 0;
    const uint64_t b = (uint64_t)fs38_auth_backoff_s(a, failures) * 1000u;
    if (b == 0)
        return FS38_OK;
    if (now < *last_ms) { /* reboot: the back-off restarts now, it is never shortened */
        *last_ms = now;
        fs38_err e = save_fail(a, failures, now);
        if (e != FS38_OK)
            return e;
    }
    const uint64_t gone = now - *last_ms;
    if (gone < b)
        *left_s = (uint32_t)((b - gone + 999u) / 1000u);
    return FS38_OK;
}

/*
 * The common path of login and change: lockout check, failure counted before the check,
 * PBKDF2 (dummy work for an unknown user), constant-time comparison, counter cleared on
 * success. FS38_OK (right password; *must_change set), FS38_ERR_AUTH_REFUSED,
 * FS38_ERR_AUTH_LOCKED, or another error.
 */
static FS38_NODISCARD fs38_err check_password_locked(fs38_auth *a, const char *user, const char *pw, size_t len,
                                                     bool *must_change, const char *what)
{
    static const uint8_t dummy_salt[FS38_AUTH_SALT_LEN] = "fs38 no such usr";
    uint32_t failures, left;
    uint64_t last;
    cred c;
    uint8_t got[FS38_AUTH_HASH_LEN];
    a->retry_after_s = 0;
    fs38_diag_clear(&a->diag);
    if (!user || (!pw && len))
        return FS38_ERR_ARG;
    fs38_err e = load_fail(a, &failures, &last);
    if (e != FS38_OK)
        return e;
    const uint64_t now = a->cfg.port->monotonic_ms(a->cfg.port->ctx);
    e = backoff_left(a, failures, &last, now, &left);
    if (e != FS38_OK)
        return e;
    a->failures = failures;
    if (left) {
        a->retry_after_s = left;
        fs38_event(FS38_EV_LOGIN_FAILED, FS38_SEV_WARNING, (int64_t)failures, "attempt refused: back-off running");
        return fs38_diag_set(&a->diag, FS38_ERR_AUTH_LOCKED, "%s refused: too many failed attempts, retry in %u s",
                             what, left);
    }
    /* Count the failure first: cutting the power after a wrong guess must not undo it. */
    if (failures < UINT32_MAX)
        failures++;
    e = save_fail(a, failures, now);
    if (e != FS38_OK)
        return e;

    e = load_cred(a, user, &c);
    const bool known = e == FS38_OK;
    if (e != FS38_OK && e != FS38_ERR_NOT_FOUND) {
        fs38_wipe(&c, sizeof c);
        return fs38_diag_set(&a->diag, e, "cannot read the credential (%s)", fs38_strerror(e));
    }
    if (!known) { /* the same work, and the same answer, as for a wrong password */
        memset(&c, 0, sizeof c);
        c.iterations = a->iterations;
        memcpy(c.salt, dummy_salt, sizeof c.salt);
    }
    e = hash_password(c.version, pw, len, c.salt, c.iterations, got);
    const bool right = e == FS38_OK && (fs38_ct_compare(got, c.hash, sizeof got) == 0) & known;
    fs38_wipe(got, sizeof got);
    *must_change = (c.flags & FLAG_MUST_CHANGE) != 0;
    const uint32_t rec_iterations = c.iterations;
    fs38_wipe(&c, sizeof c);
    if (e != FS38_OK)
        return fs38_diag_set(&a->diag, e, "password hashing failed");
    if (!right) {
        a->failures = failures;
        fs38_event(FS38_EV_LOGIN_FAILED, FS38_SEV_WARNING, (int64_t)failures,
                   known ? "wrong password" : "unknown user");
        const uint32_t b = fs38_auth_backoff_s(a, failures);
        if (b) {
            a->retry_after_s = b;
            fs38_event(FS38_EV_LOCKOUT, FS38_SEV_WARNING, (int64_t)b, "back-off after consecutive failed attempts");
            return fs38_diag_set(&a->diag, FS38_ERR_AUTH_REFUSED, "%s refused; %u failed attempts: locked out for %u s",
                                 what, failures, b);
        }
        return fs38_diag_set(&a->diag, FS38_ERR_AUTH_REFUSED, "%s refused", what);
    }
    a->failures = 0;
    e = save_fail(a, 0, 0);
    if (e != FS38_OK)
        return e;
    /* A record made with a lower cost than the device's is upgraded at the next right login. */
    if (!*must_change && rec_iterations < a->iterations)
        if (store_cred(a, user, pw, len, 0) != FS38_OK) {
            /* best effort: the old record stays valid and the login has succeeded; the upgrade
             * is tried again at the next right login */
        }
    return FS38_OK;
}

/* One critical section under the port's device lock (fs38/port.h, "Concurrency"): the lockout
 * check, the failure counted, the password checked and the counter cleared happen for one
 * attempt at a time, so N parallel guesses (tasks, threads, processes) never check more
 * passwords than the back-off allows, and a right password cannot clear failures counted by
 * attempts running beside it. */
static FS38_NODISCARD fs38_err check_password(fs38_auth *a, const char *user, const char *pw, size_t len, bool *must_change,
                                              const char *what)
{
    fs38_err e = fs38_port_lock(a->cfg.port);
    if (e != FS38_OK)
        return fs38_diag_set(&a->diag, e, "%s: cannot take the device lock (%s)", what, fs38_strerror(e));
    e = check_password_locked(a, user, pw, len, must_change, what);
    fs38_port_unlock(a->cfg.port);
    return e;
}

fs38_err fs38_auth_login(fs38_auth *a, const char *user, const char *password, size_t len)
{
    bool must_change = false;
    if (!a)
        return FS38_ERR_ARG;
    fs38_err e = check_password(a, user, password, len, &must_change, "login");
    if (e != FS38_OK)
        return e;
    if (must_change) {
        fs38_event(FS38_EV_LOGIN_OK, FS38_SEV_NOTICE, 0, "setup credential accepted: password change required");
        return fs38_diag_set(&a->diag, FS38_ERR_AUTH_CHANGE,
                             "password change required: the setup credential only allows setting a new password");
    }
    fs38_event(FS38_EV_LOGIN_OK, FS38_SEV_INFO, 0, "login");
    return FS38_OK;
}

/* ---- policy --------------------------------------------------------------------------------- */

bool fs38_password_listed(const char *list, size_t list_len, const char *pw, size_t len)
{
    size_t i = 0;
    while (i < list_len) {
        size_t n = 0;
        while (i + n < list_len && list[i + n])
            n++;
        if (n == len) {
            size_t k = 0;
            while (k < len && lower(pw[k]) == list[i + k])
                k++;
            if (k == len)
                return true;
        }
        i += n + 1u;
    }
    return false;
}

/* Does hay (lower case) contain any window of `win` characters of id (compared ignoring case)? */
static bool contains_piece(const char *hay, size_t hl, const char *id, size_t il, size_t win)
{
    if (il < win)
        win = il;
    if (win == 0 || hl < win)
        return false;
    for (size_t s = 0; s + win <= il; s++)
        for (size_t h = 0; h + win <= hl; h++) {
            size_t k = 0;
            while (k < win && hay[h + k] == lower(id[s + k]))
                k++;
            if (k == win)
                return true;
        }
    return false;
}

static FS38_NODISCARD fs38_err refuse(fs38_diag *d, const char *why)
{
    fs38_event(FS38_EV_PASSWORD_REFUSED, FS38_SEV_NOTICE, 0, why);
    return fs38_diag_set(d, FS38_ERR_PASSWORD_POLICY, "%s", why);
}

/*
 * One code point of strict UTF-8 (RFC 3629) at s[i..len): its length (1..4), or 0 with *why
 * set: a stray continuation byte, a truncated sequence, an overlong encoding, a surrogate
 * (U+D800..DFFF), or a value above U+10FFFF.
 */
static size_t utf8_next(const uint8_t *s, size_t len, size_t i, uint32_t *cp, const char **why)
{
    const uint8_t c = s[i];
    size_t n;
    uint32_t v, min;
    if (c < 0x80u) {
        *cp = c;
        return 1;
    }
    if (c < 0xC0u) {
        *why = "a continuation byte without a lead byte";
        return 0;
    }
    if (c < 0xE0u) {
        n = 2;
        v = c & 0x1Fu;
        min = 0x80u;
    } else if (c < 0xF0u) {
        n = 3;
        v = c & 0x0Fu;
        min = 0x800u;
    } else if (c < 0xF8u) {
        n = 4;
        v = c & 0x07u;
        min = 0x10000u;
    } else {
        *why = "a byte that never occurs in UTF-8";
        return 0;
    }
    if (len - i < n) {
        *why = "a truncated sequence";
        return 0;
    }
    for (size_t k = 1; k < n; k++) {
        if ((s[i + k] & 0xC0u) != 0x80u) {
            *why = "a truncated sequence";
            return 0;
        }
        v = v << 6 | (s[i + k] & 0x3Fu);
    }
    if (v < min) {
        *why = "an overlong encoding";
        return 0;
    }
    if (v >= 0xD800u && v <= 0xDFFFu) {
        *why = "an encoded surrogate";
        return 0;
    }
    if (v > 0x10FFFFu) {
        *why = "a code point above U+10FFFF";
        return 0;
    }
    *cp = v;
    return n;
}

/* Unicode space separators (general category Zs). */
static bool is_space_separator(uint32_t cp)
{
    return cp == 0x20u || cp == 0xA0u || cp == 0x1680u || (cp >= 0x2000u && cp <= 0x200Au) || cp == 0x202Fu ||
           cp == 0x205Fu || cp == 0x3000u;
}

fs38_err fs38_auth_normalize(const char *pw, size_t len, char out[FS38_AUTH_PASSWORD_MAX], size_t *out_len,
                             fs38_diag *d)
{
    const uint8_t *s = (const uint8_t *)pw;
    size_t o = 0;
    bool space = false; /* a space is pending: written only if something follows it */
    if (!out || !out_len || (!pw && len))
        return FS38_ERR_ARG;
    *out_len = 0;
    if (len > FS38_AUTH_PASSWORD_MAX)
        return fs38_diag_set(d, FS38_ERR_PASSWORD_POLICY, "too long: at most %u bytes", FS38_AUTH_PASSWORD_MAX);
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        const char *why = "";
        const size_t n = utf8_next(s, len, i, &cp, &why);
        if (!n) {
            fs38_wipe(out, o);
            return fs38_diag_set(d, FS38_ERR_PASSWORD_POLICY, "not valid UTF-8: %s at byte %zu", why, i);
        }
        if (is_space_separator(cp)) {
            space = o > 0; /* leading spaces are dropped, runs become one */
        } else {
            if (space)
                out[o++] = ' ';
            space = false;
            if (cp >= 0xFF01u && cp <= 0xFF5Eu) { /* fullwidth ASCII: NFKC's mapping */
                out[o++] = (char)(cp - 0xFEE0u);
            } else {
                memcpy(out + o, s + i, n);
                o += n;
            }
        }
        i += n; /* o <= i: no mapping makes the text longer */
    }
    *out_len = o;
    return FS38_OK;
}

fs38_err fs38_auth_check_policy(const fs38_auth *a, const char *user, const char *pw, size_t len, fs38_diag *d)
{
    char norm[FS38_AUTH_PASSWORD_MAX], low[FS38_AUTH_PASSWORD_MAX];
    size_t nl = 0;
    fs38_err e = FS38_OK;
    if (!a || (!pw && len))
        return FS38_ERR_ARG;
    if (len > FS38_AUTH_PASSWORD_MAX)
        return refuse(d, "too long: at most 128 bytes");
    fs38_diag nd;
    fs38_diag_clear(&nd);
    if (fs38_auth_normalize(pw, len, norm, &nl, &nd) != FS38_OK)
        return refuse(d, nd.msg); /* names the rule and a byte offset, never the password */
    /* Rules on code points of the normalised text (ASCII letters folded to lower case). */
    size_t chars = 0;
    uint32_t first = 0, prev = 0;
    bool same = nl > 0, up = true, down = true;
    for (size_t i = 0; i < nl;) {
        uint32_t cp = 0;
        const char *why = "";
        const size_t n = utf8_next((const uint8_t *)norm, nl, i, &cp, &why); /* valid: normalised */
        if (!n || cp < 0x20u || cp == 0x7Fu || (cp >= 0x80u && cp <= 0x9Fu)) {
            fs38_wipe(norm, sizeof norm);
            return refuse(d, "control characters are not allowed");
        }
        if (cp >= 'A' && cp <= 'Z')
            cp += 'a' - 'A';
        if (chars == 0)
            first = cp;
        else {
            same = same && cp == first;
            up = up && cp == prev + 1u;
            down = down && cp + 1u == prev;
        }
        prev = cp;
        chars++;
        i += n;
    }
    up = up && chars > 1;
    down = down && chars > 1;
    for (size_t i = 0; i < nl; i++)
        low[i] = lower(norm[i]);
    size_t ul = 0;
    while (user && ul <= FS38_AUTH_USER_MAX && user[ul])
        ul++;
    char hex[2u * 64u + 1u];
    size_t hl = 0;
    if (a->cfg.ueid && a->cfg.ueid_len <= 64u) {
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < a->cfg.ueid_len; i++) {
            hex[hl++] = digits[a->cfg.ueid[i] >> 4];
            hex[hl++] = digits[a->cfg.ueid[i] & 15u];
        }
    }
    hex[hl] = 0;
    size_t sl = 0;
    while (a->cfg.serial && sl < 64u && a->cfg.serial[sl])
        sl++;

    if (fs38_password_listed(fs38_passwords_mirai, fs38_passwords_mirai_len, norm, nl))
        e = refuse(d, "it is one of the Mirai botnet's default passwords");
    else if (fs38_password_listed(fs38_passwords_common, fs38_passwords_common_len, norm, nl))
        e = refuse(d, "it is one of the most common passwords");
    else if (chars < FS38_AUTH_PASSWORD_MIN)
        e = refuse(d, "too short: at least 8 characters");
    else if (same)
        e = refuse(d, "a single repeated character");
    else if (up || down)
        e = refuse(d, "a run of consecutive characters");
    else if (contains_piece(low, nl, hex, hl, 8) || contains_piece(low, nl, a->cfg.serial, sl, 8))
        e = refuse(d, "it contains this device's UEID or serial number");
    else if (ul >= 3 && contains_piece(low, nl, user, ul, ul))
        e = refuse(d, "it contains the user name");
    fs38_wipe(low, sizeof low);
    fs38_wipe(norm, sizeof norm);
    return e;
}

/* Are two passwords the same after normalisation? (Constant-time over the normalised bytes.) */
static bool same_password(const char *x, size_t xl, const char *y, size_t yl)
{
    char nx[FS38_AUTH_PASSWORD_MAX], ny[FS38_AUTH_PASSWORD_MAX];
    size_t nxl = 0, nyl = 0;
    bool same;
    if (fs38_auth_normalize(x, xl, nx, &nxl, NULL) == FS38_OK && fs38_auth_normalize(y, yl, ny, &nyl, NULL) == FS38_OK)
        same = nxl == nyl && fs38_ct_compare(nx, ny, nxl) == 0;
    else
        same = xl == yl && fs38_ct_compare(x, y, xl) == 0;
    fs38_wipe(nx, sizeof nx);
    fs38_wipe(ny, sizeof ny);
    return same;
}

static FS38_NODISCARD fs38_err auth_change(fs38_auth *a, const char *user, const char *current, size_t current_len,
                                           const char *new_password, size_t new_len)
{
    bool must_change = false;
    fs38_err e = check_password(a, user, current, current_len, &must_change, "password change");
    if (e != FS38_OK)
        return e;
    e = fs38_auth_check_policy(a, user, new_password, new_len, &a->diag);
    if (e == FS38_OK && same_password(new_password, new_len, current, current_len))
        e = refuse(&a->diag, "it is the current password");
    if (e != FS38_OK)
        return e;
    e = store_cred(a, user, new_password, new_len, 0);
    if (e != FS38_OK)
        return e;
    fs38_event(FS38_EV_PASSWORD_CHANGED, FS38_SEV_NOTICE, 0, must_change ? "setup credential replaced" : "password changed");
    return FS38_OK;
}

fs38_err fs38_auth_change(fs38_auth *a, const char *user, const char *current, size_t current_len,
                          const char *new_password, size_t new_len)
{
    if (!a || (!new_password && new_len))
        return FS38_ERR_ARG;
    /* the check of the current password and the store of the new one are one critical section:
     * two parallel changes never both pass the check against the same old credential */
    fs38_err e = fs38_port_lock(a->cfg.port);
    if (e != FS38_OK)
        return e;
    e = auth_change(a, user, current, current_len, new_password, new_len);
    fs38_port_unlock(a->cfg.port);
    return e;
}

fs38_err fs38_auth_status(fs38_auth *a, uint32_t *failures, uint32_t *retry_after_s)
{
    uint32_t f, left;
    uint64_t last;
    if (!a || !failures || !retry_after_s)
        return FS38_ERR_ARG;
    fs38_err e = fs38_port_lock(a->cfg.port); /* backoff_left may rewrite the failure record */
    if (e != FS38_OK)
        return e;
    e = load_fail(a, &f, &last);
    if (e == FS38_OK)
        e = backoff_left(a, f, &last, a->cfg.port->monotonic_ms(a->cfg.port->ctx), &left);
    fs38_port_unlock(a->cfg.port);
    if (e != FS38_OK)
        return e;
    *failures = f;
    *retry_after_s = left;
    return FS38_OK;
}
