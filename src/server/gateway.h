/*
 * gateway.h - the gateway's state, protocol-neutral, shared by its files:
 *
 *   gateway.c   the thread's loop: engine output held until durable,
 *               spilling, ticks, stopping
 *   conn.c      connections: reading, output buffers and backpressure
 *   acceptor.c  the acceptor's part: listeners, accepting, per-address caps
 *   session.c   logins (password thread, engine, hand-off), sessions per
 *               user, rate limits and timeouts
 *   handoff.c   moving a logged-in connection to its user's home gateway
 *   addr.c      connections and logins per address
 *
 * and by the protocol adapters (proto.h), which see conn but keep their own
 * state in conn->ps and in their per-gateway state.
 *
 * The acceptor: one gateway (SRV_ACCEPTOR) accepts every connection, runs
 * every login, keeps the per-address counts and serves connections that
 * never log in (tools); the others receive logged-in sessions
 * from it.  g->acceptor says which a gateway is; the acceptor's duties are
 * acceptor.c's, and the loop calls them through acceptor_* only.
 */
#ifndef BOURSE_SERVER_GATEWAY_H
#define BOURSE_SERVER_GATEWAY_H

#include "server/proto.h"
#include "server/server.h"

#include <stddef.h>
#include <stdint.h>

/* C_OPEN: accepted; its adapter speaks to it (a tool's connection stays so).
 * C_AUTH: its password is being checked.  C_RESOLVE: the engine finds its
 * user, or it waits to move to its home gateway.  C_LIVE: logged in. */
enum conn_state { C_FREE = 0, C_OPEN, C_AUTH, C_RESOLVE, C_LIVE };

#define NO_CONN UINT32_MAX

typedef struct conn {
    int fd;
    uint32_t gen;
    uint8_t state;
    uint8_t dirty, closing, overflow, polling_out, reading;
    uint8_t checking;      /* its password is with the auth thread (counted in ip_checking) */
    srv_auth *login;       /* a login waiting for its address's turn (see session.c), or NULL */
    uint32_t pnext, pprev; /* the waiting logins, oldest first, while login != NULL */
    uint32_t user;
    uint32_t ip;
    uint32_t unext, uprev; /* the user's live sessions */
    int64_t opened_ns, last_recv_ns, last_send_ns;
    int64_t tat;   /* rate limit: theoretical arrival time (GCRA) */
    uint8_t *part; /* an incomplete frame carried to the next read */
    uint32_t part_len;
    uint8_t proto;   /* its adapter: gateway->protos[proto] */
    uint8_t guarded; /* counted in max_sessions and sessions_per_ip */
    uint8_t trusted; /* accepted on a SRV_PORT_TRUSTED listener */
    uint8_t *held;   /* input that came with the login, kept until it is accepted */
    uint32_t held_len;
    uint8_t *out; /* bytes not yet written */
    uint32_t out_off, out_len, out_cap;
    char name[BOURSE_NAME_LEN + 1];
    /* the adapter's own state: plain data, moves with the connection */
    union {
        uint8_t b[PROTO_STATE];
        uint64_t u64[PROTO_STATE / 8];
    } ps;
} conn;

/* A user's live sessions at its home gateway, all protocols. */
typedef struct gw_user {
    uint32_t first_conn; /* NO_CONN-terminated through conn.unext */
    uint32_t nsessions;
} gw_user;

/* An adapter at one gateway: the protocols of srv_add_port, each once. */
typedef struct gw_slot {
    const gw_proto *p;
    void *st;
    uint32_t part_max, out_max;
} gw_slot;

enum { GW_MAX_PROTOS = SRV_MAX_PORTS };

typedef struct gateway {
    srv *s;
    srv_gate *gate;
    uint32_t idx;     /* gate->idx */
    uint8_t acceptor; /* this is the acceptor (see above) */
    const srv_config *cfg;
    int ep;
    int64_t now;
    gw_slot protos[GW_MAX_PROTOS];
    uint32_t nprotos;
    uint8_t port_proto[SRV_MAX_PORTS]; /* s->ports[i]'s adapter, an index into protos */
    conn *conns;
    uint32_t nconns, *free_list, nfree;
    uint32_t *dirty;
    uint32_t ndirty;
    gw_user *users;
    uint32_t nusers;
    /* connections, and logins being checked, per IPv4 address: open
     * addressing, 0 = empty */
    uint32_t *ip_key, *ip_count, *ip_checking, ip_cap, ip_used;
    uint32_t parked_head, parked_tail; /* logins waiting for a check, NO_CONN = none */
    int64_t park_logged_ns;
    /* durability hold: a dequeued message waiting for its seq */
    srv_out held_out;
    srv_text held_text;
    int has_held_out, has_held_text;
    /* stage clocks (stages.h): reports released in this loop turn, and
     * their times since their commands were read, summed */
    uint64_t stage_n, stage_since;
    /* engine output taken off the rings while the in ring was full (the
     * engine may be waiting for room to finish the command it is on) */
    srv_out *spill_out;
    srv_text *spill_text;
    uint32_t spill_out_n, spill_out_at, spill_out_cap;
    uint32_t spill_text_n, spill_text_at, spill_text_cap;
    int pushed; /* commands pushed since the engine was last woken */
    uint8_t *scratch;
    uint32_t scratch_len;  /* room for reads after an incomplete frame */
    uint32_t scratch_part; /* room for the incomplete frame before them */
    uint64_t sessions_total, rejects_logged;
    int busy_poll_said; /* SO_BUSY_POLL refused: said once */
    int accept_paused;  /* out of descriptors: the listeners are out of epoll for a tick */
    int64_t accept_logged_ns;
    uint32_t tick_part;
    /* handoff.c: the acceptor's logins waiting for room in their home's
     * socket; another gateway's closed sessions' addresses waiting for room
     * in its ring to the acceptor */
    struct handing {
        uint32_t conn, gen;
    } * handing;
    uint32_t nhanding;
    srv_ip *closed_spill;
    uint32_t nclosed_spill, closed_spill_cap;
} gateway;

