/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_sbom.c — control 14 of `fs38 audit` (components and known vulnerabilities) and the
 * bridge between the image reader (image.c: directory, tar/cpio, squashfs, ext2/3/4) and the SBOM
 * side (sbom.h), so `fs38 sbom` and `fs38 audit` read every image format the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "audit.h"
#include "sbom.h"

/* ---- sbom_fs over an aud_image ---------------------------------------------------------- */

static int img_read(void *user, const char *path, size_t max, uint8_t **data, size_t *len, char *err, size_t errlen)
{
    aud_image *img = user;
    char why[200] = "";
    const aud_entry *e = aud_image_lookup(img, path, true, why, sizeof why);
    if (!e && strstr(why, "loop")) { /* a database behind a link cycle is an error, not absent */
        snprintf(err, errlen, "%s: more than %u symbolic links (a link loop)", path, AUD_LINK_HOPS);
        return -1;
    }
    if (!e || e->type != AUD_REG)
        return 1; /* absent, or not a regular file once links are followed */
    if (e->size > max) {
        snprintf(err, errlen, "%s: %llu bytes, more than the %zu this reader takes", path,
                 (unsigned long long)e->size, max);
        return -1;
    }
    if (aud_image_read(img, e, max, data, len, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        return -1;
    }
    return 0;
}

static int img_walk(void *user, sbom_visit_fn cb, void *cb_user, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    aud_image *img = user;
    for (size_t i = 0, n = aud_image_count(img); i < n; i++) {
        const aud_entry *e = aud_image_entry(img, i);
        int kind = e->type == AUD_REG ? SBOM_ENT_FILE : e->type == AUD_LNK ? SBOM_ENT_LINK : 0;
        if (!kind)
            continue;
        int r = cb(cb_user, e->path, e->type == AUD_REG ? e->size : 0, kind);
        if (r)
            return r;
    }
    return 0;
}

void sbom_fs_image(sbom_fs *fs, aud_image *img)
{
    fs->read = img_read;
    fs->walk = img_walk;
    fs->user = img;
}

/* ---- feeds ------------------------------------------------------------------------------------ */

int sbom_feeds_load(const char *const *paths, size_t n, sbom_feed **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!n)
        return 0;
    sbom_feed *feed = sbom_feed_new();
    if (!feed) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        FILE *f = fopen(paths[i], "rb");
        if (!f) {
            snprintf(err, errlen, "cannot read the feed %s", paths[i]);
            sbom_feed_free(feed);
            return -1;
        }
        size_t cap = 1u << 16, len = 0;
        uint8_t *data = malloc(cap);
        size_t got;
        while (data && (got = fread(data + len, 1, cap - len, f)) > 0) {
            len += got;
            if (len == cap) {
                uint8_t *bigger = cap < (64u << 20) ? realloc(data, cap * 2u) : NULL;
                if (!bigger) {
                    free(data);
                    data = NULL;
                    break;
                }
                data = bigger;
                cap *= 2u;
            }
        }
        const bool bad = !data || ferror(f);
        fclose(f);
        if (bad) {
            snprintf(err, errlen, "cannot read the feed %s (unreadable, or larger than 64 MiB)", paths[i]);
            free(data);
            sbom_feed_free(feed);
            return -1;
        }
        char why[400] = "";
        int r = sbom_feed_add(feed, paths[i], data, len, why, sizeof why);
        free(data);
        if (r != 0) {
            snprintf(err, errlen, "%s", why);
            sbom_feed_free(feed);
            return -1;
        }
    }
    *out = feed;
    return 0;
}

/* ---- control 14 -------------------------------------------------------------------------- */

#define PROVISION "5.2-3" /* EN 303 645: monitor for, identify and rectify vulnerabilities */

static aud_sev severity(const sbom_vuln *v)
{
    const char *s = v->severity;
    if (s && strcmp(s, "critical") == 0)
        return AUD_CRITICAL;
    if (s && strcmp(s, "high") == 0)
        return AUD_HIGH;
    if (s && strcmp(s, "low") == 0)
        return AUD_LOW;
    return AUD_MEDIUM; /* medium, none given or unknown: an affected component is a finding */
}

static void check_sbom(aud_ctx *ctx)
{
    aud_report *r = ctx->r;
    aud_assessed(r, 14, AUD_V_UNKNOWN, "no package database or version banner found: no SBOM can be made");
    char err[512] = "";
    sbom_feed *feed = NULL;
    if (sbom_feeds_load(ctx->cve_feeds, ctx->n_cve_feeds, &feed, err, sizeof err) != 0) {
        aud_add(r, 14, "", 0, "FS38-14.0", PROVISION, AUD_LOW, "CVE feed not used: %s", err);
        feed = NULL;
    }
    sbom_fs fs;
    sbom_fs_image(&fs, ctx->img);
    sbom_result res;
    sbom_options opt = { .no_banners = false };
    if (sbom_scan(&fs, feed, &opt, &res, err, sizeof err) != 0) {
        aud_add(r, 14, "", 0, "FS38-14.0", PROVISION, AUD_LOW, "components could not be listed: %s", err);
        sbom_feed_free(feed);
        return;
    }
    r->components = res.n_comp;
    r->vulnerabilities = res.n_affected;
    if (res.n_comp) {
        const sbom_where *w = res.comp[0].n_where ? &res.comp[0].where[0] : NULL;
        if (!feed)
            aud_add(r, 14, w ? w->path : "", 0, "FS38-14.1", PROVISION, AUD_LOW,
                    "%zu components listed (SBOM), but no --cve-feed was given: known vulnerabilities not assessed",
                    res.n_comp);
        else
            aud_add(r, 14, w ? w->path : "", 0, "FS38-14.1", PROVISION, AUD_INFO,
                    "%zu components listed (SBOM), matched against %zu feed records: %zu affected, %zu unknown "
                    "(distribution packages whose revisions may carry fixes), %zu fixed by the distribution",
                    res.n_comp, sbom_feed_count(feed), res.n_affected, res.n_unknown, res.n_not_affected);
    }
    for (size_t i = 0; i < res.n_vuln; i++) {
        const sbom_vuln *v = &res.vuln[i];
        if (v->state == SBOM_NOT_AFFECTED)
            continue;
        const sbom_component *c = &res.comp[v->component];
        const sbom_where *w = c->n_where ? &c->where[0] : NULL;
        if (v->state == SBOM_AFFECTED)
            aud_add(r, 14, w ? w->path : "", w ? w->line : 0, "FS38-14.2", PROVISION, severity(v),
                    "%s: %s %s is affected (%s)%s%s", v->id, c->name, c->version ? c->version : "(version unknown)",
                    v->detail ? v->detail : v->source, v->url ? " " : "", v->url ? v->url : "");
        else
            aud_add(r, 14, w ? w->path : "", w ? w->line : 0, "FS38-14.3", PROVISION, AUD_LOW,
                    "%s: %s %s is in an upstream vulnerable range; the distribution may have backported the fix "
                    "(no distribution record in the feeds)",
                    v->id, c->name, c->version ? c->version : "(version unknown)");
    }
    sbom_result_free(&res);
    sbom_feed_free(feed);
}

aud_sbom_fn aud_sbom_hook = check_sbom;
