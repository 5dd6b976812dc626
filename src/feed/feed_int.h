/*
 * feed_int.h - the feed thread's state, shared by feed.c (ring, history,
 * loop), bin.c (binary subscribers), ws.c (WebSocket subscribers) and
 * udp.c (the MoldUDP64 feed and its request server).
 * Everything here except the ring's producer side (spsc.h) and the atomics
 * is touched by the feed thread only.
 */
#ifndef BOURSE_FEED_INT_H
#define BOURSE_FEED_INT_H

#include "feed/feed.h"
#include "feed/publish.h"
#include "util/spsc.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>

enum { FEED_CHUNK = 64 * 1024 }; /* most bytes handed to one socket write */

struct wsub;
struct bsub;
struct udp;
struct bimage;
struct peers;

/* Commands replayed into a publisher during recovery (persist.c). */
typedef struct feed_replay {
    pub *p;
    int open;   /* the current command has records, not yet ended */
    int64_t ts; /* its timestamp */
} feed_replay;

/* Per-symbol state of the WebSocket side (the trades it sends are the
 * publisher's tape, pub.tapes). */
typedef struct ws_sym {
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
    uint64_t *marks;  /* per slot: the seq of the command whose last record it is */
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
    uint64_t seq;       /* messages ever appended (since origin) */
    uint64_t seq_base;  /* of which before this run: restored, not held */
    uint64_t origin;    /* the command the numbering starts at (persist.c) */
    uint64_t *seq_off;  /* offset of message seq (seq & seq_mask) */
    uint64_t seq_mask;
    uint64_t ts; /* timestamp of the latest message */

    /* subscribers */
    struct lws_context *ctx;
    struct uv_loop_s *uv; /* the context's libuv loop (loop.c); NULL: libwebsockets' poll() */
    struct lws_vhost *bin_vh, *ws_vh;
    struct lws_http_mount web_mount;
    struct lws_protocols http_protos[8]; /* the WebSocket's and the API's (feed_listen) */
    struct bsub *bsubs;                  /* list of binary subscribers */
    struct wsub *wsubs;                  /* list of WebSocket subscribers */
    ws_sym *wsyms;
    uint32_t nwsyms;
    lws_sorted_usec_list_t tick; /* once a second: heartbeats, laggards */
    uint8_t *scratch;            /* LWS_PRE + FEED_CHUNK + 16 bytes */
    struct udp *udp;             /* the MoldUDP64 feed (udp.c); NULL when off */
    struct bimage *bimage;       /* the latest binary snapshot, shared by joiners (bin.c) */
    struct peers *peers;         /* subscribers per address (peers.c) */

    /* persist.c: saving (feed thread, then the saver thread), restoring */
    pthread_t saver;
    int saving;
    uint8_t *save_buf;
    size_t save_len;
    uint64_t save_seq;
    /* a replica's snapshot (feed_replica_state): the history encoded at
     * replica_seq, kept by the feed thread for the Raft thread to take */
    pthread_mutex_t replica_mu;
    uint8_t *replica_buf;
    size_t replica_len;
    uint64_t replica_seq;
    int recovering;
    feed_replay replay;

    atomic_uint_fast64_t records, messages, nbin, nws, snapshots, cut, refused;
    atomic_uint_fast64_t position; /* the consumer's (consumer.h): the last seq taken */
    pthread_t thread;
    int started, stopped;
    int listening; /* feed_listen done */
};

/* feed.c */
void feed_log(const feed *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* persist.c */
void persist_take(feed *f, uint64_t seq, int replica); /* feed thread, at a REC_SNAPSHOT */
void persist_join(feed *f);

/* bin.c */
extern const struct lws_protocols feed_bin_protocols[];
void bin_notify(feed *f); /* new messages in the history */
void bin_tick(feed *f);
void bin_goodbye(feed *f); /* End of Session to everyone */
void bin_free(feed *f);    /* after lws_context_destroy */

/* peers.c: subscribers per IPv4 address, for cfg.subscribers_per_ip */
uint32_t peers_ip(struct lws *wsi);  /* the peer's address; 0 when not IPv4 */
int peers_add(feed *f, uint32_t ip); /* -1 (counted nothing) at the limit */
void peers_del(feed *f, uint32_t ip);
void peers_free(feed *f);

/* udp.c */
int udp_open(feed *f);     /* feed_new, after the lws context: bind, adopt the socket */
void udp_begin(feed *f);   /* the feed thread starts: live from the next message */
void udp_flush(feed *f);   /* send every message published so far */
void udp_tick(feed *f);    /* once a second: heartbeat when idle, budgets, log */
void udp_goodbye(feed *f); /* the rest, then End of Session */
int udp_port(const feed *f);
void udp_stats(const feed *f, feed_stats *out);
void udp_free(feed *f); /* after lws_context_destroy */

/* loop.c: the event loop under libwebsockets, libuv (epoll) or poll(). */
struct lws_context *loop_context(feed *f, struct lws_context_creation_info *ci); /* sets f->uv */
void loop_serve(feed *f); /* serve what is ready, without waiting */
void loop_wait(feed *f);  /* wait for a socket, a timer or lws_cancel_service, and serve it */
void loop_free(feed *f);  /* destroy the context, then close the loop */

/* ws.c */
extern const struct lws_protocols feed_ws_protocols[];
void ws_on_message(feed *f, const itch_msg *m);
void ws_notify(feed *f);
void ws_free(feed *f);

#endif
