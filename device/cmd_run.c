/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_run.c — the device's fleet agent over MQTT (issue 11; the wire contract is in
 * docs/fleet.md):
 *
 *   run --broker mqtts://HOST:PORT --ca SERVER_CA.pem [--once] [--wait MS] [--interval S]
 *       [--heartbeat S] [--keepalive S] [NET]
 *
 * One TLS connection to the fleet's broker (the device certificate authenticates it; its CN,
 * the UEID in hex, is its MQTT user name), client id = UEID hex, clean session false, QoS 1:
 *
 *   publishes  fs38/<ueid>/log       a fresh log export from the release point on (exactly the
 *                                    bytes `log export` writes), on connect, after every
 *                                    update or confirmation, and every --interval seconds
 *                                    when the log holds unacknowledged records (an idle,
 *                                    acknowledged log: every --heartbeat seconds, default
 *                                    3600; 0: every interval)
 *              fs38/<ueid>/attest    the EAT answering a challenge (as `attest --nonce`)
 *   reads      fs38/<ueid>/ack       CBOR uint: the collector verified and stored the records
 *                                    up to it: fs38_log_release (values not below the next
 *                                    seq are ignored; the ack is trusted for nothing else)
 *              fs38/<ueid>/challenge the verifier's nonce (8..64 raw bytes)
 *              fs38/<class>/update   (retained) CBOR map {1: SUIT envelope, 2: coaps:// URL of
 *                                    the payload}; <class> is the class id in lower-case hex
 *                                    (fs38_mqtt_topic_update)
 *
 * An update notice is acted on once (the SHA-256 of its envelope is remembered in the sealed
 * store after the update agent's verdict; a retained notice arriving again on every connect
 * is skipped, and so is one whose sequence a slot already holds): the MQTT session is closed,
 * the payload streamed from the coaps:// URL block-wise into the update agent (update_apply,
 * exactly as `update --from/--payload-from`), then the session is opened again and the log
 * pushed so the collector sees UPDATE_INSTALLED / UPDATE_REJECTED from the verified log.
 *
 * An image on trial (booted, not confirmed) is confirmed once the device has reached the fleet
 * (TLS to the broker, session and subscriptions accepted): that is this reference device's
 * self-test. When it cannot reach the broker the trial stays unconfirmed and the next boot
 * reverts it (BOOT_REVERTED in the log, pushed by the next run).
 *
 * --once: connect, push, handle what is pending (queued and retained messages), wait for the
 * collector's ack of the push for at most --wait MS (default 5000), and exit after one second
 * without a message. Without --once: keep-alive (--keepalive, default 60 s), reconnect with a
 * bounded exponential back-off (1 s doubling to 60 s, with jitter) until SIGTERM / SIGINT.
 *
 * Exit status (net.h): 0 done; 1 refused (TLS, CONNACK, SUBACK refusal, an update refused by
 * the agent, an attestation refused); 2 usage or local I/O; 3 broker unreachable, timed out,
 * connection lost (--once).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "fs38/attest.h"
#include "fs38/bootstate.h"
#include "fs38/cbor.h"
#include "fs38/log.h"
#include "fs38/mqtt.h"
#include "fs38/store.h"
#include "fs38/suit.h"
#include "fs38/util.h"
#include "keys.h"
#include "net.h"

#define RUN_RX (64u * 1024u) /* largest message accepted: an update notice with its envelope */
#define RUN_TX 4096u
#define RUN_QUEUE 32u
#define RUN_QUIET_MS 1000u
#define RUN_URL_MAX 512u
#define NOTICE_KEY "fleet/notice"
#define TOPIC_CAP (FS38_MQTT_TOPIC_MAX + 40u)

enum { MSG_ACK = 1, MSG_CHALLENGE, MSG_UPDATE };

typedef struct run_msg {
    int kind;
    uint8_t *data;
    size_t len;
} run_msg;

