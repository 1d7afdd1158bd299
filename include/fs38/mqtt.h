/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/mqtt.h — MQTT 3.1.1 client (OASIS standard, 29 October 2014) over a stream transport
 * (control 4): log batches go to fs38/<ueid>/log, update notices come from
 * fs38/<class-id>/update.
 *
 * Two layers:
 *
 *   codec   fs38_mqtt_frame / fs38_mqtt_decode parse what a server sends a QoS 0/1 client
 *           (CONNACK, PUBLISH, PUBACK, SUBACK, UNSUBACK, PINGRESP); fs38_mqtt_encode_* build
 *           what the client sends (CONNECT, PUBLISH, PUBACK, SUBSCRIBE, UNSUBSCRIBE, PINGREQ,
 *           DISCONNECT). The decoder is strict: a reserved flag set, a length that does not
 *           add up, a Remaining Length in 5+ bytes or not in its shortest form, a topic name
 *           that is empty, ill-formed UTF-8 (overlong, surrogates, U+0000), has a control
 *           character (U+0001..U+001F, U+007F..U+009F) or a wildcard, a packet identifier 0, a
 *           QoS 2 packet, a packet type only clients send — each is FS38_ERR_PROTOCOL with a
 *           diagnostic naming the packet and the fault. Decoded topics and payloads point into
 *           the caller's buffer.
 *
 *   client  fs38_mqtt over an fs38_transport (stream; fs38_channel provides TLS). It frames the
 *           incoming byte stream itself (a recv may hold part of a packet or several), runs the
 *           CONNECT/CONNACK handshake (clean session false: the broker keeps the session and
 *           subscriptions across reconnects), PUBLISH QoS 1 with PUBACK wait and retransmission
 *           (DUP=1, same packet identifier), SUBSCRIBE, delivery of incoming PUBLISH messages to
 *           a callback (QoS 1 ones acknowledged with PUBACK after the callback returns), and
 *           keep-alive (PINGREQ after keep_alive_s seconds without sending; the connection is
 *           lost when the PINGRESP does not come within keep_alive_s). fs38_mqtt_poll() lets a
 *           device main loop run it with a timeout.
 *
 * Refusals: every malformed, oversized (more than the receive buffer holds) or unexpected
 * packet and every CONNACK refusal raises fs38_event(FS38_EV_MQTT_REFUSED, FS38_SEV_WARNING,
 * err, diagnostic) and takes the client down: nothing further is delivered, every call but
 * fs38_mqtt_connect / fs38_mqtt_disconnect answers FS38_ERR_STATE, and the caller closes the
 * transport (and may open a new one and connect again). A transport failure (FS38_ERR_CLOSED,
 * FS38_ERR_NET, FS38_ERR_TLS, FS38_ERR_TIMEOUT from send) takes the client down the same way,
 * without an MQTT event (the channel reports its own).
 *
 * No allocation, no stdio. The context and both buffers belong to the caller; the receive
 * buffer's size is the largest packet the client accepts, the transmit buffer holds every
 * packet but a PUBLISH payload (sent straight from the caller's buffer when it does not fit).
 * Not thread-safe: one thread drives one client. Lifecycle: fs38_mqtt_init (no resource),
 * fs38_mqtt_connect, then publish / subscribe / poll, fs38_mqtt_disconnect.
 */
#ifndef FS38_MQTT_H
#define FS38_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fs38/err.h"
#include "fs38/net.h"
#include "fs38/port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest Remaining Length MQTT can encode (4 bytes of 7 bits): 268,435,455. */
#define FS38_MQTT_REMAINING_MAX 268435455u
/* Longest fixed header: type/flags byte + 4 Remaining Length bytes. */
#define FS38_MQTT_FIXED_HEADER_MAX 5u
/* Smallest receive / transmit buffers the client accepts. */
#define FS38_MQTT_BUF_MIN 64u
/* Topic builders: "fs38/" + 2 x ueid bytes + "/log" + NUL for a FS38_MQTT_UEID_MAX-byte UEID. */
#define FS38_MQTT_UEID_MAX 33u
#define FS38_MQTT_TOPIC_MAX (5u + 2u * FS38_MQTT_UEID_MAX + 8u)

/* Control packet types (MQTT 3.1.1 §2.2.1). */
typedef enum fs38_mqtt_type {
    FS38_MQTT_CONNECT = 1,
    FS38_MQTT_CONNACK = 2,
    FS38_MQTT_PUBLISH = 3,
    FS38_MQTT_PUBACK = 4,
    FS38_MQTT_PUBREC = 5,
    FS38_MQTT_PUBREL = 6,
    FS38_MQTT_PUBCOMP = 7,
    FS38_MQTT_SUBSCRIBE = 8,
    FS38_MQTT_SUBACK = 9,
    FS38_MQTT_UNSUBSCRIBE = 10,
    FS38_MQTT_UNSUBACK = 11,
    FS38_MQTT_PINGREQ = 12,
    FS38_MQTT_PINGRESP = 13,
    FS38_MQTT_DISCONNECT = 14
} fs38_mqtt_type;

/* CONNACK return codes (§3.2.2.3); 1..5 are refusals. */
typedef enum fs38_mqtt_connack_rc {
    FS38_MQTT_CONNACK_ACCEPTED = 0,
    FS38_MQTT_CONNACK_BAD_VERSION = 1,
    FS38_MQTT_CONNACK_ID_REJECTED = 2,
    FS38_MQTT_CONNACK_UNAVAILABLE = 3,
    FS38_MQTT_CONNACK_BAD_CREDENTIALS = 4,
    FS38_MQTT_CONNACK_NOT_AUTHORIZED = 5
} fs38_mqtt_connack_rc;

/* SUBACK return code for a refused subscription (§3.9.3). */
#define FS38_MQTT_SUBACK_FAILURE 0x80u

/* A decoded packet (fs38_mqtt_decode); also the input of fs38_mqtt_encode_publish. Pointers
 * point into the decoded buffer. Fields a packet type does not have are zero. */
typedef struct fs38_mqtt_packet {
    fs38_mqtt_type type;
    uint8_t flags;           /* low nibble of the first byte */
    uint16_t packet_id;      /* PUBLISH with QoS 1, PUBACK, SUBACK, UNSUBACK (never 0) */
    /* CONNACK */
    bool session_present;
    uint8_t return_code;     /* 0..5 */
    /* PUBLISH */
    uint8_t qos;             /* 0 or 1 */
    bool dup;
    bool retain;
    const char *topic;       /* not NUL-terminated */
    size_t topic_len;
    const uint8_t *payload;  /* PUBLISH payload; SUBACK: the return codes, one per filter */
    size_t payload_len;
} fs38_mqtt_packet;

/* What fs38_mqtt_encode_connect sends. */
typedef struct fs38_mqtt_connect_opts {
    const char *client_id;     /* NUL-terminated, 1..65535 bytes of UTF-8 (the UEID in hex) */
    uint16_t keep_alive_s;     /* 0 = no keep-alive */
    bool clean_session;        /* fs38's client sends false (persistent session) */
    const char *username;      /* NUL-terminated, or NULL (none: with TLS client certificates) */
    const uint8_t *password;   /* binary, or NULL; only together with a username */
    size_t password_len;
} fs38_mqtt_connect_opts;

/* ---- codec -------------------------------------------------------------------------------- */

/**
 * \brief Frame a stream: read the fixed header at buf and tell how long the whole packet is.
 *
 * \param[in]  buf        Bytes received so far (the packet starts at buf[0]); may be NULL when
 *                        len is 0.
 * \param[in]  len        Number of bytes at buf.
 * \param[in]  max_packet Largest whole packet (fixed header included) accepted.
 * \param[out] packet_len Whole packet length (fixed header + Remaining Length), which may be
 *                        more than len (wait for the rest); 0 when the fixed header itself is
 *                        not complete yet.
 * \param[out] diag       Why a packet is refused; may be NULL.
 * \return FS38_OK; FS38_ERR_PROTOCOL when the Remaining Length has a 5th byte, is not in its
 *         shortest form, or the packet would exceed max_packet (diag gives the length);
 *         FS38_ERR_ARG when packet_len is NULL, or buf is NULL with len > 0.
 */
FS38_NODISCARD fs38_err fs38_mqtt_frame(const uint8_t *buf, size_t len, size_t max_packet, size_t *packet_len,
                                        fs38_diag *diag);

/**
 * \brief Decode one whole packet sent by a server to a QoS 0/1 client.
 *
 * \param[in]  buf  Exactly one packet (fixed header first, nothing after it).
 * \param[in]  len  Its length.
 * \param[out] pkt  The decoded fields (zeroed first); topic and payload point into buf.
 * \param[out] diag Why the packet is refused; may be NULL.
 * \return FS38_OK; FS38_ERR_PROTOCOL for a malformed packet (reserved type 0/15, reserved flags,
 *         Remaining Length not matching len or not minimal, a length field running past the
 *         end, CONNACK with a return code > 5 or session-present on a refusal, PUBLISH with
 *         QoS 3, DUP on QoS 0, an invalid topic name, packet identifier 0, SUBACK with a
 *         return code other than 0, 1, 2, 0x80), for QoS 2 packets (PUBREC, PUBREL, PUBCOMP)
 *         and for packets only clients send (CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ,
 *         DISCONNECT); FS38_ERR_ARG when buf or pkt is NULL.
 */
FS38_NODISCARD fs38_err fs38_mqtt_decode(const uint8_t *buf, size_t len, fs38_mqtt_packet *pkt, fs38_diag *diag);

/**
 * \brief Check a topic name (is_filter false: PUBLISH, no wildcards) or a topic filter
 *        (is_filter true: SUBSCRIBE, '+' alone in a level, '#' alone in the last level).
 *
 * \param[in]  topic     len bytes (no NUL needed); may be NULL when len is 0.
 * \param[in]  len       Its length.
 * \param[in]  is_filter Filter rules instead of name rules.
 * \param[out] diag      What is wrong and at which byte; may be NULL.
 * \return FS38_OK; FS38_ERR_PROTOCOL when it is empty, longer than 65535 bytes, not well-formed
 *         UTF-8 (overlong, surrogate, above U+10FFFF, truncated), holds U+0000 or a control
 *         character (U+0001..U+001F, U+007F..U+009F), or breaks the wildcard rules.
 */
FS38_NODISCARD fs38_err fs38_mqtt_topic_check(const char *topic, size_t len, bool is_filter, fs38_diag *diag);

/**
 * \brief Encode CONNECT (protocol "MQTT" level 4, no will).
 *
 * \param[in]  opts Client id, keep-alive, clean-session flag, optional username and password.
 * \param[out] buf  Output.
 * \param[in]  cap  Its size.
 * \param[out] len  Bytes written (the packet length even on FS38_ERR_BUFFER).
 * \return FS38_OK; FS38_ERR_BUFFER when cap is too small; FS38_ERR_ARG when an argument is
 *         NULL, the client id is empty, too long or not valid UTF-8 (as for topics), the
 *         username is too long or invalid, the password is longer than 65535 bytes, or a
 *         password comes without a username (MQTT 3.1.1 §3.1.2.9).
 */
FS38_NODISCARD fs38_err fs38_mqtt_encode_connect(const fs38_mqtt_connect_opts *opts, uint8_t *buf, size_t cap,
                                                 size_t *len);

/**
 * \brief Encode the start of a PUBLISH: fixed header, topic name and packet identifier, i.e.
 *        everything but the payload (which follows these bytes on the wire unchanged).
 *
 * \param[in]  pub  topic / topic_len, payload_len, qos (0 or 1), dup, retain, packet_id (1..65535
 *                  for QoS 1, ignored for QoS 0); payload is not read.
 * \param[out] buf  Output.
 * \param[in]  cap  Its size.
 * \param[out] len  Header bytes written (their length even on FS38_ERR_BUFFER).
 * \return FS38_OK; FS38_ERR_BUFFER when cap is too small; FS38_ERR_ARG when an argument is
 *         NULL, the topic is not a valid topic name, qos > 1, DUP on QoS 0, packet id 0 with
 *         QoS 1, or the packet would exceed FS38_MQTT_REMAINING_MAX.
 */
FS38_NODISCARD fs38_err fs38_mqtt_encode_publish_head(const fs38_mqtt_packet *pub, uint8_t *buf, size_t cap,
                                                      size_t *len);

/**
 * \brief Encode a whole PUBLISH (fs38_mqtt_encode_publish_head followed by the payload).
 *
 * \param[in]  pub  As for fs38_mqtt_encode_publish_head; payload may be NULL when payload_len is 0.
 * \param[out] buf  Output.
 * \param[in]  cap  Its size.
 * \param[out] len  Bytes written (the packet length even on FS38_ERR_BUFFER).
 * \return FS38_OK; FS38_ERR_BUFFER when cap is too small; FS38_ERR_ARG as for
 *         fs38_mqtt_encode_publish_head, or a NULL payload with payload_len > 0.
 */
FS38_NODISCARD fs38_err fs38_mqtt_encode_publish(const fs38_mqtt_packet *pub, uint8_t *buf, size_t cap, size_t *len);

/**
 * \brief Encode PUBACK for a QoS 1 PUBLISH received.
 *
 * \param[in]  packet_id 1..65535.
 * \param[out] buf       Output (4 bytes).
 * \param[in]  cap       Its size.
 * \param[out] len       Bytes written (4, even on FS38_ERR_BUFFER).
 * \return FS38_OK; FS38_ERR_BUFFER when cap < 4; FS38_ERR_ARG when buf or len is NULL or
 *         packet_id is 0.
 */
FS38_NODISCARD fs38_err fs38_mqtt_encode_puback(uint16_t packet_id, uint8_t *buf, size_t cap, size_t *len);

/**
 * \brief Encode SUBSCRIBE with one topic filter.
 *
 * \param[in]  packet_id  1..65535.
 * \param[in]  filter     Topic filter (filter_len bytes).
 * \param[in]  filter_len Its length.
 * \param[in]  qos        Maximum QoS requested: 0 or 1.
 * \param[out] buf        Output.
 * \param[in]  cap        Its size.
 * \param[out] len        Bytes written (the packet length even on FS38_ERR_BUFFER).
 * \return FS38_OK; FS38_ERR_BUFFER when cap is too small; FS38_ERR_ARG when an argument is
 *         NULL, packet_id is 0, qos > 1 or the filter is not a valid topic filter.
 */
FS38_NODISCARD fs38_err fs38_mqtt_encode_subscribe(uint16_t packet_id, const char *filter, size_t filter_len,
                                                   uint8_t qos, uint8_t *buf, size_t cap, size_t *len);

/**
 * \brief Encode UNSUBSCRIBE with one topic filter.
 *
 * \param[in]  packet_id  1..65535.
 * \param[in]  filter     Topic filter (filter_len bytes).
 * \param[in]  filter_len Its length.
 * \param[out] buf        Output.
 * \param[in]  cap        Its size.
 * \param[out] len        Bytes written (the packet length even on FS38_ERR_BUFFER).
 * \return FS38_OK; FS38_ERR_BUFFER when cap is too small; FS38_ERR_ARG when an argument is
 *         NULL, packet_id is 0 or the filter is not a valid topic filter.
 */
FS38_NODISCARD fs38_err fs38_mqtt_encode_unsubscribe(uint16_t packet_id, const char *filter, size_t filter_len,
                                                     uint8_t *buf, size_t cap, size_t *len);

/**
 * \brief Encode a packet without variable header or payload: PINGREQ or DISCONNECT.
 *
 * \param[in]  type FS38_MQTT_PINGREQ or FS38_MQTT_DISCONNECT.
 * \param[out] buf  Output (2 bytes).
 * \param[in]  cap  Its size.
 * \param[out] len  Bytes written (2, even on FS38_ERR_BUFFER).
 * \return FS38_OK; FS38_ERR_BUFFER when cap < 2; FS38_ERR_ARG for another type or a NULL
 *         argument.
 */
FS38_NODISCARD fs38_err fs38_mqtt_encode_empty(fs38_mqtt_type type, uint8_t *buf, size_t cap, size_t *len);

/**
 * \brief Name of a CONNACK return code for diagnostics ("not authorized").
 *
 * \param[in] rc A return code.
 * \return A static string; "unknown return code" beyond 5; never NULL.
 */
const char *fs38_mqtt_connack_name(uint8_t rc);

/* ---- topics and client id ------------------------------------------------------------------ */

/**
 * \brief The client identifier: the UEID in lower-case hex (as in the device certificate's CN).
 *
 * \param[in]  ueid     UEID bytes (fs38_identity_ueid: FS38_UEID_LEN).
 * \param[in]  ueid_len 1..FS38_MQTT_UEID_MAX.
 * \param[out] buf      Output, NUL-terminated.
 * \param[in]  cap      Its size (2 x ueid_len + 1 needed).
 * \param[out] len      Characters written without the NUL (the length needed on FS38_ERR_BUFFER).
 * \return FS38_OK; FS38_ERR_BUFFER when cap is too small; FS38_ERR_ARG when an argument is
 *         NULL or ueid_len is out of range.
 */
FS38_NODISCARD fs38_err fs38_mqtt_client_id(const uint8_t *ueid, size_t ueid_len, char *buf, size_t cap, size_t *len);

/**
 * \brief The log topic "fs38/<ueid in lower-case hex>/log".
 *
 * \param[in]  ueid     UEID bytes.
 * \param[in]  ueid_len 1..FS38_MQTT_UEID_MAX.
 * \param[out] buf      Output, NUL-terminated (FS38_MQTT_TOPIC_MAX always suffices).
 * \param[in]  cap      Its size.
 * \param[out] len      Characters written without the NUL (the length needed on FS38_ERR_BUFFER).
 * \return FS38_OK; FS38_ERR_BUFFER when cap is too small; FS38_ERR_ARG when an argument is
 *         NULL or ueid_len is out of range.
 */
FS38_NODISCARD fs38_err fs38_mqtt_topic_log(const uint8_t *ueid, size_t ueid_len, char *buf, size_t cap,
                                            size_t *len);

/**
 * \brief The update-notice topic "fs38/<class-id>/update", the class id (SUIT's
 *        condition-class-identifier, 16 bytes) as 32 lower-case hex digits without dashes — the
 *        same form as the UEID in "fs38/<ueid>/log" and what `fs38 fleet publish` announces on
 *        (docs/fleet.md).
 *
 * \param[in]  class_id 16 bytes.
 * \param[out] buf      Output, NUL-terminated (FS38_MQTT_TOPIC_MAX always suffices).
 * \param[in]  cap      Its size.
 * \param[out] len      Characters written without the NUL (the length needed on FS38_ERR_BUFFER).
 * \return FS38_OK; FS38_ERR_BUFFER when cap is too small; FS38_ERR_ARG when an argument is NULL.
 */
FS38_NODISCARD fs38_err fs38_mqtt_topic_update(const uint8_t class_id[16], char *buf, size_t cap, size_t *len);

/* ---- client -------------------------------------------------------------------------------- */

/*
 * Called for each PUBLISH received (after validation, before its PUBACK). topic and payload
 * point into the client's receive buffer: valid during the call only. The callback must not
 * call fs38_mqtt functions on the same client.
 */
typedef void (*fs38_mqtt_message_fn)(void *user, const char *topic, size_t topic_len, const uint8_t *payload,
                                     size_t payload_len, uint8_t qos, bool retain);

typedef struct fs38_mqtt_config {
    const fs38_transport *transport; /* stream transport (TLS); must outlive the client */
    const fs38_port *port;           /* its monotonic_ms is the clock of every timeout */
    const char *client_id;           /* NUL-terminated (fs38_mqtt_client_id); kept by pointer */
    const char *username;            /* NULL with TLS client certificates */
    const uint8_t *password;         /* NULL: none (only with a username); kept by pointer */
    size_t password_len;
    uint16_t keep_alive_s;           /* 0 = no keep-alive pings */
    uint32_t timeout_ms;             /* wait for CONNACK / PUBACK / SUBACK / UNSUBACK (0 = 10000) */
    unsigned max_retries;            /* PUBLISH QoS 1 retransmissions after the first send */
    uint8_t *rx_buf;                 /* receive buffer: its size is the largest packet accepted */
    size_t rx_cap;                   /* >= FS38_MQTT_BUF_MIN */
    uint8_t *tx_buf;                 /* transmit buffer: every packet but PUBLISH payloads */
    size_t tx_cap;                   /* >= FS38_MQTT_BUF_MIN */
    fs38_mqtt_message_fn on_message; /* may be NULL (messages are acknowledged and dropped) */
    void *user;                      /* passed to on_message */
} fs38_mqtt_config;

/* Opaque to callers (fields are the implementation's, see src/net/mqtt.c). */
typedef struct fs38_mqtt {
    fs38_mqtt_config FS38_PRIVATE(cfg);
    fs38_diag FS38_PRIVATE(diag);
    uint8_t FS38_PRIVATE(state);         /* see src/net/mqtt.c */
    bool FS38_PRIVATE(session_present);
    size_t FS38_PRIVATE(rx_len);         /* bytes buffered in rx_buf */
    uint16_t FS38_PRIVATE(next_id);
    uint16_t FS38_PRIVATE(last_acked);   /* packet id of the last PUBLISH acknowledged */
    uint8_t FS38_PRIVATE(wait_type);     /* acknowledgement awaited (fs38_mqtt_type), 0 none */
    uint16_t FS38_PRIVATE(wait_id);
    bool FS38_PRIVATE(wait_done);
    uint8_t FS38_PRIVATE(wait_code);     /* CONNACK / SUBACK return code received */
    bool FS38_PRIVATE(ping_out);         /* PINGREQ sent, PINGRESP awaited */
    uint64_t FS38_PRIVATE(ping_ms);      /* when it was sent */
    uint64_t FS38_PRIVATE(last_tx_ms);   /* last packet sent */
    uint32_t FS38_PRIVATE(delivered);    /* PUBLISH messages delivered (statistics) */
    uint32_t FS38_PRIVATE(retransmits);  /* PUBLISH retransmissions (statistics) */
} fs38_mqtt;

/**
 * \brief Set up a client (nothing is sent).
 *
 * \param[out] c   Context to fill (zeroed first).
 * \param[in]  cfg Configuration, copied; its pointers (transport, port, buffers, strings) are
 *                 kept and must outlive c.
 * \return FS38_OK; FS38_ERR_ARG when c or cfg is NULL, the transport is missing, is a datagram
 *         transport or lacks send/recv, the port lacks monotonic_ms, a buffer is NULL or
 *         smaller than FS38_MQTT_BUF_MIN, the client id is missing or invalid, or the
 *         CONNECT packet does not fit tx_buf (c->diag says which).
 */
FS38_NODISCARD fs38_err fs38_mqtt_init(fs38_mqtt *c, const fs38_mqtt_config *cfg);

/**
 * \brief Send CONNECT (clean session false) on the connected transport and wait for CONNACK.
 *        Allowed on a new client and on one that went down (after the caller reconnected the
 *        transport): buffered bytes and waits are dropped, the broker resumes the session.
 *
 * \param[in,out] c Initialised client, not connected.
 * \return FS38_OK (connected; see fs38_mqtt_session_present); FS38_ERR_PEER (event
 *         FS38_EV_MQTT_REFUSED) when the broker refuses with return code 1..5, named in the
 *         diagnostic; FS38_ERR_PROTOCOL (event) for a malformed, oversized or unexpected
 *         packet; FS38_ERR_TIMEOUT when no CONNACK came within timeout_ms; FS38_ERR_STATE when
 *         c is NULL, not initialised or already connected; transport errors (FS38_ERR_CLOSED,
 *         FS38_ERR_NET, FS38_ERR_TLS, FS38_ERR_TIMEOUT).
 */
FS38_NODISCARD fs38_err fs38_mqtt_connect(fs38_mqtt *c);

/**
 * \brief Publish a message. QoS 0: sent, done. QoS 1: sent, then wait for its PUBACK, sending
 *        it again with DUP=1 after every timeout_ms without one, up to max_retries times; other
 *        packets arriving meanwhile are handled (messages delivered, pings answered).
 *
 * \param[in,out] c           Connected client.
 * \param[in]     topic       Topic name (topic_len bytes, no wildcards).
 * \param[in]     topic_len   Its length.
 * \param[in]     payload     payload_len bytes; may be NULL when payload_len is 0. Sent from
 *                            this buffer (not copied) when it does not fit tx_buf.
 * \param[in]     payload_len Its length.
 * \param[in]     qos         0 or 1.
 * \return FS38_OK (QoS 1: acknowledged); FS38_ERR_ARG for a NULL argument, invalid topic name,
 *         qos > 1 or a packet larger than FS38_MQTT_REMAINING_MAX; FS38_ERR_STATE when not
 *         connected; FS38_ERR_TIMEOUT when no PUBACK came after the last retransmission (the
 *         client stays connected; the message may or may not have arrived); FS38_ERR_PROTOCOL
 *         (event) for a malformed, oversized or unexpected packet received meanwhile;
 *         transport errors; FS38_ERR_TIMEOUT also when the keep-alive found the connection lost.
 */
FS38_NODISCARD fs38_err fs38_mqtt_publish(fs38_mqtt *c, const char *topic, size_t topic_len, const uint8_t *payload,
                                          size_t payload_len, uint8_t qos);

/**
 * \brief Subscribe to one topic filter and wait for its SUBACK.
 *
 * \param[in,out] c          Connected client.
 * \param[in]     filter     Topic filter (filter_len bytes; '+' and '#' allowed).
 * \param[in]     filter_len Its length.
 * \param[in]     qos        Maximum QoS wanted: 0 or 1.
 * \param[out]    granted    QoS the broker granted (0 or 1); may be NULL.
 * \return FS38_OK; FS38_ERR_PEER (event FS38_EV_MQTT_REFUSED, the client stays connected) when
 *         the broker answers 0x80 (failure); FS38_ERR_PROTOCOL (event) when it grants QoS 2
 *         (more than asked), or for a malformed, oversized or unexpected packet;
 *         FS38_ERR_TIMEOUT when no SUBACK came within timeout_ms (the client goes down);
 *         FS38_ERR_ARG for a NULL argument, invalid filter or qos > 1; FS38_ERR_STATE when not
 *         connected; transport errors.
 */
FS38_NODISCARD fs38_err fs38_mqtt_subscribe(fs38_mqtt *c, const char *filter, size_t filter_len, uint8_t qos,
                                            uint8_t *granted);

/**
 * \brief Unsubscribe from one topic filter and wait for its UNSUBACK.
 *
 * \param[in,out] c          Connected client.
 * \param[in]     filter     Topic filter (filter_len bytes).
 * \param[in]     filter_len Its length.
 * \return FS38_OK; FS38_ERR_TIMEOUT when no UNSUBACK came within timeout_ms (the client goes
 *         down); FS38_ERR_PROTOCOL (event) for a malformed, oversized or unexpected packet;
 *         FS38_ERR_ARG for a NULL argument or an invalid filter; FS38_ERR_STATE when not
 *         connected; transport errors.
 */
FS38_NODISCARD fs38_err fs38_mqtt_unsubscribe(fs38_mqtt *c, const char *filter, size_t filter_len);

/**
 * \brief Run the client for up to timeout_ms: receive and handle packets (deliver messages,
 *        acknowledge QoS 1 ones), send PINGREQ when keep_alive_s passed without sending, and
 *        declare the connection lost when a PINGRESP is overdue. Returns when timeout_ms has
 *        elapsed, or earlier once at least one message was delivered.
 *
 * \param[in,out] c          Connected client.
 * \param[in]     timeout_ms How long to wait at most (0: handle what is already there).
 * \return FS38_OK; FS38_ERR_TIMEOUT (the client goes down) when no PINGRESP came within
 *         keep_alive_s of the PINGREQ; FS38_ERR_PROTOCOL (event) for a malformed, oversized or
 *         unexpected packet; FS38_ERR_STATE when not connected; transport errors
 *         (FS38_ERR_CLOSED when the broker closed the connection).
 */
FS38_NODISCARD fs38_err fs38_mqtt_poll(fs38_mqtt *c, uint32_t timeout_ms);

/**
 * \brief Send DISCONNECT (when connected) and mark the client not connected. The caller then
 *        closes the transport. Accepts a client that is down, never connected, or NULL.
 *
 * \param[in,out] c Client.
 * \return FS38_OK; transport errors of the DISCONNECT send (the client is not connected
 *         afterwards either way).
 */
FS38_NODISCARD fs38_err fs38_mqtt_disconnect(fs38_mqtt *c);

/**
 * \brief Whether the client is connected (CONNACK accepted, not down since).
 *
 * \param[in] c Client; may be NULL.
 * \return true when connected; false otherwise or for NULL.
 */
bool fs38_mqtt_connected(const fs38_mqtt *c);

/**
 * \brief The session-present flag of the last accepted CONNACK (the broker kept our session).
 *
 * \param[in] c Client; may be NULL.
 * \return The flag; false for NULL or before a CONNACK.
 */
bool fs38_mqtt_session_present(const fs38_mqtt *c);

/**
 * \brief The client's last diagnostic (what failed, where).
 *
 * \param[in] c Client.
 * \return The context's diagnostic, owned by it and valid while it is; never NULL for a
 *         non-NULL c.
 */
const fs38_diag *fs38_mqtt_diag(const fs38_mqtt *c);

#ifdef __cplusplus
}
#endif
#endif /* FS38_MQTT_H */
