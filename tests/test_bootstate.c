/* SPDX-License-Identifier: Apache-2.0 */
/* test_bootstate.c — the persistent boot/update state: latest record wins, sector rollover,
 * and a power cut at every operation leaves the old or the new state. */
#include <pthread.h>
#include <string.h>
#include "support.h"
#include "fs38/bootstate.h"

#define FLASH (64u * 1024u)
#define REGION_OFF 0u
#define REGION_SIZE (2u * 4096u)

static fs38_bootstate make(uint32_t i)
{
    fs38_bootstate st;
    memset(&st, 0, sizeof st);
    st.confirmed_slot = (uint8_t)(i % 2);
    st.pending_slot = (uint8_t)((i + 1) % 2);
    st.pending = (uint8_t)(i % 3);
    st.dl_slot = FS38_NO_SLOT;
    st.dl_bytes = (uint64_t)i * 65536u;
    memset(st.dl_digest, (int)(i & 0xff), sizeof st.dl_digest);
    return st;
}

static void same_content(const fs38_bootstate *a, const fs38_bootstate *b)
{
    assert_int_equal(a->confirmed_slot, b->confirmed_slot);
    assert_int_equal(a->pending_slot, b->pending_slot);
    assert_int_equal(a->pending, b->pending);
    assert_int_equal(a->dl_slot, b->dl_slot);
    assert_true(a->dl_bytes == b->dl_bytes);
    assert_memory_equal(a->dl_digest, b->dl_digest, 32);
}

static void test_empty_and_sequence(void **state)
{
    (void)state;
    ts_flash f;
    ts_flash_new(&f, FLASH);
    fs38_bootstate st;
    assert_int_equal(fs38_bootstate_read(&f.port, REGION_OFF, REGION_SIZE, &st), FS38_OK);
    assert_int_equal(st.seq, 0);
    assert_int_equal(st.confirmed_slot, FS38_NO_SLOT);
    assert_int_equal(st.pending_slot, FS38_NO_SLOT);
    /* 300 writes: several sector rollovers; the latest always reads back, across reboots */
    for (uint32_t i = 1; i <= 300; i++) {
        fs38_bootstate w = make(i), r;
        assert_int_equal(fs38_bootstate_write(&f.port, REGION_OFF, REGION_SIZE, &w), FS38_OK);
        assert_int_equal(w.seq, i);
        if (i % 37 == 0)
            ts_flash_reboot(&f);
        assert_int_equal(fs38_bootstate_read(&f.port, REGION_OFF, REGION_SIZE, &r), FS38_OK);
        assert_int_equal(r.seq, i);
        same_content(&r, &w);
    }
    /* geometry checks */
    assert_int_equal(fs38_bootstate_read(&f.port, 100, REGION_SIZE, &st), FS38_ERR_ARG);
    assert_int_equal(fs38_bootstate_read(&f.port, 0, 4096, &st), FS38_ERR_ARG);
    ts_flash_free(&f);
}

static void test_corrupt_latest_falls_back(void **state)
{
    (void)state;
    ts_flash f;
    ts_flash_new(&f, FLASH);
    for (uint32_t i = 1; i <= 3; i++) {
        fs38_bootstate w = make(i);
        assert_int_equal(fs38_bootstate_write(&f.port, REGION_OFF, REGION_SIZE, &w), FS38_OK);
    }
    /* clear a bit in record 3 (programming can only clear bits) */
    uint8_t z = 0xfe;
    assert_int_equal(fs38_flash_program(&f.port, REGION_OFF + 2 * FS38_BOOTSTATE_RECORD + 30, &z, 1), FS38_OK);
    fs38_bootstate r, want = make(2);
    assert_int_equal(fs38_bootstate_read(&f.port, REGION_OFF, REGION_SIZE, &r), FS38_OK);
    assert_int_equal(r.seq, 2);
    same_content(&r, &want);
    /* the next write goes after the damaged record, with a higher sequence */
    fs38_bootstate w = make(9);
    assert_int_equal(fs38_bootstate_write(&f.port, REGION_OFF, REGION_SIZE, &w), FS38_OK);
    assert_int_equal(w.seq, 3);
    assert_int_equal(fs38_bootstate_read(&f.port, REGION_OFF, REGION_SIZE, &r), FS38_OK);
    same_content(&r, &w);
    ts_flash_free(&f);
}

