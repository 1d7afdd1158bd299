/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mqtt.c — MQTT 3.1.1 codec and client over a stream fs38_transport (fs38/mqtt.h).
 *
 * Client states:
 *   ST_NONE        zeroed / never initialised
 *   ST_IDLE        initialised, or disconnected by fs38_mqtt_disconnect: may connect
 *   ST_CONNECTING  CONNECT sent, only CONNACK is acceptable
 *   ST_UP          connected
 *   ST_DOWN        a refusal or transport failure: nothing is delivered any more; may connect
 *                  again once the caller has reconnected the transport
 *
 * Receive path: bytes are appended to rx_buf; every whole packet at its start is decoded,
 * handled and removed (memmove). A packet longer than rx_cap is refused as soon as its fixed
 * header is known, so there is always room for at least one more byte in rx_buf.
 */
#include <string.h>
#include "fs38/event.h"
#include "fs38/mqtt.h"
#include "inner.h"

enum { ST_NONE = 0, ST_IDLE = 0x5a, ST_CONNECTING, ST_UP, ST_DOWN };

#define DEFAULT_TIMEOUT_MS 10000u

static const char *const k_type_names[16] = { "reserved type 0", "CONNECT",  "CONNACK",     "PUBLISH",
                                              "PUBACK",          "PUBREC",   "PUBREL",      "PUBCOMP",
                                              "SUBSCRIBE",       "SUBACK",   "UNSUBSCRIBE", "UNSUBACK",
                                              "PINGREQ",         "PINGRESP", "DISCONNECT",  "reserved type 15" };

const char *fs38_mqtt_connack_name(uint8_t rc)
{
    switch (rc) {
    case 0: return "connection accepted";
    case 1: return "unacceptable protocol version";
    case 2: return "identifier rejected";
    case 3: return "server unavailable";
    case 4: return "bad user name or password";
    case 5: return "not authorized";
    default: return "unknown return code";
    }
}

/* ---- UTF-8 and topics (MQTT 3.1.1 §1.5.3, §4.7) ------------------------------------------- */

/* Length of the well-formed, allowed UTF-8 sequence at s[i..len), or 0 (with *why set). */
static size_t utf8_char(const uint8_t *s, size_t i, size_t len, const char **why)
{
    uint8_t b = s[i];
    if (b < 0x80u) {
        if (b == 0u) {
            *why = "U+0000";
            return 0;
        }
        if (b < 0x20u || b == 0x7fu) {
            *why = "a control character";
            return 0;
        }
        return 1;
    }
    size_t n;
    uint8_t lo = 0x80u, hi = 0xbfu;
    if (b >= 0xc2u && b <= 0xdfu)
        n = 2;
    else if (b >= 0xe0u && b <= 0xefu) {
        n = 3;
        if (b == 0xe0u)
            lo = 0xa0u; /* overlong */
        else if (b == 0xedu)
            hi = 0x9fu; /* surrogates U+D800..U+DFFF */
    } else if (b >= 0xf0u && b <= 0xf4u) {
        n = 4;
        if (b == 0xf0u)
            lo = 0x90u; /* overlong */
        else if (b == 0xf4u)
            hi = 0x8fu; /* above U+10FFFF */
    } else {
        *why = "ill-formed UTF-8 (bad lead byte)";
        return 0;
    }
    if (len - i < n) {
        *why = "ill-formed UTF-8 (truncated sequence)";
        return 0;
    }
    if (s[i + 1] < lo || s[i + 1] > hi) {
        *why = "ill-formed UTF-8 (overlong, surrogate or out of range)";
        return 0;
    }
    for (size_t k = 2; k < n; k++)
        if ((s[i + k] & 0xc0u) != 0x80u) {
            *why = "ill-formed UTF-8 (bad continuation byte)";
            return 0;
        }
    if (n == 2 && b == 0xc2u && s[i + 1] <= 0x9fu) {
        *why = "a control character";
        return 0;
    }
    return n;
}

/* A UTF-8 string of 1..65535 bytes with no disallowed code point (client id, user name). */
static bool utf8_ok(const uint8_t *s, size_t len, const char **why, size_t *at)
{
    for (size_t i = 0; i < len;) {
        size_t n = utf8_char(s, i, len, why);
        if (n == 0) {
            *at = i;
            return false;
        }
        i += n;
    }
    return true;
}

fs38_err fs38_mqtt_topic_check(const char *topic, size_t len, bool is_filter, fs38_diag *diag)
{
    const char *kind = is_filter ? "topic filter" : "topic name";
    if (len == 0 || !topic)
        return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "%s is empty", kind);
    if (len > 65535u)
        return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "%s is %zu bytes (max 65535)", kind, len);
    const uint8_t *s = (const uint8_t *)topic;
    const char *why = "";
    size_t at = 0;
    if (!utf8_ok(s, len, &why, &at))
        return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "%s holds %s at byte %zu", kind, why, at);
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '+' && s[i] != '#')
            continue;
        if (!is_filter)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "topic name holds wildcard '%s' at byte %zu",
                                 s[i] == '+' ? "+" : "#", i);
        bool alone = (i == 0 || s[i - 1] == '/') && (i + 1 == len || s[i + 1] == '/');
        if (!alone)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "topic filter: wildcard at byte %zu is not a whole level", i);
        if (s[i] == '#' && i + 1 != len)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "topic filter: '#' at byte %zu is not the last level", i);
    }
    return FS38_OK;
}

