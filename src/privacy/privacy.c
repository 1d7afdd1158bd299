/* SPDX-License-Identifier: Apache-2.0 */
/* privacy.c — consent, pseudonyms and telemetry minimisation (control 11). Contract, key
 * derivation and record formats: fs38/privacy.h. */
#include <string.h>
#include <psa/crypto.h>
#include "fs38/event.h"
#include "fs38/privacy.h"
#include "fs38/util.h"
#include "inner.h"

#define ROOT_LEN 32u
#define SALT_LEN 16u
#define CONSENT_LEN 14u
#define CONSENT_VERSION 1u
#define ID_MAX 1024u
#define FIELDS_MAX 64u
#define REC_ROOT "pv/root"

static const char k_info[] = "fs38 pseudonym v1";
static const uint8_t k_dom[] = { 'f', 's', '3', '8', '-', 'p', 'n' };

bool fs38_purpose_name_valid(const char *name)
{
    if (!name)
        return false;
    size_t n = 0;
    for (; name[n]; n++) {
        const char c = name[n];
        if (n >= FS38_PURPOSE_MAX || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return n > 0;
}

/* "pv/<kind>/<purpose>" */
static FS38_NODISCARD fs38_err rec_name(fs38_privacy *p, char kind, const char *purpose, char out[FS38_STORE_NAME_MAX + 1])
{
    if (!fs38_purpose_name_valid(purpose))
        return fs38_diag_set(&p->diag, FS38_ERR_ARG, "purpose name must be 1..16 characters of a-z, 0-9, '-'");
    const char k[2] = { kind, 0 };
    (void)fs38_fmt(out, FS38_STORE_NAME_MAX + 1, "pv/%s/%s", k, purpose);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err store_err(fs38_privacy *p, fs38_err e)
{
    return fs38_diag_set(&p->diag, e, "%s", p->store->diag.msg[0] ? p->store->diag.msg : fs38_strerror(e));
}

fs38_err fs38_privacy_init(fs38_privacy *p, fs38_store *store, const fs38_port *port)
{
    if (!p || !store)
        return FS38_ERR_ARG;
    memset(p, 0, sizeof *p);
    p->store = store;
    p->port = port;
    return FS38_OK;
}

static int64_t now_s(const fs38_privacy *p, bool *known)
{
    int64_t t = 0;
    *known = p->port && p->port->wall_time && p->port->wall_time(p->port->ctx, &t) == FS38_OK;
    return *known ? t : 0;
}

fs38_err fs38_consent_get(fs38_privacy *p, const char *purpose, fs38_consent *out)
{
    char name[FS38_STORE_NAME_MAX + 1];
    uint8_t v[CONSENT_LEN];
    size_t n = 0;
    if (!p || !p->store || !out)
        return FS38_ERR_ARG;
    fs38_diag_clear(&p->diag);
    memset(out, 0, sizeof *out);
    fs38_err e = rec_name(p, 'c', purpose, name);
    if (e != FS38_OK)
        return e;
    e = fs38_store_get(p->store, name, v, sizeof v, &n);
    if (e == FS38_ERR_NOT_FOUND)
        return FS38_OK;
    if (e == FS38_ERR_BUFFER || (e == FS38_OK && (n != CONSENT_LEN || v[0] != CONSENT_VERSION || v[1] > 1)))
        return fs38_diag_set(&p->diag, FS38_ERR_STORE_CORRUPT, "consent record of %s is malformed", purpose);
    if (e != FS38_OK)
        return store_err(p, e);
    out->recorded = true;
    out->granted = v[1] == 1;
    out->notice_version = fs38_get_le32(v + 2);
    out->time = (int64_t)fs38_get_le64(v + 6);
    return FS38_OK;
}

fs38_err fs38_consent_set(fs38_privacy *p, const char *purpose, bool granted, uint32_t notice_version)
{
    char cname[FS38_STORE_NAME_MAX + 1], sname[FS38_STORE_NAME_MAX + 1], dname[FS38_STORE_NAME_MAX + 1];
    uint8_t v[CONSENT_LEN], salt[SALT_LEN];
    size_t n = 0;
    bool known;
    if (!p || !p->store)
        return FS38_ERR_ARG;
    fs38_diag_clear(&p->diag);
    fs38_err e = rec_name(p, 'c', purpose, cname);
    if (e == FS38_OK)
        e = rec_name(p, 's', purpose, sname);
    if (e == FS38_OK)
        e = rec_name(p, 'd', purpose, dname);
    if (e != FS38_OK)
        return e;
    if (notice_version == 0)
        return fs38_diag_set(&p->diag, FS38_ERR_ARG, "notice version must be 1 or more");
    e = fs38_port_lock(p->port); /* check-then-write as one step against other contexts */
    if (e != FS38_OK)
        return fs38_diag_set(&p->diag, e, "device lock failed");
    if (granted) {
        e = fs38_store_get(p->store, sname, salt, sizeof salt, &n);
        if (e == FS38_ERR_NOT_FOUND || (e == FS38_OK && n != SALT_LEN)) {
            e = psa_generate_random(salt, sizeof salt) == PSA_SUCCESS ? FS38_OK : FS38_ERR_CRYPTO;
            if (e != FS38_OK)
                (void)fs38_diag_set(&p->diag, e, "random salt failed");
            else if ((e = fs38_store_put(p->store, sname, salt, sizeof salt)) != FS38_OK)
                e = store_err(p, e);
        } else if (e != FS38_OK) {
            e = store_err(p, e);
        }
        fs38_wipe(salt, sizeof salt);
    } else {
        /* what was kept goes first: a cut after this leaves no data, whatever the record says */
        e = fs38_store_delete(p->store, dname);
        if (e == FS38_OK)
            e = fs38_store_delete(p->store, sname);
        if (e != FS38_OK)
            e = store_err(p, e);
    }
    if (e == FS38_OK) {
        v[0] = CONSENT_VERSION;
        v[1] = granted ? 1u : 0u;
        fs38_put_le32(v + 2, notice_version);
        fs38_put_le64(v + 6, (uint64_t)now_s(p, &known));
        e = fs38_store_put(p->store, cname, v, sizeof v);
        if (e != FS38_OK)
            e = store_err(p, e);
    }
    fs38_port_unlock(p->port);
    if (e != FS38_OK)
        return e;
    fs38_event(granted ? FS38_EV_CONSENT_GRANTED : FS38_EV_CONSENT_REVOKED, FS38_SEV_NOTICE, (int64_t)notice_version,
               purpose);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err check_purpose(fs38_privacy *p, const fs38_purpose *pur)
{
    if (!pur || !fs38_purpose_name_valid(pur->name) || pur->notice_version == 0 ||
        pur->location_decimals > FS38_LOCATION_DECIMALS_MAX || (!pur->allow && pur->n_allow))
        return fs38_diag_set(&p->diag, FS38_ERR_ARG, "invalid purpose definition");
    return FS38_OK;
}

fs38_err fs38_consent_check(fs38_privacy *p, const fs38_purpose *pur)
{
    fs38_consent c;
    if (!p || !p->store)
        return FS38_ERR_ARG;
    fs38_err e = check_purpose(p, pur);
    if (e == FS38_OK)
        e = fs38_consent_get(p, pur->name, &c);
    if (e != FS38_OK)
        return e;
    if (!c.recorded)
        return fs38_diag_set(&p->diag, FS38_ERR_POLICY, "no consent for purpose %s (never granted)", pur->name);
    if (!c.granted)
        return fs38_diag_set(&p->diag, FS38_ERR_POLICY, "no consent for purpose %s (revoked)", pur->name);
    if (c.notice_version < pur->notice_version)
        return fs38_diag_set(&p->diag, FS38_ERR_POLICY,
                             "no consent for purpose %s: given for notice version %u, the notice is now version %u",
                             pur->name, (unsigned)c.notice_version, (unsigned)pur->notice_version);
    return FS38_OK;
}

/* The device's privacy root secret, created at first use. */
static FS38_NODISCARD fs38_err root_secret(fs38_privacy *p, uint8_t root[ROOT_LEN])
{
    size_t n = 0;
    fs38_err e = fs38_store_get(p->store, REC_ROOT, root, ROOT_LEN, &n);
    if (e == FS38_OK && n == ROOT_LEN)
        return FS38_OK;
    if (e != FS38_OK && e != FS38_ERR_NOT_FOUND)
        return e == FS38_ERR_BUFFER ? fs38_diag_set(&p->diag, FS38_ERR_STORE_CORRUPT, "privacy root secret malformed")
                                    : store_err(p, e);
    if (e == FS38_OK)
        return fs38_diag_set(&p->diag, FS38_ERR_STORE_CORRUPT, "privacy root secret malformed");
    if (psa_generate_random(root, ROOT_LEN) != PSA_SUCCESS)
        return fs38_diag_set(&p->diag, FS38_ERR_CRYPTO, "random root secret failed");
    e = fs38_store_put(p->store, REC_ROOT, root, ROOT_LEN);
    return e == FS38_OK ? FS38_OK : store_err(p, e);
}

/* K_purpose = HKDF-SHA-256(salt, root, info || purpose) as a volatile HMAC key (sign only). */
static FS38_NODISCARD fs38_err purpose_key(fs38_privacy *p, const char *purpose, psa_key_id_t *key)
{
    char sname[FS38_STORE_NAME_MAX + 1];
    uint8_t root[ROOT_LEN], salt[SALT_LEN];
    size_t n = 0;
    psa_key_id_t dk = 0;
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_derivation_operation_t op = PSA_KEY_DERIVATION_OPERATION_INIT;
    fs38_err e = rec_name(p, 's', purpose, sname);
    if (e != FS38_OK)
        return e;
    e = fs38_store_get(p->store, sname, salt, sizeof salt, &n);
    if (e == FS38_ERR_NOT_FOUND)
        return fs38_diag_set(&p->diag, FS38_ERR_POLICY, "no consent for purpose %s (no pseudonym salt)", purpose);
    if (e == FS38_OK && n != SALT_LEN)
        e = FS38_ERR_BUFFER;
    if (e != FS38_OK)
        return e == FS38_ERR_BUFFER ? fs38_diag_set(&p->diag, FS38_ERR_STORE_CORRUPT, "pseudonym salt malformed")
                                    : store_err(p, e);
    e = root_secret(p, root);
    if (e != FS38_OK)
        return e;
    psa_set_key_type(&a, PSA_KEY_TYPE_DERIVE);
    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&a, PSA_ALG_HKDF(PSA_ALG_SHA_256));
    psa_status_t st = psa_import_key(&a, root, sizeof root, &dk);
    fs38_wipe(root, sizeof root);
    psa_reset_key_attributes(&a);
    if (st == PSA_SUCCESS)
        st = psa_key_derivation_setup(&op, PSA_ALG_HKDF(PSA_ALG_SHA_256));
    if (st == PSA_SUCCESS)
        st = psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_SALT, salt, sizeof salt);
    if (st == PSA_SUCCESS)
        st = psa_key_derivation_input_key(&op, PSA_KEY_DERIVATION_INPUT_SECRET, dk);
    if (st == PSA_SUCCESS) {
        uint8_t info[sizeof k_info - 1u + FS38_PURPOSE_MAX];
        const size_t pl = strlen(purpose);
        memcpy(info, k_info, sizeof k_info - 1u);
        memcpy(info + sizeof k_info - 1u, purpose, pl);
        st = psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_INFO, info, sizeof k_info - 1u + pl);
    }
    if (st == PSA_SUCCESS) {
        psa_set_key_type(&a, PSA_KEY_TYPE_HMAC);
        psa_set_key_bits(&a, 256);
        psa_set_key_usage_flags(&a, PSA_KEY_USAGE_SIGN_MESSAGE);
        psa_set_key_algorithm(&a, PSA_ALG_HMAC(PSA_ALG_SHA_256));
        st = psa_key_derivation_output_key(&a, &op, key);
        psa_reset_key_attributes(&a);
    }
    psa_key_derivation_abort(&op);
    if (dk)
        psa_destroy_key(dk);
    fs38_wipe(salt, sizeof salt);
    if (st != PSA_SUCCESS)
        return fs38_diag_set(&p->diag, FS38_ERR_CRYPTO, "pseudonym key derivation failed (%d)", (int)st);
    return FS38_OK;
}

fs38_err fs38_pseudonym_at(fs38_privacy *p, const fs38_purpose *pur, uint64_t epoch, const uint8_t *id, size_t len,
                           uint8_t out[FS38_PSEUDONYM_LEN])
{
    psa_key_id_t key = 0;
    psa_mac_operation_t op = PSA_MAC_OPERATION_INIT;
    uint8_t mac[PSA_HASH_LENGTH(PSA_ALG_SHA_256)], ep[8];
    size_t ml = 0;
    if (!p || !p->store || !out || !id)
        return p ? fs38_diag_set(&p->diag, FS38_ERR_ARG, "pseudonym: invalid arguments") : FS38_ERR_ARG;
    if (len == 0 || len > ID_MAX)
        return fs38_diag_set(&p->diag, FS38_ERR_ARG, "identifier must be 1..1024 bytes");
    fs38_err e = fs38_consent_check(p, pur);
    if (e == FS38_OK)
        e = purpose_key(p, pur->name, &key);
    if (e != FS38_OK)
        return e;
    fs38_put_le64(ep, epoch);
    psa_status_t st = psa_mac_sign_setup(&op, key, PSA_ALG_HMAC(PSA_ALG_SHA_256));
    if (st == PSA_SUCCESS)
        st = psa_mac_update(&op, k_dom, sizeof k_dom);
    if (st == PSA_SUCCESS)
        st = psa_mac_update(&op, ep, sizeof ep);
    if (st == PSA_SUCCESS)
        st = psa_mac_update(&op, id, len);
    if (st == PSA_SUCCESS)
        st = psa_mac_sign_finish(&op, mac, sizeof mac, &ml);
    psa_mac_abort(&op);
    psa_destroy_key(key);
    if (st != PSA_SUCCESS) {
        fs38_wipe(mac, sizeof mac);
        return fs38_diag_set(&p->diag, FS38_ERR_CRYPTO, "pseudonym HMAC failed (%d)", (int)st);
    }
    memcpy(out, mac, FS38_PSEUDONYM_LEN);
    fs38_wipe(mac, sizeof mac);
    return FS38_OK;
}

/* The current epoch of a purpose. */
static FS38_NODISCARD fs38_err epoch_of(fs38_privacy *p, const fs38_purpose *pur, uint64_t *epoch)
{
    bool known;
    *epoch = 0;
    if (!pur || pur->epoch_s == 0)
        return FS38_OK;
    const int64_t t = now_s(p, &known);
    if (!known || t < 0)
        return fs38_diag_set(&p->diag, FS38_ERR_STATE, "purpose %s rotates its pseudonyms but the time is unknown",
                             pur->name ? pur->name : "?");
    *epoch = (uint64_t)t / pur->epoch_s;
    return FS38_OK;
}

fs38_err fs38_pseudonym(fs38_privacy *p, const fs38_purpose *pur, const uint8_t *id, size_t len,
                        uint8_t out[FS38_PSEUDONYM_LEN])
{
    uint64_t epoch;
    if (!p)
        return FS38_ERR_ARG;
    fs38_err e = epoch_of(p, pur, &epoch);
    return e != FS38_OK ? e : fs38_pseudonym_at(p, pur, epoch, id, len, out);
}

static bool finite(double v)
{
    return v == v && v - v == 0.0; /* NaN != NaN; inf - inf is NaN */
}

/* v rounded down to a multiple of 10^-decimals (|v| <= 180). A value on the grid stays on it:
 * v * scale may come out just below the integer it stands for (0.29 * 100 = 28.999999999999996),
 * so 1e-7 of a grid step is added first (far below any precision a location is given with). */
static double coarsen(double v, unsigned decimals)
{
    double scale = 1.0;
    for (unsigned i = 0; i < decimals; i++)
        scale *= 10.0;
    const double x = v * scale + 1e-7;
    int64_t t = (int64_t)x;
    if ((double)t > x)
        t--;
    return (double)t / scale;
}

static bool valid_field_name(const char *s)
{
    size_t n = 0;
    if (!s)
        return false;
    for (; s[n]; n++)
        if (n >= FS38_FIELD_NAME_MAX || s[n] < 0x21 || s[n] > 0x7e || s[n] == '"' || s[n] == '\\')
            return false;
    return n > 0;
}

static const fs38_field_rule *rule_for(const fs38_purpose *pur, const char *name)
{
    for (size_t i = 0; i < pur->n_allow; i++)
        if (pur->allow[i].name && strcmp(pur->allow[i].name, name) == 0)
            return &pur->allow[i];
    return NULL;
}

fs38_err fs38_telemetry_filter(fs38_privacy *p, const fs38_purpose *pur, const fs38_field *in, size_t n,
                               fs38_field_out *out, size_t cap, size_t *n_out)
{
    static const char hexd[] = "0123456789abcdef";
    uint64_t epoch = 0;
    size_t k = 0;
    if (n_out)
        *n_out = 0;
    if (!p || !p->store || !n_out || (!in && n) || (!out && cap))
        return p ? fs38_diag_set(&p->diag, FS38_ERR_ARG, "telemetry: invalid arguments") : FS38_ERR_ARG;
    fs38_diag_clear(&p->diag);
    if (n > FIELDS_MAX)
        return fs38_diag_set(&p->diag, FS38_ERR_ARG, "telemetry record has %zu fields: at most 64", n);
    fs38_err e = check_purpose(p, pur);
    if (e == FS38_OK)
        e = fs38_consent_check(p, pur);
    if (e == FS38_OK)
        e = epoch_of(p, pur, &epoch);
    if (e != FS38_OK)
        return e;
    /* validate the whole record first: nothing is produced from a malformed one */
    for (size_t i = 0; i < n; i++) {
        const fs38_field *f = &in[i];
        if (!valid_field_name(f->name))
            return fs38_diag_set(&p->diag, FS38_ERR_ARG, "field %zu: name must be 1..32 printable characters", i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(in[j].name, f->name) == 0)
                return fs38_diag_set(&p->diag, FS38_ERR_ARG, "field %s appears twice", f->name);
        if ((unsigned)f->type > FS38_FIELD_BOOL || (f->type == FS38_FIELD_NUMBER && !finite(f->num)) ||
            (f->type == FS38_FIELD_STRING && !f->str && f->str_len))
            return fs38_diag_set(&p->diag, FS38_ERR_ARG, "field %s has an invalid value", f->name);
        const fs38_field_rule *r = rule_for(pur, f->name);
        if (!r)
            continue;
        if (r->kind == FS38_FIELD_LOCATION && (f->type != FS38_FIELD_NUMBER || f->num < -180.0 || f->num > 180.0))
            return fs38_diag_set(&p->diag, FS38_ERR_ARG, "field %s: a location must be a number in -180..180", f->name);
        if (r->kind == FS38_FIELD_IDENTIFIER && (f->type != FS38_FIELD_STRING || f->str_len == 0 || f->str_len > ID_MAX))
            return fs38_diag_set(&p->diag, FS38_ERR_ARG, "field %s: an identifier must be a string of 1..1024 bytes",
                                 f->name);
        if ((unsigned)r->kind > FS38_FIELD_LOCATION)
            return fs38_diag_set(&p->diag, FS38_ERR_ARG, "invalid purpose definition (field %s)", f->name);
        k++;
    }
    if (k > cap)
        return fs38_diag_set(&p->diag, FS38_ERR_BUFFER, "telemetry: %zu fields pass, room for %zu", k, cap);
    k = 0;
    for (size_t i = 0; i < n; i++) {
        const fs38_field *f = &in[i];
        const fs38_field_rule *r = rule_for(pur, f->name);
        if (!r)
            continue; /* not on the allow-list: dropped */
        fs38_field_out *o = &out[k];
        memset(o, 0, sizeof *o);
        o->name = r->name;
        o->type = f->type;
        o->num = f->num;
        o->b = f->b;
        o->str = f->str;
        o->str_len = f->str_len;
        if (r->kind == FS38_FIELD_LOCATION) {
            o->num = coarsen(f->num, pur->location_decimals);
        } else if (r->kind == FS38_FIELD_IDENTIFIER) {
            uint8_t pn[FS38_PSEUDONYM_LEN];
            e = fs38_pseudonym_at(p, pur, epoch, (const uint8_t *)f->str, f->str_len, pn);
            if (e != FS38_OK) {
                memset(out, 0, k * sizeof *out);
                return e;
            }
            for (size_t b = 0; b < FS38_PSEUDONYM_LEN; b++) {
                o->pseudonym[2 * b] = hexd[pn[b] >> 4];
                o->pseudonym[2 * b + 1] = hexd[pn[b] & 15u];
            }
            o->pseudonym[2 * FS38_PSEUDONYM_LEN] = 0;
            o->str = o->pseudonym;
            o->str_len = 2 * FS38_PSEUDONYM_LEN;
        }
        k++;
    }
    *n_out = k;
    return FS38_OK;
}

fs38_err fs38_privacy_keep(fs38_privacy *p, const fs38_purpose *pur, const uint8_t *data, size_t len)
{
    char name[FS38_STORE_NAME_MAX + 1];
    if (!p || !p->store || (!data && len))
        return FS38_ERR_ARG;
    fs38_diag_clear(&p->diag);
    fs38_err e = fs38_port_lock(p->port); /* consent check and write as one step */
    if (e != FS38_OK)
        return fs38_diag_set(&p->diag, e, "device lock failed");
    e = fs38_consent_check(p, pur);
    if (e == FS38_OK)
        e = rec_name(p, 'd', pur->name, name);
    if (e == FS38_OK && (e = fs38_store_put(p->store, name, data, len)) != FS38_OK)
        e = store_err(p, e);
    fs38_port_unlock(p->port);
    return e;
}

fs38_err fs38_privacy_kept(fs38_privacy *p, const char *purpose, uint8_t *buf, size_t cap, size_t *len)
{
    char name[FS38_STORE_NAME_MAX + 1];
    if (!p || !p->store || !len)
        return FS38_ERR_ARG;
    fs38_diag_clear(&p->diag);
    fs38_err e = rec_name(p, 'd', purpose, name);
    if (e != FS38_OK)
        return e;
    e = fs38_store_get(p->store, name, buf, cap, len);
    if (e == FS38_ERR_NOT_FOUND)
        return fs38_diag_set(&p->diag, e, "nothing kept under purpose %s", purpose);
    return e == FS38_OK ? FS38_OK : store_err(p, e);
}
