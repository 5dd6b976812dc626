/*
 * proto_fix_app.c - FIX application messages: NewOrderSingle (D),
 * OrderCancelRequest (F), OrderCancelReplaceRequest (G) and
 * OrderStatusRequest (H) in; ExecutionReport (8) and OrderCancelReject (9)
 * out.  docs/fix.md lists every tag and value.
 *
 * Identifiers.  A ClOrdID is the core's order id: 1-16 of A-Z a-z 0-9 _ -,
 * unique among the user's orders (a longer one, or another character, is
 * rejected: ExecutionReport with OrdRejReason 99, or OrderCancelReject).  A
 * replace's new ClOrdID is the order's new id (the core's `replace` gives
 * the order a new id), its OrigClOrdID the old one; a cancel's ClOrdID only
 * names the request, so it may be any 1-16 bytes.  OrderID is the journal
 * sequence number of the command that booked the order, the same across
 * its replaces; ExecID is made from the log (see exec_id_event), unique for
 * the venue and the same in the user's report and its drop copies.
 *
 * The orders' FIX view.  The core's events say what changed (ACCEPTED with
 * the quantity, TRADE with the fill, CANCELED with what left the book,
 * REPLACED with the new open quantity); a FIX report also says the whole
 * order's quantity, cumulative quantity and average price.  So the adapter
 * keeps, per order of a user whose FIX session is numbered (on every node,
 * connected there or not: proto_fix_mark.c), an entry
 * (fix_order) from the request or its ACCEPTED to its last fill, cancel or
 * reject: open addressing on (user, order id), grown by doubling (never
 * per message) and emptied by backward shift.  A pending request is
 * recognised by its entry: a REJECTED of an order still pending is the
 * order's; of an order with a cancel in flight, the cancel's (so an
 * OrderCancelReject); of a pending replace's new id, the replace's.  Orders
 * the table does not know (entered before the session's first mark) are reported with what
 * the events say: their OrderQty is then what is left plus what filled
 * since.
 *
 * Every order event of the user goes to its FIX session, whichever
 * protocol entered the order: an OUCH user trading with a FIX user reaches
 * the FIX user as ExecutionReports, and a user on both sees all its orders.
 *
 * Drop copies ([fix] dropcopy = NAME: USER..., NAME: *): those users' FIX
 * sessions are read-only (every application message is a
 * BusinessMessageReject, reason 6) and receive a copy of every
 * ExecutionReport of the users each covers (dropcopy.h), from
 * their first Logon in a server run, numbered and resent like any session's.
 * With drop copies configured the engine sends every order event to every
 * gateway (engine_thread.c), since a drop copy session lives at its own
 * user's home; each gateway's table then follows every user's orders.
 */
#include "server/proto_fix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the order table ------------------------------------------------------ */

static uint32_t slot_of(const fix_gw *fg, uint32_t user, const bourse_name *oid)
{
    uint64_t h = 1469598103934665603ULL ^ user;
    for (int i = 0; i < BOURSE_NAME_LEN; i++)
        h = (h ^ (uint8_t)oid->s[i]) * 1099511628211ULL;
    return (uint32_t)(h ^ (h >> 29)) & (fg->ocap - 1);
}

static fix_order *order_find(fix_gw *fg, uint32_t user, const bourse_name *oid)
{
    if (!fg->ocap)
        return NULL;
    for (uint32_t i = slot_of(fg, user, oid);; i = (i + 1) & (fg->ocap - 1)) {
        fix_order *o = &fg->orders[i];
        if (o->state == FO_EMPTY)
            return NULL;
        if (o->user == user && !memcmp(o->oid.s, oid->s, BOURSE_NAME_LEN))
            return o;
    }
}

static int order_grow(fix_gw *fg)
{
    uint32_t n = fg->ocap ? fg->ocap * 2 : 1024;
    fix_order *old = fg->orders, *o = calloc(n, sizeof *o);
    if (!o)
        return -1;
    uint32_t oldcap = fg->ocap;
    fg->orders = o;
    fg->ocap = n;
    for (uint32_t i = 0; i < oldcap; i++)
        if (old[i].state != FO_EMPTY) {
            uint32_t j = slot_of(fg, old[i].user, &old[i].oid);
            while (o[j].state != FO_EMPTY)
                j = (j + 1) & (n - 1);
            o[j] = old[i];
        }
    free(old);
    return 0;
}

