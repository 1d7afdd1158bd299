/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_channel.c — fs38_channel against a second TLS stack: OpenSSL's s_server (TLS 1.3,
 * TLS 1.2, DTLS 1.2, PSK), on 127.0.0.1 only, each server started here and stopped by its PID.
 *
 * The device is real: a sealed store on the POSIX port, an identity provisioned in it (device
 * key persistent in PSA, never exported), a CSR signed by that key, the certificate issued by
 * `fs38 ca issue` and installed with fs38_identity_install_cert; the channel gets the
 * certificate from fs38_identity_cert and the key id from fs38_identity_signing_key. Server
 * certificates come from `fs38 ca server` (and `openssl ca` for an expired one). The fs38 tool
 * is $FS38 (set by CTest).
 *
 * Every refusal is checked three ways: the fs38_err, the one-line diagnostic, and the security
 * event (FS38_EV_CHANNEL_REFUSED / FAILED with the fs38_err) seen by a test sink.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <mbedtls/pk.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "support.h"
#include "net/server_proc.h"
#include "fs38/channel.h"
#include "fs38/event.h"
#include "fs38/identity.h"
#include "fs38/util.h"

#define SS 4096u
#define FLASH_SIZE (64u * SS)
#define DEVICE_KEY ((psa_key_id_t)0x10001)
#define PSK_KEY ((psa_key_id_t)0x10002)
#define PSK_HEX "00112233445566778899aabbccddeeff"
#define PSK13_KEY ((psa_key_id_t)0x10003) /* the same PSK, exportable (TLS 1.3 in Mbed TLS 3.6) */

/* ---- the rig ---- */

static struct {
    ts_device d;
    fs38_identity id;
    char dir[64];
    char ca_pem[4096];
    size_t ca_len; /* including the NUL */
    uint8_t cert[FS38_CERT_MAX];
    size_t cert_len;
    char ueid_hex[2 * FS38_UEID_LEN + 1];
    fs38_port port;   /* the device port with a wall clock the test may set */
    int64_t fake_now; /* 0: the real clock */
    fs38_net net;     /* POSIX sockets, through a tamper hook */
} g;

/* ---- events ---- */

static struct {
    unsigned n;
    fs38_event_code code;
    int64_t arg;
    char detail[160];
} ev;

static void sink(void *user, const fs38_event_rec *e)
{
    (void)user;
    if (e->code < FS38_EV_CHANNEL_OPEN || e->code > FS38_EV_CHANNEL_FAILED)
        return;
    ev.n++;
    ev.code = e->code;
    ev.arg = e->arg;
    snprintf(ev.detail, sizeof ev.detail, "%s", e->detail ? e->detail : "");
}

/* ---- clock and wire hooks ---- */

static fs38_err wall(void *ctx, int64_t *t)
{
    (void)ctx;
    *t = g.fake_now ? g.fake_now : (int64_t)time(NULL);
    return FS38_OK;
}

static fs38_net g_posix;
static enum { T_NONE, T_FLIP, T_CUT, T_CUT_DONE } g_tamper;

static fs38_err t_connect(void *c, const char *h, uint16_t p, bool udp, uint32_t to, intptr_t *hd)
{
    return g_posix.connect(c, h, p, udp, to, hd);
}
/* The last record header the device sent (DTLS: content type, version, epoch, sequence number,
 * then the Connection ID when one is in use), for the RFC 9146 wire check. */
static uint8_t g_last_tx[16];
static size_t g_last_tx_len;
static fs38_err t_send(void *c, intptr_t h, const uint8_t *b, size_t l, uint32_t to)
{
    g_last_tx_len = l < sizeof g_last_tx ? l : sizeof g_last_tx;
    memcpy(g_last_tx, b, g_last_tx_len);
    return g_posix.send(c, h, b, l, to);
}
/* An on-path attacker: flip a bit in the next record body, or cut the stream in a record. */
static fs38_err t_recv(void *c, intptr_t h, uint8_t *b, size_t cap, size_t *l, uint32_t to)
{
    if (g_tamper == T_CUT_DONE)
        return FS38_ERR_CLOSED;
    fs38_err e = g_posix.recv(c, h, b, cap, l, to);
    if (e == FS38_OK && *l > 13) {
        if (g_tamper == T_FLIP) {
            b[*l - 1] ^= 0x01;
            g_tamper = T_NONE;
        } else if (g_tamper == T_CUT) {
            *l /= 2;
            g_tamper = T_CUT_DONE;
        }
    }
    return e;
}
static void t_close(void *c, intptr_t h)
{
    g_posix.close(c, h);
}

/* ---- helpers: commands, files, ports, servers ---- */

static int run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static uint16_t free_port(bool udp)
{
    uint16_t port = ts_free_port(udp);
    assert_true(port != 0);
    return port;
}

typedef struct {
    ts_proc p; /* pid; p.in: the server's stdin (what s_server sends without -rev); p.log */
    uint16_t port;
} srv;

/* Every server still running, so a test that fails half-way (cmocka jumps out of it) does not
 * leave its server behind: each test's set-up and the group's teardown stop them by PID; the
 * servers also get SIGTERM when this process dies (PR_SET_PDEATHSIG). */
static pid_t g_running[8];

static void stop_all(void)
{
    for (size_t i = 0; i < sizeof g_running / sizeof g_running[0]; i++)
        if (g_running[i] > 0) {
            ts_pid_stop(g_running[i]);
            g_running[i] = 0;
        }
}

static bool file_has(const char *p, const char *what, int wait_ms)
{
    return ts_file_has(p, what, wait_ms);
}

/* Start argv (NULL-terminated) on s->port (chosen by the caller) and wait for `ready`. */
static void srv_exec(srv *s, const char *const *argv, const char *ready)
{
    static unsigned seq;
    char log[128];
    snprintf(log, sizeof log, "%s/srv%u.log", g.dir, seq++);
    if (ts_proc_start(&s->p, argv, log, ready, 5000) != 0)
        fail_msg("%s did not start (see %s)", argv[0], log);
    for (size_t i = 0; i < sizeof g_running / sizeof g_running[0]; i++)
        if (g_running[i] == 0) {
            g_running[i] = s->p.pid;
            break;
        }
}

