/* SPDX-License-Identifier: Apache-2.0 */
/* fs38_m4_psa_boot.h — PSA algorithms and key types of the bootloader. */
#ifndef FS38_M4_PSA_BOOT_H
#define FS38_M4_PSA_BOOT_H
#define PSA_WANT_ALG_SHA_256 1
#define PSA_WANT_ALG_ECDSA 1
#define PSA_WANT_ECC_SECP_R1_256 1
#define PSA_WANT_KEY_TYPE_ECC_PUBLIC_KEY 1
#endif
