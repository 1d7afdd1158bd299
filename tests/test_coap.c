/* SPDX-License-Identifier: Apache-2.0 */
/* test_coap.c — the CoAP client (fs38/coap.h): codec against known byte vectors (RFC 7252 §3,
 * RFC 7959 §2.2), every malformed class refused, the URI parser, and the client against a
 * scripted in-process server over a fake datagram transport with a fake clock: block-wise GET
 * (piggy-backed and separate responses, smaller server blocks, resume offset), Block1 upload
 * (2.31, 4.13 restart), retransmission timing, duplicates, RST on an unexpected CON, and every
 * refusal (4.04, wrong token, changed ETag, malformed datagram...) raising
 * FS38_EV_COAP_REFUSED and delivering nothing further. The interop run against libcoap's
 * coap-server is tests/cli/coap.sh (tests/coap_interop.c). */
#include <stdlib.h>
#include <string.h>
#include "fs38/coap.h"
#include "fs38/event.h"
#include "support.h"

/* ---- events -------------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    ts_events_record(FS38_EV_COAP_REFUSED);
    return 0;
}

/* ---- codec --------------------------------------------------------------------------------- */

static void expect_bytes(const uint8_t *got, size_t got_len, const char *hex)
{
    uint8_t want[2048];
    size_t n = ts_unhex(hex, want, sizeof want);
    assert_int_equal(got_len, n);
    assert_memory_equal(got, want, n);
}

/* RFC 7252 Appendix A, Figure 16's first request: CON GET mid 0x7d34, Uri-Path "temperature";
 * and its piggy-backed answer ACK 2.05 "22.3 C". */
static void codec_rfc7252_example(void **state)
{
    (void)state;
    fs38_coap_msg m;
    uint8_t buf[64];
    size_t len = 0;
    assert_int_equal(fs38_coap_msg_init(&m, FS38_COAP_CON, FS38_COAP_GET, 0x7d34, NULL, 0), FS38_OK);
    assert_int_equal(fs38_coap_opt_add(&m, FS38_COAP_OPT_URI_PATH, (const uint8_t *)"temperature", 11), FS38_OK);
    assert_int_equal(fs38_coap_encode(&m, buf, sizeof buf, &len, NULL), FS38_OK);
    expect_bytes(buf, len, "40 01 7d 34 bb 74656d7065726174757265");

    uint8_t ack[32];
    size_t n = ts_unhex("60 45 7d 34 ff 32322e332043", ack, sizeof ack);
    fs38_coap_msg r;
    assert_int_equal(fs38_coap_decode(ack, n, &r, NULL), FS38_OK);
    assert_int_equal(r.type, FS38_COAP_ACK);
    assert_int_equal(r.code, FS38_COAP_CONTENT);
    assert_int_equal(r.mid, 0x7d34);
    assert_int_equal(r.token_len, 0);
    assert_int_equal(r.n_options, 0);
    assert_int_equal(r.payload_len, 6);
    assert_memory_equal(r.payload, "22.3 C", 6);
    assert_string_equal(fs38_coap_code_name(r.code), "Content");
}

/* The 13 (+1 byte) and 14 (+2 bytes) forms of deltas and lengths, options out of insertion
 * order, a token, uint options in their shortest form. */
static void codec_extended_forms(void **state)
{
    (void)state;
    static uint8_t v300[300];
    memset(v300, 'x', sizeof v300);
    fs38_coap_msg m;
    uint8_t buf[600];
    size_t len = 0;
    const uint8_t tok[2] = { 0xab, 0xcd };
    assert_int_equal(fs38_coap_msg_init(&m, FS38_COAP_NON, FS38_COAP_POST, 0x0102, tok, 2), FS38_OK);
    assert_int_equal(fs38_coap_opt_add_uint(&m, FS38_COAP_OPT_SIZE1, 1024), FS38_OK);   /* delta 60-27=33: 13-form */
    assert_int_equal(fs38_coap_opt_add(&m, 400, v300, 13), FS38_OK);                    /* delta 340: 14-form; len 13 */
    assert_int_equal(fs38_coap_opt_add_uint(&m, FS38_COAP_OPT_BLOCK1, fs38_coap_block_pack(0, true, 6)), FS38_OK);
    assert_int_equal(fs38_coap_opt_add(&m, 700, v300, 300), FS38_OK);                   /* len 300: 14-form */
    assert_int_equal(fs38_coap_opt_add_uint(&m, FS38_COAP_OPT_CONTENT_FORMAT, 0), FS38_OK); /* empty value */
    m.payload = (const uint8_t *)"hi";
    m.payload_len = 2;
    assert_int_equal(fs38_coap_encode(&m, buf, sizeof buf, &len, NULL), FS38_OK);
    /* header, token; 12: delta 12 len 0 -> c0; 27: delta 15 -> d1 02 0e; 60: delta 33 -> d2 14 04 00;
     * 400: delta 340 -> e d (14,13) 00 47 00 + 13 x; 700: delta 300 -> ee 00 1f 00 1f + 300 x */
    char hex[2048];
    size_t h = (size_t)snprintf(hex, sizeof hex, "52 02 0102 abcd c0 d1 02 0e d2 14 0400 ed 0047 00 ");
    for (int i = 0; i < 13; i++)
        h += (size_t)snprintf(hex + h, sizeof hex - h, "78");
    h += (size_t)snprintf(hex + h, sizeof hex - h, " ee 001f 001f ");
    for (int i = 0; i < 300; i++)
        h += (size_t)snprintf(hex + h, sizeof hex - h, "78");
    snprintf(hex + h, sizeof hex - h, " ff 6869");
    expect_bytes(buf, len, hex);

    fs38_coap_msg r;
    assert_int_equal(fs38_coap_decode(buf, len, &r, NULL), FS38_OK);
    assert_int_equal(r.n_options, 5);
    uint32_t v = 0;
    assert_int_equal(fs38_coap_opt_uint(fs38_coap_opt_find(&r, FS38_COAP_OPT_SIZE1, 0), &v, NULL), FS38_OK);
    assert_int_equal(v, 1024);
    assert_int_equal(fs38_coap_opt_find(&r, 700, 0)->len, 300);
    assert_int_equal(fs38_coap_opt_find(&r, 400, 0)->len, 13);
    assert_null(fs38_coap_opt_find(&r, 400, 1));
    uint8_t again[600];
    size_t alen = 0;
    assert_int_equal(fs38_coap_encode(&r, again, sizeof again, &alen, NULL), FS38_OK);
    assert_int_equal(alen, len);
    assert_memory_equal(again, buf, len);
    /* one byte short of the buffer: BUFFER, never a partial message */
    assert_int_equal(fs38_coap_encode(&m, buf, len - 1, &alen, NULL), FS38_ERR_BUFFER);
    /* unsorted list refused by the encoder */
    fs38_coap_msg u = m;
    u.options[0].number = 100;
    assert_int_equal(fs38_coap_encode(&u, buf, sizeof buf, &alen, NULL), FS38_ERR_ARG);
}

/* Random messages: encode -> decode -> encode is byte-exact. */
static void codec_roundtrip_random(void **state)
{
    (void)state;
    srand(38);
    static uint8_t vals[4096];
    for (size_t i = 0; i < sizeof vals; i++)
        vals[i] = (uint8_t)rand();
    for (int it = 0; it < 2000; it++) {
        fs38_coap_msg m;
        uint8_t tok[8];
        size_t tl = (size_t)rand() % 9u;
        memcpy(tok, vals + it % 100, 8);
        unsigned cls = (unsigned[]){ 0, 2, 4, 5 }[rand() % 4];
        uint8_t code = FS38_COAP_CODE(cls, 1u + (unsigned)rand() % 30u);
        assert_int_equal(fs38_coap_msg_init(&m, (uint8_t)(rand() % 4), code, (uint16_t)rand(), tok, tl), FS38_OK);
        int nopt = rand() % 10;
        for (int k = 0; k < nopt; k++) {
            uint16_t num = (uint16_t)(1 + rand() % (k % 3 == 0 ? 65535 : 300));
            size_t ol = (size_t)(rand() % 3 == 0 ? rand() % 600 : rand() % 14);
            assert_int_equal(fs38_coap_opt_add(&m, num, vals + (size_t)rand() % 3000, ol), FS38_OK);
        }
        if (rand() % 2) {
            m.payload = vals + 7;
            m.payload_len = 1u + (size_t)rand() % 200u;
        }
        uint8_t a[8192], b[8192];
        size_t al = 0, bl = 0;
        assert_int_equal(fs38_coap_encode(&m, a, sizeof a, &al, NULL), FS38_OK);
        fs38_coap_msg r;
        if (al > FS38_COAP_MSG_MAX) {
            assert_int_equal(fs38_coap_decode(a, al, &r, NULL), FS38_ERR_PROTOCOL);
            continue;
        }
        assert_int_equal(fs38_coap_decode(a, al, &r, NULL), FS38_OK);
        assert_int_equal(r.n_options, m.n_options);
        assert_int_equal(fs38_coap_encode(&r, b, sizeof b, &bl, NULL), FS38_OK);
        assert_int_equal(al, bl);
        assert_memory_equal(a, b, al);
    }
}

