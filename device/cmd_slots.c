/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_slots.c — fs38-device commands of secure boot (control 2): init, flash-slot, boot,
 * commit, status.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "fs38/util.h"
#include "keys.h"
#include "device.h"
#include "layout.h"



/* ---- init ---- */

typedef struct init_args {
    const char *trust[FS38_KEYRING_MAX];
    size_t n_trust;
    const char *vendor, *class_id;
    const char *ecdh_key, *kek;
    const char *tpm; /* --tpm TCTI */
    bool force;
} init_args;

static int make_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0700) == 0)
        return 0;
    if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    host_err("cannot create state directory %s: %s", dir, errno == EEXIST ? "not a directory" : strerror(errno));
    return -1;
}

static int init_rom(const init_args *a, device_rom *rom)
{
    memset(rom, 0, sizeof *rom);
    const char *v = a->vendor ? a->vendor : DEV_DEFAULT_VENDOR_ID;
    const char *c = a->class_id ? a->class_id : DEV_DEFAULT_CLASS_ID;
    if (host_parse_uuid(v, rom->vendor_id)) {
        host_err("init: invalid --vendor-id '%s': expected a UUID as 8-4-4-4-12 hex digits", v);
        return -1;
    }
    if (host_parse_uuid(c, rom->class_id)) {
        host_err("init: invalid --class-id '%s': expected a UUID as 8-4-4-4-12 hex digits", c);
        return -1;
    }
    if (host_psa_init())
        return -1;
    for (size_t i = 0; i < a->n_trust; i++)
        if (host_load_public_point(a->trust[i], rom->trust[rom->n_trust++]))
            return -1;
    return 0;
}

static int init_run(const char *dir, const init_args *a)
{
    char rom_path[DEV_PATH_MAX + 16], flash_path[DEV_PATH_MAX + 16], huk_path[DEV_PATH_MAX + 16];
    device_rom rom;
    if (a->n_trust == 0) {
        host_err("init: at least one --trust PUB.pem is required");
        return HOST_EXIT_USAGE;
    }
    if (device_path(dir, DEV_ROM_FILE, rom_path, sizeof rom_path) ||
        device_path(dir, DEV_FLASH_FILE, flash_path, sizeof flash_path) ||
        device_path(dir, DEV_HUK_FILE, huk_path, sizeof huk_path) || init_rom(a, &rom))
        return HOST_EXIT_USAGE;
    if (!a->force && access(rom_path, F_OK) == 0) {
        host_err("init: %s is already initialised (use --force to start over)", dir);
        return HOST_EXIT_USAGE;
    }
    if (make_dir(dir))
        return HOST_EXIT_USAGE;
    /* The ROM is written last: its presence marks the directory as initialised. */
    if (a->force && unlink(rom_path) != 0 && errno != ENOENT) {
        host_err("init: cannot replace %s: %s", rom_path, strerror(errno));
        return HOST_EXIT_USAGE;
    }
    /* with a TPM the sealing root and the counters are the TPM's: no HUK file */
    if ((a->tpm && unlink(huk_path) != 0 && errno != ENOENT) ||
        device_create_flash(flash_path, a->tpm ? NULL : huk_path) ||
        (a->tpm && device_flash_counters_fail_closed(flash_path)) || device_tpm_init(dir, a->tpm) ||
        rom_write(rom_path, &rom))
        return HOST_EXIT_USAGE;
    printf("init: %s (flash %u KiB, slots A and B of %u KiB, %zu trust anchor(s))\n", dir, DEV_FLASH_SIZE / 1024,
           DEV_SLOT_SIZE / 1024, rom.n_trust);
    return HOST_EXIT_OK;
}

/* ---- flash-slot ---- */

static int parse_slot(const char *s, unsigned *slot)
{
    if (strcmp(s, "A") == 0 || strcmp(s, "a") == 0)
        *slot = 0;
    else if (strcmp(s, "B") == 0 || strcmp(s, "b") == 0)
        *slot = 1;
    else
        return -1;
    return 0;
}

