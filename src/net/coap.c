/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coap.c — CoAP codec (RFC 7252 §3), confirmable client (§4), block-wise transfers (RFC 7959)
 * and the coap(s):// URI parser (§6). See fs38/coap.h for the contracts.
 *
 * Bounds: a message is at most FS38_COAP_MSG_MAX bytes and FS38_COAP_MAX_OPTIONS options;
 * every loop of the decoder advances over the input; the exchange loop ends at a deadline
 * computed from the port's monotonic clock (retransmissions at most MAX_RETRANSMIT); a
 * download is at most 2^20 blocks; an upload restarts after 4.13 only with a strictly smaller
 * block size (at most 6 times).
 */
#include <string.h>
#include "fs38/coap.h"
#include "fs38/event.h"
#include "fs38/util.h"
#include "inner.h"

#define COAP_VERSION 1u
#define BLOCK_NUM_MAX 0xFFFFFu /* NUM is at most 20 bits (3-byte option) */
#define OPT_LEN_MAX 1034u

/* ---- codec ------------------------------------------------------------------------------ */

fs38_err fs38_coap_msg_init(fs38_coap_msg *m, uint8_t type, uint8_t code, uint16_t mid, const uint8_t *token,
                            size_t token_len)
{
    if (!m || type > FS38_COAP_RST || token_len > FS38_COAP_TOKEN_MAX || (token_len > 0 && !token))
        return FS38_ERR_ARG;
    memset(m, 0, sizeof *m);
    m->type = type;
    m->code = code;
    m->mid = mid;
    m->token_len = (uint8_t)token_len;
    if (token_len)
        memcpy(m->token, token, token_len);
    return FS38_OK;
}

/* Insert a slot for number after every option with a number <= it. */
static fs38_coap_option *opt_slot(fs38_coap_msg *m, uint16_t number)
{
    size_t i = m->n_options;
    while (i > 0 && m->options[i - 1].number > number) {
        m->options[i] = m->options[i - 1];
        i--;
    }
    m->n_options++;
    memset(&m->options[i], 0, sizeof m->options[i]);
    m->options[i].number = number;
    return &m->options[i];
}

fs38_err fs38_coap_opt_add(fs38_coap_msg *m, uint16_t number, const uint8_t *value, size_t len)
{
    if (!m || number == 0 || len > OPT_LEN_MAX || (len > 0 && !value))
        return FS38_ERR_ARG;
    if (m->n_options >= FS38_COAP_MAX_OPTIONS)
        return FS38_ERR_LIMIT;
    fs38_coap_option *o = opt_slot(m, number);
    o->len = (uint16_t)len;
    static const uint8_t no_bytes[1] = { 0 };
    o->value = len ? value : no_bytes; /* never NULL (NULL means "inline", see fs38_coap_option) */
    return FS38_OK;
}

fs38_err fs38_coap_opt_add_uint(fs38_coap_msg *m, uint16_t number, uint32_t value)
{
    if (!m || number == 0)
        return FS38_ERR_ARG;
    if (m->n_options >= FS38_COAP_MAX_OPTIONS)
        return FS38_ERR_LIMIT;
    fs38_coap_option *o = opt_slot(m, number);
    uint8_t n = value > 0xFFFFFFu ? 4u : value > 0xFFFFu ? 3u : value > 0xFFu ? 2u : value ? 1u : 0u;
    for (uint8_t i = 0; i < n; i++)
        o->inl[i] = (uint8_t)(value >> (8u * (n - 1u - i)));
    o->len = n;
    o->value = NULL;
    return FS38_OK;
}

const fs38_coap_option *fs38_coap_opt_find(const fs38_coap_msg *m, uint16_t number, size_t n)
{
    if (!m)
        return NULL;
    for (size_t i = 0; i < m->n_options && i < FS38_COAP_MAX_OPTIONS; i++)
        if (m->options[i].number == number && n-- == 0)
            return &m->options[i];
    return NULL;
}

const uint8_t *fs38_coap_opt_value(const fs38_coap_option *o)
{
    return o->value ? o->value : o->inl;
}

fs38_err fs38_coap_opt_uint(const fs38_coap_option *o, uint32_t *value, fs38_diag *d)
{
    if (!o || !value)
        return fs38_diag_set(d, FS38_ERR_ARG, "");
    if (o->len > 4u)
        return fs38_diag_set(d, FS38_ERR_PROTOCOL, "option %u: integer of %u bytes (at most 4)", (unsigned)o->number,
                             (unsigned)o->len);
    const uint8_t *v = fs38_coap_opt_value(o);
    uint32_t x = 0;
    for (size_t i = 0; i < o->len; i++)
        x = x << 8 | v[i];
    *value = x;
    return FS38_OK;
}

/* Nibble and extended bytes for an option delta or length (RFC 7252 §3.1). */
static size_t ext_form(uint32_t v, uint8_t *nib, uint8_t ext[2])
{
    if (v < 13u) {
        *nib = (uint8_t)v;
        return 0;
    }
    if (v < 269u) {
        *nib = 13u;
        ext[0] = (uint8_t)(v - 13u);
        return 1;
    }
    *nib = 14u;
    ext[0] = (uint8_t)((v - 269u) >> 8);
    ext[1] = (uint8_t)(v - 269u);
    return 2;
}

fs38_err fs38_coap_encode(const fs38_coap_msg *m, uint8_t *buf, size_t cap, size_t *len, fs38_diag *d)
{
    if (!m || !buf || !len)
        return fs38_diag_set(d, FS38_ERR_ARG, "");
    if (m->type > FS38_COAP_RST || m->token_len > FS38_COAP_TOKEN_MAX || m->n_options > FS38_COAP_MAX_OPTIONS)
        return fs38_diag_set(d, FS38_ERR_ARG, "bad type, token length or option count");
    if (m->payload_len > 0 && !m->payload)
        return fs38_diag_set(d, FS38_ERR_ARG, "payload missing");
    if (m->code == FS38_COAP_EMPTY && (m->token_len || m->n_options || m->payload_len))
        return fs38_diag_set(d, FS38_ERR_ARG, "an empty message (0.00) has no token, options or payload");
    size_t pos = 0;
    if (cap < 4u + m->token_len)
        return fs38_diag_set(d, FS38_ERR_BUFFER, "message does not fit %zu bytes", cap);
    buf[0] = (uint8_t)(COAP_VERSION << 6 | (unsigned)m->type << 4 | m->token_len);
    buf[1] = m->code;
    buf[2] = (uint8_t)(m->mid >> 8);
    buf[3] = (uint8_t)m->mid;
    memcpy(buf + 4, m->token, m->token_len);
    pos = 4u + m->token_len;
    uint32_t prev = 0;
    for (size_t i = 0; i < m->n_options; i++) {
        const fs38_coap_option *o = &m->options[i];
        if (o->number == 0 || o->number < prev)
            return fs38_diag_set(d, FS38_ERR_ARG, "option %u out of order (after %u)", (unsigned)o->number,
                                 (unsigned)prev);
        uint8_t dn, ln, dx[2], lx[2];
        size_t dxn = ext_form(o->number - prev, &dn, dx);
        size_t lxn = ext_form(o->len, &ln, lx);
        size_t need = 1u + dxn + lxn + o->len;
        if (cap - pos < need)
            return fs38_diag_set(d, FS38_ERR_BUFFER, "message does not fit %zu bytes", cap);
        buf[pos++] = (uint8_t)(dn << 4 | ln);
        memcpy(buf + pos, dx, dxn);
        pos += dxn;
        memcpy(buf + pos, lx, lxn);
        pos += lxn;
        if (o->len)
            memcpy(buf + pos, fs38_coap_opt_value(o), o->len);
        pos += o->len;
        prev = o->number;
    }
    if (m->payload_len) {
        if (cap - pos < 1u + m->payload_len)
            return fs38_diag_set(d, FS38_ERR_BUFFER, "message does not fit %zu bytes", cap);
        buf[pos++] = 0xFF;
        memcpy(buf + pos, m->payload, m->payload_len);
        pos += m->payload_len;
    }
    *len = pos;
    return FS38_OK;
}

/* Read the extended form of a nibble at buf[*pos]; FS38_ERR_PROTOCOL when it runs past len. */
static FS38_NODISCARD fs38_err ext_read(const uint8_t *buf, size_t len, size_t *pos, uint8_t nib, uint32_t *out)
{
    if (nib < 13u) {
        *out = nib;
        return FS38_OK;
    }
    size_t n = nib == 13u ? 1u : 2u;
    if (len - *pos < n)
        return FS38_ERR_PROTOCOL;
    *out = n == 1u ? 13u + buf[*pos] : 269u + ((uint32_t)buf[*pos] << 8 | buf[*pos + 1u]);
    *pos += n;
    return FS38_OK;
}

