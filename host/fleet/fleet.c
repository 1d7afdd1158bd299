/* SPDX-License-Identifier: Apache-2.0 */
/* fleet.c — the fleet library (fleet.h): database key, k0 encryption, enrolment, the collector's
 * per-batch verification and commit, alerts, attestation storage, status. */
#include "fleet.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include "db.h"
#include "fs38/cose.h"
#include "fs38/log.h"
#include "fs38/util.h"
#include "host.h"

#define GCM_NONCE 12u
#define GCM_TAG 16u

/* ---- small helpers ---------------------------------------------------------------------------- */

static void u64s(uint64_t v, char out[24])
{
    snprintf(out, 24, "%" PRIu64, v);
}

static void i64s(int64_t v, char out[24])
{
    snprintf(out, 24, "%" PRId64, v);
}

static void now_s(char out[24])
{
    snprintf(out, 24, "%lld", (long long)time(NULL));
}

static int parse_u64(const char *s, uint64_t *v)
{
    if (!s || !*s)
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end || s[0] == '-')
        return -1;
    *v = x;
    return 0;
}

/* Printable ASCII copy of n bytes (others as \xNN), for text columns and alert details: the
 * database never sees an invalid UTF-8 byte or a NUL. */
static void printable(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            out[k++] = (char)c;
        else
            k += (size_t)snprintf(out + k, cap - k, "\\x%02x", c);
    }
    out[k] = 0;
}

static char *hex_dup(const uint8_t *p, size_t n)
{
    char *s = malloc(2u * n + 1u);
    if (s)
        host_hex(p, n, s);
    return s;
}

static bool valid_ueid(const char *u)
{
    size_t n = strlen(u);
    if (n < 2 || n >= FLEET_UEID_MAX || n % 2)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f')))
            return false;
    return true;
}

/* ---- database key ------------------------------------------------------------------------------ */

int fleet_dbkey_load(const char *path, uint8_t key[FLEET_DBKEY_LEN])
{
    if (host_psa_init())
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
        uint8_t k[FLEET_DBKEY_LEN];
        int rc = -1;
        if (psa_generate_random(k, sizeof k) != PSA_SUCCESS)
            host_err("--db-key %s: no random bytes", path);
        else if (fchmod(fd, 0600) != 0 || write(fd, k, sizeof k) != (ssize_t)sizeof k || fsync(fd) != 0)
            host_err("--db-key %s: cannot write: %s", path, strerror(errno));
        else
            rc = 0;
        close(fd);
        if (rc) {
            unlink(path);
            fs38_wipe(k, sizeof k);
            return -1;
        }
        memcpy(key, k, sizeof k);
        fs38_wipe(k, sizeof k);
        return 0;
    }
    if (errno != EEXIST) {
        host_err("--db-key %s: cannot create: %s", path, strerror(errno));
        return -1;
    }
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        host_err("--db-key %s: cannot read: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
        host_err("--db-key %s: %s", path,
                 !S_ISREG(st.st_mode) ? "not a regular file" : "group or others may read it (chmod 600)");
        close(fd);
        return -1;
    }
    uint8_t buf[FLEET_DBKEY_LEN + 1];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n != (ssize_t)FLEET_DBKEY_LEN) {
        fs38_wipe(buf, sizeof buf);
        host_err("--db-key %s: not a database key (expected exactly %u bytes)", path, FLEET_DBKEY_LEN);
        return -1;
    }
    memcpy(key, buf, FLEET_DBKEY_LEN);
    fs38_wipe(buf, sizeof buf);
    return 0;
}

int fleet_open_keyed(const char *spec, const char *key_path, uint8_t key[FLEET_DBKEY_LEN], fleet_db **db)
{
    if (fleet_dbkey_load(key_path, key))
        return -1;
    if (fleet_db_open(spec, db)) {
        fs38_wipe(key, FLEET_DBKEY_LEN);
        return -1;
    }
    return 0;
}

static int gcm_key(const uint8_t dbkey[FLEET_DBKEY_LEN], psa_key_id_t *id)
{
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT);
    psa_set_key_algorithm(&at, PSA_ALG_GCM);
    psa_status_t st = psa_import_key(&at, dbkey, FLEET_DBKEY_LEN, id);
    psa_reset_key_attributes(&at);
    if (st != PSA_SUCCESS) {
        host_err("database key: cannot use it (PSA %d)", (int)st);
        return -1;
    }
    return 0;
}

/* hex(nonce || AES-256-GCM(k0) || tag), AAD = ueid. malloc'd in *out. */
static int k0_seal(const uint8_t dbkey[FLEET_DBKEY_LEN], const char *ueid, const uint8_t k0[FLEET_K0_LEN], char **out)
{
    psa_key_id_t id = 0;
    if (gcm_key(dbkey, &id))
        return -1;
    uint8_t blob[GCM_NONCE + FLEET_K0_LEN + GCM_TAG];
    size_t n = 0;
    int rc = -1;
    if (psa_generate_random(blob, GCM_NONCE) == PSA_SUCCESS &&
        psa_aead_encrypt(id, PSA_ALG_GCM, blob, GCM_NONCE, (const uint8_t *)ueid, strlen(ueid), k0, FLEET_K0_LEN,
                         blob + GCM_NONCE, sizeof blob - GCM_NONCE, &n) == PSA_SUCCESS &&
        n == FLEET_K0_LEN + GCM_TAG) {
        *out = hex_dup(blob, sizeof blob);
        rc = *out ? 0 : -1;
    }
    if (rc)
        host_err("database key: cannot encrypt the log key");
    psa_destroy_key(id);
    fs38_wipe(blob, sizeof blob);
    return rc;
}

