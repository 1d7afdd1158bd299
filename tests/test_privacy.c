/* SPDX-License-Identifier: Apache-2.0 */
/* test_privacy.c — control 11 (fs38/privacy.h): consent records and their events, revocation
 * erasing what was kept, pseudonyms (the documented construction recomputed independently,
 * stability, unlinkability across purposes, identifiers, devices and a revoke + grant, epoch
 * rotation, notice versions), the telemetry filter (allow-list, pseudonymised identifiers,
 * coarsened location, nothing without consent, malformed records refused), and power cuts at
 * every flash operation of a revoke. */
#include <string.h>
#include "support.h"
#include "fs38/privacy.h"
#include "fs38/util.h"

#define SS 4096u
#define FLASH_SIZE (16u * SS)

typedef struct {
    ts_device d;
    fs38_privacy pv;
} rig;

static int64_t g_now = 1796530000; /* the fake wall clock */
static fs38_err fake_time(void *ctx, int64_t *t)
{
    (void)ctx;
    *t = g_now;
    return FS38_OK;
}

static void rig_new(rig *r)
{
    memset(r, 0, sizeof *r);
    ts_device_new(&r->d, FLASH_SIZE, (fs38_store_config){ NULL, 0, 4u * SS, SS });
    r->d.f.port.wall_time = fake_time;
    assert_int_equal(fs38_privacy_init(&r->pv, &r->d.s, &r->d.f.port), FS38_OK);
}

static void rig_free(rig *r)
{
    ts_device_free(&r->d, false);
}

static const fs38_field_rule ALLOW[] = { { "fw", FS38_FIELD_VALUE },       { "uptime", FS38_FIELD_VALUE },
                                         { "ok", FS38_FIELD_VALUE },       { "device_id", FS38_FIELD_IDENTIFIER },
                                         { "lat", FS38_FIELD_LOCATION },   { "lon", FS38_FIELD_LOCATION } };
static const fs38_purpose DIAG = { "diagnostics", 1, 0, 2, ALLOW, 6 };
static const fs38_purpose ANALYTICS = { "analytics", 1, 0, 2, ALLOW, 6 };
static const fs38_purpose DAILY = { "daily", 1, 86400, 1, ALLOW, 6 };

static void grant(rig *r, const fs38_purpose *p)
{
    assert_int_equal(fs38_consent_set(&r->pv, p->name, true, p->notice_version), FS38_OK);
}

static void pn(rig *r, const fs38_purpose *p, uint64_t epoch, const char *id, uint8_t out[FS38_PSEUDONYM_LEN])
{
    assert_int_equal(fs38_pseudonym_at(&r->pv, p, epoch, (const uint8_t *)id, strlen(id), out), FS38_OK);
}

static void purpose_names(void **state)
{
    (void)state;
    assert_true(fs38_purpose_name_valid("diagnostics"));
    assert_true(fs38_purpose_name_valid("a-1"));
    assert_true(fs38_purpose_name_valid("abcdefghijklmnop")); /* 16 */
    assert_false(fs38_purpose_name_valid("abcdefghijklmnopq"));
    assert_false(fs38_purpose_name_valid(""));
    assert_false(fs38_purpose_name_valid(NULL));
    assert_false(fs38_purpose_name_valid("Diag"));
    assert_false(fs38_purpose_name_valid("a/b"));
}

