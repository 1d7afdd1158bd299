/* SPDX-License-Identifier: Apache-2.0 */
/* identity.c — UEID, device key, certificate and lifecycle state (controls 6, 8). See
 * fs38/identity.h. Everything lives in the sealed store; the key is a persistent PSA key. */
#include <string.h>
#include "fs38/event.h"
#include "fs38/identity.h"
#include "fs38/util.h"

#define REC_UEID "id/ueid"
#define REC_LC "id/lc"
#define REC_CERT "id/cert"

fs38_err fs38_identity_init(fs38_identity *id, fs38_store *store, psa_key_id_t key)
{
    if (!id || !store || key == 0)
        return FS38_ERR_ARG;
    memset(id, 0, sizeof *id);
    id->store = store;
    id->key = key;
    id->dev_key = &id->psa_key;
    return fs38_key_psa(&id->psa_key, key);
}

fs38_err fs38_identity_use_key(fs38_identity *id, const fs38_key *key)
{
    if (!id || !key || !key->ops)
        return FS38_ERR_ARG;
    id->dev_key = key;
    return FS38_OK;
}

static const fs38_key *dev_key(const fs38_identity *id)
{
    return id->dev_key ? id->dev_key : &id->psa_key;
}

const char *fs38_lifecycle_name(fs38_lifecycle lc)
{
    switch (lc) {
    case FS38_LIFECYCLE_BLANK: return "blank";
    case FS38_LIFECYCLE_PROVISIONED: return "provisioned";
    case FS38_LIFECYCLE_OPERATIONAL: return "operational";
    case FS38_LIFECYCLE_DECOMMISSIONING: return "decommissioning";
    case FS38_LIFECYCLE_DECOMMISSIONED: return "decommissioned";
    }
    return "unknown";
}

fs38_err fs38_identity_lifecycle(fs38_identity *id, fs38_lifecycle *lc)
{
    uint8_t v = 0;
    size_t n = 0;
    if (!id || !id->store || !lc)
        return FS38_ERR_ARG;
    fs38_err e = fs38_store_get(id->store, REC_LC, &v, sizeof v, &n);
    if (e == FS38_ERR_NOT_FOUND) {
        *lc = FS38_LIFECYCLE_BLANK;
        return FS38_OK;
    }
    if (e != FS38_OK)
        return fs38_diag_set(&id->diag, e, "cannot read the lifecycle state (%s)", fs38_strerror(e));
    if (n != 1 || v > FS38_LIFECYCLE_DECOMMISSIONED)
        return fs38_diag_set(&id->diag, FS38_ERR_STORE_CORRUPT, "invalid lifecycle record");
    *lc = (fs38_lifecycle)v;
    return FS38_OK;
}

fs38_err fs38_identity_set_lifecycle(fs38_identity *id, fs38_lifecycle lc)
{
    if (!id || !id->store || (unsigned)lc > FS38_LIFECYCLE_DECOMMISSIONED)
        return FS38_ERR_ARG;
    const uint8_t v = (uint8_t)lc;
    fs38_err e = fs38_store_put(id->store, REC_LC, &v, 1);
    if (e != FS38_OK)
        return fs38_diag_set(&id->diag, e, "cannot record lifecycle %s (%s)", fs38_lifecycle_name(lc),
                             fs38_strerror(e));
    return FS38_OK;
}

static FS38_NODISCARD fs38_err generate_key(fs38_identity *id)
{
    /* a key left by an interrupted provisioning, or from the device's previous life, is replaced */
    fs38_err e = fs38_key_generate(dev_key(id));
    if (e != FS38_OK)
        return fs38_diag_set(&id->diag, e == FS38_ERR_STORE_FULL || e == FS38_ERR_IO ? e : FS38_ERR_CRYPTO,
                             "device key generation failed (%s)", fs38_strerror(e));
    return FS38_OK;
}

