/* SPDX-License-Identifier: Apache-2.0 */
/*
 * m4_port.c — fs38_port for the Cortex-M4 port (see fs38_m4.h): NOR flash in code memory with
 * write-through to the host file flash.bin, power cut at the Nth program / erase, counters and
 * the NV seed as power-safe records in flash, the HUK from the "OTP" sector.
 */
#include <string.h>
#include "fs38_m4.h"

#define FLASH ((uint8_t *)M4_FLASH_BASE)

static int g_fd = -1;      /* flash.bin, open "rb+" */
static uint32_t g_ops;     /* program / erase operations in this run */
static uint32_t g_cut;     /* cut at this operation (0: never) */
static uint32_t g_cut_part = 1; /* how much of the cut operation lands: 0 none, 1 half, 2 all */

uint32_t m4_port_ops(void)
{
    return g_ops;
}

/* Write [off, off+len) of the flash through to flash.bin. */
static fs38_err persist(uint32_t off, uint32_t len)
{
    if (g_fd < 0)
        return FS38_OK; /* no host file: the flash lives for this run only */
    if (m4_sh_seek(g_fd, off) != 0 || m4_sh_write(g_fd, FLASH + off, len) != len)
        return FS38_ERR_IO;
    return FS38_OK;
}

/* Count one operation; true (after the partial operation is persisted by the caller) when power
 * is cut here. */
static int cut_now(void)
{
    return ++g_ops == g_cut;
}

__attribute__((noreturn)) static void power_off(void)
{
    m4_puts("m4: power cut at flash operation ");
    m4_putu(g_ops);
    m4_puts("\n");
    if (g_fd >= 0)
        (void)m4_sh_close(g_fd);
    m4_exit(M4_EXIT_POWER);
}

static int in_flash(uint32_t off, uint64_t len)
{
    return (uint64_t)off + len <= M4_FLASH_SIZE;
}

static FS38_NODISCARD fs38_err m4_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    if (!buf || !in_flash(off, len))
        return FS38_ERR_ARG;
    memcpy(buf, FLASH + off, len);
    return FS38_OK;
}

static const uint8_t *m4_map(void *ctx, uint32_t off, size_t len)
{
    (void)ctx;
    return in_flash(off, len) ? FLASH + off : NULL;
}

static FS38_NODISCARD fs38_err m4_erase(void *ctx, uint32_t off, uint32_t len)
{
    (void)ctx;
    if (off % M4_SECTOR || len % M4_SECTOR || !in_flash(off, len))
        return FS38_ERR_ARG;
    if (off >= M4_OTP && off < M4_OTP + M4_SECTOR)
        return FS38_ERR_ARG; /* the OTP sector is never erased */
    if (cut_now()) { /* the first half of the sectors, and half of the next one */
        uint32_t done = g_cut_part == 0 ? 0 : g_cut_part == 2 ? len : len / M4_SECTOR / 2u * M4_SECTOR + M4_SECTOR / 2u;
        memset(FLASH + off, 0xFF, done);
        (void)persist(off, done);
        power_off();
    }
    memset(FLASH + off, 0xFF, len);
    return persist(off, len);
}

static void and_bytes(uint8_t *dst, const uint8_t *src, size_t len)
{
    for (size_t i = 0; i < len; i++)
        dst[i] &= src[i];
}

static FS38_NODISCARD fs38_err m4_program(void *ctx, uint32_t off, const void *buf, size_t len)
{
    (void)ctx;
    if (!buf || !in_flash(off, len))
        return FS38_ERR_ARG;
    if (cut_now()) { /* a prefix is programmed */
        size_t done = g_cut_part == 0 ? 0 : g_cut_part == 2 ? len : len / 2u;
        and_bytes(FLASH + off, buf, done);
        (void)persist(off, (uint32_t)done);
        power_off();
    }
    and_bytes(FLASH + off, buf, len);
    return persist(off, (uint32_t)len);
}

/* ---- counters: per counter two sectors of 16-byte records (value, ~value), the largest
 * valid record counts; a torn record fails the complement check ---- */

#define REC 16u
#define CTR_AREA(id) (M4_COUNTERS + (uint32_t)(id) * 2u * M4_SECTOR)

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int rec_erased(const uint8_t *r)
{
    for (unsigned i = 0; i < REC; i++)
        if (r[i] != 0xFF)
            return 0;
    return 1;
}

/* The counter's value; *best_sector the sector (0/1) holding it, *free_off the first erased
 * record (or UINT32_MAX). */
static uint64_t ctr_scan(fs38_counter_id id, unsigned *best_sector, uint32_t *free_off)
{
    uint64_t best = 0;
    *best_sector = 0;
    *free_off = UINT32_MAX;
    for (uint32_t o = 0; o < 2u * M4_SECTOR; o += REC) {
        const uint8_t *r = FLASH + CTR_AREA(id) + o;
        if (rec_erased(r)) {
            if (*free_off == UINT32_MAX)
                *free_off = o;
            continue;
        }
        uint64_t v = le64(r), inv = le64(r + 8);
        if (v == ~inv && v >= best) {
            best = v;
            *best_sector = o / M4_SECTOR;
        }
    }
    return best;
}

