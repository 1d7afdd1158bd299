/* SPDX-License-Identifier: Apache-2.0 */
/*
 * posix_port.c — the POSIX port (see fs38_posix.h for the contract).
 *
 * Flash: a regular file of exactly flash_size bytes accessed with pread/pwrite.
 * Power cuts: the k-th program/erase is done partly, returns FS38_ERR_POWER and the
 * device is "off" until fs38_posix_close() + fs38_posix_open().
 *
 * Monotonic counters: counter `id` owns sectors S0 = counter_offset + 2*id*sector_size and
 * S1 = S0 + sector_size. Each sector is an append-only array of 16-byte entries:
 *
 *     bytes 0..7   value, u64 little endian (0 < value <= 2^63)
 *     bytes 8..11  check, u32 LE = ~(u32)value ^ (u32)(value >> 32) ^ gen*GOLDEN ^ MAGIC
 *     bytes 12..15 gen,   u32 LE, 1 .. 0x00FFFFFF (sector generation, top byte always 0)
 *
 * An erased slot is all 0xFF. A program cut anywhere leaves at least the last byte of the
 * entry (the top byte of gen) at 0xFF, so a torn entry never validates; the check word also
 * rejects other partial bit patterns. The counter is the largest valid value of both
 * sectors (0 when none).
 *
 * advance(v), v > current: append an entry after the last non-erased slot of the sector
 * holding the maximum ("active"). When that sector is full, erase the other sector and write
 * the entry as its first slot with gen + 1. The erased sector only ever holds values lower
 * than the active sector's, so a cut erase (stale entries left in its second half) or a cut
 * program never lowers the maximum: at every point it is the old or the new value.
 *
 * Hardware unique key: a 32-byte file (huk_path) standing in for the fuses. Created at open
 * when missing: getrandom() into a temporary file (mode 0600, O_EXCL), fsync, then link()ed
 * to huk_path, so the HUK file is either absent or complete; if another process linked one
 * first, that one is kept. Every hardware_key() call reads it again (nothing cached in the
 * context) and wipes its own copy.
 *
 * Device lock (port.h, "Concurrency"): a recursive pthread mutex in the fs38_posix excludes
 * the threads sharing it; when the holder's depth goes 0 -> 1 it also takes flock(LOCK_EX) on
 * the flash file's descriptor, which excludes other processes and other fs38_posix instances
 * of this process (each has its own open file description). Blocking, no timeout: a holder
 * that dies releases the flock with its descriptor.
 */
#include "fs38_posix.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 4096u
#define ENTRY_SIZE 16u
#define COUNTER_MAX (UINT64_C(1) << 63)
#define GEN_MAX 0x00FFFFFFu
#define ENTRY_MAGIC 0x46533338u /* "FS38" */
#define GEN_GOLDEN 0x9E3779B1u

/* ---- raw file I/O ------------------------------------------------------------- */

