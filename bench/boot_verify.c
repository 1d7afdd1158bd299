/* SPDX-License-Identifier: Apache-2.0 */
/*
 * boot_verify.c — how close secure-boot verification gets to the physical floor.
 *
 * For slots of 64 KiB, 1 MiB and 16 MiB, programmed with a signed boot envelope (the
 * standard boot manifest: vendor, class, image digest and size; ES256 by the SUIT example
 * key) and an image of pseudo-random bytes, it times
 *
 *   verify(file)   fs38_boot_verify_slot with the POSIX port (flash = a file in $TMPDIR or
 *                  /tmp, read with pread in FS38_BOOT_CHUNK-byte chunks), and
 *   verify(RAM)    the same through a RAM-backed port (memcpy reads, like memory-mapped
 *                  flash on a microcontroller), against
 *   floor          the physical floor measured in the same run: psa_hash_compute (SHA-256)
 *                  over the same image bytes already in RAM plus one psa_verify_hash (P-256)
 *                  with the same key,
 *
 * each the median of several runs (interleaved, CLOCK_MONOTONIC), and prints both times and
 * the ratio (goal <= 1.02). A breakdown shows where any excess goes: SHA-256 fed in chunks,
 * and the port's flash reads alone in 512-byte and 4 KiB chunks.
 *
 * Stack: each measured call runs on a thread whose 512 KiB stack (pthread_attr_setstack) was
 * painted beforehand; the depth below the thread function's frame that got touched is the
 * peak. The floor's peak (Mbed TLS alone) is measured the same way, and every PSA call fs38
 * makes passes through a --wrap shim recording the depth at the boundary, so fs38's own
 * frames are separated from Mbed TLS's. Goal: <= 1.5 KiB beyond Mbed TLS.
 *
 * Usage: bench_boot_verify [--quick]   (--quick: fewer runs)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <psa/crypto.h>
#include "fs38/boot.h"
#include "fs38/cbor.h"
#include "fs38/cose.h"
#include "fs38/util.h"
#include "bench_util.h"
#include "fs38_posix.h"
#include "fs38_ram.h"

#define KIB 1024u
#define MIB (1024u * 1024u)
#define SECTOR 4096u
#define MAX_IMAGE (16u * MIB)
#define SLOT_A_SIZE (MAX_IMAGE + FS38_SLOT_DEFAULT_IMAGE_OFFSET)
#define SLOT_B_SIZE (2u * SECTOR)
#define COUNTER_BYTES (FS38_POSIX_COUNTER_SECTORS * SECTOR)
#define FLASH_SIZE (SLOT_A_SIZE + SLOT_B_SIZE + COUNTER_BYTES)

static const char EXAMPLE_D[] = "0296588d909418b339d150420a3612b57fb4f631a69f224fae90cb4f3fe18973";
static const char EXAMPLE_PUB[] = "048496811aae0baaabd26157189eecda26beaa8bf11b6f3fe6e2b5659c85dbc0ad"
                                  "3b1f2a4b6c098131c0a36dacd1d78bd381dcdfb09c052db33991db7338b4a896";
static const uint8_t VENDOR[16] = { 0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad, 0x5f, 0xdf,
                                    0xbe, 0x9d, 0xe6, 0x63, 0xe4, 0xd4, 0x1f, 0xfe };
static const uint8_t CLASS[16] = { 0x14, 0x92, 0xaf, 0x14, 0x25, 0x69, 0x5e, 0x48,
                                   0xbf, 0x42, 0x9b, 0x2d, 0x51, 0xf2, 0xab, 0x45 };

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; hex[0] && hex[1] && n < cap; hex += 2) {
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1)
            return 0;
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* ---- PSA boundary shims (GNU ld --wrap, see CMakeLists.txt) ---------------------------------- */

psa_status_t __real_psa_verify_hash(mbedtls_svc_key_id_t key, psa_algorithm_t alg, const uint8_t *hash,
                                    size_t hash_length, const uint8_t *signature, size_t signature_length);
psa_status_t __real_psa_hash_compute(psa_algorithm_t alg, const uint8_t *input, size_t input_length, uint8_t *hash,
                                     size_t hash_size, size_t *hash_length);
