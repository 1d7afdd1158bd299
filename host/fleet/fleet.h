/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fleet.h — the fleet side of fs38 (issue 11) as a library: the fleet database (SQLite file or
 * PostgreSQL URL, one interface), the database key that encrypts each device's log key k0, device
 * enrolment, the collector's per-batch verification + commit, alerts, and the status report.
 * Used by `fs38 fleet ...` / `fs38 collect` (tools/) and linkable by the fleet simulator
 * (bench/fleet, scripts/fleet-sim). Host code: stdio and malloc are fine here. MQTT is not in
 * this library (the caller owns the connection); the wire contract is FLEET-WIRE / docs/fleet.md.
 *
 * Conventions: functions returning int give 0 on success and -1 after printing one line
 * "<prog>: <what>: <why>" on stderr (host_err); nothing secret is ever printed. A failed call
 * changes nothing in the database (its transaction is rolled back).
 *
 * Database (created on first use by fleet_db_open, the same tables on both engines):
 *   fleet_config(key, value)               the CA certificate the devices chain to ("ca_pem")
 *   fleet_devices(ueid PK, cert_pem, class_id, k0_enc, next_seq, epoch, head, records,
 *                 fw_seq, fw_state, fw_running, enrolled_at, attested_at, attestation, last_digest)
 *       k0_enc = hex(nonce 12 || AES-256-GCM(db key, k0) || tag 16), AAD = the UEID text;
 *       (next_seq, epoch, head) = where the verified chain ends (fs38_log_vstate): the position.
 *   fleet_records(ueid, seq, kind, epoch, code, arg, detail, raw) PK (ueid, seq): each verified
 *       record exactly once (raw = the record's bytes, hex).
 *       last_digest = SHA-256 of the batch handled last (its QoS 1 redelivery is a duplicate).
 *   fleet_batches(ueid, digest) PK: SHA-256 of each batch handled (an unenrolled device's
 *       redelivered batch raises no second alert).
 *   fleet_alerts(id, ueid, kind, detail, at): kind gap | truncation | forgery | replay |
 *       unenrolled | attestation.
 *   fleet_challenges(ueid PK, nonce, at): the outstanding attestation challenge.
 */
#ifndef FS38_HOST_FLEET_H
#define FS38_HOST_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FLEET_DBKEY_LEN 32u
#define FLEET_K0_LEN 32u
#define FLEET_UEID_MAX 80u /* UEID hex text, NUL included */

/* ---- database ------------------------------------------------------------------------------ */

typedef struct fleet_db fleet_db;

/**
 * Open (and on first use create the tables of) the fleet database.
 * spec: a SQLite file path (created when absent; WAL journal, waits up to 30 s for another
 * process's write lock), or a "postgresql://" / "postgres://" URL (libpq connection URI).
 * *out: the handle on success (close with fleet_db_close). 0 or -1 (printed).
 */
int fleet_db_open(const char *spec, fleet_db **out);
/* Close a handle (NULL is ignored). */
void fleet_db_close(fleet_db *db);
/* true for PostgreSQL, false for SQLite. */
bool fleet_db_is_pg(const fleet_db *db);

/**
 * Load the database key from path: exactly FLEET_DBKEY_LEN bytes, a regular file that group and
 * others cannot read; when path does not exist it is created with FLEET_DBKEY_LEN random bytes
 * (PSA RNG) and mode 0600 (O_EXCL: two processes never make two keys). 0 or -1 (printed).
 * The key is secret: wipe it (fs38_wipe) when done.
 */
int fleet_dbkey_load(const char *path, uint8_t key[FLEET_DBKEY_LEN]);

/* fleet_dbkey_load(key_path, key), then fleet_db_open(spec, db); when the database does not
 * open, the key is wiped again. 0 or -1 (printed). */
int fleet_open_keyed(const char *spec, const char *key_path, uint8_t key[FLEET_DBKEY_LEN], fleet_db **db);

/* ---- enrolment --------------------------------------------------------------------------------- */

/**
 * Check a device certificate (PEM or DER, cert_len bytes) against the CA certificate ca_pem (PEM,
 * NUL-terminated): chains (signature, validity) and carries a UEID (subject serialNumber, hex,
 * equal to its CN). ueid receives it (lower case). 0 ok, 1 refused (reason printed), -1 error.
 */
int fleet_cert_check(const char *ca_pem, const uint8_t *cert, size_t cert_len, char ueid[FLEET_UEID_MAX]);

/**
 * Register a device: its UEID, certificate (PEM text), class id (lower-case hex, or NULL) and
 * log key k0, encrypted with dbkey (AAD = UEID) before it reaches the database. Returns 0 enrolled,
 * 1 refused (already enrolled: its k0 and position are kept; printed), -1 error.
 */
int fleet_enroll(fleet_db *db, const uint8_t dbkey[FLEET_DBKEY_LEN], const char *ueid, const char *cert_pem,
                 const char *class_id, const uint8_t k0[FLEET_K0_LEN]);

/* The CA certificate (PEM) remembered by the database (set by the first enrol with a CA), as a
 * malloc'd string in *pem (NULL when none). 0 or -1. */
int fleet_ca_get(fleet_db *db, char **pem);
int fleet_ca_set(fleet_db *db, const char *pem);

/* ---- the collector's verification of one batch ------------------------------------------------ */

typedef enum fleet_outcome {
    FLEET_STORED = 0,   /* verified: its new records and the new position are committed */
    FLEET_DUPLICATE,    /* byte-identical to the batch handled last for this device (a QoS 1
                           redelivery): nothing stored, no alert */
    FLEET_REJECTED,     /* findings (forgery, gap, truncation, replay): alerts raised, nothing
                           stored, position unchanged */
    FLEET_UNENROLLED    /* no such device in the database: an "unenrolled" alert raised */
} fleet_outcome;

typedef struct fleet_result {
    fleet_outcome outcome;
    uint32_t stored;      /* records committed by this call */
    uint32_t overlap;     /* records of the batch that were already stored (re-exported) */
    uint64_t next;        /* the position after the call: next expected seq (0: nothing yet) */
    bool ack;             /* publish fleet_ack_encode(next - 1) on fs38/<ueid>/ack now */
    unsigned alerts;      /* alerts raised by this call */
    char summary[256];    /* one line for the collector's output */
} fleet_result;

/**
 * Verify one batch received on fs38/<ueid>/log (ueid = the topic's level, which the broker's ACL
 * ties to the publisher's certificate) and commit its outcome in ONE transaction, under the
 * device's lock (PostgreSQL: SELECT ... FOR UPDATE of its row; SQLite: BEGIN IMMEDIATE, the
 * database's write lock), so that any
 * number of collectors, redeliveries and restarts store every record exactly once:
 *   - the device's k0 is decrypted with dbkey (wiped after), the batch is verified with
 *     fs38_log_verify_* from the stored position (resume state); records below the position
 *     that the device re-exports are counted as overlap, not stored again;
 *   - no finding: new records, position, firmware state (from verified update events) and the
 *     batch digest are committed together; res->ack is set;
 *   - only device-reported losses (LOST markers): stored too, plus a "gap" alert;
 *   - any other finding: nothing stored, one alert per kind (forgery: modified / reordered /
 *     unverifiable / malformed / bad batch / bad checkpoint; gap: missing; truncation; replay: a
 *     batch with nothing new that is not the batch handled last, i.e. an old batch sent again).
 * Returns 0 (res filled, whatever the outcome), or -1 on a database / crypto error (printed;
 * nothing committed: the caller may retry, e.g. let MQTT redeliver).
 */
int fleet_collect_batch(fleet_db *db, const uint8_t dbkey[FLEET_DBKEY_LEN], const char *ueid, const uint8_t *batch,
                        size_t len, fleet_result *res);

/* One received batch (for fleet_collect_many). */
typedef struct fleet_batch_in {
    const char *ueid;         /* the topic's UEID level */
    const uint8_t *batch;
    size_t len;
} fleet_batch_in;

/**
 * Group commit: n batches (any devices, in arrival order) handled as fleet_collect_batch() would,
 * but in ONE transaction (one fsync for all). They are processed in UEID order — a device's own
 * batches keep their arrival order — so collectors lock devices in one order and never deadlock.
 * res[i] is the result of in[i]. A topic level that is not a lower-case hex UEID is skipped
 * (outcome FLEET_UNENROLLED, no alert). Returns 0, or -1 on a database / crypto error: nothing of
 * the group is committed (res zeroed); the devices keep those records until acked.
 */
int fleet_collect_many(fleet_db *db, const uint8_t dbkey[FLEET_DBKEY_LEN], size_t n, const fleet_batch_in *in,
                       fleet_result *res);

/* Record an alert for ueid (kind: a short word, detail: one line). 0 or -1. */
int fleet_alert(fleet_db *db, const char *ueid, const char *kind, const char *detail);

/* The ack payload: a CBOR unsigned integer (at most 9 bytes). Returns its length. */
size_t fleet_ack_encode(uint64_t seq, uint8_t out[9]);
/* Decode an ack payload: exactly one CBOR unsigned integer. 0 or -1 (nothing printed). */
int fleet_ack_decode(const uint8_t *p, size_t len, uint64_t *seq);

/* ---- attestation -------------------------------------------------------------------------------- */

/* Remember the challenge sent to ueid (replacing an older one). 0 or -1. */
int fleet_challenge_put(fleet_db *db, const char *ueid, const uint8_t *nonce, size_t len);
/* The device's certificate (PEM, malloc'd into *pem) and its outstanding nonce. 0 found,
 * 1 unknown device / no challenge, -1 error. */
int fleet_challenge_get(fleet_db *db, const char *ueid, char **pem, uint8_t *nonce, size_t cap, size_t *len);
/* Store verified claims (a JSON object text) for ueid and clear the challenge. 0 or -1. */
int fleet_attestation_put(fleet_db *db, const char *ueid, const char *claims_json);
/* The UEIDs of all enrolled devices, malloc'd array of FLEET_UEID_MAX strings. 0 or -1. */
int fleet_device_list(fleet_db *db, char (**ueids)[FLEET_UEID_MAX], size_t *n);

/* ---- status ---------------------------------------------------------------------------------------- */

/**
 * Print the fleet's state. JSON (one object, docs/fleet-broker.md):
 *   {"devices":[{"ueid":"…","enrolled":true,"records":N,"last_sequence":N|null,
 *     "firmware":{"sequence":N|null,"state":"unknown|installed|confirmed|reverted|refused",
 *                 "running":N|null},
 *     "attestation":{…}|null,
 *     "alerts":[{"kind":"gap|truncation|forgery|replay|unenrolled|attestation","detail":"…"}]}]}
 * Devices that are not enrolled but raised alerts appear with "enrolled":false. Text: one line per
 * device, then its alerts. 0 or -1.
 */
int fleet_status(fleet_db *db, FILE *out, bool json);

#endif /* FS38_HOST_FLEET_H */
