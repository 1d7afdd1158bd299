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
 * Lifecycle: fs38_log_create() (provisioning) or fs38_log_open() -> append / tick / seal /
 * release / export / info -> fs38_log_close(). The context (about 3 KiB: per-sector tables and
 * record buffers) is caller-owned and must start zeroed (static storage or `= {0}`): create and
 * close read what it holds. While open it holds k_e in RAM and as a volatile PSA key: always
 * close it. The verifier side (fs38_log_verify_init -> _batch ... -> _finish -> _free) holds
 * PSA keys too. No allocation, no stdio. One context per thread; several contexts on the same
 * ring (tasks, processes) are serialised by the port's device lock (fs38/port.h): every call
 * that reads or writes the ring takes it, and re-opens the context from flash when another
 * context wrote since. While fs38_log_sink is registered with a log, that fs38_log must stay in
 * place (a closed one is ignored).
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
 * Errors of the calls below that work on an open log ("log entry errors"): FS38_ERR_STATE when
 * log is NULL, not open (never opened, closed, or closed by a failed re-open) or broken; the
 * code of the port's lock(); FS38_ERR_IO / FS38_ERR_POWER or another flash_read code from the
 * freshness check under the lock; and, when another context wrote since, every error of
 * fs38_log_open() (the context is re-opened from flash; on failure it is closed and
 * fs38_log_diag() says why).
 * "Log write errors": FS38_ERR_CRYPTO (MAC, key evolution or import); FS38_ERR_LIMIT (sequence
 * numbers or epochs exhausted); FS38_ERR_IO / FS38_ERR_POWER or the port's code from reading,
 * erasing (making room: the oldest sector, after its LOST marker) or programming the ring;
 * errors of fs38_store_put() while changing epoch ("log/key") or storing the release point
 * ("log/rel"): FS38_ERR_STATE, FS38_ERR_STORE_FULL, FS38_ERR_LIMIT, FS38_ERR_STORE_CORRUPT,
 * FS38_ERR_CRYPTO, FS38_ERR_IO / FS38_ERR_POWER, a lock error. A write that fails half-way
 * marks the log broken (fs38_log_broken()): reopen it. Most failures also leave a sentence in
 * fs38_log_diag() (not the FS38_ERR_STATE of a log that is not open, nor a plain flash read
 * error).
 */

/**
 * \brief Start a new log (provisioning, or clearing an old one), under the device lock: delete
 *        the store's key and release records first (an interrupted create leaves "not
 *        initialised", never a half-made log), erase the ring, take k_0 (PSA's RNG, or
 *        k0_in), write the GENESIS record and seal k_0 in the store. The log is open afterwards.
 *
 * \param[in,out] log    Zeroed context, or one used before (open, closed or failed). An open
 *                       log is closed first, and its head seq is recorded in the genesis
 *                       record. On failure the context is closed (holds no key);
 *                       fs38_log_diag() says why.
 * \param[in]     cfg    Copied. cfg->port and cfg->store (open, and kept open while the log is)
 *                       are kept by pointer and must outlive the log; cfg->sign_key is used by
 *                       id, not owned.
 * \param[in]     k0_in  FS38_LOG_KEY_LEN bytes to use as k_0 (tests, reproducible seeds), or
 *                       NULL for a random one; copied, not kept.
 * \param[out]    k0_out FS38_LOG_KEY_LEN bytes: k_0 on FS38_OK only — the only time it leaves
 *                       the device. Hand it to the verifier and wipe it.
 * \return FS38_OK; FS38_ERR_ARG when log, cfg or k0_out is NULL (nothing touched), cfg->port or
 *         cfg->store is NULL, the sector size is 0 or below 512, the region is not whole
 *         sectors inside the flash, has fewer than FS38_LOG_MIN_SECTORS or more than
 *         FS38_LOG_MAX_SECTORS sectors, or epoch_records is outside 2..65535; the code of the
 *         port's lock(); the port's counter_read code (FS38_COUNTER_BOOT); FS38_ERR_CRYPTO
 *         (psa_crypto_init, RNG, key import, MAC); errors of fs38_store_delete() /
 *         fs38_store_put() (FS38_ERR_STATE, FS38_ERR_STORE_FULL, FS38_ERR_LIMIT,
 *         FS38_ERR_STORE_CORRUPT, FS38_ERR_CRYPTO, FS38_ERR_IO / FS38_ERR_POWER, a lock error);
 *         flash erase / program errors (FS38_ERR_IO, FS38_ERR_POWER, the port's code,
 *         FS38_ERR_ARG when the port lacks the callback). A failure after the store deletes
 *         leaves no log: the next open gives FS38_ERR_LOG_UNINIT.
 * \note Secrets: k_0 (then each k_e) lives in the context and as a volatile PSA key until the
 *       next epoch change or fs38_log_close(), which wipe it.
 */
