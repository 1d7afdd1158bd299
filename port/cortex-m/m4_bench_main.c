/* SPDX-License-Identifier: Apache-2.0 */
/*
 * m4_bench_main.c — fs38-boot-bench.elf: the boot-time goal of the Cortex-M4 port. Built from
 * the bootloader's very objects (same libfs38 profile, same Mbed TLS), run under
 * `qemu-system-arm -icount shift=0` so that the virtual clock advances exactly 1 ns per
 * instruction; the CMSDK timer 0 (25 MHz) then counts one tick per 40 instructions.
 *
 * It times fs38_boot_verify_slot() on slot B (a 256 KiB image), then the floor: SHA-256 over
 * the same 256 KiB (psa_hash_compute) plus one ECDSA P-256 verification (psa_verify_hash with
 * the trust anchor, on a signature of the right shape that does not verify: p256-m does the
 * whole computation before comparing), and prints both and their ratio.
 */
#include <string.h>
#include <psa/crypto.h>
#include "fs38/boot.h"
#include "fs38_m4.h"
#include "m4_rom.h"

#define TIMER0_CTRL (*(volatile uint32_t *)0x40000000u)
#define TIMER0_VALUE (*(volatile uint32_t *)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t *)0x40000008u)
#define INSN_PER_TICK 40u /* -icount shift=0: 1 ns per instruction; timer at 25 MHz */

static fs38_port g_port;
static fs38_keyring g_trust;
static fs38_boot_ctx g_boot;

psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *ctx, uint8_t *out,
                                             size_t size, size_t *len);
psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *ctx, uint8_t *out,
                                             size_t size, size_t *len)
{
    (void)ctx;
    (void)out;
    (void)size;
    *len = 0;
    return PSA_ERROR_INSUFFICIENT_ENTROPY;
}

static uint32_t now(void)
{
    return TIMER0_VALUE; /* counts down */
}

static void report(const char *what, uint32_t ticks)
{
    m4_puts(what);
    m4_putu((uint64_t)ticks * INSN_PER_TICK);
    m4_puts(" instructions\n");
}

int main(void)
{
    TIMER0_CTRL = 0;
    TIMER0_RELOAD = 0xFFFFFFFFu;
    TIMER0_VALUE = 0xFFFFFFFFu;
    TIMER0_CTRL = 1u;
    if (m4_port_init(&g_port, 1, NULL) != FS38_OK || psa_crypto_init() != PSA_SUCCESS)
        return 2;
    fs38_keyring_init(&g_trust);
    fs38_boot_config cfg = {
        .port = &g_port,
        .trust = &g_trust,
        .vendor_id = m4_rom_vendor_id,
        .class_id = m4_rom_class_id,
        .slot = {{M4_SLOT_A, M4_SLOT_SIZE}, {M4_SLOT_B, M4_SLOT_SIZE}},
        .image_offset = M4_IMAGE_OFFSET,
        .state = {M4_STATE, 2u * M4_SECTOR},
        .require_slot = true, /* execute in place: an image runs only from the slot it is linked for */
    };
    if (fs38_keyring_add_p256(&g_trust, m4_rom_trust, sizeof m4_rom_trust) != FS38_OK ||
        fs38_boot_init(&g_boot, &cfg) != FS38_OK)
        return 2;

    uint32_t t0 = now();
    fs38_err e = fs38_boot_verify_slot(&g_boot, 1);
    uint32_t t1 = now();
    if (e != FS38_OK) {
        m4_puts("bench: slot B does not verify\n");
        return 1;
    }
    uint32_t len = g_boot.slot[1].image_size;
    const uint8_t *img = (const uint8_t *)(M4_FLASH_BASE + M4_SLOT_B + M4_IMAGE_OFFSET);

    uint8_t h[32], sig[64];
    size_t hl = 0;
    memset(sig, 0x5a, sizeof sig); /* r, s in [1, n-1]: the full verification runs, then fails */
    uint32_t t2 = now();
    psa_status_t st = psa_hash_compute(PSA_ALG_SHA_256, img, len, h, sizeof h, &hl);
    psa_status_t sv = psa_verify_hash(g_trust.a[0].key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), h, 32, sig, 64);
    uint32_t t3 = now();
    if (st != PSA_SUCCESS || sv != PSA_ERROR_INVALID_SIGNATURE) {
        m4_puts("bench: baseline failed\n");
        return 1;
    }
    uint32_t verify = t0 - t1, floor = t2 - t3;
    m4_puts("bench: image ");
    m4_putu(len);
    m4_puts(" bytes\n");
    report("bench: fs38_boot_verify_slot ", verify);
    report("bench: SHA-256 + one ECDSA verify ", floor);
    m4_puts("bench: ratio ");
    uint32_t milli = (uint32_t)(((uint64_t)verify * 1000u + floor / 2u) / floor);
    m4_putu(milli / 1000u);
    m4_puts(".");
    char f[4] = {(char)('0' + milli / 100u % 10u), (char)('0' + milli / 10u % 10u), (char)('0' + milli % 10u), 0};
    m4_puts(f);
    m4_puts("\n");
    return 0;
}
