/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_collect.c — `fs38 collect`: the fleet's log collector (issue 11, controls 7 and 8).
 *
 *   fs38 collect --broker mqtts://HOST:PORT --ca CA_DIR --cert C --key K --db DB --db-key FILE
 *                [--group NAME] [--until-idle SECONDS] [--client-id ID] [--group-commit N]
 *
 * Subscribes to $share/NAME/fs38/+/log (QoS 1; N collectors in one group share the load) and,
 * for each batch, calls fleet_collect_batch() (host/fleet): verification against the device's
 * k0 and its stored position, records + position committed in one transaction, alerts. Only
 * after the commit does it publish the position (CBOR uint: the last committed seq) on
 * fs38/<ueid>/ack, so a device frees only what is in the database. A batch is handled outside
 * libmosquitto's callbacks (queued first); the batches waiting are committed together, up to
 * --group-commit N (default 64) in one transaction (fleet_collect_many: one fsync, acks after it). Client id: --client-id ID (clean session false: the
 * broker keeps the subscription and queues batches while the collector is down), else
 * fs38-collector-NAME-PID with a clean session.
 * Output: one line per batch "collect: UEID: ...", and at the end a summary line.
 * Exit: 0 (stopped by SIGINT/SIGTERM, or --until-idle S seconds without a message), 1 refused by
 * the broker, 2 usage / I/O / database error.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "cmds.h"
#include "fleet.h"
#include "fleet_mqtt.h"
#include "fs38/util.h"
#include "host.h"

void usage_collect(int to_stderr)
{
    fprintf(to_stderr ? stderr : stdout,
            "usage: fs38 collect --broker mqtts://HOST:PORT --ca CA_DIR --cert C --key K --db DB --db-key FILE\n"
            "                    [--group NAME] [--until-idle SECONDS] [--client-id ID] [--group-commit N]\n"
            "  Subscribe to $share/NAME/fs38/+/log (default NAME fs38), verify each device's batch against its\n"
            "  k0 and stored position, store the records exactly once, raise alerts (gap, truncation,\n"
            "  forgery, replay, unenrolled), then publish the committed position on fs38/<ueid>/ack.\n"
            "  DB: a SQLite file or a postgresql:// URL. --until-idle: exit 0 after S seconds without a\n"
            "  message. --client-id: a stable id with a persistent session (batches queue while down).\n"
            "  --group-commit N: the batches waiting are committed N at a time, in one transaction\n"
            "  (default 64; 1: a transaction per batch).\n"
            "exit status: 0 done, 1 refused by the broker, 2 usage, I/O or database error.\n");
}

#define COLLECT_GROUP_DEFAULT 64u
#define COLLECT_GROUP_MAX 1024u

typedef struct qmsg {
    struct qmsg *next;
    char ueid[FLEET_UEID_MAX];
    uint8_t *data;
    size_t len;
} qmsg;

static struct {
    qmsg *head, *tail;
    long long last_ms;
    unsigned ignored;
} q;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    (void)m;
    (void)obj;
    q.last_ms = now_ms();
    qmsg *e = calloc(1, sizeof *e);
    if (!e || fmq_topic_ueid(msg->topic, "log", e->ueid, sizeof e->ueid)) {
        free(e);
        q.ignored++;
        return;
    }
    e->len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
    e->data = malloc(e->len + 1u);
    if (!e->data) {
        free(e);
        q.ignored++;
        return;
    }
    if (e->len)
        memcpy(e->data, msg->payload, e->len);
    if (q.tail)
        q.tail->next = e;
    else
        q.head = e;
    q.tail = e;
}

