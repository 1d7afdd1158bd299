/* SPDX-License-Identifier: Apache-2.0 */
/*
 * its.c — PSA Internal Trusted Storage (psa_its_*) on top of the sealed store.
 *
 * Mbed TLS keeps its persistent keys through psa_its_set/get/get_info/remove. Built without
 * MBEDTLS_PSA_ITS_FILE_C (its plaintext-file backend), it calls these instead, so persistent
 * PSA keys end up AEAD-sealed, rollback-protected and power-cut safe in the fs38 store bound
 * with fs38_its_bind().
 *
 * Item uid -> store record "its/<uid as 16 hex digits>", value = u32 LE create flags || data.
 * Unbound: get/get_info report PSA_ERROR_DOES_NOT_EXIST, set/remove PSA_ERROR_STORAGE_FAILURE.
 * Error mapping: not found -> DOES_NOT_EXIST; store full -> INSUFFICIENT_STORAGE; corrupt or
 * rolled back -> DATA_CORRUPT; anything else -> STORAGE_FAILURE.
 *
 * Compiles with or without <psa/internal_trusted_storage.h> on the include path (Mbed TLS
 * ships no such header; a platform provides it when MBEDTLS_PSA_ITS_FILE_C is off): without
 * it the PSA ITS 1.0 declarations are repeated here.
 */
#include <string.h>
#include "fs38/store.h"
#include "fs38/util.h"

#if defined(__has_include)
#if __has_include(<psa/internal_trusted_storage.h>)
#include <psa/internal_trusted_storage.h>
#define FS38_HAVE_PSA_ITS_H 1
#endif
#endif

#ifndef FS38_HAVE_PSA_ITS_H
/* PSA Certified Secure Storage API 1.0, Internal Trusted Storage. */
typedef uint32_t psa_storage_create_flags_t;
typedef uint64_t psa_storage_uid_t;
struct psa_storage_info_t {
    uint32_t size;
    psa_storage_create_flags_t flags;
};
#define PSA_STORAGE_FLAG_NONE 0u
#define PSA_STORAGE_FLAG_WRITE_ONCE (1u << 0)
psa_status_t psa_its_set(psa_storage_uid_t uid, uint32_t data_length, const void *p_data,
                         psa_storage_create_flags_t create_flags);
psa_status_t psa_its_get(psa_storage_uid_t uid, uint32_t data_offset, uint32_t data_length, void *p_data,
                         size_t *p_data_length);
psa_status_t psa_its_get_info(psa_storage_uid_t uid, struct psa_storage_info_t *p_info);
psa_status_t psa_its_remove(psa_storage_uid_t uid);
#endif

/* Flags of the API 1.0 that need no action here: every item is confidential and
 * replay-protected anyway. */
#define ITS_FLAG_NO_CONFIDENTIALITY (1u << 1)
#define ITS_FLAG_NO_REPLAY_PROTECTION (1u << 2)
#define ITS_FLAGS_KNOWN                                                                           \
    ((uint32_t)PSA_STORAGE_FLAG_WRITE_ONCE | ITS_FLAG_NO_CONFIDENTIALITY | ITS_FLAG_NO_REPLAY_PROTECTION)

#define ITS_DATA_MAX (FS38_STORE_VALUE_MAX - 4u)

static fs38_store *g_store;
static uint8_t g_item[FS38_STORE_VALUE_MAX]; /* one item in the clear, wiped after each call */

void fs38_its_bind(fs38_store *s)
{
    g_store = s;
}

static void item_name(psa_storage_uid_t uid, char name[21])
{
    static const char hex[] = "0123456789abcdef";
    memcpy(name, "its/", 4);
    for (unsigned i = 0; i < 16; i++)
        name[4 + i] = hex[(uid >> (60 - 4 * i)) & 0xFu];
    name[20] = 0;
}

static psa_status_t to_psa(fs38_err e)
{
    switch (e) {
    case FS38_OK: return PSA_SUCCESS;
    case FS38_ERR_NOT_FOUND: return PSA_ERROR_DOES_NOT_EXIST;
    case FS38_ERR_STORE_FULL: return PSA_ERROR_INSUFFICIENT_STORAGE;
    case FS38_ERR_STORE_CORRUPT:
    case FS38_ERR_STORE_ROLLBACK: return PSA_ERROR_DATA_CORRUPT;
    case FS38_ERR_ARG: return PSA_ERROR_INVALID_ARGUMENT;
    default: return PSA_ERROR_STORAGE_FAILURE;
    }
}

