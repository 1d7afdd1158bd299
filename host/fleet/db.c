/* SPDX-License-Identifier: Apache-2.0 */
/* db.c — the fleet database on SQLite or PostgreSQL (db.h): open, schema, exec / query,
 * transactions. */
#include "db.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "host.h"

struct fleet_db {
    bool pg;
    sqlite3 *lite;
    PGconn *conn;
    char *rewrite; /* scratch for $N -> ?N */
    size_t rewrite_cap;
};

/* The same tables on both engines; only the alert id column differs. */
#define SCHEMA_COMMON                                                                                                \
    "CREATE TABLE IF NOT EXISTS fleet_config(key TEXT PRIMARY KEY, value TEXT NOT NULL);"                          \
    "CREATE TABLE IF NOT EXISTS fleet_devices(ueid TEXT PRIMARY KEY, cert_pem TEXT NOT NULL, class_id TEXT,"      \
    " k0_enc TEXT NOT NULL, next_seq BIGINT NOT NULL DEFAULT 0, epoch BIGINT NOT NULL DEFAULT 0,"                 \
    " head TEXT NOT NULL, records BIGINT NOT NULL DEFAULT 0, fw_seq BIGINT,"                                       \
    " fw_state TEXT NOT NULL DEFAULT 'unknown', fw_running BIGINT, enrolled_at BIGINT NOT NULL,"                   \
    " attested_at BIGINT, attestation TEXT, last_digest TEXT);"                                                                      \
    "CREATE TABLE IF NOT EXISTS fleet_records(ueid TEXT NOT NULL, seq BIGINT NOT NULL, kind INTEGER NOT NULL,"     \
    " epoch BIGINT NOT NULL, code BIGINT, arg BIGINT, detail TEXT, raw TEXT NOT NULL, PRIMARY KEY(ueid, seq));"    \
    "CREATE TABLE IF NOT EXISTS fleet_batches(ueid TEXT NOT NULL, digest TEXT NOT NULL, at BIGINT NOT NULL,"       \
    " PRIMARY KEY(ueid, digest));"                                                                                 \
    "CREATE TABLE IF NOT EXISTS fleet_challenges(ueid TEXT PRIMARY KEY, nonce TEXT NOT NULL, at BIGINT NOT NULL);"

static const char k_schema_lite[] =
    SCHEMA_COMMON "CREATE TABLE IF NOT EXISTS fleet_alerts(id INTEGER PRIMARY KEY AUTOINCREMENT, ueid TEXT NOT NULL,"
                  " kind TEXT NOT NULL, detail TEXT NOT NULL, at BIGINT NOT NULL);"
                  "CREATE INDEX IF NOT EXISTS fleet_alerts_ueid ON fleet_alerts(ueid);";
static const char k_schema_pg[] =
    "SET client_min_messages = warning;"
    "SELECT pg_advisory_xact_lock(383811);" /* two collectors creating the schema at once */
    SCHEMA_COMMON "CREATE TABLE IF NOT EXISTS fleet_alerts(id BIGSERIAL PRIMARY KEY, ueid TEXT NOT NULL,"
                  " kind TEXT NOT NULL, detail TEXT NOT NULL, at BIGINT NOT NULL);"
                  "CREATE INDEX IF NOT EXISTS fleet_alerts_ueid ON fleet_alerts(ueid);";

static void pg_quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* The engine's message as one line. */
static void one_line(char *s)
{
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = 0;
}

static void pg_fail(fleet_db *db, const char *what, const PGresult *res)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn));
    one_line(msg);
    host_err("database: %s: %s", what, msg[0] ? msg : "failed");
}

static void lite_fail(fleet_db *db, const char *what)
{
    host_err("database: %s: %s", what, sqlite3_errmsg(db->lite));
}

int fleet_db_open(const char *spec, fleet_db **out)
{
    *out = NULL;
    fleet_db *db = calloc(1, sizeof *db);
    if (!db) {
        host_err("database: out of memory");
        return -1;
    }
    if (strncmp(spec, "postgresql://", 13) == 0 || strncmp(spec, "postgres://", 11) == 0) {
        db->pg = true;
        db->conn = PQconnectdb(spec);
        if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
            /* libpq's message names host and port, never the password */
            char msg[512];
            snprintf(msg, sizeof msg, "%s", db->conn ? PQerrorMessage(db->conn) : "out of memory");
            one_line(msg);
            host_err("database: cannot connect to PostgreSQL: %s", msg);
            fleet_db_close(db);
            return -1;
        }
        PQsetNoticeProcessor(db->conn, pg_quiet, NULL);
        PGresult *r = PQexec(db->conn, "BEGIN");
        PQclear(r);
        r = PQexec(db->conn, k_schema_pg);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
            pg_fail(db, "creating the tables", r);
            PQclear(r);
            fleet_db_close(db);
            return -1;
        }
        PQclear(r);
        r = PQexec(db->conn, "COMMIT");
        const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            pg_fail(db, "creating the tables", r);
        PQclear(r);
        if (!ok) {
            fleet_db_close(db);
            return -1;
        }
    } else {
        if (!spec[0]) {
            host_err("database: empty --db");
            fleet_db_close(db);
            return -1;
        }
        if (sqlite3_open_v2(spec, &db->lite, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                            NULL) != SQLITE_OK) {
            host_err("database: cannot open %s: %s", spec, db->lite ? sqlite3_errmsg(db->lite) : "out of memory");
            fleet_db_close(db);
            return -1;
        }
        sqlite3_busy_timeout(db->lite, 30000);
        /* WAL: readers (fleet status) never block the collectors; synchronous FULL: a commit is
         * on disk (fsync) before the collector acks it and the device frees those records, so
         * not even a power cut of the fleet host loses them */
        char *err = NULL;
        if (sqlite3_exec(db->lite, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, &err) !=
                SQLITE_OK ||
            sqlite3_exec(db->lite, "BEGIN IMMEDIATE;", NULL, NULL, &err) != SQLITE_OK ||
            sqlite3_exec(db->lite, k_schema_lite, NULL, NULL, &err) != SQLITE_OK ||
            sqlite3_exec(db->lite, "COMMIT;", NULL, NULL, &err) != SQLITE_OK) {
            host_err("database: %s: creating the tables: %s", spec, err ? err : sqlite3_errmsg(db->lite));
            sqlite3_free(err);
            fleet_db_close(db);
            return -1;
        }
    }
    *out = db;
    return 0;
}

