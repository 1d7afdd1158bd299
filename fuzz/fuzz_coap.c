/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_coap.c — libFuzzer target for the CoAP codec and the client's response handling
 * (fs38/coap.h).
 *
 * Input: one mode byte, then
 *   mode % 3 == 0  one datagram for fs38_coap_decode. Invariant: an accepted message re-encodes
 *                  to exactly the input bytes (option deltas/lengths have one encoding each), so
 *                  the decoder accepts nothing it cannot represent, and decodes the re-encoding
 *                  to the same message.
 *   mode % 3 == 1  a Block2 download (fs38_coap_get, offset = next byte x 37, NSTART =
 *                  1 + (mode / 3) % 4: lock-step or 2..4 requests in flight; with
 *                  (mode / 12) % 2 == 1 an RFC 9177 Q-Block2 download instead (cfg.qblock2,
 *                  MAX_PAYLOADS = 1 + (mode / 24) % 10), whose fallback to Block2 the same
 *                  records can reach) whose server is
 *   mode % 3 == 2  a Block1 upload of 3000 bytes (fs38_coap_upload)
 *                  the rest of the input: records [flags][len][len bytes] handed out one per
 *                  recv (flags bit 0: patch in the message id of a recent request, bit 1: its
 *                  token, so the fuzzer reaches past the matching; bits 2-3: which request,
 *                  0 the last one sent, 1 the one before, ... so that the answers to a pipeline
 *                  of requests can come in any order); when they run out, recv times out and a
 *                  fake clock advances (retransmissions are bounded).
 *                  Invariants: the sink sees contiguous offsets starting at the requested one,
 *                  1..1024 bytes each; every FS38_ERR_PROTOCOL / FS38_ERR_PEER raised exactly
 *                  one FS38_EV_COAP_REFUSED; the result is one of the documented codes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fs38/coap.h"
#include "fs38/event.h"

#define FUZZ_NAME "fuzz_coap"
#include "fuzz_common.h"

typedef struct {
    const uint8_t *in;
    size_t len, pos;
    uint64_t clock;
    uint16_t last_mid[4]; /* [0] the last request sent, [1] the one before, ... */
    uint8_t last_token[4][8];
    uint32_t rng;
} fake;

static unsigned g_events;
static void ev_sink(void *user, const fs38_event_rec *ev)
{
    (void)user;
    if (ev->code == FS38_EV_COAP_REFUSED)
        g_events++;
}

static fs38_err f_send(void *ctx, const uint8_t *buf, size_t len)
{
    fake *f = ctx;
    CHECK(len >= 4 && len <= FS38_COAP_MSG_MAX);
    if (buf[1] != 0 && (buf[0] & 15u) == 8u && len >= 12) { /* a request: remember mid/token */
        memmove(f->last_mid + 1, f->last_mid, 3 * sizeof f->last_mid[0]);
        memmove(f->last_token[1], f->last_token[0], 3 * sizeof f->last_token[0]);
        f->last_mid[0] = (uint16_t)(buf[2] << 8 | buf[3]);
        memcpy(f->last_token[0], buf + 4, 8);
    }
    return FS38_OK;
}

static fs38_err f_recv(void *ctx, uint8_t *buf, size_t cap, size_t *len, uint32_t timeout_ms)
{
    fake *f = ctx;
    if (f->len - f->pos < 3) {
        f->clock += timeout_ms;
        return FS38_ERR_TIMEOUT;
    }
    uint8_t flags = f->in[f->pos];
    size_t n = (size_t)f->in[f->pos + 1] << 8 | f->in[f->pos + 2];
    f->pos += 3;
    if (n > f->len - f->pos)
        n = f->len - f->pos;
    const uint8_t *src = f->in + f->pos;
    f->pos += n;
    if (flags & 0x80u)
        return FS38_ERR_TIMEOUT;
    if (n > cap)
        return FS38_ERR_BUFFER;
    if (n == 0) {
        f->clock += 1;
        return FS38_ERR_TIMEOUT;
    }
    memcpy(buf, src, n);
    unsigned which = (flags >> 2) & 3u;
    if ((flags & 1u) && n >= 4) {
        buf[2] = (uint8_t)(f->last_mid[which] >> 8);
        buf[3] = (uint8_t)f->last_mid[which];
    }
    if ((flags & 2u) && n >= 12 && (buf[0] & 15u) == 8u)
        memcpy(buf + 4, f->last_token[which], 8);
    *len = n;
    return FS38_OK;
}

static uint64_t f_clock(void *ctx)
{
    return ((fake *)ctx)->clock;
}

static fs38_err f_entropy(void *ctx, uint8_t *buf, size_t len)
{
    fake *f = ctx;
    for (size_t i = 0; i < len; i++) {
        f->rng = f->rng * 1103515245u + 12345u;
        buf[i] = (uint8_t)(f->rng >> 16);
    }
    return FS38_OK;
}

