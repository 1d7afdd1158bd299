/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pkgdb.c — components: the result list (add, purl, free) and the package-database parsers:
 * dpkg var/lib/dpkg/status, opkg status (OpenWrt usr/lib/opkg, Yocto var/lib/opkg), apk
 * lib/apk/db/installed, Buildroot packages-file-list.txt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbom.h"
#include "sbom_int.h"

char *sbom_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *sbom_strdup(const char *s) { return s ? sbom_strndup(s, strlen(s)) : NULL; }

/* ---- growable text buffer ---- */
int sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return -1;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int sb_puts(sbuf *b, const char *s) { return sb_put(b, s, strlen(s)); }

/* purl percent-encoding: everything but unreserved characters */
static int sb_purl(sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
            c == '-' || c == '_' || c == '~') {
            if (sb_put(b, s, 1))
                return -1;
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            if (sb_put(b, e, 3))
                return -1;
        }
    }
    return 0;
}

/* purl namespace from the distro ("Debian:12" -> "debian"); NULL when none */
static void distro_ns(const char *distro, char *out, size_t outlen)
{
    size_t n = 0;
    out[0] = '\0';
    if (!distro)
        return;
    for (; distro[n] && distro[n] != ':' && n + 1 < outlen; n++) {
        char c = distro[n];
        out[n] = (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    }
    out[n] = '\0';
}

static char *make_purl(const sbom_component *c)
{
    sbuf b = { 0 };
    char ns[32];
    distro_ns(c->distro, ns, sizeof ns);
    switch (c->origin) {
    case SBOM_FROM_DPKG:
        sb_puts(&b, "pkg:deb/");
        sb_puts(&b, ns[0] ? ns : "debian");
        sb_puts(&b, "/");
        break;
    case SBOM_FROM_OPKG:
        sb_puts(&b, "pkg:opkg/");
        if (ns[0]) {
            sb_purl(&b, ns);
            sb_puts(&b, "/");
        }
        break;
    case SBOM_FROM_APK:
        sb_puts(&b, "pkg:apk/");
        sb_puts(&b, ns[0] ? ns : "alpine");
        sb_puts(&b, "/");
        break;
    default:
        sb_puts(&b, "pkg:generic/");
        break;
    }
    sb_purl(&b, c->name);
    if (c->version && c->version[0]) {
        sb_puts(&b, "@");
        sb_purl(&b, c->version);
    }
    if (c->arch && c->arch[0]) {
        sb_puts(&b, "?arch=");
        sb_purl(&b, c->arch);
    }
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

int sbom_component_set_version(sbom_component *c, const char *version)
{
    char *v = sbom_strdup(version);
    if (!v)
        return -1;
    free(c->version);
    c->version = v;
    char *p = make_purl(c);
    if (!p)
        return -1;
    free(c->purl);
    c->purl = p;
    return 0;
}

int sbom_component_add_where(sbom_component *c, const char *path, unsigned line)
{
    for (size_t i = 0; i < c->n_where; i++)
        if (!strcmp(c->where[i].path, path) && c->where[i].line == line)
            return 0;
    if (c->n_where >= 64)
        return 0; /* enough evidence */
    sbom_where *w = realloc(c->where, (c->n_where + 1) * sizeof *w);
    if (!w)
        return -1;
    c->where = w;
    w[c->n_where].path = sbom_strdup(path);
    if (!w[c->n_where].path)
        return -1;
    w[c->n_where].line = line;
    c->n_where++;
    return 0;
}

long sbom_add_component(sbom_result *res, sbom_origin origin, const char *name, const char *version,
                        const char *arch, const char *source, const char *distro, const char *path,
                        unsigned line)
{
    if (!name || !name[0])
        return -1;
    sbom_component *arr = realloc(res->comp, (res->n_comp + 1) * sizeof *arr);
    if (!arr)
        return -1;
    res->comp = arr;
    sbom_component *c = &arr[res->n_comp];
    memset(c, 0, sizeof *c);
    c->origin = origin;
    c->backports = origin == SBOM_FROM_DPKG || origin == SBOM_FROM_APK;
    c->name = sbom_strdup(name);
    c->version = version && version[0] ? sbom_strdup(version) : NULL;
    c->arch = arch && arch[0] ? sbom_strdup(arch) : NULL;
    c->source = source && source[0] ? sbom_strdup(source) : NULL;
    c->distro = distro && distro[0] ? sbom_strdup(distro) : NULL;
    char ref[48];
    snprintf(ref, sizeof ref, "component-%zu", res->n_comp + 1);
    c->bom_ref = sbom_strdup(ref);
    c->purl = make_purl(c);
    res->n_comp++;
    if (!c->name || !c->bom_ref || !c->purl || (version && version[0] && !c->version) ||
        (arch && arch[0] && !c->arch) || (source && source[0] && !c->source) ||
        (distro && distro[0] && !c->distro) || (path && sbom_component_add_where(c, path, line)))
        return -1;
    return (long)(res->n_comp - 1);
}

static void free_component(sbom_component *c)
{
    free(c->name);
    free(c->version);
    free(c->arch);
    free(c->source);
    free(c->purl);
    free(c->bom_ref);
    free(c->distro);
    for (size_t i = 0; i < c->n_where; i++)
        free(c->where[i].path);
    free(c->where);
}

void sbom_vuln_free(sbom_vuln *v)
{
    free(v->id);
    free(v->source);
    free(v->url);
    free(v->detail);
    free(v->severity);
    free(v->method);
    free(v->vector);
}

void sbom_result_free(sbom_result *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < res->n_comp; i++)
        free_component(&res->comp[i]);
    free(res->comp);
    for (size_t i = 0; i < res->n_vuln; i++)
        sbom_vuln_free(&res->vuln[i]);
    free(res->vuln);
    memset(res, 0, sizeof *res);
}

/* ---- RFC 822-style stanzas (dpkg, opkg) ---- */

/* The value of a field line "Name: value" (NULL if the line is another field). */
static const char *field(const char *line, size_t len, const char *name, size_t *vlen)
{
    size_t n = strlen(name);
    if (len <= n || strncmp(line, name, n) != 0 || line[n] != ':')
        return NULL;
    const char *v = line + n + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    *vlen = (size_t)(end - v);
    return v;
}

#define FIELD_MAX 512 /* longer names / versions / architectures are refused */

typedef struct stanza {
    char pkg[FIELD_MAX], ver[FIELD_MAX], arch[FIELD_MAX], src[FIELD_MAX], status[FIELD_MAX];
    unsigned line;
    bool any;
} stanza;

static void set_field(char *dst, const char *v, size_t n)
{
    if (n >= FIELD_MAX)
        n = FIELD_MAX - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

/* "install ok installed" (dpkg) / "install user installed" (opkg): want install or hold, the
 * package's state "installed". Config-files, half-installed, deinstall... are not components. */
static bool status_installed(const char *s, bool opkg)
{
    char want[32], flag[32], state[32];
    if (sscanf(s, "%31s %31s %31s", want, flag, state) != 3)
        return false;
    if (strcmp(want, "install") != 0 && strcmp(want, "hold") != 0)
        return false;
    if (!opkg && strcmp(flag, "ok") != 0)
        return false;
    return strcmp(state, "installed") == 0;
}

/* A component from a database record; -1 (err set) when out of memory. */
static int add_record(sbom_result *res, sbom_origin kind, const stanza *s, const char *src, const char *distro,
                      const char *path, char *err, size_t errlen)
{
    if (sbom_add_component(res, kind, s->pkg, s->ver, s->arch, src, distro, path, s->line) >= 0)
        return 0;
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
}

static stanza *stanza_new(const char *path, char *err, size_t errlen)
{
    stanza *s = calloc(1, sizeof *s);
    if (!s)
        snprintf(err, errlen, "%s: out of memory", path);
    return s;
}

/* The line at *off of text[0..len) without its '\n' (*l its length), *off moved past it; NULL
 * at the end. */
static const char *next_line(const char *text, size_t len, size_t *off, size_t *l)
{
    if (*off >= len)
        return NULL;
    const char *line = text + *off;
    const char *nl = memchr(line, '\n', len - *off);
    *l = nl ? (size_t)(nl - line) : len - *off;
    *off += *l + (nl ? 1 : 0);
    return line;
}

/* The lines of a text database, numbered from 1 (lineno: the last one read). */
typedef struct db_lines {
    const char *path, *text;
    size_t len, off;
    unsigned lineno;
} db_lines;

/* 1: *line (*l bytes) is the next line; 0: there is none; -1: it holds a NUL byte (err says where). */
static int db_next(db_lines *d, const char **line, size_t *l, char *err, size_t errlen)
{
    if (!(*line = next_line(d->text, d->len, &d->off, l)))
        return 0;
    d->lineno++;
    if (memchr(*line, '\0', *l)) {
        snprintf(err, errlen, "%s line %u: NUL byte in a text database", d->path, d->lineno);
        return -1;
    }
    return 1;
}

static int stanza_end(sbom_result *res, sbom_origin kind, const char *path, const char *distro, stanza *s,
                      char *err, size_t errlen)
{
    int rc = 0;
    if (s->any && s->pkg[0] && status_installed(s->status, kind == SBOM_FROM_OPKG)) {
        /* Source: NAME [(VERSION)] */
        char src[FIELD_MAX];
        size_t n = strcspn(s->src, " (");
        set_field(src, s->src, n);
        rc = add_record(res, kind, s, src, distro, path, err, errlen);
    }
    memset(s, 0, sizeof *s);
    return rc;
}

static int parse_stanzas(sbom_result *res, sbom_origin kind, const char *path, const char *text, size_t len,
                         const char *distro, char *err, size_t errlen)
{
    stanza *s = stanza_new(path, err, errlen);
    if (!s)
        return -1;
    db_lines d = { path, text, len, 0, 0 };
    const char *line;
    size_t l;
    int rc;
    while ((rc = db_next(&d, &line, &l, err, errlen)) > 0) {
        size_t t = l;
        while (t && (line[t - 1] == '\r' || line[t - 1] == ' ' || line[t - 1] == '\t'))
            t--;
        if (t == 0) {
            if ((rc = stanza_end(res, kind, path, distro, s, err, errlen)))
                break;
            continue;
        }
        if (line[0] == ' ' || line[0] == '\t' || line[0] == '#')
            continue; /* continuation of a multi-line field, or a comment */
        if (!s->any)
            s->line = d.lineno;
        s->any = true;
        const char *v;
        size_t vl;
        if ((v = field(line, l, "Package", &vl))) {
            s->line = d.lineno;
            set_field(s->pkg, v, vl);
        } else if ((v = field(line, l, "Version", &vl)))
            set_field(s->ver, v, vl);
        else if ((v = field(line, l, "Architecture", &vl)))
            set_field(s->arch, v, vl);
        else if ((v = field(line, l, "Source", &vl)))
            set_field(s->src, v, vl);
        else if ((v = field(line, l, "Status", &vl)))
            set_field(s->status, v, vl);
    }
    if (rc == 0)
        rc = stanza_end(res, kind, path, distro, s, err, errlen);
    free(s);
    return rc;
}

/* ---- apk: "P:name", "V:version", "A:arch", "o:origin", records separated by blank lines ---- */
static int apk_end(sbom_result *res, const char *path, const char *distro, stanza *s, char *err, size_t errlen)
{
    int rc = s->pkg[0] ? add_record(res, SBOM_FROM_APK, s, s->src, distro, path, err, errlen) : 0;
    memset(s, 0, sizeof *s);
    return rc;
}

static int parse_apk(sbom_result *res, const char *path, const char *text, size_t len, const char *distro,
                     char *err, size_t errlen)
{
    stanza *s = stanza_new(path, err, errlen);
    if (!s)
        return -1;
    db_lines d = { path, text, len, 0, 0 };
    const char *line;
    size_t l;
    int rc;
    while ((rc = db_next(&d, &line, &l, err, errlen)) > 0) {
        if (l > 0 && line[l - 1] == '\r')
            l--;
        if (l == 0) {
            if ((rc = apk_end(res, path, distro, s, err, errlen)))
                break;
            continue;
        }
        if (l < 2 || line[1] != ':')
            continue;
        switch (line[0]) {
        case 'P':
            s->line = d.lineno;
            set_field(s->pkg, line + 2, l - 2);
            break;
        case 'V':
            set_field(s->ver, line + 2, l - 2);
            break;
        case 'A':
            set_field(s->arch, line + 2, l - 2);
            break;
        case 'o':
            set_field(s->src, line + 2, l - 2);
            break;
        default:
            break;
        }
    }
    if (rc == 0)
        rc = apk_end(res, path, distro, s, err, errlen);
    free(s);
    return rc;
}

/* ---- Buildroot: "package,./path/in/target" per line ---- */
static int parse_buildroot(sbom_result *res, const char *path, const char *text, size_t len, char *err,
                           size_t errlen)
{
    size_t first = res->n_comp;
    db_lines d = { path, text, len, 0, 0 };
    const char *line;
    size_t l;
    int rc;
    while ((rc = db_next(&d, &line, &l, err, errlen)) > 0) {
        const char *comma = memchr(line, ',', l);
        if (!comma || comma == line || (size_t)(comma - line) >= FIELD_MAX)
            continue;
        char name[FIELD_MAX];
        set_field(name, line, (size_t)(comma - line));
        bool seen = false;
        for (size_t i = first; i < res->n_comp && !seen; i++)
            seen = !strcmp(res->comp[i].name, name);
        if (seen)
            continue;
        if (sbom_add_component(res, SBOM_FROM_BUILDROOT, name, NULL, NULL, NULL, NULL, path, d.lineno) < 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            return -1;
        }
    }
    return rc;
}

int sbom_parse_db(sbom_result *res, sbom_origin kind, const char *path, const char *text, size_t len,
                  const char *distro, char *err, size_t errlen)
{
    switch (kind) {
    case SBOM_FROM_DPKG:
    case SBOM_FROM_OPKG:
        return parse_stanzas(res, kind, path, text, len, distro, err, errlen);
    case SBOM_FROM_APK:
        return parse_apk(res, path, text, len, distro, err, errlen);
    case SBOM_FROM_BUILDROOT:
        return parse_buildroot(res, path, text, len, err, errlen);
    default:
        snprintf(err, errlen, "%s: not a package database kind", path);
        return -1;
    }
}

/* ---- os-release: ID and VERSION_ID -> OSV ecosystem ---- */
static void os_value(const char *text, size_t len, const char *key, char *out, size_t outlen)
{
    size_t kl = strlen(key);
    size_t off = 0, l;
    const char *line;
    out[0] = '\0';
    while ((line = next_line(text, len, &off, &l))) {
        if (l > kl && !strncmp(line, key, kl) && line[kl] == '=') {
            const char *v = line + kl + 1;
            size_t vl = l - kl - 1;
            if (vl && (v[0] == '"' || v[0] == '\'')) {
                v++;
                vl--;
                while (vl && (v[vl - 1] == '"' || v[vl - 1] == '\'' || v[vl - 1] == '\r'))
                    vl--;
            }
            if (vl >= outlen)
                vl = outlen - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return;
        }
    }
}

void sbom_distro_from_os_release(const char *text, size_t len, char *out, size_t outlen)
{
    char id[64], ver[64];
    os_value(text, len, "ID", id, sizeof id);
    os_value(text, len, "VERSION_ID", ver, sizeof ver);
    out[0] = '\0';
    if (!strcmp(id, "debian") || !strcmp(id, "raspbian")) {
        size_t n = strspn(ver, "0123456789");
        if (n)
            snprintf(out, outlen, "Debian:%.*s", (int)n, ver);
        else
            snprintf(out, outlen, "Debian");
    } else if (!strcmp(id, "ubuntu")) {
        snprintf(out, outlen, ver[0] ? "Ubuntu:%s" : "Ubuntu", ver);
    } else if (!strcmp(id, "alpine")) {
        /* 3.18.4 -> Alpine:v3.18 */
        const char *dot = strchr(ver, '.');
        const char *dot2 = dot ? strchr(dot + 1, '.') : NULL;
        int n = dot2 ? (int)(dot2 - ver) : (int)strlen(ver);
        if (n)
            snprintf(out, outlen, "Alpine:v%.*s", n, ver);
        else
            snprintf(out, outlen, "Alpine");
    } else if (!strcmp(id, "openwrt")) {
        snprintf(out, outlen, "OpenWrt");
    } else if (id[0]) {
        snprintf(out, outlen, "%s", id);
    }
}