/* ---- framing and decoding ------------------------------------------------------------------ */

/* Parse the fixed header: *hdr = its length (0: incomplete), *rl = Remaining Length. */
static fs38_err fixed_header(const uint8_t *buf, size_t len, size_t *hdr, uint32_t *rl, fs38_diag *diag)
{
    *hdr = 0;
    *rl = 0;
    uint32_t value = 0;
    for (unsigned i = 0; i < 4u; i++) {
        if (1u + i >= len)
            return FS38_OK; /* need more bytes */
        uint8_t b = buf[1u + i];
        value |= (uint32_t)(b & 0x7fu) << (7u * i);
        if (!(b & 0x80u)) {
            if (i > 0 && b == 0u)
                return fs38_diag_set(diag, FS38_ERR_PROTOCOL,
                                     "%s: Remaining Length not in its shortest form (%u bytes for %u)",
                                     k_type_names[buf[0] >> 4], i + 1u, (unsigned)value);
            *hdr = 2u + i;
            *rl = value;
            return FS38_OK;
        }
    }
    return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "%s: Remaining Length longer than 4 bytes",
                         k_type_names[buf[0] >> 4]);
}

fs38_err fs38_mqtt_frame(const uint8_t *buf, size_t len, size_t max_packet, size_t *packet_len, fs38_diag *diag)
{
    if (!packet_len || (!buf && len))
        return fs38_diag_set(diag, FS38_ERR_ARG, "mqtt frame: NULL argument");
    *packet_len = 0;
    size_t hdr;
    uint32_t rl;
    fs38_err e = fixed_header(buf, len, &hdr, &rl, diag);
    if (e || hdr == 0)
        return e;
    size_t total = hdr + (size_t)rl;
    if (total > max_packet)
        return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "%s of %zu bytes exceeds the maximum of %zu",
                             k_type_names[buf[0] >> 4], total, max_packet);
    *packet_len = total;
    return FS38_OK;
}

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

fs38_err fs38_mqtt_decode(const uint8_t *buf, size_t len, fs38_mqtt_packet *pkt, fs38_diag *diag)
{
    if (!buf || !pkt)
        return fs38_diag_set(diag, FS38_ERR_ARG, "mqtt decode: NULL argument");
    memset(pkt, 0, sizeof *pkt);
    if (len < 2)
        return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "packet of %zu bytes is shorter than a fixed header", len);
    unsigned type = buf[0] >> 4, flags = buf[0] & 0x0fu;
    const char *name = k_type_names[type];
    size_t hdr;
    uint32_t rl;
    fs38_err e = fixed_header(buf, len, &hdr, &rl, diag);
    if (e)
        return e;
    if (hdr == 0)
        return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "%s: fixed header truncated", name);
    if ((size_t)rl != len - hdr)
        return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "%s: Remaining Length %u but %zu bytes follow the header",
                             name, (unsigned)rl, len - hdr);
    const uint8_t *p = buf + hdr;
    pkt->type = (fs38_mqtt_type)type;
    pkt->flags = (uint8_t)flags;
    switch (type) {
    case FS38_MQTT_CONNACK:
        if (flags)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "CONNACK: reserved flags 0x%x set", flags);
        if (rl != 2)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "CONNACK: Remaining Length %u (must be 2)", (unsigned)rl);
        if (p[0] & 0xfeu)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "CONNACK: reserved acknowledge flags 0x%x set",
                                 (unsigned)(p[0] & 0xfeu));
        if (p[1] > 5u)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "CONNACK: return code %u is not defined", (unsigned)p[1]);
        if (p[1] != 0u && (p[0] & 1u))
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "CONNACK: session present with refusal code %u",
                                 (unsigned)p[1]);
        pkt->session_present = (p[0] & 1u) != 0;
        pkt->return_code = p[1];
        return FS38_OK;
    case FS38_MQTT_PUBLISH: {
        pkt->dup = (flags & 8u) != 0;
        pkt->qos = (uint8_t)((flags >> 1) & 3u);
        pkt->retain = (flags & 1u) != 0;
        if (pkt->qos == 3u)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "PUBLISH: QoS 3 (reserved)");
        if (pkt->qos == 2u)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "PUBLISH: QoS 2 not supported (subscribed with QoS <= 1)");
        if (pkt->qos == 0u && pkt->dup)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "PUBLISH: DUP set on a QoS 0 message");
        if (rl < 2)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "PUBLISH: topic length truncated");
        size_t tl = get_be16(p);
        size_t need = 2u + tl + (pkt->qos ? 2u : 0u);
        if (need > rl)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "PUBLISH: topic of %zu bytes%s runs past the packet end (%u)",
                                 tl, pkt->qos ? " and packet id" : "", (unsigned)rl);
        e = fs38_mqtt_topic_check((const char *)p + 2, tl, false, diag);
        if (e) {
            char inner[FS38_DIAG_MAX];
            memcpy(inner, diag ? diag->msg : "", diag ? sizeof inner : 1u);
            return fs38_diag_set(diag, e, "PUBLISH: %s", inner);
        }
        pkt->topic = (const char *)p + 2;
        pkt->topic_len = tl;
        if (pkt->qos) {
            pkt->packet_id = get_be16(p + 2 + tl);
            if (pkt->packet_id == 0)
                return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "PUBLISH: packet identifier 0");
        }
        pkt->payload = p + need;
        pkt->payload_len = rl - need;
        return FS38_OK;
    }
    case FS38_MQTT_PUBACK:
    case FS38_MQTT_UNSUBACK:
        if (flags)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "%s: reserved flags 0x%x set", name, flags);
        if (rl != 2)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "%s: Remaining Length %u (must be 2)", name, (unsigned)rl);
        pkt->packet_id = get_be16(p);
        if (pkt->packet_id == 0)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "%s: packet identifier 0", name);
        return FS38_OK;
    case FS38_MQTT_SUBACK:
        if (flags)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "SUBACK: reserved flags 0x%x set", flags);
        if (rl < 3)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "SUBACK: Remaining Length %u (needs >= 3)", (unsigned)rl);
        pkt->packet_id = get_be16(p);
        if (pkt->packet_id == 0)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "SUBACK: packet identifier 0");
        for (size_t i = 2; i < rl; i++)
            if (p[i] > 2u && p[i] != FS38_MQTT_SUBACK_FAILURE)
                return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "SUBACK: return code 0x%x (byte %zu) is not allowed",
                                     (unsigned)p[i], i - 2u);
        pkt->payload = p + 2;
        pkt->payload_len = rl - 2u;
        return FS38_OK;
    case FS38_MQTT_PINGRESP:
        if (flags)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "PINGRESP: reserved flags 0x%x set", flags);
        if (rl != 0)
            return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "PINGRESP: Remaining Length %u (must be 0)", (unsigned)rl);
        return FS38_OK;
    case FS38_MQTT_PUBREC:
    case FS38_MQTT_PUBREL:
    case FS38_MQTT_PUBCOMP:
        return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "%s: QoS 2 flows are not supported", name);
    case FS38_MQTT_CONNECT:
    case FS38_MQTT_SUBSCRIBE:
    case FS38_MQTT_UNSUBSCRIBE:
    case FS38_MQTT_PINGREQ:
    case FS38_MQTT_DISCONNECT:
        return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "%s is sent by clients, not by a server", name);
    default:
        return fs38_diag_set(diag, FS38_ERR_PROTOCOL, "packet of %s", name);
    }
}

