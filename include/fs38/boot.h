/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/boot.h — secure boot with A/B slots and anti-rollback (control 2).
 *
 * Each slot is a flash region holding a SUIT envelope and the image it describes:
 *
 *   slot + 0                       slot header (FS38_SLOT_HEADER_SIZE bytes): magic
 *                                  "FS38SLT1", envelope length, image length (LE u32)
 *   slot + FS38_SLOT_HEADER_SIZE   the envelope (at most FS38_ENVELOPE_MAX bytes)
 *   slot + image_offset            the image (image_offset is sector aligned, default 4096)
 *
 * Boot verifies every slot completely — COSE signature by a trust anchor, manifest digest,
 * vendor and class id conditions, image digest and size (streamed from flash in
 * FS38_BOOT_CHUNK-byte chunks, so RAM does not grow with the image), sequence number >= the
 * anti-rollback counter, and an invoke sequence — and picks the verified slot with the
 * highest sequence number (slot A on a tie). The other slot is the fallback. Nothing
 * verifies: FS38_ERR_NOT_BOOTABLE, with each slot's reason in ctx->slot[i].reason.
 *
 * Boot never advances the anti-rollback counter: only fs38_boot_commit() does, once the
 * running firmware is known good, so falling back to an older verified slot stays possible
 * until a newer image is committed.
 */
#ifndef FS38_BOOT_H
#define FS38_BOOT_H

#include <stdbool.h>
#include <stdint.h>
#include "fs38/cose.h"
#include "fs38/err.h"
#include "fs38/port.h"
#include "fs38/suit.h"
#include "fs38/bootstate.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FS38_SLOT_COUNT 2
#define FS38_SLOT_HEADER_SIZE 16u
#define FS38_ENVELOPE_MAX 4000u
#define FS38_SLOT_DEFAULT_IMAGE_OFFSET 4096u
#define FS38_BOOT_CHUNK 512u
#define FS38_SLOT_MAGIC "FS38SLT1"

typedef struct fs38_region {
    uint32_t offset; /* sector aligned */
    uint32_t size;   /* multiple of the sector size */
} fs38_region;

typedef struct fs38_boot_config {
    const fs38_port *port;
    const fs38_keyring *trust;    /* trust anchors ("ROM" keys) */
    const uint8_t *vendor_id;     /* 16 bytes (UUID) */
    const uint8_t *class_id;      /* 16 bytes (UUID) */
    fs38_region slot[FS38_SLOT_COUNT];
    uint32_t image_offset;        /* offset of the image inside a slot; 0 = default 4096 */
    /*
     * Two sectors for the persistent boot/update state (fs38/bootstate.h), or size 0. With a
     * state region, boot follows the update protocol: the confirmed slot boots; a pending
     * (newly installed) slot is tried once; a trial that is not confirmed before the next
     * boot is reverted (its slot invalidated) and the confirmed slot boots again. Before the
     * first confirmation (factory-programmed slots) and when the confirmed slot no longer
     * verifies, the verified slot with the highest sequence number boots, except a slot an
     * update is being written into. Without a state region, the verified slot with the
     * highest sequence number boots.
     */
    fs38_region state;
} fs38_boot_config;

/* What boot found in a slot. */
typedef struct fs38_slot_info {
    bool present;                 /* a slot header was found */
    fs38_err verdict;             /* FS38_OK when the slot verified completely */
    char reason[FS38_DIAG_MAX];   /* why it was refused */
    uint64_t sequence;
    uint32_t image_size;
    uint8_t image_digest[32];
    uint8_t manifest_digest[32];
    int64_t alg;
    uint8_t signer_kid[FS38_KID_LEN];
} fs38_slot_info;

typedef struct fs38_boot_ctx {
    fs38_boot_config cfg;
    fs38_slot_info slot[FS38_SLOT_COUNT];
    uint64_t counter;             /* anti-rollback counter read at the last verification */
    int chosen;                   /* slot selected by fs38_boot_select, -1 if none */
    /* working memory (caller-owned with the context, never on the stack) */
    uint8_t env[FS38_ENVELOPE_MAX];
    uint8_t chunk[FS38_BOOT_CHUNK];
    fs38_suit_manifest m;
    fs38_suit_runner r;
    unsigned cur_slot;
    uint32_t cur_image_len;
    fs38_bootstate st;            /* the state read by the last fs38_boot_select */
    bool reverted;                /* the last select reverted an unconfirmed trial */
    int reverted_slot;
} fs38_boot_ctx;

/* Check the configuration (regions inside flash, aligned, not overlapping) and reset state. */
FS38_NODISCARD fs38_err fs38_boot_init(fs38_boot_ctx *ctx, const fs38_boot_config *cfg);

/* Verify one slot completely; fills ctx->slot[slot]. */
FS38_NODISCARD fs38_err fs38_boot_verify_slot(fs38_boot_ctx *ctx, unsigned slot);

/*
 * Verify every slot and choose the one to boot (highest verified sequence). On success
 * *slot is its index. FS38_ERR_NOT_BOOTABLE when none verifies.
 */
FS38_NODISCARD fs38_err fs38_boot_select(fs38_boot_ctx *ctx, unsigned *slot);

/*
 * Commit a slot as known good: re-verify it, then advance the anti-rollback counter to its
 * sequence number. Afterwards, images with a lower sequence number never boot again.
 */
FS38_NODISCARD fs38_err fs38_boot_commit(fs38_boot_ctx *ctx, unsigned slot);

/*
 * Confirm the image on trial (needs a state region): called by the running firmware after its
 * self-test. Re-verifies the pending slot, records it as confirmed, then commits it (advances
 * the anti-rollback counter). FS38_ERR_STATE when no image is on trial. *slot gets the slot.
 * Power-safe: a cut after the state write is completed by the next fs38_boot_select.
 */
FS38_NODISCARD fs38_err fs38_boot_confirm(fs38_boot_ctx *ctx, unsigned *slot);

/*
 * The slot the device is running now, as fs38_boot_select chose it at the last boot, without
 * changing anything (no trial is started or reverted, no counter moves): the image on trial,
 * else the confirmed slot, else the highest verified one. The update agent stages into the
 * other slot. FS38_ERR_NOT_BOOTABLE when nothing verifies.
 */
FS38_NODISCARD fs38_err fs38_boot_running(fs38_boot_ctx *ctx, unsigned *slot);

/* Make a slot unbootable (clears its header magic); used when a trial is reverted. */
FS38_NODISCARD fs38_err fs38_slot_invalidate(const fs38_boot_config *cfg, unsigned slot);

/* Read a slot's header: envelope and image lengths. FS38_ERR_NO_IMAGE when empty/invalid. */
FS38_NODISCARD fs38_err fs38_slot_header(const fs38_boot_config *cfg, unsigned slot, uint32_t *env_len, uint32_t *image_len);

/*
 * Program a slot with an envelope and an image without any check (factory programming,
 * tests): erase the region, program the image, the envelope, then the header last.
 */
FS38_NODISCARD fs38_err fs38_slot_program(const fs38_boot_config *cfg, unsigned slot, const uint8_t *env, size_t env_len,
                           const uint8_t *image, size_t image_len);

/* Image offset inside a slot for this configuration. */
uint32_t fs38_slot_image_offset(const fs38_boot_config *cfg);

/* Version string of the library ("0.1.0"). */
const char *fs38_version(void);

#ifdef __cplusplus
}
#endif
#endif /* FS38_BOOT_H */
