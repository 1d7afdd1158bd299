/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_log.c — fs38-device commands of the security log (control 7):
 *
 *   log init --key-out K0 [--force]          create the log; k0 (64 hex digits) leaves the device
 *                                            once, into K0 (mode 0600, never overwritten)
 *   log export --out BATCH [--since SEQ] [--nonce HEX] [--sign-key KEY.pem]
 *                                            a verifiable batch: records SEQ.. + a checkpoint
 *   log release SEQ                          records <= SEQ were verified: overwriting them later
 *                                            is no loss
 *   log status                               head, oldest record, epoch, ring use
 *   log append --code NAME|N [--severity N] [--arg N] [--detail TEXT] [--count N] [--power-cut K]
 *                                            raise application events through fs38_event()
 *   log seal                                 close the epoch now (seal, key evolution)
 *
 * The log lives in DEV_LOG_OFFSET / DEV_LOG_SIZE (64 sectors); its current epoch key is sealed in
 * the store ("log/key"). device_open opens it when it was created and registers it as the event
 * sink, so every module's fs38_event() lands in it. Checkpoints are signed with the device
 * identity key (DEV_KEY_IDENTITY) once provisioning has created it; --sign-key signs with a
 * P-256 key file instead (tests, devices without an identity yet).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "fs38/log.h"
#include "fs38/util.h"
#include "keys.h"
#include "layout.h"
#include "net.h"

#ifndef DEV_KEY_IDENTITY
#define DEV_KEY_IDENTITY ((psa_key_id_t)0x00380003u)
#endif

#define EXIT_POWER 3

static void log_config(device *d, fs38_log_config *c)
{
    memset(c, 0, sizeof *c);
    c->port = &d->port;
    c->store = &d->store;
    c->offset = DEV_LOG_OFFSET;
    c->size = DEV_LOG_SIZE;
    c->epoch_records = FS38_LOG_EPOCH_RECORDS;
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    if (psa_get_key_attributes(DEV_KEY_IDENTITY, &at) == PSA_SUCCESS)
        c->sign_key = DEV_KEY_IDENTITY;
    psa_reset_key_attributes(&at);
}

/* What the open log holds (zeros when it cannot say: not open, broken). */
static fs38_log_info log_info(fs38_log *log)
{
    fs38_log_info in;
    if (fs38_log_info_get(log, &in) != FS38_OK)
        memset(&in, 0, sizeof in);
    return in;
}

int device_log_open(device *d)
{
    fs38_log_config c;
    log_config(d, &c);
    fs38_err e = fs38_log_open(&d->log, &c);
    if (e == FS38_ERR_LOG_UNINIT)
        return 0; /* no log yet: events are dropped */
    if (e) {
        /* a log that cannot be opened must not stop the device: say so, go on without it */
        host_err("warning: security log not recorded: %s", fs38_log_diag(&d->log)->msg[0] ? fs38_log_diag(&d->log)->msg : fs38_strerror(e));
        return 0;
    }
    d->log_open = true;
    fs38_event_set_sink(fs38_log_sink, &d->log);
    if (log_info(&d->log).damaged)
        host_err("warning: records of the security log's current epoch fail their MAC (flash tampered?)");
    return 0;
}

void device_log_close(device *d)
{
    if (!d->log_open)
        return;
    fs38_event_set_sink(NULL, NULL);
    fs38_log_close(&d->log);
    d->log_open = false;
}

void device_log_boot(device *d)
{
    uint64_t v = 0;
    if (d->port.counter_read(d->port.ctx, FS38_COUNTER_BOOT, &v) == FS38_OK &&
        d->port.counter_advance(d->port.ctx, FS38_COUNTER_BOOT, v + 1u) == FS38_OK && d->log_open &&
        fs38_log_note_boot(&d->log) != FS38_OK)
        host_err("log: cannot record the boot (%s)", fs38_log_diag(&d->log)->msg);
}