/* Every malformed class: refused with FS38_ERR_PROTOCOL and a diagnostic naming it. */
static void decode_refuses_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *hex;
        const char *why;
    } bad[] = {
        { "40 01 00", "shorter than its header" },
        { "80 01 0000", "version 2" },
        { "00 01 0000", "version 0" },
        { "49 01 0000 000000000000000000", "token length 9" },
        { "4f 01 0000", "token length 15" },
        { "40 20 0000", "code class 1" },
        { "40 c0 0000", "code class 6" },
        { "40 e0 0000", "code class 7" },
        { "44 01 0000 aabb", "token of 4 bytes runs past" },
        { "40 01 0000 ff", "payload marker at byte 4 followed by no payload" },
        { "40 01 0000 f0", "reserved option delta nibble 15" },
        { "40 01 0000 1f", "reserved option length nibble 15" },
        { "40 01 0000 d0", "option header at byte 4 runs past" },
        { "40 01 0000 e0 00", "option header at byte 4 runs past" },
        { "40 01 0000 1d", "option header at byte 4 runs past" },
        { "40 01 0000 e0 fe ff e0 01 00", "beyond 65535 (delta overflow)" },
        { "40 01 0000 b5 6162", "value of 5 bytes runs past" },
        { "40 01 0000 01 aa", "reserved option number 0" },
        { "40 00 0000 b0", "empty message (0.00)" },
        { "41 00 0000 aa", "empty message (0.00)" },
        { "70 00 0000 ff 00", "empty message (0.00)" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t buf[64];
        size_t n = ts_unhex(bad[i].hex, buf, sizeof buf);
        fs38_coap_msg m;
        fs38_diag d;
        fs38_diag_clear(&d);
        fs38_err err = fs38_coap_decode(buf, n, &m, &d);
        if (err != FS38_ERR_PROTOCOL || !strstr(d.msg, bad[i].why))
            fail_msg("case %zu (%s): err %d, diag \"%s\", want \"%s\"", i, bad[i].hex, err, d.msg, bad[i].why);
    }
    /* more options than FS38_COAP_MAX_OPTIONS */
    uint8_t many[64];
    memcpy(many, "\x40\x01\x00\x00", 4);
    for (unsigned i = 0; i < FS38_COAP_MAX_OPTIONS + 1u; i++)
        many[4 + i] = i ? 0x00 : 0x10; /* If-Match (1), then delta 0: If-Match repeated, empty */
    fs38_coap_msg m;
    fs38_diag d;
    assert_int_equal(fs38_coap_decode(many, 4 + FS38_COAP_MAX_OPTIONS + 1u, &m, &d), FS38_ERR_PROTOCOL);
    assert_non_null(strstr(d.msg, "more than 24 options"));
    assert_int_equal(fs38_coap_decode(many, 4 + FS38_COAP_MAX_OPTIONS, &m, &d), FS38_OK);
    /* oversized */
    static uint8_t big[FS38_COAP_MSG_MAX + 1];
    memset(big, 0, sizeof big);
    memcpy(big, "\x40\x01\x00\x00\xff", 5);
    assert_int_equal(fs38_coap_decode(big, sizeof big, &m, &d), FS38_ERR_PROTOCOL);
    assert_non_null(strstr(d.msg, "exceeds"));
    assert_int_equal(fs38_coap_decode(big, sizeof big - 1, &m, &d), FS38_OK);
    /* the empty message itself is fine */
    assert_int_equal(fs38_coap_decode((const uint8_t *)"\x60\x00\x12\x34", 4, &m, &d), FS38_OK);
    assert_int_equal(m.code, FS38_COAP_EMPTY);
}

/* RFC 7959 §2.2: NUM << 4 | M << 3 | SZX; 2:0/1/128 is 0x0b, SZX 7 reserved. */
static void block_values(void **state)
{
    (void)state;
    assert_int_equal(fs38_coap_block_pack(0, false, 6), 0x06);
    assert_int_equal(fs38_coap_block_pack(0, true, 3), 0x0b);
    assert_int_equal(fs38_coap_block_pack(1, true, 3), 0x1b);
    assert_int_equal(fs38_coap_block_pack(21, false, 6), 0x156);
    assert_int_equal(fs38_coap_block_pack(0xFFFFF, true, 0), 0xFFFFF8);
    uint32_t num;
    bool more;
    unsigned szx;
    assert_int_equal(fs38_coap_block_unpack(0x1b, &num, &more, &szx, NULL), FS38_OK);
    assert_int_equal(num, 1);
    assert_true(more);
    assert_int_equal(szx, 3);
    fs38_diag d;
    assert_int_equal(fs38_coap_block_unpack(0x17, &num, &more, &szx, &d), FS38_ERR_PROTOCOL);
    assert_non_null(strstr(d.msg, "exponent 7"));
    assert_int_equal(fs38_coap_block_unpack(0x1000000, &num, &more, &szx, &d), FS38_ERR_PROTOCOL);
    /* on the wire: Block2 2:1/1/128 after no option -> delta 23 (13-form), length 1 */
    fs38_coap_msg m;
    uint8_t buf[16];
    size_t len;
    assert_int_equal(fs38_coap_msg_init(&m, FS38_COAP_ACK, FS38_COAP_CONTENT, 1, NULL, 0), FS38_OK);
    assert_int_equal(fs38_coap_opt_add_uint(&m, FS38_COAP_OPT_BLOCK2, fs38_coap_block_pack(1, true, 3)), FS38_OK);
    assert_int_equal(fs38_coap_encode(&m, buf, sizeof buf, &len, NULL), FS38_OK);
    expect_bytes(buf, len, "6045 0001 d1 0a 1b");
}

static void uri_parse(void **state)
{
    (void)state;
    fs38_coap_uri u;
    fs38_diag d;
    assert_int_equal(fs38_coap_uri_parse("coaps://fleet.example.com:6000/fw/v%201/img?k=1&x", &u, &d), FS38_OK);
    assert_true(u.secure);
    assert_false(u.host_is_ip);
    assert_string_equal(u.host, "fleet.example.com");
    assert_int_equal(u.port, 6000);
    assert_string_equal(u.path, "fw/v%201/img");
    assert_string_equal(u.query, "k=1&x");
    assert_int_equal(fs38_coap_uri_parse("coaps://10.0.0.1", &u, &d), FS38_OK);
    assert_int_equal(u.port, 5684);
    assert_true(u.host_is_ip);
    assert_string_equal(u.path, "");
    assert_int_equal(fs38_coap_uri_parse("COAP://[::1]:5683/", &u, &d), FS38_OK);
    assert_false(u.secure);
    assert_true(u.host_is_ip);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 5683);
    assert_int_equal(fs38_coap_uri_parse("coap://h:/a", &u, &d), FS38_OK);
    assert_int_equal(u.port, 5683);
    static const char *const bad[] = {
        "http://h/x", "coaps://", "coaps://:5684/x", "coaps://u@h/x", "coaps://h:0/x", "coaps://h:65536/x",
        "coaps://h:12a/x", "coaps://h/x#frag", "coaps://h/a%2", "coaps://h/a%zz", "coaps://h/a b", "coaps://h x/",
        "coaps://[::1/x", "coaps://[]/x", "coaps://[zz]/x", "coaps://h/\x01", "coaps://h%41/x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (fs38_coap_uri_parse(bad[i], &u, &d) != FS38_ERR_ARG)
            fail_msg("accepted bad URI %s", bad[i]);
    char lng[300];
    memset(lng, 'a', sizeof lng);
    memcpy(lng, "coaps://h/", 10);
    lng[sizeof lng - 1] = '\0';
    assert_int_equal(fs38_coap_uri_parse(lng, &u, &d), FS38_ERR_ARG);
    assert_non_null(strstr(d.msg, "longer than"));
}

