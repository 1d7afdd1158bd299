/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_privacy.c — fs38-device commands of privacy (control 11), wireless policy (control 10) and
 * the debug lock (control 5):
 *
 *   consent grant|revoke|show PURPOSE
 *   telemetry --purpose P --in RECORD.json --out OUT.json
 *   pseudonym --purpose P VALUE
 *   wireless set --ssid S --security wpa2-psk|wpa3-sae --psk P [--pmf required|optional]
 *   wireless show
 *   lock-debug
 *
 * The purposes are the reference device's own (device_purposes below): a firmware declares the
 * purposes it sends data for, with their allow-lists. Telemetry records are flat JSON objects
 * (strings, numbers, booleans), parsed with json-c into fields for fs38_telemetry_filter; the
 * output is a JSON object with only what the purpose allows. The wireless configuration is
 * sealed in the store ("wl/cfg"); its passphrase is never printed.
 *
 * Vendor facts (control 13) come from DIR/vendor when it exists ("support-until YYYY-MM-DD",
 * "disclosure URI", "mac aa:bb:cc:dd:ee:ff"), else from the defaults below.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "commands.h"
#include "device.h"
#include "keys.h"
#include "fs38/attest.h"
#include "fs38/event.h"
#include "fs38/identity.h"
#include "fs38/privacy.h"
#include "fs38/util.h"
#include "fs38/wireless.h"

#define DEV_SUPPORT_UNTIL "2031-12-31"
#define DEV_DISCLOSURE "mailto:security@fs38.example"
#define DEV_VENDOR_FILE "vendor"
#define WL_REC "wl/cfg"
#define WL_VERSION 1u
#define TELEMETRY_MAX (64u * 1024u)

/* ---- the reference device's purposes --------------------------------------------------------- */

static const fs38_field_rule diag_allow[] = {
    { "fw_version", FS38_FIELD_VALUE },  { "uptime_s", FS38_FIELD_VALUE },    { "battery_mv", FS38_FIELD_VALUE },
    { "error_count", FS38_FIELD_VALUE }, { "temperature_c", FS38_FIELD_VALUE }, { "device_id", FS38_FIELD_IDENTIFIER },
    { "lat", FS38_FIELD_LOCATION },      { "lon", FS38_FIELD_LOCATION },
};
static const fs38_field_rule analytics_allow[] = {
    { "app_opens", FS38_FIELD_VALUE }, { "feature", FS38_FIELD_VALUE }, { "device_id", FS38_FIELD_IDENTIFIER },
    { "lat", FS38_FIELD_LOCATION },    { "lon", FS38_FIELD_LOCATION },
};
/* diagnostics: stable pseudonyms, location to 2 decimals (~1.1 km); analytics: pseudonyms
 * rotated every day, location to 1 decimal (~11 km) */
static const fs38_purpose device_purposes[] = {
    { "diagnostics", 1, 0, 2, diag_allow, sizeof diag_allow / sizeof diag_allow[0] },
    { "analytics", 1, 86400, 1, analytics_allow, sizeof analytics_allow / sizeof analytics_allow[0] },
};

static const fs38_purpose *find_purpose(const char *cmd, const char *name)
{
    for (size_t i = 0; i < sizeof device_purposes / sizeof device_purposes[0]; i++)
        if (name && strcmp(device_purposes[i].name, name) == 0)
            return &device_purposes[i];
    host_err("%s: unknown purpose '%s' (this device has: diagnostics, analytics)", cmd, name ? name : "");
    return NULL;
}

static fs38_privacy g_pv;

static int open_privacy(const char *dir)
{
    if (device_open(&g_dev, dir))
        return -1;
    if (fs38_privacy_init(&g_pv, &g_dev.store, &g_dev.port) != FS38_OK) {
        device_close(&g_dev);
        return -1;
    }
    return 0;
}

static int exit_for(fs38_err e)
{
    return e == FS38_ERR_POLICY ? HOST_EXIT_REJECT : HOST_EXIT_USAGE;
}

