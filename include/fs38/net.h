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
