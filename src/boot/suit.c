/* SPDX-License-Identifier: Apache-2.0 */
/* suit.c — SUIT envelope authentication and manifest command interpreter
 * (draft-ietf-suit-manifest; profile suit-sha256-esp256-ecdh-a128ctr). */
#include <string.h>
#include "fs38/cbor.h"
#include "fs38/suit.h"
#include "fs38/util.h"

/* ------------------------------------------------------------------------------------------
 * Names
 * ---------------------------------------------------------------------------------------- */

const char *fs38_suit_command_name(int64_t code)
{
    switch (code) {
    case FS38_SUIT_COND_VENDOR_ID: return "condition-vendor-identifier";
    case FS38_SUIT_COND_CLASS_ID: return "condition-class-identifier";
    case FS38_SUIT_COND_IMAGE_MATCH: return "condition-image-match";
    case FS38_SUIT_COND_COMPONENT_SLOT: return "condition-component-slot";
    case FS38_SUIT_COND_CHECK_CONTENT: return "condition-check-content";
    case FS38_SUIT_COND_DEPENDENCY_INTEGRITY: return "condition-dependency-integrity";
    case FS38_SUIT_COND_IS_DEPENDENCY: return "condition-is-dependency";
    case FS38_SUIT_DIR_PROCESS_DEPENDENCY: return "directive-process-dependency";
    case FS38_SUIT_DIR_SET_COMPONENT_INDEX: return "directive-set-component-index";
    case FS38_SUIT_COND_ABORT: return "condition-abort";
    case FS38_SUIT_DIR_TRY_EACH: return "directive-try-each";
    case FS38_SUIT_DIR_WRITE: return "directive-write";
    case FS38_SUIT_DIR_SET_PARAMETERS: return "directive-set-parameters";
    case FS38_SUIT_DIR_OVERRIDE_PARAMETERS: return "directive-override-parameters";
    case FS38_SUIT_DIR_FETCH: return "directive-fetch";
    case FS38_SUIT_DIR_COPY: return "directive-copy";
    case FS38_SUIT_DIR_INVOKE: return "directive-invoke";
    case FS38_SUIT_COND_DEVICE_ID: return "condition-device-identifier";
    case FS38_SUIT_DIR_SWAP: return "directive-swap";
    case FS38_SUIT_DIR_RUN_SEQUENCE: return "directive-run-sequence";
    default: return NULL;
    }
}

const char *fs38_suit_param_name(int64_t key)
{
    switch (key) {
    case FS38_SUIT_PARAM_VENDOR_ID: return "vendor-id";
    case FS38_SUIT_PARAM_CLASS_ID: return "class-id";
    case FS38_SUIT_PARAM_IMAGE_DIGEST: return "image-digest";
    case FS38_SUIT_PARAM_COMPONENT_SLOT: return "component-slot";
    case FS38_SUIT_PARAM_STRICT_ORDER: return "strict-order";
    case FS38_SUIT_PARAM_SOFT_FAILURE: return "soft-failure";
    case FS38_SUIT_PARAM_IMAGE_SIZE: return "image-size";
    case FS38_SUIT_PARAM_CONTENT: return "content";
    case FS38_SUIT_PARAM_ENCRYPTION_INFO: return "encryption-info";
    case FS38_SUIT_PARAM_URI: return "uri";
    case FS38_SUIT_PARAM_SOURCE_COMPONENT: return "source-component";
    case FS38_SUIT_PARAM_INVOKE_ARGS: return "invoke-args";
    case FS38_SUIT_PARAM_DEVICE_ID: return "device-id";
    default: return NULL;
    }
}

const char *fs38_suit_seq_name(int64_t key)
{
    switch (key) {
    case FS38_SUIT_SEQ_VALIDATE: return "validate";
    case FS38_SUIT_SEQ_LOAD: return "load";
    case FS38_SUIT_SEQ_INVOKE: return "invoke";
    case FS38_SUIT_SEQ_DEPENDENCY_RESOLUTION: return "dependency-resolution";
    case FS38_SUIT_SEQ_PAYLOAD_FETCH: return "payload-fetch";
    case FS38_SUIT_SEQ_INSTALL: return "install";
    case FS38_SUIT_MAN_TEXT: return "text";
    default: return NULL;
    }
}

/* ------------------------------------------------------------------------------------------
 * Envelope walk and authentication
 * ---------------------------------------------------------------------------------------- */

static FS38_NODISCARD fs38_err fmt_err(fs38_diag *diag, fs38_err cbor_err, const char *where)
{
    return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "%s: %s", where, fs38_strerror(cbor_err));
}

/* Parse SUIT_Digest = [alg, bstr] from its encoding. */
static FS38_NODISCARD fs38_err parse_digest(const uint8_t *p, size_t len, int64_t *alg, fs38_span *bytes)
{
    fs38_cbor_dec d;
    size_t n;
    fs38_cbor_dec_init(&d, p, len);
    fs38_err e = fs38_cbor_get_array(&d, &n);
    if (!e && n != 2)
        e = FS38_ERR_CBOR_TYPE;
    if (!e)
        e = fs38_cbor_get_int(&d, alg);
    if (!e)
        e = fs38_cbor_get_bstr(&d, &bytes->p, &bytes->len);
    if (!e && !fs38_cbor_at_end(&d))
        e = FS38_ERR_CBOR_TRAILING;
    return e;
}

/* Severable member slots, by manifest key. */
static fs38_suit_member *member_by_key(fs38_suit_manifest *m, uint64_t key)
{
    switch (key) {
    case FS38_SUIT_SEQ_VALIDATE: return &m->validate;
    case FS38_SUIT_SEQ_LOAD: return &m->load;
    case FS38_SUIT_SEQ_INVOKE: return &m->invoke;
    case FS38_SUIT_SEQ_DEPENDENCY_RESOLUTION: return &m->dependency_resolution;
    case FS38_SUIT_SEQ_PAYLOAD_FETCH: return &m->payload_fetch;
    case FS38_SUIT_SEQ_INSTALL: return &m->install;
    case FS38_SUIT_MAN_TEXT: return &m->text;
    default: return NULL;
    }
}

