/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/coap.h — CoAP client (RFC 7252) with block-wise transfers (RFC 7959, RFC 9177 Q-Block2),
 * control 4.
 *
 * Three layers, each usable on its own:
 *
 *   codec     fs38_coap_encode / fs38_coap_decode: one message <-> bytes. The decoder is
 *             strict and bounded (no allocation, at most FS38_COAP_MAX_OPTIONS options, at most
 *             FS38_COAP_MSG_MAX bytes): it refuses a version other than 1, a token length of
 *             9..15, a reserved code class (1, 6, 7), an empty message (0.00) with a token,
 *             options or payload, the reserved option nibble 15 (outside the payload marker),
 *             the reserved option number 0, an option number beyond 65535 (delta overflow), an option or extended field
 *             running past the end, and a payload marker followed by no payload. Decoded option
 *             values and the payload point into the caller's buffer.
 *   exchange  fs38_coap_exchange: one confirmable request and its response over an
 *             fs38_transport (a datagram one: DTLS from fs38_channel). Random token (8 bytes)
 *             and message ids from the port's entropy; retransmission after ACK_TIMEOUT x a
 *             random factor, doubled each time, at most MAX_RETRANSMIT times (RFC 7252 §4.8,
 *             defaults 2 s, 1.5, 4; configurable for tests); piggy-backed responses, and
 *             separate ones (empty ACK first, then a CON response that the client ACKs);
 *             duplicates of an earlier separate response are ACKed again and otherwise
 *             ignored, stale ACKs / RSTs are ignored, an unexpected CON is answered with RST.
 *   transfers fs38_coap_get (Block2 download streamed block by block to a callback, with a
 *             start offset for resuming) and fs38_coap_upload (Block1 POST/PUT of a buffer,
 *             following 2.31 Continue and the size a 4.13 asks for).
 *
 * Pipelined Block2 (cfg.nstart > 1): RFC 7252 §4.7 limits a client to NSTART outstanding
 * interactions with a server, 1 by default, a value §4.8.1 lets a deployment change by
 * configuration; RFC 7959 §2.4 lets a client ask for any block of a resource by number (random
 * access). With nstart = N > 1 and a server that announces the total (Size2, asked for in the
 * first request), fs38_coap_get keeps up to N confirmable GETs for consecutive blocks in flight,
 * each its own exchange (message id, token, retransmission timer), so a download costs about one
 * round trip per N blocks instead of one per block. Blocks are still delivered in order, straight
 * from the receive buffer (no reordering buffer, no copy): a block that arrives before an
 * earlier one still in flight is dropped and asked for again in a fresh exchange once the
 * blocks before it are in (so a loss costs at most N - 1 blocks twice); a lost request or
 * response is retransmitted by its own timer as in RFC 7252 §4.8, and a request unanswered
 * after MAX_RETRANSMIT retransmissions ends the download with FS38_ERR_TIMEOUT; a server that answers with a smaller block than asked ends the pipelining and the rest
 * is fetched lock-step with the smaller size. Every check of the lock-step download applies to
 * every block.
 * Q-Block2 (cfg.qblock2, RFC 9177): fs38_coap_get asks for the body with one NON GET carrying
 * Q-Block2 NUM/M=1 (and Size2 = 0); the server pushes the blocks of the current set of
 * MAX_PAYLOADS (cfg.max_payloads, default 10, RFC 9177 §7.2) as NON (or CON, which are ACKed)
 * responses, and after the last block of each set the client sends the 'Continue' request
 * (NUM = the next block, a multiple of MAX_PAYLOADS, M = 1; RFC 9177 §4.4), so a download costs
 * one request per MAX_PAYLOADS blocks instead of one per block. Blocks are delivered in order
 * straight from the receive buffer (no reordering buffer, no copy): a block that arrives
 * before the one the client needs (a loss in the burst) is dropped and the client asks once
 * for the block it needs with M = 1 ("that block and the rest of its set", RFC 9177 §4.4), so a
 * loss costs at most MAX_PAYLOADS - 1 blocks twice; duplicates are ignored; the 'Continue'
 * leaves as soon as the last block of a set has been received and checked, before that block
 * is delivered; with cfg.set_buf (caller's RAM, MAX_PAYLOADS x block size) the whole set is
 * held and delivered after the 'Continue' in one sink call, so the receiver's work on a set
 * overlaps the server's sending of the next one (bench/channel.c measures both; without it the
 * server waits for the receiver at every set); the bytes held are delivered before
 * fs38_coap_get returns, also when it returns an error (they were checked); NON_TIMEOUT is
 * ACK_TIMEOUT, doubled each time nothing arrives, at most MAX_RETRANSMIT times (then
 * FS38_ERR_TIMEOUT). Every request of one download carries the same 4 random token bytes and a
 * 4-byte request counter; an answer is taken when its token is one this download sent.
 * Fallback: a server that does not know the critical Q-Block2 option rejects the first (NON)
 * request with RST (RFC 7252 §5.4.1; Debian 12's libcoap 4.3.1 does), or answers it 4.02 Bad
 * Option, or answers with Block2: the download then goes on with
 * RFC 7959 Block2 (confirmable, cfg.nstart) from the same offset, nothing having been
 * delivered. Every check of the Block2 download (ETag, Size2, block sizes, offsets) applies to
 * every Q-Block2 block; a Q-Block2 answer whose block size differs from the first is refused.
 * A resume (offset in block 1 or later) uses Block2 even with cfg.qblock2: RFC 9177 §4.4
 * would let the client ask for "block NUM and the rest of its set", but libcoap 4.3.4 answers
 * a Q-Block2 request for NUM != 0 that did not follow a NUM 0 request of the same body with
 * that one block only (no set, no Size2, no ETag), so every further block would cost a
 * NON_TIMEOUT (tested: tests/net/coap_qblock.sh).
 * Interop note: libcoap 4.3.4 (Debian 13) remembers that a DTLS session used Q-Block2 and
 * answers that session's later plain Block2 requests with Q-Block2 too (refused as an
 * unrecognised critical option by a client without cfg.qblock2): do not mix the two modes on
 * one channel. Debian 12's libcoap 4.3.1 has no Q-Block (the fallback path).
 *
 * Plaintext is not a mode of the library: the client only speaks over the fs38_transport it
 * is given, and the device builds that from a DTLS channel. fs38_coap_uri_parse() accepts
 * `coap://` too (it only reports the scheme, host, port, path and query) so that tests can run
 * the client over a plain UDP socket of their own (tests/, never src/); a device refuses a
 * URI whose `secure` flag is false.
 *
 * Refusals: every message the client refuses — malformed, oversized, wrong token or message
 * id in a piggy-backed answer, a block that does not continue the transfer, a changed ETag, an
 * unrecognised critical option, a 4.xx/5.xx answer ("server answered 4.04 Not Found") — ends
 * the call with FS38_ERR_PROTOCOL or FS38_ERR_PEER, fills the client's diag, raises
 * fs38_event(FS38_EV_COAP_REFUSED, FS38_SEV_WARNING, err, diag) and delivers nothing further
 * (no byte of the refused message reaches the callback).
 *
 * Contexts are caller-owned (fs38_coap_client is about 4 KiB: one transmit and one receive
 * buffer of FS38_COAP_MSG_MAX bytes, two message descriptors and FS38_COAP_NSTART_MAX request
 * slots of 32 bytes); no allocation, no stdio.
 * One client is used by one thread at a time.
 */
