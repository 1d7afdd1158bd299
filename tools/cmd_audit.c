/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_audit.c — `fs38 audit TARGET [--json] [--sarif FILE] [--html FILE] [--cve-feed FILE]...
 *                               [--trust-anchor PUB.pem]... [--date YYYY-MM-DD] [--max-file BYTES]
 *                               [--max-total BYTES]`
 *
 * Assesses a firmware root filesystem (directory, tar/cpio, squashfs, ext2/3/4 image; nothing is
 * extracted) against the 14 controls (host/audit/). Output: a table and the evidence on stdout
 * (or one JSON object with --json); --sarif / --html files are written all or nothing.
 * Exit 0: no control FAILs; 1: at least one FAILs; 2: usage or unreadable input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cmds.h"
#include "fs38/boot.h"
#include "host.h"

#define MAX_FEEDS 64

void usage_audit(int to_stderr)
{
    fprintf(to_stderr ? stderr : stdout,
            "usage: fs38 audit TARGET [--json] [--sarif FILE] [--html FILE] [--cve-feed FILE]...\n"
            "                  [--trust-anchor PUB.pem]... [--date YYYY-MM-DD] [--max-file BYTES]\n"
            "                  [--max-total BYTES]\n"
            "  Assess a firmware root filesystem against the 14 controls: PASS / FAIL / UNKNOWN /\n"
            "  NOT-APPLICABLE per control with its evidence (file, line, rule, finding).\n"
            "  TARGET: a directory, a tar (plain, gz, xz, zstd, bz2) or cpio archive, a squashfs or an\n"
            "  ext2/3/4 image (detected by magic; read in place, never extracted).\n"
            "  --json           one JSON object on stdout instead of the table\n"
            "  --sarif FILE     SARIF 2.1.0 results (one rule per control)\n"
            "  --html FILE      a self-contained HTML report\n"
            "  --cve-feed FILE  offline NVD CVE API 2.0 / OSV JSON feed (repeatable; control 14)\n"
            "  --trust-anchor PUB.pem\n"
            "                   a P-256 public key (PEM/DER) that SUIT envelopes and MCUboot images\n"
            "                   in the image must be signed by (repeatable, at most 8; control 2)\n"
            "  --date D         'today' for expiry checks (default: the current UTC date)\n"
            "  --max-file N     bytes of one file read at most (default 64 MiB)\n"
            "  --max-total N    uncompressed bytes read in all (default 1 GiB; decompression bombs)\n"
            "  exit status: 0 no control FAILs, 1 at least one FAILs, 2 usage or unreadable input.\n");
}

