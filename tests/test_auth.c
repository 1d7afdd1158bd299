/* SPDX-License-Identifier: Apache-2.0 */
/* test_auth.c — no universal default passwords (control 1, fs38/auth.h): per-device setup
 * credentials stored only as PBKDF2 hashes, the forced first change, the password policy
 * (NIST SP 800-63B; the Mirai list checked against the audit vectors), exponential back-off
 * persisted across reboots and power cuts, generic refusals, and no password in any event or
 * diagnostic. The back-off runs on a fake monotonic clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include "support.h"
#include "fs38/auth.h"
#include "fs38/event.h"
#include "fs38/store.h"
#include "fs38/util.h"

#define SS 4096u
#define FLASH_SIZE (16u * SS)
#define COST FS38_AUTH_ITERATIONS_MIN

static const void *find(const void *hay, size_t hl, const void *needle, size_t nl)
{
    const uint8_t *h = hay;
    for (size_t i = 0; nl && i + nl <= hl; i++)
        if (memcmp(h + i, needle, nl) == 0)
            return h + i;
    return NULL;
}

/* ---- fake clock, event capture --------------------------------------------------------------- */

static uint64_t g_now_ms;
static uint64_t fake_ms(void *ctx)
{
    (void)ctx;
    return g_now_ms;
}

#define MAX_EVENTS 256
typedef struct {
    fs38_event_code code;
    int64_t arg;
    char detail[FS38_DIAG_MAX];
} ev;
static ev g_ev[MAX_EVENTS];
static size_t g_nev;

static void sink(void *user, const fs38_event_rec *e)
{
    (void)user;
    if (g_nev < MAX_EVENTS) {
        g_ev[g_nev].code = e->code;
        g_ev[g_nev].arg = e->arg;
        snprintf(g_ev[g_nev].detail, sizeof g_ev[g_nev].detail, "%s", e->detail ? e->detail : "");
        g_nev++;
    }
}

static size_t count_events(fs38_event_code c)
{
    size_t n = 0;
    for (size_t i = 0; i < g_nev; i++)
        n += g_ev[i].code == c;
    return n;
}

static const ev *last_event(fs38_event_code c)
{
    for (size_t i = g_nev; i-- > 0;)
        if (g_ev[i].code == c)
            return &g_ev[i];
    return NULL;
}

/* No event detail and no diagnostic may contain (a long enough piece of) a password. */
static void assert_not_leaked(const fs38_auth *a, const char *pw)
{
    if (strlen(pw) < 4)
        return;
    assert_null(strstr(a->diag.msg, pw));
    for (size_t i = 0; i < g_nev; i++)
        if (strstr(g_ev[i].detail, pw))
            fail_msg("event %s detail '%s' contains a password", fs38_event_name(g_ev[i].code), g_ev[i].detail);
}

/* ---- rig -------------------------------------------------------------------------------------- */

typedef struct {
    ts_device d;    /* flash, HUK, sealed store (tests/support.h) */
    fs38_port port; /* the flash port with the fake clock */
    fs38_auth a;
    uint8_t ueid[17];
} rig;

static void rig_auth(rig *r, uint32_t iterations)
{
    r->port = r->d.f.port;
    r->port.monotonic_ms = fake_ms;
    fs38_auth_config ac;
    memset(&ac, 0, sizeof ac);
    ac.store = &r->d.s;
    ac.port = &r->port;
    ac.iterations = iterations;
    ac.ueid = r->ueid;
    ac.ueid_len = sizeof r->ueid;
    ac.serial = "SN-4711-AB12CD34";
    fs38_err e = fs38_auth_init(&r->a, &ac);
    if (e != FS38_OK)
        fail_msg("auth init: %s", r->a.diag.msg);
}

static void rig_new(rig *r)
{
    memset(r, 0, sizeof *r);
    ts_device_new(&r->d, FLASH_SIZE, (fs38_store_config){ NULL, 0, 4u * SS, SS });
    static const uint8_t ueid[17] = { 0x01, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67,
                                      0x89, 0xab, 0xcd, 0xef, 0x10, 0x32, 0x54, 0x76 };
    memcpy(r->ueid, ueid, sizeof ueid);
    rig_auth(r, COST);
    g_now_ms = 1000000;
    g_nev = 0;
    fs38_event_set_sink(sink, NULL);
}

/* Reboot (a full power cycle): store reopened from flash, a fresh auth context configured with
 * iterations (0: the device's recorded cost); nothing kept in RAM. */
static void rig_reboot(rig *r, uint32_t iterations)
{
    ts_device_power_off_on(&r->d);
    ts_device_open(&r->d);
    memset(&r->a, 0, sizeof r->a);
    rig_auth(r, iterations);
}

static void rig_free(rig *r)
{
    fs38_event_set_sink(NULL, NULL);
    ts_device_free(&r->d, false);
}

static FS38_NODISCARD fs38_err login(rig *r, const char *user, const char *pw)
{
    fs38_err e = fs38_auth_login(&r->a, user, pw, strlen(pw));
    assert_not_leaked(&r->a, pw);
    return e;
}

