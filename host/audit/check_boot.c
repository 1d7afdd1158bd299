/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_boot.c — control 2, boot artefacts (ETSI EN 303 645 5.7-1). Kernel module signing is
 * read with the kernel configuration (check_services.c, FS38-2.1).
 *
 *   FS38-2.2 GRUB: grub.cfg with `check_signatures=enforce` (pass) or without (medium)
 *   FS38-2.3 U-Boot: a FIT image (flattened device tree with /images and /configurations) with
 *            signature nodes (pass) or none (medium), with image signatures only (low: the
 *            signed images can be recombined); a U-Boot control device tree whose /signature key
 *            nodes carry `required` (pass) or not (medium). The blobs are walked by the bounded
 *            parser below (no libfdt).
 *   FS38-2.4 MCUboot images (docs.mcuboot.com "Image format"): the header, the protected and
 *            unprotected TLV areas; SHA-256 over header + image + protected TLVs against the
 *            SHA-256 TLV (a mismatch is high: modified after signing); a signature TLV or only a
 *            hash (medium); with trust anchors (--trust-anchor, P-256) the ECDSA signature TLV is
 *            verified through PSA (no anchor verifies it: high). Ed25519 and RSA signature TLVs
 *            cannot be verified by this build (Mbed TLS has no EdDSA; RSA is not compiled in):
 *            a warning when anchors are given.
 *   FS38-2.5 SUIT envelopes (CBOR tag 107): with trust anchors, authenticated by fs38's own
 *            fs38_suit_authenticate (COSE_Sign1 against the anchors, manifest digest, severable
 *            members): authentic (pass) or rejected with the reason (high); without anchors
 *            detected, not verified (low: a warning, never a pass)
 * No boot artefact at all leaves the control UNKNOWN.
 * The device-tree walk is bounded by the blob's declared and real sizes and a depth of 32; the
 * TLV walks by the areas' declared sizes and the file.
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/psa_util.h>
#include <psa/crypto.h>

#include "fs38/cose.h"
#include "fs38/suit.h"
#include "fs38/util.h"

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[1] << 8 | p[0]); }

typedef struct fdt_facts {
    bool images, configurations, sig_node, sig_key, key_required;
    bool sig_conf; /* a signature node under /configurations (configuration signing) */
    bool ok;
} fdt_facts;

static fdt_facts fdt_scan(const uint8_t *b, size_t len)
{
    fdt_facts f = { 0 };
    if (len < 40)
        return f;
    uint32_t total = be32(b + 4), ost = be32(b + 8), ostr = be32(b + 12), sstr = be32(b + 32);
    if (total > len || ost >= total || ostr > total || sstr > total - ostr)
        return f;
    uint32_t sst = be32(b + 36);
    if (sst > total - ost)
        sst = total - ost;
    const uint8_t *p = b + ost, *end = b + ost + sst;
    char path[32][64];
    int depth = 0;
    while (p + 4 <= end) {
        uint32_t tok = be32(p);
        p += 4;
        if (tok == 1) { /* BEGIN_NODE name\0 padded to 4 */
            const uint8_t *z = memchr(p, 0, (size_t)(end - p));
            if (!z)
                return f;
            size_t nl = (size_t)(z - p);
            if (depth < 32) {
                size_t k = nl < 63 ? nl : 63;
                memcpy(path[depth], p, k);
                path[depth][k] = 0;
            }
            depth++;
            if (depth > 32)
                return f;
            if (depth == 2 && strcmp(path[1], "images") == 0)
                f.images = true;
            if (depth == 2 && strcmp(path[1], "configurations") == 0)
                f.configurations = true;
            if (depth >= 3 && strncmp(path[depth - 1], "signature", 9) == 0 &&
                (strcmp(path[1], "images") == 0 || strcmp(path[1], "configurations") == 0)) {
                f.sig_node = true;
                f.sig_conf |= strcmp(path[1], "configurations") == 0;
            }
            if (depth == 3 && strcmp(path[1], "signature") == 0 && strncmp(path[2], "key", 3) == 0)
                f.sig_key = true;
            p += (nl + 4) & ~(size_t)3;
        } else if (tok == 2) {
            if (depth == 0)
                return f;
            depth--;
        } else if (tok == 3) {
            if (end - p < 8)
                return f;
            uint32_t plen = be32(p), noff = be32(p + 4);
            p += 8;
            if (plen > (size_t)(end - p))
                return f;
            if (noff < sstr && depth == 3 && strcmp(path[1], "signature") == 0) {
                const char *name = (const char *)b + ostr + noff;
                size_t maxn = sstr - noff;
                if (strnlen(name, maxn) < maxn && strcmp(name, "required") == 0)
                    f.key_required = true;
            }
            p += (plen + 3) & ~(uint32_t)3;
        } else if (tok == 4) {
            continue;
        } else if (tok == 9) {
            break;
        } else {
            return f;
        }
    }
    f.ok = true;
    return f;
}

