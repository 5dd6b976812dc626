/*
 * writer_int.h - what the writer's files share (writer.c: a command and
 * its events into rows, the ledger and balances; orders.c: the orders'
 * rows): the writer's state and its statements.
 */
#ifndef BOURSE_REPORT_WRITER_INT_H
#define BOURSE_REPORT_WRITER_INT_H

#include "report_int.h"
#include "store.h"

typedef struct bal {
    int64_t asset, avail, held;
    int64_t seq; /* of its last change */
    int dirty;   /* changed since the last commit */
} bal;
typedef struct ubal {
    bal *a;
    int n, cap;
} ubal;
typedef struct leg {
    uint32_t user;
    int held;
    int64_t asset, amount;
} leg;

enum {
    S_CMD,
    S_ACCOUNT,
    S_SYMBOL,
    S_ORDER,
    S_ORDER_SET,
    S_FIND,
    S_FILL,
    S_CANCEL,
    S_REPLACED,
    S_TIF,
    S_EVENT,
    S_TRADE,
    S_EXEC,
    S_LEDGER,
    S_BALANCE,
    S_EOD,
    S_COUNT
};

/* An order whose row changed in this transaction (its roid is dirty). */
typedef struct done_order {
    uint32_t user;
    bourse_name oid;
    int64_t id;
} done_order;

struct rwriter {
    rstore *db;
    ubal *users;
    uint32_t nusers;
    leg *legs;
    int nlegs, caplegs;
    uint32_t *touched;
    int ntouched, captouched;
    bal *q; /* a balance query's answer */
    int nq, capq;
    roids *oids;
    done_order *done;
    int ndone, capdone;
    /* (user, asset index) of the balances changed since the last commit */
    struct {
        uint32_t user;
        int i;
    } * dirty;
    int ndirty, capdirty;
    /* The trade being written: buffered at the next trade or the end of
     * the command, when its fees are known. */
    int trade_open;
    rval trade[13], exec[2][11];
    /* Ids are given here, not by the database: PostgreSQL's sequences
     * do not roll back with a transaction, and a row written again after
     * a crash must get the same id as the first time. */
    int64_t next_entry, leg_no, next_order, next_trade;
    /* the command being written */
    const bourse_engine *e;
    bourse_cmd cmd;
    int nev, ok;
    int64_t cmd_order; /* the order the command made or changed (0: none) */
    int64_t trade_id;
    uint64_t events;
    int failed;
    char err[5000];
};

const char *rw_side_name(int s);
/* The first failure of the command, kept with its seq. */
void rw_fail(rwriter *w, const char *why);
/* Run statement s with n parameters; 1 with *out (the first column of its
 * first row, when out != NULL), 0 without a row, -1 on failure. */
int rw_run(rwriter *w, int s, const rval *p, int n, int64_t *out, char *outs, size_t outslen);
/* Buffer a row of a table whose rows are buffered (writer.c, ROWS). */
void rw_add(rwriter *w, int s, const rval *p);
rval rw_name(const char *s, size_t max);
int rw_grow(void **p, int *cap, int need, size_t size);

/* Orders (orders.c). */
/* The row of (user, oid): the newest non-rejected one; 0: none. */
int64_t rw_find_order(rwriter *w, uint32_t user, const bourse_name *oid);
int64_t rw_insert_order(rwriter *w, uint32_t user, const bourse_name *oid, uint32_t symbol, int side,
                        const char *tif, int64_t price, int64_t qty, const char *status, const char *reason,
                        int64_t open, int64_t replaces);
/* The roid of row id, or NULL. */
roid *rw_mine(rwriter *w, uint32_t user, const bourse_name *oid, int64_t id);
/* Run statement s on the row of an order not in the roids. */
void rw_update(rwriter *w, int s, int64_t order, int64_t a, const char *text);
void rw_fill(rwriter *w, uint32_t user, const bourse_name *oid, int64_t id, int64_t qty);
/* r's row changed (last_seq, last_ts set): written at the commit. */
void rw_changed(rwriter *w, roid *r);
/* Before the commit: the changed orders' rows. */
void rw_write_orders(rwriter *w);

#endif
