/* SPDX-License-Identifier: Apache-2.0 */
/* wireless.c — wireless policy (control 10): every rule of fs38/wireless.h, shared by the device
 * (fs38-device wireless set) and the firmware assessor (host/audit/check_config.c). */
#include <string.h>
#include "fs38/auth.h"
#include "fs38/util.h"
#include "fs38/wireless.h"

#define ID_NORM_MAX 64u  /* identifiers longer than this are compared on their first 64 characters */
#define ID_MIN 4u        /* shorter identifiers are not looked for (too many false matches) */

const char *fs38_wl_rule_name(fs38_wl_rule r)
{
    switch (r) {
    case FS38_WL_OK: return "ok";
    case FS38_WL_OPEN: return "open";
    case FS38_WL_WEP: return "wep";
    case FS38_WL_WPA1: return "wpa1";
    case FS38_WL_TKIP: return "tkip";
    case FS38_WL_WPS: return "wps";
    case FS38_WL_PMF: return "pmf";
    case FS38_WL_PSK_SHORT: return "psk-short";
    case FS38_WL_PSK_INVALID: return "psk-invalid";
    case FS38_WL_PSK_LISTED: return "psk-listed";
    case FS38_WL_PSK_DIGITS: return "psk-digits";
    case FS38_WL_PSK_DERIVED: return "psk-derived";
    case FS38_WL_BT_LEGACY: return "bt-legacy";
    case FS38_WL_BT_JUST_WORKS: return "bt-just-works";
    case FS38_WL_BT_FIXED_PIN: return "bt-fixed-pin";
    }
    return "unknown";
}

const char *fs38_wifi_security_name(fs38_wifi_security s)
{
    switch (s) {
    case FS38_WIFI_OPEN: return "open";
    case FS38_WIFI_OWE: return "owe";
    case FS38_WIFI_WEP: return "wep";
    case FS38_WIFI_WPA1_PSK: return "wpa1-psk";
    case FS38_WIFI_WPA2_PSK: return "wpa2-psk";
    case FS38_WIFI_WPA3_SAE: return "wpa3-sae";
    case FS38_WIFI_WPA2_WPA3: return "wpa2-wpa3";
    }
    return "unknown";
}

static FS38_NODISCARD fs38_err refuse(fs38_wl_rule *out, fs38_wl_rule r, fs38_diag *d, const char *why)
{
    if (out)
        *out = r;
    return fs38_diag_set(d, FS38_ERR_POLICY, "%s", why);
}

static fs38_err accept(fs38_wl_rule *out)
{
    if (out)
        *out = FS38_WL_OK;
    return FS38_OK;
}

fs38_err fs38_wifi_security_check(fs38_wifi_security security, bool tkip, bool wps, fs38_wifi_pmf pmf,
                                  fs38_wl_rule *rule, fs38_diag *diag)
{
    if ((unsigned)security > FS38_WIFI_WPA2_WPA3 || (unsigned)pmf > FS38_PMF_REQUIRED)
        return fs38_diag_set(diag, FS38_ERR_ARG, "wireless: unknown security mode or PMF setting");
    switch (security) {
    case FS38_WIFI_OPEN: return refuse(rule, FS38_WL_OPEN, diag, "Wi-Fi open network (no encryption)");
    case FS38_WIFI_OWE:
        return refuse(rule, FS38_WL_OPEN, diag, "Wi-Fi OWE: encrypted but unauthenticated (anyone may join)");
    case FS38_WIFI_WEP: return refuse(rule, FS38_WL_WEP, diag, "Wi-Fi WEP: broken encryption");
    case FS38_WIFI_WPA1_PSK: return refuse(rule, FS38_WL_WPA1, diag, "Wi-Fi WPA1 allowed (TKIP-era, deprecated)");
    default: break;
    }
    if (tkip)
        return refuse(rule, FS38_WL_TKIP, diag, "Wi-Fi TKIP cipher allowed (deprecated): AES-CCMP only");
    if (wps)
        return refuse(rule, FS38_WL_WPS, diag, "Wi-Fi Protected Setup (WPS) enabled: its PIN can be brute-forced");
    if (security == FS38_WIFI_WPA3_SAE && pmf != FS38_PMF_REQUIRED)
        return refuse(rule, FS38_WL_PMF, diag, "WPA3-SAE requires protected management frames (PMF required)");
    return accept(rule);
}

static char fold(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Letters folded, everything but letters and digits dropped; at most cap - 1 characters. */
static size_t norm(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1u < cap; i++)
        if (alnum(s[i]))
            out[k++] = fold(s[i]);
    out[k] = 0;
    return k;
}

static bool contains(const char *hay, size_t hl, const char *needle, size_t nl)
{
    if (nl == 0 || nl > hl)
        return false;
    for (size_t i = 0; i + nl <= hl; i++)
        if (memcmp(hay + i, needle, nl) == 0)
            return true;
    return false;
}

/* Is the (normalised) passphrase derived from id: id inside it, or it inside id (a passphrase
 * that is a piece of the SSID)? */
static bool derived(const char *p, size_t pl, const char *id)
{
    char n[ID_NORM_MAX + 1];
    if (!id)
        return false;
    size_t nl = norm(id, strlen(id), n, sizeof n);
    if (nl < ID_MIN)
        return false;
    return contains(p, pl, n, nl) || contains(n, nl, p, pl);
}

