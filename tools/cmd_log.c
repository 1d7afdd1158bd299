/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_log.c — `fs38 log`: the fleet / investigator side of the security log (control 7).
 *
 *   fs38 log verify --k0 K0 [--cert DEVICE.pem | --pub PUB.pem] [--state FILE] [--nonce HEX]
 *                   [--quiet] BATCH...
 *       Verifies the batches in order (fs38_log_verify_*): per record "seq N: OK ..." or what is
 *       wrong — modified, missing N..M, reordered, replayed, truncated after SEQ, bad
 *       checkpoint, lost N..M (overwritten on the device), released N..M, unverifiable.
 *       --cert / --pub: check the checkpoints' COSE_Sign1 with the device key (P-256) from the
 *       device certificate (X.509, PEM or DER) or a public key file; without either, the MAC
 *       chain from k0 alone is checked. --state FILE: resume from where the last successful
 *       verification ended (read when it exists; written after a verification without findings).
 *       --nonce: the final checkpoint must carry this verifier challenge (fresh export).
 *       OK needs proof: the last batch ends with its authentic closing checkpoint (signed when
 *       --cert/--pub is given, with the nonce when --nonce is); an empty batch, or an export
 *       without that checkpoint, is "truncated". An authentic record whose payload is not its
 *       kind's CBOR is "malformed".
 *       Exit 0: everything verified; 1: tampering or loss found; 2: usage or I/O error.
 *
 *   fs38 log show BATCH... [--json | --rfc5424] [--hostname NAME] [--enterprise-number PEN]
 *       Renders the records (not verified: use verify) as text, a JSON array, or RFC 5424 syslog
 *       lines (facility 13 "log audit", NILVALUE timestamp: the device keeps monotonic time and
 *       boot count, given as structured data fs38@PEN; PEN defaults to 32473, the enterprise
 *       number RFC 5612 reserves for documentation: a deployment sets its own). MSG is UTF-8 with
 *       its BOM (RFC 5424 §6.4). Exit 0, 1 malformed batch, 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "cmds.h"
#include "fs38/log.h"
#include "fs38/util.h"
#include "host.h"

#define MAX_BATCHES 256

void usage_log(int to_stderr)
{
    fprintf(to_stderr ? stderr : stdout,
            "usage: fs38 log verify --k0 K0 [--cert DEVICE.pem | --pub PUB.pem] [--state FILE] [--nonce HEX]\n"
            "                       [--quiet] BATCH...\n"
            "         Verify security-log exports in order: per record OK or what is wrong (modified,\n"
            "         missing N..M, reordered, replayed, truncated after SEQ, bad checkpoint, lost N..M).\n"
            "         --cert/--pub also check the checkpoint signatures with the device key. --state FILE\n"
            "         resumes after the last verified record (updated when everything verified). OK needs\n"
            "         proof: the last batch ends with its closing checkpoint (signed with --cert/--pub,\n"
            "         carrying --nonce); an empty batch or one without it is truncated.\n"
            "         exit status: 0 all verified, 1 tampering or loss found, 2 usage or I/O error.\n"
            "       fs38 log show BATCH... [--json | --rfc5424] [--hostname NAME] [--enterprise-number PEN]\n"
            "         Render the records (NOT verified) as text, a JSON array, or RFC 5424 syslog lines.\n"
            "         --hostname: RFC 5424 HOSTNAME (1 to 255 of A-Z a-z 0-9 . - _ :). --enterprise-number:\n"
            "         the SD-ID is fs38@PEN; the default 32473 is the documentation number of RFC 5612, set\n"
            "         your organisation's private enterprise number.\n"
            "         exit status: 0 shown, 1 malformed batch, 2 usage or I/O error.\n");
}

static const char *const k_sev[8] = { "emergency", "alert", "critical", "error", "warning", "notice", "info", "debug" };

static const char *sev_name(int64_t s)
{
    return s >= 0 && s < 8 ? k_sev[s] : "?";
}

static const char *kind_name(unsigned k)
{
    switch (k) {
    case FS38_LOG_GENESIS: return "genesis";
    case FS38_LOG_EVENT: return "event";
    case FS38_LOG_SEAL: return "seal";
    case FS38_LOG_LOST: return "lost";
    case FS38_LOG_TRIM: return "trim";
    case FS38_LOG_CHECKPOINT: return "checkpoint";
    case FS38_LOG_RELEASE: return "release";
    }
    return "?";
}

static const char *lost_reason(uint64_t r)
{
    return r == FS38_LOG_LOST_WRAP ? "ring wrapped" : r == FS38_LOG_LOST_TRUNCATED ? "log truncated on flash"
                                                  : r == FS38_LOG_LOST_CUT         ? "power cut during a wrap"
                                                                                   : "?";
}

