/* SPDX-License-Identifier: Apache-2.0 */
/* udp_transport.h — TEST-ONLY plaintext fs38_transport over a UDP socket on the host, for
 * running the CoAP client against libcoap's coap-server without DTLS. Never part of libfs38:
 * the library has no plaintext mode (fs38/net.h); the device builds its transport from a DTLS
 * channel. */
#ifndef FS38_TEST_UDP_TRANSPORT_H
#define FS38_TEST_UDP_TRANSPORT_H
#include <stdint.h>
#include "fs38/net.h"

typedef struct {
    int fd;
    uint8_t peer[28]; /* struct sockaddr_storage prefix (IPv4/IPv6) */
    unsigned peer_len;
    unsigned sent, received, dropped_foreign;
} ts_udp;

/* Open an unconnected UDP socket towards host:port (numeric host; ICMP errors never surface,
 * so a port with no server is a pure timeout) and fill t. Returns 0 or -1. */
int ts_udp_open(ts_udp *u, fs38_transport *t, const char *host, uint16_t port);
void ts_udp_close(ts_udp *u);
#endif
