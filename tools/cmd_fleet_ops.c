/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_fleet_ops.c — `fs38 fleet attest` and `fs38 fleet publish` (issue 11): the fleet commands
 * that talk to devices through the broker (tools/fleet_mqtt.c) — see cmd_fleet.c for the usage.
 *
 * attest: for each device (--ueid U, or --all enrolled), a fresh 32-byte nonce is stored in the
 * database and published on fs38/<ueid>/challenge (QoS 1); the answer on fs38/<ueid>/attest is
 * verified with the device key of its enrolled certificate (fs38_eat_verify: signature, claims,
 * nonce in constant time) and its UEID claim must be the topic's; the verified claims
 * (software name / version, debug state, lifecycle, measurements, iat) go into the database as
 * JSON, a failure becomes an "attestation" alert. Exit 0 all verified, 1 a token failed or no
 * answer within --timeout (default 30 s), 2 usage / I/O / database error.
 *
 * publish: PUTs the payload to the CoAP server (libcoap's coap-client, DTLS with the same client
 * certificate and CA), then publishes (QoS 1, retained) the CBOR map { 1: envelope, 2: URL } on
 * fs38/<class-id>/update, class-id = the envelope's class identifier in lower-case hex (--class
 * to give it). Exit 0 published, 1 refused, 2 usage / I/O error.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/x509_crt.h>
#include <mosquitto.h>

#include "cmds.h"
#include "fleet.h"
#include "fleet_mqtt.h"
#include "fs38/attest.h"
#include "fs38/cbor.h"
#include "fs38/identity.h"
#include "fs38/suit.h"
#include "fs38/util.h"
#include "host.h"
#include "suit_dump.h"

int fleet_attest_cmd(int argc, char **argv);
int fleet_publish_cmd(int argc, char **argv);

#define ATTEST_NONCE 32u
#define MAX_TARGETS 100000u

typedef struct amsg {
    struct amsg *next;
    char ueid[FLEET_UEID_MAX];
    uint8_t *data;
    size_t len;
} amsg;

static amsg *g_head, *g_tail;

static void on_attest(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    (void)m;
    (void)obj;
    amsg *e = calloc(1, sizeof *e);
    if (!e || fmq_topic_ueid(msg->topic, "attest", e->ueid, sizeof e->ueid) || msg->payloadlen <= 0 ||
        msg->payloadlen > 4096 || !(e->data = malloc((size_t)msg->payloadlen))) {
        free(e);
        return;
    }
    e->len = (size_t)msg->payloadlen;
    memcpy(e->data, msg->payload, e->len);
    if (g_tail)
        g_tail->next = e;
    else
        g_head = e;
    g_tail = e;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The device key of a PEM certificate into kr. 0 or -1. */
static int cert_key(const char *pem, fs38_keyring *kr)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    uint8_t point[HOST_P256_POINT_LEN];
    int rc = -1;
    if (mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, strlen(pem) + 1u) == 0 &&
        host_pk_point(&crt.pk, point) == 0 && fs38_keyring_add_p256(kr, point, sizeof point) == FS38_OK)
        rc = 0;
    mbedtls_x509_crt_free(&crt);
    return rc;
}

static void jstr(char *out, size_t cap, const char *s)
{
    size_t k = 0;
    if (cap < 3)
        return;
    out[k++] = '"';
    for (; *s && k + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[k++] = '\\';
            out[k++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            k += (size_t)snprintf(out + k, cap - k, "\\u%04x", c);
        } else {
            out[k++] = (char)c;
        }
    }
    out[k++] = '"';
    out[k] = 0;
}

