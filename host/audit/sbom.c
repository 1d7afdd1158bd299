/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sbom.c — the image as a directory (sbom_fs over a plain directory, links resolved inside it),
 * and sbom_scan: package databases, file ownership, version banners, vulnerability matching.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sbom.h"
#include "sbom_int.h"

/* ---------------------------------------------------------------------------------------------
 * sbom_fs over a directory
 * ------------------------------------------------------------------------------------------- */
typedef struct dirfs {
    int rootfd;
    char *root;
} dirfs;

#define LINK_HOPS 40
#define WALK_DEPTH 64
#define RPATH_MAX 4096

/* Resolve path (relative to the root) component by component, following symbolic links inside
 * the image: an absolute target restarts at the root, ".." never climbs above it. 0 with the
 * resolved relative path in out ("" = the root), 1 when a component does not exist, -1 error. */
static int dir_resolve(const dirfs *d, const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
    char *rem = malloc(2 * RPATH_MAX);
    char *tmp = malloc(2 * RPATH_MAX);
    int rc = 0, hops = 0;
    if (!rem || !tmp) {
        free(rem);
        free(tmp);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (strlen(path) >= RPATH_MAX) {
        snprintf(err, errlen, "%s: path too long", path);
        rc = -1;
        goto out;
    }
    snprintf(rem, 2 * RPATH_MAX, "%s", path);
    out[0] = '\0';
    size_t olen = 0;
    char *p = rem;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        char *slash = strchr(p, '/');
        size_t cl = slash ? (size_t)(slash - p) : strlen(p);
        char *next = slash ? slash : p + cl;
        if (cl == 1 && p[0] == '.') {
            p = next;
            continue;
        }
        if (cl == 2 && p[0] == '.' && p[1] == '.') {
            while (olen && out[olen - 1] != '/')
                olen--;
            if (olen)
                olen--; /* the '/' */
            out[olen] = '\0';
            p = next;
            continue;
        }
        if (olen + 1 + cl + 1 > outlen) {
            snprintf(err, errlen, "%s: path too long", path);
            rc = -1;
            goto out;
        }
        size_t save = olen;
        if (olen)
            out[olen++] = '/';
        memcpy(out + olen, p, cl);
        olen += cl;
        out[olen] = '\0';
        struct stat st;
        if (fstatat(d->rootfd, out, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT || errno == ENOTDIR) {
                rc = 1;
                goto out;
            }
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            rc = -1;
            goto out;
        }
        if (S_ISLNK(st.st_mode)) {
            if (++hops > LINK_HOPS) {
                snprintf(err, errlen, "%s: more than %d symbolic links (a cycle?)", path, LINK_HOPS);
                rc = -1;
                goto out;
            }
            char target[RPATH_MAX];
            ssize_t tl = readlinkat(d->rootfd, out, target, sizeof target - 1);
            if (tl < 0) {
                snprintf(err, errlen, "%s: reading link %s: %s", path, out, strerror(errno));
                rc = -1;
                goto out;
            }
            target[tl] = '\0';
            olen = save;
            out[olen] = '\0';
            if (target[0] == '/') {
                olen = 0;
                out[0] = '\0';
            }
            if ((size_t)tl + 1 + strlen(next) + 1 > 2 * RPATH_MAX) {
                snprintf(err, errlen, "%s: path too long after links", path);
                rc = -1;
                goto out;
            }
            size_t nl = strlen(next);
            memcpy(tmp, target, (size_t)tl);
            memcpy(tmp + tl, next, nl + 1);
            memcpy(rem, tmp, (size_t)tl + nl + 1);
            p = rem;
            continue;
        }
        p = next;
    }
out:
    free(rem);
    free(tmp);
    return rc;
}

