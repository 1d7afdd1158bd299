/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cve_match.c — components against the feeds.
 *
 * NVD: a component's name (and its Debian/apk source name) maps to NVD CPE vendor:product pairs
 * through the table below (common embedded components; the pairs are the ones NVD uses, as
 * listed by cve-bin-tool's checkers). Its upstream version (epoch and distribution revision
 * removed) is compared with each vulnerable cpeMatch of that product: an exact CPE version, or
 * versionStart/End Including/Excluding (dpkg's ordering on the upstream part: 1.0.2q < 1.0.2zd).
 * The CPE data decides, not the description text.
 *
 * OSV: affected[] entries whose package.ecosystem is the component's distribution ("Debian:12",
 * or "Debian" for any release) and whose package.name is its source (or binary) name; ECOSYSTEM
 * ranges compare full versions with Debian ordering (apk versions too, an approximation), SEMVER
 * ranges compare upstream versions; versions[] lists exact versions.
 *
 * Verdict per (component, CVE): an OSV record of the component's distribution naming the CVE
 * (id, aliases or upstream) decides (affected, or not affected when the installed version is at
 * or after the fix: a fix backported in 1.0-1~deb12u2). Without one, an NVD match is a finding
 * for upstream-versioned components (opkg, Buildroot, banners) and 'unknown' for distribution
 * packages (dpkg, apk), whose revisions may carry backported fixes. Components whose version is
 * a date or missing are not matched against NVD ranges.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbom.h"
#include "sbom_int.h"

/* name pattern (fnmatch) -> "vendor:product" */
static const struct {
    const char *pat;
    const char *cpe;
} cpe_map[] = {
    { "busybox", "busybox:busybox" },
    { "busybox-*", "busybox:busybox" },
    { "openssl", "openssl:openssl" },
    { "openssl-util", "openssl:openssl" },
    { "libssl*", "openssl:openssl" },
    { "libopenssl*", "openssl:openssl" },
    { "libcrypto*", "openssl:openssl" },
    { "dropbear", "dropbear_ssh_project:dropbear_ssh" },
    { "dropbear-*", "dropbear_ssh_project:dropbear_ssh" },
    { "dnsmasq", "thekelleys:dnsmasq" },
    { "dnsmasq-*", "thekelleys:dnsmasq" },
    { "curl", "haxx:curl" },
    { "curl", "haxx:libcurl" },
    { "libcurl*", "haxx:libcurl" },
    { "libcurl*", "haxx:curl" },
    { "openssh", "openbsd:openssh" },
    { "openssh-*", "openbsd:openssh" },
    { "lighttpd", "lighttpd:lighttpd" },
    { "lighttpd-*", "lighttpd:lighttpd" },
    { "hostapd", "w1.fi:hostapd" },
    { "hostapd-*", "w1.fi:hostapd" },
    { "wpad", "w1.fi:hostapd" },
    { "wpad", "w1.fi:wpa_supplicant" },
    { "wpad-*", "w1.fi:hostapd" },
    { "wpad-*", "w1.fi:wpa_supplicant" },
    { "wpa_supplicant", "w1.fi:wpa_supplicant" },
    { "wpa-supplicant*", "w1.fi:wpa_supplicant" },
    { "wpasupplicant", "w1.fi:wpa_supplicant" },
    { "wpa", "w1.fi:wpa_supplicant" }, /* Debian source of wpasupplicant and hostapd */
    { "wpa", "w1.fi:hostapd" },
    { "mosquitto", "eclipse:mosquitto" },
    { "mosquitto-*", "eclipse:mosquitto" },
    { "libmosquitto*", "eclipse:mosquitto" },
    { "zlib", "zlib:zlib" },
    { "zlib1g", "zlib:zlib" },
    { "libz", "zlib:zlib" },
    { "libz1", "zlib:zlib" },
    { "expat", "libexpat_project:libexpat" },
    { "libexpat*", "libexpat_project:libexpat" },
    { "libupnp*", "libupnp_project:libupnp" },
    { "pupnp", "libupnp_project:libupnp" },
    { "uclibc", "uclibc:uclibc" },
    { "uclibc-ng", "uclibc-ng_project:uclibc-ng" },
    { "glibc", "gnu:glibc" },
    { "libc6", "gnu:glibc" },
    { "libc-bin", "gnu:glibc" },
    { "mbedtls", "arm:mbed_tls" },
    { "libmbedtls*", "arm:mbed_tls" },
    { "libmbedcrypto*", "arm:mbed_tls" },
    { "wolfssl", "wolfssl:wolfssl" },
    { "libwolfssl*", "wolfssl:wolfssl" },
    { "nginx", "f5:nginx" },
    { "nginx-*", "f5:nginx" },
    { "gsoap", "genivia:gsoap" },
    { "libgsoap*", "genivia:gsoap" },
    { "lua", "lua:lua" },
    { "lua5.*", "lua:lua" },
    { "liblua*", "lua:lua" },
    { "miniupnpd", "miniupnp_project:miniupnpd" },
    { "miniupnpd-*", "miniupnp_project:miniupnpd" },
    { "sqlite3", "sqlite:sqlite" },
    { "libsqlite3*", "sqlite:sqlite" },
    { "libssh2*", "libssh2:libssh2" },
    { "linux", "linux:linux_kernel" },
    { "linux-image-*", "linux:linux_kernel" },
    { "kernel", "linux:linux_kernel" },
};