#ifndef FS38_COAP_H
#define FS38_COAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fs38/err.h"
#include "fs38/net.h"
#include "fs38/port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest message the client sends or accepts (header, token, options, 1024-byte block). */
#define FS38_COAP_MSG_MAX 1280u
/* Most options one message may carry (decoder limit and builder capacity). */
#define FS38_COAP_MAX_OPTIONS 24u
/* Longest URI fs38_coap_uri_parse accepts, and longest host. */
#define FS38_COAP_URI_MAX 255u
#define FS38_COAP_HOST_MAX 127u
#define FS38_COAP_TOKEN_MAX 8u
/* Most Block2 requests fs38_coap_get keeps in flight (fs38_coap_config.nstart). */
#define FS38_COAP_NSTART_MAX 16u
/* Default and largest MAX_PAYLOADS of a Q-Block2 download (RFC 9177 §7.2; cfg.max_payloads). */
#define FS38_COAP_MAX_PAYLOADS 10u
#define FS38_COAP_MAX_PAYLOADS_MAX 64u
/* Default ports (RFC 7252 §6.1, §6.2). */
#define FS38_COAP_PORT 5683u
#define FS38_COAPS_PORT 5684u

/* Message types. */
#define FS38_COAP_CON 0u
#define FS38_COAP_NON 1u
#define FS38_COAP_ACK 2u
#define FS38_COAP_RST 3u