static FS38_NODISCARD fs38_err raw_read(int fd, uint64_t off, void *buf, size_t len)
{
    uint8_t *b = buf;
    while (len) {
        ssize_t n = pread(fd, b, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return FS38_ERR_IO;
        }
        if (n == 0)
            return FS38_ERR_IO; /* unexpected EOF: the file shrank */
        b += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return FS38_OK;
}

static FS38_NODISCARD fs38_err raw_write(int fd, uint64_t off, const void *buf, size_t len)
{
    const uint8_t *b = buf;
    while (len) {
        ssize_t n = pwrite(fd, b, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return FS38_ERR_IO;
        }
        if (n == 0)
            return FS38_ERR_IO;
        b += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return FS38_OK;
}

/* Set [off, off+len) to 0xFF. */
static FS38_NODISCARD fs38_err raw_fill_ff(int fd, uint64_t off, uint64_t len)
{
    uint8_t ff[CHUNK];
    memset(ff, 0xFF, sizeof ff);
    while (len) {
        size_t n = len < CHUNK ? (size_t)len : CHUNK;
        fs38_err e = raw_write(fd, off, ff, n);
        if (e != FS38_OK)
            return e;
        off += n;
        len -= n;
    }
    return FS38_OK;
}

/* Program (AND) len bytes at off. */
static FS38_NODISCARD fs38_err raw_and(int fd, uint64_t off, const uint8_t *data, size_t len)
{
    uint8_t old[CHUNK];
    while (len) {
        size_t n = len < CHUNK ? len : CHUNK;
        fs38_err e = raw_read(fd, off, old, n);
        if (e != FS38_OK)
            return e;
        for (size_t i = 0; i < n; i++)
            old[i] &= data[i];
        e = raw_write(fd, off, old, n);
        if (e != FS38_OK)
            return e;
        off += n;
        data += n;
        len -= n;
    }
    return FS38_OK;
}

/* ---- flash -------------------------------------------------------------------- */

static int in_flash(const fs38_posix *p, uint32_t off, uint64_t len)
{
    return (uint64_t)off + len <= p->cfg.flash_size;
}

/* Count one program/erase operation; true when this one must be cut. */
static int next_op_is_cut(fs38_posix *p)
{
    p->ops++;
    if (p->cut_at != 0 && p->ops == p->cut_at) {
        p->cut_at = 0;
        p->off = true;
        return 1;
    }
    return 0;
}

static FS38_NODISCARD fs38_err do_read(fs38_posix *p, uint32_t off, void *buf, size_t len)
{
    if (p->off)
        return FS38_ERR_POWER;
    if ((!buf && len) || !in_flash(p, off, len))
        return FS38_ERR_ARG;
    if (p->fd < 0)
        return FS38_ERR_IO;
    return len ? raw_read(p->fd, off, buf, len) : FS38_OK;
}

static FS38_NODISCARD fs38_err do_erase(fs38_posix *p, uint32_t off, uint32_t len)
{
    const uint32_t ss = p->cfg.sector_size;
    if (p->off)
        return FS38_ERR_POWER;
    if (off % ss || len % ss || !in_flash(p, off, len))
        return FS38_ERR_ARG;
    if (p->fd < 0)
        return FS38_ERR_IO;
    if (len == 0)
        return FS38_OK;
    if (next_op_is_cut(p)) {
        /* First half of the sectors fully erased, the next one's first half erased. */
        uint64_t done = (uint64_t)(len / ss / 2u) * ss + ss / 2u;
        fs38_err e = raw_fill_ff(p->fd, off, done);
        if (e != FS38_OK)
            return e;
        p->bytes_erased += done;
        return FS38_ERR_POWER;
    }
    fs38_err e = raw_fill_ff(p->fd, off, len);
    if (e == FS38_OK)
        p->bytes_erased += len;
    return e;
}

static FS38_NODISCARD fs38_err do_program(fs38_posix *p, uint32_t off, const void *buf, size_t len)
{
    if (p->off)
        return FS38_ERR_POWER;
    if ((!buf && len) || !in_flash(p, off, len))
        return FS38_ERR_ARG;
    if (p->fd < 0)
        return FS38_ERR_IO;
    if (len == 0)
        return FS38_OK;
    p->bytes_programmed += len;
    if (next_op_is_cut(p)) {
        fs38_err e = raw_and(p->fd, off, buf, len / 2u);
        return e != FS38_OK ? e : FS38_ERR_POWER;
    }
    return raw_and(p->fd, off, buf, len);
}

static FS38_NODISCARD fs38_err port_flash_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    return ctx ? do_read(ctx, off, buf, len) : FS38_ERR_ARG;
}

/* The flash file mapped read-only and shared: what program/erase write through pwrite is
 * visible here at once (one page cache), like execute-in-place flash on an MCU. */
static const uint8_t *port_flash_map(void *ctx, uint32_t off, size_t len)
{
    fs38_posix *p = ctx;
    if (!p || p->off || !p->map || off > p->cfg.flash_size || len > p->cfg.flash_size - off)
        return NULL;
    return p->map + off;
}

static FS38_NODISCARD fs38_err port_flash_erase(void *ctx, uint32_t off, uint32_t len)
{
    return ctx ? do_erase(ctx, off, len) : FS38_ERR_ARG;
}

static FS38_NODISCARD fs38_err port_flash_program(void *ctx, uint32_t off, const void *buf, size_t len)
{
    return ctx ? do_program(ctx, off, buf, len) : FS38_ERR_ARG;
}

/* ---- entropy and clocks ------------------------------------------------------- */

/* len bytes from the kernel's CSPRNG (getrandom, retried on EINTR). */
static FS38_NODISCARD fs38_err fill_random(uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return FS38_ERR_IO;
        }
        buf += n;
        len -= (size_t)n;
    }
    return FS38_OK;
}

