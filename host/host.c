/* SPDX-License-Identifier: Apache-2.0 */
/* host.c — shared helpers of the host programs: messages, options, files, hex, UUIDs, PEM keys. */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

#include "fs38/util.h"

static const char *g_prog = "fs38";

void host_set_prog(const char *name)
{
    g_prog = name;
}

const char *host_prog(void)
{
    return g_prog;
}

void host_err(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", g_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- options ---- */

static const host_opt *find_opt(const host_opt *opts, const char *arg, size_t name_len)
{
    for (const host_opt *o = opts; o->name; o++)
        if (strlen(o->name) == name_len && strncmp(o->name, arg, name_len) == 0)
            return o;
    return NULL;
}

static int store_value(const host_opt *o, const char *v)
{
    if (o->value) {
        *o->value = v;
        return 0;
    }
    if (*o->count >= o->max) {
        host_err("too many %s options (at most %zu)", o->name, o->max);
        return -1;
    }
    o->list[(*o->count)++] = v;
    return 0;
}

/* One "--name[=value]" argument at argv[*i]; may consume the next argument as its value. */
static int parse_one(int argc, char **argv, int *i, const host_opt *opts)
{
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
    const host_opt *o = find_opt(opts, arg, name_len);
    if (!o) {
        host_err("unknown option '%.*s'", (int)name_len, arg);
        return -1;
    }
    if (o->flag) {
        if (eq) {
            host_err("option %s takes no value", o->name);
            return -1;
        }
        *o->flag = true;
        return 0;
    }
    if (eq)
        return store_value(o, eq + 1);
    if (*i + 1 >= argc) {
        host_err("option %s needs a value", o->name);
        return -1;
    }
    *i += 1;
    return store_value(o, argv[*i]);
}

int host_parse_args(int argc, char **argv, const host_opt *opts, const char **pos, size_t max_pos,
                    size_t *n_pos)
{
    bool options_done = false;
    *n_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0))
            return 1;
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && a[0] == '-' && a[1] != '\0') {
            if (parse_one(argc, argv, &i, opts))
                return -1;
            continue;
        }
        if (*n_pos >= max_pos) {
            host_err("unexpected argument '%s'", a);
            return -1;
        }
        pos[(*n_pos)++] = a;
    }
    return 0;
}

/* ---- files ---- */

int host_read_file(const char *path, size_t max, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        host_err("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = max < 4096 ? max : 4096, n = 0;
    uint8_t *b = malloc(cap + 1);
    while (b) {
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        if (cap >= max) {
            if (fgetc(f) == EOF && !ferror(f))
                break; /* exactly max bytes */
            host_err("cannot read %s: larger than %zu bytes", path, max);
            free(b);
            fclose(f);
            return -1;
        }
        size_t ncap = cap * 2 > max ? max : cap * 2;
        uint8_t *nb = realloc(b, ncap + 1);
        if (!nb)
            free(b);
        b = nb;
        cap = ncap;
    }
    if (!b) {
        host_err("cannot read %s: out of memory", path);
        fclose(f);
        return -1;
    }
    if (ferror(f)) {
        host_err("cannot read %s: %s", path, strerror(errno));
        free(b);
        fclose(f);
        return -1;
    }
    fclose(f);
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}

static int hexval(char c);

/* ---- output sets ---- */

void host_out_init(host_out *o)
{
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < HOST_OUT_MAX; i++)
        o->f[i].fd = -1;
}