static int k0_open(const uint8_t dbkey[FLEET_DBKEY_LEN], const char *ueid, const char *hex, uint8_t k0[FLEET_K0_LEN])
{
    uint8_t blob[GCM_NONCE + FLEET_K0_LEN + GCM_TAG];
    if (!hex || strlen(hex) != 2u * sizeof blob || host_unhex(hex, blob, sizeof blob)) {
        host_err("device %s: its encrypted log key in the database is damaged", ueid);
        return -1;
    }
    psa_key_id_t id = 0;
    if (gcm_key(dbkey, &id))
        return -1;
    size_t n = 0;
    psa_status_t st = psa_aead_decrypt(id, PSA_ALG_GCM, blob, GCM_NONCE, (const uint8_t *)ueid, strlen(ueid),
                                       blob + GCM_NONCE, sizeof blob - GCM_NONCE, k0, FLEET_K0_LEN, &n);
    psa_destroy_key(id);
    fs38_wipe(blob, sizeof blob);
    if (st != PSA_SUCCESS || n != FLEET_K0_LEN) {
        fs38_wipe(k0, FLEET_K0_LEN);
        host_err("device %s: its log key does not decrypt with this --db-key (another key, or a damaged or "
                 "moved row)", ueid);
        return -1;
    }
    return 0;
}

/* ---- enrolment -------------------------------------------------------------------------------- */

int fleet_cert_check(const char *ca_pem, const uint8_t *cert, size_t cert_len, char ueid[FLEET_UEID_MAX])
{
    mbedtls_x509_crt ca, crt;
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&crt);
    int rc = -1;
    int ret = mbedtls_x509_crt_parse(&ca, (const unsigned char *)ca_pem, strlen(ca_pem) + 1u);
    if (ret) {
        host_err("the CA certificate does not parse (Mbed TLS -0x%04x)", (unsigned)-ret);
        goto out;
    }
    /* PEM needs its NUL in the length */
    uint8_t *copy = malloc(cert_len + 1u);
    if (!copy) {
        host_err("out of memory");
        goto out;
    }
    memcpy(copy, cert, cert_len);
    copy[cert_len] = 0;
    const bool pem = cert_len > 10 && strstr((const char *)copy, "-----BEGIN") != NULL;
    ret = mbedtls_x509_crt_parse(&crt, copy, pem ? cert_len + 1u : cert_len);
    free(copy);
    if (ret) {
        host_err("the device certificate does not parse (Mbed TLS -0x%04x)", (unsigned)-ret);
        rc = 1;
        goto out;
    }
    uint32_t flags = 0;
    ret = mbedtls_x509_crt_verify(&crt, &ca, NULL, NULL, &flags, NULL, NULL);
    if (ret) {
        char why[256];
        mbedtls_x509_crt_verify_info(why, sizeof why, "", flags);
        for (char *p = why; *p; p++)
            if (*p == '\n')
                *p = ';';
        host_err("the device certificate does not chain to the CA: %s", why[0] ? why : "verification failed");
        rc = 1;
        goto out;
    }
    char serial[FLEET_UEID_MAX], cn[FLEET_UEID_MAX] = "";
    if (host_x509_serial_number(&crt.subject, serial, sizeof serial)) {
        host_err("the device certificate has no UEID (subject serialNumber)");
        rc = 1;
        goto out;
    }
    for (const mbedtls_x509_name *n = &crt.subject; n; n = n->next)
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0 && n->val.len < sizeof cn) {
            memcpy(cn, n->val.p, n->val.len);
            cn[n->val.len] = 0;
        }
    for (char *p = serial; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    if (!valid_ueid(serial) || strcmp(serial, cn) != 0) {
        host_err("the device certificate's UEID (serialNumber) is not hex equal to its CN (the broker's user name)");
        rc = 1;
        goto out;
    }
    memcpy(ueid, serial, strlen(serial) + 1u);
    rc = 0;
out:
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&crt);
    return rc;
}

int fleet_ca_get(fleet_db *db, char **pem)
{
    *pem = NULL;
    db_rows r;
    const char *p[] = { "ca_pem" };
    if (db_query(db, "SELECT value FROM fleet_config WHERE key = $1", 1, p, &r))
        return -1;
    if (db_cell(&r, 0, 0)) {
        *pem = strdup(db_cell(&r, 0, 0));
        if (!*pem) {
            db_rows_free(&r);
            return -1;
        }
    }
    db_rows_free(&r);
    return 0;
}

int fleet_ca_set(fleet_db *db, const char *pem)
{
    const char *p[] = { "ca_pem", pem };
    return db_exec(db,
                   "INSERT INTO fleet_config(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = "
                   "excluded.value",
                   2, p);
}

