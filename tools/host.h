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
/* Write a file. mode is used when the file is created; excl refuses an existing file. */
int host_write_file(const char *path, const void *buf, size_t len, mode_t mode, bool excl);

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

#endif /* FS38_TOOLS_HOST_H */
