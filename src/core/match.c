/*
 * match.c - orders meeting the book: entry, cancel, replace, session close.
 *
 * The rules are those of shared/spec/replay-v2.md, and the checks run in the
 * order its rule 7 gives, each refusal leaving the state untouched (the
 * venue rules' own checks, tick to notional, are in rules.c).  An
 * incoming order takes the opposite side's best level while it crosses,
 * oldest order first; a resting order of the same user is canceled whole
 * instead of traded (self-trade prevention).  Resting orders always trade at
 * their own price, so a resting buy's hold is exactly what it pays.
 *
 * Events are emitted as things happen: ACCEPTED (or REPLACED), each TRADE
 * (with its FEE events) or SELF_TRADE cancel, then any cancel of the
 * incoming remainder.
 *
 * Every resting order is on one list in booking order (dnext/dprev, from
 * e->day_head): `close` walks it for the day orders, `block` and
 * `cancelall` for one user's.  Those walks are O(resting orders); the checks
 * of an incoming order stay O(1).
 */
#include "internal.h"

/* The handle of order slot o in events (bourse.h): 0 means none. */
static uint32_t handle(uint32_t o)
{
    return o == NIL ? 0 : o + 1;
}

static void emit_canceled(bourse_engine *e, uint32_t o, uint32_t sym, int64_t qty, int reason)
{
    const order *ord = &e->orders[o];
    bourse_event ev = {.type = BOURSE_EV_CANCELED,
                       .reason = (uint8_t)reason,
                       .side = ord->side,
                       .user = ord->user,
                       .symbol = sym,
                       .order = handle(o),
                       .qty = qty,
                       .price = ord->price,
                       .oid = ord->oid};
    emit(e, &ev);
}

void bourse__day_list_add(bourse_engine *e, uint32_t o)
{
    order *ord = &e->orders[o];
    ord->dnext = NIL;
    ord->dprev = e->day_tail;
    if (e->day_tail != NIL)
        e->orders[e->day_tail].dnext = o;
    else
        e->day_head = o;
    e->day_tail = o;
}

static void day_list_del(bourse_engine *e, uint32_t o)
{
    order *ord = &e->orders[o];
    if (ord->dprev != NIL)
        e->orders[ord->dprev].dnext = ord->dnext;
    else
        e->day_head = ord->dnext;
    if (ord->dnext != NIL)
        e->orders[ord->dnext].dprev = ord->dprev;
    else
        e->day_tail = ord->dprev;
}

/* Take a resting order off the book for good, releasing what it holds. */
static void order_remove(bourse_engine *e, uint32_t o, int reason)
{
    order *ord = &e->orders[o];
    uint32_t sym = e->levels[ord->level].symbol;
    if (reason)
        emit_canceled(e, o, sym, ord->qty, reason);
    bourse__hold_release(e, ord->user, ord->pos, ord->side,
                         order_hold(ord->side, ord->qty, ord->price, ord->hold_rate));
    e->users[ord->user].open_qty -= ord->qty;
    day_list_del(e, o);
    bourse__book_unlink(e, o);
    bourse__order_release(e, o);
}

static bool crosses(int side, int64_t limit, int64_t resting)
{
    return side == BOURSE_BUY ? resting <= limit : resting >= limit;
}

/* Can `qty` be filled at once from other users' orders? (fok) */
static bool fok_fillable(const bourse_engine *e, uint32_t u, uint32_t sym, int side, int64_t price,
                         int64_t qty)
{
    const book_side *s = &e->symbols[sym].side[!side];
    int64_t avail = 0;
    if (e->lim.flags & BOURSE_SELF_TRADE)
        u = NIL; /* its own orders count too */
    side_iter it;
    for (uint32_t lv = bourse__side_first(s, &it); lv != NIL; lv = bourse__side_next(&it)) {
        const level *l = &e->levels[lv];
        if (!crosses(side, price, l->price))
            break;
        for (uint32_t o = l->head; o != NIL; o = e->orders[o].next) {
            if (e->orders[o].user != u && (avail += e->orders[o].qty) >= qty)
                return true;
        }
    }
    return false;
}

/* The order being matched. */
typedef struct taker {
    uint32_t user, pos, sym;
    int side;
    int64_t price, qty;      /* qty: still to fill */
    int64_t hold_rate, rate; /* its fee reserve rate and the taker rate it pays */
    const bourse_name *oid;
} taker;

