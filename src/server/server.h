/*
 * server.h - the exchange server: threads, rings and what flows on them.
 *
 *   gateway threads (epoll: order-entry TCP; gateway 0 also the listener,
 *   logins and the admin unix socket)
 *        | one in ring (SPSC) each: commands, logins, admin commands
 *        v
 *   engine thread (pinned): sequencer + journal + core, one command at a time
 *        | one out ring (SPSC) per gateway: events tagged with their
 *        |   command's seq, each to the gateway that is its user's home
 *        | text ring (SPSC, to gateway 0): replay-format lines for admin
 *        v
 *   gateway threads: hold every message until journal_durable_seq() reaches
 *   its seq, then format OUCH reports into the users' streams
 *
 *   auth thread: checks passwords (argon2id is slow on purpose) off the
 *   gateway thread, over its own pair of rings.
 *
 * Why several gateways, and why each has its own file-descriptor table: see
 * handoff.c.  In short, every user has a home gateway (user id modulo the
 * number of gateways) that holds all of the user's sessions and the user's
 * stream; gateway 0 accepts and logs in every connection and then hands it
 * to its home.  A gateway thread calls unshare(CLONE_FILES) first, so the
 * open-file limit, which the kernel applies per table, bounds each gateway
 * rather than the whole server.
 *
 * The engine thread never touches a socket; the gateway never touches the
 * engine.  Each ring has exactly one producer and one consumer; a consumer
 * with nothing to do sleeps after setting its `sleeping` flag (the engine
 * on a futex on that flag, a gateway in epoll on an eventfd), and
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
    uint8_t gate; /* the gateway that sent it */
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

/* A handed-over session's address, sent back to gateway 0 when it closes
 * (gateway 0 counts connections per address for all gateways). */
typedef struct srv_ip {
    uint32_t ip;
} srv_ip;
CK_RING_PROTOTYPE(srv_ip, srv_ip)

enum { SRV_MAX_GATES = 16 };

/* What the engine and the other threads share with one gateway thread. */
typedef struct srv_gate {
    struct srv *s;
    uint32_t idx;
    srv_ring in, out;
    srv_ring closed; /* srv_ip: addresses of closed sessions, to gateway 0 */
    int wake_fd;     /* eventfd this gateway sleeps on (in epoll) */
    int handoff[2];  /* SOCK_SEQPACKET pair: [0] gateway 0 sends, [1] this one receives */
    atomic_int sleeping;
    atomic_int input_done; /* took its last input (stopping) */
    uint32_t capacity;     /* connections it can hold */
    pthread_t thread;
    struct gateway *gw;
} srv_gate;

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
    struct journal *journal; /* NULL only before srv_init() opens it */
    char session[16];        /* SoupBinTCP session name of this run */

    srv_gate gates[SRV_MAX_GATES];
    uint32_t ngates;
    atomic_uint sessions; /* order-entry connections open, all gateways */
    srv_ring text, auth_req, auth_res;
    int auth_fd; /* eventfd (the engine sleeps on a futex) */
    atomic_int engine_sleeping;
    atomic_uint_fast64_t applied_seq; /* durable_seq when there is no journal */

    /* shutdown, in order: stop (signal) -> every gate's input_done (each
     * gateway took its last input) -> engine_done (everything applied and
     * synced) */
    atomic_int stop, engine_done;
    int listen_fd, admin_fd, lock_fd;

    srv_hooks hooks;
    srv_listener_fn listeners[8];
    void *listener_ctx[8];
    int nlisteners;

    pthread_t engine_thread, auth_thread;
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
/* The gateway that holds a user's sessions and stream. */
static inline uint32_t srv_home(const srv *s, uint32_t user)
{
    return s->ngates == 1 ? 0 : user % s->ngates;
}
/* Wake gateway `gate` if it sleeps. */
void srv_wake_gate(srv_gate *gate);

/* gateway.c */
int gateway_new(srv_gate *gate);
void gateway_free(srv_gate *gate);
void *srv_gateway_main(void *arg); /* arg: its srv_gate */
/* auth.c */
void *srv_auth_main(void *arg);

#endif