/* Event name, or "event-N" for codes this build does not know. */
static const char *event_label(int64_t code, char buf[24])
{
    const char *n = code > 0 && code < 1000 ? fs38_event_name((fs38_event_code)code) : "unknown";
    if (strcmp(n, "unknown") != 0)
        return n;
    snprintf(buf, 24, "event-%" PRId64, code);
    return buf;
}

/* A short human description of a record. */
static void describe(const fs38_log_frame *f, char *out, size_t cap)
{
    fs38_log_entry e;
    if (fs38_log_decode(f, &e) != FS38_OK) {
        snprintf(out, cap, "%s (payload not decodable)", kind_name(f->kind));
        return;
    }
    char lbl[24];
    switch (e.kind) {
    case FS38_LOG_EVENT: {
        char det[FS38_LOG_DETAIL_MAX * 4 + 1];
        size_t k = 0;
        for (size_t i = 0; i < e.detail_len && k + 5 < sizeof det; i++) {
            unsigned char c = (unsigned char)e.detail[i];
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
                det[k++] = (char)c;
            else
                k += (size_t)snprintf(det + k, sizeof det - k, "\\x%02x", c);
        }
        det[k] = 0;
        if (snprintf(out, cap, "%s (%s) boot %" PRIu64 " t=%" PRIu64 "ms arg=%" PRId64 " \"%s\"",
                     event_label(e.code, lbl), sev_name(e.severity), e.boot, e.time_ms, e.arg, det) >= (int)cap &&
            cap > 4)
            memcpy(out + cap - 4, "...", 4); /* a long detail is cut, visibly */
        break;
    }
    case FS38_LOG_GENESIS:
        if (e.cleared)
            snprintf(out, cap, "log created (cleared after seq %" PRIu64 "), boot %" PRIu64 ", %" PRIu64
                               " records per epoch", e.prev_head, e.boot, e.epoch_records);
        else
            snprintf(out, cap, "log created, boot %" PRIu64 ", %" PRIu64 " records per epoch", e.boot, e.epoch_records);
        break;
    case FS38_LOG_SEAL:
        snprintf(out, cap, "seal of epoch %" PRIu64 " (the key evolves)", e.epoch);
        break;
    case FS38_LOG_LOST:
        snprintf(out, cap, "marker: records %" PRIu64 "..%" PRIu64 " lost (%s)", e.from, e.to, lost_reason(e.reason));
        break;
    case FS38_LOG_TRIM:
        snprintf(out, cap, "marker: records ..%" PRIu64 " released and overwritten", e.to);
        break;
    case FS38_LOG_CHECKPOINT:
        snprintf(out, cap, "checkpoint of an export from %" PRIu64 "%s%s, boot %" PRIu64, e.start,
                 e.sig ? ", signed" : ", unsigned", e.nonce ? ", with nonce" : "", e.boot);
        break;
    case FS38_LOG_RELEASE:
        snprintf(out, cap, "records ..%" PRIu64 " acknowledged", e.upto);
        break;
    }
}

/* ---- files ------------------------------------------------------------------------------------ */

static int read_k0(const char *path, uint8_t k0[FS38_LOG_KEY_LEN])
{
    uint8_t *buf;
    size_t len;
    if (host_read_file(path, 4096, &buf, &len))
        return -1;
    int rc = -1;
    if (len == FS38_LOG_KEY_LEN) {
        memcpy(k0, buf, FS38_LOG_KEY_LEN);
        rc = 0;
    } else {
        char hex[2 * FS38_LOG_KEY_LEN + 1];
        size_t k = 0;
        for (size_t i = 0; i < len && k < sizeof hex; i++)
            if (buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\r' && buf[i] != '\t')
                hex[k++] = (char)buf[i];
        if (k == 2 * FS38_LOG_KEY_LEN) {
            hex[k] = 0;
            rc = host_unhex(hex, k0, FS38_LOG_KEY_LEN);
        }
        fs38_wipe(hex, sizeof hex);
    }
    fs38_wipe(buf, len);
    free(buf);
    if (rc)
        host_err("%s: not a log key (expected 64 hex digits, as 'log init --key-out' writes)", path);
    return rc;
}

/* The device key from its certificate (X.509 PEM / DER) as a P-256 point. */
static int cert_point(const char *path, uint8_t point[HOST_P256_POINT_LEN])
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t id = 0;
    int rc = -1;
    int ret = mbedtls_x509_crt_parse_file(&crt, path);
    if (ret) {
        host_err("cannot read certificate %s: Mbed TLS error -0x%04x", path, (unsigned)-ret);
        goto out;
    }
    ret = mbedtls_pk_get_psa_attributes(&crt.pk, PSA_KEY_USAGE_VERIFY_HASH, &at);
    psa_key_type_t t = psa_get_key_type(&at);
    if (ret || !PSA_KEY_TYPE_IS_ECC(t) || PSA_KEY_TYPE_ECC_GET_FAMILY(t) != PSA_ECC_FAMILY_SECP_R1 ||
        psa_get_key_bits(&at) != 256) {
        host_err("certificate %s: its key is not a P-256 key", path);
        goto out;
    }
    ret = mbedtls_pk_import_into_psa(&crt.pk, &at, &id);
    size_t n = 0;
    if (ret || psa_export_public_key(id, point, HOST_P256_POINT_LEN, &n) != PSA_SUCCESS || n != HOST_P256_POINT_LEN) {
        host_err("certificate %s: cannot use its public key", path);
        goto out;
    }
    rc = 0;
out:
    if (id)
        psa_destroy_key(id);
    psa_reset_key_attributes(&at);
    mbedtls_x509_crt_free(&crt);
    return rc;
}

