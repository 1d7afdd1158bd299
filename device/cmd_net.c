/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_net.c — fs38-device's network commands (control 4), over libfs38's secure channel:
 *
 *   fetch URL --ca SERVER_CA.pem --out FILE
 *        URL coaps://host:port/path: CoAP over DTLS 1.2, Block2 block-wise; FILE written
 *        atomically (complete, or not at all)
 *   update --from ENV_URL --payload-from PAYLOAD_URL --ca SERVER_CA.pem [--power-cut K]
 *        (parsed in cmd_update.c) the envelope fetched into RAM, then the payload streamed block
 *        by block into the update agent from its resume offset (CoAP Block2 start offset)
 *   log push URL --ca SERVER_CA.pem [--file EXPORT] [--since SEQ] [--topic TOPIC]
 *        a log export batch to mqtts://host:port (TLS; topic fs38/<ueid>/log, QoS 1, client
 *        id = UEID hex) or coaps://host:port/path (POST, Block1)
 *
 * Shared options: --ca SERVER_CA.pem (the fleet CA the server's certificate must chain to;
 * its host name is checked against the URL's host), --timeout MS (handshake and every wait;
 * default 10000), --client-auth required|optional (default required: a server that does not
 * ask for the device certificate is refused), --qblock2 (CoAP downloads ask for RFC 9177
 * Q-Block2: the server pushes sets of 10 blocks, one request per set; a set is held in a 10 KiB
 * buffer and handed on once the request for the next one has gone out; a server without Q-Block
 * gets Block2, fs38/coap.h), --psk-id ID --psk FILE (PSK mode: FILE holds the
 * key as hex, 16..64 bytes; it is imported into the sealed store as a persistent PSA key,
 * DEV_KEY_PSK, and the file is not needed again: --psk-id alone uses the stored key).
 *
 * In certificate mode the device authenticates with its certificate (install-cert) and its
 * identity key DEV_KEY_IDENTITY as an opaque PSA key: the key never leaves the store. Every
 * refusal and failure of the channel is a security event in the device's log.
 * Exit status: net.h.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "fs38/channel.h"
#include "fs38/coap.h"
#include "fs38/identity.h"
#include "fs38/log.h"
#include "fs38/mqtt.h"
#include "fs38/util.h"
#include "keys.h"
#include "net.h"

#define NET_TIMEOUT_DEFAULT 10000u
#define ENV_CAP (256u * 1024u) /* largest envelope fetched */
#define MQTT_BUF 4096u

static fs38_identity g_nid;
static fs38_channel g_ch;
static fs38_coap_client g_coap;
static fs38_mqtt g_mqtt;
static uint8_t g_set_buf[FS38_COAP_MAX_PAYLOADS * 1024u]; /* --qblock2: one set of 1 KiB blocks */

/* ---- options, exit status -------------------------------------------------------------------- */

int net_opts_check(const char *cmd, net_opts *o)
{
    char what[96];
    uint64_t t = NET_TIMEOUT_DEFAULT;
    snprintf(what, sizeof what, "%s --timeout (milliseconds)", cmd);
    if (o->timeout && host_parse_u64(what, o->timeout, 100, 600000, 0, &t))
        return -1;
    o->timeout_ms = (uint32_t)t;
    o->client_auth_optional = false;
    if (o->client_auth) {
        if (strcmp(o->client_auth, "optional") == 0) {
            o->client_auth_optional = true;
        } else if (strcmp(o->client_auth, "required") != 0) {
            host_err("%s: --client-auth must be 'required' or 'optional'", cmd);
            return -1;
        }
    }
    if (o->psk && !o->psk_id) {
        host_err("%s: --psk FILE needs --psk-id ID", cmd);
        return -1;
    }
    if (o->psk_id && (strlen(o->psk_id) < 1 || strlen(o->psk_id) > 128)) {
        host_err("%s: --psk-id must be 1 to 128 characters", cmd);
        return -1;
    }
    if (!o->psk_id && !o->ca) {
        host_err("%s: --ca SERVER_CA.pem is required (or --psk-id ID [--psk FILE] for PSK mode)", cmd);
        return -1;
    }
    return 0;
}