static FS38_NODISCARD fs38_err change(rig *r, const char *user, const char *cur, const char *nw)
{
    fs38_err e = fs38_auth_change(&r->a, user, cur, strlen(cur), nw, strlen(nw));
    assert_not_leaked(&r->a, cur);
    assert_not_leaked(&r->a, nw);
    return e;
}

typedef struct {
    const char *pw;
    const char *why; /* NULL: accepted */
} policy_case;

/* Each case through fs38_auth_check_policy: accepted when why is NULL, else refused with a
 * diagnostic saying why (and, with no_echo, not repeating the password). */
static void check_policy_cases(rig *r, const policy_case *cases, size_t n, bool no_echo)
{
    for (size_t i = 0; i < n; i++) {
        fs38_diag d;
        fs38_diag_clear(&d);
        fs38_err e = fs38_auth_check_policy(&r->a, "admin", cases[i].pw, strlen(cases[i].pw), &d);
        if (!cases[i].why) {
            if (e != FS38_OK)
                fail_msg("case %zu refused: %s", i, d.msg);
            continue;
        }
        if (e != FS38_ERR_PASSWORD_POLICY)
            fail_msg("case %zu accepted, expected a refusal (%s)", i, cases[i].why);
        if (!strstr(d.msg, cases[i].why))
            fail_msg("case %zu: refusal '%s' does not say '%s'", i, d.msg, cases[i].why);
        if (no_echo)
            assert_null(strstr(d.msg, cases[i].pw));
    }
}

/* ---- tests ------------------------------------------------------------------------------------- */

static void test_setup_credential(void **state)
{
    (void)state;
    rig r;
    char s1[FS38_AUTH_SETUP_LEN + 1], s2[FS38_AUTH_SETUP_LEN + 1];
    uint8_t rec[64];
    size_t n = 0;
    rig_new(&r);
    assert_int_equal(fs38_auth_provision(&r.a, "admin", s1), FS38_OK);
    assert_int_equal(strlen(s1), FS38_AUTH_SETUP_LEN);
    for (size_t i = 0; i < FS38_AUTH_SETUP_LEN; i++) {
        if (i % 6 == 5)
            assert_int_equal(s1[i], '-');
        else
            assert_non_null(strchr("0123456789abcdefghjkmnpqrstvwxyz", s1[i]));
    }
    /* stored only as salt + PBKDF2-HMAC-SHA-256 (recomputed here through Mbed TLS's PKCS#5) */
    assert_int_equal(fs38_store_get(&r.d.s, "au/u/admin", rec, sizeof rec, &n), FS38_OK);
    assert_int_equal(n, 54);
    assert_int_equal(rec[0], 2); /* record version 2: the normalised password is hashed */
    assert_int_equal(rec[1] & 1, 1); /* must change */
    uint32_t it = (uint32_t)rec[2] | (uint32_t)rec[3] << 8 | (uint32_t)rec[4] << 16 | (uint32_t)rec[5] << 24;
    assert_int_equal(it, COST);
    assert_null(find(rec, n, s1, strlen(s1)));
    /* a second provisioning gives another credential, and the first one no longer works */
    assert_int_equal(fs38_auth_provision(&r.a, "admin", s2), FS38_OK);
    assert_string_not_equal(s1, s2);
    assert_int_equal(login(&r, "admin", s1), FS38_ERR_AUTH_REFUSED);
    assert_int_equal(login(&r, "admin", s2), FS38_ERR_AUTH_CHANGE);
    /* the credential is in no byte of the flash */
    size_t fl;
    uint8_t *img = ts_read_file(r.d.f.path, &fl);
    assert_non_null(img);
    assert_null(find(img, fl, s2, strlen(s2)));
    free(img);
    rig_free(&r);
}

/* Bad input changes nothing: an invalid user name is refused before the cost, the failure
 * counter or any credential is written. */
static void test_provision_refusal_writes_nothing(void **state)
{
    (void)state;
    rig r;
    char setup[FS38_AUTH_SETUP_LEN + 1];
    rig_new(&r);
    uint8_t buf[64];
    size_t len = 0;
    assert_int_equal(fs38_store_get(&r.d.s, "au/cost", buf, sizeof buf, &len), FS38_ERR_NOT_FOUND);
    assert_int_equal(fs38_auth_provision(&r.a, "Admin With Spaces", setup), FS38_ERR_ARG);
    assert_int_equal(fs38_store_get(&r.d.s, "au/cost", buf, sizeof buf, &len), FS38_ERR_NOT_FOUND);
    assert_int_equal(fs38_store_get(&r.d.s, "au/fail", buf, sizeof buf, &len), FS38_ERR_NOT_FOUND);
    rig_free(&r);
}