/* ---- encoding ------------------------------------------------------------------------------ */

/* Bytes of the Remaining Length field for rl (rl <= FS38_MQTT_REMAINING_MAX). */
static size_t rl_size(size_t rl)
{
    return rl < 128u ? 1u : rl < 16384u ? 2u : rl < 2097152u ? 3u : 4u;
}

static size_t put_header(uint8_t *b, uint8_t first, size_t rl)
{
    size_t n = 0;
    b[n++] = first;
    do {
        uint8_t d = (uint8_t)(rl & 0x7fu);
        rl >>= 7;
        b[n++] = (uint8_t)(d | (rl ? 0x80u : 0u));
    } while (rl);
    return n;
}

static size_t put_str(uint8_t *b, const void *s, size_t len)
{
    put_be16(b, len);
    if (len)
        memcpy(b + 2, s, len);
    return 2u + len;
}

fs38_err fs38_mqtt_encode_connect(const fs38_mqtt_connect_opts *o, uint8_t *buf, size_t cap, size_t *len)
{
    if (!o || !buf || !len || !o->client_id)
        return FS38_ERR_ARG;
    *len = 0;
    const char *why = "";
    size_t at = 0;
    size_t idl = strlen(o->client_id);
    if (idl == 0 || idl > 65535u || !utf8_ok((const uint8_t *)o->client_id, idl, &why, &at))
        return FS38_ERR_ARG;
    size_t ul = 0;
    if (o->username) {
        ul = strlen(o->username);
        if (ul > 65535u || !utf8_ok((const uint8_t *)o->username, ul, &why, &at))
            return FS38_ERR_ARG;
    }
    if (o->password && (!o->username || o->password_len > 65535u))
        return FS38_ERR_ARG;
    size_t rl = 10u + 2u + idl + (o->username ? 2u + ul : 0u) + (o->password ? 2u + o->password_len : 0u);
    size_t total = 1u + rl_size(rl) + rl;
    *len = total;
    if (cap < total)
        return FS38_ERR_BUFFER;
    size_t n = put_header(buf, 0x10u, rl);
    n += put_str(buf + n, "MQTT", 4);
    buf[n++] = 4; /* protocol level 3.1.1 */
    buf[n++] = (uint8_t)((o->username ? 0x80u : 0u) | (o->password ? 0x40u : 0u) | (o->clean_session ? 0x02u : 0u));
    put_be16(buf + n, o->keep_alive_s);
    n += 2;
    n += put_str(buf + n, o->client_id, idl);
    if (o->username)
        n += put_str(buf + n, o->username, ul);
    if (o->password)
        n += put_str(buf + n, o->password, o->password_len);
    return FS38_OK;
}

