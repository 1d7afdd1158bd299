/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/wireless.h — wireless policy (control 10): a Wi-Fi or Bluetooth configuration is
 * checked before the device applies it.
 *
 * Refused (each rule has a code, fs38_wl_rule, and a one-line reason in the diagnostic):
 *   Wi-Fi   open networks (and OWE, unauthenticated "enhanced open"), WEP, WPA1, TKIP as a
 *           cipher, WPS, WPA3-SAE without protected management frames (PMF) required;
 *           passphrases (WPA2-PSK and SAE) that are shorter than FS38_WL_PSK_MIN characters,
 *           longer than 63, hold a character outside printable ASCII, are on the common-password
 *           lists (fs38/auth.h: the Mirai list and the common list), are digits only (serial- or
 *           date-like), or are derived from the SSID, the device's serial number, MAC address or
 *           host name (the identifier, letters folded and separators dropped, of at least 4
 *           characters, appears in the passphrase folded the same way; for a MAC address also its
 *           last 6 hex digits, the usual factory default). A raw 256-bit PSK (64 hex digits) is
 *           accepted as it is (no passphrase rule applies to it).
 *   Bluetooth legacy pairing (BR/EDR PIN pairing without Secure Simple Pairing, LE legacy
 *           pairing: anything but Secure Connections), Just Works when MITM protection is
 *           required, a fixed PIN or passkey.
 * Accepted: WPA3-SAE with PMF required, WPA2-PSK (AES-CCMP only, PMF optional or required) with
 * a passphrase that passes every rule, LE Secure Connections (with numeric comparison or
 * passkey entry when MITM protection is required).
 *
 * The same functions back the firmware assessor's control-10 checks (host/audit/check_config.c,
 * rules FS38-10.1..10.4), so the device and the assessor share one implementation.
 *
 * Lifecycle: none (pure functions on caller-owned configurations; no state, thread-safe).
 */
#ifndef FS38_WIRELESS_H
#define FS38_WIRELESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fs38/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FS38_WL_PSK_MIN 12u   /* shortest passphrase accepted (WPA2 itself allows 8) */
#define FS38_WL_PSK_MAX 63u   /* longest passphrase (IEEE 802.11); 64 hex digits = raw PSK */
#define FS38_WL_SSID_MAX 32u  /* bytes (IEEE 802.11) */

/* The rule a configuration broke (0: none). */
typedef enum fs38_wl_rule {
    FS38_WL_OK = 0,
    FS38_WL_OPEN = 1,           /* no encryption, or OWE (unauthenticated) */
    FS38_WL_WEP = 2,
    FS38_WL_WPA1 = 3,           /* WPA (version 1) allowed */
    FS38_WL_TKIP = 4,           /* TKIP allowed as a cipher */
    FS38_WL_WPS = 5,            /* Wi-Fi Protected Setup enabled */
    FS38_WL_PMF = 6,            /* WPA3-SAE without PMF required */
    FS38_WL_PSK_SHORT = 7,      /* shorter than FS38_WL_PSK_MIN */
    FS38_WL_PSK_INVALID = 8,    /* longer than 63 (and not 64 hex digits), or not printable ASCII */
    FS38_WL_PSK_LISTED = 9,     /* on a common-password list */
    FS38_WL_PSK_DIGITS = 10,    /* digits only */
    FS38_WL_PSK_DERIVED = 11,   /* derived from the SSID, serial number, MAC address or host name */
    FS38_WL_BT_LEGACY = 12,     /* legacy pairing (no Secure Connections) */
    FS38_WL_BT_JUST_WORKS = 13, /* Just Works although MITM protection is required */
    FS38_WL_BT_FIXED_PIN = 14   /* a fixed PIN / passkey */
} fs38_wl_rule;

typedef enum fs38_wifi_security {
    FS38_WIFI_OPEN = 0,
    FS38_WIFI_OWE = 1,
    FS38_WIFI_WEP = 2,
    FS38_WIFI_WPA1_PSK = 3,    /* WPA1 (or WPA1/WPA2 mixed) */
    FS38_WIFI_WPA2_PSK = 4,
    FS38_WIFI_WPA3_SAE = 5,
    FS38_WIFI_WPA2_WPA3 = 6    /* transition mode: WPA2-PSK and SAE with the same passphrase */
} fs38_wifi_security;

typedef enum fs38_wifi_pmf {
    FS38_PMF_DISABLED = 0,
    FS38_PMF_OPTIONAL = 1,
    FS38_PMF_REQUIRED = 2
} fs38_wifi_pmf;

/* What a passphrase must not be derived from; every member may be NULL (unknown). */
typedef struct fs38_wl_ids {
    const char *ssid;     /* NUL-terminated */
    const char *serial;   /* the device's serial number */
    const char *mac;      /* "aa:bb:cc:dd:ee:ff" (any separators) */
    const char *hostname;
} fs38_wl_ids;

typedef struct fs38_wifi_config {
    fs38_wifi_security security;
    bool tkip;              /* TKIP allowed as a (pairwise or group) cipher */
    bool wps;               /* WPS (push button or PIN) enabled */
    fs38_wifi_pmf pmf;
    const char *psk;        /* passphrase or 64 hex digits, psk_len bytes (not NUL-terminated
                               necessarily); required unless the security is open / OWE */
    size_t psk_len;
    fs38_wl_ids ids;        /* ids.ssid is the network's SSID */
} fs38_wifi_config;