static void test_first_login_forces_change(void **state)
{
    (void)state;
    rig r;
    char setup[FS38_AUTH_SETUP_LEN + 1];
    rig_new(&r);
    assert_int_equal(fs38_auth_provision(&r.a, "admin", setup), FS38_OK);
    /* the setup credential never logs in: change required, every time */
    for (int i = 0; i < 3; i++)
        assert_int_equal(login(&r, "admin", setup), FS38_ERR_AUTH_CHANGE);
    assert_non_null(strstr(r.a.diag.msg, "password change required"));
    const ev *e = last_event(FS38_EV_LOGIN_OK);
    assert_non_null(e);
    assert_non_null(strstr(e->detail, "change required"));
    /* refused changes keep the setup credential in force */
    assert_int_equal(change(&r, "admin", setup, "7ujMko0vizxv"), FS38_ERR_PASSWORD_POLICY);
    assert_int_equal(login(&r, "admin", setup), FS38_ERR_AUTH_CHANGE);
    assert_int_equal(change(&r, "admin", setup, setup), FS38_ERR_PASSWORD_POLICY);
    assert_int_equal(change(&r, "admin", "wrong-setup", "a fine new passphrase"), FS38_ERR_AUTH_REFUSED);
    assert_int_equal(change(&r, "admin", setup, "a fine new passphrase"), FS38_OK);
    assert_int_equal(count_events(FS38_EV_PASSWORD_CHANGED), 1);
    assert_int_equal(login(&r, "admin", "a fine new passphrase"), FS38_OK);
    assert_int_equal(login(&r, "admin", setup), FS38_ERR_AUTH_REFUSED);
    assert_int_equal(login(&r, "admin", "a fine new passphrase"), FS38_OK); /* the failure was cleared */
    /* survives a reboot */
    rig_reboot(&r, 0);
    assert_int_equal(login(&r, "admin", "a fine new passphrase"), FS38_OK);
    assert_int_equal(change(&r, "admin", "a fine new passphrase", "another fine one!"), FS38_OK);
    assert_int_equal(login(&r, "admin", "another fine one!"), FS38_OK);
    rig_free(&r);
}

static void test_policy(void **state)
{
    (void)state;
    rig r;
    rig_new(&r);
    static const policy_case cases[] = {
        { "7ujMko0vizxv", "Mirai" },           /* looks strong, but Mirai tried it */
        { "7UJMKO0VIZXV", "Mirai" },           /* case does not help */
        { "admin1234", "Mirai" },
        { "juantech", "Mirai" },
        { "xc3511", "Mirai" },                 /* a short one: the list reason comes first */
        { "password1", "most common" },
        { "Trustno1", "most common" },
        { "iloveyou!", "most common" },
        { "abc", "too short" },
        { "x7!kq2z", "too short" },
        { "p\xc3\xa4ssw\xc3\xb6r", "too short" }, /* 7 characters in 9 bytes */
        { "aaaaaaaaaaaa", "repeated" },
        { "ghijklmnopq", "consecutive" },
        { "zyxwvuts", "consecutive" },
        { "my-DEADBEEF0123-pw", "UEID" },      /* 8 hex digits of the UEID */
        { "SN-4711-AB12CD34", "UEID or serial" },
        { "xx4711-ab12cd34xx", "UEID or serial" },
        { "topadminsecret", "user name" },
        { "tab\there-is-bad", "control" },
        { "correct horse battery staple", NULL },
        { "p\xc3\xa4ssw\xc3\xb6rt", NULL },        /* 8 characters (10 bytes) */
        { "Tr0ub4dor&3x", NULL },
        { "deadbee!-not-the-ueid", NULL },    /* 7 hex digits only */
    };
    check_policy_cases(&r, cases, sizeof cases / sizeof cases[0], true);
    /* the length limits: 128 bytes accepted, 129 refused */
    char longpw[FS38_AUTH_PASSWORD_MAX + 2];
    for (size_t i = 0; i < sizeof longpw; i++)
        longpw[i] = (char)('a' + (i * 7) % 26);
    fs38_diag d;
    assert_int_equal(fs38_auth_check_policy(&r.a, "admin", longpw, FS38_AUTH_PASSWORD_MAX, &d), FS38_OK);
    assert_int_equal(fs38_auth_check_policy(&r.a, "admin", longpw, FS38_AUTH_PASSWORD_MAX + 1, &d),
                     FS38_ERR_PASSWORD_POLICY);
    assert_non_null(strstr(d.msg, "too long"));
    /* refusals raise an event whose detail is the rule, not the password */
    assert_true(count_events(FS38_EV_PASSWORD_REFUSED) >= 19);
    rig_free(&r);
}

/* Every entry of both embedded lists is refused. */
static void test_embedded_lists_refused(void **state)
{
    (void)state;
    rig r;
    rig_new(&r);
    const struct {
        const char *list;
        size_t len;
        size_t min;
    } lists[] = { { fs38_passwords_mirai, fs38_passwords_mirai_len, 40 },
                  { fs38_passwords_common, fs38_passwords_common_len, 600 } };
    for (size_t l = 0; l < 2; l++) {
        size_t count = 0;
        for (size_t i = 0; i < lists[l].len;) {
            const char *w = lists[l].list + i;
            size_t n = strlen(w);
            fs38_diag d;
            assert_true(fs38_password_listed(lists[l].list, lists[l].len, w, n));
            assert_int_equal(fs38_auth_check_policy(&r.a, "admin", w, n, &d), FS38_ERR_PASSWORD_POLICY);
            i += n + 1;
            count++;
        }
        assert_true(count >= lists[l].min);
    }
    assert_false(fs38_password_listed(fs38_passwords_common, fs38_passwords_common_len, "passwor", 7));
    assert_false(fs38_password_listed(fs38_passwords_common, fs38_passwords_common_len, "password12", 10));
    rig_free(&r);
}

