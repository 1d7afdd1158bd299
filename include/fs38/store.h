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
 * The context is caller-owned; no allocation. Not thread-safe. See src/store.c for the
 * on-flash format and the power-cut / rollback reasoning.
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

/* On-flash sizes (see src/store.c). */
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

/* Opaque to callers: its fields are the implementation's (see src/store.c). */
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

/* Open (mounting, recovering from an interrupted write, checking the rollback binding). A blank
 * region is formatted when the counter shows nothing was ever committed. On failure s->diag
 * says why and s keeps its configuration (for fs38_store_wipe). */
FS38_NODISCARD fs38_err fs38_store_open(fs38_store *s, const fs38_store_config *cfg);
/* Destroy the storage key and wipe the context. */
void fs38_store_close(fs38_store *s);
/* Store (replace) a value. */
FS38_NODISCARD fs38_err fs38_store_put(fs38_store *s, const char *name, const uint8_t *value, size_t len);
/* Read a value into buf (cap bytes); *len gets its length. FS38_ERR_NOT_FOUND if absent;
 * FS38_ERR_BUFFER (with *len set) if cap is too small. */
FS38_NODISCARD fs38_err fs38_store_get(fs38_store *s, const char *name, uint8_t *buf, size_t cap, size_t *len);
/* Delete a value (FS38_OK if it was absent). */
FS38_NODISCARD fs38_err fs38_store_delete(fs38_store *s, const char *name);
/* Erase the whole region physically (decommissioning); the store is closed afterwards.
 * Works on an open store (atomic: old contents or an empty store after a power cut) and on
 * one whose open failed (recovery; an interrupted wipe must be repeated). The next open finds
 * an empty store. */
FS38_NODISCARD fs38_err fs38_store_wipe(fs38_store *s);

/* Compact now: copy the live records to the next bank and erase the active one (also done
 * automatically when the active bank is full). */
FS38_NODISCARD fs38_err fs38_store_compact(fs38_store *s);

/* Bind the store that backs PSA's persistent key storage (psa_its_*, src/its.c); NULL unbinds.
 * Items are stored as records named "its/<uid, 16 hex digits>", at most
 * FS38_STORE_VALUE_MAX - 4 bytes each. The store must stay open while bound. */
void fs38_its_bind(fs38_store *s);

#ifdef __cplusplus
}
#endif
#endif /* FS38_STORE_H */