static int program_slot(device *d, unsigned slot, const uint8_t *env, size_t env_len, const uint8_t *img,
                        size_t img_len)
{
    if (env_len == 0 || env_len > FS38_ENVELOPE_MAX) {
        host_err("flash-slot: envelope is %zu bytes, a slot holds 1 to %u", env_len, FS38_ENVELOPE_MAX);
        return HOST_EXIT_USAGE;
    }
    if (img_len > DEV_SLOT_SIZE - DEV_IMAGE_OFFSET) {
        host_err("flash-slot: image is %zu bytes, slot %c holds at most %u", img_len, device_slot_letter(slot),
                 DEV_SLOT_SIZE - DEV_IMAGE_OFFSET);
        return HOST_EXIT_USAGE;
    }
    fs38_err err = fs38_slot_program(&d->cfg, slot, env, env_len, img, img_len);
    if (err) {
        host_err("flash-slot: programming slot %c failed: %s", device_slot_letter(slot), fs38_strerror(err));
        return HOST_EXIT_USAGE;
    }
    printf("flash-slot: slot %c programmed (envelope %zu bytes, image %zu bytes)\n", device_slot_letter(slot), env_len,
           img_len);
    return HOST_EXIT_OK;
}

static int flash_slot_run(const char *dir, const char **pos, size_t npos)
{
    unsigned slot;
    if (npos != 3) {
        host_err("flash-slot: expected A|B ENV.suit IMG");
        return HOST_EXIT_USAGE;
    }
    if (parse_slot(pos[0], &slot)) {
        host_err("flash-slot: invalid slot '%s': expected A or B", pos[0]);
        return HOST_EXIT_USAGE;
    }
    uint8_t *env = NULL, *img = NULL;
    size_t env_len, img_len;
    int rc = HOST_EXIT_USAGE;
    if (host_read_file(pos[1], 1u << 20, &env, &env_len) == 0 &&
        host_read_file(pos[2], DEV_SLOT_SIZE, &img, &img_len) == 0 && device_open(&g_dev, dir) == 0) {
        rc = program_slot(&g_dev, slot, env, env_len, img, img_len);
        device_close(&g_dev);
    }
    free(env);
    free(img);
    return rc;
}

/* ---- boot / commit / status ---- */

static void print_refusals(const fs38_boot_ctx *ctx, int except)
{
    for (unsigned i = 0; i < FS38_SLOT_COUNT; i++)
        if ((int)i != except && ctx->slot[i].verdict != FS38_OK)
            fprintf(stderr, "boot: slot %c refused: %s\n", device_slot_letter(i),
                    ctx->slot[i].reason[0] ? ctx->slot[i].reason : fs38_strerror(ctx->slot[i].verdict));
}

/* Verify both slots and choose; prints refusals. Returns an exit code; *slot on success. */
static int select_slot(device *d, unsigned *slot)
{
    fs38_err err = fs38_boot_select(&d->boot, slot);
    if (err == FS38_ERR_NOT_BOOTABLE) {
        print_refusals(&d->boot, -1);
        fprintf(stderr, "boot: no bootable image\n");
        return HOST_EXIT_REJECT;
    }
    if (err) {
        host_err("boot: verification failed: %s", fs38_strerror(err));
        return HOST_EXIT_USAGE;
    }
    print_refusals(&d->boot, (int)*slot);
    return HOST_EXIT_OK;
}

static int boot_run(const char *dir)
{
    unsigned slot;
    /* boot needs only the ROM anchors, the slots and the boot state: a damaged store or log is
     * reported (stderr; an event in the log when it is usable) and does not stop it */
    if (device_open_boot(&g_dev, dir))
        return HOST_EXIT_USAGE;
    device_log_boot(&g_dev); /* one more boot (FS38_COUNTER_BOOT): stamped on the events */
    int rc = select_slot(&g_dev, &slot);
    if (rc == HOST_EXIT_OK)
        printf("boot: slot %c, sequence %" PRIu64 "\n", device_slot_letter(slot), g_dev.boot.slot[slot].sequence);
    device_close(&g_dev);
    return rc;
}

