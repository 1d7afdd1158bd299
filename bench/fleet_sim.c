/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fleet_sim.c — N lightweight fs38 devices in ONE process, for scripts/fleet-sim and bench/fleet
 * (issue 11). Each device is the real thing on a RAM port (port/ram): its own flash buffer with
 * a sealed store (fs38_store), an identity (fs38_identity: P-256 device key generated inside
 * PSA as a persistent key in that store, its UEID) with a certificate issued here from the
 * fleet CA (CN = serialNumber = UEID hex, as `fs38 ca issue`), a security log (fs38_log), and
 * its own TLS connection (libfs38's fs38_channel, the device key as an opaque PSA key) carrying
 * libfs38's MQTT client (fs38_mqtt) to the broker: client id = UEID hex, clean session false,
 * QoS 1, subscribed to fs38/<ueid>/ack (the wire contract of docs/fleet.md). No libmosquitto.
 *
 *   fleet_sim --devices N --batches K --broker mqtts://127.0.0.1:PORT --ca CA_DIR --out DIR
 *             [--events E] [--unsigned] [--db DB --db-key FILE] [--ack-wait S]
 *
 * Phases: provision N devices (store, identity, certificate, log; k0 kept for enrolment);
 * enrol them in the fleet database (--db: host/fleet's fleet_enroll, when built with it);
 * connect all (one TLS connection each, kept open); K rounds, each device appends E events,
 * exports from its last exported record on and publishes the batch (QoS 1, PUBACK awaited);
 * then wait until every device's last record is acknowledged on its ack topic (or --ack-wait
 * seconds pass) — acks free the ring (fs38_log_release), as fs38-device run does; when no
 * ack at all arrives for --stall seconds (default 300, run's --interval), the devices still
 * waiting push their unacknowledged records again from their last ack on (as run's next
 * interval push would), at most 5 times; "republished=" says how many such batches were needed.
 *
 * Figures (stdout, "fleet-sim: key=value ..." lines for the script), all measured in this run:
 *   the end-to-end collector throughput: batches / (last ack - first publish);
 *   the raw baseline: HMAC-SHA-256 (PSA) over exactly the bytes of every batch published,
 *   timed alone: batches / that time; the ratio of the two;
 *   provisioning, connection and publish rates, bytes published.
 * DIR/devices.txt: "UEID LAST_SEQ ACKED" per device (the records 0..LAST_SEQ were published), for
 * the script's independent count of lost / unverified / duplicated records in the database.
 *
 * Everything is on 127.0.0.1; the run is bounded by --ack-wait and the channel timeouts.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include "fs38/channel.h"
#include "fs38/event.h"
#include "fs38/identity.h"
#include "fs38/log.h"
#include "fs38/mqtt.h"
#include "fs38/store.h"
#include "fs38/util.h"
#include "fs38_posix.h"
#include "fs38_ram.h"
#include "host.h"
#ifdef FS38_FLEET_SIM_ENROLL
#include "fleet.h"
#endif

#define SECTOR 4096u
#define STORE_SECTORS 2u
#define LOG_SECTORS 4u
#define LOG_OFF (STORE_SECTORS * SECTOR)
#define FLASH_SIZE (LOG_OFF + LOG_SECTORS * SECTOR)
#define KEY_BASE ((psa_key_id_t)0x10000000u)
#define RX_CAP 256u
#define TX_CAP 256u

typedef struct sim_dev {
    uint8_t *flash;
    fs38_ram ram;
    fs38_port port;
    fs38_store store;
    fs38_identity id;
    fs38_log log;
    bool log_ok;
    uint8_t huk[32];          /* the RAM port reads it through cfg.huk */
    uint8_t k0[FS38_LOG_KEY_LEN];
    uint8_t ueid[FS38_UEID_LEN];
    char hex[2 * FS38_UEID_LEN + 1];
    char t_log[FS38_MQTT_TOPIC_MAX + 1], t_ack[FS38_MQTT_TOPIC_MAX + 8];
    uint8_t *cert;
    size_t cert_len;
    fs38_channel *ch;
    fs38_transport t;
    fs38_mqtt mq;
    uint8_t rx[RX_CAP], tx[TX_CAP];
    bool up;
    uint32_t next;      /* first seq of the next export */
    uint32_t last;      /* last seq published */
    bool published;
    int64_t acked;      /* highest ack received (-1 none) */
    int64_t released;   /* highest seq released */
} sim_dev;

static sim_dev *g_dev;
static size_t g_n;
static fs38_net g_net;
static uint8_t *g_ca_pem;
static size_t g_ca_len;
static mbedtls_pk_context g_ca_key;
static char g_ca_dn[256];
static char g_host[64];
static uint16_t g_port;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t real_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static fs38_err real_wall(void *ctx, int64_t *seconds)
{
    (void)ctx;
    *seconds = (int64_t)time(NULL);
    return FS38_OK;
}

#define DIE(...)                                                                                    \
    do {                                                                                            \
        fprintf(stderr, "fleet-sim: " __VA_ARGS__);                                                 \
        fputc('\n', stderr);                                                                        \
        exit(2);                                                                                    \
    } while (0)

/* Make device i current: its store is PSA's storage (its identity key), its log the event sink. */
static void use(sim_dev *d)
{
    fs38_its_bind(&d->store);
    fs38_event_set_sink(d->log_ok ? fs38_log_sink : NULL, &d->log);
}

/* ---- provisioning ------------------------------------------------------------------------------ */

static uint8_t g_ca_point[65];

/* A client certificate for d's key, "CN=UEID,serialNumber=UEID,O=fs38", as `fs38 ca issue`. */
static void issue_cert(sim_dev *d, psa_key_id_t key, const uint8_t point[65])
{
    mbedtls_pk_context pk;
    mbedtls_x509write_cert crt;
    uint8_t serial[16], der[1024];
    char subject[200];
    mbedtls_pk_init(&pk);
    mbedtls_x509write_crt_init(&crt);
    if (mbedtls_pk_copy_public_from_psa(key, &pk) != 0)
        DIE("device %s: public key", d->hex);
    if (psa_generate_random(serial, sizeof serial) != PSA_SUCCESS)
        DIE("random");
    serial[0] = (uint8_t)((serial[0] & 0x7fu) | 0x01u);
    snprintf(subject, sizeof subject, "CN=%s,serialNumber=%s,O=fs38", d->hex, d->hex);
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, &pk);
    mbedtls_x509write_crt_set_issuer_key(&crt, &g_ca_key);
    mbedtls_asn1_sequence eku;
    memset(&eku, 0, sizeof eku);
    eku.buf.tag = MBEDTLS_ASN1_OID;
    eku.buf.p = (unsigned char *)MBEDTLS_OID_CLIENT_AUTH;
    eku.buf.len = MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH);
    int ret = mbedtls_x509write_crt_set_serial_raw(&crt, serial, sizeof serial);
    if (!ret)
        ret = mbedtls_x509write_crt_set_subject_name(&crt, subject);
    if (!ret)
        ret = mbedtls_x509write_crt_set_issuer_name(&crt, g_ca_dn);
    if (!ret)
        ret = mbedtls_x509write_crt_set_validity(&crt, "20250101000000", "20351231235959");
    if (!ret)
        ret = mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1);
    if (!ret)
        ret = mbedtls_x509write_crt_set_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
    if (!ret)
        ret = mbedtls_x509write_crt_set_ext_key_usage(&crt, &eku);
    if (!ret)
        ret = host_x509_key_ids(&crt, point, g_ca_point);
    if (ret)
        DIE("device %s: certificate fields (Mbed TLS -0x%04x)", d->hex, (unsigned)-ret);
    ret = mbedtls_x509write_crt_der(&crt, der, sizeof der, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
    if (ret <= 0)
        DIE("device %s: signing the certificate (Mbed TLS -0x%04x)", d->hex, (unsigned)-ret);
    d->cert_len = (size_t)ret;
    d->cert = malloc(d->cert_len);
    if (!d->cert)
        DIE("out of memory");
    memcpy(d->cert, der + sizeof der - d->cert_len, d->cert_len); /* written at the end of der */
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&pk);
}

