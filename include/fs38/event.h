/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/event.h — security events (control 7).
 *
 * Every module reports what an investigator needs through one call, fs38_event(). The
 * events go to one sink the firmware registers at start-up (the security log, typically,
 * see fs38/log.h); with no sink registered they are dropped. The sink is called
 * synchronously and must not call fs38_event() itself.
 *
 * `detail` is a short human-readable text (never a secret: no keys, no passwords); `arg`
 * carries a number that matters for the event (a sequence number, a back-off in seconds,
 * an fs38_err). Both are copied by the sink if it keeps them.
 *
 * Lifecycle: fs38_event_set_sink() once at start-up (before other fs38 calls), NULL to stop.
 * The sink registration is process-global state and not thread-safe: register it before any
 * other thread calls fs38, and serialise fs38 calls (see fs38/port.h): the guard that drops
 * events raised from inside the sink is a plain global, not a lock.
 */
#ifndef FS38_EVENT_H
#define FS38_EVENT_H

#include <stdint.h>
#include "fs38/err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fs38_severity {
    FS38_SEV_EMERGENCY = 0, /* RFC 5424 numbering */
    FS38_SEV_ALERT = 1,
    FS38_SEV_CRITICAL = 2,
    FS38_SEV_ERROR = 3,
    FS38_SEV_WARNING = 4,
    FS38_SEV_NOTICE = 5,
    FS38_SEV_INFO = 6,
    FS38_SEV_DEBUG = 7
} fs38_severity;

typedef enum fs38_event_code {
    FS38_EV_BOOT_OK = 1,           /* arg: slot sequence */
    FS38_EV_BOOT_REFUSED = 2,      /* a slot failed verification; arg: fs38_err */
    FS38_EV_BOOT_NONE = 3,         /* nothing bootable */
    FS38_EV_BOOT_REVERTED = 4,     /* an unconfirmed image was reverted; arg: its sequence */
    FS38_EV_UPDATE_BEGIN = 10,     /* arg: offered sequence */
    FS38_EV_UPDATE_REJECTED = 11,  /* arg: fs38_err */
    FS38_EV_UPDATE_INSTALLED = 12, /* pending, waiting for confirmation; arg: sequence */
    FS38_EV_UPDATE_CONFIRMED = 13, /* committed, anti-rollback counter advanced; arg: sequence */
    FS38_EV_ROLLBACK_REFUSED = 14, /* arg: offered sequence */
    FS38_EV_LOGIN_OK = 20,
    FS38_EV_LOGIN_FAILED = 21,     /* arg: consecutive failures */
    FS38_EV_LOCKOUT = 22,          /* arg: back-off seconds */
    FS38_EV_PASSWORD_CHANGED = 23,
    FS38_EV_PASSWORD_REFUSED = 24,
    FS38_EV_STORE_ROLLBACK = 30,   /* sealed store older than its counter */
    FS38_EV_STORE_CORRUPT = 31,
    FS38_EV_PROVISIONED = 40,
    FS38_EV_ATTESTATION = 41,
    FS38_EV_DECOMMISSIONED = 42,
    FS38_EV_LOG_CLEARED = 50,
    FS38_EV_LOG_LOST = 51,         /* records overwritten before export; arg: count */
    FS38_EV_CHANNEL_OPEN = 60,     /* secure channel established; arg: 0 full handshake, 1 resumed */
    FS38_EV_CHANNEL_REFUSED = 61,  /* handshake or peer authentication failed; arg: fs38_err */
    FS38_EV_CHANNEL_FAILED = 62,   /* an established channel failed (forged/truncated record,
                                      timeout); arg: fs38_err */
    FS38_EV_COAP_REFUSED = 70,     /* a CoAP message refused (malformed, oversized, unexpected);
                                      arg: fs38_err */
    FS38_EV_MQTT_REFUSED = 71,     /* an MQTT packet refused (malformed, oversized, unexpected);
                                      arg: fs38_err */
    FS38_EV_CONSENT_GRANTED = 80,  /* consent for a purpose granted (fs38/privacy.h); detail: the
                                      purpose; arg: version of the notice */
    FS38_EV_CONSENT_REVOKED = 81,  /* consent revoked and the purpose's data erased; detail: the
                                      purpose; arg: version of the notice */
    FS38_EV_DEBUG_LOCKED = 82,     /* the debug ports were locked for good (fs38_port_debug_lock) */
    FS38_EV_WIRELESS_SET = 83,     /* a wireless configuration was accepted and stored; detail:
                                      the security mode (never the passphrase) */
    FS38_EV_WIRELESS_REFUSED = 84  /* a wireless configuration was refused (fs38/wireless.h);
                                      arg: the fs38_wl_rule */
} fs38_event_code;

typedef struct fs38_event_rec {
    fs38_event_code code;
    fs38_severity severity;
    int64_t arg;
    const char *detail; /* NUL-terminated, may be NULL */
} fs38_event_rec;

typedef void (*fs38_event_sink)(void *user, const fs38_event_rec *ev);

/**
 * \brief Register the one sink every event goes to (replacing the previous one).
 *
 * \param[in] sink Called synchronously for each event; NULL drops events from now on.
 * \param[in] user Passed back to sink unchanged; kept (not copied) until the next call, so
 *                 it must stay valid as long as the sink is registered (typically an open
 *                 fs38_log, with fs38_log_sink as the sink).
 */
void fs38_event_set_sink(fs38_event_sink sink, void *user);

/**
 * \brief Report a security event to the registered sink (dropped when there is none, and
 *        when called from inside the sink itself).
 *
 * \param[in] code     What happened.
 * \param[in] severity RFC 5424 severity.
 * \param[in] arg      The number that matters for the event (see fs38_event_code).
 * \param[in] detail   Short NUL-terminated text, or NULL; never a secret. Borrowed for the
 *                     duration of the call only: a sink that keeps it copies it.
 */
void fs38_event(fs38_event_code code, fs38_severity severity, int64_t arg, const char *detail);

/**
 * \brief Name of an event code for logs and exports.
 *
 * \param[in] code An event code.
 * \return A static string ("update-rejected"), or "unknown"; never NULL.
 */
const char *fs38_event_name(fs38_event_code code);

#ifdef __cplusplus
}
#endif
#endif /* FS38_EVENT_H */
