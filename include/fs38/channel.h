/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/channel.h — the device's secure channel (controls 4 and 8): TLS 1.3 / 1.2 over TCP and
 * DTLS 1.2 over UDP on Mbed TLS's ssl module, authenticated both ways.
 *
 *   server         verified against the fleet CA the caller gives (DER or PEM), with the host
 *                  name checked against the certificate (SAN dNSName / iPAddress, else CN) and
 *                  sent as SNI; validity dates checked against the port's wall clock
 *                  (fs38_port.wall_time). Without a clock (wall_time NULL or FS38_ERR_NOT_FOUND)
 *                  the dates cannot be checked and are not: signature, chain, key usage and name
 *                  still are.
 *   device         its certificate (DER, fs38_identity_cert) and its private key as a PSA key id
 *                  (fs38_identity_signing_key): an opaque key, it never leaves PSA.
 *   PSK mode       for the smallest parts: a pre-shared key held as a PSA key id (persistent in
 *                  the sealed store; type PSA_KEY_TYPE_DERIVE, usage PSA_KEY_USAGE_DERIVE,
 *                  algorithm PSA_ALG_TLS12_PSK_TO_MS(PSA_ALG_SHA_256)) and its identity.
 *                  TLS 1.2 / DTLS 1.2 PSK-AES128-CCM-8 or PSK-AES128-GCM-SHA256, and over TCP
 *                  with psk_tls13 TLS 1.3 first (external PSK, psk_dhe_ke; psk_ke with
 *                  tls13_psk_only). No certificate is used or checked in this mode.
 *
 * Policy, not options: AEAD suites only — TLS 1.3 AES-128-GCM-SHA256 and CHACHA20-POLY1305-SHA256;
 * TLS 1.2 / DTLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256 and ECDHE-ECDSA-AES128-CCM-8 (P-256, SHA-256
 * signatures); PSK-AES128-CCM-8 and PSK-AES128-GCM-SHA256 in PSK mode. Minimum TLS 1.2 (TLS 1.3
 * preferred over TCP; DTLS is 1.2), no renegotiation, no compression (neither is even built),
 * DTLS Connection ID (RFC 9146) offered unless turned off, DTLS records that fail
 * authentication close the channel (Mbed TLS's bad-MAC limit 1). Plaintext is not a mode.
 *
 * Failures. Every failure closes the connection (the socket is closed; nothing received is
 * delivered), raises a security event and leaves a one-line diagnostic in ch->diag:
 *   - handshake / authentication / policy refusals (unknown CA, expired or not-yet-valid
 *     certificate, host name mismatch, version or suite downgrade, a server that does not ask
 *     for the device certificate when the config requires it, a handshake alert):
 *     FS38_ERR_TLS, event FS38_EV_CHANNEL_REFUSED (arg: the fs38_err);
 *   - a failure of an open channel (a forged or truncated record, the connection cut without
 *     close_notify): FS38_ERR_TLS, event FS38_EV_CHANNEL_FAILED;
 *   - network: FS38_ERR_NET / FS38_ERR_TIMEOUT (event FS38_EV_CHANNEL_FAILED).
 * A receive that merely times out on an open channel (fs38_transport.recv) is not a failure:
 * FS38_ERR_TIMEOUT, the channel stays open, no event. A close_notify from the server is
 * FS38_ERR_CLOSED without an event. A successful open raises FS38_EV_CHANNEL_OPEN (arg 1 when
 * the handshake was resumed, 0 for a full one).
 *
 * Session resumption: a caller that keeps an fs38_channel_session between connections (RAM,
 * or its own storage) and passes it in fs38_channel_config.session reconnects with an
 * abbreviated handshake (TLS 1.3 ticket, TLS 1.2 / DTLS 1.2 session ticket or session id): no
 * certificate verification and no ECDHE-ECDSA signature. TLS 1.3 resumes with psk_dhe_ke
 * (one ECDHE each side, forward secret) unless tls13_psk_only asks for psk_ke. A server that
 * refuses the abbreviated handshake with an alert (instead of answering with a full one, as
 * libcoap 4.3.1's coap-server does with client certificates) gets one more connection with a
 * full handshake, which verifies everything; only that attempt's outcome raises an event. fs38_channel_resumed() says whether
 * it happened; a server that declines simply gets a full handshake. The session is a secret
 * (it holds the resumption key): keep it like a key, wipe it with fs38_wipe when done.
 *
 * Memory: the context (sizeof(fs38_channel): 2720 bytes on x86-64 with fs38's Mbed TLS
 * configuration; bench/channel prints it) holds the Mbed TLS
 * ssl context and configuration, the parsed CA and device certificates and the opaque key.
 * Mbed TLS allocates its own record buffers on its heap at fs38_channel_open (about
 * MBEDTLS_SSL_IN_CONTENT_LEN + MBEDTLS_SSL_OUT_CONTENT_LEN + 2 x ~100 bytes, plus the parsed
 * certificates and the handshake state while it runs: about 28 KB open and 32 KB at the
 * handshake's peak for ECDHE-ECDSA, 22 / 23 KB for PSK, with 16 KiB in + 4 KiB out buffers);
 * libfs38's own code allocates nothing.
 *
 * Lifecycle: fs38_channel_open() → fs38_channel_transport() → send / recv → fs38_channel_close()
 * (always, also after a failure: it frees what Mbed TLS allocated). psa_crypto_init() must have
 * run. One channel is used by one task at a time; distinct channels are independent.
 */
#ifndef FS38_CHANNEL_H
#define FS38_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <psa/crypto.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/pk.h>
#include "fs38/err.h"
#include "fs38/keys.h"
#include "fs38/net.h"
#include "fs38/port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Transport of a channel. */
typedef enum fs38_channel_mode {
    FS38_CHANNEL_TLS = 0, /* TCP: TLS 1.3 preferred, TLS 1.2 accepted */
    FS38_CHANNEL_DTLS = 1 /* UDP: DTLS 1.2 (with Connection ID unless dtls_no_cid) */
} fs38_channel_mode;

/* Largest serialised session (Mbed TLS's mbedtls_ssl_session_save output: master secret or
 * resumption key, ticket, the server certificate). */
#define FS38_CHANNEL_SESSION_MAX 2048u

/* A resumable session, kept by the caller between connections. len 0: none. Secret. */
typedef struct fs38_channel_session {
    uint16_t len;
    uint8_t data[FS38_CHANNEL_SESSION_MAX];
} fs38_channel_session;

typedef struct fs38_channel_config {
    fs38_channel_mode mode;
    const char *host;          /* server name or address: connected to, sent as SNI, verified */
    uint16_t port;             /* server port */
    const fs38_net *net;       /* the platform's sockets (outlives the channel) */
    const fs38_port *platform; /* monotonic_ms (timers, timeouts) and wall_time (validity) */

    /* Server trust (certificate mode): the fleet CA(s), DER, or PEM including its final NUL
     * byte in ca_len (as Mbed TLS parses PEM). */
    const uint8_t *ca;
    size_t ca_len;
    /* Device identity (certificate mode): certificate DER and the PSA id of its private key. */
    const uint8_t *cert;
    size_t cert_len;
    psa_key_id_t key;
    /* Or (key 0) the device key through the key interface (fs38/keys.h, fs38_identity_device_key):
     * a PSA key is used as Mbed TLS's opaque PK; a key kept outside PSA (a TPM) is refused with
     * FS38_ERR_UNSUPPORTED_ALG until it is reachable through a PSA driver (docs/secure-elements.md). */
    const fs38_key *device_key;
    /* Refuse a server that does not ask for the device certificate (mutual authentication). */
    bool require_client_auth;

    /* PSK mode when psk != 0 (then ca / cert / key are ignored). */
    psa_key_id_t psk;
    const uint8_t *psk_identity;
    size_t psk_identity_len;   /* 1..128 */

    /* PSK mode over TCP: offer TLS 1.3 with the external PSK (RFC 8446 §2.2) before the
     * TLS 1.2 PSK suites. The PSA key then also needs PSA_KEY_USAGE_EXPORT: Mbed TLS 3.6's
     * TLS 1.3 client computes the PSK binder and key schedule from the raw key only (an opaque
     * PSK yields a binder the server refuses), so the channel exports it into Mbed TLS's copy
     * for the handshake and wipes that copy as soon as the handshake is over; without
     * psk_tls13 (TLS 1.2 / DTLS 1.2) the key is used inside PSA only. */
    bool psk_tls13;

    /* In: a session from fs38_channel_save_session() to resume (len 0 or NULL: none). */
    const fs38_channel_session *session;

    /* TLS 1.3 PSK key exchange mode (RFC 8446 §4.2.9), for ticket resumption and an external
     * PSK alike. false (the default): psk_dhe_ke only — the handshake also runs an ECDHE
     * (P-256), so the connection keeps forward secrecy: whoever later learns the resumption
     * secret (the saved session, or the server's ticket key) or the PSK still cannot decrypt
     * recorded traffic. true: psk_ke only — no ECDHE on either side (a resumed TLS 1.3
     * handshake then costs a few hash and AEAD operations), but the connection's keys derive
     * from the PSK alone: anyone who obtains the saved session, the server's ticket-encryption
     * key or the PSK can decrypt every connection recorded under it. A server that does not
     * allow psk_ke (OpenSSL without SSL_OP_ALLOW_NO_DHE_KEX) answers with a full handshake
     * (certificate mode) or refuses (PSK mode). A deliberate policy choice, per fleet. */
    bool tls13_psk_only;

    uint32_t handshake_timeout_ms; /* whole handshake, connect included; 0: 30000 */
    uint32_t dtls_retransmit_min_ms; /* DTLS retransmission timer, doubling; 0: 1000 */
    uint32_t dtls_retransmit_max_ms; /* give up after this; 0: 8000 */
    bool dtls_no_cid;              /* DTLS: do not offer a Connection ID */
} fs38_channel_config;

/* The channel: caller-owned; its layout is the library's (FS38_PRIVATE). */
typedef struct fs38_channel {
    mbedtls_ssl_context FS38_PRIVATE(ssl);
    mbedtls_ssl_config FS38_PRIVATE(conf);
    mbedtls_x509_crt FS38_PRIVATE(ca);
    mbedtls_x509_crt FS38_PRIVATE(own);
    mbedtls_pk_context FS38_PRIVATE(key);
    const fs38_net *FS38_PRIVATE(net);
    const fs38_port *FS38_PRIVATE(platform);
    intptr_t FS38_PRIVATE(sock);
    int FS38_PRIVATE(suites)[8];
    uint16_t FS38_PRIVATE(groups)[2];
    uint16_t FS38_PRIVATE(sig_algs)[2];
    uint64_t FS38_PRIVATE(timer_start);
    uint32_t FS38_PRIVATE(timer_int);
    uint32_t FS38_PRIVATE(timer_fin);
    uint64_t FS38_PRIVATE(deadline);   /* handshake deadline (monotonic ms), 0: none */
    uint32_t FS38_PRIVATE(io_timeout); /* current receive timeout */
    fs38_err FS38_PRIVATE(io_err);     /* what the socket said when Mbed TLS saw an I/O error */
    uint32_t FS38_PRIVATE(vflags);     /* verification flags (ours + Mbed TLS's) at depth 0.. */
    int64_t FS38_PRIVATE(not_after);   /* depth-0 certificate validity, for the diagnostic */
    int64_t FS38_PRIVATE(not_before);
    int64_t FS38_PRIVATE(now);
    char FS38_PRIVATE(peer_name)[64];  /* the name the server certificate is for */
    uint64_t FS38_PRIVATE(tx_bytes);   /* bytes on the wire (records), both ways */
    uint64_t FS38_PRIVATE(rx_bytes);
    uint8_t FS38_PRIVATE(state);       /* 0 closed, 1 set up, 2 open, 3 failed */
    bool FS38_PRIVATE(sock_open);
    bool FS38_PRIVATE(datagram);
    bool FS38_PRIVATE(psk_mode);
    bool FS38_PRIVATE(require_client_auth);
    bool FS38_PRIVATE(client_auth_sent); /* the device signed a CertificateVerify */
    bool FS38_PRIVATE(ccs_sent);
    bool FS38_PRIVATE(full_handshake);
    bool FS38_PRIVATE(resumed);
    bool FS38_PRIVATE(verified);         /* the verify callback ran */
    bool FS38_PRIVATE(ticket);           /* TLS 1.3: a NewSessionTicket arrived */
    bool FS38_PRIVATE(quiet);            /* resumption attempt: a failure's event is held */
    uint16_t FS38_PRIVATE(held_ev);      /* the held event */
    fs38_diag diag;                      /* why the last call failed */
} fs38_channel;

/**
 * \brief Connect and run the handshake under the channel policy (see the top of this file).
 *
 * \param[out] ch  Channel context (zeroed first). Call fs38_channel_close() afterwards in every
 *                 case, also when this fails.
 * \param[in]  cfg Configuration; cfg and what it points to (certificates, CA, PSK identity,
 *                 session) are read during this call only, except cfg->net and cfg->platform,
 *                 which must outlive the channel.
 * \return FS38_OK when the channel is open (event FS38_EV_CHANNEL_OPEN); FS38_ERR_ARG for a
 *         NULL or inconsistent configuration (no host, port 0, no net / platform /
 *         monotonic_ms, neither a PSK nor cert + key + CA, a CA or certificate Mbed TLS cannot
 *         parse, a PSK identity of 0 or > 128 bytes); FS38_ERR_TLS when the handshake is
 *         refused (ch->diag says what: "server certificate: not signed by the fleet CA",
 *         "server certificate: expired ...", "host name mismatch: certificate is for X",
 *         "server did not request a client certificate (policy requires it)", "server
 *         offered TLS < 1.2 (downgrade refused)", "handshake refused by the server (alert
 *         N)", ...; event FS38_EV_CHANNEL_REFUSED); FS38_ERR_NET / FS38_ERR_TIMEOUT when the
 *         server cannot be reached or the handshake does not finish in time (event
 *         FS38_EV_CHANNEL_FAILED); FS38_ERR_CRYPTO when Mbed TLS fails to set up;
 *         FS38_ERR_UNSUPPORTED_ALG when cfg->device_key is kept outside PSA (nothing sent).
 */
FS38_NODISCARD fs38_err fs38_channel_open(fs38_channel *ch, const fs38_channel_config *cfg);

/**
 * \brief The open channel as an fs38_transport (stream for TLS, datagram for DTLS), for the
 *        CoAP and MQTT clients.
 *
 * \param[in,out] ch An open channel; it must outlive every use of t.
 * \param[out]    t  Filled with ch as its context. Through it: send() of a datagram larger
 *                   than one DTLS record is FS38_ERR_BUFFER; recv() returns FS38_ERR_TIMEOUT
 *                   (channel still open), FS38_ERR_CLOSED after the server's close_notify, or
 *                   closes the channel and returns FS38_ERR_TLS / FS38_ERR_NET on any failure
 *                   (event FS38_EV_CHANNEL_FAILED). After a failure every call returns
 *                   FS38_ERR_CLOSED.
 * \return FS38_OK; FS38_ERR_ARG when ch or t is NULL; FS38_ERR_STATE when ch is not open.
 */
FS38_NODISCARD fs38_err fs38_channel_transport(fs38_channel *ch, fs38_transport *t);

/**
 * \brief Whether the open channel's handshake was an abbreviated (resumed) one.
 *
 * \param[in] ch An open channel.
 * \return true when a session given in the configuration was resumed; false for a full
 *         handshake (or when ch is NULL or not open).
 */
bool fs38_channel_resumed(const fs38_channel *ch);

/**
 * \brief Whether the DTLS channel uses a Connection ID (RFC 9146) the server gave.
 *
 * \param[in] ch An open channel.
 * \return true when the server agreed to a Connection ID; false otherwise (TLS, or a server
 *         without RFC 9146 support, or dtls_no_cid).
 */
bool fs38_channel_cid(const fs38_channel *ch);

/**
 * \brief Bytes that went over the wire (records, handshake included) in each direction.
 *
 * \param[in]  ch Channel (open or closed, not yet reused).
 * \param[out] tx Bytes sent; may be NULL.
 * \param[out] rx Bytes received; may be NULL.
 */
void fs38_channel_wire_bytes(const fs38_channel *ch, uint64_t *tx, uint64_t *rx);

/**
 * \brief The negotiated protocol version and suite, for logs ("TLSv1.3",
 *        "TLS1-3-AES-128-GCM-SHA256").
 *
 * \param[in]  ch     An open channel.
 * \param[out] version Static string, or "none"; may be NULL.
 * \param[out] suite   Static string, or "none"; may be NULL.
 */
void fs38_channel_info(const fs38_channel *ch, const char **version, const char **suite);

/**
 * \brief Save the open channel's session for a later resumed reconnect.
 *
 * For TLS 1.3 the server sends its ticket after the handshake: save after the first
 * exchange of application data (the ticket is processed by the channel's recv).
 *
 * \param[in,out] ch   An open channel.
 * \param[out]    sess Filled (len > 0) on FS38_OK; left with len 0 otherwise. Secret.
 * \return FS38_OK; FS38_ERR_ARG when ch or sess is NULL; FS38_ERR_STATE when ch is not open;
 *         FS38_ERR_NOT_FOUND when the server gave nothing to resume with (TLS 1.3: no ticket
 *         yet, or the ticket was saved already; TLS 1.2: no session id or ticket);
 *         FS38_ERR_BUFFER when the session exceeds FS38_CHANNEL_SESSION_MAX;
 *         FS38_ERR_CRYPTO for another Mbed TLS failure.
 */
FS38_NODISCARD fs38_err fs38_channel_save_session(fs38_channel *ch, fs38_channel_session *sess);

/**
 * \brief Send close_notify (open channels), close the socket and free everything Mbed TLS
 *        allocated; the context is wiped. Safe on a failed, closed or zeroed context.
 *
 * \param[in,out] ch Channel, or NULL (nothing happens).
 */
void fs38_channel_close(fs38_channel *ch);

#ifdef __cplusplus
}
#endif
#endif /* FS38_CHANNEL_H */
