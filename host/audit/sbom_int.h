/* SPDX-License-Identifier: Apache-2.0 */
/* sbom_int.h — what the sbom / cve sources share with each other (not an interface). */
#ifndef FS38_HOST_AUDIT_SBOM_INT_H
#define FS38_HOST_AUDIT_SBOM_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "sbom.h"

typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool failed;
} sbuf;
int sb_put(sbuf *b, const char *s, size_t n);
int sb_puts(sbuf *b, const char *s);

char *sbom_strdup(const char *s);
char *sbom_strndup(const char *s, size_t n);
int sbom_component_set_version(sbom_component *c, const char *version);
int sbom_component_add_where(sbom_component *c, const char *path, unsigned line);
void sbom_vuln_free(sbom_vuln *v);
/* ID / VERSION_ID of an os-release file -> "Debian:12", "Alpine:v3.18", "OpenWrt", ... ("" if none) */
void sbom_distro_from_os_release(const char *text, size_t len, char *out, size_t outlen);

/* ---- parsed feeds (cve_feed.c), read by cve_match.c ---- */
typedef struct cpe_rule {
    char *vendor, *product;
    char *exact;            /* exact version (CPE version[+update]), NULL for a range / any */
    char *start, *end;      /* range bounds or NULL */
    bool start_incl, end_incl;
} cpe_rule;

typedef struct rating {
    char *severity, *method, *vector;
    double score; /* < 0 absent */
} rating;

typedef struct nvd_rec {
    char *id;
    rating r;
    cpe_rule *rules;
    size_t n_rules;
} nvd_rec;

#define OSV_INTRODUCED 1
#define OSV_FIXED 2
#define OSV_LAST_AFFECTED 3
#define OSV_LIMIT 4
typedef struct osv_event {
    int kind;
    char *ver;
} osv_event;
typedef struct osv_range {
    bool semver; /* SEMVER (upstream ordering); else ECOSYSTEM (the ecosystem's ordering); GIT skipped */
    osv_event *ev;
    size_t n_ev;
} osv_range;
typedef struct osv_aff {
    char *ecosystem, *name;
    osv_range *ranges;
    size_t n_ranges;
    char **versions;
    size_t n_versions;
} osv_aff;
typedef struct osv_rec {
    char *id;
    char **aliases; /* aliases[] and upstream[] */
    size_t n_aliases;
    char *url;
    rating r;
    osv_aff *aff;
    size_t n_aff;
} osv_rec;

struct sbom_feed {
    nvd_rec *nvd;
    size_t n_nvd;
    osv_rec *osv;
    size_t n_osv;
};

#endif
