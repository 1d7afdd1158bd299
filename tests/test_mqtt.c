/* SPDX-License-Identifier: Apache-2.0 */
/* test_mqtt.c — the MQTT 3.1.1 codec and client (fs38/mqtt.h) without a network: encoders
 * against byte vectors written out by hand from the OASIS 3.1.1 text (fixed header §2.2,
 * Remaining Length table §2.2.3, CONNECT §3.1, PUBLISH §3.3, ...), decoder round trips, every
 * malformed class refused (by the decoder and by the client, with a security event and nothing
 * delivered after it), stream reassembly over every way of splitting / merging packets, QoS 1
 * retransmission with DUP, SUBACK refusals, keep-alive and lost connections on a fake clock.
 * The real-broker interop is tests/cli/mqtt.sh (Mosquitto). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "support.h"
#include "fs38/event.h"
#include "fs38/mqtt.h"

/* ---- events ---------------------------------------------------------------------------------- */

/* ---- a scripted stream transport on a fake clock --------------------------------------------- */

typedef struct {
    uint8_t in[16384];
    size_t in_len, in_pos;
    size_t chunk;           /* at most this many bytes per recv (0: as many as fit) */
    const size_t *splits;   /* or: explicit recv sizes, in order (then `chunk`) */
    size_t nsplits, isplit;
    fs38_err empty_err;     /* what recv returns with nothing queued (0: TIMEOUT after the wait) */
    fs38_err send_err;
    uint8_t out[16384];
    size_t out_len;
    unsigned sends;
    /* replies queued when send number `at` has happened */
    struct {
        unsigned at;
        uint8_t b[32];
        size_t len;
    } react[8];
    unsigned nreact;
    uint64_t now;
} mock;

static mock g_m;

static void queue(mock *m, const void *b, size_t n)
{
    assert_true(m->in_len + n <= sizeof m->in);
    memcpy(m->in + m->in_len, b, n);
    m->in_len += n;
}

static void react(mock *m, unsigned at, const void *b, size_t n)
{
    assert_true(m->nreact < 8 && n <= 32);
    m->react[m->nreact].at = at;
    memcpy(m->react[m->nreact].b, b, n);
    m->react[m->nreact].len = n;
    m->nreact++;
}

static fs38_err m_send(void *ctx, const uint8_t *b, size_t n)
{
    mock *m = ctx;
    if (m->send_err)
        return m->send_err;
    assert_true(m->out_len + n <= sizeof m->out);
    memcpy(m->out + m->out_len, b, n);
    m->out_len += n;
    m->sends++;
    for (unsigned i = 0; i < m->nreact; i++)
        if (m->react[i].at == m->sends)
            queue(m, m->react[i].b, m->react[i].len);
    return FS38_OK;
}

static fs38_err m_recv(void *ctx, uint8_t *b, size_t cap, size_t *len, uint32_t timeout_ms)
{
    mock *m = ctx;
    assert_true(cap >= 1);
    if (m->in_pos == m->in_len) {
        if (m->empty_err)
            return m->empty_err;
        m->now += timeout_ms;
        return FS38_ERR_TIMEOUT;
    }
    size_t n = m->in_len - m->in_pos;
    size_t lim = m->isplit < m->nsplits ? m->splits[m->isplit++] : m->chunk;
    if (lim && n > lim)
        n = lim;
    if (n > cap)
        n = cap;
    memcpy(b, m->in + m->in_pos, n);
    m->in_pos += n;
    *len = n;
    return FS38_OK;
}

static uint64_t m_clock(void *ctx)
{
    return ((mock *)ctx)->now;
}

static fs38_transport g_t;
static fs38_port g_port;
static uint8_t g_rx[1024], g_tx[512];

/* messages delivered */
#define MAXMSG 16
static struct {
    char topic[128];
    uint8_t payload[1024];
    size_t len;
    uint8_t qos;
    bool retain;
} g_msg[MAXMSG];
static unsigned g_nmsg;

static void on_msg(void *user, const char *topic, size_t tl, const uint8_t *p, size_t pl, uint8_t qos, bool retain)
{
    (void)user;
    assert_true(g_nmsg < MAXMSG && tl < 128 && pl <= 1024);
    memcpy(g_msg[g_nmsg].topic, topic, tl);
    g_msg[g_nmsg].topic[tl] = '\0';
    memcpy(g_msg[g_nmsg].payload, p, pl);
    g_msg[g_nmsg].len = pl;
    g_msg[g_nmsg].qos = qos;
    g_msg[g_nmsg].retain = retain;
    g_nmsg++;
}

static const char k_client_id[] = "0123abcd";

static fs38_mqtt_config base_cfg(size_t rx_cap)
{
    memset(&g_m, 0, sizeof g_m);
    g_m.now = 1000;
    g_t = (fs38_transport){ &g_m, false, m_send, m_recv };
    memset(&g_port, 0, sizeof g_port);
    g_port.ctx = &g_m;
    g_port.monotonic_ms = m_clock;
    g_nmsg = 0;
    fs38_mqtt_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.transport = &g_t;
    cfg.port = &g_port;
    cfg.client_id = k_client_id;
    cfg.keep_alive_s = 60;
    cfg.timeout_ms = 500;
    cfg.max_retries = 2;
    cfg.rx_buf = g_rx;
    cfg.rx_cap = rx_cap;
    cfg.tx_buf = g_tx;
    cfg.tx_cap = sizeof g_tx;
    cfg.on_message = on_msg;
    return cfg;
}

static const uint8_t k_connack_ok[] = { 0x20, 0x02, 0x00, 0x00 };

/* CONNECT, client id "0123abcd", keep-alive 60, clean session 0, no will / user / password:
 * §3.1.2 "MQTT" level 4, flags 0x00, keep-alive 0x003c; payload the client id string. */
static const uint8_t k_connect[] = { 0x10, 0x14, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x00, 0x00, 0x3c,
                                     0x00, 0x08, '0',  '1',  '2',  '3',  'a', 'b', 'c', 'd' };

/* An initialised, connected client (CONNACK answered on the first send). */
static void connect_client(fs38_mqtt *c, fs38_mqtt_config *cfg)
{
    react(&g_m, 1, k_connack_ok, sizeof k_connack_ok);
    assert_int_equal(fs38_mqtt_init(c, cfg), FS38_OK);
    assert_int_equal(fs38_mqtt_connect(c), FS38_OK);
    assert_true(fs38_mqtt_connected(c));
    g_m.out_len = 0; /* forget the CONNECT */
}

/* The n-th packet the client sent (since out_len was last reset). */
static const uint8_t *sent_packet(unsigned n, size_t *len)
{
    size_t pos = 0;
    for (unsigned i = 0;; i++) {
        size_t pl = 0;
        assert_true(pos < g_m.out_len);
        assert_int_equal(fs38_mqtt_frame(g_m.out + pos, g_m.out_len - pos, SIZE_MAX, &pl, NULL), FS38_OK);
        assert_true(pl > 0 && pos + pl <= g_m.out_len);
        if (i == n) {
            *len = pl;
            return g_m.out + pos;
        }
        pos += pl;
    }
}

