/* SPDX-License-Identifier: Apache-2.0 */
/* err.c — error strings and the tiny formatter behind rejection diagnostics. */
#include <stdarg.h>
#include "fs38/err.h"

const char *fs38_strerror(fs38_err err)
{
    switch (err) {
    case FS38_OK: return "ok";
    case FS38_ERR_ARG: return "invalid argument";
    case FS38_ERR_BUFFER: return "buffer too small";
    case FS38_ERR_IO: return "I/O error";
    case FS38_ERR_POWER: return "power lost";
    case FS38_ERR_CRYPTO: return "crypto library failure";
    case FS38_ERR_STATE: return "invalid state";
    case FS38_ERR_NOT_FOUND: return "not found";
    case FS38_ERR_LIMIT: return "capacity exceeded";
    case FS38_ERR_CBOR_TRUNCATED: return "CBOR truncated";
    case FS38_ERR_CBOR_MALFORMED: return "CBOR malformed";
    case FS38_ERR_CBOR_INDEFINITE: return "CBOR indefinite length not allowed";
    case FS38_ERR_CBOR_NONMINIMAL: return "CBOR head not minimal";
    case FS38_ERR_CBOR_TYPE: return "CBOR unexpected type";
    case FS38_ERR_CBOR_DEPTH: return "CBOR nesting too deep";
    case FS38_ERR_CBOR_TRAILING: return "CBOR trailing bytes";
    case FS38_ERR_COSE_FORMAT: return "malformed COSE structure";
    case FS38_ERR_UNSUPPORTED_ALG: return "unsupported algorithm";
    case FS38_ERR_BAD_SIGNATURE: return "signature invalid";
    case FS38_ERR_BAD_MAC: return "MAC invalid";
    case FS38_ERR_UNTRUSTED_SIGNER: return "untrusted signer";
    case FS38_ERR_SUIT_FORMAT: return "malformed SUIT envelope";
    case FS38_ERR_NO_AUTH: return "no authentication block";
    case FS38_ERR_MANIFEST_DIGEST: return "manifest digest mismatch";
    case FS38_ERR_SEVERED_DIGEST: return "severed member digest mismatch";
    case FS38_ERR_SEVERED_MISSING: return "severed member missing";
    case FS38_ERR_ROLLBACK: return "rollback refused";
    case FS38_ERR_VENDOR_ID: return "vendor id mismatch";
    case FS38_ERR_CLASS_ID: return "class id mismatch";
    case FS38_ERR_IMAGE_DIGEST: return "image digest mismatch";
    case FS38_ERR_IMAGE_SIZE: return "image size invalid";
    case FS38_ERR_COMPONENT: return "invalid component";
    case FS38_ERR_UNSUPPORTED_COMMAND: return "unsupported command";
    case FS38_ERR_UNSUPPORTED_PARAM: return "unsupported parameter";
    case FS38_ERR_CONDITION: return "condition failed";
    case FS38_ERR_MANIFEST_VERSION: return "unsupported manifest version";
    case FS38_ERR_MISSING_PARAM: return "missing parameter";
    case FS38_ERR_CALLBACK: return "platform refused the operation";
    case FS38_ERR_NO_IMAGE: return "no image";
    case FS38_ERR_NOT_BOOTABLE: return "no bootable image";
    case FS38_ERR_POLICY: return "refused by policy";
    case FS38_ERR_STORE_ROLLBACK: return "store rolled back";
    case FS38_ERR_STORE_CORRUPT: return "store record corrupt";
    case FS38_ERR_STORE_FULL: return "store full";
    case FS38_ERR_DECRYPT: return "decryption failed";
    case FS38_ERR_TRUNCATED: return "payload truncated";
    case FS38_ERR_OVERSIZE: return "payload too large";
    case FS38_ERR_AUTH_REFUSED: return "login refused";
    case FS38_ERR_AUTH_LOCKED: return "locked out after failed attempts";
    case FS38_ERR_AUTH_CHANGE: return "password change required";
    case FS38_ERR_PASSWORD_POLICY: return "password refused by policy";
    case FS38_ERR_NOT_PROVISIONED: return "device not provisioned";
    case FS38_ERR_PROVISIONED: return "device already provisioned";
    case FS38_ERR_DECOMMISSIONED: return "device decommissioned";
    case FS38_ERR_CERT_MISMATCH: return "certificate does not match the device";
    case FS38_ERR_NONCE: return "nonce mismatch";
    case FS38_ERR_CLAIMS: return "invalid claims";
    case FS38_ERR_ERASE: return "region not erased";
    case FS38_ERR_LOG_UNINIT: return "security log not initialised";
    case FS38_ERR_LOG_BATCH: return "malformed log batch";
    case FS38_ERR_LOG_VERIFY: return "log tampering or loss found";
    }
    return "unknown error";
}