int cmd_collect(int argc, char **argv)
{
    const char *broker = NULL, *ca = NULL, *cert = NULL, *key = NULL, *dbs = NULL, *dbkey_path = NULL,
               *group = "fs38", *idle_s = NULL, *client_id = NULL, *gc_s = NULL;
    const host_opt opts[] = {
        { .name = "--broker", .value = &broker }, { .name = "--ca", .value = &ca },
        { .name = "--cert", .value = &cert },     { .name = "--key", .value = &key },
        { .name = "--db", .value = &dbs },        { .name = "--db-key", .value = &dbkey_path },
        { .name = "--group", .value = &group },   { .name = "--until-idle", .value = &idle_s },
        { .name = "--client-id", .value = &client_id }, { .name = "--group-commit", .value = &gc_s },
        { .name = NULL },
    };
    const char *pos[1];
    size_t npos = 0;
    int r = host_parse_args(argc, argv, opts, pos, 0, &npos);
    if (r == 1) {
        usage_collect(0);
        return HOST_EXIT_OK;
    }
    if (r || !broker || !ca || !cert || !key || !dbs || !dbkey_path) {
        if (!r)
            host_err("collect: --broker, --ca, --cert, --key, --db and --db-key are required");
        usage_collect(1);
        return HOST_EXIT_USAGE;
    }
    if (!group[0] || strpbrk(group, "/+#")) {
        host_err("collect: --group '%s': a share name is not empty and has no '/', '+' or '#'", group);
        return HOST_EXIT_USAGE;
    }
    uint64_t idle = 0, group_max = COLLECT_GROUP_DEFAULT;
    if (idle_s && host_parse_u64("collect --until-idle", idle_s, 1, 86400u * 365u, 0, &idle))
        return HOST_EXIT_USAGE;
    if (gc_s && host_parse_u64("collect --group-commit", gc_s, 1, COLLECT_GROUP_MAX, 0, &group_max))
        return HOST_EXIT_USAGE;
    uint8_t dbkey[FLEET_DBKEY_LEN];
    fleet_db *db = NULL;
    if (fleet_open_keyed(dbs, dbkey_path, dbkey, &db))
        return HOST_EXIT_USAGE;
    char idbuf[128];
    if (!client_id) {
        snprintf(idbuf, sizeof idbuf, "fs38-collector-%s-%ld", group, (long)getpid());
        client_id = idbuf;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    const fmq_opts mo = { .url = broker, .ca = ca, .cert = cert, .key = key, .client_id = client_id,
                          .clean_session = client_id == idbuf };
    struct mosquitto *m = NULL;
    int rc = fmq_connect(&mo, 10000, &m);
    if (rc) {
        fleet_db_close(db);
        fs38_wipe(dbkey, sizeof dbkey);
        return rc == 1 ? HOST_EXIT_REJECT : HOST_EXIT_USAGE;
    }
    mosquitto_message_callback_set(m, on_message);
    char topic[160];
    snprintf(topic, sizeof topic, "$share/%s/fs38/+/log", group);
    if (fmq_subscribe(m, topic, 10000)) {
        fmq_close(m);
        fleet_db_close(db);
        fs38_wipe(dbkey, sizeof dbkey);
        return HOST_EXIT_REJECT;
    }
    printf("collect: subscribed to %s as %s (%s), database %s\n", topic, client_id,
           mo.clean_session ? "clean session" : "persistent session", fleet_db_is_pg(db) ? "PostgreSQL" : "SQLite");
    fflush(stdout);
    q.last_ms = now_ms();
    uint64_t n_batches = 0, n_stored = 0, n_dup = 0, n_rej = 0, n_unenrolled = 0, n_records = 0, n_tx = 0;
    rc = HOST_EXIT_OK;
    unsigned reconnects = 0;
    while (!g_stop) {
        int lr = mosquitto_loop(m, 100, 1);
        if (lr != MOSQ_ERR_SUCCESS && !g_stop) {
            /* the broker went away: reconnect at once, then every second, and subscribe again
             * (a persistent session keeps plain subscriptions, but Mosquitto 2.0 does not restore
             * shared ones after its own restart) */
            if (reconnects++)
                sleep(1);
            if (mosquitto_reconnect(m) == MOSQ_ERR_SUCCESS) {
                (void)mosquitto_subscribe(m, NULL, topic, 1);
                reconnects = 0;
                printf("collect: reconnected to %s\n", broker);
                fflush(stdout);
            }
        }
        while (q.head && !g_stop) {
            /* up to --group-commit batches in one transaction (one fsync), acks after it */
            static qmsg *grp[COLLECT_GROUP_MAX];
            static fleet_batch_in in[COLLECT_GROUP_MAX];
            static fleet_result res[COLLECT_GROUP_MAX];
            size_t n = 0;
            while (q.head && n < group_max) {
                qmsg *e = q.head;
                q.head = e->next;
                if (!q.head)
                    q.tail = NULL;
                grp[n] = e;
                in[n] = (fleet_batch_in){ .ueid = e->ueid, .batch = e->data, .len = e->len };
                n++;
            }
            int cr = fleet_collect_many(db, dbkey, n, in, res);
            n_batches += n;
            n_tx++;
            if (cr) {
                /* a database error: stop loudly; the devices keep every unacknowledged record */
                host_err("collect: %zu batch(es) not committed; stopping", n);
                rc = HOST_EXIT_USAGE;
                g_stop = 1;
            }
            for (size_t i = 0; i < n; i++) {
                qmsg *e = grp[i];
                if (!cr) {
                    switch (res[i].outcome) {
                    case FLEET_STORED: n_stored++; break;
                    case FLEET_DUPLICATE: n_dup++; break;
                    case FLEET_REJECTED: n_rej++; break;
                    case FLEET_UNENROLLED: n_unenrolled++; break;
                    }
                    n_records += res[i].stored;
                    printf("collect: %s: %s\n", e->ueid, res[i].summary);
                    if (res[i].ack) {
                        uint8_t ack[9];
                        size_t al = fleet_ack_encode(res[i].next - 1u, ack);
                        char at[FLEET_UEID_MAX + 16];
                        snprintf(at, sizeof at, "fs38/%s/ack", e->ueid);
                        /* after the commit; QoS 1: libmosquitto resends it until the broker has it */
                        int pr = mosquitto_publish(m, NULL, at, (int)al, ack, 1, false);
                        if (pr != MOSQ_ERR_SUCCESS)
                            host_err("collect: %s: ack not sent: %s", e->ueid, mosquitto_strerror(pr));
                    }
                }
                free(e->data);
                free(e);
            }
            fflush(stdout);
            /* between groups: keep-alive PINGREQs and the acks just queued go out, so a long
             * backlog does not make the broker drop the collector ("exceeded timeout") */
            (void)mosquitto_loop(m, 0, 1);
        }
        if (idle && now_ms() - q.last_ms >= (long long)idle * 1000)
            break;
    }
    /* let the last acks reach the broker */
    for (int i = 0; i < 10; i++)
        (void)mosquitto_loop(m, 50, 1);
    while (q.head) {
        qmsg *e = q.head;
        q.head = e->next;
        free(e->data);
        free(e);
    }
    printf("collect: %" PRIu64 " batch(es): %" PRIu64 " verified, %" PRIu64 " duplicate, %" PRIu64 " rejected, %" PRIu64
           " unenrolled; %" PRIu64 " record(s) stored; %" PRIu64 " transaction(s)\n",
           n_batches, n_stored, n_dup, n_rej, n_unenrolled, n_records, n_tx);
    fmq_close(m);
    fleet_db_close(db);
    fs38_wipe(dbkey, sizeof dbkey);
    return rc;
}
