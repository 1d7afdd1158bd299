/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/log.h — the forward-secure, truncation-evident security log (control 7).
 *
 * The device keeps what an investigator needs (fs38_event(): boot verdicts, updates, logins,
 * store rollback, attestation, decommissioning, ...) in a ring of flash sectors, so that an
 * attacker who later takes the device cannot rewrite, delete or reorder it without the
 * verifier noticing. docs/log-format.md has the exact formats; in short:
 *
 *   record   = header (6 bytes: 0xB0|kind, payload length, u32 seq LE) || CBOR payload ||
 *              HMAC-SHA-256(k_e, previous record's MAC || header || payload)
 *              Every byte of a record is under its MAC, and every MAC covers the previous MAC.
 *   epochs   = k_0 is created at fs38_log_create() and handed out once (the verifier's key);
 *              after epoch_records records (and optionally epoch_ms) a SEAL record closes the
 *              epoch, k_{e+1} = HKDF-SHA-256(k_e, info "fs38 log epoch") replaces k_e in the
 *              sealed store ("log/key": key, epoch, first seq of the epoch) and k_e is wiped.
 *              A key stolen in epoch j cannot MAC anything of an epoch < j.
 *   ring     = records never span sectors. Before the oldest sector is erased to make room for
 *              records that were not all released (acknowledged), a LOST marker "from..to lost"
 *              is written, carrying the MAC of the last erased record so the oldest surviving
 *              one stays verifiable; an erase the marker announced but a power cut interrupted
 *              is completed at open. Released records go without a marker.
 *   export   = fs38_log_export() appends a CHECKPOINT record (batch start, boot, time, optional
 *              verifier nonce, optional COSE_Sign1 by the device key over seq + chain head) and
 *              returns the CBOR batch [ "fs38-log", 1, start, epoch, prev-MAC, records ].
 *              The checkpoint is itself a MAC-chained record: every byte of a batch is covered.
 *
 * Power cuts: every record is one flash program; a cut loses at most the record being written
 * (a torn record fails its MAC or its framing at the next open and is skipped; writing resumes
 * in a fresh sector). Epoch changes are ordered seal -> store put -> wipe, and an interrupted
 * one is completed at open.
 *
 * Caller-owned contexts, no allocation, no stdio. Not thread-safe. The sink (fs38_log_sink)
 * must not be registered while the log is closed.
 */
#ifndef FS38_LOG_H
#define FS38_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <psa/crypto.h>
#include "fs38/cose.h"
#include "fs38/err.h"
#include "fs38/event.h"
#include "fs38/port.h"
#include "fs38/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FS38_LOG_KEY_LEN 32u
#define FS38_LOG_MAC_LEN 32u
#define FS38_LOG_HDR_LEN 6u
#define FS38_LOG_OVERHEAD (FS38_LOG_HDR_LEN + FS38_LOG_MAC_LEN) /* 38 bytes per record */
#define FS38_LOG_PAYLOAD_MAX 255u
#define FS38_LOG_REC_MAX (FS38_LOG_OVERHEAD + FS38_LOG_PAYLOAD_MAX)
#define FS38_LOG_DETAIL_MAX 160u          /* event details are cut to this many bytes */
#define FS38_LOG_NONCE_MAX 32u
#define FS38_LOG_MAX_SECTORS 256u
#define FS38_LOG_MIN_SECTORS 3u
#define FS38_LOG_EPOCH_RECORDS 96u        /* default records per epoch (seal included) */
#define FS38_LOG_STORE_NAME "log/key"
#define FS38_LOG_BATCH_MAGIC "fs38-log"
#define FS38_LOG_BATCH_VERSION 1u
#define FS38_LOG_BATCH_HDR_MAX 64u        /* CBOR in front of the records of a batch */
#define FS38_LOG_FORMAT_VERSION 1u

typedef enum fs38_log_kind {
    FS38_LOG_GENESIS = 1,    /* seq 0 of a log: [version, boot, time, epoch_records, prev_head|null] */
    FS38_LOG_EVENT = 2,      /* [code, severity, boot, time_ms, arg, detail] */
    FS38_LOG_SEAL = 3,       /* last record of an epoch: [epoch] */
    FS38_LOG_LOST = 4,       /* [from, to, link|null, reason]: never-released records erased */
    FS38_LOG_TRIM = 5,       /* reserved (released records are erased without a marker) */
    FS38_LOG_CHECKPOINT = 6, /* [start, boot, time_ms, nonce|null, COSE_Sign1|null] */
    FS38_LOG_RELEASE = 7     /* [upto, boot, time_ms]: records <= upto acknowledged */
} fs38_log_kind;

/* Reasons in a LOST marker. */
#define FS38_LOG_LOST_WRAP 1u      /* the ring wrapped over records never released */
#define FS38_LOG_LOST_TRUNCATED 2u /* open found the log shorter than its sealed state */
#define FS38_LOG_LOST_CUT 3u       /* power cut between erasing a sector and its marker */

/* ---- the device side ------------------------------------------------------------------------ */

typedef struct fs38_log_config {
    const fs38_port *port;
    fs38_store *store;       /* open sealed store: keeps the current epoch key */
    uint32_t offset;         /* ring: sector aligned */
    uint32_t size;           /* FS38_LOG_MIN_SECTORS .. FS38_LOG_MAX_SECTORS whole sectors */
    uint32_t epoch_records;  /* records per epoch, seal included (0 = FS38_LOG_EPOCH_RECORDS; 2..65535) */
    uint32_t epoch_ms;       /* also close an epoch this long after it began (0 = count only) */
    psa_key_id_t sign_key;   /* P-256 key signing checkpoints (COSE_Sign1 ESP256); 0 = none */
} fs38_log_config;

/* Opaque to callers (fields are the implementation's, see src/log/log.c). */
typedef struct fs38_log {
    fs38_log_config FS38_PRIVATE(cfg);
    fs38_diag FS38_PRIVATE(diag);
    bool FS38_PRIVATE(open);
    bool FS38_PRIVATE(broken);             /* a write failed half-way: reopen */
    uint32_t FS38_PRIVATE(sector_size);
    uint32_t FS38_PRIVATE(nsect);
    uint32_t FS38_PRIVATE(epoch_records);
    uint8_t FS38_PRIVATE(key)[FS38_LOG_KEY_LEN]; /* k_e (RAM only; sealed in the store) */
    psa_key_id_t FS38_PRIVATE(mac_key);    /* k_e as a volatile PSA HMAC key */
    uint32_t FS38_PRIVATE(epoch);
    uint32_t FS38_PRIVATE(epoch_first);    /* seq of the first record of the epoch */
    uint64_t FS38_PRIVATE(epoch_start_ms);
    uint32_t FS38_PRIVATE(next_seq);
    uint8_t FS38_PRIVATE(head)[FS38_LOG_MAC_LEN]; /* MAC of the last record (chain head) */
    uint32_t FS38_PRIVATE(cur);            /* sector being written */
    uint32_t FS38_PRIVATE(wpos);           /* next free offset in it */
    bool FS38_PRIVATE(cur_full);           /* no more records in `cur` (full, or torn bytes after wpos) */
    uint32_t FS38_PRIVATE(released);       /* records < released are acknowledged */
    uint64_t FS38_PRIVATE(boot);           /* FS38_COUNTER_BOOT as read at open / fs38_log_note_boot */
    bool FS38_PRIVATE(have_marker);        /* latest wrap marker (LOST/TRIM): kind, range and link */
    bool FS38_PRIVATE(marker_link_known);
    uint8_t FS38_PRIVATE(marker_kind);
    uint32_t FS38_PRIVATE(marker_from);
    uint32_t FS38_PRIVATE(marker_to);
    uint8_t FS38_PRIVATE(marker_link)[FS38_LOG_MAC_LEN];
    bool FS38_PRIVATE(damaged);            /* open found records of the current epoch that fail their MAC */
    uint32_t FS38_PRIVATE(first)[FS38_LOG_MAX_SECTORS]; /* seq of the first record, or FS38_LOG_FREE */
    uint32_t FS38_PRIVATE(end)[FS38_LOG_MAX_SECTORS];   /* end of the valid records of each sector */
    uint64_t FS38_PRIVATE(bytes_programmed);            /* statistics: ring bytes programmed since open */
    uint8_t FS38_PRIVATE(rec)[FS38_LOG_REC_MAX];
    uint8_t FS38_PRIVATE(pay)[FS38_LOG_PAYLOAD_MAX];
} fs38_log;

#define FS38_LOG_FREE 0xFFFFFFFFu

/*
 * Start a new log (provisioning, or clearing an old one): the store's key record is deleted
 * first (an interrupted create leaves "not initialised", never a half-made log), the ring is
 * erased, k_0 is drawn from PSA's RNG (or taken from k0_in, for tests and reproducible seeds),
 * the GENESIS record is written and k_0 sealed in the store. k0_out receives k_0 — the only
 * time it leaves the device: hand it to the verifier and wipe it. The log is open afterwards.
 * When an old log was open in `log`, its head seq is recorded in the genesis record.
 */
FS38_NODISCARD fs38_err fs38_log_create(fs38_log *log, const fs38_log_config *cfg, const uint8_t *k0_in,
                         uint8_t k0_out[FS38_LOG_KEY_LEN]);
/* Open: FS38_ERR_LOG_UNINIT when no log was created. Recovers from an interrupted write,
 * epoch change or sector trim; records detected truncation as a LOST marker. */
FS38_NODISCARD fs38_err fs38_log_open(fs38_log *log, const fs38_log_config *cfg);
/* Destroy the key, wipe the context. */
void fs38_log_close(fs38_log *log);

/* Append an event (code, severity, arg, detail; boot counter and monotonic time are added). */
FS38_NODISCARD fs38_err fs38_log_append(fs38_log *log, const fs38_event_rec *ev);
/* An fs38_event_sink: fs38_event_set_sink(fs38_log_sink, log). Errors are kept in log->diag. */
void fs38_log_sink(void *user, const fs38_event_rec *ev);
/* Close the epoch now if epoch_ms has elapsed (an idle epoch still gets its seal). */
FS38_NODISCARD fs38_err fs38_log_tick(fs38_log *log);
/* Close the epoch now (seal, key evolution). */
FS38_NODISCARD fs38_err fs38_log_seal(fs38_log *log);
/* Acknowledge records <= upto (a RELEASE record): overwriting them later is a TRIM, not a loss. */
FS38_NODISCARD fs38_err fs38_log_release(fs38_log *log, uint32_t upto);
/* Re-read FS38_COUNTER_BOOT (after the firmware advanced it at boot). */
FS38_NODISCARD fs38_err fs38_log_note_boot(fs38_log *log);
/* Use another checkpoint signing key from now on (0: none). */
void fs38_log_set_sign_key(fs38_log *log, psa_key_id_t key);

/* Where the next export starts, and what the last one did. */
typedef struct fs38_log_cursor {
    uint32_t next;            /* first seq to export (below the oldest record: from the oldest) */
    uint32_t run_start;       /* first seq of this export (for the checkpoint) */
    bool started;
    const uint8_t *nonce;     /* verifier challenge put in the checkpoint (may be NULL) */
    size_t nonce_len;         /* <= FS38_LOG_NONCE_MAX */
    /* results of the last call */
    bool done;                /* the batch ends with this export's checkpoint */
    uint32_t first, last;     /* seqs of its first and last record */
    uint32_t records;
    bool signed_checkpoint;
} fs38_log_cursor;

void fs38_log_cursor_init(fs38_log_cursor *c, uint32_t since);
/*
 * One CBOR batch from c->next: as many records as fit in cap bytes. When all of them up to the
 * head fit, a CHECKPOINT record is appended (signed with cfg.sign_key when set) and the batch
 * ends with it (c->done). Otherwise the batch is partial and c->next moves on: call again with
 * the same cursor. FS38_ERR_BUFFER when not even one record (or the final checkpoint) fits.
 */
FS38_NODISCARD fs38_err fs38_log_export(fs38_log *log, fs38_log_cursor *c, uint8_t *buf, size_t cap, size_t *len);
/* Bytes a complete export from `since` needs at most. */
size_t fs38_log_export_bound(fs38_log *log, uint32_t since);

typedef struct fs38_log_info {
    uint32_t next_seq, oldest_seq, released, epoch, epoch_first;
    uint32_t sectors, sectors_used, records;
    uint32_t epoch_records;     /* records per epoch (cfg.epoch_records, or the default) */
    uint64_t boot;
    uint64_t bytes_programmed;  /* ring bytes programmed since open (statistics) */
    bool damaged;               /* open found current-epoch records that fail their MAC */
    bool signed_checkpoints;    /* checkpoints are signed (a sign key is set) */
} fs38_log_info;
/*
 * What an open log holds, for status displays and callers (the fields of fs38_log are private).
 * FS38_OK and *info filled; FS38_ERR_STATE when log is NULL or not open (or broken: reopen it);
 * a lock error of the port. The log is re-read under the device lock first (another context may
 * have written).
 */
FS38_NODISCARD fs38_err fs38_log_info_get(fs38_log *log, fs38_log_info *info);
/* The context's last diagnostic (what failed, where); owned by the context, valid while it is.
 * Never NULL for a non-NULL log. */
const fs38_diag *fs38_log_diag(const fs38_log *log);
/* true when a write failed half-way (power cut, I/O error): every call but close/open refuses
 * until the log is reopened. false for NULL. */
bool fs38_log_broken(const fs38_log *log);

/* ---- formats shared by device, verifier and tools ------------------------------------------- */

typedef struct fs38_log_frame {
    uint8_t kind;
    uint8_t plen;
    uint32_t seq;
    const uint8_t *start;     /* header */
    size_t size;              /* FS38_LOG_OVERHEAD + plen */
    const uint8_t *payload;
    const uint8_t *mac;
} fs38_log_frame;

/* Frame the record at p (avail bytes): FS38_OK, FS38_ERR_TRUNCATED (runs past avail), or
 * FS38_ERR_LOG_BATCH (not a record header). Nothing is authenticated here. */
FS38_NODISCARD fs38_err fs38_log_frame_parse(const uint8_t *p, size_t avail, fs38_log_frame *f);

/* A decoded record payload (pointers into the payload). */
typedef struct fs38_log_entry {
    fs38_log_kind kind;
    uint32_t seq;
    uint64_t boot, time_ms;
    /* event */
    int64_t code, severity, arg;
    const char *detail;
    size_t detail_len;
    /* genesis */
    uint64_t version, epoch_records, prev_head;
    bool cleared;
    /* seal */
    uint64_t epoch;
    /* lost / trim / release */
    uint64_t from, to, reason, upto;
    const uint8_t *link;      /* 32 bytes or NULL */
    /* checkpoint */
    uint64_t start;
    const uint8_t *nonce, *sig;
    size_t nonce_len, sig_len;
} fs38_log_entry;

FS38_NODISCARD fs38_err fs38_log_decode(const fs38_log_frame *f, fs38_log_entry *e);

/* A parsed batch (pointers into it). A records string cut short by the end of the input is
 * returned with `truncated` set; bytes after the batch are counted in `trailing`. */
typedef struct fs38_log_batch {
    uint64_t start;
    uint64_t epoch;
    const uint8_t *prev;      /* 32 bytes */
    const uint8_t *records;
    size_t records_len;
    size_t records_off;       /* offset of the records in the batch */
    bool truncated;
    size_t trailing;
} fs38_log_batch;

FS38_NODISCARD fs38_err fs38_log_batch_parse(const uint8_t *buf, size_t len, fs38_log_batch *b, fs38_diag *diag);

/* k_{e+1} = HKDF-SHA-256(k_e, info "fs38 log epoch") (in place allowed). */
FS38_NODISCARD fs38_err fs38_log_evolve(const uint8_t in[FS38_LOG_KEY_LEN], uint8_t out[FS38_LOG_KEY_LEN]);

/* ---- the verifier (fleet side; no key of the device needed but k_0) ------------------------- */

typedef enum fs38_logv_kind {
    FS38_LOGV_OK = 0,          /* record authentic and in its place */
    FS38_LOGV_MODIFIED,        /* record fails its MAC (content, header or tag changed) */
    FS38_LOGV_MISSING,         /* seqs from..to absent */
    FS38_LOGV_LOST,            /* from..to overwritten on the device before export (marker) */
    FS38_LOGV_RELEASED,        /* from..to acknowledged earlier and gone: not verified here */
    FS38_LOGV_REORDERED,       /* authentic record out of its place */
    FS38_LOGV_REPLAYED,        /* record already verified (duplicate, old batch) */
    FS38_LOGV_UNVERIFIABLE,    /* cannot be checked: the record it chains to is missing/modified */
    FS38_LOGV_TRUNCATED,       /* the export ends after `from` without its checkpoint */
    FS38_LOGV_BAD_CHECKPOINT,  /* checkpoint signature missing/invalid, or nonce/start wrong */
    FS38_LOGV_BAD_BATCH,       /* batch header / structure modified or unreadable */
    FS38_LOGV_NOTE,            /* information, not a problem */
    FS38_LOGV_MALFORMED        /* authentic (its MAC verifies) but its payload is not the CBOR its
                                  kind requires: a finding, never OK */
} fs38_logv_kind;

typedef struct fs38_logv_item {
    fs38_logv_kind kind;
    unsigned batch;            /* 1-based index of the batch */
    bool has_seq;              /* false: only `offset` names the record */
    uint64_t from, to;         /* seq (range) concerned */
    size_t offset;             /* byte offset in the batch */
    uint32_t epoch;
    bool unproven;             /* OK, but its epoch was reached across a break in the chain:
                                  a key captured later could have produced it */
    const fs38_log_frame *frame; /* the record (OK / replayed / reordered), else NULL */
    const char *why;           /* short explanation, never NULL */
} fs38_logv_item;

typedef void (*fs38_logv_report)(void *user, const fs38_logv_item *item);

/* Where a verification ended (to resume the next one from there). */
typedef struct fs38_log_vstate {
    uint64_t next;             /* next expected seq */
    uint32_t epoch;
    uint8_t head[FS38_LOG_MAC_LEN];
} fs38_log_vstate;

#define FS38_LOG_MAX_EPOCH_DEFAULT (1u << 20) /* fs38_log_verify_config.max_epoch when 0 */
#define FS38_LOG_MAX_SKIP_DEFAULT 64u         /* fs38_log_verify_config.max_skip when 0 */

typedef struct fs38_log_verify_config {
    const uint8_t *k0;               /* FS38_LOG_KEY_LEN bytes */
    const fs38_log_vstate *resume;   /* NULL: the first batch must start at the genesis */
    const fs38_keyring *signers;     /* P-256 keys checking checkpoint signatures, or NULL */
    const uint8_t *nonce;            /* expected in the final checkpoint, or NULL */
    size_t nonce_len;
    uint32_t max_epoch;              /* highest epoch derived (0 = FS38_LOG_MAX_EPOCH_DEFAULT) */
    uint32_t max_skip;               /* epochs tried across a gap (0 = FS38_LOG_MAX_SKIP_DEFAULT) */
    fs38_logv_report report;
    void *user;
} fs38_log_verify_config;

#define FS38_LOGV_SEEN 256u   /* recently verified records remembered (replay naming) */
#define FS38_LOGV_KEYS 8u     /* epoch keys cached ahead of the current one */
#define FS38_LOGV_GAPS 16u

typedef struct fs38_log_verifier {
    fs38_log_verify_config cfg;
    uint8_t key[FS38_LOG_KEY_LEN];   /* k_epoch */
    psa_key_id_t ahead[FS38_LOGV_KEYS]; /* HMAC keys for epoch .. epoch + FS38_LOGV_KEYS - 1 */
    uint8_t ahead_bytes[FS38_LOGV_KEYS][FS38_LOG_KEY_LEN];
    unsigned n_ahead;
    uint8_t past[4][FS38_LOG_KEY_LEN]; /* keys of the last epochs: only to name records that
                                          turn up late (REORDERED), never to accept one */
    uint32_t past_epoch[4];
    unsigned n_past;
    uint8_t far[FS38_LOG_KEY_LEN];   /* the last key derived far ahead (a batch's starting epoch) */
    uint32_t far_epoch;
    bool have_far;
    uint32_t epoch;
    uint64_t next;
    uint8_t head[FS38_LOG_MAC_LEN];
    bool proven;                     /* the chain from k_0 (or the resume state) is unbroken */
    bool any;                        /* a record was accepted */
    uint64_t run_start;              /* start the next closing checkpoint must name */
    bool run_open;
    unsigned batches;
    bool last_closed;                /* the last batch ended with a verified checkpoint */
    bool last_tail_damaged;
    bool last_nonce_ok;
    bool last_sig_ok;                /* its signature verified (only meaningful with signers) */
    uint64_t last_ok_seq;
    struct { uint64_t seq; uint8_t mac[FS38_LOG_MAC_LEN]; } seen[FS38_LOGV_SEEN];
    struct { uint64_t from, to; bool start; } gaps[FS38_LOGV_GAPS];
    unsigned n_gaps;
    uint64_t ok, unproven, problems;
    fs38_diag diag;
} fs38_log_verifier;

FS38_NODISCARD fs38_err fs38_log_verify_init(fs38_log_verifier *v, const fs38_log_verify_config *cfg);
/* Verify one batch (call in export order). Reports through cfg.report; FS38_OK unless an
 * argument or the crypto library failed (findings are counted, not returned). A batch that holds
 * no record is a finding (TRUNCATED): it proves nothing. An authentic record whose payload does
 * not decode is a finding (MALFORMED). */
FS38_NODISCARD fs38_err fs38_log_verify_batch(fs38_log_verifier *v, const uint8_t *batch, size_t len);
/* After the last batch: reports a missing closing checkpoint and unexplained gaps.
 * FS38_OK only when nothing was found AND the last batch ends with an authentic, decodable
 * CHECKPOINT record that closes the export (its `start` is where the export began), signed
 * (signature verified) when cfg.signers is set, and carrying cfg.nonce when it is set; no batch,
 * an empty batch, or a last batch without that checkpoint is TRUNCATED. FS38_ERR_LOG_VERIFY
 * otherwise.
 * *state (may be NULL) receives where to resume. */
FS38_NODISCARD fs38_err fs38_log_verify_finish(fs38_log_verifier *v, fs38_log_vstate *state);
/* Destroy keys, wipe. */
void fs38_log_verify_free(fs38_log_verifier *v);
/* "ok", "modified", "missing", ... */
const char *fs38_logv_name(fs38_logv_kind k);

#ifdef __cplusplus
}
#endif
#endif /* FS38_LOG_H */
