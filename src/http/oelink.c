/*
 * oelink.c - order entry through the gateway: one SoupBinTCP/OUCH session
 * (a "link") per trader into the server's trusted unix socket, what it
 * remembers of the trader's orders and fills, and how its reports become
 * the answers of waiting requests and private WebSocket pushes.  The
 * endpoints that use the links are in orders.c.
 *
 * Why a session into the gateway rather than a path of its own: the
 * gateway already does everything an order needs (the user's home gateway,
 * rate limits, the engine's ring, holding each report until its command is
 * durable, the per-user stream of reports), and OUCH already says all the
 * API needs (orders, cancels, replaces, their reports, an account query),
 * so the HTTP API is one more client of it and adds no path to the engine
 * thread.  An HTTP request is answered from its report, so it is durable
 * and applied when the client reads the answer.
 *
 * A link logs in asking for the user's stream from its start: the gateway
 * replays every report it still keeps (proto_soup_stream.c), from which the
 * link rebuilds the user's orders and fills (GET /orders?status=all,
 * /fills: the last ORD_MAX and FILL_MAX); with the login goes an Account
 * Query, whose end comes after the replay, so that end marks the link
 * ready: requests that come before wait for it (parked) and are then
 * handled again.  Account queries (balances, open orders) go one at a
 * time per link, as OUCH asks; the others wait in a queue.
 *
 * Logins.  POST /login opens a link with the user's password: the
 * gateway's password thread checks it (argon2id, its own throttles and
 * locks) and the Login Accepted or Rejected is the answer; the API's own
 * per-account and per-address throttle (auth.c) comes first.  That link
 * becomes the user's (or is let go if the user has one).  A request signed
 * with an API key opens one with an empty password, which the trusted
 * socket takes (gw_login_trusted).
 *
 * Transport: a link's socket is not this thread's.  The link carrier
 * (linkcarrier.c) owns every link's socket in a descriptor table of its
 * own, so that thousands of users' links and private WebSockets do not
 * share one open-file limit; a link here is named there by its id (a slot
 * of struct oe and a generation), its bytes go out through the carrier's
 * queue (oe_link_send) and come back when this thread drains the carrier
 * (carrier_drain: its eventfd turned readable, a tick), and a link ends
 * here when the carrier says it ended or when this side closes it (a bad
 * packet, a refused login); either way link_ended answers what waited on
 * it, as before.  The carrier starts with the first link and stops with
 * the HTTP API's protocols (the lws context's end).
 *
 * The answer to a new order is sent once its reports of one read are in,
 * so an order that trades at once says "filled" with its quantity rather
 * than "open"; the reports of one command come together (the gateway
 * writes them in one turn), the private WebSocket sees every later one.
 */
#include "http/orders_int.h"

#include "net/ouchclient.h"
#include "net/soup.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int name_eq(const bourse_name *a, const bourse_name *b)
{
    return !memcmp(a->s, b->s, BOURSE_NAME_LEN);
}

/* ---- links -------------------------------------------------------------------- */

static int carrier_start(struct oe *o);

void oe_link_send(olink *l, const void *p, size_t n)
{
    if (!l->o->lc || lc_send(l->o->lc, l->id, p, n) != 0) {
        l->state = L_DEAD;
        return;
    }
    l->last_sent = http_now_ms();
}

/* Every request finds its user's link, and thousands of users may have one
 * each: the links are also chained by a hash of the user's name (FNV-1a),
 * so a lookup walks one short chain, not every link. */
static olink **bucket_of(struct oe *o, const char *user)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)user; *p; p++)
        h = (h ^ *p) * 16777619u;
    return &o->bucket[h & (LINK_BUCKETS - 1)];
}

olink *oe_link_find(struct oe *o, const char *user)
{
    for (olink *l = *bucket_of(o, user); l; l = l->hnext)
        if (l->primary && l->state != L_DEAD && !strcmp(l->user, user))
            return l;
    return NULL;
}

olink *oe_link_login(struct oe *o, const char *user)
{
    for (olink *l = *bucket_of(o, user); l; l = l->hnext)
        if (l->primary && l->state == L_LOGIN && !strcmp(l->user, user))
            return l;
    return NULL;
}

static void answer_wait(struct oe *o, olink *l, wait *w);

