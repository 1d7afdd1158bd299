/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sbom.h — components of a firmware image (package databases, version banners in binaries),
 * offline vulnerability matching (NVD CVE API 2.0 JSON, OSV JSON) and the CycloneDX 1.6 writer
 * behind `fs38 sbom` and the assessor's check 14 (host code: stdio and malloc are fine).
 *
 * The image is read through two callbacks (sbom_fs) so the same code runs on a directory (here),
 * or on a tar / squashfs / ext4 image (the assessor's image layer). Every path handed to or
 * returned by the callbacks is relative to the image root, without a leading "/" or "./".
 *
 * Functions returning int: 0 success, -1 error (a one-line reason in the caller's err buffer,
 * "what where: why"); nothing is printed by the library.
 */
#ifndef FS38_HOST_AUDIT_SBOM_H
#define FS38_HOST_AUDIT_SBOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------------------------
 * Reading the image
 * ------------------------------------------------------------------------------------------- */

/* Kinds of entries a walk reports. */
#define SBOM_ENT_FILE 1 /* regular file */
#define SBOM_ENT_LINK 2 /* symbolic link (reported, never followed by a walk) */

/*
 * Read a whole regular file of the image (symbolic links resolved inside the image only).
 * At most max bytes: a larger file is an error. On success *data is a malloc'd buffer with a NUL
 * after the *len bytes (the caller frees it). Returns 0, 1 when the path does not exist (or is not
 * a regular file after resolving links), -1 on error (reason in err).
 */
typedef int (*sbom_read_fn)(void *user, const char *path, size_t max, uint8_t **data, size_t *len,
                            char *err, size_t errlen);
/* Called by a walk for each entry: path relative to the root, size in bytes (files), kind
 * (SBOM_ENT_*). Return 0 to go on, non-zero to stop the walk (the walk returns that value). */
typedef int (*sbom_visit_fn)(void *cb_user, const char *path, uint64_t size, int kind);
/* Walk every entry of the image (depth-first, links not followed). 0, the visitor's non-zero
 * value, or -1 on error (reason in err). */
typedef int (*sbom_walk_fn)(void *user, sbom_visit_fn cb, void *cb_user, char *err, size_t errlen);

typedef struct sbom_fs {
    sbom_read_fn read;
    sbom_walk_fn walk;
    void *user;
} sbom_fs;

/* An sbom_fs over an image opened by aud_image_open (audit.h: directory, tar/cpio, squashfs,
 * ext2/3/4), so the SBOM reads every format `fs38 audit` reads; nothing to close (the image is
 * the caller's). check_sbom.c. */
struct aud_image;
void sbom_fs_image(sbom_fs *fs, struct aud_image *img);

/* ---------------------------------------------------------------------------------------------
 * Debian version ordering (debver.c): dpkg's algorithm, Debian Policy 5.6.12
 * ------------------------------------------------------------------------------------------- */

/* <0, 0, >0 as a sorts before, equal to, after b ([epoch:]upstream[-revision]; a missing epoch
 * is 0, a missing revision is empty; '~' sorts before everything, even the end). A malformed
 * epoch (not digits) compares as if the text before ':' were part of the upstream version. */
int debver_cmp(const char *a, const char *b);
/* dpkg's verrevcmp on one part (upstream or revision, no epoch): also used to order upstream
 * versions (NVD ranges: 1.0.2q < 1.0.2zd, 2022.83 < 2024.84). */
int debver_part_cmp(const char *a, const char *b);
/* The upstream part of a package version, into out: epoch and the distribution's revision
 * removed ("1:9.2p1-2+deb12u3" -> "9.2p1"; apk "1.36.1-r5" -> "1.36.1"; opkg "1.28.4-3" ->
 * "1.28.4"). */
void debver_upstream(const char *version, char *out, size_t outlen);

/* ---------------------------------------------------------------------------------------------
 * Components
 * ------------------------------------------------------------------------------------------- */
typedef enum sbom_origin {
    SBOM_FROM_DPKG,      /* var/lib/dpkg/status */
    SBOM_FROM_OPKG,      /* usr/lib/opkg/status (OpenWrt) or var/lib/opkg/status (Yocto) */
    SBOM_FROM_APK,       /* lib/apk/db/installed */
    SBOM_FROM_BUILDROOT, /* packages-file-list.txt (names only; versions from banners) */
    SBOM_FROM_BANNER     /* a version banner in an ELF file */
} sbom_origin;

/* Where a component was seen: a file of the image and, for text databases, the 1-based line
 * of its record (0 for a binary). */
typedef struct sbom_where {
    char *path;
    unsigned line;
} sbom_where;

typedef struct sbom_component {
    char *name;        /* package name (binary package), or banner product ("busybox") */
    char *version;     /* as recorded ("1:1.35.0-4+b3"); NULL when unknown */
    char *arch;        /* NULL when unknown */
    char *source;      /* Debian Source: name (without its version), NULL if absent */
    char *purl;        /* pkg:deb/debian/NAME@VERSION?arch=A, pkg:opkg/..., pkg:apk/..., pkg:generic/... */
    char *bom_ref;     /* unique in the BOM: "comp-N-NAME" */
    char *distro;      /* OSV ecosystem of its distribution ("Debian:12", "Alpine:v3.18"), or NULL */
    sbom_origin origin;
    bool backports;    /* distribution package: revisions may carry fixes (NVD match = unknown) */
    sbom_where *where; /* evidence: [0] is the database record (or the binary) */
    size_t n_where;
} sbom_component;

/* ---------------------------------------------------------------------------------------------
 * Vulnerability feeds (cve_feed.c): parsed once, matched against many components
 * ------------------------------------------------------------------------------------------- */
typedef struct sbom_feed sbom_feed;

/* An empty feed set. NULL on out of memory. */
sbom_feed *sbom_feed_new(void);
void sbom_feed_free(sbom_feed *f);
/*
 * Add the records of one feed document (format detected from its content): NVD CVE API 2.0
 * ({"format":"NVD_CVE","vulnerabilities":[{"cve":{...}}]}, or one {"cve":...} / CVE object),
 * an OSV record ({"id":..,"affected":[...]}), or a JSON array / {"vulns":[...]} of OSV records.
 * name names the document in diagnostics. At most 64 MiB, nesting depth 64. -1 on malformed JSON
 * or a document that is neither shape (the set keeps what earlier calls added).
 */
int sbom_feed_add(sbom_feed *f, const char *name, const uint8_t *data, size_t len, char *err, size_t errlen);
/* Load the --cve-feed files (each at most 64 MiB) into a new feed set (*out stays NULL when
 * n == 0). 0, or -1 with the reason (which file, why) in err. check_sbom.c. */
int sbom_feeds_load(const char *const *paths, size_t n, sbom_feed **out, char *err, size_t errlen);
/* Number of records loaded (NVD CVEs + OSV entries). */
size_t sbom_feed_count(const sbom_feed *f);

/* ---------------------------------------------------------------------------------------------
 * Vulnerabilities found
 * ------------------------------------------------------------------------------------------- */
typedef enum sbom_vstate {
    SBOM_AFFECTED,     /* a finding: version inside a vulnerable range */
    SBOM_UNKNOWN,      /* upstream range matches a distribution package, no distribution data */
    SBOM_NOT_AFFECTED  /* the distribution's fixed version (OSV) is <= the installed one */
} sbom_vstate;

typedef struct sbom_vuln {
    char *id;          /* "CVE-2023-4911", or the OSV id when it has no CVE alias */
    char *source;      /* "NVD" or "OSV" (the record that decided) */
    char *url;         /* advisory URL (NVD detail page / first OSV reference), or NULL */
    char *detail;      /* which range matched, e.g. "cpe busybox:busybox versionEndIncluding 1.36.1" */
    char *severity;    /* "critical", "high", "medium", "low", "none" or NULL */
    double score;      /* CVSS base score, < 0 when absent */
    char *method;      /* "CVSSv31", "CVSSv3", "CVSSv2", NULL */
    char *vector;      /* CVSS vector string or NULL */
    size_t component;  /* index into the result's components */
    sbom_vstate state;
} sbom_vuln;

typedef struct sbom_result {
    sbom_component *comp;
    size_t n_comp;
    sbom_vuln *vuln;
    size_t n_vuln;
    size_t n_affected, n_unknown, n_not_affected; /* per state */
    size_t n_files;    /* entries walked */
    size_t n_elf;      /* ELF files scanned for banners */
} sbom_result;

/* Scan options (zero = defaults). */
typedef struct sbom_options {
    bool no_banners;           /* do not scan ELF files */
    uint64_t max_elf_size;     /* larger ELF files are not scanned (default 64 MiB) */
} sbom_options;

/*
 * Check 14's entry point: every component of the image (package databases, then version
 * banners of ELF files not already owned by a versioned package), each matched against the
 * feeds (feeds may be NULL: no vulnerabilities). Fills res (free with sbom_result_free); the
 * evidence of a vulnerability is its component's where[] (database path and record line, or
 * the binary). -1 on an unreadable image or database (reason in err; res is freed).
 */
int sbom_scan(const sbom_fs *fs, const sbom_feed *feeds, const sbom_options *opt, sbom_result *res,
              char *err, size_t errlen);
void sbom_result_free(sbom_result *res);

/* ---- lower-level pieces (tests, fuzzing) ---- */

/* Parse one package database text (kind: SBOM_FROM_DPKG/OPKG/APK/BUILDROOT) found at path,
 * appending components to res (where[0] = path + line of the record). distro is the OSV
 * ecosystem to record (or NULL). -1 on an unusable database (reason in err). */
int sbom_parse_db(sbom_result *res, sbom_origin kind, const char *path, const char *text, size_t len,
                  const char *distro, char *err, size_t errlen);
/* Version banners in one file's bytes (any file: strings are extracted, at most 16 per file):
 * appends SBOM_FROM_BANNER components with where[0].path = path. Returns the number found. */
size_t sbom_scan_banners(sbom_result *res, const char *path, const uint8_t *data, size_t len);
/* The NVD CPE vendor:product pairs a component name maps to (the table in cve_match.c), e.g.
 * "libssl3" -> "openssl:openssl"; "" when none. Returns the number of pairs written into out
 * (each "vendor:product", at most max). */
size_t sbom_cpe_products(const char *name, const char **out, size_t max);
/* Match every component of res against the feeds, appending res->vuln (replaces earlier ones). */
int sbom_match(sbom_result *res, const sbom_feed *feeds, char *err, size_t errlen);
/* Add a component (copies the strings; purl and bom_ref are derived). Index, or -1 (memory). */
long sbom_add_component(sbom_result *res, sbom_origin origin, const char *name, const char *version,
                        const char *arch, const char *source, const char *distro, const char *path,
                        unsigned line);

/* ---- CycloneDX 1.6 (sbom_cdx.c) ---- */
/*
 * The BOM as JSON text (malloc'd, NUL-terminated): metadata.component = the image (type
 * "firmware", name target_name, bom-ref "image"), components[] (type "library" or
 * "application", purl, evidence.occurrences[].location [+ line]), dependencies (the image on
 * each component), vulnerabilities[] (affected and unknown ones: id, source, ratings, affects[].ref
 * -> bom-ref with versions[].status "affected" / "unknown"). serial (a "urn:uuid:...") and
 * timestamp (RFC 3339) may be NULL (omitted: reproducible output).
 */
char *sbom_cyclonedx(const sbom_result *res, const char *target_name, const char *serial,
                     const char *timestamp, const char *tool_version);

#endif /* FS38_HOST_AUDIT_SBOM_H */