static void emit_fee(bourse_engine *e, uint32_t sym, int side, uint32_t u, const bourse_name *oid, uint32_t o,
                     int64_t amount)
{
    bourse_event ev = {.type = BOURSE_EV_FEE,
                       .side = (uint8_t)side,
                       .user = u,
                       .symbol = sym,
                       .order = handle(o),
                       .qty = amount,
                       .oid = *oid};
    emit(e, &ev);
}

static void fill(bourse_engine *e, taker *t, uint32_t o)
{
    order *r = &e->orders[o];
    int64_t q = t->qty < r->qty ? t->qty : r->qty, fee[2];
    party tp = {t->user, t->pos, t->qty, t->price, t->hold_rate, t->rate};
    party rp = {r->user, r->pos, r->qty, r->price, r->hold_rate, r->maker};
    bourse_event ev = {.type = BOURSE_EV_TRADE,
                       .side = (uint8_t)t->side, /* the taker's */
                       .symbol = t->sym,
                       .order = handle(o),
                       .qty = q,
                       .price = r->price};
    if (t->side == BOURSE_BUY) {
        bourse__settle(e, &tp, &rp, q, r->price, fee);
        ev.user = t->user, ev.oid = *t->oid, ev.user2 = r->user, ev.oid2 = r->oid;
    } else {
        bourse__settle(e, &rp, &tp, q, r->price, fee);
        ev.user = r->user, ev.oid = r->oid, ev.user2 = t->user, ev.oid2 = *t->oid;
    }
    e->trades++;
    e->symbols[t->sym].ref = r->price; /* every trade moves the band (rule 11) */
    emit(e, &ev);
    if (fee[0] | fee[1]) {
        bool tb = t->side == BOURSE_BUY;
        if (fee[0])
            emit_fee(e, t->sym, BOURSE_BUY, ev.user, &ev.oid, tb ? NIL : o, fee[0]);
        if (fee[1])
            emit_fee(e, t->sym, BOURSE_SELL, ev.user2, &ev.oid2, tb ? o : NIL, fee[1]);
    }
    t->qty -= q;
    r->qty -= (uint32_t)q;
    e->levels[r->level].qty -= q;
    e->users[r->user].open_qty -= q;
    if (r->qty == 0)
        order_remove(e, o, 0);
}

/* Does the taker cross the opposite side's best level?  Inline before the
 * call: most orders and moves rest without trading (94% of exchange-core's
 * commands), and for them this test is all of take_liquidity. */
static inline bool crosses_best(const bourse_engine *e, const taker *t)
{
    uint32_t lv = bourse__book_best(e, t->sym, !t->side);
    return lv != NIL && crosses(t->side, t->price, e->levels[lv].price);
}

static void take_liquidity(bourse_engine *e, taker *t)
{
    /* Without self-trade prevention (BOURSE_SELF_TRADE) no user id matches. */
    uint32_t self = e->lim.flags & BOURSE_SELF_TRADE ? NIL : t->user;
    while (t->qty > 0) {
        uint32_t lv = bourse__book_best(e, t->sym, !t->side);
        if (lv == NIL || !crosses(t->side, t->price, e->levels[lv].price))
            return;
        for (uint32_t o = e->levels[lv].head; o != NIL && t->qty > 0;) {
            uint32_t next = e->orders[o].next;
            if (e->orders[o].user == self)
                order_remove(e, o, BOURSE_R_SELF_TRADE);
            else
                fill(e, t, o);
            o = next;
        }
    }
}

/* Book the rest of a taker in slot o (already allocated), with its symbol's
 * maker rate of when it was accepted. */
static void rest(bourse_engine *e, const taker *t, uint32_t o, int tif, int64_t maker)
{
    order *ord = &e->orders[o];
    ord->user = t->user;
    ord->pos = t->pos;
    ord->qty = (uint32_t)t->qty;
    ord->price = t->price;
    ord->oid = *t->oid;
    ord->side = (uint8_t)t->side;
    ord->tif = (uint8_t)tif;
    ord->live = 1;
    ord->maker = (uint16_t)maker;
    ord->hold_rate = (uint16_t)t->hold_rate;
    bourse__book_append(e, bourse__book_level_get(e, t->sym, t->side, t->price), o);
    bourse__day_list_add(e, o);
    e->users[t->user].open_qty += t->qty;
}

static bool over_daily_limit(const bourse_engine *e, uint32_t u, int64_t open_qty, int64_t qty)
{
    const account *us = &e->users[u];
    return us->limit != 0 && bourse__day_traded(e, us) + open_qty + qty > us->limit;
}