/* A new entry (the caller checked there is none); NULL: out of memory. */
static fix_order *order_add(fix_gw *fg, uint32_t user, const bourse_name *oid)
{
    if ((fg->oused + 1) * 2 > fg->ocap && order_grow(fg) != 0)
        return NULL;
    uint32_t i = slot_of(fg, user, oid);
    while (fg->orders[i].state != FO_EMPTY)
        i = (i + 1) & (fg->ocap - 1);
    fix_order *o = &fg->orders[i];
    memset(o, 0, sizeof *o);
    o->user = user;
    o->oid = *oid;
    o->state = FO_LIVE;
    fg->oused++;
    return o;
}

static void order_del(fix_gw *fg, fix_order *o)
{
    uint32_t mask = fg->ocap - 1, i = (uint32_t)(o - fg->orders), j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (fg->orders[j].state == FO_EMPTY)
            break;
        uint32_t k = slot_of(fg, fg->orders[j].user, &fg->orders[j].oid);
        /* move j back into the hole at i unless its home lies in (i, j] */
        if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
            fg->orders[i] = fg->orders[j];
            i = j;
        }
    }
    memset(&fg->orders[i], 0, sizeof fg->orders[i]);
    fg->oused--;
}

/* Done with an order: a cancel still in flight keeps it, as FO_GONE, so
 * that the cancel's answer is still recognised. */
static void order_done(fix_gw *fg, fix_order *o)
{
    if (o->cxl)
        o->state = FO_GONE;
    else
        order_del(fg, o);
}

void fixa_free(fix_gw *fg)
{
    free(fg->orders);
    fg->orders = NULL;
    fg->ocap = fg->oused = 0;
}

/* --- field checks -------------------------------------------------------- */

static int name_ok(const char *v, size_t n, bourse_name *out, int any)
{
    if (!v || n == 0 || n > BOURSE_NAME_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!any && !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-'))
            return 0;
        if (any && (c < 33 || c > 126))
            return 0;
    }
    memset(out, 0, sizeof *out);
    memcpy(out->s, v, n);
    return 1;
}

static int symbol_ok(const char *v, size_t n, bourse_symbol_name *out)
{
    if (!v || n == 0 || n > BOURSE_SYMBOL_LEN || (n == 4 && !memcmp(v, "CASH", 4)))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '.'))
            return 0;
    memset(out, 0, sizeof *out);
    memcpy(out->s, v, n);
    return 1;
}

static size_t nlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

/* --- reports -------------------------------------------------------------- */

typedef struct er {
    char type, status;
    int rej; /* OrdRejReason, -1 = none */
    const char *clordid, *orig;
    size_t clordid_len, orig_len;
    int64_t last_qty, last_px;
    const char *text;
    const char *exec_id;
} er;

/* ExecID: from the log where there is an event, so it is the same in
 * every copy of the report and after a rebuild: "<seq>-T<match>-B"/"-S"
 * for a fill, "<seq>-<event>-<user>-<order id>" otherwise; a report made here
 * without an event (a local reject, a status) is "L"/"S" and the clock.
 * Digits by fix_fmt_u64, not snprintf. */
static void exec_id_event(const srv_out *o, uint32_t user, const bourse_name *oid, char *out, size_t cap)
{
    const bourse_event *ev = &o->ev;
    if (cap < 20 + 3 + 10 + 1 + BOURSE_NAME_LEN + 1) { /* the longer of the two forms */
        *out = 0;
        return;
    }
    size_t k = fix_fmt_u64(out, o->seq);
    out[k++] = '-';
    if (ev->type == BOURSE_EV_TRADE) {
        out[k++] = 'T';
        k += fix_fmt_u64(out + k, o->match);
        out[k++] = '-';
        out[k++] = user == ev->user ? 'B' : 'S';
        out[k] = 0;
        return;
    }
    out[k++] = ev->type == BOURSE_EV_ACCEPTED   ? 'A'
               : ev->type == BOURSE_EV_CANCELED ? 'C'
               : ev->type == BOURSE_EV_REPLACED ? 'R'
                                                : 'J';
    out[k++] = '-';
    k += fix_fmt_u64(out + k, user);
    out[k++] = '-';
    size_t n = nlen(oid->s, BOURSE_NAME_LEN);
    memcpy(out + k, oid->s, n);
    out[k + n] = 0;
}

static void exec_id_local(fix_gw *fg, char kind, uint32_t user, char *out, size_t cap)
{
    snprintf(out, cap, "%c%lld-%u", kind, (long long)fg->g->now, user);
}

