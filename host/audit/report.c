/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report.c — the assessor's report: 14 controls, each with a verdict decided from its evidence,
 * and its outputs (terminal table + evidence, JSON, SARIF 2.1.0, self-contained HTML).
 *
 * Verdict rule: any finding of severity >= medium -> FAIL; otherwise a pass reason (severity info)
 * -> PASS; warnings only (low) or no evidence -> the control's "empty" verdict (UNKNOWN or
 * NOT-APPLICABLE, e.g. no radio at all); a control no check of this version assessed -> UNKNOWN
 * "not assessed by this version".
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

static const char *const titles[AUD_CONTROLS] = {
    "No universal default passwords",
    "Secure boot",
    "Signed and encrypted OTA updates",
    "TLS / DTLS for every connection",
    "Minimal attack surface",
    "Keys in tamper-resistant storage",
    "Security logging with secure export",
    "Unique device authentication",
    "Resilience against malformed input",
    "Wireless security",
    "Privacy",
    "Secure decommissioning",
    "Vulnerability disclosure contact and patch timeline",
    "SBOM with CVE tracking",
};

const char *aud_control_title(int id) { return id >= 1 && id <= AUD_CONTROLS ? titles[id - 1] : "?"; }

const char *aud_verdict_name(aud_verdict v)
{
    static const char *const n[] = { "PASS", "FAIL", "UNKNOWN", "NOT-APPLICABLE" };
    return n[v];
}

const char *aud_sev_name(aud_sev s)
{
    static const char *const n[] = { "info", "low", "medium", "high", "critical" };
    return n[s];
}

void aud_report_init(aud_report *r, const char *target, const char *version, const char *date)
{
    memset(r, 0, sizeof *r);
    r->target = target;
    r->tool_version = version;
    snprintf(r->date, sizeof r->date, "%s", date);
    if (sscanf(date, "%4d-%2d-%2d", &r->year, &r->month, &r->day) != 3) {
        r->year = 1970;
        r->month = 1;
        r->day = 1;
    }
    for (int i = 0; i < AUD_CONTROLS; i++) {
        r->c[i].id = i + 1;
        r->c[i].title = titles[i];
        r->c[i].verdict = AUD_V_UNKNOWN;
        r->c[i].when_empty = AUD_V_UNKNOWN;
    }
}

void aud_report_free(aud_report *r)
{
    for (int i = 0; i < AUD_CONTROLS; i++) {
        for (size_t k = 0; k < r->c[i].n_ev; k++) {
            aud_evidence *e = &r->c[i].ev[k];
            free(e->path);
            free(e->rule);
            free(e->provision);
            free(e->finding);
        }
        free(r->c[i].ev);
        r->c[i].ev = NULL;
        r->c[i].n_ev = 0;
    }
}

void aud_assessed(aud_report *r, int id, aud_verdict empty, const char *summary)
{
    aud_control *c = &r->c[id - 1];
    c->assessed = true;
    c->when_empty = empty;
    snprintf(c->empty_summary, sizeof c->empty_summary, "%s", summary);
}

void aud_add(aud_report *r, int id, const char *path, unsigned line, const char *rule, const char *provision,
             aud_sev sev, const char *fmt, ...)
{
    if (id < 1 || id > AUD_CONTROLS)
        return;
    aud_control *c = &r->c[id - 1];
    if (c->n_ev >= 100000)
        return;
    if (c->n_ev == c->cap_ev) {
        size_t nc = c->cap_ev ? c->cap_ev * 2 : 8;
        aud_evidence *ne = realloc(c->ev, nc * sizeof *ne);
        if (!ne) {
            r->oom = true;
            return;
        }
        c->ev = ne;
        c->cap_ev = nc;
    }
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    aud_evidence *e = &c->ev[c->n_ev];
    e->path = strdup(path ? path : "");
    e->rule = strdup(rule);
    e->provision = strdup(provision);
    e->finding = strdup(buf);
    e->line = line;
    e->sev = sev;
    if (!e->path || !e->rule || !e->provision || !e->finding) {
        free(e->path);
        free(e->rule);
        free(e->provision);
        free(e->finding);
        r->oom = true;
        return;
    }
    c->n_ev++;
}