size_t sbom_cpe_products(const char *name, const char **out, size_t max)
{
    size_t n = 0;
    if (!name)
        return 0;
    for (size_t i = 0; i < sizeof cpe_map / sizeof cpe_map[0] && n < max; i++)
        if (fnmatch(cpe_map[i].pat, name, 0) == 0) {
            bool dup = false;
            for (size_t j = 0; j < n; j++)
                dup = dup || !strcmp(out[j], cpe_map[i].cpe);
            if (!dup)
                out[n++] = cpe_map[i].cpe;
        }
    return n;
}

/* "2018-11-28-cdfc902a": a date, not a release number */
static bool date_version(const char *v)
{
    return strlen(v) >= 10 && v[4] == '-' && v[7] == '-' && strspn(v, "0123456789") == 4;
}

static bool rule_matches(const cpe_rule *r, const char *up)
{
    if (r->exact)
        return debver_part_cmp(up, r->exact) == 0;
    if (r->start) {
        int c = debver_part_cmp(up, r->start);
        if (c < 0 || (c == 0 && !r->start_incl))
            return false;
    }
    if (r->end) {
        int c = debver_part_cmp(up, r->end);
        if (c > 0 || (c == 0 && !r->end_incl))
            return false;
    }
    return true;
}

static void rule_text(const cpe_rule *r, char *out, size_t n)
{
    int k = snprintf(out, n, "cpe %s:%s", r->vendor, r->product);
    if (k < 0 || (size_t)k >= n)
        return;
    size_t off = (size_t)k;
    if (r->exact)
        snprintf(out + off, n - off, " version %s", r->exact);
    else {
        int m = 0;
        if (r->start)
            m = snprintf(out + off, n - off, " versionStart%s %s", r->start_incl ? "Including" : "Excluding",
                         r->start);
        if (m > 0 && (size_t)m < n - off)
            off += (size_t)m;
        if (r->end)
            snprintf(out + off, n - off, " versionEnd%s %s", r->end_incl ? "Including" : "Excluding", r->end);
        else if (!r->start)
            snprintf(out + off, n - off, " (all versions)");
    }
}

/* distribution match: OSV ecosystem "Debian:12" / "Debian" against the component's "Debian:12" */
static bool eco_matches(const char *eco, const char *distro)
{
    if (!distro)
        return false;
    size_t el = strcspn(eco, ":"), dl = strcspn(distro, ":");
    if (el != dl || strncmp(eco, distro, el) != 0)
        return false;
    if (!eco[el])
        return true; /* "Debian": every release */
    return !strcmp(eco, distro);
}

static int ver_cmp(const osv_range *rg, const char *installed, const char *up, const char *v)
{
    if (rg->semver)
        return debver_part_cmp(up, v);
    return debver_cmp(installed, v);
}

