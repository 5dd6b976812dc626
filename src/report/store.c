/*
 * store.c - the store interface (store.h) and its SQLite side, on the
 * database db.c opens and checks.
 *
 * Buffered rows (rstore_add).  Most of the follower's rows are appended
 * and never read back while it writes: a command, its events, its
 * trades' executions and ledger legs.  One INSERT each was most of its
 * time (a statement's fixed cost: binding, starting the VDBE, opening
 * cursors, resetting), and one round trip each to PostgreSQL; so they are
 * kept per table and sent RSTORE_ROWS at a time as one multi-row INSERT
 * prepared once.  The buffers belong to the transaction: rstore_flush
 * before the commit, rstore_discard after a rollback.
 */
#include "report_int.h"
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct sq_store {
    rstore base;
    report_db *db;
    sqlite3_stmt *st[RSTORE_STMTS];
} sq_store;

static int sq_exec(rstore *s, const char *sql, char *err, size_t errlen)
{
    return rdb_exec(((sq_store *)s)->db, sql, err, errlen);
}

static int sq_begin(rstore *s, char *err, size_t errlen)
{
    return sq_exec(s, "BEGIN IMMEDIATE", err, errlen);
}

static int sq_prepare(rstore *s, int id, const char *sql, char *err, size_t errlen)
{
    sq_store *q = (sq_store *)s;
    sqlite3_finalize(q->st[id]); /* prepared again: the old one goes */
    return (q->st[id] = rdb_prepare(q->db, sql, err, errlen)) ? 0 : -1;
}

static int sq_run(rstore *s, int id, const rval *p, int n, int64_t *out, char *outs, size_t outslen,
                  char *err, size_t errlen)
{
    sq_store *q = (sq_store *)s;
    sqlite3_stmt *st = q->st[id];
    for (int i = 0; i < n; i++) {
        if (p[i].kind == RV_INT)
            sqlite3_bind_int64(st, i + 1, p[i].i);
        else if (p[i].kind == RV_TEXT)
            sqlite3_bind_text(st, i + 1, p[i].s, p[i].len, SQLITE_STATIC); /* alive until the reset */
        else
            sqlite3_bind_null(st, i + 1);
    }
    int rc = sqlite3_step(st), got = 0;
    if (rc == SQLITE_ROW) {
        got = 1;
        if (out)
            *out = sqlite3_column_int64(st, 0);
        if (outs)
            snprintf(outs, outslen, "%s", (const char *)sqlite3_column_text(st, 0));
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) /* RETURNING: run to its end */
            ;
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: %s", s->name, sqlite3_errmsg(q->db->db));
        got = -1;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return got;
}

static int sq_rows(rstore *s, const char *sql, void (*row)(void *, const int64_t *), void *ctx, char *err,
                   size_t errlen)
{
    sq_store *q = (sq_store *)s;
    sqlite3_stmt *st = rdb_prepare(q->db, sql, err, errlen);
    if (!st)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t v[8] = {0};
        for (int i = 0; i < sqlite3_column_count(st) && i < 8; i++)
            v[i] = sqlite3_column_int64(st, i);
        row(ctx, v);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: %s", s->name, sqlite3_errmsg(q->db->db));
        return -1;
    }
    return 0;
}

static int sq_query(rstore *s, const char *sql, const rval *p, void (*row)(void *, int, const rcell *),
                    void *ctx, char *err, size_t errlen)
{
    sq_store *q = (sq_store *)s;
    sqlite3_stmt *st = rdb_prepare(q->db, sql, err, errlen);
    if (!st)
        return -1;
    int np = sqlite3_bind_parameter_count(st);
    for (int i = 0; i < RQ_PARAMS && i < np; i++) {
        if (p[i].kind == RV_INT)
            sqlite3_bind_int64(st, i + 1, p[i].i);
        else if (p[i].kind == RV_TEXT)
            sqlite3_bind_text(st, i + 1, p[i].s, p[i].len, SQLITE_TRANSIENT);
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rcell c[32];
        int n = sqlite3_column_count(st);
        for (int i = 0; i < n && i < 32; i++) {
            int t = sqlite3_column_type(st, i);
            c[i] = t == SQLITE_NULL ? (rcell){.kind = RV_NULL}
                   : t == SQLITE_INTEGER
                       ? (rcell){.kind = RV_INT, .i = sqlite3_column_int64(st, i)}
                       : (rcell){.kind = RV_TEXT, .s = (const char *)sqlite3_column_text(st, i)};
        }
        row(ctx, n < 32 ? n : 32, c);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: %s", s->name, sqlite3_errmsg(q->db->db));
        return -1;
    }
    return 0;
}

