/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ram_port.c — the RAM flash port (see fs38_ram.h for the contract).
 *
 * Every call checks its arguments (refusals count in bad_calls), then the power state; a
 * program/erase (or a raising counter advance) is one operation, and the scheduled one is
 * done partly, switches the device off and returns FS38_ERR_POWER — the same rules as
 * port/posix's do_program / do_erase.
 */
#include "fs38_ram.h"

#include <string.h>

static FS38_NODISCARD fs38_err refuse(fs38_ram *r)
{
    r->bad_calls++;
    return FS38_ERR_ARG;
}

static bool in_flash(const fs38_ram *r, uint32_t off, uint64_t len)
{
    return (uint64_t)off + len <= r->cfg.flash_size;
}

/* Count one operation; true when this one must be cut. */
static bool next_op_is_cut(fs38_ram *r)
{
    r->ops++;
    if (r->cut_at != 0 && r->ops == r->cut_at) {
        r->cut_at = 0;
        r->off = true;
        return true;
    }
    return false;
}

static void and_bytes(uint8_t *dst, const uint8_t *src, size_t len)
{
    for (size_t i = 0; i < len; i++)
        dst[i] &= src[i];
}

/* ---- flash -------------------------------------------------------------------------------- */

/* The checks of a read or a program: no context, a refused call (counted), or power off. */
static FS38_NODISCARD fs38_err rw_check(fs38_ram *r, uint32_t off, const void *buf, size_t len)
{
    if (!r)
        return FS38_ERR_ARG;
    if ((!buf && len) || !in_flash(r, off, len))
        return refuse(r);
    return r->off ? FS38_ERR_POWER : FS38_OK;
}

static FS38_NODISCARD fs38_err ram_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    fs38_ram *r = ctx;
    fs38_err e = rw_check(r, off, buf, len);
    if (e != FS38_OK)
        return e;
    if (len)
        memcpy(buf, r->cfg.flash + off, len);
    return FS38_OK;
}

static const uint8_t *ram_map(void *ctx, uint32_t off, size_t len)
{
    fs38_ram *r = ctx;
    if (!r || r->off || !in_flash(r, off, len))
        return NULL;
    return r->cfg.flash + off;
}

