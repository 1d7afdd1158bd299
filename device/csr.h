/* SPDX-License-Identifier: Apache-2.0 */
/* csr.h — a PKCS#10 CSR (PEM) for the device key, signed through the key interface (csr.c). */
#ifndef FS38_DEVICE_CSR_H
#define FS38_DEVICE_CSR_H

#include <stddef.h>
#include "fs38/keys.h"

/* The CSR of key for subject (an X.509 name string: "CN=...,O=..."), key usage digitalSignature,
 * into pem (cap bytes, NUL-terminated). 0, or -1 with the reason printed and, when the key
 * failed, its code in *err (FS38_OK otherwise). */
int device_csr_pem(const fs38_key *key, const char *subject, unsigned char *pem, size_t cap, fs38_err *err);

#endif
