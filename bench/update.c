/* SPDX-License-Identifier: Apache-2.0 */
/*
 * update.c — what installing an encrypted update costs beyond the raw operations it needs.
 *
 * For images of 1 MiB and 16 MiB (pseudo-random bytes), encrypted with A128CTR and the CEK
 * wrapped with ECDH-ES+A128KW for a device P-256 key generated here (host/suit_encrypt), in
 * a signed two-component envelope (host/suit_build: fetch the ciphertext, check its digest,
 * copy-decrypt into the image, check the image digest), it times
 *
 *   install    fs38_update_begin + fs38_update_write (4 KiB chunks) + fs38_update_finish into
 *              slot B with the POSIX port (flash = a file in $TMPDIR or /tmp: two slots of
 *              16 MiB + 4 KiB, a 2-sector state region, the port's 8 counter sectors at the
 *              end). The state region is erased before each run (untimed), so every run is a
 *              fresh install on a device that never saw an update; begin erases the staging
 *              slot itself. Against
 *   baseline   the raw cost of the same operations on the same bytes, measured in the same
 *              run: one psa_verify_hash of a 32-byte hash (P-256, the same trust anchor), one
 *              psa_raw_key_agreement (the device key, the envelope's ephemeral point) + HKDF
 *              (psa_key_derivation) + mbedtls_nist_kw_unwrap of the envelope's wrapped CEK +
 *              the CEK's psa_import_key, then the erase of the image region and, per 4 KiB
 *              chunk, SHA-256 of the ciphertext, AES-128-CTR (psa_cipher multipart), SHA-256
 *              of the plaintext and fs38_flash_program of the plaintext through the same port,
 *
 * each the median of several runs (interleaved), and prints both times and the ratio (goal
 * <= 1.1) by the wall clock (CLOCK_MONOTONIC) and by the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID: user + system time of this thread, i.e. the crypto and the
 * port's pread/pwrite into the page cache, without time spent waiting for the CPU — the
 * steadier figure when other processes share the machine), and the flash statistics of the
 * install (bytes programmed and erased per installed byte, from the POSIX port's counters).
 *
 * Where any excess goes: the baseline's steps timed alone (each its own pass over the
 * bytes); the same streaming steps at the agent's internal granularity (FS38_UPDATE_CHUNK
 * bytes per program / cipher / hash call); and the state records the agent keeps (one at
 * begin, one every FS38_UPDATE_PROGRESS bytes, one at finish: each a fs38_bootstate_read +
 * fs38_bootstate_write on the same port, plus begin's counter read).
 *
 * RAM: sizeof(fs38_update_ctx) (the agent's only state: caller-owned); the peak stack of a
 * 1 MiB install run on a thread whose painted stack is inspected afterwards, with the POSIX
 * port and with a RAM-backed port (the POSIX port keeps 4 KiB buffers on the stack), the
 * latter also recording fs38's depth at every port call, against the baseline's operations
 * measured the same way (Mbed TLS's own part); and the peak of Mbed TLS's heap (it allocates
 * with calloc: GNU ld --wrap=calloc,free) in each phase of the install and of the baseline.
 * Nothing asserts on timings. FS38_BENCH_HEAP_DEBUG=1 logs every tracked heap block.
 *
 * Usage: bench_update [--quick | --profile MIB]   (--quick: fewer runs; --profile: only
 *        installs of a MIB-MiB image, in a loop for ~5 s, for perf record / perf stat)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <mbedtls/nist_kw.h>
#include <psa/crypto.h>
#include "fs38/boot.h"
#include "fs38/bootstate.h"
#include "fs38/cbor.h"
#include "fs38/cose.h"
#include "fs38/decrypt.h"
#include "fs38/update.h"
#include "fs38/util.h"
#include "bench_util.h"
#include "fs38_posix.h"
#include "fs38_ram.h"
#include "suit_build.h"
#include "suit_encrypt.h"

#define KIB 1024u
#define MIB (1024u * 1024u)
#define SECTOR 4096u
#define MAX_IMAGE (16u * MIB)
#define IMAGE_OFFSET FS38_SLOT_DEFAULT_IMAGE_OFFSET
#define SLOT_SIZE (MAX_IMAGE + IMAGE_OFFSET)
#define STATE_OFF (2u * SLOT_SIZE)
#define STATE_SIZE (2u * SECTOR)
#define COUNTER_OFF (STATE_OFF + STATE_SIZE)
#define COUNTER_BYTES (FS38_POSIX_COUNTER_SECTORS * SECTOR)
#define FLASH_SIZE (COUNTER_OFF + COUNTER_BYTES)
#define STAGING 1u                                  /* running slot A, the update goes to B */
#define IMG_BASE (SLOT_SIZE + IMAGE_OFFSET)         /* where the image bytes land in slot B */
#define NET_CHUNK 4096u                             /* what the "network" hands the agent */

static const uint8_t VENDOR[16] = { 0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad, 0x5f, 0xdf,
                                    0xbe, 0x9d, 0xe6, 0x63, 0xe4, 0xd4, 0x1f, 0xfe };
static const uint8_t CLASS[16] = { 0x14, 0x92, 0xaf, 0x14, 0x25, 0x69, 0x5e, 0x48,
                                   0xbf, 0x42, 0x9b, 0x2d, 0x51, 0xf2, 0xab, 0x45 };

static char flash_path[512]; /* removed on every exit */

static void remove_flash_file(void) /* atexit: also when bench_die() exits */
{
    if (flash_path[0])
        unlink(flash_path);
}

/* A measurement by both clocks. */
typedef struct {
    double wall, cpu;
} tm_t;

