/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_privacy.c — libFuzzer target for what the device takes from outside in controls 10 and
 * 11: telemetry records (already parsed into fields by the caller: here the input is cut into
 * fields) through fs38_telemetry_filter, and wireless configurations (passphrase, SSID, serial,
 * MAC, modes) through fs38_wireless_check.
 *
 * Input: byte 0 = flags (security mode, TKIP, WPS, PMF, Bluetooth model), then records
 * separated by 0x00: "name\x01type\x01value" for fields (type 'n' number, 's' string, 'b' bool),
 * and the first four strings also serve as passphrase, SSID, serial and MAC.
 * Oracles:
 *   - every result is a documented code with a filled diagnostic;
 *   - telemetry: on success every output field is on the purpose's allow-list, appears once,
 *     identifiers are 32 lower-case hex digits equal to fs38_pseudonym_at of the input, never
 *     the raw identifier, locations are on the grid and within 10^-decimals below the input,
 *     other values pass unchanged; without consent (second purpose) FS38_ERR_POLICY and nothing;
 *   - wireless: FS38_OK iff the rule is FS38_WL_OK; a refusal's diagnostic never contains a
 *     passphrase of 9 or more characters (one with a character that no reason text has); an accepted passphrase is 64 hex digits or 12..63
 *     printable characters; the whole-config check equals the piecewise checks.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <psa/crypto.h>
#include "fs38/privacy.h"
#include "fs38/wireless.h"
#include "fs38_ram.h"

#define FUZZ_NAME "fuzz_privacy"
#include "fuzz_common.h"

#define SECTOR 4096u
#define FLASH (8u * SECTOR)
#define MAXF 16u

static uint8_t flash[FLASH];
static const uint8_t huk[32] = { 7 };
static fs38_ram ram;
static fs38_port port;
static fs38_store store;
static fs38_privacy pv;

static const fs38_field_rule ALLOW[] = { { "fw", FS38_FIELD_VALUE },  { "n", FS38_FIELD_VALUE },
                                         { "id", FS38_FIELD_IDENTIFIER }, { "lat", FS38_FIELD_LOCATION },
                                         { "lon", FS38_FIELD_LOCATION } };
static const fs38_purpose GRANTED = { "granted", 1, 3600, 3, ALLOW, 5 };
static const fs38_purpose DENIED = { "denied", 1, 0, 2, ALLOW, 5 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CHECK(psa_crypto_init() == PSA_SUCCESS);
    const fs38_ram_config rc = { .flash = flash, .flash_size = FLASH, .sector_size = SECTOR, .huk = huk,
                                 .huk_len = sizeof huk, .wall_seconds = 1796530000 };
    memset(flash, 0xFF, sizeof flash);
    CHECK(fs38_ram_init(&ram, &rc, &port) == FS38_OK);
    const fs38_store_config sc = { &port, 0, 4u * SECTOR, SECTOR };
    CHECK(fs38_store_open(&store, &sc) == FS38_OK);
    CHECK(fs38_privacy_init(&pv, &store, &port) == FS38_OK);
    CHECK(fs38_consent_set(&pv, "granted", true, 1) == FS38_OK);
    return 0;
}

static void check_diag(fs38_err e, const fs38_diag *d)
{
    CHECK(memchr(d->msg, 0, sizeof d->msg) != NULL);
    if (e != FS38_OK) {
        CHECK(d->err == e);
        CHECK(d->msg[0] != 0);
    }
}

static const fs38_field_rule *rule_of(const char *name)
{
    for (size_t i = 0; i < sizeof ALLOW / sizeof ALLOW[0]; i++)
        if (strcmp(ALLOW[i].name, name) == 0)
            return &ALLOW[i];
    return NULL;
}

static void telemetry(const fs38_field *f, size_t n)
{
    static fs38_field_out out[MAXF];
    size_t k = 99;
    fs38_err e = fs38_telemetry_filter(&pv, &DENIED, f, n, out, MAXF, &k);
    check_diag(e, &pv.diag);
    CHECK(k == 0);
    CHECK(e == FS38_ERR_POLICY || e == FS38_ERR_ARG);
    e = fs38_telemetry_filter(&pv, &GRANTED, f, n, out, MAXF, &k);
    check_diag(e, &pv.diag);
    CHECK(e == FS38_OK || e == FS38_ERR_ARG);
    if (e != FS38_OK) {
        CHECK(k == 0);
        return;
    }
    CHECK(k <= n);
    for (size_t i = 0; i < k; i++) {
        const fs38_field_rule *r = rule_of(out[i].name);
        CHECK(r != NULL);
        const fs38_field *src = NULL;
        for (size_t j = 0; j < n; j++)
            if (strcmp(f[j].name, out[i].name) == 0)
                src = &f[j];
        CHECK(src != NULL);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(out[j].name, out[i].name) != 0);
        if (r->kind == FS38_FIELD_IDENTIFIER) {
            uint8_t p[FS38_PSEUDONYM_LEN];
            char hex[FS38_PSEUDONYM_HEX];
            CHECK(fs38_pseudonym_at(&pv, &GRANTED, 1796530000u / 3600u, (const uint8_t *)src->str, src->str_len, p) ==
                  FS38_OK);
            for (size_t b = 0; b < FS38_PSEUDONYM_LEN; b++)
                snprintf(hex + 2 * b, 3, "%02x", p[b]);
            CHECK(out[i].str_len == 32 && memcmp(out[i].str, hex, 32) == 0);
        } else if (r->kind == FS38_FIELD_LOCATION) {
            CHECK(out[i].type == FS38_FIELD_NUMBER);
            CHECK(out[i].num <= src->num + 1e-9 && out[i].num > src->num - 1e-3 - 1e-9);
            const double scaled = out[i].num * 1000.0; /* on the grid of 10^-3 */
            const double off = scaled - (double)(long long)(scaled + (scaled >= 0 ? 0.5 : -0.5));
            CHECK(off < 1e-6 && off > -1e-6);
        } else {
            CHECK(out[i].type == src->type);
            if (src->type == FS38_FIELD_STRING)
                CHECK(out[i].str == src->str && out[i].str_len == src->str_len);
            else if (src->type == FS38_FIELD_NUMBER)
                CHECK(out[i].num == src->num);
            else
                CHECK(out[i].b == src->b);
        }
    }
}

