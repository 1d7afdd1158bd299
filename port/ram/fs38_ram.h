/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38_ram.h — a RAM flash port: the flash is a buffer the caller owns, with the NOR
 * semantics of include/fs38/port.h (and of port/posix) and power-cut injection. Portable C11:
 * no malloc, no stdio, no OS call. Used by the benchmarks (bench/), the fuzz targets (fuzz/)
 * and anyone who wants fs38 on a simulated device (a unit test, a RAM-only bring-up).
 *
 * Flash: cfg.flash[0 .. flash_size), owned by the caller (static array, malloc'd block, ...);
 * it must outlive the port. fs38_ram_init() erases it (every byte 0xFF). The caller may read
 * and write it directly between fs38 calls (snapshots, corruption, a factory image).
 *   - erase works on whole sectors (off and len multiples of sector_size) and sets 0xFF;
 *   - program only clears bits: new = old & data;
 *   - reads and programs of any length/alignment inside the flash.
 * A call outside [0, flash_size), a misaligned erase, a NULL buffer with len > 0 or an unknown
 * counter id returns FS38_ERR_ARG, changes nothing and counts in `bad_calls` (fs38 checks its
 * arguments before calling a port, so a fuzzer can assert bad_calls stays 0).
 *
 * Power cuts: fs38_ram_cut_at(r, k) makes the k-th program/erase operation from now (k = 1 is
 * the very next one) be interrupted exactly like port/posix: a program ANDs only the first half
 * of its bytes (rounded down); an erase erases the first half of its sectors (rounded down)
 * plus the first half of the next sector and leaves the rest untouched. The call returns
 * FS38_ERR_POWER and the device is then "off": every flash, counter, entropy and hardware-key
 * call returns FS38_ERR_POWER (flash_map returns NULL) until fs38_ram_reboot(). A counter
 * advance that raises the value is an operation too (a cut one leaves the old value).
 * Flash contents and counters survive the cut and the reboot, as on a real device.
 *
 * Monotonic counters: FS38_COUNTER_COUNT uint64_t values in the context (`counters`, which
 * the caller may read and set directly), 0 on a new device. counter_advance(v) sets
 * max(current, v): atomic (old or new value after a cut), and when it raises the value it is
 * accounted as one FS38_RAM_COUNTER_ENTRY-byte program (what a flash counter entry costs, so
 * bytes_programmed compares with a flash-backed port) and counts as an operation.
 *
 * Hardware unique key: cfg.huk (huk_len bytes, 1..64, caller-owned) stands in for the fuses;
 * hardware_key(len) copies the first len (1..huk_len) bytes. cfg.huk NULL: no HUK
 * (port.hardware_key NULL, as port.h says for platforms without one).
 *
 * Entropy: NOT random. With cfg.fixed_entropy every entropy() call fills the buffer with
 * cfg.entropy_byte (deterministic: a fuzzer's input must replay identically); otherwise
 * port.entropy is NULL. Never use this port where real randomness matters.
 *
 * Clocks: monotonic_ms returns the context's `clock_ms` (cfg.clock_ms at init; the caller may
 * advance it); wall_time returns `wall_seconds` when it is non-zero, else FS38_ERR_NOT_FOUND.
 *
 * flash_map: with cfg.map the port maps [off, off+len) to cfg.flash + off (like execute-in-
 * place flash); otherwise port.flash_map is NULL and fs38 reads through flash_read.
 *
 * Statistics (never reset by the port except at init and by fs38_ram_reboot for ops):
 * bytes_programmed (bytes passed to program, counter entries included; a cut program counts
 * its whole request, like port/posix), bytes_erased (bytes actually erased), ops.
 */
#ifndef FS38_RAM_H
#define FS38_RAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fs38/port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes a counter advance is accounted as (the 16-byte entry of port/posix's counters). */
#define FS38_RAM_COUNTER_ENTRY 16u
/* Largest hardware unique key (port.h: hardware_key len <= 64). */
#define FS38_RAM_HUK_MAX 64u

typedef struct fs38_ram_config {
    uint8_t *flash;        /* the flash: flash_size bytes, caller-owned, outlives the port */
    uint32_t flash_size;   /* bytes, a non-zero multiple of sector_size */
    uint32_t sector_size;  /* bytes, a power of two >= 16 */
    const uint8_t *huk;    /* hardware unique key (caller-owned), NULL = none */
    size_t huk_len;        /* 1..FS38_RAM_HUK_MAX when huk is set */
    bool fixed_entropy;    /* provide entropy(): every byte = entropy_byte (deterministic) */
    uint8_t entropy_byte;
    bool map;              /* provide flash_map() */
    uint64_t clock_ms;     /* initial monotonic_ms value */
    int64_t wall_seconds;  /* initial wall time (0 = unknown: FS38_ERR_NOT_FOUND) */
} fs38_ram_config;

typedef struct fs38_ram {
    fs38_ram_config cfg;
    uint64_t counters[FS38_COUNTER_COUNT]; /* the monotonic counters; the caller may set them */
    uint64_t clock_ms;                     /* what monotonic_ms returns */
    int64_t wall_seconds;                  /* what wall_time returns (0 = unknown) */
    bool off;                              /* power was cut; fs38_ram_reboot() clears it */
    uint64_t ops;                          /* program/erase/counter operations since init/reboot */
    uint64_t cut_at;                       /* absolute op number to interrupt; 0 = never */
    uint64_t bytes_programmed;             /* statistics, see the top of this file */
    uint64_t bytes_erased;
    uint64_t bad_calls;                    /* calls refused with FS38_ERR_ARG */
} fs38_ram;

/*
 * Set up r as a new device on cfg->flash: erase the whole flash (0xFF), counters 0,
 * statistics 0, power on, no cut scheduled; fill *port (its ctx is r). r and cfg->flash must
 * outlive every fs38 context using *port; cfg is copied. FS38_ERR_ARG (nothing touched) for a
 * NULL argument, a NULL flash, a geometry that is not as documented or a bad HUK length.
 */
FS38_NODISCARD fs38_err fs38_ram_init(fs38_ram *r, const fs38_ram_config *cfg, fs38_port *port);

/* A factory-new device again: the whole flash erased (0xFF), every counter 0. Power state,
 * scheduled cut and statistics are left as they are. */
void fs38_ram_erase_all(fs38_ram *r);

/* Interrupt the k-th program/erase/counter operation from now (k >= 1); k = 0 cancels. */
void fs38_ram_cut_at(fs38_ram *r, uint64_t k);

/* Power back on after a cut (or at any time): off cleared, scheduled cut cancelled, ops 0.
 * Flash and counters keep their contents. */
void fs38_ram_reboot(fs38_ram *r);

/* Operations performed since init / the last reboot (a cut operation counts). */
uint64_t fs38_ram_ops(const fs38_ram *r);

#ifdef __cplusplus
}
#endif
#endif /* FS38_RAM_H */
