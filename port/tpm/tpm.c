/* SPDX-License-Identifier: Apache-2.0 */
/* tpm.c — fs38's TPM 2.0 backend over the TSS2 ESAPI (see fs38_tpm.h). */
#include "fs38_tpm.h"

#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "fs38/util.h"

#define ESYS(t) ((ESYS_CONTEXT *)(t)->esys)
#define PW ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE

static const TPMA_OBJECT key_attrs = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                     TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                     TPMA_OBJECT_NODA;

/* ---- errors ---------------------------------------------------------------------------------- */

static bool is_tpm_rc(TSS2_RC rc)
{
    return (rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER;
}

/* TPM_RC_HANDLE (format 1, any handle number) or an NV index that does not exist. */
static bool rc_absent(TSS2_RC rc)
{
    if (!is_tpm_rc(rc))
        return false;
    if ((rc & TPM2_RC_FMT1) && (rc & 0x3Fu) == (TPM2_RC_HANDLE & 0x3Fu))
        return true;
    return rc == TPM2_RC_HANDLE;
}

static FS38_NODISCARD fs38_err fail(fs38_tpm *t, TSS2_RC rc, const char *what)
{
    fs38_err e = rc_absent(rc) ? FS38_ERR_NOT_FOUND : is_tpm_rc(rc) ? FS38_ERR_CRYPTO : FS38_ERR_IO;
    return fs38_diag_set(&t->diag, e, "TPM %s failed: %s%s", what, Tss2_RC_Decode(rc),
                         e == FS38_ERR_IO ? " (the TPM does not answer)" : "");
}

/* Forget the session (after a failed command, or at close): flushed when the TPM still answers. */
static void drop_session(fs38_tpm *t)
{
    if (t->session && t->esys)
        (void)Esys_FlushContext(ESYS(t), t->session);
    t->session = 0;
}

/* ---- connection ------------------------------------------------------------------------------ */

fs38_err fs38_tpm_open(fs38_tpm *t, const char *tcti)
{
    if (!t || !tcti)
        return FS38_ERR_ARG;
    memset(t, 0, sizeof *t);
    /* the TSS logs every TPM error on stderr itself: fs38 reports them in its own words */
    setenv("TSS2_LOG", "all+none", 0);
    TSS2_TCTI_CONTEXT *tc = NULL;
    TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti, &tc);
    if (rc != TSS2_RC_SUCCESS)
        return fs38_diag_set(&t->diag, FS38_ERR_IO, "cannot reach the TPM at '%s': %s", tcti, Tss2_RC_Decode(rc));
    ESYS_CONTEXT *ec = NULL;
    rc = Esys_Initialize(&ec, tc, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        Tss2_TctiLdr_Finalize(&tc);
        return fs38_diag_set(&t->diag, FS38_ERR_IO, "cannot reach the TPM at '%s': %s", tcti, Tss2_RC_Decode(rc));
    }
    t->tcti = tc;
    t->esys = ec;
    return FS38_OK;
}

void fs38_tpm_close(fs38_tpm *t)
{
    if (!t || !t->esys)
        return;
    drop_session(t);
    ESYS_CONTEXT *ec = ESYS(t);
    if (t->transient)
        (void)Esys_FlushContext(ec, t->transient);
    Esys_Finalize(&ec);
    TSS2_TCTI_CONTEXT *tc = t->tcti;
    Tss2_TctiLdr_Finalize(&tc);
    t->esys = NULL;
    t->tcti = NULL;
    t->transient = 0;
}

/* The ESYS_TR of a persistent object or NV index: one TPM2_ReadPublic / TPM2_NV_ReadPublic the
 * first time, then remembered for the connection (ESAPI checks the object's name on use). */
static FS38_NODISCARD fs38_err tr_of(fs38_tpm *t, uint32_t handle, ESYS_TR *tr)
{
    if (!t->esys)
        return fs38_diag_set(&t->diag, FS38_ERR_STATE, "the TPM is not open");
    for (unsigned i = 0; i < FS38_TPM_CACHE; i++)
        if (t->cache_handle[i] == handle) {
            *tr = t->cache_tr[i];
            return FS38_OK;
        }
    t->commands++;
    TSS2_RC rc = Esys_TR_FromTPMPublic(ESYS(t), handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, tr);
    if (rc != TSS2_RC_SUCCESS) {
        fs38_err e = fail(t, rc, "object lookup");
        if (e == FS38_ERR_NOT_FOUND)
            return fs38_diag_set(&t->diag, e, "TPM object 0x%08x does not exist", (unsigned)handle);
        return e;
    }
    for (unsigned i = 0; i < FS38_TPM_CACHE; i++)
        if (t->cache_handle[i] == 0) {
            t->cache_handle[i] = handle;
            t->cache_tr[i] = *tr;
            break;
        }
    return FS38_OK;
}

/* Forget a handle whose object is gone (ESAPI freed its ESYS_TR). */
static void tr_forget(fs38_tpm *t, uint32_t handle)
{
    for (unsigned i = 0; i < FS38_TPM_CACHE; i++)
        if (t->cache_handle[i] == handle)
            t->cache_handle[i] = 0;
}

