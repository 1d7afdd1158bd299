/* SPDX-License-Identifier: Apache-2.0 */
/* coap_interop.c — the CoAP client against a REAL peer: libcoap's coap-server, started by
 * tests/cli/coap.sh on a free loopback port, over the test-only plaintext UDP transport
 * (tests/net/udp_transport.c; the device uses DTLS). Environment:
 *   FS38_COAP_PORT       the server's port (dynamic resources enabled: coap-server -d)
 *   FS38_COAP_DEAD_PORT  a loopback port with no server (retransmission / timeout)
 *   FS38_COAP_BIG        a 1 MiB file the script PUT to /big with libcoap's own coap-client
 *   FS38_COAP_UP_OUT     where to write the 100 KiB body this program uploads to /up (the
 *                        script fetches /up back with coap-client and compares)
 *   FS38_COAP_LOSSY_PORT a second coap-server started with `-l LIST`: it does not send some of
 *                        its datagrams (answers to our pipelined GET); FS38_COAP_SMALL is the
 *                        100 KiB file the script PUT there as /small
 *   FS38_COAP_QBLOCK     1 when the servers implement RFC 9177 Q-Block2 (libcoap 4.3.4 with
 *                        -L 5, tests/net/coap_qblock.sh): the cfg.qblock2 downloads must then
 *                        use it (one request per set of 10 blocks); unset (Debian 12's 4.3.1,
 *                        tests/cli/coap.sh): they must fall back to Block2, byte-exact too */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include "fs38/coap.h"
#include "fs38/event.h"
#include "support.h"
#include "udp_transport.h"

static unsigned g_refused;
static void ev_sink(void *user, const fs38_event_rec *ev)
{
    (void)user;
    if (ev->code == FS38_EV_COAP_REFUSED)
        g_refused++;
}

static fs38_err os_entropy(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return getrandom(buf, len, 0) == (ssize_t)len ? FS38_OK : FS38_ERR_IO;
}

static uint64_t os_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static fs38_port g_port = { .entropy = os_entropy, .monotonic_ms = os_ms };

typedef struct {
    ts_udp udp;
    fs38_transport t;
    fs38_coap_client c;
} peer;

static uint16_t env_port(const char *name)
{
    const char *v = getenv(name);
    if (!v)
        fail_msg("%s not set (run tests/cli/coap.sh)", name);
    return (uint16_t)atoi(v);
}

static void peer_open(peer *p, uint16_t port, const fs38_coap_config *base)
{
    assert_int_equal(ts_udp_open(&p->udp, &p->t, "127.0.0.1", port), 0);
    fs38_coap_config cfg = base ? *base : (fs38_coap_config){ 0 };
    cfg.transport = &p->t;
    cfg.port = &g_port;
    if (!cfg.ack_timeout_ms)
        cfg.ack_timeout_ms = 500; /* loopback: faster than the RFC's 2 s */
    assert_int_equal(fs38_coap_client_init(&p->c, &cfg), FS38_OK);
}

static void uri(fs38_coap_uri *u, uint16_t port, const char *path)
{
    char text[128];
    snprintf(text, sizeof text, "coap://127.0.0.1:%u/%s", (unsigned)port, path);
    assert_int_equal(fs38_coap_uri_parse(text, u, NULL), FS38_OK);
}

typedef struct {
    uint8_t *buf;
    size_t cap, len;
    uint32_t first;
    unsigned calls;
} sinkbuf;

static fs38_err to_buf(void *user, uint32_t offset, const uint8_t *data, size_t len)
{
    sinkbuf *s = user;
    if (s->calls++ == 0)
        s->first = offset;
    if (offset != s->first + s->len || s->len + len > s->cap)
        return FS38_ERR_BUFFER;
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    return FS38_OK;
}

static uint8_t *g_big;
static size_t g_big_len;

/* GET the 1 MiB resource libcoap's coap-client stored: block-wise, byte-exact, with the
 * default 1024-byte blocks and with 256-byte ones; then resume from the middle. */
