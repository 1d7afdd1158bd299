/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.c — cost of the security log (fs38/log.h) against the HMAC it is built on.
 *
 * On the RAM port (port/ram: memcpy reads; flash programming and erasing timed by a bench_probe
 * around it; counters in RAM, 16 B per counter write counted as flash) with the reference device's layout — a ring of
 * 64 x 4 KiB sectors, the sealed store in 16 sectors (banks of 4), 96 records per epoch — it
 * measures, each as the median of several rounds:
 *
 *   append      fs38_log_append of an event whose CBOR payload is exactly 64 bytes, CPU only:
 *               the time in the port's program / erase calls is subtracted (reported apart).
 *               Seals, key evolutions (HKDF + sealed-store put) and ring wraps happen along the
 *               way, so they are amortised in the figure; against
 *   hmac        one psa_mac_compute (HMAC-SHA-256) over the record's MAC input (previous MAC +
 *               header + payload = 102 bytes) in the same run: the floor (goal: append <= 1.3x);
 *   flash       bytes programmed per event — ring records, wrap markers, seals, store records,
 *               store compactions and counter entries — while filling the ring and once it wraps
 *               (goal: <= event size + 40);
 *   verify      fs38_log_verify_batch over an export of the full ring, in MB/s, against HMAC-
 *               SHA-256 of the same bytes (per record, as the verifier must, and in one call);
 *   open        fs38_log_open of a full ring (scan + verification of the current epoch).
 *
 * Usage: bench_log [--quick]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <psa/crypto.h>
#include "fs38/cbor.h"
#include "fs38/log.h"
#include "fs38/store.h"
#include "fs38/util.h"
#include "bench_util.h"
#include "fs38_ram.h"

#define SECTOR 4096u
#define STORE_SECTORS 16u
#define LOG_SECTORS 64u
#define LOG_OFF (STORE_SECTORS * SECTOR)
#define FLASH_SIZE (LOG_OFF + LOG_SECTORS * SECTOR)
#define EVENT_PAYLOAD 64u

#define LOG_CLOCK_MS 123456u /* the port's fixed clock: the payload size stays exactly 64 bytes */

/* ---- RAM port: fs38_ram, with a probe that times programming / erasing and counts the ring's bytes */

static uint8_t ram_flash[FLASH_SIZE];
static const uint8_t ram_huk[32] = { 0x42, 0x17, 0x99 };
static fs38_ram ram;
static fs38_port ram_port;
static bench_probe probe; /* probe.port is what fs38 uses */

static void port_init(void)
{
    fs38_ram_config rc = { .flash = ram_flash, .flash_size = FLASH_SIZE, .sector_size = SECTOR,
                           .huk = ram_huk, .huk_len = sizeof ram_huk, .clock_ms = LOG_CLOCK_MS };
    BENCH_MUST(fs38_ram_init(&ram, &rc, &ram_port));
    bench_probe_init(&probe, &ram_port);
    probe.time_flash = true;
    probe.region_from = LOG_OFF;
}

/* ---- rig ------------------------------------------------------------------------------------------- */

static fs38_store store;
static fs38_log lg;
static fs38_log_verifier ver;
static uint8_t k0[FS38_LOG_KEY_LEN];
static char detail[EVENT_PAYLOAD];

static fs38_log_config log_cfg(void)
{
    fs38_log_config c;
    memset(&c, 0, sizeof c);
    c.port = &probe.port;
    c.store = &store;
    c.offset = LOG_OFF;
    c.size = LOG_SECTORS * SECTOR;
    c.epoch_records = FS38_LOG_EPOCH_RECORDS;
    return c;
}

static void fresh(void)
{
    fs38_log_close(&lg);
    fs38_store_close(&store);
    fs38_ram_erase_all(&ram);
    fs38_store_config sc = { &probe.port, 0, STORE_SECTORS * SECTOR, 4 * SECTOR };
    BENCH_MUST(fs38_store_open(&store, &sc));
    fs38_log_config c = log_cfg();
    BENCH_MUST(fs38_log_create(&lg, &c, NULL, k0));
}

