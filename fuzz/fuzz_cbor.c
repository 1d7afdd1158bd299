/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_cbor.c — libFuzzer target for the bounded CBOR decoder and the encoder (fs38/cbor.h).
 *
 * Every input is copied into an exact-size heap buffer (so ASan sees any read past its end)
 * and walked as a CBOR sequence, head by head, in strict mode and again with
 * FS38_CBOR_ALLOW_NONMINIMAL. At every head each typed getter is tried on a copy of the
 * decoder. Invariants (a violation aborts, i.e. is a crash to libFuzzer):
 *   - a failed getter leaves the position unchanged; a successful one agrees with peek()
 *     about the type, value, string pointer/length and new position;
 *   - skip / get_raw / check_single agree with an independent recursive reference walker
 *     (same depth limit) on well-formedness and on where the item ends;
 *   - re-encoding the decoded heads with the fs38 encoder reproduces the input byte for byte
 *     in strict mode (only preferred heads are accepted there), and in non-minimal mode
 *     gives a shorter-or-equal encoding that decodes strictly to the same heads;
 *   - the measuring encoder (NULL buffer) agrees on the length, and an encoder one byte
 *     too small reports FS38_ERR_BUFFER without writing past its (exact-size) buffer;
 *   - byte strings are walked again as embedded CBOR (bstr .cbor, as SUIT nests it).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fs38/cbor.h"

#define FUZZ_NAME "fuzz_cbor"
#include "fuzz_common.h"

#define MAX_NEST 3 /* bstr-in-bstr re-walks */

static volatile uint8_t sink; /* keeps the string-touching loops */

static void touch(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc ^= p[i];
    sink = acc;
}

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    CHECK(b != NULL);
    if (n)
        memcpy(b, p, n);
    return b;
}

/* ---- independent reference walker (recursive, written from RFC 8949 §3 and cbor.h) ---- */

typedef struct {
    uint8_t major, ai;
    uint64_t value;
    size_t hlen;
} ref_head;

static bool ref_read_head(const uint8_t *b, size_t len, size_t pos, bool strict, ref_head *h)
{
    if (pos >= len)
        return false;
    h->major = (uint8_t)(b[pos] >> 5);
    h->ai = (uint8_t)(b[pos] & 0x1f);
    size_t n = 0;
    if (h->ai < 24) {
        h->value = h->ai;
    } else if (h->ai <= 27) {
        n = (size_t)1 << (h->ai - 24);
        if (len - pos - 1 < n)
            return false;
        h->value = 0;
        for (size_t i = 0; i < n; i++)
            h->value = h->value << 8 | b[pos + 1 + i];
    } else {
        return false; /* 28..30 reserved, 31 indefinite */
    }
    h->hlen = 1 + n;
    if (h->major == 7)
        return !(h->ai == 24 && h->value < 32);
    if (strict && n) {
        uint64_t min = n == 1 ? 24 : n == 2 ? 0x100 : n == 4 ? 0x10000 : 0x100000000ull;
        if (h->value < min)
            return false;
    }
    if ((h->major == 2 || h->major == 3) && h->value > len - pos - h->hlen)
        return false;
    return true;
}

/* One item at pos, nested at `level`; true and *end when well formed within max levels. */
static bool ref_item(const uint8_t *b, size_t len, size_t pos, unsigned level, unsigned max, bool strict,
                     size_t *end)
{
    ref_head h;
    if (!ref_read_head(b, len, pos, strict, &h))
        return false;
    pos += h.hlen;
    uint64_t children = 0;
    switch (h.major) {
    case 2:
    case 3: pos += (size_t)h.value; break;
    case 4: children = h.value; break;
    case 5:
        if (h.value > len) /* cannot fit; also keeps 2*value from overflowing */
            return false;
        children = 2 * h.value;
        break;
    case 6: children = 1; break;
    default: break;
    }
    if (children) {
        if (children > len) /* every child needs a byte */
            return false;
        if (level + 1 > max)
            return false;
        for (uint64_t i = 0; i < children; i++)
            if (!ref_item(b, len, pos, level + 1, max, strict, &pos))
                return false;
    }
    *end = pos;
    return true;
}

static unsigned effective_depth(unsigned max_depth)
{
    return max_depth && max_depth < FS38_CBOR_MAX_DEPTH ? max_depth : FS38_CBOR_MAX_DEPTH;
}

/* ---- every accessor at the decoder's current position ---- */