fs38_err fs38_coap_decode(const uint8_t *buf, size_t len, fs38_coap_msg *m, fs38_diag *d)
{
    if (!buf || !m)
        return fs38_diag_set(d, FS38_ERR_ARG, "");
    if (len > FS38_COAP_MSG_MAX)
        return fs38_diag_set(d, FS38_ERR_PROTOCOL, "CoAP message of %zu bytes exceeds %u", len,
                             (unsigned)FS38_COAP_MSG_MAX);
    if (len < 4u)
        return fs38_diag_set(d, FS38_ERR_PROTOCOL, "CoAP message of %zu bytes is shorter than its header", len);
    unsigned ver = buf[0] >> 6, tkl = buf[0] & 15u, cls = buf[1] >> 5u;
    if (ver != COAP_VERSION)
        return fs38_diag_set(d, FS38_ERR_PROTOCOL, "CoAP version %u (only 1 exists)", ver);
    if (tkl > FS38_COAP_TOKEN_MAX)
        return fs38_diag_set(d, FS38_ERR_PROTOCOL, "token length %u is reserved (9..15)", tkl);
    if (cls == 1u || cls >= 6u)
        return fs38_diag_set(d, FS38_ERR_PROTOCOL, "code class %u is reserved", cls);
    if (len < 4u + tkl)
        return fs38_diag_set(d, FS38_ERR_PROTOCOL, "token of %u bytes runs past the end", tkl);
    memset(m, 0, sizeof *m);
    m->type = (uint8_t)(buf[0] >> 4 & 3u);
    m->code = buf[1];
    m->mid = (uint16_t)(buf[2] << 8 | buf[3]);
    m->token_len = (uint8_t)tkl;
    memcpy(m->token, buf + 4, tkl);
    size_t pos = 4u + tkl;
    uint32_t number = 0;
    while (pos < len) {
        size_t at = pos;
        uint8_t b = buf[pos++];
        if (b == 0xFF) {
            if (pos == len)
                return fs38_diag_set(d, FS38_ERR_PROTOCOL, "payload marker at byte %zu followed by no payload", at);
            m->payload = buf + pos;
            m->payload_len = len - pos;
            break;
        }
        uint8_t dn = b >> 4, ln = b & 15u;
        if (dn == 15u || ln == 15u)
            return fs38_diag_set(d, FS38_ERR_PROTOCOL, "reserved option %s nibble 15 at byte %zu",
                                 dn == 15u ? "delta" : "length", at);
        uint32_t delta, olen;
        if (ext_read(buf, len, &pos, dn, &delta) != FS38_OK || ext_read(buf, len, &pos, ln, &olen) != FS38_OK)
            return fs38_diag_set(d, FS38_ERR_PROTOCOL, "option header at byte %zu runs past the end", at);
        number += delta;
        if (number == 0)
            return fs38_diag_set(d, FS38_ERR_PROTOCOL, "reserved option number 0 at byte %zu", at);
        if (number > 0xFFFFu)
            return fs38_diag_set(d, FS38_ERR_PROTOCOL, "option number %u at byte %zu beyond 65535 (delta overflow)",
                                 (unsigned)number, at);
        if (olen > len - pos)
            return fs38_diag_set(d, FS38_ERR_PROTOCOL, "option %u at byte %zu: value of %u bytes runs past the end",
                                 (unsigned)number, at, (unsigned)olen);
        if (m->n_options >= FS38_COAP_MAX_OPTIONS)
            return fs38_diag_set(d, FS38_ERR_PROTOCOL, "more than %u options", (unsigned)FS38_COAP_MAX_OPTIONS);
        fs38_coap_option *o = &m->options[m->n_options++];
        o->number = (uint16_t)number;
        o->len = (uint16_t)olen;
        o->value = buf + pos;
        pos += olen;
    }
    if (m->code == FS38_COAP_EMPTY && (tkl || m->n_options || m->payload_len))
        return fs38_diag_set(d, FS38_ERR_PROTOCOL, "empty message (0.00) with a token, options or payload");
    return FS38_OK;
}

uint32_t fs38_coap_block_pack(uint32_t num, bool more, unsigned szx)
{
    return (num & BLOCK_NUM_MAX) << 4 | (more ? 8u : 0u) | (szx & 7u);
}

fs38_err fs38_coap_block_unpack(uint32_t value, uint32_t *num, bool *more, unsigned *szx, fs38_diag *d)
{
    if (!num || !more || !szx)
        return fs38_diag_set(d, FS38_ERR_ARG, "");
    if (value > 0xFFFFFFu)
        return fs38_diag_set(d, FS38_ERR_PROTOCOL, "block option of more than 3 bytes");
    if ((value & 7u) == 7u)
        return fs38_diag_set(d, FS38_ERR_PROTOCOL, "block size exponent 7 is reserved");
    *num = value >> 4;
    *more = (value & 8u) != 0;
    *szx = value & 7u;
    return FS38_OK;
}

