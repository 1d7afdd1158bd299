/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.c — sealed key/value store (control 6). See fs38/store.h for the contract.
 *
 * ---- Keys ----------------------------------------------------------------------------------
 * At open the port's 32-byte HUK is imported as a volatile PSA_KEY_TYPE_DERIVE key (the
 * buffer is wiped right after), and one HKDF-SHA-256 derivation (info "fs38 store v1") outputs
 * directly into two volatile, non-exportable PSA keys: 32 bytes -> AES-256 (GCM only,
 * ENCRYPT|DECRYPT), the next 32 -> HMAC-SHA-256 (SIGN|VERIFY_MESSAGE). The derive key is
 * destroyed at once. Neither key ever exists in our memory; both are re-derived identically at
 * every open, which is what makes them "persistent" without being stored anywhere (storing the
 * storage key in the store it protects would be circular; on parts with a secure element or
 * TEE the same derivation runs there).
 *
 * ---- Flash format ----------------------------------------------------------------------------
 * The region is split in nbanks >= 2 banks. One bank is active; the others are erased (or
 * stale, waiting to be erased). All integers little endian.
 *
 *   bank header (64 bytes, at bank offset 0, programmed LAST when a bank is filled):
 *     0  "FS3S"      4  u32 version = 1      8  u64 generation (> every older bank's)
 *     16 u32 seq_hw  (state number when the bank was made)
 *     20 u32 body_end (end of the compacted body; the appended log starts there)
 *     24 u64 hw_nonce (nonce of the record that committed seq_hw: its identity)
 *     32 HMAC-SHA-256(mac_key, 0x02 || body[64, body_end) || header[0, 32))
 *
 *   record (from body_end on; each starts on a multiple of 8; its padding must read 0xFF):
 *     0  u8 0xA5     1  u8 kind (1 value, 2 tombstone)     2  u16 ct_len
 *     4  u32 seq     (state number this record commits)
 *     8  u64 nonce   (GCM nonce = "FS38" || nonce as u64 big endian)
 *     16 u64 prev    (nonce of the record that committed seq - 1: the chain link)
 *     24 16-byte name tag = HMAC-SHA-256(mac_key, 0x01 || name)[0..16)
 *     40 ciphertext of (u8 name_len || name || value), ct_len bytes
 *     .. 16-byte GCM tag. The 40-byte header is the AAD.
 *
 * Appended records form a chain: seq increases by exactly one and prev names the previous
 * record's nonce (the first one links to the bank header's seq_hw / hw_nonce). The latest
 * record of a name wins; a tombstone deletes. Compaction copies the live records (verified,
 * bytes unchanged: no re-encryption, hence no nonce needed) into the next bank in circular
 * order, programs that bank's header (whose MAC covers the copied body, so the body cannot be
 * spliced), then erases the old bank. Every bank gets its turn (wear rotation).
 *
 * ---- The counter: rollback binding and nonces -----------------------------------------------
 * FS38_COUNTER_STORE holds v = L << 32 | id << 16 | att:
 *   L   = committed state number (the seq of the latest committed record),
 *   id  = the att part of the nonce of that record (together: which record committed L),
 *   att = nonce reservations made at level L.
 * Every GCM nonce is a counter value that was reached BEFORE the encryption and never used
 * before: so nonces never repeat, whatever the power cuts and whatever old image an attacker
 * writes back (the counter is outside the region and never goes down).
 *
 *   put (seq = L + 1):
 *     1. if the current counter value may already have been used as a nonce (first write
 *        after open), reserve: advance to v + 1 (att + 1);
 *     2. nonce = v; encrypt; program the record;
 *     3. commit: advance to (L + 1) << 32 | att(nonce) << 16. This value is fresh: the next
 *        put uses it as its nonce without another counter write (one counter write per put).
 *
 *   open: find the newest authentic bank, walk its chain to the last authentic record
 *     (level m, nonce n; or the header's seq_hw / hw_nonce when nothing was appended):
 *     m == L     and n identifies the committed record (n >> 32 == L - 1, att(n) == id):  OK.
 *     m == L + 1 and n was reserved at level L (n >> 16 == v >> 16, att(n) <= att):
 *                a record written but not committed (cut between 2 and 3): commit it now.
 *     otherwise: m < L or a different record at level L -> FS38_ERR_STORE_ROLLBACK
 *                ("store rolled back"), or FS38_ERR_STORE_CORRUPT when damaged bytes were
 *                seen where committed records should be; m > L + 1 -> CORRUPT (ahead of
 *                the counter, cannot happen without the key).
 *
 * Why a power cut never bricks the store nor loses an acknowledged write:
 *   - cut in 1 (counter write): counter old or v + 1; flash unchanged, m == L, id unchanged: OK.
 *   - cut in 2: the record is torn: it fails GCM (or framing) after the last committed one;
 *     m == L passes, so what follows is an interrupted write: the bank is marked dirty (never
 *     appended to again; the next write compacts). The torn attempt's nonce is burnt.
 *   - cut between 2 and 3, or in 3: m == L + 1 with a reserved nonce: committed at open.
 *   - a put returns OK only after 3, so an acknowledged write is always at or below L.
 *   - compaction changes no state (same L, same identity in the new header); the new bank is
 *     valid only once its header is complete, so a cut leaves the old bank active (the half-
 *     filled one is erased before reuse); a cut while erasing the old bank leaves a stale bank
 *     with a lower generation, erased at the next open.
 * Why rollback is detected: an attacker who copies the region, lets the device write, and
 * writes the copy back presents m < L, or (if the copy caught an uncommitted record at the
 * same level) a record whose nonce is not the committed one: refused. Splicing records of
 * different images breaks the chain (prev/seq) or the bank MAC. What an attacker can choose
 * is only which version of an UNacknowledged write (a put that never returned OK) survives,
 * exactly as a power cut would.
 *
 * ---- Damage --------------------------------------------------------------------------------
 * Fail closed (see fs38/store.h): damage in the committed part -> open fails CORRUPT.
 *
 * ---- Costs ---------------------------------------------------------------------------------
 * No index in RAM: get / put / delete read the record headers of the active bank (through a
 * 256-byte read-ahead window) and decrypt one record. Liveness for compaction is computed 32
 * records at a time (their tags in the idle plaintext buffer), so a compaction reads the
 * headers O(n^2 / 32) times. The number of live bytes is kept in RAM (computed at the first
 * write after open) for the FS38_ERR_STORE_FULL check.
 */
#include <string.h>
#include "fs38/store.h"
#include "fs38/event.h"
#include "fs38/util.h"
#include "inner.h"

#define BANK_HDR FS38_STORE_BANK_HDR
#define REC_HDR FS38_STORE_REC_HDR
#define GCM_TAG FS38_STORE_TAG
#define ALIGN FS38_STORE_ALIGN
#define NAME_TAG 16u

#define BANK_MAGIC "FS3S"
#define BANK_VERSION 1u
#define REC_MAGIC 0xA5u
#define KIND_VALUE 1u
#define KIND_TOMB 2u

#define DOM_NAME 0x01u
#define DOM_BANK 0x02u

#define LEVEL(v) ((uint32_t)((v) >> 32))
#define CID(v) ((uint32_t)(((v) >> 16) & 0xFFFFu))
#define ATT(v) ((uint32_t)((v) & 0xFFFFu))
#define LEVEL_MAX 0x7FFFFFFEu /* (L + 1) << 32 stays <= 2^63 */

static const uint8_t k_info[] = "fs38 store v1";

/* ---- little helpers ------------------------------------------------------------------------ */

static int all_ff(const uint8_t *b, size_t n)
{
    uint8_t acc = 0xFF;
    for (size_t i = 0; i < n; i++)
        acc &= b[i];
    return acc == 0xFF;
}

static uint32_t rec_size(uint32_t ct_len)
{
    return (REC_HDR + ct_len + GCM_TAG + ALIGN - 1u) & ~(ALIGN - 1u);
}

static void make_nonce(uint64_t n, uint8_t out[12])
{
    out[0] = 'F';
    out[1] = 'S';
    out[2] = '3';
    out[3] = '8';
    for (unsigned i = 0; i < 8; i++)
        out[4 + i] = (uint8_t)(n >> (56 - 8 * i));
}

static uint32_t bank_off(const fs38_store *s, uint32_t bank)
{
    return s->cfg.offset + bank * s->bank_size;
}

static FS38_NODISCARD fs38_err rd(fs38_store *s, uint32_t bank, uint32_t off, void *buf, size_t len)
{
    return fs38_flash_read(s->cfg.port, bank_off(s, bank) + off, buf, len);
}

static FS38_NODISCARD fs38_err prog(fs38_store *s, uint32_t bank, uint32_t off, const void *buf, size_t len)
{
    return fs38_flash_program(s->cfg.port, bank_off(s, bank) + off, buf, len);
}

static FS38_NODISCARD fs38_err erase_bank(fs38_store *s, uint32_t bank)
{
    return fs38_flash_erase(s->cfg.port, bank_off(s, bank), s->bank_size);
}

/* All of [off, bank_size) of a bank is erased? */
static FS38_NODISCARD fs38_err range_blank(fs38_store *s, uint32_t bank, uint32_t off, int *blank)
{
    *blank = 1;
    while (off < s->bank_size) {
        uint32_t n = s->bank_size - off;
        if (n > sizeof s->buf)
            n = (uint32_t)sizeof s->buf;
        fs38_err e = rd(s, bank, off, s->buf, n);
        if (e != FS38_OK)
            return e;
        if (!all_ff(s->buf, n)) {
            *blank = 0;
            return FS38_OK;
        }
        off += n;
    }
    return FS38_OK;
}

/* ---- counter -------------------------------------------------------------------------------- */

static FS38_NODISCARD fs38_err ctr_read(fs38_store *s, uint64_t *v)
{
    const fs38_port *p = s->cfg.port;
    return p->counter_read(p->ctx, FS38_COUNTER_STORE, v);
}

static FS38_NODISCARD fs38_err ctr_advance(fs38_store *s, uint64_t v)
{
    const fs38_port *p = s->cfg.port;
    fs38_err e = p->counter_advance(p->ctx, FS38_COUNTER_STORE, v);
    if (e == FS38_OK)
        s->counter = v;
    return e;
}

/* Make s->counter a value never used as a nonce (one counter write when needed). */
static FS38_NODISCARD fs38_err reserve(fs38_store *s)
{
    if (s->fresh)
        return FS38_OK;
    if (ATT(s->counter) >= 0xFFFFu)
        return fs38_diag_set(&s->diag, FS38_ERR_LIMIT, "store nonce reservations exhausted");
    fs38_err e = ctr_advance(s, s->counter + 1u);
    if (e == FS38_OK)
        s->fresh = true;
    return e;
}

/* Counter value that commits the record with nonce n at level L + 1. */
static uint64_t commit_value(uint32_t level, uint64_t n)
{
    return (uint64_t)(level + 1u) << 32 | (uint64_t)ATT(n) << 16;
}

/* ---- keys ----------------------------------------------------------------------------------- */

static void destroy_keys(fs38_store *s)
{
    if (s->key)
        psa_destroy_key(s->key);
    if (s->mac_key)
        psa_destroy_key(s->mac_key);
    s->key = 0;
    s->mac_key = 0;
}

static FS38_NODISCARD fs38_err derive_keys(fs38_store *s)
{
    const fs38_port *p = s->cfg.port;
    uint8_t huk[32];
    psa_key_id_t dk = 0;
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_derivation_operation_t op = PSA_KEY_DERIVATION_OPERATION_INIT;
    psa_status_t st;

    if (!p->hardware_key)
        return fs38_diag_set(&s->diag, FS38_ERR_STATE, "no hardware unique key: sealed storage unavailable");
    fs38_err e = p->hardware_key(p->ctx, huk, sizeof huk);
    if (e != FS38_OK) {
        fs38_wipe(huk, sizeof huk);
        return fs38_diag_set(&s->diag, e, "cannot read the hardware unique key");
    }
    psa_set_key_type(&a, PSA_KEY_TYPE_DERIVE);
    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&a, PSA_ALG_HKDF(PSA_ALG_SHA_256));
    st = psa_import_key(&a, huk, sizeof huk, &dk);
    fs38_wipe(huk, sizeof huk);
    psa_reset_key_attributes(&a);
    if (st != PSA_SUCCESS)
        return fs38_diag_set(&s->diag, FS38_ERR_CRYPTO, "HUK import failed (%d)", (int)st);

    st = psa_key_derivation_setup(&op, PSA_ALG_HKDF(PSA_ALG_SHA_256));
    if (st == PSA_SUCCESS)
        st = psa_key_derivation_input_key(&op, PSA_KEY_DERIVATION_INPUT_SECRET, dk);
    if (st == PSA_SUCCESS)
        st = psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_INFO, k_info, sizeof k_info - 1u);
    if (st == PSA_SUCCESS) {
        psa_set_key_type(&a, PSA_KEY_TYPE_AES);
        psa_set_key_bits(&a, 256);
        psa_set_key_usage_flags(&a, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT);
        psa_set_key_algorithm(&a, PSA_ALG_GCM);
        st = psa_key_derivation_output_key(&a, &op, &s->key);
        psa_reset_key_attributes(&a);
    }
    if (st == PSA_SUCCESS) {
        psa_set_key_type(&a, PSA_KEY_TYPE_HMAC);
        psa_set_key_bits(&a, 256);
        psa_set_key_usage_flags(&a, PSA_KEY_USAGE_SIGN_MESSAGE | PSA_KEY_USAGE_VERIFY_MESSAGE);
        psa_set_key_algorithm(&a, PSA_ALG_HMAC(PSA_ALG_SHA_256));
        st = psa_key_derivation_output_key(&a, &op, &s->mac_key);
        psa_reset_key_attributes(&a);
    }
    psa_key_derivation_abort(&op);
    psa_destroy_key(dk);
    if (st != PSA_SUCCESS) {
        destroy_keys(s);
        return fs38_diag_set(&s->diag, FS38_ERR_CRYPTO, "storage key derivation failed (%d)", (int)st);
    }
    return FS38_OK;
}

