/*
 * publish.c - from engine events to order-by-order messages (publish.h).
 *
 * How each event maps:
 *   ACCEPTED            the command's incoming order: remember it as pending
 *   TRADE               EXECUTED on the resting order (the one that is not
 *                       the command's), which trades at its own price
 *   CANCELED            of the pending order (IOC/FOK): less to book;
 *                       of a resting order: DELETE (CANCEL if partial)
 *   REPLACED            same price and not larger: CANCEL of the difference,
 *                       the order keeps its reference and place; otherwise
 *                       pending like a new order, and at the end REPLACE
 *                       (old ref -> new ref, booked rest) or DELETE if it
 *                       all traded
 *   end of the command  ADD of the pending order's rest, if any
 *   SYMBOL/OPEN/CLOSE   DIRECTORY / SYSTEM Q / SYSTEM M
 *   halt/resume,        TRADING_ACTION (H) for each symbol whose state
 *   haltall/resumeall   changes: halted by its own halt or the market-wide
 *                       stop, trading when neither
 *   rules, TRADE        PRICE_BAND (J) when the reference price or the band
 *                       changes (after a trade only while a band is set)
 * Orders are found by the engine's handle (bourse_event.order), which names
 * an order while it is open and is then reused: the publisher sees every
 * event in order, so it forgets a handle exactly when the engine frees it.
 */
#include "feed/publish.h"

#include <stdlib.h>
#include <string.h>

int feed_rec_make(feed_rec *out, const bourse_cmd *cmd, const bourse_event *ev)
{
    int kind = feed_rec_kind(cmd, ev);
    if (!kind)
        return 0;
    feed_rec_fill(out, kind, cmd, ev);
    return 1;
}

int pub_init(pub *p, uint32_t candle_depth, pub_emit_fn emit, void *ctx)
{
    memset(p, 0, sizeof *p);
    p->next_ref = 1;
    p->next_match = 1;
    p->open = 1; /* a run starts open */
    p->emit = emit;
    p->ctx = ctx;
    if (fbook_init(&p->book, candle_depth) < 0)
        return -1;
    p->book.refs_unindexed = true; /* orders are found by handle: by_handle */
    return 0;
}

void pub_free(pub *p)
{
    fbook_free(&p->book);
    free(p->by_handle);
    free(p->tapes);
    memset(p, 0, sizeof *p);
}

static void emit(pub *p, itch_msg *m, uint32_t sym)
{
    m->locate = sym == FB_NIL ? 0 : (uint16_t)(sym + 1);
    m->ts = p->ts;
    p->emit(p->ctx, m);
}

/* The resting order named by a record, or FB_NIL. */
static uint32_t find_order(pub *p, const feed_rec *r)
{
    uint32_t o = r->order < p->handles_cap ? p->by_handle[r->order] : FB_NIL;
    if (o == FB_NIL)
        p->errors++;
    return o;
}

/* Order o is the engine's order `handle` from now on. */
static int own(pub *p, uint32_t handle, uint32_t o)
{
    if (!handle)
        return -1; /* an ioc or fok order cannot rest */
    if (handle >= p->handles_cap) {
        uint32_t cap = p->handles_cap ? p->handles_cap : 1024;
        while (cap <= handle)
            cap *= 2;
        uint32_t *n = realloc(p->by_handle, cap * sizeof *n);
        if (!n)
            return -1;
        memset(n + p->handles_cap, 0xff, (cap - p->handles_cap) * sizeof *n); /* FB_NIL */
        p->by_handle = n;
        p->handles_cap = cap;
    }
    p->by_handle[handle] = o;
    return 0;
}

/* The engine's order is no longer open: its handle will name another. */
static void forget(pub *p, uint32_t handle)
{
    p->by_handle[handle] = FB_NIL;
}

/* Book the rest of the pending order under a fresh reference. */
static uint32_t book_rest(pub *p, const pub_pending *q)
{
    uint32_t o = fbook_add(&p->book, p->next_ref, q->symbol, q->side, (uint32_t)q->rest, q->price);
    if (o == FB_NIL || own(p, q->order, o) < 0) {
        p->errors++;
        return FB_NIL;
    }
    p->next_ref++;
    return o;
}

