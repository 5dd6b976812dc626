/*
 * feed_int.h - the feed thread's state, shared by feed.c (ring, history,
 * loop), bin.c (binary subscribers) and ws.c (WebSocket subscribers).
 * Everything here except the ring's producer side (spsc.h) and the atomics
 * is touched by the feed thread only.
 */
#ifndef BOURSE_FEED_INT_H
#define BOURSE_FEED_INT_H

#include "feed/feed.h"
#include "feed/publish.h"
#include "feed/spsc.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>

enum { FEED_CHUNK = 64 * 1024 }; /* most bytes handed to one socket write */

/* The last trades of a symbol, for the WebSocket trades channel. */
typedef struct ws_trade {
    int64_t ts, price, qty;
    uint64_t match;
    uint8_t side;
} ws_trade;
#define WS_TRADES 1024

struct wsub;
struct bsub;

/* Per-symbol state of the WebSocket side. */
typedef struct ws_sym {
    ws_trade trades[WS_TRADES];
    uint64_t ntrades;   /* trades ever: the ring holds the last WS_TRADES */
    struct wsub **subs; /* subscribers with a channel on this symbol */
    uint32_t nsubs, cap;
    int dirty;
    /* JSON cache: one rendering serves every subscriber */
    char *l1;
    size_t l1_len;
    uint64_t l1_ver;
    char *l2;
    size_t l2_len, l2_cap;
    uint64_t l2_ver;
    uint32_t l2_depth;
} ws_sym;

struct feed {
    feed_config cfg;
    char session[11];

    /* engine -> feed */
    spsc q;
    uint64_t pending; /* producer: records of the command so far */
    feed_rec *last;   /* producer: the latest of them */
    int fence;        /* producer: no membarrier, so wake() fences */
    alignas(64) atomic_int sleeping;
    atomic_int stop;
    alignas(64) atomic_uint_fast64_t engine_waits; /* written by the producer only */
    alignas(64) int pad_;

    /* the publisher and its stream */
    pub p;
    uint8_t *hist;      /* sequenced packets, as sent (SoupBinTCP 'S') */
    uint64_t hist_cap;  /* a power of two */
    uint64_t hist_head; /* bytes ever appended */
    uint64_t seq;       /* messages ever appended */
    uint64_t *seq_off;  /* offset of message seq (seq & seq_mask) */
    uint64_t seq_mask;
    uint64_t ts; /* timestamp of the latest message */

    /* subscribers */
    struct lws_context *ctx;
    struct lws_vhost *bin_vh, *ws_vh;
    struct lws_http_mount web_mount;
    struct bsub *bsubs; /* list of binary subscribers */
    struct wsub *wsubs; /* list of WebSocket subscribers */
    ws_sym *wsyms;
    uint32_t nwsyms;
    lws_sorted_usec_list_t tick; /* once a second: heartbeats, laggards */
    uint8_t *scratch;            /* LWS_PRE + FEED_CHUNK + 16 bytes */

    atomic_uint_fast64_t records, messages, nbin, nws, snapshots, cut, refused;
    pthread_t thread;
    int started, stopped;
};

/* feed.c */
void feed_log(const feed *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* bin.c */
extern const struct lws_protocols feed_bin_protocols[];
void bin_notify(feed *f); /* new messages in the history */
void bin_tick(feed *f);
void bin_goodbye(feed *f); /* End of Session to everyone */

/* ws.c */
extern const struct lws_protocols feed_ws_protocols[];
void ws_on_message(feed *f, const itch_msg *m);
void ws_notify(feed *f);
void ws_free(feed *f);

#endif