static void check_accessors(const fs38_cbor_dec *d)
{
    const bool strict = !(d->flags & FS38_CBOR_ALLOW_NONMINIMAL);
    const size_t pos = d->pos;
    fs38_cbor_head h;
    memset(&h, 0, sizeof h);
    fs38_err pe = fs38_cbor_peek(d, &h);
    if (!pe) {
        CHECK(h.offset == pos);
        CHECK(h.head_len >= 1 && h.head_len <= 9 && h.head_len <= d->len - pos);
        CHECK(h.major <= 7 && h.ai < 28);
        CHECK((h.ai < 24) == (h.head_len == 1));
        if (h.ai < 24)
            CHECK(h.value == h.ai);
        if (strict && h.major != FS38_CBOR_SIMPLE)
            CHECK(h.head_len == fs38_cbor_head_size(h.value));
        if (h.major == FS38_CBOR_BSTR || h.major == FS38_CBOR_TSTR)
            CHECK(h.value <= d->len - pos - h.head_len);
        uint8_t enc[9];
        CHECK(fs38_cbor_encode_head(h.major, h.value, enc) == fs38_cbor_head_size(h.value));
        CHECK(enc[0] >> 5 == h.major);
        if (strict && h.major != FS38_CBOR_SIMPLE)
            CHECK(memcmp(enc, d->buf + pos, h.head_len) == 0);
    } else {
        CHECK(pe == FS38_ERR_CBOR_TRUNCATED || pe == FS38_ERR_CBOR_MALFORMED || pe == FS38_ERR_CBOR_INDEFINITE ||
              pe == FS38_ERR_CBOR_NONMINIMAL);
    }
    const size_t after_head = pos + (pe ? 0 : h.head_len);
    fs38_cbor_dec c;
    fs38_err e;

    uint64_t u = 0;
    c = *d;
    e = fs38_cbor_get_uint(&c, &u);
    if (e) {
        CHECK(c.pos == pos);
        CHECK(pe || h.major != FS38_CBOR_UINT);
    } else {
        CHECK(!pe && h.major == FS38_CBOR_UINT && u == h.value && c.pos == after_head);
    }

    int64_t i64 = 0;
    c = *d;
    e = fs38_cbor_get_int(&c, &i64);
    if (e) {
        CHECK(c.pos == pos);
        CHECK(pe || (h.major != FS38_CBOR_UINT && h.major != FS38_CBOR_NINT) || h.value > (uint64_t)INT64_MAX);
    } else {
        CHECK(!pe && c.pos == after_head && h.value <= (uint64_t)INT64_MAX);
        CHECK(h.major == FS38_CBOR_UINT ? i64 == (int64_t)h.value
                                        : h.major == FS38_CBOR_NINT && i64 == -1 - (int64_t)h.value);
    }

    const uint8_t *p = NULL;
    size_t n = 0;
    c = *d;
    e = fs38_cbor_get_bstr(&c, &p, &n);
    if (e) {
        CHECK(c.pos == pos);
    } else {
        CHECK(!pe && h.major == FS38_CBOR_BSTR && p == d->buf + after_head && n == h.value);
        CHECK(c.pos == after_head + n && c.pos <= d->len);
        touch(p, n);
    }
    const char *s = NULL;
    c = *d;
    e = fs38_cbor_get_tstr(&c, &s, &n);
    if (e) {
        CHECK(c.pos == pos);
    } else {
        CHECK(!pe && h.major == FS38_CBOR_TSTR && (const uint8_t *)s == d->buf + after_head && n == h.value);
        CHECK(c.pos == after_head + n && c.pos <= d->len);
        touch((const uint8_t *)s, n);
    }

    c = *d;
    e = fs38_cbor_get_array(&c, &n);
    CHECK(e ? c.pos == pos : (!pe && h.major == FS38_CBOR_ARRAY && n == h.value && c.pos == after_head));
    CHECK(e || n <= d->len - c.pos); /* a count never exceeds the bytes left */
    c = *d;
    e = fs38_cbor_get_map(&c, &n);
    CHECK(e ? c.pos == pos : (!pe && h.major == FS38_CBOR_MAP && n == h.value && c.pos == after_head));
    CHECK(e || n <= (d->len - c.pos) / 2);
    c = *d;
    e = fs38_cbor_get_tag(&c, &u);
    CHECK(e ? c.pos == pos : (!pe && h.major == FS38_CBOR_TAG && u == h.value && c.pos == after_head));

    c = *d;
    e = fs38_cbor_get_null(&c);
    CHECK(e ? c.pos == pos : (!pe && d->buf[pos] == 0xf6 && c.pos == pos + 1));
    CHECK(fs38_cbor_next_is_null(d) == !e);
    bool bv = false;
    c = *d;
    e = fs38_cbor_get_bool(&c, &bv);
    CHECK(e ? c.pos == pos : (!pe && d->buf[pos] == (bv ? 0xf5 : 0xf4) && c.pos == pos + 1));

    for (uint8_t major = 0; major < 8; major++)
        CHECK(fs38_cbor_next_is(d, major) == (!pe && h.major == major));

    bool present = true;
    c = *d;
    e = fs38_cbor_opt_tag(&c, pe ? 0 : h.value, &present);
    if (e) {
        CHECK(pe && c.pos == pos && !present);
    } else {
        CHECK(present == (h.major == FS38_CBOR_TAG));
        CHECK(c.pos == (present ? after_head : pos));
    }

    /* skip / get_raw / check_single against the reference walker */
    size_t ref_end = 0;
    bool ref_ok = ref_item(d->buf, d->len, pos, 0, effective_depth(d->max_depth), strict, &ref_end);
    c = *d;
    e = fs38_cbor_get_raw(&c, &p, &n);
    CHECK(!e == ref_ok);
    if (e) {
        CHECK(c.pos == pos);
        CHECK(e == FS38_ERR_CBOR_TRUNCATED || e == FS38_ERR_CBOR_MALFORMED || e == FS38_ERR_CBOR_INDEFINITE ||
              e == FS38_ERR_CBOR_NONMINIMAL || e == FS38_ERR_CBOR_DEPTH);
    } else {
        CHECK(p == d->buf + pos && c.pos == ref_end && n == ref_end - pos && c.pos <= d->len);
        if (strict)
            CHECK(fs38_cbor_check_single(p, n) == FS38_OK);
    }
    c = *d;
    e = fs38_cbor_skip(&c);
    CHECK(!e == ref_ok && c.pos == (e ? pos : ref_end));
}