fs38_err fs38_identity_provision(fs38_identity *id)
{
    fs38_lifecycle lc = FS38_LIFECYCLE_BLANK;
    uint8_t ueid[FS38_UEID_LEN];
    if (!id || !id->store)
        return FS38_ERR_ARG;
    fs38_err e = fs38_identity_lifecycle(id, &lc);
    if (e != FS38_OK)
        return e;
    if (lc == FS38_LIFECYCLE_DECOMMISSIONING)
        return fs38_diag_set(&id->diag, FS38_ERR_DECOMMISSIONED,
                             "a decommissioning is unfinished: complete it before provisioning");
    if (lc != FS38_LIFECYCLE_BLANK && lc != FS38_LIFECYCLE_DECOMMISSIONED)
        return fs38_diag_set(&id->diag, FS38_ERR_PROVISIONED, "device already provisioned (lifecycle %s)",
                             fs38_lifecycle_name(lc));
    e = generate_key(id);
    if (e != FS38_OK)
        return e;
    ueid[0] = FS38_UEID_TYPE_RAND;
    if (psa_generate_random(ueid + 1, FS38_UEID_LEN - 1u) != PSA_SUCCESS)
        return fs38_diag_set(&id->diag, FS38_ERR_CRYPTO, "random UEID generation failed");
    e = fs38_store_put(id->store, REC_UEID, ueid, sizeof ueid);
    if (e == FS38_OK)
        e = fs38_store_delete(id->store, REC_CERT); /* a certificate of an earlier life */
    if (e != FS38_OK)
        return fs38_diag_set(&id->diag, e, "cannot store the identity (%s)", fs38_strerror(e));
    e = fs38_identity_set_lifecycle(id, FS38_LIFECYCLE_PROVISIONED); /* the commit point */
    if (e != FS38_OK)
        return e;
    fs38_event(FS38_EV_PROVISIONED, FS38_SEV_NOTICE, 0, "device key and UEID generated");
    return FS38_OK;
}

fs38_err fs38_identity_ueid(fs38_identity *id, uint8_t ueid[FS38_UEID_LEN])
{
    size_t n = 0;
    if (!id || !id->store || !ueid)
        return FS38_ERR_ARG;
    fs38_err e = fs38_store_get(id->store, REC_UEID, ueid, FS38_UEID_LEN, &n);
    if (e == FS38_ERR_NOT_FOUND || e == FS38_ERR_BUFFER)
        return fs38_diag_set(&id->diag, e == FS38_ERR_NOT_FOUND ? FS38_ERR_NOT_PROVISIONED : FS38_ERR_STORE_CORRUPT,
                             e == FS38_ERR_NOT_FOUND ? "no UEID: device not provisioned" : "invalid UEID record");
    if (e != FS38_OK)
        return fs38_diag_set(&id->diag, e, "cannot read the UEID (%s)", fs38_strerror(e));
    if (n != FS38_UEID_LEN || ueid[0] != FS38_UEID_TYPE_RAND)
        return fs38_diag_set(&id->diag, FS38_ERR_STORE_CORRUPT, "invalid UEID record");
    return FS38_OK;
}

fs38_err fs38_identity_public_key(fs38_identity *id, uint8_t point[FS38_P256_POINT_LEN])
{
    if (!id || !point)
        return FS38_ERR_ARG;
    fs38_err e = fs38_key_public(dev_key(id), point);
    if (e == FS38_ERR_NOT_FOUND)
        return fs38_diag_set(&id->diag, FS38_ERR_NOT_PROVISIONED, "no device key: device not provisioned");
    if (e != FS38_OK)
        return fs38_diag_set(&id->diag, e == FS38_ERR_IO ? e : FS38_ERR_CRYPTO,
                             "cannot read the device public key (%s)", fs38_strerror(e));
    return FS38_OK;
}

static FS38_NODISCARD fs38_err usable(fs38_identity *id)
{
    fs38_lifecycle lc = FS38_LIFECYCLE_BLANK;
    fs38_err e = fs38_identity_lifecycle(id, &lc);
    if (e != FS38_OK)
        return e;
    if (lc == FS38_LIFECYCLE_DECOMMISSIONING || lc == FS38_LIFECYCLE_DECOMMISSIONED)
        return fs38_diag_set(&id->diag, FS38_ERR_DECOMMISSIONED, "device is %s: its key is not usable",
                             fs38_lifecycle_name(lc));
    if (lc == FS38_LIFECYCLE_BLANK)
        return fs38_diag_set(&id->diag, FS38_ERR_NOT_PROVISIONED, "device not provisioned");
    return FS38_OK;
}

