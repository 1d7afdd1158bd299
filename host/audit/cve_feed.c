/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cve_feed.c — offline vulnerability feeds, parsed with json-c into sbom_feed:
 *   NVD CVE API 2.0: vulnerabilities[].cve{id, metrics, configurations[].nodes[].cpeMatch[]}
 *     (vulnerable entries only: vendor, product, exact version or versionStart/End
 *     Including/Excluding)
 *   OSV: {id, aliases[], upstream[], severity[], references[], affected[]{package{ecosystem,
 *     name}, ranges[]{type, events[]}, versions[]}}
 * Never fetched: the caller hands in the bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sbom.h"
#include "sbom_int.h"

#define FEED_MAX (64u * 1024u * 1024u)
#define FEED_DEPTH 64

sbom_feed *sbom_feed_new(void) { return calloc(1, sizeof(sbom_feed)); }

static void rating_free(rating *r)
{
    free(r->severity);
    free(r->method);
    free(r->vector);
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void nvd_free(nvd_rec *n)
{
    free(n->id);
    rating_free(&n->r);
    for (size_t i = 0; i < n->n_rules; i++) {
        cpe_rule *r = &n->rules[i];
        free(r->vendor);
        free(r->product);
        free(r->exact);
        free(r->start);
        free(r->end);
    }
    free(n->rules);
}

static void osv_free(osv_rec *o)
{
    free(o->id);
    free_strv(o->aliases, o->n_aliases);
    free(o->url);
    rating_free(&o->r);
    for (size_t i = 0; i < o->n_aff; i++) {
        osv_aff *a = &o->aff[i];
        free(a->ecosystem);
        free(a->name);
        for (size_t j = 0; j < a->n_ranges; j++) {
            for (size_t k = 0; k < a->ranges[j].n_ev; k++)
                free(a->ranges[j].ev[k].ver);
            free(a->ranges[j].ev);
        }
        free(a->ranges);
        free_strv(a->versions, a->n_versions);
    }
    free(o->aff);
}

void sbom_feed_free(sbom_feed *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_nvd; i++)
        nvd_free(&f->nvd[i]);
    free(f->nvd);
    for (size_t i = 0; i < f->n_osv; i++)
        osv_free(&f->osv[i]);
    free(f->osv);
    free(f);
}

size_t sbom_feed_count(const sbom_feed *f) { return f ? f->n_nvd + f->n_osv : 0; }

/* ---- json helpers ---- */
static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *v = get(o, key);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static size_t arr_len(json_object *a)
{
    return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static char *lower_dup(const char *s)
{
    char *p = sbom_strdup(s);
    for (char *q = p; q && *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q - 'A' + 'a');
    return p;
}

/* ---- NVD ---- */

/* Split a CPE 2.3 formatted string into its fields (unescaping "\x"); 13 fields expected. */
static int cpe_split(const char *cpe, char f[13][256])
{
    int n = 0;
    size_t k = 0;
    memset(f, 0, 13 * 256);
    for (const char *p = cpe; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            if (k < 255)
                f[n][k++] = *p;
        } else if (*p == ':') {
            if (++n >= 13)
                return -1;
            k = 0;
        } else if (k < 255) {
            f[n][k++] = *p;
        }
    }
    return n == 12 && !strcmp(f[0], "cpe") && !strcmp(f[1], "2.3") ? 0 : -1;
}

static bool is_any(const char *v) { return !v[0] || !strcmp(v, "*") || !strcmp(v, "-"); }

