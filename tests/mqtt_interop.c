/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mqtt_interop.c — drives fs38's MQTT client (fs38/mqtt.h) against a real broker for
 * tests/cli/mqtt.sh. TEST ONLY: the fs38_transport here is a plain TCP socket to 127.0.0.1
 * (the device library has no plaintext mode; its transport is fs38_channel's TLS).
 *
 *   mqtt_interop [--user U] [--pass P] [--keepalive S] [--ueid HEX] PORT CMD ARGS...
 *     connect                       connect, print "session_present=0|1", disconnect
 *     publish TOPIC FILE            publish FILE with QoS 1 (PUBACK awaited), disconnect
 *     subscribe FILTER OUT READY    subscribe (QoS 1), create READY, wait <= 20 s for one
 *                                   message, write its payload to OUT, print its topic
 *     ping SECONDS READY            create READY, poll for SECONDS; print "pingreq=N"
 *     hold READY                    create READY, poll until the connection fails (<= 20 s)
 *   Exit 0 done, 1 an fs38 error ("error: <strerror>: <diagnostic>" on stderr), 2 usage.
 *   Security events are printed on stderr as "event: NAME arg=N detail".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "fs38/event.h"
#include "fs38/mqtt.h"

typedef struct {
    int fd;
    unsigned pingreq;
} tcp;

static fs38_err tcp_send(void *ctx, const uint8_t *b, size_t n)
{
    tcp *t = ctx;
    if (n == 2 && b[0] == 0xc0 && b[1] == 0x00)
        t->pingreq++;
    while (n) {
        ssize_t w = send(t->fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno == EPIPE || errno == ECONNRESET ? FS38_ERR_CLOSED : FS38_ERR_NET;
        b += w;
        n -= (size_t)w;
    }
    return FS38_OK;
}

static fs38_err tcp_recv(void *ctx, uint8_t *b, size_t cap, size_t *len, uint32_t timeout_ms)
{
    tcp *t = ctx;
    struct pollfd p = { t->fd, POLLIN, 0 };
    int r;
    do
        r = poll(&p, 1, timeout_ms > 60000u ? 60000 : (int)timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return FS38_ERR_NET;
    if (r == 0)
        return FS38_ERR_TIMEOUT;
    ssize_t n = recv(t->fd, b, cap, 0);
    if (n == 0)
        return FS38_ERR_CLOSED;
    if (n < 0)
        return errno == ECONNRESET ? FS38_ERR_CLOSED : FS38_ERR_NET;
    *len = (size_t)n;
    return FS38_OK;
}

static uint64_t mono_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_event(void *user, const fs38_event_rec *e)
{
    (void)user;
    fprintf(stderr, "event: %s arg=%lld %s\n", fs38_event_name(e->code), (long long)e->arg, e->detail ? e->detail : "");
}

static struct {
    bool got;
    char topic[256];
    uint8_t payload[65536];
    size_t len;
} g_msg;

static void on_message(void *user, const char *topic, size_t tl, const uint8_t *p, size_t pl, uint8_t qos, bool retain)
{
    (void)user;
    (void)qos;
    (void)retain;
    if (g_msg.got)
        return;
    g_msg.got = true;
    snprintf(g_msg.topic, sizeof g_msg.topic, "%.*s", (int)tl, topic);
    if (pl > sizeof g_msg.payload)
        pl = sizeof g_msg.payload;
    memcpy(g_msg.payload, p, pl);
    g_msg.len = pl;
}

static int fail(fs38_err e, const fs38_mqtt *c)
{
    fprintf(stderr, "error: %s: %s\n", fs38_strerror(e), c ? fs38_mqtt_diag(c)->msg : "");
    return 1;
}

static int touch(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fclose(f);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: mqtt_interop [--user U] [--pass P] [--keepalive S] [--ueid HEX] PORT CMD ARGS...\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *user = NULL, *pass = NULL, *ueid_hex = "01a1b2c3d4e5f60718293a4b5c6d7e8f90";
    unsigned keepalive = 30;
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (!strcmp(argv[i], "--user"))
            user = argv[i + 1];
        else if (!strcmp(argv[i], "--pass"))
            pass = argv[i + 1];
        else if (!strcmp(argv[i], "--keepalive"))
            keepalive = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--ueid"))
            ueid_hex = argv[i + 1];
        else
            return usage();
    }
    if (argc - i < 2)
        return usage();
    int port = atoi(argv[i]);
    const char *cmd = argv[i + 1];
    char **args = argv + i + 2;
    int nargs = argc - i - 2;

    fs38_event_set_sink(on_event, NULL);
    tcp t = { socket(AF_INET, SOCK_STREAM, 0), 0 };
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (t.fd < 0 || connect(t.fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "error: cannot connect to 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
    }
    int one = 1;
    setsockopt(t.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    fs38_transport tr = { &t, false, tcp_send, tcp_recv };
    fs38_port p;
    memset(&p, 0, sizeof p);
    p.monotonic_ms = mono_ms;
    static uint8_t rx[70000], tx[1024];
    fs38_mqtt_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.transport = &tr;
    cfg.port = &p;
    cfg.client_id = ueid_hex;
    cfg.username = user;
    cfg.password = (const uint8_t *)pass;
    cfg.password_len = pass ? strlen(pass) : 0;
    cfg.keep_alive_s = (uint16_t)keepalive;
    cfg.timeout_ms = 5000;
    cfg.max_retries = 2;
    cfg.rx_buf = rx;
    cfg.rx_cap = sizeof rx;
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof tx;
    cfg.on_message = on_message;
    fs38_mqtt c;
    fs38_err e = fs38_mqtt_init(&c, &cfg);
    if (e)
        return fail(e, &c);
    e = fs38_mqtt_connect(&c);
    if (e)
        return fail(e, &c);

    if (!strcmp(cmd, "connect") && nargs == 0) {
        printf("session_present=%d\n", fs38_mqtt_session_present(&c) ? 1 : 0);
    } else if (!strcmp(cmd, "publish") && nargs == 2) {
        FILE *f = fopen(args[1], "rb");
        static uint8_t data[1 << 20];
        size_t n = f ? fread(data, 1, sizeof data, f) : 0;
        if (!f)
            return usage();
        fclose(f);
        e = fs38_mqtt_publish(&c, args[0], strlen(args[0]), data, n, 1);
        if (e)
            return fail(e, &c);
        printf("published %zu bytes\n", n);
    } else if (!strcmp(cmd, "subscribe") && nargs == 3) {
        uint8_t granted = 0;
        e = fs38_mqtt_subscribe(&c, args[0], strlen(args[0]), 1, &granted);
        if (e)
            return fail(e, &c);
        if (touch(args[2]))
            return usage();
        uint64_t end = mono_ms(NULL) + 20000u;
        while (!g_msg.got && mono_ms(NULL) < end) {
            e = fs38_mqtt_poll(&c, 500);
            if (e)
                return fail(e, &c);
        }
        if (!g_msg.got) {
            fprintf(stderr, "error: no message within 20 s\n");
            return 1;
        }
        FILE *f = fopen(args[1], "wb");
        if (!f || fwrite(g_msg.payload, 1, g_msg.len, f) != g_msg.len)
            return usage();
        fclose(f);
        printf("granted=%u topic=%s len=%zu\n", granted, g_msg.topic, g_msg.len);
    } else if (!strcmp(cmd, "ping") && nargs == 2) {
        if (touch(args[1]))
            return usage();
        uint64_t end = mono_ms(NULL) + 1000u * (uint64_t)atoi(args[0]);
        while (mono_ms(NULL) < end) {
            e = fs38_mqtt_poll(&c, 200);
            if (e) {
                fprintf(stderr, "pingreq=%u\n", t.pingreq);
                return fail(e, &c);
            }
        }
        printf("pingreq=%u connected=%d\n", t.pingreq, fs38_mqtt_connected(&c) ? 1 : 0);
    } else if (!strcmp(cmd, "hold") && nargs == 1) {
        if (touch(args[0]))
            return usage();
        uint64_t end = mono_ms(NULL) + 20000u;
        while (mono_ms(NULL) < end) {
            e = fs38_mqtt_poll(&c, 200);
            if (e)
                return fail(e, &c);
        }
        fprintf(stderr, "error: still connected after 20 s\n");
        return 1;
    } else {
        return usage();
    }
    e = fs38_mqtt_disconnect(&c);
    close(t.fd);
    return e ? fail(e, &c) : 0;
}
