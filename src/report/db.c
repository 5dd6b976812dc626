/*
 * db.c - the reporting database's file: open, check, migrate.
 *
 * What may be opened.  A new, empty file becomes a report database.  Any
 * other file must prove it is one before anything is written to it:
 * SQLite must read it (a file that is not a database, or whose pages fail
 * `PRAGMA quick_check`, is damaged), its application_id must be Bourse's
 * report id and its meta table must say so; a database from a newer
 * Bourse (user_version above ours) is refused rather than written with an
 * older idea of the schema.  Refusing is always safe: the database is
 * derived from the journal and can be rebuilt on purpose (delete it and
 * follow again), but silently rebuilding a damaged one, or writing into
 * another program's file, would hide the fault.
 *
 * Migrations.  MIGRATIONS[v] takes a database from version v to v + 1, in
 * one transaction with the new user_version, so a crash in a migration
 * leaves the old version whole.  Version 0 is the empty file.
 *
 * Journal mode WAL: readers (the report commands) never block the
 * follower's writes, and a commit is one append to the WAL.  synchronous =
 * NORMAL: the WAL is synced at checkpoints, not at every commit, so a
 * commit survives a crash of the follower (the WAL is in the kernel's
 * hands) but a power cut or a crash of the machine may take back the last
 * commits.  That costs nothing but time: last_seq is in the same
 * transactions as the rows, so the database goes back whole to an earlier
 * seq, and the follower writes the commands after it again from the
 * journal, which is the source of truth.  temp_store = MEMORY keeps the
 * statement journal of a multi-row INSERT (store.c) in memory: spilled to
 * a temporary file it was ten times the follower's writes.  cache_size 8
 * MB, not more: the follower appends, and a bigger cache only meant a
 * fresh allocation (and page faults) for every new page until it filled,
 * 12% of its time against 64 MB.
 */
#include "report_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APP_ID 0x42525054 /* "BRPT" */

