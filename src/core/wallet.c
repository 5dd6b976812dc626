/*
 * wallet.c - cash and share accounts, holds, settlement.
 *
 * Every user has one cash account inline and a share account ("position")
 * per symbol, created on first use and found through position_by_key.  Each
 * account splits into available and held: an open order holds what it could
 * still need (a buy QTY x PRICE of cash, a sell QTY shares), so a fill can
 * never fail for lack of funds and no balance ever goes negative.  A user's
 * positions are chained in symbol-name byte order, which is the order
 * `balance` prints them in.
 *
 * Totals per asset are kept so deposits can refuse to push any asset past
 * BOURSE_TOTAL_MAX; with that bound no sum in the core can overflow.
 *
 * Fees (replay-v2.md, rule 16).  A buy of open quantity Q at P with fee
 * rates m and t holds H(Q) = Q x P + fee(Q x P, max(m, t)); a fill of q
 * frees H(Q) - H(Q - q), out of which the buyer pays the trade and its fee
 * and keeps the rest.  Because fees round down, fee(a) + fee(b) <= fee(a + b)
 * and the rest is never negative, and the held cash of a user is always the
 * sum of H(open quantity) over its open buys.  Fees are paid into the
 * available cash of the account named FEES: cash only moves, the
 * exchange-wide total never changes.  With no fees every H is Q x P and
 * every number is version 1's.
 */
#include "internal.h"

static void emit_error(bourse_engine *e, int reason)
{
    bourse__emit_simple(e, BOURSE_EV_ERROR, reason);
}

int64_t bourse__day_traded(const bourse_engine *e, const account *u)
{
    return u->day == e->day ? u->traded : 0;
}

static void add_traded(bourse_engine *e, account *u, int64_t qty)
{
    if (u->day != e->day) {
        u->day = e->day;
        u->traded = 0;
    }
    u->traded += qty;
}

/*
 * A user's share account in a symbol.  Every new order needs its user's, and
 * most users trade a few symbols, so each account caches its positions in
 * four slots by symbol (positions are never deleted, so a cached index stays
 * right; the slot is checked against the symbol, since symbols 1 and 5
 * share one).  Only a miss hashes into position_by_key.
 */
uint32_t bourse__position_get(bourse_engine *e, uint32_t u, uint32_t sym, bool create)
{
    uint32_t *cached = &e->users[u].pos_cache[sym & 3];
    if (*cached && e->positions[*cached - 1].symbol == sym)
        return *cached - 1;
    uint64_t key = (uint64_t)u << 32 | sym;
    uint32_t p = bourse__u64map_get(&e->position_by_key, key);
    if (p != MAP_EMPTY)
        *cached = p + 1;
    if (p != MAP_EMPTY || !create)
        return p == MAP_EMPTY ? NIL : p;
    if (e->npositions == e->positions_cap || bourse__u64map_full(&e->position_by_key))
        return NIL;
    p = e->npositions++;
    e->positions[p] = (position){.user = u, .symbol = sym, .next = NIL};
    bourse__u64map_put(&e->position_by_key, key, p);
    *cached = p + 1;
    /* Keep the user's chain in symbol-name order for `balance`. */
    const char *name = e->symbols[sym].name.s;
    uint32_t *link = &e->users[u].positions;
    while (*link != NIL && memcmp(e->symbols[e->positions[*link].symbol].name.s, name, BOURSE_SYMBOL_LEN) < 0)
        link = &e->positions[*link].next;
    e->positions[p].next = *link;
    *link = p;
    return p;
}

/* A fill of `qty` at `price`.  The buyer's order frees what the filled
 * shares held (at its own limit and reserve rate) and pays the trade and its
 * fee out of it; the seller's held shares go, and it receives the notional
 * less its fee.  Both fees go to FEES (which exists when any rate is set). */
