/* SPDX-License-Identifier: Apache-2.0 */
/* test_store.c — sealed store: put/get/delete, limits, compaction and wear rotation, full
 * store, tamper (every byte), rollback, wrong HUK, wipe, and a power cut at every
 * program/erase of a scripted sequence with several compactions. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "support.h"
#include "fs38/event.h"
#include "fs38/store.h"
#include "fs38/util.h"

#define SS 4096u
#define FLASH_SIZE (24u * SS)     /* 16 data sectors + 8 counter sectors */
#define REGION_OFF (2u * SS)

typedef ts_device rig; /* flash, HUK, sealed store (tests/support.h) */

/* ---- event sink -------------------------------------------------------------------------- */

static unsigned ev_rollback, ev_corrupt;

static void sink(void *user, const fs38_event_rec *ev)
{
    (void)user;
    if (ev->code == FS38_EV_STORE_ROLLBACK)
        ev_rollback++;
    if (ev->code == FS38_EV_STORE_CORRUPT)
        ev_corrupt++;
}

/* ---- rig --------------------------------------------------------------------------------- */

/* A new device whose store (banks of bank_size, 0: one sector) is not opened yet. */
static void rig_flash(rig *r, uint32_t banks, uint32_t bank_size)
{
    ts_device_prepare(r, FLASH_SIZE, (fs38_store_config){ NULL, REGION_OFF, banks * (bank_size ? bank_size : SS), bank_size });
}

static void rig_new(rig *r, uint32_t banks)
{
    rig_flash(r, banks, 0);
    ts_device_open(r);
}

/* Power off (the store's RAM and keys are gone) and on again; open must succeed. */
static void rig_reboot(rig *r)
{
    ts_device_power_off_on(r);
    ts_device_open(r);
}

static void rig_free(rig *r)
{
    ts_device_free(r, false);
}

static void file_rw(const char *path, uint32_t off, void *buf, size_t len, int write)
{
    int fd = open(path, write ? O_WRONLY : O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
    assert_int_equal((size_t)n, len);
    close(fd);
}

/* memmem without _GNU_SOURCE */
static int contains(const uint8_t *hay, size_t hn, const void *needle, size_t nn)
{
    if (nn == 0 || nn > hn)
        return 0;
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(hay + i, needle, nn) == 0)
            return 1;
    return 0;
}

static void want_value(rig *r, const char *name, const void *val, size_t len)
{
    uint8_t buf[FS38_STORE_VALUE_MAX];
    size_t n = 12345;
    fs38_err e = fs38_store_get(&r->s, name, buf, sizeof buf, &n);
    if (e != FS38_OK)
        fail_msg("get %s: %s (%s)", name, fs38_strerror(e), r->s.diag.msg);
    assert_int_equal(n, len);
    if (len)
        assert_memory_equal(buf, val, len);
}

static void want_absent(rig *r, const char *name)
{
    uint8_t buf[8];
    size_t n;
    assert_int_equal(fs38_store_get(&r->s, name, buf, sizeof buf, &n), FS38_ERR_NOT_FOUND);
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
}

/* ---- basic API ---------------------------------------------------------------------------- */

static void test_put_get_delete_overwrite(void **state)
{
    (void)state;
    rig r;
    rig_new(&r, 2);
    const uint8_t v1[] = "first value";
    const uint8_t v2[] = "second, longer value";
    want_absent(&r, "k");
    assert_int_equal(fs38_store_delete(&r.s, "k"), FS38_OK); /* absent: nothing written */
    assert_int_equal(fs38_store_put(&r.s, "k", v1, sizeof v1), FS38_OK);
    want_value(&r, "k", v1, sizeof v1);
    assert_int_equal(fs38_store_put(&r.s, "k", v2, sizeof v2), FS38_OK);
    want_value(&r, "k", v2, sizeof v2);
    assert_int_equal(fs38_store_put(&r.s, "other", v1, 3), FS38_OK);
    assert_int_equal(fs38_store_put(&r.s, "empty", NULL, 0), FS38_OK);
    want_value(&r, "empty", NULL, 0);
    rig_reboot(&r);
    want_value(&r, "k", v2, sizeof v2);
    want_value(&r, "other", v1, 3);
    want_value(&r, "empty", NULL, 0);
    assert_int_equal(fs38_store_delete(&r.s, "k"), FS38_OK);
    want_absent(&r, "k");
    assert_int_equal(fs38_store_delete(&r.s, "k"), FS38_OK);
    rig_reboot(&r);
    want_absent(&r, "k");
    want_value(&r, "other", v1, 3);
    /* re-create after delete */
    assert_int_equal(fs38_store_put(&r.s, "k", v1, sizeof v1), FS38_OK);
    rig_reboot(&r);
    want_value(&r, "k", v1, sizeof v1);
    /* reopen with the store's own copy of its configuration */
    fs38_store_close(&r.s);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
    fs38_store_config own = r.s.cfg;
    r.s.open = false; /* as after a failed open: keys destroyed, cfg kept */
    psa_destroy_key(r.s.key);
    psa_destroy_key(r.s.mac_key);
    assert_int_equal(fs38_store_open(&r.s, &r.s.cfg), FS38_OK);
    assert_memory_equal(&own, &r.s.cfg, sizeof own);
    want_value(&r, "k", v1, sizeof v1);
    /* small buffer: FS38_ERR_BUFFER with the length */
    uint8_t small[4];
    size_t n = 0;
    assert_int_equal(fs38_store_get(&r.s, "k", small, sizeof small, &n), FS38_ERR_BUFFER);
    assert_int_equal(n, sizeof v1);
    assert_int_equal(fs38_store_get(&r.s, "k", NULL, 0, &n), FS38_ERR_BUFFER);
    rig_free(&r);
}