/* --state FILE (docs/log-format.md §5.1): one line of ASCII,
 *     "fs38-log-vstate 1 " NEXT " " EPOCH " " HEAD [ "\n" ]
 * NEXT the next expected seq (decimal, 0..4294967296), EPOCH the epoch of that record (decimal,
 * 0..4294967295), HEAD the MAC of record NEXT-1 (64 hex digits). Single spaces, no sign, no
 * leading zero, nothing else in the file. A missing file: start at the genesis. */
#define STATE_MAGIC "fs38-log-vstate 1 "

/* A decimal number at *p up to the next ' ' / '\n' / end: digits only, no leading zero, <= max. */
static int state_num(const char **p, uint64_t max, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9') {
        if (n >= 10)
            return -1;
        v = v * 10u + (uint64_t)(s[n] - '0');
        n++;
    }
    if (n == 0 || (n > 1 && s[0] == '0') || v > max)
        return -1;
    *out = v;
    *p = s + n;
    return 0;
}

static int read_state(const char *path, fs38_log_vstate *st, bool *have)
{
    *have = false;
    uint8_t *buf;
    size_t len;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        host_err("cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    fclose(f);
    if (host_read_file(path, 256, &buf, &len))
        return -1;
    const char *p = (const char *)buf;
    const char *what = NULL;
    uint64_t next = 0, epoch = 0;
    char head[2 * FS38_LOG_MAC_LEN + 1];
    if (strlen(p) != len)
        what = "a NUL byte in it";
    else if (strncmp(p, STATE_MAGIC, sizeof STATE_MAGIC - 1u) != 0)
        what = "it does not begin with \"" STATE_MAGIC "\"";
    if (!what) {
        p += sizeof STATE_MAGIC - 1u;
        if (state_num(&p, (uint64_t)UINT32_MAX + 1u, &next) || *p++ != ' ')
            what = "NEXT is not a decimal number 0..4294967296 followed by one space";
        else if (state_num(&p, UINT32_MAX, &epoch) || *p++ != ' ')
            what = "EPOCH is not a decimal number 0..4294967295 followed by one space";
        else if (strspn(p, "0123456789abcdefABCDEF") != sizeof head - 1u)
            what = "HEAD is not 64 hex digits";
        else {
            memcpy(head, p, sizeof head - 1u);
            head[sizeof head - 1u] = 0;
            p += sizeof head - 1u;
            if (*p == '\n')
                p++;
            if (*p)
                what = "something follows HEAD";
            else if (host_unhex(head, st->head, FS38_LOG_MAC_LEN))
                what = "HEAD is not 64 hex digits";
        }
    }
    free(buf);
    if (what) {
        host_err("%s: not a verifier state file (\"" STATE_MAGIC "NEXT EPOCH HEAD\"): %s", path, what);
        return -1;
    }
    st->next = next;
    st->epoch = (uint32_t)epoch;
    *have = true;
    return 0;
}

static int write_state(const char *path, const fs38_log_vstate *st)
{
    char hex[2 * FS38_LOG_MAC_LEN + 1], text[160];
    host_hex(st->head, FS38_LOG_MAC_LEN, hex);
    int n = snprintf(text, sizeof text, "fs38-log-vstate 1 %" PRIu64 " %" PRIu32 " %s\n", st->next, st->epoch, hex);
    return host_write_file(path, text, (size_t)n, 0644, false);
}

/* ---- verify ------------------------------------------------------------------------------------ */

typedef struct vprint {
    bool quiet;
    const char *const *names;
    /* a run of replayed records, printed as one line */
    bool run;
    uint64_t run_from, run_to;
    unsigned run_batch;
    uint64_t ok, unproven;
} vprint;

static void flush_run(vprint *p)
{
    if (!p->run)
        return;
    if (p->run_from == p->run_to)
        printf("seq %" PRIu64 ": replayed (batch %u: already verified)\n", p->run_from, p->run_batch);
    else
        printf("seq %" PRIu64 "..%" PRIu64 ": replayed (batch %u: already verified)\n", p->run_from, p->run_to,
               p->run_batch);
    p->run = false;
}

static void on_item(void *user, const fs38_logv_item *it)
{
    vprint *p = user;
    if (it->kind == FS38_LOGV_REPLAYED && it->has_seq) {
        if (p->run && p->run_batch == it->batch && it->from == p->run_to + 1u) {
            p->run_to = it->from;
            return;
        }
        flush_run(p);
        p->run = true;
        p->run_from = p->run_to = it->from;
        p->run_batch = it->batch;
        return;
    }
    flush_run(p);
    char d[512];
    switch (it->kind) {
    case FS38_LOGV_OK:
        if (it->unproven)
            p->unproven++;
        else
            p->ok++;
        if (p->quiet)
            return;
        describe(it->frame, d, sizeof d);
        printf("seq %" PRIu64 ": OK%s  %s\n", it->from, it->unproven ? " (epoch unproven: after a break)" : "", d);
        return;
    case FS38_LOGV_NOTE:
        if (!p->quiet)
            printf("seq %" PRIu64 ": note: %s\n", it->from, it->why);
        return;
    case FS38_LOGV_MISSING:
        printf("missing %" PRIu64 "..%" PRIu64 " (%s)\n", it->from, it->to, it->why);
        return;
    case FS38_LOGV_LOST:
        printf("lost %" PRIu64 "..%" PRIu64 " (%s)\n", it->from, it->to, it->why);
        return;
    case FS38_LOGV_RELEASED:
        printf("released %" PRIu64 "..%" PRIu64 " (%s)\n", it->from, it->to, it->why);
        return;
    case FS38_LOGV_TRUNCATED:
        if (it->has_seq)
            printf("truncated after %" PRIu64 " (batch %u: %s)\n", it->from, it->batch, it->why);
        else
            printf("truncated (%s)\n", it->why);
        return;
    case FS38_LOGV_BAD_CHECKPOINT:
        printf("bad checkpoint: seq %" PRIu64 " (batch %u: %s)\n", it->from, it->batch, it->why);
        return;
    case FS38_LOGV_BAD_BATCH:
        printf("batch %u: bad batch at offset %zu (%s)\n", it->batch, it->offset, it->why);
        return;
    default:
        break;
    }
    /* modified, reordered, unverifiable, replayed without a seq */
    if (it->has_seq)
        printf("seq %" PRIu64 ": %s (batch %u, offset %zu: %s)\n", it->from, fs38_logv_name(it->kind), it->batch,
               it->offset, it->why);
    else
        printf("batch %u, offset %zu: %s (%s)\n", it->batch, it->offset, fs38_logv_name(it->kind), it->why);
}

static int log_verify(int argc, char **argv)
{
    const char *k0_path = NULL, *cert = NULL, *pub = NULL, *state_path = NULL, *nonce_s = NULL;
    bool quiet = false;
    const host_opt opts[] = {
        { .name = "--k0", .value = &k0_path },     { .name = "--cert", .value = &cert },
        { .name = "--pub", .value = &pub },        { .name = "--state", .value = &state_path },
        { .name = "--nonce", .value = &nonce_s },  { .name = "--quiet", .flag = &quiet },
        { .name = NULL },
    };
    const char *files[MAX_BATCHES];
    size_t nf = 0;
    int rc = host_parse_args(argc, argv, opts, files, MAX_BATCHES, &nf);
    if (rc == 1) {
        usage_log(0);
        return HOST_EXIT_OK;
    }
    if (rc < 0 || !k0_path || nf == 0 || (cert && pub)) {
        if (rc >= 0)
            host_err("log verify: %s", !k0_path ? "--k0 K0 is required" : nf == 0 ? "no BATCH given"
                                                                                  : "--cert or --pub, not both");
        usage_log(1);
        return HOST_EXIT_USAGE;
    }
    uint8_t nonce[FS38_LOG_NONCE_MAX];
    size_t nonce_len = 0;
    if (nonce_s) {
        nonce_len = strlen(nonce_s) / 2;
        if (strlen(nonce_s) % 2 || !nonce_len || nonce_len > sizeof nonce || host_unhex(nonce_s, nonce, nonce_len)) {
            host_err("log verify: --nonce must be 1 to %u bytes in hex", FS38_LOG_NONCE_MAX);
            return HOST_EXIT_USAGE;
        }
    }
    if (host_psa_init())
        return HOST_EXIT_USAGE;
    uint8_t k0[FS38_LOG_KEY_LEN], point[HOST_P256_POINT_LEN];
    fs38_keyring kr;
    fs38_keyring_init(&kr);
    fs38_log_vstate st;
    bool have_state = false;
    if (read_k0(k0_path, k0) || (state_path && read_state(state_path, &st, &have_state)))
        return HOST_EXIT_USAGE;
    if ((cert && cert_point(cert, point)) || (pub && host_load_public_point(pub, point))) {
        fs38_wipe(k0, sizeof k0);
        return HOST_EXIT_USAGE;
    }
    if ((cert || pub) && fs38_keyring_add_p256(&kr, point, sizeof point)) {
        host_err("log verify: cannot use the device key");
        fs38_wipe(k0, sizeof k0);
        return HOST_EXIT_USAGE;
    }
    static fs38_log_verifier v; /* large: not on the stack */
    vprint pr = { .quiet = quiet };
    fs38_log_verify_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.k0 = k0;
    cfg.resume = have_state ? &st : NULL;
    cfg.signers = (cert || pub) ? &kr : NULL;
    cfg.nonce = nonce_len ? nonce : NULL;
    cfg.nonce_len = nonce_len;
    cfg.report = on_item;
    cfg.user = &pr;
    fs38_err e = fs38_log_verify_init(&v, &cfg);
    fs38_wipe(k0, sizeof k0);
    if (e) {
        host_err("log verify: %s", fs38_strerror(e));
        fs38_keyring_free(&kr);
        return HOST_EXIT_USAGE;
    }
    rc = HOST_EXIT_OK;
    for (size_t i = 0; i < nf && rc == HOST_EXIT_OK; i++) {
        uint8_t *buf;
        size_t len;
        if (host_read_file(files[i], HOST_FILE_MAX, &buf, &len)) {
            rc = HOST_EXIT_USAGE;
            break;
        }
        e = fs38_log_verify_batch(&v, buf, len);
        free(buf);
        if (e) {
            host_err("log verify: %s: %s", files[i], fs38_strerror(e));
            rc = HOST_EXIT_USAGE;
        }
    }
    fs38_log_vstate out;
    if (rc == HOST_EXIT_OK) {
        e = fs38_log_verify_finish(&v, &out);
        flush_run(&pr);
        const uint64_t problems = v.problems;
        printf("log verify: %" PRIu64 " record(s) verified", pr.ok);
        if (pr.unproven)
            printf(", %" PRIu64 " authentic after a break (not provably before a key compromise)", pr.unproven);
        printf(", %" PRIu64 " problem(s)%s: %s\n", problems,
               cfg.signers ? ", checkpoint signatures checked" : ", checkpoint signatures not checked (no --cert)",
               e == FS38_OK ? "OK" : "FAILED (tampering or loss)");
        rc = e == FS38_OK ? HOST_EXIT_OK : e == FS38_ERR_LOG_VERIFY ? HOST_EXIT_REJECT : HOST_EXIT_USAGE;
        if (rc == HOST_EXIT_OK && state_path && write_state(state_path, &out))
            rc = HOST_EXIT_USAGE;
    }
    fs38_log_verify_free(&v);
    fs38_keyring_free(&kr);
    return rc;
}

/* ---- show -------------------------------------------------------------------------------------- */

typedef enum { SHOW_TEXT, SHOW_JSON, SHOW_SYSLOG } show_fmt;

/* JSON string: UTF-8 kept, controls escaped, invalid bytes as U+FFFD. */
static void json_str(const char *s, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            printf("\\%c", c);
            i++;
        } else if (c < 0x20) {
            printf("\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            putchar(c);
            i++;
        } else {
            size_t len = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
            bool ok = len && i + len <= n;
            for (size_t k = 1; ok && k < len; k++)
                ok = ((unsigned char)s[i + k] & 0xC0) == 0x80;
            if (ok) {
                fwrite(s + i, 1, len, stdout);
                i += len;
            } else {
                printf("\\ufffd");
                i++;
            }
        }
    }
    putchar('"');
}