/* Write k0 as hex to a new file (never replaces one). */
static int write_k0(const char *path, const uint8_t k0[FS38_LOG_KEY_LEN])
{
    char hex[2 * FS38_LOG_KEY_LEN + 2];
    host_hex(k0, FS38_LOG_KEY_LEN, hex);
    hex[2 * FS38_LOG_KEY_LEN] = '\n';
    hex[2 * FS38_LOG_KEY_LEN + 1] = 0;
    int rc = host_write_file(path, hex, 2 * FS38_LOG_KEY_LEN + 1, 0600, true);
    fs38_wipe(hex, sizeof hex);
    return rc;
}

int device_log_provision(device *d, const char *k0_path)
{
    uint8_t k0[FS38_LOG_KEY_LEN], out[FS38_LOG_KEY_LEN];
    fs38_log_config c;
    if (!k0_path) {
        host_err("log: no file for k0");
        return -1;
    }
    /* k0 is drawn here and written out before the log uses it: a log whose k0 nobody holds is
     * never created */
    if (psa_generate_random(k0, sizeof k0) != PSA_SUCCESS) {
        host_err("log: no random k0");
        return -1;
    }
    if (write_k0(k0_path, k0)) {
        fs38_wipe(k0, sizeof k0);
        return -1;
    }
    const bool had = d->log_open;
    const uint32_t prev_next = had ? log_info(&d->log).next_seq : 0;
    fs38_event_set_sink(NULL, NULL);
    log_config(d, &c);
    fs38_err e = fs38_log_create(&d->log, &c, k0, out);
    fs38_wipe(k0, sizeof k0);
    fs38_wipe(out, sizeof out);
    if (e) {
        host_err("log: creating the security log failed: %s", fs38_log_diag(&d->log)->msg[0] ? fs38_log_diag(&d->log)->msg : fs38_strerror(e));
        d->log_open = false;
        if (unlink(k0_path) != 0 && errno != ENOENT)
            host_err("log: remove %s: it holds a key no log uses", k0_path);
        return -1;
    }
    d->log_open = true;
    fs38_event_set_sink(fs38_log_sink, &d->log);
    if (had)
        fs38_event(FS38_EV_LOG_CLEARED, FS38_SEV_NOTICE, (int64_t)prev_next,
                   "security log cleared and created again: the previous k0 is void");
    return 0;
}

/* ---- subcommands ----------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: fs38-device --state DIR log <command>\n"
               "  init --key-out K0 [--force]       create the log; write k0 (hex) once to K0\n"
               "  export --out BATCH [--since SEQ] [--nonce HEX] [--sign-key KEY.pem]\n"
               "                                    a verifiable batch of records SEQ.. (default 0) + checkpoint\n"
               "  push URL --ca SERVER_CA.pem [--file EXPORT] [--since SEQ] [--topic T] [--psk-id ID [--psk FILE]]\n"
               "       [--timeout MS] [--client-auth required|optional]\n"
               "                                    send a batch to mqtts://host:port (topic fs38/<ueid>/log, QoS 1)\n"
               "                                    or coaps://host:port/path (POST, Block1); exit 3: network\n"
               "  release SEQ                       records <= SEQ were verified and may be overwritten\n"
               "  status                            head, oldest record, epoch, ring use\n"
               "  append --code NAME|N [--severity N] [--arg N] [--detail TEXT] [--count N] [--power-cut K]\n"
               "                                    raise application events (through fs38_event)\n"
               "  seal                              close the current epoch now\n"
               "exit status: 0 success, 1 refused (no log, bad state), 2 usage or I/O error, 3 power cut.\n");
}

/* Strict decimal numbers (host_parse_u64 / host_parse_i64); event codes and arguments may be hex. */
static int parse_u64(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
    return host_parse_u64(what, s, min, max, 0, v);
}

static int parse_i64(const char *what, const char *s, int64_t min, int64_t max, int64_t *v)
{
    return host_parse_i64(what, s, min, max, HOST_NUM_HEX, v);
}

static int need_log(device *d, const char *cmd)
{
    if (d->log_open)
        return 0;
    fprintf(stderr, "log %s: no security log on this device (run 'log init --key-out K0' or provision)\n", cmd);
    return -1;
}

