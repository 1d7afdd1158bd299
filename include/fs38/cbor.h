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
 *
 * Lifecycle: fs38_cbor_dec_init / fs38_cbor_enc_init, then calls; neither holds a resource,
 * so there is nothing to free. Both are plain caller-owned structs (copy a decoder to look
 * ahead). Not thread-safe per context; distinct contexts are independent.
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

/**
 * \brief Start decoding buf[0..len) (no checks, no reads yet).
 *
 * \param[out] d   Decoder to set up: position 0, max_depth FS38_CBOR_MAX_DEPTH, flags 0
 *                 (set d->max_depth / d->flags afterwards to change them).
 * \param[in]  buf The encoded CBOR, or NULL (then len is taken as 0). Not copied: every span a
 *                 getter returns points into it, so it must stay valid and unchanged while d
 *                 and those spans are used.
 * \param[in]  len Bytes in buf.
 */
void fs38_cbor_dec_init(fs38_cbor_dec *d, const uint8_t *buf, size_t len);

/*
 * Decoding errors, common to every getter below (d is never NULL; nothing is allocated):
 *   FS38_ERR_CBOR_TRUNCATED   no item left, or the head / string runs past the end, or an
 *                             array / map announces more elements than bytes remain;
 *   FS38_ERR_CBOR_INDEFINITE  indefinite length (additional info 31);
 *   FS38_ERR_CBOR_MALFORMED   reserved additional info 28..30, or a two-byte simple value < 32;
 *   FS38_ERR_CBOR_NONMINIMAL  head not in preferred form (unless FS38_CBOR_ALLOW_NONMINIMAL);
 *   FS38_ERR_CBOR_TYPE        (typed getters) the item is not of the expected type / range.
 * On any error the position is unchanged and the out-parameters are not written.
 */

/**
 * \brief Decode the next head without consuming it.
 *
 * \param[in]  d Decoder.
 * \param[out] h The head (major type, additional info, value, offset, head length).
 * \return FS38_OK; FS38_ERR_CBOR_TRUNCATED, _INDEFINITE, _MALFORMED, _NONMINIMAL (see above).
 */
FS38_NODISCARD fs38_err fs38_cbor_peek(const fs38_cbor_dec *d, fs38_cbor_head *h);

/**
 * \brief Decode and consume the next head (for byte / text strings the content is consumed
 *        too; for arrays, maps and tags only the head: their elements come next).
 *
 * \param[in,out] d Decoder; advanced only on FS38_OK.
 * \param[out]    h The head.
 * \return as fs38_cbor_peek().
 */
FS38_NODISCARD fs38_err fs38_cbor_head_next(fs38_cbor_dec *d, fs38_cbor_head *h);

/*
 * Typed getters: each consumes one item of the expected type. The out-pointer may be NULL
 * (the item is then checked and skipped). Returns: FS38_OK; FS38_ERR_CBOR_TYPE when the next
 * item has another type; the decoding errors above. Position unchanged on any error.
 */

/** \brief Unsigned integer (major type 0). \param[in,out] d Decoder. \param[out] v Its value. */
FS38_NODISCARD fs38_err fs38_cbor_get_uint(fs38_cbor_dec *d, uint64_t *v);
/** \brief Integer (major type 0 or 1); FS38_ERR_CBOR_TYPE also when outside int64_t.
 *  \param[in,out] d Decoder. \param[out] v Its value. */
FS38_NODISCARD fs38_err fs38_cbor_get_int(fs38_cbor_dec *d, int64_t *v);
/** \brief Byte string. \param[in,out] d Decoder.
 *  \param[out] p   Its content: a pointer into the decoder's buffer (no copy).
 *  \param[out] len Its length. */
FS38_NODISCARD fs38_err fs38_cbor_get_bstr(fs38_cbor_dec *d, const uint8_t **p, size_t *len);
/** \brief Text string (UTF-8 not validated, not NUL-terminated). \param[in,out] d Decoder.
 *  \param[out] p   Its content: a pointer into the decoder's buffer (no copy).
 *  \param[out] len Its length in bytes. */