/* Done with an ESYS_TR from tr_of: cached ones stay, others are closed. */
static void tr_close(fs38_tpm *t, ESYS_TR *tr)
{
    for (unsigned i = 0; i < FS38_TPM_CACHE; i++)
        if (t->cache_handle[i] && t->cache_tr[i] == *tr) {
            *tr = ESYS_TR_NONE;
            return;
        }
    if (*tr != ESYS_TR_NONE)
        (void)Esys_TR_Close(ESYS(t), tr);
    *tr = ESYS_TR_NONE;
}

/* ---- objects --------------------------------------------------------------------------------- */

static void be_pad(const uint8_t *in, size_t n, uint8_t out[32])
{
    memset(out, 0, 32);
    if (n > 32) {
        in += n - 32;
        n = 32;
    }
    memcpy(out + 32 - n, in, n);
}

static FS38_NODISCARD fs38_err random_unique(fs38_tpm *t, uint8_t *out, size_t n)
{
    TPM2B_DIGEST *r = NULL;
    t->commands++;
    TSS2_RC rc = Esys_GetRandom(ESYS(t), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, (UINT16)n, &r);
    if (rc != TSS2_RC_SUCCESS)
        return fail(t, rc, "GetRandom");
    if (r->size != n) {
        Esys_Free(r);
        return fs38_diag_set(&t->diag, FS38_ERR_CRYPTO, "TPM GetRandom gave %u bytes", (unsigned)r->size);
    }
    memcpy(out, r->buffer, n);
    Esys_Free(r);
    return FS38_OK;
}

typedef enum kind { KIND_SIGN, KIND_HMAC, KIND_ECDH, KIND_SALT } kind;

static FS38_NODISCARD fs38_err template_for(fs38_tpm *t, kind k, TPM2B_PUBLIC *pub)
{
    memset(pub, 0, sizeof *pub);
    TPMT_PUBLIC *p = &pub->publicArea;
    p->nameAlg = TPM2_ALG_SHA256;
    p->objectAttributes = key_attrs;
    fs38_err e = FS38_OK;
    if (k == KIND_SALT) {
        /* a storage key as the TCG's ECC SRK template: restricted, decrypt, AES-128-CFB, unique
         * zero — derived from the owner seed, so the same key every time it is made */
        p->type = TPM2_ALG_ECC;
        p->objectAttributes |= TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
        p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
        p->parameters.eccDetail.symmetric.keyBits.aes = 128;
        p->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
        p->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
        p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
        p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
        p->unique.ecc.x.size = 32;
        p->unique.ecc.y.size = 32;
    } else if (k == KIND_HMAC) {
        p->type = TPM2_ALG_KEYEDHASH;
        p->objectAttributes |= TPMA_OBJECT_SIGN_ENCRYPT;
        p->parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_HMAC;
        p->parameters.keyedHashDetail.scheme.details.hmac.hashAlg = TPM2_ALG_SHA256;
        p->unique.keyedHash.size = 32;
        e = random_unique(t, p->unique.keyedHash.buffer, 32);
    } else {
        p->type = TPM2_ALG_ECC;
        p->objectAttributes |= k == KIND_SIGN ? TPMA_OBJECT_SIGN_ENCRYPT : TPMA_OBJECT_DECRYPT;
        p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
        p->parameters.eccDetail.scheme.scheme = k == KIND_SIGN ? TPM2_ALG_ECDSA : TPM2_ALG_ECDH;
        p->parameters.eccDetail.scheme.details.anySig.hashAlg = TPM2_ALG_SHA256;
        p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
        p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
        p->unique.ecc.x.size = 32;
        p->unique.ecc.y.size = 32;
        e = random_unique(t, p->unique.ecc.x.buffer, 32);
        if (e == FS38_OK)
            e = random_unique(t, p->unique.ecc.y.buffer, 32);
    }
    return e;
}

/* A new primary key of kind k under the owner hierarchy (transient, *out). */
static FS38_NODISCARD fs38_err create_primary(fs38_tpm *t, kind k, ESYS_TR *out)
{
    TPM2B_PUBLIC pub;
    TPM2B_SENSITIVE_CREATE sens;
    TPM2B_DATA outside;
    TPML_PCR_SELECTION pcrs;
    memset(&sens, 0, sizeof sens);
    memset(&outside, 0, sizeof outside);
    memset(&pcrs, 0, sizeof pcrs);
    fs38_err e = template_for(t, k, &pub);
    if (e != FS38_OK)
        return e;
    t->commands++;
    TSS2_RC rc = Esys_CreatePrimary(ESYS(t), ESYS_TR_RH_OWNER, PW, &sens, &pub, &outside, &pcrs, out, NULL, NULL,
                                    NULL, NULL);
    return rc == TSS2_RC_SUCCESS ? FS38_OK : fail(t, rc, "CreatePrimary");
}

