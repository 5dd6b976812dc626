/*
 * server.h - the exchange server: threads, rings and what flows on them.
 *
 *   gateway threads (epoll: every connection; the acceptor, gateway 0,
 *   also the listeners, logins and connections that never log in)
 *        | one in ring (SPSC) each: commands, logins, admin commands
 *        v
 *   engine thread (pinned): sequencer + journal + core, one command at a time
 *        | one out ring (SPSC) per gateway: events tagged with their
 *        |   command's seq, each to the gateway that is its user's home
 *        | text ring (SPSC, to the acceptor): replay-format lines for admin
 *        v
 *   gateway threads: hold every message until journal_durable_seq() reaches
 *   its seq, then have each protocol adapter turn it into its messages
 *
 *   auth thread: checks passwords (argon2id is slow on purpose) off the
 *   gateway thread, over its own pair of rings.
 *
 * Why several gateways, and why each has its own file-descriptor table: see
 * handoff.c.  In short, every user has a home gateway (user id modulo the
 * number of gateways) that holds all of the user's sessions and the user's
 * stream; the acceptor accepts and logs in every connection and then hands
 * it to its home.  A gateway thread calls unshare(CLONE_FILES) first, so the
 * open-file limit, which the kernel applies per table, bounds each gateway
 * rather than the whole server.
 *
 * What is spoken on a listening socket is its protocol adapter's business
 * (src/server/proto.h): srv_add_port registers a socket and its adapter.
 *
 * The engine thread never touches a socket; the gateway never touches the
 * engine.  Each ring has exactly one producer and one consumer; a consumer
 * with nothing to do sleeps after setting its `sleeping` flag (the engine
 * on a futex on that flag, a gateway in epoll on an eventfd), and
 * producers wake it only when that flag is set, so a busy system makes no
 * wake-up system calls.
 *
 * Event consumers besides the gateway (market data now; reporting,
 * metrics, a replica's shipping later) register with srv_add_consumer()
 * before srv_start(): each has its own ring, thread and position in the
 * log, and the engine thread publishes every event of every command into
 * all of them, after the journal append (journal/consumer.h).
 */
#ifndef BOURSE_SERVER_H
#define BOURSE_SERVER_H

#include "bourse/account.h"
#include "bourse/bourse.h"
#include "bourse/text.h"
#include "journal/consumer.h"
#include "net/adminsock.h"
#include "server/config.h"
#include "server/dropcopy.h"
#include "server/metrics.h"
#include "util/spsc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

/* gateway -> engine; IN_QUERY and IN_ACCOUNT are read-only questions
 * (query.c), never sequenced or journaled */
enum { IN_CMD = 1, IN_LOGIN, IN_ADMIN, IN_QUERY, IN_ACCOUNT };
/* IN_QUERY (admin socket, text answers): cmd.type is an enum admin_question
 * (net/adminsock.h), cmd.user_name the user of ORDERS and ACCOUNT.
 * IN_ACCOUNT (order entry): the session's user's account, in cmd.user. */
typedef struct srv_in {
    uint8_t kind;
    uint8_t gate;  /* the gateway that sent it */
    uint8_t proto; /* the adapter of the connection that sent it, at that gateway */
    uint32_t conn, gen;
    uint32_t t_read; /* stage clock: when the gateway read it (stages.h; in padding) */
    int64_t recv_ns; /* the gateway's turn that read it (metrics.h: round trip) */
    bourse_cmd cmd;
} srv_in;

/* engine -> gateway; OUT_ACCOUNT: one line of an IN_ACCOUNT answer to the
 * session conn/gen (ev a BALANCE or an open order as ACCEPTED; ev.type 0
 * ends it, ev.count = the lines before) */
enum { OUT_EVENT = 1, OUT_LOGIN, OUT_SYSTEM, OUT_ACCOUNT, OUT_DROP };
#define NO_CONN_ALL UINT32_MAX
/* OUT_DROP (cluster mode): this node no longer leads; close the
 * order-entry session conn/gen (conn NO_CONN_ALL: every one at the gateway),
 * so that its client logs in again to the leader and resumes its stream. */
