/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sbom.c — host/audit's SBOM side (sbom.h): Debian version ordering (cross-checked against
 * dpkg itself), the package-database parsers on the fixture trees of tests/audit/sbom/, purls,
 * the directory reader (links stay inside the image), NVD matching against the real records of
 * tests/vectors/audit/cve/ (the expectations its README states), OSV matching with Debian
 * revisions (records written here as test data), the CycloneDX writer, and, when the shared
 * vectors are present, the version-banner scanner against cve-bin-tool's test strings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "audit.h"
#include "sbom.h"

#define FIX FS38_AUDIT_FIXTURES "/sbom/"
#define NVD FS38_TEST_VECTORS "/audit/cve/nvd-subset.json"
#define DSA FS38_TEST_VECTORS "/audit/cve/osv/DSA-3029-1.json"

static char err[512];

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    uint8_t *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* ---------------------------------------------------------------------------------------------
 * Debian version ordering
 * ------------------------------------------------------------------------------------------- */
static const struct {
    const char *a, *b;
    int want; /* sign of debver_cmp(a, b) */
} order_cases[] = {
    /* the cases */
    { "1.0~rc1", "1.0", -1 },
    { "1:0.9", "2.0", 1 },
    { "1.0-1~deb12u2", "1.0-1", -1 },
    { "1.0-1~deb12u1", "1.0-1~deb12u2", -1 },
    { "1.0-1+deb12u1", "1.0-1", 1 },
    /* Debian Policy 5.6.12 / deb-version(7): ~~ < ~~a < ~ < (end) < a */
    { "~~", "~~a", -1 },
    { "~~a", "~", -1 },
    { "~", "", -1 },
    { "1.0~", "1.0", -1 },
    { "1.0", "1.0a", -1 },
    { "1.0a", "1.0b", -1 },
    /* non-letters after letters */
    { "1.0+", "1.0a", 1 },
    { "1.0+", "1.0.", -1 },
    /* numbers numerically, leading zeros ignored */
    { "1.002", "1.2", 0 },
    { "1.10", "1.9", 1 },
    { "2.36-9+deb12u10", "2.36-9+deb12u4", 1 },
    /* epochs */
    { "0:1.0", "1.0", 0 },
    { "1:1.0", "9.9", 1 },
    { "2:0", "1:99", 1 },
    /* revisions: absent == "0" in dpkg */
    { "1.0", "1.0-0", 0 },
    { "1.0-1", "1.0-1.1", -1 },
    { "1.0-1", "1.0-2", -1 },
    /* the last '-' separates the revision */
    { "1.0-rc1-1", "1.0-rc1-2", -1 },
    { "2018-11-28-cdfc902a-2", "2018-11-28-cdfc902a-3", -1 },
    /* real Debian 12 security revisions */
    { "3.0.11-1~deb12u2", "3.0.13-1~deb12u1", -1 },
    { "7.88.1-10+deb12u5", "7.88.1-10+deb12u4", 1 },
    { "1:1.35.0-4+b3", "1:1.35.0-4", 1 },
    { "1:9.2p1-2+deb12u3", "1:9.2p1-2+deb12u2", 1 },
    { "1.2.1-2.2+wheezy3", "1.2.1-2.2+wheezy2", 1 },
    { "1.2.1-2.2", "1.2.1-2.2+wheezy3", -1 },
    { "1.0.2q", "1.0.2zd", -1 },
    { "1.0.2", "1.0.2a", -1 },
    { "2022.83", "2022.82", 1 },
};
#define N_ORDER (sizeof order_cases / sizeof order_cases[0])

static int sign(int v) { return v < 0 ? -1 : v > 0; }

static void test_debver_order(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ORDER; i++) {
        int got = sign(debver_cmp(order_cases[i].a, order_cases[i].b));
        int rev = sign(debver_cmp(order_cases[i].b, order_cases[i].a));
        if (got != order_cases[i].want || rev != -order_cases[i].want)
            fail_msg("debver_cmp(%s, %s) = %d (reverse %d), expected %d", order_cases[i].a, order_cases[i].b, got,
                     rev, order_cases[i].want);
    }
    /* reflexive */
    assert_int_equal(debver_cmp("1:2.36-9+deb12u4", "1:2.36-9+deb12u4"), 0);
}

/* The same table against dpkg itself (the reference implementation), where it is installed. */
static void test_debver_against_dpkg(void **state)
{
    (void)state;
    if (access("/usr/bin/dpkg", X_OK) != 0)
        skip();
    size_t checked = 0;
    for (size_t i = 0; i < N_ORDER; i++) {
        if (!order_cases[i].a[0] || !order_cases[i].b[0])
            continue; /* dpkg refuses empty versions */
        /* dpkg warns about versions not starting with a digit (stderr), still compares */
        const char *ops[3] = { "lt", "eq", "gt" };
        char cmd[512];
        snprintf(cmd, sizeof cmd, "/usr/bin/dpkg --compare-versions '%s' %s '%s' 2>/dev/null", order_cases[i].a,
                 ops[order_cases[i].want + 1], order_cases[i].b);
        int rc = system(cmd);
        if (rc != 0)
            fail_msg("dpkg disagrees: %s %s %s is false for dpkg", order_cases[i].a, ops[order_cases[i].want + 1],
                     order_cases[i].b);
        checked++;
    }
    assert_true(checked >= N_ORDER - 2);
}