const char *fs38_coap_code_name(uint8_t code)
{
    static const struct {
        uint8_t code;
        const char *name;
    } names[] = {
        { FS38_COAP_CODE(0, 0), "Empty" },
        { FS38_COAP_CODE(0, 1), "GET" },
        { FS38_COAP_CODE(0, 2), "POST" },
        { FS38_COAP_CODE(0, 3), "PUT" },
        { FS38_COAP_CODE(0, 4), "DELETE" },
        { FS38_COAP_CODE(2, 1), "Created" },
        { FS38_COAP_CODE(2, 2), "Deleted" },
        { FS38_COAP_CODE(2, 3), "Valid" },
        { FS38_COAP_CODE(2, 4), "Changed" },
        { FS38_COAP_CODE(2, 5), "Content" },
        { FS38_COAP_CODE(2, 31), "Continue" },
        { FS38_COAP_CODE(4, 0), "Bad Request" },
        { FS38_COAP_CODE(4, 1), "Unauthorized" },
        { FS38_COAP_CODE(4, 2), "Bad Option" },
        { FS38_COAP_CODE(4, 3), "Forbidden" },
        { FS38_COAP_CODE(4, 4), "Not Found" },
        { FS38_COAP_CODE(4, 5), "Method Not Allowed" },
        { FS38_COAP_CODE(4, 6), "Not Acceptable" },
        { FS38_COAP_CODE(4, 8), "Request Entity Incomplete" },
        { FS38_COAP_CODE(4, 12), "Precondition Failed" },
        { FS38_COAP_CODE(4, 13), "Request Entity Too Large" },
        { FS38_COAP_CODE(4, 15), "Unsupported Content-Format" },
        { FS38_COAP_CODE(5, 0), "Internal Server Error" },
        { FS38_COAP_CODE(5, 1), "Not Implemented" },
        { FS38_COAP_CODE(5, 2), "Bad Gateway" },
        { FS38_COAP_CODE(5, 3), "Service Unavailable" },
        { FS38_COAP_CODE(5, 4), "Gateway Timeout" },
        { FS38_COAP_CODE(5, 5), "Proxying Not Supported" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == code)
            return names[i].name;
    return "Unknown";
}

/* strlen bounded by cap (strnlen is POSIX, not C11). */
static size_t bounded_len(const char *s, size_t cap)
{
    size_t n = 0;
    while (n < cap && s[n])
        n++;
    return n;
}

/* ---- URI (RFC 7252 §6, RFC 3986) ----------------------------------------------------------- */

static bool is_alpha(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static int hex_val(char ch)
{
    if (is_digit(ch))
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static bool is_unreserved(char ch)
{
    return is_alpha(ch) || is_digit(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

/* pchar minus '%' (checked separately): unreserved / sub-delims / ':' / '@'. */
static bool is_pchar(char ch)
{
    return is_unreserved(ch) || (ch != '\0' && strchr("!$&'()*+,;=:@", ch) != NULL);
}

static bool lower_prefix(const char *s, const char *p)
{
    for (; *p; s++, p++) {
        char ch = *s;
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != *p)
            return false;
    }
    return true;
}

static bool is_ipv4(const char *h)
{
    unsigned parts = 0;
    while (*h) {
        unsigned v = 0, digits = 0;
        while (is_digit(*h)) {
            v = v * 10u + (unsigned)(*h++ - '0');
            if (++digits > 3u)
                return false;
        }
        if (digits == 0 || v > 255u)
            return false;
        parts++;
        if (*h == '.' && parts < 4u)
            h++;
        else if (*h)
            return false;
    }
    return parts == 4u;
}

/* Copy a path or query part [s, e) after checking its characters and escapes. */
static FS38_NODISCARD fs38_err uri_part(const char *s, const char *e, bool query, char *out, fs38_diag *d)
{
    size_t n = 0;
    for (const char *p = s; p < e; p++) {
        char ch = *p;
        if (ch == '%') {
            if (e - p < 3 || hex_val(p[1]) < 0 || hex_val(p[2]) < 0)
                return fs38_diag_set(d, FS38_ERR_ARG, "URI: bad percent escape at character %zu", (size_t)(p - s));
        } else if (!is_pchar(ch) && ch != '/' && !(query && ch == '?')) {
            return fs38_diag_set(d, FS38_ERR_ARG, "URI: character 0x%x not allowed in the %s", (unsigned)(uint8_t)ch,
                                 query ? "query" : "path");
        }
        out[n++] = ch;
    }
    out[n] = '\0';
    return FS38_OK;
}

fs38_err fs38_coap_uri_parse(const char *text, fs38_coap_uri *uri, fs38_diag *d)
{
    if (!text || !uri)
        return fs38_diag_set(d, FS38_ERR_ARG, "URI missing");
    size_t tlen = bounded_len(text, FS38_COAP_URI_MAX + 1u);
    if (tlen > FS38_COAP_URI_MAX)
        return fs38_diag_set(d, FS38_ERR_ARG, "URI longer than %u characters", (unsigned)FS38_COAP_URI_MAX);
    fs38_coap_uri u;
    memset(&u, 0, sizeof u);
    const char *p;
    if (lower_prefix(text, "coaps://")) {
        u.secure = true;
        u.port = FS38_COAPS_PORT;
        p = text + 8;
    } else if (lower_prefix(text, "coap://")) {
        u.port = FS38_COAP_PORT;
        p = text + 7;
    } else {
        return fs38_diag_set(d, FS38_ERR_ARG, "URI: scheme is not coaps:// (or coap://)");
    }
    const char *end = text + tlen;
    /* authority: up to '/', '?' or '#' */
    const char *auth_end = p;
    while (auth_end < end && *auth_end != '/' && *auth_end != '?' && *auth_end != '#')
        auth_end++;
    if (memchr(p, '@', (size_t)(auth_end - p)))
        return fs38_diag_set(d, FS38_ERR_ARG, "URI: user info is not allowed");
    const char *host_end;
    const char *h = p;
    if (*p == '[') {
        host_end = memchr(p, ']', (size_t)(auth_end - p));
        if (!host_end)
            return fs38_diag_set(d, FS38_ERR_ARG, "URI: IPv6 literal without ']'");
        h = p + 1;
        for (const char *q = h; q < host_end; q++)
            if (hex_val(*q) < 0 && *q != ':' && *q != '.')
                return fs38_diag_set(d, FS38_ERR_ARG, "URI: bad character in the IPv6 literal");
        if (host_end == h || !memchr(h, ':', (size_t)(host_end - h)))
            return fs38_diag_set(d, FS38_ERR_ARG, "URI: bad IPv6 literal");
        u.host_is_ip = true;
        p = host_end + 1;
    } else {
        host_end = p;
        while (host_end < auth_end && *host_end != ':')
            host_end++;
        for (const char *q = h; q < host_end; q++)
            if (!is_unreserved(*q))
                return fs38_diag_set(d, FS38_ERR_ARG, "URI: character 0x%x not allowed in the host",
                                     (unsigned)(uint8_t)*q);
        p = host_end;
    }
    size_t hlen = (size_t)(host_end - h);
    if (hlen == 0)
        return fs38_diag_set(d, FS38_ERR_ARG, "URI: empty host");
    if (hlen > FS38_COAP_HOST_MAX)
        return fs38_diag_set(d, FS38_ERR_ARG, "URI: host longer than %u characters", (unsigned)FS38_COAP_HOST_MAX);
    memcpy(u.host, h, hlen);
    u.host[hlen] = '\0';
    if (!u.host_is_ip)
        u.host_is_ip = is_ipv4(u.host);
    if (p < auth_end) {
        if (*p != ':')
            return fs38_diag_set(d, FS38_ERR_ARG, "URI: unexpected character after the host");
        p++;
        if (p < auth_end) { /* an empty port means the default (RFC 3986 §3.2.3) */
            uint32_t port = 0;
            for (; p < auth_end; p++) {
                if (!is_digit(*p) || port > 65535u)
                    return fs38_diag_set(d, FS38_ERR_ARG, "URI: bad port");
                port = port * 10u + (uint32_t)(*p - '0');
            }
            if (port == 0 || port > 65535u)
                return fs38_diag_set(d, FS38_ERR_ARG, "URI: port outside 1..65535");
            u.port = (uint16_t)port;
        }
    }
    if (memchr(auth_end, '#', (size_t)(end - auth_end)))
        return fs38_diag_set(d, FS38_ERR_ARG, "URI: a fragment (#) is not allowed");
    const char *q = memchr(auth_end, '?', (size_t)(end - auth_end));
    const char *path_end = q ? q : end;
    const char *ps = auth_end < path_end && *auth_end == '/' ? auth_end + 1 : auth_end;
    fs38_err err = uri_part(ps, path_end, false, u.path, d);
    if (err == FS38_OK && q)
        err = uri_part(q + 1, end, true, u.query, d);
    if (err != FS38_OK)
        return err;
    *uri = u;
    return FS38_OK;
}

/* ---- client -------------------------------------------------------------------------------- */

/* Record a refusal: the diag is already filled; raise the security event. */
static fs38_err refused(fs38_coap_client *c, fs38_err err)
{
    fs38_event(FS38_EV_COAP_REFUSED, FS38_SEV_WARNING, (int64_t)err, c->diag.msg);
    return err;
}
#define REFUSE(c, err, ...) refused((c), fs38_diag_set(&(c)->diag, (err), __VA_ARGS__))

/* One datagram within wait_ms into c->rx, decoded into m: FS38_OK; FS38_ERR_TIMEOUT when nothing
 * arrived (the caller's timers decide); any other error with the diag set (and the refusal
 * event for a malformed or oversized datagram). Shared by every receive loop of the client. */
static FS38_NODISCARD fs38_err recv_msg(fs38_coap_client *c, uint64_t wait_ms, fs38_coap_msg *m)
{
    size_t len = 0;
    fs38_err err = c->cfg.transport->recv(c->cfg.transport->ctx, c->rx, sizeof c->rx, &len,
                                          wait_ms > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)wait_ms);
    if (err == FS38_ERR_TIMEOUT)
        return err;
    if (err == FS38_ERR_BUFFER)
        return REFUSE(c, FS38_ERR_PROTOCOL, "CoAP datagram larger than %u bytes", (unsigned)FS38_COAP_MSG_MAX);
    if (err != FS38_OK)
        return fs38_diag_set(&c->diag, err, "CoAP: receiving failed: %s", fs38_strerror(err));
    if (len > sizeof c->rx)
        return REFUSE(c, FS38_ERR_PROTOCOL, "transport returned %zu bytes for a %zu-byte buffer", len, sizeof c->rx);
    err = fs38_coap_decode(c->rx, len, m, &c->diag);
    return err != FS38_OK ? refused(c, err) : FS38_OK;
}

static FS38_NODISCARD fs38_err rnd(fs38_coap_client *c, void *buf, size_t n)
{
    fs38_err err = c->cfg.port->entropy(c->cfg.port->ctx, buf, n);
    if (err != FS38_OK)
        return fs38_diag_set(&c->diag, err, "CoAP: no entropy for tokens and message ids");
    return FS38_OK;
}

static uint64_t now_ms(const fs38_coap_client *c)
{
    return c->cfg.port->monotonic_ms(c->cfg.port->ctx);
}

fs38_err fs38_coap_client_init(fs38_coap_client *c, const fs38_coap_config *cfg)
{
    if (!c || !cfg)
        return FS38_ERR_ARG;
    memset(c, 0, sizeof *c);
    const fs38_transport *t = cfg->transport;
    const fs38_port *p = cfg->port;
    if (!t || !t->datagram || !t->send || !t->recv)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "CoAP needs a datagram transport");
    if (!p || !p->entropy || !p->monotonic_ms)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "CoAP needs the port's entropy and monotonic clock");
    c->cfg = *cfg;
    if (!c->cfg.ack_timeout_ms)
        c->cfg.ack_timeout_ms = 2000u;
    if (!c->cfg.ack_random_factor_pct)
        c->cfg.ack_random_factor_pct = 150u;
    if (!c->cfg.max_retransmit)
        c->cfg.max_retransmit = 4u;
    if (!c->cfg.block_size)
        c->cfg.block_size = 1024u;
    if (!c->cfg.response_timeout_ms)
        c->cfg.response_timeout_ms = 30000u;
    if (!c->cfg.nstart)
        c->cfg.nstart = 1u;
    if (!c->cfg.max_payloads)
        c->cfg.max_payloads = FS38_COAP_MAX_PAYLOADS;
    if (c->cfg.max_payloads > FS38_COAP_MAX_PAYLOADS_MAX)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "CoAP MAX_PAYLOADS %u out of range (1..%u)",
                             (unsigned)c->cfg.max_payloads, (unsigned)FS38_COAP_MAX_PAYLOADS_MAX);
    if (c->cfg.ack_timeout_ms > 60000u || c->cfg.ack_random_factor_pct < 100u || c->cfg.ack_random_factor_pct > 400u ||
        c->cfg.max_retransmit > 8u || c->cfg.response_timeout_ms > 600000u || c->cfg.nstart > FS38_COAP_NSTART_MAX)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "CoAP timing out of range");
    unsigned szx = 0;
    while (szx < 7u && (16u << szx) != c->cfg.block_size)
        szx++;
    if (szx > 6u)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "CoAP block size %u is not 16, 32, ..., 1024",
                             (unsigned)c->cfg.block_size);
    c->szx = (uint8_t)szx;
    uint8_t mid[2];
    fs38_err err = rnd(c, mid, sizeof mid);
    if (err != FS38_OK)
        return err;
    c->next_mid = (uint16_t)(mid[0] << 8 | mid[1]);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err tx(fs38_coap_client *c, const uint8_t *buf, size_t len)
{
    fs38_err err = c->cfg.transport->send(c->cfg.transport->ctx, buf, len);
    if (err != FS38_OK)
        return fs38_diag_set(&c->diag, err, "CoAP: sending failed: %s", fs38_strerror(err));
    return FS38_OK;
}