/* ---- a scripted server over a fake datagram transport ------------------------------------ */

#define QMAX 16
typedef struct {
    uint64_t clock;
    uint8_t q[QMAX][FS38_COAP_MSG_MAX + 64];
    size_t qlen[QMAX];
    unsigned qh, qn;
    unsigned sends, requests;
    uint64_t req_times[64];
    unsigned acks, rsts;
    uint16_t acked_mids[64];
    uint16_t server_mid;
    /* resource and upload */
    const uint8_t *res;
    size_t res_len;
    uint8_t *up;
    size_t up_cap, up_len;
    bool saw_block1, saw_size2;
    uint32_t size1;
    /* behaviour */
    unsigned drop;     /* drop this many requests */
    bool never;        /* never answer */
    bool separate;     /* empty ACK, then a CON response */
    bool dup_separate; /* send every separate response twice */
    unsigned szx;      /* server's largest block */
    int etag_change_at;
    bool wrong_token;
    bool inject_con;   /* a CON with a foreign token before each response */
    bool stale_ack;    /* an ACK with another message id before each response */
    uint8_t force_code;
    bool too_large_once;
    int short_block_at;
    bool critical_opt;
    bool garbage;
    bool oversize;
    bool no_size2_match;
    bool grow;     /* answer with a block twice the size asked for */
    bool ack_only; /* empty ACK, then nothing */
    bool omit_size2;  /* never send Size2 */
    int drop_req;     /* drop the request with this index (0 = the first), -1: none */
    int drop_from;    /* drop every request from this index on, -1: none */
    unsigned max_qn;  /* most datagrams queued for the client at once */
    /* RFC 9177 Q-Block2 (NON requests with option 31) */
    bool qb;          /* the server implements Q-Block2 (else: 4.02 Bad Option) */
    bool qb_block2;   /* ... but answers a Q-Block2 request with Block2 */
    bool qb_rst;      /* without Q-Block2: rejects the NON request with RST (RFC 7252 §5.4.1) */
    unsigned qb_max;  /* its MAX_PAYLOADS */
    int qb_drop;      /* the first response carrying this block is lost, -1: none */
    unsigned qb_requests;
    uint32_t qb_asked[64]; /* NUM of each Q-Block2 request */
} fake;

static void push(fake *f, const uint8_t *b, size_t n)
{
    assert_true(f->qn < QMAX);
    unsigned i = (f->qh + f->qn++) % QMAX;
    if (f->qn > f->max_qn)
        f->max_qn = f->qn;
    memcpy(f->q[i], b, n);
    f->qlen[i] = n;
}

static void push_msg(fake *f, const fs38_coap_msg *m)
{
    uint8_t b[FS38_COAP_MSG_MAX + 64];
    size_t n = 0;
    assert_int_equal(fs38_coap_encode(m, b, sizeof b, &n, NULL), FS38_OK);
    push(f, b, n);
}

