/* SPDX-License-Identifier: Apache-2.0 */
/* fs38_m4_psa_app.h — PSA algorithms and key types of the application. */
#ifndef FS38_M4_PSA_APP_H
#define FS38_M4_PSA_APP_H
#define PSA_WANT_ALG_SHA_256 1
#define PSA_WANT_ALG_ECDSA 1
#define PSA_WANT_ALG_ECDH 1
#define PSA_WANT_ALG_HMAC 1
#define PSA_WANT_ALG_HKDF 1
#define PSA_WANT_ALG_CTR 1
#define PSA_WANT_ALG_GCM 1
#define PSA_WANT_ECC_SECP_R1_256 1
#define PSA_WANT_KEY_TYPE_ECC_PUBLIC_KEY 1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_BASIC 1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_IMPORT 1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_EXPORT 1
/* no ECC_KEY_PAIR_GENERATE: the device key is provisioned (OTP sector), never generated here */
#define PSA_WANT_KEY_TYPE_AES 1
#define PSA_WANT_KEY_TYPE_HMAC 1
#define PSA_WANT_KEY_TYPE_DERIVE 1
#define PSA_WANT_KEY_TYPE_RAW_DATA 1
#endif
