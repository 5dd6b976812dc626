/*
 * internal.h - the engine's state, shared by the files of src/core.
 *
 * Everything lives in flat arrays addressed by 32-bit indices: orders,
 * levels, users, positions, symbols.  Indices instead of pointers keep the
 * hot structures small (an order is one 64-byte cache line), let a table grow
 * with realloc() without fixing up pointers, and make the state trivially
 * serialisable for snapshots and hashing.  NIL (UINT32_MAX) ends every list.
 */
#ifndef BOURSE_CORE_INTERNAL_H
#define BOURSE_CORE_INTERNAL_H

#include "bourse/bourse.h"
#include "hashmap.h"
#include "mem.h"

#include <stdbool.h>
#include <string.h>

#define NIL UINT32_MAX

/* A resting order.  Its owner's share account for the symbol is cached in
 * `pos` so a fill settles without a lookup.  It keeps the fee rates it was
 * accepted with (replay-v2.md, rule 16): `maker` is what it pays when it
 * trades resting, `hold_rate` (the larger of its two rates) sizes the fee
 * reserve of a buy.  Still one 64-byte line. */
typedef struct order {
    uint32_t next, prev; /* FIFO queue within the level */
    uint32_t level;
    uint32_t user;
    uint32_t pos;
    uint32_t qty;          /* open quantity */
    uint32_t dnext, dprev; /* every resting order in booking order: `close`, `block`, `cancelall` */
    int64_t price;
    bourse_name oid;
    uint8_t side, tif, live;
    uint16_t maker, hold_rate; /* basis points */
} order;
_Static_assert(sizeof(order) == 64, "an order is one cache line");

/* All resting orders of one side at one price. */
typedef struct level {
    uint32_t head, tail; /* head trades first; head doubles as the free-list link */
    uint32_t count;
    uint32_t symbol;
    int64_t price;
    int64_t qty;
    uint8_t side;
} level;

/* The price index of one side (book.c explains).  Levels near where the
 * side started are in the ladder: slot i holds the level whose side_key() is
 * kbase + i x step, found by direct index, its presence a bit in `bits`.
 * The others ("far" levels: out of the ladder's range, or between its
 * steps) are in an array sorted so that the best price is last (bids
 * ascending, asks descending, keyed by side_key()) and in level_by_key:
 * keys[0..n) and levels[0..n), cap in all, `front` of them free before
 * keys[0]. */
enum { LADDER = 2048 }; /* slots in a side's ladder */
typedef struct book_side {
    int64_t *keys;
    uint32_t *levels;
    uint32_t n, cap;
    uint32_t front;
    uint32_t *win;    /* LADDER level ids, meaningful where `bits` is set */
    uint64_t *bits;   /* LADDER / 64 words */
    uint64_t summary; /* bit w set when bits[w] != 0 */
    int64_t kbase;    /* side_key() of slot 0 */
    uint32_t step;    /* price units per slot; 0: no ladder (all levels far) */
    uint32_t wn;      /* levels in the ladder */
    int32_t wbest;    /* the best (highest) occupied slot; -1 when wn is 0 */
} book_side;

/* A symbol's venue rules (replay-v2.md, rules 10-16).  Every default is
 * "no constraint": tick 1, lot 1, the rest 0 (none). */
typedef struct instrument {
    bourse_symbol_name name;
    int64_t total; /* shares of this symbol held by all users */
    book_side side[2];
    int64_t tick, maxnotional;
    int64_t ref; /* reference price: the last trade or `ref=`; 0 = none */
    uint32_t lot, maxqty;
    uint32_t band;         /* basis points of a percent; 0 = none */
    uint16_t maker, taker; /* fee rates, basis points */
    uint8_t halted;
    uint8_t
        checked; /* some rule of tick..band is not its default: bourse__rules_check() has work (derived) */
} instrument;

/* A user's account in one symbol.  `ever` records that the user has held the
 * symbol at some time: `balance` prints exactly those. */
typedef struct position {
    int64_t avail, held;
    uint32_t user, symbol;
    uint32_t next; /* the user's positions, newest first */
    uint8_t ever;
} position;

