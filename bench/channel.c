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
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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
#include "fs38/util.h"
#include "fs38_posix.h"

#define ROUNDS 9

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

/* ---- s_server ---- */

typedef struct {
    pid_t pid;
    int in;
    uint16_t port;
    char log[128];
} srv;

static uint16_t free_port(bool udp)
{
    int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &al))
        bench_die("free port", -1);
    close(fd);
    return ntohs(a.sin_port);
}

static bool log_has(const char *path, const char *what)
{
    char buf[8192];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    return memmem(buf, n, what, strlen(what)) != NULL;
}

static void srv_start(srv *s, bool udp, const char *const *args)
{
    static unsigned seq;
    const char *argv[40] = { "openssl", "s_server", "-accept" };
    char acc[32];
    s->port = free_port(udp);
    snprintf(acc, sizeof acc, "127.0.0.1:%u", (unsigned)s->port);
    argv[3] = acc;
    size_t n = 4;
    for (; args[n - 4] && n < 38; n++)
        argv[n] = args[n - 4];
    argv[n] = NULL;
    snprintf(s->log, sizeof s->log, "%s/srv%u.log", g_dir, seq++);
    int pp[2];
    if (pipe(pp))
        bench_die("pipe", -1);
    s->pid = fork();
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* bench_die() exits: the server goes with us */
        int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(pp[0], 0);
        dup2(fd, 1);
        dup2(fd, 2);
        close(pp[1]);
        execvp("openssl", (char *const *)argv);
        _exit(127);
    }
    close(pp[0]);
    s->in = pp[1];
    for (int i = 0; i < 250 && !log_has(s->log, "ACCEPT"); i++)
        usleep(20000);
    if (!log_has(s->log, "ACCEPT"))
        bench_die("s_server start", s->pid);
}

static void srv_stop(srv *s)
{
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    close(s->in);
}

/* ---- one configuration: full vs resumed ---- */

typedef struct {
    const char *name;
    fs38_channel_mode mode;
    bool psk, no_cid, rev;
    const char *const *args;
} bcase;

static fs38_net g_net;
static fs38_port g_port;
static char g_ca[4096];
static size_t g_ca_len;
static uint8_t g_cert[2048];
static size_t g_cert_len;
static psa_key_id_t g_key, g_psk;

static double median_of(double *v, size_t n)
{
    return bench_median(v, n);
}

static void bench_case(const bcase *bc)
{
    srv s;
    srv_start(&s, bc->mode == FS38_CHANNEL_DTLS, bc->args);
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
    static fs38_channel ch;
    static fs38_channel_session sess;
    double t_full[ROUNDS], t_res[ROUNDS];
    uint64_t b_full = 0, b_res = 0;
    size_t peak = 0, steady = 0;
    for (int r = 0; r < 2 * ROUNDS; r++) {
        bool resume = r >= ROUNDS;
        c.session = resume ? &sess : NULL;
        size_t h0 = g_heap;
        g_peak = g_heap;
        double t0 = bench_now_ms();
        fs38_err e = fs38_channel_open(&ch, &c);
        double t1 = bench_now_ms();
        if (e != FS38_OK) {
            fprintf(stderr, "%s: %s\n", bc->name, ch.diag.msg);
            bench_die("fs38_channel_open", e);
        }
        if (resume != fs38_channel_resumed(&ch))
            bench_die(resume ? "resumption (not resumed)" : "full handshake (resumed)", r);
        uint64_t tx, rx;
        fs38_channel_wire_bytes(&ch, &tx, &rx);
        if (!resume) {
            t_full[r] = t1 - t0;
            b_full = tx + rx;
            peak = g_peak - h0;
            steady = g_heap - h0;
        } else {
            t_res[r - ROUNDS] = t1 - t0;
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
        if (r == ROUNDS - 1 || resume)
            BENCH_MUST(fs38_channel_save_session(&ch, &sess));
        fs38_channel_close(&ch);
    }
    double mf = median_of(t_full, ROUNDS), mr = median_of(t_res, ROUNDS);
    printf("%-34s full %7.2f ms %5llu B | resumed %6.2f ms %5llu B | time x%.2f bytes x%.2f | heap peak %6zu "
           "open %6zu\n",
           bc->name, mf, (unsigned long long)b_full, mr, (unsigned long long)b_res, mr / mf,
           (double)b_res / (double)b_full, peak, steady);
    fs38_wipe(&sess, sizeof sess);
    srv_stop(&s);
}

int main(void)
{
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
    fs38_posix_net(&g_net);
    memset(&g_port, 0, sizeof g_port);
    g_port.monotonic_ms = mono;
    g_port.wall_time = wall;

    const char *srv_c = p_("srv.crt"), *srv_k = p_("srv.key"), *ca = p_("ca/ca.crt");
    const char *const a_tls13[] = { "-tls1_3", "-cert", srv_c, "-key", srv_k, "-CAfile", ca, "-Verify", "1", "-rev", NULL };
    const char *const a_dtls[] = { "-dtls1_2", "-cert", srv_c, "-key", srv_k, "-CAfile", ca, "-Verify", "1", NULL };
    const char *const a_psk[] = { "-dtls1_2", "-nocert", "-psk", "00112233445566778899aabbccddeeff", "-psk_identity",
                                  "fs38-dev", "-cipher", "PSK-AES128-CCM8", NULL };
    const bcase cases[] = {
        { "TLS 1.3 ECDHE-ECDSA (mutual)", FS38_CHANNEL_TLS, false, false, true, a_tls13 },
        { "DTLS 1.2 ECDHE-ECDSA, CID offered", FS38_CHANNEL_DTLS, false, false, false, a_dtls },
        { "DTLS 1.2 ECDHE-ECDSA, no CID", FS38_CHANNEL_DTLS, false, true, false, a_dtls },
        { "DTLS 1.2 PSK-AES128-CCM-8", FS38_CHANNEL_DTLS, true, true, false, a_psk },
    };
    printf("bench_channel: %d handshakes each against OpenSSL s_server on 127.0.0.1; medians; ratios resumed / full\n",
           ROUNDS);
    printf("sizeof(fs38_channel) = %zu B; Mbed TLS record buffers: in %d + out %d B content\n", sizeof(fs38_channel),
           MBEDTLS_SSL_IN_CONTENT_LEN, MBEDTLS_SSL_OUT_CONTENT_LEN);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        bench_case(&cases[i]);
    printf("RAM for one open channel = sizeof(fs38_channel) + heap open (Mbed TLS); heap peak = during the handshake\n");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0)
        return 1;
    return 0;
}