void bourse__settle(bourse_engine *e, const party *buyer, const party *seller, int64_t qty, int64_t price,
                    int64_t fee[2])
{
    account *b = &e->users[buyer->user], *s = &e->users[seller->user];
    int64_t n = qty * price;
    fee[0] = buyer->rate ? fee_of(n, buyer->rate) : 0;
    fee[1] = seller->rate ? fee_of(n, seller->rate) : 0;
    int64_t freed = order_hold(BOURSE_BUY, buyer->open, buyer->limit, buyer->hold_rate) -
                    order_hold(BOURSE_BUY, buyer->open - qty, buyer->limit, buyer->hold_rate);
    b->cash_held -= freed;
    b->cash += freed - n - fee[0];
    position *bp = &e->positions[buyer->pos];
    bp->avail += qty;
    bp->ever = 1;
    e->positions[seller->pos].held -= qty;
    s->cash += n - fee[1];
    s->cash_ever = 1;
    if (fee[0] + fee[1] > 0) {
        account *f = &e->users[e->fees_user];
        f->cash += fee[0] + fee[1];
        f->cash_ever = 1;
    }
    add_traded(e, b, qty);
    add_traded(e, s, qty);
}

/* Checks shared by deposit and withdraw; the position, or NIL for cash. */
static bool asset_known(bourse_engine *e, const bourse_cmd *c)
{
    if (c->user == BOURSE_NONE) {
        emit_error(e, BOURSE_R_UNKNOWN_USER);
        return false;
    }
    if (c->symbol == BOURSE_NONE) {
        emit_error(e, BOURSE_R_UNKNOWN_SYMBOL);
        return false;
    }
    return true;
}

void bourse__wallet_deposit(bourse_engine *e, const bourse_cmd *c)
{
    if (!asset_known(e, c))
        return;
    account *u = &e->users[c->user];
    if (c->symbol == BOURSE_CASH) {
        if (c->qty > BOURSE_CASH_MAX - e->cash_total)
            return emit_error(e, BOURSE_R_OVERFLOW);
        e->cash_total += c->qty;
        u->cash += c->qty;
        u->cash_ever = 1;
    } else {
        instrument *s = &e->symbols[c->symbol];
        if (c->qty > BOURSE_TOTAL_MAX - s->total)
            return emit_error(e, BOURSE_R_OVERFLOW);
        uint32_t p = bourse__position_get(e, c->user, c->symbol, true);
        if (p == NIL)
            return emit_error(e, BOURSE_R_CAPACITY);
        s->total += c->qty;
        e->positions[p].avail += c->qty;
        e->positions[p].ever = 1;
    }
    bourse__emit_simple(e, BOURSE_EV_OK, 0);
}

void bourse__wallet_withdraw(bourse_engine *e, const bourse_cmd *c)
{
    if (!asset_known(e, c))
        return;
    account *u = &e->users[c->user];
    if (c->symbol == BOURSE_CASH) {
        if (u->cash < c->qty)
            return emit_error(e, BOURSE_R_INSUFFICIENT_CASH);
        u->cash -= c->qty;
        e->cash_total -= c->qty;
    } else {
        uint32_t p = bourse__position_get(e, c->user, c->symbol, false);
        if (p == NIL || e->positions[p].avail < c->qty)
            return emit_error(e, BOURSE_R_INSUFFICIENT_SHARES);
        e->positions[p].avail -= c->qty;
        e->symbols[c->symbol].total -= c->qty;
    }
    bourse__emit_simple(e, BOURSE_EV_OK, 0);
}

void bourse__wallet_balance(bourse_engine *e, const bourse_cmd *c)
{
    if (c->user == BOURSE_NONE)
        return emit_error(e, BOURSE_R_UNKNOWN_USER);
    const account *u = &e->users[c->user];
    bourse_event ev = {.type = BOURSE_EV_BALANCE, .user = c->user};
    if (u->cash_ever) {
        ev.symbol = BOURSE_CASH;
        ev.qty = u->cash;
        ev.count = u->cash_held;
        emit(e, &ev);
    }
    for (uint32_t p = u->positions; p != NIL; p = e->positions[p].next) {
        const position *pos = &e->positions[p];
        if (!pos->ever)
            continue;
        ev.symbol = pos->symbol;
        ev.qty = pos->avail;
        ev.count = pos->held;
        emit(e, &ev);
    }
}
