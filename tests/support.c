/* SPDX-License-Identifier: Apache-2.0 */
#include "support.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint8_t *ts_read_file(const char *path, size_t *len)
{
    char full[1024];
    if (path[0] == '/')
        snprintf(full, sizeof full, "%s", path);
    else
        snprintf(full, sizeof full, "%s/%s", FS38_TEST_VECTORS, path);
    FILE *f = fopen(full, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b && len)
        *len = (size_t)n;
    return b;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

size_t ts_unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *hex; hex++) {
        if (*hex == ' ' || *hex == '\n' || *hex == '\r' || *hex == '\t')
            continue;
        int v = hexval(*hex);
        if (v < 0)
            return (size_t)-1;
        if (hi < 0) {
            hi = v;
        } else {
            if (n >= cap)
                return (size_t)-1;
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return hi < 0 ? n : (size_t)-1;
}

const char *ts_tmp_path(const char *tag)
{
    static char buf[8][256];
    static unsigned counter;
    char *p = buf[counter % 8];
    const char *dir = getenv("TMPDIR");
    snprintf(p, 256, "%s/fs38-%s-%d-%u", dir && *dir ? dir : "/tmp", tag, (int)getpid(), counter++);
    return p;
}

void ts_flash_new(ts_flash *f, uint32_t size)
{
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", ts_tmp_path("flash"));
    unlink(f->path);
    f->cfg.path = f->path;
    f->cfg.flash_size = size;
    f->cfg.sector_size = 4096;
    f->cfg.counter_offset = size - FS38_POSIX_COUNTER_SECTORS * 4096;
    assert_int_equal(fs38_posix_open(&f->posix, &f->cfg, &f->port), FS38_OK);
}

void ts_flash_reboot(ts_flash *f)
{
    fs38_posix_close(&f->posix);
    assert_int_equal(fs38_posix_open(&f->posix, &f->cfg, &f->port), FS38_OK);
}

void ts_flash_free(ts_flash *f)
{
    fs38_posix_close(&f->posix);
    unlink(f->path);
}

/* ---- SUIT helpers ---- */
#include "fs38/cbor.h"
#include "fs38/util.h"

const char ts_example_d[] = "0296588d909418b339d150420a3612b57fb4f631a69f224fae90cb4f3fe18973";
const char ts_example_pub[] =
    "048496811aae0baaabd26157189eecda26beaa8bf11b6f3fe6e2b5659c85dbc0ad"
    "3b1f2a4b6c098131c0a36dacd1d78bd381dcdfb09c052db33991db7338b4a896";
const uint8_t ts_vendor[16] = { 0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad, 0x5f, 0xdf,
                                0xbe, 0x9d, 0xe6, 0x63, 0xe4, 0xd4, 0x1f, 0xfe };
const uint8_t ts_class[16] = { 0x14, 0x92, 0xaf, 0x14, 0x25, 0x69, 0x5e, 0x48,
                               0xbf, 0x42, 0x9b, 0x2d, 0x51, 0xf2, 0xab, 0x45 };

psa_key_id_t ts_import_signer(const char *d_hex)
{
    uint8_t d[32];
    assert_int_equal(ts_unhex(d_hex, d, sizeof d), 32);
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH);
    psa_set_key_algorithm(&at, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    psa_key_id_t id = 0;
    assert_int_equal(psa_import_key(&at, d, sizeof d, &id), PSA_SUCCESS);
    return id;
}

/* A fresh P-256 key pair for usage / alg; point gets its public point. */
static psa_key_id_t gen_p256(psa_key_usage_t usage, psa_algorithm_t alg, uint8_t point[65])
{
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, usage);
    psa_set_key_algorithm(&at, alg);
    psa_key_id_t id = 0;
    assert_int_equal(psa_generate_key(&at, &id), PSA_SUCCESS);
    size_t n = 0;
    assert_int_equal(psa_export_public_key(id, point, 65, &n), PSA_SUCCESS);
    assert_int_equal(n, 65);
    return id;
}