static void consent_records_and_events(void **state)
{
    (void)state;
    rig r;
    fs38_consent c;
    rig_new(&r);
    ts_events_record(0);
    assert_int_equal(fs38_consent_get(&r.pv, "diagnostics", &c), FS38_OK);
    assert_false(c.recorded);
    assert_int_equal(fs38_consent_check(&r.pv, &DIAG), FS38_ERR_POLICY);
    assert_non_null(strstr(r.pv.diag.msg, "never granted"));

    assert_int_equal(fs38_consent_set(&r.pv, "diagnostics", true, 3), FS38_OK);
    assert_int_equal(ts_ev.n, 1);
    assert_int_equal(ts_ev.code, FS38_EV_CONSENT_GRANTED);
    assert_int_equal(ts_ev.arg, 3);
    assert_string_equal(ts_ev.detail, "diagnostics");
    assert_int_equal(fs38_consent_get(&r.pv, "diagnostics", &c), FS38_OK);
    assert_true(c.recorded && c.granted);
    assert_int_equal(c.notice_version, 3);
    assert_int_equal(c.time, g_now);
    assert_int_equal(fs38_consent_check(&r.pv, &DIAG), FS38_OK); /* 3 >= 1 */

    /* a notice newer than the consent: no consent until granted again */
    const fs38_purpose v4 = { "diagnostics", 4, 0, 2, ALLOW, 6 };
    assert_int_equal(fs38_consent_check(&r.pv, &v4), FS38_ERR_POLICY);
    assert_non_null(strstr(r.pv.diag.msg, "notice version"));

    assert_int_equal(fs38_consent_set(&r.pv, "diagnostics", false, 3), FS38_OK);
    assert_int_equal(ts_ev.n, 2);
    assert_int_equal(ts_ev.code, FS38_EV_CONSENT_REVOKED);
    assert_int_equal(fs38_consent_get(&r.pv, "diagnostics", &c), FS38_OK);
    assert_true(c.recorded && !c.granted);
    assert_int_equal(fs38_consent_check(&r.pv, &DIAG), FS38_ERR_POLICY);
    assert_non_null(strstr(r.pv.diag.msg, "revoked"));

    /* bad input changes nothing and raises nothing */
    assert_int_equal(fs38_consent_set(&r.pv, "Bad Name", true, 1), FS38_ERR_ARG);
    assert_int_equal(fs38_consent_set(&r.pv, "diagnostics", true, 0), FS38_ERR_ARG);
    assert_int_equal(ts_ev.n, 2);
    assert_int_equal(fs38_consent_get(&r.pv, "diagnostics", &c), FS38_OK);
    assert_false(c.granted);
    /* the records survive a power cycle (sealed store) */
    ts_device_power_off_on(&r.d);
    ts_device_open(&r.d);
    assert_int_equal(fs38_consent_get(&r.pv, "diagnostics", &c), FS38_OK);
    assert_true(c.recorded && !c.granted && c.notice_version == 3);
    fs38_event_set_sink(NULL, NULL);
    rig_free(&r);
}

static void revoke_erases_kept_data(void **state)
{
    (void)state;
    rig r;
    uint8_t buf[64];
    size_t n = 0;
    rig_new(&r);
    const uint8_t data[] = "last record";
    assert_int_equal(fs38_privacy_keep(&r.pv, &DIAG, data, sizeof data), FS38_ERR_POLICY); /* no consent */
    assert_int_equal(fs38_privacy_kept(&r.pv, "diagnostics", buf, sizeof buf, &n), FS38_ERR_NOT_FOUND);
    grant(&r, &DIAG);
    grant(&r, &ANALYTICS);
    assert_int_equal(fs38_privacy_keep(&r.pv, &DIAG, data, sizeof data), FS38_OK);
    assert_int_equal(fs38_privacy_keep(&r.pv, &ANALYTICS, data, 4), FS38_OK);
    assert_int_equal(fs38_privacy_kept(&r.pv, "diagnostics", buf, sizeof buf, &n), FS38_OK);
    assert_int_equal(n, sizeof data);
    assert_memory_equal(buf, data, n);
    assert_int_equal(fs38_consent_set(&r.pv, "diagnostics", false, 1), FS38_OK);
    assert_int_equal(fs38_privacy_kept(&r.pv, "diagnostics", buf, sizeof buf, &n), FS38_ERR_NOT_FOUND);
    /* the salt is gone too: no pseudonym, nothing in the store under the purpose */
    assert_int_equal(fs38_store_get(&r.d.s, "pv/s/diagnostics", buf, sizeof buf, &n), FS38_ERR_NOT_FOUND);
    assert_int_equal(fs38_store_get(&r.d.s, "pv/d/diagnostics", buf, sizeof buf, &n), FS38_ERR_NOT_FOUND);
    /* another purpose keeps its own */
    assert_int_equal(fs38_privacy_kept(&r.pv, "analytics", buf, sizeof buf, &n), FS38_OK);
    assert_int_equal(n, 4);
    assert_int_equal(fs38_privacy_keep(&r.pv, &DIAG, data, sizeof data), FS38_ERR_POLICY);
    rig_free(&r);
}

/* The documented construction, recomputed here with PSA from the sealed records:
 * HMAC-SHA-256(HKDF-SHA-256(salt, root, "fs38 pseudonym v1" || purpose), "fs38-pn" || epoch LE || id)[0..16). */