void aud_report_finish(aud_report *r)
{
    for (int i = 0; i < AUD_CONTROLS; i++) {
        aud_control *c = &r->c[i];
        if (!c->assessed && c->n_ev == 0) {
            c->verdict = AUD_V_UNKNOWN;
            snprintf(c->summary, sizeof c->summary, "not assessed by this version");
            continue;
        }
        size_t fails = 0, warns = 0, passes = 0;
        for (size_t k = 0; k < c->n_ev; k++) {
            if (c->ev[k].sev >= AUD_FAIL_SEV)
                fails++;
            else if (c->ev[k].sev == AUD_LOW)
                warns++;
            else
                passes++;
        }
        if (fails) {
            c->verdict = AUD_V_FAIL;
            snprintf(c->summary, sizeof c->summary, "%zu finding%s, %zu warning%s", fails, fails == 1 ? "" : "s",
                     warns, warns == 1 ? "" : "s");
        } else if (passes) {
            c->verdict = AUD_V_PASS;
            snprintf(c->summary, sizeof c->summary, "no finding; %zu pass reason%s, %zu warning%s", passes,
                     passes == 1 ? "" : "s", warns, warns == 1 ? "" : "s");
        } else if (warns) {
            /* warnings alone do not show that the control is met */
            c->verdict = c->when_empty;
            snprintf(c->summary, sizeof c->summary, "%zu warning%s, no evidence that the control is met", warns,
                     warns == 1 ? "" : "s");
        } else {
            c->verdict = c->when_empty;
            snprintf(c->summary, sizeof c->summary, "%s", c->empty_summary[0] ? c->empty_summary : "nothing found");
        }
    }
}

int aud_report_exit(const aud_report *r)
{
    for (int i = 0; i < AUD_CONTROLS; i++)
        if (r->c[i].verdict == AUD_V_FAIL)
            return 1;
    return 0;
}

/* The evidence item shown in the table: the first of the highest severity. */
static const aud_evidence *first_ev(const aud_control *c)
{
    const aud_evidence *best = NULL;
    for (size_t k = 0; k < c->n_ev; k++)
        if (!best || c->ev[k].sev > best->sev)
            best = &c->ev[k];
    return best;
}

static void ev_location(const aud_evidence *e, char *out, size_t len)
{
    if (e->line)
        snprintf(out, len, "%s:%u", e->path[0] ? e->path : "(image)", e->line);
    else
        snprintf(out, len, "%s", e->path[0] ? e->path : "(image)");
}

void aud_write_table(const aud_report *r, FILE *f)
{
    fprintf(f, "fs38 audit %s (%s)\n\n", r->target, r->date);
    fprintf(f, "%-3s %-52s %-15s %s\n", "#", "control", "verdict", "evidence");
    for (int i = 0; i < AUD_CONTROLS; i++) {
        const aud_control *c = &r->c[i];
        const aud_evidence *e = first_ev(c);
        char loc[600] = "";
        if (e)
            ev_location(e, loc, sizeof loc);
        fprintf(f, "%-3d %-52s %-15s ", c->id, c->title, aud_verdict_name(c->verdict));
        if (e)
            fprintf(f, "%s: %s\n", loc, e->finding);
        else
            fprintf(f, "%s\n", c->summary);
    }
    fprintf(f, "\nevidence:\n");
    for (int i = 0; i < AUD_CONTROLS; i++) {
        const aud_control *c = &r->c[i];
        fprintf(f, "\n%d. %s: %s (%s)\n", c->id, c->title, aud_verdict_name(c->verdict), c->summary);
        for (size_t k = 0; k < c->n_ev; k++) {
            const aud_evidence *e = &c->ev[k];
            char loc[600];
            ev_location(e, loc, sizeof loc);
            fprintf(f, "  [%-8s] %-9s %s: %s (ETSI EN 303 645 %s)\n", aud_sev_name(e->sev), e->rule, loc, e->finding,
                    e->provision);
        }
    }
}

/* ---- a growable string ----------------------------------------------------------------------- */

typedef struct sbuf { char *p; size_t n, cap; bool oom; } sbuf;

