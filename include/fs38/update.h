/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/update.h — the device update agent (control 3): authentic, newer firmware meant for
 * this device, decrypted on the fly into the staging slot, never leaving the device without
 * a bootable image.
 *
 *   fs38_update_begin()   the envelope alone: authentication, vendor / class, components,
 *                         image size against the staging slot, sequence >= anti-rollback
 *                         counter — all before any payload byte is accepted. Plans the
 *                         install sequence (fetch, optional copy-with-decryption), erases the
 *                         staging slot and stores the envelope there. If the persisted state
 *                         says the same update (same manifest digest) was interrupted, it
 *                         resumes instead: ctx->offset is where the payload must continue.
 *   fs38_update_write()   payload bytes in chunks of any size (1 byte .. everything):
 *                         decrypt, hash, program into the staging slot; constant RAM.
 *                         Progress is persisted every FS38_UPDATE_PROGRESS bytes.
 *   fs38_update_finish()  the payload digest and the image digest must match (and the GCM
 *                         tag): then the slot header is written and the image is marked
 *                         pending — the next boot tries it once (fs38_boot_select), the
 *                         running firmware confirms it (fs38_boot_confirm).
 *
 * A/B with no copying: every byte of the new image is programmed exactly once into the slot
 * it will run from. Every rejection has its own error, raises FS38_EV_UPDATE_REJECTED (or
 * FS38_EV_ROLLBACK_REFUSED) and leaves the running image and the confirmed state untouched.
 */
#ifndef FS38_UPDATE_H
#define FS38_UPDATE_H

#include <stdbool.h>
#include <stdint.h>
#include "fs38/boot.h"
#include "fs38/decrypt.h"
#include "fs38/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* FS38_UPDATE_CHUNK (the internal work buffer, a libfs38 build option) comes from the
 * generated configuration header, never from a compile definition. */
#include "fs38/config.h"
#define FS38_UPDATE_PROGRESS (64u * 1024u)      /* persist progress every 64 KiB */

typedef struct fs38_update_config {
    const fs38_boot_config *boot;      /* slots, trust anchors, identity; boot->state required */
    unsigned running_slot;             /* the slot the device booted; the other one is staged */
    fs38_decrypt_keys keys;            /* device ECDH key and/or pre-shared KEK */
} fs38_update_config;

typedef struct fs38_update_ctx {
    fs38_update_config cfg;
    fs38_diag diag;
    bool active;
    bool resumed;
    unsigned slot;                      /* staging slot */
    uint64_t sequence;
    uint8_t manifest_digest[32];
    uint32_t env_len;

    /* plan (from the install sequence) */
    uint64_t image_size;                /* plaintext */
    uint8_t image_digest[32];
    uint64_t payload_size;              /* bytes expected from the network */
    bool check_payload_digest;
    uint8_t payload_digest[32];
    bool encrypted;

    /* streaming */
    uint64_t offset;                    /* payload bytes accepted so far (resume point) */
    uint64_t programmed;                /* plaintext bytes programmed */
    uint64_t persisted;                 /* plaintext bytes recorded durable */
    fs38_bootstate st;                  /* the state as this update last wrote it */
    psa_hash_operation_t image_hash;
    psa_hash_operation_t payload_hash;
    fs38_decryptor dec;
    union {
        struct {
            fs38_suit_manifest m;
            fs38_suit_runner r;
        } plan;                         /* begin only */
        uint8_t work[FS38_UPDATE_CHUNK + 16];
    } u;
} fs38_update_ctx;

/* sizeof(fs38_update_ctx) as libfs38 was built: a consumer compares it with its own sizeof to
 * catch a configuration header that does not belong to the library it links. */
size_t fs38_update_ctx_size(void);

/* Start (or resume) an update with its envelope; see above. */
FS38_NODISCARD fs38_err fs38_update_begin(fs38_update_ctx *u, const fs38_update_config *cfg, const uint8_t *env, size_t env_len);
/* Feed payload bytes; they must continue at u->offset. */
FS38_NODISCARD fs38_err fs38_update_write(fs38_update_ctx *u, const uint8_t *data, size_t len);
/* Verify everything and mark the new image pending. */
FS38_NODISCARD fs38_err fs38_update_finish(fs38_update_ctx *u);
/* Abandon: releases the crypto operations and keys held by the context (call it also after
 * FS38_ERR_POWER, before the context is reused); when the flash still works, the persisted
 * progress is dropped too. The staging slot stays unbootable. */
void fs38_update_abort(fs38_update_ctx *u);

#ifdef __cplusplus
}
#endif
#endif /* FS38_UPDATE_H */
