/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs38/suit.h — SUIT manifest processing (draft-ietf-suit-manifest), algorithm profile
 * suit-sha256-esp256-ecdh-a128ctr (draft-ietf-suit-mti).
 *
 * Two steps, in this order (draft §6.2 "Required Checks"):
 *
 *   1. fs38_suit_authenticate(): walks the envelope map only far enough to find its members,
 *      verifies the COSE_Sign1 / COSE_Mac0 of the authentication wrapper against the keyring,
 *      then checks SHA-256 over the bstr-wrapped manifest against the authenticated digest —
 *      all before a single manifest byte is interpreted. Only then is the manifest decoded
 *      (version, sequence number, components, command sequences) and every severable member
 *      present in the envelope checked against the digest the manifest holds for it.
 *      An envelope without a COSE block in its authentication wrapper is rejected.
 *
 *   2. fs38_suit_run(): executes one command sequence (validate, load, invoke, payload-fetch,
 *      install, dependency-resolution), preceded by the shared sequence, with fresh
 *      parameters. Conditions are evaluated by the library (vendor / class id, image match
 *      through a digest callback, component slot through a callback); directives that touch
 *      storage (fetch, copy, write, invoke) are delegated to the platform's callbacks.
 *      Unknown commands are critical and rejected.
 *
 * Nothing is copied: fs38_suit_manifest points into the caller's envelope buffer, which
 * must stay unchanged while the manifest is used. No allocation; bounded recursion
 * (try-each nesting <= FS38_SUIT_MAX_NESTING).
 *
 * Lifecycle: fs38_suit_authenticate() fills a caller-owned fs38_suit_manifest, then
 * fs38_suit_run() any number of times with a caller-owned fs38_suit_runner. Neither holds a
 * resource (nothing to free). Not thread-safe per runner; a manifest is only read by runs.
 */
#ifndef FS38_SUIT_H
#define FS38_SUIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fs38/cose.h"
#include "fs38/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FS38_SUIT_MAX_COMPONENTS 4
#define FS38_SUIT_MAX_INTEGRATED 4
#define FS38_SUIT_MAX_NESTING 4
#define FS38_SUIT_MAX_AUTH_BLOCKS 4

#define FS38_SUIT_TAG_ENVELOPE 107
#define FS38_SUIT_ALG_SHA256 (-16)

/* Envelope / manifest keys */
enum {
    FS38_SUIT_ENV_DELEGATION = 1,
    FS38_SUIT_ENV_AUTH = 2,
    FS38_SUIT_ENV_MANIFEST = 3,

    FS38_SUIT_MAN_VERSION = 1,
    FS38_SUIT_MAN_SEQUENCE = 2,
    FS38_SUIT_MAN_COMMON = 3,
    FS38_SUIT_MAN_REFERENCE_URI = 4,
    FS38_SUIT_MAN_COMPONENT_ID = 5,
    FS38_SUIT_MAN_TEXT = 23,

    FS38_SUIT_COMMON_DEPENDENCIES = 1,
    FS38_SUIT_COMMON_COMPONENTS = 2,
    FS38_SUIT_COMMON_SHARED_SEQ = 4
};

/* Command sequences, numbered by their manifest key. */
typedef enum fs38_suit_seq {
    FS38_SUIT_SEQ_VALIDATE = 7,
    FS38_SUIT_SEQ_LOAD = 8,
    FS38_SUIT_SEQ_INVOKE = 9,
    FS38_SUIT_SEQ_DEPENDENCY_RESOLUTION = 15,
    FS38_SUIT_SEQ_PAYLOAD_FETCH = 16,
    FS38_SUIT_SEQ_INSTALL = 20
} fs38_suit_seq;

/* Commands */
enum {
    FS38_SUIT_COND_VENDOR_ID = 1,
    FS38_SUIT_COND_CLASS_ID = 2,
    FS38_SUIT_COND_IMAGE_MATCH = 3,
    FS38_SUIT_COND_COMPONENT_SLOT = 5,
    FS38_SUIT_COND_CHECK_CONTENT = 6,
    FS38_SUIT_COND_DEPENDENCY_INTEGRITY = 7,
    FS38_SUIT_COND_IS_DEPENDENCY = 8,
    FS38_SUIT_DIR_PROCESS_DEPENDENCY = 11,
    FS38_SUIT_DIR_SET_COMPONENT_INDEX = 12,
    FS38_SUIT_COND_ABORT = 14,
    FS38_SUIT_DIR_TRY_EACH = 15,
    FS38_SUIT_DIR_WRITE = 18,
    FS38_SUIT_DIR_SET_PARAMETERS = 19,
    FS38_SUIT_DIR_OVERRIDE_PARAMETERS = 20,
    FS38_SUIT_DIR_FETCH = 21,
    FS38_SUIT_DIR_COPY = 22,
    FS38_SUIT_DIR_INVOKE = 23,
    FS38_SUIT_COND_DEVICE_ID = 24,
    FS38_SUIT_DIR_SWAP = 31,
    FS38_SUIT_DIR_RUN_SEQUENCE = 32
};