static void test_limits_and_config(void **state)
{
    (void)state;
    rig r;
    rig_new(&r, 2);
    static uint8_t big[FS38_STORE_VALUE_MAX + 1];
    fill(big, sizeof big, 7);
    char name32[33], name33[34];
    memset(name32, 'n', 32);
    name32[32] = 0;
    memset(name33, 'n', 33);
    name33[33] = 0;
    assert_int_equal(fs38_store_put(&r.s, name32, big, FS38_STORE_VALUE_MAX), FS38_OK);
    assert_int_equal(fs38_store_put(&r.s, name33, big, 1), FS38_ERR_ARG);
    assert_int_equal(fs38_store_put(&r.s, "", big, 1), FS38_ERR_ARG);
    assert_int_equal(fs38_store_put(&r.s, NULL, big, 1), FS38_ERR_ARG);
    assert_int_equal(fs38_store_put(&r.s, "x", big, FS38_STORE_VALUE_MAX + 1), FS38_ERR_ARG);
    assert_int_equal(fs38_store_put(&r.s, "x", NULL, 1), FS38_ERR_ARG);
    size_t n;
    uint8_t out[FS38_STORE_VALUE_MAX];
    assert_int_equal(fs38_store_get(&r.s, name33, out, sizeof out, &n), FS38_ERR_ARG);
    assert_int_equal(fs38_store_get(&r.s, "x", out, sizeof out, NULL), FS38_ERR_ARG);
    assert_int_equal(fs38_store_delete(&r.s, ""), FS38_ERR_ARG);
    rig_reboot(&r);
    want_value(&r, name32, big, FS38_STORE_VALUE_MAX);

    /* not open */
    fs38_store closed;
    memset(&closed, 0, sizeof closed);
    assert_int_equal(fs38_store_put(&closed, "x", big, 1), FS38_ERR_STATE);
    assert_int_equal(fs38_store_get(&closed, "x", out, sizeof out, &n), FS38_ERR_STATE);
    assert_int_equal(fs38_store_delete(&closed, "x"), FS38_ERR_STATE);
    assert_int_equal(fs38_store_get(NULL, "x", out, sizeof out, &n), FS38_ERR_STATE);

    /* geometry */
    fs38_store t;
    fs38_store_config c = r.scfg;
    c.size = SS; /* one bank */
    assert_int_equal(fs38_store_open(&t, &c), FS38_ERR_ARG);
    c = r.scfg;
    c.offset = REGION_OFF + 16; /* unaligned */
    assert_int_equal(fs38_store_open(&t, &c), FS38_ERR_ARG);
    c = r.scfg;
    c.offset = FLASH_SIZE - SS; /* past the end */
    assert_int_equal(fs38_store_open(&t, &c), FS38_ERR_ARG);
    c = r.scfg;
    c.bank_size = 1000; /* not a multiple of the sector */
    assert_int_equal(fs38_store_open(&t, &c), FS38_ERR_ARG);
    c = r.scfg;
    c.size = 3 * SS;
    c.bank_size = 2 * SS; /* not a multiple of the bank */
    assert_int_equal(fs38_store_open(&t, &c), FS38_ERR_ARG);
    assert_int_equal(fs38_store_open(&t, NULL), FS38_ERR_ARG);
    assert_int_equal(fs38_store_open(NULL, &r.scfg), FS38_ERR_ARG);
    rig_free(&r);

    /* no hardware unique key: sealed storage unavailable */
    ts_flash f;
    ts_flash_new(&f, FLASH_SIZE);
    assert_null(f.port.hardware_key);
    c.port = &f.port;
    c.offset = REGION_OFF;
    c.size = 2 * SS;
    c.bank_size = 0;
    assert_int_equal(fs38_store_open(&t, &c), FS38_ERR_STATE);
    assert_non_null(strstr(t.diag.msg, "hardware unique key"));
    ts_flash_free(&f);
}

/* ---- compaction, wear, capacity ----------------------------------------------------------- */

#define NNAMES 9

static void test_compaction_and_wear_rotation(void **state)
{
    (void)state;
    rig r;
    rig_new(&r, 4);
    static uint8_t model[NNAMES][300];
    size_t mlen[NNAMES] = { 0 };
    int present[NNAMES] = { 0 };
    unsigned visited = 1u << r.s.active, compactions = 0;
    uint64_t gen = r.s.generation;
    char name[16];
    for (unsigned i = 0; i < 600; i++) {
        unsigned k = (i * 7u) % NNAMES;
        snprintf(name, sizeof name, "name-%u", k);
        if (i % 11 == 5) {
            assert_int_equal(fs38_store_delete(&r.s, name), FS38_OK);
            present[k] = 0;
        } else {
            mlen[k] = 20u + (i * 37u) % 280u;
            fill(model[k], mlen[k], i);
            fs38_err e = fs38_store_put(&r.s, name, model[k], mlen[k]);
            if (e != FS38_OK)
                fail_msg("put %u: %s (%s)", i, fs38_strerror(e), r.s.diag.msg);
            present[k] = 1;
        }
        if (r.s.generation != gen) {
            compactions += (unsigned)(r.s.generation - gen);
            gen = r.s.generation;
        }
        visited |= 1u << r.s.active;
        if (i % 97 == 0)
            rig_reboot(&r);
        if (i % 50 == 49) { /* the RAM count of live bytes agrees with what compaction copies */
            const uint32_t live = r.s.live;
            assert_true(r.s.live_known);
            assert_int_equal(fs38_store_compact(&r.s), FS38_OK);
            assert_int_equal(r.s.live, live);
            assert_int_equal(r.s.log_end, FS38_STORE_BANK_HDR + live);
        }
    }
    rig_reboot(&r);
    for (unsigned k = 0; k < NNAMES; k++) {
        snprintf(name, sizeof name, "name-%u", k);
        if (present[k])
            want_value(&r, name, model[k], mlen[k]);
        else
            want_absent(&r, name);
    }
    print_message("compaction: %u compactions, banks visited mask 0x%x\n", compactions, visited);
    assert_true(compactions >= 8);
    assert_int_equal(visited, 0xF); /* every bank of the region took its turn */

    /* explicit compaction keeps everything and moves to the next bank */
    uint32_t before = r.s.active;
    assert_int_equal(fs38_store_compact(&r.s), FS38_OK);
    assert_int_equal(r.s.active, (before + 1) % 4);
    rig_reboot(&r);
    for (unsigned k = 0; k < NNAMES; k++) {
        snprintf(name, sizeof name, "name-%u", k);
        if (present[k])
            want_value(&r, name, model[k], mlen[k]);
    }
    rig_free(&r);
}