int net_exit(fs38_err e)
{
    switch (e) {
    case FS38_OK:
        return HOST_EXIT_OK;
    case FS38_ERR_NET:
    case FS38_ERR_TIMEOUT:
    case FS38_ERR_CLOSED:
        return NET_EXIT_NET;
    case FS38_ERR_ARG:
    case FS38_ERR_IO:
    case FS38_ERR_CRYPTO:
    case FS38_ERR_STATE:
    case FS38_ERR_NOT_FOUND:
    case FS38_ERR_STORE_CORRUPT:
    case FS38_ERR_STORE_ROLLBACK:
    case FS38_ERR_STORE_FULL:
        return HOST_EXIT_USAGE;
    default:
        return HOST_EXIT_REJECT; /* TLS, PEER, PROTOCOL, LIMIT, ... and the update agent's refusals */
    }
}

/* ---- the channel ----------------------------------------------------------------------------- */


static const char *mode_name(fs38_channel_mode m)
{
    return m == FS38_CHANNEL_DTLS ? "DTLS" : "TLS";
}

/* Import the PSK (hex in path) into the sealed store as DEV_KEY_PSK, replacing any. 0 or -1. */
static int psk_import(const char *cmd, const char *path)
{
    uint8_t *text = NULL, key[64];
    size_t len = 0, n = 0;
    if (host_read_file(path, 4096, &text, &len))
        return -1;
    while (len && isspace(text[len - 1]))
        len--;
    size_t start = 0;
    while (start < len && isspace(text[start]))
        start++;
    char hex[129];
    n = (len - start) / 2;
    int rc = -1;
    if ((len - start) % 2 || n < 16 || n > sizeof key) {
        host_err("%s: --psk %s must hold the key as 32 to 128 hex digits", cmd, path);
        goto out;
    }
    memcpy(hex, text + start, 2 * n);
    hex[2 * n] = 0;
    if (host_unhex(hex, key, n)) {
        host_err("%s: --psk %s must hold the key as 32 to 128 hex digits", cmd, path);
        goto out;
    }
    psa_destroy_key(DEV_KEY_PSK);
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_id(&at, DEV_KEY_PSK);
    psa_set_key_lifetime(&at, PSA_KEY_LIFETIME_PERSISTENT);
    psa_set_key_type(&at, PSA_KEY_TYPE_DERIVE);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&at, PSA_ALG_TLS12_PSK_TO_MS(PSA_ALG_SHA_256));
    psa_key_id_t id = 0;
    psa_status_t st = psa_import_key(&at, key, n, &id);
    if (st != PSA_SUCCESS) {
        host_err("%s: storing the PSK in the sealed store failed (PSA %d)", cmd, (int)st);
        goto out;
    }
    rc = 0;
out:
    fs38_wipe(key, sizeof key);
    fs38_wipe(hex, sizeof hex);
    if (text) {
        fs38_wipe(text, len);
        free(text);
    }
    return rc;
}

/* Everything the channel needs from the device: CA, certificate and key id, or the PSK; the
 * UEID. On an opened device. Exit status (0 ok; message printed otherwise). */
int net_prepare(net_ctx *n, device *d, const net_opts *o, const char *cmd)
{
    memset(n, 0, sizeof *n);
    n->d = d;
    n->o = o;
    fs38_posix_net(&n->net);
    if (device_keys_open(d))
        return HOST_EXIT_USAGE;
    fs38_err e = device_identity_init(d, &g_nid) ? FS38_ERR_ARG : FS38_OK; /* the key may be in a TPM */
    if (e == FS38_OK)
        e = fs38_identity_ueid(&g_nid, n->ueid);
    if (e != FS38_OK) {
        fprintf(stderr, "%s: refused: the device has no identity (provision it first): %s\n", cmd,
                g_nid.diag.msg[0] ? g_nid.diag.msg : fs38_strerror(e));
        return HOST_EXIT_REJECT;
    }
    host_hex(n->ueid, sizeof n->ueid, n->ueid_hex);
    if (o->psk_id) {
        n->psk_mode = true;
        if (o->psk && psk_import(cmd, o->psk))
            return HOST_EXIT_USAGE;
        n->psk_new = o->psk != NULL;
        psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
        const bool have = psa_get_key_attributes(DEV_KEY_PSK, &at) == PSA_SUCCESS;
        psa_reset_key_attributes(&at);
        if (!have) {
            host_err("%s: no PSK in the sealed store (give --psk FILE once)", cmd);
            return HOST_EXIT_USAGE;
        }
        return HOST_EXIT_OK;
    }
    if (host_read_file(o->ca, 1u << 20, &n->ca, &n->ca_len))
        return HOST_EXIT_USAGE;
    /* PEM is parsed by Mbed TLS with its final NUL counted */
    uint8_t *z = realloc(n->ca, n->ca_len + 1);
    if (!z) {
        host_err("%s: out of memory", cmd);
        return HOST_EXIT_USAGE;
    }
    n->ca = z;
    n->ca[n->ca_len] = 0;
    if (strstr((const char *)n->ca, "-----BEGIN"))
        n->ca_len++;
    n->cert = malloc(FS38_CERT_MAX);
    if (!n->cert) {
        host_err("%s: out of memory", cmd);
        return HOST_EXIT_USAGE;
    }
    e = fs38_identity_cert(&g_nid, n->cert, FS38_CERT_MAX, &n->cert_len);
    if (e == FS38_OK)
        e = fs38_identity_device_key(&g_nid, &n->key);
    if (e == FS38_OK && d->tpm_on) {
        /* Mbed TLS signs with PSA key ids: the TPM's key as one (tpm_se.c, PSA SE driver) */
        static fs38_key tls_key;
        psa_key_id_t id = 0;
        if (device_tpm_tls_key(d, &id) || fs38_key_psa(&tls_key, id) != FS38_OK)
            return HOST_EXIT_USAGE;
        n->key = &tls_key;
    }
    if (e != FS38_OK) {
        fprintf(stderr, "%s: refused: the device has no certificate to authenticate with (install-cert): %s\n",
                cmd, g_nid.diag.msg[0] ? g_nid.diag.msg : fs38_strerror(e));
        return HOST_EXIT_REJECT;
    }
    return HOST_EXIT_OK;
}

