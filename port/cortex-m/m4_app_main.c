/* SPDX-License-Identifier: Apache-2.0 */
/*
 * m4_app_main.c — fs38-app.elf, the application of the Cortex-M4 port (linked for slot A or B,
 * signed with `fs38 sign`). At each start it runs its self-test and confirms itself when it is
 * on trial (fs38_boot_confirm), then runs the update agent when the host offers an update:
 * update.suit (the envelope) and update.payload (the possibly encrypted payload) read over
 * semihosting, installed into the other slot with fs38_update_begin / write / finish.
 *
 * The security log (with its sealed store under the OTP HUK) records the boot count and every
 * event the library raises here (confirmation, update begin / installed / rejected, rollback
 * refused). On the first start it is created: k_0 leaves the device once, to the host file
 * log-k0.hex (the verifier's copy). Semihosting argument export=1 writes a complete export
 * (ending with a checkpoint) to log-export.cbor for `fs38 log verify`.
 *
 * Semihosting arguments: selftest=0 makes the self-test fail (the trial is then not confirmed
 * and the next boot reverts it); cut=N cuts power at the Nth flash program / erase.
 */
#include <string.h>
#include <psa/crypto.h>
#include "fs38/boot.h"
#include "fs38/err.h"
#include "fs38/event.h"
#include "fs38/log.h"
#include "fs38/store.h"
#include "fs38/update.h"
#include "fs38/util.h"
#include "fs38_m4.h"
#include "m4_rom.h"

#ifndef M4_APP_VERSION
#define M4_APP_VERSION "0"
#endif

static fs38_port g_port;
static fs38_keyring g_trust;
static fs38_boot_ctx g_boot;
static fs38_update_ctx g_upd;
static uint8_t g_env[FS38_ENVELOPE_MAX];
static uint8_t g_buf[1024];
static fs38_store g_store;
static fs38_log g_log;
static uint8_t g_export[4096];

/* A rejection's reason: the library's diagnostic (FS38_DIAG_TEXT 1), else the code (m4_put_err:
 * its short name in an application built with M4_APP_PROFILE="0 ..."). */
static void put_reason(fs38_err e, const fs38_diag *d)
{
    if (d && d->msg[0])
        m4_puts(d->msg);
    else
        m4_put_err(e);
}

static void put_err(const char *what, fs38_err e, const fs38_diag *d)
{
    m4_puts(what);
    put_reason(e, d);
    m4_puts("\n");
}

static int write_host_file(const char *name, const void *buf, size_t len)
{
    int fd = m4_sh_open(name, 5 /* wb */);
    if (fd < 0)
        return -1;
    size_t n = m4_sh_write(fd, buf, len);
    (void)m4_sh_close(fd);
    return n == len ? 0 : -1;
}

/* Open the sealed store and the security log (creating the log on the first start), count this
 * boot, and route the library's events into the log. Returns 0 when the log records. */
static int log_start(void)
{
    fs38_store_config sc = {.port = &g_port, .offset = M4_STORE, .size = M4_STORE_SIZE, .bank_size = 4u * M4_SECTOR};
    fs38_err e = fs38_store_open(&g_store, &sc);
    if (e) {
        put_err("app: sealed store unavailable: ", e, NULL);
        return -1;
    }
    fs38_log_config lc = {.port = &g_port, .store = &g_store, .offset = M4_LOG, .size = M4_LOG_SIZE};
    e = fs38_log_open(&g_log, &lc);
    if (e == FS38_ERR_LOG_UNINIT) {
        /* provisioning: k_0 is drawn from PSA's RNG (NV seed) and written out before it is used */
        uint8_t k0[FS38_LOG_KEY_LEN], out[FS38_LOG_KEY_LEN];
        char hex[2 * FS38_LOG_KEY_LEN + 1];
        if (psa_generate_random(k0, sizeof k0) != PSA_SUCCESS) {
            m4_puts("app: no random k0\n");
            return -1;
        }
        for (unsigned i = 0; i < FS38_LOG_KEY_LEN; i++) {
            hex[2 * i] = "0123456789abcdef"[k0[i] >> 4];
            hex[2 * i + 1] = "0123456789abcdef"[k0[i] & 15u];
        }
        hex[2 * FS38_LOG_KEY_LEN] = '\n';
        int w = write_host_file("log-k0.hex", hex, sizeof hex);
        fs38_wipe(hex, sizeof hex);
        e = w ? FS38_ERR_IO : fs38_log_create(&g_log, &lc, k0, out);
        fs38_wipe(k0, sizeof k0);
        fs38_wipe(out, sizeof out);
        if (!e)
            m4_puts("log: security log created; k0 written to log-k0.hex\n");
    }
    if (e) {
        put_err("app: security log not recorded: ", e, fs38_log_diag(&g_log));
        return -1;
    }
    fs38_event_set_sink(fs38_log_sink, &g_log);
    uint64_t boots = 0;
    if (g_port.counter_read(g_port.ctx, FS38_COUNTER_BOOT, &boots) != FS38_OK ||
        g_port.counter_advance(g_port.ctx, FS38_COUNTER_BOOT, boots + 1u) != FS38_OK ||
        fs38_log_note_boot(&g_log) != FS38_OK)
        m4_puts("app: boot count not recorded\n");
    return 0;
}

