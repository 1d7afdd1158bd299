/* SPDX-License-Identifier: Apache-2.0 */
/* update.c — the update agent (control 3): begin with the envelope, stream the payload into
 * the staging slot (decrypting and hashing on the fly), finish by verifying and marking the
 * new image pending. Power-safe; resumable for CTR and plaintext payloads. */
#include <string.h>
#include "fs38/event.h"
#include "inner.h"
#include "fs38/update.h"
#include "fs38/util.h"

/* ---------------------------------------------------------------- rejections */

static FS38_NODISCARD fs38_err reject(fs38_update_ctx *u, fs38_err e)
{
    if (u->diag.err != e || !u->diag.msg[0])
        fs38_diag_set(&u->diag, e, NULL);
    if (e == FS38_ERR_POWER)
        return e; /* the device is off: nothing more can be recorded */
    fs38_event(e == FS38_ERR_ROLLBACK ? FS38_EV_ROLLBACK_REFUSED : FS38_EV_UPDATE_REJECTED, FS38_SEV_ERROR, e,
               u->diag.msg);
    return e;
}

/* ---------------------------------------------------------------- planning the install sequence */

typedef struct {
    fs38_update_ctx *u;
    int fetch_comp;
    int copy_src;
    fs38_span enc_info;
    uint32_t deferred; /* components whose image-match is checked at finish */
    bool wrong_slot;   /* the component-slot condition named the other slot */
    uint64_t bound_slot;
} plan_t;