static unsigned sent_count(void)
{
    unsigned n = 0;
    for (size_t pos = 0; pos < g_m.out_len; n++) {
        size_t pl = 0;
        assert_int_equal(fs38_mqtt_frame(g_m.out + pos, g_m.out_len - pos, SIZE_MAX, &pl, NULL), FS38_OK);
        assert_true(pl > 0);
        pos += pl;
    }
    return n;
}

/* ---- codec: encoders against the spec's bytes ------------------------------------------------ */

static void encode_vectors(void **state)
{
    (void)state;
    uint8_t b[512];
    size_t n = 0;

    fs38_mqtt_connect_opts o = { "0123abcd", 60, false, NULL, NULL, 0 };
    assert_int_equal(fs38_mqtt_encode_connect(&o, b, sizeof b, &n), FS38_OK);
    assert_int_equal(n, sizeof k_connect);
    assert_memory_equal(b, k_connect, n);
    /* user name + password flags 0xc0 (+ clean session 0x02), RL 10 + 10 + 3 + 4 = 27 */
    static const uint8_t up[] = { 0x10, 0x1b, 0x00, 0x04, 'M',  'Q',  'T', 'T', 0x04, 0xc2, 0x00, 0x0a, 0x00, 0x08,
                                  '0',  '1',  '2',  '3',  'a',  'b',  'c', 'd', 0x00, 0x01, 'u',  0x00, 0x02, 'p',
                                  'w' };
    fs38_mqtt_connect_opts o2 = { "0123abcd", 10, true, "u", (const uint8_t *)"pw", 2 };
    assert_int_equal(fs38_mqtt_encode_connect(&o2, b, sizeof b, &n), FS38_OK);
    assert_int_equal(n, sizeof up);
    assert_memory_equal(b, up, n);
    assert_int_equal(fs38_mqtt_encode_connect(&o2, b, sizeof up - 1, &n), FS38_ERR_BUFFER);
    assert_int_equal(n, sizeof up);
    fs38_mqtt_connect_opts bad = { "0123abcd", 10, false, NULL, (const uint8_t *)"pw", 2 };
    assert_int_equal(fs38_mqtt_encode_connect(&bad, b, sizeof b, &n), FS38_ERR_ARG); /* password, no user */
    bad.client_id = "";
    bad.password = NULL;
    assert_int_equal(fs38_mqtt_encode_connect(&bad, b, sizeof b, &n), FS38_ERR_ARG);
    bad.client_id = "a\xc0\xaf";
    assert_int_equal(fs38_mqtt_encode_connect(&bad, b, sizeof b, &n), FS38_ERR_ARG);

    /* PUBLISH QoS 1 "a/b" id 10 "hi": 0x32, RL 2+3+2+2 = 9 (§3.3.1, §3.3.2) */
    static const uint8_t pub1[] = { 0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0a, 'h', 'i' };
    fs38_mqtt_packet p;
    memset(&p, 0, sizeof p);
    p.topic = "a/b";
    p.topic_len = 3;
    p.payload = (const uint8_t *)"hi";
    p.payload_len = 2;
    p.qos = 1;
    p.packet_id = 10;
    assert_int_equal(fs38_mqtt_encode_publish(&p, b, sizeof b, &n), FS38_OK);
    assert_int_equal(n, sizeof pub1);
    assert_memory_equal(b, pub1, n);
    size_t head = 0;
    assert_int_equal(fs38_mqtt_encode_publish_head(&p, b, sizeof b, &head), FS38_OK);
    assert_int_equal(head, sizeof pub1 - 2);
    p.dup = true;
    assert_int_equal(fs38_mqtt_encode_publish(&p, b, sizeof b, &n), FS38_OK);
    assert_int_equal(b[0], 0x3a);
    /* QoS 0 + RETAIN: 0x31, no packet id */
    static const uint8_t pub0[] = { 0x31, 0x07, 0x00, 0x03, 'a', '/', 'b', 'h', 'i' };
    p.dup = false;
    p.qos = 0;
    p.retain = true;
    assert_int_equal(fs38_mqtt_encode_publish(&p, b, sizeof b, &n), FS38_OK);
    assert_int_equal(n, sizeof pub0);
    assert_memory_equal(b, pub0, n);
    p.dup = true; /* DUP on QoS 0 */
    assert_int_equal(fs38_mqtt_encode_publish(&p, b, sizeof b, &n), FS38_ERR_ARG);
    p.dup = false;
    p.topic = "a/#"; /* wildcard in a topic name */
    assert_int_equal(fs38_mqtt_encode_publish(&p, b, sizeof b, &n), FS38_ERR_ARG);
    p.topic = "a/b";
    p.qos = 1;
    p.packet_id = 0;
    assert_int_equal(fs38_mqtt_encode_publish(&p, b, sizeof b, &n), FS38_ERR_ARG);
    p.qos = 2;
    p.packet_id = 1;
    assert_int_equal(fs38_mqtt_encode_publish(&p, b, sizeof b, &n), FS38_ERR_ARG);
    /* 200-byte payload, topic "t", QoS 0: RL 203 = 0xcb 0x01 (§2.2.3: 0x4b + 1 x 128) */
    uint8_t big[200];
    memset(big, 0x5a, sizeof big);
    p.qos = 0;
    p.retain = false;
    p.topic = "t";
    p.topic_len = 1;
    p.payload = big;
    p.payload_len = sizeof big;
    assert_int_equal(fs38_mqtt_encode_publish(&p, b, sizeof b, &n), FS38_OK);
    assert_int_equal(n, 206);
    static const uint8_t bighead[] = { 0x30, 0xcb, 0x01, 0x00, 0x01, 't' };
    assert_memory_equal(b, bighead, sizeof bighead);

    static const uint8_t puback[] = { 0x40, 0x02, 0x00, 0x0a };
    assert_int_equal(fs38_mqtt_encode_puback(10, b, sizeof b, &n), FS38_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(b, puback, 4);
    assert_int_equal(fs38_mqtt_encode_puback(0, b, sizeof b, &n), FS38_ERR_ARG);

    /* SUBSCRIBE: first byte 0x82 (reserved flags 0010, §3.8.1), id, filter, requested QoS */
    static const uint8_t sub[] = { 0x82, 0x12, 0x00, 0x01, 0x00, 0x0d, 'f', 's', '3', '8', '/',
                                   '+',  '/',  'u',  'p',  'd',  'a',  't', 'e', 0x01 };
    assert_int_equal(fs38_mqtt_encode_subscribe(1, "fs38/+/update", 13, 1, b, sizeof b, &n), FS38_OK);
    assert_int_equal(n, sizeof sub);
    assert_memory_equal(b, sub, n);
    static const uint8_t unsub[] = { 0xa2, 0x11, 0x00, 0x01, 0x00, 0x0d, 'f', 's', '3', '8',
                                     '/',  '+',  '/',  'u',  'p',  'd',  'a', 't', 'e' };
    assert_int_equal(fs38_mqtt_encode_unsubscribe(1, "fs38/+/update", 13, b, sizeof b, &n), FS38_OK);
    assert_int_equal(n, sizeof unsub);
    assert_memory_equal(b, unsub, n);
    assert_int_equal(fs38_mqtt_encode_subscribe(1, "a/#/b", 5, 1, b, sizeof b, &n), FS38_ERR_ARG);
    assert_int_equal(fs38_mqtt_encode_subscribe(1, "a/b", 3, 2, b, sizeof b, &n), FS38_ERR_ARG);

    assert_int_equal(fs38_mqtt_encode_empty(FS38_MQTT_PINGREQ, b, sizeof b, &n), FS38_OK);
    assert_int_equal(n, 2);
    assert_int_equal(b[0], 0xc0);
    assert_int_equal(b[1], 0x00);
    assert_int_equal(fs38_mqtt_encode_empty(FS38_MQTT_DISCONNECT, b, sizeof b, &n), FS38_OK);
    assert_int_equal(b[0], 0xe0);
    assert_int_equal(fs38_mqtt_encode_empty(FS38_MQTT_PUBACK, b, sizeof b, &n), FS38_ERR_ARG);
}

/* The Remaining Length table of §2.2.3, both ways (encoder via PUBLISH, decoder via frame). */
static void remaining_length_table(void **state)
{
    (void)state;
    static const struct {
        uint32_t v;
        uint8_t b[4];
        size_t n;
    } t[] = {
        { 0, { 0x00 }, 1 },
        { 127, { 0x7f }, 1 },
        { 128, { 0x80, 0x01 }, 2 },
        { 321, { 0xc1, 0x02 }, 2 },
        { 16383, { 0xff, 0x7f }, 2 },
        { 16384, { 0x80, 0x80, 0x01 }, 3 },
        { 2097151, { 0xff, 0xff, 0x7f }, 3 },
        { 2097152, { 0x80, 0x80, 0x80, 0x01 }, 4 },
        { 268435455, { 0xff, 0xff, 0xff, 0x7f }, 4 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint8_t buf[6] = { 0x30 };
        memcpy(buf + 1, t[i].b, t[i].n);
        size_t pl = 99;
        /* every prefix shorter than the header says "need more" */
        for (size_t k = 0; k <= t[i].n; k++) {
            assert_int_equal(fs38_mqtt_frame(buf, k, SIZE_MAX, &pl, NULL), FS38_OK);
            assert_int_equal(pl, 0);
        }
        assert_int_equal(fs38_mqtt_frame(buf, 1 + t[i].n, SIZE_MAX, &pl, NULL), FS38_OK);
        assert_int_equal(pl, 1 + t[i].n + t[i].v);
        /* the encoder writes the same bytes (PUBLISH QoS 0 "t": RL = 3 + payload) */
        if (t[i].v >= 3) {
            fs38_mqtt_packet p;
            memset(&p, 0, sizeof p);
            p.topic = "t";
            p.topic_len = 1;
            p.payload_len = t[i].v - 3u;
            uint8_t head[16];
            size_t hl = 0;
            assert_int_equal(fs38_mqtt_encode_publish_head(&p, head, sizeof head, &hl), FS38_OK);
            assert_int_equal(hl, 1 + t[i].n + 3);
            assert_memory_equal(head + 1, t[i].b, t[i].n);
        }
        /* over the configured maximum */
        fs38_diag d;
        fs38_diag_clear(&d);
        assert_int_equal(fs38_mqtt_frame(buf, 1 + t[i].n, t[i].n + t[i].v, &pl, &d), FS38_ERR_PROTOCOL);
        assert_non_null(strstr(d.msg, "exceeds the maximum"));
    }
    /* a 5th length byte, and lengths not in their shortest form */
    static const uint8_t five[] = { 0x30, 0xff, 0xff, 0xff, 0xff, 0x7f };
    static const uint8_t nonmin1[] = { 0x30, 0x80, 0x00 };
    static const uint8_t nonmin2[] = { 0x30, 0x85, 0x80, 0x00 };
    size_t pl;
    fs38_diag d;
    assert_int_equal(fs38_mqtt_frame(five, sizeof five, SIZE_MAX, &pl, &d), FS38_ERR_PROTOCOL);
    assert_non_null(strstr(d.msg, "longer than 4 bytes"));
    assert_int_equal(fs38_mqtt_frame(nonmin1, sizeof nonmin1, SIZE_MAX, &pl, &d), FS38_ERR_PROTOCOL);
    assert_non_null(strstr(d.msg, "shortest form"));
    assert_int_equal(fs38_mqtt_frame(nonmin2, sizeof nonmin2, SIZE_MAX, &pl, &d), FS38_ERR_PROTOCOL);
    /* a PUBLISH larger than MQTT can say */
    fs38_mqtt_packet p;
    memset(&p, 0, sizeof p);
    p.topic = "t";
    p.topic_len = 1;
    p.payload_len = FS38_MQTT_REMAINING_MAX - 2u;
    uint8_t head[16];
    assert_int_equal(fs38_mqtt_encode_publish_head(&p, head, sizeof head, &pl), FS38_ERR_ARG);
    p.payload_len = FS38_MQTT_REMAINING_MAX - 3u;
    assert_int_equal(fs38_mqtt_encode_publish_head(&p, head, sizeof head, &pl), FS38_OK);
}

/* What a server sends, decoded; a PUBLISH re-encoded gives the same bytes. */
static void decode_round_trip(void **state)
{
    (void)state;
    fs38_mqtt_packet p;
    static const uint8_t connack_sp[] = { 0x20, 0x02, 0x01, 0x00 };
    assert_int_equal(fs38_mqtt_decode(connack_sp, sizeof connack_sp, &p, NULL), FS38_OK);
    assert_int_equal(p.type, FS38_MQTT_CONNACK);
    assert_true(p.session_present);
    assert_int_equal(p.return_code, 0);
    static const uint8_t connack5[] = { 0x20, 0x02, 0x00, 0x05 };
    assert_int_equal(fs38_mqtt_decode(connack5, sizeof connack5, &p, NULL), FS38_OK);
    assert_int_equal(p.return_code, 5);
    assert_false(p.session_present);

    static const uint8_t pub1[] = { 0x3b, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0a, 'h', 'i' };
    assert_int_equal(fs38_mqtt_decode(pub1, sizeof pub1, &p, NULL), FS38_OK);
    assert_int_equal(p.type, FS38_MQTT_PUBLISH);
    assert_int_equal(p.qos, 1);
    assert_true(p.dup);
    assert_true(p.retain);
    assert_int_equal(p.packet_id, 10);
    assert_int_equal(p.topic_len, 3);
    assert_memory_equal(p.topic, "a/b", 3);
    assert_int_equal(p.payload_len, 2);
    assert_memory_equal(p.payload, "hi", 2);
    uint8_t b[64];
    size_t n = 0;
    assert_int_equal(fs38_mqtt_encode_publish(&p, b, sizeof b, &n), FS38_OK);
    assert_int_equal(n, sizeof pub1);
    assert_memory_equal(b, pub1, n);
    /* QoS 0, empty payload, multi-byte UTF-8 topic (U+00E9, U+20AC, U+1F600) */
    static const uint8_t pub0[] = { 0x30, 0x0b, 0x00, 0x09, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80 };
    assert_int_equal(fs38_mqtt_decode(pub0, sizeof pub0, &p, NULL), FS38_OK);
    assert_int_equal(p.qos, 0);
    assert_int_equal(p.packet_id, 0);
    assert_int_equal(p.payload_len, 0);
    assert_int_equal(fs38_mqtt_encode_publish(&p, b, sizeof b, &n), FS38_OK);
    assert_memory_equal(b, pub0, sizeof pub0);

    static const uint8_t puback[] = { 0x40, 0x02, 0x12, 0x34 };
    assert_int_equal(fs38_mqtt_decode(puback, sizeof puback, &p, NULL), FS38_OK);
    assert_int_equal(p.type, FS38_MQTT_PUBACK);
    assert_int_equal(p.packet_id, 0x1234);
    static const uint8_t suback[] = { 0x90, 0x05, 0x00, 0x07, 0x00, 0x01, 0x80 };
    assert_int_equal(fs38_mqtt_decode(suback, sizeof suback, &p, NULL), FS38_OK);
    assert_int_equal(p.type, FS38_MQTT_SUBACK);
    assert_int_equal(p.packet_id, 7);
    assert_int_equal(p.payload_len, 3);
    assert_int_equal(p.payload[2], 0x80);
    static const uint8_t unsuback[] = { 0xb0, 0x02, 0x00, 0x07 };
    assert_int_equal(fs38_mqtt_decode(unsuback, sizeof unsuback, &p, NULL), FS38_OK);
    assert_int_equal(p.type, FS38_MQTT_UNSUBACK);
    static const uint8_t pingresp[] = { 0xd0, 0x00 };
    assert_int_equal(fs38_mqtt_decode(pingresp, sizeof pingresp, &p, NULL), FS38_OK);
    assert_int_equal(p.type, FS38_MQTT_PINGRESP);
}

/* Every class of malformed packet: refused by the decoder with a diagnostic naming it. */
typedef struct {
    const char *what;
    uint8_t b[16];
    size_t n;
    const char *diag; /* a substring of the diagnostic */
} bad_pkt;

static const bad_pkt k_bad[] = {
    { "reserved type 0", { 0x00, 0x00 }, 2, "reserved type 0" },
    { "reserved type 15", { 0xf0, 0x00 }, 2, "reserved type 15" },
    { "CONNACK flags", { 0x21, 0x02, 0x00, 0x00 }, 4, "reserved flags" },
    { "CONNACK RL 3", { 0x20, 0x03, 0x00, 0x00, 0x00 }, 5, "must be 2" },
    { "CONNACK ack flags", { 0x20, 0x02, 0x02, 0x00 }, 4, "acknowledge flags" },
    { "CONNACK rc 6", { 0x20, 0x02, 0x00, 0x06 }, 4, "return code 6" },
    { "CONNACK sp+refusal", { 0x20, 0x02, 0x01, 0x05 }, 4, "session present" },
    { "PUBLISH QoS 3", { 0x36, 0x05, 0x00, 0x01, 'a', 0x00, 0x01 }, 7, "QoS 3" },
    { "PUBLISH QoS 2", { 0x34, 0x05, 0x00, 0x01, 'a', 0x00, 0x01 }, 7, "QoS 2" },
    { "PUBLISH DUP QoS 0", { 0x38, 0x03, 0x00, 0x01, 'a' }, 5, "DUP" },
    { "PUBLISH topic past end", { 0x30, 0x03, 0x00, 0x05, 'a' }, 5, "past the packet end" },
    { "PUBLISH id past end", { 0x32, 0x04, 0x00, 0x01, 'a', 0x00 }, 6, "past the packet end" },
    { "PUBLISH RL 1", { 0x30, 0x01, 0x00 }, 3, "truncated" },
    { "PUBLISH empty topic", { 0x30, 0x02, 0x00, 0x00 }, 4, "empty" },
    { "PUBLISH topic #", { 0x30, 0x05, 0x00, 0x03, 'a', '/', '#' }, 7, "wildcard" },
    { "PUBLISH topic +", { 0x30, 0x05, 0x00, 0x03, '+', '/', 'a' }, 7, "wildcard" },
    { "PUBLISH overlong UTF-8", { 0x30, 0x04, 0x00, 0x02, 0xc0, 0xaf }, 6, "UTF-8" },
    { "PUBLISH overlong 3-byte", { 0x30, 0x05, 0x00, 0x03, 0xe0, 0x80, 0xaf }, 7, "UTF-8" },
    { "PUBLISH surrogate", { 0x30, 0x05, 0x00, 0x03, 0xed, 0xa0, 0x80 }, 7, "UTF-8" },
    { "PUBLISH > U+10FFFF", { 0x30, 0x06, 0x00, 0x04, 0xf4, 0x90, 0x80, 0x80 }, 8, "UTF-8" },
    { "PUBLISH truncated UTF-8", { 0x30, 0x04, 0x00, 0x02, 'a', 0xe2 }, 6, "truncated" },
    { "PUBLISH bad continuation", { 0x30, 0x05, 0x00, 0x03, 0xe2, 0x82, 0x41 }, 7, "continuation" },
    { "PUBLISH U+0000", { 0x30, 0x04, 0x00, 0x02, 'a', 0x00 }, 6, "U+0000" },
    { "PUBLISH control char", { 0x30, 0x04, 0x00, 0x02, 'a', 0x01 }, 6, "control" },
    { "PUBLISH C1 control", { 0x30, 0x04, 0x00, 0x02, 0xc2, 0x85 }, 6, "control" },
    { "PUBLISH packet id 0", { 0x32, 0x05, 0x00, 0x01, 'a', 0x00, 0x00 }, 7, "identifier 0" },
    { "RL says more than sent", { 0x30, 0x05, 0x00, 0x01, 'a' }, 5, "bytes follow" },
    { "RL says less than sent", { 0x40, 0x02, 0x00, 0x01, 0x00 }, 5, "bytes follow" },
    { "RL not minimal", { 0x40, 0x82, 0x00, 0x00, 0x01 }, 5, "shortest form" },
    { "PUBACK flags", { 0x42, 0x02, 0x00, 0x01 }, 4, "reserved flags" },
    { "PUBACK RL 3", { 0x40, 0x03, 0x00, 0x01, 0x00 }, 5, "must be 2" },
    { "PUBACK id 0", { 0x40, 0x02, 0x00, 0x00 }, 4, "identifier 0" },
    { "SUBACK rc 3", { 0x90, 0x03, 0x00, 0x01, 0x03 }, 5, "return code 0x3" },
    { "SUBACK RL 2", { 0x90, 0x02, 0x00, 0x01 }, 4, "needs >= 3" },
    { "SUBACK id 0", { 0x90, 0x03, 0x00, 0x00, 0x00 }, 5, "identifier 0" },
    { "SUBACK flags", { 0x91, 0x03, 0x00, 0x01, 0x00 }, 5, "reserved flags" },
    { "UNSUBACK RL 0", { 0xb0, 0x00 }, 2, "must be 2" },
    { "PINGRESP RL 1", { 0xd0, 0x01, 0x00 }, 3, "must be 0" },
    { "PINGRESP flags", { 0xd1, 0x00 }, 2, "reserved flags" },
    { "PUBREC", { 0x50, 0x02, 0x00, 0x01 }, 4, "QoS 2" },
    { "PUBREL", { 0x62, 0x02, 0x00, 0x01 }, 4, "QoS 2" },
    { "PUBCOMP", { 0x70, 0x02, 0x00, 0x01 }, 4, "QoS 2" },
    { "CONNECT from server", { 0x10, 0x00 }, 2, "sent by clients" },
    { "SUBSCRIBE from server", { 0x82, 0x00 }, 2, "sent by clients" },
    { "UNSUBSCRIBE from server", { 0xa2, 0x00 }, 2, "sent by clients" },
    { "PINGREQ from server", { 0xc0, 0x00 }, 2, "sent by clients" },
    { "DISCONNECT from server", { 0xe0, 0x00 }, 2, "sent by clients" },
    { "5-byte RL", { 0x30, 0xff, 0xff, 0xff, 0xff, 0x7f }, 6, "longer than 4" },
    { "1 byte", { 0x30 }, 1, "shorter than a fixed header" },
};

static void decode_refuses_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) {
        fs38_mqtt_packet p;
        fs38_diag d;
        fs38_diag_clear(&d);
        fs38_err e = fs38_mqtt_decode(k_bad[i].b, k_bad[i].n, &p, &d);
        if (e != FS38_ERR_PROTOCOL || !strstr(d.msg, k_bad[i].diag))
            fail_msg("%s: got %d '%s', expected FS38_ERR_PROTOCOL with '%s'", k_bad[i].what, (int)e, d.msg,
                     k_bad[i].diag);
    }
}

