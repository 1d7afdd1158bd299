/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_config.c — controls 3, 7 and 10 from configuration files.
 *
 * Control 3, update clients (ETSI EN 303 645 5.3-6/5.3-9/5.3-10):
 *   FS38-3.1 package manager signature checks off: apt `[trusted=yes]`, `AllowInsecureRepositories`,
 *            `AllowUnauthenticated`; opkg.conf without `option check_signature` (high/medium)
 *   FS38-3.2 update client configuration without verification: Mender `"SkipVerify": true`,
 *            SWUpdate without a public key, RAUC system.conf without a [keyring] (high)
 *   FS38-3.3 forced installs (`sysupgrade -F`, `opkg --force-signature`, `dpkg --force-all`) and
 *            MD5/CRC-only image checks in scripts (medium / low)
 *   FS38-3.4 hawkBit clients: rauc-hawkbit-updater `ssl = false` / `ssl_verify = false`, SWUpdate
 *            suricatta `url = "http://..."` / `nocheckcert = true` (medium)
 *   FS38-3.0 the update configuration examined (pass)
 * Control 7, logging and secure export (5.10-1):
 *   FS38-7.1 remote log export with TLS and peer verification (pass); TLS without peer
 *            verification (medium); no remote export with TLS at all (medium)
 * Control 10, wireless (5.5-1):
 *   FS38-10.1 open Wi-Fi network / WEP (high); WPA1 / TKIP (medium)
 *   FS38-10.2 WPS enabled (medium)
 *   FS38-10.3 weak pre-shared key: shorter than 12, a listed password, the host name, digits only
 *   FS38-10.4 Bluetooth: Secure Simple Pairing off (`sspmode 0`), Secure Connections off (medium);
 *             `SecureConnections = only` (pass)
 *   FS38-10.0 wireless configuration with WPA2/WPA3 only (pass)
 *   No radio configuration at all: NOT-APPLICABLE.
 *   Every control-10 decision is libfs38's fs38/wireless.h (fs38_wifi_security_check,
 *   fs38_wifi_passphrase_check, fs38_bt_check): the rules the device applies before it accepts a
 *   configuration. This file reads the settings and maps the refused rules to FS38-10.x.
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fs38/wireless.h"

static bool has(const char *l, size_t n, const char *s) { return memmem(l, n, s, strlen(s)) != NULL; }

/* the value of a uci line "option NAME 'value'" (quotes removed) into out; false if not that option */
static bool uci_opt(const char *l, size_t n, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    if (n < 8 + nl || memcmp(l, "option", 6) != 0)
        return false;
    const char *p = l + 6;
    size_t r = n - 6;
    p = aud_trim(p, &r);
    if (r <= nl || memcmp(p, name, nl) != 0 || (p[nl] != ' ' && p[nl] != '\t'))
        return false;
    p += nl;
    r -= nl;
    p = aud_trim(p, &r);
    if (r >= 2 && (p[0] == '\'' || p[0] == '"') && p[r - 1] == p[0]) {
        p++;
        r -= 2;
    }
    if (r >= outlen)
        r = outlen - 1;
    memcpy(out, p, r);
    out[r] = 0;
    return true;
}

/* key=value line (hostapd, wpa_supplicant): value into out */
static bool kv(const char *l, size_t n, const char *key, char *out, size_t outlen)
{
    size_t kl = strlen(key);
    if (n <= kl || memcmp(l, key, kl) != 0 || l[kl] != '=')
        return false;
    const char *v = l + kl + 1;
    size_t vn = n - kl - 1;
    if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
        v++;
        vn -= 2;
    }
    if (vn >= outlen)
        vn = outlen - 1;
    memcpy(out, v, vn);
    out[vn] = 0;
    return true;
}

typedef struct cfg_state {
    aud_ctx *ctx;
    bool radio;
    size_t wifi_ok;
    char host[64];
} cfg_state;

/* ---- control 10: the decisions are libfs38's (fs38/wireless.h), the same rules the device
 * applies before it accepts a configuration (fs38_wireless_check); this file only reads the
 * settings out of the configuration files and maps each refused rule to its FS38-10.x id. ---- */

