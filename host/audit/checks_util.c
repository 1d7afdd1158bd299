/* SPDX-License-Identifier: Apache-2.0 */
/* checks_util.c — helpers shared by the checks, and the order they run in. */
#include "audit.h"

#include <stdlib.h>
#include <string.h>



void aud_lines_init(aud_lines *it, const uint8_t *buf, size_t len)
{
    it->p = (const char *)buf;
    it->end = (const char *)buf + len;
    it->no = 0;
}

bool aud_lines_next(aud_lines *it, const char **line, size_t *len)
{
    if (it->p >= it->end)
        return false;
    const char *s = it->p;
    const char *nl = memchr(s, '\n', (size_t)(it->end - s));
    const char *e = nl ? nl : it->end;
    it->p = nl ? nl + 1 : it->end;
    if (e > s && e[-1] == '\r')
        e--;
    it->no++;
    *line = s;
    *len = (size_t)(e - s);
    return true;
}

const char *aud_trim(const char *l, size_t *n)
{
    while (*n && (*l == ' ' || *l == '\t'))
        l++, (*n)--;
    while (*n && (l[*n - 1] == ' ' || l[*n - 1] == '\t'))
        (*n)--;
    return l;
}

bool aud_lines_next_setting(aud_lines *it, const char **line, size_t *len)
{
    while (aud_lines_next(it, line, len)) {
        *line = aud_trim(*line, len);
        if (*len && (*line)[0] != '#')
            return true;
    }
    return false;
}

int aud_read_path(aud_ctx *ctx, const char *path, size_t max, uint8_t **buf, size_t *len)
{
    const aud_entry *e = aud_image_lookup(ctx->img, path, true, NULL, 0);
    if (!e)
        return -1;
    return aud_image_read(ctx->img, e, max, buf, len, NULL, 0);
}

bool aud_has_prefix(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

bool aud_has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

const char *aud_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

void aud_run_checks(aud_ctx *ctx)
{
    static const struct { const char *what; void (*fn)(aud_ctx *); } steps[] = {
        { "accounts", aud_check_accounts },
        { "boot", aud_check_boot },
        { "update", aud_check_update },
        { "communication", aud_check_comms },
        { "services", aud_check_services },
        { "keys", aud_check_keys },
        { "identity", aud_check_identity },
        { "ELF hardening", aud_check_elf },
        { "disclosure", aud_check_disclosure },
    };
    size_t n = sizeof steps / sizeof steps[0];
    for (size_t i = 0; i < n; i++) {
        if (ctx->progress)
            ctx->progress(ctx->progress_arg, steps[i].what, i, n + 1);
        steps[i].fn(ctx);
    }
    /* control 14 and the SBOM figures: the SBOM side (host/audit/sbom*.c) sets the hook */
    if (ctx->progress)
        ctx->progress(ctx->progress_arg, "components", n, n + 1);
    if (aud_sbom_hook)
        aud_sbom_hook(ctx);
    if (ctx->progress)
        ctx->progress(ctx->progress_arg, "done", n + 1, n + 1);
}