psa_status_t __real_psa_hash_setup(psa_hash_operation_t *operation, psa_algorithm_t alg);
psa_status_t __real_psa_hash_update(psa_hash_operation_t *operation, const uint8_t *input, size_t input_length);
psa_status_t __real_psa_hash_finish(psa_hash_operation_t *operation, uint8_t *hash, size_t hash_size,
                                    size_t *hash_length);
psa_status_t __real_psa_hash_abort(psa_hash_operation_t *operation);
psa_status_t __wrap_psa_verify_hash(mbedtls_svc_key_id_t key, psa_algorithm_t alg, const uint8_t *hash,
                                    size_t hash_length, const uint8_t *signature, size_t signature_length);
psa_status_t __wrap_psa_hash_compute(psa_algorithm_t alg, const uint8_t *input, size_t input_length, uint8_t *hash,
                                     size_t hash_size, size_t *hash_length);
psa_status_t __wrap_psa_hash_setup(psa_hash_operation_t *operation, psa_algorithm_t alg);
psa_status_t __wrap_psa_hash_update(psa_hash_operation_t *operation, const uint8_t *input, size_t input_length);
psa_status_t __wrap_psa_hash_finish(psa_hash_operation_t *operation, uint8_t *hash, size_t hash_size,
                                    size_t *hash_length);
psa_status_t __wrap_psa_hash_abort(psa_hash_operation_t *operation);

enum { P_VERIFY, P_COMPUTE, P_SETUP, P_UPDATE, P_FINISH, P_ABORT, P_COUNT };
static const char *const psa_names[P_COUNT] = { "psa_verify_hash", "psa_hash_compute", "psa_hash_setup",
                                                "psa_hash_update", "psa_hash_finish", "psa_hash_abort" };
static int tracking;          /* record boundary depths (only while the verifier is measured) */
static unsigned psa_nesting;  /* only the outermost PSA call is fs38's */
static uintptr_t psa_min_sp[P_COUNT];

static void note_psa(int fn, uintptr_t sp)
{
    if (tracking && psa_nesting == 0 && sp < psa_min_sp[fn])
        psa_min_sp[fn] = sp;
}

#define SHIM(fn, call)                                                                            \
    do {                                                                                          \
        note_psa(fn, (uintptr_t)__builtin_frame_address(0));                                      \
        psa_nesting++;                                                                            \
        psa_status_t st_ = (call);                                                                \
        psa_nesting--;                                                                            \
        return st_;                                                                               \
    } while (0)

psa_status_t __wrap_psa_verify_hash(mbedtls_svc_key_id_t key, psa_algorithm_t alg, const uint8_t *hash,
                                    size_t hash_length, const uint8_t *signature, size_t signature_length)
{
    SHIM(P_VERIFY, __real_psa_verify_hash(key, alg, hash, hash_length, signature, signature_length));
}

psa_status_t __wrap_psa_hash_compute(psa_algorithm_t alg, const uint8_t *input, size_t input_length, uint8_t *hash,
                                     size_t hash_size, size_t *hash_length)
{
    SHIM(P_COMPUTE, __real_psa_hash_compute(alg, input, input_length, hash, hash_size, hash_length));
}

psa_status_t __wrap_psa_hash_setup(psa_hash_operation_t *operation, psa_algorithm_t alg)
{
    SHIM(P_SETUP, __real_psa_hash_setup(operation, alg));
}

psa_status_t __wrap_psa_hash_update(psa_hash_operation_t *operation, const uint8_t *input, size_t input_length)
{
    SHIM(P_UPDATE, __real_psa_hash_update(operation, input, input_length));
}

psa_status_t __wrap_psa_hash_finish(psa_hash_operation_t *operation, uint8_t *hash, size_t hash_size,
                                    size_t *hash_length)
{
    SHIM(P_FINISH, __real_psa_hash_finish(operation, hash, hash_size, hash_length));
}

psa_status_t __wrap_psa_hash_abort(psa_hash_operation_t *operation)
{
    SHIM(P_ABORT, __real_psa_hash_abort(operation));
}