static bool valid_date(const char *d)
{
    if (strlen(d) != 10 || d[4] != '-' || d[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
            return false;
    int y = atoi(d), m = atoi(d + 5), day = atoi(d + 8);
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1970 || m < 1 || m > 12 || day < 1 || day > mdays[m - 1])
        return false;
    if (m == 2 && day == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return false;
    return true;
}

typedef struct progress { bool on; size_t last; } progress;

static void show_progress(void *arg, const char *what, size_t done, size_t total)
{
    progress *p = arg;
    if (!p->on || !total)
        return;
    size_t pct = done * 100 / total;
    if (pct == p->last && done != total)
        return;
    p->last = pct;
    char bar[31];
    size_t fill = pct * 30 / 100;
    for (size_t i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : ' ';
    bar[30] = 0;
    fprintf(stderr, "\r[%s] %3zu%% %-24.24s", bar, pct, what);
    if (done == total)
        fprintf(stderr, "\r%60s\r", "");
}

int cmd_audit(int argc, char **argv)
{
    const char *sarif = NULL, *html = NULL, *date = NULL, *max_file = NULL, *max_total = NULL;
    const char *feeds[MAX_FEEDS];
    size_t n_feeds = 0;
    const char *anchor_files[AUD_MAX_ANCHORS];
    size_t n_anchors = 0;
    bool json = false;
    const host_opt opts[] = {
        { .name = "--json", .flag = &json },
        { .name = "--sarif", .value = &sarif },
        { .name = "--html", .value = &html },
        { .name = "--cve-feed", .list = feeds, .count = &n_feeds, .max = MAX_FEEDS },
        { .name = "--trust-anchor", .list = anchor_files, .count = &n_anchors, .max = AUD_MAX_ANCHORS },
        { .name = "--date", .value = &date },
        { .name = "--max-file", .value = &max_file },
        { .name = "--max-total", .value = &max_total },
        { .name = NULL },
    };
    const char *pos[2];
    size_t n_pos = 0;
    int pr = host_parse_args(argc, argv, opts, pos, 2, &n_pos);
    if (pr == 1) {
        usage_audit(0);
        return HOST_EXIT_OK;
    }
    if (pr != 0 || n_pos != 1) {
        if (pr == 0)
            host_err("audit: %s", n_pos ? "exactly one TARGET expected" : "missing TARGET");
        usage_audit(1);
        return HOST_EXIT_USAGE;
    }
    char today[11];
    if (date) {
        if (!valid_date(date)) {
            host_err("audit --date: invalid value '%s': expected a date YYYY-MM-DD", date);
            return HOST_EXIT_USAGE;
        }
    } else {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(today, sizeof today, "%Y-%m-%d", &tm);
        date = today;
    }
    aud_limits lim = { 0 };
    uint64_t v;
    if (max_file) {
        if (host_parse_u64("audit --max-file", max_file, 1, UINT64_C(1) << 40, 0, &v) != 0)
            return HOST_EXIT_USAGE;
        lim.max_file = v;
    }
    if (max_total) {
        if (host_parse_u64("audit --max-total", max_total, 1, UINT64_C(1) << 44, 0, &v) != 0)
            return HOST_EXIT_USAGE;
        lim.max_total = v;
    }
    for (size_t i = 0; i < n_feeds; i++)
        if (access(feeds[i], R_OK) != 0) {
            host_err("audit --cve-feed %s: cannot read", feeds[i]);
            return HOST_EXIT_USAGE;
        }
    uint8_t anchors[AUD_MAX_ANCHORS][AUD_ANCHOR_LEN];
    if (n_anchors && host_psa_init())
        return HOST_EXIT_USAGE;
    for (size_t i = 0; i < n_anchors; i++)
        if (host_load_public_point(anchor_files[i], anchors[i])) {
            host_err("audit --trust-anchor %s: not a usable P-256 public key", anchor_files[i]);
            return HOST_EXIT_USAGE;
        }
    /* outputs are checked (and their temporaries created) before anything is read */
    host_out out;
    host_out_init(&out);
    int i_sarif = -1, i_html = -1;
    if (sarif && (i_sarif = host_out_add(&out, sarif, 0644, false)) < 0)
        return HOST_EXIT_USAGE;
    if (html && (i_html = host_out_add(&out, html, 0644, false)) < 0)
        return HOST_EXIT_USAGE;

    char err[512] = "";
    aud_image *img = NULL;
    if (aud_image_open(pos[0], &lim, &img, err, sizeof err) != 0) {
        host_err("audit: %s", err);
        host_out_abort(&out);
        return HOST_EXIT_USAGE;
    }
    if (n_feeds && !aud_sbom_hook)
        host_err("audit: warning: --cve-feed given, but this build has no component/CVE matching (control 14 stays UNKNOWN)");
    for (size_t i = 0; i < aud_image_note_count(img); i++)
        host_err("audit: warning: %s", aud_image_note(img, i));

    aud_report r;
    aud_report_init(&r, pos[0], fs38_version(), date);
    progress pg = { .on = isatty(STDERR_FILENO) != 0, .last = (size_t)-1 };
    aud_ctx ctx = { .img = img, .r = &r, .cve_feeds = feeds, .n_cve_feeds = n_feeds,
                    .progress = show_progress, .progress_arg = &pg,
                    .anchors = anchors, .anchor_names = anchor_files, .n_anchors = n_anchors };
    aud_run_checks(&ctx);
    aud_report_finish(&r);
    int rc = aud_report_exit(&r);
    if (r.oom) {
        host_err("audit: out of memory");
        rc = HOST_EXIT_USAGE;
        goto done;
    }
    if (json) {
        char *j = aud_json(&r);
        if (!j) {
            host_err("audit: out of memory");
            rc = HOST_EXIT_USAGE;
            goto done;
        }
        fputs(j, stdout);
        free(j);
    } else {
        aud_write_table(&r, stdout);
    }
    if (fflush(stdout) != 0) {
        host_err("audit: cannot write the report to stdout");
        rc = HOST_EXIT_USAGE;
        goto done;
    }
    if (i_sarif >= 0 || i_html >= 0) {
        char *sa = i_sarif >= 0 ? aud_sarif(&r) : NULL;
        char *ht = i_html >= 0 ? aud_html(&r) : NULL;
        if ((i_sarif >= 0 && !sa) || (i_html >= 0 && !ht) ||
            (sa && host_out_write(&out, i_sarif, sa, strlen(sa)) != 0) ||
            (ht && host_out_write(&out, i_html, ht, strlen(ht)) != 0) || host_out_commit(&out) != 0) {
            host_err("audit: reports not written");
            rc = HOST_EXIT_USAGE;
        }
        free(sa);
        free(ht);
    }
done:
    host_out_abort(&out);
    aud_report_free(&r);
    aud_image_close(img);
    return rc;
}