static int commit_run(const char *dir)
{
    unsigned slot;
    if (device_open(&g_dev, dir))
        return HOST_EXIT_USAGE;
    int rc = select_slot(&g_dev, &slot);
    if (rc == HOST_EXIT_OK) {
        fs38_err err = fs38_boot_commit(&g_dev.boot, slot);
        if (err) {
            host_err("commit: slot %c: %s", device_slot_letter(slot),
                     g_dev.boot.slot[slot].reason[0] ? g_dev.boot.slot[slot].reason : fs38_strerror(err));
            rc = err == FS38_ERR_IO || err == FS38_ERR_POWER ? HOST_EXIT_USAGE : HOST_EXIT_REJECT;
        } else {
            printf("commit: slot %c, anti-rollback counter %" PRIu64 "\n", device_slot_letter(slot), g_dev.boot.counter);
        }
    }
    device_close(&g_dev);
    return rc;
}

static void print_slot(const fs38_slot_info *si, unsigned i)
{
    char kid[2 * FS38_KID_LEN + 1];
    if (!si->present) {
        printf("slot %c: empty\n", device_slot_letter(i));
        return;
    }
    if (si->verdict == FS38_OK) {
        host_hex(si->signer_kid, FS38_KID_LEN, kid);
        printf("slot %c: sequence %" PRIu64 ", verified (%s, signer %s, image %" PRIu32 " bytes)\n", device_slot_letter(i),
               si->sequence, si->alg == FS38_COSE_ALG_ES256 ? "ES256" : "ESP256", kid, si->image_size);
    } else if (si->alg != 0) { /* authenticated, refused later */
        printf("slot %c: sequence %" PRIu64 ", refused: %s\n", device_slot_letter(i), si->sequence, si->reason);
    } else {
        printf("slot %c: present, refused: %s\n", device_slot_letter(i), si->reason);
    }
}

static int status_run(const char *dir)
{
    uint64_t counter = 0;
    if (device_open_boot(&g_dev, dir)) /* slots, counter and boot state: no store needed */
        return HOST_EXIT_USAGE;
    int rc = HOST_EXIT_OK;
    for (unsigned i = 0; i < FS38_SLOT_COUNT; i++) {
        fs38_err err = fs38_boot_verify_slot(&g_dev.boot, i);
        if (err == FS38_ERR_IO || err == FS38_ERR_POWER || err == FS38_ERR_ARG) {
            host_err("status: reading slot %c failed: %s", device_slot_letter(i), fs38_strerror(err));
            rc = HOST_EXIT_USAGE;
            break;
        }
        print_slot(&g_dev.boot.slot[i], i);
    }
    fs38_err err = g_dev.port.counter_read(g_dev.port.ctx, FS38_COUNTER_ROLLBACK, &counter);
    if (err) {
        host_err("status: reading the anti-rollback counter failed: %s", fs38_strerror(err));
        rc = HOST_EXIT_USAGE;
    } else if (rc == HOST_EXIT_OK) {
        printf("anti-rollback counter: %" PRIu64 "\n", counter);
        fs38_bootstate st;
        if (fs38_bootstate_read(&g_dev.port, g_dev.cfg.state.offset, g_dev.cfg.state.size, &st) == FS38_OK) {
            if (st.confirmed_slot < FS38_SLOT_COUNT)
                printf("confirmed: slot %c\n", device_slot_letter(st.confirmed_slot));
            else
                printf("confirmed: none yet (factory images: the highest verified sequence boots)\n");
            if (st.pending != FS38_PENDING_NONE && st.pending_slot < FS38_SLOT_COUNT)
                printf("pending: slot %c, %s\n", device_slot_letter(st.pending_slot),
                       st.pending == FS38_PENDING_TRYING ? "on trial (confirm it, or the next boot reverts it)"
                                                         : "installed (the next boot tries it)");
            if (st.dl_slot < FS38_SLOT_COUNT)
                printf("download: slot %c, %" PRIu64 " bytes written (resumable)\n", device_slot_letter(st.dl_slot),
                       st.dl_bytes);
        }
    }
    device_close(&g_dev);
    return rc;
}


