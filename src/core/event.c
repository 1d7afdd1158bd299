/* SPDX-License-Identifier: Apache-2.0 */
/* event.c — the one entry point for security events (control 7). */
#include <stddef.h>
#include "fs38/event.h"

static fs38_event_sink g_sink;
static void *g_user;
static int g_in_sink;

void fs38_event_set_sink(fs38_event_sink sink, void *user)
{
    g_sink = sink;
    g_user = user;
}

void fs38_event(fs38_event_code code, fs38_severity severity, int64_t arg, const char *detail)
{
    if (!g_sink || g_in_sink)
        return; /* no sink, or re-entered from the sink itself */
    fs38_event_rec ev = { code, severity, arg, detail };
    g_in_sink = 1;
    g_sink(g_user, &ev);
    g_in_sink = 0;
}

const char *fs38_event_name(fs38_event_code code)
{
    switch (code) {
    case FS38_EV_BOOT_OK: return "boot-ok";
    case FS38_EV_BOOT_REFUSED: return "boot-refused";
    case FS38_EV_BOOT_NONE: return "boot-none";
    case FS38_EV_BOOT_REVERTED: return "boot-reverted";
    case FS38_EV_UPDATE_BEGIN: return "update-begin";
    case FS38_EV_UPDATE_REJECTED: return "update-rejected";
    case FS38_EV_UPDATE_INSTALLED: return "update-installed";
    case FS38_EV_UPDATE_CONFIRMED: return "update-confirmed";
    case FS38_EV_ROLLBACK_REFUSED: return "rollback-refused";
    case FS38_EV_LOGIN_OK: return "login-ok";
    case FS38_EV_LOGIN_FAILED: return "login-failed";
    case FS38_EV_LOCKOUT: return "lockout";
    case FS38_EV_PASSWORD_CHANGED: return "password-changed";
    case FS38_EV_PASSWORD_REFUSED: return "password-refused";
    case FS38_EV_STORE_ROLLBACK: return "store-rollback";
    case FS38_EV_STORE_CORRUPT: return "store-corrupt";
    case FS38_EV_PROVISIONED: return "provisioned";
    case FS38_EV_ATTESTATION: return "attestation";
    case FS38_EV_DECOMMISSIONED: return "decommissioned";
    case FS38_EV_LOG_CLEARED: return "log-cleared";
    case FS38_EV_LOG_LOST: return "log-lost";
    case FS38_EV_CHANNEL_OPEN: return "channel-open";
    case FS38_EV_CHANNEL_REFUSED: return "channel-refused";
    case FS38_EV_CHANNEL_FAILED: return "channel-failed";
    case FS38_EV_COAP_REFUSED: return "coap-refused";
    case FS38_EV_MQTT_REFUSED: return "mqtt-refused";
    case FS38_EV_CONSENT_GRANTED: return "consent-granted";
    case FS38_EV_CONSENT_REVOKED: return "consent-revoked";
    case FS38_EV_DEBUG_LOCKED: return "debug-locked";
    case FS38_EV_WIRELESS_SET: return "wireless-set";
    case FS38_EV_WIRELESS_REFUSED: return "wireless-refused";
    }
    return "unknown";
}