static void end_command(pub *p)
{
    pub_pending q = p->pend;
    p->pend.kind = 0;
    if (q.kind == REC_ACCEPTED && q.rest > 0) {
        uint32_t o = book_rest(p, &q);
        if (o == FB_NIL)
            return;
        itch_msg m = {.type = ITCH_ADD,
                      .ref = p->book.orders[o].ref,
                      .side = q.side == BOURSE_BUY ? 'B' : 'S',
                      .qty = (uint32_t)q.rest,
                      .price = q.price};
        memcpy(m.stock, p->book.syms[q.symbol].name, 9);
        emit(p, &m, q.symbol);
    } else if (q.kind == REC_REPLACED) {
        uint64_t old_ref = p->book.orders[q.old].ref;
        fbook_delete(&p->book, q.old);
        if (q.rest <= 0) {
            forget(p, q.order);
            itch_msg m = {.type = ITCH_DELETE, .ref = old_ref};
            return emit(p, &m, q.symbol);
        }
        uint32_t o = book_rest(p, &q);
        if (o == FB_NIL)
            return;
        itch_msg m = {.type = ITCH_REPLACE,
                      .ref = old_ref,
                      .ref2 = p->book.orders[o].ref,
                      .qty = (uint32_t)q.rest,
                      .price = q.price};
        emit(p, &m, q.symbol);
    }
}

/* Room for the tape of symbol sym (doubling: a server lists thousands). */
static int tape_room(pub *p, uint32_t sym)
{
    if (sym < p->tape_cap)
        return 0;
    uint32_t cap = p->tape_cap ? p->tape_cap * 2 : 8;
    pub_tape *n = realloc(p->tapes, (size_t)cap * sizeof *n);
    if (!n)
        return -1;
    memset(n + p->tape_cap, 0, (size_t)(cap - p->tape_cap) * sizeof *n);
    p->tapes = n;
    p->tape_cap = cap;
    return 0;
}

static void on_symbol(pub *p, const feed_rec *r)
{
    size_t len = strnlen(r->name, BOURSE_SYMBOL_LEN);
    uint32_t sym = fbook_symbol_add(&p->book, r->name, len);
    if (sym == FB_NIL || tape_room(p, sym) < 0) {
        p->errors++;
        return;
    }
    itch_msg m = {.type = ITCH_DIRECTORY};
    memcpy(m.stock, p->book.syms[sym].name, 9);
    emit(p, &m, sym);
}

static void on_session(pub *p, int open)
{
    if (p->open == open)
        return;
    p->open = open;
    if (open)
        fbook_new_session(&p->book);
    itch_msg m = {.type = ITCH_SYSTEM, .event = open ? 'Q' : 'M'};
    emit(p, &m, FB_NIL);
}

/* Announce a symbol's band when (ref, band) changed to these. */
static void set_band(pub *p, uint32_t sym, int64_t ref, int64_t band)
{
    fb_symbol *sy = &p->book.syms[sym];
    if (sy->ref == ref && sy->band == band)
        return;
    sy->ref = ref;
    sy->band = band;
    int64_t lo = 0, hi = 0;
    if (!bourse_band_edges(ref, band, &lo, &hi))
        lo = hi = 0;
    sy->band_lo = lo, sy->band_hi = hi;
    itch_msg m = {.type = ITCH_PRICE_BAND, .price = ref, .lower = lo, .upper = hi};
    memcpy(m.stock, sy->name, 9);
    emit(p, &m, sym);
}

static itch_msg trading_action(const pub *p, uint32_t sym)
{
    const fb_symbol *sy = &p->book.syms[sym];
    itch_msg m = {.type = ITCH_TRADING_ACTION,
                  .state = sy->halted || p->halted_all ? 'H' : 'T',
                  .reason = p->halted_all ? 'M'
                            : sy->halted  ? 'S'
                                          : ' '};
    memcpy(m.stock, sy->name, 9);
    return m;
}

static void on_halt(pub *p, const feed_rec *r)
{
    if (r->symbol >= p->book.nsyms) {
        p->errors++;
        return;
    }
    fb_symbol *sy = &p->book.syms[r->symbol];
    int was = sy->halted || p->halted_all;
    sy->halted = r->side != 0;
    if (was != (sy->halted || p->halted_all)) {
        itch_msg m = trading_action(p, r->symbol);
        emit(p, &m, r->symbol);
    }
}

