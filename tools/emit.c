/* SPDX-License-Identifier: Apache-2.0 */
/* emit.c — human-readable / JSON renderings of one output tree (see emit.h). */
#include "emit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

void em_init(emit *e, FILE *f, bool json)
{
    memset(e, 0, sizeof *e);
    e->f = f;
    e->json = json;
}

static bool visible(const emit *e, unsigned vis)
{
    return vis == EM_BOTH || (vis == EM_JSON && e->json) || (vis == EM_HUMAN && !e->json);
}

static void spaces(const emit *e, int n)
{
    for (int i = 0; i < n; i++)
        fputs("  ", e->f);
}

/* Escaped string: JSON (quoted, \uXXXX) or human (\xNN). Bytes >= 0x80 are escaped too. */
static void put_escaped(const emit *e, const char *s, size_t n)
{
    if (e->json)
        fputc('"', e->f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (e->json && (c == '"' || c == '\\'))
            fprintf(e->f, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            fputc(c, e->f);
        else if (e->json)
            fprintf(e->f, "\\u%04x", c);
        else
            fprintf(e->f, "\\x%02x", c);
    }
    if (e->json)
        fputc('"', e->f);
}

/* Separator, newline, indentation and key before a JSON value. */
static void json_prefix(emit *e, const char *key)
{
    if (e->depth > 0) {
        if (!e->first[e->depth - 1])
            fputc(',', e->f);
        e->first[e->depth - 1] = false;
        fputc('\n', e->f);
        spaces(e, e->depth);
    }
    if (key && e->depth > 0 && !e->is_array[e->depth - 1]) {
        put_escaped(e, key, strlen(key));
        fputs(": ", e->f);
    }
}

/* Indentation and "key: " before a human value. */
static void human_prefix(emit *e, const char *key)
{
    spaces(e, e->indent);
    if (key)
        fprintf(e->f, "%s: ", key);
}

static void open_container(emit *e, const char *key, bool array, const char *title, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void open_container(emit *e, const char *key, bool array, const char *title, va_list ap)
{
    if (e->depth >= EMIT_MAX_DEPTH)
        return;
    bool indented = false;
    if (e->json) {
        json_prefix(e, key);
        fputc(array ? '[' : '{', e->f);
    } else if (title) {
        spaces(e, e->indent);
        vfprintf(e->f, title, ap);
        fputc('\n', e->f);
        e->indent++;
        indented = true;
    }
    e->first[e->depth] = true;
    e->is_array[e->depth] = array;
    e->indented[e->depth] = indented;
    e->depth++;
}

void em_obj(emit *e, const char *key, const char *title, ...)
{
    va_list ap;
    va_start(ap, title);
    open_container(e, key, false, title, ap);
    va_end(ap);
}

void em_arr(emit *e, const char *key, const char *title, ...)
{
    va_list ap;
    va_start(ap, title);
    open_container(e, key, true, title, ap);
    va_end(ap);
}

void em_end(emit *e)
{
    if (e->depth == 0)
        return;
    e->depth--;
    if (e->json) {
        if (!e->first[e->depth]) {
            fputc('\n', e->f);
            spaces(e, e->depth);
        }
        fputc(e->is_array[e->depth] ? ']' : '}', e->f);
    } else if (e->indented[e->depth]) {
        e->indent--;
    }
}

void em_strn(emit *e, unsigned vis, const char *key, const char *val, size_t len)
{
    if (!visible(e, vis))
        return;
    if (e->json)
        json_prefix(e, key);
    else
        human_prefix(e, key);
    put_escaped(e, val, len);
    if (!e->json)
        fputc('\n', e->f);
}

void em_str(emit *e, unsigned vis, const char *key, const char *val)
{
    em_strn(e, vis, key, val, strlen(val));
}

void em_strf(emit *e, unsigned vis, const char *key, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    em_str(e, vis, key, buf);
}

/* A bare (unquoted) JSON / human scalar. */
static void put_raw(emit *e, unsigned vis, const char *key, const char *text)
{
    if (!visible(e, vis))
        return;
    if (e->json) {
        json_prefix(e, key);
        fputs(text, e->f);
    } else {
        human_prefix(e, key);
        fprintf(e->f, "%s\n", text);
    }
}

void em_u64(emit *e, unsigned vis, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    put_raw(e, vis, key, buf);
}

void em_i64(emit *e, unsigned vis, const char *key, int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    put_raw(e, vis, key, buf);
}

void em_bool(emit *e, unsigned vis, const char *key, bool v)
{
    put_raw(e, vis, key, v ? "true" : "false");
}

void em_null(emit *e, unsigned vis, const char *key)
{
    put_raw(e, vis, key, e->json ? "null" : "none");
}

void em_line(emit *e, const char *fmt, ...)
{
    if (e->json)
        return;
    va_list ap;
    spaces(e, e->indent);
    va_start(ap, fmt);
    vfprintf(e->f, fmt, ap);
    va_end(ap);
    fputc('\n', e->f);
}

void em_finish(emit *e)
{
    while (e->depth > 0)
        em_end(e);
    if (e->json)
        fputc('\n', e->f);
    fflush(e->f);
}

bool em_is_printable(const uint8_t *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] >= 0x7f)
            return false;
    return true;
}

void em_printable(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f)
            out[o++] = (char)p[i];
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", p[i]);
    }
    out[o] = '\0';
}