/* The same malformed packets reaching a connected client: refused with an event, the client is
 * down, and a valid PUBLISH right behind the bad packet (same recv) is not delivered. */
static void client_refuses_malformed(void **state)
{
    (void)state;
    static const uint8_t good[] = { 0x30, 0x05, 0x00, 0x01, 'a', 'h', 'i' };
    for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) {
        /* on a stream a lone byte is an incomplete header, and a Remaining Length that
         * disagrees with the datagram's size just frames differently */
        if (k_bad[i].n < 2 || strstr(k_bad[i].diag, "bytes follow"))
            continue;
        fs38_mqtt_config cfg = base_cfg(sizeof g_rx);
        fs38_mqtt c;
        connect_client(&c, &cfg);
        /* a good message first is delivered, the one after the bad packet is not */
        queue(&g_m, good, sizeof good);
        queue(&g_m, k_bad[i].b, k_bad[i].n);
        queue(&g_m, good, sizeof good);
        ts_ev.n = 0;
        fs38_err e = fs38_mqtt_poll(&c, 100);
        if (e == FS38_OK) /* the first poll returned after delivering the good message */
            e = fs38_mqtt_poll(&c, 100);
        if (e != FS38_ERR_PROTOCOL)
            fail_msg("%s: poll returned %d (%s)", k_bad[i].what, (int)e, fs38_mqtt_diag(&c)->msg);
        assert_int_equal(g_nmsg, 1);
        assert_int_equal(ts_ev.n, 1);
        assert_int_equal(ts_ev.code, FS38_EV_MQTT_REFUSED);
        assert_int_equal(ts_ev.arg, FS38_ERR_PROTOCOL);
        assert_non_null(strstr(ts_ev.detail, k_bad[i].diag));
        assert_false(fs38_mqtt_connected(&c));
        assert_int_equal(fs38_mqtt_poll(&c, 100), FS38_ERR_STATE);
        assert_int_equal(fs38_mqtt_publish(&c, "a", 1, NULL, 0, 0), FS38_ERR_STATE);
        assert_int_equal(g_nmsg, 1);
    }
}

