/* SPDX-License-Identifier: Apache-2.0 */
/* main.c — `fs38`, the host command line: keygen, sign, verify, inspect. */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "fs38/boot.h"
#include "host.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    void (*usage)(int to_stderr);
    const char *summary;
} command;

static const command commands[] = {
    { "keygen", cmd_keygen, usage_keygen, "generate a P-256 signing key pair (PEM)" },
    { "sign", cmd_sign, usage_sign, "build and sign a SUIT envelope for an image" },
    { "verify", cmd_verify, usage_verify, "authenticate a SUIT envelope (and its image)" },
    { "inspect", cmd_inspect, usage_inspect, "dump a SUIT envelope (no key needed, not verified)" },
    { "ca", cmd_ca, usage_ca, "manufacturer CA: init, issue device certificates (index)" },
    { "attest", cmd_attest, usage_attest, "verify a device's attestation token (chain, signature, nonce)" },
    { "receipt", cmd_receipt, usage_receipt, "verify a decommissioning receipt" },
    { "log", cmd_log, usage_log, "verify security-log exports, or show them as text, JSON, RFC 5424" },
    { "audit", cmd_audit, usage_audit, "assess a firmware image against the 14 controls (verdicts + evidence)" },
    { "sbom", cmd_sbom, usage_sbom, "CycloneDX 1.6 SBOM of a root filesystem, offline CVE matching" },
    { "fleet", cmd_fleet, usage_fleet, "fleet side: broker config, enrol, status, attest, publish updates" },
    { "collect", cmd_collect, usage_collect, "collect and verify devices' logs from an MQTT broker into the fleet DB" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: fs38 <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'fs38 <command> --help' describes a command's options.\n"
               "exit status: 0 success, 1 rejected, 2 usage or I/O error.\n");
}

int main(int argc, char **argv)
{
    host_set_prog("fs38");
    if (argc < 2) {
        usage(stderr);
        return HOST_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return HOST_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("fs38 %s\n", fs38_version());
        return HOST_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    host_err("unknown command '%s'", name);
    usage(stderr);
    return HOST_EXIT_USAGE;
}