/* Can a new resting order be booked on this side whatever happens?  Levels
 * never run out before orders do (a level holds at least one order and the
 * pools are the same size), so the order slot and the side's price index are
 * all there is to check. */
static bool room_to_rest(bourse_engine *e, uint32_t sym, int side, bool new_slot)
{
    return (!new_slot || bourse__order_available(e)) && bourse__book_side_room(e, sym, side);
}

static void reject(bourse_engine *e, const req *c, const bourse_name *oid, int reason)
{
    bourse__emit_order(e, BOURSE_EV_REJECTED, reason, c->user, oid);
}

/* The core's own range check of an order's numbers (bourse.h): the text
 * parser and the gateways refuse these first, but a shell driving the API
 * directly may not, and every product below relies on them. */
static bool out_of_range(int64_t qty, int64_t price)
{
    return qty < 1 || qty > BOURSE_QTY_MAX || price < 0 || price > BOURSE_PRICE_MAX;
}

void bourse__match_order(bourse_engine *e, const req *c)
{
    if (!e->is_open)
        return reject(e, c, c->oid, BOURSE_R_MARKET_CLOSED);
    if (c->user == BOURSE_NONE)
        return reject(e, c, c->oid, BOURSE_R_UNKNOWN_USER);
    if (c->symbol >= e->nsymbols)
        return reject(e, c, c->oid, BOURSE_R_UNKNOWN_SYMBOL);
    if (out_of_range(c->qty, c->price) || c->side > BOURSE_SELL || c->tif > BOURSE_FOK)
        return reject(e, c, c->oid, BOURSE_R_OVERFLOW);
    uint32_t idslot;
    if (bourse__keymap_probe(&e->order_by_id, c->user, c->oid, &idslot) != MAP_EMPTY)
        return reject(e, c, c->oid, BOURSE_R_DUPLICATE_ID);
    if (e->users[c->user].blocked)
        return reject(e, c, c->oid, BOURSE_R_BLOCKED);
    const instrument *s = &e->symbols[c->symbol];
    if (s->halted | e->halted_all)
        return reject(e, c, c->oid, BOURSE_R_HALTED);
    int64_t price = c->price; /* a market order's becomes its protection price */
    int why =
        s->checked || price == BOURSE_MARKET ? bourse__rules_check(e, c->symbol, c->side, c->qty, &price) : 0;
    if (why)
        return reject(e, c, c->oid, why);
    int tif = c->tif;
    if (c->price == BOURSE_MARKET && tif != BOURSE_FOK)
        tif = BOURSE_IOC; /* a market order never rests */
    int64_t hold_rate = s->maker > s->taker ? s->maker : s->taker;
    uint32_t pos = position_cached(e, c->user, c->symbol);
    if (pos == NIL)
        pos = bourse__position_get(e, c->user, c->symbol, false);
    int64_t hold = order_hold(c->side, c->qty, price, hold_rate);
    if (!bourse__hold_fits(e, c->user, pos, c->side, hold))
        return reject(e, c, c->oid,
                      c->side == BOURSE_BUY ? BOURSE_R_INSUFFICIENT_CASH : BOURSE_R_INSUFFICIENT_SHARES);
    if (over_daily_limit(e, c->user, e->users[c->user].open_qty, c->qty))
        return reject(e, c, c->oid, BOURSE_R_DAILY_LIMIT);
    bool may_rest = tif == BOURSE_DAY || tif == BOURSE_GTC;
    if (bourse__keymap_full(&e->order_by_id) || (may_rest && !room_to_rest(e, c->symbol, c->side, true)))
        return reject(e, c, c->oid, BOURSE_R_CAPACITY);
    if (pos == NIL && (pos = bourse__position_get(e, c->user, c->symbol, true)) == NIL)
        return reject(e, c, c->oid, BOURSE_R_CAPACITY);

    /* The slot it would rest in is taken now, so that ACCEPTED can name its
     * handle (bourse.h); room_to_rest made sure there is one. */
    uint32_t slot = may_rest ? bourse__order_alloc(e) : NIL, id = ID_DONE;
    bourse_event ev = {.type = BOURSE_EV_ACCEPTED,
                       .side = c->side,
                       .user = c->user,
                       .symbol = c->symbol,
                       .order = handle(slot),
                       .qty = c->qty,
                       .price = price,
                       .oid = *c->oid};
    emit(e, &ev);
    taker t = {.user = c->user,
               .pos = pos,
               .sym = c->symbol,
               .side = c->side,
               .price = price,
               .qty = c->qty,
               .hold_rate = hold_rate,
               .rate = s->taker,
               .oid = c->oid};
    int64_t maker = s->maker;
    if (tif == BOURSE_FOK && !fok_fillable(e, c->user, c->symbol, c->side, price, c->qty)) {
        ev.type = BOURSE_EV_CANCELED, ev.reason = BOURSE_R_FOK;
        emit(e, &ev);
    } else {
        bourse__hold_take(e, c->user, pos, c->side, hold);
        if (crosses_best(e, &t))
            take_liquidity(e, &t);
        if (t.qty > 0 && may_rest) {
            rest(e, &t, slot, tif, maker);
            id = slot;
        } else if (may_rest) {
            bourse__order_release(e, slot); /* all traded */
        } else if (t.qty > 0) {
            bourse__hold_release(e, c->user, pos, c->side, order_hold(c->side, t.qty, price, hold_rate));
            ev.type = BOURSE_EV_CANCELED, ev.reason = BOURSE_R_IOC, ev.qty = t.qty;
            emit(e, &ev);
        }
    }
    bourse__keymap_put_at(&e->order_by_id, idslot, c->user, c->oid, id); /* nothing was put since the probe */
}

