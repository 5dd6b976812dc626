/*
 * candle.h - OHLCV candles in fixed-size rings, one ring per interval.
 *
 * A candle covers [start, start + interval) of the sequencer's clock (the
 * command's ts_ns, nanoseconds since the Unix epoch, UTC), so replaying the
 * same commands gives the same candles.  Minutes, hours and days are plain
 * multiples of the epoch; weeks start on Monday 00:00 UTC and months are
 * calendar months in UTC.  A bucket with no trade has no candle (gaps are not
 * filled with flat candles).  A ring keeps the newest `depth` candles.
 */
#ifndef BOURSE_FEED_CANDLE_H
#define BOURSE_FEED_CANDLE_H

#include <stddef.h>
#include <stdint.h>

enum { CANDLE_1M, CANDLE_5M, CANDLE_1H, CANDLE_1D, CANDLE_1W, CANDLE_1MO, CANDLE_INTERVALS };

typedef struct candle {
    int64_t start; /* ns since the epoch, UTC */
    int64_t open, high, low, close;
    int64_t volume;
} candle;

typedef struct candle_ring {
    candle *c;      /* depth slots */
    uint32_t depth; /* capacity */
    uint32_t n;     /* candles held, at most depth */
    uint32_t head;  /* slot of the newest candle */
} candle_ring;

/* "1m" "5m" "1h" "1d" "1w" "1M"; candle_interval_parse returns -1 if unknown. */
const char *candle_interval_name(int interval);
int candle_interval_parse(const char *s);

/* Start of the bucket of `interval` that holds ts. */
int64_t candle_bucket(int interval, int64_t ts);

/* "2024-05-06T13:05:00Z" (20 characters and a NUL). */
void candle_time_format(int64_t ts, char out[32]);

int candle_ring_init(candle_ring *r, uint32_t depth);
void candle_ring_free(candle_ring *r);

/* Add one trade; returns 1 when it opened a new candle, 0 when it updated the
 * newest one.  A trade older than the newest candle's bucket (a clock that
 * went back) is counted in the newest candle. */
int candle_ring_trade(candle_ring *r, int interval, int64_t ts, int64_t price, int64_t qty);

/* Put a whole candle (from a snapshot): replaces the newest one when it has
 * the same start, else is appended. */
void candle_ring_put(candle_ring *r, const candle *c);

/* The i-th newest candle (0 = newest), or NULL. */
const candle *candle_ring_get(const candle_ring *r, uint32_t i);

#endif