/* The embedded Mirai list refuses every password of an independent transcription of the bot's
 * credential list (tests/vectors/audit/credentials/seclists_mirai-botnet.txt, SecLists, MIT;
 * see ORIGIN.md there): "(none)" is the empty password, which the length rule refuses. */
static void test_mirai_audit_vectors(void **state)
{
    (void)state;
    rig r;
    char path[1024], line[512];
    snprintf(path, sizeof path, "%s/audit/credentials/seclists_mirai-botnet.txt", FS38_TEST_VECTORS);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    rig_new(&r);
    size_t pairs = 0, listed = 0;
    while (fgets(line, sizeof line, f)) {
        char *user = strtok(line, " \t\r\n");
        char *pw = user ? strtok(NULL, " \t\r\n") : NULL;
        if (!user)
            continue;
        if (!pw || strcmp(pw, "(none)") == 0)
            pw = (char *)"";
        pairs++;
        fs38_diag d;
        fs38_err e = fs38_auth_check_policy(&r.a, "admin", pw, strlen(pw), &d);
        if (e != FS38_ERR_PASSWORD_POLICY)
            fail_msg("Mirai password '%s' (user %s) accepted", pw, user);
        if (*pw) {
            if (!fs38_password_listed(fs38_passwords_mirai, fs38_passwords_mirai_len, pw, strlen(pw)))
                fail_msg("Mirai password '%s' is not in the embedded list", pw);
            listed++;
        }
    }
    fclose(f);
    assert_int_equal(pairs, 60);
    assert_true(listed >= 58);
    rig_free(&r);
}

static void test_backoff(void **state)
{
    (void)state;
    rig r;
    char setup[FS38_AUTH_SETUP_LEN + 1];
    rig_new(&r);
    assert_int_equal(fs38_auth_provision(&r.a, "admin", setup), FS38_OK);
    assert_int_equal(change(&r, "admin", setup, "a fine new passphrase"), FS38_OK);
    g_nev = 0;
    assert_int_equal(login(&r, "admin", "wrong one 1"), FS38_ERR_AUTH_REFUSED);
    assert_int_equal(r.a.retry_after_s, 0);
    assert_int_equal(login(&r, "admin", "wrong one 2"), FS38_ERR_AUTH_REFUSED);
    assert_int_equal(r.a.retry_after_s, 0);
    assert_int_equal(count_events(FS38_EV_LOCKOUT), 0);
    assert_int_equal(login(&r, "admin", "wrong one 3"), FS38_ERR_AUTH_REFUSED);
    assert_int_equal(r.a.retry_after_s, 30);
    assert_non_null(strstr(r.a.diag.msg, "locked out for 30 s"));
    assert_int_equal(count_events(FS38_EV_LOGIN_FAILED), 3);
    assert_int_equal(last_event(FS38_EV_LOGIN_FAILED)->arg, 3);
    assert_int_equal(count_events(FS38_EV_LOCKOUT), 1);
    assert_int_equal(last_event(FS38_EV_LOCKOUT)->arg, 30);

    /* during the back-off even the right password is refused, without being looked at */
    g_now_ms += 10000;
    assert_int_equal(login(&r, "admin", "a fine new passphrase"), FS38_ERR_AUTH_LOCKED);
    assert_int_equal(r.a.retry_after_s, 20);
    /* a reboot does not reset it (fresh context, store reopened) */
    rig_reboot(&r, 0);
    assert_int_equal(login(&r, "admin", "a fine new passphrase"), FS38_ERR_AUTH_LOCKED);
    assert_int_equal(r.a.retry_after_s, 20);
    uint32_t f, left;
    assert_int_equal(fs38_auth_status(&r.a, &f, &left), FS38_OK);
    assert_int_equal(f, 3);
    assert_int_equal(left, 20);
    /* a reboot that restarts the monotonic clock restarts the back-off: never shorter */
    g_now_ms = 5000;
    rig_reboot(&r, 0);
    assert_int_equal(login(&r, "admin", "a fine new passphrase"), FS38_ERR_AUTH_LOCKED);
    assert_int_equal(r.a.retry_after_s, 30);
    g_now_ms += 29000;
    assert_int_equal(login(&r, "admin", "a fine new passphrase"), FS38_ERR_AUTH_LOCKED);
    assert_int_equal(r.a.retry_after_s, 1);
    g_now_ms += 1000;
    /* next failure doubles the back-off: 60, 120, ... capped at 3600 */
    assert_int_equal(login(&r, "admin", "wrong one 4"), FS38_ERR_AUTH_REFUSED);
    assert_int_equal(r.a.retry_after_s, 60);
    assert_int_equal(last_event(FS38_EV_LOCKOUT)->arg, 60);
    g_now_ms += 60000;
    assert_int_equal(login(&r, "admin", "wrong one 5"), FS38_ERR_AUTH_REFUSED);
    assert_int_equal(r.a.retry_after_s, 120);
    assert_int_equal(fs38_auth_backoff_s(&r.a, 9), 1920);
    assert_int_equal(fs38_auth_backoff_s(&r.a, 10), 3600);
    assert_int_equal(fs38_auth_backoff_s(&r.a, 1000), 3600);
    assert_int_equal(fs38_auth_backoff_s(&r.a, 2), 0);
    g_now_ms += 120000;
    /* the right password after the back-off logs in and clears the counter */
    assert_int_equal(login(&r, "admin", "a fine new passphrase"), FS38_OK);
    assert_int_equal(r.a.failures, 0);
    assert_int_equal(login(&r, "admin", "wrong one 6"), FS38_ERR_AUTH_REFUSED);
    assert_int_equal(r.a.retry_after_s, 0);
    rig_free(&r);
}

