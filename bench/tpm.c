/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_tpm: the key interface's operations through a TPM 2.0 (port/tpm over swtpm, started here
 * on free loopback ports and stopped by PID) vs the same operations by PSA in software, in the
 * same run: ECDSA P-256 sign of a digest, ECDH P-256, the sealing-root derivation (HMAC-SHA-256)
 * and a monotonic counter increment (TPM NV counter vs port/posix's flash counter). swtpm is a
 * simulator on this CPU, so the ratio says little about a real TPM (tens of ms per command on a
 * discrete part); the number of TPM commands each operation sends is the figure that carries
 * over: multiply it by the part's command latency.
 *
 * Usage: bench_tpm [--quick]
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <psa/crypto.h>

#include "bench_util.h"
#include "fs38/keys.h"
#include "fs38_posix.h"
#include "fs38_tpm.h"

extern char **environ;

static pid_t g_swtpm;
static char g_state[256], g_flash[256];

static void cleanup(void)
{
    if (g_swtpm > 0) {
        kill(g_swtpm, SIGTERM);
        waitpid(g_swtpm, NULL, 0);
        g_swtpm = 0;
    }
    if (g_state[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_state);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_tpm: cannot remove %s\n", g_state);
    }
    if (g_flash[0])
        unlink(g_flash);
}

static int port_free(int p)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)p);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

static int free_pair(void)
{
    for (int p = 20000 + (int)(getpid() % 20000); p < 65000; p += 2)
        if (port_free(p) && port_free(p + 1))
            return p;
    bench_die("finding two free ports", 1);
}

static void start_swtpm(int port, char *tcti, size_t cap)
{
    char server[80], ctrl[80], state[300];
    bench_tmp_path(g_state, sizeof g_state, "tpm", "d");
    if (mkdir(g_state, 0700) != 0)
        bench_die("mkdir swtpm state", errno);
    snprintf(server, sizeof server, "type=tcp,port=%d,bindaddr=127.0.0.1", port);
    snprintf(ctrl, sizeof ctrl, "type=tcp,port=%d,bindaddr=127.0.0.1", port + 1);
    snprintf(state, sizeof state, "dir=%s", g_state);
    char *argv[] = { "swtpm", "socket", "--tpm2", "--server", server, "--ctrl", ctrl, "--tpmstate", state,
                     "--flags", "not-need-init,startup-clear", NULL };
    int rc = posix_spawnp(&g_swtpm, "swtpm", NULL, NULL, argv, environ);
    if (rc != 0) {
        fprintf(stderr, "bench_tpm: cannot start swtpm (scripts/deps installs it): %s\n", strerror(rc));
        exit(1);
    }
    snprintf(tcti, cap, "swtpm:host=127.0.0.1,port=%d", port);
}

#define MAXN 400u
static uint64_t g_t[MAXN];

typedef fs38_err (*op_fn)(void *arg, unsigned i);

/* Median ns of n runs of fn; *cmds (when the TPM's counter is given) the TPM commands per run. */
static uint64_t measure(op_fn fn, void *arg, unsigned n, const fs38_tpm *t, double *cmds)
{
    const unsigned long c0 = t ? t->commands : 0;
    for (unsigned i = 0; i < n; i++) {
        const uint64_t a = bench_now_ns();
        BENCH_MUST(fn(arg, i));
        g_t[i] = bench_now_ns() - a;
    }
    if (cmds)
        *cmds = t ? (double)(t->commands - c0) / n : 0.0;
    return bench_summarize(g_t, n).median;
}

typedef struct ops {
    const fs38_key *key;
    uint8_t hash[32], sig[64], peer[65], z[32], out[32];
    const fs38_port *port;
    uint64_t ctr;
} ops;

static fs38_err op_sign(void *a, unsigned i)
{
    ops *o = a;
    o->hash[0] = (uint8_t)i;
    return fs38_key_sign_hash(o->key, o->hash, o->sig);
}