typedef struct run_ctx {
    device *d;
    net_ctx n;
    net_opts o;
    const char *url;
    char host[FS38_COAP_HOST_MAX + 1u];
    uint16_t port;
    bool once;
    uint32_t wait_ms;
    uint64_t interval_ms;
    uint16_t keepalive_s;
    char t_log[TOPIC_CAP], t_ack[TOPIC_CAP], t_chal[TOPIC_CAP], t_att[TOPIC_CAP];
    char t_upd[TOPIC_CAP];
    run_msg q[RUN_QUEUE];
    size_t nq;
    size_t dropped;
    bool connected;
    bool trial;           /* an image is on trial: confirm once the fleet is reached */
    bool awaiting;        /* a push whose ack has not come yet */
    uint32_t pushed_last; /* seq of the last record of the last push */
    uint64_t last_activity, last_push;
    uint64_t heartbeat_ms; /* --heartbeat: an idle log is pushed at most this often (0: every interval) */
    uint64_t last_publish; /* when the last push published */
    bool idle_said;        /* "run: idle" printed for the current idle stretch */
    uint32_t quiet_next;   /* the log's next seq right after releasing an ack that covered the
                              last push (its RELEASE marker, a seal): while it stays there, nothing
                              new was logged; 0: unknown */
    uint64_t hard;        /* --once: stop by then (moved on by the time an update takes) */
    int rc;               /* worst outcome so far */
} run_ctx;

static fs38_mqtt g_run_mqtt;
static uint8_t g_rx[RUN_RX], g_tx[RUN_TX];
static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static uint64_t now_ms(run_ctx *r)
{
    return r->d->port.monotonic_ms(r->d->port.ctx);
}

static void worse(run_ctx *r, int rc)
{
    /* 2 (local) over 1 (refused) over 3 (network) over 0 */
    static const int rank[] = { 0, 2, 3, 1 };
    if (rc >= 0 && rc <= 3 && rank[rc] > rank[r->rc])
        r->rc = rc;
}

static bool topic_eq(const char *topic, size_t len, const char *want)
{
    return strlen(want) == len && memcmp(topic, want, len) == 0;
}

/* The client's callback: classify and copy (no MQTT call may be made from here). */
static void on_message(void *user, const char *topic, size_t tl, const uint8_t *payload, size_t len, uint8_t qos,
                       bool retain)
{
    run_ctx *r = user;
    (void)qos;
    (void)retain;
    int kind = topic_eq(topic, tl, r->t_ack)                                              ? MSG_ACK
               : topic_eq(topic, tl, r->t_chal)                                           ? MSG_CHALLENGE
               : topic_eq(topic, tl, r->t_upd) ? MSG_UPDATE
                                                                                          : 0;
    if (!kind)
        return;
    uint8_t *c = malloc(len ? len : 1u);
    if (r->nq == RUN_QUEUE || !c) {
        free(c);
        r->dropped++;
        return;
    }
    if (len)
        memcpy(c, payload, len);
    r->q[r->nq++] = (run_msg){ .kind = kind, .data = c, .len = len };
}

static void queue_clear(run_ctx *r)
{
    for (size_t i = 0; i < r->nq; i++)
        free(r->q[i].data);
    r->nq = 0;
}

static const char *mqtt_why(fs38_err e)
{
    const fs38_diag *dg = fs38_mqtt_diag(&g_run_mqtt);
    return dg->msg[0] ? dg->msg : fs38_strerror(e);
}

/* ---- the session ------------------------------------------------------------------------------ */

static void run_close(run_ctx *r)
{
    if (r->connected && fs38_mqtt_disconnect(&g_run_mqtt) != FS38_OK) {
        /* the broker keeps the session either way (clean session false) */
    }
    r->connected = false;
    net_disconnect(&r->n);
}

static FS38_NODISCARD fs38_err run_subscribe(run_ctx *r, const char *filter)
{
    uint8_t granted = 0;
    fs38_err e = fs38_mqtt_subscribe(&g_run_mqtt, filter, strlen(filter), 1, &granted);
    if (e)
        fs38_diag_set(&r->n.diag, e, "%s: subscribing to %s: %s", r->url, filter, mqtt_why(e));
    return e;
}

