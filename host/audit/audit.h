/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audit.h — the firmware assessor behind `fs38 audit` (library fs38_audit, host code: stdio and
 * malloc are fine here).
 *
 * 1. Image: a read-only, in-memory view of a root filesystem, never extracted to disk. A
 *    directory (lstat/openat, never following a link out of it), a tar (plain, gz, xz, zstd,
 *    bz2) or cpio archive (libarchive), a squashfs image (libsquashfs) or an ext2/3/4 image
 *    (libext2fs), detected by magic. Paths are relative to the image root ("etc/shadow": no
 *    leading "/" or "./", no "." or ".."). Symbolic links are kept as links and resolved inside
 *    the image only. Hostile input (names leaving the root, absolute names, device nodes, huge
 *    sizes, decompression bombs, cycles) yields a note or an error, never a write.
 * 2. Report: 14 controls, each with a verdict and evidence; terminal, JSON, SARIF and HTML outputs.
 * 3. Checks: one function per control (checks*.c).
 */
#ifndef FS38_HOST_AUDIT_H
#define FS38_HOST_AUDIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ==== image ================================================================================ */

typedef enum aud_type {
    AUD_REG, AUD_DIR, AUD_LNK, AUD_CHR, AUD_BLK, AUD_FIFO, AUD_SOCK
} aud_type;

typedef enum aud_format {
    AUD_FMT_DIR, AUD_FMT_ARCHIVE, AUD_FMT_SQUASHFS, AUD_FMT_EXT
} aud_format;

typedef struct aud_entry {
    char *path;       /* relative to the image root, normalised */
    aud_type type;
    uint32_t mode;    /* permission bits (07777) */
    uint64_t size;    /* declared size (regular files), target length (links) */
    char *link;       /* symlink target as stored (NULL otherwise) */
    bool implicit;    /* a parent directory the archive did not list */
    bool too_big;     /* content beyond the per-file limit: not kept, cannot be read */
    /* backend data */
    uint8_t *data;    /* archive: the content (size bytes), kept at indexing */
    const void *ref;  /* squashfs: the inode */
    uint64_t ino;     /* ext2: the inode number */
} aud_entry;

typedef struct aud_limits {
    uint64_t max_file;    /* bytes of one file kept/read (default 64 MiB) */
    uint64_t max_total;   /* uncompressed bytes read in all (default 1 GiB): decompression bombs */
    size_t max_entries;   /* entries (default 1 000 000) */
} aud_limits;
#define AUD_DEFAULT_MAX_FILE (64ull << 20)
#define AUD_DEFAULT_MAX_TOTAL (1ull << 30)
#define AUD_DEFAULT_MAX_ENTRIES 1000000u
#define AUD_PATH_MAX 4096u
#define AUD_LINK_HOPS 40u

typedef struct aud_image aud_image;

/* Open and index target. 0, or -1 with a one-line reason in err (what, where, why). */
int aud_image_open(const char *target, const aud_limits *lim, aud_image **out, char *err, size_t errlen);
void aud_image_close(aud_image *img);
aud_format aud_image_format(const aud_image *img);
const char *aud_image_format_name(const aud_image *img);
/* Entries in indexing order (the root itself is not one). */
size_t aud_image_count(const aud_image *img);
const aud_entry *aud_image_entry(const aud_image *img, size_t i);
/* Notes about hostile or odd input met while indexing ("../x: member name leaves the root"). */
size_t aud_image_note_count(const aud_image *img);
const char *aud_image_note(const aud_image *img, size_t i);
/* Uncompressed bytes read so far. */
uint64_t aud_image_bytes_read(const aud_image *img);

/* Exact entry of a normalised path (no link resolution), or NULL. */
const aud_entry *aud_image_find(const aud_image *img, const char *path);
/*
 * Resolve path (any form: leading "/", ".", ".." are taken inside the image) following symbolic
 * links inside the image (absolute targets re-rooted, ".." stops at the root, at most
 * AUD_LINK_HOPS links). follow_last: also follow a link in the last component. The entry, or
 * NULL with why ("not found", "link loop", "not a directory") when why is not NULL.
 */
const aud_entry *aud_image_lookup(const aud_image *img, const char *path, bool follow_last, char *why,
                                  size_t whylen);
/*
 * Content of a regular file (a link is followed inside the image): at most max bytes (the file's
 * first ones), malloc'd and NUL-terminated (len excludes the NUL). 0, or -1 with why (not a
 * regular file, beyond the per-file limit, total limit reached, I/O error).
 */
int aud_image_read(aud_image *img, const aud_entry *e, size_t max, uint8_t **buf, size_t *len, char *why,
                   size_t whylen);

/* Normalise a member name: "./a//b/../c" -> "a/c". Sets *absolute for a leading "/", *escaped
 * when ".." would leave the root (clamped). -1 when longer than AUD_PATH_MAX. */
int aud_normalise(const char *name, char *out, size_t outlen, bool *absolute, bool *escaped);

/* ==== report ================================================================================ */

typedef enum aud_verdict { AUD_V_PASS, AUD_V_FAIL, AUD_V_UNKNOWN, AUD_V_NA } aud_verdict;
typedef enum aud_sev { AUD_INFO, AUD_LOW, AUD_MEDIUM, AUD_HIGH, AUD_CRITICAL } aud_sev;
/* Findings at or above this severity make a control FAIL; below (low) they are warnings. */
#define AUD_FAIL_SEV AUD_MEDIUM
#define AUD_CONTROLS 14

