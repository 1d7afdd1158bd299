/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/channel.c — the secure channel's handshake cost: full vs resumed handshake time and
 * bytes on the wire, against OpenSSL's s_server on 127.0.0.1 (started here, stopped by PID),
 * for TLS 1.3 ECDHE-ECDSA, DTLS 1.2 ECDHE-ECDSA with and without a Connection ID offered, and
 * DTLS 1.2 PSK; and the device RAM of one channel: sizeof(fs38_channel) + what Mbed TLS holds
 * on its heap (peak during the handshake and steady while open; calloc/free are wrapped with
 * GNU ld --wrap, so only this process's allocations are counted).
 *
 * Ratios are against the in-run baseline (the full handshake of the same configuration).
 * Certificates come from the fs38 tool (FS38_TOOL, set at build time): `ca init`, `ca issue`
 * for the device (a volatile PSA key standing in for the identity's), `ca server`.
 * Note: OpenSSL 3.0 implements no RFC 9146, so its server never agrees to a CID; the two DTLS
 * rows differ only by the client's offer (the extension's bytes).
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <mbedtls/pk.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "bench_util.h"
#include "fs38/channel.h"
#include "fs38/coap.h"
#include "fs38/util.h"
#include "fs38_posix.h"
#include "server_proc.h"

#define ROUNDS 25 /* full + resumed pairs per configuration */

/* ---- heap accounting (Mbed TLS allocates with calloc / free) ---- */

void *__real_calloc(size_t n, size_t s);
void __real_free(void *p);
void *__wrap_calloc(size_t n, size_t s);
void __wrap_free(void *p);
static size_t g_heap, g_peak;
void *__wrap_calloc(size_t n, size_t s)
{
    void *p = __real_calloc(n, s);
    if (p) {
        g_heap += malloc_usable_size(p);
        if (g_heap > g_peak)
            g_peak = g_heap;
    }
    return p;
}
void __wrap_free(void *p)
{
    if (p)
        g_heap -= malloc_usable_size(p);
    __real_free(p);
}

/* ---- a port with clocks only ---- */

static uint64_t mono(void *ctx)
{
    (void)ctx;
    return bench_now_ns() / 1000000u;
}
static fs38_err wall(void *ctx, int64_t *t)
{
    (void)ctx;
    *t = (int64_t)time(NULL);
    return FS38_OK;
}

static char g_dir[64];
static char *p_(const char *name)
{
    static char buf[8][256];
    static unsigned i;
    char *p = buf[i++ % 8];
    snprintf(p, 256, "%s/%s", g_dir, name);
    return p;
}

static void run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        bench_die(cmd, st);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        bench_die(path, 0);
    static uint8_t buf[8][8192];
    static unsigned i;
    uint8_t *b = buf[i++ % 8];
    *len = fread(b, 1, sizeof buf[0] - 1, f);
    fclose(f);
    b[*len] = 0;
    return b;
}

/* ---- servers (tests/net/server_proc.c: free port, start with a log, stop by PID) ---- */

typedef struct {
    ts_proc p;
    uint16_t port;
} srv;

/* kind 0: openssl s_server -accept 127.0.0.1:PORT ARGS; kind 1: Mbed TLS's ssl_server2
 * server_addr=127.0.0.1 server_port=PORT ARGS (the fs38_ssl_server2 build of tests/). */