static void respond(fake *f, const fs38_coap_msg *req, fs38_coap_msg *r)
{
    r->token_len = req->token_len;
    memcpy(r->token, req->token, req->token_len);
    if (f->wrong_token)
        r->token[0] ^= 1u;
    if (f->inject_con) {
        fs38_coap_msg x;
        uint8_t t[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
        assert_int_equal(fs38_coap_msg_init(&x, FS38_COAP_CON, FS38_COAP_CONTENT, f->server_mid++, t, 8), FS38_OK);
        push_msg(f, &x);
    }
    if (f->stale_ack) {
        fs38_coap_msg x = *r;
        x.type = FS38_COAP_ACK;
        x.mid = (uint16_t)(req->mid - 1u);
        push_msg(f, &x);
    }
    if (f->critical_opt)
        assert_int_equal(fs38_coap_opt_add_uint(r, 9, 1), FS38_OK);
    if (f->ack_only) {
        fs38_coap_msg e;
        assert_int_equal(fs38_coap_msg_init(&e, FS38_COAP_ACK, FS38_COAP_EMPTY, req->mid, NULL, 0), FS38_OK);
        push_msg(f, &e);
        return;
    }
    if (f->separate) {
        fs38_coap_msg e;
        assert_int_equal(fs38_coap_msg_init(&e, FS38_COAP_ACK, FS38_COAP_EMPTY, req->mid, NULL, 0), FS38_OK);
        push_msg(f, &e);
        r->type = FS38_COAP_CON;
        r->mid = f->server_mid++;
        push_msg(f, r);
        if (f->dup_separate)
            push_msg(f, r);
    } else {
        r->type = FS38_COAP_ACK;
        r->mid = req->mid;
        push_msg(f, r);
    }
}

static void serve(fake *f, const fs38_coap_msg *req)
{
    fs38_coap_msg r;
    assert_int_equal(fs38_coap_msg_init(&r, FS38_COAP_ACK, FS38_COAP_CONTENT, 0, NULL, 0), FS38_OK);
    if (f->force_code) {
        r.code = f->force_code;
        respond(f, req, &r);
        return;
    }
    uint32_t v = 0, num = 0;
    bool more = false;
    unsigned szx = 6;
    const fs38_coap_option *b2 = fs38_coap_opt_find(req, FS38_COAP_OPT_BLOCK2, 0);
    const fs38_coap_option *b1 = fs38_coap_opt_find(req, FS38_COAP_OPT_BLOCK1, 0);
    if (req->code == FS38_COAP_GET) {
        if (b2) {
            assert_int_equal(fs38_coap_opt_uint(b2, &v, NULL), FS38_OK);
            assert_int_equal(fs38_coap_block_unpack(v, &num, &more, &szx, NULL), FS38_OK);
        }
        unsigned s = szx < f->szx ? szx : f->szx;
        num <<= (szx - s);
        if (f->grow)
            s++;
        size_t size = 16u << s, off = (size_t)num * size;
        size_t n = off < f->res_len ? f->res_len - off : 0;
        if (n > size)
            n = size;
        if (f->short_block_at >= 0 && (int)num == f->short_block_at)
            n--;
        bool m = off + size < f->res_len;
        uint8_t etag[4] = { 0xe7, 0xa6, 0, f->etag_change_at >= 0 && (int)num >= f->etag_change_at ? 1 : 0 };
        assert_int_equal(fs38_coap_opt_add(&r, FS38_COAP_OPT_ETAG, etag, 4), FS38_OK);
        assert_int_equal(fs38_coap_opt_add_uint(&r, FS38_COAP_OPT_BLOCK2, fs38_coap_block_pack(num, m, s)), FS38_OK);
        if (fs38_coap_opt_find(req, FS38_COAP_OPT_SIZE2, 0) && !f->omit_size2) {
            f->saw_size2 = true;
            assert_int_equal(fs38_coap_opt_add_uint(&r, FS38_COAP_OPT_SIZE2,
                                                    (uint32_t)f->res_len + (f->no_size2_match ? 1u : 0u)),
                             FS38_OK);
        }
        r.payload = n ? f->res + off : NULL;
        r.payload_len = n;
        respond(f, req, &r);
        return;
    }
    /* POST / PUT */
    if (b1) {
        f->saw_block1 = true;
        assert_int_equal(fs38_coap_opt_uint(b1, &v, NULL), FS38_OK);
        assert_int_equal(fs38_coap_block_unpack(v, &num, &more, &szx, NULL), FS38_OK);
        const fs38_coap_option *s1 = fs38_coap_opt_find(req, FS38_COAP_OPT_SIZE1, 0);
        if (s1)
            assert_int_equal(fs38_coap_opt_uint(s1, &f->size1, NULL), FS38_OK);
        if (f->too_large_once) {
            f->too_large_once = false;
            r.code = FS38_COAP_TOO_LARGE;
            assert_int_equal(fs38_coap_opt_add_uint(&r, FS38_COAP_OPT_BLOCK1, fs38_coap_block_pack(0, false, 4)),
                             FS38_OK);
            respond(f, req, &r);
            return;
        }
        size_t off = (size_t)num << (szx + 4u);
        assert_true(off + req->payload_len <= f->up_cap);
        memcpy(f->up + off, req->payload, req->payload_len);
        f->up_len = off + req->payload_len;
        unsigned s = szx < f->szx ? szx : f->szx;
        r.code = more ? FS38_COAP_CONTINUE : FS38_COAP_CHANGED;
        /* the server asks for smaller blocks: it took this one whole (RFC 7959 Figure 8) */
        assert_int_equal(fs38_coap_opt_add_uint(&r, FS38_COAP_OPT_BLOCK1, fs38_coap_block_pack(num, more, s)), FS38_OK);
    } else {
        memcpy(f->up, req->payload, req->payload_len);
        f->up_len = req->payload_len;
        r.code = FS38_COAP_CREATED;
    }
    respond(f, req, &r);
}

/* A Q-Block2 NON GET (RFC 9177 §4.4): M set: block NUM and the rest of its set of qb_max
 * (NUM 0: the first set of the body); M unset: block NUM alone. NON responses, one per block. */
static void serve_qb(fake *f, const fs38_coap_msg *req)
{
    uint32_t v = 0, num = 0;
    bool more = false;
    unsigned szx = 6;
    const fs38_coap_option *qb = fs38_coap_opt_find(req, FS38_COAP_OPT_QBLOCK2, 0);
    assert_non_null(qb);
    assert_int_equal(fs38_coap_opt_uint(qb, &v, NULL), FS38_OK);
    assert_int_equal(fs38_coap_block_unpack(v, &num, &more, &szx, NULL), FS38_OK);
    if (f->qb_requests < 64)
        f->qb_asked[f->qb_requests] = num;
    f->qb_requests++;
    fs38_coap_msg r;
    if (!f->qb && f->qb_rst) {
        assert_int_equal(fs38_coap_msg_init(&r, FS38_COAP_RST, FS38_COAP_EMPTY, req->mid, NULL, 0), FS38_OK);
        push_msg(f, &r);
        return;
    }
    if (!f->qb || f->force_code) {
        assert_int_equal(fs38_coap_msg_init(&r, FS38_COAP_NON, f->force_code ? f->force_code : FS38_COAP_BAD_OPTION,
                                            f->server_mid++, req->token, req->token_len),
                         FS38_OK);
        push_msg(f, &r);
        return;
    }
    unsigned s = szx < f->szx ? szx : f->szx;
    size_t size = 16u << s;
    uint32_t last = (uint32_t)((f->res_len + size - 1) / size) - 1u;
    uint32_t end = more ? (num / f->qb_max + 1u) * f->qb_max - 1u : num;
    if (end > last)
        end = last;
    for (uint32_t b = num; b <= end; b++) {
        if (f->qb_drop >= 0 && (uint32_t)f->qb_drop == b) {
            f->qb_drop = -1;
            continue;
        }
        size_t off = (size_t)b * size, n = f->res_len - off < size ? f->res_len - off : size;
        bool m = off + size < f->res_len;
        assert_int_equal(fs38_coap_msg_init(&r, FS38_COAP_NON, FS38_COAP_CONTENT, f->server_mid++, req->token,
                                            req->token_len),
                         FS38_OK);
        uint8_t etag[4] = { 0xe7, 0xa6, 0, f->etag_change_at >= 0 && (int)b >= f->etag_change_at ? 1 : 0 };
        assert_int_equal(fs38_coap_opt_add(&r, FS38_COAP_OPT_ETAG, etag, 4), FS38_OK);
        assert_int_equal(fs38_coap_opt_add_uint(&r, f->qb_block2 ? FS38_COAP_OPT_BLOCK2 : FS38_COAP_OPT_QBLOCK2,
                                                fs38_coap_block_pack(b, m, s)),
                         FS38_OK);
        assert_int_equal(fs38_coap_opt_add_uint(&r, FS38_COAP_OPT_SIZE2, (uint32_t)f->res_len), FS38_OK);
        r.payload = f->res + off;
        r.payload_len = n;
        push_msg(f, &r);
        if (f->qb_block2)
            return;
    }
}

static fs38_err f_send(void *ctx, const uint8_t *buf, size_t len)
{
    fake *f = ctx;
    fs38_coap_msg m;
    assert_int_equal(fs38_coap_decode(buf, len, &m, NULL), FS38_OK);
    f->sends++;
    if (m.code == FS38_COAP_EMPTY) {
        if (m.type == FS38_COAP_ACK) {
            if (f->acks < 64)
                f->acked_mids[f->acks] = m.mid;
            f->acks++;
        } else {
            assert_int_equal(m.type, FS38_COAP_RST);
            f->rsts++;
        }
        return FS38_OK;
    }
    assert_int_equal(m.token_len, 8);
    if (m.type == FS38_COAP_NON) { /* only Q-Block2 requests are NON */
        f->requests++;
        if (f->never)
            return FS38_OK;
        serve_qb(f, &m);
        return FS38_OK;
    }
    assert_int_equal(m.type, FS38_COAP_CON);
    if (f->requests < 64)
        f->req_times[f->requests] = f->clock;
    int idx = (int)f->requests++;
    if (getenv("FS38_TEST_TRACE")) {
        const fs38_coap_option *tb = fs38_coap_opt_find(&m, FS38_COAP_OPT_BLOCK2, 0);
        uint32_t tv = 0;
        if (tb)
            assert_int_equal(fs38_coap_opt_uint(tb, &tv, NULL), FS38_OK);
        fprintf(stderr, "req %d mid %04x block %u t=%llu\n", idx, m.mid, tv >> 4, (unsigned long long)f->clock);
    }
    if (idx == f->drop_req || (f->drop_from >= 0 && idx >= f->drop_from))
        return FS38_OK;
    if (f->never || f->drop) {
        if (f->drop)
            f->drop--;
        return FS38_OK;
    }
    if (f->garbage) {
        push(f, (const uint8_t *)"\x60\x45\x00", 3);
        return FS38_OK;
    }
    serve(f, &m);
    return FS38_OK;
}

static fs38_err f_recv(void *ctx, uint8_t *buf, size_t cap, size_t *len, uint32_t timeout_ms)
{
    fake *f = ctx;
    if (f->oversize) {
        f->clock += 1;
        return FS38_ERR_BUFFER;
    }
    if (f->qn == 0) {
        f->clock += timeout_ms;
        return FS38_ERR_TIMEOUT;
    }
    unsigned i = f->qh;
    f->qh = (f->qh + 1) % QMAX;
    f->qn--;
    assert_true(f->qlen[i] <= cap);
    memcpy(buf, f->q[i], f->qlen[i]);
    *len = f->qlen[i];
    return FS38_OK;
}

static uint64_t f_clock(void *ctx)
{
    return ((fake *)ctx)->clock;
}

static uint32_t g_rng = 1;
static fs38_err f_entropy(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++) {
        g_rng = g_rng * 1103515245u + 12345u;
        buf[i] = (uint8_t)(g_rng >> 16);
    }
    return FS38_OK;
}

typedef struct {
    fake f;
    fs38_transport t;
    fs38_port port;
    fs38_coap_client c;
    fs38_coap_uri uri;
    uint8_t got[300000];
    size_t got_len;
    unsigned calls;
    uint32_t first_offset;
    size_t max_len;        /* longest run the sink accepts (1024: one block; more with set_buf) */
    unsigned qb_at[128];   /* Q-Block2 requests the server had seen at each sink call */
    int fail_call;         /* the sink refuses this call (FS38_ERR_IO), -1: none */
} rig;

static rig *rig_new(size_t res_len, uint16_t block)
{
    rig *r = calloc(1, sizeof *r);
    assert_non_null(r);
    static uint8_t res[300000], up[300000];
    for (size_t i = 0; i < sizeof res; i++)
        res[i] = (uint8_t)(i * 7u + i / 251u);
    r->f.res = res;
    r->f.res_len = res_len;
    r->f.up = up;
    r->f.up_cap = sizeof up;
    r->f.szx = 6;
    r->f.etag_change_at = -1;
    r->f.short_block_at = -1;
    r->f.drop_req = -1;
    r->f.drop_from = -1;
    r->f.qb_drop = -1;
    r->f.qb_max = 10;
    r->f.server_mid = 0x5000;
    r->f.clock = 1000;
    r->t = (fs38_transport){ .ctx = &r->f, .datagram = true, .send = f_send, .recv = f_recv };
    r->port.ctx = &r->f;
    r->port.entropy = f_entropy;
    r->port.monotonic_ms = f_clock;
    fs38_coap_config cfg = { .transport = &r->t, .port = &r->port, .block_size = block };
    assert_int_equal(fs38_coap_client_init(&r->c, &cfg), FS38_OK);
    assert_int_equal(fs38_coap_uri_parse("coaps://127.0.0.1/fw/image", &r->uri, NULL), FS38_OK);
    r->max_len = 1024;
    r->fail_call = -1;
    return r;
}