/* Verify one answer. 0 verified (claims stored), 1 refused (alert stored), -1 database error. */
static int attest_one(fleet_db *db, const char *ueid, const uint8_t *token, size_t len, char *line, size_t cap)
{
    char *pem = NULL;
    uint8_t nonce[64];
    size_t nl = 0;
    int r = fleet_challenge_get(db, ueid, &pem, nonce, sizeof nonce, &nl);
    if (r < 0)
        return -1;
    if (r == 1) {
        snprintf(line, cap, "an answer without an outstanding challenge (ignored)");
        return 1;
    }
    fs38_keyring kr;
    fs38_keyring_init(&kr);
    static fs38_eat_claims c;
    fs38_diag d;
    fs38_diag_clear(&d);
    const char *why = NULL;
    char whybuf[200];
    if (cert_key(pem, &kr)) {
        why = "the enrolled certificate's key is not usable";
    } else {
        fs38_err e = fs38_eat_verify(token, len, &kr, nonce, nl, &c, NULL, &d);
        if (e) {
            snprintf(whybuf, sizeof whybuf, "token refused: %s%s%s", fs38_strerror(e), d.msg[0] ? ": " : "", d.msg);
            why = whybuf;
        } else {
            char hex[2 * FS38_EAT_UEID_MAX + 1];
            host_hex(c.ueid, c.ueid_len, hex);
            if (strcmp(hex, ueid) != 0) {
                snprintf(whybuf, sizeof whybuf, "the token's UEID %s is not the device's", hex);
                why = whybuf;
            }
        }
    }
    fs38_keyring_free(&kr);
    free(pem);
    if (why) {
        snprintf(line, cap, "FAILED (%s)", why);
        return fleet_alert(db, ueid, "attestation", why) ? -1 : 1;
    }
    char json[2048], a[64], b[64], nhex[2 * sizeof nonce + 1];
    host_hex(nonce, nl, nhex);
    jstr(a, sizeof a, c.swname);
    jstr(b, sizeof b, c.swversion);
    size_t k = (size_t)snprintf(json, sizeof json,
                                "{\"verified\":true,\"verified_at\":%lld,\"nonce\":\"%s\",\"iat\":", (long long)time(NULL),
                                nhex);
    if (c.has_iat)
        k += (size_t)snprintf(json + k, sizeof json - k, "%" PRId64, c.iat);
    else
        k += (size_t)snprintf(json + k, sizeof json - k, "null");
    k += (size_t)snprintf(json + k, sizeof json - k, ",\"swname\":%s,\"swversion\":%s,\"dbgstat\":\"%s\",\"lifecycle\":\"%s\","
                                                     "\"measurements\":[",
                          a, b, fs38_dbgstat_name(c.dbgstat), fs38_lifecycle_name(c.lifecycle));
    for (size_t i = 0; i < c.n_meas && k < sizeof json - 200; i++) {
        jstr(a, sizeof a, c.meas[i].name);
        k += (size_t)snprintf(json + k, sizeof json - k, "%s{\"slot\":%s,\"status\":\"%s\",\"sequence\":%" PRIu64
                                                         ",\"booted\":%s}",
                              i ? "," : "", a, fs38_meas_status_name(c.meas[i].status), c.meas[i].sequence,
                              c.meas[i].booted ? "true" : "false");
    }
    snprintf(json + k, sizeof json - k, "]}");
    if (fleet_attestation_put(db, ueid, json))
        return -1;
    snprintf(line, cap, "verified (software %s %s, debug %s, lifecycle %s)", c.swname, c.swversion,
             fs38_dbgstat_name(c.dbgstat), fs38_lifecycle_name(c.lifecycle));
    return 0;
}

