/* SPDX-License-Identifier: Apache-2.0 */
/* test_posix_port.c — the POSIX port: flash file, power cuts, entropy, clocks, counters. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SS 4096u
#define FLASH_SIZE (16u * SS) /* 8 data sectors + 8 counter sectors */
#define SLOTS (SS / 16u)      /* counter entries per sector */
#define BIG (UINT64_C(1) << 63)

static void assert_all(const uint8_t *b, size_t len, uint8_t v)
{
    for (size_t i = 0; i < len; i++)
        if (b[i] != v) {
            fail_msg("byte %zu is 0x%02x, expected 0x%02x", i, b[i], v);
        }
}

static uint64_t counter(ts_flash *f, fs38_counter_id id)
{
    uint64_t v = 12345;
    assert_int_equal(f->port.counter_read(f->port.ctx, id, &v), FS38_OK);
    return v;
}

static FS38_NODISCARD fs38_err advance(ts_flash *f, fs38_counter_id id, uint64_t v)
{
    return f->port.counter_advance(f->port.ctx, id, v);
}

/* ---- open / geometry ------------------------------------------------------------ */

static void test_open_creates_erased_file(void **state)
{
    (void)state;
    ts_flash f;
    ts_flash_new(&f, FLASH_SIZE);
    assert_ptr_equal(f.port.ctx, &f.posix);
    assert_int_equal(f.port.flash_size, FLASH_SIZE);
    assert_int_equal(f.port.sector_size, SS);
    assert_non_null(f.port.flash_read);
    assert_non_null(f.port.flash_erase);
    assert_non_null(f.port.flash_program);
    assert_non_null(f.port.entropy);
    assert_non_null(f.port.monotonic_ms);
    assert_non_null(f.port.wall_time);
    assert_non_null(f.port.counter_read);
    assert_non_null(f.port.counter_advance);

    struct stat sb;
    assert_int_equal(stat(f.path, &sb), 0);
    assert_int_equal((uint64_t)sb.st_size, FLASH_SIZE);
    size_t len = 0;
    uint8_t *all = ts_read_file(f.path, &len);
    assert_non_null(all);
    assert_int_equal(len, FLASH_SIZE);
    assert_all(all, len, 0xFF);
    free(all);

    uint8_t *buf = malloc(FLASH_SIZE);
    assert_non_null(buf);
    assert_int_equal(fs38_flash_read(&f.port, 0, buf, FLASH_SIZE), FS38_OK);
    assert_all(buf, FLASH_SIZE, 0xFF);
    free(buf);
    assert_int_equal(fs38_posix_ops(&f.posix), 0);
    ts_flash_free(&f);
}

static void test_open_bad_geometry(void **state)
{
    (void)state;
    fs38_posix p;
    fs38_port port;
    const char *path = ts_tmp_path("geom");
    unlink(path);
    fs38_posix_config ok = { path, FLASH_SIZE, SS, FLASH_SIZE - 8u * SS, NULL };
    fs38_posix_config c;

    c = ok; c.sector_size = 128; c.counter_offset = 0;
    assert_int_equal(fs38_posix_open(&p, &c, &port), FS38_ERR_ARG);
    c = ok; c.sector_size = 3000;
    assert_int_equal(fs38_posix_open(&p, &c, &port), FS38_ERR_ARG);
    c = ok; c.sector_size = 0;
    assert_int_equal(fs38_posix_open(&p, &c, &port), FS38_ERR_ARG);
    c = ok; c.flash_size = FLASH_SIZE + 100;
    assert_int_equal(fs38_posix_open(&p, &c, &port), FS38_ERR_ARG);
    c = ok; c.flash_size = 0; c.counter_offset = 0;
    assert_int_equal(fs38_posix_open(&p, &c, &port), FS38_ERR_ARG);
    c = ok; c.counter_offset = FLASH_SIZE - 7u * SS; /* runs past the end */
    assert_int_equal(fs38_posix_open(&p, &c, &port), FS38_ERR_ARG);
    c = ok; c.counter_offset = 100; /* misaligned */
    assert_int_equal(fs38_posix_open(&p, &c, &port), FS38_ERR_ARG);
    c = ok; c.counter_offset = 0xFFFFF000u; /* overflow */
    assert_int_equal(fs38_posix_open(&p, &c, &port), FS38_ERR_ARG);
    c = ok; c.path = NULL;
    assert_int_equal(fs38_posix_open(&p, &c, &port), FS38_ERR_ARG);
    assert_int_equal(fs38_posix_open(&p, NULL, &port), FS38_ERR_ARG);
    assert_int_equal(access(path, F_OK), -1); /* nothing created */

    /* smallest legal geometry works: 256-byte sectors, counters only */
    c = ok; c.sector_size = 256; c.flash_size = 8u * 256u; c.counter_offset = 0;
    assert_int_equal(fs38_posix_open(&p, &c, &port), FS38_OK);
    assert_int_equal(port.counter_advance(port.ctx, FS38_COUNTER_BOOT, 7), FS38_OK);
    uint64_t v = 0;
    assert_int_equal(port.counter_read(port.ctx, FS38_COUNTER_BOOT, &v), FS38_OK);
    assert_int_equal(v, 7);
    fs38_posix_close(&p);
    unlink(path);
}