/* ---- re-encoding ---- */

static void reencode(fs38_cbor_enc *e, const fs38_cbor_head *h, const uint8_t *buf, bool alt)
{
    const uint8_t *content = buf + h->offset + h->head_len;
    uint8_t raw[9];
    switch (h->major) {
    case FS38_CBOR_UINT: fs38_cbor_put_uint(e, h->value); break;
    case FS38_CBOR_NINT:
        if (h->value <= (uint64_t)INT64_MAX)
            fs38_cbor_put_int(e, -1 - (int64_t)h->value);
        else
            fs38_cbor_put_raw(e, raw, fs38_cbor_encode_head(FS38_CBOR_NINT, h->value, raw));
        break;
    case FS38_CBOR_BSTR:
        if (alt) {
            fs38_cbor_put_bstr_head(e, (size_t)h->value);
            fs38_cbor_put_raw(e, content, (size_t)h->value);
        } else {
            fs38_cbor_put_bstr(e, content, (size_t)h->value);
        }
        break;
    case FS38_CBOR_TSTR: fs38_cbor_put_tstr(e, (const char *)content, (size_t)h->value); break;
    case FS38_CBOR_ARRAY: fs38_cbor_put_array(e, (size_t)h->value); break;
    case FS38_CBOR_MAP: fs38_cbor_put_map(e, (size_t)h->value); break;
    case FS38_CBOR_TAG: fs38_cbor_put_tag(e, h->value); break;
    default:
        if (h->ai == FS38_CBOR_FALSE || h->ai == FS38_CBOR_TRUE)
            fs38_cbor_put_bool(e, h->ai == FS38_CBOR_TRUE);
        else if (h->ai == FS38_CBOR_NULL)
            fs38_cbor_put_null(e);
        else if (h->ai >= 25) /* floats: the raw bits, in the width they came in */
            fs38_cbor_put_raw(e, buf + h->offset, h->head_len);
        else
            fs38_cbor_put_raw(e, raw, fs38_cbor_encode_head(FS38_CBOR_SIMPLE, h->value, raw));
        break;
    }
}

static void encode_all(fs38_cbor_enc *e, const fs38_cbor_head *heads, size_t n, const uint8_t *buf)
{
    for (size_t i = 0; i < n; i++)
        reencode(e, &heads[i], buf, (i & 1) != 0);
}

static bool check_true(bool c, const char *what, int line)
{
    if (!c) {
        fprintf(stderr, "fuzz_cbor: invariant failed: %s (%s:%d)\n", what, __FILE__, line);
        abort();
    }
    return true;
}
#define CHECK_TRUE(cond) check_true((cond), #cond, __LINE__)

/* The whole buffer is a sequence of complete, well-formed items (within the default depth). */
static bool sequence_complete(const uint8_t *buf, size_t len, unsigned flags)
{
    fs38_cbor_dec d;
    fs38_cbor_dec_init(&d, buf, len);
    d.flags = flags;
    while (!fs38_cbor_at_end(&d))
        if (fs38_cbor_skip(&d))
            return false;
    return true;
}