enum { OUT_BUYER_TOOK = 1 }; /* flags: the buyer's order took liquidity */
enum { OUT_NOT_LEADER = 2 }; /* flags of OUT_LOGIN: a cluster follower refuses order entry */
enum { OUT_TIMED = 4 };      /* flags of OUT_EVENT: recv_ns and recv_proto are set (below) */
/* flags of OUT_LOGIN: the user's account is not active (suspended, closed;
 * ev.qty = its enum bourse_account_state): order entry refused */
enum { OUT_NOT_ACTIVE = 8 };
/* IN_QUERY: the account questions of the admin socket (query_accounts.c),
 * ADMIN_Q_ACCT + ACCT_Q_* (accounts/accounts.h), the user or the state
 * filter in cmd.user_name. */
enum { ADMIN_Q_ACCT = 32 };
typedef struct srv_out {
    uint8_t kind;
    uint8_t tif;
    uint8_t flags;
    union {
        uint8_t code;       /* OUT_SYSTEM: 'S' open, 'E' close */
        uint8_t recv_proto; /* OUT_EVENT with OUT_TIMED: the adapter that read the command (below) */
    };
    uint32_t conn, gen;
    uint32_t t_read; /* stage clock: when its command was read (stages.h; 0: none) */
    /* OUT_TIMED: the first report of an order entry command (never a
     * TRADE): when the command was read and by which adapter (srv_in's
     * recv_ns and proto), for the round trip (metrics.h).  recv_ns shares
     * match's word, and recv_proto code's byte (above), so the message
     * stays two cache lines with the stage stamp t_read. */
    uint64_t seq;
    union {
        uint64_t match;  /* TRADE: match number */
        int64_t recv_ns; /* OUT_TIMED */
    };
    int64_t ts_ns;
    bourse_symbol_name sym;
    bourse_event ev;
} srv_out;
_Static_assert(sizeof(srv_out) == 128, "srv_out: two cache lines");

/* What the gateways get of one event: 0 when it is none of theirs (book,
 * admin and market events; an event of no user).  The engine thread and
 * the streams' rebuild at start (streams.c) both build srv_out here, so a
 * report rebuilt from the log is the report that was sent.  *match: the
 * trades so far (the next TRADE takes ++*match). */
static inline int srv_event_out(const bourse_engine *e, const bourse_cmd *cmd, const bourse_event *ev,
                                uint64_t *match, srv_out *o)
{
    switch (ev->type) {
    case BOURSE_EV_ACCEPTED:
    case BOURSE_EV_REJECTED:
    case BOURSE_EV_TRADE:
    case BOURSE_EV_CANCELED:
    case BOURSE_EV_REPLACED: break;
    case BOURSE_EV_OK: /* a FIX session's mark (bourse.h): to its user's gateway */
        if (cmd->type == BOURSE_CMD_FIXSESS)
            break;
        return 0;
    default: return 0;
    }
    if (ev->user == BOURSE_NONE)
        return 0;
    *o = (srv_out){.kind = OUT_EVENT, .tif = cmd->tif, .seq = cmd->seq, .ts_ns = cmd->ts_ns, .ev = *ev};
    if (ev->type != BOURSE_EV_REJECTED && ev->symbol < UINT32_MAX - 1)
        o->sym = *bourse_symbol_name_of(e, ev->symbol);
    if (ev->type == BOURSE_EV_TRADE) {
        o->match = ++*match;
        const bourse_name *in = cmd->type == BOURSE_CMD_REPLACE ? &cmd->new_oid : &cmd->oid;
        if (ev->user == cmd->user && !memcmp(ev->oid.s, in->s, BOURSE_NAME_LEN))
            o->flags |= OUT_BUYER_TOOK;
    }
    return 1;
}

/* engine -> gateway, for admin connections: one line (done = last of a
 * command; 2: the answer to `sessions` is to be made now, by the acceptor;
 * 3: the answer to `metrics`, likewise) */
typedef struct srv_text {
    uint32_t conn, gen;
    uint64_t seq;
    uint16_t len;
    uint8_t done;
    char line[BOURSE_TEXT_LINE_MAX];
} srv_text;

/* gateway <-> auth */
enum { AUTH_BAD = 0, AUTH_OK, AUTH_USER_LOCKED, AUTH_IP_LOCKED, AUTH_BUSY }; /* srv_auth.ok */
typedef struct srv_auth {
    uint32_t conn, gen;
    uint32_t ip; /* of the connection, for the per-address count and fairness (auth.c) */
    int ok;
    char user[BOURSE_NAME_LEN + 1];
    char password[40];
} srv_auth;

