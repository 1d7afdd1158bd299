/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_inspect.c — `fs38 inspect ENV.suit [--json]`: dump a SUIT envelope without a key.
 *
 * Nothing is verified (the output says so); the manifest digest in the authentication
 * wrapper is recomputed and compared, and severed members are checked against the digests
 * the manifest holds, because both need no key. Exit 0 when the envelope is well formed,
 * 1 when something is malformed (reported in the dump), 2 for usage / I/O errors.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "emit.h"
#include "fs38/suit.h"
#include "fs38/util.h"
#include "host.h"
#include "suit_dump.h"

#define MAX_SEVERED 8
#define MAX_INTEGRATED 16

void usage_inspect(int to_stderr)
{
    fprintf(to_stderr ? stderr : stdout,
            "usage: fs38 inspect ENV.suit [--json]\n"
            "  Show an envelope: authentication wrapper (not verified), manifest, components and\n"
            "  every command sequence decoded one command per line. --json prints the same as JSON.\n");
}

/* What the envelope map holds. */
typedef struct env_members {
    bool tagged;
    bool delegation;
    fs38_span auth;
    fs38_span manifest, manifest_wrapped;
    struct { uint64_t key; fs38_span body, wrapped; } sev[MAX_SEVERED];
    size_t n_sev;
    struct { fs38_span name, data; } integ[MAX_INTEGRATED];
    size_t n_integ;
} env_members;

/* A manifest member: a sequence / text in the manifest, or severed (its digest). */
typedef struct man_member {
    bool found;
    bool severed;
    fs38_span body;    /* bstr content when present */
    fs38_span digest;  /* encoded SUIT_Digest when severed */
} man_member;

typedef struct man_info {
    bool has_version, has_seq;
    uint64_t version, sequence;
    fs38_span common, reference_uri, component_id;
    fs38_span components, shared;
    man_member member[24]; /* by manifest key (7..23) */
} man_info;

static const struct { unsigned key; const char *name; } seq_order[] = {
    { FS38_SUIT_SEQ_VALIDATE, "validate" },
    { FS38_SUIT_SEQ_LOAD, "load" },
    { FS38_SUIT_SEQ_INVOKE, "invoke" },
    { FS38_SUIT_SEQ_PAYLOAD_FETCH, "payload-fetch" },
    { FS38_SUIT_SEQ_INSTALL, "install" },
    { FS38_SUIT_SEQ_DEPENDENCY_RESOLUTION, "dependency-resolution" },
    { FS38_SUIT_MAN_TEXT, "text" },
};