/* Codes: class.detail packed as class << 5 | detail. */
#define FS38_COAP_CODE(cls, detail) ((uint8_t)(((cls) << 5) | (detail)))
#define FS38_COAP_CODE_CLASS(code) ((unsigned)(code) >> 5)
#define FS38_COAP_CODE_DETAIL(code) ((unsigned)(code)&0x1fu)
#define FS38_COAP_EMPTY FS38_COAP_CODE(0, 0)
#define FS38_COAP_GET FS38_COAP_CODE(0, 1)
#define FS38_COAP_POST FS38_COAP_CODE(0, 2)
#define FS38_COAP_PUT FS38_COAP_CODE(0, 3)
#define FS38_COAP_DELETE FS38_COAP_CODE(0, 4)
#define FS38_COAP_CREATED FS38_COAP_CODE(2, 1)
#define FS38_COAP_CHANGED FS38_COAP_CODE(2, 4)
#define FS38_COAP_CONTENT FS38_COAP_CODE(2, 5)
#define FS38_COAP_CONTINUE FS38_COAP_CODE(2, 31)
#define FS38_COAP_BAD_OPTION FS38_COAP_CODE(4, 2)
#define FS38_COAP_NOT_FOUND FS38_COAP_CODE(4, 4)
#define FS38_COAP_TOO_LARGE FS38_COAP_CODE(4, 13)

/* Option numbers (RFC 7252 §5.10, RFC 7959 §2.1, §4). */
#define FS38_COAP_OPT_IF_MATCH 1u
#define FS38_COAP_OPT_URI_HOST 3u
#define FS38_COAP_OPT_ETAG 4u
#define FS38_COAP_OPT_URI_PORT 7u
#define FS38_COAP_OPT_LOCATION_PATH 8u
#define FS38_COAP_OPT_URI_PATH 11u
#define FS38_COAP_OPT_CONTENT_FORMAT 12u
#define FS38_COAP_OPT_MAX_AGE 14u
#define FS38_COAP_OPT_URI_QUERY 15u
#define FS38_COAP_OPT_ACCEPT 17u
#define FS38_COAP_OPT_LOCATION_QUERY 20u
#define FS38_COAP_OPT_QBLOCK1 19u /* RFC 9177 */
#define FS38_COAP_OPT_BLOCK2 23u
#define FS38_COAP_OPT_BLOCK1 27u
#define FS38_COAP_OPT_SIZE2 28u
#define FS38_COAP_OPT_QBLOCK2 31u /* RFC 9177 */
#define FS38_COAP_OPT_SIZE1 60u

/* Content-Format: none (do not send the option). */
#define FS38_COAP_FORMAT_NONE (-1)

/* One option. Decoded: value points into the decoded buffer. Built with
 * fs38_coap_opt_add_uint: value is NULL and the bytes are in inl (so a message can be copied). */
typedef struct fs38_coap_option {
    uint16_t number;
    uint16_t len;
    const uint8_t *value;
    uint8_t inl[4];
} fs38_coap_option;

/* One message. Options are kept sorted by number (the builders insert in order; the encoder
 * refuses an unsorted list). */
