/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_elf.c — control 9 (ETSI EN 303 645 5.6-8 secure development, 5.13-1 input validation):
 * ELF hardening of every executable and shared library, and dangerous CGI scripts.
 *
 * The ELF headers are parsed here (32- and 64-bit, both byte orders, any machine), bounded by
 * the file's length: program headers (PT_INTERP, PT_DYNAMIC, PT_GNU_STACK, PT_GNU_RELRO) and the
 * dynamic section (DT_FLAGS BIND_NOW, DT_FLAGS_1 NOW/PIE). Stack protector and FORTIFY_SOURCE are
 * recognised by the names the binary links against (__stack_chk_fail / __stack_chk_guard, the
 * __*_chk functions), which survive stripping of dynamically linked binaries.
 * Statically linked executables (no PT_INTERP: static and static-PIE) carry their C library,
 * whose own objects reference __stack_chk_fail (Debian builds glibc with the stack protector) and
 * whose "*** stack smashing detected ***" / "*** buffer overflow detected ***" messages are linked
 * in whether the program was hardened or not (checked with glibc 2.36: identical in -static
 * builds with and without -fstack-protector-strong -D_FORTIFY_SOURCE=2). The canary's code
 * pattern (x86-64 `mov %fs:0x28`) is in the C library's functions as well. So for a static
 * executable the stack canary is reported as not determinable (a warning) unless the name
 * __stack_chk_fail is absent from an unstripped one (then nothing has a canary); FORTIFY is
 * determined from an unstripped static executable's __*_chk symbols (the C library does not call
 * them itself) and is not determinable once it is stripped (no .symtab).
 * Rules (one evidence item per file, its severity the worst gap):
 *   FS38-9.1 executable stack (no NX): high; executable not PIE: medium; no RELRO: medium;
 *            partial RELRO (no BIND_NOW), no stack canary, no FORTIFY: low (warnings)
 *   FS38-9.2 CGI script that passes request data to eval: high
 *   FS38-9.0 summary of the ELF files examined (pass)
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ELF (32u << 20)
#define MAX_ITEMS 300

typedef struct elf {
    const uint8_t *b;
    size_t len;
    bool is64, be;
} elf;

static bool rd(const elf *e, uint64_t off, unsigned n, uint64_t *out)
{
    if (off > e->len || e->len - off < n)
        return false;
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned k = e->be ? i : n - 1 - i;
        v = (v << 8) | e->b[off + k];
    }
    *out = v;
    return true;
}

static const char *machine(uint64_t m)
{
    switch (m) {
    case 3: return "x86";
    case 8: return "MIPS";
    case 20: return "PowerPC";
    case 21: return "PowerPC64";
    case 40: return "ARM";
    case 62: return "x86-64";
    case 183: return "AArch64";
    case 243: return "RISC-V";
    case 2: return "SPARC";
    case 42: return "SuperH";
    case 94: return "Xtensa";
    default: return "other";
    }
}

typedef struct elf_info {
    bool ok, exec, lib, pie, nx, relro, now, canary, fortify, dynamic, be;
    bool is_static, symtab;              /* no PT_INTERP (C library linked in); a .symtab section */
    bool canary_unknown, fortify_unknown; /* static executables: see the header */
    int bits;
    const char *mach;
} elf_info;

static bool has_sym(const uint8_t *b, size_t len, const char *name)
{
    /* the name as a NUL-terminated string of the dynamic (or static) string table */
    size_t nl = strlen(name) + 1;
    const uint8_t *p = b, *end = b + len;
    while (p < end) {
        const uint8_t *h = memmem(p, (size_t)(end - p), name, nl);
        if (!h)
            return false;
        if (h == b || h[-1] == 0 || h[-1] == '@')
            return true;
        p = h + 1;
    }
    return false;
}