static FS38_NODISCARD fs38_err name_tag(fs38_store *s, const char *name, size_t nl, uint8_t tag[NAME_TAG])
{
    psa_mac_operation_t op = PSA_MAC_OPERATION_INIT;
    uint8_t mac[PSA_HASH_LENGTH(PSA_ALG_SHA_256)];
    const uint8_t dom = DOM_NAME;
    size_t ml = 0;
    psa_status_t st = psa_mac_sign_setup(&op, s->mac_key, PSA_ALG_HMAC(PSA_ALG_SHA_256));
    if (st == PSA_SUCCESS)
        st = psa_mac_update(&op, &dom, 1);
    if (st == PSA_SUCCESS)
        st = psa_mac_update(&op, (const uint8_t *)name, nl);
    if (st == PSA_SUCCESS)
        st = psa_mac_sign_finish(&op, mac, sizeof mac, &ml);
    psa_mac_abort(&op);
    if (st != PSA_SUCCESS || ml != sizeof mac)
        return FS38_ERR_CRYPTO;
    memcpy(tag, mac, NAME_TAG);
    fs38_wipe(mac, sizeof mac);
    return FS38_OK;
}

/* ---- records --------------------------------------------------------------------------------- */

typedef struct {
    uint32_t kind;
    uint32_t ct_len;
    uint32_t seq;
    uint64_t nonce;
    uint64_t prev;
    uint8_t tag[NAME_TAG];
    uint32_t size; /* bytes on flash, padded */
} rec_hdr;