static void problem(dumper *dp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(dumper *dp, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    em_str(dp->e, EM_BOTH, "error", buf);
    dp->bad = true;
}

/* ---- envelope ---- */

static FS38_NODISCARD fs38_err env_bstr_member(fs38_cbor_dec *d, fs38_span *body, fs38_span *wrapped)
{
    size_t start = d->pos;
    fs38_err err = fs38_cbor_get_bstr(d, &body->p, &body->len);
    if (!err) {
        wrapped->p = d->buf + start;
        wrapped->len = d->pos - start;
    }
    return err;
}

static FS38_NODISCARD fs38_err env_int_member(dumper *dp, fs38_cbor_dec *d, uint64_t key, env_members *em)
{
    fs38_span body, wrapped;
    if (key == FS38_SUIT_ENV_DELEGATION) {
        em->delegation = true;
        return fs38_cbor_skip(d);
    }
    fs38_err err = env_bstr_member(d, &body, &wrapped);
    if (err) {
        problem(dp, "envelope member %" PRIu64 " is not a byte string", key);
        return err;
    }
    if (key == FS38_SUIT_ENV_AUTH) {
        em->auth = body;
    } else if (key == FS38_SUIT_ENV_MANIFEST) {
        em->manifest = body;
        em->manifest_wrapped = wrapped;
    } else if (em->n_sev < MAX_SEVERED) {
        em->sev[em->n_sev].key = key;
        em->sev[em->n_sev].body = body;
        em->sev[em->n_sev].wrapped = wrapped;
        em->n_sev++;
    } else {
        problem(dp, "too many severed members in the envelope");
    }
    return FS38_OK;
}

static FS38_NODISCARD fs38_err env_text_member(dumper *dp, fs38_cbor_dec *d, const char *name, size_t name_len, env_members *em)
{
    fs38_span body, wrapped;
    fs38_err err = env_bstr_member(d, &body, &wrapped);
    if (err) {
        problem(dp, "integrated payload is not a byte string");
        return err;
    }
    if (em->n_integ < MAX_INTEGRATED) {
        em->integ[em->n_integ].name = (fs38_span){ (const uint8_t *)name, name_len };
        em->integ[em->n_integ].data = body;
        em->n_integ++;
    }
    return FS38_OK;
}

static FS38_NODISCARD fs38_err walk_envelope(dumper *dp, const uint8_t *env, size_t len, env_members *em)
{
    fs38_cbor_dec d;
    size_t n;
    fs38_cbor_dec_init(&d, env, len);
    fs38_err err = fs38_cbor_opt_tag(&d, FS38_SUIT_TAG_ENVELOPE, &em->tagged);
    if (!err)
        err = fs38_cbor_get_map(&d, &n);
    if (err) {
        problem(dp, "not a SUIT envelope (tag 107 map): %s", fs38_strerror(err));
        return err;
    }
    for (size_t i = 0; i < n && !err; i++) {
        uint64_t key;
        const char *name;
        size_t name_len;
        if (fs38_cbor_get_uint(&d, &key) == FS38_OK) {
            err = env_int_member(dp, &d, key, em);
        } else if (fs38_cbor_get_tstr(&d, &name, &name_len) == FS38_OK) {
            err = env_text_member(dp, &d, name, name_len, em);
        } else {
            problem(dp, "envelope key %zu is neither an unsigned integer nor text", i);
            return FS38_ERR_SUIT_FORMAT;
        }
    }
    if (!err && !fs38_cbor_at_end(&d))
        problem(dp, "%zu trailing bytes after the envelope", len - d.pos);
    if (err && !dp->bad)
        problem(dp, "malformed envelope: %s", fs38_strerror(err));
    return err;
}

/* ---- authentication wrapper ---- */

static void cose_headers(fs38_cbor_dec *d, int64_t *alg, bool *has_alg, fs38_span *kid)
{
    size_t n;
    if (fs38_cbor_get_map(d, &n))
        return;
    for (size_t i = 0; i < n; i++) {
        int64_t label;
        if (fs38_cbor_get_int(d, &label)) {
            if (fs38_cbor_skip(d) || fs38_cbor_skip(d))
                return;
            continue;
        }
        if (label == 1 && fs38_cbor_get_int(d, alg) == FS38_OK)
            *has_alg = true;
        else if (label == 4 && fs38_cbor_get_bstr(d, &kid->p, &kid->len) == FS38_OK)
            continue;
        else if (fs38_cbor_skip(d))
            return;
    }
}

static const char *cose_type(bool tagged, uint64_t tag)
{
    if (!tagged)
        return "COSE (untagged)";
    switch (tag) {
    case FS38_COSE_TAG_SIGN1:
        return "COSE_Sign1";
    case FS38_COSE_TAG_MAC0:
        return "COSE_Mac0";
    case 98:
        return "COSE_Sign";
    case 97:
        return "COSE_Mac";
    default:
        return "COSE (unknown tag)";
    }
}

static void cose_block(dumper *dp, const uint8_t *p, size_t len)
{
    fs38_cbor_dec d, pd;
    size_t n;
    uint64_t tag = 0;
    fs38_cbor_dec_init(&d, p, len);
    bool tagged = fs38_cbor_next_is(&d, FS38_CBOR_TAG);
    const uint8_t *prot = NULL, *sig = NULL;
    size_t prot_len = 0, sig_len = 0;
    int64_t alg = 0;
    bool has_alg = false, detached = false;
    fs38_span kid = { NULL, 0 };
    if ((tagged && fs38_cbor_get_tag(&d, &tag)) || fs38_cbor_get_array(&d, &n) || n != 4 ||
        fs38_cbor_get_bstr(&d, &prot, &prot_len)) {
        problem(dp, "authentication block is not a COSE_Sign1 / COSE_Mac0 (%zu bytes)", len);
        return;
    }
    fs38_cbor_dec_init(&pd, prot, prot_len);
    if (prot_len)
        cose_headers(&pd, &alg, &has_alg, &kid);
    cose_headers(&d, &alg, &has_alg, &kid);
    detached = fs38_cbor_next_is_null(&d);
    if (fs38_cbor_skip(&d) || fs38_cbor_get_bstr(&d, &sig, &sig_len)) {
        problem(dp, "authentication block is malformed (%zu bytes)", len);
        return;
    }
    const char *type = cose_type(tagged, tag);
    const char *an = has_alg ? dump_alg_name(alg) : "none";
    char kid_hex[2 * 32 + 1] = "none";
    if (kid.p && kid.len <= 32)
        host_hex(kid.p, kid.len, kid_hex);
    em_obj(dp->e, NULL, "%s: alg %s (%" PRId64 "), signer kid %s, %s payload, %s %zu bytes", type, an ? an : "unknown",
           alg, kid_hex, detached ? "detached" : "attached", tag == FS38_COSE_TAG_MAC0 ? "tag" : "signature", sig_len);
    em_str(dp->e, EM_JSON, "type", type);
    if (has_alg) {
        em_str(dp->e, EM_JSON, "alg", an ? an : "unknown");
        em_i64(dp->e, EM_JSON, "alg_id", alg);
    }
    if (kid.p)
        em_str(dp->e, EM_JSON, "kid", kid_hex);
    em_bool(dp->e, EM_JSON, "detached", detached);
    em_u64(dp->e, EM_JSON, "signature_len", sig_len);
    em_end(dp->e);
}

static void auth_digest(dumper *dp, const uint8_t *p, size_t len, const env_members *em)
{
    char text[256];
    dump_digest_text(p, len, text, sizeof text);
    bool matches = false;
    fs38_cbor_dec d;
    size_t n, dl;
    int64_t alg;
    const uint8_t *dg;
    uint8_t h[32];
    fs38_cbor_dec_init(&d, p, len);
    if (em->manifest_wrapped.p && fs38_cbor_get_array(&d, &n) == FS38_OK && n == 2 &&
        fs38_cbor_get_int(&d, &alg) == FS38_OK && alg == FS38_SUIT_ALG_SHA256 &&
        fs38_cbor_get_bstr(&d, &dg, &dl) == FS38_OK && dl == 32 &&
        fs38_sha256(em->manifest_wrapped.p, em->manifest_wrapped.len, h) == FS38_OK)
        matches = memcmp(h, dg, 32) == 0;
    em_strf(dp->e, EM_HUMAN, "manifest digest", "%s (%s)", text,
            matches ? "matches the manifest" : "DOES NOT match the manifest");
    em_str(dp->e, EM_JSON, "digest", text);
    em_bool(dp->e, EM_JSON, "digest_matches", matches);
    if (!matches)
        dp->bad = true;
}

static void dump_auth(dumper *dp, const env_members *em)
{
    fs38_cbor_dec d;
    size_t n = 0;
    const uint8_t *p;
    size_t len;
    em_obj(dp->e, "authentication", "authentication: not verified (inspect checks no signature; use fs38 verify)");
    em_bool(dp->e, EM_JSON, "verified", false);
    fs38_cbor_dec_init(&d, em->auth.p, em->auth.len);
    if (!em->auth.p || fs38_cbor_get_array(&d, &n) || n == 0 || fs38_cbor_get_bstr(&d, &p, &len)) {
        problem(dp, "envelope has no authentication wrapper digest");
        em_end(dp->e);
        return;
    }
    auth_digest(dp, p, len, em);
    em_arr(dp->e, "blocks", NULL);
    for (size_t i = 1; i < n; i++) {
        if (fs38_cbor_get_bstr(&d, &p, &len)) {
            problem(dp, "authentication block %zu is not a byte string", i);
            break;
        }
        cose_block(dp, p, len);
    }
    em_end(dp->e);
    if (n < 2)
        problem(dp, "no COSE authentication block: a SUIT processor must reject this envelope");
    em_end(dp->e);
}

/* ---- manifest ---- */

static FS38_NODISCARD fs38_err man_member_value(fs38_cbor_dec *d, man_member *mm)
{
    mm->found = true;
    if (fs38_cbor_next_is(d, FS38_CBOR_ARRAY)) {
        mm->severed = true;
        return fs38_cbor_get_raw(d, &mm->digest.p, &mm->digest.len);
    }
    return fs38_cbor_get_bstr(d, &mm->body.p, &mm->body.len);
}

static FS38_NODISCARD fs38_err parse_common(const fs38_span *common, man_info *mi)
{
    fs38_cbor_dec d;
    size_t n;
    fs38_cbor_dec_init(&d, common->p, common->len);
    fs38_err err = fs38_cbor_get_map(&d, &n);
    for (size_t i = 0; i < n && !err; i++) {
        uint64_t key;
        err = fs38_cbor_get_uint(&d, &key);
        if (err)
            break;
        if (key == FS38_SUIT_COMMON_COMPONENTS)
            err = fs38_cbor_get_raw(&d, &mi->components.p, &mi->components.len);
        else if (key == FS38_SUIT_COMMON_SHARED_SEQ)
            err = fs38_cbor_get_bstr(&d, &mi->shared.p, &mi->shared.len);
        else
            err = fs38_cbor_skip(&d);
    }
    return err;
}

static FS38_NODISCARD fs38_err parse_manifest_key(fs38_cbor_dec *d, uint64_t key, man_info *mi)
{
    switch (key) {
    case FS38_SUIT_MAN_VERSION:
        mi->has_version = true;
        return fs38_cbor_get_uint(d, &mi->version);
    case FS38_SUIT_MAN_SEQUENCE:
        mi->has_seq = true;
        return fs38_cbor_get_uint(d, &mi->sequence);
    case FS38_SUIT_MAN_COMMON: {
        fs38_err err = fs38_cbor_get_bstr(d, &mi->common.p, &mi->common.len);
        return err ? err : parse_common(&mi->common, mi);
    }
    case FS38_SUIT_MAN_REFERENCE_URI:
        return fs38_cbor_get_tstr(d, (const char **)&mi->reference_uri.p, &mi->reference_uri.len);
    case FS38_SUIT_MAN_COMPONENT_ID:
        return fs38_cbor_get_raw(d, &mi->component_id.p, &mi->component_id.len);
    default:
        if (key < sizeof mi->member / sizeof mi->member[0])
            return man_member_value(d, &mi->member[key]);
        return fs38_cbor_skip(d);
    }
}

static FS38_NODISCARD fs38_err parse_manifest(dumper *dp, const fs38_span *man, man_info *mi)
{
    fs38_cbor_dec d;
    size_t n;
    memset(mi, 0, sizeof *mi);
    fs38_cbor_dec_init(&d, man->p, man->len);
    fs38_err err = fs38_cbor_get_map(&d, &n);
    for (size_t i = 0; i < n && !err; i++) {
        uint64_t key;
        err = fs38_cbor_get_uint(&d, &key);
        if (!err)
            err = parse_manifest_key(&d, key, mi);
    }
    if (err)
        problem(dp, "malformed manifest: %s", fs38_strerror(err));
    return err;
}

static void dump_components(dumper *dp, const man_info *mi)
{
    fs38_cbor_dec d;
    size_t n;
    em_arr(dp->e, "components", "components:");
    fs38_cbor_dec_init(&d, mi->components.p, mi->components.len);
    if (!mi->components.p || fs38_cbor_get_array(&d, &n)) {
        problem(dp, "manifest lists no components");
        em_end(dp->e);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *raw;
        size_t rl;
        char id[256];
        if (fs38_cbor_get_raw(&d, &raw, &rl)) {
            problem(dp, "component %zu is malformed", i);
            break;
        }
        dump_component_id(raw, rl, id, sizeof id);
        em_strf(dp->e, EM_HUMAN, NULL, "[%zu] %s", i, id);
        em_str(dp->e, EM_JSON, NULL, id);
    }
    em_end(dp->e);
}

/* The body of a sequence or text member. */
static void member_body(dumper *dp, unsigned key, const fs38_span *body)
{
    if (key == FS38_SUIT_MAN_TEXT) {
        dump_text(dp, body->p, body->len);
        return;
    }
    em_arr(dp->e, "commands", NULL);
    dump_commands(dp, body->p, body->len, 0);
    em_end(dp->e);
}

static void dump_severed(dumper *dp, const env_members *env, unsigned key, const char *name, const man_member *mm)
{
    char text[256];
    dump_digest_text(mm->digest.p, mm->digest.len, text, sizeof text);
    const fs38_span *body = NULL, *wrapped = NULL;
    for (size_t i = 0; i < env->n_sev; i++)
        if (env->sev[i].key == key) {
            body = &env->sev[i].body;
            wrapped = &env->sev[i].wrapped;
        }
    bool matches = false;
    if (wrapped) {
        uint8_t h[32];
        char want[256];
        if (fs38_sha256(wrapped->p, wrapped->len, h) == FS38_OK) {
            char hex[65];
            host_hex(h, 32, hex);
            snprintf(want, sizeof want, "sha256:%s", hex);
            matches = strcmp(want, text) == 0;
        }
    }
    if (!wrapped)
        em_obj(dp->e, name, "%s: severed, not in the envelope (digest %s)", name, text);
    else
        em_obj(dp->e, name, "%s: severed, in the envelope (%zu bytes), %s", name, body->len,
               matches ? "digest matches" : "DIGEST MISMATCH: must not be used");
    em_str(dp->e, EM_JSON, "state", "severed");
    em_str(dp->e, EM_JSON, "digest", text);
    em_bool(dp->e, EM_JSON, "in_envelope", wrapped != NULL);
    if (wrapped) {
        em_bool(dp->e, EM_JSON, "digest_matches", matches);
        if (matches)
            member_body(dp, key, body);
        else
            dp->bad = true;
    }
    em_end(dp->e);
}

static void dump_member(dumper *dp, const env_members *env, unsigned key, const char *name, const man_member *mm)
{
    if (!mm->found) {
        em_obj(dp->e, name, "%s: absent", name);
        em_str(dp->e, EM_JSON, "state", "absent");
        em_end(dp->e);
    } else if (mm->severed) {
        dump_severed(dp, env, key, name, mm);
    } else {
        em_obj(dp->e, name, "%s: present (%zu bytes)", name, mm->body.len);
        em_str(dp->e, EM_JSON, "state", "present");
        em_u64(dp->e, EM_JSON, "size", mm->body.len);
        member_body(dp, key, &mm->body);
        em_end(dp->e);
    }
}

static void dump_sequences(dumper *dp, const env_members *env, const man_info *mi)
{
    em_obj(dp->e, "sequences", NULL);
    man_member shared = { .found = mi->shared.p != NULL, .body = mi->shared };
    dump_member(dp, env, 4, "shared", &shared);
    for (size_t i = 0; i < sizeof seq_order / sizeof seq_order[0]; i++)
        dump_member(dp, env, seq_order[i].key, seq_order[i].name, &mi->member[seq_order[i].key]);
    em_end(dp->e);
}

static void dump_manifest(dumper *dp, const env_members *em)
{
    man_info mi;
    em_obj(dp->e, "manifest", "manifest: %zu bytes", em->manifest.len);
    em_u64(dp->e, EM_JSON, "size", em->manifest.len);
    if (parse_manifest(dp, &em->manifest, &mi) == FS38_OK) {
        if (mi.has_version)
            em_u64(dp->e, EM_BOTH, "version", mi.version);
        else
            problem(dp, "manifest has no version");
        if (mi.has_seq)
            em_u64(dp->e, EM_BOTH, "sequence", mi.sequence);
        else
            problem(dp, "manifest has no sequence number");
        if (mi.reference_uri.p)
            em_strn(dp->e, EM_BOTH, "reference-uri", (const char *)mi.reference_uri.p, mi.reference_uri.len);
        if (mi.component_id.p) {
            char id[256];
            dump_component_id(mi.component_id.p, mi.component_id.len, id, sizeof id);
            em_str(dp->e, EM_BOTH, "manifest-component-id", id);
        }
        dump_components(dp, &mi);
        dump_sequences(dp, em, &mi);
    }
    em_end(dp->e);
}

static void dump_integrated(dumper *dp, const env_members *em)
{
    if (em->n_integ == 0)
        return;
    em_arr(dp->e, "integrated", "integrated payloads:");
    for (size_t i = 0; i < em->n_integ; i++) {
        char name[128];
        em_printable(em->integ[i].name.p, em->integ[i].name.len, name, sizeof name);
        em_obj(dp->e, NULL, "\"%s\": %zu bytes", name, em->integ[i].data.len);
        em_str(dp->e, EM_JSON, "name", name);
        em_u64(dp->e, EM_JSON, "size", em->integ[i].data.len);
        em_end(dp->e);
    }
    em_end(dp->e);
}

static int inspect(const char *path, bool json)
{
    uint8_t *env;
    size_t len;
    if (host_read_file(path, HOST_FILE_MAX, &env, &len))
        return HOST_EXIT_USAGE;
    emit e;
    dumper dp = { &e, false };
    env_members em;
    memset(&em, 0, sizeof em);
    em_init(&e, stdout, json);
    em_obj(&e, NULL, NULL);
    em_str(&e, EM_JSON, "file", path);
    em_u64(&e, EM_JSON, "size", len);
    if (walk_envelope(&dp, env, len, &em) == FS38_OK) {
        em_strf(&e, EM_HUMAN, "envelope", "%s (%zu bytes, %s)", path, len,
                em.tagged ? "SUIT_Envelope tag 107" : "untagged");
        em_bool(&e, EM_JSON, "tagged", em.tagged);
        if (em.delegation)
            em_str(&e, EM_BOTH, "delegation", "present (not decoded)");
        dump_auth(&dp, &em);
        if (em.manifest.p)
            dump_manifest(&dp, &em);
        else
            problem(&dp, "envelope has no manifest");
        dump_integrated(&dp, &em);
    }
    em_bool(&e, EM_JSON, "well_formed", !dp.bad);
    em_finish(&e);
    free(env);
    return dp.bad ? HOST_EXIT_REJECT : HOST_EXIT_OK;
}

int cmd_inspect(int argc, char **argv)
{
    bool json = false;
    const host_opt opts[] = {
        { .name = "--json", .flag = &json },
        { .name = NULL },
    };
    const char *pos[2];
    size_t npos;
    int rc = host_parse_args(argc, argv, opts, pos, 2, &npos);
    if (rc == 1) {
        usage_inspect(0);
        return HOST_EXIT_OK;
    }
    if (rc < 0 || npos != 1) {
        if (rc == 0)
            host_err("inspect: exactly one envelope file expected");
        usage_inspect(1);
        return HOST_EXIT_USAGE;
    }
    if (host_psa_init())
        return HOST_EXIT_USAGE;
    return inspect(pos[0], json);
}