static bool is_severable_key(uint64_t key)
{
    return key == FS38_SUIT_SEQ_DEPENDENCY_RESOLUTION || key == FS38_SUIT_SEQ_PAYLOAD_FETCH ||
           key == FS38_SUIT_SEQ_INSTALL || key == FS38_SUIT_MAN_TEXT;
}

const fs38_suit_member *fs38_suit_member_of(const fs38_suit_manifest *m, fs38_suit_seq seq)
{
    return member_by_key((fs38_suit_manifest *)(uintptr_t)m, (uint64_t)seq);
}

/* Severed members found in the envelope, before the manifest says what they should be. */
typedef struct {
    uint64_t key;
    fs38_span wrapped; /* whole bstr item (head + content) */
    fs38_span body;
} severed_item;

#define MAX_SEVERED 4

typedef struct {
    severed_item sev[MAX_SEVERED];
    size_t n_sev;
} env_walk;

static FS38_NODISCARD fs38_err walk_envelope(fs38_suit_manifest *m, env_walk *w, const uint8_t *env, size_t env_len,
                              fs38_diag *diag)
{
    fs38_cbor_dec d;
    fs38_cbor_dec_init(&d, env, env_len);
    bool tagged;
    fs38_err e = fs38_cbor_opt_tag(&d, FS38_SUIT_TAG_ENVELOPE, &tagged);
    if (e)
        return fmt_err(diag, e, "envelope");
    size_t n;
    if ((e = fs38_cbor_get_map(&d, &n)))
        return fmt_err(diag, e, "envelope is not a map");
    bool have_auth = false, have_manifest = false;
    for (size_t i = 0; i < n; i++) {
        fs38_cbor_head kh;
        if ((e = fs38_cbor_peek(&d, &kh)))
            return fmt_err(diag, e, "envelope key");
        if (kh.major == FS38_CBOR_TSTR) {
            /* integrated payload: "#name" => bstr */
            const char *name;
            size_t name_len;
            const uint8_t *data;
            size_t data_len;
            if ((e = fs38_cbor_get_tstr(&d, &name, &name_len)))
                return fmt_err(diag, e, "integrated payload name");
            if ((e = fs38_cbor_get_bstr(&d, &data, &data_len)))
                return fmt_err(diag, e, "integrated payload");
            if (m->n_integrated >= FS38_SUIT_MAX_INTEGRATED)
                return fs38_diag_set(diag, FS38_ERR_LIMIT, "more than %u integrated payloads",
                                     (unsigned)FS38_SUIT_MAX_INTEGRATED);
            for (size_t j = 0; j < m->n_integrated; j++)
                if (m->integrated[j].name.len == name_len && !memcmp(m->integrated[j].name.p, name, name_len))
                    return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "duplicate integrated payload");
            m->integrated[m->n_integrated].name.p = (const uint8_t *)name;
            m->integrated[m->n_integrated].name.len = name_len;
            m->integrated[m->n_integrated].data.p = data;
            m->integrated[m->n_integrated].data.len = data_len;
            m->n_integrated++;
            continue;
        }
        uint64_t key;
        if ((e = fs38_cbor_get_uint(&d, &key)))
            return fmt_err(diag, e, "envelope key is not an unsigned integer or text");
        size_t item_start = d.pos;
        const uint8_t *p;
        size_t len;
        if ((e = fs38_cbor_get_bstr(&d, &p, &len)))
            return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "envelope member %llu is not a byte string",
                                 (unsigned long long)key);
        if (key == FS38_SUIT_ENV_AUTH) {
            if (have_auth)
                return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "duplicate authentication wrapper");
            if (have_manifest)
                return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "authentication wrapper after the manifest");
            have_auth = true;
            m->auth.p = p;
            m->auth.len = len;
        } else if (key == FS38_SUIT_ENV_MANIFEST) {
            if (have_manifest)
                return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "duplicate manifest");
            have_manifest = true;
            m->manifest.p = p;
            m->manifest.len = len;
            m->manifest_wrapped.p = env + item_start;
            m->manifest_wrapped.len = d.pos - item_start;
        } else if (is_severable_key(key)) {
            for (size_t j = 0; j < w->n_sev; j++)
                if (w->sev[j].key == key)
                    return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "duplicate severed member %llu",
                                         (unsigned long long)key);
            if (w->n_sev >= MAX_SEVERED)
                return fs38_diag_set(diag, FS38_ERR_LIMIT, "too many severed members");
            severed_item *s = &w->sev[w->n_sev++];
            s->key = key;
            s->wrapped.p = env + item_start;
            s->wrapped.len = d.pos - item_start;
            s->body.p = p;
            s->body.len = len;
        } else {
            return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "unsupported envelope member %llu",
                                 (unsigned long long)key);
        }
    }
    if (!fs38_cbor_at_end(&d))
        return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "%zu trailing bytes after the envelope", env_len - d.pos);
    if (!have_auth)
        return fs38_diag_set(diag, FS38_ERR_NO_AUTH, "envelope has no authentication wrapper");
    if (!have_manifest)
        return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "envelope has no manifest");
    return FS38_OK;
}

