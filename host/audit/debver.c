/* SPDX-License-Identifier: Apache-2.0 */
/*
 * debver.c — Debian version ordering (Debian Policy 5.6.12, dpkg's verrevcmp): a version is
 * [epoch:]upstream[-revision]; parts compare left to right as alternating runs of non-digits
 * (character by character: '~' before the end, the end before letters, letters before other
 * characters) and digits (numerically).
 */
#include <stdlib.h>
#include <string.h>

#include "sbom.h"

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* dpkg's character weight inside a non-digit run (the end of the string weighs 0). */
static int order(char c)
{
    if (is_digit(c) || c == '\0')
        return 0;
    if (is_alpha(c))
        return (unsigned char)c;
    if (c == '~')
        return -1;
    return (unsigned char)c + 256;
}

/* verrevcmp over [a, a_end) and [b, b_end). */
static int part_cmp(const char *a, const char *ae, const char *b, const char *be)
{
    while (a < ae || b < be) {
        int first_diff = 0;
        while ((a < ae && !is_digit(*a)) || (b < be && !is_digit(*b))) {
            int ac = a < ae ? order(*a) : 0;
            int bc = b < be ? order(*b) : 0;
            if (ac != bc)
                return ac - bc;
            a++;
            b++;
        }
        while (a < ae && *a == '0')
            a++;
        while (b < be && *b == '0')
            b++;
        while (a < ae && b < be && is_digit(*a) && is_digit(*b)) {
            if (!first_diff)
                first_diff = *a - *b;
            a++;
            b++;
        }
        if (a < ae && is_digit(*a))
            return 1;
        if (b < be && is_digit(*b))
            return -1;
        if (first_diff)
            return first_diff;
    }
    return 0;
}

int debver_part_cmp(const char *a, const char *b)
{
    if (!a)
        a = "";
    if (!b)
        b = "";
    return part_cmp(a, a + strlen(a), b, b + strlen(b));
}

typedef struct dver {
    unsigned long epoch;
    const char *up, *up_end, *rev, *rev_end;
} dver;

static void split(const char *v, dver *d)
{
    const char *end = v + strlen(v);
    const char *colon = strchr(v, ':');
    d->epoch = 0;
    if (colon && colon > v) {
        const char *p = v;
        while (p < colon && is_digit(*p))
            p++;
        if (p == colon) {
            unsigned long e = 0;
            for (p = v; p < colon; p++)
                e = e > 100000000ul ? e : e * 10u + (unsigned long)(*p - '0');
            d->epoch = e;
            v = colon + 1;
        }
    }
    const char *dash = NULL;
    for (const char *p = v; p < end; p++)
        if (*p == '-')
            dash = p;
    d->up = v;
    if (dash) {
        d->up_end = dash;
        d->rev = dash + 1;
        d->rev_end = end;
    } else {
        d->up_end = end;
        d->rev = d->rev_end = end;
    }
}

int debver_cmp(const char *a, const char *b)
{
    dver x, y;
    split(a ? a : "", &x);
    split(b ? b : "", &y);
    if (x.epoch != y.epoch)
        return x.epoch < y.epoch ? -1 : 1;
    int r = part_cmp(x.up, x.up_end, y.up, y.up_end);
    if (r)
        return r < 0 ? -1 : 1;
    r = part_cmp(x.rev, x.rev_end, y.rev, y.rev_end);
    return r < 0 ? -1 : r > 0 ? 1 : 0;
}

void debver_upstream(const char *version, char *out, size_t outlen)
{
    if (!outlen)
        return;
    dver d;
    split(version ? version : "", &d);
    size_t n = (size_t)(d.up_end - d.up);
    /* repacked upstream tarballs: 1.2.13.dfsg, 2.9.14+dfsg, 1.0+ds */
    static const char *const repack[] = { ".dfsg", "+dfsg", "~dfsg", "+ds", ".ds", "~ds" };
    for (size_t i = 0; i < sizeof repack / sizeof repack[0]; i++) {
        const char *hit = NULL;
        for (const char *p = d.up; p + strlen(repack[i]) <= d.up + n; p++)
            if (!strncmp(p, repack[i], strlen(repack[i]))) {
                hit = p;
                break;
            }
        if (hit)
            n = (size_t)(hit - d.up);
    }
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, d.up, n);
    out[n] = '\0';
}
