/* SPDX-License-Identifier: Apache-2.0 */
/*
 * channel.c — the secure channel (fs38/channel.h) on Mbed TLS's ssl module.
 *
 * Mbed TLS does the protocol; this file sets the policy (versions, suites, groups, signature
 * algorithms, verification), moves records through the port's sockets (fs38_net), drives the
 * DTLS retransmission timer from the port's monotonic clock, checks certificate validity
 * against the port's wall clock, and turns every failure into one diagnostic + one event.
 *
 * Two facts Mbed TLS 3.6 has no public API for are read from what the channel sees:
 *   - "the server asked for the device certificate": TLS 1.3 — the handshake reaches the
 *     client CertificateVerify state (entered only when the server sent a CertificateRequest
 *     and we have a certificate); TLS 1.2 / DTLS 1.2 — a plaintext CertificateVerify
 *     handshake message (type 15) leaves in a record before our ChangeCipherSpec;
 *   - "the handshake was resumed": the handshake never ran its server-certificate state (a
 *     resumed TLS 1.2 handshake jumps from ServerHello to ChangeCipherSpec, a TLS 1.3 PSK one
 *     from EncryptedExtensions to Finished).
 * Both read mbedtls_ssl_context's state field, which Mbed TLS marks private; it is stable in 3.6.
 */
#include "fs38/channel.h"

#include <string.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/ssl_ciphersuites.h>

#include "fs38/event.h"
#include "fs38/util.h"
#include "inner.h"

#define HS_TIMEOUT_DEFAULT 30000u
#define SEND_TIMEOUT 30000u
#define DTLS_MIN_DEFAULT 1000u
#define DTLS_MAX_DEFAULT 8000u

enum { ST_NONE = 0, ST_SETUP = 1, ST_OPEN = 2, ST_FAILED = 3 };

static uint64_t now_ms(const fs38_channel *ch)
{
    return ch->platform->monotonic_ms(ch->platform->ctx);
}

/* ---- teardown and failure ---- */

static void teardown(fs38_channel *ch)
{
    if (ch->sock_open) {
        ch->net->close(ch->net->ctx, ch->sock);
        ch->sock_open = false;
    }
    if (ch->state == ST_SETUP || ch->state == ST_OPEN) {
        mbedtls_ssl_free(&ch->ssl);
        mbedtls_ssl_config_free(&ch->conf);
        mbedtls_x509_crt_free(&ch->ca);
        mbedtls_x509_crt_free(&ch->own);
        mbedtls_pk_free(&ch->key);
    }
}

/* Close everything, raise the event with ch->diag as detail (already set) and return err. */
static fs38_err channel_fail(fs38_channel *ch, fs38_event_code ev)
{
    fs38_err err = ch->diag.err;
    teardown(ch);
    ch->state = ST_FAILED;
    if (ch->quiet) { /* a resumption attempt: fs38_channel_open decides (retry, or this event) */
        ch->held_ev = (uint16_t)ev;
        return err;
    }
    fs38_event(ev, ev == FS38_EV_CHANNEL_REFUSED ? FS38_SEV_WARNING : FS38_SEV_ERROR, (int64_t)err,
               ch->diag.msg);
    return err;
}

/* ---- socket callbacks (Mbed TLS's bio) ---- */

/* Note what leaves in plaintext before our ChangeCipherSpec: a CertificateVerify (type 15)
 * means the device authenticated with its certificate (TLS 1.2 / DTLS 1.2). */
