/* SPDX-License-Identifier: Apache-2.0 */
/* sbom_cdx.c — CycloneDX 1.6 JSON (built and serialised with json-c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sbom.h"
#include "sbom_int.h"

static const char *origin_name(sbom_origin o)
{
    switch (o) {
    case SBOM_FROM_DPKG:
        return "dpkg";
    case SBOM_FROM_OPKG:
        return "opkg";
    case SBOM_FROM_APK:
        return "apk";
    case SBOM_FROM_BUILDROOT:
        return "buildroot";
    default:
        return "banner";
    }
}

/* json-c's adders fail only on out of memory: count failures, check once */
typedef struct jb {
    int fail;
} jb;

static json_object *str(jb *b, const char *s)
{
    json_object *o = json_object_new_string(s ? s : "");
    b->fail += !o;
    return o;
}

static void put(jb *b, json_object *obj, const char *key, json_object *v)
{
    if (!v || !obj || json_object_object_add(obj, key, v) != 0) {
        b->fail++;
        json_object_put(v);
    }
}

static void push(jb *b, json_object *arr, json_object *v)
{
    if (!v || !arr || json_object_array_add(arr, v) != 0) {
        b->fail++;
        json_object_put(v);
    }
}

static json_object *obj(jb *b)
{
    json_object *o = json_object_new_object();
    b->fail += !o;
    return o;
}

static json_object *arr(jb *b)
{
    json_object *o = json_object_new_array();
    b->fail += !o;
    return o;
}

static json_object *prop(jb *b, const char *name, const char *value)
{
    json_object *p = obj(b);
    put(b, p, "name", str(b, name));
    put(b, p, "value", str(b, value));
    return p;
}

static bool is_library(const sbom_component *c)
{
    return !strncmp(c->name, "lib", 3) || strstr(c->name, "ssl") || !strcmp(c->name, "zlib") ||
           !strcmp(c->name, "zlib1g") || !strcmp(c->name, "glibc") || !strcmp(c->name, "expat") ||
           !strcmp(c->name, "mbedtls") || !strcmp(c->name, "wolfssl");
}

static json_object *component(jb *b, const sbom_component *c)
{
    json_object *o = obj(b);
    put(b, o, "type", str(b, is_library(c) ? "library" : "application"));
    put(b, o, "bom-ref", str(b, c->bom_ref));
    put(b, o, "name", str(b, c->name));
    if (c->version)
        put(b, o, "version", str(b, c->version));
    put(b, o, "purl", str(b, c->purl));
    json_object *props = arr(b);
    push(b, props, prop(b, "fs38:origin", origin_name(c->origin)));
    if (c->arch)
        push(b, props, prop(b, "fs38:arch", c->arch));
    if (c->source)
        push(b, props, prop(b, "fs38:source-package", c->source));
    if (c->distro)
        push(b, props, prop(b, "fs38:distribution", c->distro));
    const char *cpes[8];
    size_t n = sbom_cpe_products(c->source ? c->source : c->name, cpes, 8);
    for (size_t i = 0; i < n; i++)
        push(b, props, prop(b, "fs38:nvd-cpe-product", cpes[i]));
    put(b, o, "properties", props);
    json_object *ev = obj(b), *occ = arr(b);
    for (size_t i = 0; i < c->n_where; i++) {
        json_object *w = obj(b);
        put(b, w, "location", str(b, c->where[i].path));
        if (c->where[i].line)
            put(b, w, "line", json_object_new_int64((int64_t)c->where[i].line));
        push(b, occ, w);
    }
    put(b, ev, "occurrences", occ);
    put(b, o, "evidence", ev);
    return o;
}