static void get_1mib(void **state)
{
    (void)state;
    g_big = ts_read_file(getenv("FS38_COAP_BIG"), &g_big_len);
    assert_non_null(g_big);
    assert_int_equal(g_big_len, 1024 * 1024);
    static const uint16_t sizes[] = { 0, 256 };
    for (size_t i = 0; i < 2; i++) {
        peer p;
        fs38_coap_config cfg = { .block_size = sizes[i] };
        peer_open(&p, env_port("FS38_COAP_PORT"), &cfg);
        fs38_coap_uri u;
        uri(&u, env_port("FS38_COAP_PORT"), "big");
        sinkbuf s = { .buf = malloc(g_big_len), .cap = g_big_len };
        uint32_t total = 0;
        fs38_err err = fs38_coap_get(&p.c, &u, 0, to_buf, &s, &total);
        if (err != FS38_OK)
            fail_msg("GET /big: %s", p.c.diag.msg);
        assert_int_equal(total, g_big_len);
        assert_int_equal(s.len, g_big_len);
        assert_memory_equal(s.buf, g_big, g_big_len);
        print_message("GET 1 MiB in %u-byte blocks: %u requests, %u answers\n", sizes[i] ? sizes[i] : 1024u,
                      p.udp.sent, p.udp.received);
        assert_true(p.udp.sent >= g_big_len / (sizes[i] ? sizes[i] : 1024u));
        free(s.buf);
        ts_udp_close(&p.udp);
    }
    peer p;
    peer_open(&p, env_port("FS38_COAP_PORT"), NULL);
    fs38_coap_uri u;
    uri(&u, env_port("FS38_COAP_PORT"), "big");
    sinkbuf s = { .buf = malloc(g_big_len), .cap = g_big_len };
    uint32_t total = 0;
    assert_int_equal(fs38_coap_get(&p.c, &u, 500001, to_buf, &s, &total), FS38_OK);
    assert_int_equal(s.first, 500001);
    assert_int_equal(s.len, g_big_len - 500001);
    assert_memory_equal(s.buf, g_big + 500001, s.len);
    free(s.buf);
    ts_udp_close(&p.udp);
    assert_int_equal(g_refused, 0);
}

/* Block1: PUT and POST 100 KiB, GET both back byte-exact (the script also fetches /up with
 * libcoap's coap-client). */
static void upload_100k(void **state)
{
    (void)state;
    size_t n = 100 * 1024;
    uint8_t *body = malloc(n);
    assert_int_equal(getrandom(body, n, 0), (ssize_t)n);
    static const struct {
        uint8_t method;
        const char *path;
    } cases[] = { { FS38_COAP_PUT, "up" }, { FS38_COAP_POST, "posted" } };
    for (size_t i = 0; i < 2; i++) {
        peer p;
        peer_open(&p, env_port("FS38_COAP_PORT"), NULL);
        fs38_coap_uri u;
        uri(&u, env_port("FS38_COAP_PORT"), cases[i].path);
        uint8_t code = 0;
        fs38_err err = fs38_coap_upload(&p.c, &u, cases[i].method, 42, body, n, &code);
        if (err != FS38_OK)
            fail_msg("upload /%s: %s", cases[i].path, p.c.diag.msg);
        assert_true(code == FS38_COAP_CREATED || code == FS38_COAP_CHANGED);
        assert_true(p.udp.sent >= 100);
        sinkbuf s = { .buf = malloc(n), .cap = n };
        err = fs38_coap_get(&p.c, &u, 0, to_buf, &s, NULL);
        if (err != FS38_OK)
            fail_msg("GET /%s: %s", cases[i].path, p.c.diag.msg);
        assert_int_equal(s.len, n);
        assert_memory_equal(s.buf, body, n);
        free(s.buf);
        ts_udp_close(&p.udp);
    }
    FILE *f = fopen(getenv("FS38_COAP_UP_OUT"), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(body, 1, n, f), n);
    fclose(f);
    free(body);
    assert_int_equal(g_refused, 0);
}

/* NSTART 8 (pipelined Block2, fs38/coap.h): the same 1 MiB byte-exact from libcoap's server,
 * every block asked for once (the server answers in order), from 0 and from a resume point. */