typedef struct fs38_coap_msg {
    uint8_t type;       /* FS38_COAP_CON .. FS38_COAP_RST */
    uint8_t code;       /* FS38_COAP_CODE(class, detail) */
    uint16_t mid;       /* message id */
    uint8_t token_len;  /* 0..8 */
    uint8_t token[FS38_COAP_TOKEN_MAX];
    size_t n_options;
    fs38_coap_option options[FS38_COAP_MAX_OPTIONS];
    const uint8_t *payload; /* NULL when payload_len is 0 */
    size_t payload_len;
} fs38_coap_msg;

/* A parsed coap:// or coaps:// URI (RFC 7252 §6). path and query are kept percent-encoded,
 * without their leading '/' and '?'. */
typedef struct fs38_coap_uri {
    bool secure;   /* coaps */
    bool host_is_ip; /* an IPv4 or [IPv6] literal (no Uri-Host option is sent) */
    uint16_t port;
    char host[FS38_COAP_HOST_MAX + 1u];
    char path[FS38_COAP_URI_MAX + 1u];
    char query[FS38_COAP_URI_MAX + 1u];
} fs38_coap_uri;

/* Client configuration. Zero fields take the RFC 7252 defaults. */
typedef struct fs38_coap_config {
    const fs38_transport *transport; /* datagram transport (kept by pointer) */
    const fs38_port *port;           /* entropy and monotonic_ms (kept by pointer) */
    uint32_t ack_timeout_ms;         /* ACK_TIMEOUT, 0 = 2000 */
    uint16_t ack_random_factor_pct;  /* ACK_RANDOM_FACTOR x 100, 100..400; 0 = 150 */
    uint8_t max_retransmit;          /* MAX_RETRANSMIT, 1..8; 0 = 4 */
    uint16_t block_size;             /* preferred block size: 16, 32, ..., 1024; 0 = 1024 */
    uint32_t response_timeout_ms;    /* wait for a separate response after its empty ACK;
                                        0 = 30000 */
    uint8_t nstart;                  /* NSTART (RFC 7252 §4.7): Block2 requests in flight during
                                        fs38_coap_get, 1..FS38_COAP_NSTART_MAX; 0 = 1 (the RFC's
                                        default: lock-step). See the top of this header. */
    bool qblock2;                    /* fs38_coap_get uses RFC 9177 Q-Block2 (NON, server-pushed
                                        sets of max_payloads blocks), falling back to Block2
                                        when the server does not support it. See the top. */
    uint8_t max_payloads;            /* MAX_PAYLOADS for Q-Block2, 1..FS38_COAP_MAX_PAYLOADS_MAX;
                                        0 = 10 (RFC 9177's default; libcoap's). */
    uint8_t *set_buf;                /* optional, Q-Block2 only (caller-owned, kept by pointer,
                                        contents undefined after fs38_coap_get): the blocks of
                                        a set are held here and handed to the sink together
                                        once the set is complete and its 'Continue' has gone
                                        out, so the sink's work (hash, flash writes) overlaps
                                        the server's next set instead of delaying the request
                                        for it. NULL: each block goes to the sink as it
                                        arrives (no copy). See the top of this header. */
    size_t set_buf_len;              /* its size: max_payloads x block size holds a whole set;
                                        a smaller buffer is handed on whenever it is full */
} fs38_coap_config;

/* One Block2 request in flight (pipelined download). */
typedef struct fs38_coap_slot {
    uint64_t deadline;   /* retransmission (or separate-response) deadline, port ms */
    uint32_t num;        /* block number asked for */
    uint32_t timeout;    /* current retransmission timeout */
    uint16_t mid;
    uint8_t token[FS38_COAP_TOKEN_MAX];
    uint8_t retransmits;
    uint8_t state;       /* 0 free, 1 sent, 2 acknowledged (separate response awaited),
                            3 answered ahead of an earlier block (dropped, asked again later) */
} fs38_coap_slot;

