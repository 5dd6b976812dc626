/*
 * snapshot.c - the engine's whole state as a byte stream, and back.
 *
 * The stream is logical, not a memory image: symbols, accounts and
 * positions by id, then each book best level first with its queue in time
 * order, the resting orders in booking order and the order ids that are
 * taken but no longer open.  Version 3 adds the venue rules of replay-v2.md:
 * each symbol's rules, fee rates, reference price and halt, each user's kill
 * switch, each order's fee rates, and gtc orders in the booking list (which
 * `block` and `cancelall` follow); older snapshots load with no rules and
 * their gtc orders booked after the day orders.  Pool slots, free lists and hash-table layouts are
 * rebuilt on load, so a snapshot is compact (untouched capacity costs
 * nothing) and can be checked: load refuses any stream whose parts do not
 * add up (a hold that no order explains, a total that does not match its
 * balances, an id out of range), because a snapshot is input like any other.
 *
 * What does decide future behaviour is kept exactly: every capacity and
 * hash-table size (so CAPACITY answers come where they would have), the
 * trading day, the counters.  After load, bourse_engine_hash is the saved
 * engine's and every further command gives the same events.
 *
 * The core does no I/O: bytes go through the caller's callbacks.  All
 * integers are little-endian; docs/journal.md has the layout.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

#define SNAP_MAGIC "BOURSE-S"
#define SNAP_END "END-STAT"
/* 2 added the limits' flags, 3 the venue rules, 4 the accounts (account.c,
 * before the end marker); an engine without accounts still writes 3, byte
 * for byte as before; 1 to 3 still load. */
#define SNAP_VERSION 4u

/* ---- writing ---- */

typedef struct writer {
    unsigned char buf[4096];
    size_t len;
    bourse_write_fn fn;
    void *ctx;
    int err;
} writer;

static void w_flush(writer *w)
{
    if (w->len && !w->err)
        w->err = w->fn(w->ctx, w->buf, w->len);
    w->len = 0;
}

