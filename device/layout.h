/* SPDX-License-Identifier: Apache-2.0 */
/*
 * layout.h — flash layout of the reference device (fs38-device) on the POSIX port.
 *
 *   0x000000  slot A     3 MiB   slot header + envelope (first sector), image at +4096
 *   0x300000  slot B     3 MiB   same layout
 *   0x600000  boot state 2 sectors  confirmed / pending slot, download progress (bootstate.h)
 *   0x602000  store      16 sectors sealed key/value store (store.h)
 *   0x612000  log        64 sectors security log ring (log.h)
 *   0x652000  reserved   up to the counters
 *   0x7F8000  counters   8 sectors: the POSIX port's persistent monotonic counters
 *   0x800000  end (8 MiB)
 */
#ifndef FS38_DEVICE_LAYOUT_H
#define FS38_DEVICE_LAYOUT_H

#include "fs38_posix.h"

#define DEV_SECTOR_SIZE 4096u
#define DEV_FLASH_SIZE (8u * 1024u * 1024u)

#define DEV_SLOT_SIZE (3u * 1024u * 1024u)
#define DEV_SLOT_A_OFFSET 0u
#define DEV_SLOT_B_OFFSET (DEV_SLOT_A_OFFSET + DEV_SLOT_SIZE)
#define DEV_IMAGE_OFFSET 4096u /* image offset inside a slot (FS38_SLOT_DEFAULT_IMAGE_OFFSET) */

#define DEV_COUNTER_OFFSET (DEV_FLASH_SIZE - FS38_POSIX_COUNTER_SECTORS * DEV_SECTOR_SIZE)

#define DEV_STATE_OFFSET (DEV_SLOT_B_OFFSET + DEV_SLOT_SIZE)
#define DEV_STATE_SIZE (2u * DEV_SECTOR_SIZE)
#define DEV_STORE_OFFSET (DEV_STATE_OFFSET + DEV_STATE_SIZE)
#define DEV_STORE_SIZE (16u * DEV_SECTOR_SIZE)
#define DEV_STORE_BANK (4u * DEV_SECTOR_SIZE) /* live data <= one bank */
#define DEV_LOG_OFFSET (DEV_STORE_OFFSET + DEV_STORE_SIZE)
#define DEV_LOG_SIZE (64u * DEV_SECTOR_SIZE)

#define DEV_RESERVED_OFFSET (DEV_LOG_OFFSET + DEV_LOG_SIZE)
#define DEV_RESERVED_SIZE (DEV_COUNTER_OFFSET - DEV_RESERVED_OFFSET)

/* Files inside the state directory. */
#define DEV_FLASH_FILE "flash.bin"
#define DEV_ROM_FILE "rom"
#define DEV_HUK_FILE "huk" /* stands in for the fused hardware unique key */
#define DEV_TPM_FILE "tpm" /* init --tpm: TCTI and counter bases (device/tpm_dev.c) */

/* Default identity when init is given none. */
#define DEV_DEFAULT_VENDOR_ID "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe"
#define DEV_DEFAULT_CLASS_ID "1492af14-2569-5e48-bf42-9b2d51f2ab45"

#endif
