/*
 * feed.h - market data: the publisher thread and its two feeds.
 *
 *   engine thread --feed_push()--> SPSC ring (spsc.h) --> feed thread
 *                                                        | publish.c: books, stats, candles
 *                                                        | history of sequenced messages
 *                                                        +--> binary feed (--feed-port):
 *                                                        |    ITCH-style over SoupBinTCP
 *                                                        +--> WebSocket (--http-port):
 *                                                        |    JSON channels per symbol
 *                                                        +--> UDP (--udp-feed, udp.c):
 *                                                             MoldUDP64 datagrams, and
 *                                                             retransmission on request
 *
 * The engine thread only writes a 32-byte record per published event into
 * the ring (orders named by the engine's handles, bourse_event.order, not by
 * user and order id); everything else happens on the feed's own thread, which also
 * serves every subscriber (libwebsockets, one event loop).  Snapshots are
 * taken on that thread between two commands, so a subscriber that joins late
 * gets a consistent snapshot at a sequence number and then every later
 * message: no gap, no duplicate.
 *
 * When the ring is full the engine thread waits for the feed (it wakes it
 * and yields) rather than drop anything: market data must be complete, and a
 * lost event cannot be recovered from the core (it has no order-by-order
 * view to resync from).  The ring is sized to absorb bursts (--feed-ring),
 * the feed is several times faster than the engine on the same input (see
 * docs/benchmarks.md), and feed_stats() counts the waits.  Slow subscribers
 * never slow the feed: see ws.c and bin.c.
 *
 * The feed must see every event since the engine was created (symbol ids are
 * creation order and it learns names from SYMBOL commands; candles, volume,
 * the trades tape and ref and match numbers are history), so a server that
 * recovers from a journal restores the feed's history saved beside the core
 * snapshot it starts from and replays the later commands' events into it
 * too (persist.c, fsnap.h): after a restart the feed shows what an
 * uninterrupted server would.
 */
#ifndef BOURSE_FEED_H
#define BOURSE_FEED_H

#include "bourse/bourse.h"
#include "journal/consumer.h"

#include <stdint.h>

typedef struct feed feed;

typedef struct feed_config {
    const char *listen;          /* address to bind; NULL = 127.0.0.1 */
    int feed_port;               /* binary feed: -1 = off, 0 = any free port */
    int http_port;               /* WebSocket and web page: -1 = off, 0 = any free port */
    const char *web_root;        /* directory served over HTTP at /, NULL = none */
    const char *session;         /* SoupBinTCP session name, at most 10 characters */
    uint32_t ring;               /* engine -> feed records, a power of two (262,144) */
    uint32_t history_mb;         /* sequenced messages kept for subscribers, MiB (64) */
    uint32_t candle_depth;       /* candles kept per symbol and interval (256) */
    uint32_t ws_queue;           /* non-conflated messages queued per WebSocket subscriber (256) */
    uint32_t max_subscribers;    /* per feed, refused beyond (20,000) */
    uint32_t subscribers_per_ip; /* binary + WebSocket, from one address; 0 = no limit */
    uint32_t snapshot_s;         /* a binary subscriber still reading its snapshot after this is cut (30) */
    uint32_t sndbuf;             /* subscribers' socket send buffer, bytes; 0 = the kernel's */
    uint32_t spin_us;            /* an idle feed polls its ring this long before sleeping (0) */
    const char *data_dir;        /* where feed snapshots go (beside the journal); NULL = none */
    const char *udp_feed;        /* MoldUDP64 datagrams to "A.B.C.D:PORT"; NULL = off */
    int udp_request_port;        /* retransmission requests, on `listen`; 0 = any free port */
    uint32_t udp_payload;        /* most bytes per datagram; 0 = 1,400 */
    int quiet;                   /* no log lines on stderr */
    /* A replica of a cluster (docs/replication.md): a subscriber asking
     * for a message past this node's last one saw it at another node (the
     * old leader) that this one has not applied yet: refuse the login, so
     * that it tries again (here once caught up, or at another node), rather
     * than send a snapshot behind what it has already shown. */
    int refuse_ahead;
    int listen_later; /* feed_new opens no socket: feed_listen (or feed_start) does */
    /* The HTTP API (src/http) on the same vhost, as http.h gives them:
     * struct lws_protocols[] (NULL-terminated) served beside the
     * WebSocket, a struct lws_http_mount chain tried before the web root,
     * struct lws_protocol_vhost_options headers on every answer. */
    const void *http_protocols, *http_mounts, *http_headers;
    const char *tls_cert, *tls_key; /* PEM files: the HTTP port speaks TLS; NULL = plain */
    int poll_loop;                  /* serve sockets with libwebsockets' poll(), not libuv's epoll (loop.c) */
} feed_config;