static void w_bytes(writer *w, const void *p, size_t n)
{
    if (w->len + n > sizeof w->buf)
        w_flush(w);
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void w_u32(writer *w, uint32_t v)
{
    w_bytes(w, &v, 4);
}

static void w_u64(writer *w, uint64_t v)
{
    w_bytes(w, &v, 8);
}

/* The far array's capacity, or the power of two that holds all the side's
 * levels when that is more. */
static uint32_t side_room(const book_side *s)
{
    uint32_t room = s->cap;
    while (room < side_levels(s))
        room *= 2;
    return room;
}

static void save_books(writer *w, const bourse_engine *e)
{
    for (uint32_t s = 0; s < e->nsymbols; s++) {
        for (int side = 0; side < 2; side++) {
            const book_side *bs = &e->symbols[s].side[side];
            w_u32(w, side_levels(bs));
            side_iter it;
            for (uint32_t lv = bourse__side_first(bs, &it); lv != NIL; lv = bourse__side_next(&it)) {
                const level *l = &e->levels[lv];
                w_u64(w, (uint64_t)l->price);
                w_u32(w, l->count);
                for (uint32_t o = l->head; o != NIL; o = e->orders[o].next) {
                    const order *ord = &e->orders[o];
                    w_u32(w, ord->user);
                    w_u32(w, ord->qty);
                    w_bytes(w, ord->oid.s, BOURSE_NAME_LEN);
                    w_bytes(w, &ord->tif, 1);
                    w_u32(w, (uint32_t)ord->maker | (uint32_t)ord->hold_rate << 16);
                }
            }
        }
    }
}

int bourse_engine_save(const bourse_engine *e, bourse_write_fn fn, void *ctx)
{
    writer w = {.fn = fn, .ctx = ctx};
    uint32_t done = e->order_by_id.n - e->norders; /* taken ids of no open order */
    w_bytes(&w, SNAP_MAGIC, 8);
    w_u32(&w, e->acct ? SNAP_VERSION : 3u);
    const bourse_limits *l = &e->lim;
    uint32_t head[] = {
        l->symbols,
        l->users,
        l->orders,
        l->ids,
        l->positions,
        e->symbols_cap,
        e->users_cap,
        e->positions_cap,
        e->orders_cap,
        e->levels_cap,
        e->symbol_by_name.mask + 1,
        e->position_by_key.mask + 1,
        e->level_by_key.mask + 1,
        e->user_by_name.mask + 1,
        e->order_by_id.mask + 1,
        e->nsymbols,
        e->nusers,
        e->npositions,
        e->norders,
        done,
        e->day,
        e->is_open | (uint32_t)e->halted_all << 1,
        l->flags,
    };
    for (size_t i = 0; i < sizeof head / sizeof *head; i++)
        w_u32(&w, head[i]);
    w_u64(&w, e->trades);
    w_u64(&w, e->commands);
    w_u64(&w, (uint64_t)e->cash_total);
    for (uint32_t i = 0; i < e->nsymbols; i++) {
        const instrument *s = &e->symbols[i];
        w_bytes(&w, s->name.s, BOURSE_SYMBOL_LEN);
        w_u64(&w, (uint64_t)s->total);
        /* Room for every level of the side: a loader may keep them all in
         * its far array (one that predates the ladder does). */
        w_u32(&w, side_room(&s->side[0]));
        w_u32(&w, side_room(&s->side[1]));
        int64_t v[] = {s->tick, s->maxnotional, s->ref,   s->lot,   s->maxqty,
                       s->band, s->maker,       s->taker, s->halted};
        for (size_t k = 0; k < sizeof v / sizeof *v; k++)
            w_u64(&w, (uint64_t)v[k]);
    }
    for (uint32_t i = 0; i < e->nusers; i++) {
        const account *u = &e->users[i];
        w_bytes(&w, u->name.s, BOURSE_NAME_LEN);
        int64_t v[] = {u->cash, u->cash_held, u->limit, u->traded, u->open_qty};
        for (size_t k = 0; k < 5; k++)
            w_u64(&w, (uint64_t)v[k]);
        w_u32(&w, u->day);
        w_u32(&w, u->cash_ever | (uint32_t)u->blocked << 1);
    }
    for (uint32_t i = 0; i < e->npositions; i++) {
        const position *p = &e->positions[i];
        w_u32(&w, p->user);
        w_u32(&w, p->symbol);
        w_u64(&w, (uint64_t)p->avail);
        w_u64(&w, (uint64_t)p->held);
        w_u32(&w, p->ever);
    }
    save_books(&w, e);
    uint32_t nday = 0;
    for (uint32_t o = e->day_head; o != NIL; o = e->orders[o].dnext)
        nday++;
    w_u32(&w, nday);
    for (uint32_t o = e->day_head; o != NIL; o = e->orders[o].dnext) {
        w_u32(&w, e->orders[o].user);
        w_bytes(&w, e->orders[o].oid.s, BOURSE_NAME_LEN);
    }
    for (uint32_t i = 0; i <= e->order_by_id.mask; i++) {
        const keyslot *k = &e->order_by_id.slots[i];
        if (k->val && bourse__idmap_live(e, k->owner, &k->name, k->val - 1) == NIL) { /* taken, not open */
            w_u32(&w, k->owner);
            w_bytes(&w, k->name.s, BOURSE_NAME_LEN);
        }
    }
    if (e->acct) {
        w_flush(&w);
        if (!w.err)
            w.err = bourse__accounts_save(e, fn, ctx);
    }
    w_bytes(&w, SNAP_END, 8);
    w_flush(&w);
    return w.err;
}

/* ---- reading ---- */

typedef struct reader {
    bourse_read_fn fn;
    void *ctx;
    char *err;
    size_t errlen;
    int bad;
    uint32_t version;
} reader;

static int fail(reader *r, const char *what)
{
    if (!r->bad)
        snprintf(r->err, r->errlen, "snapshot: %s", what);
    r->bad = 1;
    return -1;
}

static void r_bytes(reader *r, void *p, size_t n)
{
    if (r->bad)
        memset(p, 0, n);
    else if (r->fn(r->ctx, p, n) != 0) {
        memset(p, 0, n);
        fail(r, "truncated");
    }
}

static uint32_t r_u32(reader *r)
{
    uint32_t v;
    r_bytes(r, &v, 4);
    return v;
}

static int64_t r_i64(reader *r)
{
    int64_t v;
    r_bytes(r, &v, 8);
    return v;
}

static int in_range(int64_t v, int64_t lo, int64_t hi)
{
    return v >= lo && v <= hi;
}

static int map_size_ok(uint32_t size, uint32_t n)
{
    return size >= 16 && size <= (1u << 31) && (size & (size - 1)) == 0 && n <= size / 2;
}

/* The tables of a loaded engine, sized exactly as saved. */
static bourse_engine *alloc_engine(reader *r, const uint32_t *h)
{
    bourse_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->lim = (bourse_limits){h[0], h[1], h[2], h[3], h[4], h[22]};
    e->symbols_cap = h[5];
    e->users_cap = h[6];
    e->positions_cap = h[7];
    e->orders_cap = h[8];
    e->levels_cap = h[9];
    e->symbols = calloc(e->symbols_cap, sizeof *e->symbols);
    e->users = calloc(e->users_cap, sizeof *e->users);
    e->positions = calloc(e->positions_cap, sizeof *e->positions);
    e->orders = calloc(e->orders_cap, sizeof *e->orders);
    e->levels = calloc(e->levels_cap, sizeof *e->levels);
    int bad = !e->symbols || !e->users || !e->positions || !e->orders || !e->levels;
    /* init(expected) makes the smallest power of two >= 2 x expected. */
    bad |= bourse__u64map_init(&e->symbol_by_name, h[10] / 2);
    bad |= bourse__u64map_init(&e->position_by_key, h[11] / 2);
    bad |= bourse__u64map_init(&e->level_by_key, h[12] / 2);
    bad |= bourse__keymap_init(&e->user_by_name, h[13] / 2);
    bad |= bourse__keymap_init(&e->order_by_id, h[14] / 2);
    if (bad) {
        bourse_engine_free(e);
        fail(r, "out of memory");
        return NULL;
    }
    e->orders_free = e->levels_free = NIL;
    e->day_head = e->day_tail = NIL;
    e->fees_user = NIL;
    return e;
}

static int load_symbols(reader *r, bourse_engine *e, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        instrument *s = &e->symbols[i];
        r_bytes(r, s->name.s, BOURSE_SYMBOL_LEN);
        s->total = r_i64(r);
        uint32_t cap[2] = {r_u32(r), r_u32(r)};
        bourse__rules_init(s);
        if (r->version >= 3) {
            int64_t v[9];
            for (int k = 0; k < 9; k++)
                v[k] = r_i64(r);
            if (!in_range(v[0], 1, BOURSE_PRICE_MAX) || !in_range(v[1], 0, BOURSE_CASH_MAX) ||
                !in_range(v[2], 0, BOURSE_PRICE_MAX) || !in_range(v[3], 1, BOURSE_QTY_MAX) ||
                !in_range(v[4], 0, BOURSE_QTY_MAX) || !in_range(v[5], 0, BOURSE_BAND_MAX) ||
                !in_range(v[6], 0, BOURSE_FEE_RATE_MAX) || !in_range(v[7], 0, BOURSE_FEE_RATE_MAX) ||
                !in_range(v[8], 0, 1))
                return fail(r, "bad symbol rules");
            s->tick = v[0], s->maxnotional = v[1], s->ref = v[2];
            s->lot = (uint32_t)v[3], s->maxqty = (uint32_t)v[4], s->band = (uint32_t)v[5];
            s->maker = (uint16_t)v[6], s->taker = (uint16_t)v[7], s->halted = (uint8_t)v[8];
            bourse__rules_refresh(s);
        }
        uint64_t key;
        memcpy(&key, s->name.s, 8);
        if (r->bad || !s->name.s[0] || !in_range(s->total, 0, BOURSE_TOTAL_MAX))
            return fail(r, "bad symbol");
        if (bourse__u64map_get(&e->symbol_by_name, key) != MAP_EMPTY)
            return fail(r, "duplicate symbol");
        for (int side = 0; side < 2; side++)
            if (cap[side] < 1 || cap[side] > 2 * (uint64_t)e->levels_cap + 16)
                return fail(r, "bad book size");
        int nomem = bourse__book_side_init(&s->side[0], cap[0]);
        nomem |= bourse__book_side_init(&s->side[1], cap[1]);
        e->nsymbols = i + 1; /* from here bourse_engine_free frees its book */
        if (nomem)
            return fail(r, "out of memory");
        bourse__u64map_put(&e->symbol_by_name, key, i);
    }
    return 0;
}

