/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.c — cost of the sealed store (fs38/store.h) against the raw AEAD it is built on.
 *
 * For values of 32, 256 and 1024 bytes it times, each as the median of many calls
 * (CLOCK_MONOTONIC):
 *
 *   put / get        fs38_store_put / fs38_store_get on a store of 16 x 4 KiB sectors in
 *                    banks of 4 sectors (the reference device's layout) holding 8 names that
 *                    are overwritten in turn, so compactions happen along the way (they are in
 *                    the mean and the max, the median is the common case), against
 *   aead             one psa_aead_encrypt / psa_aead_decrypt (AES-256-GCM, same key type) of
 *                    the same value in the same run: the floor,
 *
 * with two ports: the POSIX port (flash = a file, pread/pwrite) and a RAM port (memcpy, like
 * memory-mapped flash on a microcontroller; counters in RAM). It also reports the flash bytes
 * programmed (records, compaction copies, bank headers and counter entries: 16 B per counter
 * write) and erased per byte of value stored, next to what the raw AEAD of the value would
 * occupy (12 B nonce + ciphertext + 16 B tag), the time of a full compaction of a bank of 4 sectors
 * and of 1 sector, filled with live records, and the time of fs38_store_open (mount: key
 * derivation + verification of the active bank).
 *
 * Usage: bench_store [--quick]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <psa/crypto.h>
#include "fs38/store.h"
#include "fs38/util.h"
#include "bench_util.h"
#include "fs38_posix.h"
#include "fs38_ram.h"

#define SECTOR 4096u
#define REGION_SECTORS 16u
#define BANK_SECTORS 4u
#define REGION_OFF 0u
#define COUNTER_OFF (REGION_SECTORS * SECTOR)
#define FLASH_SIZE (COUNTER_OFF + FS38_POSIX_COUNTER_SECTORS * SECTOR)
#define NAMES 8u
#define MAXN 4000u

static uint8_t ram_flash[FLASH_SIZE];
static const uint8_t ram_huk[32] = { 0x42, 0x17, 0x99 };

/* ---- the ports under test ------------------------------------------------------------------ */

typedef struct {
    const char *name;
    fs38_port port;
    fs38_posix posix; /* file port */
    fs38_ram ram;     /* RAM port (flash = ram_flash, counters in RAM) */
    int is_file;
    char path[256], huk[256];
} rig;

static void rig_open(rig *r, int file)
{
    memset(r, 0, sizeof *r);
    r->is_file = file;
    if (!file) {
        r->name = "RAM";
        fs38_ram_config rc = { .flash = ram_flash, .flash_size = FLASH_SIZE, .sector_size = SECTOR,
                               .huk = ram_huk, .huk_len = sizeof ram_huk };
        BENCH_MUST(fs38_ram_init(&r->ram, &rc, &r->port));
        return;
    }
    r->name = "file";
    bench_tmp_path(r->path, sizeof r->path, "bench-store", "flash");
    bench_tmp_path(r->huk, sizeof r->huk, "bench-store", "huk");
    unlink(r->path);
    unlink(r->huk);
    fs38_posix_config pc = { r->path, FLASH_SIZE, SECTOR, COUNTER_OFF, r->huk };
    BENCH_MUST(fs38_posix_open(&r->posix, &pc, &r->port));
}

static void rig_close(rig *r)
{
    if (r->is_file) {
        fs38_posix_close(&r->posix);
        unlink(r->path);
        unlink(r->huk);
    }
}

static uint64_t programmed(const rig *r)
{
    return r->is_file ? r->posix.bytes_programmed : r->ram.bytes_programmed;
}

static uint64_t erased(const rig *r)
{
    return r->is_file ? r->posix.bytes_erased : r->ram.bytes_erased;
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
}

/* ---- the floor: one AEAD of the same value --------------------------------------------------- */

static psa_key_id_t floor_key;

static void floor_init(void)
{
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&a, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&a, 256);
    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT);
    psa_set_key_algorithm(&a, PSA_ALG_GCM);
    BENCH_MUST(psa_generate_key(&a, &floor_key));
}

static uint64_t t_put[MAXN], t_get[MAXN], t_enc[MAXN], t_dec[MAXN];

