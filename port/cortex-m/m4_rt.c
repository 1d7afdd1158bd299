/* SPDX-License-Identifier: Apache-2.0 */
/* m4_rt.c — run-time support of the Cortex-M4 port: reset code and vector table, stack painting,
 * semihosting calls (host file I/O, command line, exit) and the CMSDK UART0 console. */
#include <string.h>
#include "fs38_m4.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;
extern uint32_t __stack_bottom, __stack_top;
int main(void);

#define STACK_PAINT 0xC5C5C5C5u

/* ---- semihosting ---- */

static int sh_call(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int m4_sh_open(const char *name, int mode)
{
    uint32_t a[3] = {(uint32_t)name, (uint32_t)mode, (uint32_t)strlen(name)};
    return sh_call(0x01, a);
}

int m4_sh_close(int fd)
{
    uint32_t a[1] = {(uint32_t)fd};
    return sh_call(0x02, a);
}

long m4_sh_flen(int fd)
{
    uint32_t a[1] = {(uint32_t)fd};
    return sh_call(0x0C, a);
}

int m4_sh_seek(int fd, uint32_t pos)
{
    uint32_t a[2] = {(uint32_t)fd, pos};
    return sh_call(0x0A, a);
}

size_t m4_sh_read(int fd, void *buf, size_t len)
{
    uint32_t a[3] = {(uint32_t)fd, (uint32_t)buf, (uint32_t)len};
    int left = sh_call(0x06, a);
    return left < 0 ? 0 : len - (size_t)left;
}

size_t m4_sh_write(int fd, const void *buf, size_t len)
{
    uint32_t a[3] = {(uint32_t)fd, (uint32_t)buf, (uint32_t)len};
    int left = sh_call(0x05, a);
    return left < 0 ? 0 : len - (size_t)left;
}

int m4_sh_remove(const char *name)
{
    uint32_t a[2] = {(uint32_t)name, (uint32_t)strlen(name)};
    return sh_call(0x0E, a);
}

static char cmdline[128];
static int cmdline_read;

const char *m4_sh_cmdline(void)
{
    if (!cmdline_read) {
        uint32_t a[2] = {(uint32_t)cmdline, sizeof cmdline};
        if (sh_call(0x15, a) != 0)
            cmdline[0] = 0;
        cmdline[sizeof cmdline - 1] = 0;
        cmdline_read = 1;
    }
    return cmdline;
}

uint32_t m4_arg(const char *key, uint32_t dflt)
{
    const char *s = m4_sh_cmdline();
    size_t kl = strlen(key);
    while (*s) {
        while (*s == ' ')
            s++;
        if (strncmp(s, key, kl) == 0 && s[kl] == '=') {
            uint32_t v = 0;
            for (s += kl + 1; *s >= '0' && *s <= '9'; s++)
                v = v * 10u + (uint32_t)(*s - '0');
            return v;
        }
        while (*s && *s != ' ')
            s++;
    }
    return dflt;
}

void m4_exit(int code)
{
    uint32_t a[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, (uint32_t)code};
    (void)sh_call(0x20, a); /* SYS_EXIT_EXTENDED: QEMU exits with `code` */
    for (;;)
        __asm__ volatile("wfi");
}

/* ---- console: CMSDK APB UART0 ---- */

#define UART0 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0 + 0x00))
#define UART_STATE (*(volatile uint32_t *)(UART0 + 0x04))
#define UART_CTRL (*(volatile uint32_t *)(UART0 + 0x08))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0 + 0x10))

static void uart_putc(char c)
{
    if (!(UART_CTRL & 1u)) {
        UART_BAUDDIV = 16u;
        UART_CTRL = 1u; /* TX enable */
    }
    while (UART_STATE & 1u) /* TX buffer full */
        ;
    UART_DATA = (uint32_t)(unsigned char)c;
}

void m4_puts(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

/* Decimal without a 64-bit division (which would link libgcc's __udivmoddi4, 700 bytes):
 * subtract powers of ten. */
void m4_putu(uint64_t v)
{
    static const uint64_t pow10[20] = {1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull,
                                       10000000ull, 100000000ull, 1000000000ull, 10000000000ull,
                                       100000000000ull, 1000000000000ull, 10000000000000ull,
                                       100000000000000ull, 1000000000000000ull, 10000000000000000ull,
                                       100000000000000000ull, 1000000000000000000ull,
                                       10000000000000000000ull};
    char b[21];
    int n = 0;
    for (int digit = 19; digit >= 0; digit--) {
        const uint64_t p = pow10[digit];
        char c = '0';
        while (v >= p) {
            v -= p;
            c++;
        }
        if (c != '0' || n || digit == 0)
            b[n++] = c;
    }
    b[n] = 0;
    m4_puts(b);
}

void m4_puthex(uint32_t v)
{
    char b[11] = "0x";
    for (int i = 0; i < 8; i++)
        b[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15u];
    b[10] = 0;
    m4_puts(b);
}

/* ---- stack painting ---- */

void m4_stack_paint(void)
{
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (uint32_t *w = &__stack_bottom; (uint32_t)w < sp - 64u; w++)
        *w = STACK_PAINT;
}

uint32_t m4_stack_used(void)
{
    const uint32_t *w = &__stack_bottom;
    while (w < &__stack_top && *w == STACK_PAINT)
        w++;
    return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)w);
}

uint32_t m4_stack_size(void)
{
    return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)&__stack_bottom);
}

/* ---- heap: newlib's malloc draws from [__heap_start, __heap_end) through _sbrk ---- */

