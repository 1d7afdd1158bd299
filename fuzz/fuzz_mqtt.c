/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_mqtt.c — libFuzzer target for the MQTT 3.1.1 codec and client (fs38/mqtt.h).
 *
 * Input: one control byte, then bytes a server sends. Control bits 0..3 = the recv chunk size
 * (0: as many as fit, else 1..15 bytes per recv); bit 4 = a 96-byte receive buffer instead of
 * 1024 (oversized packets); bit 5 = a PUBLISH QoS 1 is in flight (the bytes answer it) instead
 * of a plain poll; bit 6 = subscribe first (the bytes answer the SUBSCRIBE).
 *
 * Decoder oracle, on the bytes as one packet (frame + decode): a packet that decodes is
 * re-encoded byte-exact (PUBLISH, PUBACK; the others are fixed-size and checked field by
 * field), its topic passes fs38_mqtt_topic_check, and its pointers lie inside the input.
 *
 * Client oracle: the client is connected (CONNACK served first), then fed the bytes in chunks
 * through a scripted stream transport. Every delivered message lies inside the receive buffer
 * and has a valid topic; a refusal raises exactly one FS38_EV_MQTT_REFUSED and nothing is
 * delivered after it; every call afterwards answers FS38_ERR_STATE; the client never asks the
 * transport for 0 bytes of room; poll always terminates (the fake clock moves on every empty
 * recv).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fs38/event.h"
#include "fs38/mqtt.h"

#define FUZZ_NAME "fuzz_mqtt"
#include "fuzz_common.h"

typedef struct {
    const uint8_t *in;
    size_t len, pos;
    size_t chunk;
    bool connack_sent;
    uint64_t now;
} feed;

static unsigned g_events;
static const uint8_t *g_rx;
static size_t g_rx_cap;

static void sink(void *user, const fs38_event_rec *e)
{
    (void)user;
    CHECK(e->code == FS38_EV_MQTT_REFUSED);
    CHECK(e->detail != NULL && e->detail[0] != '\0');
    g_events++;
}

static fs38_err f_send(void *ctx, const uint8_t *b, size_t n)
{
    (void)ctx;
    CHECK(b != NULL && n >= 2);
    return FS38_OK;
}

static const uint8_t k_connack[] = { 0x20, 0x02, 0x00, 0x00 };

static fs38_err f_recv(void *ctx, uint8_t *b, size_t cap, size_t *len, uint32_t timeout_ms)
{
    feed *f = ctx;
    CHECK(cap >= 1);
    if (!f->connack_sent) {
        CHECK(cap >= sizeof k_connack);
        memcpy(b, k_connack, sizeof k_connack);
        *len = sizeof k_connack;
        f->connack_sent = true;
        return FS38_OK;
    }
    if (f->pos == f->len) {
        f->now += timeout_ms ? timeout_ms : 1;
        return FS38_ERR_TIMEOUT;
    }
    size_t n = f->len - f->pos;
    if (f->chunk && n > f->chunk)
        n = f->chunk;
    if (n > cap)
        n = cap;
    memcpy(b, f->in + f->pos, n);
    f->pos += n;
    *len = n;
    return FS38_OK;
}

static uint64_t f_clock(void *ctx)
{
    return ((feed *)ctx)->now;
}

static void on_msg(void *user, const char *topic, size_t tl, const uint8_t *p, size_t pl, uint8_t qos, bool retain)
{
    (void)user;
    (void)retain;
    CHECK(g_events == 0);
    CHECK(qos <= 1);
    CHECK((const uint8_t *)topic >= g_rx && (const uint8_t *)topic + tl <= g_rx + g_rx_cap);
    CHECK(pl == 0 || (p >= g_rx && p + pl <= g_rx + g_rx_cap));
    CHECK(fs38_mqtt_topic_check(topic, tl, false, NULL) == FS38_OK);
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < pl; i++)
        sum = (uint8_t)(sum + p[i]);
    (void)sum;
}

