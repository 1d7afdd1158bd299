/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_sign.c — `fs38 sign --key KEY.pem --image IMG --seq N --vendor-id UUID --class-id UUID
 *               [--component NAME] [--alg es256|esp256] [--slot A|B] --out ENV.suit`.
 */
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "fs38/boot.h"
#include "fs38/decrypt.h"
#include "fs38/util.h"
#include "host.h"
#include "suit_build.h"
#include "suit_encrypt.h"

void usage_sign(int to_stderr)
{
    fprintf(to_stderr ? stderr : stdout,
            "usage: fs38 sign --key KEY.pem --image IMG --seq N --vendor-id UUID --class-id UUID\n"
            "                 [--component NAME] [--alg es256|esp256] --out ENV.suit\n"
            "                 [--encrypt-to DEVICE_PUB.pem | --kek KEK.hex] [--cipher ctr|gcm]\n"
            "                 [--payload-out PAYLOAD] [--uri URI] [--slot A|B]\n"
            "  Build a SUIT envelope for IMG (sequence number N, component NAME, default\n"
            "  \"firmware\") signed with the P-256 key KEY.pem (COSE_Sign1, default ESP256).\n"
            "  UUIDs are canonical text, e.g. fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe.\n"
            "  --encrypt-to encrypts IMG for one device (ECDH-ES+A128KW with its key-agreement\n"
            "  public key), --kek with a pre-shared 16-byte key (A128KW) read from the file\n"
            "  KEK.hex, which holds it as 32 hex digits (a trailing newline is allowed);\n"
            "  --cipher selects A128CTR (default) or A128GCM. The payload the device fetches\n"
            "  (the encrypted image, or IMG itself) is written to --payload-out; the envelope\n"
            "  carries its digest, size and URI (default \"#firmware\").\n"
            "  --slot binds the image to slot A or B (SUIT component-slot, checked by\n"
            "  condition-component-slot): for images linked for the slot they run from; boot\n"
            "  and the update agent refuse it in the other slot.\n");
}

typedef struct sign_args {
    const char *key, *image, *seq, *vendor, *class_id, *component, *alg, *out;
    const char *encrypt_to, *kek, *cipher, *payload_out, *uri, *slot;
} sign_args;

static int parse_alg(const char *s, int64_t *alg)
{
    if (!s || strcmp(s, "esp256") == 0 || strcmp(s, "ESP256") == 0)
        *alg = FS38_COSE_ALG_ESP256;
    else if (strcmp(s, "es256") == 0 || strcmp(s, "ES256") == 0)
        *alg = FS38_COSE_ALG_ES256;
    else
        return -1;
    return 0;
}

/* Check the arguments and fill everything of sb except the image and the key. */
static int check_args(const sign_args *a, suit_build *sb)
{
    const char *missing = !a->key ? "--key" : !a->image ? "--image" : !a->seq ? "--seq"
                        : !a->vendor ? "--vendor-id" : !a->class_id ? "--class-id" : !a->out ? "--out" : NULL;
    if (missing) {
        host_err("sign: %s is required", missing);
        return -1;
    }
    if (host_parse_u64("sign --seq", a->seq, 0, UINT64_MAX, 0, &sb->sequence))
        return -1;
    if (host_parse_uuid(a->vendor, sb->vendor_id)) {
        host_err("sign: invalid --vendor-id '%s': expected a UUID as 8-4-4-4-12 hex digits", a->vendor);
        return -1;
    }
    if (host_parse_uuid(a->class_id, sb->class_id)) {
        host_err("sign: invalid --class-id '%s': expected a UUID as 8-4-4-4-12 hex digits", a->class_id);
        return -1;
    }
    sb->component = a->component ? a->component : "firmware";
    size_t n = strlen(sb->component);
    if (n == 0 || n > SUIT_BUILD_NAME_MAX) {
        host_err("sign: invalid --component: 1 to %u bytes expected", SUIT_BUILD_NAME_MAX);
        return -1;
    }
    if (parse_alg(a->alg, &sb->alg)) {
        host_err("sign: invalid --alg '%s': expected es256 or esp256", a->alg);
        return -1;
    }
    if (a->encrypt_to && a->kek) {
        host_err("sign: --encrypt-to and --kek exclude each other");
        return -1;
    }
    if (a->cipher && strcmp(a->cipher, "ctr") != 0 && strcmp(a->cipher, "gcm") != 0) {
        host_err("sign: invalid --cipher '%s': expected ctr or gcm", a->cipher);
        return -1;
    }
    if (a->cipher && !a->encrypt_to && !a->kek) {
        host_err("sign: --cipher needs --encrypt-to or --kek");
        return -1;
    }
    if ((a->encrypt_to || a->kek) && !a->payload_out) {
        host_err("sign: an encrypted payload needs --payload-out PAYLOAD");
        return -1;
    }
    if (a->slot) {
        if (strcmp(a->slot, "A") != 0 && strcmp(a->slot, "B") != 0) {
            host_err("sign: invalid --slot '%s': expected A or B", a->slot);
            return -1;
        }
        sb->bind_slot = true;
        sb->slot = a->slot[0] == 'A' ? 0 : 1;
    }
    sb->uri = a->uri;
    return 0;
}