FS38_NODISCARD fs38_err fs38_log_create(fs38_log *log, const fs38_log_config *cfg, const uint8_t *k0_in,
                         uint8_t k0_out[FS38_LOG_KEY_LEN]);

/**
 * \brief Open a log, under the device lock: read k_e and the release point from the store,
 *        scan the ring, verify the current epoch's records, and repair what a power cut left:
 *        drop a torn last record, complete an interrupted epoch change or sector erase, store a
 *        release point whose write was cut, write a LOST marker for records the ring lost
 *        (truncation, or an erase whose marker was cut), seal a full epoch. Damaged records
 *        of the current epoch are kept and reported (fs38_log_info.damaged).
 *
 * \param[out] log Context; wiped first (an open log must be closed before: its PSA key is not
 *                 destroyed here). On failure the context is closed; fs38_log_diag() says why.
 * \param[in]  cfg As for fs38_log_create(); NULL gives FS38_ERR_ARG (after the wipe).
 * \return FS38_OK; FS38_ERR_ARG when log or cfg is NULL or the configuration is refused (as for
 *         fs38_log_create()); the code of the port's lock(); the port's counter_read code;
 *         FS38_ERR_CRYPTO (psa_crypto_init, key import, MAC check); FS38_ERR_LOG_UNINIT when the
 *         store has no "log/key" (never created, or a create was interrupted);
 *         FS38_ERR_STORE_CORRUPT when "log/key" is shorter than its format; FS38_ERR_BUFFER when
 *         "log/key" or "log/rel" is longer than its format; errors of fs38_store_get()
 *         (FS38_ERR_STATE, FS38_ERR_STORE_CORRUPT, FS38_ERR_CRYPTO, FS38_ERR_IO /
 *         FS38_ERR_POWER, a lock error); flash read errors; and, for the repairs, log write
 *         errors.
 */
FS38_NODISCARD fs38_err fs38_log_open(fs38_log *log, const fs38_log_config *cfg);

/**
 * \brief Close a log: destroy the PSA key of k_e and wipe the whole context (k_e included).
 *        Touches no flash, takes no lock.
 *
 * \param[in,out] log Context: open, closed, failed or zeroed (never uninitialised memory: the
 *                    key id it holds is destroyed); NULL is ignored. The diagnostic is wiped
 *                    too. cfg.sign_key is not destroyed (the caller's).
 */
void fs38_log_close(fs38_log *log);

/**
 * \brief Append an EVENT record (code, severity, arg, detail; the boot counter and the monotonic
 *        time are added). Closes the epoch first when epoch_ms has elapsed, and after the
 *        record when it is full.
 *
 * \param[in,out] log Open log.
 * \param[in]     ev  The event: detail NUL-terminated or NULL, cut to FS38_LOG_DETAIL_MAX bytes
 *                    (never inside a UTF-8 sequence). Read during the call only.
 * \return FS38_OK; log entry errors; FS38_ERR_ARG when ev is NULL; log write errors.
 */
FS38_NODISCARD fs38_err fs38_log_append(fs38_log *log, const fs38_event_rec *ev);

/**
 * \brief An fs38_event_sink: fs38_event_set_sink(fs38_log_sink, log) records every event.
 *
 * \param[in] user The fs38_log (kept by the event module while registered: it must stay in
 *                 place); NULL or a closed log drops the event.
 * \param[in] ev   The event (fs38_log_append()).
 * \note A sink cannot fail: an append error is only kept in fs38_log_diag(log) (and a broken
 *       log refuses later appends until reopened). Events raised inside library calls reach the
 *       sink synchronously, possibly with the device lock held (it is recursive).
 */
void fs38_log_sink(void *user, const fs38_event_rec *ev);

/**
 * \brief Close the epoch now if cfg.epoch_ms is set and has elapsed on the port's monotonic
 *        clock (an idle epoch still gets its seal); otherwise do nothing.
 *
 * \param[in,out] log Open log.
 * \return FS38_OK; log entry errors; log write errors (when a seal is due).
 */
FS38_NODISCARD fs38_err fs38_log_tick(fs38_log *log);