psa_key_id_t ts_gen_ecdh(uint8_t point[65])
{
    return gen_p256(PSA_KEY_USAGE_DERIVE, PSA_ALG_ECDH, point);
}

psa_key_id_t ts_gen_signer(uint8_t point[65])
{
    return gen_p256(PSA_KEY_USAGE_SIGN_HASH, PSA_ALG_ECDSA(PSA_ALG_SHA_256), point);
}

void ts_keyring_hex(fs38_keyring *kr, const char *point_hex)
{
    uint8_t pt[65];
    assert_int_equal(ts_unhex(point_hex, pt, sizeof pt), 65);
    assert_int_equal(fs38_keyring_add_p256(kr, pt, sizeof pt), FS38_OK);
}

size_t ts_envelope(psa_key_id_t key, int64_t alg, const uint8_t *manifest, size_t mlen, uint8_t *out, size_t cap)
{
    /* digest over the bstr-wrapped manifest */
    uint8_t wrapped_head[9], h[32];
    size_t hl = fs38_cbor_encode_head(FS38_CBOR_BSTR, mlen, wrapped_head);
    psa_hash_operation_t op = PSA_HASH_OPERATION_INIT;
    size_t olen;
    assert_int_equal(psa_hash_setup(&op, PSA_ALG_SHA_256), PSA_SUCCESS);
    assert_int_equal(psa_hash_update(&op, wrapped_head, hl), PSA_SUCCESS);
    assert_int_equal(psa_hash_update(&op, manifest, mlen), PSA_SUCCESS);
    assert_int_equal(psa_hash_finish(&op, h, sizeof h, &olen), PSA_SUCCESS);
    uint8_t dg[64];
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, dg, sizeof dg);
    fs38_cbor_put_array(&e, 2);
    fs38_cbor_put_int(&e, -16);
    fs38_cbor_put_bstr(&e, h, 32);
    size_t dg_len;
    assert_int_equal(fs38_cbor_enc_finish(&e, &dg_len), FS38_OK);
    uint8_t sig[256];
    size_t sig_len;
    assert_int_equal(fs38_cose_sign1_sign(key, alg, NULL, 0, dg, dg_len, true, sig, sizeof sig, &sig_len), FS38_OK);
    uint8_t auth[512];
    fs38_cbor_enc_init(&e, auth, sizeof auth);
    fs38_cbor_put_array(&e, 2);
    fs38_cbor_put_bstr(&e, dg, dg_len);
    fs38_cbor_put_bstr(&e, sig, sig_len);
    size_t auth_len;
    assert_int_equal(fs38_cbor_enc_finish(&e, &auth_len), FS38_OK);
    fs38_cbor_enc_init(&e, out, cap);
    fs38_cbor_put_tag(&e, 107);
    fs38_cbor_put_map(&e, 2);
    fs38_cbor_put_uint(&e, 2);
    fs38_cbor_put_bstr(&e, auth, auth_len);
    fs38_cbor_put_uint(&e, 3);
    fs38_cbor_put_bstr(&e, manifest, mlen);
    size_t n;
    assert_int_equal(fs38_cbor_enc_finish(&e, &n), FS38_OK);
    return n;
}