static void test_full_store(void **state)
{
    (void)state;
    rig r;
    rig_new(&r, 2);
    uint8_t v[200];
    char name[16];
    unsigned n = 0;
    fs38_err e;
    for (;; n++) {
        snprintf(name, sizeof name, "f%u", n);
        fill(v, sizeof v, n);
        e = fs38_store_put(&r.s, name, v, sizeof v);
        if (e != FS38_OK)
            break;
    }
    assert_int_equal(e, FS38_ERR_STORE_FULL);
    assert_non_null(strstr(r.s.diag.msg, "store full"));
    print_message("full: %u records of 200 bytes in a 4 KiB bank\n", n);
    assert_true(n >= 14);
    /* the store still works: everything readable, a failed put changed nothing */
    for (unsigned i = 0; i < n; i++) {
        snprintf(name, sizeof name, "f%u", i);
        fill(v, sizeof v, i);
        want_value(&r, name, v, sizeof v);
    }
    snprintf(name, sizeof name, "f%u", n);
    want_absent(&r, name);
    /* overwrite in place is also refused when the old and new versions do not both fit */
    fill(v, sizeof v, 1000);
    assert_int_equal(fs38_store_put(&r.s, "f0", v, sizeof v), FS38_ERR_STORE_FULL);
    fill(v, sizeof v, 0);
    want_value(&r, "f0", v, sizeof v);
    /* free some space: deletes work when full (a tombstone is small) or compact first */
    assert_int_equal(fs38_store_delete(&r.s, "f1"), FS38_OK);
    assert_int_equal(fs38_store_delete(&r.s, "f2"), FS38_OK);
    fill(v, sizeof v, 1000);
    assert_int_equal(fs38_store_put(&r.s, "f0", v, sizeof v), FS38_OK);
    rig_reboot(&r);
    want_value(&r, "f0", v, sizeof v);
    want_absent(&r, "f1");
    rig_free(&r);
}

/* ---- tamper -------------------------------------------------------------------------------- */

/* A store whose active bank has a compacted body and appended records after it. */
static void build_mixed(rig *r)
{
    rig_new(r, 2);
    uint8_t v[64];
    fill(v, sizeof v, 1);
    assert_int_equal(fs38_store_put(&r->s, "alpha", v, 40), FS38_OK);
    assert_int_equal(fs38_store_put(&r->s, "beta", v, 24), FS38_OK);
    assert_int_equal(fs38_store_put(&r->s, "alpha", v, 30), FS38_OK);
    assert_int_equal(fs38_store_compact(&r->s), FS38_OK);
    assert_int_equal(fs38_store_put(&r->s, "gamma", v, 16), FS38_OK);
    assert_int_equal(fs38_store_delete(&r->s, "beta"), FS38_OK);
    assert_int_equal(fs38_store_put(&r->s, "delta", v, 8), FS38_OK);
    assert_true(r->s.body_end > FS38_STORE_BANK_HDR);
    assert_true(r->s.log_end > r->s.body_end);
}

static void test_tamper_every_byte(void **state)
{
    (void)state;
    rig r;
    build_mixed(&r);
    const uint32_t base = REGION_OFF + r.s.active * SS, used = r.s.log_end;
    fs38_store_close(&r.s);
    uint8_t orig[SS];
    file_rw(r.f.path, base, orig, SS, 0);
    fs38_event_set_sink(sink, NULL);
    unsigned corrupt = 0;
    for (uint32_t i = 0; i < used; i++) {
        for (unsigned m = 0; m < 2; m++) {
            uint8_t b = orig[i] ^ (m ? 0x80 : 0x01);
            file_rw(r.f.path, base + i, &b, 1, 1);
            ts_flash_reboot(&r.f);
            ev_corrupt = 0;
            fs38_err e = fs38_store_open(&r.s, &r.scfg);
            if (e != FS38_ERR_STORE_CORRUPT)
                fail_msg("byte %u ^ %u: open gave %s (%s)", i, m ? 0x80 : 1, fs38_strerror(e), r.s.diag.msg);
            assert_int_equal(ev_corrupt, 1);
            assert_int_equal(r.s.diag.err, FS38_ERR_STORE_CORRUPT);
            corrupt++;
            file_rw(r.f.path, base + i, &orig[i], 1, 1);
        }
    }
    fs38_event_set_sink(NULL, NULL);
    print_message("tamper: %u single-byte changes over %u bytes, all refused as corrupt\n", corrupt, used);
    /* a change after the log is an interrupted write: ignored, the next write compacts */
    uint8_t z = 0x00;
    file_rw(r.f.path, base + used + 100, &z, 1, 1);
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
    assert_true(r.s.dirty);
    uint8_t v[64];
    fill(v, sizeof v, 1);
    want_value(&r, "alpha", v, 30);
    want_absent(&r, "beta");
    assert_int_equal(fs38_store_put(&r.s, "eps", v, 5), FS38_OK);
    assert_false(r.s.dirty);
    rig_reboot(&r);
    want_value(&r, "eps", v, 5);
    want_value(&r, "delta", v, 8);
    /* recovery from damage: wipe, then an empty store opens */
    const uint32_t base2 = REGION_OFF + r.s.active * SS;
    fs38_store_close(&r.s);
    file_rw(r.f.path, base2 + 70, &z, 1, 0);
    z ^= 0x10;
    file_rw(r.f.path, base2 + 70, &z, 1, 1);
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_ERR_STORE_CORRUPT);
    assert_int_equal(fs38_store_wipe(&r.s), FS38_OK);
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
    want_absent(&r, "alpha");
    rig_free(&r);
}