/**
 * \brief Close the epoch now: write a SEAL record, store k_{e+1} and wipe k_e.
 *
 * \param[in,out] log Open log.
 * \return FS38_OK; log entry errors; log write errors.
 */
FS38_NODISCARD fs38_err fs38_log_seal(fs38_log *log);

/**
 * \brief Acknowledge records <= upto (after the verifier received them): a RELEASE record is
 *        written and the release point stored, so erasing them later is not a loss (no LOST
 *        marker). Seals first when epoch_ms has elapsed.
 *
 * \param[in,out] log  Open log.
 * \param[in]     upto Seq of the last record acknowledged; below the next seq. A value below the
 *                     current release point writes the record but moves nothing.
 * \return FS38_OK; log entry errors; FS38_ERR_ARG when upto >= the next seq (no such record);
 *         log write errors.
 */
FS38_NODISCARD fs38_err fs38_log_release(fs38_log *log, uint32_t upto);

/**
 * \brief Re-read FS38_COUNTER_BOOT (after the firmware advanced it at boot) for the records
 *        that follow. No lock, no flash access; works on a broken log too.
 *
 * \param[in,out] log Open log.
 * \return FS38_OK (boot number 0 when the port has no counter_read); FS38_ERR_STATE when log is
 *         NULL or not open; the port's counter_read code.
 */
FS38_NODISCARD fs38_err fs38_log_note_boot(fs38_log *log);

/**
 * \brief Use another checkpoint signing key from the next export on (kept across re-opens).
 *
 * \param[in,out] log Log (open or not); NULL is ignored.
 * \param[in]     key P-256 key pair allowing sign_hash with ECDSA(SHA-256) (COSE ESP256), or
 *                    0 for unsigned checkpoints. Used by id, not owned: it must stay valid
 *                    while set. A key that cannot sign gives unsigned checkpoints (noted in
 *                    fs38_log_diag(), the export still succeeds).
 */
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

/**
 * \brief Start a cursor for one export (one or more batches ending with a checkpoint).
 *
 * \param[out] c     Cursor; zeroed, then next = since. Set c->nonce / c->nonce_len after this
 *                   call to have the verifier's challenge in the checkpoint. NULL is ignored.
 * \param[in]  since First seq wanted (0: from the oldest record on the device).
 */
void fs38_log_cursor_init(fs38_log_cursor *c, uint32_t since);

/**
 * \brief One CBOR batch [ "fs38-log", 1, start, epoch, prev-MAC, records ] from c->next: as
 *        many records as fit in cap bytes. When all of them up to the head fit (with room for
 *        the checkpoint: FS38_LOG_BATCH_HDR_MAX + 3 * FS38_LOG_REC_MAX bytes of headroom), a
 *        CHECKPOINT record is written to the ring (signed with the sign key when set) and the
 *        batch ends with it (c->done). Otherwise the batch is partial and c->next moves on:
 *        call again with the same cursor.
 *
 * \param[in,out] log Open log (written to when the checkpoint is).
 * \param[in,out] c   Cursor from fs38_log_cursor_init(). On FS38_OK: first, last, records,
 *                    done, signed_checkpoint describe this batch and next is where the next one
 *                    starts. c->nonce (<= FS38_LOG_NONCE_MAX bytes) is read when the
 *                    checkpoint is written.
 * \param[out]    buf cap bytes; receives the batch (copied out of flash: nothing points into
 *                    the context).
 * \param[in]     cap More than FS38_LOG_BATCH_HDR_MAX (fs38_log_export_bound() gives a size
 *                    for the whole export in one batch).
 * \param[out]    len The batch's length, on FS38_OK only.
 * \return FS38_OK; log entry errors; FS38_ERR_ARG when c, buf or len is NULL, c->nonce_len >
 *         FS38_LOG_NONCE_MAX or c->nonce is NULL with a length; FS38_ERR_BUFFER when cap <=
 *         FS38_LOG_BATCH_HDR_MAX or not even one record fits (nothing written); flash read
 *         errors; for the checkpoint, log write errors; FS38_ERR_STATE when the written
 *         checkpoint cannot be read back into the batch. A signing failure is not an error:
 *         the checkpoint is unsigned (c->signed_checkpoint false, fs38_log_diag() says why).
 */
FS38_NODISCARD fs38_err fs38_log_export(fs38_log *log, fs38_log_cursor *c, uint8_t *buf, size_t cap, size_t *len);