static void put_order_id(fix_writer *w, const fix_order *o)
{
    if (o && o->order_id)
        fix_put_int(w, 37, (int64_t)o->order_id);
    else
        fix_puts(w, 37, "NONE");
}

static const char tif_code[] = {'0', '1', '3', '4'};

static void send_er(fix_gw *fg, fix_sess *s, const fix_order *o, const er *r)
{
    char buf[FIX_OUT_MAX];
    fix_writer w;
    fixs_begin(fg, s, &w, buf, "8");
    put_order_id(&w, o);
    fix_put(&w, 11, r->clordid, r->clordid_len);
    if (r->orig)
        fix_put(&w, 41, r->orig, r->orig_len);
    fix_puts(&w, 17, r->exec_id);
    fix_put(&w, 150, &r->type, 1);
    fix_put(&w, 39, &r->status, 1);
    if (r->rej >= 0)
        fix_put_int(&w, 103, r->rej);
    size_t sl = nlen(o->sym.s, BOURSE_SYMBOL_LEN);
    if (sl)
        fix_put(&w, 55, o->sym.s, sl);
    else
        fix_puts(&w, 55, "NONE"); /* a reject of an order this gateway did not see entered */
    fix_put(&w, 54, o->side == BOURSE_SELL ? "2" : "1", 1);
    fix_put_decimal(&w, 38, o->qty * 10000);
    fix_put(&w, 40, o->price == BOURSE_MARKET ? "1" : "2", 1);
    if (o->price != BOURSE_MARKET)
        fix_put_decimal(&w, 44, o->price);
    fix_put(&w, 59, &tif_code[o->tif & 3], 1);
    if (r->last_qty) {
        fix_put_decimal(&w, 32, r->last_qty * 10000);
        fix_put_decimal(&w, 31, r->last_px);
    }
    int64_t leaves = r->status == '2' || r->status == '4' || r->status == '8' ? 0 : o->qty - o->cum;
    fix_put_decimal(&w, 151, (leaves > 0 ? leaves : 0) * 10000);
    fix_put_decimal(&w, 14, o->cum * 10000);
    fix_put_decimal(&w, 6, o->cum ? o->notional / o->cum : 0);
    fix_put_time(&w, 60, fg->g->now);
    if (r->text)
        fix_puts(&w, 58, r->text);
    fixs_send(fg, s, &w, 1);
}

static char status_of(const fix_order *o)
{
    if (o->state == FO_PENDING_NEW)
        return 'A';
    if (o->cum == 0)
        return '0';
    return o->cum >= o->qty ? '2' : '1';
}

static void send_cxl_reject(fix_gw *fg, fix_sess *s, const fix_order *o, const char *clordid, size_t cl,
                            const char *orig, size_t ol, int to, int reason, const char *text)
{
    char buf[FIX_OUT_MAX];
    fix_writer w;
    fixs_begin(fg, s, &w, buf, "9");
    put_order_id(&w, o && o->qty ? o : NULL);
    fix_put(&w, 11, clordid, cl);
    fix_put(&w, 41, orig, ol);
    char st = o && o->qty && o->state != FO_GONE ? status_of(o) : '8';
    fix_put(&w, 39, &st, 1);
    fix_put_int(&w, 434, to);
    fix_put_int(&w, 102, reason);
    fix_puts(&w, 58, text);
    fixs_send(fg, s, &w, 1);
}

/* A NewOrderSingle refused here: its report, from the request's fields. */
static void local_reject(fix_gw *fg, fix_sess *s, uint32_t user, const fix_msg *m, int reason,
                         const char *text)
{
    fix_order o = {.user = user, .state = FO_LIVE, .side = fix_is(m, 54, "2") ? BOURSE_SELL : BOURSE_BUY};
    size_t n, cl;
    const char *sym = fix_get(m, 55, &n);
    if (sym)
        memcpy(o.sym.s, sym, n < BOURSE_SYMBOL_LEN ? n : BOURSE_SYMBOL_LEN);
    fix_get_decimal(m, 38, 0, BOURSE_QTY_MAX, &o.qty);
    if (fix_get_decimal(m, 44, 4, BOURSE_PRICE_MAX, &o.price) != 0 || fix_is(m, 40, "1"))
        o.price = BOURSE_MARKET;
    const char *clordid = fix_get(m, 11, &cl);
    char id[48];
    exec_id_local(fg, 'L', user, id, sizeof id);
    er r = {.type = '8',
            .status = '8',
            .rej = reason,
            .clordid = clordid,
            .clordid_len = cl,
            .text = text,
            .exec_id = id};
    send_er(fg, s, &o, &r);
}