static json_object *vulnerability(jb *b, const sbom_result *res, const sbom_vuln *v, size_t idx)
{
    const sbom_component *c = &res->comp[v->component];
    json_object *o = obj(b);
    char ref[48];
    snprintf(ref, sizeof ref, "vulnerability-%zu", idx + 1);
    put(b, o, "bom-ref", str(b, ref));
    put(b, o, "id", str(b, v->id));
    json_object *src = obj(b);
    put(b, src, "name", str(b, v->source));
    if (v->url)
        put(b, src, "url", str(b, v->url));
    put(b, o, "source", src);
    if (v->severity || v->score >= 0 || v->vector) {
        json_object *ratings = arr(b), *r = obj(b);
        json_object *rs = obj(b);
        put(b, rs, "name", str(b, v->source));
        put(b, r, "source", rs);
        if (v->score >= 0)
            put(b, r, "score", json_object_new_double(v->score));
        if (v->severity) {
            static const char *const ok[] = { "critical", "high", "medium", "low", "info", "none", "unknown" };
            const char *sev = "unknown";
            for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
                if (!strcmp(v->severity, ok[i]))
                    sev = ok[i];
            put(b, r, "severity", str(b, sev));
        }
        if (v->method)
            put(b, r, "method", str(b, v->method));
        if (v->vector)
            put(b, r, "vector", str(b, v->vector));
        push(b, ratings, r);
        put(b, o, "ratings", ratings);
    }
    put(b, o, "detail", str(b, v->detail));
    if (v->state == SBOM_UNKNOWN) {
        json_object *an = obj(b);
        put(b, an, "state", str(b, "in_triage"));
        put(b, an, "detail", str(b, "upstream version range matches; the distribution package may carry a "
                                    "backported fix (no distribution data in the feeds)"));
        put(b, o, "analysis", an);
    }
    json_object *affects = arr(b), *a = obj(b);
    put(b, a, "ref", str(b, c->bom_ref));
    if (c->version) {
        json_object *vers = arr(b), *ver = obj(b);
        put(b, ver, "version", str(b, c->version));
        put(b, ver, "status", str(b, v->state == SBOM_AFFECTED ? "affected" : "unknown"));
        push(b, vers, ver);
        put(b, a, "versions", vers);
    }
    push(b, affects, a);
    put(b, o, "affects", affects);
    return o;
}

char *sbom_cyclonedx(const sbom_result *res, const char *target_name, const char *serial, const char *timestamp,
                     const char *tool_version)
{
    jb b = { 0 };
    json_object *bom = obj(&b);
    put(&b, bom, "bomFormat", str(&b, "CycloneDX"));
    put(&b, bom, "specVersion", str(&b, "1.6"));
    if (serial)
        put(&b, bom, "serialNumber", str(&b, serial));
    put(&b, bom, "version", json_object_new_int(1));

    json_object *meta = obj(&b);
    if (timestamp)
        put(&b, meta, "timestamp", str(&b, timestamp));
    json_object *tools = obj(&b), *tcs = arr(&b), *tool = obj(&b);
    put(&b, tool, "type", str(&b, "application"));
    put(&b, tool, "name", str(&b, "fs38"));
    if (tool_version)
        put(&b, tool, "version", str(&b, tool_version));
    push(&b, tcs, tool);
    put(&b, tools, "components", tcs);
    put(&b, meta, "tools", tools);
    json_object *image = obj(&b);
    put(&b, image, "type", str(&b, "firmware"));
    put(&b, image, "bom-ref", str(&b, "image"));
    put(&b, image, "name", str(&b, target_name));
    put(&b, meta, "component", image);
    put(&b, bom, "metadata", meta);

    json_object *comps = arr(&b);
    for (size_t i = 0; i < res->n_comp; i++)
        push(&b, comps, component(&b, &res->comp[i]));
    put(&b, bom, "components", comps);

    json_object *deps = arr(&b), *d = obj(&b), *on = arr(&b);
    put(&b, d, "ref", str(&b, "image"));
    for (size_t i = 0; i < res->n_comp; i++)
        push(&b, on, str(&b, res->comp[i].bom_ref));
    put(&b, d, "dependsOn", on);
    push(&b, deps, d);
    put(&b, bom, "dependencies", deps);

    json_object *vulns = arr(&b);
    size_t k = 0;
    for (size_t i = 0; i < res->n_vuln; i++)
        if (res->vuln[i].state != SBOM_NOT_AFFECTED)
            push(&b, vulns, vulnerability(&b, res, &res->vuln[i], k++));
    put(&b, bom, "vulnerabilities", vulns);

    char *out = NULL;
    if (!b.fail) {
        const char *txt = json_object_to_json_string_ext(bom, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
        if (txt) {
            size_t n = strlen(txt);
            out = malloc(n + 2);
            if (out) {
                memcpy(out, txt, n);
                out[n] = '\n';
                out[n + 1] = '\0';
            }
        }
    }
    json_object_put(bom);
    return out;
}