fs38_err fs38_wifi_passphrase_check(const char *psk, size_t len, const fs38_wl_ids *ids, fs38_wl_rule *rule,
                                    fs38_diag *diag)
{
    char p[FS38_WL_PSK_MAX + 1];
    if (!psk && len)
        return fs38_diag_set(diag, FS38_ERR_ARG, "wireless: passphrase NULL with a length");
    size_t hex = 0, digits = 0;
    bool printable = true;
    for (size_t i = 0; i < len; i++) {
        const char c = psk[i];
        hex += (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        digits += c >= '0' && c <= '9';
        printable &= c >= 0x20 && c <= 0x7e;
    }
    if (len == 64 && hex == 64)
        return accept(rule); /* a raw 256-bit PSK, not a passphrase */
    if (len > FS38_WL_PSK_MAX || !printable)
        return refuse(rule, FS38_WL_PSK_INVALID, diag,
                      "Wi-Fi passphrase must be 8..63 printable ASCII characters (or 64 hex digits)");
    if (fs38_password_listed(fs38_passwords_mirai, fs38_passwords_mirai_len, psk, len) ||
        fs38_password_listed(fs38_passwords_common, fs38_passwords_common_len, psk, len))
        return refuse(rule, FS38_WL_PSK_LISTED, diag, "Wi-Fi passphrase is on a common-password list");
    if (len < FS38_WL_PSK_MIN)
        return refuse(rule, FS38_WL_PSK_SHORT, diag, "Wi-Fi passphrase is shorter than 12 characters");
    if (digits == len)
        return refuse(rule, FS38_WL_PSK_DIGITS, diag, "Wi-Fi passphrase is digits only (serial- or date-like)");
    const size_t pl = norm(psk, len, p, sizeof p);
    const char *why = NULL;
    if (ids) {
        char m[ID_NORM_MAX + 1];
        size_t ml = ids->mac ? norm(ids->mac, strlen(ids->mac), m, sizeof m) : 0;
        if (derived(p, pl, ids->ssid))
            why = "Wi-Fi passphrase is derived from the SSID";
        else if (derived(p, pl, ids->serial))
            why = "Wi-Fi passphrase is derived from the serial number";
        else if (derived(p, pl, ids->mac) || (ml >= 6 && contains(p, pl, m + ml - 6, 6)))
            why = "Wi-Fi passphrase is derived from the MAC address";
        else if (derived(p, pl, ids->hostname))
            why = "Wi-Fi passphrase is derived from the host name";
    }
    fs38_wipe(p, sizeof p);
    return why ? refuse(rule, FS38_WL_PSK_DERIVED, diag, why) : accept(rule);
}

fs38_err fs38_wifi_check(const fs38_wifi_config *w, fs38_wl_rule *rule, fs38_diag *diag)
{
    if (!w)
        return fs38_diag_set(diag, FS38_ERR_ARG, "wireless: no Wi-Fi configuration");
    fs38_err e = fs38_wifi_security_check(w->security, w->tkip, w->wps, w->pmf, rule, diag);
    if (e != FS38_OK)
        return e;
    if (!w->psk || !w->psk_len)
        return fs38_diag_set(diag, FS38_ERR_ARG, "wireless: a %s network needs a passphrase",
                             fs38_wifi_security_name(w->security));
    return fs38_wifi_passphrase_check(w->psk, w->psk_len, &w->ids, rule, diag);
}

fs38_err fs38_bt_check(const fs38_bt_config *bt, fs38_wl_rule *rule, fs38_diag *diag)
{
    if (!bt || (unsigned)bt->pairing > FS38_BT_BREDR_LEGACY || (unsigned)bt->assoc > FS38_BT_JUST_WORKS)
        return fs38_diag_set(diag, FS38_ERR_ARG, "wireless: invalid Bluetooth configuration");
    if (bt->pairing == FS38_BT_BREDR_LEGACY)
        return refuse(rule, FS38_WL_BT_LEGACY, diag,
                      "Bluetooth legacy PIN pairing (Secure Simple Pairing off): Secure Connections only");
    if (bt->pairing == FS38_BT_LE_LEGACY)
        return refuse(rule, FS38_WL_BT_LEGACY, diag,
                      "Bluetooth LE legacy pairing (its key exchange is passively breakable): LE Secure Connections only");
    if (bt->fixed_pin)
        return refuse(rule, FS38_WL_BT_FIXED_PIN, diag, "Bluetooth fixed PIN or passkey: use a fresh passkey per pairing");
    if (bt->mitm_required && bt->assoc == FS38_BT_JUST_WORKS)
        return refuse(rule, FS38_WL_BT_JUST_WORKS, diag,
                      "Bluetooth Just Works pairing where MITM protection is required");
    return accept(rule);
}

fs38_err fs38_wireless_check(const fs38_wireless_config *c, fs38_wl_rule *rule, fs38_diag *diag)
{
    if (!c || (!c->wifi && !c->bt))
        return fs38_diag_set(diag, FS38_ERR_ARG, "wireless: nothing to check");
    if (c->wifi) {
        fs38_err e = fs38_wifi_check(c->wifi, rule, diag);
        if (e != FS38_OK)
            return e;
    }
    if (c->bt)
        return fs38_bt_check(c->bt, rule, diag);
    return accept(rule);
}
