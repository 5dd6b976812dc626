/*
 * orders.c - the order endpoints (place, cancel, replace, the open and all
 * orders, fills, balances) and the password check of a login, on the
 * links into the gateway of oelink.c (whose essay says why a link).
 *
 * A request is checked whole before a link is asked for: every field's
 * type, range and form (prices as decimal strings of at most 4 decimals,
 * ids of 1-16 safe characters), with a specific 400 naming the field.
 * Then the user's link: ready, the command goes and the request waits for
 * its report (HTTP_LATER); not ready yet (its replay still coming), the
 * request is parked and handled again when the link is.  At most WAITS
 * requests wait per link, PARKED are parked and QUERIES account questions
 * queue: beyond, 429, so a client cannot grow the server's memory.
 *
 * The answer to a new order is sent once its reports of one read are in,
 * so an order that trades at once says "filled" with its quantity rather
 * than "open"; a second request for an order with one in flight is
 * refused (409), so each answer has one report to wait for.
 */
#include "http/orders_int.h"

#include "net/ouchclient.h"

#include <stdio.h>
#include <string.h>

/* ---- the endpoints ------------------------------------------------------------------- */

/* The user's ready link, or NULL: answered (an error) or parked (*later). */
static olink *link_for(struct oe *o, http_req *r, int *later)
{
    *later = 0;
    olink *l = oe_link_find(o, r->user);
    if (!l)
        l = oe_link_login(o, r->user); /* a login's link still being set up */
    if (!l && (l = oe_link_open(o, r->user, NULL)))
        l->primary = 1;
    if (!l) {
        http_error(r, 503, "UNAVAILABLE", "order entry is not available now");
        return NULL;
    }
    l->last_use = http_now_ms();
    if (l->ready)
        return l;
    if (l->nparked == PARKED) {
        http_error(r, 429, "RATE_LIMITED", "too many requests waiting for the session");
        return NULL;
    }
    l->parked[l->nparked++] = http_ticket_of(r);
    *later = 1;
    return NULL;
}

static wait *wait_new(olink *l, http_req *r, int kind)
{
    if (l->nw == WAITS) {
        http_error(r, 429, "RATE_LIMITED", "too many orders waiting for their answers");
        return NULL;
    }
    wait *w = &l->w[l->nw++];
    *w = (wait){.t = http_ticket_of(r), .kind = (uint8_t)kind};
    return w;
}

static void send_cmd(olink *l, const bourse_cmd *c)
{
    uint8_t b[OUCH_CLIENT_FRAME_MAX];
    oe_link_send(l, b, ouch_client_frame(b, c));
}

static int bad(http_req *r, const char *code, const char *fmt, const char *field)
{
    http_error(r, 400, code, fmt, field);
    return HTTP_DONE;
}

/* A field's check: 1 present and valid, 0 absent, else answers and -1. */
static int field(http_req *r, int got, const char *name, int required)
{
    if (got < 0) {
        http_error(r, 400, "BAD_FIELD", "%s has the wrong type or is out of range", name);
        return -1;
    }
    if (!got && required) {
        http_error(r, 400, "MISSING_FIELD", "%s is required", name);
        return -1;
    }
    return got;
}

static int price_field(http_req *r, const hj_obj *j, int64_t *out)
{
    const char *s;
    size_t n;
    int g = field(r, hj_str(j, "price", &s, &n), "price", 1);
    if (g <= 0)
        return -1;
    if (hj_parse_amount(s, n, BOURSE_PRICE_MAX, out) != 0 || *out <= 0) {
        http_error(r, 400, "BAD_FIELD",
                   "price must be a decimal string above 0 with at most 4 decimals, like \"10.25\"");
        return -1;
    }
    return 0;
}

/* The end of place, cancel and replace: refuse an order that has a request
 * in flight (409 code/why), else wait for its answer and send c. */
static int submit(olink *l, http_req *r, int kind, const bourse_cmd *c, int busy, const char *code,
                  const char *why)
{
    if (busy) {
        http_error(r, 409, code, "%s", why);
        return HTTP_DONE;
    }
    wait *w = wait_new(l, r, kind);
    if (!w)
        return HTTP_DONE;
    w->token = kind == W_REPLACE ? c->new_oid : c->oid;
    if (kind == W_REPLACE)
        w->old = c->oid;
    send_cmd(l, c);
    return HTTP_LATER;
}

