/*
 * ws.c - the WebSocket feed: JSON channels per symbol.
 *
 * A subscriber sends requests such as
 *     {"op":"subscribe","channel":"l2","symbol":"ACME","depth":10}
 * and gets a snapshot of the channel, then updates (docs/protocol.md).
 * Channels: l1 (best bid/ask, last trade, volume), l2 (top N levels),
 * trades, candles (one interval).
 *
 * Nothing is queued per subscriber for l1, l2 and candles: the publisher
 * only marks a symbol dirty and asks for a write; the message is rendered
 * from the current state when the socket can take it, so a slow subscriber
 * simply skips the states it was too slow to see (conflation).  Renderings
 * are cached per symbol, so 10,000 subscribers of one book cost one
 * rendering per change.  Trades are read from a per-symbol ring at the
 * subscriber's own cursor, sent in batches; one that falls more than the
 * ring behind gets a fresh snapshot marked "resync".  Answers to requests
 * (errors, pongs) go through a small bounded queue; a subscriber that
 * overflows it without reading is disconnected.
 */
#include "feed/feed_int.h"

#include "bourse/text.h"
#include "feed/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum {
    WS_CHANNELS = 32,
    WS_IN = 1024,
    WS_MAX_DEPTH = 100,
    WS_SNAP_TRADES = 50,
    WS_SNAP_CANDLES = 100,
    WS_BATCH = 100
};
enum { CH_L1 = 1, CH_L2, CH_TRADES, CH_CANDLES };
static const char *const channel_names[] = {"", "l1", "l2", "trades", "candles"};

typedef struct wchan {
    uint32_t sym;
    uint8_t kind;
    uint8_t interval;
    uint16_t depth;
    int snapshot;   /* to send */
    uint64_t ver;   /* l1/l2: version sent; trades/candles: trades sent */
    int64_t cstart; /* candles: start of the newest candle sent */
} wchan;

typedef struct wsub {
    struct lws *wsi;
    feed *f;
    struct wsub *next, *prev;
    wchan ch[WS_CHANNELS];
    int nch;
    int scan;
    char **q; /* answers to requests, bounded by cfg.ws_queue */
    uint32_t qhead, qlen;
    char in[WS_IN];
    size_t inlen;
    int in_overflow;
    int asked;   /* a write callback is on its way */
    uint32_t ip; /* counted in peers.c; 0 = not counted */
} wsub;

/* ---- a string builder over a fixed buffer ------------------------------ */

typedef struct sb {
    char *p;
    size_t len, cap;
    int full;
} sb;

static void sb_printf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len)
        b->full = 1;
    else
        b->len += (size_t)n;
}

static void sb_price(sb *b, int64_t v)
{
    char d[32];
    d[bourse_text_decimal(v, d)] = 0;
    sb_printf(b, "\"%s\"", d);
}

/* ---- renderings --------------------------------------------------------- */

static void render_l1(feed *f, uint32_t s, sb *b)
{
    const fb_symbol *sy = &f->p.book.syms[s];
    const fb_level *bid = fbook_best(&f->p.book, s, BOURSE_BUY);
    const fb_level *ask = fbook_best(&f->p.book, s, BOURSE_SELL);
    sb_printf(b, "{\"type\":\"l1\",\"symbol\":\"%s\",\"seq\":%llu,\"ts\":%lld,\"bid\":", sy->name,
              (unsigned long long)f->seq, (long long)f->ts);
    if (bid)
        sb_price(b, bid->price);
    else
        sb_printf(b, "null");
    sb_printf(b, ",\"bid_qty\":%lld,\"ask\":", bid ? (long long)bid->qty : 0LL);
    if (ask)
        sb_price(b, ask->price);
    else
        sb_printf(b, "null");
    sb_printf(b, ",\"ask_qty\":%lld,\"last\":", ask ? (long long)ask->qty : 0LL);
    if (sy->trades || sy->last_price)
        sb_price(b, sy->last_price);
    else
        sb_printf(b, "null");
    sb_printf(b, ",\"last_qty\":%lld,\"volume\":%lld,\"trades\":%llu}", (long long)sy->last_qty,
              (long long)sy->volume, (unsigned long long)sy->trades);
}