/* auth wrapper = [ bstr .cbor SUIT_Digest, + bstr .cbor (COSE_Sign1 / COSE_Mac0) ] */
static FS38_NODISCARD fs38_err authenticate(fs38_suit_manifest *m, const fs38_keyring *keys, fs38_diag *diag)
{
    fs38_cbor_dec d;
    size_t n;
    fs38_err e = fs38_cbor_check_single(m->auth.p, m->auth.len);
    if (e)
        return fmt_err(diag, e, "authentication wrapper");
    fs38_cbor_dec_init(&d, m->auth.p, m->auth.len);
    if ((e = fs38_cbor_get_array(&d, &n)))
        return fmt_err(diag, e, "authentication wrapper is not an array");
    const uint8_t *dg;
    size_t dg_len;
    if (n < 1 || (e = fs38_cbor_get_bstr(&d, &dg, &dg_len)))
        return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "authentication wrapper has no digest");
    int64_t alg;
    fs38_span digest;
    if ((e = parse_digest(dg, dg_len, &alg, &digest)))
        return fmt_err(diag, e, "manifest digest");
    if (alg != FS38_SUIT_ALG_SHA256)
        return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_ALG, "unsupported digest algorithm %lld", (long long)alg);
    if (digest.len != 32)
        return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "manifest digest is %zu bytes, expected 32", digest.len);
    if (n < 2)
        return fs38_diag_set(diag, FS38_ERR_NO_AUTH, "authentication wrapper has no COSE authentication block");
    if (n - 1 > FS38_SUIT_MAX_AUTH_BLOCKS)
        return fs38_diag_set(diag, FS38_ERR_LIMIT, "too many authentication blocks (%zu)", n - 1);

    /* Verify the COSE blocks over the encoded SUIT_Digest (detached payload). */
    fs38_diag first;
    fs38_diag_clear(&first);
    bool ok = false;
    for (size_t i = 1; i < n && !ok; i++) {
        const uint8_t *cose;
        size_t cose_len;
        fs38_diag dd;
        fs38_diag_clear(&dd);
        if ((e = fs38_cbor_get_bstr(&d, &cose, &cose_len))) {
            fs38_diag_set(&dd, FS38_ERR_SUIT_FORMAT, "authentication block %zu is not a byte string", i);
        } else {
            fs38_cbor_dec cd;
            fs38_cbor_head h;
            fs38_cbor_dec_init(&cd, cose, cose_len);
            bool mac = fs38_cbor_peek(&cd, &h) == FS38_OK && h.major == FS38_CBOR_TAG &&
                       h.value == FS38_COSE_TAG_MAC0;
            fs38_cose_info info;
#if FS38_SUIT_VERIFY_ONLY /* fs38/config.h: signatures only, no COSE_Mac0 code */
            e = mac ? fs38_diag_set(&dd, FS38_ERR_UNSUPPORTED_ALG, "COSE_Mac0 authentication is not built in")
                    : fs38_cose_sign1_verify(cose, cose_len, dg, dg_len, NULL, 0, keys, &info, &dd);
#else
            e = mac ? fs38_cose_mac0_verify(cose, cose_len, dg, dg_len, NULL, 0, keys, &info, &dd)
                    : fs38_cose_sign1_verify(cose, cose_len, dg, dg_len, NULL, 0, keys, &info, &dd);
#endif
            if (!e) {
                ok = true;
                m->auth_alg = info.alg;
                m->signer = info.signer;
                m->signer_is_mac = mac;
                memcpy(m->signer_kid, keys->a[info.signer].kid, FS38_KID_LEN);
            }
        }
        if (!ok && first.err == FS38_OK)
            first = dd;
        if (!ok && e == FS38_ERR_SUIT_FORMAT)
            break;
    }
    if (!ok) {
        if (diag)
            *diag = first;
        return first.err;
    }
    /* Only now hash the manifest: SHA-256 over the bstr-wrapped manifest. */
    uint8_t h[32];
    if ((e = fs38_sha256(m->manifest_wrapped.p, m->manifest_wrapped.len, h)))
        return fs38_diag_set(diag, e, "hashing the manifest failed");
    if (fs38_ct_compare(h, digest.p, 32) != 0)
        return fs38_diag_set(diag, FS38_ERR_MANIFEST_DIGEST, "manifest digest mismatch");
    memcpy(m->manifest_digest, h, 32);
    return FS38_OK;
}

/* components = [ + [ * bstr ] ] */
static FS38_NODISCARD fs38_err parse_components(fs38_suit_manifest *m, fs38_cbor_dec *d, fs38_diag *diag)
{
    size_t n;
    fs38_err e = fs38_cbor_get_array(d, &n);
    if (e)
        return fmt_err(diag, e, "components");
    if (n == 0)
        return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "manifest lists no components");
    if (n > FS38_SUIT_MAX_COMPONENTS)
        return fs38_diag_set(diag, FS38_ERR_LIMIT, "%zu components, at most %u supported", n,
                             (unsigned)FS38_SUIT_MAX_COMPONENTS);
    for (size_t i = 0; i < n; i++) {
        size_t start = d->pos, parts;
        if ((e = fs38_cbor_get_array(d, &parts)))
            return fmt_err(diag, e, "component identifier");
        for (size_t j = 0; j < parts; j++)
            if ((e = fs38_cbor_get_bstr(d, NULL, NULL)))
                return fmt_err(diag, e, "component identifier part");
        m->components[i].p = d->buf + start;
        m->components[i].len = d->pos - start;
    }
    m->n_components = n;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err parse_common(fs38_suit_manifest *m, const uint8_t *p, size_t len, fs38_diag *diag)
{
    fs38_cbor_dec d;
    size_t n;
    fs38_cbor_dec_init(&d, p, len);
    fs38_err e = fs38_cbor_get_map(&d, &n);
    if (e)
        return fmt_err(diag, e, "common is not a map");
    uint32_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t key;
        if ((e = fs38_cbor_get_uint(&d, &key)))
            return fmt_err(diag, e, "common key");
        if (key < 32) {
            if (seen & (1u << key))
                return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "duplicate common key %llu",
                                     (unsigned long long)key);
            seen |= 1u << key;
        }
        if (key == FS38_SUIT_COMMON_COMPONENTS) {
            if ((e = parse_components(m, &d, diag)))
                return e;
        } else if (key == FS38_SUIT_COMMON_SHARED_SEQ) {
            if ((e = fs38_cbor_get_bstr(&d, &m->shared_seq.p, &m->shared_seq.len)))
                return fmt_err(diag, e, "shared sequence");
        } else if (key == FS38_SUIT_COMMON_DEPENDENCIES) {
            if ((e = fs38_cbor_get_raw(&d, &m->dependencies.p, &m->dependencies.len)))
                return fmt_err(diag, e, "dependencies");
        } else {
            return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "unknown common key %llu", (unsigned long long)key);
        }
    }
    if (!fs38_cbor_at_end(&d))
        return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "trailing bytes after common");
    if (m->n_components == 0)
        return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "manifest lists no components");
    return FS38_OK;
}