static int dir_read(void *user, const char *path, size_t max, uint8_t **data, size_t *len, char *err,
                    size_t errlen)
{
    const dirfs *d = user;
    char rp[RPATH_MAX];
    int rc = dir_resolve(d, path, rp, sizeof rp, err, errlen);
    if (rc != 0)
        return rc;
    if (!rp[0])
        return 1;
    int fd = openat(d->rootfd, rp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT || errno == ELOOP)
            return 1;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return 1;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        snprintf(err, errlen, "%s: %lld bytes, more than the %zu allowed", path, (long long)st.st_size, max);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n + 1);
    if (!buf) {
        close(fd);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(err, errlen, "%s: %s", path, r < 0 ? strerror(errno) : "file shrank while read");
            free(buf);
            close(fd);
            return -1;
        }
        got += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int walk_dir(int dfd, char *prefix, size_t plen, int depth, sbom_visit_fn cb, void *cb_user, char *err,
                    size_t errlen)
{
    if (depth > WALK_DEPTH) {
        snprintf(err, errlen, "%s: directories nested more than %d deep", prefix, WALK_DEPTH);
        return -1;
    }
    DIR *dir = fdopendir(dfd);
    if (!dir) {
        close(dfd);
        snprintf(err, errlen, "%s: %s", plen ? prefix : ".", strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                rc = -1;
                break;
            }
            names = nn;
        }
        if (!(names[n] = sbom_strdup(e->d_name))) {
            rc = -1;
            break;
        }
        n++;
    }
    if (rc < 0)
        snprintf(err, errlen, "%s: out of memory", prefix);
    if (names)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t nl = strlen(names[i]);
        if (plen + 1 + nl + 1 > RPATH_MAX) {
            snprintf(err, errlen, "%s/%s: path too long", prefix, names[i]);
            rc = -1;
            break;
        }
        size_t l = plen;
        if (l)
            prefix[l++] = '/';
        memcpy(prefix + l, names[i], nl + 1);
        struct stat st;
        if (fstatat(dirfd(dir), names[i], &st, AT_SYMLINK_NOFOLLOW) != 0)
            ;
        else if (S_ISREG(st.st_mode))
            rc = cb(cb_user, prefix, (uint64_t)st.st_size, SBOM_ENT_FILE);
        else if (S_ISLNK(st.st_mode))
            rc = cb(cb_user, prefix, 0, SBOM_ENT_LINK);
        else if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd(dir), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                rc = walk_dir(sub, prefix, l + nl, depth + 1, cb, cb_user, err, errlen);
        }
        prefix[plen] = '\0';
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(dir);
    return rc;
}

static int dir_walk(void *user, sbom_visit_fn cb, void *cb_user, char *err, size_t errlen)
{
    const dirfs *d = user;
    int fd = openat(d->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", d->root, strerror(errno));
        return -1;
    }
    char *prefix = malloc(RPATH_MAX);
    if (!prefix) {
        close(fd);
        snprintf(err, errlen, "%s: out of memory", d->root);
        return -1;
    }
    prefix[0] = '\0';
    int rc = walk_dir(fd, prefix, 0, 0, cb, cb_user, err, errlen);
    free(prefix);
    return rc;
}

int sbom_fs_dir_open(sbom_fs *fs, const char *root, char *err, size_t errlen)
{
    memset(fs, 0, sizeof *fs);
    dirfs *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "%s: out of memory", root);
        return -1;
    }
    d->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->rootfd < 0) {
        snprintf(err, errlen, "%s: %s", root, strerror(errno));
        free(d);
        return -1;
    }
    d->root = sbom_strdup(root);
    if (!d->root) {
        close(d->rootfd);
        free(d);
        snprintf(err, errlen, "%s: out of memory", root);
        return -1;
    }
    fs->read = dir_read;
    fs->walk = dir_walk;
    fs->user = d;
    return 0;
}

void sbom_fs_dir_close(sbom_fs *fs)
{
    dirfs *d = fs ? fs->user : NULL;
    if (!d)
        return;
    close(d->rootfd);
    free(d->root);
    free(d);
    fs->user = NULL;
}

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