static void render_l2(feed *f, uint32_t s, uint32_t depth, sb *b)
{
    const fb_symbol *sy = &f->p.book.syms[s];
    sb_printf(b, "{\"type\":\"l2\",\"symbol\":\"%s\",\"seq\":%llu,\"ts\":%lld", sy->name,
              (unsigned long long)f->seq, (long long)f->ts);
    for (int side = BOURSE_BUY; side <= BOURSE_SELL; side++) {
        sb_printf(b, side == BOURSE_BUY ? ",\"bids\":[" : ",\"asks\":[");
        const fb_level *l;
        uint32_t pos = 0;
        for (uint32_t i = 0; i < depth && (l = fbook_next(&f->p.book, s, side, &pos)); i++) {
            sb_printf(b, i ? ",[" : "[");
            sb_price(b, l->price);
            sb_printf(b, ",%lld,%u]", (long long)l->qty, l->count);
        }
        sb_printf(b, "]");
    }
    sb_printf(b, "}");
}

static void render_trade(sb *b, const pub_trade *t)
{
    sb_printf(b, "{\"ts\":%lld,\"price\":", (long long)t->ts);
    sb_price(b, t->price);
    sb_printf(b, ",\"qty\":%lld,\"side\":\"%s\",\"match\":%llu}", (long long)t->qty,
              t->side == BOURSE_BUY ? "buy" : "sell", (unsigned long long)t->match);
}

static void render_candle(sb *b, const candle *c)
{
    char start[32];
    candle_time_format(c->start, start);
    sb_printf(b, "{\"start\":\"%s\",\"open\":", start);
    sb_price(b, c->open);
    sb_printf(b, ",\"high\":");
    sb_price(b, c->high);
    sb_printf(b, ",\"low\":");
    sb_price(b, c->low);
    sb_printf(b, ",\"close\":");
    sb_price(b, c->close);
    sb_printf(b, ",\"volume\":%lld}", (long long)c->volume);
}

/* ---- sending ------------------------------------------------------------ */

static int send_text(wsub *w, sb *b)
{
    if (b->full)
        return 0; /* cannot happen with the bounds above; never send half a message */
    return lws_write(w->wsi, (unsigned char *)b->p, b->len, LWS_WRITE_TEXT) < (int)b->len ? -1 : 1;
}

static sb out_buf(feed *f)
{
    return (sb){.p = (char *)f->scratch + LWS_PRE, .cap = FEED_CHUNK};
}

/* The cached rendering of l1 or l2 for a symbol. */
static int send_book(wsub *w, wchan *c)
{
    feed *f = w->f;
    ws_sym *ws = &f->wsyms[c->sym];
    const fb_symbol *sy = &f->p.book.syms[c->sym];
    uint64_t ver = c->kind == CH_L1 ? sy->book_ver + sy->trade_ver : sy->book_ver;
    char **cache = c->kind == CH_L1 ? &ws->l1 : &ws->l2;
    size_t *len = c->kind == CH_L1 ? &ws->l1_len : &ws->l2_len;
    int fresh = c->kind == CH_L1 ? ws->l1 && ws->l1_ver == ver
                                 : ws->l2 && ws->l2_ver == ver && ws->l2_depth == c->depth;
    if (!fresh) {
        sb b = out_buf(f);
        if (c->kind == CH_L1)
            render_l1(f, c->sym, &b);
        else
            render_l2(f, c->sym, c->depth, &b);
        char *copy = realloc(*cache, b.len + 1);
        if (copy) {
            memcpy(copy, b.p, b.len);
            *cache = copy;
            *len = b.len;
            if (c->kind == CH_L1) {
                ws->l1_ver = ver;
            } else {
                ws->l2_ver = ver;
                ws->l2_depth = c->depth;
            }
        }
        c->ver = ver;
        return send_text(w, &b);
    }
    sb b = out_buf(f);
    memcpy(b.p, *cache, *len);
    b.len = *len;
    c->ver = ver;
    return send_text(w, &b);
}

static int send_trades(wsub *w, wchan *c)
{
    feed *f = w->f;
    const pub_tape *t = &f->p.tapes[c->sym];
    sb b = out_buf(f);
    int resync = !c->snapshot && t->n - c->ver > PUB_TAPE;
    uint64_t from = c->ver;
    if (c->snapshot || resync)
        from = t->n > WS_SNAP_TRADES ? t->n - WS_SNAP_TRADES : 0;
    uint64_t to = from + WS_BATCH < t->n ? from + WS_BATCH : t->n;
    sb_printf(&b, "{\"type\":\"trades\",\"symbol\":\"%s\",\"snapshot\":%s%s,\"trades\":[",
              f->p.book.syms[c->sym].name, c->snapshot ? "true" : "false", resync ? ",\"resync\":true" : "");
    for (uint64_t i = from; i < to; i++) {
        if (i > from)
            sb_printf(&b, ",");
        render_trade(&b, &t->t[i % PUB_TAPE]);
    }
    sb_printf(&b, "]}");
    c->ver = to;
    c->snapshot = 0;
    return send_text(w, &b);
}

