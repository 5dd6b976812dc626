/*
 * session.c - a connection's life as a user's session, whatever its
 * protocol: logging in, the caps, rate limits and timeouts.
 *
 * Life of a connection that logs in: C_OPEN (its adapter waits for a
 * login) -> C_AUTH (password checked on the auth thread) -> C_RESOLVE (the
 * engine thread finds the user's id; then, if the user's home is another
 * gateway, the connection moves there) -> C_LIVE.  While a login is being
 * checked the connection is not read, so nothing it sends can overtake its
 * login; what came with the login is kept and fed to the adapter once the
 * session is live.
 *
 * Guards, the same for every protocol: [gateway] logins_per_ip password
 * checks per address at once (further logins wait their turn, oldest
 * first), login_timeout from connect to a live session, heartbeat_timeout
 * of silence, sessions_per_user live sessions of one user (all protocols
 * together) and rate/burst orders per session (gw_rate_ok, which the
 * adapter asks for each order).  The adapter decides what a refusal or a
 * rate-limited order looks like on its wire.
 */
#include "bourse/account.h"
#include "server/gateway.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- logging in --------------------------------------------------------- */

/* Hand a login to the auth thread; c is counted in ip_checking already. */
static void auth_send(gateway *g, conn *c, srv_auth *a)
{
    srv *s = g->s;
    a->ip = c->ip;
    srv_auth_live(s, a->conn, a->gen, 1);
    int sent = spsc_put(&s->auth_req, a, sizeof *a);
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

void gw_login(gateway *g, conn *c, const char *user, size_t ulen, const char *password)
{
    memcpy(c->name, user, ulen);
    c->name[ulen] = 0;
    c->state = C_AUTH;
    conn_interest(g, c, 0);
    srv_auth a = {.conn = (uint32_t)(c - g->conns), .gen = c->gen};
    memcpy(a.user, user, ulen);
    size_t plen = strnlen(password, sizeof a.password - 1);
    memcpy(a.password, password, plen);
    if (gw_checking(g, c, 1) == 0)
        auth_send(g, c, &a);
    else
        park(g, c, &a);
}

void gw_login_trusted(gateway *g, conn *c, const char *user, size_t ulen)
{
    if (!c->trusted) { /* never reached from the network: the adapter checks first */
        gw_refuse(g, c, "a login without a password on an untrusted listener");
        return;
    }
    memcpy(c->name, user, ulen);
    c->name[ulen] = 0;
    c->state = C_RESOLVE;
    conn_interest(g, c, 0);
    srv_in m = {.kind = IN_LOGIN, .conn = (uint32_t)(c - g->conns), .gen = c->gen};
    memcpy(m.cmd.user_name.s, c->name, ulen);
    gw_push_in(g, &m);
}

void gw_refuse(gateway *g, conn *c, const char *why)
{
    uint8_t buf[64];
    gw_log_conn(g, c, "login refused: %s", why);
    conn_put(g, c, buf, conn_slot(g, c)->p->refusal(buf));
    c->closing = 1;
}

void session_auth_done(gateway *g, const srv_auth *a)
{
    conn *c = &g->conns[a->conn];
    if (c->gen != a->gen || c->state != C_AUTH)
        return;
    session_check_over(g, c);
    if (a->ok != AUTH_OK) {
        gw_refuse(g, c, srv_auth_why(a->ok));
        return;
    }
    c->state = C_RESOLVE;
    srv_in m = {.kind = IN_LOGIN, .conn = a->conn, .gen = a->gen};
    memcpy(m.cmd.user_name.s, c->name, strlen(c->name));
    gw_push_in(g, &m);
}

/* The acceptor: the engine found (or not) the user of c's login.  The
 * session goes on at the user's home gateway, which may be this one. */
void session_login_done(gateway *g, const srv_out *o)
{
    conn *c = &g->conns[o->conn];
    if (c->gen != o->gen || c->state != C_RESOLVE)
        return;
    if (o->flags & OUT_NOT_LEADER) {
        char why[160];
        srv_cluster_not_leader(g->s, why, sizeof why);
        gw_refuse(g, c, why);
        return;
    }
    if (o->flags & OUT_NOT_ACTIVE) {
        gw_refuse(g, c,
                  o->ev.qty == BOURSE_AS_SUSPENDED ? "account suspended"
                  : o->ev.qty == BOURSE_AS_CLOSED  ? "account closed"
                                                   : "account not active yet (identity check pending)");
        return;
    }
    if (o->ev.user == BOURSE_NONE) {
        gw_refuse(g, c, "no such user in the exchange");
        return;
    }
    c->user = o->ev.user;
    if (gw_is_home(g, c->user))
        session_go_live(g, c);
    else
        handoff_send(g, c);
}

/* --- the users' sessions ------------------------------------------------- */

int gw_is_home(const gateway *g, uint32_t user)
{
    return srv_home(g->s, user) == g->idx;
}

static gw_user *user_get(gateway *g, uint32_t user)
{
    if (user >= g->nusers) {
        uint32_t n = g->nusers ? g->nusers : 1024;
        while (n <= user)
            n *= 2;
        gw_user *u = realloc(g->users, (size_t)n * sizeof *u);
        if (!u)
            return NULL;
        for (uint32_t i = g->nusers; i < n; i++)
            u[i] = (gw_user){.first_conn = NO_CONN};
        g->users = u;
        g->nusers = n;
    }
    return &g->users[user];
}

void session_go_live(gateway *g, conn *c)
{
    gw_user *u = user_get(g, c->user);
    if (!u) {
        gw_refuse(g, c, "out of memory");
        return;
    }
    if (u->nsessions >= g->cfg->sessions_per_user) {
        gw_refuse(g, c, "too many sessions for this user");
        return;
    }
    c->state = C_LIVE;
    c->tat = g->now;
    if (conn_slot(g, c)->p->on_live(g, c) != 0) {
        c->state = C_RESOLVE;
        gw_refuse(g, c, "out of memory");
        return;
    }
    uint32_t id = (uint32_t)(c - g->conns);
    c->unext = u->first_conn;
    c->uprev = NO_CONN;
    if (u->first_conn != NO_CONN)
        g->conns[u->first_conn].uprev = id;
    u->first_conn = id;
    u->nsessions++;
    g->sessions_total++;
    conn_interest(g, c, 1);
    if (c->held) {
        uint8_t *h = c->held;
        uint32_t n = c->held_len;
        c->held = NULL;
        c->held_len = 0;
        gw_input(g, c, h, n);
        free(h);
    }
}

void session_detach(gateway *g, conn *c)
{
    gw_user *u = &g->users[c->user];
    if (c->uprev != NO_CONN)
        g->conns[c->uprev].unext = c->unext;
    else
        u->first_conn = c->unext;
    if (c->unext != NO_CONN)
        g->conns[c->unext].uprev = c->uprev;
    c->unext = c->uprev = NO_CONN;
    u->nsessions--;
}

void gw_send_user(gateway *g, uint32_t user, uint32_t proto, const void *bytes, size_t n)
{
    if (user >= g->nusers)
        return;
    for (uint32_t i = g->users[user].first_conn; i != NO_CONN; i = g->conns[i].unext)
        if (g->conns[i].proto == proto)
            conn_put(g, &g->conns[i], bytes, n);
}

void *gw_proto_state(gateway *g, const conn *c)
{
    return g->protos[c->proto].st;
}

void session_free_all(gateway *g)
{
    free(g->users);
    g->users = NULL;
    g->nusers = 0;
}

/* --- rate and time ------------------------------------------------------- */

/* GCRA: at most `rate` per second on average, `burst` at once. */
int gw_rate_ok(gateway *g, conn *c)
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

void session_tick(gateway *g, conn *c)
{
    int64_t ms = 1000000;
    const gw_proto *p = conn_slot(g, c)->p;
    if (p->logs_in && c->state != C_LIVE) {
        if (g->now - c->opened_ns > (int64_t)g->cfg->login_timeout_ms * ms)
            conn_close(g, c, "no login in time");
        return;
    }
    if (p->logs_in && g->now - c->last_recv_ns > (int64_t)g->cfg->heartbeat_timeout_ms * ms) {
        conn_close(g, c, "heartbeat timeout");
        return;
    }
    if (p->on_tick)
        p->on_tick(g, c);
}