fs38_err fs38_mqtt_encode_publish_head(const fs38_mqtt_packet *pub, uint8_t *buf, size_t cap, size_t *len)
{
    if (!pub || !buf || !len)
        return FS38_ERR_ARG;
    *len = 0;
    if (pub->qos > 1u || (pub->qos == 0u && pub->dup) || (pub->qos && pub->packet_id == 0))
        return FS38_ERR_ARG;
    if (fs38_mqtt_topic_check(pub->topic, pub->topic_len, false, NULL) != FS38_OK)
        return FS38_ERR_ARG;
    size_t vh = 2u + pub->topic_len + (pub->qos ? 2u : 0u);
    if (pub->payload_len > FS38_MQTT_REMAINING_MAX - vh)
        return FS38_ERR_ARG;
    size_t rl = vh + pub->payload_len;
    size_t head = 1u + rl_size(rl) + vh;
    *len = head;
    if (cap < head)
        return FS38_ERR_BUFFER;
    uint8_t first = (uint8_t)(0x30u | (pub->dup ? 8u : 0u) | (unsigned)(pub->qos << 1) | (pub->retain ? 1u : 0u));
    size_t n = put_header(buf, first, rl);
    n += put_str(buf + n, pub->topic, pub->topic_len);
    if (pub->qos)
        put_be16(buf + n, pub->packet_id);
    return FS38_OK;
}

fs38_err fs38_mqtt_encode_publish(const fs38_mqtt_packet *pub, uint8_t *buf, size_t cap, size_t *len)
{
    if (!pub || !buf || !len || (!pub->payload && pub->payload_len))
        return FS38_ERR_ARG;
    size_t head = 0;
    fs38_err e = fs38_mqtt_encode_publish_head(pub, buf, cap, &head);
    *len = head + pub->payload_len;
    if (e == FS38_ERR_BUFFER || (e == FS38_OK && cap - head < pub->payload_len))
        return FS38_ERR_BUFFER;
    if (e) {
        *len = 0;
        return e;
    }
    if (pub->payload_len)
        memcpy(buf + head, pub->payload, pub->payload_len);
    return FS38_OK;
}

fs38_err fs38_mqtt_encode_puback(uint16_t packet_id, uint8_t *buf, size_t cap, size_t *len)
{
    if (!buf || !len || packet_id == 0)
        return FS38_ERR_ARG;
    *len = 4;
    if (cap < 4)
        return FS38_ERR_BUFFER;
    buf[0] = 0x40;
    buf[1] = 2;
    put_be16(buf + 2, packet_id);
    return FS38_OK;
}

static fs38_err encode_sub(uint8_t first, uint16_t id, const char *filter, size_t flen, int qos, uint8_t *buf,
                           size_t cap, size_t *len)
{
    if (!buf || !len || !filter || id == 0 || qos > 1)
        return FS38_ERR_ARG;
    *len = 0;
    if (fs38_mqtt_topic_check(filter, flen, true, NULL) != FS38_OK)
        return FS38_ERR_ARG;
    size_t rl = 2u + 2u + flen + (qos >= 0 ? 1u : 0u);
    size_t total = 1u + rl_size(rl) + rl;
    *len = total;
    if (cap < total)
        return FS38_ERR_BUFFER;
    size_t n = put_header(buf, first, rl);
    put_be16(buf + n, id);
    n += 2;
    n += put_str(buf + n, filter, flen);
    if (qos >= 0)
        buf[n] = (uint8_t)qos;
    return FS38_OK;
}

fs38_err fs38_mqtt_encode_subscribe(uint16_t packet_id, const char *filter, size_t filter_len, uint8_t qos,
                                    uint8_t *buf, size_t cap, size_t *len)
{
    return encode_sub(0x82u, packet_id, filter, filter_len, qos, buf, cap, len);
}

fs38_err fs38_mqtt_encode_unsubscribe(uint16_t packet_id, const char *filter, size_t filter_len, uint8_t *buf,
                                      size_t cap, size_t *len)
{
    return encode_sub(0xa2u, packet_id, filter, filter_len, -1, buf, cap, len);
}

fs38_err fs38_mqtt_encode_empty(fs38_mqtt_type type, uint8_t *buf, size_t cap, size_t *len)
{
    if (!buf || !len || (type != FS38_MQTT_PINGREQ && type != FS38_MQTT_DISCONNECT))
        return FS38_ERR_ARG;
    *len = 2;
    if (cap < 2)
        return FS38_ERR_BUFFER;
    buf[0] = (uint8_t)((unsigned)type << 4);
    buf[1] = 0;
    return FS38_OK;
}

/* ---- topics and client id ------------------------------------------------------------------ */

static const char k_hex[] = "0123456789abcdef";

static size_t put_hex(char *out, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = k_hex[b[i] >> 4];
        out[2 * i + 1] = k_hex[b[i] & 15u];
    }
    return 2 * n;
}

fs38_err fs38_mqtt_client_id(const uint8_t *ueid, size_t ueid_len, char *buf, size_t cap, size_t *len)
{
    if (!ueid || !buf || !len || ueid_len == 0 || ueid_len > FS38_MQTT_UEID_MAX)
        return FS38_ERR_ARG;
    *len = 2 * ueid_len;
    if (cap < *len + 1u)
        return FS38_ERR_BUFFER;
    buf[put_hex(buf, ueid, ueid_len)] = '\0';
    return FS38_OK;
}

fs38_err fs38_mqtt_topic_log(const uint8_t *ueid, size_t ueid_len, char *buf, size_t cap, size_t *len)
{
    if (!ueid || !buf || !len || ueid_len == 0 || ueid_len > FS38_MQTT_UEID_MAX)
        return FS38_ERR_ARG;
    *len = 5u + 2u * ueid_len + 4u;
    if (cap < *len + 1u)
        return FS38_ERR_BUFFER;
    memcpy(buf, "fs38/", 5);
    size_t n = 5u + put_hex(buf + 5, ueid, ueid_len);
    memcpy(buf + n, "/log", 5); /* with the NUL */
    return FS38_OK;
}