/* ---- trust anchors -------------------------------------------------------------------------- */

typedef struct boot_state {
    aud_ctx *ctx;
    fs38_keyring kr;      /* the --trust-anchor keys, imported into PSA */
    size_t n_kr;          /* kr.a[i] is the anchor ctx->anchors[idx[i]] */
    size_t idx[AUD_MAX_ANCHORS];
} boot_state;

static const char *anchor_name(const boot_state *bs, size_t keyring_index)
{
    if (keyring_index >= bs->n_kr || !bs->ctx->anchor_names)
        return "?";
    return bs->ctx->anchor_names[bs->idx[keyring_index]];
}

static void anchors_load(boot_state *bs)
{
    aud_ctx *ctx = bs->ctx;
    fs38_keyring_init(&bs->kr);
    if (!ctx->n_anchors)
        return;
    if (psa_crypto_init() != PSA_SUCCESS) {
        aud_add(ctx->r, 2, "", 0, "FS38-2.5", "5.7-1", AUD_HIGH, "PSA crypto could not start: trust anchors not usable");
        return;
    }
    for (size_t i = 0; i < ctx->n_anchors && i < AUD_MAX_ANCHORS; i++) {
        fs38_err err = fs38_keyring_add_p256(&bs->kr, ctx->anchors[i], AUD_ANCHOR_LEN);
        if (err == FS38_OK)
            bs->idx[bs->n_kr++] = i;
        else
            aud_add(ctx->r, 2, "", 0, "FS38-2.5", "5.7-1", AUD_HIGH, "trust anchor %s not usable: %s",
                    ctx->anchor_names ? ctx->anchor_names[i] : "?", fs38_strerror(err));
    }
}

/* ---- SUIT ------------------------------------------------------------------------------------- */

static void suit_check(boot_state *bs, const aud_entry *e, const uint8_t *buf, size_t len)
{
    aud_report *r = bs->ctx->r;
    if (!bs->ctx->n_anchors) {
        aud_add(r, 2, e->path, 0, "FS38-2.5", "5.7-1", AUD_LOW,
                "SUIT envelope: not verified by this version (no trust anchor given)");
        return;
    }
    if (!bs->n_kr) {
        aud_add(r, 2, e->path, 0, "FS38-2.5", "5.7-1", AUD_HIGH, "SUIT envelope: no usable trust anchor to verify it");
        return;
    }
    fs38_suit_manifest *m = calloc(1, sizeof *m);
    if (!m) {
        r->oom = true;
        return;
    }
    fs38_diag diag;
    fs38_diag_clear(&diag);
    fs38_err err = fs38_suit_authenticate(m, buf, len, &bs->kr, &diag);
    if (err == FS38_OK && m->signer_is_mac)
        aud_add(r, 2, e->path, 0, "FS38-2.5", "5.7-1", AUD_HIGH,
                "SUIT envelope authenticated by a MAC, not a signature: no trust anchor signed it");
    else if (err == FS38_OK)
        aud_add(r, 2, e->path, 0, "FS38-2.5", "5.7-1", AUD_INFO,
                "SUIT envelope authentic: COSE_Sign1 (alg %lld) by trust anchor %s, manifest digest verified, "
                "sequence number %llu",
                (long long)m->auth_alg, anchor_name(bs, m->signer), (unsigned long long)m->sequence);
    else {
        const char *why = fs38_strerror(err);
        bool more = diag.msg[0] && strcmp(diag.msg, why) != 0;
        aud_add(r, 2, e->path, 0, "FS38-2.5", "5.7-1", AUD_HIGH, "SUIT envelope rejected: %s%s%s%s", why,
                more ? " (" : "", more ? diag.msg : "", more ? ")" : "");
    }
    free(m);
}