/* ---- topics ------------------------------------------------------------------------------------ */

static void topics(void **state)
{
    (void)state;
    uint8_t ueid[17] = { 0x01 };
    for (unsigned i = 1; i < 17; i++)
        ueid[i] = (uint8_t)(0xe0 + i);
    char buf[FS38_MQTT_TOPIC_MAX];
    size_t n = 0;
    assert_int_equal(fs38_mqtt_topic_log(ueid, sizeof ueid, buf, sizeof buf, &n), FS38_OK);
    assert_string_equal(buf, "fs38/01e1e2e3e4e5e6e7e8e9eaebecedeeeff0/log");
    assert_int_equal(n, strlen(buf));
    assert_int_equal(fs38_mqtt_topic_log(ueid, sizeof ueid, buf, n, &n), FS38_ERR_BUFFER); /* no room for NUL */
    assert_int_equal(fs38_mqtt_client_id(ueid, sizeof ueid, buf, sizeof buf, &n), FS38_OK);
    assert_string_equal(buf, "01e1e2e3e4e5e6e7e8e9eaebecedeeeff0");
    assert_int_equal(fs38_mqtt_client_id(ueid, 0, buf, sizeof buf, &n), FS38_ERR_ARG);
    /* class id of tests/cli/lib.sh: 1492af14-2569-5e48-bf42-9b2d51f2ab45 */
    static const uint8_t cls[16] = { 0x14, 0x92, 0xaf, 0x14, 0x25, 0x69, 0x5e, 0x48,
                                     0xbf, 0x42, 0x9b, 0x2d, 0x51, 0xf2, 0xab, 0x45 };
    assert_int_equal(fs38_mqtt_topic_update(cls, buf, sizeof buf, &n), FS38_OK);
    assert_string_equal(buf, "fs38/1492af1425695e48bf429b2d51f2ab45/update");
    assert_int_equal(fs38_mqtt_topic_update(cls, buf, 10, &n), FS38_ERR_BUFFER);
    assert_int_equal(n, 44);
    assert_int_equal(fs38_mqtt_topic_check(buf, strlen(buf), false, NULL), FS38_OK);

    static const char *const good_filters[] = { "#", "+", "+/+", "a/#", "fs38/+/update", "/", "a//b", "+/#" };
    static const char *const bad_filters[] = { "a#", "a/#/b", "a+", "+a", "a/b+", "##", "" };
    for (size_t i = 0; i < sizeof good_filters / sizeof good_filters[0]; i++)
        assert_int_equal(fs38_mqtt_topic_check(good_filters[i], strlen(good_filters[i]), true, NULL), FS38_OK);
    for (size_t i = 0; i < sizeof bad_filters / sizeof bad_filters[0]; i++)
        if (fs38_mqtt_topic_check(bad_filters[i], strlen(bad_filters[i]), true, NULL) != FS38_ERR_PROTOCOL)
            fail_msg("filter '%s' accepted", bad_filters[i]);
    assert_int_equal(fs38_mqtt_topic_check("a/+", 3, false, NULL), FS38_ERR_PROTOCOL);
    assert_int_equal(fs38_mqtt_topic_check("/", 1, false, NULL), FS38_OK);
}