static tm_t tm_start(void)
{
    tm_t t = { bench_now_ms(), bench_cpu_ms() };
    return t;
}

static tm_t tm_since(tm_t t0)
{
    tm_t t = { bench_now_ms() - t0.wall, bench_cpu_ms() - t0.cpu };
    return t;
}

/* ---- Mbed TLS heap (GNU ld --wrap=calloc,free, see CMakeLists.txt) ------------------------------- */
/* Mbed TLS allocates with calloc (MBEDTLS_PLATFORM_MEMORY is off: mbedtls_calloc is calloc);
 * libfs38 never allocates. While tracking, every calloc'd block is remembered with its size,
 * so frees of blocks allocated before tracking started do not count. */

void *__real_calloc(size_t n, size_t size);
void __real_free(void *p);
void *__wrap_calloc(size_t n, size_t size);
void __wrap_free(void *p);

#define HEAP_SLOTS 512
static int heap_tracking, heap_debug; /* heap_debug: FS38_BENCH_HEAP_DEBUG set, log each block */
static size_t heap_live, heap_peak, heap_blocks, heap_overflow;
static size_t heap_phase_peak[4], heap_phases; /* peaks between heap_mark() calls */
static void *heap_ptr[HEAP_SLOTS];
static size_t heap_size[HEAP_SLOTS];

void *__wrap_calloc(size_t n, size_t size)
{
    void *p = __real_calloc(n, size);
    if (p && heap_tracking) {
        size_t i = 0;
        while (i < HEAP_SLOTS && heap_ptr[i])
            i++;
        if (i == HEAP_SLOTS) {
            heap_overflow++;
        } else {
            heap_ptr[i] = p;
            heap_size[i] = n * size;
            heap_blocks++;
            heap_live += n * size;
            if (heap_live > heap_peak)
                heap_peak = heap_live;
            if (heap_debug) /* resolve the caller with addr2line -f -e bench_update */
                fprintf(stderr, "heap: +%zu B (live %zu) from %p\n", n * size, heap_live, __builtin_return_address(0));
        }
    }
    return p;
}

void __wrap_free(void *p)
{
    if (p && heap_blocks) {
        for (size_t i = 0; i < HEAP_SLOTS; i++)
            if (heap_ptr[i] == p) {
                heap_live -= heap_size[i];
                if (heap_debug)
                    fprintf(stderr, "heap: -%zu B (live %zu)\n", heap_size[i], heap_live);
                heap_ptr[i] = NULL;
                heap_blocks--;
                break;
            }
    }
    __real_free(p);
}

static void heap_track_start(void)
{
    memset(heap_ptr, 0, sizeof heap_ptr);
    heap_live = heap_peak = heap_blocks = heap_overflow = heap_phases = 0;
    memset(heap_phase_peak, 0, sizeof heap_phase_peak);
    heap_tracking = 1;
    if (heap_debug)
        fprintf(stderr, "heap: tracking starts (heap_track_start at %p)\n", (void *)(uintptr_t)heap_track_start);
}

/* End of a phase: its peak is recorded, the next phase's peak starts from what is live. */
static void heap_mark(void)
{
    if (!heap_tracking)
        return;
    if (heap_phases < 4)
        heap_phase_peak[heap_phases++] = heap_peak;
    if (heap_debug)
        fprintf(stderr, "heap: phase %zu ends, peak %zu\n", heap_phases, heap_peak);
    heap_peak = heap_live;
}

/* Peak bytes live over all phases; *left gets the bytes still live (allocated while tracking). */
static size_t heap_track_stop(size_t *left)
{
    heap_tracking = 0;
    if (heap_overflow)
        bench_die("heap tracking (too many live blocks)", (long)heap_overflow);
    if (left)
        *left = heap_live;
    memset(heap_ptr, 0, sizeof heap_ptr);
    heap_blocks = 0;
    size_t peak = heap_peak;
    for (size_t i = 0; i < heap_phases; i++)
        if (heap_phase_peak[i] > peak)
            peak = heap_phase_peak[i];
    return peak;
}

/* ---- device ---------------------------------------------------------------------------------------- */

static fs38_posix posix;
static fs38_port port;
static fs38_boot_config cfg;
static fs38_boot_ctx boot_ctx;
static fs38_keyring trust;
static psa_key_id_t signer, device_key;
static fs38_update_ctx upd; /* the agent's state: caller-owned, like on a device */

typedef struct {
    uint64_t programmed, erased, ops;
} flash_stats;

static flash_stats stats_now(void)
{
    flash_stats s = { posix.bytes_programmed, posix.bytes_erased, fs38_posix_ops(&posix) };
    return s;
}

static flash_stats stats_since(flash_stats a)
{
    flash_stats b = stats_now();
    b.programmed -= a.programmed;
    b.erased -= a.erased;
    b.ops -= a.ops;
    return b;
}

/* A device that never saw an update: empty state region (untimed, outside the statistics). */
static void fresh_state(void)
{
    BENCH_MUST(fs38_flash_erase(&port, STATE_OFF, STATE_SIZE));
}

/* The RAM port (port/ram: memcpy reads, AND programs, counters in RAM), only for the stack runs:
 * the POSIX port keeps a 4 KiB buffer on the stack in program, erase and counter_read, which
 * would hide the agent's own depth. A probe around it records the stack depth at every call. */
static uint8_t *ram_flash;
static fs38_ram ram;
static fs38_port ram_plain;
static bench_probe probe;

