/*
 * proto_soup.c - the SoupBinTCP 3.00 / OUCH adapter: order entry as
 * docs/protocol.md describes it.
 *
 * In: SoupBinTCP packets (src/net/soup.c cuts them), the first of which must
 * be a Login Request; its user and password go to gw_login, its session
 * name must be the log's (or blank) and its requested sequence number is
 * kept in the connection's state for the replay at Login Accepted.  Then
 * Unsequenced Data packets carry OUCH messages (src/net/ouch.c parses them
 * into commands), Client Heartbeats keep the session alive and a Logout
 * Request ends it.
 *
 * Out: every report of a command in the log goes into the user's stream
 * (proto_soup_stream.c) as a Sequenced Data packet, numbered per user since
 * the log's start (so the same after a restart), and from there to each of
 * the user's live SoupBinTCP sessions; what the log does not hold (this
 * gateway's own refusals, the journal's, the market's open and close) goes
 * as Unsequenced Data, outside the numbering; Server Heartbeats after a
 * second without output; End of Session when the server stops.
 *
 * Guards: a packet longer than max_frame, an unknown packet type or a
 * malformed OUCH message ends the session with a logged reason; a
 * well-formed order with a bad field, or one over the session's rate, is
 * rejected by itself (Rejected report) and the session goes on.  The user
 * of every command is the logged-in user: the wire format has no field to
 * name another.
 */
#include "server/proto_soup.h"
#include "net/ouch.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void report(gateway *g, soup_gw *sg, uint32_t user, const ouch_report *r)
{
    if (!gw_is_home(g, user))
        return; /* a trade's other side, reported by its own gateway */
    uint8_t msg[OUCH_MAX_LEN];
    size_t n = ouch_write(msg, r);
    if (n)
        stream_append(sg, user, msg, n);
}

/* A message outside the user's stream: a SoupBinTCP Unsequenced Data
 * packet, which takes no sequence number.  For what the log does not hold
 * (a refusal by this gateway, a command the journal refused, the market's
 * open and close), so that the stream stays what the log alone gives
 * (proto_soup_stream.c) and is the same after a restart. */
static void unsequenced(gateway *g, soup_gw *sg, conn *c, uint32_t user, const ouch_report *r)
{
    uint8_t pkt[SOUP_HEADER + OUCH_MAX_LEN];
    size_t n = ouch_write(pkt + SOUP_HEADER, r);
    if (!n)
        return;
    soup_header(pkt, SOUP_UNSEQUENCED, n);
    if (c)
        conn_put(g, c, pkt, SOUP_HEADER + n);
    else
        gw_send_user(g, user, sg->proto, pkt, SOUP_HEADER + n);
}

static void reject_here(gateway *g, conn *c, const bourse_name *token, int reason)
{
    ouch_report r = {
        .type = OUCH_REJECTED, .ts_ns = (uint64_t)g->now, .token = *token, .reason = (uint8_t)reason};
    unsequenced(g, gw_proto_state(g, c), c, c->user, &r);
}

/* An OUCH-style answer to an Account Query, in an Unsequenced Data packet:
 * no part of the user's numbered stream (src/net/ouch_account.c). */
static void put_answer(gateway *g, conn *c, const ouch_report *r)
{
    uint8_t buf[SOUP_HEADER + OUCH_OPEN_ORDER_LEN];
    size_t n = ouch_account_write(buf + SOUP_HEADER, r);
    soup_header(buf, SOUP_UNSEQUENCED, n);
    conn_put(g, c, buf, SOUP_HEADER + n);
}

/* A trader asks for their own balances and open orders: the engine answers
 * (IN_ACCOUNT, src/server/query.c).  One at a time per session, and each
 * costs a token of the order rate, so a client cannot keep the engine
 * walking its books; one asked too soon is answered Busy at once. */
static void account_query(gateway *g, conn *c)
{
    if (soup_of(c)->asking || !gw_rate_ok(g, c)) {
        ouch_report r = {.type = OUCH_ACCOUNT_END, .ts_ns = (uint64_t)g->now, .event = OUCH_BUSY};
        put_answer(g, c, &r);
        return;
    }
    soup_of(c)->asking = 1;
    bourse_cmd cmd = {.user = c->user};
    memcpy(cmd.user_name.s, c->name, BOURSE_NAME_LEN);
    gw_submit(g, c, IN_ACCOUNT, &cmd);
}

static void soup_account(gateway *g, conn *c, const srv_out *o)
{
    const bourse_event *ev = &o->ev;
    ouch_report r = {.ts_ns = (uint64_t)g->now, .stock = o->sym, .qty = ev->qty};
    if (ev->type == BOURSE_EV_BALANCE) {
        r.type = OUCH_BALANCE;
        r.price = ev->count; /* held */
    } else if (ev->type == BOURSE_EV_ACCEPTED) {
        r.type = OUCH_OPEN_ORDER;
        r.token = ev->oid;
        r.side = ev->side;
        r.price = ev->price;
    } else {
        r.type = OUCH_ACCOUNT_END;
        r.event = OUCH_ANSWERED;
        r.ref = ev->count;
        soup_of(c)->asking = 0;
    }
    put_answer(g, c, &r);
}