/* ---- flash ports --------------------------------------------------------------------------------- */

static fs38_posix posix;
static fs38_port file_port; /* the POSIX port, untouched (timings) */
static uint8_t *ram_flash;
static fs38_ram ram;        /* port/ram: memcpy reads, counters in RAM */
static fs38_port ram_port;
static bench_probe probe;   /* records fs38's stack depth at the port (stack runs) */

static void ram_port_init(void)
{
    ram_flash = malloc(FLASH_SIZE);
    if (!ram_flash)
        bench_die("malloc(flash)", ENOMEM);
    fs38_ram_config rc = { .flash = ram_flash, .flash_size = FLASH_SIZE, .sector_size = SECTOR };
    BENCH_MUST(fs38_ram_init(&ram, &rc, &ram_port));
}

/* ---- the signed boot envelope (what `fs38 sign` makes; tests/support.c does the same) --------- */

static size_t finish(const fs38_cbor_enc *e)
{
    size_t n = 0;
    BENCH_MUST(fs38_cbor_enc_finish(e, &n));
    return n;
}

static size_t boot_envelope(psa_key_id_t signer, const uint8_t digest[32], uint64_t size, uint8_t *out, size_t cap)
{
    uint8_t dg[40], shared[128], common[192], man[512], sdg[40], sig[160], auth[256];
    fs38_cbor_enc e;
    fs38_cbor_enc_init(&e, dg, sizeof dg);
    fs38_cbor_put_array(&e, 2);
    fs38_cbor_put_int(&e, FS38_SUIT_ALG_SHA256);
    fs38_cbor_put_bstr(&e, digest, 32);
    size_t dg_len = finish(&e);

    fs38_cbor_enc_init(&e, shared, sizeof shared);
    fs38_cbor_put_array(&e, 6);
    fs38_cbor_put_uint(&e, FS38_SUIT_DIR_OVERRIDE_PARAMETERS);
    fs38_cbor_put_map(&e, 4);
    fs38_cbor_put_uint(&e, FS38_SUIT_PARAM_VENDOR_ID);
    fs38_cbor_put_bstr(&e, VENDOR, 16);
    fs38_cbor_put_uint(&e, FS38_SUIT_PARAM_CLASS_ID);
    fs38_cbor_put_bstr(&e, CLASS, 16);
    fs38_cbor_put_uint(&e, FS38_SUIT_PARAM_IMAGE_DIGEST);
    fs38_cbor_put_bstr(&e, dg, dg_len);
    fs38_cbor_put_uint(&e, FS38_SUIT_PARAM_IMAGE_SIZE);
    fs38_cbor_put_uint(&e, size);
    fs38_cbor_put_uint(&e, FS38_SUIT_COND_VENDOR_ID);
    fs38_cbor_put_uint(&e, 15);
    fs38_cbor_put_uint(&e, FS38_SUIT_COND_CLASS_ID);
    fs38_cbor_put_uint(&e, 15);
    size_t shared_len = finish(&e);

    fs38_cbor_enc_init(&e, common, sizeof common);
    fs38_cbor_put_map(&e, 2);
    fs38_cbor_put_uint(&e, FS38_SUIT_COMMON_COMPONENTS);
    fs38_cbor_put_array(&e, 1);
    fs38_cbor_put_array(&e, 1);
    fs38_cbor_put_bstr(&e, (const uint8_t *)"firmware", 8);
    fs38_cbor_put_uint(&e, FS38_SUIT_COMMON_SHARED_SEQ);
    fs38_cbor_put_bstr(&e, shared, shared_len);
    size_t common_len = finish(&e);

    static const uint8_t validate[] = { 0x82, 0x03, 0x0f }; /* [image-match, 15] */
    static const uint8_t invoke[] = { 0x82, 0x17, 0x02 };   /* [invoke, 2] */
    fs38_cbor_enc_init(&e, man, sizeof man);
    fs38_cbor_put_map(&e, 5);
    fs38_cbor_put_uint(&e, FS38_SUIT_MAN_VERSION);
    fs38_cbor_put_uint(&e, 1);
    fs38_cbor_put_uint(&e, FS38_SUIT_MAN_SEQUENCE);
    fs38_cbor_put_uint(&e, 1);
    fs38_cbor_put_uint(&e, FS38_SUIT_MAN_COMMON);
    fs38_cbor_put_bstr(&e, common, common_len);
    fs38_cbor_put_uint(&e, FS38_SUIT_SEQ_VALIDATE);
    fs38_cbor_put_bstr(&e, validate, sizeof validate);
    fs38_cbor_put_uint(&e, FS38_SUIT_SEQ_INVOKE);
    fs38_cbor_put_bstr(&e, invoke, sizeof invoke);
    size_t man_len = finish(&e);

    /* SUIT_Digest over the bstr-wrapped manifest, signed (detached) with COSE_Sign1 */
    uint8_t head[9], h[32];
    size_t hl = fs38_cbor_encode_head(FS38_CBOR_BSTR, man_len, head);
    psa_hash_operation_t op = PSA_HASH_OPERATION_INIT;
    size_t olen = 0;
    BENCH_MUST(psa_hash_setup(&op, PSA_ALG_SHA_256));
    BENCH_MUST(psa_hash_update(&op, head, hl));
    BENCH_MUST(psa_hash_update(&op, man, man_len));
    BENCH_MUST(psa_hash_finish(&op, h, sizeof h, &olen));
    fs38_cbor_enc_init(&e, sdg, sizeof sdg);
    fs38_cbor_put_array(&e, 2);
    fs38_cbor_put_int(&e, FS38_SUIT_ALG_SHA256);
    fs38_cbor_put_bstr(&e, h, 32);
    size_t sdg_len = finish(&e);
    size_t sig_len = 0;
    BENCH_MUST(fs38_cose_sign1_sign(signer, FS38_COSE_ALG_ES256, NULL, 0, sdg, sdg_len, true, sig, sizeof sig, &sig_len));
    fs38_cbor_enc_init(&e, auth, sizeof auth);
    fs38_cbor_put_array(&e, 2);
    fs38_cbor_put_bstr(&e, sdg, sdg_len);
    fs38_cbor_put_bstr(&e, sig, sig_len);
    size_t auth_len = finish(&e);

    fs38_cbor_enc_init(&e, out, cap);
    fs38_cbor_put_tag(&e, FS38_SUIT_TAG_ENVELOPE);
    fs38_cbor_put_map(&e, 2);
    fs38_cbor_put_uint(&e, FS38_SUIT_ENV_AUTH);
    fs38_cbor_put_bstr(&e, auth, auth_len);
    fs38_cbor_put_uint(&e, FS38_SUIT_ENV_MANIFEST);
    fs38_cbor_put_bstr(&e, man, man_len);
    return finish(&e);
}