void fleet_db_close(fleet_db *db)
{
    if (!db)
        return;
    if (db->conn)
        PQfinish(db->conn);
    if (db->lite)
        sqlite3_close_v2(db->lite);
    free(db->rewrite);
    free(db);
}

bool fleet_db_is_pg(const fleet_db *db)
{
    return db && db->pg;
}

const char *db_for_update(const fleet_db *db)
{
    return db->pg ? " FOR UPDATE" : "";
}

/* $N -> ?N for SQLite (our SQL has no '$' elsewhere). */
static const char *lite_sql(fleet_db *db, const char *sql)
{
    size_t n = strlen(sql) + 1u;
    if (n > db->rewrite_cap) {
        char *p = realloc(db->rewrite, n);
        if (!p)
            return NULL;
        db->rewrite = p;
        db->rewrite_cap = n;
    }
    for (size_t i = 0; i < n; i++)
        db->rewrite[i] = sql[i] == '$' ? '?' : sql[i];
    return db->rewrite;
}

void db_rows_free(db_rows *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nrows * r->ncols; i++)
        free(r->cells[i]);
    free(r->cells);
    memset(r, 0, sizeof *r);
}

const char *db_cell(const db_rows *r, size_t row, size_t col)
{
    if (!r || row >= r->nrows || col >= r->ncols)
        return NULL;
    return r->cells[row * r->ncols + col];
}

static int run(fleet_db *db, const char *sql, int n, const char *const *params, db_rows *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (db->pg) {
        PGresult *r = PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            pg_fail(db, "query", r);
            PQclear(r);
            return -1;
        }
        if (out && st == PGRES_TUPLES_OK) {
            out->nrows = (size_t)PQntuples(r);
            out->ncols = (size_t)PQnfields(r);
            out->cells = calloc(out->nrows * out->ncols + 1u, sizeof *out->cells);
            if (!out->cells) {
                PQclear(r);
                host_err("database: out of memory");
                return -1;
            }
            for (size_t i = 0; i < out->nrows; i++)
                for (size_t j = 0; j < out->ncols; j++)
                    if (!PQgetisnull(r, (int)i, (int)j)) {
                        char *s = strdup(PQgetvalue(r, (int)i, (int)j));
                        if (!s) {
                            PQclear(r);
                            db_rows_free(out);
                            host_err("database: out of memory");
                            return -1;
                        }
                        out->cells[i * out->ncols + j] = s;
                    }
        }
        PQclear(r);
        return 0;
    }
    const char *q = lite_sql(db, sql);
    if (!q) {
        host_err("database: out of memory");
        return -1;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->lite, q, -1, &st, NULL) != SQLITE_OK) {
        lite_fail(db, "query");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        int rc = params[i] ? sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_TRANSIENT)
                           : sqlite3_bind_null(st, i + 1);
        if (rc != SQLITE_OK) {
            lite_fail(db, "query parameter");
            sqlite3_finalize(st);
            return -1;
        }
    }
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!out)
            continue;
        if (out->ncols == 0)
            out->ncols = (size_t)sqlite3_column_count(st);
        if ((out->nrows + 1u) * out->ncols > cap) {
            size_t ncap = cap ? cap * 2u : 16u * out->ncols;
            char **p = realloc(out->cells, (ncap + 1u) * sizeof *p);
            if (!p) {
                sqlite3_finalize(st);
                db_rows_free(out);
                host_err("database: out of memory");
                return -1;
            }
            out->cells = p;
            cap = ncap;
        }
        for (size_t j = 0; j < out->ncols; j++) {
            const unsigned char *t = sqlite3_column_text(st, (int)j);
            char *s = t ? strdup((const char *)t) : NULL;
            out->cells[out->nrows * out->ncols + j] = s;
            if (t && !s) {
                out->nrows++;
                sqlite3_finalize(st);
                db_rows_free(out);
                host_err("database: out of memory");
                return -1;
            }
        }
        out->nrows++;
    }
    if (rc != SQLITE_DONE) {
        lite_fail(db, "query");
        sqlite3_finalize(st);
        if (out)
            db_rows_free(out);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

int db_exec(fleet_db *db, const char *sql, int n, const char *const *params)
{
    return run(db, sql, n, params, NULL);
}

int db_query(fleet_db *db, const char *sql, int n, const char *const *params, db_rows *out)
{
    return run(db, sql, n, params, out);
}

int db_begin(fleet_db *db)
{
    return db_exec(db, db->pg ? "BEGIN" : "BEGIN IMMEDIATE", 0, NULL);
}

int db_commit(fleet_db *db)
{
    return db_exec(db, "COMMIT", 0, NULL);
}

void db_rollback(fleet_db *db)
{
    if (db->pg) {
        PGresult *r = PQexec(db->conn, "ROLLBACK");
        PQclear(r);
    } else {
        sqlite3_exec(db->lite, "ROLLBACK", NULL, NULL, NULL);
    }
}
