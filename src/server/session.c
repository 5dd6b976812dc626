/*
 * session.c - one order-entry connection: SoupBinTCP session rules and the
 * OUCH messages it carries.
 *
 * Life of a connection: C_LOGIN (waiting for the Login Request) -> C_AUTH
 * (password checked on the auth thread) -> C_RESOLVE (the engine thread
 * finds the user's id) -> C_LIVE.  While a login is being checked the
 * connection is not read, so nothing it sends can overtake its login.
 *
 * Guards: a packet longer than max_frame, an unknown packet type or a
 * malformed OUCH message ends the session with a logged reason; a
 * well-formed order with a bad field, or one over the session's rate, is
 * rejected by itself (Rejected report) and the session goes on.  The user
 * of every command is the logged-in user: the wire format has no field to
 * name another.
 */
#include "net/ouch.h"
#include "server/gateway.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void report(gateway *g, uint32_t user, const ouch_report *r)
{
    if (srv_home(g->s, user) != g->idx)
        return; /* a trade's other side, reported by its own gateway */
    uint8_t msg[OUCH_MAX_LEN];
    size_t n = ouch_write(msg, r);
    if (n)
        stream_append(g, user, msg, n);
}

static void reject_here(gateway *g, conn *c, const bourse_name *token, int reason)
{
    ouch_report r = {
        .type = OUCH_REJECTED, .ts_ns = (uint64_t)g->now, .token = *token, .reason = (uint8_t)reason};
    report(g, c->user, &r);
}

/* GCRA: at most `rate` per second on average, `burst` at once. */
static int rate_ok(gateway *g, conn *c)
{
    int64_t t = 1000000000LL / g->cfg->rate;
    if (t < 1)
        t = 1;
    int64_t tau = t * (int64_t)(g->cfg->burst - 1);
    if (c->tat - g->now > tau)
        return 0;
    c->tat = (c->tat > g->now ? c->tat : g->now) + t;
    return 1;
}

static void on_order(gateway *g, conn *c, const soup_packet *p)
{
    bourse_cmd cmd;
    const char *why;
    int r = ouch_parse(p->payload, p->len, &cmd, &why);
    if (r < 0) {
        conn_close(g, c, why);
        return;
    }
    if (r > 0) {
        reject_here(g, c, &cmd.oid, r);
        return;
    }
    if (!rate_ok(g, c)) {
        reject_here(g, c, cmd.type == BOURSE_CMD_REPLACE ? &cmd.new_oid : &cmd.oid, OUCH_R_RATE_LIMIT);
        return;
    }
    cmd.user = c->user;
    memcpy(cmd.user_name.s, c->name, BOURSE_NAME_LEN);
    srv_in m = {.kind = IN_CMD, .conn = (uint32_t)(c - g->conns), .gen = c->gen, .cmd = cmd};
    gw_push_in(g, &m);
}

/* Hand a login to the auth thread; c is counted in ip_checking already. */
static void auth_send(gateway *g, conn *c, srv_auth *a)
{
    srv *s = g->s;
    a->ip = c->ip;
    srv_auth_live(s, a->conn, a->gen, 1);
    int sent = ck_ring_enqueue_spsc_srv_auth(&s->auth_req.ring, s->auth_req.buf, a);
    sodium_memzero(a->password, sizeof a->password);
    if (!sent) {
        conn_close(g, c, "too many logins waiting");
        return;
    }
    uint64_t one = 1;
    if (write(s->auth_fd, &one, sizeof one) < 0) {
        /* the auth thread polls anyway */
    }
}

/* The address has logins_per_ip checks under way: the login (password and
 * all) waits, oldest first, until one of them is over.  The login timeout
 * still runs, so a flood from one address mostly delays that address. */
static void park(gateway *g, conn *c, const srv_auth *a)
{
    if (!(c->login = malloc(sizeof *c->login))) {
        conn_close(g, c, "out of memory");
        return;
    }
    *c->login = *a;
    if (g->now - g->park_logged_ns >= 1000000000) { /* said at most once a second */
        g->park_logged_ns = g->now;
        gw_log_conn(g, c, "login waits its turn: %u logins from this address are being checked",
                    g->cfg->logins_per_ip);
    }
    uint32_t i = (uint32_t)(c - g->conns);
    c->pnext = NO_CONN;
    c->pprev = g->parked_tail;
    if (g->parked_tail != NO_CONN)
        g->conns[g->parked_tail].pnext = i;
    else
        g->parked_head = i;
    g->parked_tail = i;
}