static void json_hex(const uint8_t *p, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
    putchar('"');
}

static void show_json(unsigned batch, const fs38_log_frame *f, const fs38_log_entry *e, bool decoded, bool *first)
{
    printf("%s\n  {\"batch\": %u, \"seq\": %" PRIu32 ", \"kind\": \"%s\"", *first ? "" : ",", batch, f->seq,
           kind_name(f->kind));
    *first = false;
    if (!decoded) {
        printf(", \"error\": \"payload not decodable\"}");
        return;
    }
    char lbl[24];
    switch (e->kind) {
    case FS38_LOG_EVENT:
        printf(", \"event\": \"%s\", \"code\": %" PRId64 ", \"severity\": \"%s\", \"severity_code\": %" PRId64,
               event_label(e->code, lbl), e->code, sev_name(e->severity), e->severity);
        printf(", \"boot\": %" PRIu64 ", \"time_ms\": %" PRIu64 ", \"arg\": %" PRId64 ", \"detail\": ", e->boot,
               e->time_ms, e->arg);
        json_str(e->detail, e->detail_len);
        break;
    case FS38_LOG_GENESIS:
        printf(", \"version\": %" PRIu64 ", \"boot\": %" PRIu64 ", \"time_ms\": %" PRIu64 ", \"epoch_records\": %" PRIu64,
               e->version, e->boot, e->time_ms, e->epoch_records);
        if (e->cleared)
            printf(", \"cleared_after\": %" PRIu64, e->prev_head);
        else
            printf(", \"cleared_after\": null");
        break;
    case FS38_LOG_SEAL:
        printf(", \"epoch\": %" PRIu64, e->epoch);
        break;
    case FS38_LOG_LOST:
    case FS38_LOG_TRIM:
        printf(", \"from\": %" PRIu64 ", \"to\": %" PRIu64, e->from, e->to);
        if (e->kind == FS38_LOG_LOST)
            printf(", \"reason\": \"%s\"", lost_reason(e->reason));
        break;
    case FS38_LOG_CHECKPOINT:
        printf(", \"start\": %" PRIu64 ", \"boot\": %" PRIu64 ", \"time_ms\": %" PRIu64 ", \"signed\": %s, \"nonce\": ",
               e->start, e->boot, e->time_ms, e->sig ? "true" : "false");
        if (e->nonce)
            json_hex(e->nonce, e->nonce_len);
        else
            printf("null");
        break;
    case FS38_LOG_RELEASE:
        printf(", \"upto\": %" PRIu64 ", \"boot\": %" PRIu64 ", \"time_ms\": %" PRIu64, e->upto, e->boot, e->time_ms);
        break;
    }
    putchar('}');
}