static fs38_port ram_port(void)
{
    if (!ram_flash && !(ram_flash = malloc(FLASH_SIZE)))
        bench_die("malloc(RAM flash)", ENOMEM);
    fs38_ram_config rc = { .flash = ram_flash, .flash_size = FLASH_SIZE, .sector_size = SECTOR };
    BENCH_MUST(fs38_ram_init(&ram, &rc, &ram_plain));
    bench_probe_init(&probe, &ram_plain);
    return probe.port;
}

/* ---- releases --------------------------------------------------------------------------------------- */

typedef struct {
    size_t n;                  /* image bytes */
    uint8_t *ct;               /* the payload the device fetches (CTR: n bytes) */
    size_t ct_len;
    suit_buf env;
    uint8_t info[512];         /* encryption-info (COSE_Encrypt) */
    size_t info_len;
    fs38_encryption_info ei;   /* parsed: points into info */
    uint8_t kdf_ctx[96];       /* COSE_KDF_Context for the HKDF, as the device builds it */
    size_t kdf_ctx_len;
    psa_key_id_t cek;          /* the CEK (unwrapped once), for the AES-CTR-alone passes */
    uint8_t image_digest[32], ct_digest[32];
} release_t;

static uint8_t *image;
static uint8_t device_pt[65];
static uint8_t vhash[32], vsig[64]; /* the baseline's signature check */

static size_t finish_enc(const fs38_cbor_enc *e)
{
    size_t n = 0;
    BENCH_MUST(fs38_cbor_enc_finish(e, &n));
    return n;
}

static void make_release(release_t *rl, size_t n, const uint8_t kid[FS38_KID_LEN])
{
    memset(rl, 0, sizeof *rl);
    rl->n = n;
    rl->ct = malloc(n + 16);
    if (!rl->ct)
        bench_die("malloc(payload)", ENOMEM);
    suit_encrypt_opts o;
    memset(&o, 0, sizeof o);
    o.content_alg = FS38_COSE_ALG_A128CTR;
    o.device_pub = device_pt;
    BENCH_MUST(suit_encrypt(&o, image, n, rl->ct, n + 16, &rl->ct_len, rl->info, sizeof rl->info, &rl->info_len));
    if (rl->ct_len != n)
        bench_die("suit_encrypt (CTR payload size)", (long)rl->ct_len);
    suit_build sb;
    suit_build_firmware(&sb, 2, VENDOR, CLASS, image, n, FS38_COSE_ALG_ES256, signer, kid);
    sb.enc_info = rl->info;
    sb.enc_info_len = rl->info_len;
    sb.payload = rl->ct;
    sb.payload_len = rl->ct_len;
    BENCH_MUST(suit_build_envelope(&sb, &rl->env));
    BENCH_MUST(fs38_sha256(image, n, rl->image_digest));
    BENCH_MUST(fs38_sha256(rl->ct, rl->ct_len, rl->ct_digest));

    fs38_diag diag;
    memset(&diag, 0, sizeof diag);
    BENCH_MUST(fs38_decrypt_parse(rl->info, rl->info_len, &rl->ei, &diag));
    if (rl->ei.content_alg != FS38_COSE_ALG_A128CTR || rl->ei.key_alg != FS38_COSE_ALG_ECDH_ES_A128KW)
        bench_die("encryption-info algorithms", 0);
    /* COSE_KDF_Context [-3, [null,null,null], [null,null,null], [128, protected, "SUIT Payload Encryption"]] */
    static const char other[] = "SUIT Payload Encryption";
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, rl->kdf_ctx, sizeof rl->kdf_ctx);
    fs38_cbor_put_array(&e, 4);
    fs38_cbor_put_int(&e, FS38_COSE_ALG_A128KW);
    for (int party = 0; party < 2; party++) {
        fs38_cbor_put_array(&e, 3);
        fs38_cbor_put_null(&e);
        fs38_cbor_put_null(&e);
        fs38_cbor_put_null(&e);
    }
    fs38_cbor_put_array(&e, 3);
    fs38_cbor_put_uint(&e, 128);
    fs38_cbor_put_bstr(&e, rl->ei.recipient_protected, rl->ei.recipient_protected_len);
    fs38_cbor_put_bstr(&e, (const uint8_t *)other, sizeof other - 1);
    rl->kdf_ctx_len = finish_enc(&e);
}

/* ---- the install -------------------------------------------------------------------------------------- */

static void install_or_die(const release_t *rl, fs38_update_ctx *u)
{
    fs38_update_config c;
    memset(&c, 0, sizeof c);
    c.boot = &cfg;
    c.running_slot = 1u - STAGING;
    c.keys.ecdh_key = device_key;
    fs38_err e = fs38_update_begin(u, &c, rl->env.b, rl->env.len);
    if (!e && u->resumed)
        bench_die("fs38_update_begin (resumed instead of a fresh install)", 0);
    heap_mark();
    for (size_t off = 0; !e && off < rl->ct_len; off += NET_CHUNK)
        e = fs38_update_write(u, rl->ct + off, rl->ct_len - off < NET_CHUNK ? rl->ct_len - off : NET_CHUNK);
    heap_mark();
    if (!e)
        e = fs38_update_finish(u);
    heap_mark();
    if (e) {
        fprintf(stderr, "bench_update: install failed: %s\n", u->diag.msg);
        bench_die("install", e);
    }
}

/* One timed install on a fresh state; *st gets the port's statistics of the install alone. */
static tm_t time_install(const release_t *rl, flash_stats *st)
{
    fresh_state();
    flash_stats s0 = stats_now();
    tm_t t0 = tm_start();
    install_or_die(rl, &upd);
    tm_t t = tm_since(t0);
    if (st)
        *st = stats_since(s0);
    return t;
}