static int reject_reason(int core)
{
    switch (core) {
    case BOURSE_R_UNKNOWN_SYMBOL: return 1;
    case BOURSE_R_MARKET_CLOSED:
    case BOURSE_R_HALTED: return 2;
    case BOURSE_R_INSUFFICIENT_CASH:
    case BOURSE_R_INSUFFICIENT_SHARES:
    case BOURSE_R_DAILY_LIMIT:
    case BOURSE_R_MAX_QTY:
    case BOURSE_R_MAX_NOTIONAL: return 3;
    case BOURSE_R_UNKNOWN_ORDER: return 5;
    case BOURSE_R_DUPLICATE_ID: return 6;
    default: return 99;
    }
}

/* --- requests in ---------------------------------------------------------- */

static int required(fix_gw *fg, fix_sess *s, const fix_msg *m, const uint32_t *tags)
{
    uint64_t seq = 0;
    fix_get_u64(m, 34, &seq);
    size_t n;
    for (; *tags; tags++)
        if (!fix_get(m, *tags, &n)) {
            /* the session layer's Reject: same builder, through the app path */
            char buf[FIX_OUT_MAX];
            fix_writer w;
            size_t tl;
            const char *t = fix_get(m, 35, &tl);
            fixs_begin(fg, s, &w, buf, "3");
            fix_put_int(&w, 45, (int64_t)seq);
            fix_put_int(&w, 371, *tags);
            fix_put(&w, 372, t, tl);
            fix_put_int(&w, 373, FIX_R_REQUIRED_MISSING);
            fix_puts(&w, 58, "Required tag missing");
            fixs_send(fg, s, &w, 0);
            return -1;
        }
    return 0;
}

static void bad_value(fix_gw *fg, fix_sess *s, const fix_msg *m, uint32_t tag, int reason, const char *text)
{
    uint64_t seq = 0;
    fix_get_u64(m, 34, &seq);
    char buf[FIX_OUT_MAX];
    fix_writer w;
    size_t tl;
    const char *t = fix_get(m, 35, &tl);
    fixs_begin(fg, s, &w, buf, "3");
    fix_put_int(&w, 45, (int64_t)seq);
    fix_put_int(&w, 371, tag);
    fix_put(&w, 372, t, tl);
    fix_put_int(&w, 373, reason);
    fix_puts(&w, 58, text);
    fixs_send(fg, s, &w, 0);
}

static void submit(fix_gw *fg, conn *c, bourse_cmd *cmd)
{
    cmd->user = c->user;
    memcpy(cmd->user_name.s, c->name, BOURSE_NAME_LEN);
    gw_submit(fg->g, c, IN_CMD, cmd);
}

