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

/**
 * \brief sizeof(fs38_update_ctx) as libfs38 was built: a consumer compares it with its own
 *        sizeof to catch a configuration header (fs38/config.h, FS38_UPDATE_CHUNK) that does
 *        not belong to the library it links.
 * \return The size in bytes; never fails.
 */
size_t fs38_update_ctx_size(void);

/*
 * Events: from fs38_update_begin()'s first check on (everything but FS38_ERR_ARG), every
 * rejection below records its diagnostic in u->diag and raises FS38_EV_UPDATE_REJECTED
 * (FS38_EV_ROLLBACK_REFUSED for FS38_ERR_ROLLBACK), except FS38_ERR_POWER (the device is off).
 * "Flash errors" below: FS38_ERR_IO / FS38_ERR_POWER or any code of the port's flash
 * callbacks, FS38_ERR_ARG when a region lies outside the flash or the port lacks the callback.
 * "State errors": the errors of fs38_bootstate_read() / fs38_bootstate_write() on
 * cfg->boot->state. The update agent does not take the port's device lock: a caller with
 * several tasks holds it around begin / write / finish (fs38/port.h, "Concurrency").
 */

/**
 * \brief Start (or resume) an update with its envelope: authenticate and check it, plan the
 *        install sequence, then (fresh start) record the download in the boot state, erase the
 *        staging slot and store the envelope there; or (the same update was interrupted)
 *        replay the durable part from flash, with u->offset the payload offset to continue at.
 *        Raises FS38_EV_UPDATE_BEGIN once the envelope authenticates.
 *
 * \param[out] u       Context (a few KiB: fs38_update_ctx_size()), zeroed first unless an
 *                     argument is refused. Active on FS38_OK (holds two hash operations and, for
 *                     an encrypted payload, a decryptor with its CEK): end it with
 *                     fs38_update_finish() or fs38_update_abort(). On failure it holds nothing.
 * \param[in]  cfg     Copied. cfg->boot (kept by pointer, must outlive u) must be a
 *                     configuration fs38_boot_init() accepts (not re-checked here) with a
 *                     state region and a port with counter_read; running_slot 0 or 1 (the
 *                     other slot is the staging slot). cfg->keys is used during this call only.
 * \param[in]  env     The SUIT envelope, env_len bytes; read during the call only (nothing
 *                     points into it afterwards).
 * \param[in]  env_len At most FS38_ENVELOPE_MAX.
 * \return FS38_OK (u->resumed tells a resume; u->offset where the payload continues);
 *         FS38_ERR_ARG when u, cfg, cfg->boot or env is NULL, the boot configuration has no
 *         state region, its port lacks counter_read, counter_advance, flash_erase or
 *         flash_program, or running_slot is out of range (u untouched, no event);
 *         FS38_ERR_OVERSIZE when env_len exceeds FS38_ENVELOPE_MAX or the image is larger than
 *         the staging slot; the errors of fs38_suit_authenticate() (FS38_ERR_ARG when
 *         cfg->boot->trust is NULL); the port's counter_read code; FS38_ERR_ROLLBACK when the
 *         sequence number is below the anti-rollback counter; FS38_ERR_UNSUPPORTED_PARAM when
 *         it is above INT64_MAX; FS38_ERR_STATE when an update is on trial (confirm it first)
 *         or the staging slot holds the confirmed image; the errors of fs38_suit_run() for the
 *         install sequence (FS38_ERR_WRONG_SLOT when its component-slot names the running
 *         slot instead of the staging slot, or names none while cfg->boot->require_slot is set,
 *         FS38_ERR_UNSUPPORTED_COMMAND for a second fetch, a copy other than fetched payload to
 *         component 0, a write or invoke, or an image-match on a component never written;
 *         FS38_ERR_MISSING_PARAM, FS38_ERR_VENDOR_ID, FS38_ERR_CLASS_ID, ...); FS38_ERR_POLICY
 *         when the manifest has no install, validate or invoke sequence, does not check vendor
 *         and class id, fetches no payload, or never copies it into the image;
 *         FS38_ERR_MISSING_PARAM when the image has no SHA-256 digest; FS38_ERR_IMAGE_SIZE
 *         when it has no size, or the fetched payload's size does not match it; the errors of
 *         fs38_decrypt_begin() for an encrypted payload (FS38_ERR_COSE_FORMAT,
 *         FS38_ERR_UNSUPPORTED_ALG, FS38_ERR_DECRYPT, FS38_ERR_BUFFER, FS38_ERR_CRYPTO);
 *         FS38_ERR_CRYPTO when a hash cannot be started or replayed; FS38_ERR_DECRYPT from the
 *         replay; state errors; flash errors (reading the slot to resume, erasing it, programming
 *         the envelope).
 * \note Nothing is written before every check has passed. A failure after the state write
 *       leaves the staging slot unbootable (no slot header) and the running image untouched.
 */