static void test_open_wrong_size_file(void **state)
{
    (void)state;
    ts_flash f;
    ts_flash_new(&f, FLASH_SIZE);
    fs38_posix_close(&f.posix);
    fs38_posix p2;
    fs38_port port2;
    fs38_posix_config c = f.cfg;
    c.flash_size = FLASH_SIZE * 2u;
    c.counter_offset = 0;
    assert_int_equal(fs38_posix_open(&p2, &c, &port2), FS38_ERR_IO);
    /* the file was not resized */
    struct stat sb;
    assert_int_equal(stat(f.path, &sb), 0);
    assert_int_equal((uint64_t)sb.st_size, FLASH_SIZE);
    /* a truncated file is rejected too */
    assert_int_equal(truncate(f.path, 1000), 0);
    assert_int_equal(fs38_posix_open(&p2, &f.cfg, &port2), FS38_ERR_IO);
    unlink(f.path);
}

static void test_close_twice(void **state)
{
    (void)state;
    ts_flash f;
    ts_flash_new(&f, FLASH_SIZE);
    fs38_posix_close(&f.posix);
    fs38_posix_close(&f.posix);
    uint8_t b[4];
    assert_int_not_equal(f.port.flash_read(f.port.ctx, 0, b, sizeof b), FS38_OK);
    ts_flash_reboot(&f);
    assert_int_equal(f.port.flash_read(f.port.ctx, 0, b, sizeof b), FS38_OK);
    ts_flash_free(&f);
    ts_flash_free(&f); /* close is safe twice */
}

/* ---- flash semantics ---------------------------------------------------------------- */

/* NOR semantics (tests/support.c, shared with the RAM port), counted exactly by the port. */
static void test_nor_semantics(void **state)
{
    (void)state;
    ts_flash f;
    ts_flash_new(&f, FLASH_SIZE);
    ts_nor_tally t;
    ts_port_check_nor(&f.port, &t);
    assert_int_equal(fs38_posix_ops(&f.posix), t.ops);
    assert_int_equal(f.posix.bytes_programmed, t.programmed);
    assert_int_equal(f.posix.bytes_erased, t.erased);
    /* the last sector can be erased; the file keeps its size */
    assert_int_equal(fs38_flash_erase(&f.port, FLASH_SIZE - SS, SS), FS38_OK);
    assert_int_equal(fs38_posix_ops(&f.posix), t.ops + 1);
    struct stat sb;
    assert_int_equal(stat(f.path, &sb), 0);
    assert_int_equal((uint64_t)sb.st_size, FLASH_SIZE);
    ts_flash_free(&f);
}

static void test_persist_across_reboot(void **state)
{
    (void)state;
    ts_flash f;
    ts_flash_new(&f, FLASH_SIZE);
    uint8_t data[300], r[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i ^ 0x5A);
    assert_int_equal(fs38_flash_program(&f.port, 2u * SS - 100, data, sizeof data), FS38_OK);
    assert_int_equal(fs38_flash_erase(&f.port, 4u * SS, SS), FS38_OK);
    ts_flash_reboot(&f);
    assert_ptr_equal(f.port.ctx, &f.posix);
    assert_int_equal(fs38_posix_ops(&f.posix), 0);
    assert_int_equal(fs38_flash_read(&f.port, 2u * SS - 100, r, sizeof r), FS38_OK);
    assert_memory_equal(r, data, sizeof data);
    ts_flash_free(&f);
}

static void test_several_flashes(void **state)
{
    (void)state;
    ts_flash a, b;
    ts_flash_new(&a, FLASH_SIZE);
    ts_flash_new(&b, 2u * FLASH_SIZE);
    const uint8_t x = 0x12;
    uint8_t r = 0;
    assert_int_equal(fs38_flash_program(&a.port, 7, &x, 1), FS38_OK);
    assert_int_equal(fs38_flash_read(&b.port, 7, &r, 1), FS38_OK);
    assert_int_equal(r, 0xFF);
    assert_int_equal(advance(&b, FS38_COUNTER_BOOT, 9), FS38_OK);
    assert_int_equal(counter(&a, FS38_COUNTER_BOOT), 0);
    fs38_posix_cut_at(&a.posix, 1);
    assert_int_equal(fs38_flash_program(&a.port, 8, &x, 1), FS38_ERR_POWER);
    /* b unaffected by a's power cut */
    assert_int_equal(fs38_flash_program(&b.port, 8, &x, 1), FS38_OK);
    assert_int_equal(counter(&b, FS38_COUNTER_BOOT), 9);
    assert_int_equal(fs38_posix_ops(&b.posix), 2);
    ts_flash_free(&a);
    ts_flash_free(&b);
}