size_t ts_boot_manifest(uint64_t seq, const uint8_t vendor[16], const uint8_t class_id[16], const uint8_t digest[32],
                        uint64_t size, uint8_t *out, size_t cap)
{
    uint8_t dg[40], shared[128], common[192];
    fs38_cbor_enc e;
    size_t dg_len, shared_len, common_len, n;
    fs38_cbor_enc_init(&e, dg, sizeof dg);
    fs38_cbor_put_array(&e, 2);
    fs38_cbor_put_int(&e, -16);
    fs38_cbor_put_bstr(&e, digest, 32);
    assert_int_equal(fs38_cbor_enc_finish(&e, &dg_len), FS38_OK);

    fs38_cbor_enc_init(&e, shared, sizeof shared);
    fs38_cbor_put_array(&e, 6);
    fs38_cbor_put_uint(&e, 20);
    fs38_cbor_put_map(&e, 4);
    fs38_cbor_put_uint(&e, 1);
    fs38_cbor_put_bstr(&e, vendor, 16);
    fs38_cbor_put_uint(&e, 2);
    fs38_cbor_put_bstr(&e, class_id, 16);
    fs38_cbor_put_uint(&e, 3);
    fs38_cbor_put_bstr(&e, dg, dg_len);
    fs38_cbor_put_uint(&e, 14);
    fs38_cbor_put_uint(&e, size);
    fs38_cbor_put_uint(&e, 1);
    fs38_cbor_put_uint(&e, 15);
    fs38_cbor_put_uint(&e, 2);
    fs38_cbor_put_uint(&e, 15);
    assert_int_equal(fs38_cbor_enc_finish(&e, &shared_len), FS38_OK);

    fs38_cbor_enc_init(&e, common, sizeof common);
    fs38_cbor_put_map(&e, 2);
    fs38_cbor_put_uint(&e, 2);
    fs38_cbor_put_array(&e, 1);
    fs38_cbor_put_array(&e, 1);
    fs38_cbor_put_bstr(&e, (const uint8_t *)"firmware", 8);
    fs38_cbor_put_uint(&e, 4);
    fs38_cbor_put_bstr(&e, shared, shared_len);
    assert_int_equal(fs38_cbor_enc_finish(&e, &common_len), FS38_OK);

    static const uint8_t validate[] = { 0x82, 0x03, 0x0f };
    static const uint8_t invoke[] = { 0x82, 0x17, 0x02 };
    fs38_cbor_enc_init(&e, out, cap);
    fs38_cbor_put_map(&e, 5);
    fs38_cbor_put_uint(&e, 1);
    fs38_cbor_put_uint(&e, 1);
    fs38_cbor_put_uint(&e, 2);
    fs38_cbor_put_uint(&e, seq);
    fs38_cbor_put_uint(&e, 3);
    fs38_cbor_put_bstr(&e, common, common_len);
    fs38_cbor_put_uint(&e, 7);
    fs38_cbor_put_bstr(&e, validate, sizeof validate);
    fs38_cbor_put_uint(&e, 9);
    fs38_cbor_put_bstr(&e, invoke, sizeof invoke);
    assert_int_equal(fs38_cbor_enc_finish(&e, &n), FS38_OK);
    return n;
}

/* ---- a device with a sealed store ---------------------------------------------------------- */

void ts_device_prepare(ts_device *d, uint32_t flash_size, fs38_store_config scfg)
{
    memset(d, 0, sizeof *d);
    ts_flash_new(&d->f, flash_size);
    snprintf(d->huk, sizeof d->huk, "%s", ts_tmp_path("huk"));
    unlink(d->huk);
    d->f.cfg.huk_path = d->huk;
    ts_flash_reboot(&d->f);
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
    d->scfg = scfg;
    d->scfg.port = &d->f.port;
}

void ts_device_new(ts_device *d, uint32_t flash_size, fs38_store_config scfg)
{
    ts_device_prepare(d, flash_size, scfg);
    ts_device_open(d);
}

void ts_device_open(ts_device *d)
{
    fs38_err e = fs38_store_open(&d->s, &d->scfg);
    if (e != FS38_OK)
        fail_msg("store open: %s (%s)", fs38_strerror(e), d->s.diag.msg);
    fs38_its_bind(&d->s);
}

void ts_device_power_off_on(ts_device *d)
{
    fs38_its_bind(NULL);
    fs38_store_close(&d->s);
    mbedtls_psa_crypto_free();
    ts_flash_reboot(&d->f);
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
}

void ts_device_free(ts_device *d, bool keep_huk)
{
    fs38_its_bind(NULL);
    fs38_store_close(&d->s);
    mbedtls_psa_crypto_free();
    ts_flash_free(&d->f);
    if (!keep_huk)
        unlink(d->huk);
}

/* ---- NOR semantics of a port ---------------------------------------------------------------- */