typedef struct feed_stats {
    uint64_t pushed;       /* records the engine put in the ring */
    uint64_t records;      /* taken from the ring */
    uint64_t engine_waits; /* times the engine found the ring full */
    uint64_t messages;     /* sequenced messages published (the last seq) */
    uint64_t errors;       /* events that did not fit the model */
    uint64_t bin_subscribers, ws_subscribers;
    uint64_t snapshots;     /* binary snapshots sent */
    uint64_t cut;           /* subscribers disconnected for falling behind */
    uint64_t refused;       /* malformed or unknown subscriber requests */
    uint64_t udp_datagrams; /* sent live, heartbeats included */
    uint64_t udp_messages;  /* sent live */
    uint64_t udp_dropped;   /* datagrams the kernel would not take */
    uint64_t udp_requests;  /* retransmission requests answered */
    uint64_t udp_resent;    /* datagrams sent in answer */
    uint64_t udp_ignored;   /* requests malformed, of another session, too old or over budget */
} feed_stats;

/* Binds the ports.  NULL on failure, with the reason on stderr. */
feed *feed_new(const feed_config *cfg);
/* Open the listening sockets (binary feed, WebSocket/HTTP, UDP); feed_new
 * does it unless cfg->listen_later, feed_start if not done yet.  A port that
 * cannot be had is one log line naming it and the reason, and -1: the caller
 * then frees the feed (feed_free closes whatever was opened). */
int feed_listen(feed *f);
/* The web page's directory (webroot.c): `configured` ([server] web_root) if
 * set, "none" for none, else found beside the program.  1 and its absolute
 * path in out; 0 when there is none; -1 and why in err when the configured
 * directory holds no index.html. */
int feed_web_root(const char *configured, char *out, size_t n, char *err, size_t errlen);
int feed_start(feed *f);

/* The HTTP API's public market data (api.c), as JSON into buf: on the
 * feed's thread only (the API's handlers run there).  Returns the length,
 * 0 when the symbol is unknown, -1 when cap is too small (candles: -2 for
 * an unknown interval).  depth/n: levels per side, trades, candles. */
long feed_api_symbols(feed *f, char *buf, size_t cap);
long feed_api_ticker(feed *f, const char *sym, char *buf, size_t cap);
long feed_api_book(feed *f, const char *sym, uint32_t depth, char *buf, size_t cap);
long feed_api_trades(feed *f, const char *sym, uint32_t n, char *buf, size_t cap);
long feed_api_candles(feed *f, const char *sym, const char *interval, uint32_t n, char *buf, size_t cap);

/* The SoupBinTCP session name (at most 10 characters), before feed_start,
 * when it was not known at feed_new. */
void feed_set_session(feed *f, const char *session);

/* Before feed_start, while no thread runs the engine: take the symbols, the
 * market's state and every resting order (in time priority) from an engine
 * that already has some, since the feed did not see the events that built
 * it.  Volume and candles start afresh: the fallback when no history can be
 * restored. */