enum { HDR_OK = 0, HDR_ERASED = 1, HDR_BAD = 2 };

/* Parse the 40-byte record header h at bank offset off. */
static int parse_rec(const fs38_store *s, const uint8_t *h, uint32_t off, rec_hdr *r)
{
    if (all_ff(h, REC_HDR))
        return HDR_ERASED;
    r->kind = h[1];
    r->ct_len = fs38_get_le16(h + 2);
    r->seq = fs38_get_le32(h + 4);
    r->nonce = fs38_get_le64(h + 8);
    r->prev = fs38_get_le64(h + 16);
    memcpy(r->tag, h + 24, NAME_TAG);
    if (h[0] != REC_MAGIC || (r->kind != KIND_VALUE && r->kind != KIND_TOMB) || r->ct_len < 2u ||
        r->ct_len > FS38_STORE_PLAIN_MAX)
        return HDR_BAD;
    r->size = rec_size(r->ct_len);
    if (off > s->bank_size || r->size > s->bank_size - off)
        return HDR_BAD;
    return HDR_OK;
}

static FS38_NODISCARD fs38_err read_rec_hdr(fs38_store *s, uint32_t bank, uint32_t off, rec_hdr *r, int *kind)
{
    uint8_t h[REC_HDR];
    if (off > s->bank_size || s->bank_size - off < REC_HDR) {
        *kind = HDR_ERASED; /* no room for another record: end of the log */
        return FS38_OK;
    }
    fs38_err e = rd(s, bank, off, h, sizeof h);
    if (e == FS38_OK)
        *kind = parse_rec(s, h, off, r);
    return e;
}

/*
 * Read-ahead over record headers of one bank for the scans below (get, put, compaction): one
 * flash read per SCAN_WIN bytes instead of one per header. Local to a scan (no writes happen
 * during one), so it never goes stale.
 */
#define SCAN_WIN 256u

typedef struct {
    uint32_t bank;
    uint32_t start, len; /* window [start, start + len) of the bank */
    uint8_t win[SCAN_WIN];
} scanner;

static void scan_init(scanner *sc, uint32_t bank)
{
    sc->bank = bank;
    sc->start = 0;
    sc->len = 0;
}

static FS38_NODISCARD fs38_err scan_hdr(fs38_store *s, scanner *sc, uint32_t off, rec_hdr *r, int *kind)
{
    if (off > s->bank_size || s->bank_size - off < REC_HDR) {
        *kind = HDR_ERASED;
        return FS38_OK;
    }
    if (off < sc->start || off + REC_HDR > sc->start + sc->len) {
        uint32_t n = s->bank_size - off;
        if (n > SCAN_WIN)
            n = SCAN_WIN;
        fs38_err e = rd(s, sc->bank, off, sc->win, n);
        if (e != FS38_OK) {
            sc->len = 0;
            return e;
        }
        sc->start = off;
        sc->len = n;
    }
    *kind = parse_rec(s, sc->win + (off - sc->start), off, r);
    return FS38_OK;
}

/*
 * Read the record at off into s->buf and authenticate it, plaintext into s->plain (the caller
 * wipes it). FS38_ERR_STORE_CORRUPT when it does not authenticate or is inconsistent.
 */
static FS38_NODISCARD fs38_err open_rec(fs38_store *s, uint32_t bank, uint32_t off, const rec_hdr *r)
{
    uint8_t nonce[12];
    size_t pl = 0;
    fs38_err e = rd(s, bank, off, s->buf, r->size);
    if (e != FS38_OK)
        return e;
    if (!all_ff(s->buf + REC_HDR + r->ct_len + GCM_TAG, r->size - (REC_HDR + r->ct_len + GCM_TAG)))
        return FS38_ERR_STORE_CORRUPT; /* padding is never programmed */
    make_nonce(r->nonce, nonce);
    psa_status_t st = psa_aead_decrypt(s->key, PSA_ALG_GCM, nonce, sizeof nonce, s->buf, REC_HDR,
                                       s->buf + REC_HDR, r->ct_len + GCM_TAG, s->plain,
                                       sizeof s->plain, &pl);
    if (st == PSA_ERROR_INVALID_SIGNATURE)
        return FS38_ERR_STORE_CORRUPT;
    if (st != PSA_SUCCESS)
        return FS38_ERR_CRYPTO;
    uint32_t nl = s->plain[0];
    if (pl != r->ct_len || nl == 0 || nl > FS38_STORE_NAME_MAX || 1u + nl > pl ||
        (r->kind == KIND_TOMB && pl != 1u + nl)) {
        fs38_wipe(s->plain, sizeof s->plain);
        return FS38_ERR_STORE_CORRUPT;
    }
    return FS38_OK;
}

/* ---- banks ------------------------------------------------------------------------------------ */

typedef struct {
    uint64_t gen;
    uint32_t seq_hw;
    uint32_t body_end;
    uint64_t hw_nonce;
} bank_hdr;

static void fill_bank_hdr(uint8_t h[BANK_HDR], const bank_hdr *b)
{
    memset(h, 0xFF, BANK_HDR);
    memcpy(h, BANK_MAGIC, 4);
    fs38_put_le32(h + 4, BANK_VERSION);
    fs38_put_le64(h + 8, b->gen);
    fs38_put_le32(h + 16, b->seq_hw);
    fs38_put_le32(h + 20, b->body_end);
    fs38_put_le64(h + 24, b->hw_nonce);
}

/* Parse a bank header's fields (not its MAC): 1 when plausible. */
static int parse_bank_hdr(const fs38_store *s, const uint8_t h[BANK_HDR], bank_hdr *b)
{
    if (memcmp(h, BANK_MAGIC, 4) != 0 || fs38_get_le32(h + 4) != BANK_VERSION)
        return 0;
    b->gen = fs38_get_le64(h + 8);
    b->seq_hw = fs38_get_le32(h + 16);
    b->body_end = fs38_get_le32(h + 20);
    b->hw_nonce = fs38_get_le64(h + 24);
    return b->gen != 0 && b->gen != UINT64_MAX && b->body_end >= BANK_HDR &&
           b->body_end <= s->bank_size && b->body_end % ALIGN == 0;
}

