/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_audit_image.c — libFuzzer target for the firmware assessor's image readers (host/audit:
 * libarchive tar/cpio with every compression filter, libsquashfs, libext2fs, the in-image path
 * resolution) and the checks' parsers (ELF headers, PEM/DER keys, device trees / FIT, MCUboot
 * header and TLVs with their SHA-256 and signature check, SUIT envelopes against one trust
 * anchor, inittab, init scripts and systemd units, kernel configuration, service, Wi-Fi, logging
 * and update configurations, security.txt, os-release) and report outputs.
 *
 * Input: the bytes of an image, handed to aud_image_open through a memfd (/proc/self/fd/N:
 * nothing touches the disk); the format is detected by magic as in `fs38 audit`. Seeds in
 * fuzz/corpus/audit_image/: small tar.gz, tar.xz, cpio, squashfs and ext2 images of a rootfs
 * with an inittab, a kernel config, keys, a shadow file and links (made with tests/audit/mkimg.py,
 * mksquashfs and mke2fs -d); boot-signed.tar (plain tar, so the bytes mutate in place): an MCUboot
 * image with protected TLVs and a SUIT envelope, both signed by the private key of the anchor
 * below (the P-256 scalar 0x1f2e3d4c...76543210, for this seed only; `mkimg.py mcuboot`,
 * `fs38 sign`), and an Ed25519-signed MCUboot image.
 *
 * Invariants: every entry's path is normalised (not empty, no leading '/', no "", "." or ".."
 * component); an entry is found again under its own path; resolving any entry's path (links
 * followed) ends at an entry of the image (or its root) or fails with a reason; a read returns at most the asked bytes
 * and never more than the declared size; the bytes read never exceed the total limit (plus one
 * read's worth); the report's outputs are produced.
 * Check 1 (crypt_r over ~700 candidate passwords per hash) is left out: its cost is by design,
 * and its parsing is line splitting already exercised by the other checks.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "audit.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * libarchive's cpio reader allocates a symlink target's declared size (up to 4 GiB, a 32-bit
 * field) before it finds the input too short and fails cleanly; the allocation is never touched,
 * so the resident size stays small. libFuzzer's default malloc limit (= -rss_limit_mb, 2048 in
 * scripts/fuzz.sh) would report it as an out-of-memory: this target raises the malloc limit to
 * 4300 MiB (given first, so a -malloc_limit_mb on the command line still wins) whenever it runs
 * with libFuzzer flags.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static char flag[] = "-malloc_limit_mb=4300";
    static char *nargv[256];
    bool flags = false; /* libFuzzer is given flags; the seed replay (fuzz/replay_main.c) only paths */
    for (int i = 1; i < *argc; i++)
        flags |= (*argv)[i][0] == '-';
    if (!flags || *argc < 1 || *argc > 250)
        return 0;
    nargv[0] = (*argv)[0];
    nargv[1] = flag;
    for (int i = 1; i < *argc; i++)
        nargv[i + 1] = (*argv)[i];
    nargv[*argc + 1] = NULL;
    *argc += 1;
    *argv = nargv;
    return 0;
}

static void check_path(const char *p)
{
    CHECK(p[0] != '\0' && p[0] != '/');
    const char *s = p;
    for (;;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        CHECK(n > 0);
        CHECK(!(n == 1 && s[0] == '.'));
        CHECK(!(n == 2 && s[0] == '.' && s[1] == '.'));
        if (!e)
            break;
        s = e + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fs38-fuzz-image", 0);
    if (fd < 0)
        return 0;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            close(fd);
            return 0;
        }
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    aud_limits lim = { .max_file = 1u << 20, .max_total = 16u << 20, .max_entries = 20000 };
    aud_image *img = NULL;
    char err[512];
    if (aud_image_open(path, &lim, &img, err, sizeof err) != 0) {
        CHECK(err[0] != '\0');
        close(fd);
        return 0;
    }
    for (size_t i = 0; i < aud_image_count(img); i++) {
        const aud_entry *e = aud_image_entry(img, i);
        check_path(e->path);
        CHECK(aud_image_find(img, e->path) == e);
        char why[128] = "";
        const aud_entry *r = aud_image_lookup(img, e->path, true, why, sizeof why);
        if (r && r->path[0] == '\0')
            CHECK(r->type == AUD_DIR); /* a link to "/" or ".." resolved to the image root */
        else if (r)
            CHECK(aud_image_find(img, r->path) == r);
        else
            CHECK(why[0] != '\0');
        uint8_t *buf;
        size_t len;
        if (aud_image_read(img, e, 4096, &buf, &len, why, sizeof why) == 0) {
            CHECK(len <= 4096);
            CHECK(buf[len] == 0);
            free(buf);
        }
    }
    CHECK(aud_image_bytes_read(img) <= lim.max_total + lim.max_file);
    aud_report r;
    aud_report_init(&r, "fuzz", "0", "2026-01-01");
    /* one trust anchor (a fixed P-256 point): SUIT envelopes go through fs38_suit_authenticate and
     * MCUboot ECDSA signature TLVs through the DER conversion and psa_verify_hash */
    static const uint8_t anchor[1][AUD_ANCHOR_LEN] = { {
        0x04, 0x18, 0x3d, 0xea, 0xc7, 0xb4, 0xe0, 0x7b, 0xe3, 0xe0, 0x16, 0x00, 0xe0, 0x54, 0xad, 0x5b, 0x2b,
        0xcd, 0x5e, 0x98, 0x69, 0xf1, 0x5a, 0xd3, 0x38, 0x23, 0xa1, 0x1e, 0x47, 0x50, 0xc7, 0xaf, 0x33, 0x46,
        0x1f, 0x2b, 0x93, 0x17, 0x63, 0xc4, 0x28, 0x5f, 0xa6, 0x02, 0x0a, 0xe5, 0xe9, 0x6e, 0xe4, 0xc7, 0xf9,
        0xbc, 0x80, 0xba, 0x89, 0xa1, 0x23, 0x51, 0xc6, 0xf0, 0xa9, 0xb1, 0xe9, 0x60, 0x66,
    } };
    static const char *const anchor_name[1] = { "fuzz.pub" };
    aud_ctx ctx = { .img = img, .r = &r, .anchors = anchor, .anchor_names = anchor_name, .n_anchors = 1 };
    aud_check_boot(&ctx);
    aud_check_update(&ctx);
    aud_check_services(&ctx);
    aud_check_keys(&ctx);
    aud_check_identity(&ctx);
    aud_check_elf(&ctx);
    aud_check_disclosure(&ctx);
    aud_report_finish(&r);
    char *j = aud_json(&r), *s = aud_sarif(&r), *h = aud_html(&r);
    CHECK(j && s && h);
    free(j);
    free(s);
    free(h);
    aud_report_free(&r);
    aud_image_close(img);
    close(fd);
    return 0;
}
