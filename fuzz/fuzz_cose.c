/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_cose.c — libFuzzer target for COSE_Sign1 / COSE_Mac0 verification (fs38/cose.h).
 *
 * Fixed keyring: the SUIT draft's example P-256 public key and the HMAC-SHA-256 key 'a'*32.
 * Each input (an exact-size heap copy) is verified as COSE_Sign1 and as COSE_Mac0, with the
 * payload attached (detached = NULL) and detached (the fixed DETACHED bytes below: the
 * encoded SUIT_Digest of draft example 0, so the example's real signature verifies), and for
 * MAC0 also with external AAD. Invariants: results are one of the documented codes, a
 * rejection fills the diagnostic with that code and a terminated message, and on success
 * everything fs38_cose_info points at lies inside the message, the signer index names a key
 * of the right kind and the algorithm is one the function accepts. Finally the input is used
 * as a payload: fs38_cose_mac0_create (attached and detached) must produce messages that
 * verify and give the payload back.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <psa/crypto.h>
#include "fs38/cose.h"

#define FUZZ_NAME "fuzz_cose"
#include "fuzz_common.h"

/* [-16, h'6658ea56...'] — the SUIT_Digest example 0's COSE_Sign1 signs (detached). */
static const uint8_t DETACHED[36] = {
    0x82, 0x2f, 0x58, 0x20, 0x66, 0x58, 0xea, 0x56, 0x02, 0x62, 0x69, 0x6d, 0xd1, 0xf1, 0x3b, 0x78, 0x22, 0x39,
    0xa0, 0x64, 0xda, 0x7c, 0x6c, 0x5c, 0xba, 0xf5, 0x2f, 0xde, 0xd4, 0x28, 0xa6, 0xfc, 0x83, 0xc7, 0xe5, 0xaf
};
static const uint8_t AAD[] = { 'f', 's', '3', '8', '-', 'a', 'a', 'd' };

static fs38_keyring kr;
static psa_key_id_t hmac_key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    hmac_key = fuzz_example_keyring(&kr, 1);
    return 0;
}

static bool inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t len)
{
    return p >= buf && p <= buf + len && n <= (size_t)(buf + len - p);
}

static void check_diag(fs38_err e, const fs38_diag *d)
{
    CHECK(memchr(d->msg, 0, sizeof d->msg) != NULL);
    if (e) {
        CHECK(d->err == e);
        CHECK(d->msg[0] != 0);
    }
}

static void verify(bool sign1, const uint8_t *msg, size_t len, const uint8_t *det, size_t det_len,
                   const uint8_t *aad, size_t aad_len)
{
    fs38_cose_info info;
    fs38_diag d;
    memset(&info, 0xa5, sizeof info);
    fs38_diag_clear(&d);
    fs38_err e = sign1 ? fs38_cose_sign1_verify(msg, len, det, det_len, aad, aad_len, &kr, &info, &d)
                       : fs38_cose_mac0_verify(msg, len, det, det_len, aad, aad_len, &kr, &info, &d);
    check_diag(e, &d);
    if (e) {
        CHECK(e == FS38_ERR_COSE_FORMAT || e == FS38_ERR_UNSUPPORTED_ALG || e == FS38_ERR_UNSUPPORTED_PARAM ||
              e == (sign1 ? FS38_ERR_BAD_SIGNATURE : FS38_ERR_BAD_MAC) || (sign1 && e == FS38_ERR_UNTRUSTED_SIGNER));
        return;
    }
    CHECK(info.signer < kr.n);
    CHECK(kr.a[info.signer].kind == (sign1 ? FS38_KEY_P256_VERIFY : FS38_KEY_HMAC256));
    if (sign1)
        CHECK(info.alg == FS38_COSE_ALG_ES256 || info.alg == FS38_COSE_ALG_ESP256);
    else
        CHECK(info.alg == FS38_COSE_ALG_HMAC256);
    if (det) {
        CHECK(info.payload == NULL && info.payload_len == 0);
    } else {
        CHECK(info.payload != NULL && inside(info.payload, info.payload_len, msg, len));
    }
    if (info.kid)
        CHECK(inside(info.kid, info.kid_len, msg, len));
    else
        CHECK(info.kid_len == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *msg = malloc(size ? size : 1);
    CHECK(msg != NULL);
    if (size)
        memcpy(msg, data, size);

    verify(true, msg, size, NULL, 0, NULL, 0);
    verify(true, msg, size, DETACHED, sizeof DETACHED, NULL, 0);
    verify(false, msg, size, NULL, 0, NULL, 0);
    verify(false, msg, size, DETACHED, sizeof DETACHED, NULL, 0);
    verify(false, msg, size, NULL, 0, AAD, sizeof AAD);
    verify(false, msg, size, DETACHED, sizeof DETACHED, AAD, sizeof AAD);

    /* The input as a payload: create must round-trip through verify. */
    size_t cap = size + 64;
    uint8_t *mac = malloc(cap);
    CHECK(mac != NULL);
    for (int detached = 0; detached < 2; detached++) {
        size_t mac_len = 0;
        CHECK(fs38_cose_mac0_create(hmac_key, msg, size, detached != 0, mac, cap, &mac_len) == FS38_OK);
        CHECK(mac_len <= cap);
        uint8_t *exact = malloc(mac_len);
        CHECK(exact != NULL);
        memcpy(exact, mac, mac_len);
        fs38_cose_info info;
        fs38_diag d;
        fs38_err e = fs38_cose_mac0_verify(exact, mac_len, detached ? msg : NULL, size, NULL, 0, &kr, &info, &d);
        CHECK(e == FS38_OK);
        if (!detached)
            CHECK(info.payload_len == size && (size == 0 || memcmp(info.payload, msg, size) == 0));
        /* and not with AAD, nor as a COSE_Sign1 */
        CHECK(fs38_cose_mac0_verify(exact, mac_len, detached ? msg : NULL, size, AAD, sizeof AAD, &kr, &info,
                                    &d) == FS38_ERR_BAD_MAC);
        CHECK(fs38_cose_sign1_verify(exact, mac_len, detached ? msg : NULL, size, NULL, 0, &kr, &info, &d) ==
              FS38_ERR_COSE_FORMAT);
        free(exact);
    }
    /* too small an output buffer is an error, never an overflow */
    uint8_t *tiny = malloc(size / 2 + 1);
    CHECK(tiny != NULL);
    size_t tl = 0;
    CHECK(fs38_cose_mac0_create(hmac_key, msg, size, false, tiny, size / 2 + 1, &tl) != FS38_OK);
    free(tiny);
    free(mac);
    free(msg);
    return 0;
}