static const char *wl_rule_id(fs38_wl_rule r)
{
    switch (r) {
    case FS38_WL_WPS: return "FS38-10.2";
    case FS38_WL_PSK_SHORT:
    case FS38_WL_PSK_INVALID:
    case FS38_WL_PSK_LISTED:
    case FS38_WL_PSK_DIGITS:
    case FS38_WL_PSK_DERIVED: return "FS38-10.3";
    case FS38_WL_BT_LEGACY:
    case FS38_WL_BT_JUST_WORKS:
    case FS38_WL_BT_FIXED_PIN: return "FS38-10.4";
    default: return "FS38-10.1";
    }
}

static aud_sev wl_sev(fs38_wl_rule r)
{
    return r == FS38_WL_OPEN || r == FS38_WL_WEP || r == FS38_WL_BT_LEGACY ? AUD_HIGH : AUD_MEDIUM;
}

/* Report what the library refused (nothing when it accepted); true when something was reported.
 * sev: AUD_CRITICAL + 1 for the rule's own severity. l/n: the setting's text, or NULL. */
static bool wl_report(cfg_state *st, const aud_entry *e, unsigned line, fs38_err r, fs38_wl_rule rule, const fs38_diag *d,
                      int sev, const char *l, size_t n)
{
    if (r == FS38_OK)
        return false;
    if (r != FS38_ERR_POLICY)
        return false; /* an argument the library did not understand: not a finding */
    const aud_sev s = sev > (int)AUD_CRITICAL ? wl_sev(rule) : (aud_sev)sev;
    if (l)
        aud_add(st->ctx->r, 10, e->path, line, wl_rule_id(rule), "5.5-1", s, "%s: %.*s", d->msg, (int)n, l);
    else
        aud_add(st->ctx->r, 10, e->path, line, wl_rule_id(rule), "5.5-1", s, "%s", d->msg);
    return true;
}

#define WL_OWN_SEV ((int)AUD_CRITICAL + 1)

static bool wifi_security(cfg_state *st, const aud_entry *e, unsigned line, fs38_wifi_security sec, bool tkip, bool wps,
                          int sev, const char *l, size_t n)
{
    fs38_wl_rule rule = FS38_WL_OK;
    fs38_diag d;
    fs38_diag_clear(&d);
    /* PMF is not read from the files (defaults differ per driver): not assessed here */
    fs38_err r = fs38_wifi_security_check(sec, tkip, wps, FS38_PMF_REQUIRED, &rule, &d);
    return wl_report(st, e, line, r, rule, &d, sev, l, n);
}

static void weak_psk(cfg_state *st, const aud_entry *e, unsigned line, const char *psk, const char *ssid)
{
    fs38_wl_rule rule = FS38_WL_OK;
    fs38_diag d;
    fs38_diag_clear(&d);
    const fs38_wl_ids ids = { ssid && ssid[0] ? ssid : NULL, NULL, NULL, st->host[0] ? st->host : NULL };
    fs38_err r = fs38_wifi_passphrase_check(psk, strlen(psk), &ids, &rule, &d);
    if (r == FS38_ERR_POLICY) {
        const char *why = d.msg;
        if (strncmp(why, "Wi-Fi passphrase ", 17) == 0)
            why += 17;
        if (strncmp(why, "is ", 3) == 0)
            why += 3;
        aud_add(st->ctx->r, 10, e->path, line, "FS38-10.3", "5.5-1", AUD_MEDIUM, "weak Wi-Fi pre-shared key: %s (%s)", why,
                fs38_wl_rule_name(rule));
    }
}

/* OpenWrt encryption option -> security mode and TKIP */
static fs38_wifi_security uci_security(const char *v, bool *tkip)
{
    *tkip = strstr(v, "tkip") != NULL;
    if (strcmp(v, "none") == 0)
        return FS38_WIFI_OPEN;
    if (strcmp(v, "owe") == 0)
        return FS38_WIFI_OWE;
    if (strncmp(v, "wep", 3) == 0)
        return FS38_WIFI_WEP;
    if (strcmp(v, "psk") == 0 || strncmp(v, "psk+", 4) == 0 || strncmp(v, "psk-mixed", 9) == 0 ||
        strncmp(v, "wpa+", 4) == 0 || strcmp(v, "wpa") == 0 || strncmp(v, "wpa-mixed", 9) == 0)
        return FS38_WIFI_WPA1_PSK;
    if (strncmp(v, "sae-mixed", 9) == 0)
        return FS38_WIFI_WPA2_WPA3;
    if (strncmp(v, "sae", 3) == 0 || strncmp(v, "wpa3", 4) == 0)
        return FS38_WIFI_WPA3_SAE;
    return FS38_WIFI_WPA2_PSK; /* psk2, wpa2, ... */
}