static int load_users(reader *r, bourse_engine *e, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        account *u = &e->users[i];
        r_bytes(r, u->name.s, BOURSE_NAME_LEN);
        u->cash = r_i64(r);
        u->cash_held = r_i64(r);
        u->limit = r_i64(r);
        u->traded = r_i64(r);
        u->open_qty = r_i64(r);
        u->day = r_u32(r);
        uint32_t ever = r_u32(r);
        u->cash_ever = (uint8_t)(ever & 1);
        u->blocked = (uint8_t)(ever >> 1);
        u->positions = NIL;
        memset(u->pos_cache, 0, sizeof u->pos_cache);
        if (r->bad || !u->name.s[0] || !in_range(u->cash, 0, BOURSE_CASH_MAX) ||
            !in_range(u->cash_held, 0, BOURSE_CASH_MAX) || !in_range(u->limit, 0, BOURSE_TOTAL_MAX) ||
            u->traded < 0 || u->open_qty < 0 || u->day > e->day || ever > (r->version >= 3 ? 3u : 1u))
            return fail(r, "bad account");
        if (memcmp(u->name.s, "FEES", 5) == 0)
            e->fees_user = i;
        if (bourse__keymap_get(&e->user_by_name, 0, &u->name) != MAP_EMPTY)
            return fail(r, "duplicate user");
        bourse__keymap_put(&e->user_by_name, 0, &u->name, i);
        e->nusers = i + 1;
    }
    return 0;
}

