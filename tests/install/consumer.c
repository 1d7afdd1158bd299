/* SPDX-License-Identifier: Apache-2.0 */
/*
 * consumer.c — an out-of-tree program built against an installed fs38 (tests/install/run.sh):
 *   consumer VECTORS_DIR
 * 1. sizeof(fs38_update_ctx) here (from the installed fs38/config.h) equals the library's;
 * 2. the IETF SUIT example 0 envelope authenticates with the draft's example P-256 key as
 *    the trust anchor, sequence number 0;
 * 3. the same envelope with a corrupted signature (negative/example0-bad-signature) is
 *    rejected with FS38_ERR_BAD_SIGNATURE.
 * Prints "consumer: OK" and exits 0, or says what failed and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <psa/crypto.h>
#include "fs38/boot.h"
#include "fs38/config.h"
#include "fs38/cose.h"
#include "fs38/suit.h"
#include "fs38/update.h"

/* draft-ietf-suit-manifest Appendix B example key (tests/vectors/suit/keys/suit-example-p256.hex) */
static const uint8_t example_pub[65] = {
    0x04, 0x84, 0x96, 0x81, 0x1a, 0xae, 0x0b, 0xaa, 0xab, 0xd2, 0x61, 0x57, 0x18, 0x9e, 0xec,
    0xda, 0x26, 0xbe, 0xaa, 0x8b, 0xf1, 0x1b, 0x6f, 0x3f, 0xe6, 0xe2, 0xb5, 0x65, 0x9c, 0x85,
    0xdb, 0xc0, 0xad, 0x3b, 0x1f, 0x2a, 0x4b, 0x6c, 0x09, 0x81, 0x31, 0xc0, 0xa3, 0x6d, 0xac,
    0xd1, 0xd7, 0x8b, 0xd3, 0x81, 0xdc, 0xdf, 0xb0, 0x9c, 0x05, 0x2d, 0xb3, 0x39, 0x91, 0xdb,
    0x73, 0x38, 0xb4, 0xa8, 0x96,
};

static uint8_t *read_file(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "consumer: cannot open %s\n", path);
        return NULL;
    }
    static uint8_t buf[2][8192];
    static int which;
    uint8_t *b = buf[which++ & 1];
    *len = fread(b, 1, sizeof buf[0], f);
    int bad = ferror(f) || !feof(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "consumer: cannot read %s (or larger than %zu bytes)\n", path, sizeof buf[0]);
        return NULL;
    }
    return b;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: consumer VECTORS_DIR (tests/vectors/suit)\n");
        return 2;
    }
    printf("consumer: fs38 %s (headers %s), FS38_UPDATE_CHUNK %u\n", fs38_version(), FS38_VERSION_STRING,
           (unsigned)FS38_UPDATE_CHUNK);
    if (strcmp(fs38_version(), FS38_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer: library version %s, headers %s\n", fs38_version(), FS38_VERSION_STRING);
        return 1;
    }
    if (fs38_update_ctx_size() != sizeof(fs38_update_ctx)) {
        fprintf(stderr, "consumer: sizeof(fs38_update_ctx) is %zu here, %zu in libfs38\n",
                sizeof(fs38_update_ctx), fs38_update_ctx_size());
        return 1;
    }
    if (psa_crypto_init() != PSA_SUCCESS) {
        fprintf(stderr, "consumer: psa_crypto_init failed\n");
        return 1;
    }
    fs38_keyring kr;
    fs38_keyring_init(&kr);
    fs38_err e = fs38_keyring_add_p256(&kr, example_pub, sizeof example_pub);
    if (e != FS38_OK) {
        fprintf(stderr, "consumer: cannot add the example key (error %d)\n", (int)e);
        return 1;
    }
    int rc = 1;
    size_t len = 0;
    static fs38_suit_manifest m;
    fs38_diag d;
    const uint8_t *env = read_file(argv[1], "manifest/example0-secure-boot.signed.cbor", &len);
    if (!env)
        goto out;
    e = fs38_suit_authenticate(&m, env, len, &kr, &d);
    if (e != FS38_OK) {
        fprintf(stderr, "consumer: example0 rejected (error %d): %s\n", (int)e, d.msg);
        goto out;
    }
    if (!m.authenticated || m.sequence != 0) {
        fprintf(stderr, "consumer: example0: authenticated %d, sequence %llu (expected 1, 0)\n",
                (int)m.authenticated, (unsigned long long)m.sequence);
        goto out;
    }
    printf("consumer: example0-secure-boot authenticated, sequence %llu\n", (unsigned long long)m.sequence);
    env = read_file(argv[1], "negative/example0-bad-signature.cbor", &len);
    if (!env)
        goto out;
    e = fs38_suit_authenticate(&m, env, len, &kr, &d);
    if (e != FS38_ERR_BAD_SIGNATURE) {
        fprintf(stderr, "consumer: example0-bad-signature: error %d, expected FS38_ERR_BAD_SIGNATURE\n", (int)e);
        goto out;
    }
    printf("consumer: example0-bad-signature rejected: %s\n", d.msg);
    printf("consumer: OK\n");
    rc = 0;
out:
    fs38_keyring_free(&kr);
    return rc;
}