/* TLS, CONNECT (clean session false), the four subscriptions. */
static FS38_NODISCARD fs38_err run_connect(run_ctx *r)
{
    fs38_err e = net_connect(&r->n, r->host, r->port, FS38_CHANNEL_TLS);
    if (e)
        return e;
    fs38_mqtt_config mc;
    memset(&mc, 0, sizeof mc);
    mc.transport = &r->n.t;
    mc.port = &r->d->port;
    mc.client_id = r->n.psk_mode ? r->o.psk_id : r->n.ueid_hex;
    mc.keep_alive_s = r->keepalive_s;
    mc.timeout_ms = r->o.timeout_ms;
    mc.max_retries = 2;
    mc.rx_buf = g_rx;
    mc.rx_cap = sizeof g_rx;
    mc.tx_buf = g_tx;
    mc.tx_cap = sizeof g_tx;
    mc.on_message = on_message;
    mc.user = r;
    e = fs38_mqtt_init(&g_run_mqtt, &mc);
    if (!e)
        e = fs38_mqtt_connect(&g_run_mqtt);
    if (e) {
        fs38_diag_set(&r->n.diag, e, "%s: %s", r->url, mqtt_why(e));
        net_disconnect(&r->n);
        return e;
    }
    r->connected = true;
    const char *subs[] = { r->t_ack, r->t_chal, r->t_upd };
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if ((e = run_subscribe(r, subs[i])) != FS38_OK) {
            run_close(r);
            return e;
        }
    printf("run: connected to %s as %s (%s), subscribed to %s, %s, %s\n", r->url, r->n.ueid_hex,
           fs38_mqtt_session_present(&g_run_mqtt) ? "session resumed" : "new session", r->t_ack, r->t_chal,
           r->t_upd);
    fflush(stdout);
    r->last_activity = now_ms(r);
    return FS38_OK;
}

/* ---- what the device does --------------------------------------------------------------------- */

/* A fresh export from the release point on, published on fs38/<ueid>/log (QoS 1). */
static FS38_NODISCARD fs38_err run_push(run_ctx *r)
{
    device *d = r->d;
    r->last_push = now_ms(r);
    r->last_publish = r->last_push;
    r->idle_said = false;
    r->quiet_next = 0;
    if (!d->log_open) {
        printf("run: no security log on this device: nothing to push\n");
        return FS38_OK;
    }
    fs38_log_info in;
    fs38_err e = fs38_log_info_get(&d->log, &in);
    if (e) {
        host_err("run: reading the log: %s", fs38_log_diag(&d->log)->msg[0] ? fs38_log_diag(&d->log)->msg : fs38_strerror(e));
        worse(r, HOST_EXIT_USAGE);
        return FS38_OK; /* a local fault: the session goes on */
    }
    fs38_log_cursor c;
    fs38_log_cursor_init(&c, in.released);
    do {
        size_t cap = fs38_log_export_bound(&d->log, c.next), len = 0;
        uint8_t *buf = cap ? malloc(cap) : NULL;
        if (!buf) {
            host_err("run: log export: %s", cap ? "out of memory" : fs38_log_diag(&d->log)->msg);
            worse(r, HOST_EXIT_USAGE);
            return FS38_OK;
        }
        e = fs38_log_export(&d->log, &c, buf, cap, &len);
        if (e) {
            host_err("run: log export: %s", fs38_log_diag(&d->log)->msg[0] ? fs38_log_diag(&d->log)->msg : fs38_strerror(e));
            free(buf);
            worse(r, HOST_EXIT_USAGE);
            return FS38_OK;
        }
        e = fs38_mqtt_publish(&g_run_mqtt, r->t_log, strlen(r->t_log), buf, len, 1);
        free(buf);
        if (e) {
            fs38_diag_set(&r->n.diag, e, "%s: publishing the log: %s", r->url, mqtt_why(e));
            return e;
        }
        printf("run: log records %" PRIu32 "..%" PRIu32 " (%zu bytes) published to %s\n", c.first, c.last, len,
               r->t_log);
    } while (!c.done);
    fflush(stdout);
    r->pushed_last = c.last;
    r->awaiting = true;
    r->last_activity = now_ms(r);
    return FS38_OK;
}

/* Every --interval: push what the collector does not hold yet. When it holds everything pushed
 * and nothing was logged since but the RELEASE marker (and a seal) its ack made, an export would
 * carry only those and a new checkpoint — a batch per interval from an idle device, 2 records in
 * its ring and the fleet's database each time — so the push waits for something new, or for
 * --heartbeat (the markers then go with it). */
