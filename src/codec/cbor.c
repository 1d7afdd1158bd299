/* SPDX-License-Identifier: Apache-2.0 */
/* cbor.c — bounded CBOR decoder and encoder (RFC 8949), no allocation, no recursion. */
#include <string.h>
#include "fs38/cbor.h"

void fs38_cbor_dec_init(fs38_cbor_dec *d, const uint8_t *buf, size_t len)
{
    d->buf = buf;
    d->len = buf ? len : 0;
    d->pos = 0;
    d->max_depth = FS38_CBOR_MAX_DEPTH;
    d->flags = 0;
}

static FS38_NODISCARD fs38_err read_head(const fs38_cbor_dec *d, size_t pos, fs38_cbor_head *h)
{
    if (pos >= d->len)
        return FS38_ERR_CBOR_TRUNCATED;
    uint8_t ib = d->buf[pos];
    h->major = (uint8_t)(ib >> 5);
    h->ai = (uint8_t)(ib & 0x1f);
    h->offset = pos;
    size_t extra;
    if (h->ai < 24) {
        extra = 0;
        h->value = h->ai;
    } else if (h->ai <= 27) {
        extra = (size_t)1 << (h->ai - 24);
        if (d->len - pos - 1 < extra)
            return FS38_ERR_CBOR_TRUNCATED;
        uint64_t v = 0;
        for (size_t i = 0; i < extra; i++)
            v = v << 8 | d->buf[pos + 1 + i];
        h->value = v;
    } else if (h->ai == 31) {
        return FS38_ERR_CBOR_INDEFINITE;
    } else {
        return FS38_ERR_CBOR_MALFORMED;
    }
    h->head_len = 1 + extra;

    if (h->major == FS38_CBOR_SIMPLE) {
        /* ai 24: simple value in one byte, must be >= 32 (RFC 8949 3.3) */
        if (h->ai == 24 && h->value < 32)
            return FS38_ERR_CBOR_MALFORMED;
        return FS38_OK; /* floats (25..27) are passed through as raw bits */
    }
    if (!(d->flags & FS38_CBOR_ALLOW_NONMINIMAL) && extra) {
        uint64_t min = extra == 1 ? 24 : extra == 2 ? 0x100 : extra == 4 ? 0x10000 : 0x100000000ull;
        if (h->value < min)
            return FS38_ERR_CBOR_NONMINIMAL;
    }
    size_t left = d->len - pos - h->head_len;
    switch (h->major) {
    case FS38_CBOR_BSTR:
    case FS38_CBOR_TSTR:
        if (h->value > left)
            return FS38_ERR_CBOR_TRUNCATED;
        break;
    case FS38_CBOR_ARRAY:
        if (h->value > left) /* every element needs at least one byte */
            return FS38_ERR_CBOR_TRUNCATED;
        break;
    case FS38_CBOR_MAP:
        if (h->value > left / 2)
            return FS38_ERR_CBOR_TRUNCATED;
        break;
    default:
        break;
    }
    return FS38_OK;
}

fs38_err fs38_cbor_peek(const fs38_cbor_dec *d, fs38_cbor_head *h)
{
    return read_head(d, d->pos, h);
}

