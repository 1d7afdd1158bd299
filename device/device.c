/* SPDX-License-Identifier: Apache-2.0 */
/* device.c — the reference device's ROM file, flash file and boot configuration. */
#include "device.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "layout.h"
#include "fs38/store.h"

int device_path(const char *dir, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap) {
        host_err("path too long: %s/%s", dir, name);
        return -1;
    }
    return 0;
}

/* ---- ROM file ---- */

int rom_write(const char *path, const device_rom *rom)
{
    char text[256 + FS38_KEYRING_MAX * (8 + 2 * HOST_P256_POINT_LEN)];
    char v[37], c[37];
    host_format_uuid(rom->vendor_id, v);
    host_format_uuid(rom->class_id, c);
    int n = snprintf(text, sizeof text,
                     "# fs38-device ROM: identity and trust anchors (written by fs38-device init)\n"
                     "vendor-id %s\nclass-id %s\n", v, c);
    size_t len = (size_t)n;
    for (size_t i = 0; i < rom->n_trust; i++) {
        char hex[2 * HOST_P256_POINT_LEN + 1];
        host_hex(rom->trust[i], HOST_P256_POINT_LEN, hex);
        len += (size_t)snprintf(text + len, sizeof text - len, "trust %s\n", hex);
    }
    return host_write_file(path, text, len, 0644, false);
}

/* One "key value" line of the ROM file. */
static int rom_line(const char *path, unsigned lineno, char *line, device_rom *rom, bool *have_v, bool *have_c)
{
    char *key = strtok(line, " \t\r");
    char *val = key ? strtok(NULL, " \t\r") : NULL;
    if (!key || key[0] == '#')
        return 0;
    if (val && strcmp(key, "vendor-id") == 0 && host_parse_uuid(val, rom->vendor_id) == 0) {
        *have_v = true;
        return 0;
    }
    if (val && strcmp(key, "class-id") == 0 && host_parse_uuid(val, rom->class_id) == 0) {
        *have_c = true;
        return 0;
    }
    if (val && strcmp(key, "trust") == 0 && rom->n_trust < FS38_KEYRING_MAX &&
        host_unhex(val, rom->trust[rom->n_trust], HOST_P256_POINT_LEN) == 0) {
        rom->n_trust++;
        return 0;
    }
    host_err("cannot read ROM %s: line %u is invalid", path, lineno);
    return -1;
}

int rom_read(const char *path, device_rom *rom)
{
    uint8_t *buf;
    size_t len;
    bool have_v = false, have_c = false;
    memset(rom, 0, sizeof *rom);
    if (host_read_file(path, 64 * 1024, &buf, &len))
        return -1;
    unsigned lineno = 0;
    int rc = 0;
    char *save = NULL;
    for (char *line = strtok_r((char *)buf, "\n", &save); line && !rc; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        rc = rom_line(path, lineno, line, rom, &have_v, &have_c);
    }
    free(buf);
    if (!rc && (!have_v || !have_c || rom->n_trust == 0)) {
        host_err("cannot read ROM %s: it needs vendor-id, class-id and at least one trust line", path);
        rc = -1;
    }
    return rc;
}

/* ---- flash and boot configuration ---- */

static void flash_config(fs38_posix_config *fc, const char *path, const char *huk)
{
    memset(fc, 0, sizeof *fc);
    fc->path = path;
    fc->huk_path = huk;
    fc->flash_size = DEV_FLASH_SIZE;
    fc->sector_size = DEV_SECTOR_SIZE;
    fc->counter_offset = DEV_COUNTER_OFFSET;
}

/* The flash alone (a TPM device: its sealing root is in the TPM, no HUK file). */
static int device_create_flash_nohuk(const char *path)
{
    fs38_posix p;
    fs38_port port;
    fs38_posix_config fc;
    flash_config(&fc, path, NULL);
    fs38_err err = fs38_posix_open(&p, &fc, &port);
    if (err) {
        host_err("cannot create flash %s: %s", path, fs38_strerror(err));
        return -1;
    }
    fs38_posix_close(&p);
    return 0;
}