static FS38_NODISCARD fs38_err run_interval(run_ctx *r)
{
    device *d = r->d;
    const uint64_t now = now_ms(r);
    fs38_log_info in;
    if (d->log_open && r->heartbeat_ms && r->quiet_next && fs38_log_info_get(&d->log, &in) == FS38_OK &&
        in.next_seq == r->quiet_next && now - r->last_publish < r->heartbeat_ms) {
        r->last_push = now; /* looked at again after the next interval */
        if (!r->idle_said) {
            printf("run: idle: the collector holds every record pushed (up to %" PRIu32 "); the next push when "
                   "something is logged, or in %" PRIu64 " s (--heartbeat)\n",
                   r->pushed_last, (r->heartbeat_ms - (now - r->last_publish) + 999u) / 1000u);
            fflush(stdout);
            r->idle_said = true;
        }
        return FS38_OK;
    }
    return run_push(r);
}

static void handle_ack(run_ctx *r, const uint8_t *p, size_t len)
{
    fs38_cbor_dec dec;
    uint64_t v = 0;
    fs38_cbor_dec_init(&dec, p, len);
    if (fs38_cbor_check_single(p, len) != FS38_OK || fs38_cbor_get_uint(&dec, &v) != FS38_OK) {
        host_err("run: ack on %s ignored: not one CBOR unsigned integer (%zu bytes)", r->t_ack, len);
        return;
    }
    device *d = r->d;
    fs38_log_info in;
    if (!d->log_open || fs38_log_info_get(&d->log, &in) != FS38_OK)
        return;
    if (v >= in.next_seq) {
        host_err("run: ack %" PRIu64 " ignored: the log's next record is %" PRIu32, v, in.next_seq);
        return;
    }
    if (r->awaiting && v >= r->pushed_last)
        r->awaiting = false;
    if (v + 1u <= in.released) {
        printf("run: ack %" PRIu64 ": already released\n", v);
        return;
    }
    fs38_err e = fs38_log_release(&d->log, (uint32_t)v);
    if (e) {
        host_err("run: log release %" PRIu64 ": %s", v, fs38_log_diag(&d->log)->msg[0] ? fs38_log_diag(&d->log)->msg : fs38_strerror(e));
        worse(r, HOST_EXIT_USAGE);
        return;
    }
    /* the ack covers the last push and nothing came after it but what the release wrote */
    fs38_log_info after;
    if (v == r->pushed_last && v + 1u == in.next_seq && fs38_log_info_get(&d->log, &after) == FS38_OK)
        r->quiet_next = after.next_seq;
    printf("run: ack %" PRIu64 ": the collector holds the records up to %" PRIu64 "; ring released\n", v, v);
}

static FS38_NODISCARD fs38_err handle_challenge(run_ctx *r, const uint8_t *nonce, size_t len)
{
    uint8_t token[FS38_EAT_MAX];
    size_t tl = 0;
    int booted = -1;
    fs38_diag dg;
    memset(&dg, 0, sizeof dg);
    if (len < FS38_EAT_NONCE_MIN || len > FS38_EAT_NONCE_MAX) {
        host_err("run: challenge on %s ignored: the nonce must be %u to %u bytes, not %zu", r->t_chal,
                 FS38_EAT_NONCE_MIN, FS38_EAT_NONCE_MAX, len);
        return FS38_OK;
    }
    fs38_err e = device_attest_token(r->d, nonce, len, token, sizeof token, &tl, &booted, &dg);
    if (e) {
        fprintf(stderr, "run: attest: refused: %s\n", dg.msg[0] ? dg.msg : fs38_strerror(e));
        worse(r, e == FS38_ERR_IO || e == FS38_ERR_STATE ? HOST_EXIT_USAGE : HOST_EXIT_REJECT);
        return FS38_OK;
    }
    e = fs38_mqtt_publish(&g_run_mqtt, r->t_att, strlen(r->t_att), token, tl, 1);
    if (e) {
        fs38_diag_set(&r->n.diag, e, "%s: publishing the attestation: %s", r->url, mqtt_why(e));
        return e;
    }
    printf("run: challenge (%zu-byte nonce) answered: token (%zu bytes) published to %s; running slot %s\n", len, tl,
           r->t_att, booted >= 0 ? (booted == 0 ? "A" : "B") : "none");
    fflush(stdout);
    return FS38_OK;
}