static void walk(const uint8_t *buf, size_t len, unsigned flags, unsigned max_depth, int nest)
{
    const bool strict = !(flags & FS38_CBOR_ALLOW_NONMINIMAL);
    fs38_cbor_head *heads = malloc((len + 1) * sizeof *heads);
    CHECK(heads != NULL);
    size_t nh = 0;
    fs38_cbor_dec d;
    fs38_cbor_dec_init(&d, buf, len);
    d.flags = flags;
    d.max_depth = max_depth;
    while (!fs38_cbor_at_end(&d)) {
        check_accessors(&d);
        size_t before = d.pos;
        fs38_cbor_head h;
        if (fs38_cbor_head_next(&d, &h)) {
            CHECK(d.pos == before);
            break;
        }
        CHECK(d.pos > before && d.pos <= len);
        CHECK(nh < len + 1);
        heads[nh++] = h;
        if (strict && h.major == FS38_CBOR_BSTR && h.value && nest < MAX_NEST) {
            uint8_t *inner = dup_exact(buf + h.offset + h.head_len, (size_t)h.value);
            walk(inner, (size_t)h.value, flags, max_depth, nest + 1);
            free(inner);
        }
    }
    const size_t consumed = d.pos;
    CHECK(fs38_cbor_at_end(&d) == (consumed == len));

    /* re-encode what was decoded */
    fs38_cbor_enc m;
    fs38_cbor_enc_init(&m, NULL, 0);
    encode_all(&m, heads, nh, buf);
    size_t need = 0;
    CHECK(fs38_cbor_enc_finish(&m, &need) == FS38_OK);
    uint8_t *out = malloc(need ? need : 1);
    CHECK(out != NULL);
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, out, need);
    encode_all(&e, heads, nh, buf);
    size_t out_len = 0;
    CHECK(fs38_cbor_enc_finish(&e, &out_len) == FS38_OK && out_len == need);
    if (strict) {
        CHECK(out_len == consumed && (consumed == 0 || memcmp(out, buf, consumed) == 0));
    } else if (CHECK_TRUE(out_len <= consumed) && sequence_complete(buf, len, flags)) {
        /* the preferred re-encoding of complete items decodes strictly to the same heads and
         * strings (a shorter re-encoding of an incomplete container may legitimately fail the
         * "count <= bytes left" check, so only whole, well-formed sequences are compared) */
        fs38_cbor_dec r;
        fs38_cbor_dec_init(&r, out, out_len);
        for (size_t i = 0; i < nh; i++) {
            fs38_cbor_head h;
            CHECK(fs38_cbor_head_next(&r, &h) == FS38_OK);
            CHECK(h.major == heads[i].major && h.value == heads[i].value);
            if (h.major == FS38_CBOR_BSTR || h.major == FS38_CBOR_TSTR)
                CHECK(memcmp(out + h.offset + h.head_len, buf + heads[i].offset + heads[i].head_len,
                             (size_t)h.value) == 0);
        }
        CHECK(fs38_cbor_at_end(&r));
    }
    /* one byte short: the sticky error, and nothing written past the buffer */
    if (need) {
        uint8_t *small = malloc(need - 1 ? need - 1 : 1);
        CHECK(small != NULL);
        fs38_cbor_enc_init(&e, small, need - 1);
        encode_all(&e, heads, nh, buf);
        CHECK(fs38_cbor_enc_finish(&e, &out_len) == FS38_ERR_BUFFER && out_len <= need - 1);
        free(small);
    }
    free(out);
    free(heads);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = dup_exact(data, size);
    unsigned max_depth = (unsigned)(size % (FS38_CBOR_MAX_DEPTH + 2)); /* 0 = default, 1..17 */

    size_t ref_end = 0;
    bool ref_ok = ref_item(buf, size, 0, 0, FS38_CBOR_MAX_DEPTH, true, &ref_end) && ref_end == size;
    CHECK((fs38_cbor_check_single(buf, size) == FS38_OK) == ref_ok);

    walk(buf, size, 0, max_depth, 0);
    walk(buf, size, FS38_CBOR_ALLOW_NONMINIMAL, max_depth, 0);

    /* NULL buffer: a decoder over nothing */
    fs38_cbor_dec d;
    fs38_cbor_dec_init(&d, NULL, size);
    CHECK(d.len == 0 && fs38_cbor_at_end(&d) && fs38_cbor_skip(&d) == FS38_ERR_CBOR_TRUNCATED);
    free(buf);
    return 0;
}