/* ---- rollback ------------------------------------------------------------------------------ */

static void test_rollback(void **state)
{
    (void)state;
    rig r;
    rig_new(&r, 3);
    const uint32_t rs = r.scfg.size;
    uint8_t *copy = malloc(rs), *copy2 = malloc(rs);
    assert_non_null(copy);
    assert_non_null(copy2);
    assert_int_equal(fs38_store_put(&r.s, "pin", (const uint8_t *)"1234", 4), FS38_OK);
    assert_int_equal(fs38_store_put(&r.s, "key", (const uint8_t *)"old-key", 7), FS38_OK);
    fs38_store_close(&r.s);
    file_rw(r.f.path, REGION_OFF, copy, rs, 0); /* the attacker's copy */

    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
    assert_int_equal(fs38_store_put(&r.s, "pin", (const uint8_t *)"9876", 4), FS38_OK);
    fs38_store_close(&r.s);

    fs38_event_set_sink(sink, NULL);
    ev_rollback = 0;
    file_rw(r.f.path, REGION_OFF, copy, rs, 1); /* written back */
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_ERR_STORE_ROLLBACK);
    assert_non_null(strstr(r.s.diag.msg, "store rolled back"));
    assert_int_equal(ev_rollback, 1);

    /* a delete is a state change too */
    assert_int_equal(fs38_store_wipe(&r.s), FS38_OK);
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
    want_absent(&r, "pin");
    assert_int_equal(fs38_store_put(&r.s, "a", (const uint8_t *)"1", 1), FS38_OK);
    fs38_store_close(&r.s);
    file_rw(r.f.path, REGION_OFF, copy, rs, 0);
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
    assert_int_equal(fs38_store_delete(&r.s, "a"), FS38_OK);
    fs38_store_close(&r.s);
    file_rw(r.f.path, REGION_OFF, copy, rs, 1);
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_ERR_STORE_ROLLBACK);

    /* the copy of a state that only differs by a compaction is the same state: accepted */
    assert_int_equal(fs38_store_wipe(&r.s), FS38_OK);
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
    assert_int_equal(fs38_store_put(&r.s, "a", (const uint8_t *)"1", 1), FS38_OK);
    fs38_store_close(&r.s);
    file_rw(r.f.path, REGION_OFF, copy, rs, 0);
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
    assert_int_equal(fs38_store_compact(&r.s), FS38_OK);
    fs38_store_close(&r.s);
    file_rw(r.f.path, REGION_OFF, copy, rs, 1);
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
    want_value(&r, "a", "1", 1);

    /* splicing: newest bank from now, plus an older record appended from the copy */
    assert_int_equal(fs38_store_put(&r.s, "a", (const uint8_t *)"2", 1), FS38_OK);
    fs38_store_close(&r.s);
    file_rw(r.f.path, REGION_OFF, copy2, rs, 0);
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
    assert_int_equal(fs38_store_put(&r.s, "a", (const uint8_t *)"3", 1), FS38_OK);
    fs38_store_close(&r.s);
    /* region now: ... a=1, a=2, a=3 appended; copy2 has ... a=1, a=2. Replace the tail record
     * a=3 by erased bytes (the attacker rewrites the sector): state goes back by one. */
    uint8_t *now = malloc(rs);
    assert_non_null(now);
    file_rw(r.f.path, REGION_OFF, now, rs, 0);
    assert_memory_not_equal(now, copy2, rs);
    file_rw(r.f.path, REGION_OFF, copy2, rs, 1);
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_ERR_STORE_ROLLBACK);

    /* an erased region with a counter that has moved: rolled back too */
    uint8_t *ff = malloc(rs);
    assert_non_null(ff);
    memset(ff, 0xFF, rs);
    file_rw(r.f.path, REGION_OFF, ff, rs, 1);
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_ERR_STORE_ROLLBACK);
    /* recovery */
    assert_int_equal(fs38_store_wipe(&r.s), FS38_OK);
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
    want_absent(&r, "a");
    fs38_event_set_sink(NULL, NULL);
    free(copy);
    free(copy2);
    free(now);
    free(ff);
    rig_free(&r);
}

/* ---- keys ---------------------------------------------------------------------------------- */

static void test_wrong_huk_and_no_clear_text(void **state)
{
    (void)state;
    rig r;
    rig_new(&r, 2);
    const char secret[] = "correct horse battery staple";
    const char name[] = "wifi-password";
    assert_int_equal(fs38_store_put(&r.s, name, (const uint8_t *)secret, sizeof secret), FS38_OK);
    rig_reboot(&r);
    want_value(&r, name, secret, sizeof secret);
    fs38_store_close(&r.s);
    size_t fl;
    uint8_t *img = ts_read_file(r.f.path, &fl);
    assert_non_null(img);
    assert_false(contains(img, fl, secret, 8));
    assert_false(contains(img, fl, name, 6));
    free(img);

    /* the HUK file: 32 bytes, mode 0600 */
    struct stat sb;
    assert_int_equal(stat(r.huk, &sb), 0);
    assert_int_equal(sb.st_size, 32);
    assert_int_equal(sb.st_mode & 0777, 0600);

    /* another device's HUK: nothing opens */
    char other[256];
    snprintf(other, sizeof other, "%s", ts_tmp_path("huk2"));
    unlink(other);
    r.f.cfg.huk_path = other;
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_ERR_STORE_CORRUPT);
    assert_non_null(strstr(r.s.diag.msg, "no authentic store bank"));

    /* a HUK file others may read is refused */
    r.f.cfg.huk_path = r.huk;
    ts_flash_reboot(&r.f);
    assert_int_equal(chmod(r.huk, 0644), 0);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_ERR_IO);
    assert_int_equal(chmod(r.huk, 0600), 0);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
    want_value(&r, name, secret, sizeof secret);
    uint8_t k[33];
    assert_int_equal(r.f.port.hardware_key(r.f.port.ctx, k, 33), FS38_ERR_ARG);
    unlink(other);
    rig_free(&r);
}

