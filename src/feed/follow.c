/*
 * follow.c - rebuilding the market from the messages (follow.h).
 */
#include "feed/follow.h"

#include "bourse/bourse.h"

#include <string.h>

int follow_init(follower *f, uint32_t candle_depth)
{
    memset(f, 0, sizeof *f);
    f->open = 1;
    return fbook_init(&f->book, candle_depth);
}

void follow_free(follower *f)
{
    fbook_free(&f->book);
}

static int fail(follower *f)
{
    f->errors++;
    return -1;
}

static int on_executed(follower *f, const itch_msg *m)
{
    uint32_t o = fbook_find(&f->book, m->ref);
    if (o == FB_NIL || m->qty == 0)
        return fail(f);
    const fb_order *ord = &f->book.orders[o];
    fbook_trade(&f->book, ord->sym, m->ts, ord->price, m->qty, !ord->side);
    fbook_reduce(&f->book, o, m->qty);
    return 0;
}

static int on_replace(follower *f, const itch_msg *m)
{
    uint32_t o = fbook_find(&f->book, m->ref);
    if (o == FB_NIL)
        return fail(f);
    uint32_t sym = f->book.orders[o].sym;
    int side = f->book.orders[o].side;
    fbook_delete(&f->book, o);
    return fbook_add(&f->book, m->ref2, sym, side, m->qty, m->price) == FB_NIL ? fail(f) : 0;
}

int follow_apply(follower *f, const itch_msg *m)
{
    uint32_t sym = (uint32_t)m->locate - 1;
    if (m->type != ITCH_SYSTEM && m->type != ITCH_SNAPSHOT_END &&
        (m->locate == 0 || (m->type != ITCH_DIRECTORY && sym >= f->book.nsyms)))
        return fail(f);
    switch (m->type) {
    case ITCH_SYSTEM:
        if (m->event == 'Q' || m->event == 'M') {
            int open = m->event == 'Q';
            if (f->live && open && !f->open)
                fbook_new_session(&f->book);
            f->open = open;
        }
        return 0;
    case ITCH_DIRECTORY:
        if (sym != f->book.nsyms)
            return fail(f);
        return fbook_symbol_add(&f->book, m->stock, strlen(m->stock)) == FB_NIL ? fail(f) : 0;
    case ITCH_ADD:
        return fbook_add(&f->book, m->ref, sym, m->side == 'B' ? BOURSE_BUY : BOURSE_SELL, m->qty,
                         m->price) == FB_NIL
                   ? fail(f)
                   : 0;
    case ITCH_EXECUTED: return on_executed(f, m);
    case ITCH_CANCEL:
    case ITCH_DELETE: {
        uint32_t o = fbook_find(&f->book, m->ref);
        if (o == FB_NIL)
            return fail(f);
        if (m->type == ITCH_DELETE)
            fbook_delete(&f->book, o);
        else
            fbook_reduce(&f->book, o, m->qty);
        return 0;
    }
    case ITCH_REPLACE: return on_replace(f, m);
    case ITCH_STATS: {
        fb_symbol *s = &f->book.syms[sym];
        s->last_price = m->price;
        s->last_qty = m->qty;
        s->last_side = m->side == 'B' ? BOURSE_BUY : BOURSE_SELL;
        s->volume = m->volume;
        s->trades = m->trades;
        return 0;
    }
    case ITCH_CANDLE: candle_ring_put(&f->book.syms[sym].candles[m->interval], &m->c); return 0;
    case ITCH_SNAPSHOT_END:
        f->seq = m->seq;
        f->live = 1;
        return 0;
    case ITCH_TRADING_ACTION: f->book.syms[sym].halted = m->state == 'H'; return 0;
    case ITCH_PRICE_BAND: {
        fb_symbol *s = &f->book.syms[sym];
        s->ref = m->price, s->band_lo = m->lower, s->band_hi = m->upper;
        return 0;
    }
    }
    return fail(f);
}
