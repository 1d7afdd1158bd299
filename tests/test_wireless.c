/* SPDX-License-Identifier: Apache-2.0 */
/* test_wireless.c — control 10 (fs38/wireless.h): every rule refused with its code and reason,
 * and the configurations that pass (WPA3-SAE with PMF, WPA2-PSK with a strong passphrase, LE
 * Secure Connections); the reason never holds the passphrase. */
#include <string.h>
#include "support.h"
#include "fs38/wireless.h"

#define STRONG "k7Qz-Vw9r-Lx2p-Ty4m"

static fs38_wl_rule g_rule;
static fs38_diag g_d;

static fs38_err wifi(fs38_wifi_security sec, bool tkip, bool wps, fs38_wifi_pmf pmf, const char *psk, const char *ssid,
                     const char *serial, const char *mac)
{
    fs38_wifi_config w;
    memset(&w, 0, sizeof w);
    w.security = sec;
    w.tkip = tkip;
    w.wps = wps;
    w.pmf = pmf;
    w.psk = psk;
    w.psk_len = psk ? strlen(psk) : 0;
    w.ids.ssid = ssid;
    w.ids.serial = serial;
    w.ids.mac = mac;
    const fs38_wireless_config c = { &w, NULL };
    fs38_diag_clear(&g_d);
    g_rule = (fs38_wl_rule)99;
    fs38_err e = fs38_wireless_check(&c, &g_rule, &g_d);
    if (psk && strlen(psk) > 8 && e != FS38_OK) /* ("password" is in "common-password list") */
        assert_null(strstr(g_d.msg, psk));       /* never the passphrase */
    return e;
}

static void refused(fs38_err e, fs38_wl_rule rule, const char *why)
{
    assert_int_equal(e, FS38_ERR_POLICY);
    assert_int_equal(g_rule, rule);
    assert_non_null(strstr(g_d.msg, why));
}

static void accepted(fs38_err e)
{
    assert_int_equal(e, FS38_OK);
    assert_int_equal(g_rule, FS38_WL_OK);
}

static void wifi_security_rules(void **state)
{
    (void)state;
    refused(wifi(FS38_WIFI_OPEN, false, false, FS38_PMF_DISABLED, NULL, "Home", NULL, NULL), FS38_WL_OPEN, "open");
    refused(wifi(FS38_WIFI_OWE, false, false, FS38_PMF_REQUIRED, NULL, "Home", NULL, NULL), FS38_WL_OPEN, "OWE");
    refused(wifi(FS38_WIFI_WEP, false, false, FS38_PMF_DISABLED, STRONG, "Home", NULL, NULL), FS38_WL_WEP, "WEP");
    refused(wifi(FS38_WIFI_WPA1_PSK, false, false, FS38_PMF_OPTIONAL, STRONG, "Home", NULL, NULL), FS38_WL_WPA1, "WPA1");
    refused(wifi(FS38_WIFI_WPA2_PSK, true, false, FS38_PMF_OPTIONAL, STRONG, "Home", NULL, NULL), FS38_WL_TKIP, "TKIP");
    refused(wifi(FS38_WIFI_WPA2_PSK, false, true, FS38_PMF_OPTIONAL, STRONG, "Home", NULL, NULL), FS38_WL_WPS, "WPS");
    refused(wifi(FS38_WIFI_WPA3_SAE, false, false, FS38_PMF_OPTIONAL, STRONG, "Home", NULL, NULL), FS38_WL_PMF, "PMF");
    refused(wifi(FS38_WIFI_WPA3_SAE, false, false, FS38_PMF_DISABLED, STRONG, "Home", NULL, NULL), FS38_WL_PMF, "PMF");
    /* the accepted side */
    accepted(wifi(FS38_WIFI_WPA3_SAE, false, false, FS38_PMF_REQUIRED, STRONG, "Home", "01ab", "aa:bb:cc:dd:ee:ff"));
    accepted(wifi(FS38_WIFI_WPA2_PSK, false, false, FS38_PMF_OPTIONAL, STRONG, "Home", NULL, NULL));
    accepted(wifi(FS38_WIFI_WPA2_WPA3, false, false, FS38_PMF_OPTIONAL, STRONG, "Home", NULL, NULL));
    /* a protected network needs a passphrase; invalid enums are argument errors */
    assert_int_equal(wifi(FS38_WIFI_WPA2_PSK, false, false, FS38_PMF_OPTIONAL, NULL, "Home", NULL, NULL), FS38_ERR_ARG);
    assert_int_equal(wifi((fs38_wifi_security)9, false, false, FS38_PMF_OPTIONAL, STRONG, "Home", NULL, NULL), FS38_ERR_ARG);
    assert_int_equal(wifi(FS38_WIFI_WPA2_PSK, false, false, (fs38_wifi_pmf)3, STRONG, "Home", NULL, NULL), FS38_ERR_ARG);
    /* the piecewise checks give the same answers */
    assert_int_equal(fs38_wifi_security_check(FS38_WIFI_WEP, false, false, FS38_PMF_REQUIRED, &g_rule, NULL),
                     FS38_ERR_POLICY);
    assert_int_equal(g_rule, FS38_WL_WEP);
    assert_int_equal(fs38_wifi_security_check(FS38_WIFI_WPA3_SAE, false, false, FS38_PMF_REQUIRED, NULL, NULL), FS38_OK);
}

