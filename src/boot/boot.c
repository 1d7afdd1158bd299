/* SPDX-License-Identifier: Apache-2.0 */
/* boot.c — secure boot: A/B slot verification, selection and anti-rollback commit (control 2). */
#include <string.h>
#include "fs38/boot.h"
#include "inner.h"
#include "fs38/event.h"
#include "fs38/util.h"

#include "fs38/config.h"

const char *fs38_version(void)
{
    return FS38_VERSION_STRING;
}

uint32_t fs38_slot_image_offset(const fs38_boot_config *cfg)
{
    return cfg->image_offset ? cfg->image_offset : FS38_SLOT_DEFAULT_IMAGE_OFFSET;
}

static bool regions_overlap(const fs38_region *a, const fs38_region *b)
{
    return a->offset < b->offset + b->size && b->offset < a->offset + a->size;
}

fs38_err fs38_boot_init(fs38_boot_ctx *ctx, const fs38_boot_config *cfg)
{
    if (!ctx || !cfg || !cfg->port || !cfg->trust || !cfg->vendor_id || !cfg->class_id)
        return FS38_ERR_ARG;
    const fs38_port *p = cfg->port;
    /* boot needs the flash and the anti-rollback counter: a port without them is refused here,
     * not found out by a NULL call later */
    if (!p->sector_size || !p->flash_read || !p->counter_read || !p->counter_advance)
        return FS38_ERR_ARG;
#if FS38_BOOT_MAPPED
    if (!p->flash_map) /* fs38/config.h: boot reads the slots in place */
        return FS38_ERR_ARG;
#endif
    uint32_t img_off = fs38_slot_image_offset(cfg);
    if (img_off % p->sector_size || img_off < FS38_SLOT_HEADER_SIZE + FS38_ENVELOPE_MAX)
        return FS38_ERR_ARG;
    for (unsigned i = 0; i < FS38_SLOT_COUNT; i++) {
        const fs38_region *r = &cfg->slot[i];
        if (r->offset % p->sector_size || r->size % p->sector_size || r->size <= img_off ||
            r->offset > p->flash_size || r->size > p->flash_size - r->offset)
            return FS38_ERR_ARG;
    }
    if (regions_overlap(&cfg->slot[0], &cfg->slot[1]))
        return FS38_ERR_ARG;
    if (cfg->state.size) {
        const fs38_region *st = &cfg->state;
        if (st->size != 2 * p->sector_size || st->offset % p->sector_size || st->offset > p->flash_size ||
            st->size > p->flash_size - st->offset || regions_overlap(st, &cfg->slot[0]) ||
            regions_overlap(st, &cfg->slot[1]))
            return FS38_ERR_ARG;
    }
    memset(ctx, 0, sizeof *ctx);
    ctx->cfg = *cfg;
    ctx->chosen = -1;
    ctx->reverted_slot = -1;
    return FS38_OK;
}

fs38_err fs38_slot_header(const fs38_boot_config *cfg, unsigned slot, uint32_t *env_len, uint32_t *image_len)
{
    uint8_t h[FS38_SLOT_HEADER_SIZE];
    if (!cfg || slot >= FS38_SLOT_COUNT)
        return FS38_ERR_ARG;
    fs38_err e = fs38_flash_read(cfg->port, cfg->slot[slot].offset, h, sizeof h);
    if (e)
        return e;
    if (memcmp(h, FS38_SLOT_MAGIC, 8) != 0)
        return FS38_ERR_NO_IMAGE;
    uint32_t el = fs38_get_le32(h + 8), il = fs38_get_le32(h + 12);
    if (el == 0 || el > FS38_ENVELOPE_MAX)
        return FS38_ERR_NO_IMAGE;
    if (il > cfg->slot[slot].size - fs38_slot_image_offset(cfg))
        return FS38_ERR_NO_IMAGE;
    if (env_len)
        *env_len = el;
    if (image_len)
        *image_len = il;
    return FS38_OK;
}