static FS38_NODISCARD fs38_err parse_manifest(fs38_suit_manifest *m, fs38_diag *diag)
{
    fs38_cbor_dec d;
    size_t n;
    fs38_cbor_dec_init(&d, m->manifest.p, m->manifest.len);
    fs38_err e = fs38_cbor_get_map(&d, &n);
    if (e)
        return fmt_err(diag, e, "manifest is not a map");
    uint32_t seen = 0;
    bool have_version = false, have_seq = false, have_common = false;
    for (size_t i = 0; i < n; i++) {
        uint64_t key;
        if ((e = fs38_cbor_get_uint(&d, &key)))
            return fmt_err(diag, e, "manifest key");
        if (key < 32) {
            if (seen & (1u << key))
                return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "duplicate manifest key %llu",
                                     (unsigned long long)key);
            seen |= 1u << key;
        }
        fs38_suit_member *mem = member_by_key(m, key);
        if (key == FS38_SUIT_MAN_VERSION) {
            if ((e = fs38_cbor_get_uint(&d, &m->version)))
                return fmt_err(diag, e, "manifest version");
            if (m->version != 1)
                return fs38_diag_set(diag, FS38_ERR_MANIFEST_VERSION, "manifest version %llu, expected 1",
                                     (unsigned long long)m->version);
            have_version = true;
        } else if (key == FS38_SUIT_MAN_SEQUENCE) {
            if ((e = fs38_cbor_get_uint(&d, &m->sequence)))
                return fmt_err(diag, e, "sequence number");
            have_seq = true;
        } else if (key == FS38_SUIT_MAN_COMMON) {
            const uint8_t *p;
            size_t len;
            if ((e = fs38_cbor_get_bstr(&d, &p, &len)))
                return fmt_err(diag, e, "common");
            if ((e = parse_common(m, p, len, diag)))
                return e;
            have_common = true;
        } else if (key == FS38_SUIT_MAN_REFERENCE_URI) {
            const char *s;
            if ((e = fs38_cbor_get_tstr(&d, &s, &m->reference_uri.len)))
                return fmt_err(diag, e, "reference-uri");
            m->reference_uri.p = (const uint8_t *)s;
        } else if (key == FS38_SUIT_MAN_COMPONENT_ID) {
            if ((e = fs38_cbor_get_raw(&d, &m->manifest_component_id.p, &m->manifest_component_id.len)))
                return fmt_err(diag, e, "manifest-component-id");
        } else if (mem) {
            if (fs38_cbor_next_is(&d, FS38_CBOR_BSTR)) {
                if ((e = fs38_cbor_get_bstr(&d, &mem->body.p, &mem->body.len)))
                    return fmt_err(diag, e, "severable member");
                mem->state = FS38_MEMBER_PRESENT;
            } else if (is_severable_key(key) && fs38_cbor_next_is(&d, FS38_CBOR_ARRAY)) {
                const uint8_t *raw;
                size_t raw_len;
                int64_t alg;
                fs38_span dg;
                if ((e = fs38_cbor_get_raw(&d, &raw, &raw_len)) || (e = parse_digest(raw, raw_len, &alg, &dg)))
                    return fmt_err(diag, e, "severed member digest");
                if (alg != FS38_SUIT_ALG_SHA256 || dg.len != 32)
                    return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_ALG, "severed %s digest algorithm %lld",
                                         fs38_suit_seq_name((int64_t)key), (long long)alg);
                memcpy(mem->digest, dg.p, 32);
                mem->severable = true;
                mem->state = FS38_MEMBER_SEVERED;
            } else {
                return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "manifest member %s is malformed",
                                     fs38_suit_seq_name((int64_t)key));
            }
        } else {
            return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "unknown manifest key %llu", (unsigned long long)key);
        }
    }
    if (!fs38_cbor_at_end(&d))
        return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "trailing bytes after the manifest");
    if (!have_version)
        return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "manifest has no version");
    if (!have_seq)
        return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "manifest has no sequence number");
    if (!have_common)
        return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "manifest has no common section");
    return FS38_OK;
}

/* Attach the severed members the envelope carries; each must match its digest. */
static FS38_NODISCARD fs38_err attach_severed(fs38_suit_manifest *m, const env_walk *w, fs38_diag *diag)
{
    for (size_t i = 0; i < w->n_sev; i++) {
        const severed_item *s = &w->sev[i];
        fs38_suit_member *mem = member_by_key(m, s->key);
        const char *name = fs38_suit_seq_name((int64_t)s->key);
        if (!mem || !mem->severable)
            return fs38_diag_set(diag, FS38_ERR_SEVERED_DIGEST,
                                 "envelope carries %s but the manifest holds no digest for it", name);
        uint8_t h[32];
        fs38_err e = fs38_sha256(s->wrapped.p, s->wrapped.len, h);
        if (e)
            return fs38_diag_set(diag, e, "hashing severed %s failed", name);
        if (fs38_ct_compare(h, mem->digest, 32) != 0)
            return fs38_diag_set(diag, FS38_ERR_SEVERED_DIGEST, "severed %s digest mismatch", name);
        mem->body = s->body;
        mem->state = FS38_MEMBER_PRESENT;
    }
    return FS38_OK;
}

