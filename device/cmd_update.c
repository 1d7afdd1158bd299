/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_update.c — fs38-device commands of signed + encrypted updates (control 3):
 *   update ENV.suit PAYLOAD [--chunk N] [--power-cut K]
 *   update --from ENV_URL --payload-from PAYLOAD_URL --ca SERVER_CA.pem [--power-cut K] ...
 *                                  the same over coaps:// (cmd_net.c fetches; update_apply
 *                                  below is the one path of both forms)
 *   confirm
 *   pubkey [--out PUB.pem]
 * --power-cut K (for demonstrations and tests) cuts the power at the K-th flash
 * program/erase operation of the update: running the same update again resumes it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "commands.h"
#include "fs38/update.h"
#include "fs38/util.h"
#include "keys.h"
#include "layout.h"
#include "net.h"

static fs38_update_ctx g_upd; /* constant size, independent of the image */

/* The slot running now, without changing the boot state (no trial is started or reverted). */
static int running_slot(device *d, unsigned *slot)
{
    fs38_err e = fs38_boot_running(&d->boot, slot);
    if (e == FS38_ERR_NOT_BOOTABLE)
        host_err("update: no verified image is running (boot first)");
    else if (e)
        host_err("update: reading the boot state failed: %s", fs38_strerror(e));
    return e ? -1 : 0;
}

/* The file form's feed: the payload file from the agent's resume point, chunk bytes a call. */
typedef struct file_feed {
    update_feed f;
    const uint8_t *payload;
    size_t len;
    size_t chunk;
} file_feed;

static fs38_err file_feed_run(update_feed *f, fs38_update_ctx *u)
{
    file_feed *ff = (file_feed *)f;
    if (u->offset > ff->len) {
        f->own = false; /* as before: the agent's refusal line */
        return fs38_diag_set(&u->diag, FS38_ERR_TRUNCATED, "payload file is shorter than the resume point");
    }
    fs38_err e = FS38_OK;
    for (uint64_t off = u->offset; !e && off < ff->len; off += ff->chunk) {
        size_t n = ff->len - off < ff->chunk ? (size_t)(ff->len - off) : ff->chunk;
        e = fs38_update_write(u, ff->payload + off, n);
    }
    return e;
}

int update_apply(device *d, const uint8_t *env, size_t env_len, uint64_t cut, update_feed *feed)
{
    uint8_t kek[16];
    unsigned running;
    int rc;
    if (running_slot(d, &running))
        return HOST_EXIT_USAGE;
    fs38_update_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.boot = &d->cfg;
    cfg.running_slot = running;
    device_decrypt_keys(d, &cfg.keys, kek);
    if (cut)
        fs38_posix_cut_at(&d->posix, cut);
    feed->own = false;
    fs38_err e = fs38_update_begin(&g_upd, &cfg, env, env_len);
    if (!e && g_upd.resumed)
        printf("update: resuming an interrupted download at byte %" PRIu64 " of %" PRIu64 "\n", g_upd.offset,
               g_upd.payload_size);
    fflush(stdout);
    if (!e)
        e = feed->run(feed, &g_upd);
    if (!e)
        e = fs38_update_finish(&g_upd);
    fs38_wipe(kek, sizeof kek);
    if (e == FS38_ERR_POWER) {
        fprintf(stderr, "update: power lost at flash operation %" PRIu64 " (%" PRIu64 " of %" PRIu64
                        " payload bytes accepted)\n",
                cut, g_upd.offset, g_upd.payload_size);
        rc = 3;
    } else if (e && feed->own) {
        fprintf(stderr, "update: %s (%" PRIu64 " of %" PRIu64 " payload bytes accepted; run it again to resume)\n",
                feed->diag.msg[0] ? feed->diag.msg : fs38_strerror(e), g_upd.offset, g_upd.payload_size);
        rc = net_exit(e);
    } else if (e) {
        fprintf(stderr, "update: rejected: %s\n", g_upd.diag.msg[0] ? g_upd.diag.msg : fs38_strerror(e));
        rc = HOST_EXIT_REJECT;
    } else {
        printf("update: sequence %" PRIu64 " installed in slot %c (%" PRIu64 " bytes%s); the next boot tries it\n",
               g_upd.sequence, device_slot_letter(g_upd.slot), g_upd.image_size,
               g_upd.encrypted ? ", decrypted on the fly" : "");
        rc = HOST_EXIT_OK;
    }
    return rc;
}