static void fail_all(struct oe *o, olink *l, const char *why)
{
    for (int i = 0; i < l->nw; i++) {
        http_req *r = http_ticket_req(o->h, l->w[i].t);
        if (!r)
            continue;
        if (l->w[i].kind == W_LOGIN)
            answer_wait(o, l, &l->w[i]);
        else
            http_error(r, 503, "UNAVAILABLE", "order entry %s; try again", why);
    }
    l->nw = 0;
    for (int i = 0; i < l->nparked; i++) {
        http_req *r = http_ticket_req(o->h, l->parked[i]);
        if (r)
            http_error(r, 503, "UNAVAILABLE", "order entry %s; try again", why);
    }
    l->nparked = 0;
    for (int i = 0; i < l->nq; i++) {
        http_req *r = http_ticket_req(o->h, l->q[i].t);
        if (r)
            http_error(r, 503, "UNAVAILABLE", "order entry %s; try again", why);
    }
    l->nq = 0;
}

static void link_free(struct oe *o, olink *l)
{
    for (uint32_t i = 0; i < o->nlinks; i++)
        if (o->links[i] == l) {
            o->links[i] = o->links[--o->nlinks];
            break;
        }
    for (olink **p = bucket_of(o, l->user); *p; p = &(*p)->hnext)
        if (*p == l) {
            *p = l->hnext;
            break;
        }
    uint32_t s = (uint32_t)l->id;
    if (o->slot[s] == l) {
        o->slot[s] = NULL;
        o->free_slot[o->nfree++] = s;
    }
    free(l->qbuf);
    free(l);
}

/* A new link of user into the gateway; password NULL = trusted.  Its
 * socket is the link carrier's (linkcarrier.c): if the connect fails, the
 * link ends when the carrier says so (carrier_closed). */
olink *oe_link_open(struct oe *o, const char *user, const char *password)
{
    if (o->nlinks == LINKS_MAX || !o->nfree || (!o->lc && carrier_start(o) != 0))
        return NULL;
    olink *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    uint32_t s = o->free_slot[o->nfree - 1];
    l->id = (uint64_t)++o->gen[s] << 32 | s;
    if (lc_open(o->lc, l->id) != 0) {
        free(l);
        return NULL;
    }
    o->nfree--;
    o->slot[s] = l;
    l->o = o;
    snprintf(l->user, sizeof l->user, "%s", user);
    l->state = L_LOGIN;
    l->last_use = http_now_ms();
    o->links[o->nlinks++] = l;
    olink **b = bucket_of(o, l->user);
    l->hnext = *b;
    *b = l;
    soup_login lg = {.seq = 1};
    snprintf(lg.user, sizeof lg.user, "%s", user);
    if (password)
        snprintf(lg.password, sizeof lg.password, "%s", password);
    uint8_t buf[SOUP_HEADER + SOUP_LOGIN_LEN];
    oe_link_send(l, buf, soup_login_write(buf, &lg));
    sodium_memzero(&lg, sizeof lg);
    l->ask_query = 1; /* its end marks the replay over */
    uint8_t q[SOUP_HEADER + 1];
    soup_header(q, SOUP_UNSEQUENCED, 1);
    q[SOUP_HEADER] = OUCH_ACCOUNT_QUERY;
    oe_link_send(l, q, sizeof q);
    return l;
}

/* ---- history ------------------------------------------------------------------ */

static ord *ord_find(olink *l, const bourse_name *t)
{
    uint32_t n = l->nords < ORD_MAX ? l->nords : ORD_MAX;
    for (uint32_t i = 0; i < n; i++) {
        ord *x = &l->ords[(l->nords - 1 - i) % ORD_MAX];
        if (name_eq(&x->token, t))
            return x;
    }
    return NULL;
}

static ord *ord_add(olink *l, const ouch_report *r)
{
    ord *x = &l->ords[l->nords++ % ORD_MAX];
    *x = (ord){.token = r->token,
               .side = r->side,
               .tif = r->tif,
               .status = S_OPEN,
               .qty = r->qty,
               .price = r->price,
               .time_ms = (int64_t)(r->ts_ns / 1000000)};
    memcpy(x->sym, r->stock.s, BOURSE_SYMBOL_LEN);
    return x;
}