static void pseudonym_construction(void **state)
{
    (void)state;
    rig r;
    uint8_t root[32], salt[16], k[32], mac[32], got[FS38_PSEUDONYM_LEN];
    size_t n = 0;
    rig_new(&r);
    grant(&r, &DIAG);
    pn(&r, &DIAG, 5, "meter-42", got);
    assert_int_equal(fs38_store_get(&r.d.s, "pv/root", root, sizeof root, &n), FS38_OK);
    assert_int_equal(n, 32);
    assert_int_equal(fs38_store_get(&r.d.s, "pv/s/diagnostics", salt, sizeof salt, &n), FS38_OK);
    assert_int_equal(n, 16);

    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_derivation_operation_t op = PSA_KEY_DERIVATION_OPERATION_INIT;
    psa_key_id_t rk = 0, hk = 0;
    psa_set_key_type(&a, PSA_KEY_TYPE_DERIVE);
    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&a, PSA_ALG_HKDF(PSA_ALG_SHA_256));
    assert_int_equal(psa_import_key(&a, root, sizeof root, &rk), PSA_SUCCESS);
    const char info[] = "fs38 pseudonym v1diagnostics";
    assert_int_equal(psa_key_derivation_setup(&op, PSA_ALG_HKDF(PSA_ALG_SHA_256)), PSA_SUCCESS);
    assert_int_equal(psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_SALT, salt, sizeof salt), PSA_SUCCESS);
    assert_int_equal(psa_key_derivation_input_key(&op, PSA_KEY_DERIVATION_INPUT_SECRET, rk), PSA_SUCCESS);
    assert_int_equal(psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_INFO, (const uint8_t *)info,
                                                    sizeof info - 1),
                     PSA_SUCCESS);
    assert_int_equal(psa_key_derivation_output_bytes(&op, k, sizeof k), PSA_SUCCESS);
    psa_key_derivation_abort(&op);
    psa_destroy_key(rk);
    psa_reset_key_attributes(&a);
    psa_set_key_type(&a, PSA_KEY_TYPE_HMAC);
    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_SIGN_MESSAGE);
    psa_set_key_algorithm(&a, PSA_ALG_HMAC(PSA_ALG_SHA_256));
    assert_int_equal(psa_import_key(&a, k, sizeof k, &hk), PSA_SUCCESS);
    const uint8_t msg[] = { 'f', 's', '3', '8', '-', 'p', 'n', 5, 0, 0, 0, 0, 0, 0, 0, 'm', 'e', 't', 'e', 'r', '-', '4', '2' };
    assert_int_equal(psa_mac_compute(hk, PSA_ALG_HMAC(PSA_ALG_SHA_256), msg, sizeof msg, mac, sizeof mac, &n), PSA_SUCCESS);
    psa_destroy_key(hk);
    assert_memory_equal(got, mac, FS38_PSEUDONYM_LEN);
    rig_free(&r);
}

static void pseudonym_stable_and_unlinkable(void **state)
{
    (void)state;
    rig r;
    uint8_t a1[16], a2[16], b[16], c[16], e1[16], x[16];
    rig_new(&r);
    uint8_t out[16];
    assert_int_equal(fs38_pseudonym_at(&r.pv, &DIAG, 0, (const uint8_t *)"id", 2, out), FS38_ERR_POLICY);
    grant(&r, &DIAG);
    grant(&r, &ANALYTICS);
    pn(&r, &DIAG, 0, "meter-42", a1);
    /* stable: again, and after a power cycle (keys re-derived from the sealed store) */
    pn(&r, &DIAG, 0, "meter-42", a2);
    assert_memory_equal(a1, a2, 16);
    ts_device_power_off_on(&r.d);
    ts_device_open(&r.d);
    pn(&r, &DIAG, 0, "meter-42", a2);
    assert_memory_equal(a1, a2, 16);
    /* unlinkable across purposes, distinct per identifier, new per epoch */
    pn(&r, &ANALYTICS, 0, "meter-42", b);
    assert_memory_not_equal(a1, b, 16);
    pn(&r, &DIAG, 0, "meter-43", c);
    assert_memory_not_equal(a1, c, 16);
    pn(&r, &DIAG, 1, "meter-42", e1);
    assert_memory_not_equal(a1, e1, 16);
    /* a revoke + grant gives a new salt: the old pseudonyms cannot be linked to the new ones */
    assert_int_equal(fs38_consent_set(&r.pv, "diagnostics", false, 1), FS38_OK);
    assert_int_equal(fs38_pseudonym_at(&r.pv, &DIAG, 0, (const uint8_t *)"meter-42", 8, x), FS38_ERR_POLICY);
    grant(&r, &DIAG);
    pn(&r, &DIAG, 0, "meter-42", x);
    assert_memory_not_equal(a1, x, 16);
    /* another device (another root secret): another pseudonym */
    pn(&r, &ANALYTICS, 0, "meter-42", a2);
    assert_memory_equal(a2, b, 16);
    assert_int_equal(fs38_store_delete(&r.d.s, "pv/root"), FS38_OK);
    pn(&r, &ANALYTICS, 0, "meter-42", a2);
    assert_memory_not_equal(a2, b, 16);
    /* bad arguments */
    assert_int_equal(fs38_pseudonym_at(&r.pv, &DIAG, 0, (const uint8_t *)"x", 0, x), FS38_ERR_ARG);
    assert_int_equal(fs38_pseudonym_at(&r.pv, &DIAG, 0, NULL, 1, x), FS38_ERR_ARG);
    rig_free(&r);
}

