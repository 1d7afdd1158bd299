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
#include "fs38/err.h"
#include "fs38/update.h"

#define NET_EXIT_NET 3

/* Options every network command takes (strings as given; checked by net_opts_check). */
typedef struct net_opts {
    const char *ca;          /* --ca SERVER_CA.pem: the fleet CA the server must chain to */
    const char *psk_id;      /* --psk-id ID: PSK mode, this identity */
    const char *psk;         /* --psk FILE: the PSK (hex), imported into the sealed store */
    const char *timeout;     /* --timeout MS */
    const char *client_auth; /* --client-auth required|optional (default required) */
    /* parsed */
    uint32_t timeout_ms;
    bool client_auth_optional;
} net_opts;

#define NET_HOST_OPTS(o)                                                                       \
    { .name = "--ca", .value = &(o).ca }, { .name = "--psk-id", .value = &(o).psk_id },         \
        { .name = "--psk", .value = &(o).psk }, { .name = "--timeout", .value = &(o).timeout }, \
        { .name = "--client-auth", .value = &(o).client_auth }

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

#endif