static void on_halt_all(pub *p, int stop)
{
    if (p->halted_all == stop)
        return;
    p->halted_all = stop;
    for (uint32_t s = 0; s < p->book.nsyms; s++)
        if (!p->book.syms[s].halted) { /* a symbol halted on its own stays halted */
            itch_msg m = trading_action(p, s);
            emit(p, &m, s);
        }
}

static void on_trade(pub *p, const feed_rec *r)
{
    uint32_t o = find_order(p, r);
    if (o == FB_NIL)
        return;
    fb_order *ord = &p->book.orders[o];
    uint32_t sym = ord->sym;
    itch_msg m = {.type = ITCH_EXECUTED,
                  .ref = ord->ref,
                  .qty = r->qty,
                  .match = p->next_match++,
                  .price = r->price,
                  .side = r->side == BOURSE_BUY ? 'B' : 'S'};
    memcpy(m.stock, p->book.syms[sym].name, 9);
    if (p->pend.kind)
        p->pend.rest -= r->qty;
    fbook_trade(&p->book, sym, p->ts, r->price, r->qty, r->side);
    pub_tape *t = &p->tapes[sym];
    t->t[t->n++ % PUB_TAPE] =
        (pub_trade){.ts = p->ts, .price = r->price, .qty = r->qty, .match = m.match, .side = r->side};
    if (r->qty >= ord->qty)
        forget(p, r->order);
    fbook_reduce(&p->book, o, r->qty);
    emit(p, &m, sym);
    fb_symbol *sy = &p->book.syms[sym];
    if (sy->band)
        set_band(p, sym, r->price, sy->band); /* the trade moved the band */
    else
        sy->ref = r->price;
}

static void on_canceled(pub *p, const feed_rec *r)
{
    if (p->pend.kind == REC_ACCEPTED && r->order == p->pend.order) {
        p->pend.rest -= r->qty; /* IOC or FOK: never booked */
        return;
    }
    uint32_t o = find_order(p, r);
    if (o == FB_NIL)
        return;
    fb_order *ord = &p->book.orders[o];
    uint32_t sym = ord->sym;
    itch_msg m = {.type = r->qty >= ord->qty ? ITCH_DELETE : ITCH_CANCEL, .ref = ord->ref, .qty = r->qty};
    if (r->qty >= ord->qty)
        forget(p, r->order);
    fbook_reduce(&p->book, o, r->qty);
    emit(p, &m, sym);
}

static void on_replaced(pub *p, const feed_rec *r)
{
    uint32_t o = find_order(p, r);
    if (o == FB_NIL)
        return;
    fb_order *ord = &p->book.orders[o];
    if (r->price == ord->price && r->qty <= ord->qty) {
        /* Keeps its place (and handle): the public sees at most a partial cancel. */
        if (r->qty < ord->qty) {
            itch_msg m = {.type = ITCH_CANCEL, .ref = ord->ref, .qty = ord->qty - r->qty};
            uint32_t sym = ord->sym;
            fbook_reduce(&p->book, o, ord->qty - r->qty);
            emit(p, &m, sym);
        }
        return;
    }
    p->pend = (pub_pending){.kind = REC_REPLACED,
                            .symbol = ord->sym,
                            .order = r->order,
                            .side = ord->side,
                            .price = r->price,
                            .rest = r->qty,
                            .old = o};
}

void pub_apply(pub *p, const feed_rec *r)
{
    p->ts = r->ts;
    switch (r->kind) {
    case REC_SYMBOL: on_symbol(p, r); break;
    case REC_OPEN: on_session(p, 1); break;
    case REC_CLOSE: on_session(p, 0); break;
    case REC_ACCEPTED:
        if (r->symbol >= p->book.nsyms) {
            p->errors++;
            break;
        }
        p->pend = (pub_pending){.kind = REC_ACCEPTED,
                                .symbol = r->symbol,
                                .order = r->order,
                                .side = r->side,
                                .price = r->price,
                                .rest = r->qty};
        break;
    case REC_TRADE: on_trade(p, r); break;
    case REC_CANCELED: on_canceled(p, r); break;
    case REC_REPLACED: on_replaced(p, r); break;
    case REC_COMMIT: break;
    case REC_HALT: on_halt(p, r); break;
    case REC_HALTALL: on_halt_all(p, r->qty != 0); break;
    case REC_BAND:
        if (r->symbol < p->book.nsyms)
            set_band(p, r->symbol, r->price, r->qty);
        else
            p->errors++;
        break;
    default: p->errors++;
    }
    if (r->end || r->kind == REC_COMMIT)
        end_command(p);
}

