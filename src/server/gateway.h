/*
 * gateway.h - the order-entry gateway's state, shared by gateway.c (event
 * loop, sockets, admin), session.c (the SoupBinTCP/OUCH session) and
 * stream.c (each user's sequenced message stream).
 *
 * A user's stream is what SoupBinTCP calls the session's sequenced
 * messages: every report about the user's orders, numbered from 1 in this
 * run of the server (the run's session name).  All of a user's logged-in
 * connections receive the whole stream; the last replay_bytes of it are kept
 * so a client that reconnects can ask for what it missed.
 */
#ifndef BOURSE_SERVER_GATEWAY_H
#define BOURSE_SERVER_GATEWAY_H

#include "net/soup.h"
#include "server/server.h"

#include <stddef.h>
#include <stdint.h>

enum conn_state { C_FREE = 0, C_LOGIN, C_AUTH, C_RESOLVE, C_LIVE, C_ADMIN };

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
    uint64_t want_seq;     /* requested at login */
    int64_t opened_ns, last_recv_ns, last_send_ns;
    int64_t tat;   /* rate limit: theoretical arrival time (GCRA) */
    uint8_t *part; /* an incomplete packet carried to the next read */
    uint32_t part_len;
    uint8_t *held; /* input that came with the login, kept until it is accepted */
    uint32_t held_len;
    uint8_t *out; /* bytes not yet written */
    uint32_t out_off, out_len, out_cap;
    char name[BOURSE_NAME_LEN + 1];
} conn;

typedef struct ustream {
    uint64_t next_seq;  /* seq of the next message (the first is 1) */
    uint64_t first_seq; /* seq of the oldest message kept */
    uint8_t *ring;      /* kept messages: [u16 length][message], circular */
    uint32_t cap, head, used;
    uint32_t first_conn; /* live sessions, NO_CONN-terminated */
    uint32_t nsessions;
    uint8_t active; /* has logged in during this run: gets system events */
} ustream;

typedef struct gateway {
    srv *s;
    srv_gate *gate;
    uint32_t idx; /* gate->idx: 0 accepts, logs in and runs the admin socket */
    const srv_config *cfg;
    int ep;
    int64_t now;
    conn *conns;
    uint32_t nconns, *free_list, nfree;
    uint32_t *dirty;
    uint32_t ndirty;
    ustream *streams;
    uint32_t nstreams;
    /* connections, and logins being checked, per IPv4 address: open
     * addressing, 0 = empty */
    uint32_t *ip_key, *ip_count, *ip_checking, ip_cap, ip_used;
    uint32_t parked_head, parked_tail; /* logins waiting for a check, NO_CONN = none */
    int64_t park_logged_ns;
    /* durability hold: a dequeued message waiting for its seq */
    srv_out held_out;
    srv_text held_text;
    int has_held_out, has_held_text;
    /* engine output taken off the rings while the in ring was full (the
     * engine may be waiting for room to finish the command it is on) */
    srv_out *spill_out;
    srv_text *spill_text;
    uint32_t spill_out_n, spill_out_at, spill_out_cap;
    uint32_t spill_text_n, spill_text_at, spill_text_cap;
    int pushed; /* commands pushed since the engine was last woken */
    uint8_t *scratch;
    uint64_t sessions_total, rejects_logged;
    int accept_paused; /* out of descriptors: the listener is out of epoll for a tick */
    int64_t accept_logged_ns;
    uint32_t tick_part;
    /* handoff.c: gateway 0's logins waiting for room in their home's
     * socket; another gateway's closed sessions' addresses waiting for room
     * in its ring to gateway 0 */
    struct handing {
        uint32_t conn, gen;
    } * handing;
    uint32_t nhanding;
    srv_ip *closed_spill;
    uint32_t nclosed_spill, closed_spill_cap;
} gateway;

/* gateway.c */
void conn_close(gateway *g, conn *c, const char *why);
conn *conn_new(gateway *g, int fd, int state, uint32_t ip);
/* Forget c without closing its session: it lives on in another gateway. */
void conn_release(gateway *g, conn *c);

/* addr.c */
/* Gateway 0: the number of connections open from ip (made when missing). */
uint32_t *gw_ip_count(gateway *g, uint32_t ip);
/* A connection from ip is gone: count it (gateway 0) or tell gateway 0. */
void gw_ip_closed(gateway *g, uint32_t ip);
/* Count c's login as being checked (1) or no longer (0); returns -1, counting
 * nothing, when its address already has [gateway] logins_per_ip checks, and
 * then the login waits its turn (session.c). */
int gw_checking(gateway *g, conn *c, int on);
void conn_put(gateway *g, conn *c, const void *bytes, size_t n);
void conn_interest(gateway *g, conn *c, int read);
void gw_push_in(gateway *g, const srv_in *m);
void gw_log_conn(gateway *g, const conn *c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* session.c */
void session_input(gateway *g, conn *c, const uint8_t *buf, size_t n);
void session_auth_done(gateway *g, const srv_auth *a);
/* c's password check is over, or c is closing: give its address's place to
 * the oldest login waiting from there, and drop a login c had waiting. */
void session_check_over(gateway *g, conn *c);
void session_login_done(gateway *g, const srv_out *o);
/* c (C_RESOLVE, user and name set) has arrived at its home gateway: check
 * the user's session cap, attach it to the stream and let it trade. */
void session_go_live(gateway *g, conn *c);
void session_tick(gateway *g, conn *c);
void session_deliver(gateway *g, const srv_out *o);

/* stream.c */
ustream *stream_get(gateway *g, uint32_t user);
void stream_append(gateway *g, uint32_t user, const uint8_t *msg, size_t n);
/* Send Login Accepted and the kept messages from `want` on; see stream.c. */
void stream_attach(gateway *g, conn *c, uint64_t want);
void stream_detach(gateway *g, conn *c);
void stream_broadcast(gateway *g, const uint8_t *msg, size_t n);
void stream_free_all(gateway *g);

/* handoff.c */
/* On the gateway's own thread, before anything else: its own table. */
void handoff_own_table(gateway *g);
/* Gateway 0: send c, logged in as c->user, to its home; 0 sent or queued. */
int handoff_send(gateway *g, conn *c);
/* Gateway 0: try the queued handoffs again; 1 while some still wait. */
int handoff_retry(gateway *g);
/* Another gateway: take the sessions gateway 0 sent. */
void handoff_receive(gateway *g);
/* Gateway 0: count the addresses of sessions closed elsewhere. */
void handoff_closed_drain(gateway *g);
/* Another gateway: send waiting addresses on; 1 while some still wait. */
int handoff_closed_flush(gateway *g);

#endif