static void sb_put(sbuf *s, const char *t, size_t n)
{
    if (s->oom)
        return;
    if (s->n + n + 1 > s->cap) {
        size_t nc = s->cap ? s->cap : 4096;
        while (nc < s->n + n + 1)
            nc *= 2;
        char *np = realloc(s->p, nc);
        if (!np) {
            s->oom = true;
            return;
        }
        s->p = np;
        s->cap = nc;
    }
    memcpy(s->p + s->n, t, n);
    s->n += n;
    s->p[s->n] = 0;
}
static void sb_s(sbuf *s, const char *t) { sb_put(s, t, strlen(t)); }
static void sb_f(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_f(sbuf *s, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_put(s, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}
/* JSON string (quoted); bytes >= 0x80 are passed through when valid UTF-8 is not guaranteed:
 * they are escaped as \u00XX of the byte (so output is always valid JSON / UTF-8). */
static void sb_json(sbuf *s, const char *t)
{
    sb_s(s, "\"");
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char b[3] = { '\\', (char)*p, 0 };
            sb_s(s, b);
        } else if (*p == '\n') {
            sb_s(s, "\\n");
        } else if (*p == '\t') {
            sb_s(s, "\\t");
        } else if (*p < 0x20 || *p >= 0x7f) {
            sb_f(s, "\\u%04x", *p);
        } else {
            sb_put(s, (const char *)p, 1);
        }
    }
    sb_s(s, "\"");
}
static void sb_html(sbuf *s, const char *t)
{
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
        switch (*p) {
        case '<': sb_s(s, "&lt;"); break;
        case '>': sb_s(s, "&gt;"); break;
        case '&': sb_s(s, "&amp;"); break;
        case '"': sb_s(s, "&quot;"); break;
        case '\'': sb_s(s, "&#39;"); break;
        default:
            if (*p < 0x20 || *p >= 0x7f)
                sb_f(s, "&#%u;", *p < 0x20 ? 0xfffdu : (unsigned)*p);
            else
                sb_put(s, (const char *)p, 1);
        }
    }
}
static char *sb_done(sbuf *s)
{
    if (s->oom) {
        free(s->p);
        return NULL;
    }
    return s->p;
}

char *aud_json(const aud_report *r)
{
    sbuf s = { 0 };
    sb_s(&s, "{\"tool\":\"fs38\",\"version\":");
    sb_json(&s, r->tool_version);
    sb_s(&s, ",\"target\":");
    sb_json(&s, r->target);
    sb_s(&s, ",\"date\":");
    sb_json(&s, r->date);
    sb_s(&s, ",\"controls\":[");
    for (int i = 0; i < AUD_CONTROLS; i++) {
        const aud_control *c = &r->c[i];
        sb_f(&s, "%s{\"id\":%d,\"title\":", i ? "," : "", c->id);
        sb_json(&s, c->title);
        sb_f(&s, ",\"verdict\":\"%s\",\"summary\":", aud_verdict_name(c->verdict));
        sb_json(&s, c->summary);
        sb_s(&s, ",\"evidence\":[");
        for (size_t k = 0; k < c->n_ev; k++) {
            const aud_evidence *e = &c->ev[k];
            sb_s(&s, k ? ",{\"path\":" : "{\"path\":");
            sb_json(&s, e->path);
            if (e->line)
                sb_f(&s, ",\"line\":%u", e->line);
            sb_s(&s, ",\"rule\":");
            sb_json(&s, e->rule);
            sb_f(&s, ",\"severity\":\"%s\",\"finding\":", aud_sev_name(e->sev));
            sb_json(&s, e->finding);
            sb_s(&s, "}");
        }
        sb_s(&s, "]}");
    }
    sb_f(&s, "],\"components\":%zu,\"vulnerabilities\":%zu}\n", r->components, r->vulnerabilities);
    return sb_done(&s);
}

static const char *sarif_level(aud_sev s)
{
    return s >= AUD_HIGH ? "error" : s >= AUD_MEDIUM ? "warning" : "note";
}