/* The name (nameAlg || digest of the public area) ESAPI computed for an object the TPM made. */
static FS38_NODISCARD fs38_err name_of(fs38_tpm *t, ESYS_TR tr, uint8_t name[FS38_TPM_NAME_MAX], size_t *len)
{
    TPM2B_NAME *nm = NULL;
    TSS2_RC rc = Esys_TR_GetName(ESYS(t), tr, &nm);
    if (rc != TSS2_RC_SUCCESS)
        return fail(t, rc, "object name");
    if (nm->size == 0 || nm->size > FS38_TPM_NAME_MAX) {
        Esys_Free(nm);
        return fs38_diag_set(&t->diag, FS38_ERR_CRYPTO, "TPM object name of %u bytes", (unsigned)nm->size);
    }
    memcpy(name, nm->name, nm->size);
    *len = nm->size;
    Esys_Free(nm);
    return FS38_OK;
}

/* ---- the session ------------------------------------------------------------------------------- */

/*
 * The session for the commands whose answer is a secret — TPM2_HMAC (the sealing root) and
 * TPM2_ECDH_ZGen (an update's key agreement) — with the attributes attrs for the next command:
 * an HMAC session salted with an ECC storage key of the owner hierarchy (the salt travels
 * encrypted to it, so the session key is the TPM's and ours only), AES-128-CFB parameter
 * encryption, SHA-256; TPMA_SESSION_ENCRYPT encrypts the response's first parameter. Started at
 * the first such use on a connection and kept (continueSession). An observer of the TPM's bus
 * reads no secret; with the salt key's name recorded at binding (fs38_tpm_expect_salt_name),
 * something answering in the TPM's place with its own key is refused. Commands with nothing
 * secret in their answer (Sign, NV) keep password authorisation — with tpm2-tss 3.2 each session
 * command costs ~2.3 ms of host CPU in OpenSSL 3.0 (bench_tpm).
 */
static FS38_NODISCARD fs38_err session(fs38_tpm *t, TPMA_SESSION attrs, ESYS_TR *out)
{
    if (!t->esys)
        return fs38_diag_set(&t->diag, FS38_ERR_STATE, "the TPM is not open");
    TSS2_RC rc;
    if (!t->session) {
        ESYS_TR salt = ESYS_TR_NONE;
        fs38_err e = create_primary(t, KIND_SALT, &salt);
        if (e != FS38_OK)
            return e;
        if (t->salt_name_len) {
            uint8_t nm[FS38_TPM_NAME_MAX];
            size_t nl = 0;
            e = name_of(t, salt, nm, &nl);
            if (e == FS38_OK && (nl != t->salt_name_len || memcmp(nm, t->salt_name, nl) != 0))
                e = fs38_diag_set(&t->diag, FS38_ERR_CRYPTO,
                                  "the TPM's storage key is not the one recorded when the TPM was bound (another "
                                  "TPM, a cleared owner hierarchy, or something answering in its place): refused");
            if (e != FS38_OK) {
                t->commands++;
                (void)Esys_FlushContext(ESYS(t), salt);
                return e;
            }
        }
        TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB };
        ESYS_TR sess = ESYS_TR_NONE;
        t->commands++;
        rc = Esys_StartAuthSession(ESYS(t), salt, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL,
                                   TPM2_SE_HMAC, &sym, TPM2_ALG_SHA256, &sess);
        t->commands++;
        (void)Esys_FlushContext(ESYS(t), salt);
        if (rc != TSS2_RC_SUCCESS)
            return fail(t, rc, "StartAuthSession (salted, AES-128-CFB)");
        t->session = sess;
    }
    rc = Esys_TRSess_SetAttributes(ESYS(t), t->session, (TPMA_SESSION)(attrs | TPMA_SESSION_CONTINUESESSION), 0xffu);
    if (rc != TSS2_RC_SUCCESS) {
        drop_session(t);
        return fail(t, rc, "session attributes");
    }
    *out = t->session;
    return FS38_OK;
}

#define SESS(s) (s), ESYS_TR_NONE, ESYS_TR_NONE

fs38_err fs38_tpm_salt_name(fs38_tpm *t, uint8_t name[FS38_TPM_NAME_MAX], size_t *len)
{
    if (!t || !name || !len)
        return FS38_ERR_ARG;
    if (!t->esys)
        return fs38_diag_set(&t->diag, FS38_ERR_STATE, "the TPM is not open");
    ESYS_TR salt = ESYS_TR_NONE;
    fs38_err e = create_primary(t, KIND_SALT, &salt);
    if (e != FS38_OK)
        return e;
    e = name_of(t, salt, name, len);
    t->commands++;
    (void)Esys_FlushContext(ESYS(t), salt);
    return e;
}

fs38_err fs38_tpm_expect_salt_name(fs38_tpm *t, const uint8_t *name, size_t len)
{
    if (!t || len > FS38_TPM_NAME_MAX || (len && !name))
        return FS38_ERR_ARG;
    if (len)
        memcpy(t->salt_name, name, len);
    t->salt_name_len = len;
    return FS38_OK;
}

/* Evict the persistent object at handle; FS38_ERR_NOT_FOUND when there is none. */
static FS38_NODISCARD fs38_err evict(fs38_tpm *t, uint32_t handle)
{
    ESYS_TR tr = ESYS_TR_NONE, none = ESYS_TR_NONE;
    fs38_err e = tr_of(t, handle, &tr);
    if (e != FS38_OK)
        return e;
    t->commands++;
    TSS2_RC rc = Esys_EvictControl(ESYS(t), ESYS_TR_RH_OWNER, tr, PW, handle, &none);
    if (rc != TSS2_RC_SUCCESS) {
        tr_close(t, &tr);
        return fail(t, rc, "EvictControl (evict)");
    }
    tr_forget(t, handle);
    return FS38_OK;
}