/* openssl s_server -accept 127.0.0.1:PORT ARGS... (NULL-terminated); waits for ACCEPT. */
static void srv_start(srv *s, bool udp, const char *arg0, ...)
{
    const char *argv[40] = { "openssl", "s_server", "-accept", NULL };
    char acc[32];
    s->port = free_port(udp);
    snprintf(acc, sizeof acc, "127.0.0.1:%u", (unsigned)s->port);
    argv[3] = acc;
    size_t n = 4;
    va_list ap;
    va_start(ap, arg0);
    for (const char *a = arg0; a && n < 38; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    srv_exec(s, argv, "ACCEPT");
}

static void srv_stop(srv *s)
{
    for (size_t i = 0; i < sizeof g_running / sizeof g_running[0]; i++)
        if (g_running[i] == s->p.pid)
            g_running[i] = 0;
    ts_proc_stop(&s->p);
}

static char *path(const char *name)
{
    static char buf[8][256];
    static unsigned i;
    char *p = buf[i++ % 8];
    snprintf(p, 256, "%s/%s", g.dir, name);
    return p;
}

/* ---- the device: identity, CSR, certificate from `fs38 ca issue` ---- */

static void write_csr(const char *out)
{
    uint8_t ueid[FS38_UEID_LEN];
    psa_key_id_t key;
    assert_int_equal(fs38_identity_ueid(&g.id, ueid), FS38_OK);
    assert_int_equal(fs38_identity_signing_key(&g.id, &key), FS38_OK);
    for (size_t i = 0; i < sizeof ueid; i++)
        snprintf(g.ueid_hex + 2 * i, 3, "%02x", ueid[i]);
    char subject[160];
    snprintf(subject, sizeof subject, "CN=%s,serialNumber=%s,O=fs38", g.ueid_hex, g.ueid_hex);
    mbedtls_pk_context pk;
    mbedtls_x509write_csr req;
    unsigned char pem[2048];
    mbedtls_pk_init(&pk);
    mbedtls_x509write_csr_init(&req);
    assert_int_equal(mbedtls_pk_setup_opaque(&pk, key), 0);
    mbedtls_x509write_csr_set_md_alg(&req, MBEDTLS_MD_SHA256);
    mbedtls_x509write_csr_set_key(&req, &pk);
    assert_int_equal(mbedtls_x509write_csr_set_subject_name(&req, subject), 0);
    assert_int_equal(mbedtls_x509write_csr_pem(&req, pem, sizeof pem, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE), 0);
    mbedtls_x509write_csr_free(&req);
    mbedtls_pk_free(&pk);
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    fputs((char *)pem, f);
    fclose(f);
}

static void install_cert(const char *pem_path)
{
    size_t len;
    uint8_t *buf = ts_read_file(pem_path, &len);
    assert_non_null(buf);
    char *z = realloc(buf, len + 1);
    assert_non_null(z);
    z[len] = '\0';
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    assert_int_equal(mbedtls_x509_crt_parse(&crt, (uint8_t *)z, len + 1), 0);
    /* the subject's CN is the UEID in lower-case hex (a broker's user name) */
    char dn[256], want[256];
    assert_true(mbedtls_x509_dn_gets(dn, sizeof dn, &crt.subject) > 0);
    snprintf(want, sizeof want, "CN=%s, serialNumber=%s, O=fs38", g.ueid_hex, g.ueid_hex);
    assert_string_equal(dn, want);
    uint8_t point[FS38_P256_POINT_LEN];
    assert_int_equal(fs38_identity_public_key(&g.id, point), FS38_OK);
    assert_int_equal(fs38_identity_install_cert(&g.id, crt.raw.p, crt.raw.len, point), FS38_OK);
    mbedtls_x509_crt_free(&crt);
    free(z);
    assert_int_equal(fs38_identity_cert(&g.id, g.cert, sizeof g.cert, &g.cert_len), FS38_OK);
}

static int setup(void **state)
{
    (void)state;
    const char *fs38 = getenv("FS38");
    if (!fs38 || !*fs38) {
        fprintf(stderr, "test_channel: $FS38 (the fs38 tool) is not set\n");
        return -1;
    }
    snprintf(g.dir, sizeof g.dir, "/tmp/fs38-chan-XXXXXX");
    if (!mkdtemp(g.dir))
        return -1;
    ts_device_new(&g.d, FLASH_SIZE, (fs38_store_config){ NULL, 0, 8u * SS, 2u * SS });
    assert_int_equal(fs38_identity_init(&g.id, &g.d.s, DEVICE_KEY), FS38_OK);
    assert_int_equal(fs38_identity_provision(&g.id), FS38_OK);
    write_csr(path("dev.csr"));
    if (run("%s ca init --out %s >/dev/null", fs38, path("ca")) ||
        run("%s ca issue %s %s --out %s >/dev/null", fs38, path("ca"), path("dev.csr"), path("dev.crt")) ||
        run("%s ca server %s --name 127.0.0.1 --out %s --key-out %s >/dev/null", fs38, path("ca"), path("srv.crt"),
            path("srv.key")) ||
        run("%s ca server %s --name other.example --out %s --key-out %s >/dev/null", fs38, path("ca"),
            path("other.crt"), path("other.key")) ||
        run("%s ca init --out %s >/dev/null", fs38, path("ca2")) ||
        run("%s ca server %s --name 127.0.0.1 --out %s --key-out %s >/dev/null", fs38, path("ca2"),
            path("rogue.crt"), path("rogue.key")))
        return -1;
    /* an expired server certificate from the fleet CA (openssl ca sets past dates) */
    FILE *f = fopen(path("ossl.cnf"), "w");
    if (!f)
        return -1;
    fprintf(f, "[ca]\ndefault_ca=c\n[c]\ndatabase=%s/oca.idx\nnew_certs_dir=%s\nserial=%s/oca.srl\n"
               "default_md=sha256\npolicy=p\nx509_extensions=x\nunique_subject=no\n[p]\ncommonName=supplied\n"
               "[x]\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n",
            g.dir, g.dir, g.dir);
    fclose(f);
    if (run("touch %s/oca.idx && echo 01 > %s/oca.srl", g.dir, g.dir) ||
        run("openssl req -new -key %s -subj /CN=127.0.0.1 -out %s 2>/dev/null", path("srv.key"), path("exp.csr")) ||
        run("openssl ca -batch -notext -config %s -cert %s/ca.crt -keyfile %s/ca.key -in %s -out %s "
            "-startdate 20200101000000Z -enddate 20210101000000Z >/dev/null 2>&1",
            path("ossl.cnf"), path("ca"), path("ca"), path("exp.csr"), path("exp.crt")))
        return -1;
    install_cert(path("dev.crt"));
    size_t len;
    uint8_t *ca = ts_read_file(path("ca/ca.crt"), &len);
    assert_non_null(ca);
    assert_true(len < sizeof g.ca_pem);
    memcpy(g.ca_pem, ca, len);
    g.ca_pem[len] = '\0';
    g.ca_len = len + 1;
    free(ca);
    /* the PSK: a persistent PSA key, i.e. in the sealed store */
    uint8_t psk[16];
    assert_int_equal(ts_unhex(PSK_HEX, psk, sizeof psk), sizeof psk);
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_id(&at, PSK_KEY);
    psa_set_key_lifetime(&at, PSA_KEY_LIFETIME_PERSISTENT);
    psa_set_key_type(&at, PSA_KEY_TYPE_DERIVE);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&at, PSA_ALG_TLS12_PSK_TO_MS(PSA_ALG_SHA_256));
    psa_key_id_t id;
    assert_int_equal(psa_import_key(&at, psk, sizeof psk, &id), PSA_SUCCESS);
    psa_set_key_id(&at, PSK13_KEY);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_DERIVE | PSA_KEY_USAGE_EXPORT);
    assert_int_equal(psa_import_key(&at, psk, sizeof psk, &id), PSA_SUCCESS);
    fs38_wipe(psk, sizeof psk);
    g.port = g.d.f.port;
    g.port.wall_time = wall;
    fs38_posix_net(&g_posix);
    g.net = (fs38_net){ .ctx = NULL, .connect = t_connect, .send = t_send, .recv = t_recv, .close = t_close };
    fs38_event_set_sink(sink, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    stop_all();
    fs38_event_set_sink(NULL, NULL);
    ts_device_free(&g.d, false);
    if (g.dir[0])
        if (!getenv("FS38_KEEP")) /* FS38_KEEP=1 keeps the certificates and server logs */
            (void)run("rm -rf %s", g.dir);
    return 0;
}