void oe_put_ord(hj_w *w, const ord *x)
{
    static const char *const tifs[] = {"day", "gtc", "ioc", "fok"};
    hj_printf(w, "{\"order_id\":");
    oe_put_name(w, x->token.s, BOURSE_NAME_LEN);
    hj_printf(w, ",\"symbol\":");
    oe_put_name(w, x->sym, BOURSE_SYMBOL_LEN);
    hj_printf(w, ",\"side\":\"%s\",\"quantity\":%lld,\"price\":", x->side == BOURSE_BUY ? "buy" : "sell",
              (long long)x->qty);
    hj_amount(w, x->price);
    hj_printf(w, ",\"tif\":\"%s\",\"filled\":%lld,\"status\":\"%s\",\"time\":%lld}", tifs[x->tif & 3],
              (long long)x->filled, status_names[x->status], (long long)x->time_ms);
}

/* ---- answers ------------------------------------------------------------------- */

static const char *reason_code(int reason)
{
    return ouch_reason_name(reason);
}

static void answer_wait(struct oe *o, olink *l, wait *w)
{
    http_req *r = http_ticket_req(o->h, w->t);
    if (!r)
        return;
    hj_w *j;
    switch (w->kind) {
    case W_LOGIN:
        if (w->status == S_OPEN) {
            auth_login_ok(o->h->auth, l->user, r->ip);
            if (http_session_start(o->h, r, l->user, 0) != 0) {
                http_error(r, 503, "CAPACITY", "too many sessions");
                return;
            }
            j = http_json(r);
            hj_printf(j, "{\"username\":");
            hj_string(j, l->user, strlen(l->user));
            hj_printf(j, ",\"role\":\"user\",\"state\":\"active\"}");
            http_json_send(r, 200);
        } else {
            auth_login_failed(o->h->auth, l->user, r->ip, http_now_ms());
            http_error(r, 401, "UNAUTHORIZED", "wrong user name or password");
        }
        return;
    case W_NEW:
        j = http_json(r);
        hj_printf(j, "{\"order_id\":");
        oe_put_name(j, w->token.s, BOURSE_NAME_LEN);
        hj_printf(j, ",\"status\":\"%s\",\"filled\":%lld", status_names[w->status], (long long)w->filled);
        if (w->status == S_REJECTED || (w->status == S_CANCELED && w->reason))
            hj_printf(j, ",\"reason\":\"%s\"", reason_code(w->reason));
        hj_printf(j, "}");
        http_json_send(r, 201);
        return;
    case W_CANCEL:
    case W_REPLACE:
        if (w->status == S_REJECTED) {
            if (w->reason == BOURSE_R_UNKNOWN_ORDER)
                http_error(r, 404, "NOT_FOUND", "no open order %s of yours", http_arg(r, 0));
            else
                http_error(r, 409, reason_code(w->reason), "refused: %s", reason_code(w->reason));
            return;
        }
        j = http_json(r);
        hj_printf(j, "{\"order_id\":");
        oe_put_name(j, w->token.s, BOURSE_NAME_LEN);
        if (w->kind == W_CANCEL)
            hj_printf(j, ",\"status\":\"canceled\",\"canceled\":%lld}", (long long)w->canceled);
        else {
            ord *x = ord_find(l, &w->token);
            hj_printf(j, ",\"status\":\"%s\",\"filled\":%lld}", status_names[w->status],
                      x ? (long long)x->filled : 0LL);
        }
        http_json_send(r, 200);
        return;
    }
}

/* Send the answers whose reports are all in (end of a read). */
static void flush_waits(struct oe *o, olink *l)
{
    int k = 0;
    for (int i = 0; i < l->nw; i++) {
        if (l->w[i].done)
            answer_wait(o, l, &l->w[i]);
        else
            l->w[k++] = l->w[i];
    }
    l->nw = k;
}

wait *oe_wait_of(olink *l, const bourse_name *token)
{
    for (int i = 0; i < l->nw; i++)
        if (l->w[i].kind != W_LOGIN &&
            (name_eq(&l->w[i].token, token) || (l->w[i].kind == W_REPLACE && name_eq(&l->w[i].old, token))))
            return &l->w[i];
    return NULL;
}

/* The user's private WebSocket (userws.c) hears of every change. */
void userws_order(http_server *h, const char *user, const char *json, size_t n);
int userws_listening(http_server *h, const char *user); /* a private WebSocket of user is open */

static void push_order(struct oe *o, olink *l, const ord *x, int reason)
{
    char buf[512];
    hj_w w = {.p = buf, .cap = sizeof buf};
    hj_printf(&w, "{\"type\":\"order\",");
    char tmp[400];
    hj_w t = {.p = tmp, .cap = sizeof tmp};
    oe_put_ord(&t, x);
    hj_raw(&w, tmp + 1, t.len - 2);
    if (reason)
        hj_printf(&w, ",\"reason\":\"%s\"", reason_code(reason));
    hj_printf(&w, "}");
    if (!w.full && l->ready)
        userws_order(o->h, l->user, buf, w.len);
}