static int log_init(const char *dir, int argc, char **argv)
{
    const char *out = NULL;
    bool force = false;
    const host_opt opts[] = { { .name = "--key-out", .value = &out }, { .name = "--force", .flag = &force }, { .name = NULL } };
    if (device_no_positional("log init", argc, argv, opts))
        return HOST_EXIT_USAGE;
    if (!out) {
        host_err("log init: --key-out K0 is required (k0 leaves the device only now)");
        return HOST_EXIT_USAGE;
    }
    if (device_open(&g_dev, dir))
        return HOST_EXIT_USAGE;
    int rc = HOST_EXIT_OK;
    if (g_dev.log_open && !force) {
        fprintf(stderr, "log init: the device already has a security log (head seq %" PRIu32
                        "); --force clears it and issues a new k0\n",
                log_info(&g_dev.log).next_seq - 1u);
        rc = HOST_EXIT_REJECT;
    } else if (device_log_provision(&g_dev, out)) {
        rc = HOST_EXIT_USAGE;
    } else {
        printf("log init: security log created (%u sectors, %u records per epoch); k0 written to %s: give it to "
               "the verifier and delete it here\n",
               log_info(&g_dev.log).sectors, log_info(&g_dev.log).epoch_records, out);
    }
    device_close(&g_dev);
    return rc;
}

static int log_export(const char *dir, int argc, char **argv)
{
    const char *out = NULL, *since_s = NULL, *nonce_s = NULL, *key_path = NULL;
    const host_opt opts[] = {
        { .name = "--out", .value = &out },     { .name = "--since", .value = &since_s },
        { .name = "--nonce", .value = &nonce_s }, { .name = "--sign-key", .value = &key_path },
        { .name = NULL },
    };
    if (device_no_positional("log export", argc, argv, opts))
        return HOST_EXIT_USAGE;
    uint64_t since = 0;
    uint8_t nonce[FS38_LOG_NONCE_MAX];
    size_t nonce_len = 0;
    if (!out) {
        host_err("log export: --out BATCH is required");
        return HOST_EXIT_USAGE;
    }
    if (since_s && parse_u64("log export --since", since_s, 0, UINT32_MAX, &since))
        return HOST_EXIT_USAGE;
    if (nonce_s) {
        nonce_len = strlen(nonce_s) / 2;
        if (strlen(nonce_s) % 2 || nonce_len == 0 || nonce_len > sizeof nonce || host_unhex(nonce_s, nonce, nonce_len)) {
            host_err("log export: --nonce must be 1 to %u bytes in hex", FS38_LOG_NONCE_MAX);
            return HOST_EXIT_USAGE;
        }
    }
    if (device_open(&g_dev, dir))
        return HOST_EXIT_USAGE;
    int rc = HOST_EXIT_USAGE;
    psa_key_id_t key = 0;
    uint8_t *buf = NULL;
    if (need_log(&g_dev, "export")) {
        rc = HOST_EXIT_REJECT;
        goto out;
    }
    if (key_path) {
        uint8_t pt[HOST_P256_POINT_LEN];
        if (host_load_private_key(key_path, &key, pt))
            goto out;
        fs38_log_set_sign_key(&g_dev.log, key);
    }
    size_t cap = fs38_log_export_bound(&g_dev.log, (uint32_t)since), len = 0;
    buf = cap ? malloc(cap) : NULL;
    if (!buf) {
        host_err("log export: out of memory");
        goto out;
    }
    fs38_log_cursor c;
    fs38_log_cursor_init(&c, (uint32_t)since);
    c.nonce = nonce_len ? nonce : NULL;
    c.nonce_len = nonce_len;
    fs38_err e = fs38_log_export(&g_dev.log, &c, buf, cap, &len);
    if (e) {
        host_err("log export: %s", fs38_log_diag(&g_dev.log)->msg[0] ? fs38_log_diag(&g_dev.log)->msg : fs38_strerror(e));
        goto out;
    }
    if (host_write_file(out, buf, len, 0644, false))
        goto out;
    printf("log export: records %" PRIu32 "..%" PRIu32 " (%" PRIu32 " records, %zu bytes), checkpoint %" PRIu32
           " %s -> %s\n",
           c.first, c.last, c.records, len, c.last,
           c.signed_checkpoint ? (key_path ? "signed with the given key" : "signed by the device key")
                               : "unsigned (MAC chain only: no device key yet)",
           out);
    if (since > c.first)
        printf("log export: note: --since %" PRIu64 " is past the head; only a checkpoint was exported\n", since);
    else if (since < c.first)
        printf("log export: note: records before %" PRIu32 " are no longer on the device\n", c.first);
    rc = HOST_EXIT_OK;
out:
    free(buf);
    if (key) {
        fs38_log_set_sign_key(&g_dev.log, 0);
        psa_destroy_key(key);
    }
    device_close(&g_dev);
    return rc;
}

