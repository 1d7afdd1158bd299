/* SPDX-License-Identifier: Apache-2.0 */
/* suit_dump.c — display decoding of SUIT command sequences, parameters and text (see suit_dump.h). */
#include "suit_dump.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fs38/suit.h"
#include "host.h"

#define DIAG_MAX_DEPTH 8
#define DIAG_BSTR_SHOWN 32 /* bytes of a long byte string shown in hex */
#define SUIT_REPORT_POLICY_MAX 15

/* ---- bounded string builder ---- */

typedef struct sbuf {
    char *p;
    size_t cap, len;
} sbuf;

static void sb_add(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(sbuf *s, const char *fmt, ...)
{
    if (s->len + 1 >= s->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    s->len += (size_t)n;
    if (s->len >= s->cap)
        s->len = s->cap - 1;
}

static void sb_hex(sbuf *s, const uint8_t *p, size_t n)
{
    size_t shown = n > DIAG_BSTR_SHOWN ? DIAG_BSTR_SHOWN : n;
    sb_add(s, "h'");
    for (size_t i = 0; i < shown; i++)
        sb_add(s, "%02x", p[i]);
    sb_add(s, n > shown ? "...' (%zu bytes)" : "'", n);
}

static void sb_text(sbuf *s, const char *p, size_t n)
{
    char tmp[512];
    em_printable((const uint8_t *)p, n, tmp, sizeof tmp);
    sb_add(s, "\"%s\"", tmp);
}

/* ---- CBOR diagnostic notation ---- */

static FS38_NODISCARD fs38_err diag_value(fs38_cbor_dec *d, sbuf *s, unsigned depth);

static FS38_NODISCARD fs38_err diag_container(fs38_cbor_dec *d, sbuf *s, unsigned depth, bool map)
{
    size_t n;
    fs38_err err = map ? fs38_cbor_get_map(d, &n) : fs38_cbor_get_array(d, &n);
    if (err)
        return err;
    sb_add(s, map ? "{" : "[");
    for (size_t i = 0; i < n && !err; i++) {
        if (i)
            sb_add(s, ", ");
        err = diag_value(d, s, depth + 1);
        if (!err && map) {
            sb_add(s, ": ");
            err = diag_value(d, s, depth + 1);
        }
    }
    sb_add(s, map ? "}" : "]");
    return err;
}

static FS38_NODISCARD fs38_err diag_scalar(fs38_cbor_dec *d, sbuf *s, const fs38_cbor_head *h)
{
    fs38_cbor_head hh;
    fs38_err err = fs38_cbor_head_next(d, &hh);
    if (err)
        return err;
    if (h->major == FS38_CBOR_UINT)
        sb_add(s, "%" PRIu64, hh.value);
    else if (h->major == FS38_CBOR_NINT)
        sb_add(s, hh.value < INT64_MAX ? "-%" PRIu64 : "-1-%" PRIu64, hh.value < INT64_MAX ? hh.value + 1 : hh.value);
    else if (hh.ai >= 25 && hh.ai <= 27)
        sb_add(s, "float(0x%" PRIx64 ")", hh.value);
    else if (hh.value == FS38_CBOR_FALSE || hh.value == FS38_CBOR_TRUE)
        sb_add(s, hh.value == FS38_CBOR_TRUE ? "true" : "false");
    else if (hh.value == FS38_CBOR_NULL)
        sb_add(s, "null");
    else if (hh.value == FS38_CBOR_UNDEFINED)
        sb_add(s, "undefined");
    else
        sb_add(s, "simple(%" PRIu64 ")", hh.value);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err diag_value(fs38_cbor_dec *d, sbuf *s, unsigned depth)
{
    fs38_cbor_head h;
    fs38_err err = fs38_cbor_peek(d, &h);
    if (err)
        return err;
    if (depth >= DIAG_MAX_DEPTH) {
        sb_add(s, "...");
        return fs38_cbor_skip(d);
    }
    switch (h.major) {
    case FS38_CBOR_BSTR: {
        const uint8_t *p;
        size_t n;
        err = fs38_cbor_get_bstr(d, &p, &n);
        if (!err)
            sb_hex(s, p, n);
        return err;
    }
    case FS38_CBOR_TSTR: {
        const char *p;
        size_t n;
        err = fs38_cbor_get_tstr(d, &p, &n);
        if (!err)
            sb_text(s, p, n);
        return err;
    }
    case FS38_CBOR_ARRAY:
    case FS38_CBOR_MAP:
        return diag_container(d, s, depth, h.major == FS38_CBOR_MAP);
    case FS38_CBOR_TAG: {
        uint64_t tag;
        err = fs38_cbor_get_tag(d, &tag);
        if (err)
            return err;
        sb_add(s, "%" PRIu64 "(", tag);
        err = diag_value(d, s, depth + 1);
        sb_add(s, ")");
        return err;
    }
    default:
        return diag_scalar(d, s, &h);
    }
}

fs38_err dump_diag(fs38_cbor_dec *d, char *out, size_t cap)
{
    sbuf s = { out, cap, 0 };
    if (cap)
        out[0] = '\0';
    return diag_value(d, &s, 0);
}

/* ---- small values ---- */

const char *dump_alg_name(int64_t alg)
{
    switch (alg) {
    case FS38_COSE_ALG_ES256:
        return "ES256";
    case FS38_COSE_ALG_ESP256:
        return "ESP256";
    case FS38_COSE_ALG_HMAC256:
        return "HMAC256";
    default:
        return NULL;
    }
}

static const char *digest_alg_name(int64_t alg)
{
    switch (alg) {
    case -16:
        return "sha256";
    case -18:
        return "shake128";
    case -43:
        return "sha384";
    case -44:
        return "sha512";
    case -45:
        return "shake256";
    default:
        return NULL;
    }
}

void dump_digest_text(const uint8_t *p, size_t len, char *out, size_t cap)
{
    fs38_cbor_dec d;
    size_t n, dlen;
    int64_t alg;
    const uint8_t *dg;
    sbuf s = { out, cap, 0 };
    fs38_cbor_dec_init(&d, p, len);
    if (fs38_cbor_get_array(&d, &n) == FS38_OK && n == 2 && fs38_cbor_get_int(&d, &alg) == FS38_OK &&
        fs38_cbor_get_bstr(&d, &dg, &dlen) == FS38_OK && fs38_cbor_at_end(&d)) {
        const char *name = digest_alg_name(alg);
        if (name)
            sb_add(&s, "%s:", name);
        else
            sb_add(&s, "alg%" PRId64 ":", alg);
        for (size_t i = 0; i < dlen; i++)
            sb_add(&s, "%02x", dg[i]);
        return;
    }
    fs38_cbor_dec_init(&d, p, len);
    if (dump_diag(&d, out, cap) != FS38_OK)
        snprintf(out, cap, "(malformed digest, %zu bytes)", len);
}

void dump_component_id(const uint8_t *p, size_t len, char *out, size_t cap)
{
    fs38_cbor_dec d;
    size_t n;
    sbuf s = { out, cap, 0 };
    if (cap)
        out[0] = '\0';
    fs38_cbor_dec_init(&d, p, len);
    if (fs38_cbor_get_array(&d, &n)) {
        fs38_cbor_dec_init(&d, p, len);
        if (dump_diag(&d, out, cap))
            snprintf(out, cap, "(malformed component id)");
        return;
    }
    sb_add(&s, "[");
    for (size_t i = 0; i < n; i++) {
        const uint8_t *b;
        size_t bl;
        if (i)
            sb_add(&s, ", ");
        if (fs38_cbor_get_bstr(&d, &b, &bl) == FS38_OK) {
            if (em_is_printable(b, bl))
                sb_add(&s, "'%.*s'", (int)bl, (const char *)b);
            else
                sb_hex(&s, b, bl);
        } else {
            char tmp[256];
            if (dump_diag(&d, tmp, sizeof tmp))
                break;
            sb_add(&s, "%s", tmp);
        }
    }
    sb_add(&s, "]");
}

/* ---- errors ---- */

static void malformed(dumper *dp, const char *what, fs38_err err)
{
    dp->bad = true;
    em_strf(dp->e, EM_BOTH, "error", "malformed %s: %s", what, fs38_strerror(err));
}

/* Show an item we could not decode as expected, in diagnostic notation. */
static FS38_NODISCARD fs38_err emit_diag(dumper *dp, const char *key, fs38_cbor_dec *d)
{
    char buf[1024];
    fs38_err err = dump_diag(d, buf, sizeof buf);
    if (!err)
        em_str(dp->e, EM_BOTH, key, buf);
    return err;
}

/* ---- parameters ---- */

static void param_name(int64_t key, char *buf, size_t cap)
{
    const char *n = fs38_suit_param_name(key);
    if (n)
        snprintf(buf, cap, "%s", n);
    else
        snprintf(buf, cap, "parameter-%" PRId64, key);
}

/* A byte-string parameter: UUID (16 bytes, for ids), text when printable, else hex. */
static FS38_NODISCARD fs38_err param_bstr(dumper *dp, fs38_cbor_dec *d, const char *name, bool uuid)
{
    const uint8_t *p;
    size_t n;
    fs38_err err = fs38_cbor_get_bstr(d, &p, &n);
    if (err)
        return emit_diag(dp, name, d);
    if (uuid && n == 16) {
        char u[37];
        host_format_uuid(p, u);
        em_str(dp->e, EM_BOTH, name, u);
    } else if (em_is_printable(p, n)) {
        em_strn(dp->e, EM_BOTH, name, (const char *)p, n);
    } else {
        char buf[128];
        sbuf s = { buf, sizeof buf, 0 };
        sb_hex(&s, p, n);
        em_str(dp->e, EM_BOTH, name, buf);
    }
    return FS38_OK;
}

static FS38_NODISCARD fs38_err param_digest(dumper *dp, fs38_cbor_dec *d, const char *name)
{
    const uint8_t *p;
    size_t n;
    char buf[256];
    if (fs38_cbor_get_bstr(d, &p, &n))
        return emit_diag(dp, name, d);
    dump_digest_text(p, n, buf, sizeof buf);
    em_str(dp->e, EM_BOTH, name, buf);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err param_uint(dumper *dp, fs38_cbor_dec *d, const char *name)
{
    uint64_t v;
    if (fs38_cbor_get_uint(d, &v))
        return emit_diag(dp, name, d);
    em_u64(dp->e, EM_BOTH, name, v);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err param_bool(dumper *dp, fs38_cbor_dec *d, const char *name)
{
    bool v;
    if (fs38_cbor_get_bool(d, &v))
        return emit_diag(dp, name, d);
    em_bool(dp->e, EM_BOTH, name, v);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err param_tstr(dumper *dp, fs38_cbor_dec *d, const char *name)
{
    const char *p;
    size_t n;
    if (fs38_cbor_get_tstr(d, &p, &n))
        return emit_diag(dp, name, d);
    em_strn(dp->e, EM_BOTH, name, p, n);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err param_encryption_info(dumper *dp, fs38_cbor_dec *d, const char *name)
{
    const uint8_t *p;
    size_t n;
    uint64_t tag = 0;
    if (fs38_cbor_get_bstr(d, &p, &n))
        return emit_diag(dp, name, d);
    fs38_cbor_dec in;
    fs38_cbor_dec_init(&in, p, n);
    bool tagged = fs38_cbor_get_tag(&in, &tag) == FS38_OK;
    const char *what = !tagged ? "COSE structure" : tag == 96 ? "COSE_Encrypt" : tag == 16 ? "COSE_Encrypt0"
                                                                                           : "COSE structure";
    em_strf(dp->e, EM_BOTH, name, "%s (%zu bytes)", what, n);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err dump_param(dumper *dp, fs38_cbor_dec *d, int64_t key)
{
    char name[48];
    param_name(key, name, sizeof name);
    switch (key) {
    case FS38_SUIT_PARAM_VENDOR_ID:
    case FS38_SUIT_PARAM_CLASS_ID:
    case FS38_SUIT_PARAM_DEVICE_ID:
        return param_bstr(dp, d, name, true);
    case FS38_SUIT_PARAM_IMAGE_DIGEST:
        return param_digest(dp, d, name);
    case FS38_SUIT_PARAM_COMPONENT_SLOT:
    case FS38_SUIT_PARAM_IMAGE_SIZE:
    case FS38_SUIT_PARAM_SOURCE_COMPONENT:
        return param_uint(dp, d, name);
    case FS38_SUIT_PARAM_STRICT_ORDER:
    case FS38_SUIT_PARAM_SOFT_FAILURE:
        return param_bool(dp, d, name);
    case FS38_SUIT_PARAM_URI:
        return param_tstr(dp, d, name);
    case FS38_SUIT_PARAM_ENCRYPTION_INFO:
        return param_encryption_info(dp, d, name);
    case FS38_SUIT_PARAM_CONTENT:
    case FS38_SUIT_PARAM_INVOKE_ARGS:
        return param_bstr(dp, d, name, false);
    default:
        return emit_diag(dp, name, d);
    }
}

static FS38_NODISCARD fs38_err dump_params(dumper *dp, fs38_cbor_dec *d)
{
    size_t n;
    fs38_err err = fs38_cbor_get_map(d, &n);
    if (err)
        return emit_diag(dp, "parameters", d);
    em_obj(dp->e, "parameters", NULL);
    for (size_t i = 0; i < n && !err; i++) {
        int64_t key;
        err = fs38_cbor_get_int(d, &key);
        if (!err)
            err = dump_param(dp, d, key);
    }
    em_end(dp->e);
    return err;
}

/* ---- commands ---- */

static void command_name(int64_t code, char *buf, size_t cap)
{
    const char *n = fs38_suit_command_name(code);
    if (n)
        snprintf(buf, cap, "%s", n);
    else
        snprintf(buf, cap, "unknown-command-%" PRId64, code);
}

/* Open a command object: human title, JSON "command" and "code". */
static void command_open(dumper *dp, const char *name, int64_t code, const char *title)
{
    em_obj(dp->e, NULL, "%s", title);
    em_str(dp->e, EM_JSON, "command", name);
    em_i64(dp->e, EM_JSON, "code", code);
}

static FS38_NODISCARD fs38_err cmd_index(dumper *dp, fs38_cbor_dec *d, const char *name, int64_t code)
{
    uint64_t v;
    bool b;
    if (fs38_cbor_get_uint(d, &v) == FS38_OK) {
        char title[96];
        snprintf(title, sizeof title, "%s %" PRIu64, name, v);
        command_open(dp, name, code, title);
        em_u64(dp->e, EM_JSON, "index", v);
    } else if (fs38_cbor_get_bool(d, &b) == FS38_OK && b) {
        char title[96];
        snprintf(title, sizeof title, "%s all", name);
        command_open(dp, name, code, title);
        em_bool(dp->e, EM_JSON, "index", true);
    } else {
        command_open(dp, name, code, name);
        fs38_err err = emit_diag(dp, "index", d);
        em_end(dp->e);
        return err;
    }
    em_end(dp->e);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err cmd_params(dumper *dp, fs38_cbor_dec *d, const char *name, int64_t code)
{
    command_open(dp, name, code, name);
    fs38_err err = dump_params(dp, d);
    em_end(dp->e);
    return err;
}

/* A nested command sequence given as a byte string. */
static FS38_NODISCARD fs38_err nested_sequence(dumper *dp, fs38_cbor_dec *d, const char *key, const char *title,
                                unsigned depth)
{
    const uint8_t *p;
    size_t n;
    if (fs38_cbor_next_is_null(d)) {
        fs38_err nerr = fs38_cbor_get_null(d);
        if (nerr)
            return nerr;
        em_null(dp->e, EM_JSON, key);
        em_line(dp->e, "%s none (always succeeds)", title);
        return FS38_OK;
    }
    fs38_err err = fs38_cbor_get_bstr(d, &p, &n);
    if (err)
        return err;
    em_arr(dp->e, key, "%s", title);
    dump_commands(dp, p, n, depth + 1);
    em_end(dp->e);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err cmd_try_each(dumper *dp, fs38_cbor_dec *d, const char *name, int64_t code, unsigned depth)
{
    size_t n;
    fs38_err err = fs38_cbor_get_array(d, &n);
    command_open(dp, name, code, name);
    if (err) {
        err = emit_diag(dp, "argument", d);
        em_end(dp->e);
        return err;
    }
    em_arr(dp->e, "alternatives", NULL);
    for (size_t i = 0; i < n && !err; i++) {
        char title[48];
        snprintf(title, sizeof title, "alternative %zu:", i + 1);
        err = nested_sequence(dp, d, NULL, title, depth);
    }
    em_end(dp->e);
    em_end(dp->e);
    return err;
}

static FS38_NODISCARD fs38_err cmd_run_sequence(dumper *dp, fs38_cbor_dec *d, const char *name, int64_t code, unsigned depth)
{
    command_open(dp, name, code, name);
    fs38_err err = nested_sequence(dp, d, "sequence", "sequence:", depth);
    em_end(dp->e);
    return err;
}

/* Conditions and plain directives: the argument is the reporting policy. */
static FS38_NODISCARD fs38_err cmd_policy(dumper *dp, fs38_cbor_dec *d, const char *name, int64_t code)
{
    uint64_t policy;
    if (fs38_cbor_get_uint(d, &policy) == FS38_OK) {
        char title[128];
        snprintf(title, sizeof title, "%s (report %" PRIu64 ")", name, policy);
        command_open(dp, name, code, title);
        em_u64(dp->e, EM_JSON, "report", policy);
        em_end(dp->e);
        return FS38_OK;
    }
    command_open(dp, name, code, name);
    fs38_err err = emit_diag(dp, "argument", d);
    em_end(dp->e);
    return err;
}

static FS38_NODISCARD fs38_err dump_command(dumper *dp, fs38_cbor_dec *d, int64_t code, unsigned depth)
{
    char name[64];
    command_name(code, name, sizeof name);
    switch (code) {
    case FS38_SUIT_DIR_SET_COMPONENT_INDEX:
        return cmd_index(dp, d, name, code);
    case FS38_SUIT_DIR_SET_PARAMETERS:
    case FS38_SUIT_DIR_OVERRIDE_PARAMETERS:
        return cmd_params(dp, d, name, code);
    case FS38_SUIT_DIR_TRY_EACH:
        return cmd_try_each(dp, d, name, code, depth);
    case FS38_SUIT_DIR_RUN_SEQUENCE:
        return cmd_run_sequence(dp, d, name, code, depth);
    default:
        return cmd_policy(dp, d, name, code);
    }
}

void dump_commands(dumper *dp, const uint8_t *p, size_t len, unsigned depth)
{
    fs38_cbor_dec d;
    size_t n;
    fs38_cbor_dec_init(&d, p, len);
    if (depth > FS38_SUIT_MAX_NESTING + 2) {
        em_str(dp->e, EM_BOTH, "error", "command sequences nested too deeply");
        dp->bad = true;
        return;
    }
    fs38_err err = fs38_cbor_get_array(&d, &n);
    if (err) {
        malformed(dp, "command sequence", err);
        return;
    }
    if (n % 2) {
        em_str(dp->e, EM_BOTH, "error", "command sequence has an odd number of elements");
        dp->bad = true;
    }
    for (size_t i = 0; i < n / 2; i++) {
        int64_t code;
        err = fs38_cbor_get_int(&d, &code);
        if (!err)
            err = dump_command(dp, &d, code, depth);
        if (err) {
            malformed(dp, "command", err);
            return;
        }
    }
    if (!fs38_cbor_at_end(&d) && !(n % 2)) {
        em_str(dp->e, EM_BOTH, "error", "bytes after the command sequence");
        dp->bad = true;
    }
}

/* ---- text ---- */

static const char *text_key_name(int64_t key, bool component)
{
    static const char *const top[] = { NULL, "manifest-description", "update-description",
                                       "manifest-json-source", "manifest-yaml-source" };
    static const char *const comp[] = { NULL, "vendor-name", "model-name", "vendor-domain", "model-info",
                                        "component-description", "component-version", "version-required" };
    if (component)
        return key > 0 && key < 8 ? comp[key] : NULL;
    return key > 0 && key < 5 ? top[key] : NULL;
}

static FS38_NODISCARD fs38_err dump_text_map(dumper *dp, fs38_cbor_dec *d, unsigned depth, bool component);

/* One key of a text map and its value. */
static FS38_NODISCARD fs38_err dump_text_entry(dumper *dp, fs38_cbor_dec *d, unsigned depth, bool component)
{
    bool child_component = false;
    char key[160];
    int64_t k;
    const char *ts;
    size_t tn;
    fs38_cbor_head h;
    fs38_err err = fs38_cbor_peek(d, &h);
    if (err)
        return err;
    if (h.major == FS38_CBOR_ARRAY) { /* component id */
        const uint8_t *raw;
        size_t rl;
        err = fs38_cbor_get_raw(d, &raw, &rl);
        if (err)
            return err;
        char id[128];
        dump_component_id(raw, rl, id, sizeof id);
        snprintf(key, sizeof key, "component %s", id);
        child_component = true;
    } else if (fs38_cbor_get_int(d, &k) == FS38_OK) {
        const char *n = text_key_name(k, component);
        if (n)
            snprintf(key, sizeof key, "%s", n);
        else
            snprintf(key, sizeof key, "key-%" PRId64, k);
    } else if (fs38_cbor_get_tstr(d, &ts, &tn) == FS38_OK) {
        em_printable((const uint8_t *)ts, tn, key, sizeof key);
    } else {
        err = dump_diag(d, key, sizeof key);
        if (err)
            return err;
    }
    if (fs38_cbor_next_is(d, FS38_CBOR_MAP)) {
        em_obj(dp->e, key, "%s:", key);
        err = dump_text_map(dp, d, depth + 1, child_component);
        em_end(dp->e);
        return err;
    }
    if (fs38_cbor_get_tstr(d, &ts, &tn) == FS38_OK) {
        em_strn(dp->e, EM_BOTH, key, ts, tn);
        return FS38_OK;
    }
    return emit_diag(dp, key, d);
}

static FS38_NODISCARD fs38_err dump_text_map(dumper *dp, fs38_cbor_dec *d, unsigned depth, bool component)
{
    size_t n;
    fs38_err err = fs38_cbor_get_map(d, &n);
    if (err)
        return err;
    if (depth > 4)
        return FS38_ERR_CBOR_DEPTH;
    for (size_t i = 0; i < n && !err; i++)
        err = dump_text_entry(dp, d, depth, component);
    return err;
}

void dump_text(dumper *dp, const uint8_t *p, size_t len)
{
    fs38_cbor_dec d;
    fs38_cbor_dec_init(&d, p, len);
    em_obj(dp->e, "text", NULL);
    fs38_err err = dump_text_map(dp, &d, 0, false);
    if (err)
        malformed(dp, "text", err);
    em_end(dp->e);
}

/* ---- identity scan (fs38 verify) ---- */

/* Returns false when the parameters are malformed (the scan stops). */
static bool find_in_params(fs38_cbor_dec *d, const uint8_t **vendor, const uint8_t **class_id)
{
    size_t n;
    if (fs38_cbor_get_map(d, &n))
        return false;
    for (size_t i = 0; i < n; i++) {
        int64_t key;
        const uint8_t *p;
        size_t len;
        if (fs38_cbor_get_int(d, &key))
            return false;
        bool id = key == FS38_SUIT_PARAM_VENDOR_ID || key == FS38_SUIT_PARAM_CLASS_ID;
        if (id && fs38_cbor_get_bstr(d, &p, &len) == FS38_OK) {
            const uint8_t **slot = key == FS38_SUIT_PARAM_VENDOR_ID ? vendor : class_id;
            if (len == 16 && !*slot)
                *slot = p;
        } else if (fs38_cbor_skip(d)) {
            return false;
        }
    }
    return true;
}

static void find_ids(const uint8_t *p, size_t len, const uint8_t **vendor, const uint8_t **class_id,
                     unsigned depth)
{
    fs38_cbor_dec d;
    size_t n;
    fs38_cbor_dec_init(&d, p, len);
    if (depth > FS38_SUIT_MAX_NESTING || fs38_cbor_get_array(&d, &n))
        return;
    for (size_t i = 0; i + 1 < n; i += 2) {
        int64_t code;
        if (fs38_cbor_get_int(&d, &code))
            return;
        if (code == FS38_SUIT_DIR_SET_PARAMETERS || code == FS38_SUIT_DIR_OVERRIDE_PARAMETERS) {
            if (!find_in_params(&d, vendor, class_id))
                return;
        } else if (code == FS38_SUIT_DIR_TRY_EACH) {
            size_t k;
            if (fs38_cbor_get_array(&d, &k))
                return;
            for (size_t j = 0; j < k; j++) {
                const uint8_t *sp;
                size_t sl;
                if (fs38_cbor_get_bstr(&d, &sp, &sl) == FS38_OK)
                    find_ids(sp, sl, vendor, class_id, depth + 1);
                else if (fs38_cbor_skip(&d))
                    return;
            }
        } else if (fs38_cbor_skip(&d)) {
            return;
        }
    }
}

void suit_find_ids(const uint8_t *p, size_t len, const uint8_t **vendor, const uint8_t **class_id)
{
    find_ids(p, len, vendor, class_id, 0);
}
