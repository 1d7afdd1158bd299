/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_store.c — libFuzzer target for the sealed store's flash parser (fs38/store.h): the input
 * is a corrupted flash image of the store's region.
 *
 * Once, at start-up, a real history is written through the store API on the RAM port (port/ram:
 * fixed HUK, counters in RAM): puts, overwrites, deletes and compactions over 3 banks of 4 KiB. Two
 * snapshots of the region are kept with their counter value and the expected contents:
 * OLD (half-way) and NEW (the end). Each input then builds a region image:
 *
 *   byte 0, bits 0-1   base image: NEW, OLD, raw (the rest of the input is the image itself,
 *                      padded with 0xFF), or all erased;
 *   byte 0, bit 2      counter: OLD's value instead of NEW's;
 *   byte 0, bit 3      exercise writes after a successful open;
 *   then edit commands until the input ends (not in raw mode):
 *     0 xor   off16 val8            flip bits of one byte
 *     1 copy  src16 dst16 len8      copy bytes from the OTHER snapshot (splicing old records
 *                                   into new banks, rebuilding states, ...)
 *     2 erase off16 len16           set a range to 0xFF
 *     3 write off16 len8 bytes...   overwrite a range with input bytes
 *
 * Invariants (a violation aborts):
 *   - fs38_store_open returns OK, FS38_ERR_STORE_CORRUPT or FS38_ERR_STORE_ROLLBACK, nothing
 *     else; on failure fs38_store_wipe() succeeds and the store then opens empty;
 *   - when it opens, the store serves exactly the contents of the state the counter names (the
 *     OLD or NEW expected contents): every name reads back its value or NOT_FOUND as expected,
 *     never another version, never garbage: no flash image, however assembled from authentic
 *     pieces, passes for another state;
 *   - after writes (put, overwrite, delete, compaction) the store reads back what was written,
 *     and reopens (no power cut here, so it must) with the same contents.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <psa/crypto.h>
#include "fs38/store.h"
#include "fs38_ram.h"

#define FUZZ_NAME "fuzz_store"
#include "fuzz_common.h"

#define SECTOR 4096u
#define BANKS 3u
#define REGION (BANKS * SECTOR)
#define FLASH (REGION + SECTOR)
#define NAMES 6u

/* ---- RAM port --------------------------------------------------------------------------- */

static uint8_t flash[FLASH];
static const uint8_t huk[32] = { 0x5a, 0x17, 0x42, 0x99, 0x01, 0x02, 0x03, 0x04 };
static fs38_ram ram; /* port/ram: counters in RAM (ram.counters), fixed HUK */
static fs38_port port;

static const fs38_store_config cfg = { &port, 0, REGION, 0 };

/* ---- the recorded history --------------------------------------------------------------- */

typedef struct {
    uint8_t image[REGION];
    uint64_t counter;
    bool present[NAMES];
    uint8_t val[NAMES][200];
    size_t len[NAMES];
} snapshot;

static snapshot snap[2]; /* 0 = NEW, 1 = OLD */
static fs38_store store;

static void name_of(unsigned k, char out[16])
{
    snprintf(out, 16, "name-%u", k);
}

static void value_of(unsigned step, uint8_t *v, size_t *len)
{
    *len = 8u + (step * 29u) % 190u;
    for (size_t i = 0; i < *len; i++)
        v[i] = (uint8_t)(step * 7u + i * 13u);
}

static void take(snapshot *sn, const bool *present, uint8_t (*val)[200], const size_t *len)
{
    memcpy(sn->image, flash, REGION);
    sn->counter = ram.counters[FS38_COUNTER_STORE];
    memcpy(sn->present, present, sizeof sn->present);
    memcpy(sn->val, val, sizeof sn->val);
    memcpy(sn->len, len, sizeof sn->len);
}

static void record_history(void)
{
    static bool present[NAMES];
    static uint8_t val[NAMES][200];
    static size_t len[NAMES];
    CHECK(psa_crypto_init() == PSA_SUCCESS);
    const fs38_ram_config rc = { .flash = flash, .flash_size = FLASH, .sector_size = SECTOR, .huk = huk,
                                 .huk_len = sizeof huk };
    CHECK(fs38_ram_init(&ram, &rc, &port) == FS38_OK);
    CHECK(fs38_store_open(&store, &cfg) == FS38_OK);
    for (unsigned step = 0; step < 120; step++) {
        unsigned k = (step * 5u + step / 7u) % NAMES;
        char name[16];
        name_of(k, name);
        if (step % 6 == 5) {
            CHECK(fs38_store_delete(&store, name) == FS38_OK);
            present[k] = false;
        } else {
            value_of(step, val[k], &len[k]);
            CHECK(fs38_store_put(&store, name, val[k], len[k]) == FS38_OK);
            present[k] = true;
        }
        if (step == 80)
            take(&snap[1], present, val, len);
    }
    take(&snap[0], present, val, len);
    CHECK(snap[0].counter >> 32 >= (snap[1].counter >> 32) + 2u);
    fs38_store_close(&store);
}