static void srv_start(srv *s, int kind, bool udp, const char *const *args)
{
    static unsigned seq;
    const char *argv[40];
    char acc[48], log[128];
    size_t n = 0;
    s->port = ts_free_port(udp);
    if (!s->port)
        bench_die("free port", -1);
    if (kind == 0) {
        snprintf(acc, sizeof acc, "127.0.0.1:%u", (unsigned)s->port);
        argv[n++] = "openssl";
        argv[n++] = "s_server";
        argv[n++] = "-accept";
        argv[n++] = acc;
    } else {
#ifdef FS38_SSL_SERVER2
        snprintf(acc, sizeof acc, "server_port=%u", (unsigned)s->port);
        argv[n++] = FS38_SSL_SERVER2;
        argv[n++] = "server_addr=127.0.0.1";
        argv[n++] = acc;
#else
        bench_die("ssl_server2 not built", -1);
#endif
    }
    for (size_t i = 0; args[i] && n < 38; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    snprintf(log, sizeof log, "%s/srv%u.log", g_dir, seq++);
    if (ts_proc_start(&s->p, argv, log, kind == 0 ? "ACCEPT" : "Waiting for a remote connection", 5000) != 0)
        bench_die("server start (see its log)", -1);
}

static void srv_stop(srv *s)
{
    ts_proc_stop(&s->p);
}

/* ---- one configuration: full vs resumed ---- */

typedef struct {
    const char *name;
    fs38_channel_mode mode;
    bool psk, no_cid, rev;
    const char *const *args;
    int server;   /* 0 s_server, 1 ssl_server2 */
    bool want_cid; /* the server agrees to a Connection ID: checked */
    bool psk_only; /* tls13_psk_only: psk_ke resumption (no ECDHE) */
    bool psk13;    /* psk_tls13: TLS 1.3 external PSK */
} bcase;

static fs38_net g_net;
static fs38_port g_port;
static char g_ca[4096];
static size_t g_ca_len;
static uint8_t g_cert[2048];
static size_t g_cert_len;
static psa_key_id_t g_key, g_psk, g_psk13;

static double median_of(double *v, size_t n)
{
    return bench_median(v, n);
}

static void bench_case(const bcase *bc)
{
    srv s;
    srv_start(&s, bc->server, bc->mode == FS38_CHANNEL_DTLS, bc->args);
    fs38_channel_config c = { .mode = bc->mode, .host = "127.0.0.1", .port = s.port, .net = &g_net,
                              .platform = &g_port, .handshake_timeout_ms = 10000, .dtls_no_cid = bc->no_cid,
                              .dtls_retransmit_min_ms = 500 };
    if (bc->psk) {
        c.psk = g_psk;
        c.psk_identity = (const uint8_t *)"fs38-dev";
        c.psk_identity_len = 8;
    } else {
        c.ca = (const uint8_t *)g_ca;
        c.ca_len = g_ca_len;
        c.cert = g_cert;
        c.cert_len = g_cert_len;
        c.key = g_key;
        c.require_client_auth = true;
    }
    c.tls13_psk_only = bc->psk_only;
    if (bc->psk13) {
        c.psk = g_psk13;
        c.psk_tls13 = true;
    }
    static fs38_channel ch;
    static fs38_channel_session sess;
    /* one full handshake, then ROUNDS pairs (resumed, full) alternating, so that the machine's
     * load hits both alike; the ratio is the median of the per-pair ratios (and the ratio of
     * the medians is printed too) */
    double t_full[ROUNDS], t_res[ROUNDS], ratio[ROUNDS], c_full[ROUNDS], c_res[ROUNDS];
    uint64_t b_full = 0, b_res = 0;
    size_t peak = 0, steady = 0;
    for (int r = 0; r < 2 * ROUNDS + 1; r++) {
        bool resume = (r & 1) == 1;
        c.session = resume && !bc->psk13 ? &sess : NULL;
        if (bc->psk13) /* external PSK: psk_dhe_ke ("full") against psk_ke ("again") */
            c.tls13_psk_only = resume;
        if (bc->server == 1) /* ssl_server2 serves one connection at a time: let it get back to accept */
            usleep(150000);
        size_t h0 = g_heap;
        g_peak = g_heap;
        double c0 = bench_cpu_ms(), t0 = bench_now_ms();
        fs38_err e = fs38_channel_open(&ch, &c);
        double t1 = bench_now_ms(), c1 = bench_cpu_ms();
        if (e != FS38_OK) {
            fprintf(stderr, "%s: %s\n", bc->name, ch.diag.msg);
            bench_die("fs38_channel_open", e);
        }
        bool want_resumed = resume && !bc->psk13;
        if (want_resumed != fs38_channel_resumed(&ch))
            bench_die(want_resumed ? "resumption (not resumed)" : "full handshake (resumed)", r);
        if (bc->want_cid != fs38_channel_cid(&ch))
            bench_die(bc->want_cid ? "no Connection ID" : "unexpected Connection ID", r);
        uint64_t tx, rx;
        fs38_channel_wire_bytes(&ch, &tx, &rx);
        if (!resume) {
            if (r > 0) { /* the full handshake after resumed pair r / 2 - 1 */
                t_full[r / 2 - 1] = t1 - t0;
                c_full[r / 2 - 1] = c1 - c0;
            }
            b_full = tx + rx;
            peak = g_peak - h0;
            steady = g_heap - h0;
        } else {
            t_res[r / 2] = t1 - t0;
            c_res[r / 2] = c1 - c0;
            b_res = tx + rx;
        }
        if (bc->rev) { /* TLS 1.3: the ticket comes with the server's first records */
            fs38_transport t;
            BENCH_MUST(fs38_channel_transport(&ch, &t));
            BENCH_MUST(t.send(t.ctx, (const uint8_t *)"ping\n", 5));
            uint8_t buf[16];
            size_t n, have = 0;
            while (have < 5) {
                BENCH_MUST(t.recv(t.ctx, buf + have, sizeof buf - have, &n, 3000));
                have += n;
            }
        }
        if (!bc->psk13 && !resume)
            BENCH_MUST(fs38_channel_save_session(&ch, &sess));
        fs38_channel_close(&ch);
    }
    if (bc->mode == FS38_CHANNEL_TLS && !bc->psk && !bc->psk_only) {
        /* what every open costs before the first byte, resumed or not: the fleet CA (PEM) and
         * the device certificate parsed, the saved session loaded (it keeps the server
         * certificate: MBEDTLS_SSL_KEEP_PEER_CERTIFICATE), 200 times each, median */
        enum { SN = 200 };
        double t_ca[SN], t_own[SN], t_sess[SN];
        for (int i = 0; i < SN; i++) {
            mbedtls_x509_crt x;
            mbedtls_ssl_session ss;
            mbedtls_x509_crt_init(&x);
            double a = bench_now_ms();
            BENCH_MUST(mbedtls_x509_crt_parse(&x, (const unsigned char *)g_ca, g_ca_len));
            double b = bench_now_ms();
            mbedtls_x509_crt_free(&x);
            mbedtls_x509_crt_init(&x);
            double b2 = bench_now_ms();
            BENCH_MUST(mbedtls_x509_crt_parse_der(&x, g_cert, g_cert_len));
            double c2 = bench_now_ms();
            mbedtls_x509_crt_free(&x);
            mbedtls_ssl_session_init(&ss);
            double d0 = bench_now_ms();
            BENCH_MUST(mbedtls_ssl_session_load(&ss, sess.data, sess.len));
            double d1 = bench_now_ms();
            mbedtls_ssl_session_free(&ss);
            t_ca[i] = b - a;
            t_own[i] = c2 - b2;
            t_sess[i] = d1 - d0;
        }
        printf("  per open, resumed or not: fleet CA PEM parse %.3f ms, device certificate parse %.3f ms, session "
               "load (%u B, with the server certificate) %.3f ms\n",
               bench_median(t_ca, SN), bench_median(t_own, SN), (unsigned)sess.len, bench_median(t_sess, SN));
    }
    for (int i = 0; i < ROUNDS; i++)
        ratio[i] = t_res[i] / t_full[i];
    double mf = median_of(t_full, ROUNDS), mr = median_of(t_res, ROUNDS), mq = median_of(ratio, ROUNDS);
    printf("%-34s full %7.2f ms %5llu B | %s %6.2f ms %5llu B | time x%.2f (median of %d pairs; x%.2f of medians) "
           "bytes x%.2f | heap peak %6zu open %6zu\n",
           bc->name, mf, (unsigned long long)b_full, bc->psk13 ? "again  " : "resumed", mr, (unsigned long long)b_res, mq,
           ROUNDS, mr / mf, (double)b_res / (double)b_full, peak, steady);
    printf("  device CPU: full %.2f ms, %s %.2f ms (x%.2f); the rest of the wall time is the server and the wire\n",
           median_of(c_full, ROUNDS), bc->psk13 ? "again" : "resumed", median_of(c_res, ROUNDS),
           median_of(c_res, ROUNDS) / median_of(c_full, ROUNDS));
    fs38_wipe(&sess, sizeof sess);
    srv_stop(&s);
}

/* ---- CoAP/DTLS download of 1 MiB vs the raw AEAD + hash of the same bytes ---- */

#define DL_SIZE (1024u * 1024u)
#define DL_BLOCK 1024u
#define DL_ROUNDS 7

static fs38_err entropy(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return psa_generate_random(buf, len) == PSA_SUCCESS ? FS38_OK : FS38_ERR_CRYPTO;
}

typedef struct {
    psa_hash_operation_t h;
    uint32_t got;
} dl_sink_ctx;

/* What the update agent does with each block: hash it (here: nothing else). */
static fs38_err dl_sink(void *user, uint32_t offset, const uint8_t *data, size_t len)
{
    dl_sink_ctx *d = user;
    if (offset != d->got || psa_hash_update(&d->h, data, len) != PSA_SUCCESS)
        return FS38_ERR_CRYPTO;
    d->got += (uint32_t)len;
    return FS38_OK;
}

static bool udp_port_free(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* PSA AEAD of the negotiated suite (the record protection the channel did). */
static psa_algorithm_t suite_aead(const char *suite)
{
    if (strstr(suite, "CCM-8"))
        return PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_CCM, 8);
    if (strstr(suite, "GCM"))
        return PSA_ALG_GCM;
    if (strstr(suite, "CHACHA20"))
        return PSA_ALG_CHACHA20_POLY1305;
    bench_die("unknown suite", 0);
}

/* CPU time (user + system) of this process, ms. */
static double self_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Baseline: AEAD decryption of the payload in blocks of the download's size (one record per
 * block, a fresh nonce each, as the channel does) plus SHA-256 of the whole payload. */