static void push_fill(struct oe *o, olink *l, const fill *f)
{
    char buf[400];
    hj_w w = {.p = buf, .cap = sizeof buf};
    hj_printf(&w, "{\"type\":\"fill\",\"order_id\":");
    oe_put_name(&w, f->token.s, BOURSE_NAME_LEN);
    hj_printf(&w, ",\"symbol\":");
    oe_put_name(&w, f->sym, BOURSE_SYMBOL_LEN);
    hj_printf(&w, ",\"side\":\"%s\",\"quantity\":%lld,\"price\":", f->side == BOURSE_BUY ? "buy" : "sell",
              (long long)f->qty);
    hj_amount(&w, f->price);
    hj_printf(&w, ",\"time\":%lld,\"liquidity\":\"%s\"}", (long long)f->time_ms,
              f->liq == 'R' ? "taker" : "maker");
    if (!w.full && l->ready)
        userws_order(o->h, l->user, buf, w.len);
}

/* One sequenced report of the user's stream. */
static void on_report(struct oe *o, olink *l, const ouch_report *r)
{
    l->moved = 1;
    wait *w = oe_wait_of(l, &r->token);
    ord *x = ord_find(l, &r->token);
    switch (r->type) {
    case OUCH_ACCEPTED:
        x = ord_add(l, r);
        if (w && w->kind == W_NEW)
            w->status = S_OPEN, w->done = 1;
        push_order(o, l, x, 0);
        break;
    case OUCH_REPLACED: {
        bourse_name old = r->token2;
        ord *p = ord_find(l, &old);
        int64_t filled = 0;
        if (p) {
            p->status = S_REPLACED;
            push_order(o, l, p, 0);
        }
        x = ord_add(l, r);
        x->tif = p ? p->tif : 0;
        x->filled = filled;
        if (w && w->kind == W_REPLACE)
            w->status = S_OPEN, w->done = 1;
        push_order(o, l, x, 0);
        break;
    }
    case OUCH_EXECUTED: {
        fill *f = &l->fills[l->nfills++ % FILL_MAX];
        *f = (fill){.token = r->token,
                    .side = r->side,
                    .liq = r->liquidity,
                    .qty = r->qty,
                    .price = r->price,
                    .time_ms = (int64_t)(r->ts_ns / 1000000)};
        memcpy(f->sym, r->stock.s, BOURSE_SYMBOL_LEN);
        if (x) {
            x->filled += r->qty;
            if (x->filled >= x->qty)
                x->status = S_FILLED;
        }
        if (w && w->kind == W_NEW) {
            w->filled += r->qty;
            w->done = 1;
            w->status = x && x->status == S_FILLED ? S_FILLED : S_OPEN;
        }
        push_fill(o, l, f);
        if (x)
            push_order(o, l, x, 0);
        break;
    }
    case OUCH_CANCELED:
        if (x) {
            x->status = S_CANCELED;
            push_order(o, l, x, r->reason);
        }
        if (w && (w->kind == W_NEW || w->kind == W_CANCEL)) {
            w->status = w->kind == W_NEW && w->filled && !r->qty ? S_FILLED : S_CANCELED;
            w->reason = r->reason;
            w->canceled = r->qty;
            w->done = 1;
        }
        break;
    case OUCH_REJECTED:
        if (w) {
            w->status = S_REJECTED;
            w->reason = r->reason;
            w->done = 1;
        }
        break;
    }
}

/* ---- account queries --------------------------------------------------------------- */

/* {"type":"balance","balances":[...]}: the query's answer, as GET /balances. */
static void push_balances(struct oe *o, olink *l)
{
    static const char head[] = "{\"type\":\"balance\",\"balances\":";
    size_t n = sizeof head - 1 + l->qw.len + 2;
    if (n > 65535) /* a private message's limit (userws.c) */
        return;
    char *b = malloc(n);
    if (!b)
        return;
    memcpy(b, head, sizeof head - 1);
    memcpy(b + sizeof head - 1, l->qw.p, l->qw.len);
    memcpy(b + sizeof head - 1 + l->qw.len, "]}", 2);
    userws_order(o->h, l->user, b, n);
    free(b);
}

