/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keys.h — the reference device's own keys, as PSA key ids (they never leave the device):
 * the key-agreement key for encrypted updates (ECDH-ES+A128KW) and an optional pre-shared
 * key-encryption key (A128KW).
 */
#ifndef FS38_DEVICE_KEYS_H
#define FS38_DEVICE_KEYS_H

#include "device.h"
#include "fs38/decrypt.h"

#define DEV_KEY_ECDH ((psa_key_id_t)0x00380001u) /* P-256, ECDH, persistent */
#define DEV_KEY_KEK ((psa_key_id_t)0x00380002u)  /* 16-byte A128KW KEK, persistent */
#define DEV_KEY_IDENTITY ((psa_key_id_t)0x00380003u) /* P-256 device key: ECDSA, not exportable (identity.h) */
#define DEV_KEY_PSK ((psa_key_id_t)0x00380004u) /* TLS/DTLS pre-shared key (cmd_net.c --psk), derive only */
#define DEV_KEY_TPM_TLS ((psa_key_id_t)0x00380005u) /* the TPM's device key registered with PSA for TLS (tpm_se.c) */
/* Every persistent key of the device has an id in [DEV_KEY_FIRST, DEV_KEY_LAST]: decommissioning
 * destroys each one that exists (cmd_identity.c). */
#define DEV_KEY_FIRST ((psa_key_id_t)0x00380001u)
#define DEV_KEY_LAST ((psa_key_id_t)0x0038001Fu)

/* Make the device's persistent key storage available (call after device_open). */
int device_keys_open(device *d);
/* The ECDH key, generated inside the device on first use. 0 or -1. */
int device_ecdh_key(device *d, psa_key_id_t *key);
/* Import a vendor-generated P-256 key (PEM/DER, len includes the PEM's NUL) as the device's
 * key-agreement key (replacing any). */
int device_import_ecdh_key(device *d, const uint8_t *pem, size_t len);
/* Install a pre-shared A128KW KEK (16 bytes). */
int device_install_kek(device *d, const uint8_t kek[16]);
/* Keys for fs38_update_begin; kek_buf receives the KEK if one is installed (wipe it after). */
int device_decrypt_keys(device *d, fs38_decrypt_keys *k, uint8_t kek_buf[16]);

#endif