static void new_order(fix_gw *fg, fix_sess *s, conn *c, const fix_msg *m)
{
    static const uint32_t req[] = {11, 55, 54, 60, 38, 40, 0};
    if (required(fg, s, m, req) != 0)
        return;
    char side, type, tif = '0';
    int64_t qty, price = BOURSE_MARKET;
    if (fix_get_char(m, 54, &side) != 0 || (side != '1' && side != '2')) {
        bad_value(fg, s, m, 54, FIX_R_BAD_VALUE, "Side must be 1 (buy) or 2 (sell)");
        return;
    }
    int q = fix_get_decimal(m, 38, 0, BOURSE_QTY_MAX, &qty);
    if (q == -2 || qty < 1) {
        local_reject(fg, s, c->user, m, 13, "OrderQty must be 1 to 100000000 shares");
        return;
    }
    if (fix_get_char(m, 40, &type) != 0 || (type != '1' && type != '2')) {
        local_reject(fg, s, c->user, m, 99, "OrdType not supported: 2 (limit) or 1 (market)");
        return;
    }
    if (fix_get(m, 59, &(size_t){0}) && (fix_get_char(m, 59, &tif) != 0 || !strchr("0134", tif) || !tif)) {
        local_reject(fg, s, c->user, m, 99, "TimeInForce not supported: 0 day, 1 GTC, 3 IOC or 4 FOK");
        return;
    }
    if (type == '2') {
        int p = fix_get_decimal(m, 44, 4, BOURSE_PRICE_MAX, &price);
        if (p == -1) {
            static const uint32_t px[] = {44, 0};
            required(fg, s, m, px);
            return;
        }
        if (p == -2 || price < 1) {
            local_reject(fg, s, c->user, m, 99, "Price must be 0.0001 to 1000000 with at most 4 decimals");
            return;
        }
    } else {
        if (tif == '0' || tif == '1')
            tif = '3'; /* a market order never rests: ioc unless fok */
    }
    bourse_cmd cmd = {.type = BOURSE_CMD_ORDER, .qty = qty, .price = price};
    size_t n;
    const char *v = fix_get(m, 11, &n);
    if (!name_ok(v, n, &cmd.oid, 0)) {
        local_reject(fg, s, c->user, m, 99, "ClOrdID must be 1-16 of A-Z a-z 0-9 _ -");
        return;
    }
    v = fix_get(m, 55, &n);
    if (!symbol_ok(v, n, &cmd.symbol_name)) {
        local_reject(fg, s, c->user, m, 1, "Symbol must be 1-8 of A-Z 0-9 .");
        return;
    }
    cmd.side = side == '2' ? BOURSE_SELL : BOURSE_BUY;
    cmd.tif = tif == '1' ? BOURSE_GTC : tif == '3' ? BOURSE_IOC : tif == '4' ? BOURSE_FOK : BOURSE_DAY;
    if (order_find(fg, c->user, &cmd.oid)) {
        local_reject(fg, s, c->user, m, 6, "Duplicate ClOrdID: an order of yours has this id");
        return;
    }
    if (!gw_rate_ok(fg->g, c)) {
        local_reject(fg, s, c->user, m, 99, "RATE_LIMIT: the session's order rate was exceeded");
        return;
    }
    fix_order *o = order_add(fg, c->user, &cmd.oid);
    if (!o) {
        local_reject(fg, s, c->user, m, 99, "CAPACITY: out of memory");
        return;
    }
    o->state = FO_PENDING_NEW;
    o->side = cmd.side;
    o->tif = cmd.tif;
    o->sym = cmd.symbol_name;
    o->qty = qty;
    o->price = price;
    submit(fg, c, &cmd);
}