/* ---- the baseline: the raw operations ------------------------------------------------------------------ */

static uint8_t raw_pt[NET_CHUNK]; /* static: the baseline's buffer is not stack */

static void verify_once(void)
{
    BENCH_MUST(psa_verify_hash(trust.a[0].key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), vhash, sizeof vhash, vsig, sizeof vsig));
}

/* ECDH with the envelope's ephemeral point + HKDF + key unwrap; the CEK into PSA as *cek. */
static void kex_once(const release_t *rl, psa_key_id_t *cek)
{
    uint8_t z[32], kek[16], raw[16];
    size_t zl = 0, ol = 0;
    BENCH_MUST(psa_raw_key_agreement(PSA_ALG_ECDH, device_key, rl->ei.ephemeral, sizeof rl->ei.ephemeral, z, sizeof z, &zl));
    psa_key_derivation_operation_t kd = PSA_KEY_DERIVATION_OPERATION_INIT;
    BENCH_MUST(psa_key_derivation_setup(&kd, PSA_ALG_HKDF(PSA_ALG_SHA_256)));
    BENCH_MUST(psa_key_derivation_input_bytes(&kd, PSA_KEY_DERIVATION_INPUT_SECRET, z, zl));
    BENCH_MUST(psa_key_derivation_input_bytes(&kd, PSA_KEY_DERIVATION_INPUT_INFO, rl->kdf_ctx, rl->kdf_ctx_len));
    BENCH_MUST(psa_key_derivation_output_bytes(&kd, kek, sizeof kek));
    BENCH_MUST(psa_key_derivation_abort(&kd));
    mbedtls_nist_kw_context kw;
    mbedtls_nist_kw_init(&kw);
    BENCH_MUST(mbedtls_nist_kw_setkey(&kw, MBEDTLS_CIPHER_ID_AES, kek, 128, 0));
    BENCH_MUST(mbedtls_nist_kw_unwrap(&kw, MBEDTLS_KW_MODE_KW, rl->ei.wrapped_cek, rl->ei.wrapped_cek_len, raw, &ol,
                                sizeof raw));
    mbedtls_nist_kw_free(&kw);
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_AES);
    psa_set_key_bits(&at, 128);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_DECRYPT);
    psa_set_key_algorithm(&at, PSA_ALG_CTR);
    BENCH_MUST(psa_import_key(&at, raw, sizeof raw, cek));
    fs38_wipe(z, sizeof z);
    fs38_wipe(kek, sizeof kek);
    fs38_wipe(raw, sizeof raw);
}

static void ctr_start(const release_t *rl, psa_key_id_t cek, psa_cipher_operation_t *op)
{
    *op = psa_cipher_operation_init();
    BENCH_MUST(psa_cipher_decrypt_setup(op, cek, PSA_ALG_CTR));
    BENCH_MUST(psa_cipher_set_iv(op, rl->ei.iv, 16));
}

static size_t step(size_t len, size_t off, size_t chunk)
{
    return len - off < chunk ? len - off : chunk;
}

static uint32_t image_span(const release_t *rl)
{
    return (uint32_t)((rl->n + SECTOR - 1) / SECTOR * SECTOR);
}

/*
 * The baseline of the ratio: every raw operation, fused into one pass as a minimal agent
 * would do it — verify, key agreement, erase, then per NET_CHUNK: SHA-256(ct), AES-CTR,
 * SHA-256(pt), program — into the staging slot's image area.
 */
static tm_t time_baseline(const release_t *rl)
{
    tm_t t0 = tm_start();
    verify_once();
    heap_mark();
    psa_key_id_t k = 0;
    kex_once(rl, &k);
    psa_cipher_operation_t cop;
    ctr_start(rl, k, &cop);
    heap_mark();
    psa_hash_operation_t hct = PSA_HASH_OPERATION_INIT, hpt = PSA_HASH_OPERATION_INIT;
    BENCH_MUST(psa_hash_setup(&hct, PSA_ALG_SHA_256));
    BENCH_MUST(psa_hash_setup(&hpt, PSA_ALG_SHA_256));
    BENCH_MUST(fs38_flash_erase(&port, IMG_BASE, image_span(rl)));
    for (size_t off = 0; off < rl->ct_len; off += NET_CHUNK) {
        size_t n = step(rl->ct_len, off, NET_CHUNK), o = 0;
        BENCH_MUST(psa_hash_update(&hct, rl->ct + off, n));
        BENCH_MUST(psa_cipher_update(&cop, rl->ct + off, n, raw_pt, sizeof raw_pt, &o));
        if (o != n)
            bench_die("psa_cipher_update (CTR output length)", (long)o);
        BENCH_MUST(psa_hash_update(&hpt, raw_pt, o));
        BENCH_MUST(fs38_flash_program(&port, (uint32_t)(IMG_BASE + off), raw_pt, o));
    }
    uint8_t dct[32], dpt[32];
    size_t hl = 0, ol = 0;
    BENCH_MUST(psa_cipher_finish(&cop, raw_pt, sizeof raw_pt, &ol));
    BENCH_MUST(psa_destroy_key(k));
    BENCH_MUST(psa_hash_finish(&hct, dct, sizeof dct, &hl));
    BENCH_MUST(psa_hash_finish(&hpt, dpt, sizeof dpt, &hl));
    tm_t t = tm_since(t0);
    heap_mark();
    if (ol != 0 || memcmp(dct, rl->ct_digest, 32) != 0 || memcmp(dpt, rl->image_digest, 32) != 0)
        bench_die("baseline (digests of the decrypted bytes)", 0);
    return t;
}

