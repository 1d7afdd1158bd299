/* SPDX-License-Identifier: Apache-2.0 */
/* suit_build.c — signed SUIT envelope for one image (see suit_build.h for the exact shape). */
#include "suit_build.h"

#include <stdbool.h>
#include <string.h>

#include "fs38/cbor.h"
#include "fs38/suit.h"
#include "fs38/util.h"

static void enc_start(fs38_cbor_enc *e, suit_buf *out)
{
    out->len = 0;
    fs38_cbor_enc_init(e, out->b, sizeof out->b);
}

static FS38_NODISCARD fs38_err enc_done(const fs38_cbor_enc *e, suit_buf *out)
{
    return fs38_cbor_enc_finish(e, &out->len);
}

/* SUIT_Digest = [-16, bstr(sha256)] */
static void put_digest(fs38_cbor_enc *e, const uint8_t digest[32])
{
    fs38_cbor_put_array(e, 2);
    fs38_cbor_put_int(e, FS38_SUIT_ALG_SHA256);
    fs38_cbor_put_bstr(e, digest, 32);
}

/* Encode SUIT_Digest of a buffer into out. */
static FS38_NODISCARD fs38_err encode_digest_of(const uint8_t *p, size_t len, suit_buf *out)
{
    uint8_t h[32];
    fs38_err err = fs38_sha256(p, len, h);
    if (err)
        return err;
    fs38_cbor_enc e;
    enc_start(&e, out);
    put_digest(&e, h);
    return enc_done(&e, out);
}

/* shared sequence: override-parameters, then vendor and class conditions. */
static FS38_NODISCARD fs38_err build_shared(const suit_build *sb, suit_buf *out)
{
    suit_buf digest;
    fs38_err err = encode_digest_of(sb->image, sb->image_len, &digest);
    if (err)
        return err;
    bool two = sb->enc_info != NULL;
    fs38_cbor_enc e;
    enc_start(&e, out);
    fs38_cbor_put_array(&e, (two ? 8u : 6u) + (sb->bind_slot ? 2u : 0u));
    if (two) {
        fs38_cbor_put_uint(&e, FS38_SUIT_DIR_SET_COMPONENT_INDEX);
        fs38_cbor_put_uint(&e, 0);
    }
    fs38_cbor_put_uint(&e, FS38_SUIT_DIR_OVERRIDE_PARAMETERS);
    fs38_cbor_put_map(&e, sb->bind_slot ? 5 : 4);
    fs38_cbor_put_uint(&e, FS38_SUIT_PARAM_VENDOR_ID);
    fs38_cbor_put_bstr(&e, sb->vendor_id, 16);
    fs38_cbor_put_uint(&e, FS38_SUIT_PARAM_CLASS_ID);
    fs38_cbor_put_bstr(&e, sb->class_id, 16);
    fs38_cbor_put_uint(&e, FS38_SUIT_PARAM_IMAGE_DIGEST);
    fs38_cbor_put_bstr(&e, digest.b, digest.len);
    if (sb->bind_slot) {
        fs38_cbor_put_uint(&e, FS38_SUIT_PARAM_COMPONENT_SLOT);
        fs38_cbor_put_uint(&e, sb->slot);
    }
    fs38_cbor_put_uint(&e, FS38_SUIT_PARAM_IMAGE_SIZE);
    fs38_cbor_put_uint(&e, sb->image_len);
    fs38_cbor_put_uint(&e, FS38_SUIT_COND_VENDOR_ID);
    fs38_cbor_put_uint(&e, 15);
    fs38_cbor_put_uint(&e, FS38_SUIT_COND_CLASS_ID);
    fs38_cbor_put_uint(&e, 15);
    if (sb->bind_slot) {
        fs38_cbor_put_uint(&e, FS38_SUIT_COND_COMPONENT_SLOT);
        fs38_cbor_put_uint(&e, 15);
    }
    return enc_done(&e, out);
}

/* A sequence of a single command with its reporting policy (on component 0, selected
 * explicitly when the manifest has more than one component). */
static FS38_NODISCARD fs38_err build_one_command(const suit_build *sb, unsigned cmd, unsigned policy, suit_buf *out)
{
    bool two = sb->enc_info != NULL;
    fs38_cbor_enc e;
    enc_start(&e, out);
    fs38_cbor_put_array(&e, two ? 4 : 2);
    if (two) {
        fs38_cbor_put_uint(&e, FS38_SUIT_DIR_SET_COMPONENT_INDEX);
        fs38_cbor_put_uint(&e, 0);
    }
    fs38_cbor_put_uint(&e, cmd);
    fs38_cbor_put_uint(&e, policy);
    return enc_done(&e, out);
}

static const char *payload_uri(const suit_build *sb)
{
    return sb->uri ? sb->uri : "#firmware";
}

