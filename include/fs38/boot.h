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
 *
 * Lifecycle: fs38_boot_init() → verify / select / commit / confirm / running, any number of
 * times. The context holds no resource (its buffers are inside it), so there is no teardown.
 * It is large (envelope buffer and interpreter state): give it static storage on small
 * targets. Not thread-safe; one context per device (see fs38/port.h).
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
    /*
     * Slot binding. An envelope binds its image to a slot with the SUIT parameter
     * component-slot (0 = slot A, 1 = slot B) checked by condition-component-slot in its shared
     * sequence (`fs38 sign --slot A|B`). A bound envelope is refused in the other slot, always
     * (FS38_ERR_WRONG_SLOT), by boot and by the update agent. With require_slot set, an envelope
     * that binds its image to no slot is refused too: set it where images run in place, linked
     * for the slot's address (a Cortex-M XIP slot), so code linked for slot B never runs from A.
     * false: unbound envelopes are accepted in either slot (position-independent images, the
     * POSIX device).
     */
    bool require_slot;
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
#if !FS38_BOOT_MAPPED /* fs38/config.h: a mapped-flash boot parses and hashes in place */
    uint8_t env[FS38_ENVELOPE_MAX];
    uint8_t chunk[FS38_BOOT_CHUNK];
#endif
    fs38_suit_manifest m;
    fs38_suit_runner r;
    unsigned cur_slot;
    uint32_t cur_image_len;
    bool wrong_slot;              /* the last run's component-slot condition named another slot */
    uint64_t bound_slot;          /* the slot it named */
    fs38_bootstate st;            /* the state read by the last fs38_boot_select */
    bool reverted;                /* the last select reverted an unconfirmed trial */
    int reverted_slot;
} fs38_boot_ctx;

/*
 * "Verification errors" below: the reasons fs38_boot_verify_slot() refuses a slot —
 * FS38_ERR_NO_IMAGE (no valid slot header); the errors of fs38_suit_authenticate();
 * FS38_ERR_ROLLBACK (sequence below the anti-rollback counter); the errors of fs38_suit_run()
 * for the validate and invoke sequences (FS38_ERR_VENDOR_ID, FS38_ERR_CLASS_ID,
 * FS38_ERR_IMAGE_DIGEST, FS38_ERR_IMAGE_SIZE, FS38_ERR_CONDITION, FS38_ERR_COMPONENT, ...);
 * FS38_ERR_WRONG_SLOT (the envelope binds the image to the other slot, or to none while
 * fs38_boot_config.require_slot is set);
 * FS38_ERR_POLICY (the manifest does not check vendor id, class id and image digest, has no
 * invoke sequence, or does not invoke the image); FS38_ERR_IMAGE_SIZE (no or a different image
 * size); FS38_ERR_CRYPTO; and the port's errors (FS38_ERR_IO, FS38_ERR_POWER, or the code of
 * flash_read / counter_read).
 */

/**
 * \brief Check the configuration (regions inside flash, aligned, not overlapping) and reset
 *        the context's state.
 *
 * \param[out] ctx Context (several KiB: envelope buffer, manifest, interpreter); zeroed, then
 *                 cfg is copied into it. Written only on FS38_OK.
 * \param[in]  cfg Configuration, copied. The port, keyring, vendor and class ids it points to
 *                 are kept by pointer and must outlive ctx.
 * \return FS38_OK; FS38_ERR_ARG when ctx, cfg, cfg->port, cfg->trust, cfg->vendor_id or
 *         cfg->class_id is NULL, the port lacks flash_read, counter_read or counter_advance,
 *         the sector size is 0, the image offset is unaligned or below
 *         FS38_SLOT_HEADER_SIZE + FS38_ENVELOPE_MAX, a slot is unaligned, not larger than the
 *         image offset or outside the flash, the slots overlap, or a state region is not two
 *         aligned sectors inside the flash apart from both slots; also when fs38/config.h
 *         sets FS38_BOOT_MAPPED and the port has no flash_map.
 */
FS38_NODISCARD fs38_err fs38_boot_init(fs38_boot_ctx *ctx, const fs38_boot_config *cfg);

/**
 * \brief Verify one slot completely (header, envelope, signature, manifest, anti-rollback
 *        counter, validate and invoke sequences with the image digest streamed from flash).
 *        Changes nothing on flash.
 *
 * \param[in,out] ctx  Initialised context.
 * \param[in]     slot 0..FS38_SLOT_COUNT-1.
 * \return FS38_OK; FS38_ERR_ARG when ctx is NULL or slot is out of range; otherwise the
 *         verification error. ctx->slot[slot] is rewritten in every case but FS38_ERR_ARG:
 *         verdict = the result, reason = its diagnostic, and on FS38_OK the sequence, image
 *         size and digests, algorithm and signer kid. ctx->counter gets the anti-rollback
 *         counter when it could be read.
 */
FS38_NODISCARD fs38_err fs38_boot_verify_slot(fs38_boot_ctx *ctx, unsigned slot);

