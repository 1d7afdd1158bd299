/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/bootstate.h — the persistent boot / update state (which slot is confirmed, which is
 * pending its first trial boot, how far a download got), kept power-safe in flash.
 *
 * A region of two sectors holds append-only 64-byte records, each ending with a check
 * (SHA-256 of the record, truncated to 8 bytes). The state is the valid record with the
 * highest sequence number; a record torn by a power cut fails its check and is ignored, so
 * after a cut the state is the old or the new one. When the active sector is full, the
 * other sector is erased and the next record goes there (the newest valid record always
 * survives any single interrupted operation).
 *
 * No context: each call scans the region again (at most two sectors of 64-byte records), so
 * there is nothing to open or close. Not thread-safe: two writers on one region race (see
 * fs38/port.h). fs38/boot.h and fs38/update.h are the usual callers.
 */
#ifndef FS38_BOOTSTATE_H
#define FS38_BOOTSTATE_H

#include <stdbool.h>
#include <stdint.h>
#include "fs38/err.h"
#include "fs38/port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FS38_NO_SLOT 0xffu
#define FS38_BOOTSTATE_RECORD 64u

typedef enum fs38_pending {
    FS38_PENDING_NONE = 0,
    FS38_PENDING_UNTRIED = 1, /* installed; the next boot tries it once */
    FS38_PENDING_TRYING = 2   /* booted once; not confirmed yet */
} fs38_pending;

typedef struct fs38_bootstate {
    uint32_t seq;              /* record sequence (0: no record yet) */
    uint8_t confirmed_slot;    /* FS38_NO_SLOT until an update is confirmed */
    uint8_t committed;         /* 1 once fs38_boot_confirm recorded confirmed_slot: the
                                  anti-rollback counter must reach its sequence */
    uint8_t pending_slot;      /* FS38_NO_SLOT when none */
    uint8_t pending;           /* fs38_pending */
    uint8_t dl_slot;           /* slot a download is going into, FS38_NO_SLOT when none */
    uint64_t dl_bytes;         /* plaintext bytes durably programmed */
    uint8_t dl_digest[32];     /* manifest digest of the update being downloaded */
} fs38_bootstate;

/**
 * \brief Read the current state: the valid record with the highest sequence number.
 *
 * \param[in]  p      Port (flash); not kept.
 * \param[in]  offset Start of the state region, a multiple of p->sector_size.
 * \param[in]  size   Size of the region: exactly 2 * p->sector_size.
 * \param[out] st     The state; written only on FS38_OK. An empty (or wholly torn) region
 *                    reads as seq 0 with confirmed_slot, pending_slot and dl_slot
 *                    FS38_NO_SLOT and everything else 0.
 * \return FS38_OK; FS38_ERR_ARG when the geometry is wrong (sector_size 0, size != two
 *         sectors, offset unaligned, region outside the flash) or p lacks flash_read;
 *         FS38_ERR_IO / FS38_ERR_POWER (or any code the port's flash_read returns); the
 *         error of the port's lock(). FS38_ERR_ARG too when p or st is NULL.
 *         Records whose check fails are skipped, not reported.
 * \note Runs under the port's device lock (fs38/port.h).
 */
FS38_NODISCARD fs38_err fs38_bootstate_read(const fs38_port *p, uint32_t offset, uint32_t size, fs38_bootstate *st);

/**
 * \brief Append a new state record (power-safe: after a cut the state is the old or the new).
 *
 * \param[in]     p      Port (flash); not kept.
 * \param[in]     offset Start of the state region, as for fs38_bootstate_read().
 * \param[in]     size   2 * p->sector_size.
 * \param[in,out] st     The state to record; st->seq is overwritten with the next sequence
 *                       number (also when the write then fails).
 * \return FS38_OK; FS38_ERR_ARG for bad geometry (as fs38_bootstate_read) or a port without
 *         flash_erase/flash_program; FS38_ERR_CRYPTO when the record's check value cannot be
 *         computed (nothing is written); FS38_ERR_IO / FS38_ERR_POWER (or the port's code) from
 *         the scan, the erase of the other sector (when the active one is full) or the program;
 *         the error of the port's lock(). FS38_ERR_ARG too when p or st is NULL.
 * \note Runs under the port's device lock (fs38/port.h): the scan for the next free slot and
 *       its programming are one critical section, so two writers never program one slot.
 */
FS38_NODISCARD fs38_err fs38_bootstate_write(const fs38_port *p, uint32_t offset, uint32_t size, fs38_bootstate *st);

#ifdef __cplusplus
}
#endif
#endif /* FS38_BOOTSTATE_H */
