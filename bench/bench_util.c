/* SPDX-License-Identifier: Apache-2.0 */
/* bench_util.c — see bench_util.h. */
#include "bench_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- failing loudly ---------------------------------------------------------------------- */

static const char *prog = "bench";

void bench_set_name(const char *name)
{
    prog = name;
}

void bench_die(const char *what, long code)
{
    fprintf(stderr, "%s: %s failed (%ld)\n", prog, what, code);
    exit(1);
}

/* ---- clocks -------------------------------------------------------------------------------- */

static struct timespec clock_of(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        bench_die("clock_gettime", (long)id);
    return ts;
}

uint64_t bench_now_ns(void)
{
    struct timespec ts = clock_of(CLOCK_MONOTONIC);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double ms_of(struct timespec ts)
{
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double bench_now_ms(void)
{
    return ms_of(clock_of(CLOCK_MONOTONIC));
}

double bench_cpu_ms(void)
{
    return ms_of(clock_of(CLOCK_THREAD_CPUTIME_ID));
}

/* ---- medians ------------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

double bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bench_stats bench_summarize(uint64_t *t, size_t n)
{
    bench_stats s = { 0, 0, 0 };
    uint64_t sum = 0;
    qsort(t, n, sizeof *t, cmp_u64);
    for (size_t i = 0; i < n; i++)
        sum += t[i];
    s.median = t[n / 2];
    s.mean = sum / n;
    s.max = t[n - 1];
    return s;
}

/* ---- data ------------------------------------------------------------------------------------ */

void bench_fill_random(uint8_t *b, size_t n)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b[i] = (uint8_t)x;
    }
}

void bench_tmp_path(char *out, size_t cap, const char *stem, const char *ext)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, cap, "%s/fs38-%s-%ld.%s", tmp && *tmp ? tmp : "/tmp", stem, (long)getpid(), ext);
}

/* ---- stack painting ------------------------------------------------------------------------- */

#define PAINT 0xA5u

typedef struct {
    void (*fn)(void *);
    void *arg;
    uintptr_t top;
} stack_job;

static void *stack_thread(void *p)
{
    stack_job *j = p;
    j->top = (uintptr_t)__builtin_frame_address(0);
    j->fn(j->arg);
    return NULL;
}

static _Alignas(4096) uint8_t stack_area[BENCH_STACK_BYTES]; /* static: same address every run (gdb) */

size_t bench_stack_peak(void (*fn)(void *), void *arg, uintptr_t *top)
{
    memset(stack_area, PAINT, BENCH_STACK_BYTES);
    pthread_attr_t at;
    BENCH_MUST(pthread_attr_init(&at));
    BENCH_MUST(pthread_attr_setstack(&at, stack_area, BENCH_STACK_BYTES));
    stack_job j = { fn, arg, 0 };
    pthread_t t;
    BENCH_MUST(pthread_create(&t, &at, stack_thread, &j));
    BENCH_MUST(pthread_join(t, NULL));
    pthread_attr_destroy(&at);
    size_t i = 0;
    while (i < BENCH_STACK_BYTES && stack_area[i] == PAINT)
        i++;
    uintptr_t lowest = (uintptr_t)stack_area + i;
    if (getenv("FS38_BENCH_STACK_DEBUG")) /* then: gdb, watch *(char *)lowest after the memset */
        fprintf(stderr, "stack: area %p, lowest touched %p, thread frame %p\n", (void *)stack_area, (void *)lowest,
                (void *)j.top);
    if (top)
        *top = j.top;
    return j.top > lowest ? (size_t)(j.top - lowest) : 0;
}

/* ---- probe port ------------------------------------------------------------------------------ */

/* sp: the probe function's own frame (the depth at the port boundary). */
static void note(bench_probe *p, uintptr_t sp)
{
    if (p->trace_stack && sp < p->min_sp)
        p->min_sp = sp;
}