/* ---- state ---------------------------------------------------------------------------------------- */

static fs38_keyring kr;
static psa_key_id_t signer;
static uint8_t *image;
static uint8_t floor_hash[32], floor_sig[64];
static fs38_boot_ctx ctx_file, ctx_ram, ctx_traced;
static fs38_boot_config make_cfg(const fs38_port *port);
static void verify_or_die(fs38_boot_ctx *ctx);

static fs38_boot_config make_cfg(const fs38_port *port)
{
    fs38_boot_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.port = port;
    cfg.trust = &kr;
    cfg.vendor_id = VENDOR;
    cfg.class_id = CLASS;
    cfg.slot[0].offset = 0;
    cfg.slot[0].size = SLOT_A_SIZE;
    cfg.slot[1].offset = SLOT_A_SIZE;
    cfg.slot[1].size = SLOT_B_SIZE;
    return cfg;
}

static void verify_or_die(fs38_boot_ctx *ctx)
{
    fs38_err e = fs38_boot_verify_slot(ctx, 0);
    if (e) {
        fprintf(stderr, "bench_boot_verify: slot does not verify: %s\n", ctx->slot[0].reason);
        exit(1);
    }
}

static double time_verify(fs38_boot_ctx *ctx)
{
    double t0 = bench_now_ms();
    fs38_err e = fs38_boot_verify_slot(ctx, 0);
    double t1 = bench_now_ms();
    if (e)
        bench_die("fs38_boot_verify_slot", e);
    return t1 - t0;
}