/* An empty ACK or RST for message id mid. */
static FS38_NODISCARD fs38_err tx_empty(fs38_coap_client *c, unsigned type, uint16_t mid)
{
    uint8_t b[4] = { (uint8_t)(COAP_VERSION << 6 | type << 4), 0, (uint8_t)(mid >> 8), (uint8_t)mid };
    return tx(c, b, sizeof b);
}

static bool seen(const fs38_coap_client *c, uint16_t mid)
{
    for (unsigned i = 0; i < c->seen_n; i++)
        if (c->seen_mid[i] == mid)
            return true;
    return false;
}

static void remember(fs38_coap_client *c, uint16_t mid)
{
    size_t n = sizeof c->seen_mid / sizeof c->seen_mid[0];
    if (c->seen_n < n) {
        c->seen_mid[c->seen_n++] = mid;
        return;
    }
    memmove(c->seen_mid, c->seen_mid + 1, (n - 1u) * sizeof c->seen_mid[0]);
    c->seen_mid[n - 1u] = mid;
}

/* Critical options (odd numbers) the client recognises in a response (RFC 7252 §5.4.1). */
static bool known_critical(uint16_t n)
{
    switch (n) {
    case FS38_COAP_OPT_IF_MATCH: case FS38_COAP_OPT_URI_HOST: case FS38_COAP_OPT_URI_PORT:
    case FS38_COAP_OPT_URI_PATH: case FS38_COAP_OPT_URI_QUERY: case FS38_COAP_OPT_ACCEPT:
    case FS38_COAP_OPT_BLOCK2: case FS38_COAP_OPT_BLOCK1: case 35u /* Proxy-Uri */: case 39u /* Proxy-Scheme */:
        return true;
    default:
        return false;
    }
}

static bool single_valued(uint16_t n)
{
    return n == FS38_COAP_OPT_BLOCK1 || n == FS38_COAP_OPT_BLOCK2 || n == FS38_COAP_OPT_QBLOCK2 || n == FS38_COAP_OPT_SIZE1 ||
           n == FS38_COAP_OPT_SIZE2 || n == FS38_COAP_OPT_ETAG || n == FS38_COAP_OPT_CONTENT_FORMAT ||
           n == FS38_COAP_OPT_MAX_AGE;
}

/* A response's options: no unrecognised critical one, no repeated single-valued one. */
static FS38_NODISCARD fs38_err check_response_options(fs38_coap_client *c, const fs38_coap_msg *m)
{
    for (size_t i = 0; i < m->n_options; i++) {
        uint16_t n = m->options[i].number;
        if ((n & 1u) && !known_critical(n) && !(c->qb && n == FS38_COAP_OPT_QBLOCK2))
            return REFUSE(c, FS38_ERR_PROTOCOL, "response with unrecognised critical option %u", (unsigned)n);
        if (i > 0 && m->options[i - 1].number == n && single_valued(n))
            return REFUSE(c, FS38_ERR_PROTOCOL, "response repeats option %u", (unsigned)n);
    }
    return FS38_OK;
}

fs38_err fs38_coap_exchange(fs38_coap_client *c, fs38_coap_msg *req, fs38_coap_msg *resp)
{
    if (!c || !req || !resp || !c->cfg.transport)
        return FS38_ERR_ARG;
    fs38_diag_clear(&c->diag);
    if (FS38_COAP_CODE_CLASS(req->code) != 0 || req->code == FS38_COAP_EMPTY)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "CoAP: %u.%u%u is not a request code",
                             FS38_COAP_CODE_CLASS(req->code), FS38_COAP_CODE_DETAIL(req->code) / 10u,
                             FS38_COAP_CODE_DETAIL(req->code) % 10u);
    uint8_t r[10];
    fs38_err err = rnd(c, r, sizeof r);
    if (err != FS38_OK)
        return err;
    req->type = FS38_COAP_CON;
    req->mid = c->next_mid++;
    req->token_len = FS38_COAP_TOKEN_MAX;
    memcpy(req->token, r, FS38_COAP_TOKEN_MAX);
    err = fs38_coap_encode(req, c->tx, sizeof c->tx, &c->tx_len, &c->diag);
    if (err != FS38_OK)
        return err;
    /* ACK_TIMEOUT .. ACK_TIMEOUT x ACK_RANDOM_FACTOR (RFC 7252 §4.2) */
    uint64_t span = (uint64_t)c->cfg.ack_timeout_ms * (c->cfg.ack_random_factor_pct - 100u) / 100u;
    uint64_t timeout = c->cfg.ack_timeout_ms + span * (uint64_t)(r[8] << 8 | r[9]) / 65535u;
    err = tx(c, c->tx, c->tx_len);
    if (err != FS38_OK)
        return err;
    unsigned retransmits = 0;
    bool acked = false;
    uint64_t deadline = now_ms(c) + timeout;
    for (;;) {
        uint64_t t = now_ms(c);
        if (t >= deadline) {
            if (acked)
                return fs38_diag_set(&c->diag, FS38_ERR_TIMEOUT, "CoAP: no separate response within %u ms",
                                     (unsigned)c->cfg.response_timeout_ms);
            if (retransmits >= c->cfg.max_retransmit)
                return fs38_diag_set(&c->diag, FS38_ERR_TIMEOUT, "CoAP: no answer after %u retransmissions",
                                     retransmits);
            retransmits++;
            timeout *= 2u;
            deadline = t + timeout;
            err = tx(c, c->tx, c->tx_len);
            if (err != FS38_OK)
                return err;
            continue;
        }
        uint64_t wait = deadline - t;
        err = recv_msg(c, wait, resp);
        if (err == FS38_ERR_TIMEOUT)
            continue;
        if (err != FS38_OK)
            return err;
        bool our_token = resp->token_len == req->token_len && memcmp(resp->token, req->token, req->token_len) == 0;
        unsigned cls = FS38_COAP_CODE_CLASS(resp->code);
        if (resp->type == FS38_COAP_ACK || resp->type == FS38_COAP_RST) {
            if (resp->mid != req->mid)
                continue; /* a duplicate ACK of an earlier exchange */
            if (resp->type == FS38_COAP_RST)
                return REFUSE(c, FS38_ERR_PEER, "server reset (RST) the request");
            if (resp->code == FS38_COAP_EMPTY) {
                if (!acked) {
                    acked = true;
                    deadline = now_ms(c) + c->cfg.response_timeout_ms;
                }
                continue;
            }
            if (!our_token)
                return REFUSE(c, FS38_ERR_PROTOCOL, "piggy-backed response carries another token");
            if (cls < 2u)
                return REFUSE(c, FS38_ERR_PROTOCOL, "acknowledgement with request code %u.%u%u", cls,
                              FS38_COAP_CODE_DETAIL(resp->code) / 10u, FS38_COAP_CODE_DETAIL(resp->code) % 10u);
            break;
        }
        /* CON or NON */
        if (our_token && cls >= 2u) {
            if (resp->type == FS38_COAP_CON) {
                err = tx_empty(c, FS38_COAP_ACK, resp->mid);
                if (err != FS38_OK)
                    return err;
                remember(c, resp->mid);
            }
            break;
        }
        if (resp->type == FS38_COAP_CON) {
            /* a retransmitted separate response we already took: ACK again; anything else: RST */
            err = tx_empty(c, seen(c, resp->mid) ? FS38_COAP_ACK : FS38_COAP_RST, resp->mid);
            if (err != FS38_OK)
                return err;
        }
    }
    return check_response_options(c, resp);
}

