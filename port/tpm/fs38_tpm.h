/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38_tpm.h — a TPM 2.0 behind fs38's seams (controls 6, 8): the device key as a TPM object
 * (fs38/keys.h), the sealing root and the monotonic counters behind fs38_port's hardware_key and
 * counter_read / counter_advance (fs38/port.h). Host / device-side code over the TSS2 ESAPI
 * (Debian libtss2-dev): libfs38's core never links tss2. Used by fs38-device (--tpm TCTI) and
 * bench/tpm.c; tested against swtpm (tests/cli/tpm.sh).
 *
 * Objects (all under the owner hierarchy, empty auth values; docs/secure-elements.md):
 *   FS38_TPM_H_IDENTITY  persistent ECC P-256 signing key (ECDSA SHA-256), a primary key with a
 *                        random unique field (so every provisioning makes a new key), attributes
 *                        fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | sign | noDA:
 *                        the private key never leaves the TPM. Created at provisioning
 *                        (CreatePrimary + EvictControl), evicted at decommissioning.
 *   FS38_TPM_H_SEALING   persistent KEYEDHASH HMAC-SHA-256 key, same attributes: the sealing
 *                        root is TPM2_HMAC(key, "fs38 sealing root v1"). Created at init.
 *   FS38_TPM_NV_COUNTER + i (i = fs38_counter_id) NV counters (TPM_NT_COUNTER, 8 bytes, owner
 *                        and auth read/write, noDA): they only go up (TPM2_NV_Increment), and a
 *                        counter defined again after an undefine starts above the highest value
 *                        the TPM's deleted counters reached. Defined at init. Except
 *                        FS38_COUNTER_STORE: the sealed store advances it in jumps of 2^32 (level
 *                        << 32 | reservations), so it is an ordinary 8-byte NV index (TPM_NT_ORDINARY)
 *                        that fs38 only writes upwards (TPM2_NV_Write, atomic); the TPM keeps it out
 *                        of the flash an attacker replays, but does not itself forbid a lower write
 *                        by someone holding the owner / index authorisation.
 *
 * Counter values. A TPM counter starts at an arbitrary value (the TPM's highest deleted counter
 * + 1), so init increments each once and records that value as its base; the port's value is
 * TPM value - base. The bases are kept in the device's state next to the TCTI (they are fixed for
 * the device's life: replaying an older copy of that file restores the same bases; a base from
 * an earlier init is lower, so the counters read higher, never lower). counter_advance(v) sends
 * one TPM2_NV_Increment per step: a jump of more than FS38_TPM_STEP_MAX steps is refused
 * (FS38_ERR_LIMIT) — firmware sequence numbers go up by small steps on a TPM device.
 *
 * Errors: the TPM not answering (connection refused or lost, swtpm killed) is FS38_ERR_IO with
 * the TSS's message in fs38_tpm.diag; an absent object FS38_ERR_NOT_FOUND; any other TPM refusal
 * FS38_ERR_CRYPTO. No call leaves a half-made object: creation is CreatePrimary (transient) then
 * EvictControl (the commit point), the transient object is flushed on every path.
 *
 * Lifecycle: fs38_tpm_open → calls → fs38_tpm_close. Not thread-safe. ESAPI allocates.
 */
#ifndef FS38_TPM_H
#define FS38_TPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fs38/err.h"
#include "fs38/keys.h"
#include "fs38/port.h"

#define FS38_TPM_H_IDENTITY 0x81380001u
#define FS38_TPM_H_SEALING 0x81380002u
#define FS38_TPM_NV_COUNTER 0x01380000u
#define FS38_TPM_STEP_MAX 4096u
#define FS38_TPM_SEALING_LABEL "fs38 sealing root v1"
#define FS38_TPM_MAX_OBJECTS (2u + FS38_COUNTER_COUNT)
#define FS38_TPM_CACHE 8u

#define FS38_TPM_NAME_MAX 34u /* a TPM object's name: its nameAlg (2 bytes) + SHA-256 (32) */

typedef struct fs38_tpm {
    void *esys;                         /* ESYS_CONTEXT * */
    void *tcti;                         /* TSS2_TCTI_CONTEXT * */
    uint32_t transient;                 /* ESYS_TR of a transient key made by fs38_tpm_ecdh_key, or 0 */
    uint32_t session;                   /* ESYS_TR of the salted, encrypting HMAC session, or 0 */
    uint8_t salt_name[FS38_TPM_NAME_MAX]; /* the salt key's name recorded at binding ... */
    size_t salt_name_len;                 /* ... its length (0: not checked) */
    uint64_t base[FS38_COUNTER_COUNT];  /* counter bases (fs38_tpm_setup / fs38_tpm_wrap_port) */
    unsigned long commands;             /* TPM commands sent since open (benchmarks) */
    uint32_t cache_handle[FS38_TPM_CACHE]; /* handles looked up on this connection (0: free) */
    uint32_t cache_tr[FS38_TPM_CACHE];     /* their ESYS_TRs */
    fs38_port inner;                    /* the port wrapped by fs38_tpm_wrap_port */
    fs38_diag diag;                     /* why the last call failed */
} fs38_tpm;