static FS38_NODISCARD fs38_err mac_setup(fs38_store *s, psa_mac_operation_t *op, int verify)
{
    const uint8_t dom = DOM_BANK;
    psa_status_t st = verify ? psa_mac_verify_setup(op, s->mac_key, PSA_ALG_HMAC(PSA_ALG_SHA_256))
                             : psa_mac_sign_setup(op, s->mac_key, PSA_ALG_HMAC(PSA_ALG_SHA_256));
    if (st == PSA_SUCCESS)
        st = psa_mac_update(op, &dom, 1);
    return st == PSA_SUCCESS ? FS38_OK : FS38_ERR_CRYPTO;
}

/*
 * Is bank b's header authentic (framing of its body + MAC)? *ok = 1 and *out filled when so.
 */
static FS38_NODISCARD fs38_err verify_bank(fs38_store *s, uint32_t b, const uint8_t h[BANK_HDR], bank_hdr *out, int *ok)
{
    bank_hdr bh;
    *ok = 0;
    if (!parse_bank_hdr(s, h, &bh))
        return FS38_OK;
    /* the body must be a sequence of well-framed value records ending at body_end */
    uint32_t off = BANK_HDR;
    while (off < bh.body_end) {
        rec_hdr r;
        int k;
        fs38_err e = read_rec_hdr(s, b, off, &r, &k);
        if (e != FS38_OK)
            return e;
        if (k != HDR_OK || r.kind != KIND_VALUE || r.size > bh.body_end - off)
            return FS38_OK;
        off += r.size;
    }
    psa_mac_operation_t op = PSA_MAC_OPERATION_INIT;
    fs38_err e = mac_setup(s, &op, 1);
    for (off = BANK_HDR; e == FS38_OK && off < bh.body_end;) {
        uint32_t n = bh.body_end - off;
        if (n > sizeof s->buf)
            n = (uint32_t)sizeof s->buf;
        e = rd(s, b, off, s->buf, n);
        if (e == FS38_OK && psa_mac_update(&op, s->buf, n) != PSA_SUCCESS)
            e = FS38_ERR_CRYPTO;
        off += n;
    }
    if (e == FS38_OK && psa_mac_update(&op, h, 32) != PSA_SUCCESS)
        e = FS38_ERR_CRYPTO;
    if (e == FS38_OK) {
        psa_status_t st = psa_mac_verify_finish(&op, h + 32, 32);
        if (st == PSA_SUCCESS) {
            *ok = 1;
            *out = bh;
        } else if (st != PSA_ERROR_INVALID_SIGNATURE) {
            e = FS38_ERR_CRYPTO;
        }
    }
    psa_mac_abort(&op);
    return e;
}

/* ---- lookups and liveness --------------------------------------------------------------------- */

/* Offset of the latest record (any kind) whose tag is `tag` in [from, log_end); 0 if none. */
static FS38_NODISCARD fs38_err find_latest(fs38_store *s, const uint8_t tag[NAME_TAG], uint32_t from, uint32_t *found,
                            rec_hdr *fr)
{
    scanner sc;
    scan_init(&sc, s->active);
    *found = 0;
    for (uint32_t off = from; off < s->log_end;) {
        rec_hdr r;
        int k;
        fs38_err e = scan_hdr(s, &sc, off, &r, &k);
        if (e != FS38_OK)
            return e;
        if (k != HDR_OK)
            return FS38_ERR_STORE_CORRUPT; /* the log was verified at open: flash changed */
        if (fs38_ct_compare(r.tag, tag, NAME_TAG) == 0) {
            *found = off;
            if (fr)
                *fr = r;
        }
        off += r.size;
    }
    return FS38_OK;
}

/*
 * Liveness of up to LIVE_WIN records from `start`: a record is live when it is a value and no
 * later record has its tag. The window's tags sit in s->plain (idle here), so the rest of the
 * log is read once per window: O(n^2 / LIVE_WIN) header reads instead of O(n^2).
 */
#define LIVE_WIN 32u

typedef struct {
    unsigned n;
    uint32_t live;           /* bit i: record i of the window is live */
    uint32_t off[LIVE_WIN];
    uint32_t size[LIVE_WIN];
    uint32_t next;           /* offset after the window */
} live_window;

static FS38_NODISCARD fs38_err live_scan(fs38_store *s, uint32_t start, live_window *w)
{
    uint8_t(*tags)[NAME_TAG] = (uint8_t(*)[NAME_TAG])(void *)s->plain;
    scanner sc;
    scan_init(&sc, s->active);
    w->n = 0;
    w->live = 0;
    w->next = start;
    uint32_t off = start;
    fs38_err e = FS38_OK;
    while (e == FS38_OK && off < s->log_end) {
        rec_hdr r;
        int k;
        e = scan_hdr(s, &sc, off, &r, &k);
        if (e != FS38_OK)
            break;
        if (k != HDR_OK) {
            e = FS38_ERR_STORE_CORRUPT;
            break;
        }
        unsigned in_window = w->n < LIVE_WIN;
        for (unsigned i = 0; i < w->n; i++)
            if ((w->live >> i & 1u) && fs38_ct_compare(tags[i], r.tag, NAME_TAG) == 0)
                w->live &= ~(1u << i);
        if (in_window) {
            memcpy(tags[w->n], r.tag, NAME_TAG);
            w->off[w->n] = off;
            w->size[w->n] = r.size;
            if (r.kind == KIND_VALUE)
                w->live |= 1u << w->n;
            w->n++;
            w->next = off + r.size;
        }
        off += r.size;
    }
    fs38_wipe(s->plain, LIVE_WIN * NAME_TAG);
    return e;
}

static FS38_NODISCARD fs38_err live_bytes(fs38_store *s, uint32_t *total)
{
    live_window w;
    *total = 0;
    for (uint32_t off = BANK_HDR; off < s->log_end; off = w.next) {
        fs38_err e = live_scan(s, off, &w);
        if (e != FS38_OK)
            return e;
        for (unsigned i = 0; i < w.n; i++)
            if (w.live >> i & 1u)
                *total += w.size[i];
    }
    return FS38_OK;
}

/* ---- compaction ------------------------------------------------------------------------------ */

/* Erase bank b unless it is blank already. */
static FS38_NODISCARD fs38_err ensure_blank(fs38_store *s, uint32_t b)
{
    int blank;
    fs38_err e = range_blank(s, b, 0, &blank);
    if (e == FS38_OK && !blank)
        e = erase_bank(s, b);
    return e;
}

/* Program a bank header (MAC over body + header fields; the body was fed to op already). */
static FS38_NODISCARD fs38_err write_bank_hdr(fs38_store *s, uint32_t b, const bank_hdr *bh, psa_mac_operation_t *op)
{
    uint8_t h[BANK_HDR];
    size_t ml = 0;
    fill_bank_hdr(h, bh);
    if (psa_mac_update(op, h, 32) != PSA_SUCCESS ||
        psa_mac_sign_finish(op, h + 32, 32, &ml) != PSA_SUCCESS || ml != 32)
        return FS38_ERR_CRYPTO;
    return prog(s, b, 0, h, sizeof h);
}

