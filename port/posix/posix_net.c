/* SPDX-License-Identifier: Apache-2.0 */
/* posix_net.c — fs38_net (fs38/net.h) on BSD sockets: see fs38_posix.h. */
#include "fs38_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait until fd is ready for events, at most timeout_ms: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, uint32_t timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    for (;;) {
        uint64_t now = now_ms();
        int left = now >= end ? 0 : (int)(end - now > 0x7fffffff ? 0x7fffffff : end - now);
        struct pollfd pfd = { .fd = fd, .events = events, .revents = 0 };
        int r = poll(&pfd, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        return r > 0 ? 1 : 0;
    }
}

static FS38_NODISCARD fs38_err posix_connect(void *ctx, const char *host, uint16_t port, bool udp,
                                             uint32_t timeout_ms, intptr_t *handle)
{
    (void)ctx;
    if (!host || !handle || port == 0)
        return FS38_ERR_ARG;
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
    hints.ai_protocol = udp ? IPPROTO_UDP : IPPROTO_TCP;
    if (getaddrinfo(host, service, &hints, &res) != 0 || !res)
        return FS38_ERR_NET;
    fs38_err err = FS38_ERR_NET;
    uint64_t end = now_ms() + timeout_ms;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            err = (errno == EMFILE || errno == ENFILE || errno == ENOBUFS) ? FS38_ERR_LIMIT : FS38_ERR_NET;
            continue;
        }
        int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (r != 0 && errno == EINPROGRESS) {
            uint64_t now = now_ms();
            int w = wait_fd(fd, POLLOUT, now >= end ? 0 : (uint32_t)(end - now));
            if (w == 0) {
                close(fd);
                err = FS38_ERR_TIMEOUT;
                continue;
            }
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            r = (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) ? -1 : 0;
        }
        if (r != 0) {
            close(fd);
            err = FS38_ERR_NET;
            continue;
        }
        if (!udp) {
            int one = 1; /* handshake flights are small: do not let Nagle delay them */
            (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        *handle = fd;
        err = FS38_OK;
        break;
    }
    freeaddrinfo(res);
    return err;
}

static FS38_NODISCARD fs38_err posix_send(void *ctx, intptr_t handle, const uint8_t *buf, size_t len,
                                          uint32_t timeout_ms)
{
    (void)ctx;
    int fd = (int)handle;
    size_t done = 0;
    uint64_t end = now_ms() + timeout_ms;
    while (done < len || len == 0) {
        ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
        if (n >= 0) {
            done += (size_t)n;
            if (len == 0)
                break;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            uint64_t now = now_ms();
            int w = wait_fd(fd, POLLOUT, now >= end ? 0 : (uint32_t)(end - now));
            if (w == 0)
                return FS38_ERR_TIMEOUT;
            if (w < 0)
                return FS38_ERR_NET;
            continue;
        }
        if (errno == EPIPE || errno == ECONNRESET)
            return FS38_ERR_CLOSED;
        if (errno == EMSGSIZE)
            return FS38_ERR_BUFFER;
        return FS38_ERR_NET;
    }
    return FS38_OK;
}

/* One read: what is queued now, without waiting (the socket is non-blocking). A datagram
 * socket reports a datagram longer than cap through MSG_TRUNC in msg_flags (recv's MSG_TRUNC
 * flag would discard stream data); only an empty read needs the socket type. */
static FS38_NODISCARD fs38_err posix_recv(void *ctx, intptr_t handle, uint8_t *buf, size_t cap, size_t *len,
                                          uint32_t timeout_ms)
{
    (void)ctx;
    int fd = (int)handle;
    if (!buf || !len || cap == 0 || fd < 0)
        return FS38_ERR_ARG;
    *len = 0;
    for (;;) {
        struct iovec iov = { .iov_base = buf, .iov_len = cap };
        struct msghdr mh;
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* nothing queued: wait (the first time for the whole timeout; after a spurious
             * wake-up again, bounded by traffic as before) */
            int w = wait_fd(fd, POLLIN, timeout_ms);
            if (w == 0)
                return FS38_ERR_TIMEOUT;
            if (w < 0)
                return FS38_ERR_NET;
            continue;
        }
        if (n < 0)
            return errno == ECONNRESET ? FS38_ERR_CLOSED : FS38_ERR_NET;
        if (mh.msg_flags & MSG_TRUNC)
            return FS38_ERR_BUFFER; /* the kernel cut a datagram: discarded, never delivered cut */
        if (n == 0) {
            int type = 0;
            socklen_t tl = sizeof type;
            if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0)
                return FS38_ERR_ARG;
            if (type != SOCK_DGRAM)
                return FS38_ERR_CLOSED;
            continue; /* empty datagram: nothing to deliver */
        }
        *len = (size_t)n;
        return FS38_OK;
    }
}

static void posix_close(void *ctx, intptr_t handle)
{
    (void)ctx;
    if (handle >= 0)
        close((int)handle);
}

void fs38_posix_net(fs38_net *net)
{
    if (!net)
        return;
    memset(net, 0, sizeof *net);
    net->connect = posix_connect;
    net->send = posix_send;
    net->recv = posix_recv;
    net->close = posix_close;
}
