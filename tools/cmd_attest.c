/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_attest.c — `fs38 attest`: the verifier's side of attestation (control 8).
 *
 *   fs38 attest nonce [--bytes N]
 *   fs38 attest verify --ca CA_DIR TOKEN --nonce HEX [--cert CERT.pem] [--json] [--require-debug-locked]
 *
 * verify: finds the device certificate (the one CA_DIR issued for the token's key id, or
 * --cert), checks it chains to the CA and is not retired, verifies the COSE_Sign1 with its key
 * (fs38_eat_verify: signature, claims, nonce in constant time), checks the token's UEID is the
 * certificate's, then prints the claims (text, or one JSON object with --json).
 * --require-debug-locked: a valid token whose debug state is not locked (fs38_eat_debug_locked:
 * dbgstat disabled-since-boot or stronger, and every fs38-debug port bit set) is refused (exit 1,
 * the claims are still shown in text mode).
 * Exit: 0 valid, 1 invalid (reason on stderr; with --json also {"valid":false,...}), 2 usage / I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmds.h"
#include "fs38/attest.h"
#include "fs38/util.h"
#include "host.h"

void usage_attest(int to_stderr)
{
    fprintf(to_stderr ? stderr : stdout,
            "usage: fs38 attest nonce [--bytes N]\n"
            "       fs38 attest verify --ca CA_DIR TOKEN --nonce HEX [--cert CERT.pem] [--json]\n"
            "                          [--require-debug-locked]\n"
            "  nonce   print a fresh random challenge (N bytes, 8..64, default 32) as hex\n"
            "  verify  check an Entity Attestation Token (RFC 9711) from 'fs38-device attest': the device\n"
            "          certificate chains to CA_DIR, the signature, the nonce, the claims; print the claims;\n"
            "          --require-debug-locked: refuse (exit 1) a device whose debug ports are not locked\n"
            "exit status: 0 valid, 1 invalid, 2 usage or I/O error.\n");
}

/* JSON string (our strings are printable ASCII; escape anyway). */
static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned)(unsigned char)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    host_hex(p, n, out);
}

static void iso_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm))
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else
        snprintf(out, 32, "%lld", (long long)t);
}

static void print_text(const fs38_eat_claims *c, const ca_signer *s)
{
    char hex[2 * 64 + 1], t[32];
    printf("attest: valid token: signed by the device key of certificate serial %s (%s), chain to \"%s\" "
           "verified, nonce matches\n",
           s->serial, s->subject, s->issuer);
    hex_of(c->ueid, c->ueid_len, hex);
    printf("ueid: %s\n", hex);
    hex_of(c->nonce, c->nonce_len, hex);
    printf("nonce: %s\n", hex);
    if (c->has_iat) {
        iso_time(c->iat, t);
        printf("iat: %s\n", t);
    }
    printf("lifecycle: %s\n", fs38_lifecycle_name(c->lifecycle));
    printf("debug: %s\n", fs38_dbgstat_name(c->dbgstat));
    if (c->has_security) {
        printf("debug ports: JTAG/SWD %s, UART console %s, test modes %s, %s\n",
               (c->debug & FS38_DEBUG_JTAG_LOCKED) ? "locked" : "open",
               (c->debug & FS38_DEBUG_UART_DISABLED) ? "disabled" : "enabled",
               (c->debug & FS38_DEBUG_TEST_MODES_OFF) ? "off" : "on",
               (c->debug & FS38_DEBUG_PERMANENT) ? "locked permanently (OTP)" : "no permanent lock");
        printf("secure boot: %s\n", c->secure_boot ? "enforced" : "not enforced");
        printf("network services:");
        for (size_t i = 0; i < c->n_services; i++)
            printf("%s %s", i ? "," : "", c->services[i]);
        printf("%s\n", c->n_services ? "" : " none");
    }
    if (c->support_until[0])
        printf("support period: security updates until %s\n", c->support_until);
    if (c->disclosure[0])
        printf("vulnerability disclosure: %s\n", c->disclosure);
    printf("software: %s %s%s\n", c->swname, c->swversion,
           c->version_scheme == FS38_VERSION_SCHEME_SEMVER ? " (semver)" : "");
    if (c->oemid_len == 16) {
        char u[37];
        host_format_uuid(c->oemid, u);
        printf("oemid (vendor id): %s\n", u);
    }
    if (c->hwmodel_len == 16) {
        char u[37];
        host_format_uuid(c->hwmodel, u);
        printf("hwmodel (class id): %s\n", u);
    }
    for (size_t i = 0; i < c->n_meas; i++) {
        const fs38_measurement *m = &c->meas[i];
        if (m->status != FS38_MEAS_VERIFIED) {
            printf("slot %s: %s%s\n", m->name, fs38_meas_status_name(m->status), m->booted ? ", running" : "");
            continue;
        }
        char img[65], man[65], kid[17];
        hex_of(m->image_digest, 32, img);
        hex_of(m->manifest_digest, 32, man);
        hex_of(m->signer_kid, FS38_KID_LEN, kid);
        printf("slot %s: verified, sequence %llu, image sha-256 %s, manifest sha-256 %s, signer %s%s\n", m->name,
               (unsigned long long)m->sequence, img, man, kid, m->booted ? ", running" : "");
    }
}