/* Create a key of kind k and make it persistent at handle (replacing what was there). */
static FS38_NODISCARD fs38_err make_persistent(fs38_tpm *t, kind k, uint32_t handle)
{
    ESYS_TR obj = ESYS_TR_NONE, pers = ESYS_TR_NONE;
    fs38_err e = create_primary(t, k, &obj);
    if (e != FS38_OK)
        return e;
    e = evict(t, handle);
    if (e == FS38_ERR_NOT_FOUND)
        e = FS38_OK;
    if (e == FS38_OK) {
        t->commands++;
        TSS2_RC rc = Esys_EvictControl(ESYS(t), ESYS_TR_RH_OWNER, obj, PW, handle, &pers);
        if (rc != TSS2_RC_SUCCESS)
            e = fail(t, rc, "EvictControl (persist)");
        else
            tr_close(t, &pers);
    }
    t->commands++;
    (void)Esys_FlushContext(ESYS(t), obj); /* the transient copy, on every path */
    return e;
}

/* ---- the key interface ----------------------------------------------------------------------- */

static fs38_tpm *tpm_of(const fs38_key *k)
{
    return (fs38_tpm *)k->ctx;
}

/* The key's ESYS_TR: the transient key, or the persistent handle's. */
static FS38_NODISCARD fs38_err key_tr(const fs38_key *k, ESYS_TR *tr, bool *owned)
{
    fs38_tpm *t = tpm_of(k);
    if (k->ref == 0) {
        if (!t->transient)
            return fs38_diag_set(&t->diag, FS38_ERR_NOT_FOUND, "no transient TPM key");
        *tr = t->transient;
        *owned = false;
        return FS38_OK;
    }
    *owned = true;
    return tr_of(t, k->ref, tr);
}

static fs38_err tpm_sign(const fs38_key *k, const uint8_t hash[32], uint8_t sig[FS38_KEY_SIG_LEN])
{
    fs38_tpm *t = tpm_of(k);
    ESYS_TR tr = ESYS_TR_NONE;
    bool owned = false;
    fs38_err e = key_tr(k, &tr, &owned);
    if (e != FS38_OK)
        return e;
    TPM2B_DIGEST digest = { .size = 32 };
    memcpy(digest.buffer, hash, 32);
    TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_ECDSA, .details.ecdsa.hashAlg = TPM2_ALG_SHA256 };
    TPMT_TK_HASHCHECK check = { .tag = TPM2_ST_HASHCHECK, .hierarchy = TPM2_RH_NULL };
    TPMT_SIGNATURE *s = NULL;
    t->commands++; /* digest in, signature out: nothing secret crosses the bus (password session) */
    TSS2_RC rc = Esys_Sign(ESYS(t), tr, PW, &digest, &scheme, &check, &s);
    if (owned)
        tr_close(t, &tr);
    if (rc != TSS2_RC_SUCCESS)
        return fail(t, rc, "Sign");
    if (s->sigAlg != TPM2_ALG_ECDSA) {
        Esys_Free(s);
        return fs38_diag_set(&t->diag, FS38_ERR_CRYPTO, "TPM Sign gave no ECDSA signature");
    }
    /* TPMS_SIGNATURE_ECDSA: r and s as big-endian integers (COSE wants each 32 bytes) */
    be_pad(s->signature.ecdsa.signatureR.buffer, s->signature.ecdsa.signatureR.size, sig);
    be_pad(s->signature.ecdsa.signatureS.buffer, s->signature.ecdsa.signatureS.size, sig + 32);
    Esys_Free(s);
    return FS38_OK;
}

static fs38_err tpm_public(const fs38_key *k, uint8_t point[FS38_KEY_POINT_LEN])
{
    fs38_tpm *t = tpm_of(k);
    ESYS_TR tr = ESYS_TR_NONE;
    bool owned = false;
    fs38_err e = key_tr(k, &tr, &owned);
    if (e != FS38_OK)
        return e;
    TPM2B_PUBLIC *pub = NULL;
    t->commands++;
    TSS2_RC rc = Esys_ReadPublic(ESYS(t), tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL, NULL);
    if (owned)
        tr_close(t, &tr);
    if (rc != TSS2_RC_SUCCESS)
        return fail(t, rc, "ReadPublic");
    if (pub->publicArea.type != TPM2_ALG_ECC || pub->publicArea.parameters.eccDetail.curveID != TPM2_ECC_NIST_P256) {
        Esys_Free(pub);
        return fs38_diag_set(&t->diag, FS38_ERR_CRYPTO, "TPM object 0x%08x is not a P-256 key", (unsigned)k->ref);
    }
    point[0] = 0x04;
    be_pad(pub->publicArea.unique.ecc.x.buffer, pub->publicArea.unique.ecc.x.size, point + 1);
    be_pad(pub->publicArea.unique.ecc.y.buffer, pub->publicArea.unique.ecc.y.size, point + 33);
    Esys_Free(pub);
    return FS38_OK;
}

/* For a command whose answer is a secret: the encrypting session (attributes set), then k's
 * handle (key_tr: *owned when it must be closed after the command). */