static void pseudonym_rotation(void **state)
{
    (void)state;
    rig r;
    uint8_t p0[16], p1[16], p2[16], q[16];
    rig_new(&r);
    grant(&r, &DAILY);
    grant(&r, &DIAG);
    g_now = 86400 * 20000 + 10;
    assert_int_equal(fs38_pseudonym(&r.pv, &DAILY, (const uint8_t *)"meter-42", 8, p0), FS38_OK);
    pn(&r, &DAILY, 20000, "meter-42", q);
    assert_memory_equal(p0, q, 16); /* epoch = time / 86400 */
    g_now += 86000;                 /* same day */
    assert_int_equal(fs38_pseudonym(&r.pv, &DAILY, (const uint8_t *)"meter-42", 8, p1), FS38_OK);
    assert_memory_equal(p0, p1, 16);
    g_now += 400; /* next day: a new pseudonym */
    assert_int_equal(fs38_pseudonym(&r.pv, &DAILY, (const uint8_t *)"meter-42", 8, p2), FS38_OK);
    assert_memory_not_equal(p0, p2, 16);
    /* a purpose without rotation keeps its pseudonym across days */
    assert_int_equal(fs38_pseudonym(&r.pv, &DIAG, (const uint8_t *)"meter-42", 8, p1), FS38_OK);
    g_now += 5 * 86400;
    assert_int_equal(fs38_pseudonym(&r.pv, &DIAG, (const uint8_t *)"meter-42", 8, p2), FS38_OK);
    assert_memory_equal(p1, p2, 16);
    /* rotation without a clock is refused */
    r.d.f.port.wall_time = NULL;
    assert_int_equal(fs38_pseudonym(&r.pv, &DAILY, (const uint8_t *)"meter-42", 8, p2), FS38_ERR_STATE);
    rig_free(&r);
}

static const fs38_field *find_in(const fs38_field_out *o, size_t n, const char *name, const fs38_field_out **res)
{
    *res = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(o[i].name, name) == 0)
            *res = &o[i];
    return NULL;
}

