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
#include <time.h>
#include <unistd.h>
#include <psa/crypto.h>
#include "fs38/store.h"
#include "fs38/util.h"
#include "fs38_posix.h"

#define SECTOR 4096u
#define REGION_SECTORS 16u
#define BANK_SECTORS 4u
#define REGION_OFF 0u
#define COUNTER_OFF (REGION_SECTORS * SECTOR)
#define FLASH_SIZE (COUNTER_OFF + FS38_POSIX_COUNTER_SECTORS * SECTOR)
#define NAMES 8u
#define MAXN 4000u

#define MUST(x)                                                                                   \
    do {                                                                                          \
        long _e = (long)(x);                                                                      \
        if (_e != 0) {                                                                            \
            fprintf(stderr, "bench_store: %s failed (%ld) at line %d\n", #x, _e, __LINE__);        \
            exit(1);                                                                              \
        }                                                                                         \
    } while (0)

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    uint64_t median, mean, max;
} stats;

static stats summarize(uint64_t *t, unsigned n)
{
    stats s = { 0, 0, 0 };
    uint64_t sum = 0;
    qsort(t, n, sizeof *t, cmp_u64);
    for (unsigned i = 0; i < n; i++)
        sum += t[i];
    s.median = t[n / 2];
    s.mean = sum / n;
    s.max = t[n - 1];
    return s;
}

/* ---- RAM port --------------------------------------------------------------------------- */

static uint8_t ram_flash[FLASH_SIZE];
static uint64_t ram_counters[FS38_COUNTER_COUNT];
static uint64_t ram_programmed, ram_erased;
static const uint8_t ram_huk[32] = { 0x42, 0x17, 0x99 };