/**
 * \brief Bytes a complete export from `since` needs at most, now (records appended before the
 *        export make it larger). Under the device lock (may re-open the context, see above).
 *
 * \param[in,out] log   Open log.
 * \param[in]     since First seq wanted.
 * \return The bound (batch header + records + checkpoint headroom); 0 when log is NULL, not
 *         open or broken, or the lock, the freshness check, a re-open or a flash read failed.
 */
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
/**
 * \brief What an open log holds, for status displays and callers (the fields of fs38_log are
 *        private). The log is re-read under the device lock first (another context may have
 *        written).
 *
 * \param[in,out] log  Open log.
 * \param[out]    info Filled on FS38_OK only.
 * \return FS38_OK; FS38_ERR_STATE when info is NULL (not FS38_ERR_ARG), and the log entry
 *         errors (FS38_ERR_STATE when log is NULL, not open or broken: reopen it).
 */
FS38_NODISCARD fs38_err fs38_log_info_get(fs38_log *log, fs38_log_info *info);

/**
 * \brief The context's last diagnostic (what failed, where).
 *
 * \param[in] log Log (open or not), or NULL.
 * \return A pointer into log (valid while the context is, changed by the next call on it; wiped
 *         by fs38_log_close()); NULL only for a NULL log.
 */
const fs38_diag *fs38_log_diag(const fs38_log *log);

/**
 * \brief Did a write fail half-way (power cut, I/O error)? The calls that read or write the
 *        ring then refuse (FS38_ERR_STATE) until the log is reopened; fs38_log_note_boot,
 *        set_sign_key, diag and close still work.
 *
 * \param[in] log Log, or NULL.
 * \return true when broken; false otherwise, and for NULL.
 */
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

/**
 * \brief Frame the record at p: header, payload and MAC positions. Nothing is authenticated
 *        or decoded here.
 *
 * \param[in]  p     Bytes of a record, avail of them.
 * \param[in]  avail Bytes readable at p.
 * \param[out] f     Zeroed, then filled; its pointers point into p (valid as long as p is). On
 *                   FS38_ERR_TRUNCATED after a valid header, the header fields are filled.
 * \return FS38_OK; FS38_ERR_ARG when p or f is NULL; FS38_ERR_TRUNCATED when avail is shorter
 *         than a header or the record runs past avail; FS38_ERR_LOG_BATCH when p is not a
 *         record header (magic nibble not 0xB, or kind outside GENESIS..RELEASE).
 */
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

/**
 * \brief Decode a framed record's CBOR payload according to its kind. Nothing is authenticated
 *        here (check the MAC first).
 *
 * \param[in]  f Framed record (fs38_log_frame_parse()).
 * \param[out] e Zeroed, then filled (partly, on failure); detail, link, nonce and sig point into
 *               f's payload (valid as long as the record's bytes are); detail is not
 *               NUL-terminated (detail_len).
 * \return FS38_OK; FS38_ERR_ARG when f or e is NULL or f->payload is NULL; FS38_ERR_LOG_BATCH
 *         when the payload is not the CBOR array its kind requires (element count or types,
 *         trailing bytes, a link that is not 32 bytes, from > to or to beyond 32 bits, a nonce
 *         longer than FS38_LOG_NONCE_MAX), or the kind is unknown.
 */
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

/**
 * \brief Parse a batch's header and locate its records (not framed, not authenticated).
 *
 * \param[in]  buf  The batch, len bytes.
 * \param[in]  len  Bytes.
 * \param[out] b    Zeroed, then filled on FS38_OK; prev and records point into buf (valid as
 *                  long as buf is). A records string cut short by the end of buf is returned
 *                  with b->truncated (what is there); bytes after the batch are b->trailing.
 * \param[out] diag May be NULL; says what is wrong.
 * \return FS38_OK; FS38_ERR_ARG when buf or b is NULL (diag not written); FS38_ERR_LOG_BATCH
 *         when it is not a 6-element array, the magic or version is wrong, start or epoch is
 *         not a uint of at most 32 bits, the chain link is not a 32-byte bstr, or the records
 *         field is not a bstr (or its head is cut).
 */
FS38_NODISCARD fs38_err fs38_log_batch_parse(const uint8_t *buf, size_t len, fs38_log_batch *b, fs38_diag *diag);

/**
 * \brief The epoch key evolution k_{e+1} = HKDF-SHA-256(k_e, no salt, info "fs38 log epoch").
 *
 * \param[in]  in  k_e, FS38_LOG_KEY_LEN bytes.
 * \param[out] out k_{e+1}, FS38_LOG_KEY_LEN bytes, on FS38_OK only; may be the same buffer as
 *                 in. Secret: the caller wipes it (the library wipes its temporary copy).
 * \return FS38_OK; FS38_ERR_ARG when in or out is NULL; FS38_ERR_CRYPTO when PSA fails.
 */
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