int fleet_enroll(fleet_db *db, const uint8_t dbkey[FLEET_DBKEY_LEN], const char *ueid, const char *cert_pem,
                 const char *class_id, const uint8_t k0[FLEET_K0_LEN])
{
    if (!valid_ueid(ueid)) {
        host_err("enroll: '%s' is not a UEID in lower-case hex", ueid);
        return -1;
    }
    char *enc = NULL;
    if (k0_seal(dbkey, ueid, k0, &enc))
        return -1;
    char zeros[2 * FS38_LOG_MAC_LEN + 1];
    memset(zeros, '0', sizeof zeros - 1u);
    zeros[sizeof zeros - 1u] = 0;
    char now[24];
    now_s(now);
    int rc = -1;
    if (db_begin(db) == 0) {
        db_rows r;
        const char *q[] = { ueid };
        if (db_query(db, "SELECT 1 FROM fleet_devices WHERE ueid = $1", 1, q, &r) == 0) {
            const bool exists = r.nrows > 0;
            db_rows_free(&r);
            if (exists) {
                db_rollback(db);
                fs38_wipe(enc, strlen(enc));
                free(enc);
                host_err("enroll: device %s is already enrolled (its log key and position are kept)", ueid);
                return 1;
            }
            const char *p[] = { ueid, cert_pem, class_id, enc, zeros, now };
            if (db_exec(db,
                        "INSERT INTO fleet_devices(ueid, cert_pem, class_id, k0_enc, head, enrolled_at) VALUES "
                        "($1, $2, $3, $4, $5, $6)",
                        6, p) == 0 &&
                db_commit(db) == 0)
                rc = 0;
        }
        if (rc)
            db_rollback(db);
    }
    fs38_wipe(enc, strlen(enc));
    free(enc);
    return rc;
}

/* ---- alerts ----------------------------------------------------------------------------------- */

int fleet_alert(fleet_db *db, const char *ueid, const char *kind, const char *detail)
{
    char now[24], det[512];
    now_s(now);
    printable(detail, strlen(detail), det, sizeof det);
    const char *p[] = { ueid, kind, det, now };
    return db_exec(db, "INSERT INTO fleet_alerts(ueid, kind, detail, at) VALUES ($1, $2, $3, $4)", 4, p);
}

/* ---- ack payload -------------------------------------------------------------------------------- */

size_t fleet_ack_encode(uint64_t seq, uint8_t out[9])
{
    if (seq < 24) {
        out[0] = (uint8_t)seq;
        return 1;
    }
    unsigned n = seq <= 0xffu ? 1u : seq <= 0xffffu ? 2u : seq <= 0xffffffffu ? 4u : 8u;
    out[0] = (uint8_t)(n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27);
    for (unsigned i = 0; i < n; i++)
        out[1 + i] = (uint8_t)(seq >> (8u * (n - 1u - i)));
    return 1u + n;
}

int fleet_ack_decode(const uint8_t *p, size_t len, uint64_t *seq)
{
    if (!p || len == 0 || (p[0] >> 5) != 0)
        return -1;
    unsigned ai = p[0] & 31u;
    if (ai < 24) {
        if (len != 1)
            return -1;
        *seq = ai;
        return 0;
    }
    unsigned n = ai == 24 ? 1u : ai == 25 ? 2u : ai == 26 ? 4u : ai == 27 ? 8u : 0u;
    if (!n || len != 1u + n)
        return -1;
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = (v << 8) | p[1 + i];
    *seq = v;
    return 0;
}

/* ---- the collector: one batch ---------------------------------------------------------------------- */

typedef struct new_rec {
    uint64_t seq;
    uint32_t epoch;
    uint8_t kind;
    bool event;
    int64_t code, arg;
    char *raw;     /* hex */
    char *detail;  /* printable, events only */
} new_rec;

typedef struct finding_text {
    unsigned count;
    char text[400];
} finding_text;

typedef struct vctx {
    uint64_t resume_next;
    bool finishing;
    new_rec *recs;
    size_t n, cap;
    bool oom;
    unsigned overlap;
    uint64_t overlap_from, overlap_to;
    finding_text forgery, missing, lost, trunc, replay;
    bool finish_trunc; /* the only truncation is finish's "no checkpoint" */
} vctx;