typedef struct account {
    bourse_name name;
    int64_t cash, cash_held;
    int64_t limit;    /* shares per trading day, 0 = none */
    int64_t traded;   /* shares traded on trading day `day` */
    int64_t open_qty; /* open quantity of all the user's resting orders */
    uint32_t day;
    uint32_t positions;
    /* The user's share accounts by symbol % 4, as position index
     * + 1 (0 = not cached): a new order finds its position here without
     * hashing (wallet.c).  Derived; a snapshot does not carry it. */
    uint32_t pos_cache[4];
    uint8_t cash_ever;
    uint8_t blocked; /* kill switch (rule 13) */
} account;

struct bourse_engine {
    bourse_limits lim;
    instrument *symbols;
    uint32_t nsymbols, symbols_cap;
    account *users;
    uint32_t nusers, users_cap;
    position *positions;
    uint32_t npositions, positions_cap;
    /* Pools: a free list of released slots, then never-used slots from the
     * high-water mark up, so untouched memory is never paged in. */
    order *orders;
    uint32_t orders_cap, orders_hwm, orders_free, norders;
    level *levels;
    uint32_t levels_cap, levels_hwm, levels_free, nlevels;

    u64map symbol_by_name;  /* 8-byte name -> instrument */
    u64map position_by_key; /* user << 32 | symbol -> position */
    u64map level_by_key;    /* level_key() -> level */
    keymap user_by_name;    /* (0, name) -> account */
    keymap order_by_id;     /* (user, oid) -> order slot (see engine.c) */

    uint32_t day_head, day_tail; /* every resting order, oldest booking first (dnext/dprev) */
    uint32_t fees_user;          /* the account named FEES, or NIL */
    int64_t cash_total;
    uint64_t trades, commands;
    uint32_t day; /* trading day: bumped by `open` after `close` */
    bool is_open;
    bool halted_all;               /* the emergency stop (`haltall`): every symbol halted */
    struct bourse__accounts *acct; /* account.c; NULL until the first account command */

    /* The command being applied and where its events go. */
    const bourse_cmd *cmd;
    bourse_event_fn emit_fn;
    void *emit_ctx;
};

static inline void emit(bourse_engine *e, const bourse_event *ev)
{
    e->emit_fn(e->emit_ctx, e->cmd, ev);
}

static inline uint64_t level_key(uint32_t sym, int side, int64_t price)
{
    return ((uint64_t)sym << 35) | ((uint64_t)side << 34) | (uint64_t)price;
}

static inline int64_t side_key(int side, int64_t price)
{
    return side == BOURSE_BUY ? price : -price;
}

/* book.c */
/* cap: room for that many far levels (0: a small default). */
int bourse__book_side_init(book_side *s, uint32_t cap);
/* Levels of a side, ladder and far together. */
static inline uint32_t side_levels(const book_side *s)
{
    return s->n + s->wn;
}
/* A side's levels best first: l = bourse__side_first(s, &it); l != NIL; l =
 * bourse__side_next(&it).  The state must not change meanwhile. */
typedef struct side_iter {
    const book_side *s;
    int32_t wi;  /* the next ladder slot, or -1 */
    uint32_t fi; /* far levels left, best last */
} side_iter;
uint32_t bourse__side_first(const book_side *s, side_iter *it);
uint32_t bourse__side_next(side_iter *it);
void bourse__book_side_free(book_side *s);
/* Start loading where the level at `price` would be found. */
void bourse__book_prefetch(const bourse_engine *e, uint32_t sym, int side, int64_t price);
/* The level at `price`, or NIL: never creates one. */
uint32_t bourse__book_level_find(const bourse_engine *e, uint32_t sym, int side, int64_t price);
void bourse__book_unlink(bourse_engine *e, uint32_t o);
int bourse__side_grow(book_side *s);
uint32_t bourse__level_get_slow(bourse_engine *e, uint32_t sym, int side, int64_t price);

/* book.c's fast paths, inline here: the matching calls them on every
 * command, and a call across files (no LTO) cost more than their bodies. */
/* The ladder slot of side key k, when k is in range and on the grid. */
static inline bool win_slot(const book_side *s, int64_t k, uint32_t *slot)
{
    uint64_t d = (uint64_t)(k - s->kbase);
    if (d >= (uint64_t)LADDER * s->step) /* also when step is 0 */
        return false;
    uint32_t q = (uint32_t)d / s->step; /* LADDER x step < 2^32: a 32-bit division */
    *slot = q;
    return q * s->step == (uint32_t)d;
}