char *aud_sarif(const aud_report *r)
{
    sbuf s = { 0 };
    sb_s(&s, "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\",\"runs\":[{"
             "\"tool\":{\"driver\":{\"name\":\"fs38\",\"version\":");
    sb_json(&s, r->tool_version);
    sb_s(&s, ",\"informationUri\":\"https://github.com/fs38/fs38\",\"rules\":[");
    /* one rule per check (rule id, e.g. FS38-1.2) that produced a result, in order of appearance */
    size_t n_all = 0;
    for (int i = 0; i < AUD_CONTROLS; i++)
        n_all += r->c[i].n_ev;
    const aud_evidence **rules = calloc(n_all ? n_all : 1u, sizeof *rules);
    int *rule_ctl = calloc(n_all ? n_all : 1u, sizeof *rule_ctl);
    size_t n_rules = 0;
    if (!rules || !rule_ctl)
        s.oom = true;
    for (int i = 0; rules && rule_ctl && i < AUD_CONTROLS; i++) {
        const aud_control *c = &r->c[i];
        for (size_t k = 0; k < c->n_ev; k++) {
            const aud_evidence *e = &c->ev[k];
            if (e->sev == AUD_INFO)
                continue;
            size_t j = 0;
            while (j < n_rules && strcmp(rules[j]->rule, e->rule) != 0)
                j++;
            if (j < n_rules)
                continue;
            rules[n_rules] = e;
            rule_ctl[n_rules] = c->id;
            sb_f(&s, "%s{\"id\":", n_rules ? "," : "");
            sb_json(&s, e->rule);
            sb_s(&s, ",\"shortDescription\":{\"text\":");
            char text[400];
            snprintf(text, sizeof text, "control %d (%s), ETSI EN 303 645 %s", c->id, c->title, e->provision);
            sb_json(&s, text);
            sb_f(&s, "},\"properties\":{\"control\":%d,\"verdict\":\"%s\"}}", c->id, aud_verdict_name(c->verdict));
            n_rules++;
        }
    }
    sb_s(&s, "]}},\"originalUriBaseIds\":{\"IMAGEROOT\":{\"description\":{\"text\":\"root of the audited image\"}}},"
             "\"results\":[");
    bool first = true;
    for (int i = 0; i < AUD_CONTROLS; i++) {
        const aud_control *c = &r->c[i];
        for (size_t k = 0; k < c->n_ev; k++) {
            const aud_evidence *e = &c->ev[k];
            if (e->sev == AUD_INFO)
                continue;
            size_t ri = 0;
            while (rules && ri < n_rules && strcmp(rules[ri]->rule, e->rule) != 0)
                ri++;
            sb_f(&s, "%s{\"ruleId\":", first ? "" : ",");
            sb_json(&s, e->rule);
            sb_f(&s, ",\"ruleIndex\":%zu,\"level\":\"%s\",\"message\":{\"text\":", ri, sarif_level(e->sev));
            first = false;
            char msg[1400];
            snprintf(msg, sizeof msg, "%s: %s (ETSI EN 303 645 %s)", e->rule, e->finding, e->provision);
            sb_json(&s, msg);
            sb_s(&s, "}");
            if (e->path[0]) {
                sb_s(&s, ",\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":");
                /* a relative URI reference: percent-encode what is not unreserved or '/' */
                sbuf u = { 0 };
                for (const unsigned char *p = (const unsigned char *)e->path; *p; p++) {
                    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                        strchr("-._~/", *p))
                        sb_put(&u, (const char *)p, 1);
                    else
                        sb_f(&u, "%%%02X", *p);
                }
                sb_json(&s, u.p ? u.p : "");
                free(u.p);
                if (u.oom)
                    s.oom = true;
                sb_s(&s, ",\"uriBaseId\":\"IMAGEROOT\"}");
                if (e->line)
                    sb_f(&s, ",\"region\":{\"startLine\":%u}", e->line);
                sb_s(&s, "}}]");
            }
            sb_f(&s, ",\"properties\":{\"fs38Rule\":\"%s\",\"severity\":\"%s\",\"etsi\":", e->rule, aud_sev_name(e->sev));
            sb_json(&s, e->provision);
            sb_s(&s, "}}");
        }
    }
    free(rules);
    free(rule_ctl);
    sb_s(&s, "]}]}\n");
    return sb_done(&s);
}

static const char *verdict_colour(aud_verdict v)
{
    static const char *const col[] = { "#2e7d32", "#c62828", "#9e9e9e", "#1565c0" };
    return col[v];
}