static void provision(sim_dev *d, size_t i, bool sign)
{
    uint8_t point[65];
    d->flash = malloc(FLASH_SIZE);
    if (!d->flash || psa_generate_random(d->huk, sizeof d->huk) != PSA_SUCCESS)
        DIE("device %zu: out of memory / random", i);
    fs38_ram_config rc = { .flash = d->flash, .flash_size = FLASH_SIZE, .sector_size = SECTOR, .huk = d->huk,
                           .huk_len = sizeof d->huk };
    if (fs38_ram_init(&d->ram, &rc, &d->port) != FS38_OK)
        DIE("device %zu: RAM port", i);
    d->port.monotonic_ms = real_ms; /* real time for the channel's and MQTT's timeouts */
    d->port.wall_time = real_wall;
    fs38_store_config sc = { .port = &d->port, .offset = 0, .size = STORE_SECTORS * SECTOR };
    if (fs38_store_open(&d->store, &sc) != FS38_OK)
        DIE("device %zu: store: %s", i, d->store.diag.msg);
    fs38_its_bind(&d->store);
    const psa_key_id_t key = KEY_BASE + (psa_key_id_t)i;
    if (fs38_identity_init(&d->id, &d->store, key) != FS38_OK || fs38_identity_provision(&d->id) != FS38_OK ||
        fs38_identity_ueid(&d->id, d->ueid) != FS38_OK || fs38_identity_public_key(&d->id, point) != FS38_OK)
        DIE("device %zu: identity: %s", i, d->id.diag.msg);
    host_hex(d->ueid, sizeof d->ueid, d->hex);
    issue_cert(d, key, point);
    if (fs38_identity_install_cert(&d->id, d->cert, d->cert_len, point) != FS38_OK)
        DIE("device %s: install certificate: %s", d->hex, d->id.diag.msg);
    fs38_log_config lc;
    memset(&lc, 0, sizeof lc);
    lc.port = &d->port;
    lc.store = &d->store;
    lc.offset = LOG_OFF;
    lc.size = LOG_SECTORS * SECTOR;
    lc.sign_key = sign ? key : 0;
    if (fs38_log_create(&d->log, &lc, NULL, d->k0) != FS38_OK)
        DIE("device %s: log: %s", d->hex, fs38_log_diag(&d->log)->msg);
    d->log_ok = true;
    size_t l = 0;
    if (fs38_mqtt_topic_log(d->ueid, sizeof d->ueid, d->t_log, sizeof d->t_log, &l) != FS38_OK)
        DIE("topic");
    snprintf(d->t_ack, sizeof d->t_ack, "fs38/%s/ack", d->hex);
    d->acked = -1;
    d->released = -1;
}