static elf_info parse_elf(const uint8_t *b, size_t len)
{
    elf_info in = { 0 };
    if (len < 52 || memcmp(b, "\x7f" "ELF", 4) != 0 || (b[4] != 1 && b[4] != 2) || (b[5] != 1 && b[5] != 2))
        return in;
    elf e = { b, len, b[4] == 2, b[5] == 2 };
    uint64_t type, mach, phoff, phentsize, phnum;
    unsigned w = e.is64 ? 8 : 4;
    if (!rd(&e, 16, 2, &type) || !rd(&e, 18, 2, &mach) || !rd(&e, e.is64 ? 32 : 28, w, &phoff) ||
        !rd(&e, e.is64 ? 54 : 42, 2, &phentsize) || !rd(&e, e.is64 ? 56 : 44, 2, &phnum))
        return in;
    /* section headers (optional): a SHT_SYMTAB section means the binary is not stripped */
    uint64_t shoff, shentsize, shnum;
    if (rd(&e, e.is64 ? 40 : 32, w, &shoff) && rd(&e, e.is64 ? 58 : 46, 2, &shentsize) &&
        rd(&e, e.is64 ? 60 : 48, 2, &shnum) && shoff && shentsize >= (e.is64 ? 64u : 40u) && shnum <= 65535) {
        for (uint64_t i = 0; i < shnum && !in.symtab; i++) {
            uint64_t sht;
            if (!rd(&e, shoff + i * shentsize + 4, 4, &sht))
                break;
            in.symtab = sht == 2;
        }
    }
    if (type != 2 && type != 3)
        return in; /* relocatable objects (kernel modules), cores */
    if (phentsize < (e.is64 ? 56u : 32u) || phnum == 0 || phnum > 4096)
        return in;
    in.mach = machine(mach);
    in.bits = e.is64 ? 64 : 32;
    in.be = e.be;
    bool interp = false, stack = false;
    uint64_t dyn_off = 0, dyn_sz = 0;
    for (uint64_t i = 0; i < phnum; i++) {
        uint64_t ph = phoff + i * phentsize, pt, flags, off, filesz;
        if (!rd(&e, ph, 4, &pt))
            return in;
        if (e.is64) {
            if (!rd(&e, ph + 4, 4, &flags) || !rd(&e, ph + 8, 8, &off) || !rd(&e, ph + 32, 8, &filesz))
                return in;
        } else {
            if (!rd(&e, ph + 4, 4, &off) || !rd(&e, ph + 16, 4, &filesz) || !rd(&e, ph + 24, 4, &flags))
                return in;
        }
        if (pt == 3)
            interp = true;
        else if (pt == 2) {
            dyn_off = off;
            dyn_sz = filesz;
            in.dynamic = true;
        } else if (pt == 0x6474e551) {
            stack = true;
            in.nx = !(flags & 1);
        } else if (pt == 0x6474e552)
            in.relro = true;
    }
    if (!stack)
        in.nx = false;
    bool flag_pie = false;
    if (in.dynamic) {
        uint64_t ent = e.is64 ? 16 : 8;
        for (uint64_t o = dyn_off; o + ent <= dyn_off + dyn_sz && o + ent <= len; o += ent) {
            uint64_t tag, val;
            if (!rd(&e, o, w, &tag) || !rd(&e, o + w, w, &val))
                break;
            if (tag == 0)
                break;
            if (tag == 24 || (tag == 30 && (val & 8)) || (tag == 0x6ffffffb && (val & 1)))
                in.now = true;
            if (tag == 0x6ffffffb && (val & 0x08000000))
                flag_pie = true;
        }
    }
    if (type == 2)
        in.exec = true;
    else if (interp || flag_pie)
        in.exec = in.pie = true;
    else
        in.lib = true;
    in.canary = has_sym(b, len, "__stack_chk_fail") || has_sym(b, len, "__stack_chk_guard") ||
                has_sym(b, len, "__stack_chk_fail_local");
    static const char *const chk[] = { "__memcpy_chk", "__printf_chk", "__sprintf_chk", "__snprintf_chk",
                                       "__fprintf_chk", "__strcpy_chk", "__memset_chk", "__read_chk",
                                       "__vsnprintf_chk", "__strncpy_chk", "__memmove_chk", "__strcat_chk",
                                       "__fgets_chk", "__vfprintf_chk", "__syslog_chk" };
    for (size_t i = 0; i < sizeof chk / sizeof chk[0] && !in.fortify; i++)
        in.fortify = has_sym(b, len, chk[i]);
    if (in.exec && !interp) {
        in.is_static = true;
        in.canary_unknown = in.canary || !in.symtab;
        in.canary = false;
        in.fortify_unknown = !in.fortify && !in.symtab;
    }
    in.ok = true;
    return in;
}

static void scan_cgi(aud_ctx *ctx, const aud_entry *e, const uint8_t *buf, size_t len)
{
    aud_lines it;
    aud_lines_init(&it, buf, len);
    const char *l;
    size_t n;
    while (aud_lines_next(&it, &l, &n)) {
        while (n && (*l == ' ' || *l == '\t'))
            l++, n--;
        if (!n || l[0] == '#')
            continue;
        bool ev = false;
        for (size_t i = 0; i + 4 <= n; i++)
            if (memcmp(l + i, "eval", 4) == 0 && (i == 0 || l[i - 1] == ' ' || l[i - 1] == '\t' || l[i - 1] == ';' ||
                                                  l[i - 1] == '(' || l[i - 1] == '`') &&
                (i + 4 == n || l[i + 4] == ' ' || l[i + 4] == '('))
                ev = true;
        if (ev && (memmem(l, n, "QUERY_STRING", 12) || memmem(l, n, "FORM_", 5) || memmem(l, n, "POST", 4) ||
                   memmem(l, n, "GET[", 4) || memmem(l, n, "$_REQUEST", 9) || memmem(l, n, "formvalue", 9)))
            aud_add(ctx->r, 9, e->path, it.no, "FS38-9.2", "5.13-1", AUD_HIGH,
                    "CGI passes request data to eval (command injection): %.*s", (int)(n > 120 ? 120 : n), l);
    }
}

