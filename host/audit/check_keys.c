/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_keys.c — control 6 (ETSI EN 303 645 5.4-1, 5.4-3): private keys baked into the image.
 *
 * Every regular file (first 4 MiB) is searched for PEM private-key armour with a real body
 * ("-----BEGIN [RSA |EC |DSA |ENCRYPTED |OPENSSH ]PRIVATE KEY-----", base64 of plausible length,
 * then the matching END line); a file that is a whole DER structure is recognised as PKCS#1 RSA,
 * SEC1 EC, PKCS#8 (plain or encrypted) private key or PKCS#12. Public keys, certificates and
 * empty armour (FACT's FP_test) are not keys.
 * Rules: FS38-6.1 unencrypted private key (high), FS38-6.2 encrypted private key or PKCS#12
 * container (low: a warning, not a leak), FS38-6.3 unencrypted key readable by every user
 * (high), FS38-6.0 no private key in N files (pass).
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SCAN (4u << 20)

static bool b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
           c == '=';
}

typedef struct key_state { aud_ctx *ctx; size_t files, keys, plain; } key_state;

static void report_key(key_state *st, const aud_entry *e, unsigned line, const char *kind, bool encrypted)
{
    st->keys++;
    if (encrypted) {
        aud_add(st->ctx->r, 6, e->path, line, "FS38-6.2", "5.4-1", AUD_LOW,
                "%s, encrypted (passphrase-protected): not a leak by itself; the passphrase must not ship too", kind);
        return;
    }
    st->plain++;
    if (e->mode & 0004)
        aud_add(st->ctx->r, 6, e->path, line, "FS38-6.3", "5.4-1", AUD_HIGH,
                "%s, unencrypted, readable by every user (mode %04o)", kind, (unsigned)e->mode);
    else
        aud_add(st->ctx->r, 6, e->path, line, "FS38-6.1", "5.4-3", AUD_HIGH,
                "%s, unencrypted: a private key shipped in the image is the same on every unit", kind);
}

static unsigned line_of(const uint8_t *buf, const uint8_t *at)
{
    unsigned n = 1;
    for (const uint8_t *p = buf; p < at; p++)
        n += *p == '\n';
    return n;
}

/* base64 payload characters between p and end (stops at "-----"); headers "K: V" lines skipped. */
static size_t body_chars(const char *p, const char *end, bool *proc_encrypted)
{
    size_t n = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (le - p >= 5 && memcmp(p, "-----", 5) == 0)
            break;
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (colon) {
            if (le - p >= 22 && memcmp(p, "Proc-Type: 4,ENCRYPTED", 22) == 0)
                *proc_encrypted = true;
        } else {
            for (const char *q = p; q < le; q++)
                if (b64(*q))
                    n++;
                else if (*q != '\r' && *q != ' ' && *q != '\t')
                    return 0; /* not base64: not an armoured key */
        }
        p = nl ? nl + 1 : end;
    }
    return n;
}

/* OpenSSH "openssh-key-v1\0" + string ciphername: "none" means unencrypted. Decodes the first
 * bytes of the base64 body. */
static bool openssh_encrypted(const char *p, const char *end)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t out[64];
    size_t no = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (; p < end && no < sizeof out; p++) {
        const char *k = *p ? strchr(tbl, *p) : NULL;
        if (!k)
            continue;
        acc = (acc << 6) | (uint32_t)(k - tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[no++] = (uint8_t)(acc >> bits);
        }
    }
    if (no < 23 || memcmp(out, "openssh-key-v1", 15) != 0)
        return false;
    uint32_t l = (uint32_t)out[15] << 24 | (uint32_t)out[16] << 16 | (uint32_t)out[17] << 8 | out[18];
    return !(l == 4 && memcmp(out + 19, "none", 4) == 0);
}

static void scan_pem(key_state *st, const aud_entry *e, const uint8_t *buf, size_t len)
{
    static const char *const kinds[][2] = {
        { "-----BEGIN RSA PRIVATE KEY-----", "PEM RSA private key (PKCS#1)" },
        { "-----BEGIN EC PRIVATE KEY-----", "PEM EC private key (SEC1)" },
        { "-----BEGIN DSA PRIVATE KEY-----", "PEM DSA private key" },
        { "-----BEGIN PRIVATE KEY-----", "PEM private key (PKCS#8)" },
        { "-----BEGIN ENCRYPTED PRIVATE KEY-----", "PEM encrypted private key (PKCS#8)" },
        { "-----BEGIN OPENSSH PRIVATE KEY-----", "OpenSSH private key" },
    };
    const char *end = (const char *)buf + len;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        size_t hl = strlen(kinds[k][0]);
        const char *p = (const char *)buf;
        while (p < end) {
            const char *hit = memmem(p, (size_t)(end - p), kinds[k][0], hl);
            if (!hit)
                break;
            p = hit + hl;
            bool proc = false;
            const char *body = p;
            while (body < end && (*body == '\r' || *body == '\n'))
                body++;
            size_t n = body_chars(body, end, &proc);
            if (n < 64)
                continue; /* empty or truncated armour: not a key */
            char endl[64];
            snprintf(endl, sizeof endl, "-----END %s", kinds[k][0] + 11);
            if (!memmem(body, (size_t)(end - body), endl, strlen(endl)))
                continue;
            bool enc = proc || k == 4;
            if (k == 5)
                enc = openssh_encrypted(body, end);
            report_key(st, e, line_of(buf, (const uint8_t *)hit), kinds[k][1], enc);
        }
    }
}