static int each(void **state)
{
    (void)state;
    stop_all(); /* a server a failed test left */
    memset(&ev, 0, sizeof ev);
    g.fake_now = 0;
    g_tamper = T_NONE;
    return 0;
}

/* ---- channel helpers ---- */

static fs38_channel_config cfg_cert(fs38_channel_mode mode, uint16_t port)
{
    psa_key_id_t key = 0;
    assert_int_equal(fs38_identity_signing_key(&g.id, &key), FS38_OK);
    return (fs38_channel_config){ .mode = mode,
                                  .host = "127.0.0.1",
                                  .port = port,
                                  .net = &g.net,
                                  .platform = &g.port,
                                  .ca = (const uint8_t *)g.ca_pem,
                                  .ca_len = g.ca_len,
                                  .cert = g.cert,
                                  .cert_len = g.cert_len,
                                  .key = key,
                                  .require_client_auth = true,
                                  .handshake_timeout_ms = 8000,
                                  .dtls_retransmit_min_ms = 200,
                                  .dtls_retransmit_max_ms = 3200 };
}

static fs38_channel_config cfg_psk(fs38_channel_mode mode, uint16_t port)
{
    return (fs38_channel_config){ .mode = mode,
                                  .host = "127.0.0.1",
                                  .port = port,
                                  .net = &g.net,
                                  .platform = &g.port,
                                  .psk = PSK_KEY,
                                  .psk_identity = (const uint8_t *)"fs38-dev",
                                  .psk_identity_len = 8,
                                  .handshake_timeout_ms = 8000,
                                  .dtls_retransmit_min_ms = 200,
                                  .dtls_retransmit_max_ms = 3200 };
}

/* Bytes through both ways: with -rev the server answers the line reversed; otherwise (DTLS,
 * where s_server has no -rev) the server prints what it got and sends what we write to its
 * stdin. */
static void exchange(fs38_channel *ch, srv *s, bool rev)
{
    fs38_transport t;
    assert_int_equal(fs38_channel_transport(ch, &t), FS38_OK);
    char msg[32];
    snprintf(msg, sizeof msg, "fs38-%u\n", (unsigned)s->port);
    assert_int_equal(t.send(t.ctx, (const uint8_t *)msg, strlen(msg)), FS38_OK);
    char want[32];
    if (rev) {
        size_t n = strlen(msg) - 1;
        for (size_t i = 0; i < n; i++)
            want[i] = msg[n - 1 - i];
        want[n] = '\n';
        want[n + 1] = '\0';
    } else {
        msg[strlen(msg) - 1] = '\0';
        assert_true(file_has(s->p.log, msg, 3000)); /* the server got our bytes */
        snprintf(want, sizeof want, "pong-%u\n", (unsigned)s->port);
        assert_int_equal(write(s->p.in, want, strlen(want)), (ssize_t)strlen(want));
    }
    uint8_t got[64];
    size_t have = 0, n = 0;
    while (have < strlen(want)) {
        fs38_err e = t.recv(t.ctx, got + have, sizeof got - have, &n, 3000);
        assert_int_equal(e, FS38_OK);
        have += n;
    }
    assert_int_equal(have, strlen(want));
    assert_memory_equal(got, want, have);
}

static void expect_open(fs38_channel *ch, const fs38_channel_config *c, const char *version)
{
    fs38_err e = fs38_channel_open(ch, c);
    if (e != FS38_OK)
        fail_msg("open: %s: %s", fs38_strerror(e), ch->diag.msg);
    const char *v, *s;
    fs38_channel_info(ch, &v, &s);
    assert_string_equal(v, version);
    assert_int_equal(ev.code, FS38_EV_CHANNEL_OPEN);
}

/* The refusal: error, diagnostic, event (code and arg), nothing open. */
static void expect_refused(fs38_channel *ch, const fs38_channel_config *c, fs38_err want, const char *diag,
                           fs38_event_code code)
{
    memset(&ev, 0, sizeof ev);
    fs38_err e = fs38_channel_open(ch, c);
    if (e != want || !strstr(ch->diag.msg, diag))
        fail_msg("want %s '%s', got %s '%s'", fs38_strerror(want), diag, fs38_strerror(e), ch->diag.msg);
    assert_int_equal(ev.n, 1);
    assert_int_equal(ev.code, code);
    assert_int_equal(ev.arg, (int64_t)want);
    assert_string_equal(ev.detail, ch->diag.msg);
    fs38_transport t;
    assert_int_equal(fs38_channel_transport(ch, &t), FS38_ERR_STATE);
    fs38_channel_close(ch);
}

#define SRV_PKI(ver, crt, key) "-cert", path(crt), "-key", path(key), "-CAfile", path("ca/ca.crt"), ver

/* ---- mutual authentication, bytes through ---- */