static void unpark(gateway *g, conn *c)
{
    if (c->pprev != NO_CONN)
        g->conns[c->pprev].pnext = c->pnext;
    else
        g->parked_head = c->pnext;
    if (c->pnext != NO_CONN)
        g->conns[c->pnext].pprev = c->pprev;
    else
        g->parked_tail = c->pprev;
    sodium_memzero(c->login, sizeof *c->login);
    free(c->login);
    c->login = NULL;
}

void session_check_over(gateway *g, conn *c)
{
    if (c->login)
        unpark(g, c);
    if (!c->checking)
        return;
    srv_auth_live(g->s, (uint32_t)(c - g->conns), c->gen, 0);
    gw_checking(g, c, 0);
    for (uint32_t i = g->parked_head; i != NO_CONN; i = g->conns[i].pnext) {
        conn *w = &g->conns[i];
        if (w->ip == c->ip && gw_checking(g, w, 1) == 0) {
            srv_auth a = *w->login;
            unpark(g, w);
            auth_send(g, w, &a);
            return;
        }
    }
}

static void on_login(gateway *g, conn *c, const soup_packet *p)
{
    soup_login l;
    const char *why;
    if (soup_login_parse(p, &l, &why) != 0) {
        conn_close(g, c, why);
        return;
    }
    uint8_t buf[8];
    if (l.session[0] && strcmp(l.session, g->s->session) != 0) {
        gw_log_conn(g, c, "login refused: session '%s' is not this run's '%s'", l.session, g->s->session);
        conn_put(g, c, buf, soup_rejected_write(buf, SOUP_REJECT_SESSION));
        c->closing = 1;
        return;
    }
    size_t ulen = strlen(l.user);
    if (!ulen || ulen > BOURSE_NAME_LEN) {
        conn_put(g, c, buf, soup_rejected_write(buf, SOUP_REJECT_AUTH));
        c->closing = 1;
        return;
    }
    memcpy(c->name, l.user, ulen + 1);
    c->want_seq = l.seq;
    c->state = C_AUTH;
    conn_interest(g, c, 0);
    srv_auth a = {.conn = (uint32_t)(c - g->conns), .gen = c->gen};
    memcpy(a.user, l.user, ulen + 1);
    memcpy(a.password, l.password, strlen(l.password) + 1);
    sodium_memzero(l.password, sizeof l.password);
    if (gw_checking(g, c, 1) == 0)
        auth_send(g, c, &a);
    else
        park(g, c, &a);
}

/* Handle one packet; returns 0 to go on, -1 when the connection stopped
 * taking input (closed, closing, or waiting for its login). */
static int on_packet(gateway *g, conn *c, const soup_packet *p)
{
    if (c->state == C_LOGIN) {
        if (p->type != SOUP_LOGIN_REQUEST) {
            conn_close(g, c, "expected a Login Request");
            return -1;
        }
        on_login(g, c, p);
        return -1;
    }
    switch (p->type) {
    case SOUP_UNSEQUENCED: on_order(g, c, p); break;
    case SOUP_CLIENT_HEARTBEAT:
    case SOUP_DEBUG: break;
    case SOUP_LOGOUT_REQUEST:
        c->closing = 1;
        conn_put(g, c, NULL, 0); /* flushed, and so closed, this turn rather than at a tick */
        gw_log_conn(g, c, "logged out");
        return -1;
    case SOUP_LOGIN_REQUEST: conn_close(g, c, "a second Login Request"); return -1;
    default: conn_close(g, c, "unknown packet type"); return -1;
    }
    return c->state == C_LIVE && !c->closing ? 0 : -1;
}

void session_input(gateway *g, conn *c, const uint8_t *buf, size_t n)
{
    size_t off = 0;
    c->last_recv_ns = g->now;
    while (off < n) {
        soup_packet p;
        long r = soup_next(buf + off, n - off, g->cfg->max_frame, &p);
        if (r < 0) {
            gw_log_conn(g, c, "frame length %u out of bounds", (unsigned)get_be16(buf + off));
            conn_close(g, c, "bad frame length");
            return;
        }
        if (r == 0)
            break;
        off += (size_t)r;
        if (on_packet(g, c, &p) != 0) {
            /* keep what follows a login until the login is decided */
            if (c->state == C_AUTH && off < n && !c->held) {
                c->held = malloc(n - off);
                if (c->held) {
                    memcpy(c->held, buf + off, n - off);
                    c->held_len = (uint32_t)(n - off);
                }
            }
            return;
        }
    }
    c->part_len = (uint32_t)(n - off);
    memcpy(c->part, buf + off, n - off);
}