static void inspect_out(fs38_channel *ch, const unsigned char *buf, size_t len)
{
    size_t hdr = ch->datagram ? 13u : 5u;
    size_t off = 0;
    while (!ch->ccs_sent && off + hdr <= len) {
        uint8_t type = buf[off];
        size_t rlen = ((size_t)buf[off + hdr - 2] << 8) | buf[off + hdr - 1];
        bool epoch0 = !ch->datagram || (buf[off + 3] == 0 && buf[off + 4] == 0);
        if (type == MBEDTLS_SSL_MSG_CHANGE_CIPHER_SPEC || !epoch0) {
            ch->ccs_sent = true;
            break;
        }
        if (type == MBEDTLS_SSL_MSG_HANDSHAKE && rlen > 0 && off + hdr < len &&
            buf[off + hdr] == MBEDTLS_SSL_HS_CERTIFICATE_VERIFY)
            ch->client_auth_sent = true;
        off += hdr + rlen;
    }
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    fs38_channel *ch = ctx;
    if (ch->state == ST_SETUP && !ch->ccs_sent)
        inspect_out(ch, buf, len);
    uint32_t t = SEND_TIMEOUT;
    if (ch->deadline) {
        uint64_t now = now_ms(ch);
        t = now >= ch->deadline ? 1u : (uint32_t)(ch->deadline - now);
    }
    fs38_err e = ch->net->send(ch->net->ctx, ch->sock, buf, len, t);
    if (e != FS38_OK) {
        ch->io_err = e;
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
    ch->tx_bytes += len;
    return (int)(len > 0x7fffffff ? 0x7fffffff : len);
}

static int bio_recv_timeout(void *ctx, unsigned char *buf, size_t len, uint32_t timeout)
{
    fs38_channel *ch = ctx;
    uint32_t t = timeout ? timeout : ch->io_timeout;
    if (ch->deadline) {
        uint64_t now = now_ms(ch);
        uint32_t left = now >= ch->deadline ? 1u : (uint32_t)(ch->deadline - now);
        if (t == 0 || t > left)
            t = left;
    }
    size_t n = 0;
    fs38_err e = ch->net->recv(ch->net->ctx, ch->sock, buf, len, &n, t);
    switch (e) {
    case FS38_OK:
        ch->rx_bytes += n;
        return (int)n;
    case FS38_ERR_TIMEOUT:
        return MBEDTLS_ERR_SSL_TIMEOUT;
    case FS38_ERR_CLOSED:
        return 0; /* end of stream */
    case FS38_ERR_BUFFER:
        return MBEDTLS_ERR_SSL_WANT_READ; /* an oversized datagram: dropped */
    default:
        ch->io_err = e;
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
}

/* DTLS retransmission timer on the port's monotonic clock (mbedtls_ssl_set_timer_cb). */
static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
    fs38_channel *ch = ctx;
    ch->timer_int = int_ms;
    ch->timer_fin = fin_ms;
    ch->timer_start = now_ms(ch);
}

static int timer_get(void *ctx)
{
    fs38_channel *ch = ctx;
    if (ch->timer_fin == 0)
        return -1;
    uint64_t el = now_ms(ch) - ch->timer_start;
    if (el >= ch->timer_fin)
        return 2;
    return el >= ch->timer_int ? 1 : 0;
}

/* ---- certificate verification: validity on the port's clock, names for the diagnostic ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int64_t x509_unix(const mbedtls_x509_time *t)
{
    return days_from_civil(t->year, (unsigned)t->mon, (unsigned)t->day) * 86400 + t->hour * 3600 +
           t->min * 60 + t->sec;
}

static void copy_name(char *out, size_t cap, const unsigned char *p, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    out[n] = '\0';
}

/* The name a server certificate is for: its first SAN dNSName / iPAddress, else its CN. */
static void cert_name(const mbedtls_x509_crt *crt, char *out, size_t cap)
{
    out[0] = '\0';
    for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s && s->buf.p; s = s->next) {
        if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME)) {
            copy_name(out, cap, s->buf.p, s->buf.len);
            return;
        }
        if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_IP_ADDRESS) && s->buf.len == 4) {
            (void)fs38_fmt(out, cap, "%u.%u.%u.%u", (unsigned)s->buf.p[0], (unsigned)s->buf.p[1],
                           (unsigned)s->buf.p[2], (unsigned)s->buf.p[3]);
            return;
        }
    }
    for (const mbedtls_x509_name *n = &crt->subject; n && n->oid.p; n = n->next) {
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
            copy_name(out, cap, n->val.p, n->val.len);
            return;
        }
    }
    copy_name(out, cap, (const unsigned char *)"(no name)", 9);
}

static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    fs38_channel *ch = ctx;
    ch->verified = true;
    /* Validity: the port's wall clock decides, not the C library's (an MCU has none). */
    *flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
    int64_t now = 0;
    if (ch->platform->wall_time && ch->platform->wall_time(ch->platform->ctx, &now) == FS38_OK) {
        if (now > x509_unix(&crt->valid_to))
            *flags |= MBEDTLS_X509_BADCERT_EXPIRED;
        if (now < x509_unix(&crt->valid_from))
            *flags |= MBEDTLS_X509_BADCERT_FUTURE;
    }
    if (depth == 0) {
        cert_name(crt, ch->peer_name, sizeof ch->peer_name);
        ch->not_before = x509_unix(&crt->valid_from);
        ch->not_after = x509_unix(&crt->valid_to);
        ch->now = now;
    }
    ch->vflags |= *flags;
    return 0;
}

/* "YYYY-MM-DD" of a Unix time. */
static void fmt_date(int64_t t, char out[16])
{
    int64_t z = (t >= 0 ? t : t - 86399) / 86400 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    (void)fs38_fmt(out, 16, "%lld-%u%u-%u%u", (long long)y, m / 10, m % 10, d / 10, d % 10);
}

/* ---- handshake failure classification ---- */