static fs38_err op_ecdh(void *a, unsigned i)
{
    ops *o = a;
    (void)i;
    return fs38_key_ecdh(o->key, o->peer, o->z);
}

static fs38_err op_derive(void *a, unsigned i)
{
    ops *o = a;
    (void)i;
    return fs38_key_derive(o->key, (const uint8_t *)FS38_TPM_SEALING_LABEL, sizeof FS38_TPM_SEALING_LABEL - 1u, o->out);
}

static fs38_err op_counter(void *a, unsigned i)
{
    ops *o = a;
    (void)i;
    fs38_err e = o->port->counter_read(o->port->ctx, FS38_COUNTER_BOOT, &o->ctr);
    return e != FS38_OK ? e : o->port->counter_advance(o->port->ctx, FS38_COUNTER_BOOT, o->ctr + 1u);
}

static void row(const char *name, uint64_t tpm_ns, uint64_t psa_ns, double cmds, const char *psa_name)
{
    printf("  %-26s TPM %9.1f us   %-22s %8.1f us   ratio %7.1fx   TPM commands/op %.1f\n", name, (double)tpm_ns / 1e3,
           psa_name, (double)psa_ns / 1e3, psa_ns ? (double)tpm_ns / (double)psa_ns : 0.0, cmds);
}

static psa_key_id_t psa_key(psa_key_usage_t usage, psa_algorithm_t alg, psa_key_type_t type, size_t bits)
{
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t id = 0;
    psa_set_key_type(&at, type);
    psa_set_key_bits(&at, bits);
    psa_set_key_usage_flags(&at, usage);
    psa_set_key_algorithm(&at, alg);
    BENCH_MUST(psa_generate_key(&at, &id));
    return id;
}

