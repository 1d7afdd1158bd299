/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host.h — helpers shared by the host programs (fs38, fs38-device): error messages,
 * command-line options, whole-file I/O, hex, UUIDs and P-256 PEM keys.
 *
 * Host only: uses stdio and malloc. Functions that fail print one line
 * "<prog>: <what> <where>: <why>" on stderr and return -1; callers map that to exit 2.
 */
#ifndef FS38_TOOLS_HOST_H
#define FS38_TOOLS_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <psa/crypto.h>

/* Exit codes shared by every command. */
#define HOST_EXIT_OK 0
#define HOST_EXIT_REJECT 1
#define HOST_EXIT_USAGE 2

#define HOST_P256_POINT_LEN 65
#define HOST_FILE_MAX (64u * 1024u * 1024u) /* largest file the tools read */

/* Program name used in messages ("fs38", "fs38-device"). */
void host_set_prog(const char *name);
const char *host_prog(void);
/* Print "<prog>: <message>" on stderr. */
void host_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- command-line options ---- */
typedef struct host_opt {
    const char *name;      /* "--key" */
    const char **value;    /* option with one value (last one wins), or NULL */
    const char **list;     /* repeatable option: values collected here ... */
    size_t *count;         /* ... their number ... */
    size_t max;            /* ... and the capacity of list */
    bool *flag;            /* option without a value */
} host_opt;

/*
 * Parse argv[0..argc) against opts (terminated by an entry with name NULL). Non-option
 * arguments go to pos (at most max_pos). "--name=value" and "--name value" are accepted;
 * "--" ends the options. Returns 0, 1 when --help / -h was given, -1 after printing an error.
 */
int host_parse_args(int argc, char **argv, const host_opt *opts, const char **pos, size_t max_pos,
                    size_t *n_pos);

/* ---- files ---- */
/* Read a whole file (at most max bytes) into a malloc'd buffer (NUL-terminated, len excludes it). */
int host_read_file(const char *path, size_t max, uint8_t **buf, size_t *len);
/*
 * Write a whole file, all or nothing: through host_out (a temporary file in the same directory,
 * fsync'd, then renamed over path). mode is the new file's mode (0600 for secrets; the umask
 * applies); excl refuses an existing path. On failure path is unchanged and no temporary is left.
 */
int host_write_file(const char *path, const void *buf, size_t len, mode_t mode, bool excl);

/*
 * ---- output sets: every output of a command written completely, or none ----
 * A command registers all its output paths first (host_out_add), before it changes anything:
 * each is checked (not a directory, its directory writable, not existing when excl) by creating
 * its temporary file ".NAME.tmp-PID-N" next to it (O_CREAT|O_EXCL, the file's mode). The data
 * goes into the temporaries (host_out_write); host_out_commit fsyncs them all and only then
 * gives each its name (excl: link(2), which never replaces a file; otherwise rename(2)).
 * host_out_abort (also called by a failed add/write/commit) unlinks every temporary: nothing is
 * renamed and existing files are untouched. A path that exists and is neither a regular file
 * nor a directory (/dev/null, /dev/stdout, a FIFO) cannot be replaced: it is opened at add and
 * written directly.
 */
#define HOST_OUT_MAX 6
typedef struct host_out_file {
    const char *path;
    char *tmp;        /* malloc'd temporary path (NULL for a direct output) */
    int fd;           /* open temporary (or direct output), -1 when closed */
    bool excl;        /* never replace an existing path */
    bool committed;   /* named by the running commit */
} host_out_file;
typedef struct host_out {
    host_out_file f[HOST_OUT_MAX];
    size_t n;
} host_out;

/* An empty set. */
void host_out_init(host_out *o);
/* Register an output: checks it and creates its temporary. Index (>= 0), or -1 (printed; the
 * whole set is aborted). */
int host_out_add(host_out *o, const char *path, mode_t mode, bool excl);
/* Append data to output i's temporary. 0, or -1 (printed; the whole set is aborted). */
int host_out_write(host_out *o, int i, const void *buf, size_t len);
/* fsync + close every temporary, then name them all. 0, or -1 (printed; the set is aborted and
 * any output already named by this commit is removed again). */
