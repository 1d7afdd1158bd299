/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_fleet.c — `fs38 fleet`: the fleet side on an existing broker and database (issue 11).
 *
 *   fs38 fleet broker-config --ca CA_DIR --out DIR [--port N]
 *   fs38 fleet enroll --db DB --db-key FILE --cert DEVICE.crt --k0 K0 [--ca CA_DIR] [--class HEX]
 *   fs38 fleet status --db DB [--json]
 *   fs38 fleet import --db DB --db-key FILE --ueid U [--group-commit N] BATCH...
 *   fs38 fleet attest --broker URL --ca CA_DIR --cert C --key K --db DB --db-key FILE
 *                     (--ueid U | --all) [--timeout S]
 *   fs38 fleet publish ENV.suit PAYLOAD --broker URL --ca CA_DIR --cert C --key K
 *                      --coap coaps://HOST:PORT/PATH [--class HEX]
 *
 * DB is a SQLite file or a postgresql:// URL (host/fleet/fleet.h); --db-key FILE holds the 32
 * bytes that encrypt each device's k0 in the database (created, mode 0600, when absent).
 * Exit: 0 success, 1 refused / verification failed, 2 usage or I/O error.
 */
#define _DEFAULT_SOURCE /* realpath */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/pem.h>
#include <mosquitto.h>

#include "cmds.h"
#include "fleet.h"
#include "fleet_mqtt.h"
#include "fs38/attest.h"
#include "fs38/util.h"
#include "host.h"

void usage_fleet(int to_stderr)
{
    fprintf(to_stderr ? stderr : stdout,
            "usage: fs38 fleet broker-config --ca CA_DIR --out DIR [--port N]\n"
            "         Mosquitto settings for the fleet: DIR/mosquitto.conf (TLS listener on 127.0.0.1:N, default\n"
            "         8883, client certificates required, identity as user name), DIR/acl, the broker's and\n"
            "         the collector's certificates and keys (CN fs38-collector), DIR/README.\n"
            "       fs38 fleet enroll --db DB --db-key FILE --cert DEVICE.crt --k0 K0 [--ca CA_DIR] [--class HEX]\n"
            "         Register a device: UEID from its certificate (must chain to the CA: --ca, or the CA the\n"
            "         database remembers from an earlier enrolment), k0 encrypted with the database key.\n"
            "       fs38 fleet status --db DB [--json]\n"
            "         Per device: records, last sequence, firmware state, attestation, alerts.\n"
            "       fs38 fleet import --db DB --db-key FILE --ueid U [--group-commit N] BATCH...\n"
            "         Verify and store batches from files (carried offline) exactly as 'collect' does;\n"
            "         exit 1 when a batch was rejected (alert raised).\n"
            "       fs38 fleet attest --broker URL --ca CA_DIR --cert C --key K --db DB --db-key FILE\n"
            "                         (--ueid U | --all) [--timeout S]\n"
            "         Send a fresh nonce on fs38/<ueid>/challenge, verify the EAT answered on fs38/<ueid>/attest\n"
            "         and store its claims.\n"
            "       fs38 fleet publish ENV.suit PAYLOAD --broker URL --ca CA_DIR --cert C --key K\n"
            "                          --coap coaps://HOST:PORT/PATH [--class HEX]\n"
            "         PUT the payload on the CoAP server, announce the envelope (retained) on fs38/<class>/update.\n"
            "  DB: a SQLite file path or a postgresql:// URL. --db-key FILE: 32 bytes (created, mode 0600).\n"
            "exit status: 0 success, 1 refused or verification failed, 2 usage or I/O error.\n");
}

/* ---- broker-config ------------------------------------------------------------------------------ */

static int join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap) {
        host_err("path too long: %s/%s", dir, name);
        return -1;
    }
    return 0;
}

static int write_text(const char *path, const char *text, mode_t mode)
{
    return host_write_file(path, text, strlen(text), mode, false);
}

