/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emit.h — one tree of output, two renderings: indented human-readable text or JSON.
 *
 * Human rendering: an object/array opened with a title prints the title on its own line and
 * indents what it contains; one opened without a title prints nothing and does not indent.
 * Scalars print as "key: value" (or just the value when key is NULL). Values marked EM_JSON
 * appear only in JSON (for data the human title line already shows).
 * JSON rendering: pretty-printed, keys as given, titles ignored.
 */
#ifndef FS38_TOOLS_EMIT_H
#define FS38_TOOLS_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EMIT_MAX_DEPTH 48

enum { EM_BOTH = 0, EM_JSON = 1, EM_HUMAN = 2 };

typedef struct emit {
    FILE *f;
    bool json;
    int depth;                      /* open containers */
    int indent;                     /* human indentation level */
    bool first[EMIT_MAX_DEPTH];     /* no element yet in container */
    bool is_array[EMIT_MAX_DEPTH];
    bool indented[EMIT_MAX_DEPTH];  /* human: container raised the indentation */
} emit;

void em_init(emit *e, FILE *f, bool json);
/* Open an object / array under key (NULL inside arrays or at top level). title: human line, or NULL. */
void em_obj(emit *e, const char *key, const char *title, ...) __attribute__((format(printf, 3, 4)));
void em_arr(emit *e, const char *key, const char *title, ...) __attribute__((format(printf, 3, 4)));
void em_end(emit *e);
void em_str(emit *e, unsigned vis, const char *key, const char *val);
void em_strn(emit *e, unsigned vis, const char *key, const char *val, size_t len);
void em_strf(emit *e, unsigned vis, const char *key, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void em_u64(emit *e, unsigned vis, const char *key, uint64_t v);
void em_i64(emit *e, unsigned vis, const char *key, int64_t v);
void em_bool(emit *e, unsigned vis, const char *key, bool v);
void em_null(emit *e, unsigned vis, const char *key);
/* A free-form human line at the current indentation (nothing in JSON). */
void em_line(emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Close everything still open and end the output with a newline (JSON). */
void em_finish(emit *e);

/* Append n bytes to out as readable text: printable ASCII kept, others as \xNN (human). */
void em_printable(const uint8_t *p, size_t n, char *out, size_t cap);
/* True when every byte is printable ASCII (and n > 0). */
bool em_is_printable(const uint8_t *p, size_t n);

#endif
