/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/store.h — sealed key/value storage on flash (control 6).
 *
 * Records (name: 1..FS38_STORE_NAME_MAX bytes, value: 0..FS38_STORE_VALUE_MAX bytes) are
 * AEAD-sealed (AES-256-GCM through PSA) under a device storage key derived (HKDF-SHA-256,
 * inside PSA) from the port's hardware unique key. The storage key is a PSA key that never
 * exists outside PSA, is not exportable, is usable only for that AEAD, and is re-derived
 * identically at every open, so it needs no storage of its own; fs38_store_close() destroys
 * it. Names are sealed too; lookups use a keyed tag (HMAC-SHA-256 under a second derived
 * key). Record header (kind, lengths, sequence, nonce, chain link, name tag) is AAD; nonces
 * are reserved in the port's monotonic counter before use, so they never repeat, not even
 * after power cuts or a restored flash image.
 *
 * The store lives in a flash region of at least two banks (a bank is one or more sectors),
 * written copy-on-write with compaction into the next bank, so writes rotate over all banks.
 * A power cut at any program/erase leaves either the old or the new value of a record, never
 * a torn one. The store's state is bound to a monotonic counter of the port
 * (FS38_COUNTER_STORE): restoring an older copy of the region is detected
 * (FS38_ERR_STORE_ROLLBACK, diag "store rolled back ...") instead of silently serving old
 * secrets. One store per port: the counter is the store's.
 *
 * Damage (fail closed): a changed byte in any record or bank header of the committed state
 * makes fs38_store_open() fail with FS38_ERR_STORE_CORRUPT (diag names bank and offset) and
 * raise FS38_EV_STORE_CORRUPT: names are sealed, so the store cannot tell which name a damaged
 * record held, and serving anything else could silently hand out a superseded value. Damage
 * after the last committed record is an interrupted write and is ignored. fs38_store_get()
 * re-authenticates the record it returns (FS38_ERR_STORE_CORRUPT if the flash changed since
 * open). Recovery: fs38_store_wipe(), which also works on a store that failed to open.
 *
 * Capacity: the live records (latest value of each name, old version included) + the record
 * being written + room for one tombstone (96 bytes, so that a full store can always delete)
 * must fit in one bank minus its 64-byte header; a record takes 56 + 1 + name + value bytes,
 * rounded up to 8. Beyond that, FS38_ERR_STORE_FULL and nothing is written.
 *
 * Lifecycle: fs38_store_open() → put / get / delete / compact → fs38_store_close() (or
 * fs38_store_wipe(), which also closes). The context is caller-owned (about 2.2 KiB, with its
 * record buffers); no allocation. It holds two PSA keys while open: always close it. One
 * context is used by one thread at a time; several contexts on the same flash (tasks,
 * processes) are serialised by the port's device lock (fs38/port.h, "Concurrency"), and each
 * call re-reads the state under it. See src/storage/store.c for the on-flash format and the
 * power-cut / rollback reasoning.
 */
#ifndef FS38_STORE_H
#define FS38_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <psa/crypto.h>
#include "fs38/err.h"
#include "fs38/port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FS38_STORE_NAME_MAX 32
#define FS38_STORE_VALUE_MAX 1024

/* On-flash sizes (see src/storage/store.c). */
#define FS38_STORE_BANK_HDR 64u   /* bank header */
#define FS38_STORE_REC_HDR 40u    /* record header (AAD) */
#define FS38_STORE_TAG 16u        /* GCM tag */
#define FS38_STORE_ALIGN 8u       /* records start on multiples of this */
#define FS38_STORE_PLAIN_MAX (1u + FS38_STORE_NAME_MAX + FS38_STORE_VALUE_MAX)
#define FS38_STORE_REC_MAX                                                                     \
    ((FS38_STORE_REC_HDR + FS38_STORE_PLAIN_MAX + FS38_STORE_TAG + FS38_STORE_ALIGN - 1u) &    \
     ~(FS38_STORE_ALIGN - 1u))

typedef struct fs38_store_config {
    const fs38_port *port;
    uint32_t offset;    /* sector aligned */
    uint32_t size;      /* >= 2 banks, multiple of the bank size */
    uint32_t bank_size; /* bytes per bank, a multiple of the sector size; 0 = one sector.
                           Must hold FS38_STORE_BANK_HDR + FS38_STORE_REC_MAX. */
} fs38_store_config;