/* ---- power cuts ----------------------------------------------------------------- */

static void assert_off(ts_flash *f)
{
    uint8_t b[8] = {0};
    uint64_t v;
    void *ctx = f->port.ctx;
    assert_int_equal(f->port.flash_read(ctx, 0, b, sizeof b), FS38_ERR_POWER);
    assert_int_equal(f->port.flash_program(ctx, 0, b, sizeof b), FS38_ERR_POWER);
    assert_int_equal(f->port.flash_erase(ctx, 0, SS), FS38_ERR_POWER);
    assert_int_equal(f->port.entropy(ctx, b, sizeof b), FS38_ERR_POWER);
    assert_int_equal(f->port.counter_read(ctx, FS38_COUNTER_BOOT, &v), FS38_ERR_POWER);
    assert_int_equal(f->port.counter_advance(ctx, FS38_COUNTER_BOOT, 1), FS38_ERR_POWER);
    assert_int_equal(fs38_flash_read(&f->port, 0, b, sizeof b), FS38_ERR_POWER);
}

static void test_cut_program(void **state)
{
    (void)state;
    ts_flash f;
    ts_flash_new(&f, FLASH_SIZE);
    uint8_t data[11], r[12];
    memset(data, 0x00, sizeof data);
    fs38_posix_cut_at(&f.posix, 3);
    assert_int_equal(fs38_flash_program(&f.port, 0, data, 1), FS38_OK);     /* op 1 */
    assert_int_equal(fs38_flash_erase(&f.port, SS, SS), FS38_OK);           /* op 2 */
    assert_int_equal(fs38_flash_program(&f.port, 100, data, 11), FS38_ERR_POWER); /* op 3 */
    assert_int_equal(fs38_posix_ops(&f.posix), 3);
    assert_off(&f);
    assert_int_equal(fs38_posix_ops(&f.posix), 3); /* refused calls are not operations */
    ts_flash_reboot(&f);
    /* first 11/2 = 5 bytes programmed, the rest untouched */
    assert_int_equal(fs38_flash_read(&f.port, 100, r, 12), FS38_OK);
    assert_all(r, 5, 0x00);
    assert_all(r + 5, 7, 0xFF);
    /* the flash works after the reboot, and no cut is pending */
    assert_int_equal(fs38_flash_program(&f.port, 100, data, 11), FS38_OK);
    assert_int_equal(fs38_flash_read(&f.port, 100, r, 12), FS38_OK);
    assert_all(r, 11, 0x00);
    for (int i = 0; i < 5; i++)
        assert_int_equal(fs38_flash_erase(&f.port, 0, SS), FS38_OK);
    ts_flash_free(&f);
}