static FS38_NODISCARD fs38_err compact(fs38_store *s)
{
    const uint32_t t = (s->active + 1u) % s->nbanks;
    psa_mac_operation_t op = PSA_MAC_OPERATION_INIT;
    uint32_t pos = BANK_HDR;
    fs38_err e = ensure_blank(s, t);
    if (e == FS38_OK)
        e = mac_setup(s, &op, 0);
    live_window w;
    for (uint32_t off = BANK_HDR; e == FS38_OK && off < s->log_end; off = w.next) {
        e = live_scan(s, off, &w);
        for (unsigned i = 0; e == FS38_OK && i < w.n; i++) {
            if (!(w.live >> i & 1u))
                continue;
            rec_hdr r;
            int k;
            e = read_rec_hdr(s, s->active, w.off[i], &r, &k);
            if (e == FS38_OK && k != HDR_OK)
                e = FS38_ERR_STORE_CORRUPT;
            /* verify before copying: never carry damaged bytes under a fresh MAC */
            if (e == FS38_OK)
                e = open_rec(s, s->active, w.off[i], &r);
            fs38_wipe(s->plain, sizeof s->plain);
            if (e == FS38_OK)
                e = prog(s, t, pos, s->buf, r.size);
            if (e == FS38_OK && psa_mac_update(&op, s->buf, r.size) != PSA_SUCCESS)
                e = FS38_ERR_CRYPTO;
            pos += r.size;
        }
    }
    bank_hdr bh = { s->generation + 1u, s->level, pos, s->last_nonce };
    if (e == FS38_OK)
        e = write_bank_hdr(s, t, &bh, &op);
    psa_mac_abort(&op);
    if (e != FS38_OK)
        return e;
    /* the new bank is authoritative from here on */
    const uint32_t old = s->active;
    s->active = t;
    s->generation = bh.gen;
    s->body_end = pos;
    s->log_end = pos;
    s->dirty = false;
    s->live = pos - BANK_HDR;
    s->live_known = true;
    return erase_bank(s, old);
}

/* ---- open ----------------------------------------------------------------------------------- */

static FS38_NODISCARD fs38_err setup_geometry(fs38_store *s)
{
    const fs38_store_config *c = &s->cfg;
    const fs38_port *p = c->port;
    if (!p || !p->flash_read || !p->flash_program || !p->flash_erase || !p->counter_read ||
        !p->counter_advance || !p->sector_size)
        return fs38_diag_set(&s->diag, FS38_ERR_ARG, "store: port lacks flash or counters");
    const uint32_t ss = p->sector_size;
    const uint32_t bs = c->bank_size ? c->bank_size : ss;
    if (bs % ss || bs < BANK_HDR + FS38_STORE_REC_MAX || c->offset % ss || c->size % bs ||
        c->size / bs < 2u || c->offset > p->flash_size || c->size > p->flash_size - c->offset)
        return fs38_diag_set(&s->diag, FS38_ERR_ARG, "store: bad region geometry");
    s->bank_size = bs;
    s->nbanks = c->size / bs;
    return FS38_OK;
}

/* Format: bank 0 gets an empty level-0 header; every other non-blank bank is erased. */
static FS38_NODISCARD fs38_err format_empty(fs38_store *s)
{
    psa_mac_operation_t op = PSA_MAC_OPERATION_INIT;
    fs38_err e = FS38_OK;
    for (uint32_t b = 0; b < s->nbanks && e == FS38_OK; b++)
        e = ensure_blank(s, b);
    bank_hdr bh = { 1u, 0u, BANK_HDR, 0u };
    if (e == FS38_OK)
        e = mac_setup(s, &op, 0);
    if (e == FS38_OK)
        e = write_bank_hdr(s, 0, &bh, &op);
    psa_mac_abort(&op);
    if (e != FS38_OK)
        return e;
    s->active = 0;
    s->generation = 1;
    s->body_end = BANK_HDR;
    s->log_end = BANK_HDR;
    s->level = 0;
    s->last_nonce = 0;
    return FS38_OK;
}

typedef struct {
    uint32_t level;
    uint64_t nonce;
} ident;

/* Damage: event + diag ("<what> at bank B offset O", or just <what> when off is NO_OFF). */
#define NO_OFF UINT32_MAX

static FS38_NODISCARD fs38_err report_corrupt(fs38_store *s, uint32_t bank, uint32_t off, const char *what)
{
    fs38_event(FS38_EV_STORE_CORRUPT, FS38_SEV_CRITICAL,
               off == NO_OFF ? -1 : (int64_t)bank_off(s, bank) + (int64_t)off, what);
    if (off == NO_OFF)
        return fs38_diag_set(&s->diag, FS38_ERR_STORE_CORRUPT, "%s", what);
    return fs38_diag_set(&s->diag, FS38_ERR_STORE_CORRUPT, "%s at bank %u offset %u", what, (unsigned)bank,
                         (unsigned)off);
}

static FS38_NODISCARD fs38_err report_rollback(fs38_store *s, uint32_t level, uint64_t v)
{
    fs38_event(FS38_EV_STORE_ROLLBACK, FS38_SEV_CRITICAL, (int64_t)LEVEL(v), "store rolled back");
    return fs38_diag_set(&s->diag, FS38_ERR_STORE_ROLLBACK, "store rolled back (state %u, counter %u)",
                         (unsigned)level, (unsigned)LEVEL(v));
}

/* Does n identify the record that committed level L according to counter value v? */
static int is_committed(uint64_t n, uint32_t level, uint64_t v)
{
    if (level == 0)
        return n == 0;
    return LEVEL(n) == level - 1u && ATT(n) == CID(v);
}

/* Mount the chosen bank: walk its appended log and check it against the counter. */
static FS38_NODISCARD fs38_err mount(fs38_store *s, uint32_t b, const bank_hdr *bh, uint64_t v)
{
    ident last = { bh->seq_hw, bh->hw_nonce }, pred = { 0, 0 };
    int have_pred = 0, damaged = 0;
    uint32_t off = bh->body_end, bad_off = 0;
    fs38_err e;

    for (;;) {
        rec_hdr r;
        int k;
        e = read_rec_hdr(s, b, off, &r, &k);
        if (e != FS38_OK)
            return e;
        if (k == HDR_ERASED)
            break;
        if (k == HDR_OK && r.seq == last.level + 1u && r.prev == last.nonce) {
            e = open_rec(s, b, off, &r);
            fs38_wipe(s->plain, sizeof s->plain);
            if (e != FS38_OK && e != FS38_ERR_STORE_CORRUPT)
                return e;
        } else {
            e = FS38_ERR_STORE_CORRUPT;
        }
        if (e != FS38_OK) {
            damaged = 1;
            bad_off = off;
            break;
        }
        pred = last;
        have_pred = 1;
        last.level = r.seq;
        last.nonce = r.nonce;
        off += r.size;
    }
    s->log_end = off;
    if (!damaged) {
        int clean;
        e = range_blank(s, b, off, &clean);
        if (e != FS38_OK)
            return e;
        if (!clean) {
            damaged = 1;
            bad_off = off;
        }
    }

    const uint32_t L = LEVEL(v);
    int ok = 0, commit = 0;
    if (last.level == L) {
        ok = is_committed(last.nonce, L, v);
    } else if (L < UINT32_MAX && last.level == L + 1u) {
        ok = (last.nonce >> 16) == (v >> 16) && ATT(last.nonce) <= ATT(v) &&
             (!have_pred || is_committed(pred.nonce, L, v));
        commit = ok;
    } else if (last.level > L) {
        return report_corrupt(s, b, off, "store ahead of its counter");
    }
    if (!ok)
        return damaged ? report_corrupt(s, b, bad_off, "record failed authentication")
                       : report_rollback(s, last.level, v);

    s->dirty = damaged; /* bytes after the committed log: an interrupted write */
    s->level = last.level;
    s->last_nonce = last.nonce;
    s->counter = v;
    if (commit) {
        e = ctr_advance(s, commit_value(L, last.nonce));
        if (e != FS38_OK)
            return e;
    }
    return FS38_OK;
}