static void get_1mib_pipelined(void **state)
{
    (void)state;
    assert_non_null(g_big);
    static const uint32_t starts[] = { 0, 333333 };
    for (size_t i = 0; i < 2; i++) {
        peer p;
        fs38_coap_config cfg = { .nstart = 8 };
        peer_open(&p, env_port("FS38_COAP_PORT"), &cfg);
        fs38_coap_uri u;
        uri(&u, env_port("FS38_COAP_PORT"), "big");
        sinkbuf s = { .buf = malloc(g_big_len), .cap = g_big_len };
        uint32_t total = 0;
        uint64_t t0 = os_ms(NULL);
        fs38_err err = fs38_coap_get(&p.c, &u, starts[i], to_buf, &s, &total);
        if (err != FS38_OK)
            fail_msg("pipelined GET /big: %s", p.c.diag.msg);
        assert_int_equal(total, g_big_len);
        assert_int_equal(s.len, g_big_len - starts[i]);
        assert_memory_equal(s.buf, g_big + starts[i], s.len);
        unsigned blocks = (unsigned)(g_big_len / 1024u - starts[i] / 1024u);
        print_message("pipelined GET from %u: %u requests for %u blocks in %u ms\n", starts[i], p.udp.sent, blocks,
                      (unsigned)(os_ms(NULL) - t0));
        assert_int_equal(p.udp.sent, blocks);
        free(s.buf);
        ts_udp_close(&p.udp);
    }
    assert_int_equal(g_refused, 0);
}

/* GET /small (100 KiB) from the server that loses some of its answers (coap-server -l) with
 * cfg: byte-exact, no refusal; returns the requests it took. */
static unsigned lossy_get(const fs38_coap_config *cfg, const char *what)
{
    size_t n = 0;
    uint8_t *small = ts_read_file(getenv("FS38_COAP_SMALL"), &n);
    assert_non_null(small);
    assert_int_equal(n, 100 * 1024);
    peer p;
    peer_open(&p, env_port("FS38_COAP_LOSSY_PORT"), cfg);
    fs38_coap_uri u;
    uri(&u, env_port("FS38_COAP_LOSSY_PORT"), "small");
    sinkbuf s = { .buf = malloc(n), .cap = n };
    uint32_t total = 0;
    fs38_err err = fs38_coap_get(&p.c, &u, 0, to_buf, &s, &total);
    if (err != FS38_OK)
        fail_msg("%s GET /small from the lossy server: %s", what, p.c.diag.msg);
    assert_int_equal(total, n);
    assert_int_equal(s.len, n);
    assert_memory_equal(s.buf, small, n);
    unsigned sent = p.udp.sent;
    free(s.buf);
    free(small);
    ts_udp_close(&p.udp);
    assert_int_equal(g_refused, 0);
    return sent;
}

/* A server that loses some of its answers (coap-server -l): the pipelined GET recovers (the
 * lost block's retransmission, the blocks that overtook it asked for again) byte-exact. */
static void get_pipelined_lossy(void **state)
{
    (void)state;
    fs38_coap_config cfg = { .nstart = 8, .ack_timeout_ms = 200, .ack_random_factor_pct = 100 };
    unsigned sent = lossy_get(&cfg, "pipelined");
    print_message("lossy server: %u requests for 100 blocks\n", sent);
    assert_true(sent > 100); /* losses happened and were recovered */
}

static bool qblock_server(void)
{
    const char *v = getenv("FS38_COAP_QBLOCK");
    return v && strcmp(v, "1") == 0;
}

/* cfg.qblock2 (RFC 9177): the same 1 MiB byte-exact, from 0 and from a resume point (which
 * uses Block2, fs38/coap.h). With a Q-Block2 server: 1 request + 1 'Continue' per further set
 * of 10 blocks; without one: the NON request rejected (RST) or answered 4.02 Bad Option, then
 * one CON Block2 GET per block. */
static void get_1mib_qblock2(void **state)
{
    (void)state;
    assert_non_null(g_big);
    static const uint32_t starts[] = { 0, 333333, 0 };
    static uint8_t set_buf[10 * 1024];
    for (size_t i = 0; i < 3; i++) {
        peer p;
        fs38_coap_config cfg = { .qblock2 = true };
        if (i == 2) { /* the sets held in cfg.set_buf and handed on after each Continue */
            cfg.set_buf = set_buf;
            cfg.set_buf_len = sizeof set_buf;
        }
        peer_open(&p, env_port("FS38_COAP_PORT"), &cfg);
        fs38_coap_uri u;
        uri(&u, env_port("FS38_COAP_PORT"), "big");
        sinkbuf s = { .buf = malloc(g_big_len), .cap = g_big_len };
        uint32_t total = 0;
        uint64_t t0 = os_ms(NULL);
        fs38_err err = fs38_coap_get(&p.c, &u, starts[i], to_buf, &s, &total);
        if (err != FS38_OK)
            fail_msg("Q-Block2 GET /big: %s", p.c.diag.msg);
        assert_int_equal(total, g_big_len);
        assert_int_equal(s.len, g_big_len - starts[i]);
        assert_memory_equal(s.buf, g_big + starts[i], s.len);
        unsigned first = starts[i] / 1024u, blocks = (unsigned)(g_big_len / 1024u) - first;
        print_message("Q-Block2 GET from %u%s: %u requests for %u blocks in %u ms, %u sink calls (%s)\n", starts[i],
                      i == 2 ? " with set_buf" : "", p.udp.sent, blocks, (unsigned)(os_ms(NULL) - t0), s.calls,
                      qblock_server() ? "Q-Block2 server" : "fallback to Block2");
        if (i == 2 && qblock_server()) /* a set of 10 blocks per call */
            assert_int_equal(s.calls, (g_big_len / 1024u + 9u) / 10u);
        if (first > 0) /* a resume goes Block2 (fs38/coap.h): one CON GET per block */
            assert_int_equal(p.udp.sent, blocks);
        else if (qblock_server()) /* the first, then a Continue at every multiple of 10 */
            assert_int_equal(p.udp.sent, 1u + (g_big_len / 1024u - 1u) / 10u);
        else /* the NON request (RST or 4.02), then one CON GET per block */
            assert_int_equal(p.udp.sent, 1u + blocks);
        free(s.buf);
        ts_udp_close(&p.udp);
    }
    assert_int_equal(g_refused, 0);
}

