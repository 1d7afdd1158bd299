/* SPDX-License-Identifier: Apache-2.0 */
/* cmds.h — the subcommands of the host tool `fs38`. Each returns the process exit code:
 * 0 success, 1 rejected (verification failed / malformed input), 2 usage or I/O error. */
#ifndef FS38_TOOLS_CMDS_H
#define FS38_TOOLS_CMDS_H

int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_ca(int argc, char **argv);
int cmd_attest(int argc, char **argv);
int cmd_receipt(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_sbom(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_fleet(int argc, char **argv);
int cmd_collect(int argc, char **argv);

/* Usage text of one subcommand (to stdout for --help, to stderr after a usage error). */
void usage_keygen(int to_stderr);
void usage_sign(int to_stderr);
void usage_verify(int to_stderr);
void usage_inspect(int to_stderr);
void usage_ca(int to_stderr);
void usage_attest(int to_stderr);
void usage_receipt(int to_stderr);
void usage_log(int to_stderr);
void usage_sbom(int to_stderr);
void usage_audit(int to_stderr);
void usage_fleet(int to_stderr);
void usage_collect(int to_stderr);

/* cmd_ca.c: the CA side of `attest verify` and `receipt verify`. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fs38/cose.h"
typedef struct ca_signer {
    char serial[80];         /* device certificate serial, hex */
    char ueid[80];           /* its subject's serialNumber (the UEID, hex) */
    char subject[256];
    char issuer[256];
    uint8_t cert_sha256[32]; /* SHA-256 of the certificate (DER) */
    bool retired;            /* marked R in the index (decommissioned) */
    char reason[256];        /* why it was refused (return 1) */
} ca_signer;
/* The device certificate that signed msg (a COSE_Sign1): cert_path, or the one CA_DIR issued for
 * the kid in msg's header. Checks it chains to CA_DIR/ca.crt (validity included) and is not
 * retired (unless allow_retired); adds its key to kr. 0, 1 refused (out->reason), 2 error. */
int ca_find_signer(const char *ca_dir, const char *cert_path, const uint8_t *msg, size_t len, bool allow_retired,
                   fs38_keyring *kr, ca_signer *out);
/* A TLS certificate from CA_DIR with a new P-256 key (KEY mode 0600), as `ca server` does; with
 * client, CN=name and extendedKeyUsage clientAuth without subjectAltName (the fleet collector).
 * Exit status (0, 1 refused, 2 error). */
int ca_tls_cert(const char *dir, const char *name, bool client, const char *out, const char *key_out);
/* Mark a certificate retired in CA_DIR/index.txt: 1 done, 0 not found / already, -1 error. */
int ca_retire(const char *ca_dir, const char *serial);

#endif