static int update_run(const char *dir, const char *env_path, const char *payload_path, size_t chunk, uint64_t cut)
{
    uint8_t *env = NULL, *payload = NULL;
    size_t env_len = 0, payload_len = 0;
    int rc = HOST_EXIT_USAGE;
    if (host_read_file(env_path, 1u << 20, &env, &env_len) ||
        host_read_file(payload_path, DEV_SLOT_SIZE + 64, &payload, &payload_len))
        goto out;
    if (device_open(&g_dev, dir) || device_keys_open(&g_dev))
        goto out;
    file_feed ff = { .f = { .run = file_feed_run }, .payload = payload, .len = payload_len, .chunk = chunk };
    rc = update_apply(&g_dev, env, env_len, cut, &ff.f);
    device_close(&g_dev);
out:
    free(env);
    free(payload);
    return rc;
}

int cmd_update(const char *dir, int argc, char **argv)
{
    const char *chunk_s = NULL, *cut_s = NULL, *from = NULL, *payload_from = NULL, *pos[3];
    size_t npos;
    net_opts no;
    memset(&no, 0, sizeof no);
    const host_opt opts[] = {
        { .name = "--chunk", .value = &chunk_s },
        { .name = "--power-cut", .value = &cut_s },
        { .name = "--from", .value = &from },
        { .name = "--payload-from", .value = &payload_from },
        NET_HOST_OPTS(no),
        { .name = NULL },
    };
    const bool parsed = host_parse_args(argc, argv, opts, pos, 3, &npos) == 0;
    const bool net = from || payload_from;
    const bool net_opts_given = no.ca || no.psk_id || no.psk || no.timeout || no.client_auth;
    if (!parsed || (net ? (npos != 0 || !from || !payload_from || chunk_s) : (npos != 2 || net_opts_given))) {
        host_err("update: expected ENV.suit PAYLOAD [--chunk N], or --from ENV_URL --payload-from PAYLOAD_URL "
                 "--ca SERVER_CA.pem (coaps://)");
        return HOST_EXIT_USAGE;
    }
    uint64_t chunk = 4096, cut = 0;
    if ((chunk_s && host_parse_u64("update --chunk (bytes)", chunk_s, 1, 1u << 24, 0, &chunk)) ||
        (cut_s && host_parse_u64("update --power-cut (flash operation number)", cut_s, 1, UINT64_MAX, 0, &cut)))
        return HOST_EXIT_USAGE;
    if (net)
        return net_opts_check("update", &no) ? HOST_EXIT_USAGE : net_update(dir, from, payload_from, &no, cut);
    return update_run(dir, pos[0], pos[1], (size_t)chunk, cut);
}

int cmd_confirm(const char *dir, int argc, char **argv)
{
    const host_opt opts[] = { { .name = NULL } };
    if (device_no_positional("confirm", argc, argv, opts) || device_open(&g_dev, dir))
        return HOST_EXIT_USAGE;
    unsigned slot;
    int rc;
    fs38_err e = fs38_boot_confirm(&g_dev.boot, &slot);
    if (e == FS38_ERR_STATE) {
        fprintf(stderr, "confirm: no update is on trial\n");
        rc = HOST_EXIT_REJECT;
    } else if (e) {
        unsigned p = g_dev.boot.st.pending_slot < FS38_SLOT_COUNT ? g_dev.boot.st.pending_slot : 0;
        const char *why = g_dev.boot.slot[p].reason[0] ? g_dev.boot.slot[p].reason : fs38_strerror(e);
        fprintf(stderr, "confirm: refused: %s\n", why);
        rc = e == FS38_ERR_IO || e == FS38_ERR_POWER ? HOST_EXIT_USAGE : HOST_EXIT_REJECT;
    } else {
        printf("confirm: slot %c, sequence %" PRIu64 " committed; anti-rollback counter %" PRIu64 "\n",
               device_slot_letter(slot), g_dev.boot.slot[slot].sequence, g_dev.boot.counter);
        rc = HOST_EXIT_OK;
    }
    device_close(&g_dev);
    return rc;
}

int cmd_pubkey(const char *dir, int argc, char **argv)
{
    const char *out = NULL;
    const host_opt opts[] = { { .name = "--out", .value = &out }, { .name = NULL } };
    if (device_no_positional("pubkey", argc, argv, opts))
        return HOST_EXIT_USAGE;
    if (device_open(&g_dev, dir) || device_keys_open(&g_dev))
        return HOST_EXIT_USAGE;
    psa_key_id_t key;
    uint8_t pt[65];
    size_t n = 0;
    int rc = HOST_EXIT_USAGE;
    if (device_ecdh_key(&g_dev, &key) == 0 && psa_export_public_key(key, pt, sizeof pt, &n) == PSA_SUCCESS &&
        n == 65) {
        rc = host_write_public_pem(out, pt) ? HOST_EXIT_USAGE : HOST_EXIT_OK;
    } else {
        host_err("pubkey: exporting the public key failed");
    }
    device_close(&g_dev);
    return rc;
}