static int load_positions(reader *r, bourse_engine *e, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        position *p = &e->positions[i];
        p->user = r_u32(r);
        p->symbol = r_u32(r);
        p->avail = r_i64(r);
        p->held = r_i64(r);
        uint32_t ever = r_u32(r);
        p->ever = (uint8_t)ever;
        if (r->bad || p->user >= e->nusers || p->symbol >= e->nsymbols ||
            !in_range(p->avail, 0, BOURSE_TOTAL_MAX) || !in_range(p->held, 0, BOURSE_TOTAL_MAX) || ever > 1)
            return fail(r, "bad position");
        uint64_t key = (uint64_t)p->user << 32 | p->symbol;
        if (bourse__u64map_get(&e->position_by_key, key) != MAP_EMPTY)
            return fail(r, "duplicate position");
        bourse__u64map_put(&e->position_by_key, key, i);
        /* The user's chain is in symbol-name order, as bourse__position_get keeps it. */
        const char *name = e->symbols[p->symbol].name.s;
        uint32_t *link = &e->users[p->user].positions;
        while (*link != NIL &&
               memcmp(e->symbols[e->positions[*link].symbol].name.s, name, BOURSE_SYMBOL_LEN) < 0)
            link = &e->positions[*link].next;
        p->next = *link;
        *link = i;
        e->npositions = i + 1;
    }
    return 0;
}

/* What the open orders hold, summed while loading them, to check against
 * the accounts. */
typedef struct holds {
    int64_t *cash, *open, *shares; /* per user, per user, per position */
} holds;

static int load_order(reader *r, bourse_engine *e, holds *h, uint32_t sym, int side, int64_t price,
                      uint32_t lv)
{
    uint32_t user = r_u32(r), qty = r_u32(r);
    bourse_name oid;
    uint8_t tif;
    r_bytes(r, oid.s, BOURSE_NAME_LEN);
    r_bytes(r, &tif, 1);
    uint32_t rates = r->version >= 3 ? r_u32(r) : 0;
    uint16_t maker = (uint16_t)rates, hold_rate = (uint16_t)(rates >> 16);
    if (r->bad || user >= e->nusers || !in_range(qty, 1, BOURSE_QTY_MAX) || !oid.s[0] ||
        (tif != BOURSE_DAY && tif != BOURSE_GTC) || maker > hold_rate || hold_rate > BOURSE_FEE_RATE_MAX)
        return fail(r, "bad order");
    if (hold_rate && e->fees_user == NIL)
        return fail(r, "fee rates without a fee account");
    uint32_t pos = bourse__position_get(e, user, sym, false);
    if (pos == NIL)
        return fail(r, "order without a position");
    if (e->orders_hwm == e->orders_cap || bourse__keymap_full(&e->order_by_id))
        return fail(r, "more orders than capacity");
    if (bourse__keymap_get(&e->order_by_id, user, &oid) != MAP_EMPTY)
        return fail(r, "duplicate order id");
    uint32_t o = bourse__order_alloc(e);
    order *ord = &e->orders[o];
    *ord = (order){.user = user,
                   .pos = pos,
                   .qty = qty,
                   .price = price,
                   .oid = oid,
                   .side = (uint8_t)side,
                   .tif = tif,
                   .live = 1,
                   .dnext = NIL,
                   .dprev = NIL,
                   .maker = maker,
                   .hold_rate = hold_rate};
    bourse__book_append(e, lv, o);
    bourse__keymap_put(&e->order_by_id, user, &oid, o);
    h->open[user] += qty; /* at most 2^32 orders of < 2^27 shares: no overflow */
    if (side == BOURSE_SELL)
        h->shares[pos] += qty;
    else if (__builtin_add_overflow(h->cash[user], order_hold(side, qty, price, hold_rate), &h->cash[user]))
        return fail(r, "held cash overflows");
    return 0;
}