static FS38_NODISCARD fs38_err secret_use(const fs38_key *k, ESYS_TR *ss, ESYS_TR *tr, bool *owned)
{
    fs38_err e = session(tpm_of(k), TPMA_SESSION_ENCRYPT, ss);
    return e != FS38_OK ? e : key_tr(k, tr, owned);
}

static fs38_err tpm_ecdh(const fs38_key *k, const uint8_t peer[FS38_KEY_POINT_LEN], uint8_t secret[FS38_KEY_SECRET_LEN])
{
    fs38_tpm *t = tpm_of(k);
    if (peer[0] != 0x04)
        return fs38_diag_set(&t->diag, FS38_ERR_CRYPTO, "ECDH: the peer point is not uncompressed");
    ESYS_TR ss = ESYS_TR_NONE, tr = ESYS_TR_NONE;
    bool owned = false;
    fs38_err e = secret_use(k, &ss, &tr, &owned); /* the shared secret leaves the TPM encrypted */
    if (e != FS38_OK)
        return e;
    TPM2B_ECC_POINT in;
    memset(&in, 0, sizeof in);
    in.point.x.size = 32;
    in.point.y.size = 32;
    memcpy(in.point.x.buffer, peer + 1, 32);
    memcpy(in.point.y.buffer, peer + 33, 32);
    TPM2B_ECC_POINT *z = NULL;
    t->commands++;
    TSS2_RC rc = Esys_ECDH_ZGen(ESYS(t), tr, SESS(ss), &in, &z);
    if (owned)
        tr_close(t, &tr);
    if (rc != TSS2_RC_SUCCESS) {
        drop_session(t);
        return fail(t, rc, "ECDH_ZGen");
    }
    be_pad(z->point.x.buffer, z->point.x.size, secret);
    fs38_wipe(z, sizeof *z);
    Esys_Free(z);
    return FS38_OK;
}

static fs38_err tpm_derive(const fs38_key *k, const uint8_t *label, size_t label_len, uint8_t out[32])
{
    fs38_tpm *t = tpm_of(k);
    if (label_len > TPM2_MAX_DIGEST_BUFFER)
        return fs38_diag_set(&t->diag, FS38_ERR_ARG, "HMAC label too long");
    ESYS_TR ss = ESYS_TR_NONE, tr = ESYS_TR_NONE;
    bool owned = false;
    fs38_err e = secret_use(k, &ss, &tr, &owned); /* the HMAC (the sealing root) leaves encrypted */
    if (e != FS38_OK)
        return e;
    TPM2B_MAX_BUFFER buf;
    memset(&buf, 0, sizeof buf);
    buf.size = (UINT16)label_len;
    if (label_len)
        memcpy(buf.buffer, label, label_len);
    TPM2B_DIGEST *mac = NULL;
    t->commands++;
    TSS2_RC rc = Esys_HMAC(ESYS(t), tr, SESS(ss), &buf, TPM2_ALG_SHA256, &mac);
    if (owned)
        tr_close(t, &tr);
    if (rc != TSS2_RC_SUCCESS) {
        drop_session(t);
        return fail(t, rc, "HMAC");
    }
    if (mac->size != 32) {
        fs38_wipe(mac, sizeof *mac);
        Esys_Free(mac);
        return fs38_diag_set(&t->diag, FS38_ERR_CRYPTO, "TPM HMAC gave %u bytes", (unsigned)mac->size);
    }
    memcpy(out, mac->buffer, 32);
    fs38_wipe(mac, sizeof *mac);
    Esys_Free(mac);
    return FS38_OK;
}

static fs38_err tpm_generate(const fs38_key *k)
{
    fs38_tpm *t = tpm_of(k);
    if (k->ref == FS38_TPM_H_IDENTITY)
        return make_persistent(t, KIND_SIGN, k->ref);
    if (k->ref == FS38_TPM_H_SEALING)
        return make_persistent(t, KIND_HMAC, k->ref);
    return fs38_diag_set(&t->diag, FS38_ERR_ARG, "no key template for TPM handle 0x%08x", (unsigned)k->ref);
}

static fs38_err tpm_destroy(const fs38_key *k)
{
    fs38_tpm *t = tpm_of(k);
    if (k->ref == 0) {
        if (!t->transient)
            return FS38_ERR_NOT_FOUND;
        t->commands++;
        TSS2_RC rc = Esys_FlushContext(ESYS(t), t->transient);
        t->transient = 0;
        return rc == TSS2_RC_SUCCESS ? FS38_OK : fail(t, rc, "FlushContext");
    }
    return evict(t, k->ref);
}

static const fs38_key_ops tpm_ops = { tpm_sign, tpm_public, tpm_ecdh, tpm_derive, tpm_generate, tpm_destroy };

fs38_err fs38_tpm_key(fs38_tpm *t, uint32_t handle, fs38_key *k)
{
    if (!t || !k || (handle >> 24) != 0x81u)
        return FS38_ERR_ARG;
    k->ops = &tpm_ops;
    k->ctx = t;
    k->ref = handle;
    return FS38_OK;
}