/* ---- one input ----------------------------------------------------------------------------- */

static uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static void build_image(const uint8_t *data, size_t size, unsigned base)
{
    memset(flash, 0xFF, sizeof flash);
    if (base == 2) { /* raw */
        memcpy(flash, data, size < REGION ? size : REGION);
        return;
    }
    if (base < 2)
        memcpy(flash, snap[base].image, REGION);
    const uint8_t *other = snap[base == 0 ? 1 : 0].image;
    size_t i = 0;
    while (i < size) {
        uint8_t op = data[i++] & 3u;
        if (op == 0 && i + 3 <= size) {
            flash[rd16(data + i) % REGION] ^= data[i + 2];
            i += 3;
        } else if (op == 1 && i + 5 <= size) {
            uint32_t src = rd16(data + i) % REGION, dst = rd16(data + i + 2) % REGION, n = data[i + 4] + 1u;
            if (n > REGION - src)
                n = REGION - src;
            if (n > REGION - dst)
                n = REGION - dst;
            memmove(flash + dst, other + src, n);
            i += 5;
        } else if (op == 2 && i + 4 <= size) {
            uint32_t off = rd16(data + i) % REGION, n = rd16(data + i + 2) % (SECTOR + 1u);
            if (n > REGION - off)
                n = REGION - off;
            memset(flash + off, 0xFF, n);
            i += 4;
        } else if (op == 3 && i + 3 <= size) {
            uint32_t off = rd16(data + i) % REGION, n = data[i + 2];
            i += 3;
            if (n > size - i)
                n = (uint32_t)(size - i);
            if (n > REGION - off)
                n = REGION - off;
            memcpy(flash + off, data + i, n);
            i += n;
        } else {
            break;
        }
    }
}

/* Every name reads back exactly as in the expected contents. */
static void check_contents(const bool *present, uint8_t (*val)[200], const size_t *len)
{
    for (unsigned k = 0; k < NAMES; k++) {
        char name[16];
        uint8_t buf[FS38_STORE_VALUE_MAX];
        size_t n = 0;
        name_of(k, name);
        fs38_err e = fs38_store_get(&store, name, buf, sizeof buf, &n);
        if (present[k]) {
            CHECK(e == FS38_OK);
            CHECK(n == len[k] && memcmp(buf, val[k], n) == 0);
        } else {
            CHECK(e == FS38_ERR_NOT_FOUND);
        }
    }
}

static void exercise_writes(snapshot *want, uint8_t sel)
{
    /* expected contents follow the writes */
    static bool present[NAMES];
    static uint8_t val[NAMES][200];
    static size_t len[NAMES];
    memcpy(present, want->present, sizeof present);
    memcpy(val, want->val, sizeof val);
    memcpy(len, want->len, sizeof len);
    unsigned k = sel % NAMES, j = (sel / NAMES + 1u) % NAMES;
    char name[16];
    name_of(k, name);
    value_of(1000u + sel, val[k], &len[k]);
    fs38_err e = fs38_store_put(&store, name, val[k], len[k]);
    CHECK(e == FS38_OK);
    present[k] = true;
    name_of(j, name);
    CHECK(fs38_store_delete(&store, name) == FS38_OK);
    if (j != k)
        present[j] = false;
    else
        present[k] = false;
    check_contents(present, val, len);
    if (sel & 0x80)
        CHECK(fs38_store_compact(&store) == FS38_OK);
    fs38_store_close(&store);
    e = fs38_store_open(&store, &cfg);
    CHECK(e == FS38_OK);
    check_contents(present, val, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        record_history();
        ready = true;
    }
    if (size < 1)
        return 0;
    const uint8_t mode = data[0];
    const unsigned base = mode & 3u;
    const unsigned cidx = (mode >> 2) & 1u; /* expected state: 0 NEW, 1 OLD */
    build_image(data + 1, size - 1, base);
    memset(ram.counters, 0, sizeof ram.counters);
    ram.counters[FS38_COUNTER_STORE] = snap[cidx].counter;

    fs38_err e = fs38_store_open(&store, &cfg);
    CHECK(e == FS38_OK || e == FS38_ERR_STORE_CORRUPT || e == FS38_ERR_STORE_ROLLBACK);
    if (e != FS38_OK) {
        CHECK(store.diag.err == e && store.diag.msg[0] != 0);
        CHECK(fs38_store_wipe(&store) == FS38_OK);
        CHECK(fs38_store_open(&store, &cfg) == FS38_OK);
        for (unsigned k = 0; k < NAMES; k++) {
            char name[16];
            uint8_t buf[8];
            size_t n;
            name_of(k, name);
            CHECK(fs38_store_get(&store, name, buf, sizeof buf, &n) == FS38_ERR_NOT_FOUND);
        }
        fs38_store_close(&store);
        return 0;
    }
    check_contents(snap[cidx].present, snap[cidx].val, snap[cidx].len);
    if (mode & 8u)
        exercise_writes(&snap[cidx], size > 1 ? data[size - 1] : 0);
    fs38_store_close(&store);
    return 0;
}
