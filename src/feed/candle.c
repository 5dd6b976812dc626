/*
 * candle.c - interval arithmetic in UTC and the candle rings.
 *
 * Calendar months and Monday weeks are computed from the day number with the
 * proleptic Gregorian formulas (days_from_civil / civil_from_days), so no
 * time-zone database or libc time function is involved and the result is the
 * same on every machine.
 */
#include "feed/candle.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_SEC 1000000000LL
#define NS_PER_DAY (86400LL * NS_PER_SEC)

static const char *const names[CANDLE_INTERVALS] = {"1m", "5m", "1h", "1d", "1w", "1M"};

const char *candle_interval_name(int interval)
{
    return interval >= 0 && interval < CANDLE_INTERVALS ? names[interval] : "?";
}

int candle_interval_parse(const char *s)
{
    for (int i = 0; i < CANDLE_INTERVALS; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a civil date (month 1-12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int64_t candle_bucket(int interval, int64_t ts)
{
    static const int64_t fixed[] = {60 * NS_PER_SEC, 300 * NS_PER_SEC, 3600 * NS_PER_SEC, NS_PER_DAY};
    if (interval <= CANDLE_1D)
        return floor_div(ts, fixed[interval]) * fixed[interval];
    int64_t day = floor_div(ts, NS_PER_DAY);
    if (interval == CANDLE_1W) {
        int64_t monday_based = floor_div(day + 3, 7) * 7 - 3; /* 1970-01-01 was a Thursday */
        return monday_based * NS_PER_DAY;
    }
    int64_t y;
    int m, d;
    civil_from_days(day, &y, &m, &d);
    return days_from_civil(y, m, 1) * NS_PER_DAY;
}

void candle_time_format(int64_t ts, char out[32])
{
    int64_t day = floor_div(ts, NS_PER_DAY);
    int64_t sec = floor_div(ts - day * NS_PER_DAY, NS_PER_SEC);
    int64_t y;
    int m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(out, 32, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, (int)(sec / 3600),
             (int)(sec / 60 % 60), (int)(sec % 60));
}

int candle_ring_init(candle_ring *r, uint32_t depth)
{
    memset(r, 0, sizeof *r);
    if (depth == 0)
        depth = 1;
    r->c = calloc(depth, sizeof *r->c);
    if (!r->c)
        return -1;
    r->depth = depth;
    return 0;
}

void candle_ring_free(candle_ring *r)
{
    free(r->c);
    memset(r, 0, sizeof *r);
}

static candle *push(candle_ring *r)
{
    r->head = r->n ? (r->head + 1) % r->depth : 0;
    if (r->n < r->depth)
        r->n++;
    /* A ring of depth candles: the newest overwrites the oldest. */
    assert(r->n <= r->depth && r->head < r->depth);
    return &r->c[r->head];
}

int candle_ring_trade(candle_ring *r, int interval, int64_t ts, int64_t price, int64_t qty)
{
    int64_t start = candle_bucket(interval, ts);
    candle *c = r->n ? &r->c[r->head] : NULL;
    if (c && start <= c->start) {
        if (price > c->high)
            c->high = price;
        if (price < c->low)
            c->low = price;
        c->close = price;
        c->volume += qty;
        /* high and low only widen and open and close are trades of the
         * bucket, so both lie between them (trades come from the engine,
         * never from the wire: the follower uses candle_ring_put). */
        assert(c->low <= c->open && c->open <= c->high && c->low <= c->close && c->close <= c->high);
        return 0;
    }
    c = push(r);
    *c = (candle){.start = start, .open = price, .high = price, .low = price, .close = price, .volume = qty};
    return 1;
}

void candle_ring_put(candle_ring *r, const candle *c)
{
    if (r->n && r->c[r->head].start == c->start)
        r->c[r->head] = *c;
    else
        *push(r) = *c;
}

const candle *candle_ring_get(const candle_ring *r, uint32_t i)
{
    if (i >= r->n)
        return NULL;
    return &r->c[(r->head + r->depth - i) % r->depth];
}