int device_flash_counters_fail_closed(const char *path)
{
    fs38_posix p;
    fs38_port port;
    fs38_posix_config fc;
    flash_config(&fc, path, NULL);
    fs38_err err = fs38_posix_open(&p, &fc, &port);
    /* the highest value a counter holds: no image's sequence number reaches it */
    for (unsigned i = 0; i < FS38_COUNTER_COUNT && err == FS38_OK; i++)
        err = port.counter_advance(port.ctx, (fs38_counter_id)i, (uint64_t)INT64_MAX);
    if (err == FS38_OK)
        fs38_posix_close(&p);
    if (err) {
        host_err("cannot set the flash counters of %s: %s", path, fs38_strerror(err));
        return -1;
    }
    return 0;
}

int device_create_flash(const char *path, const char *huk)
{
    fs38_posix p;
    fs38_port port;
    fs38_posix_config fc;
    if (unlink(path) != 0 && errno != ENOENT) {
        host_err("cannot replace %s: %s", path, strerror(errno));
        return -1;
    }
    if (!huk)
        return device_create_flash_nohuk(path);
    if (unlink(huk) != 0 && errno != ENOENT) { /* a new device gets a new hardware unique key */
        host_err("cannot replace %s: %s", huk, strerror(errno));
        return -1;
    }
    flash_config(&fc, path, huk);
    fs38_err err = fs38_posix_open(&p, &fc, &port);
    if (err) {
        host_err("cannot create flash %s: %s", path, fs38_strerror(err));
        return -1;
    }
    fs38_posix_close(&p);
    return 0;
}

static int open_flash(device *d)
{
    char path[DEV_PATH_MAX + 16], huk[DEV_PATH_MAX + 16];
    fs38_posix_config fc;
    if (device_path(d->dir, DEV_FLASH_FILE, path, sizeof path) || device_path(d->dir, DEV_HUK_FILE, huk, sizeof huk))
        return -1;
    if (access(path, R_OK | W_OK) != 0) {
        host_err("cannot open flash %s: %s", path, strerror(errno));
        return -1;
    }
    char services[DEV_PATH_MAX + 16];
    if (device_path(d->dir, "services", services, sizeof services))
        return -1;
    char tpm[DEV_PATH_MAX + 16];
    if (device_path(d->dir, DEV_TPM_FILE, tpm, sizeof tpm))
        return -1;
    d->tpm_on = access(tpm, F_OK) == 0; /* the sealing root is the TPM's: no HUK file */
    flash_config(&fc, path, d->tpm_on ? NULL : huk);
    fs38_err err = fs38_posix_open(&d->posix, &fc, &d->port);
    if (!err && (err = fs38_posix_set_services(&d->posix, services)) != FS38_OK) /* control 5 */
        fs38_posix_close(&d->posix);
    if (err) {
        host_err("cannot open flash %s: %s", path, fs38_strerror(err));
        return -1;
    }
    if (d->tpm_on && device_tpm_attach(d)) {
        fs38_posix_close(&d->posix);
        return -1;
    }
    return 0;
}

/* The sealed store (control 6); PSA's persistent keys are kept in it. */
static int open_store(device *d)
{
    fs38_store_config sc = { &d->port, DEV_STORE_OFFSET, DEV_STORE_SIZE, DEV_STORE_BANK };
    fs38_err err = fs38_store_open(&d->store, &sc);
    if (err) {
        host_err("cannot open the sealed store of %s: %s", d->dir, fs38_strerror(err));
        return -1;
    }
    d->store_open = true;
    fs38_its_bind(&d->store);
    return 0;
}

static int load_trust(device *d)
{
    fs38_keyring_init(&d->trust);
    for (size_t i = 0; i < d->rom.n_trust; i++) {
        fs38_err err = fs38_keyring_add_p256(&d->trust, d->rom.trust[i], HOST_P256_POINT_LEN);
        if (err) {
            host_err("cannot use trust anchor %zu of the ROM in %s: %s", i + 1, d->dir, fs38_strerror(err));
            return -1;
        }
    }
    return 0;
}

/* The device lock (fs38/port.h, "Concurrency"): held from right after the flash is opened until
 * device_close(), so a whole command is one critical section against every other fs38-device
 * process (and thread) on this state directory. Every command takes it exclusively: opening the
 * store or the log may repair them (an interrupted write is committed or compacted at open), and
 * most commands raise events that are appended to the log, so none is read-only on flash. */