fs38_err fs38_suit_authenticate(fs38_suit_manifest *m, const uint8_t *env, size_t env_len,
                                const fs38_keyring *keys, fs38_diag *diag)
{
    env_walk w;
    if (!m || !env || !keys)
        return fs38_diag_set(diag, FS38_ERR_ARG, "missing envelope or keys");
    memset(m, 0, sizeof *m);
    memset(&w, 0, sizeof w);
    fs38_diag_clear(diag);
    fs38_err e = walk_envelope(m, &w, env, env_len, diag);
    if (!e)
        e = authenticate(m, keys, diag);
    if (!e) {
        m->authenticated = true;
        e = parse_manifest(m, diag);
    }
    if (!e)
        e = attach_severed(m, &w, diag);
    if (e) {
        m->authenticated = false;
        return e;
    }
    return FS38_OK;
}

fs38_err fs38_suit_check_sequence(const fs38_suit_manifest *m, uint64_t installed, fs38_diag *diag)
{
    if (m->sequence < installed)
        return fs38_diag_set(diag, FS38_ERR_ROLLBACK, "sequence %llu < installed %llu",
                             (unsigned long long)m->sequence, (unsigned long long)installed);
    return FS38_OK;
}

fs38_err fs38_suit_integrated(const fs38_suit_manifest *m, const char *name, size_t name_len, fs38_span *out)
{
    for (size_t i = 0; i < m->n_integrated; i++) {
        if (m->integrated[i].name.len == name_len && !memcmp(m->integrated[i].name.p, name, name_len)) {
            *out = m->integrated[i].data;
            return FS38_OK;
        }
    }
    return FS38_ERR_NOT_FOUND;
}

/* ------------------------------------------------------------------------------------------
 * Command interpreter
 * ---------------------------------------------------------------------------------------- */

static bool is_condition_failure(fs38_err e)
{
    return e == FS38_ERR_VENDOR_ID || e == FS38_ERR_CLASS_ID || e == FS38_ERR_IMAGE_DIGEST ||
           e == FS38_ERR_IMAGE_SIZE || e == FS38_ERR_CONDITION;
}

static FS38_NODISCARD fs38_err run_commands(fs38_suit_runner *r, const fs38_suit_manifest *m, fs38_span seq, fs38_diag *diag);

static FS38_NODISCARD fs38_err set_param(fs38_suit_runner *r, fs38_suit_params *pp, int64_t key, fs38_cbor_dec *d,
                          fs38_diag *diag)
{
    (void)r;
    fs38_err e = FS38_OK;
    switch (key) {
    case FS38_SUIT_PARAM_VENDOR_ID: e = fs38_cbor_get_bstr(d, &pp->vendor_id.p, &pp->vendor_id.len); break;
    case FS38_SUIT_PARAM_CLASS_ID: e = fs38_cbor_get_bstr(d, &pp->class_id.p, &pp->class_id.len); break;
    case FS38_SUIT_PARAM_DEVICE_ID: e = fs38_cbor_get_bstr(d, &pp->device_id.p, &pp->device_id.len); break;
    case FS38_SUIT_PARAM_IMAGE_DIGEST: {
        const uint8_t *p;
        size_t len;
        int64_t alg = 0;
        fs38_span dg = { NULL, 0 };
        e = fs38_cbor_get_bstr(d, &p, &len);
        if (!e)
            e = parse_digest(p, len, &alg, &dg);
        if (!e) {
            pp->digest_alg = alg;
            pp->digest = dg;
        }
        break;
    }
    case FS38_SUIT_PARAM_COMPONENT_SLOT: e = fs38_cbor_get_uint(d, &pp->component_slot); break;
    case FS38_SUIT_PARAM_IMAGE_SIZE: e = fs38_cbor_get_uint(d, &pp->image_size); break;
    case FS38_SUIT_PARAM_STRICT_ORDER: e = fs38_cbor_get_bool(d, &pp->strict_order); break;
    case FS38_SUIT_PARAM_SOFT_FAILURE: e = fs38_cbor_get_bool(d, &pp->soft_failure); break;
#if FS38_SUIT_VERIFY_ONLY
    /* fs38/config.h: parameters only installing uses are checked to be well-formed CBOR and
     * recorded as present, their values not kept */
    case FS38_SUIT_PARAM_CONTENT:
    case FS38_SUIT_PARAM_ENCRYPTION_INFO:
    case FS38_SUIT_PARAM_URI:
    case FS38_SUIT_PARAM_SOURCE_COMPONENT:
    case FS38_SUIT_PARAM_INVOKE_ARGS: e = fs38_cbor_skip(d); break;
#else
    case FS38_SUIT_PARAM_CONTENT: e = fs38_cbor_get_bstr(d, &pp->content.p, &pp->content.len); break;
    case FS38_SUIT_PARAM_ENCRYPTION_INFO:
        e = fs38_cbor_get_bstr(d, &pp->encryption_info.p, &pp->encryption_info.len);
        break;
    case FS38_SUIT_PARAM_URI: {
        const char *s = NULL;
        size_t n = 0;
        e = fs38_cbor_get_tstr(d, &s, &n);
        if (!e) {
            pp->uri.p = (const uint8_t *)s;
            pp->uri.len = n;
        }
        break;
    }
    case FS38_SUIT_PARAM_SOURCE_COMPONENT: e = fs38_cbor_get_uint(d, &pp->source_component); break;
    case FS38_SUIT_PARAM_INVOKE_ARGS:
        e = fs38_cbor_get_bstr(d, &pp->invoke_args.p, &pp->invoke_args.len);
        break;
#endif
    default:
        return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_PARAM, "unsupported parameter %lld", (long long)key);
    }
    if (e)
        return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "parameter %s is malformed", fs38_suit_param_name(key));
    pp->set |= 1u << key;
    return FS38_OK;
}