void pub_set_rules(pub *p, const bourse_engine *e)
{
    for (uint32_t s = 0; s < p->book.nsyms; s++) {
        bourse_symbol_state ss;
        if (bourse_symbol_state_of(e, s, &ss) != 0)
            continue;
        fb_symbol *sy = &p->book.syms[s];
        p->halted_all = ss.halted_all;
        sy->halted = (uint8_t)ss.halted;
        sy->ref = ss.ref;
        sy->band = ss.band;
        if (!bourse_band_edges(ss.ref, ss.band, &sy->band_lo, &sy->band_hi))
            sy->band_lo = sy->band_hi = 0;
    }
}

void pub_snapshot(const pub *p, pub_emit_fn fn, void *ctx)
{
    const fbook *b = &p->book;
    for (uint32_t s = 0; s < b->nsyms; s++) {
        itch_msg m = {.type = ITCH_DIRECTORY, .locate = (uint16_t)(s + 1), .ts = p->ts};
        memcpy(m.stock, b->syms[s].name, 9);
        fn(ctx, &m);
    }
    itch_msg sys = {.type = ITCH_SYSTEM, .event = p->open ? 'Q' : 'M', .ts = p->ts};
    fn(ctx, &sys);
    for (uint32_t s = 0; s < b->nsyms; s++) { /* halts and bands in force */
        const fb_symbol *sy = &b->syms[s];
        if (sy->halted || p->halted_all) {
            itch_msg h = trading_action(p, s);
            h.locate = (uint16_t)(s + 1), h.ts = p->ts;
            fn(ctx, &h);
        }
        if (sy->band_hi) {
            itch_msg j = {.type = ITCH_PRICE_BAND,
                          .locate = (uint16_t)(s + 1),
                          .ts = p->ts,
                          .price = sy->ref,
                          .lower = sy->band_lo,
                          .upper = sy->band_hi};
            memcpy(j.stock, sy->name, 9);
            fn(ctx, &j);
        }
    }
    for (uint32_t s = 0; s < b->nsyms; s++) {
        const fb_symbol *sy = &b->syms[s];
        itch_msg m = {.locate = (uint16_t)(s + 1), .ts = p->ts};
        memcpy(m.stock, sy->name, 9);
        for (int side = BOURSE_BUY; side <= BOURSE_SELL; side++) {
            const fb_level *l;
            for (uint32_t pos = 0; (l = fbook_next(b, s, side, &pos));)
                for (uint32_t o = l->head; o != FB_NIL; o = b->orders[o].next) {
                    m.type = ITCH_ADD;
                    m.ref = b->orders[o].ref;
                    m.side = side == BOURSE_BUY ? 'B' : 'S';
                    m.qty = b->orders[o].qty;
                    m.price = b->orders[o].price;
                    fn(ctx, &m);
                }
        }
        if (sy->trades || sy->last_price) {
            itch_msg st = {.type = ITCH_STATS,
                           .locate = m.locate,
                           .ts = p->ts,
                           .price = sy->last_price,
                           .qty = (uint32_t)sy->last_qty,
                           .side = sy->last_side == BOURSE_BUY ? 'B' : 'S',
                           .volume = sy->volume,
                           .trades = sy->trades};
            fn(ctx, &st);
        }
        for (int iv = 0; iv < CANDLE_INTERVALS; iv++) {
            const candle_ring *cr = &sy->candles[iv];
            for (uint32_t i = cr->n; i-- > 0;) {
                itch_msg k = {.type = ITCH_CANDLE,
                              .locate = m.locate,
                              .ts = p->ts,
                              .interval = (uint8_t)iv,
                              .c = *candle_ring_get(cr, i)};
                fn(ctx, &k);
            }
        }
    }
}