char *aud_html(const aud_report *r)
{
    sbuf s = { 0 };
    sb_s(&s, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>fs38 audit: ");
    sb_html(&s, r->target);
    sb_s(&s, "</title>\n<style>\nbody{font-family:sans-serif;margin:2em;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;"
             "text-align:left;vertical-align:top}.v{color:#fff;font-weight:bold;padding:.1em .4em;border-radius:3px}"
             ".sev-critical,.sev-high{color:#c62828}.sev-medium{color:#ef6c00}.sev-low{color:#f9a825}"
             ".sev-info{color:#2e7d32}code{font-size:90%}\n</style></head><body>\n<h1>fs38 audit</h1>\n<p>Target <code>");
    sb_html(&s, r->target);
    sb_f(&s, "</code>, date %s, fs38 ", r->date);
    sb_html(&s, r->tool_version);
    sb_s(&s, "</p>\n");
    /* per-control chart: one bar per control, coloured by verdict, height by number of findings */
    int w = 40, gap = 10, hmax = 120;
    size_t maxn = 1;
    for (int i = 0; i < AUD_CONTROLS; i++)
        if (r->c[i].n_ev > maxn)
            maxn = r->c[i].n_ev;
    sb_f(&s, "<svg width=\"%d\" height=\"%d\" role=\"img\" "
             "aria-label=\"verdict per control\">\n", AUD_CONTROLS * (w + gap) + gap, hmax + 50);
    for (int i = 0; i < AUD_CONTROLS; i++) {
        const aud_control *c = &r->c[i];
        int h = 20 + (int)((size_t)(hmax - 20) * c->n_ev / maxn);
        int x = gap + i * (w + gap);
        sb_f(&s, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>%d %s: %s</title></rect>"
                 "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">%d</text>\n",
             x, 10 + hmax - h, w, h, verdict_colour(c->verdict), c->id, c->title, aud_verdict_name(c->verdict),
             x + w / 2, hmax + 28, c->id);
    }
    sb_s(&s, "</svg>\n<p>");
    for (int v = 0; v < 4; v++)
        sb_f(&s, "<span class=\"v\" style=\"background:%s\">%s</span> ", verdict_colour((aud_verdict)v),
             aud_verdict_name((aud_verdict)v));
    sb_s(&s, "</p>\n<h2>Controls</h2>\n<table><tr><th>#</th><th>control</th><th>verdict</th><th>summary</th></tr>\n");
    for (int i = 0; i < AUD_CONTROLS; i++) {
        const aud_control *c = &r->c[i];
        sb_f(&s, "<tr><td>%d</td><td><a href=\"#c%d\">%s</a></td><td><span class=\"v\" style=\"background:%s\">%s</span>"
                 "</td><td>",
             c->id, c->id, c->title, verdict_colour(c->verdict), aud_verdict_name(c->verdict));
        sb_html(&s, c->summary);
        sb_s(&s, "</td></tr>\n");
    }
    sb_s(&s, "</table>\n<h2>SBOM</h2>\n");
    sb_f(&s, "<p>%zu components, %zu vulnerabilities.</p>\n<h2>Evidence</h2>\n", r->components, r->vulnerabilities);
    for (int i = 0; i < AUD_CONTROLS; i++) {
        const aud_control *c = &r->c[i];
        sb_f(&s, "<h3 id=\"c%d\">%d. %s: %s</h3>\n", c->id, c->id, c->title, aud_verdict_name(c->verdict));
        if (!c->n_ev) {
            sb_s(&s, "<p>");
            sb_html(&s, c->summary);
            sb_s(&s, "</p>\n");
            continue;
        }
        sb_s(&s, "<table><tr><th>severity</th><th>rule</th><th>ETSI</th><th>where</th><th>finding</th></tr>\n");
        for (size_t k = 0; k < c->n_ev; k++) {
            const aud_evidence *e = &c->ev[k];
            char loc[600];
            ev_location(e, loc, sizeof loc);
            sb_f(&s, "<tr><td class=\"sev-%s\">%s</td><td>", aud_sev_name(e->sev), aud_sev_name(e->sev));
            sb_html(&s, e->rule);
            sb_s(&s, "</td><td>");
            sb_html(&s, e->provision);
            sb_s(&s, "</td><td><code>");
            sb_html(&s, loc);
            sb_s(&s, "</code></td><td>");
            sb_html(&s, e->finding);
            sb_s(&s, "</td></tr>\n");
        }
        sb_s(&s, "</table>\n");
    }
    sb_s(&s, "</body></html>\n");
    return sb_done(&s);
}