static double raw_aead_hash_ms(psa_algorithm_t alg, const uint8_t *data, size_t len, int rounds, double *cpu_ms)
{
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, alg == PSA_ALG_CHACHA20_POLY1305 ? PSA_KEY_TYPE_CHACHA20 : PSA_KEY_TYPE_AES);
    psa_set_key_bits(&at, alg == PSA_ALG_CHACHA20_POLY1305 ? 256 : 128);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT);
    psa_set_key_algorithm(&at, alg);
    psa_key_id_t k;
    BENCH_MUST(psa_generate_key(&at, &k));
    size_t nblk = (len + DL_BLOCK - 1) / DL_BLOCK, ctlen = DL_BLOCK + 16;
    uint8_t *ct = malloc(nblk * ctlen), *pt = malloc(DL_BLOCK);
    size_t *clen = malloc(nblk * sizeof *clen);
    if (!ct || !pt || !clen)
        bench_die("malloc", 0);
    uint8_t nonce[12] = { 0 }, ad[13] = { 23, 0xfe, 0xfd };
    const size_t nlen = 12; /* GCM, ChaCha20-Poly1305, and CCM-8 with an 8-byte explicit part */
    for (size_t b = 0; b < nblk; b++) {
        size_t l = len - b * DL_BLOCK < DL_BLOCK ? len - b * DL_BLOCK : DL_BLOCK;
        memcpy(nonce + 4, &b, sizeof b);
        BENCH_MUST(psa_aead_encrypt(k, alg, nonce, nlen, ad, sizeof ad, data + b * DL_BLOCK, l, ct + b * ctlen, ctlen,
                                    &clen[b]));
    }
    double t[DL_ROUNDS], tc[DL_ROUNDS];
    uint8_t digest[32];
    for (int r = 0; r < rounds; r++) {
        double c0 = self_cpu_ms();
        double t0 = bench_now_ms();
        psa_hash_operation_t h = PSA_HASH_OPERATION_INIT;
        BENCH_MUST(psa_hash_setup(&h, PSA_ALG_SHA_256));
        for (size_t b = 0; b < nblk; b++) {
            size_t ol;
            memcpy(nonce + 4, &b, sizeof b);
            BENCH_MUST(psa_aead_decrypt(k, alg, nonce, nlen, ad, sizeof ad, ct + b * ctlen, clen[b], pt, DL_BLOCK, &ol));
            BENCH_MUST(psa_hash_update(&h, pt, ol));
        }
        size_t dl;
        BENCH_MUST(psa_hash_finish(&h, digest, sizeof digest, &dl));
        t[r] = bench_now_ms() - t0;
        tc[r] = self_cpu_ms() - c0;
    }
    *cpu_ms = bench_median(tc, (size_t)rounds);
    BENCH_MUST(psa_destroy_key(k));
    free(ct);
    free(pt);
    free(clen);
    return bench_median(t, (size_t)rounds);
}