/* A ring between two of the server's threads (util/spsc.h); its consumer
 * sleeps on an eventfd or futex beside it, which the producer signals after
 * publishing (srv_wake, srv_wake_engine). */
typedef spsc srv_ring;

/* A handed-over session's address, sent back to the acceptor when it closes
 * (the acceptor counts connections per address for all gateways). */
typedef struct srv_ip {
    uint32_t ip;
} srv_ip;

enum { SRV_MAX_GATES = 16, SRV_MAX_PORTS = 8 };
/* The gateway that accepts every connection and runs every login. */
enum { SRV_ACCEPTOR = 0 };

/* A listening socket and the protocol spoken on it (proto.h). */
struct gw_proto;
enum {
    SRV_PORT_GUARDED = 1, /* its connections count in max_sessions and sessions_per_ip */
    /* a unix socket only this process's HTTP API reaches (DATA/api.sock,
     * 0600): a login there with an empty password is taken without one,
     * since the API authenticated the user (session.c, gw_login_trusted) */
    SRV_PORT_TRUSTED = 2,
};
typedef struct srv_port {
    int fd;
    const struct gw_proto *proto;
    int flags;
} srv_port;

/* What the engine and the other threads share with one gateway thread. */
typedef struct srv_gate {
    struct srv *s;
    uint32_t idx;
    srv_ring in, out;
    srv_ring closed; /* srv_ip: addresses of closed sessions, to the acceptor */
    int wake_fd;     /* eventfd this gateway sleeps on (in epoll) */
    int handoff[2];  /* SOCK_SEQPACKET pair: [0] the acceptor sends, [1] this one receives */
    atomic_int sleeping;
    atomic_int input_done; /* took its last input (stopping) */
    uint32_t capacity;     /* connections it can hold */
    pthread_t thread;
    struct gateway *gw;
} srv_gate;

/* For a consumer whose state is derived from every event since the start
 * (market data), given to srv_init: on_engine, on_command and on_event are
 * the journal's recovery hooks (journal_config).  Any may be NULL.  (Core
 * snapshots reach consumers through consumer_ops.snapshot.) */
typedef struct srv_hooks {
    void (*on_engine)(void *ctx, const bourse_engine *e, uint64_t seq);
    void (*on_command)(void *ctx, const bourse_cmd *cmd);
    bourse_event_fn on_event;
    void *ctx;
} srv_hooks;

struct journal;
struct cluster_state;
struct cluster_node;