static int log_release(const char *dir, int argc, char **argv)
{
    const char *pos[2];
    size_t npos = 0;
    const host_opt opts[] = { { .name = NULL } };
    uint64_t upto = 0;
    if (host_parse_args(argc, argv, opts, pos, 2, &npos) != 0 || npos != 1) {
        host_err("log release: expected SEQ");
        return HOST_EXIT_USAGE;
    }
    if (parse_u64("log release SEQ", pos[0], 0, UINT32_MAX, &upto) || device_open(&g_dev, dir))
        return HOST_EXIT_USAGE;
    int rc = HOST_EXIT_REJECT;
    if (!need_log(&g_dev, "release")) {
        fs38_err e = fs38_log_release(&g_dev.log, (uint32_t)upto);
        if (e == FS38_OK) {
            printf("log release: records up to %" PRIu64 " acknowledged (overwriting them is no loss)\n", upto);
            rc = HOST_EXIT_OK;
        } else {
            fprintf(stderr, "log release: %s\n", fs38_log_diag(&g_dev.log)->msg[0] ? fs38_log_diag(&g_dev.log)->msg : fs38_strerror(e));
            rc = e == FS38_ERR_ARG ? HOST_EXIT_REJECT : HOST_EXIT_USAGE;
        }
    }
    device_close(&g_dev);
    return rc;
}

static int log_status(const char *dir, int argc, char **argv)
{
    const host_opt opts[] = { { .name = NULL } };
    if (device_no_positional("log status", argc, argv, opts) || device_open(&g_dev, dir))
        return HOST_EXIT_USAGE;
    if (!g_dev.log_open) {
        printf("log: not initialised (events are not recorded; run 'log init --key-out K0')\n");
        device_close(&g_dev);
        return HOST_EXIT_OK;
    }
    fs38_log_info in;
    fs38_err ie = fs38_log_info_get(&g_dev.log, &in);
    if (ie != FS38_OK) {
        host_err("log status: %s", fs38_strerror(ie));
        device_close(&g_dev);
        return HOST_EXIT_USAGE;
    }
    printf("log: records %" PRIu32 "..%" PRIu32 " on the device (%" PRIu32 "), next seq %" PRIu32 "\n", in.oldest_seq,
           in.next_seq - 1u, in.records, in.next_seq);
    printf("log: epoch %" PRIu32 " (since seq %" PRIu32 "), %u records per epoch\n", in.epoch, in.epoch_first,
           in.epoch_records);
    printf("log: ring %" PRIu32 " sectors of %u bytes, %" PRIu32 " in use; released up to %" PRId64 "\n", in.sectors,
           DEV_SECTOR_SIZE, in.sectors_used, (int64_t)in.released - 1);
    printf("log: boot %" PRIu64 "; checkpoints %s\n", in.boot,
           in.signed_checkpoints ? "signed by the device key" : "unsigned (no device key: MAC chain only)");
    if (in.damaged)
        printf("log: WARNING: records of the current epoch fail their MAC\n");
    device_close(&g_dev);
    return HOST_EXIT_OK;
}

static int event_code(const char *s, int64_t *code)
{
    for (int c = 1; c < 256; c++)
        if (strcmp(fs38_event_name((fs38_event_code)c), s) == 0) {
            *code = c;
            return 0;
        }
    return parse_i64("log append --code (an event name or number)", s, 0, INT32_MAX, code);
}