fs38_err fs38_tpm_ecdh_key(fs38_tpm *t, fs38_key *k)
{
    if (!t || !k)
        return FS38_ERR_ARG;
    if (!t->esys)
        return fs38_diag_set(&t->diag, FS38_ERR_STATE, "the TPM is not open");
    if (t->transient) {
        t->commands++;
        (void)Esys_FlushContext(ESYS(t), t->transient);
        t->transient = 0;
    }
    ESYS_TR obj = ESYS_TR_NONE;
    fs38_err e = create_primary(t, KIND_ECDH, &obj);
    if (e != FS38_OK)
        return e;
    t->transient = obj;
    k->ops = &tpm_ops;
    k->ctx = t;
    k->ref = 0;
    return FS38_OK;
}

/* ---- NV counters ----------------------------------------------------------------------------- */

static uint32_t nv_index(fs38_counter_id id)
{
    return FS38_TPM_NV_COUNTER + (uint32_t)id;
}

/* The raw TPM value (0 when never incremented). */
static FS38_NODISCARD fs38_err nv_read(fs38_tpm *t, ESYS_TR tr, uint64_t *v)
{
    TPM2B_MAX_NV_BUFFER *d = NULL;
    t->commands++;
    TSS2_RC rc = Esys_NV_Read(ESYS(t), tr, tr, PW, 8, 0, &d);
    if (rc == (TPM2_RC_NV_UNINITIALIZED)) {
        *v = 0;
        return FS38_OK;
    }
    if (rc != TSS2_RC_SUCCESS)
        return fail(t, rc, "NV_Read");
    if (d->size != 8) {
        Esys_Free(d);
        return fs38_diag_set(&t->diag, FS38_ERR_CRYPTO, "TPM NV counter of %u bytes", (unsigned)d->size);
    }
    uint64_t x = 0;
    for (unsigned i = 0; i < 8; i++)
        x = (x << 8) | d->buffer[i];
    Esys_Free(d);
    *v = x;
    return FS38_OK;
}

/* FS38_COUNTER_STORE moves in jumps of 2^32 (fs38/store.h: level << 32 | nonce reservations), which
 * one-step TPM counters cannot follow: it is an ordinary 8-byte NV index written only upwards. */
static bool ordinary(fs38_counter_id id)
{
    return id == FS38_COUNTER_STORE;
}

static FS38_NODISCARD fs38_err nv_write(fs38_tpm *t, ESYS_TR tr, uint64_t v)
{
    TPM2B_MAX_NV_BUFFER d;
    memset(&d, 0, sizeof d);
    d.size = 8;
    for (unsigned i = 0; i < 8; i++)
        d.buffer[i] = (uint8_t)(v >> (56 - 8 * i));
    t->commands++;
    TSS2_RC rc = Esys_NV_Write(ESYS(t), tr, tr, PW, &d, 0); /* atomic: all 8 bytes or none */
    return rc == TSS2_RC_SUCCESS ? FS38_OK : fail(t, rc, "NV_Write");
}

static FS38_NODISCARD fs38_err nv_increment(fs38_tpm *t, ESYS_TR tr)
{
    t->commands++;
    TSS2_RC rc = Esys_NV_Increment(ESYS(t), tr, tr, PW);
    return rc == TSS2_RC_SUCCESS ? FS38_OK : fail(t, rc, "NV_Increment");
}