static FS38_NODISCARD fs38_err ram_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    memcpy(buf, ram_flash + off, len);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err ram_erase(void *ctx, uint32_t off, uint32_t len)
{
    (void)ctx;
    memset(ram_flash + off, 0xFF, len);
    ram_erased += len;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err ram_program(void *ctx, uint32_t off, const void *buf, size_t len)
{
    const uint8_t *b = buf;
    (void)ctx;
    for (size_t i = 0; i < len; i++)
        ram_flash[off + i] &= b[i];
    ram_programmed += len;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err ram_huk_read(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    if (len > sizeof ram_huk)
        return FS38_ERR_ARG;
    memcpy(out, ram_huk, len);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err ram_counter_read(void *ctx, fs38_counter_id id, uint64_t *v)
{
    (void)ctx;
    *v = ram_counters[id];
    return FS38_OK;
}

static FS38_NODISCARD fs38_err ram_counter_advance(void *ctx, fs38_counter_id id, uint64_t v)
{
    (void)ctx;
    if (v > ram_counters[id])
        ram_counters[id] = v;
    ram_programmed += 16; /* what a flash counter entry would cost */
    return FS38_OK;
}

static void ram_port_init(fs38_port *p)
{
    memset(p, 0, sizeof *p);
    memset(ram_flash, 0xFF, sizeof ram_flash);
    memset(ram_counters, 0, sizeof ram_counters);
    p->flash_size = FLASH_SIZE;
    p->sector_size = SECTOR;
    p->flash_read = ram_read;
    p->flash_erase = ram_erase;
    p->flash_program = ram_program;
    p->hardware_key = ram_huk_read;
    p->counter_read = ram_counter_read;
    p->counter_advance = ram_counter_advance;
}

/* ---- the ports under test ------------------------------------------------------------------ */

typedef struct {
    const char *name;
    fs38_port port;
    fs38_posix posix; /* file port only */
    int is_file;
    char path[256], huk[256];
} rig;

static void rig_open(rig *r, int file)
{
    memset(r, 0, sizeof *r);
    r->is_file = file;
    if (!file) {
        r->name = "RAM";
        ram_port_init(&r->port);
        return;
    }
    r->name = "file";
    const char *tmp = getenv("TMPDIR");
    snprintf(r->path, sizeof r->path, "%s/fs38-bench-store-%ld.flash", tmp && *tmp ? tmp : "/tmp", (long)getpid());
    snprintf(r->huk, sizeof r->huk, "%s/fs38-bench-store-%ld.huk", tmp && *tmp ? tmp : "/tmp", (long)getpid());
    unlink(r->path);
    unlink(r->huk);
    fs38_posix_config pc;
    memset(&pc, 0, sizeof pc);
    pc.path = r->path;
    pc.flash_size = FLASH_SIZE;
    pc.sector_size = SECTOR;
    pc.counter_offset = COUNTER_OFF;
    pc.huk_path = r->huk;
    MUST(fs38_posix_open(&r->posix, &pc, &r->port));
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
    return r->is_file ? r->posix.bytes_programmed : ram_programmed;
}

static uint64_t erased(const rig *r)
{
    return r->is_file ? r->posix.bytes_erased : ram_erased;
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
    MUST(psa_generate_key(&a, &floor_key));
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

    MUST(fs38_store_open(&s, &cfg));
    /* warm-up: every name present */
    for (unsigned k = 0; k < NAMES; k++) {
        snprintf(name, sizeof name, "key-%u", k);
        fill(v, vlen, k);
        MUST(fs38_store_put(&s, name, v, vlen));
    }
    const uint64_t p0 = programmed(r), e0 = erased(r), g0 = s.generation;
    for (unsigned i = 0; i < n; i++) {
        snprintf(name, sizeof name, "key-%u", i % NAMES);
        fill(v, vlen, i + 100);
        uint64_t t0 = now_ns();
        MUST(fs38_store_put(&s, name, v, vlen));
        uint64_t t1 = now_ns();
        MUST(fs38_store_get(&s, name, out, sizeof out, &ol));
        uint64_t t2 = now_ns();
        nonce[11] = (uint8_t)i;
        nonce[10] = (uint8_t)(i >> 8);
        MUST(psa_aead_encrypt(floor_key, PSA_ALG_GCM, nonce, sizeof nonce, aad, sizeof aad, v, vlen, ct, sizeof ct,
                              &ol));
        uint64_t t3 = now_ns();
        MUST(psa_aead_decrypt(floor_key, PSA_ALG_GCM, nonce, sizeof nonce, aad, sizeof aad, ct, ol, out, sizeof out,
                              &ol));
        uint64_t t4 = now_ns();
        t_put[i] = t1 - t0;
        t_get[i] = t2 - t1;
        t_enc[i] = t3 - t2;
        t_dec[i] = t4 - t3;
    }
    const uint64_t prog = programmed(r) - p0, era = erased(r) - e0, comp = s.generation - g0;
    fs38_store_close(&s);
    stats sp = summarize(t_put, n), sg = summarize(t_get, n), se = summarize(t_enc, n), sd = summarize(t_dec, n);
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
    MUST(fs38_store_open(&s, &cfg));
    for (;; live++) {
        snprintf(name, sizeof name, "live-%u", live);
        fill(v, vlen, live);
        fs38_err e = fs38_store_put(&s, name, v, vlen);
        if (e == FS38_ERR_STORE_FULL)
            break;
        MUST(e);
    }
    for (unsigned i = 0; i < runs; i++) {
        uint64_t t0 = now_ns();
        MUST(fs38_store_compact(&s));
        t[i] = now_ns() - t0;
    }
    const uint32_t used = s.log_end;
    fs38_store_close(&s);
    for (unsigned i = 0; i < runs; i++) {
        uint64_t t0 = now_ns();
        MUST(fs38_store_open(&s, &cfg));
        tm[i] = now_ns() - t0;
        fs38_store_close(&s);
    }
    stats sc = summarize(t, runs), so = summarize(tm, runs);
    printf("  %-4s bank %2u KiB: %3u live records of %4zu B (%5u B used): compaction %8.2f ms, open %7.2f ms\n",
           r->name, (unsigned)(bank_sectors * SECTOR / 1024u), live, vlen, (unsigned)used, (double)sc.median / 1e6,
           (double)so.median / 1e6);
}

int main(int argc, char **argv)
{
    const int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const unsigned n = quick ? 400u : MAXN;
    MUST(psa_crypto_init());
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
