/*
 * commands.h — fs38-device's commands. Each: int cmd_x(const char *dir, int argc, char **argv)
 * where argv holds the arguments after the command name. To add a command: write it in its
 * own cmd_*.c, declare it here, and add one line to DEVICE_EXTRA_COMMANDS.
 */
#ifndef FS38_DEVICE_COMMANDS_H
#define FS38_DEVICE_COMMANDS_H

#include "device.h"

typedef struct device_command {
    const char *name;
    int (*run)(const char *dir, int argc, char **argv);
    const char *args;
    const char *summary;
} device_command;

extern device g_dev;

/* cmd_slots.c — secure boot (control 2) */
int cmd_init(const char *dir, int argc, char **argv);
int cmd_flash_slot(const char *dir, int argc, char **argv);
int cmd_boot(const char *dir, int argc, char **argv);
int cmd_commit(const char *dir, int argc, char **argv);
int cmd_status(const char *dir, int argc, char **argv);

/* cmd_update.c — updates (control 3) */
int cmd_update(const char *dir, int argc, char **argv);
int cmd_confirm(const char *dir, int argc, char **argv);
int cmd_pubkey(const char *dir, int argc, char **argv);

/* Commands beyond secure boot, one line each. */
#define DEVICE_EXTRA_COMMANDS \
    { "update", cmd_update, "ENV.suit PAYLOAD [--chunk N]", "install a signed (and encrypted) update into the other slot" }, \
    { "confirm", cmd_confirm, "", "confirm the image on trial (after its self-test): commit it" }, \
    { "pubkey", cmd_pubkey, "[--out PUB.pem]", "export the device's key-agreement public key (for encrypted updates)" },

#endif
