/*
 * pnl.c - realized profit and loss per symbol, first in, first out.
 *
 * A user's shares of a symbol form lots in the order they came: each buy
 * is a lot costing its value plus its fee (fees belong to the cost basis),
 * each deposit of shares a lot costing 0 (the exchange never saw what was
 * paid for them; docs/reporting.md).  A sell takes shares from the oldest
 * lots first; its proceeds are its value less its fee.  A partial take of
 * a lot or of a sell carries the matching part of its remaining cost or
 * proceeds, rounded down, and the last share carries what is left: so the
 * parts of a lot add up to its cost exactly, and nothing is lost to
 * rounding.  A withdrawal of shares takes lots the same way, realizing
 * nothing.  Only sells inside the period count; lots come from the whole
 * history before them.
 */
#include "report_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct lot {
    int64_t seq, qty, cost, price;
} lot;

typedef struct book {
    lot *l;
    int n, head, cap;
    int64_t sold, proceeds, cost, realized;
} book;

static int64_t part(int64_t whole, int64_t k, int64_t of)
{
    return (int64_t)((__int128)whole * k / of);
}

static int add_lot(book *b, lot x)
{
    if (b->n == b->cap) {
        int n = b->cap ? b->cap * 2 : 16;
        lot *l = realloc(b->l, (size_t)n * sizeof *l);
        if (!l)
            return -1;
        b->l = l;
        b->cap = n;
    }
    b->l[b->n++] = x;
    return 0;
}

static void flush_symbol(rout *o, const char *name, book *b, int any)
{
    if (!name || !any)
        return;
    int64_t open = 0, open_cost = 0;
    for (int i = b->head; i < b->n; i++)
        open += b->l[i].qty, open_cost += b->l[i].cost;
    rout_text(o, name);
    rout_int(o, b->sold);
    rout_int(o, b->proceeds);
    rout_int(o, b->cost);
    rout_int(o, b->realized);
    rout_int(o, open);
    rout_int(o, open_cost);
}

int report_pnl(report_db *db, const report_query *q, rout *o, char *err, size_t errlen)
{
    int64_t u = report_user_id(db, q->user, err, errlen);
    if (u < 0)
        return -1;
    sqlite3_stmt *st =
        rdb_prepare(db,
                    "SELECT s.name, m.seq, m.ts, m.what, m.qty, m.price, m.fee FROM ("
                    " SELECT symbol_id, seq, trade_id AS k, ts, side AS what, qty, price, fee FROM "
                    "executions WHERE user_id = ?1"
                    " UNION ALL SELECT asset, seq, entry, ts, kind, ABS(amount), 0, 0 FROM ledger"
                    "  WHERE user_id = ?1 AND asset >= 0 AND kind IN ('deposit', 'withdrawal') AND account = "
                    "'available') m"
                    " JOIN symbols s USING(symbol_id) WHERE m.ts <= ?2 AND (?3 IS NULL OR s.name = ?3)"
                    " ORDER BY s.name, m.seq, m.k",
                    err, errlen);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, u);
    sqlite3_bind_int64(st, 2, q->to_ns);
    if (q->symbol)
        sqlite3_bind_text(st, 3, q->symbol, -1, SQLITE_STATIC);
    /* Two sections from one pass: the totals per symbol (written as each
     * symbol ends) and the matches (kept aside, written after them). */
    rout_section(o, "realized", "symbol,sold:i,proceeds:d,cost:d,realized:d,open:i,open_cost:d");
    book b = {0};
    char name[32] = "";
    int have = 0, any = 0, rc;
    typedef struct match {
        int64_t v[9];
        char sym[32];
    } match;
    match *ms = NULL;
    size_t nm = 0, capm = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *sym = (const char *)sqlite3_column_text(st, 0);
        if (!have || strcmp(sym, name) != 0) {
            flush_symbol(o, have ? name : NULL, &b, any);
            free(b.l);
            memset(&b, 0, sizeof b);
            snprintf(name, sizeof name, "%s", sym);
            have = 1;
            any = 0;
        }
        int64_t seq = sqlite3_column_int64(st, 1), ts = sqlite3_column_int64(st, 2);
        const char *what = (const char *)sqlite3_column_text(st, 3);
        int64_t qty = sqlite3_column_int64(st, 4), price = sqlite3_column_int64(st, 5);
        int64_t fee = sqlite3_column_int64(st, 6);
        if (!strcmp(what, "buy") || !strcmp(what, "deposit")) {
            if (add_lot(&b, (lot){.seq = seq, .qty = qty, .cost = qty * price + fee, .price = price}) != 0)
                goto oom;
            continue;
        }
        int sell = !strcmp(what, "sell");
        int counts = sell && ts >= q->from_ns;
        int64_t left = qty, proceeds = sell ? qty * price - fee : 0;
        while (left > 0) {
            lot none = {.seq = 0, .qty = left, .cost = 0, .price = 0};
            lot *l = b.head < b.n ? &b.l[b.head] : &none;
            int64_t k = l->qty < left ? l->qty : left;
            int64_t cost = part(l->cost, k, l->qty), got = part(proceeds, k, left);
            l->qty -= k, l->cost -= cost;
            left -= k, proceeds -= got;
            if (l != &none && l->qty == 0)
                b.head++;
            if (!counts)
                continue;
            b.sold += k, b.proceeds += got, b.cost += cost, b.realized += got - cost;
            any = 1;
            if (nm == capm) {
                capm = capm ? capm * 2 : 32;
                match *x = realloc(ms, capm * sizeof *x);
                if (!x)
                    goto oom;
                ms = x;
            }
            ms[nm++] = (match){.v = {seq, ts, k, price, l->seq, l->price, got, cost, got - cost}};
            snprintf(ms[nm - 1].sym, sizeof ms[0].sym, "%s", name);
        }
    }
    flush_symbol(o, have ? name : NULL, &b, any);
    free(b.l);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: %s", db->path, sqlite3_errmsg(db->db));
        sqlite3_finalize(st);
        free(ms);
        return -1;
    }
    sqlite3_finalize(st);
    rout_section(o, "matches",
                 "sell_seq:i,time:s,symbol,qty:i,sell_price:d,lot_seq:i,lot_price:d,proceeds:d,"
                 "cost:d,realized:d");
    for (size_t i = 0; i < nm; i++) {
        rout_int(o, ms[i].v[0]);
        rout_int(o, ms[i].v[1]);
        rout_text(o, ms[i].sym);
        for (int k = 2; k < 9; k++)
            rout_int(o, ms[i].v[k]);
    }
    free(ms);
    return 0;
oom:
    free(b.l);
    free(ms);
    sqlite3_finalize(st);
    snprintf(err, errlen, "out of memory");
    return -1;
}