/* Is the installed version inside the range? *fixed gets the fix version that bounds it, if any. */
static bool range_affects(const osv_range *rg, const char *installed, const char *up, const char **fixed)
{
    bool hit = false;
    for (size_t i = 0; i < rg->n_ev; i++) {
        if (rg->ev[i].kind != OSV_INTRODUCED)
            continue;
        const char *intro = rg->ev[i].ver;
        bool after = !strcmp(intro, "0") || ver_cmp(rg, installed, up, intro) >= 0;
        /* the first end event after this introduced */
        const osv_event *end = NULL;
        for (size_t j = i + 1; j < rg->n_ev && !end; j++)
            if (rg->ev[j].kind == OSV_FIXED || rg->ev[j].kind == OSV_LAST_AFFECTED || rg->ev[j].kind == OSV_LIMIT)
                end = &rg->ev[j];
            else if (rg->ev[j].kind == OSV_INTRODUCED)
                break;
        bool before = true;
        if (end) {
            int c = ver_cmp(rg, installed, up, end->ver);
            before = end->kind == OSV_LAST_AFFECTED ? c <= 0 : c < 0;
            if (end->kind == OSV_FIXED && !*fixed)
                *fixed = end->ver;
        }
        if (after && before) {
            hit = true;
            if (end && end->kind == OSV_FIXED)
                *fixed = end->ver;
            break;
        }
    }
    return hit;
}

static bool is_cve(const char *s) { return !strncmp(s, "CVE-", 4); }

/* The CVE an OSV record is about (its id, or a CVE alias), or its own id. */
static const char *osv_key(const osv_rec *o)
{
    if (is_cve(o->id))
        return o->id;
    for (size_t i = 0; i < o->n_aliases; i++)
        if (is_cve(o->aliases[i]))
            return o->aliases[i];
    return o->id;
}

static bool osv_names(const osv_rec *o, const char *id)
{
    if (!strcmp(o->id, id))
        return true;
    for (size_t i = 0; i < o->n_aliases; i++)
        if (!strcmp(o->aliases[i], id))
            return true;
    return false;
}

static int push_vuln(sbom_result *res, size_t comp, sbom_vstate st, const char *id, const char *source,
                     const char *url, const char *detail, const rating *r)
{
    for (size_t i = 0; i < res->n_vuln; i++)
        if (res->vuln[i].component == comp && !strcmp(res->vuln[i].id, id))
            return 0;
    sbom_vuln *a = realloc(res->vuln, (res->n_vuln + 1) * sizeof *a);
    if (!a)
        return -1;
    res->vuln = a;
    sbom_vuln *v = &a[res->n_vuln++];
    memset(v, 0, sizeof *v);
    v->component = comp;
    v->state = st;
    v->score = r ? r->score : -1;
    v->id = sbom_strdup(id);
    v->source = sbom_strdup(source);
    v->url = url ? sbom_strdup(url) : NULL;
    v->detail = sbom_strdup(detail);
    if (r && r->severity)
        v->severity = sbom_strdup(r->severity);
    if (r && r->method)
        v->method = sbom_strdup(r->method);
    if (r && r->vector)
        v->vector = sbom_strdup(r->vector);
    if (!v->id || !v->source || !v->detail || (url && !v->url) || (r && r->severity && !v->severity) ||
        (r && r->method && !v->method) || (r && r->vector && !v->vector))
        return -1;
    if (st == SBOM_AFFECTED)
        res->n_affected++;
    else if (st == SBOM_UNKNOWN)
        res->n_unknown++;
    else
        res->n_not_affected++;
    return 0;
}

/* OSV verdicts for one component */
typedef struct osv_hit {
    const osv_rec *rec;
    const char *fixed;
    const char *eco;
    bool affected;
} osv_hit;

static const nvd_rec *nvd_by_id(const sbom_feed *f, const char *id)
{
    for (size_t i = 0; i < f->n_nvd; i++)
        if (!strcmp(f->nvd[i].id, id))
            return &f->nvd[i];
    return NULL;
}