/* install: fetch (and, when encrypted, copy-decrypt) with an image-match after each step. */
static FS38_NODISCARD fs38_err build_install(const suit_build *sb, suit_buf *out)
{
    const char *uri = payload_uri(sb);
    fs38_cbor_enc e;
    enc_start(&e, out);
    if (!sb->enc_info) {
        fs38_cbor_put_array(&e, 6);
        fs38_cbor_put_uint(&e, FS38_SUIT_DIR_OVERRIDE_PARAMETERS);
        fs38_cbor_put_map(&e, 1);
        fs38_cbor_put_uint(&e, FS38_SUIT_PARAM_URI);
        fs38_cbor_put_tstr(&e, uri, strlen(uri));
    } else {
        suit_buf digest;
        fs38_err err = encode_digest_of(sb->payload, sb->payload_len, &digest);
        if (err)
            return err;
        fs38_cbor_put_array(&e, 16);
        fs38_cbor_put_uint(&e, FS38_SUIT_DIR_SET_COMPONENT_INDEX);
        fs38_cbor_put_uint(&e, 1);
        fs38_cbor_put_uint(&e, FS38_SUIT_DIR_OVERRIDE_PARAMETERS);
        fs38_cbor_put_map(&e, 3);
        fs38_cbor_put_uint(&e, FS38_SUIT_PARAM_IMAGE_DIGEST);
        fs38_cbor_put_bstr(&e, digest.b, digest.len);
        fs38_cbor_put_uint(&e, FS38_SUIT_PARAM_IMAGE_SIZE);
        fs38_cbor_put_uint(&e, sb->payload_len);
        fs38_cbor_put_uint(&e, FS38_SUIT_PARAM_URI);
        fs38_cbor_put_tstr(&e, uri, strlen(uri));
    }
    fs38_cbor_put_uint(&e, FS38_SUIT_DIR_FETCH);
    fs38_cbor_put_uint(&e, 2);
    fs38_cbor_put_uint(&e, FS38_SUIT_COND_IMAGE_MATCH);
    fs38_cbor_put_uint(&e, 15);
    if (sb->enc_info) {
        fs38_cbor_put_uint(&e, FS38_SUIT_DIR_SET_COMPONENT_INDEX);
        fs38_cbor_put_uint(&e, 0);
        fs38_cbor_put_uint(&e, FS38_SUIT_DIR_OVERRIDE_PARAMETERS);
        fs38_cbor_put_map(&e, 2);
        fs38_cbor_put_uint(&e, FS38_SUIT_PARAM_ENCRYPTION_INFO);
        fs38_cbor_put_bstr(&e, sb->enc_info, sb->enc_info_len);
        fs38_cbor_put_uint(&e, FS38_SUIT_PARAM_SOURCE_COMPONENT);
        fs38_cbor_put_uint(&e, 1);
        fs38_cbor_put_uint(&e, FS38_SUIT_DIR_COPY);
        fs38_cbor_put_uint(&e, 2);
        fs38_cbor_put_uint(&e, FS38_SUIT_COND_IMAGE_MATCH);
        fs38_cbor_put_uint(&e, 15);
    }
    return enc_done(&e, out);
}

/* common = { 2: [[bstr(component)]], 4: bstr(shared) } */
static FS38_NODISCARD fs38_err build_common(const suit_build *sb, suit_buf *out)
{
    suit_buf shared;
    fs38_err err = build_shared(sb, &shared);
    if (err)
        return err;
    size_t name_len = strlen(sb->component);
    char enc_name[SUIT_BUILD_NAME_MAX + 8];
    if (name_len > SUIT_BUILD_NAME_MAX)
        return FS38_ERR_ARG;
    memcpy(enc_name, sb->component, name_len);
    memcpy(enc_name + name_len, ".enc", 4);
    fs38_cbor_enc e;
    enc_start(&e, out);
    fs38_cbor_put_map(&e, 2);
    fs38_cbor_put_uint(&e, FS38_SUIT_COMMON_COMPONENTS);
    fs38_cbor_put_array(&e, sb->enc_info ? 2 : 1);
    fs38_cbor_put_array(&e, 1);
    fs38_cbor_put_bstr(&e, (const uint8_t *)sb->component, name_len);
    if (sb->enc_info) {
        fs38_cbor_put_array(&e, 1);
        fs38_cbor_put_bstr(&e, (const uint8_t *)enc_name, name_len + 4);
    }
    fs38_cbor_put_uint(&e, FS38_SUIT_COMMON_SHARED_SEQ);
    fs38_cbor_put_bstr(&e, shared.b, shared.len);
    return enc_done(&e, out);
}

