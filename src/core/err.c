/* SPDX-License-Identifier: Apache-2.0 */
/* err.c — error strings and the tiny formatter behind rejection diagnostics. */
#include <stdarg.h>
#include "fs38/err.h"
#include "inner.h"

/* Generated from FS38_ERR_LIST (include/fs38/err.h): one case per code, none forgotten. */
const char *fs38_strerror(fs38_err err)
{
#define FS38_ERR_CASE_(name, value, text, meaning) \
    case name: return text;
    switch (err) {
    FS38_ERR_LIST(FS38_ERR_CASE_)
    }
#undef FS38_ERR_CASE_
    return "unknown error";
}

typedef struct {
    char *buf;
    size_t cap;
    size_t len;
} outbuf;

static void put_c(outbuf *o, char c)
{
    if (o->cap && o->len + 1 < o->cap)
        o->buf[o->len++] = c;
}

static void put_s(outbuf *o, const char *s)
{
    if (!s)
        s = "(null)";
    while (*s)
        put_c(o, *s++);
}

static void put_u(outbuf *o, unsigned long long v, unsigned base)
{
    char tmp[24];
    size_t n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v && n < sizeof tmp);
    while (n)
        put_c(o, tmp[--n]);
}

static void put_i(outbuf *o, long long v)
{
    if (v < 0) {
        put_c(o, '-');
        put_u(o, (unsigned long long)(-(v + 1)) + 1u, 10);
    } else {
        put_u(o, (unsigned long long)v, 10);
    }
}

static size_t vfmt(char *buf, size_t cap, const char *fmt, va_list ap)
{
    outbuf o = { buf, cap, 0 };
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put_c(&o, *p);
            continue;
        }
        p++;
        int longs = 0, size_t_arg = 0;
        while (*p == 'l') {
            longs++;
            p++;
        }
        if (*p == 'z') {
            size_t_arg = 1;
            p++;
        }
        switch (*p) {
        case 's': put_s(&o, va_arg(ap, const char *)); break;
        case 'd':
            if (longs >= 2) put_i(&o, va_arg(ap, long long));
            else if (longs == 1) put_i(&o, va_arg(ap, long));
            else put_i(&o, va_arg(ap, int));
            break;
        case 'u':
        case 'x': {
            unsigned base = *p == 'x' ? 16u : 10u;
            if (size_t_arg) put_u(&o, va_arg(ap, size_t), base);
            else if (longs >= 2) put_u(&o, va_arg(ap, unsigned long long), base);
            else if (longs == 1) put_u(&o, va_arg(ap, unsigned long), base);
            else put_u(&o, va_arg(ap, unsigned), base);
            break;
        }
        case '%': put_c(&o, '%'); break;
        case '\0': p--; break;
        default: put_c(&o, '?'); break;
        }
    }
    if (cap)
        buf[o.len] = '\0';
    return o.len;
}

size_t fs38_fmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = vfmt(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

void fs38_diag_clear(fs38_diag *d)
{
    if (d) {
        d->err = FS38_OK;
        d->msg[0] = '\0';
    }
}

fs38_err fs38_diag_code(fs38_diag *d, fs38_err err)
{
    if (d) {
        d->err = err;
        d->msg[0] = '\0';
    }
    return err;
}

#if FS38_DIAG_TEXT
fs38_err fs38_diag_set(fs38_diag *d, fs38_err err, const char *fmt, ...)
{
    if (!d)
        return err;
    d->err = err;
    d->msg[0] = '\0';
    if (fmt && *fmt) {
        va_list ap;
        va_start(ap, fmt);
        vfmt(d->msg, sizeof d->msg, fmt, ap);
        va_end(ap);
    }
    if (!d->msg[0])
        fs38_fmt(d->msg, sizeof d->msg, "%s", fs38_strerror(err));
    return err;
}
#endif