static void note(finding_text *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(finding_text *f, const char *fmt, ...)
{
    f->count++;
    size_t used = strlen(f->text);
    if (f->count > 4) {
        if (f->count == 5 && used + 6 < sizeof f->text)
            memcpy(f->text + used, "; ...", 6);
        return;
    }
    if (used && used + 2 < sizeof f->text) {
        memcpy(f->text + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->text + used, sizeof f->text - used, fmt, ap);
    va_end(ap);
}

static void on_item(void *user, const fs38_logv_item *it)
{
    vctx *c = user;
    switch (it->kind) {
    case FS38_LOGV_OK: {
        if (!it->frame)
            return;
        if (c->n == c->cap) {
            size_t ncap = c->cap ? 2u * c->cap : 64u;
            new_rec *p = realloc(c->recs, ncap * sizeof *p);
            if (!p) {
                c->oom = true;
                return;
            }
            c->recs = p;
            c->cap = ncap;
        }
        new_rec *r = &c->recs[c->n];
        memset(r, 0, sizeof *r);
        r->seq = it->from;
        r->epoch = it->epoch;
        r->kind = it->frame->kind;
        r->raw = hex_dup(it->frame->start, it->frame->size);
        if (!r->raw) {
            c->oom = true;
            return;
        }
        fs38_log_entry e;
        if (r->kind == FS38_LOG_EVENT && fs38_log_decode(it->frame, &e) == FS38_OK) {
            r->event = true;
            r->code = e.code;
            r->arg = e.arg;
            char det[FS38_LOG_DETAIL_MAX * 4 + 8];
            printable(e.detail ? e.detail : "", e.detail_len, det, sizeof det);
            r->detail = strdup(det);
            if (!r->detail) {
                free(r->raw);
                c->oom = true;
                return;
            }
        }
        c->n++;
        if (it->unproven)
            note(&c->forgery, "seq %" PRIu64 ": authentic only across a break (epoch unproven)", it->from);
        return;
    }
    case FS38_LOGV_NOTE:
        return;
    case FS38_LOGV_REPLAYED:
        if (it->has_seq && it->from < c->resume_next) {
            if (!c->overlap || it->from < c->overlap_from)
                c->overlap_from = it->from;
            if (!c->overlap || it->from > c->overlap_to)
                c->overlap_to = it->from;
            c->overlap++;
            return;
        }
        note(&c->replay, "seq %" PRIu64 ": %s", it->from, it->why);
        return;
    case FS38_LOGV_MISSING:
        note(&c->missing, "missing %" PRIu64 "..%" PRIu64 " (%s)", it->from, it->to, it->why);
        return;
    case FS38_LOGV_LOST:
    case FS38_LOGV_RELEASED:
        note(&c->lost, "%s %" PRIu64 "..%" PRIu64 " (%s)", fs38_logv_name(it->kind), it->from, it->to, it->why);
        return;
    case FS38_LOGV_TRUNCATED:
        if (c->finishing && c->trunc.count == 0)
            c->finish_trunc = true;
        else
            c->finish_trunc = false;
        if (it->has_seq)
            note(&c->trunc, "truncated after %" PRIu64 " (%s)", it->from, it->why);
        else
            note(&c->trunc, "truncated (%s)", it->why);
        return;
    default:
        if (it->has_seq)
            note(&c->forgery, "seq %" PRIu64 ": %s (%s)", it->from, fs38_logv_name(it->kind), it->why);
        else
            note(&c->forgery, "%s at offset %zu (%s)", fs38_logv_name(it->kind), it->offset, it->why);
        return;
    }
}

static void vctx_free(vctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->recs[i].raw);
        free(c->recs[i].detail);
    }
    free(c->recs);
}

/* Firmware state from verified events (FLEET-WIRE): the last update event decides. */
typedef struct fw_state {
    bool have_seq, have_running;
    int64_t seq, running;
    char state[16];
} fw_state;

static void fw_apply(fw_state *fw, const new_rec *r)
{
    if (!r->event)
        return;
    switch (r->code) {
    case FS38_EV_BOOT_OK:
        fw->running = r->arg;
        fw->have_running = true;
        return;
    case FS38_EV_UPDATE_INSTALLED:
        snprintf(fw->state, sizeof fw->state, "installed");
        fw->seq = r->arg;
        fw->have_seq = true;
        return;
    case FS38_EV_UPDATE_CONFIRMED:
        snprintf(fw->state, sizeof fw->state, "confirmed");
        fw->seq = r->arg;
        fw->have_seq = true;
        return;
    case FS38_EV_BOOT_REVERTED:
        snprintf(fw->state, sizeof fw->state, "reverted");
        fw->seq = r->arg;
        fw->have_seq = true;
        return;
    case FS38_EV_ROLLBACK_REFUSED:
        snprintf(fw->state, sizeof fw->state, "refused");
        fw->seq = r->arg; /* the offered sequence */
        fw->have_seq = true;
        return;
    case FS38_EV_UPDATE_REJECTED:
        snprintf(fw->state, sizeof fw->state, "refused"); /* arg is an fs38_err, not a sequence */
        return;
    default:
        return;
    }
}

static int opt_i64(const char *s, bool *have, int64_t *v)
{
    *have = false;
    if (!s)
        return 0;
    char *end = NULL;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || !*s || *end)
        return -1;
    *v = x;
    *have = true;
    return 0;
}

static int seen_digest(fleet_db *db, const char *ueid, const char *digest, bool *seen)
{
    db_rows r;
    const char *p[] = { ueid, digest };
    if (db_query(db, "SELECT 1 FROM fleet_batches WHERE ueid = $1 AND digest = $2", 2, p, &r))
        return -1;
    *seen = r.nrows > 0;
    db_rows_free(&r);
    return 0;
}

static int put_digest(fleet_db *db, const char *ueid, const char *digest)
{
    char now[24];
    now_s(now);
    const char *p[] = { ueid, digest, now };
    return db_exec(db,
                   "INSERT INTO fleet_batches(ueid, digest, at) VALUES ($1, $2, $3) ON CONFLICT (ueid, digest) DO "
                   "NOTHING",
                   3, p);
}

/* The P-256 public point of the enrolled certificate (PEM text). 0 or -1 (printed). */
static int cert_point_of(const char *ueid, const char *pem, uint8_t point[HOST_P256_POINT_LEN])
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    int rc = -1;
    if (!pem || mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, strlen(pem) + 1u) != 0)
        host_err("device %s: its certificate in the database is damaged", ueid);
    else if (host_pk_point(&crt.pk, point))
        host_err("device %s: its certificate's key is not a usable P-256 key", ueid);
    else
        rc = 0;
    mbedtls_x509_crt_free(&crt);
    return rc;
}