/* The open order (u, oid) of a cancel or replace: through the command's
 * handle when it names it (no hashing, and the order's line is needed next
 * anyway), else through the id map.  A bourse_op names it by handle alone:
 * an open order of the same user. */
static inline uint32_t order_of(const bourse_engine *e, const req *c)
{
    if (c->by_handle) {
        uint32_t o = c->order - 1; /* 0 wraps past every slot */
        return o < e->orders_cap && e->orders[o].live && e->orders[o].user == c->user ? o : NIL;
    }
    if (c->order && bourse__idmap_live(e, c->user, c->oid, c->order - 1) != NIL)
        return c->order - 1;
    bool used;
    return bourse__idmap_find(e, c->user, c->oid, &used);
}

void bourse__match_cancel(bourse_engine *e, const req *c)
{
    if (c->user == BOURSE_NONE)
        return reject(e, c, c->oid, BOURSE_R_UNKNOWN_USER);
    uint32_t o = order_of(e, c);
    if (o == NIL)
        return reject(e, c, c->oid, BOURSE_R_UNKNOWN_ORDER);
    order_remove(e, o, BOURSE_R_USER);
}

void bourse__match_replace(bourse_engine *e, const req *c)
{
    if (!e->is_open)
        return reject(e, c, c->new_oid, BOURSE_R_MARKET_CLOSED);
    if (c->user == BOURSE_NONE)
        return reject(e, c, c->new_oid, BOURSE_R_UNKNOWN_USER);
    if (out_of_range(c->qty, c->price))
        return reject(e, c, c->new_oid, BOURSE_R_OVERFLOW);
    uint32_t o = order_of(e, c);
    if (o == NIL)
        return reject(e, c, c->new_oid, BOURSE_R_UNKNOWN_ORDER);
    uint32_t idslot;
    if (bourse__keymap_probe(&e->order_by_id, c->user, c->new_oid, &idslot) != MAP_EMPTY)
        return reject(e, c, c->new_oid, BOURSE_R_DUPLICATE_ID);
    if (e->users[c->user].blocked)
        return reject(e, c, c->new_oid, BOURSE_R_BLOCKED);
    order *r = &e->orders[o];
    int side = r->side;
    uint32_t sym = e->levels[r->level].symbol;
    const instrument *s = &e->symbols[sym];
    if (s->halted | e->halted_all)
        return reject(e, c, c->new_oid, BOURSE_R_HALTED);
    int64_t price = c->price;
    int why = s->checked || price == BOURSE_MARKET ? bourse__rules_check(e, sym, side, c->qty, &price) : 0;
    if (why)
        return reject(e, c, c->new_oid, why);
    int64_t hold_rate = s->maker > s->taker ? s->maker : s->taker, maker = s->maker;
    int64_t old_hold = order_hold(side, r->qty, r->price, r->hold_rate);
    int64_t new_hold = order_hold(side, c->qty, price, hold_rate);
    int64_t avail = side == BOURSE_BUY ? e->users[c->user].cash : e->positions[r->pos].avail;
    if (avail + old_hold < new_hold)
        return reject(e, c, c->new_oid,
                      side == BOURSE_BUY ? BOURSE_R_INSUFFICIENT_CASH : BOURSE_R_INSUFFICIENT_SHARES);
    if (over_daily_limit(e, c->user, e->users[c->user].open_qty - r->qty, c->qty))
        return reject(e, c, c->new_oid, BOURSE_R_DAILY_LIMIT);
    if (bourse__keymap_full(&e->order_by_id) || !room_to_rest(e, sym, side, false))
        return reject(e, c, c->new_oid, BOURSE_R_CAPACITY);

    bourse_event ev = {.type = BOURSE_EV_REPLACED,
                       .side = (uint8_t)side,
                       .user = c->user,
                       .symbol = sym,
                       .order = handle(o),
                       .qty = c->qty,
                       .price = price,
                       .oid = r->oid, /* the command's (bourse_cmd), checked by order_of */
                       .oid2 = *c->new_oid};
    emit(e, &ev);
    bourse__keymap_put_at(&e->order_by_id, idslot, c->user, c->new_oid, o);
    /* Release the old hold and take the new one in a single update: the two
     * back to back stalled on reading just-written balances. */
    bourse__hold_take(e, c->user, r->pos, side, new_hold - old_hold);
    if (price == r->price && c->qty <= r->qty) {
        /* Keeps its place in the queue, with the rates now in force. */
        e->users[c->user].open_qty -= r->qty - c->qty;
        e->levels[r->level].qty -= r->qty - c->qty;
        r->qty = (uint32_t)c->qty;
        r->oid = *c->new_oid;
        r->maker = (uint16_t)maker;
        r->hold_rate = (uint16_t)hold_rate;
        return;
    }
    e->users[c->user].open_qty -= r->qty;
    day_list_del(e, o);
    bourse__book_unlink(e, o);
    taker t = {.user = c->user,
               .pos = r->pos,
               .sym = sym,
               .side = side,
               .price = price,
               .qty = c->qty,
               .hold_rate = hold_rate,
               .rate = s->taker,
               .oid = c->new_oid};
    int tif = r->tif;
    r->live = 0; /* not resting while it takes liquidity */
    if (crosses_best(e, &t))
        take_liquidity(e, &t);
    if (t.qty > 0)
        rest(e, &t, o, tif, maker);
    else
        bourse__order_release(e, o);
}