static int load_books(reader *r, bourse_engine *e, holds *h)
{
    for (uint32_t s = 0; s < e->nsymbols; s++) {
        for (int side = 0; side < 2; side++) {
            uint32_t nlv = r_u32(r);
            if (r->bad || nlv > e->symbols[s].side[side].cap)
                return fail(r, "bad book");
            int64_t prev = 0;
            for (uint32_t i = 0; i < nlv; i++) {
                int64_t price = r_i64(r);
                uint32_t count = r_u32(r);
                /* Best first: strictly falling bids, strictly rising asks. */
                int64_t k = -side_key(side, price);
                if (r->bad || !in_range(price, 1, BOURSE_PRICE_MAX) || count == 0 || (i && k <= prev))
                    return fail(r, "bad price level");
                prev = k;
                if (e->levels_hwm == e->levels_cap || bourse__u64map_full(&e->level_by_key) ||
                    count > e->orders_cap - e->orders_hwm)
                    return fail(r, "more orders than capacity");
                uint32_t lv = bourse__book_level_get(e, s, side, price);
                for (uint32_t j = 0; j < count; j++)
                    if (load_order(r, e, h, s, side, price, lv) != 0)
                        return -1;
            }
        }
    }
    return 0;
}

/* The booking list: every resting order (version 3), or the day orders
 * (older), which the gtc orders then follow in book order. */
static int load_day_list(reader *r, bourse_engine *e)
{
    bool all = r->version >= 3;
    uint32_t n = r_u32(r), day_orders = 0;
    for (uint32_t o = 0; o < e->orders_hwm; o++)
        day_orders += e->orders[o].live && (all || e->orders[o].tif == BOURSE_DAY);
    if (r->bad || n != day_orders)
        return fail(r, "bad day-order list");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t user = r_u32(r);
        bourse_name oid;
        r_bytes(r, oid.s, BOURSE_NAME_LEN);
        bool used;
        uint32_t o = r->bad || user >= e->nusers ? NIL : bourse__idmap_find(e, user, &oid, &used);
        if (o == NIL || (!all && e->orders[o].tif != BOURSE_DAY) || e->orders[o].dprev != NIL ||
            o == e->day_head)
            return fail(r, "bad day-order list");
        bourse__day_list_add(e, o);
    }
    if (!all)
        for (uint32_t o = 0; o < e->orders_hwm; o++)
            if (e->orders[o].live && e->orders[o].tif == BOURSE_GTC)
                bourse__day_list_add(e, o);
    return 0;
}

static int load_done_ids(reader *r, bourse_engine *e, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t user = r_u32(r);
        bourse_name oid;
        r_bytes(r, oid.s, BOURSE_NAME_LEN);
        if (r->bad || user >= e->nusers || !oid.s[0])
            return fail(r, "bad order id");
        if (bourse__keymap_full(&e->order_by_id))
            return fail(r, "more order ids than capacity");
        if (bourse__keymap_get(&e->order_by_id, user, &oid) != MAP_EMPTY)
            return fail(r, "duplicate order id");
        bourse__keymap_put(&e->order_by_id, user, &oid, ID_DONE);
    }
    return 0;
}

/* Every held amount must be explained by open orders, and every asset's
 * balances must add up to its total: then no later sum can overflow. */
