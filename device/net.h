/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net.h — fs38-device's network commands (control 4): the options they share and the pieces
 * cmd_update.c and cmd_log.c call (implemented in cmd_net.c).
 *
 * Exit status of every network command: 0 done; 1 refused (authentication or policy — TLS /
 * DTLS refused, no client certificate asked for — or the server's verdict: CoAP 4.xx/5.xx, an
 * MQTT CONNACK refusal — or the update agent's refusal); 2 usage or local I/O; 3 network
 * unreachable, timed out or closed (FS38_ERR_NET / TIMEOUT / CLOSED), and for update also a
 * simulated power cut (--power-cut, as the file form). One line on stderr says why.
 */
#ifndef FS38_DEVICE_NET_H
#define FS38_DEVICE_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "fs38/channel.h"
#include "fs38/coap.h"
#include "fs38/err.h"
#include "fs38/identity.h"
#include "fs38/net.h"
#include "fs38/update.h"

#define NET_EXIT_NET 3

/* Options every network command takes (strings as given; checked by net_opts_check). */
typedef struct net_opts {
    const char *ca;          /* --ca SERVER_CA.pem: the fleet CA the server must chain to */
    const char *psk_id;      /* --psk-id ID: PSK mode, this identity */
    const char *psk;         /* --psk FILE: the PSK (hex), imported into the sealed store */
    const char *timeout;     /* --timeout MS */
    const char *client_auth; /* --client-auth required|optional (default required) */
    bool qblock2;            /* --qblock2: CoAP downloads ask for RFC 9177 Q-Block2 (fall back to Block2) */
    /* parsed */
    uint32_t timeout_ms;
    bool client_auth_optional;
} net_opts;

#define NET_HOST_OPTS(o)                                                                       \
    { .name = "--ca", .value = &(o).ca }, { .name = "--psk-id", .value = &(o).psk_id },         \
        { .name = "--psk", .value = &(o).psk }, { .name = "--timeout", .value = &(o).timeout }, \
        { .name = "--client-auth", .value = &(o).client_auth }, { .name = "--qblock2", .flag = &(o).qblock2 }

/* Check and parse the shared options for command cmd. 0 or -1 (printed). */
int net_opts_check(const char *cmd, net_opts *o);

/* Exit status for an fs38_err of a network operation (see the top of this file). */
int net_exit(fs38_err e);

/*
 * The update agent's path shared by the file and the network forms (cmd_update.c): begin with
 * the envelope, then feed() writes the payload from u->offset on with fs38_update_write (block
 * by block, as it arrives), then finish. When feed fails for a reason of its own (the network,
 * the server), it says so in its diag and sets own; a failure of fs38_update_write it passes on
 * with own false. Returns the exit status (messages printed).
 */
typedef struct update_feed {
    fs38_err (*run)(struct update_feed *f, fs38_update_ctx *u);
    fs38_diag diag;
    bool own;
} update_feed;
int update_apply(device *d, const uint8_t *env, size_t env_len, uint64_t cut, update_feed *feed);

/* cmd_net.c: update --from ENV_URL --payload-from PAYLOAD_URL (cmd_update.c parses the rest). */
int net_update(const char *dir, const char *env_url, const char *payload_url, net_opts *o, uint64_t cut);
/* cmd_net.c: log push URL [--file EXPORT] ... (called by cmd_log.c with the arguments after "push"). */
int cmd_log_push(const char *dir, int argc, char **argv);

/* The channel of one network command (cmd_net.c): what net_prepare read from the device and
 * the one secure channel open at a time (net_connect reuses it for the same host, port, mode). */
typedef struct net_ctx {
    device *d;
    const net_opts *o;
    fs38_net net;
    uint8_t *ca;
    size_t ca_len;
    uint8_t *cert;
    size_t cert_len;
    const fs38_key *key; /* the device key (fs38/keys.h) */
    bool psk_mode;
    bool psk_new;   /* --psk imported a key this run: sessions of the old one are not offered */
    bool open;
    char sess_name[24]; /* "net/s/<16 hex>": where the open channel's session is kept */
    char host[FS38_COAP_HOST_MAX + 1u];
    uint16_t port;
    fs38_channel_mode mode;
    fs38_transport t;
    fs38_diag diag; /* why the last step failed */
    uint8_t ueid[FS38_UEID_LEN];
    char ueid_hex[2 * FS38_UEID_LEN + 1];
} net_ctx;

/* Read the CA, certificate and key id (or the PSK) and the UEID of an opened device into n.
 * Exit status (0 ok; message printed otherwise). */
int net_prepare(net_ctx *n, device *d, const net_opts *o, const char *cmd);
/* Open the channel to host:port (kept open when it is already open to the same place); the
 * failure's diagnostic in n->diag. */
FS38_NODISCARD fs38_err net_connect(net_ctx *n, const char *host, uint16_t port, fs38_channel_mode mode);
/* Close the channel (if open). */
void net_disconnect(net_ctx *n);
/* net_disconnect and free what net_prepare read. */
void net_release(net_ctx *n);
/* mqtts://host[:port] (default port 8883, no path). 0 or -1 (printed, prefixed with cmd). */
int net_parse_mqtts(const char *cmd, const char *url, char *host, size_t cap, uint16_t *port);
/* The update agent fed from payload_url (coaps://, block-wise from the agent's resume offset)
 * for an envelope already in RAM, over n. Exit status (messages printed, as update --from). */
int net_update_env(net_ctx *n, const uint8_t *env, size_t env_len, const char *payload_url);

#endif