static void cancel_or_replace(fix_gw *fg, fix_sess *s, conn *c, const fix_msg *m, int replace)
{
    static const uint32_t req_f[] = {41, 11, 55, 54, 60, 0}, req_g[] = {41, 11, 55, 54, 60, 38, 40, 0};
    if (required(fg, s, m, replace ? req_g : req_f) != 0)
        return;
    size_t cl, ol;
    const char *clordid = fix_get(m, 11, &cl), *orig = fix_get(m, 41, &ol);
    int to = replace ? 2 : 1;
    bourse_name oid, req;
    if (!name_ok(orig, ol, &oid, 0)) {
        send_cxl_reject(fg, s, NULL, clordid, cl, orig, ol, to, 1,
                        "Unknown order: OrigClOrdID is no order id");
        return;
    }
    if (!name_ok(clordid, cl, &req, !replace)) {
        send_cxl_reject(fg, s, NULL, clordid, cl, orig, ol, to, 99,
                        replace ? "ClOrdID must be 1-16 of A-Z a-z 0-9 _ -" : "ClOrdID must be 1-16 bytes");
        return;
    }
    fix_order *o = order_find(fg, c->user, &oid);
    if (o && (o->cxl || o->state == FO_PENDING_REPLACE)) {
        send_cxl_reject(fg, s, o, clordid, cl, orig, ol, to, 3, "A cancel of this order is already pending");
        return;
    }
    if (o && o->state == FO_GONE) {
        send_cxl_reject(fg, s, o, clordid, cl, orig, ol, to, 0, "Too late: the order is done");
        return;
    }
    if (!gw_rate_ok(fg->g, c)) {
        send_cxl_reject(fg, s, o, clordid, cl, orig, ol, to, 99,
                        "RATE_LIMIT: the session's order rate was exceeded");
        return;
    }
    bourse_cmd cmd = {.type = BOURSE_CMD_CANCEL, .oid = oid, .order = o ? o->handle : 0};
    if (!replace) {
        if (!o && !(o = order_add(fg, c->user, &oid))) {
            send_cxl_reject(fg, s, NULL, clordid, cl, orig, ol, to, 99, "CAPACITY: out of memory");
            return;
        }
        if (!o->qty) { /* not known here (entered before a restart): what the events say */
            o->side = fix_is(m, 54, "2") ? BOURSE_SELL : BOURSE_BUY;
            symbol_ok(fix_get(m, 55, &ol), ol, &o->sym);
        }
        o->cxl = 1;
        o->req = req;
        submit(fg, c, &cmd);
        return;
    }
    int64_t qty, price;
    if (!fix_is(m, 40, "2")) {
        send_cxl_reject(fg, s, o, clordid, cl, orig, ol, to, 99, "OrdType of a replace must be 2 (limit)");
        return;
    }
    if (fix_get_decimal(m, 38, 0, BOURSE_QTY_MAX, &qty) != 0 || qty < 1) {
        send_cxl_reject(fg, s, o, clordid, cl, orig, ol, to, 99, "OrderQty must be 1 to 100000000 shares");
        return;
    }
    if (fix_get_decimal(m, 44, 4, BOURSE_PRICE_MAX, &price) != 0 || price < 1) {
        send_cxl_reject(fg, s, o, clordid, cl, orig, ol, to, 99,
                        "Price must be 0.0001 to 1000000 with at most 4 decimals");
        return;
    }
    int64_t cum = o ? o->cum : 0;
    if (qty <= cum) {
        send_cxl_reject(fg, s, o, clordid, cl, orig, ol, to, 99, "OrderQty must be above CumQty");
        return;
    }
    if (order_find(fg, c->user, &req)) {
        send_cxl_reject(fg, s, o, clordid, cl, orig, ol, to, 6, "Duplicate ClOrdID");
        return;
    }
    fix_order *n = order_add(fg, c->user, &req);
    if (!n) {
        send_cxl_reject(fg, s, o, clordid, cl, orig, ol, to, 99, "CAPACITY: out of memory");
        return;
    }
    n->state = FO_PENDING_REPLACE;
    n->req = oid;
    n->qty = qty;
    n->price = price;
    n->side = fix_is(m, 54, "2") ? BOURSE_SELL : BOURSE_BUY;
    symbol_ok(fix_get(m, 55, &ol), ol, &n->sym);
    cmd.type = BOURSE_CMD_REPLACE;
    cmd.new_oid = req;
    cmd.qty = qty - cum;
    cmd.price = price;
    submit(fg, c, &cmd);
}

static void status_request(fix_gw *fg, fix_sess *s, conn *c, const fix_msg *m)
{
    static const uint32_t req[] = {11, 54, 0};
    if (required(fg, s, m, req) != 0)
        return;
    size_t cl;
    const char *clordid = fix_get(m, 11, &cl);
    bourse_name oid;
    fix_order *o = name_ok(clordid, cl, &oid, 0) ? order_find(fg, c->user, &oid) : NULL;
    if (!o || o->state == FO_GONE || o->state == FO_PENDING_REPLACE) {
        local_reject(fg, s, c->user, m, 5, "Unknown order");
        return;
    }
    char id[48];
    exec_id_local(fg, 'S', c->user, id, sizeof id);
    er r = {
        .type = 'I', .status = status_of(o), .rej = -1, .clordid = clordid, .clordid_len = cl, .exec_id = id};
    send_er(fg, s, o, &r);
}

/* A request the client sends again (PossDupFlag=Y, after a ResendRequest,
 * typically to a node that took over) that the log already holds: a new
 * order or a replace whose ClOrdID it knows, a cancel of an order it
 * canceled, since the session's checkpoint before last (fix_sess.ids) or
 * still open.  Dropped, so the client is not answered twice. */
static int possdup_known(fix_gw *fg, fix_sess *s, conn *c, const fix_msg *m, char type)
{
    size_t n;
    bourse_name id;
    if (type == 'D' || type == 'G') {
        const char *v = fix_get(m, 11, &n);
        return name_ok(v, n, &id, 0) && (order_find(fg, c->user, &id) || fixs_known(s, &id, 'N'));
    }
    if (type == 'F') {
        const char *v = fix_get(m, 41, &n);
        return name_ok(v, n, &id, 1) && fixs_known(s, &id, 'C');
    }
    return 0;
}

