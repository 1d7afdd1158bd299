/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_receipt.c — `fs38 receipt verify`: the backend's check of a decommissioning receipt
 * (control 12).
 *
 *   fs38 receipt verify --ca CA_DIR RECEIPT [--cert CERT.pem] [--nonce HEX] [--json] [--retire]
 *
 * Finds the device certificate as `attest verify` does (a retired certificate is accepted: the
 * receipt was signed before the certificate was retired), verifies the COSE_Sign1 and the
 * receipt claims (fs38_receipt_verify), checks that the receipt's UEID and certificate digest
 * are those of that certificate and, with --nonce, the nonce. Prints what the device erased.
 * --retire then marks the certificate retired in CA_DIR/index.txt: tokens it signs are refused
 * from then on. Exit: 0 valid, 1 invalid, 2 usage / I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmds.h"
#include "fs38/decommission.h"
#include "fs38/util.h"
#include "host.h"

void usage_receipt(int to_stderr)
{
    fprintf(to_stderr ? stderr : stdout,
            "usage: fs38 receipt verify --ca CA_DIR RECEIPT [--cert CERT.pem] [--nonce HEX] [--json] [--retire]\n"
            "  verify a decommissioning receipt from 'fs38-device decommission': the device certificate\n"
            "  chains to CA_DIR, the signature, the claims; print what was erased. --retire marks the\n"
            "  certificate retired in the CA's index (its tokens are refused afterwards).\n"
            "exit status: 0 valid, 1 invalid, 2 usage or I/O error.\n");
}

static int invalid(bool json, const char *reason)
{
    fprintf(stderr, "receipt: invalid: %s\n", reason);
    if (json) {
        printf("{\"valid\":false,\"reason\":\"");
        for (const char *p = reason; *p; p++)
            printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
        printf("\"}\n");
    }
    return HOST_EXIT_REJECT;
}