/* export=1: a complete export from the oldest record, ending with a checkpoint. */
static void log_export(void)
{
    if (m4_arg("export", 0) != 1)
        return;
    fs38_log_cursor c;
    fs38_log_cursor_init(&c, 0);
    size_t len = 0;
    fs38_err e = fs38_log_export(&g_log, &c, g_export, sizeof g_export, &len);
    if (e || !c.done || write_host_file("log-export.cbor", g_export, len)) {
        put_err("log export: ", e ? e : FS38_ERR_BUFFER, fs38_log_diag(&g_log));
        return;
    }
    m4_puts("log export: records ");
    m4_putu(c.first);
    m4_puts("..");
    m4_putu(c.last);
    m4_puts(" -> log-export.cbor\n");
}

static char letter(unsigned slot)
{
    return slot == 0 ? 'A' : 'B';
}

static void put_slot(unsigned slot)
{
    char l[2] = {letter(slot), 0};
    m4_puts(l);
}

static void stack_report(void)
{
    m4_puts("m4: stack fs38-app.elf ");
    m4_putu(m4_stack_used());
    m4_puts(" bytes, heap ");
    m4_putu(m4_heap_used());
    m4_puts(" bytes, flash operations ");
    m4_putu(m4_port_ops());
    m4_puts("\n");
}

static void confirm_if_on_trial(void)
{
    if (m4_arg("selftest", 1) == 0) {
        m4_puts("app: self-test failed; not confirming\n");
        return;
    }
    unsigned slot = 0;
    fs38_err e = fs38_boot_confirm(&g_boot, &slot);
    if (e == FS38_ERR_STATE)
        return; /* nothing on trial */
    if (e) {
        unsigned p = g_boot.st.pending_slot < FS38_SLOT_COUNT ? g_boot.st.pending_slot : 0;
        m4_puts("confirm: refused: ");
        if (g_boot.slot[p].reason[0])
            m4_puts(g_boot.slot[p].reason);
        else
            m4_put_err(e);
        m4_puts("\n");
        return;
    }
    m4_puts("confirm: slot ");
    put_slot(slot);
    m4_puts(", sequence ");
    m4_putu(g_boot.slot[slot].sequence);
    m4_puts(" committed; anti-rollback counter ");
    m4_putu(g_boot.counter);
    m4_puts("\n");
}

/* The device's key-agreement key from the OTP sector, as a volatile PSA key. */
static psa_key_id_t device_key(void)
{
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&a, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&a, 256);
    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&a, PSA_ALG_ECDH);
    psa_key_id_t id = 0;
    const uint8_t *k = (const uint8_t *)(M4_FLASH_BASE + M4_OTP + M4_OTP_DEVKEY);
    if (psa_import_key(&a, k, 32, &id) != PSA_SUCCESS)
        return 0;
    return id;
}