/* Percent-decode [s, e) into out; returns the decoded length. The URI parser checked escapes. */
static size_t pct_decode(const char *s, const char *e, uint8_t *out)
{
    size_t n = 0;
    for (const char *p = s; p < e; p++) {
        if (*p == '%' && e - p >= 3 && hex_val(p[1]) >= 0 && hex_val(p[2]) >= 0) {
            out[n++] = (uint8_t)(hex_val(p[1]) << 4 | hex_val(p[2]));
            p += 2;
        } else {
            out[n++] = (uint8_t)*p;
        }
    }
    return n;
}

/* Add one option per part of s split at sep, percent-decoded into c->uri_opts from *used. */
static FS38_NODISCARD fs38_err add_parts(fs38_coap_client *c, const char *s, char sep, uint16_t number, size_t *used)
{
    const char *p = s;
    for (;;) {
        const char *e = strchr(p, sep);
        if (!e)
            e = p + strlen(p);
        size_t n = pct_decode(p, e, c->uri_opts + *used);
        fs38_err err = fs38_coap_opt_add(&c->req, number, c->uri_opts + *used, n);
        if (err != FS38_OK)
            return fs38_diag_set(&c->diag, err, "CoAP: the URI has too many path or query parts");
        *used += n;
        if (!*e)
            return FS38_OK;
        p = e + 1;
    }
}

/* c->req = a request with the URI's options (RFC 7252 §6.4). */
static FS38_NODISCARD fs38_err build_request(fs38_coap_client *c, const fs38_coap_uri *uri, uint8_t code)
{
    fs38_err err = fs38_coap_msg_init(&c->req, FS38_COAP_CON, code, 0, NULL, 0);
    if (err == FS38_OK && !uri->host_is_ip)
        err = fs38_coap_opt_add(&c->req, FS38_COAP_OPT_URI_HOST, (const uint8_t *)uri->host,
                                bounded_len(uri->host, sizeof uri->host));
    size_t used = 0;
    if (err == FS38_OK && uri->path[0])
        err = add_parts(c, uri->path, '/', FS38_COAP_OPT_URI_PATH, &used);
    if (err == FS38_OK && uri->query[0])
        err = add_parts(c, uri->query, '&', FS38_COAP_OPT_URI_QUERY, &used);
    return err;
}

static bool uri_ok(const fs38_coap_uri *uri)
{
    return memchr(uri->host, '\0', sizeof uri->host) && memchr(uri->path, '\0', sizeof uri->path) &&
           memchr(uri->query, '\0', sizeof uri->query) && uri->host[0] &&
           strlen(uri->path) + strlen(uri->query) <= FS38_COAP_URI_MAX;
}

/* 4.xx / 5.xx: the server's refusal. */
static fs38_err peer_refused(fs38_coap_client *c, uint8_t code)
{
    return REFUSE(c, FS38_ERR_PEER, "server answered %u.%u%u %s", FS38_COAP_CODE_CLASS(code),
                  FS38_COAP_CODE_DETAIL(code) / 10u, FS38_COAP_CODE_DETAIL(code) % 10u, fs38_coap_code_name(code));
}

static fs38_err unexpected(fs38_coap_client *c, uint8_t code, const char *what)
{
    return REFUSE(c, FS38_ERR_PROTOCOL, "unexpected answer %u.%u%u %s %s", FS38_COAP_CODE_CLASS(code),
                  FS38_COAP_CODE_DETAIL(code) / 10u, FS38_COAP_CODE_DETAIL(code) % 10u, fs38_coap_code_name(code),
                  what);
}

/* State of one Block2 download. */
typedef struct dl {
    const fs38_coap_uri *uri;
    fs38_coap_sink sink;
    void *user;
    uint32_t offset; /* first byte the caller wants */
    uint32_t pos;    /* byte offset of the next block to deliver */
    uint32_t num;    /* its block number at szx */
    uint32_t size2;
    unsigned szx;
    bool first, have_size2, done;
    uint32_t total;
    uint16_t bopt; /* FS38_COAP_OPT_BLOCK2, or FS38_COAP_OPT_QBLOCK2 during a Q-Block2 download */
    bool hold;     /* Q-Block2 with cfg.set_buf: blocks held until their set is complete */
    uint32_t held_pos; /* byte offset of the first byte held */
    size_t held;       /* bytes held in cfg.set_buf */
} dl;

/* Hand the bytes held in cfg.set_buf to the sink. */
static FS38_NODISCARD fs38_err release(fs38_coap_client *c, dl *s)
{
    if (!s->held)
        return FS38_OK;
    size_t n = s->held;
    s->held = 0;
    fs38_err err = s->sink(s->user, s->held_pos, c->cfg.set_buf, n);
    if (err != FS38_OK)
        return c->diag.err == err ? err
                                  : fs38_diag_set(&c->diag, err, "CoAP: the receiver refused the bytes at %u..%u",
                                                  s->held_pos, s->held_pos + (uint32_t)n - 1u);
    return FS38_OK;
}

/* Deliver len checked bytes at byte offset pos: to the sink, or held behind the bytes already
 * held (s->hold), the held ones handed on first when the buffer cannot take these too. */
static FS38_NODISCARD fs38_err deliver(fs38_coap_client *c, dl *s, uint32_t pos, const uint8_t *p, size_t len)
{
    if (s->hold) {
        if (s->held && s->held + len > c->cfg.set_buf_len) {
            fs38_err err = release(c, s);
            if (err != FS38_OK)
                return err;
        }
        if (len <= c->cfg.set_buf_len) {
            if (!s->held)
                s->held_pos = pos;
            memcpy(c->cfg.set_buf + s->held, p, len);
            s->held += len;
            return FS38_OK;
        }
    }
    fs38_err err = s->sink(s->user, pos, p, len);
    if (err != FS38_OK)
        return c->diag.err == err ? err
                                  : fs38_diag_set(&c->diag, err, "CoAP: the receiver refused the block at byte %u", pos);
    return FS38_OK;
}

/* c->req = GET uri with Block2 (num, szx), Size2 = 0 on the first request. */
static FS38_NODISCARD fs38_err build_get(fs38_coap_client *c, const dl *s, uint32_t num)
{
    fs38_err err = build_request(c, s->uri, FS38_COAP_GET);
    if (err == FS38_OK)
        err = fs38_coap_opt_add_uint(&c->req, FS38_COAP_OPT_BLOCK2, fs38_coap_block_pack(num, false, s->szx));
    if (err == FS38_OK && s->first)
        err = fs38_coap_opt_add_uint(&c->req, FS38_COAP_OPT_SIZE2, 0); /* ask for the total (RFC 7959 §4) */
    if (err != FS38_OK)
        return c->diag.err == err ? err : fs38_diag_set(&c->diag, err, "CoAP: request does not fit");
    return FS38_OK;
}

/* The response m to the request for block s->num: check it continues the download, deliver
 * its bytes, advance s (s->done on the last block). */
