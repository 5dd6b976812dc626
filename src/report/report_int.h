/*
 * report_int.h - what the files of src/report share: the database handle
 * and the writer that turns a command and its events into rows.
 */
#ifndef BOURSE_REPORT_INT_H
#define BOURSE_REPORT_INT_H

#include "bourse/bourse.h"
#include "report.h"

#include <sqlite3.h>

typedef struct rstore rstore;

struct report_db {
    sqlite3 *db;
    char path[4200];
};

/* The asset id of cash in the ledger and balances tables (symbols are
 * their ids, 0, 1, ...). */
#define REPORT_CASH (-1)

/* Read one integer from a one-row query (with one optional ?1); -1 on
 * error (err set), *out untouched when no row. */
int rdb_int(report_db *db, const char *sql, const char *arg, int64_t *out, char *err, size_t errlen);
/* Run SQL; 0 or -1 with err. */
int rdb_exec(report_db *db, const char *sql, char *err, size_t errlen);
int rdb_meta_set(report_db *db, const char *key, int64_t v, char *err, size_t errlen);

/* The writer (writer.c): one per follow, into a store (store.h). */
typedef struct rwriter rwriter;
/* Statement numbers the writer leaves to the follower. */
enum { RSTORE_META_SET = 60 };
rwriter *rwriter_new(rstore *db, char *err, size_t errlen);
void rwriter_free(rwriter *w);
/* Before the first command written: take the state left by the commands
 * already in the database (balances, next entry number). */
int rwriter_resume(rwriter *w, char *err, size_t errlen);
/* Write cmd's rows: cmd is applied to e (through the caller's callback
 * apply(), which must call rwriter_event for each event), then the ledger
 * is balanced against e's balances.  0, or -1 with err. */
int rwriter_begin_cmd(rwriter *w, const bourse_engine *e, const bourse_cmd *cmd, char *err, size_t errlen);
void rwriter_event(void *w, const bourse_cmd *cmd, const bourse_event *ev);
int rwriter_end_cmd(rwriter *w, bourse_engine *e, char *err, size_t errlen);
uint64_t rwriter_events(const rwriter *w);
/* Before a commit: write what the writer keeps for the end of a
 * transaction (the balances changed, buffered rows).  0 or -1 with err. */
int rwriter_flush(rwriter *w, char *err, size_t errlen);
/* After a rollback: forget the same. */
void rwriter_discard(rwriter *w);

/* The open orders the writer wrote (oids.c): (user, order id) -> row. */
typedef struct roid {
    uint32_t user;
    bourse_name oid;
    int64_t id; /* orders.order_id; 0: a free slot */
    /* The row (writer.c keeps it until the commit). */
    int64_t open, filled, price, qty, seq, ts, last_seq, last_ts, replaces, replaced_by;
    uint32_t symbol;
    int side;
    char tif[4];
    const char *status, *reason; /* static strings */
    int stored;                  /* the row is in the database (an earlier transaction) */
    int dirty;                   /* changed since the last commit */
} roid;
typedef struct roids roids;
roids *roids_new(void);
void roids_free(roids *m);
roid *roids_get(roids *m, uint32_t user, const bourse_name *oid);
/* Insert or replace; NULL when out of memory. */
roid *roids_put(roids *m, uint32_t user, const bourse_name *oid, int64_t id);
/* Remove the pair if its row is still `id`. */
void roids_del(roids *m, uint32_t user, const bourse_name *oid, int64_t id);
size_t roids_count(const roids *m);

/* The follower's own core (core.c): a jreader over DIR and an engine at
 * the reader's position, made from the start of the journal or from the
 * newest snapshot at or before `at_most` that the journal continues. */
typedef struct rcore rcore;
rcore *rcore_open(const char *dir, uint64_t at_most, char *err, size_t errlen);
/* The next record, not yet applied: JREAD_* (journal/reader.h). */
int rcore_next(rcore *c, bourse_cmd *cmd, int timeout_ms, char *err, size_t errlen);
/* Apply the record rcore_next gave; NULL or why not. */
const char *rcore_apply(rcore *c, const bourse_cmd *cmd, bourse_event_fn fn, void *ctx);
bourse_engine *rcore_engine(rcore *c);
uint64_t rcore_seq(const rcore *c); /* the last applied */
void rcore_close(rcore *c);

/* Output (out.c): sections of typed columns as a table, CSV or JSON. */
enum rcol { RC_TEXT, RC_INT, RC_DEC, RC_TIME };
typedef struct rout rout;
rout *rout_new(FILE *f, int format);
/* Start a section: title, n columns "name:kind" with kind one of t i d s
 * (text, integer, 1/10,000 decimal, nanosecond time). */
void rout_section(rout *o, const char *title, const char *cols);
void rout_text(rout *o, const char *s); /* NULL: empty / null */
void rout_int(rout *o, int64_t v);
void rout_null(rout *o);
/* Append every row of a stepped-through statement, by the section's kinds. */
int rout_stmt(rout *o, sqlite3_stmt *st);
void rout_end_row(rout *o);
/* Print everything; 0 or -1 (write failed). */
int rout_finish(rout *o);

/* The reports (reports.c, pnl.c, reconcile.c), on either store. */
int report_pnl(rstore *db, const report_query *q, rout *o, char *err, size_t errlen);
int report_reconcile(rstore *db, const report_query *q, rout *o, char *err, size_t errlen);
/* The user id of q->user, or -1 with err set. */
int64_t report_user_id(rstore *db, const report_query *q, char *err, size_t errlen);
/* A section of o from a query with the reports' parameters (store.h). */
int report_query_out(rstore *db, rout *o, const char *title, const char *cols, const char *sql,
                     const report_query *q, int64_t user, char *err, size_t errlen);
/* fmt() for SQLite (PostgreSQL's is in its schema). */
void report_sqlite_functions(sqlite3 *db);
/* A prepared statement, or NULL with err set. */
sqlite3_stmt *rdb_prepare(report_db *db, const char *sql, char *err, size_t errlen);

#endif