/* ---- DER ---- */
typedef struct der { const uint8_t *p, *end; } der;

static bool der_tlv(der *d, uint8_t *tag, der *val)
{
    if (d->end - d->p < 2)
        return false;
    *tag = *d->p++;
    size_t l = *d->p++;
    if (l & 0x80) {
        size_t nb = l & 0x7f;
        if (nb == 0 || nb > 4 || (size_t)(d->end - d->p) < nb)
            return false;
        l = 0;
        for (size_t i = 0; i < nb; i++)
            l = (l << 8) | *d->p++;
    }
    if ((size_t)(d->end - d->p) < l)
        return false;
    val->p = d->p;
    val->end = d->p + l;
    d->p += l;
    return true;
}

static bool der_int_is(const der *v, uint8_t x) { return v->end - v->p == 1 && v->p[0] == x; }

/* What a whole-file DER structure is: NULL when not a private key / PKCS#12. */
static const char *der_kind(const uint8_t *buf, size_t len, bool *enc)
{
    der d = { buf, buf + len }, seq, a, b, c;
    uint8_t t;
    *enc = false;
    if (len < 32 || buf[0] != 0x30 || !der_tlv(&d, &t, &seq) || d.p != d.end)
        return NULL;
    if (!der_tlv(&seq, &t, &a))
        return NULL;
    if (t == 0x30) {
        /* EncryptedPrivateKeyInfo: SEQ { SEQ algId, OCTET STRING } with a PBES OID */
        if (der_tlv(&seq, &t, &b) && t == 0x04 && seq.p == seq.end) {
            der alg = a;
            if (der_tlv(&alg, &t, &c) && t == 0x06 && c.end - c.p >= 8 &&
                memcmp(c.p, "\x2a\x86\x48\x86\xf7\x0d\x01\x05", 8) == 0) {
                *enc = true;
                return "DER encrypted private key (PKCS#8)";
            }
        }
        return NULL;
    }
    if (t != 0x02)
        return NULL;
    if (!der_tlv(&seq, &t, &b))
        return NULL;
    if (der_int_is(&a, 0) && t == 0x30) {
        /* PKCS#8 PrivateKeyInfo: version 0, algId, OCTET STRING */
        if (der_tlv(&seq, &t, &c) && t == 0x04)
            return "DER private key (PKCS#8)";
        return NULL;
    }
    if (der_int_is(&a, 0) && t == 0x02) {
        /* PKCS#1 RSAPrivateKey: version 0, n, e, d, p, q, dp, dq, qinv (9 INTEGERs) */
        int ints = 2;
        while (seq.p < seq.end && der_tlv(&seq, &t, &c) && t == 0x02)
            ints++;
        return ints == 9 && seq.p == seq.end ? "DER RSA private key (PKCS#1)" : NULL;
    }
    if (der_int_is(&a, 1) && t == 0x04 && b.end - b.p >= 16 && b.end - b.p <= 66)
        return "DER EC private key (SEC1)";
    if (der_int_is(&a, 3) && t == 0x30) {
        der ci = b;
        if (der_tlv(&ci, &t, &c) && t == 0x06 && c.end - c.p == 9 &&
            memcmp(c.p, "\x2a\x86\x48\x86\xf7\x0d\x01\x07", 8) == 0) {
            *enc = true;
            return "PKCS#12 container (keys normally passphrase-protected)";
        }
    }
    return NULL;
}

void aud_check_keys(aud_ctx *ctx)
{
    key_state st = { .ctx = ctx };
    for (size_t i = 0; i < aud_image_count(ctx->img); i++) {
        const aud_entry *e = aud_image_entry(ctx->img, i);
        if (e->type != AUD_REG || e->size < 32 || e->too_big)
            continue;
        uint8_t *buf;
        size_t len;
        if (aud_image_read(ctx->img, e, MAX_SCAN, &buf, &len, NULL, 0) != 0)
            continue;
        st.files++;
        if (memmem(buf, len, "PRIVATE KEY-----", 16))
            scan_pem(&st, e, buf, len);
        else if (buf[0] == 0x30 && len == e->size) {
            bool enc;
            const char *k = der_kind(buf, len, &enc);
            if (k)
                report_key(&st, e, 0, k, enc);
        }
        free(buf);
    }
    if (!st.keys && st.files)
        aud_add(ctx->r, 6, "", 0, "FS38-6.0", "5.4-3", AUD_INFO,
                "no private key (PEM, DER, OpenSSH, PKCS#8, PKCS#12) in %zu files", st.files);
    else if (!st.plain && st.files)
        aud_add(ctx->r, 6, "", 0, "FS38-6.0", "5.4-3", AUD_INFO,
                "no unencrypted private key in %zu files (%zu encrypted)", st.files, st.keys);
    aud_assessed(ctx->r, 6, AUD_V_UNKNOWN, "no file to examine");
}
