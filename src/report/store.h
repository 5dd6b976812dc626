/*
 * store.h - where the follower writes: SQLite (DIR/report.db) or
 * PostgreSQL (a postgresql:// URL), behind one small interface.
 *
 * The writer needs little: run a statement prepared once with integer,
 * text or null parameters, read back one value (an id from RETURNING, a
 * tif), read all rows of a query at resume, and transactions.  SQL is
 * written once, in the dialect both accept (?N parameters, which the
 * PostgreSQL store turns into $N; RETURNING; ON CONFLICT; CAST for
 * parameters whose type only the context tells); only the schema differs
 * (store_pg.c has its own, in BIGINT).
 */
#ifndef BOURSE_REPORT_STORE_H
#define BOURSE_REPORT_STORE_H

#include <stddef.h>
#include <stdint.h>

enum { RV_NULL = 0, RV_INT, RV_TEXT };

typedef struct rval {
    int kind;
    int64_t i;
    const char *s;
    int len; /* of s; -1: up to its NUL */
} rval;

static inline rval rv_int(int64_t v)
{
    return (rval){.kind = RV_INT, .i = v};
}
static inline rval rv_text(const char *s, int len)
{
    return (rval){.kind = RV_TEXT, .s = s, .len = len};
}
static inline rval rv_opt(int64_t v) /* 0: null */
{
    return v ? rv_int(v) : (rval){.kind = RV_NULL};
}

typedef struct rstore rstore;

/* SQLite at a path, or PostgreSQL at a postgresql:// (or postgres://) URL:
 * opened, checked (a foreign or damaged database is refused) and
 * migrated.  NULL with err set. */
rstore *rstore_open(const char *where, int create, char *err, size_t errlen);
void rstore_close(rstore *s);
const char *rstore_name(const rstore *s); /* for messages */

int rstore_exec(rstore *s, const char *sql, char *err, size_t errlen);
int rstore_begin(rstore *s, char *err, size_t errlen);
/* Prepare statement number id (0 .. 63) once. */
int rstore_prepare(rstore *s, int id, const char *sql, char *err, size_t errlen);
/* Run it: 1 with the first row's first column in *out (integer) or outs
 * (text) when asked, 0 when no row, -1 with err set. */
int rstore_run(rstore *s, int id, const rval *p, int n, int64_t *out, char *outs, size_t outslen, char *err,
               size_t errlen);
/* Rows that nothing reads back while the follower writes (commands,
 * events, trades, executions, the ledger) are not inserted one statement
 * each: rstore_add copies a row into a buffer of its table, and whole
 * buffers go out as multi-row INSERTs of RSTORE_ROWS rows (one statement,
 * one round trip to PostgreSQL, for that many rows); rstore_flush sends
 * what is left (one row a statement), and must run before the commit.
 * head is "INSERT INTO t(columns) VALUES", ncols the number of columns;
 * the statement numbers id (below RSTORE_BUFS) and id + RSTORE_BUFS are
 * taken. */
enum { RSTORE_ROWS = 64, RSTORE_BUFS = 24 };
int rstore_prepare_rows(rstore *s, int id, const char *head, int ncols, char *err, size_t errlen);
int rstore_add(rstore *s, int id, const rval *p, char *err, size_t errlen);
int rstore_flush(rstore *s, char *err, size_t errlen);
/* Forget the buffered rows (a rolled back transaction). */
void rstore_discard(rstore *s);
/* Rows buffered and not yet sent, all tables. */
int rstore_buffered(const rstore *s);

/* Every row of a query of integer columns (at most 8). */
int rstore_rows(rstore *s, const char *sql, void (*row)(void *ctx, const int64_t *cols), void *ctx, char *err,
                size_t errlen);
/* One integer from a query (*out unchanged when no row). */
int rstore_int(rstore *s, const char *sql, int64_t *out, char *err, size_t errlen);

/* One cell of a query's row: null, an integer (PostgreSQL's numeric sums
 * are integers here) or text. */
typedef struct rcell {
    int kind; /* RV_* */
    int64_t i;
    const char *s;
} rcell;

/* The parameters of the reports' queries, by number: ?1 user id, ?2 from,
 * ?3 to (nanoseconds), ?4 symbol, ?5 order id, ?6 volume, ?7 a name. */
enum { RQ_PARAMS = 7 };

/* Run a query with the RQ_PARAMS parameters (p[RQ_PARAMS]); row() for
 * each row.  0 or -1 with err set. */
int rstore_query(rstore *s, const char *sql, const rval *p, void (*row)(void *ctx, int n, const rcell *cells),
                 void *ctx, char *err, size_t errlen);

/* The PostgreSQL store (store_pg.c); NULL with err set. */
rstore *rstore_pg_open(const char *url, char *err, size_t errlen);

#endif
