/*
 * server.h - the exchange server: threads, rings and what flows on them.
 *
 *   gateway thread (epoll: order-entry TCP, admin unix socket)
 *        | in ring (SPSC): commands, logins, admin commands
 *        v
 *   engine thread (pinned): sequencer + journal + core, one command at a time
 *        | out ring (SPSC): events tagged with their command's seq
 *        | text ring (SPSC): replay-format lines for admin connections
 *        v
 *   gateway thread: holds every message until journal_durable_seq() reaches
 *   its seq, then formats OUCH reports into the users' streams
 *
 *   auth thread: checks passwords (argon2id is slow on purpose) off the
 *   gateway thread, over its own pair of rings.
 *
 * The engine thread never touches a socket; the gateway never touches the
 * engine.  Each ring has exactly one producer and one consumer; a consumer
 * with nothing to do sleeps after setting its `sleeping` flag (the engine
 * on a futex on that flag, the gateway in epoll on an eventfd), and
 * producers wake it only when that flag is set, so a busy system makes no
 * wake-up system calls.
 *
 * Event consumers besides the gateway (market data) register a listener
 * with srv_add_listener() before srv_start(): it is called on the engine
 * thread for every event of every command, after the journal append, and
 * once more with ev == NULL when the command's events are complete.
 */
#ifndef BOURSE_SERVER_H
#define BOURSE_SERVER_H

#include "bourse/bourse.h"
#include "bourse/text.h"
#include "server/config.h"

#include <ck_ring.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* gateway -> engine */
enum { IN_CMD = 1, IN_LOGIN, IN_ADMIN };
typedef struct srv_in {
    uint8_t kind;
    uint32_t conn, gen;
    bourse_cmd cmd;
} srv_in;

/* engine -> gateway */
enum { OUT_EVENT = 1, OUT_LOGIN, OUT_SYSTEM };
enum { OUT_BUYER_TOOK = 1 }; /* flags: the buyer's order took liquidity */
typedef struct srv_out {
    uint8_t kind;
    uint8_t tif;
    uint8_t flags;
    uint8_t code; /* OUT_SYSTEM: 'S' open, 'E' close */
    uint32_t conn, gen;
    uint64_t seq;
    uint64_t match; /* TRADE: match number */
    int64_t ts_ns;
    bourse_symbol_name sym;
    bourse_event ev;
} srv_out;

/* engine -> gateway, for admin connections: one line (done = last of a command) */
typedef struct srv_text {
    uint32_t conn, gen;
    uint64_t seq;
    uint16_t len;
    uint8_t done;
    char line[BOURSE_TEXT_LINE_MAX];
} srv_text;

/* gateway <-> auth */
typedef struct srv_auth {
    uint32_t conn, gen;
    int ok;
    char user[BOURSE_NAME_LEN + 1];
    char password[40];
} srv_auth;

CK_RING_PROTOTYPE(srv_in, srv_in)
CK_RING_PROTOTYPE(srv_out, srv_out)
CK_RING_PROTOTYPE(srv_text, srv_text)
CK_RING_PROTOTYPE(srv_auth, srv_auth)

/* A ring and the eventfd/flag its consumer sleeps on. */
typedef struct srv_ring {
    ck_ring_t ring;
    void *buf;
} srv_ring;

typedef void (*srv_listener_fn)(void *ctx, const bourse_cmd *cmd, const bourse_event *ev);

/* For a listener whose state is derived from every event since the start
 * (market data), given to srv_init: on_engine, on_command and on_event are
 * the journal's recovery hooks (journal_config), and on_snapshot is called
 * on the engine thread, between commands, after a core snapshot of the
 * engine after command seq was started.  Any may be NULL. */
typedef struct srv_hooks {
    void (*on_engine)(void *ctx, const bourse_engine *e, uint64_t seq);
    void (*on_command)(void *ctx, const bourse_cmd *cmd);
    bourse_event_fn on_event;
    void (*on_snapshot)(void *ctx, uint64_t seq);
    void *ctx;
} srv_hooks;

struct journal;

typedef struct srv {
    const srv_config *cfg;
    bourse_engine *engine;
    struct journal *journal; /* NULL when built without the journal */
    char session[16];        /* SoupBinTCP session name of this run */

    srv_ring in, out, text, auth_req, auth_res;
    int gateway_fd, auth_fd; /* eventfds (the engine sleeps on a futex) */
    atomic_int engine_sleeping, gateway_sleeping;
    atomic_uint_fast64_t applied_seq; /* durable_seq when there is no journal */

    /* shutdown, in order: stop (signal) -> input_done (gateway took its
     * last input) -> engine_done (everything applied and synced) */
    atomic_int stop, input_done, engine_done;
    int listen_fd, admin_fd, lock_fd;

    srv_hooks hooks;
    srv_listener_fn listeners[8];
    void *listener_ctx[8];
    int nlisteners;

    pthread_t engine_thread, gateway_thread, auth_thread;
    struct gateway *gw;
} srv;

/* server.c */
int srv_init(srv *s, const srv_config *cfg, const srv_hooks *hooks); /* hooks may be NULL */
int srv_add_listener(srv *s, srv_listener_fn fn, void *ctx);
int srv_start(srv *s);
void srv_request_stop(srv *s);
int srv_join(srv *s);
void srv_free(srv *s);
uint64_t srv_durable_seq(const srv *s);
void srv_wake(atomic_int *sleeping, int fd);
void srv_wake_engine(srv *s);
void srv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t srv_now_ns(void);

/* engine_thread.c */
void *srv_engine_main(void *arg);
/* gateway.c */
int gateway_new(srv *s);
void gateway_free(srv *s);
void *srv_gateway_main(void *arg);
/* auth.c */
void *srv_auth_main(void *arg);

#endif
