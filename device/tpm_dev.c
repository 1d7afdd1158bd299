/* SPDX-License-Identifier: Apache-2.0 */
/* tpm_dev.c — the reference device's TPM binding (init --tpm TCTI). See device.h and
 * port/tpm/fs38_tpm.h. The state file DIR/tpm stands in for the device's ROM configuration: which
 * TPM, and the counters' bases (fixed for the device's life). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device.h"
#include "keys.h"
#include "layout.h"

#ifdef FS38_HAVE_TPM

static int tpm_file_write(const char *dir, const char *tcti, const uint64_t base[FS38_COUNTER_COUNT],
                          const uint8_t *salt, size_t salt_len)
{
    char path[DEV_PATH_MAX + 16], text[640], hex[2 * FS38_TPM_NAME_MAX + 1];
    if (device_path(dir, DEV_TPM_FILE, path, sizeof path))
        return -1;
    host_hex(salt, salt_len, hex);
    int n = snprintf(text, sizeof text,
                     "# fs38-device TPM binding (written by init --tpm): the TCTI, the NV counters' bases and the\n"
                     "# name of the storage key that salts the TPM's encrypting session\n"
                     "tcti %s\nbase %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\nsalt %s\n",
                     tcti, base[0], base[1], base[2], base[3], hex);
    if (n < 0 || (size_t)n >= sizeof text) {
        host_err("init: TCTI too long");
        return -1;
    }
    return host_write_file(path, text, (size_t)n, 0644, false);
}

static int tpm_file_read(device *d, uint64_t base[FS38_COUNTER_COUNT], uint8_t salt[FS38_TPM_NAME_MAX],
                         size_t *salt_len)
{
    *salt_len = 0;
    char path[DEV_PATH_MAX + 16];
    uint8_t *buf = NULL;
    size_t len = 0;
    bool have_t = false, have_b = false;
    if (device_path(d->dir, DEV_TPM_FILE, path, sizeof path) || host_read_file(path, 4096, &buf, &len))
        return -1;
    char *save = NULL;
    for (char *line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        if (strncmp(line, "tcti ", 5) == 0 && strlen(line + 5) > 0 && strlen(line + 5) < sizeof d->tcti) {
            memcpy(d->tcti, line + 5, strlen(line + 5) + 1);
            have_t = true;
        } else if (strncmp(line, "base ", 5) == 0 &&
                   sscanf(line + 5, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64, &base[0], &base[1], &base[2],
                          &base[3]) == 4) {
            have_b = true;
        } else if (strncmp(line, "salt ", 5) == 0 && strlen(line + 5) % 2 == 0 && strlen(line + 5) > 0 &&
                   strlen(line + 5) <= 2 * FS38_TPM_NAME_MAX && host_unhex(line + 5, salt, strlen(line + 5) / 2) == 0) {
            *salt_len = strlen(line + 5) / 2;
        } else {
            free(buf);
            host_err("cannot read %s: invalid line '%s'", path, line);
            return -1;
        }
    }
    free(buf);
    if (!have_t || !have_b) {
        host_err("cannot read %s: it needs a tcti and a base line", path);
        return -1;
    }
    return 0;
}

int device_tpm_init(const char *dir, const char *tcti)
{
    char path[DEV_PATH_MAX + 16];
    if (!tcti) {
        if (device_path(dir, DEV_TPM_FILE, path, sizeof path))
            return -1;
        if (unlink(path) != 0 && errno != ENOENT) {
            host_err("init: cannot remove %s: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    fs38_tpm t;
    uint64_t base[FS38_COUNTER_COUNT];
    uint8_t salt[FS38_TPM_NAME_MAX];
    size_t salt_len = 0;
    fs38_err e = fs38_tpm_open(&t, tcti);
    if (e == FS38_OK)
        e = fs38_tpm_setup(&t, base);
    if (e == FS38_OK) /* the binding is the trusted moment: the salt key's name is recorded now */
        e = fs38_tpm_salt_name(&t, salt, &salt_len);
    if (e != FS38_OK) {
        host_err("init: TPM at %s: %s", tcti, t.diag.msg[0] ? t.diag.msg : fs38_strerror(e));
        fs38_tpm_close(&t);
        return -1;
    }
    fs38_tpm_close(&t);
    if (tpm_file_write(dir, tcti, base, salt, salt_len))
        return -1;
    printf("init: TPM at %s: sealing key 0x%08x, NV counters 0x%08x..0x%08x (the device key is created at "
           "provisioning, 0x%08x)\n",
           tcti, FS38_TPM_H_SEALING, FS38_TPM_NV_COUNTER, FS38_TPM_NV_COUNTER + FS38_COUNTER_COUNT - 1u,
           FS38_TPM_H_IDENTITY);
    return 0;
}

