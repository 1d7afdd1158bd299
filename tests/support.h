/* SPDX-License-Identifier: Apache-2.0 */
/* support.h — helpers shared by the cmocka tests (host only: uses stdio/malloc). */
#ifndef FS38_TEST_SUPPORT_H
#define FS38_TEST_SUPPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>
#include "fs38/port.h"
#include "fs38/store.h"
#include "fs38_posix.h"

/* Read a whole file (relative paths are under FS38_TEST_VECTORS). Returns malloc'd buffer or NULL. */
uint8_t *ts_read_file(const char *path, size_t *len);
/* Decode a hex string (whitespace ignored) into out; returns bytes written or (size_t)-1. */
size_t ts_unhex(const char *hex, uint8_t *out, size_t cap);
/* A fresh temporary file path (unique per call) under $TMPDIR or /tmp. */
const char *ts_tmp_path(const char *tag);

/* Open a fresh POSIX flash of size bytes (sector 4096, counters in the last 8 sectors). */
typedef struct {
    fs38_posix posix;
    fs38_port port;
    fs38_posix_config cfg;
    char path[256];
} ts_flash;
void ts_flash_new(ts_flash *f, uint32_t size);
/* "Reboot": close and reopen the same file. */
void ts_flash_reboot(ts_flash *f);
void ts_flash_free(ts_flash *f);

/* What ts_port_check_nor did to the flash, for checking a port's own accounting. */
typedef struct {
    uint64_t ops;        /* programs and erases that reached the flash */
    uint64_t programmed; /* bytes programmed */
    uint64_t erased;     /* bytes erased */
    uint64_t refused;    /* calls the port itself refused (FS38_ERR_ARG) */
} ts_nor_tally;
/*
 * NOR flash semantics of a port, shared by the POSIX and the RAM port tests, on its first six
 * sectors (erased at the start, erased again at the end; nothing else is written): a program
 * ANDs bits (across a sector boundary; 0xFF changes nothing), a long program spanning sectors
 * reads back, an erase sets exactly its sectors to 0xFF and they can be programmed again, an
 * empty erase is no operation; misaligned, past-the-end, overflowing and NULL-buffer calls are
 * refused with FS38_ERR_ARG by the port and by fs38's wrappers (which never call the port for
 * them); a read that ends exactly at the end works. *t gets what was done.
 */
void ts_port_check_nor(const fs38_port *p, ts_nor_tally *t);

/*
 * A device with a sealed store: a fresh flash with its own hardware-unique-key file, PSA
 * initialised, the store opened on scfg (its port is set here) and bound to PSA ITS. Tests
 * embed it as the member `d` of their own rig.
 */
typedef struct {
    ts_flash f;
    char huk[256];
    fs38_store_config scfg;
    fs38_store s;
} ts_device;
/* New device: flash of flash_size bytes, a new HUK, PSA initialised, store configuration scfg
 * (port filled in); the store is NOT opened (call ts_device_open or open it yourself). */
void ts_device_prepare(ts_device *d, uint32_t flash_size, fs38_store_config scfg);
/* New device: ts_device_prepare, then the store opened (ts_device_open). */
void ts_device_new(ts_device *d, uint32_t flash_size, fs38_store_config scfg);
/* Open the store and bind it to PSA ITS (fails the test with the store's diagnostic). */
void ts_device_open(ts_device *d);
/* Full power cycle: ITS unbound, store closed, PSA's RAM (key slots) gone, flash reopened, PSA
 * initialised again; the store is NOT reopened (call ts_device_open or the rig's own open). */
void ts_device_power_off_on(ts_device *d);
/* Tear down: ITS unbound, store closed, PSA freed, flash file removed, HUK file removed unless
 * keep_huk. */
void ts_device_free(ts_device *d, bool keep_huk);
#endif

/* ---- SUIT helpers (tests build their own envelopes) ---- */
#include <psa/crypto.h>
#include "fs38/cose.h"
#include "fs38/suit.h"

/* The draft's example P-256 key (tests/vectors/suit/keys/suit-example-p256.hex). */
extern const char ts_example_d[];
extern const char ts_example_pub[];
/* Import a raw P-256 private key (hex d) as a PSA signing key. */
psa_key_id_t ts_import_signer(const char *d_hex);
/* Generate a fresh P-256 signing key; *point receives its 65-byte public point. */
psa_key_id_t ts_gen_signer(uint8_t point[65]);
/* Generate a fresh P-256 key-agreement (ECDH) key; *point receives its 65-byte public point. */
psa_key_id_t ts_gen_ecdh(uint8_t point[65]);
/* Keyring holding one P-256 public point given as hex (04||x||y). */
void ts_keyring_hex(fs38_keyring *kr, const char *point_hex);

/* Wrap a manifest into a signed envelope (auth before manifest). Returns length. */
size_t ts_envelope(psa_key_id_t key, int64_t alg, const uint8_t *manifest, size_t mlen,
                   uint8_t *out, size_t cap);
/* The standard boot manifest fs38 sign produces: one component "firmware",
 * shared = override{vendor, class, digest, size}, vendor?, class?; validate = image-match;
 * invoke = invoke. Returns its length. */
size_t ts_boot_manifest(uint64_t seq, const uint8_t vendor[16], const uint8_t class_id[16],
                        const uint8_t digest[32], uint64_t size, uint8_t *out, size_t cap);
extern const uint8_t ts_vendor[16];
extern const uint8_t ts_class[16];
/* The boot configuration the boot and update tests share: port, trust, ts_vendor / ts_class,
 * slot A at 0 and slot B at slot_size (slot_size bytes each). Other fields are left as they are. */
#include "fs38/boot.h"
void ts_boot_config(fs38_boot_config *cfg, const fs38_port *port, const fs38_keyring *trust, uint32_t slot_size);

/* ---- security events seen by a test ---- */
#include "fs38/event.h"
/* What the test sink recorded since ts_events_record: how many events (of the code asked for)
 * and the last one's code, arg and detail ("" when it had none). */
typedef struct {
    fs38_event_code only; /* recorded: only this code (0: every event) */
    unsigned n;
    fs38_event_code code;
    int64_t arg;
    char detail[FS38_DIAG_MAX];
} ts_events;
extern ts_events ts_ev;
/* ts_ev cleared and the test sink installed, recording the events of code only (0: all). */
void ts_events_record(fs38_event_code only);
/* cmocka fixtures: ts_events_record(0); the sink removed. */
int ts_events_setup(void **state);
int ts_events_teardown(void **state);