int main(int argc, char **argv)
{
    bench_set_name("bench_tpm");
    const int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const unsigned n = quick ? 40u : 200u;
    char tcti[128];
    static fs38_tpm t;
    atexit(cleanup);
    setenv("TSS2_LOG", "all+none", 1);
    BENCH_MUST(psa_crypto_init());
    start_swtpm(free_pair(), tcti, sizeof tcti);
    fs38_err e = FS38_ERR_IO;
    for (int tries = 0; tries < 100 && e != FS38_OK; tries++) {
        usleep(50000);
        e = fs38_tpm_open(&t, tcti);
    }
    if (e != FS38_OK) {
        fprintf(stderr, "bench_tpm: %s\n", t.diag.msg);
        return 1;
    }
    uint64_t base[FS38_COUNTER_COUNT];
    BENCH_MUST(fs38_tpm_setup(&t, base));
    fs38_key tid, tecdh, tseal, pid, pecdh, pseal;
    BENCH_MUST(fs38_tpm_key(&t, FS38_TPM_H_IDENTITY, &tid));
    unsigned long c0 = t.commands;
    const uint64_t g0 = bench_now_ns();
    BENCH_MUST(fs38_key_generate(&tid));
    const uint64_t gen_ns = bench_now_ns() - g0;
    const double gen_cmds = (double)(t.commands - c0);
    BENCH_MUST(fs38_tpm_key(&t, FS38_TPM_H_SEALING, &tseal));
    BENCH_MUST(fs38_tpm_ecdh_key(&t, &tecdh));

    const psa_key_id_t ks = psa_key(PSA_KEY_USAGE_SIGN_HASH, PSA_ALG_ECDSA(PSA_ALG_SHA_256),
                                    PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1), 256);
    const psa_key_id_t ke = psa_key(PSA_KEY_USAGE_DERIVE, PSA_ALG_ECDH, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1),
                                    256);
    const psa_key_id_t kh = psa_key(PSA_KEY_USAGE_SIGN_MESSAGE, PSA_ALG_HMAC(PSA_ALG_SHA_256), PSA_KEY_TYPE_HMAC, 256);
    BENCH_MUST(fs38_key_psa(&pid, ks));
    BENCH_MUST(fs38_key_psa(&pecdh, ke));
    BENCH_MUST(fs38_key_psa(&pseal, kh));

    static ops ot, op;
    bench_fill_random(ot.hash, sizeof ot.hash);
    memcpy(op.hash, ot.hash, sizeof ot.hash);
    BENCH_MUST(fs38_key_public(&pecdh, ot.peer)); /* each side agrees with the other's key */
    BENCH_MUST(fs38_key_public(&tecdh, op.peer));

    /* the counters: the TPM's NV counter behind the port vs port/posix's flash counter */
    fs38_posix px;
    fs38_port pp, tp;
    fs38_posix_config pc;
    memset(&pc, 0, sizeof pc);
    bench_tmp_path(g_flash, sizeof g_flash, "tpm-flash", "bin");
    pc.path = g_flash;
    pc.flash_size = 64u * 4096u;
    pc.sector_size = 4096u;
    pc.counter_offset = 56u * 4096u;
    BENCH_MUST(fs38_posix_open(&px, &pc, &pp));
    tp = pp;
    BENCH_MUST(fs38_tpm_wrap_port(&t, &tp, base));

    printf("bench_tpm: %u runs each, medians; TPM = swtpm (libtpms) on 127.0.0.1 through the TSS2 ESAPI, "
           "PSA = Mbed TLS in software\n", n);
    double cmds = 0;
    ot.key = &tid;
    op.key = &pid;
    uint64_t a = measure(op_sign, &ot, n, &t, &cmds), b = measure(op_sign, &op, n, NULL, NULL);
    row("sign (ECDSA P-256)", a, b, cmds, "psa_sign_hash");
    { /* a TPM signature verifies under the TPM key's public point (PSA) */
        uint8_t pt[65];
        psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
        psa_key_id_t pub = 0;
        BENCH_MUST(fs38_key_sign_hash(&tid, ot.hash, ot.sig));
        BENCH_MUST(fs38_key_public(&tid, pt));
        psa_set_key_type(&at, PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1));
        psa_set_key_usage_flags(&at, PSA_KEY_USAGE_VERIFY_HASH);
        psa_set_key_algorithm(&at, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
        BENCH_MUST(psa_import_key(&at, pt, sizeof pt, &pub));
        BENCH_MUST(psa_verify_hash(pub, PSA_ALG_ECDSA(PSA_ALG_SHA_256), ot.hash, 32, ot.sig, 64));
        BENCH_MUST(psa_destroy_key(pub));
    }
    ot.key = &tecdh;
    op.key = &pecdh;
    a = measure(op_ecdh, &ot, n, &t, &cmds);
    b = measure(op_ecdh, &op, n, NULL, NULL);
    row("ECDH (P-256)", a, b, cmds, "psa_raw_key_agreement");
    if (memcmp(ot.z, op.z, 32) != 0)
        bench_die("TPM and PSA ECDH agree", 1);
    ot.key = &tseal;
    op.key = &pseal;
    a = measure(op_derive, &ot, n, &t, &cmds);
    b = measure(op_derive, &op, n, NULL, NULL);
    row("sealing root (HMAC)", a, b, cmds, "psa_mac_compute");
    ot.port = &tp;
    op.port = &pp;
    a = measure(op_counter, &ot, n, &t, &cmds);
    b = measure(op_counter, &op, n, NULL, NULL);
    row("counter read + increment", a, b, cmds, "posix flash counter");
    printf("  %-26s TPM %9.1f us   (once, at provisioning)                              TPM commands %.0f\n",
           "device key generation", (double)gen_ns / 1e3, gen_cmds);
    printf("  commands/op in steady state: the object's handle is looked up once per connection\n"
           "  (TPM2_ReadPublic / TPM2_NV_ReadPublic, +1 on the first use: fs38-device opens one\n"
           "  connection per command); a counter step is NV_Read + NV_Read + NV_Increment. On a\n"
           "  discrete TPM (tens of ms per ECDSA sign, ms per HMAC / NV command) the count sets the cost\n");
    fs38_posix_close(&px);
    fs38_tpm_close(&t);
    return 0;
}
