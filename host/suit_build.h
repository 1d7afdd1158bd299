/* SPDX-License-Identifier: Apache-2.0 */
/*
 * suit_build.h — builds a signed SUIT envelope (draft-ietf-suit-manifest) for one image.
 *
 * Deterministic CBOR, the shape fs38's secure boot expects:
 *
 *   107({ 2: bstr(auth), 3: bstr(manifest) })
 *   auth     = [ bstr(SUIT_Digest), bstr(COSE_Sign1, detached payload = the encoded SUIT_Digest) ]
 *   SUIT_Digest = [-16, SHA-256(bstr-wrapped manifest)]
 *   manifest = { 1: 1, 2: seq, 3: bstr(common), 7: bstr(validate), 9: bstr(invoke),
 *                20: bstr(install) }
 *   common   = { 2: [[bstr(component)]], 4: bstr(shared) }
 *   shared   = [ 20, {1: vendor-id, 2: class-id, 3: bstr([-16, SHA-256(image)]), 14: size},
 *                1, 15, 2, 15 ]
 *   With a slot binding (bind_slot): the override map also sets 5: slot (component-slot,
 *   0 = A, 1 = B) and the sequence ends with 5, 15 (condition-component-slot), so the image is
 *   refused in the other slot by boot and by the update agent:
 *   shared   = [ 20, {1: .., 2: .., 3: .., 5: slot, 14: size}, 1, 15, 2, 15, 5, 15 ]
 *   validate = [ 3, 15 ]          (condition-image-match)
 *   invoke   = [ 23, 2 ]          (directive-invoke)
 *   install  = [ 20, {21: uri}, 21, 2, 3, 15 ]   (fetch the image, check it)
 *
 * With an encrypted payload (enc_info set) the manifest has a second component, the
 * download area [bstr(component ".enc")], as in draft-ietf-suit-firmware-encryption's
 * fetch-and-copy example, and every sequence starts with set-component-index:
 *   shared   = [ 12, 0, 20, {...as above...}, 1, 15, 2, 15 ]
 *   validate = [ 12, 0, 3, 15 ]     invoke = [ 12, 0, 23, 2 ]
 *   install  = [ 12, 1, 20, {3: bstr([-16, SHA-256(payload)]), 14: payload size, 21: uri},
 *                21, 2, 3, 15,                    (fetch the ciphertext, check it)
 *                12, 0, 20, {19: encryption-info, 22: 1}, 22, 2, 3, 15 ]
 *                                                 (copy-decrypt into the image, check it)
 *
 * Each member is produced by its own function so that further sequences (install,
 * payload encryption) can be added to suit_build without touching the others.
 */
#ifndef FS38_TOOLS_SUIT_BUILD_H
#define FS38_TOOLS_SUIT_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <psa/crypto.h>
#include "fs38/cose.h"
#include "fs38/err.h"

#define SUIT_BUILD_MAX 8192u /* largest member / envelope the builder produces */
#define SUIT_BUILD_NAME_MAX 64u

typedef struct suit_build {
    uint64_t sequence;
    uint8_t vendor_id[16];
    uint8_t class_id[16];
    const char *component;      /* component id: one byte string (e.g. "firmware") */
    const uint8_t *image;       /* the image the manifest describes */
    size_t image_len;
    int64_t alg;                /* FS38_COSE_ALG_ES256 or FS38_COSE_ALG_ESP256 */
    psa_key_id_t key;           /* P-256 key pair allowing sign_hash */
    uint8_t kid[FS38_KID_LEN];  /* fs38 key id of the signer (unprotected header) */
    const char *uri;            /* where the payload is fetched from (default "#firmware") */
    const uint8_t *enc_info;    /* COSE_Encrypt encryption-info, or NULL (plaintext payload) */
    size_t enc_info_len;
    const uint8_t *payload;     /* the encrypted payload (with enc_info) */
    size_t payload_len;
    bool bind_slot;             /* bind the image to a slot (component-slot) */
    uint64_t slot;              /* with bind_slot: 0 = slot A, 1 = slot B */
} suit_build;

/* A member being built (host buffer). */
typedef struct suit_buf {
    uint8_t b[SUIT_BUILD_MAX];
    size_t len;
} suit_buf;

/* sb zeroed, then set for one image in component "firmware" (plain payload, default URI): the
 * caller may then add an encryption (suit_build_encrypt) or change any field. */
void suit_build_firmware(suit_build *sb, uint64_t sequence, const uint8_t vendor_id[16], const uint8_t class_id[16],
                         const uint8_t *image, size_t image_len, int64_t alg, psa_key_id_t key,
                         const uint8_t kid[FS38_KID_LEN]);

/* The manifest (map content, not bstr-wrapped). */
fs38_err suit_build_manifest(const suit_build *sb, suit_buf *out);
/* The authentication wrapper content for an encoded manifest. */
fs38_err suit_build_auth(const suit_build *sb, const suit_buf *manifest, suit_buf *out);
/* The whole envelope. */
fs38_err suit_build_envelope(const suit_build *sb, suit_buf *out);

#endif /* FS38_TOOLS_SUIT_BUILD_H */