static const char *const MIGRATIONS[REPORT_SCHEMA_VERSION] = {
    /* 0 -> 1: the first schema (docs/reporting.md describes every table). */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO meta VALUES('last_seq', 0), ('last_ts', 0), ('first_ts', 0), ('next_entry', 1);"
    "CREATE TABLE accounts(user_id INTEGER PRIMARY KEY, name TEXT NOT NULL, seq INTEGER NOT NULL,"
    " ts INTEGER NOT NULL);"
    "CREATE TABLE symbols(symbol_id INTEGER PRIMARY KEY, name TEXT NOT NULL, seq INTEGER NOT NULL,"
    " ts INTEGER NOT NULL);"
    "CREATE TABLE commands(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, type TEXT NOT NULL,"
    " user_id INTEGER, symbol_id INTEGER, line TEXT NOT NULL);"
    "CREATE TABLE orders(order_id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, oid TEXT NOT NULL,"
    " symbol_id INTEGER, side TEXT NOT NULL, tif TEXT NOT NULL, price INTEGER NOT NULL,"
    " qty INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, status TEXT NOT NULL,"
    " reason TEXT, open_qty INTEGER NOT NULL, filled_qty INTEGER NOT NULL, replaces INTEGER,"
    " replaced_by INTEGER, last_seq INTEGER NOT NULL, last_ts INTEGER NOT NULL);"
    "CREATE INDEX orders_by_oid ON orders(user_id, oid);"
    "CREATE TABLE events(seq INTEGER NOT NULL, n INTEGER NOT NULL, type TEXT NOT NULL, reason TEXT,"
    " user_id INTEGER, symbol_id INTEGER, side TEXT, qty INTEGER, price INTEGER, order_id INTEGER,"
    " order2_id INTEGER, line TEXT NOT NULL, PRIMARY KEY(seq, n)) WITHOUT ROWID;"
    "CREATE INDEX events_by_order ON events(order_id);"
    "CREATE INDEX events_by_order2 ON events(order2_id);"
    "CREATE TABLE trades(trade_id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, ts INTEGER NOT NULL,"
    " symbol_id INTEGER NOT NULL, price INTEGER NOT NULL, qty INTEGER NOT NULL,"
    " buy_order_id INTEGER NOT NULL, sell_order_id INTEGER NOT NULL, buyer_id INTEGER NOT NULL,"
    " seller_id INTEGER NOT NULL, buy_fee INTEGER NOT NULL, sell_fee INTEGER NOT NULL,"
    " aggressor TEXT NOT NULL);"
    "CREATE INDEX trades_by_ts ON trades(ts);"
    "CREATE TABLE executions(trade_id INTEGER NOT NULL, side TEXT NOT NULL, order_id INTEGER NOT NULL,"
    " user_id INTEGER NOT NULL, symbol_id INTEGER NOT NULL, qty INTEGER NOT NULL,"
    " price INTEGER NOT NULL, fee INTEGER NOT NULL, liquidity TEXT NOT NULL, seq INTEGER NOT NULL,"
    " ts INTEGER NOT NULL, PRIMARY KEY(trade_id, side)) WITHOUT ROWID;"
    "CREATE INDEX executions_by_user ON executions(user_id, ts);"
    "CREATE TABLE ledger(entry INTEGER NOT NULL, leg INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " ts INTEGER NOT NULL, kind TEXT NOT NULL, user_id INTEGER, account TEXT NOT NULL,"
    " asset INTEGER NOT NULL, amount INTEGER NOT NULL, order_id INTEGER, trade_id INTEGER,"
    " PRIMARY KEY(entry, leg)) WITHOUT ROWID;"
    "CREATE INDEX ledger_by_user ON ledger(user_id, asset, seq);"
    "CREATE TABLE balances(user_id INTEGER NOT NULL, asset INTEGER NOT NULL,"
    " available INTEGER NOT NULL, held INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " PRIMARY KEY(user_id, asset)) WITHOUT ROWID;"
    "CREATE TABLE eod_positions(day TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,"
    " user_id INTEGER NOT NULL, asset INTEGER NOT NULL, available INTEGER NOT NULL,"
    " held INTEGER NOT NULL, PRIMARY KEY(seq, user_id, asset)) WITHOUT ROWID;"
    "CREATE VIEW assets AS SELECT -1 AS asset, 'CASH' AS name UNION ALL"
    " SELECT symbol_id, name FROM symbols;",
    /* 1 -> 2: the events' order indexes leave out the events without that
     * order (a TRADE's seller, a REPLACED's new order: order2_id is null in
     * three events of four): fewer index inserts for the follower, and the
     * audit's lookups (order_id = / IN) still use them. */
    "DROP INDEX events_by_order; DROP INDEX events_by_order2;"
    "CREATE INDEX events_by_order ON events(order_id) WHERE order_id IS NOT NULL;"
    "CREATE INDEX events_by_order2 ON events(order2_id) WHERE order2_id IS NOT NULL;",
};

void report_db_path(char *out, size_t n, const char *dir)
{
    snprintf(out, n, "%s/report.db", dir);
}

int rdb_exec(report_db *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", db->path, msg ? msg : sqlite3_errmsg(db->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

sqlite3_stmt *rdb_prepare(report_db *db, const char *sql, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", db->path, sqlite3_errmsg(db->db));
        return NULL;
    }
    return st;
}

int rdb_int(report_db *db, const char *sql, const char *arg, int64_t *out, char *err, size_t errlen)
{
    sqlite3_stmt *st = rdb_prepare(db, sql, err, errlen);
    if (!st)
        return -1;
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        snprintf(err, errlen, "%s: %s", db->path, sqlite3_errmsg(db->db));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int rdb_meta_set(report_db *db, const char *key, int64_t v, char *err, size_t errlen)
{
    static const char sql[] = "UPDATE meta SET value = ?1 WHERE key = ?2";
    sqlite3_stmt *st = rdb_prepare(db, sql, err, errlen);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, v);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: %s", db->path, sqlite3_errmsg(db->db));
        return -1;
    }
    return 0;
}

static int refuse(report_db *db, char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "%s: %s", db->path, why);
    return -1;
}