static void test_cut_erase(void **state)
{
    (void)state;
    ts_flash f;
    ts_flash_new(&f, FLASH_SIZE);
    uint8_t *z = calloc(1, 8u * SS), *r = malloc(8u * SS);
    assert_non_null(z);
    assert_non_null(r);
    /* 1 sector: first half erased, second half untouched */
    assert_int_equal(fs38_flash_program(&f.port, 0, z, 8u * SS), FS38_OK);
    fs38_posix_cut_at(&f.posix, 1);
    assert_int_equal(fs38_flash_erase(&f.port, SS, SS), FS38_ERR_POWER);
    assert_off(&f);
    ts_flash_reboot(&f);
    assert_int_equal(fs38_flash_read(&f.port, 0, r, 8u * SS), FS38_OK);
    assert_all(r, SS, 0x00);
    assert_all(r + SS, SS / 2, 0xFF);
    assert_all(r + SS + SS / 2, SS / 2 + 6u * SS, 0x00);

    /* 3 sectors: sector 0 erased, sector 1 half, sector 2 untouched */
    assert_int_equal(fs38_flash_program(&f.port, 0, z, 8u * SS), FS38_OK);
    fs38_posix_cut_at(&f.posix, 1);
    assert_int_equal(fs38_flash_erase(&f.port, 2u * SS, 3u * SS), FS38_ERR_POWER);
    ts_flash_reboot(&f);
    assert_int_equal(fs38_flash_read(&f.port, 0, r, 8u * SS), FS38_OK);
    assert_all(r, 2u * SS, 0x00);
    assert_all(r + 2u * SS, SS + SS / 2, 0xFF);
    assert_all(r + 3u * SS + SS / 2, SS / 2 + 4u * SS, 0x00);

    /* 4 sectors: 2 erased, the third half, the fourth untouched */
    assert_int_equal(fs38_flash_program(&f.port, 0, z, 8u * SS), FS38_OK);
    fs38_posix_cut_at(&f.posix, 1);
    assert_int_equal(fs38_flash_erase(&f.port, 0, 4u * SS), FS38_ERR_POWER);
    assert_int_equal(f.posix.bytes_erased, 2u * SS + SS / 2);
    ts_flash_reboot(&f);
    assert_int_equal(fs38_flash_read(&f.port, 0, r, 8u * SS), FS38_OK);
    assert_all(r, 2u * SS + SS / 2, 0xFF);
    assert_all(r + 2u * SS + SS / 2, SS / 2, 0x00);

    /* flash works after reboot */
    assert_int_equal(fs38_flash_erase(&f.port, 0, 8u * SS), FS38_OK);
    assert_int_equal(fs38_flash_read(&f.port, 0, r, 8u * SS), FS38_OK);
    assert_all(r, 8u * SS, 0xFF);
    free(z);
    free(r);
    ts_flash_free(&f);
}