/* Ask for the user's balances for their private WebSocket, once: a push
 * not yet sent already covers this change. */
void oe_ask_push(olink *l)
{
    for (int i = l->q_sent ? 1 : 0; i < l->nq; i++)
        if (l->q[i].kind == Q_PUSH)
            return;
    if (l->nq == QUERIES)
        return;
    l->q[l->nq++] = (struct q){.t = 0, .kind = Q_PUSH};
    oe_query_next(l);
}

void oe_query_next(olink *l)
{
    if (l->q_sent || !l->nq || !l->ready)
        return;
    uint8_t q[SOUP_HEADER + 1];
    soup_header(q, SOUP_UNSEQUENCED, 1);
    q[SOUP_HEADER] = OUCH_ACCOUNT_QUERY;
    oe_link_send(l, q, sizeof q);
    l->q_sent = 1;
    l->qn = 0;
    if (!l->qbuf)
        l->qbuf = malloc(HTTP_OUT_MAX);
    l->qw = (hj_w){.p = l->qbuf, .cap = l->qbuf ? HTTP_OUT_MAX : 0, .full = !l->qbuf};
    hj_raw(&l->qw, "[", 1);
}

static void on_account(struct oe *o, olink *l, const ouch_report *r)
{
    if (l->ask_query) { /* the one sent with the login: the replay is over */
        if (r->type == OUCH_ACCOUNT_END) {
            l->ask_query = 0;
            l->ready = 1;
            if (l->primary && userws_listening(o->h, l->user)) /* the balances it starts from */
                oe_ask_push(l), l->moved = 0;
            http_ticket p[PARKED];
            int n = l->nparked;
            memcpy(p, l->parked, sizeof p);
            l->nparked = 0;
            for (int i = 0; i < n; i++) { /* handled again, now that the link is ready */
                http_req *q = http_ticket_req(o->h, p[i]);
                if (q && !q->replied)
                    ((http_handler)q->rt->handler)(o->h, q);
            }
            oe_query_next(l);
        }
        return;
    }
    if (!l->q_sent || !l->nq)
        return;
    uint8_t kind = l->q[0].kind;
    if (r->type == OUCH_BALANCE && (kind == Q_BALANCES || kind == Q_PUSH)) {
        hj_printf(&l->qw, "%s{\"asset\":", l->qn++ ? "," : "");
        oe_put_name(&l->qw, r->stock.s, BOURSE_SYMBOL_LEN);
        int cash = !strncmp(r->stock.s, "CASH", 5);
        hj_printf(&l->qw, ",\"available\":");
        cash ? hj_amount(&l->qw, r->qty) : hj_printf(&l->qw, "\"%lld\"", (long long)r->qty);
        hj_printf(&l->qw, ",\"held\":");
        cash ? hj_amount(&l->qw, r->price) : hj_printf(&l->qw, "\"%lld\"", (long long)r->price);
        hj_printf(&l->qw, "}");
    } else if (r->type == OUCH_OPEN_ORDER && kind == Q_OPEN) {
        ord *x = ord_find(l, &r->token);
        ord y = {.token = r->token, .side = r->side, .qty = r->qty, .price = r->price, .status = S_OPEN};
        memcpy(y.sym, r->stock.s, BOURSE_SYMBOL_LEN);
        if (x) { /* what the history knows: time, tif, what was filled */
            y.tif = x->tif;
            y.time_ms = x->time_ms;
            y.filled = x->filled;
            y.qty = r->qty + x->filled;
        }
        if (l->qn++)
            hj_raw(&l->qw, ",", 1);
        oe_put_ord(&l->qw, &y);
    } else if (r->type == OUCH_ACCOUNT_END) {
        http_ticket t = l->q[0].t;
        memmove(l->q, l->q + 1, (size_t)--l->nq * sizeof *l->q);
        l->q_sent = 0;
        http_req *q = kind == Q_PUSH ? NULL : http_ticket_req(o->h, t);
        if (kind == Q_PUSH && r->event != OUCH_BUSY && !l->qw.full)
            push_balances(o, l);
        if (q) {
            hj_raw(&l->qw, "]", 1);
            if (r->event == OUCH_BUSY || l->qw.full)
                http_error(q, 503, "UNAVAILABLE", "the account query could not be answered; try again");
            else
                http_reply(q, 200, "application/json", l->qw.p, l->qw.len);
        }
        oe_query_next(l);
    }
}

