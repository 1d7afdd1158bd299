/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_verify.c — `fs38 verify --key PUB.pem [--key PUB2.pem ...] [--hmac-key KEY.hex ...]
 *                 ENV.suit [--image IMG] [--vendor-id UUID] [--class-id UUID]`.
 *
 * Authenticates the envelope with fs38_suit_authenticate against a keyring of the given
 * public keys (COSE_Sign1) and HMAC-SHA-256 keys (COSE_Mac0). HMAC key files hold the key in
 * hex; the key bytes are wiped from every buffer here once imported into PSA, and the PSA keys
 * are destroyed (fs38_keyring_free) when the command ends. With --image, also runs the manifest's validate sequence (after its shared
 * sequence) with the image file as component 0: condition-image-match must pass. The
 * vendor / class conditions are evaluated against --vendor-id / --class-id when given, and
 * otherwise against the ids the manifest itself sets (so only the image is checked).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "fs38/suit.h"
#include "fs38/util.h"
#include "host.h"
#include "suit_dump.h"

void usage_verify(int to_stderr)
{
    fprintf(to_stderr ? stderr : stdout,
            "usage: fs38 verify --key PUB.pem [--key PUB2.pem ...] [--hmac-key KEY.hex ...] ENV.suit\n"
            "                   [--image IMG] [--vendor-id UUID] [--class-id UUID]\n"
            "  Check the envelope's COSE signature with the trusted public keys and its manifest\n"
            "  digest; with --image also run the validate sequence against IMG (image-match).\n"
            "  --hmac-key trusts a pre-shared HMAC-SHA-256 key for COSE_Mac0 (alg 5) envelopes:\n"
            "  KEY.hex holds 16..64 key bytes as hex digits (32..128 of them; spaces and line\n"
            "  breaks are ignored, and so are lines starting with '#'). At least one --key or\n"
            "  --hmac-key, at most 8 in all. The key is wiped from memory after use.\n"
            "  --vendor-id / --class-id make the vendor / class conditions check those ids.\n"
            "  exit status: 0 authentic, 1 rejected (one line on stderr), 2 usage or I/O error.\n");
}

typedef struct verify_args {
    const char *keys[FS38_KEYRING_MAX];
    size_t n_keys;
    const char *hmac_keys[FS38_KEYRING_MAX];
    size_t n_hmac;
    const char *env, *image, *vendor, *class_id;
    uint8_t vendor_id[16], class_bytes[16];
} verify_args;

/* The image file as component 0, for the digest callback. */
typedef struct image_source {
    const uint8_t *data;
    size_t len;
    bool size_mismatch;  /* the manifest's image-size differs from the file */
    uint64_t want_size;
} image_source;

static FS38_NODISCARD fs38_err image_digest(void *user, const fs38_suit_cmd *c, uint8_t out[32])
{
    image_source *img = user;
    if (c->component != 0)
        return FS38_ERR_COMPONENT;
    if (FS38_SUIT_HAS(c->params, FS38_SUIT_PARAM_IMAGE_SIZE) && c->params->image_size != img->len) {
        img->size_mismatch = true;
        img->want_size = c->params->image_size;
        return FS38_ERR_IMAGE_SIZE;
    }
    return fs38_sha256(img->data, img->len, out);
}

/* A file has no slot: an envelope bound to a slot (component-slot) is verified as an image;
 * which slot it may run from is checked by boot and by the update agent. */
static FS38_NODISCARD fs38_err any_slot(void *user, const fs38_suit_cmd *c)
{
    (void)user;
    (void)c;
    return FS38_OK;
}

static const fs38_suit_ops verify_ops = { .digest = image_digest, .slot = any_slot };

static int rejected(const char *msg)
{
    fprintf(stderr, "verify: rejected: %s\n", msg);
    return HOST_EXIT_REJECT;
}

static int load_keys(const verify_args *a, fs38_keyring *kr)
{
    for (size_t i = 0; i < a->n_keys; i++) {
        uint8_t point[HOST_P256_POINT_LEN];
        if (host_load_public_point(a->keys[i], point))
            return -1;
        fs38_err err = fs38_keyring_add_p256(kr, point, sizeof point);
        if (err) {
            host_err("cannot add key %s to the keyring: %s", a->keys[i], fs38_strerror(err));
            return -1;
        }
    }
    return 0;
}