static void print(const fs38_receipt_claims *c, const ca_signer *s, bool json)
{
    char hex[2 * 64 + 1], t[32] = "";
    if (c->has_iat) {
        time_t tt = (time_t)c->iat;
        struct tm tm;
        if (gmtime_r(&tt, &tm))
            strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    host_hex(c->ueid, c->ueid_len, hex);
    if (json) {
        printf("{\"valid\":true,\"certificate\":{\"serial\":\"%s\",\"retired\":%s},\"ueid\":\"%s\"", s->serial,
               s->retired ? "true" : "false", hex);
        if (c->has_iat)
            printf(",\"iat\":%lld,\"iat_utc\":\"%s\"", (long long)c->iat, t);
        if (c->nonce_len) {
            host_hex(c->nonce, c->nonce_len, hex);
            printf(",\"nonce\":\"%s\"", hex);
        }
        printf(",\"lifecycle\":\"%s\",\"swname\":\"%s\",\"swversion\":\"%s\",\"keys_destroyed\":[",
               fs38_lifecycle_name(c->lifecycle), c->swname, c->swversion);
        for (size_t i = 0; i < c->n_keys; i++)
            printf("%s%lu", i ? "," : "", (unsigned long)c->keys[i]);
        printf("],\"erased\":[");
        for (size_t i = 0; i < c->n_regions; i++)
            printf("%s{\"name\":\"%s\",\"offset\":%lu,\"size\":%lu}", i ? "," : "", c->regions[i].name,
                   (unsigned long)c->regions[i].offset, (unsigned long)c->regions[i].size);
        printf("]}\n");
        return;
    }
    printf("receipt: valid decommissioning receipt: signed by the device key of certificate serial %s (%s), "
           "chain to \"%s\" verified\n",
           s->serial, s->subject, s->issuer);
    printf("ueid: %s\n", hex);
    if (c->has_iat)
        printf("time: %s\n", t);
    if (c->nonce_len) {
        host_hex(c->nonce, c->nonce_len, hex);
        printf("nonce: %s\n", hex);
    }
    printf("lifecycle: %s (fs38 %s)\n", fs38_lifecycle_name(c->lifecycle), c->swversion);
    printf("keys destroyed:");
    for (size_t i = 0; i < c->n_keys; i++)
        printf(" 0x%08lx", (unsigned long)c->keys[i]);
    printf("\nerased and read back blank:");
    for (size_t i = 0; i < c->n_regions; i++)
        printf(" %s 0x%06lx+%lu", c->regions[i].name, (unsigned long)c->regions[i].offset,
               (unsigned long)c->regions[i].size);
    printf("\n");
    if (c->has_cert_digest)
        printf("certificate: the receipt names certificate serial %s (SHA-256 matches)\n", s->serial);
}

static int verify_run(const char *ca_dir, const char *path, const char *cert, const char *nonce_hex, bool json,
                      bool retire)
{
    uint8_t nonce[FS38_EAT_NONCE_MAX], *buf = NULL;
    size_t nl = 0, len = 0;
    if (nonce_hex) {
        nl = strlen(nonce_hex) / 2;
        if (strlen(nonce_hex) % 2 || nl < FS38_EAT_NONCE_MIN || nl > FS38_EAT_NONCE_MAX ||
            host_unhex(nonce_hex, nonce, nl)) {
            host_err("receipt verify: --nonce must be 8 to 64 bytes as hex");
            return HOST_EXIT_USAGE;
        }
    }
    if (host_read_file(path, 64 * 1024, &buf, &len))
        return HOST_EXIT_USAGE;
    fs38_keyring kr;
    ca_signer s;
    fs38_receipt_claims *c = malloc(sizeof *c);
    fs38_diag d;
    fs38_keyring_init(&kr);
    fs38_diag_clear(&d);
    int rc = c ? ca_find_signer(ca_dir, cert, buf, len, true, &kr, &s) : HOST_EXIT_USAGE;
    if (rc == HOST_EXIT_REJECT) {
        rc = invalid(json, s.reason);
    } else if (rc == HOST_EXIT_OK) {
        char ueid_hex[2 * FS38_EAT_UEID_MAX + 1] = "";
        fs38_err e = fs38_receipt_verify(buf, len, &kr, nonce_hex ? nonce : NULL, nl, c, NULL, &d);
        if (e == FS38_OK)
            host_hex(c->ueid, c->ueid_len, ueid_hex);
        if (e != FS38_OK) {
            rc = invalid(json, d.msg[0] ? d.msg : fs38_strerror(e));
        } else if (strcmp(ueid_hex, s.ueid) != 0) {
            rc = invalid(json, "the receipt's UEID is not the one in the signer's certificate");
        } else if (c->has_cert_digest && fs38_ct_compare(c->cert_digest, s.cert_sha256, 32) != 0) {
            rc = invalid(json, "the receipt names another certificate than the signer's");
        } else {
            print(c, &s, json);
            rc = HOST_EXIT_OK;
            if (retire) {
                int r = ca_retire(ca_dir, s.serial);
                if (r < 0)
                    rc = HOST_EXIT_USAGE;
                else
                    fprintf(json ? stderr : stdout, "receipt: certificate serial %s %s\n", s.serial,
                            r ? "retired in the CA's index" : "was already retired");
            }
        }
    }
    fs38_keyring_free(&kr);
    free(c);
    free(buf);
    return rc;
}

int cmd_receipt(int argc, char **argv)
{
    if (argc < 1) {
        usage_receipt(1);
        return HOST_EXIT_USAGE;
    }
    if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        usage_receipt(0);
        return HOST_EXIT_OK;
    }
    if (strcmp(argv[0], "verify") != 0) {
        host_err("receipt: unknown subcommand '%s' (verify)", argv[0]);
        usage_receipt(1);
        return HOST_EXIT_USAGE;
    }
    const char *ca = NULL, *cert = NULL, *nonce = NULL, *pos[2];
    bool json = false, retire = false;
    size_t npos = 0;
    const host_opt opts[] = { { .name = "--ca", .value = &ca },
                              { .name = "--cert", .value = &cert },
                              { .name = "--nonce", .value = &nonce },
                              { .name = "--json", .flag = &json },
                              { .name = "--retire", .flag = &retire },
                              { .name = NULL } };
    int r = host_parse_args(argc - 1, argv + 1, opts, pos, 2, &npos);
    if (r == 1) {
        usage_receipt(0);
        return HOST_EXIT_OK;
    }
    if (r || npos != 1 || !ca) {
        host_err("receipt verify: expected --ca CA_DIR RECEIPT");
        return HOST_EXIT_USAGE;
    }
    return verify_run(ca, pos[0], cert, nonce, json, retire);
}