static fs38_err collect(void *user, uint32_t offset, const uint8_t *data, size_t len)
{
    rig *r = user;
    if (r->calls < sizeof r->qb_at / sizeof r->qb_at[0])
        r->qb_at[r->calls] = r->f.qb_requests;
    if (r->fail_call >= 0 && r->calls == (unsigned)r->fail_call) {
        r->calls++;
        return FS38_ERR_IO;
    }
    if (r->calls++ == 0)
        r->first_offset = offset;
    else
        assert_int_equal(offset, r->first_offset + r->got_len);
    assert_true(len >= 1 && len <= r->max_len);
    assert_true(r->got_len + len <= sizeof r->got);
    memcpy(r->got + r->got_len, data, len);
    r->got_len += len;
    return FS38_OK;
}

static fs38_err get(rig *r, uint32_t offset, uint32_t *total)
{
    return fs38_coap_get(&r->c, &r->uri, offset, collect, r, total);
}

/* The whole resource fetched from offset 0: FS38_OK and every byte delivered once, in order. */
static void expect_whole(rig *r)
{
    assert_int_equal(get(r, 0, NULL), FS38_OK);
    assert_int_equal(r->got_len, r->f.res_len);
    assert_memory_equal(r->got, r->f.res, r->f.res_len);
}

static void get_piggybacked(void **state)
{
    (void)state;
    rig *r = rig_new(5000, 0);
    uint32_t total = 0;
    assert_int_equal(get(r, 0, &total), FS38_OK);
    assert_int_equal(total, 5000);
    assert_int_equal(r->got_len, 5000);
    assert_memory_equal(r->got, r->f.res, 5000);
    assert_int_equal(r->f.requests, 5); /* 4 x 1024 + 904 */
    assert_int_equal(r->calls, 5);
    assert_true(r->f.saw_size2);
    assert_int_equal(ts_ev.n, 0);
    /* a resource that is an exact multiple of the block size, and an empty one */
    rig *e = rig_new(2048, 0);
    assert_int_equal(get(e, 0, &total), FS38_OK);
    assert_int_equal(total, 2048);
    assert_memory_equal(e->got, e->f.res, 2048);
    free(e);
    free(r);
}

static void get_separate_with_duplicates(void **state)
{
    (void)state;
    rig *r = rig_new(3000, 0);
    r->f.separate = true;
    r->f.dup_separate = true;
    expect_whole(r);
    assert_int_equal(r->f.requests, 3);
    /* every separate CON response ACKed; the duplicates of the first two (seen in the next
     * exchange) ACKed again, never RST */
    assert_int_equal(r->f.rsts, 0);
    assert_int_equal(r->f.acks, 5);
    assert_int_equal(r->f.acked_mids[0], 0x5000);
    assert_int_equal(r->f.acked_mids[1], 0x5000);
    assert_int_equal(r->f.acked_mids[2], 0x5001);
    free(r);
}

static void get_unexpected_con_gets_rst(void **state)
{
    (void)state;
    rig *r = rig_new(1500, 0);
    r->f.inject_con = true;
    r->f.stale_ack = true;
    expect_whole(r);
    assert_int_equal(r->f.rsts, 2); /* one foreign CON per exchange */
    assert_int_equal(ts_ev.n, 0);
    free(r);
}

static void get_follows_smaller_blocks_and_resumes(void **state)
{
    (void)state;
    rig *r = rig_new(10000, 0);
    r->f.szx = 4; /* 256 */
    expect_whole(r);
    assert_int_equal(r->f.requests, 40);
    free(r);
    /* resume at 3000: starts with block 2 (2048), delivers from 3000 on */
    r = rig_new(10000, 0);
    uint32_t total = 0;
    assert_int_equal(get(r, 3000, &total), FS38_OK);
    assert_int_equal(total, 10000);
    assert_int_equal(r->first_offset, 3000);
    assert_int_equal(r->got_len, 7000);
    assert_memory_equal(r->got, r->f.res + 3000, 7000);
    assert_int_equal(r->f.requests, 8); /* blocks 2..9 */
    free(r);
    /* resume at 1000 with a server that answers with 256-byte blocks: bytes before 1000 skipped */
    r = rig_new(4000, 0);
    r->f.szx = 4;
    assert_int_equal(get(r, 1000, &total), FS38_OK);
    assert_int_equal(r->first_offset, 1000);
    assert_int_equal(r->got_len, 3000);
    assert_memory_equal(r->got, r->f.res + 1000, 3000);
    free(r);
    /* a resume point beyond the resource */
    r = rig_new(1000, 0);
    assert_int_equal(get(r, 1500, &total), FS38_ERR_PROTOCOL);
    assert_non_null(strstr(r->c.diag.msg, "beyond"));
    assert_int_equal(r->got_len, 0);
    free(r);
}

/* Refusals: error, diag, one event, and nothing delivered past the refused message. */
static void expect_refused(rig *r, fs38_err want, const char *why, size_t delivered)
{
    unsigned before = ts_ev.n;
    fs38_err err = get(r, 0, NULL);
    if (err != want || !strstr(r->c.diag.msg, why))
        fail_msg("err %d diag \"%s\", want %d \"%s\"", err, r->c.diag.msg, want, why);
    assert_int_equal(ts_ev.n, before + 1);
    assert_string_equal(ts_ev.detail, r->c.diag.msg);
    assert_int_equal(r->got_len, delivered);
    assert_memory_equal(r->got, r->f.res, delivered);
}

static void get_refusals(void **state)
{
    (void)state;
    rig *r = rig_new(5000, 0);
    r->f.force_code = FS38_COAP_NOT_FOUND;
    expect_refused(r, FS38_ERR_PEER, "server answered 4.04 Not Found", 0);
    free(r);
    r = rig_new(5000, 0);
    r->f.force_code = FS38_COAP_CODE(5, 3);
    expect_refused(r, FS38_ERR_PEER, "server answered 5.03 Service Unavailable", 0);
    free(r);
    r = rig_new(5000, 0);
    r->f.wrong_token = true;
    expect_refused(r, FS38_ERR_PROTOCOL, "another token", 0);
    free(r);
    r = rig_new(5000, 0);
    r->f.etag_change_at = 2;
    expect_refused(r, FS38_ERR_PROTOCOL, "ETag changed at byte 2048", 2048);
    free(r);
    r = rig_new(5000, 0);
    r->f.short_block_at = 1;
    expect_refused(r, FS38_ERR_PROTOCOL, "block 1 of 1023 bytes", 1024);
    free(r);
    r = rig_new(5000, 0);
    r->f.critical_opt = true;
    expect_refused(r, FS38_ERR_PROTOCOL, "unrecognised critical option 9", 0);
    free(r);
    r = rig_new(5000, 0);
    r->f.garbage = true;
    expect_refused(r, FS38_ERR_PROTOCOL, "shorter than its header", 0);
    free(r);
    r = rig_new(5000, 0);
    r->f.oversize = true;
    expect_refused(r, FS38_ERR_PROTOCOL, "larger than 1280 bytes", 0);
    free(r);
    r = rig_new(5000, 0);
    r->f.no_size2_match = true;
    expect_refused(r, FS38_ERR_PROTOCOL, "Size2 said 5001", 5000 - 904);
    free(r);
    /* the server answers with a block larger than the client asked for: refused */
    r = rig_new(5000, 256);
    r->f.grow = true;
    expect_refused(r, FS38_ERR_PROTOCOL, "server block size 512 larger than the 256 asked for", 0);
    free(r);
}

/* RFC 7252 §4.8: timeout T in [ACK_TIMEOUT, ACK_TIMEOUT x 1.5], doubled for each of the
 * MAX_RETRANSMIT retransmissions, then FS38_ERR_TIMEOUT. */