/* ---- MCUboot ---------------------------------------------------------------------------------- */

#define MCU_TLV_SHA256 0x10u
#define MCU_TLV_RSA2048_PSS 0x20u
#define MCU_TLV_ECDSA224 0x21u
#define MCU_TLV_ECDSA_SIG 0x22u
#define MCU_TLV_RSA3072_PSS 0x23u
#define MCU_TLV_ED25519 0x24u
#define MCU_TLV_SIG_PURE 0x25u

typedef struct mcu_tlvs {
    const uint8_t *sha256;          /* the SHA-256 TLV's value (32 bytes) */
    const uint8_t *ecdsa; size_t ecdsa_len;
    uint16_t other_sig;             /* a signature type this build cannot verify */
    bool hash_other;                /* SHA-384 / SHA-512 TLV */
    bool any_sig;
} mcu_tlvs;

/* Walk one TLV area at off (magic, total size including its 4-byte info); false: malformed. */
static bool mcu_area(const uint8_t *buf, size_t len, uint64_t off, uint16_t magic, uint64_t want_tot, mcu_tlvs *t,
                     uint64_t *tot_out)
{
    if (off + 4 > len || le16(buf + off) != magic)
        return false;
    uint64_t tot = le16(buf + off + 2);
    if (tot < 4 || off + tot > len || (want_tot && tot != want_tot))
        return false;
    uint64_t p = off + 4, end = off + tot;
    while (p < end) {
        if (p + 4 > end)
            return false;
        uint16_t ty = le16(buf + p), l = le16(buf + p + 2);
        if (p + 4 + l > end)
            return false;
        const uint8_t *v = buf + p + 4;
        if (ty == MCU_TLV_SHA256 && l == 32)
            t->sha256 = v;
        else if (ty == 0x11 || ty == 0x12)
            t->hash_other = true;
        else if (ty == MCU_TLV_ECDSA_SIG) {
            t->ecdsa = v;
            t->ecdsa_len = l;
            t->any_sig = true;
        } else if (ty == MCU_TLV_RSA2048_PSS || ty == MCU_TLV_ECDSA224 || ty == MCU_TLV_RSA3072_PSS ||
                   ty == MCU_TLV_ED25519 || ty == MCU_TLV_SIG_PURE) {
            t->other_sig = ty;
            t->any_sig = true;
        }
        p += 4u + l;
    }
    *tot_out = tot;
    return true;
}

static const char *mcu_sig_name(uint16_t ty)
{
    switch (ty) {
    case MCU_TLV_RSA2048_PSS: return "RSA-2048 PSS";
    case MCU_TLV_ECDSA224: return "ECDSA P-224";
    case MCU_TLV_RSA3072_PSS: return "RSA-3072 PSS";
    case MCU_TLV_ED25519: return "Ed25519";
    default: return "pure";
    }
}