/* The failure is counted before the password is checked: however the power is cut, a wrong
 * guess that got an answer is on flash. */
static void test_failure_survives_power_cut(void **state)
{
    (void)state;
    rig r;
    char setup[FS38_AUTH_SETUP_LEN + 1];
    rig_new(&r);
    assert_int_equal(fs38_auth_provision(&r.a, "admin", setup), FS38_OK);
    /* cut the k-th flash operation of a wrong login (each right after a reboot), k = 1, 2, ...
     * until a login runs through uncut */
    unsigned silent = 0;
    for (uint64_t k = 1;; k++) {
        uint32_t f0, f1, left;
        rig_reboot(&r, 0);
        assert_int_equal(fs38_auth_status(&r.a, &f0, &left), FS38_OK);
        g_now_ms += 3600u * 1000u; /* past any back-off */
        const uint64_t before = fs38_posix_ops(&r.d.f.posix);
        fs38_posix_cut_at(&r.d.f.posix, k);
        fs38_err e = login(&r, "admin", "wrong guess");
        const bool cut = fs38_posix_ops(&r.d.f.posix) - before >= k;
        fs38_posix_cut_at(&r.d.f.posix, 0);
        rig_reboot(&r, 0);
        assert_int_equal(fs38_auth_status(&r.a, &f1, &left), FS38_OK);
        if (e == FS38_ERR_AUTH_REFUSED) { /* an answer: the failure is on flash */
            assert_int_equal(f1, f0 + 1);
            if (!cut)
                break;
        } else {
            assert_true(cut);
            assert_int_equal(e, FS38_ERR_POWER); /* no answer at all */
            silent++;
        }
    }
    print_message("login power-cut sweep: %u cut points, each before any answer; the uncut login's failure "
                  "is on flash\n",
                  silent);
    assert_true(silent >= 1);
    rig_free(&r);
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* An unknown user gets the same refusal, the same events and the same PBKDF2 work. */
static void test_unknown_user_indistinguishable(void **state)
{
    (void)state;
    rig r;
    char setup[FS38_AUTH_SETUP_LEN + 1];
    rig_new(&r);
    rig_reboot(&r, 20000);
    assert_int_equal(fs38_auth_provision(&r.a, "admin", setup), FS38_OK);
    char d_known[FS38_DIAG_MAX], d_unknown[FS38_DIAG_MAX];
    double t_known = 0, t_unknown = 0;
    for (int i = 0; i < 2; i++) {
        double t0 = seconds();
        assert_int_equal(login(&r, "admin", "not the password"), FS38_ERR_AUTH_REFUSED);
        double t1 = seconds();
        snprintf(d_known, sizeof d_known, "%s", r.a.diag.msg);
        assert_int_equal(login(&r, "nobody", "not the password"), FS38_ERR_AUTH_REFUSED);
        double t2 = seconds();
        snprintf(d_unknown, sizeof d_unknown, "%s", r.a.diag.msg);
        assert_int_equal(login(&r, "admin", setup), FS38_ERR_AUTH_CHANGE); /* clears the counter */
        t_known += t1 - t0;
        t_unknown += t2 - t1;
    }
    assert_string_equal(d_known, "login refused");
    assert_string_equal(d_unknown, "login refused");
    assert_int_equal(login(&r, "../../etc", "x"), FS38_ERR_AUTH_REFUSED);
    assert_string_equal(r.a.diag.msg, "login refused");
    print_message("login timing (PBKDF2 cost 20000): wrong password %.1f ms, unknown user %.1f ms\n",
                  t_known * 500.0, t_unknown * 500.0);
    assert_true(t_unknown > 0.5 * t_known && t_known > 0.5 * t_unknown);
    rig_free(&r);
}

static void test_cost_and_upgrade(void **state)
{
    (void)state;
    rig r;
    char setup[FS38_AUTH_SETUP_LEN + 1];
    uint8_t rec[64];
    size_t n;
    rig_new(&r);
    assert_int_equal(fs38_auth_provision(&r.a, "admin", setup), FS38_OK);
    assert_int_equal(change(&r, "admin", setup, "a fine new passphrase"), FS38_OK);
    /* the device's recorded cost is used by a context configured with 0 */
    rig_reboot(&r, 0);
    assert_int_equal(r.a.iterations, COST);
    /* raising the cost: the record is re-hashed at the next successful login */
    rig_reboot(&r, 2 * COST);
    assert_int_equal(login(&r, "admin", "a fine new passphrase"), FS38_OK);
    assert_int_equal(fs38_store_get(&r.d.s, "au/u/admin", rec, sizeof rec, &n), FS38_OK);
    assert_int_equal((uint32_t)rec[2] | (uint32_t)rec[3] << 8 | (uint32_t)rec[4] << 16, 2 * COST);
    assert_int_equal(login(&r, "admin", "a fine new passphrase"), FS38_OK);
    /* the same password for two users: different salts, different hashes */
    uint8_t rec2[64];
    assert_int_equal(fs38_auth_provision(&r.a, "operator", setup), FS38_OK);
    assert_int_equal(change(&r, "operator", setup, "a fine new passphrase"), FS38_OK);
    assert_int_equal(fs38_store_get(&r.d.s, "au/u/operator", rec2, sizeof rec2, &n), FS38_OK);
    assert_memory_not_equal(rec + 6, rec2 + 6, 48);
    /* configuration limits */
    fs38_auth b;
    fs38_auth_config ac;
    memset(&ac, 0, sizeof ac);
    ac.store = &r.d.s;
    ac.port = &r.port;
    ac.iterations = FS38_AUTH_ITERATIONS_MIN - 1;
    assert_int_equal(fs38_auth_init(&b, &ac), FS38_ERR_ARG);
    ac.port = NULL;
    ac.iterations = 0;
    assert_int_equal(fs38_auth_init(&b, &ac), FS38_ERR_ARG);
    char bad[FS38_AUTH_SETUP_LEN + 1];
    assert_int_equal(fs38_auth_provision(&r.a, "Bad/User", bad), FS38_ERR_ARG);
    rig_free(&r);
}

/* Normalisation (fs38/auth.h): strict UTF-8, Zs spaces -> U+0020, fullwidth ASCII -> ASCII,
 * trimmed, runs of spaces collapsed; nothing else changes. */
static void test_normalize(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } ok[] = {
        { "Tr0ub4dor&3x", "Tr0ub4dor&3x" },                       /* ASCII: unchanged */
        { "  two  words  ", "two words" },                        /* trimmed, run collapsed */
        { "pass\xc2\xa0word", "pass word" },                      /* U+00A0 NBSP */
        { "\xe2\x80\x83pass\xe3\x80\x80word\xe2\x80\xaf", "pass word" }, /* em space, ideographic, narrow NBSP */
        { "\xe1\x9a\x80x\xe2\x81\x9fy\xe2\x80\x8az", "x y z" },    /* U+1680, U+205F, U+200A */
        { "\xef\xbd\x90\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93", "pass" }, /* fullwidth pass */
        { "\xef\xbc\x81\xef\xbd\x9e", "!~" },                       /* U+FF01, U+FF5E: the range ends */
        { "\xef\xbd\x9f", "\xef\xbd\x9f" },                         /* U+FF5F: outside, unchanged */
        { "p\xc3\xa4ss", "p\xc3\xa4ss" },                           /* no composition/decomposition */
        { "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },                 /* 4 bytes, U+1F600 */
        { "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf" },                 /* U+10FFFF: the last one */
        { "\xe2\x80\x8b", "\xe2\x80\x8b" },                         /* ZWSP is not Zs: kept */
        { "   ", "" },
        { "", "" },
    };
    char out[FS38_AUTH_PASSWORD_MAX];
    size_t n;
    fs38_diag d;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        fs38_diag_clear(&d);
        fs38_err e = fs38_auth_normalize(ok[i].in, strlen(ok[i].in), out, &n, &d);
        if (e != FS38_OK)
            fail_msg("case %zu refused: %s", i, d.msg);
        if (n != strlen(ok[i].out) || memcmp(out, ok[i].out, n) != 0)
            fail_msg("case %zu: normalised to %zu bytes '%.*s', expected '%s'", i, n, (int)n, out, ok[i].out);
    }
    static const struct {
        const char *in, *why;
    } bad[] = {
        { "\xc0\xafpassword", "overlong" },             /* '/' in 2 bytes */
        { "\xc1\xbfpassword", "overlong" },
        { "ab\xe0\x80\xaf", "overlong" },               /* 3-byte overlong */
        { "\xf0\x80\x80\xaf", "overlong" },             /* 4-byte overlong */
        { "x\xed\xa0\x80yz", "surrogate" },             /* U+D800 */
        { "\xed\xbf\xbf", "surrogate" },                /* U+DFFF */
        { "\xf4\x90\x80\x80", "above U+10FFFF" },      /* U+110000 */
        { "\xf7\xbf\xbf\xbf", "above U+10FFFF" },
        { "\xf8\x88\x80\x80\x80", "never occurs" },     /* 5-byte form */
        { "\xff", "never occurs" },
        { "abc\x80", "continuation" },                  /* stray continuation byte */
        { "abcdefgh\xe2\x82", "truncated" },            /* cut in the middle of a euro sign */
        { "\xe2\x82x", "truncated" },
        { "\xc3", "truncated" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fs38_diag_clear(&d);
        fs38_err e = fs38_auth_normalize(bad[i].in, strlen(bad[i].in), out, &n, &d);
        if (e != FS38_ERR_PASSWORD_POLICY)
            fail_msg("invalid case %zu accepted", i);
        if (!strstr(d.msg, "not valid UTF-8") || !strstr(d.msg, bad[i].why))
            fail_msg("invalid case %zu: '%s' does not say '%s'", i, d.msg, bad[i].why);
    }
    assert_int_equal(fs38_auth_normalize("abc\x80", 4, out, &n, &d), FS38_ERR_PASSWORD_POLICY);
    assert_non_null(strstr(d.msg, "at byte 3"));
    /* 128 bytes of fullwidth text (42 code points + 2 bytes) normalise; 129 bytes do not */
    char big[FS38_AUTH_PASSWORD_MAX + 1];
    memset(big, 'x', sizeof big);
    for (size_t i = 0; i + 3 <= 126; i += 3)
        memcpy(big + i, "\xef\xbd\x81", 3);
    assert_int_equal(fs38_auth_normalize(big, FS38_AUTH_PASSWORD_MAX, out, &n, &d), FS38_OK);
    assert_int_equal(n, 44);
    assert_int_equal(fs38_auth_normalize(big, FS38_AUTH_PASSWORD_MAX + 1, out, &n, &d), FS38_ERR_PASSWORD_POLICY);
    assert_non_null(strstr(d.msg, "too long"));
    assert_int_equal(fs38_auth_normalize(NULL, 1, out, &n, &d), FS38_ERR_ARG);
}

/* The policy on the normalised text, counted in code points: the review's cases. */
static void test_policy_unicode(void **state)
{
    (void)state;
    rig r;
    rig_new(&r);
    static const policy_case cases[] = {
        { "password ", "passwords" },                            /* trailing space */
        { " password", "passwords" },                            /* leading space */
        { "  password  ", "passwords" },
        { "password\xc2\xa0", "passwords" },                     /* NBSP */
        { "\xe3\x80\x80password", "passwords" },                 /* ideographic space */
        { "\xef\xbd\x90\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93\xef\xbd\x97\xef\xbd\x8f\xef\xbd\x92\xef\xbd\x84",
          "passwords" },                                           /* fullwidth "password" */
        { "\xef\xbc\xb0\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93\xef\xbd\x97\xef\xbd\x8f\xef\xbd\x92\xef\xbd\x84\xef\xbc\x91",
          "most common" },                                         /* fullwidth "Password1" */
        { "\xef\xbc\x97\xef\xbd\x95\xef\xbd\x8a\xef\xbc\xad\xef\xbd\x8b\xef\xbd\x8f\xef\xbc\x90\xef\xbd\x96"
          "\xef\xbd\x89\xef\xbd\x9a\xef\xbd\x98\xef\xbd\x96", "Mirai" },  /* fullwidth "7ujMko0vizxv" */
        { "7ujMko0vizxv\xe2\x80\x83", "Mirai" },                   /* em space after a Mirai password */
        { "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "repeated" }, /* éééééééé */
        { "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
          "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80", "repeated" }, /* 8 x U+1F600 */
        { "\xce\xb1\xce\xb2\xce\xb3\xce\xb4\xce\xb5\xce\xb6\xce\xb7\xce\xb8", "consecutive" }, /* alpha..theta */
        { "\xef\xbd\x81\xef\xbd\x82\xef\xbd\x83\xef\xbd\x84\xef\xbd\x85\xef\xbd\x86\xef\xbd\x87\xef\xbd\x88",
          "consecutive" },                                         /* fullwidth abcdefgh */
        { "\xf0\x9f\x98\x80\xf0\x9f\x8e\x89\xf0\x9f\x9a\x80\xf0\x9f\x8c\x8d\xf0\x9f\x94\x91\xf0\x9f\x90\xa7"
          "\xf0\x9f\x8d\x80", "too short" },                       /* 7 emoji = 28 bytes */
        { "  abc   xyz  ", "too short" },                          /* "abc xyz": 7 code points */
        { "\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f\xc3\xa4\xc3\xb6\xc3\xbc", "too short" }, /* 7 in 14 bytes */
        { "\xc0\xafpassword1", "not valid UTF-8: an overlong encoding at byte 0" },
        { "secret-\xed\xa0\x80-pw", "surrogate" },
        { "secret-\xf4\x90\x80\x80-pw", "above U+10FFFF" },
        { "long-password\xe2\x82", "truncated" },
        { "long-password\x80", "continuation" },
        { "long-pass\xc2\x85word", "control" },                    /* C1 control U+0085 */
        { "\xf0\x9f\x98\x80\xf0\x9f\x8e\x89\xf0\x9f\x9a\x80\xf0\x9f\x8c\x8d\xf0\x9f\x94\x91\xf0\x9f\x90\xa7"
          "\xf0\x9f\x8d\x80\xf0\x9f\x8e\xb5", NULL },              /* 8 emoji */
        { "\xc3\xa9t\xc3\xa9 \xc3\xa0 la plage", NULL },
        { "correct\xc2\xa0horse battery", NULL },
    };
    check_policy_cases(&r, cases, sizeof cases / sizeof cases[0], false);
    rig_free(&r);
}

/* Login and change use the same normalisation; records of version 1 (raw bytes, written before
 * normalisation) still verify. */
static void test_normalised_login_and_old_records(void **state)
{
    (void)state;
    rig r;
    char setup[FS38_AUTH_SETUP_LEN + 1];
    rig_new(&r);
    assert_int_equal(fs38_auth_provision(&r.a, "admin", setup), FS38_OK);
    assert_int_equal(change(&r, "admin", setup, "correct\xc2\xa0horse  battery staple "), FS38_OK);
    assert_int_equal(login(&r, "admin", "correct horse battery staple"), FS38_OK);
    assert_int_equal(login(&r, "admin", " correct\xe3\x80\x80horse battery\xe2\x80\x83staple"), FS38_OK);
    assert_int_equal(login(&r, "admin", "correct horse battery staple!"), FS38_ERR_AUTH_REFUSED);
    assert_int_equal(login(&r, "admin", "correcthorse battery staple"), FS38_ERR_AUTH_REFUSED);
    assert_int_equal(login(&r, "admin", "correct horse battery staple\x80"), FS38_ERR_AUTH_REFUSED);
    g_now_ms += 3600u * 1000u; /* past the back-off of these three failures */
    /* the same password in another spelling is the current one */
    assert_int_equal(change(&r, "admin", "correct horse battery staple", " correct horse battery staple"),
                     FS38_ERR_PASSWORD_POLICY);
    assert_non_null(strstr(r.a.diag.msg, "current password"));
    /* fullwidth at change, ASCII at login */
    assert_int_equal(change(&r, "admin", "correct horse battery staple",
                            "\xef\xbc\xb4\xef\xbd\x92\xef\xbc\x90\xef\xbd\x95\xef\xbd\x82\xef\xbc\x94\xef\xbd\x84"
                            "\xef\xbd\x8f\xef\xbd\x92\xef\xbc\x86\xef\xbc\x93\xef\xbd\x98"),
                     FS38_OK);
    assert_int_equal(login(&r, "admin", "Tr0ub4dor&3x"), FS38_OK);
    assert_int_equal(login(&r, "admin", "tr0ub4dor&3x"), FS38_ERR_AUTH_REFUSED); /* no case folding */
    g_now_ms += 3600u * 1000u;

    /* A version 1 record (hash of the raw bytes), as written before normalisation existed. */
    const struct {
        const char *stored, *login;
        fs38_err want;
    } old[] = {
        { "an old ascii pass", "an old ascii pass", FS38_OK },
        { "two  spaces inside", "two  spaces inside", FS38_OK },  /* raw: not collapsed for v1 */
        { "two  spaces inside", "two spaces inside", FS38_ERR_AUTH_REFUSED },
        { " padded old pass ", " padded old pass ", FS38_OK },
        { "p\xc3\xa4sswort-alt", "p\xc3\xa4sswort-alt", FS38_OK },
    };
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
        uint8_t rec[54];
        rec[0] = 1;
        rec[1] = 0;
        rec[2] = (uint8_t)COST;
        rec[3] = (uint8_t)(COST >> 8);
        rec[4] = rec[5] = 0;
        memset(rec + 6, (int)(0x40 + i), 16);
        assert_int_equal(mbedtls_pkcs5_pbkdf2_hmac_ext(MBEDTLS_MD_SHA256, (const unsigned char *)old[i].stored,
                                                       strlen(old[i].stored), rec + 6, 16, COST, 32, rec + 22),
                         0);
        assert_int_equal(fs38_store_put(&r.d.s, "au/u/legacy", rec, sizeof rec), FS38_OK);
        g_now_ms += 3600u * 1000u;
        fs38_err e = login(&r, "legacy", old[i].login);
        if (e != old[i].want)
            fail_msg("version 1 record %zu: login gave %s", i, fs38_strerror(e));
    }
    /* a version 1 record upgraded (higher cost) is rewritten normalised and keeps working */
    uint8_t rec[54];
    size_t n = 0;
    assert_int_equal(fs38_store_get(&r.d.s, "au/u/legacy", rec, sizeof rec, &n), FS38_OK);
    assert_int_equal(rec[0], 1);
    rig_reboot(&r, 2 * COST);
    assert_int_equal(login(&r, "legacy", "p\xc3\xa4sswort-alt"), FS38_OK);
    assert_int_equal(fs38_store_get(&r.d.s, "au/u/legacy", rec, sizeof rec, &n), FS38_OK);
    assert_int_equal(rec[0], 2);
    assert_int_equal(login(&r, "legacy", "p\xc3\xa4sswort-alt"), FS38_OK);
    assert_int_equal(login(&r, "legacy", " p\xc3\xa4sswort-alt\xc2\xa0"), FS38_OK);
    rig_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setup_credential),
        cmocka_unit_test(test_provision_refusal_writes_nothing),
        cmocka_unit_test(test_first_login_forces_change),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_embedded_lists_refused),
        cmocka_unit_test(test_mirai_audit_vectors),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_failure_survives_power_cut),
        cmocka_unit_test(test_unknown_user_indistinguishable),
        cmocka_unit_test(test_cost_and_upgrade),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_policy_unicode),
        cmocka_unit_test(test_normalised_login_and_old_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
