/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_boot.c — control 2, boot artefacts (ETSI EN 303 645 5.7-1). Kernel module signing is
 * read with the kernel configuration (check_services.c, FS38-2.1).
 *
 *   FS38-2.2 GRUB: grub.cfg with `check_signatures=enforce` (pass) or without (medium)
 *   FS38-2.3 U-Boot: a FIT image (flattened device tree with /images and /configurations) with
 *            signature nodes (pass) or none (medium); a U-Boot control device tree whose
 *            /signature key nodes carry `required` (pass) or not (medium)
 *   FS38-2.4 MCUboot images: a signature TLV (pass) or only a hash TLV (medium)
 *   FS38-2.5 SUIT envelopes (CBOR tag 107): present, not verified by this version without the
 *            trust anchor (low: a warning, never a pass)
 * No boot artefact at all leaves the control UNKNOWN.
 * The device-tree walk is bounded by the blob's declared and real sizes and a depth of 32.
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[1] << 8 | p[0]); }

typedef struct fdt_facts {
    bool images, configurations, sig_node, sig_key, key_required;
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
                (strcmp(path[1], "images") == 0 || strcmp(path[1], "configurations") == 0))
                f.sig_node = true;
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

void aud_check_boot(aud_ctx *ctx)
{
    aud_report *r = ctx->r;
    size_t artefacts = 0;
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
                if (f.sig_node)
                    aud_add(r, 2, e->path, 0, "FS38-2.3", "5.7-1", AUD_INFO, "U-Boot FIT image with signature nodes");
                else
                    aud_add(r, 2, e->path, 0, "FS38-2.3", "5.7-1", AUD_MEDIUM, "U-Boot FIT image without signature nodes");
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
            uint32_t hdr = le16(buf + 8), img = le32(buf + 12);
            uint64_t off = (uint64_t)hdr + img;
            bool sig = false, hash = false, any = false;
            for (int round = 0; round < 2 && off + 4 <= len; round++) {
                uint16_t magic = le16(buf + off), tot = le16(buf + off + 2);
                if (magic != 0x6907 && magic != 0x6908)
                    break;
                any = true;
                uint64_t p = off + 4, end = off + tot;
                if (end > len)
                    end = len;
                while (p + 4 <= end) {
                    uint16_t t = le16(buf + p), l = le16(buf + p + 2);
                    if (t == 0x10 || t == 0x11 || t == 0x12)
                        hash = true;
                    if (t >= 0x20 && t <= 0x25)
                        sig = true;
                    p += 4u + l;
                }
                off += tot;
            }
            if (any) {
                artefacts++;
                if (sig)
                    aud_add(r, 2, e->path, 0, "FS38-2.4", "5.7-1", AUD_INFO, "MCUboot image with a signature TLV");
                else
                    aud_add(r, 2, e->path, 0, "FS38-2.4", "5.7-1", AUD_MEDIUM, "MCUboot image %s but no signature",
                            hash ? "with a hash" : "with TLVs");
            }
        } else if (suit) {
            artefacts++;
            aud_add(r, 2, e->path, 0, "FS38-2.5", "5.7-1", AUD_LOW,
                    "SUIT envelope: not verified by this version (no trust anchor given)");
        }
        free(buf);
    }
    if (artefacts)
        aud_assessed(r, 2, AUD_V_UNKNOWN, "");
}