fs38_err fs38_identity_signing_key(fs38_identity *id, psa_key_id_t *key)
{
    if (!id || !key)
        return FS38_ERR_ARG;
    if (dev_key(id) != &id->psa_key)
        return fs38_diag_set(&id->diag, FS38_ERR_UNSUPPORTED_ALG,
                             "the device key is not a PSA key (it is kept in a %s): use its key interface",
                             "hardware keeper");
    fs38_err e = usable(id);
    if (e != FS38_OK)
        return e;
    *key = id->key;
    return FS38_OK;
}

fs38_err fs38_identity_device_key(fs38_identity *id, const fs38_key **key)
{
    if (!id || !key)
        return FS38_ERR_ARG;
    fs38_err e = usable(id);
    if (e != FS38_OK)
        return e;
    *key = dev_key(id);
    return FS38_OK;
}

/* The DER must hold BIT STRING(66) { 0 unused bits, 04 || x || y }. */
static bool der_has_point(const uint8_t *der, size_t len, const uint8_t point[FS38_P256_POINT_LEN])
{
    static const uint8_t prefix[3] = { 0x03, 0x42, 0x00 };
    const size_t need = sizeof prefix + FS38_P256_POINT_LEN;
    for (size_t i = 0; len >= need && i <= len - need; i++)
        if (memcmp(der + i, prefix, sizeof prefix) == 0 &&
            memcmp(der + i + sizeof prefix, point, FS38_P256_POINT_LEN) == 0)
            return true;
    return false;
}

fs38_err fs38_identity_install_cert(fs38_identity *id, const uint8_t *der, size_t len,
                                    const uint8_t point[FS38_P256_POINT_LEN])
{
    fs38_lifecycle lc = FS38_LIFECYCLE_BLANK;
    uint8_t own[FS38_P256_POINT_LEN];
    if (!id || !der || !point || len == 0)
        return FS38_ERR_ARG;
    if (len > FS38_CERT_MAX)
        return fs38_diag_set(&id->diag, FS38_ERR_LIMIT, "certificate is %zu bytes, at most %u fit", len,
                             FS38_CERT_MAX);
    fs38_err e = fs38_identity_lifecycle(id, &lc);
    if (e != FS38_OK)
        return e;
    if (lc != FS38_LIFECYCLE_PROVISIONED && lc != FS38_LIFECYCLE_OPERATIONAL)
        return fs38_diag_set(&id->diag, lc == FS38_LIFECYCLE_BLANK ? FS38_ERR_NOT_PROVISIONED : FS38_ERR_DECOMMISSIONED,
                             "cannot install a certificate: device is %s", fs38_lifecycle_name(lc));
    e = fs38_identity_public_key(id, own);
    if (e != FS38_OK)
        return e;
    if (memcmp(point, own, sizeof own) != 0)
        return fs38_diag_set(&id->diag, FS38_ERR_CERT_MISMATCH,
                             "the certificate's public key is not this device's key");
    if (!der_has_point(der, len, own))
        return fs38_diag_set(&id->diag, FS38_ERR_CERT_MISMATCH,
                             "the certificate does not carry this device's public key");
    e = fs38_store_put(id->store, REC_CERT, der, len);
    if (e != FS38_OK)
        return fs38_diag_set(&id->diag, e, "cannot store the certificate (%s)", fs38_strerror(e));
    return fs38_identity_set_lifecycle(id, FS38_LIFECYCLE_OPERATIONAL);
}

fs38_err fs38_identity_cert(fs38_identity *id, uint8_t *buf, size_t cap, size_t *len)
{
    if (!id || !len)
        return FS38_ERR_ARG;
    fs38_err e = fs38_store_get(id->store, REC_CERT, buf, cap, len);
    if (e != FS38_OK && e != FS38_ERR_NOT_FOUND && e != FS38_ERR_BUFFER)
        return fs38_diag_set(&id->diag, e, "cannot read the certificate (%s)", fs38_strerror(e));
    return e;
}