/* An MCUboot image (header magic already seen): true when it is one (an artefact). */
static bool mcuboot_check(boot_state *bs, const aud_entry *e, const uint8_t *buf, size_t len)
{
    aud_report *r = bs->ctx->r;
    uint64_t hdr = le16(buf + 8), prot = le16(buf + 10), img = le32(buf + 12);
    uint64_t off = hdr + img, tot = 0;
    mcu_tlvs t = { 0 };
    if (hdr < 32 || off + 4 > len)
        return false; /* the magic alone: not taken as an MCUboot image */
    bool ok = true;
    if (prot)
        ok = mcu_area(buf, len, off, 0x6908, prot, &t, &tot);
    if (ok)
        ok = mcu_area(buf, len, off + prot, 0x6907, 0, &t, &tot);
    if (!ok) {
        aud_add(r, 2, e->path, 0, "FS38-2.4", "5.7-1", AUD_MEDIUM,
                "MCUboot image with a malformed or missing TLV area (header sizes %llu + %llu + %llu, file %zu bytes)",
                (unsigned long long)hdr, (unsigned long long)img, (unsigned long long)prot, len);
        return true;
    }
    /* integrity: SHA-256 over header, image and protected TLVs */
    uint8_t dg[32];
    const char *integrity;
    if (!t.sha256) {
        integrity = t.hash_other ? "a SHA-384/512 TLV this version does not check" : "no SHA-256 TLV";
    } else if (fs38_sha256(buf, (size_t)(off + prot), dg) != FS38_OK) {
        aud_add(r, 2, e->path, 0, "FS38-2.4", "5.7-1", AUD_HIGH, "MCUboot image: SHA-256 could not be computed");
        return true;
    } else if (fs38_ct_compare(dg, t.sha256, 32) != 0) {
        aud_add(r, 2, e->path, 0, "FS38-2.4", "5.7-1", AUD_HIGH,
                "MCUboot image does not match its SHA-256 TLV: modified or corrupted after it was signed");
        return true;
    } else {
        integrity = "SHA-256 TLV matches the image";
    }
    if (!t.any_sig) {
        aud_add(r, 2, e->path, 0, "FS38-2.4", "5.7-1", AUD_MEDIUM, "MCUboot image %s but no signature (%s)",
                t.sha256 ? "with a hash" : "with TLVs", integrity);
        return true;
    }
    if (!t.sha256) {
        aud_add(r, 2, e->path, 0, "FS38-2.4", "5.7-1", AUD_MEDIUM,
                "MCUboot image with a signature TLV but %s: its integrity cannot be checked", integrity);
        return true;
    }
    if (!bs->ctx->n_anchors) {
        aud_add(r, 2, e->path, 0, "FS38-2.4", "5.7-1", AUD_INFO,
                "MCUboot image with a signature TLV (%s); %s; signature not verified (no --trust-anchor given)",
                t.ecdsa ? "ECDSA" : mcu_sig_name(t.other_sig), integrity);
        return true;
    }
    if (!t.ecdsa) {
        aud_add(r, 2, e->path, 0, "FS38-2.4", "5.7-1", AUD_LOW,
                "MCUboot image: %s signature TLV, which this version cannot verify; %s", mcu_sig_name(t.other_sig),
                integrity);
        return true;
    }
    uint8_t raw[64];
    size_t rl = 0;
    if (mbedtls_ecdsa_der_to_raw(256, t.ecdsa, t.ecdsa_len, raw, sizeof raw, &rl) != 0 || rl != 64) {
        aud_add(r, 2, e->path, 0, "FS38-2.4", "5.7-1", AUD_HIGH,
                "MCUboot image: the ECDSA signature TLV is not a P-256 DER signature (%zu bytes)", t.ecdsa_len);
        return true;
    }
    for (size_t i = 0; i < bs->n_kr; i++) {
        if (psa_verify_hash(bs->kr.a[i].key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), dg, sizeof dg, raw, sizeof raw) ==
            PSA_SUCCESS) {
            aud_add(r, 2, e->path, 0, "FS38-2.4", "5.7-1", AUD_INFO,
                    "MCUboot image: ECDSA P-256 signature verified with trust anchor %s; %s", anchor_name(bs, i),
                    integrity);
            return true;
        }
    }
    aud_add(r, 2, e->path, 0, "FS38-2.4", "5.7-1", AUD_HIGH,
            "MCUboot image: the ECDSA signature verifies with none of the %zu trust anchor(s)", bs->n_kr);
    return true;
}