static void test_cut_cancel(void **state)
{
    (void)state;
    ts_flash f;
    ts_flash_new(&f, FLASH_SIZE);
    const uint8_t x = 0;
    fs38_posix_cut_at(&f.posix, 2);
    assert_int_equal(fs38_flash_program(&f.port, 0, &x, 1), FS38_OK);
    fs38_posix_cut_at(&f.posix, 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(fs38_flash_program(&f.port, 0, &x, 1), FS38_OK);
    /* k counts from the call, not from open */
    fs38_posix_cut_at(&f.posix, 1);
    assert_int_equal(fs38_flash_program(&f.port, 0, &x, 1), FS38_ERR_POWER);
    assert_int_equal(fs38_posix_ops(&f.posix), 12);
    ts_flash_free(&f);
}

/* ---- entropy, clocks ---------------------------------------------------------------- */

static void test_entropy_and_clocks(void **state)
{
    (void)state;
    ts_flash f;
    ts_flash_new(&f, FLASH_SIZE);
    uint8_t a[1000], b[1000];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    assert_int_equal(f.port.entropy(f.port.ctx, a, sizeof a), FS38_OK);
    assert_int_equal(f.port.entropy(f.port.ctx, b, sizeof b), FS38_OK);
    assert_memory_not_equal(a, b, sizeof a);
    int nz = 0;
    for (size_t i = 0; i < sizeof a; i++)
        nz += a[i] != 0;
    assert_true(nz > 900);
    assert_int_equal(f.port.entropy(f.port.ctx, a, 0), FS38_OK);
    assert_int_equal(fs38_posix_ops(&f.posix), 0);

    uint64_t t0 = f.port.monotonic_ms(f.port.ctx);
    usleep(20000);
    uint64_t t1 = f.port.monotonic_ms(f.port.ctx);
    assert_true(t1 >= t0 + 15);
    assert_true(t1 < t0 + 10000);

    int64_t now = 0;
    assert_int_equal(f.port.wall_time(f.port.ctx, &now), FS38_OK);
    assert_true(now > 1600000000); /* after 2020 */
    assert_int_equal(f.port.wall_time(f.port.ctx, NULL), FS38_ERR_ARG);

    /* clocks keep working while the device is "off"; entropy does not */
    fs38_posix_cut_at(&f.posix, 1);
    assert_int_equal(fs38_flash_erase(&f.port, 0, SS), FS38_ERR_POWER);
    assert_int_equal(f.port.entropy(f.port.ctx, a, sizeof a), FS38_ERR_POWER);
    assert_true(f.port.monotonic_ms(f.port.ctx) >= t1);
    ts_flash_free(&f);
}

/* ---- counters --------------------------------------------------------------------- */

static void test_counter_basic(void **state)
{
    (void)state;
    ts_flash f;
    ts_flash_new(&f, FLASH_SIZE);
    for (int id = 0; id < FS38_COUNTER_COUNT; id++)
        assert_int_equal(counter(&f, (fs38_counter_id)id), 0);
    assert_int_equal(advance(&f, FS38_COUNTER_ROLLBACK, 5), FS38_OK);
    assert_int_equal(counter(&f, FS38_COUNTER_ROLLBACK), 5);
    assert_int_equal(fs38_posix_ops(&f.posix), 1);

    /* never decreases; equal / lower advances write nothing */
    assert_int_equal(advance(&f, FS38_COUNTER_ROLLBACK, 3), FS38_OK);
    assert_int_equal(advance(&f, FS38_COUNTER_ROLLBACK, 5), FS38_OK);
    assert_int_equal(advance(&f, FS38_COUNTER_ROLLBACK, 0), FS38_OK);
    assert_int_equal(counter(&f, FS38_COUNTER_ROLLBACK), 5);
    assert_int_equal(fs38_posix_ops(&f.posix), 1);

    assert_int_equal(advance(&f, FS38_COUNTER_ROLLBACK, 6), FS38_OK);
    assert_int_equal(counter(&f, FS38_COUNTER_ROLLBACK), 6);

    /* large values, up to 2^63 */
    assert_int_equal(advance(&f, FS38_COUNTER_SPARE, UINT64_C(0x123456789ABCDEF0)), FS38_OK);
    assert_int_equal(counter(&f, FS38_COUNTER_SPARE), UINT64_C(0x123456789ABCDEF0));
    assert_int_equal(advance(&f, FS38_COUNTER_SPARE, BIG), FS38_OK);
    assert_int_equal(counter(&f, FS38_COUNTER_SPARE), BIG);
    assert_int_equal(advance(&f, FS38_COUNTER_SPARE, BIG + 1), FS38_ERR_ARG);
    assert_int_equal(advance(&f, FS38_COUNTER_SPARE, UINT64_MAX), FS38_ERR_ARG);
    assert_int_equal(counter(&f, FS38_COUNTER_SPARE), BIG);

    /* bad ids / arguments */
    uint64_t v;
    assert_int_equal(f.port.counter_read(f.port.ctx, FS38_COUNTER_COUNT, &v), FS38_ERR_ARG);
    assert_int_equal(f.port.counter_read(f.port.ctx, FS38_COUNTER_BOOT, NULL), FS38_ERR_ARG);
    assert_int_equal(advance(&f, FS38_COUNTER_COUNT, 1), FS38_ERR_ARG);
    assert_int_equal(advance(&f, (fs38_counter_id)-1, 1), FS38_ERR_ARG);

    /* persists across reboot */
    ts_flash_reboot(&f);
    assert_int_equal(counter(&f, FS38_COUNTER_ROLLBACK), 6);
    assert_int_equal(counter(&f, FS38_COUNTER_BOOT), 0);
    assert_int_equal(counter(&f, FS38_COUNTER_STORE), 0);
    assert_int_equal(counter(&f, FS38_COUNTER_SPARE), BIG);

    /* counters live only in the counter range: the data sectors are still erased */
    uint8_t *buf = malloc(8u * SS);
    assert_non_null(buf);
    assert_int_equal(fs38_flash_read(&f.port, 0, buf, 8u * SS), FS38_OK);
    assert_all(buf, 8u * SS, 0xFF);
    free(buf);
    ts_flash_free(&f);
}

static void test_counter_independent(void **state)
{
    (void)state;
    ts_flash f;
    ts_flash_new(&f, FLASH_SIZE);
    /* roll BOOT over several times while the others hold their values */
    assert_int_equal(advance(&f, FS38_COUNTER_ROLLBACK, 42), FS38_OK);
    assert_int_equal(advance(&f, FS38_COUNTER_SPARE, 7), FS38_OK);
    for (uint64_t i = 1; i <= 3u * SLOTS + 5u; i++) {
        assert_int_equal(advance(&f, FS38_COUNTER_BOOT, i), FS38_OK);
        if (i % 97 == 0)
            assert_int_equal(advance(&f, FS38_COUNTER_STORE, i * 1000u), FS38_OK);
    }
    ts_flash_reboot(&f);
    assert_int_equal(counter(&f, FS38_COUNTER_ROLLBACK), 42);
    assert_int_equal(counter(&f, FS38_COUNTER_BOOT), 3u * SLOTS + 5u);
    assert_int_equal(counter(&f, FS38_COUNTER_STORE), (3u * SLOTS + 5u) / 97u * 97u * 1000u);
    assert_int_equal(counter(&f, FS38_COUNTER_SPARE), 7);
    ts_flash_free(&f);
}

static void test_counter_rollover(void **state)
{
    (void)state;
    ts_flash f;
    ts_flash_new(&f, FLASH_SIZE);
    const uint64_t n = 5u * SLOTS + 17u; /* crosses 5 sector rollovers */
    for (uint64_t i = 1; i <= n; i++) {
        uint64_t ops = fs38_posix_ops(&f.posix);
        assert_int_equal(advance(&f, FS38_COUNTER_STORE, i * 3u), FS38_OK);
        /* one program per advance, plus one erase at each rollover */
        uint64_t d = fs38_posix_ops(&f.posix) - ops;
        assert_int_equal(d, (i - 1) % SLOTS == 0 && i > 1 ? 2 : 1);
        assert_int_equal(counter(&f, FS38_COUNTER_STORE), i * 3u);
        if (i % 200 == 0) {
            ts_flash_reboot(&f);
            assert_int_equal(counter(&f, FS38_COUNTER_STORE), i * 3u);
        }
    }
    assert_int_equal(f.posix.bytes_erased % SS, 0);
    ts_flash_reboot(&f);
    assert_int_equal(counter(&f, FS38_COUNTER_STORE), n * 3u);
    assert_int_equal(advance(&f, FS38_COUNTER_STORE, n * 3u - 1u), FS38_OK);
    assert_int_equal(counter(&f, FS38_COUNTER_STORE), n * 3u);
    ts_flash_free(&f);
}

/* Garbage (a torn entry) in the active sector is skipped, not overwritten. */
static void test_counter_torn_entry_skipped(void **state)
{
    (void)state;
    ts_flash f;
    ts_flash_new(&f, FLASH_SIZE);
    assert_int_equal(advance(&f, FS38_COUNTER_BOOT, 10), FS38_OK);
    fs38_posix_cut_at(&f.posix, 1);
    assert_int_equal(advance(&f, FS38_COUNTER_BOOT, 0x0102030405060708u), FS38_ERR_POWER);
    ts_flash_reboot(&f);
    assert_int_equal(counter(&f, FS38_COUNTER_BOOT), 10);
    assert_int_equal(advance(&f, FS38_COUNTER_BOOT, 11), FS38_OK);
    assert_int_equal(counter(&f, FS38_COUNTER_BOOT), 11);
    ts_flash_reboot(&f);
    assert_int_equal(counter(&f, FS38_COUNTER_BOOT), 11);

    /* a random half-entry of garbage written by hand never validates either */
    const uint32_t base = f.cfg.counter_offset + 2u * FS38_COUNTER_SPARE * SS;
    uint8_t junk[16];
    memset(junk, 0x00, 8);
    memset(junk + 8, 0xFF, 8);
    assert_int_equal(fs38_flash_program(&f.port, base, junk, 16), FS38_OK);
    memset(junk, 0x00, 16); /* all zero: not valid either */
    assert_int_equal(fs38_flash_program(&f.port, base + 16, junk, 16), FS38_OK);
    assert_int_equal(counter(&f, FS38_COUNTER_SPARE), 0);
    assert_int_equal(advance(&f, FS38_COUNTER_SPARE, 1), FS38_OK);
    assert_int_equal(counter(&f, FS38_COUNTER_SPARE), 1);
    ts_flash_free(&f);
}

/* The values of the sweep's sequence of advances: increasing with varying steps, plus some
 * non-increasing requests (which must not write). */
static uint64_t seq_value(size_t i)
{
    if (i % 37 == 36)
        return (uint64_t)i; /* lower than the current value: no-op */
    if (i == 150)
        return BIG - 100000u; /* a large jump; everything after is relative to it */
    uint64_t base = i > 150 ? BIG - 100000u : 0;
    return base + (uint64_t)i * 8u + (i % 5);
}

/*
 * Run advances seq[from..n) on counter id with a cut at op k; return the index of the
 * interrupted advance (or n when none was). *before receives the value before it.
 */
static size_t run_until_cut(ts_flash *f, fs38_counter_id id, size_t from, size_t n,
                            uint64_t *before)
{
    for (size_t i = from; i < n; i++) {
        *before = counter(f, id);
        uint64_t v = seq_value(i);
        fs38_err e = advance(f, id, v);
        if (e == FS38_ERR_POWER)
            return i;
        assert_int_equal(e, FS38_OK);
        assert_int_equal(counter(f, id), v > *before ? v : *before);
    }
    return n;
}

static void check_cut_and_continue(ts_flash *f, fs38_counter_id id, size_t from, size_t n,
                                   uint64_t k)
{
    uint64_t before = 0;
    fs38_posix_cut_at(&f->posix, k);
    size_t i = run_until_cut(f, id, from, n, &before);
    assert_true(i < n); /* the cut happened */
    assert_off(f);
    ts_flash_reboot(f);
    uint64_t want = seq_value(i) > before ? seq_value(i) : before;
    uint64_t got = counter(f, id);
    if (got != before && got != want)
        fail_msg("k=%llu: counter %llu after cut advance #%zu, want %llu or %llu",
                 (unsigned long long)k, (unsigned long long)got, i,
                 (unsigned long long)before, (unsigned long long)want);
    /* the other counters were not touched */
    for (int o = 0; o < FS38_COUNTER_COUNT; o++)
        if (o != (int)id)
            assert_int_equal(counter(f, (fs38_counter_id)o), 0);
    /* the counter keeps working: redo the interrupted advance and finish the sequence */
    uint64_t dummy;
    assert_int_equal(run_until_cut(f, id, i, n, &dummy), n);
    ts_flash_reboot(f);
    uint64_t max = 0;
    for (size_t j = 0; j < n; j++)
        if (seq_value(j) > max)
            max = seq_value(j);
    assert_int_equal(counter(f, id), max);
}

/* Cut every operation of a sequence of advances that crosses a sector rollover. */
static void test_counter_cut_sweep(void **state)
{
    (void)state;
    const size_t n = SLOTS + 40u;
    /* count the operations of the uncut sequence */
    ts_flash f;
    ts_flash_new(&f, FLASH_SIZE);
    uint64_t dummy;
    assert_int_equal(run_until_cut(&f, FS38_COUNTER_STORE, 0, n, &dummy), n);
    const uint64_t total = fs38_posix_ops(&f.posix);
    assert_true(total > SLOTS); /* includes the rollover's erase */
    ts_flash_free(&f);

    for (uint64_t k = 1; k <= total; k++) {
        ts_flash_new(&f, FLASH_SIZE);
        check_cut_and_continue(&f, FS38_COUNTER_STORE, 0, n, k);
        ts_flash_free(&f);
    }
}

/* The same sweep on the smallest sectors (16 entries each): many rollovers, so cuts hit
 * erases of sectors that still hold valid (older) entries. */
static void small_flash_new(ts_flash *f)
{
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", ts_tmp_path("small"));
    unlink(f->path);
    f->cfg.path = f->path;
    f->cfg.sector_size = 256;
    f->cfg.flash_size = 12u * 256u;
    f->cfg.counter_offset = 2u * 256u;
    assert_int_equal(fs38_posix_open(&f->posix, &f->cfg, &f->port), FS38_OK);
}

static void test_counter_cut_sweep_small_sectors(void **state)
{
    (void)state;
    const size_t n = 120;
    ts_flash f;
    uint64_t dummy;
    small_flash_new(&f);
    assert_int_equal(run_until_cut(&f, FS38_COUNTER_SPARE, 0, n, &dummy), n);
    const uint64_t total = fs38_posix_ops(&f.posix);
    assert_true(total > 100u + 5u); /* at least 5 rollovers */
    ts_flash_free(&f);

    for (uint64_t k = 1; k <= total; k++) {
        small_flash_new(&f);
        check_cut_and_continue(&f, FS38_COUNTER_SPARE, 0, n, k);
        ts_flash_free(&f);
    }
}

/* Same around the second rollover (back into the first sector, which holds old entries),
 * and a double cut: a second cut right after rebooting from the first. */
static void test_counter_cut_second_rollover(void **state)
{
    (void)state;
    /* find the advance that brings the op count to 20 before the second rollover */
    size_t pre = 0;
    {
        ts_flash f;
        ts_flash_new(&f, FLASH_SIZE);
        while (fs38_posix_ops(&f.posix) < 2u * SLOTS - 20u + 1u) {
            assert_int_equal(advance(&f, FS38_COUNTER_BOOT, seq_value(pre)), FS38_OK);
            pre++;
        }
        ts_flash_free(&f);
    }
    const size_t n = pre + 60u;
    for (uint64_t k = 1; k <= 45; k++) {
        ts_flash f;
        uint64_t dummy;
        ts_flash_new(&f, FLASH_SIZE);
        assert_int_equal(run_until_cut(&f, FS38_COUNTER_BOOT, 0, pre, &dummy), pre);
        check_cut_and_continue(&f, FS38_COUNTER_BOOT, pre, n, k);
        ts_flash_free(&f);
    }
    /* both sectors full; cut the rollover's erase (stale entries stay in the second half of
     * the first sector), then cut again after the reboot */
    for (uint64_t k2 = 1; k2 <= 3; k2++) {
        ts_flash f;
        ts_flash_new(&f, FLASH_SIZE);
        for (uint64_t v = 1; v <= 2u * SLOTS; v++)
            assert_int_equal(advance(&f, FS38_COUNTER_BOOT, v), FS38_OK);
        fs38_posix_cut_at(&f.posix, 1); /* the erase of the first sector */
        assert_int_equal(advance(&f, FS38_COUNTER_BOOT, 1000), FS38_ERR_POWER);
        ts_flash_reboot(&f);
        assert_int_equal(counter(&f, FS38_COUNTER_BOOT), 2u * SLOTS);
        fs38_posix_cut_at(&f.posix, k2);
        for (uint64_t v = 2000;; v++) {
            uint64_t before = counter(&f, FS38_COUNTER_BOOT);
            if (advance(&f, FS38_COUNTER_BOOT, v) == FS38_ERR_POWER) {
                ts_flash_reboot(&f);
                uint64_t got = counter(&f, FS38_COUNTER_BOOT);
                assert_true(got == before || got == v);
                break;
            }
            assert_int_equal(counter(&f, FS38_COUNTER_BOOT), v);
        }
        assert_int_equal(advance(&f, FS38_COUNTER_BOOT, 5000), FS38_OK);
        ts_flash_reboot(&f);
        assert_int_equal(counter(&f, FS38_COUNTER_BOOT), 5000);
        ts_flash_free(&f);
    }
}

/* ---- device lock ------------------------------------------------------------------------------ */

/* Can another process take an exclusive flock on path right now? 1 yes, 0 no. */
static int other_process_can_lock(const char *path)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(path, O_RDWR);
        _exit(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st) == 0;
}