static int match_component(sbom_result *res, size_t ci, const sbom_feed *f)
{
    const sbom_component *c = &res->comp[ci];
    if (!c->version)
        return 0;
    char up[256];
    if (c->origin == SBOM_FROM_BANNER || c->origin == SBOM_FROM_BUILDROOT)
        snprintf(up, sizeof up, "%s", c->version);
    else
        debver_upstream(c->version, up, sizeof up);
    char detail[768], rt[400];

    /* OSV records for this component's distribution */
    osv_hit *hits = NULL;
    size_t n_hits = 0;
    for (size_t i = 0; i < f->n_osv; i++) {
        const osv_rec *o = &f->osv[i];
        for (size_t j = 0; j < o->n_aff; j++) {
            const osv_aff *a = &o->aff[j];
            if (!eco_matches(a->ecosystem, c->distro))
                continue;
            if (strcmp(a->name, c->source ? c->source : c->name) != 0 && strcmp(a->name, c->name) != 0)
                continue;
            const char *fixed = NULL;
            bool aff = false;
            for (size_t k = 0; k < a->n_versions && !aff; k++)
                aff = !strcmp(a->versions[k], c->version);
            for (size_t k = 0; k < a->n_ranges && !aff; k++)
                aff = range_affects(&a->ranges[k], c->version, up, &fixed);
            osv_hit *h = realloc(hits, (n_hits + 1) * sizeof *h);
            if (!h) {
                free(hits);
                return -1;
            }
            hits = h;
            hits[n_hits++] = (osv_hit){ o, fixed, a->ecosystem, aff };
            break;
        }
    }

    int rc = 0;
    /* NVD ranges on the upstream version */
    const char *prods[8];
    size_t np = sbom_cpe_products(c->name, prods, 8);
    if (c->source)
        np += sbom_cpe_products(c->source, prods + np, 8 - np);
    if (np && !date_version(up) && up[0]) {
        for (size_t i = 0; rc == 0 && i < f->n_nvd; i++) {
            const nvd_rec *n = &f->nvd[i];
            const cpe_rule *hit = NULL;
            for (size_t k = 0; k < n->n_rules && !hit; k++) {
                const cpe_rule *r = &n->rules[k];
                bool prod = false;
                for (size_t p = 0; p < np && !prod; p++) {
                    size_t vl = strcspn(prods[p], ":");
                    prod = strlen(r->vendor) == vl && !strncmp(prods[p], r->vendor, vl) &&
                           !strcmp(prods[p] + vl + 1, r->product);
                }
                if (prod && rule_matches(r, up))
                    hit = r;
            }
            if (!hit)
                continue;
            rule_text(hit, rt, sizeof rt);
            const osv_hit *oh = NULL;
            for (size_t h = 0; h < n_hits && !oh; h++)
                if (osv_names(hits[h].rec, n->id))
                    oh = &hits[h];
            char url[128];
            snprintf(url, sizeof url, "https://nvd.nist.gov/vuln/detail/%s", n->id);
            if (oh) {
                snprintf(detail, sizeof detail, "%s matches upstream %s; %s %s (%s): %s%s%s", rt, up,
                         oh->rec->id, oh->affected ? "affects" : "does not affect", oh->eco, c->version,
                         oh->fixed ? (oh->affected ? ", fixed in " : ", fixed in ") : "",
                         oh->fixed ? oh->fixed : "");
                rc = push_vuln(res, ci, oh->affected ? SBOM_AFFECTED : SBOM_NOT_AFFECTED, n->id, "OSV",
                               oh->rec->url, detail, &n->r);
            } else if (c->backports) {
                snprintf(detail, sizeof detail,
                         "%s matches upstream %s of %s; the distribution may have backported the fix "
                         "(no distribution record in the feeds)",
                         rt, up, c->version);
                rc = push_vuln(res, ci, SBOM_UNKNOWN, n->id, "NVD", url, detail, &n->r);
            } else {
                snprintf(detail, sizeof detail, "%s matches version %s", rt, up);
                rc = push_vuln(res, ci, SBOM_AFFECTED, n->id, "NVD", url, detail, &n->r);
            }
        }
    }
    /* OSV findings no NVD record covered */
    for (size_t h = 0; rc == 0 && h < n_hits; h++) {
        if (!hits[h].affected)
            continue;
        const char *key = osv_key(hits[h].rec);
        const nvd_rec *n = nvd_by_id(f, key);
        const rating *r = n ? &n->r : &hits[h].rec->r;
        snprintf(detail, sizeof detail, "%s affects %s (%s) %s%s%s", hits[h].rec->id, c->source ? c->source : c->name,
                 hits[h].eco, c->version, hits[h].fixed ? ", fixed in " : "", hits[h].fixed ? hits[h].fixed : "");
        rc = push_vuln(res, ci, SBOM_AFFECTED, key, "OSV", hits[h].rec->url, detail, r);
    }
    free(hits);
    return rc;
}

int sbom_match(sbom_result *res, const sbom_feed *feeds, char *err, size_t errlen)
{
    for (size_t i = 0; i < res->n_vuln; i++)
        sbom_vuln_free(&res->vuln[i]);
    free(res->vuln);
    res->vuln = NULL;
    res->n_vuln = res->n_affected = res->n_unknown = res->n_not_affected = 0;
    if (!feeds)
        return 0;
    for (size_t i = 0; i < res->n_comp; i++)
        if (match_component(res, i, feeds) != 0) {
            snprintf(err, errlen, "matching %s: out of memory", res->comp[i].name);
            return -1;
        }
    return 0;
}