/* ---- power cuts ---------------------------------------------------------------------------- */

typedef struct {
    int del;
    unsigned name;
    unsigned len;
    unsigned seed;
} step;

#define SWEEP_NAMES 5
#define SWEEP_STEPS 72

static step script[SWEEP_STEPS];

static void make_script(void)
{
    for (unsigned i = 0; i < SWEEP_STEPS; i++) {
        script[i].name = (i * 3u + i / 5u) % SWEEP_NAMES;
        script[i].del = i % 9 == 8;
        script[i].len = 96u + (i * 53u) % 400u;
        script[i].seed = 1000u + i;
    }
}

typedef struct {
    int present[SWEEP_NAMES];
    uint8_t val[SWEEP_NAMES][512];
    unsigned len[SWEEP_NAMES];
} model;

static void sweep_name(unsigned k, char *buf, size_t cap)
{
    snprintf(buf, cap, "secret-name-%u", k);
}

/* Apply step i to the model. */
static void model_apply(model *m, unsigned i)
{
    const step *st = &script[i];
    if (st->del) {
        m->present[st->name] = 0;
    } else {
        m->present[st->name] = 1;
        m->len[st->name] = st->len;
        fill(m->val[st->name], st->len, st->seed);
    }
}

static FS38_NODISCARD fs38_err run_step(fs38_store *s, unsigned i)
{
    char name[32];
    uint8_t v[512];
    const step *st = &script[i];
    sweep_name(st->name, name, sizeof name);
    if (st->del)
        return fs38_store_delete(s, name);
    fill(v, st->len, st->seed);
    return fs38_store_put(s, name, v, st->len);
}

/* Every value equals the model, except name `pending` which may equal `alt` instead. */
static void check_model(rig *r, const model *m, int pending, const model *alt)
{
    for (unsigned k = 0; k < SWEEP_NAMES; k++) {
        char name[32];
        uint8_t buf[FS38_STORE_VALUE_MAX];
        size_t n = 0;
        sweep_name(k, name, sizeof name);
        fs38_err e = fs38_store_get(&r->s, name, buf, sizeof buf, &n);
        if (e != FS38_OK && e != FS38_ERR_NOT_FOUND)
            fail_msg("get %s: %s (%s)", name, fs38_strerror(e), r->s.diag.msg);
        int ok_old = m->present[k] ? (e == FS38_OK && n == m->len[k] && memcmp(buf, m->val[k], n) == 0)
                                   : e == FS38_ERR_NOT_FOUND;
        int ok_new = 0;
        if ((int)k == pending)
            ok_new = alt->present[k] ? (e == FS38_OK && n == alt->len[k] && memcmp(buf, alt->val[k], n) == 0)
                                     : e == FS38_ERR_NOT_FOUND;
        if (!ok_old && !ok_new)
            fail_msg("%s is neither its old nor its new value (err %d, len %zu)", name, e, n);
    }
}

/* No value of the script (nor a name) in clear anywhere in the flash file. */
static void check_no_clear_text(rig *r)
{
    size_t fl;
    uint8_t *img = ts_read_file(r->f.path, &fl);
    assert_non_null(img);
    for (unsigned i = 0; i < SWEEP_STEPS; i++) {
        uint8_t v[16];
        fill(v, sizeof v, script[i].seed);
        if (contains(img, fl, v, sizeof v))
            fail_msg("value of step %u found in clear in the flash file", i);
    }
    if (contains(img, fl, "secret-name", 11))
        fail_msg("a name found in clear in the flash file");
    free(img);
}

/* Record nonces on the raw flash (incl. torn records): nonce -> first 8 ciphertext bytes. */
typedef struct {
    uint64_t nonce[512];
    uint8_t ct[512][8];
    unsigned n;
} nonce_set;

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 8; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/*
 * The records of a region image, parsed by their real structure (src/storage/store.c, "Flash format"),
 * not by looking for a marker byte (random ciphertext holds 0xA5 0x01 at an aligned offset now
 * and then, and the 48 bytes after it differ between images: a false "nonce reused"). In every
 * bank, records follow each other from FS38_STORE_BANK_HDR on: 40-byte header (0xA5, kind 1 or
 * 2, u16 ct_len, u32 seq, u64 nonce, u64 prev, 16-byte name tag; little endian), ct_len bytes
 * of ciphertext, the 16-byte GCM tag, padding to FS38_STORE_ALIGN. The walk of a bank ends at
 * an erased (all 0xFF) header or at bytes that are not a record header (a bank whose erase was
 * cut: its records are gone). A torn record keeps its whole header up to the nonce (a cut
 * program writes its first half, and a record is at least 64 bytes), so its nonce is counted.
 */
static void parse_nonces(const uint8_t *img, uint32_t size, uint32_t bank, nonce_set *ns)
{
    ns->n = 0;
    for (uint32_t b = 0; bank && b + bank <= size; b += bank) {
        for (uint32_t off = FS38_STORE_BANK_HDR; off + FS38_STORE_REC_HDR <= bank;) {
            const uint8_t *p = img + b + off;
            uint8_t acc = 0xFF;
            for (unsigned i = 0; i < FS38_STORE_REC_HDR; i++)
                acc &= p[i];
            if (acc == 0xFF)
                break; /* erased: the end of this bank's log */
            const uint32_t ct_len = (uint32_t)p[2] | (uint32_t)p[3] << 8;
            if (p[0] != 0xA5 || (p[1] != 1 && p[1] != 2) || ct_len < 2u || ct_len > FS38_STORE_PLAIN_MAX)
                break; /* not a record header */
            const uint32_t rec = (FS38_STORE_REC_HDR + ct_len + FS38_STORE_TAG + FS38_STORE_ALIGN - 1u) &
                                 ~(FS38_STORE_ALIGN - 1u);
            if (rec > bank - off)
                break;
            const uint64_t nonce = le64(p + 8);
            if (nonce != UINT64_MAX) {
                if (ns->n >= 512)
                    fail_msg("more than 512 records in the region");
                ns->nonce[ns->n] = nonce;
                memcpy(ns->ct[ns->n], p + FS38_STORE_REC_HDR, 8);
                ns->n++;
            }
            off += rec;
        }
    }
}