static FS38_NODISCARD fs38_err take_block(fs38_coap_client *c, dl *s, const fs38_coap_msg *m)
{
    unsigned cls = FS38_COAP_CODE_CLASS(m->code);
    if (cls >= 4u)
        return peer_refused(c, m->code);
    if (m->code != FS38_COAP_CONTENT)
        return unexpected(c, m->code, "to GET");
    /* ETag: the same across all blocks of one download */
    const fs38_coap_option *o = fs38_coap_opt_find(m, FS38_COAP_OPT_ETAG, 0);
    if (o && (o->len < 1u || o->len > sizeof c->etag))
        return REFUSE(c, FS38_ERR_PROTOCOL, "ETag of %u bytes (1..8)", (unsigned)o->len);
    if (s->first) {
        c->etag_len = o ? (uint8_t)o->len : 0u;
        if (o)
            memcpy(c->etag, fs38_coap_opt_value(o), o->len);
    } else if ((o ? o->len : 0u) != c->etag_len || (o && memcmp(fs38_coap_opt_value(o), c->etag, o->len) != 0)) {
        return REFUSE(c, FS38_ERR_PROTOCOL, "ETag changed at byte %u: the resource changed during the download",
                      s->pos);
    }
    fs38_err err;
    o = fs38_coap_opt_find(m, FS38_COAP_OPT_SIZE2, 0);
    if (o) {
        uint32_t s2;
        err = fs38_coap_opt_uint(o, &s2, &c->diag);
        if (err != FS38_OK)
            return refused(c, err);
        if (s->have_size2 && s2 != s->size2)
            return REFUSE(c, FS38_ERR_PROTOCOL, "Size2 changed from %u to %u", s->size2, s2);
        s->size2 = s2;
        s->have_size2 = true;
    }
    o = fs38_coap_opt_find(m, s->bopt, 0);
    uint32_t rnum = 0, rpos = 0;
    bool more = false;
    unsigned rszx = s->szx;
    if (!o) {
        /* the whole representation in one response: only as the answer to the first request */
        if (!s->first)
            return REFUSE(c, FS38_ERR_PROTOCOL, "block at byte %u answered without %s", s->pos,
                          s->bopt == FS38_COAP_OPT_QBLOCK2 ? "Q-Block2" : "Block2");
    } else {
        uint32_t v;
        err = fs38_coap_opt_uint(o, &v, &c->diag);
        if (err == FS38_OK)
            err = fs38_coap_block_unpack(v, &rnum, &more, &rszx, &c->diag);
        if (err != FS38_OK)
            return refused(c, err);
        if (rszx > s->szx)
            return REFUSE(c, FS38_ERR_PROTOCOL, "server block size %u larger than the %u asked for", 16u << rszx,
                          16u << s->szx);
        rpos = rnum << (rszx + 4u);
        if (rpos != s->pos)
            return REFUSE(c, FS38_ERR_PROTOCOL, "block %u (byte %u) is not the one asked for (byte %u)", rnum, rpos,
                          s->pos);
        size_t bsize = 16u << rszx;
        if (m->payload_len > bsize || (more && m->payload_len != bsize))
            return REFUSE(c, FS38_ERR_PROTOCOL, "block %u of %zu bytes (block size %zu%s)", rnum, m->payload_len,
                          bsize, more ? ", more follow" : "");
    }
    uint64_t end = (uint64_t)rpos + m->payload_len;
    if (!more && end < s->offset)
        return REFUSE(c, FS38_ERR_PROTOCOL, "resume offset %u beyond the end of the resource", s->offset);
    if (s->have_size2 && end > s->size2)
        return REFUSE(c, FS38_ERR_PROTOCOL, "more bytes than the Size2 of %u", s->size2);
    if (!more && s->have_size2 && end != s->size2)
        return REFUSE(c, FS38_ERR_PROTOCOL, "resource of %u bytes, Size2 said %u", (unsigned)end, s->size2);
    const uint32_t skip = s->offset > rpos ? s->offset - rpos : 0u;
    if (end > s->offset && m->payload_len > skip) { /* an empty final block delivers nothing */
        err = deliver(c, s, rpos + skip, m->payload + skip, m->payload_len - skip);
        if (err != FS38_OK)
            return err;
    }
    s->first = false;
    if (!more) {
        s->done = true;
        s->total = (uint32_t)end;
        return FS38_OK;
    }
    s->szx = rszx;
    s->pos = rpos + (16u << rszx);
    s->num = s->pos >> (rszx + 4u);
    if (s->num > BLOCK_NUM_MAX)
        return REFUSE(c, FS38_ERR_PROTOCOL, "more than 2^20 blocks");
    return FS38_OK;
}

/* ---- pipelined Block2 (NSTART > 1) ---- */

/* Encode and send the request of slot k (its mid and token; the first transmission when
 * fresh, otherwise a retransmission of the same message). */
static FS38_NODISCARD fs38_err slot_tx(fs38_coap_client *c, const dl *s, const fs38_coap_slot *k)
{
    fs38_err err = build_get(c, s, k->num);
    if (err != FS38_OK)
        return err;
    c->req.type = FS38_COAP_CON;
    c->req.mid = k->mid;
    c->req.token_len = FS38_COAP_TOKEN_MAX;
    memcpy(c->req.token, k->token, FS38_COAP_TOKEN_MAX);
    err = fs38_coap_encode(&c->req, c->tx, sizeof c->tx, &c->tx_len, &c->diag);
    if (err != FS38_OK)
        return err;
    return tx(c, c->tx, c->tx_len);
}

/* Start a fresh exchange in slot k for block num: new message id, token, timer. */
static FS38_NODISCARD fs38_err slot_start(fs38_coap_client *c, const dl *s, fs38_coap_slot *k, uint32_t num,
                                          uint8_t retransmits)
{
    uint8_t r[10];
    fs38_err err = rnd(c, r, sizeof r);
    if (err != FS38_OK)
        return err;
    uint64_t span = (uint64_t)c->cfg.ack_timeout_ms * (c->cfg.ack_random_factor_pct - 100u) / 100u;
    k->num = num;
    k->mid = c->next_mid++;
    memcpy(k->token, r, FS38_COAP_TOKEN_MAX);
    k->timeout = (uint32_t)(c->cfg.ack_timeout_ms + span * (uint64_t)(r[8] << 8 | r[9]) / 65535u);
    k->deadline = now_ms(c) + k->timeout;
    k->retransmits = retransmits;
    k->state = 1u;
    return slot_tx(c, s, k);
}

/* The slot a received message answers: by message id for an ACK/RST, by token otherwise. */
static fs38_coap_slot *slot_for(fs38_coap_client *c, unsigned n, const fs38_coap_msg *m)
{
    for (unsigned i = 0; i < n; i++) {
        fs38_coap_slot *k = &c->slot[i];
        if (k->state != 1u && k->state != 2u)
            continue;
        if (m->type == FS38_COAP_ACK || m->type == FS38_COAP_RST) {
            if (k->mid == m->mid)
                return k;
        } else if (m->token_len == FS38_COAP_TOKEN_MAX && memcmp(m->token, k->token, FS38_COAP_TOKEN_MAX) == 0) {
            return k;
        }
    }
    return NULL;
}

/* Blocks s->num .. last with up to n requests in flight. Returns with s->done, or with
 * *fallback set when the server chose a smaller block size (the caller goes on lock-step). */
static FS38_NODISCARD fs38_err get_window(fs38_coap_client *c, dl *s, unsigned n, bool *fallback)
{
    const uint32_t last = (s->size2 - 1u) >> (s->szx + 4u); /* size2 > s->pos here */
    uint32_t next = s->num;                                /* next block to ask for */
    fs38_coap_msg *m = &c->resp;
    memset(c->slot, 0, sizeof c->slot);
    for (;;) {
        /* fill the window */
        for (unsigned i = 0; i < n && next <= last; i++) {
            if (c->slot[i].state)
                continue;
            fs38_err err = slot_start(c, s, &c->slot[i], next++, 0);
            if (err != FS38_OK)
                return err;
        }
        /* the earliest deadline; expired ones retransmit (or time out) */
        uint64_t t = now_ms(c), wake = UINT64_MAX;
        for (unsigned i = 0; i < n; i++) {
            fs38_coap_slot *k = &c->slot[i];
            if (k->state != 1u && k->state != 2u)
                continue;
            if (t >= k->deadline) {
                if (k->state == 2u)
                    return fs38_diag_set(&c->diag, FS38_ERR_TIMEOUT, "CoAP: no separate response within %u ms",
                                         (unsigned)c->cfg.response_timeout_ms);
                if (k->retransmits >= c->cfg.max_retransmit)
                    return fs38_diag_set(&c->diag, FS38_ERR_TIMEOUT,
                                         "CoAP: no answer after %u retransmissions (block %u)",
                                         (unsigned)k->retransmits, k->num);
                k->retransmits++;
                k->timeout *= 2u;
                k->deadline = t + k->timeout;
                fs38_err err = slot_tx(c, s, k);
                if (err != FS38_OK)
                    return err;
            }
            if (k->deadline < wake)
                wake = k->deadline;
        }
        if (wake == UINT64_MAX)
            return REFUSE(c, FS38_ERR_PROTOCOL, "download ended before byte %u of the Size2 of %u", s->pos, s->size2);
        uint64_t wait = wake > t ? wake - t : 0u;
        fs38_err err = recv_msg(c, wait, m);
        if (err == FS38_ERR_TIMEOUT)
            continue;
        if (err != FS38_OK)
            return err;
        fs38_coap_slot *k = slot_for(c, n, m);
        unsigned cls = FS38_COAP_CODE_CLASS(m->code);
        if (m->type == FS38_COAP_ACK || m->type == FS38_COAP_RST) {
            if (!k)
                continue; /* a duplicate ACK of an earlier exchange */
            if (m->type == FS38_COAP_RST)
                return REFUSE(c, FS38_ERR_PEER, "server reset (RST) the request");
            if (m->code == FS38_COAP_EMPTY) {
                if (k->state == 1u) {
                    k->state = 2u;
                    k->deadline = now_ms(c) + c->cfg.response_timeout_ms;
                }
                continue;
            }
            if (m->token_len != FS38_COAP_TOKEN_MAX || memcmp(m->token, k->token, FS38_COAP_TOKEN_MAX) != 0)
                return REFUSE(c, FS38_ERR_PROTOCOL, "piggy-backed response carries another token");
            if (cls < 2u)
                return REFUSE(c, FS38_ERR_PROTOCOL, "acknowledgement with request code %u.%u%u", cls,
                              FS38_COAP_CODE_DETAIL(m->code) / 10u, FS38_COAP_CODE_DETAIL(m->code) % 10u);
        } else if (k && cls >= 2u) { /* a separate response (CON or NON) */
            if (m->type == FS38_COAP_CON) {
                err = tx_empty(c, FS38_COAP_ACK, m->mid);
                if (err != FS38_OK)
                    return err;
                remember(c, m->mid);
            }
        } else {
            if (m->type == FS38_COAP_CON) {
                /* a retransmitted separate response we already took: ACK again; anything else: RST */
                err = tx_empty(c, seen(c, m->mid) ? FS38_COAP_ACK : FS38_COAP_RST, m->mid);
                if (err != FS38_OK)
                    return err;
            }
            continue;
        }
        err = check_response_options(c, m);
        if (err != FS38_OK)
            return err;
        if (k->num != s->num) {
            /* ahead of a block still in flight: dropped (nothing kept, nothing delivered); asked
             * for again once the blocks before it are in */
            k->state = 3u;
            continue;
        }
        k->state = 0u;
        unsigned szx = s->szx;
        err = take_block(c, s, m);
        if (err != FS38_OK || s->done)
            return err;
        if (s->szx != szx) {
            *fallback = true; /* smaller blocks: the requests in flight name the old size */
            memset(c->slot, 0, sizeof c->slot);
            return FS38_OK;
        }
        /* the blocks dropped for arriving early: asked for again, in block order (an in-order
         * server then answers them in order) */
        for (;;) {
            fs38_coap_slot *lo = NULL;
            for (unsigned i = 0; i < n; i++)
                if (c->slot[i].state == 3u && (!lo || c->slot[i].num < lo->num))
                    lo = &c->slot[i];
            if (!lo)
                break;
            c->rerequests++;
            err = slot_start(c, s, lo, lo->num, 0);
            if (err != FS38_OK)
                return err;
        }
    }
}

