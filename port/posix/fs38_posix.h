/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38_posix.h — the POSIX port: flash is a file, entropy from the OS, clocks from
 * clock_gettime, monotonic counters kept in flash. Used by fs38-device and by every test.
 *
 * Flash file: exactly flash_size bytes; a new file starts fully erased (0xFF).
 * Erase sets whole sectors to 0xFF; program ANDs bytes (bits only go 1 -> 0).
 *
 * Power cuts: fs38_posix_cut_at(p, k) makes the k-th program/erase operation from now
 * (k = 1 is the very next one) be interrupted: a program writes only the first half of its
 * bytes (rounded down), an erase erases only the first half of its sectors and leaves the
 * next sector's first half erased and its second half untouched; the call returns
 * FS38_ERR_POWER. After that the device is off: every flash, counter and entropy call returns
 * FS38_ERR_POWER until fs38_posix_close() + fs38_posix_open() ("reboot").
 * Counter operations that program/erase flash count as operations too.
 *
 * Monotonic counters: FS38_COUNTER_COUNT counters, each in its own pair of sectors inside
 * [counter_offset, counter_offset + 2 * FS38_COUNTER_COUNT * sector_size). Each sector holds
 * append-only 16-byte entries (value, ~value, sector generation); the counter is the largest
 * valid entry of both sectors, so a cut entry or a cut erase never lowers or corrupts it.
 * The library must not use that range for anything else.
 *
 * Hardware unique key (HUK): the port's hardware_key() reads a 32-byte device-unique secret
 * from the file huk_path, standing in for the fuses / secure element slot of a real part. The
 * file is created from getrandom() with mode 0600 when missing (atomically: written to a
 * temporary file, then linked into place, so a crash never leaves a short HUK file), and is
 * refused (FS38_ERR_IO) if it is a symbolic link, not a regular file of exactly 32 bytes, or
 * if group / others may access it. hardware_key(len) returns the first len (1..32) bytes;
 * len > 32 is FS38_ERR_ARG. With huk_path NULL the port has no HUK (port.hardware_key NULL).
 *
 * Security state (port.security_state / port.debug_lock, control 5): the debug lock is the
 * "OTP bit" FS38_COUNTER_SPARE: 0 = debug ports open (a process on a host can always be
 * debugged), >= 1 = locked for good (JTAG/SWD, UART console, test modes, permanently). The
 * counter never decreases, so debug_lock (advance to 1) is one-way and power-safe like every
 * counter. secure_boot is reported 1: the reference device runs nothing that fs38's boot did
 * not verify. Services: the names in the file set with fs38_posix_set_services (one per line,
 * '#' comments; 1..15 printable ASCII each, at most FS38_SERVICES_MAX; a longer list or a bad
 * name is FS38_ERR_IO; no file set, or a missing file: no services).
 *
 * Device lock (port.lock / port.unlock, the contract in fs38/port.h): exclusive and recursive.
 * Threads sharing one fs38_posix are excluded by a recursive mutex in it; processes (and other
 * fs38_posix instances on the same file) by flock(LOCK_EX) on the flash file, taken at the
 * outermost lock. Blocking without timeout; a process that exits or dies releases it. Do not
 * fs38_posix_close() while holding it, nor hold it across a close + open ("reboot").
 */
#ifndef FS38_POSIX_H
#define FS38_POSIX_H

#include <pthread.h>
#include <stdint.h>
#include <stdbool.h>
#include "fs38/port.h"
#include "fs38/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fs38_posix_config {
    const char *path;        /* flash file; created (erased) if missing */
    uint32_t flash_size;     /* bytes, multiple of sector_size */
    uint32_t sector_size;    /* bytes, power of two >= 256 */
    uint32_t counter_offset; /* start of the counters' sectors (sector aligned) */
    const char *huk_path;    /* HUK file (created if missing); NULL = no hardware key */
} fs38_posix_config;

/* Size of the POSIX hardware unique key. */
#define FS38_POSIX_HUK_SIZE 32u

/* Sectors the counters occupy starting at counter_offset. */
#define FS38_POSIX_COUNTER_SECTORS (2u * FS38_COUNTER_COUNT)

typedef struct fs38_posix {
    fs38_posix_config cfg;
    int fd;
    bool off;             /* power was cut */
    uint64_t ops;         /* program/erase operations since open */
    uint64_t cut_at;      /* absolute op number to interrupt; 0 = never */
    uint64_t bytes_programmed; /* statistics: bytes passed to program() since open */
    uint64_t bytes_erased;     /* statistics: bytes erased since open */
    char path[512];
    char huk_path[512];
    char services_path[512];
    const uint8_t *map;   /* read-only shared mapping of the flash file (port.flash_map), or NULL */
    pthread_mutex_t lock_mu; /* device lock: recursive, excludes threads sharing this struct */
    bool lock_ready;      /* lock_mu initialised */
    unsigned lock_depth;  /* holder's recursion depth (0: not held) */
    int lock_fd;          /* descriptor holding the flock, -1 when none */
} fs38_posix;

/* Open (or create) the flash file. On success fills *port with the POSIX port for p. */
FS38_NODISCARD fs38_err fs38_posix_open(fs38_posix *p, const fs38_posix_config *cfg, fs38_port *port);
/* Close the file ("power off"). Safe to call twice. */
void fs38_posix_close(fs38_posix *p);
/* Interrupt the k-th program/erase operation from now (k >= 1); k = 0 cancels. */
void fs38_posix_cut_at(fs38_posix *p, uint64_t k);
/* The file listing the enabled network services (port.security_state); NULL = none. Kept until
 * the next fs38_posix_open. FS38_ERR_ARG when p is NULL or the path is too long. */
FS38_NODISCARD fs38_err fs38_posix_set_services(fs38_posix *p, const char *path);
/* Recursion depth of the device lock (0: not held). For tests. */
unsigned fs38_posix_lock_depth(const fs38_posix *p);
/* Program/erase operations performed since open (a cut operation counts). */
uint64_t fs38_posix_ops(const fs38_posix *p);

/*
 * The platform sockets (fs38/net.h) with BSD sockets: getaddrinfo (numeric or DNS names,
 * IPv4 and IPv6), a non-blocking connect bounded by its timeout, poll() for every send and
 * receive timeout, connected UDP sockets for DTLS (datagrams from any other address are
 * dropped by the kernel), MSG_TRUNC to detect a datagram longer than the caller's buffer.
 * SIGPIPE is never raised (MSG_NOSIGNAL). The handle is the socket's file descriptor. The
 * struct holds no state (ctx is NULL); fill it once.
 */
void fs38_posix_net(fs38_net *net);

#ifdef __cplusplus
}
#endif
#endif /* FS38_POSIX_H */