/* The client (fields are the implementation's). */
typedef struct fs38_coap_client {
    fs38_coap_config FS38_PRIVATE(cfg);
    uint16_t FS38_PRIVATE(next_mid);
    uint16_t FS38_PRIVATE(seen_mid)[FS38_COAP_NSTART_MAX]; /* separate responses already ACKed */
    uint8_t FS38_PRIVATE(seen_n);
    uint8_t FS38_PRIVATE(szx);
    fs38_diag diag;                     /* why the last call failed */
    fs38_coap_msg FS38_PRIVATE(req);
    fs38_coap_msg FS38_PRIVATE(resp);
    size_t FS38_PRIVATE(tx_len);
    uint8_t FS38_PRIVATE(tx)[FS38_COAP_MSG_MAX];
    uint8_t FS38_PRIVATE(rx)[FS38_COAP_MSG_MAX];
    uint8_t FS38_PRIVATE(uri_opts)[FS38_COAP_URI_MAX + 1u]; /* decoded Uri-Path / Uri-Query */
    uint8_t FS38_PRIVATE(etag)[8];
    uint8_t FS38_PRIVATE(etag_len);
    uint32_t FS38_PRIVATE(rerequests); /* pipelined blocks dropped and asked for again; Q-Block2:
                                          requests for a block after one that overtook it */
    bool FS38_PRIVATE(qb);             /* a Q-Block2 download is running (option 31 known) */
    uint8_t FS38_PRIVATE(qb_token)[4]; /* the random part of its tokens */
    uint32_t FS38_PRIVATE(qb_n);       /* requests it sent (the token's counter) */
    uint16_t FS38_PRIVATE(qb_mid);     /* message id of the last one (an RST names it) */
    bool FS38_PRIVATE(qb_used);        /* the last fs38_coap_get went Q-Block2 (no fallback) */
    fs38_coap_slot FS38_PRIVATE(slot)[FS38_COAP_NSTART_MAX];
} fs38_coap_client;

/**
 * \brief Block sink of fs38_coap_get: called once per received block, in order.
 *
 * \param[in] user   The pointer given to fs38_coap_get.
 * \param[in] offset Byte offset of data in the resource (continues the previous call).
 * \param[in] data   len bytes, valid during the call only.
 * \param[in] len    1..1024.
 * \return FS38_OK to go on; any other code stops the download and is returned by it.
 */
typedef fs38_err (*fs38_coap_sink)(void *user, uint32_t offset, const uint8_t *data, size_t len);

/**
 * \brief Start a message: type, code, message id and token; no options, no payload.
 *
 * \param[out] m         Message to reset.
 * \param[in]  type      FS38_COAP_CON .. FS38_COAP_RST.
 * \param[in]  code      Request or response code.
 * \param[in]  mid       Message id.
 * \param[in]  token     token_len bytes (may be NULL when token_len is 0).
 * \param[in]  token_len 0..8.
 * \return FS38_OK; FS38_ERR_ARG when m is NULL, type > 3 or token_len > 8 (m is then left
 *         untouched).
 */
FS38_NODISCARD fs38_err fs38_coap_msg_init(fs38_coap_msg *m, uint8_t type, uint8_t code, uint16_t mid,
                                           const uint8_t *token, size_t token_len);

/**
 * \brief Add an option with an opaque or string value, after any option of the same number.
 *
 * \param[in,out] m      Message.
 * \param[in]     number Option number (1..65535).
 * \param[in]     value  len bytes, kept by pointer until the message is encoded.
 * \param[in]     len    0..1034 (the encoder's 14-form limit is 65804; CoAP values stay small).
 * \return FS38_OK; FS38_ERR_ARG for number 0 or len > 1034; FS38_ERR_LIMIT when the
 *         message already holds FS38_COAP_MAX_OPTIONS options.
 */
FS38_NODISCARD fs38_err fs38_coap_opt_add(fs38_coap_msg *m, uint16_t number, const uint8_t *value, size_t len);

/**
 * \brief Add an option with an unsigned integer value in its shortest form (0 is empty).
 *
 * \param[in,out] m      Message.
 * \param[in]     number Option number (1..65535).
 * \param[in]     value  The value (stored inside the option).
 * \return FS38_OK; FS38_ERR_ARG for number 0; FS38_ERR_LIMIT when the message is full.
 */