/* Everything of one batch inside the open transaction. 0 or -1 (caller rolls back). */
static int collect_tx(fleet_db *db, const uint8_t dbkey[FLEET_DBKEY_LEN], const char *ueid, const uint8_t *batch,
                      size_t len, const char *digest, fleet_result *res)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT k0_enc, next_seq, epoch, head, fw_seq, fw_state, fw_running, last_digest, cert_pem FROM "
             "fleet_devices WHERE "
             "ueid = "
             "$1%s",
             db_for_update(db));
    db_rows dev;
    const char *q[] = { ueid };
    if (db_query(db, sql, 1, q, &dev))
        return -1;
    if (dev.nrows == 0) {
        db_rows_free(&dev);
        /* an unenrolled device's batch raises its alert once (a redelivery is recognised) */
        bool seen = false;
        if (seen_digest(db, ueid, digest, &seen))
            return -1;
        if (seen) {
            res->outcome = FLEET_DUPLICATE;
            snprintf(res->summary, sizeof res->summary, "unenrolled device, batch already seen");
            return 0;
        }
        res->outcome = FLEET_UNENROLLED;
        res->alerts = 1;
        snprintf(res->summary, sizeof res->summary, "unenrolled device: %zu-byte batch not verified, alert raised",
                 len);
        char det[160];
        snprintf(det, sizeof det, "a %zu-byte log batch from a device that is not enrolled (no log key)", len);
        return fleet_alert(db, ueid, "unenrolled", det) || put_digest(db, ueid, digest) ? -1 : 0;
    }
    uint64_t next = 0, epoch = 0;
    fs38_log_vstate st;
    memset(&st, 0, sizeof st);
    if (parse_u64(db_cell(&dev, 0, 1), &next) || parse_u64(db_cell(&dev, 0, 2), &epoch) || epoch > UINT32_MAX ||
        !db_cell(&dev, 0, 3) || host_unhex(db_cell(&dev, 0, 3), st.head, sizeof st.head)) {
        host_err("device %s: its position in the database is damaged", ueid);
        db_rows_free(&dev);
        return -1;
    }
    st.next = next;
    st.epoch = (uint32_t)epoch;
    res->next = next;
    /* the batch handled last for this device again: a QoS 1 redelivery (e.g. after a collector
     * crash between its commit and its PUBACK reaching the broker). Any other batch is verified,
     * so an old batch replayed later is named "replay". */
    const char *last = db_cell(&dev, 0, 7);
    if (last && strcmp(last, digest) == 0) {
        db_rows_free(&dev);
        res->outcome = FLEET_DUPLICATE;
        res->ack = next > 0;
        snprintf(res->summary, sizeof res->summary, "batch already handled (redelivery): nothing stored");
        return 0;
    }
    fw_state fw;
    memset(&fw, 0, sizeof fw);
    snprintf(fw.state, sizeof fw.state, "%s", db_cell(&dev, 0, 5) ? db_cell(&dev, 0, 5) : "unknown");
    if (opt_i64(db_cell(&dev, 0, 4), &fw.have_seq, &fw.seq) || opt_i64(db_cell(&dev, 0, 6), &fw.have_running, &fw.running)) {
        host_err("device %s: its firmware state in the database is damaged", ueid);
        db_rows_free(&dev);
        return -1;
    }
    /* the enrolled certificate's key checks the checkpoint signatures: a batch whose MAC chain
     * holds (k0) but whose closing checkpoint the device key did not sign is a forgery */
    uint8_t point[HOST_P256_POINT_LEN];
    if (cert_point_of(ueid, db_cell(&dev, 0, 8), point)) {
        db_rows_free(&dev);
        return -1;
    }
    uint8_t k0[FLEET_K0_LEN];
    if (k0_open(dbkey, ueid, db_cell(&dev, 0, 0), k0)) {
        db_rows_free(&dev);
        return -1;
    }
    db_rows_free(&dev);
    fs38_keyring kr;
    fs38_keyring_init(&kr);
    if (fs38_keyring_add_p256(&kr, point, sizeof point)) {
        fs38_wipe(k0, sizeof k0);
        host_err("device %s: its certificate key cannot check signatures", ueid);
        return -1;
    }

    vctx c;
    memset(&c, 0, sizeof c);
    c.resume_next = next;
    fs38_log_verifier *v = calloc(1, sizeof *v);
    if (!v) {
        fs38_wipe(k0, sizeof k0);
        fs38_keyring_free(&kr);
        host_err("out of memory");
        return -1;
    }
    fs38_log_verify_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.k0 = k0;
    cfg.resume = next ? &st : NULL;
    cfg.signers = &kr;
    cfg.report = on_item;
    cfg.user = &c;
    fs38_err e = fs38_log_verify_init(v, &cfg);
    fs38_wipe(k0, sizeof k0);
    fs38_log_vstate out;
    memset(&out, 0, sizeof out);
    if (!e)
        e = fs38_log_verify_batch(v, batch, len);
    if (!e) {
        c.finishing = true;
        e = fs38_log_verify_finish(v, &out);
        if (e == FS38_ERR_LOG_VERIFY)
            e = FS38_OK; /* our own verdict below (re-exported records count as replayed there) */
    }
    fs38_log_verify_free(v);
    free(v);
    fs38_keyring_free(&kr);
    if (e || c.oom) {
        host_err("device %s: verification failed to run: %s", ueid, c.oom ? "out of memory" : fs38_strerror(e));
        vctx_free(&c);
        return -1;
    }
    res->overlap = c.overlap;
    int rc = 0;
    const bool only_stale = c.n == 0 && c.forgery.count == 0 && c.missing.count == 0 && c.lost.count == 0 &&
                            c.replay.count == 0 && (c.trunc.count == 0 || (c.trunc.count == 1 && c.finish_trunc));
    bool stale_seen = false;
    if (only_stale && seen_digest(db, ueid, digest, &stale_seen)) {
        vctx_free(&c);
        return -1;
    }
    if (only_stale && !stale_seen) {
        /* nothing new, and these bytes never came before: an older export delivered after a newer
         * one (two collectors in a share group, or a device that pushed again before its ack).
         * Every record in it is already verified and stored: a duplicate, not an attack. */
        res->outcome = FLEET_DUPLICATE;
        res->ack = next > 0;
        if (c.overlap)
            snprintf(res->summary, sizeof res->summary,
                     "older batch delivered late: records %" PRIu64 "..%" PRIu64
                     " already verified (position %" PRIu64 "); nothing stored",
                     c.overlap_from, c.overlap_to, next);
        else
            snprintf(res->summary, sizeof res->summary,
                     "older batch delivered late: nothing new after position %" PRIu64, next);
    } else if (only_stale) {
        /* nothing new, and a batch handled before (not the last one: that is a redelivery): the
         * same bytes sent again later — a replayed batch */
        res->outcome = FLEET_REJECTED;
        char det[256];
        if (c.overlap)
            snprintf(det, sizeof det,
                     "replayed batch: records %" PRIu64 "..%" PRIu64 " were already verified (position %" PRIu64
                     "); nothing new",
                     c.overlap_from, c.overlap_to, next);
        else
            snprintf(det, sizeof det, "replayed batch: nothing new after position %" PRIu64, next);
        rc = fleet_alert(db, ueid, "replay", det);
        res->alerts = 1;
        snprintf(res->summary, sizeof res->summary, "%s", det);
    } else if (c.forgery.count || c.missing.count || c.trunc.count || c.replay.count) {
        res->outcome = FLEET_REJECTED;
        if (c.forgery.count && !rc) {
            rc = fleet_alert(db, ueid, "forgery", c.forgery.text);
            res->alerts++;
        }
        if (c.replay.count && !rc) {
            rc = fleet_alert(db, ueid, "replay", c.replay.text);
            res->alerts++;
        }
        if ((c.missing.count || c.lost.count) && !rc) {
            char det[820];
            snprintf(det, sizeof det, "%s%s%s", c.missing.text, c.missing.count && c.lost.count ? "; " : "",
                     c.lost.text);
            rc = fleet_alert(db, ueid, "gap", det);
            res->alerts++;
        }
        if (c.trunc.count && !rc) {
            rc = fleet_alert(db, ueid, "truncation", c.trunc.text);
            res->alerts++;
        }
        char kinds[64] = "";
        if (c.forgery.count)
            strcat(kinds, " forgery");
        if (c.replay.count)
            strcat(kinds, " replay");
        if (c.missing.count || c.lost.count)
            strcat(kinds, " gap");
        if (c.trunc.count)
            strcat(kinds, " truncation");
        snprintf(res->summary, sizeof res->summary, "rejected (%s): nothing stored", kinds + 1);
    } else {
        /* verified (records the device itself reports lost are a gap alert, but the chain goes on) */
        res->outcome = FLEET_STORED;
        char seq[24], ep[24], kind[24], code[24], arg[24];
        for (size_t i = 0; i < c.n && !rc; i++) {
            const new_rec *r = &c.recs[i];
            u64s(r->seq, seq);
            u64s(r->epoch, ep);
            u64s(r->kind, kind);
            i64s(r->code, code);
            i64s(r->arg, arg);
            const char *p[] = { ueid, seq, kind, ep, r->event ? code : NULL, r->event ? arg : NULL, r->detail, r->raw };
            rc = db_exec(db,
                         "INSERT INTO fleet_records(ueid, seq, kind, epoch, code, arg, detail, raw) VALUES ($1, $2, "
                         "$3, $4, $5, $6, $7, $8)",
                         8, p);
            fw_apply(&fw, r);
        }
        if (!rc) {
            char nx[24], epo[24], cnt[24], fseq[24], frun[24], head[2 * FS38_LOG_MAC_LEN + 1];
            u64s(out.next, nx);
            u64s(out.epoch, epo);
            u64s(c.n, cnt);
            i64s(fw.seq, fseq);
            i64s(fw.running, frun);
            host_hex(out.head, sizeof out.head, head);
            const char *p[] = { ueid, nx, epo, head, cnt, fw.have_seq ? fseq : NULL, fw.state,
                                fw.have_running ? frun : NULL };
            rc = db_exec(db,
                         "UPDATE fleet_devices SET next_seq = $2, epoch = $3, head = $4, records = records + $5, "
                         "fw_seq = $6, fw_state = $7, fw_running = $8 WHERE ueid = $1",
                         8, p);
        }
        if (!rc && c.lost.count) {
            rc = fleet_alert(db, ueid, "gap", c.lost.text);
            res->alerts++;
        }
        res->stored = (uint32_t)c.n;
        res->next = out.next;
        res->ack = out.next > 0;
        if (c.n)
            snprintf(res->summary, sizeof res->summary,
                     "verified: %zu new record(s) %" PRIu64 "..%" PRIu64 " stored, %u already stored, position %" PRIu64,
                     c.n, c.recs[0].seq, c.recs[c.n - 1].seq, c.overlap, out.next);
        else
            snprintf(res->summary, sizeof res->summary, "verified: nothing new, position %" PRIu64, out.next);
    }
    if (!rc)
        rc = put_digest(db, ueid, digest);
    if (!rc) {
        const char *p[] = { ueid, digest };
        rc = db_exec(db, "UPDATE fleet_devices SET last_digest = $2 WHERE ueid = $1", 2, p);
    }
    vctx_free(&c);
    return rc;
}

