/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_update.c — fs38-device commands of signed + encrypted updates (control 3):
 *   update ENV.suit PAYLOAD [--chunk N] [--power-cut K]
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

static int update_run(const char *dir, const char *env_path, const char *payload_path, size_t chunk, uint64_t cut)
{
    uint8_t *env = NULL, *payload = NULL, kek[16];
    size_t env_len = 0, payload_len = 0;
    int rc = HOST_EXIT_USAGE;
    unsigned running;
    if (host_read_file(env_path, 1u << 20, &env, &env_len) ||
        host_read_file(payload_path, DEV_SLOT_SIZE + 64, &payload, &payload_len))
        goto out;
    if (device_open(&g_dev, dir) || device_keys_open(&g_dev))
        goto out;
    if (running_slot(&g_dev, &running))
        goto close;
    fs38_update_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.boot = &g_dev.cfg;
    cfg.running_slot = running;
    device_decrypt_keys(&g_dev, &cfg.keys, kek);
    if (cut)
        fs38_posix_cut_at(&g_dev.posix, cut);
    fs38_err e = fs38_update_begin(&g_upd, &cfg, env, env_len);
    if (!e && g_upd.resumed)
        printf("update: resuming an interrupted download at byte %" PRIu64 " of %" PRIu64 "\n", g_upd.offset,
               g_upd.payload_size);
    if (!e && g_upd.offset > payload_len)
        e = fs38_diag_set(&g_upd.diag, FS38_ERR_TRUNCATED, "payload file is shorter than the resume point");
    for (uint64_t off = g_upd.offset; !e && off < payload_len; off += chunk) {
        size_t n = payload_len - off < chunk ? (size_t)(payload_len - off) : chunk;
        e = fs38_update_write(&g_upd, payload + off, n);
    }
    if (!e)
        e = fs38_update_finish(&g_upd);
    fs38_wipe(kek, sizeof kek);
    if (e == FS38_ERR_POWER) {
        fprintf(stderr, "update: power lost at flash operation %" PRIu64 " (%" PRIu64 " of %" PRIu64
                        " payload bytes accepted)\n",
                cut, g_upd.offset, g_upd.payload_size);
        rc = 3;
    } else if (e) {
        fprintf(stderr, "update: rejected: %s\n", g_upd.diag.msg[0] ? g_upd.diag.msg : fs38_strerror(e));
        rc = HOST_EXIT_REJECT;
    } else {
        printf("update: sequence %" PRIu64 " installed in slot %c (%" PRIu64 " bytes%s); the next boot tries it\n",
               g_upd.sequence, device_slot_letter(g_upd.slot), g_upd.image_size,
               g_upd.encrypted ? ", decrypted on the fly" : "");
        rc = HOST_EXIT_OK;
    }
close:
    device_close(&g_dev);
out:
    free(env);
    free(payload);
    return rc;
}

int cmd_update(const char *dir, int argc, char **argv)
{
    const char *chunk_s = NULL, *cut_s = NULL, *pos[3];
    size_t npos;
    const host_opt opts[] = {
        { .name = "--chunk", .value = &chunk_s },
        { .name = "--power-cut", .value = &cut_s },
        { .name = NULL },
    };
    if (host_parse_args(argc, argv, opts, pos, 3, &npos) != 0 || npos != 2) {
        host_err("update: expected ENV.suit PAYLOAD [--chunk N]");
        return HOST_EXIT_USAGE;
    }
    uint64_t chunk = 4096, cut = 0;
    if ((chunk_s && host_parse_u64("update --chunk (bytes)", chunk_s, 1, 1u << 24, 0, &chunk)) ||
        (cut_s && host_parse_u64("update --power-cut (flash operation number)", cut_s, 1, UINT64_MAX, 0, &cut)))
        return HOST_EXIT_USAGE;
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