static FS38_NODISCARD fs38_err m4_counter_read(void *ctx, fs38_counter_id id, uint64_t *value)
{
    (void)ctx;
    if ((unsigned)id >= FS38_COUNTER_COUNT || !value)
        return FS38_ERR_ARG;
    unsigned s;
    uint32_t f;
    *value = ctr_scan(id, &s, &f);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err m4_counter_advance(void *ctx, fs38_counter_id id, uint64_t value)
{
    if ((unsigned)id >= FS38_COUNTER_COUNT)
        return FS38_ERR_ARG;
    unsigned s;
    uint32_t f;
    uint64_t cur = ctr_scan(id, &s, &f);
    if (value <= cur)
        return FS38_OK;
    if (f == UINT32_MAX) { /* both sectors used: erase the one not holding the value */
        f = (s ? 0u : 1u) * M4_SECTOR;
        fs38_err e = m4_erase(ctx, CTR_AREA(id) + f, M4_SECTOR);
        if (e)
            return e;
    }
    uint8_t r[REC];
    put_le64(r, value);
    put_le64(r + 8, ~value);
    return m4_program(ctx, CTR_AREA(id) + f, r, REC);
}

/* ---- HUK from the OTP sector ---- */

static FS38_NODISCARD fs38_err m4_huk(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    if (!out || len == 0 || len > 32)
        return FS38_ERR_ARG;
    const uint8_t *h = FLASH + M4_OTP + M4_OTP_HUK;
    uint8_t all = 0xFF;
    for (unsigned i = 0; i < 32; i++)
        all &= h[i];
    if (all == 0xFF)
        return FS38_ERR_NOT_FOUND; /* not provisioned */
    memcpy(out, h, len);
    return FS38_OK;
}

/* ---- NV seed: two sectors, record (seq, ~seq, seed[64], commit word 0 programmed last) ---- */

#define SEED_MAX 64u

static int seed_valid(unsigned s, uint32_t *seq)
{
    const uint8_t *r = FLASH + M4_NVSEED + s * M4_SECTOR;
    uint32_t a = (uint32_t)le64(r), b = (uint32_t)(le64(r) >> 32);
    const uint8_t *c = r + 8 + SEED_MAX;
    if (a != (uint32_t)~b || c[0] | c[1] | c[2] | c[3])
        return 0;
    *seq = a;
    return 1;
}

static int seed_current(uint32_t *seq)
{
    uint32_t q0 = 0, q1 = 0;
    int v0 = seed_valid(0, &q0), v1 = seed_valid(1, &q1);
    if (!v0 && !v1)
        return -1;
    if (v0 && (!v1 || q0 >= q1)) {
        *seq = q0;
        return 0;
    }
    *seq = q1;
    return 1;
}

int m4_nv_seed_read(unsigned char *buf, size_t len)
{
    uint32_t seq;
    int s = seed_current(&seq);
    if (s < 0 || len > SEED_MAX)
        return -1;
    memcpy(buf, FLASH + M4_NVSEED + (uint32_t)s * M4_SECTOR + 8, len);
    return (int)len;
}

int m4_nv_seed_write(unsigned char *buf, size_t len)
{
    uint32_t seq = 0;
    int s = seed_current(&seq);
    unsigned t = s == 0 ? 1u : 0u;
    if (len > SEED_MAX)
        return -1;
    uint8_t r[8 + SEED_MAX];
    memset(r, 0xFF, sizeof r);
    seq++;
    for (int i = 0; i < 4; i++) {
        r[i] = (uint8_t)(seq >> (8 * i));
        r[4 + i] = (uint8_t)(~seq >> (8 * i));
    }
    memcpy(r + 8, buf, len);
    static const uint8_t zero[4];
    uint32_t at = M4_NVSEED + t * M4_SECTOR;
    if (m4_erase(NULL, at, M4_SECTOR) || m4_program(NULL, at, r, sizeof r) ||
        m4_program(NULL, at + 8 + SEED_MAX, zero, sizeof zero))
        return -1;
    return (int)len;
}

/* ---- set-up ---- */

fs38_err m4_port_init(fs38_port *p, int load, const char *cut_key)
{
    memset(p, 0, sizeof *p);
    g_cut = cut_key ? m4_arg(cut_key, 0) : 0;
    g_cut_part = m4_arg("cutpart", 1); /* 0: power fails just before the operation, 2: just after */
    g_fd = m4_sh_open("flash.bin", 3 /* rb+ */);
    if (load) {
        if (g_fd < 0) {
            memset(FLASH, 0xFF, M4_FLASH_SIZE);
        } else if (m4_sh_flen(g_fd) != (long)M4_FLASH_SIZE ||
                   m4_sh_read(g_fd, FLASH, M4_FLASH_SIZE) != M4_FLASH_SIZE) {
            return FS38_ERR_IO;
        }
    }
    p->flash_size = M4_FLASH_SIZE;
    p->sector_size = M4_SECTOR;
    p->flash_read = m4_read;
    p->flash_map = m4_map;
    p->flash_erase = m4_erase;
    p->flash_program = m4_program;
    p->hardware_key = m4_huk;
    p->counter_read = m4_counter_read;
    p->counter_advance = m4_counter_advance;
    return FS38_OK;
}