fs38_err fs38_slot_program(const fs38_boot_config *cfg, unsigned slot, const uint8_t *env, size_t env_len,
                           const uint8_t *image, size_t image_len)
{
    if (!cfg || slot >= FS38_SLOT_COUNT || !env || env_len == 0 || env_len > FS38_ENVELOPE_MAX ||
        (!image && image_len))
        return FS38_ERR_ARG;
    const fs38_region *r = &cfg->slot[slot];
    uint32_t img_off = fs38_slot_image_offset(cfg);
    if (image_len > r->size - img_off)
        return FS38_ERR_IMAGE_SIZE;
    fs38_err e = fs38_flash_erase(cfg->port, r->offset, r->size);
    if (!e && image_len)
        e = fs38_flash_program(cfg->port, r->offset + img_off, image, image_len);
    if (!e)
        e = fs38_flash_program(cfg->port, r->offset + FS38_SLOT_HEADER_SIZE, env, env_len);
    if (!e) {
        uint8_t h[FS38_SLOT_HEADER_SIZE];
        memcpy(h, FS38_SLOT_MAGIC, 8);
        fs38_put_le32(h + 8, (uint32_t)env_len);
        fs38_put_le32(h + 12, (uint32_t)image_len);
        e = fs38_flash_program(cfg->port, r->offset, h, sizeof h); /* last: marks the slot complete */
    }
    return e;
}

/* ---- SUIT platform operations for a slot: component 0 is the slot's image ---- */

static FS38_NODISCARD fs38_err slot_digest(void *user, const fs38_suit_cmd *c, uint8_t out[32])
{
    fs38_boot_ctx *ctx = user;
    if (c->component != 0)
        return FS38_ERR_COMPONENT;
    const fs38_region *r = &ctx->cfg.slot[ctx->cur_slot];
    uint32_t img_off = fs38_slot_image_offset(&ctx->cfg);
    uint64_t size = FS38_SUIT_HAS(c->params, FS38_SUIT_PARAM_IMAGE_SIZE) ? c->params->image_size : ctx->cur_image_len;
    if (size > r->size - img_off || size != ctx->cur_image_len)
        return FS38_ERR_IMAGE_SIZE; /* the manifest's size must be the slot's image length */
    psa_hash_operation_t op = PSA_HASH_OPERATION_INIT;
    if (psa_hash_setup(&op, PSA_ALG_SHA_256) != PSA_SUCCESS)
        return FS38_ERR_CRYPTO;
    uint32_t off = r->offset + img_off;
    fs38_err e = FS38_OK;
    const fs38_port *port = ctx->cfg.port;
    const uint8_t *mapped = port->flash_map ? port->flash_map(port->ctx, off, (size_t)size) : NULL;
    if (mapped) { /* memory-mapped flash: hash in place */
        if (psa_hash_update(&op, mapped, (size_t)size) != PSA_SUCCESS)
            e = FS38_ERR_CRYPTO;
        size = 0;
    }
#if FS38_BOOT_MAPPED
    if (size) /* fs38/config.h: no chunk buffer, the image must be mapped */
        e = FS38_ERR_IO;
#else
    while (size && !e) {
        size_t n = size < FS38_BOOT_CHUNK ? (size_t)size : FS38_BOOT_CHUNK;
        e = fs38_flash_read(ctx->cfg.port, off, ctx->chunk, n);
        if (!e && psa_hash_update(&op, ctx->chunk, n) != PSA_SUCCESS)
            e = FS38_ERR_CRYPTO;
        off += (uint32_t)n;
        size -= n;
    }
#endif
    size_t olen = 0;
    if (!e && psa_hash_finish(&op, out, 32, &olen) != PSA_SUCCESS)
        e = FS38_ERR_CRYPTO;
    if (e)
        psa_hash_abort(&op);
    return e;
}

static FS38_NODISCARD fs38_err slot_invoke(void *user, const fs38_suit_cmd *c)
{
    (void)user;
    /* Boot only records the decision; the caller jumps to the image. */
    return c->component == 0 ? FS38_OK : FS38_ERR_COMPONENT;
}