/* epoll data tags for the descriptors that are not connections */
#define TAG_WAKE (UINT64_MAX - 1)
#define TAG_DURABLE (UINT64_MAX - 2)
#define TAG_HANDOFF (UINT64_MAX - 3)
#define TAG_PORT (UINT64_MAX - 64) /* + i: s->ports[i] */

static inline int gw_tag_is_port(uint64_t tag)
{
    return tag >= TAG_PORT && tag < TAG_PORT + SRV_MAX_PORTS;
}

static inline const gw_slot *conn_slot(const gateway *g, const conn *c)
{
    return &g->protos[c->proto];
}

/* gateway.c */
void gw_push_in(gateway *g, const srv_in *m);
int gw_add_fd(gateway *g, int fd, uint64_t tag);

/* conn.c */
/* A connection on fd, speaking adapter `proto`, in `state`; NULL when there
 * is no free slot (fd is then the caller's to close). */
conn *conn_new(gateway *g, int fd, int state, uint32_t proto, uint32_t ip);
/* Forget c without closing its session: it lives on in another gateway. */
void conn_release(gateway *g, conn *c);
void conn_readable(gateway *g, conn *c);
void conn_flush(gateway *g, conn *c);
void conn_flush_dirty(gateway *g);

/* acceptor.c (the acceptor only, except where said) */
void acceptor_accept(gateway *g, uint32_t port);
/* Out of descriptors: listeners out of epoll for a tick; then back. */
void acceptor_resume(gateway *g);
/* Password-check results and the addresses of sessions closed elsewhere. */
void acceptor_drain(gateway *g);
/* Its descriptors into the gateway's epoll (at start), or out (stopping). */
int acceptor_listen(gateway *g);
void acceptor_stop(gateway *g);

/* session.c */
/* The engine found (or not) the user of c's login (OUT_LOGIN). */
void session_login_done(gateway *g, const srv_out *o);
void session_auth_done(gateway *g, const srv_auth *a);
/* c's password check is over, or c is closing: give its address's place to
 * the oldest login waiting from there, and drop a login c had waiting. */
void session_check_over(gateway *g, conn *c);
/* c (C_RESOLVE, user and name set) has arrived at its home gateway: check
 * the user's session cap, attach it to the user and let it trade. */
void session_go_live(gateway *g, conn *c);
/* Leave the user's sessions (c was live). */
void session_detach(gateway *g, conn *c);
/* Login and silence timeouts, then the adapter's on_tick. */
void session_tick(gateway *g, conn *c);
void session_free_all(gateway *g);

/* addr.c */
/* The acceptor: the number of connections open from ip (made when missing). */
uint32_t *gw_ip_count(gateway *g, uint32_t ip);
/* A connection from ip is gone: count it (the acceptor) or tell the acceptor. */
void gw_ip_closed(gateway *g, uint32_t ip);
/* Count c's login as being checked (1) or no longer (0); returns -1, counting
 * nothing, when its address already has [gateway] logins_per_ip checks, and
 * then the login waits its turn (session.c). */
int gw_checking(gateway *g, conn *c, int on);

/* handoff.c */
/* On the gateway's own thread, before anything else: its own table. */
void handoff_own_table(gateway *g);
/* The acceptor: send c, logged in as c->user, to its home; 0 sent or queued. */
int handoff_send(gateway *g, conn *c);
/* The acceptor: try the queued handoffs again; 1 while some still wait. */
int handoff_retry(gateway *g);
/* Another gateway: take the sessions the acceptor sent. */
void handoff_receive(gateway *g);
/* The acceptor: count the addresses of sessions closed elsewhere. */
void handoff_closed_drain(gateway *g);
/* Another gateway: send waiting addresses on; 1 while some still wait. */
int handoff_closed_flush(gateway *g);

#endif