/* The detail length that makes the event's CBOR payload exactly EVENT_PAYLOAD bytes. */
static void size_detail(void)
{
    for (size_t n = 1; n < sizeof detail; n++) {
        uint8_t buf[128];
        fs38_cbor_enc e;
        fs38_cbor_enc_init(&e, buf, sizeof buf);
        fs38_cbor_put_array(&e, 6);
        fs38_cbor_put_int(&e, FS38_EV_LOGIN_FAILED);
        fs38_cbor_put_int(&e, FS38_SEV_WARNING);
        fs38_cbor_put_uint(&e, 0);
        fs38_cbor_put_uint(&e, LOG_CLOCK_MS);
        fs38_cbor_put_int(&e, 3);
        fs38_cbor_put_tstr(&e, "x", n);
        size_t len = 0;
        BENCH_MUST(fs38_cbor_enc_finish(&e, &len));
        if (len == EVENT_PAYLOAD) {
            memset(detail, 'a', n);
            detail[n] = 0;
            return;
        }
    }
    fprintf(stderr, "bench_log: no detail length gives a %u-byte payload\n", EVENT_PAYLOAD);
    exit(1);
}

static void append(void)
{
    fs38_event_rec ev = { FS38_EV_LOGIN_FAILED, FS38_SEV_WARNING, 3, detail };
    BENCH_MUST(fs38_log_append(&lg, &ev));
}