fs38_err suit_build_manifest(const suit_build *sb, suit_buf *out)
{
    if (!sb || !out || !sb->component || (!sb->image && sb->image_len))
        return FS38_ERR_ARG;
    if (sb->enc_info && !sb->payload)
        return FS38_ERR_ARG;
    static suit_buf common, validate, invoke, install;
    fs38_err err = build_common(sb, &common);
    if (!err)
        err = build_one_command(sb, FS38_SUIT_COND_IMAGE_MATCH, 15, &validate);
    if (!err)
        err = build_one_command(sb, FS38_SUIT_DIR_INVOKE, 2, &invoke);
    if (!err)
        err = build_install(sb, &install);
    if (err)
        return err;
    fs38_cbor_enc e;
    enc_start(&e, out);
    fs38_cbor_put_map(&e, 6);
    fs38_cbor_put_uint(&e, FS38_SUIT_MAN_VERSION);
    fs38_cbor_put_uint(&e, 1);
    fs38_cbor_put_uint(&e, FS38_SUIT_MAN_SEQUENCE);
    fs38_cbor_put_uint(&e, sb->sequence);
    fs38_cbor_put_uint(&e, FS38_SUIT_MAN_COMMON);
    fs38_cbor_put_bstr(&e, common.b, common.len);
    fs38_cbor_put_uint(&e, FS38_SUIT_SEQ_VALIDATE);
    fs38_cbor_put_bstr(&e, validate.b, validate.len);
    fs38_cbor_put_uint(&e, FS38_SUIT_SEQ_INVOKE);
    fs38_cbor_put_bstr(&e, invoke.b, invoke.len);
    fs38_cbor_put_uint(&e, FS38_SUIT_SEQ_INSTALL);
    fs38_cbor_put_bstr(&e, install.b, install.len);
    return enc_done(&e, out);
}

/* The manifest as it appears in the envelope: bstr head + content. */
static FS38_NODISCARD fs38_err wrap_bstr(const suit_buf *in, suit_buf *out)
{
    fs38_cbor_enc e;
    enc_start(&e, out);
    fs38_cbor_put_bstr(&e, in->b, in->len);
    return enc_done(&e, out);
}

fs38_err suit_build_auth(const suit_build *sb, const suit_buf *manifest, suit_buf *out)
{
    suit_buf wrapped;
    suit_buf digest;
    suit_buf cose;
    fs38_err err = wrap_bstr(manifest, &wrapped);
    if (!err)
        err = encode_digest_of(wrapped.b, wrapped.len, &digest);
    if (!err)
        err = fs38_cose_sign1_sign(sb->key, sb->alg, sb->kid, FS38_KID_LEN, digest.b, digest.len, true,
                                   cose.b, sizeof cose.b, &cose.len);
    if (err)
        return err;
    fs38_cbor_enc e;
    enc_start(&e, out);
    fs38_cbor_put_array(&e, 2);
    fs38_cbor_put_bstr(&e, digest.b, digest.len);
    fs38_cbor_put_bstr(&e, cose.b, cose.len);
    return enc_done(&e, out);
}

fs38_err suit_build_envelope(const suit_build *sb, suit_buf *out)
{
    if (!sb || !out)
        return FS38_ERR_ARG;
    if (sb->alg != FS38_COSE_ALG_ES256 && sb->alg != FS38_COSE_ALG_ESP256)
        return FS38_ERR_UNSUPPORTED_ALG;
    suit_buf manifest;
    suit_buf auth;
    fs38_err err = suit_build_manifest(sb, &manifest);
    if (!err)
        err = suit_build_auth(sb, &manifest, &auth);
    if (err)
        return err;
    fs38_cbor_enc e;
    enc_start(&e, out);
    fs38_cbor_put_tag(&e, FS38_SUIT_TAG_ENVELOPE);
    fs38_cbor_put_map(&e, 2);
    fs38_cbor_put_uint(&e, FS38_SUIT_ENV_AUTH);
    fs38_cbor_put_bstr(&e, auth.b, auth.len);
    fs38_cbor_put_uint(&e, FS38_SUIT_ENV_MANIFEST);
    fs38_cbor_put_bstr(&e, manifest.b, manifest.len);
    return enc_done(&e, out);
}

void suit_build_firmware(suit_build *sb, uint64_t sequence, const uint8_t vendor_id[16], const uint8_t class_id[16],
                         const uint8_t *image, size_t image_len, int64_t alg, psa_key_id_t key,
                         const uint8_t kid[FS38_KID_LEN])
{
    memset(sb, 0, sizeof *sb);
    sb->sequence = sequence;
    memcpy(sb->vendor_id, vendor_id, sizeof sb->vendor_id);
    memcpy(sb->class_id, class_id, sizeof sb->class_id);
    sb->component = "firmware";
    sb->image = image;
    sb->image_len = image_len;
    sb->alg = alg;
    sb->key = key;
    memcpy(sb->kid, kid, sizeof sb->kid);
}