typedef enum fs38_bt_pairing {
    FS38_BT_SECURE_CONNECTIONS = 0, /* LE Secure Connections / BR/EDR Secure Connections */
    FS38_BT_LE_LEGACY = 1,          /* LE legacy pairing */
    FS38_BT_BREDR_LEGACY = 2        /* BR/EDR PIN pairing (Secure Simple Pairing off) */
} fs38_bt_pairing;

typedef enum fs38_bt_assoc {
    FS38_BT_NUMERIC_COMPARISON = 0,
    FS38_BT_PASSKEY_ENTRY = 1,
    FS38_BT_OUT_OF_BAND = 2,
    FS38_BT_JUST_WORKS = 3
} fs38_bt_assoc;

typedef struct fs38_bt_config {
    fs38_bt_pairing pairing;
    fs38_bt_assoc assoc;    /* association model the device allows (the weakest one) */
    bool mitm_required;     /* the service needs MITM protection (authenticated pairing) */
    bool fixed_pin;         /* a fixed PIN or static passkey (printed on a label, in firmware) */
} fs38_bt_config;

/* A configuration to check: Wi-Fi, Bluetooth, or both (NULL: not configured). */
typedef struct fs38_wireless_config {
    const fs38_wifi_config *wifi;
    const fs38_bt_config *bt;
} fs38_wireless_config;

/**
 * \brief Check a whole wireless configuration (Wi-Fi, then Bluetooth) before applying it.
 *
 * \param[in]  c    Configuration (read during the call only).
 * \param[out] rule The first rule broken, FS38_WL_OK when accepted; may be NULL.
 * \param[out] diag Why it was refused ("Wi-Fi passphrase is on a common-password list"); never
 *                  contains the passphrase. May be NULL.
 * \return FS38_OK when accepted; FS38_ERR_POLICY when a rule refuses it; FS38_ERR_ARG when c is
 *         NULL, neither part is set, or an enum is out of range.
 */
FS38_NODISCARD fs38_err fs38_wireless_check(const fs38_wireless_config *c, fs38_wl_rule *rule, fs38_diag *diag);

/**
 * \brief The Wi-Fi rules on one configuration (security mode, ciphers, WPS, PMF, passphrase).
 * \param[in]  w    Configuration.
 * \param[out] rule First rule broken, or FS38_WL_OK; may be NULL.
 * \param[out] diag Reason (never the passphrase), or NULL.
 * \return FS38_OK; FS38_ERR_POLICY; FS38_ERR_ARG (w NULL, enum out of range, psk NULL with a
 *         length, or no passphrase for a protected network).
 */
FS38_NODISCARD fs38_err fs38_wifi_check(const fs38_wifi_config *w, fs38_wl_rule *rule, fs38_diag *diag);

/**
 * \brief The security-mode rules only (open, OWE, WEP, WPA1, TKIP, WPS, PMF), for callers that
 *        see one setting at a time (the firmware assessor reading a configuration file).
 * \param[in]  security Security mode.
 * \param[in]  tkip     TKIP allowed.
 * \param[in]  wps      WPS enabled.
 * \param[in]  pmf      PMF setting (only WPA3-SAE requires FS38_PMF_REQUIRED).
 * \param[out] rule     First rule broken, or FS38_WL_OK; may be NULL.
 * \param[out] diag     Reason, or NULL.
 * \return FS38_OK; FS38_ERR_POLICY; FS38_ERR_ARG (enum out of range).
 */
FS38_NODISCARD fs38_err fs38_wifi_security_check(fs38_wifi_security security, bool tkip, bool wps, fs38_wifi_pmf pmf,
                                                 fs38_wl_rule *rule, fs38_diag *diag);

/**
 * \brief The passphrase rules only (length, characters, lists, digits only, derived from ids).
 * \param[in]  psk  len bytes (need not be NUL-terminated; never copied, never printed).
 * \param[in]  len  Bytes.
 * \param[in]  ids  Identifiers the passphrase must not be derived from, or NULL.
 * \param[out] rule First rule broken, or FS38_WL_OK; may be NULL.
 * \param[out] diag Reason (never the passphrase), or NULL.
 * \return FS38_OK (also for a raw PSK of 64 hex digits); FS38_ERR_POLICY; FS38_ERR_ARG when psk
 *         is NULL with len > 0.
 */
FS38_NODISCARD fs38_err fs38_wifi_passphrase_check(const char *psk, size_t len, const fs38_wl_ids *ids,
                                                   fs38_wl_rule *rule, fs38_diag *diag);

/**
 * \brief The Bluetooth rules (legacy pairing, Just Works with MITM required, fixed PIN).
 * \param[in]  bt   Configuration.
 * \param[out] rule First rule broken, or FS38_WL_OK; may be NULL.
 * \param[out] diag Reason, or NULL.
 * \return FS38_OK; FS38_ERR_POLICY; FS38_ERR_ARG (bt NULL, enum out of range).
 */
FS38_NODISCARD fs38_err fs38_bt_check(const fs38_bt_config *bt, fs38_wl_rule *rule, fs38_diag *diag);

/**
 * \brief Name of a rule.
 * \param[in] r A rule.
 * \return A static string ("psk-listed", "bt-just-works", ...; "ok"; "unknown"), never NULL.
 */
const char *fs38_wl_rule_name(fs38_wl_rule r);

/**
 * \brief Name of a Wi-Fi security mode.
 * \param[in] s A mode.
 * \return "open", "owe", "wep", "wpa1-psk", "wpa2-psk", "wpa3-sae", "wpa2-wpa3" or "unknown".
 */
const char *fs38_wifi_security_name(fs38_wifi_security s);

#ifdef __cplusplus
}
#endif
#endif /* FS38_WIRELESS_H */