static int check_sums(reader *r, const bourse_engine *e, const holds *h)
{
    int64_t cash = 0;
    for (uint32_t u = 0; u < e->nusers; u++) {
        const account *a = &e->users[u];
        if (a->cash_held != h->cash[u] || a->open_qty != h->open[u])
            return fail(r, "an account's holds do not match its orders");
        if (__builtin_add_overflow(cash, a->cash + a->cash_held, &cash))
            return fail(r, "cash overflows");
    }
    if (cash != e->cash_total)
        return fail(r, "cash does not add up");
    for (uint32_t s = 0; s < e->nsymbols; s++) {
        int64_t shares = 0;
        for (uint32_t p = 0; p < e->npositions; p++) {
            const position *pos = &e->positions[p];
            if (pos->symbol == s && __builtin_add_overflow(shares, pos->avail + pos->held, &shares))
                return fail(r, "shares overflow");
        }
        if (shares != e->symbols[s].total)
            return fail(r, "shares do not add up");
    }
    for (uint32_t p = 0; p < e->npositions; p++)
        if (e->positions[p].held != h->shares[p])
            return fail(r, "a position's holds do not match its orders");
    return 0;
}

static int load_body(reader *r, bourse_engine *e, const uint32_t *h)
{
    e->trades = (uint64_t)r_i64(r);
    e->commands = (uint64_t)r_i64(r);
    e->cash_total = r_i64(r);
    if (!in_range(e->cash_total, 0, BOURSE_CASH_MAX))
        return fail(r, "bad cash total");
    if (load_symbols(r, e, h[15]) || load_users(r, e, h[16]) || load_positions(r, e, h[17]))
        return -1;
    for (uint32_t s = 0; s < e->nsymbols; s++) /* a fee must have somewhere to go */
        if ((e->symbols[s].maker || e->symbols[s].taker) && e->fees_user == NIL)
            return fail(r, "fee rates without a fee account");
    holds hs = {calloc(e->nusers + 1, 8), calloc(e->nusers + 1, 8), calloc(e->npositions + 1, 8)};
    int rc = !hs.cash || !hs.open || !hs.shares ? fail(r, "out of memory") : 0;
    if (!rc)
        rc = load_books(r, e, &hs);
    if (!rc && e->norders != h[18])
        rc = fail(r, "wrong number of orders");
    if (!rc)
        rc = check_sums(r, e, &hs);
    free(hs.cash);
    free(hs.open);
    free(hs.shares);
    if (rc || load_day_list(r, e) || load_done_ids(r, e, h[19]))
        return -1;
    if (r->version >= 4 && !r->bad && bourse__accounts_load(e, r->fn, r->ctx) != 0)
        return fail(r, "bad accounts");
    char end[8];
    r_bytes(r, end, 8);
    if (r->bad || memcmp(end, SNAP_END, 8) != 0)
        return fail(r, "bad end marker");
    return 0;
}

bourse_engine *bourse_engine_load(bourse_read_fn fn, void *ctx, char *err, size_t errlen)
{
    reader r = {.fn = fn, .ctx = ctx, .err = err, .errlen = errlen};
    char magic[8];
    r_bytes(&r, magic, 8);
    uint32_t version = r_u32(&r);
    r.version = version;
    if (r.bad || memcmp(magic, SNAP_MAGIC, 8) != 0 || version < 1 || version > SNAP_VERSION) {
        fail(&r, "not a Bourse engine snapshot (or another version)");
        return NULL;
    }
    uint32_t h[23] = {0};
    for (int i = 0; i < (version == 1 ? 22 : 23); i++)
        h[i] = r_u32(&r);
    int ok = !r.bad && h[0] && h[1] && h[2] && h[3] && h[4] && !(h[22] & ~BOURSE_FLAGS_ALL);
    ok = ok && in_range(h[5], 1, (1 << 28) - 1) && h[6] >= 1 && h[7] >= 1;
    ok = ok && in_range(h[8], 1, ID_DONE - 2) && in_range(h[9], 1, ID_DONE - 2);
    ok = ok && h[15] <= h[5] && h[16] <= h[6] && h[17] <= h[7] && h[18] <= h[8];
    ok = ok && h[21] <= (version >= 3 ? 3u : 1u); /* open, and (3) the emergency stop */
    ok = ok && map_size_ok(h[10], h[15]) && map_size_ok(h[11], h[17]) && map_size_ok(h[12], 0) &&
         map_size_ok(h[13], h[16]) && map_size_ok(h[14], 0) && (uint64_t)h[18] + h[19] <= h[14] / 2;
    if (!ok) {
        fail(&r, "bad sizes");
        return NULL;
    }
    bourse_engine *e = alloc_engine(&r, h);
    if (!e)
        return NULL;
    e->day = h[20];
    e->is_open = h[21] & 1;
    e->halted_all = h[21] >> 1 & 1;
    if (load_body(&r, e, h) != 0) {
        bourse_engine_free(e);
        return NULL;
    }
    return e;
}