/* CPU time (user + system) of process pid from /proc (clock ticks), ms; 0 when unreadable. */
static double proc_cpu_ms(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

static void coap_download(void)
{
    /* 1 MiB of random bytes, PUT into libcoap's coap-server-openssl (dynamic resources, -d) over
     * its plaintext listener on P; the device GETs it block-wise over DTLS on P+1 (PKI, client
     * certificate required, as tests/cli/net_device.sh). */
    static uint8_t payload[DL_SIZE];
    BENCH_MUST(psa_generate_random(payload, sizeof payload));
    FILE *f = fopen(p_("big.bin"), "wb");
    if (!f || fwrite(payload, 1, sizeof payload, f) != sizeof payload)
        bench_die("big.bin", 0);
    fclose(f);
    uint16_t P = 0;
    for (int i = 0; i < 50 && !P; i++) {
        uint16_t p = ts_free_port(true);
        if (p && p < 65535 && udp_port_free((uint16_t)(p + 1)))
            P = p;
    }
    if (!P)
        bench_die("free UDP port pair", 0);
    char port_s[8], log[128];
    snprintf(port_s, sizeof port_s, "%u", (unsigned)P);
    snprintf(log, sizeof log, "%s/coap-server.log", g_dir);
    const char *argv[] = { "coap-server-openssl", "-A", "127.0.0.1", "-p", port_s, "-d", "10", "-c", p_("srv.crt"),
                           "-j", p_("srv.key"), "-R", p_("ca/ca.crt"), NULL };
    ts_proc srvp;
    if (ts_proc_start(&srvp, argv, log, "", 0) != 0)
        bench_die("coap-server-openssl (scripts/deps installs libcoap3-bin)", 0);
    bool up = false;
    for (int i = 0; i < 50 && !up; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "timeout 2 coap-client-openssl -B 1 -m get coap://127.0.0.1:%u/ >/dev/null 2>&1",
                 (unsigned)P);
        up = system(cmd) == 0;
        if (!up)
            usleep(100000);
    }
    if (!up)
        bench_die("coap-server-openssl did not answer", 0);
    run("timeout 60 coap-client-openssl -m put -b 1024 -f %s coap://127.0.0.1:%u/big >/dev/null 2>&1", p_("big.bin"),
        (unsigned)P);

    fs38_channel_config c = { .mode = FS38_CHANNEL_DTLS, .host = "127.0.0.1", .port = (uint16_t)(P + 1),
                              .net = &g_net, .platform = &g_port, .handshake_timeout_ms = 10000,
                              .dtls_retransmit_min_ms = 500, .ca = (const uint8_t *)g_ca, .ca_len = g_ca_len,
                              .cert = g_cert, .cert_len = g_cert_len, .key = g_key, .require_client_auth = true };
    static fs38_channel ch;
    fs38_err e = fs38_channel_open(&ch, &c);
    if (e != FS38_OK) {
        fprintf(stderr, "coap: %s\n", ch.diag.msg);
        bench_die("fs38_channel_open (coap-server)", e);
    }
    const char *suite;
    fs38_channel_info(&ch, NULL, &suite);
    fs38_transport t;
    BENCH_MUST(fs38_channel_transport(&ch, &t));
    fs38_coap_uri u;
    fs38_diag d;
    char url[64];
    snprintf(url, sizeof url, "coaps://127.0.0.1:%u/big", (unsigned)(P + 1));
    BENCH_MUST(fs38_coap_uri_parse(url, &u, &d));
    uint8_t want[32], got[32];
    size_t hl;
    BENCH_MUST(psa_hash_compute(PSA_ALG_SHA_256, payload, sizeof payload, want, sizeof want, &hl));
    /* NSTART 1 (lock-step, RFC 7252's default) and pipelined windows, alternating round by
     * round so that the machine's load hits all alike; the AEAD + hash baseline is measured in
     * the same rounds, so every ratio is taken in one process at one time */
    static const uint8_t nstarts[] = { 1, 4, 8, 16 };
    enum { NN = sizeof nstarts / sizeof nstarts[0] };
    double tdl[NN][DL_ROUNDS], tbase[DL_ROUNDS], cbase[DL_ROUNDS], ratio[NN][DL_ROUNDS], cratio[NN][DL_ROUNDS];
    uint64_t tx0, rx0, tx1[NN] = { 0 }, rx1[NN] = { 0 };
    double cpu_dev[NN] = { 0 }, cpu_srv[NN] = { 0 };
    static fs38_coap_client cl;
    for (int r = 0; r < DL_ROUNDS; r++) {
        tbase[r] = raw_aead_hash_ms(suite_aead(suite), payload, sizeof payload, 3, &cbase[r]);
        for (size_t w = 0; w < NN; w++) {
            fs38_coap_config cc = { .transport = &t, .port = &g_port, .block_size = DL_BLOCK, .nstart = nstarts[w],
                                    .ack_timeout_ms = 500 };
            BENCH_MUST(fs38_coap_client_init(&cl, &cc));
            fs38_channel_wire_bytes(&ch, &tx0, &rx0);
            dl_sink_ctx dc = { .h = PSA_HASH_OPERATION_INIT, .got = 0 };
            uint32_t total = 0;
            BENCH_MUST(psa_hash_setup(&dc.h, PSA_ALG_SHA_256));
            double c0 = self_cpu_ms(), s0 = proc_cpu_ms(srvp.pid);
            double t0 = bench_now_ms();
            e = fs38_coap_get(&cl, &u, 0, dl_sink, &dc, &total);
            BENCH_MUST(psa_hash_finish(&dc.h, got, sizeof got, &hl));
            tdl[w][r] = bench_now_ms() - t0;
            cpu_dev[w] += self_cpu_ms() - c0;
            cratio[w][r] = (self_cpu_ms() - c0) / cbase[r];
            cpu_srv[w] += proc_cpu_ms(srvp.pid) - s0;
            if (e != FS38_OK) {
                fprintf(stderr, "coap get: %s\n", cl.diag.msg);
                bench_die("fs38_coap_get", e);
            }
            if (dc.got != DL_SIZE || memcmp(got, want, sizeof want) != 0)
                bench_die("download not byte-exact", (long)dc.got);
            fs38_channel_wire_bytes(&ch, &tx1[w], &rx1[w]);
            tx1[w] -= tx0;
            rx1[w] -= rx0;
            ratio[w][r] = tdl[w][r] / tbase[r];
        }
    }
    fs38_channel_close(&ch);
    ts_proc_stop(&srvp);
    double base = bench_median(tbase, DL_ROUNDS), cbm = bench_median(cbase, DL_ROUNDS);
    printf("CoAP/DTLS GET of 1 MiB (Block2 %u B, %s) from coap-server-openssl, %d rounds, medians; baseline AEAD "
           "decrypt (%u B records) + SHA-256 of the same 1 MiB in the same rounds: %.2f ms (CPU %.2f ms)\n",
           DL_BLOCK, suite, DL_ROUNDS, DL_BLOCK, base, cbm);
    for (size_t w = 0; w < NN; w++) {
        double mdl = bench_median(tdl[w], DL_ROUNDS), mr = bench_median(ratio[w], DL_ROUNDS);
        double lo = ratio[w][0], hi = ratio[w][0];
        for (int r = 1; r < DL_ROUNDS; r++) {
            lo = ratio[w][r] < lo ? ratio[w][r] : lo;
            hi = ratio[w][r] > hi ? ratio[w][r] : hi;
        }
        printf("  NSTART %2u: %.1f ms (%.1f MiB/s), wire %llu B in + %llu B out | download / baseline x%.2f "
               "(rounds %.2f..%.2f; goal <= 1.3) | CPU per download: device %.1f ms (x%.2f the baseline's CPU), "
               "coap-server %.0f ms\n",
               nstarts[w], mdl, 1000.0 / mdl, (unsigned long long)rx1[w], (unsigned long long)tx1[w], mr, lo, hi,
               cpu_dev[w] / DL_ROUNDS, bench_median(cratio[w], DL_ROUNDS), cpu_srv[w] / DL_ROUNDS);
    }
}