static FS38_NODISCARD fs38_err slot_condition(void *user, const fs38_suit_cmd *c)
{
    fs38_boot_ctx *ctx = user;
    if (c->params->component_slot == ctx->cur_slot)
        return FS38_OK;
    ctx->wrong_slot = true; /* told apart from other failed conditions after the run */
    ctx->bound_slot = c->params->component_slot;
    return FS38_ERR_CONDITION;
}

static const fs38_suit_ops boot_ops = {
    .digest = slot_digest,
    .slot = slot_condition,
    .invoke = slot_invoke,
};

/* The refusal of an envelope bound to another slot than the one it is checked for. */
fs38_err fs38_wrong_slot(fs38_diag *d, uint64_t bound, unsigned slot)
{
    static const char *const name[] = { "A", "B" };
    return fs38_diag_set(d, FS38_ERR_WRONG_SLOT, "image linked for slot %s, this is slot %s",
                         bound < FS38_SLOT_COUNT ? name[bound] : "?", slot < FS38_SLOT_COUNT ? name[slot] : "?");
}

static FS38_NODISCARD fs38_err refuse(fs38_slot_info *si, fs38_err e, const fs38_diag *d)
{
    si->verdict = e;
#if FS38_DIAG_TEXT
    fs38_fmt(si->reason, sizeof si->reason, "%s", d && d->msg[0] ? d->msg : fs38_strerror(e));
#else
    (void)d;
    si->reason[0] = '\0'; /* fs38/config.h: no text; the verdict's fs38_strerror() tells why */
#endif
    return e;
}

fs38_err fs38_boot_verify_slot(fs38_boot_ctx *ctx, unsigned slot)
{
    if (!ctx || slot >= FS38_SLOT_COUNT)
        return FS38_ERR_ARG;
    fs38_slot_info *si = &ctx->slot[slot];
    fs38_diag d;
    fs38_diag_clear(&d);
    memset(si, 0, sizeof *si);

    uint32_t env_len = 0, image_len = 0;
    fs38_err e = fs38_slot_header(&ctx->cfg, slot, &env_len, &image_len);
    if (e == FS38_ERR_NO_IMAGE)
        return refuse(si, e, &d);
    if (e)
        return refuse(si, fs38_diag_set(&d, e, "reading the slot header failed: %s", fs38_strerror(e)), &d);
    si->present = true;
    uint32_t env_off = ctx->cfg.slot[slot].offset + FS38_SLOT_HEADER_SIZE;
#if FS38_BOOT_MAPPED
    const fs38_port *port = ctx->cfg.port;
    const uint8_t *env = port->flash_map(port->ctx, env_off, env_len); /* parsed in place */
    if (!env)
        return refuse(si, fs38_diag_set(&d, FS38_ERR_IO, "the envelope cannot be mapped"), &d);
#else
    const uint8_t *env = ctx->env;
    e = fs38_flash_read(ctx->cfg.port, env_off, ctx->env, env_len);
    if (e)
        return refuse(si, fs38_diag_set(&d, e, "reading the envelope failed: %s", fs38_strerror(e)), &d);
#endif

    fs38_suit_manifest *m = &ctx->m;
    if ((e = fs38_suit_authenticate(m, env, env_len, ctx->cfg.trust, &d)))
        return refuse(si, e, &d);
    si->sequence = m->sequence;
    si->alg = m->auth_alg;
    memcpy(si->signer_kid, m->signer_kid, FS38_KID_LEN);
    memcpy(si->manifest_digest, m->manifest_digest, 32);

    if ((e = ctx->cfg.port->counter_read(ctx->cfg.port->ctx, FS38_COUNTER_ROLLBACK, &ctx->counter)))
        return refuse(si, fs38_diag_set(&d, e, "reading the anti-rollback counter failed"), &d);
    if ((e = fs38_suit_check_sequence(m, ctx->counter, &d)))
        return refuse(si, e, &d);

    fs38_suit_runner *r = &ctx->r;
    memset(r, 0, sizeof *r);
    r->vendor_id = ctx->cfg.vendor_id;
    r->class_id = ctx->cfg.class_id;
    r->ops = &boot_ops;
    r->user = ctx;
    ctx->cur_slot = slot;
    ctx->cur_image_len = image_len;
    ctx->wrong_slot = false;
    if ((e = fs38_suit_run(r, m, FS38_SUIT_SEQ_VALIDATE, &d)))
        return refuse(si, e == FS38_ERR_CONDITION && ctx->wrong_slot ? fs38_wrong_slot(&d, ctx->bound_slot, slot) : e, &d);
    if (ctx->cfg.require_slot && !(r->checked[0] & FS38_SUIT_CHECKED_SLOT))
        return refuse(si, fs38_diag_set(&d, FS38_ERR_WRONG_SLOT, "the envelope binds the image to no slot (component-slot)"),
                      &d);
    uint32_t need = FS38_SUIT_CHECKED_VENDOR | FS38_SUIT_CHECKED_CLASS | FS38_SUIT_CHECKED_IMAGE;
    if ((r->checked[0] & need) != need)
        return refuse(si, fs38_diag_set(&d, FS38_ERR_POLICY, "manifest does not check %s",
                                        !(r->checked[0] & FS38_SUIT_CHECKED_VENDOR)  ? "the vendor id"
                                        : !(r->checked[0] & FS38_SUIT_CHECKED_CLASS) ? "the class id"
                                                                                     : "the image digest"), &d);
    const fs38_suit_params *pp = &r->params[0];
    if (!FS38_SUIT_HAS(pp, FS38_SUIT_PARAM_IMAGE_SIZE))
        return refuse(si, fs38_diag_set(&d, FS38_ERR_IMAGE_SIZE, "manifest gives no image size"), &d);
    if (pp->image_size != image_len)
        return refuse(si, fs38_diag_set(&d, FS38_ERR_IMAGE_SIZE, "image size %llu, slot header says %lu",
                                        (unsigned long long)pp->image_size, (unsigned long)image_len), &d);
    si->image_size = image_len;
    memcpy(si->image_digest, pp->digest.p, 32);

    if ((e = fs38_suit_run(r, m, FS38_SUIT_SEQ_INVOKE, &d)))
        return refuse(si, e == FS38_ERR_NOT_FOUND ? fs38_diag_set(&d, FS38_ERR_POLICY, "manifest has no invoke sequence") : e,
                      &d);
    if (!(r->checked[0] & FS38_SUIT_INVOKED))
        return refuse(si, fs38_diag_set(&d, FS38_ERR_POLICY, "invoke sequence does not invoke the image"), &d);
    si->verdict = FS38_OK;
    si->reason[0] = '\0';
    return FS38_OK;
}