static bool contains(const char *hay, const char *needle, size_t nl)
{
    const size_t hl = strlen(hay);
    for (size_t i = 0; nl && i + nl <= hl; i++)
        if (memcmp(hay + i, needle, nl) == 0)
            return true;
    return false;
}

static void wireless(uint8_t flags, const char *psk, size_t pl, const char *ssid, const char *serial, const char *mac)
{
    fs38_wifi_config w;
    fs38_diag d, d2;
    fs38_wl_rule rule = FS38_WL_OK, r2 = FS38_WL_OK;
    memset(&w, 0, sizeof w);
    w.security = (fs38_wifi_security)(flags % 8u); /* 7: out of range */
    w.tkip = flags & 0x08;
    w.wps = flags & 0x10;
    w.pmf = (fs38_wifi_pmf)((flags >> 5) & 3u); /* 3: out of range */
    w.psk = psk;
    w.psk_len = pl;
    w.ids.ssid = ssid;
    w.ids.serial = serial;
    w.ids.mac = mac;
    const fs38_bt_config bt = { (fs38_bt_pairing)(flags % 3u), (fs38_bt_assoc)((flags >> 2) % 4u), flags & 0x40,
                                flags & 0x80 };
    const fs38_wireless_config c = { &w, (flags & 0x01) ? &bt : NULL };
    fs38_diag_clear(&d);
    fs38_err e = fs38_wireless_check(&c, &rule, &d);
    check_diag(e, &d);
    CHECK(e == FS38_OK || e == FS38_ERR_POLICY || e == FS38_ERR_ARG);
    if (e == FS38_OK)
        CHECK(rule == FS38_WL_OK);
    if (e == FS38_ERR_POLICY) {
        CHECK(rule != FS38_WL_OK && strcmp(fs38_wl_rule_name(rule), "unknown") != 0);
        /* (a passphrase made of words of the reason texts may appear in them: only one with a
         * character no reason text has is looked for) */
        if (pl >= 9 && strpbrk(psk, "@#$%^&*~|<>[]{}=+!?;"))
            CHECK(!contains(d.msg, psk, pl));
    }
    /* the piecewise checks agree */
    fs38_diag_clear(&d2);
    fs38_err e2 = fs38_wifi_check(&w, &r2, &d2);
    if (e2 == FS38_OK && c.bt)
        e2 = fs38_bt_check(c.bt, &r2, &d2);
    CHECK(e2 == e);
    if (e == FS38_ERR_POLICY)
        CHECK(r2 == rule);
    /* an accepted passphrase */
    fs38_diag_clear(&d2);
    if (fs38_wifi_passphrase_check(psk, pl, NULL, &r2, &d2) == FS38_OK) {
        size_t hex = 0;
        for (size_t i = 0; i < pl; i++)
            hex += (psk[i] >= '0' && psk[i] <= '9') || (psk[i] >= 'a' && psk[i] <= 'f') || (psk[i] >= 'A' && psk[i] <= 'F');
        CHECK((pl == 64 && hex == 64) || (pl >= FS38_WL_PSK_MIN && pl <= FS38_WL_PSK_MAX));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char buf[4096];
    static fs38_field f[MAXF];
    if (size < 1 || size > sizeof buf - 1)
        return 0;
    const uint8_t flags = data[0];
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = 0;
    /* the records, NUL-separated */
    const char *rec[MAXF];
    size_t rl[MAXF], nr = 0, pos = 0;
    while (pos < size - 1 && nr < MAXF) {
        rec[nr] = buf + pos;
        rl[nr] = strlen(buf + pos);
        pos += rl[nr] + 1;
        nr++;
    }
    const char *s[4] = { "", NULL, NULL, NULL };
    size_t sl0 = 0;
    for (size_t i = 0; i < nr && i < 4; i++) {
        s[i] = rec[i];
        if (i == 0)
            sl0 = rl[i];
    }
    wireless(flags, s[0], sl0, s[1], s[2], s[3]);

    size_t n = 0;
    for (size_t i = 0; i < nr; i++) {
        char *a = memchr(rec[i], 1, rl[i]);
        if (!a)
            continue;
        char *b = memchr(a + 1, 1, rl[i] - (size_t)(a + 1 - rec[i]));
        if (!b)
            continue;
        *a = 0;
        *b = 0;
        fs38_field *x = &f[n++];
        memset(x, 0, sizeof *x);
        x->name = rec[i];
        const char *v = b + 1;
        const size_t vl = rl[i] - (size_t)(v - rec[i]);
        switch (a[1]) {
        case 'n': x->type = FS38_FIELD_NUMBER; x->num = strtod(v, NULL); break;
        case 'b': x->type = FS38_FIELD_BOOL; x->b = vl > 0 && v[0] == 't'; break;
        case 's': x->type = FS38_FIELD_STRING; x->str = v; x->str_len = vl; break;
        default: x->type = (fs38_field_type)(unsigned char)a[1]; break; /* out of range */
        }
    }
    telemetry(f, n);
    return 0;
}
