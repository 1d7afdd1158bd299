/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/port.h — the platform interface.
 *
 * Everything fs38's core needs from the platform goes through one fs38_port: NOR-style
 * flash, clocks, the hardware unique key, persistent monotonic counters and the device lock
 * (random numbers come from PSA's RNG; the entropy callback is for the port and the tools).
 * A port fills the struct once and passes it (by pointer, it must outlive every context
 * using it) to the library. Which callbacks are required depends on the modules used: see
 * each member below.
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

/*
 * Attack surface (control 5): what a port reports about its debug ports and network services
 * (fs38_port.security_state), put in attestation tokens (fs38/attest.h) so that a verifier can
 * refuse a device whose debug port is open.
 */
#define FS38_DEBUG_JTAG_LOCKED 0x1u     /* JTAG / SWD locked (no debugger can attach) */
#define FS38_DEBUG_UART_DISABLED 0x2u   /* UART / serial console disabled */
#define FS38_DEBUG_TEST_MODES_OFF 0x4u  /* factory test modes off */
#define FS38_DEBUG_PERMANENT 0x8u       /* locked by a one-way fuse / OTP bit: cannot be re-opened */
#define FS38_DEBUG_LOCKED (FS38_DEBUG_JTAG_LOCKED | FS38_DEBUG_UART_DISABLED | FS38_DEBUG_TEST_MODES_OFF)
#define FS38_DEBUG_ALL (FS38_DEBUG_LOCKED | FS38_DEBUG_PERMANENT)
#define FS38_SERVICES_MAX 8u            /* network services listed */
#define FS38_SERVICE_NAME_MAX 16u       /* a service name with its NUL: 1..15 printable ASCII */

typedef struct fs38_security_state {
    uint32_t debug;      /* FS38_DEBUG_* bits that hold */
    int secure_boot;     /* 1: only verified images run (secure boot enforced); 0: not known / off */
    size_t n_services;   /* 0..FS38_SERVICES_MAX */
    char services[FS38_SERVICES_MAX][FS38_SERVICE_NAME_MAX]; /* enabled network services, e.g.
                                                                "coap-client", "ssh-22" */
} fs38_security_state;

/*
 * Rules for every callback below: ctx is fs38_port.ctx, handed back unchanged. A callback
 * returning fs38_err returns FS38_OK on success; any other code is passed on unchanged by the
 * library call that made it (each call's comment says "the port's code"), so a port returns
 * the codes of fs38/err.h: FS38_ERR_IO for a device failure, FS38_ERR_POWER after a power cut,
 * FS38_ERR_ARG for arguments it refuses. Buffers are the caller's, valid during the call only:
 * a callback keeps no pointer to them. The library calls the callbacks from the calling thread,
 * with the device lock held where the concurrency contract says so.
 */
typedef struct fs38_port {
    void *ctx; /* passed back to every call */

    /* Flash geometry: the whole device flash, [0, flash_size), in sectors of sector_size
     * (non-zero; the log needs at least 512, port/posix a power of two >= 256). */
    uint32_t flash_size;
    uint32_t sector_size;

    /**
     * \brief Read flash. Required (boot, update, store, log, boot state).
     * \param[in]  ctx The port's ctx.
     * \param[in]  off Offset in the flash; [off, off+len) lies inside it (the fs38_flash_*
     *                 wrappers check that before calling).
     * \param[out] buf len bytes to fill with what the flash holds (bits programmed so far).
     * \param[in]  len Bytes, > 0.
     * \return FS38_OK; FS38_ERR_IO; FS38_ERR_POWER after a cut (the device is off); or another
     *         code of the port.
     */
    fs38_err (*flash_read)(void *ctx, uint32_t off, void *buf, size_t len);
    /**
     * \brief Optional (may be NULL): the address of [off, off+len) when the flash is
     *        memory-mapped (execute-in-place internal flash on most MCUs; an mmap of the file
     *        on POSIX). Lets verification hash an image in place instead of copying it through
     *        flash_read. Only boot uses it.
     * \param[in] ctx The port's ctx.
     * \param[in] off Offset in the flash.
     * \param[in] len Bytes.
     * \return A pointer to len readable bytes showing the current flash contents, valid until
     *         the next erase / program; NULL when that range cannot be mapped (the library
     *         then reads it with flash_read).
     */
    const uint8_t *(*flash_map)(void *ctx, uint32_t off, size_t len);
    /**
     * \brief Erase [off, off+len) to 0xFF. Required wherever the library writes.
     * \param[in] ctx The port's ctx.
     * \param[in] off Multiple of sector_size (checked by fs38_flash_erase()).
     * \param[in] len Multiple of sector_size, > 0, inside the flash.
     * \return FS38_OK; FS38_ERR_IO; FS38_ERR_POWER when power was cut during the erase (sectors
     *         may be partly erased); or another code of the port.
     */
    fs38_err (*flash_erase)(void *ctx, uint32_t off, uint32_t len);
    /**
     * \brief Program len bytes at off: new = old & data (bits only go from 1 to 0; no erase).
     *        Required wherever the library writes. No alignment is asked for: a port whose
     *        flash has a program unit handles partial units itself.
     * \param[in] ctx The port's ctx.
     * \param[in] off Offset; [off, off+len) inside the flash.
     * \param[in] buf len bytes.
     * \param[in] len Bytes, > 0.
     * \return FS38_OK; FS38_ERR_IO; FS38_ERR_POWER when power was cut (a prefix may be
     *         programmed); or another code of the port.
     */
    fs38_err (*flash_program)(void *ctx, uint32_t off, const void *buf, size_t len);

    /**
     * \brief Fill buf with len bytes from a true / OS entropy source. Not called by libfs38
     *        itself (its keys, salts and nonces come from PSA's RNG, whose entropy the platform
     *        configures in Mbed TLS); for the port's own and the tools' use. May be NULL.
     * \return FS38_OK, or the port's code (nothing usable in buf then).
     */
    fs38_err (*entropy)(void *ctx, uint8_t *buf, size_t len);

    /**
     * \brief Milliseconds since an arbitrary start; never goes backwards while powered (it may
     *        restart at a reboot). Required by fs38_auth (back-off); optional for the log
     *        (epoch_ms and timestamps are 0 without it).
     * \return The time; cannot fail.
     */
    uint64_t (*monotonic_ms)(void *ctx);
    /**
     * \brief Wall-clock time in seconds since 1970, when known. Optional (may be NULL):
     *        attestation and decommissioning then omit the time.
     * \param[in]  ctx          The port's ctx.
     * \param[out] unix_seconds Written on FS38_OK only.
     * \return FS38_OK; FS38_ERR_NOT_FOUND when the time is unknown; another code of the port
     *         (every failure just leaves the time out).
     */
    fs38_err (*wall_time)(void *ctx, int64_t *unix_seconds);

    /**
     * \brief The hardware unique key (HUK): len bytes of a device-unique secret that only this
     *        device has (fused key, secure element slot; on POSIX a secret file standing in for
     *        the fuses). The root of all sealing: fs38 derives the store's keys from it and
     *        wipes what it read. NULL when the platform has none (sealed storage is then
     *        unavailable: fs38_store_open gives FS38_ERR_STATE).
     * \param[in]  ctx The port's ctx.
     * \param[out] out len bytes; the same bytes at every call, on every boot.
     * \param[in]  len 1..64 (the store asks for 32).
     * \return FS38_OK; or the port's code, passed on by fs38_store_open / fs38_store_wipe.
     */
    fs38_err (*hardware_key)(void *ctx, uint8_t *out, size_t len);

    /**
     * \brief Read a persistent monotonic counter. Required by boot, update and the store
     *        (they call it without a NULL check); optional for the log (boot number 0).
     * \param[in]  ctx   The port's ctx.
     * \param[in]  id    0..FS38_COUNTER_COUNT-1.
     * \param[out] value The counter; 0 when never advanced. Written on FS38_OK only.
     * \return FS38_OK; FS38_ERR_IO / FS38_ERR_POWER or another code of the port.
     */
    fs38_err (*counter_read)(void *ctx, fs38_counter_id id, uint64_t *value);
    /**
     * \brief Set a counter to max(current, value): it never decreases (a lower value is
     *        FS38_OK and changes nothing). Power-safe: after a cut the counter reads either its
     *        old or its new value. Required by boot and the store.
     * \param[in] ctx   The port's ctx.
     * \param[in] id    0..FS38_COUNTER_COUNT-1.
     * \param[in] value Up to INT64_MAX must be accepted (the update agent refuses sequence
     *                  numbers above it).
     * \return FS38_OK; FS38_ERR_IO / FS38_ERR_POWER or another code of the port (e.g.
     *         FS38_ERR_LIMIT when its storage is worn out).
     */
    fs38_err (*counter_advance)(void *ctx, fs38_counter_id id, uint64_t value);

    /**
     * \brief Optional (both NULL: single-threaded caller): take the recursive, exclusive
     *        device lock of the concurrency contract above. Blocks until held by the calling
     *        task / thread / process; a task that already holds it gets it again at once
     *        (depth + 1). A bounded wait is the port's choice.
     * \param[in] ctx The port's ctx.
     * \return FS38_OK (held: one more unlock() is owed); or an error, e.g. FS38_ERR_IO on a
     *         timeout or a failing OS lock, with nothing held. The library's call that asked
     *         returns that code unchanged.
     */
    fs38_err (*lock)(void *ctx);
    /**
     * \brief Release one level of the device lock taken by lock() (the lock is free again when
     *        every lock() of its holder was paired). Called only by the holder, exactly once
     *        per successful lock(); cannot fail.
     * \param[in] ctx The port's ctx.
     */
    void (*unlock)(void *ctx);

    /**
     * \brief Optional (NULL: the library reports every debug port open, secure boot unknown and
     *        no services — the conservative default, see fs38_port_security_state()): the debug
     *        state and the enabled network services, as the hardware (fuses, lock registers) and
     *        the firmware configuration say.
     * \param[in]  ctx The port's ctx.
     * \param[out] out Zeroed by the caller; fill debug, secure_boot and the services.
     * \return FS38_OK; or the port's code.
     */
    fs38_err (*security_state)(void *ctx, fs38_security_state *out);
    /**
     * \brief Optional (NULL: FS38_ERR_STATE from fs38_port_debug_lock()): lock the debug ports
     *        for good (blow the fuse / OTP bit): JTAG / SWD, the UART console and the test modes.
     *        One-way: nothing can undo it. Power-safe: after a cut it is either done or not.
     *        Idempotent (locking a locked device is FS38_OK).
     * \param[in] ctx The port's ctx.
     * \return FS38_OK; or the port's code.
     */
    fs38_err (*debug_lock)(void *ctx);
} fs38_port;

/**
 * \brief The port's security state (debug ports, secure boot, network services), checked; a
 *        port without security_state gets the conservative default: debug 0 (every port open),
 *        secure_boot 0, no services.
 *
 * \param[in]  p   Port.
 * \param[out] out Zeroed, then filled (only on FS38_OK; zeroed on failure).
 * \return FS38_OK; FS38_ERR_ARG when p or out is NULL, or the port reported unknown debug
 *         bits, more than FS38_SERVICES_MAX services or a service name that is not 1..15
 *         printable ASCII characters (no space, no quote); the code of p->security_state.
 */
FS38_NODISCARD fs38_err fs38_port_security_state(const fs38_port *p, fs38_security_state *out);

/**
 * \brief Lock the debug ports for good through the port (one-way), then raise
 *        FS38_EV_DEBUG_LOCKED.
 *
 * \param[in] p Port.
 * \return FS38_OK (also when already locked: no second event then); FS38_ERR_ARG when p is NULL;
 *         FS38_ERR_STATE when the port cannot lock its debug ports (no debug_lock callback);
 *         FS38_ERR_CALLBACK when the port says it locked them but its security_state does not
 *         show FS38_DEBUG_LOCKED | FS38_DEBUG_PERMANENT afterwards; the port's code.
 */
FS38_NODISCARD fs38_err fs38_port_debug_lock(const fs38_port *p);

/**
 * \brief Take the port's device lock (fs38/port.h, "Concurrency"); a no-op when p is NULL or
 *        the port has no lock. For callers holding the lock around a multi-call sequence.
 *
 * \param[in] p Port, or NULL.
 * \return FS38_OK (pair it with exactly one fs38_port_unlock()); or the code of p->lock (nothing
 *         held then).
 */
static inline FS38_NODISCARD fs38_err fs38_port_lock(const fs38_port *p)
{
    return p && p->lock ? p->lock(p->ctx) : FS38_OK;
}
/**
 * \brief Release one level of the port's device lock taken by fs38_port_lock(); a no-op when p
 *        is NULL or the port has no unlock.
 *
 * \param[in] p Port, or NULL.
 */
static inline void fs38_port_unlock(const fs38_port *p)
{
    if (p && p->unlock)
        p->unlock(p->ctx);
}

/**
 * \brief Read flash through the port after checking the arguments and the range.
 *
 * \param[in]  p   Port (NULL: FS38_ERR_ARG).
 * \param[in]  off Offset in the flash.
 * \param[out] buf len bytes (may be NULL when len is 0).
 * \param[in]  len Bytes; 0 reads nothing and returns FS38_OK without calling the port.
 * \return FS38_OK; FS38_ERR_ARG when p is NULL, the port has no flash_read, buf is NULL with a
 *         length, or [off, off+len) is not inside [0, flash_size); otherwise the code of
 *         p->flash_read (FS38_ERR_IO, FS38_ERR_POWER, ...).
 */
FS38_NODISCARD fs38_err fs38_flash_read(const fs38_port *p, uint32_t off, void *buf, size_t len);

/**
 * \brief Erase flash through the port after checking the arguments and the geometry.
 *
 * \param[in] p   Port (NULL: FS38_ERR_ARG).
 * \param[in] off Multiple of sector_size.
 * \param[in] len Multiple of sector_size; 0 erases nothing (FS38_OK, the port is not called).
 * \return FS38_OK; FS38_ERR_ARG when p is NULL, the port has no flash_erase or a sector_size of
 *         0, off or len is not a multiple of sector_size, or the range is not inside the flash;
 *         otherwise the code of p->flash_erase (FS38_ERR_IO, FS38_ERR_POWER, ...).
 */
FS38_NODISCARD fs38_err fs38_flash_erase(const fs38_port *p, uint32_t off, uint32_t len);

/**
 * \brief Program flash through the port after checking the arguments and the range.
 *
 * \param[in] p   Port (NULL: FS38_ERR_ARG).
 * \param[in] off Offset in the flash.
 * \param[in] buf len bytes (may be NULL when len is 0); read during the call only.
 * \param[in] len Bytes; 0 programs nothing (FS38_OK, the port is not called).
 * \return FS38_OK; FS38_ERR_ARG when p is NULL, the port has no flash_program, buf is NULL
 *         with a length, or the range is not inside the flash; otherwise the code of
 *         p->flash_program (FS38_ERR_IO, FS38_ERR_POWER, ...).
 */
FS38_NODISCARD fs38_err fs38_flash_program(const fs38_port *p, uint32_t off, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* FS38_PORT_H */
