/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_disclosure.c — control 13 (ETSI EN 303 645 5.2-1 vulnerability disclosure policy, 5.3-13
 * defined support period).
 *
 * security.txt (RFC 9116) wherever the image serves or ships it (any file named security.txt,
 * normally .well-known/security.txt under a web root): Contact and Expires are required, Expires
 * (an RFC 3339 date-time) is compared with the report date (--date). os-release SUPPORT_END
 * (YYYY-MM-DD) gives the support period.
 * Rules: FS38-13.1 security.txt valid (pass) / expired, without Expires or Contact (medium);
 * FS38-13.2 no security.txt or SECURITY contact in the image (medium); FS38-13.3 SUPPORT_END
 * passed (high), present (pass), absent (low).
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* YYYY-MM-DD at s -> days-comparable integer, or -1 */
static long ymd(const char *s, size_t n)
{
    if (n < 10)
        return -1;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return -1;
    long y = atol(s), m = atol(s + 5), d = atol(s + 8);
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    return y * 10000 + m * 100 + d;
}

static void security_txt(aud_ctx *ctx, const aud_entry *e, long today, size_t *valid)
{
    uint8_t *buf;
    size_t len;
    if (aud_image_read(ctx->img, e, 65536, &buf, &len, NULL, 0) != 0)
        return;
    aud_lines it;
    aud_lines_init(&it, buf, len);
    const char *l;
    size_t n;
    unsigned contact = 0, expires = 0;
    long exp = -1;
    while (aud_lines_next(&it, &l, &n)) {
        if (n > 8 && strncasecmp(l, "Contact:", 8) == 0 && !contact)
            contact = it.no;
        if (n > 8 && strncasecmp(l, "Expires:", 8) == 0 && !expires) {
            expires = it.no;
            const char *v = l + 8;
            size_t vn = n - 8;
            while (vn && *v == ' ')
                v++, vn--;
            exp = ymd(v, vn);
        }
    }
    free(buf);
    if (!contact)
        aud_add(ctx->r, 13, e->path, 0, "FS38-13.1", "5.2-1", AUD_MEDIUM, "security.txt without a Contact field (RFC 9116 2.5.3)");
    if (!expires || exp < 0)
        aud_add(ctx->r, 13, e->path, expires, "FS38-13.1", "5.2-1", AUD_MEDIUM,
                "security.txt without a valid Expires field (RFC 9116 2.5.5)");
    else if (exp < today)
        aud_add(ctx->r, 13, e->path, expires, "FS38-13.1", "5.2-1", AUD_MEDIUM,
                "security.txt expired on %04ld-%02ld-%02ld (report date %ld-%02ld-%02ld)", exp / 10000, exp / 100 % 100,
                exp % 100, today / 10000, today / 100 % 100, today % 100);
    else if (contact) {
        (*valid)++;
        aud_add(ctx->r, 13, e->path, contact, "FS38-13.1", "5.2-1", AUD_INFO,
                "security.txt with a Contact, valid until %04ld-%02ld-%02ld", exp / 10000, exp / 100 % 100, exp % 100);
    }
}

void aud_check_disclosure(aud_ctx *ctx)
{
    long today = (long)ctx->r->year * 10000 + ctx->r->month * 100 + ctx->r->day;
    size_t found = 0, valid = 0;
    for (size_t i = 0; i < aud_image_count(ctx->img); i++) {
        const aud_entry *e = aud_image_entry(ctx->img, i);
        if (e->type == AUD_REG && strcasecmp(aud_basename(e->path), "security.txt") == 0) {
            found++;
            security_txt(ctx, e, today, &valid);
        }
    }
    if (!found)
        aud_add(ctx->r, 13, "", 0, "FS38-13.2", "5.2-1", AUD_MEDIUM,
                "no security.txt (RFC 9116) or vulnerability-reporting contact in the image");
    static const char *const osr[] = { "etc/os-release", "usr/lib/os-release" };
    bool support = false;
    for (size_t k = 0; k < 2 && !support; k++) {
        uint8_t *buf;
        size_t len;
        if (aud_read_path(ctx, osr[k], 65536, &buf, &len) != 0)
            continue;
        aud_lines it;
        aud_lines_init(&it, buf, len);
        const char *l;
        size_t n;
        while (aud_lines_next(&it, &l, &n)) {
            if (n < 12 || memcmp(l, "SUPPORT_END=", 12) != 0)
                continue;
            const char *v = l + 12;
            size_t vn = n - 12;
            if (vn && (*v == '"' || *v == '\'')) {
                v++;
                vn--;
            }
            long d = ymd(v, vn);
            support = true;
            if (d < 0)
                aud_add(ctx->r, 13, osr[k], it.no, "FS38-13.3", "5.3-13", AUD_LOW, "SUPPORT_END is not a date: %.*s",
                        (int)n, l);
            else if (d < today)
                aud_add(ctx->r, 13, osr[k], it.no, "FS38-13.3", "5.3-13", AUD_HIGH,
                        "support period ended (SUPPORT_END %.10s): no more security updates", v);
            else
                aud_add(ctx->r, 13, osr[k], it.no, "FS38-13.3", "5.3-13", AUD_INFO, "security support until %.10s", v);
            break;
        }
        free(buf);
    }
    if (!support)
        aud_add(ctx->r, 13, "", 0, "FS38-13.3", "5.3-13", AUD_LOW, "no published support period (os-release SUPPORT_END)");
    aud_assessed(ctx->r, 13, AUD_V_UNKNOWN, "");
}