/* ---- the steps alone, at a given granularity ------------------------------------------------------------ */

static tm_t time_verify(void)
{
    tm_t t0 = tm_start();
    verify_once();
    return tm_since(t0);
}

static tm_t time_kex(const release_t *rl)
{
    psa_key_id_t k = 0;
    tm_t t0 = tm_start();
    kex_once(rl, &k);
    BENCH_MUST(psa_destroy_key(k));
    return tm_since(t0);
}

static tm_t time_erase(const release_t *rl)
{
    tm_t t0 = tm_start();
    BENCH_MUST(fs38_flash_erase(&port, IMG_BASE, image_span(rl)));
    return tm_since(t0);
}

/* Program the plaintext in `chunk`-byte fs38_flash_program calls into the erased image area. */
static tm_t time_program(const release_t *rl, size_t chunk)
{
    BENCH_MUST(fs38_flash_erase(&port, IMG_BASE, image_span(rl)));
    tm_t t0 = tm_start();
    for (size_t off = 0; off < rl->n; off += chunk)
        BENCH_MUST(fs38_flash_program(&port, (uint32_t)(IMG_BASE + off), image + off, step(rl->n, off, chunk)));
    return tm_since(t0);
}

/* AES-128-CTR over the ciphertext in `chunk`-byte psa_cipher_update calls. */
static tm_t time_ctr(const release_t *rl, size_t chunk)
{
    psa_cipher_operation_t op;
    size_t o = 0;
    tm_t t0 = tm_start();
    ctr_start(rl, rl->cek, &op);
    for (size_t off = 0; off < rl->ct_len; off += chunk)
        BENCH_MUST(psa_cipher_update(&op, rl->ct + off, step(rl->ct_len, off, chunk), raw_pt, sizeof raw_pt, &o));
    BENCH_MUST(psa_cipher_finish(&op, raw_pt, sizeof raw_pt, &o));
    return tm_since(t0);
}

/* SHA-256 of the ciphertext and of the plaintext, in `chunk`-byte psa_hash_update calls. */
static tm_t time_sha(const release_t *rl, size_t chunk)
{
    uint8_t h[32];
    size_t hl = 0;
    tm_t t0 = tm_start();
    for (int pass = 0; pass < 2; pass++) {
        const uint8_t *p = pass ? image : rl->ct;
        psa_hash_operation_t op = PSA_HASH_OPERATION_INIT;
        BENCH_MUST(psa_hash_setup(&op, PSA_ALG_SHA_256));
        for (size_t off = 0; off < rl->n; off += chunk)
            BENCH_MUST(psa_hash_update(&op, p + off, step(rl->n, off, chunk)));
        BENCH_MUST(psa_hash_finish(&op, h, sizeof h, &hl));
    }
    return tm_since(t0);
}

/* The agent's state traffic for an n-byte image: a record at begin, one every
 * FS38_UPDATE_PROGRESS bytes, one at finish (each read + write), plus begin's counter read. */
static tm_t time_state(size_t n)
{
    fresh_state();
    size_t records = n / FS38_UPDATE_PROGRESS + 2;
    fs38_bootstate st;
    uint64_t counter = 0;
    tm_t t0 = tm_start();
    BENCH_MUST(port.counter_read(port.ctx, FS38_COUNTER_ROLLBACK, &counter));
    for (size_t i = 0; i < records; i++) {
        BENCH_MUST(fs38_bootstate_read(&port, STATE_OFF, STATE_SIZE, &st));
        st.dl_slot = (uint8_t)STAGING;
        st.dl_bytes = (uint64_t)i * FS38_UPDATE_PROGRESS;
        BENCH_MUST(fs38_bootstate_write(&port, STATE_OFF, STATE_SIZE, &st));
    }
    return tm_since(t0);
}

/* ---- stack ------------------------------------------------------------------------------------------- */

static void job_install(void *arg)
{
    install_or_die(arg, &upd);
}

static void job_baseline(void *arg)
{
    (void)time_baseline(arg);
}

static void job_verify(void *arg)
{
    (void)arg;
    verify_once();
}

static void job_kex(void *arg)
{
    psa_key_id_t k = 0;
    kex_once(arg, &k);
    BENCH_MUST(psa_destroy_key(k));
}

static void job_counter(void *arg)
{
    uint64_t v;
    (void)arg;
    BENCH_MUST(port.counter_read(port.ctx, FS38_COUNTER_ROLLBACK, &v));
}

/* ---- main ---------------------------------------------------------------------------------------------- */

static void label_of(size_t n, char *out, size_t cap)
{
    snprintf(out, cap, n >= MIB ? "%zu MiB" : "%zu KiB", n >= MIB ? n / MIB : n / KIB);
}

static psa_key_id_t gen_key(psa_key_usage_t usage, psa_algorithm_t alg, uint8_t pub[65])
{
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, usage);
    psa_set_key_algorithm(&at, alg);
    psa_key_id_t id = 0;
    size_t n = 0;
    BENCH_MUST(psa_generate_key(&at, &id));
    BENCH_MUST(psa_export_public_key(id, pub, 65, &n));
    if (n != 65)
        bench_die("psa_export_public_key (length)", (long)n);
    return id;
}

/* the measured series, each one sample per run */
enum {
    S_INST, S_BASE, S_VERIFY, S_KEX, S_ERASE, S_PROG, S_PROG_A, S_CTR, S_CTR_A, S_SHA, S_SHA_A, S_STATE, S_COUNT
};
#define MAX_RUNS 64

typedef struct {
    double wall[S_COUNT], cpu[S_COUNT]; /* medians */
    size_t runs;
    flash_stats fs;
} size_result;