/* ---- the session across runs ---------------------------------------------------------------------
 * A reconnect after a restart resumes (no certificate verification, no ECDHE-ECDSA signature:
 * fs38/channel.h): the channel's session (TLS 1.3 ticket, TLS / DTLS 1.2 session) is kept in
 * the sealed store, nowhere else, under "net/s/<id>.<part>" (two records of at most
 * FS38_STORE_VALUE_MAX bytes), <id> the first 8 bytes of SHA-256 over the mode, host, port
 * and what the server is trusted with (the fleet CA and the device certificate, or the PSK
 * identity), so another server, CA or identity never gets this session offered. Its copy in
 * RAM is wiped after every use. Best effort: a session that cannot be read or written means a
 * full handshake next time, never a failure. */
static fs38_channel_session g_sess;

static void sess_id(net_ctx *n, const char *host, uint16_t port, fs38_channel_mode mode)
{
    uint8_t h[32], p[3] = { (uint8_t)mode, (uint8_t)(port >> 8), (uint8_t)port };
    size_t hl = 0;
    psa_hash_operation_t op = PSA_HASH_OPERATION_INIT;
    bool ok = psa_hash_setup(&op, PSA_ALG_SHA_256) == PSA_SUCCESS &&
              psa_hash_update(&op, p, sizeof p) == PSA_SUCCESS &&
              psa_hash_update(&op, (const uint8_t *)host, strlen(host) + 1u) == PSA_SUCCESS;
    if (ok && n->psk_mode)
        ok = psa_hash_update(&op, (const uint8_t *)n->o->psk_id, strlen(n->o->psk_id)) == PSA_SUCCESS;
    else if (ok)
        ok = psa_hash_update(&op, n->ca, n->ca_len) == PSA_SUCCESS &&
             psa_hash_update(&op, n->cert, n->cert_len) == PSA_SUCCESS;
    ok = ok && psa_hash_finish(&op, h, sizeof h, &hl) == PSA_SUCCESS;
    psa_hash_abort(&op);
    n->sess_name[0] = '\0';
    if (ok) {
        char hex[17];
        host_hex(h, 8, hex);
        snprintf(n->sess_name, sizeof n->sess_name, "net/s/%s", hex);
    }
}

static void sess_part(const net_ctx *n, unsigned part, char name[FS38_STORE_NAME_MAX + 1u])
{
    snprintf(name, FS38_STORE_NAME_MAX + 1u, "%s.%c", n->sess_name, (char)('0' + (part & 1u)));
}

/* The stored session into g_sess (len 0 when there is none or it does not read back). */
static void sess_load(net_ctx *n)
{
    g_sess.len = 0;
    if (!n->sess_name[0] || n->psk_new)
        return;
    size_t have = 0;
    for (unsigned part = 0; part < 2; part++) {
        char name[FS38_STORE_NAME_MAX + 1u];
        size_t len = 0;
        sess_part(n, part, name);
        fs38_err e = fs38_store_get(&n->d->store, name, g_sess.data + have, sizeof g_sess.data - have, &len);
        if (e == FS38_ERR_NOT_FOUND)
            break;
        if (e != FS38_OK) {
            have = 0;
            break;
        }
        have += len;
        if (len < FS38_STORE_VALUE_MAX)
            break;
    }
    g_sess.len = (uint16_t)have;
}