static fs38_err psk(const char *p)
{
    return wifi(FS38_WIFI_WPA2_PSK, false, false, FS38_PMF_OPTIONAL, p, "HomeNet", "01ac188d9abed2cc65", "00:11:22:a1:b2:c3");
}

static void passphrase_rules(void **state)
{
    (void)state;
    refused(psk("password"), FS38_WL_PSK_LISTED, "common-password list");
    refused(psk("12345678"), FS38_WL_PSK_LISTED, "common-password list");
    refused(psk("PASSWORD"), FS38_WL_PSK_LISTED, "common-password list"); /* letters folded */
    refused(psk("xK9!short"), FS38_WL_PSK_SHORT, "shorter than 12");
    refused(psk("20261206123456"), FS38_WL_PSK_DIGITS, "digits only");
    refused(psk("HomeNet-2024-secure"), FS38_WL_PSK_DERIVED, "SSID");
    refused(psk("homenet!!!!!!!"), FS38_WL_PSK_DERIVED, "SSID");       /* case folded */
    refused(psk("x-01AC188D9ABED2CC65"), FS38_WL_PSK_DERIVED, "serial"); /* case folded */
    refused(psk("wifi-00:11:22:A1:B2:C3"), FS38_WL_PSK_DERIVED, "MAC");
    refused(psk("router-a1b2c3-key"), FS38_WL_PSK_DERIVED, "MAC"); /* the last 6 hex digits */
    char longp[70];
    memset(longp, 'a', 64);
    longp[64] = 0;
    longp[10] = 'Z';
    refused(psk(longp), FS38_WL_PSK_INVALID, "8..63"); /* 64 characters but not hex */
    refused(psk("tab\there-and-long"), FS38_WL_PSK_INVALID, "printable");
    /* accepted: strong, raw 256-bit PSK, an identifier shorter than 4 is not looked for */
    accepted(psk(STRONG));
    accepted(psk("correct horse battery staple"));
    accepted(psk("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"));
    accepted(wifi(FS38_WIFI_WPA2_PSK, false, false, FS38_PMF_OPTIONAL, "lab-correct-horse", "lab", NULL, NULL));
    /* the host name (the assessor's identifier) */
    const fs38_wl_ids ids = { NULL, NULL, NULL, "gateway" };
    assert_int_equal(fs38_wifi_passphrase_check("gateway-secret-1", 16, &ids, &g_rule, &g_d), FS38_ERR_POLICY);
    assert_int_equal(g_rule, FS38_WL_PSK_DERIVED);
    assert_non_null(strstr(g_d.msg, "host name"));
    assert_int_equal(fs38_wifi_passphrase_check(STRONG, strlen(STRONG), NULL, &g_rule, NULL), FS38_OK);
    assert_int_equal(fs38_wifi_passphrase_check(NULL, 3, NULL, &g_rule, NULL), FS38_ERR_ARG);
}