static void bench_size(rig *r, size_t vlen, unsigned n)
{
    static uint8_t v[FS38_STORE_VALUE_MAX], out[FS38_STORE_VALUE_MAX + 16], ct[FS38_STORE_VALUE_MAX + 16];
    static const uint8_t aad[40];
    uint8_t nonce[12] = { 0 };
    fs38_store s;
    fs38_store_config cfg = { &r->port, REGION_OFF, REGION_SECTORS * SECTOR, BANK_SECTORS * SECTOR };
    char name[16];
    size_t ol;

    BENCH_MUST(fs38_store_open(&s, &cfg));
    /* warm-up: every name present */
    for (unsigned k = 0; k < NAMES; k++) {
        snprintf(name, sizeof name, "key-%u", k);
        fill(v, vlen, k);
        BENCH_MUST(fs38_store_put(&s, name, v, vlen));
    }
    const uint64_t p0 = programmed(r), e0 = erased(r), g0 = s.generation;
    for (unsigned i = 0; i < n; i++) {
        snprintf(name, sizeof name, "key-%u", i % NAMES);
        fill(v, vlen, i + 100);
        uint64_t t0 = bench_now_ns();
        BENCH_MUST(fs38_store_put(&s, name, v, vlen));
        uint64_t t1 = bench_now_ns();
        BENCH_MUST(fs38_store_get(&s, name, out, sizeof out, &ol));
        uint64_t t2 = bench_now_ns();
        nonce[11] = (uint8_t)i;
        nonce[10] = (uint8_t)(i >> 8);
        BENCH_MUST(psa_aead_encrypt(floor_key, PSA_ALG_GCM, nonce, sizeof nonce, aad, sizeof aad, v, vlen, ct, sizeof ct,
                              &ol));
        uint64_t t3 = bench_now_ns();
        BENCH_MUST(psa_aead_decrypt(floor_key, PSA_ALG_GCM, nonce, sizeof nonce, aad, sizeof aad, ct, ol, out, sizeof out,
                              &ol));
        uint64_t t4 = bench_now_ns();
        t_put[i] = t1 - t0;
        t_get[i] = t2 - t1;
        t_enc[i] = t3 - t2;
        t_dec[i] = t4 - t3;
    }
    const uint64_t prog = programmed(r) - p0, era = erased(r) - e0, comp = s.generation - g0;
    fs38_store_close(&s);
    bench_stats sp = bench_summarize(t_put, n), sg = bench_summarize(t_get, n), se = bench_summarize(t_enc, n), sd = bench_summarize(t_dec, n);
    printf("  %-4s %4zu B  put %7.1f us (mean %7.1f, max %8.1f)  aead-enc %5.2f us  ratio %6.1f\n", r->name, vlen,
           (double)sp.median / 1e3, (double)sp.mean / 1e3, (double)sp.max / 1e3, (double)se.median / 1e3,
           (double)sp.median / (double)se.median);
    printf("  %-4s %4zu B  get %7.1f us (mean %7.1f, max %8.1f)  aead-dec %5.2f us  ratio %6.1f\n", r->name, vlen,
           (double)sg.median / 1e3, (double)sg.mean / 1e3, (double)sg.max / 1e3, (double)sd.median / 1e3,
           (double)sg.median / (double)sd.median);
    printf("  %-4s %4zu B  flash programmed %.2f B and erased %.2f B per value byte stored "
           "(raw AEAD: %.2f B = nonce + ciphertext + tag; %u puts, %llu compactions)\n",
           r->name, vlen, (double)prog / ((double)n * (double)vlen), (double)era / ((double)n * (double)vlen),
           (double)(12u + vlen + 16u) / (double)vlen, n, (unsigned long long)comp);
}

/* A bank filled with live records, then one fs38_store_compact(); median over runs. */
static void bench_compaction(rig *r, uint32_t bank_sectors, size_t vlen, unsigned runs)
{
    static uint8_t v[FS38_STORE_VALUE_MAX];
    fs38_store s;
    fs38_store_config cfg = { &r->port, REGION_OFF, REGION_SECTORS * SECTOR, bank_sectors * SECTOR };
    char name[16];
    uint64_t t[64], tm[64];
    unsigned live = 0;
    if (runs > 64)
        runs = 64;
    BENCH_MUST(fs38_store_open(&s, &cfg));
    for (;; live++) {
        snprintf(name, sizeof name, "live-%u", live);
        fill(v, vlen, live);
        fs38_err e = fs38_store_put(&s, name, v, vlen);
        if (e == FS38_ERR_STORE_FULL)
            break;
        BENCH_MUST(e);
    }
    for (unsigned i = 0; i < runs; i++) {
        uint64_t t0 = bench_now_ns();
        BENCH_MUST(fs38_store_compact(&s));
        t[i] = bench_now_ns() - t0;
    }
    const uint32_t used = s.log_end;
    fs38_store_close(&s);
    for (unsigned i = 0; i < runs; i++) {
        uint64_t t0 = bench_now_ns();
        BENCH_MUST(fs38_store_open(&s, &cfg));
        tm[i] = bench_now_ns() - t0;
        fs38_store_close(&s);
    }
    bench_stats sc = bench_summarize(t, runs), so = bench_summarize(tm, runs);
    printf("  %-4s bank %2u KiB: %3u live records of %4zu B (%5u B used): compaction %8.2f ms, open %7.2f ms\n",
           r->name, (unsigned)(bank_sectors * SECTOR / 1024u), live, vlen, (unsigned)used, (double)sc.median / 1e6,
           (double)so.median / 1e6);
}

int main(int argc, char **argv)
{
    const int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const unsigned n = quick ? 400u : MAXN;
    bench_set_name("bench_store");
    BENCH_MUST(psa_crypto_init());
    floor_init();
    printf("sealed store: %u x 4 KiB sectors, banks of %u sectors, %u names overwritten in turn; "
           "medians of %u calls\n",
           REGION_SECTORS, BANK_SECTORS, NAMES, n);
    static const size_t sizes[] = { 32, 256, 1024 };
    for (int file = 1; file >= 0; file--) {
        for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            rig r;
            rig_open(&r, file);
            bench_size(&r, sizes[i], sizes[i] == 1024 ? n / 2 : n);
            rig_close(&r);
        }
    }
    printf("full compaction (bank filled with live records until FS38_ERR_STORE_FULL):\n");
    for (int file = 1; file >= 0; file--) {
        static const uint32_t banks[] = { 1, 4 };
        static const size_t vls[] = { 32, 256 };
        for (unsigned b = 0; b < 2; b++)
            for (unsigned k = 0; k < 2; k++) {
                rig r;
                rig_open(&r, file);
                bench_compaction(&r, banks[b], vls[k], quick ? 5 : 21);
                rig_close(&r);
            }
    }
    psa_destroy_key(floor_key);
    return 0;
}