int device_tpm_attach(device *d)
{
    uint64_t base[FS38_COUNTER_COUNT];
    uint8_t salt[FS38_TPM_NAME_MAX];
    size_t salt_len = 0;
    if (tpm_file_read(d, base, salt, &salt_len))
        return -1;
    fs38_err e = fs38_tpm_open(&d->tpm, d->tcti);
    if (e == FS38_OK)
        e = fs38_tpm_expect_salt_name(&d->tpm, salt, salt_len);
    if (e == FS38_OK)
        e = fs38_tpm_wrap_port(&d->tpm, &d->port, base);
    if (e == FS38_OK)
        e = fs38_tpm_key(&d->tpm, FS38_TPM_H_IDENTITY, &d->tpm_key);
    if (e == FS38_OK)
        device_tpm_se_use(&d->tpm_key);
    if (e != FS38_OK) {
        host_err("the device's TPM (%s): %s", d->tcti, d->tpm.diag.msg[0] ? d->tpm.diag.msg : fs38_strerror(e));
        fs38_tpm_close(&d->tpm);
        return -1;
    }
    return 0;
}

void device_tpm_detach(device *d)
{
    if (!d->tpm_on)
        return;
    device_tpm_se_use(NULL);
    /* a command that failed because the TPM went away, refused a counter jump or could not be
     * trusted (another storage key than the one recorded) says so, in the TPM backend's words */
    if (d->tpm.diag.err == FS38_ERR_IO || d->tpm.diag.err == FS38_ERR_LIMIT || d->tpm.diag.err == FS38_ERR_CRYPTO)
        host_err("the device's TPM (%s): %s", d->tcti, d->tpm.diag.msg);
    fs38_tpm_close(&d->tpm);
}

int device_tpm_objects(device *d, uint32_t all[DEV_TPM_OBJECTS], size_t *n_all, uint32_t rel[DEV_TPM_OBJECTS],
                       size_t *n_rel)
{
    *n_all = *n_rel = 0;
    if (!d->tpm_on)
        return 0;
    fs38_err e = fs38_tpm_objects(&d->tpm, all, DEV_TPM_OBJECTS, n_all);
    if (e != FS38_OK || *n_all > DEV_TPM_OBJECTS) {
        host_err("listing the TPM objects failed: %s", d->tpm.diag.msg);
        return -1;
    }
    for (size_t i = 0; i < *n_all; i++)
        if (all[i] != FS38_TPM_H_IDENTITY) /* the identity destroys its key itself */
            rel[(*n_rel)++] = all[i];
    return 0;
}

int device_tpm_release(device *d, const uint32_t *before, size_t n_before)
{
    uint32_t gone[DEV_TPM_OBJECTS], left[DEV_TPM_OBJECTS];
    size_t n = 0, n_left = 0;
    if (!d->tpm_on)
        return 0;
    fs38_err e = fs38_tpm_teardown(&d->tpm, gone, DEV_TPM_OBJECTS, &n);
    if (e == FS38_OK)
        e = fs38_tpm_objects(&d->tpm, left, DEV_TPM_OBJECTS, &n_left);
    if (e != FS38_OK || n_left) {
        host_err("decommission: releasing the TPM failed: %s (run decommission again)",
                 e != FS38_OK ? d->tpm.diag.msg : "objects are left");
        return -1;
    }
    printf("decommission: TPM: evicted");
    for (size_t i = 0; i < n_before; i++)
        if ((before[i] >> 24) == 0x81u)
            printf(" 0x%08x", (unsigned)before[i]);
    printf(", undefined");
    for (size_t i = 0; i < n_before; i++)
        if ((before[i] >> 24) == 0x01u)
            printf(" 0x%08x", (unsigned)before[i]);
    printf(" (%s)\n", d->tcti);
    return 0;
}

int device_tpm_unbind(const char *dir)
{
    char flash[DEV_PATH_MAX + 16], huk[DEV_PATH_MAX + 16];
    /* the store was sealed under the evicted key: a blank device without TPM is left */
    if (device_tpm_init(dir, NULL) || device_path(dir, DEV_FLASH_FILE, flash, sizeof flash) ||
        device_path(dir, DEV_HUK_FILE, huk, sizeof huk) || device_create_flash(flash, huk))
        return -1;
    printf("decommission: the TPM is released; %s is a blank device without TPM ('init --tpm' binds one again)\n",
           dir);
    return 0;
}

#else /* built without libtss2 */

int device_tpm_init(const char *dir, const char *tcti)
{
    (void)dir;
    if (!tcti)
        return 0;
    host_err("init --tpm: this fs38-device was built without TPM support (install libtss2-dev: scripts/deps)");
    return -1;
}

int device_tpm_attach(device *d)
{
    host_err("%s uses a TPM, but this fs38-device was built without TPM support (libtss2-dev)", d->dir);
    return -1;
}

void device_tpm_detach(device *d)
{
    (void)d;
}

int device_tpm_objects(device *d, uint32_t all[DEV_TPM_OBJECTS], size_t *n_all, uint32_t rel[DEV_TPM_OBJECTS],
                       size_t *n_rel)
{
    (void)d;
    (void)all;
    (void)rel;
    *n_all = *n_rel = 0;
    return 0;
}

int device_tpm_release(device *d, const uint32_t *before, size_t n_before)
{
    (void)d;
    (void)before;
    (void)n_before;
    return 0;
}

int device_tpm_unbind(const char *dir)
{
    (void)dir;
    return 0;
}

#endif

int device_identity_init(device *d, fs38_identity *id)
{
    if (fs38_identity_init(id, &d->store, DEV_KEY_IDENTITY) != FS38_OK)
        return -1;
    if (d->tpm_on && fs38_identity_use_key(id, &d->tpm_key) != FS38_OK)
        return -1;
    return 0;
}