/* The notice {1: envelope, 2: URL}. 0 or -1 (printed). */
static int notice_parse(run_ctx *r, const uint8_t *p, size_t len, const uint8_t **env, size_t *env_len,
                        char url[RUN_URL_MAX + 1])
{
    fs38_cbor_dec dec;
    size_t n = 0;
    bool have_env = false, have_url = false;
    fs38_cbor_dec_init(&dec, p, len);
    if (fs38_cbor_check_single(p, len) != FS38_OK || fs38_cbor_get_map(&dec, &n) != FS38_OK || n != 2)
        goto bad;
    for (size_t i = 0; i < n; i++) {
        uint64_t k = 0;
        if (fs38_cbor_get_uint(&dec, &k) != FS38_OK)
            goto bad;
        if (k == 1 && !have_env) {
            if (fs38_cbor_get_bstr(&dec, env, env_len) != FS38_OK || *env_len == 0)
                goto bad;
            have_env = true;
        } else if (k == 2 && !have_url) {
            const char *s = NULL;
            size_t sl = 0;
            if (fs38_cbor_get_tstr(&dec, &s, &sl) != FS38_OK || sl == 0 || sl > RUN_URL_MAX ||
                memchr(s, 0, sl))
                goto bad;
            memcpy(url, s, sl);
            url[sl] = 0;
            have_url = true;
        } else {
            goto bad;
        }
    }
    if (have_env && have_url)
        return 0;
bad:
    host_err("run: update notice on %s ignored: not the CBOR map {1: envelope, 2: coaps:// URL} (%zu bytes)",
             r->t_upd, len);
    return -1;
}

static FS38_NODISCARD fs38_err handle_update(run_ctx *r, const uint8_t *p, size_t len)
{
    static fs38_suit_manifest m;
    const uint8_t *env = NULL;
    size_t env_len = 0, hl = 0, sl = 0;
    char url[RUN_URL_MAX + 1];
    uint8_t h[32], seen[32];
    device *d = r->d;
    if (notice_parse(r, p, len, &env, &env_len, url))
        return FS38_OK;
    if (psa_hash_compute(PSA_ALG_SHA_256, env, env_len, h, sizeof h, &hl) != PSA_SUCCESS) {
        host_err("run: hashing the update notice failed");
        worse(r, HOST_EXIT_USAGE);
        return FS38_OK;
    }
    if (fs38_store_get(&d->store, NOTICE_KEY, seen, sizeof seen, &sl) == FS38_OK && sl == sizeof seen &&
        fs38_ct_compare(seen, h, sizeof h) == 0) {
        printf("run: update notice (%zu-byte envelope) already handled\n", env_len);
        return FS38_OK;
    }
    fs38_diag dg;
    memset(&dg, 0, sizeof dg);
    unsigned running = 0;
    if (fs38_suit_authenticate(&m, env, env_len, &d->trust, &dg) == FS38_OK &&
        fs38_boot_running(&d->boot, &running) == FS38_OK) {
        for (unsigned i = 0; i < FS38_SLOT_COUNT; i++)
            if (d->boot.slot[i].verdict == FS38_OK && d->boot.slot[i].sequence >= m.sequence) {
                printf("run: update notice for sequence %" PRIu64 ": slot %c already holds sequence %" PRIu64 "\n",
                       m.sequence, device_slot_letter(i), d->boot.slot[i].sequence);
                if (fs38_store_put(&d->store, NOTICE_KEY, h, sizeof h) != FS38_OK)
                    host_err("run: cannot remember the update notice");
                return FS38_OK;
            }
        printf("run: update notice for sequence %" PRIu64 ": payload from %s\n", m.sequence, url);
    } else {
        /* the agent refuses it and records why (UPDATE_REJECTED in the log) */
        printf("run: update notice (%zu-byte envelope): payload from %s\n", env_len, url);
    }
    fflush(stdout);
    run_close(r); /* one channel at a time: the broker keeps the session meanwhile */
    const uint64_t t0 = now_ms(r);
    int rc = net_update_env(&r->n, env, env_len, url);
    r->hard += now_ms(r) - t0;
    net_disconnect(&r->n);
    fflush(stdout);
    if (rc == HOST_EXIT_OK || rc == HOST_EXIT_REJECT) {
        /* the agent's verdict is final for this envelope: do not fetch it again */
        if (fs38_store_put(&d->store, NOTICE_KEY, h, sizeof h) != FS38_OK)
            host_err("run: cannot remember the update notice (it will be tried again)");
    }
    worse(r, rc);
    fs38_err e = run_connect(r);
    if (!e)
        e = run_push(r);
    return e;
}