void host_out_abort(host_out *o)
{
    for (size_t i = 0; i < o->n; i++) {
        host_out_file *f = &o->f[i];
        if (f->fd >= 0) {
            if (f->tmp && ftruncate(f->fd, 0) != 0) {
                /* unlinked below anyway */
            }
            close(f->fd);
            f->fd = -1;
        }
        if (f->tmp) {
            unlink(f->tmp);
            free(f->tmp);
            f->tmp = NULL;
        }
    }
    o->n = 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Length of the directory part of path (up to and including its last '/'), 0 when none. */
static size_t dir_len(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? (size_t)(slash - path) + 1u : 0u;
}

int host_out_add(host_out *o, const char *path, mode_t mode, bool excl)
{
    struct stat st;
    if (o->n >= HOST_OUT_MAX) {
        host_err("cannot create %s: too many outputs", path);
        goto fail;
    }
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->f[i].path, path) == 0) {
            host_err("cannot create %s: the same file is given for two outputs", path);
            goto fail;
        }
    const size_t dl = dir_len(path);
    if (path[0] == '\0' || path[dl] == '\0' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
        host_err("cannot create %s: %s", path, path[0] ? "is a directory" : "empty file name");
        goto fail;
    }
    host_out_file *f = &o->f[o->n];
    memset(f, 0, sizeof *f);
    f->fd = -1;
    f->path = path;
    f->excl = excl;
    if (stat(path, &st) == 0) {
        if (excl) {
            host_err("cannot create %s: file exists", path);
            goto fail;
        }
        if (!S_ISREG(st.st_mode)) { /* a device or FIFO: written in place */
            f->fd = open(path, O_WRONLY | O_CLOEXEC);
            if (f->fd < 0) {
                host_err("cannot write %s: %s", path, strerror(errno));
                goto fail;
            }
            o->n++;
            return (int)(o->n - 1u);
        }
    }
    const size_t cap = strlen(path) + 48u;
    f->tmp = malloc(cap);
    if (!f->tmp) {
        host_err("cannot create %s: out of memory", path);
        goto fail;
    }
    static unsigned counter;
    for (int tries = 0; f->fd < 0; tries++) {
        snprintf(f->tmp, cap, "%.*s.%s.tmp-%ld-%u", (int)dl, path, path + dl, (long)getpid(), counter++);
        f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (f->fd < 0 && (errno != EEXIST || tries > 100)) {
            host_err("cannot create %s: %s", path, strerror(errno));
            free(f->tmp);
            f->tmp = NULL;
            goto fail;
        }
    }
    o->n++;
    return (int)(o->n - 1u);
fail:
    host_out_abort(o);
    return -1;
}

int host_out_write(host_out *o, int i, const void *buf, size_t len)
{
    if (i < 0 || (size_t)i >= o->n || o->f[i].fd < 0) {
        host_err("internal error: output %d is not open", i);
        host_out_abort(o);
        return -1;
    }
    if (write_all(o->f[i].fd, buf, len) != 0) {
        host_err("cannot write %s: %s", o->f[i].path, strerror(errno));
        host_out_abort(o);
        return -1;
    }
    return 0;
}

/* fsync the directory holding path (its new name is then durable too). Best effort. */
static void sync_dir(const char *path)
{
    char dir[4096];
    size_t dl = dir_len(path);
    if (dl >= sizeof dir)
        return;
    if (dl == 0) {
        dir[0] = '.';
        dl = 1;
    } else {
        memcpy(dir, path, dl);
    }
    dir[dl] = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) != 0) {
            /* some file systems cannot sync a directory: the data itself is synced */
        }
        close(fd);
    }
}

/* Name output f. 0, or -1 with errno. */
static int name_one(host_out_file *f)
{
    if (f->excl) {
        if (link(f->tmp, f->path) != 0)
            return -1;
        unlink(f->tmp);
    } else if (rename(f->tmp, f->path) != 0) {
        return -1;
    }
    free(f->tmp);
    f->tmp = NULL;
    f->committed = true;
    return 0;
}