/* One batch inside the caller's open transaction. 0 (res filled) or -1. */
static int collect_one(fleet_db *db, const uint8_t dbkey[FLEET_DBKEY_LEN], const char *ueid, const uint8_t *batch,
                       size_t len, fleet_result *res)
{
    memset(res, 0, sizeof *res);
    if (!valid_ueid(ueid)) {
        /* the broker's ACL makes the topic level a device's CN: anything else is not ours */
        res->outcome = FLEET_UNENROLLED;
        snprintf(res->summary, sizeof res->summary, "the topic level is not a UEID in lower-case hex: ignored");
        return 0;
    }
    uint8_t d[32];
    size_t dl = 0;
    if (psa_hash_compute(PSA_ALG_SHA_256, batch, len, d, sizeof d, &dl) != PSA_SUCCESS) {
        host_err("collect: SHA-256 failed");
        return -1;
    }
    char digest[65];
    host_hex(d, sizeof d, digest);
    return collect_tx(db, dbkey, ueid, batch, len, digest, res);
}

int fleet_collect_batch(fleet_db *db, const uint8_t dbkey[FLEET_DBKEY_LEN], const char *ueid, const uint8_t *batch,
                        size_t len, fleet_result *res)
{
    const fleet_batch_in in = { .ueid = ueid, .batch = batch, .len = len };
    return fleet_collect_many(db, dbkey, 1, &in, res);
}