static FS38_NODISCARD fs38_err handle_queue(run_ctx *r)
{
    fs38_err e = FS38_OK;
    size_t i = 0;
    if (r->dropped) {
        host_err("run: %zu message(s) dropped (queue full or out of memory)", r->dropped);
        r->dropped = 0;
    }
    /* handle_update re-connects, which may queue more: take one at a time from the front */
    while (!e && r->nq) {
        run_msg m = r->q[0];
        memmove(&r->q[0], &r->q[1], (r->nq - 1u) * sizeof r->q[0]);
        r->nq--;
        r->last_activity = now_ms(r);
        switch (m.kind) {
        case MSG_ACK:
            handle_ack(r, m.data, m.len);
            break;
        case MSG_CHALLENGE:
            e = handle_challenge(r, m.data, m.len);
            break;
        default:
            e = handle_update(r, m.data, m.len);
            break;
        }
        free(m.data);
        i++;
    }
    (void)i;
    return e;
}

static void confirm_trial(run_ctx *r)
{
    unsigned slot = 0;
    r->trial = false;
    fs38_err e = fs38_boot_confirm(&r->d->boot, &slot);
    if (e) {
        fprintf(stderr, "run: confirm: refused: %s\n", fs38_strerror(e));
        worse(r, e == FS38_ERR_IO || e == FS38_ERR_POWER ? HOST_EXIT_USAGE : HOST_EXIT_REJECT);
        return;
    }
    printf("run: the fleet is reachable: trial of slot %c (sequence %" PRIu64 ") confirmed; anti-rollback "
           "counter %" PRIu64 "\n",
           device_slot_letter(slot), r->d->boot.slot[slot].sequence, r->d->boot.counter);
}

static void backoff_sleep(run_ctx *r, uint64_t *delay)
{
    uint8_t j = 0;
    if (psa_generate_random(&j, 1) != PSA_SUCCESS)
        j = 0;
    uint64_t ms = *delay / 2u + (*delay / 2u) * j / 255u; /* jitter: half to all of the delay */
    printf("run: reconnecting in %" PRIu64 " ms\n", ms);
    fflush(stdout);
    const uint64_t until = now_ms(r) + ms;
    while (!g_stop && now_ms(r) < until) {
        struct timespec ts = { 0, 100 * 1000000L };
        nanosleep(&ts, NULL);
    }
    *delay = *delay * 2u > 60000u ? 60000u : *delay * 2u;
}

static int run_loop(run_ctx *r)
{
    uint64_t delay = 1000u;
    const uint64_t start = now_ms(r);
    r->hard = start + 6u * (uint64_t)r->wait_ms + 2u * r->o.timeout_ms;
    while (!g_stop) {
        if (!r->connected) {
            fs38_err e = run_connect(r);
            if (!e && r->trial)
                confirm_trial(r);
            if (!e)
                e = run_push(r);
            if (e) {
                fprintf(stderr, "run: %s\n", r->n.diag.msg[0] ? r->n.diag.msg : fs38_strerror(e));
                run_close(r);
                if (r->once) {
                    worse(r, net_exit(e));
                    break;
                }
                backoff_sleep(r, &delay);
                continue;
            }
            delay = 1000u;
        }
        fs38_err e = handle_queue(r);
        const uint64_t now = now_ms(r);
        if (!e && r->once) {
            const bool quiet = now - r->last_activity >= RUN_QUIET_MS;
            if (quiet && (!r->awaiting || now - r->last_push >= r->wait_ms))
                break;
            if (now >= r->hard) {
                host_err("run: --once: still busy after %" PRIu64 " ms; stopping", now - start);
                break;
            }
        }
        if (!e && !r->once && now - r->last_push >= r->interval_ms)
            e = run_interval(r);
        if (!e) {
            e = fs38_mqtt_poll(&g_run_mqtt, 200);
            if (e)
                fs38_diag_set(&r->n.diag, e, "%s: %s", r->url, mqtt_why(e));
        }
        if (e) {
            fprintf(stderr, "run: connection lost: %s\n", r->n.diag.msg[0] ? r->n.diag.msg : fs38_strerror(e));
            run_close(r);
            if (r->once) {
                worse(r, net_exit(e));
                break;
            }
            backoff_sleep(r, &delay);
        }
    }
    if (r->once && r->awaiting && r->rc == HOST_EXIT_OK)
        printf("run: no ack from the collector within %" PRIu32 " ms (the ring keeps the records)\n", r->wait_ms);
    run_close(r);
    queue_clear(r);
    return r->rc;
}

