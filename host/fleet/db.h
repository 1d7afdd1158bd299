/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db.h — the fleet database's one interface over two engines (inside host/fleet only):
 * SQLite (libsqlite3) for a file path, PostgreSQL (libpq) for a postgresql:// URL.
 * SQL is written once with $1..$N placeholders (rewritten to ?N for SQLite); every parameter and
 * every result cell is text (NULL = SQL NULL): numbers as decimal, bytes as lower-case hex.
 */
#ifndef FS38_HOST_FLEET_DB_H
#define FS38_HOST_FLEET_DB_H

#include <stddef.h>
#include "fleet.h"

typedef struct db_rows {
    size_t nrows, ncols;
    char **cells; /* nrows * ncols malloc'd strings (NULL for SQL NULL) */
} db_rows;

/* A statement without a result. 0 or -1 (printed, with the engine's message). */
int db_exec(fleet_db *db, const char *sql, int n, const char *const *params);
/* A query: rows in *out (free with db_rows_free). 0 or -1 (printed). */
int db_query(fleet_db *db, const char *sql, int n, const char *const *params, db_rows *out);
void db_rows_free(db_rows *r);
/* One cell (NULL for SQL NULL or out of range). */
const char *db_cell(const db_rows *r, size_t row, size_t col);

/* Transactions: begin takes the write lock at once on SQLite (BEGIN IMMEDIATE, waiting for other
 * processes), a plain BEGIN on PostgreSQL (rows are locked with db_for_update()). */
int db_begin(fleet_db *db);
int db_commit(fleet_db *db);
void db_rollback(fleet_db *db);
/* " FOR UPDATE" on PostgreSQL, "" on SQLite (whose transaction already holds the write lock). */
const char *db_for_update(const fleet_db *db);

#endif