/* Is this our database, sound and not newer than us?  *version set. */
static int check(report_db *db, int64_t *version, char *err, size_t errlen)
{
    int64_t app = 0, tables = 0, v = 0;
    /* The first read: a file that is not SQLite fails here. */
    if (rdb_int(db, "SELECT count(*) FROM sqlite_master", NULL, &tables, err, errlen) != 0)
        return refuse(db, err, errlen, "not a readable SQLite database (damaged, or not a report database)");
    if (rdb_int(db, "PRAGMA application_id", NULL, &app, err, errlen) != 0 ||
        rdb_int(db, "PRAGMA user_version", NULL, &v, err, errlen) != 0)
        return -1;
    if (app == 0 && tables == 0 && v == 0) {
        *version = 0;
        return 0;
    }
    if (app != APP_ID)
        return refuse(db, err, errlen, "not a Bourse report database (another application's SQLite file)");
    char *qc = NULL;
    sqlite3_stmt *st = rdb_prepare(db, "PRAGMA quick_check", err, errlen);
    if (!st)
        return refuse(db, err, errlen, "damaged: quick_check cannot run");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
        qc = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
    else if (rc != SQLITE_ROW)
        qc = sqlite3_mprintf("%s", sqlite3_errmsg(db->db));
    sqlite3_finalize(st);
    if (qc) {
        snprintf(
            err, errlen,
            "%s: damaged (quick_check: %s); it is derived from the journal: move it away and follow again",
            db->path, qc);
        sqlite3_free(qc);
        return -1;
    }
    if (v > REPORT_SCHEMA_VERSION) {
        snprintf(err, errlen, "%s: schema version %lld is newer than this bourse's (%d)", db->path,
                 (long long)v, REPORT_SCHEMA_VERSION);
        return -1;
    }
    int64_t seq = -1;
    if (v >= 1 &&
        (rdb_int(db, "SELECT value FROM meta WHERE key = 'last_seq'", NULL, &seq, err, errlen) != 0 ||
         seq < 0))
        return refuse(db, err, errlen, "damaged: its meta table has no last_seq");
    *version = v;
    return 0;
}

static int migrate(report_db *db, int64_t from, char *err, size_t errlen)
{
    for (int64_t v = from; v < REPORT_SCHEMA_VERSION; v++) {
        char tail[128];
        snprintf(tail, sizeof tail, "PRAGMA application_id = %d; PRAGMA user_version = %lld;", APP_ID,
                 (long long)v + 1);
        if (rdb_exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
            return -1;
        if (rdb_exec(db, MIGRATIONS[v], err, errlen) != 0 || rdb_exec(db, tail, err, errlen) != 0 ||
            rdb_exec(db, "COMMIT", err, errlen) != 0) {
            char ignore[8];
            rdb_exec(db, "ROLLBACK", ignore, sizeof ignore);
            return -1;
        }
    }
    return 0;
}

int report_db_open(const char *path, int create, report_db **out, char *err, size_t errlen)
{
    report_db *db = calloc(1, sizeof *db);
    if (!db) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(db->path, sizeof db->path, "%s", path);
    if (!create && access(path, F_OK) != 0) {
        snprintf(err, errlen, "%s: no report database (run `bourse report follow` first)", path);
        free(db);
        return -1;
    }
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &db->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, db->db ? sqlite3_errmsg(db->db) : "cannot open");
        report_db_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db->db, 10000);
    int64_t v;
    if (check(db, &v, err, errlen) != 0) {
        report_db_close(db);
        return -1;
    }
    if (!create && v < REPORT_SCHEMA_VERSION) {
        snprintf(err, errlen, "%s: schema version %lld: run `bourse report follow` to migrate it", path,
                 (long long)v);
        report_db_close(db);
        return -1;
    }
    if (create &&
        (rdb_exec(db,
                  "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -8192;"
                  " PRAGMA temp_store = MEMORY;",
                  err, errlen) != 0 ||
         migrate(db, v, err, errlen) != 0)) {
        report_db_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

void report_db_close(report_db *db)
{
    if (!db)
        return;
    sqlite3_close(db->db);
    free(db);
}

uint64_t report_db_last_seq(report_db *db)
{
    int64_t v = 0;
    char err[8];
    rdb_int(db, "SELECT value FROM meta WHERE key = 'last_seq'", NULL, &v, err, sizeof err);
    return (uint64_t)v;
}