static void sess_forget(net_ctx *n)
{
    for (unsigned part = 0; n->sess_name[0] && part < 2; part++) {
        char name[FS38_STORE_NAME_MAX + 1u];
        sess_part(n, part, name);
        if (fs38_store_delete(&n->d->store, name) != FS38_OK)
            break; /* best effort (e.g. after a simulated power cut) */
    }
}

/* The open channel's session (a TLS 1.3 ticket arrives with the server's first records: saved
 * when the channel closes) into the sealed store. */
static void sess_save(net_ctx *n)
{
    if (!n->sess_name[0])
        return;
    fs38_err e = fs38_channel_save_session(&g_ch, &g_sess);
    if (e == FS38_OK) {
        size_t off = 0;
        for (unsigned part = 0; part < 2 && e == FS38_OK; part++) {
            char name[FS38_STORE_NAME_MAX + 1u];
            size_t len = g_sess.len - off < FS38_STORE_VALUE_MAX ? g_sess.len - off : FS38_STORE_VALUE_MAX;
            sess_part(n, part, name);
            if (part == 1 && off == g_sess.len && len == 0)
                e = fs38_store_delete(&n->d->store, name);
            else
                e = fs38_store_put(&n->d->store, name, g_sess.data + off, len);
            off += len;
        }
        if (e != FS38_OK || off != g_sess.len)
            sess_forget(n); /* no half-written session */
    }
    /* FS38_ERR_NOT_FOUND: nothing new (a TLS 1.3 resumption without a new ticket): the stored
     * one stays */
    fs38_wipe(&g_sess, sizeof g_sess);
}

void net_disconnect(net_ctx *n)
{
    if (n->open) {
        sess_save(n);
        fs38_channel_close(&g_ch);
    }
    n->open = false;
}

void net_release(net_ctx *n)
{
    net_disconnect(n);
    free(n->ca);
    free(n->cert);
    n->ca = n->cert = NULL;
}

