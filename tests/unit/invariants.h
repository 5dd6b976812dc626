/*
 * invariants.h - a full consistency check of an engine's internal state, for
 * tests that drive the engine with many commands (test_property,
 * test_lobster).  Include it after check.h and "core/internal.h".
 *
 * It knows nothing about how the state was reached: it recomputes every
 * derived number (level sums, holds, open quantities, asset totals) from the
 * resting orders and compares, and checks the shape of every list and index
 * (queues, the sorted price index, the booking list, the id map, each user's
 * position chain).  Holds follow replay-v2.md, rule 16: a buy holds
 * Q x P + floor(Q x P x r / 10000) at its reserve rate r (computed here in
 * 128 bits, not with the core's split formula); a blocked user has no open
 * order.  The first failure prints one FAIL line naming `tag` and
 * ends the check (a broken list is not walked further); the return value is
 * nonzero then, so callers can stop a run early.
 */
#ifndef BOURSE_TEST_INVARIANTS_H
#define BOURSE_TEST_INVARIANTS_H

#include "check.h"
#include "core/internal.h"

#include <stdarg.h>
#include <stdlib.h>

static int inv_fail(const char *tag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int inv_fail(const char *tag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s: ", tag);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    check_failures++;
    return 1;
}

#define INV(cond, ...)                                                                                       \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            bad += inv_fail(tag, __VA_ARGS__);                                                               \
            goto done;                                                                                       \
        }                                                                                                    \
    } while (0)