static int place(http_server *h, http_req *r)
{
    hj_obj j;
    if (http_body_json(r, &j) != 0)
        return HTTP_DONE;
    static const char *const known[] = {"symbol",          "side", "quantity", "price", "tif",
                                        "client_order_id", NULL};
    const char *u = hj_unknown(&j, known);
    if (u)
        return bad(r, "BAD_FIELD", "unknown field %s", u);
    bourse_cmd c = {.type = BOURSE_CMD_ORDER};
    const char *s;
    size_t n;
    int g;
    if ((g = field(r, hj_str(&j, "symbol", &s, &n), "symbol", 1)) < 0)
        return HTTP_DONE;
    if (!oe_symbol_ok(s, n))
        return bad(r, "BAD_FIELD", "%s must be 1-8 of A-Z 0-9 .", "symbol");
    memcpy(c.symbol_name.s, s, n);
    if ((g = field(r, hj_str(&j, "side", &s, &n), "side", 1)) < 0)
        return HTTP_DONE;
    if (strcmp(s, "buy") && strcmp(s, "sell"))
        return bad(r, "BAD_FIELD", "%s must be \"buy\" or \"sell\"", "side");
    c.side = s[0] == 'b' ? BOURSE_BUY : BOURSE_SELL;
    int64_t q;
    if ((g = field(r, hj_int(&j, "quantity", 1, BOURSE_QTY_MAX, &q), "quantity", 1)) < 0)
        return HTTP_DONE;
    c.qty = q;
    if (price_field(r, &j, &c.price) != 0)
        return HTTP_DONE;
    c.tif = BOURSE_DAY;
    if ((g = field(r, hj_str(&j, "tif", &s, &n), "tif", 0)) < 0)
        return HTTP_DONE;
    if (g) {
        static const char *const tifs[] = {"day", "gtc", "ioc", "fok"};
        int t = -1;
        for (int i = 0; i < 4; i++)
            if (!strcmp(s, tifs[i]))
                t = i;
        if (t < 0)
            return bad(r, "BAD_FIELD", "%s must be day, gtc, ioc or fok", "tif");
        c.tif = (uint8_t)t;
    }
    if ((g = field(r, hj_str(&j, "client_order_id", &s, &n), "client_order_id", 0)) < 0)
        return HTTP_DONE;
    if (g && !oe_id_ok(s, n))
        return bad(r, "BAD_FIELD", "%s must be 1-16 of A-Z a-z 0-9 _ -", "client_order_id");
    int later;
    olink *l = link_for(h->oe, r, &later);
    if (!l)
        return later ? HTTP_LATER : HTTP_DONE;
    if (g)
        oe_name_set(&c.oid, s);
    else
        oe_new_id(h->oe, &c.oid);
    return submit(l, r, W_NEW, &c, oe_wait_of(l, &c.oid) != NULL, "DUPLICATE_ID",
                  "an order with this id is being placed");
}

static int cancel(http_server *h, http_req *r)
{
    const char *id = http_arg(r, 0);
    if (!oe_id_ok(id, strlen(id)))
        return bad(r, "BAD_FIELD", "%s must be 1-16 of A-Z a-z 0-9 _ -", "order_id");
    int later;
    olink *l = link_for(h->oe, r, &later);
    if (!l)
        return later ? HTTP_LATER : HTTP_DONE;
    bourse_cmd c = {.type = BOURSE_CMD_CANCEL};
    oe_name_set(&c.oid, id);
    return submit(l, r, W_CANCEL, &c, oe_wait_of(l, &c.oid) != NULL, "CONFLICT",
                  "this order has a request in flight");
}

static int replace(http_server *h, http_req *r)
{
    const char *id = http_arg(r, 0);
    if (!oe_id_ok(id, strlen(id)))
        return bad(r, "BAD_FIELD", "%s must be 1-16 of A-Z a-z 0-9 _ -", "order_id");
    hj_obj j;
    if (http_body_json(r, &j) != 0)
        return HTTP_DONE;
    static const char *const known[] = {"quantity", "price", "client_order_id", NULL};
    const char *u = hj_unknown(&j, known);
    if (u)
        return bad(r, "BAD_FIELD", "unknown field %s", u);
    bourse_cmd c = {.type = BOURSE_CMD_REPLACE};
    int64_t q;
    if (field(r, hj_int(&j, "quantity", 1, BOURSE_QTY_MAX, &q), "quantity", 1) < 0)
        return HTTP_DONE;
    c.qty = q;
    if (price_field(r, &j, &c.price) != 0)
        return HTTP_DONE;
    const char *s;
    size_t n;
    int g = field(r, hj_str(&j, "client_order_id", &s, &n), "client_order_id", 0);
    if (g < 0)
        return HTTP_DONE;
    if (g && !oe_id_ok(s, n))
        return bad(r, "BAD_FIELD", "%s must be 1-16 of A-Z a-z 0-9 _ -", "client_order_id");
    int later;
    olink *l = link_for(h->oe, r, &later);
    if (!l)
        return later ? HTTP_LATER : HTTP_DONE;
    oe_name_set(&c.oid, id);
    if (g)
        oe_name_set(&c.new_oid, s);
    else
        oe_new_id(h->oe, &c.new_oid);
    return submit(l, r, W_REPLACE, &c, oe_wait_of(l, &c.oid) || oe_wait_of(l, &c.new_oid), "CONFLICT",
                  "this order has a request in flight");
}

