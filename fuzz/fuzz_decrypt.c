/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_decrypt.c — the encryption-info (COSE_Encrypt) parser and the streaming decryptor.
 *
 * Input: [1 byte chunk size][2 bytes info length][info][ciphertext]. The info is parsed and,
 * with the draft's A128KW KEK and a device ECDH key, initialised; the rest is streamed in
 * chunks. Invariants: no crash or sanitizer report, parse never accepts a non-16-byte CTR IV
 * or a non-12-byte GCM IV, output length never exceeds what the API promises, finish always
 * releases the CEK. */
#include <stdlib.h>
#include <string.h>
#include "fs38/decrypt.h"

#define FUZZ_NAME "fuzz_decrypt"
#include "fuzz_common.h"

static psa_key_id_t ecdh;
static const uint8_t kek[16] = "aaaaaaaaaaaaaaaa";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CHECK(psa_crypto_init() == PSA_SUCCESS);
    static const uint8_t d[32] = { 0x60, 0xfe, 0x6d, 0xd6, 0xd8, 0x5d, 0x57, 0x40, 0xa5, 0x34, 0x9b,
                                   0x6f, 0x91, 0x26, 0x7e, 0xea, 0xc5, 0xba, 0x81, 0xb8, 0xcb, 0x53,
                                   0xee, 0x24, 0x9e, 0x4b, 0x4e, 0xb1, 0x02, 0xc4, 0x76, 0xb3 };
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&at, PSA_ALG_ECDH);
    CHECK(psa_import_key(&at, d, sizeof d, &ecdh) == PSA_SUCCESS);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t chunk = (size_t)data[0] + 1;
    size_t info_len = (size_t)data[1] << 8 | data[2];
    if (info_len > size - 3)
        info_len = size - 3;
    uint8_t *info = malloc(info_len ? info_len : 1); /* exact size: ASan sees any over-read */
    memcpy(info, data + 3, info_len);
    const uint8_t *ct = data + 3 + info_len;
    size_t ct_len = size - 3 - info_len;

    fs38_encryption_info ei;
    fs38_diag dg;
    if (fs38_decrypt_parse(info, info_len, &ei, &dg) == FS38_OK) {
        CHECK(ei.content_alg == FS38_COSE_ALG_A128CTR || ei.content_alg == FS38_COSE_ALG_A128GCM);
        CHECK(ei.iv_len == (ei.content_alg == FS38_COSE_ALG_A128CTR ? 16u : 12u));
        CHECK(ei.wrapped_cek_len == 24);
    }
    fs38_decrypt_keys keys = { ecdh, kek, sizeof kek, NULL, 0 };
    fs38_decryptor d;
    if (fs38_decrypt_begin(&d, info, info_len, &keys, &dg) == FS38_OK) {
        uint8_t out[256 + 16];
        size_t total = 0;
        for (size_t off = 0; off < ct_len; off += chunk) {
            size_t n = ct_len - off < chunk ? ct_len - off : chunk, o = 0;
            if (fs38_decrypt_update(&d, ct + off, n, out, sizeof out, &o) != FS38_OK)
                break;
            CHECK(o <= n + 16);
            total += o;
        }
        size_t o = 0;
        fs38_err e = fs38_decrypt_finish(&d, out, sizeof out, &o);
        CHECK(!d.active && d.cek == 0);
        if (e == FS38_OK)
            CHECK(total + o == (ei.content_alg == FS38_COSE_ALG_A128GCM ? ct_len - 16 : ct_len));
    }
    CHECK(memchr(dg.msg, 0, sizeof dg.msg) != NULL);
    free(info);
    return 0;
}