/* Open the channel to host:port (reused when it is open to the same place). */
FS38_NODISCARD fs38_err net_connect(net_ctx *n, const char *host, uint16_t port, fs38_channel_mode mode)
{
    if (n->open && n->port == port && n->mode == mode && strcmp(n->host, host) == 0)
        return FS38_OK;
    net_disconnect(n);
    const net_opts *o = n->o;
    fs38_channel_config c;
    memset(&c, 0, sizeof c);
    c.mode = mode;
    c.host = host;
    c.port = port;
    c.net = &n->net;
    c.platform = &n->d->port;
    if (n->psk_mode) {
        c.psk = DEV_KEY_PSK;
        c.psk_identity = (const uint8_t *)o->psk_id;
        c.psk_identity_len = strlen(o->psk_id);
    } else {
        c.ca = n->ca;
        c.ca_len = n->ca_len;
        c.cert = n->cert;
        c.cert_len = n->cert_len;
        c.device_key = n->key; /* through the key interface (a TPM's key through its PSA driver) */
        c.require_client_auth = !o->client_auth_optional;
    }
    c.handshake_timeout_ms = o->timeout_ms;
    c.dtls_retransmit_min_ms = o->timeout_ms < 8000u ? 250u : 1000u;
    c.dtls_retransmit_max_ms = o->timeout_ms < 8000u ? o->timeout_ms : 8000u;
    sess_id(n, host, port, mode);
    sess_load(n);
    c.session = g_sess.len ? &g_sess : NULL;
    fs38_err e = fs38_channel_open(&g_ch, &c);
    fs38_wipe(&g_sess, sizeof g_sess);
    if (e == FS38_OK)
        e = fs38_channel_transport(&g_ch, &n->t);
    if (e != FS38_OK) {
        sess_forget(n);
        fs38_diag_set(&n->diag, e, "%s to %s:%u: %s", mode_name(mode), host, (unsigned)port,
                      g_ch.diag.msg[0] ? g_ch.diag.msg : fs38_strerror(e));
        fs38_channel_close(&g_ch);
        return e;
    }
    n->open = true;
    snprintf(n->host, sizeof n->host, "%s", host);
    n->port = port;
    n->mode = mode;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err coap_setup(net_ctx *n)
{
    fs38_coap_config cc;
    memset(&cc, 0, sizeof cc);
    cc.transport = &n->t;
    cc.port = &n->d->port;
    uint32_t ack = n->o->timeout_ms / 8u;
    cc.ack_timeout_ms = ack < 200u ? 200u : ack > 2000u ? 2000u : ack;
    cc.response_timeout_ms = n->o->timeout_ms;
    if (n->o->qblock2) {
        cc.qblock2 = true;
        cc.set_buf = g_set_buf;
        cc.set_buf_len = sizeof g_set_buf;
    }
    fs38_err e = fs38_coap_client_init(&g_coap, &cc);
    if (e)
        fs38_diag_set(&n->diag, e, "CoAP client: %s", g_coap.diag.msg[0] ? g_coap.diag.msg : fs38_strerror(e));
    return e;
}

/* A coaps:// URL. 0 or -1 (printed). */
static int parse_coaps(const char *cmd, const char *url, fs38_coap_uri *u)
{
    fs38_diag d;
    memset(&d, 0, sizeof d);
    if (fs38_coap_uri_parse(url, u, &d) != FS38_OK) {
        host_err("%s: %s: %s", cmd, url, d.msg);
        return -1;
    }
    if (!u->secure) {
        host_err("%s: %s: only coaps:// (CoAP over DTLS): plaintext is not a mode", cmd, url);
        return -1;
    }
    return 0;
}

/* GET uri from offset into sink over DTLS; the diag of a failure in n->diag. */
static FS38_NODISCARD fs38_err coap_fetch(net_ctx *n, const fs38_coap_uri *u, uint32_t offset, fs38_coap_sink sink,
                                          void *user, uint32_t *total, bool *sink_failed)
{
    fs38_err e = net_connect(n, u->host, u->port, FS38_CHANNEL_DTLS);
    if (e)
        return e;
    e = coap_setup(n);
    if (e)
        return e;
    *sink_failed = false;
    e = fs38_coap_get(&g_coap, u, offset, sink, user, total);
    if (e && !*sink_failed)
        fs38_diag_set(&n->diag, e, "coaps://%s:%u/%s: %s", u->host, (unsigned)u->port, u->path,
                      g_coap.diag.msg[0] ? g_coap.diag.msg : fs38_strerror(e));
    return e;
}

/* ---- fetch ------------------------------------------------------------------------------------- */

typedef struct out_sink {
    host_out *o;
    int i;
    uint64_t bytes;
    bool failed;
} out_sink;

static fs38_err out_write(void *user, uint32_t offset, const uint8_t *data, size_t len)
{
    out_sink *s = user;
    (void)offset;
    if (host_out_write(s->o, s->i, data, len)) {
        s->failed = true;
        return FS38_ERR_IO;
    }
    s->bytes += len;
    return FS38_OK;
}

static int fetch_run(const char *dir, const char *url, const char *out, net_opts *o)
{
    fs38_coap_uri u;
    if (parse_coaps("fetch", url, &u))
        return HOST_EXIT_USAGE;
    host_out ho;
    host_out_init(&ho);
    const int i_out = host_out_add(&ho, out, 0644, false);
    if (i_out < 0)
        return HOST_EXIT_USAGE;
    if (device_open(&g_dev, dir)) {
        host_out_abort(&ho);
        return HOST_EXIT_USAGE;
    }
    net_ctx n;
    int rc = net_prepare(&n, &g_dev, o, "fetch");
    if (rc == HOST_EXIT_OK) {
        out_sink s = { .o = &ho, .i = i_out };
        uint32_t total = 0;
        fs38_err e = coap_fetch(&n, &u, 0, out_write, &s, &total, &s.failed);
        if (e == FS38_OK && host_out_commit(&ho))
            e = FS38_ERR_IO;
        if (e == FS38_OK) {
            const char *v = "?", *suite = "?";
            fs38_channel_info(&g_ch, &v, &suite);
            printf("fetch: %" PRIu64 " bytes from %s over %s (%s) -> %s%s\n", s.bytes, url, v, suite, out,
                   fs38_coap_qblock2_used(&g_coap) ? " (Q-Block2)" : "");
            rc = HOST_EXIT_OK;
        } else {
            if (!s.failed)
                fprintf(stderr, "fetch: %s\n", n.diag.msg);
            rc = s.failed ? HOST_EXIT_USAGE : net_exit(e);
        }
    }
    host_out_abort(&ho);
    net_release(&n);
    device_close(&g_dev);
    return rc;
}

int cmd_fetch(const char *dir, int argc, char **argv)
{
    const char *out = NULL, *pos[2];
    size_t npos = 0;
    net_opts no;
    memset(&no, 0, sizeof no);
    const host_opt opts[] = { { .name = "--out", .value = &out }, NET_HOST_OPTS(no), { .name = NULL } };
    if (host_parse_args(argc, argv, opts, pos, 2, &npos) != 0 || npos != 1 || !out) {
        host_err("fetch: expected URL --ca SERVER_CA.pem --out FILE (URL coaps://host:port/path)");
        return HOST_EXIT_USAGE;
    }
    if (net_opts_check("fetch", &no))
        return HOST_EXIT_USAGE;
    return fetch_run(dir, pos[0], out, &no);
}

/* ---- update over coaps:// ----------------------------------------------------------------------- */

typedef struct buf_sink {
    uint8_t *buf;
    size_t len, cap;
    bool failed;
    fs38_diag diag;
} buf_sink;

static fs38_err buf_write(void *user, uint32_t offset, const uint8_t *data, size_t len)
{
    buf_sink *s = user;
    (void)offset;
    if (len > s->cap - s->len) {
        s->failed = true;
        return fs38_diag_set(&s->diag, FS38_ERR_LIMIT, "the envelope is larger than %u bytes", ENV_CAP);
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    return FS38_OK;
}

typedef struct net_feed {
    update_feed f;
    net_ctx *n;
    const fs38_coap_uri *u;
    bool agent_failed;
    fs38_update_ctx *upd;
} net_feed;

/* Each block straight into the agent: no copy of the payload beyond one CoAP message. */
static fs38_err agent_write(void *user, uint32_t offset, const uint8_t *data, size_t len)
{
    net_feed *nf = user;
    (void)offset;
    fs38_err e = fs38_update_write(nf->upd, data, len);
    if (e)
        nf->agent_failed = true;
    return e;
}

static fs38_err net_feed_run(update_feed *f, fs38_update_ctx *u)
{
    net_feed *nf = (net_feed *)f;
    nf->upd = u;
    if (u->offset > UINT32_MAX) {
        f->own = true;
        return fs38_diag_set(&f->diag, FS38_ERR_LIMIT, "resume point beyond what CoAP Block2 addresses");
    }
    uint32_t total = 0;
    fs38_err e = coap_fetch(nf->n, nf->u, (uint32_t)u->offset, agent_write, nf, &total, &nf->agent_failed);
    if (e && !nf->agent_failed) {
        f->own = true;
        f->diag = nf->n->diag;
    }
    return e;
}

int net_update(const char *dir, const char *env_url, const char *payload_url, net_opts *o, uint64_t cut)
{
    fs38_coap_uri ue, up;
    if (parse_coaps("update --from", env_url, &ue) || parse_coaps("update --payload-from", payload_url, &up))
        return HOST_EXIT_USAGE;
    buf_sink env = { .cap = ENV_CAP };
    env.buf = malloc(ENV_CAP);
    if (!env.buf) {
        host_err("update: out of memory");
        return HOST_EXIT_USAGE;
    }
    if (device_open(&g_dev, dir)) {
        free(env.buf);
        return HOST_EXIT_USAGE;
    }
    net_ctx n;
    int rc = net_prepare(&n, &g_dev, o, "update");
    if (rc == HOST_EXIT_OK) {
        uint32_t total = 0;
        fs38_err e = coap_fetch(&n, &ue, 0, buf_write, &env, &total, &env.failed);
        if (e) {
            fprintf(stderr, "update: fetching the envelope: %s\n", env.failed ? env.diag.msg : n.diag.msg);
            rc = net_exit(e);
        } else {
            printf("update: envelope (%zu bytes) from %s\n", env.len, env_url);
            net_feed nf = { .f = { .run = net_feed_run }, .n = &n, .u = &up };
            rc = update_apply(&g_dev, env.buf, env.len, cut, &nf.f);
        }
    }
    net_release(&n);
    device_close(&g_dev);
    free(env.buf);
    return rc;
}

/* update_apply with the payload streamed from payload_url over an already prepared n (the
 * envelope given in RAM). Exit status (messages printed). */
int net_update_env(net_ctx *n, const uint8_t *env, size_t env_len, const char *payload_url)
{
    fs38_coap_uri up;
    if (parse_coaps("update", payload_url, &up))
        return HOST_EXIT_USAGE;
    net_feed nf = { .f = { .run = net_feed_run }, .n = n, .u = &up };
    return update_apply(n->d, env, env_len, 0, &nf.f);
}

/* ---- log push ------------------------------------------------------------------------------------ */

/* mqtts://host[:port] (no path). 0 or -1 (printed). */
int net_parse_mqtts(const char *cmd, const char *url, char *host, size_t cap, uint16_t *port)
{
    const char *p = url + 8, *colon, *end;
    if (strncmp(url, "mqtt://", 7) == 0 || strncmp(url, "tcp://", 6) == 0) {
        host_err("%s: %s: only mqtts:// (MQTT over TLS): plaintext is not a mode", cmd, url);
        return -1;
    }
    if (strncmp(url, "mqtts://", 8) != 0) {
        host_err("%s: %s: expected mqtts://host:port or coaps://host:port/path", cmd, url);
        return -1;
    }
    end = p + strcspn(p, "/?#");
    if (*end && strcmp(end, "/") != 0) {
        host_err("%s: %s: an mqtts:// URL has no path (the topic is fs38/<ueid>/log)", cmd, url);
        return -1;
    }
    colon = memchr(p, ':', (size_t)(end - p));
    const char *hend = colon ? colon : end;
    size_t hl = (size_t)(hend - p);
    if (hl == 0 || hl >= cap) {
        host_err("%s: %s: missing or too long host", cmd, url);
        return -1;
    }
    for (size_t i = 0; i < hl; i++)
        if (!isalnum((unsigned char)p[i]) && !strchr("-._~", p[i])) {
            host_err("%s: %s: invalid host", cmd, url);
            return -1;
        }
    memcpy(host, p, hl);
    host[hl] = 0;
    *port = 8883;
    if (colon) {
        char ps[8];
        size_t pl = (size_t)(end - colon - 1);
        uint64_t v = 0;
        if (pl == 0 || pl >= sizeof ps) {
            host_err("%s: %s: invalid port", cmd, url);
            return -1;
        }
        memcpy(ps, colon + 1, pl);
        ps[pl] = 0;
        char what[64];
        snprintf(what, sizeof what, "%s: URL port", cmd);
        if (host_parse_u64(what, ps, 1, 65535, 0, &v))
            return -1;
        *port = (uint16_t)v;
    }
    return 0;
}

static fs38_err mqtt_push(net_ctx *n, const char *host, uint16_t port, const char *topic, const uint8_t *data,
                          size_t len)
{
    fs38_err e = net_connect(n, host, port, FS38_CHANNEL_TLS);
    if (e)
        return e;
    static uint8_t rx[MQTT_BUF], tx[MQTT_BUF];
    fs38_mqtt_config mc;
    memset(&mc, 0, sizeof mc);
    mc.transport = &n->t;
    mc.port = &n->d->port;
    mc.client_id = n->psk_mode ? n->o->psk_id : n->ueid_hex;
    mc.keep_alive_s = 60;
    mc.timeout_ms = n->o->timeout_ms;
    mc.max_retries = 2;
    mc.rx_buf = rx;
    mc.rx_cap = sizeof rx;
    mc.tx_buf = tx;
    mc.tx_cap = sizeof tx;
    e = fs38_mqtt_init(&g_mqtt, &mc);
    if (!e)
        e = fs38_mqtt_connect(&g_mqtt);
    if (!e)
        e = fs38_mqtt_publish(&g_mqtt, topic, strlen(topic), data, len, 1);
    if (e) {
        fs38_diag_set(&n->diag, e, "mqtts://%s:%u: %s", host, (unsigned)port,
                      fs38_mqtt_diag(&g_mqtt)->msg[0] ? fs38_mqtt_diag(&g_mqtt)->msg : fs38_strerror(e));
        return e;
    }
    if (fs38_mqtt_disconnect(&g_mqtt) != FS38_OK) {
        /* published and acknowledged (PUBACK) already: a failed DISCONNECT loses nothing */
    }
    return FS38_OK;
}

static FS38_NODISCARD fs38_err coap_push(net_ctx *n, const fs38_coap_uri *u, const uint8_t *data, size_t len,
                                         uint8_t *code)
{
    fs38_err e = net_connect(n, u->host, u->port, FS38_CHANNEL_DTLS);
    if (!e)
        e = coap_setup(n);
    if (e)
        return e;
    e = fs38_coap_upload(&g_coap, u, FS38_COAP_POST, FS38_COAP_FORMAT_NONE, data, len, code);
    if (e)
        fs38_diag_set(&n->diag, e, "coaps://%s:%u/%s: %s", u->host, (unsigned)u->port, u->path,
                      g_coap.diag.msg[0] ? g_coap.diag.msg : fs38_strerror(e));
    return e;
}

/* A fresh export of records since.. (as log export), malloc'd into *buf. Exit status. */
static int fresh_export(uint64_t since, uint8_t **buf, size_t *len)
{
    if (!g_dev.log_open) {
        fprintf(stderr, "log push: no security log on this device (run 'log init --key-out K0' or provision)\n");
        return HOST_EXIT_REJECT;
    }
    size_t cap = fs38_log_export_bound(&g_dev.log, (uint32_t)since);
    *buf = cap ? malloc(cap) : NULL;
    if (!*buf) {
        host_err("log push: out of memory");
        return HOST_EXIT_USAGE;
    }
    fs38_log_cursor c;
    fs38_log_cursor_init(&c, (uint32_t)since);
    fs38_err e = fs38_log_export(&g_dev.log, &c, *buf, cap, len);
    if (e) {
        host_err("log push: export: %s",
                 fs38_log_diag(&g_dev.log)->msg[0] ? fs38_log_diag(&g_dev.log)->msg : fs38_strerror(e));
        return HOST_EXIT_USAGE;
    }
    printf("log push: export of records %" PRIu32 "..%" PRIu32 " (%zu bytes)\n", c.first, c.last, *len);
    return HOST_EXIT_OK;
}

int cmd_log_push(const char *dir, int argc, char **argv)
{
    const char *file = NULL, *since_s = NULL, *topic_s = NULL, *pos[2];
    size_t npos = 0;
    net_opts no;
    memset(&no, 0, sizeof no);
    const host_opt opts[] = {
        { .name = "--file", .value = &file },
        { .name = "--since", .value = &since_s },
        { .name = "--topic", .value = &topic_s },
        NET_HOST_OPTS(no),
        { .name = NULL },
    };
    if (host_parse_args(argc, argv, opts, pos, 2, &npos) != 0 || npos != 1) {
        host_err("log push: expected URL --ca SERVER_CA.pem [--file EXPORT] (URL mqtts://host:port or "
                 "coaps://host:port/path)");
        return HOST_EXIT_USAGE;
    }
    if (net_opts_check("log push", &no))
        return HOST_EXIT_USAGE;
    uint64_t since = 0;
    if (since_s && host_parse_u64("log push --since", since_s, 0, UINT32_MAX, 0, &since))
        return HOST_EXIT_USAGE;
    const char *url = pos[0];
    const bool mqtt = strncmp(url, "coap", 4) != 0;
    fs38_coap_uri cu;
    char host[FS38_COAP_HOST_MAX + 1u];
    uint16_t port = 0;
    if (mqtt ? net_parse_mqtts("log push", url, host, sizeof host, &port) : parse_coaps("log push", url, &cu))
        return HOST_EXIT_USAGE;
    if (topic_s && (!mqtt || strlen(topic_s) == 0 || strlen(topic_s) > FS38_MQTT_TOPIC_MAX)) {
        host_err("log push: --topic is for mqtts:// only, 1 to %u characters", FS38_MQTT_TOPIC_MAX);
        return HOST_EXIT_USAGE;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    if (file && host_read_file(file, 64u << 20, &data, &len))
        return HOST_EXIT_USAGE;
    if (device_open(&g_dev, dir)) {
        free(data);
        return HOST_EXIT_USAGE;
    }
    net_ctx n;
    int rc = net_prepare(&n, &g_dev, &no, "log push");
    if (rc == HOST_EXIT_OK && !file)
        rc = fresh_export(since, &data, &len);
    if (rc == HOST_EXIT_OK) {
        fs38_err e;
        char topic[FS38_MQTT_TOPIC_MAX + 1u];
        if (mqtt) {
            size_t tl = 0;
            if (topic_s)
                snprintf(topic, sizeof topic, "%s", topic_s);
            else if (fs38_mqtt_topic_log(n.ueid, sizeof n.ueid, topic, sizeof topic, &tl) != FS38_OK)
                topic[0] = 0;
            e = mqtt_push(&n, host, port, topic, data, len);
        } else {
            uint8_t code = 0;
            e = coap_push(&n, &cu, data, len, &code);
        }
        if (e) {
            fprintf(stderr, "log push: %s\n", n.diag.msg);
            rc = net_exit(e);
        } else {
            const char *v = "?", *suite = "?";
            fs38_channel_info(&g_ch, &v, &suite);
            if (mqtt)
                printf("log push: %zu bytes published to %s, topic %s, QoS 1 acknowledged (%s, %s)\n", len, url,
                       topic, v, suite);
            else
                printf("log push: %zu bytes posted to %s (%s, %s)\n", len, url, v, suite);
            rc = HOST_EXIT_OK;
        }
    }
    net_release(&n);
    device_close(&g_dev);
    free(data);
    return rc;
}
