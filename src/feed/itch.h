/*
 * itch.h - the binary market-data messages, modelled on Nasdaq TotalView-
 * ITCH 5.0: one message per book change, order by order, each with an
 * exchange-assigned order reference number (never a user or order id).
 * docs/protocol.md ("Market data") is the reference; in short, every message
 * starts with
 *     type (1) | stock locate (2) | tracking number (2, zero) | timestamp (8)
 * all integers big-endian, the timestamp in nanoseconds since the Unix epoch
 * (ITCH uses 6 bytes since midnight; Bourse needs dates for candles), prices
 * 8-byte signed in 1/10,000 (ITCH's 4-byte prices top out at 214,748).  The
 * stock locate is the symbol's id + 1 (0: none).
 */
#ifndef BOURSE_FEED_ITCH_H
#define BOURSE_FEED_ITCH_H

#include "feed/candle.h"

#include <stddef.h>
#include <stdint.h>

#define ITCH_HEADER 13
#define ITCH_MAX 64 /* longest message */

enum itch_type {
    ITCH_SYSTEM = 'S',       /* event: O start of messages, Q market open, M market closed, C end */
    ITCH_DIRECTORY = 'R',    /* stock: a symbol was listed */
    ITCH_ADD = 'A',          /* ref, side, qty, stock, price */
    ITCH_EXECUTED = 'E',     /* ref, qty, match: a resting order traded at its price */
    ITCH_CANCEL = 'X',       /* ref, qty: part of an order was canceled */
    ITCH_DELETE = 'D',       /* ref: the rest of an order left the book */
    ITCH_REPLACE = 'U',      /* ref, ref2 = new ref, qty, price: moved to the back at a new price/qty */
    ITCH_STATS = 'V',        /* snapshot: last price, last qty, side, volume, trades */
    ITCH_CANDLE = 'K',       /* snapshot: interval, candle */
    ITCH_SNAPSHOT_END = 'G', /* snapshot: seq, the last sequenced message it includes */
    ITCH_TRADING_ACTION =
        'H',               /* stock, state 'H' halted / 'T' trading, reason 'S' symbol / 'M' market-wide */
    ITCH_PRICE_BAND = 'J', /* stock, reference price, lower and upper edge (0 = no band in force) */
};

typedef struct itch_msg {
    char type;
    uint16_t locate;
    int64_t ts;
    uint64_t ref, ref2;
    uint64_t match; /* EXECUTED */
    uint64_t seq;   /* SNAPSHOT_END */
    uint32_t qty;
    int64_t price;
    char side;            /* 'B' or 'S' */
    char event;           /* SYSTEM */
    char stock[9];        /* NUL-terminated */
    int64_t volume;       /* STATS */
    uint64_t trades;      /* STATS */
    uint8_t interval;     /* CANDLE */
    candle c;             /* CANDLE */
    char state, reason;   /* TRADING_ACTION */
    int64_t lower, upper; /* PRICE_BAND (price is the reference price) */
} itch_msg;

/* Encode into out (ITCH_MAX bytes); returns the length, 0 for a bad type. */
size_t itch_encode(const itch_msg *m, uint8_t *out);

/* Decode one message of exactly len bytes; 0, or -1 if malformed. */
int itch_decode(const uint8_t *p, size_t len, itch_msg *m);

/* One readable line (no newline) for `bourse feed --tail`. */
size_t itch_format(const itch_msg *m, char *buf, size_t cap);

#endif