static void print_json(const fs38_eat_claims *c, const ca_signer *s)
{
    char hex[2 * 64 + 1], t[32];
    printf("{\"valid\":true,\"certificate\":{\"serial\":");
    json_str(s->serial);
    printf(",\"subject\":");
    json_str(s->subject);
    printf(",\"issuer\":");
    json_str(s->issuer);
    hex_of(c->ueid, c->ueid_len, hex);
    printf("},\"ueid\":\"%s\"", hex);
    hex_of(c->nonce, c->nonce_len, hex);
    printf(",\"nonce\":\"%s\"", hex);
    if (c->has_iat) {
        iso_time(c->iat, t);
        printf(",\"iat\":%lld,\"iat_utc\":\"%s\"", (long long)c->iat, t);
    }
    printf(",\"lifecycle\":\"%s\",\"dbgstat\":\"%s\",\"swname\":", fs38_lifecycle_name(c->lifecycle),
           fs38_dbgstat_name(c->dbgstat));
    json_str(c->swname);
    printf(",\"swversion\":");
    json_str(c->swversion);
    printf(",\"version_scheme\":%lld", (long long)c->version_scheme);
    printf(",\"debug_locked\":%s", fs38_eat_debug_locked(c) ? "true" : "false");
    if (c->has_security) {
        printf(",\"debug_ports\":{\"jtag_locked\":%s,\"uart_disabled\":%s,\"test_modes_off\":%s,\"permanent\":%s}",
               (c->debug & FS38_DEBUG_JTAG_LOCKED) ? "true" : "false", (c->debug & FS38_DEBUG_UART_DISABLED) ? "true" : "false",
               (c->debug & FS38_DEBUG_TEST_MODES_OFF) ? "true" : "false", (c->debug & FS38_DEBUG_PERMANENT) ? "true" : "false");
        printf(",\"secure_boot\":%s,\"services\":[", c->secure_boot ? "true" : "false");
        for (size_t i = 0; i < c->n_services; i++) {
            printf("%s", i ? "," : "");
            json_str(c->services[i]);
        }
        printf("]");
    }
    if (c->support_until[0]) {
        printf(",\"support_until\":");
        json_str(c->support_until);
    }
    if (c->disclosure[0]) {
        printf(",\"disclosure\":");
        json_str(c->disclosure);
    }
    if (c->oemid_len) {
        hex_of(c->oemid, c->oemid_len, hex);
        printf(",\"oemid\":\"%s\"", hex);
    }
    if (c->hwmodel_len) {
        hex_of(c->hwmodel, c->hwmodel_len, hex);
        printf(",\"hwmodel\":\"%s\"", hex);
    }
    printf(",\"measurements\":[");
    for (size_t i = 0; i < c->n_meas; i++) {
        const fs38_measurement *m = &c->meas[i];
        printf("%s{\"slot\":", i ? "," : "");
        json_str(m->name);
        printf(",\"status\":\"%s\"", fs38_meas_status_name(m->status));
        if (m->status == FS38_MEAS_VERIFIED) {
            char img[65], man[65], kid[17];
            hex_of(m->image_digest, 32, img);
            hex_of(m->manifest_digest, 32, man);
            hex_of(m->signer_kid, FS38_KID_LEN, kid);
            printf(",\"sequence\":%llu,\"image_sha256\":\"%s\",\"manifest_sha256\":\"%s\",\"signer_kid\":\"%s\"",
                   (unsigned long long)m->sequence, img, man, kid);
        }
        printf(",\"running\":%s}", m->booted ? "true" : "false");
    }
    printf("]}\n");
}

static int invalid(bool json, const char *reason)
{
    fprintf(stderr, "attest: invalid: %s\n", reason);
    if (json) {
        printf("{\"valid\":false,\"reason\":");
        json_str(reason);
        printf("}\n");
    }
    return HOST_EXIT_REJECT;
}