int cmd_run(const char *dir, int argc, char **argv)
{
    static run_ctx r;
    const char *broker = NULL, *wait_s = NULL, *interval_s = NULL, *ka_s = NULL, *hb_s = NULL;
    bool once = false;
    memset(&r, 0, sizeof r);
    const host_opt opts[] = {
        { .name = "--broker", .value = &broker },
        { .name = "--once", .flag = &once },
        { .name = "--wait", .value = &wait_s },
        { .name = "--interval", .value = &interval_s },
        { .name = "--heartbeat", .value = &hb_s },
        { .name = "--keepalive", .value = &ka_s },
        NET_HOST_OPTS(r.o),
        { .name = NULL },
    };
    if (device_no_positional("run", argc, argv, opts))
        return HOST_EXIT_USAGE;
    if (!broker) {
        host_err("run: expected --broker mqtts://HOST:PORT --ca SERVER_CA.pem [--once]");
        return HOST_EXIT_USAGE;
    }
    uint64_t wait = 5000, interval = 300, ka = 60, hb = 3600;
    if ((wait_s && host_parse_u64("run --wait (milliseconds)", wait_s, 100, 600000, 0, &wait)) ||
        (interval_s && host_parse_u64("run --interval (seconds)", interval_s, 1, 86400, 0, &interval)) ||
        (ka_s && host_parse_u64("run --keepalive (seconds)", ka_s, 1, 65535, 0, &ka)) ||
        (hb_s && host_parse_u64("run --heartbeat (seconds)", hb_s, 0, 604800, 0, &hb)) ||
        net_opts_check("run", &r.o) ||
        net_parse_mqtts("run", broker, r.host, sizeof r.host, &r.port))
        return HOST_EXIT_USAGE;
    r.url = broker;
    r.once = once;
    r.wait_ms = (uint32_t)wait;
    r.interval_ms = interval * 1000u;
    r.heartbeat_ms = hb * 1000u;
    r.keepalive_s = (uint16_t)ka;
    if (device_open(&g_dev, dir))
        return HOST_EXIT_USAGE;
    r.d = &g_dev;
    int rc = device_keys_open(&g_dev) ? HOST_EXIT_USAGE : net_prepare(&r.n, &g_dev, &r.o, "run");
    if (rc == HOST_EXIT_OK) {
        size_t l = 0;
        snprintf(r.t_ack, sizeof r.t_ack, "fs38/%s/ack", r.n.ueid_hex);
        snprintf(r.t_chal, sizeof r.t_chal, "fs38/%s/challenge", r.n.ueid_hex);
        snprintf(r.t_att, sizeof r.t_att, "fs38/%s/attest", r.n.ueid_hex);
        if (fs38_mqtt_topic_log(r.n.ueid, sizeof r.n.ueid, r.t_log, sizeof r.t_log, &l) != FS38_OK ||
            fs38_mqtt_topic_update(g_dev.rom.class_id, r.t_upd, sizeof r.t_upd, &l) != FS38_OK) {
            host_err("run: cannot build the log or update topic");
            rc = HOST_EXIT_USAGE;
        }
    }
    if (rc == HOST_EXIT_OK) {
        fs38_bootstate st;
        if (fs38_bootstate_read(&g_dev.port, g_dev.cfg.state.offset, g_dev.cfg.state.size, &st) == FS38_OK &&
            st.pending == FS38_PENDING_TRYING && st.pending_slot < FS38_SLOT_COUNT)
            r.trial = true;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        g_stop = 0;
        rc = run_loop(&r);
        if (rc == HOST_EXIT_OK)
            printf("run: done\n");
    }
    net_release(&r.n);
    device_close(&g_dev);
    return rc;
}