int main(int argc, char **argv)
{
    const int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const unsigned rounds = quick ? 5 : 15, per_round = quick ? 2048 : 4096;
    bench_set_name("bench_log");
    port_init();
    BENCH_MUST(psa_crypto_init() != PSA_SUCCESS);
    size_detail();

    /* the floor: HMAC-SHA-256 of a record's MAC input, same key type */
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&a, PSA_KEY_TYPE_HMAC);
    psa_set_key_bits(&a, 256);
    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_SIGN_MESSAGE);
    psa_set_key_algorithm(&a, PSA_ALG_HMAC(PSA_ALG_SHA_256));
    psa_key_id_t hk;
    uint8_t key[32] = { 7 }, input[FS38_LOG_MAC_LEN + FS38_LOG_HDR_LEN + EVENT_PAYLOAD], mac[32];
    memset(input, 0x5a, sizeof input);
    BENCH_MUST(psa_import_key(&a, key, sizeof key, &hk));
    size_t ml;

    /* ---- append vs. HMAC, interleaved rounds ---- */
    fresh();
    double *t_app = calloc(rounds, sizeof *t_app), *t_mac = calloc(rounds, sizeof *t_mac),
           *t_fl = calloc(rounds, sizeof *t_fl);
    for (unsigned i = 0; i < 3000; i++) /* warm up; wrap once so the rounds include wraps */
        append();
    for (unsigned r = 0; r < rounds; r++) {
        uint64_t f0 = probe.flash_ns, t0 = bench_now_ns();
        for (unsigned i = 0; i < per_round; i++)
            append();
        uint64_t t1 = bench_now_ns(), f1 = probe.flash_ns;
        for (unsigned i = 0; i < per_round; i++)
            BENCH_MUST(psa_mac_compute(hk, PSA_ALG_HMAC(PSA_ALG_SHA_256), input, sizeof input, mac, sizeof mac, &ml));
        uint64_t t2 = bench_now_ns();
        t_app[r] = (double)((t1 - t0) - (f1 - f0)) / per_round;
        t_fl[r] = (double)(f1 - f0) / per_round;
        t_mac[r] = (double)(t2 - t1) / per_round;
    }
    const double app = bench_median(t_app, rounds), hm = bench_median(t_mac, rounds), fl = bench_median(t_fl, rounds);
    printf("append of a %u-byte event (record %u B), %u rounds x %u events, %u records per epoch, ring %u x 4 KiB\n",
           EVENT_PAYLOAD, EVENT_PAYLOAD + FS38_LOG_OVERHEAD, rounds, per_round, FS38_LOG_EPOCH_RECORDS, LOG_SECTORS);
    printf("  append CPU (flash time removed) %8.0f ns/event\n", app);
    printf("  HMAC-SHA-256 of the record      %8.0f ns  (psa_mac_compute, %zu B)\n", hm, sizeof input);
    printf("  ratio append / HMAC             %8.2f   (goal <= 1.3; seals, key evolution, store puts and wraps amortised)\n",
           app / hm);
    printf("  flash programming (RAM port)    %8.0f ns/event (timed apart)\n", fl);

    /* ---- flash bytes per event: filling the ring, then wrapping ---- */
    fresh();
    uint64_t p0 = ram.bytes_programmed, l0 = probe.region_programmed, e0 = ram.bytes_erased;
    const unsigned fill = 2000;
    for (unsigned i = 0; i < fill; i++)
        append();
    const double fill_all = (double)(ram.bytes_programmed - p0) / fill, fill_ring = (double)(probe.region_programmed - l0) / fill;
    for (unsigned i = 0; i < 4000; i++) /* wrap */
        append();
    p0 = ram.bytes_programmed;
    l0 = probe.region_programmed;
    e0 = ram.bytes_erased;
    const unsigned steady = 8000;
    for (unsigned i = 0; i < steady; i++)
        append();
    const double wrap_all = (double)(ram.bytes_programmed - p0) / steady, wrap_ring = (double)(probe.region_programmed - l0) / steady;
    const double wrap_erase = (double)(ram.bytes_erased - e0) / steady;
    /* the normal operation: the backend exports every 1000 events and acknowledges (release) */
    static uint8_t ack_buf[160 * 1024];
    fs38_log_info li;
    BENCH_MUST(fs38_log_info_get(&lg, &li));
    BENCH_MUST(fs38_log_release(&lg, li.next_seq - 1u));
    uint32_t since = li.next_seq;
    for (unsigned i = 0; i < 3000 + steady; i++) {
        if (i == 3000) { /* warmed up: the ring holds only acknowledged records now */
            p0 = ram.bytes_programmed;
            l0 = probe.region_programmed;
        }
        append();
        if (i % 1000 == 999) {
            fs38_log_cursor ac;
            fs38_log_cursor_init(&ac, since);
            size_t al = 0;
            BENCH_MUST(fs38_log_export(&lg, &ac, ack_buf, sizeof ack_buf, &al));
            BENCH_MUST(fs38_log_release(&lg, ac.last));
            since = ac.last + 1u;
        }
    }
    const double ack_all = (double)(ram.bytes_programmed - p0) / steady, ack_ring = (double)(probe.region_programmed - l0) / steady;
    printf("\nflash bytes programmed per %u-byte event (goal <= event + 40 = %u)\n", EVENT_PAYLOAD, EVENT_PAYLOAD + 40);
    printf("  %-34s %7.2f B (ring %.2f: record %u + seals; store + counters %.2f)\n", "filling the ring", fill_all,
           fill_ring, EVENT_PAYLOAD + FS38_LOG_OVERHEAD, fill_all - fill_ring);
    printf("  %-34s %7.2f B (ring %.2f incl. checkpoints, releases; store + counters %.2f)\n",
           "wrapping, exported + acknowledged", ack_all, ack_ring, ack_all - ack_ring);
    printf("  %-34s %7.2f B (ring %.2f incl. a LOST marker per sector; store + counters %.2f); erased %.1f B/event\n",
           "wrapping, never acknowledged", wrap_all, wrap_ring, wrap_all - wrap_ring, wrap_erase);
    printf("  overhead beyond the event: %.2f B filling, %.2f B wrapping with exports, %.2f B losing records\n",
           fill_all - EVENT_PAYLOAD, ack_all - EVENT_PAYLOAD, wrap_all - EVENT_PAYLOAD);

    /* ---- verification throughput over an export of the full ring ---- */
    size_t cap = fs38_log_export_bound(&lg, 0), len = 0;
    uint8_t *batch = malloc(cap);
    fs38_log_cursor c;
    fs38_log_cursor_init(&c, 0);
    BENCH_MUST(batch == NULL);
    BENCH_MUST(fs38_log_export(&lg, &c, batch, cap, &len));
    fs38_log_batch pb;
    BENCH_MUST(fs38_log_batch_parse(batch, len, &pb, NULL));
    const unsigned vr = quick ? 5 : 11;
    double *t_v = calloc(vr, sizeof *t_v), *t_r = calloc(vr, sizeof *t_r), *t_1 = calloc(vr, sizeof *t_1);
    uint8_t *blob_in = malloc(pb.records_len + FS38_LOG_MAC_LEN);
    for (unsigned r = 0; r < vr; r++) {
        fs38_log_verify_config vc;
        memset(&vc, 0, sizeof vc);
        vc.k0 = k0;
        uint64_t t0 = bench_now_ns();
        BENCH_MUST(fs38_log_verify_init(&ver, &vc));
        BENCH_MUST(fs38_log_verify_batch(&ver, batch, len));
        fs38_err fe = fs38_log_verify_finish(&ver, NULL); /* LOST 0..: the ring wrapped */
        uint64_t t1 = bench_now_ns();
        if (fe != FS38_OK && fe != FS38_ERR_LOG_VERIFY)
            BENCH_MUST(fe);
        if (ver.problems != 1) {
            fprintf(stderr, "bench_log: the export does not verify (%llu problems)\n", (unsigned long long)ver.problems);
            exit(1);
        }
        fs38_log_verify_free(&ver);
        /* HMAC per record over the same MAC inputs (previous MAC + record) */
        const uint8_t *prev = pb.prev;
        uint64_t t2 = bench_now_ns();
        for (size_t pos = 0; pos < pb.records_len;) {
            fs38_log_frame f;
            BENCH_MUST(fs38_log_frame_parse(pb.records + pos, pb.records_len - pos, &f));
            psa_mac_operation_t op = PSA_MAC_OPERATION_INIT;
            BENCH_MUST(psa_mac_sign_setup(&op, hk, PSA_ALG_HMAC(PSA_ALG_SHA_256)));
            BENCH_MUST(psa_mac_update(&op, prev, FS38_LOG_MAC_LEN));
            BENCH_MUST(psa_mac_update(&op, f.start, FS38_LOG_HDR_LEN + f.plen));
            BENCH_MUST(psa_mac_sign_finish(&op, mac, sizeof mac, &ml));
            prev = f.mac;
            pos += f.size;
        }
        uint64_t t3 = bench_now_ns();
        BENCH_MUST(psa_mac_compute(hk, PSA_ALG_HMAC(PSA_ALG_SHA_256), pb.records, pb.records_len, mac, sizeof mac, &ml));
        uint64_t t4 = bench_now_ns();
        t_v[r] = (double)(t1 - t0);
        t_r[r] = (double)(t3 - t2);
        t_1[r] = (double)(t4 - t3);
    }
    const double mb = (double)len / 1e6;
    const double tv = bench_median(t_v, vr) / 1e9, tr = bench_median(t_r, vr) / 1e9, t1s = bench_median(t_1, vr) / 1e9;
    printf("\nverification of an export of the full ring (%zu B, %u records, %u epochs)\n", len, c.records,
           li.epoch + 1u - (unsigned)pb.epoch);
    printf("  fs38_log_verify_batch            %8.1f MB/s\n", mb / tv);
    printf("  HMAC-SHA-256 per record          %8.1f MB/s  -> verify / HMAC per record: %.2fx the time\n", mb / tr,
           tv / tr);
    printf("  HMAC-SHA-256 of the bytes at once %7.1f MB/s  -> verify / one HMAC: %.2fx the time\n", mb / t1s,
           tv / t1s);

    /* ---- open (scan the full ring, verify the current epoch) ---- */
    fs38_log_config lc = log_cfg();
    double *t_o = calloc(vr, sizeof *t_o);
    for (unsigned r = 0; r < vr; r++) {
        fs38_log_close(&lg);
        uint64_t t0 = bench_now_ns();
        BENCH_MUST(fs38_log_open(&lg, &lc));
        t_o[r] = (double)(bench_now_ns() - t0);
    }
    printf("\nfs38_log_open of a full ring (64 sectors): %.3f ms; context %zu B, verifier %zu B\n",
           bench_median(t_o, vr) / 1e6, sizeof(fs38_log), sizeof(fs38_log_verifier));

    fs38_log_close(&lg);
    fs38_store_close(&store);
    psa_destroy_key(hk);
    free(batch);
    free(blob_in);
    free(t_app), free(t_mac), free(t_fl), free(t_v), free(t_r), free(t_1), free(t_o);
    return 0;
}
