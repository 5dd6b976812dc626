/*
 * metrics_http.c - GET /metrics on the HTTP port: the server's metrics in
 * the Prometheus text format (docs/metrics.md), for a Prometheus scraper.
 *
 * The feed only serves the text; making it is the server's
 * (src/server/metrics.c), which registers a function with
 * feed_set_metrics before the ports open.  The function runs here, on the
 * feed thread, once per scrape: it reads counters (atomics) and /proc,
 * never a lock the engine takes.  Without one registered, /metrics is 404.
 *
 * libwebsockets routes the mount "/metrics" (LWSMPRO_CALLBACK) to the
 * protocol "bourse-metrics" below: the headers on LWS_CALLBACK_HTTP, then
 * the body in chunks as the socket takes them.  lws_write wants LWS_PRE
 * bytes of room before what it writes, so the text is made LWS_PRE bytes
 * into its buffer; later chunks have the chunks already sent before them.
 * (This is the interim home of the route: the HTTP component that takes
 * over the port calls the same registered function.)
 */
#include "feed/feed_int.h"

#include <stdlib.h>
#include <string.h>

enum { CHUNK = 16 << 10 };

typedef struct mreq {
    char *buf; /* LWS_PRE + the text */
    size_t len, off;
} mreq;

void feed_set_metrics(feed *f, char *(*fn)(void *ctx, size_t *len), void *ctx)
{
    f->metrics_fn = fn;
    f->metrics_ctx = ctx;
}

static int start(struct lws *wsi, mreq *r)
{
    feed *f = lws_vhost_user(lws_get_vhost(wsi));
    size_t n = 0;
    char *text = f->metrics_fn ? f->metrics_fn(f->metrics_ctx, &n) : NULL;
    if (!text)
        return lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL) ? -1 : 0;
    r->buf = malloc(LWS_PRE + n);
    if (!r->buf) {
        free(text);
        return -1;
    }
    memcpy(r->buf + LWS_PRE, text, n);
    free(text);
    r->len = n;
    r->off = 0;
    uint8_t head[LWS_PRE + 512], *p = head + LWS_PRE, *end = head + sizeof head;
    if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", n, &p,
                                    end) ||
        lws_finalize_write_http_header(wsi, head + LWS_PRE, &p, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int more(struct lws *wsi, mreq *r)
{
    if (!r->buf)
        return 0;
    size_t k = r->len - r->off > CHUNK ? CHUNK : r->len - r->off;
    int last = r->off + k == r->len;
    if (lws_write(wsi, (unsigned char *)r->buf + LWS_PRE + r->off, k,
                  last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)k)
        return -1;
    r->off += k;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    free(r->buf);
    r->buf = NULL;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    mreq *r = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        if (r)
            memset(r, 0, sizeof *r);
        return r ? start(wsi, r) : -1;
    case LWS_CALLBACK_HTTP_WRITEABLE: return r ? more(wsi, r) : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
        if (r) {
            free(r->buf);
            r->buf = NULL;
        }
        return 0;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

const struct lws_protocols feed_metrics_protocol = {"bourse-metrics", callback, sizeof(mreq), 0, 0, NULL, 0};