FS38_NODISCARD fs38_err fs38_update_begin(fs38_update_ctx *u, const fs38_update_config *cfg, const uint8_t *env, size_t env_len);

/**
 * \brief Feed payload bytes: hash, decrypt (when encrypted), program into the staging slot.
 *        Every FS38_UPDATE_PROGRESS plaintext bytes the progress is persisted in the boot state
 *        (plaintext and CTR payloads), so that a cut resumes there.
 *
 * \param[in,out] u    Active context (after a successful fs38_update_begin()).
 * \param[in]     data len bytes continuing the payload at u->offset; read during the call
 *                     only (may be NULL when len is 0).
 * \param[in]     len  Any size; in total at most the payload size the manifest announces.
 * \return FS38_OK (u->offset advanced by len); FS38_ERR_STATE when u is NULL, not active
 *         (never begun, finished, aborted or failed) or data is NULL with a length (no event);
 *         FS38_ERR_OVERSIZE when the payload grows beyond its announced size (nothing of this
 *         call is written); FS38_ERR_CRYPTO (hash); FS38_ERR_DECRYPT (PSA decryption failure);
 *         flash errors (programming); state errors (persisting progress).
 * \note On failure the update is aborted (fs38_update_abort()), except on FS38_ERR_POWER and
 *       on a failed progress write: the context then stays active (call fs38_update_abort()
 *       before reusing it). GCM plaintext is programmed before its tag is checked, but the slot
 *       gets no header (and cannot boot) unless fs38_update_finish() verifies everything.
 */
FS38_NODISCARD fs38_err fs38_update_write(fs38_update_ctx *u, const uint8_t *data, size_t len);

/**
 * \brief Verify everything and mark the new image pending: the payload is complete, the GCM
 *        tag (encrypted payloads), the image size, the payload digest (when the manifest gives
 *        one for a separate download component) and the image digest match; then the slot
 *        header is written (last) and the boot state records the slot as pending (tried once
 *        by the next fs38_boot_select()). Raises FS38_EV_UPDATE_INSTALLED.
 *
 * \param[in,out] u Active context. Ended (inactive, hashes and decryptor released, work
 *                  buffer wiped) on FS38_OK and on every verification failure.
 * \return FS38_OK; FS38_ERR_STATE when u is NULL or not active (no event);
 *         FS38_ERR_TRUNCATED when fewer payload bytes than announced arrived; FS38_ERR_DECRYPT
 *         when the GCM tag does not verify; FS38_ERR_OVERSIZE when decryption yields more than
 *         the image size; FS38_ERR_IMAGE_SIZE when the image is shorter than the manifest says;
 *         FS38_ERR_CRYPTO (hash); FS38_ERR_IMAGE_DIGEST when the payload or image digest does
 *         not match; flash errors (the last plaintext bytes, the slot header); state errors.
 * \note A verification failure aborts the update (progress dropped). FS38_ERR_POWER, and a
 *       failure while writing the slot header or the state, leave u active: call
 *       fs38_update_abort().
 */
FS38_NODISCARD fs38_err fs38_update_finish(fs38_update_ctx *u);

/**
 * \brief Abandon an update: release the hash operations and the decryptor (its CEK is
 *        destroyed), wipe the work buffer; when the flash still works, drop the persisted
 *        download progress so nothing resumes into it (a failure there is ignored). The
 *        staging slot stays unbootable.
 *
 * \param[in,out] u Context; NULL, never begun, finished or already aborted is a no-op. Call it
 *                  also after FS38_ERR_POWER, before the context is reused.
 */
void fs38_update_abort(fs38_update_ctx *u);

#ifdef __cplusplus
}
#endif
#endif /* FS38_UPDATE_H */
