/*
 * market.c - the public market data endpoints: symbols, ticker, book,
 * trades, candles.  No login; the per-address rate limit applies.  The
 * feed renders them (feed_api_*, src/feed/api.c) on this same thread.
 */
#include "http/http_int.h"

#include "feed/feed.h"

#include <stdlib.h>
#include <string.h>

enum { BOOK_DEPTH_MAX = 100, TRADES_MAX = 1000, CANDLES_MAX = 1000 };

/* A query number in [1, max], default def; -1 after answering 400. */
static long query_n(http_req *r, const char *name, long def, long max)
{
    char v[32];
    if (!http_query(r, name, v, sizeof v))
        return def;
    char *end;
    long n = strtol(v, &end, 10);
    if (!v[0] || *end || n < 1 || n > max) {
        http_error(r, 400, "BAD_FIELD", "%s must be an integer from 1 to %ld", name, max);
        return -1;
    }
    return n;
}

static void answer(http_req *r, long n)
{
    if (n == 0)
        http_error(r, 404, "UNKNOWN_SYMBOL", "no such symbol: %s", http_arg(r, 0));
    else if (n < 0)
        http_error(r, 500, "INTERNAL", "the answer did not fit");
    else
        http_reply(r, 200, "application/json", r->w.p, (size_t)n);
}

static struct feed *feed_of(http_server *h, http_req *r)
{
    if (!h->cfg.feed) {
        http_error(r, 503, "UNAVAILABLE", "no market data in this server");
        return NULL;
    }
    http_json(r);
    if (!r->w.p) {
        http_error(r, 503, "CAPACITY", "out of memory");
        return NULL;
    }
    return h->cfg.feed;
}

static int symbols(http_server *h, http_req *r)
{
    struct feed *f = feed_of(h, r);
    if (f) {
        long n = feed_api_symbols(f, r->w.p, r->w.cap);
        answer(r, n ? n : -1);
    }
    return HTTP_DONE;
}

static int ticker(http_server *h, http_req *r)
{
    struct feed *f = feed_of(h, r);
    if (f)
        answer(r, feed_api_ticker(f, http_arg(r, 0), r->w.p, r->w.cap));
    return HTTP_DONE;
}

static int book(http_server *h, http_req *r)
{
    long d = query_n(r, "depth", 10, BOOK_DEPTH_MAX);
    struct feed *f = d > 0 ? feed_of(h, r) : NULL;
    if (f)
        answer(r, feed_api_book(f, http_arg(r, 0), (uint32_t)d, r->w.p, r->w.cap));
    return HTTP_DONE;
}

static int trades(http_server *h, http_req *r)
{
    long n = query_n(r, "limit", 100, TRADES_MAX);
    struct feed *f = n > 0 ? feed_of(h, r) : NULL;
    if (f)
        answer(r, feed_api_trades(f, http_arg(r, 0), (uint32_t)n, r->w.p, r->w.cap));
    return HTTP_DONE;
}

static int candles(http_server *h, http_req *r)
{
    char iv[8] = "1m";
    if (http_query(r, "interval", iv, sizeof iv) && !iv[0])
        strcpy(iv, "?");
    long n = query_n(r, "limit", 100, CANDLES_MAX);
    struct feed *f = n > 0 ? feed_of(h, r) : NULL;
    if (!f)
        return HTTP_DONE;
    long k = feed_api_candles(f, http_arg(r, 0), iv, (uint32_t)n, r->w.p, r->w.cap);
    if (k == -2)
        http_error(r, 400, "BAD_FIELD", "interval must be one of 1m 5m 1h 1d 1w 1M");
    else
        answer(r, k);
    return HTTP_DONE;
}

int market_routes(http_server *h)
{
    return http_route(h, "GET", "/api/v1/symbols", HTTP_PUBLIC, symbols) ||
           http_route(h, "GET", "/api/v1/ticker/{symbol}", HTTP_PUBLIC, ticker) ||
           http_route(h, "GET", "/api/v1/book/{symbol}", HTTP_PUBLIC, book) ||
           http_route(h, "GET", "/api/v1/trades/{symbol}", HTTP_PUBLIC, trades) ||
           http_route(h, "GET", "/api/v1/candles/{symbol}", HTTP_PUBLIC, candles);
}