/* Parse an HMAC key file: hex digits, whitespace ignored, '#' lines are comments. Returns the
 * key length (16..64), or 0 with a message (which never shows key material). */
static size_t parse_hmac_key(const char *path, const uint8_t *text, size_t len, uint8_t key[64])
{
    size_t digits = 0;
    unsigned nib = 0;
    bool line_start = true, comment = false;
    for (size_t i = 0; i < len; i++) {
        const uint8_t c = text[i];
        if (c == '\n') {
            line_start = true;
            comment = false;
            continue;
        }
        if (comment)
            continue;
        if (line_start && c == '#') {
            comment = true;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r')
            continue;
        line_start = false;
        unsigned v;
        if (c >= '0' && c <= '9')
            v = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v = (unsigned)(c - 'A' + 10);
        else {
            host_err("verify: %s: byte %zu is not a hex digit: an HMAC key file holds the key as hex digits", path,
                     i);
            return 0;
        }
        if (digits >= 128) {
            host_err("verify: %s holds more than 64 key bytes (128 hex digits)", path);
            return 0;
        }
        nib = nib << 4 | v;
        if (digits++ & 1u) {
            key[digits / 2 - 1] = (uint8_t)nib;
            nib = 0;
        }
    }
    if ((digits & 1u) || digits < 32) {
        host_err("verify: %s holds %zu hex digits: an HMAC key is 16..64 bytes (32..128 hex digits, an even count)",
                 path, digits);
        return 0;
    }
    return digits / 2;
}

static int load_hmac_keys(const verify_args *a, fs38_keyring *kr)
{
    for (size_t i = 0; i < a->n_hmac; i++) {
        uint8_t *text = NULL, key[64];
        size_t len = 0;
        if (host_read_file(a->hmac_keys[i], 4096, &text, &len))
            return -1;
        size_t klen = parse_hmac_key(a->hmac_keys[i], text, len, key);
        fs38_wipe(text, len);
        free(text);
        fs38_err err = klen ? fs38_keyring_add_hmac(kr, key, klen) : FS38_ERR_ARG;
        fs38_wipe(key, sizeof key);
        if (!klen)
            return -1;
        if (err) {
            host_err("cannot add HMAC key %s to the keyring: %s", a->hmac_keys[i], fs38_strerror(err));
            return -1;
        }
    }
    return 0;
}

/* Run validate with the image file; returns an exit code (message printed on rejection). */
static int check_image(const verify_args *a, const fs38_suit_manifest *m)
{
    uint8_t *data;
    size_t len;
    if (host_read_file(a->image, HOST_FILE_MAX, &data, &len))
        return HOST_EXIT_USAGE;
    image_source img = { .data = data, .len = len };
    fs38_suit_runner r;
    memset(&r, 0, sizeof r);
    r.vendor_id = a->vendor ? a->vendor_id : NULL;
    r.class_id = a->class_id ? a->class_bytes : NULL;
    if (!r.vendor_id || !r.class_id) {
        const uint8_t *v = NULL, *c = NULL;
        suit_find_ids(m->shared_seq.p, m->shared_seq.len, &v, &c);
        r.vendor_id = r.vendor_id ? r.vendor_id : v;
        r.class_id = r.class_id ? r.class_id : c;
    }
    r.ops = &verify_ops;
    r.user = &img;
    fs38_diag diag;
    fs38_diag_clear(&diag);
    fs38_err err = fs38_suit_run(&r, m, FS38_SUIT_SEQ_VALIDATE, &diag);
    int rc = HOST_EXIT_OK;
    char msg[256];
    if (err == FS38_ERR_IMAGE_SIZE && img.size_mismatch) {
        snprintf(msg, sizeof msg, "image size mismatch: %s is %zu bytes, manifest says %" PRIu64, a->image, len,
                 img.want_size);
        rc = rejected(msg);
    } else if (err) {
        rc = rejected(diag.msg[0] ? diag.msg : fs38_strerror(err));
    } else if (!(r.checked[0] & FS38_SUIT_CHECKED_IMAGE)) {
        rc = rejected("validate sequence does not check the image (no condition-image-match)");
    }
    free(data);
    return rc;
}

static int verify_envelope(const verify_args *a, const fs38_keyring *kr)
{
    uint8_t *env;
    size_t len;
    if (host_read_file(a->env, HOST_FILE_MAX, &env, &len))
        return HOST_EXIT_USAGE;
    fs38_suit_manifest m;
    fs38_diag diag;
    fs38_diag_clear(&diag);
    fs38_err err = fs38_suit_authenticate(&m, env, len, kr, &diag);
    int rc = HOST_EXIT_OK;
    if (err)
        rc = rejected(diag.msg[0] ? diag.msg : fs38_strerror(err));
    if (!rc && a->image)
        rc = check_image(a, &m);
    if (!rc) {
        char kid[2 * FS38_KID_LEN + 1];
        const char *alg = dump_alg_name(m.auth_alg);
        host_hex(m.signer_kid, FS38_KID_LEN, kid);
        if (m.signer_is_mac) /* keyring: the --key entries first, then the --hmac-key ones */
            printf("verify: OK (sequence %" PRIu64 ", %s, HMAC key %s)\n", m.sequence, alg ? alg : "?",
                   m.signer >= a->n_keys && m.signer - a->n_keys < a->n_hmac ? a->hmac_keys[m.signer - a->n_keys]
                                                                             : "?");
        else
            printf("verify: OK (sequence %" PRIu64 ", %s, signer %s)\n", m.sequence, alg ? alg : "?", kid);
        if (a->image)
            printf("verify: image %s matches the manifest\n", a->image);
    }
    free(env);
    return rc;
}

static int check_args(verify_args *a, const char **pos, size_t npos)
{
    if (a->n_keys == 0 && a->n_hmac == 0) {
        host_err("verify: at least one --key or --hmac-key is required");
        return -1;
    }
    if (a->n_keys + a->n_hmac > FS38_KEYRING_MAX) {
        host_err("verify: at most %u keys (--key and --hmac-key together)", (unsigned)FS38_KEYRING_MAX);
        return -1;
    }
    if (npos != 1) {
        host_err("verify: exactly one envelope file expected");
        return -1;
    }
    a->env = pos[0];
    if (a->vendor && host_parse_uuid(a->vendor, a->vendor_id)) {
        host_err("verify: invalid --vendor-id '%s': expected a UUID as 8-4-4-4-12 hex digits", a->vendor);
        return -1;
    }
    if (a->class_id && host_parse_uuid(a->class_id, a->class_bytes)) {
        host_err("verify: invalid --class-id '%s': expected a UUID as 8-4-4-4-12 hex digits", a->class_id);
        return -1;
    }
    return 0;
}

int cmd_verify(int argc, char **argv)
{
    verify_args a;
    memset(&a, 0, sizeof a);
    const host_opt opts[] = {
        { .name = "--key", .list = a.keys, .count = &a.n_keys, .max = FS38_KEYRING_MAX },
        { .name = "--hmac-key", .list = a.hmac_keys, .count = &a.n_hmac, .max = FS38_KEYRING_MAX },
        { .name = "--image", .value = &a.image },
        { .name = "--vendor-id", .value = &a.vendor },
        { .name = "--class-id", .value = &a.class_id },
        { .name = NULL },
    };
    const char *pos[2];
    size_t npos;
    int rc = host_parse_args(argc, argv, opts, pos, 2, &npos);
    if (rc == 1) {
        usage_verify(0);
        return HOST_EXIT_OK;
    }
    if (rc < 0 || check_args(&a, pos, npos)) {
        usage_verify(1);
        return HOST_EXIT_USAGE;
    }
    if (host_psa_init())
        return HOST_EXIT_USAGE;
    fs38_keyring kr;
    fs38_keyring_init(&kr);
    rc = load_keys(&a, &kr) || load_hmac_keys(&a, &kr) ? HOST_EXIT_USAGE : verify_envelope(&a, &kr);
    fs38_keyring_free(&kr);
    return rc;
}
