/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_util.h — what every benchmark in bench/ shares: clocks, medians, a fatal-error check,
 * stack painting, scratch file paths and a probe port that watches the calls fs38 makes into
 * a port. Host-only (POSIX threads and clocks); never part of libfs38.
 */
#ifndef FS38_BENCH_UTIL_H
#define FS38_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fs38/port.h"

/* ---- failing loudly ---------------------------------------------------------------------- */

/* The program name in error messages ("bench_store"); set once at the start of main. */
void bench_set_name(const char *name);
/* Print "<name>: <what> failed (<code>)" to stderr and exit(1) (atexit handlers run). */
_Noreturn void bench_die(const char *what, long code);
/* BENCH_MUST(call): any non-zero result (fs38_err, psa_status_t, int) is fatal. */
#define BENCH_MUST(call)                                                                          \
    do {                                                                                          \
        long rc_ = (long)(call);                                                                  \
        if (rc_ != 0)                                                                             \
            bench_die(#call, rc_);                                                                \
    } while (0)

/* ---- clocks -------------------------------------------------------------------------------- */

uint64_t bench_now_ns(void); /* CLOCK_MONOTONIC, nanoseconds */
double bench_now_ms(void);   /* CLOCK_MONOTONIC, milliseconds */
double bench_cpu_ms(void);   /* CLOCK_THREAD_CPUTIME_ID: this thread's user + system time, ms */

/* ---- medians ------------------------------------------------------------------------------- */

/* Median of v[0..n) (sorts v; n >= 1): the middle value, or the mean of the two middle ones. */
double bench_median(double *v, size_t n);

typedef struct {
    uint64_t median, mean, max;
} bench_stats;
/* Sorts t[0..n) (n >= 1); median = t[n / 2] (the upper middle for even n), mean, max. */
bench_stats bench_summarize(uint64_t *t, size_t n);

/* ---- data ------------------------------------------------------------------------------------ */

/* n pseudo-random bytes (xorshift64 from a fixed seed: the same bytes every run). */
void bench_fill_random(uint8_t *b, size_t n);
/* "$TMPDIR/fs38-<stem>-<pid>.<ext>" (/tmp when TMPDIR is unset or empty). */
void bench_tmp_path(char *out, size_t cap, const char *stem, const char *ext);

/* ---- stack painting ------------------------------------------------------------------------- */

#define BENCH_STACK_BYTES (512u * 1024u)

/*
 * Run fn(arg) on a thread whose BENCH_STACK_BYTES stack (one static area, the same address
 * every run) was painted beforehand; return the bytes touched below the thread function's
 * frame (the peak stack of fn). *top (when not NULL) gets that frame's address, so depths
 * recorded during the run (bench_probe.min_sp) can be turned into bytes: top - sp.
 * FS38_BENCH_STACK_DEBUG=1 prints the area, the lowest touched byte and the frame.
 */
size_t bench_stack_peak(void (*fn)(void *), void *arg, uintptr_t *top);

/* ---- probe port ------------------------------------------------------------------------------ */

/*
 * A port that forwards every call to `base` and watches the flash calls fs38 makes:
 *   trace_stack  record the lowest frame address at read / erase / program / counter_read
 *                (min_sp, UINTPTR_MAX when none): fs38's depth at the port boundary;
 *   time_flash   add the wall time spent in base's erase / program to flash_ns;
 *   always       bytes programmed at offsets >= region_from into region_programmed.
 * Hand &probe->port to fs38; base must outlive it.
 */
typedef struct bench_probe {
    fs38_port port;
    const fs38_port *base;
    bool trace_stack;
    uintptr_t min_sp;
    bool time_flash;
    uint64_t flash_ns;
    uint32_t region_from;
    uint64_t region_programmed;
} bench_probe;

void bench_probe_init(bench_probe *p, const fs38_port *base);
/* Bytes between a thread's top frame and the deepest port call recorded (0 when none). */
size_t bench_probe_depth(const bench_probe *p, uintptr_t top);

#endif /* FS38_BENCH_UTIL_H */