static int log_append(const char *dir, int argc, char **argv)
{
    const char *code_s = NULL, *sev_s = NULL, *arg_s = NULL, *detail = NULL, *count_s = NULL, *cut_s = NULL;
    const host_opt opts[] = {
        { .name = "--code", .value = &code_s },   { .name = "--severity", .value = &sev_s },
        { .name = "--arg", .value = &arg_s },     { .name = "--detail", .value = &detail },
        { .name = "--count", .value = &count_s }, { .name = "--power-cut", .value = &cut_s },
        { .name = NULL },
    };
    if (device_no_positional("log append", argc, argv, opts))
        return HOST_EXIT_USAGE;
    int64_t code = 0, sev = FS38_SEV_NOTICE, arg = 0;
    uint64_t count = 1, cut = 0;
    if (!code_s) {
        host_err("log append: --code NAME|N is required (e.g. login-failed)");
        return HOST_EXIT_USAGE;
    }
    if (event_code(code_s, &code) || (sev_s && parse_i64("log append --severity", sev_s, 0, 7, &sev)) ||
        (arg_s && parse_i64("log append --arg", arg_s, INT64_MIN, INT64_MAX, &arg)) ||
        (count_s && parse_u64("log append --count", count_s, 1, 1000000, &count)) ||
        (cut_s && parse_u64("log append --power-cut", cut_s, 1, UINT32_MAX, &cut)))
        return HOST_EXIT_USAGE;
    if (sev < 0 || sev > 7 || code < 0 || code > INT32_MAX) {
        host_err("log append: --severity is 0..7 (RFC 5424), --code a positive number");
        return HOST_EXIT_USAGE;
    }
    if (device_open(&g_dev, dir))
        return HOST_EXIT_USAGE;
    int rc = HOST_EXIT_REJECT;
    if (!need_log(&g_dev, "append")) {
        if (cut)
            fs38_posix_cut_at(&g_dev.posix, cut);
        uint64_t i = 0;
        for (; i < count && !fs38_log_broken(&g_dev.log); i++)
            fs38_event((fs38_event_code)code, (fs38_severity)sev, arg, detail);
        if (fs38_log_broken(&g_dev.log)) {
            fprintf(stderr, "log append: %s after %" PRIu64 " event(s)\n", fs38_log_diag(&g_dev.log)->msg, i - 1u);
            rc = fs38_log_diag(&g_dev.log)->err == FS38_ERR_POWER ? EXIT_POWER : HOST_EXIT_USAGE;
        } else {
            printf("log append: %" PRIu64 " event(s) %s recorded; next seq %" PRIu32 "\n", count,
                   fs38_event_name((fs38_event_code)code), log_info(&g_dev.log).next_seq);
            rc = HOST_EXIT_OK;
        }
    }
    device_close(&g_dev);
    return rc;
}

static int log_seal(const char *dir, int argc, char **argv)
{
    const host_opt opts[] = { { .name = NULL } };
    if (device_no_positional("log seal", argc, argv, opts) || device_open(&g_dev, dir))
        return HOST_EXIT_USAGE;
    int rc = HOST_EXIT_REJECT;
    if (!need_log(&g_dev, "seal")) {
        fs38_err e = fs38_log_seal(&g_dev.log);
        if (e) {
            host_err("log seal: %s", fs38_log_diag(&g_dev.log)->msg);
            rc = HOST_EXIT_USAGE;
        } else {
            printf("log seal: epoch %" PRIu32 " begins at seq %" PRIu32 " (the previous key is gone)\n",
                   log_info(&g_dev.log).epoch, log_info(&g_dev.log).epoch_first);
            rc = HOST_EXIT_OK;
        }
    }
    device_close(&g_dev);
    return rc;
}

int cmd_log(const char *dir, int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? HOST_EXIT_USAGE : HOST_EXIT_OK;
    }
    static const struct {
        const char *name;
        int (*run)(const char *, int, char **);
    } subs[] = {
        { "init", log_init },     { "export", log_export }, { "release", log_release },
        { "status", log_status }, { "append", log_append }, { "seal", log_seal },
        { "push", cmd_log_push },
    };
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (strcmp(argv[0], subs[i].name) == 0)
            return subs[i].run(dir, argc - 1, argv + 1);
    host_err("log: unknown command '%s'", argv[0]);
    usage(stderr);
    return HOST_EXIT_USAGE;
}