fs38_err fs38_slot_invalidate(const fs38_boot_config *cfg, unsigned slot)
{
    static const uint8_t zero[8] = { 0 };
    if (!cfg || slot >= FS38_SLOT_COUNT)
        return FS38_ERR_ARG;
    return fs38_flash_program(cfg->port, cfg->slot[slot].offset, zero, sizeof zero);
}

static int highest_verified(const fs38_boot_ctx *ctx, unsigned exclude)
{
    int best = -1;
    for (unsigned i = 0; i < FS38_SLOT_COUNT; i++)
        if (i != exclude && ctx->slot[i].verdict == FS38_OK &&
            (best < 0 || ctx->slot[i].sequence > ctx->slot[best].sequence))
            best = (int)i;
    return best;
}

static FS38_NODISCARD fs38_err write_state(fs38_boot_ctx *ctx)
{
    return fs38_bootstate_write(ctx->cfg.port, ctx->cfg.state.offset, ctx->cfg.state.size, &ctx->st);
}

/* The update protocol on top of slot verification (state region present). */
static FS38_NODISCARD fs38_err select_with_state(fs38_boot_ctx *ctx, int *chosen)
{
    fs38_bootstate *st = &ctx->st;
    fs38_err e = fs38_bootstate_read(ctx->cfg.port, ctx->cfg.state.offset, ctx->cfg.state.size, st);
    if (e)
        return e;
    *chosen = -1;
    if (st->pending == FS38_PENDING_TRYING && st->pending_slot < FS38_SLOT_COUNT) {
        /* the trial boot was not confirmed: revert it, the slot first, then the state. In the
         * other order a cut between the two left a state without a trial and the unconfirmed
         * image still verifying: with no confirmed slot yet (the first update after the
         * factory) the next boot chose it by its sequence number, as if it were confirmed.
         * Slot first, a cut leaves the trial recorded and its slot empty: the next boot
         * reverts again. */
        unsigned p = st->pending_slot;
        uint64_t seq = ctx->slot[p].sequence;
        if (p != st->confirmed_slot && (e = fs38_slot_invalidate(&ctx->cfg, p)))
            return e;
        st->pending = FS38_PENDING_NONE;
        st->pending_slot = FS38_NO_SLOT;
        if ((e = write_state(ctx)))
            return e;
        ctx->reverted = true;
        ctx->reverted_slot = (int)p;
        ctx->slot[p].verdict = FS38_ERR_POLICY;
#if FS38_DIAG_TEXT
        fs38_fmt(ctx->slot[p].reason, sizeof ctx->slot[p].reason, "reverted: trial boot was not confirmed");
#else
        ctx->slot[p].reason[0] = '\0';
#endif
        fs38_event(FS38_EV_BOOT_REVERTED, FS38_SEV_WARNING, (int64_t)seq, "unconfirmed image reverted");
    } else if (st->pending == FS38_PENDING_UNTRIED && st->pending_slot < FS38_SLOT_COUNT) {
        unsigned p = st->pending_slot;
        if (ctx->slot[p].verdict == FS38_OK) {
            st->pending = FS38_PENDING_TRYING; /* recorded before it runs: a crash reverts it */
            if ((e = write_state(ctx)))
                return e;
            *chosen = (int)p;
            return FS38_OK;
        }
        st->pending = FS38_PENDING_NONE;
        st->pending_slot = FS38_NO_SLOT;
        if ((e = write_state(ctx)))
            return e;
    }
    if (st->confirmed_slot < FS38_SLOT_COUNT && ctx->slot[st->confirmed_slot].verdict == FS38_OK) {
        unsigned c = st->confirmed_slot;
        /* complete a confirmation cut between its state write and the counter advance */
        if (st->committed && ctx->slot[c].sequence > ctx->counter) {
            const fs38_port *p = ctx->cfg.port;
            e = p->counter_advance(p->ctx, FS38_COUNTER_ROLLBACK, ctx->slot[c].sequence);
            if (e == FS38_ERR_POWER)
                return e;
            if (!e) /* a counter that refuses the value must not keep the confirmed image from booting */
                ctx->counter = ctx->slot[c].sequence;
        }
        *chosen = (int)c;
        return FS38_OK;
    }
    /* factory state, or the confirmed slot broke: fall back to the highest verified slot —
     * never to a slot an update is being written into (an update runs only through a trial,
     * even when a cut left its slot complete but not yet marked pending) */
    *chosen = highest_verified(ctx, st->dl_slot);
    return FS38_OK;
}

