/*
 * api.c - the public market data of the HTTP API (GET /api/v1/symbols,
 * ticker, book, trades, candles: docs/openapi.yaml), rendered from the
 * publisher's model on the feed's thread, where src/http's handlers run.
 *
 * The API's shapes are its own (prices as decimal strings, quantities as
 * integers, times as Unix milliseconds, candles in Unix seconds) rather
 * than the WebSocket's messages, so a change of one does not move the
 * other; both read the same model, so they never disagree.
 */
#include "feed/feed_int.h"

#include "bourse/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct out {
    char *p;
    size_t len, cap;
    int full;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    if (o->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        o->full = 1;
    else
        o->len += (size_t)n;
}

static void price(out *o, int64_t v)
{
    char d[32];
    d[bourse_text_decimal(v, d)] = 0;
    put(o, "\"%s\"", d);
}

static long done(const out *o)
{
    return o->full ? -1 : (long)o->len;
}

static uint32_t find(feed *f, const char *sym)
{
    return fbook_symbol_find(&f->p.book, sym);
}

static int known(feed *f, uint32_t s)
{
    return s < f->p.book.nsyms;
}

long feed_api_symbols(feed *f, char *buf, size_t cap)
{
    out o = {buf, 0, cap, 0};
    put(&o, "[");
    for (uint32_t s = 0; s < f->p.book.nsyms; s++)
        put(&o, "%s{\"symbol\":\"%s\",\"halted\":%s}", s ? "," : "", f->p.book.syms[s].name,
            f->p.book.syms[s].halted ? "true" : "false");
    put(&o, "]");
    return done(&o);
}

long feed_api_ticker(feed *f, const char *sym, char *buf, size_t cap)
{
    uint32_t s = find(f, sym);
    if (!known(f, s))
        return 0;
    out o = {buf, 0, cap, 0};
    const fb_symbol *sy = &f->p.book.syms[s];
    const fb_level *bid = fbook_best(&f->p.book, s, BOURSE_BUY),
                   *ask = fbook_best(&f->p.book, s, BOURSE_SELL);
    put(&o, "{\"symbol\":\"%s\",\"bid\":", sy->name);
    bid ? price(&o, bid->price) : put(&o, "null");
    put(&o, ",\"bid_quantity\":%lld,\"ask\":", bid ? (long long)bid->qty : 0LL);
    ask ? price(&o, ask->price) : put(&o, "null");
    put(&o, ",\"ask_quantity\":%lld,\"last\":", ask ? (long long)ask->qty : 0LL);
    sy->trades || sy->last_price ? price(&o, sy->last_price) : put(&o, "null");
    put(&o, ",\"volume\":%lld,\"trades\":%llu,\"halted\":%s}", (long long)sy->volume,
        (unsigned long long)sy->trades, sy->halted ? "true" : "false");
    return done(&o);
}

long feed_api_book(feed *f, const char *sym, uint32_t depth, char *buf, size_t cap)
{
    uint32_t s = find(f, sym);
    if (!known(f, s))
        return 0;
    out o = {buf, 0, cap, 0};
    put(&o, "{\"symbol\":\"%s\"", f->p.book.syms[s].name);
    for (int side = BOURSE_BUY; side <= BOURSE_SELL; side++) {
        put(&o, side == BOURSE_BUY ? ",\"bids\":[" : ",\"asks\":[");
        const fb_level *l;
        uint32_t pos = 0;
        for (uint32_t i = 0; i < depth && (l = fbook_next(&f->p.book, s, side, &pos)); i++) {
            put(&o, i ? ",[" : "[");
            price(&o, l->price);
            put(&o, ",%lld,%u]", (long long)l->qty, l->count);
        }
        put(&o, "]");
    }
    put(&o, "}");
    return done(&o);
}

long feed_api_trades(feed *f, const char *sym, uint32_t n, char *buf, size_t cap)
{
    uint32_t s = find(f, sym);
    if (!known(f, s))
        return 0;
    out o = {buf, 0, cap, 0};
    const pub_tape *t = s < f->p.tape_cap ? &f->p.tapes[s] : NULL;
    uint64_t have = t ? (t->n < PUB_TAPE ? t->n : PUB_TAPE) : 0;
    if (n > have)
        n = (uint32_t)have;
    put(&o, "[");
    for (uint32_t i = 0; i < n; i++) { /* newest first */
        const pub_trade *x = &t->t[(t->n - 1 - i) % PUB_TAPE];
        put(&o, "%s{\"price\":", i ? "," : "");
        price(&o, x->price);
        put(&o, ",\"quantity\":%lld,\"time\":%lld,\"taker\":\"%s\"}", (long long)x->qty,
            (long long)(x->ts / 1000000), x->side == BOURSE_BUY ? "buy" : "sell");
    }
    put(&o, "]");
    return done(&o);
}

long feed_api_candles(feed *f, const char *sym, const char *interval, uint32_t n, char *buf, size_t cap)
{
    uint32_t s = find(f, sym);
    int iv = candle_interval_parse(interval);
    if (!known(f, s))
        return 0;
    if (iv < 0)
        return -2;
    const candle_ring *r = &f->p.book.syms[s].candles[iv];
    if (n > r->n)
        n = r->n;
    out o = {buf, 0, cap, 0};
    put(&o, "[");
    for (uint32_t i = n; i-- > 0;) { /* oldest first */
        const candle *c = candle_ring_get(r, i);
        put(&o, "{\"time\":%lld,\"open\":", (long long)(c->start / 1000000000));
        price(&o, c->open);
        put(&o, ",\"high\":");
        price(&o, c->high);
        put(&o, ",\"low\":");
        price(&o, c->low);
        put(&o, ",\"close\":");
        price(&o, c->close);
        put(&o, ",\"volume\":%lld}%s", (long long)c->volume, i ? "," : "");
    }
    put(&o, "]");
    return done(&o);
}
