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
 */
#include "internal.h"

static void emit_error(bourse_engine *e, int reason)
{
    emit_simple(e, BOURSE_EV_ERROR, reason);
}

int64_t day_traded(const bourse_engine *e, const account *u)
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

uint32_t position_get(bourse_engine *e, uint32_t u, uint32_t sym, bool create)
{
    uint64_t key = (uint64_t)u << 32 | sym;
    uint32_t p = u64map_get(&e->position_by_key, key);
    if (p != MAP_EMPTY || !create)
        return p == MAP_EMPTY ? NIL : p;
    if (e->npositions == e->positions_cap || u64map_full(&e->position_by_key))
        return NIL;
    p = e->npositions++;
    e->positions[p] = (position){.user = u, .symbol = sym, .next = NIL};
    u64map_put(&e->position_by_key, key, p);
    /* Keep the user's chain in symbol-name order for `balance`. */
    const char *name = e->symbols[sym].name.s;
    uint32_t *link = &e->users[u].positions;
    while (*link != NIL &&
           memcmp(e->symbols[e->positions[*link].symbol].name.s, name, BOURSE_SYMBOL_LEN) < 0)
        link = &e->positions[*link].next;
    e->positions[p].next = *link;
    *link = p;
    return p;
}

int64_t order_hold(int side, int64_t qty, int64_t price)
{
    return side == BOURSE_BUY ? qty * price : qty;
}

bool hold_fits(const bourse_engine *e, uint32_t u, uint32_t pos, int side, int64_t amount)
{
    if (side == BOURSE_BUY)
        return e->users[u].cash >= amount;
    return pos != NIL && e->positions[pos].avail >= amount;
}

void hold_take(bourse_engine *e, uint32_t u, uint32_t pos, int side, int64_t amount)
{
    if (side == BOURSE_BUY) {
        e->users[u].cash -= amount;
        e->users[u].cash_held += amount;
    } else {
        e->positions[pos].avail -= amount;
        e->positions[pos].held += amount;
    }
}

void hold_release(bourse_engine *e, uint32_t u, uint32_t pos, int side, int64_t amount)
{
    hold_take(e, u, pos, side, -amount);
}

/* A fill of `qty` at `price`: the buyer's hold was taken at `buyer_limit`, so
 * the difference comes back to the buyer's available cash. */
void settle(bourse_engine *e, uint32_t buyer, uint32_t buyer_pos, int64_t buyer_limit,
            uint32_t seller, uint32_t seller_pos, int64_t qty, int64_t price)
{
    account *b = &e->users[buyer], *s = &e->users[seller];
    b->cash_held -= qty * buyer_limit;
    b->cash += qty * (buyer_limit - price);
    position *bp = &e->positions[buyer_pos];
    bp->avail += qty;
    bp->ever = 1;
    e->positions[seller_pos].held -= qty;
    s->cash += qty * price;
    s->cash_ever = 1;
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

void wallet_deposit(bourse_engine *e, const bourse_cmd *c)
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
        uint32_t p = position_get(e, c->user, c->symbol, true);
        if (p == NIL)
            return emit_error(e, BOURSE_R_CAPACITY);
        s->total += c->qty;
        e->positions[p].avail += c->qty;
        e->positions[p].ever = 1;
    }
    emit_simple(e, BOURSE_EV_OK, 0);
}

void wallet_withdraw(bourse_engine *e, const bourse_cmd *c)
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
        uint32_t p = position_get(e, c->user, c->symbol, false);
        if (p == NIL || e->positions[p].avail < c->qty)
            return emit_error(e, BOURSE_R_INSUFFICIENT_SHARES);
        e->positions[p].avail -= c->qty;
        e->symbols[c->symbol].total -= c->qty;
    }
    emit_simple(e, BOURSE_EV_OK, 0);
}

void wallet_balance(bourse_engine *e, const bourse_cmd *c)
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