/* Parameters */
enum {
    FS38_SUIT_PARAM_VENDOR_ID = 1,
    FS38_SUIT_PARAM_CLASS_ID = 2,
    FS38_SUIT_PARAM_IMAGE_DIGEST = 3,
    FS38_SUIT_PARAM_COMPONENT_SLOT = 5,
    FS38_SUIT_PARAM_STRICT_ORDER = 12,
    FS38_SUIT_PARAM_SOFT_FAILURE = 13,
    FS38_SUIT_PARAM_IMAGE_SIZE = 14,
    FS38_SUIT_PARAM_CONTENT = 18,
    FS38_SUIT_PARAM_ENCRYPTION_INFO = 19,
    FS38_SUIT_PARAM_URI = 21,
    FS38_SUIT_PARAM_SOURCE_COMPONENT = 22,
    FS38_SUIT_PARAM_INVOKE_ARGS = 23,
    FS38_SUIT_PARAM_DEVICE_ID = 24
};

/* A byte span inside the envelope. */
typedef struct fs38_span {
    const uint8_t *p;
    size_t len;
} fs38_span;

/* State of a severable (or plain) manifest member. */
typedef enum fs38_member_state {
    FS38_MEMBER_ABSENT = 0,  /* neither in the manifest nor severed */
    FS38_MEMBER_PRESENT,     /* in the manifest, or severed and present with a matching digest */
    FS38_MEMBER_SEVERED      /* severed: the manifest holds its digest, the envelope lacks it */
} fs38_member_state;

typedef struct fs38_suit_member {
    fs38_member_state state;
    fs38_span body;          /* the bstr content: a command sequence (or text map) */
    uint8_t digest[32];      /* for severable members: the digest the manifest holds */
    bool severable;          /* the manifest held a digest, not the member */
} fs38_suit_member;

typedef struct fs38_suit_manifest {
    /* envelope */
    fs38_span auth;                  /* authentication wrapper content */
    fs38_span manifest;              /* manifest bstr content */
    fs38_span manifest_wrapped;      /* manifest bstr including its CBOR head */
    uint8_t manifest_digest[32];
    struct { fs38_span name; fs38_span data; } integrated[FS38_SUIT_MAX_INTEGRATED];
    size_t n_integrated;

    /* authentication */
    bool authenticated;
    int64_t auth_alg;                /* -7, -9 or 5 */
    size_t signer;                   /* keyring index */
    uint8_t signer_kid[FS38_KID_LEN];
    bool signer_is_mac;

    /* manifest */
    uint64_t version;
    uint64_t sequence;
    fs38_span reference_uri;
    fs38_span manifest_component_id;
    fs38_span components[FS38_SUIT_MAX_COMPONENTS]; /* each: the encoded component id array */
    size_t n_components;
    fs38_span shared_seq;
    fs38_span dependencies;          /* parsed no further (dependencies are not processed) */
    fs38_suit_member validate, load, invoke, dependency_resolution, payload_fetch, install, text;
} fs38_suit_manifest;

/**
 * \brief Authenticate an envelope and decode its manifest (step 1).
 *
 * \param[out] m       Zeroed, then filled. Every span in it points into env: env must stay
 *                     valid and unchanged as long as m (or a runner using it) is used.
 *                     m->authenticated is true only on FS38_OK.
 * \param[in]  env     The envelope (tag 107 optional), env_len bytes.
 * \param[in]  env_len Bytes.
 * \param[in]  keys    Trust anchors; read during the call only.
 * \param[out] diag    Cleared, then the diagnostic on failure; may be NULL.
 * \return FS38_OK; FS38_ERR_ARG when m, env or keys is NULL; FS38_ERR_SUIT_FORMAT for any
 *         structural problem (malformed CBOR of any kind is reported as this, the diag naming
 *         the CBOR error; duplicate or unknown members, missing manifest / version / sequence
 *         / common / components, trailing bytes); FS38_ERR_NO_AUTH (no authentication wrapper,
 *         or no COSE block in it); FS38_ERR_LIMIT (more than FS38_SUIT_MAX_AUTH_BLOCKS blocks,
 *         FS38_SUIT_MAX_COMPONENTS components, FS38_SUIT_MAX_INTEGRATED payloads, or too many
 *         severed members); FS38_ERR_UNSUPPORTED_ALG (digest other than SHA-256, COSE algorithm);
 *         the COSE errors of the first block tried (FS38_ERR_COSE_FORMAT,
 *         FS38_ERR_UNSUPPORTED_PARAM, FS38_ERR_BAD_SIGNATURE, FS38_ERR_UNTRUSTED_SIGNER,
 *         FS38_ERR_BAD_MAC); FS38_ERR_MANIFEST_DIGEST; FS38_ERR_MANIFEST_VERSION;
 *         FS38_ERR_SEVERED_DIGEST (a severed member present with a wrong or no digest);
 *         FS38_ERR_CRYPTO (PSA failure while hashing or verifying).
 */
