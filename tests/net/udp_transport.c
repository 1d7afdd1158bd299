/* SPDX-License-Identifier: Apache-2.0 */
/* udp_transport.c — TEST-ONLY plaintext datagram transport (see udp_transport.h). */
#include "udp_transport.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static fs38_err udp_send(void *ctx, const uint8_t *buf, size_t len)
{
    ts_udp *u = ctx;
    ssize_t n = sendto(u->fd, buf, len, 0, (const struct sockaddr *)u->peer, u->peer_len);
    if (n < 0)
        return errno == EMSGSIZE ? FS38_ERR_BUFFER : FS38_ERR_NET;
    u->sent++;
    return (size_t)n == len ? FS38_OK : FS38_ERR_NET;
}

static fs38_err udp_recv(void *ctx, uint8_t *buf, size_t cap, size_t *len, uint32_t timeout_ms)
{
    ts_udp *u = ctx;
    uint64_t deadline = ms_now() + timeout_ms;
    for (;;) {
        uint64_t now = ms_now();
        int wait = now >= deadline ? 0 : (int)(deadline - now);
        struct pollfd p = { .fd = u->fd, .events = POLLIN };
        int r = poll(&p, 1, wait);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return FS38_ERR_NET;
        if (r == 0)
            return FS38_ERR_TIMEOUT;
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(u->fd, buf, cap, MSG_TRUNC, (struct sockaddr *)&from, &fl);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == ECONNREFUSED))
            continue;
        if (n < 0)
            return FS38_ERR_NET;
        if (fl != u->peer_len || memcmp(&from, u->peer, fl) != 0) {
            u->dropped_foreign++; /* not our server */
            continue;
        }
        if ((size_t)n > cap)
            return FS38_ERR_BUFFER;
        if (n == 0)
            continue;
        u->received++;
        *len = (size_t)n;
        return FS38_OK;
    }
}

int ts_udp_open(ts_udp *u, fs38_transport *t, const char *host, uint16_t port)
{
    memset(u, 0, sizeof *u);
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    int family;
    if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons(port);
        memcpy(u->peer, &a4, sizeof a4);
        u->peer_len = sizeof a4;
        family = AF_INET;
    } else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons(port);
        memcpy(u->peer, &a6, sizeof a6);
        u->peer_len = sizeof a6;
        family = AF_INET6;
    } else {
        return -1;
    }
    u->fd = socket(family, SOCK_DGRAM, 0);
    if (u->fd < 0)
        return -1;
    *t = (fs38_transport){ .ctx = u, .datagram = true, .send = udp_send, .recv = udp_recv };
    return 0;
}

void ts_udp_close(ts_udp *u)
{
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
}