FS38_NODISCARD fs38_err fs38_coap_opt_add_uint(fs38_coap_msg *m, uint16_t number, uint32_t value);

/**
 * \brief The n-th (from 0) option with this number.
 *
 * \param[in] m      Message.
 * \param[in] number Option number.
 * \param[in] n      Which occurrence.
 * \return The option, or NULL when there is no such occurrence.
 */
const fs38_coap_option *fs38_coap_opt_find(const fs38_coap_msg *m, uint16_t number, size_t n);

/**
 * \brief The value bytes of an option (decoded or built).
 *
 * \param[in] o Option.
 * \return Pointer to o->len bytes (never NULL).
 */
const uint8_t *fs38_coap_opt_value(const fs38_coap_option *o);

/**
 * \brief Read an option as an unsigned integer (0..4 bytes, big endian).
 *
 * \param[in]  o     Option.
 * \param[out] value The value.
 * \param[out] d     Diagnostic, may be NULL.
 * \return FS38_OK; FS38_ERR_PROTOCOL when the value is longer than 4 bytes.
 */
FS38_NODISCARD fs38_err fs38_coap_opt_uint(const fs38_coap_option *o, uint32_t *value, fs38_diag *d);

/**
 * \brief Encode a message (RFC 7252 §3): header, token, options with delta/length in the
 *        4-bit, 13 (+1 byte) and 14 (+2 bytes) forms, payload marker and payload.
 *
 * \param[in]  m   Message; options sorted by number.
 * \param[out] buf cap bytes.
 * \param[in]  cap Capacity of buf.
 * \param[out] len Bytes written (on FS38_OK only).
 * \param[out] d   Diagnostic, may be NULL.
 * \return FS38_OK; FS38_ERR_ARG for a type > 3, token_len > 8, options out of order or an
 *         option number of 0, an empty message (0.00) with token/options/payload, or a payload
 *         pointer NULL with payload_len > 0; FS38_ERR_BUFFER when the message does not fit cap.
 */
FS38_NODISCARD fs38_err fs38_coap_encode(const fs38_coap_msg *m, uint8_t *buf, size_t cap, size_t *len, fs38_diag *d);

/**
 * \brief Decode one message strictly (see the list at the top of this header).
 *
 * \param[in]  buf len bytes; option values and the payload of m point into it.
 * \param[in]  len Length of the datagram.
 * \param[out] m   The message (meaningful on FS38_OK only).
 * \param[out] d   Diagnostic naming what is wrong and at which byte, may be NULL.
 * \return FS38_OK; FS38_ERR_ARG when buf or m is NULL; FS38_ERR_PROTOCOL for a malformed
 *         message, more than FS38_COAP_MAX_OPTIONS options or more than FS38_COAP_MSG_MAX
 *         bytes.
 */
FS38_NODISCARD fs38_err fs38_coap_decode(const uint8_t *buf, size_t len, fs38_coap_msg *m, fs38_diag *d);

/**
 * \brief Pack a Block1/Block2 value (RFC 7959 §2.2): NUM << 4 | M << 3 | SZX.
 *
 * \param[in] num  Block number, 0..2^20-1.
 * \param[in] more More blocks follow.
 * \param[in] szx  Size exponent 0..6 (size 2^(szx+4)).
 * \return The option value (encode it with fs38_coap_opt_add_uint).
 */
uint32_t fs38_coap_block_pack(uint32_t num, bool more, unsigned szx);

/**
 * \brief Unpack a Block1/Block2 option value.
 *
 * \param[in]  value The option value (at most 3 bytes on the wire: < 2^24).
 * \param[out] num   Block number.
 * \param[out] more  M bit.
 * \param[out] szx   Size exponent 0..6.
 * \param[out] d     Diagnostic, may be NULL.
 * \return FS38_OK; FS38_ERR_PROTOCOL for the reserved SZX 7 or a value of 2^24 or more.
 */