int fleet_attest_cmd(int argc, char **argv)
{
    const char *broker = NULL, *ca = NULL, *cert = NULL, *key = NULL, *dbs = NULL, *dbkey_path = NULL, *one = NULL,
               *timeout_s = NULL;
    bool all = false;
    const host_opt opts[] = {
        { .name = "--broker", .value = &broker }, { .name = "--ca", .value = &ca },
        { .name = "--cert", .value = &cert },     { .name = "--key", .value = &key },
        { .name = "--db", .value = &dbs },        { .name = "--db-key", .value = &dbkey_path },
        { .name = "--ueid", .value = &one },      { .name = "--all", .flag = &all },
        { .name = "--timeout", .value = &timeout_s }, { .name = NULL },
    };
    const char *pos[1];
    size_t npos = 0;
    int r = host_parse_args(argc, argv, opts, pos, 0, &npos);
    if (r == 1) {
        usage_fleet(0);
        return HOST_EXIT_OK;
    }
    if (r || !broker || !ca || !cert || !key || !dbs || !dbkey_path || (!one == !all)) {
        if (!r)
            host_err("fleet attest: --broker, --ca, --cert, --key, --db, --db-key and one of --ueid U / --all are "
                     "required");
        usage_fleet(1);
        return HOST_EXIT_USAGE;
    }
    uint64_t timeout = 30;
    if (timeout_s && host_parse_u64("fleet attest --timeout", timeout_s, 1, 3600, 0, &timeout))
        return HOST_EXIT_USAGE;
    uint8_t dbkey[FLEET_DBKEY_LEN];
    if (fleet_dbkey_load(dbkey_path, dbkey))
        return HOST_EXIT_USAGE;
    fs38_wipe(dbkey, sizeof dbkey); /* the tokens need no secret: the key only proves the operator holds it */
    fleet_db *db = NULL;
    if (fleet_db_open(dbs, &db))
        return HOST_EXIT_USAGE;
    char(*targets)[FLEET_UEID_MAX] = NULL;
    size_t nt = 0;
    int rc = HOST_EXIT_USAGE;
    struct mosquitto *m = NULL;
    bool *done = NULL;
    if (all) {
        if (fleet_device_list(db, &targets, &nt))
            goto out;
        if (nt == 0) {
            host_err("fleet attest --all: no device is enrolled");
            goto out;
        }
    } else {
        char(*known)[FLEET_UEID_MAX] = NULL;
        size_t nk = 0;
        if (fleet_device_list(db, &known, &nk))
            goto out;
        bool found = false;
        for (size_t i = 0; i < nk && !found; i++)
            found = strcmp(known[i], one) == 0;
        free(known);
        if (!found) {
            host_err("fleet attest: device %s is not enrolled", one);
            rc = HOST_EXIT_REJECT;
            goto out;
        }
        targets = calloc(1, sizeof *targets);
        if (!targets)
            goto out;
        snprintf(targets[0], FLEET_UEID_MAX, "%s", one);
        nt = 1;
    }
    done = calloc(nt, sizeof *done);
    if (!done)
        goto out;
    char id[64];
    snprintf(id, sizeof id, "fs38-attest-%ld", (long)getpid());
    const fmq_opts mo = { .url = broker, .ca = ca, .cert = cert, .key = key, .client_id = id, .clean_session = true };
    r = fmq_connect(&mo, 10000, &m);
    if (r) {
        rc = r == 1 ? HOST_EXIT_REJECT : HOST_EXIT_USAGE;
        goto out;
    }
    mosquitto_message_callback_set(m, on_attest);
    if (fmq_subscribe(m, "fs38/+/attest", 10000)) {
        rc = HOST_EXIT_REJECT;
        goto out;
    }
    for (size_t i = 0; i < nt; i++) {
        uint8_t nonce[ATTEST_NONCE];
        char topic[FLEET_UEID_MAX + 24];
        if (psa_generate_random(nonce, sizeof nonce) != PSA_SUCCESS) {
            host_err("fleet attest: no random bytes");
            goto out;
        }
        snprintf(topic, sizeof topic, "fs38/%s/challenge", targets[i]);
        if (fleet_challenge_put(db, targets[i], nonce, sizeof nonce) ||
            fmq_publish(m, topic, nonce, sizeof nonce, false, 10000))
            goto out;
    }
    printf("fleet attest: challenged %zu device(s)\n", nt);
    fflush(stdout);
    size_t answered = 0, verified = 0;
    const long long end = now_ms() + (long long)timeout * 1000;
    while (answered < nt && now_ms() < end) {
        if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS) {
            host_err("fleet attest: lost the broker connection");
            goto out;
        }
        while (g_head) {
            amsg *e = g_head;
            g_head = e->next;
            if (!g_head)
                g_tail = NULL;
            size_t i = 0;
            while (i < nt && strcmp(targets[i], e->ueid) != 0)
                i++;
            if (i < nt && !done[i]) {
                char line[400];
                int ar = attest_one(db, e->ueid, e->data, e->len, line, sizeof line);
                if (ar < 0) {
                    free(e->data);
                    free(e);
                    goto out;
                }
                done[i] = true;
                answered++;
                verified += ar == 0;
                printf("fleet attest: %s: %s\n", e->ueid, line);
                fflush(stdout);
            }
            free(e->data);
            free(e);
        }
    }
    for (size_t i = 0; i < nt; i++)
        if (!done[i]) {
            printf("fleet attest: %s: no answer within %" PRIu64 " s\n", targets[i], timeout);
            if (fleet_alert(db, targets[i], "attestation", "no answer to the attestation challenge in time"))
                goto out;
        }
    printf("fleet attest: %zu of %zu device(s) verified\n", verified, nt);
    rc = verified == nt ? HOST_EXIT_OK : HOST_EXIT_REJECT;