FS38_NODISCARD fs38_err fs38_cbor_get_tstr(fs38_cbor_dec *d, const char **p, size_t *len);
/** \brief Array head. \param[in,out] d Decoder. \param[out] n Number of elements that follow. */
FS38_NODISCARD fs38_err fs38_cbor_get_array(fs38_cbor_dec *d, size_t *n);
/** \brief Map head. \param[in,out] d Decoder. \param[out] n Number of key/value pairs that follow. */
FS38_NODISCARD fs38_err fs38_cbor_get_map(fs38_cbor_dec *d, size_t *n);
/** \brief Tag head (the tagged item follows). \param[in,out] d Decoder. \param[out] tag Tag number. */
FS38_NODISCARD fs38_err fs38_cbor_get_tag(fs38_cbor_dec *d, uint64_t *tag);
/** \brief The simple value null (0xf6). \param[in,out] d Decoder. */
FS38_NODISCARD fs38_err fs38_cbor_get_null(fs38_cbor_dec *d);
/** \brief false (0xf4) or true (0xf5). \param[in,out] d Decoder. \param[out] v The value. */
FS38_NODISCARD fs38_err fs38_cbor_get_bool(fs38_cbor_dec *d, bool *v);

/**
 * \brief Skip one whole item with everything nested in it (iterative, no recursion).
 *
 * \param[in,out] d Decoder; advanced past the item only on FS38_OK.
 * \return FS38_OK; FS38_ERR_CBOR_DEPTH when arrays / maps / tags nest deeper than
 *         d->max_depth (FS38_CBOR_MAX_DEPTH when 0 or larger); the decoding errors above for
 *         the item or anything inside it. Never FS38_ERR_CBOR_TYPE.
 */
FS38_NODISCARD fs38_err fs38_cbor_skip(fs38_cbor_dec *d);

/**
 * \brief Skip one item (as fs38_cbor_skip()) and return its whole encoding.
 *
 * \param[in,out] d   Decoder.
 * \param[out]    p   Start of the item's encoding (pointer into the decoder's buffer); may be NULL.
 * \param[out]    len Its encoded length; may be NULL.
 * \return as fs38_cbor_skip().
 */
FS38_NODISCARD fs38_err fs38_cbor_get_raw(fs38_cbor_dec *d, const uint8_t **p, size_t *len);

/**
 * \brief If the next item is tag `tag`, consume its head; otherwise leave the position.
 *
 * \param[in,out] d       Decoder.
 * \param[in]     tag     The tag number looked for.
 * \param[out]    present Must not be NULL; set false first, true when the tag was consumed.
 * \return FS38_OK (whether or not the tag was there); the decoding errors above when the next
 *         head cannot be read — including FS38_ERR_CBOR_TRUNCATED at the end of the buffer.
 */
FS38_NODISCARD fs38_err fs38_cbor_opt_tag(fs38_cbor_dec *d, uint64_t tag, bool *present);

/**
 * \brief Whether the next item has major type `major`.
 * \param[in] d Decoder. \param[in] major FS38_CBOR_UINT .. FS38_CBOR_SIMPLE.
 * \return true when it has; false at the end of the buffer or when the next head is invalid.
 */
bool fs38_cbor_next_is(const fs38_cbor_dec *d, uint8_t major);
/**
 * \brief Whether the next item is the simple value null.
 * \param[in] d Decoder.
 * \return true when it is; false otherwise (also at the end or on an invalid head).
 */
bool fs38_cbor_next_is_null(const fs38_cbor_dec *d);
/**
 * \brief Whether every byte of the buffer was consumed.
 * \param[in] d Decoder.
 * \return true when the position is at the end.
 */
bool fs38_cbor_at_end(const fs38_cbor_dec *d);

/**
 * \brief Check that exactly one well-formed item occupies buf[0..len) (default depth limit,
 *        preferred encoding required).
 *
 * \param[in] buf Encoded CBOR, or NULL (then len is taken as 0: FS38_ERR_CBOR_TRUNCATED).
 * \param[in] len Bytes in buf.
 * \return FS38_OK; FS38_ERR_CBOR_TRAILING when bytes follow the item; the errors of
 *         fs38_cbor_skip() (FS38_ERR_CBOR_TRUNCATED for an empty buffer).
 */
FS38_NODISCARD fs38_err fs38_cbor_check_single(const uint8_t *buf, size_t len);

/* ---- encoder ---- */
typedef struct fs38_cbor_enc {
    uint8_t *buf; /* NULL: only measure */
    size_t cap;
    size_t len;
    fs38_err err; /* first error, sticky */
} fs38_cbor_enc;