typedef struct {
    fs38_port *port;
    volatile int entered;
} lock_thread_arg;

static void *lock_thread(void *v)
{
    lock_thread_arg *a = v;
    if (fs38_port_lock(a->port) == FS38_OK) {
        a->entered = 1;
        fs38_port_unlock(a->port);
    }
    return NULL;
}

/* The lock is recursive for its holder, excludes other processes (flock) and other threads
 * (mutex), and is released by the outermost unlock and by close. */
static void test_device_lock(void **state)
{
    (void)state;
    ts_flash f;
    ts_flash_new(&f, 64u * 4096u);
    assert_non_null(f.port.lock);
    assert_non_null(f.port.unlock);
    assert_int_equal(fs38_posix_lock_depth(&f.posix), 0);
    assert_true(other_process_can_lock(f.path));
    assert_int_equal(fs38_port_lock(&f.port), FS38_OK);
    assert_int_equal(fs38_port_lock(&f.port), FS38_OK); /* recursive */
    assert_int_equal(fs38_posix_lock_depth(&f.posix), 2);
    assert_false(other_process_can_lock(f.path));

    /* another thread waits until the outermost unlock */
    lock_thread_arg a = { &f.port, 0 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, lock_thread, &a), 0);
    usleep(50 * 1000);
    assert_int_equal(a.entered, 0);
    fs38_port_unlock(&f.port);
    usleep(20 * 1000);
    assert_int_equal(a.entered, 0);
    assert_false(other_process_can_lock(f.path));
    fs38_port_unlock(&f.port);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(a.entered, 1);
    assert_int_equal(fs38_posix_lock_depth(&f.posix), 0);
    assert_true(other_process_can_lock(f.path));

    /* a second instance on the same file is excluded like another process (flock) */
    fs38_posix p2;
    fs38_port port2;
    assert_int_equal(fs38_posix_open(&p2, &f.cfg, &port2), FS38_OK);
    assert_int_equal(fs38_port_lock(&port2), FS38_OK);
    assert_false(other_process_can_lock(f.path));
    fs38_port_unlock(&port2);
    assert_true(other_process_can_lock(f.path));
    fs38_posix_close(&p2);

    /* a port without a lock: the wrappers do nothing */
    fs38_port bare = f.port;
    bare.lock = NULL;
    bare.unlock = NULL;
    assert_int_equal(fs38_port_lock(&bare), FS38_OK);
    fs38_port_unlock(&bare);
    assert_true(other_process_can_lock(f.path));
    ts_flash_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_creates_erased_file),
        cmocka_unit_test(test_device_lock),
        cmocka_unit_test(test_open_bad_geometry),
        cmocka_unit_test(test_open_wrong_size_file),
        cmocka_unit_test(test_close_twice),
        cmocka_unit_test(test_nor_semantics),
        cmocka_unit_test(test_persist_across_reboot),
        cmocka_unit_test(test_several_flashes),
        cmocka_unit_test(test_cut_program),
        cmocka_unit_test(test_cut_erase),
        cmocka_unit_test(test_cut_cancel),
        cmocka_unit_test(test_entropy_and_clocks),
        cmocka_unit_test(test_counter_basic),
        cmocka_unit_test(test_counter_independent),
        cmocka_unit_test(test_counter_rollover),
        cmocka_unit_test(test_counter_torn_entry_skipped),
        cmocka_unit_test(test_counter_cut_sweep),
        cmocka_unit_test(test_counter_cut_sweep_small_sectors),
        cmocka_unit_test(test_counter_cut_second_rollover),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