/* ---- client ------------------------------------------------------------------------------------ */

static void connect_handshake(void **state)
{
    (void)state;
    fs38_mqtt_config cfg = base_cfg(sizeof g_rx);
    static const uint8_t connack_sp[] = { 0x20, 0x02, 0x01, 0x00 };
    react(&g_m, 1, connack_sp, sizeof connack_sp);
    g_m.chunk = 1; /* the CONNACK arrives byte by byte */
    fs38_mqtt c;
    assert_int_equal(fs38_mqtt_init(&c, &cfg), FS38_OK);
    assert_false(fs38_mqtt_connected(&c));
    assert_int_equal(fs38_mqtt_connect(&c), FS38_OK);
    assert_true(fs38_mqtt_connected(&c));
    assert_true(fs38_mqtt_session_present(&c));
    assert_int_equal(g_m.out_len, sizeof k_connect);
    assert_memory_equal(g_m.out, k_connect, sizeof k_connect);
    assert_int_equal(fs38_mqtt_connect(&c), FS38_ERR_STATE); /* already connected */
    g_m.out_len = 0;
    assert_int_equal(fs38_mqtt_disconnect(&c), FS38_OK);
    assert_int_equal(g_m.out_len, 2);
    assert_int_equal(g_m.out[0], 0xe0);
    assert_false(fs38_mqtt_connected(&c));
    assert_int_equal(ts_ev.n, 0);

    /* no CONNACK: timeout, down, no event */
    cfg = base_cfg(sizeof g_rx);
    assert_int_equal(fs38_mqtt_init(&c, &cfg), FS38_OK);
    assert_int_equal(fs38_mqtt_connect(&c), FS38_ERR_TIMEOUT);
    assert_non_null(strstr(fs38_mqtt_diag(&c)->msg, "no CONNACK"));
    assert_false(fs38_mqtt_connected(&c));
    /* ...and a reconnect on the same context works */
    react(&g_m, g_m.sends + 1, k_connack_ok, sizeof k_connack_ok);
    assert_int_equal(fs38_mqtt_connect(&c), FS38_OK);

    /* a PUBLISH before CONNACK is refused */
    cfg = base_cfg(sizeof g_rx);
    static const uint8_t early[] = { 0x30, 0x03, 0x00, 0x01, 'a', 0x20, 0x02, 0x00, 0x00 };
    react(&g_m, 1, early, sizeof early);
    assert_int_equal(fs38_mqtt_init(&c, &cfg), FS38_OK);
    assert_int_equal(fs38_mqtt_connect(&c), FS38_ERR_PROTOCOL);
    assert_int_equal(ts_ev.n, 1);
    assert_non_null(strstr(ts_ev.detail, "must be CONNACK"));
    assert_int_equal(g_nmsg, 0);

    /* bad configurations */
    cfg = base_cfg(sizeof g_rx);
    fs38_mqtt_config bad = cfg;
    bad.client_id = "";
    assert_int_equal(fs38_mqtt_init(&c, &bad), FS38_ERR_ARG);
    bad = cfg;
    bad.rx_cap = 10;
    assert_int_equal(fs38_mqtt_init(&c, &bad), FS38_ERR_ARG);
    bad = cfg;
    fs38_transport dg = g_t;
    dg.datagram = true;
    bad.transport = &dg;
    assert_int_equal(fs38_mqtt_init(&c, &bad), FS38_ERR_ARG);
    bad = cfg;
    fs38_port noclock = g_port;
    noclock.monotonic_ms = NULL;
    bad.port = &noclock;
    assert_int_equal(fs38_mqtt_init(&c, &bad), FS38_ERR_ARG);
    fs38_mqtt zero;
    memset(&zero, 0, sizeof zero);
    assert_int_equal(fs38_mqtt_connect(&zero), FS38_ERR_STATE);
}