/* Find the active bank, mount it against the counter, erase stale banks (keys derived). The
 * part of open that fs38_store's freshness check repeats when another context wrote. */
static FS38_NODISCARD fs38_err locate(fs38_store *s)
{
    fs38_err e;
    uint64_t v;
    e = ctr_read(s, &v);
    if (e != FS38_OK) {
        fs38_diag_set(&s->diag, e, "cannot read the store counter");
        return e;
    }

    /* Candidates: banks with a plausible header, tried newest first; the first authentic one
     * is active (a newer but unauthentic one is a half-made bank or damage). */
    uint8_t h[BANK_HDR];
    uint32_t tried[8] = { 0 }; /* bitmap over banks (region up to 256 banks) */
    if (s->nbanks > 256u) {
        e = fs38_diag_set(&s->diag, FS38_ERR_ARG, "store: more than 256 banks");
        return e;
    }
    int found = 0, nonblank = 0;
    bank_hdr act = { 0, 0, 0, 0 };
    uint32_t ab = 0;
    for (;;) {
        uint64_t best_gen = 0;
        uint32_t best = 0;
        int have = 0;
        for (uint32_t b = 0; b < s->nbanks; b++) {
            bank_hdr bh;
            if (tried[b / 32] >> (b % 32) & 1u)
                continue;
            e = rd(s, b, 0, h, sizeof h);
            if (e != FS38_OK)
                return e;
            if (parse_bank_hdr(s, h, &bh) && (!have || bh.gen > best_gen)) {
                best_gen = bh.gen;
                best = b;
                have = 1;
            }
        }
        if (!have)
            break;
        tried[best / 32] |= 1u << (best % 32);
        int ok = 0;
        e = rd(s, best, 0, h, sizeof h);
        if (e == FS38_OK)
            e = verify_bank(s, best, h, &act, &ok);
        if (e != FS38_OK)
            return e;
        nonblank = 1;
        if (ok) {
            found = 1;
            ab = best;
            break;
        }
    }
    if (!found) {
        for (uint32_t b = 0; b < s->nbanks && !nonblank; b++) {
            int blank;
            e = range_blank(s, b, 0, &blank);
            if (e != FS38_OK)
                return e;
            nonblank = !blank;
        }
        if (LEVEL(v) == 0) {
            /* nothing was ever committed: (re)format */
            s->counter = v;
            e = format_empty(s);
            if (e != FS38_OK) {
                fs38_diag_set(&s->diag, e, "store format failed");
                return e;
            }
        } else if (nonblank) {
            e = report_corrupt(s, 0, NO_OFF, "no authentic store bank (other device key or damaged flash)");
            return e;
        } else {
            e = report_rollback(s, 0, v);
            return e;
        }
    } else {
        s->active = ab;
        s->generation = act.gen;
        s->body_end = act.body_end;
        e = mount(s, ab, &act, v);
        if (e != FS38_OK)
            return e;
    }

    /* stale banks: a completed compaction's source, a half-made bank, garbage */
    for (uint32_t b = 0; b < s->nbanks; b++) {
        if (b == s->active)
            continue;
        e = ensure_blank(s, b);
        if (e != FS38_OK)
            return e;
    }
    s->fresh = false; /* the current counter value may have been used before the cut */
    return FS38_OK;
}

fs38_err fs38_store_open(fs38_store *s, const fs38_store_config *cfg)
{
    if (!s)
        return FS38_ERR_ARG;
    fs38_store_config c;
    if (cfg)
        c = *cfg; /* cfg may point into *s (reopen with &s->cfg) */
    fs38_wipe(s, sizeof *s);
    if (!cfg)
        return fs38_diag_set(&s->diag, FS38_ERR_ARG, "store: no configuration");
    s->cfg = c;
    fs38_err e = setup_geometry(s);
    if (e != FS38_OK)
        return e;
    if (psa_crypto_init() != PSA_SUCCESS)
        return fs38_diag_set(&s->diag, FS38_ERR_CRYPTO, "psa_crypto_init failed");
    e = fs38_port_lock(s->cfg.port);
    if (e != FS38_OK) {
        fs38_diag_set(&s->diag, e, "store: cannot take the device lock");
        goto fail;
    }
    e = derive_keys(s);
    if (e == FS38_OK)
        e = locate(s); /* may repair (commit, erase stale banks): under the lock */
    fs38_port_unlock(s->cfg.port);
    if (e != FS38_OK)
        goto fail;
    s->open = true;
    fs38_diag_clear(&s->diag);
    return FS38_OK;

fail:
    destroy_keys(s);
    fs38_wipe(s->buf, sizeof s->buf);
    fs38_wipe(s->plain, sizeof s->plain);
    if (s->diag.err == FS38_OK)
        fs38_diag_set(&s->diag, e, "");
    s->open = false;
    return e;
}

void fs38_store_close(fs38_store *s)
{
    if (!s)
        return;
    destroy_keys(s);
    fs38_wipe(s, sizeof *s);
}

/* ---- put / get / delete ------------------------------------------------------------------- */

static FS38_NODISCARD fs38_err check_ready(fs38_store *s)
{
    if (!s || !s->open)
        return FS38_ERR_STATE;
    if (s->broken)
        return fs38_diag_set(&s->diag, FS38_ERR_STATE, "store must be reopened after a failed write");
    return FS38_OK;
}

static FS38_NODISCARD fs38_err check_name(const char *name, size_t *nl)
{
    if (!name)
        return FS38_ERR_ARG;
    size_t n = 0;
    while (n <= FS38_STORE_NAME_MAX && name[n])
        n++;
    if (n == 0 || n > FS38_STORE_NAME_MAX)
        return FS38_ERR_ARG;
    *nl = n;
    return FS38_OK;
}

/* A mutating step failed half-way: the RAM state is no longer trustworthy. */
static FS38_NODISCARD fs38_err broke(fs38_store *s, fs38_err e)
{
    s->broken = true;
    fs38_wipe(s->plain, sizeof s->plain);
    return fs38_diag_set(&s->diag, e, "store write interrupted (%s)", fs38_strerror(e));
}

