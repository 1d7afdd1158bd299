/*
 * fs38/store.h — sealed key/value storage on flash (control 6).
 *
 * Records (name <= FS38_STORE_NAME_MAX bytes, value <= FS38_STORE_VALUE_MAX bytes) are
 * AEAD-sealed (AES-GCM through PSA) under a device storage key derived from the port's
 * hardware unique key; the storage key is a volatile PSA key, usable only for that AEAD,
 * never exportable, and wiped (psa_destroy_key) by fs38_store_close(). Record name, version
 * and the store's generation counter are AAD; nonces never repeat.
 *
 * The store lives in a flash region of at least two sectors, written copy-on-write with
 * compaction: a power cut at any program/erase leaves either the old or the new value of a
 * record, never a torn one. The store's state is bound to a monotonic counter of the port
 * (FS38_COUNTER_STORE): restoring an older copy of the region is detected
 * (FS38_ERR_STORE_ROLLBACK, "store rolled back") instead of silently serving old secrets.
 *
 * The context is caller-owned; no allocation.
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

typedef struct fs38_store_config {
    const fs38_port *port;
    uint32_t offset;  /* sector aligned */
    uint32_t size;    /* >= 2 sectors, multiple of the sector size */
} fs38_store_config;

/* Opaque to callers: its fields are the implementation's (see src/store.c). */
typedef struct fs38_store {
    fs38_store_config cfg;
    psa_key_id_t key;
    bool open;
    uint32_t active_sector;   /* index within the region */
    uint32_t write_off;       /* next free byte in the active sector */
    uint64_t generation;
    uint64_t nonce_counter;
    uint8_t buf[FS38_STORE_NAME_MAX + FS38_STORE_VALUE_MAX + 64];
} fs38_store;

/* Open (mounting, recovering from an interrupted write, checking the rollback binding). */
fs38_err fs38_store_open(fs38_store *s, const fs38_store_config *cfg);
/* Destroy the storage key and wipe the context. */
void fs38_store_close(fs38_store *s);
/* Store (replace) a value. */
fs38_err fs38_store_put(fs38_store *s, const char *name, const uint8_t *value, size_t len);
/* Read a value into buf (cap bytes); *len gets its length. FS38_ERR_NOT_FOUND if absent. */
fs38_err fs38_store_get(fs38_store *s, const char *name, uint8_t *buf, size_t cap, size_t *len);
/* Delete a value (FS38_OK if it was absent). */
fs38_err fs38_store_delete(fs38_store *s, const char *name);
/* Erase the whole region physically (decommissioning); the store is closed afterwards. */
fs38_err fs38_store_wipe(fs38_store *s);

#ifdef __cplusplus
}
#endif
#endif /* FS38_STORE_H */
