/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_eat.c — libFuzzer target for the attestation-token and decommissioning-receipt
 * verifiers (fs38/attest.h, fs38/decommission.h).
 *
 * Each input (an exact-size heap copy) is
 *   1. verified as a token (fs38_eat_verify, with and without the expected nonce) and as a
 *      receipt (fs38_receipt_verify) against a fixed device key: random inputs stop at the
 *      COSE layer or the signature;
 *   2. parsed directly as a claims map (fs38_eat_parse, fs38_receipt_parse), so the claims
 *      parsers see every input;
 *   3. when it parses as claims, signed with the device key (fs38_cose_sign1_sign) and verified
 *      again: the verifier must then accept it and produce exactly the parser's claims.
 * Invariants: every result is a documented code, a rejection fills the diagnostic with that code
 * and a terminated message, and accepted claims respect their bounds (nonce 8..64 bytes, UEID
 * 7..33, at most 4 measurements with printable names, lifecycle and debug status in range).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <psa/crypto.h>
#include "fs38/attest.h"
#include "fs38/decommission.h"

#define FUZZ_NAME "fuzz_eat"
#include "fuzz_common.h"

/* the nonce of the seed tokens (fuzz/corpus/eat/) */
static const uint8_t NONCE[32] = { 0x2e, 0x97, 0x59, 0xab, 0xde, 0x82, 0xf5, 0x48, 0xc2, 0x80, 0x44,
                                   0x77, 0xf2, 0x87, 0x2c, 0x1b, 0xb1, 0xb6, 0x1f, 0xbf, 0x0e, 0xa3,
                                   0x50, 0x97, 0xda, 0x0f, 0x4b, 0x41, 0x3e, 0x27, 0x0f, 0xd9 };

static psa_key_id_t g_key;
static uint8_t g_kid[FS38_KID_LEN];
static fs38_keyring g_kr;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    uint8_t point[65];
    CHECK(psa_crypto_init() == PSA_SUCCESS);
    fuzz_p256_signer(&g_key, point, g_kid);
    fs38_keyring_init(&g_kr);
    CHECK(fs38_keyring_add_p256(&g_kr, point, sizeof point) == FS38_OK);
    return 0;
}

static void check_diag(fs38_err e, const fs38_diag *d)
{
    CHECK(memchr(d->msg, 0, sizeof d->msg) != NULL);
    if (e) {
        CHECK(d->err == e);
        CHECK(d->msg[0] != 0);
    }
}

static bool verify_code(fs38_err e)
{
    return e == FS38_OK || e == FS38_ERR_COSE_FORMAT || e == FS38_ERR_UNSUPPORTED_ALG ||
           e == FS38_ERR_UNSUPPORTED_PARAM || e == FS38_ERR_BAD_SIGNATURE || e == FS38_ERR_UNTRUSTED_SIGNER ||
           e == FS38_ERR_CLAIMS || e == FS38_ERR_NONCE;
}

static bool printable(const char *s, size_t cap)
{
    size_t n = 0;
    for (; n < cap && s[n]; n++)
        if (s[n] < 0x20 || s[n] > 0x7e)
            return false;
    return n > 0 && n < cap;
}

static void check_eat(const fs38_eat_claims *c)
{
    CHECK(c->nonce_len >= FS38_EAT_NONCE_MIN && c->nonce_len <= FS38_EAT_NONCE_MAX);
    CHECK(c->ueid_len >= 7 && c->ueid_len <= FS38_EAT_UEID_MAX);
    CHECK(c->oemid_len == 0 || (c->oemid_len >= 3 && c->oemid_len <= 16));
    CHECK(c->hwmodel_len <= FS38_EAT_HWMODEL_MAX);
    CHECK((unsigned)c->dbgstat <= FS38_DBG_DISABLED_FULLY_AND_PERMANENTLY);
    CHECK((unsigned)c->lifecycle <= FS38_LIFECYCLE_DECOMMISSIONED);
    CHECK(printable(c->swname, sizeof c->swname) && printable(c->swversion, sizeof c->swversion));
    CHECK(c->n_meas <= FS38_EAT_MAX_MEASUREMENTS);
    for (size_t i = 0; i < c->n_meas; i++) {
        CHECK(printable(c->meas[i].name, sizeof c->meas[i].name));
        CHECK((unsigned)c->meas[i].status <= FS38_MEAS_EMPTY);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(c->meas[i].name, c->meas[j].name) != 0);
    }
    /* controls 5 and 13: fs38-debug / -services / -secure-boot together, bounded */
    CHECK((c->debug & ~FS38_DEBUG_ALL) == 0 && c->n_services <= FS38_SERVICES_MAX);
    CHECK(c->has_security || (c->debug == 0 && c->n_services == 0 && !c->secure_boot));
    for (size_t i = 0; i < c->n_services; i++)
        CHECK(printable(c->services[i], sizeof c->services[i]));
    CHECK(c->support_until[0] == 0 || (strlen(c->support_until) == FS38_EAT_DATE_LEN && c->support_until[4] == '-'));
    CHECK(memchr(c->disclosure, 0, sizeof c->disclosure) != NULL);
    CHECK(!fs38_eat_debug_locked(c) || c->dbgstat >= FS38_DBG_DISABLED_SINCE_BOOT);
}