/* OpenWrt /etc/config/wireless */
static void owrt_wireless(cfg_state *st, const aud_entry *e, const uint8_t *buf, size_t len)
{
    aud_lines it;
    aud_lines_init(&it, buf, len);
    const char *l;
    size_t n;
    bool in_iface = false, enc_seen = false, disabled = false;
    unsigned iface_line = 0;
    char v[256], ssid[64] = "";
    for (;;) {
        bool more = aud_lines_next(&it, &l, &n);
        if (more)
            l = aud_trim(l, &n);
        if (!more || (n >= 6 && memcmp(l, "config", 6) == 0)) {
            if (in_iface && !enc_seen && !disabled)
                wifi_security(st, e, iface_line, FS38_WIFI_OPEN, false, false, WL_OWN_SEV, NULL, 0);
            if (!more)
                break;
            in_iface = has(l, n, "wifi-iface");
            if (has(l, n, "wifi-device") || in_iface)
                st->radio = true;
            enc_seen = disabled = false;
            ssid[0] = 0;
            iface_line = it.no;
            continue;
        }
        if (!n || l[0] == '#')
            continue;
        if (uci_opt(l, n, "disabled", v, sizeof v) && strcmp(v, "1") == 0)
            disabled = true;
        if (!in_iface)
            continue;
        if (uci_opt(l, n, "ssid", v, sizeof v))
            snprintf(ssid, sizeof ssid, "%.63s", v);
        if (uci_opt(l, n, "encryption", v, sizeof v)) {
            bool tkip;
            const fs38_wifi_security sec = uci_security(v, &tkip);
            enc_seen = true;
            /* OWE: encrypted, only unauthenticated: reported low */
            if (!wifi_security(st, e, it.no, sec, tkip, false, sec == FS38_WIFI_OWE ? (int)AUD_LOW : WL_OWN_SEV, l, n))
                st->wifi_ok++;
        }
        if ((uci_opt(l, n, "wps_pushbutton", v, sizeof v) || uci_opt(l, n, "wps_label", v, sizeof v)) &&
            strcmp(v, "1") == 0)
            wifi_security(st, e, it.no, FS38_WIFI_WPA2_PSK, false, true, WL_OWN_SEV, l, n);
        if (uci_opt(l, n, "key", v, sizeof v) && !aud_has_prefix(v, "$"))
            weak_psk(st, e, it.no, v, ssid);
    }
}

static void hostapd(cfg_state *st, const aud_entry *e, const uint8_t *buf, size_t len, bool supplicant)
{
    aud_lines it;
    aud_lines_init(&it, buf, len);
    const char *l;
    size_t n;
    char v[256], ssid[64] = "";
    int wpa = -1;
    bool wep = false, keymgmt_none = false;
    unsigned wpa_line = 0;
    st->radio = true;
    while (aud_lines_next_setting(&it, &l, &n)) {
        if (kv(l, n, "ssid", v, sizeof v))
            snprintf(ssid, sizeof ssid, "%.63s", v);
        if (kv(l, n, "wpa", v, sizeof v)) {
            wpa = atoi(v);
            wpa_line = it.no;
            if (wpa == 1 || wpa == 3)
                wifi_security(st, e, it.no, FS38_WIFI_WPA1_PSK, false, false, WL_OWN_SEV, l, n);
        }
        if (aud_has_prefix(l, "wep_key") || aud_has_prefix(l, "wep_tx_keyidx"))
            wep = true;
        if ((kv(l, n, "wpa_pairwise", v, sizeof v) || kv(l, n, "pairwise", v, sizeof v)) && strstr(v, "TKIP"))
            wifi_security(st, e, it.no, FS38_WIFI_WPA2_PSK, true, false, WL_OWN_SEV, l, n);
        if (kv(l, n, "wps_state", v, sizeof v) && atoi(v) > 0)
            wifi_security(st, e, it.no, FS38_WIFI_WPA2_PSK, false, true, WL_OWN_SEV, l, n);
        if (kv(l, n, "wpa_passphrase", v, sizeof v) || kv(l, n, "psk", v, sizeof v)) {
            if (!(supplicant && strlen(v) == 64))
                weak_psk(st, e, it.no, v, ssid);
        }
        if (kv(l, n, "key_mgmt", v, sizeof v) && strcmp(v, "NONE") == 0)
            keymgmt_none = true;
    }
    if (wep)
        wifi_security(st, e, 0, FS38_WIFI_WEP, false, false, WL_OWN_SEV, NULL, 0);
    else if (!supplicant && wpa <= 0)
        wifi_security(st, e, wpa_line, FS38_WIFI_OPEN, false, false, WL_OWN_SEV, NULL, 0);
    else if (supplicant && keymgmt_none)
        wifi_security(st, e, 0, FS38_WIFI_OPEN, false, false, (int)AUD_MEDIUM, NULL, 0);
    else if (wpa == 2)
        st->wifi_ok++;
}