static void retransmission(void **state)
{
    (void)state;
    rig *r = rig_new(100, 0);
    r->f.never = true;
    uint64_t t0 = r->f.clock;
    assert_int_equal(get(r, 0, NULL), FS38_ERR_TIMEOUT);
    assert_non_null(strstr(r->c.diag.msg, "no answer after 4 retransmissions"));
    assert_int_equal(r->f.requests, 5);
    uint64_t t = r->f.req_times[1] - r->f.req_times[0];
    assert_true(t >= 2000 && t <= 3000);
    for (unsigned i = 1; i < 4; i++)
        assert_int_equal(r->f.req_times[i + 1] - r->f.req_times[i], t << i);
    assert_int_equal(r->f.clock - t0, 31 * t); /* the last wait is 16 T */
    assert_int_equal(ts_ev.n, 0);           /* a timeout is not a refusal */
    free(r);
    /* two lost requests: the third transmission is answered */
    r = rig_new(100, 0);
    r->f.drop = 2;
    assert_int_equal(get(r, 0, NULL), FS38_OK);
    assert_int_equal(r->f.requests, 3);
    assert_memory_equal(r->got, r->f.res, 100);
    free(r);
    /* configured timings (the interop test uses these): 100 ms, factor 1.0, 2 retransmits */
    r = rig_new(100, 0);
    fs38_coap_config cfg = { .transport = &r->t, .port = &r->port, .ack_timeout_ms = 100, .ack_random_factor_pct = 100,
                             .max_retransmit = 2 };
    assert_int_equal(fs38_coap_client_init(&r->c, &cfg), FS38_OK);
    r->f.never = true;
    t0 = r->f.clock;
    assert_int_equal(get(r, 0, NULL), FS38_ERR_TIMEOUT);
    assert_int_equal(r->f.requests, 3);
    assert_int_equal(r->f.clock - t0, 700);
    free(r);
    /* a separate response that never comes after its empty ACK: no retransmission (the request
     * was acknowledged), FS38_ERR_TIMEOUT after response_timeout_ms */
    r = rig_new(100, 0);
    r->f.ack_only = true;
    t0 = r->f.clock;
    assert_int_equal(get(r, 0, NULL), FS38_ERR_TIMEOUT);
    assert_non_null(strstr(r->c.diag.msg, "no separate response within 30000 ms"));
    assert_int_equal(r->f.requests, 1);
    assert_int_equal(r->f.clock - t0, 30000);
    free(r);
}

static void upload_blockwise(void **state)
{
    (void)state;
    static uint8_t body[100 * 1024];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 13u + 5u);
    rig *r = rig_new(0, 0);
    uint8_t code = 0;
    assert_int_equal(fs38_coap_upload(&r->c, &r->uri, FS38_COAP_POST, 60, body, sizeof body, &code), FS38_OK);
    assert_int_equal(code, FS38_COAP_CHANGED);
    assert_true(r->f.saw_block1);
    assert_int_equal(r->f.size1, sizeof body);
    assert_int_equal(r->f.up_len, sizeof body);
    assert_memory_equal(r->f.up, body, sizeof body);
    assert_int_equal(r->f.requests, 100);
    free(r);
    /* the server prefers 256-byte blocks (2.31 with a smaller SZX) and the responses are separate */
    r = rig_new(0, 0);
    r->f.szx = 4;
    r->f.separate = true;
    assert_int_equal(fs38_coap_upload(&r->c, &r->uri, FS38_COAP_PUT, FS38_COAP_FORMAT_NONE, body, 5000, &code), FS38_OK);
    assert_int_equal(r->f.up_len, 5000);
    assert_memory_equal(r->f.up, body, 5000);
    assert_int_equal(r->f.requests, 1 + (5000 - 1024 + 255) / 256);
    free(r);
    /* 4.13 with Block1 SZX 4: restart from the first block with 256-byte blocks */
    r = rig_new(0, 0);
    r->f.too_large_once = true;
    assert_int_equal(fs38_coap_upload(&r->c, &r->uri, FS38_COAP_POST, 0, body, 3000, &code), FS38_OK);
    assert_int_equal(r->f.up_len, 3000);
    assert_memory_equal(r->f.up, body, 3000);
    assert_int_equal(r->f.requests, 1 + 12);
    free(r);
    /* a body that fits one block: one request, no Block1 */
    r = rig_new(0, 0);
    assert_int_equal(fs38_coap_upload(&r->c, &r->uri, FS38_COAP_POST, 0, body, 1024, &code), FS38_OK);
    assert_int_equal(code, FS38_COAP_CREATED);
    assert_false(r->f.saw_block1);
    assert_int_equal(r->f.requests, 1);
    assert_memory_equal(r->f.up, body, 1024);
    free(r);
    /* refusals */
    r = rig_new(0, 0);
    r->f.force_code = FS38_COAP_CODE(4, 3);
    assert_int_equal(fs38_coap_upload(&r->c, &r->uri, FS38_COAP_POST, 0, body, 3000, &code), FS38_ERR_PEER);
    assert_string_equal(r->c.diag.msg, "server answered 4.03 Forbidden");
    assert_int_equal(ts_ev.n, 1);
    assert_int_equal(r->f.requests, 1);
    free(r);
    r = rig_new(0, 0);
    r->f.force_code = FS38_COAP_CONTENT; /* 2.05 to a POST block, no Block1 echo */
    assert_int_equal(fs38_coap_upload(&r->c, &r->uri, FS38_COAP_POST, 0, body, 3000, &code), FS38_ERR_PROTOCOL);
    assert_int_equal(ts_ev.n, 2);
    free(r);
    r = rig_new(0, 0);
    assert_int_equal(fs38_coap_upload(&r->c, &r->uri, FS38_COAP_GET, 0, body, 3000, &code), FS38_ERR_ARG);
    assert_int_equal(fs38_coap_upload(&r->c, &r->uri, FS38_COAP_PUT, 70000, body, 3000, &code), FS38_ERR_ARG);
    free(r);
}

/* A client with nstart requests in flight (the rig's transport and port). */
static void rig_nstart(rig *r, uint8_t nstart)
{
    fs38_coap_config cfg = { .transport = &r->t, .port = &r->port, .nstart = nstart };
    assert_int_equal(fs38_coap_client_init(&r->c, &cfg), FS38_OK);
}

/* NSTART 8: the first block lock-step (it gives the block size and Size2), then up to 8 GETs in
 * flight; every block once, in order, byte-exact; no refusal. */
static void get_pipelined(void **state)
{
    (void)state;
    rig *r = rig_new(100 * 1024 + 100, 0);
    rig_nstart(r, 8);
    uint32_t total = 0;
    assert_int_equal(get(r, 0, &total), FS38_OK);
    assert_int_equal(total, 100 * 1024 + 100);
    assert_int_equal(r->got_len, 100 * 1024 + 100);
    assert_memory_equal(r->got, r->f.res, r->got_len);
    assert_int_equal(r->f.requests, 101); /* no block asked twice, none past the end */
    assert_int_equal(r->calls, 101);
    assert_int_equal(r->f.max_qn, 8); /* 8 answers waiting: 8 requests were in flight */
    assert_int_equal(ts_ev.n, 0);
    free(r);
    /* lock-step (the default) never has more than one answer waiting */
    r = rig_new(100 * 1024, 0);
    expect_whole(r);
    assert_int_equal(r->f.max_qn, 1);
    free(r);
    /* without Size2 the client cannot know where the resource ends: lock-step */
    r = rig_new(20 * 1024, 0);
    rig_nstart(r, 8);
    r->f.omit_size2 = true;
    expect_whole(r);
    assert_int_equal(r->f.max_qn, 1);
    assert_int_equal(r->f.requests, 20);
    free(r);
    /* resume from the middle, 256-byte blocks chosen by the server, separate responses */
    r = rig_new(50000, 0);
    rig_nstart(r, 4);
    r->f.szx = 4;
    r->f.separate = true;
    assert_int_equal(get(r, 12345, &total), FS38_OK);
    assert_int_equal(total, 50000);
    assert_int_equal(r->first_offset, 12345);
    assert_int_equal(r->got_len, 50000 - 12345);
    assert_memory_equal(r->got, r->f.res + 12345, r->got_len);
    assert_int_equal(r->f.requests, (50000 - 12288 + 255) / 256); /* blocks 48..195 of 256 B */
    assert_int_equal(r->f.acks, r->f.requests); /* every separate CON response ACKed */
    assert_int_equal(r->f.rsts, 0);
    assert_true(r->f.max_qn >= 7);
    assert_int_equal(ts_ev.n, 0);
    free(r);
}

/* A lost request in the pipeline: the 8 answers after it arrive ahead of it and are dropped;
 * its own timer retransmits it (RFC 7252 §4.8), then the dropped blocks are asked for again. */