/* ---- RFC 5424 ----------------------------------------------------------------------------------- */

#define SYSLOG_HOSTNAME_MAX 255u /* HOSTNAME = NILVALUE / 1*255PRINTUSASCII */
#define SYSLOG_APPNAME_MAX 48u   /* APP-NAME = NILVALUE / 1*48PRINTUSASCII */
#define SYSLOG_PROCID_MAX 128u   /* PROCID = NILVALUE / 1*128PRINTUSASCII */
#define SYSLOG_MSGID_MAX 32u     /* MSGID = NILVALUE / 1*32PRINTUSASCII */
#define SYSLOG_SDNAME_MAX 32u    /* SD-NAME = 1*32PRINTUSASCII except '=', SP, ']', %d34 */
#define SYSLOG_APP_NAME "fs38"
#define SYSLOG_SD_NAME "fs38"
#define SYSLOG_PEN_DEFAULT 32473u /* RFC 5612: the enterprise number reserved for documentation */

/* 1..max PRINTUSASCII (%d33-126); sd_name also excludes '=', ']' and '"' (RFC 5424 SD-NAME). */
static bool syslog_token_ok(const char *s, size_t max, bool sd_name)
{
    size_t n = 0;
    for (; s[n]; n++) {
        const unsigned char c = (unsigned char)s[n];
        if (c < 33 || c > 126 || n >= max)
            return false;
        if (sd_name && (c == '=' || c == ']' || c == '"'))
            return false;
    }
    return n > 0;
}

