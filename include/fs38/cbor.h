/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/cbor.h — bounded, zero-allocation CBOR (RFC 8949) decoder and encoder.
 *
 * Decoder: reads items in order from a caller's buffer; never reads past it; returns
 * pointers into the buffer for byte and text strings (no copy). It rejects indefinite
 * lengths, reserved additional-information values, and — unless FS38_CBOR_ALLOW_NONMINIMAL
 * is set — heads that are not in preferred (shortest) form, as SUIT's deterministic
 * encoding requires. Nesting is limited to FS38_CBOR_MAX_DEPTH (or a lower per-decoder
 * max_depth) for fs38_cbor_skip(); declared lengths and counts are checked against the bytes
 * left, so a 5-byte input cannot announce a 4 GiB string or a billion-element array.
 *
 * Encoder: writes into a caller buffer; the first error (buffer full) is sticky, so a
 * sequence of put calls can be checked once with fs38_cbor_enc_finish(). A NULL buffer
 * measures only.
 */
#ifndef FS38_CBOR_H
#define FS38_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fs38/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FS38_CBOR_MAX_DEPTH 16

/* Major types */
enum {
    FS38_CBOR_UINT = 0,
    FS38_CBOR_NINT = 1,
    FS38_CBOR_BSTR = 2,
    FS38_CBOR_TSTR = 3,
    FS38_CBOR_ARRAY = 4,
    FS38_CBOR_MAP = 5,
    FS38_CBOR_TAG = 6,
    FS38_CBOR_SIMPLE = 7
};

/* Simple values (major type 7) */
#define FS38_CBOR_FALSE 20
#define FS38_CBOR_TRUE 21
#define FS38_CBOR_NULL 22
#define FS38_CBOR_UNDEFINED 23

/* Decoder flags */
#define FS38_CBOR_ALLOW_NONMINIMAL 0x1u

typedef struct fs38_cbor_dec {
    const uint8_t *buf;
    size_t len;
    size_t pos;           /* offset of the next item */
    unsigned max_depth;   /* for fs38_cbor_skip (<= FS38_CBOR_MAX_DEPTH) */
    unsigned flags;
} fs38_cbor_dec;

/* One decoded head. For strings `value` is the length; for arrays/maps the count; for tags
 * the tag number; for simple values the simple value (floats: the raw bits). */
typedef struct fs38_cbor_head {
    uint8_t major;
    uint8_t ai;         /* additional information (low 5 bits of the initial byte) */
    uint64_t value;
    size_t offset;      /* offset of the head in the buffer */
    size_t head_len;    /* bytes of the head */
} fs38_cbor_head;

void fs38_cbor_dec_init(fs38_cbor_dec *d, const uint8_t *buf, size_t len);

/* Decode the next head without consuming it. */
FS38_NODISCARD fs38_err fs38_cbor_peek(const fs38_cbor_dec *d, fs38_cbor_head *h);
/* Decode and consume the next head (for strings, the content is consumed too). */
FS38_NODISCARD fs38_err fs38_cbor_head_next(fs38_cbor_dec *d, fs38_cbor_head *h);

/* Typed getters: consume one item of the expected type or return FS38_ERR_CBOR_TYPE
 * (leaving the position unchanged on any error). */
FS38_NODISCARD fs38_err fs38_cbor_get_uint(fs38_cbor_dec *d, uint64_t *v);
/* Major type 0 or 1 within int64_t range. */
FS38_NODISCARD fs38_err fs38_cbor_get_int(fs38_cbor_dec *d, int64_t *v);
FS38_NODISCARD fs38_err fs38_cbor_get_bstr(fs38_cbor_dec *d, const uint8_t **p, size_t *len);
FS38_NODISCARD fs38_err fs38_cbor_get_tstr(fs38_cbor_dec *d, const char **p, size_t *len);
/* Array / map heads: *n is the number of elements / pairs that follow. */
FS38_NODISCARD fs38_err fs38_cbor_get_array(fs38_cbor_dec *d, size_t *n);
FS38_NODISCARD fs38_err fs38_cbor_get_map(fs38_cbor_dec *d, size_t *n);
FS38_NODISCARD fs38_err fs38_cbor_get_tag(fs38_cbor_dec *d, uint64_t *tag);
FS38_NODISCARD fs38_err fs38_cbor_get_null(fs38_cbor_dec *d);
FS38_NODISCARD fs38_err fs38_cbor_get_bool(fs38_cbor_dec *d, bool *v);
/* Skip one whole item (with everything nested in it), depth-limited, no recursion. */
FS38_NODISCARD fs38_err fs38_cbor_skip(fs38_cbor_dec *d);
/* Skip one item and return its encoded span. */
FS38_NODISCARD fs38_err fs38_cbor_get_raw(fs38_cbor_dec *d, const uint8_t **p, size_t *len);
/* If the next item is tag `tag`, consume it and set *present; otherwise leave it. */
FS38_NODISCARD fs38_err fs38_cbor_opt_tag(fs38_cbor_dec *d, uint64_t tag, bool *present);
/* True when the next item is of major type `major` (false at the end or on error). */
bool fs38_cbor_next_is(const fs38_cbor_dec *d, uint8_t major);
/* True when the next item is the simple value null. */
bool fs38_cbor_next_is_null(const fs38_cbor_dec *d);
/* True when every byte was consumed. */
bool fs38_cbor_at_end(const fs38_cbor_dec *d);
/* Check that exactly one well-formed item occupies [buf, buf+len). */
FS38_NODISCARD fs38_err fs38_cbor_check_single(const uint8_t *buf, size_t len);

/* ---- encoder ---- */
typedef struct fs38_cbor_enc {
    uint8_t *buf; /* NULL: only measure */
    size_t cap;
    size_t len;
    fs38_err err; /* first error, sticky */
} fs38_cbor_enc;

void fs38_cbor_enc_init(fs38_cbor_enc *e, uint8_t *buf, size_t cap);
void fs38_cbor_put_uint(fs38_cbor_enc *e, uint64_t v);
void fs38_cbor_put_int(fs38_cbor_enc *e, int64_t v);
void fs38_cbor_put_bstr(fs38_cbor_enc *e, const uint8_t *p, size_t len);
void fs38_cbor_put_tstr(fs38_cbor_enc *e, const char *p, size_t len);
/* Only the head of a byte string of len bytes (the content follows via put_raw / more puts). */
void fs38_cbor_put_bstr_head(fs38_cbor_enc *e, size_t len);
void fs38_cbor_put_array(fs38_cbor_enc *e, size_t n);
void fs38_cbor_put_map(fs38_cbor_enc *e, size_t n);
void fs38_cbor_put_tag(fs38_cbor_enc *e, uint64_t tag);
void fs38_cbor_put_null(fs38_cbor_enc *e);
void fs38_cbor_put_bool(fs38_cbor_enc *e, bool v);
/* Already-encoded CBOR (or string content after put_bstr_head). */
void fs38_cbor_put_raw(fs38_cbor_enc *e, const uint8_t *p, size_t len);
/* Encode a head (major type, value) into out; returns its length (1..9). */
size_t fs38_cbor_encode_head(uint8_t major, uint64_t v, uint8_t out[9]);
/* Encoded size of a head carrying value v (1, 2, 3, 5 or 9). */
size_t fs38_cbor_head_size(uint64_t v);
/* Return the sticky error, and the length written (or needed) in *len. */
FS38_NODISCARD fs38_err fs38_cbor_enc_finish(const fs38_cbor_enc *e, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* FS38_CBOR_H */