fs38_err fs38_mqtt_topic_update(const uint8_t class_id[16], char *buf, size_t cap, size_t *len)
{
    if (!class_id || !buf || !len)
        return FS38_ERR_ARG;
    *len = 5u + 32u + 7u;
    if (cap < *len + 1u)
        return FS38_ERR_BUFFER;
    memcpy(buf, "fs38/", 5);
    size_t n = 5u + put_hex(buf + 5, class_id, 16);
    memcpy(buf + n, "/update", 8); /* with the NUL */
    return FS38_OK;
}

/* ---- client -------------------------------------------------------------------------------- */

static uint64_t now_ms(const fs38_mqtt *c)
{
    return c->cfg.port->monotonic_ms(c->cfg.port->ctx);
}

/* A refusal: record it as a security event and take the client down (c->diag is set). */
static fs38_err refuse(fs38_mqtt *c, fs38_err e)
{
    c->state = ST_DOWN;
    c->wait_type = 0;
    c->rx_len = 0;
    fs38_event(FS38_EV_MQTT_REFUSED, FS38_SEV_WARNING, (int64_t)e, c->diag.msg);
    return e;
}

/* A transport failure or lost connection: down, no MQTT event. */
static fs38_err go_down(fs38_mqtt *c, fs38_err e, const char *what)
{
    c->state = ST_DOWN;
    c->wait_type = 0;
    c->rx_len = 0;
    return fs38_diag_set(&c->diag, e, "mqtt: %s: %s", what, fs38_strerror(e));
}

static FS38_NODISCARD fs38_err send_bytes(fs38_mqtt *c, const uint8_t *b, size_t n)
{
    fs38_err e = c->cfg.transport->send(c->cfg.transport->ctx, b, n);
    if (e)
        return go_down(c, e, "transport send failed");
    c->last_tx_ms = now_ms(c);
    return FS38_OK;
}

static uint16_t next_id(fs38_mqtt *c)
{
    if (++c->next_id == 0)
        c->next_id = 1;
    return c->next_id;
}

static FS38_NODISCARD fs38_err unexpected(fs38_mqtt *c, const fs38_mqtt_packet *p, const char *why)
{
    fs38_diag_set(&c->diag, FS38_ERR_PROTOCOL, "mqtt: unexpected %s (packet id %u): %s", k_type_names[p->type],
                  (unsigned)p->packet_id, why);
    return refuse(c, FS38_ERR_PROTOCOL);
}

/* Handle one whole packet (buf, len) received. */
static FS38_NODISCARD fs38_err handle(fs38_mqtt *c, const uint8_t *buf, size_t len)
{
    fs38_mqtt_packet p;
    fs38_err e = fs38_mqtt_decode(buf, len, &p, &c->diag);
    if (e)
        return refuse(c, e);
    if (c->state == ST_CONNECTING) {
        if (p.type != FS38_MQTT_CONNACK)
            return unexpected(c, &p, "the first packet from the server must be CONNACK");
        c->wait_done = true;
        c->wait_code = p.return_code;
        c->session_present = p.session_present;
        return FS38_OK;
    }
    switch (p.type) {
    case FS38_MQTT_PUBLISH: {
        if (c->cfg.on_message)
            c->cfg.on_message(c->cfg.user, p.topic, p.topic_len, p.payload, p.payload_len, p.qos, p.retain);
        c->delivered++;
        if (p.qos == 1u) {
            uint8_t ack[4];
            size_t n = 0;
            e = fs38_mqtt_encode_puback(p.packet_id, ack, sizeof ack, &n);
            if (e == FS38_OK)
                e = send_bytes(c, ack, n);
            return e;
        }
        return FS38_OK;
    }
    case FS38_MQTT_PUBACK:
        if (c->wait_type == FS38_MQTT_PUBACK && p.packet_id == c->wait_id) {
            c->wait_done = true;
            return FS38_OK;
        }
        if (p.packet_id == c->last_acked && c->last_acked != 0)
            return FS38_OK; /* the second PUBACK of a retransmitted PUBLISH */
        return unexpected(c, &p, "no PUBLISH with this packet id awaits acknowledgement");
    case FS38_MQTT_SUBACK:
    case FS38_MQTT_UNSUBACK:
        if (c->wait_type != (uint8_t)p.type || p.packet_id != c->wait_id)
            return unexpected(c, &p, "no request with this packet id awaits it");
        if (p.type == FS38_MQTT_SUBACK) {
            if (p.payload_len != 1u)
                return unexpected(c, &p, "one return code expected (one topic filter sent)");
            c->wait_code = p.payload[0];
        }
        c->wait_done = true;
        return FS38_OK;
    case FS38_MQTT_PINGRESP:
        if (!c->ping_out)
            return unexpected(c, &p, "no PINGREQ was sent");
        c->ping_out = false;
        return FS38_OK;
    default: /* CONNACK after the handshake */
        return unexpected(c, &p, "the connection is already accepted");
    }
}