static int verify_run(const char *ca_dir, const char *path, const char *nonce_hex, const char *cert, bool json,
                      bool require_locked)
{
    uint8_t nonce[FS38_EAT_NONCE_MAX], *tok = NULL;
    size_t nl = strlen(nonce_hex) / 2, len = 0;
    if (strlen(nonce_hex) % 2 || nl < FS38_EAT_NONCE_MIN || nl > FS38_EAT_NONCE_MAX ||
        host_unhex(nonce_hex, nonce, nl)) {
        host_err("attest verify: --nonce must be 8 to 64 bytes as hex");
        return HOST_EXIT_USAGE;
    }
    if (host_read_file(path, 64 * 1024, &tok, &len))
        return HOST_EXIT_USAGE;
    fs38_keyring kr;
    ca_signer s;
    fs38_eat_claims *c = malloc(sizeof *c);
    fs38_diag d;
    int rc;
    fs38_keyring_init(&kr);
    fs38_diag_clear(&d);
    if (!c) {
        host_err("out of memory");
        free(tok);
        return HOST_EXIT_USAGE;
    }
    rc = ca_find_signer(ca_dir, cert, tok, len, false, &kr, &s);
    if (rc == HOST_EXIT_REJECT) {
        rc = invalid(json, s.reason);
    } else if (rc == HOST_EXIT_OK) {
        fs38_err e = fs38_eat_verify(tok, len, &kr, nonce, nl, c, NULL, &d);
        char ueid_hex[2 * FS38_EAT_UEID_MAX + 1] = "";
        if (e == FS38_OK)
            host_hex(c->ueid, c->ueid_len, ueid_hex);
        if (e != FS38_OK) {
            rc = invalid(json, d.msg[0] ? d.msg : fs38_strerror(e));
        } else if (strcmp(ueid_hex, s.ueid) != 0) {
            rc = invalid(json, "the token's UEID is not the one in the signer's certificate");
        } else if (require_locked && !fs38_eat_debug_locked(c)) {
            char why[160];
            snprintf(why, sizeof why, "the device's debug ports are not locked (dbgstat %s%s) and --require-debug-locked was given",
                     fs38_dbgstat_name(c->dbgstat),
                     c->has_security && (c->debug & FS38_DEBUG_LOCKED) != FS38_DEBUG_LOCKED ? ", a debug port open" : "");
            if (!json)
                print_text(c, &s);
            rc = invalid(json, why);
        } else {
            if (json)
                print_json(c, &s);
            else
                print_text(c, &s);
            rc = HOST_EXIT_OK;
        }
    }
    fs38_keyring_free(&kr);
    free(c);
    free(tok);
    return rc;
}

int cmd_attest(int argc, char **argv)
{
    if (argc < 1) {
        usage_attest(1);
        return HOST_EXIT_USAGE;
    }
    const char *sub = argv[0], *pos[2];
    size_t npos = 0;
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        usage_attest(0);
        return HOST_EXIT_OK;
    }
    if (strcmp(sub, "nonce") == 0) {
        const char *bytes_s = NULL;
        const host_opt opts[] = { { .name = "--bytes", .value = &bytes_s }, { .name = NULL } };
        if (host_parse_args(argc - 1, argv + 1, opts, pos, 0, &npos))
            return HOST_EXIT_USAGE;
        uint64_t n = 32;
        uint8_t b[FS38_EAT_NONCE_MAX];
        char hex[2 * FS38_EAT_NONCE_MAX + 1];
        if (bytes_s && host_parse_u64("attest nonce --bytes", bytes_s, FS38_EAT_NONCE_MIN, FS38_EAT_NONCE_MAX, 0, &n))
            return HOST_EXIT_USAGE;
        if (host_psa_init() || psa_generate_random(b, n) != PSA_SUCCESS)
            return HOST_EXIT_USAGE;
        host_hex(b, n, hex);
        printf("%s\n", hex);
        return HOST_EXIT_OK;
    }
    if (strcmp(sub, "verify") == 0) {
        const char *ca = NULL, *nonce = NULL, *cert = NULL;
        bool json = false, require_locked = false;
        const host_opt opts[] = { { .name = "--ca", .value = &ca },
                                  { .name = "--require-debug-locked", .flag = &require_locked },
                                  { .name = "--nonce", .value = &nonce },
                                  { .name = "--cert", .value = &cert },
                                  { .name = "--json", .flag = &json },
                                  { .name = NULL } };
        int r = host_parse_args(argc - 1, argv + 1, opts, pos, 2, &npos);
        if (r == 1) {
            usage_attest(0);
            return HOST_EXIT_OK;
        }
        if (r || npos != 1 || !ca || !nonce) {
            host_err("attest verify: expected --ca CA_DIR TOKEN --nonce HEX");
            return HOST_EXIT_USAGE;
        }
        return verify_run(ca, pos[0], nonce, cert, json, require_locked);
    }
    host_err("attest: unknown subcommand '%s' (nonce, verify)", sub);
    usage_attest(1);
    return HOST_EXIT_USAGE;
}