static void sq_close(rstore *s)
{
    sq_store *q = (sq_store *)s;
    for (int i = 0; i < RSTORE_STMTS; i++)
        sqlite3_finalize(q->st[i]);
    report_db_close(q->db);
    free(q);
}

static void buf_free(rstore *s)
{
    for (int i = 0; i < RSTORE_BUFS; i++) {
        free(s->bufs[i].v);
        free(s->bufs[i].text);
        free(s->bufs[i].head);
    }
}

static const rstore_ops SQ_OPS = {sq_exec,  sq_begin, sq_prepare, sq_run, sq_rows,
                                  sq_query, sq_close, NULL,       NULL,   NULL};

rstore *rstore_open(const char *where, int create, char *err, size_t errlen)
{
    if (!strncmp(where, "postgresql://", 13) || !strncmp(where, "postgres://", 11))
        return rstore_pg_open(where, err, errlen);
    sq_store *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (report_db_open(where, create, &q->db, err, errlen) != 0) {
        free(q);
        return NULL;
    }
    report_sqlite_functions(q->db->db);
    q->base.ops = &SQ_OPS;
    snprintf(q->base.name, sizeof q->base.name, "%s", where);
    return &q->base;
}

void rstore_close(rstore *s)
{
    if (!s)
        return;
    buf_free(s);
    s->ops->close(s);
}

const char *rstore_name(const rstore *s)
{
    return s->name;
}

int rstore_exec(rstore *s, const char *sql, char *err, size_t errlen)
{
    return s->ops->exec(s, sql, err, errlen);
}

int rstore_begin(rstore *s, char *err, size_t errlen)
{
    return s->ops->begin(s, err, errlen);
}

int rstore_prepare(rstore *s, int id, const char *sql, char *err, size_t errlen)
{
    return s->ops->prepare(s, id, sql, err, errlen);
}

int rstore_run(rstore *s, int id, const rval *p, int n, int64_t *out, char *outs, size_t outslen, char *err,
               size_t errlen)
{
    return s->ops->run(s, id, p, n, out, outs, outslen, err, errlen);
}

int rstore_rows(rstore *s, const char *sql, void (*row)(void *, const int64_t *), void *ctx, char *err,
                size_t errlen)
{
    return s->ops->rows(s, sql, row, ctx, err, errlen);
}

int rstore_query(rstore *s, const char *sql, const rval *p, void (*row)(void *, int, const rcell *),
                 void *ctx, char *err, size_t errlen)
{
    return s->ops->query(s, sql, p, row, ctx, err, errlen);
}

static void first(void *ctx, const int64_t *cols)
{
    *(int64_t *)ctx = cols[0];
}

int rstore_int(rstore *s, const char *sql, int64_t *out, char *err, size_t errlen)
{
    return rstore_rows(s, sql, first, out, err, errlen);
}

rstore *report_store_open(const char *where, char *err, size_t errlen)
{
    return rstore_open(where, 0, err, errlen);
}

void report_store_close(rstore *s)
{
    rstore_close(s);
}