/* --hostname: RFC 5424 HOSTNAME is NILVALUE / 1*255PRINTUSASCII and SHOULD be an FQDN, an IP
 * address or a host name (§6.2.4). Only what those forms use is accepted — letters, digits, '.',
 * '-', '_' and ':' (IPv6) — so that no syslog parser stumbles over a bracket, quote or '='. */
static bool syslog_hostname_ok(const char *s)
{
    if (!syslog_token_ok(s, SYSLOG_HOSTNAME_MAX, false))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
              *s == '-' || *s == '_' || *s == ':'))
            return false;
    return true;
}

/* A token the renderer made itself (MSGID, APP-NAME): NILVALUE if it is not valid. */
static const char *syslog_token(const char *s, size_t max)
{
    return syslog_token_ok(s, max, false) ? s : "-";
}

/* --enterprise-number: a private enterprise number, decimal digits only (RFC 5424 §7.2.2),
 * 1..4294967295, no sign, no leading zero. */
static int parse_pen(const char *s, uint32_t *pen)
{
    uint64_t v = 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 10)
            return -1;
        v = v * 10u + (uint64_t)(s[n] - '0');
    }
    if (n == 0 || s[0] == '0' || v > UINT32_MAX)
        return -1;
    *pen = (uint32_t)v;
    return 0;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    const unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (len > n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if (s[k] < 0x80 || s[k] > 0xBF)
            return 0;
    return len;
}