static void collect_nonces(rig *r, nonce_set *ns)
{
    uint8_t *img = malloc(r->scfg.size);
    assert_non_null(img);
    file_rw(r->f.path, r->scfg.offset, img, r->scfg.size, 0);
    parse_nonces(img, r->scfg.size, r->scfg.bank_size ? r->scfg.bank_size : SS, ns);
    free(img);
}

/* A nonce present in both sets that protects different bytes (not a copied record, nor a torn
 * one whose ciphertext was never programmed): 1 and its value, else 0. */
static int nonce_reused(const nonce_set *a, const nonce_set *b, uint64_t *nonce)
{
    for (unsigned i = 0; i < a->n; i++)
        for (unsigned j = 0; j < b->n; j++)
            if (a->nonce[i] == b->nonce[j] && memcmp(a->ct[i], b->ct[j], 8) != 0 &&
                memcmp(a->ct[i], "\xff\xff\xff\xff\xff\xff\xff\xff", 8) != 0) {
                *nonce = a->nonce[i];
                return 1;
            }
    return 0;
}

static void check_nonces(const nonce_set *a, const nonce_set *b)
{
    uint64_t nonce = 0;
    if (nonce_reused(a, b, &nonce))
        fail_msg("nonce %llx reused for different ciphertext", (unsigned long long)nonce);
}

/* The parser above is exact (one entry per record written, none from ciphertext) and the
 * check can fail: a record that reuses a nonce for other bytes is found. */
static void test_nonce_parser(void **state)
{
    (void)state;
    static nonce_set a, b;
    rig r;
    rig_new(&r, 3);
    const unsigned puts = 20; /* 20 records of 112 bytes: one bank, no compaction */
    for (unsigned i = 0; i < puts; i++) {
        char name[16];
        uint8_t v[48];
        snprintf(name, sizeof name, "n%u", i % 7u); /* 2-byte names: ct_len 51 */
        fill(v, sizeof v, 1000u + i);
        assert_int_equal(fs38_store_put(&r.s, name, v, sizeof v), FS38_OK);
    }
    fs38_store_close(&r.s);
    const uint32_t bank = SS, size = r.scfg.size;
    uint8_t *img = malloc(size), *copy = malloc(size);
    assert_non_null(img);
    assert_non_null(copy);
    file_rw(r.f.path, r.scfg.offset, img, size, 0);
    parse_nonces(img, size, bank, &a);
    assert_int_equal(a.n, puts); /* exact: one entry per record written */
    for (unsigned i = 0; i < a.n; i++) /* the store never repeats a nonce in one image */
        for (unsigned j = i + 1; j < a.n; j++)
            if (a.nonce[i] == a.nonce[j])
                fail_msg("nonce %llx appears twice in one image", (unsigned long long)a.nonce[i]);
    uint64_t nonce = 0;
    assert_false(nonce_reused(&a, &a, &nonce));

    /* a marker inside ciphertext is not a record: plant 0xA5 0x01 + a known nonce in the first
     * record's ciphertext (8-aligned); the parser still sees the same records */
    memcpy(copy, img, size);
    uint32_t first = 0;
    for (uint32_t bk = 0; bk < size && !first; bk += bank)
        if (copy[bk + FS38_STORE_BANK_HDR] == 0xA5)
            first = bk + FS38_STORE_BANK_HDR;
    assert_true(first != 0);
    uint8_t fake[48];
    memset(fake, 0x11, sizeof fake);
    fake[0] = 0xA5;
    fake[1] = 1;
    memcpy(fake + 8, copy + first + 8, 8); /* the first record's own nonce, other "ciphertext" */
    memcpy(copy + first + 48, fake, sizeof fake); /* bytes 48..96 of the 112-byte record */
    parse_nonces(copy, size, bank, &b);
    assert_int_equal(b.n, a.n);

    /* a later record reusing an existing nonce for other bytes: appended after the last record
     * of the active bank, it must be found */
    memcpy(copy, img, size);
    uint32_t end = 0, bk_end = 0;
    for (uint32_t bk = 0; bk < size; bk += bank) {
        uint32_t off = FS38_STORE_BANK_HDR;
        while (off + FS38_STORE_REC_HDR <= bank && copy[bk + off] == 0xA5) {
            uint32_t ct_len = (uint32_t)copy[bk + off + 2] | (uint32_t)copy[bk + off + 3] << 8;
            off += (FS38_STORE_REC_HDR + ct_len + FS38_STORE_TAG + 7u) & ~7u;
        }
        if (off > FS38_STORE_BANK_HDR) {
            end = off;
            bk_end = bk;
        }
    }
    const uint32_t rec = (FS38_STORE_REC_HDR + 48u + 1u + 2u + FS38_STORE_TAG + 7u) & ~7u;
    assert_true(end + rec <= bank);
    memcpy(copy + bk_end + end, copy + first, rec); /* same header, so the same nonce ... */
    copy[bk_end + end + FS38_STORE_REC_HDR] ^= 0x5A; /* ... over other ciphertext */
    parse_nonces(copy, size, bank, &b);
    assert_int_equal(b.n, a.n + 1u);
    assert_true(nonce_reused(&a, &b, &nonce));
    assert_true(nonce == le64(img + first + 8));
    free(img);
    free(copy);
    rig_free(&r);
}