void fixa_message(fix_gw *fg, fix_sess *s, conn *c, const fix_msg *m, const char *type)
{
    if (fg->possdup && possdup_known(fg, s, c, m, type[0])) {
        gw_log_conn(fg->g, c, "FIX PossDup %s already in the log: dropped", type);
        return;
    }
    if (s->dropcopy) {
        uint64_t seq = 0;
        fix_get_u64(m, 34, &seq);
        char buf[FIX_OUT_MAX];
        fix_writer w;
        fixs_begin(fg, s, &w, buf, "j");
        fix_put_int(&w, 45, (int64_t)seq);
        fix_puts(&w, 372, type);
        fix_put_int(&w, 380, 6);
        fix_puts(&w, 58, "a drop copy session is read-only");
        fixs_send(fg, s, &w, 1);
        return;
    }
    switch (type[0]) {
    case 'D': new_order(fg, s, c, m); break;
    case 'F': cancel_or_replace(fg, s, c, m, 0); break;
    case 'G': cancel_or_replace(fg, s, c, m, 1); break;
    case 'H': status_request(fg, s, c, m); break;
    }
}

/* --- events out ----------------------------------------------------------- */

/* The entry of an event's order, made from the event when unknown. */
static fix_order *known(fix_gw *fg, uint32_t user, const bourse_name *oid, const srv_out *o)
{
    fix_order *e = order_find(fg, user, oid);
    if (!e && (e = order_add(fg, user, oid)) != NULL) {
        e->side = o->ev.side;
        e->sym = o->sym;
        e->tif = o->tif;
        e->price = o->ev.price;
    }
    return e;
}

/* The user's own session here, or NULL. */
static fix_sess *own(fix_gw *fg, uint32_t user)
{
    return user != BOURSE_NONE && gw_is_home(fg->g, user) ? fixs_get(fg, user) : NULL;
}

/* A report to the user's session (us, may be NULL) and to every drop copy
 * session here that covers the order's user (dropcopy.h): the same body,
 * each with its own header and number. */
static void emit(fix_gw *fg, fix_sess *us, const fix_order *e, const er *r)
{
    if (us && !us->dropcopy)
        send_er(fg, us, e, r);
    for (uint32_t i = 0; i < fg->ndc; i++) {
        fix_sess *dc = fixs_get(fg, fg->dc[i]);
        if (dc && dropcopy_covers(&fg->g->s->dc, dc->dc_k, e->user))
            send_er(fg, dc, e, r);
    }
}

static void on_trade_side(fix_gw *fg, const srv_out *o, uint32_t user, const bourse_name *oid, int side)
{
    fix_sess *s = own(fg, user);
    if (!s && !fg->ndc)
        return;
    fix_order *e = known(fg, user, oid, o);
    if (!e)
        return;
    e->side = (uint8_t)side;
    if (e->state == FO_PENDING_NEW)
        e->state = FO_LIVE;
    e->cum += o->ev.qty;
    e->notional += o->ev.qty * o->ev.price;
    if (e->qty < e->cum)
        e->qty = e->cum; /* an order not known here: no more than this is known */
    char st = e->cum >= e->qty ? '2' : '1', id[64];
    exec_id_event(o, user, oid, id, sizeof id);
    er r = {.type = 'F',
            .status = st,
            .rej = -1,
            .clordid = e->oid.s,
            .clordid_len = nlen(e->oid.s, BOURSE_NAME_LEN),
            .last_qty = o->ev.qty,
            .last_px = o->ev.price,
            .exec_id = id};
    emit(fg, s, e, &r);
    if (st == '2')
        order_done(fg, e);
}