/* MSG = MSG-UTF8 = BOM UTF-8-STRING (§6.4): controls become '?', bytes that are not UTF-8
 * become U+FFFD, so the line stays one line of valid UTF-8. */
static void syslog_msg(const char *s, size_t n)
{
    fputs(" \xEF\xBB\xBF", stdout);
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq(u + i, n - i);
        if (l == 0) {
            fputs("\xEF\xBF\xBD", stdout);
            i++;
        } else if (l == 1) {
            putchar(u[i] < 0x20 || u[i] == 0x7f ? '?' : u[i]);
            i++;
        } else {
            fwrite(u + i, 1, l, stdout);
            i += l;
        }
    }
}

/* SD-PARAM = PARAM-NAME "=" %d34 PARAM-VALUE %d34; '"', '\' and ']' escaped with '\'. */
static void sd_param(const char *name, const char *value)
{
    if (!syslog_token_ok(name, SYSLOG_SDNAME_MAX, true))
        return; /* never emitted: the names are this file's constants */
    printf(" %s=\"", name);
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '\\' || *p == ']')
            putchar('\\');
        putchar(*p);
    }
    putchar('"');
}

static void sd_u64(const char *name, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%" PRIu64, v);
    sd_param(name, b);
}

static void sd_i64(const char *name, int64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%" PRId64, v);
    sd_param(name, b);
}

typedef struct syslog_opts {
    const char *hostname;    /* validated, or "-" */
    char sd_id[SYSLOG_SDNAME_MAX + 1]; /* "fs38@PEN", validated */
} syslog_opts;

static void show_syslog(unsigned batch, const fs38_log_frame *f, const fs38_log_entry *e, bool decoded,
                        const syslog_opts *so)
{
    /* facility 13 (log audit); non-events are notices */
    int64_t sev = decoded && e->kind == FS38_LOG_EVENT && e->severity >= 0 && e->severity < 8 ? e->severity : 5;
    if (decoded && e->kind == FS38_LOG_LOST)
        sev = 2;
    char lbl[24], msgid[SYSLOG_MSGID_MAX + 8];
    if (decoded && e->kind == FS38_LOG_EVENT)
        snprintf(msgid, sizeof msgid, "%s", event_label(e->code, lbl));
    else
        snprintf(msgid, sizeof msgid, "log-%s", kind_name(f->kind));
    /* HEADER: PRI VERSION SP TIMESTAMP(NILVALUE) SP HOSTNAME SP APP-NAME SP PROCID(NILVALUE) SP MSGID */
    printf("<%" PRId64 ">1 - %s %s - %s [%s", 13 * 8 + sev, so->hostname,
           syslog_token(SYSLOG_APP_NAME, SYSLOG_APPNAME_MAX), syslog_token(msgid, SYSLOG_MSGID_MAX), so->sd_id);
    sd_u64("seq", f->seq);
    sd_u64("batch", batch);
    if (decoded && e->kind != FS38_LOG_SEAL && e->kind != FS38_LOG_LOST && e->kind != FS38_LOG_TRIM) {
        sd_u64("boot", e->boot);
        sd_u64("mono", e->time_ms);
    }
    if (decoded && e->kind == FS38_LOG_EVENT) {
        sd_i64("code", e->code);
        sd_i64("arg", e->arg);
    }
    if (decoded && (e->kind == FS38_LOG_LOST || e->kind == FS38_LOG_TRIM)) {
        sd_u64("from", e->from);
        sd_u64("to", e->to);
    }
    sd_param("verified", "no");
    putchar(']');
    if (decoded && e->kind == FS38_LOG_EVENT && e->detail_len) {
        syslog_msg(e->detail, e->detail_len);
    } else {
        char d[512];
        describe(f, d, sizeof d);
        syslog_msg(d, strlen(d));
    }
    putchar('\n');
}