/* Handle every whole packet at the start of rx_buf. */
static FS38_NODISCARD fs38_err drain(fs38_mqtt *c)
{
    while (c->rx_len && (c->state == ST_UP || c->state == ST_CONNECTING)) {
        size_t plen = 0;
        fs38_err e = fs38_mqtt_frame(c->cfg.rx_buf, c->rx_len, c->cfg.rx_cap, &plen, &c->diag);
        if (e)
            return refuse(c, e);
        if (plen == 0 || plen > c->rx_len)
            return FS38_OK; /* wait for the rest */
        e = handle(c, c->cfg.rx_buf, plen);
        if (e)
            return e;
        memmove(c->cfg.rx_buf, c->cfg.rx_buf + plen, c->rx_len - plen);
        c->rx_len -= plen;
    }
    return FS38_OK;
}

/* Receive once (waiting up to wait_ms) and handle the whole packets buffered. */
static FS38_NODISCARD fs38_err rx_once(fs38_mqtt *c, uint32_t wait_ms)
{
    size_t room = c->cfg.rx_cap - c->rx_len;
    size_t got = 0;
    fs38_err e = c->cfg.transport->recv(c->cfg.transport->ctx, c->cfg.rx_buf + c->rx_len, room, &got, wait_ms);
    if (e == FS38_ERR_TIMEOUT)
        return FS38_OK;
    if (e)
        return go_down(c, e, e == FS38_ERR_CLOSED ? "the broker closed the connection" : "transport recv failed");
    if (got == 0 || got > room)
        return go_down(c, FS38_ERR_NET, "transport recv returned a bad length");
    c->rx_len += got;
    return drain(c);
}

/* Keep-alive bookkeeping; *next = ms until the next keep-alive action (UINT32_MAX: none). */
static FS38_NODISCARD fs38_err keepalive(fs38_mqtt *c, uint64_t now, uint32_t *next)
{
    *next = UINT32_MAX;
    if (c->state != ST_UP || c->cfg.keep_alive_s == 0)
        return FS38_OK;
    uint64_t ka = (uint64_t)c->cfg.keep_alive_s * 1000u;
    if (c->ping_out) {
        if (now - c->ping_ms >= ka) {
            go_down(c, FS38_ERR_TIMEOUT, "keep-alive");
            return fs38_diag_set(&c->diag, FS38_ERR_TIMEOUT, "mqtt: no PINGRESP within %u s: connection lost",
                                 (unsigned)c->cfg.keep_alive_s);
        }
        *next = (uint32_t)(c->ping_ms + ka - now);
        return FS38_OK;
    }
    if (now - c->last_tx_ms >= ka) {
        uint8_t b[2];
        size_t n = 0;
        fs38_err e = fs38_mqtt_encode_empty(FS38_MQTT_PINGREQ, b, sizeof b, &n);
        if (e == FS38_OK)
            e = send_bytes(c, b, n);
        if (e)
            return e;
        c->ping_out = true;
        c->ping_ms = now;
        *next = (uint32_t)ka;
        return FS38_OK;
    }
    *next = (uint32_t)(c->last_tx_ms + ka - now);
    return FS38_OK;
}

/* Run until the awaited acknowledgement arrived (FS38_OK) or the deadline passed
 * (FS38_ERR_TIMEOUT, client still up); any other error has taken the client down. */
static FS38_NODISCARD fs38_err wait_ack(fs38_mqtt *c, uint64_t deadline)
{
    for (;;) {
        if (c->state != ST_UP && c->state != ST_CONNECTING)
            return c->diag.err ? c->diag.err : FS38_ERR_STATE;
        if (c->wait_done)
            return FS38_OK;
        uint64_t now = now_ms(c);
        uint32_t next;
        fs38_err e = keepalive(c, now, &next);
        if (e)
            return e;
        if (now >= deadline)
            return FS38_ERR_TIMEOUT;
        uint64_t w = deadline - now;
        if (w > next)
            w = next;
        e = rx_once(c, (uint32_t)w);
        if (e)
            return e;
    }
}

fs38_err fs38_mqtt_init(fs38_mqtt *c, const fs38_mqtt_config *cfg)
{
    if (!c || !cfg)
        return FS38_ERR_ARG;
    memset(c, 0, sizeof *c);
    const fs38_transport *t = cfg->transport;
    if (!t || t->datagram || !t->send || !t->recv)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "mqtt: needs a stream transport with send and recv");
    if (!cfg->port || !cfg->port->monotonic_ms)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "mqtt: the port has no monotonic clock");
    if (!cfg->rx_buf || !cfg->tx_buf || cfg->rx_cap < FS38_MQTT_BUF_MIN || cfg->tx_cap < FS38_MQTT_BUF_MIN)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "mqtt: receive and transmit buffers need >= %u bytes",
                             FS38_MQTT_BUF_MIN);
    fs38_mqtt_connect_opts o = { cfg->client_id, cfg->keep_alive_s, false, cfg->username, cfg->password,
                                 cfg->password_len };
    size_t n = 0;
    fs38_err e = cfg->client_id ? fs38_mqtt_encode_connect(&o, cfg->tx_buf, cfg->tx_cap, &n) : FS38_ERR_ARG;
    if (e == FS38_ERR_BUFFER)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "mqtt: CONNECT of %zu bytes does not fit tx_buf (%zu)", n,
                             cfg->tx_cap);
    if (e)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG,
                             "mqtt: invalid client id, user name or password (empty, too long, bad UTF-8, "
                             "password without user name)");
    c->cfg = *cfg;
    if (c->cfg.timeout_ms == 0)
        c->cfg.timeout_ms = DEFAULT_TIMEOUT_MS;
    c->state = ST_IDLE;
    return FS38_OK;
}