static FS38_NODISCARD fs38_err nv_undefine(fs38_tpm *t, uint32_t index)
{
    ESYS_TR tr = ESYS_TR_NONE;
    fs38_err e = tr_of(t, index, &tr);
    if (e != FS38_OK)
        return e;
    t->commands++;
    TSS2_RC rc = Esys_NV_UndefineSpace(ESYS(t), ESYS_TR_RH_OWNER, tr, PW);
    if (rc != TSS2_RC_SUCCESS) {
        tr_close(t, &tr);
        return fail(t, rc, "NV_UndefineSpace");
    }
    tr_forget(t, index);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err nv_define(fs38_tpm *t, uint32_t index, bool counter, ESYS_TR *tr)
{
    TPM2B_AUTH auth;
    TPM2B_NV_PUBLIC pub;
    memset(&auth, 0, sizeof auth);
    memset(&pub, 0, sizeof pub);
    pub.nvPublic.nvIndex = index;
    pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
    pub.nvPublic.attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_AUTHWRITE | TPMA_NV_AUTHREAD |
                              TPMA_NV_NO_DA |
                              (((counter ? TPM2_NT_COUNTER : TPM2_NT_ORDINARY) << TPMA_NV_TPM2_NT_SHIFT) &
                               TPMA_NV_TPM2_NT_MASK);
    pub.nvPublic.dataSize = 8;
    t->commands++;
    TSS2_RC rc = Esys_NV_DefineSpace(ESYS(t), ESYS_TR_RH_OWNER, PW, &auth, &pub, tr);
    return rc == TSS2_RC_SUCCESS ? FS38_OK : fail(t, rc, "NV_DefineSpace");
}

/* ---- setup / teardown ------------------------------------------------------------------------ */

static const uint32_t persistent[] = { FS38_TPM_H_IDENTITY, FS38_TPM_H_SEALING };

fs38_err fs38_tpm_teardown(fs38_tpm *t, uint32_t *removed, size_t cap, size_t *n)
{
    if (!t || !n || (!removed && cap))
        return FS38_ERR_ARG;
    *n = 0;
    for (size_t i = 0; i < sizeof persistent / sizeof persistent[0] + FS38_COUNTER_COUNT; i++) {
        const uint32_t h = i < 2 ? persistent[i] : nv_index((fs38_counter_id)(i - 2));
        fs38_err e = i < 2 ? evict(t, h) : nv_undefine(t, h);
        if (e == FS38_ERR_NOT_FOUND)
            continue;
        if (e != FS38_OK)
            return e;
        if (*n < cap)
            removed[*n] = h;
        (*n)++;
    }
    return FS38_OK;
}

fs38_err fs38_tpm_objects(fs38_tpm *t, uint32_t *found, size_t cap, size_t *n)
{
    if (!t || !n || (!found && cap))
        return FS38_ERR_ARG;
    *n = 0;
    for (size_t i = 0; i < 2u + FS38_COUNTER_COUNT; i++) {
        const uint32_t h = i < 2 ? persistent[i] : nv_index((fs38_counter_id)(i - 2));
        ESYS_TR tr = ESYS_TR_NONE;
        fs38_err e = tr_of(t, h, &tr);
        if (e == FS38_ERR_NOT_FOUND)
            continue;
        if (e != FS38_OK)
            return e;
        tr_close(t, &tr);
        if (*n < cap)
            found[*n] = h;
        (*n)++;
    }
    return FS38_OK;
}

fs38_err fs38_tpm_setup(fs38_tpm *t, uint64_t base[FS38_COUNTER_COUNT])
{
    uint32_t gone[FS38_TPM_MAX_OBJECTS];
    size_t n = 0;
    if (!t || !base)
        return FS38_ERR_ARG;
    fs38_err e = fs38_tpm_teardown(t, gone, FS38_TPM_MAX_OBJECTS, &n);
    if (e == FS38_OK)
        e = make_persistent(t, KIND_HMAC, FS38_TPM_H_SEALING);
    for (unsigned i = 0; i < FS38_COUNTER_COUNT && e == FS38_OK; i++) {
        ESYS_TR tr = ESYS_TR_NONE;
        const bool ctr = !ordinary((fs38_counter_id)i);
        e = nv_define(t, nv_index((fs38_counter_id)i), ctr, &tr);
        if (e == FS38_OK)
            e = ctr ? nv_increment(t, tr) : nv_write(t, tr, 0);
        if (e == FS38_OK)
            e = nv_read(t, tr, &base[i]);
        tr_close(t, &tr);
    }
    memcpy(t->base, base, sizeof t->base);
    return e;
}

/* ---- the port -------------------------------------------------------------------------------- */

static fs38_err p_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    fs38_tpm *t = ctx;
    return t->inner.flash_read(t->inner.ctx, off, buf, len);
}

static const uint8_t *p_map(void *ctx, uint32_t off, size_t len)
{
    fs38_tpm *t = ctx;
    return t->inner.flash_map ? t->inner.flash_map(t->inner.ctx, off, len) : NULL;
}

static fs38_err p_erase(void *ctx, uint32_t off, uint32_t len)
{
    fs38_tpm *t = ctx;
    return t->inner.flash_erase(t->inner.ctx, off, len);
}

static fs38_err p_program(void *ctx, uint32_t off, const void *buf, size_t len)
{
    fs38_tpm *t = ctx;
    return t->inner.flash_program(t->inner.ctx, off, buf, len);
}

static fs38_err p_entropy(void *ctx, uint8_t *buf, size_t len)
{
    fs38_tpm *t = ctx;
    return t->inner.entropy(t->inner.ctx, buf, len);
}

static uint64_t p_ms(void *ctx)
{
    fs38_tpm *t = ctx;
    return t->inner.monotonic_ms(t->inner.ctx);
}

static fs38_err p_wall(void *ctx, int64_t *s)
{
    fs38_tpm *t = ctx;
    return t->inner.wall_time(t->inner.ctx, s);
}

static fs38_err p_lock(void *ctx)
{
    fs38_tpm *t = ctx;
    return t->inner.lock(t->inner.ctx);
}

static void p_unlock(void *ctx)
{
    fs38_tpm *t = ctx;
    t->inner.unlock(t->inner.ctx);
}

/* The sealing root: HMAC-SHA-256 under the TPM's sealing key, in 32-byte blocks
 * (block i: label || i for i > 0). */
static fs38_err p_huk(void *ctx, uint8_t *out, size_t len)
{
    fs38_tpm *t = ctx;
    fs38_key k;
    uint8_t label[sizeof FS38_TPM_SEALING_LABEL], block[32];
    if (!out || len == 0 || len > 64)
        return FS38_ERR_ARG;
    fs38_err e = fs38_tpm_key(t, FS38_TPM_H_SEALING, &k);
    memcpy(label, FS38_TPM_SEALING_LABEL, sizeof label);
    for (size_t done = 0, i = 0; e == FS38_OK && done < len; i++) {
        label[sizeof label - 1] = (uint8_t)i; /* block 0: the label without its NUL */
        e = fs38_key_derive(&k, label, i ? sizeof label : sizeof label - 1, block);
        if (e == FS38_OK) {
            const size_t n = len - done < 32 ? len - done : 32;
            memcpy(out + done, block, n);
            done += n;
        }
    }
    fs38_wipe(block, sizeof block);
    if (e != FS38_OK)
        fs38_wipe(out, len);
    return e;
}