static void medians(tm_t s[S_COUNT][MAX_RUNS], size_t runs, size_result *out)
{
    double v[MAX_RUNS];
    for (int k = 0; k < S_COUNT; k++) {
        for (size_t r = 0; r < runs; r++)
            v[r] = s[k][r].wall;
        out->wall[k] = bench_median(v, runs);
        for (size_t r = 0; r < runs; r++)
            v[r] = s[k][r].cpu;
        out->cpu[k] = bench_median(v, runs);
    }
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    size_t profile_mib = argc > 2 && strcmp(argv[1], "--profile") == 0 ? (size_t)strtoul(argv[2], NULL, 10) : 0;
    if (profile_mib * MIB > MAX_IMAGE || (argc > 1 && !quick && !profile_mib)) {
        fprintf(stderr, "usage: bench_update [--quick | --profile MIB]  (MIB <= %u)\n", MAX_IMAGE / MIB);
        return 2;
    }
    static const size_t sizes[] = { 1 * MIB, 16 * MIB };
    const size_t runs_for[] = { quick ? 5u : 15u, quick ? 3u : 7u };
    enum { NSIZES = sizeof sizes / sizeof sizes[0] };

    bench_set_name("bench_update");
    atexit(remove_flash_file);
    heap_debug = getenv("FS38_BENCH_HEAP_DEBUG") != NULL;
    /* keys: the vendor's signer (trust anchor), the device's ECDH key */
    BENCH_MUST(psa_crypto_init());
    uint8_t signer_pt[65], kid[FS38_KID_LEN];
    signer = gen_key(PSA_KEY_USAGE_SIGN_HASH, PSA_ALG_ECDSA(PSA_ALG_SHA_256), signer_pt);
    BENCH_MUST(fs38_key_id(signer_pt, sizeof signer_pt, kid));
    fs38_keyring_init(&trust);
    BENCH_MUST(fs38_keyring_add_p256(&trust, signer_pt, sizeof signer_pt));
    device_key = gen_key(PSA_KEY_USAGE_DERIVE, PSA_ALG_ECDH, device_pt);
    size_t sl = 0;
    memset(vhash, 0x3c, sizeof vhash);
    BENCH_MUST(psa_sign_hash(signer, PSA_ALG_ECDSA(PSA_ALG_SHA_256), vhash, sizeof vhash, vsig, sizeof vsig, &sl));

    image = malloc(MAX_IMAGE);
    if (!image)
        bench_die("malloc(image)", ENOMEM);
    bench_fill_random(image, MAX_IMAGE);

    /* the device: flash file, slots A and B, state region, the port's counters */
    char *path = flash_path;
    bench_tmp_path(path, sizeof flash_path, "bench-update", "flash");
    unlink(path);
    fs38_posix_config pc = { path, FLASH_SIZE, SECTOR, COUNTER_OFF, NULL };
    BENCH_MUST(fs38_posix_open(&posix, &pc, &port));
    memset(&cfg, 0, sizeof cfg);
    cfg.port = &port;
    cfg.trust = &trust;
    cfg.vendor_id = VENDOR;
    cfg.class_id = CLASS;
    cfg.slot[0] = (fs38_region){ 0, SLOT_SIZE };
    cfg.slot[1] = (fs38_region){ SLOT_SIZE, SLOT_SIZE };
    cfg.state = (fs38_region){ STATE_OFF, STATE_SIZE };
    BENCH_MUST(fs38_boot_init(&boot_ctx, &cfg));

    if (profile_mib) {
        static release_t rl;
        make_release(&rl, profile_mib * MIB, kid);
        install_or_die(&rl, &upd); /* warm-up */
        double t0 = bench_now_ms(), inst = 0;
        unsigned k = 0;
        while (bench_now_ms() - t0 < 5000.0) {
            inst += time_install(&rl, NULL).wall;
            k++;
        }
        printf("profile: %u installs of %zu MiB (POSIX port): %.3f ms each\n", k, profile_mib, inst / k);
        fs38_posix_close(&posix);
        unlink(path);
        return 0;
    }

    printf("fs38 update install vs. the raw operations it needs (medians; flash file %s)\n", path);
    printf("  install  = fs38_update_begin + fs38_update_write (%u-B chunks) + fs38_update_finish,\n"
           "             A128CTR + ECDH-ES+A128KW, ES256-signed envelope, fresh state each run\n", NET_CHUNK);
    printf("  baseline = 1 psa_verify_hash + ECDH + HKDF + KW unwrap + CEK import + erase of the image region\n"
           "             + per %u-B chunk: SHA-256(ct) + AES-CTR + SHA-256(pt) + fs38_flash_program, same port\n",
           NET_CHUNK);
    printf("  wall = CLOCK_MONOTONIC; cpu = CLOCK_THREAD_CPUTIME_ID (this thread's user + system time)\n\n");

    static release_t rel[NSIZES];
    static size_result res[NSIZES];
    static tm_t smp[S_COUNT][MAX_RUNS];

    printf("%-7s %4s  %9s %9s %7s  %9s %9s %7s  %10s %10s %7s\n", "image", "runs", "install", "baseline",
           "ratio", "install", "baseline", "ratio", "programmed", "erased", "flash");
    printf("%-7s %4s  %9s %9s %7s  %9s %9s %7s  %10s %10s %7s\n", "", "", "wall ms", "wall ms", "<=1.1", "cpu ms",
           "cpu ms", "<=1.1", "B/image B", "B/image B", "ops");
    for (size_t si = 0; si < NSIZES; si++) {
        size_t n = sizes[si], runs = runs_for[si];
        release_t *rl = &rel[si];
        make_release(rl, n, kid);
        kex_once(rl, &rl->cek);

        /* warm-up (page cache, lazy binding), and a check that the installed slot verifies */
        flash_stats fs;
        (void)time_install(rl, &fs);
        if (fs38_boot_verify_slot(&boot_ctx, STAGING) != FS38_OK) {
            fprintf(stderr, "bench_update: the installed slot does not verify: %s\n", boot_ctx.slot[STAGING].reason);
            bench_die("fs38_boot_verify_slot", 1);
        }
        (void)time_baseline(rl);

        for (size_t r = 0; r < runs; r++) { /* interleaved, so drift hits every series alike */
            smp[S_INST][r] = time_install(rl, &fs);
            smp[S_BASE][r] = time_baseline(rl);
            smp[S_VERIFY][r] = time_verify();
            smp[S_KEX][r] = time_kex(rl);
            smp[S_ERASE][r] = time_erase(rl);
            smp[S_PROG][r] = time_program(rl, NET_CHUNK);
            smp[S_PROG_A][r] = time_program(rl, FS38_UPDATE_CHUNK);
            smp[S_CTR][r] = time_ctr(rl, NET_CHUNK);
            smp[S_CTR_A][r] = time_ctr(rl, FS38_UPDATE_CHUNK);
            smp[S_SHA][r] = time_sha(rl, NET_CHUNK);
            smp[S_SHA_A][r] = time_sha(rl, FS38_UPDATE_CHUNK);
            smp[S_STATE][r] = time_state(n);
        }
        size_result *R = &res[si];
        medians(smp, runs, R);
        R->runs = runs;
        R->fs = fs; /* the same every run */

        char label[16];
        label_of(n, label, sizeof label);
        printf("%-7s %4zu  %9.3f %9.3f %7.3f  %9.3f %9.3f %7.3f  %10.5f %10.5f %7llu\n", label, runs,
               R->wall[S_INST], R->wall[S_BASE], R->wall[S_INST] / R->wall[S_BASE], R->cpu[S_INST], R->cpu[S_BASE],
               R->cpu[S_INST] / R->cpu[S_BASE], (double)fs.programmed / (double)n, (double)fs.erased / (double)n,
               (unsigned long long)fs.ops);
    }

    printf("\nflash traffic of one install (POSIX port statistics: bytes passed to program(), bytes erased):\n");
    for (size_t si = 0; si < NSIZES; si++) {
        size_t n = sizes[si], records = n / FS38_UPDATE_PROGRESS + 2;
        const flash_stats *f = &res[si].fs;
        char label[16];
        label_of(n, label, sizeof label);
        printf("  %-7s programmed %llu B = image %zu + %llu (envelope %zu + slot header %u + %zu state records of "
               "%u B = %zu)\n",
               label, (unsigned long long)f->programmed, n, (unsigned long long)(f->programmed - n), rel[si].env.len,
               FS38_SLOT_HEADER_SIZE, records, FS38_BOOTSTATE_RECORD,
               rel[si].env.len + FS38_SLOT_HEADER_SIZE + records * FS38_BOOTSTATE_RECORD);
        printf("  %-7s erased     %llu B = header sector + image %zu + %llu (state sector rotations)\n", "",
               (unsigned long long)f->erased, (size_t)IMAGE_OFFSET + n,
               (unsigned long long)(f->erased - IMAGE_OFFSET - n));
        printf("  %-7s %llu program/erase operations (the image is programmed in %u-B calls: %zu)\n", "",
               (unsigned long long)f->ops, FS38_UPDATE_CHUNK, n / FS38_UPDATE_CHUNK);
    }

    for (int clk = 0; clk < 2; clk++) {
        printf("\nthe steps alone, each its own pass (medians, %s ms): at %u B (the baseline's chunk) | at %u B "
               "(FS38_UPDATE_CHUNK)\n",
               clk ? "cpu" : "wall", NET_CHUNK, FS38_UPDATE_CHUNK);
        printf("%-7s %8s %8s %8s %8s %8s %8s %8s | %8s %8s %8s %8s\n", "image", "P-256", "ECDH+KW", "erase",
               "program", "AES-CTR", "SHA x2", "sum", "program", "AES-CTR", "SHA x2", "state");
        for (size_t si = 0; si < NSIZES; si++) {
            const double *m = clk ? res[si].cpu : res[si].wall;
            char label[16];
            label_of(sizes[si], label, sizeof label);
            printf("%-7s %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f | %8.3f %8.3f %8.3f %8.3f\n", label, m[S_VERIFY],
                   m[S_KEX], m[S_ERASE], m[S_PROG], m[S_CTR], m[S_SHA],
                   m[S_VERIFY] + m[S_KEX] + m[S_ERASE] + m[S_PROG] + m[S_CTR] + m[S_SHA], m[S_PROG_A], m[S_CTR_A],
                   m[S_SHA_A], m[S_STATE]);
        }
    }

    printf("\nwhere the excess goes (medians, ms; excess = install - baseline). The agent streams in\n"
           "FS38_UPDATE_CHUNK = %u-B steps whatever the caller's chunk (delta = a step at %u B minus at %u B),\n"
           "and keeps state records (every %u KiB: fs38_bootstate_read + fs38_bootstate_write, each a\n"
           "full scan of the 2-sector state region, 128 reads of 64 B + a SHA-256 per record).\n",
           FS38_UPDATE_CHUNK, FS38_UPDATE_CHUNK, NET_CHUNK, FS38_UPDATE_PROGRESS / KIB);
    printf("%-7s %5s %9s %10s %10s %10s %9s %11s %10s\n", "image", "clock", "excess", "d program", "d AES-CTR",
           "d SHA x2", "state", "unexplained", "ratio w/o");
    for (size_t si = 0; si < NSIZES; si++) {
        for (int clk = 0; clk < 2; clk++) {
            const double *m = clk ? res[si].cpu : res[si].wall;
            double excess = m[S_INST] - m[S_BASE], dp = m[S_PROG_A] - m[S_PROG], dc = m[S_CTR_A] - m[S_CTR],
                   ds = m[S_SHA_A] - m[S_SHA], explained = dp + dc + ds + m[S_STATE];
            char label[16];
            label_of(sizes[si], label, sizeof label);
            printf("%-7s %5s %+9.3f %+10.3f %+10.3f %+10.3f %+9.3f %+11.3f %10.3f\n", clk ? "" : label,
                   clk ? "cpu" : "wall", excess, dp, dc, ds, m[S_STATE], excess - explained,
                   (m[S_INST] - explained) / m[S_BASE]);
        }
    }
    printf("(ratio w/o = (install - the explained part) / baseline: what %u-B steps and no state records would "
           "give)\n", NET_CHUNK);

    /* ---- RAM ---- */
    release_t *rl1 = &rel[0]; /* 1 MiB: includes the progress records (the depth does not grow with size) */
    size_t hp_inst[3], hp_base[3], heap_left = 0;
    fresh_state();
    heap_track_start();
    install_or_die(rl1, &upd);
    size_t heap_install = heap_track_stop(&heap_left);
    memcpy(hp_inst, heap_phase_peak, sizeof hp_inst);
    heap_track_start();
    (void)time_baseline(rl1);
    size_t heap_base = heap_track_stop(NULL);
    memcpy(hp_base, heap_phase_peak, sizeof hp_base);
    fresh_state();
    size_t st_install = bench_stack_peak(job_install, rl1, NULL);
    size_t st_counter = bench_stack_peak(job_counter, NULL, NULL);
    fs38_port posix_port = port;
    port = ram_port(); /* cfg.port is &port: the agent and the baseline now run on RAM */
    fresh_state();
    probe.trace_stack = true;
    uintptr_t top_ram = 0;
    size_t st_install_ram = bench_stack_peak(job_install, rl1, &top_ram);
    probe.trace_stack = false;
    size_t st_at_port = bench_probe_depth(&probe, top_ram);
    size_t st_base_ram = bench_stack_peak(job_baseline, rl1, NULL);
    size_t st_verify = bench_stack_peak(job_verify, NULL, NULL);
    size_t st_kex = bench_stack_peak(job_kex, rl1, NULL);
    port = posix_port;

    printf("\nRAM of the agent (1 MiB install; payload chunks are the caller's buffers)\n");
    printf("  %-66s %7zu B\n", "sizeof(fs38_update_ctx) (caller-owned state)", sizeof(fs38_update_ctx));
    printf("  %-66s %7zu B\n", "  of which the begin-only manifest+runner / work buffer union (u)", sizeof upd.u);
    printf("  %-66s %7zu B\n", "  of which fs38_decryptor (dec)", sizeof upd.dec);
    printf("  %-66s %7zu B\n", "  of which two psa_hash_operation_t", 2 * sizeof upd.image_hash);
    printf("  %-66s %7zu B\n", "peak stack of begin + write + finish, POSIX port (painted stack)", st_install);
    printf("  %-66s %7zu B\n", "  the POSIX port's counter_read alone (4 KiB sector buffer)", st_counter);
    printf("  %-66s %7zu B\n", "peak stack of begin + write + finish, RAM port", st_install_ram);
    printf("  %-66s %7zu B\n", "  deepest fs38 frames at a port call (read/erase/program/counter)", st_at_port);
    printf("  %-66s %7zu B\n", "  the baseline's operations alone, RAM port (Mbed TLS)", st_base_ram);
    printf("  %-66s %7zu B\n", "    psa_verify_hash alone", st_verify);
    printf("  %-66s %7zu B\n", "    ECDH + HKDF + KW unwrap + CEK import alone", st_kex);
    printf("  %-66s %7zd B\n", "  the agent beyond Mbed TLS (RAM port: install - baseline)",
           (ssize_t)st_install_ram - (ssize_t)st_base_ram);
    printf("  %-66s %7zu B\n", "peak Mbed TLS heap during the install (calloc, live bytes)", heap_install);
    printf("  %-66s %7zu / %zu / %zu B\n", "  in begin / write / finish", hp_inst[0], hp_inst[1], hp_inst[2]);
    printf("  %-66s %7zu B\n", "  still allocated after finish", heap_left);
    printf("  %-66s %7zu B\n", "  the baseline's operations", heap_base);
    printf("  %-66s %7zu / %zu / %zu B\n", "  in verify / ECDH+KDF+KW+CEK import / stream", hp_base[0], hp_base[1],
           hp_base[2]);
    printf("  %-66s %7zu B\n", "agent total, RAM port: context + peak stack + peak heap",
           sizeof(fs38_update_ctx) + st_install_ram + heap_install);
    printf("  (static frames of libfs38's functions: the -fstack-usage .su files next to its objects)\n");

    fs38_posix_close(&posix);
    unlink(path);
    for (size_t si = 0; si < NSIZES; si++) {
        free(rel[si].ct);
        psa_destroy_key(rel[si].cek);
    }
    fs38_keyring_free(&trust);
    psa_destroy_key(signer);
    psa_destroy_key(device_key);
    free(image);
    free(ram_flash);
    return 0;
}