/* ---- the connection ------------------------------------------------------------------------------ */

static void on_ack(void *user, const char *topic, size_t tl, const uint8_t *p, size_t len, uint8_t qos, bool retain)
{
    sim_dev *d = user;
    (void)topic;
    (void)tl;
    (void)qos;
    (void)retain;
    /* one CBOR unsigned integer */
    uint64_t v = 0;
    if (len == 1 && p[0] < 24)
        v = p[0];
    else if (len == 2 && p[0] == 0x18)
        v = p[1];
    else if (len == 3 && p[0] == 0x19)
        v = (uint64_t)p[1] << 8 | p[2];
    else if (len == 5 && p[0] == 0x1a)
        v = (uint64_t)p[1] << 24 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 8 | p[4];
    else
        return;
    if ((int64_t)v > d->acked && v <= d->last)
        d->acked = (int64_t)v;
}

static fs38_err dev_connect(sim_dev *d, uint32_t timeout_ms)
{
    use(d);
    if (!d->ch && !(d->ch = calloc(1, sizeof *d->ch)))
        DIE("out of memory");
    fs38_channel_config c;
    memset(&c, 0, sizeof c);
    c.mode = FS38_CHANNEL_TLS;
    c.host = g_host;
    c.port = g_port;
    c.net = &g_net;
    c.platform = &d->port;
    c.ca = g_ca_pem;
    c.ca_len = g_ca_len;
    c.cert = d->cert;
    c.cert_len = d->cert_len;
    c.key = d->id.key;
    c.require_client_auth = true;
    c.handshake_timeout_ms = timeout_ms;
    fs38_err e = fs38_channel_open(d->ch, &c);
    if (!e)
        e = fs38_channel_transport(d->ch, &d->t);
    if (e) {
        fprintf(stderr, "fleet-sim: device %s: TLS: %s\n", d->hex, d->ch->diag.msg);
        fs38_channel_close(d->ch);
        return e;
    }
    fs38_mqtt_config mc;
    memset(&mc, 0, sizeof mc);
    mc.transport = &d->t;
    mc.port = &d->port;
    mc.client_id = d->hex;
    mc.keep_alive_s = 600;
    mc.timeout_ms = timeout_ms;
    mc.max_retries = 3;
    mc.rx_buf = d->rx;
    mc.rx_cap = sizeof d->rx;
    mc.tx_buf = d->tx;
    mc.tx_cap = sizeof d->tx;
    mc.on_message = on_ack;
    mc.user = d;
    uint8_t granted = 0;
    e = fs38_mqtt_init(&d->mq, &mc);
    if (!e)
        e = fs38_mqtt_connect(&d->mq);
    if (!e)
        e = fs38_mqtt_subscribe(&d->mq, d->t_ack, strlen(d->t_ack), 1, &granted);
    if (e) {
        fprintf(stderr, "fleet-sim: device %s: MQTT: %s\n", d->hex, fs38_mqtt_diag(&d->mq)->msg);
        fs38_channel_close(d->ch);
        return e;
    }
    d->up = true;
    return FS38_OK;
}