/* Opaque to callers: its fields are the implementation's (see src/storage/store.c). */
typedef struct fs38_store {
    fs38_store_config cfg;
    psa_key_id_t key;     /* AES-256-GCM storage key (volatile, derived, not exportable) */
    psa_key_id_t mac_key; /* HMAC-SHA-256 key: name tags and bank header MACs */
    bool open;
    bool broken;          /* a write failed half-way: reopen before the next call */
    bool dirty;           /* bytes after the log (interrupted write): next write compacts */
    bool fresh;           /* `counter` has not been used as a nonce yet */
    uint32_t bank_size;
    uint32_t nbanks;
    uint32_t active;      /* active bank (index within the region) */
    uint32_t body_end;    /* end of the compacted body in the active bank */
    uint32_t log_end;     /* end of the valid log = next free byte in the active bank */
    uint32_t live;        /* bytes of live records (latest value of each name) */
    bool live_known;      /* `live` computed (lazily, at the first write after open) */
    uint32_t level;       /* committed state number (records written since creation) */
    uint64_t last_nonce;  /* nonce of the record that committed `level` (its identity) */
    uint64_t generation;  /* generation of the active bank */
    uint64_t counter;     /* value of FS38_COUNTER_STORE as last read/advanced */
    fs38_diag diag;       /* why the last call failed (kept by a failed open) */
    uint8_t buf[FS38_STORE_REC_MAX];
    uint8_t plain[FS38_STORE_PLAIN_MAX];
} fs38_store;

/*
 * Errors that every store call below can pass on from the layers under it ("store I/O
 * errors" in the lists): FS38_ERR_IO / FS38_ERR_POWER, or any code the port's flash and
 * counter callbacks return; FS38_ERR_CRYPTO when PSA fails (key derivation, AEAD, MAC).
 * A write (put, delete, compact) that fails half-way marks the store broken: it answers
 * FS38_ERR_STATE ("store must be reopened after a failed write") until fs38_store_open()
 * is called again. After every failed call s->diag says why.
 */

/**
 * \brief Open a store: derive its keys from the hardware unique key, find the newest authentic
 *        bank, replay its log, recover from an interrupted write and check the rollback
 *        binding. A blank region is formatted when the counter shows nothing was ever committed.
 *
 * \param[out] s   Context to fill (wiped first). On failure it keeps only its configuration
 *                 and s->diag, enough for fs38_store_wipe().
 * \param[in]  cfg Configuration, copied into s (cfg may be &s->cfg, to reopen). cfg->port is
 *                 kept by pointer: the port must outlive s.
 * \return FS38_OK; FS38_ERR_ARG when s or cfg is NULL, the port lacks flash or counter
 *         callbacks, or the region geometry is wrong (alignment, fewer than 2 banks, more than
 *         256, a bank too small for FS38_STORE_REC_MAX, outside the flash); FS38_ERR_STATE when
 *         the port has no hardware_key (sealed storage unavailable); FS38_ERR_STORE_CORRUPT
 *         (event FS38_EV_STORE_CORRUPT) when a committed record or bank header does not
 *         authenticate, no bank is authentic although the region is not blank (another device's
 *         key, damage), or the store is ahead of its counter; FS38_ERR_STORE_ROLLBACK (event
 *         FS38_EV_STORE_ROLLBACK) when the region is older than the counter says (a restored
 *         copy, or a blank region after commits); FS38_ERR_CRYPTO; store I/O errors (including
 *         those of port->hardware_key and counter_read).
 * \note Secrets: the key material read from the port is wiped at once; the derived keys are
 *       volatile, non-exportable PSA keys held in s until fs38_store_close().
 */
FS38_NODISCARD fs38_err fs38_store_open(fs38_store *s, const fs38_store_config *cfg);

/**
 * \brief Close a store: destroy its PSA keys and wipe the whole context (buffers included).
 *
 * \param[in,out] s Context, open or not (a failed open is fine); NULL is ignored. Afterwards
 *                  it must be opened again before any other call (fs38_store_wipe() then needs
 *                  a configuration again, too).
 */
void fs38_store_close(fs38_store *s);

/**
 * \brief Store (replace) the value of a name; power-safe (old or new value after a cut).
 *
 * \param[in,out] s     Open store.
 * \param[in]     name  NUL-terminated, 1..FS38_STORE_NAME_MAX bytes.
 * \param[in]     value len bytes (may be NULL when len is 0); copied (sealed) before return.
 * \param[in]     len   0..FS38_STORE_VALUE_MAX.
 * \return FS38_OK; FS38_ERR_STATE when s is NULL, not open, or broken by an earlier failed
 *         write; FS38_ERR_ARG for a bad name or length; FS38_ERR_STORE_FULL when the live
 *         records, the new one and room for one tombstone do not fit in a bank (nothing
 *         written); FS38_ERR_LIMIT when the state or nonce counter space is exhausted;
 *         FS38_ERR_STORE_CORRUPT (event) when the flash changed since open; store I/O errors
 *         (the store is then broken, see above).
 */
