/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_keygen.c — `fs38 keygen --out KEY.pem [--pub PUB.pem] [--force]`. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/pk.h>

#include "cmds.h"
#include "fs38/util.h"
#include "host.h"

#define PEM_MAX 1024

void usage_keygen(int to_stderr)
{
    fprintf(to_stderr ? stderr : stdout,
            "usage: fs38 keygen --out KEY.pem [--pub PUB.pem] [--ecdh] [--force]\n"
            "  Generate a P-256 key pair. The private key (SEC1 PEM) is created with mode 0600;\n"
            "  an existing KEY.pem is kept unless --force is given. --pub also writes the\n"
            "  public key (SubjectPublicKeyInfo PEM). --ecdh marks it as a device key-agreement\n"
            "  key (for 'fs38 sign --encrypt-to' and 'fs38-device init --ecdh-key'); devices\n"
            "  that generate their own export it with 'fs38-device pubkey'.\n");
}

/* A fresh exportable P-256 key pair in PSA, copied into a PK context. */
static int generate(mbedtls_pk_context *pk)
{
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t key = 0;
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_EXPORT | PSA_KEY_USAGE_SIGN_HASH);
    psa_set_key_algorithm(&at, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    psa_status_t st = psa_generate_key(&at, &key);
    if (st != PSA_SUCCESS) {
        host_err("cannot generate a P-256 key: PSA status %d", (int)st);
        return -1;
    }
    int ret = mbedtls_pk_copy_from_psa(key, pk);
    psa_destroy_key(key);
    if (ret != 0) {
        host_err("cannot convert the generated key: Mbed TLS error -0x%04x", (unsigned)-ret);
        return -1;
    }
    return 0;
}

/* The private key (SEC1 PEM) into output i; the encoding is wiped. */
static int write_private(const mbedtls_pk_context *pk, host_out *o, int i)
{
    unsigned char pem[PEM_MAX];
    int ret = mbedtls_pk_write_key_pem(pk, pem, sizeof pem);
    int rc = -1;
    if (ret != 0)
        host_err("cannot encode the private key: Mbed TLS error -0x%04x", (unsigned)-ret);
    else
        rc = host_out_write(o, i, pem, strlen((const char *)pem));
    fs38_wipe(pem, sizeof pem);
    return rc;
}

static int write_public(const mbedtls_pk_context *pk, host_out *o, int i)
{
    unsigned char pem[PEM_MAX];
    int ret = mbedtls_pk_write_pubkey_pem(pk, pem, sizeof pem);
    if (ret != 0) {
        host_err("cannot encode the public key: Mbed TLS error -0x%04x", (unsigned)-ret);
        return -1;
    }
    return host_out_write(o, i, pem, strlen((const char *)pem));
}

int cmd_keygen(int argc, char **argv)
{
    const char *out = NULL, *pub = NULL;
    bool force = false, ecdh = false;
    const host_opt opts[] = {
        { .name = "--out", .value = &out },
        { .name = "--pub", .value = &pub },
        { .name = "--force", .flag = &force },
        { .name = "--ecdh", .flag = &ecdh },
        { .name = NULL },
    };
    const char *pos[1];
    size_t npos;
    int rc = host_parse_args(argc, argv, opts, pos, 0, &npos);
    if (rc == 1) {
        usage_keygen(0);
        return HOST_EXIT_OK;
    }
    if (rc < 0 || !out) {
        if (rc == 0)
            host_err("keygen: --out is required");
        usage_keygen(1);
        return HOST_EXIT_USAGE;
    }
    if (!force && access(out, F_OK) == 0) {
        host_err("cannot create %s: file exists (use --force to replace it)", out);
        return HOST_EXIT_USAGE;
    }
    /* Both outputs are checked (and their temporaries created) before a key exists: the key
     * file is named only once the public key is written too, or neither is. */
    host_out o;
    host_out_init(&o);
    const int i_key = host_out_add(&o, out, 0600, !force);
    const int i_pub = i_key >= 0 && pub ? host_out_add(&o, pub, 0644, false) : -1;
    if (i_key < 0 || (pub && i_pub < 0) || host_psa_init()) {
        host_out_abort(&o);
        return HOST_EXIT_USAGE;
    }
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    rc = generate(&pk);
    if (!rc)
        rc = write_private(&pk, &o, i_key);
    if (!rc && pub)
        rc = write_public(&pk, &o, i_pub);
    mbedtls_pk_free(&pk);
    if (!rc)
        rc = host_out_commit(&o);
    host_out_abort(&o);
    if (rc)
        return HOST_EXIT_USAGE;
    printf("keygen: wrote %s%s%s (P-256 %s key)\n", out, pub ? " and " : "", pub ? pub : "",
           ecdh ? "key-agreement" : "signing");
    return HOST_EXIT_OK;
}