static int add_rule(nvd_rec *n, json_object *m)
{
    json_object *vul = get(m, "vulnerable");
    if (!vul || !json_object_get_boolean(vul))
        return 0;
    const char *crit = get_str(m, "criteria");
    if (!crit)
        return 0;
    char (*f)[256] = malloc(13 * 256);
    if (!f)
        return -1;
    if (cpe_split(crit, f) != 0) {
        free(f);
        return 0; /* not a CPE 2.3 name: cannot match anything */
    }
    cpe_rule r = { 0 };
    r.vendor = lower_dup(f[3]);
    r.product = lower_dup(f[4]);
    if (!is_any(f[5])) {
        char v[520];
        /* openssh 8.5 + update p1 -> 8.5p1 */
        snprintf(v, sizeof v, "%s%s", f[5], is_any(f[6]) ? "" : f[6]);
        r.exact = sbom_strdup(v);
    }
    free(f);
    const char *s;
    if ((s = get_str(m, "versionStartIncluding"))) {
        r.start = sbom_strdup(s);
        r.start_incl = true;
    } else if ((s = get_str(m, "versionStartExcluding")))
        r.start = sbom_strdup(s);
    if ((s = get_str(m, "versionEndIncluding"))) {
        r.end = sbom_strdup(s);
        r.end_incl = true;
    } else if ((s = get_str(m, "versionEndExcluding")))
        r.end = sbom_strdup(s);
    cpe_rule *rules = realloc(n->rules, (n->n_rules + 1) * sizeof *rules);
    if (!rules || !r.vendor || !r.product) {
        free(r.vendor);
        free(r.product);
        free(r.exact);
        free(r.start);
        free(r.end);
        if (rules)
            n->rules = rules;
        return -1;
    }
    n->rules = rules;
    n->rules[n->n_rules++] = r;
    return 0;
}

/* metrics: cvssMetricV31 (Primary first), V30, V2 */
static int nvd_rating(rating *r, json_object *metrics)
{
    static const char *const keys[] = { "cvssMetricV40", "cvssMetricV31", "cvssMetricV30", "cvssMetricV2" };
    static const char *const methods[] = { "CVSSv4", "CVSSv31", "CVSSv3", "CVSSv2" };
    r->score = -1;
    for (size_t k = 0; k < 4; k++) {
        json_object *a = get(metrics, keys[k]);
        size_t n = arr_len(a);
        if (!n)
            continue;
        json_object *best = json_object_array_get_idx(a, 0);
        for (size_t i = 0; i < n; i++) {
            json_object *m = json_object_array_get_idx(a, i);
            const char *type = get_str(m, "type");
            if (type && !strcmp(type, "Primary")) {
                best = m;
                break;
            }
        }
        json_object *d = get(best, "cvssData");
        if (!d)
            continue;
        json_object *sc = get(d, "baseScore");
        if (sc && (json_object_is_type(sc, json_type_double) || json_object_is_type(sc, json_type_int)))
            r->score = json_object_get_double(sc);
        const char *sev = get_str(d, "baseSeverity");
        if (!sev)
            sev = get_str(best, "baseSeverity"); /* CVSS v2 keeps it next to cvssData */
        const char *vec = get_str(d, "vectorString");
        r->severity = sev ? lower_dup(sev) : NULL;
        r->vector = vec ? sbom_strdup(vec) : NULL;
        r->method = sbom_strdup(methods[k]);
        if ((sev && !r->severity) || (vec && !r->vector) || !r->method)
            return -1;
        return 0;
    }
    return 0;
}

static int add_nvd(sbom_feed *f, json_object *cve)
{
    const char *id = get_str(cve, "id");
    if (!id)
        return 1; /* not a CVE object */
    nvd_rec n = { 0 };
    n.id = sbom_strdup(id);
    if (!n.id)
        return -1;
    int rc = nvd_rating(&n.r, get(cve, "metrics"));
    json_object *cfgs = get(cve, "configurations");
    for (size_t i = 0; rc == 0 && i < arr_len(cfgs); i++) {
        json_object *nodes = get(json_object_array_get_idx(cfgs, i), "nodes");
        for (size_t j = 0; rc == 0 && j < arr_len(nodes); j++) {
            json_object *node = json_object_array_get_idx(nodes, j);
            json_object *neg = get(node, "negate");
            if (neg && json_object_get_boolean(neg))
                continue; /* "everything but": never a positive match */
            json_object *ms = get(node, "cpeMatch");
            for (size_t k = 0; rc == 0 && k < arr_len(ms); k++)
                rc = add_rule(&n, json_object_array_get_idx(ms, k));
        }
    }
    nvd_rec *arr = rc == 0 ? realloc(f->nvd, (f->n_nvd + 1) * sizeof *arr) : NULL;
    if (!arr) {
        nvd_free(&n);
        return -1;
    }
    f->nvd = arr;
    f->nvd[f->n_nvd++] = n;
    return 0;
}

