/* SPDX-License-Identifier: Apache-2.0 */
/* fleet_mqtt.c — libmosquitto glue for the fleet commands (fleet_mqtt.h). One connection per
 * process: the connection / SUBACK / PUBACK bookkeeping lives in file-scope state. */
#include "fleet_mqtt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <mosquitto.h>

#include "host.h"

static struct {
    bool connected, conn_done;
    int conn_rc;
    int sub_mid, sub_qos;
    bool sub_done;
    int pub_mid;
    bool pub_done;
} g;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
    (void)m;
    (void)obj;
    g.conn_done = true;
    g.conn_rc = rc;
    g.connected = rc == 0;
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
    (void)m;
    (void)obj;
    (void)rc;
    g.connected = false;
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *qos)
{
    (void)m;
    (void)obj;
    if (mid == g.sub_mid) {
        g.sub_done = true;
        g.sub_qos = n > 0 ? qos[0] : 128;
    }
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void)m;
    (void)obj;
    if (mid == g.pub_mid)
        g.pub_done = true;
}

static int parse_url(const char *url, char *host, size_t cap, int *port)
{
    if (strncmp(url, "mqtts://", 8) != 0) {
        host_err("--broker %s: expected mqtts://HOST:PORT (MQTT over TLS; plaintext is not a mode)", url);
        return -1;
    }
    const char *h = url + 8, *colon = strrchr(h, ':');
    if (!colon || colon == h || (size_t)(colon - h) >= cap || strchr(colon, '/')) {
        host_err("--broker %s: expected mqtts://HOST:PORT", url);
        return -1;
    }
    memcpy(host, h, (size_t)(colon - h));
    host[colon - h] = 0;
    uint64_t p = 0;
    if (host_parse_u64("--broker port", colon + 1, 1, 65535, 0, &p))
        return -1;
    *port = (int)p;
    return 0;
}

int fmq_connect(const fmq_opts *o, int timeout_ms, struct mosquitto **out)
{
    *out = NULL;
    char host[256], cafile[4096];
    int port = 0;
    if (parse_url(o->url, host, sizeof host, &port))
        return 2;
    struct stat st;
    if (stat(o->ca, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(cafile, sizeof cafile, "%s/ca.crt", o->ca);
    else
        snprintf(cafile, sizeof cafile, "%s", o->ca);
    mosquitto_lib_init();
    memset(&g, 0, sizeof g);
    struct mosquitto *m = mosquitto_new(o->client_id, o->clean_session, o->user);
    if (!m) {
        host_err("mqtt: cannot create a client (client id '%s')", o->client_id ? o->client_id : "");
        return 2;
    }
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_disconnect_callback_set(m, on_disconnect);
    mosquitto_subscribe_callback_set(m, on_subscribe);
    mosquitto_publish_callback_set(m, on_publish);
    int rc = mosquitto_tls_set(m, cafile, NULL, o->cert, o->key, NULL);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_tls_opts_set(m, 1, "tlsv1.2", NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        host_err("mqtt: TLS files (--ca %s, --cert %s, --key %s): %s", cafile, o->cert, o->key, mosquitto_strerror(rc));
        mosquitto_destroy(m);
        return 2;
    }
    /* up to 1000 unacknowledged QoS 1 messages in flight towards the broker */
    mosquitto_max_inflight_messages_set(m, 1000);
    rc = mosquitto_connect(m, host, port, 30);
    if (rc != MOSQ_ERR_SUCCESS) {
        host_err("mqtt: cannot connect to %s: %s", o->url, rc == MOSQ_ERR_ERRNO ? "connection failed" : mosquitto_strerror(rc));
        mosquitto_destroy(m);
        return 2;
    }
    const long long end = now_ms() + timeout_ms;
    while (!g.conn_done && now_ms() < end) {
        rc = mosquitto_loop(m, 100, 1);
        if (rc != MOSQ_ERR_SUCCESS && !g.conn_done)
            break;
    }
    if (!g.connected) {
        host_err("mqtt: %s refused the connection: %s", o->url,
                 g.conn_done ? mosquitto_connack_string(g.conn_rc)
                             : rc != MOSQ_ERR_SUCCESS ? mosquitto_strerror(rc) : "no CONNACK in time (TLS refused?)");
        mosquitto_destroy(m);
        return 1;
    }
    *out = m;
    return 0;
}

int fmq_subscribe(struct mosquitto *m, const char *topic, int timeout_ms)
{
    g.sub_done = false;
    int rc = mosquitto_subscribe(m, &g.sub_mid, topic, 1);
    const long long end = now_ms() + timeout_ms;
    while (rc == MOSQ_ERR_SUCCESS && !g.sub_done && now_ms() < end)
        rc = mosquitto_loop(m, 100, 1);
    if (rc != MOSQ_ERR_SUCCESS || !g.sub_done || g.sub_qos > 2) {
        host_err("mqtt: subscribe to %s: %s", topic,
                 rc != MOSQ_ERR_SUCCESS ? mosquitto_strerror(rc) : !g.sub_done ? "no SUBACK in time"
                                                                             : "refused by the broker");
        return -1;
    }
    return 0;
}

int fmq_publish(struct mosquitto *m, const char *topic, const void *payload, size_t len, bool retain, int timeout_ms)
{
    if (len > 256u * 1024u * 1024u) {
        host_err("mqtt: publish to %s: %zu bytes is too large", topic, len);
        return -1;
    }
    g.pub_done = false;
    int rc = mosquitto_publish(m, &g.pub_mid, topic, (int)len, payload, 1, retain);
    const long long end = now_ms() + timeout_ms;
    while (rc == MOSQ_ERR_SUCCESS && !g.pub_done && now_ms() < end)
        rc = mosquitto_loop(m, 100, 1);
    if (rc != MOSQ_ERR_SUCCESS || !g.pub_done) {
        host_err("mqtt: publish to %s: %s", topic, rc != MOSQ_ERR_SUCCESS ? mosquitto_strerror(rc) : "no PUBACK in time");
        return -1;
    }
    return 0;
}

void fmq_close(struct mosquitto *m)
{
    if (m) {
        mosquitto_disconnect(m);
        for (int i = 0; i < 5 && mosquitto_loop(m, 20, 1) == MOSQ_ERR_SUCCESS; i++)
            ;
        mosquitto_destroy(m);
    }
    mosquitto_lib_cleanup();
}

int fmq_topic_ueid(const char *topic, const char *leaf, char *ueid, size_t cap)
{
    if (strncmp(topic, "fs38/", 5) != 0)
        return -1;
    const char *u = topic + 5, *slash = strchr(u, '/');
    if (!slash || slash == u || (size_t)(slash - u) >= cap || strcmp(slash + 1, leaf) != 0)
        return -1;
    memcpy(ueid, u, (size_t)(slash - u));
    ueid[slash - u] = 0;
    return 0;
}