/**
 * \brief Connect to a TPM through a TCTI configuration string ("swtpm:host=127.0.0.1,port=2321",
 *        "device:/dev/tpmrm0", "mssim:..."), via the TSS's TCTI loader.
 * \param[out] t    Context (zeroed first).
 * \param[in]  tcti The configuration (not kept).
 * \return FS38_OK; FS38_ERR_ARG (NULL); FS38_ERR_IO when the TPM cannot be reached (t->diag).
 */
FS38_NODISCARD fs38_err fs38_tpm_open(fs38_tpm *t, const char *tcti);
/** \brief Disconnect (flushes a transient key); safe on a closed or zeroed context. */
void fs38_tpm_close(fs38_tpm *t);

/**
 * \brief Make the TPM this device's: remove any fs38 object (identity key, sealing key, the NV
 *        counters) left by an earlier device, create the sealing key, define the NV counters and
 *        increment each once; base[] receives their values (the port reads 0 for each).
 * \return FS38_OK; FS38_ERR_IO; FS38_ERR_CRYPTO (t->diag).
 */
FS38_NODISCARD fs38_err fs38_tpm_setup(fs38_tpm *t, uint64_t base[FS38_COUNTER_COUNT]);

/**
 * \brief The name of the storage key that salts the session in which the sealing root and ECDH
 *        secrets leave the TPM encrypted (an ECC primary of the owner hierarchy: the same key for
 *        the TPM's life unless its owner hierarchy is cleared). Record it when the TPM is bound,
 *        a trusted moment, and hand it back with fs38_tpm_expect_salt_name().
 * \param[in,out] t    Open context.
 * \param[out]    name FS38_TPM_NAME_MAX bytes.
 * \param[out]    len  Its length.
 * \return FS38_OK; FS38_ERR_STATE (not open); FS38_ERR_IO; FS38_ERR_CRYPTO (t->diag).
 */
FS38_NODISCARD fs38_err fs38_tpm_salt_name(fs38_tpm *t, uint8_t name[FS38_TPM_NAME_MAX], size_t *len);
/**
 * \brief The salt key's name recorded at binding: every session start checks the key the TPM
 *        made against it, so that something answering in the TPM's place on the bus, with a key
 *        of its own, cannot read the session's secrets (FS38_ERR_CRYPTO, "not the storage key
 *        recorded when the TPM was bound"). len 0: no check (a binding recorded before fs38
 *        kept the name).
 * \return FS38_OK; FS38_ERR_ARG (NULL t, or len > FS38_TPM_NAME_MAX, or name NULL with len).
 */
FS38_NODISCARD fs38_err fs38_tpm_expect_salt_name(fs38_tpm *t, const uint8_t *name, size_t len);

/**
 * \brief Route port's hardware_key and counters through the TPM: *port is copied into t->inner
 *        and rewritten so its every other callback forwards to the copy (port->ctx becomes t).
 * \param[in,out] t    Open context; must outlive the port's use.
 * \param[in,out] port A filled port (e.g. port/posix's).
 * \param[in]     base The bases recorded by fs38_tpm_setup.
 * \return FS38_OK; FS38_ERR_ARG.
 */
FS38_NODISCARD fs38_err fs38_tpm_wrap_port(fs38_tpm *t, fs38_port *port, const uint64_t base[FS38_COUNTER_COUNT]);

/**
 * \brief The key interface over the persistent object at handle (sign_hash, public_key, ecdh,
 *        derive as the object allows; generate for FS38_TPM_H_IDENTITY; destroy evicts).
 * \param[in]  t      Open context (kept in k->ctx).
 * \param[in]  handle A persistent handle (FS38_TPM_H_*).
 * \param[out] k      Key (ref = handle).
 * \return FS38_OK; FS38_ERR_ARG.
 */
FS38_NODISCARD fs38_err fs38_tpm_key(fs38_tpm *t, uint32_t handle, fs38_key *k);

/**
 * \brief A transient ECC P-256 key-agreement key in the TPM (TPM2_ECDH_ZGen), for benchmarks
 *        and tests: flushed by fs38_tpm_close. k->ref is 0 (no persistent handle).
 * \return FS38_OK; FS38_ERR_IO; FS38_ERR_CRYPTO.
 */
FS38_NODISCARD fs38_err fs38_tpm_ecdh_key(fs38_tpm *t, fs38_key *k);

/**
 * \brief Decommissioning: evict the persistent objects and undefine the NV counters fs38 owns
 *        (the identity key usually went first, through the key interface). The handles removed
 *        (absent ones are skipped) go into removed[] in the order above.
 * \param[out] removed cap entries; n the count.
 * \return FS38_OK; FS38_ERR_IO; FS38_ERR_CRYPTO (t->diag); the objects removed before a failure
 *         are listed.
 */
FS38_NODISCARD fs38_err fs38_tpm_teardown(fs38_tpm *t, uint32_t *removed, size_t cap, size_t *n);

/**
 * \brief Which fs38 objects exist now (persistent handles then NV indices).
 * \return FS38_OK; FS38_ERR_IO (t->diag).
 */
FS38_NODISCARD fs38_err fs38_tpm_objects(fs38_tpm *t, uint32_t *found, size_t cap, size_t *n);

#endif /* FS38_TPM_H */