static void nor_all(const fs38_port *p, uint32_t off, uint32_t len, uint8_t v)
{
    uint8_t b[256];
    for (uint32_t done = 0; done < len;) {
        const uint32_t n = len - done < sizeof b ? len - done : (uint32_t)sizeof b;
        assert_int_equal(p->flash_read(p->ctx, off + done, b, n), FS38_OK);
        for (uint32_t i = 0; i < n; i++)
            if (b[i] != v)
                fail_msg("flash byte %u is 0x%02x, expected 0x%02x", off + done + i, b[i], v);
        done += n;
    }
}

static void nor_program(const fs38_port *p, ts_nor_tally *t, uint32_t off, const uint8_t *b, uint32_t len)
{
    assert_int_equal(p->flash_program(p->ctx, off, b, len), FS38_OK);
    t->ops++;
    t->programmed += len;
}

static void nor_erase(const fs38_port *p, ts_nor_tally *t, uint32_t off, uint32_t len)
{
    assert_int_equal(p->flash_erase(p->ctx, off, len), FS38_OK);
    t->ops++;
    t->erased += len;
}

void ts_port_check_nor(const fs38_port *p, ts_nor_tally *t)
{
    memset(t, 0, sizeof *t);
    const uint32_t ss = p->sector_size, fs = p->flash_size, region = 6u * ss;
    assert_true(ss >= 16 && fs >= region);
    nor_all(p, 0, region, 0xFF);

    /* a program ANDs: across the boundary of sectors 0 and 1 */
    const uint8_t a[4] = { 0xF0, 0x0F, 0xAA, 0x00 }, b[4] = { 0x3C, 0xFF, 0x55, 0xFF }, ff[2] = { 0xFF, 0xFF };
    const uint8_t want_a[6] = { 0xFF, 0xF0, 0x0F, 0xAA, 0x00, 0xFF }, want_ab[6] = { 0xFF, 0x30, 0x0F, 0x00, 0x00, 0xFF };
    uint8_t got[6];
    nor_program(p, t, ss - 2, a, 4);
    assert_int_equal(p->flash_read(p->ctx, ss - 3, got, 6), FS38_OK);
    assert_memory_equal(got, want_a, 6);
    nor_program(p, t, ss - 2, b, 4);
    assert_int_equal(p->flash_read(p->ctx, ss - 3, got, 6), FS38_OK);
    assert_memory_equal(got, want_ab, 6);
    nor_program(p, t, ss - 1, ff, 2); /* 0xFF over programmed bits does not set them again */
    assert_int_equal(p->flash_read(p->ctx, ss - 3, got, 6), FS38_OK);
    assert_memory_equal(got, want_ab, 6);

    /* a program spanning sectors (and larger than one sector) reads back */
    uint8_t *big = malloc(3u * ss), *rb = malloc(3u * ss);
    assert_non_null(big);
    assert_non_null(rb);
    for (size_t i = 0; i < 3u * ss; i++)
        big[i] = (uint8_t)(i * 7u + 3u);
    nor_program(p, t, 2u * ss + 10u, big, 3u * ss);
    assert_int_equal(fs38_flash_read(p, 2u * ss + 10u, rb, 3u * ss), FS38_OK);
    assert_memory_equal(rb, big, 3u * ss);

    /* an erase sets exactly its sectors to 0xFF; they can be programmed again */
    nor_erase(p, t, 0, region);
    nor_all(p, 0, region, 0xFF);
    memset(big, 0, 3u * ss);
    nor_program(p, t, 0, big, 3u * ss);
    nor_program(p, t, 3u * ss, big, ss);
    nor_erase(p, t, ss, 2u * ss);
    nor_all(p, 0, ss, 0x00);
    nor_all(p, ss, 2u * ss, 0xFF);
    nor_all(p, 3u * ss, ss, 0x00);
    nor_all(p, 4u * ss, 2u * ss, 0xFF);
    const uint8_t x[3] = { 1, 2, 3 };
    nor_program(p, t, ss, x, 3);
    assert_int_equal(p->flash_read(p->ctx, ss, got, 3), FS38_OK);
    assert_memory_equal(got, x, 3);
    assert_int_equal(p->flash_erase(p->ctx, 0, 0), FS38_OK); /* empty: no operation */
    assert_int_equal(fs38_flash_erase(p, 0, 0), FS38_OK);
    free(big);
    free(rb);

    /* refused by the port: misaligned, past the end, overflowing, no buffer */
    uint8_t buf[16] = { 0 };
    const fs38_err refused[] = {
        p->flash_erase(p->ctx, 1, ss),
        p->flash_erase(p->ctx, 0, ss + 1),
        p->flash_erase(p->ctx, 0, ss - 1),
        p->flash_erase(p->ctx, fs, ss),
        p->flash_erase(p->ctx, fs - ss, 2u * ss),
        p->flash_erase(p->ctx, 0xFFFFF000u, 0x2000u),
        p->flash_read(p->ctx, fs - 8, buf, 16),
        p->flash_read(p->ctx, 0xFFFFFFF8u, buf, 16),
        p->flash_read(p->ctx, 0, NULL, 16),
        p->flash_program(p->ctx, fs - 8, buf, 16),
        p->flash_program(p->ctx, 0xFFFFFFF8u, buf, 16),
        p->flash_program(p->ctx, 0, NULL, 16),
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (refused[i] != FS38_ERR_ARG)
            fail_msg("refused call %zu gave %s", i, fs38_strerror(refused[i]));
    t->refused += sizeof refused / sizeof refused[0];
    /* refused by fs38's wrappers before the port is called */
    assert_int_equal(fs38_flash_erase(p, 1, ss), FS38_ERR_ARG);
    assert_int_equal(fs38_flash_erase(p, 0, ss - 1), FS38_ERR_ARG);
    assert_int_equal(fs38_flash_erase(p, ss / 2, ss), FS38_ERR_ARG);
    assert_int_equal(fs38_flash_erase(p, fs, ss), FS38_ERR_ARG);
    assert_int_equal(fs38_flash_erase(p, fs - ss, 2u * ss), FS38_ERR_ARG);
    assert_int_equal(fs38_flash_read(p, fs - 8, buf, 16), FS38_ERR_ARG);
    assert_int_equal(fs38_flash_read(p, fs + 1, buf, 0), FS38_ERR_ARG);
    assert_int_equal(fs38_flash_program(p, fs - 8, buf, 16), FS38_ERR_ARG);
    /* exactly at the end is fine */
    assert_int_equal(fs38_flash_read(p, fs - 16, buf, 16), FS38_OK);
    /* the refusals changed nothing */
    nor_all(p, 0, ss, 0x00);
    nor_all(p, ss + 3, 2u * ss - 3, 0xFF);
    nor_all(p, 3u * ss, ss, 0x00);

    nor_erase(p, t, 0, region);
    nor_all(p, 0, region, 0xFF);
}

/* ---- boot configuration ---------------------------------------------------------------------- */

void ts_boot_config(fs38_boot_config *cfg, const fs38_port *port, const fs38_keyring *trust, uint32_t slot_size)
{
    cfg->port = port;
    cfg->trust = trust;
    cfg->vendor_id = ts_vendor;
    cfg->class_id = ts_class;
    cfg->slot[0] = (fs38_region){ 0, slot_size };
    cfg->slot[1] = (fs38_region){ slot_size, slot_size };
}

/* ---- security events seen by a test ---- */

ts_events ts_ev;

static void ts_events_sink(void *user, const fs38_event_rec *ev)
{
    (void)user;
    if (ts_ev.only && ev->code != ts_ev.only)
        return;
    ts_ev.n++;
    ts_ev.code = ev->code;
    ts_ev.arg = ev->arg;
    snprintf(ts_ev.detail, sizeof ts_ev.detail, "%s", ev->detail ? ev->detail : "");
}

void ts_events_record(fs38_event_code only)
{
    memset(&ts_ev, 0, sizeof ts_ev);
    ts_ev.only = only;
    fs38_event_set_sink(ts_events_sink, NULL);
}

int ts_events_setup(void **state)
{
    (void)state;
    ts_events_record((fs38_event_code)0);
    return 0;
}

int ts_events_teardown(void **state)
{
    (void)state;
    fs38_event_set_sink(NULL, NULL);
    return 0;
}