static void floor_once(size_t n, double *t_hash, double *t_ver)
{
    uint8_t h[32];
    size_t hl = 0;
    double t0 = bench_now_ms();
    BENCH_MUST(psa_hash_compute(PSA_ALG_SHA_256, image, n, h, sizeof h, &hl));
    double t1 = bench_now_ms();
    BENCH_MUST(psa_verify_hash(kr.a[0].key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), floor_hash, 32, floor_sig, 64));
    double t2 = bench_now_ms();
    *t_hash = t1 - t0;
    *t_ver = t2 - t1;
}

/* SHA-256 of the RAM image fed in FS38_BOOT_CHUNK-byte updates (what slot_digest does, minus I/O). */
static double time_chunked_hash(size_t n)
{
    psa_hash_operation_t op = PSA_HASH_OPERATION_INIT;
    uint8_t h[32];
    size_t hl = 0;
    double t0 = bench_now_ms();
    BENCH_MUST(psa_hash_setup(&op, PSA_ALG_SHA_256));
    for (size_t off = 0; off < n; off += FS38_BOOT_CHUNK)
        BENCH_MUST(psa_hash_update(&op, image + off, n - off < FS38_BOOT_CHUNK ? n - off : FS38_BOOT_CHUNK));
    BENCH_MUST(psa_hash_finish(&op, h, sizeof h, &hl));
    return bench_now_ms() - t0;
}

/* A port's reads of the image alone, in `chunk`-byte reads through fs38_flash_read. */
static double time_reads(const fs38_port *port, size_t n, size_t chunk)
{
    static uint8_t buf[64 * KIB];
    double t0 = bench_now_ms();
    for (size_t off = 0; off < n; off += chunk)
        BENCH_MUST(fs38_flash_read(port, (uint32_t)(FS38_SLOT_DEFAULT_IMAGE_OFFSET + off), buf,
                             n - off < chunk ? n - off : chunk));
    return bench_now_ms() - t0;
}

/* ---- stack ------------------------------------------------------------------------------------------ */

static void job_verify(void *arg)
{
    (void)arg;
    verify_or_die(&ctx_traced);
}

typedef struct {
    size_t peak, at_port;
    size_t at_psa[P_COUNT]; /* fs38's depth at each PSA entry point (0: not called) */
} verify_stack;

/* Peak of fs38_boot_verify_slot through `base` (traced), slot A programmed with `env`. */
static verify_stack measure_verify(const fs38_port *base, const uint8_t *env, size_t env_len, size_t n)
{
    bench_probe_init(&probe, base);
    fs38_boot_config cfg = make_cfg(&probe.port);
    BENCH_MUST(fs38_slot_program(&cfg, 0, env, env_len, image, n));
    BENCH_MUST(fs38_boot_init(&ctx_traced, &cfg));
    verify_or_die(&ctx_traced); /* once untimed: lazy binding, first-use paths */
    uintptr_t top = 0;
    for (int i = 0; i < P_COUNT; i++)
        psa_min_sp[i] = UINTPTR_MAX;
    tracking = 1;
    probe.trace_stack = true;
    verify_stack v;
    v.peak = bench_stack_peak(job_verify, NULL, &top);
    probe.trace_stack = false;
    tracking = 0;
    for (int i = 0; i < P_COUNT; i++)
        v.at_psa[i] = psa_min_sp[i] != UINTPTR_MAX && top > psa_min_sp[i] ? (size_t)(top - psa_min_sp[i]) : 0;
    v.at_port = bench_probe_depth(&probe, top);
    return v;
}

static void job_floor(void *arg)
{
    size_t n = *(const size_t *)arg;
    double a, b;
    floor_once(n, &a, &b);
}

static void job_psa_verify(void *arg)
{
    (void)arg;
    BENCH_MUST(psa_verify_hash(kr.a[0].key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), floor_hash, 32, floor_sig, 64));
}

static void job_chunked_hash(void *arg)
{
    (void)time_chunked_hash(*(const size_t *)arg);
}