/* CONNACK return codes 1..5: FS38_ERR_PEER naming the reason, an event, not connected. */
static void connack_refusals(void **state)
{
    (void)state;
    static const char *const reason[] = { "", "unacceptable protocol version", "identifier rejected",
                                          "server unavailable", "bad user name or password", "not authorized" };
    for (uint8_t rc = 1; rc <= 5; rc++) {
        fs38_mqtt_config cfg = base_cfg(sizeof g_rx);
        uint8_t connack[] = { 0x20, 0x02, 0x00, rc };
        react(&g_m, 1, connack, sizeof connack);
        fs38_mqtt c;
        assert_int_equal(fs38_mqtt_init(&c, &cfg), FS38_OK);
        ts_ev.n = 0;
        assert_int_equal(fs38_mqtt_connect(&c), FS38_ERR_PEER);
        assert_false(fs38_mqtt_connected(&c));
        assert_non_null(strstr(fs38_mqtt_diag(&c)->msg, reason[rc]));
        assert_int_equal(ts_ev.n, 1);
        assert_int_equal(ts_ev.code, FS38_EV_MQTT_REFUSED);
        assert_int_equal(ts_ev.arg, FS38_ERR_PEER);
        assert_string_equal(fs38_mqtt_connack_name(rc), reason[rc]);
    }
}

static void publish_qos1_and_retry(void **state)
{
    (void)state;
    fs38_mqtt_config cfg = base_cfg(sizeof g_rx);
    fs38_mqtt c;
    connect_client(&c, &cfg);
    unsigned base = g_m.sends;
    /* PUBACK for id 1 right away, merged with an incoming QoS 1 PUBLISH (id 0x99) */
    static const uint8_t ack1_pub[] = { 0x40, 0x02, 0x00, 0x01, 0x32, 0x06, 0x00, 0x01, 'x', 0x00, 0x99, 'Z' };
    react(&g_m, base + 1, ack1_pub, sizeof ack1_pub);
    assert_int_equal(fs38_mqtt_publish(&c, "a/b", 3, (const uint8_t *)"hi", 2, 1), FS38_OK);
    size_t n;
    const uint8_t *p = sent_packet(0, &n);
    static const uint8_t pub1[] = { 0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 'h', 'i' };
    assert_int_equal(n, sizeof pub1);
    assert_memory_equal(p, pub1, n);
    /* the merged PUBLISH was delivered and acknowledged */
    assert_int_equal(g_nmsg, 1);
    assert_string_equal(g_msg[0].topic, "x");
    assert_int_equal(g_msg[0].len, 1);
    assert_int_equal(g_msg[0].qos, 1);
    p = sent_packet(1, &n);
    static const uint8_t ack99[] = { 0x40, 0x02, 0x00, 0x99 };
    assert_int_equal(n, 4);
    assert_memory_equal(p, ack99, 4);

    /* id 2: the first send is not acknowledged; after timeout_ms the retransmission (DUP=1,
     * same id) is, and a late PUBACK of the first send is ignored afterwards */
    g_m.out_len = 0;
    base = g_m.sends;
    static const uint8_t ack2[] = { 0x40, 0x02, 0x00, 0x02 };
    react(&g_m, base + 2, ack2, sizeof ack2);
    uint64_t t0 = g_m.now;
    assert_int_equal(fs38_mqtt_publish(&c, "a/b", 3, (const uint8_t *)"hi", 2, 1), FS38_OK);
    assert_true(g_m.now - t0 >= cfg.timeout_ms);
    assert_int_equal(sent_count(), 2);
    p = sent_packet(0, &n);
    assert_int_equal(p[0], 0x32);
    assert_int_equal(p[8], 0x02);
    p = sent_packet(1, &n);
    assert_int_equal(p[0], 0x3a); /* DUP */
    assert_int_equal(p[8], 0x02);
    queue(&g_m, ack2, sizeof ack2); /* the duplicate acknowledgement */
    assert_int_equal(fs38_mqtt_poll(&c, 10), FS38_OK);
    assert_true(fs38_mqtt_connected(&c));

    /* id 3: never acknowledged: 1 + max_retries sends, then FS38_ERR_TIMEOUT, still connected */
    g_m.out_len = 0;
    assert_int_equal(fs38_mqtt_publish(&c, "a/b", 3, (const uint8_t *)"hi", 2, 1), FS38_ERR_TIMEOUT);
    assert_non_null(strstr(fs38_mqtt_diag(&c)->msg, "after 3 sends"));
    assert_int_equal(sent_count(), 3);
    assert_true(fs38_mqtt_connected(&c));

    /* a PUBACK for an id never sent is refused */
    static const uint8_t ack77[] = { 0x40, 0x02, 0x00, 0x77 };
    queue(&g_m, ack77, sizeof ack77);
    ts_ev.n = 0;
    assert_int_equal(fs38_mqtt_poll(&c, 10), FS38_ERR_PROTOCOL);
    assert_int_equal(ts_ev.n, 1);
    assert_non_null(strstr(ts_ev.detail, "unexpected PUBACK"));

    /* QoS 0: one send, no wait; a payload larger than tx_buf goes out from the caller's buffer */
    cfg = base_cfg(sizeof g_rx);
    connect_client(&c, &cfg);
    static uint8_t big[2000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7u);
    base = g_m.sends;
    assert_int_equal(fs38_mqtt_publish(&c, "t", 1, big, sizeof big, 0), FS38_OK);
    assert_int_equal(g_m.sends - base, 2); /* head, then the payload */
    fs38_mqtt_packet d;
    assert_int_equal(fs38_mqtt_decode(g_m.out, g_m.out_len, &d, NULL), FS38_OK);
    assert_int_equal(d.payload_len, sizeof big);
    assert_memory_equal(d.payload, big, sizeof big);
    assert_int_equal(fs38_mqtt_publish(&c, "a/#", 3, big, 1, 0), FS38_ERR_ARG);
    assert_int_equal(fs38_mqtt_publish(&c, "a", 1, big, 1, 2), FS38_ERR_ARG);
}