static int lock_device(device *d)
{
    fs38_err err = fs38_port_lock(&d->port);
    if (err) {
        host_err("cannot lock the device %s: %s", d->dir, fs38_strerror(err));
        return -1;
    }
    d->locked = true;
    return 0;
}

static int device_open_mode(device *d, const char *dir, bool store_optional)
{
    char rom_path[DEV_PATH_MAX + 16];
    memset(d, 0, sizeof *d);
    if (strlen(dir) >= sizeof d->dir) {
        host_err("state directory path too long: %s", dir);
        return -1;
    }
    memcpy(d->dir, dir, strlen(dir) + 1);
    if (device_path(dir, DEV_ROM_FILE, rom_path, sizeof rom_path))
        return -1;
    if (access(rom_path, F_OK) != 0) {
        host_err("%s is not an initialised device (no %s): run 'fs38-device --state %s init' first", dir,
                 DEV_ROM_FILE, dir);
        return -1;
    }
    device_tpm_se_register(); /* before PSA starts: a TPM's key is reachable as a PSA key (tpm_se.c) */
    if (host_psa_init() || rom_read(rom_path, &d->rom) || load_trust(d) || open_flash(d)) {
        fs38_keyring_free(&d->trust);
        return -1;
    }
    d->open = true;
    if (lock_device(d)) {
        device_close(d);
        return -1;
    }
    if (open_store(d)) {
        if (!store_optional) {
            device_close(d);
            return -1;
        }
        /* secure boot needs only the ROM anchors, the slots and the boot state (threat model,
         * asset A6): go on without the store (and so without the log, whose key it holds) */
        host_err("warning: booting without the sealed store and the security log (the store is damaged: "
                 "commands that need it fail until it is repaired)");
    } else if (device_log_open(d)) {
        device_close(d);
        return -1;
    }
    d->cfg.port = &d->port;
    d->cfg.trust = &d->trust;
    d->cfg.vendor_id = d->rom.vendor_id;
    d->cfg.class_id = d->rom.class_id;
    d->cfg.slot[0] = (fs38_region){ DEV_SLOT_A_OFFSET, DEV_SLOT_SIZE };
    d->cfg.slot[1] = (fs38_region){ DEV_SLOT_B_OFFSET, DEV_SLOT_SIZE };
    d->cfg.image_offset = DEV_IMAGE_OFFSET;
    d->cfg.state = (fs38_region){ DEV_STATE_OFFSET, DEV_STATE_SIZE };
    fs38_err err = fs38_boot_init(&d->boot, &d->cfg);
    if (err) {
        host_err("invalid boot configuration for %s: %s", dir, fs38_strerror(err));
        device_close(d);
        return -1;
    }
    /* an interrupted decommissioning is completed before any command can use a key (no key
     * can be used without the store: nothing to complete when it did not open) */
    if (d->store_open && device_decommission_resume(d)) {
        device_close(d);
        return -1;
    }
    return 0;
}

int device_open(device *d, const char *dir)
{
    return device_open_mode(d, dir, false);
}

int device_open_boot(device *d, const char *dir)
{
    return device_open_mode(d, dir, true);
}

void device_close(device *d)
{
    if (!d->open)
        return;
    if (d->store_open) {
        device_log_close(d);
        fs38_its_bind(NULL);
        mbedtls_psa_crypto_free(); /* drop PSA's cached copies of persistent keys */
        fs38_store_close(&d->store);
        d->store_open = false;
    }
    if (d->locked) {
        fs38_port_unlock(&d->port);
        d->locked = false;
    }
    fs38_posix_close(&d->posix);
    device_tpm_detach(d);
    fs38_keyring_free(&d->trust);
    d->open = false;
}

char device_slot_letter(unsigned i)
{
    return (char)('A' + i);
}

int device_no_positional(const char *cmd, int argc, char **argv, const host_opt *opts)
{
    const char *pos[1];
    size_t npos = 0;
    int rc = host_parse_args(argc, argv, opts, pos, 1, &npos);
    if (rc == 1) {
        host_err("%s: see 'fs38-device --help'", cmd);
        return -1;
    }
    if (rc != 0)
        return -1;
    if (npos) {
        host_err("%s: unexpected argument '%s'", cmd, pos[0]);
        return -1;
    }
    return 0;
}