void feed_seed(feed *f, const bourse_engine *e);

/* Recovery, before feed_start, as journal_open's hooks (on_engine,
 * on_command, on_event): begin restores the history at seq (the snapshot
 * the engine e was loaded from; 0 = a fresh engine) from data_dir, then the
 * replayed commands' events follow.  Call feed_recover_end after
 * journal_open (or instead of it, without a journal: it then seeds from e).
 * Each step is said in the log (see persist.c). */
void feed_recover_begin(feed *f, const bourse_engine *e, uint64_t seq);
void feed_recover_command(feed *f, const bourse_cmd *cmd);
void feed_recover_event(feed *f, const bourse_cmd *cmd, const bourse_event *ev);
void feed_recover_end(feed *f, const bourse_engine *e);

/* Engine thread, between commands: a core snapshot of the engine after
 * command seq was started; the feed saves its history at the same seq when
 * it gets there, beside it in data_dir.  One record in the ring. */
void feed_snapshot(feed *f, uint64_t seq);

/* A replica's snapshot (cluster mode, docs/replication.md "Market data"):
 * the feed's history and numbering travel inside the Raft snapshot, so a
 * node that installs one numbers the feed as the others do.
 *   feed_replica_snapshot  engine thread, between commands, the state being
 *                          at command seq: as feed_snapshot, and the feed
 *                          thread also keeps the encoded history for
 *   feed_replica_state     any thread: that history (a feed-SEQ.snap file's
 *                          bytes, *buf malloc'd, the caller's), waiting at
 *                          most wait_ms for the feed thread to get there;
 *                          0, or -1 when it did not in time;
 *   feed_replica_install   any thread: write such bytes as DIR/feed-SEQ.snap
 *                          beside the core's snapshot at seq, for the next
 *                          start's recovery to load; 0, or -1 with err. */
void feed_replica_snapshot(feed *f, uint64_t seq);
int feed_replica_state(feed *f, uint64_t seq, int wait_ms, uint8_t **buf, size_t *len);
int feed_replica_install(const char *dir, uint64_t seq, const void *buf, size_t len, char *err,
                         size_t errlen);

/* Engine thread: publish one event of cmd; ev == NULL ends the command (call
 * it after bourse_engine_apply returns).  Never fails, never allocates.
 * Two functions behind one inline test: with the end of a command (which
 * marks the command's seq for feed_position) in the same function, GCC
 * saved four registers on every call, ends too (+18 instructions a
 * command, callgrind); apart, an end saves none. */
void feed_push_event(feed *f, const bourse_cmd *cmd, const bourse_event *ev);
void feed_push_end(feed *f, const bourse_cmd *cmd);
static inline void feed_push(feed *f, const bourse_cmd *cmd, const bourse_event *ev)
{
    if (ev)
        feed_push_event(f, cmd, ev);
    else
        feed_push_end(f, cmd);
}

/* The feed as a consumer of the engine (journal/consumer.h): publish is
 * feed_push, snapshot feed_snapshot, position feed_position.  Register it
 * with srv_add_consumer(s, &feed_consumer, f). */
extern const consumer_ops feed_consumer;

/* Any thread: the seq of the last command whose records the feed thread
 * has published (commands with nothing for the feed leave it alone); 0
 * before the first. */
uint64_t feed_position(const feed *f);

/* Publish what is queued, send End of Session, close every subscriber and
 * join the thread.  feed_free also stops it if needed. */
void feed_stop(feed *f);
void feed_free(feed *f);

/* The port actually bound (useful with port 0): which is 'f' (binary feed),
 * 'h' (HTTP/WebSocket) or 'u' (UDP requests); -1 when off. */
int feed_port(const feed *f, int which);
/* What serves the sockets: "libuv" (epoll) or "poll" (loop.c). */
const char *feed_event_loop(const feed *f);
void feed_get_stats(const feed *f, feed_stats *out);

#endif