static int send_candles(wsub *w, wchan *c)
{
    feed *f = w->f;
    const fb_symbol *sy = &f->p.book.syms[c->sym];
    const candle_ring *r = &sy->candles[c->interval];
    sb b = out_buf(f);
    sb_printf(&b, "{\"type\":\"candles\",\"symbol\":\"%s\",\"interval\":\"%s\",\"snapshot\":%s,\"candles\":[",
              sy->name, candle_interval_name(c->interval), c->snapshot ? "true" : "false");
    /* Oldest first: on a snapshot the newest WS_SNAP_CANDLES, else those
     * from the last one sent (it may have changed since) on. */
    uint32_t n = 0;
    while (n < r->n && n < WS_SNAP_CANDLES && (c->snapshot || candle_ring_get(r, n)->start >= c->cstart))
        n++;
    for (uint32_t i = n; i-- > 0;) {
        render_candle(&b, candle_ring_get(r, i));
        if (i)
            sb_printf(&b, ",");
    }
    sb_printf(&b, "]}");
    if (r->n)
        c->cstart = candle_ring_get(r, 0)->start;
    c->ver = sy->trade_ver;
    c->snapshot = 0;
    return send_text(w, &b);
}

/* Does channel c have something to send? */
static int pending(const wsub *w, const wchan *c)
{
    const feed *f = w->f;
    const fb_symbol *sy = &f->p.book.syms[c->sym];
    if (c->snapshot)
        return 1;
    switch (c->kind) {
    case CH_L1: return c->ver != sy->book_ver + sy->trade_ver;
    case CH_L2: return c->ver != sy->book_ver;
    case CH_TRADES: return c->ver != f->p.tapes[c->sym].n;
    default: return c->ver != sy->trade_ver;
    }
}

static int send_channel(wsub *w, wchan *c)
{
    switch (c->kind) {
    case CH_L1:
    case CH_L2: c->snapshot = 0; return send_book(w, c);
    case CH_TRADES: return send_trades(w, c);
    default: return send_candles(w, c);
    }
}

/* Ask for a write callback if there is anything to send (or `force`). */
static void ask_write(wsub *w, int force)
{
    if (w->asked)
        return;
    int any = force || w->qlen;
    for (int k = 0; !any && k < w->nch; k++)
        any = pending(w, &w->ch[k]);
    if (any) {
        w->asked = 1;
        lws_callback_on_writable(w->wsi);
    }
}

static int on_writeable(wsub *w)
{
    w->asked = 0;
    if (w->qlen) {
        char *m = w->q[w->qhead];
        w->qhead = (w->qhead + 1) % w->f->cfg.ws_queue;
        w->qlen--;
        sb b = out_buf(w->f);
        b.len = strlen(m);
        memcpy(b.p, m, b.len);
        free(m);
        if (send_text(w, &b) < 0)
            return -1;
        ask_write(w, 0);
        return 0;
    }
    for (int k = 0; k < w->nch; k++) {
        wchan *c = &w->ch[(w->scan + k) % w->nch];
        if (!pending(w, c))
            continue;
        w->scan = (w->scan + k + 1) % w->nch;
        if (send_channel(w, c) < 0)
            return -1;
        ask_write(w, 0);
        return 0;
    }
    return 0;
}

/* ---- requests ----------------------------------------------------------- */