static void check_decoder(const uint8_t *data, size_t size)
{
    size_t plen = 0;
    fs38_diag d;
    fs38_err e = fs38_mqtt_frame(data, size, SIZE_MAX, &plen, &d);
    CHECK(e == FS38_OK || e == FS38_ERR_PROTOCOL);
    fs38_mqtt_packet p;
    e = fs38_mqtt_decode(data, size, &p, &d);
    if (e) {
        CHECK(e == FS38_ERR_PROTOCOL);
        CHECK(d.err == FS38_ERR_PROTOCOL && d.msg[0] != '\0');
        return;
    }
    CHECK(plen == size); /* a packet that decodes frames to exactly its length */
    uint8_t *out = malloc(size);
    CHECK(out != NULL);
    size_t n = 0;
    switch (p.type) {
    case FS38_MQTT_PUBLISH:
        CHECK(p.topic >= (const char *)data && p.topic + p.topic_len <= (const char *)data + size);
        CHECK(p.payload + p.payload_len == data + size);
        CHECK(fs38_mqtt_topic_check(p.topic, p.topic_len, false, NULL) == FS38_OK);
        CHECK(fs38_mqtt_encode_publish(&p, out, size, &n) == FS38_OK);
        CHECK(n == size && memcmp(out, data, size) == 0);
        break;
    case FS38_MQTT_PUBACK:
        CHECK(fs38_mqtt_encode_puback(p.packet_id, out, size, &n) == FS38_OK);
        CHECK(n == size && memcmp(out, data, size) == 0);
        break;
    case FS38_MQTT_CONNACK:
        CHECK(size == 4 && p.return_code <= 5 && (p.return_code == 0 || !p.session_present));
        break;
    case FS38_MQTT_SUBACK:
        CHECK(p.packet_id != 0 && p.payload_len + 4u <= size && p.payload_len >= 1);
        break;
    case FS38_MQTT_UNSUBACK:
        CHECK(size == 4 && p.packet_id != 0);
        break;
    case FS38_MQTT_PINGRESP:
        CHECK(size == 2);
        break;
    default:
        CHECK(p.type == FS38_MQTT_PINGRESP); /* no other type decodes */
    }
    free(out);
}

static void check_client(const uint8_t *data, size_t size, uint8_t ctl)
{
    static uint8_t rx[1024], tx[256];
    feed f = { data, size, 0, ctl & 15u, false, 1000 };
    fs38_transport t = { &f, false, f_send, f_recv };
    fs38_port port;
    memset(&port, 0, sizeof port);
    port.ctx = &f;
    port.monotonic_ms = f_clock;
    fs38_mqtt_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.transport = &t;
    cfg.port = &port;
    cfg.client_id = "01a1b2c3d4e5f60718293a4b5c6d7e8f90";
    cfg.keep_alive_s = 5;
    cfg.timeout_ms = 1000;
    cfg.max_retries = 1;
    cfg.rx_buf = rx;
    cfg.rx_cap = (ctl & 0x10u) ? 96u : sizeof rx;
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof tx;
    cfg.on_message = on_msg;
    g_rx = rx;
    g_rx_cap = cfg.rx_cap;
    g_events = 0;
    fs38_mqtt c;
    CHECK(fs38_mqtt_init(&c, &cfg) == FS38_OK);
    CHECK(fs38_mqtt_connect(&c) == FS38_OK);
    fs38_err e = FS38_OK;
    if (ctl & 0x40u) {
        uint8_t granted = 9;
        e = fs38_mqtt_subscribe(&c, "fs38/+/update", 13, 1, &granted);
        CHECK(e != FS38_OK || granted <= 1);
    }
    if (e == FS38_OK && (ctl & 0x20u))
        e = fs38_mqtt_publish(&c, "fs38/x/log", 10, (const uint8_t *)"batch", 5, 1);
    for (unsigned i = 0; e == FS38_OK && f.pos < f.len && i < 100000u; i++)
        e = fs38_mqtt_poll(&c, 100);
    CHECK(e == FS38_OK || e == FS38_ERR_PROTOCOL || e == FS38_ERR_PEER || e == FS38_ERR_TIMEOUT);
    CHECK(g_events <= 1);
    if (e == FS38_ERR_PROTOCOL) {
        CHECK(g_events == 1);
        CHECK(!fs38_mqtt_connected(&c));
        CHECK(fs38_mqtt_poll(&c, 0) == FS38_ERR_STATE);
        CHECK(fs38_mqtt_publish(&c, "a", 1, NULL, 0, 0) == FS38_ERR_STATE);
    }
    if (fs38_mqtt_connected(&c))
        CHECK(f.pos == f.len || e != FS38_OK);
    CHECK(fs38_mqtt_disconnect(&c) == FS38_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fs38_event_set_sink(sink, NULL);
    if (size == 0)
        return 0;
    check_decoder(data + 1, size - 1);
    check_client(data + 1, size - 1, data[0]);
    fs38_event_set_sink(NULL, NULL);
    return 0;
}