FS38_NODISCARD fs38_err fs38_coap_block_unpack(uint32_t value, uint32_t *num, bool *more, unsigned *szx, fs38_diag *d);

/**
 * \brief Name of a response code ("Not Found" for 4.04), for diagnostics.
 *
 * \param[in] code A CoAP code.
 * \return A static string; "Unknown" for a code RFC 7252 / RFC 7959 do not name; never NULL.
 */
const char *fs38_coap_code_name(uint8_t code);

/**
 * \brief Parse `coaps://host[:port][/path][?query]` (or `coap://`, see the top of this
 *        header): host a name (letters, digits, '-', '.', '_', '~'), an IPv4 literal or an
 *        [IPv6] literal; no user info, no fragment; percent escapes must be well-formed.
 *
 * \param[in]  text NUL-terminated URI, at most FS38_COAP_URI_MAX characters.
 * \param[out] uri  The parts (port defaults to 5684 for coaps, 5683 for coap).
 * \param[out] d    Diagnostic, may be NULL.
 * \return FS38_OK; FS38_ERR_ARG when text or uri is NULL, for another scheme, an empty or
 *         invalid host, a port outside 1..65535, user info, a fragment, a bad percent escape,
 *         a character not allowed in a URI, or a URI longer than FS38_COAP_URI_MAX.
 */
FS38_NODISCARD fs38_err fs38_coap_uri_parse(const char *text, fs38_coap_uri *uri, fs38_diag *d);

/**
 * \brief Set up a client: check the configuration and draw a random first message id.
 *
 * \param[out] c   Client (wiped first).
 * \param[in]  cfg Configuration (copied; its transport and port are kept by pointer).
 * \return FS38_OK; FS38_ERR_ARG when c or cfg is NULL, the transport is not a datagram one or
 *         lacks send/recv, the port lacks entropy or monotonic_ms, or a timing/size field is
 *         out of range; any error of the port's entropy callback.
 */
FS38_NODISCARD fs38_err fs38_coap_client_init(fs38_coap_client *c, const fs38_coap_config *cfg);

/**
 * \brief One confirmable exchange: send req as CON with a fresh message id and random 8-byte
 *        token, retransmit until it is acknowledged, and return the response.
 *
 * The response is piggy-backed (an ACK with the request's message id and token) or separate
 * (an empty ACK, then a CON/NON with the token, which is ACKed). The response must carry a
 * response code (class 2..5); it is returned as it is: a 4.xx/5.xx is not refused here.
 *
 * \param[in,out] c    Client.
 * \param[in,out] req  The request: code, options and payload; its type, mid and token are set
 *                     here.
 * \param[out]    resp The response; its option values and payload point into c's receive
 *                     buffer (valid until the next call on c).
 * \return FS38_OK; FS38_ERR_ARG (NULL argument, req not a request code); FS38_ERR_BUFFER when
 *         req does not encode into FS38_COAP_MSG_MAX bytes; FS38_ERR_TIMEOUT after
 *         MAX_RETRANSMIT retransmissions without an answer, or no separate response in time;
 *         FS38_ERR_PROTOCOL (refusal, event) for a malformed or oversized datagram, a
 *         piggy-backed answer with another token, a request code in an answer, or an
 *         unrecognised critical option; FS38_ERR_PEER (refusal, event) when the server
 *         answers RST; FS38_ERR_NET / FS38_ERR_CLOSED / FS38_ERR_TLS from the transport; any
 *         error of the port's entropy callback.
 */
FS38_NODISCARD fs38_err fs38_coap_exchange(fs38_coap_client *c, fs38_coap_msg *req, fs38_coap_msg *resp);