/* ---- OSV ---- */
static int push_str(char ***v, size_t *n, const char *s)
{
    char **a = realloc(*v, (*n + 1) * sizeof *a);
    if (!a)
        return -1;
    *v = a;
    a[*n] = sbom_strdup(s);
    if (!a[*n])
        return -1;
    (*n)++;
    return 0;
}

static int osv_range_parse(osv_aff *a, json_object *r)
{
    const char *type = get_str(r, "type");
    if (!type || !strcmp(type, "GIT"))
        return 0; /* commit ranges: nothing to compare a version with */
    osv_range rg = { 0 };
    rg.semver = !strcmp(type, "SEMVER");
    json_object *evs = get(r, "events");
    size_t n = arr_len(evs);
    if (n > 4096)
        n = 4096;
    if (n) {
        rg.ev = calloc(n, sizeof *rg.ev);
        if (!rg.ev)
            return -1;
    }
    static const char *const kinds[] = { "introduced", "fixed", "last_affected", "limit" };
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(evs, i);
        for (int k = 0; k < 4; k++) {
            const char *v = get_str(e, kinds[k]);
            if (v) {
                rg.ev[rg.n_ev].kind = k + 1;
                rg.ev[rg.n_ev].ver = sbom_strdup(v);
                if (!rg.ev[rg.n_ev].ver)
                    goto oom;
                rg.n_ev++;
                break;
            }
        }
    }
    osv_range *arr = realloc(a->ranges, (a->n_ranges + 1) * sizeof *arr);
    if (!arr)
        goto oom;
    a->ranges = arr;
    a->ranges[a->n_ranges++] = rg;
    return 0;
oom:
    for (size_t i = 0; i < rg.n_ev; i++)
        free(rg.ev[i].ver);
    free(rg.ev);
    return -1;
}

static int add_osv(sbom_feed *f, json_object *o)
{
    const char *id = get_str(o, "id");
    json_object *aff = get(o, "affected");
    if (!id || !aff || !json_object_is_type(aff, json_type_array))
        return 1;
    osv_rec r = { 0 };
    r.r.score = -1;
    int rc = (r.id = sbom_strdup(id)) ? 0 : -1;
    static const char *const alias_keys[] = { "aliases", "upstream" };
    for (int k = 0; k < 2 && rc == 0; k++) {
        json_object *al = get(o, alias_keys[k]);
        for (size_t i = 0; rc == 0 && i < arr_len(al); i++) {
            json_object *s = json_object_array_get_idx(al, i);
            if (json_object_is_type(s, json_type_string))
                rc = push_str(&r.aliases, &r.n_aliases, json_object_get_string(s));
        }
    }
    json_object *refs = get(o, "references");
    for (size_t i = 0; rc == 0 && i < arr_len(refs) && !r.url; i++) {
        const char *u = get_str(json_object_array_get_idx(refs, i), "url");
        if (u && (!strncmp(u, "https://", 8) || !strncmp(u, "http://", 7)) && !(r.url = sbom_strdup(u)))
            rc = -1;
    }
    json_object *sev = get(o, "severity");
    for (size_t i = 0; rc == 0 && i < arr_len(sev) && !r.r.vector; i++) {
        json_object *s = json_object_array_get_idx(sev, i);
        const char *t = get_str(s, "type"), *sc = get_str(s, "score");
        if (!t || !sc)
            continue;
        const char *m = !strcmp(t, "CVSS_V4") ? "CVSSv4"
                        : !strcmp(t, "CVSS_V3") ? (!strncmp(sc, "CVSS:3.1/", 9) ? "CVSSv31" : "CVSSv3")
                        : !strcmp(t, "CVSS_V2") ? "CVSSv2"
                                                 : NULL;
        if (!m)
            continue;
        r.r.method = sbom_strdup(m);
        r.r.vector = sbom_strdup(sc);
        if (!r.r.method || !r.r.vector)
            rc = -1;
    }
    size_t n = arr_len(aff);
    if (rc == 0 && n) {
        r.aff = calloc(n, sizeof *r.aff);
        if (!r.aff)
            rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_object *a = json_object_array_get_idx(aff, i);
        json_object *pkg = get(a, "package");
        const char *eco = get_str(pkg, "ecosystem"), *name = get_str(pkg, "name");
        if (!eco || !name)
            continue;
        osv_aff *x = &r.aff[r.n_aff++];
        x->ecosystem = sbom_strdup(eco);
        x->name = sbom_strdup(name);
        if (!x->ecosystem || !x->name) {
            rc = -1;
            break;
        }
        json_object *ranges = get(a, "ranges");
        for (size_t j = 0; rc == 0 && j < arr_len(ranges); j++)
            rc = osv_range_parse(x, json_object_array_get_idx(ranges, j));
        json_object *vers = get(a, "versions");
        for (size_t j = 0; rc == 0 && j < arr_len(vers); j++) {
            json_object *s = json_object_array_get_idx(vers, j);
            if (json_object_is_type(s, json_type_string))
                rc = push_str(&x->versions, &x->n_versions, json_object_get_string(s));
        }
    }
    osv_rec *arr = rc == 0 ? realloc(f->osv, (f->n_osv + 1) * sizeof *arr) : NULL;
    if (!arr) {
        osv_free(&r);
        return -1;
    }
    f->osv = arr;
    f->osv[f->n_osv++] = r;
    return 0;
}

