/* SPDX-License-Identifier: Apache-2.0 */
/* bootstate.c — power-safe persistent boot/update state: append-only checked records in two sectors. */
#include <string.h>
#include "fs38/bootstate.h"
#include "fs38/util.h"
#include "inner.h"

#define MAGIC 0x46533842u /* "FS8B" */

/* layout: magic(4) seq(4) confirmed pending_slot pending dl_slot (4) dl_bytes(8) digest(32)
 *         committed(1) pad(3) check(8) */
static FS38_NODISCARD fs38_err encode(const fs38_bootstate *st, uint8_t r[FS38_BOOTSTATE_RECORD])
{
    memset(r, 0, FS38_BOOTSTATE_RECORD);
    fs38_put_le32(r, MAGIC);
    fs38_put_le32(r + 4, st->seq);
    r[8] = st->confirmed_slot;
    r[9] = st->pending_slot;
    r[10] = st->pending;
    r[11] = st->dl_slot;
    fs38_put_le32(r + 12, (uint32_t)st->dl_bytes);
    fs38_put_le32(r + 16, (uint32_t)(st->dl_bytes >> 32));
    memcpy(r + 20, st->dl_digest, 32);
    r[52] = st->committed;
    uint8_t h[32];
    fs38_err e = fs38_sha256(r, 56, h);
    if (e)
        return e; /* never write a record whose check value was not computed */
    memcpy(r + 56, h, 8);
    return FS38_OK;
}

static bool decode(const uint8_t r[FS38_BOOTSTATE_RECORD], fs38_bootstate *st)
{
    uint8_t h[32];
    if (fs38_get_le32(r) != MAGIC || fs38_sha256(r, 56, h) != FS38_OK || fs38_ct_compare(h, r + 56, 8) != 0)
        return false;
    st->seq = fs38_get_le32(r + 4);
    st->confirmed_slot = r[8];
    st->pending_slot = r[9];
    st->pending = r[10];
    st->dl_slot = r[11];
    st->dl_bytes = (uint64_t)fs38_get_le32(r + 12) | (uint64_t)fs38_get_le32(r + 16) << 32;
    memcpy(st->dl_digest, r + 20, 32);
    st->committed = r[52];
    return st->seq != 0;
}

static bool erased(const uint8_t *r)
{
    for (size_t i = 0; i < FS38_BOOTSTATE_RECORD; i++)
        if (r[i] != 0xff)
            return false;
    return true;
}

typedef struct {
    fs38_bootstate best;
    int best_sector;       /* -1: none */
    uint32_t next_free[2]; /* first slot after the last non-erased slot, per sector */
} scan_result;

static FS38_NODISCARD fs38_err scan(const fs38_port *p, uint32_t offset, uint32_t size, scan_result *res)
{
    uint32_t ss = p->sector_size;
    if (!ss || size != 2 * ss || offset % ss)
        return FS38_ERR_ARG;
    memset(res, 0, sizeof *res);
    res->best_sector = -1;
    uint8_t buf[8 * FS38_BOOTSTATE_RECORD];
    uint32_t per = ss / FS38_BOOTSTATE_RECORD;
    for (int s = 0; s < 2; s++) {
        uint32_t base = offset + (uint32_t)s * ss;
        for (uint32_t i = 0; i < per; i += 8) { /* where the used part of the sector ends */
            uint32_t k = per - i < 8 ? per - i : 8;
            fs38_err e = fs38_flash_read(p, base + i * FS38_BOOTSTATE_RECORD, buf, k * FS38_BOOTSTATE_RECORD);
            if (e)
                return e;
            for (uint32_t j = 0; j < k; j++)
                if (!erased(buf + j * FS38_BOOTSTATE_RECORD))
                    res->next_free[s] = i + j + 1;
        }
        /* records are appended with rising sequence numbers: a sector's newest valid record is
         * its last valid one (torn records after it are skipped) */
        for (uint32_t j = res->next_free[s]; j-- > 0;) {
            fs38_err e = fs38_flash_read(p, base + j * FS38_BOOTSTATE_RECORD, buf, FS38_BOOTSTATE_RECORD);
            if (e)
                return e;
            fs38_bootstate st;
            if (decode(buf, &st)) {
                if (res->best_sector < 0 || st.seq > res->best.seq) {
                    res->best = st;
                    res->best_sector = s;
                }
                break;
            }
        }
    }
    return FS38_OK;
}

static FS38_NODISCARD fs38_err bootstate_read(const fs38_port *p, uint32_t offset, uint32_t size, fs38_bootstate *st)
{
    scan_result res;
    fs38_err e = scan(p, offset, size, &res);
    if (e)
        return e;
    if (res.best_sector < 0) {
        memset(st, 0, sizeof *st);
        st->confirmed_slot = st->pending_slot = st->dl_slot = FS38_NO_SLOT;
        return FS38_OK;
    }
    *st = res.best;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err bootstate_write(const fs38_port *p, uint32_t offset, uint32_t size, fs38_bootstate *st)
{
    scan_result res;
    fs38_err e = scan(p, offset, size, &res);
    if (e)
        return e;
    uint32_t ss = p->sector_size, per = ss / FS38_BOOTSTATE_RECORD;
    int s = res.best_sector < 0 ? 0 : res.best_sector;
    uint32_t slot = res.next_free[s];
    if (slot >= per) {
        /* active sector full: the other one only holds older records */
        s ^= 1;
        if ((e = fs38_flash_erase(p, offset + (uint32_t)s * ss, ss)))
            return e;
        slot = 0;
    }
    st->seq = res.best_sector < 0 ? 1 : res.best.seq + 1;
    uint8_t r[FS38_BOOTSTATE_RECORD];
    if ((e = encode(st, r)))
        return e;
    return fs38_flash_program(p, offset + (uint32_t)s * ss + slot * FS38_BOOTSTATE_RECORD, r, sizeof r);
}

/* Both run under the port's device lock (fs38/port.h): a write scans for the newest record and
 * the next free slot and programs it, so two writers must never interleave (they would program
 * the same slot, and NOR flash ANDs the two records into a corrupt one). */
fs38_err fs38_bootstate_read(const fs38_port *p, uint32_t offset, uint32_t size, fs38_bootstate *st)
{
    if (!p || !st)
        return FS38_ERR_ARG;
    fs38_err e = fs38_port_lock(p);
    if (e)
        return e;
    e = bootstate_read(p, offset, size, st);
    fs38_port_unlock(p);
    return e;
}

fs38_err fs38_bootstate_write(const fs38_port *p, uint32_t offset, uint32_t size, fs38_bootstate *st)
{
    if (!p || !st)
        return FS38_ERR_ARG;
    fs38_err e = fs38_port_lock(p);
    if (e)
        return e;
    e = bootstate_write(p, offset, size, st);
    fs38_port_unlock(p);
    return e;
}