int host_out_commit(host_out *o)
{
    for (size_t i = 0; i < o->n; i++) {
        host_out_file *f = &o->f[i];
        if (f->fd < 0)
            continue;
        int e = f->tmp && fsync(f->fd) != 0 ? errno : 0;
        if (close(f->fd) != 0 && !e)
            e = errno;
        f->fd = -1;
        if (e) {
            host_err("cannot write %s: %s", f->path, strerror(e));
            host_out_abort(o);
            return -1;
        }
    }
    /* new files first (link can refuse one that appeared meanwhile), replacements last */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < o->n; i++) {
            host_out_file *f = &o->f[i];
            if (!f->tmp || f->excl != (pass == 0))
                continue;
            if (name_one(f) != 0) {
                host_err("cannot create %s: %s", f->path, strerror(errno));
                for (size_t j = 0; j < o->n; j++) /* take back the new files named so far */
                    if (o->f[j].committed && o->f[j].excl)
                        unlink(o->f[j].path);
                host_out_abort(o);
                return -1;
            }
            sync_dir(f->path);
        }
    host_out_abort(o); /* nothing left but the bookkeeping */
    return 0;
}

int host_out_check(const char *path, bool excl)
{
    host_out o;
    host_out_init(&o);
    if (host_out_add(&o, path, 0600, excl) < 0)
        return -1;
    host_out_abort(&o);
    return 0;
}

int host_write_file(const char *path, const void *buf, size_t len, mode_t mode, bool excl)
{
    host_out o;
    host_out_init(&o);
    int i = host_out_add(&o, path, mode, excl);
    if (i < 0 || host_out_write(&o, i, buf, len) || host_out_commit(&o))
        return -1;
    return 0;
}

/* ---- numbers ---- */

static int digit_value(char c, unsigned base)
{
    int v = hexval(c);
    return v >= 0 && (unsigned)v < base ? v : -1;
}

/* The magnitude in s (digits only, at least one; hex after "0x" with HOST_NUM_HEX). 0 or -1. */
static int parse_magnitude(const char *s, unsigned flags, uint64_t *out)
{
    unsigned base = 10;
    if ((flags & HOST_NUM_HEX) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        int d = digit_value(*s, base);
        if (d < 0 || v > (UINT64_MAX - (uint64_t)d) / base)
            return -1;
        v = v * base + (uint64_t)d;
    }
    *out = v;
    return 0;
}

