/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/fs38.h — the whole libfs38 API in one include, and the conventions every header follows.
 *
 * Naming: fs38_<module>_<verb> (fs38_store_put, fs38_boot_select), types fs38_<module>[_...],
 * macros FS38_<MODULE>_... . A few helpers predate this: see "Exceptions" below.
 *
 * Errors: every call that can fail returns fs38_err (fs38/err.h: FS38_OK = 0, negative codes)
 * and is marked FS38_NODISCARD. Each function's comment lists EVERY code it can return,
 * including those passed on from what it calls (the port's flash / counter callbacks: on POSIX
 * FS38_ERR_IO and FS38_ERR_POWER). Rejections also fill an fs38_diag — a context's own, or an
 * `fs38_diag *` argument that may be NULL — with one line saying what failed and where. A
 * diagnostic never contains a key, a password or any other secret. Bad input changes nothing.
 *
 * Ownership: contexts are caller-owned structs (static, stack or embedded; their fields are the
 * implementation's); the library never allocates. A pointer a context keeps (port, keyring,
 * store, configuration members) must outlive the context. Spans and pointers a call returns
 * (fs38_span, CBOR strings, fs38_cose_info.payload, decoded encryption-info fields) point into
 * the caller's input buffer: valid as long as that buffer is, unchanged. Secrets (key bytes,
 * plaintext copies) are wiped before a call returns; keys live in PSA (Mbed TLS 3.6) as key ids.
 * The exceptions are the key bytes a context must keep to evolve them — the security log's
 * epoch key (fs38_log) and the log verifier's keys (fs38_log_verifier) — wiped by
 * fs38_log_close / fs38_log_verify_free, and the secrets a call hands to its caller (k_0 from
 * fs38_log_create, a setup credential, a normalised password), which the caller wipes.
 * Unless a comment says "may be NULL", pointer arguments must not be NULL.
 *
 * Lifecycle verbs (a context's start / end):
 *   verb pair                     for                                   contexts today
 *   _init / _free                 in-RAM contexts holding PSA keys      fs38_keyring (_init,_free),
 *                                 or PSA operations                      fs38_log_verifier
 *                                                                        (fs38_log_verify_init, _free)
 *   _open / _close                contexts bound to flash state         fs38_store, fs38_log
 *                                                                        (fs38_log_create formats + opens)
 *   _begin / _finish / _abort     multi-step operations                 fs38_update_ctx; fs38_decryptor
 *                                                                        (fs38_decrypt_begin)
 *   _init only                    contexts holding no resource          fs38_boot_ctx, fs38_identity,
 *                                                                        fs38_auth, fs38_cbor_dec/_enc
 *   none                          per-call working memory               fs38_attest_ctx,
 *                                                                        fs38_decommission_ctx
 * A context that holds a resource (PSA key or operation) must be ended on every path; the end
 * calls accept a context that is already ended or whose start failed (all but
 * fs38_decrypt_abort also accept NULL).
 *
 * Getters: fs38_<module>_<noun> fills caller buffers (fs38_identity_ueid, fs38_identity_cert,
 * fs38_store_get): variable-length ones take (buf, cap, *len), return FS38_ERR_BUFFER with *len
 * set when cap is too small. A snapshot of a context's state is fs38_<module>_info_get
 * (fs38_log_info_get).
 *
 * Threads: no context is thread-safe, and the event sink (fs38/event.h) and the PSA ITS binding
 * (fs38_its_bind) are process-global. Distinct contexts on distinct flash regions are
 * independent; everything touching one device's flash and counters must be serialised — see
 * fs38/port.h for the port's lock.
 *
 * Exceptions to the naming (kept for compatibility): fs38_attest, fs38_decommission,
 * fs38_event (module without verb); fs38_wipe, fs38_ct_compare, fs38_sha256, fs38_key_id,
 * fs38_esdh_kek, fs38_version, fs38_strerror, fs38_password_listed, fs38_passwords_* (no
 * module); fs38_slot_program (boot.h), fs38_its_bind (store.h), fs38_eat_* (attest.h), fs38_receipt_*
 * (decommission.h), fs38_logv_name (log.h).
 */
#ifndef FS38_FS38_H
#define FS38_FS38_H

#include "fs38/err.h"
#include "fs38/util.h"
#include "fs38/port.h"
#include "fs38/keys.h"
#include "fs38/event.h"
#include "fs38/cbor.h"
#include "fs38/cose.h"
#include "fs38/suit.h"
#include "fs38/decrypt.h"
#include "fs38/bootstate.h"
#include "fs38/boot.h"
#include "fs38/update.h"
#include "fs38/store.h"
#include "fs38/identity.h"
#include "fs38/auth.h"
#include "fs38/attest.h"
#include "fs38/decommission.h"
#include "fs38/log.h"
#include "fs38/net.h"
#include "fs38/channel.h"
#include "fs38/coap.h"
#include "fs38/mqtt.h"
#include "fs38/privacy.h"
#include "fs38/wireless.h"

#endif /* FS38_FS38_H */