/* Walk one side of one book; add what its orders hold to the sums. */
static int inv_side(const bourse_engine *e, const char *tag, uint32_t sym, int side, int64_t *cash_held,
                    int64_t *open_qty, int64_t *pos_held, uint32_t *norders, uint32_t *nday)
{
    int bad = 0;
    const book_side *s = &e->symbols[sym].side[side];
    INV(s->n <= s->cap, "sym %u side %d: %u far levels, cap %u", sym, side, s->n, s->cap);
    for (uint32_t i = 1; i < s->n; i++)
        INV(s->keys[i - 1] < s->keys[i], "sym %u side %d: far index not strictly sorted", sym, side);
    uint32_t nwin = 0;
    for (uint32_t w = 0; w < LADDER / 64; w++) {
        nwin += (uint32_t)__builtin_popcountll(s->bits[w]);
        INV(!s->bits[w] == !(s->summary >> w & 1), "sym %u side %d: ladder summary bit %u", sym, side, w);
    }
    INV(nwin == s->wn, "sym %u side %d: %u ladder bits, wn %u", sym, side, nwin, s->wn);
    int32_t hi = -1;
    for (int32_t k = LADDER - 1; k >= 0 && hi < 0; k--)
        if (s->bits[k >> 6] >> (k & 63) & 1)
            hi = k;
    INV(s->wn == 0 || s->wbest == hi, "sym %u side %d: wbest %d, highest ladder slot %d", sym, side, s->wbest,
        hi);
    side_iter it;
    int64_t prev_key = INT64_MAX;
    uint32_t i = 0;
    for (uint32_t lv = bourse__side_first(s, &it); lv != NIL; lv = bourse__side_next(&it), i++) {
        INV(i < side_levels(s), "sym %u side %d: the walk passes %u levels", sym, side, side_levels(s));
        INV(lv < e->levels_hwm, "sym %u side %d: level id %u past the pool", sym, side, lv);
        const level *l = &e->levels[lv];
        INV(side_key(side, l->price) < prev_key, "sym %u side %d: levels not strictly best first", sym, side);
        prev_key = side_key(side, l->price);
        INV(i != 0 || bourse__book_best(e, sym, side) == lv, "sym %u side %d: best is not first", sym, side);
        INV(l->symbol == sym && l->side == side, "level %u: symbol/side %u/%d, in book %u/%d", lv, l->symbol,
            l->side, sym, side);
        INV(l->price >= 1 && l->price <= BOURSE_PRICE_MAX, "level %u: price %lld", lv, (long long)l->price);
        INV(bourse__book_level_find(e, sym, side, l->price) == lv, "level %u: not found by price", lv);
        int64_t qty = 0;
        uint32_t count = 0, prev = NIL;
        for (uint32_t o = l->head; o != NIL; o = e->orders[o].next) {
            INV(o < e->orders_hwm && count <= e->norders, "level %u: bad queue", lv);
            const order *ord = &e->orders[o];
            INV(ord->live && ord->level == lv && ord->prev == prev,
                "order %u: live %d level %u/%u prev %u/%u", o, ord->live, ord->level, lv, ord->prev, prev);
            INV(ord->side == side && ord->price == l->price && ord->qty > 0,
                "order %u: side %d price %lld qty %u at level price %lld", o, ord->side,
                (long long)ord->price, ord->qty, (long long)l->price);
            INV(ord->user < e->nusers && ord->pos < e->npositions &&
                    e->positions[ord->pos].user == ord->user && e->positions[ord->pos].symbol == sym,
                "order %u: user %u pos %u", o, ord->user, ord->pos);
            INV(ord->tif == BOURSE_DAY || ord->tif == BOURSE_GTC, "order %u: resting with tif %d", o,
                ord->tif);
            bool used;
            INV(bourse__idmap_find(e, ord->user, &ord->oid, &used) == o && used,
                "order %u (%.16s): not in id map", o, ord->oid.s);
            qty += ord->qty;
            count++;
            INV(!e->users[ord->user].blocked, "order %u: its user %u is blocked", o, ord->user);
            INV(ord->maker <= ord->hold_rate && ord->hold_rate <= BOURSE_FEE_RATE_MAX,
                "order %u: rates %u %u", o, ord->maker, ord->hold_rate);
            if (side == BOURSE_BUY) {
                int64_t n = (int64_t)ord->qty * ord->price;
                cash_held[ord->user] += n + (int64_t)((__int128)n * ord->hold_rate / 10000);
            } else
                pos_held[ord->pos] += ord->qty;
            open_qty[ord->user] += ord->qty;
            (*nday)++;
            prev = o;
        }
        INV(l->tail == prev, "level %u: tail %u, last %u", lv, l->tail, prev);
        INV(count > 0 && count == l->count, "level %u: count %u, has %u", lv, l->count, count);
        INV(qty == l->qty, "level %u: qty %lld, has %lld", lv, (long long)l->qty, (long long)qty);
        *norders += count;
    }
    INV(i == side_levels(s), "sym %u side %d: the walk met %u of %u levels", sym, side, i, side_levels(s));
done:
    return bad;
}

