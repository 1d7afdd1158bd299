/* SPDX-License-Identifier: Apache-2.0 */
/*
 * device.h — the reference device's state: its "ROM" (trust anchors, vendor / class ids)
 * and its flash (a POSIX flash file), both kept in a state directory.
 *
 * ROM file (text, one item per line, '#' comments):
 *     vendor-id fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe
 *     class-id 1492af14-2569-5e48-bf42-9b2d51f2ab45
 *     trust 04<x><y>            (uncompressed P-256 point, 130 hex digits; one line per key)
 */
#ifndef FS38_DEVICE_DEVICE_H
#define FS38_DEVICE_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "fs38/boot.h"
#include "fs38/cose.h"
#include "fs38/log.h"
#include "fs38/store.h"
#include "fs38/identity.h"
#include "fs38/keys.h"
#include "fs38_posix.h"
#include "host.h"
#ifdef FS38_HAVE_TPM
#include "fs38_tpm.h"
#endif

#define DEV_PATH_MAX 480

typedef struct device_rom {
    uint8_t vendor_id[16];
    uint8_t class_id[16];
    uint8_t trust[FS38_KEYRING_MAX][HOST_P256_POINT_LEN];
    size_t n_trust;
} device_rom;

typedef struct device {
    char dir[DEV_PATH_MAX];
    device_rom rom;
    fs38_posix posix;
    fs38_port port;
    fs38_keyring trust;
    fs38_boot_config cfg;
    fs38_boot_ctx boot;
    fs38_store store;             /* sealed store; PSA persistent keys live here (its.c) */
    bool store_open;
    fs38_log log;                 /* security log (control 7), when created; the event sink */
    bool log_open;
    bool open;
    bool locked;                  /* holds the device lock (port.lock) until device_close */
#ifdef FS38_HAVE_TPM
    fs38_tpm tpm;                 /* the TPM (init --tpm): sealing root, counters, device key */
#endif
    bool tpm_on;                  /* DIR/tpm exists: the port's HUK and counters are the TPM's */
    char tcti[256];               /* its TCTI configuration */
    fs38_key tpm_key;             /* the device key in the TPM (FS38_TPM_H_IDENTITY) */
} device;

/* "DIR/name" into out (DEV_PATH_MAX + 16 bytes). Returns 0 or -1 (too long). */
int device_path(const char *dir, const char *name, char *out, size_t cap);

int rom_write(const char *path, const device_rom *rom);
int rom_read(const char *path, device_rom *rom);

/* Create a fresh, erased flash file for the layout in layout.h, and a new hardware unique key
 * (huk NULL: none, a TPM device). */
int device_create_flash(const char *path, const char *huk);
/* A TPM device's own flash counters (port/posix), never used while DIR/tpm binds the TPM, set to
 * INT64_MAX: should DIR/tpm go, the device falls back to counters that refuse every image
 * (fail closed) instead of counters an attacker can replay. 0 or -1 (printed). */
int device_flash_counters_fail_closed(const char *path);

/* Open an initialised state directory: ROM, keyring, flash, sealed store (bound as PSA's
 * persistent key storage), boot configuration. device_close() closes it again and frees PSA
 * (psa_crypto_init is called again by the next device_open). From the flash's opening to
 * device_close() the device lock (port.lock: flock on the flash file) is held exclusively, so
 * each command runs alone against every other fs38-device process on the same DIR. */
int device_open(device *d, const char *dir);
/* The same for secure boot (threat model A6): a sealed store that does not open is reported on
 * stderr and the device opens without store and log (store_open false). */
int device_open_boot(device *d, const char *dir);
void device_close(device *d);

/* tpm_dev.c — the TPM binding (init --tpm TCTI; the state file DIR/tpm: "tcti T" and "base B0..B3").
 * device_tpm_init: make the TPM at tcti this device's (fs38_tpm_setup) and write DIR/tpm; with tcti
 * NULL, remove DIR/tpm (a device without TPM). device_tpm_attach: called by device_open after
 * the flash is open: when DIR/tpm exists, connect and route the port's HUK and counters through
 * the TPM. device_tpm_detach: disconnect. device_identity_init: fs38_identity_init with the
 * device key in the TPM when there is one. Decommissioning: device_tpm_objects lists the fs38
 * objects in the TPM (all) and those the caller releases itself (rel: all but the device key,
 * which the identity destroys); device_tpm_release evicts / undefines them once the receipt is
 * out and prints what; device_tpm_unbind (device closed) leaves DIR a blank device without TPM.
 * Each returns 0 or -1 (message printed); without a TPM they do nothing. */
#define DEV_TPM_OBJECTS 8u
int device_tpm_init(const char *dir, const char *tcti);
int device_tpm_attach(device *d);
void device_tpm_detach(device *d);
int device_identity_init(device *d, fs38_identity *id);
int device_tpm_objects(device *d, uint32_t all[DEV_TPM_OBJECTS], size_t *n_all, uint32_t rel[DEV_TPM_OBJECTS],
                       size_t *n_rel);
int device_tpm_release(device *d, const uint32_t *before, size_t n_before);
int device_tpm_unbind(const char *dir);
/* tpm_se.c — the TPM's device key as a PSA key (PSA secure-element driver at DEV_SE_LOCATION) for
 * Mbed TLS: device_tpm_se_register before psa_crypto_init; device_tpm_se_use(key) while a TPM
 * device is open; device_tpm_tls_key: the PSA id (DEV_KEY_TPM_TLS, registered on first use),
 * 0 or -1 (printed). */
#define DEV_SE_LOCATION ((psa_key_location_t)0x38u) /* PSA SE locations are 1..255 in Mbed TLS */
void device_tpm_se_register(void);
void device_tpm_se_use(const fs38_key *key);
int device_tpm_tls_key(device *d, psa_key_id_t *id);

/* cmd_log.c: open the security log if one was created and make it the event sink (events are
 * dropped otherwise); close it. Called by device_open / device_close. */
int device_log_open(device *d);
void device_log_close(device *d);

/* 'A' or 'B'. */
char device_slot_letter(unsigned i);
/* Parse a command's options; any positional argument is an error (printed). 0 or -1. */
int device_no_positional(const char *cmd, int argc, char **argv, const host_opt *opts);

#endif