void aud_check_boot(aud_ctx *ctx)
{
    aud_report *r = ctx->r;
    size_t artefacts = 0;
    boot_state bs = { .ctx = ctx };
    anchors_load(&bs);
    for (size_t i = 0; i < aud_image_count(ctx->img); i++) {
        const aud_entry *e = aud_image_entry(ctx->img, i);
        if (e->type != AUD_REG || e->size < 8 || e->too_big)
            continue;
        const char *b = aud_basename(e->path);
        bool grub = strcmp(b, "grub.cfg") == 0 || strcmp(b, "grub.conf") == 0;
        uint8_t *buf;
        size_t len;
        if (aud_image_read(ctx->img, e, 8, &buf, &len, NULL, 0) != 0)
            continue;
        bool fdt = len >= 4 && be32(buf) == 0xd00dfeed;
        bool mcu = len >= 4 && le32(buf) == 0x96f3b83d;
        bool suit = len >= 2 && buf[0] == 0xd8 && buf[1] == 0x6b;
        free(buf);
        if (!grub && !fdt && !mcu && !suit)
            continue;
        if (aud_image_read(ctx->img, e, 32u << 20, &buf, &len, NULL, 0) != 0)
            continue;
        if (grub) {
            artefacts++;
            if (memmem(buf, len, "check_signatures=enforce", 24) || memmem(buf, len, "check_signatures enforce", 24))
                aud_add(r, 2, e->path, 0, "FS38-2.2", "5.7-1", AUD_INFO, "GRUB enforces signatures (check_signatures=enforce)");
            else
                aud_add(r, 2, e->path, 0, "FS38-2.2", "5.7-1", AUD_MEDIUM,
                        "GRUB configuration without check_signatures=enforce: kernels boot unverified");
        } else if (fdt) {
            fdt_facts f = fdt_scan(buf, len);
            if (f.ok && f.images && f.configurations) {
                artefacts++;
                if (!f.sig_node)
                    aud_add(r, 2, e->path, 0, "FS38-2.3", "5.7-1", AUD_MEDIUM, "U-Boot FIT image without signature nodes");
                else if (f.sig_conf)
                    aud_add(r, 2, e->path, 0, "FS38-2.3", "5.7-1", AUD_INFO, "U-Boot FIT image with signature nodes");
                else {
                    aud_add(r, 2, e->path, 0, "FS38-2.3", "5.7-1", AUD_INFO, "U-Boot FIT image with image signature nodes");
                    aud_add(r, 2, e->path, 0, "FS38-2.3", "5.7-1", AUD_LOW,
                            "U-Boot FIT image: only its images are signed, no configuration: signed images can be "
                            "recombined (U-Boot's verified boot recommends configuration signatures)");
                }
            } else if (f.ok && f.sig_key) {
                artefacts++;
                if (f.key_required)
                    aud_add(r, 2, e->path, 0, "FS38-2.3", "5.7-1", AUD_INFO,
                            "U-Boot device tree: signature key marked required (verified boot enforced)");
                else
                    aud_add(r, 2, e->path, 0, "FS38-2.3", "5.7-1", AUD_MEDIUM,
                            "U-Boot device tree: signature key without `required` (unsigned images still boot)");
            }
        } else if (mcu && len >= 32) {
            if (mcuboot_check(&bs, e, buf, len))
                artefacts++;
        } else if (suit) {
            artefacts++;
            suit_check(&bs, e, buf, len);
        }
        free(buf);
    }
    fs38_keyring_free(&bs.kr);
    if (artefacts)
        aud_assessed(r, 2, AUD_V_UNKNOWN, "");
}