FS38_NODISCARD fs38_err fs38_suit_authenticate(fs38_suit_manifest *m, const uint8_t *env, size_t env_len,
                                const fs38_keyring *keys, fs38_diag *diag);

/**
 * \brief Anti-rollback check of an authenticated manifest.
 *
 * \param[in]  m         Manifest (must not be NULL).
 * \param[in]  installed The lowest sequence allowed (the anti-rollback counter).
 * \param[out] diag      Diagnostic on failure ("sequence 3 < installed 5"), or NULL.
 * \return FS38_OK when m->sequence >= installed; FS38_ERR_ROLLBACK otherwise.
 */
FS38_NODISCARD fs38_err fs38_suit_check_sequence(const fs38_suit_manifest *m, uint64_t installed, fs38_diag *diag);

/**
 * \brief The member holding a command sequence (or the text member for FS38_SUIT_MAN_TEXT).
 *
 * \param[in] m   Manifest.
 * \param[in] seq A sequence key.
 * \return A pointer into m (valid as long as m), or NULL for a key that names no member.
 */
const fs38_suit_member *fs38_suit_member_of(const fs38_suit_manifest *m, fs38_suit_seq seq);

/**
 * \brief Look up an integrated payload by its envelope text key (e.g. "#firmware").
 *
 * \param[in]  m        Authenticated manifest (must not be NULL).
 * \param[in]  name     The key, name_len bytes (compared exactly; no NUL needed).
 * \param[in]  name_len Bytes.
 * \param[out] out      Must not be NULL; on FS38_OK the payload, a span into the envelope.
 *                      Integrated payloads are not covered by the signature: check them
 *                      against the manifest's image digest before use.
 * \return FS38_OK; FS38_ERR_NOT_FOUND when the envelope has no such payload.
 */
FS38_NODISCARD fs38_err fs38_suit_integrated(const fs38_suit_manifest *m, const char *name, size_t name_len, fs38_span *out);

/* Parameters of one component while a sequence runs. Spans point into the envelope. */
typedef struct fs38_suit_params {
    uint32_t set; /* bit (1 << key) for each parameter that has a value */
    fs38_span vendor_id, class_id, device_id;
    int64_t digest_alg;
    fs38_span digest;            /* digest bytes (after unwrapping the SUIT_Digest) */
    uint64_t image_size;
    uint64_t component_slot;
    fs38_span content, encryption_info, uri, invoke_args;
    uint64_t source_component;
    bool strict_order, soft_failure;
} fs38_suit_params;

#define FS38_SUIT_HAS(params, key) (((params)->set >> (key)) & 1u)

/* What a platform callback is asked to act on. */
typedef struct fs38_suit_cmd {
    const fs38_suit_manifest *m;
    unsigned component;          /* component index */
    fs38_span component_id;      /* its encoded id (CBOR array of bstr) */
    const fs38_suit_params *params;
    const fs38_suit_params *source_params; /* copy: parameters of the source component */
    uint64_t reporting_policy;
} fs38_suit_cmd;

/* Platform operations; a NULL entry makes that command unsupported here. */
typedef struct fs38_suit_ops {
    /* SHA-256 of the first c->params->image_size bytes of the component into out (of the
     * whole component when the image-size parameter is not set). Return FS38_ERR_IMAGE_SIZE
     * when the component does not hold an image of that size. */
    fs38_err (*digest)(void *user, const fs38_suit_cmd *c, uint8_t out[32]);
    /* FS38_OK when the component is in slot c->params->component_slot, FS38_ERR_CONDITION if not. */
    fs38_err (*slot)(void *user, const fs38_suit_cmd *c);
    fs38_err (*fetch)(void *user, const fs38_suit_cmd *c);
    fs38_err (*copy)(void *user, const fs38_suit_cmd *c);
    fs38_err (*write)(void *user, const fs38_suit_cmd *c);
    fs38_err (*invoke)(void *user, const fs38_suit_cmd *c);
} fs38_suit_ops;