int host_parse_u64(const char *what, const char *text, uint64_t min, uint64_t max, unsigned flags,
                   uint64_t *out)
{
    uint64_t v = 0;
    if (!text || parse_magnitude(text, flags, &v) || v < min || v > max) {
        host_err("%s: invalid value '%s': expected %s integer %" PRIu64 "..%" PRIu64, what, text ? text : "",
                 flags & HOST_NUM_HEX ? "a decimal (or 0x hex)" : "a decimal", min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int host_parse_i64(const char *what, const char *text, int64_t min, int64_t max, unsigned flags, int64_t *out)
{
    uint64_t mag = 0;
    const bool neg = text && text[0] == '-';
    int64_t v = 0;
    int bad = !text || parse_magnitude(text + (neg ? 1 : 0), flags, &mag);
    if (!bad) {
        if (neg && mag <= (uint64_t)INT64_MAX + 1u)
            v = mag == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)mag;
        else if (!neg && mag <= (uint64_t)INT64_MAX)
            v = (int64_t)mag;
        else
            bad = 1;
    }
    if (bad || v < min || v > max) {
        host_err("%s: invalid value '%s': expected %s integer %" PRId64 "..%" PRId64, what, text ? text : "",
                 flags & HOST_NUM_HEX ? "a decimal (or 0x hex)" : "a decimal", min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- encodings ---- */

void host_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int host_unhex(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int host_parse_uuid(const char *text, uint8_t out[16])
{
    if (strlen(text) != 36)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return -1;
            i++;
            continue;
        }
        int hi = hexval(text[i]), lo = hexval(text[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[k++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return k == 16 ? 0 : -1;
}

void host_format_uuid(const uint8_t in[16], char out[37])
{
    char hex[33];
    host_hex(in, 16, hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* ---- crypto ---- */

int host_psa_init(void)
{
    psa_status_t st = psa_crypto_init();
    if (st != PSA_SUCCESS) {
        host_err("cannot initialise PSA Crypto: status %d", (int)st);
        return -1;
    }
    return 0;
}

static void pk_error(const char *what, const char *path, int ret)
{
    char msg[128];
    mbedtls_strerror(ret, msg, sizeof msg);
    host_err("cannot load %s %s: %s", what, path, msg);
}

/* Parse a key file (PEM or DER) into pk; private selects the parser. */
static int parse_key_file(const char *path, bool private_key, mbedtls_pk_context *pk)
{
    uint8_t *buf;
    size_t len;
    if (host_read_file(path, 1u << 20, &buf, &len))
        return -1;
    /* PEM must be passed with its terminating NUL (host_read_file provides one). */
    size_t plen = strstr((const char *)buf, "-----BEGIN") ? len + 1 : len;
    int ret = private_key
                  ? mbedtls_pk_parse_key(pk, buf, plen, NULL, 0, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE)
                  : mbedtls_pk_parse_public_key(pk, buf, plen);
    fs38_wipe(buf, len);
    free(buf);
    if (ret != 0) {
        pk_error(private_key ? "private key" : "public key", path, ret);
        return -1;
    }
    return 0;
}

/* Attributes for pk with `usage`, checked to be P-256. */
static int p256_attributes(const char *path, const mbedtls_pk_context *pk, psa_key_usage_t usage,
                           psa_key_attributes_t *at)
{
    int ret = mbedtls_pk_get_psa_attributes(pk, usage, at);
    if (ret != 0) {
        pk_error("key", path, ret);
        return -1;
    }
    psa_key_type_t t = psa_get_key_type(at);
    if (!PSA_KEY_TYPE_IS_ECC(t) || PSA_KEY_TYPE_ECC_GET_FAMILY(t) != PSA_ECC_FAMILY_SECP_R1 ||
        psa_get_key_bits(at) != 256) {
        host_err("cannot use key %s: not a P-256 (secp256r1) key", path);
        return -1;
    }
    return 0;
}

static int export_point(const char *path, psa_key_id_t key, uint8_t point[HOST_P256_POINT_LEN])
{
    size_t n = 0;
    psa_status_t st = psa_export_public_key(key, point, HOST_P256_POINT_LEN, &n);
    if (st != PSA_SUCCESS || n != HOST_P256_POINT_LEN) {
        host_err("cannot export the public key of %s: status %d", path, (int)st);
        return -1;
    }
    return 0;
}

int host_load_public_point(const char *path, uint8_t point[HOST_P256_POINT_LEN])
{
    mbedtls_pk_context pk;
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t key = 0;
    int rc = -1;
    mbedtls_pk_init(&pk);
    if (parse_key_file(path, false, &pk) || p256_attributes(path, &pk, PSA_KEY_USAGE_VERIFY_HASH, &at))
        goto out;
    int ret = mbedtls_pk_import_into_psa(&pk, &at, &key);
    if (ret != 0) {
        pk_error("public key", path, ret);
        goto out;
    }
    rc = export_point(path, key, point);
out:
    if (key)
        psa_destroy_key(key);
    psa_reset_key_attributes(&at);
    mbedtls_pk_free(&pk);
    return rc;
}

int host_load_private_key(const char *path, psa_key_id_t *key, uint8_t point[HOST_P256_POINT_LEN])
{
    mbedtls_pk_context pk;
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    int rc = -1;
    *key = 0;
    mbedtls_pk_init(&pk);
    if (parse_key_file(path, true, &pk) || p256_attributes(path, &pk, PSA_KEY_USAGE_SIGN_HASH, &at))
        goto out;
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_SIGN_HASH);
    psa_set_key_algorithm(&at, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    int ret = mbedtls_pk_import_into_psa(&pk, &at, key);
    if (ret != 0) {
        pk_error("private key", path, ret);
        *key = 0;
        goto out;
    }
    rc = export_point(path, *key, point);
    if (rc) {
        psa_destroy_key(*key);
        *key = 0;
    }
out:
    psa_reset_key_attributes(&at);
    mbedtls_pk_free(&pk);
    return rc;
}

int host_pk_point(const mbedtls_pk_context *pk, uint8_t point[HOST_P256_POINT_LEN])
{
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t k = 0;
    size_t n = 0;
    int rc = -1;
    if (mbedtls_pk_get_psa_attributes(pk, PSA_KEY_USAGE_VERIFY_HASH, &at) == 0 &&
        PSA_KEY_TYPE_IS_ECC(psa_get_key_type(&at)) &&
        PSA_KEY_TYPE_ECC_GET_FAMILY(psa_get_key_type(&at)) == PSA_ECC_FAMILY_SECP_R1 && psa_get_key_bits(&at) == 256 &&
        mbedtls_pk_import_into_psa(pk, &at, &k) == 0 &&
        psa_export_public_key(k, point, HOST_P256_POINT_LEN, &n) == PSA_SUCCESS && n == HOST_P256_POINT_LEN)
        rc = 0;
    if (k)
        psa_destroy_key(k);
    psa_reset_key_attributes(&at);
    return rc;
}

int host_x509_serial_number(const mbedtls_x509_name *name, char *out, size_t cap)
{
    for (const mbedtls_x509_name *n = name; n; n = n->next)
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_SERIAL_NUMBER, &n->oid) == 0 && n->val.len < cap) {
            memcpy(out, n->val.p, n->val.len);
            out[n->val.len] = 0;
            return 0;
        }
    return -1;
}

int host_write_public_pem(const char *path, const uint8_t point[HOST_P256_POINT_LEN])
{
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_EXPORT);
    psa_key_id_t key = 0;
    if (psa_import_key(&at, point, HOST_P256_POINT_LEN, &key) != PSA_SUCCESS) {
        host_err("not a P-256 public key");
        return -1;
    }
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    unsigned char pem[512];
    int ret = mbedtls_pk_copy_public_from_psa(key, &pk);
    if (!ret)
        ret = mbedtls_pk_write_pubkey_pem(&pk, pem, sizeof pem);
    mbedtls_pk_free(&pk);
    psa_destroy_key(key);
    if (ret) {
        host_err("cannot encode the public key: Mbed TLS error -0x%04x", (unsigned)-ret);
        return -1;
    }
    if (!path) {
        fputs((const char *)pem, stdout);
        return 0;
    }
    return host_write_file(path, pem, strlen((const char *)pem), 0644, false);
}

int host_x509_key_ids(struct mbedtls_x509write_cert *crt, const uint8_t subject[HOST_P256_POINT_LEN],
                      const uint8_t issuer[HOST_P256_POINT_LEN])
{
    uint8_t h[32], ski[2 + 20], aki[4 + 20];
    size_t hl = 0;
    if (psa_hash_compute(PSA_ALG_SHA_256, subject, HOST_P256_POINT_LEN, h, sizeof h, &hl) != PSA_SUCCESS)
        return MBEDTLS_ERR_X509_BAD_INPUT_DATA;
    ski[0] = MBEDTLS_ASN1_OCTET_STRING;
    ski[1] = 20;
    memcpy(ski + 2, h, 20);
    if (psa_hash_compute(PSA_ALG_SHA_256, issuer, HOST_P256_POINT_LEN, h, sizeof h, &hl) != PSA_SUCCESS)
        return MBEDTLS_ERR_X509_BAD_INPUT_DATA;
    aki[0] = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE;
    aki[1] = 2 + 20;
    aki[2] = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0; /* [0] keyIdentifier */
    aki[3] = 20;
    memcpy(aki + 4, h, 20);
    int ret = mbedtls_x509write_crt_set_extension(crt, MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER), 0, ski,
                                                  sizeof ski);
    if (!ret)
        ret = mbedtls_x509write_crt_set_extension(crt, MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER), 0, aki,
                                                  sizeof aki);
    return ret;
}