static FS38_NODISCARD fs38_err probe_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    bench_probe *p = ctx;
    note(p, (uintptr_t)__builtin_frame_address(0));
    return p->base->flash_read(p->base->ctx, off, buf, len);
}

static const uint8_t *probe_map(void *ctx, uint32_t off, size_t len)
{
    bench_probe *p = ctx;
    return p->base->flash_map(p->base->ctx, off, len);
}

static FS38_NODISCARD fs38_err probe_erase(void *ctx, uint32_t off, uint32_t len)
{
    bench_probe *p = ctx;
    note(p, (uintptr_t)__builtin_frame_address(0));
    uint64_t t = p->time_flash ? bench_now_ns() : 0;
    fs38_err e = p->base->flash_erase(p->base->ctx, off, len);
    if (p->time_flash)
        p->flash_ns += bench_now_ns() - t;
    return e;
}

static FS38_NODISCARD fs38_err probe_program(void *ctx, uint32_t off, const void *buf, size_t len)
{
    bench_probe *p = ctx;
    note(p, (uintptr_t)__builtin_frame_address(0));
    uint64_t t = p->time_flash ? bench_now_ns() : 0;
    fs38_err e = p->base->flash_program(p->base->ctx, off, buf, len);
    if (p->time_flash)
        p->flash_ns += bench_now_ns() - t;
    if (off >= p->region_from)
        p->region_programmed += len;
    return e;
}

static FS38_NODISCARD fs38_err probe_entropy(void *ctx, uint8_t *buf, size_t len)
{
    bench_probe *p = ctx;
    return p->base->entropy(p->base->ctx, buf, len);
}

static uint64_t probe_monotonic_ms(void *ctx)
{
    bench_probe *p = ctx;
    return p->base->monotonic_ms(p->base->ctx);
}

static FS38_NODISCARD fs38_err probe_wall_time(void *ctx, int64_t *s)
{
    bench_probe *p = ctx;
    return p->base->wall_time(p->base->ctx, s);
}

static FS38_NODISCARD fs38_err probe_hardware_key(void *ctx, uint8_t *out, size_t len)
{
    bench_probe *p = ctx;
    return p->base->hardware_key(p->base->ctx, out, len);
}

static FS38_NODISCARD fs38_err probe_counter_read(void *ctx, fs38_counter_id id, uint64_t *v)
{
    bench_probe *p = ctx;
    note(p, (uintptr_t)__builtin_frame_address(0));
    return p->base->counter_read(p->base->ctx, id, v);
}

static FS38_NODISCARD fs38_err probe_counter_advance(void *ctx, fs38_counter_id id, uint64_t v)
{
    bench_probe *p = ctx;
    return p->base->counter_advance(p->base->ctx, id, v);
}

void bench_probe_init(bench_probe *p, const fs38_port *base)
{
    memset(p, 0, sizeof *p);
    p->base = base;
    p->min_sp = UINTPTR_MAX;
    p->region_from = UINT32_MAX;
    fs38_port *q = &p->port;
    q->ctx = p;
    q->flash_size = base->flash_size;
    q->sector_size = base->sector_size;
    q->flash_read = base->flash_read ? probe_read : NULL;
    q->flash_map = base->flash_map ? probe_map : NULL;
    q->flash_erase = base->flash_erase ? probe_erase : NULL;
    q->flash_program = base->flash_program ? probe_program : NULL;
    q->entropy = base->entropy ? probe_entropy : NULL;
    q->monotonic_ms = base->monotonic_ms ? probe_monotonic_ms : NULL;
    q->wall_time = base->wall_time ? probe_wall_time : NULL;
    q->hardware_key = base->hardware_key ? probe_hardware_key : NULL;
    q->counter_read = base->counter_read ? probe_counter_read : NULL;
    q->counter_advance = base->counter_advance ? probe_counter_advance : NULL;
}

size_t bench_probe_depth(const bench_probe *p, uintptr_t top)
{
    return p->min_sp != UINTPTR_MAX && top > p->min_sp ? (size_t)(top - p->min_sp) : 0;
}