static void dev_close(sim_dev *d)
{
    if (d->up) {
        use(d);
        if (fs38_mqtt_disconnect(&d->mq) != FS38_OK) {
            /* closing anyway */
        }
        fs38_channel_close(d->ch);
    }
    d->up = false;
}

/* ---- main ------------------------------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr, "usage: fleet_sim --devices N --batches K --broker mqtts://127.0.0.1:PORT --ca CA_DIR --out DIR\n"
                    "                 [--events E] [--unsigned] [--db DB --db-key FILE] [--ack-wait S] [--timeout MS]\n"
                    "                 [--stall S]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *devs_s = NULL, *batches_s = NULL, *broker = NULL, *ca_dir = NULL, *out = NULL, *events_s = NULL,
               *db = NULL, *db_key = NULL, *wait_s = NULL, *timeout_s = NULL, *stall_str = NULL, *pos[1];
    bool sign = false, unsigned_log = false;
    size_t npos = 0;
    host_set_prog("fleet-sim");
    const host_opt opts[] = {
        { .name = "--devices", .value = &devs_s }, { .name = "--batches", .value = &batches_s },
        { .name = "--broker", .value = &broker },  { .name = "--ca", .value = &ca_dir },
        { .name = "--out", .value = &out },        { .name = "--events", .value = &events_s },
        { .name = "--sign", .flag = &sign },       { .name = "--unsigned", .flag = &unsigned_log },
        { .name = "--db", .value = &db },
        { .name = "--db-key", .value = &db_key },  { .name = "--ack-wait", .value = &wait_s },
        { .name = "--timeout", .value = &timeout_s }, { .name = "--stall", .value = &stall_str },
        { .name = NULL },
    };
    if (host_parse_args(argc - 1, argv + 1, opts, pos, 1, &npos) != 0 || npos || !devs_s || !batches_s || !broker || !ca_dir ||
        !out)
        usage();
    uint64_t n = 0, k = 0, ev = 8, ack_wait = 120, timeout = 30000, stall_s = 300;
    if (host_parse_u64("--devices", devs_s, 1, 1000000, 0, &n) || host_parse_u64("--batches", batches_s, 1, 100000, 0, &k) ||
        (events_s && host_parse_u64("--events", events_s, 1, 64, 0, &ev)) ||
        (wait_s && host_parse_u64("--ack-wait", wait_s, 0, 86400, 0, &ack_wait)) ||
        (timeout_s && host_parse_u64("--timeout", timeout_s, 100, 600000, 0, &timeout)) ||
        (stall_str && host_parse_u64("--stall", stall_str, 1, 86400, 0, &stall_s)))
        usage();
    /* checkpoints are signed with the device key, as fs38-device's once provisioned: the
     * collector checks them against the enrolled certificate. --unsigned: a MAC chain only
     * (the collector rejects such batches as forgeries); --sign is the default, kept */
    sign = !unsigned_log;
    if (sscanf(broker, "mqtts://%63[^:]:%hu", g_host, &g_port) != 2)
        DIE("--broker must be mqtts://HOST:PORT");
