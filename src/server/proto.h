/*
 * proto.h - what a wire protocol plugs into the gateway: the adapter
 * interface, and the few gateway calls an adapter makes.
 *
 * The gateway (gateway.c, conn.c, acceptor.c, session.c, handoff.c,
 * addr.c) knows connections, not protocols: it accepts on every registered
 * listener, reads into one scratch buffer, keeps an incomplete frame and
 * the unsent output of each connection, drops a client that does not read,
 * counts connections per address and sessions per user, runs logins through
 * the password thread and the engine, hands a logged-in connection to its
 * user's home gateway, rate-limits orders, times out silent clients, holds
 * every engine message until its command is durable and stops in order.
 *
 * An adapter (a gw_proto) knows one wire format: it cuts frames out of the
 * bytes read and turns them into commands (gw_submit) or a login
 * (gw_login); it turns engine events into its own messages for its
 * connections; it says what a refused login looks like, sends heartbeats
 * and says goodbye at shutdown.  Each is one file (proto_soup.c for
 * SoupBinTCP/OUCH, proto_admin.c for the admin socket's text lines), and a
 * listener is an address plus an adapter (srv_add_port), so a new protocol
 * is a new file and one more srv_add_port; it changes no other adapter.
 *
 * Per-connection state: an adapter's state for one connection is the
 * plain-data blob conn->ps (PROTO_STATE bytes, zeroed at accept).  It
 * travels with the connection when the connection moves to its home
 * gateway, so it must hold no pointers.  Per-gateway state (a user's
 * message stream, say) comes from gw_new and is found with gw_proto_state.
 *
 * Cost: one indirect call per read (on_bytes) and one per engine event per
 * adapter that takes events (on_event); nothing is allocated per message.
 */
#ifndef BOURSE_SERVER_PROTO_H
#define BOURSE_SERVER_PROTO_H

#include "server/server.h"

#include <stddef.h>
#include <stdint.h>

struct gateway;
struct conn;

enum { PROTO_STATE = 16 };

typedef struct gw_proto {
    const char *name; /* for logs */
    /* Its connections log in as a user: they count as sessions, time out
     * without a login or when silent, log as "session N (user@ip)" and are
     * handed to the user's home gateway.  Otherwise a tool's connection
     * (the admin socket): it stays where it was accepted and logs as
     * "NAME connection N". */
    uint8_t logs_in;
    /* Largest incomplete frame kept between reads; most bytes queued for a
     * client before it is dropped (both from the configuration). */
    uint32_t (*part_max)(const srv_config *cfg);
    uint32_t (*output_max)(const srv_config *cfg);
    /* Per-gateway state, made with the gateway (which fails to start on
     * NULL) and freed with it; idx is the adapter's index at this gateway
     * (conn->proto of its connections).  Both NULL for an adapter with none. */
    void *(*gw_new)(struct gateway *g, uint32_t idx);
    void (*gw_free)(struct gateway *g, void *st);
    /* Bytes read from c (an incomplete frame kept from the last read
     * first).  Returns how many it used; the rest is kept: as an incomplete
     * frame for the next read (it must be under part_max bytes), or, when
     * it called gw_login, as input that waits until the login is decided;
     * or dropped when c is closing.  It may close c. */
    size_t (*on_bytes)(struct gateway *g, struct conn *c, const uint8_t *buf, size_t n);
    /* Only where logs_in: c's login was accepted at its home gateway
     * (state C_LIVE): greet it, replay what it asked for.  -1: it cannot go
     * on (c is refused). */
    int (*on_live)(struct gateway *g, struct conn *c);
    /* Only where logs_in: write what tells a client its login was refused
     * (at most 64 bytes). */
    size_t (*refusal)(uint8_t *buf);
    /* An engine event, once it is durable, for this gateway's users (each
     * trade comes to both sides' homes; OUT_SYSTEM to every gateway).  The
     * hooks below may be NULL. */
    void (*on_event)(struct gateway *g, void *st, const srv_out *o);
    /* A line of the engine's answer to a command c sent (IN_ADMIN). */
    void (*on_reply)(struct gateway *g, struct conn *c, const srv_text *t);
    /* A line of the engine's answer to c's account question (IN_ACCOUNT,
     * OUT_ACCOUNT): a balance, an open order, or (ev.type 0) the end. */
    void (*on_account)(struct gateway *g, struct conn *c, const srv_out *o);
    /* Every 5 ticks (250 ms) for each open connection, after the
     * gateway's own timeouts: heartbeats. */
    void (*on_tick)(struct gateway *g, struct conn *c);
    /* The server stops: last words before c is closed. */
    void (*on_stop)(struct gateway *g, struct conn *c);
    /* A logged-in c is closing, whatever the reason (NULL: nothing to do):
     * FIX's cancel-on-disconnect. */
    void (*on_close)(struct gateway *g, struct conn *c);
} gw_proto;

/* The adapters there are (each in its own proto_*.c). */
extern const gw_proto proto_soup;  /* SoupBinTCP 3.00 + OUCH order entry */
extern const gw_proto proto_admin; /* replay-format lines on the admin socket */
extern const gw_proto proto_fix;   /* FIX 4.4 order entry (proto_fix*.c) */

/* --- what an adapter may call ------------------------------------------ */

/* Queue bytes for c (dropped with the connection past output_max). */
void conn_put(struct gateway *g, struct conn *c, const void *bytes, size_t n);
/* Read from c (1) or not (0) from now on. */
void conn_interest(struct gateway *g, struct conn *c, int read);
void conn_close(struct gateway *g, struct conn *c, const char *why);
void gw_log_conn(struct gateway *g, const struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Send a command to the engine as c's (the engine answers c with `kind`:
 * IN_CMD reports come as events, IN_ADMIN as replies). */
void gw_submit(struct gateway *g, struct conn *c, int kind, const bourse_cmd *cmd);
/* c asks to log in: the gateway checks the password (c is not read
 * meanwhile), finds the user, moves c to the user's home gateway and calls
 * on_live there; or refuses it (refusal, logged with the reason).  user is
 * 1..BOURSE_NAME_LEN bytes; password is NUL-terminated, under 40 bytes. */
void gw_login(struct gateway *g, struct conn *c, const char *user, size_t ulen, const char *password);
/* c (accepted on a SRV_PORT_TRUSTED listener: the HTTP API's own socket)
 * logs in as user without a password: the API authenticated the user.
 * Refused (gw_refuse) on any other listener. */
void gw_login_trusted(struct gateway *g, struct conn *c, const char *user, size_t ulen);
/* Refuse c's login: log why, send the adapter's refusal, close after it. */
void gw_refuse(struct gateway *g, struct conn *c, const char *why);
/* Feed bytes to c's adapter as if read (input that came with its login). */
void gw_input(struct gateway *g, struct conn *c, const uint8_t *buf, size_t n);
/* GCRA: whether c may send one more order now ([gateway] rate, burst). */
int gw_rate_ok(struct gateway *g, struct conn *c);
/* Whether this gateway is user's home (holds its sessions and reports). */
int gw_is_home(const struct gateway *g, uint32_t user);
/* Queue bytes for every live session of user that speaks adapter `proto`
 * (the index gw_new was given). */
void gw_send_user(struct gateway *g, uint32_t user, uint32_t proto, const void *bytes, size_t n);
/* The per-gateway state of c's adapter. */
void *gw_proto_state(struct gateway *g, const struct conn *c);

#endif