/* directive-set-parameters (19: only unset ones) / directive-override-parameters (20). */
static FS38_NODISCARD fs38_err do_parameters(fs38_suit_runner *r, const fs38_suit_manifest *m, fs38_cbor_dec *d, bool override,
                              fs38_diag *diag)
{
    size_t n;
    fs38_err e = fs38_cbor_get_map(d, &n);
    if (e)
        return fmt_err(diag, e, "parameters");
    size_t start = d->pos;
    for (unsigned c = 0; c < m->n_components; c++) {
        if (!(r->selected & (1u << c)))
            continue;
        d->pos = start;
        for (size_t i = 0; i < n; i++) {
            int64_t key;
            if ((e = fs38_cbor_get_int(d, &key)))
                return fmt_err(diag, e, "parameter key");
            if (key < 0 || key > 31) {
                if ((e = fs38_cbor_skip(d)))
                    return fmt_err(diag, e, "parameter value");
                return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_PARAM, "unsupported parameter %lld", (long long)key);
            }
            if (!override && FS38_SUIT_HAS(&r->params[c], key)) {
                if ((e = fs38_cbor_skip(d)))
                    return fmt_err(diag, e, "parameter value");
                continue;
            }
            if ((e = set_param(r, &r->params[c], key, d, diag)))
                return e;
        }
    }
    return FS38_OK;
}

static FS38_NODISCARD fs38_err do_set_index(fs38_suit_runner *r, const fs38_suit_manifest *m, fs38_cbor_dec *d, fs38_diag *diag)
{
    fs38_cbor_head h;
    fs38_err e = fs38_cbor_peek(d, &h);
    if (e)
        return fmt_err(diag, e, "component index");
    if (h.major == FS38_CBOR_UINT) {
        uint64_t idx;
        if ((e = fs38_cbor_get_uint(d, &idx)))
            return fmt_err(diag, e, "component index");
        if (idx >= m->n_components && m->dependencies.p)
            return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_COMMAND,
                                 "component index %llu names a dependency: dependencies are not supported",
                                 (unsigned long long)idx);
        if (idx >= m->n_components)
            return fs38_diag_set(diag, FS38_ERR_COMPONENT, "component index %llu out of range (%zu components)",
                                 (unsigned long long)idx, m->n_components);
        r->selected = 1u << idx;
        return FS38_OK;
    }
    if (h.major == FS38_CBOR_SIMPLE && h.ai == FS38_CBOR_TRUE) {
        if ((e = fs38_cbor_get_bool(d, NULL)))
            return fmt_err(diag, e, "component index");
        r->selected = (1u << m->n_components) - 1u;
        return FS38_OK;
    }
    size_t n;
    if ((e = fs38_cbor_get_array(d, &n)))
        return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "component index is not uint, true or array");
    uint32_t sel = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t idx;
        if ((e = fs38_cbor_get_uint(d, &idx)))
            return fmt_err(diag, e, "component index list");
        if (idx >= m->n_components)
            return fs38_diag_set(diag, FS38_ERR_COMPONENT, "component index %llu out of range (%zu components)",
                                 (unsigned long long)idx, m->n_components);
        sel |= 1u << idx;
    }
    if (!sel)
        return fs38_diag_set(diag, FS38_ERR_COMPONENT, "empty component index list");
    r->selected = sel;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err do_try_each(fs38_suit_runner *r, const fs38_suit_manifest *m, fs38_cbor_dec *d, fs38_diag *diag)
{
    size_t n;
    fs38_err e = fs38_cbor_get_array(d, &n);
    if (e)
        return fmt_err(diag, e, "try-each");
    if (r->nesting >= FS38_SUIT_MAX_NESTING)
        return fs38_diag_set(diag, FS38_ERR_LIMIT, "try-each nested deeper than %u", (unsigned)FS38_SUIT_MAX_NESTING);
    fs38_err last = FS38_ERR_CONDITION;
    bool done = false;
    uint32_t saved_sel = r->selected;
    for (size_t i = 0; i < n; i++) {
        if (fs38_cbor_next_is_null(d)) {
            if ((e = fs38_cbor_get_null(d)))
                return fmt_err(diag, e, "try-each");
            if (i != n - 1)
                return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "try-each: null before the last entry");
            if (!done)
                done = true; /* a trailing null means "nothing matched is fine" */
            continue;
        }
        fs38_span seq;
        if ((e = fs38_cbor_get_bstr(d, &seq.p, &seq.len)))
            return fmt_err(diag, e, "try-each entry");
        if (done)
            continue; /* still walk the rest for well-formedness */
        r->selected = saved_sel;
        r->nesting++;
        e = run_commands(r, m, seq, diag);
        r->nesting--;
        if (!e) {
            done = true;
        } else if (is_condition_failure(e)) {
            last = e;
        } else {
            return e;
        }
    }
    if (!done)
        return diag && diag->err == last ? last
                                          : fs38_diag_set(diag, last, "try-each: no alternative matched");
    fs38_diag_clear(diag);
    return FS38_OK;
}

static fs38_suit_cmd make_cmd(const fs38_suit_runner *r, const fs38_suit_manifest *m, unsigned c, uint64_t policy)
{
    fs38_suit_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.m = m;
    cmd.component = c;
    cmd.component_id = m->components[c];
    cmd.params = &r->params[c];
    cmd.reporting_policy = policy;
    return cmd;
}

