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
#include "store.h"

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

typedef struct match {
    int64_t v[9];
    char sym[32];
} match;

typedef struct pnl {
    const report_query *q;
    rout *o;
    book b;
    char name[32];
    int have, any, oom;
    match *ms;
    size_t nm, capm;
} pnl;

/* One execution or share deposit/withdrawal, in order per symbol. */
static void on_row(void *ctx, int n, const rcell *c)
{
    pnl *p = ctx;
    book *b = &p->b;
    if (n < 7 || p->oom)
        return;
    const char *sym = c[0].s ? c[0].s : "", *what = c[3].s ? c[3].s : "";
    if (!p->have || strcmp(sym, p->name) != 0) {
        flush_symbol(p->o, p->have ? p->name : NULL, b, p->any);
        free(b->l);
        memset(b, 0, sizeof *b);
        snprintf(p->name, sizeof p->name, "%s", sym);
        p->have = 1;
        p->any = 0;
    }
    int64_t seq = c[1].i, ts = c[2].i, qty = c[4].i, price = c[5].i, fee = c[6].i;
    if (!strcmp(what, "buy") || !strcmp(what, "deposit")) {
        if (add_lot(b, (lot){.seq = seq, .qty = qty, .cost = qty * price + fee, .price = price}) != 0)
            p->oom = 1;
        return;
    }
    int sell = !strcmp(what, "sell");
    int counts = sell && ts >= p->q->from_ns;
    int64_t left = qty, proceeds = sell ? qty * price - fee : 0;
    while (left > 0) {
        lot none = {.seq = 0, .qty = left, .cost = 0, .price = 0};
        lot *l = b->head < b->n ? &b->l[b->head] : &none;
        int64_t k = l->qty < left ? l->qty : left;
        int64_t cost = part(l->cost, k, l->qty), got = part(proceeds, k, left);
        l->qty -= k, l->cost -= cost;
        left -= k, proceeds -= got;
        if (l != &none && l->qty == 0)
            b->head++;
        if (!counts)
            continue;
        b->sold += k, b->proceeds += got, b->cost += cost, b->realized += got - cost;
        p->any = 1;
        if (p->nm == p->capm) {
            size_t cap = p->capm ? p->capm * 2 : 32;
            match *x = realloc(p->ms, cap * sizeof *x);
            if (!x) {
                p->oom = 1;
                return;
            }
            p->ms = x;
            p->capm = cap;
        }
        p->ms[p->nm++] = (match){.v = {seq, ts, k, price, l->seq, l->price, got, cost, got - cost}};
        snprintf(p->ms[p->nm - 1].sym, sizeof p->ms[0].sym, "%s", p->name);
    }
}

int report_pnl(rstore *db, const report_query *q, rout *o, char *err, size_t errlen)
{
    int64_t u = report_user_id(db, q, err, errlen);
    if (u < 0)
        return -1;
    /* Two sections from one pass: the totals per symbol (written as each
     * symbol ends) and the matches (kept aside, written after them). */
    rout_section(o, "realized", "symbol,sold:i,proceeds:d,cost:d,realized:d,open:i,open_cost:d");
    pnl p = {.q = q, .o = o};
    rval prm[RQ_PARAMS] = {rv_int(u), rv_int(q->from_ns), rv_int(q->to_ns),
                           q->symbol ? rv_text(q->symbol, -1) : (rval){0}};
    int rc = rstore_query(
        db,
        "SELECT s.name, m.seq, m.ts, m.what, m.qty, m.price, m.fee FROM ("
        " SELECT symbol_id, seq, trade_id AS k, ts, side AS what, qty, price, fee FROM executions"
        " WHERE user_id = ?1"
        " UNION ALL SELECT asset, seq, entry, ts, kind, ABS(amount), 0, 0 FROM ledger"
        "  WHERE user_id = ?1 AND asset >= 0 AND kind IN ('deposit', 'withdrawal')"
        " AND account = 'available') m"
        " JOIN symbols s ON s.symbol_id = m.symbol_id WHERE m.ts <= ?3 AND (?4 IS NULL OR s.name = ?4)"
        " ORDER BY s.name, m.seq, m.k",
        prm, on_row, &p, err, errlen);
    flush_symbol(o, p.have && !p.oom ? p.name : NULL, &p.b, p.any);
    free(p.b.l);
    if (rc == 0 && p.oom) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc == 0) {
        rout_section(
            o, "matches",
            "sell_seq:i,time:s,symbol,qty:i,sell_price:d,lot_seq:i,lot_price:d,proceeds:d,cost:d,realized:d");
        for (size_t i = 0; i < p.nm; i++) {
            rout_int(o, p.ms[i].v[0]);
            rout_int(o, p.ms[i].v[1]);
            rout_text(o, p.ms[i].sym);
            for (int k = 2; k < 9; k++)
                rout_int(o, p.ms[i].v[k]);
        }
    }
    free(p.ms);
    return rc;
}