/* cfg.qblock2 from the server that loses some datagrams (coap-server -l): recovered
 * byte-exact (a lost block asked for again with the rest of its set, or after NON_TIMEOUT). */
static void get_qblock2_lossy(void **state)
{
    (void)state;
    static uint8_t set_buf[4 * 1024]; /* smaller than a set: handed on when full, too */
    fs38_coap_config cfg = { .qblock2 = true, .ack_timeout_ms = 200, .ack_random_factor_pct = 100,
                             .set_buf = set_buf, .set_buf_len = sizeof set_buf };
    unsigned sent = lossy_get(&cfg, "Q-Block2");
    print_message("lossy server, Q-Block2: %u requests for 100 blocks\n", sent);
    if (qblock_server()) /* losses happened in the sets and were recovered */
        assert_true(sent > 10);
}


static void not_found_refused(void **state)
{
    (void)state;
    peer p;
    peer_open(&p, env_port("FS38_COAP_PORT"), NULL);
    fs38_coap_uri u;
    uri(&u, env_port("FS38_COAP_PORT"), "no/such/thing");
    sinkbuf s = { .buf = malloc(16), .cap = 16 };
    unsigned before = g_refused;
    assert_int_equal(fs38_coap_get(&p.c, &u, 0, to_buf, &s, NULL), FS38_ERR_PEER);
    assert_string_equal(p.c.diag.msg, "server answered 4.04 Not Found");
    assert_int_equal(g_refused, before + 1);
    assert_int_equal(s.calls, 0);
    free(s.buf);
    ts_udp_close(&p.udp);
}

/* No server: 1 + 2 transmissions at 200, 400 ms, gives up after 200 + 400 + 800 ms. */
static void timeout_without_server(void **state)
{
    (void)state;
    peer p;
    fs38_coap_config cfg = { .ack_timeout_ms = 200, .ack_random_factor_pct = 100, .max_retransmit = 2 };
    peer_open(&p, env_port("FS38_COAP_DEAD_PORT"), &cfg);
    fs38_coap_uri u;
    uri(&u, env_port("FS38_COAP_DEAD_PORT"), "big");
    sinkbuf s = { .buf = malloc(16), .cap = 16 };
    uint64_t t0 = os_ms(NULL);
    assert_int_equal(fs38_coap_get(&p.c, &u, 0, to_buf, &s, NULL), FS38_ERR_TIMEOUT);
    uint64_t dt = os_ms(NULL) - t0;
    print_message("timeout after %u ms, %u transmissions\n", (unsigned)dt, p.udp.sent);
    assert_int_equal(p.udp.sent, 3);
    assert_true(dt >= 1390 && dt < 3000);
    assert_int_equal(s.calls, 0);
    free(s.buf);
    ts_udp_close(&p.udp);
}

int main(void)
{
    fs38_event_set_sink(ev_sink, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_1mib),
        cmocka_unit_test(get_1mib_pipelined),
        cmocka_unit_test(get_pipelined_lossy),
        cmocka_unit_test(get_1mib_qblock2),
        cmocka_unit_test(get_qblock2_lossy),
        cmocka_unit_test(upload_100k),
        cmocka_unit_test(not_found_refused),
        cmocka_unit_test(timeout_without_server),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(g_big);
    return rc;
}