static void test_power_cut_sweep(void **state)
{
    (void)state;
    make_script();
    static model before_all, m, alt;
    static nonce_set torn, later;
    rig r;

    /* dry run: count the operations, check the script compacts several times */
    rig_flash(&r, 3, 0);
    uint64_t ops0 = fs38_posix_ops(&r.f.posix);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
    uint64_t gen0 = r.s.generation;
    memset(&before_all, 0, sizeof before_all);
    for (unsigned i = 0; i < SWEEP_STEPS; i++)
        assert_int_equal(run_step(&r.s, i), FS38_OK);
    const uint64_t total = fs38_posix_ops(&r.f.posix) - ops0;
    const uint64_t compactions = r.s.generation - gen0;
    print_message("power cuts: script of %u puts/deletes does %llu program/erase ops, %llu compactions\n",
                  SWEEP_STEPS, (unsigned long long)total, (unsigned long long)compactions);
    assert_true(compactions >= 2);
    rig_free(&r);

    unsigned dirty_seen = 0, committed_at_open = 0;
    for (uint64_t k = 1; k <= total; k++) {
        rig_flash(&r, 3, 0);
        fs38_posix_cut_at(&r.f.posix, k);
        memset(&m, 0, sizeof m);
        int pending = -1;
        unsigned i = 0;
        fs38_err e = fs38_store_open(&r.s, &r.scfg);
        if (e == FS38_OK) {
            for (; i < SWEEP_STEPS; i++) {
                e = run_step(&r.s, i);
                if (e != FS38_OK)
                    break;
                model_apply(&m, i);
            }
        }
        assert_int_equal(e, FS38_ERR_POWER);
        alt = m;
        if (i < SWEEP_STEPS) {
            pending = (int)script[i].name;
            model_apply(&alt, i);
        }
        fs38_store_close(&r.s);
        collect_nonces(&r, &torn);
        check_no_clear_text(&r); /* not even in a torn record */
        ts_flash_reboot(&r.f);
        uint64_t c_before;
        assert_int_equal(r.f.port.counter_read(r.f.port.ctx, FS38_COUNTER_STORE, &c_before), FS38_OK);
        e = fs38_store_open(&r.s, &r.scfg);
        if (e != FS38_OK)
            fail_msg("cut at op %llu (step %u): reopen %s (%s)", (unsigned long long)k, i, fs38_strerror(e),
                     r.s.diag.msg);
        if (r.s.dirty)
            dirty_seen++;
        if ((r.s.counter >> 32) != (c_before >> 32))
            committed_at_open++;
        check_model(&r, &m, pending, &alt);
        /* adopt whatever survived, then the store keeps working to the end of the script */
        if (pending >= 0) {
            char name[32];
            uint8_t buf[FS38_STORE_VALUE_MAX];
            size_t n;
            sweep_name((unsigned)pending, name, sizeof name);
            if (fs38_store_get(&r.s, name, buf, sizeof buf, &n) == FS38_OK) {
                m.present[pending] = 1;
                m.len[pending] = (unsigned)n;
                memcpy(m.val[pending], buf, n);
            } else {
                m.present[pending] = 0;
            }
        }
        for (; i < SWEEP_STEPS; i++) {
            e = run_step(&r.s, i);
            if (e != FS38_OK)
                fail_msg("cut at op %llu: step %u after reboot: %s (%s)", (unsigned long long)k, i,
                         fs38_strerror(e), r.s.diag.msg);
            model_apply(&m, i);
        }
        rig_reboot(&r);
        check_model(&r, &m, -1, &m);
        check_no_clear_text(&r);
        fs38_store_close(&r.s);
        collect_nonces(&r, &later);
        check_nonces(&torn, &later);
        rig_free(&r);
    }
    print_message("power cuts: %llu cut points swept (every program/erase op, incl. counter writes); "
                  "%u left an interrupted write, %u committed a written record at reopen\n",
                  (unsigned long long)total, dirty_seen, committed_at_open);
}

/* Cuts during the recovery itself: cut once in the script, then again while reopening. */
static void test_power_cut_during_recovery(void **state)
{
    (void)state;
    make_script();
    static model m, alt;
    rig r;
    unsigned swept = 0;
    for (uint64_t k = 3; k <= 125; k += 11) {
        for (uint64_t j = 1; j <= 6; j++) {
            rig_flash(&r, 3, 0);
            fs38_posix_cut_at(&r.f.posix, k);
            memset(&m, 0, sizeof m);
            unsigned i = 0;
            fs38_err e = fs38_store_open(&r.s, &r.scfg);
            for (; e == FS38_OK && i < SWEEP_STEPS; i++) {
                e = run_step(&r.s, i);
                if (e == FS38_OK)
                    model_apply(&m, i);
                else
                    break;
            }
            assert_int_equal(e, FS38_ERR_POWER);
            alt = m;
            if (i < SWEEP_STEPS)
                model_apply(&alt, i);
            fs38_store_close(&r.s);
            ts_flash_reboot(&r.f);
            fs38_posix_cut_at(&r.f.posix, j); /* cut again, during open or the next write */
            e = fs38_store_open(&r.s, &r.scfg);
            if (e == FS38_OK)
                e = fs38_store_put(&r.s, "after", (const uint8_t *)"x", 1);
            fs38_store_close(&r.s);
            fs38_posix_cut_at(&r.f.posix, 0);
            ts_flash_reboot(&r.f);
            e = fs38_store_open(&r.s, &r.scfg);
            if (e != FS38_OK)
                fail_msg("cut %llu then %llu: %s (%s)", (unsigned long long)k, (unsigned long long)j,
                         fs38_strerror(e), r.s.diag.msg);
            check_model(&r, &m, i < SWEEP_STEPS ? (int)script[i].name : -1, &alt);
            assert_int_equal(fs38_store_put(&r.s, "after", (const uint8_t *)"y", 1), FS38_OK);
            rig_reboot(&r);
            want_value(&r, "after", "y", 1);
            rig_free(&r);
            swept++;
        }
    }
    print_message("power cuts: %u double cuts (script, then recovery) swept\n", swept);
}