static fs38_err bt(fs38_bt_pairing p, fs38_bt_assoc a, bool mitm, bool pin)
{
    const fs38_bt_config b = { p, a, mitm, pin };
    const fs38_wireless_config c = { NULL, &b };
    fs38_diag_clear(&g_d);
    g_rule = (fs38_wl_rule)99;
    return fs38_wireless_check(&c, &g_rule, &g_d);
}

static void bluetooth_rules(void **state)
{
    (void)state;
    refused(bt(FS38_BT_BREDR_LEGACY, FS38_BT_PASSKEY_ENTRY, false, false), FS38_WL_BT_LEGACY, "legacy PIN");
    refused(bt(FS38_BT_LE_LEGACY, FS38_BT_PASSKEY_ENTRY, false, false), FS38_WL_BT_LEGACY, "LE legacy");
    refused(bt(FS38_BT_SECURE_CONNECTIONS, FS38_BT_JUST_WORKS, true, false), FS38_WL_BT_JUST_WORKS, "Just Works");
    refused(bt(FS38_BT_SECURE_CONNECTIONS, FS38_BT_PASSKEY_ENTRY, true, true), FS38_WL_BT_FIXED_PIN, "fixed PIN");
    accepted(bt(FS38_BT_SECURE_CONNECTIONS, FS38_BT_NUMERIC_COMPARISON, true, false));
    accepted(bt(FS38_BT_SECURE_CONNECTIONS, FS38_BT_PASSKEY_ENTRY, true, false));
    accepted(bt(FS38_BT_SECURE_CONNECTIONS, FS38_BT_OUT_OF_BAND, true, false));
    accepted(bt(FS38_BT_SECURE_CONNECTIONS, FS38_BT_JUST_WORKS, false, false)); /* no MITM needed (a sensor) */
    assert_int_equal(bt((fs38_bt_pairing)5, FS38_BT_JUST_WORKS, false, false), FS38_ERR_ARG);
    assert_int_equal(bt(FS38_BT_SECURE_CONNECTIONS, (fs38_bt_assoc)5, false, false), FS38_ERR_ARG);
}

static void whole_config(void **state)
{
    (void)state;
    fs38_wifi_config w;
    memset(&w, 0, sizeof w);
    w.security = FS38_WIFI_WPA3_SAE;
    w.pmf = FS38_PMF_REQUIRED;
    w.psk = STRONG;
    w.psk_len = strlen(STRONG);
    const fs38_bt_config good = { FS38_BT_SECURE_CONNECTIONS, FS38_BT_NUMERIC_COMPARISON, true, false };
    const fs38_bt_config legacy = { FS38_BT_LE_LEGACY, FS38_BT_NUMERIC_COMPARISON, true, false };
    const fs38_wireless_config both = { &w, &good }, bad_bt = { &w, &legacy }, none = { NULL, NULL };
    assert_int_equal(fs38_wireless_check(&both, &g_rule, NULL), FS38_OK);
    assert_int_equal(fs38_wireless_check(&bad_bt, &g_rule, NULL), FS38_ERR_POLICY);
    assert_int_equal(g_rule, FS38_WL_BT_LEGACY);
    assert_int_equal(fs38_wireless_check(&none, &g_rule, NULL), FS38_ERR_ARG);
    assert_int_equal(fs38_wireless_check(NULL, &g_rule, NULL), FS38_ERR_ARG);
    assert_string_equal(fs38_wl_rule_name(FS38_WL_PSK_LISTED), "psk-listed");
    assert_string_equal(fs38_wl_rule_name((fs38_wl_rule)77), "unknown");
    assert_string_equal(fs38_wifi_security_name(FS38_WIFI_WPA3_SAE), "wpa3-sae");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wifi_security_rules),
        cmocka_unit_test(passphrase_rules),
        cmocka_unit_test(bluetooth_rules),
        cmocka_unit_test(whole_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