static int broker_config(int argc, char **argv)
{
    const char *ca = NULL, *out = NULL, *port_s = NULL;
    const host_opt opts[] = { { .name = "--ca", .value = &ca },
                              { .name = "--out", .value = &out },
                              { .name = "--port", .value = &port_s },
                              { .name = NULL } };
    const char *pos[1];
    size_t npos = 0;
    int r = host_parse_args(argc, argv, opts, pos, 0, &npos);
    if (r == 1) {
        usage_fleet(0);
        return HOST_EXIT_OK;
    }
    if (r || !ca || !out) {
        if (!r)
            host_err("fleet broker-config: --ca CA_DIR and --out DIR are required");
        usage_fleet(1);
        return HOST_EXIT_USAGE;
    }
    uint64_t port = 8883;
    if (port_s && host_parse_u64("fleet broker-config --port", port_s, 1, 65535, 0, &port))
        return HOST_EXIT_USAGE;
    if (mkdir(out, 0700) != 0 && errno != EEXIST) {
        host_err("fleet broker-config: cannot create %s: %s", out, strerror(errno));
        return HOST_EXIT_USAGE;
    }
    char dir[PATH_MAX], p[PATH_MAX + 64], p2[PATH_MAX + 64];
    if (!realpath(out, dir)) {
        host_err("fleet broker-config: %s: %s", out, strerror(errno));
        return HOST_EXIT_USAGE;
    }
    /* the CA certificate the broker checks clients against */
    uint8_t *cabuf = NULL;
    size_t calen = 0;
    if (join(p, sizeof p, ca, "ca.crt") || host_read_file(p, 1u << 20, &cabuf, &calen))
        return HOST_EXIT_USAGE;
    if (join(p, sizeof p, dir, "ca.crt") || host_write_file(p, cabuf, calen, 0644, false)) {
        free(cabuf);
        return HOST_EXIT_USAGE;
    }
    free(cabuf);
    if (join(p, sizeof p, dir, "broker.crt") || join(p2, sizeof p2, dir, "broker.key"))
        return HOST_EXIT_USAGE;
    int rc = ca_tls_cert(ca, "127.0.0.1", false, p, p2);
    if (rc)
        return rc;
    if (join(p, sizeof p, dir, "collector.crt") || join(p2, sizeof p2, dir, "collector.key"))
        return HOST_EXIT_USAGE;
    rc = ca_tls_cert(ca, "fs38-collector", true, p, p2);
    if (rc)
        return rc;
    static const char acl[] =
        "# fs38 fleet ACL (fs38 fleet broker-config). A client's user name is its certificate's CN\n"
        "# (use_identity_as_username): a device's UEID in lower-case hex, or fs38-collector.\n"
        "#\n"
        "# devices: publish only under their own UEID, read only their own ack / challenge topics and\n"
        "# the class update notices\n"
        "pattern write fs38/%u/log\n"
        "pattern write fs38/%u/attest\n"
        "pattern read fs38/%u/ack\n"
        "pattern read fs38/%u/challenge\n"
        "pattern read fs38/+/update\n"
        "\n"
        "# the collector (fs38 collect, fleet attest, fleet publish)\n"
        "user fs38-collector\n"
        "topic read fs38/+/log\n"
        "topic read fs38/+/attest\n"
        "topic write fs38/+/ack\n"
        "topic write fs38/+/challenge\n"
        "topic write fs38/+/update\n";
    if (join(p, sizeof p, dir, "acl") || write_text(p, acl, 0600))
        return HOST_EXIT_USAGE;
    /* mosquitto started as root switches to this user (who owns DIR), else to "mosquitto" */
    const struct passwd *pw = getpwuid(geteuid());
    char conf[8192];
    int n = snprintf(conf, sizeof conf,
                     "# fs38 fleet broker (fs38 fleet broker-config): mosquitto -c %s/mosquitto.conf\n"
                     "# MQTT over TLS only, on loopback; every client presents a certificate from the fleet CA and\n"
                     "# its CN is its user name (a device: its UEID), which the ACL ties to its topics.\n"
                     "per_listener_settings false\n"
                     "allow_anonymous false\n"
                     "user %s\n"
                     "# QoS 1 sessions (clean session false) and retained update notices survive a restart\n"
                     "persistence true\n"
                     "persistence_location %s/\n"
                     "autosave_interval 60\n"
                     "# a collector that is down keeps its queue (0: no limit on the number of messages)\n"
                     "max_queued_messages 0\n"
                     "max_inflight_messages 100\n"
                     "log_dest file %s/mosquitto.log\n"
                     "log_type error\n"
                     "log_type warning\n"
                     "log_type notice\n"
                     "log_type information\n"
                     "acl_file %s/acl\n"
                     "# no Nagle delay: a TLS 1.3 handshake otherwise waits 40 ms for a delayed ACK\n"
                     "set_tcp_nodelay true\n"
                     "\n"
                     "listener %" PRIu64 " 127.0.0.1\n"
                     "cafile %s/ca.crt\n"
                     "certfile %s/broker.crt\n"
                     "keyfile %s/broker.key\n"
                     "tls_version tlsv1.2\n"
                     "require_certificate true\n"
                     "use_identity_as_username true\n",
                     dir, pw ? pw->pw_name : "mosquitto", dir, dir, dir, port, dir, dir, dir);
    if (n < 0 || (size_t)n >= sizeof conf) {
        host_err("fleet broker-config: path too long");
        return HOST_EXIT_USAGE;
    }
    if (join(p, sizeof p, dir, "mosquitto.conf") || write_text(p, conf, 0600))
        return HOST_EXIT_USAGE;
    static const char readme[] =
        "fs38 fleet broker settings (fs38 fleet broker-config)\n"
        "\n"
        "  mosquitto -c mosquitto.conf      starts the broker (TLS on 127.0.0.1 only)\n"
        "  collector.crt / collector.key    the client certificate of fs38 collect / fleet attest / fleet publish\n"
        "\n"
        "What the fleet needs from a broker is standard MQTT, so a cluster (EMQX, VerneMQ, HiveMQ) takes the\n"
        "same settings (docs/fleet-broker.md has them for EMQX):\n"
        "  1. a TLS listener that requires a client certificate chaining to ca.crt (peer verification on,\n"
        "     fail if no peer certificate);\n"
        "  2. the certificate's CN as the MQTT user name (EMQX: peer_cert_as_username = cn);\n"
        "  3. the ACL of the file acl: %u = user name (EMQX: ${username}) — devices write fs38/<own UEID>/log\n"
        "     and /attest, read fs38/<own UEID>/ack and /challenge and fs38/+/update; the user\n"
        "     fs38-collector reads fs38/+/log and fs38/+/attest and writes fs38/+/ack, /challenge, /update;\n"
        "     deny everything else;\n"
        "  4. MQTT 5 / 3.1.1 shared subscriptions ($share/GROUP/fs38/+/log): N collectors in one group share\n"
        "     the devices' batches; run more collectors to scale;\n"
        "  5. persistent sessions (clean session false) with queues large enough for the batches published\n"
        "     while collectors are down, and retained messages (update notices), kept across restarts.\n";
    if (join(p, sizeof p, dir, "README") || write_text(p, readme, 0644))
        return HOST_EXIT_USAGE;
    printf("fleet broker-config: %s/mosquitto.conf (TLS on 127.0.0.1:%" PRIu64
           ", client certificates required, identity as user name), acl, broker.crt/key, collector.crt/key "
           "(CN fs38-collector), README\n",
           dir, port);
    return HOST_EXIT_OK;
}

