/* SPDX-License-Identifier: Apache-2.0 */
/*
 * suit_dump.h — decode SUIT manifest pieces for display (fs38 inspect) without trusting
 * them: every decode is bounded by the CBOR decoder; anything unexpected is shown in CBOR
 * diagnostic notation or reported as malformed, never assumed.
 */
#ifndef FS38_TOOLS_SUIT_DUMP_H
#define FS38_TOOLS_SUIT_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emit.h"
#include "fs38/cbor.h"

typedef struct dumper {
    emit *e;
    bool bad; /* something was malformed */
} dumper;

/* One item in CBOR diagnostic notation (bounded: long strings / deep nesting abbreviated). */
fs38_err dump_diag(fs38_cbor_dec *d, char *out, size_t cap);
/* A SUIT_Digest ([alg, bstr]) encoding as "sha256:hex"; falls back to diagnostic notation. */
void dump_digest_text(const uint8_t *p, size_t len, char *out, size_t cap);
/* A component id (array of bstr) as ['firmware'] / [h'00']; out in diagnostic style. */
void dump_component_id(const uint8_t *p, size_t len, char *out, size_t cap);
/* A command sequence (the bstr content), commands one per line; try-each nests. */
void dump_commands(dumper *dp, const uint8_t *p, size_t len, unsigned depth);
/* A text member (SUIT_Text_Map). */
void dump_text(dumper *dp, const uint8_t *p, size_t len);
/* Name of a COSE algorithm ("ES256", "ESP256", "HMAC256"), or NULL. */
const char *dump_alg_name(int64_t alg);

/*
 * The first vendor-id / class-id (16-byte) parameter values a command sequence sets
 * (looking into try-each alternatives). Pointers into p; left unchanged when not found.
 */
void suit_find_ids(const uint8_t *p, size_t len, const uint8_t **vendor, const uint8_t **class_id);

#endif