static void on_order(gateway *g, conn *c, const soup_packet *p)
{
    bourse_cmd cmd;
    const char *why;
    int r = ouch_parse(p->payload, p->len, &cmd, &why);
    if (r < 0) {
        if (p->len == OUCH_ACCOUNT_QUERY_LEN && p->payload[0] == OUCH_ACCOUNT_QUERY)
            account_query(g, c); /* rare: off the orders' path */
        else
            conn_close(g, c, why);
        return;
    }
    if (r > 0) {
        reject_here(g, c, &cmd.oid, r);
        return;
    }
    if (!gw_rate_ok(g, c)) {
        reject_here(g, c, cmd.type == BOURSE_CMD_REPLACE ? &cmd.new_oid : &cmd.oid, OUCH_R_RATE_LIMIT);
        return;
    }
    cmd.user = c->user;
    memcpy(cmd.user_name.s, c->name, BOURSE_NAME_LEN);
    gw_submit(g, c, IN_CMD, &cmd);
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
        gw_log_conn(g, c, "login refused: session '%s' is not this server's '%s'", l.session, g->s->session);
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
    soup_of(c)->want_seq = l.seq;
    if (c->trusted && !l.password[0])
        gw_login_trusted(g, c, l.user, ulen);
    else
        gw_login(g, c, l.user, ulen, l.password);
    sodium_memzero(l.password, sizeof l.password);
}

/* Handle one packet; returns 0 to go on, -1 when the connection stopped
 * taking input (closed, closing, or waiting for its login). */
static int on_packet(gateway *g, conn *c, const soup_packet *p)
{
    if (c->state == C_OPEN) {
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

static size_t soup_bytes(gateway *g, conn *c, const uint8_t *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        soup_packet p;
        long r = soup_next(buf + off, n - off, g->cfg->max_frame, &p);
        if (r < 0) {
            gw_log_conn(g, c, "frame length %u out of bounds", (unsigned)get_be16(buf + off));
            conn_close(g, c, "bad frame length");
            return n;
        }
        if (r == 0)
            break;
        off += (size_t)r;
        if (on_packet(g, c, &p) != 0)
            break; /* what follows a login waits for it (conn.c) */
    }
    return off;
}

static int soup_live(gateway *g, conn *c)
{
    return stream_attach(gw_proto_state(g, c), c, soup_of(c)->want_seq);
}

static size_t soup_refusal(uint8_t *buf)
{
    return soup_rejected_write(buf, SOUP_REJECT_AUTH);
}

static void soup_tick(gateway *g, conn *c)
{
    if (c->state == C_LIVE && g->now - c->last_send_ns >= 1000000000LL) {
        uint8_t buf[4];
        conn_put(g, c, buf, soup_empty(buf, SOUP_SERVER_HEARTBEAT));
    }
}

static void soup_stop(gateway *g, conn *c)
{
    if (c->state == C_LIVE) {
        uint8_t z[4];
        conn_put(g, c, z, soup_empty(z, SOUP_END_OF_SESSION));
    }
}

/* An engine event becomes reports in the users' streams. */
static void soup_event(gateway *g, void *st, const srv_out *o)
{
    soup_gw *sg = st;
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
        r.type = OUCH_SYSTEM;
        r.event = o->code;
        for (uint32_t u = 0; u < g->nusers; u++)
            if (g->users[u].first_conn != NO_CONN)
                unsequenced(g, sg, NULL, u, &r);
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
        report(g, sg, ev->user, &r);
        r.token = ev->oid2;
        r.side = BOURSE_SELL;
        r.liquidity = o->flags & OUT_BUYER_TOOK ? 'A' : 'R';
        report(g, sg, ev->user2, &r);
        return;
    default: return;
    }
    if (o->seq == 0) /* refused by the journal: not in the log */
        unsequenced(g, sg, NULL, ev->user, &r);
    else
        report(g, sg, ev->user, &r);
}

static void *soup_gw_new(gateway *g, uint32_t idx)
{
    soup_gw *sg = calloc(1, sizeof *sg);
    if (sg) {
        sg->g = g;
        sg->proto = idx;
    }
    return sg;
}

static void soup_gw_free(gateway *g, void *st)
{
    (void)g;
    stream_free_all(st);
    free(st);
}

static uint32_t soup_part_max(const srv_config *cfg)
{
    return cfg->max_frame + 2; /* the length field, then up to max_frame */
}

static uint32_t soup_output_max(const srv_config *cfg)
{
    return cfg->max_output;
}

const gw_proto proto_soup = {
    .name = "SoupBinTCP",
    .logs_in = 1,
    .part_max = soup_part_max,
    .output_max = soup_output_max,
    .gw_new = soup_gw_new,
    .gw_free = soup_gw_free,
    .on_bytes = soup_bytes,
    .on_live = soup_live,
    .refusal = soup_refusal,
    .on_event = soup_event,
    .on_account = soup_account,
    .on_tick = soup_tick,
    .on_stop = soup_stop,
};
