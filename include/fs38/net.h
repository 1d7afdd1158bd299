/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/net.h — how the device's protocol clients reach the network (control 4).
 *
 * Two interfaces, one above the other:
 *
 *   fs38_net       the platform's sockets, behind the port (port/posix implements it with BSD
 *                  sockets; an lwIP netconn or a modem's AT socket driver plugs in the same way).
 *                  Only the secure channel (fs38/channel.h) calls it.
 *   fs38_transport a connected, authenticated byte or datagram pipe: what the CoAP and MQTT
 *                  clients (fs38/coap.h, fs38/mqtt.h) run over. fs38_channel provides one for
 *                  TLS (stream) and DTLS (datagram); nothing in the library sends application
 *                  data any other way (plaintext is not a mode of the channel).
 *
 * No allocation; contexts belong to their callers. Timeouts are in milliseconds; 0 means "do
 * not wait" (poll).
 */
#ifndef FS38_NET_H
#define FS38_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fs38/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief The platform's sockets (the port side of the secure channel).
 *
 * A port fills one fs38_net and hands it (by pointer; it outlives every channel using it) to
 * fs38_channel_open(). Only the channel calls it; it carries ciphertext only.
 *
 * A socket is named by a handle, an intptr_t the implementation chooses (a file descriptor on
 * POSIX, a `struct netconn *` cast to intptr_t on lwIP, an AT-command link id on a modem);
 * the library stores it and passes it back, never interprets it.
 *
 * Implementer's contract:
 *   - connect() resolves host (a DNS name or a numeric IPv4/IPv6 address) and opens a TCP
 *     connection (udp false) or a connected UDP socket (udp true: datagrams are sent to and
 *     accepted only from host:port), waiting at most timeout_ms for the TCP handshake. On lwIP:
 *     netconn_gethostbyname + netconn_new(NETCONN_TCP / NETCONN_UDP) + netconn_connect. On an
 *     AT modem: the modem's DNS + socket-open commands (e.g. AT+QIOPEN / AT+USOCR + AT+USOCO).
 *   - send() sends all len bytes (TCP; blocking at most timeout_ms) or exactly one datagram of
 *     len bytes (UDP). A partial write is retried inside send(); send() never returns having
 *     sent part of the data without an error.
 *   - recv() waits at most timeout_ms (0: do not wait) and returns what arrived: 1..cap bytes
 *     of the stream (TCP) or one whole datagram (UDP; a datagram longer than cap is discarded
 *     and reported as FS38_ERR_BUFFER, never cut silently).
 *   - close() releases the socket; it is called exactly once per successful connect() and
 *     must not fail.
 *   - Calls for one handle are never made concurrently; distinct handles may be used from
 *     distinct tasks. No call may block longer than its timeout.
 */
typedef struct fs38_net {
    void *ctx; /* passed back to every call */
    /**
     * \brief Open a connection to host:port.
     * \param[in]  ctx        fs38_net.ctx.
     * \param[in]  host       NUL-terminated host name or numeric address.
     * \param[in]  port       Port (1..65535).
     * \param[in]  udp        true: a connected UDP socket; false: TCP.
     * \param[in]  timeout_ms Longest wait for name resolution and the TCP handshake.
     * \param[out] handle     The socket's handle on FS38_OK.
     * \return FS38_OK; FS38_ERR_NET when the name does not resolve or the peer refuses or is
     *         unreachable; FS38_ERR_TIMEOUT when the TCP handshake did not finish in time;
     *         FS38_ERR_LIMIT when the platform has no free socket.
     */
    fs38_err (*connect)(void *ctx, const char *host, uint16_t port, bool udp, uint32_t timeout_ms,
                        intptr_t *handle);
    /**
     * \brief Send all len bytes (TCP) or one datagram (UDP).
     * \return FS38_OK; FS38_ERR_TIMEOUT; FS38_ERR_CLOSED when the peer closed; FS38_ERR_BUFFER
     *         when a datagram is larger than the platform sends; FS38_ERR_NET otherwise.
     */
    fs38_err (*send)(void *ctx, intptr_t handle, const uint8_t *buf, size_t len, uint32_t timeout_ms);
    /**
     * \brief Receive, waiting at most timeout_ms.
     * \param[out] len Bytes received (>= 1) on FS38_OK.
     * \return FS38_OK; FS38_ERR_TIMEOUT when nothing arrived; FS38_ERR_CLOSED when the peer
     *         closed the stream; FS38_ERR_BUFFER when a datagram did not fit (it is dropped);
     *         FS38_ERR_NET otherwise (e.g. ICMP port unreachable on UDP).
     */
    fs38_err (*recv)(void *ctx, intptr_t handle, uint8_t *buf, size_t cap, size_t *len, uint32_t timeout_ms);
    /** \brief Close the socket (exactly once per successful connect). */
    void (*close)(void *ctx, intptr_t handle);
} fs38_net;

/**
 * \brief A connected transport: send and receive application bytes.
 *
 * For a datagram transport (DTLS over UDP) every send is one datagram and every recv returns
 * one whole datagram (truncated datagrams are an error, never silently cut). For a stream
 * transport (TLS over TCP) send writes all len bytes and recv returns 1..cap bytes.
 */
typedef struct fs38_transport {
    void *ctx;      /* passed back to every call */
    bool datagram;  /* true: datagrams (DTLS); false: a byte stream (TLS) */
    /**
     * \brief Send len bytes (one datagram, or all of them on a stream).
     * \return FS38_OK; FS38_ERR_BUFFER when a datagram exceeds the path's maximum;
     *         FS38_ERR_TIMEOUT, FS38_ERR_NET, FS38_ERR_CLOSED, FS38_ERR_TLS otherwise.
     */
    fs38_err (*send)(void *ctx, const uint8_t *buf, size_t len);
    /**
     * \brief Receive, waiting at most timeout_ms.
     * \param[out] len Bytes received (>= 1 on FS38_OK).
     * \return FS38_OK; FS38_ERR_TIMEOUT when nothing arrived in time; FS38_ERR_BUFFER when a
     *         datagram does not fit cap (it is discarded); FS38_ERR_CLOSED when the peer closed;
     *         FS38_ERR_NET / FS38_ERR_TLS on failure (a forged or truncated record included).
     */
    fs38_err (*recv)(void *ctx, uint8_t *buf, size_t cap, size_t *len, uint32_t timeout_ms);
} fs38_transport;

#ifdef __cplusplus
}
#endif
#endif /* FS38_NET_H */