out:
    while (g_head) {
        amsg *e = g_head;
        g_head = e->next;
        free(e->data);
        free(e);
    }
    g_tail = NULL;
    if (m)
        fmq_close(m);
    free(done);
    free(targets);
    fleet_db_close(db);
    return rc;
}

/* ---- publish ---------------------------------------------------------------------------------------- */

/* CBOR head (major type mt, value v) into out; returns its length. */
static size_t cbor_head(uint8_t mt, uint64_t v, uint8_t *out)
{
    if (v < 24) {
        out[0] = (uint8_t)(mt << 5 | v);
        return 1;
    }
    unsigned n = v <= 0xffu ? 1u : v <= 0xffffu ? 2u : v <= 0xffffffffu ? 4u : 8u;
    out[0] = (uint8_t)(mt << 5 | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27));
    for (unsigned i = 0; i < n; i++)
        out[1 + i] = (uint8_t)(v >> (8u * (n - 1u - i)));
    return 1u + n;
}

/* The bstr value of integer key `key` in the CBOR map at d (other entries skipped). 0 or -1. */
static int map_bstr(const uint8_t *p, size_t len, int64_t key, const uint8_t **out, size_t *olen)
{
    fs38_cbor_dec d;
    size_t n;
    bool tagged = false;
    fs38_cbor_dec_init(&d, p, len);
    if (fs38_cbor_opt_tag(&d, 107, &tagged) || fs38_cbor_get_map(&d, &n))
        return -1;
    for (size_t i = 0; i < n; i++) {
        int64_t k;
        if (fs38_cbor_next_is(&d, 0) || fs38_cbor_next_is(&d, 1)) {
            if (fs38_cbor_get_int(&d, &k))
                return -1;
        } else {
            if (fs38_cbor_skip(&d) || fs38_cbor_skip(&d))
                return -1;
            continue;
        }
        if (k == key)
            return fs38_cbor_get_bstr(&d, out, olen) ? -1 : 0;
        if (fs38_cbor_skip(&d))
            return -1;
    }
    return -1;
}

/* The class id the envelope's shared sequence sets (envelope 3: manifest -> 3: common ->
 * 4: shared sequence -> set-parameters class-identifier), lower-case hex. Not authenticated:
 * only the topic of the notice depends on it (the device authenticates the envelope). */
static int envelope_class(const uint8_t *env, size_t len, char out[33])
{
    const uint8_t *man, *common, *shared, *vendor = NULL, *cls = NULL;
    size_t ml, cl, sl;
    if (map_bstr(env, len, 3, &man, &ml) || map_bstr(man, ml, 3, &common, &cl) ||
        map_bstr(common, cl, 4, &shared, &sl))
        return -1;
    suit_find_ids(shared, sl, &vendor, &cls);
    if (!cls)
        return -1;
    host_hex(cls, 16, out);
    return 0;
}

