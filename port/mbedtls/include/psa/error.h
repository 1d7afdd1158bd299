/* SPDX-License-Identifier: Apache-2.0 */
/*
 * psa/error.h — for Mbed TLS built without MBEDTLS_PSA_ITS_FILE_C ("native ITS"): the
 * platform supplies the PSA storage headers. The status type and codes are Mbed TLS's own.
 */
#ifndef FS38_PSA_ERROR_H
#define FS38_PSA_ERROR_H
#include "psa/crypto_types.h"
#include "psa/crypto_values.h"
#endif
