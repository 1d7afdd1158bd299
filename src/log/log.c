/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.c — the security log on the device (control 7). Contract in fs38/log.h, formats in
 * docs/log-format.md; the verifier is log_verify.c.
 *
 * ---- Ring ------------------------------------------------------------------------------------
 * The region is nsect sectors. Records (header 6 + payload + MAC 32) are programmed one after
 * the other from offset 0 of a sector and never span sectors; unused space stays 0xFF. Sectors
 * are used in increasing circular order; the one holding the newest record is `cur`. At open,
 * the sector whose first record has the highest seq is the newest; going backwards, sectors
 * whose first seq keeps decreasing form the run (oldest .. newest). Within the run, records are
 * framed from offset 0 and must have consecutive seqs; a record whose seq reaches the next
 * sector's first seq was superseded (torn before the device moved on) and is ignored.
 *
 * ---- Power cuts -------------------------------------------------------------------------------
 * One record = one program. At open:
 *   - the last record (if of the current epoch) must verify with k_e: a torn one is dropped and
 *     its sector is not written again (cur_full); its seq is reused in the next sector;
 *   - a head that is the SEAL of the current epoch means the cut came between the seal and the
 *     store write of k_{e+1}: the evolution is completed;
 *   - a store ahead of the ring (head < first seq of the epoch - 1) means the newest records
 *     are gone: a LOST marker (reason "truncated") says which, and seqs continue after them;
 *   - an oldest surviving record not explained by the latest wrap marker means a cut came
 *     between erasing a sector and writing its marker: the marker is written now (no link).
 * Erasing the oldest sector happens only when the ring is full; its marker (LOST if any of its
 * records was never released, else TRIM) is the first record of the freshly erased sector and
 * carries the MAC of the last erased record (the chain link of the oldest survivor).
 *
 * ---- Keys -------------------------------------------------------------------------------------
 * The store record "log/key" = k_e (32) || epoch (u32 LE) || first seq of the epoch (u32 LE).
 * k_e exists in RAM (this context) and as a volatile PSA HMAC key; k_{e+1} = HKDF(k_e) is
 * written to the store before k_e is wiped, and only after the SEAL record (MAC'd with k_e)
 * was programmed.
 */
#include <string.h>
#include "fs38/cbor.h"
#include "inner.h"
#include "fs38/log.h"
#include "fs38/util.h"

#define REC_MAGIC 0xB0u
#define STORE_VAL_LEN (FS38_LOG_KEY_LEN + 8u)
#define STORE_REL_NAME "log/rel" /* u32 LE: records < it were released (acknowledged) */
#define MARKER_MAX 64u        /* LOST / TRIM payload */
#define MARKER_REC (FS38_LOG_OVERHEAD + MARKER_MAX)
#define CP_RESERVE (3u * FS38_LOG_REC_MAX) /* checkpoint (+ seal + marker before it) */

static const uint8_t k_zero_mac[FS38_LOG_MAC_LEN];

/* ---- little helpers ------------------------------------------------------------------------- */

static int all_ff(const uint8_t *b, size_t n)
{
    uint8_t acc = 0xFF;
    for (size_t i = 0; i < n; i++)
        acc &= b[i];
    return acc == 0xFF;
}

static uint32_t sect_off(const fs38_log *log, uint32_t s)
{
    return log->cfg.offset + s * log->sector_size;
}

static FS38_NODISCARD fs38_err rd(const fs38_log *log, uint32_t s, uint32_t off, void *buf, size_t len)
{
    return fs38_flash_read(log->cfg.port, sect_off(log, s) + off, buf, len);
}

static uint64_t now_ms(const fs38_log *log)
{
    const fs38_port *p = log->cfg.port;
    return p->monotonic_ms ? p->monotonic_ms(p->ctx) : 0;
}

static FS38_NODISCARD fs38_err read_boot(fs38_log *log)
{
    const fs38_port *p = log->cfg.port;
    uint64_t v = 0;
    if (p->counter_read) {
        fs38_err e = p->counter_read(p->ctx, FS38_COUNTER_BOOT, &v);
        if (e)
            return e;
    }
    log->boot = v;
    return FS38_OK;
}

/* A mutating step failed half-way: reopen before the next call. */
static FS38_NODISCARD fs38_err broke(fs38_log *log, fs38_err e, const char *what)
{
    log->broken = true;
    return fs38_diag_set(&log->diag, e, "log: %s (%s)", what, fs38_strerror(e));
}

static FS38_NODISCARD fs38_err ready(fs38_log *log)
{
    if (!log || !log->open)
        return FS38_ERR_STATE;
    if (log->broken)
        return fs38_diag_set(&log->diag, FS38_ERR_STATE, "log must be reopened after a failed write");
    return FS38_OK;
}

/* ---- keys -------------------------------------------------------------------------------------- */

static void drop_key(fs38_log *log)
{
    if (log->mac_key)
        psa_destroy_key(log->mac_key);
    log->mac_key = 0;
    fs38_wipe(log->key, sizeof log->key);
}


static FS38_NODISCARD fs38_err store_key(fs38_log *log, const uint8_t k[FS38_LOG_KEY_LEN], uint32_t epoch, uint32_t first)
{
    uint8_t v[STORE_VAL_LEN];
    memcpy(v, k, FS38_LOG_KEY_LEN);
    fs38_put_le32(v + FS38_LOG_KEY_LEN, epoch);
    fs38_put_le32(v + FS38_LOG_KEY_LEN + 4u, first);
    fs38_err e = fs38_store_put(log->cfg.store, FS38_LOG_STORE_NAME, v, sizeof v);
    fs38_wipe(v, sizeof v);
    return e;
}

static FS38_NODISCARD fs38_err store_released(fs38_log *log)
{
    uint8_t v[4];
    fs38_put_le32(v, log->released);
    return fs38_store_put(log->cfg.store, STORE_REL_NAME, v, sizeof v);
}

/* ---- configuration -------------------------------------------------------------------------- */

static FS38_NODISCARD fs38_err setup(fs38_log *log, const fs38_log_config *cfg)
{
    log->cfg = *cfg;
    const fs38_port *p = cfg->port;
    if (!p || !cfg->store || !p->sector_size)
        return fs38_diag_set(&log->diag, FS38_ERR_ARG, "log: no port or store");
    log->sector_size = p->sector_size;
    if (log->sector_size < 512u || cfg->offset % log->sector_size || cfg->size % log->sector_size ||
        cfg->offset > p->flash_size || cfg->size > p->flash_size - cfg->offset)
        return fs38_diag_set(&log->diag, FS38_ERR_ARG, "log: region not whole sectors inside the flash");
    log->nsect = cfg->size / log->sector_size;
    if (log->nsect < FS38_LOG_MIN_SECTORS || log->nsect > FS38_LOG_MAX_SECTORS)
        return fs38_diag_set(&log->diag, FS38_ERR_ARG, "log: %u sectors (%u..%u allowed)", log->nsect,
                             FS38_LOG_MIN_SECTORS, FS38_LOG_MAX_SECTORS);
    log->epoch_records = cfg->epoch_records ? cfg->epoch_records : FS38_LOG_EPOCH_RECORDS;
    if (log->epoch_records < 2u || log->epoch_records > 65535u)
        return fs38_diag_set(&log->diag, FS38_ERR_ARG, "log: epoch_records must be 2..65535");
    if (psa_crypto_init() != PSA_SUCCESS)
        return fs38_diag_set(&log->diag, FS38_ERR_CRYPTO, "psa_crypto_init failed");
    for (uint32_t s = 0; s < FS38_LOG_MAX_SECTORS; s++) {
        log->first[s] = FS38_LOG_FREE;
        log->end[s] = 0;
    }
    return read_boot(log);
}

/* ---- writing ---------------------------------------------------------------------------------- */

/* Program one record with payload pay[0..plen) at the write position (room checked by prepare). */
static FS38_NODISCARD fs38_err put_frame(fs38_log *log, uint8_t kind, const uint8_t *pay, size_t plen)
{
    if (plen > FS38_LOG_PAYLOAD_MAX || log->next_seq == UINT32_MAX)
        return fs38_diag_set(&log->diag, FS38_ERR_LIMIT, "log: record too large or sequence exhausted");
    uint8_t *r = log->rec;
    const size_t size = FS38_LOG_OVERHEAD + plen;
    r[0] = (uint8_t)(REC_MAGIC | kind);
    r[1] = (uint8_t)plen;
    fs38_put_le32(r + 2, log->next_seq);
    if (plen)
        memmove(r + FS38_LOG_HDR_LEN, pay, plen);
    fs38_err e = fs38_log_mac(log->mac_key, log->head, r, FS38_LOG_HDR_LEN + plen, r + FS38_LOG_HDR_LEN + plen);
    if (e)
        return broke(log, e, "MAC failed");
    e = fs38_flash_program(log->cfg.port, sect_off(log, log->cur) + log->wpos, r, size);
    if (e)
        return broke(log, e, "record write interrupted");
    memcpy(log->head, r + FS38_LOG_HDR_LEN + plen, FS38_LOG_MAC_LEN);
    if (log->wpos == 0)
        log->first[log->cur] = log->next_seq;
    log->wpos += (uint32_t)size;
    log->end[log->cur] = log->wpos;
    log->next_seq++;
    log->bytes_programmed += size;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err sector_blank(fs38_log *log, uint32_t s, uint32_t from, int *blank)
{
    *blank = 1;
    for (uint32_t off = from; off < log->sector_size;) {
        uint32_t n = log->sector_size - off;
        if (n > sizeof log->rec)
            n = (uint32_t)sizeof log->rec;
        fs38_err e = rd(log, s, off, log->rec, n);
        if (e)
            return e;
        if (!all_ff(log->rec, n)) {
            *blank = 0;
            return FS38_OK;
        }
        off += n;
    }
    return FS38_OK;
}

/* Last record of a data sector: its seq and MAC. */
static FS38_NODISCARD fs38_err last_of(fs38_log *log, uint32_t s, uint32_t *seq, uint8_t mac[FS38_LOG_MAC_LEN])
{
    uint8_t h[FS38_LOG_HDR_LEN];
    uint32_t off = 0, last = 0;
    while (off < log->end[s]) {
        fs38_err e = rd(log, s, off, h, sizeof h);
        if (e)
            return e;
        last = off;
        off += FS38_LOG_OVERHEAD + h[1];
    }
    fs38_err e = rd(log, s, last, h, sizeof h);
    if (!e)
        e = rd(log, s, last + FS38_LOG_HDR_LEN + h[1], mac, FS38_LOG_MAC_LEN);
    *seq = fs38_get_le32(h + 2);
    return e;
}

static size_t encode_marker(uint8_t kind, uint32_t from, uint32_t to, const uint8_t *link, uint32_t reason,
                            uint8_t *out)
{
    fs38_cbor_enc c;
    fs38_cbor_enc_init(&c, out, MARKER_MAX);
    fs38_cbor_put_array(&c, kind == FS38_LOG_LOST ? 4u : 3u);
    fs38_cbor_put_uint(&c, from);
    fs38_cbor_put_uint(&c, to);
    if (link)
        fs38_cbor_put_bstr(&c, link, FS38_LOG_MAC_LEN);
    else
        fs38_cbor_put_null(&c);
    if (kind == FS38_LOG_LOST)
        fs38_cbor_put_uint(&c, reason);
    size_t n = 0;
    return fs38_cbor_enc_finish(&c, &n) ? 0 : n;
}

static uint32_t oldest_seq(const fs38_log *log);

static bool is_data(const fs38_log *log, uint32_t s)
{
    return log->first[s] != FS38_LOG_FREE && log->end[s] > 0;
}

/* Range of a LOST marker for erased records up to `to` that were not all released (the caller
 * writes none when released > to: acknowledged records go without a word). Markers are
 * cumulative: the latest one alone says what became of everything before the oldest record —
 * LOST [from, to]: from..to were never released, everything before `from` was. */
static uint32_t wrap_from(const fs38_log *log, uint32_t first)
{
    uint32_t l = first;
    if (log->have_marker && log->marker_kind == FS38_LOG_LOST && log->marker_from < l)
        l = log->marker_from;
    return l < log->released ? log->released : l;
}

/* Program a marker record at the write position (room already checked). */
static FS38_NODISCARD fs38_err put_marker(fs38_log *log, uint8_t kind, uint32_t from, uint32_t to, const uint8_t *link,
                           uint32_t reason)
{
    uint8_t pay[MARKER_MAX];
    size_t n = encode_marker(kind, from, to, link, reason, pay);
    if (!n)
        return fs38_diag_set(&log->diag, FS38_ERR_LIMIT, "log: marker encoding failed");
    fs38_err e = put_frame(log, kind, pay, n);
    if (!e && reason != FS38_LOG_LOST_TRUNCATED) {
        log->have_marker = true;
        log->marker_kind = kind;
        log->marker_from = from;
        log->marker_to = to;
        log->marker_link_known = link != NULL;
        if (link)
            memcpy(log->marker_link, link, FS38_LOG_MAC_LEN);
    }
    return e;
}

static FS38_NODISCARD fs38_err use_sector(fs38_log *log, uint32_t s, bool erase)
{
    if (erase) {
        fs38_err e = fs38_flash_erase(log->cfg.port, sect_off(log, s), log->sector_size);
        if (e)
            return broke(log, e, "sector erase interrupted");
    }
    log->first[s] = FS38_LOG_FREE;
    log->end[s] = 0;
    log->cur = s;
    log->wpos = 0;
    log->cur_full = false;
    return FS38_OK;
}

/*
 * Move to the next sector. When the ring is full that is the oldest one: its marker goes first
 * (in the room prepare() kept for it in the current sector), then the sector is erased — so a
 * power cut never erases records without a marker, and the marker keeps the chain link of the
 * oldest surviving record. An interrupted erase is completed at open.
 */
static FS38_NODISCARD fs38_err advance(fs38_log *log)
{
    const uint32_t nxt = (log->cur + 1u) % log->nsect;
    fs38_err e;
    if (is_data(log, nxt)) {
        uint32_t to = 0, from;
        uint8_t kind;
        uint8_t link[FS38_LOG_MAC_LEN];
        e = last_of(log, nxt, &to, link);
        if (e)
            return broke(log, e, "reading the oldest sector failed");
        if (log->released > to) { /* all acknowledged: nothing to say */
            fs38_wipe(link, sizeof link);
            return use_sector(log, nxt, true);
        }
        kind = FS38_LOG_LOST;
        from = wrap_from(log, log->first[nxt]);
        if (!log->cur_full && log->wpos + MARKER_REC <= log->sector_size) {
            e = put_marker(log, kind, from, to, link, FS38_LOG_LOST_WRAP);
            if (!e)
                e = use_sector(log, nxt, true);
        } else {
            /* no room left behind a torn record: the marker goes first in the new sector */
            e = use_sector(log, nxt, true);
            if (!e)
                e = put_marker(log, kind, from, to, link, FS38_LOG_LOST_WRAP);
        }
        fs38_wipe(link, sizeof link);
        return e;
    }
    int blank = 0;
    e = sector_blank(log, nxt, 0, &blank);
    if (e)
        return broke(log, e, "reading a sector failed");
    return use_sector(log, nxt, !blank);
}

/* Make room for a record of `size` bytes at the write position (and, when the ring is full,
 * for the marker of the next wrap behind it). */
static FS38_NODISCARD fs38_err prepare(fs38_log *log, size_t size)
{
    const uint32_t nxt = (log->cur + 1u) % log->nsect, after = (nxt + 1u) % log->nsect;
    const uint32_t last = is_data(log, after) ? log->first[after] - 1u : log->next_seq - 1u;
    const size_t need = size + (is_data(log, nxt) && log->released <= last ? MARKER_REC : 0u);
    if (!log->cur_full && log->wpos + need <= log->sector_size)
        return FS38_OK;
    return advance(log);
}

/* A marker written at open (truncation found, or a wrap whose marker a cut prevented). */
static FS38_NODISCARD fs38_err write_marker(fs38_log *log, uint8_t kind, uint32_t from, uint32_t to, const uint8_t *link,
                             uint32_t reason)
{
    fs38_err e = prepare(log, MARKER_REC);
    return e ? e : put_marker(log, kind, from, to, link, reason);
}

/* k_{e+1}: sealed in the store before k_e is wiped; the epoch starts at next_seq. */
static FS38_NODISCARD fs38_err evolve(fs38_log *log)
{
    uint8_t nk[FS38_LOG_KEY_LEN];
    psa_key_id_t id = 0;
    if (log->epoch == UINT32_MAX)
        return fs38_diag_set(&log->diag, FS38_ERR_LIMIT, "log: epochs exhausted");
    fs38_err e = fs38_log_evolve(log->key, nk);
    if (!e)
        e = store_key(log, nk, log->epoch + 1u, log->next_seq);
    if (!e)
        e = fs38_hmac_key_import(nk, FS38_LOG_KEY_LEN, &id);
    if (e) {
        fs38_wipe(nk, sizeof nk);
        return broke(log, e, "epoch key change failed");
    }
    drop_key(log);
    memcpy(log->key, nk, sizeof nk);
    fs38_wipe(nk, sizeof nk);
    log->mac_key = id;
    log->epoch++;
    log->epoch_first = log->next_seq;
    log->epoch_start_ms = now_ms(log);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err seal_epoch(fs38_log *log)
{
    uint8_t pay[16];
    fs38_cbor_enc c;
    fs38_cbor_enc_init(&c, pay, sizeof pay);
    fs38_cbor_put_array(&c, 1);
    fs38_cbor_put_uint(&c, log->epoch);
    size_t n = 0;
    fs38_err e = fs38_cbor_enc_finish(&c, &n);
    if (!e)
        e = prepare(log, FS38_LOG_OVERHEAD + n);
    if (!e)
        e = put_frame(log, FS38_LOG_SEAL, pay, n);
    if (!e)
        e = evolve(log);
    return e;
}

/* After a record: close the epoch when it is full. */
static FS38_NODISCARD fs38_err after_record(fs38_log *log)
{
    if (log->next_seq - log->epoch_first >= log->epoch_records - 1u)
        return seal_epoch(log);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err time_seal(fs38_log *log)
{
    if (log->cfg.epoch_ms && now_ms(log) - log->epoch_start_ms >= log->cfg.epoch_ms)
        return seal_epoch(log);
    return FS38_OK;
}

/* ---- create / open / close ------------------------------------------------------------------- */

static FS38_NODISCARD fs38_err log_create(fs38_log *log, const fs38_log_config *cfg, const uint8_t *k0_in,
                                          uint8_t k0_out[FS38_LOG_KEY_LEN])
{
    if (!log || !cfg || !k0_out)
        return FS38_ERR_ARG;
    bool had = log->open && !log->broken && log->next_seq > 0;
    uint32_t prev_head = had ? log->next_seq - 1u : 0;
    fs38_log_close(log);
    fs38_err e = setup(log, cfg);
    if (e)
        return e;
    /* the old key goes first: an interrupted create leaves no log, never a half-made one */
    e = fs38_store_delete(cfg->store, FS38_LOG_STORE_NAME);
    if (!e)
        e = fs38_store_delete(cfg->store, STORE_REL_NAME);
    if (e)
        return fs38_diag_set(&log->diag, e, "log: removing the old key failed");
    e = fs38_flash_erase(cfg->port, cfg->offset, cfg->size);
    if (e)
        return fs38_diag_set(&log->diag, e, "log: erasing the ring failed");
    if (k0_in) {
        memcpy(log->key, k0_in, FS38_LOG_KEY_LEN);
    } else if (psa_generate_random(log->key, sizeof log->key) != PSA_SUCCESS) {
        fs38_wipe(log->key, sizeof log->key);
        return fs38_diag_set(&log->diag, FS38_ERR_CRYPTO, "log: no random k0");
    }
    e = fs38_hmac_key_import(log->key, FS38_LOG_KEY_LEN, &log->mac_key);
    if (e) {
        drop_key(log);
        return fs38_diag_set(&log->diag, e, "log: key import failed");
    }
    log->open = true;
    log->epoch = 0;
    log->epoch_first = 0;
    log->next_seq = 0;
    memset(log->head, 0, sizeof log->head);
    log->cur = 0;
    log->wpos = 0;
    log->epoch_start_ms = now_ms(log);

    uint8_t pay[48];
    fs38_cbor_enc c;
    fs38_cbor_enc_init(&c, pay, sizeof pay);
    fs38_cbor_put_array(&c, 5);
    fs38_cbor_put_uint(&c, FS38_LOG_FORMAT_VERSION);
    fs38_cbor_put_uint(&c, log->boot);
    fs38_cbor_put_uint(&c, log->epoch_start_ms);
    fs38_cbor_put_uint(&c, log->epoch_records);
    if (had)
        fs38_cbor_put_uint(&c, prev_head);
    else
        fs38_cbor_put_null(&c);
    size_t n = 0;
    e = fs38_cbor_enc_finish(&c, &n);
    if (!e)
        e = put_frame(log, FS38_LOG_GENESIS, pay, n);
    if (!e)
        e = store_key(log, log->key, 0, 0);
    if (e) {
        fs38_diag d = log->diag;
        fs38_log_close(log);
        log->diag = d;
        return fs38_diag_set(&log->diag, e, "log: create failed (%s)", fs38_strerror(e));
    }
    memcpy(k0_out, log->key, FS38_LOG_KEY_LEN);
    fs38_diag_clear(&log->diag);
    return FS38_OK;
}

/* What the scan found about the last records. */
typedef struct scan_result {
    bool any;
    uint32_t last_seq;
    uint8_t last_kind;
    bool last_checked;          /* the last record is of the current epoch and was verified */
    bool last_ok;
    uint32_t last_sect, last_off;
    uint8_t last_mac[FS38_LOG_MAC_LEN];
    uint8_t prev_mac[FS38_LOG_MAC_LEN]; /* MAC of the record before the last */
    bool prev_known;
    uint32_t oldest_seq;
    uint32_t newest;            /* sector whose first header has the highest seq */
    bool found;
    unsigned bad;               /* current-epoch records failing their MAC */
} scan_result;

/* The run of data sectors ending at `newest`: returns the oldest sector. */
static uint32_t find_run(fs38_log *log, uint32_t newest)
{
    uint32_t oldest = newest;
    for (uint32_t k = 1; k < log->nsect; k++) {
        uint32_t p = (newest + log->nsect - k) % log->nsect;
        uint32_t q = (p + 1u) % log->nsect;
        if (log->first[p] == FS38_LOG_FREE || log->first[p] >= log->first[q])
            break;
        oldest = p;
    }
    /* sectors outside the run are stale: reused (blank-checked, erased) when reached */
    for (uint32_t s = 0; s < log->nsect; s++) {
        uint32_t k = (s + log->nsect - oldest) % log->nsect;
        uint32_t len = (newest + log->nsect - oldest) % log->nsect;
        if (k > len)
            log->first[s] = FS38_LOG_FREE;
    }
    return oldest;
}

/* Frame every sector of the run; verify the records of the current epoch. */
static FS38_NODISCARD fs38_err scan(fs38_log *log, scan_result *r)
{
    uint8_t h[FS38_LOG_HDR_LEN];
    memset(r, 0, sizeof *r);
    uint32_t newest = 0;
    bool found = false;
    for (uint32_t s = 0; s < log->nsect; s++) {
        fs38_err e = rd(log, s, 0, h, sizeof h);
        if (e)
            return e;
        fs38_log_frame f;
        if (!all_ff(h, sizeof h) && fs38_log_frame_parse(h, sizeof h, &f) != FS38_ERR_LOG_BATCH) {
            log->first[s] = fs38_get_le32(h + 2);
            if (log->first[s] != FS38_LOG_FREE && (!found || log->first[s] > log->first[newest])) {
                newest = s;
                found = true;
            }
        }
    }
    r->newest = newest;
    r->found = found;
    if (!found) {
        log->cur = 0;
        log->cur_full = true;
        return FS38_OK;
    }
    const uint32_t oldest = find_run(log, newest);
    bool have_prev = false;
    uint32_t prev_seq = 0;
    uint8_t prev_mac[FS38_LOG_MAC_LEN];
    bool prev_mac_known = false;
    log->cur = newest;
    for (uint32_t k = 0;; k++) {
        const uint32_t s = (oldest + k) % log->nsect;
        const bool is_newest = s == newest;
        const uint32_t limit = is_newest ? UINT32_MAX : log->first[(s + 1u) % log->nsect];
        uint32_t off = 0, expect = log->first[s];
        while (off + FS38_LOG_HDR_LEN <= log->sector_size) {
            fs38_err e = rd(log, s, off, h, sizeof h);
            if (e)
                return e;
            if (all_ff(h, sizeof h))
                break;
            fs38_log_frame f;
            if (fs38_log_frame_parse(h, sizeof h, &f) == FS38_ERR_LOG_BATCH)
                break;
            if (f.seq != expect || f.seq >= limit || off + f.size > log->sector_size)
                break;
            const bool current = f.seq >= log->epoch_first;
            const bool want = current || f.kind == FS38_LOG_RELEASE || f.kind == FS38_LOG_LOST ||
                              f.kind == FS38_LOG_TRIM || f.seq + 1u >= log->epoch_first;
            bool ok = true, checked = false;
            if (want) {
                e = rd(log, s, off, log->rec, f.size);
                if (e)
                    return e;
                e = fs38_log_frame_parse(log->rec, f.size, &f);
                if (e)
                    return e;
                if (current && have_prev && prev_mac_known && prev_seq + 1u == f.seq) {
                    e = fs38_log_mac_check(log->mac_key, prev_mac, &f);
                    if (e && e != FS38_ERR_BAD_MAC)
                        return e;
                    ok = e == FS38_OK;
                    checked = true;
                } else if (current && f.seq == 0) {
                    e = fs38_log_mac_check(log->mac_key, k_zero_mac, &f);
                    if (e && e != FS38_ERR_BAD_MAC)
                        return e;
                    ok = e == FS38_OK;
                    checked = true;
                }
                fs38_log_entry en;
                if (ok && fs38_log_decode(&f, &en) == FS38_OK) {
                    if (en.kind == FS38_LOG_RELEASE && en.upto < UINT32_MAX && en.upto + 1u > log->released)
                        log->released = (uint32_t)en.upto + 1u;
                    if (en.kind == FS38_LOG_TRIM && en.to + 1u > log->released)
                        log->released = (uint32_t)en.to + 1u;
                    if ((en.kind == FS38_LOG_TRIM || (en.kind == FS38_LOG_LOST && en.reason != FS38_LOG_LOST_TRUNCATED)) &&
                        (!log->have_marker || en.to >= log->marker_to)) {
                        log->have_marker = true;
                        log->marker_kind = (uint8_t)en.kind;
                        log->marker_from = (uint32_t)en.from;
                        log->marker_to = (uint32_t)en.to;
                        log->marker_link_known = en.link != NULL;
                        if (en.link)
                            memcpy(log->marker_link, en.link, FS38_LOG_MAC_LEN);
                    }
                }
                if (r->any) {
                    memcpy(r->prev_mac, r->last_mac, FS38_LOG_MAC_LEN);
                    r->prev_known = prev_mac_known;
                }
                memcpy(prev_mac, f.mac, FS38_LOG_MAC_LEN);
                memcpy(r->last_mac, f.mac, FS38_LOG_MAC_LEN);
                prev_mac_known = true;
            } else {
                prev_mac_known = false;
                r->prev_known = false;
            }
            if (checked && !ok)
                r->bad++;
            if (!r->any)
                r->oldest_seq = f.seq;
            r->any = true;
            r->last_seq = f.seq;
            r->last_kind = f.kind;
            r->last_checked = checked;
            r->last_ok = ok;
            r->last_sect = s;
            r->last_off = off;
            have_prev = true;
            prev_seq = f.seq;
            off += (uint32_t)f.size;
            log->end[s] = off;
            expect++;
        }
        if (log->end[s] == 0)
            log->first[s] = FS38_LOG_FREE; /* nothing valid in it (a torn first record) */
        if (is_newest)
            break;
    }
    /* the write position: after the newest valid record */
    log->cur = r->any ? r->last_sect : newest;
    log->wpos = log->end[log->cur];
    return FS38_OK;
}

static FS38_NODISCARD fs38_err log_open(fs38_log *log, const fs38_log_config *cfg)
{
    if (!log)
        return FS38_ERR_ARG;
    fs38_wipe(log, sizeof *log);
    if (!cfg)
        return fs38_diag_set(&log->diag, FS38_ERR_ARG, "log: no configuration");
    fs38_err e = setup(log, cfg);
    if (e)
        return e;
    uint8_t v[STORE_VAL_LEN];
    size_t vl = 0;
    e = fs38_store_get(cfg->store, FS38_LOG_STORE_NAME, v, sizeof v, &vl);
    if (e == FS38_ERR_NOT_FOUND)
        return fs38_diag_set(&log->diag, FS38_ERR_LOG_UNINIT, "security log not initialised");
    if (e || vl != STORE_VAL_LEN) {
        fs38_wipe(v, sizeof v);
        return fs38_diag_set(&log->diag, e ? e : FS38_ERR_STORE_CORRUPT, "log: cannot read its key from the store");
    }
    memcpy(log->key, v, FS38_LOG_KEY_LEN);
    log->epoch = fs38_get_le32(v + FS38_LOG_KEY_LEN);
    log->epoch_first = fs38_get_le32(v + FS38_LOG_KEY_LEN + 4u);
    fs38_wipe(v, sizeof v);
    e = fs38_store_get(cfg->store, STORE_REL_NAME, v, 4, &vl);
    if (e == FS38_OK && vl == 4)
        log->released = fs38_get_le32(v);
    else if (e != FS38_ERR_NOT_FOUND && e != FS38_OK)
        return fs38_diag_set(&log->diag, e, "log: cannot read the release point from the store");
    const uint32_t stored_released = log->released;
    e = fs38_hmac_key_import(log->key, FS38_LOG_KEY_LEN, &log->mac_key);
    if (e) {
        drop_key(log);
        return fs38_diag_set(&log->diag, e, "log: key import failed");
    }
    log->open = true;
    log->epoch_start_ms = now_ms(log);

    scan_result r;
    e = scan(log, &r);
    if (e)
        goto fail;
    bool reuse = false; /* erase log->cur and write from its start */
    if (r.any && r.last_checked && !r.last_ok) {
        /* a torn (or damaged) newest record: drop it, never write after it */
        r.bad--;
        log->end[r.last_sect] = r.last_off;
        log->wpos = r.last_off;
        log->cur_full = true;
        if (r.last_off == 0) {
            log->first[r.last_sect] = FS38_LOG_FREE;
            reuse = true;
        }
        if (r.last_seq == r.oldest_seq) {
            r.any = false;
        } else {
            r.last_seq--;
            r.last_kind = 0;
            memcpy(r.last_mac, r.prev_mac, FS38_LOG_MAC_LEN);
        }
    }
    if (r.found && (r.newest != log->cur || (!r.any && !reuse))) {
        /* the newest sector holds nothing valid (its first record was torn): start it again
         * (or just erase it when it is not the next one), so that its stale header can never
         * supersede what is written next */
        log->first[r.newest] = FS38_LOG_FREE;
        log->end[r.newest] = 0;
        if (!r.any || r.newest == (log->cur + 1u) % log->nsect) {
            log->cur = r.newest;
            reuse = true;
        } else {
            e = fs38_flash_erase(cfg->port, sect_off(log, r.newest), log->sector_size);
            if (e)
                goto fail;
        }
    }
    log->damaged = r.bad > 0;
    if (reuse) {
        e = fs38_flash_erase(cfg->port, sect_off(log, log->cur), log->sector_size);
        if (e)
            goto fail;
        log->wpos = 0;
        log->cur_full = false;
    }
    if (r.any) {
        log->next_seq = r.last_seq + 1u;
        memcpy(log->head, r.last_mac, FS38_LOG_MAC_LEN);
    } else {
        log->next_seq = 0;
        memset(log->head, 0, sizeof log->head);
    }
    if (!log->cur_full && !reuse) {
        int blank = 0;
        e = sector_blank(log, log->cur, log->wpos, &blank);
        if (e)
            goto fail;
        log->cur_full = !blank;
    }
    /* 0. a release whose store write was cut: the RELEASE record is there, make it durable */
    if (log->released > stored_released) {
        e = store_released(log);
        if (e)
            goto fail;
    }
    /* 1. a seal of this epoch whose key change did not complete */
    if (r.any && r.last_kind == FS38_LOG_SEAL && r.last_seq >= log->epoch_first) {
        e = evolve(log);
        if (e)
            goto fail;
    }
    /* 2. the ring lost its newest records (the store knows the epoch began later) */
    const uint32_t min_next = log->epoch_first ? log->epoch_first : 1u;
    uint32_t truncated_to = 0; /* a truncation marker covers records < this */
    if (log->next_seq < min_next) {
        truncated_to = min_next;
        uint32_t from = log->next_seq;
        log->next_seq = min_next;
        e = write_marker(log, FS38_LOG_LOST, from, min_next - 1u, NULL, FS38_LOG_LOST_TRUNCATED);
        if (e)
            goto fail;
    }
    /* 3. a marker written, its sector's erase cut: finish the erase */
    for (uint32_t k = 1; k < log->nsect && log->have_marker; k++) {
        const uint32_t s = (log->cur + k) % log->nsect;
        if (!is_data(log, s))
            continue;
        if (log->first[s] > log->marker_to)
            break;
        e = fs38_flash_erase(cfg->port, sect_off(log, s), log->sector_size);
        if (e)
            goto fail;
        log->first[s] = FS38_LOG_FREE;
        log->end[s] = 0;
    }
    /* 4. an erased sector whose marker was never written (cut between the erase and a marker
     * that had no room before it) */
    const uint32_t oldest = oldest_seq(log);
    if (oldest > truncated_to && oldest <= log->next_seq && log->released < oldest &&
        (!log->have_marker || log->marker_to + 1u < oldest)) {
        const uint32_t from = wrap_from(log, log->have_marker ? log->marker_to + 1u : 0u);
        e = write_marker(log, FS38_LOG_LOST, from, oldest - 1u, NULL, FS38_LOG_LOST_CUT);
        if (e)
            goto fail;
    }
    /* 5. a full epoch whose seal was cut */
    e = after_record(log);
    if (e)
        goto fail;
    fs38_diag_clear(&log->diag);
    return FS38_OK;
fail:;
    fs38_diag d = log->diag;
    fs38_log_close(log);
    log->diag = d;
    if (log->diag.err == FS38_OK)
        fs38_diag_set(&log->diag, e, "log open failed");
    return e;
}

void fs38_log_close(fs38_log *log)
{
    if (!log)
        return;
    if (log->mac_key)
        psa_destroy_key(log->mac_key);
    fs38_wipe(log, sizeof *log);
}

/* ---- appending -------------------------------------------------------------------------------- */

static FS38_NODISCARD fs38_err log_append(fs38_log *log, const fs38_event_rec *ev)
{
    fs38_err e = ready(log);
    if (e)
        return e;
    if (!ev)
        return FS38_ERR_ARG;
    e = time_seal(log);
    if (e)
        return e;
    size_t dl = 0;
    if (ev->detail)
        while (dl < FS38_LOG_DETAIL_MAX && ev->detail[dl])
            dl++;
    /* never cut a UTF-8 sequence in half */
    if (ev->detail && dl == FS38_LOG_DETAIL_MAX)
        while (dl && ((uint8_t)ev->detail[dl] & 0xC0u) == 0x80u)
            dl--;
    fs38_cbor_enc c;
    fs38_cbor_enc_init(&c, log->pay, sizeof log->pay);
    fs38_cbor_put_array(&c, 6);
    fs38_cbor_put_int(&c, (int64_t)ev->code);
    fs38_cbor_put_int(&c, (int64_t)ev->severity);
    fs38_cbor_put_uint(&c, log->boot);
    fs38_cbor_put_uint(&c, now_ms(log));
    fs38_cbor_put_int(&c, ev->arg);
    fs38_cbor_put_tstr(&c, ev->detail ? ev->detail : "", dl);
    size_t n = 0;
    e = fs38_cbor_enc_finish(&c, &n);
    if (e)
        return fs38_diag_set(&log->diag, FS38_ERR_LIMIT, "log: event too large");
    e = prepare(log, FS38_LOG_OVERHEAD + n);
    if (!e)
        e = put_frame(log, FS38_LOG_EVENT, log->pay, n);
    if (!e)
        e = after_record(log);
    return e;
}

void fs38_log_sink(void *user, const fs38_event_rec *ev)
{
    fs38_log *log = user;
    if (log && log->open && fs38_log_append(log, ev) != FS38_OK) {
        /* the sink cannot return an error: fs38_log_append left it in log->diag, and the
         * next append records the gap (a LOST marker) */
    }
}

static FS38_NODISCARD fs38_err log_tick(fs38_log *log)
{
    fs38_err e = ready(log);
    return e ? e : time_seal(log);
}

static FS38_NODISCARD fs38_err log_seal(fs38_log *log)
{
    fs38_err e = ready(log);
    return e ? e : seal_epoch(log);
}

static FS38_NODISCARD fs38_err log_release(fs38_log *log, uint32_t upto)
{
    fs38_err e = ready(log);
    if (e)
        return e;
    if (upto >= log->next_seq)
        return fs38_diag_set(&log->diag, FS38_ERR_ARG, "log: cannot release %u: the last record is %u", upto,
                             log->next_seq - 1u);
    e = time_seal(log);
    if (e)
        return e;
    uint8_t pay[32];
    fs38_cbor_enc c;
    fs38_cbor_enc_init(&c, pay, sizeof pay);
    fs38_cbor_put_array(&c, 3);
    fs38_cbor_put_uint(&c, upto);
    fs38_cbor_put_uint(&c, log->boot);
    fs38_cbor_put_uint(&c, now_ms(log));
    size_t n = 0;
    e = fs38_cbor_enc_finish(&c, &n);
    if (!e)
        e = prepare(log, FS38_LOG_OVERHEAD + n);
    if (!e)
        e = put_frame(log, FS38_LOG_RELEASE, pay, n);
    if (e)
        return e;
    if (upto + 1u > log->released) {
        log->released = upto + 1u;
        e = store_released(log);
        if (e)
            return broke(log, e, "storing the release point failed");
    }
    return after_record(log);
}

fs38_err fs38_log_note_boot(fs38_log *log)
{
    if (!log || !log->open)
        return FS38_ERR_STATE;
    return read_boot(log);
}

void fs38_log_set_sign_key(fs38_log *log, psa_key_id_t key)
{
    if (log)
        log->cfg.sign_key = key;
}

/* ---- reading the ring ------------------------------------------------------------------------- */

/* Iterate the records of the run in seq order. */
typedef struct walker {
    uint32_t k;      /* index of the sector in the run order (from cur + 1) */
    uint32_t s;
    uint32_t off;
} walker;

static void walk_start(const fs38_log *log, walker *w)
{
    w->k = 0;
    w->s = (log->cur + 1u) % log->nsect;
    w->off = 0;
}

/* Next record header: FS38_OK (h filled, its sector and offset in s, off), FS38_ERR_NOT_FOUND at the end. */
static FS38_NODISCARD fs38_err walk_next(const fs38_log *log, walker *w, uint8_t h[FS38_LOG_HDR_LEN], uint32_t *s, uint32_t *off)
{
    while (w->k < log->nsect) {
        if (log->first[w->s] != FS38_LOG_FREE && w->off < log->end[w->s]) {
            fs38_err e = rd(log, w->s, w->off, h, FS38_LOG_HDR_LEN);
            if (e)
                return e;
            *s = w->s;
            *off = w->off;
            w->off += FS38_LOG_OVERHEAD + h[1];
            return FS38_OK;
        }
        w->k++;
        w->s = (w->s + 1u) % log->nsect;
        w->off = 0;
    }
    return FS38_ERR_NOT_FOUND;
}

static uint32_t oldest_seq(const fs38_log *log)
{
    for (uint32_t k = 1; k <= log->nsect; k++) {
        uint32_t s = (log->cur + k) % log->nsect;
        if (log->first[s] != FS38_LOG_FREE && log->end[s] > 0)
            return log->first[s];
    }
    return log->next_seq;
}

/* Bytes of the records with seq in [from, next_seq). */
static FS38_NODISCARD fs38_err bytes_from(const fs38_log *log, uint32_t from, size_t *bytes)
{
    walker w;
    uint8_t h[FS38_LOG_HDR_LEN];
    uint32_t s, off;
    fs38_err e;
    *bytes = 0;
    walk_start(log, &w);
    while ((e = walk_next(log, &w, h, &s, &off)) == FS38_OK)
        if (fs38_get_le32(h + 2) >= from)
            *bytes += FS38_LOG_OVERHEAD + h[1];
    return e == FS38_ERR_NOT_FOUND ? FS38_OK : e;
}

static size_t log_export_bound(fs38_log *log, uint32_t since)
{
    size_t b = 0;
    if (ready(log) || bytes_from(log, since, &b))
        return 0;
    return FS38_LOG_BATCH_HDR_MAX + b + CP_RESERVE;
}

static FS38_NODISCARD fs38_err log_info_get(fs38_log *log, fs38_log_info *info)
{
    if (!log || !log->open || !info)
        return FS38_ERR_STATE;
    memset(info, 0, sizeof *info);
    info->next_seq = log->next_seq;
    info->oldest_seq = oldest_seq(log);
    info->released = log->released;
    info->epoch = log->epoch;
    info->epoch_first = log->epoch_first;
    info->sectors = log->nsect;
    info->boot = log->boot;
    info->damaged = log->damaged;
    info->epoch_records = log->epoch_records;
    info->bytes_programmed = log->bytes_programmed;
    info->signed_checkpoints = log->cfg.sign_key != 0;
    for (uint32_t s = 0; s < log->nsect; s++)
        if (log->first[s] != FS38_LOG_FREE && log->end[s] > 0)
            info->sectors_used++;
    info->records = log->next_seq - info->oldest_seq;
    return FS38_OK;
}

/* ---- export ---------------------------------------------------------------------------------- */

static FS38_NODISCARD fs38_err write_checkpoint(fs38_log *log, uint32_t start, const uint8_t *nonce, size_t nonce_len,
                                 bool *signed_cp)
{
    fs38_err e = time_seal(log);
    if (!e)
        e = prepare(log, FS38_LOG_REC_MAX);
    if (e)
        return e;
    const uint64_t t = now_ms(log);
    uint8_t sig[128];
    size_t sig_len = 0;
    *signed_cp = false;
    if (log->cfg.sign_key) {
        uint8_t tbs[128], pt[65], kid[FS38_KID_LEN];
        size_t tl = 0, pl = 0;
        e = fs38_log_checkpoint_tbs(log->next_seq, log->head, start, log->boot, t, nonce, nonce_len, tbs,
                                    sizeof tbs, &tl);
        if (!e && (psa_export_public_key(log->cfg.sign_key, pt, sizeof pt, &pl) != PSA_SUCCESS || pl != 65))
            e = FS38_ERR_CRYPTO;
        if (!e)
            e = fs38_key_id(pt, pl, kid);
        if (!e)
            e = fs38_cose_sign1_sign(log->cfg.sign_key, FS38_COSE_ALG_ESP256, kid, sizeof kid, tbs, tl, true, sig,
                                     sizeof sig, &sig_len);
        if (e) {
            fs38_diag_set(&log->diag, e, "log: checkpoint signing failed, exported unsigned");
            sig_len = 0;
        } else {
            *signed_cp = true;
        }
    }
    fs38_cbor_enc c;
    fs38_cbor_enc_init(&c, log->pay, sizeof log->pay);
    fs38_cbor_put_array(&c, 5);
    fs38_cbor_put_uint(&c, start);
    fs38_cbor_put_uint(&c, log->boot);
    fs38_cbor_put_uint(&c, t);
    if (nonce)
        fs38_cbor_put_bstr(&c, nonce, nonce_len);
    else
        fs38_cbor_put_null(&c);
    if (sig_len)
        fs38_cbor_put_bstr(&c, sig, sig_len);
    else
        fs38_cbor_put_null(&c);
    size_t n = 0;
    e = fs38_cbor_enc_finish(&c, &n);
    if (e)
        return fs38_diag_set(&log->diag, FS38_ERR_LIMIT, "log: checkpoint too large");
    e = put_frame(log, FS38_LOG_CHECKPOINT, log->pay, n);
    if (!e)
        e = after_record(log);
    return e;
}

/* Copy records with seq in [from, to] into out (cap bytes) in order; stops before one that
 * does not fit. *got = bytes, *last = seq of the last copied, *n = records. */
static FS38_NODISCARD fs38_err copy_records(fs38_log *log, uint32_t from, uint32_t to, uint8_t *out, size_t cap, size_t *got,
                             uint32_t *last, uint32_t *n)
{
    walker w;
    uint8_t h[FS38_LOG_HDR_LEN];
    uint32_t s, off;
    fs38_err e;
    walk_start(log, &w);
    while ((e = walk_next(log, &w, h, &s, &off)) == FS38_OK) {
        const uint32_t seq = fs38_get_le32(h + 2);
        if (seq < from)
            continue;
        if (seq > to)
            break;
        const size_t size = FS38_LOG_OVERHEAD + h[1];
        if (size > cap - *got)
            break;
        e = rd(log, s, off, out + *got, size);
        if (e)
            return e;
        *got += size;
        *last = seq;
        (*n)++;
    }
    return e == FS38_ERR_NOT_FOUND ? FS38_OK : e;
}

static FS38_NODISCARD fs38_err log_export(fs38_log *log, fs38_log_cursor *c, uint8_t *buf, size_t cap, size_t *len)
{
    fs38_err e = ready(log);
    if (e)
        return e;
    if (!c || !buf || !len || c->nonce_len > FS38_LOG_NONCE_MAX || (!c->nonce && c->nonce_len))
        return FS38_ERR_ARG;
    if (cap <= FS38_LOG_BATCH_HDR_MAX)
        return fs38_diag_set(&log->diag, FS38_ERR_BUFFER, "log export: buffer of %zu bytes", cap);
    const uint32_t oldest = oldest_seq(log);
    uint32_t S = c->next < oldest ? oldest : c->next;
    /* the oldest record's predecessor is gone: without a marker keeping its MAC (records that
     * were all released go without one) start one record later, whose predecessor is here */
    if (S == oldest && S > 0 && !(log->have_marker && log->marker_to + 1u == S && log->marker_link_known)) {
        walker w0;
        uint8_t h0[FS38_LOG_HDR_LEN];
        uint32_t s0, o0;
        walk_start(log, &w0);
        /* ... unless it is a LOST marker: what it says matters more (its link is all-zero when
         * it was written on an emptied ring) */
        if (walk_next(log, &w0, h0, &s0, &o0) != FS38_OK || (h0[0] & 0x0Fu) != FS38_LOG_LOST)
            S++;
    }
    if (S > log->next_seq)
        S = log->next_seq;
    if (!c->started) {
        c->run_start = S;
        c->started = true;
    }
    c->done = false;
    c->records = 0;
    c->signed_checkpoint = false;

    /* epoch of S (seals from S on), chain link to S, bytes up to the head */
    walker w;
    uint8_t h[FS38_LOG_HDR_LEN];
    uint32_t s, off, seals = 0;
    size_t bytes = 0;
    uint8_t prev[FS38_LOG_MAC_LEN];
    bool have_prev = false;
    walk_start(log, &w);
    while ((e = walk_next(log, &w, h, &s, &off)) == FS38_OK) {
        const uint32_t seq = fs38_get_le32(h + 2);
        if (seq + 1u == S) {
            e = rd(log, s, off + FS38_LOG_HDR_LEN + h[1], prev, sizeof prev);
            if (e)
                return e;
            have_prev = true;
        }
        if (seq >= S) {
            bytes += FS38_LOG_OVERHEAD + h[1];
            if ((h[0] & 0x0Fu) == FS38_LOG_SEAL)
                seals++;
        }
    }
    if (e != FS38_ERR_NOT_FOUND)
        return e;
    if (!have_prev) {
        if (S > 0 && log->have_marker && log->marker_to + 1u == S && log->marker_link_known)
            memcpy(prev, log->marker_link, sizeof prev);
        else if (S == log->next_seq)
            memcpy(prev, log->head, sizeof prev);
        else
            memset(prev, 0, sizeof prev); /* genesis, or a link lost to a power cut */
    }
    const uint32_t epoch = seals <= log->epoch ? log->epoch - seals : 0;
    uint8_t *blob = buf + FS38_LOG_BATCH_HDR_MAX;
    const size_t room = cap - FS38_LOG_BATCH_HDR_MAX;
    const bool final = bytes + CP_RESERVE <= room;
    size_t got = 0;
    uint32_t last = 0, n = 0;
    e = copy_records(log, S, UINT32_MAX, blob, room, &got, &last, &n);
    if (e)
        return e;
    if (final) {
        const uint32_t before = log->next_seq;
        bool sig = false;
        e = write_checkpoint(log, c->run_start, c->nonce, c->nonce_len, &sig);
        if (e)
            return e;
        /* the checkpoint and whatever its write put before it (marker, seal) */
        e = copy_records(log, before, log->next_seq - 1u, blob, room, &got, &last, &n);
        if (e)
            return e;
        /* a seal right after the checkpoint belongs to the next export */
        c->signed_checkpoint = sig;
        c->done = true;
        fs38_log_frame f;
        size_t pos = 0;
        /* the batch ends with the checkpoint: drop anything copied after it */
        size_t end = 0;
        while (pos < got && fs38_log_frame_parse(blob + pos, got - pos, &f) == FS38_OK) {
            pos += f.size;
            if (f.kind == FS38_LOG_CHECKPOINT && f.seq >= before) {
                end = pos;
                last = f.seq;
                break;
            }
        }
        if (end == 0)
            return fs38_diag_set(&log->diag, FS38_ERR_STATE, "log export: checkpoint not found");
        got = end;
    } else if (n == 0) {
        return fs38_diag_set(&log->diag, FS38_ERR_BUFFER, "log export: buffer too small for one record");
    }
    c->first = S;
    c->last = last;
    c->records = n;
    c->next = last + 1u;

    uint8_t hdr[FS38_LOG_BATCH_HDR_MAX];
    fs38_cbor_enc ce;
    fs38_cbor_enc_init(&ce, hdr, sizeof hdr);
    fs38_cbor_put_array(&ce, 6);
    fs38_cbor_put_tstr(&ce, FS38_LOG_BATCH_MAGIC, sizeof FS38_LOG_BATCH_MAGIC - 1u);
    fs38_cbor_put_uint(&ce, FS38_LOG_BATCH_VERSION);
    fs38_cbor_put_uint(&ce, S);
    fs38_cbor_put_uint(&ce, epoch);
    fs38_cbor_put_bstr(&ce, prev, sizeof prev);
    fs38_cbor_put_bstr_head(&ce, got);
    size_t hl = 0;
    e = fs38_cbor_enc_finish(&ce, &hl);
    if (e)
        return e;
    memmove(buf + hl, blob, got);
    memcpy(buf, hdr, hl);
    *len = hl + got;
    return FS38_OK;
}

void fs38_log_cursor_init(fs38_log_cursor *c, uint32_t since)
{
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    c->next = since;
}

/* ---- the public calls: under the device lock, from a fresh view ------------------------------ */

/*
 * Freshness (fs38/port.h, "Concurrency"): another context on the same ring (another task, or
 * another process of a hosted device) may have appended since this one last looked. Under the
 * lock the context checks what any writer changes: the chain head (the MAC of its last record
 * ends at its write position), the bytes at its write position (blank unless written), and the
 * first record of the next sector (what it cached, unless another writer moved on). Anything
 * different: the log is opened again from flash (keys and release point from the store). Without
 * this, two contexts appended at the same offset and records were lost while the rest verified.
 */
static FS38_NODISCARD fs38_err log_fresh(fs38_log *log, bool *same)
{
    uint8_t b[FS38_LOG_MAC_LEN];
    fs38_err e = FS38_OK;
    *same = true;
    if (log->wpos >= FS38_LOG_MAC_LEN) {
        e = rd(log, log->cur, log->wpos - FS38_LOG_MAC_LEN, b, FS38_LOG_MAC_LEN);
        *same = e == FS38_OK && fs38_ct_compare(b, log->head, FS38_LOG_MAC_LEN) == 0;
    }
    if (e == FS38_OK && *same && !log->cur_full && log->wpos + FS38_LOG_HDR_LEN <= log->sector_size) {
        e = rd(log, log->cur, log->wpos, b, FS38_LOG_HDR_LEN);
        *same = e == FS38_OK && all_ff(b, FS38_LOG_HDR_LEN);
    }
    if (e == FS38_OK && *same) {
        const uint32_t nxt = (log->cur + 1u) % log->nsect;
        e = rd(log, nxt, 0, b, FS38_LOG_HDR_LEN);
        const uint32_t on_flash = all_ff(b, FS38_LOG_HDR_LEN) ? FS38_LOG_FREE : fs38_get_le32(b + 2);
        *same = e == FS38_OK && on_flash == log->first[nxt];
    }
    fs38_wipe(b, sizeof b);
    return e;
}

/* Take the lock; reopen the log when another context wrote. On FS38_OK the caller unlocks. */
static FS38_NODISCARD fs38_err enter(fs38_log *log)
{
    fs38_err e = ready(log);
    if (e)
        return e;
    const fs38_port *p = log->cfg.port;
    e = fs38_port_lock(p);
    if (e)
        return fs38_diag_set(&log->diag, e, "log: cannot take the device lock");
    bool same = true;
    e = log_fresh(log, &same);
    if (!e && !same) {
        fs38_log_config c = log->cfg;
        fs38_log_close(log);
        e = log_open(log, &c); /* on failure: closed, diag says why */
    }
    if (e)
        fs38_port_unlock(p);
    return e;
}

#define LOCKED_CALL(log, call)                       \
    do {                                             \
        fs38_err e_ = enter(log);                    \
        if (e_)                                      \
            return e_;                               \
        const fs38_port *p_ = (log)->cfg.port;       \
        e_ = (call);                                 \
        fs38_port_unlock(p_);                        \
        return e_;                                   \
    } while (0)

fs38_err fs38_log_create(fs38_log *log, const fs38_log_config *cfg, const uint8_t *k0_in,
                         uint8_t k0_out[FS38_LOG_KEY_LEN])
{
    if (!log || !cfg || !k0_out)
        return FS38_ERR_ARG;
    const fs38_port *p = cfg->port;
    fs38_err e = fs38_port_lock(p);
    if (e)
        return fs38_diag_set(&log->diag, e, "log: cannot take the device lock");
    e = log_create(log, cfg, k0_in, k0_out);
    fs38_port_unlock(p);
    return e;
}

fs38_err fs38_log_open(fs38_log *log, const fs38_log_config *cfg)
{
    if (!log || !cfg)
        return log_open(log, cfg);
    const fs38_port *p = cfg->port;
    fs38_err e = fs38_port_lock(p);
    if (e)
        return fs38_diag_set(&log->diag, e, "log: cannot take the device lock");
    e = log_open(log, cfg);
    fs38_port_unlock(p);
    return e;
}

fs38_err fs38_log_append(fs38_log *log, const fs38_event_rec *ev)
{
    LOCKED_CALL(log, log_append(log, ev));
}

fs38_err fs38_log_tick(fs38_log *log)
{
    LOCKED_CALL(log, log_tick(log));
}

fs38_err fs38_log_seal(fs38_log *log)
{
    LOCKED_CALL(log, log_seal(log));
}

fs38_err fs38_log_release(fs38_log *log, uint32_t upto)
{
    LOCKED_CALL(log, log_release(log, upto));
}

fs38_err fs38_log_info_get(fs38_log *log, fs38_log_info *info)
{
    if (!log || !log->open || !info)
        return FS38_ERR_STATE;
    LOCKED_CALL(log, log_info_get(log, info));
}

fs38_err fs38_log_export(fs38_log *log, fs38_log_cursor *c, uint8_t *buf, size_t cap, size_t *len)
{
    LOCKED_CALL(log, log_export(log, c, buf, cap, len));
}

size_t fs38_log_export_bound(fs38_log *log, uint32_t since)
{
    if (enter(log))
        return 0;
    const fs38_port *p = log->cfg.port;
    size_t n = log_export_bound(log, since);
    fs38_port_unlock(p);
    return n;
}

const fs38_diag *fs38_log_diag(const fs38_log *log)
{
    return log ? &log->diag : NULL;
}

bool fs38_log_broken(const fs38_log *log)
{
    return log && log->broken;
}
