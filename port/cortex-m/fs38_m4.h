/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38_m4.h — the Cortex-M4 port of fs38 for the Arm MPS2 AN386 board as QEMU models it
 * (qemu-system-arm -M mps2-an386): memory map, flash port, console, semihosting, stack painting.
 *
 * Code memory (4 MiB at 0x00000000, RAM in QEMU) is the "flash":
 *
 *   0x00000000  bootloader        64 KiB   fs38-boot.elf (vector table at 0)
 *   0x00010000  fs38 flash        the port's flash, offsets below are relative to here
 *     +0x000000 slot A            1 MiB    slot header + envelope, image at +4096 (app A's vectors)
 *     +0x100000 slot B            1 MiB    same layout (app B's vectors at 0x00111000)
 *     +0x200000 boot state        2 sectors
 *     +0x202000 store             16 sectors
 *     +0x212000 log               16 sectors
 *     +0x3E0000 counters          8 sectors (4 counters x 2 sectors of records)
 *     +0x3E8000 NV seed           2 sectors (Mbed TLS entropy seed, rewritten at each boot)
 *     +0x3EF000 "OTP"             1 sector: HUK (32 bytes) + device ECDH key (32 bytes),
 *                                 written once at the factory, never erased by the firmware
 *     +0x3F0000 end (4 MiB - 64 KiB)
 *
 * Sector size 4 KiB. NOR semantics are enforced by the port (erase -> 0xFF per sector, program
 * ANDs). Persistence: every erase / program is written through to the host file "flash.bin"
 * (relative to QEMU's working directory) with semihosting file I/O; the bootloader loads that
 * file into code memory at reset. A power cut (semihosting argument "cut=N") applies the Nth
 * program / erase of the run partly (as port/posix and port/ram do), writes that through and
 * ends the emulator with exit status 3: the next QEMU run is the reboot. "cutpart=0" lets none
 * of that operation land (power fails just before it), "cutpart=2" all of it (just after);
 * the bootloader's own operations are cut with "bootcut=N".
 */
#ifndef FS38_M4_H
#define FS38_M4_H

#include <stddef.h>
#include <stdint.h>
#include "fs38/port.h"

#define M4_FLASH_BASE 0x00010000u
#define M4_SECTOR 4096u
#define M4_FLASH_SIZE (0x400000u - M4_FLASH_BASE)

#define M4_SLOT_SIZE 0x100000u
#define M4_SLOT_A 0x000000u
#define M4_SLOT_B 0x100000u
#define M4_IMAGE_OFFSET 4096u
#define M4_STATE 0x200000u
#define M4_STORE 0x202000u
#define M4_STORE_SIZE (16u * M4_SECTOR)
#define M4_LOG 0x212000u
#define M4_LOG_SIZE (16u * M4_SECTOR)
#define M4_COUNTERS 0x3E0000u
#define M4_NVSEED 0x3E8000u
#define M4_OTP 0x3EF000u
#define M4_OTP_HUK 0u      /* 32 bytes */
#define M4_OTP_DEVKEY 32u  /* 32 bytes: P-256 private key for ECDH-ES update decryption */

#define M4_EXIT_POWER 3

/* ---- semihosting (host file I/O, exit) ---- */
int m4_sh_open(const char *name, int mode); /* mode: 1 "rb", 3 "rb+", 5 "wb"; -1 on error */
int m4_sh_close(int fd);
long m4_sh_flen(int fd);
int m4_sh_seek(int fd, uint32_t pos);
size_t m4_sh_read(int fd, void *buf, size_t len);   /* bytes read */
size_t m4_sh_write(int fd, const void *buf, size_t len); /* bytes written */
int m4_sh_remove(const char *name);
/* The semihosting command line (QEMU -semihosting-config arg=...), "" when none. */
const char *m4_sh_cmdline(void);
/* The value of "key=N" in the command line, or dflt. */
uint32_t m4_arg(const char *key, uint32_t dflt);
__attribute__((noreturn)) void m4_exit(int code);

/* ---- console: CMSDK UART0 ---- */
void m4_puts(const char *s);             /* no newline added */
void m4_putu(uint64_t v);
/* A refusal's reason: fs38_strerror(e) when built with M4_REASON_TEXT=1, else the code's short
 * name ("IMAGE_DIGEST"; "error -N" for a code verification never gives): m4_rt.c. */
void m4_put_err(fs38_err e);
void m4_puthex(uint32_t v);

/* ---- stack painting ---- */
void m4_stack_paint(void);               /* paint the unused stack (called by the reset code) */
uint32_t m4_stack_used(void);            /* high-water mark in bytes */
uint32_t m4_stack_size(void);
uint32_t m4_heap_used(void);             /* bytes newlib's malloc took from the heap (sbrk) */

/* ---- the fs38 port ---- */
/* Fills *p; flash at M4_FLASH_BASE; opens flash.bin for write-through. load: read flash.bin into
 * code memory first (the bootloader does; the app runs from what it loaded). cut_key: the
 * semihosting argument naming the operation to cut at ("cut"), or NULL. */
fs38_err m4_port_init(fs38_port *p, int load, const char *cut_key);
uint32_t m4_port_ops(void);              /* program / erase operations so far in this run */
/* The NV seed for Mbed TLS (MBEDTLS_PLATFORM_NV_SEED_READ/WRITE_MACRO). */
int m4_nv_seed_read(unsigned char *buf, size_t len);
int m4_nv_seed_write(unsigned char *buf, size_t len);

#endif