/* ---- enroll -------------------------------------------------------------------------------------- */

/* k0: 64 hex digits (as 'log init --key-out' writes), or 32 raw bytes. */
static int read_k0(const char *path, uint8_t k0[FLEET_K0_LEN])
{
    uint8_t *buf;
    size_t len;
    if (host_read_file(path, 4096, &buf, &len))
        return -1;
    int rc = -1;
    if (len == FLEET_K0_LEN) {
        memcpy(k0, buf, FLEET_K0_LEN);
        rc = 0;
    } else {
        char hex[2 * FLEET_K0_LEN + 1];
        size_t k = 0;
        bool over = false;
        for (size_t i = 0; i < len; i++) {
            if (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t')
                continue;
            if (k >= sizeof hex - 1u) {
                over = true;
                break;
            }
            hex[k++] = (char)buf[i];
        }
        if (!over && k == 2 * FLEET_K0_LEN) {
            hex[k] = 0;
            rc = host_unhex(hex, k0, FLEET_K0_LEN);
        }
        fs38_wipe(hex, sizeof hex);
    }
    fs38_wipe(buf, len);
    free(buf);
    if (rc)
        host_err("--k0 %s: not a log key (expected 64 hex digits, as 'log init --key-out' writes)", path);
    return rc;
}

/* The CA certificate of CA_DIR (its ca.crt) or a file, as a malloc'd NUL-terminated string. */
static char *read_ca(const char *ca)
{
    struct stat st;
    char p[PATH_MAX + 16];
    if (stat(ca, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(p, sizeof p, "%s/ca.crt", ca);
    else
        snprintf(p, sizeof p, "%s", ca);
    uint8_t *buf;
    size_t len;
    if (host_read_file(p, 1u << 20, &buf, &len))
        return NULL;
    if (!strstr((char *)buf, "-----BEGIN CERTIFICATE-----")) {
        host_err("--ca %s: not a PEM certificate", p);
        free(buf);
        return NULL;
    }
    return (char *)buf;
}

/* A certificate as PEM text (DER is wrapped). malloc'd. */
static char *cert_pem(const uint8_t *buf, size_t len)
{
    if (strstr((const char *)buf, "-----BEGIN CERTIFICATE-----"))
        return strdup((const char *)buf);
    size_t cap = len * 2u + 128u, olen = 0;
    unsigned char *out = malloc(cap);
    if (out && mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n", buf, len, out,
                                        cap, &olen) == 0)
        return (char *)out;
    free(out);
    return NULL;
}

static int enroll(int argc, char **argv)
{
    const char *dbs = NULL, *dbkey_path = NULL, *cert = NULL, *k0_path = NULL, *ca = NULL, *cls = NULL;
    const host_opt opts[] = { { .name = "--db", .value = &dbs },        { .name = "--db-key", .value = &dbkey_path },
                              { .name = "--cert", .value = &cert },     { .name = "--k0", .value = &k0_path },
                              { .name = "--ca", .value = &ca },         { .name = "--class", .value = &cls },
                              { .name = NULL } };
    const char *pos[1];
    size_t npos = 0;
    int r = host_parse_args(argc, argv, opts, pos, 0, &npos);
    if (r == 1) {
        usage_fleet(0);
        return HOST_EXIT_OK;
    }
    if (r || !dbs || !dbkey_path || !cert || !k0_path) {
        if (!r)
            host_err("fleet enroll: --db, --db-key, --cert and --k0 are required");
        usage_fleet(1);
        return HOST_EXIT_USAGE;
    }
    if (cls) {
        size_t n = strlen(cls);
        bool ok = n >= 2 && n <= 64 && n % 2 == 0;
        for (size_t i = 0; ok && i < n; i++)
            ok = (cls[i] >= '0' && cls[i] <= '9') || (cls[i] >= 'a' && cls[i] <= 'f');
        if (!ok) {
            host_err("fleet enroll: --class '%s': expected the class id in lower-case hex", cls);
            return HOST_EXIT_USAGE;
        }
    }
    uint8_t k0[FLEET_K0_LEN], dbkey[FLEET_DBKEY_LEN];
    uint8_t *cbuf = NULL;
    size_t clen = 0;
    if (read_k0(k0_path, k0))
        return HOST_EXIT_USAGE;
    int rc = HOST_EXIT_USAGE;
    char *ca_pem = NULL, *pem = NULL;
    fleet_db *db = NULL;
    if (host_read_file(cert, 1u << 20, &cbuf, &clen) || fleet_dbkey_load(dbkey_path, dbkey))
        goto out0;
    if (fleet_db_open(dbs, &db))
        goto out;
    bool remember = false;
    if (ca) {
        if (!(ca_pem = read_ca(ca)))
            goto out;
        char *known = NULL;
        if (fleet_ca_get(db, &known))
            goto out;
        remember = !known;
        free(known);
    } else {
        if (fleet_ca_get(db, &ca_pem))
            goto out;
        if (!ca_pem) {
            host_err("fleet enroll: --ca CA_DIR is required (the database does not know the fleet CA yet)");
            goto out;
        }
    }
    char ueid[FLEET_UEID_MAX];
    r = fleet_cert_check(ca_pem, cbuf, clen, ueid);
    if (r) {
        rc = r == 1 ? HOST_EXIT_REJECT : HOST_EXIT_USAGE;
        goto out;
    }
    if (!(pem = cert_pem(cbuf, clen))) {
        host_err("fleet enroll: cannot encode the certificate");
        goto out;
    }
    if (remember && fleet_ca_set(db, ca_pem))
        goto out;
    r = fleet_enroll(db, dbkey, ueid, pem, cls, k0);
    if (r) {
        rc = r == 1 ? HOST_EXIT_REJECT : HOST_EXIT_USAGE;
        goto out;
    }
    printf("fleet enroll: device %s enrolled (log key encrypted with the database key)\n", ueid);
    rc = HOST_EXIT_OK;
out:
    fleet_db_close(db);
    fs38_wipe(dbkey, sizeof dbkey);
out0:
    fs38_wipe(k0, sizeof k0);
    free(cbuf);
    free(ca_pem);
    free(pem);
    return rc;
}

/* ---- status ----------------------------------------------------------------------------------------- */

static int status(int argc, char **argv)
{
    const char *dbs = NULL;
    bool json = false;
    const host_opt opts[] = { { .name = "--db", .value = &dbs }, { .name = "--json", .flag = &json }, { .name = NULL } };
    const char *pos[1];
    size_t npos = 0;
    int r = host_parse_args(argc, argv, opts, pos, 0, &npos);
    if (r == 1) {
        usage_fleet(0);
        return HOST_EXIT_OK;
    }
    if (r || !dbs) {
        if (!r)
            host_err("fleet status: --db DB is required");
        usage_fleet(1);
        return HOST_EXIT_USAGE;
    }
    fleet_db *db = NULL;
    if (fleet_db_open(dbs, &db))
        return HOST_EXIT_USAGE;
    r = fleet_status(db, stdout, json);
    fleet_db_close(db);
    return r ? HOST_EXIT_USAGE : HOST_EXIT_OK;
}

/* ---- import ----------------------------------------------------------------------------------------- */

/* Batches from files (carried offline, or saved by a device), handled exactly as `collect` handles
 * them (fleet_collect_batch: the same verification, transaction and alerts), in the given order. */
static int import_files(int argc, char **argv)
{
    const char *dbs = NULL, *dbkey_path = NULL, *ueid = NULL, *gc_s = NULL;
    const host_opt opts[] = { { .name = "--db", .value = &dbs },
                              { .name = "--db-key", .value = &dbkey_path },
                              { .name = "--ueid", .value = &ueid },
                              { .name = "--group-commit", .value = &gc_s },
                              { .name = NULL } };
    const char *files[256];
    size_t nf = 0;
    int r = host_parse_args(argc, argv, opts, files, 256, &nf);
    if (r == 1) {
        usage_fleet(0);
        return HOST_EXIT_OK;
    }
    if (r || !dbs || !dbkey_path || !ueid || nf == 0) {
        if (!r)
            host_err("fleet import: --db, --db-key, --ueid and at least one BATCH are required");
        usage_fleet(1);
        return HOST_EXIT_USAGE;
    }
    uint64_t group = 1;
    if (gc_s && host_parse_u64("fleet import --group-commit", gc_s, 1, 256, 0, &group))
        return HOST_EXIT_USAGE;
    uint8_t dbkey[FLEET_DBKEY_LEN];
    fleet_db *db = NULL;
    if (fleet_open_keyed(dbs, dbkey_path, dbkey, &db))
        return HOST_EXIT_USAGE;
    int rc = HOST_EXIT_OK;
    uint8_t *bufs[256] = { 0 };
    fleet_batch_in in[256];
    static fleet_result res[256];
    for (size_t i = 0; i < nf; i++) {
        if (host_read_file(files[i], HOST_FILE_MAX, &bufs[i], &in[i].len)) {
            rc = HOST_EXIT_USAGE;
            break;
        }
        in[i].ueid = ueid;
        in[i].batch = bufs[i];
    }
    /* --group-commit N: N batches a transaction (default 1: each batch its own, like a
     * collector that has one batch waiting) */
    for (size_t i = 0; i < nf && rc != HOST_EXIT_USAGE; i += (size_t)group) {
        size_t n = nf - i < group ? nf - i : (size_t)group;
        if (fleet_collect_many(db, dbkey, n, in + i, res + i)) {
            rc = HOST_EXIT_USAGE;
            break;
        }
        for (size_t k = i; k < i + n; k++) {
            printf("fleet import: %s: %s\n", files[k], res[k].summary);
            if (res[k].outcome == FLEET_REJECTED || res[k].outcome == FLEET_UNENROLLED)
                rc = HOST_EXIT_REJECT;
        }
    }
    for (size_t i = 0; i < nf; i++)
        free(bufs[i]);
    fleet_db_close(db);
    fs38_wipe(dbkey, sizeof dbkey);
    return rc;
}

/* ---- dispatch ------------------------------------------------------------------------------------------ */

int fleet_attest_cmd(int argc, char **argv);
int fleet_publish_cmd(int argc, char **argv);

int cmd_fleet(int argc, char **argv)
{
    if (argc < 1) {
        usage_fleet(1);
        return HOST_EXIT_USAGE;
    }
    const char *sub = argv[0];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        usage_fleet(0);
        return HOST_EXIT_OK;
    }
    if (strcmp(sub, "broker-config") == 0)
        return broker_config(argc - 1, argv + 1);
    if (strcmp(sub, "enroll") == 0)
        return enroll(argc - 1, argv + 1);
    if (strcmp(sub, "status") == 0)
        return status(argc - 1, argv + 1);
    if (strcmp(sub, "import") == 0)
        return import_files(argc - 1, argv + 1);
    if (strcmp(sub, "attest") == 0)
        return fleet_attest_cmd(argc - 1, argv + 1);
    if (strcmp(sub, "publish") == 0)
        return fleet_publish_cmd(argc - 1, argv + 1);
    host_err("fleet: unknown subcommand '%s' (broker-config, enroll, status, import, attest, publish)", sub);
    usage_fleet(1);
    return HOST_EXIT_USAGE;
}