/* Keys given at manufacturing: a vendor-generated key-agreement key, a pre-shared KEK. */
static int init_keys(const char *dir, const char *ecdh_path, const char *kek_path)
{
    uint8_t *pem = NULL, *hex = NULL, kek[16];
    size_t pem_len = 0, hex_len = 0;
    int rc = HOST_EXIT_USAGE;
    if ((ecdh_path && host_read_file(ecdh_path, 16384, &pem, &pem_len)) ||
        (kek_path && host_read_file(kek_path, 256, &hex, &hex_len)))
        goto out;
    if (hex) {
        while (hex_len && (hex[hex_len - 1] == '\n' || hex[hex_len - 1] == '\r' || hex[hex_len - 1] == ' '))
            hex[--hex_len] = 0;
        if (hex_len != 32 || host_unhex((const char *)hex, kek, 16)) {
            host_err("init: %s must hold a 16-byte key as 32 hex digits", kek_path);
            goto out;
        }
    }
    if (device_open(&g_dev, dir) || device_keys_open(&g_dev))
        goto out;
    if ((!pem || device_import_ecdh_key(&g_dev, pem, pem_len + 1) == 0) && (!hex || device_install_kek(&g_dev, kek) == 0)) {
        printf("init: installed%s%s\n", pem ? " the key-agreement key" : "", hex ? (pem ? " and the KEK" : " the KEK") : "");
        rc = HOST_EXIT_OK;
    }
    device_close(&g_dev);
out:
    fs38_wipe(kek, sizeof kek);
    if (pem)
        fs38_wipe(pem, pem_len);
    if (hex)
        fs38_wipe(hex, hex_len);
    free(pem);
    free(hex);
    return rc;
}

/* ---- argument parsing of each command ---- */

int cmd_init(const char *dir, int argc, char **argv)
{
    init_args ia;
    memset(&ia, 0, sizeof ia);
    const host_opt opts[] = {
        { .name = "--trust", .list = ia.trust, .count = &ia.n_trust, .max = FS38_KEYRING_MAX },
        { .name = "--vendor-id", .value = &ia.vendor },
        { .name = "--class-id", .value = &ia.class_id },
        { .name = "--force", .flag = &ia.force },
        { .name = "--ecdh-key", .value = &ia.ecdh_key },
        { .name = "--kek", .value = &ia.kek },
        { .name = "--tpm", .value = &ia.tpm },
        { .name = NULL },
    };
    if (device_no_positional("init", argc, argv, opts))
        return HOST_EXIT_USAGE;
    int rc = init_run(dir, &ia);
    if (rc == HOST_EXIT_OK && (ia.ecdh_key || ia.kek))
        rc = init_keys(dir, ia.ecdh_key, ia.kek);
    return rc;
}

int cmd_flash_slot(const char *dir, int argc, char **argv)
{
    const char *pos[4];
    size_t npos;
    const host_opt opts[] = { { .name = NULL } };
    if (host_parse_args(argc, argv, opts, pos, 4, &npos) != 0) {
        host_err("flash-slot: expected A|B ENV.suit IMG");
        return HOST_EXIT_USAGE;
    }
    return flash_slot_run(dir, pos, npos);
}

int cmd_boot(const char *dir, int argc, char **argv)
{
    const host_opt opts[] = { { .name = NULL } };
    return device_no_positional("boot", argc, argv, opts) ? HOST_EXIT_USAGE : boot_run(dir);
}

int cmd_commit(const char *dir, int argc, char **argv)
{
    const host_opt opts[] = { { .name = NULL } };
    return device_no_positional("commit", argc, argv, opts) ? HOST_EXIT_USAGE : commit_run(dir);
}

int cmd_status(const char *dir, int argc, char **argv)
{
    const host_opt opts[] = { { .name = NULL } };
    return device_no_positional("status", argc, argv, opts) ? HOST_EXIT_USAGE : status_run(dir);
}