static FS38_NODISCARD fs38_err port_entropy(void *ctx, uint8_t *buf, size_t len)
{
    fs38_posix *p = ctx;
    if (!p || (!buf && len))
        return FS38_ERR_ARG;
    if (p->off)
        return FS38_ERR_POWER;
    return fill_random(buf, len);
}

static uint64_t port_monotonic_ms(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static FS38_NODISCARD fs38_err port_wall_time(void *ctx, int64_t *unix_seconds)
{
    struct timespec ts;
    (void)ctx;
    if (!unix_seconds)
        return FS38_ERR_ARG;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return FS38_ERR_NOT_FOUND;
    *unix_seconds = (int64_t)ts.tv_sec;
    return FS38_OK;
}

/* ---- hardware unique key ------------------------------------------------------ */

static void wipe(void *p, size_t len)
{
    volatile uint8_t *v = p;
    while (len--)
        *v++ = 0;
}

/* Create the HUK file if missing (atomically, see the top of this file). */
static FS38_NODISCARD fs38_err huk_ensure(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0)
        return FS38_OK;
    if (errno != ENOENT)
        return FS38_ERR_IO;
    char tmp[sizeof ((fs38_posix *)0)->huk_path + 32];
    size_t n = strlen(path);
    if (n + 24 >= sizeof tmp)
        return FS38_ERR_ARG;
    memcpy(tmp, path, n);
    /* ".tmp.<pid>" */
    const char suffix[] = ".tmp.";
    memcpy(tmp + n, suffix, sizeof suffix - 1);
    n += sizeof suffix - 1;
    unsigned long pid = (unsigned long)getpid();
    char digits[24];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + pid % 10u);
        pid /= 10u;
    } while (pid && nd < sizeof digits);
    while (nd)
        tmp[n++] = digits[--nd];
    tmp[n] = 0;

    uint8_t key[FS38_POSIX_HUK_SIZE];
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
        /* left by a process of the same pid that crashed half-way: ours to replace */
        unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    if (fd < 0)
        return FS38_ERR_IO;
    fs38_err e = fill_random(key, sizeof key);
    if (e == FS38_OK)
        e = raw_write(fd, 0, key, sizeof key);
    wipe(key, sizeof key);
    if (e == FS38_OK && fsync(fd) != 0)
        e = FS38_ERR_IO;
    if (close(fd) != 0 && e == FS38_OK)
        e = FS38_ERR_IO;
    if (e == FS38_OK && link(tmp, path) != 0 && errno != EEXIST)
        e = FS38_ERR_IO;
    unlink(tmp);
    return e;
}

static FS38_NODISCARD fs38_err port_hardware_key(void *ctx, uint8_t *out, size_t len)
{
    fs38_posix *p = ctx;
    uint8_t key[FS38_POSIX_HUK_SIZE];
    struct stat sb;
    if (!p || !out || len == 0 || len > sizeof key)
        return FS38_ERR_ARG;
    if (p->off)
        return FS38_ERR_POWER;
    if (!p->huk_path[0])
        return FS38_ERR_NOT_FOUND;
    int fd = open(p->huk_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return FS38_ERR_IO;
    fs38_err e = FS38_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size != (off_t)sizeof key ||
        (sb.st_mode & 077) != 0)
        e = FS38_ERR_IO;
    if (e == FS38_OK)
        e = raw_read(fd, 0, key, sizeof key);
    close(fd);
    if (e == FS38_OK)
        memcpy(out, key, len);
    wipe(key, sizeof key);
    return e;
}

/* ---- monotonic counters ------------------------------------------------------- */

static uint32_t entry_check(uint64_t value, uint32_t gen)
{
    return ~(uint32_t)value ^ (uint32_t)(value >> 32) ^ (gen * GEN_GOLDEN) ^ ENTRY_MAGIC;
}

static uint64_t get_le64(const uint8_t *b)
{
    uint64_t v = 0;
    for (unsigned i = 8; i-- > 0;)
        v = v << 8 | b[i];
    return v;
}