/**
 * \brief Verify every slot and choose the one to boot. Without a state region: the verified
 *        slot with the highest sequence (A on a tie). With one: the update protocol of
 *        fs38_boot_config.state (start a trial, revert an unconfirmed one, complete an
 *        interrupted confirmation), which may write the state region, invalidate a reverted
 *        slot and advance the anti-rollback counter. Raises FS38_EV_BOOT_REFUSED per refused
 *        slot, FS38_EV_BOOT_REVERTED, and FS38_EV_BOOT_OK or FS38_EV_BOOT_NONE.
 *
 * \param[in,out] ctx  Initialised context: slot[], counter, chosen, st, reverted(_slot) are
 *                     updated.
 * \param[out]    slot The chosen slot on FS38_OK; may be NULL (ctx->chosen has it too).
 * \return FS38_OK; FS38_ERR_ARG when ctx is NULL; FS38_ERR_NOT_BOOTABLE when no slot can boot
 *         (each slot's reason in ctx->slot[i].reason); FS38_ERR_POWER when power failed
 *         during a slot read or a state write (a slot's other verification errors do not
 *         fail the call, they refuse the slot); FS38_ERR_IO and the port's codes from the
 *         counter read and the state region (fs38_bootstate_read / _write, slot invalidation);
 *         FS38_ERR_CRYPTO (state record check value).
 */
FS38_NODISCARD fs38_err fs38_boot_select(fs38_boot_ctx *ctx, unsigned *slot);

/**
 * \brief Commit a slot as known good: re-verify it, then advance the anti-rollback counter to
 *        its sequence number. Afterwards images with a lower sequence never boot again.
 *
 * \param[in,out] ctx  Initialised context (slot[slot] and counter updated).
 * \param[in]     slot 0..FS38_SLOT_COUNT-1.
 * \return FS38_OK; FS38_ERR_ARG when ctx is NULL or slot is out of range; the verification
 *         error when the slot does not verify (the counter is not touched); the port's
 *         counter_advance / counter_read errors.
 */
FS38_NODISCARD fs38_err fs38_boot_commit(fs38_boot_ctx *ctx, unsigned slot);

/**
 * \brief Confirm the image on trial: called by the running firmware after its self-test.
 *        Re-verifies the pending slot, records it as confirmed, then commits it (advances the
 *        anti-rollback counter). Raises FS38_EV_UPDATE_CONFIRMED. Power-safe: a cut after the
 *        state write is completed by the next fs38_boot_select().
 *
 * \param[in,out] ctx  Initialised context with a state region (ctx->st, slot[], counter updated).
 * \param[out]    slot The confirmed slot on FS38_OK; may be NULL.
 * \return FS38_OK; FS38_ERR_ARG when ctx is NULL or the configuration has no state region;
 *         FS38_ERR_STATE when no image is on trial; the verification error when the pending
 *         slot no longer verifies (nothing recorded); errors of fs38_bootstate_read() /
 *         fs38_bootstate_write(); the port's counter_advance / counter_read errors.
 */
FS38_NODISCARD fs38_err fs38_boot_confirm(fs38_boot_ctx *ctx, unsigned *slot);

/**
 * \brief The slot the device is running now, as fs38_boot_select() chose it at the last boot,
 *        without changing anything (no trial started or reverted, no counter moved, no
 *        events): the image on trial, else the confirmed slot if it verifies, else the highest
 *        verified one (never the slot a download is going into). The update agent stages into
 *        the other slot.
 *
 * \param[in,out] ctx  Initialised context (slot[] and st are refreshed).
 * \param[out]    slot Must not be NULL; the running slot on FS38_OK.
 * \return FS38_OK; FS38_ERR_ARG when ctx or slot is NULL; FS38_ERR_NOT_BOOTABLE when nothing
 *         verifies; FS38_ERR_POWER from a slot read; errors of fs38_bootstate_read().
 */
FS38_NODISCARD fs38_err fs38_boot_running(fs38_boot_ctx *ctx, unsigned *slot);

/**
 * \brief Program a slot with an envelope and an image without any check (factory programming,
 *        tests): erase the region, program the image, the envelope, then the header last (so a
 *        cut leaves no slot header: an empty slot).
 *
 * \param[in] cfg       Boot configuration (port and slot regions); not kept, not validated
 *                      beyond what is listed here (use one fs38_boot_init() accepted).
 * \param[in] slot      0..FS38_SLOT_COUNT-1.
 * \param[in] env       The SUIT envelope, env_len bytes.
 * \param[in] env_len   1..FS38_ENVELOPE_MAX.
 * \param[in] image     The image, image_len bytes (may be NULL when image_len is 0).
 * \param[in] image_len At most the slot size minus the image offset.
 * \return FS38_OK; FS38_ERR_ARG when cfg or env is NULL, slot is out of range, env_len is 0 or
 *         too large, or image is NULL with a length; FS38_ERR_IMAGE_SIZE when the image does
 *         not fit; FS38_ERR_ARG from the flash wrappers for a region outside the flash;
 *         FS38_ERR_IO / FS38_ERR_POWER or the port's erase / program code.
 */
FS38_NODISCARD fs38_err fs38_slot_program(const fs38_boot_config *cfg, unsigned slot, const uint8_t *env, size_t env_len,
                           const uint8_t *image, size_t image_len);

/**
 * \brief Version string of the library.
 * \return A static semantic-version string ("0.1.0"); never NULL.
 */
const char *fs38_version(void);

#ifdef __cplusplus
}
#endif
#endif /* FS38_BOOT_H */