/* One element of a list: an NVD wrapper {"cve":{...}}, a bare CVE object, or an OSV record. */
static int add_one(sbom_feed *f, json_object *o)
{
    json_object *cve = get(o, "cve");
    if (cve)
        return add_nvd(f, cve);
    if (get(o, "affected"))
        return add_osv(f, o);
    if (get(o, "configurations") || (get_str(o, "id") && get(o, "descriptions")))
        return add_nvd(f, o);
    return 1;
}

int sbom_feed_add(sbom_feed *f, const char *name, const uint8_t *data, size_t len, char *err, size_t errlen)
{
    if (len > FEED_MAX) {
        snprintf(err, errlen, "feed %s: %zu bytes, more than the %u MiB a feed may have", name, len,
                 FEED_MAX >> 20);
        return -1;
    }
    json_tokener *tok = json_tokener_new_ex(FEED_DEPTH);
    if (!tok) {
        snprintf(err, errlen, "feed %s: out of memory", name);
        return -1;
    }
    json_object *root = json_tokener_parse_ex(tok, (const char *)data, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!root || jerr != json_tokener_success) {
        snprintf(err, errlen, "feed %s: not valid JSON at byte %zu: %s", name, end,
                 json_tokener_error_desc(jerr == json_tokener_success ? json_tokener_continue : jerr));
        json_object_put(root);
        return -1;
    }
    for (size_t i = end; i < len; i++)
        if (data[i] != ' ' && data[i] != '\n' && data[i] != '\r' && data[i] != '\t') {
            snprintf(err, errlen, "feed %s: trailing data after the JSON document at byte %zu", name, i);
            json_object_put(root);
            return -1;
        }
    int rc;
    json_object *list = NULL;
    if (json_object_is_type(root, json_type_array))
        list = root;
    else if ((list = get(root, "vulnerabilities")) == NULL)
        list = get(root, "vulns");
    if (list && json_object_is_type(list, json_type_array)) {
        rc = 0;
        for (size_t i = 0; rc >= 0 && i < arr_len(list); i++)
            rc = add_one(f, json_object_array_get_idx(list, i));
        if (rc > 0)
            rc = 0; /* entries of other shapes are skipped */
    } else {
        rc = add_one(f, root);
        if (rc > 0) {
            snprintf(err, errlen,
                     "feed %s: neither NVD CVE API 2.0 JSON (vulnerabilities[].cve) nor OSV JSON (id, affected[])",
                     name);
            json_object_put(root);
            return -1;
        }
    }
    json_object_put(root);
    if (rc < 0) {
        snprintf(err, errlen, "feed %s: out of memory", name);
        return -1;
    }
    return 0;
}