typedef struct {
    uint32_t start, next;
    unsigned calls;
} sink_state;

static fs38_err sink(void *user, uint32_t offset, const uint8_t *data, size_t len)
{
    sink_state *s = user;
    /* a block is at most 1024 bytes; a response without Block2 (the whole representation in one
     * message, allowed as the answer to the first request) at most what a message carries */
    CHECK(len >= 1 && len < FS38_COAP_MSG_MAX);
    CHECK(offset == (s->calls ? s->next : s->start));
    volatile uint8_t x = 0;
    for (size_t i = 0; i < len; i++)
        x ^= data[i]; /* ASan sees any read past the block */
    (void)x;
    s->calls++;
    s->next = offset + (uint32_t)len;
    return FS38_OK;
}

static void decode_mode(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    CHECK(copy);
    memcpy(copy, data, size);
    fs38_coap_msg m, m2;
    fs38_diag d;
    fs38_err err = fs38_coap_decode(copy, size, &m, &d);
    CHECK(err == FS38_OK || err == FS38_ERR_PROTOCOL);
    if (err == FS38_OK) {
        static uint8_t out[FS38_COAP_MSG_MAX + 16];
        size_t n = 0;
        CHECK(fs38_coap_encode(&m, out, sizeof out, &n, NULL) == FS38_OK);
        CHECK(n == size && memcmp(out, copy, size) == 0);
        CHECK(fs38_coap_decode(out, n, &m2, NULL) == FS38_OK);
        CHECK(m2.n_options == m.n_options && m2.payload_len == m.payload_len && m2.code == m.code);
        for (size_t i = 0; i < m.n_options; i++) {
            uint32_t v;
            fs38_err e = fs38_coap_opt_uint(&m.options[i], &v, NULL);
            CHECK(e == FS38_OK || e == FS38_ERR_PROTOCOL);
        }
    } else {
        CHECK(d.msg[0] != '\0');
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0] % 3u;
    const uint8_t nstart = (uint8_t)(mode == 1 ? 1u + (data[0] / 3u) % 4u : 1u);
    const bool qblock2 = mode == 1 && (data[0] / 12u) % 2u == 1u;
    const uint8_t max_payloads = (uint8_t)(1u + (data[0] / 24u) % 10u);
    data++;
    size--;
    if (mode == 0) {
        decode_mode(data, size);
        return 0;
    }
    fs38_event_set_sink(ev_sink, NULL);
    g_events = 0;
    static fake f;
    memset(&f, 0, sizeof f);
    uint32_t offset = 0;
    if (mode == 1 && size > 0) {
        offset = (uint32_t)data[0] * 37u;
        data++;
        size--;
    }
    f.in = data;
    f.len = size;
    f.rng = 38;
    fs38_transport t = { .ctx = &f, .datagram = true, .send = f_send, .recv = f_recv };
    fs38_port port;
    memset(&port, 0, sizeof port);
    port.ctx = &f;
    port.entropy = f_entropy;
    port.monotonic_ms = f_clock;
    static fs38_coap_client c;
    fs38_coap_config cfg = { .transport = &t, .port = &port, .block_size = 256, .nstart = nstart,
                             .qblock2 = qblock2, .max_payloads = max_payloads };
    CHECK(fs38_coap_client_init(&c, &cfg) == FS38_OK);
    fs38_coap_uri uri;
    CHECK(fs38_coap_uri_parse("coaps://fleet.example/fw/img?v=1", &uri, NULL) == FS38_OK);
    fs38_err err;
    if (mode == 1) {
        sink_state s = { .start = offset };
        uint32_t total = 0;
        err = fs38_coap_get(&c, &uri, offset, sink, &s, &total);
        if (err == FS38_OK)
            CHECK(total >= offset && (s.calls == 0 ? total == offset : total == s.next));
    } else {
        static uint8_t body[3000];
        uint8_t code = 0;
        err = fs38_coap_upload(&c, &uri, FS38_COAP_POST, 0, body, sizeof body, &code);
        if (err == FS38_OK)
            CHECK(code == FS38_COAP_CREATED || code == FS38_COAP_CHANGED);
    }
    if (getenv("FS38_FUZZ_TRACE")) /* seed writing: what this input does */
        fprintf(stderr, "fuzz_coap: mode %u nstart %u qblock2 %d/%u: %s (%s)\n", mode, (unsigned)nstart, (int)qblock2,
                (unsigned)max_payloads, fs38_strerror(err), c.diag.msg);
    CHECK(err == FS38_OK || err == FS38_ERR_PROTOCOL || err == FS38_ERR_PEER || err == FS38_ERR_TIMEOUT);
    CHECK(g_events == ((err == FS38_ERR_PROTOCOL || err == FS38_ERR_PEER) ? 1u : 0u));
    fs38_event_set_sink(NULL, NULL);
    return 0;
}