static FS38_NODISCARD fs38_err append(fs38_store *s, uint32_t kind, const char *name, size_t nl, const uint8_t *value,
                       size_t vl, const uint8_t tag[NAME_TAG], uint32_t old_size)
{
    const uint32_t ct_len = (uint32_t)(1u + nl + vl);
    const uint32_t need = rec_size(ct_len);
    const uint32_t cap = s->bank_size - BANK_HDR;
    fs38_err e;

    if (s->level >= LEVEL_MAX)
        return fs38_diag_set(&s->diag, FS38_ERR_LIMIT, "store state counter exhausted");
    if (!s->live_known) {
        e = live_bytes(s, &s->live);
        if (e != FS38_OK)
            return e == FS38_ERR_STORE_CORRUPT ? report_corrupt(s, s->active, NO_OFF, "store changed since open") : e;
        s->live_known = true;
    }
    /* Old and new version must fit together (copy-on-write), and a value must leave room for
     * one tombstone, so that a full store can always delete. */
    const uint32_t want = need + (kind == KIND_VALUE ? rec_size(1u + FS38_STORE_NAME_MAX) : 0u);
    if (s->live > cap || want > cap - s->live)
        return fs38_diag_set(&s->diag, FS38_ERR_STORE_FULL, "store full (%u live bytes + %u > %u)",
                             (unsigned)s->live, (unsigned)want, (unsigned)cap);
    if (s->dirty || need > s->bank_size - s->log_end) {
        e = compact(s);
        if (e != FS38_OK)
            return broke(s, e);
    }
    e = reserve(s);
    if (e != FS38_OK)
        return e == FS38_ERR_LIMIT ? e : broke(s, e);

    const uint64_t n = s->counter;
    uint8_t *h = s->buf;
    h[0] = REC_MAGIC;
    h[1] = (uint8_t)kind;
    fs38_put_le16(h + 2, ct_len);
    fs38_put_le32(h + 4, s->level + 1u);
    fs38_put_le64(h + 8, n);
    fs38_put_le64(h + 16, s->last_nonce);
    memcpy(h + 24, tag, NAME_TAG);
    s->plain[0] = (uint8_t)nl;
    memcpy(s->plain + 1, name, nl);
    if (vl)
        memcpy(s->plain + 1 + nl, value, vl);
    uint8_t nonce[12];
    size_t ol = 0;
    make_nonce(n, nonce);
    s->fresh = false; /* n is spent from here on, whatever happens */
    psa_status_t st = psa_aead_encrypt(s->key, PSA_ALG_GCM, nonce, sizeof nonce, h, REC_HDR, s->plain,
                                       ct_len, s->buf + REC_HDR, sizeof s->buf - REC_HDR, &ol);
    fs38_wipe(s->plain, sizeof s->plain);
    if (st != PSA_SUCCESS || ol != ct_len + GCM_TAG)
        return broke(s, FS38_ERR_CRYPTO);
    memset(s->buf + REC_HDR + ol, 0xFF, need - (REC_HDR + ol));
    e = prog(s, s->active, s->log_end, s->buf, need);
    if (e != FS38_OK)
        return broke(s, e);
    e = ctr_advance(s, commit_value(s->level, n));
    if (e != FS38_OK)
        return broke(s, e);
    s->level++;
    s->last_nonce = n;
    s->log_end += need;
    s->live = s->live - old_size + (kind == KIND_VALUE ? need : 0u);
    s->fresh = true; /* the commit value has never been a nonce */
    return FS38_OK;
}

static FS38_NODISCARD fs38_err store_put(fs38_store *s, const char *name, const uint8_t *value, size_t len)
{
    size_t nl;
    uint8_t tag[NAME_TAG];
    fs38_err e = check_ready(s);
    if (e != FS38_OK)
        return e;
    if (check_name(name, &nl) != FS38_OK || len > FS38_STORE_VALUE_MAX || (!value && len))
        return fs38_diag_set(&s->diag, FS38_ERR_ARG, "store: bad name or value length");
    uint32_t off;
    rec_hdr old;
    e = name_tag(s, name, nl, tag);
    if (e == FS38_OK)
        e = find_latest(s, tag, BANK_HDR, &off, &old);
    if (e == FS38_ERR_STORE_CORRUPT)
        return report_corrupt(s, s->active, NO_OFF, "store changed since open");
    if (e != FS38_OK)
        return e;
    return append(s, KIND_VALUE, name, nl, value, len, tag, off && old.kind == KIND_VALUE ? old.size : 0u);
}

/* Find and open the latest record of name: FS38_OK with s->plain filled (caller wipes). */
static FS38_NODISCARD fs38_err lookup(fs38_store *s, const char *name, size_t nl, uint8_t tag[NAME_TAG], rec_hdr *r)
{
    uint32_t off;
    fs38_err e = name_tag(s, name, nl, tag);
    if (e == FS38_OK)
        e = find_latest(s, tag, BANK_HDR, &off, r);
    if (e == FS38_ERR_STORE_CORRUPT)
        return report_corrupt(s, s->active, NO_OFF, "store changed since open");
    if (e != FS38_OK)
        return e;
    if (off == 0)
        return FS38_ERR_NOT_FOUND;
    e = open_rec(s, s->active, off, r);
    if (e == FS38_OK && (s->plain[0] != nl || fs38_ct_compare(s->plain + 1, name, nl) != 0)) {
        fs38_wipe(s->plain, sizeof s->plain);
        e = FS38_ERR_STORE_CORRUPT;
    }
    if (e == FS38_ERR_STORE_CORRUPT)
        return report_corrupt(s, s->active, off, "record failed authentication");
    if (e != FS38_OK)
        return e;
    if (r->kind == KIND_TOMB) {
        fs38_wipe(s->plain, sizeof s->plain);
        return FS38_ERR_NOT_FOUND;
    }
    return FS38_OK;
}