static fs38_err feed(int fd)
{
    if (m4_sh_seek(fd, (uint32_t)g_upd.offset) != 0)
        return fs38_diag_set(&g_upd.diag, FS38_ERR_IO, "payload: seek to the resume point failed");
    fs38_err e = FS38_OK;
    size_t n;
    while (!e && (n = m4_sh_read(fd, g_buf, sizeof g_buf)) > 0)
        e = fs38_update_write(&g_upd, g_buf, n);
    return e;
}

static void run_update(unsigned running)
{
    int efd = m4_sh_open("update.suit", 1);
    if (efd < 0)
        return;
    size_t env_len = m4_sh_read(efd, g_env, sizeof g_env);
    (void)m4_sh_close(efd);
    int pfd = m4_sh_open("update.payload", 1);
    if (pfd < 0) {
        m4_puts("update: no update.payload beside update.suit\n");
        return;
    }
    fs38_update_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.boot = &g_boot.cfg;
    cfg.running_slot = running;
    cfg.keys.ecdh_key = device_key();
    fs38_err e = fs38_update_begin(&g_upd, &cfg, g_env, env_len);
    if (!e && g_upd.resumed) {
        m4_puts("update: resuming an interrupted download at byte ");
        m4_putu(g_upd.offset);
        m4_puts(" of ");
        m4_putu(g_upd.payload_size);
        m4_puts("\n");
    }
    if (!e)
        e = feed(pfd);
    if (!e)
        e = fs38_update_finish(&g_upd);
    (void)m4_sh_close(pfd);
    if (cfg.keys.ecdh_key)
        (void)psa_destroy_key(cfg.keys.ecdh_key);
    if (e) {
        fs38_update_abort(&g_upd);
        m4_puts("update: rejected: ");
        uint64_t installed = 0;
        if (e == FS38_ERR_ROLLBACK && !g_upd.diag.msg[0] &&
            g_port.counter_read(g_port.ctx, FS38_COUNTER_ROLLBACK, &installed) == FS38_OK) {
            /* no diagnostic text: the library's wording rebuilt from the numbers */
            m4_puts("sequence ");
            m4_putu(g_upd.sequence);
            m4_puts(" < installed ");
            m4_putu(installed);
        } else {
            put_reason(e, &g_upd.diag);
        }
        m4_puts("\n");
        return;
    }
    m4_puts("update: sequence ");
    m4_putu(g_upd.sequence);
    m4_puts(" installed in slot ");
    put_slot(g_upd.slot);
    m4_puts(" (");
    m4_putu(g_upd.image_size);
    m4_puts(g_upd.encrypted ? " bytes, decrypted on the fly); the next boot tries it\n"
                            : " bytes); the next boot tries it\n");
}

int main(void)
{
    if (m4_port_init(&g_port, 0, "cut") != FS38_OK || psa_crypto_init() != PSA_SUCCESS) {
        m4_puts("app: start-up failed\n");
        return 2;
    }
    fs38_keyring_init(&g_trust);
    fs38_boot_config cfg = {
        .port = &g_port,
        .trust = &g_trust,
        .vendor_id = m4_rom_vendor_id,
        .class_id = m4_rom_class_id,
        .slot = {{M4_SLOT_A, M4_SLOT_SIZE}, {M4_SLOT_B, M4_SLOT_SIZE}},
        .image_offset = M4_IMAGE_OFFSET,
        .state = {M4_STATE, 2u * M4_SECTOR},
        .require_slot = true, /* execute in place: an image runs only from the slot it is linked for */
    };
    unsigned running = 0;
    if (fs38_keyring_add_p256(&g_trust, m4_rom_trust, sizeof m4_rom_trust) != FS38_OK ||
        fs38_boot_init(&g_boot, &cfg) != FS38_OK || fs38_boot_running(&g_boot, &running) != FS38_OK) {
        m4_puts("app: boot state unreadable\n");
        return 2;
    }
    m4_puts("app: version " M4_APP_VERSION " running from slot ");
    put_slot(running);
    m4_puts("\n");
    int logging = log_start();
    confirm_if_on_trial();
    run_update(running);
    if (logging == 0) {
        log_export();
        fs38_event_set_sink(NULL, NULL);
        fs38_log_close(&g_log);
    }
    fs38_store_close(&g_store);
    stack_report();
    return 0;
}