static fs38_err handshake_failed(fs38_channel *ch, int ret, const char *host)
{
    uint32_t f = ch->vflags;
    char a[16], b[16];
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || (ch->verified && f)) {
        if (f & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
            fs38_diag_set(&ch->diag, FS38_ERR_TLS, "server certificate: not signed by the fleet CA");
        else if (f & MBEDTLS_X509_BADCERT_EXPIRED) {
            fmt_date(ch->not_after, a);
            fmt_date(ch->now, b);
            fs38_diag_set(&ch->diag, FS38_ERR_TLS, "server certificate: expired on %s (now %s)", a, b);
        } else if (f & MBEDTLS_X509_BADCERT_FUTURE) {
            fmt_date(ch->not_before, a);
            fmt_date(ch->now, b);
            fs38_diag_set(&ch->diag, FS38_ERR_TLS, "server certificate: not valid before %s (now %s)", a, b);
        } else if (f & MBEDTLS_X509_BADCERT_CN_MISMATCH)
            fs38_diag_set(&ch->diag, FS38_ERR_TLS, "host name mismatch: certificate is for %s, not %s",
                          ch->peer_name, host);
        else if (f & (MBEDTLS_X509_BADCERT_KEY_USAGE | MBEDTLS_X509_BADCERT_EXT_KEY_USAGE))
            fs38_diag_set(&ch->diag, FS38_ERR_TLS, "server certificate: not for TLS servers (key usage)");
        else
            fs38_diag_set(&ch->diag, FS38_ERR_TLS, "server certificate rejected (verification flags 0x%x)",
                          (unsigned)f);
        return channel_fail(ch, FS38_EV_CHANNEL_REFUSED);
    }
    switch (ret) {
    case MBEDTLS_ERR_SSL_TIMEOUT:
        fs38_diag_set(&ch->diag, FS38_ERR_TIMEOUT, "handshake with %s timed out", host);
        return channel_fail(ch, FS38_EV_CHANNEL_FAILED);
    case MBEDTLS_ERR_NET_SEND_FAILED:
    case MBEDTLS_ERR_NET_RECV_FAILED:
        fs38_diag_set(&ch->diag, ch->io_err == FS38_ERR_TIMEOUT ? FS38_ERR_TIMEOUT : FS38_ERR_NET,
                      "network failed during the handshake with %s (%s)", host, fs38_strerror(ch->io_err));
        return channel_fail(ch, FS38_EV_CHANNEL_FAILED);
    case MBEDTLS_ERR_SSL_CONN_EOF:
        fs38_diag_set(&ch->diag, FS38_ERR_TLS, "server closed the connection during the handshake");
        return channel_fail(ch, FS38_EV_CHANNEL_REFUSED);
    case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION:
        fs38_diag_set(&ch->diag, FS38_ERR_TLS, "server offered a TLS version below 1.2 (downgrade refused)");
        return channel_fail(ch, FS38_EV_CHANNEL_REFUSED);
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE: {
        unsigned alert = ch->ssl.MBEDTLS_PRIVATE(in_msg) ? ch->ssl.MBEDTLS_PRIVATE(in_msg)[1] : 0;
        if (alert == MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION)
            fs38_diag_set(&ch->diag, FS38_ERR_TLS,
                          "server refused TLS 1.2 and 1.3 (protocol_version alert): version downgrade refused");
        else if (alert == MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE || alert == MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY)
            fs38_diag_set(&ch->diag, FS38_ERR_TLS,
                          "server accepts none of our AEAD suites / groups (alert %u): downgrade refused", alert);
        else
            fs38_diag_set(&ch->diag, FS38_ERR_TLS, "handshake refused by the server (alert %u)", alert);
        return channel_fail(ch, FS38_EV_CHANNEL_REFUSED);
    }
    case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE:
    case MBEDTLS_ERR_SSL_BAD_INPUT_DATA:
    case MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER:
        fs38_diag_set(&ch->diag, FS38_ERR_TLS,
                      "server chose a version, suite or group outside the policy (downgrade refused)");
        return channel_fail(ch, FS38_EV_CHANNEL_REFUSED);
    default: {
        char m[80];
        mbedtls_strerror(ret, m, sizeof m);
        fs38_diag_set(&ch->diag, FS38_ERR_TLS, "handshake failed: %s", m);
        return channel_fail(ch, FS38_EV_CHANNEL_REFUSED);
    }
    }
}

/* ---- open ---- */

static FS38_NODISCARD fs38_err check_config(fs38_channel *ch, const fs38_channel_config *c)
{
    if (!c->host || !c->host[0] || strlen(c->host) > 253 || c->port == 0)
        return fs38_diag_set(&ch->diag, FS38_ERR_ARG, "channel: no server host or port");
    if (!c->net || !c->net->connect || !c->net->send || !c->net->recv || !c->net->close)
        return fs38_diag_set(&ch->diag, FS38_ERR_ARG, "channel: no platform sockets (fs38_net)");
    if (!c->platform || !c->platform->monotonic_ms)
        return fs38_diag_set(&ch->diag, FS38_ERR_ARG, "channel: the port has no monotonic clock");
    if (c->mode != FS38_CHANNEL_TLS && c->mode != FS38_CHANNEL_DTLS)
        return fs38_diag_set(&ch->diag, FS38_ERR_ARG, "channel: unknown mode %u", (unsigned)c->mode);
    if (c->psk) {
        if (!c->psk_identity || c->psk_identity_len == 0 || c->psk_identity_len > 128)
            return fs38_diag_set(&ch->diag, FS38_ERR_ARG, "channel: PSK identity must be 1..128 bytes");
        if (c->psk_tls13) {
            if (c->mode != FS38_CHANNEL_TLS)
                return fs38_diag_set(&ch->diag, FS38_ERR_ARG, "channel: a TLS 1.3 PSK needs TCP (DTLS is 1.2)");
            psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
            psa_status_t st = psa_get_key_attributes(c->psk, &at);
            psa_key_usage_t usage = psa_get_key_usage_flags(&at);
            psa_reset_key_attributes(&at);
            if (st != PSA_SUCCESS || !(usage & PSA_KEY_USAGE_EXPORT))
                return fs38_diag_set(&ch->diag, FS38_ERR_ARG,
                                     "channel: PSK key %u is %s (a TLS 1.3 PSK needs PSA_KEY_USAGE_EXPORT)",
                                     (unsigned)c->psk, st != PSA_SUCCESS ? "not in the key store" : "not exportable");
        }
        return FS38_OK;
    }
    if (c->psk_tls13)
        return fs38_diag_set(&ch->diag, FS38_ERR_ARG, "channel: psk_tls13 without a PSK");
    if (!c->ca || !c->ca_len || !c->cert || !c->cert_len || (!c->key && !c->device_key))
        return fs38_diag_set(&ch->diag, FS38_ERR_ARG,
                             "channel: certificate mode needs the fleet CA, the device certificate and key");
    return FS38_OK;
}