fs38_err fs38_boot_select(fs38_boot_ctx *ctx, unsigned *slot)
{
    if (!ctx)
        return FS38_ERR_ARG;
    ctx->reverted = false;
    ctx->reverted_slot = -1;
    for (unsigned i = 0; i < FS38_SLOT_COUNT; i++) {
        fs38_err e = fs38_boot_verify_slot(ctx, i);
        if (e == FS38_ERR_POWER)
            return e;
    }
    const fs38_port *p = ctx->cfg.port;
    fs38_err e = p->counter_read(p->ctx, FS38_COUNTER_ROLLBACK, &ctx->counter);
    if (e)
        return e;
    int best;
    if (ctx->cfg.state.size) {
        if ((e = select_with_state(ctx, &best)))
            return e;
    } else {
        best = highest_verified(ctx, FS38_NO_SLOT);
    }
    ctx->chosen = best;
    for (unsigned i = 0; i < FS38_SLOT_COUNT; i++)
        if (ctx->slot[i].present && ctx->slot[i].verdict != FS38_OK)
            fs38_event(FS38_EV_BOOT_REFUSED, FS38_SEV_ERROR, ctx->slot[i].verdict, ctx->slot[i].reason);
    if (best < 0) {
        fs38_event(FS38_EV_BOOT_NONE, FS38_SEV_CRITICAL, FS38_ERR_NOT_BOOTABLE, "no slot verifies");
        return FS38_ERR_NOT_BOOTABLE;
    }
    fs38_event(FS38_EV_BOOT_OK, FS38_SEV_INFO, (int64_t)ctx->slot[best].sequence, best ? "slot B" : "slot A");
    if (slot)
        *slot = (unsigned)best;
    return FS38_OK;
}