static int query(http_server *h, http_req *r, int kind)
{
    int later;
    olink *l = link_for(h->oe, r, &later);
    if (!l)
        return later ? HTTP_LATER : HTTP_DONE;
    if (l->nq == QUERIES) {
        http_error(r, 429, "RATE_LIMITED", "too many account questions waiting");
        return HTTP_DONE;
    }
    l->q[l->nq++] = (struct q){.t = http_ticket_of(r), .kind = (uint8_t)kind};
    oe_query_next(l);
    return HTTP_LATER;
}

static int balances(http_server *h, http_req *r)
{
    return query(h, r, Q_BALANCES);
}

static int orders(http_server *h, http_req *r)
{
    char st[8] = "open";
    http_query(r, "status", st, sizeof st);
    if (!strcmp(st, "open"))
        return query(h, r, Q_OPEN);
    if (strcmp(st, "all"))
        return bad(r, "BAD_FIELD", "%s must be open or all", "status");
    int later;
    olink *l = link_for(h->oe, r, &later);
    if (!l)
        return later ? HTTP_LATER : HTTP_DONE;
    hj_w *w = http_json(r);
    hj_raw(w, "[", 1);
    uint32_t n = l->nords < ORD_MAX ? l->nords : ORD_MAX;
    for (uint32_t i = 0; i < n; i++) { /* newest first */
        if (i)
            hj_raw(w, ",", 1);
        oe_put_ord(w, &l->ords[(l->nords - 1 - i) % ORD_MAX]);
    }
    hj_raw(w, "]", 1);
    http_json_send(r, 200);
    return HTTP_DONE;
}

static int fills(http_server *h, http_req *r)
{
    int later;
    olink *l = link_for(h->oe, r, &later);
    if (!l)
        return later ? HTTP_LATER : HTTP_DONE;
    hj_w *w = http_json(r);
    hj_raw(w, "[", 1);
    uint32_t n = l->nfills < FILL_MAX ? l->nfills : FILL_MAX;
    for (uint32_t i = 0; i < n; i++) {
        const fill *f = &l->fills[(l->nfills - 1 - i) % FILL_MAX];
        hj_printf(w, "%s{\"order_id\":", i ? "," : "");
        oe_put_name(w, f->token.s, BOURSE_NAME_LEN);
        hj_printf(w, ",\"symbol\":");
        oe_put_name(w, f->sym, BOURSE_SYMBOL_LEN);
        hj_printf(w, ",\"side\":\"%s\",\"quantity\":%lld,\"price\":", f->side == BOURSE_BUY ? "buy" : "sell",
                  (long long)f->qty);
        hj_amount(w, f->price);
        hj_printf(w, ",\"time\":%lld,\"liquidity\":\"%s\",\"fee\":null}", (long long)f->time_ms,
                  f->liq == 'R' ? "taker" : "maker");
    }
    hj_raw(w, "]", 1);
    http_json_send(r, 200);
    return HTTP_DONE;
}

int oe_login(http_server *h, http_req *r, const char *user, const char *password)
{
    olink *l = oe_link_open(h->oe, user, password);
    if (!l) {
        http_error(r, 503, "UNAVAILABLE", "logins are not available now");
        return HTTP_DONE;
    }
    wait *w = wait_new(l, r, W_LOGIN);
    if (!w)
        return HTTP_DONE;
    return HTTP_LATER;
}

int oe_routes(http_server *h)
{
    return http_route(h, "POST", "/api/v1/orders", HTTP_AUTH, place) ||
           http_route(h, "GET", "/api/v1/orders", HTTP_AUTH, orders) ||
           http_route(h, "DELETE", "/api/v1/orders/{order_id}", HTTP_AUTH, cancel) ||
           http_route(h, "POST", "/api/v1/orders/{order_id}/replace", HTTP_AUTH, replace) ||
           http_route(h, "GET", "/api/v1/fills", HTTP_AUTH, fills) ||
           http_route(h, "GET", "/api/v1/balances", HTTP_AUTH, balances);
}

/* The user's balances to their private WebSocket (an account change). */
int oe_push_balances(http_server *h, const char *user)
{
    olink *l = h->oe ? oe_link_find(h->oe, user) : NULL;
    if (!l) { /* none yet (the account was not active): its readiness pushes them */
        if (!h->oe || !(l = oe_link_open(h->oe, user, NULL)))
            return -1;
        l->primary = 1;
        return 0;
    }
    if (l->ready)
        oe_ask_push(l);
    else
        l->moved = 1;
    return 0;
}

/* The private WebSocket's user: make sure a link carries their reports. */
int oe_touch(http_server *h, const char *user)
{
    if (!h->oe || oe_link_find(h->oe, user))
        return 0;
    olink *l = oe_link_open(h->oe, user, NULL);
    if (!l)
        return -1;
    l->primary = 1;
    return 0;
}