typedef struct aud_evidence {
    char *path;       /* relative to the image root ("" for the image as a whole) */
    unsigned line;    /* 1-based line of a text file, 0 when none */
    char *rule;       /* "FS38-1.2" */
    char *provision;  /* ETSI EN 303 645 provision, "5.1-1" */
    aud_sev sev;
    char *finding;
} aud_evidence;

typedef struct aud_control {
    int id;
    const char *title;
    aud_verdict verdict;
    char summary[256];
    aud_evidence *ev;
    size_t n_ev, cap_ev;
    bool assessed;            /* a check ran; false: UNKNOWN "not assessed by this version" */
    aud_verdict when_empty;   /* verdict when a check ran and found nothing (UNKNOWN or NA) */
    char empty_summary[200];  /* summary then */
} aud_control;

typedef struct aud_report {
    const char *tool_version;
    const char *target;
    char date[11];            /* YYYY-MM-DD */
    int year, month, day;
    aud_control c[AUD_CONTROLS];
    size_t components, vulnerabilities;
    bool oom;
} aud_report;

const char *aud_control_title(int id);
const char *aud_verdict_name(aud_verdict v);
const char *aud_sev_name(aud_sev s);
void aud_report_init(aud_report *r, const char *target, const char *version, const char *date);
void aud_report_free(aud_report *r);
/* A check of control id ran: when it adds no evidence, the verdict is `empty` with summary. */
void aud_assessed(aud_report *r, int id, aud_verdict empty, const char *summary);
/* Add an evidence item to control id (1..14); line 0 = none. */
void aud_add(aud_report *r, int id, const char *path, unsigned line, const char *rule, const char *provision,
             aud_sev sev, const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/* Decide every control's verdict and summary. */
void aud_report_finish(aud_report *r);
/* 1 when a control FAILs, else 0. */
int aud_report_exit(const aud_report *r);
void aud_write_table(const aud_report *r, FILE *f);
/* Outputs into a malloc'd string (NUL-terminated); NULL when out of memory. */
char *aud_json(const aud_report *r);
char *aud_sarif(const aud_report *r);
char *aud_html(const aud_report *r);

/* ==== checks ================================================================================ */

#define AUD_ANCHOR_LEN 65u
#define AUD_MAX_ANCHORS 8u /* FS38_KEYRING_MAX */

typedef struct aud_ctx {
    aud_image *img;
    aud_report *r;
    const char *const *cve_feeds; /* --cve-feed files, for the SBOM side (check 14) */
    size_t n_cve_feeds;
    void (*progress)(void *arg, const char *what, size_t done, size_t total);
    void *progress_arg;
    /* --trust-anchor (control 2): P-256 public keys, uncompressed points (04 || x || y), that
     * SUIT envelopes and MCUboot images found in the image are verified against; anchor_names
     * are their files (for the evidence). n_anchors 0: such artefacts are detected, not verified. */
    const uint8_t (*anchors)[AUD_ANCHOR_LEN];
    const char *const *anchor_names;
    size_t n_anchors;
} aud_ctx;

/* Run every check into ctx->r (does not finish the report). */
void aud_run_checks(aud_ctx *ctx);
void aud_check_accounts(aud_ctx *ctx);   /* 1 */
void aud_check_boot(aud_ctx *ctx);       /* 2 */
void aud_check_update(aud_ctx *ctx);     /* 3 */
void aud_check_comms(aud_ctx *ctx);      /* 4 */
void aud_check_services(aud_ctx *ctx);   /* 5 */
void aud_check_keys(aud_ctx *ctx);       /* 6 */
void aud_check_elf(aud_ctx *ctx);        /* 9 */
void aud_check_identity(aud_ctx *ctx);   /* 8, 11, 12 (after aud_check_keys: uses control 6's findings) */
void aud_check_disclosure(aud_ctx *ctx); /* 13 */
/*
 * Hook for the SBOM side (check 14, components, vulnerabilities): host/audit/sbom*.c. Until it
 * is merged, aud_sbom_hook is NULL and control 14 stays UNKNOWN ("not assessed by this version").
 */
typedef void (*aud_sbom_fn)(aud_ctx *ctx);
extern aud_sbom_fn aud_sbom_hook;

/* helpers for checks (checks_util.c) */
/* Iterate lines of buf: returns the next line (without '\n' / "\r\n") and its 1-based number. */
typedef struct aud_lines { const char *p, *end; unsigned no; } aud_lines;
void aud_lines_init(aud_lines *it, const uint8_t *buf, size_t len);
bool aud_lines_next(aud_lines *it, const char **line, size_t *len);
/* The next setting of a configuration file: lines trimmed of blanks (spaces, tabs) at both ends,
 * empty lines and '#' comments skipped. */
bool aud_lines_next_setting(aud_lines *it, const char **line, size_t *len);
/* l without blanks (spaces, tabs) at either end; *n updated. */
const char *aud_trim(const char *l, size_t *n);
/* Read a text file by path (following links inside the image), at most max bytes. */
int aud_read_path(aud_ctx *ctx, const char *path, size_t max, uint8_t **buf, size_t *len);
bool aud_has_prefix(const char *s, const char *prefix);
bool aud_has_suffix(const char *s, const char *suffix);
const char *aud_basename(const char *path);

#endif