static void subscribe_acks(void **state)
{
    (void)state;
    fs38_mqtt_config cfg = base_cfg(sizeof g_rx);
    fs38_mqtt c;
    connect_client(&c, &cfg);
    static const uint8_t suback1[] = { 0x90, 0x03, 0x00, 0x01, 0x01 };
    react(&g_m, g_m.sends + 1, suback1, sizeof suback1);
    uint8_t granted = 9;
    assert_int_equal(fs38_mqtt_subscribe(&c, "fs38/+/update", 13, 1, &granted), FS38_OK);
    assert_int_equal(granted, 1);
    size_t n;
    const uint8_t *p = sent_packet(0, &n);
    assert_int_equal(p[0], 0x82);
    /* 0x80: refused by the broker, an event, the client stays connected */
    static const uint8_t suback80[] = { 0x90, 0x03, 0x00, 0x02, 0x80 };
    react(&g_m, g_m.sends + 1, suback80, sizeof suback80);
    ts_ev.n = 0;
    assert_int_equal(fs38_mqtt_subscribe(&c, "secret/#", 8, 1, &granted), FS38_ERR_PEER);
    assert_int_equal(ts_ev.n, 1);
    assert_int_equal(ts_ev.arg, FS38_ERR_PEER);
    assert_true(fs38_mqtt_connected(&c));
    /* unsubscribe */
    static const uint8_t unsuback[] = { 0xb0, 0x02, 0x00, 0x03 };
    react(&g_m, g_m.sends + 1, unsuback, sizeof unsuback);
    assert_int_equal(fs38_mqtt_unsubscribe(&c, "fs38/+/update", 13), FS38_OK);
    /* a SUBACK with the wrong packet id is refused */
    static const uint8_t suback_wrong[] = { 0x90, 0x03, 0x00, 0x09, 0x00 };
    react(&g_m, g_m.sends + 1, suback_wrong, sizeof suback_wrong);
    assert_int_equal(fs38_mqtt_subscribe(&c, "a", 1, 0, &granted), FS38_ERR_PROTOCOL);
    assert_false(fs38_mqtt_connected(&c));

    /* QoS 2 granted when 1 was asked: refused */
    cfg = base_cfg(sizeof g_rx);
    connect_client(&c, &cfg);
    static const uint8_t suback2[] = { 0x90, 0x03, 0x00, 0x01, 0x02 };
    react(&g_m, g_m.sends + 1, suback2, sizeof suback2);
    assert_int_equal(fs38_mqtt_subscribe(&c, "a", 1, 1, &granted), FS38_ERR_PROTOCOL);
    /* two return codes for one filter: refused */
    cfg = base_cfg(sizeof g_rx);
    connect_client(&c, &cfg);
    static const uint8_t suback_two[] = { 0x90, 0x04, 0x00, 0x01, 0x00, 0x00 };
    react(&g_m, g_m.sends + 1, suback_two, sizeof suback_two);
    assert_int_equal(fs38_mqtt_subscribe(&c, "a", 1, 1, &granted), FS38_ERR_PROTOCOL);
    /* no SUBACK: timeout, down */
    cfg = base_cfg(sizeof g_rx);
    connect_client(&c, &cfg);
    assert_int_equal(fs38_mqtt_subscribe(&c, "a", 1, 1, &granted), FS38_ERR_TIMEOUT);
    assert_false(fs38_mqtt_connected(&c));
}

/* A stream of messages split and merged every way: delivered byte-exact, in order. */
static void stream_reassembly(void **state)
{
    (void)state;
    uint8_t stream[1024];
    size_t slen = 0;
    uint8_t payload[3][300];
    size_t plen[3] = { 0, 5, 300 };
    static const char *const topic[3] = { "fs38/a/update", "b", "fs38/1492af14-2569-5e48-bf42-9b2d51f2ab45/update" };
    for (unsigned k = 0; k < 3; k++) {
        for (size_t i = 0; i < plen[k]; i++)
            payload[k][i] = (uint8_t)(k * 31u + i);
        fs38_mqtt_packet p;
        memset(&p, 0, sizeof p);
        p.topic = topic[k];
        p.topic_len = strlen(topic[k]);
        p.payload = payload[k];
        p.payload_len = plen[k];
        p.qos = (uint8_t)(k & 1u);
        p.packet_id = (uint16_t)(k + 1u);
        size_t n = 0;
        assert_int_equal(fs38_mqtt_encode_publish(&p, stream + slen, sizeof stream - slen, &n), FS38_OK);
        slen += n;
    }
    /* fixed chunk sizes 1..slen, then every single split point, then two-split points */
    for (size_t mode = 0; mode < 3; mode++) {
        size_t limit = mode == 0 ? slen : mode == 1 ? slen : 60;
        for (size_t a = 1; a <= limit; a++) {
            for (size_t b2 = mode == 2 ? 1 : 0; b2 <= (mode == 2 ? slen - a - 1 : 0); b2 += mode == 2 ? 7 : 1) {
                fs38_mqtt_config cfg = base_cfg(sizeof g_rx);
                fs38_mqtt c;
                connect_client(&c, &cfg);
                size_t splits[2] = { a, b2 };
                if (mode == 0)
                    g_m.chunk = a;
                else {
                    g_m.splits = splits;
                    g_m.nsplits = mode == 1 ? 1 : 2;
                }
                queue(&g_m, stream, slen);
                for (unsigned tries = 0; g_nmsg < 3 && tries < 2000; tries++)
                    assert_int_equal(fs38_mqtt_poll(&c, 5), FS38_OK);
                assert_int_equal(g_nmsg, 3);
                for (unsigned k = 0; k < 3; k++) {
                    assert_string_equal(g_msg[k].topic, topic[k]);
                    assert_int_equal(g_msg[k].len, plen[k]);
                    if (plen[k])
                        assert_memory_equal(g_msg[k].payload, payload[k], plen[k]);
                }
                /* the QoS 1 message (id 2) was acknowledged once */
                assert_int_equal(g_m.out_len, 4);
                assert_int_equal(g_m.out[3], 2);
                assert_int_equal(ts_ev.n, 0);
            }
        }
    }
}