fs38_err fs38_mqtt_connect(fs38_mqtt *c)
{
    if (!c || (c->state != ST_IDLE && c->state != ST_DOWN))
        return c ? fs38_diag_set(&c->diag, FS38_ERR_STATE, "mqtt connect: %s",
                                 c->state == ST_UP ? "already connected" : "client not initialised")
                 : FS38_ERR_STATE;
    fs38_diag_clear(&c->diag);
    c->rx_len = 0;
    c->ping_out = false;
    c->session_present = false;
    fs38_mqtt_connect_opts o = { c->cfg.client_id, c->cfg.keep_alive_s, false, c->cfg.username, c->cfg.password,
                                 c->cfg.password_len };
    size_t n = 0;
    fs38_err e = fs38_mqtt_encode_connect(&o, c->cfg.tx_buf, c->cfg.tx_cap, &n);
    if (e)
        return fs38_diag_set(&c->diag, e, "mqtt connect: cannot encode CONNECT");
    c->state = ST_CONNECTING;
    c->wait_type = FS38_MQTT_CONNACK;
    c->wait_done = false;
    e = send_bytes(c, c->cfg.tx_buf, n);
    if (e)
        return e;
    e = wait_ack(c, now_ms(c) + c->cfg.timeout_ms);
    c->wait_type = 0;
    if (e == FS38_ERR_TIMEOUT && c->state == ST_CONNECTING) {
        go_down(c, e, "connect");
        return fs38_diag_set(&c->diag, e, "mqtt: no CONNACK within %u ms", (unsigned)c->cfg.timeout_ms);
    }
    if (e)
        return e;
    if (c->wait_code != 0) {
        fs38_diag_set(&c->diag, FS38_ERR_PEER, "mqtt: broker refused the connection: return code %u (%s)",
                      (unsigned)c->wait_code, fs38_mqtt_connack_name(c->wait_code));
        return refuse(c, FS38_ERR_PEER);
    }
    c->state = ST_UP;
    c->last_tx_ms = now_ms(c);
    return FS38_OK;
}

static FS38_NODISCARD fs38_err need_up(fs38_mqtt *c, const char *what)
{
    if (!c)
        return FS38_ERR_STATE;
    if (c->state != ST_UP)
        return fs38_diag_set(&c->diag, FS38_ERR_STATE, "mqtt %s: not connected%s", what,
                             c->state == ST_DOWN ? " (down after an earlier failure)" : "");
    return FS38_OK;
}

/* Send one PUBLISH (head in tx_buf; payload appended there when it fits, else sent from the
 * caller's buffer). */
static FS38_NODISCARD fs38_err send_publish(fs38_mqtt *c, const fs38_mqtt_packet *p)
{
    size_t head = 0;
    fs38_err e = fs38_mqtt_encode_publish_head(p, c->cfg.tx_buf, c->cfg.tx_cap, &head);
    if (e)
        return fs38_diag_set(&c->diag, e, "mqtt publish: %s",
                             e == FS38_ERR_BUFFER ? "topic does not fit tx_buf" : "invalid topic or too large");
    if (c->cfg.tx_cap - head >= p->payload_len) {
        if (p->payload_len)
            memcpy(c->cfg.tx_buf + head, p->payload, p->payload_len);
        return send_bytes(c, c->cfg.tx_buf, head + p->payload_len);
    }
    e = send_bytes(c, c->cfg.tx_buf, head);
    if (e == FS38_OK && p->payload_len)
        e = send_bytes(c, p->payload, p->payload_len);
    return e;
}

fs38_err fs38_mqtt_publish(fs38_mqtt *c, const char *topic, size_t topic_len, const uint8_t *payload,
                           size_t payload_len, uint8_t qos)
{
    fs38_err e = need_up(c, "publish");
    if (e)
        return e;
    if (!topic || (!payload && payload_len) || qos > 1u)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "mqtt publish: NULL argument or QoS %u", (unsigned)qos);
    e = fs38_mqtt_topic_check(topic, topic_len, false, &c->diag);
    if (e)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "mqtt publish: invalid topic name");
    fs38_mqtt_packet p;
    memset(&p, 0, sizeof p);
    p.type = FS38_MQTT_PUBLISH;
    p.topic = topic;
    p.topic_len = topic_len;
    p.payload = payload;
    p.payload_len = payload_len;
    p.qos = qos;
    if (qos)
        p.packet_id = next_id(c);
    /* QoS 1: wait for the PUBACK from the first send on (it may come while sending) */
    c->wait_type = qos ? FS38_MQTT_PUBACK : 0;
    c->wait_id = p.packet_id;
    c->wait_done = false;
    for (unsigned attempt = 0;; attempt++) {
        if (attempt) {
            p.dup = true;
            c->retransmits++;
        }
        e = send_publish(c, &p);
        if (e || qos == 0) {
            c->wait_type = 0;
            return e;
        }
        e = wait_ack(c, now_ms(c) + c->cfg.timeout_ms);
        if (e == FS38_OK) {
            c->wait_type = 0;
            c->last_acked = p.packet_id;
            return FS38_OK;
        }
        if (e != FS38_ERR_TIMEOUT || c->state != ST_UP) {
            c->wait_type = 0;
            return e;
        }
        if (attempt >= c->cfg.max_retries) {
            c->wait_type = 0;
            return fs38_diag_set(&c->diag, FS38_ERR_TIMEOUT, "mqtt publish: no PUBACK for packet id %u after %u sends",
                                 (unsigned)p.packet_id, attempt + 1u);
        }
    }
}

