/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/port.h — the platform interface.
 *
 * Everything fs38's core needs from the platform goes through one fs38_port: NOR-style
 * flash, entropy, clocks and persistent monotonic counters. A port fills the struct once
 * and passes it (by pointer, it must outlive every context using it) to the library.
 *
 * Flash semantics the library relies on (and port/posix emulates exactly):
 *   - erase works on whole sectors and sets every byte to 0xFF;
 *   - program can only clear bits (new = old & data); programming a byte twice without an
 *     erase in between ANDs the values;
 *   - any operation may be cut by power loss: the operation may be partly done (a prefix of
 *     a program, a partly erased sector), and it returns FS38_ERR_POWER. After a cut the
 *     device is "off" until it restarts (on POSIX: the flash is reopened).
 *
 * Concurrency (the locking contract). The library keeps no global state, but flash state is
 * shared: two contexts (fs38_store, fs38_log, fs38_auth, the boot state) on the same flash —
 * in two tasks, two threads, or two processes of a hosted device — must not read-modify-write
 * it at the same time. A port serialises them with the optional lock / unlock pair:
 *   - lock() blocks until the caller holds the device lock EXCLUSIVELY against every other
 *     task/thread/process using this flash; unlock() releases it. The lock is RECURSIVE for
 *     its holder: the library nests calls (an auth check does store gets and puts, an event
 *     raised inside a store call is appended to the log), and each lock() is paired with
 *     exactly one unlock(). On an RTOS: a recursive mutex (FreeRTOS
 *     xSemaphoreCreateRecursiveMutex / xSemaphoreTakeRecursive, Zephyr k_mutex, which is
 *     recursive). lock() returns FS38_OK, or an error (nothing is held then) which the calling
 *     operation returns. A bounded wait is the port's choice (return FS38_ERR_IO on timeout).
 *   - The library takes the lock around every operation that reads flash state and may write
 *     it, for the whole operation: fs38_store_open/put/get/delete/compact/wipe, every
 *     fs38_log call that reads or writes the ring, fs38_auth's lockout check + failure count +
 *     password check + reset (one critical section, so N parallel guesses never check more
 *     passwords than the back-off allows), fs38_bootstate_read/write (scan + program of the
 *     next record). Under the lock a store or log context re-reads
 *     its write position from flash (the store: its counter, active bank header and next
 *     free byte; the log: the bytes at its head and write position) and reloads its state
 *     when another context wrote since, so contexts never append from a stale position.
 *   - Operations that span several calls (an update: begin / write / finish; boot selection
 *     and its boot-state write; a caller's own get-then-put) are not made atomic by the
 *     library: a caller with several tasks holds the lock itself around such a sequence
 *     (fs38_port_lock / fs38_port_unlock; recursion makes the library's inner locks free).
 *     fs38-device holds it for its whole command.
 *   - lock == NULL and unlock == NULL: the caller promises a single thread of control per
 *     flash (bare-metal super-loop); the library then does no locking. Set both or neither.
 *   port/posix: a process-wide recursive pthread mutex (threads sharing one fs38_posix) plus
 *   flock(LOCK_EX) on the flash file's descriptor (other processes, and other fs38_posix
 *   instances on the same file), taken when the recursion depth goes 0 -> 1; blocking, no
 *   timeout (a process that dies releases it: the kernel drops a dead process's flock).
 */
#ifndef FS38_PORT_H
#define FS38_PORT_H

#include <stddef.h>
#include <stdint.h>
#include "fs38/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Persistent monotonic counters a port provides. */
typedef enum fs38_counter_id {
    FS38_COUNTER_ROLLBACK = 0, /* anti-rollback: lowest firmware sequence allowed to boot */
    FS38_COUNTER_BOOT = 1,     /* number of boots */
    FS38_COUNTER_STORE = 2,    /* binds the sealed store's state (store-rollback detection) */
    FS38_COUNTER_SPARE = 3,
    FS38_COUNTER_COUNT = 4
} fs38_counter_id;

typedef struct fs38_port {
    void *ctx; /* passed back to every call */

    /* Flash geometry: the whole device flash, [0, flash_size), in sectors of sector_size. */
    uint32_t flash_size;
    uint32_t sector_size;

    /* Read len bytes at off. */
    fs38_err (*flash_read)(void *ctx, uint32_t off, void *buf, size_t len);
    /*
     * Optional (may be NULL): the address of [off, off+len) when the flash is memory-mapped
     * (execute-in-place internal flash on most MCUs; an mmap of the file on POSIX), or NULL
     * when that range cannot be mapped. Lets verification hash an image in place instead of
     * copying it through flash_read. The pointer is valid until the next erase/program.
     */
    const uint8_t *(*flash_map)(void *ctx, uint32_t off, size_t len);
    /* Erase [off, off+len): both must be multiples of sector_size. */
    fs38_err (*flash_erase)(void *ctx, uint32_t off, uint32_t len);
    /* Program len bytes at off (bits can only go from 1 to 0). */
    fs38_err (*flash_program)(void *ctx, uint32_t off, const void *buf, size_t len);

    /* Fill buf with len bytes from a true / OS entropy source. */
    fs38_err (*entropy)(void *ctx, uint8_t *buf, size_t len);

    /* Milliseconds since an arbitrary start; never goes backwards while powered. */
    uint64_t (*monotonic_ms)(void *ctx);
    /* Wall-clock time in seconds since 1970 (FS38_ERR_NOT_FOUND when unknown). */
    fs38_err (*wall_time)(void *ctx, int64_t *unix_seconds);

    /*
     * The hardware unique key (HUK): len (<= 64) bytes of a device-unique secret that only
     * this device has (fused key, secure element slot; on POSIX a secret file standing in for
     * the fuses). The root of all sealing: fs38 derives keys from it and wipes what it read.
     * NULL when the platform has none (sealed storage is then unavailable).
     */
    fs38_err (*hardware_key)(void *ctx, uint8_t *out, size_t len);

    /* Read a persistent monotonic counter (0 when never advanced). */
    fs38_err (*counter_read)(void *ctx, fs38_counter_id id, uint64_t *value);
    /*
     * Set a counter to max(current, value). It never decreases. Power-safe: after a cut the
     * counter reads either its old or its new value.
     */
    fs38_err (*counter_advance)(void *ctx, fs38_counter_id id, uint64_t value);

    /*
     * Optional (both NULL: single-threaded caller): the recursive, exclusive device lock of
     * the concurrency contract above. lock() blocks until held (or fails: nothing held);
     * unlock() releases one level.
     */
    fs38_err (*lock)(void *ctx);
    void (*unlock)(void *ctx);
} fs38_port;

/* Take / release the port's device lock (no-ops when the port has none). Every successful
 * fs38_port_lock() is paired with one fs38_port_unlock(). */
static inline FS38_NODISCARD fs38_err fs38_port_lock(const fs38_port *p)
{
    return p && p->lock ? p->lock(p->ctx) : FS38_OK;
}
static inline void fs38_port_unlock(const fs38_port *p)
{
    if (p && p->unlock)
        p->unlock(p->ctx);
}

/* Convenience wrappers that check arguments and geometry before calling the port. */
FS38_NODISCARD fs38_err fs38_flash_read(const fs38_port *p, uint32_t off, void *buf, size_t len);
FS38_NODISCARD fs38_err fs38_flash_erase(const fs38_port *p, uint32_t off, uint32_t len);
FS38_NODISCARD fs38_err fs38_flash_program(const fs38_port *p, uint32_t off, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* FS38_PORT_H */
