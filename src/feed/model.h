/*
 * model.h - the market as the feed sees it: order-by-order books, price
 * levels, last trade, session volume and candles for every symbol.
 *
 * The publisher builds it from the engine's events and every subscriber of
 * the binary feed builds the same thing from the messages (snapshot, then
 * increments), with the same code, so both sides agree by construction: the
 * publisher's own model is what it sends snapshots from.
 *
 * Orders are known by the exchange-assigned reference number of the feed,
 * never by user or order id.  Orders and levels live in flat pools addressed
 * by 32-bit indices (FB_NIL ends every list); each side of a book keeps its
 * levels sorted with the best price last, so a level is found by binary
 * search and the best one is at hand.  Pools grow by doubling: this runs on
 * the feed's thread, never on the matching thread.
 */
#ifndef BOURSE_FEED_MODEL_H
#define BOURSE_FEED_MODEL_H

#include "core/hashmap.h"
#include "feed/candle.h"

#include <stdbool.h>
#include <stdint.h>

#define FB_NIL UINT32_MAX

typedef struct fb_order {
    uint64_t ref;
    int64_t price;
    uint32_t qty;
    uint32_t sym;
    uint32_t level;
    uint32_t next, prev; /* time priority within the level; next doubles as free link */
    uint8_t side;        /* BOURSE_BUY or BOURSE_SELL */
} fb_order;

typedef struct fb_level {
    int64_t price;
    int64_t qty;
    uint32_t count;
    uint32_t head, tail; /* head is first in time priority; head doubles as free link */
} fb_level;

/* Levels emptied by a trade or cancel stay in place (count 0) until more
 * than half the side is empty, so a price that comes back, as prices near
 * the touch do all the time, costs no insertion into the sorted arrays. */
typedef struct fb_side {
    int64_t *keys;    /* price for bids, -price for asks: ascending, best last */
    uint32_t *levels; /* level index per key */
    uint32_t n, cap;
    uint32_t empty; /* levels with no order */
} fb_side;

typedef struct fb_symbol {
    char name[9]; /* NUL-terminated */
    fb_side side[2];
    int64_t last_price, last_qty;
    int64_t volume;     /* shares traded this session */
    uint64_t trades;    /* trades this session */
    int64_t last_ts;    /* timestamp of the last change */
    uint64_t book_ver;  /* bumped on every change of the book */
    uint64_t trade_ver; /* bumped on every trade */
    uint8_t last_side;  /* aggressor side of the last trade */
    candle_ring candles[CANDLE_INTERVALS];
    /* The venue rules market data announces (replay v2): halts (H) and the
     * price band around the reference price (J). */
    uint8_t halted;           /* the publisher: the symbol's own halt; a client: halted at all */
    int64_t ref;              /* reference price, 0 = none */
    int64_t band;             /* the publisher: band in basis points of a percent */
    int64_t band_lo, band_hi; /* edges in force, 0 = none */
} fb_symbol;

typedef struct fbook {
    fb_order *orders;
    uint32_t norders, order_cap, order_free;
    fb_level *levels;
    uint32_t nlevels, level_cap, level_free;
    u64map by_ref;       /* unused when refs_unindexed */
    bool refs_unindexed; /* the publisher's: it never looks up a ref */
    fb_symbol *syms;
    uint32_t nsyms, sym_cap;
    uint32_t candle_depth;
    uint32_t open_orders;
} fbook;

int fbook_init(fbook *b, uint32_t candle_depth);
void fbook_free(fbook *b);

/* Symbols are numbered in order of addition, like the core's ids.  Returns
 * the new id or FB_NIL (no memory, or a name of more than 8 bytes). */
uint32_t fbook_symbol_add(fbook *b, const char *name, size_t len);
uint32_t fbook_symbol_find(const fbook *b, const char *name);

/* An order by its reference number, or FB_NIL.  A book with
 * refs_unindexed (set after fbook_init) keeps no such index and trusts the
 * caller's references to be unique: the publisher, which numbers them
 * itself and finds orders by user order id, saves a hash insert, lookup and
 * delete per booked order. */
uint32_t fbook_find(const fbook *b, uint64_t ref);

/* Book an order at the back of its level.  Returns its index, or FB_NIL
 * (unknown symbol, duplicate reference, bad side/qty/price, no memory). */
uint32_t fbook_add(fbook *b, uint64_t ref, uint32_t sym, int side, uint32_t qty, int64_t price);

/* Take qty shares off an order (all of them deletes it). */
void fbook_reduce(fbook *b, uint32_t o, uint32_t qty);
void fbook_delete(fbook *b, uint32_t o);

/* Count a trade in the symbol's last trade, volume and candles. */
void fbook_trade(fbook *b, uint32_t sym, int64_t ts, int64_t price, int64_t qty, int aggressor);

/* A new session: volume and trade count go back to zero on every symbol. */
void fbook_new_session(fbook *b);

/* The levels of a side from the best: start with *pos = 0; NULL after the
 * last.  fbook_best is the first. */
const fb_level *fbook_next(const fbook *b, uint32_t sym, int side, uint32_t *pos);
const fb_level *fbook_best(const fbook *b, uint32_t sym, int side);

/* Write the book as replay LEVEL lines (bids best first, then asks best
 * first), exactly as the core's `book SYM` prints them.  Returns the length
 * written, or the length needed when it is more than cap. */
size_t fbook_format_levels(const fbook *b, uint32_t sym, char *buf, size_t cap);

#endif