extern uint8_t __heap_start, __heap_end;
static uint8_t *g_brk = &__heap_start;

void *_sbrk(ptrdiff_t incr);
__attribute__((used)) void *_sbrk(ptrdiff_t incr) /* kept under LTO: newlib (not LTO) calls it */
{
    if (incr < 0 || (size_t)incr > (size_t)(&__heap_end - g_brk))
        return (void *)-1;
    uint8_t *old = g_brk;
    g_brk += incr;
    return old;
}

uint32_t m4_heap_used(void)
{
    return (uint32_t)(g_brk - &__heap_start);
}

/* ---- reset and faults ---- */

__attribute__((noreturn)) void m4_reset(void);
__attribute__((noreturn)) void m4_reset(void)
{
    const uint32_t *src = &__data_load;
    for (uint32_t *d = &__data_start; d < &__data_end;)
        *d++ = *src++;
    for (uint32_t *d = &__bss_start; d < &__bss_end;)
        *d++ = 0;
    m4_stack_paint();
    /* FPU off: the build uses soft-float calls only (-mfloat-abi=soft) */
    m4_exit(main());
}

__attribute__((noreturn)) void m4_fault(void);
__attribute__((noreturn)) void m4_fault(void)
{
    uint32_t icsr = *(volatile uint32_t *)0xE000ED04u, cfsr = *(volatile uint32_t *)0xE000ED28u;
    m4_puts("m4: fault, ICSR ");
    m4_puthex(icsr);
    m4_puts(" CFSR ");
    m4_puthex(cfsr);
    m4_puts("\n");
    m4_exit(4);
}

__attribute__((section(".vectors"), used)) const void *const m4_vectors[16] = {
    &__stack_top, (const void *)m4_reset, (const void *)m4_fault, (const void *)m4_fault,
    (const void *)m4_fault, (const void *)m4_fault, (const void *)m4_fault, 0, 0, 0, 0,
    (const void *)m4_fault, (const void *)m4_fault, 0, (const void *)m4_fault, (const void *)m4_fault,
};

/* ---- the reason of a refusal, for the console ---- */

/* M4_REASON_TEXT (m4.mk: M4_BOOT_REASON_TEXT, default 0): 1 prints a refusal's reason with
 * fs38_strerror() ("image digest mismatch"), which links the library's text table (2.2 KB);
 * 0 prints the code's short name ("IMAGE_DIGEST": the fs38_err enumerator without FS38_ERR_)
 * for the verdicts verification gives, "error -N" for any other code. The text of every code
 * is in the host's table: docs/formats.md, generated from include/fs38/err.h (m4-test reads it
 * there to compare the lines with the reference device's). */
#ifndef M4_REASON_TEXT
#define M4_REASON_TEXT 0
#endif

void m4_put_err(fs38_err e)
{
#if M4_REASON_TEXT
    m4_puts(fs38_strerror(e));
#else
    const char *n;
    switch (e) {
    case FS38_ERR_IO: n = "IO"; break;
    case FS38_ERR_POWER: n = "POWER"; break;
    case FS38_ERR_CRYPTO: n = "CRYPTO"; break;
    case FS38_ERR_LIMIT: n = "LIMIT"; break;
    case FS38_ERR_COSE_FORMAT: n = "COSE_FORMAT"; break;
    case FS38_ERR_UNSUPPORTED_ALG: n = "UNSUPPORTED_ALG"; break;
    case FS38_ERR_BAD_SIGNATURE: n = "BAD_SIGNATURE"; break;
    case FS38_ERR_UNTRUSTED_SIGNER: n = "UNTRUSTED_SIGNER"; break;
    case FS38_ERR_SUIT_FORMAT: n = "SUIT_FORMAT"; break;
    case FS38_ERR_NO_AUTH: n = "NO_AUTH"; break;
    case FS38_ERR_MANIFEST_DIGEST: n = "MANIFEST_DIGEST"; break;
    case FS38_ERR_SEVERED_DIGEST: n = "SEVERED_DIGEST"; break;
    case FS38_ERR_SEVERED_MISSING: n = "SEVERED_MISSING"; break;
    case FS38_ERR_ROLLBACK: n = "ROLLBACK"; break;
    case FS38_ERR_VENDOR_ID: n = "VENDOR_ID"; break;
    case FS38_ERR_CLASS_ID: n = "CLASS_ID"; break;
    case FS38_ERR_IMAGE_DIGEST: n = "IMAGE_DIGEST"; break;
    case FS38_ERR_IMAGE_SIZE: n = "IMAGE_SIZE"; break;
    case FS38_ERR_COMPONENT: n = "COMPONENT"; break;
    case FS38_ERR_UNSUPPORTED_COMMAND: n = "UNSUPPORTED_COMMAND"; break;
    case FS38_ERR_UNSUPPORTED_PARAM: n = "UNSUPPORTED_PARAM"; break;
    case FS38_ERR_CONDITION: n = "CONDITION"; break;
    case FS38_ERR_MANIFEST_VERSION: n = "MANIFEST_VERSION"; break;
    case FS38_ERR_MISSING_PARAM: n = "MISSING_PARAM"; break;
    case FS38_ERR_NO_IMAGE: n = "NO_IMAGE"; break;
    case FS38_ERR_POLICY: n = "POLICY"; break;
    case FS38_ERR_WRONG_SLOT: n = "WRONG_SLOT"; break;
    default:
        m4_puts("error -");
        m4_putu((uint32_t)-(int32_t)e);
        return;
    }
    m4_puts(n);
#endif
}