typedef struct srv {
    const srv_config *cfg;
    bourse_engine *engine;
    struct journal *journal; /* NULL only before srv_init() opens it */
    char session[16];        /* SoupBinTCP session name: where the streams start (streams.c) */

    srv_gate gates[SRV_MAX_GATES];
    uint32_t ngates;
    atomic_uint sessions; /* order-entry connections open, all gateways */
    srv_ring text, auth_req, auth_res;
    int auth_fd; /* eventfd (the engine sleeps on a futex) */
    /* gateway 0's connection i has a check with the auth threads while
     * auth_live[i] == its gen + 1; else the check is dropped (auth.c) */
    atomic_uint *auth_live;
    atomic_int engine_sleeping;
    atomic_uint_fast64_t applied_seq; /* durable_seq when there is no journal */

    /* shutdown, in order: stop (signal) -> every gate's input_done (each
     * gateway took its last input) -> engine_done (everything applied and
     * synced) */
    atomic_int stop, engine_done;
    int listen_fd, admin_fd, api_fd, lock_fd; /* api_fd: DATA/api.sock (src/http) */
    srv_port ports[SRV_MAX_PORTS];            /* every listener, with its protocol */
    uint32_t nports;

    srv_hooks hooks;
    consumer_set consumers;    /* journal/consumer.h */
    struct srv_stages *stages; /* where an order's time goes (stages.h) */

    /* Cluster mode (cluster_mode.c; NULL cl_node: a single server).  The
     * Raft thread hands each committed batch to the engine thread through
     * a one-slot mailbox and waits until it is applied (cl_pending 1 ->
     * 0, a futex), so the engine thread stays the one that touches the
     * engine and produces into the gateways' rings. */
    struct cluster_state *cl_state;
    struct cluster_node *cl_node;
    void *cl_eng; /* the engine thread's own state, for the apply callbacks */
    const uint8_t *cl_buf;
    size_t cl_len;
    const char *cl_why;
    int cl_rc;
    int cl_restore;         /* the mailbox holds 1: a snapshot to install, 2: one being taken; 0: an entry */
    atomic_int cl_restart;  /* installed a snapshot while running: 1 stop due, 2 stopping */
    int64_t cl_restart_at;  /* the stop is due then (0: at once) */
    int cl_starting;        /* in cluster_start: before the engine thread exists */
    char cl_err[256];       /* why an install failed */
    int cl_was_serving;     /* the engine thread's view, to drop sessions when it ends */
    atomic_int cl_pending;  /* 1: cl_buf waits for the engine thread */
    atomic_int cl_quiet;    /* stopping: the engine thread proposes no more */
    atomic_int cl_stopping; /* srv_cluster_stop began */
    atomic_int cl_stopped;  /* the Raft node is stopped: the engine thread may end */

    pthread_t engine_thread, auth_thread;
    srv_metrics metrics; /* metrics.h */
    dropcopy dc;         /* [fix] dropcopy: who each drop copy covers (dropcopy.h) */
    /* Password hashes of the accounts made by sign-up (they live in the
     * journal, not in DIR/passwords): filled by the engine thread as it
     * applies sign-ups, read by the auth thread (accounts_srv.c). */
    pthread_mutex_t acct_mu;
    struct srv_acct_hash *acct_hashes;
    uint32_t nacct_hashes, acct_hashes_cap;
    uint32_t *acct_index, acct_index_cap; /* entry + 1 by name hash (accounts_srv.c) */
    uint64_t acct_gen;                    /* bumped by every account change (under acct_mu) */
} srv;

/* server.c */
int srv_init(srv *s, const srv_config *cfg, const srv_hooks *hooks); /* hooks may be NULL */
int srv_add_consumer(srv *s, const consumer_ops *ops, void *ctx);    /* before srv_start */
int srv_start(srv *s);
void srv_request_stop(srv *s);
int srv_join(srv *s);
void srv_free(srv *s);
uint64_t srv_durable_seq(const srv *s);
void srv_wake(atomic_int *sleeping, int fd);

/* query.c, on the engine thread */
typedef void (*srv_line_fn)(void *ctx, const char *line, size_t n);
/* An IN_QUERY's answer, line by line (each ends in '\n'; "! why" for an
 * unknown user). */
void srv_query_text(bourse_engine *e, const bourse_cmd *q, srv_line_fn fn, void *ctx);
/* user's balances (BALANCE events) and open orders (ACCEPTED events with
 * the open quantity), to fn; returns how many. */
uint32_t srv_account_events(bourse_engine *e, uint32_t user, bourse_event_fn fn, void *ctx);
void srv_wake_engine(srv *s);
void srv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t srv_now_ns(void);

/* accounts_srv.c: the accounts in the server.  srv_acct_hashes_load: every
 * account's hash from the engine (at start, engine thread or before it
 * runs); srv_acct_hash_put: one (a sign-up applied); srv_acct_hash_get
 * (any thread): 1 with the hash, or 0.  srv_acct_query: an account
 * question (ADMIN_Q_ACCT + ACCT_Q_*). */
void srv_acct_hashes_load(srv *s, const bourse_engine *e);
void srv_acct_hash_put(srv *s, const char *user, const char *hash);
int srv_acct_hash_get(srv *s, const char *user, char *hash, size_t size);
/* Every applied account command (engine thread): the account's hash,
 * state, role and reason as they are now; the account's version and
 * acct_gen go up.  srv_acct_status_get (any thread): 1 with what the
 * HTTP API checks at each request (state, role) and pushes (reason,
 * version), or 0 for a user without account; srv_acct_gen: acct_gen. */