static int answer(wsub *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int answer(wsub *w, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (w->qlen == w->f->cfg.ws_queue) {
        atomic_fetch_add(&w->f->cut, 1);
        return -1; /* asks and never reads: cut */
    }
    if (!w->q && !(w->q = calloc(w->f->cfg.ws_queue, sizeof *w->q)))
        return -1;
    char *m = strdup(buf);
    if (!m)
        return -1;
    w->q[(w->qhead + w->qlen++) % w->f->cfg.ws_queue] = m;
    ask_write(w, 1);
    return 0;
}

static int refuse(wsub *w, const char *why, const char *detail)
{
    char esc[128];
    atomic_fetch_add(&w->f->refused, 1);
    json_escape(detail, strlen(detail), esc, sizeof esc);
    return answer(w, "{\"type\":\"error\",\"error\":\"%s%s%s\"}", why, *esc ? ": " : "", esc);
}

static int sym_add_sub(ws_sym *s, wsub *w)
{
    for (uint32_t i = 0; i < s->nsubs; i++)
        if (s->subs[i] == w)
            return 0;
    if (s->nsubs == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 8;
        wsub **n = realloc(s->subs, cap * sizeof *n);
        if (!n)
            return -1;
        s->subs = n;
        s->cap = cap;
    }
    s->subs[s->nsubs++] = w;
    return 0;
}

static void sym_del_sub(ws_sym *s, wsub *w)
{
    for (uint32_t i = 0; i < s->nsubs; i++)
        if (s->subs[i] == w) {
            s->subs[i] = s->subs[--s->nsubs];
            return;
        }
}

static int on_request(wsub *w, const char *text, size_t len)
{
    feed *f = w->f;
    json_pair kv[JSON_PAIRS];
    const char *why = NULL;
    int n = json_flat(text, len, kv, JSON_PAIRS, &why);
    if (n < 0)
        return refuse(w, "malformed request", why);
    const json_pair *op = json_get(kv, n, "op");
    if (!op || !op->is_string)
        return refuse(w, "missing \\\"op\\\"", "");
    if (!strcmp(op->val, "ping"))
        return answer(w, "{\"type\":\"pong\",\"seq\":%llu}", (unsigned long long)f->seq);
    int sub = !strcmp(op->val, "subscribe");
    if (!sub && strcmp(op->val, "unsubscribe"))
        return refuse(w, "unknown op", op->val);
    const json_pair *ch = json_get(kv, n, "channel"), *sy = json_get(kv, n, "symbol");
    if (!ch || !ch->is_string || !sy || !sy->is_string)
        return refuse(w, "subscribe needs \\\"channel\\\" and \\\"symbol\\\"", "");
    int kind = 0;
    for (int i = CH_L1; i <= CH_CANDLES; i++)
        if (!strcmp(ch->val, channel_names[i]))
            kind = i;
    if (!kind)
        return refuse(w, "unknown channel", ch->val);
    uint32_t s = fbook_symbol_find(&f->p.book, sy->val);
    if (s == FB_NIL)
        return refuse(w, "unknown symbol", sy->val);
    wchan c = {.sym = s, .kind = (uint8_t)kind, .depth = 10, .snapshot = 1};
    const json_pair *d = json_get(kv, n, "depth"), *iv = json_get(kv, n, "interval");
    if (kind == CH_L2 && d) {
        long v = d->is_string ? -1 : strtol(d->val, NULL, 10);
        if (v < 1 || v > WS_MAX_DEPTH || strspn(d->val, "0123456789") != strlen(d->val))
            return refuse(w, "depth must be 1 to 100", d->val);
        c.depth = (uint16_t)v;
    }
    if (kind == CH_CANDLES) {
        int i = iv && iv->is_string ? candle_interval_parse(iv->val) : -1;
        if (i < 0)
            return refuse(w, "interval must be one of 1m 5m 1h 1d 1w 1M", iv ? iv->val : "");
        c.interval = (uint8_t)i;
    }
    /* One channel per (symbol, kind, interval): a second subscribe replaces it. */
    int at = -1;
    for (int i = 0; i < w->nch; i++)
        if (w->ch[i].sym == s && w->ch[i].kind == kind &&
            (kind != CH_CANDLES || w->ch[i].interval == c.interval))
            at = i;
    if (!sub) {
        if (at < 0)
            return refuse(w, "not subscribed", ch->val);
        w->ch[at] = w->ch[--w->nch];
        int still = 0;
        for (int i = 0; i < w->nch; i++)
            still |= w->ch[i].sym == s;
        if (!still)
            sym_del_sub(&f->wsyms[s], w);
        w->scan = 0;
        return answer(w, "{\"type\":\"unsubscribed\",\"channel\":\"%s\",\"symbol\":\"%s\"}", ch->val,
                      f->p.book.syms[s].name);
    }
    if (at < 0 && w->nch == WS_CHANNELS)
        return refuse(w, "too many channels", "");
    if (sym_add_sub(&f->wsyms[s], w) < 0)
        return -1;
    if (kind == CH_TRADES)
        c.ver = f->p.tapes[s].n;
    w->ch[at < 0 ? w->nch++ : at] = c;
    ask_write(w, 1);
    return 0;
}

static int on_receive(wsub *w, const char *in, size_t len)
{
    if (lws_frame_is_binary(w->wsi)) {
        w->in_overflow = 1;
    } else if (w->inlen + len > WS_IN) {
        w->in_overflow = 1;
    } else {
        memcpy(w->in + w->inlen, in, len);
        w->inlen += len;
    }
    if (!lws_is_final_fragment(w->wsi))
        return 0;
    int rc;
    if (w->in_overflow)
        rc = refuse(w, "request too long or not text", "");
    else
        rc = on_request(w, w->in, w->inlen);
    w->inlen = 0;
    w->in_overflow = 0;
    return rc;
}

/* ---- the protocol ------------------------------------------------------- */

static void unlink_sub(wsub *w)
{
    feed *f = w->f;
    for (int i = 0; i < w->nch; i++)
        sym_del_sub(&f->wsyms[w->ch[i].sym], w);
    if (w->prev)
        w->prev->next = w->next;
    else
        f->wsubs = w->next;
    if (w->next)
        w->next->prev = w->prev;
    while (w->qlen) {
        free(w->q[w->qhead]);
        w->qhead = (w->qhead + 1) % f->cfg.ws_queue;
        w->qlen--;
    }
    free(w->q);
    peers_del(f, w->ip);
    w->f = NULL;
    atomic_fetch_sub(&f->nws, 1);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    wsub *w = user;
    feed *f;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        /* RFC 6455 is version 13; libwebsockets would answer any with 101.
         * A client that names no subprotocol gets this one wherever it
         * asks: not under /api/, where the HTTP API's private socket is
         * (it needs Sec-WebSocket-Protocol: bourse-user, src/http). */
        char v[8], uri[512];
        if (lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_VERSION) > 0 && !strcmp(v, "13") &&
            lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) > 0 && strncmp(uri, "/api/", 5) != 0)
            return 0;
        f = lws_vhost_user(lws_get_vhost(wsi));
        atomic_fetch_add(&f->refused, 1);
        return -1;
    }
    case LWS_CALLBACK_ESTABLISHED:
        f = lws_vhost_user(lws_get_vhost(wsi));
        memset(w, 0, sizeof *w);
        if (atomic_load(&f->nbin) + atomic_load(&f->nws) >= f->cfg.max_subscribers) {
            atomic_fetch_add(&f->refused, 1);
            return -1;
        }
        if (peers_add(f, peers_ip(wsi)) < 0) {
            atomic_fetch_add(&f->refused, 1);
            feed_log(f, "refused a WebSocket subscriber: %u already from its address",
                     f->cfg.subscribers_per_ip);
            return -1;
        }
        w->ip = peers_ip(wsi);
        w->wsi = wsi;
        w->f = f;
        if (f->cfg.sndbuf) {
            int fd = lws_get_socket_fd(wsi), sz = (int)f->cfg.sndbuf;
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        }
        w->next = f->wsubs;
        if (f->wsubs)
            f->wsubs->prev = w;
        f->wsubs = w;
        atomic_fetch_add(&f->nws, 1);
        return 0;
    case LWS_CALLBACK_RECEIVE: return w->f ? on_receive(w, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE: return w->f ? on_writeable(w) : -1;
    case LWS_CALLBACK_CLOSED:
        if (w->f)
            unlink_sub(w);
        return 0;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

const struct lws_protocols feed_ws_protocols[] = {
    {"bourse-feed", callback, sizeof(wsub), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- from the publisher -------------------------------------------------- */

void ws_on_message(feed *f, const itch_msg *m)
{
    if (m->type == ITCH_DIRECTORY) {
        ws_sym *n = realloc(f->wsyms, (f->nwsyms + 1) * sizeof *n);
        if (!n)
            return;
        f->wsyms = n;
        memset(&f->wsyms[f->nwsyms++], 0, sizeof *n);
        return;
    }
    if (m->locate == 0 || m->locate > f->nwsyms)
        return;
    f->wsyms[m->locate - 1].dirty = 1;
}

void ws_notify(feed *f)
{
    for (uint32_t i = 0; i < f->nwsyms; i++) {
        ws_sym *s = &f->wsyms[i];
        if (!s->dirty)
            continue;
        s->dirty = 0;
        for (uint32_t k = 0; k < s->nsubs; k++)
            ask_write(s->subs[k], 1);
    }
}

void ws_free(feed *f)
{
    for (uint32_t i = 0; i < f->nwsyms; i++) {
        free(f->wsyms[i].subs);
        free(f->wsyms[i].l1);
        free(f->wsyms[i].l2);
    }
    free(f->wsyms);
    f->wsyms = NULL;
    f->nwsyms = 0;
}