static inline bool win_has(const book_side *s, uint32_t i)
{
    return s->bits[i >> 6] >> (i & 63) & 1;
}

static inline uint32_t bourse__book_best(const bourse_engine *e, uint32_t sym, int side)
{
    const book_side *s = &e->symbols[sym].side[side];
    uint32_t far = s->n ? s->levels[s->n - 1] : NIL;
    if (!s->wn)
        return far;
    if (far != NIL && s->keys[s->n - 1] > s->kbase + (int64_t)s->wbest * s->step)
        return far;
    return s->win[s->wbest];
}

/* Make sure one more level fits on this side: the only place the book may
 * allocate, doubling the index when a book passes a power of two of levels. */
static inline bool bourse__book_side_room(bourse_engine *e, uint32_t sym, int side)
{
    book_side *s = &e->symbols[sym].side[side];
    return s->n < s->cap || bourse__side_grow(s) == 0;
}

/* The level at `price`, created when missing; NIL when out of capacity.  An
 * existing level in the ladder, the common case, is found inline. */
static inline uint32_t bourse__book_level_get(bourse_engine *e, uint32_t sym, int side, int64_t price)
{
    const book_side *s = &e->symbols[sym].side[side];
    uint32_t slot;
    if (win_slot(s, side_key(side, price), &slot) && win_has(s, slot))
        return s->win[slot];
    return bourse__level_get_slow(e, sym, side, price);
}

static inline void bourse__book_append(bourse_engine *e, uint32_t lv, uint32_t o)
{
    level *l = &e->levels[lv];
    order *ord = &e->orders[o];
    ord->level = lv;
    ord->next = NIL;
    ord->prev = l->tail;
    if (l->tail != NIL)
        e->orders[l->tail].next = o;
    else
        l->head = o;
    l->tail = o;
    l->count++;
    l->qty += ord->qty;
}

static inline bool bourse__order_available(const bourse_engine *e)
{
    return e->orders_free != NIL || e->orders_hwm < e->orders_cap;
}

static inline uint32_t bourse__order_alloc(bourse_engine *e)
{
    uint32_t o = e->orders_free;
    if (o != NIL)
        e->orders_free = e->orders[o].next;
    else if (e->orders_hwm < e->orders_cap)
        o = e->orders_hwm++;
    else
        return NIL;
    e->norders++;
    return o;
}

static inline void bourse__order_release(bourse_engine *e, uint32_t o)
{
    e->orders[o].live = 0;
    e->orders[o].next = e->orders_free;
    e->orders_free = o;
    e->norders--;
}

/* wallet.c */
uint32_t bourse__position_get(bourse_engine *e, uint32_t u, uint32_t sym, bool create);
/* bourse__position_get()'s fast path, inline: the account's cached
 * position for sym, or NIL (then ask bourse__position_get()). */
static inline uint32_t position_cached(const bourse_engine *e, uint32_t u, uint32_t sym)
{
    uint32_t c = e->users[u].pos_cache[sym & 3];
    return c && e->positions[c - 1].symbol == sym ? c - 1 : NIL;
}
/* floor(notional x rate / 10000) without the product passing 2^63
 * (replay-v2.md, rule 16).  Inline: every hold and fill computes one. */
static inline int64_t fee_of(int64_t notional, int64_t rate)
{
    return notional / 10000 * rate + notional % 10000 * rate / 10000;
}

/* What an order of qty at price holds: a buy Q x P plus its fee reserve at
 * `rate` (wallet.c explains), a sell its shares. */
static inline int64_t order_hold(int side, int64_t qty, int64_t price, int64_t rate)
{
    if (side != BOURSE_BUY)
        return qty;
    int64_t n = qty * price;
    return rate ? n + fee_of(n, rate) : n;
}
static inline bool bourse__hold_fits(const bourse_engine *e, uint32_t u, uint32_t pos, int side,
                                     int64_t amount)
{
    if (side == BOURSE_BUY)
        return e->users[u].cash >= amount;
    return pos != NIL && e->positions[pos].avail >= amount;
}

static inline void bourse__hold_take(bourse_engine *e, uint32_t u, uint32_t pos, int side, int64_t amount)
{
    if (side == BOURSE_BUY) {
        e->users[u].cash -= amount;
        e->users[u].cash_held += amount;
    } else {
        e->positions[pos].avail -= amount;
        e->positions[pos].held += amount;
    }
}