static void test_power_cut_sweep(void **state)
{
    (void)state;
    /* a script of 140 writes (two rollovers); cut at every operation of it */
    const uint32_t writes = 140;
    ts_flash f;
    ts_flash_new(&f, FLASH);
    uint64_t before = fs38_posix_ops(&f.posix);
    for (uint32_t i = 1; i <= writes; i++) {
        fs38_bootstate w = make(i);
        assert_int_equal(fs38_bootstate_write(&f.port, REGION_OFF, REGION_SIZE, &w), FS38_OK);
    }
    uint64_t total = fs38_posix_ops(&f.posix) - before;
    ts_flash_free(&f);
    for (uint64_t k = 1; k <= total; k++) {
        ts_flash_new(&f, FLASH);
        fs38_posix_cut_at(&f.posix, k);
        uint32_t done = 0;
        fs38_err e = FS38_OK;
        for (uint32_t i = 1; i <= writes && !e; i++) {
            fs38_bootstate w = make(i);
            e = fs38_bootstate_write(&f.port, REGION_OFF, REGION_SIZE, &w);
            if (!e)
                done = i;
        }
        assert_int_equal(e, FS38_ERR_POWER);
        ts_flash_reboot(&f);
        fs38_bootstate r;
        assert_int_equal(fs38_bootstate_read(&f.port, REGION_OFF, REGION_SIZE, &r), FS38_OK);
        /* the interrupted write is either there or not; nothing older is lost */
        fs38_bootstate old = make(done), neu = make(done + 1);
        if (r.seq == done + 1) {
            same_content(&r, &neu);
        } else {
            assert_int_equal(r.seq, done);
            if (done)
                same_content(&r, &old);
        }
        /* and the state keeps working after the cut */
        fs38_bootstate w = make(1000);
        assert_int_equal(fs38_bootstate_write(&f.port, REGION_OFF, REGION_SIZE, &w), FS38_OK);
        assert_int_equal(fs38_bootstate_read(&f.port, REGION_OFF, REGION_SIZE, &r), FS38_OK);
        same_content(&r, &w);
        ts_flash_free(&f);
    }
    print_message("bootstate: %llu cut points swept\n", (unsigned long long)total);
}

/* Writers in two threads (one fs38_posix, its device lock) and a second process-level handle
 * on the same flash file: every write lands in its own record, the newest wins, nothing is
 * lost or torn. Without the lock in fs38_bootstate_write, two writers scan, pick the same free
 * slot, and NOR flash ANDs their records into one that fails its check. */
#define WRITES 150u
typedef struct {
    const fs38_port *port;
    fs38_err err;
} writer_arg;

static void *writer(void *p)
{
    writer_arg *w = p;
    for (uint32_t i = 0; i < WRITES && w->err == FS38_OK; i++) {
        fs38_bootstate st = make(i);
        w->err = fs38_bootstate_write(w->port, REGION_OFF, REGION_SIZE, &st);
    }
    return NULL;
}

static void test_parallel_writers(void **state)
{
    (void)state;
    ts_flash f, g;
    ts_flash_new(&f, FLASH);
    /* a second handle on the same file, as another process would have */
    memset(&g, 0, sizeof g);
    g.cfg = f.cfg;
    snprintf(g.path, sizeof g.path, "%s", f.path);
    g.cfg.path = g.path;
    assert_int_equal(fs38_posix_open(&g.posix, &g.cfg, &g.port), FS38_OK);
    writer_arg a[3] = { { &f.port, FS38_OK }, { &f.port, FS38_OK }, { &g.port, FS38_OK } };
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, writer, &a[i]), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(a[i].err, FS38_OK);
    }
    fs38_bootstate st;
    assert_int_equal(fs38_bootstate_read(&f.port, REGION_OFF, REGION_SIZE, &st), FS38_OK);
    assert_int_equal(st.seq, 3u * WRITES); /* every write got its own sequence number */
    fs38_posix_close(&g.posix);
    ts_flash_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_sequence),
        cmocka_unit_test(test_corrupt_latest_falls_back),
        cmocka_unit_test(test_power_cut_sweep),
        cmocka_unit_test(test_parallel_writers),
    };
    psa_crypto_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