#ifndef FS38_FLEET_SIM_ENROLL
    if (db)
        DIE("--db: this fleet_sim was built without host/fleet (enrol with `fs38 fleet enroll`)");
#endif
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            /* keep the soft limit; the connections beyond it fail and are counted */
        }
    }
    if (host_psa_init())
        return 2;
    fs38_posix_net(&g_net);

    /* the fleet CA: its certificate (server trust) and key (issues the devices' certificates) */
    char path[1024];
    snprintf(path, sizeof path, "%s/ca.crt", ca_dir);
    if (host_read_file(path, 1u << 20, &g_ca_pem, &g_ca_len))
        return 2;
    g_ca_len++; /* PEM parsed with its NUL */
    mbedtls_x509_crt ca;
    mbedtls_x509_crt_init(&ca);
    if (mbedtls_x509_crt_parse(&ca, g_ca_pem, g_ca_len) != 0 || mbedtls_x509_dn_gets(g_ca_dn, sizeof g_ca_dn, &ca.subject) < 0 ||
        host_pk_point(&ca.pk, g_ca_point))
        DIE("%s: not a P-256 CA certificate", path);
    mbedtls_x509_crt_free(&ca);
    snprintf(path, sizeof path, "%s/ca.key", ca_dir);
    uint8_t *kb = NULL;
    size_t kl = 0;
    if (host_read_file(path, 1u << 20, &kb, &kl))
        return 2;
    mbedtls_pk_init(&g_ca_key);
    if (mbedtls_pk_parse_key(&g_ca_key, kb, kl + 1, NULL, 0, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE) != 0)
        DIE("%s: cannot parse the CA key", path);
    fs38_wipe(kb, kl);
    free(kb);

    g_n = (size_t)n;
    g_dev = calloc(g_n, sizeof *g_dev);
    if (!g_dev)
        DIE("out of memory for %zu devices", g_n);

    /* 1. provision */
    double t0 = now_s();
    for (size_t i = 0; i < g_n; i++)
        provision(&g_dev[i], i, sign);
    double t_prov = now_s() - t0;
    printf("fleet-sim: provisioned=%zu seconds=%.2f per_s=%.0f\n", g_n, t_prov, (double)g_n / t_prov);
    fflush(stdout);

    /* 2. enrol */
#ifdef FS38_FLEET_SIM_ENROLL
    if (db) {
        fleet_db *fdb = NULL;
        uint8_t dbk[FLEET_DBKEY_LEN];
        if (!db_key || fleet_dbkey_load(db_key, dbk) || fleet_db_open(db, &fdb))
            DIE("--db %s: cannot open (and --db-key is required)", db);
        char cls[33];
        memset(cls, '0', 32);
        cls[32] = 0;
        t0 = now_s();
        for (size_t i = 0; i < g_n; i++) {
            sim_dev *d = &g_dev[i];
            unsigned char pem[2048];
            size_t pl = 0;
            if (mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n", d->cert,
                                         d->cert_len, pem, sizeof pem, &pl) != 0)
                DIE("PEM");
            if (fleet_enroll(fdb, dbk, d->hex, (const char *)pem, cls, d->k0) != 0)
                DIE("enrol %s failed", d->hex);
        }
        printf("fleet-sim: enrolled=%zu seconds=%.2f\n", g_n, now_s() - t0);
        fs38_wipe(dbk, sizeof dbk);
        fleet_db_close(fdb);
    }