static void get_pipelined_loss(void **state)
{
    (void)state;
    rig *r = rig_new(100 * 1024, 0);
    rig_nstart(r, 8);
    r->f.drop_req = 5; /* block 4 (request 0 is block 0, then blocks 1..8 in flight) */
    uint64_t t0 = r->f.clock;
    expect_whole(r);
    /* 100 blocks + 1 retransmission of block 4 + blocks 5..11 asked for again */
    assert_int_equal(r->f.requests, 100 + 1 + 7);
    assert_int_equal(r->c.rerequests, 7);
    assert_true(r->f.clock - t0 >= 2000 && r->f.clock - t0 <= 3000); /* one ACK_TIMEOUT */
    assert_int_equal(ts_ev.n, 0);
    free(r);
    /* the server goes silent after block 3: every request in flight retransmitted 4 times, then
     * FS38_ERR_TIMEOUT; the bytes before it were delivered, nothing after */
    r = rig_new(100 * 1024, 0);
    rig_nstart(r, 8);
    r->f.drop_from = 4;
    assert_int_equal(get(r, 0, NULL), FS38_ERR_TIMEOUT);
    if (!strstr(r->c.diag.msg, "no answer after 4 retransmissions (block "))
        fail_msg("diag: %s", r->c.diag.msg);
    assert_int_equal(r->got_len, 4 * 1024);
    assert_int_equal(ts_ev.n, 0);
    free(r);
}

/* Every check of the lock-step download applies in the pipeline. */
static void get_pipelined_refusals(void **state)
{
    (void)state;
    rig *r = rig_new(50000, 0);
    rig_nstart(r, 8);
    r->f.etag_change_at = 5;
    expect_refused(r, FS38_ERR_PROTOCOL, "ETag changed at byte 5120", 5120);
    free(r);
    r = rig_new(50000, 0);
    rig_nstart(r, 8);
    r->f.short_block_at = 9;
    expect_refused(r, FS38_ERR_PROTOCOL, "block 9 of 1023 bytes", 9 * 1024);
    free(r);
    r = rig_new(50000, 0);
    rig_nstart(r, 8);
    r->f.no_size2_match = true; /* Size2 one byte more than the resource: the end comes early */
    expect_refused(r, FS38_ERR_PROTOCOL, "Size2 said 50001", 50000 - 50000 % 1024);
    free(r);
    /* wrong token on the piggy-backed answers (the first is answered lock-step) */
    r = rig_new(50000, 0);
    rig_nstart(r, 8);
    r->f.wrong_token = true;
    expect_refused(r, FS38_ERR_PROTOCOL, "another token", 0);
    free(r);
    /* nstart beyond FS38_COAP_NSTART_MAX */
    r = rig_new(0, 0);
    fs38_coap_config cfg = { .transport = &r->t, .port = &r->port, .nstart = FS38_COAP_NSTART_MAX + 1 };
    assert_int_equal(fs38_coap_client_init(&r->c, &cfg), FS38_ERR_ARG);
    free(r);
}

static void client_config(void **state)
{
    (void)state;
    rig *r = rig_new(0, 0);
    fs38_coap_client c;
    fs38_coap_config cfg = { .transport = &r->t, .port = &r->port, .block_size = 1000 };
    assert_int_equal(fs38_coap_client_init(&c, &cfg), FS38_ERR_ARG);
    cfg.block_size = 2048;
    assert_int_equal(fs38_coap_client_init(&c, &cfg), FS38_ERR_ARG);
    cfg.block_size = 16;
    assert_int_equal(fs38_coap_client_init(&c, &cfg), FS38_OK);
    fs38_transport stream = r->t;
    stream.datagram = false;
    cfg.transport = &stream;
    assert_int_equal(fs38_coap_client_init(&c, &cfg), FS38_ERR_ARG);
    cfg.transport = &r->t;
    cfg.max_retransmit = 9;
    assert_int_equal(fs38_coap_client_init(&c, &cfg), FS38_ERR_ARG);
    free(r);
    /* 16-byte blocks end to end */
    r = rig_new(100, 16);
    expect_whole(r);
    assert_int_equal(r->f.requests, 7);
    free(r);
}

/* ---- RFC 9177 Q-Block2 ---- */

static void rig_qb(rig *r, uint8_t max_payloads)
{
    fs38_coap_config cfg = { .transport = &r->t, .port = &r->port, .qblock2 = true, .max_payloads = max_payloads };
    assert_int_equal(fs38_coap_client_init(&r->c, &cfg), FS38_OK);
    r->f.qb = true;
}

/* 101 blocks in 11 sets: one NON request per set (the first, then 'Continue' with NUM = 10,
 * 20, ... and M set), every block once, in order, byte-exact; sets of 10 queued at once. */
static void get_qblock2(void **state)
{
    (void)state;
    rig *r = rig_new(100 * 1024 + 100, 0);
    rig_qb(r, 0);
    uint32_t total = 0;
    uint64_t t0 = r->f.clock;
    assert_int_equal(get(r, 0, &total), FS38_OK);
    assert_int_equal(r->f.clock, t0); /* never waited: each Continue went out at once */
    assert_int_equal(total, 100 * 1024 + 100);
    assert_int_equal(r->got_len, 100 * 1024 + 100);
    assert_memory_equal(r->got, r->f.res, r->got_len);
    assert_int_equal(r->f.requests, 11);
    assert_int_equal(r->f.qb_requests, 11);
    for (unsigned i = 0; i < 11; i++)
        assert_int_equal(r->f.qb_asked[i], 10 * i);
    assert_int_equal(r->f.max_qn, 10);
    assert_int_equal(r->calls, 101);
    assert_true(fs38_coap_qblock2_used(&r->c));
    assert_false(fs38_coap_qblock2_used(NULL));
    assert_int_equal(r->c.rerequests, 0);
    assert_int_equal(ts_ev.n, 0);
    free(r);
    /* the server's MAX_PAYLOADS of 4 (cfg.max_payloads 4), 256-byte blocks asked for, a
     * start inside block 0: Continue at 4, 8, ... */
    r = rig_new(5000, 256);
    fs38_coap_config cfg = { .transport = &r->t, .port = &r->port, .qblock2 = true, .max_payloads = 4,
                             .block_size = 256 };
    assert_int_equal(fs38_coap_client_init(&r->c, &cfg), FS38_OK);
    r->f.qb = true;
    r->f.qb_max = 4;
    assert_int_equal(get(r, 100, &total), FS38_OK);
    assert_int_equal(total, 5000);
    assert_int_equal(r->first_offset, 100);
    assert_int_equal(r->got_len, 5000 - 100);
    assert_memory_equal(r->got, r->f.res + 100, r->got_len);
    assert_int_equal(r->f.qb_requests, 5); /* blocks 0..19 of 256 B: 0, 4, 8, 12, 16 */
    assert_int_equal(r->f.qb_asked[4], 16);
    assert_int_equal(r->f.clock, t0);
    assert_int_equal(ts_ev.n, 0);
    free(r);
    /* a resume from block 12 on: Block2 (libcoap 4.3.4 serves a Q-Block2 request for NUM != 0
     * block by block), from the same offset */
    r = rig_new(50000, 0);
    rig_qb(r, 0);
    assert_int_equal(get(r, 12345, &total), FS38_OK);
    assert_int_equal(total, 50000);
    assert_int_equal(r->first_offset, 12345);
    assert_memory_equal(r->got, r->f.res + 12345, r->got_len);
    assert_int_equal(r->got_len, 50000 - 12345);
    assert_int_equal(r->f.qb_requests, 0);
    assert_int_equal(r->f.requests, 48 - 12 + 1); /* blocks 12..48 */
    assert_false(fs38_coap_qblock2_used(&r->c));
    assert_int_equal(ts_ev.n, 0);
    free(r);
}

/* cfg.set_buf: the blocks of a set are held and handed to the sink together, after the
 * 'Continue' for the next set has gone out; a smaller buffer is handed on when full; losses,
 * refusals and the Block2 fallback behave as without it, and what was held and checked is
 * delivered before an error returns. */
static void rig_qb_buf(rig *r, uint8_t *buf, size_t len)
{
    fs38_coap_config cfg = { .transport = &r->t, .port = &r->port, .qblock2 = true, .set_buf = buf,
                             .set_buf_len = len };
    assert_int_equal(fs38_coap_client_init(&r->c, &cfg), FS38_OK);
    r->f.qb = true;
    r->max_len = len > 1024 ? len : 1024;
}

