/* SPDX-License-Identifier: Apache-2.0 */
/*
 * image.c — a read-only, in-memory view of a root filesystem (see audit.h). Nothing is ever
 * extracted or written: archives are read with libarchive (contents kept in memory up to the
 * limits), squashfs with libsquashfs and ext2/3/4 with libext2fs (contents read on demand),
 * directories with openat(O_NOFOLLOW) one component at a time.
 */
#include "audit.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir_reader.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/super.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct aud_image {
    aud_format fmt;
    aud_limits lim;
    aud_entry *e;
    size_t n, cap;
    size_t *slot;       /* hash table of entry index + 1 (0 = free) */
    size_t nslot;
    char **notes;
    size_t n_notes, cap_notes;
    uint64_t total;     /* uncompressed bytes read */
    /* directory */
    int rootfd;
    int dirfd;                          /* the last directory a file was read from ... */
    char dirpath[AUD_PATH_MAX + 1];     /* ... and its path */
    /* squashfs */
    sqfs_file_t *sq_file;
    sqfs_compressor_t *sq_cmp;
    sqfs_id_table_t *sq_ids;
    sqfs_dir_reader_t *sq_dir;
    sqfs_data_reader_t *sq_data;
    sqfs_tree_node_t *sq_root;
    /* ext */
    ext2_filsys fs;
};

