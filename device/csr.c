/* SPDX-License-Identifier: Apache-2.0 */
/*
 * csr.c — a PKCS#10 CSR signed through the key interface (fs38/keys.h), so that a key Mbed TLS
 * cannot reach (a TPM object, a secure element's slot) signs it. Mbed TLS's CSR writer wants an
 * mbedtls_pk_context it can call; instead of an opaque PSA driver for every keeper, the request
 * is written by Mbed TLS for a throwaway volatile PSA key, then its subjectPublicKey is replaced
 * by the device key's point (same length: the CertificationRequestInfo keeps its layout) and the
 * info is signed again by the device key: ECDSA P-256 / SHA-256, raw r || s converted to DER.
 */
#include <string.h>

#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/x509_csr.h>

#include "csr.h"
#include "fs38/util.h"
#include "host.h"

#define DER_MAX 1024

/* The request for the throwaway key: DER at der[*off .. DER_MAX), its point in tmp_point. */
static int throwaway_csr(const char *subject, uint8_t der[DER_MAX], size_t *off, uint8_t tmp_point[65])
{
    psa_key_attributes_t at = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t tmp = 0;
    psa_set_key_type(&at, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&at, 256);
    psa_set_key_usage_flags(&at, PSA_KEY_USAGE_SIGN_HASH);
    psa_set_key_algorithm(&at, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    if (psa_generate_key(&at, &tmp) != PSA_SUCCESS) {
        host_err("csr: cannot make the request's template key");
        return -1;
    }
    size_t n = 0;
    int ret = psa_export_public_key(tmp, tmp_point, 65, &n) == PSA_SUCCESS && n == 65 ? 0 : -1;
    mbedtls_pk_context pk;
    mbedtls_x509write_csr req;
    mbedtls_pk_init(&pk);
    mbedtls_x509write_csr_init(&req);
    if (!ret)
        ret = mbedtls_pk_setup_opaque(&pk, tmp);
    if (!ret) {
        mbedtls_x509write_csr_set_md_alg(&req, MBEDTLS_MD_SHA256);
        mbedtls_x509write_csr_set_key(&req, &pk);
        ret = mbedtls_x509write_csr_set_subject_name(&req, subject);
    }
    if (!ret)
        ret = mbedtls_x509write_csr_set_key_usage(&req, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
    int len = ret ? ret : mbedtls_x509write_csr_der(&req, der, DER_MAX, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
    mbedtls_x509write_csr_free(&req);
    mbedtls_pk_free(&pk);
    (void)psa_destroy_key(tmp);
    if (len <= 0) {
        host_err("csr: writing the request failed (Mbed TLS error -0x%04x)", (unsigned)-len);
        return -1;
    }
    *off = DER_MAX - (size_t)len;
    return 0;
}

static size_t put_len(uint8_t *p, size_t len)
{
    if (len < 128) {
        p[0] = (uint8_t)len;
        return 1;
    }
    if (len < 256) {
        p[0] = 0x81;
        p[1] = (uint8_t)len;
        return 2;
    }
    p[0] = 0x82;
    p[1] = (uint8_t)(len >> 8);
    p[2] = (uint8_t)len;
    return 3;
}

int device_csr_pem(const fs38_key *key, const char *subject, unsigned char *pem, size_t cap, fs38_err *err)
{
    static const uint8_t alg_id[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
    static const uint8_t bitstr_point[] = { 0x03, 0x42, 0x00 };
    uint8_t der[DER_MAX], out[DER_MAX], tmp_point[65], point[65], hash[32], sig[FS38_KEY_SIG_LEN], sig_der[80];
    size_t off = 0, sig_der_len = 0;
    *err = FS38_OK;
    fs38_err e = fs38_key_public(key, point);
    if (e != FS38_OK) {
        *err = e;
        host_err("csr: cannot read the device public key (%s)", fs38_strerror(e));
        return -1;
    }
    if (throwaway_csr(subject, der, &off, tmp_point))
        return -1;
    /* CertificationRequest ::= SEQUENCE { info SEQUENCE, algorithm, signature BIT STRING } */
    unsigned char *p = der + off, *end = der + DER_MAX;
    size_t len = 0;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) || p + len != end) {
        host_err("csr: unexpected request layout");
        return -1;
    }
    unsigned char *info = p;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) {
        host_err("csr: unexpected request layout");
        return -1;
    }
    const size_t info_len = (size_t)(p - info) + len;
    /* the template key's subjectPublicKey, exactly once, becomes the device key's */
    size_t at = 0, hits = 0;
    for (size_t i = 0; i + sizeof bitstr_point + 65 <= info_len; i++)
        if (memcmp(info + i, bitstr_point, sizeof bitstr_point) == 0 &&
            memcmp(info + i + sizeof bitstr_point, tmp_point, 65) == 0) {
            at = i + sizeof bitstr_point;
            hits++;
        }
    if (hits != 1) {
        host_err("csr: the request's public key was not found once");
        return -1;
    }
    memcpy(info + at, point, 65);
    size_t hl = 0;
    if (psa_hash_compute(PSA_ALG_SHA_256, info, info_len, hash, sizeof hash, &hl) != PSA_SUCCESS) {
        host_err("csr: hashing the request failed");
        return -1;
    }
    e = fs38_key_sign_hash(key, hash, sig);
    if (e != FS38_OK) {
        *err = e;
        host_err("csr: the device key did not sign (%s)", fs38_strerror(e));
        return -1;
    }
    if (mbedtls_ecdsa_raw_to_der(256, sig, sizeof sig, sig_der, sizeof sig_der, &sig_der_len)) {
        host_err("csr: converting the signature failed");
        return -1;
    }
    /* out = SEQUENCE { info, alg_id, BIT STRING { 0, sig_der } } */
    uint8_t bs_hdr[4];
    size_t bs_hl = 0;
    bs_hdr[bs_hl++] = 0x03;
    bs_hl += put_len(bs_hdr + bs_hl, sig_der_len + 1u);
    bs_hdr[bs_hl++] = 0x00;
    const size_t body = info_len + sizeof alg_id + bs_hl + sig_der_len;
    size_t o = 0;
    out[o++] = 0x30;
    o += put_len(out + o, body);
    if (o + body > sizeof out) {
        host_err("csr: request too large");
        return -1;
    }
    memcpy(out + o, info, info_len);
    o += info_len;
    memcpy(out + o, alg_id, sizeof alg_id);
    o += sizeof alg_id;
    memcpy(out + o, bs_hdr, bs_hl);
    o += bs_hl;
    memcpy(out + o, sig_der, sig_der_len);
    o += sig_der_len;
    size_t olen = 0;
    if (mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE REQUEST-----\n", "-----END CERTIFICATE REQUEST-----\n", out, o,
                                 pem, cap, &olen)) {
        host_err("csr: PEM encoding failed");
        return -1;
    }
    return 0;
}