void fixa_event(fix_gw *fg, const srv_out *o)
{
    if (o->kind != OUT_EVENT)
        return;
    const bourse_event *ev = &o->ev;
    if (ev->type == BOURSE_EV_TRADE) {
        on_trade_side(fg, o, ev->user, &ev->oid, BOURSE_BUY);
        on_trade_side(fg, o, ev->user2, &ev->oid2, BOURSE_SELL);
        return;
    }
    if (ev->type != BOURSE_EV_ACCEPTED && ev->type != BOURSE_EV_REJECTED && ev->type != BOURSE_EV_CANCELED &&
        ev->type != BOURSE_EV_REPLACED)
        return;
    fix_sess *s = own(fg, ev->user);
    if (ev->user == BOURSE_NONE || (!s && !fg->ndc))
        return;
    if (s) /* what a PossDup resend may repeat (possdup_known) */
        fixs_known_add(s, ev->type == BOURSE_EV_REPLACED ? &ev->oid2 : &ev->oid,
                       ev->type == BOURSE_EV_CANCELED ? 'C' : 'N');
    size_t ol = nlen(ev->oid.s, BOURSE_NAME_LEN);
    fix_order *e = order_find(fg, ev->user, &ev->oid);
    char id[64];
    exec_id_event(o, ev->user, &ev->oid, id, sizeof id);
    switch (ev->type) {
    case BOURSE_EV_ACCEPTED: {
        if (!(e = known(fg, ev->user, &ev->oid, o)))
            return;
        e->state = FO_LIVE;
        e->order_id = o->seq;
        e->handle = ev->order;
        e->side = ev->side;
        e->sym = o->sym;
        e->tif = o->tif;
        e->qty = ev->qty;
        e->price = e->price == BOURSE_MARKET ? BOURSE_MARKET : ev->price;
        er r = {
            .type = '0', .status = '0', .rej = -1, .clordid = ev->oid.s, .clordid_len = ol, .exec_id = id};
        emit(fg, s, e, &r);
        return;
    }
    case BOURSE_EV_REJECTED: {
        const char *text = bourse_reason_name(ev->reason);
        if (e && e->state == FO_PENDING_REPLACE) {
            if (s)
                send_cxl_reject(fg, s, order_find(fg, ev->user, &e->req), ev->oid.s, ol, e->req.s,
                                nlen(e->req.s, BOURSE_NAME_LEN), 2,
                                ev->reason == BOURSE_R_UNKNOWN_ORDER ? 1 : 99, text);
            order_del(fg, e);
            return;
        }
        if (e && e->state != FO_PENDING_NEW && e->cxl) {
            if (s)
                send_cxl_reject(fg, s, e, e->req.s, nlen(e->req.s, BOURSE_NAME_LEN), ev->oid.s, ol, 1,
                                ev->reason == BOURSE_R_UNKNOWN_ORDER ? 1 : 99, text);
            e->cxl = 0;
            if (e->state == FO_GONE || !e->qty)
                order_del(fg, e);
            return;
        }
        fix_order tmp = {
            .user = ev->user, .side = ev->side, .sym = o->sym, .tif = o->tif, .price = ev->price};
        fix_order *x = e && e->state == FO_PENDING_NEW ? e : &tmp;
        er r = {.type = '8',
                .status = '8',
                .rej = reject_reason(ev->reason),
                .clordid = ev->oid.s,
                .clordid_len = ol,
                .text = text,
                .exec_id = id};
        x->cum = 0;
        emit(fg, s, x, &r);
        if (x == e)
            order_done(fg, e);
        return;
    }
    case BOURSE_EV_CANCELED: {
        if (!(e = known(fg, ev->user, &ev->oid, o)))
            return;
        if (!e->qty)
            e->qty = e->cum + ev->qty;
        er r = {.type = '4', .status = '4', .rej = -1, .text = bourse_reason_name(ev->reason), .exec_id = id};
        if (e->cxl) {
            r.clordid = e->req.s;
            r.clordid_len = nlen(e->req.s, BOURSE_NAME_LEN);
            r.orig = ev->oid.s;
            r.orig_len = ol;
        } else {
            r.clordid = ev->oid.s;
            r.clordid_len = ol;
        }
        emit(fg, s, e, &r);
        e->cxl = 0;
        order_del(fg, e);
        return;
    }
    case BOURSE_EV_REPLACED: {
        fix_order *n = order_find(fg, ev->user, &ev->oid2);
        if (!n && !(n = order_add(fg, ev->user, &ev->oid2)))
            return;
        e = order_find(fg, ev->user, &ev->oid); /* n's add may have moved it */
        n->state = FO_LIVE;
        n->side = ev->side;
        n->sym = o->sym;
        n->price = ev->price;
        n->tif = e ? e->tif : o->tif;
        n->cum = e ? e->cum : 0;
        n->notional = e ? e->notional : 0;
        n->order_id = e && e->order_id ? e->order_id : o->seq;
        n->handle = ev->order;
        n->qty = n->cum + ev->qty;
        n->req = (bourse_name){{0}};
        er r = {.type = '5',
                .status = n->cum ? '1' : '0',
                .rej = -1,
                .clordid = ev->oid2.s,
                .clordid_len = nlen(ev->oid2.s, BOURSE_NAME_LEN),
                .orig = ev->oid.s,
                .orig_len = ol,
                .exec_id = id};
        emit(fg, s, n, &r);
        if (e)
            order_del(fg, e);
        return;
    }
    }
}