/**
 * \brief Start encoding into buf (or only measure when buf is NULL).
 *
 * \param[out] e   Encoder: length 0, no error.
 * \param[in]  buf Output buffer, cap bytes; kept by e (not copied) until encoding ends, so it
 *                 must outlive the put calls. NULL: nothing is written, every put only adds
 *                 its size to e->len (fs38_cbor_enc_finish then gives the size needed).
 * \param[in]  cap Capacity of buf (ignored when buf is NULL).
 */
void fs38_cbor_enc_init(fs38_cbor_enc *e, uint8_t *buf, size_t cap);

/*
 * Put calls: append one item (or head) in preferred (shortest) form. They return nothing: the
 * first item that does not fit sets e->err = FS38_ERR_BUFFER and every later put does nothing
 * (sticky), so a sequence of puts is checked once with fs38_cbor_enc_finish(). Content
 * pointers (p) are read during the call only and may be NULL only when len is 0 (or when
 * measuring). The caller writes a well-formed structure: array / map counts are not checked
 * against the items that follow.
 */

/** \brief Unsigned integer. \param[in,out] e Encoder. \param[in] v Value. */
void fs38_cbor_put_uint(fs38_cbor_enc *e, uint64_t v);
/** \brief Integer (major type 0 or 1). \param[in,out] e Encoder. \param[in] v Value. */
void fs38_cbor_put_int(fs38_cbor_enc *e, int64_t v);
/** \brief Byte string. \param[in,out] e Encoder. \param[in] p Content. \param[in] len Its length. */
void fs38_cbor_put_bstr(fs38_cbor_enc *e, const uint8_t *p, size_t len);
/** \brief Text string (bytes copied as given). \param[in,out] e Encoder. \param[in] p Content.
 *  \param[in] len Its length in bytes. */
void fs38_cbor_put_tstr(fs38_cbor_enc *e, const char *p, size_t len);
/** \brief Only the head of a byte string of len bytes; the caller appends exactly len content
 *  bytes next (fs38_cbor_put_raw or more puts). \param[in,out] e Encoder. \param[in] len Length. */
void fs38_cbor_put_bstr_head(fs38_cbor_enc *e, size_t len);
/** \brief Array head; n items must follow. \param[in,out] e Encoder. \param[in] n Count. */
void fs38_cbor_put_array(fs38_cbor_enc *e, size_t n);
/** \brief Map head; n key/value pairs must follow. \param[in,out] e Encoder. \param[in] n Pairs. */
void fs38_cbor_put_map(fs38_cbor_enc *e, size_t n);
/** \brief Tag head; the tagged item must follow. \param[in,out] e Encoder. \param[in] tag Number. */
void fs38_cbor_put_tag(fs38_cbor_enc *e, uint64_t tag);
/** \brief The simple value null. \param[in,out] e Encoder. */
void fs38_cbor_put_null(fs38_cbor_enc *e);
/** \brief true or false. \param[in,out] e Encoder. \param[in] v Value. */
void fs38_cbor_put_bool(fs38_cbor_enc *e, bool v);
/** \brief Bytes copied verbatim: already-encoded CBOR, or string content after
 *  fs38_cbor_put_bstr_head(). \param[in,out] e Encoder. \param[in] p Bytes. \param[in] len Count. */
void fs38_cbor_put_raw(fs38_cbor_enc *e, const uint8_t *p, size_t len);

/**
 * \brief Encode a head (major type, value) in preferred form.
 *
 * \param[in]  major Major type 0..7 (not checked).
 * \param[in]  v     Value / length / count.
 * \param[out] out   At least 9 bytes; the first (return value) bytes are written.
 * \return The head's length: 1, 2, 3, 5 or 9.
 */
size_t fs38_cbor_encode_head(uint8_t major, uint64_t v, uint8_t out[9]);

/**
 * \brief Encoded size of a head carrying value v.
 * \param[in] v Value / length / count.
 * \return 1, 2, 3, 5 or 9.
 */
size_t fs38_cbor_head_size(uint64_t v);

/**
 * \brief End of a sequence of puts: the sticky error and the length.
 *
 * \param[in]  e   Encoder (not changed; calling it again gives the same answer).
 * \param[out] len May be NULL. On FS38_OK the bytes written (or, when measuring, needed). On
 *                 FS38_ERR_BUFFER the bytes written before the first put that did not fit —
 *                 not the size needed: measure with a NULL buffer for that.
 * \return FS38_OK; FS38_ERR_BUFFER when an item did not fit in the buffer.
 */
FS38_NODISCARD fs38_err fs38_cbor_enc_finish(const fs38_cbor_enc *e, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* FS38_CBOR_H */