static inline void bourse__hold_release(bourse_engine *e, uint32_t u, uint32_t pos, int side, int64_t amount)
{
    bourse__hold_take(e, u, pos, side, -amount);
}
/* One side of a trade: who, and what their order holds and pays. */
typedef struct party {
    uint32_t user, pos;
    int64_t open;      /* the order's open quantity before the fill */
    int64_t limit;     /* its price (a buy's hold is sized by it) */
    int64_t hold_rate; /* its fee reserve rate (buys) */
    int64_t rate;      /* the fee rate it pays on this fill */
} party;
/* Settle a fill; returns the buyer's and seller's fees in fee[0], fee[1]. */
void bourse__settle(bourse_engine *e, const party *buyer, const party *seller, int64_t qty, int64_t price,
                    int64_t fee[2]);
void bourse__wallet_deposit(bourse_engine *e, const bourse_cmd *c);
void bourse__wallet_withdraw(bourse_engine *e, const bourse_cmd *c);
void bourse__wallet_balance(bourse_engine *e, const bourse_cmd *c);
int64_t bourse__day_traded(const bourse_engine *e, const account *u);

/* match.c */
/* Append a resting day order to the booking-order list `close` follows. */
void bourse__day_list_add(bourse_engine *e, uint32_t o);
/* What an order, cancel or replace says, from either entry: a bourse_cmd
 * (names in place, the handle a hint) or a bourse_op (ids packed, the handle
 * the order's only name).  The checks and the matching read only this, so
 * the two entries cannot answer differently. */
typedef struct req {
    uint32_t user, symbol;
    uint32_t order; /* the handle (bourse.h): 0 = none */
    bool by_handle; /* bourse_op: `order` alone names the order */
    uint8_t side, tif;
    int64_t qty, price;
    const bourse_name *oid, *new_oid;
} req;
void bourse__match_order(bourse_engine *e, const req *c);
void bourse__match_cancel(bourse_engine *e, const req *c);
void bourse__match_replace(bourse_engine *e, const req *c);
void bourse__match_close(bourse_engine *e);
void bourse__match_book(bourse_engine *e, const bourse_cmd *c);
void bourse__match_cancel_all(bourse_engine *e, uint32_t u, uint32_t sym, int reason);

/* rules.c */
void bourse__rules_init(instrument *s);
void bourse__rules_refresh(instrument *s);
void bourse__rules_set(bourse_engine *e, const bourse_cmd *c);
void bourse__fees_set(bourse_engine *e, const bourse_cmd *c);
void bourse__rules_halt(bourse_engine *e, const bourse_cmd *c, bool halt);
void bourse__rules_halt_all(bourse_engine *e, bool halt);
void bourse__rules_block(bourse_engine *e, const bourse_cmd *c, bool block);
void bourse__rules_cancel_all(bourse_engine *e, const bourse_cmd *c);
/* The first venue rule an order of qty at price breaks (0 = none); a market
 * order (price BOURSE_MARKET) gets its protection price in *price. */
int bourse__rules_check(const bourse_engine *e, uint32_t sym, int side, int64_t qty, int64_t *price);

/* engine.c */
void bourse__emit_simple(bourse_engine *e, int type, int reason);

/* account.c: a BOURSE_CMD_ACCOUNT fragment; the accounts in snapshots
 * (version 4) and in the hash. */
void bourse__account_apply(bourse_engine *e, const bourse_cmd *c);
void bourse__accounts_free(bourse_engine *e);
int bourse__accounts_save(const bourse_engine *e, bourse_write_fn fn, void *ctx);
int bourse__accounts_load(bourse_engine *e, bourse_read_fn fn, void *ctx);
uint64_t bourse__accounts_digest(const bourse_engine *e);
void bourse__emit_order(bourse_engine *e, int type, int reason, uint32_t u, const bourse_name *oid);
uint32_t bourse__idmap_find(const bourse_engine *e, uint32_t u, const bourse_name *oid, bool *used);
/* o, when the id map's entry o for (u, oid) names an open order; else NIL. */
uint32_t bourse__idmap_live(const bourse_engine *e, uint32_t u, const bourse_name *oid, uint32_t o);

/* An id-map value for an id that is taken but names no resting order. */
#define ID_DONE (UINT32_MAX - 1)

#endif
