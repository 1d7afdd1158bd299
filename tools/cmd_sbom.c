/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_sbom.c — `fs38 sbom`: the components of a firmware root filesystem as CycloneDX 1.6 JSON,
 * with offline vulnerability matching.
 *
 *   fs38 sbom TARGET --out BOM.json [--cve-feed FILE]... [--no-banners]
 *
 * TARGET is a root filesystem directory. Components come from the package databases (dpkg,
 * opkg at the OpenWrt and Yocto paths, apk, Buildroot's packages-file-list.txt) and from version
 * banners in ELF files; each --cve-feed (NVD CVE API 2.0 JSON or OSV JSON, never fetched) is
 * matched against them (host/audit/sbom.h). The BOM is written atomically (all or nothing).
 * SOURCE_DATE_EPOCH, when set, fixes metadata.timestamp. Exit: 0 written, 2 usage or unreadable
 * input (target, feed) or output error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmds.h"
#include "fs38/boot.h"
#include "host.h"
#include "audit.h"
#include "sbom.h"

#define MAX_FEEDS 32

void usage_sbom(int to_stderr)
{
    fprintf(to_stderr ? stderr : stdout,
            "usage: fs38 sbom TARGET --out BOM.json [--cve-feed FILE]... [--no-banners]\n"
            "  TARGET: a root filesystem directory. Writes a CycloneDX 1.6 SBOM: the image as\n"
            "  metadata.component (type firmware), one component per installed package (dpkg, opkg,\n"
            "  apk, Buildroot) and per version banner found in ELF files, each with its purl and where\n"
            "  it was found; with --cve-feed (NVD CVE API 2.0 JSON or OSV JSON, repeatable, read\n"
            "  offline) the vulnerabilities matched. --no-banners skips the ELF scan.\n"
            "exit status: 0 written, 2 usage, unreadable input or output error.\n");
}

static void timestamp(char *out, size_t n)
{
    time_t t = time(NULL);
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    uint64_t v;
    if (sde && sde[0] && host_parse_u64("SOURCE_DATE_EPOCH", sde, 0, 253402300799ull, 0, &v) == 0)
        t = (time_t)v;
    struct tm tm;
    out[0] = '\0';
    if (gmtime_r(&t, &tm))
        strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *base(const char *p)
{
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    const char *s = p + n;
    while (s > p && s[-1] != '/')
        s--;
    return s;
}

int cmd_sbom(int argc, char **argv)
{
    const char *out = NULL;
    const char *feeds[MAX_FEEDS];
    size_t n_feeds = 0;
    bool no_banners = false;
    const host_opt opts[] = {
        { .name = "--out", .value = &out },
        { .name = "--cve-feed", .list = feeds, .count = &n_feeds, .max = MAX_FEEDS },
        { .name = "--no-banners", .flag = &no_banners },
        { .name = NULL },
    };
    const char *pos[1];
    size_t np = 0;
    int rc = host_parse_args(argc, argv, opts, pos, 1, &np);
    if (rc == 1) {
        usage_sbom(0);
        return HOST_EXIT_OK;
    }
    if (rc < 0 || np != 1 || !out) {
        if (rc >= 0)
            host_err("sbom: %s", np != 1 ? "one TARGET is required" : "--out BOM.json is required");
        usage_sbom(1);
        return HOST_EXIT_USAGE;
    }
    const char *target = pos[0];
    struct stat st;
    if (stat(target, &st) != 0) {
        host_err("sbom: cannot read target %s: no such file or directory", target);
        return HOST_EXIT_USAGE;
    }
    /* check the output before the (long) scan */
    if (host_out_check(out, false) != 0)
        return HOST_EXIT_USAGE;

    char err[512] = "";
    sbom_feed *feed = NULL;
    if (sbom_feeds_load(feeds, n_feeds, &feed, err, sizeof err) != 0) {
        host_err("sbom: %s", err);
        return HOST_EXIT_USAGE;
    }
    /* a directory, a tar/cpio archive, a squashfs or an ext2/3/4 image, by magic (audit.h) */
    aud_image *img = NULL;
    if (aud_image_open(target, NULL, &img, err, sizeof err) != 0) {
        host_err("sbom: cannot read target %s: %s", target, err);
        sbom_feed_free(feed);
        return HOST_EXIT_USAGE;
    }
    sbom_fs fs;
    sbom_fs_image(&fs, img);
    sbom_result res;
    sbom_options opt = { .no_banners = no_banners };
    rc = sbom_scan(&fs, feed, &opt, &res, err, sizeof err);
    aud_image_close(img);
    sbom_feed_free(feed);
    if (rc != 0) {
        host_err("sbom: reading %s: %s", target, err);
        return HOST_EXIT_USAGE;
    }
    char ts[32];
    timestamp(ts, sizeof ts);
    char *json = sbom_cyclonedx(&res, base(target), NULL, ts[0] ? ts : NULL, fs38_version());
    if (!json) {
        host_err("sbom: out of memory writing the BOM");
        sbom_result_free(&res);
        return HOST_EXIT_USAGE;
    }
    host_out o;
    host_out_init(&o);
    int i = host_out_add(&o, out, 0644, false);
    if (i < 0 || host_out_write(&o, i, json, strlen(json)) != 0 || host_out_commit(&o) != 0) {
        free(json);
        sbom_result_free(&res);
        return HOST_EXIT_USAGE;
    }
    free(json);
    printf("sbom: %s: %zu components, %zu vulnerabilities (%zu affected, %zu unknown; %zu not affected: fixed "
           "by the distribution) -> %s\n",
           target, res.n_comp, res.n_affected + res.n_unknown, res.n_affected, res.n_unknown, res.n_not_affected,
           out);
    sbom_result_free(&res);
    return HOST_EXIT_OK;
}