static void telemetry_minimised(void **state)
{
    (void)state;
    rig r;
    fs38_field_out out[8];
    size_t n = 99;
    const fs38_field_out *f;
    rig_new(&r);
    const fs38_field in[] = {
        { "device_id", FS38_FIELD_STRING, 0, "meter-42", 8, false },
        { "owner_email", FS38_FIELD_STRING, 0, "alice@example.com", 17, false },
        { "fw", FS38_FIELD_STRING, 0, "1.2.3", 5, false },
        { "uptime", FS38_FIELD_NUMBER, 86400, NULL, 0, false },
        { "lat", FS38_FIELD_NUMBER, 52.520008, NULL, 0, false },
        { "lon", FS38_FIELD_NUMBER, -0.127758, NULL, 0, false },
        { "ok", FS38_FIELD_BOOL, 0, NULL, 0, true },
        { "ssid", FS38_FIELD_STRING, 0, "HomeNet", 7, false },
    };
    /* nothing without consent */
    assert_int_equal(fs38_telemetry_filter(&r.pv, &DIAG, in, 8, out, 8, &n), FS38_ERR_POLICY);
    assert_int_equal(n, 0);
    grant(&r, &DIAG);
    assert_int_equal(fs38_telemetry_filter(&r.pv, &DIAG, in, 8, out, 8, &n), FS38_OK);
    assert_int_equal(n, 6); /* owner_email and ssid dropped */
    (void)find_in(out, n, "owner_email", &f);
    assert_null(f);
    (void)find_in(out, n, "ssid", &f);
    assert_null(f);
    for (size_t i = 0; i < n; i++) /* the raw identifier is nowhere in the output */
        if (out[i].type == FS38_FIELD_STRING)
            for (size_t j = 0; j + 5 <= out[i].str_len; j++)
                assert_false(memcmp(out[i].str + j, "meter", 5) == 0);
    (void)find_in(out, n, "device_id", &f);
    assert_non_null(f);
    uint8_t p[16];
    char hex[33];
    pn(&r, &DIAG, 0, "meter-42", p);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", p[i]);
    assert_int_equal(f->str_len, 32);
    assert_memory_equal(f->str, hex, 32);
    (void)find_in(out, n, "lat", &f);
    assert_true(f->num > 52.5199 && f->num < 52.5201); /* 52.52 */
    (void)find_in(out, n, "lon", &f);
    assert_true(f->num > -0.1301 && f->num < -0.1299); /* rounded down to the grid: -0.13 */
    (void)find_in(out, n, "uptime", &f);
    assert_true(f->num == 86400);
    (void)find_in(out, n, "ok", &f);
    assert_true(f->type == FS38_FIELD_BOOL && f->b);
    (void)find_in(out, n, "fw", &f);
    assert_int_equal(f->str_len, 5);
    assert_memory_equal(f->str, "1.2.3", 5);

    /* a value already on the grid stays there (0.29 * 100 is 28.999999999999996 in binary) */
    const fs38_field grid[] = { { "lat", FS38_FIELD_NUMBER, 0.29, NULL, 0, false },
                                { "lon", FS38_FIELD_NUMBER, -0.29, NULL, 0, false } };
    assert_int_equal(fs38_telemetry_filter(&r.pv, &DIAG, grid, 2, out, 8, &n), FS38_OK);
    assert_int_equal(n, 2);
    assert_true(out[0].num > 0.2899 && out[0].num < 0.2901);
    assert_true(out[1].num > -0.2901 && out[1].num < -0.2899);

    /* the capacity must hold what passes */
    assert_int_equal(fs38_telemetry_filter(&r.pv, &DIAG, in, 8, out, 5, &n), FS38_ERR_BUFFER);
    assert_int_equal(n, 0);
    /* a revoked purpose: nothing again */
    assert_int_equal(fs38_consent_set(&r.pv, "diagnostics", false, 1), FS38_OK);
    assert_int_equal(fs38_telemetry_filter(&r.pv, &DIAG, in, 8, out, 8, &n), FS38_ERR_POLICY);
    assert_int_equal(n, 0);
    rig_free(&r);
}

static void telemetry_malformed(void **state)
{
    (void)state;
    rig r;
    fs38_field_out out[4];
    size_t n = 0;
    rig_new(&r);
    grant(&r, &DIAG);
    const double zero = 0.0;
    const fs38_field dup[] = { { "fw", FS38_FIELD_STRING, 0, "a", 1, false }, { "fw", FS38_FIELD_STRING, 0, "b", 1, false } };
    assert_int_equal(fs38_telemetry_filter(&r.pv, &DIAG, dup, 2, out, 4, &n), FS38_ERR_ARG);
    const fs38_field nan[] = { { "uptime", FS38_FIELD_NUMBER, zero / zero, NULL, 0, false } };
    assert_int_equal(fs38_telemetry_filter(&r.pv, &DIAG, nan, 1, out, 4, &n), FS38_ERR_ARG);
    const fs38_field inf[] = { { "other", FS38_FIELD_NUMBER, 1.0 / zero, NULL, 0, false } }; /* even a dropped one */
    assert_int_equal(fs38_telemetry_filter(&r.pv, &DIAG, inf, 1, out, 4, &n), FS38_ERR_ARG);
    const fs38_field far[] = { { "lat", FS38_FIELD_NUMBER, 181.0, NULL, 0, false } };
    assert_int_equal(fs38_telemetry_filter(&r.pv, &DIAG, far, 1, out, 4, &n), FS38_ERR_ARG);
    const fs38_field strloc[] = { { "lat", FS38_FIELD_STRING, 0, "52.5", 4, false } };
    assert_int_equal(fs38_telemetry_filter(&r.pv, &DIAG, strloc, 1, out, 4, &n), FS38_ERR_ARG);
    const fs38_field numid[] = { { "device_id", FS38_FIELD_NUMBER, 42, NULL, 0, false } };
    assert_int_equal(fs38_telemetry_filter(&r.pv, &DIAG, numid, 1, out, 4, &n), FS38_ERR_ARG);
    const fs38_field badname[] = { { "a b", FS38_FIELD_BOOL, 0, NULL, 0, true } };
    assert_int_equal(fs38_telemetry_filter(&r.pv, &DIAG, badname, 1, out, 4, &n), FS38_ERR_ARG);
    const fs38_field_rule bad_rule[] = { { "x", (fs38_field_kind)7 } };
    const fs38_purpose bad = { "diagnostics", 1, 0, 2, bad_rule, 1 };
    const fs38_field x[] = { { "x", FS38_FIELD_BOOL, 0, NULL, 0, true } };
    assert_int_equal(fs38_telemetry_filter(&r.pv, &bad, x, 1, out, 4, &n), FS38_ERR_ARG);
    const fs38_purpose toofine = { "diagnostics", 1, 0, 7, ALLOW, 6 };
    assert_int_equal(fs38_telemetry_filter(&r.pv, &toofine, x, 1, out, 4, &n), FS38_ERR_ARG);
    assert_int_equal(n, 0);
    /* an empty record is fine: nothing to send */
    assert_int_equal(fs38_telemetry_filter(&r.pv, &DIAG, NULL, 0, out, 4, &n), FS38_OK);
    assert_int_equal(n, 0);
    rig_free(&r);
}