/* Check everything; `tag` names the run in FAIL lines. */
static int inv_check(const bourse_engine *e, const char *tag)
{
    int bad = 0;
    uint32_t nu = e->nusers, np = e->npositions;
    int64_t *cash_held = calloc(nu + 1, sizeof *cash_held);
    int64_t *open_qty = calloc(nu + 1, sizeof *open_qty);
    int64_t *pos_held = calloc(np + 1, sizeof *pos_held);
    int64_t *sym_total = calloc(e->nsymbols + 1, sizeof *sym_total);
    uint32_t norders = 0, nday = 0, nlevels = 0;
    if (!cash_held || !open_qty || !pos_held || !sym_total) {
        bad += inv_fail(tag, "out of memory");
        goto done;
    }
    for (uint32_t s = 0; s < e->nsymbols; s++) {
        for (int side = 0; side < 2; side++) {
            bad += inv_side(e, tag, s, side, cash_held, open_qty, pos_held, &norders, &nday);
            nlevels += side_levels(&e->symbols[s].side[side]);
        }
        if (bad)
            goto done;
        uint32_t bid = bourse__book_best(e, s, BOURSE_BUY), ask = bourse__book_best(e, s, BOURSE_SELL);
        INV(bid == NIL || ask == NIL || e->levels[bid].price < e->levels[ask].price,
            "sym %u: crossed book, bid %lld ask %lld", s, (long long)e->levels[bid].price,
            (long long)e->levels[ask].price);
    }
    INV(norders == e->norders, "%u orders in books, norders %u", norders, e->norders);
    INV(nlevels == e->nlevels, "%u levels in books, nlevels %u", nlevels, e->nlevels);

    /* The booking list: every resting order once, each link mirrored. */
    uint32_t days = 0, prev = NIL;
    for (uint32_t o = e->day_head; o != NIL; o = e->orders[o].dnext) {
        INV(days <= norders && o < e->orders_hwm, "booking list runs wild");
        const order *ord = &e->orders[o];
        INV(ord->live && ord->dprev == prev, "booking list: order %u", o);
        prev = o;
        days++;
    }
    INV(e->day_tail == prev && days == nday, "booking list: %u orders, %u orders in books", days, nday);

    int64_t cash_sum = 0;
    for (uint32_t u = 0; u < nu; u++) {
        const account *a = &e->users[u];
        INV(a->cash >= 0 && a->cash_held >= 0, "user %u: cash %lld held %lld", u, (long long)a->cash,
            (long long)a->cash_held);
        INV(a->cash_held == cash_held[u], "user %u: cash held %lld, open buys hold %lld", u,
            (long long)a->cash_held, (long long)cash_held[u]);
        INV(a->open_qty == open_qty[u], "user %u: open_qty %lld, orders have %lld", u, (long long)a->open_qty,
            (long long)open_qty[u]);
        INV(bourse__day_traded(e, a) >= 0, "user %u: traded %lld", u, (long long)bourse__day_traded(e, a));
        cash_sum += a->cash + a->cash_held;
        /* Positions chained in strictly increasing symbol-name order. */
        uint32_t n = 0, last = NIL;
        for (uint32_t p = a->positions; p != NIL; p = e->positions[p].next) {
            INV(p < np && n <= np, "user %u: position chain runs wild", u);
            const position *ps = &e->positions[p];
            INV(ps->user == u && ps->symbol < e->nsymbols, "position %u: user %u symbol %u", p, ps->user,
                ps->symbol);
            INV(last == NIL || memcmp(e->symbols[e->positions[last].symbol].name.s,
                                      e->symbols[ps->symbol].name.s, BOURSE_SYMBOL_LEN) < 0,
                "user %u: positions out of symbol order", u);
            last = p;
            n++;
        }
        (void)n;
    }
    INV(cash_sum == e->cash_total, "cash: users have %lld, total %lld", (long long)cash_sum,
        (long long)e->cash_total);
    uint32_t chained = 0;
    for (uint32_t u = 0; u < nu; u++)
        for (uint32_t p = e->users[u].positions; p != NIL && chained <= np; p = e->positions[p].next)
            chained++;
    INV(chained == np, "%u positions chained, npositions %u", chained, np);
    for (uint32_t p = 0; p < np; p++) {
        const position *ps = &e->positions[p];
        INV(ps->avail >= 0 && ps->held >= 0, "position %u: avail %lld held %lld", p, (long long)ps->avail,
            (long long)ps->held);
        INV(ps->held == pos_held[p], "position %u: held %lld, open sells hold %lld", p, (long long)ps->held,
            (long long)pos_held[p]);
        INV(bourse__u64map_get(&e->position_by_key, (uint64_t)ps->user << 32 | ps->symbol) == p,
            "position %u: not found by key", p);
        if (ps->symbol < e->nsymbols)
            sym_total[ps->symbol] += ps->avail + ps->held;
    }
    for (uint32_t s = 0; s < e->nsymbols; s++)
        INV(sym_total[s] == e->symbols[s].total, "sym %u: users have %lld shares, total %lld", s,
            (long long)sym_total[s], (long long)e->symbols[s].total);
    INV(e->cash_total >= 0 && e->cash_total <= BOURSE_CASH_MAX, "cash total %lld", (long long)e->cash_total);
done:
    free(cash_held);
    free(open_qty);
    free(pos_held);
    free(sym_total);
    return bad;
}

#endif
