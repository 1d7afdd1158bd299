/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sbom.c — sbom_scan: package databases, file ownership, version banners, vulnerability matching,
 * over an sbom_fs (the image reader of audit.h through check_sbom.c's sbom_fs_image).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbom.h"
#include "sbom_int.h"


/* ---------------------------------------------------------------------------------------------
 * scan
 * ------------------------------------------------------------------------------------------- */
#define DB_MAX (256u * 1024u * 1024u)
#define DEFAULT_ELF_MAX (64u * 1024u * 1024u)

typedef struct entry {
    char *path;
    uint64_t size;
} entry;

typedef struct owner {
    char *path; /* relative, no leading '/' */
    size_t comp;
} owner;

typedef struct scan {
    const sbom_fs *fs;
    sbom_result *res;
    entry *files;
    size_t n_files, cap_files;
    owner *own;
    size_t n_own, cap_own;
    char *err;
    size_t errlen;
} scan;

static int visit(void *u, const char *path, uint64_t size, int kind)
{
    scan *s = u;
    s->res->n_files++;
    if (kind != SBOM_ENT_FILE)
        return 0;
    if (s->n_files == s->cap_files) {
        size_t cap = s->cap_files ? s->cap_files * 2 : 256;
        entry *e = realloc(s->files, cap * sizeof *e);
        if (!e)
            goto oom;
        s->files = e;
        s->cap_files = cap;
    }
    s->files[s->n_files].path = sbom_strdup(path);
    if (!s->files[s->n_files].path)
        goto oom;
    s->files[s->n_files++].size = size;
    return 0;
oom:
    snprintf(s->err, s->errlen, "%s: out of memory", path);
    return -1;
}

static int add_owner(scan *s, const char *path, size_t len, size_t comp)
{
    while (len && (path[0] == '/' || (path[0] == '.' && len > 1 && path[1] == '/'))) {
        path++;
        len--;
    }
    while (len && (path[len - 1] == '\r' || path[len - 1] == '/'))
        len--;
    if (!len)
        return 0;
    if (s->n_own == s->cap_own) {
        size_t cap = s->cap_own ? s->cap_own * 2 : 256;
        owner *o = realloc(s->own, cap * sizeof *o);
        if (!o)
            return -1;
        s->own = o;
        s->cap_own = cap;
    }
    s->own[s->n_own].path = sbom_strndup(path, len);
    if (!s->own[s->n_own].path)
        return -1;
    s->own[s->n_own++].comp = comp;
    return 0;
}

static int cmp_owner(const void *a, const void *b) { return strcmp(((const owner *)a)->path, ((const owner *)b)->path); }

static const owner *find_owner(const scan *s, const char *path)
{
    owner key = { (char *)path, 0 };
    return s->n_own ? bsearch(&key, s->own, s->n_own, sizeof *s->own, cmp_owner) : NULL;
}

/* read a file of the image: 0 read, 1 absent, -1 error (in s->err) */
static int image_read(scan *s, const char *path, size_t max, uint8_t **d, size_t *n)
{
    return s->fs->read(s->fs->user, path, max, d, n, s->err, s->errlen);
}

static void find_distro(scan *s, char *distro, size_t dl)
{
    static const char *const osr[] = { "etc/os-release", "usr/lib/os-release" };
    uint8_t *d;
    size_t n;
    distro[0] = '\0';
    for (size_t i = 0; i < 2 && !distro[0]; i++)
        if (image_read(s, osr[i], 1u << 20, &d, &n) == 0) {
            sbom_distro_from_os_release((const char *)d, n, distro, dl);
            free(d);
        }
    if (!distro[0] && image_read(s, "etc/debian_version", 4096, &d, &n) == 0) {
        size_t k = strspn((const char *)d, "0123456789");
        snprintf(distro, dl, k ? "Debian:%.*s" : "Debian", (int)k, (const char *)d);
        free(d);
    }
    if (!distro[0] && image_read(s, "etc/openwrt_release", 1u << 20, &d, &n) == 0) {
        snprintf(distro, dl, "OpenWrt");
        free(d);
    }
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static bool under(const char *path, const char *dir)
{
    size_t l = strlen(dir);
    return !strncmp(path, dir, l) && path[l] == '/' && !strchr(path + l + 1, '/');
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* dpkg / opkg info/NAME[:ARCH].list: the files each package installed */
static int load_lists(scan *s, size_t first, size_t end)
{
    static const struct {
        const char *dir;
        sbom_origin kind;
    } dirs[] = { { "var/lib/dpkg/info", SBOM_FROM_DPKG },
                 { "usr/lib/opkg/info", SBOM_FROM_OPKG },
                 { "var/lib/opkg/info", SBOM_FROM_OPKG } };
    for (size_t i = 0; i < s->n_files; i++) {
        const char *p = s->files[i].path;
        if (!ends_with(p, ".list"))
            continue;
        for (size_t k = 0; k < 3; k++) {
            if (!under(p, dirs[k].dir))
                continue;
            char name[256];
            const char *b = base_name(p);
            size_t nl = strcspn(b, ":");
            if (nl > strlen(b) - 5)
                nl = strlen(b) - 5;
            if (nl >= sizeof name)
                break;
            memcpy(name, b, nl);
            name[nl] = '\0';
            size_t ci = end;
            for (size_t c = first; c < end && ci == end; c++)
                if (s->res->comp[c].origin == dirs[k].kind && !strcmp(s->res->comp[c].name, name))
                    ci = c;
            if (ci == end)
                break;
            uint8_t *d;
            size_t n;
            int rc = image_read(s, p, DB_MAX, &d, &n);
            if (rc < 0)
                return -1;
            if (rc > 0)
                break;
            size_t off = 0;
            while (off < n) {
                const char *line = (const char *)d + off;
                const char *nlp = memchr(line, '\n', n - off);
                size_t l = nlp ? (size_t)(nlp - line) : n - off;
                off += l + (nlp ? 1 : 0);
                if (add_owner(s, line, l, ci)) {
                    free(d);
                    snprintf(s->err, s->errlen, "%s: out of memory", p);
                    return -1;
                }
            }
            free(d);
            break;
        }
    }
    return 0;
}

static int parse_at(scan *s, sbom_origin kind, const char *path, const char *distro)
{
    uint8_t *d;
    size_t n;
    int rc = image_read(s, path, DB_MAX, &d, &n);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    size_t first = s->res->n_comp;
    rc = sbom_parse_db(s->res, kind, path, (const char *)d, n, distro, s->err, s->errlen);
    if (rc == 0 && kind == SBOM_FROM_BUILDROOT) {
        /* ownership: "package,./path" */
        size_t off = 0;
        while (off < n && rc == 0) {
            const char *line = (const char *)d + off;
            const char *nl = memchr(line, '\n', n - off);
            size_t l = nl ? (size_t)(nl - line) : n - off;
            off += l + (nl ? 1 : 0);
            const char *comma = memchr(line, ',', l);
            if (!comma)
                continue;
            size_t pl = (size_t)(comma - line);
            for (size_t c = first; c < s->res->n_comp; c++)
                if (strlen(s->res->comp[c].name) == pl && !strncmp(s->res->comp[c].name, line, pl)) {
                    if (add_owner(s, comma + 1, l - pl - 1, c)) {
                        snprintf(s->err, s->errlen, "%s: out of memory", path);
                        rc = -1;
                    }
                    break;
                }
        }
    }
    free(d);
    return rc;
}

static bool share_cpe(const char *a, const char *b)
{
    const char *pa[8], *pb[8];
    size_t na = sbom_cpe_products(a, pa, 8), nb = sbom_cpe_products(b, pb, 8);
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            if (!strcmp(pa[i], pb[j]))
                return true;
    return !strcmp(a, b);
}

static int scan_binaries(scan *s, const sbom_options *opt)
{
    uint64_t max = opt && opt->max_elf_size ? opt->max_elf_size : DEFAULT_ELF_MAX;
    sbom_result tmp;
    memset(&tmp, 0, sizeof tmp);
    for (size_t i = 0; i < s->n_files; i++) {
        const entry *e = &s->files[i];
        if (e->size < 64 || e->size > max)
            continue;
        uint8_t *d;
        size_t n;
        int rc = image_read(s, e->path, (size_t)max, &d, &n);
        if (rc < 0) {
            sbom_result_free(&tmp);
            return -1;
        }
        if (rc > 0)
            continue;
        if (n < 64 || memcmp(d, "\x7f" "ELF", 4) != 0) {
            free(d);
            continue;
        }
        s->res->n_elf++;
        sbom_scan_banners(&tmp, e->path, d, n);
        free(d);
        const owner *o = find_owner(s, e->path);
        for (size_t k = 0; k < tmp.n_comp; k++) {
            const sbom_component *b = &tmp.comp[k];
            int r = 0;
            sbom_component *oc = o ? &s->res->comp[o->comp] : NULL;
            if (oc && (share_cpe(oc->name, b->name) || (oc->source && share_cpe(oc->source, b->name)) ||
                       oc->origin == SBOM_FROM_BUILDROOT)) {
                if (!oc->version)
                    r = sbom_component_set_version(oc, b->version);
                if (r == 0)
                    r = sbom_component_add_where(oc, e->path, 0);
            } else {
                bool merged = false;
                for (size_t c = 0; c < s->res->n_comp && !merged && r == 0; c++) {
                    sbom_component *x = &s->res->comp[c];
                    if (x->origin == SBOM_FROM_BANNER && !strcmp(x->name, b->name) && !strcmp(x->version, b->version)) {
                        r = sbom_component_add_where(x, e->path, 0);
                        merged = true;
                    }
                }
                if (!merged && r == 0 &&
                    sbom_add_component(s->res, SBOM_FROM_BANNER, b->name, b->version, NULL, NULL, NULL, e->path,
                                       0) < 0)
                    r = -1;
            }
            if (r) {
                snprintf(s->err, s->errlen, "%s: out of memory", e->path);
                sbom_result_free(&tmp);
                return -1;
            }
        }
        sbom_result_free(&tmp);
    }
    return 0;
}

int sbom_scan(const sbom_fs *fs, const sbom_feed *feeds, const sbom_options *opt, sbom_result *res, char *err,
              size_t errlen)
{
    memset(res, 0, sizeof *res);
    scan s = { .fs = fs, .res = res, .err = err, .errlen = errlen };
    char distro[64];
    int rc = fs->walk(fs->user, visit, &s, err, errlen);
    if (rc == 0) {
        find_distro(&s, distro, sizeof distro);
        const char *opkg_distro = !strcmp(distro, "OpenWrt") ? distro : NULL;
        const char *deb_distro = !strncmp(distro, "Debian", 6) || !strncmp(distro, "Ubuntu", 6) ? distro : NULL;
        const char *apk_distro = !strncmp(distro, "Alpine", 6) ? distro : NULL;
        size_t first = res->n_comp;
        if (rc == 0)
            rc = parse_at(&s, SBOM_FROM_DPKG, "var/lib/dpkg/status", deb_distro ? deb_distro : "Debian");
        if (rc == 0)
            rc = parse_at(&s, SBOM_FROM_OPKG, "usr/lib/opkg/status", opkg_distro);
        if (rc == 0)
            rc = parse_at(&s, SBOM_FROM_OPKG, "var/lib/opkg/status", opkg_distro);
        if (rc == 0)
            rc = parse_at(&s, SBOM_FROM_APK, "lib/apk/db/installed", apk_distro ? apk_distro : "Alpine");
        for (size_t i = 0; rc == 0 && i < s.n_files; i++)
            if (!strcmp(base_name(s.files[i].path), "packages-file-list.txt"))
                rc = parse_at(&s, SBOM_FROM_BUILDROOT, s.files[i].path, NULL);
        if (rc == 0)
            rc = load_lists(&s, first, res->n_comp);
        if (rc == 0 && s.n_own)
            qsort(s.own, s.n_own, sizeof *s.own, cmp_owner);
        if (rc == 0 && !(opt && opt->no_banners))
            rc = scan_binaries(&s, opt);
        if (rc == 0)
            rc = sbom_match(res, feeds, err, errlen);
    }
    for (size_t i = 0; i < s.n_files; i++)
        free(s.files[i].path);
    free(s.files);
    for (size_t i = 0; i < s.n_own; i++)
        free(s.own[i].path);
    free(s.own);
    if (rc != 0) {
        sbom_result_free(res);
        return -1;
    }
    return 0;
}