static FS38_NODISCARD fs38_err store_get(fs38_store *s, const char *name, uint8_t *buf, size_t cap, size_t *len)
{
    size_t nl;
    uint8_t tag[NAME_TAG];
    rec_hdr r;
    fs38_err e = check_ready(s);
    if (e != FS38_OK)
        return e;
    if (check_name(name, &nl) != FS38_OK || !len || (!buf && cap))
        return fs38_diag_set(&s->diag, FS38_ERR_ARG, "store: bad name or buffer");
    e = lookup(s, name, nl, tag, &r);
    if (e != FS38_OK)
        return e;
    const size_t vl = r.ct_len - 1u - nl;
    *len = vl;
    if (vl > cap) {
        fs38_wipe(s->plain, sizeof s->plain);
        return fs38_diag_set(&s->diag, FS38_ERR_BUFFER, "value is %zu bytes, buffer %zu", vl, cap);
    }
    if (vl)
        memcpy(buf, s->plain + 1 + nl, vl);
    fs38_wipe(s->plain, sizeof s->plain);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err store_delete(fs38_store *s, const char *name)
{
    size_t nl;
    uint8_t tag[NAME_TAG];
    rec_hdr r;
    fs38_err e = check_ready(s);
    if (e != FS38_OK)
        return e;
    if (check_name(name, &nl) != FS38_OK)
        return fs38_diag_set(&s->diag, FS38_ERR_ARG, "store: bad name");
    e = lookup(s, name, nl, tag, &r);
    fs38_wipe(s->plain, sizeof s->plain);
    if (e == FS38_ERR_NOT_FOUND)
        return FS38_OK;
    if (e != FS38_OK)
        return e;
    return append(s, KIND_TOMB, name, nl, NULL, 0, tag, r.size);
}

static FS38_NODISCARD fs38_err store_compact(fs38_store *s)
{
    fs38_err e = check_ready(s);
    if (e != FS38_OK)
        return e;
    e = compact(s);
    return e == FS38_OK ? e : broke(s, e);
}

/* ---- wipe ---------------------------------------------------------------------------------- */

static FS38_NODISCARD fs38_err store_wipe(fs38_store *s)
{
    if (!s || !s->cfg.port)
        return FS38_ERR_ARG;
    const bool was_open = s->open && !s->broken;
    fs38_err e = FS38_OK;
    uint32_t target = 0;
    uint64_t gen = 1;

    if (!was_open) {
        /* recovery: the context may hold nothing but the configuration */
        fs38_store_config cfg = s->cfg;
        destroy_keys(s);
        fs38_wipe(s, sizeof *s);
        s->cfg = cfg;
        e = setup_geometry(s);
        if (e == FS38_OK && psa_crypto_init() != PSA_SUCCESS)
            e = FS38_ERR_CRYPTO;
        if (e == FS38_OK)
            e = derive_keys(s);
        uint64_t v = 0;
        if (e == FS38_OK)
            e = ctr_read(s, &v);
        s->counter = v;
        s->level = LEVEL(v);
        /* everything but the target goes first: an interrupted recovery wipe leaves no
         * authentic bank, and open keeps refusing until the wipe is repeated */
        for (uint32_t b = 1; b < s->nbanks && e == FS38_OK; b++)
            e = ensure_blank(s, b);
    } else {
        target = (s->active + 1u) % s->nbanks;
        gen = s->generation + 1u;
    }
    s->fresh = false;
    if (e == FS38_OK && s->level >= LEVEL_MAX)
        e = FS38_ERR_LIMIT;
    if (e == FS38_OK)
        e = ensure_blank(s, target);
    /* an empty bank that commits a new state: level + 1, identified by a reserved nonce */
    if (e == FS38_OK)
        e = reserve(s);
    if (e == FS38_OK) {
        psa_mac_operation_t op = PSA_MAC_OPERATION_INIT;
        bank_hdr bh = { gen, s->level + 1u, BANK_HDR, s->counter };
        e = mac_setup(s, &op, 0);
        if (e == FS38_OK)
            e = write_bank_hdr(s, target, &bh, &op);
        psa_mac_abort(&op);
        if (e == FS38_OK)
            e = ctr_advance(s, commit_value(s->level, bh.hw_nonce));
    }
    for (uint32_t b = 0; b < s->nbanks && e == FS38_OK; b++)
        if (b != target)
            e = ensure_blank(s, b);
    if (e != FS38_OK)
        fs38_diag_set(&s->diag, e, "store wipe failed (%s)", fs38_strerror(e));
    fs38_diag d = s->diag;
    fs38_store_close(s);
    if (e != FS38_OK)
        s->diag = d;
    return e;
}

/* ---- the public calls: under the device lock, from a fresh view ---------------------------- */

/*
 * Freshness (fs38/port.h, "Concurrency"): another context on the same flash (another task, or
 * another process of a hosted device) may have written since this one last looked. Under the
 * lock, before using its cached position, the context checks what a writer always changes:
 * the store counter (every put commits through it, every reservation advances it), the active
 * bank's header (a compaction moves to a new bank and erases the old), the next bank (blank
 * unless a compaction was started), and the bytes at its write position (blank unless a record
 * was written there). Anything different: the state is located and mounted again, exactly as
 * at open. Without this, two contexts appended at the same offset (ANDing their records into
 * garbage) and could use one counter value as two GCM nonces.
 */
static FS38_NODISCARD fs38_err refresh(fs38_store *s)
{
    uint64_t v;
    uint8_t h[BANK_HDR];
    bank_hdr bh;
    fs38_err e = ctr_read(s, &v);
    if (e == FS38_OK)
        e = rd(s, s->active, 0, h, sizeof h);
    if (e != FS38_OK)
        return fs38_diag_set(&s->diag, e, "store: cannot re-read its state (%s)", fs38_strerror(e));
    int same = v == s->counter && parse_bank_hdr(s, h, &bh) && bh.gen == s->generation && bh.body_end == s->body_end;
    if (same) {
        e = rd(s, (s->active + 1u) % s->nbanks, 0, h, sizeof h);
        if (e != FS38_OK)
            return fs38_diag_set(&s->diag, e, "store: cannot re-read its state (%s)", fs38_strerror(e));
        same = all_ff(h, sizeof h);
    }
    if (same && !s->dirty && s->log_end < s->bank_size) {
        const uint32_t n = s->bank_size - s->log_end < REC_HDR ? s->bank_size - s->log_end : REC_HDR;
        e = rd(s, s->active, s->log_end, h, n);
        if (e != FS38_OK)
            return fs38_diag_set(&s->diag, e, "store: cannot re-read its state (%s)", fs38_strerror(e));
        same = all_ff(h, n);
    }
    if (same)
        return FS38_OK;
    /* another context wrote: forget the cached view and mount again */
    s->dirty = false;
    s->live_known = false;
    s->fresh = false;
    e = locate(s);
    if (e != FS38_OK) {
        s->broken = true;
        if (s->diag.err == FS38_OK)
            fs38_diag_set(&s->diag, e, "store: reloading after another writer failed");
    }
    return e;
}

/* Take the lock and refresh; on FS38_OK the caller unlocks. */
static FS38_NODISCARD fs38_err enter(fs38_store *s)
{
    fs38_err e = check_ready(s);
    if (e != FS38_OK)
        return e;
    e = fs38_port_lock(s->cfg.port);
    if (e != FS38_OK)
        return fs38_diag_set(&s->diag, e, "store: cannot take the device lock");
    e = refresh(s);
    if (e != FS38_OK)
        fs38_port_unlock(s->cfg.port);
    return e;
}

fs38_err fs38_store_put(fs38_store *s, const char *name, const uint8_t *value, size_t len)
{
    fs38_err e = enter(s);
    if (e != FS38_OK)
        return e;
    const fs38_port *p = s->cfg.port;
    e = store_put(s, name, value, len);
    fs38_port_unlock(p);
    return e;
}

fs38_err fs38_store_get(fs38_store *s, const char *name, uint8_t *buf, size_t cap, size_t *len)
{
    fs38_err e = enter(s);
    if (e != FS38_OK)
        return e;
    const fs38_port *p = s->cfg.port;
    e = store_get(s, name, buf, cap, len);
    fs38_port_unlock(p);
    return e;
}

fs38_err fs38_store_delete(fs38_store *s, const char *name)
{
    fs38_err e = enter(s);
    if (e != FS38_OK)
        return e;
    const fs38_port *p = s->cfg.port;
    e = store_delete(s, name);
    fs38_port_unlock(p);
    return e;
}

fs38_err fs38_store_compact(fs38_store *s)
{
    fs38_err e = enter(s);
    if (e != FS38_OK)
        return e;
    const fs38_port *p = s->cfg.port;
    e = store_compact(s);
    fs38_port_unlock(p);
    return e;
}

fs38_err fs38_store_wipe(fs38_store *s)
{
    if (!s || !s->cfg.port)
        return FS38_ERR_ARG;
    const fs38_port *p = s->cfg.port; /* the wipe closes (wipes) the context */
    fs38_err e = fs38_port_lock(p);
    if (e != FS38_OK)
        return fs38_diag_set(&s->diag, e, "store: cannot take the device lock");
    if (s->open && !s->broken && refresh(s) != FS38_OK)
        s->broken = true; /* wipe it as a store that failed to open (recovery) */
    e = store_wipe(s);
    fs38_port_unlock(p);
    return e;
}
