/* SPDX-License-Identifier: Apache-2.0 */
/* fleet_mqtt.h — the fleet commands' MQTT connection (libmosquitto): mqtts:// only, TLS with the
 * fleet CA and a client certificate (the collector's, from `fs38 fleet broker-config`), MQTT 3.1.1,
 * QoS 1. */
#ifndef FS38_TOOLS_FLEET_MQTT_H
#define FS38_TOOLS_FLEET_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mosquitto;

typedef struct fmq_opts {
    const char *url;       /* mqtts://HOST:PORT */
    const char *ca;        /* CA_DIR (its ca.crt) or a CA certificate file */
    const char *cert, *key;
    const char *client_id;
    bool clean_session;
    void *user;            /* mosquitto userdata */
} fmq_opts;

/* Connect (waits up to timeout_ms for the CONNACK). *out: the client (fmq_close). 0, 1 refused
 * by the broker or TLS (printed), 2 error (printed). */
int fmq_connect(const fmq_opts *o, int timeout_ms, struct mosquitto **out);
/* Subscribe and wait for the SUBACK (granted QoS >= 1). 0 or -1 (printed). */
int fmq_subscribe(struct mosquitto *m, const char *topic, int timeout_ms);
/* Publish QoS 1 and wait for the PUBACK. 0 or -1 (printed). */
int fmq_publish(struct mosquitto *m, const char *topic, const void *payload, size_t len, bool retain, int timeout_ms);
/* Disconnect and free; mosquitto_lib_cleanup. */
void fmq_close(struct mosquitto *m);
/* The UEID level of "fs38/<ueid>/<leaf>" into ueid (cap bytes): 0, or -1 when topic is not that. */
int fmq_topic_ueid(const char *topic, const char *leaf, char *ueid, size_t cap);

#endif