static const fleet_batch_in *g_sort_in;

static int by_ueid(const void *a, const void *b)
{
    const size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(g_sort_in[i].ueid, g_sort_in[j].ueid);
    return c ? c : (i < j ? -1 : i > j);
}

int fleet_collect_many(fleet_db *db, const uint8_t dbkey[FLEET_DBKEY_LEN], size_t n, const fleet_batch_in *in,
                       fleet_result *res)
{
    if (n == 0)
        return 0;
    if (host_psa_init())
        return -1;
    size_t *order = malloc(n * sizeof *order);
    if (!order) {
        host_err("collect: out of memory");
        return -1;
    }
    /* one lock order for every collector (UEID, then arrival): two transactions that lock the
     * same devices wait for each other, never deadlock; a device's batches keep their order */
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    g_sort_in = in;
    qsort(order, n, sizeof *order, by_ueid);
    int rc = db_begin(db);
    for (size_t k = 0; k < n && !rc; k++) {
        const fleet_batch_in *b = &in[order[k]];
        rc = collect_one(db, dbkey, b->ueid, b->batch, b->len, &res[order[k]]);
    }
    if (!rc)
        rc = db_commit(db);
    if (rc) {
        db_rollback(db);
        memset(res, 0, n * sizeof *res);
    }
    free(order);
    return rc ? -1 : 0;
}

/* ---- attestation ------------------------------------------------------------------------------- */

int fleet_challenge_put(fleet_db *db, const char *ueid, const uint8_t *nonce, size_t len)
{
    char *hex = hex_dup(nonce, len);
    if (!hex)
        return -1;
    char now[24];
    now_s(now);
    const char *p[] = { ueid, hex, now };
    int rc = db_exec(db,
                     "INSERT INTO fleet_challenges(ueid, nonce, at) VALUES ($1, $2, $3) ON CONFLICT (ueid) DO UPDATE "
                     "SET nonce = excluded.nonce, at = excluded.at",
                     3, p);
    free(hex);
    return rc;
}

int fleet_challenge_get(fleet_db *db, const char *ueid, char **pem, uint8_t *nonce, size_t cap, size_t *len)
{
    *pem = NULL;
    *len = 0;
    db_rows r;
    const char *p[] = { ueid };
    if (db_query(db,
                 "SELECT d.cert_pem, c.nonce FROM fleet_devices d LEFT JOIN fleet_challenges c ON c.ueid = d.ueid "
                 "WHERE d.ueid = $1",
                 1, p, &r))
        return -1;
    int rc = 1;
    const char *cert = db_cell(&r, 0, 0), *hex = db_cell(&r, 0, 1);
    if (cert && hex && strlen(hex) / 2u <= cap && strlen(hex) % 2u == 0 && host_unhex(hex, nonce, strlen(hex) / 2u) == 0) {
        *pem = strdup(cert);
        *len = strlen(hex) / 2u;
        rc = *pem ? 0 : -1;
    }
    db_rows_free(&r);
    return rc;
}