static void check_receipt(const fs38_receipt_claims *c)
{
    CHECK(c->ueid_len >= 7 && c->ueid_len <= FS38_EAT_UEID_MAX);
    CHECK(c->nonce_len == 0 || (c->nonce_len >= FS38_EAT_NONCE_MIN && c->nonce_len <= FS38_EAT_NONCE_MAX));
    CHECK(c->lifecycle == FS38_LIFECYCLE_DECOMMISSIONED);
    CHECK(c->n_keys <= FS38_DECOM_MAX_KEYS + 1u && c->n_regions <= FS38_DECOM_MAX_REGIONS + 1u);
    for (size_t i = 0; i < c->n_regions; i++)
        CHECK(printable(c->regions[i].name, sizeof c->regions[i].name));
}

/* Sign the claims with the device key: the verifier must accept them exactly as parsed. */
static void roundtrip(const uint8_t *claims, size_t len, bool receipt, const void *parsed)
{
    size_t cap = len + 128, tl = 0;
    uint8_t *tok = malloc(cap);
    CHECK(tok != NULL);
    CHECK(fs38_cose_sign1_sign(g_key, FS38_COSE_ALG_ES256, g_kid, sizeof g_kid, claims, len, false, tok, cap, &tl) ==
          FS38_OK);
    uint8_t *exact = malloc(tl);
    CHECK(exact != NULL);
    memcpy(exact, tok, tl);
    fs38_diag d;
    fs38_diag_clear(&d);
    if (receipt) {
        fs38_receipt_claims *c = malloc(sizeof *c);
        CHECK(c != NULL);
        CHECK(fs38_receipt_verify(exact, tl, &g_kr, NULL, 0, c, NULL, &d) == FS38_OK);
        CHECK(memcmp(c, parsed, sizeof *c) == 0);
        free(c);
    } else {
        fs38_eat_claims *c = malloc(sizeof *c);
        CHECK(c != NULL);
        CHECK(fs38_eat_verify(exact, tl, &g_kr, NULL, 0, c, NULL, &d) == FS38_OK);
        CHECK(memcmp(c, parsed, sizeof *c) == 0);
        const fs38_eat_claims *p = parsed;
        /* with its own nonce it verifies, with another one it does not */
        CHECK(fs38_eat_verify(exact, tl, &g_kr, p->nonce, p->nonce_len, c, NULL, &d) == FS38_OK);
        uint8_t other[FS38_EAT_NONCE_MAX];
        memcpy(other, p->nonce, p->nonce_len);
        other[0] ^= 1;
        CHECK(fs38_eat_verify(exact, tl, &g_kr, other, p->nonce_len, c, NULL, &d) == FS38_ERR_NONCE);
        free(c);
    }
    free(exact);
    free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = malloc(size ? size : 1);
    CHECK(in != NULL);
    if (size)
        memcpy(in, data, size);
    fs38_eat_claims *ec = malloc(sizeof *ec);
    fs38_receipt_claims *rc = malloc(sizeof *rc);
    CHECK(ec != NULL && rc != NULL);
    fs38_diag d;
    fs38_err e;

    /* 1. as a token / receipt */
    fs38_diag_clear(&d);
    e = fs38_eat_verify(in, size, &g_kr, NONCE, sizeof NONCE, ec, NULL, &d);
    check_diag(e, &d);
    CHECK(verify_code(e));
    if (e == FS38_OK)
        check_eat(ec);
    fs38_diag_clear(&d);
    e = fs38_eat_verify(in, size, &g_kr, NULL, 0, ec, NULL, &d);
    check_diag(e, &d);
    CHECK(verify_code(e) && e != FS38_ERR_NONCE);
    fs38_diag_clear(&d);
    e = fs38_receipt_verify(in, size, &g_kr, NULL, 0, rc, NULL, &d);
    check_diag(e, &d);
    CHECK(verify_code(e) && e != FS38_ERR_NONCE);
    if (e == FS38_OK)
        check_receipt(rc);

    /* 2. as claims, 3. signed and verified again */
    fs38_diag_clear(&d);
    e = fs38_eat_parse(in, size, ec, &d);
    check_diag(e, &d);
    CHECK(e == FS38_OK || e == FS38_ERR_CLAIMS);
    if (e == FS38_OK) {
        check_eat(ec);
        roundtrip(in, size, false, ec);
    }
    fs38_diag_clear(&d);
    e = fs38_receipt_parse(in, size, rc, &d);
    check_diag(e, &d);
    CHECK(e == FS38_OK || e == FS38_ERR_CLAIMS);
    if (e == FS38_OK) {
        check_receipt(rc);
        roundtrip(in, size, true, rc);
    }
    free(rc);
    free(ec);
    free(in);
    return 0;
}
