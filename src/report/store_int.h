/*
 * store_int.h - the stores' common part (store.c, store_pg.c).
 */
#ifndef BOURSE_REPORT_STORE_INT_H
#define BOURSE_REPORT_STORE_INT_H

#include "store.h"

enum { RSTORE_STMTS = 64 };

/* A table's buffered rows (store.h, rstore_add): texts are kept in `text`
 * and named by their offset (rval.i) until they are sent. */
typedef struct rbuf {
    char *head; /* "INSERT INTO t(columns) VALUES" */
    int ncols, nrows;
    rval *v; /* RSTORE_ROWS rows of ncols */
    char *text;
    size_t tlen, tcap;
} rbuf;

typedef struct rstore_ops {
    int (*exec)(rstore *s, const char *sql, char *err, size_t errlen);
    int (*begin)(rstore *s, char *err, size_t errlen);
    int (*prepare)(rstore *s, int id, const char *sql, char *err, size_t errlen);
    int (*run)(rstore *s, int id, const rval *p, int n, int64_t *out, char *outs, size_t outslen, char *err,
               size_t errlen);
    int (*rows)(rstore *s, const char *sql, void (*row)(void *, const int64_t *), void *ctx, char *err,
                size_t errlen);
    int (*query)(rstore *s, const char *sql, const rval *p, void (*row)(void *, int, const rcell *),
                 void *ctx, char *err, size_t errlen);
    void (*close)(rstore *s);
    /* Optional (NULL: multi-row INSERTs through run).  rows_out takes n
     * rows of buffer id (texts resolved) to send as it likes; flush runs
     * at the end of rstore_flush (before the commit), discard at
     * rstore_discard. */
    int (*rows_out)(rstore *s, int id, const rval *v, int n, char *err, size_t errlen);
    int (*flush)(rstore *s, char *err, size_t errlen);
    void (*discard)(rstore *s);
} rstore_ops;

struct rstore {
    const rstore_ops *ops;
    char name[512];
    rbuf bufs[RSTORE_BUFS];
};

#endif
