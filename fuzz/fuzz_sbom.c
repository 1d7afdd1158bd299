/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_sbom.c — libFuzzer target for the SBOM side of the assessor (host/audit/sbom.h): the
 * package-database parsers, the NVD / OSV feed parser and matcher, the version-banner scanner,
 * Debian version ordering and the CycloneDX writer.
 *
 * Input: one selector byte, then the text. selector % 6:
 *   0 dpkg status, 1 opkg status, 2 apk installed, 3 Buildroot packages-file-list.txt,
 *   4 a feed (then matched against fixed components: Debian, opkg, banner), 5 banner scan.
 * Every result is also written as CycloneDX and the JSON re-parsed; then the input's first two
 * lines are compared as Debian versions.
 *
 * Invariants: parsers return 0 or -1 with a diagnostic; every component has a name, a purl
 * starting "pkg:", a bom-ref and evidence whose line lies inside the input; every vulnerability
 * points at an existing component; the CycloneDX text is valid JSON; debver_cmp is reflexive
 * and antisymmetric.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sbom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                                   \
    do {                                                                                                           \
        if (!(c)) {                                                                                                \
            fprintf(stderr, "fuzz_sbom: invariant violated: %s (line %d)\n", #c, __LINE__);                       \
            abort();                                                                                               \
        }                                                                                                          \
    } while (0)

static void check_result(const sbom_result *r, unsigned max_line)
{
    for (size_t i = 0; i < r->n_comp; i++) {
        const sbom_component *c = &r->comp[i];
        CHECK(c->name && c->name[0]);
        CHECK(c->purl && !strncmp(c->purl, "pkg:", 4));
        CHECK(c->bom_ref && c->bom_ref[0]);
        CHECK(c->n_where >= 1);
        for (size_t k = 0; k < c->n_where; k++)
            CHECK(c->where[k].path && c->where[k].line <= max_line);
    }
    for (size_t i = 0; i < r->n_vuln; i++) {
        CHECK(r->vuln[i].component < r->n_comp);
        CHECK(r->vuln[i].id && r->vuln[i].id[0] && r->vuln[i].detail);
    }
    CHECK(r->n_affected + r->n_unknown + r->n_not_affected == r->n_vuln);
    char *json = sbom_cyclonedx(r, "fuzz", NULL, NULL, NULL);
    CHECK(json);
    json_tokener *tok = json_tokener_new();
    CHECK(tok);
    json_object *o = json_tokener_parse_ex(tok, json, (int)strlen(json));
    CHECK(o && json_tokener_get_error(tok) == json_tokener_success);
    json_object_put(o);
    json_tokener_free(tok);
    free(json);
}

static unsigned count_lines(const char *t, size_t n)
{
    unsigned l = 1;
    for (size_t i = 0; i < n; i++)
        l += t[i] == '\n';
    return l;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    unsigned sel = data[0] % 6u;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char err[512];
    sbom_result r;
    memset(&r, 0, sizeof r);
    unsigned lines = count_lines(text, len);

    if (sel <= 3) {
        static const sbom_origin kinds[] = { SBOM_FROM_DPKG, SBOM_FROM_OPKG, SBOM_FROM_APK, SBOM_FROM_BUILDROOT };
        err[0] = '\0';
        int rc = sbom_parse_db(&r, kinds[sel], "db", text, len, sel == 0 ? "Debian:12" : NULL, err, sizeof err);
        CHECK(rc == 0 || (rc == -1 && err[0]));
        check_result(&r, lines);
    } else if (sel == 4) {
        sbom_feed *f = sbom_feed_new();
        CHECK(f);
        err[0] = '\0';
        int rc = sbom_feed_add(f, "feed", (const uint8_t *)text, len, err, sizeof err);
        CHECK(rc == 0 || (rc == -1 && err[0]));
        CHECK(sbom_add_component(&r, SBOM_FROM_DPKG, "libc6", "2.36-9+deb12u4", "arm64", "glibc", "Debian:12",
                                 "var/lib/dpkg/status", 1) >= 0);
        CHECK(sbom_add_component(&r, SBOM_FROM_OPKG, "busybox", "1.28.4-3", NULL, NULL, "OpenWrt",
                                 "usr/lib/opkg/status", 1) >= 0);
        CHECK(sbom_add_component(&r, SBOM_FROM_BANNER, "openssl", "1.0.2q", NULL, NULL, NULL, "usr/bin/x", 0) >= 0);
        CHECK(sbom_match(&r, f, err, sizeof err) == 0);
        check_result(&r, 1);
        sbom_feed_free(f);
    } else {
        size_t n = sbom_scan_banners(&r, "bin/x", (const uint8_t *)text, len);
        CHECK(n == r.n_comp && n <= 16);
        for (size_t i = 0; i < r.n_comp; i++)
            CHECK(r.comp[i].version && r.comp[i].origin == SBOM_FROM_BANNER);
        check_result(&r, 0);
    }
    sbom_result_free(&r);

    /* Debian ordering on the first two lines */
    const char *nl = memchr(text, '\n', len);
    if (nl) {
        size_t al = (size_t)(nl - text);
        const char *b = nl + 1;
        const char *nl2 = memchr(b, '\n', len - al - 1);
        size_t bl = nl2 ? (size_t)(nl2 - b) : len - al - 1;
        if (al < 256 && bl < 256 && !memchr(text, '\0', al) && !memchr(b, '\0', bl)) {
            char va[256], vb[256];
            memcpy(va, text, al);
            va[al] = '\0';
            memcpy(vb, b, bl);
            vb[bl] = '\0';
            int ab = debver_cmp(va, vb), ba = debver_cmp(vb, va);
            CHECK((ab < 0) == (ba > 0) && (ab == 0) == (ba == 0));
            CHECK(debver_cmp(va, va) == 0);
            char up[64];
            debver_upstream(va, up, sizeof up);
            CHECK(strlen(up) < sizeof up);
        }
    }
    return 0;
}