static void test_debver_upstream(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        { "1:9.2p1-2+deb12u3", "9.2p1" }, { "2.36-9+deb12u4", "2.36" }, { "3.0.11-1~deb12u2", "3.0.11" },
        { "1:1.2.13.dfsg-1", "1.2.13" },  { "1.36.1-r5", "1.36.1" },     { "1.28.4-3", "1.28.4" },
        { "2017.75", "2017.75" },          { "1.0-rc1-1", "1.0-rc1" },    { "2.9.14+dfsg-1.3", "2.9.14" },
    };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        debver_upstream(cases[i][0], out, sizeof out);
        assert_string_equal(out, cases[i][1]);
    }
    debver_upstream("1.2.3.4.5.6", out, 4); /* truncated, still terminated */
    assert_string_equal(out, "1.2");
}

/* ---------------------------------------------------------------------------------------------
 * Package databases (fixture trees)
 * ------------------------------------------------------------------------------------------- */
static const sbom_component *find(const sbom_result *r, const char *name, sbom_origin o)
{
    for (size_t i = 0; i < r->n_comp; i++)
        if (!strcmp(r->comp[i].name, name) && r->comp[i].origin == o)
            return &r->comp[i];
    return NULL;
}

/* The image reader `fs38 audit` and `fs38 sbom` use (audit.h), as the SBOM side sees it. */
static aud_image *open_image(const char *root, sbom_fs *fs)
{
    aud_image *img = NULL;
    if (aud_image_open(root, NULL, &img, err, sizeof err) != 0)
        fail_msg("%s", err);
    sbom_fs_image(fs, img);
    return img;
}

static void scan_tree(const char *tree, const sbom_feed *feed, sbom_result *res)
{
    sbom_fs fs;
    char root[512];
    snprintf(root, sizeof root, FIX "%s", tree);
    aud_image *img = open_image(root, &fs);
    if (sbom_scan(&fs, feed, NULL, res, err, sizeof err) != 0)
        fail_msg("scan %s: %s", tree, err);
    aud_image_close(img);
}

static void expect(const sbom_result *r, const char *name, sbom_origin o, const char *version, const char *purl,
                   const char *path, unsigned line)
{
    const sbom_component *c = find(r, name, o);
    if (!c)
        fail_msg("component %s not found", name);
    if (version)
        assert_string_equal(c->version, version);
    else
        assert_null(c->version);
    assert_string_equal(c->purl, purl);
    assert_true(c->n_where >= 1);
    assert_string_equal(c->where[0].path, path);
    assert_int_equal(c->where[0].line, line);
}

static bool has_where(const sbom_component *c, const char *path)
{
    for (size_t i = 0; c && i < c->n_where; i++)
        if (!strcmp(c->where[i].path, path))
            return true;
    return false;
}

static void test_dpkg(void **state)
{
    (void)state;
    sbom_result r;
    scan_tree("debian", NULL, &r);
    assert_int_equal(r.n_comp, 7); /* openssh-server is only config-files: not installed */
    assert_null(find(&r, "openssh-server", SBOM_FROM_DPKG));
    expect(&r, "libc6", SBOM_FROM_DPKG, "2.36-9+deb12u4", "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=arm64",
           "var/lib/dpkg/status", 1);
    expect(&r, "busybox", SBOM_FROM_DPKG, "1:1.35.0-4+b3", "pkg:deb/debian/busybox@1%3A1.35.0-4%2Bb3?arch=arm64",
           "var/lib/dpkg/status", 15);
    expect(&r, "libssl3", SBOM_FROM_DPKG, "3.0.11-1~deb12u2", "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=arm64",
           "var/lib/dpkg/status", 29);
    const sbom_component *c = find(&r, "libc6", SBOM_FROM_DPKG);
    assert_string_equal(c->source, "glibc");
    assert_string_equal(c->distro, "Debian:12"); /* etc/os-release -> ../usr/lib/os-release */
    assert_true(c->backports);
    /* "Source: busybox (1:1.35.0-4)": the name only */
    assert_string_equal(find(&r, "busybox", SBOM_FROM_DPKG)->source, "busybox");
    /* the banner in bin/busybox (listed in info/busybox.list) is evidence of the package, not a
     * component of its own */
    assert_null(find(&r, "busybox", SBOM_FROM_BANNER));
    assert_true(has_where(find(&r, "busybox", SBOM_FROM_DPKG), "bin/busybox"));
    assert_int_equal(r.n_elf, 1);
    sbom_result_free(&r);
}

static void test_opkg_openwrt_and_yocto(void **state)
{
    (void)state;
    sbom_result r;
    scan_tree("openwrt", NULL, &r);
    expect(&r, "busybox", SBOM_FROM_OPKG, "1.28.4-3", "pkg:opkg/openwrt/busybox@1.28.4-3?arch=i386_pentium4",
           "usr/lib/opkg/status", 1);
    expect(&r, "uhttpd", SBOM_FROM_OPKG, "2018-11-28-cdfc902a-2",
           "pkg:opkg/openwrt/uhttpd@2018-11-28-cdfc902a-2?arch=i386_pentium4", "usr/lib/opkg/status", 43);
    assert_null(find(&r, "removed-pkg", SBOM_FROM_OPKG));
    assert_false(find(&r, "busybox", SBOM_FROM_OPKG)->backports);
    /* an unowned binary: its banners are components of their own */
    /* "SSH-2.0-OpenSSH_7.4" first, then "OpenSSH_7.4p1": the more precise one */
    expect(&r, "openssh", SBOM_FROM_BANNER, "7.4p1", "pkg:generic/openssh@7.4p1", "usr/bin/vendor-daemon", 0);
    expect(&r, "openssl", SBOM_FROM_BANNER, "1.0.2q", "pkg:generic/openssl@1.0.2q", "usr/bin/vendor-daemon", 0);
    assert_int_equal(r.n_comp, 9);
    sbom_result_free(&r);

    scan_tree("yocto", NULL, &r);
    assert_int_equal(r.n_comp, 2);
    expect(&r, "busybox", SBOM_FROM_OPKG, "1.36.1-r0", "pkg:opkg/busybox@1.36.1-r0?arch=cortexa53",
           "var/lib/opkg/status", 1);
    expect(&r, "libssl3", SBOM_FROM_OPKG, "3.1.4-r0", "pkg:opkg/libssl3@3.1.4-r0?arch=cortexa53",
           "var/lib/opkg/status", 6);
    sbom_result_free(&r);
}