static void get_qblock2_set_buf(void **state)
{
    (void)state;
    static uint8_t buf[10 * 1024];
    rig *r = rig_new(100 * 1024 + 100, 0);
    rig_qb_buf(r, buf, sizeof buf);
    uint32_t total = 0;
    uint64_t t0 = r->f.clock;
    assert_int_equal(get(r, 0, &total), FS38_OK);
    assert_int_equal(total, 100 * 1024 + 100);
    assert_int_equal(r->got_len, 100 * 1024 + 100);
    assert_memory_equal(r->got, r->f.res, r->got_len);
    assert_int_equal(r->f.qb_requests, 11);
    assert_int_equal(r->f.clock, t0);
    assert_int_equal(r->calls, 11); /* 10 sets of 10 KiB, then the last 100 bytes */
    assert_true(fs38_coap_qblock2_used(&r->c));
    for (unsigned k = 0; k < 10; k++) /* set k handed on after the request for set k + 1 */
        assert_int_equal(r->qb_at[k], k + 2);
    assert_int_equal(ts_ev.n, 0);
    free(r);
    /* 3 KiB: handed on every 3 blocks and at the end of each set (3 + 3 + 3 + 1) */
    r = rig_new(100 * 1024, 0);
    rig_qb_buf(r, buf, 3 * 1024);
    expect_whole(r);
    assert_int_equal(r->calls, 40);
    assert_int_equal(r->f.qb_requests, 10);
    free(r);
    /* a lost block: asked for once with the rest of its set, as without the buffer */
    r = rig_new(100 * 1024, 0);
    rig_qb_buf(r, buf, sizeof buf);
    r->f.qb_drop = 4;
    expect_whole(r);
    assert_int_equal(r->c.rerequests, 1);
    assert_int_equal(r->f.qb_requests, 11);
    assert_int_equal(ts_ev.n, 0);
    free(r);
    /* a refusal in the middle of set 1: blocks 10..14 (checked, held) are delivered, the
     * refusal's own diagnostic and event stay */
    r = rig_new(50 * 1024, 0);
    rig_qb_buf(r, buf, sizeof buf);
    r->f.etag_change_at = 15;
    expect_refused(r, FS38_ERR_PROTOCOL, "ETag changed at byte 15360", 15 * 1024);
    free(r);
    /* the receiver refuses the second set: its error, nothing after it */
    r = rig_new(50 * 1024, 0);
    rig_qb_buf(r, buf, sizeof buf);
    r->fail_call = 1;
    assert_int_equal(get(r, 0, NULL), FS38_ERR_IO);
    if (!strstr(r->c.diag.msg, "the receiver refused the bytes at 10240..20479"))
        fail_msg("diag: %s", r->c.diag.msg);
    assert_int_equal(r->got_len, 10 * 1024);
    assert_int_equal(r->calls, 2);
    free(r);
    /* a server without Q-Block2: Block2, block by block, the buffer unused */
    unsigned before = ts_ev.n;
    r = rig_new(20 * 1024 + 5, 0);
    rig_qb_buf(r, buf, sizeof buf);
    r->f.qb = false;
    expect_whole(r);
    assert_int_equal(r->calls, 21);
    assert_int_equal(ts_ev.n, before);
    free(r);
}

/* A lost block in a burst: the blocks after it are dropped and the client asks once for it and
 * the rest of its set (no wait); a lost last block of a set is asked for after NON_TIMEOUT
 * (ACK_TIMEOUT); a silent server ends the download with FS38_ERR_TIMEOUT. */
static void get_qblock2_loss(void **state)
{
    (void)state;
    rig *r = rig_new(100 * 1024, 0);
    rig_qb(r, 0);
    r->f.qb_drop = 4;
    uint64_t t0 = r->f.clock;
    expect_whole(r);
    assert_int_equal(r->c.rerequests, 1);
    assert_int_equal(r->f.qb_requests, 10 + 1);
    assert_int_equal(r->f.qb_asked[1], 4); /* block 4 and the rest of set 0 */
    assert_int_equal(r->f.qb_asked[2], 10);
    assert_int_equal(r->f.clock, t0); /* no timeout waited */
    assert_int_equal(ts_ev.n, 0);
    free(r);
    r = rig_new(100 * 1024, 0);
    rig_qb(r, 0);
    r->f.qb_drop = 19; /* the last of set 1: nothing overtakes it */
    t0 = r->f.clock;
    expect_whole(r);
    assert_int_equal(r->f.qb_requests, 10 + 1);
    assert_int_equal(r->f.qb_asked[2], 19);
    assert_int_equal(r->f.qb_asked[3], 20);
    assert_true(r->f.clock - t0 >= 2000 && r->f.clock - t0 < 4000);
    assert_int_equal(ts_ev.n, 0);
    free(r);
    r = rig_new(100 * 1024, 0);
    rig_qb(r, 0);
    r->f.never = true;
    assert_int_equal(get(r, 0, NULL), FS38_ERR_TIMEOUT);
    if (!strstr(r->c.diag.msg, "no Q-Block2 answer after 5 requests (block 0)"))
        fail_msg("diag: %s", r->c.diag.msg);
    assert_int_equal(r->f.requests, 5);
    assert_int_equal(r->got_len, 0);
    free(r);
}

/* A server without Q-Block2 (4.02 Bad Option to the critical option 31, or an RST for the NON
 * request as libcoap 4.3.1 sends), or one that answers with Block2: the download goes on with
 * Block2 from the same offset, nothing delivered twice, no refusal. */
static void get_qblock2_fallback(void **state)
{
    (void)state;
    rig *r = rig_new(20 * 1024 + 5, 0);
    rig_qb(r, 0);
    r->f.qb = false;
    expect_whole(r);
    assert_int_equal(r->f.qb_requests, 1);
    assert_int_equal(r->f.requests, 1 + 21); /* the NON, then 21 CON Block2 GETs */
    assert_int_equal(r->calls, 21);
    assert_false(fs38_coap_qblock2_used(&r->c));
    assert_int_equal(ts_ev.n, 0);
    free(r);
    r = rig_new(20 * 1024 + 5, 0); /* RST to the NON request: the same */
    rig_qb(r, 0);
    r->f.qb = false;
    r->f.qb_rst = true;
    expect_whole(r);
    assert_int_equal(r->f.requests, 1 + 21);
    assert_int_equal(ts_ev.n, 0);
    free(r);
    r = rig_new(20 * 1024 + 5, 0);
    rig_qb(r, 0);
    r->f.qb_block2 = true;
    assert_int_equal(get(r, 300, NULL), FS38_OK);
    assert_int_equal(r->first_offset, 300);
    assert_memory_equal(r->got, r->f.res + 300, r->got_len);
    assert_int_equal(r->got_len, 20 * 1024 + 5 - 300);
    assert_int_equal(r->f.qb_requests, 1);
    assert_int_equal(ts_ev.n, 0);
    free(r);
}

/* Every check of the Block2 download applies to Q-Block2 blocks; a refusal raises the event
 * and delivers nothing further. */
static void get_qblock2_refusals(void **state)
{
    (void)state;
    rig *r = rig_new(50 * 1024, 0);
    rig_qb(r, 0);
    r->f.etag_change_at = 15;
    expect_refused(r, FS38_ERR_PROTOCOL, "ETag changed at byte 15360", 15 * 1024);
    free(r);
    r = rig_new(50 * 1024, 0);
    rig_qb(r, 0);
    r->f.force_code = FS38_COAP_NOT_FOUND;
    expect_refused(r, FS38_ERR_PEER, "server answered 4.04 Not Found", 0);
    free(r);
    /* MAX_PAYLOADS beyond FS38_COAP_MAX_PAYLOADS_MAX: refused by the configuration */
    r = rig_new(5000, 0);
    fs38_coap_config cfg = { .transport = &r->t, .port = &r->port, .max_payloads = 65 };
    assert_int_equal(fs38_coap_client_init(&r->c, &cfg), FS38_ERR_ARG);
    free(r);
}


/* a test with the event recorder around it */
#define EV_TEST(f) cmocka_unit_test_setup_teardown(f, setup, ts_events_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        EV_TEST(codec_rfc7252_example),
        EV_TEST(codec_extended_forms),
        EV_TEST(codec_roundtrip_random),
        EV_TEST(decode_refuses_malformed),
        EV_TEST(block_values),
        EV_TEST(uri_parse),
        EV_TEST(get_piggybacked),
        EV_TEST(get_separate_with_duplicates),
        EV_TEST(get_unexpected_con_gets_rst),
        EV_TEST(get_follows_smaller_blocks_and_resumes),
        EV_TEST(get_refusals),
        EV_TEST(retransmission),
        EV_TEST(upload_blockwise),
        EV_TEST(get_pipelined),
        EV_TEST(get_pipelined_loss),
        EV_TEST(get_pipelined_refusals),
        EV_TEST(client_config),
        EV_TEST(get_qblock2),
        EV_TEST(get_qblock2_loss),
        EV_TEST(get_qblock2_fallback),
        EV_TEST(get_qblock2_refusals),
        EV_TEST(get_qblock2_set_buf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