/* ---- The best client against the server: libcoap's own coap-client, RFC 9177 Q-Block2 ----
 *
 * Debian 13's libcoap 4.3.4 (scripts/deps --libcoap-dir DIR; run with FS38_LIBCOAP_DIR=DIR):
 * its coap-server-openssl with Q-Block enabled (-L 5 = COAP_BLOCK_USE_LIBCOAP |
 * COAP_BLOCK_TRY_Q_BLOCK; a plain Block2 request still gets Block2) serves the same 1 MiB over
 * DTLS (PKI, client certificate required) to libcoap's own coap-client-openssl of the same
 * build in three modes: RFC 7959 Block2 (CON, lock-step), Q-Block2 on a CON request (the server
 * sends every block as its own CON, each ACKed) and Q-Block2 on a NON request (the server pushes
 * MAX_PAYLOADS = 10 blocks, the client asks for the next burst with one 'Continue' request), and
 * to the device's client (Block2, NSTART 1 and 16) over one open channel. Every coap-client run
 * is a new process with a full handshake: a GET of a 1-byte resource in the same round measures
 * that fixed cost (process start, handshake), and it is subtracted from each download's wall and
 * CPU time. Baseline in the same rounds: as coap_download (AEAD of the device's suite in
 * 1024-byte records + SHA-256). The reference client's own suite (OpenSSL's preference) is
 * printed; it does not hash the payload, it writes it to a file (checked byte-exact). */

/* CPU time of process pid in ms from /proc/PID/schedstat (nanoseconds); 0 when unreadable. */
static double proc_cpu_ns_ms(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/schedstat", (long)pid);
    FILE *f = fopen(path, "r");
    unsigned long long ns = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%llu", &ns) != 1)
        ns = 0;
    fclose(f);
    return (double)ns / 1e6;
}

typedef struct {
    double wall, cpu, srv; /* ms: wall, client CPU (user + system), server CPU */
} ref_run;

/* One run of the reference client: argv is run with stdout/stderr to the log; wall and CPU
 * (wait4's rusage) of the client, server CPU from schedstat. Exits the bench on failure. */
static ref_run ref_client(const char *const *argv, pid_t spid, const char *log)
{
    ref_run r;
    double s0 = proc_cpu_ns_ms(spid), t0 = bench_now_ms();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork", 0);
    if (pid == 0) {
        FILE *l = freopen(log, "a", stdout);
        if (!l || dup2(fileno(stdout), 2) < 0)
            _exit(126);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid)
        bench_die("wait4", 0);
    r.wall = bench_now_ms() - t0;
    r.srv = proc_cpu_ns_ms(spid) - s0;
    r.cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
            (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "coap-client-openssl (4.3.4) failed, see %s\n", log);
        bench_die(argv[0], st);
    }
    return r;
}

static bool file_is(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    static uint8_t buf[DL_SIZE + 1];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return n == len && memcmp(buf, data, len) == 0;
}

#define REF_ROUNDS 7