/* Encrypt the image (when asked) into *payload; fill the encryption fields of sb. */
static int encrypt_image(const sign_args *a, suit_build *sb, uint8_t **payload, size_t *payload_len,
                         uint8_t *info, size_t info_cap)
{
    suit_encrypt_opts o;
    uint8_t point[HOST_P256_POINT_LEN], kek[16];
    memset(&o, 0, sizeof o);
    o.content_alg = a->cipher && strcmp(a->cipher, "gcm") == 0 ? FS38_COSE_ALG_A128GCM : FS38_COSE_ALG_A128CTR;
    if (a->encrypt_to) {
        if (host_load_public_point(a->encrypt_to, point))
            return -1;
        o.device_pub = point;
    } else {
        uint8_t *hex = NULL;
        size_t hex_len = 0;
        if (host_read_file(a->kek, 256, &hex, &hex_len))
            return -1;
        while (hex_len && (hex[hex_len - 1] == '\n' || hex[hex_len - 1] == '\r' || hex[hex_len - 1] == ' '))
            hex[--hex_len] = 0;
        int bad = hex_len != 32 || host_unhex((const char *)hex, kek, 16);
        fs38_wipe(hex, hex_len);
        free(hex);
        if (bad) {
            host_err("sign: %s must hold a 16-byte key as 32 hex digits", a->kek);
            return -1;
        }
        o.kek = kek;
    }
    *payload = malloc(sb->image_len + 16);
    fs38_err err = *payload ? suit_build_encrypt(sb, &o, *payload, sb->image_len + 16, payload_len, info, info_cap)
                            : FS38_ERR_BUFFER;
    fs38_wipe(kek, sizeof kek);
    if (err) {
        host_err("sign: encrypting the image failed: %s", err == FS38_ERR_ARG ? "invalid device public key"
                                                                             : fs38_strerror(err));
        return -1;
    }
    return 0;
}

/* Load the image and the key, build, write. Returns an exit code. */
static int sign_and_write(const sign_args *a, suit_build *sb)
{
    uint8_t *image = NULL;
    size_t image_len = 0;
    uint8_t point[HOST_P256_POINT_LEN];
    static suit_buf env;
    uint8_t *payload = NULL, info[512];
    size_t payload_len = 0;
    int rc = HOST_EXIT_USAGE;
    /* Both outputs are checked before anything is done, and named together at the end: an
     * envelope never exists without the payload whose content key it carries. */
    host_out o;
    host_out_init(&o);
    const int i_env = host_out_add(&o, a->out, 0644, false);
    const int i_pay = i_env >= 0 && a->payload_out ? host_out_add(&o, a->payload_out, 0644, false) : -1;
    if (i_env < 0 || (a->payload_out && i_pay < 0))
        return HOST_EXIT_USAGE;
    if (host_read_file(a->image, HOST_FILE_MAX, &image, &image_len))
        goto out;
    if (host_load_private_key(a->key, &sb->key, point))
        goto out;
    if (fs38_key_id(point, sizeof point, sb->kid) != FS38_OK) {
        host_err("sign: cannot compute the key id of %s", a->key);
        goto out;
    }
    sb->image = image;
    sb->image_len = image_len;
    if ((a->encrypt_to || a->kek) && encrypt_image(a, sb, &payload, &payload_len, info, sizeof info))
        goto out;
    fs38_err err = suit_build_envelope(sb, &env);
    if (err) {
        host_err("sign: cannot build the envelope: %s", fs38_strerror(err));
        goto out;
    }
    if (host_out_write(&o, i_env, env.b, env.len) ||
        (a->payload_out &&
         host_out_write(&o, i_pay, payload ? payload : image, payload ? payload_len : image_len)) ||
        host_out_commit(&o))
        goto out;
    char kid[2 * FS38_KID_LEN + 1];
    host_hex(sb->kid, FS38_KID_LEN, kid);
    printf("sign: wrote %s (%zu bytes, sequence %" PRIu64 ", %s, signer %s%s)\n", a->out, env.len,
           sb->sequence, sb->alg == FS38_COSE_ALG_ES256 ? "ES256" : "ESP256", kid,
           !sb->bind_slot ? "" : sb->slot ? ", slot B" : ", slot A");
    if (a->payload_out) {
        bool gcm = a->cipher && strcmp(a->cipher, "gcm") == 0;
        printf("sign: wrote %s (%zu-byte payload, %s%s)\n", a->payload_out, payload ? payload_len : image_len,
               !payload ? "the image in clear" : gcm ? "A128GCM" : "A128CTR",
               !payload ? "" : a->encrypt_to ? ", key by ECDH-ES+A128KW" : ", key by A128KW");
    }
    rc = HOST_EXIT_OK;
out:
    host_out_abort(&o);
    if (sb->key)
        psa_destroy_key(sb->key);
    free(image);
    free(payload);
    return rc;
}

int cmd_sign(int argc, char **argv)
{
    sign_args a = { 0 };
    const host_opt opts[] = {
        { .name = "--key", .value = &a.key },
        { .name = "--image", .value = &a.image },
        { .name = "--seq", .value = &a.seq },
        { .name = "--vendor-id", .value = &a.vendor },
        { .name = "--class-id", .value = &a.class_id },
        { .name = "--component", .value = &a.component },
        { .name = "--alg", .value = &a.alg },
        { .name = "--out", .value = &a.out },
        { .name = "--encrypt-to", .value = &a.encrypt_to },
        { .name = "--kek", .value = &a.kek },
        { .name = "--cipher", .value = &a.cipher },
        { .name = "--payload-out", .value = &a.payload_out },
        { .name = "--uri", .value = &a.uri },
        { .name = "--slot", .value = &a.slot },
        { .name = NULL },
    };
    const char *pos[1];
    size_t npos;
    int rc = host_parse_args(argc, argv, opts, pos, 0, &npos);
    if (rc == 1) {
        usage_sign(0);
        return HOST_EXIT_OK;
    }
    suit_build sb;
    memset(&sb, 0, sizeof sb);
    if (rc < 0 || check_args(&a, &sb)) {
        usage_sign(1);
        return HOST_EXIT_USAGE;
    }
    if (host_psa_init())
        return HOST_EXIT_USAGE;
    return sign_and_write(&a, &sb);
}
