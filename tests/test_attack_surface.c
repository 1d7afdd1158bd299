/* SPDX-License-Identifier: Apache-2.0 */
/* test_attack_surface.c — controls 5 and 13 in attestation: the port's security state (the
 * conservative default for a port without it, checked values, the POSIX port's one-way debug
 * lock and its services file), the debug status it amounts to, and the token's claims
 * fs38-debug / fs38-services / fs38-secure-boot / fs38-support-until / fs38-disclosure from
 * encoding to verification, with the verifier's refusals (a partial set, bad values) and the
 * --require-debug-locked rule (fs38_eat_debug_locked). */
#include <stdio.h>
#include <string.h>
#include "support.h"
#include "fs38/attest.h"
#include "fs38/cbor.h"
#include "fs38/event.h"
#include "fs38/identity.h"

#define SS 4096u
#define FLASH_SIZE (16u * SS)
#define KEY_ID ((psa_key_id_t)0x00380003u)

static const uint8_t NONCE[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static void default_and_checked_state(void **state)
{
    (void)state;
    fs38_port p;
    fs38_security_state st;
    memset(&p, 0, sizeof p);
    memset(&st, 0xA5, sizeof st);
    /* a port without security_state: every debug port reported open, nothing else known */
    assert_int_equal(fs38_port_security_state(&p, &st), FS38_OK);
    assert_int_equal(st.debug, 0);
    assert_int_equal(st.secure_boot, 0);
    assert_int_equal(st.n_services, 0);
    assert_int_equal(fs38_dbgstat_of(&st), FS38_DBG_ENABLED);
    /* and it cannot lock its debug ports */
    assert_int_equal(fs38_port_debug_lock(&p), FS38_ERR_STATE);
    assert_int_equal(fs38_port_security_state(NULL, &st), FS38_ERR_ARG);
    assert_int_equal(fs38_port_debug_lock(NULL), FS38_ERR_ARG);
}

static uint32_t g_bits;
static size_t g_nsvc;
static const char *g_svc = "ssh-22";
static fs38_err fake_state(void *ctx, fs38_security_state *out)
{
    (void)ctx;
    out->debug = g_bits;
    out->n_services = g_nsvc;
    for (size_t i = 0; i < g_nsvc && i < FS38_SERVICES_MAX; i++)
        snprintf(out->services[i], FS38_SERVICE_NAME_MAX, "%s", g_svc);
    return FS38_OK;
}
static fs38_err lying_lock(void *ctx)
{
    (void)ctx;
    return FS38_OK; /* says it locked, but the state never changes */
}

static void port_values_checked(void **state)
{
    (void)state;
    fs38_port p;
    fs38_security_state st;
    memset(&p, 0, sizeof p);
    p.security_state = fake_state;
    p.debug_lock = lying_lock;
    g_bits = FS38_DEBUG_LOCKED;
    g_nsvc = 1;
    assert_int_equal(fs38_port_security_state(&p, &st), FS38_OK);
    assert_int_equal(fs38_dbgstat_of(&st), FS38_DBG_DISABLED); /* locked but not permanently */
    assert_string_equal(st.services[0], "ssh-22");
    g_bits = 0x100; /* unknown bit */
    assert_int_equal(fs38_port_security_state(&p, &st), FS38_ERR_ARG);
    assert_int_equal(st.debug, 0);
    g_bits = 0;
    g_nsvc = FS38_SERVICES_MAX + 1;
    assert_int_equal(fs38_port_security_state(&p, &st), FS38_ERR_ARG);
    g_nsvc = 1;
    g_svc = "has space";
    assert_int_equal(fs38_port_security_state(&p, &st), FS38_ERR_ARG);
    g_svc = "ssh-22";
    /* a lock the state does not confirm is a port failure, not success */
    assert_int_equal(fs38_port_debug_lock(&p), FS38_ERR_CALLBACK);
    /* the status of partial locks */
    st.debug = FS38_DEBUG_JTAG_LOCKED | FS38_DEBUG_PERMANENT;
    assert_int_equal(fs38_dbgstat_of(&st), FS38_DBG_ENABLED); /* UART still open */
    st.debug = FS38_DEBUG_ALL;
    assert_int_equal(fs38_dbgstat_of(&st), FS38_DBG_DISABLED_PERMANENTLY);
    assert_int_equal(fs38_dbgstat_of(NULL), FS38_DBG_ENABLED);
}

static void posix_debug_lock_one_way(void **state)
{
    (void)state;
    ts_flash f;
    fs38_security_state st;
    ts_flash_new(&f, FLASH_SIZE);
    ts_events_record(FS38_EV_DEBUG_LOCKED);
    assert_int_equal(fs38_port_security_state(&f.port, &st), FS38_OK);
    assert_int_equal(st.debug, 0);
    assert_int_equal(st.secure_boot, 1);
    assert_int_equal(fs38_dbgstat_of(&st), FS38_DBG_ENABLED);
    assert_int_equal(fs38_port_debug_lock(&f.port), FS38_OK);
    assert_int_equal(ts_ev.n, 1);
    assert_int_equal(fs38_port_security_state(&f.port, &st), FS38_OK);
    assert_int_equal(st.debug, FS38_DEBUG_ALL);
    assert_int_equal(fs38_dbgstat_of(&st), FS38_DBG_DISABLED_PERMANENTLY);
    /* again: fine, no second event */
    assert_int_equal(fs38_port_debug_lock(&f.port), FS38_OK);
    assert_int_equal(ts_ev.n, 1);
    /* it survives a reboot, and nothing lowers it (the counter only goes up) */
    ts_flash_reboot(&f);
    assert_int_equal(f.port.counter_advance(f.port.ctx, FS38_COUNTER_SPARE, 0), FS38_OK);
    assert_int_equal(fs38_port_security_state(&f.port, &st), FS38_OK);
    assert_int_equal(st.debug, FS38_DEBUG_ALL);
    fs38_event_set_sink(NULL, NULL);
    ts_flash_free(&f);
}

static void posix_services_file(void **state)
{
    (void)state;
    ts_flash f;
    fs38_security_state st;
    const char *svc = ts_tmp_path("services");
    FILE *fp = fopen(svc, "w");
    assert_non_null(fp);
    fputs("# enabled services\ncoap-client\n  mqtt-client  \n\n", fp);
    fclose(fp);
    ts_flash_new(&f, FLASH_SIZE);
    assert_int_equal(fs38_port_security_state(&f.port, &st), FS38_OK); /* none set: none */
    assert_int_equal(st.n_services, 0);
    assert_int_equal(fs38_posix_set_services(&f.posix, svc), FS38_OK);
    assert_int_equal(fs38_port_security_state(&f.port, &st), FS38_OK);
    assert_int_equal(st.n_services, 2);
    assert_string_equal(st.services[0], "coap-client");
    assert_string_equal(st.services[1], "mqtt-client");
    fp = fopen(svc, "w");
    assert_non_null(fp);
    fputs("a-name-far-too-long-for-a-token\n", fp);
    fclose(fp);
    assert_int_equal(fs38_port_security_state(&f.port, &st), FS38_ERR_IO);
    remove(svc); /* a missing file: no services */
    assert_int_equal(fs38_port_security_state(&f.port, &st), FS38_OK);
    assert_int_equal(st.n_services, 0);
    ts_flash_free(&f);
}

typedef struct {
    ts_device d;
    fs38_identity id;
    fs38_keyring kr;
    fs38_attest_config cfg;
    fs38_attest_ctx ctx;
    fs38_security_state sec;
} rig;

static void rig_new(rig *r)
{
    uint8_t point[65];
    memset(r, 0, sizeof *r);
    ts_device_new(&r->d, FLASH_SIZE, (fs38_store_config){ NULL, 0, 4u * SS, SS });
    assert_int_equal(fs38_identity_init(&r->id, &r->d.s, KEY_ID), FS38_OK);
    assert_int_equal(fs38_identity_provision(&r->id), FS38_OK);
    assert_int_equal(fs38_identity_public_key(&r->id, point), FS38_OK);
    fs38_keyring_init(&r->kr);
    assert_int_equal(fs38_keyring_add_p256(&r->kr, point, 65), FS38_OK);
    r->cfg.id = &r->id;
    r->cfg.port = &r->d.f.port;
}

static void rig_free(rig *r)
{
    fs38_keyring_free(&r->kr);
    ts_device_free(&r->d, false);
}

static fs38_err token(rig *r, fs38_eat_claims *c)
{
    uint8_t tok[FS38_EAT_MAX];
    size_t len = 0;
    fs38_diag d;
    fs38_err e = fs38_attest(&r->ctx, &r->cfg, NONCE, sizeof NONCE, tok, sizeof tok, &len);
    if (e != FS38_OK)
        return e;
    return fs38_eat_verify(tok, len, &r->kr, NONCE, sizeof NONCE, c, NULL, &d);
}

static void claims_roundtrip(void **state)
{
    (void)state;
    rig r;
    fs38_eat_claims c;
    rig_new(&r);
    /* no security state, no vendor facts: no such claims (older tokens stay as they were) */
    assert_int_equal(token(&r, &c), FS38_OK);
    assert_false(c.has_security);
    assert_string_equal(c.support_until, "");
    assert_string_equal(c.disclosure, "");
    assert_false(fs38_eat_debug_locked(&c)); /* dbgstat 0 */

    /* the POSIX port's state: open; then locked */
    assert_int_equal(fs38_port_security_state(&r.d.f.port, &r.sec), FS38_OK);
    r.sec.n_services = 8; /* the most a token carries, longest names */
    for (size_t i = 0; i < 8; i++)
        snprintf(r.sec.services[i], FS38_SERVICE_NAME_MAX, "service-%06zu", i);
    r.cfg.security = &r.sec;
    r.cfg.dbgstat = fs38_dbgstat_of(&r.sec);
    r.cfg.support_until = "2031-12-31";
    r.cfg.disclosure = "https://vendor.example/.well-known/security.txt";
    assert_int_equal(token(&r, &c), FS38_OK);
    assert_true(c.has_security);
    assert_int_equal(c.debug, 0);
    assert_true(c.secure_boot);
    assert_int_equal(c.n_services, 8);
    assert_string_equal(c.services[7], "service-000007");
    assert_string_equal(c.support_until, "2031-12-31");
    assert_string_equal(c.disclosure, "https://vendor.example/.well-known/security.txt");
    assert_int_equal(c.dbgstat, FS38_DBG_ENABLED);
    assert_false(fs38_eat_debug_locked(&c));

    assert_int_equal(fs38_port_debug_lock(&r.d.f.port), FS38_OK);
    assert_int_equal(fs38_port_security_state(&r.d.f.port, &r.sec), FS38_OK);
    r.cfg.dbgstat = fs38_dbgstat_of(&r.sec);
    assert_int_equal(token(&r, &c), FS38_OK);
    assert_int_equal(c.dbgstat, FS38_DBG_DISABLED_PERMANENTLY);
    assert_int_equal(c.debug, FS38_DEBUG_ALL);
    assert_true(fs38_eat_debug_locked(&c));
    /* a dbgstat that says locked while a port bit says open is not locked */
    r.sec.debug = FS38_DEBUG_JTAG_LOCKED | FS38_DEBUG_PERMANENT;
    assert_int_equal(token(&r, &c), FS38_OK);
    assert_false(fs38_eat_debug_locked(&c));
    /* "disabled" (re-enable possible) is not locked */
    r.sec.debug = FS38_DEBUG_ALL;
    r.cfg.dbgstat = FS38_DBG_DISABLED;
    assert_int_equal(token(&r, &c), FS38_OK);
    assert_false(fs38_eat_debug_locked(&c));

    /* invalid configurations are refused before anything is signed */
    r.cfg.dbgstat = FS38_DBG_DISABLED_PERMANENTLY;
    r.cfg.support_until = "2031-13-01";
    assert_int_equal(token(&r, &c), FS38_ERR_ARG);
    r.cfg.support_until = "31.12.2031";
    assert_int_equal(token(&r, &c), FS38_ERR_ARG);
    r.cfg.support_until = "2031-12-31";
    r.cfg.disclosure = "has a space";
    assert_int_equal(token(&r, &c), FS38_ERR_ARG);
    r.cfg.disclosure = NULL;
    r.sec.debug = 0x40;
    assert_int_equal(token(&r, &c), FS38_ERR_ARG);
    r.sec.debug = 0;
    r.sec.n_services = 1;
    r.sec.services[0][0] = 0;
    assert_int_equal(token(&r, &c), FS38_ERR_ARG);
    rig_free(&r);
}

/* The largest token the encoder can be asked for — 4 verified measurements with 15-character
 * names, a 64-byte nonce, oemid, a 32-byte hwmodel, 8 services of 15 characters, a 63-character
 * contact — fits FS38_EAT_CLAIMS_MAX / FS38_EAT_MAX (the documented "always enough"). */
static void largest_token_fits(void **state)
{
    (void)state;
    rig r;
    fs38_measurement m[4];
    uint8_t nonce[64], tok[FS38_EAT_MAX], hw[32];
    size_t len = 0;
    fs38_eat_claims c;
    fs38_diag d;
    rig_new(&r);
    memset(m, 0, sizeof m);
    for (int i = 0; i < 4; i++) {
        snprintf(m[i].name, sizeof m[i].name, "slot-%010d", i);
        m[i].status = FS38_MEAS_VERIFIED;
        m[i].sequence = UINT64_MAX;
        memset(m[i].image_digest, 0xAA, 32);
        memset(m[i].manifest_digest, 0xBB, 32);
        memset(m[i].signer_kid, 0xCC, 8);
    }
    m[3].booted = true;
    memset(nonce, 0x5A, sizeof nonce);
    memset(hw, 0x77, sizeof hw);
    r.sec.debug = FS38_DEBUG_ALL;
    r.sec.secure_boot = 1;
    r.sec.n_services = FS38_SERVICES_MAX;
    for (size_t i = 0; i < FS38_SERVICES_MAX; i++)
        snprintf(r.sec.services[i], FS38_SERVICE_NAME_MAX, "service-%07zu", i);
    char contact[FS38_EAT_CONTACT_MAX];
    memset(contact, 'c', sizeof contact - 1);
    contact[sizeof contact - 1] = 0;
    r.cfg.meas = m;
    r.cfg.n_meas = 4;
    r.cfg.oemid = ts_vendor;
    r.cfg.hwmodel = hw;
    r.cfg.hwmodel_len = sizeof hw;
    r.cfg.security = &r.sec;
    r.cfg.dbgstat = FS38_DBG_DISABLED_PERMANENTLY;
    r.cfg.support_until = "2031-12-31";
    r.cfg.disclosure = contact;
    fs38_err e = fs38_attest(&r.ctx, &r.cfg, nonce, sizeof nonce, tok, sizeof tok, &len);
    if (e != FS38_OK)
        fail_msg("the largest token does not fit: %s", r.ctx.diag.msg);
    print_message("largest token: %zu bytes (FS38_EAT_MAX %u)\n", len, (unsigned)FS38_EAT_MAX);
    assert_int_equal(fs38_eat_verify(tok, len, &r.kr, nonce, sizeof nonce, &c, NULL, &d), FS38_OK);
    assert_int_equal(c.n_meas, 4);
    assert_string_equal(c.disclosure, contact);
    rig_free(&r);
}

/* A claims map with the required claims plus what add() writes (extra entries). */
static size_t claims_with(uint8_t *buf, size_t cap, size_t extra, void (*add)(fs38_cbor_enc *))
{
    static const uint8_t ueid[17] = { 1 };
    fs38_cbor_enc e;
    size_t len = 0;
    fs38_cbor_enc_init(&e, buf, cap);
    fs38_cbor_put_map(&e, 7 + extra);
    fs38_cbor_put_uint(&e, FS38_CLAIM_NONCE);
    fs38_cbor_put_bstr(&e, NONCE, sizeof NONCE);
    fs38_cbor_put_uint(&e, FS38_CLAIM_UEID);
    fs38_cbor_put_bstr(&e, ueid, sizeof ueid);
    fs38_cbor_put_uint(&e, FS38_CLAIM_DBGSTAT);
    fs38_cbor_put_uint(&e, 3);
    fs38_cbor_put_uint(&e, FS38_CLAIM_SWNAME);
    fs38_cbor_put_tstr(&e, "fs38", 4);
    fs38_cbor_put_uint(&e, FS38_CLAIM_SWVERSION);
    fs38_cbor_put_array(&e, 1);
    fs38_cbor_put_tstr(&e, "1.0", 3);
    fs38_cbor_put_int(&e, FS38_CLAIM_MEASUREMENTS);
    fs38_cbor_put_array(&e, 0);
    fs38_cbor_put_int(&e, FS38_CLAIM_LIFECYCLE);
    fs38_cbor_put_uint(&e, 2);
    add(&e);
    assert_int_equal(fs38_cbor_enc_finish(&e, &len), FS38_OK);
    return len;
}

static void add_none(fs38_cbor_enc *e) { (void)e; }
static void add_debug_only(fs38_cbor_enc *e)
{
    fs38_cbor_put_int(e, FS38_CLAIM_DEBUG);
    fs38_cbor_put_uint(e, FS38_DEBUG_ALL);
}
static void add_all3(fs38_cbor_enc *e)
{
    add_debug_only(e);
    fs38_cbor_put_int(e, FS38_CLAIM_SERVICES);
    fs38_cbor_put_array(e, 0);
    fs38_cbor_put_int(e, FS38_CLAIM_SECURE_BOOT);
    fs38_cbor_put_bool(e, true);
}
static void add_bad_bits(fs38_cbor_enc *e)
{
    fs38_cbor_put_int(e, FS38_CLAIM_DEBUG);
    fs38_cbor_put_uint(e, 0x10);
    fs38_cbor_put_int(e, FS38_CLAIM_SERVICES);
    fs38_cbor_put_array(e, 0);
    fs38_cbor_put_int(e, FS38_CLAIM_SECURE_BOOT);
    fs38_cbor_put_bool(e, true);
}
static void add_too_many_services(fs38_cbor_enc *e)
{
    fs38_cbor_put_int(e, FS38_CLAIM_DEBUG);
    fs38_cbor_put_uint(e, 0);
    fs38_cbor_put_int(e, FS38_CLAIM_SERVICES);
    fs38_cbor_put_array(e, 9);
    for (int i = 0; i < 9; i++)
        fs38_cbor_put_tstr(e, "s", 1);
    fs38_cbor_put_int(e, FS38_CLAIM_SECURE_BOOT);
    fs38_cbor_put_bool(e, true);
}
static void add_bad_date(fs38_cbor_enc *e)
{
    fs38_cbor_put_int(e, FS38_CLAIM_SUPPORT_UNTIL);
    fs38_cbor_put_tstr(e, "2031-12-3x", 10);
}
static void add_bad_contact(fs38_cbor_enc *e)
{
    fs38_cbor_put_int(e, FS38_CLAIM_DISCLOSURE);
    fs38_cbor_put_tstr(e, "a b", 3);
}
static void add_secure_boot_int(fs38_cbor_enc *e)
{
    fs38_cbor_put_int(e, FS38_CLAIM_DEBUG);
    fs38_cbor_put_uint(e, 0);
    fs38_cbor_put_int(e, FS38_CLAIM_SERVICES);
    fs38_cbor_put_array(e, 0);
    fs38_cbor_put_int(e, FS38_CLAIM_SECURE_BOOT);
    fs38_cbor_put_uint(e, 1);
}

static void parse_refusals(void **state)
{
    (void)state;
    uint8_t buf[512];
    fs38_eat_claims c;
    fs38_diag d;
    size_t n = claims_with(buf, sizeof buf, 0, add_none);
    assert_int_equal(fs38_eat_parse(buf, n, &c, &d), FS38_OK);
    assert_false(c.has_security);
    assert_true(fs38_eat_debug_locked(&c)); /* dbgstat 3 and no port bits to contradict it */
    n = claims_with(buf, sizeof buf, 3, add_all3);
    assert_int_equal(fs38_eat_parse(buf, n, &c, &d), FS38_OK);
    assert_true(c.has_security && c.secure_boot && c.debug == FS38_DEBUG_ALL);
    n = claims_with(buf, sizeof buf, 1, add_debug_only);
    assert_int_equal(fs38_eat_parse(buf, n, &c, &d), FS38_ERR_CLAIMS);
    assert_non_null(strstr(d.msg, "go together"));
    n = claims_with(buf, sizeof buf, 3, add_bad_bits);
    assert_int_equal(fs38_eat_parse(buf, n, &c, &d), FS38_ERR_CLAIMS);
    n = claims_with(buf, sizeof buf, 3, add_too_many_services);
    assert_int_equal(fs38_eat_parse(buf, n, &c, &d), FS38_ERR_CLAIMS);
    n = claims_with(buf, sizeof buf, 1, add_bad_date);
    assert_int_equal(fs38_eat_parse(buf, n, &c, &d), FS38_ERR_CLAIMS);
    n = claims_with(buf, sizeof buf, 1, add_bad_contact);
    assert_int_equal(fs38_eat_parse(buf, n, &c, &d), FS38_ERR_CLAIMS);
    n = claims_with(buf, sizeof buf, 3, add_secure_boot_int);
    assert_int_equal(fs38_eat_parse(buf, n, &c, &d), FS38_ERR_CLAIMS);
    assert_false(fs38_eat_debug_locked(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_and_checked_state),
        cmocka_unit_test(port_values_checked),
        cmocka_unit_test(posix_debug_lock_one_way),
        cmocka_unit_test(posix_services_file),
        cmocka_unit_test(claims_roundtrip),
        cmocka_unit_test(largest_token_fits),
        cmocka_unit_test(parse_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