void aud_check_elf(aud_ctx *ctx)
{
    size_t n_elf = 0, n_exec = 0, n_pie = 0, n_nx = 0, n_relro = 0, n_now = 0, n_can = 0, n_fort = 0, items = 0,
           more = 0, n_undet = 0;
    for (size_t i = 0; i < aud_image_count(ctx->img); i++) {
        const aud_entry *e = aud_image_entry(ctx->img, i);
        if (e->type != AUD_REG || e->size < 52 || e->too_big)
            continue;
        uint8_t *buf;
        size_t len;
        bool cgi = strstr(e->path, "cgi-bin/") || aud_has_suffix(e->path, ".cgi");
        if (aud_image_read(ctx->img, e, 4, &buf, &len, NULL, 0) != 0)
            continue;
        bool is_elf = len == 4 && memcmp(buf, "\x7f" "ELF", 4) == 0;
        free(buf);
        if (!is_elf && !cgi)
            continue;
        if (aud_image_read(ctx->img, e, is_elf ? MAX_ELF : (1u << 20), &buf, &len, NULL, 0) != 0)
            continue;
        if (!is_elf) {
            if (!memchr(buf, 0, len))
                scan_cgi(ctx, e, buf, len);
            free(buf);
            continue;
        }
        elf_info in = parse_elf(buf, len);
        free(buf);
        if (!in.ok)
            continue;
        n_elf++;
        n_exec += in.exec;
        n_pie += in.pie;
        n_nx += in.nx;
        n_relro += in.relro;
        n_now += in.relro && in.now;
        n_can += in.canary;
        n_fort += in.fortify;
        n_undet += in.canary_unknown || in.fortify_unknown;
        char gaps[512] = "";
        aud_sev sev = AUD_INFO;
#define GAP(cond, s, txt)                                                    \
    if (cond) {                                                              \
        strncat(gaps, gaps[0] ? ", " txt : txt, sizeof gaps - strlen(gaps) - 1); \
        if (s > sev)                                                         \
            sev = s;                                                         \
    }
        GAP(!in.nx, AUD_HIGH, "executable stack (no NX)");
        GAP(in.exec && !in.pie, AUD_MEDIUM, "not PIE");
        GAP(in.dynamic && !in.relro, AUD_MEDIUM, "no RELRO");
        GAP(in.relro && !in.now, AUD_LOW, "partial RELRO");
        GAP(!in.canary && !in.canary_unknown, AUD_LOW, "no stack canary");
        GAP(in.canary_unknown, AUD_LOW, "stack canary not determinable (static: the C library's canary code cannot be told from the program's)");
        GAP(!in.fortify && !in.fortify_unknown, AUD_LOW, "no FORTIFY_SOURCE");
        GAP(in.fortify_unknown, AUD_LOW, "FORTIFY_SOURCE not determinable (stripped static executable)");
#undef GAP
        if (sev == AUD_INFO)
            continue;
        if (items >= MAX_ITEMS && sev < AUD_FAIL_SEV) {
            more++;
            continue;
        }
        if (items >= MAX_ITEMS * 2) {
            more++;
            continue;
        }
        items++;
        aud_add(ctx->r, 9, e->path, 0, "FS38-9.1", "5.6-8", sev, "ELF%d %s %s-endian %s: %s", in.bits,
                in.mach, in.be ? "big" : "little", in.exec ? "executable" : "shared library", gaps);
    }
    if (more)
        aud_add(ctx->r, 9, "", 0, "FS38-9.1", "5.6-8", AUD_LOW, "%zu more ELF files with hardening gaps not listed", more);
    char undet[96] = "";
    if (n_undet)
        snprintf(undet, sizeof undet, "; canary or FORTIFY not determinable in %zu static executable(s)", n_undet);
    if (n_elf)
        aud_add(ctx->r, 9, "", 0, "FS38-9.0", "5.6-8", AUD_INFO,
                "%zu ELF files (%zu executables): PIE %zu/%zu, NX %zu, RELRO %zu (full %zu), canary %zu, FORTIFY %zu%s",
                n_elf, n_exec, n_pie, n_exec, n_nx, n_relro, n_now, n_can, n_fort, undet);
    aud_assessed(ctx->r, 9, AUD_V_UNKNOWN, "no ELF executable, library or CGI script found");
}