/* ---- main ---------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    bench_set_name("bench_boot_verify");
    /* --profile KIB: only fs38_boot_verify_slot (POSIX port) on a KIB slot, in a loop for ~3 s,
     * for `perf record` / `perf stat` */
    size_t profile_kib = argc > 2 && strcmp(argv[1], "--profile") == 0 ? (size_t)strtoul(argv[2], NULL, 10) : 0;
    if (profile_kib * KIB > MAX_IMAGE || (argc > 1 && !quick && !profile_kib)) {
        fprintf(stderr, "usage: bench_boot_verify [--quick | --profile KIB]  (KIB <= %u)\n", MAX_IMAGE / KIB);
        return 2;
    }
    static const size_t sizes[] = { 64 * KIB, 1 * MIB, 16 * MIB };
    const size_t runs_for[] = { quick ? 11u : 51u, quick ? 5u : 21u, quick ? 3u : 11u };
    enum { NSIZES = sizeof sizes / sizeof sizes[0] };

    BENCH_MUST(psa_crypto_init());
    fs38_keyring_init(&kr);
    uint8_t pt[65], d[32];
    if (unhex(EXAMPLE_PUB, pt, sizeof pt) != 65 || unhex(EXAMPLE_D, d, sizeof d) != 32)
        bench_die("unhex", 0);
    BENCH_MUST(fs38_keyring_add_p256(&kr, pt, sizeof pt));
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_SIGN_HASH);
    psa_set_key_algorithm(&at, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    BENCH_MUST(psa_import_key(&at, d, sizeof d, &signer));
    size_t sl = 0;
    memset(floor_hash, 0x3c, sizeof floor_hash);
    BENCH_MUST(psa_sign_hash(signer, PSA_ALG_ECDSA(PSA_ALG_SHA_256), floor_hash, 32, floor_sig, sizeof floor_sig, &sl));

    image = malloc(MAX_IMAGE);
    if (!image)
        bench_die("malloc(image)", ENOMEM);
    bench_fill_random(image, MAX_IMAGE);

    char path[512];
    bench_tmp_path(path, sizeof path, "bench", "flash");
    unlink(path);
    fs38_posix_config pc = { path, FLASH_SIZE, SECTOR, FLASH_SIZE - COUNTER_BYTES, NULL };
    BENCH_MUST(fs38_posix_open(&posix, &pc, &file_port));
    ram_port_init();
    fs38_boot_config cfg_file = make_cfg(&file_port), cfg_ram = make_cfg(&ram_port);
    uint8_t stack_env[FS38_ENVELOPE_MAX];
    size_t stack_env_len = 0, stack_n = 64 * KIB;

    if (profile_kib) {
        size_t n = profile_kib * KIB;
        uint8_t digest[32], env[FS38_ENVELOPE_MAX];
        BENCH_MUST(fs38_sha256(image, n, digest));
        size_t env_len = boot_envelope(signer, digest, n, env, sizeof env);
        BENCH_MUST(fs38_slot_program(&cfg_file, 0, env, env_len, image, n));
        BENCH_MUST(fs38_boot_init(&ctx_file, &cfg_file));
        double t0 = bench_now_ms(), t = 0;
        unsigned k = 0;
        while ((t = bench_now_ms() - t0) < 3000.0) {
            verify_or_die(&ctx_file);
            k++;
        }
        printf("profile: %u x fs38_boot_verify_slot(%zu KiB, POSIX port): %.3f ms each\n", k, profile_kib, t / k);
        fs38_posix_close(&posix);
        unlink(path);
        return 0;
    }
    printf("fs38 boot verification vs. the physical floor (medians; flash file %s, FS38_BOOT_CHUNK %u B)\n",
           path, FS38_BOOT_CHUNK);
    printf("  floor = psa_hash_compute(SHA-256) over the image in RAM + one psa_verify_hash (P-256)\n\n");
    printf("%-8s %5s  %11s %11s  %11s %9s %9s  %8s %8s\n", "slot", "runs", "verify(file)", "verify(RAM)",
           "floor", "SHA-256", "P-256", "file/fl", "RAM/fl");
    printf("%-8s %5s  %11s %11s  %11s %9s %9s  %8s %8s\n", "", "", "ms", "ms", "ms", "ms", "ms", "goal", "<=1.02");

    struct {
        double vf, vr, fl, sha, ver, chunked, rd512, rd4k, ram512;
    } res[NSIZES];
    for (size_t si = 0; si < NSIZES; si++) {
        size_t n = sizes[si], runs = runs_for[si];
        uint8_t digest[32], env[FS38_ENVELOPE_MAX];
        BENCH_MUST(fs38_sha256(image, n, digest));
        size_t env_len = boot_envelope(signer, digest, n, env, sizeof env);
        BENCH_MUST(fs38_slot_program(&cfg_file, 0, env, env_len, image, n));
        BENCH_MUST(fs38_slot_program(&cfg_ram, 0, env, env_len, image, n));
        BENCH_MUST(fs38_boot_init(&ctx_file, &cfg_file));
        BENCH_MUST(fs38_boot_init(&ctx_ram, &cfg_ram));
        verify_or_die(&ctx_file); /* warm-up: page cache, caches, branch predictors */
        verify_or_die(&ctx_ram);

        double *vf = calloc(runs, sizeof *vf), *vr = calloc(runs, sizeof *vr), *fl = calloc(runs, sizeof *fl),
               *sha = calloc(runs, sizeof *sha), *ver = calloc(runs, sizeof *ver), *ch = calloc(runs, sizeof *ch),
               *r512 = calloc(runs, sizeof *r512), *r4k = calloc(runs, sizeof *r4k),
               *m512 = calloc(runs, sizeof *m512);
        if (!vf || !vr || !fl || !sha || !ver || !ch || !r512 || !r4k || !m512)
            bench_die("calloc", ENOMEM);
        for (size_t r = 0; r < runs; r++) { /* interleaved, so drift hits every series alike */
            vf[r] = time_verify(&ctx_file);
            floor_once(n, &sha[r], &ver[r]);
            fl[r] = sha[r] + ver[r];
            vr[r] = time_verify(&ctx_ram);
            ch[r] = time_chunked_hash(n);
            r512[r] = time_reads(&file_port, n, 512);
            r4k[r] = time_reads(&file_port, n, 4096);
            m512[r] = time_reads(&ram_port, n, 512);
        }
        res[si].vf = bench_median(vf, runs);
        res[si].vr = bench_median(vr, runs);
        res[si].fl = bench_median(fl, runs);
        res[si].sha = bench_median(sha, runs);
        res[si].ver = bench_median(ver, runs);
        res[si].chunked = bench_median(ch, runs);
        res[si].rd512 = bench_median(r512, runs);
        res[si].rd4k = bench_median(r4k, runs);
        res[si].ram512 = bench_median(m512, runs);
        free(vf), free(vr), free(fl), free(sha), free(ver), free(ch), free(r512), free(r4k), free(m512);

        char label[16];
        snprintf(label, sizeof label, n >= MIB ? "%zu MiB" : "%zu KiB", n >= MIB ? n / MIB : n / KIB);
        printf("%-8s %5zu  %11.3f %11.3f  %11.3f %9.3f %9.3f  %8.3f %8.3f\n", label, runs, res[si].vf, res[si].vr,
               res[si].fl, res[si].sha, res[si].ver, res[si].vf / res[si].fl, res[si].vr / res[si].fl);
        if (n == stack_n) { /* stack runs use this slot (the depth does not depend on the size) */
            memcpy(stack_env, env, env_len);
            stack_env_len = env_len;
        }
    }

    printf("\nwhere the excess goes (medians, ms). excess = verify - floor. reads = the port's reads of the image\n"
           "alone through fs38_flash_read: POSIX (pread per call) in 512-B (FS38_BOOT_CHUNK) and 4 KiB chunks,\n"
           "RAM (memcpy) in 512-B chunks. SHA feed = SHA-256 in %u-B psa_hash_update calls from RAM minus the\n"
           "one-shot psa_hash_compute of the floor.\n", FS38_BOOT_CHUNK);
    printf("%-8s %12s %12s %11s %11s %9s %10s %9s %9s\n", "slot", "excess(file)", "excess(RAM)", "file 512B",
           "file 4KiB", "us/read", "RAM 512B", "SHA feed", "SHA MiB/s");
    for (size_t si = 0; si < NSIZES; si++) {
        size_t n = sizes[si];
        char label[16];
        snprintf(label, sizeof label, n >= MIB ? "%zu MiB" : "%zu KiB", n >= MIB ? n / MIB : n / KIB);
        printf("%-8s %+12.3f %+12.3f %11.3f %11.3f %9.3f %10.3f %+9.3f %9.0f\n", label, res[si].vf - res[si].fl,
               res[si].vr - res[si].fl, res[si].rd512, res[si].rd4k, res[si].rd512 * 1e3 / (double)((n + 511) / 512),
               res[si].ram512, res[si].chunked - res[si].sha, (double)n / MIB / (res[si].sha / 1e3));
    }
    printf("projected verify(file)/floor with FS38_BOOT_CHUNK 4096 (verify - file512 + file4KiB):");
    for (size_t si = 0; si < NSIZES; si++)
        printf(" %.3f", (res[si].vf - res[si].rd512 + res[si].rd4k) / res[si].fl);
    printf("\nstrict floor (the faster SHA feed + one verify), verify(file) / verify(RAM) against it:");
    for (size_t si = 0; si < NSIZES; si++) {
        double strict = (res[si].chunked < res[si].sha ? res[si].chunked : res[si].sha) + res[si].ver;
        printf(" %.3f/%.3f", res[si].vf / strict, res[si].vr / strict);
    }
    printf("\n");

    /* ---- stack ---- */
    verify_stack vr = measure_verify(&ram_port, stack_env, stack_env_len, stack_n);
    verify_stack vf = measure_verify(&file_port, stack_env, stack_env_len, stack_n);
    size_t peak_floor = bench_stack_peak(job_floor, &stack_n, NULL);
    size_t peak_psa_verify = bench_stack_peak(job_psa_verify, NULL, NULL);
    size_t peak_chunked = bench_stack_peak(job_chunked_hash, &stack_n, NULL);
    size_t mbed = peak_floor > peak_chunked ? peak_floor : peak_chunked;
    printf("\npeak stack (bytes touched on a painted %u KiB thread stack, below the thread function)\n",
           BENCH_STACK_BYTES / KIB);
    printf("  %-64s %6zu B\n", "Mbed TLS: psa_hash_compute + psa_verify_hash (the floor)", peak_floor);
    printf("  %-64s %6zu B\n", "  psa_verify_hash alone", peak_psa_verify);
    printf("  %-64s %6zu B\n", "  psa_hash_setup/update/finish in 512-B chunks alone", peak_chunked);
    printf("  %-64s %6zu B\n", "fs38_boot_verify_slot, RAM port (memcpy reads, counter in RAM)", vr.peak);
    printf("  %-64s %6zd B  (goal <= 1536)\n", "  beyond Mbed TLS: that peak - Mbed TLS's", (ssize_t)vr.peak - (ssize_t)mbed);
    printf("  fs38's own frames (its depth when entering Mbed TLS / the port):\n");
    for (int i = 0; i < P_COUNT; i++)
        if (vr.at_psa[i]) {
            char what[80];
            snprintf(what, sizeof what, "    at %s", psa_names[i]);
            printf("  %-64s %6zu B\n", what, vr.at_psa[i]);
        }
    printf("  %-64s %6zu B\n", "    at the port's flash_read / counter_read", vr.at_port);
    printf("  %-64s %6zu B\n", "fs38_boot_verify_slot, POSIX port", vf.peak);
    printf("  %-64s %6zd B\n", "  the POSIX port's own part (counter_scan: 4 KiB sector on stack)",
           (ssize_t)vf.peak - (ssize_t)vf.at_port);
    printf("  (static frames of fs38's functions: scripts/bench.sh lists them from the -fstack-usage files)\n");

    fs38_posix_close(&posix);
    unlink(path);
    fs38_keyring_free(&kr);
    psa_destroy_key(signer);
    free(image);
    free(ram_flash);
    return 0;
}