FS38_NODISCARD fs38_err fs38_store_put(fs38_store *s, const char *name, const uint8_t *value, size_t len);

/**
 * \brief Read the value of a name (re-authenticated from flash on every call).
 *
 * \param[in,out] s    Open store (s->diag is written on failure).
 * \param[in]     name NUL-terminated, 1..FS38_STORE_NAME_MAX bytes.
 * \param[out]    buf  cap bytes; receives the value on FS38_OK only (may be NULL when cap is 0,
 *                     to ask for the length).
 * \param[in]     cap  Capacity of buf.
 * \param[out]    len  Must not be NULL. The value's length on FS38_OK and on FS38_ERR_BUFFER.
 * \return FS38_OK; FS38_ERR_STATE when s is NULL, not open or broken; FS38_ERR_ARG for a bad
 *         name, len NULL, or buf NULL with cap > 0; FS38_ERR_NOT_FOUND when the name has no
 *         value (never stored, or deleted); FS38_ERR_BUFFER when the value is longer than cap
 *         (*len says how long; nothing copied); FS38_ERR_STORE_CORRUPT (event) when the record
 *         does not authenticate or the flash changed since open; store I/O errors.
 * \note The decrypted value passes through s->plain, which is wiped before return.
 */
FS38_NODISCARD fs38_err fs38_store_get(fs38_store *s, const char *name, uint8_t *buf, size_t cap, size_t *len);

/**
 * \brief Delete the value of a name (appends a tombstone); power-safe.
 *
 * \param[in,out] s    Open store.
 * \param[in]     name NUL-terminated, 1..FS38_STORE_NAME_MAX bytes.
 * \return FS38_OK, also when the name had no value (then nothing is written); FS38_ERR_STATE
 *         (not open, broken, s NULL); FS38_ERR_ARG (bad name); FS38_ERR_STORE_FULL;
 *         FS38_ERR_LIMIT; FS38_ERR_STORE_CORRUPT (event); store I/O errors.
 */
FS38_NODISCARD fs38_err fs38_store_delete(fs38_store *s, const char *name);

/**
 * \brief Erase the whole region physically (decommissioning) and leave an empty store's bank
 *        header, committed through the counter; the context is closed afterwards, whatever
 *        the result.
 *
 * Works on an open store (atomic: old contents or an empty store after a power cut) and on
 * one whose open failed (recovery; an interrupted wipe must be repeated). The next open finds
 * an empty store.
 *
 * \param[in,out] s Store context holding at least its configuration (open, or after a failed
 *                  fs38_store_open()). Closed on return (fs38_store_close()); on failure
 *                  s->diag is kept.
 * \return FS38_OK; FS38_ERR_ARG when s is NULL, has no port, or (recovery) bad geometry;
 *         FS38_ERR_STATE when the port has no hardware key; FS38_ERR_LIMIT when the counter
 *         space is exhausted; FS38_ERR_CRYPTO; store I/O errors.
 */
FS38_NODISCARD fs38_err fs38_store_wipe(fs38_store *s);

/**
 * \brief Compact now: copy the live records (each re-authenticated) to the next bank and
 *        erase the active one (also done automatically when the active bank is full).
 *
 * \param[in,out] s Open store.
 * \return FS38_OK; FS38_ERR_STATE (not open, broken, s NULL); FS38_ERR_STORE_CORRUPT when a
 *         live record no longer authenticates (the flash changed since open); store I/O
 *         errors. Any failure marks the store broken (reopen it).
 */
FS38_NODISCARD fs38_err fs38_store_compact(fs38_store *s);

/**
 * \brief Bind the store that backs PSA's persistent key storage (psa_its_*,
 *        src/storage/its.c); NULL unbinds.
 *
 * Items are stored as records named "its/<uid, 16 hex digits>", at most
 * FS38_STORE_VALUE_MAX - 4 bytes each. Unbound, psa_its_get reports DOES_NOT_EXIST and
 * psa_its_set STORAGE_FAILURE.
 *
 * \param[in] s Open store, kept by pointer in a process-global: it must stay open (and in
 *              place) while bound — unbind (NULL) before fs38_store_close(). Not thread-safe.
 */
void fs38_its_bind(fs38_store *s);

#ifdef __cplusplus
}
#endif
#endif /* FS38_STORE_H */