static fs38_err p_counter_read(void *ctx, fs38_counter_id id, uint64_t *value)
{
    fs38_tpm *t = ctx;
    ESYS_TR tr = ESYS_TR_NONE;
    uint64_t raw = 0;
    if ((unsigned)id >= FS38_COUNTER_COUNT || !value)
        return FS38_ERR_ARG;
    fs38_err e = tr_of(t, nv_index(id), &tr);
    if (e == FS38_OK) {
        e = nv_read(t, tr, &raw);
        tr_close(t, &tr);
    }
    if (e != FS38_OK)
        return e == FS38_ERR_NOT_FOUND ? fs38_diag_set(&t->diag, FS38_ERR_IO, "TPM counter 0x%08x is gone",
                                                       (unsigned)nv_index(id))
                                       : e;
    if (raw < t->base[id])
        return fs38_diag_set(&t->diag, FS38_ERR_IO, "TPM counter 0x%08x is below its base: not this device's",
                             (unsigned)nv_index(id));
    *value = raw - t->base[id];
    return FS38_OK;
}

static fs38_err p_counter_advance(void *ctx, fs38_counter_id id, uint64_t value)
{
    fs38_tpm *t = ctx;
    ESYS_TR tr = ESYS_TR_NONE;
    uint64_t raw = 0;
    if ((unsigned)id >= FS38_COUNTER_COUNT)
        return FS38_ERR_ARG;
    fs38_err e = tr_of(t, nv_index(id), &tr);
    if (e == FS38_ERR_NOT_FOUND)
        return fs38_diag_set(&t->diag, FS38_ERR_IO, "TPM counter 0x%08x is gone", (unsigned)nv_index(id));
    if (e == FS38_OK)
        e = nv_read(t, tr, &raw);
    if (e == FS38_OK && raw < t->base[id])
        e = fs38_diag_set(&t->diag, FS38_ERR_IO, "TPM counter 0x%08x is below its base", (unsigned)nv_index(id));
    if (e == FS38_OK && ordinary(id)) {
        if (value > raw)
            e = nv_write(t, tr, value);
        tr_close(t, &tr);
        return e;
    }
    if (e == FS38_OK && value > raw - t->base[id] && value - (raw - t->base[id]) > FS38_TPM_STEP_MAX)
        e = fs38_diag_set(&t->diag, FS38_ERR_LIMIT, "TPM counter: a jump of more than %u steps",
                          (unsigned)FS38_TPM_STEP_MAX);
    /* one increment per step; a cut in between leaves a value between old and new, which the
     * callers treat as the old one (each caller re-advances to its target) */
    while (e == FS38_OK && raw - t->base[id] < value) {
        e = nv_increment(t, tr);
        raw++;
    }
    tr_close(t, &tr);
    return e;
}

/* Control 5: the debug "OTP bit" is the TPM's FS38_COUNTER_SPARE NV counter (the flash counters of
 * a TPM-bound device are parked at their maximum, so the inner port's own bit would always read
 * "locked"); the services list still comes from the inner port. */
static fs38_err p_security_state(void *ctx, fs38_security_state *out)
{
    fs38_tpm *t = ctx;
    uint64_t fuse = 0;
    if (!out)
        return FS38_ERR_ARG;
    fs38_err e = t->inner.security_state ? t->inner.security_state(t->inner.ctx, out) : FS38_OK;
    if (e == FS38_OK)
        e = p_counter_read(ctx, FS38_COUNTER_SPARE, &fuse);
    if (e == FS38_OK)
        out->debug = fuse ? FS38_DEBUG_ALL : 0u;
    return e;
}

static fs38_err p_debug_lock(void *ctx)
{
    return p_counter_advance(ctx, FS38_COUNTER_SPARE, 1);
}

fs38_err fs38_tpm_wrap_port(fs38_tpm *t, fs38_port *port, const uint64_t base[FS38_COUNTER_COUNT])
{
    if (!t || !port || !base || !port->flash_read)
        return FS38_ERR_ARG;
    t->inner = *port;
    memcpy(t->base, base, sizeof t->base);
    port->ctx = t;
    port->flash_read = p_read;
    port->flash_map = t->inner.flash_map ? p_map : NULL;
    port->flash_erase = t->inner.flash_erase ? p_erase : NULL;
    port->flash_program = t->inner.flash_program ? p_program : NULL;
    port->entropy = t->inner.entropy ? p_entropy : NULL;
    port->monotonic_ms = t->inner.monotonic_ms ? p_ms : NULL;
    port->wall_time = t->inner.wall_time ? p_wall : NULL;
    port->lock = t->inner.lock ? p_lock : NULL;
    port->unlock = t->inner.unlock ? p_unlock : NULL;
    port->hardware_key = p_huk;
    port->counter_read = p_counter_read;
    port->counter_advance = p_counter_advance;
    port->security_state = p_security_state;
    port->debug_lock = p_debug_lock;
    return FS38_OK;
}