static void test_apk(void **state)
{
    (void)state;
    sbom_result r;
    scan_tree("alpine", NULL, &r);
    assert_int_equal(r.n_comp, 2);
    expect(&r, "busybox", SBOM_FROM_APK, "1.36.1-r5", "pkg:apk/alpine/busybox@1.36.1-r5?arch=aarch64",
           "lib/apk/db/installed", 2);
    expect(&r, "libcrypto3", SBOM_FROM_APK, "3.1.4-r1", "pkg:apk/alpine/libcrypto3@3.1.4-r1?arch=aarch64",
           "lib/apk/db/installed", 13);
    assert_string_equal(find(&r, "libcrypto3", SBOM_FROM_APK)->source, "openssl");
    assert_string_equal(find(&r, "libcrypto3", SBOM_FROM_APK)->distro, "Alpine:v3.18");
    sbom_result_free(&r);
}

static void test_buildroot(void **state)
{
    (void)state;
    sbom_result r;
    scan_tree("buildroot", NULL, &r);
    assert_int_equal(r.n_comp, 3);
    /* versions come from the banners of the files the list says each package installed */
    expect(&r, "busybox", SBOM_FROM_BUILDROOT, "1.36.1", "pkg:generic/busybox@1.36.1", "packages-file-list.txt", 1);
    expect(&r, "dropbear", SBOM_FROM_BUILDROOT, "2022.82", "pkg:generic/dropbear@2022.82", "packages-file-list.txt",
           3);
    expect(&r, "skeleton", SBOM_FROM_BUILDROOT, NULL, "pkg:generic/skeleton", "packages-file-list.txt", 5);
    assert_true(has_where(find(&r, "dropbear", SBOM_FROM_BUILDROOT), "usr/sbin/dropbear"));
    sbom_result_free(&r);
}

/* parsers on inline text: CRLF, no final newline, continuation lines, NUL bytes */
static void test_parse_db_edges(void **state)
{
    (void)state;
    sbom_result r;
    memset(&r, 0, sizeof r);
    const char dpkg[] = "Package: a\r\nStatus: install ok installed\r\nVersion: 1.0-1\r\nDescription: x\r\n"
                        " Package: not-a-field\r\n\r\nPackage: b\nStatus: hold ok installed\nVersion: 2";
    assert_int_equal(sbom_parse_db(&r, SBOM_FROM_DPKG, "s", dpkg, sizeof dpkg - 1, "Debian:12", err, sizeof err), 0);
    assert_int_equal(r.n_comp, 2);
    assert_string_equal(r.comp[0].version, "1.0-1");
    assert_string_equal(r.comp[1].name, "b");
    assert_int_equal(r.comp[1].where[0].line, 7);
    /* "install ok half-installed", "install reinstreq installed" (not ok): not components */
    const char bad[] = "Package: c\nStatus: install ok half-installed\nVersion: 1\n\n"
                       "Package: d\nStatus: install reinstreq installed\nVersion: 1\n";
    assert_int_equal(sbom_parse_db(&r, SBOM_FROM_DPKG, "s", bad, sizeof bad - 1, NULL, err, sizeof err), 0);
    assert_int_equal(r.n_comp, 2);
    const char nul[] = "Package: e\nStatus: install ok installed\nVer\0sion: 1\n";
    assert_int_equal(sbom_parse_db(&r, SBOM_FROM_DPKG, "var/lib/dpkg/status", nul, sizeof nul - 1, NULL, err,
                                   sizeof err),
                     -1);
    assert_non_null(strstr(err, "var/lib/dpkg/status line 3: NUL byte"));
    const char apk[] = "P:x\nV:1.0-r0\nA:x86_64"; /* no final newline */
    assert_int_equal(sbom_parse_db(&r, SBOM_FROM_APK, "i", apk, sizeof apk - 1, NULL, err, sizeof err), 0);
    assert_int_equal(r.n_comp, 3);
    assert_string_equal(r.comp[2].purl, "pkg:apk/alpine/x@1.0-r0?arch=x86_64");
    sbom_result_free(&r);
}