void session_auth_done(gateway *g, const srv_auth *a)
{
    conn *c = &g->conns[a->conn];
    if (c->gen != a->gen || c->state != C_AUTH)
        return;
    session_check_over(g, c);
    if (a->ok != AUTH_OK) {
        gw_log_conn(g, c, "login refused: %s", srv_auth_why(a->ok));
        uint8_t buf[8];
        conn_put(g, c, buf, soup_rejected_write(buf, SOUP_REJECT_AUTH));
        c->closing = 1;
        return;
    }
    c->state = C_RESOLVE;
    srv_in m = {.kind = IN_LOGIN, .conn = a->conn, .gen = a->gen};
    memcpy(m.cmd.user_name.s, c->name, strlen(c->name));
    gw_push_in(g, &m);
}

static void refuse(gateway *g, conn *c, const char *why)
{
    uint8_t buf[8];
    gw_log_conn(g, c, "login refused: %s", why);
    conn_put(g, c, buf, soup_rejected_write(buf, SOUP_REJECT_AUTH));
    c->closing = 1;
}

/* Gateway 0: the engine found (or not) the user of c's login.  The session
 * goes on at the user's home gateway, which may be this one. */
void session_login_done(gateway *g, const srv_out *o)
{
    conn *c = &g->conns[o->conn];
    if (c->gen != o->gen || c->state != C_RESOLVE)
        return;
    if (o->ev.user == BOURSE_NONE) {
        refuse(g, c, "no such user in the exchange");
        return;
    }
    c->user = o->ev.user;
    if (srv_home(g->s, c->user) == g->idx)
        session_go_live(g, c);
    else
        handoff_send(g, c);
}

void session_go_live(gateway *g, conn *c)
{
    ustream *st = stream_get(g, c->user);
    if (!st) {
        refuse(g, c, "out of memory");
        return;
    }
    if (st->nsessions >= g->cfg->sessions_per_user) {
        refuse(g, c, "too many sessions for this user");
        return;
    }
    c->state = C_LIVE;
    c->tat = g->now;
    stream_attach(g, c, c->want_seq);
    g->sessions_total++;
    conn_interest(g, c, 1);
    if (c->held) {
        uint8_t *h = c->held;
        uint32_t n = c->held_len;
        c->held = NULL;
        c->held_len = 0;
        session_input(g, c, h, n);
        free(h);
    }
}

void session_tick(gateway *g, conn *c)
{
    int64_t ms = 1000000;
    if (c->state == C_LOGIN || c->state == C_AUTH || c->state == C_RESOLVE) {
        if (g->now - c->opened_ns > (int64_t)g->cfg->login_timeout_ms * ms)
            conn_close(g, c, "no login in time");
        return;
    }
    if (c->state != C_LIVE)
        return;
    if (g->now - c->last_recv_ns > (int64_t)g->cfg->heartbeat_timeout_ms * ms) {
        conn_close(g, c, "heartbeat timeout");
        return;
    }
    if (g->now - c->last_send_ns >= 1000 * ms) {
        uint8_t buf[4];
        conn_put(g, c, buf, soup_empty(buf, SOUP_SERVER_HEARTBEAT));
    }
}

/* An engine event becomes reports in the users' streams. */
void session_deliver(gateway *g, const srv_out *o)
{
    const bourse_event *ev = &o->ev;
    ouch_report r = {.ts_ns = (uint64_t)o->ts_ns,
                     .token = ev->oid,
                     .side = ev->side,
                     .qty = ev->qty,
                     .price = ev->price,
                     .stock = o->sym,
                     .reason = ev->reason,
                     .tif = o->tif,
                     .ref = o->seq};
    if (o->kind == OUT_SYSTEM) {
        uint8_t msg[OUCH_SYSTEM_LEN];
        r.type = OUCH_SYSTEM;
        r.event = o->code;
        stream_broadcast(g, msg, ouch_write(msg, &r));
        return;
    }
    switch (ev->type) {
    case BOURSE_EV_ACCEPTED: r.type = OUCH_ACCEPTED; break;
    case BOURSE_EV_REJECTED: r.type = OUCH_REJECTED; break;
    case BOURSE_EV_CANCELED: r.type = OUCH_CANCELED; break;
    case BOURSE_EV_REPLACED:
        r.type = OUCH_REPLACED;
        r.token = ev->oid2;
        r.token2 = ev->oid;
        break;
    case BOURSE_EV_TRADE:
        r.type = OUCH_EXECUTED;
        r.ref = o->match;
        r.side = BOURSE_BUY;
        r.liquidity = o->flags & OUT_BUYER_TOOK ? 'R' : 'A';
        report(g, ev->user, &r);
        r.token = ev->oid2;
        r.side = BOURSE_SELL;
        r.liquidity = o->flags & OUT_BUYER_TOOK ? 'A' : 'R';
        report(g, ev->user2, &r);
        return;
    default: return;
    }
    report(g, ev->user, &r);
}