static void coap_reference(const char *dir)
{
    char srv_bin[512], cli_bin[512];
    snprintf(srv_bin, sizeof srv_bin, "%s/bin/coap-server-openssl", dir);
    snprintf(cli_bin, sizeof cli_bin, "%s/bin/coap-client-openssl", dir);
    if (access(srv_bin, X_OK) != 0 || access(cli_bin, X_OK) != 0) {
        fprintf(stderr, "%s: not found (scripts/deps --libcoap-dir %s fetches libcoap 4.3.4)\n", srv_bin, dir);
        bench_die("FS38_LIBCOAP_DIR", 0);
    }
    static uint8_t payload[DL_SIZE];
    BENCH_MUST(psa_generate_random(payload, sizeof payload));
    FILE *f = fopen(p_("big.bin"), "wb");
    if (!f || fwrite(payload, 1, sizeof payload, f) != sizeof payload)
        bench_die("big.bin", 0);
    fclose(f);
    /* the reference client's own key and certificate from the same CA (its key is a file) */
    run("openssl ecparam -genkey -name prime256v1 -noout -out %s 2>/dev/null", p_("ref.key"));
    run("openssl req -new -key %s -subj /CN=01ffffffffffffffffffffffffffffffff/serialNumber=01ffffffffffffffffffffffffffffffff/O=fs38 "
        "-out %s", p_("ref.key"), p_("ref.csr"));
    run("%s ca issue %s %s --out %s >/dev/null", FS38_TOOL, p_("ca"), p_("ref.csr"), p_("ref.crt"));
    uint16_t P = 0;
    for (int i = 0; i < 50 && !P; i++) {
        uint16_t p = ts_free_port(true);
        if (p && p < 65535 && udp_port_free((uint16_t)(p + 1)))
            P = p;
    }
    if (!P)
        bench_die("free UDP port pair", 0);
    char port_s[8], log[128], clog[128], url[64], small_url[64], put_url[64];
    snprintf(port_s, sizeof port_s, "%u", (unsigned)P);
    snprintf(log, sizeof log, "%s/coap-server-434.log", g_dir);
    snprintf(clog, sizeof clog, "%s/coap-client-434.log", g_dir);
    snprintf(url, sizeof url, "coaps://127.0.0.1:%u/big", (unsigned)(P + 1));
    snprintf(small_url, sizeof small_url, "coaps://127.0.0.1:%u/small", (unsigned)(P + 1));
    const char *argv[] = { srv_bin, "-A", "127.0.0.1", "-p", port_s, "-d", "10", "-L", "5", "-c", p_("srv.crt"),
                           "-j", p_("srv.key"), "-R", p_("ca/ca.crt"), NULL };
    ts_proc srvp;
    if (ts_proc_start(&srvp, argv, log, "", 0) != 0)
        bench_die("coap-server-openssl 4.3.4", 0);
    bool up = false;
    for (int i = 0; i < 50 && !up; i++) {
        char cmd[768];
        snprintf(cmd, sizeof cmd, "timeout 2 %s -B 1 -m get coap://127.0.0.1:%u/ >/dev/null 2>&1", cli_bin, (unsigned)P);
        up = system(cmd) == 0;
        if (!up)
            usleep(100000);
    }
    if (!up)
        bench_die("coap-server-openssl 4.3.4 did not answer", 0);
    snprintf(put_url, sizeof put_url, "coap://127.0.0.1:%u", (unsigned)P);
    run("timeout 60 %s -m put -b 1024 -f %s %s/big >/dev/null 2>&1", cli_bin, p_("big.bin"), put_url);
    run("timeout 10 %s -m put -e x %s/small >/dev/null 2>&1", cli_bin, put_url);

    /* the device's channel to the same server */
    fs38_channel_config c = { .mode = FS38_CHANNEL_DTLS, .host = "127.0.0.1", .port = (uint16_t)(P + 1),
                              .net = &g_net, .platform = &g_port, .handshake_timeout_ms = 10000,
                              .dtls_retransmit_min_ms = 500, .ca = (const uint8_t *)g_ca, .ca_len = g_ca_len,
                              .cert = g_cert, .cert_len = g_cert_len, .key = g_key, .require_client_auth = true };
    static fs38_channel ch;
    fs38_err e = fs38_channel_open(&ch, &c);
    if (e != FS38_OK) {
        fprintf(stderr, "coap-ref: %s\n", ch.diag.msg);
        bench_die("fs38_channel_open (coap-server 4.3.4)", e);
    }
    const char *suite;
    fs38_channel_info(&ch, NULL, &suite);
    fs38_transport t;
    BENCH_MUST(fs38_channel_transport(&ch, &t));
    /* the Q-Block2 download (cfg.qblock2) gets a channel (DTLS session) of its own: once a session has used
     * Q-Block2, libcoap 4.3.4 answers that session's plain Block2 requests with Q-Block2 too
     * (an option fs38_coap_get refuses as an unrecognised critical option) */
    static fs38_channel chq;
    e = fs38_channel_open(&chq, &c);
    if (e != FS38_OK) {
        fprintf(stderr, "coap-ref: %s\n", chq.diag.msg);
        bench_die("fs38_channel_open (coap-server 4.3.4, second)", e);
    }
    fs38_transport tq;
    BENCH_MUST(fs38_channel_transport(&chq, &tq));
    fs38_coap_uri u;
    fs38_diag d;
    BENCH_MUST(fs38_coap_uri_parse(url, &u, &d));
    uint8_t want[32], got[32];
    size_t hl;
    BENCH_MUST(psa_hash_compute(PSA_ALG_SHA_256, payload, sizeof payload, want, sizeof want, &hl));

    const char *crt = p_("ref.crt"), *key = p_("ref.key"), *ca = p_("ca/ca.crt"), *out = p_("ref.out");
    enum { M_SMALL, M_B2, M_QCON, M_QNON, NM };
    static const char *const mname[NM] = { "1-byte GET (start + handshake)", "Block2, CON (lock-step)",
                                           "Q-Block2, CON request", "Q-Block2, NON request" };
    const char *const margs[NM][16] = {
        { cli_bin, "-L", "1", "-b", "1024", "-c", crt, "-j", key, "-R", ca, "-o", out, small_url, NULL },
        { cli_bin, "-L", "1", "-b", "1024", "-c", crt, "-j", key, "-R", ca, "-o", out, url, NULL },
        { cli_bin, "-L", "5", "-b", "1024", "-c", crt, "-j", key, "-R", ca, "-o", out, url, NULL },
        { cli_bin, "-N", "-L", "5", "-b", "1024", "-c", crt, "-j", key, "-R", ca, "-o", out, url, NULL },
    };
    static const uint8_t nst[] = { 1, 16 };
    enum { ND = sizeof nst / sizeof nst[0] };
    ref_run rr[NM][REF_ROUNDS];
    double tbase[REF_ROUNDS], cbase[REF_ROUNDS], rratio[NM][REF_ROUNDS], rcpu[NM][REF_ROUNDS];
    /* rows 0..ND-1 Block2, ND Q-Block2, ND + 1 Q-Block2 with a set buffer (cfg.set_buf) */
    double ddl[ND + 2][REF_ROUNDS], dratio[ND + 2][REF_ROUNDS], dcpu[ND + 2][REF_ROUNDS], dsrv[ND + 2][REF_ROUNDS];
    static uint8_t setbuf[FS38_COAP_MAX_PAYLOADS * DL_BLOCK];
    static fs38_coap_client cl;
    for (int r = 0; r < REF_ROUNDS; r++) {
        tbase[r] = raw_aead_hash_ms(suite_aead(suite), payload, sizeof payload, 3, &cbase[r]);
        for (int m = 0; m < NM; m++) {
            rr[m][r] = ref_client(margs[m], srvp.pid, clog);
            if (m != M_SMALL && !file_is(out, payload, sizeof payload))
                bench_die("reference download not byte-exact", m);
        }
        for (int m = 1; m < NM; m++) {
            rratio[m][r] = (rr[m][r].wall - rr[M_SMALL][r].wall) / tbase[r];
            rcpu[m][r] = (rr[m][r].cpu - rr[M_SMALL][r].cpu) / cbase[r];
        }
        for (size_t w = 0; w <= ND + 1; w++) {
            /* rows 0..ND-1: Block2 with NSTART nst[w]; row ND: RFC 9177 Q-Block2 (cfg.qblock2) on its
             * own channel, each block to the sink as it arrives; row ND + 1: the same, a set at a
             * time from cfg.set_buf */
            const bool qb = w >= ND;
            fs38_coap_config cc = { .transport = qb ? &tq : &t, .port = &g_port, .block_size = DL_BLOCK,
                                    .nstart = qb ? 0 : nst[w], .qblock2 = qb, .ack_timeout_ms = 500 };
            if (w == ND + 1) {
                cc.set_buf = setbuf;
                cc.set_buf_len = sizeof setbuf;
            }
            BENCH_MUST(fs38_coap_client_init(&cl, &cc));
            dl_sink_ctx dc = { .h = PSA_HASH_OPERATION_INIT, .got = 0 };
            uint32_t total = 0;
            BENCH_MUST(psa_hash_setup(&dc.h, PSA_ALG_SHA_256));
            double c0 = self_cpu_ms(), s0 = proc_cpu_ns_ms(srvp.pid), t0 = bench_now_ms();
            e = fs38_coap_get(&cl, &u, 0, dl_sink, &dc, &total);
            BENCH_MUST(psa_hash_finish(&dc.h, got, sizeof got, &hl));
            ddl[w][r] = bench_now_ms() - t0;
            dcpu[w][r] = (self_cpu_ms() - c0) / cbase[r];
            dsrv[w][r] = proc_cpu_ns_ms(srvp.pid) - s0;
            if (e != FS38_OK) {
                fprintf(stderr, "coap get%s: %s\n", qb ? " (Q-Block2)" : "", cl.diag.msg);
                bench_die(qb ? "fs38_coap_get (Q-Block2)" : "fs38_coap_get (4.3.4)", e);
            }
            if (dc.got != DL_SIZE || memcmp(got, want, sizeof want) != 0)
                bench_die(qb ? "Q-Block2 download not byte-exact" : "download not byte-exact", (long)dc.got);
            dratio[w][r] = ddl[w][r] / tbase[r];
        }
    }
    fs38_channel_close(&ch);
    fs38_channel_close(&chq);
    ts_proc_stop(&srvp);
    double base = bench_median(tbase, REF_ROUNDS), cbm = bench_median(cbase, REF_ROUNDS);
    printf("CoAP/DTLS GET of 1 MiB from libcoap 4.3.4's coap-server-openssl (-L 5: Q-Block), %d rounds, medians; "
           "baseline AEAD (%s, %u B records) + SHA-256 of 1 MiB in the same rounds: %.2f ms (CPU %.2f ms)\n",
           REF_ROUNDS, suite, DL_BLOCK, base, cbm);
    double sw[REF_ROUNDS], sc[REF_ROUNDS], ss[REF_ROUNDS];
    for (int r = 0; r < REF_ROUNDS; r++) {
        sw[r] = rr[M_SMALL][r].wall;
        sc[r] = rr[M_SMALL][r].cpu;
        ss[r] = rr[M_SMALL][r].srv;
    }
    printf("  libcoap coap-client, %s: %.1f ms, client CPU %.1f ms, server CPU %.1f ms (subtracted below)\n",
           mname[M_SMALL], bench_median(sw, REF_ROUNDS), bench_median(sc, REF_ROUNDS), bench_median(ss, REF_ROUNDS));
    for (int m = 1; m < NM; m++) {
        double w[REF_ROUNDS], cpu[REF_ROUNDS], sv[REF_ROUNDS];
        for (int r = 0; r < REF_ROUNDS; r++) {
            w[r] = rr[m][r].wall - rr[M_SMALL][r].wall;
            cpu[r] = rr[m][r].cpu - rr[M_SMALL][r].cpu;
            sv[r] = rr[m][r].srv - rr[M_SMALL][r].srv;
        }
        double lo = rratio[m][0];
        for (int r = 1; r < REF_ROUNDS; r++)
            lo = rratio[m][r] < lo ? rratio[m][r] : lo;
        printf("  libcoap coap-client, %-24s %.1f ms | download / baseline x%.2f (best round x%.2f; goal <= 1.3) | "
               "CPU: client %.1f ms (x%.2f the baseline's), coap-server %.1f ms\n",
               mname[m], bench_median(w, REF_ROUNDS), bench_median(rratio[m], REF_ROUNDS), lo,
               bench_median(cpu, REF_ROUNDS), bench_median(rcpu[m], REF_ROUNDS), bench_median(sv, REF_ROUNDS));
    }
    for (size_t w = 0; w <= ND + 1; w++) {
        double lo = dratio[w][0];
        for (int r = 1; r < REF_ROUNDS; r++)
            lo = dratio[w][r] < lo ? dratio[w][r] : lo;
        char label[64];
        if (w < ND)
            snprintf(label, sizeof label, "Block2 NSTART %u", nst[w]);
        else if (w == ND)
            snprintf(label, sizeof label, "Q-Block2 (cfg.qblock2)");
        else
            snprintf(label, sizeof label, "Q-Block2 + set_buf %zu KiB", sizeof setbuf / 1024u);
        printf("  fs38 device, %-30s %.1f ms | download / baseline x%.2f (best round x%.2f; goal <= 1.3) | "
               "CPU: device x%.2f the baseline's, coap-server %.1f ms\n",
               label, bench_median(ddl[w], REF_ROUNDS), bench_median(dratio[w], REF_ROUNDS), lo,
               bench_median(dcpu[w], REF_ROUNDS), bench_median(dsrv[w], REF_ROUNDS));
    }
}