#endif
    for (size_t i = 0; i < g_n; i++)
        fs38_wipe(g_dev[i].k0, sizeof g_dev[i].k0);

    /* 3. connect all */
    t0 = now_s();
    size_t up = 0, failed = 0;
    for (size_t i = 0; i < g_n; i++) {
        if (dev_connect(&g_dev[i], (uint32_t)timeout) == FS38_OK)
            up++;
        else
            failed++;
    }
    double t_conn = now_s() - t0;
    printf("fleet-sim: connected=%zu failed=%zu seconds=%.2f per_s=%.0f\n", up, failed, t_conn, (double)up / t_conn);
    fflush(stdout);

    /* 4. K rounds of batches */
    psa_key_id_t hk = 0;
    {
        psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
        uint8_t kk[32];
        if (psa_generate_random(kk, sizeof kk) != PSA_SUCCESS)
            DIE("random");
        psa_set_key_type(&at, PSA_KEY_TYPE_HMAC);
        psa_set_key_usage_flags(&at, PSA_KEY_USAGE_SIGN_MESSAGE);
        psa_set_key_algorithm(&at, PSA_ALG_HMAC(PSA_ALG_SHA_256));
        if (psa_import_key(&at, kk, sizeof kk, &hk) != PSA_SUCCESS)
            DIE("HMAC key");
    }
    size_t cap = 64u * 1024u, blen = 0;
    uint8_t *buf = malloc(cap), mac[32];
    if (!buf)
        DIE("out of memory");
    uint64_t batches = 0, bytes = 0, pub_fail = 0, records = 0;
    double t_hmac = 0, t_first = 0;
    char detail[64];
    t0 = now_s();
    for (uint64_t r = 0; r < k; r++) {
        for (size_t i = 0; i < g_n; i++) {
            sim_dev *d = &g_dev[i];
            if (!d->up)
                continue;
            use(d);
            if (d->acked > d->released) { /* the collector holds them: free the ring */
                if (fs38_log_release(&d->log, (uint32_t)d->acked) == FS38_OK)
                    d->released = d->acked;
            }
            for (uint64_t e = 0; e < ev; e++) {
                snprintf(detail, sizeof detail, "sim round %" PRIu64 " event %" PRIu64, r, e);
                fs38_event_rec er = { .code = FS38_EV_LOGIN_FAILED, .severity = FS38_SEV_WARNING, .arg = (int64_t)e,
                                      .detail = detail };
                if (fs38_log_append(&d->log, &er) != FS38_OK)
                    DIE("device %s: append: %s", d->hex, fs38_log_diag(&d->log)->msg);
            }
            fs38_log_cursor c;
            fs38_log_cursor_init(&c, d->next);
            if (fs38_log_export(&d->log, &c, buf, cap, &blen) != FS38_OK || !c.done)
                DIE("device %s: export: %s", d->hex, fs38_log_diag(&d->log)->msg);
            double h0 = now_s();
            size_t ml = 0;
            if (psa_mac_compute(hk, PSA_ALG_HMAC(PSA_ALG_SHA_256), buf, blen, mac, sizeof mac, &ml) != PSA_SUCCESS)
                DIE("HMAC");
            t_hmac += now_s() - h0;
            if (!t_first)
                t_first = now_s();
            fs38_err e = fs38_mqtt_publish(&d->mq, d->t_log, strlen(d->t_log), buf, blen, 1);
            if (e) {
                fprintf(stderr, "fleet-sim: device %s: publish: %s\n", d->hex, fs38_mqtt_diag(&d->mq)->msg);
                pub_fail++;
                d->up = false;
                fs38_channel_close(d->ch);
                continue;
            }
            d->next = c.last + 1u;
            d->last = c.last;
            d->published = true;
            batches++;
            records += c.records;
            bytes += blen;
        }
    }
    double t_pub = now_s() - t0;
    printf("fleet-sim: published=%" PRIu64 " records=%" PRIu64 " bytes=%" PRIu64 " failed=%" PRIu64
           " seconds=%.2f per_s=%.0f\n",
           batches, records, bytes, pub_fail, t_pub, (double)batches / t_pub);
    fflush(stdout);

    /* 5. wait for every ack. A device whose records stay unacknowledged pushes them again from
     * its release point, as fs38-device run does at its next interval: after stall_s seconds
     * without any ack arriving, every device still waiting re-exports from its last ack on. */
    double deadline = now_s() + (double)ack_wait, t_last_ack = t_first, last_progress = now_s();
    size_t pending = 0;
    uint64_t republished = 0, rounds = 0;
    for (;;) {
        pending = 0;
        bool progress = false;
        for (size_t i = 0; i < g_n; i++) {
            sim_dev *d = &g_dev[i];
            if (!d->published || !d->up || d->acked >= (int64_t)d->last)
                continue;
            use(d);
            int64_t before = d->acked;
            if (fs38_mqtt_poll(&d->mq, 0) != FS38_OK) {
                fprintf(stderr, "fleet-sim: device %s: connection lost while waiting for acks\n", d->hex);
                d->up = false;
                fs38_channel_close(d->ch);
                continue;
            }
            if (d->acked != before) {
                progress = true;
                t_last_ack = last_progress = now_s();
            }
            if (d->acked < (int64_t)d->last)
                pending++;
        }
        if (!pending || now_s() > deadline)
            break;
        if (now_s() - last_progress > (double)stall_s && rounds < 5) {
            rounds++;
            uint64_t again = 0;
            for (size_t i = 0; i < g_n; i++) {
                sim_dev *d = &g_dev[i];
                if (!d->published || !d->up || d->acked >= (int64_t)d->last)
                    continue;
                use(d);
                if (d->acked > d->released && fs38_log_release(&d->log, (uint32_t)d->acked) == FS38_OK)
                    d->released = d->acked;
                fs38_log_cursor c;
                fs38_log_cursor_init(&c, (uint32_t)(d->acked + 1));
                if (fs38_log_export(&d->log, &c, buf, cap, &blen) != FS38_OK || !c.done) {
                    fprintf(stderr, "fleet-sim: device %s: re-export: %s\n", d->hex, fs38_log_diag(&d->log)->msg);
                    continue;
                }
                if (fs38_mqtt_publish(&d->mq, d->t_log, strlen(d->t_log), buf, blen, 1) != FS38_OK) {
                    d->up = false;
                    fs38_channel_close(d->ch);
                    continue;
                }
                d->last = c.last;
                again++;
            }
            republished += again;
            printf("fleet-sim: no ack for %" PRIu64 " s: %" PRIu64 " device(s) pushed their unacknowledged records "
                   "again (round %" PRIu64 ")\n", stall_s, again, rounds);
            fflush(stdout);
            last_progress = now_s();
        }
        if (!progress) {
            struct timespec ts = { 0, 20 * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    printf("fleet-sim: republished=%" PRIu64 "\n", republished);
    size_t acked = 0;
    for (size_t i = 0; i < g_n; i++)
        if (g_dev[i].published && g_dev[i].acked >= (int64_t)g_dev[i].last)
            acked++;
    const double e2e = t_last_ack > t_first ? t_last_ack - t_first : 0;
    const double rate = e2e > 0 ? (double)batches / e2e : 0, raw = t_hmac > 0 ? (double)batches / t_hmac : 0;
    printf("fleet-sim: acked_devices=%zu unacked_devices=%zu end_to_end_seconds=%.2f batches_per_s=%.0f "
           "raw_hmac_per_s=%.0f ratio=%.4f\n",
           acked, pending, e2e, rate, raw, raw > 0 ? rate / raw : 0);

    /* 6. what was published, for the database check */
    snprintf(path, sizeof path, "%s/devices.txt", out);
    FILE *f = fopen(path, "w");
    if (!f)
        DIE("%s: %s", path, strerror(errno));
    for (size_t i = 0; i < g_n; i++)
        if (g_dev[i].published)
            fprintf(f, "%s %" PRIu32 " %" PRId64 "\n", g_dev[i].hex, g_dev[i].last, g_dev[i].acked);
    if (fclose(f) != 0)
        DIE("%s: write failed", path);

    for (size_t i = 0; i < g_n; i++)
        dev_close(&g_dev[i]);
    fs38_event_set_sink(NULL, NULL);
    fs38_its_bind(NULL);
    psa_destroy_key(hk);
    free(buf);
    return failed || pub_fail ? 1 : 0;
}