fs38_err fs38_cbor_head_next(fs38_cbor_dec *d, fs38_cbor_head *h)
{
    fs38_err e = read_head(d, d->pos, h);
    if (e)
        return e;
    d->pos += h->head_len;
    if (h->major == FS38_CBOR_BSTR || h->major == FS38_CBOR_TSTR)
        d->pos += (size_t)h->value;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err get_typed(fs38_cbor_dec *d, uint8_t major, fs38_cbor_head *h)
{
    fs38_err e = read_head(d, d->pos, h);
    if (e)
        return e;
    if (h->major != major)
        return FS38_ERR_CBOR_TYPE;
    d->pos += h->head_len;
    if (major == FS38_CBOR_BSTR || major == FS38_CBOR_TSTR)
        d->pos += (size_t)h->value;
    return FS38_OK;
}

fs38_err fs38_cbor_get_uint(fs38_cbor_dec *d, uint64_t *v)
{
    fs38_cbor_head h;
    fs38_err e = get_typed(d, FS38_CBOR_UINT, &h);
    if (!e && v)
        *v = h.value;
    return e;
}

fs38_err fs38_cbor_get_int(fs38_cbor_dec *d, int64_t *v)
{
    fs38_cbor_head h;
    fs38_err e = read_head(d, d->pos, &h);
    if (e)
        return e;
    if (h.major != FS38_CBOR_UINT && h.major != FS38_CBOR_NINT)
        return FS38_ERR_CBOR_TYPE;
    if (h.value > (uint64_t)INT64_MAX)
        return FS38_ERR_CBOR_TYPE; /* outside int64_t */
    if (v)
        *v = h.major == FS38_CBOR_UINT ? (int64_t)h.value : -1 - (int64_t)h.value;
    d->pos += h.head_len;
    return FS38_OK;
}

fs38_err fs38_cbor_get_bstr(fs38_cbor_dec *d, const uint8_t **p, size_t *len)
{
    fs38_cbor_head h;
    fs38_err e = get_typed(d, FS38_CBOR_BSTR, &h);
    if (!e) {
        if (p)
            *p = d->buf + h.offset + h.head_len;
        if (len)
            *len = (size_t)h.value;
    }
    return e;
}

fs38_err fs38_cbor_get_tstr(fs38_cbor_dec *d, const char **p, size_t *len)
{
    fs38_cbor_head h;
    fs38_err e = get_typed(d, FS38_CBOR_TSTR, &h);
    if (!e) {
        if (p)
            *p = (const char *)(d->buf + h.offset + h.head_len);
        if (len)
            *len = (size_t)h.value;
    }
    return e;
}

fs38_err fs38_cbor_get_array(fs38_cbor_dec *d, size_t *n)
{
    fs38_cbor_head h;
    fs38_err e = get_typed(d, FS38_CBOR_ARRAY, &h);
    if (!e && n)
        *n = (size_t)h.value;
    return e;
}

fs38_err fs38_cbor_get_map(fs38_cbor_dec *d, size_t *n)
{
    fs38_cbor_head h;
    fs38_err e = get_typed(d, FS38_CBOR_MAP, &h);
    if (!e && n)
        *n = (size_t)h.value;
    return e;
}

fs38_err fs38_cbor_get_tag(fs38_cbor_dec *d, uint64_t *tag)
{
    fs38_cbor_head h;
    fs38_err e = get_typed(d, FS38_CBOR_TAG, &h);
    if (!e && tag)
        *tag = h.value;
    return e;
}

fs38_err fs38_cbor_get_null(fs38_cbor_dec *d)
{
    fs38_cbor_head h;
    fs38_err e = read_head(d, d->pos, &h);
    if (e)
        return e;
    if (h.major != FS38_CBOR_SIMPLE || h.ai != FS38_CBOR_NULL)
        return FS38_ERR_CBOR_TYPE;
    d->pos += h.head_len;
    return FS38_OK;
}

fs38_err fs38_cbor_get_bool(fs38_cbor_dec *d, bool *v)
{
    fs38_cbor_head h;
    fs38_err e = read_head(d, d->pos, &h);
    if (e)
        return e;
    if (h.major != FS38_CBOR_SIMPLE || (h.ai != FS38_CBOR_TRUE && h.ai != FS38_CBOR_FALSE))
        return FS38_ERR_CBOR_TYPE;
    if (v)
        *v = h.ai == FS38_CBOR_TRUE;
    d->pos += h.head_len;
    return FS38_OK;
}

fs38_err fs38_cbor_skip(fs38_cbor_dec *d)
{
    /* remaining[i]: items still to read at nesting level i */
    uint64_t remaining[FS38_CBOR_MAX_DEPTH + 1];
    unsigned max = d->max_depth && d->max_depth < FS38_CBOR_MAX_DEPTH ? d->max_depth : FS38_CBOR_MAX_DEPTH;
    unsigned level = 0;
    size_t pos = d->pos;
    remaining[0] = 1;
    for (;;) {
        while (remaining[level] == 0) {
            if (level == 0) {
                d->pos = pos;
                return FS38_OK;
            }
            level--;
        }
        remaining[level]--;
        fs38_cbor_head h;
        fs38_err e = read_head(d, pos, &h);
        if (e)
            return e;
        pos += h.head_len;
        uint64_t children = 0;
        switch (h.major) {
        case FS38_CBOR_BSTR:
        case FS38_CBOR_TSTR: pos += (size_t)h.value; break;
        case FS38_CBOR_ARRAY: children = h.value; break;
        case FS38_CBOR_MAP: children = h.value * 2; break; /* h.value <= len/2: no overflow */
        case FS38_CBOR_TAG: children = 1; break;
        default: break;
        }
        if (children) {
            if (level + 1 > max)
                return FS38_ERR_CBOR_DEPTH;
            remaining[++level] = children;
        }
    }
}

fs38_err fs38_cbor_get_raw(fs38_cbor_dec *d, const uint8_t **p, size_t *len)
{
    size_t start = d->pos;
    fs38_err e = fs38_cbor_skip(d);
    if (e)
        return e;
    if (p)
        *p = d->buf + start;
    if (len)
        *len = d->pos - start;
    return FS38_OK;
}

fs38_err fs38_cbor_opt_tag(fs38_cbor_dec *d, uint64_t tag, bool *present)
{
    fs38_cbor_head h;
    *present = false;
    fs38_err e = read_head(d, d->pos, &h);
    if (e)
        return e;
    if (h.major == FS38_CBOR_TAG && h.value == tag) {
        d->pos += h.head_len;
        *present = true;
    }
    return FS38_OK;
}

bool fs38_cbor_next_is(const fs38_cbor_dec *d, uint8_t major)
{
    fs38_cbor_head h;
    return read_head(d, d->pos, &h) == FS38_OK && h.major == major;
}

bool fs38_cbor_next_is_null(const fs38_cbor_dec *d)
{
    fs38_cbor_head h;
    return read_head(d, d->pos, &h) == FS38_OK && h.major == FS38_CBOR_SIMPLE && h.ai == FS38_CBOR_NULL;
}

bool fs38_cbor_at_end(const fs38_cbor_dec *d)
{
    return d->pos == d->len;
}

fs38_err fs38_cbor_check_single(const uint8_t *buf, size_t len)
{
    fs38_cbor_dec d;
    fs38_cbor_dec_init(&d, buf, len);
    fs38_err e = fs38_cbor_skip(&d);
    if (e)
        return e;
    return fs38_cbor_at_end(&d) ? FS38_OK : FS38_ERR_CBOR_TRAILING;
}

/* ---- encoder ---- */

void fs38_cbor_enc_init(fs38_cbor_enc *e, uint8_t *buf, size_t cap)
{
    e->buf = buf;
    e->cap = buf ? cap : 0;
    e->len = 0;
    e->err = FS38_OK;
}

static void put_bytes(fs38_cbor_enc *e, const uint8_t *p, size_t n)
{
    if (e->err)
        return;
    if (e->buf) {
        if (e->cap - e->len < n) {
            e->err = FS38_ERR_BUFFER;
            return;
        }
        if (n)
            memcpy(e->buf + e->len, p, n);
    }
    e->len += n;
}

size_t fs38_cbor_head_size(uint64_t v)
{
    return v < 24 ? 1 : v <= 0xff ? 2 : v <= 0xffff ? 3 : v <= 0xffffffffu ? 5 : 9;
}

size_t fs38_cbor_encode_head(uint8_t major, uint64_t v, uint8_t h[9])
{
    size_t n = fs38_cbor_head_size(v);
    uint8_t mt = (uint8_t)(major << 5);
    if (n == 1) {
        h[0] = (uint8_t)(mt | v);
    } else {
        static const uint8_t ai[] = { 0, 0, 24, 25, 0, 26, 0, 0, 0, 27 };
        h[0] = (uint8_t)(mt | ai[n]);
        for (size_t i = 1; i < n; i++)
            h[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    }
    return n;
}

static void put_head(fs38_cbor_enc *e, uint8_t major, uint64_t v)
{
    uint8_t h[9];
    put_bytes(e, h, fs38_cbor_encode_head(major, v, h));
}

void fs38_cbor_put_uint(fs38_cbor_enc *e, uint64_t v) { put_head(e, FS38_CBOR_UINT, v); }

void fs38_cbor_put_int(fs38_cbor_enc *e, int64_t v)
{
    if (v >= 0)
        put_head(e, FS38_CBOR_UINT, (uint64_t)v);
    else
        put_head(e, FS38_CBOR_NINT, (uint64_t)(-(v + 1)));
}

void fs38_cbor_put_bstr(fs38_cbor_enc *e, const uint8_t *p, size_t len)
{
    put_head(e, FS38_CBOR_BSTR, len);
    put_bytes(e, p, len);
}

void fs38_cbor_put_tstr(fs38_cbor_enc *e, const char *p, size_t len)
{
    put_head(e, FS38_CBOR_TSTR, len);
    put_bytes(e, (const uint8_t *)p, len);
}

void fs38_cbor_put_bstr_head(fs38_cbor_enc *e, size_t len) { put_head(e, FS38_CBOR_BSTR, len); }
void fs38_cbor_put_array(fs38_cbor_enc *e, size_t n) { put_head(e, FS38_CBOR_ARRAY, n); }
void fs38_cbor_put_map(fs38_cbor_enc *e, size_t n) { put_head(e, FS38_CBOR_MAP, n); }
void fs38_cbor_put_tag(fs38_cbor_enc *e, uint64_t tag) { put_head(e, FS38_CBOR_TAG, tag); }

void fs38_cbor_put_null(fs38_cbor_enc *e)
{
    uint8_t b = 0xf6;
    put_bytes(e, &b, 1);
}

void fs38_cbor_put_bool(fs38_cbor_enc *e, bool v)
{
    uint8_t b = v ? 0xf5 : 0xf4;
    put_bytes(e, &b, 1);
}

void fs38_cbor_put_raw(fs38_cbor_enc *e, const uint8_t *p, size_t len) { put_bytes(e, p, len); }

fs38_err fs38_cbor_enc_finish(const fs38_cbor_enc *e, size_t *len)
{
    if (len)
        *len = e->len;
    return e->err;
}