/* A verifier's report callback: called synchronously from fs38_log_verify_batch() / _finish()
 * for each item (findings and OK records). item, item->frame and item->why are valid during
 * the call only (frame's pointers point into the caller's batch): copy what you keep. */
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

/**
 * \brief Start a verification (fleet side).
 *
 * \param[out] v   Verifier (about 11 KiB), zeroed first unless an argument is refused. Holds PSA
 *                 keys while used: end it with fs38_log_verify_free() on every path (also after
 *                 a failed init, which is safe).
 * \param[in]  cfg Copied. k0 (FS38_LOG_KEY_LEN bytes) and resume are read during this call only
 *                 (the caller may wipe its k0 afterwards); signers, nonce and user are kept by
 *                 pointer until fs38_log_verify_free(); report may be NULL (findings are then
 *                 only counted).
 * \return FS38_OK; FS38_ERR_ARG when v, cfg or cfg->k0 is NULL, nonce is NULL with a length or
 *         nonce_len exceeds FS38_LOG_NONCE_MAX; FS38_ERR_CRYPTO when psa_crypto_init() or a key
 *         derivation fails; FS38_ERR_LIMIT when resume->epoch exceeds max_epoch.
 * \note Secrets: k0 and every derived k_e are held in v (and as volatile PSA keys) until
 *       fs38_log_verify_free() wipes and destroys them; the keys of epochs left behind are kept
 *       only in the 4 most recent, to name late records.
 */
FS38_NODISCARD fs38_err fs38_log_verify_init(fs38_log_verifier *v, const fs38_log_verify_config *cfg);

/**
 * \brief Verify one batch (call in export order). Findings go to cfg.report and are counted,
 *        not returned: a batch that holds no record is a finding (TRUNCATED: it proves
 *        nothing); an authentic record whose payload does not decode is a finding (MALFORMED);
 *        an unreadable batch header is BAD_BATCH.
 *
 * \param[in,out] v     Initialised verifier.
 * \param[in]     batch len bytes; read during the call only (report items point into it only
 *                      while the callback runs).
 * \param[in]     len   Bytes.
 * \return FS38_OK (whatever was found); FS38_ERR_ARG when v or batch is NULL; FS38_ERR_CRYPTO
 *         when PSA fails (key derivation, import, MAC); FS38_ERR_LIMIT when an authentic SEAL
 *         would move the chain beyond cfg.max_epoch. After an error the verifier is mid-batch:
 *         free it.
 */
FS38_NODISCARD fs38_err fs38_log_verify_batch(fs38_log_verifier *v, const uint8_t *batch, size_t len);

/**
 * \brief After the last batch: report a missing closing checkpoint and unexplained gaps, and
 *        give the verdict. Call once; it does not free v.
 *
 * \param[in,out] v     Initialised verifier.
 * \param[out]    state May be NULL; where to resume the next verification (next seq, epoch,
 *                      chain head), written whatever the verdict.
 * \return FS38_OK only when nothing was found (no item other than OK / NOTE since init) AND the
 *         last batch ends with an authentic, decodable CHECKPOINT record that closes the export
 *         (its `start` is where the export began), signed (signature verified) when cfg.signers
 *         is set, and carrying cfg.nonce when it is set; no batch, an empty batch, or a last
 *         batch without that checkpoint is TRUNCATED. FS38_ERR_LOG_VERIFY otherwise;
 *         FS38_ERR_ARG when v is NULL.
 */
FS38_NODISCARD fs38_err fs38_log_verify_finish(fs38_log_verifier *v, fs38_log_vstate *state);

/**
 * \brief End a verification: destroy its PSA keys and wipe the whole verifier (keys included).
 *
 * \param[in,out] v Verifier (initialised, failed or already freed); NULL is ignored. The
 *                  signers keyring is not freed (the caller's).
 */
void fs38_log_verify_free(fs38_log_verifier *v);

/**
 * \brief Name of a finding kind for reports.
 * \param[in] k A kind.
 * \return A static string ("ok", "modified", "missing", ...), or "unknown"; never NULL.
 */
const char *fs38_logv_name(fs38_logv_kind k);

#ifdef __cplusplus
}
#endif
#endif /* FS38_LOG_H */