int host_out_commit(host_out *o);
/* Unlink every temporary (and every output this set created and named); safe to call twice. */
void host_out_abort(host_out *o);
/* Check that path could be written now (as host_out_add, then abort): 0 or -1 (printed). */
int host_out_check(const char *path, bool excl);

/*
 * ---- numbers ----
 * Parse a whole option value as a decimal integer in [min, max]: refuses an empty value, a sign
 * (for unsigned), leading or trailing spaces or junk, and overflow; hex only with HOST_NUM_HEX
 * ("0x" prefix). On failure prints "<what>: invalid value 'TEXT': expected an integer MIN..MAX"
 * (what names the option, e.g. "update --power-cut") and returns -1 (callers exit 2).
 */
#define HOST_NUM_HEX 1u
int host_parse_u64(const char *what, const char *text, uint64_t min, uint64_t max, unsigned flags,
                   uint64_t *out);
int host_parse_i64(const char *what, const char *text, int64_t min, int64_t max, unsigned flags,
                   int64_t *out);

/* ---- encodings ---- */
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void host_hex(const uint8_t *p, size_t n, char *out);
/* Decode exactly 2*n hex digits from s (whole string) into out. Returns 0 or -1. */
int host_unhex(const char *s, uint8_t *out, size_t n);
/* Canonical UUID text 8-4-4-4-12 (hex digits, either case) to 16 bytes. Returns 0 or -1. */
int host_parse_uuid(const char *text, uint8_t out[16]);
/* 16 bytes to lower-case 8-4-4-4-12 text (37 bytes with the NUL). */
void host_format_uuid(const uint8_t in[16], char out[37]);

/* ---- crypto ---- */
/* psa_crypto_init() with an error message. */
int host_psa_init(void);
/* Load a P-256 public key PEM/DER (SubjectPublicKeyInfo) as the uncompressed point 04||x||y. */
int host_load_public_point(const char *path, uint8_t point[HOST_P256_POINT_LEN]);
/*
 * Load a P-256 private key PEM/DER (PKCS#8 or SEC1) into a volatile PSA key allowing only
 * sign_hash with PSA_ALG_ECDSA(PSA_ALG_SHA_256); also returns its public point.
 * Destroy the key with psa_destroy_key().
 */
int host_load_private_key(const char *path, psa_key_id_t *key, uint8_t point[HOST_P256_POINT_LEN]);

/* Write a P-256 public point as a SubjectPublicKeyInfo PEM file (path NULL: stdout). */
int host_write_public_pem(const char *path, const uint8_t point[HOST_P256_POINT_LEN]);
/* The uncompressed public point of a parsed key (an mbedtls_pk_context *) that must be P-256.
 * 0, or -1 (nothing printed) when it is not a P-256 key or cannot be exported. */
struct mbedtls_pk_context;
int host_pk_point(const struct mbedtls_pk_context *pk, uint8_t point[HOST_P256_POINT_LEN]);
/* The subject and authority key identifier extensions of a certificate being written (an
 * mbedtls_x509write_cert *): each the first 20 bytes of the SHA-256 of the subject's / issuer's
 * uncompressed P-256 point (Mbed TLS's own setters need SHA-1, not in this build). 0, or an Mbed
 * TLS error (MBEDTLS_ERR_X509_BAD_INPUT_DATA when hashing fails). */
struct mbedtls_x509write_cert;
int host_x509_key_ids(struct mbedtls_x509write_cert *crt, const uint8_t subject[HOST_P256_POINT_LEN],
                      const uint8_t issuer[HOST_P256_POINT_LEN]);
/* The serialNumber attribute of an X.509 name (an mbedtls_x509_name *), NUL-terminated in out.
 * 0, or -1 when there is none shorter than cap. */
struct mbedtls_asn1_named_data;
int host_x509_serial_number(const struct mbedtls_asn1_named_data *name, char *out, size_t cap);

#endif /* FS38_TOOLS_HOST_H */