static void bluetooth(cfg_state *st, const aud_entry *e, const uint8_t *buf, size_t len, bool main_conf)
{
    aud_lines it;
    aud_lines_init(&it, buf, len);
    const char *l;
    size_t n;
    if (main_conf)
        st->radio = true;
    while (aud_lines_next_setting(&it, &l, &n)) {
        fs38_bt_config bt = { FS38_BT_SECURE_CONNECTIONS, FS38_BT_NUMERIC_COMPARISON, false, false };
        fs38_wl_rule rule = FS38_WL_OK;
        fs38_diag d;
        fs38_diag_clear(&d);
        if (main_conf && n > 17 && strncasecmp(l, "SecureConnections", 17) == 0) {
            if (has(l, n, "off")) {
                bt.pairing = FS38_BT_LE_LEGACY;
                const fs38_err r = fs38_bt_check(&bt, &rule, &d);
                wl_report(st, e, it.no, r, rule, &d, (int)AUD_MEDIUM, l, n);
            } else if (has(l, n, "only") && fs38_bt_check(&bt, &rule, &d) == FS38_OK) {
                aud_add(st->ctx->r, 10, e->path, it.no, "FS38-10.4", "5.5-1", AUD_INFO,
                        "Bluetooth Secure Connections only");
            }
        }
        if (!main_conf && has(l, n, "sspmode") && (has(l, n, "sspmode 0") || has(l, n, "sspmode disable"))) {
            st->radio = true;
            bt.pairing = FS38_BT_BREDR_LEGACY;
            const fs38_err r = fs38_bt_check(&bt, &rule, &d);
            wl_report(st, e, it.no, r, rule, &d, WL_OWN_SEV, l, n);
        }
    }
}

/* ---- control 7 ---- */
typedef struct log_state { size_t configs, secure, insecure; } log_state;

static void logging(cfg_state *st, log_state *ls, const aud_entry *e, const uint8_t *buf, size_t len, int kind)
{
    ls->configs++;
    bool tls = false, verify = false, remote = false;
    unsigned rl = 0;
    aud_lines it;
    aud_lines_init(&it, buf, len);
    const char *l;
    size_t n;
    while (aud_lines_next_setting(&it, &l, &n)) {
        if (kind == 0) { /* rsyslog */
            if (has(l, n, "StreamDriver") && has(l, n, "gtls"))
                tls = true;
            if (has(l, n, "ossl") && has(l, n, "StreamDriver"))
                tls = true;
            if (has(l, n, "x509/name") || has(l, n, "x509/certvalid") || has(l, n, "x509/fingerprint"))
                verify = true;
            if ((has(l, n, " @@") || has(l, n, "\t@@") || has(l, n, "omfwd")) && !rl) {
                remote = true;
                rl = it.no;
            }
        } else if (kind == 1) { /* syslog-ng */
            if (has(l, n, "tls(") || has(l, n, "tls {"))
                tls = true;
            if (has(l, n, "peer-verify(required-trusted)") || has(l, n, "peer_verify(required-trusted)") ||
                has(l, n, "peer-verify(yes)"))
                verify = true;
            if ((has(l, n, "network(") || has(l, n, "tcp(") || has(l, n, "syslog(")) && has(l, n, "destination") && !rl) {
                remote = true;
                rl = it.no;
            }
            if (has(l, n, "destination") && !rl) {
                remote = has(l, n, "network") || has(l, n, "tcp") || has(l, n, "syslog(");
                if (remote)
                    rl = it.no;
            }
        } else { /* OpenWrt system: log_ip (plaintext; control 4 reports the protocol) */
            if (has(l, n, "option log_ip")) {
                remote = true;
                rl = it.no;
            }
        }
    }
    if (remote && tls && verify) {
        ls->secure++;
        aud_add(st->ctx->r, 7, e->path, rl, "FS38-7.1", "5.10-1", AUD_INFO, "remote log export over TLS with peer verification");
    } else if (remote && tls) {
        ls->insecure++;
        aud_add(st->ctx->r, 7, e->path, rl, "FS38-7.1", "5.10-1", AUD_MEDIUM,
                "remote log export over TLS without peer verification (any server is accepted)");
    } else if (remote) {
        ls->insecure++;
        aud_add(st->ctx->r, 7, e->path, rl, "FS38-7.1", "5.10-1", AUD_MEDIUM, "remote log export in plaintext (no TLS)");
    }
}