static void tls13_mutual(void **state)
{
    (void)state;
    srv s;
    srv_start(&s, false, SRV_PKI("-tls1_3", "srv.crt", "srv.key"), "-Verify", "1", "-rev", NULL);
    fs38_channel ch;
    fs38_channel_config c = cfg_cert(FS38_CHANNEL_TLS, s.port);
    expect_open(&ch, &c, "TLSv1.3");
    assert_int_equal(ev.arg, 0);
    assert_false(fs38_channel_resumed(&ch));
    exchange(&ch, &s, true);
    /* a receive that times out is not a failure: no event, the channel stays usable */
    fs38_transport t;
    assert_int_equal(fs38_channel_transport(&ch, &t), FS38_OK);
    uint8_t buf[8];
    size_t n;
    unsigned events = ev.n;
    assert_int_equal(t.recv(t.ctx, buf, sizeof buf, &n, 50), FS38_ERR_TIMEOUT);
    assert_int_equal(t.recv(t.ctx, buf, sizeof buf, &n, 0), FS38_ERR_TIMEOUT);
    assert_int_equal(ev.n, events);
    exchange(&ch, &s, true);
    /* a stream send larger than one record goes out as several */
    static uint8_t big[10000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\n';
    assert_int_equal(t.send(t.ctx, big, sizeof big), FS38_OK);
    size_t have = 0;
    while (have < sizeof big) {
        uint8_t in[4096];
        assert_int_equal(t.recv(t.ctx, in, sizeof in, &n, 3000), FS38_OK);
        have += n;
    }
    assert_int_equal(have, sizeof big);
    fs38_channel_close(&ch);
    /* the server saw our certificate: its subject is the UEID */
    assert_true(file_has(s.p.log, g.ueid_hex, 2000));
    srv_stop(&s);
}

static void tls12_mutual(void **state)
{
    (void)state;
    srv s;
    srv_start(&s, false, SRV_PKI("-tls1_2", "srv.crt", "srv.key"), "-Verify", "1", "-rev", NULL);
    fs38_channel ch;
    fs38_channel_config c = cfg_cert(FS38_CHANNEL_TLS, s.port);
    expect_open(&ch, &c, "TLSv1.2");
    exchange(&ch, &s, true);
    fs38_channel_close(&ch);
    srv_stop(&s);
}

static void dtls12_mutual(void **state)
{
    (void)state;
    srv s;
    srv_start(&s, true, SRV_PKI("-dtls1_2", "srv.crt", "srv.key"), "-Verify", "1", NULL);
    fs38_channel ch;
    fs38_channel_config c = cfg_cert(FS38_CHANNEL_DTLS, s.port);
    expect_open(&ch, &c, "DTLSv1.2");
    assert_false(fs38_channel_cid(&ch)); /* OpenSSL 3.0 has no RFC 9146: the channel works without */
    exchange(&ch, &s, false);
    /* a datagram larger than one record is refused, not split; the channel stays open */
    fs38_transport t;
    assert_int_equal(fs38_channel_transport(&ch, &t), FS38_OK);
    assert_true(t.datagram);
    static uint8_t big[20000];
    assert_int_equal(t.send(t.ctx, big, sizeof big), FS38_ERR_BUFFER);
    exchange(&ch, &s, false);
    fs38_channel_close(&ch);
    srv_stop(&s);
}

/* Each policy suite works with a server that insists on it; a TLS 1.3 suite outside the policy
 * is refused. */
static void policy_suites(void **state)
{
    (void)state;
    struct {
        const char *ver, *opt, *val, *version, *suite;
    } v[] = {
        { "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-CCM8", "TLSv1.2", "TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8" },
        { "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "TLSv1.2", "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256" },
        { "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "TLSv1.3", "TLS1-3-AES-128-GCM-SHA256" },
        { "-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256", "TLSv1.3", "TLS1-3-CHACHA20-POLY1305-SHA256" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        srv s;
        srv_start(&s, false, SRV_PKI(v[i].ver, "srv.crt", "srv.key"), "-Verify", "1", v[i].opt, v[i].val, "-rev", NULL);
        fs38_channel ch;
        fs38_channel_config c = cfg_cert(FS38_CHANNEL_TLS, s.port);
        expect_open(&ch, &c, v[i].version);
        const char *suite;
        fs38_channel_info(&ch, NULL, &suite);
        assert_string_equal(suite, v[i].suite);
        exchange(&ch, &s, true);
        fs38_channel_close(&ch);
        srv_stop(&s);
    }
    srv s;
    srv_start(&s, false, SRV_PKI("-tls1_3", "srv.crt", "srv.key"), "-ciphersuites", "TLS_AES_256_GCM_SHA384", "-rev",
              NULL);
    fs38_channel ch;
    fs38_channel_config c = cfg_cert(FS38_CHANNEL_TLS, s.port);
    expect_refused(&ch, &c, FS38_ERR_TLS, "downgrade refused", FS38_EV_CHANNEL_REFUSED);
    srv_stop(&s);
}

/* ---- refusals ---- */

static void unknown_ca(void **state)
{
    (void)state;
    fs38_channel ch;
    srv s;
    srv_start(&s, false, "-cert", path("rogue.crt"), "-key", path("rogue.key"), "-tls1_3", "-Verify", "1", "-rev", NULL);
    fs38_channel_config c = cfg_cert(FS38_CHANNEL_TLS, s.port);
    expect_refused(&ch, &c, FS38_ERR_TLS, "server certificate: not signed by the fleet CA", FS38_EV_CHANNEL_REFUSED);
    srv_stop(&s);
    srv_start(&s, true, "-cert", path("rogue.crt"), "-key", path("rogue.key"), "-dtls1_2", NULL);
    c = cfg_cert(FS38_CHANNEL_DTLS, s.port);
    expect_refused(&ch, &c, FS38_ERR_TLS, "server certificate: not signed by the fleet CA", FS38_EV_CHANNEL_REFUSED);
    srv_stop(&s);
}

static void expired_and_not_yet_valid(void **state)
{
    (void)state;
    fs38_channel ch;
    srv s;
    srv_start(&s, false, SRV_PKI("-tls1_2", "exp.crt", "srv.key"), "-rev", NULL);
    fs38_channel_config c = cfg_cert(FS38_CHANNEL_TLS, s.port);
    expect_refused(&ch, &c, FS38_ERR_TLS, "server certificate: expired on 2021-01-01", FS38_EV_CHANNEL_REFUSED);
    srv_stop(&s);
    /* a valid certificate, but the port's clock says 2001: not yet valid */
    srv_start(&s, false, SRV_PKI("-tls1_3", "srv.crt", "srv.key"), "-rev", NULL);
    c = cfg_cert(FS38_CHANNEL_TLS, s.port);
    g.fake_now = 1000000000;
    expect_refused(&ch, &c, FS38_ERR_TLS, "server certificate: not valid before", FS38_EV_CHANNEL_REFUSED);
    /* ... and in 2200: expired (the port's clock decides, not the host's) */
    g.fake_now = 7258118400;
    expect_refused(&ch, &c, FS38_ERR_TLS, "server certificate: expired on", FS38_EV_CHANNEL_REFUSED);
    srv_stop(&s);
}

static void host_mismatch(void **state)
{
    (void)state;
    fs38_channel ch;
    srv s;
    srv_start(&s, false, SRV_PKI("-tls1_3", "other.crt", "other.key"), "-rev", NULL);
    fs38_channel_config c = cfg_cert(FS38_CHANNEL_TLS, s.port);
    expect_refused(&ch, &c, FS38_ERR_TLS, "host name mismatch: certificate is for other.example, not 127.0.0.1",
                   FS38_EV_CHANNEL_REFUSED);
    srv_stop(&s);
}

static void old_versions_refused(void **state)
{
    (void)state;
    const char *vers[] = { "-tls1_1", "-tls1" };
    for (size_t i = 0; i < 2; i++) {
        fs38_channel ch;
        srv s;
        srv_start(&s, false, SRV_PKI(vers[i], "srv.crt", "srv.key"), "-cipher", "DEFAULT:@SECLEVEL=0", "-rev", NULL);
        fs38_channel_config c = cfg_cert(FS38_CHANNEL_TLS, s.port);
        expect_refused(&ch, &c, FS38_ERR_TLS, "downgrade refused", FS38_EV_CHANNEL_REFUSED);
        srv_stop(&s);
    }
}

static void non_aead_suite_refused(void **state)
{
    (void)state;
    const char *suites[] = { "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES128-SHA" };
    for (size_t i = 0; i < 2; i++) {
        fs38_channel ch;
        srv s;
        srv_start(&s, false, SRV_PKI("-tls1_2", "srv.crt", "srv.key"), "-cipher", suites[i], "-rev", NULL);
        fs38_channel_config c = cfg_cert(FS38_CHANNEL_TLS, s.port);
        expect_refused(&ch, &c, FS38_ERR_TLS, "downgrade refused", FS38_EV_CHANNEL_REFUSED);
        srv_stop(&s);
    }
}

/* A server that does not ask for the device certificate: refused when the policy requires
 * mutual authentication, accepted when it does not (TLS 1.3, TLS 1.2 and DTLS: three different
 * ways of noticing). */
static void client_auth_required(void **state)
{
    (void)state;
    struct {
        const char *ver;
        bool udp;
        const char *version;
    } v[] = { { "-tls1_3", false, "TLSv1.3" }, { "-tls1_2", false, "TLSv1.2" }, { "-dtls1_2", true, "DTLSv1.2" } };
    for (size_t i = 0; i < 3; i++) {
        fs38_channel ch;
        srv s;
        if (v[i].udp)
            srv_start(&s, true, SRV_PKI(v[i].ver, "srv.crt", "srv.key"), NULL);
        else
            srv_start(&s, false, SRV_PKI(v[i].ver, "srv.crt", "srv.key"), "-rev", NULL);
        fs38_channel_config c = cfg_cert(v[i].udp ? FS38_CHANNEL_DTLS : FS38_CHANNEL_TLS, s.port);
        expect_refused(&ch, &c, FS38_ERR_TLS, "server did not request a client certificate", FS38_EV_CHANNEL_REFUSED);
        c.require_client_auth = false;
        expect_open(&ch, &c, v[i].version);
        fs38_channel_close(&ch);
        srv_stop(&s);
    }
}

/* ---- resumption ---- */

static void resume(fs38_channel_mode mode, const char *ver, const char *version)
{
    bool udp = mode == FS38_CHANNEL_DTLS;
    srv s;
    if (udp)
        srv_start(&s, true, SRV_PKI(ver, "srv.crt", "srv.key"), "-Verify", "1", NULL);
    else
        srv_start(&s, false, SRV_PKI(ver, "srv.crt", "srv.key"), "-Verify", "1", "-rev", NULL);
    static fs38_channel_session sess;
    fs38_channel ch;
    fs38_channel_config c = cfg_cert(mode, s.port);
    expect_open(&ch, &c, version);
    assert_false(fs38_channel_resumed(&ch));
    exchange(&ch, &s, !udp); /* TLS 1.3: the ticket arrives with the server's first records */
    assert_int_equal(fs38_channel_save_session(&ch, &sess), FS38_OK);
    assert_true(sess.len > 0);
    uint64_t full_tx, full_rx;
    fs38_channel_wire_bytes(&ch, &full_tx, &full_rx);
    fs38_channel_close(&ch);
    usleep(100000);
    c.session = &sess;
    memset(&ev, 0, sizeof ev);
    expect_open(&ch, &c, version);
    assert_true(fs38_channel_resumed(&ch));
    assert_int_equal(ev.arg, 1);
    uint64_t tx, rx;
    fs38_channel_wire_bytes(&ch, &tx, &rx);
    assert_true(rx < full_rx); /* no server certificate this time */
    exchange(&ch, &s, !udp);
    fs38_channel_close(&ch);
    fs38_wipe(&sess, sizeof sess);
    srv_stop(&s);
}

static void resume_tls13(void **state)
{
    (void)state;
    resume(FS38_CHANNEL_TLS, "-tls1_3", "TLSv1.3");
}
static void resume_tls12(void **state)
{
    (void)state;
    resume(FS38_CHANNEL_TLS, "-tls1_2", "TLSv1.2");
}
static void resume_dtls12(void **state)
{
    (void)state;
    resume(FS38_CHANNEL_DTLS, "-dtls1_2", "DTLSv1.2");
}

/* ---- PSK ---- */

static void psk_modes(void **state)
{
    (void)state;
    struct {
        const char *ver, *cipher;
        bool udp;
        const char *suite;
    } v[] = { { "-tls1_2", "PSK-AES128-CCM8", false, "TLS-PSK-WITH-AES-128-CCM-8" },
              { "-tls1_2", "PSK-AES128-GCM-SHA256", false, "TLS-PSK-WITH-AES-128-GCM-SHA256" },
              { "-dtls1_2", "PSK-AES128-CCM8", true, "TLS-PSK-WITH-AES-128-CCM-8" } };
    for (size_t i = 0; i < 3; i++) {
        srv s;
        srv_start(&s, v[i].udp, v[i].ver, "-nocert", "-psk", PSK_HEX, "-psk_identity", "fs38-dev", "-cipher",
                  v[i].cipher, v[i].udp ? NULL : "-rev", NULL);
        fs38_channel ch;
        fs38_channel_config c = cfg_psk(v[i].udp ? FS38_CHANNEL_DTLS : FS38_CHANNEL_TLS, s.port);
        expect_open(&ch, &c, v[i].udp ? "DTLSv1.2" : "TLSv1.2");
        const char *suite;
        fs38_channel_info(&ch, NULL, &suite);
        assert_string_equal(suite, v[i].suite);
        exchange(&ch, &s, !v[i].udp);
        fs38_channel_close(&ch);
        srv_stop(&s);
    }
    /* a server with another PSK: refused */
    srv s;
    srv_start(&s, false, "-tls1_2", "-nocert", "-psk", "ffeeddccbbaa99887766554433221100", "-psk_identity",
              "fs38-dev", "-cipher", "PSK-AES128-CCM8", "-rev", NULL);
    fs38_channel ch;
    fs38_channel_config c = cfg_psk(FS38_CHANNEL_TLS, s.port);
    expect_refused(&ch, &c, FS38_ERR_TLS, "", FS38_EV_CHANNEL_REFUSED);
    srv_stop(&s);
}

/* TLS 1.3 resumption key exchange modes (RFC 8446 §4.2.9). The default resumes with psk_dhe_ke
 * (the server's key_share in its ServerHello); tls13_psk_only resumes with psk_ke against a
 * server that allows it (no key_share: 69 bytes fewer from the server), and gets a full
 * handshake from a server that does not. Returns the server's bytes of the resumed handshake. */
static uint64_t resume13_rx(bool psk_only, bool server_allows, bool want_resumed)
{
    srv s;
    if (server_allows)
        srv_start(&s, false, SRV_PKI("-tls1_3", "srv.crt", "srv.key"), "-Verify", "1", "-allow_no_dhe_kex", "-rev",
                  NULL);
    else
        srv_start(&s, false, SRV_PKI("-tls1_3", "srv.crt", "srv.key"), "-Verify", "1", "-rev", NULL);
    static fs38_channel_session sess;
    fs38_channel ch;
    fs38_channel_config c = cfg_cert(FS38_CHANNEL_TLS, s.port);
    c.tls13_psk_only = psk_only;
    expect_open(&ch, &c, "TLSv1.3");
    assert_false(fs38_channel_resumed(&ch));
    exchange(&ch, &s, true);
    assert_int_equal(fs38_channel_save_session(&ch, &sess), FS38_OK);
    fs38_channel_close(&ch);
    usleep(100000);
    c.session = &sess;
    memset(&ev, 0, sizeof ev);
    expect_open(&ch, &c, "TLSv1.3");
    assert_int_equal(fs38_channel_resumed(&ch), want_resumed);
    assert_int_equal(ev.arg, want_resumed ? 1 : 0);
    uint64_t rx;
    fs38_channel_wire_bytes(&ch, NULL, &rx);
    exchange(&ch, &s, true);
    fs38_channel_close(&ch);
    fs38_wipe(&sess, sizeof sess);
    srv_stop(&s);
    return rx;
}

static void resume_tls13_modes(void **state)
{
    (void)state;
    uint64_t dhe = resume13_rx(false, true, true);
    uint64_t ke = resume13_rx(true, true, true);
    print_message("resumed TLS 1.3: server sent %u B with psk_dhe_ke, %u B with psk_ke\n", (unsigned)dhe,
                  (unsigned)ke);
    assert_true(ke + 65 <= dhe); /* no ECDHE share (P-256 point) in the psk_ke ServerHello */
    /* the default never offers psk_ke: a server allowing it still resumes with psk_dhe_ke */
    assert_true(resume13_rx(false, true, true) >= ke + 65);
    /* a server that does not allow psk_ke (OpenSSL's default): a full handshake, not a failure */
    resume13_rx(true, false, false);
}

/* TLS 1.3 with an external PSK (psk_tls13) held as a persistent PSA key (the sealed store):
 * psk_dhe_ke by default, psk_ke with tls13_psk_only; a non-exportable key is refused up front,
 * a wrong PSK is refused by the handshake, a TLS 1.2-only PSK server still gets TLS 1.2. */
static void psk_tls13(void **state)
{
    (void)state;
    uint64_t rx[2];
    for (int ke = 0; ke < 2; ke++) {
        srv s;
        srv_start(&s, false, "-tls1_3", "-nocert", "-psk", PSK_HEX, "-psk_identity", "fs38-dev", "-allow_no_dhe_kex",
                  "-rev", NULL);
        fs38_channel ch;
        fs38_channel_config c = cfg_psk(FS38_CHANNEL_TLS, s.port);
        c.psk = PSK13_KEY;
        c.psk_tls13 = true;
        c.tls13_psk_only = ke == 1;
        expect_open(&ch, &c, "TLSv1.3");
        const char *suite;
        fs38_channel_info(&ch, NULL, &suite);
        assert_string_equal(suite, "TLS1-3-AES-128-GCM-SHA256");
        assert_false(fs38_channel_resumed(&ch));
        fs38_channel_wire_bytes(&ch, NULL, &rx[ke]);
        exchange(&ch, &s, true);
        fs38_channel_close(&ch);
        srv_stop(&s);
    }
    print_message("TLS 1.3 external PSK: server sent %u B (psk_dhe_ke), %u B (psk_ke)\n", (unsigned)rx[0],
                  (unsigned)rx[1]);
    assert_true(rx[1] + 65 <= rx[0]);
    /* the TLS 1.2 PSK server: TLS 1.2 negotiated (minimum TLS 1.2 is the policy) */
    srv s;
    srv_start(&s, false, "-tls1_2", "-nocert", "-psk", PSK_HEX, "-psk_identity", "fs38-dev", "-cipher",
              "PSK-AES128-GCM-SHA256", "-rev", NULL);
    fs38_channel ch;
    fs38_channel_config c = cfg_psk(FS38_CHANNEL_TLS, s.port);
    c.psk = PSK13_KEY;
    c.psk_tls13 = true;
    expect_open(&ch, &c, "TLSv1.2");
    exchange(&ch, &s, true);
    fs38_channel_close(&ch);
    srv_stop(&s);
    /* another PSK on the server: refused */
    srv_start(&s, false, "-tls1_3", "-nocert", "-psk", "ffeeddccbbaa99887766554433221100", "-psk_identity",
              "fs38-dev", "-rev", NULL);
    c = cfg_psk(FS38_CHANNEL_TLS, s.port);
    c.psk = PSK13_KEY;
    c.psk_tls13 = true;
    expect_refused(&ch, &c, FS38_ERR_TLS, "", FS38_EV_CHANNEL_REFUSED);
    srv_stop(&s);
    /* the TLS 1.2-style key (no export usage), DTLS, or no PSK at all: refused before connecting */
    c = cfg_psk(FS38_CHANNEL_TLS, 1);
    c.psk_tls13 = true;
    assert_int_equal(fs38_channel_open(&ch, &c), FS38_ERR_ARG);
    assert_non_null(strstr(ch.diag.msg, "PSA_KEY_USAGE_EXPORT"));
    fs38_channel_close(&ch);
    c = cfg_psk(FS38_CHANNEL_DTLS, 1);
    c.psk = PSK13_KEY;
    c.psk_tls13 = true;
    assert_int_equal(fs38_channel_open(&ch, &c), FS38_ERR_ARG);
    fs38_channel_close(&ch);
    c = cfg_cert(FS38_CHANNEL_TLS, 1);
    c.psk_tls13 = true;
    assert_int_equal(fs38_channel_open(&ch, &c), FS38_ERR_ARG);
    fs38_channel_close(&ch);
}

/* ---- forged and truncated records on an open channel ---- */

static void forged_and_truncated(void **state)
{
    (void)state;
    for (int mode = 0; mode < 3; mode++) {
        bool udp = mode == 2;
        srv s;
        if (udp)
            srv_start(&s, true, SRV_PKI("-dtls1_2", "srv.crt", "srv.key"), "-Verify", "1", NULL);
        else
            srv_start(&s, false, SRV_PKI("-tls1_3", "srv.crt", "srv.key"), "-Verify", "1", "-rev", NULL);
        fs38_channel ch;
        fs38_channel_config c = cfg_cert(udp ? FS38_CHANNEL_DTLS : FS38_CHANNEL_TLS, s.port);
        expect_open(&ch, &c, udp ? "DTLSv1.2" : "TLSv1.3");
        exchange(&ch, &s, !udp);
        fs38_transport t;
        assert_int_equal(fs38_channel_transport(&ch, &t), FS38_OK);
        assert_int_equal(t.send(t.ctx, (const uint8_t *)"again\n", 6), FS38_OK);
        if (udp) {
            assert_true(file_has(s.p.log, "again", 3000));
            assert_int_equal(write(s.p.in, "reply\n", 6), 6);
        }
        g_tamper = mode == 1 ? T_CUT : T_FLIP;
        memset(&ev, 0, sizeof ev);
        uint8_t buf[64];
        size_t n = 99;
        fs38_err e = t.recv(t.ctx, buf, sizeof buf, &n, 3000);
        assert_int_equal(e, FS38_ERR_TLS);
        assert_int_equal(n, 0); /* nothing delivered */
        assert_int_equal(ev.code, FS38_EV_CHANNEL_FAILED);
        assert_int_equal(ev.arg, FS38_ERR_TLS);
        assert_non_null(strstr(ch.diag.msg, mode == 1 ? "truncated" : "forged"));
        /* closed: nothing more goes through */
        assert_int_equal(t.send(t.ctx, (const uint8_t *)"x", 1), FS38_ERR_CLOSED);
        assert_int_equal(t.recv(t.ctx, buf, sizeof buf, &n, 10), FS38_ERR_CLOSED);
        fs38_channel_close(&ch);
        g_tamper = T_NONE;
        srv_stop(&s);
    }
}

/* ---- a second, independent server with RFC 9146: Mbed TLS's own ssl_server2 ----
 * OpenSSL 3.0 implements no DTLS Connection ID, so CID is negotiated here with the reference
 * server program of the Mbed TLS source tree (built from its unmodified source by
 * tests/CMakeLists.txt, with fs38's Mbed TLS configuration): the fleet PKI, the device
 * certificate required (auth_mode=required). It answers each request line with an HTTP-like
 * page naming the suite, then sends close_notify and waits for the next connection. */
#ifdef FS38_SSL_SERVER2

static void s2_start(srv *s, bool udp, const char *arg0, ...)
{
    static char a_port[32], a_crt[300], a_key[300], a_ca[300];
    s->port = free_port(udp);
    snprintf(a_port, sizeof a_port, "server_port=%u", (unsigned)s->port);
    snprintf(a_crt, sizeof a_crt, "crt_file=%s", path("srv.crt"));
    snprintf(a_key, sizeof a_key, "key_file=%s", path("srv.key"));
    snprintf(a_ca, sizeof a_ca, "ca_file=%s", path("ca/ca.crt"));
    const char *argv[40] = { FS38_SSL_SERVER2, "server_addr=127.0.0.1", a_port, a_crt, a_key, a_ca,
                             udp ? "dtls=1" : "dtls=0" };
    size_t n = 7;
    va_list ap;
    va_start(ap, arg0);
    for (const char *a = arg0; a && n < 38; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    srv_exec(s, argv, "Waiting for a remote connection");
}

/* The first record header of the request (what the device put on the wire). */
static uint8_t g_req_hdr[16];

/* One request line; the answer names the negotiated suite; the server logged our bytes. */
static void s2_exchange(fs38_channel *ch, srv *s, const char *suite)
{
    fs38_transport t;
    assert_int_equal(fs38_channel_transport(ch, &t), FS38_OK);
    char msg[48];
    snprintf(msg, sizeof msg, "fs38-cid-%u\n", (unsigned)s->port);
    memset(g_last_tx, 0, sizeof g_last_tx);
    assert_int_equal(t.send(t.ctx, (const uint8_t *)msg, strlen(msg)), FS38_OK);
    memcpy(g_req_hdr, g_last_tx, sizeof g_req_hdr);
    static char got[2048];
    size_t have = 0, n = 0;
    got[0] = '\0';
    while (!strstr(got, "</p>\r\n")) {
        fs38_err e = t.recv(t.ctx, (uint8_t *)got + have, sizeof got - 1 - have, &n, 3000);
        if (e != FS38_OK)
            fail_msg("recv: %s (%s) after '%s'", fs38_strerror(e), ch->diag.msg, got);
        have += n;
        got[have] = '\0';
    }
    char want[160];
    snprintf(want, sizeof want, "Successful connection using: %s</p>", suite);
    if (!strstr(got, want))
        fail_msg("ssl_server2 answered '%s', want '%s'", got, want);
    msg[strlen(msg) - 1] = '\0';
    assert_true(file_has(s->p.log, msg, 3000)); /* the server decrypted our bytes */
}

#define MSG_CID 25 /* RFC 9146 tls12_cid content type */
#define MSG_APP 23

static void dtls12_cid(void **state)
{
    (void)state;
    srv s;
    s2_start(&s, true, "force_version=dtls12", "auth_mode=required", "cid=1", "cid_val=c1d0f5", NULL);
    static fs38_channel_session sess;
    fs38_channel ch;
    fs38_channel_config c = cfg_cert(FS38_CHANNEL_DTLS, s.port);
    expect_open(&ch, &c, "DTLSv1.2");
    assert_true(fs38_channel_cid(&ch));
    assert_int_equal(fs38_channel_save_session(&ch, &sess), FS38_OK);
    s2_exchange(&ch, &s, "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256");
    /* on the wire: the request is a tls12_cid record carrying the server's CID after the
     * 11-byte type / version / epoch / sequence number header */
    assert_int_equal(g_req_hdr[0], MSG_CID);
    static const uint8_t cid[3] = { 0xc1, 0xd0, 0xf5 };
    assert_memory_equal(g_req_hdr + 11, cid, sizeof cid);
    /* and the server says so, with the empty CID the device asked for */
    assert_true(file_has(s.p.log, "Use of Connection ID has been negotiated", 2000));
    assert_true(file_has(s.p.log, "Peer CID (length 0 Bytes)", 2000));
    /* the server verified the device certificate (auth_mode=required) */
    assert_true(file_has(s.p.log, "Verifying peer X.509 certificate... ok", 0));
    assert_true(file_has(s.p.log, g.ueid_hex, 0)); /* its subject: CN = the UEID */
    fs38_channel_close(&ch);
    /* a resumed handshake keeps the CID */
    usleep(200000);
    c.session = &sess;
    memset(&ev, 0, sizeof ev);
    expect_open(&ch, &c, "DTLSv1.2");
    assert_true(fs38_channel_resumed(&ch));
    assert_true(fs38_channel_cid(&ch));
    s2_exchange(&ch, &s, "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256");
    assert_int_equal(g_req_hdr[0], MSG_CID);
    assert_memory_equal(g_req_hdr + 11, cid, sizeof cid);
    fs38_channel_close(&ch);
    fs38_wipe(&sess, sizeof sess);
    srv_stop(&s);
}

/* Without CID support on the server (cid=0) or without the device's offer: no CID, and the
 * channel works with plain application_data records. */
static void dtls12_no_cid(void **state)
{
    (void)state;
    srv s;
    s2_start(&s, true, "force_version=dtls12", "auth_mode=required", "cid=0", NULL);
    fs38_channel ch;
    fs38_channel_config c = cfg_cert(FS38_CHANNEL_DTLS, s.port);
    expect_open(&ch, &c, "DTLSv1.2");
    assert_false(fs38_channel_cid(&ch));
    s2_exchange(&ch, &s, "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256");
    assert_int_equal(g_req_hdr[0], MSG_APP);
    fs38_channel_close(&ch);
    srv_stop(&s);
    s2_start(&s, true, "force_version=dtls12", "auth_mode=required", "cid=1", "cid_val=c1d0f5", NULL);
    c = cfg_cert(FS38_CHANNEL_DTLS, s.port);
    c.dtls_no_cid = true;
    expect_open(&ch, &c, "DTLSv1.2");
    assert_false(fs38_channel_cid(&ch));
    s2_exchange(&ch, &s, "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256");
    assert_int_equal(g_req_hdr[0], MSG_APP);
    assert_true(file_has(s.p.log, "Use of Connection ID was not offered by client", 2000));
    fs38_channel_close(&ch);
    srv_stop(&s);
}

/* TLS 1.3 with ssl_server2: mutual authentication, a ticket, a resumed handshake; a server that
 * does not ask for the device certificate is refused. */
static void tls13_ssl_server2(void **state)
{
    (void)state;
    srv s;
    s2_start(&s, false, "force_version=tls13", "auth_mode=required", NULL);
    static fs38_channel_session sess;
    fs38_channel ch;
    fs38_channel_config c = cfg_cert(FS38_CHANNEL_TLS, s.port);
    expect_open(&ch, &c, "TLSv1.3");
    assert_false(fs38_channel_cid(&ch));
    s2_exchange(&ch, &s, "TLS1-3-AES-128-GCM-SHA256");
    assert_int_equal(fs38_channel_save_session(&ch, &sess), FS38_OK);
    fs38_channel_close(&ch);
    usleep(100000);
    c.session = &sess;
    expect_open(&ch, &c, "TLSv1.3");
    assert_true(fs38_channel_resumed(&ch));
    s2_exchange(&ch, &s, "TLS1-3-AES-128-GCM-SHA256");
    fs38_channel_close(&ch);
    fs38_wipe(&sess, sizeof sess);
    srv_stop(&s);
    s2_start(&s, false, "force_version=tls13", "auth_mode=none", NULL);
    c = cfg_cert(FS38_CHANNEL_TLS, s.port);
    expect_refused(&ch, &c, FS38_ERR_TLS, "server did not request a client certificate", FS38_EV_CHANNEL_REFUSED);
    srv_stop(&s);
}
#endif /* FS38_SSL_SERVER2 */

/* ---- configuration errors ---- */

static fs38_err no_sign(const fs38_key *k, const uint8_t hash[32], uint8_t sig[64])
{
    (void)k;
    (void)hash;
    (void)sig;
    return FS38_ERR_IO;
}

/* The device key given through the key interface (fs38/keys.h): a PSA key authenticates the
 * device as the key id does; a key kept outside PSA is refused before anything is sent. */
static void device_key_interface(void **state)
{
    (void)state;
    srv s;
    srv_start(&s, false, SRV_PKI("-tls1_3", "srv.crt", "srv.key"), "-Verify", "1", "-rev", NULL);
    fs38_channel ch;
    fs38_channel_config c = cfg_cert(FS38_CHANNEL_TLS, s.port);
    const fs38_key *dk = NULL;
    assert_int_equal(fs38_identity_device_key(&g.id, &dk), FS38_OK);
    c.device_key = dk;
    c.key = 0;
    expect_open(&ch, &c, "TLSv1.3");
    exchange(&ch, &s, true);
    fs38_channel_close(&ch);
    assert_true(file_has(s.p.log, g.ueid_hex, 2000)); /* the server saw the certificate */
    srv_stop(&s);
    static const fs38_key_ops other_ops = { no_sign, NULL, NULL, NULL, NULL, NULL };
    const fs38_key other = { &other_ops, NULL, 0x81380001u };
    c.device_key = &other;
    assert_int_equal(fs38_channel_open(&ch, &c), FS38_ERR_UNSUPPORTED_ALG);
    assert_non_null(strstr(ch.diag.msg, "outside PSA"));
    fs38_channel_close(&ch);
}

static void bad_config(void **state)
{
    (void)state;
    fs38_channel ch;
    fs38_channel_config c = cfg_cert(FS38_CHANNEL_TLS, 0);
    assert_int_equal(fs38_channel_open(&ch, &c), FS38_ERR_ARG);
    fs38_channel_close(&ch);
    c = cfg_cert(FS38_CHANNEL_TLS, 1);
    c.ca_len = 10;
    assert_int_equal(fs38_channel_open(&ch, &c), FS38_ERR_ARG);
    assert_non_null(strstr(ch.diag.msg, "fleet CA"));
    fs38_channel_close(&ch);
    /* nobody listening: a network failure, raised as an event */
    c = cfg_cert(FS38_CHANNEL_TLS, free_port(false));
    expect_refused(&ch, &c, FS38_ERR_NET, "cannot connect", FS38_EV_CHANNEL_FAILED);
    /* DTLS to a port nobody listens on: ICMP port unreachable ends it (no endless retries) */
    c = cfg_cert(FS38_CHANNEL_DTLS, free_port(true));
    memset(&ev, 0, sizeof ev);
    fs38_err e = fs38_channel_open(&ch, &c);
    assert_true(e == FS38_ERR_NET || e == FS38_ERR_TIMEOUT);
    assert_int_equal(ev.code, FS38_EV_CHANNEL_FAILED);
    assert_int_equal(ev.arg, (int64_t)e);
    fs38_channel_close(&ch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(tls13_mutual, each),
        cmocka_unit_test_setup(tls12_mutual, each),
        cmocka_unit_test_setup(dtls12_mutual, each),
        cmocka_unit_test_setup(policy_suites, each),
        cmocka_unit_test_setup(unknown_ca, each),
        cmocka_unit_test_setup(expired_and_not_yet_valid, each),
        cmocka_unit_test_setup(host_mismatch, each),
        cmocka_unit_test_setup(old_versions_refused, each),
        cmocka_unit_test_setup(non_aead_suite_refused, each),
        cmocka_unit_test_setup(client_auth_required, each),
        cmocka_unit_test_setup(resume_tls13, each),
        cmocka_unit_test_setup(resume_tls12, each),
        cmocka_unit_test_setup(resume_dtls12, each),
        cmocka_unit_test_setup(psk_modes, each),
        cmocka_unit_test_setup(resume_tls13_modes, each),
        cmocka_unit_test_setup(psk_tls13, each),
        cmocka_unit_test_setup(forged_and_truncated, each),
        cmocka_unit_test_setup(bad_config, each),
        cmocka_unit_test_setup(device_key_interface, each),
#ifdef FS38_SSL_SERVER2
        cmocka_unit_test_setup(dtls12_cid, each),
        cmocka_unit_test_setup(dtls12_no_cid, each),
        cmocka_unit_test_setup(tls13_ssl_server2, each),
#endif
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, setup, teardown);
}