static FS38_NODISCARD fs38_err plan_digest(void *user, const fs38_suit_cmd *c, uint8_t out[32])
{
    plan_t *pl = user;
    if (!FS38_SUIT_HAS(c->params, FS38_SUIT_PARAM_IMAGE_DIGEST) || c->params->digest.len != 32)
        return FS38_ERR_MISSING_PARAM;
    /* the bytes are not here yet: the check is deferred to fs38_update_finish */
    memcpy(out, c->params->digest.p, 32);
    pl->deferred |= 1u << c->component;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err plan_slot(void *user, const fs38_suit_cmd *c)
{
    plan_t *pl = user;
    if (c->params->component_slot == pl->u->slot)
        return FS38_OK;
    pl->wrong_slot = true; /* told apart from other failed conditions after the run */
    pl->bound_slot = c->params->component_slot;
    return FS38_ERR_CONDITION;
}

static FS38_NODISCARD fs38_err plan_fetch(void *user, const fs38_suit_cmd *c)
{
    plan_t *pl = user;
    if (pl->fetch_comp >= 0)
        return FS38_ERR_UNSUPPORTED_COMMAND; /* one payload per update */
    pl->fetch_comp = (int)c->component;
    if (c->component == 0 && FS38_SUIT_HAS(c->params, FS38_SUIT_PARAM_ENCRYPTION_INFO))
        pl->enc_info = c->params->encryption_info; /* fetch-and-decrypt straight into the image */
    return FS38_OK;
}

static FS38_NODISCARD fs38_err plan_copy(void *user, const fs38_suit_cmd *c)
{
    plan_t *pl = user;
    if (c->component != 0 || (int)c->params->source_component != pl->fetch_comp || pl->copy_src >= 0)
        return FS38_ERR_UNSUPPORTED_COMMAND; /* only: fetched payload -> image (component 0) */
    pl->copy_src = (int)c->params->source_component;
    if (FS38_SUIT_HAS(c->params, FS38_SUIT_PARAM_ENCRYPTION_INFO))
        pl->enc_info = c->params->encryption_info;
    return FS38_OK;
}

static const fs38_suit_ops plan_ops = { plan_digest, plan_slot, plan_fetch, plan_copy, NULL, NULL };

static FS38_NODISCARD fs38_err plan_install(fs38_update_ctx *u, plan_t *pl)
{
    fs38_suit_manifest *m = &u->u.plan.m;
    fs38_suit_runner *r = &u->u.plan.r;
    const fs38_boot_config *b = u->cfg.boot;
    memset(pl, 0, sizeof *pl);
    pl->u = u;
    pl->fetch_comp = pl->copy_src = -1;
    memset(r, 0, sizeof *r);
    r->vendor_id = b->vendor_id;
    r->class_id = b->class_id;
    r->ops = &plan_ops;
    r->user = pl;
    fs38_err e = fs38_suit_run(r, m, FS38_SUIT_SEQ_INSTALL, &u->diag);
    if (e == FS38_ERR_NOT_FOUND)
        return fs38_diag_set(&u->diag, FS38_ERR_POLICY, "manifest has no install sequence");
    if (e == FS38_ERR_CONDITION && pl->wrong_slot)
        return fs38_wrong_slot(&u->diag, pl->bound_slot, u->slot);
    if (e)
        return e;
    if (b->require_slot && !(r->checked[0] & FS38_SUIT_CHECKED_SLOT))
        return fs38_diag_set(&u->diag, FS38_ERR_WRONG_SLOT, "the envelope binds the image to no slot (component-slot)");
    uint32_t need = FS38_SUIT_CHECKED_VENDOR | FS38_SUIT_CHECKED_CLASS;
    if ((r->checked[0] & need) != need)
        return fs38_diag_set(&u->diag, FS38_ERR_POLICY, "manifest does not check the %s",
                             r->checked[0] & FS38_SUIT_CHECKED_VENDOR ? "class id" : "vendor id");
    if (pl->fetch_comp < 0)
        return fs38_diag_set(&u->diag, FS38_ERR_POLICY, "install sequence fetches no payload");
    if (pl->fetch_comp != 0 && pl->copy_src < 0)
        return fs38_diag_set(&u->diag, FS38_ERR_POLICY, "fetched payload is never copied into the image");
    if (pl->deferred & ~(1u | (1u << pl->fetch_comp)))
        return fs38_diag_set(&u->diag, FS38_ERR_UNSUPPORTED_COMMAND, "image-match on a component never written");
    if (m->validate.state != FS38_MEMBER_PRESENT || m->invoke.state != FS38_MEMBER_PRESENT)
        return fs38_diag_set(&u->diag, FS38_ERR_POLICY, "manifest has no %s sequence: it could never boot",
                             m->validate.state != FS38_MEMBER_PRESENT ? "validate" : "invoke");

    const fs38_suit_params *img = &r->params[0];
    if (!FS38_SUIT_HAS(img, FS38_SUIT_PARAM_IMAGE_DIGEST) || img->digest_alg != FS38_SUIT_ALG_SHA256 ||
        img->digest.len != 32)
        return fs38_diag_set(&u->diag, FS38_ERR_MISSING_PARAM, "no SHA-256 image digest for the image");
    if (!FS38_SUIT_HAS(img, FS38_SUIT_PARAM_IMAGE_SIZE))
        return fs38_diag_set(&u->diag, FS38_ERR_IMAGE_SIZE, "manifest gives no image size");
    memcpy(u->image_digest, img->digest.p, 32);
    u->image_size = img->image_size;
    uint32_t cap = b->slot[u->slot].size - fs38_slot_image_offset(b);
    if (u->image_size > cap)
        return fs38_diag_set(&u->diag, FS38_ERR_OVERSIZE, "image of %llu bytes does not fit the %lu-byte slot",
                             (unsigned long long)u->image_size, (unsigned long)cap);
    return FS38_OK;
}

/* ---------------------------------------------------------------- state */

static FS38_NODISCARD fs38_err state_read(const fs38_update_ctx *u, fs38_bootstate *st)
{
    const fs38_boot_config *b = u->cfg.boot;
    return fs38_bootstate_read(b->port, b->state.offset, b->state.size, st);
}

static FS38_NODISCARD fs38_err state_write(const fs38_update_ctx *u, fs38_bootstate *st)
{
    const fs38_boot_config *b = u->cfg.boot;
    return fs38_bootstate_write(b->port, b->state.offset, b->state.size, st);
}

static uint32_t image_base(const fs38_update_ctx *u)
{
    const fs38_boot_config *b = u->cfg.boot;
    return b->slot[u->slot].offset + fs38_slot_image_offset(b);
}

static FS38_NODISCARD fs38_err hashes_start(fs38_update_ctx *u)
{
    u->image_hash = psa_hash_operation_init();
    u->payload_hash = psa_hash_operation_init();
    if (psa_hash_setup(&u->image_hash, PSA_ALG_SHA_256) != PSA_SUCCESS ||
        psa_hash_setup(&u->payload_hash, PSA_ALG_SHA_256) != PSA_SUCCESS)
        return FS38_ERR_CRYPTO;
    return FS38_OK;
}

static void release(fs38_update_ctx *u)
{
    psa_hash_abort(&u->image_hash);
    psa_hash_abort(&u->payload_hash);
    fs38_decrypt_abort(&u->dec);
    fs38_wipe(u->u.work, sizeof u->u.work);
    u->active = false;
}

/* Replay the durable part of an interrupted download from flash into the hashes (and, for
 * CTR, through the keystream, which turns plaintext back into the ciphertext and leaves the
 * decryptor positioned at the resume point). */
static FS38_NODISCARD fs38_err replay(fs38_update_ctx *u, uint64_t bytes)
{
    const fs38_port *p = u->cfg.boot->port;
    uint8_t *buf = u->u.work;
    uint8_t ct[FS38_UPDATE_CHUNK + 16];
    for (uint64_t off = 0; off < bytes;) {
        size_t n = bytes - off < FS38_UPDATE_CHUNK ? (size_t)(bytes - off) : FS38_UPDATE_CHUNK;
        fs38_err e = fs38_flash_read(p, image_base(u) + (uint32_t)off, buf, n);
        if (e)
            return e;
        if (psa_hash_update(&u->image_hash, buf, n) != PSA_SUCCESS)
            return FS38_ERR_CRYPTO;
        const uint8_t *payload = buf;
        if (u->encrypted) {
            size_t o;
            if ((e = fs38_decrypt_update(&u->dec, buf, n, ct, sizeof ct, &o)) || o != n)
                return e ? e : FS38_ERR_CRYPTO;
            payload = ct;
        }
        if (psa_hash_update(&u->payload_hash, payload, n) != PSA_SUCCESS)
            return FS38_ERR_CRYPTO;
        off += n;
    }
    fs38_wipe(ct, sizeof ct);
    u->offset = u->programmed = u->persisted = bytes;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err same_envelope_in_slot(fs38_update_ctx *u, const uint8_t *env, size_t env_len, bool *same)
{
    const fs38_boot_config *b = u->cfg.boot;
    uint8_t *buf = u->u.work;
    *same = false;
    for (size_t off = 0; off < env_len;) {
        size_t n = env_len - off < FS38_UPDATE_CHUNK ? env_len - off : FS38_UPDATE_CHUNK;
        fs38_err e = fs38_flash_read(b->port, b->slot[u->slot].offset + FS38_SLOT_HEADER_SIZE + (uint32_t)off, buf, n);
        if (e)
            return e;
        if (memcmp(buf, env + off, n) != 0)
            return FS38_OK;
        off += n;
    }
    *same = true;
    return FS38_OK;
}

/* ---------------------------------------------------------------- begin */

fs38_err fs38_update_begin(fs38_update_ctx *u, const fs38_update_config *cfg, const uint8_t *env, size_t env_len)
{
    if (!u || !cfg || !cfg->boot || !cfg->boot->state.size || !env || cfg->running_slot >= FS38_SLOT_COUNT)
        return FS38_ERR_ARG;
    const fs38_port *bp = cfg->boot->port; /* a port without counters or writable flash cannot install */
    if (!bp || !bp->counter_read || !bp->counter_advance || !bp->flash_erase || !bp->flash_program)
        return FS38_ERR_ARG;
    memset(u, 0, sizeof *u);
    u->cfg = *cfg;
    u->slot = 1u - cfg->running_slot;
    const fs38_boot_config *b = cfg->boot;
    const fs38_port *p = b->port;
    fs38_err e;

    if (env_len > FS38_ENVELOPE_MAX)
        return reject(u, fs38_diag_set(&u->diag, FS38_ERR_OVERSIZE, "envelope of %zu bytes exceeds %u", env_len,
                                       (unsigned)FS38_ENVELOPE_MAX));
    fs38_suit_manifest *m = &u->u.plan.m;
    if ((e = fs38_suit_authenticate(m, env, env_len, b->trust, &u->diag)))
        return reject(u, e);
    u->sequence = m->sequence;
    memcpy(u->manifest_digest, m->manifest_digest, 32);
    u->env_len = (uint32_t)env_len;
    fs38_event(FS38_EV_UPDATE_BEGIN, FS38_SEV_NOTICE, (int64_t)u->sequence, "update offered");

    uint64_t counter;
    if ((e = p->counter_read(p->ctx, FS38_COUNTER_ROLLBACK, &counter)))
        return reject(u, e);
    if ((e = fs38_suit_check_sequence(m, counter, &u->diag)))
        return reject(u, e);
    if (m->sequence > (uint64_t)INT64_MAX) /* monotonic counters hold at most 2^63 */
        return reject(u, fs38_diag_set(&u->diag, FS38_ERR_UNSUPPORTED_PARAM,
                                       "sequence %llu is beyond what the anti-rollback counter holds",
                                       (unsigned long long)m->sequence));
    fs38_bootstate st;
    if ((e = state_read(u, &st)))
        return reject(u, e);
    if (st.pending == FS38_PENDING_TRYING)
        return reject(u, fs38_diag_set(&u->diag, FS38_ERR_STATE, "an update is on trial: confirm it first"));
    if (st.confirmed_slot == u->slot)
        return reject(u, fs38_diag_set(&u->diag, FS38_ERR_STATE, "slot %c holds the confirmed image",
                                       u->slot ? 'B' : 'A'));

    plan_t pl;
    if ((e = plan_install(u, &pl)))
        return reject(u, e);
    u->encrypted = pl.enc_info.p != NULL;
    if (u->encrypted) {
        if ((e = fs38_decrypt_begin(&u->dec, pl.enc_info.p, pl.enc_info.len, &cfg->keys, &u->diag)))
            return reject(u, e);
        /* the parsed headers point into the envelope, which the caller may now free */
        u->dec.info.content_protected = u->dec.info.recipient_protected = NULL;
        u->dec.info.kid = u->dec.info.wrapped_cek = NULL;
    }
    const fs38_suit_params *dl = &u->u.plan.r.params[pl.fetch_comp];
    uint64_t ct_size = u->encrypted ? fs38_decrypt_ciphertext_size(u->dec.info.content_alg, u->image_size)
                                    : u->image_size;
    u->payload_size = ct_size;
    if (pl.fetch_comp != 0) {
        if (FS38_SUIT_HAS(dl, FS38_SUIT_PARAM_IMAGE_SIZE) && dl->image_size != ct_size) {
            fs38_decrypt_abort(&u->dec);
            return reject(u, fs38_diag_set(&u->diag, FS38_ERR_IMAGE_SIZE,
                                           "payload size %llu does not match the image size %llu",
                                           (unsigned long long)dl->image_size, (unsigned long long)ct_size));
        }
        if (FS38_SUIT_HAS(dl, FS38_SUIT_PARAM_IMAGE_DIGEST) && dl->digest.len == 32) {
            u->check_payload_digest = true;
            memcpy(u->payload_digest, dl->digest.p, 32);
        }
    }
    if ((e = hashes_start(u))) {
        release(u);
        return reject(u, e);
    }
    u->active = true;

    /* resume the same update if it was interrupted (CTR and plaintext payloads only) */
    bool resumable = !u->encrypted || u->dec.info.content_alg == FS38_COSE_ALG_A128CTR;
    if (resumable && st.dl_slot == u->slot && st.dl_bytes > 0 && st.dl_bytes <= u->image_size &&
        st.dl_bytes % 16 == 0 && fs38_ct_compare(st.dl_digest, u->manifest_digest, 32) == 0) {
        bool same;
        if ((e = same_envelope_in_slot(u, env, env_len, &same))) {
            release(u);
            return reject(u, e);
        }
        if (same) {
            if ((e = replay(u, st.dl_bytes))) {
                release(u);
                return reject(u, e);
            }
            u->resumed = true;
            u->st = st;
            return FS38_OK;
        }
    }

    /* fresh start: record the download first, then erase, then store the envelope */
    st.dl_slot = (uint8_t)u->slot;
    st.dl_bytes = 0;
    memcpy(st.dl_digest, u->manifest_digest, 32);
    if (st.pending_slot == u->slot) {
        st.pending = FS38_PENDING_NONE;
        st.pending_slot = FS38_NO_SLOT;
    }
    uint32_t ss = p->sector_size;
    uint64_t span = fs38_slot_image_offset(b) + u->image_size;
    uint32_t erase_len = (uint32_t)((span + ss - 1) / ss * ss);
    if (!(e = state_write(u, &st)))
        u->st = st;
    if (e || (e = fs38_flash_erase(p, b->slot[u->slot].offset, erase_len)) ||
        (e = fs38_flash_program(p, b->slot[u->slot].offset + FS38_SLOT_HEADER_SIZE, env, env_len))) {
        release(u);
        return reject(u, e);
    }
    return FS38_OK;
}

/* ---------------------------------------------------------------- streaming */

static FS38_NODISCARD fs38_err persist_progress(fs38_update_ctx *u)
{
    fs38_bootstate st = u->st; /* nothing else writes the state while an update streams */
    fs38_err e;
    st.dl_slot = (uint8_t)u->slot;
    st.dl_bytes = u->programmed & ~(uint64_t)15;
    memcpy(st.dl_digest, u->manifest_digest, 32);
    if ((e = state_write(u, &st)))
        return e;
    u->st = st;
    u->persisted = st.dl_bytes;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err program_plain(fs38_update_ctx *u, const uint8_t *plain, size_t n)
{
    if (!n)
        return FS38_OK;
    if (n > u->image_size - u->programmed)
        return fs38_diag_set(&u->diag, FS38_ERR_OVERSIZE, "image exceeds the announced %llu bytes",
                             (unsigned long long)u->image_size);
    if (psa_hash_update(&u->image_hash, plain, n) != PSA_SUCCESS)
        return FS38_ERR_CRYPTO;
    fs38_err e = fs38_flash_program(u->cfg.boot->port, image_base(u) + (uint32_t)u->programmed, plain, n);
    if (e)
        return e;
    u->programmed += n;
    return FS38_OK;
}

fs38_err fs38_update_write(fs38_update_ctx *u, const uint8_t *data, size_t len)
{
    if (!u || !u->active || (!data && len))
        return FS38_ERR_STATE;
    if (len > u->payload_size - u->offset) {
        fs38_diag_set(&u->diag, FS38_ERR_OVERSIZE, "payload exceeds the announced %llu bytes",
                      (unsigned long long)u->payload_size);
        fs38_update_abort(u);
        return reject(u, FS38_ERR_OVERSIZE);
    }
    bool resumable = !u->encrypted || u->dec.info.content_alg == FS38_COSE_ALG_A128CTR;
    while (len) {
        size_t n = len < FS38_UPDATE_CHUNK ? len : FS38_UPDATE_CHUNK;
        fs38_err e = FS38_OK;
        if (psa_hash_update(&u->payload_hash, data, n) != PSA_SUCCESS)
            e = FS38_ERR_CRYPTO;
        if (!e && u->encrypted) {
            size_t o = 0;
            e = fs38_decrypt_update(&u->dec, data, n, u->u.work, sizeof u->u.work, &o);
            if (e)
                fs38_diag_set(&u->diag, e, "payload decryption failed");
            else
                e = program_plain(u, u->u.work, o);
        } else if (!e) {
            e = program_plain(u, data, n);
        }
        if (e) {
            if (e != FS38_ERR_POWER)
                fs38_update_abort(u);
            return reject(u, e);
        }
        u->offset += n;
        data += n;
        len -= n;
        if (resumable && u->programmed - u->persisted >= FS38_UPDATE_PROGRESS) {
            if ((e = persist_progress(u)))
                return reject(u, e);
        }
    }
    return FS38_OK;
}

fs38_err fs38_update_finish(fs38_update_ctx *u)
{
    if (!u || !u->active)
        return FS38_ERR_STATE;
    fs38_err e = FS38_OK;
    uint8_t h[32];
    size_t hl;
    if (u->offset != u->payload_size) {
        e = fs38_diag_set(&u->diag, FS38_ERR_TRUNCATED, "payload ended after %llu of %llu bytes",
                          (unsigned long long)u->offset, (unsigned long long)u->payload_size);
    }
    if (!e && u->encrypted) {
        size_t o = 0;
        e = fs38_decrypt_finish(&u->dec, u->u.work, sizeof u->u.work, &o);
        if (e)
            fs38_diag_set(&u->diag, e, "payload authentication tag mismatch");
        else
            e = program_plain(u, u->u.work, o);
    }
    if (!e && u->programmed != u->image_size)
        e = fs38_diag_set(&u->diag, FS38_ERR_IMAGE_SIZE, "image is %llu bytes, manifest says %llu",
                          (unsigned long long)u->programmed, (unsigned long long)u->image_size);
    if (!e && psa_hash_finish(&u->payload_hash, h, sizeof h, &hl) != PSA_SUCCESS)
        e = FS38_ERR_CRYPTO;
    if (!e && u->check_payload_digest && fs38_ct_compare(h, u->payload_digest, 32) != 0)
        e = fs38_diag_set(&u->diag, FS38_ERR_IMAGE_DIGEST, "payload digest mismatch");
    if (!e && psa_hash_finish(&u->image_hash, h, sizeof h, &hl) != PSA_SUCCESS)
        e = FS38_ERR_CRYPTO;
    if (!e && fs38_ct_compare(h, u->image_digest, 32) != 0)
        e = fs38_diag_set(&u->diag, FS38_ERR_IMAGE_DIGEST, "image digest mismatch");
    if (e) {
        if (e != FS38_ERR_POWER)
            fs38_update_abort(u);
        return reject(u, e);
    }
    /* complete the slot (header last), then make it pending */
    const fs38_boot_config *b = u->cfg.boot;
    uint8_t hdr[FS38_SLOT_HEADER_SIZE];
    memcpy(hdr, FS38_SLOT_MAGIC, 8);
    for (int i = 0; i < 4; i++) {
        hdr[8 + i] = (uint8_t)(u->env_len >> (8 * i));
        hdr[12 + i] = (uint8_t)(u->image_size >> (8 * i));
    }
    fs38_bootstate st;
    if ((e = fs38_flash_program(b->port, b->slot[u->slot].offset, hdr, sizeof hdr)) || (e = state_read(u, &st)))
        return reject(u, e);
    st.dl_slot = FS38_NO_SLOT;
    st.dl_bytes = 0;
    memset(st.dl_digest, 0, sizeof st.dl_digest);
    st.pending_slot = (uint8_t)u->slot;
    st.pending = FS38_PENDING_UNTRIED;
    if ((e = state_write(u, &st)))
        return reject(u, e);
    release(u);
    fs38_event(FS38_EV_UPDATE_INSTALLED, FS38_SEV_NOTICE, (int64_t)u->sequence, "update installed, pending trial");
    return FS38_OK;
}

void fs38_update_abort(fs38_update_ctx *u)
{
    if (!u || !u->active)
        return;
    release(u);
    /* forget the progress, so nothing resumes into a rejected payload; no header was written */
    fs38_bootstate st;
    if (state_read(u, &st) == FS38_OK && st.dl_slot == u->slot) {
        st.dl_slot = FS38_NO_SLOT;
        st.dl_bytes = 0;
        memset(st.dl_digest, 0, sizeof st.dl_digest);
        if (state_write(u, &st) != FS38_OK) {
            /* the abort stands: a progress record that could not be cleared names a digest
             * the next download re-checks, so nothing resumes into the rejected payload */
        }
    }
}