void bourse__match_close(bourse_engine *e)
{
    for (uint32_t o = e->day_head; o != NIL;) {
        uint32_t next = e->orders[o].dnext;
        if (e->orders[o].tif == BOURSE_DAY)
            order_remove(e, o, BOURSE_R_SESSION_END);
        o = next;
    }
}

/* Every open order of u (on sym, or on all symbols when sym is BOURSE_NONE)
 * in booking order: `block` and `cancelall`. */
void bourse__match_cancel_all(bourse_engine *e, uint32_t u, uint32_t sym, int reason)
{
    for (uint32_t o = e->day_head; o != NIL;) {
        const order *ord = &e->orders[o];
        uint32_t next = ord->dnext;
        if (ord->user == u && (sym == BOURSE_NONE || e->levels[ord->level].symbol == sym))
            order_remove(e, o, reason);
        o = next;
    }
}

void bourse__match_book(bourse_engine *e, const bourse_cmd *c)
{
    if (c->symbol >= e->nsymbols)
        return bourse__emit_simple(e, BOURSE_EV_ERROR, BOURSE_R_UNKNOWN_SYMBOL);
    for (int side = BOURSE_BUY; side <= BOURSE_SELL; side++) {
        const book_side *s = &e->symbols[c->symbol].side[side];
        side_iter it;
        for (uint32_t lv = bourse__side_first(s, &it); lv != NIL; lv = bourse__side_next(&it)) {
            const level *l = &e->levels[lv];
            bourse_event ev = {.type = BOURSE_EV_LEVEL,
                               .side = (uint8_t)side,
                               .symbol = c->symbol,
                               .price = l->price,
                               .qty = l->qty,
                               .count = l->count};
            emit(e, &ev);
        }
    }
}

uint32_t bourse_book_depth(const bourse_engine *e, uint32_t symbol, int side, bourse_depth *out, uint32_t n)
{
    if (symbol >= e->nsymbols || (side != BOURSE_BUY && side != BOURSE_SELL))
        return 0;
    const book_side *s = &e->symbols[symbol].side[side];
    uint32_t k = 0;
    side_iter it;
    for (uint32_t lv = bourse__side_first(s, &it); lv != NIL && k < n; lv = bourse__side_next(&it), k++) {
        const level *l = &e->levels[lv];
        out[k] = (bourse_depth){.price = l->price, .qty = l->qty, .count = l->count};
    }
    return k;
}