/* A power cut at every flash operation of a revoke: afterwards either the consent still stands
 * (with its data and salt, the revoke not done) or nothing is kept under the purpose; never a
 * revocation record with data left behind. A second revoke always completes. */
static void revoke_power_cuts(void **state)
{
    (void)state;
    rig r;
    uint8_t buf[64];
    size_t n = 0;
    uint64_t total = 0, cut_before = 0, cut_after = 0;
    for (uint64_t k = 0;; k++) {
        rig_new(&r);
        grant(&r, &DIAG);
        assert_int_equal(fs38_privacy_keep(&r.pv, &DIAG, (const uint8_t *)"kept", 4), FS38_OK);
        const uint64_t ops0 = fs38_posix_ops(&r.d.f.posix);
        fs38_posix_cut_at(&r.d.f.posix, k);
        fs38_err e = fs38_consent_set(&r.pv, "diagnostics", false, 1);
        if (k == 0) {
            assert_int_equal(e, FS38_OK);
            total = fs38_posix_ops(&r.d.f.posix) - ops0;
            assert_true(total >= 3);
            rig_free(&r);
            continue;
        }
        assert_int_equal(e, FS38_ERR_POWER);
        fs38_posix_cut_at(&r.d.f.posix, 0);
        ts_device_power_off_on(&r.d);
        ts_device_open(&r.d);
        fs38_consent c;
        assert_int_equal(fs38_consent_get(&r.pv, "diagnostics", &c), FS38_OK);
        const bool kept = fs38_privacy_kept(&r.pv, "diagnostics", buf, sizeof buf, &n) == FS38_OK;
        assert_true(c.recorded);
        if (!c.granted) {
            assert_false(kept); /* revoked: nothing left */
            assert_int_equal(fs38_store_get(&r.d.s, "pv/s/diagnostics", buf, sizeof buf, &n), FS38_ERR_NOT_FOUND);
            cut_after++;
        } else {
            cut_before++;
        }
        if (kept) {
            assert_int_equal(n, 4);
            assert_memory_equal(buf, "kept", 4);
        }
        assert_int_equal(fs38_consent_set(&r.pv, "diagnostics", false, 1), FS38_OK);
        assert_int_equal(fs38_privacy_kept(&r.pv, "diagnostics", buf, sizeof buf, &n), FS38_ERR_NOT_FOUND);
        rig_free(&r);
        if (k >= total)
            break;
    }
    print_message("revoke: %llu flash operations, cut at each: %llu left the consent, %llu completed the revoke\n",
                  (unsigned long long)total, (unsigned long long)cut_before, (unsigned long long)cut_after);
    assert_true(cut_before > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(purpose_names),
        cmocka_unit_test(consent_records_and_events),
        cmocka_unit_test(revoke_erases_kept_data),
        cmocka_unit_test(pseudonym_construction),
        cmocka_unit_test(pseudonym_stable_and_unlinkable),
        cmocka_unit_test(pseudonym_rotation),
        cmocka_unit_test(telemetry_minimised),
        cmocka_unit_test(telemetry_malformed),
        cmocka_unit_test(revoke_power_cuts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