int fleet_attestation_put(fleet_db *db, const char *ueid, const char *claims_json)
{
    char now[24];
    now_s(now);
    const char *p[] = { ueid, claims_json, now };
    if (db_begin(db))
        return -1;
    if (db_exec(db, "UPDATE fleet_devices SET attestation = $2, attested_at = $3 WHERE ueid = $1", 3, p) ||
        db_exec(db, "DELETE FROM fleet_challenges WHERE ueid = $1", 1, p) || db_commit(db)) {
        db_rollback(db);
        return -1;
    }
    return 0;
}

int fleet_device_list(fleet_db *db, char (**ueids)[FLEET_UEID_MAX], size_t *n)
{
    *ueids = NULL;
    *n = 0;
    db_rows r;
    if (db_query(db, "SELECT ueid FROM fleet_devices ORDER BY ueid", 0, NULL, &r))
        return -1;
    if (r.nrows) {
        *ueids = calloc(r.nrows, sizeof **ueids);
        if (!*ueids) {
            db_rows_free(&r);
            return -1;
        }
        for (size_t i = 0; i < r.nrows; i++)
            snprintf((*ueids)[i], FLEET_UEID_MAX, "%s", db_cell(&r, i, 0));
        *n = r.nrows;
    }
    db_rows_free(&r);
    return 0;
}

/* ---- status ------------------------------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_num_or_null(FILE *f, const char *s)
{
    int64_t v;
    bool have;
    if (opt_i64(s, &have, &v) == 0 && have)
        fprintf(f, "%" PRId64, v);
    else
        fputs("null", f);
}

int fleet_status(fleet_db *db, FILE *out, bool json)
{
    db_rows dev, al;
    if (db_query(db,
                 "SELECT ueid, records, next_seq, fw_seq, fw_state, fw_running, attestation, 1 FROM fleet_devices "
                 "UNION ALL SELECT DISTINCT ueid, 0, 0, CAST(NULL AS BIGINT), 'unknown', CAST(NULL AS BIGINT), "
                 "CAST(NULL AS TEXT), 0 FROM fleet_alerts WHERE ueid "
                 "NOT IN (SELECT ueid FROM fleet_devices) ORDER BY 1",
                 0, NULL, &dev))
        return -1;
    if (db_query(db, "SELECT ueid, kind, detail FROM fleet_alerts ORDER BY ueid, id", 0, NULL, &al)) {
        db_rows_free(&dev);
        return -1;
    }
    if (json)
        fputs("{\"devices\":[", out);
    size_t a = 0;
    for (size_t i = 0; i < dev.nrows; i++) {
        const char *ueid = db_cell(&dev, i, 0);
        const bool enrolled = strcmp(db_cell(&dev, i, 7), "1") == 0;
        uint64_t next = 0;
        (void)parse_u64(db_cell(&dev, i, 2), &next);
        const char *att = db_cell(&dev, i, 6);
        /* the alerts are sorted by ueid like the devices */
        while (a < al.nrows && strcmp(db_cell(&al, a, 0), ueid) < 0)
            a++;
        size_t a_end = a;
        while (a_end < al.nrows && strcmp(db_cell(&al, a_end, 0), ueid) == 0)
            a_end++;
        if (json) {
            fprintf(out, "%s{\"ueid\":", i ? "," : "");
            json_str(out, ueid);
            fprintf(out, ",\"enrolled\":%s,\"records\":", enrolled ? "true" : "false");
            json_num_or_null(out, db_cell(&dev, i, 1));
            fputs(",\"last_sequence\":", out);
            if (next)
                fprintf(out, "%" PRIu64, next - 1u);
            else
                fputs("null", out);
            fputs(",\"firmware\":{\"sequence\":", out);
            json_num_or_null(out, db_cell(&dev, i, 3));
            fputs(",\"state\":", out);
            json_str(out, db_cell(&dev, i, 4));
            fputs(",\"running\":", out);
            json_num_or_null(out, db_cell(&dev, i, 5));
            fprintf(out, "},\"attestation\":%s,\"alerts\":[", att ? att : "null");
            for (size_t k = a; k < a_end; k++) {
                fprintf(out, "%s{\"kind\":", k > a ? "," : "");
                json_str(out, db_cell(&al, k, 1));
                fputs(",\"detail\":", out);
                json_str(out, db_cell(&al, k, 2));
                fputc('}', out);
            }
            fputs("]}", out);
        } else {
            fprintf(out, "%s%s: %s records, ", ueid, enrolled ? "" : " (not enrolled)", db_cell(&dev, i, 1));
            if (next)
                fprintf(out, "last sequence %" PRIu64, next - 1u);
            else
                fputs("no record yet", out);
            fprintf(out, ", firmware %s", db_cell(&dev, i, 4));
            if (db_cell(&dev, i, 3))
                fprintf(out, " (sequence %s)", db_cell(&dev, i, 3));
            fprintf(out, ", %s, %zu alert(s)\n", att ? "attested" : "not attested", a_end - a);
            for (size_t k = a; k < a_end; k++)
                fprintf(out, "  alert %s: %s\n", db_cell(&al, k, 1), db_cell(&al, k, 2));
        }
        a = a_end;
    }
    if (json)
        fputs("]}\n", out);
    db_rows_free(&dev);
    db_rows_free(&al);
    return 0;
}