/* Checks that passed while a sequence ran (per component), so a caller can require them. */
#define FS38_SUIT_CHECKED_VENDOR 0x1u
#define FS38_SUIT_CHECKED_CLASS 0x2u
#define FS38_SUIT_CHECKED_IMAGE 0x4u
#define FS38_SUIT_INVOKED 0x8u
/* condition-component-slot passed: the manifest binds the component to the slot the platform's
 * slot callback is asked about (draft-ietf-suit-manifest, suit-condition-component-slot with
 * suit-parameter-component-slot). Images linked for an address (execute in place) need it. */
#define FS38_SUIT_CHECKED_SLOT 0x10u

/* The device's identity as conditions see it, and the interpreter's state. */
typedef struct fs38_suit_runner {
    const uint8_t *vendor_id;    /* 16 bytes, or NULL (then vendor conditions fail) */
    const uint8_t *class_id;     /* 16 bytes, or NULL */
    const uint8_t *device_id;    /* 16 bytes, or NULL */
    const fs38_suit_ops *ops;
    void *user;
    /* state (set by fs38_suit_run) */
    fs38_suit_params params[FS38_SUIT_MAX_COMPONENTS];
    uint32_t selected;           /* bitmask of current component indices */
    uint32_t checked[FS38_SUIT_MAX_COMPONENTS];
    unsigned nesting;
} fs38_suit_runner;

/**
 * \brief Run the shared sequence and then sequence `seq` of an authenticated manifest, with
 *        fresh parameters, component 0 selected.
 *
 * \param[in,out] r    Runner: the caller sets vendor_id / class_id / device_id, ops and user
 *                     (kept only for the call); params, selected, checked and nesting are
 *                     reset and then written. r->checked[] tells which checks passed, also
 *                     after a failure. Parameter spans point into the envelope.
 * \param[in]     m    Manifest from a successful fs38_suit_authenticate() (its envelope still
 *                     in place).
 * \param[in]     seq  The sequence to run.
 * \param[out]    diag Cleared, then the diagnostic on failure; may be NULL.
 * \return FS38_OK; FS38_ERR_ARG when r or m is NULL or seq is not a command sequence;
 *         FS38_ERR_STATE when m is not authenticated; FS38_ERR_NOT_FOUND when the manifest has
 *         no such sequence; FS38_ERR_SEVERED_MISSING when it is severed and not supplied;
 *         FS38_ERR_SUIT_FORMAT (malformed sequence, parameter or component index);
 *         FS38_ERR_UNSUPPORTED_COMMAND (unknown command, or a command whose ops entry is NULL);
 *         FS38_ERR_UNSUPPORTED_PARAM; FS38_ERR_UNSUPPORTED_ALG (image digest algorithm);
 *         FS38_ERR_COMPONENT (component index out of range); FS38_ERR_MISSING_PARAM;
 *         FS38_ERR_LIMIT (try-each / run-sequence nested deeper than FS38_SUIT_MAX_NESTING);
 *         condition failures FS38_ERR_VENDOR_ID, FS38_ERR_CLASS_ID, FS38_ERR_IMAGE_DIGEST,
 *         FS38_ERR_IMAGE_SIZE, FS38_ERR_CONDITION; and any code a platform callback (r->ops)
 *         returns, passed through unchanged.
 */
FS38_NODISCARD fs38_err fs38_suit_run(fs38_suit_runner *r, const fs38_suit_manifest *m, fs38_suit_seq seq, fs38_diag *diag);

/**
 * \brief Name of a command code ("condition-image-match"), for diagnostics and dumps.
 * \param[in] code A command code.
 * \return A static string, or NULL when unknown.
 */
const char *fs38_suit_command_name(int64_t code);
/**
 * \brief Name of a parameter key ("image-digest").
 * \param[in] key A parameter key.
 * \return A static string, or NULL when unknown.
 */
const char *fs38_suit_param_name(int64_t key);
/**
 * \brief Name of a manifest member / sequence key ("install").
 * \param[in] key A sequence key.
 * \return A static string, or NULL when unknown.
 */
const char *fs38_suit_seq_name(int64_t key);

#ifdef __cplusplus
}
#endif
#endif /* FS38_SUIT_H */