/* A packet longer than the receive buffer is refused as soon as its fixed header is in. */
static void oversized_refused(void **state)
{
    (void)state;
    fs38_mqtt_config cfg = base_cfg(64);
    fs38_mqtt c;
    connect_client(&c, &cfg);
    static const uint8_t head[] = { 0x30, 0x80, 0x01, 0x00, 0x01, 't' }; /* RL 128: 131 bytes */
    queue(&g_m, head, sizeof head);                                     /* the rest never comes */
    assert_int_equal(fs38_mqtt_poll(&c, 10), FS38_ERR_PROTOCOL);
    assert_non_null(strstr(fs38_mqtt_diag(&c)->msg, "exceeds the maximum of 64"));
    assert_int_equal(ts_ev.n, 1);
    assert_int_equal(g_nmsg, 0);
    /* exactly rx_cap bytes is fine */
    cfg = base_cfg(64);
    connect_client(&c, &cfg);
    uint8_t pkt[64] = { 0x30, 62, 0x00, 0x01, 't' };
    queue(&g_m, pkt, sizeof pkt);
    assert_int_equal(fs38_mqtt_poll(&c, 10), FS38_OK);
    assert_int_equal(g_nmsg, 1);
    assert_int_equal(g_msg[0].len, 59);
}

static void keepalive_and_loss(void **state)
{
    (void)state;
    fs38_mqtt_config cfg = base_cfg(sizeof g_rx);
    cfg.keep_alive_s = 2;
    fs38_mqtt c;
    connect_client(&c, &cfg);
    static const uint8_t pingresp[] = { 0xd0, 0x00 };
    react(&g_m, g_m.sends + 1, pingresp, sizeof pingresp);
    uint64_t t0 = g_m.now;
    assert_int_equal(fs38_mqtt_poll(&c, 1500), FS38_OK); /* idle 1.5 s: no ping yet */
    assert_int_equal(g_m.out_len, 0);
    assert_int_equal(fs38_mqtt_poll(&c, 1500), FS38_OK); /* crossed 2 s: PINGREQ, answered */
    assert_int_equal(g_m.out_len, 2);
    assert_int_equal(g_m.out[0], 0xc0);
    assert_true(g_m.now - t0 >= 3000);
    assert_true(fs38_mqtt_connected(&c));
    /* next PINGREQ 2 s after the first; this time no PINGRESP: lost 2 s later */
    for (unsigned i = 0; i < 10 && fs38_mqtt_connected(&c); i++) {
        fs38_err e = fs38_mqtt_poll(&c, 1000);
        assert_true(e == FS38_OK || e == FS38_ERR_TIMEOUT);
        if (e == FS38_ERR_TIMEOUT)
            assert_non_null(strstr(fs38_mqtt_diag(&c)->msg, "no PINGRESP within 2 s"));
    }
    assert_false(fs38_mqtt_connected(&c));
    assert_int_equal(g_m.out_len, 4);
    assert_true(g_m.now - t0 >= 3000 + 1000 + 2000);
    assert_true(g_m.now - t0 <= 3000 + 1000 + 2000 + 1000);
    assert_int_equal(ts_ev.n, 0); /* lost, not refused */

    /* a PINGRESP nobody asked for is refused */
    cfg = base_cfg(sizeof g_rx);
    connect_client(&c, &cfg);
    queue(&g_m, pingresp, sizeof pingresp);
    assert_int_equal(fs38_mqtt_poll(&c, 10), FS38_ERR_PROTOCOL);
    /* a second CONNACK is refused */
    cfg = base_cfg(sizeof g_rx);
    connect_client(&c, &cfg);
    queue(&g_m, k_connack_ok, sizeof k_connack_ok);
    assert_int_equal(fs38_mqtt_poll(&c, 10), FS38_ERR_PROTOCOL);
    assert_non_null(strstr(ts_ev.detail, "unexpected CONNACK"));
}

static void transport_failures(void **state)
{
    (void)state;
    fs38_mqtt_config cfg = base_cfg(sizeof g_rx);
    fs38_mqtt c;
    connect_client(&c, &cfg);
    g_m.empty_err = FS38_ERR_CLOSED;
    assert_int_equal(fs38_mqtt_poll(&c, 10), FS38_ERR_CLOSED);
    assert_non_null(strstr(fs38_mqtt_diag(&c)->msg, "closed"));
    assert_false(fs38_mqtt_connected(&c));
    assert_int_equal(fs38_mqtt_publish(&c, "a", 1, NULL, 0, 0), FS38_ERR_STATE);
    assert_int_equal(ts_ev.n, 0);
    /* the peer goes away while we wait for a PUBACK */
    cfg = base_cfg(sizeof g_rx);
    connect_client(&c, &cfg);
    g_m.empty_err = FS38_ERR_NET;
    assert_int_equal(fs38_mqtt_publish(&c, "a", 1, (const uint8_t *)"x", 1, 1), FS38_ERR_NET);
    assert_false(fs38_mqtt_connected(&c));
    /* send fails */
    cfg = base_cfg(sizeof g_rx);
    connect_client(&c, &cfg);
    g_m.send_err = FS38_ERR_TLS;
    assert_int_equal(fs38_mqtt_publish(&c, "a", 1, (const uint8_t *)"x", 1, 0), FS38_ERR_TLS);
    assert_false(fs38_mqtt_connected(&c));
    assert_int_equal(fs38_mqtt_disconnect(&c), FS38_OK); /* down: nothing to send */
    assert_int_equal(fs38_mqtt_disconnect(NULL), FS38_OK);
}

/* a test with the event recorder around it */
#define EV_TEST(f) cmocka_unit_test_setup_teardown(f, ts_events_setup, ts_events_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        EV_TEST(encode_vectors),
        EV_TEST(remaining_length_table),
        EV_TEST(decode_round_trip),
        EV_TEST(decode_refuses_malformed),
        EV_TEST(client_refuses_malformed),
        EV_TEST(topics),
        EV_TEST(connect_handshake),
        EV_TEST(connack_refusals),
        EV_TEST(publish_qos1_and_retry),
        EV_TEST(subscribe_acks),
        EV_TEST(stream_reassembly),
        EV_TEST(oversized_refused),
        EV_TEST(keepalive_and_loss),
        EV_TEST(transport_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
