/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_update.c — the update agent's state machine fed random operations and chunks.
 *
 * A RAM-backed device holds a verified factory image in slot A. Two genuine updates (A128CTR
 * with ECDH-ES and A128GCM with A128KW) are built once at start-up. Each input is a program of
 * operations: begin with one of the envelopes (or a mutated copy), write a chunk of the
 * genuine payload or of input bytes, finish, abort, cut the power at a chosen operation,
 * reboot, boot, confirm. Invariants after every step: no crash or sanitizer report; a boot
 * always finds a verified image (the factory image or a complete update); the anti-rollback
 * counter never exceeds the confirmed image's sequence; the new image never runs except as a
 * trial or once confirmed. */
#include <stdlib.h>
#include <string.h>
#include "fs38/boot.h"
#include "fs38/update.h"
#include "fs38/util.h"
#include "fs38_ram.h"
#include "suit_build.h"
#include "suit_encrypt.h"

#define FUZZ_NAME "fuzz_update"
#include "fuzz_common.h"

#define SECTOR 4096u
#define SLOT_SIZE (64u * 1024u)
#define STATE_OFF (2u * SLOT_SIZE)
#define FLASH_SIZE (STATE_OFF + 2u * SECTOR)
#define IMG_LEN 9000u

/* ---- RAM flash with power cuts (port/ram: entropy all 0x5a, clock 0, no wall time) ---- */
static uint8_t flash[FLASH_SIZE], factory_flash[FLASH_SIZE];
static fs38_ram ram;
static fs38_port port;

/* ---- releases ---- */
static const uint8_t vendor[16] = { 1, 2, 3 }, class_id[16] = { 4, 5, 6 };
static const uint8_t kek[16] = "0123456789abcdef";
static psa_key_id_t signer, dev_key;
static uint8_t signer_kid[FS38_KID_LEN];
static fs38_keyring trust;
static fs38_boot_config cfg;
static fs38_boot_ctx boot;
static fs38_update_ctx upd;

typedef struct {
    uint8_t image[IMG_LEN];
    uint8_t payload[IMG_LEN + 16];
    size_t payload_len;
    suit_buf env;
} release;
static release rel[2];

static void make(release *r, uint64_t seq, int gcm, uint8_t seed, const uint8_t *dev_pub)
{
    for (size_t i = 0; i < IMG_LEN; i++)
        r->image[i] = (uint8_t)(i * 13u + seed);
    suit_build sb;
    suit_build_firmware(&sb, seq, vendor, class_id, r->image, IMG_LEN, FS38_COSE_ALG_ESP256, signer,
                        signer_kid);
    uint8_t info[512];
    if (seq > 1) {
        suit_encrypt_opts o;
        memset(&o, 0, sizeof o);
        o.content_alg = gcm ? FS38_COSE_ALG_A128GCM : FS38_COSE_ALG_A128CTR;
        if (gcm)
            o.kek = kek;
        else
            o.device_pub = dev_pub;
        CHECK(suit_build_encrypt(&sb, &o, r->payload, sizeof r->payload, &r->payload_len, info, sizeof info) ==
              FS38_OK);
    }
    CHECK(suit_build_envelope(&sb, &r->env) == FS38_OK);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CHECK(psa_crypto_init() == PSA_SUCCESS);
    uint8_t pt[65], dpt[65];
    size_t n;
    fuzz_p256_signer(&signer, pt, signer_kid);
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&at, PSA_ALG_ECDH);
    CHECK(psa_generate_key(&at, &dev_key) == PSA_SUCCESS);
    CHECK(psa_export_public_key(dev_key, dpt, sizeof dpt, &n) == PSA_SUCCESS);
    fs38_keyring_init(&trust);
    CHECK(fs38_keyring_add_p256(&trust, pt, sizeof pt) == FS38_OK);
    /* factory image (sequence 1, plain) in slot A */
    static release factory;
    make(&factory, 1, 0, 1, NULL);
    make(&rel[0], 2, 0, 2, dpt);
    make(&rel[1], 3, 1, 3, NULL);
    const fs38_ram_config rc = { .flash = flash, .flash_size = FLASH_SIZE, .sector_size = SECTOR,
                                 .fixed_entropy = true, .entropy_byte = 0x5a };
    CHECK(fs38_ram_init(&ram, &rc, &port) == FS38_OK);
    cfg.port = &port;
    cfg.trust = &trust;
    cfg.vendor_id = vendor;
    cfg.class_id = class_id;
    cfg.slot[0] = (fs38_region){ 0, SLOT_SIZE };
    cfg.slot[1] = (fs38_region){ SLOT_SIZE, SLOT_SIZE };
    cfg.state = (fs38_region){ STATE_OFF, 2 * SECTOR };
    CHECK(fs38_slot_program(&cfg, 0, factory.env.b, factory.env.len, factory.image, IMG_LEN) == FS38_OK);
    memcpy(factory_flash, flash, sizeof flash);
    return 0;
}