/* ---- control 3 ---- */

/* "key = value" (INI, libconfig "key = value;"): the value, blanks, a ';' and quotes removed */
static bool ini_kv(const char *l, size_t n, const char *key, char *out, size_t outlen)
{
    size_t kl = strlen(key), i = kl;
    if (n <= kl || memcmp(l, key, kl) != 0)
        return false;
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    if (i >= n || l[i] != '=')
        return false;
    i++;
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    const char *v = l + i;
    size_t vn = n - i;
    while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t' || v[vn - 1] == ';'))
        vn--;
    if (vn >= 2 && (v[0] == '"' || v[0] == '\'') && v[vn - 1] == v[0]) {
        v++;
        vn -= 2;
    }
    if (vn >= outlen)
        vn = outlen - 1;
    memcpy(out, v, vn);
    out[vn] = 0;
    return true;
}

static bool cfg_false(const char *v) { return !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no"); }
static bool cfg_true(const char *v) { return !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes"); }

/*
 * hawkBit clients (control 3, FS38-3.4): rauc-hawkbit-updater's configuration ([client] with
 * hawkbit_server; `ssl` and `ssl_verify` default to true) and SWUpdate's suricatta (swupdate.cfg:
 * `url = "http://..."`, `nocheckcert = true`). Plaintext HTTP hands the device's token and the
 * deployment commands to anyone on the path; TLS without server verification to any server.
 * (RAUC / SWUpdate still check the bundle's signature: FS38-3.2.) true: a hawkBit client found.
 */
static bool hawkbit_cfg(cfg_state *st, const aud_entry *e, const uint8_t *buf, size_t len, bool swu)
{
    aud_report *r = st->ctx->r;
    aud_lines it;
    aud_lines_init(&it, buf, len);
    const char *l;
    size_t n;
    char v[256];
    unsigned server = 0, ssl_off = 0, verify_off = 0, http = 0, nocheck = 0;
    bool suricatta = false;
    while (aud_lines_next_setting(&it, &l, &n)) {
        if (!swu && ini_kv(l, n, "hawkbit_server", v, sizeof v)) {
            server = it.no;
            if (aud_has_prefix(v, "http://"))
                http = it.no;
        } else if (!swu && ini_kv(l, n, "ssl", v, sizeof v) && cfg_false(v)) {
            ssl_off = it.no;
        } else if (!swu && ini_kv(l, n, "ssl_verify", v, sizeof v) && cfg_false(v)) {
            verify_off = it.no;
        } else if (swu && has(l, n, "suricatta")) {
            suricatta = true;
        } else if (swu && ini_kv(l, n, "url", v, sizeof v) && aud_has_prefix(v, "http://")) {
            http = it.no;
        } else if (swu && ini_kv(l, n, "nocheckcert", v, sizeof v) && cfg_true(v)) {
            nocheck = it.no;
        }
    }
    const char *who = swu ? "SWUpdate" : "rauc-hawkbit-updater";
    if (swu && !suricatta && !http && !nocheck)
        return false;
    if (!swu && !server)
        return false;
    if (ssl_off || http)
        aud_add(r, 3, e->path, ssl_off ? ssl_off : http, "FS38-3.4", "5.3-7", AUD_MEDIUM,
                "%s: plaintext HTTP to the update server: its token and the deployment commands travel unprotected",
                who);
    if (verify_off || nocheck)
        aud_add(r, 3, e->path, verify_off ? verify_off : nocheck, "FS38-3.4", "5.3-7", AUD_MEDIUM,
                "%s: TLS without server certificate verification: any server can steer the updates", who);
    if (!ssl_off && !http && !verify_off && !nocheck && (server || suricatta))
        aud_add(r, 3, e->path, server, "FS38-3.0", "5.3-7", AUD_INFO,
                "%s: hawkBit server over HTTPS with certificate verification", who);
    return true;
}

static void update_cfg(cfg_state *st, const aud_entry *e, const uint8_t *buf, size_t len, size_t *seen)
{
    const char *p = e->path, *b = aud_basename(p);
    bool opkg = strcmp(b, "opkg.conf") == 0, apt = aud_has_prefix(p, "etc/apt/"), mender = strcmp(b, "mender.conf") == 0;
    bool swu = strcmp(b, "swupdate.cfg") == 0, rauc = strcmp(p, "etc/rauc/system.conf") == 0;
    bool script = len > 2 && buf[0] == '#' && buf[1] == '!';
    if ((swu || memmem(buf, len, "hawkbit_server", 14)) && hawkbit_cfg(st, e, buf, len, swu) && !swu)
        (*seen)++;
    if (!opkg && !apt && !mender && !swu && !rauc && !script)
        return;
    if (!script)
        (*seen)++;
    bool sig = false, keyring = false, pubkey = false;
    aud_lines it;
    aud_lines_init(&it, buf, len);
    const char *l;
    size_t n;
    aud_report *r = st->ctx->r;
    while (aud_lines_next_setting(&it, &l, &n)) {
        if (opkg && has(l, n, "check_signature"))
            sig = true;
        if (apt && (has(l, n, "trusted=yes") || has(l, n, "AllowInsecureRepositories \"true\"") ||
                    has(l, n, "AllowUnauthenticated \"true\"") || has(l, n, "AllowInsecureRepositories=true")))
            aud_add(r, 3, p, it.no, "FS38-3.1", "5.3-9", AUD_HIGH, "apt accepts unsigned packages: %.*s", (int)(n > 160 ? 160 : n), l);
        if (mender && has(l, n, "\"SkipVerify\"") && has(l, n, "true"))
            aud_add(r, 3, p, it.no, "FS38-3.2", "5.3-9", AUD_HIGH, "Mender: server certificate not verified: %.*s", (int)n, l);
        if (mender && has(l, n, "ArtifactVerifyKey"))
            pubkey = true;
        if (swu && (has(l, n, "public-key-file") || has(l, n, "ca-path")))
            pubkey = true;
        if (rauc && has(l, n, "[keyring]"))
            keyring = true;
        if (script) {
            if ((has(l, n, "sysupgrade") && (has(l, n, " -F") || has(l, n, "--force"))) ||
                has(l, n, "--force-signature") || has(l, n, "--force-all") || has(l, n, "--allow-unauthenticated"))
                aud_add(r, 3, p, it.no, "FS38-3.3", "5.3-9", AUD_MEDIUM, "forced or unauthenticated install: %.*s",
                        (int)(n > 160 ? 160 : n), l);
            if ((has(l, n, "md5sum") || has(l, n, "crc32") || has(l, n, "cksum")) &&
                (has(l, n, "firmware") || has(l, n, "fw") || has(l, n, "image") || has(l, n, "update") ||
                 has(l, n, "upgrade")))
                aud_add(r, 3, p, it.no, "FS38-3.3", "5.3-9", AUD_LOW, "image integrity by MD5/CRC only (not authenticity): %.*s",
                        (int)(n > 160 ? 160 : n), l);
        }
    }
    if (opkg && !sig)
        aud_add(r, 3, p, 0, "FS38-3.1", "5.3-9", AUD_MEDIUM, "opkg without option check_signature: package signatures not checked");
    else if (opkg)
        aud_add(r, 3, p, 0, "FS38-3.0", "5.3-9", AUD_INFO, "opkg checks package signatures (check_signature)");
    if (mender && !pubkey)
        aud_add(r, 3, p, 0, "FS38-3.2", "5.3-9", AUD_MEDIUM, "Mender without ArtifactVerifyKey: artifacts not signature-checked");
    if (swu && !pubkey)
        aud_add(r, 3, p, 0, "FS38-3.2", "5.3-9", AUD_MEDIUM, "SWUpdate configuration without a public key / CA");
    if (rauc && !keyring)
        aud_add(r, 3, p, 0, "FS38-3.2", "5.3-9", AUD_HIGH, "RAUC system.conf without a [keyring]: bundles not verified");
    else if (rauc)
        aud_add(r, 3, p, 0, "FS38-3.0", "5.3-9", AUD_INFO, "RAUC verifies bundles against its keyring");
}

void aud_check_update(aud_ctx *ctx)
{
    cfg_state st = { .ctx = ctx };
    log_state ls = { 0 };
    size_t upd = 0;
    uint8_t *buf;
    size_t len;
    if (aud_read_path(ctx, "etc/hostname", 128, &buf, &len) == 0) {
        size_t k = strcspn((char *)buf, "\r\n");
        if (k < sizeof st.host)
            memcpy(st.host, buf, k), st.host[k] = 0;
        free(buf);
    }
    for (size_t i = 0; i < aud_image_count(ctx->img); i++) {
        const aud_entry *e = aud_image_entry(ctx->img, i);
        if (e->type != AUD_REG || e->size == 0 || e->size > (512u << 10) || e->too_big)
            continue;
        const char *p = e->path, *b = aud_basename(p);
        bool wireless = strcmp(p, "etc/config/wireless") == 0;
        bool hap = strstr(b, "hostapd") && aud_has_suffix(b, ".conf");
        bool sup = strstr(b, "wpa_supplicant") && aud_has_suffix(b, ".conf");
        bool btmain = strcmp(p, "etc/bluetooth/main.conf") == 0;
        bool rsys = strcmp(b, "rsyslog.conf") == 0 || aud_has_prefix(p, "etc/rsyslog.d/");
        bool sysng = strcmp(b, "syslog-ng.conf") == 0 || aud_has_prefix(p, "etc/syslog-ng/");
        bool owsys = strcmp(p, "etc/config/system") == 0;
        bool inscripts = aud_has_prefix(p, "etc/") || aud_has_prefix(p, "usr/") || aud_has_prefix(p, "sbin/") ||
                         aud_has_prefix(p, "bin/") || aud_has_prefix(p, "lib/");
        if (strcmp(b, "hostapd") == 0 || strcmp(b, "wpa_supplicant") == 0 || strcmp(b, "bluetoothd") == 0)
            st.radio = true;
        if (!wireless && !hap && !sup && !btmain && !rsys && !sysng && !owsys && !inscripts)
            continue;
        if (aud_image_read(ctx->img, e, 512u << 10, &buf, &len, NULL, 0) != 0)
            continue;
        if (memchr(buf, 0, len < 4096 ? len : 4096)) {
            free(buf);
            continue;
        }
        if (wireless)
            owrt_wireless(&st, e, buf, len);
        else if (hap || sup)
            hostapd(&st, e, buf, len, sup);
        else if (btmain)
            bluetooth(&st, e, buf, len, true);
        if (rsys)
            logging(&st, &ls, e, buf, len, 0);
        else if (sysng)
            logging(&st, &ls, e, buf, len, 1);
        else if (owsys)
            logging(&st, &ls, e, buf, len, 2);
        if (inscripts && len > 2 && buf[0] == '#' && buf[1] == '!')
            bluetooth(&st, e, buf, len, false);
        update_cfg(&st, e, buf, len, &upd);
        free(buf);
    }
    if (st.radio && st.wifi_ok)
        aud_add(ctx->r, 10, "", 0, "FS38-10.0", "5.5-1", AUD_INFO, "%zu Wi-Fi configuration(s) with WPA2/WPA3 only", st.wifi_ok);
    aud_assessed(ctx->r, 10, st.radio ? AUD_V_UNKNOWN : AUD_V_NA,
                 st.radio ? "radio present, no wireless security setting found" : "no radio (Wi-Fi, Bluetooth) configuration found");
    if (ls.configs && !ls.secure && !ls.insecure)
        aud_add(ctx->r, 7, "", 0, "FS38-7.1", "5.10-1", AUD_MEDIUM,
                "logging configured but no remote export with TLS: logs stay on the device");
    aud_assessed(ctx->r, 7, AUD_V_UNKNOWN, "no logging configuration (syslog, rsyslog, syslog-ng, logd) found");
    aud_assessed(ctx->r, 3, AUD_V_UNKNOWN, "no update client or package manager configuration found");
}