/* ---- Q-Block2 (RFC 9177; cfg.qblock2) ---- */

/* Send the NON GET for block num with Q-Block2 NUM/M=1 (num 0: the whole body; a multiple of
 * MAX_PAYLOADS: 'Continue'; otherwise: that block and the rest of its set), Size2 = 0 on the
 * first. Token: the download's 4 random bytes + the request counter. */
static FS38_NODISCARD fs38_err qb_request(fs38_coap_client *c, const dl *s, uint32_t num)
{
    fs38_err err = build_request(c, s->uri, FS38_COAP_GET);
    if (err == FS38_OK)
        err = fs38_coap_opt_add_uint(&c->req, FS38_COAP_OPT_QBLOCK2, fs38_coap_block_pack(num, true, s->szx));
    if (err == FS38_OK && s->first)
        err = fs38_coap_opt_add_uint(&c->req, FS38_COAP_OPT_SIZE2, 0);
    if (err != FS38_OK)
        return c->diag.err == err ? err : fs38_diag_set(&c->diag, err, "CoAP: request does not fit");
    if (c->qb_n == UINT32_MAX)
        return REFUSE(c, FS38_ERR_PROTOCOL, "Q-Block2: too many requests in one download");
    c->qb_n++;
    c->req.type = FS38_COAP_NON;
    c->req.mid = c->next_mid++;
    c->req.token_len = FS38_COAP_TOKEN_MAX;
    memcpy(c->req.token, c->qb_token, sizeof c->qb_token);
    for (unsigned i = 0; i < 4u; i++)
        c->req.token[4u + i] = (uint8_t)(c->qb_n >> (24u - 8u * i));
    c->qb_mid = c->req.mid;
    err = fs38_coap_encode(&c->req, c->tx, sizeof c->tx, &c->tx_len, &c->diag);
    if (err != FS38_OK)
        return err;
    return tx(c, c->tx, c->tx_len);
}

bool fs38_coap_qblock2_used(const fs38_coap_client *c)
{
    return c && c->qb_used;
}

/* Does m carry a token this download sent? */
static bool qb_ours(const fs38_coap_client *c, const fs38_coap_msg *m)
{
    if (m->token_len != FS38_COAP_TOKEN_MAX || memcmp(m->token, c->qb_token, sizeof c->qb_token) != 0)
        return false;
    uint32_t n = (uint32_t)m->token[4] << 24 | (uint32_t)m->token[5] << 16 | (uint32_t)m->token[6] << 8 | m->token[7];
    return n >= 1u && n <= c->qb_n;
}

/* Blocks s->num .. last as Q-Block2 sets. Returns with s->done, or with *fallback set (nothing
 * delivered) when the server rejected the first request with RST (libcoap 4.3.1) or answered
 * it 4.02 Bad Option, with Block2, or with a smaller block size: the caller goes on with
 * Block2. */
static FS38_NODISCARD fs38_err get_qblock2(fs38_coap_client *c, dl *s, bool *fallback)
{
    fs38_coap_msg *m = &c->resp;
    fs38_err err = rnd(c, c->qb_token, sizeof c->qb_token);
    if (err != FS38_OK)
        return err;
    c->qb_n = 0;
    uint64_t timeout = c->cfg.ack_timeout_ms;
    unsigned tries = 0;
    bool reasked = false; /* asked again for s->num since the last block delivered */
    err = qb_request(c, s, s->num);
    if (err != FS38_OK)
        return err;
    uint64_t deadline = now_ms(c) + timeout;
    for (;;) {
        uint64_t t = now_ms(c);
        if (t >= deadline) {
            if (tries >= c->cfg.max_retransmit)
                return fs38_diag_set(&c->diag, FS38_ERR_TIMEOUT, "CoAP: no Q-Block2 answer after %u requests (block %u)",
                                     tries + 1u, s->num);
            tries++;
            timeout *= 2u;
            deadline = t + timeout;
            reasked = true;
            err = qb_request(c, s, s->num);
            if (err != FS38_OK)
                return err;
            continue;
        }
        uint64_t wait = deadline - t;
        err = recv_msg(c, wait, m);
        if (err == FS38_ERR_TIMEOUT)
            continue;
        if (err != FS38_OK)
            return err;
        if (m->type == FS38_COAP_ACK || m->type == FS38_COAP_RST) {
            if (m->type == FS38_COAP_RST && m->mid == c->qb_mid) {
                if (s->first) {
                    /* RFC 7252 §5.4.1: a NON request with an unrecognised critical option
                     * (Q-Block2 to a server without RFC 9177) is rejected with RST */
                    *fallback = true;
                    return FS38_OK;
                }
                return REFUSE(c, FS38_ERR_PEER, "server reset (RST) the request");
            }
            continue; /* an ACK (or RST) of something else: nothing of this download */
        }
        if (!qb_ours(c, m)) {
            if (m->type == FS38_COAP_CON) {
                err = tx_empty(c, seen(c, m->mid) ? FS38_COAP_ACK : FS38_COAP_RST, m->mid);
                if (err != FS38_OK)
                    return err;
            }
            continue;
        }
        unsigned cls = FS38_COAP_CODE_CLASS(m->code);
        if (cls < 2u)
            return REFUSE(c, FS38_ERR_PROTOCOL, "response with request code %u.%u%u", cls,
                          FS38_COAP_CODE_DETAIL(m->code) / 10u, FS38_COAP_CODE_DETAIL(m->code) % 10u);
        if (m->type == FS38_COAP_CON) {
            err = tx_empty(c, FS38_COAP_ACK, m->mid);
            if (err != FS38_OK)
                return err;
            remember(c, m->mid);
        }
        const fs38_coap_option *o = fs38_coap_opt_find(m, FS38_COAP_OPT_QBLOCK2, 0);
        if (s->first && !o &&
            (m->code == FS38_COAP_BAD_OPTION || (cls == 2u && fs38_coap_opt_find(m, FS38_COAP_OPT_BLOCK2, 0)))) {
            *fallback = true; /* no Q-Block2 here: Block2 from the same block */
            return FS38_OK;
        }
        if (cls >= 4u)
            return peer_refused(c, m->code);
        err = check_response_options(c, m);
        if (err != FS38_OK)
            return err;
        if (o) {
            uint32_t v, rnum;
            bool more;
            unsigned rszx;
            err = fs38_coap_opt_uint(o, &v, &c->diag);
            if (err == FS38_OK)
                err = fs38_coap_block_unpack(v, &rnum, &more, &rszx, &c->diag);
            if (err != FS38_OK)
                return refused(c, err);
            if (rszx != s->szx) {
                if (s->first && rszx < s->szx) {
                    *fallback = true; /* smaller blocks: Block2 follows the server's size */
                    return FS38_OK;
                }
                return REFUSE(c, FS38_ERR_PROTOCOL, "Q-Block2 block %u of size %u, not %u", rnum, 16u << rszx,
                              16u << s->szx);
            }
            if (rnum < s->num)
                continue; /* a duplicate of a block already delivered */
            if (rnum > s->num) {
                /* it overtook the block needed (lost or late): dropped; that block and the
                 * rest of its set asked for once */
                if (!reasked) {
                    reasked = true;
                    c->rerequests++;
                    err = qb_request(c, s, s->num);
                    if (err != FS38_OK)
                        return err;
                    deadline = now_ms(c) + timeout;
                }
                continue;
            }
            /* the last block of a set has arrived: the set is complete, so the 'Continue' for
             * the next one goes out before this block is delivered (RFC 9177 §4.4); the server
             * makes the next set while the sink stores this block */
            if (more && (rnum + 1u) % c->cfg.max_payloads == 0u) {
                err = qb_request(c, s, rnum + 1u);
                if (err != FS38_OK)
                    return err;
            }
        }
        err = take_block(c, s, m);
        if (err != FS38_OK || s->done)
            return err;
        if (s->num % c->cfg.max_payloads == 0u) { /* a set complete, its Continue sent: hand it on */
            err = release(c, s);
            if (err != FS38_OK)
                return err;
        }
        tries = 0;
        timeout = c->cfg.ack_timeout_ms;
        deadline = now_ms(c) + timeout;
        reasked = false;
    }
}