static FS38_NODISCARD fs38_err cond_id(const fs38_suit_params *pp, int64_t key, const uint8_t *mine, fs38_err fail,
                        const char *what, fs38_diag *diag)
{
    const fs38_span *want = key == FS38_SUIT_PARAM_VENDOR_ID ? &pp->vendor_id
                            : key == FS38_SUIT_PARAM_CLASS_ID ? &pp->class_id
                                                              : &pp->device_id;
    if (!FS38_SUIT_HAS(pp, key))
        return fs38_diag_set(diag, FS38_ERR_MISSING_PARAM, "%s condition without a %s parameter", what, what);
    if (!mine)
        return fs38_diag_set(diag, fail, "device has no %s", what);
    if (want->len != 16 || fs38_ct_compare(want->p, mine, 16) != 0)
        return fs38_diag_set(diag, fail, "%s mismatch", what);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err cond_image_match(fs38_suit_runner *r, const fs38_suit_cmd *cmd, fs38_diag *diag)
{
    const fs38_suit_params *pp = cmd->params;
    if (!FS38_SUIT_HAS(pp, FS38_SUIT_PARAM_IMAGE_DIGEST))
        return fs38_diag_set(diag, FS38_ERR_MISSING_PARAM, "image-match without an image-digest parameter");
    if (pp->digest_alg != FS38_SUIT_ALG_SHA256)
        return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_ALG, "unsupported digest algorithm %lld",
                             (long long)pp->digest_alg);
    if (pp->digest.len != 32)
        return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "image digest is %zu bytes, expected 32", pp->digest.len);
    if (!r->ops || !r->ops->digest)
        return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_COMMAND, "condition-image-match not supported here");
    uint8_t h[32];
    fs38_err e = r->ops->digest(r->user, cmd, h);
    if (e == FS38_ERR_IMAGE_SIZE)
        return fs38_diag_set(diag, e, "component %u does not hold an image of %llu bytes", cmd->component,
                             (unsigned long long)pp->image_size);
    if (e)
        return fs38_diag_set(diag, e, "component %u: %s", cmd->component, fs38_strerror(e));
    if (fs38_ct_compare(h, pp->digest.p, 32) != 0)
        return fs38_diag_set(diag, FS38_ERR_IMAGE_DIGEST, "image digest mismatch (component %u)", cmd->component);
    return FS38_OK;
}

typedef fs38_err (*op_fn)(void *user, const fs38_suit_cmd *c);

static op_fn op_for(const fs38_suit_ops *ops, int64_t code)
{
    if (!ops)
        return NULL;
    switch (code) {
    case FS38_SUIT_DIR_FETCH: return ops->fetch;
    case FS38_SUIT_DIR_COPY: return ops->copy;
    case FS38_SUIT_DIR_WRITE: return ops->write;
    case FS38_SUIT_DIR_INVOKE: return ops->invoke;
    case FS38_SUIT_COND_COMPONENT_SLOT: return ops->slot;
    default: return NULL;
    }
}

/* A command applied to one component. */
static FS38_NODISCARD fs38_err run_on_component(fs38_suit_runner *r, const fs38_suit_manifest *m, int64_t code, unsigned c,
                                 uint64_t policy, fs38_diag *diag)
{
    fs38_suit_cmd cmd = make_cmd(r, m, c, policy);
    const fs38_suit_params *pp = &r->params[c];
    fs38_err e;
    switch (code) {
    case FS38_SUIT_COND_VENDOR_ID:
        e = cond_id(pp, FS38_SUIT_PARAM_VENDOR_ID, r->vendor_id, FS38_ERR_VENDOR_ID, "vendor id", diag);
        if (!e)
            r->checked[c] |= FS38_SUIT_CHECKED_VENDOR;
        return e;
    case FS38_SUIT_COND_CLASS_ID:
        e = cond_id(pp, FS38_SUIT_PARAM_CLASS_ID, r->class_id, FS38_ERR_CLASS_ID, "class id", diag);
        if (!e)
            r->checked[c] |= FS38_SUIT_CHECKED_CLASS;
        return e;
    case FS38_SUIT_COND_DEVICE_ID:
        return cond_id(pp, FS38_SUIT_PARAM_DEVICE_ID, r->device_id, FS38_ERR_CONDITION, "device id", diag);
    case FS38_SUIT_COND_IMAGE_MATCH:
        e = cond_image_match(r, &cmd, diag);
        if (!e)
            r->checked[c] |= FS38_SUIT_CHECKED_IMAGE;
        return e;
    case FS38_SUIT_COND_ABORT:
        return fs38_diag_set(diag, FS38_ERR_CONDITION, "condition-abort");
    case FS38_SUIT_COND_COMPONENT_SLOT:
        if (!FS38_SUIT_HAS(pp, FS38_SUIT_PARAM_COMPONENT_SLOT))
            return fs38_diag_set(diag, FS38_ERR_MISSING_PARAM, "component-slot condition without a slot parameter");
        break;
#if !FS38_SUIT_VERIFY_ONLY
    case FS38_SUIT_DIR_FETCH:
        if (!FS38_SUIT_HAS(pp, FS38_SUIT_PARAM_URI))
            return fs38_diag_set(diag, FS38_ERR_MISSING_PARAM, "fetch without a uri parameter");
        break;
    case FS38_SUIT_DIR_WRITE:
        if (!FS38_SUIT_HAS(pp, FS38_SUIT_PARAM_CONTENT))
            return fs38_diag_set(diag, FS38_ERR_MISSING_PARAM, "write without a content parameter");
        break;
    case FS38_SUIT_DIR_COPY:
        if (!FS38_SUIT_HAS(pp, FS38_SUIT_PARAM_SOURCE_COMPONENT))
            return fs38_diag_set(diag, FS38_ERR_MISSING_PARAM, "copy without a source-component parameter");
        if (pp->source_component >= m->n_components || pp->source_component == c)
            return fs38_diag_set(diag, FS38_ERR_COMPONENT, "copy source component %llu invalid",
                                 (unsigned long long)pp->source_component);
        cmd.source_params = &r->params[pp->source_component];
        break;
#endif
    default:
        break;
    }
    op_fn fn = op_for(r->ops, code);
    if (!fn)
        return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_COMMAND, "%s not supported here", fs38_suit_command_name(code));
    e = fn(r->user, &cmd);
    if (e == FS38_ERR_CONDITION && code == FS38_SUIT_COND_COMPONENT_SLOT)
        return fs38_diag_set(diag, e, "%s failed: component %u is bound to slot %llu", fs38_suit_command_name(code), c,
                             (unsigned long long)pp->component_slot);
    if (e == FS38_ERR_CONDITION)
        return fs38_diag_set(diag, e, "%s failed (component %u)", fs38_suit_command_name(code), c);
    if (e)
        return diag && diag->err == e ? e
                                      : fs38_diag_set(diag, e, "%s (component %u): %s", fs38_suit_command_name(code),
                                                      c, fs38_strerror(e));
    if (code == FS38_SUIT_DIR_INVOKE)
        r->checked[c] |= FS38_SUIT_INVOKED;
    if (code == FS38_SUIT_COND_COMPONENT_SLOT)
        r->checked[c] |= FS38_SUIT_CHECKED_SLOT;
    return FS38_OK;
}