/* the directory reader never leaves the root: absolute links and ".." resolve inside it */
static void test_dir_links_stay_inside(void **state)
{
    (void)state;
    char root[] = "/tmp/fs38-sbom-XXXXXX";
    assert_non_null(mkdtemp(root));
    char p[600];
    snprintf(p, sizeof p, "%s/etc", root);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/etc/hostname", root);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("inside\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/abs", root);
    assert_int_equal(symlink("/etc/hostname", p), 0);
    snprintf(p, sizeof p, "%s/rel", root);
    assert_int_equal(symlink("../../../../../etc/hostname", p), 0);
    snprintf(p, sizeof p, "%s/loop1", root);
    assert_int_equal(symlink("loop2", p), 0);
    snprintf(p, sizeof p, "%s/loop2", root);
    assert_int_equal(symlink("loop1", p), 0);
    snprintf(p, sizeof p, "%s/hostpasswd", root);
    assert_int_equal(symlink("/etc/passwd", p), 0); /* exists on the host, not in the image */

    sbom_fs fs;
    aud_image *img = open_image(root, &fs);
    uint8_t *d;
    size_t n;
    assert_int_equal(fs.read(fs.user, "abs", 1024, &d, &n, err, sizeof err), 0);
    assert_string_equal((char *)d, "inside\n");
    free(d);
    assert_int_equal(fs.read(fs.user, "rel", 1024, &d, &n, err, sizeof err), 0);
    assert_string_equal((char *)d, "inside\n");
    free(d);
    assert_int_equal(fs.read(fs.user, "hostpasswd", 1 << 20, &d, &n, err, sizeof err), 1);
    assert_int_equal(fs.read(fs.user, "loop1", 1024, &d, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "symbolic links"));
    assert_int_equal(fs.read(fs.user, "etc/hostname", 3, &d, &n, err, sizeof err), -1); /* too large */
    aud_image_close(img);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

/* ---------------------------------------------------------------------------------------------
 * Feeds and matching
 * ------------------------------------------------------------------------------------------- */
static sbom_feed *load_feed(const char *path)
{
    sbom_feed *f = sbom_feed_new();
    assert_non_null(f);
    size_t n;
    uint8_t *d = slurp(path, &n);
    if (sbom_feed_add(f, path, d, n, err, sizeof err) != 0)
        fail_msg("%s", err);
    free(d);
    return f;
}

static void add_json(sbom_feed *f, const char *json)
{
    if (sbom_feed_add(f, "test", (const uint8_t *)json, strlen(json), err, sizeof err) != 0)
        fail_msg("%s", err);
}

static const sbom_vuln *vuln(const sbom_result *r, const char *comp, const char *id)
{
    for (size_t i = 0; i < r->n_vuln; i++)
        if (!strcmp(r->vuln[i].id, id) && !strcmp(r->comp[r->vuln[i].component].name, comp))
            return &r->vuln[i];
    return NULL;
}

/* the exact set of CVE ids found for one component (state SBOM_AFFECTED unless noted) */
static void expect_ids(const sbom_result *r, const char *comp, const char *const *ids, size_t n)
{
    size_t got = 0;
    for (size_t i = 0; i < r->n_vuln; i++)
        if (!strcmp(r->comp[r->vuln[i].component].name, comp))
            got++;
    for (size_t i = 0; i < n; i++)
        if (!vuln(r, comp, ids[i]))
            fail_msg("%s: %s not found", comp, ids[i]);
    if (got != n)
        fail_msg("%s: %zu vulnerabilities, expected %zu", comp, got, n);
}

static void test_nvd_subset_openwrt(void **state)
{
    (void)state;
    sbom_feed *f = load_feed(NVD);
    assert_int_equal(sbom_feed_count(f), 39);
    sbom_result r;
    scan_tree("openwrt", f, &r);
    /* IoTGoat's versions (package_versions.tsv) against the CPE data of the 39 records */
    static const char *const bb[] = { "CVE-2018-20679", "CVE-2019-5747", "CVE-2018-1000517", "CVE-2021-42386",
                                      "CVE-2022-48174" };
    static const char *const db[] = { "CVE-2018-15599", "CVE-2023-48795" };
    static const char *const dm[] = { "CVE-2017-15107", "CVE-2017-14491", "CVE-2020-25681",
                                      "CVE-2020-25682", "CVE-2020-25683", "CVE-2020-25684",
                                      "CVE-2020-25685", "CVE-2020-25686", "CVE-2020-25687" };
    static const char *const ssl[] = { "CVE-2022-0778", "CVE-2023-0286" };
    static const char *const curl[] = { "CVE-2018-14618", "CVE-2019-5482" };
    static const char *const z[] = { "CVE-2022-37434" };
    static const char *const ssh[] = { "CVE-2023-48795" };
    expect_ids(&r, "busybox", bb, 5);
    expect_ids(&r, "dropbear", db, 2);
    expect_ids(&r, "dnsmasq", dm, 9);
    expect_ids(&r, "libopenssl", ssl, 2);
    expect_ids(&r, "libcurl", curl, 2);
    expect_ids(&r, "zlib", z, 1);
    expect_ids(&r, "openssh", ssh, 1);
    expect_ids(&r, "uhttpd", NULL, 0); /* a date, not a release: not matched */
    assert_int_equal(r.n_affected, 24);
    assert_int_equal(r.n_unknown, 0);
    /* an upstream-versioned package: a finding, with the range that matched and the rating */
    const sbom_vuln *v = vuln(&r, "busybox", "CVE-2022-48174");
    assert_int_equal(v->state, SBOM_AFFECTED);
    assert_string_equal(v->source, "NVD");
    assert_non_null(strstr(v->detail, "busybox:busybox versionEndIncluding 1.36.1"));
    assert_string_equal(v->severity, "critical");
    assert_string_equal(v->method, "CVSSv31");
    assert_true(v->score > 9.7 && v->score < 9.9);
    /* CVE-2017-14491's dnsmasq CPE range is versionEndIncluding 2.77 (text says before 2.78) */
    assert_non_null(strstr(vuln(&r, "dnsmasq", "CVE-2017-14491")->detail, "versionEndIncluding 2.77"));
    sbom_result_free(&r);
    sbom_feed_free(f);
}

/* One component against the feed: a result with just it. */
static void one(sbom_result *r, sbom_origin o, const char *name, const char *version, const char *source,
                const char *distro, const sbom_feed *f)
{
    memset(r, 0, sizeof *r);
    assert_true(sbom_add_component(r, o, name, version, NULL, source, distro, "x", 1) >= 0);
    assert_int_equal(sbom_match(r, f, err, sizeof err), 0);
}

static void test_nvd_readme_expectations(void **state)
{
    (void)state;
    sbom_feed *f = load_feed(NVD);
    sbom_result r;
    /* CVE-2022-48174: text says before 1.35, CPE says through 1.36.1: the CPE decides */
    one(&r, SBOM_FROM_BANNER, "busybox", "1.35.0", NULL, NULL, f);
    assert_non_null(vuln(&r, "busybox", "CVE-2022-48174"));
    sbom_result_free(&r);
    one(&r, SBOM_FROM_BANNER, "busybox", "1.36.1", NULL, NULL, f);
    assert_non_null(vuln(&r, "busybox", "CVE-2022-48174"));
    sbom_result_free(&r);
    one(&r, SBOM_FROM_BANNER, "busybox", "1.36.2", NULL, NULL, f);
    assert_int_equal(r.n_vuln, 0);
    sbom_result_free(&r);
    /* CVE-2023-48795: text says through 2022.83, CPE says before 2022.83 */
    one(&r, SBOM_FROM_BANNER, "dropbear", "2022.83", NULL, NULL, f);
    assert_null(vuln(&r, "dropbear", "CVE-2023-48795"));
    sbom_result_free(&r);
    one(&r, SBOM_FROM_BANNER, "dropbear", "2022.82", NULL, NULL, f);
    assert_non_null(vuln(&r, "dropbear", "CVE-2023-48795"));
    sbom_result_free(&r);
    /* exact CPE versions with an update field: openssh 8.5 + p1 */
    one(&r, SBOM_FROM_BANNER, "openssh", "8.5p1", NULL, NULL, f);
    assert_non_null(vuln(&r, "openssh", "CVE-2024-6387"));
    sbom_result_free(&r);
    one(&r, SBOM_FROM_BANNER, "openssh", "8.5", NULL, NULL, f);
    assert_null(vuln(&r, "openssh", "CVE-2024-6387")); /* 8.5 is neither 8.5p1 nor in [8.6, 9.8) */
    sbom_result_free(&r);
    /* exact versions in CVE-2014-0160's list: 1.0.1f yes, 1.0.1g no */
    one(&r, SBOM_FROM_BANNER, "openssl", "1.0.1f", NULL, NULL, f);
    assert_non_null(vuln(&r, "openssl", "CVE-2014-0160"));
    sbom_result_free(&r);
    one(&r, SBOM_FROM_BANNER, "openssl", "1.0.1g", NULL, NULL, f);
    assert_null(vuln(&r, "openssl", "CVE-2014-0160"));
    sbom_result_free(&r);
    /* Debian packages: an upstream match is at most 'unknown' without distribution data */
    one(&r, SBOM_FROM_DPKG, "libc6", "2.36-9+deb12u14", "glibc", "Debian:12", f);
    assert_int_equal(vuln(&r, "libc6", "CVE-2023-4911")->state, SBOM_UNKNOWN);
    assert_int_equal(r.n_affected, 0);
    sbom_result_free(&r);
    one(&r, SBOM_FROM_DPKG, "libcurl4", "7.88.1-10+deb12u5", "curl", "Debian:12", f);
    assert_int_equal(vuln(&r, "libcurl4", "CVE-2023-38545")->state, SBOM_UNKNOWN);
    assert_int_equal(r.n_affected, 0);
    sbom_result_free(&r);
    sbom_feed_free(f);
}

/* Debian 12 OSV records: TEST DATA written here (not real advisories' text). */
static const char osv_debian12[] =
    "[{\"id\":\"TEST-DEBIAN-CVE-2023-4911\",\"upstream\":[\"CVE-2023-4911\"],"
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"glibc\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"2.36-9+deb12u3\"}]}]}]},"
    "{\"id\":\"TEST-DSA-0001-1\",\"aliases\":[\"CVE-2023-38545\"],"
    "\"references\":[{\"type\":\"ADVISORY\",\"url\":\"https://example.invalid/test-dsa-0001\"}],"
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"curl\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"7.88.1-10+deb12u4\"}]}]}]},"
    "{\"id\":\"TEST-DEBIAN-CVE-2099-0001\",\"aliases\":[\"CVE-2099-0001\"],"
    "\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}],"
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"openssl\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"3.0.11-1~deb12u2\"}]}]}]}]";

static void test_osv_debian_backports(void **state)
{
    (void)state;
    sbom_feed *f = load_feed(NVD);
    add_json(f, osv_debian12);
    sbom_result r;
    /* glibc fixed in deb12u3: deb12u4 and deb12u14 are not affected (not a finding), deb12u2 is */
    one(&r, SBOM_FROM_DPKG, "libc6", "2.36-9+deb12u14", "glibc", "Debian:12", f);
    assert_int_equal(vuln(&r, "libc6", "CVE-2023-4911")->state, SBOM_NOT_AFFECTED);
    assert_int_equal(r.n_affected + r.n_unknown, 0);
    sbom_result_free(&r);
    one(&r, SBOM_FROM_DPKG, "libc6", "2.36-9+deb12u2", "glibc", "Debian:12", f);
    const sbom_vuln *v = vuln(&r, "libc6", "CVE-2023-4911");
    assert_int_equal(v->state, SBOM_AFFECTED);
    assert_string_equal(v->source, "OSV");
    assert_non_null(strstr(v->detail, "fixed in 2.36-9+deb12u3"));
    assert_string_equal(v->severity, "high"); /* the NVD rating */
    sbom_result_free(&r);
    /* another release's record does not apply */
    one(&r, SBOM_FROM_DPKG, "libc6", "2.31-13", "glibc", "Debian:11", f);
    assert_int_equal(vuln(&r, "libc6", "CVE-2023-4911") ? 1 : 0, 0); /* 2.31 is outside [2.34, 2.39) */
    sbom_result_free(&r);
    /* curl: the record names the source package; the installed binary package is libcurl4 */
    one(&r, SBOM_FROM_DPKG, "libcurl4", "7.88.1-10+deb12u5", "curl", "Debian:12", f);
    assert_int_equal(vuln(&r, "libcurl4", "CVE-2023-38545")->state, SBOM_NOT_AFFECTED);
    sbom_result_free(&r);
    one(&r, SBOM_FROM_DPKG, "libcurl4", "7.88.1-10+deb12u3", "curl", "Debian:12", f);
    v = vuln(&r, "libcurl4", "CVE-2023-38545");
    assert_int_equal(v->state, SBOM_AFFECTED);
    assert_string_equal(v->url, "https://example.invalid/test-dsa-0001");
    sbom_result_free(&r);
    /* the case: a fix backported in 1~deb12u2 (no NVD record: OSV alone decides) */
    one(&r, SBOM_FROM_DPKG, "libssl3", "3.0.11-1~deb12u2", "openssl", "Debian:12", f);
    assert_null(vuln(&r, "libssl3", "CVE-2099-0001"));
    sbom_result_free(&r);
    one(&r, SBOM_FROM_DPKG, "libssl3", "3.0.11-1", "openssl", "Debian:12", f); /* 3.0.11-1 > 3.0.11-1~deb12u2 */
    assert_null(vuln(&r, "libssl3", "CVE-2099-0001"));
    sbom_result_free(&r);
    one(&r, SBOM_FROM_DPKG, "libssl3", "3.0.11-1~deb12u1", "openssl", "Debian:12", f);
    v = vuln(&r, "libssl3", "CVE-2099-0001");
    assert_non_null(v);
    assert_int_equal(v->state, SBOM_AFFECTED);
    assert_string_equal(v->method, "CVSSv31");
    assert_string_equal(v->vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
    sbom_result_free(&r);
    /* an opkg package of the same name is not a Debian package */
    one(&r, SBOM_FROM_OPKG, "openssl", "3.0.11-1~deb12u1", NULL, "OpenWrt", f);
    assert_null(vuln(&r, "openssl", "CVE-2099-0001"));
    sbom_result_free(&r);
    sbom_feed_free(f);
}

static void test_osv_dsa_3029(void **state)
{
    (void)state;
    sbom_feed *f = load_feed(DSA); /* real record: Debian:7 nginx fixed in 1.2.1-2.2+wheezy3 */
    assert_int_equal(sbom_feed_count(f), 1);
    sbom_result r;
    one(&r, SBOM_FROM_DPKG, "nginx-full", "1.2.1-2.2+wheezy2", "nginx", "Debian:7", f);
    const sbom_vuln *v = vuln(&r, "nginx-full", "CVE-2014-3616");
    assert_non_null(v);
    assert_int_equal(v->state, SBOM_AFFECTED);
    assert_non_null(strstr(v->detail, "DSA-3029-1"));
    assert_string_equal(v->url, "https://www.debian.org/security/2014/dsa-3029");
    sbom_result_free(&r);
    one(&r, SBOM_FROM_DPKG, "nginx-full", "1.2.1-2.2+wheezy3", "nginx", "Debian:7", f);
    assert_int_equal(r.n_vuln, 0);
    sbom_result_free(&r);
    one(&r, SBOM_FROM_DPKG, "nginx-full", "1.2.1-2.2", "nginx", "Debian:12", f);
    assert_int_equal(r.n_vuln, 0);
    sbom_result_free(&r);
    one(&r, SBOM_FROM_DPKG, "nginx-full", "1.2.1-2.2", "nginx", "Debian:7", f);
    assert_int_equal(r.n_vuln, 1);
    sbom_result_free(&r);
    sbom_feed_free(f);
}

/* OSV shapes: SEMVER ranges, last_affected, versions[], {"vulns":[...]} */
static void test_osv_shapes(void **state)
{
    (void)state;
    sbom_feed *f = sbom_feed_new();
    add_json(f, "{\"vulns\":[{\"id\":\"TEST-1\",\"affected\":[{\"package\":{\"ecosystem\":\"Alpine:v3.18\","
                "\"name\":\"busybox\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"1.30.0\"},"
                "{\"last_affected\":\"1.36.1\"}]}]}]},"
                "{\"id\":\"TEST-2\",\"affected\":[{\"package\":{\"ecosystem\":\"Alpine\",\"name\":\"busybox\"},"
                "\"versions\":[\"1.36.1-r4\"]}]}]}");
    assert_int_equal(sbom_feed_count(f), 2);
    sbom_result r;
    one(&r, SBOM_FROM_APK, "busybox", "1.36.1-r5", "busybox", "Alpine:v3.18", f);
    assert_non_null(vuln(&r, "busybox", "TEST-1")); /* upstream 1.36.1 <= last_affected */
    assert_null(vuln(&r, "busybox", "TEST-2"));
    sbom_result_free(&r);
    one(&r, SBOM_FROM_APK, "busybox", "1.36.1-r4", "busybox", "Alpine:v3.18", f);
    assert_non_null(vuln(&r, "busybox", "TEST-2"));
    sbom_result_free(&r);
    one(&r, SBOM_FROM_APK, "busybox", "1.37.0-r0", "busybox", "Alpine:v3.18", f);
    assert_int_equal(r.n_vuln, 0);
    sbom_result_free(&r);
    sbom_feed_free(f);
}

static void test_feed_errors(void **state)
{
    (void)state;
    sbom_feed *f = sbom_feed_new();
    static const struct {
        const char *json, *msg;
    } bad[] = {
        { "{\"vulnerabilities\":[", "not valid JSON" },
        { "{\"id\":\"x\"} trailing", "trailing data" },
        { "{\"hello\":1}", "neither NVD" },
        { "", "not valid JSON" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_int_equal(sbom_feed_add(f, "feed.json", (const uint8_t *)bad[i].json, strlen(bad[i].json), err,
                                       sizeof err),
                         -1);
        if (!strstr(err, bad[i].msg) || !strstr(err, "feed.json"))
            fail_msg("case %zu: '%s'", i, err);
    }
    /* nesting deeper than 64: refused, no stack exhaustion */
    char deep[400];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 200);
    assert_int_equal(sbom_feed_add(f, "deep", (const uint8_t *)deep, sizeof deep, err, sizeof err), -1);
    assert_int_equal(sbom_feed_count(f), 0);
    sbom_feed_free(f);
}

static void test_cpe_table(void **state)
{
    (void)state;
    const char *p[8];
    assert_int_equal(sbom_cpe_products("libssl3", p, 8), 1);
    assert_string_equal(p[0], "openssl:openssl");
    assert_int_equal(sbom_cpe_products("dropbear-bin", p, 8), 1);
    assert_string_equal(p[0], "dropbear_ssh_project:dropbear_ssh");
    assert_int_equal(sbom_cpe_products("wpad-basic", p, 8), 2);
    assert_int_equal(sbom_cpe_products("base-files", p, 8), 0);
}

/* ---------------------------------------------------------------------------------------------
 * CycloneDX
 * ------------------------------------------------------------------------------------------- */
static json_object *jget(json_object *o, const char *k)
{
    json_object *v = NULL;
    assert_true(json_object_object_get_ex(o, k, &v));
    return v;
}

static void test_cyclonedx(void **state)
{
    (void)state;
    sbom_feed *f = load_feed(NVD);
    sbom_result r;
    scan_tree("debian", f, &r);
    char *txt = sbom_cyclonedx(&r, "debian", NULL, "2025-01-01T00:00:00Z", "0.1.0");
    assert_non_null(txt);
    json_object *bom = json_tokener_parse(txt);
    assert_non_null(bom);
    assert_string_equal(json_object_get_string(jget(bom, "specVersion")), "1.6");
    json_object *mc = jget(jget(bom, "metadata"), "component");
    assert_string_equal(json_object_get_string(jget(mc, "type")), "firmware");
    json_object *comps = jget(bom, "components");
    assert_int_equal(json_object_array_length(comps), r.n_comp);
    json_object *vulns = jget(bom, "vulnerabilities");
    assert_int_equal(json_object_array_length(vulns), r.n_affected + r.n_unknown);
    assert_true(json_object_array_length(vulns) >= 3);
    for (size_t i = 0; i < json_object_array_length(vulns); i++) {
        json_object *v = json_object_array_get_idx(vulns, i);
        json_object *a = json_object_array_get_idx(jget(v, "affects"), 0);
        const char *ref = json_object_get_string(jget(a, "ref"));
        bool found = false;
        for (size_t k = 0; k < json_object_array_length(comps) && !found; k++)
            found = !strcmp(ref, json_object_get_string(jget(json_object_array_get_idx(comps, k), "bom-ref")));
        assert_true(found);
    }
    /* evidence: the database record's line */
    json_object *c0 = json_object_array_get_idx(comps, 0);
    json_object *occ = json_object_array_get_idx(jget(jget(c0, "evidence"), "occurrences"), 0);
    assert_string_equal(json_object_get_string(jget(occ, "location")), "var/lib/dpkg/status");
    assert_int_equal(json_object_get_int(jget(occ, "line")), 1);
    json_object_put(bom);
    free(txt);
    sbom_result_free(&r);
    sbom_feed_free(f);
}

/* ---------------------------------------------------------------------------------------------
 * Version banners
 * ------------------------------------------------------------------------------------------- */
static size_t fake_elf(uint8_t *buf, size_t cap, const char *const *strs, size_t n)
{
    size_t o = 0;
    memcpy(buf, "\x7f" "ELF\x02\x01\x01", 7);
    memset(buf + 7, 0, 57);
    o = 64;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(strs[i]);
        assert_true(o + l + 2 < cap);
        memcpy(buf + o, strs[i], l);
        o += l;
        buf[o++] = 0;
        buf[o++] = 0x01; /* a non-printable byte between strings */
    }
    return o;
}

static void test_banners_basic(void **state)
{
    (void)state;
    uint8_t buf[1024];
    static const char *const s[] = { "BusyBox v1.35.0 (Debian 1:1.35.0-4+b3)", "2.80", "Dnsmasq version %s  %s",
                                     "libcurl/7.88.1", "nothing 1.2.3" };
    size_t n = fake_elf(buf, sizeof buf, s, 5);
    sbom_result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(sbom_scan_banners(&r, "bin/x", buf, n), 3);
    expect(&r, "busybox", SBOM_FROM_BANNER, "1.35.0", "pkg:generic/busybox@1.35.0", "bin/x", 0);
    expect(&r, "dnsmasq", SBOM_FROM_BANNER, "2.80", "pkg:generic/dnsmasq@2.80", "bin/x", 0);
    expect(&r, "libcurl", SBOM_FROM_BANNER, "7.88.1", "pkg:generic/libcurl@7.88.1", "bin/x", 0);
    assert_null(find(&r, "curl", SBOM_FROM_BANNER)); /* "libcurl/" is not "curl/" */
    sbom_result_free(&r);
}

#ifdef FS38_SHARED_VECTORS
/* cve-bin-tool's mapping_test_data (GPL-3.0, read in place, not copied): every case of a product
 * the scanner knows must give that product and version. */
static void test_banners_cve_bin_tool_oracle(void **state)
{
    (void)state;
    size_t len;
    uint8_t *all = slurp(FS38_SHARED_VECTORS "/audit/version_strings/cve_bin_tool_mapping_test_data.jsonl", &len);
    size_t cases = 0, passed = 0;
    char *save = NULL;
    for (char *line = strtok_r((char *)all, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_object *o = json_tokener_parse(line);
        assert_non_null(o);
        const char *product = json_object_get_string(jget(o, "product"));
        const char *version = json_object_get_string(jget(o, "version"));
        json_object *strs = jget(o, "version_strings");
        /* products the scanner claims to know: the CPE products of its banner names */
        static const char *const known[] = { "busybox", "openssl", "dropbear_ssh", "dnsmasq", "curl", "libcurl",
                                             "openssh", "lighttpd", "hostapd", "wpa_supplicant", "mosquitto",
                                             "zlib", "libexpat", "libupnp", "miniupnpd", "glibc", "mbed_tls",
                                             "wolfssl", "nginx", "lua", "libssh2", "linux_kernel" };
        bool k = false;
        for (size_t i = 0; i < sizeof known / sizeof known[0] && !k; i++)
            k = !strcmp(product, known[i]);
        if (!k) {
            json_object_put(o);
            continue;
        }
        cases++;
        /* cve-bin-tool writes the strings as lines of one file: "\n"-separated strings */
        uint8_t buf[4096];
        size_t n = 64;
        memcpy(buf, "\x7f" "ELF\x02\x01\x01", 7);
        memset(buf + 7, 0, 57);
        for (size_t i = 0; i < json_object_array_length(strs); i++) {
            const char *s = json_object_get_string(json_object_array_get_idx(strs, i));
            size_t l = strlen(s);
            assert_true(n + l + 1 < sizeof buf);
            memcpy(buf + n, s, l);
            n += l;
            buf[n++] = '\n';
        }
        sbom_result r;
        memset(&r, 0, sizeof r);
        (void)sbom_scan_banners(&r, "f", buf, n);
        bool ok = false;
        for (size_t i = 0; i < r.n_comp && !ok; i++) {
            const char *p[8];
            size_t np = sbom_cpe_products(r.comp[i].name, p, 8);
            for (size_t j = 0; j < np && !ok; j++)
                ok = !strcmp(strchr(p[j], ':') + 1, product) && !strcmp(r.comp[i].version, version);
        }
        if (ok)
            passed++;
        else
            print_message("banner oracle: %s %s not found in %s\n", product, version, line);
        sbom_result_free(&r);
        json_object_put(o);
    }
    free(all);
    print_message("banner oracle: %zu / %zu cve-bin-tool cases of known products\n", passed, cases);
    assert_true(cases >= 38);
    assert_int_equal(passed, cases);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_debver_order),
        cmocka_unit_test(test_debver_against_dpkg),
        cmocka_unit_test(test_debver_upstream),
        cmocka_unit_test(test_dpkg),
        cmocka_unit_test(test_opkg_openwrt_and_yocto),
        cmocka_unit_test(test_apk),
        cmocka_unit_test(test_buildroot),
        cmocka_unit_test(test_parse_db_edges),
        cmocka_unit_test(test_dir_links_stay_inside),
        cmocka_unit_test(test_nvd_subset_openwrt),
        cmocka_unit_test(test_nvd_readme_expectations),
        cmocka_unit_test(test_osv_debian_backports),
        cmocka_unit_test(test_osv_dsa_3029),
        cmocka_unit_test(test_osv_shapes),
        cmocka_unit_test(test_feed_errors),
        cmocka_unit_test(test_cpe_table),
        cmocka_unit_test(test_cyclonedx),
        cmocka_unit_test(test_banners_basic),
#ifdef FS38_SHARED_VECTORS
        cmocka_unit_test(test_banners_cve_bin_tool_oracle),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