/**
 * \brief GET a resource block-wise (Block2) and stream it to sink, from byte offset on.
 *
 * Requests blocks of the preferred size (cfg.block_size) starting with block
 * offset / size (the part of that block before offset is not delivered), with up to cfg.nstart
 * requests in flight once the first answer gave the block size and Size2 (see the top of this
 * header), follows a smaller size chosen by the server, checks every block continues the previous one, that the ETag
 * stays the same across blocks and that the total matches Size2 when the server sends it. A
 * resource served without Block2 is delivered whole (minus its first offset bytes).
 *
 * \param[in,out] c      Client.
 * \param[in]     uri    Target (path and query become Uri-Path / Uri-Query options; a host
 *                       name, not an IP literal, becomes Uri-Host).
 * \param[in]     offset Where to start (0, or the resume point).
 * \param[in]     sink   Receives the bytes in order, block by block (with cfg.set_buf and
 *                       Q-Block2: in runs of up to cfg.set_buf_len bytes, a set at a time).
 * \param[in]     user   Passed to sink.
 * \param[out]    total  May be NULL: the resource's length (offset + bytes delivered) on
 *                       FS38_OK.
 * With cfg.qblock2 the blocks come as RFC 9177 Q-Block2 sets (see the top of this header),
 * or, when the server rejects the first request (RST) or answers it 4.02 Bad Option or with
 * Block2, as Block2.
 *
 * \return FS38_OK; FS38_ERR_PEER (refusal, event; diag "server answered 4.04 Not Found") for
 *         a 4.xx/5.xx answer; FS38_ERR_PROTOCOL (refusal, event) for a response other than
 *         2.05, a block that is not the next one, larger than asked, or of the wrong length,
 *         a changed ETag, a total different from Size2, an offset beyond the resource, more
 *         than 2^20 blocks, a Q-Block2 block of another size than the first; FS38_ERR_TIMEOUT
 *         when a Q-Block2 download gets no block it can use after MAX_RETRANSMIT requests
 *         again; the sink's own error; every error of fs38_coap_exchange.
 */
FS38_NODISCARD fs38_err fs38_coap_get(fs38_coap_client *c, const fs38_coap_uri *uri, uint32_t offset,
                                      fs38_coap_sink sink, void *user, uint32_t *total);

/**
 * \brief Did the last fs38_coap_get of c receive the body as RFC 9177 Q-Block2 sets?
 *
 * \param[in] c Client (NULL: false).
 * \return true when the last fs38_coap_get (whatever it returned) asked with cfg.qblock2 and
 *         the server answered with Q-Block2; false when it went Block2 (no cfg.qblock2, a
 *         resume from a later block, or the fallback for a server without Q-Block2).
 */
bool fs38_coap_qblock2_used(const fs38_coap_client *c);

/**
 * \brief POST or PUT a body block-wise (Block1): one request when it fits one block.
 *
 * Follows 2.31 Continue (and the smaller block size the server asks for in it), restarts from
 * the first block with the size a 4.13 Request Entity Too Large names (each restart smaller,
 * so at most 6), and ends with the server's final 2.01 Created or 2.04 Changed.
 *
 * \param[in,out] c              Client.
 * \param[in]     uri            Target.
 * \param[in]     method         FS38_COAP_POST or FS38_COAP_PUT.
 * \param[in]     content_format Content-Format number 0..65535, or FS38_COAP_FORMAT_NONE.
 * \param[in]     data           len bytes (may be NULL when len is 0).
 * \param[in]     len            At most 2^20 blocks of the block size in use.
 * \param[out]    code           May be NULL: the final response code on FS38_OK.
 * \return FS38_OK; FS38_ERR_ARG for a bad method, content format or length; FS38_ERR_PEER
 *         (refusal, event) for a 4.xx/5.xx answer (a 4.13 without a usable smaller size
 *         included); FS38_ERR_PROTOCOL (refusal, event) for a final code other than 2.01/2.04,
 *         a 2.31 after the last block, a Block1 echo that does not match the block sent, a
 *         larger block size; every error of fs38_coap_exchange.
 */
FS38_NODISCARD fs38_err fs38_coap_upload(fs38_coap_client *c, const fs38_coap_uri *uri, uint8_t method,
                                         int32_t content_format, const uint8_t *data, size_t len, uint8_t *code);

#ifdef __cplusplus
}
#endif
#endif /* FS38_COAP_H */