static void print_time(const char *prefix, int64_t t)
{
    if (t <= 0) {
        printf("%stime unknown", prefix);
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    if (gmtime_r(&tt, &tm) && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
        printf("%s%s", prefix, buf);
}

/* ---- vendor facts (control 13) ------------------------------------------------------------- */

int device_vendor(const char *dir, device_vendor_info *v)
{
    char path[DEV_PATH_MAX + 16];
    memset(v, 0, sizeof *v);
    snprintf(v->support_until, sizeof v->support_until, "%s", DEV_SUPPORT_UNTIL);
    snprintf(v->disclosure, sizeof v->disclosure, "%s", DEV_DISCLOSURE);
    if (device_path(dir, DEV_VENDOR_FILE, path, sizeof path))
        return -1;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        host_err("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    char line[256];
    unsigned no = 0;
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        no++;
        char *save = NULL, *key = strtok_r(line, " \t\r\n", &save), *val = key ? strtok_r(NULL, " \t\r\n", &save) : NULL;
        if (!key || key[0] == '#')
            continue;
        if (val && strcmp(key, "support-until") == 0 && strlen(val) == FS38_EAT_DATE_LEN)
            memcpy(v->support_until, val, FS38_EAT_DATE_LEN + 1);
        else if (val && strcmp(key, "disclosure") == 0 && strlen(val) < sizeof v->disclosure)
            memcpy(v->disclosure, val, strlen(val) + 1);
        else if (val && strcmp(key, "mac") == 0 && strlen(val) < sizeof v->mac)
            memcpy(v->mac, val, strlen(val) + 1);
        else
            rc = -1;
        if (rc)
            host_err("cannot read %s: line %u is invalid (support-until YYYY-MM-DD, disclosure URI, mac ADDRESS)", path,
                     no);
    }
    fclose(f);
    return rc;
}

/* ---- consent ----------------------------------------------------------------------------------- */

static int consent_show(const fs38_purpose *pur)
{
    fs38_consent c;
    uint8_t kept[FS38_STORE_VALUE_MAX];
    size_t kl = 0;
    fs38_err e = fs38_consent_get(&g_pv, pur->name, &c);
    if (e != FS38_OK) {
        host_err("consent: %s", g_pv.diag.msg);
        return HOST_EXIT_USAGE;
    }
    if (!c.recorded) {
        printf("consent: %s never asked (notice version %u): nothing is sent\n", pur->name, (unsigned)pur->notice_version);
    } else {
        printf("consent: %s %s for notice version %u", pur->name, c.granted ? "granted" : "revoked",
               (unsigned)c.notice_version);
        print_time(", ", c.time);
        printf("\n");
    }
    e = fs38_privacy_kept(&g_pv, pur->name, kept, sizeof kept, &kl);
    if (e == FS38_OK)
        printf("kept: %zu bytes under %s\n", kl, pur->name);
    else if (e == FS38_ERR_NOT_FOUND)
        printf("kept: nothing under %s\n", pur->name);
    fs38_wipe(kept, sizeof kept);
    return HOST_EXIT_OK;
}

int cmd_consent(const char *dir, int argc, char **argv)
{
    const host_opt opts[] = { { .name = NULL } };
    const char *pos[2];
    size_t npos = 0;
    if (host_parse_args(argc, argv, opts, pos, 2, &npos) || npos != 2) {
        host_err("consent: usage: consent grant|revoke|show PURPOSE");
        return HOST_EXIT_USAGE;
    }
    const bool grant = strcmp(pos[0], "grant") == 0, revoke = strcmp(pos[0], "revoke") == 0;
    if (!grant && !revoke && strcmp(pos[0], "show") != 0) {
        host_err("consent: unknown action '%s' (grant, revoke or show)", pos[0]);
        return HOST_EXIT_USAGE;
    }
    const fs38_purpose *pur = find_purpose("consent", pos[1]);
    if (!pur || open_privacy(dir))
        return HOST_EXIT_USAGE;
    int rc;
    if (!grant && !revoke) {
        rc = consent_show(pur);
    } else {
        fs38_err e = fs38_consent_set(&g_pv, pur->name, grant, pur->notice_version);
        if (e != FS38_OK) {
            host_err("consent: %s", g_pv.diag.msg);
            rc = exit_for(e);
        } else {
            printf("consent: %s %s for notice version %u%s\n", pur->name, grant ? "granted" : "revoked",
                   (unsigned)pur->notice_version, revoke ? "; what was kept under it is erased" : "");
            rc = HOST_EXIT_OK;
        }
    }
    device_close(&g_dev);
    return rc;
}

/* ---- pseudonym ----------------------------------------------------------------------------- */

int cmd_pseudonym(const char *dir, int argc, char **argv)
{
    const char *purpose = NULL;
    const host_opt opts[] = { { .name = "--purpose", .value = &purpose }, { .name = NULL } };
    const char *pos[1];
    size_t npos = 0;
    if (host_parse_args(argc, argv, opts, pos, 1, &npos) || npos != 1 || !purpose) {
        host_err("pseudonym: usage: pseudonym --purpose P VALUE");
        return HOST_EXIT_USAGE;
    }
    const fs38_purpose *pur = find_purpose("pseudonym", purpose);
    if (!pur || open_privacy(dir))
        return HOST_EXIT_USAGE;
    uint8_t pn[FS38_PSEUDONYM_LEN];
    char hex[FS38_PSEUDONYM_HEX];
    int rc = HOST_EXIT_OK;
    fs38_err e = fs38_pseudonym(&g_pv, pur, (const uint8_t *)pos[0], strlen(pos[0]), pn);
    if (e != FS38_OK) {
        host_err("pseudonym: refused: %s", g_pv.diag.msg);
        rc = exit_for(e);
    } else {
        host_hex(pn, sizeof pn, hex);
        printf("%s\n", hex);
    }
    device_close(&g_dev);
    return rc;
}

/* ---- telemetry ----------------------------------------------------------------------------- */

typedef struct jbuf {
    char *p;
    size_t n, cap;
    bool over;
} jbuf;

static void jput(jbuf *b, const char *s, size_t n)
{
    if (b->over || n > b->cap - b->n) {
        b->over = true;
        return;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void jputs(jbuf *b, const char *s)
{
    jput(b, s, strlen(s));
}

static void jstr(jbuf *b, const char *s, size_t n)
{
    jputs(b, "\"");
    for (size_t i = 0; i < n; i++) {
        const unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            jput(b, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            jputs(b, esc);
        } else {
            jput(b, (const char *)&c, 1);
        }
    }
    jputs(b, "\"");
}

static void jnum(jbuf *b, double v, int decimals)
{
    char t[64];
    if (decimals >= 0)
        snprintf(t, sizeof t, "%.*f", decimals, v);
    else if (v == (double)(long long)v && v > -9007199254740992.0 && v < 9007199254740992.0)
        snprintf(t, sizeof t, "%lld", (long long)v);
    else
        snprintf(t, sizeof t, "%.17g", v);
    jputs(b, t);
}

static const fs38_field_rule *rule_of(const fs38_purpose *pur, const char *name)
{
    for (size_t i = 0; i < pur->n_allow; i++)
        if (strcmp(pur->allow[i].name, name) == 0)
            return &pur->allow[i];
    return NULL;
}

/* The flat JSON object of path as fields (pointing into obj). 0, or -1 (said why). */
static int parse_record(const char *path, json_object **obj, fs38_field *f, size_t cap, size_t *n)
{
    uint8_t *buf;
    size_t len;
    *n = 0;
    *obj = NULL;
    if (host_read_file(path, TELEMETRY_MAX, &buf, &len))
        return -1;
    enum json_tokener_error jerr = json_tokener_success;
    json_tokener *tok = json_tokener_new();
    if (tok) {
        *obj = json_tokener_parse_ex(tok, (const char *)buf, (int)len);
        jerr = json_tokener_get_error(tok);
        if (*obj && jerr == json_tokener_success && (size_t)json_tokener_get_parse_end(tok) != len) {
            /* only whitespace may follow the object */
            for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
                if (buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\r' && buf[i] != '\t')
                    jerr = json_tokener_error_parse_unexpected;
        }
        json_tokener_free(tok);
    }
    free(buf);
    if (!tok || !*obj || jerr != json_tokener_success || !json_object_is_type(*obj, json_type_object)) {
        host_err("telemetry: %s is not a JSON object%s%s", path, jerr != json_tokener_success ? ": " : "",
                 jerr != json_tokener_success ? json_tokener_error_desc(jerr) : "");
        json_object_put(*obj);
        *obj = NULL;
        return -1;
    }
    json_object_object_foreach(*obj, key, val)
    {
        if (*n >= cap) {
            host_err("telemetry: %s has more than %zu fields", path, cap);
            return -1;
        }
        fs38_field *x = &f[(*n)++];
        memset(x, 0, sizeof *x);
        x->name = key;
        switch (json_object_get_type(val)) {
        case json_type_string:
            x->type = FS38_FIELD_STRING;
            x->str = json_object_get_string(val);
            x->str_len = (size_t)json_object_get_string_len(val);
            break;
        case json_type_int:
        case json_type_double:
            x->type = FS38_FIELD_NUMBER;
            x->num = json_object_get_double(val);
            break;
        case json_type_boolean:
            x->type = FS38_FIELD_BOOL;
            x->b = json_object_get_boolean(val);
            break;
        default:
            host_err("telemetry: %s: field '%s' is %s: only strings, numbers and booleans are accepted", path, key,
                     json_type_to_name(json_object_get_type(val)));
            return -1;
        }
    }
    return 0;
}

static int telemetry_run(const char *dir, const fs38_purpose *pur, const char *in, const char *out)
{
    static fs38_field fields[64];
    static fs38_field_out res[64];
    json_object *obj = NULL;
    size_t n = 0, k = 0;
    host_out o;
    host_out_init(&o);
    if (host_out_check(out, false))
        return HOST_EXIT_USAGE;
    if (parse_record(in, &obj, fields, sizeof fields / sizeof fields[0], &n)) {
        json_object_put(obj);
        return HOST_EXIT_USAGE;
    }
    if (open_privacy(dir)) {
        json_object_put(obj);
        return HOST_EXIT_USAGE;
    }
    int rc = HOST_EXIT_OK;
    fs38_err e = fs38_telemetry_filter(&g_pv, pur, fields, n, res, sizeof res / sizeof res[0], &k);
    if (e != FS38_OK) {
        host_err("telemetry: %s: %s", e == FS38_ERR_POLICY ? "nothing sent" : "refused", g_pv.diag.msg);
        rc = exit_for(e);
        goto done;
    }
    char text[16384];
    jbuf b = { text, 0, sizeof text, false };
    jputs(&b, "{");
    for (size_t i = 0; i < k; i++) {
        const fs38_field_rule *r = rule_of(pur, res[i].name);
        jputs(&b, i ? ", " : "");
        jstr(&b, res[i].name, strlen(res[i].name));
        jputs(&b, ": ");
        if (res[i].type == FS38_FIELD_STRING)
            jstr(&b, res[i].str, res[i].str_len);
        else if (res[i].type == FS38_FIELD_BOOL)
            jputs(&b, res[i].b ? "true" : "false");
        else
            jnum(&b, res[i].num, r && r->kind == FS38_FIELD_LOCATION ? pur->location_decimals : -1);
    }
    jputs(&b, "}\n");
    if (b.over) {
        host_err("telemetry: the minimised record does not fit in %zu bytes", sizeof text);
        rc = HOST_EXIT_USAGE;
        goto done;
    }
    /* the last record sent is kept under the purpose (for a retry), erased when it is revoked */
    const bool keep = b.n <= FS38_STORE_VALUE_MAX;
    if (keep && (e = fs38_privacy_keep(&g_pv, pur, (const uint8_t *)text, b.n)) != FS38_OK) {
        host_err("telemetry: %s", g_pv.diag.msg);
        rc = exit_for(e);
        goto done;
    }
    const int i_out = host_out_add(&o, out, 0644, false);
    if (i_out < 0 || host_out_write(&o, i_out, text, b.n) || host_out_commit(&o)) {
        rc = HOST_EXIT_USAGE;
        goto done;
    }
    printf("telemetry: %zu of %zu field(s) sent for %s (%zu dropped, identifiers pseudonymised, location to %u "
           "decimal(s)) to %s\n",
           k, n, pur->name, n - k, (unsigned)pur->location_decimals, out);
done:
    host_out_abort(&o);
    device_close(&g_dev);
    json_object_put(obj);
    return rc;
}

int cmd_telemetry(const char *dir, int argc, char **argv)
{
    const char *purpose = NULL, *in = NULL, *out = NULL;
    const host_opt opts[] = { { .name = "--purpose", .value = &purpose },
                              { .name = "--in", .value = &in },
                              { .name = "--out", .value = &out },
                              { .name = NULL } };
    if (device_no_positional("telemetry", argc, argv, opts))
        return HOST_EXIT_USAGE;
    if (!purpose || !in || !out) {
        host_err("telemetry: --purpose P, --in RECORD.json and --out OUT.json are required");
        return HOST_EXIT_USAGE;
    }
    const fs38_purpose *pur = find_purpose("telemetry", purpose);
    return pur ? telemetry_run(dir, pur, in, out) : HOST_EXIT_USAGE;
}

/* ---- wireless ------------------------------------------------------------------------------ */

/* "wl/cfg": u8 version 1, u8 security, u8 pmf, u8 ssid length, ssid, u8 psk length, psk */
static int wireless_set(const char *dir, const char *ssid, const char *sec, const char *psk, const char *pmf_s)
{
    fs38_wifi_config w;
    device_vendor_info v;
    uint8_t ueid[FS38_UEID_LEN];
    char serial[2 * FS38_UEID_LEN + 1] = "";
    memset(&w, 0, sizeof w);
    if (strcmp(sec, "wpa2-psk") == 0)
        w.security = FS38_WIFI_WPA2_PSK;
    else if (strcmp(sec, "wpa3-sae") == 0)
        w.security = FS38_WIFI_WPA3_SAE;
    else {
        host_err("wireless: --security must be wpa2-psk or wpa3-sae (open, WEP and WPA1 are never configured)");
        return HOST_EXIT_USAGE;
    }
    if (!pmf_s)
        w.pmf = w.security == FS38_WIFI_WPA3_SAE ? FS38_PMF_REQUIRED : FS38_PMF_OPTIONAL;
    else if (strcmp(pmf_s, "required") == 0)
        w.pmf = FS38_PMF_REQUIRED;
    else if (strcmp(pmf_s, "optional") == 0)
        w.pmf = FS38_PMF_OPTIONAL;
    else if (strcmp(pmf_s, "disabled") == 0)
        w.pmf = FS38_PMF_DISABLED;
    else {
        host_err("wireless: --pmf must be required, optional or disabled");
        return HOST_EXIT_USAGE;
    }
    const size_t sl = strlen(ssid), pl = strlen(psk);
    if (sl == 0 || sl > FS38_WL_SSID_MAX) {
        host_err("wireless: --ssid must be 1..32 bytes");
        return HOST_EXIT_USAGE;
    }
    if (device_vendor(dir, &v) || device_open(&g_dev, dir))
        return HOST_EXIT_USAGE;
    fs38_identity id; /* the serial number: the UEID, once provisioned */
    if (fs38_identity_init(&id, &g_dev.store, DEV_KEY_IDENTITY) == FS38_OK && fs38_identity_ueid(&id, ueid) == FS38_OK)
        host_hex(ueid, sizeof ueid, serial);
    w.psk = psk;
    w.psk_len = pl;
    w.ids.ssid = ssid;
    w.ids.serial = serial[0] ? serial : NULL;
    w.ids.mac = v.mac[0] ? v.mac : NULL;
    fs38_wl_rule rule = FS38_WL_OK;
    fs38_diag d;
    fs38_diag_clear(&d);
    const fs38_wireless_config wc = { &w, NULL };
    int rc;
    fs38_err e = fs38_wireless_check(&wc, &rule, &d);
    if (e != FS38_OK) {
        fs38_event(FS38_EV_WIRELESS_REFUSED, FS38_SEV_WARNING, (int64_t)rule, fs38_wl_rule_name(rule));
        host_err("wireless: refused (%s): %s", fs38_wl_rule_name(rule), d.msg);
        rc = exit_for(e);
    } else {
        uint8_t rec[5 + FS38_WL_SSID_MAX + 64];
        size_t n = 0;
        rec[n++] = WL_VERSION;
        rec[n++] = (uint8_t)w.security;
        rec[n++] = (uint8_t)w.pmf;
        rec[n++] = (uint8_t)sl;
        memcpy(rec + n, ssid, sl);
        n += sl;
        rec[n++] = (uint8_t)pl;
        memcpy(rec + n, psk, pl);
        n += pl;
        e = fs38_store_put(&g_dev.store, WL_REC, rec, n);
        fs38_wipe(rec, sizeof rec);
        if (e != FS38_OK) {
            host_err("wireless: cannot store the configuration: %s", g_dev.store.diag.msg);
            rc = HOST_EXIT_USAGE;
        } else {
            fs38_event(FS38_EV_WIRELESS_SET, FS38_SEV_NOTICE, (int64_t)w.security, fs38_wifi_security_name(w.security));
            printf("wireless: %s network '%s' accepted (PMF %s) and sealed in the store; the passphrase is never shown\n",
                   fs38_wifi_security_name(w.security), ssid,
                   w.pmf == FS38_PMF_REQUIRED ? "required" : w.pmf == FS38_PMF_OPTIONAL ? "optional" : "disabled");
            rc = HOST_EXIT_OK;
        }
    }
    device_close(&g_dev);
    return rc;
}

static int wireless_show(const char *dir)
{
    uint8_t rec[5 + FS38_WL_SSID_MAX + 64];
    size_t n = 0;
    if (device_open(&g_dev, dir))
        return HOST_EXIT_USAGE;
    int rc = HOST_EXIT_OK;
    fs38_err e = fs38_store_get(&g_dev.store, WL_REC, rec, sizeof rec, &n);
    if (e == FS38_ERR_NOT_FOUND) {
        printf("wireless: not configured\n");
    } else if (e != FS38_OK || n < 5 || rec[0] != WL_VERSION || rec[3] == 0 || rec[3] > FS38_WL_SSID_MAX ||
               n != 5u + rec[3] + rec[4u + rec[3]]) {
        host_err("wireless: the stored configuration is unreadable (%s)",
                 e != FS38_OK ? g_dev.store.diag.msg : "malformed record");
        rc = HOST_EXIT_USAGE;
    } else {
        printf("ssid: %.*s\n", (int)rec[3], (const char *)rec + 4);
        printf("security: %s\n", fs38_wifi_security_name((fs38_wifi_security)rec[1]));
        printf("pmf: %s\n", rec[2] == FS38_PMF_REQUIRED ? "required" : rec[2] == FS38_PMF_OPTIONAL ? "optional" : "disabled");
        printf("psk: set (sealed in the store, never shown)\n");
    }
    fs38_wipe(rec, sizeof rec);
    device_close(&g_dev);
    return rc;
}

int cmd_wireless(const char *dir, int argc, char **argv)
{
    const char *ssid = NULL, *sec = NULL, *psk = NULL, *pmf = NULL;
    const host_opt opts[] = { { .name = "--ssid", .value = &ssid },
                              { .name = "--security", .value = &sec },
                              { .name = "--psk", .value = &psk },
                              { .name = "--pmf", .value = &pmf },
                              { .name = NULL } };
    const char *pos[1];
    size_t npos = 0;
    if (host_parse_args(argc, argv, opts, pos, 1, &npos) || npos != 1) {
        host_err("wireless: usage: wireless set --ssid S --security wpa2-psk|wpa3-sae --psk P [--pmf required|optional] | "
                 "wireless show");
        return HOST_EXIT_USAGE;
    }
    if (strcmp(pos[0], "show") == 0) {
        if (ssid || sec || psk || pmf) {
            host_err("wireless: show takes no options");
            return HOST_EXIT_USAGE;
        }
        return wireless_show(dir);
    }
    if (strcmp(pos[0], "set") != 0) {
        host_err("wireless: unknown action '%s' (set or show)", pos[0]);
        return HOST_EXIT_USAGE;
    }
    if (!ssid || !sec || !psk) {
        host_err("wireless: set needs --ssid S, --security wpa2-psk|wpa3-sae and --psk P");
        return HOST_EXIT_USAGE;
    }
    return wireless_set(dir, ssid, sec, psk, pmf);
}

/* ---- debug lock ------------------------------------------------------------------------------ */

int cmd_lock_debug(const char *dir, int argc, char **argv)
{
    const host_opt opts[] = { { .name = NULL } };
    fs38_security_state st;
    if (device_no_positional("lock-debug", argc, argv, opts) || device_open(&g_dev, dir))
        return HOST_EXIT_USAGE;
    int rc = HOST_EXIT_OK;
    const bool was = fs38_port_security_state(&g_dev.port, &st) == FS38_OK &&
                     (st.debug & FS38_DEBUG_ALL) == FS38_DEBUG_ALL;
    fs38_err e = fs38_port_debug_lock(&g_dev.port);
    if (e != FS38_OK) {
        host_err("lock-debug: failed: %s", fs38_strerror(e));
        rc = HOST_EXIT_USAGE;
    } else if (fs38_port_security_state(&g_dev.port, &st) != FS38_OK) {
        host_err("lock-debug: cannot read the debug state back");
        rc = HOST_EXIT_USAGE;
    } else {
        printf("lock-debug: %s: JTAG/SWD locked, UART console disabled, test modes off (one-way); dbgstat %s\n",
               was ? "already locked" : "debug ports locked for good", fs38_dbgstat_name(fs38_dbgstat_of(&st)));
    }
    device_close(&g_dev);
    return rc;
}