static void seterr(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t len, const char *fmt, ...)
{
    if (!err || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

static void note(aud_image *img, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(aud_image *img, const char *fmt, ...)
{
    if (img->n_notes >= 10000)
        return;
    if (img->n_notes == img->cap_notes) {
        size_t nc = img->cap_notes ? img->cap_notes * 2 : 16;
        char **nn = realloc(img->notes, nc * sizeof *nn);
        if (!nn)
            return;
        img->notes = nn;
        img->cap_notes = nc;
    }
    char buf[AUD_PATH_MAX + 200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *s = strdup(buf);
    if (s)
        img->notes[img->n_notes++] = s;
}

int aud_normalise(const char *name, char *out, size_t outlen, bool *absolute, bool *escaped)
{
    size_t o = 0;
    *absolute = name[0] == '/';
    *escaped = false;
    const char *p = name;
    while (*p) {
        while (*p == '/')
            p++;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - s);
        if (n == 0 || (n == 1 && s[0] == '.'))
            continue;
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (o == 0) {
                *escaped = true;
                continue;
            }
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* the '/' */
            continue;
        }
        if (o + (o ? 1 : 0) + n + 1 > outlen || o + n + 1 > AUD_PATH_MAX)
            return -1;
        if (o)
            out[o++] = '/';
        memcpy(out + o, s, n);
        o += n;
    }
    out[o] = '\0';
    return 0;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static int rehash(aud_image *img, size_t nslot)
{
    size_t *slot = calloc(nslot, sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < img->n; i++) {
        size_t h = (size_t)hash_str(img->e[i].path) & (nslot - 1);
        while (slot[h])
            h = (h + 1) & (nslot - 1);
        slot[h] = i + 1;
    }
    free(img->slot);
    img->slot = slot;
    img->nslot = nslot;
    return 0;
}

const aud_entry *aud_image_find(const aud_image *img, const char *path)
{
    if (!img->nslot)
        return NULL;
    size_t h = (size_t)hash_str(path) & (img->nslot - 1);
    while (img->slot[h]) {
        const aud_entry *e = &img->e[img->slot[h] - 1];
        if (strcmp(e->path, path) == 0)
            return e;
        h = (h + 1) & (img->nslot - 1);
    }
    return NULL;
}

static void entry_clear(aud_entry *e)
{
    free(e->link);
    free(e->data);
    e->link = NULL;
    e->data = NULL;
}

/* Add (or replace: a later archive member of the same name wins) an entry for normalised path.
 * Adds implicit parent directories. Returns the entry or NULL (limit / memory; err set). */
static aud_entry *add_entry(aud_image *img, const char *path, aud_type type, char *err, size_t errlen)
{
    /* parents first */
    char tmp[AUD_PATH_MAX + 1];
    size_t pl = strlen(path);
    if (pl > AUD_PATH_MAX) {
        seterr(err, errlen, "path too long");
        return NULL;
    }
    memcpy(tmp, path, pl + 1);
    for (size_t i = 0; i < pl; i++) {
        if (tmp[i] != '/')
            continue;
        tmp[i] = '\0';
        if (!aud_image_find(img, tmp)) {
            aud_entry *d = add_entry(img, tmp, AUD_DIR, err, errlen);
            if (!d)
                return NULL;
            d->implicit = true;
            d->mode = 0755;
        }
        tmp[i] = '/';
    }
    aud_entry *old = (aud_entry *)aud_image_find(img, path);
    if (old) {
        entry_clear(old);
        char *p = old->path;
        memset(old, 0, sizeof *old);
        old->path = p;
        old->type = type;
        return old;
    }
    if (img->n >= img->lim.max_entries) {
        seterr(err, errlen, "more than %zu entries (limit)", img->lim.max_entries);
        return NULL;
    }
    if (img->n == img->cap) {
        size_t nc = img->cap ? img->cap * 2 : 256;
        aud_entry *ne = realloc(img->e, nc * sizeof *ne);
        if (!ne) {
            seterr(err, errlen, "out of memory");
            return NULL;
        }
        img->e = ne;
        img->cap = nc;
    }
    if ((img->n + 1) * 2 > img->nslot && rehash(img, img->nslot ? img->nslot * 2 : 1024) != 0) {
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    aud_entry *e = &img->e[img->n];
    memset(e, 0, sizeof *e);
    e->path = strdup(path);
    if (!e->path) {
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    e->type = type;
    size_t h = (size_t)hash_str(path) & (img->nslot - 1);
    while (img->slot[h])
        h = (h + 1) & (img->nslot - 1);
    img->slot[h] = ++img->n;
    return e;
}

/* Normalise an input name, noting absolute and escaping names. 0 with out filled ("" = root),
 * -1 (too long: noted, skip it). */
static int norm_name(aud_image *img, const char *name, char *out, size_t outlen)
{
    bool abs, esc;
    if (aud_normalise(name, out, outlen, &abs, &esc) != 0) {
        note(img, "%.200s...: member name longer than %u bytes: skipped", name, AUD_PATH_MAX);
        return -1;
    }
    if (esc)
        note(img, "%s: member name leaves the image root ('..'): taken as %s", name, out[0] ? out : "/");
    else if (abs)
        note(img, "%s: absolute member name: taken relative to the image root", name);
    return 0;
}

static bool count_bytes(aud_image *img, uint64_t n, char *err, size_t errlen)
{
    img->total += n;
    if (img->total > img->lim.max_total) {
        seterr(err, errlen, "more than %llu uncompressed bytes (limit; decompression bomb?)",
               (unsigned long long)img->lim.max_total);
        return false;
    }
    return true;
}

/* ---- archives (libarchive) ------------------------------------------------------------------ */

static int open_archive(aud_image *img, const char *target, char *err, size_t errlen)
{
    struct archive *a = archive_read_new();
    if (!a) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    archive_read_support_format_cpio(a);
    int rc = -1;
    if (archive_read_open_filename(a, target, 65536) != ARCHIVE_OK) {
        seterr(err, errlen, "%s: not a directory, tar, cpio, squashfs or ext2/3/4 image (%s)", target,
               archive_error_string(a) ? archive_error_string(a) : "unknown format");
        goto out;
    }
    char path[AUD_PATH_MAX + 1];
    size_t members = 0;
    for (;;) {
        struct archive_entry *ae;
        int r = archive_read_next_header(a, &ae);
        if (r == ARCHIVE_EOF)
            break;
        if (r == ARCHIVE_RETRY)
            continue;
        if (r < ARCHIVE_WARN) {
            seterr(err, errlen, "%s: %s after %zu members", target,
                   archive_error_string(a) ? archive_error_string(a) : "unreadable archive", members);
            goto out;
        }
        members++;
        const char *name = archive_entry_pathname(ae);
        if (!name) {
            note(img, "member %zu: no name: skipped", members);
            continue;
        }
        if (norm_name(img, name, path, sizeof path) != 0 || !path[0])
            continue;
        const char *hard = archive_entry_hardlink(ae);
        mode_t ft = archive_entry_filetype(ae);
        aud_type t;
        if (hard)
            t = AUD_REG;
        else if (ft == AE_IFREG)
            t = AUD_REG;
        else if (ft == AE_IFDIR)
            t = AUD_DIR;
        else if (ft == AE_IFLNK)
            t = AUD_LNK;
        else if (ft == AE_IFCHR)
            t = AUD_CHR;
        else if (ft == AE_IFBLK)
            t = AUD_BLK;
        else if (ft == AE_IFIFO)
            t = AUD_FIFO;
        else if (ft == AE_IFSOCK)
            t = AUD_SOCK;
        else {
            note(img, "%s: unknown member type: skipped", path);
            continue;
        }
        if (t == AUD_CHR || t == AUD_BLK)
            note(img, "%s: device node (never opened)", path);
        if (hard) {
            char tp[AUD_PATH_MAX + 1];
            if (norm_name(img, hard, tp, sizeof tp) != 0)
                continue;
            const aud_entry *src = aud_image_find(img, tp);
            if (!src || src->type != AUD_REG) {
                note(img, "%s: hard link to %s, which is not an earlier regular file: skipped", path, tp);
                continue;
            }
            uint8_t *copy = NULL;
            if (src->data) {
                copy = malloc(src->size + 1);
                if (!copy) {
                    seterr(err, errlen, "out of memory");
                    goto out;
                }
                memcpy(copy, src->data, src->size + 1);
            }
            uint64_t sz = src->size;
            bool big = src->too_big;
            uint32_t mode = src->mode;
            aud_entry *e = add_entry(img, path, AUD_REG, err, errlen);
            if (!e) {
                free(copy);
                goto out;
            }
            e->data = copy;
            e->size = sz;
            e->too_big = big;
            e->mode = mode;
            continue;
        }
        aud_entry *e = add_entry(img, path, t, err, errlen);
        if (!e)
            goto out;
        e->mode = (uint32_t)archive_entry_perm(ae) & 07777u;
        if (t == AUD_LNK) {
            const char *l = archive_entry_symlink(ae);
            e->link = strdup(l ? l : "");
            if (!e->link) {
                seterr(err, errlen, "out of memory");
                goto out;
            }
            e->size = strlen(e->link);
            continue;
        }
        if (t != AUD_REG)
            continue;
        int64_t declared = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
        if (declared < 0)
            declared = 0;
        /* read the data in blocks, counting every uncompressed byte (bombs, huge sparse files) */
        size_t cap = 0, len = 0;
        uint8_t *buf = NULL;
        bool big = false;
        uint8_t blk[65536];
        for (;;) {
            la_ssize_t got = archive_read_data(a, blk, sizeof blk);
            if (got == 0)
                break;
            if (got < 0) {
                free(buf);
                seterr(err, errlen, "%s: member %s: %s", target, path,
                       archive_error_string(a) ? archive_error_string(a) : "read error");
                goto out;
            }
            if (!count_bytes(img, (uint64_t)got, err, errlen)) {
                free(buf);
                char tmp[256];
                snprintf(tmp, sizeof tmp, "%s", err);
                seterr(err, errlen, "%s: member %s: %s", target, path, tmp);
                goto out;
            }
            if (big)
                continue;
            if ((uint64_t)len + (uint64_t)got > img->lim.max_file) {
                big = true;
                free(buf);
                buf = NULL;
                continue;
            }
            if (len + (size_t)got + 1 > cap) {
                size_t nc = cap ? cap : 4096;
                while (nc < len + (size_t)got + 1)
                    nc *= 2;
                uint8_t *nb = realloc(buf, nc);
                if (!nb) {
                    free(buf);
                    seterr(err, errlen, "out of memory");
                    goto out;
                }
                buf = nb;
                cap = nc;
            }
            memcpy(buf + len, blk, (size_t)got);
            len += (size_t)got;
        }
        /* holes of a sparse member are not returned by libarchive: they count as read all the
         * same (a 1 TiB sparse member is as much a bomb as 1 TiB of compressed zeros) */
        if ((uint64_t)declared > (uint64_t)len && !big) {
            if (!count_bytes(img, (uint64_t)declared - len, err, errlen)) {
                free(buf);
                char tmp[256];
                snprintf(tmp, sizeof tmp, "%s", err);
                seterr(err, errlen, "%s: member %s (declared %lld bytes): %s", target, path, (long long)declared, tmp);
                goto out;
            }
            if ((uint64_t)declared > img->lim.max_file) {
                big = true;
                free(buf);
                buf = NULL;
            }
        }
        if (big) {
            e->too_big = true;
            e->size = (uint64_t)declared;
            note(img, "%s: larger than the per-file limit (%llu bytes): not assessed", path,
                 (unsigned long long)img->lim.max_file);
            continue;
        }
        if (!buf) {
            buf = malloc(1);
            if (!buf) {
                seterr(err, errlen, "out of memory");
                goto out;
            }
        }
        buf[len] = 0;
        e->data = buf;
        e->size = len;
    }
    rc = 0;
out:
    archive_read_free(a);
    return rc;
}

/* ---- directories ---------------------------------------------------------------------------- */

typedef struct dir_stack { dev_t dev; ino_t ino; } dir_stack;

static int walk_dir(aud_image *img, int dfd, const char *rel, dir_stack *stk, size_t depth, char *err,
                    size_t errlen)
{
    if (depth >= 256) {
        note(img, "%s: directories nested deeper than 256: not descended", rel);
        close(dfd);
        return 0;
    }
    DIR *d = fdopendir(dfd);
    if (!d) {
        seterr(err, errlen, "%s: cannot read directory: %s", rel[0] ? rel : ".", strerror(errno));
        close(dfd);
        return -1;
    }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char path[AUD_PATH_MAX + 1];
        int n = snprintf(path, sizeof path, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
        if (n < 0 || (size_t)n >= sizeof path) {
            note(img, "%s/...: path too long: skipped", rel);
            continue;
        }
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            note(img, "%s: cannot stat: %s", path, strerror(errno));
            continue;
        }
        aud_type t;
        if (S_ISREG(st.st_mode))
            t = AUD_REG;
        else if (S_ISDIR(st.st_mode))
            t = AUD_DIR;
        else if (S_ISLNK(st.st_mode))
            t = AUD_LNK;
        else if (S_ISCHR(st.st_mode))
            t = AUD_CHR;
        else if (S_ISBLK(st.st_mode))
            t = AUD_BLK;
        else if (S_ISFIFO(st.st_mode))
            t = AUD_FIFO;
        else
            t = AUD_SOCK;
        aud_entry *e = add_entry(img, path, t, err, errlen);
        if (!e) {
            rc = -1;
            break;
        }
        e->mode = (uint32_t)st.st_mode & 07777u;
        e->size = t == AUD_REG ? (uint64_t)st.st_size : 0;
        if (t == AUD_LNK) {
            char tgt[AUD_PATH_MAX + 1];
            ssize_t l = readlinkat(dirfd(d), de->d_name, tgt, sizeof tgt - 1);
            if (l < 0)
                l = 0;
            tgt[l] = 0;
            e->link = strdup(tgt);
            if (!e->link) {
                seterr(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            e->size = (uint64_t)l;
        } else if (t == AUD_DIR) {
            bool loop = false;
            for (size_t i = 0; i < depth; i++)
                if (stk[i].dev == st.st_dev && stk[i].ino == st.st_ino)
                    loop = true;
            if (loop) {
                note(img, "%s: directory cycle: not descended", path);
                continue;
            }
            int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                note(img, "%s: cannot open directory: %s", path, strerror(errno));
                continue;
            }
            stk[depth].dev = st.st_dev;
            stk[depth].ino = st.st_ino;
            if (walk_dir(img, sub, path, stk, depth + 1, err, errlen) != 0) {
                rc = -1;
                break;
            }
        }
    }
    closedir(d);
    return rc;
}

static int open_dir(aud_image *img, const char *target, char *err, size_t errlen)
{
    img->rootfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (img->rootfd < 0) {
        seterr(err, errlen, "%s: cannot open directory: %s", target, strerror(errno));
        return -1;
    }
    int d = dup(img->rootfd);
    if (d < 0) {
        seterr(err, errlen, "%s: %s", target, strerror(errno));
        return -1;
    }
    dir_stack *stk = calloc(257, sizeof *stk);
    if (!stk) {
        close(d);
        seterr(err, errlen, "out of memory");
        return -1;
    }
    int rc = walk_dir(img, d, "", stk, 0, err, errlen);
    free(stk);
    return rc;
}

/* Open path inside the directory image one component at a time, never following a link. The
 * last directory opened is kept (entries are read in path order, so most reads reuse it). */
static int dir_open_file(aud_image *img, const char *path)
{
    char tmp[AUD_PATH_MAX + 1];
    snprintf(tmp, sizeof tmp, "%s", path);
    char *slash = strrchr(tmp, '/');
    const char *base = slash ? slash + 1 : tmp;
    if (slash)
        *slash = '\0';
    const char *dir = slash ? tmp : "";
    if (img->dirfd < 0 || strcmp(img->dirpath, dir) != 0) {
        if (img->dirfd >= 0)
            close(img->dirfd);
        img->dirfd = -1;
        int fd = dup(img->rootfd);
        if (fd < 0)
            return -1;
        char walk[AUD_PATH_MAX + 1];
        snprintf(walk, sizeof walk, "%s", dir);
        char *save = NULL;
        for (char *c = strtok_r(walk, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
            int nfd = openat(fd, c, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_DIRECTORY);
            close(fd);
            if (nfd < 0)
                return -1;
            fd = nfd;
        }
        img->dirfd = fd;
        snprintf(img->dirpath, sizeof img->dirpath, "%s", dir);
    }
    int fd = openat(img->dirfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    return fd;
}

/* ---- squashfs (libsquashfs) ---------------------------------------------------------------- */

static int walk_sqfs(aud_image *img, const sqfs_tree_node_t *n, const char *rel, size_t depth, char *err,
                     size_t errlen)
{
    if (depth > 256) {
        note(img, "%s: directories nested deeper than 256: not descended", rel);
        return 0;
    }
    for (const sqfs_tree_node_t *c = n->children; c; c = c->next) {
        const char *name = (const char *)c->name;
        if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
            note(img, "%s/%s: invalid name in a squashfs directory: skipped", rel, name);
            continue;
        }
        char path[AUD_PATH_MAX + 1];
        int k = snprintf(path, sizeof path, "%s%s%s", rel, rel[0] ? "/" : "", name);
        if (k < 0 || (size_t)k >= sizeof path) {
            note(img, "%s/...: path too long: skipped", rel);
            continue;
        }
        const sqfs_inode_generic_t *in = c->inode;
        aud_type t;
        switch (in->base.type) {
        case SQFS_INODE_DIR: case SQFS_INODE_EXT_DIR: t = AUD_DIR; break;
        case SQFS_INODE_FILE: case SQFS_INODE_EXT_FILE: t = AUD_REG; break;
        case SQFS_INODE_SLINK: case SQFS_INODE_EXT_SLINK: t = AUD_LNK; break;
        case SQFS_INODE_BDEV: case SQFS_INODE_EXT_BDEV: t = AUD_BLK; break;
        case SQFS_INODE_CDEV: case SQFS_INODE_EXT_CDEV: t = AUD_CHR; break;
        case SQFS_INODE_FIFO: case SQFS_INODE_EXT_FIFO: t = AUD_FIFO; break;
        default: t = AUD_SOCK; break;
        }
        aud_entry *e = add_entry(img, path, t, err, errlen);
        if (!e)
            return -1;
        e->mode = in->base.mode & 07777u;
        e->ref = in;
        if (t == AUD_REG) {
            sqfs_u64 sz = 0;
            if (sqfs_inode_get_file_size(in, &sz) == 0)
                e->size = sz;
        } else if (t == AUD_LNK) {
            sqfs_u32 tl = in->base.type == SQFS_INODE_SLINK ? in->data.slink.target_size
                                                            : in->data.slink_ext.target_size;
            if (tl > in->payload_bytes_available || tl > AUD_PATH_MAX)
                tl = 0;
            e->link = malloc((size_t)tl + 1);
            if (!e->link) {
                seterr(err, errlen, "out of memory");
                return -1;
            }
            memcpy(e->link, (const char *)in->extra, tl);
            e->link[tl] = 0;
            e->size = tl;
        } else if (t == AUD_CHR || t == AUD_BLK) {
            note(img, "%s: device node (never opened)", path);
        } else if (t == AUD_DIR) {
            if (walk_sqfs(img, c, path, depth + 1, err, errlen) != 0)
                return -1;
        }
    }
    return 0;
}

static int open_sqfs(aud_image *img, const char *target, char *err, size_t errlen)
{
    img->sq_file = sqfs_open_file(target, SQFS_FILE_OPEN_READ_ONLY);
    if (!img->sq_file) {
        seterr(err, errlen, "%s: cannot open: %s", target, strerror(errno));
        return -1;
    }
    sqfs_super_t super;
    int r = sqfs_super_read(&super, img->sq_file);
    if (r) {
        seterr(err, errlen, "%s: squashfs super block unreadable (libsquashfs error %d)", target, r);
        return -1;
    }
    sqfs_compressor_config_t cfg;
    r = sqfs_compressor_config_init(&cfg, (SQFS_COMPRESSOR)super.compression_id, super.block_size,
                                    SQFS_COMP_FLAG_UNCOMPRESS);
    if (!r)
        r = sqfs_compressor_create(&cfg, &img->sq_cmp);
    if (r) {
        seterr(err, errlen, "%s: squashfs compressor %u unsupported (libsquashfs error %d)", target,
               (unsigned)super.compression_id, r);
        return -1;
    }
    img->sq_ids = sqfs_id_table_create(0);
    img->sq_dir = sqfs_dir_reader_create(&super, img->sq_cmp, img->sq_file, 0);
    img->sq_data = sqfs_data_reader_create(img->sq_file, super.block_size, img->sq_cmp, 0);
    if (!img->sq_ids || !img->sq_dir || !img->sq_data) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    if ((r = sqfs_id_table_read(img->sq_ids, img->sq_file, &super, img->sq_cmp)) != 0 ||
        (r = sqfs_data_reader_load_fragment_table(img->sq_data, &super)) != 0 ||
        (r = sqfs_dir_reader_get_full_hierarchy(img->sq_dir, img->sq_ids, NULL, 0, &img->sq_root)) != 0) {
        seterr(err, errlen, "%s: corrupt squashfs image (libsquashfs error %d)", target, r);
        return -1;
    }
    return walk_sqfs(img, img->sq_root, "", 0, err, errlen);
}

/* ---- ext2/3/4 (libext2fs) ------------------------------------------------------------------- */

typedef struct ext_child { char *name; ext2_ino_t ino; } ext_child;
typedef struct ext_list { ext_child *c; size_t n, cap; bool oom; } ext_list;

static int ext_collect(ext2_ino_t dir, int entry, struct ext2_dir_entry *d, int offset, int blocksize,
                       char *buf, void *priv)
{
    (void)dir, (void)entry, (void)offset, (void)blocksize, (void)buf;
    ext_list *l = priv;
    int nl = ext2fs_dirent_name_len(d);
    if ((nl == 1 && d->name[0] == '.') || (nl == 2 && d->name[0] == '.' && d->name[1] == '.'))
        return 0;
    if (l->n >= 1000000)
        return DIRENT_ABORT;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 32;
        ext_child *c = realloc(l->c, nc * sizeof *c);
        if (!c) {
            l->oom = true;
            return DIRENT_ABORT;
        }
        l->c = c;
        l->cap = nc;
    }
    char *name = malloc((size_t)nl + 1);
    if (!name) {
        l->oom = true;
        return DIRENT_ABORT;
    }
    memcpy(name, d->name, (size_t)nl);
    name[nl] = 0;
    l->c[l->n].name = name;
    l->c[l->n].ino = d->inode;
    l->n++;
    return 0;
}

static int ext_read_ino(aud_image *img, ext2_ino_t ino, uint64_t want, uint8_t *buf, uint64_t *got)
{
    ext2_file_t f;
    *got = 0;
    if (ext2fs_file_open(img->fs, ino, 0, &f) != 0)
        return -1;
    while (*got < want) {
        unsigned int n = 0;
        uint64_t chunk = want - *got > 1u << 20 ? 1u << 20 : want - *got;
        if (ext2fs_file_read(f, buf + *got, (unsigned int)chunk, &n) != 0) {
            (void)ext2fs_file_close(f);
            return -1;
        }
        if (n == 0)
            break;
        *got += n;
    }
    (void)ext2fs_file_close(f);
    return 0;
}

static int walk_ext(aud_image *img, ext2_ino_t dir, const char *rel, ext2_ino_t *stk, size_t depth, char *err,
                    size_t errlen)
{
    if (depth >= 256) {
        note(img, "%s: directories nested deeper than 256: not descended", rel);
        return 0;
    }
    ext_list l = { 0 };
    errcode_t ec = ext2fs_dir_iterate2(img->fs, dir, 0, NULL, ext_collect, &l);
    int rc = 0;
    if (l.oom) {
        seterr(err, errlen, "out of memory");
        rc = -1;
    } else if (ec) {
        note(img, "%s: directory unreadable (%s)", rel[0] ? rel : "/", error_message(ec));
    }
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        const char *name = l.c[i].name;
        char path[AUD_PATH_MAX + 1];
        int k = snprintf(path, sizeof path, "%s%s%s", rel, rel[0] ? "/" : "", name);
        if (k < 0 || (size_t)k >= sizeof path || strchr(name, '/') || !name[0]) {
            note(img, "%s/...: invalid or too long name: skipped", rel);
            continue;
        }
        struct ext2_inode in;
        if (l.c[i].ino < 1 || l.c[i].ino > img->fs->super->s_inodes_count ||
            ext2fs_read_inode(img->fs, l.c[i].ino, &in) != 0) {
            note(img, "%s: inode %u unreadable: skipped", path, l.c[i].ino);
            continue;
        }
        aud_type t;
        if (LINUX_S_ISREG(in.i_mode)) t = AUD_REG;
        else if (LINUX_S_ISDIR(in.i_mode)) t = AUD_DIR;
        else if (LINUX_S_ISLNK(in.i_mode)) t = AUD_LNK;
        else if (LINUX_S_ISCHR(in.i_mode)) t = AUD_CHR;
        else if (LINUX_S_ISBLK(in.i_mode)) t = AUD_BLK;
        else if (LINUX_S_ISFIFO(in.i_mode)) t = AUD_FIFO;
        else t = AUD_SOCK;
        aud_entry *e = add_entry(img, path, t, err, errlen);
        if (!e) {
            rc = -1;
            break;
        }
        e->mode = in.i_mode & 07777u;
        e->ino = l.c[i].ino;
        e->size = EXT2_I_SIZE(&in);
        if (t == AUD_LNK) {
            uint64_t tl = e->size > AUD_PATH_MAX ? 0 : e->size;
            e->link = calloc((size_t)tl + 1, 1);
            if (!e->link) {
                seterr(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            if (ext2fs_is_fast_symlink(&in)) {
                if (tl > sizeof in.i_block)
                    tl = 0;
                memcpy(e->link, (const char *)in.i_block, (size_t)tl);
                e->link[tl] = 0;
            } else {
                uint64_t got = 0;
                if (ext_read_ino(img, l.c[i].ino, tl, (uint8_t *)e->link, &got) != 0)
                    got = 0;
                e->link[got] = 0;
            }
            e->size = strlen(e->link);
        } else if (t == AUD_CHR || t == AUD_BLK) {
            note(img, "%s: device node (never opened)", path);
        } else if (t == AUD_DIR) {
            bool loop = false;
            for (size_t j = 0; j < depth; j++)
                if (stk[j] == l.c[i].ino)
                    loop = true;
            if (loop || l.c[i].ino == EXT2_ROOT_INO) {
                note(img, "%s: directory cycle: not descended", path);
                continue;
            }
            stk[depth] = l.c[i].ino;
            if (walk_ext(img, l.c[i].ino, path, stk, depth + 1, err, errlen) != 0)
                rc = -1;
        }
    }
    for (size_t i = 0; i < l.n; i++)
        free(l.c[i].name);
    free(l.c);
    return rc;
}

static int open_ext(aud_image *img, const char *target, char *err, size_t errlen)
{
    errcode_t ec = ext2fs_open2(target, NULL, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &img->fs);
    if (ec) {
        img->fs = NULL;
        seterr(err, errlen, "%s: ext2/3/4 image unreadable: %s", target, error_message(ec));
        return -1;
    }
    ext2_ino_t *stk = calloc(257, sizeof *stk);
    if (!stk) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    int rc = walk_ext(img, EXT2_ROOT_INO, "", stk, 0, err, errlen);
    free(stk);
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const aud_entry *)a)->path, ((const aud_entry *)b)->path);
}

/* ---- open / close ---------------------------------------------------------------------------- */

int aud_image_open(const char *target, const aud_limits *lim, aud_image **out, char *err, size_t errlen)
{
    *out = NULL;
    aud_image *img = calloc(1, sizeof *img);
    if (!img) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    img->rootfd = -1;
    img->dirfd = -1;
    img->lim.max_file = lim && lim->max_file ? lim->max_file : AUD_DEFAULT_MAX_FILE;
    img->lim.max_total = lim && lim->max_total ? lim->max_total : AUD_DEFAULT_MAX_TOTAL;
    img->lim.max_entries = lim && lim->max_entries ? lim->max_entries : AUD_DEFAULT_MAX_ENTRIES;
    struct stat st;
    if (stat(target, &st) != 0) {
        seterr(err, errlen, "%s: cannot read: %s", target, strerror(errno));
        free(img);
        return -1;
    }
    int rc;
    if (S_ISDIR(st.st_mode)) {
        img->fmt = AUD_FMT_DIR;
        rc = open_dir(img, target, err, errlen);
    } else {
        uint8_t head[1088] = { 0 };
        int fd = open(target, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            seterr(err, errlen, "%s: cannot read: %s", target, strerror(errno));
            free(img);
            return -1;
        }
        ssize_t n = read(fd, head, sizeof head);
        close(fd);
        if (n < 0) {
            seterr(err, errlen, "%s: cannot read: %s", target, strerror(errno));
            free(img);
            return -1;
        }
        if (n >= 4 && memcmp(head, "hsqs", 4) == 0) {
            img->fmt = AUD_FMT_SQUASHFS;
            rc = open_sqfs(img, target, err, errlen);
        } else if (n >= 4 && memcmp(head, "sqsh", 4) == 0) {
            seterr(err, errlen, "%s: big-endian squashfs is not supported", target);
            rc = -1;
        } else if (n >= 1082 && head[1080] == 0x53 && head[1081] == 0xEF) {
            img->fmt = AUD_FMT_EXT;
            rc = open_ext(img, target, err, errlen);
        } else {
            img->fmt = AUD_FMT_ARCHIVE;
            rc = open_archive(img, target, err, errlen);
        }
    }
    if (rc == 0 && img->n) {
        /* path order, whatever order the source listed them in: every reader gives the same view */
        qsort(img->e, img->n, sizeof *img->e, cmp_entry);
        if (rehash(img, img->nslot) != 0) {
            seterr(err, errlen, "out of memory");
            rc = -1;
        }
    }
    if (rc != 0) {
        aud_image_close(img);
        return -1;
    }
    *out = img;
    return 0;
}

void aud_image_close(aud_image *img)
{
    if (!img)
        return;
    for (size_t i = 0; i < img->n; i++) {
        free(img->e[i].path);
        entry_clear(&img->e[i]);
    }
    free(img->e);
    free(img->slot);
    for (size_t i = 0; i < img->n_notes; i++)
        free(img->notes[i]);
    free(img->notes);
    if (img->rootfd >= 0)
        close(img->rootfd);
    if (img->dirfd >= 0)
        close(img->dirfd);
    if (img->sq_root)
        sqfs_dir_tree_destroy(img->sq_root);
    if (img->sq_data)
        sqfs_destroy(img->sq_data);
    if (img->sq_dir)
        sqfs_destroy(img->sq_dir);
    if (img->sq_ids)
        sqfs_destroy(img->sq_ids);
    if (img->sq_cmp)
        sqfs_destroy(img->sq_cmp);
    if (img->sq_file)
        sqfs_destroy(img->sq_file);
    if (img->fs)
        (void)ext2fs_close_free(&img->fs);
    free(img);
}

aud_format aud_image_format(const aud_image *img) { return img->fmt; }
const char *aud_image_format_name(const aud_image *img)
{
    static const char *const names[] = { "directory", "archive", "squashfs", "ext2/3/4" };
    return names[img->fmt];
}
size_t aud_image_count(const aud_image *img) { return img->n; }
const aud_entry *aud_image_entry(const aud_image *img, size_t i) { return i < img->n ? &img->e[i] : NULL; }
size_t aud_image_note_count(const aud_image *img) { return img->n_notes; }
const char *aud_image_note(const aud_image *img, size_t i) { return i < img->n_notes ? img->notes[i] : NULL; }
uint64_t aud_image_bytes_read(const aud_image *img) { return img->total; }

/* ---- lookup ---------------------------------------------------------------------------------- */

static const aud_entry root_entry = { .path = (char *)"", .type = AUD_DIR, .mode = 0755 };

const aud_entry *aud_image_lookup(const aud_image *img, const char *path, bool follow_last, char *why,
                                  size_t whylen)
{
    /* rest: what is left to walk; cur: the resolved prefix (a directory) */
    char *rest = malloc(2 * AUD_PATH_MAX + 2), *cur = malloc(AUD_PATH_MAX + 1), *tmp = malloc(2 * AUD_PATH_MAX + 2);
    const aud_entry *res = NULL;
    if (!rest || !cur || !tmp) {
        seterr(why, whylen, "out of memory");
        goto out;
    }
    if (strlen(path) > AUD_PATH_MAX) {
        seterr(why, whylen, "path too long");
        goto out;
    }
    strcpy(rest, path);
    cur[0] = 0;
    unsigned hops = 0;
    const aud_entry *e = &root_entry;
    while (rest[0]) {
        char *p = rest;
        while (*p == '/')
            p++;
        char *s = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - s);
        while (*p == '/')
            p++;
        bool last = *p == '\0';
        char comp[AUD_PATH_MAX + 1];
        memcpy(comp, s, n);
        comp[n] = 0;
        memmove(rest, p, strlen(p) + 1);
        if (n == 0 || strcmp(comp, ".") == 0) {
            e = cur[0] ? aud_image_find(img, cur) : &root_entry;
            continue;
        }
        if (strcmp(comp, "..") == 0) {
            char *sl = strrchr(cur, '/');
            if (sl)
                *sl = 0;
            else
                cur[0] = 0;
            e = cur[0] ? aud_image_find(img, cur) : &root_entry;
            continue;
        }
        size_t cl = strlen(cur);
        if (cl + 1 + n > AUD_PATH_MAX) {
            seterr(why, whylen, "path too long");
            goto out;
        }
        char cand[AUD_PATH_MAX + 2];
        snprintf(cand, sizeof cand, "%s%s%s", cur, cl ? "/" : "", comp);
        e = aud_image_find(img, cand);
        if (!e) {
            seterr(why, whylen, "not found");
            goto out;
        }
        if (e->type == AUD_LNK && (!last || follow_last)) {
            if (++hops > AUD_LINK_HOPS) {
                seterr(why, whylen, "link loop (more than %u links)", AUD_LINK_HOPS);
                goto out;
            }
            const char *t = e->link ? e->link : "";
            if (strlen(t) + 1 + strlen(rest) > 2 * AUD_PATH_MAX) {
                seterr(why, whylen, "path too long");
                goto out;
            }
            size_t tl = strlen(t), rl = strlen(rest);
            memcpy(tmp, t, tl);
            tmp[tl] = '/';
            memcpy(tmp + tl + 1, rest, rl + 1);
            memcpy(rest, tmp, tl + rl + 2);
            if (t[0] == '/')
                cur[0] = 0; /* re-rooted at the image root */
            e = cur[0] ? aud_image_find(img, cur) : &root_entry;
            continue;
        }
        if (!last && e->type != AUD_DIR) {
            seterr(why, whylen, "not a directory: %s", cand);
            e = NULL;
            goto out;
        }
        strcpy(cur, cand);
    }
    res = e;
    if (!res)
        seterr(why, whylen, "not found");
out:
    free(rest);
    free(cur);
    free(tmp);
    return res;
}

static int read_backend(aud_image *img, const aud_entry *e, uint64_t max, uint8_t **buf, size_t *len, char *why,
                        size_t whylen);

int aud_image_read(aud_image *img, const aud_entry *e, size_t max, uint8_t **buf, size_t *len, char *why,
                   size_t whylen)
{
    *buf = NULL;
    *len = 0;
    if (e->type == AUD_LNK) {
        e = aud_image_lookup(img, e->path, true, why, whylen);
        if (!e)
            return -1;
    }
    if (e->type != AUD_REG) {
        seterr(why, whylen, "not a regular file");
        return -1;
    }
    if (e->too_big || e->size > img->lim.max_file) {
        seterr(why, whylen, "larger than the per-file limit (%llu bytes)", (unsigned long long)img->lim.max_file);
        return -1;
    }
    /* squashfs / ext: a file of at most 4 MiB is decompressed once and kept (the checks read most
     * files several times); larger ones are read on demand */
    if ((img->fmt == AUD_FMT_SQUASHFS || img->fmt == AUD_FMT_EXT) && !e->data && e->size <= (4u << 20) &&
        e >= img->e && e < img->e + img->n) {
        uint8_t *all;
        size_t alen;
        if (read_backend(img, e, e->size, &all, &alen, why, whylen) != 0)
            return -1;
        aud_entry *me = &img->e[e - img->e];
        me->data = all;
        me->size = alen;
    }
    if (e->data) {
        size_t n = (size_t)(e->size < max ? e->size : max);
        uint8_t *c = malloc(n + 1);
        if (!c) {
            seterr(why, whylen, "out of memory");
            return -1;
        }
        memcpy(c, e->data, n);
        c[n] = 0;
        *buf = c;
        *len = n;
        return 0;
    }
    return read_backend(img, e, max, buf, len, why, whylen);
}

/* Read at most max bytes of regular file e from the backend into a new NUL-terminated buffer. */
static int read_backend(aud_image *img, const aud_entry *e, uint64_t max, uint8_t **buf, size_t *len, char *why,
                        size_t whylen)
{
    uint64_t want = e->size < max ? e->size : max;
    uint8_t *b = malloc((size_t)want + 1);
    if (!b) {
        seterr(why, whylen, "out of memory");
        return -1;
    }
    uint64_t got = 0;
    if (img->fmt == AUD_FMT_ARCHIVE) {
        if (e->data)
            memcpy(b, e->data, (size_t)want);
        got = want;
    } else {
        if (!count_bytes(img, want, why, whylen)) {
            free(b);
            return -1;
        }
        if (img->fmt == AUD_FMT_DIR) {
            int fd = dir_open_file(img, e->path);
            if (fd < 0) {
                seterr(why, whylen, "cannot open: %s", strerror(errno));
                free(b);
                return -1;
            }
            while (got < want) {
                ssize_t r = read(fd, b + got, (size_t)(want - got));
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0)
                    break;
                got += (uint64_t)r;
            }
            close(fd);
        } else if (img->fmt == AUD_FMT_SQUASHFS) {
            while (got < want) {
                uint64_t chunk = want - got > (1u << 20) ? (1u << 20) : want - got;
                sqfs_s32 r = sqfs_data_reader_read(img->sq_data, e->ref, got, b + got, (sqfs_u32)chunk);
                if (r < 0) {
                    seterr(why, whylen, "squashfs data unreadable (libsquashfs error %d)", (int)r);
                    free(b);
                    return -1;
                }
                if (r == 0)
                    break;
                got += (uint64_t)r;
            }
        } else {
            if (ext_read_ino(img, (ext2_ino_t)e->ino, want, b, &got) != 0) {
                seterr(why, whylen, "ext file data unreadable");
                free(b);
                return -1;
            }
        }
    }
    b[got] = 0;
    *buf = b;
    *len = (size_t)got;
    return 0;
}