static FS38_NODISCARD fs38_err setup(fs38_channel *ch, const fs38_channel_config *c)
{
    int ret;
    mbedtls_ssl_conf_rng(&ch->conf, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
    ret = mbedtls_ssl_config_defaults(&ch->conf, MBEDTLS_SSL_IS_CLIENT,
                                      ch->datagram ? MBEDTLS_SSL_TRANSPORT_DATAGRAM : MBEDTLS_SSL_TRANSPORT_STREAM,
                                      MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret)
        return fs38_diag_set(&ch->diag, FS38_ERR_CRYPTO, "channel: TLS configuration failed (-0x%x)", (unsigned)-ret);
    mbedtls_ssl_conf_rng(&ch->conf, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);

    /* policy: versions, AEAD suites, P-256, ECDSA-SHA256 */
    bool tls13 = !ch->datagram && (!ch->psk_mode || c->psk_tls13);
    mbedtls_ssl_conf_min_tls_version(&ch->conf, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(&ch->conf, tls13 ? MBEDTLS_SSL_VERSION_TLS1_3 : MBEDTLS_SSL_VERSION_TLS1_2);
    size_t n = 0;
    if (ch->psk_mode) {
        if (tls13) {
            ch->suites[n++] = MBEDTLS_TLS1_3_AES_128_GCM_SHA256;
#if defined(MBEDTLS_CHACHAPOLY_C)
            ch->suites[n++] = MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256;
#endif
        }
        ch->suites[n++] = MBEDTLS_TLS_PSK_WITH_AES_128_CCM_8;
        ch->suites[n++] = MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256;
    } else {
        if (tls13) {
            ch->suites[n++] = MBEDTLS_TLS1_3_AES_128_GCM_SHA256;
#if defined(MBEDTLS_CHACHAPOLY_C)
            ch->suites[n++] = MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256;
#endif
        }
        ch->suites[n++] = MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
        ch->suites[n++] = MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8;
    }
    ch->suites[n] = 0;
    mbedtls_ssl_conf_ciphersuites(&ch->conf, ch->suites);
    ch->groups[0] = MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1;
    ch->groups[1] = MBEDTLS_SSL_IANA_TLS_GROUP_NONE;
    mbedtls_ssl_conf_groups(&ch->conf, ch->groups);
    ch->sig_algs[0] = MBEDTLS_TLS1_3_SIG_ECDSA_SECP256R1_SHA256;
    ch->sig_algs[1] = MBEDTLS_TLS1_3_SIG_NONE;
    mbedtls_ssl_conf_sig_algs(&ch->conf, ch->sig_algs);
    if (tls13) {
        /* TLS 1.3 key exchange modes (RFC 8446 §4.2.9): a full certificate handshake is always
         * ECDHE; a PSK (ticket or external) handshake is psk_dhe_ke, forward secret, unless
         * the caller's policy asks for psk_ke (tls13_psk_only). Never both: a server may not
         * pick the weaker one behind the policy's back. */
        int psk = c->tls13_psk_only ? (int)MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK
                                    : (int)MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL;
        mbedtls_ssl_conf_tls13_key_exchange_modes(
            &ch->conf, ch->psk_mode ? psk : psk | (int)MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL);
    }
    mbedtls_ssl_conf_session_tickets(&ch->conf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(&ch->conf,
                                                              MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
    mbedtls_ssl_conf_read_timeout(&ch->conf, 1000);
#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH) && MBEDTLS_SSL_IN_CONTENT_LEN < 16384
    /* a small-MCU build with short record buffers asks the server for records that fit
     * (RFC 6066 max_fragment_length; TLS 1.3 also sends record_size_limit, RFC 8449) */
    mbedtls_ssl_conf_max_frag_len(&ch->conf, MBEDTLS_SSL_IN_CONTENT_LEN >= 4096   ? MBEDTLS_SSL_MAX_FRAG_LEN_4096
                                             : MBEDTLS_SSL_IN_CONTENT_LEN >= 2048 ? MBEDTLS_SSL_MAX_FRAG_LEN_2048
                                             : MBEDTLS_SSL_IN_CONTENT_LEN >= 1024 ? MBEDTLS_SSL_MAX_FRAG_LEN_1024
                                                                                  : MBEDTLS_SSL_MAX_FRAG_LEN_512);
#endif

    if (ch->psk_mode && c->psk_tls13) {
        /* Mbed TLS 3.6's TLS 1.3 client computes the PSK binder from the raw key only
         * (ssl_tls13_psk_get_psk reads conf->psk; an opaque PSK gives an empty key and the
         * server refuses the binder): the key's bytes go to Mbed TLS for the handshake and are
         * wiped from its heap as soon as the handshake is over (wipe_conf_psk) */
        uint8_t raw[64];
        size_t raw_len = 0;
        psa_status_t st = psa_export_key(c->psk, raw, sizeof raw, &raw_len);
        ret = st == PSA_SUCCESS ? mbedtls_ssl_conf_psk(&ch->conf, raw, raw_len, c->psk_identity, c->psk_identity_len)
                                : -1;
        fs38_wipe(raw, sizeof raw);
        if (ret)
            return fs38_diag_set(&ch->diag, FS38_ERR_ARG, "channel: PSK key %u not usable for TLS 1.3 (PSA %d, -0x%x)",
                                 (unsigned)c->psk, (int)st, (unsigned)(ret < 0 ? -ret : ret));
    } else if (ch->psk_mode) {
        ret = mbedtls_ssl_conf_psk_opaque(&ch->conf, c->psk, c->psk_identity, c->psk_identity_len);
        if (ret)
            return fs38_diag_set(&ch->diag, FS38_ERR_ARG, "channel: PSK key %u not usable (-0x%x)",
                                 (unsigned)c->psk, (unsigned)-ret);
    } else {
        ret = mbedtls_x509_crt_parse(&ch->ca, c->ca, c->ca_len);
        if (ret)
            return fs38_diag_set(&ch->diag, FS38_ERR_ARG,
                                 "channel: the fleet CA is not a certificate (DER, or PEM with its NUL) (-0x%x)",
                                 (unsigned)-ret);
        ret = mbedtls_x509_crt_parse_der(&ch->own, c->cert, c->cert_len);
        if (ret)
            return fs38_diag_set(&ch->diag, FS38_ERR_ARG, "channel: the device certificate is not DER X.509 (-0x%x)",
                                 (unsigned)-ret);
        psa_key_id_t key = c->key;
        if (!key && fs38_key_psa_id(c->device_key, &key) != FS38_OK)
            return fs38_diag_set(&ch->diag, FS38_ERR_UNSUPPORTED_ALG,
                                 "channel: the device key is kept outside PSA (0x%x): TLS client authentication "
                                 "with it needs a PSA driver for its keeper",
                                 (unsigned)c->device_key->ref);
        ret = mbedtls_pk_setup_opaque(&ch->key, key);
        if (ret)
            return fs38_diag_set(&ch->diag, FS38_ERR_ARG, "channel: device key %u is not a usable PSA key (-0x%x)",
                                 (unsigned)key, (unsigned)-ret);
        ret = mbedtls_ssl_conf_own_cert(&ch->conf, &ch->own, &ch->key);
        if (ret)
            return fs38_diag_set(&ch->diag, FS38_ERR_CRYPTO, "channel: cannot use the device certificate (-0x%x)",
                                 (unsigned)-ret);
        mbedtls_ssl_conf_ca_chain(&ch->conf, &ch->ca, NULL);
        mbedtls_ssl_conf_authmode(&ch->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
        mbedtls_ssl_conf_verify(&ch->conf, verify_cb, ch);
    }
    if (ch->datagram) {
        uint32_t lo = c->dtls_retransmit_min_ms ? c->dtls_retransmit_min_ms : DTLS_MIN_DEFAULT;
        uint32_t hi = c->dtls_retransmit_max_ms ? c->dtls_retransmit_max_ms : DTLS_MAX_DEFAULT;
        mbedtls_ssl_conf_handshake_timeout(&ch->conf, lo, hi < lo ? lo : hi);
        mbedtls_ssl_conf_dtls_badmac_limit(&ch->conf, 1);
        if (!c->dtls_no_cid) {
            ret = mbedtls_ssl_conf_cid(&ch->conf, 0, MBEDTLS_SSL_UNEXPECTED_CID_IGNORE);
            if (ret)
                return fs38_diag_set(&ch->diag, FS38_ERR_CRYPTO, "channel: CID configuration failed (-0x%x)",
                                     (unsigned)-ret);
        }
    }

    ret = mbedtls_ssl_setup(&ch->ssl, &ch->conf);
    if (ret)
        return fs38_diag_set(&ch->diag, FS38_ERR_CRYPTO, "channel: TLS set-up failed (-0x%x)", (unsigned)-ret);
    ret = mbedtls_ssl_set_hostname(&ch->ssl, c->host);
    if (ret)
        return fs38_diag_set(&ch->diag, FS38_ERR_ARG, "channel: host name '%s' not usable", c->host);
    if (ch->datagram && !c->dtls_no_cid) {
        /* our own CID is empty (the server's one is what survives our NAT rebinding); a
         * non-NULL pointer because Mbed TLS memcpy()s it even for 0 bytes */
        static const unsigned char no_cid[1] = { 0 };
        ret = mbedtls_ssl_set_cid(&ch->ssl, MBEDTLS_SSL_CID_ENABLED, no_cid, 0);
        if (ret)
            return fs38_diag_set(&ch->diag, FS38_ERR_CRYPTO, "channel: CID set-up failed (-0x%x)", (unsigned)-ret);
    }
    mbedtls_ssl_set_bio(&ch->ssl, ch, bio_send, NULL, bio_recv_timeout);
    if (ch->datagram)
        mbedtls_ssl_set_timer_cb(&ch->ssl, ch, timer_set, timer_get);
    if (c->session && c->session->len) {
        mbedtls_ssl_session s;
        mbedtls_ssl_session_init(&s);
        /* a session that does not load (another build, damaged) just means a full handshake */
        if (mbedtls_ssl_session_load(&s, c->session->data, c->session->len) == 0)
            ret = mbedtls_ssl_set_session(&ch->ssl, &s);
        mbedtls_ssl_session_free(&s);
    }
    return FS38_OK;
}

/* A raw PSK (psk_tls13) is needed by the handshake only: its bytes in Mbed TLS's copy are
 * wiped once it is over (the buffer itself is freed, wiped again, by mbedtls_ssl_config_free
 * at close; nothing reads it in between). */
static void wipe_conf_psk(fs38_channel *ch)
{
    unsigned char *k = ch->conf.MBEDTLS_PRIVATE(psk);
    if (k)
        mbedtls_platform_zeroize(k, ch->conf.MBEDTLS_PRIVATE(psk_len));
}

/* One connection and handshake; quiet: a failure's event is held in ch->held_ev. */
static FS38_NODISCARD fs38_err open_once(fs38_channel *ch, const fs38_channel_config *cfg, bool quiet)
{
    memset(ch, 0, sizeof *ch);
    ch->quiet = quiet;
    fs38_diag_clear(&ch->diag);
    fs38_err e = check_config(ch, cfg);
    if (e != FS38_OK)
        return e;
    ch->net = cfg->net;
    ch->platform = cfg->platform;
    ch->datagram = cfg->mode == FS38_CHANNEL_DTLS;
    ch->psk_mode = cfg->psk != 0;
    ch->require_client_auth = cfg->require_client_auth && !ch->psk_mode;
    mbedtls_ssl_init(&ch->ssl);
    mbedtls_ssl_config_init(&ch->conf);
    mbedtls_x509_crt_init(&ch->ca);
    mbedtls_x509_crt_init(&ch->own);
    mbedtls_pk_init(&ch->key);
    ch->state = ST_SETUP;
    e = setup(ch, cfg);
    if (e != FS38_OK) {
        teardown(ch);
        ch->state = ST_FAILED;
        return e;
    }
    bool offered = cfg->session && cfg->session->len;

    uint32_t hs = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms : HS_TIMEOUT_DEFAULT;
    ch->deadline = now_ms(ch) + hs;
    e = ch->net->connect(ch->net->ctx, cfg->host, cfg->port, ch->datagram, hs, &ch->sock);
    if (e != FS38_OK) {
        fs38_diag_set(&ch->diag, e == FS38_ERR_TIMEOUT ? FS38_ERR_TIMEOUT : FS38_ERR_NET,
                      "cannot connect to %s port %u (%s)", cfg->host, (unsigned)cfg->port, fs38_strerror(e));
        return channel_fail(ch, FS38_EV_CHANNEL_FAILED);
    }
    ch->sock_open = true;

    while (!mbedtls_ssl_is_handshake_over(&ch->ssl)) {
        int st = ch->ssl.MBEDTLS_PRIVATE(state);
        if (st == MBEDTLS_SSL_SERVER_CERTIFICATE)
            ch->full_handshake = true;
        if (st == MBEDTLS_SSL_CLIENT_CERTIFICATE_VERIFY)
            ch->client_auth_sent = true; /* TLS 1.3: the server asked, we sign */
        if (now_ms(ch) >= ch->deadline)
            return handshake_failed(ch, MBEDTLS_ERR_SSL_TIMEOUT, cfg->host);
        ch->io_timeout = (uint32_t)(ch->deadline - now_ms(ch));
        int ret = mbedtls_ssl_handshake_step(&ch->ssl);
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (ret == MBEDTLS_ERR_SSL_TIMEOUT && ch->datagram && timer_get(ch) != 2)
            continue; /* DTLS: a flight to retransmit (Mbed TLS did), not the final timeout */
        if (ret != 0)
            return handshake_failed(ch, ret, cfg->host);
    }
    ch->deadline = 0;
    wipe_conf_psk(ch);
    if (ch->vflags) /* a verify callback flag Mbed TLS did not act on (e.g. optional mode) */
        return handshake_failed(ch, MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, cfg->host);
    ch->resumed = offered && !ch->full_handshake;
    if (ch->require_client_auth && !ch->resumed && !ch->client_auth_sent) {
        int r = mbedtls_ssl_send_alert_message(&ch->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                               MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY);
        (void)r;
        fs38_diag_set(&ch->diag, FS38_ERR_TLS,
                      "server did not request a client certificate (policy requires mutual authentication)");
        return channel_fail(ch, FS38_EV_CHANNEL_REFUSED);
    }
    ch->state = ST_OPEN;
    char detail[96];
    (void)fs38_fmt(detail, sizeof detail, "%s %s %s", mbedtls_ssl_get_version(&ch->ssl), cfg->host,
                   ch->resumed ? "resumed" : "full handshake");
    fs38_event(FS38_EV_CHANNEL_OPEN, FS38_SEV_INFO, ch->resumed ? 1 : 0, detail);
    ch->quiet = false;
    return FS38_OK;
}

fs38_err fs38_channel_open(fs38_channel *ch, const fs38_channel_config *cfg)
{
    if (!ch || !cfg)
        return FS38_ERR_ARG;
    if (!cfg->session || !cfg->session->len)
        return open_once(ch, cfg, false);
    /* A session to resume. A server that cannot resume it should answer with a full
     * handshake; some refuse the abbreviated one instead (libcoap 4.3.1's coap-server with
     * client certificates: OpenSSL's "session id context uninitialized", alert 80). Such a
     * refusal — an alert before any server certificate — is retried once as a full handshake,
     * which verifies everything; any other failure is reported as it is. */
    fs38_err e = open_once(ch, cfg, true);
    if (e == FS38_OK)
        return FS38_OK;
    if (e == FS38_ERR_TLS && !ch->full_handshake && !ch->verified) {
        fs38_channel_config again = *cfg;
        again.session = NULL;
        fs38_channel_close(ch);
        return open_once(ch, &again, false);
    }
    if (ch->held_ev)
        fs38_event((fs38_event_code)ch->held_ev,
                   ch->held_ev == FS38_EV_CHANNEL_REFUSED ? FS38_SEV_WARNING : FS38_SEV_ERROR, (int64_t)e, ch->diag.msg);
    ch->quiet = false;
    return e;
}

/* ---- the open channel ---- */

/* A failure of the open channel: diag + close + FS38_EV_CHANNEL_FAILED. */
static fs38_err io_failed(fs38_channel *ch, int ret, const char *what)
{
    char m[64];
    switch (ret) {
    case MBEDTLS_ERR_SSL_CONN_EOF:
        fs38_diag_set(&ch->diag, FS38_ERR_TLS, "%s: connection cut without close_notify (truncated)", what);
        break;
    case MBEDTLS_ERR_SSL_INVALID_MAC:
    case MBEDTLS_ERR_SSL_INVALID_RECORD:
    case MBEDTLS_ERR_SSL_DECODE_ERROR:
    case MBEDTLS_ERR_SSL_UNEXPECTED_RECORD:
        fs38_diag_set(&ch->diag, FS38_ERR_TLS, "%s: forged, corrupted or truncated record", what);
        break;
    case MBEDTLS_ERR_NET_SEND_FAILED:
    case MBEDTLS_ERR_NET_RECV_FAILED:
        fs38_diag_set(&ch->diag, ch->io_err == FS38_ERR_TIMEOUT ? FS38_ERR_TIMEOUT : FS38_ERR_NET,
                      "%s: network failed (%s)", what, fs38_strerror(ch->io_err));
        break;
    default:
        mbedtls_strerror(ret, m, sizeof m);
        fs38_diag_set(&ch->diag, FS38_ERR_TLS, "%s: %s", what, m);
        break;
    }
    return channel_fail(ch, FS38_EV_CHANNEL_FAILED);
}

static FS38_NODISCARD fs38_err tr_send(void *ctx, const uint8_t *buf, size_t len)
{
    fs38_channel *ch = ctx;
    if (!ch || ch->state != ST_OPEN)
        return FS38_ERR_CLOSED;
    if (!buf && len)
        return FS38_ERR_ARG;
    if (ch->datagram) {
        int max = mbedtls_ssl_get_max_out_record_payload(&ch->ssl);
        if (max < 0 || len > (size_t)max)
            return fs38_diag_set(&ch->diag, FS38_ERR_BUFFER, "datagram of %zu bytes exceeds one DTLS record (%d)",
                                 len, max);
    }
    size_t done = 0;
    do {
        int ret = mbedtls_ssl_write(&ch->ssl, buf + done, len - done);
        if (ret == MBEDTLS_ERR_SSL_WANT_WRITE || ret == MBEDTLS_ERR_SSL_WANT_READ)
            continue;
        if (ret < 0)
            return io_failed(ch, ret, "send");
        done += (size_t)ret;
    } while (done < len);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err tr_recv(void *ctx, uint8_t *buf, size_t cap, size_t *len, uint32_t timeout_ms)
{
    fs38_channel *ch = ctx;
    if (!ch || ch->state != ST_OPEN)
        return FS38_ERR_CLOSED;
    if (!buf || !len || cap == 0)
        return FS38_ERR_ARG;
    *len = 0;
    uint64_t end = now_ms(ch) + timeout_ms;
    for (;;) {
        uint64_t now = now_ms(ch);
        uint32_t left = now >= end ? 1u : (uint32_t)(end - now);
        ch->io_timeout = left;
        mbedtls_ssl_conf_read_timeout(&ch->conf, left);
        int ret = mbedtls_ssl_read(&ch->ssl, buf, cap);
        if (ret > 0) {
            if (ch->datagram && mbedtls_ssl_get_bytes_avail(&ch->ssl) > 0) {
                uint8_t sink[64]; /* the rest of a record that did not fit: discard it */
                while (mbedtls_ssl_get_bytes_avail(&ch->ssl) > 0)
                    if (mbedtls_ssl_read(&ch->ssl, sink, sizeof sink) <= 0)
                        break;
                fs38_wipe(sink, sizeof sink);
                return FS38_ERR_BUFFER;
            }
            *len = (size_t)ret;
            return FS38_OK;
        }
        if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
            ch->ticket = true;
            continue;
        }
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
            if (now_ms(ch) >= end)
                return FS38_ERR_TIMEOUT;
            continue;
        }
        if (ret == MBEDTLS_ERR_SSL_TIMEOUT)
            return FS38_ERR_TIMEOUT;
        if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
            teardown(ch);
            ch->state = ST_FAILED;
            return fs38_diag_set(&ch->diag, FS38_ERR_CLOSED, "server closed the channel (close_notify)");
        }
        return io_failed(ch, ret == 0 ? MBEDTLS_ERR_SSL_CONN_EOF : ret, "receive");
    }
}

fs38_err fs38_channel_transport(fs38_channel *ch, fs38_transport *t)
{
    if (!ch || !t)
        return FS38_ERR_ARG;
    if (ch->state != ST_OPEN)
        return fs38_diag_set(&ch->diag, FS38_ERR_STATE, "channel is not open");
    t->ctx = ch;
    t->datagram = ch->datagram;
    t->send = tr_send;
    t->recv = tr_recv;
    return FS38_OK;
}

bool fs38_channel_resumed(const fs38_channel *ch)
{
    return ch && ch->state == ST_OPEN && ch->resumed;
}

bool fs38_channel_cid(const fs38_channel *ch)
{
    if (!ch || ch->state != ST_OPEN || !ch->datagram)
        return false;
    int enabled = MBEDTLS_SSL_CID_DISABLED;
    unsigned char peer[MBEDTLS_SSL_CID_OUT_LEN_MAX];
    size_t plen = 0;
    if (mbedtls_ssl_get_peer_cid((mbedtls_ssl_context *)&ch->ssl, &enabled, peer, &plen) != 0)
        return false;
    return enabled == MBEDTLS_SSL_CID_ENABLED;
}

void fs38_channel_wire_bytes(const fs38_channel *ch, uint64_t *tx, uint64_t *rx)
{
    if (tx)
        *tx = ch ? ch->tx_bytes : 0;
    if (rx)
        *rx = ch ? ch->rx_bytes : 0;
}

void fs38_channel_info(const fs38_channel *ch, const char **version, const char **suite)
{
    bool open = ch && ch->state == ST_OPEN;
    if (version)
        *version = open ? mbedtls_ssl_get_version(&ch->ssl) : "none";
    if (suite) {
        const char *s = open ? mbedtls_ssl_get_ciphersuite(&ch->ssl) : NULL;
        *suite = s ? s : "none";
    }
}

fs38_err fs38_channel_save_session(fs38_channel *ch, fs38_channel_session *sess)
{
    if (!ch || !sess)
        return FS38_ERR_ARG;
    sess->len = 0;
    if (ch->state != ST_OPEN)
        return fs38_diag_set(&ch->diag, FS38_ERR_STATE, "channel is not open");
    if (mbedtls_ssl_get_version_number(&ch->ssl) == MBEDTLS_SSL_VERSION_TLS1_3 && !ch->ticket)
        return fs38_diag_set(&ch->diag, FS38_ERR_NOT_FOUND,
                             "no TLS 1.3 session ticket received yet (save after the first exchange)");
    mbedtls_ssl_session s;
    mbedtls_ssl_session_init(&s);
    int ret = mbedtls_ssl_get_session(&ch->ssl, &s);
    fs38_err e = FS38_OK;
    if (ret) {
        e = fs38_diag_set(&ch->diag, FS38_ERR_NOT_FOUND, "no resumable session (-0x%x)", (unsigned)-ret);
    } else {
        size_t olen = 0;
        ret = mbedtls_ssl_session_save(&s, sess->data, sizeof sess->data, &olen);
        if (ret == MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL)
            e = fs38_diag_set(&ch->diag, FS38_ERR_BUFFER, "session of %zu bytes exceeds %u", olen,
                              (unsigned)FS38_CHANNEL_SESSION_MAX);
        else if (ret)
            e = fs38_diag_set(&ch->diag, FS38_ERR_CRYPTO, "session save failed (-0x%x)", (unsigned)-ret);
        else {
            sess->len = (uint16_t)olen;
            ch->ticket = false; /* TLS 1.3: one save per ticket */
        }
    }
    mbedtls_ssl_session_free(&s);
    if (e != FS38_OK)
        fs38_wipe(sess->data, sizeof sess->data);
    return e;
}

void fs38_channel_close(fs38_channel *ch)
{
    if (!ch)
        return;
    if (ch->state == ST_OPEN) {
        ch->io_timeout = 1000;
        int r = mbedtls_ssl_close_notify(&ch->ssl);
        (void)r;
    }
    if (ch->state != ST_NONE || ch->sock_open)
        teardown(ch);
    fs38_diag d = ch->diag;
    fs38_wipe(ch, sizeof *ch);
    ch->diag = d;
}