static FS38_NODISCARD fs38_err ram_erase(void *ctx, uint32_t off, uint32_t len)
{
    fs38_ram *r = ctx;
    if (!r)
        return FS38_ERR_ARG;
    const uint32_t ss = r->cfg.sector_size;
    if (off % ss || len % ss || !in_flash(r, off, len))
        return refuse(r);
    if (r->off)
        return FS38_ERR_POWER;
    if (len == 0)
        return FS38_OK;
    if (next_op_is_cut(r)) {
        /* the first half of the sectors erased, and the next one's first half */
        uint32_t done = len / ss / 2u * ss + ss / 2u;
        memset(r->cfg.flash + off, 0xFF, done);
        r->bytes_erased += done;
        return FS38_ERR_POWER;
    }
    memset(r->cfg.flash + off, 0xFF, len);
    r->bytes_erased += len;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err ram_program(void *ctx, uint32_t off, const void *buf, size_t len)
{
    fs38_ram *r = ctx;
    fs38_err e = rw_check(r, off, buf, len);
    if (e != FS38_OK)
        return e;
    if (len == 0)
        return FS38_OK;
    r->bytes_programmed += len;
    if (next_op_is_cut(r)) {
        and_bytes(r->cfg.flash + off, buf, len / 2u);
        return FS38_ERR_POWER;
    }
    and_bytes(r->cfg.flash + off, buf, len);
    return FS38_OK;
}

/* ---- entropy, clocks, hardware key ------------------------------------------------------------ */

static FS38_NODISCARD fs38_err ram_entropy(void *ctx, uint8_t *buf, size_t len)
{
    fs38_ram *r = ctx;
    if (!r)
        return FS38_ERR_ARG;
    if (!buf && len)
        return refuse(r);
    if (r->off)
        return FS38_ERR_POWER;
    if (len)
        memset(buf, r->cfg.entropy_byte, len);
    return FS38_OK;
}

static uint64_t ram_monotonic_ms(void *ctx)
{
    const fs38_ram *r = ctx;
    return r ? r->clock_ms : 0;
}

static FS38_NODISCARD fs38_err ram_wall_time(void *ctx, int64_t *unix_seconds)
{
    fs38_ram *r = ctx;
    if (!r)
        return FS38_ERR_ARG;
    if (!unix_seconds)
        return refuse(r);
    if (r->wall_seconds == 0)
        return FS38_ERR_NOT_FOUND;
    *unix_seconds = r->wall_seconds;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err ram_hardware_key(void *ctx, uint8_t *out, size_t len)
{
    fs38_ram *r = ctx;
    if (!r)
        return FS38_ERR_ARG;
    if (!out || len == 0 || len > r->cfg.huk_len || !r->cfg.huk)
        return refuse(r);
    if (r->off)
        return FS38_ERR_POWER;
    memcpy(out, r->cfg.huk, len);
    return FS38_OK;
}

/* ---- monotonic counters -------------------------------------------------------------------- */

static FS38_NODISCARD fs38_err ram_counter_read(void *ctx, fs38_counter_id id, uint64_t *value)
{
    fs38_ram *r = ctx;
    if (!r)
        return FS38_ERR_ARG;
    if (!value || (unsigned)id >= FS38_COUNTER_COUNT)
        return refuse(r);
    if (r->off)
        return FS38_ERR_POWER;
    *value = r->counters[id];
    return FS38_OK;
}

static FS38_NODISCARD fs38_err ram_counter_advance(void *ctx, fs38_counter_id id, uint64_t value)
{
    fs38_ram *r = ctx;
    if (!r)
        return FS38_ERR_ARG;
    if ((unsigned)id >= FS38_COUNTER_COUNT)
        return refuse(r);
    if (r->off)
        return FS38_ERR_POWER;
    if (value <= r->counters[id])
        return FS38_OK; /* nothing to write */
    r->bytes_programmed += FS38_RAM_COUNTER_ENTRY;
    if (next_op_is_cut(r))
        return FS38_ERR_POWER; /* the entry never completed: the old value stands */
    r->counters[id] = value;
    return FS38_OK;
}

/* ---- set-up ------------------------------------------------------------------------------------ */

static bool config_ok(const fs38_ram_config *c)
{
    const uint32_t ss = c->sector_size;
    if (!c->flash || ss < 16u || (ss & (ss - 1u)) != 0)
        return false;
    if (c->flash_size == 0 || c->flash_size % ss)
        return false;
    if (c->huk && (c->huk_len == 0 || c->huk_len > FS38_RAM_HUK_MAX))
        return false;
    return true;
}

fs38_err fs38_ram_init(fs38_ram *r, const fs38_ram_config *cfg, fs38_port *port)
{
    if (!r || !cfg || !port || !config_ok(cfg))
        return FS38_ERR_ARG;
    memset(r, 0, sizeof *r);
    r->cfg = *cfg;
    r->clock_ms = cfg->clock_ms;
    r->wall_seconds = cfg->wall_seconds;
    fs38_ram_erase_all(r);

    memset(port, 0, sizeof *port);
    port->ctx = r;
    port->flash_size = cfg->flash_size;
    port->sector_size = cfg->sector_size;
    port->flash_read = ram_read;
    port->flash_map = cfg->map ? ram_map : NULL;
    port->flash_erase = ram_erase;
    port->flash_program = ram_program;
    port->entropy = cfg->fixed_entropy ? ram_entropy : NULL;
    port->monotonic_ms = ram_monotonic_ms;
    port->wall_time = ram_wall_time;
    port->hardware_key = cfg->huk ? ram_hardware_key : NULL;
    port->counter_read = ram_counter_read;
    port->counter_advance = ram_counter_advance;
    return FS38_OK;
}

void fs38_ram_erase_all(fs38_ram *r)
{
    if (!r || !r->cfg.flash)
        return;
    memset(r->cfg.flash, 0xFF, r->cfg.flash_size);
    memset(r->counters, 0, sizeof r->counters);
}

void fs38_ram_cut_at(fs38_ram *r, uint64_t k)
{
    if (r)
        r->cut_at = k ? r->ops + k : 0;
}

void fs38_ram_reboot(fs38_ram *r)
{
    if (!r)
        return;
    r->off = false;
    r->cut_at = 0;
    r->ops = 0;
}

uint64_t fs38_ram_ops(const fs38_ram *r)
{
    return r ? r->ops : 0;
}