/* Load an item into g_item; *len = its data length (after the flags word). */
static psa_status_t load(psa_storage_uid_t uid, uint32_t *flags, uint32_t *len)
{
    char name[21];
    size_t n = 0;
    if (!g_store)
        return PSA_ERROR_DOES_NOT_EXIST;
    item_name(uid, name);
    fs38_err e = fs38_store_get(g_store, name, g_item, sizeof g_item, &n);
    if (e != FS38_OK) {
        fs38_wipe(g_item, sizeof g_item);
        return to_psa(e);
    }
    if (n < 4) {
        fs38_wipe(g_item, sizeof g_item);
        return PSA_ERROR_DATA_CORRUPT;
    }
    *flags = (uint32_t)g_item[0] | (uint32_t)g_item[1] << 8 | (uint32_t)g_item[2] << 16 |
             (uint32_t)g_item[3] << 24;
    *len = (uint32_t)(n - 4u);
    return PSA_SUCCESS;
}

psa_status_t psa_its_set(psa_storage_uid_t uid, uint32_t data_length, const void *p_data,
                         psa_storage_create_flags_t create_flags)
{
    uint32_t flags, len;
    char name[21];
    if (uid == 0 || (!p_data && data_length) || data_length > ITS_DATA_MAX)
        return PSA_ERROR_INVALID_ARGUMENT;
    if ((uint32_t)create_flags & ~ITS_FLAGS_KNOWN)
        return PSA_ERROR_NOT_SUPPORTED;
    if (!g_store)
        return PSA_ERROR_STORAGE_FAILURE;
    psa_status_t st = load(uid, &flags, &len);
    fs38_wipe(g_item, sizeof g_item);
    if (st == PSA_SUCCESS && (flags & PSA_STORAGE_FLAG_WRITE_ONCE))
        return PSA_ERROR_NOT_PERMITTED;
    if (st != PSA_SUCCESS && st != PSA_ERROR_DOES_NOT_EXIST)
        return st;
    const uint32_t f = (uint32_t)create_flags;
    g_item[0] = (uint8_t)f;
    g_item[1] = (uint8_t)(f >> 8);
    g_item[2] = (uint8_t)(f >> 16);
    g_item[3] = (uint8_t)(f >> 24);
    if (data_length)
        memcpy(g_item + 4, p_data, data_length);
    item_name(uid, name);
    fs38_err e = fs38_store_put(g_store, name, g_item, 4u + data_length);
    fs38_wipe(g_item, sizeof g_item);
    return to_psa(e);
}

psa_status_t psa_its_get(psa_storage_uid_t uid, uint32_t data_offset, uint32_t data_length, void *p_data,
                         size_t *p_data_length)
{
    uint32_t flags, len;
    if (!p_data && data_length)
        return PSA_ERROR_INVALID_ARGUMENT;
    psa_status_t st = load(uid, &flags, &len);
    if (st == PSA_SUCCESS) {
        if (data_offset > len || data_length > len - data_offset) {
            st = PSA_ERROR_INVALID_ARGUMENT;
        } else {
            if (data_length)
                memcpy(p_data, g_item + 4 + data_offset, data_length);
            if (p_data_length)
                *p_data_length = data_length;
        }
    }
    fs38_wipe(g_item, sizeof g_item);
    return st;
}

psa_status_t psa_its_get_info(psa_storage_uid_t uid, struct psa_storage_info_t *p_info)
{
    uint32_t flags, len;
    if (!p_info)
        return PSA_ERROR_INVALID_ARGUMENT;
    psa_status_t st = load(uid, &flags, &len);
    fs38_wipe(g_item, sizeof g_item);
    if (st == PSA_SUCCESS) {
        p_info->size = len;
        p_info->flags = (psa_storage_create_flags_t)flags;
    }
    return st;
}

psa_status_t psa_its_remove(psa_storage_uid_t uid)
{
    uint32_t flags, len;
    char name[21];
    if (!g_store)
        return PSA_ERROR_STORAGE_FAILURE;
    psa_status_t st = load(uid, &flags, &len);
    fs38_wipe(g_item, sizeof g_item);
    if (st != PSA_SUCCESS)
        return st;
    if (flags & PSA_STORAGE_FLAG_WRITE_ONCE)
        return PSA_ERROR_NOT_PERMITTED;
    item_name(uid, name);
    return to_psa(fs38_store_delete(g_store, name));
}