static int log_show(int argc, char **argv)
{
    bool json = false, syslog = false;
    const char *host = NULL, *pen_s = NULL;
    const host_opt opts[] = {
        { .name = "--json", .flag = &json },
        { .name = "--rfc5424", .flag = &syslog },
        { .name = "--hostname", .value = &host },
        { .name = "--enterprise-number", .value = &pen_s },
        { .name = NULL },
    };
    const char *files[MAX_BATCHES];
    size_t nf = 0;
    int rc = host_parse_args(argc, argv, opts, files, MAX_BATCHES, &nf);
    if (rc == 1) {
        usage_log(0);
        return HOST_EXIT_OK;
    }
    if (rc < 0 || nf == 0 || (json && syslog)) {
        if (rc >= 0)
            host_err("log show: %s", nf == 0 ? "no BATCH given" : "--json or --rfc5424, not both");
        usage_log(1);
        return HOST_EXIT_USAGE;
    }
    syslog_opts so;
    memset(&so, 0, sizeof so);
    so.hostname = "-";
    if (host) {
        if (!syslog_hostname_ok(host)) {
            host_err("log show: --hostname must be 1 to %u printable ASCII characters of an RFC 5424 HOSTNAME "
                     "(FQDN, IP address or host name: letters, digits, '.', '-', '_', ':')", SYSLOG_HOSTNAME_MAX);
            return HOST_EXIT_USAGE;
        }
        so.hostname = host;
    }
    uint32_t pen = SYSLOG_PEN_DEFAULT;
    if (pen_s && parse_pen(pen_s, &pen)) {
        host_err("log show: --enterprise-number must be a private enterprise number: decimal digits, "
                 "1 to 4294967295, no sign or leading zero");
        return HOST_EXIT_USAGE;
    }
    snprintf(so.sd_id, sizeof so.sd_id, SYSLOG_SD_NAME "@%" PRIu32, pen);
    if (!syslog_token_ok(so.sd_id, SYSLOG_SDNAME_MAX, true)) {
        host_err("log show: SD-ID %s is not an RFC 5424 SD-NAME", so.sd_id);
        return HOST_EXIT_USAGE;
    }
    const show_fmt fmt = json ? SHOW_JSON : syslog ? SHOW_SYSLOG : SHOW_TEXT;
    bool first = true;
    rc = HOST_EXIT_OK;
    if (fmt == SHOW_JSON)
        printf("[");
    for (size_t i = 0; i < nf; i++) {
        uint8_t *buf;
        size_t len;
        if (host_read_file(files[i], HOST_FILE_MAX, &buf, &len)) {
            rc = HOST_EXIT_USAGE;
            break;
        }
        fs38_log_batch b;
        fs38_diag d;
        fs38_diag_clear(&d);
        if (fs38_log_batch_parse(buf, len, &b, &d) != FS38_OK) {
            fprintf(stderr, "log show: %s: %s\n", files[i], d.msg);
            rc = HOST_EXIT_REJECT;
            free(buf);
            continue;
        }
        if (fmt == SHOW_TEXT)
            printf("# batch %zu: %s (records from %" PRIu64 ", epoch %" PRIu64 "; not verified)\n", i + 1, files[i],
                   b.start, b.epoch);
        size_t pos = 0;
        while (pos < b.records_len) {
            fs38_log_frame f;
            if (fs38_log_frame_parse(b.records + pos, b.records_len - pos, &f) != FS38_OK) {
                fprintf(stderr, "log show: %s: no record at offset %zu (use fs38 log verify)\n", files[i],
                        b.records_off + pos);
                rc = HOST_EXIT_REJECT;
                break;
            }
            fs38_log_entry e;
            const bool decoded = fs38_log_decode(&f, &e) == FS38_OK;
            if (fmt == SHOW_JSON) {
                show_json((unsigned)(i + 1), &f, &e, decoded, &first);
            } else if (fmt == SHOW_SYSLOG) {
                show_syslog((unsigned)(i + 1), &f, &e, decoded, &so);
            } else {
                char desc[512];
                describe(&f, desc, sizeof desc);
                printf("seq %" PRIu32 "  %s\n", f.seq, desc);
            }
            pos += f.size;
        }
        free(buf);
    }
    if (fmt == SHOW_JSON)
        printf("%s]\n", first ? "" : "\n");
    return rc;
}

int cmd_log(int argc, char **argv)
{
    if (argc < 1) {
        usage_log(1);
        return HOST_EXIT_USAGE;
    }
    if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        usage_log(0);
        return HOST_EXIT_OK;
    }
    if (strcmp(argv[0], "verify") == 0)
        return log_verify(argc - 1, argv + 1);
    if (strcmp(argv[0], "show") == 0)
        return log_show(argc - 1, argv + 1);
    host_err("log: unknown command '%s' (verify, show)", argv[0]);
    usage_log(1);
    return HOST_EXIT_USAGE;
}