static FS38_NODISCARD fs38_err run_commands(fs38_suit_runner *r, const fs38_suit_manifest *m, fs38_span seq, fs38_diag *diag)
{
    fs38_cbor_dec d;
    size_t n;
    fs38_cbor_dec_init(&d, seq.p, seq.len);
    fs38_err e = fs38_cbor_get_array(&d, &n);
    if (e)
        return fmt_err(diag, e, "command sequence is not an array");
    if (n % 2)
        return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "command sequence has an odd number of items");
    for (size_t i = 0; i < n; i += 2) {
        int64_t code;
        if ((e = fs38_cbor_get_int(&d, &code)))
            return fmt_err(diag, e, "command code");
        switch (code) {
        case FS38_SUIT_DIR_SET_COMPONENT_INDEX:
            e = do_set_index(r, m, &d, diag);
            break;
        case FS38_SUIT_DIR_OVERRIDE_PARAMETERS:
        case FS38_SUIT_DIR_SET_PARAMETERS:
            e = do_parameters(r, m, &d, code == FS38_SUIT_DIR_OVERRIDE_PARAMETERS, diag);
            break;
        case FS38_SUIT_DIR_TRY_EACH:
            e = do_try_each(r, m, &d, diag);
            break;
        case FS38_SUIT_DIR_RUN_SEQUENCE: {
            fs38_span sub;
            if ((e = fs38_cbor_get_bstr(&d, &sub.p, &sub.len)))
                return fmt_err(diag, e, "run-sequence");
            if (r->nesting >= FS38_SUIT_MAX_NESTING)
                return fs38_diag_set(diag, FS38_ERR_LIMIT, "run-sequence nested too deep");
            r->nesting++;
            e = run_commands(r, m, sub, diag);
            r->nesting--;
            break;
        }
        case FS38_SUIT_COND_VENDOR_ID:
        case FS38_SUIT_COND_CLASS_ID:
        case FS38_SUIT_COND_DEVICE_ID:
        case FS38_SUIT_COND_IMAGE_MATCH:
        case FS38_SUIT_COND_COMPONENT_SLOT:
        case FS38_SUIT_COND_ABORT:
#if !FS38_SUIT_VERIFY_ONLY /* fs38/config.h: installing commands are unsupported commands */
        case FS38_SUIT_DIR_FETCH:
        case FS38_SUIT_DIR_COPY:
        case FS38_SUIT_DIR_WRITE:
#endif
        case FS38_SUIT_DIR_INVOKE: {
            uint64_t policy;
            if ((e = fs38_cbor_get_uint(&d, &policy)))
                return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "%s: reporting policy is not an unsigned integer",
                                     fs38_suit_command_name(code));
            for (unsigned c = 0; c < m->n_components && !e; c++)
                if (r->selected & (1u << c))
                    e = run_on_component(r, m, code, c, policy, diag);
            break;
        }
        default: {
            const char *name = fs38_suit_command_name(code);
            if (name)
                return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_COMMAND, "unsupported command %s (%lld)", name,
                                     (long long)code);
            return fs38_diag_set(diag, FS38_ERR_UNSUPPORTED_COMMAND, "unknown command %lld", (long long)code);
        }
        }
        if (e)
            return e;
    }
    if (!fs38_cbor_at_end(&d))
        return fs38_diag_set(diag, FS38_ERR_SUIT_FORMAT, "trailing bytes after a command sequence");
    return FS38_OK;
}

fs38_err fs38_suit_run(fs38_suit_runner *r, const fs38_suit_manifest *m, fs38_suit_seq seq, fs38_diag *diag)
{
    if (!r || !m)
        return fs38_diag_set(diag, FS38_ERR_ARG, "missing runner or manifest");
    if (!m->authenticated)
        return fs38_diag_set(diag, FS38_ERR_STATE, "manifest is not authenticated");
    const fs38_suit_member *mem = fs38_suit_member_of(m, seq);
    if (!mem || seq == (fs38_suit_seq)FS38_SUIT_MAN_TEXT)
        return fs38_diag_set(diag, FS38_ERR_ARG, "not a command sequence");
    const char *name = fs38_suit_seq_name(seq);
    if (mem->state == FS38_MEMBER_ABSENT)
        return fs38_diag_set(diag, FS38_ERR_NOT_FOUND, "manifest has no %s sequence", name);
    if (mem->state == FS38_MEMBER_SEVERED)
        return fs38_diag_set(diag, FS38_ERR_SEVERED_MISSING, "%s sequence is severed and not supplied", name);

    memset(r->params, 0, sizeof r->params);
    memset(r->checked, 0, sizeof r->checked);
    r->selected = 1u;
    r->nesting = 0;
    fs38_diag_clear(diag);
    fs38_err e = FS38_OK;
    if (m->shared_seq.p)
        e = run_commands(r, m, m->shared_seq, diag);
    if (!e) {
        r->selected = 1u; /* each sequence starts at component 0 */
        e = run_commands(r, m, mem->body, diag);
    }
    return e;
}