int fleet_publish_cmd(int argc, char **argv)
{
    const char *broker = NULL, *ca = NULL, *cert = NULL, *key = NULL, *coap = NULL, *cls = NULL,
               *client = "coap-client-openssl";
    const host_opt opts[] = {
        { .name = "--broker", .value = &broker }, { .name = "--ca", .value = &ca },
        { .name = "--cert", .value = &cert },     { .name = "--key", .value = &key },
        { .name = "--coap", .value = &coap },     { .name = "--class", .value = &cls },
        { .name = "--coap-client", .value = &client }, { .name = NULL },
    };
    const char *pos[3];
    size_t npos = 0;
    int r = host_parse_args(argc, argv, opts, pos, 3, &npos);
    if (r == 1) {
        usage_fleet(0);
        return HOST_EXIT_OK;
    }
    if (r || npos != 2 || !broker || !ca || !cert || !key || !coap) {
        if (!r)
            host_err("fleet publish: expected ENV.suit PAYLOAD --broker URL --ca CA_DIR --cert C --key K --coap "
                     "coaps://HOST:PORT/PATH");
        usage_fleet(1);
        return HOST_EXIT_USAGE;
    }
    if (strncmp(coap, "coaps://", 8) != 0 || !strchr(coap + 8, '/')) {
        host_err("fleet publish: --coap %s: expected coaps://HOST:PORT/PATH (DTLS; plaintext is not a mode)", coap);
        return HOST_EXIT_USAGE;
    }
    uint8_t *env = NULL;
    size_t elen = 0;
    if (host_read_file(pos[0], 1u << 20, &env, &elen))
        return HOST_EXIT_USAGE;
    struct stat st;
    if (stat(pos[1], &st) != 0 || !S_ISREG(st.st_mode)) {
        host_err("fleet publish: %s: not a readable file", pos[1]);
        free(env);
        return HOST_EXIT_USAGE;
    }
    char class_hex[65];
    if (cls) {
        snprintf(class_hex, sizeof class_hex, "%s", cls);
    } else if (envelope_class(env, elen, class_hex)) {
        host_err("fleet publish: %s: no class identifier found in the envelope (give --class HEX)", pos[0]);
        free(env);
        return HOST_EXIT_USAGE;
    }
    /* PUT the payload (Block1) over DTLS with the collector's certificate */
    char cafile[4096];
    if (stat(ca, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(cafile, sizeof cafile, "%s/ca.crt", ca);
    else
        snprintf(cafile, sizeof cafile, "%s", ca);
    pid_t pid = fork();
    if (pid < 0) {
        host_err("fleet publish: fork: failed");
        free(env);
        return HOST_EXIT_USAGE;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 1);
        execlp(client, client, "-m", "put", "-b", "1024", "-B", "60", "-f", pos[1], "-c", cert, "-j", key, "-R", cafile,
               coap, (char *)NULL);
        _exit(127);
    }
    int ws = 0;
    waitpid(pid, &ws, 0);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
        host_err("fleet publish: %s could not PUT %s to %s (exit %d)", client, pos[1], coap,
                 WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
        free(env);
        return WIFEXITED(ws) && WEXITSTATUS(ws) == 127 ? HOST_EXIT_USAGE : HOST_EXIT_REJECT;
    }
    /* { 1: envelope, 2: URL } */
    size_t ul = strlen(coap), cap = elen + ul + 32u, k = 0;
    uint8_t *msg = malloc(cap);
    if (!msg) {
        free(env);
        return HOST_EXIT_USAGE;
    }
    k += cbor_head(5, 2, msg + k);
    k += cbor_head(0, 1, msg + k);
    k += cbor_head(2, elen, msg + k);
    memcpy(msg + k, env, elen);
    k += elen;
    k += cbor_head(0, 2, msg + k);
    k += cbor_head(3, ul, msg + k);
    memcpy(msg + k, coap, ul);
    k += ul;
    free(env);
    char id[64], topic[128];
    snprintf(id, sizeof id, "fs38-publish-%ld", (long)getpid());
    snprintf(topic, sizeof topic, "fs38/%s/update", class_hex);
    const fmq_opts mo = { .url = broker, .ca = ca, .cert = cert, .key = key, .client_id = id, .clean_session = true };
    struct mosquitto *m = NULL;
    r = fmq_connect(&mo, 10000, &m);
    if (r) {
        free(msg);
        return r == 1 ? HOST_EXIT_REJECT : HOST_EXIT_USAGE;
    }
    r = fmq_publish(m, topic, msg, k, true, 10000);
    fmq_close(m);
    free(msg);
    if (r)
        return HOST_EXIT_REJECT;
    printf("fleet publish: payload %s put on %s; envelope (%zu bytes) announced, retained, on %s\n", pos[1], coap, elen,
           topic);
    return HOST_EXIT_OK;
}