/* ---- bytes from the gateway ----------------------------------------------------------- */

static void on_packet(void *ctx, const ouch_report *r, const soup_packet *p)
{
    olink *l = ctx;
    struct oe *o = l->o;
    if (p->type == SOUP_UNSEQUENCED && p->len > 0) {
        uint8_t t = p->payload[0];
        if (t == OUCH_BALANCE || t == OUCH_OPEN_ORDER || t == OUCH_ACCOUNT_END) {
            ouch_report a;
            if (ouch_account_read(p->payload, p->len, &a) == 0)
                on_account(o, l, &a);
            return;
        }
    }
    if (r)
        on_report(o, l, r);
}

static void on_login_answer(struct oe *o, olink *l, int ok)
{
    for (int i = 0; i < l->nw; i++)
        if (l->w[i].kind == W_LOGIN) {
            l->w[i].status = ok ? S_OPEN : S_REJECTED;
            l->w[i].done = 1;
        }
    if (!ok)
        return;
    l->state = L_LIVE;
    if (!l->primary && !oe_link_find(o, l->user))
        l->primary = 1;
}

static int on_rx(struct oe *o, olink *l, const uint8_t *in, size_t len)
{
    while (len) {
        size_t k = sizeof l->in - l->inlen < len ? sizeof l->in - l->inlen : len;
        memcpy(l->in + l->inlen, in, k);
        l->inlen += k;
        in += k;
        len -= k;
        if (l->state == L_LOGIN && l->inlen >= SOUP_HEADER) {
            soup_packet p;
            long n = soup_next(l->in, l->inlen, sizeof l->in, &p);
            if (n > 0) {
                int ok = p.type == SOUP_LOGIN_ACCEPTED;
                on_login_answer(o, l, ok);
                memmove(l->in, l->in + n, l->inlen - (size_t)n);
                l->inlen -= (size_t)n;
                if (!ok) {
                    flush_waits(o, l);
                    return -1;
                }
            } else if (n < 0) {
                return -1;
            }
        }
        if (l->state == L_LIVE && ouch_client_take(l->in, &l->inlen, on_packet, l) != 0)
            return -1;
    }
    flush_waits(o, l);
    if (l->moved && l->ready && l->primary && userws_listening(o->h, l->user)) {
        l->moved = 0; /* fills, accepts, cancels moved cash or holds: push the balances */
        oe_ask_push(l);
    }
    if (!l->primary && l->state == L_LIVE && !l->nw) { /* a login's check, the user has a link: let go */
        uint8_t b[4];
        oe_link_send(l, b, soup_empty(b, SOUP_LOGOUT_REQUEST));
    }
    return 0;
}

/* ---- the transport: the link carrier ---------------------------------------------------- */

static olink *link_by_id(struct oe *o, uint64_t id)
{
    uint32_t s = (uint32_t)id;
    olink *l = s < LINKS_MAX ? o->slot[s] : NULL;
    return l && l->id == id ? l : NULL;
}

/* The link is over: its waiting requests are answered, it is freed. */
static void link_ended(struct oe *o, olink *l)
{
    if (l->state == L_LOGIN)
        on_login_answer(o, l, 0);
    l->state = L_DEAD;
    fail_all(o, l, "lost its session");
    link_free(o, l);
}

static void carrier_rx(void *ctx, uint64_t id, const uint8_t *p, size_t n)
{
    struct oe *o = ctx;
    olink *l = link_by_id(o, id);
    if (!l)
        return; /* closed here already: what it still read is dropped */
    l->last_use = http_now_ms();
    if (on_rx(o, l, p, n) != 0) {
        lc_close(o->lc, l->id);
        link_ended(o, l);
    }
}

static void carrier_closed(void *ctx, uint64_t id, int why, const char *detail)
{
    struct oe *o = ctx;
    olink *l = link_by_id(o, id);
    if (!l)
        return;
    if (why == LC_UNREACHABLE) { /* a login waiting on it: the gateway did not answer no */
        http_log(o->h, "cannot reach the gateway at %s: %s", o->h->cfg.order_sock, detail);
        int k = 0;
        for (int i = 0; i < l->nw; i++) {
            http_req *r = l->w[i].kind == W_LOGIN ? http_ticket_req(o->h, l->w[i].t) : NULL;
            if (r)
                http_error(r, 503, "UNAVAILABLE", "logins are not available now");
            else if (l->w[i].kind != W_LOGIN)
                l->w[k++] = l->w[i];
        }
        l->nw = k;
    } else if (why == LC_SLOW) {
        http_log(o->h, "the link of %s into the gateway is closed: %s (the gateway did not read them)",
                 l->user, detail);
    } else if (why == LC_BROKEN) {
        http_log(o->h, "the link of %s into the gateway broke: %s", l->user, detail);
    }
    link_ended(o, l);
}