typedef struct {
    char *buf;
    size_t cap;
    size_t len;
} outbuf;

static void put_c(outbuf *o, char c)
{
    if (o->cap && o->len + 1 < o->cap)
        o->buf[o->len++] = c;
}

static void put_s(outbuf *o, const char *s)
{
    if (!s)
        s = "(null)";
    while (*s)
        put_c(o, *s++);
}

static void put_u(outbuf *o, unsigned long long v, unsigned base)
{
    char tmp[24];
    size_t n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v && n < sizeof tmp);
    while (n)
        put_c(o, tmp[--n]);
}

static void put_i(outbuf *o, long long v)
{
    if (v < 0) {
        put_c(o, '-');
        put_u(o, (unsigned long long)(-(v + 1)) + 1u, 10);
    } else {
        put_u(o, (unsigned long long)v, 10);
    }
}

static size_t vfmt(char *buf, size_t cap, const char *fmt, va_list ap)
{
    outbuf o = { buf, cap, 0 };
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put_c(&o, *p);
            continue;
        }
        p++;
        int longs = 0, size_t_arg = 0;
        while (*p == 'l') {
            longs++;
            p++;
        }
        if (*p == 'z') {
            size_t_arg = 1;
            p++;
        }
        switch (*p) {
        case 's': put_s(&o, va_arg(ap, const char *)); break;
        case 'd':
            if (longs >= 2) put_i(&o, va_arg(ap, long long));
            else if (longs == 1) put_i(&o, va_arg(ap, long));
            else put_i(&o, va_arg(ap, int));
            break;
        case 'u':
        case 'x': {
            unsigned base = *p == 'x' ? 16u : 10u;
            if (size_t_arg) put_u(&o, va_arg(ap, size_t), base);
            else if (longs >= 2) put_u(&o, va_arg(ap, unsigned long long), base);
            else if (longs == 1) put_u(&o, va_arg(ap, unsigned long), base);
            else put_u(&o, va_arg(ap, unsigned), base);
            break;
        }
        case '%': put_c(&o, '%'); break;
        case '\0': p--; break;
        default: put_c(&o, '?'); break;
        }
    }
    if (cap)
        buf[o.len] = '\0';
    return o.len;
}

size_t fs38_fmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = vfmt(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

void fs38_diag_clear(fs38_diag *d)
{
    if (d) {
        d->err = FS38_OK;
        d->msg[0] = '\0';
    }
}

fs38_err fs38_diag_set(fs38_diag *d, fs38_err err, const char *fmt, ...)
{
    if (!d)
        return err;
    d->err = err;
    d->msg[0] = '\0';
    if (fmt && *fmt) {
        va_list ap;
        va_start(ap, fmt);
        vfmt(d->msg, sizeof d->msg, fmt, ap);
        va_end(ap);
    }
    if (!d->msg[0])
        fs38_fmt(d->msg, sizeof d->msg, "%s", fs38_strerror(err));
    return err;
}
