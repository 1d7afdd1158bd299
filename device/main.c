/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c — `fs38-device`, the reference device on the POSIX port.
 *
 *   fs38-device --state DIR <command> [arguments]
 *
 * Each command lives in a cmd_*.c file and is listed once in the table below
 * (commands.h declares them). Exit status: 0 success, 1 refused, 2 usage or I/O error.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "device.h"

device g_dev; /* large (boot context): not on the stack */

static const device_command commands[] = {
    { "init", cmd_init,
      "--trust PUB.pem [--trust PUB2.pem ...] [--vendor-id UUID --class-id UUID] [--force]\n"
      "       [--ecdh-key KEY.pem] [--kek KEK.hex] [--tpm TCTI]",
      "create DIR with an erased 8 MiB flash and the ROM (trust anchors); --ecdh-key installs a\n"
      "      vendor-generated P-256 key-agreement key (PEM private key) for ECDH-ES+A128KW updates,\n"
      "      --kek a pre-shared A128KW key: a file holding 16 bytes as 32 hex digits; --tpm: a TPM 2.0\n"
      "      (e.g. swtpm:host=127.0.0.1,port=2321) keeps the sealing root, the monotonic counters and\n"
      "      the device key (created at provisioning); every later command uses it" },
    { "flash-slot", cmd_flash_slot, "A|B ENV.suit IMG", "factory programming of a slot (no checks)" },
    { "boot", cmd_boot, "", "verify both slots and choose the one to boot" },
    { "commit", cmd_commit, "", "boot, then advance the anti-rollback counter to the chosen slot" },
    { "status", cmd_status, "", "show both slots, the update state and the anti-rollback counter" },
    DEVICE_EXTRA_COMMANDS
};

static void usage(FILE *f)
{
    fprintf(f, "usage: fs38-device --state DIR <command> [arguments]\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %s %s\n      %s\n", commands[i].name, commands[i].args, commands[i].summary);
    fprintf(f, "exit status: 0 success, 1 refused, 2 usage or I/O error, 3 network unreachable / timed out\n"
               "(network commands) or a simulated power cut (--power-cut).\n");
}

int main(int argc, char **argv)
{
    host_set_prog("fs38-device");
    const char *dir = NULL;
    int i = 1;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return HOST_EXIT_OK;
    }
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("fs38-device %s\n", fs38_version());
        return HOST_EXIT_OK;
    }
    if (i < argc && strcmp(argv[i], "--state") == 0 && i + 1 < argc) {
        dir = argv[i + 1];
        i += 2;
    } else if (i < argc && strncmp(argv[i], "--state=", 8) == 0) {
        dir = argv[i] + 8;
        i += 1;
    }
    if (!dir || !*dir) {
        host_err("--state DIR is required (before the command)");
        usage(stderr);
        return HOST_EXIT_USAGE;
    }
    if (i >= argc) {
        host_err("no command given");
        usage(stderr);
        return HOST_EXIT_USAGE;
    }
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (strcmp(argv[i], commands[c].name) == 0)
            return commands[c].run(dir, argc - i - 1, argv + i + 1);
    host_err("unknown command '%s'", argv[i]);
    usage(stderr);
    return HOST_EXIT_USAGE;
}