fs38_err fs38_coap_get(fs38_coap_client *c, const fs38_coap_uri *uri, uint32_t offset, fs38_coap_sink sink, void *user,
                       uint32_t *total)
{
    if (!c || !uri || !sink || !c->cfg.transport || !uri_ok(uri))
        return FS38_ERR_ARG;
    fs38_diag_clear(&c->diag);
    dl s = { .uri = uri, .sink = sink, .user = user, .offset = offset, .szx = c->szx, .first = true,
             .bopt = FS38_COAP_OPT_BLOCK2 };
    s.num = offset >> (s.szx + 4u);
    s.pos = s.num << (s.szx + 4u); /* byte offset of the block asked for */
    c->etag_len = 0;
    c->rerequests = 0;
    c->qb_used = false;
    if (c->cfg.qblock2 && s.num == 0u) { /* a resume from a later block: Block2 (fs38/coap.h) */
        bool fallback = false;
        s.bopt = FS38_COAP_OPT_QBLOCK2;
        s.hold = c->cfg.set_buf && c->cfg.set_buf_len;
        c->qb = true;
        fs38_err err = get_qblock2(c, &s, &fallback);
        c->qb = false;
        /* what is held was checked: delivered whatever ended the download (an error of the
         * download comes first; the receiver's own refusal otherwise) */
        c->qb_used = !fallback && !s.first; /* a block came as Q-Block2 */
        fs38_diag why = c->diag;
        fs38_err rel = release(c, &s);
        s.hold = false;
        if (err != FS38_OK) {
            c->diag = why;
            return err;
        }
        if (rel != FS38_OK)
            return rel;
        if (!fallback) {
            if (total)
                *total = s.total;
            return FS38_OK;
        }
        s.bopt = FS38_COAP_OPT_BLOCK2; /* nothing delivered: s is as it was */
    }
    bool window = c->cfg.nstart > 1u;
    for (;;) {
        if (window && !s.first && s.have_size2 && s.size2 > s.pos) {
            bool fallback = false;
            fs38_err err = get_window(c, &s, c->cfg.nstart, &fallback);
            if (err != FS38_OK)
                return err;
            if (!fallback)
                break;
            window = false;
            continue;
        }
        fs38_err err = build_get(c, &s, s.num);
        if (err != FS38_OK)
            return err;
        err = fs38_coap_exchange(c, &c->req, &c->resp);
        if (err != FS38_OK)
            return err;
        err = take_block(c, &s, &c->resp);
        if (err != FS38_OK)
            return err;
        if (s.done)
            break;
    }
    if (total)
        *total = s.total;
    return FS38_OK;
}

fs38_err fs38_coap_upload(fs38_coap_client *c, const fs38_coap_uri *uri, uint8_t method, int32_t content_format,
                          const uint8_t *data, size_t len, uint8_t *code)
{
    if (!c || !uri || !c->cfg.transport || !uri_ok(uri) || (len > 0 && !data))
        return FS38_ERR_ARG;
    fs38_diag_clear(&c->diag);
    if (method != FS38_COAP_POST && method != FS38_COAP_PUT)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "CoAP upload: method must be POST or PUT");
    if (content_format < FS38_COAP_FORMAT_NONE || content_format > 0xFFFF)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "CoAP upload: bad content format %d", (int)content_format);
    unsigned szx = c->szx;
    if (len > ((size_t)BLOCK_NUM_MAX + 1u) << (szx + 4u) || len > 0xFFFFFFFFu)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "CoAP upload: body of %zu bytes too large", len);
    size_t off = 0;
    unsigned restarts = 0;
    fs38_coap_msg *m = &c->resp;
    for (;;) {
        size_t bsize = 16u << szx;
        uint32_t num = (uint32_t)(off >> (szx + 4u));
        size_t chunk = len - off < bsize ? len - off : bsize;
        bool more = off + chunk < len;
        bool block = off > 0 || more;
        fs38_err err = build_request(c, uri, method);
        if (err == FS38_OK && content_format >= 0)
            err = fs38_coap_opt_add_uint(&c->req, FS38_COAP_OPT_CONTENT_FORMAT, (uint32_t)content_format);
        if (err == FS38_OK && block)
            err = fs38_coap_opt_add_uint(&c->req, FS38_COAP_OPT_BLOCK1, fs38_coap_block_pack(num, more, szx));
        if (err == FS38_OK && block && off == 0)
            err = fs38_coap_opt_add_uint(&c->req, FS38_COAP_OPT_SIZE1, (uint32_t)len);
        if (err != FS38_OK)
            return c->diag.err == err ? err : fs38_diag_set(&c->diag, err, "CoAP: request does not fit");
        c->req.payload = chunk ? data + off : NULL;
        c->req.payload_len = chunk;
        err = fs38_coap_exchange(c, &c->req, m);
        if (err != FS38_OK)
            return err;
        const fs38_coap_option *o = fs38_coap_opt_find(m, FS38_COAP_OPT_BLOCK1, 0);
        uint32_t rnum = 0;
        bool rmore = false;
        unsigned rszx = szx;
        if (o) {
            uint32_t v;
            err = fs38_coap_opt_uint(o, &v, &c->diag);
            if (err == FS38_OK)
                err = fs38_coap_block_unpack(v, &rnum, &rmore, &rszx, &c->diag);
            if (err != FS38_OK)
                return refused(c, err);
        }
        if (m->code == FS38_COAP_TOO_LARGE) {
            /* RFC 7959 §2.9.3: the Block1 option of a 4.13 names the size the server wants */
            if (o && rszx < szx && restarts < 6u) {
                szx = rszx;
                restarts++;
                off = 0;
                continue;
            }
            return peer_refused(c, m->code);
        }
        if (FS38_COAP_CODE_CLASS(m->code) >= 4u)
            return peer_refused(c, m->code);
        if (block) {
            if (!o && (more || m->code == FS38_COAP_CONTINUE))
                return REFUSE(c, FS38_ERR_PROTOCOL, "answer to block %u without Block1", num);
            if (o && rnum != num)
                return REFUSE(c, FS38_ERR_PROTOCOL, "Block1 echo names block %u, block %u was sent", rnum, num);
            if (o && rszx > szx)
                return REFUSE(c, FS38_ERR_PROTOCOL, "server block size %u larger than the %u sent", 16u << rszx,
                              16u << szx);
        }
        if (more) {
            /* 2.31 Continue (atomic) or 2.04 (non-atomic, RFC 7959 §2.3) for a block before the last */
            if (m->code != FS38_COAP_CONTINUE && m->code != FS38_COAP_CHANGED)
                return unexpected(c, m->code, "before the last block");
            off += chunk;
            szx = rszx; /* off is a multiple of the smaller size too */
            continue;
        }
        if (m->code != FS38_COAP_CREATED && m->code != FS38_COAP_CHANGED)
            return unexpected(c, m->code, "to the last block");
        if (code)
            *code = m->code;
        return FS38_OK;
    }
}
