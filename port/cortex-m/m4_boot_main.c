/* SPDX-License-Identifier: Apache-2.0 */
/*
 * m4_boot_main.c — fs38-boot.elf, the bootloader of the Cortex-M4 port: loads the flash from
 * the host (the emulator's stand-in for power-on), verifies both slots and follows the
 * trial-boot protocol with fs38_boot_select (the reference device's code path), prints the
 * reference device's lines, then jumps to the chosen image (VTOR, MSP, reset handler).
 */
#include <string.h>
#include <psa/crypto.h>
#include "fs38/boot.h"
#include "fs38/err.h"
#include "fs38_m4.h"
#include "m4_rom.h" /* generated: trust anchor, vendor and class ids */

static fs38_port g_port;
static fs38_keyring g_trust;
static fs38_boot_ctx g_boot;

/* Boot draws no random numbers (verification only): the PSA external RNG hook fails. */
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

static char letter(unsigned slot)
{
    return slot == 0 ? 'A' : 'B';
}

__attribute__((noreturn)) static void jump(uint32_t addr)
{
    const uint32_t *vt = (const uint32_t *)addr;
    *(volatile uint32_t *)0xE000ED08u = addr; /* SCB->VTOR */
    __asm__ volatile("dsb\n isb\n msr msp, %0\n bx %1\n" : : "r"(vt[0]), "r"(vt[1]) : "memory");
    __builtin_unreachable();
}

static void stack_report(void)
{
    m4_puts("m4: stack fs38-boot.elf ");
    m4_putu(m4_stack_used());
    m4_puts(" bytes, heap ");
    m4_putu(m4_heap_used());
    m4_puts(" bytes, flash operations ");
    m4_putu(m4_port_ops()); /* the boot-state writes of this boot (m4-test sweeps a cut over each) */
    m4_puts("\n");
}

/* Why slot i was refused: the library's diagnostic when it has one (FS38_DIAG_TEXT 1); with
 * diagnostics compiled out, the reference device's wording for a reverted trial and a rollback
 * (rebuilt from the context's numbers), else the code (m4_put_err). */
static void print_reason(unsigned i)
{
    const fs38_slot_info *si = &g_boot.slot[i];
    if (si->reason[0]) {
        m4_puts(si->reason);
    } else if (g_boot.reverted && g_boot.reverted_slot == (int)i) {
        m4_puts("reverted: trial boot was not confirmed");
    } else if (si->verdict == FS38_ERR_ROLLBACK) {
        m4_puts("sequence ");
        m4_putu(si->sequence);
        m4_puts(" < installed ");
        m4_putu(g_boot.counter);
    } else {
        m4_put_err(si->verdict);
    }
}

/* Start-up before verification, in its own frame: with link-time optimisation the calls below
 * would be inlined into main, and their locals (key attributes, buffers) would then stay on the
 * stack under the whole verification. 0 or the exit status. */
__attribute__((noinline)) static int start(void)
{
    /* "bootcut=N": power fails at the bootloader's Nth program / erase (its boot-state writes:
     * starting a trial, reverting one, completing a confirmation) */
    if (m4_port_init(&g_port, 1, "bootcut") != FS38_OK) {
        m4_puts("boot: cannot load flash.bin\n");
        return 2;
    }
    if (psa_crypto_init() != PSA_SUCCESS) {
        m4_puts("boot: crypto init failed\n");
        return 2;
    }
    fs38_keyring_init(&g_trust);
    if (fs38_keyring_add_p256(&g_trust, m4_rom_trust, sizeof m4_rom_trust) != FS38_OK) {
        m4_puts("boot: bad trust anchor\n");
        return 2;
    }
    return 0;
}

/* The refused slots' lines, in their own frame (as start()). */
__attribute__((noinline)) static void report_refused(fs38_err err, unsigned slot)
{
    for (unsigned i = 0; i < FS38_SLOT_COUNT; i++) {
        if ((err == FS38_OK && i == slot) || g_boot.slot[i].verdict == FS38_OK)
            continue;
        char l[2] = {letter(i), 0};
        m4_puts("boot: slot ");
        m4_puts(l);
        m4_puts(" refused: ");
        print_reason(i);
        m4_puts("\n");
    }
}

int main(void)
{
    int rc = start();
    if (rc)
        return rc;
    static const fs38_boot_config cfg = { /* static: not on the measured stack */
        .port = &g_port,
        .trust = &g_trust,
        .vendor_id = m4_rom_vendor_id,
        .class_id = m4_rom_class_id,
        .slot = {{M4_SLOT_A, M4_SLOT_SIZE}, {M4_SLOT_B, M4_SLOT_SIZE}},
        .image_offset = M4_IMAGE_OFFSET,
        .state = {M4_STATE, 2u * M4_SECTOR},
        .require_slot = true, /* execute in place: an image runs only from the slot it is linked for */
    };
    if (fs38_boot_init(&g_boot, &cfg) != FS38_OK) {
        m4_puts("boot: bad configuration\n");
        return 2;
    }
    unsigned slot = 0;
    fs38_err err = fs38_boot_select(&g_boot, &slot);
    if (err != FS38_OK && err != FS38_ERR_NOT_BOOTABLE) {
        m4_puts("boot: verification failed: ");
        m4_put_err(err);
        m4_puts("\n");
        return 2;
    }
    report_refused(err, slot);
    if (err == FS38_ERR_NOT_BOOTABLE) {
        m4_puts("boot: no bootable image\n");
        stack_report();
        return 1;
    }
    char l[2] = {letter(slot), 0};
    m4_puts("boot: slot ");
    m4_puts(l);
    m4_puts(", sequence ");
    m4_putu(g_boot.slot[slot].sequence);
    m4_puts("\n");
    stack_report();
    fs38_keyring_free(&g_trust);
    jump(M4_FLASH_BASE + g_boot.cfg.slot[slot].offset + M4_IMAGE_OFFSET);
}