int main(int argc, char **argv)
{
    /* bench_channel [--only WORD]: only the handshake cases whose name contains WORD, or only
     * the CoAP download for "coap", or only the libcoap 4.3.4 reference (Q-Block2) for
     * "coap-ref" (FS38_LIBCOAP_DIR from scripts/deps --libcoap-dir; in a full run it is
     * measured when FS38_LIBCOAP_DIR is set) */
    const char *only = argc == 3 && strcmp(argv[1], "--only") == 0 ? argv[2] : NULL;
    if (argc != 1 && !only) {
        fprintf(stderr, "usage: bench_channel [--only WORD]\n");
        return 2;
    }
    bench_set_name("bench_channel");
    signal(SIGPIPE, SIG_IGN);
    BENCH_MUST(psa_crypto_init() != PSA_SUCCESS);
    snprintf(g_dir, sizeof g_dir, "/tmp/fs38-bench-chan-XXXXXX");
    if (!mkdtemp(g_dir))
        bench_die("mkdtemp", 0);
    /* device key (volatile here; the identity's persistent key in a device) and its certificate */
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_VERIFY_HASH);
    psa_set_key_algorithm(&at, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    BENCH_MUST(psa_generate_key(&at, &g_key));
    uint8_t rnd[16];
    char ueid[35] = "01", subject[160];
    BENCH_MUST(psa_generate_random(rnd, sizeof rnd));
    for (size_t i = 0; i < 16; i++)
        snprintf(ueid + 2 + 2 * i, 3, "%02x", rnd[i]);
    snprintf(subject, sizeof subject, "CN=%s,serialNumber=%s,O=fs38", ueid, ueid);
    mbedtls_pk_context pk;
    mbedtls_x509write_csr req;
    unsigned char pem[2048];
    mbedtls_pk_init(&pk);
    mbedtls_x509write_csr_init(&req);
    BENCH_MUST(mbedtls_pk_setup_opaque(&pk, g_key));
    mbedtls_x509write_csr_set_md_alg(&req, MBEDTLS_MD_SHA256);
    mbedtls_x509write_csr_set_key(&req, &pk);
    BENCH_MUST(mbedtls_x509write_csr_set_subject_name(&req, subject));
    BENCH_MUST(mbedtls_x509write_csr_pem(&req, pem, sizeof pem, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE));
    mbedtls_x509write_csr_free(&req);
    mbedtls_pk_free(&pk);
    FILE *f = fopen(p_("dev.csr"), "w");
    if (!f)
        bench_die("dev.csr", 0);
    fputs((char *)pem, f);
    fclose(f);
    run("%s ca init --out %s >/dev/null", FS38_TOOL, p_("ca"));
    run("%s ca issue %s %s --out %s >/dev/null", FS38_TOOL, p_("ca"), p_("dev.csr"), p_("dev.crt"));
    run("%s ca server %s --name 127.0.0.1 --out %s --key-out %s >/dev/null", FS38_TOOL, p_("ca"), p_("srv.crt"),
        p_("srv.key"));
    size_t len;
    uint8_t *b = slurp(p_("dev.crt"), &len);
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    BENCH_MUST(mbedtls_x509_crt_parse(&crt, b, len + 1));
    memcpy(g_cert, crt.raw.p, crt.raw.len);
    g_cert_len = crt.raw.len;
    mbedtls_x509_crt_free(&crt);
    b = slurp(p_("ca/ca.crt"), &len);
    memcpy(g_ca, b, len + 1);
    g_ca_len = len + 1;
    /* PSK (a persistent key in a device's sealed store; volatile here) */
    static const uint8_t psk[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                     0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
    psa_key_attributes_t pa = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&pa, PSA_KEY_TYPE_DERIVE);
    psa_set_key_usage_flags(&pa, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&pa, PSA_ALG_TLS12_PSK_TO_MS(PSA_ALG_SHA_256));
    BENCH_MUST(psa_import_key(&pa, psk, sizeof psk, &g_psk));
    psa_set_key_usage_flags(&pa, PSA_KEY_USAGE_DERIVE | PSA_KEY_USAGE_EXPORT); /* TLS 1.3 PSK (fs38/channel.h) */
    BENCH_MUST(psa_import_key(&pa, psk, sizeof psk, &g_psk13));
    fs38_posix_net(&g_net);
    memset(&g_port, 0, sizeof g_port);
    g_port.monotonic_ms = mono;
    g_port.wall_time = wall;
    g_port.entropy = entropy;

    const char *srv_c = p_("srv.crt"), *srv_k = p_("srv.key"), *ca = p_("ca/ca.crt");
    const char *const a_tls13[] = { "-tls1_3", "-cert", srv_c, "-key", srv_k, "-CAfile", ca, "-Verify", "1", "-rev", NULL };
    const char *const a_tls13_ke[] = { "-tls1_3", "-cert", srv_c, "-key", srv_k, "-CAfile", ca, "-Verify", "1",
                                       "-allow_no_dhe_kex", "-rev", NULL };
    const char *const a_psk13[] = { "-tls1_3", "-nocert", "-psk", "00112233445566778899aabbccddeeff", "-psk_identity",
                                    "fs38-dev", "-allow_no_dhe_kex", "-rev", NULL };
    const char *const a_dtls[] = { "-dtls1_2", "-cert", srv_c, "-key", srv_k, "-CAfile", ca, "-Verify", "1", NULL };
    const char *const a_psk[] = { "-dtls1_2", "-nocert", "-psk", "00112233445566778899aabbccddeeff", "-psk_identity",
                                  "fs38-dev", "-cipher", "PSK-AES128-CCM8", NULL };
    char s2_crt[300], s2_key[300], s2_ca[300];
    snprintf(s2_crt, sizeof s2_crt, "crt_file=%s", srv_c);
    snprintf(s2_key, sizeof s2_key, "key_file=%s", srv_k);
    snprintf(s2_ca, sizeof s2_ca, "ca_file=%s", ca);
    const char *const a_s2_cid[] = { "dtls=1", "force_version=dtls12", "auth_mode=required", s2_crt, s2_key, s2_ca,
                                     "cid=1", "cid_val=c1d0f5", "cookies=0", NULL };
    const char *const a_s2_nocid[] = { "dtls=1", "force_version=dtls12", "auth_mode=required", s2_crt, s2_key, s2_ca,
                                       "cid=0", "cookies=0", NULL };
    const bcase cases[] = {
        { "TLS 1.3 ECDHE-ECDSA (mutual)", FS38_CHANNEL_TLS, false, false, true, a_tls13, 0, false, false, false },
        { "TLS 1.3 ECDHE-ECDSA, psk_ke resume", FS38_CHANNEL_TLS, false, false, true, a_tls13_ke, 0, false, true, false },
        { "TLS 1.3 ext. PSK psk_dhe_ke vs ke", FS38_CHANNEL_TLS, true, false, true, a_psk13, 0, false, false, true },
        { "DTLS 1.2 ECDHE-ECDSA, CID offered", FS38_CHANNEL_DTLS, false, false, false, a_dtls, 0, false , false, false },
        { "DTLS 1.2 ECDHE-ECDSA, no CID", FS38_CHANNEL_DTLS, false, true, false, a_dtls, 0, false , false, false },
        { "DTLS 1.2 PSK-AES128-CCM-8", FS38_CHANNEL_DTLS, true, true, false, a_psk, 0, false , false, false },
#ifdef FS38_SSL_SERVER2
        { "ssl_server2: DTLS 1.2 ECDSA, CID used", FS38_CHANNEL_DTLS, false, false, false, a_s2_cid, 1, true , false, false },
        { "ssl_server2: DTLS 1.2 ECDSA, CID not offered", FS38_CHANNEL_DTLS, false, true, false, a_s2_cid, 1, false , false, false },
        { "ssl_server2 cid=0: DTLS 1.2 ECDSA, CID offered", FS38_CHANNEL_DTLS, false, false, false, a_s2_nocid, 1, false , false, false },
#endif
    };
    printf("bench_channel: %d full + %d resumed handshakes each (alternating) against OpenSSL s_server on 127.0.0.1; "
           "medians; ratios resumed / full\n",
           ROUNDS + 1, ROUNDS);
    printf("sizeof(fs38_channel) = %zu B; Mbed TLS record buffers: in %d + out %d B content\n", sizeof(fs38_channel),
           MBEDTLS_SSL_IN_CONTENT_LEN, MBEDTLS_SSL_OUT_CONTENT_LEN);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (!only || strstr(cases[i].name, only))
            bench_case(&cases[i]);
    printf("RAM for one open channel = sizeof(fs38_channel) + heap open (Mbed TLS); heap peak = during the handshake\n");
    if (!only || strcmp(only, "coap") == 0)
        coap_download();
    const char *libcoap = getenv("FS38_LIBCOAP_DIR");
    if (only && strcmp(only, "coap-ref") == 0 && !libcoap)
        bench_die("--only coap-ref needs FS38_LIBCOAP_DIR (scripts/deps --libcoap-dir DIR)", 0);
    if ((!only && libcoap) || (only && strcmp(only, "coap-ref") == 0))
        coap_reference(libcoap);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0)
        return 1;
    return 0;
}