/* Banks of several sectors, and a wipe of an open store. */
static void test_multi_sector_banks_and_wipe(void **state)
{
    (void)state;
    rig r;
    rig_flash(&r, 2, 2 * SS);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
    uint8_t v[1000];
    char name[16];
    for (unsigned i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "big%u", i);
        fill(v, sizeof v, i);
        assert_int_equal(fs38_store_put(&r.s, name, v, sizeof v), FS38_OK);
    }
    snprintf(name, sizeof name, "big%u", 6);
    assert_int_equal(fs38_store_put(&r.s, name, v, sizeof v), FS38_OK); /* 7 x 1064 fit */
    assert_int_equal(fs38_store_put(&r.s, name, v, sizeof v), FS38_ERR_STORE_FULL);
    assert_int_equal(fs38_store_delete(&r.s, name), FS38_OK);
    for (unsigned i = 0; i < 6; i++) { /* overwrite all: compacts across 8 KiB banks */
        snprintf(name, sizeof name, "big%u", i);
        fill(v, sizeof v, 100 + i);
        assert_int_equal(fs38_store_put(&r.s, name, v, sizeof v), FS38_OK);
    }
    rig_reboot(&r);
    for (unsigned i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "big%u", i);
        fill(v, sizeof v, 100 + i);
        want_value(&r, name, v, sizeof v);
    }
    assert_int_equal(fs38_store_wipe(&r.s), FS38_OK);
    assert_false(r.s.open);
    /* physically gone: only one bank header remains in the region */
    uint8_t *img = malloc(r.scfg.size);
    assert_non_null(img);
    file_rw(r.f.path, r.scfg.offset, img, r.scfg.size, 0);
    size_t nonff = 0;
    for (uint32_t i = 0; i < r.scfg.size; i++)
        nonff += img[i] != 0xFF;
    assert_true(nonff <= FS38_STORE_BANK_HDR);
    free(img);
    ts_flash_reboot(&r.f);
    assert_int_equal(fs38_store_open(&r.s, &r.scfg), FS38_OK);
    want_absent(&r, "big0");
    assert_int_equal(fs38_store_put(&r.s, "big0", v, 10), FS38_OK);
    rig_reboot(&r);
    want_value(&r, "big0", v, 10);
    rig_free(&r);
}

/* ---- two contexts on one flash ------------------------------------------------------------- */

/* Two store contexts on the same POSIX flash (one port), and a third on a second fs38_posix of
 * the same file (as another process would have), writing in turns: each call re-reads the
 * state under the device lock, so none appends from a stale position (before: the second
 * context programmed over the first one's record and the store failed "record corrupt"), and
 * compactions done by one are followed by the others. */
static void test_two_contexts_one_flash(void **state)
{
    (void)state;
    rig r;
    rig_new(&r, 4);
    fs38_store *b = malloc(sizeof *b), *c = malloc(sizeof *c);
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal(fs38_store_open(b, &r.scfg), FS38_OK);
    fs38_posix p2;
    fs38_port port2;
    assert_int_equal(fs38_posix_open(&p2, &r.f.cfg, &port2), FS38_OK);
    fs38_store_config cfg2 = r.scfg;
    cfg2.port = &port2;
    assert_int_equal(fs38_store_open(c, &cfg2), FS38_OK);
    fs38_store *ctx[3] = { &r.s, b, c };
    char name[16];
    uint8_t v[64], got[64];
    size_t n;
    for (unsigned i = 0; i < 150; i++) { /* several compactions (banks of one sector) */
        fs38_store *w = ctx[i % 3], *o = ctx[(i + 1) % 3];
        snprintf(name, sizeof name, "k%u", i % 7);
        fill(v, sizeof v, i);
        fs38_err e = fs38_store_put(w, name, v, sizeof v);
        if (e != FS38_OK)
            fail_msg("put %u: %s (%s)", i, fs38_strerror(e), w->diag.msg);
        e = fs38_store_get(o, name, got, sizeof got, &n);
        if (e != FS38_OK)
            fail_msg("get %u by another context: %s (%s)", i, fs38_strerror(e), o->diag.msg);
        assert_int_equal(n, sizeof v);
        assert_memory_equal(got, v, sizeof v);
        if (i % 11 == 5)
            assert_int_equal(fs38_store_delete(o, name), FS38_OK);
        if (i % 11 == 5)
            assert_int_equal(fs38_store_get(ctx[(i + 2) % 3], name, got, sizeof got, &n), FS38_ERR_NOT_FOUND);
    }
    fs38_store_close(b);
    fs38_store_close(c);
    fs38_posix_close(&p2);
    free(b);
    free(c);
    rig_reboot(&r);
    for (unsigned k = 0; k < 7; k++) {
        unsigned last = 0; /* the last i with i % 7 == k */
        for (unsigned i = 0; i < 150; i++)
            if (i % 7 == k)
                last = i;
        snprintf(name, sizeof name, "k%u", k);
        if (last % 11 == 5) {
            want_absent(&r, name);
        } else {
            fill(v, sizeof v, last);
            want_value(&r, name, v, sizeof v);
        }
    }
    rig_free(&r);
}

int main(void)
{
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_delete_overwrite),
        cmocka_unit_test(test_limits_and_config),
        cmocka_unit_test(test_compaction_and_wear_rotation),
        cmocka_unit_test(test_full_store),
        cmocka_unit_test(test_tamper_every_byte),
        cmocka_unit_test(test_rollback),
        cmocka_unit_test(test_wrong_huk_and_no_clear_text),
        cmocka_unit_test(test_multi_sector_banks_and_wipe),
        cmocka_unit_test(test_nonce_parser),
        cmocka_unit_test(test_two_contexts_one_flash),
        cmocka_unit_test(test_power_cut_sweep),
        cmocka_unit_test(test_power_cut_during_recovery),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
