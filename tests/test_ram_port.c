/* SPDX-License-Identifier: Apache-2.0 */
/* test_ram_port.c — the RAM port (port/ram): NOR semantics, power cuts, counters, HUK, clocks. */
#include "support.h"

#include <string.h>
#include "fs38_ram.h"

#define SS 256u
#define SECTORS 8u
#define FLASH_SIZE (SECTORS * SS)

typedef struct {
    uint8_t flash[FLASH_SIZE];
    fs38_ram ram;
    fs38_port port;
} rig;

static const uint8_t HUK[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

static void rig_init(rig *r, bool extras)
{
    memset(r->flash, 0x00, sizeof r->flash); /* init must erase it */
    fs38_ram_config c = { .flash = r->flash, .flash_size = FLASH_SIZE, .sector_size = SS };
    if (extras) {
        c.huk = HUK;
        c.huk_len = sizeof HUK;
        c.fixed_entropy = true;
        c.entropy_byte = 0x5a;
        c.map = true;
        c.clock_ms = 77;
        c.wall_seconds = 1700000000;
    }
    assert_int_equal(fs38_ram_init(&r->ram, &c, &r->port), FS38_OK);
}

static void assert_all(const uint8_t *b, size_t len, uint8_t v)
{
    for (size_t i = 0; i < len; i++)
        if (b[i] != v)
            fail_msg("byte %zu is 0x%02x, expected 0x%02x", i, b[i], v);
}

static FS38_NODISCARD fs38_err prog(rig *r, uint32_t off, const void *b, size_t len)
{
    return r->port.flash_program(r->port.ctx, off, b, len);
}

static FS38_NODISCARD fs38_err erase(rig *r, uint32_t off, uint32_t len)
{
    return r->port.flash_erase(r->port.ctx, off, len);
}

static void fill(rig *r, uint8_t v) /* every byte programmed to v */
{
    uint8_t b[FLASH_SIZE];
    memset(b, v, sizeof b);
    assert_int_equal(prog(r, 0, b, sizeof b), FS38_OK);
}

static void test_init(void **state)
{
    (void)state;
    rig r;
    rig_init(&r, false);
    assert_ptr_equal(r.port.ctx, &r.ram);
    assert_int_equal(r.port.flash_size, FLASH_SIZE);
    assert_int_equal(r.port.sector_size, SS);
    assert_all(r.flash, FLASH_SIZE, 0xFF);
    assert_non_null(r.port.flash_read);
    assert_non_null(r.port.flash_erase);
    assert_non_null(r.port.flash_program);
    assert_non_null(r.port.counter_read);
    assert_non_null(r.port.counter_advance);
    assert_non_null(r.port.monotonic_ms);
    assert_non_null(r.port.wall_time);
    /* optional features are off unless configured */
    assert_null(r.port.entropy);
    assert_null(r.port.hardware_key);
    assert_null(r.port.flash_map);
    rig_init(&r, true);
    assert_non_null(r.port.entropy);
    assert_non_null(r.port.hardware_key);
    assert_non_null(r.port.flash_map);
}

static void test_init_bad_config(void **state)
{
    (void)state;
    static uint8_t flash[FLASH_SIZE];
    fs38_ram ram;
    fs38_port port;
    const fs38_ram_config good = { .flash = flash, .flash_size = FLASH_SIZE, .sector_size = SS };
    fs38_ram_config c = good;
    assert_int_equal(fs38_ram_init(NULL, &c, &port), FS38_ERR_ARG);
    assert_int_equal(fs38_ram_init(&ram, NULL, &port), FS38_ERR_ARG);
    assert_int_equal(fs38_ram_init(&ram, &c, NULL), FS38_ERR_ARG);
    c.flash = NULL;
    assert_int_equal(fs38_ram_init(&ram, &c, &port), FS38_ERR_ARG);
    c = good;
    c.sector_size = 384; /* not a power of two */
    assert_int_equal(fs38_ram_init(&ram, &c, &port), FS38_ERR_ARG);
    c = good;
    c.sector_size = 8; /* too small */
    assert_int_equal(fs38_ram_init(&ram, &c, &port), FS38_ERR_ARG);
    c = good;
    c.flash_size = FLASH_SIZE - 1; /* not whole sectors */
    assert_int_equal(fs38_ram_init(&ram, &c, &port), FS38_ERR_ARG);
    c = good;
    c.flash_size = 0;
    assert_int_equal(fs38_ram_init(&ram, &c, &port), FS38_ERR_ARG);
    c = good;
    c.huk = HUK;
    c.huk_len = 0;
    assert_int_equal(fs38_ram_init(&ram, &c, &port), FS38_ERR_ARG);
    c.huk_len = FS38_RAM_HUK_MAX + 1;
    assert_int_equal(fs38_ram_init(&ram, &c, &port), FS38_ERR_ARG);
    memset(flash, 0, sizeof flash);
    c = good;
    c.sector_size = 384;
    assert_int_equal(fs38_ram_init(&ram, &c, &port), FS38_ERR_ARG);
    assert_all(flash, sizeof flash, 0x00); /* a refused init touches nothing */
}

/* NOR semantics (tests/support.c, shared with the POSIX port), counted exactly by the port. */
static void test_nor_semantics(void **state)
{
    (void)state;
    rig r;
    rig_init(&r, false);
    ts_nor_tally t;
    ts_port_check_nor(&r.port, &t);
    assert_int_equal(fs38_ram_ops(&r.ram), t.ops);
    assert_int_equal(r.ram.bytes_programmed, t.programmed);
    assert_int_equal(r.ram.bytes_erased, t.erased);
    assert_int_equal(r.ram.bad_calls, t.refused);
    assert_all(r.flash, 6u * SS, 0xFF); /* the backing memory is what the port read */
    assert_all(r.flash + 6u * SS, FLASH_SIZE - 6u * SS, 0xFF);
}

static void test_refused_calls(void **state)
{
    (void)state;
    rig r;
    rig_init(&r, true);
    uint8_t b[16] = { 0 };
    uint64_t v;
    void *ctx = r.port.ctx;
    /* (refused flash calls: test_nor_semantics) */
    assert_int_equal(r.port.counter_read(ctx, FS38_COUNTER_COUNT, &v), FS38_ERR_ARG);
    assert_int_equal(r.port.counter_advance(ctx, FS38_COUNTER_COUNT, 1), FS38_ERR_ARG);
    assert_int_equal(r.port.hardware_key(ctx, b, 0), FS38_ERR_ARG);
    assert_int_equal(r.port.hardware_key(ctx, b, sizeof HUK + 1), FS38_ERR_ARG);
    assert_int_equal(r.ram.bad_calls, 4);
    assert_null(r.port.flash_map(ctx, FLASH_SIZE - 8, 16));
    assert_all(r.flash, FLASH_SIZE, 0xFF); /* nothing changed */
    assert_int_equal(fs38_ram_ops(&r.ram), 0);
    assert_int_equal(r.ram.bytes_programmed, 0);
}

static void test_cut_program(void **state)
{
    (void)state;
    rig r;
    rig_init(&r, true);
    uint8_t z[10];
    memset(z, 0, sizeof z);
    fs38_ram_cut_at(&r.ram, 2);
    assert_int_equal(prog(&r, 0, z, 10), FS38_OK); /* op 1 */
    assert_int_equal(prog(&r, SS, z, 10), FS38_ERR_POWER); /* op 2: cut, half done */
    assert_all(r.flash + SS, 5, 0x00);
    assert_all(r.flash + SS + 5, 5, 0xFF);
    assert_true(r.ram.off);
    /* off: everything refuses with FS38_ERR_POWER and changes nothing */
    uint8_t b[4];
    uint64_t v;
    void *ctx = r.port.ctx;
    assert_int_equal(r.port.flash_read(ctx, 0, b, 4), FS38_ERR_POWER);
    assert_int_equal(prog(&r, 2 * SS, z, 10), FS38_ERR_POWER);
    assert_int_equal(erase(&r, 0, SS), FS38_ERR_POWER);
    assert_int_equal(r.port.counter_read(ctx, FS38_COUNTER_BOOT, &v), FS38_ERR_POWER);
    assert_int_equal(r.port.counter_advance(ctx, FS38_COUNTER_BOOT, 3), FS38_ERR_POWER);
    assert_int_equal(r.port.entropy(ctx, b, 4), FS38_ERR_POWER);
    assert_int_equal(r.port.hardware_key(ctx, b, 4), FS38_ERR_POWER);
    assert_null(r.port.flash_map(ctx, 0, 4));
    assert_all(r.flash + 2 * SS, SS, 0xFF);
    assert_all(r.flash + 10, SS - 10, 0xFF);
    assert_int_equal(r.ram.counters[FS38_COUNTER_BOOT], 0);
    assert_int_equal(fs38_ram_ops(&r.ram), 2);
    /* reboot: power back, contents kept, no cut pending */
    fs38_ram_reboot(&r.ram);
    assert_false(r.ram.off);
    assert_int_equal(fs38_ram_ops(&r.ram), 0);
    assert_int_equal(r.port.flash_read(ctx, SS, b, 4), FS38_OK);
    assert_all(b, 4, 0x00);
    for (int i = 0; i < 4; i++)
        assert_int_equal(prog(&r, 3 * SS, z, 1), FS38_OK);
    /* a 1-byte program cut does nothing (half of 1 is 0) */
    fs38_ram_cut_at(&r.ram, 1);
    assert_int_equal(prog(&r, 4 * SS, z, 1), FS38_ERR_POWER);
    assert_int_equal(r.flash[4 * SS], 0xFF);
}

static void test_cut_erase(void **state)
{
    (void)state;
    rig r;
    rig_init(&r, false);
    fill(&r, 0x00);
    fs38_ram_cut_at(&r.ram, 1);
    assert_int_equal(erase(&r, SS, 4 * SS), FS38_ERR_POWER);
    /* sectors 1, 2 erased; sector 3's first half erased; the rest untouched */
    assert_all(r.flash, SS, 0x00);
    assert_all(r.flash + SS, 2 * SS + SS / 2, 0xFF);
    assert_all(r.flash + 3 * SS + SS / 2, FLASH_SIZE - 3 * SS - SS / 2, 0x00);
    assert_int_equal(r.ram.bytes_erased, 2 * SS + SS / 2);
    fs38_ram_reboot(&r.ram);
    /* one sector: its first half */
    fs38_ram_cut_at(&r.ram, 1);
    assert_int_equal(erase(&r, 6 * SS, SS), FS38_ERR_POWER);
    assert_all(r.flash + 6 * SS, SS / 2, 0xFF);
    assert_all(r.flash + 6 * SS + SS / 2, SS / 2, 0x00);
}

static void test_cut_cancel_and_count(void **state)
{
    (void)state;
    rig r;
    rig_init(&r, false);
    uint8_t z = 0;
    fs38_ram_cut_at(&r.ram, 3);
    fs38_ram_cut_at(&r.ram, 0);
    for (uint32_t i = 0; i < 5; i++)
        assert_int_equal(prog(&r, i, &z, 1), FS38_OK);
    /* relative to now: 2 operations after the 5 done */
    fs38_ram_cut_at(&r.ram, 2);
    assert_int_equal(prog(&r, 10, &z, 1), FS38_OK);
    assert_int_equal(prog(&r, 11, &z, 1), FS38_ERR_POWER);
    assert_int_equal(fs38_ram_ops(&r.ram), 7);
}

static void test_counters(void **state)
{
    (void)state;
    rig r;
    rig_init(&r, false);
    void *ctx = r.port.ctx;
    uint64_t v = 99;
    assert_int_equal(r.port.counter_read(ctx, FS38_COUNTER_ROLLBACK, &v), FS38_OK);
    assert_int_equal(v, 0);
    assert_int_equal(r.port.counter_advance(ctx, FS38_COUNTER_ROLLBACK, 5), FS38_OK);
    assert_int_equal(r.port.counter_advance(ctx, FS38_COUNTER_ROLLBACK, 3), FS38_OK); /* never decreases */
    assert_int_equal(r.port.counter_advance(ctx, FS38_COUNTER_ROLLBACK, 5), FS38_OK);
    assert_int_equal(r.port.counter_read(ctx, FS38_COUNTER_ROLLBACK, &v), FS38_OK);
    assert_int_equal(v, 5);
    assert_int_equal(r.ram.counters[FS38_COUNTER_STORE], 0); /* independent */
    /* only a raising advance writes: one entry, one operation */
    assert_int_equal(r.ram.bytes_programmed, FS38_RAM_COUNTER_ENTRY);
    assert_int_equal(fs38_ram_ops(&r.ram), 1);
    assert_int_equal(r.port.counter_advance(ctx, FS38_COUNTER_STORE, UINT64_MAX), FS38_OK);
    assert_int_equal(r.ram.counters[FS38_COUNTER_STORE], UINT64_MAX);
    /* a cut advance leaves the old value */
    fs38_ram_cut_at(&r.ram, 1);
    assert_int_equal(r.port.counter_advance(ctx, FS38_COUNTER_ROLLBACK, 9), FS38_ERR_POWER);
    fs38_ram_reboot(&r.ram);
    assert_int_equal(r.port.counter_read(ctx, FS38_COUNTER_ROLLBACK, &v), FS38_OK);
    assert_int_equal(v, 5);
    /* the caller may set them; erase_all is a new device */
    r.ram.counters[FS38_COUNTER_BOOT] = 42;
    assert_int_equal(r.port.counter_read(ctx, FS38_COUNTER_BOOT, &v), FS38_OK);
    assert_int_equal(v, 42);
    fill(&r, 0x11);
    fs38_ram_erase_all(&r.ram);
    assert_all(r.flash, FLASH_SIZE, 0xFF);
    for (unsigned i = 0; i < FS38_COUNTER_COUNT; i++)
        assert_int_equal(r.ram.counters[i], 0);
}

static void test_huk_entropy_clocks_map(void **state)
{
    (void)state;
    rig r;
    rig_init(&r, true);
    void *ctx = r.port.ctx;
    uint8_t k[40];
    memset(k, 0xEE, sizeof k);
    assert_int_equal(r.port.hardware_key(ctx, k, 8), FS38_OK);
    assert_memory_equal(k, HUK, 8);
    assert_int_equal(k[8], 0xEE);
    assert_int_equal(r.port.hardware_key(ctx, k, sizeof HUK), FS38_OK);
    assert_memory_equal(k, HUK, sizeof HUK);

    uint8_t e[33];
    assert_int_equal(r.port.entropy(ctx, e, sizeof e), FS38_OK);
    assert_all(e, sizeof e, 0x5a);

    assert_int_equal(r.port.monotonic_ms(ctx), 77);
    r.ram.clock_ms += 1000;
    assert_int_equal(r.port.monotonic_ms(ctx), 1077);
    int64_t t = 0;
    assert_int_equal(r.port.wall_time(ctx, &t), FS38_OK);
    assert_int_equal(t, 1700000000);
    r.ram.wall_seconds = 0;
    assert_int_equal(r.port.wall_time(ctx, &t), FS38_ERR_NOT_FOUND);

    const uint8_t *m = r.port.flash_map(ctx, SS, 16);
    assert_ptr_equal(m, r.flash + SS);
    const uint8_t z[2] = { 0x12, 0x34 };
    assert_int_equal(prog(&r, SS, z, 2), FS38_OK);
    assert_int_equal(m[0], 0x12); /* the mapping shows programs at once */
    assert_non_null(r.port.flash_map(ctx, 0, FLASH_SIZE));
    assert_null(r.port.flash_map(ctx, 1, FLASH_SIZE));
}

/* fs38's own flash wrappers work on the port (geometry checks before the port is called). */
static void test_library_wrappers(void **state)
{
    (void)state;
    rig r;
    rig_init(&r, false);
    const uint8_t d[4] = { 1, 2, 3, 4 };
    uint8_t got[4];
    assert_int_equal(fs38_flash_program(&r.port, 100, d, 4), FS38_OK);
    assert_int_equal(fs38_flash_read(&r.port, 100, got, 4), FS38_OK);
    assert_memory_equal(got, d, 4);
    assert_int_equal(fs38_flash_erase(&r.port, 0, SS), FS38_OK);
    assert_int_equal(fs38_flash_read(&r.port, 100, got, 4), FS38_OK);
    assert_all(got, 4, 0xFF);
    assert_int_equal(r.ram.bad_calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_init_bad_config),
        cmocka_unit_test(test_nor_semantics),
        cmocka_unit_test(test_refused_calls),
        cmocka_unit_test(test_cut_program),
        cmocka_unit_test(test_cut_erase),
        cmocka_unit_test(test_cut_cancel_and_count),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_huk_entropy_clocks_map),
        cmocka_unit_test(test_library_wrappers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