static unsigned running(void)
{
    fs38_bootstate st;
    if (fs38_bootstate_read(&port, STATE_OFF, 2 * SECTOR, &st))
        return 0;
    if (st.pending == FS38_PENDING_TRYING && st.pending_slot < 2)
        return st.pending_slot;
    return st.confirmed_slot < 2 ? st.confirmed_slot : 0;
}

static void check_boot(void)
{
    unsigned s;
    CHECK(fs38_boot_init(&boot, &cfg) == FS38_OK);
    fs38_err e = fs38_boot_select(&boot, &s);
    if (e == FS38_ERR_POWER)
        return;
    CHECK(e == FS38_OK); /* never without a bootable image */
    const fs38_slot_info *si = &boot.slot[s];
    CHECK(si->verdict == FS38_OK && si->image_size == IMG_LEN);
    if (si->sequence > 1) /* an update runs only as a trial or once confirmed */
        CHECK((boot.st.pending == FS38_PENDING_TRYING && boot.st.pending_slot == s) || boot.st.confirmed_slot == s);
    /* the counter never exceeds the confirmed image's sequence (it only moves on confirm) */
    uint64_t c = ram.counters[FS38_COUNTER_ROLLBACK];
    if (c) {
        unsigned cs = boot.st.confirmed_slot;
        CHECK(cs < 2 && boot.slot[cs].verdict == FS38_OK && c <= boot.slot[cs].sequence);
    }
}

static void reboot(void)
{
    fs38_update_abort(&upd);
    fs38_ram_reboot(&ram);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memcpy(flash, factory_flash, sizeof flash);
    memset(ram.counters, 0, sizeof ram.counters);
    memset(&upd, 0, sizeof upd);
    fs38_ram_reboot(&ram);
    const release *cur = &rel[0];
    uint64_t pos = 0;
    size_t i = 0;
    suit_buf mutated;
    while (i < size) {
        uint8_t op = data[i++];
        uint8_t arg = i < size ? data[i++] : 0;
        switch (op % 10) {
        case 0: /* begin with a genuine envelope */
        case 1: {
            cur = &rel[op & 1];
            fs38_update_config uc = { &cfg, running(), { dev_key, kek, 16, NULL, 0 } };
            fs38_update_abort(&upd);
            if (fs38_update_begin(&upd, &uc, cur->env.b, cur->env.len) == FS38_OK)
                pos = upd.offset;
            break;
        }
        case 2: { /* begin with a mutated envelope: one byte changed */
            cur = &rel[arg & 1];
            mutated = cur->env;
            size_t at = ((size_t)arg * 131u) % mutated.len;
            mutated.b[at] ^= (uint8_t)(1u << (arg & 7));
            fs38_update_config uc = { &cfg, running(), { dev_key, kek, 16, NULL, 0 } };
            fs38_update_abort(&upd);
            if (fs38_update_begin(&upd, &uc, mutated.b, mutated.len) == FS38_OK)
                pos = upd.offset; /* a change the signature does not cover (e.g. the tag 107) */
            break;
        }
        case 3: /* genuine payload bytes */
        case 4: {
            size_t n = (size_t)arg * 37u + 1u;
            if (pos < cur->payload_len) {
                if (n > cur->payload_len - pos)
                    n = (size_t)(cur->payload_len - pos);
                if (fs38_update_write(&upd, cur->payload + pos, n) == FS38_OK)
                    pos += n;
            }
            break;
        }
        case 5: { /* bytes from the input */
            size_t n = arg < size - i ? arg : size - i;
            if (fs38_update_write(&upd, data + i, n) == FS38_OK)
                pos += n;
            i += n;
            break;
        }
        case 6: { /* any result: check_boot() judges what it left */
            fs38_err e = fs38_update_finish(&upd);
            (void)e;
            break;
        }
        case 7: /* cut the power at a coming operation */
            fs38_ram_cut_at(&ram, 1u + arg % 8u);
            break;
        case 8: /* reboot (and boot) */
            reboot();
            check_boot();
            break;
        case 9: {
            unsigned s;
            CHECK(fs38_boot_init(&boot, &cfg) == FS38_OK);
            fs38_err e = fs38_boot_confirm(&boot, &s); /* refused without a trial: fine */
            (void)e;
            break;
        }
        }
    }
    reboot();
    check_boot();
    fs38_update_abort(&upd);
    return 0;
}