int rstore_prepare_rows(rstore *s, int id, const char *head, int ncols, char *err, size_t errlen)
{
    rbuf *b = &s->bufs[id];
    size_t cap = strlen(head) + (size_t)RSTORE_ROWS * (size_t)ncols * 8 + 2 * RSTORE_ROWS + 16;
    char *sql = malloc(cap);
    free(b->v);
    free(b->head);
    b->v = malloc((size_t)RSTORE_ROWS * (size_t)ncols * sizeof *b->v);
    b->head = strdup(head);
    if (!sql || !b->v || !b->head) {
        free(sql);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    b->ncols = ncols;
    b->nrows = 0;
    /* One row (for the rest at a flush), then RSTORE_ROWS rows. */
    for (int rows = 1, k = 0; k < 2; k++, rows = RSTORE_ROWS) {
        size_t n = (size_t)snprintf(sql, cap, "%s", head);
        for (int r = 0, p = 1; r < rows; r++) {
            n += (size_t)snprintf(sql + n, cap - n, "%s(", r ? "," : "");
            for (int c = 0; c < ncols; c++, p++)
                n += (size_t)snprintf(sql + n, cap - n, "%s?%d", c ? "," : "", p);
            n += (size_t)snprintf(sql + n, cap - n, ")");
        }
        if (rstore_prepare(s, k ? id + RSTORE_BUFS : id, sql, err, errlen) != 0) {
            free(sql);
            return -1;
        }
    }
    free(sql);
    return 0;
}

/* Send n rows of b from row `from` with statement id; 0 or -1. */
static int send_rows(rstore *s, rbuf *b, int id, int from, int n, char *err, size_t errlen)
{
    rval *v = b->v + (size_t)from * (size_t)b->ncols;
    for (int i = 0; i < n * b->ncols; i++)
        if (v[i].kind == RV_TEXT)
            v[i].s = b->text + v[i].i;
    return rstore_run(s, id, v, n * b->ncols, NULL, NULL, 0, err, errlen) < 0 ? -1 : 0;
}

static int buf_send(rstore *s, int id, int all, char *err, size_t errlen)
{
    rbuf *b = &s->bufs[id];
    int rc = 0;
    if (s->ops->rows_out) { /* the store takes them as they are (PostgreSQL: COPY) */
        rval *v = b->v;
        for (int i = 0; i < b->nrows * b->ncols; i++)
            if (v[i].kind == RV_TEXT)
                v[i].s = b->text + v[i].i;
        rc = s->ops->rows_out(s, id, v, b->nrows, err, errlen);
    } else if (b->nrows == RSTORE_ROWS)
        rc = send_rows(s, b, id + RSTORE_BUFS, 0, RSTORE_ROWS, err, errlen);
    else if (all)
        for (int r = 0; r < b->nrows && rc == 0; r++)
            rc = send_rows(s, b, id, r, 1, err, errlen);
    b->nrows = 0;
    b->tlen = 0;
    return rc;
}

int rstore_add(rstore *s, int id, const rval *p, char *err, size_t errlen)
{
    rbuf *b = &s->bufs[id];
    rval *v = b->v + (size_t)b->nrows * (size_t)b->ncols;
    for (int i = 0; i < b->ncols; i++) {
        v[i] = p[i];
        if (p[i].kind != RV_TEXT)
            continue;
        size_t len = p[i].len < 0 ? strlen(p[i].s) : (size_t)p[i].len;
        if (b->tlen + len > b->tcap) {
            size_t cap = b->tcap ? b->tcap : 4096;
            while (cap < b->tlen + len)
                cap *= 2;
            char *t = realloc(b->text, cap);
            if (!t) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            b->text = t;
            b->tcap = cap;
        }
        memcpy(b->text + b->tlen, p[i].s, len);
        v[i].i = (int64_t)b->tlen; /* an offset until sent: text may move */
        v[i].len = (int)len;
        b->tlen += len;
    }
    if (++b->nrows == RSTORE_ROWS)
        return buf_send(s, id, 0, err, errlen);
    return 0;
}

int rstore_flush(rstore *s, char *err, size_t errlen)
{
    for (int i = 0; i < RSTORE_BUFS; i++)
        if (s->bufs[i].nrows && buf_send(s, i, 1, err, errlen) != 0)
            return -1;
    return s->ops->flush ? s->ops->flush(s, err, errlen) : 0;
}

void rstore_discard(rstore *s)
{
    for (int i = 0; i < RSTORE_BUFS; i++)
        s->bufs[i].nrows = 0, s->bufs[i].tlen = 0;
    if (s->ops->discard)
        s->ops->discard(s);
}

int rstore_buffered(const rstore *s)
{
    int n = 0;
    for (int i = 0; i < RSTORE_BUFS; i++)
        n += s->bufs[i].nrows;
    return n;
}