fs38_err fs38_boot_commit(fs38_boot_ctx *ctx, unsigned slot)
{
    if (!ctx || slot >= FS38_SLOT_COUNT)
        return FS38_ERR_ARG;
    fs38_err e = fs38_boot_verify_slot(ctx, slot);
    if (e)
        return e;
    const fs38_port *p = ctx->cfg.port;
    e = p->counter_advance(p->ctx, FS38_COUNTER_ROLLBACK, ctx->slot[slot].sequence);
    if (!e)
        e = p->counter_read(p->ctx, FS38_COUNTER_ROLLBACK, &ctx->counter);
    return e;
}

fs38_err fs38_boot_confirm(fs38_boot_ctx *ctx, unsigned *slot)
{
    if (!ctx || !ctx->cfg.state.size)
        return FS38_ERR_ARG;
    fs38_bootstate *st = &ctx->st;
    fs38_err e = fs38_bootstate_read(ctx->cfg.port, ctx->cfg.state.offset, ctx->cfg.state.size, st);
    if (e)
        return e;
    if (st->pending != FS38_PENDING_TRYING || st->pending_slot >= FS38_SLOT_COUNT)
        return FS38_ERR_STATE;
    unsigned p = st->pending_slot;
    if ((e = fs38_boot_verify_slot(ctx, p)))
        return e;
    st->confirmed_slot = (uint8_t)p;
    st->committed = 1;
    st->pending = FS38_PENDING_NONE;
    st->pending_slot = FS38_NO_SLOT;
    if ((e = write_state(ctx)))
        return e;
    const fs38_port *port = ctx->cfg.port;
    if ((e = port->counter_advance(port->ctx, FS38_COUNTER_ROLLBACK, ctx->slot[p].sequence)))
        return e;
    if ((e = port->counter_read(port->ctx, FS38_COUNTER_ROLLBACK, &ctx->counter)))
        return e;
    fs38_event(FS38_EV_UPDATE_CONFIRMED, FS38_SEV_NOTICE, (int64_t)ctx->slot[p].sequence, "update confirmed");
    if (slot)
        *slot = p;
    return FS38_OK;
}

fs38_err fs38_boot_running(fs38_boot_ctx *ctx, unsigned *slot)
{
    if (!ctx || !slot)
        return FS38_ERR_ARG;
    for (unsigned i = 0; i < FS38_SLOT_COUNT; i++) {
        fs38_err e = fs38_boot_verify_slot(ctx, i);
        if (e == FS38_ERR_POWER)
            return e;
    }
    unsigned exclude = FS38_NO_SLOT;
    if (ctx->cfg.state.size) {
        fs38_bootstate *st = &ctx->st;
        fs38_err e = fs38_bootstate_read(ctx->cfg.port, ctx->cfg.state.offset, ctx->cfg.state.size, st);
        if (e)
            return e;
        if (st->pending == FS38_PENDING_TRYING && st->pending_slot < FS38_SLOT_COUNT) {
            *slot = st->pending_slot; /* the image on trial is what runs */
            return FS38_OK;
        }
        if (st->confirmed_slot < FS38_SLOT_COUNT && ctx->slot[st->confirmed_slot].verdict == FS38_OK) {
            *slot = st->confirmed_slot;
            return FS38_OK;
        }
        exclude = st->dl_slot;
    }
    int best = highest_verified(ctx, exclude);
    if (best < 0)
        return FS38_ERR_NOT_BOOTABLE;
    *slot = (unsigned)best;
    return FS38_OK;
}