/* SUBSCRIBE (qos 0/1) or UNSUBSCRIBE (qos < 0) and wait for its acknowledgement. */
static FS38_NODISCARD fs38_err sub_unsub(fs38_mqtt *c, const char *filter, size_t flen, int qos, uint8_t *granted)
{
    const char *what = qos >= 0 ? "subscribe" : "unsubscribe";
    fs38_err e = need_up(c, what);
    if (e)
        return e;
    if (!filter || qos > 1)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "mqtt %s: NULL filter or QoS %d", what, qos);
    e = fs38_mqtt_topic_check(filter, flen, true, &c->diag);
    if (e)
        return fs38_diag_set(&c->diag, FS38_ERR_ARG, "mqtt %s: invalid topic filter", what);
    uint16_t id = next_id(c);
    size_t n = 0;
    e = qos >= 0 ? fs38_mqtt_encode_subscribe(id, filter, flen, (uint8_t)qos, c->cfg.tx_buf, c->cfg.tx_cap, &n)
                 : fs38_mqtt_encode_unsubscribe(id, filter, flen, c->cfg.tx_buf, c->cfg.tx_cap, &n);
    if (e)
        return fs38_diag_set(&c->diag, e, "mqtt %s: the filter does not fit tx_buf", what);
    c->wait_type = qos >= 0 ? FS38_MQTT_SUBACK : FS38_MQTT_UNSUBACK;
    c->wait_id = id;
    c->wait_done = false;
    e = send_bytes(c, c->cfg.tx_buf, n);
    if (e == FS38_OK)
        e = wait_ack(c, now_ms(c) + c->cfg.timeout_ms);
    c->wait_type = 0;
    if (e == FS38_ERR_TIMEOUT && c->state == ST_UP) {
        go_down(c, e, what);
        return fs38_diag_set(&c->diag, e, "mqtt %s: no %s within %u ms", what, qos >= 0 ? "SUBACK" : "UNSUBACK",
                             (unsigned)c->cfg.timeout_ms);
    }
    if (e || qos < 0)
        return e;
    if (c->wait_code == FS38_MQTT_SUBACK_FAILURE) {
        fs38_diag_set(&c->diag, FS38_ERR_PEER, "mqtt subscribe: broker refused the subscription (SUBACK 0x80)");
        fs38_event(FS38_EV_MQTT_REFUSED, FS38_SEV_WARNING, FS38_ERR_PEER, c->diag.msg);
        return FS38_ERR_PEER;
    }
    if (c->wait_code > (uint8_t)qos) {
        fs38_diag_set(&c->diag, FS38_ERR_PROTOCOL, "mqtt subscribe: broker granted QoS %u, more than the %d asked",
                      (unsigned)c->wait_code, qos);
        return refuse(c, FS38_ERR_PROTOCOL);
    }
    if (granted)
        *granted = c->wait_code;
    return FS38_OK;
}

fs38_err fs38_mqtt_subscribe(fs38_mqtt *c, const char *filter, size_t filter_len, uint8_t qos, uint8_t *granted)
{
    if (qos > 1u)
        return c ? fs38_diag_set(&c->diag, FS38_ERR_ARG, "mqtt subscribe: QoS %u", (unsigned)qos) : FS38_ERR_ARG;
    return sub_unsub(c, filter, filter_len, qos, granted);
}

fs38_err fs38_mqtt_unsubscribe(fs38_mqtt *c, const char *filter, size_t filter_len)
{
    return sub_unsub(c, filter, filter_len, -1, NULL);
}

fs38_err fs38_mqtt_poll(fs38_mqtt *c, uint32_t timeout_ms)
{
    fs38_err e = need_up(c, "poll");
    if (e)
        return e;
    uint64_t deadline = now_ms(c) + timeout_ms;
    uint32_t before = c->delivered;
    for (;;) {
        uint64_t now = now_ms(c);
        uint32_t next;
        e = keepalive(c, now, &next);
        if (e)
            return e;
        uint64_t w = now >= deadline ? 0 : deadline - now;
        if (w > next)
            w = next;
        e = rx_once(c, (uint32_t)w);
        if (e)
            return e;
        if (c->delivered != before || now_ms(c) >= deadline)
            return FS38_OK;
    }
}

fs38_err fs38_mqtt_disconnect(fs38_mqtt *c)
{
    if (!c)
        return FS38_OK;
    fs38_err e = FS38_OK;
    if (c->state == ST_UP) {
        uint8_t b[2];
        size_t n = 0;
        e = fs38_mqtt_encode_empty(FS38_MQTT_DISCONNECT, b, sizeof b, &n);
        if (e == FS38_OK)
            e = send_bytes(c, b, n);
    }
    if (c->state != ST_NONE)
        c->state = ST_IDLE;
    c->rx_len = 0;
    c->wait_type = 0;
    c->ping_out = false;
    return e;
}

bool fs38_mqtt_connected(const fs38_mqtt *c)
{
    return c && c->state == ST_UP;
}

bool fs38_mqtt_session_present(const fs38_mqtt *c)
{
    return c && c->session_present;
}

const fs38_diag *fs38_mqtt_diag(const fs38_mqtt *c)
{
    return c ? &c->diag : NULL;
}