static uint32_t get_le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put_le64(uint8_t *b, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static void put_le32(uint8_t *b, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static int entry_erased(const uint8_t *e)
{
    static const uint8_t ff[ENTRY_SIZE] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                           0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    return memcmp(e, ff, ENTRY_SIZE) == 0;
}

/* Valid entry -> 1 with *value, *gen. */
static int entry_decode(const uint8_t *e, uint64_t *value, uint32_t *gen)
{
    uint64_t v = get_le64(e);
    uint32_t chk = get_le32(e + 8);
    uint32_t g = get_le32(e + 12);
    if (g == 0 || g > GEN_MAX || v == 0 || v > COUNTER_MAX || chk != entry_check(v, g))
        return 0;
    *value = v;
    *gen = g;
    return 1;
}

typedef struct {
    uint64_t value;      /* largest valid value, 0 when none */
    uint32_t gen;        /* generation of that entry (0 when none) */
    unsigned active;     /* sector holding it (0 when none) */
    uint32_t next[2];    /* per sector: slot after the last non-erased one */
} counter_state;

static uint32_t counter_base(const fs38_posix *p, fs38_counter_id id, unsigned sector)
{
    return p->cfg.counter_offset + (2u * (uint32_t)id + sector) * p->cfg.sector_size;
}

static FS38_NODISCARD fs38_err counter_scan(fs38_posix *p, fs38_counter_id id, counter_state *st)
{
    uint8_t buf[CHUNK];
    const uint32_t ss = p->cfg.sector_size;
    memset(st, 0, sizeof *st);
    for (unsigned s = 0; s < 2; s++) {
        uint32_t base = counter_base(p, id, s);
        for (uint32_t pos = 0; pos < ss; pos += CHUNK) {
            uint32_t n = ss - pos < CHUNK ? ss - pos : CHUNK;
            fs38_err e = do_read(p, base + pos, buf, n);
            if (e != FS38_OK)
                return e;
            for (uint32_t i = 0; i < n; i += ENTRY_SIZE) {
                uint64_t v;
                uint32_t g;
                if (entry_erased(buf + i))
                    continue;
                st->next[s] = (pos + i) / ENTRY_SIZE + 1u;
                if (entry_decode(buf + i, &v, &g) && v > st->value) {
                    st->value = v;
                    st->gen = g;
                    st->active = s;
                }
            }
        }
    }
    return FS38_OK;
}

static FS38_NODISCARD fs38_err port_counter_read(void *ctx, fs38_counter_id id, uint64_t *value)
{
    fs38_posix *p = ctx;
    counter_state st;
    if (!p || !value || (unsigned)id >= FS38_COUNTER_COUNT)
        return FS38_ERR_ARG;
    if (p->off)
        return FS38_ERR_POWER;
    fs38_err e = counter_scan(p, id, &st);
    if (e != FS38_OK)
        return e;
    *value = st.value;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err port_counter_advance(void *ctx, fs38_counter_id id, uint64_t value)
{
    fs38_posix *p = ctx;
    counter_state st;
    uint8_t entry[ENTRY_SIZE];
    const uint32_t slots = p ? p->cfg.sector_size / ENTRY_SIZE : 0;
    if (!p || (unsigned)id >= FS38_COUNTER_COUNT || value > COUNTER_MAX)
        return FS38_ERR_ARG;
    if (p->off)
        return FS38_ERR_POWER;
    fs38_err e = counter_scan(p, id, &st);
    if (e != FS38_OK)
        return e;
    if (value <= st.value)
        return FS38_OK;

    unsigned sector = st.active;
    uint32_t slot = st.next[sector];
    uint32_t gen = st.gen ? st.gen : 1u;
    if (slot >= slots) {
        /* Active sector full: restart in the other one. */
        sector ^= 1u;
        slot = 0;
        gen = gen >= GEN_MAX ? 1u : gen + 1u;
        e = do_erase(p, counter_base(p, id, sector), p->cfg.sector_size);
        if (e != FS38_OK)
            return e;
    }
    put_le64(entry, value);
    put_le32(entry + 8, entry_check(value, gen));
    put_le32(entry + 12, gen);
    return do_program(p, counter_base(p, id, sector) + slot * ENTRY_SIZE, entry, sizeof entry);
}

/* ---- security state (control 5): the debug "OTP bit" is FS38_COUNTER_SPARE ------------ */

static FS38_NODISCARD fs38_err read_services(const fs38_posix *p, fs38_security_state *out)
{
    if (!p->services_path[0])
        return FS38_OK;
    FILE *f = fopen(p->services_path, "r");
    if (!f)
        return errno == ENOENT ? FS38_OK : FS38_ERR_IO;
    char line[256];
    fs38_err e = FS38_OK;
    while (e == FS38_OK && fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        line[n] = 0;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            s[--n] = 0;
        if (!n || s[0] == '#')
            continue;
        if (out->n_services >= FS38_SERVICES_MAX || n >= FS38_SERVICE_NAME_MAX)
            e = FS38_ERR_IO;
        for (size_t i = 0; e == FS38_OK && i < n; i++)
            if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
                e = FS38_ERR_IO;
        if (e == FS38_OK)
            memcpy(out->services[out->n_services++], s, n + 1);
    }
    if (ferror(f))
        e = FS38_ERR_IO;
    fclose(f);
    return e;
}

static FS38_NODISCARD fs38_err port_security_state(void *ctx, fs38_security_state *out)
{
    fs38_posix *p = ctx;
    uint64_t fuse = 0;
    if (!p || !out)
        return FS38_ERR_ARG;
    fs38_err e = port_counter_read(p, FS38_COUNTER_SPARE, &fuse);
    if (e != FS38_OK)
        return e;
    out->debug = fuse ? FS38_DEBUG_ALL : 0u;
    out->secure_boot = 1;
    return read_services(p, out);
}

static FS38_NODISCARD fs38_err port_debug_lock(void *ctx)
{
    return port_counter_advance(ctx, FS38_COUNTER_SPARE, 1);
}

/* ---- device lock -------------------------------------------------------------- */

static FS38_NODISCARD fs38_err port_lock(void *ctx)
{
    fs38_posix *p = ctx;
    if (!p || !p->lock_ready)
        return FS38_ERR_ARG;
    if (pthread_mutex_lock(&p->lock_mu) != 0)
        return FS38_ERR_IO;
    if (p->lock_depth == 0 && p->fd >= 0) {
        int r;
        while ((r = flock(p->fd, LOCK_EX)) != 0 && errno == EINTR)
            ;
        if (r != 0) {
            pthread_mutex_unlock(&p->lock_mu);
            return FS38_ERR_IO;
        }
        p->lock_fd = p->fd;
    }
    p->lock_depth++;
    return FS38_OK;
}

static void port_unlock(void *ctx)
{
    fs38_posix *p = ctx;
    /* only the holder calls unlock: lock_depth is its own */
    if (!p || !p->lock_ready || p->lock_depth == 0)
        return;
    if (--p->lock_depth == 0 && p->lock_fd >= 0) {
        if (p->lock_fd == p->fd)
            (void)flock(p->lock_fd, LOCK_UN);
        p->lock_fd = -1;
    }
    pthread_mutex_unlock(&p->lock_mu);
}

unsigned fs38_posix_lock_depth(const fs38_posix *p)
{
    return p && p->lock_ready ? p->lock_depth : 0u;
}

/* ---- open / close --------------------------------------------------------------- */

static int geometry_ok(const fs38_posix_config *c)
{
    const uint64_t ss = c->sector_size;
    if (ss < 256 || (ss & (ss - 1u)) != 0)
        return 0;
    if (c->flash_size == 0 || c->flash_size % c->sector_size)
        return 0;
    if (c->counter_offset % c->sector_size)
        return 0;
    return (uint64_t)c->counter_offset + FS38_POSIX_COUNTER_SECTORS * ss <= c->flash_size;
}

/* Keep our descriptor >= 3 so a zeroed (never opened) struct's fd 0 is never closed. */
static int fd_above_stdio(int fd)
{
    if (fd >= 0 && fd <= 2) {
        int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        close(fd);
        return d;
    }
    return fd;
}

static FS38_NODISCARD fs38_err open_file(fs38_posix *p)
{
    int fd = open(p->path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = fd_above_stdio(open(p->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (fd < 0)
            return FS38_ERR_IO;
        if (raw_fill_ff(fd, 0, p->cfg.flash_size) != FS38_OK) {
            close(fd);
            unlink(p->path);
            return FS38_ERR_IO;
        }
        p->fd = fd;
        return FS38_OK;
    }
    fd = fd_above_stdio(fd);
    if (fd < 0)
        return FS38_ERR_IO;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size != (off_t)p->cfg.flash_size) {
        close(fd);
        return FS38_ERR_IO;
    }
    p->fd = fd;
    return FS38_OK;
}

fs38_err fs38_posix_open(fs38_posix *p, const fs38_posix_config *cfg, fs38_port *port)
{
    if (!p || !cfg || !port)
        return FS38_ERR_ARG;
    /* cfg may point into *p (reopen with &p->cfg): copy before clearing. */
    fs38_posix_config c = *cfg;
    char path[sizeof p->path];
    char huk[sizeof p->huk_path];
    if (!c.path || !c.path[0] || strlen(c.path) >= sizeof path || !geometry_ok(&c))
        return FS38_ERR_ARG;
    if (c.huk_path && (!c.huk_path[0] || strlen(c.huk_path) >= sizeof huk - 32))
        return FS38_ERR_ARG;

    memcpy(path, c.path, strlen(c.path) + 1);
    huk[0] = 0;
    if (c.huk_path)
        memcpy(huk, c.huk_path, strlen(c.huk_path) + 1);

    memset(p, 0, sizeof *p);
    p->fd = -1;
    p->lock_fd = -1;
    p->off = true; /* until the file is open */
    pthread_mutexattr_t ma;
    if (pthread_mutexattr_init(&ma) != 0)
        return FS38_ERR_IO;
    int mr = pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    if (mr == 0)
        mr = pthread_mutex_init(&p->lock_mu, &ma);
    pthread_mutexattr_destroy(&ma);
    if (mr != 0)
        return FS38_ERR_IO;
    p->lock_ready = true;
    memcpy(p->path, path, sizeof path);
    memcpy(p->huk_path, huk, sizeof huk);
    p->cfg = c;
    p->cfg.path = p->path;
    p->cfg.huk_path = huk[0] ? p->huk_path : NULL;

    fs38_err e = huk[0] ? huk_ensure(p->huk_path) : FS38_OK;
    if (e == FS38_OK)
        e = open_file(p);
    if (e != FS38_OK) {
        pthread_mutex_destroy(&p->lock_mu);
        p->lock_ready = false;
        return e;
    }
    p->off = false;

    memset(port, 0, sizeof *port);
    port->ctx = p;
    port->flash_size = c.flash_size;
    port->sector_size = c.sector_size;
    port->flash_read = port_flash_read;
    void *m = mmap(NULL, c.flash_size, PROT_READ, MAP_SHARED, p->fd, 0);
    p->map = m == MAP_FAILED ? NULL : m;
    port->flash_map = p->map ? port_flash_map : NULL;
    port->flash_erase = port_flash_erase;
    port->flash_program = port_flash_program;
    port->entropy = port_entropy;
    port->monotonic_ms = port_monotonic_ms;
    port->wall_time = port_wall_time;
    port->hardware_key = huk[0] ? port_hardware_key : NULL;
    port->counter_read = port_counter_read;
    port->counter_advance = port_counter_advance;
    port->lock = port_lock;
    port->unlock = port_unlock;
    port->security_state = port_security_state;
    port->debug_lock = port_debug_lock;
    return FS38_OK;
}

void fs38_posix_close(fs38_posix *p)
{
    if (!p)
        return;
    if (p->map)
        munmap((void *)(uintptr_t)p->map, p->cfg.flash_size);
    p->map = NULL;
    if (p->fd > 2)
        close(p->fd); /* also drops a flock still held */
    p->fd = -1;
    p->off = true;
    if (p->lock_ready && p->lock_depth == 0) {
        pthread_mutex_destroy(&p->lock_mu);
        p->lock_ready = false;
    }
}

fs38_err fs38_posix_set_services(fs38_posix *p, const char *path)
{
    if (!p || (path && strlen(path) >= sizeof p->services_path))
        return FS38_ERR_ARG;
    p->services_path[0] = 0;
    if (path)
        memcpy(p->services_path, path, strlen(path) + 1);
    return FS38_OK;
}

void fs38_posix_cut_at(fs38_posix *p, uint64_t k)
{
    if (p)
        p->cut_at = k ? p->ops + k : 0;
}

uint64_t fs38_posix_ops(const fs38_posix *p)
{
    return p ? p->ops : 0;
}