void srv_acct_note(srv *s, const bourse_account *a);
typedef struct srv_acct_status {
    int state, operator_role;
    uint64_t version;
    char reason[BOURSE_ACCOUNT_REASON_MAX + 1];
} srv_acct_status;
int srv_acct_status_get(srv *s, const char *user, srv_acct_status *out);
uint64_t srv_acct_gen(srv *s);
void srv_acct_query(const bourse_engine *e, const bourse_cmd *q, srv_line_fn fn, void *ctx);
/* [accounts] at start (not in cluster mode): dev_mode's operator, the
 * operators' role, then srv_acct_hashes_load; commands go through run. */
void srv_acct_start(srv *s, const bourse_engine *e, void (*run)(void *ctx, const bourse_cmd *c), void *ctx);

/* streams.c: the users' report streams (and s->session) rebuilt from the
 * journal; srv_start calls it before any thread starts.  0, or -1. */
int srv_streams_rebuild(srv *s);

/* engine_thread.c */
void *srv_engine_main(void *arg);
/* Cluster mode: each event and the end of each command applied from a
 * committed batch (cluster_state_config's on_event, on_command; ctx: srv). */
void srv_cluster_on_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev);
void srv_cluster_on_command(void *ctx, const bourse_cmd *cmd);

/* cluster_mode.c: `bourse serve` as a node of a Raft cluster (cfg->cluster
 * set).  Open: the journal through the replicated state machine (in place
 * of journal_open); start: the Raft node; stop: before the threads are
 * joined.  0 or -1 (said in the log). */
int srv_cluster_open(srv *s);
int srv_cluster_start(srv *s);
void srv_cluster_stop(srv *s);
/* The engine thread: apply the batch waiting in the mailbox, if any (or
 * install the snapshot there, then srv_cluster_restored, engine_thread.c:
 * the engine thread takes the new engine). */
int srv_cluster_take(srv *s);
/* `bourse serve`'s exit status when a cluster node stopped itself to be
 * started again (EX_TEMPFAIL): it installed a leader's snapshot while
 * running, and the order-entry streams are rebuilt from the journal only at
 * start (streams.c).  A supervisor restarts it (docs/replication.md). */
#define SRV_EXIT_RESTART 75
/* The engine thread, each pass: exit (SRV_EXIT_RESTART) once such an
 * install is over. */
void srv_cluster_restart_due(srv *s);
void srv_cluster_restored(srv *s);
/* The admin socket's `cluster` and `cluster transfer [N]` (answered at
 * once from a gateway thread): 1 with out set (ends ".\n"), 0: not one. */
int srv_cluster_admin(srv *s, const char *line, size_t len, char *out, size_t outlen);
/* Why a follower refuses an order-entry login, naming the leader. */
void srv_cluster_not_leader(srv *s, char *buf, size_t len);
/* The gateway that holds a user's sessions and stream. */
static inline uint32_t srv_home(const srv *s, uint32_t user)
{
    return s->ngates == 1 ? 0 : user % s->ngates;
}
/* Wake gateway `gate` if it sleeps. */
void srv_wake_gate(srv_gate *gate);

/* acceptor.c: accept on fd (a listening socket, non-blocking) and speak
 * `proto` (src/server/proto.h) to its connections; srv_init registers the
 * order-entry port and the admin socket, and a caller may add more between
 * srv_init and srv_start.  The socket stays the caller's to close.  0, or
 * -1 when there are SRV_MAX_PORTS already or a gateway cannot take it. */
int srv_add_port(srv *s, int fd, const struct gw_proto *proto, int flags);

/* gateway.c */
int gateway_new(srv_gate *gate);
/* s->ports[i] was added after the gateway was made (before it runs). */
int gateway_add_port(srv_gate *gate, uint32_t i);
void gateway_free(srv_gate *gate);
void *srv_gateway_main(void *arg); /* arg: its srv_gate */
/* auth.c */
void *srv_auth_main(void *arg);
/* Why a login was refused (srv_auth.ok), for the log. */
const char *srv_auth_why(int ok);
/* Gateway 0: c's check is sent (live 1) or no longer wanted (live 0). */
static inline void srv_auth_live(srv *s, uint32_t conn, uint32_t gen, int live)
{
    if (s->auth_live && conn < s->gates[SRV_ACCEPTOR].capacity)
        atomic_store_explicit(&s->auth_live[conn], live ? gen + 1 : 0, memory_order_relaxed);
}

#endif