/* Everything the carrier said since the last drain. */
static void carrier_drain(struct oe *o)
{
    if (o->lc)
        lc_drain(o->lc, carrier_rx, carrier_closed, o);
}

static void carrier_log(void *ctx, const char *line)
{
    http_log(ctx, "%s", line);
}

static int carrier_start(struct oe *o)
{
    http_server *h = o->h;
    if (o->lc_failed || !h->vh)
        return -1;
    lc_config cfg = {.path = h->cfg.order_sock,
                     .slots = LINKS_MAX,
                     .out_max = LINK_OUT_MAX,
                     .up_max = LINK_UP_MAX,
                     .log = carrier_log,
                     .log_ctx = h};
    int fd = -1;
    o->lc = lc_start(&cfg, &fd);
    if (o->lc) {
        lws_sock_file_fd_type d = {.filefd = fd};
        o->wake_fd = fd;
        o->wake = lws_adopt_descriptor_vhost(h->vh, LWS_ADOPT_RAW_FILE_DESC, d, "bourse-oe", NULL);
        if (o->wake)
            return 0;
        lc_stop(o->lc);
        o->lc = NULL;
        close(fd);
    }
    http_log(h, "cannot start the thread of the links into the gateway: order entry is off");
    o->lc_failed = 1;
    return -1;
}

static void carrier_stop(struct oe *o)
{
    lc_stop(o->lc); /* closes the links' sockets: the gateway ends their sessions */
    o->lc = NULL;
}

/* The carrier's wake-up (its eventfd, adopted as a raw file) and the
 * protocol's end; a libwebsockets cancel (a worker, the feed) drains too. */
static int oe_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user, (void)in, (void)len;
    const struct lws_protocols *pr = lws_get_protocol(wsi);
    http_server *h = pr ? pr->user : NULL;
    struct oe *o = h ? h->oe : NULL;
    if (!o)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE: {
        uint64_t v;
        ssize_t r = read(o->wake_fd, &v, sizeof v);
        (void)r;
        carrier_drain(o);
        return 0;
    }
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED: carrier_drain(o); return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (wsi == o->wake)
            o->wake = NULL; /* libwebsockets closes the descriptor */
        return 0;
    case LWS_CALLBACK_PROTOCOL_DESTROY: carrier_stop(o); return 0;
    default: return 0;
    }
}

const struct lws_protocols oe_protocol = {"bourse-oe", oe_callback, 0, 0, 0, NULL, 0};

/* Every tick: a Client Heartbeat on each link that sent nothing for a
 * second (the gateway cuts a silent client), and idle links go: a link
 * whose user did nothing for LINK_IDLE_MS. */
void oe_tick(struct oe *o)
{
    carrier_drain(o); /* a lost wake-up waits a tick at most */
    int64_t now = http_now_ms();
    for (uint32_t i = 0; i < o->nlinks; i++) {
        olink *l = o->links[i];
        if (l->state == L_LIVE && now - l->last_sent >= 1000) {
            uint8_t b[4];
            oe_link_send(l, b, soup_empty(b, SOUP_CLIENT_HEARTBEAT));
        }
        if (l->state == L_LIVE && !l->nw && !l->nq && now - l->last_use > LINK_IDLE_MS &&
            !userws_listening(o->h, l->user)) {
            uint8_t b[4];
            oe_link_send(l, b, soup_empty(b, SOUP_LOGOUT_REQUEST));
            l->last_use = now;
        }
    }
}

struct oe *oe_new(http_server *h)
{
    struct oe *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->h = h;
    for (uint32_t i = 0; i < LINKS_MAX; i++) /* slot 0 first */
        o->free_slot[o->nfree++] = LINKS_MAX - 1 - i;
    return o;
}

void oe_free(struct oe *o)
{
    if (!o)
        return;
    carrier_stop(o); /* stopped already when the lws context went */
    while (o->nlinks)
        link_free(o, o->links[0]);
    free(o);
}
