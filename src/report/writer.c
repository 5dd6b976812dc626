/*
 * writer.c - one command and its events into rows: commands, events,
 * accounts, symbols, orders, trades and their two executions, the ledger
 * and the balances.
 *
 * Orders (orders.c): a row per order accepted, refused or replaced into,
 * found by (user, order id) and changed by TRADE, CANCELED and REPLACED.
 * A replace closes the row (status `replaced`) and opens a new one that
 * names it (`replaces`), so each row has one price and quantity.
 *
 * What is written when.  Rows only appended (commands, events, trades,
 * executions, ledger legs, new orders) go to the store's buffers and out
 * in multi-row INSERTs (store.h); the orders' and balances' rows that
 * change are kept here and written at the commit (rwriter_flush).
 *
 * The ledger.  Every movement of cash or shares is an entry of two or more
 * legs that sum to zero per asset; a leg moves an amount into (positive)
 * or out of one account: a user's `available` or `held` bucket of an asset,
 * or `outside` (the world beyond the exchange, for deposits and
 * withdrawals).  Trades, fees, deposits and withdrawals are entries of
 * their own, made from the events.  Holds and releases are not in the
 * events (their amounts depend on fee reserves and protection prices the
 * engine keeps to itself), and re-deriving them here would be a second
 * copy of the core's rules free to drift.  So after each command the
 * writer asks its own core for the balances of every user the command
 * touched (a `balance` query: it changes nothing) and posts the part of
 * each change the events do not explain as a hold (available -> held) or
 * release (held -> available).  That part must move as much out of one
 * bucket as into the other: if it does not, the events and the state
 * disagree, and the writer stops with the seq, user and asset rather than
 * write a ledger that does not balance.  So the ledger equals the core's
 * balances after every command, by construction and by check.
 */
#include "writer_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bourse/text.h"

static const char *const SQL[S_COUNT] = {
    [S_ACCOUNT] = "INSERT INTO accounts VALUES(?1, ?2, ?3, ?4)",
    [S_SYMBOL] = "INSERT INTO symbols VALUES(?1, ?2, ?3, ?4)",
    [S_ORDER_SET] = "UPDATE orders SET status = ?2, reason = ?3, open_qty = ?4, filled_qty = ?5,"
                    " replaced_by = ?6, last_seq = ?7, last_ts = ?8 WHERE order_id = ?1",
    [S_FIND] = "SELECT order_id FROM orders WHERE user_id = ?1 AND oid = ?2 AND status <> 'rejected'"
               " ORDER BY order_id DESC LIMIT 1",
    [S_FILL] = "UPDATE orders SET filled_qty = filled_qty + ?2, open_qty = open_qty - ?2,"
               " status = CASE WHEN open_qty - ?2 <= 0 THEN 'filled' ELSE status END,"
               " last_seq = ?3, last_ts = ?4 WHERE order_id = ?1",
    [S_CANCEL] =
        "UPDATE orders SET status = 'canceled', reason = ?2, open_qty = 0, last_seq = ?3, last_ts = ?4"
        " WHERE order_id = ?1",
    [S_REPLACED] = "UPDATE orders SET status = 'replaced', replaced_by = ?2, open_qty = 0, last_seq = ?3,"
                   " last_ts = ?4 WHERE order_id = ?1",
    [S_TIF] = "SELECT tif FROM orders WHERE order_id = ?1",
    [S_BALANCE] = "INSERT INTO balances VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(user_id, asset) DO UPDATE"
                  " SET available = excluded.available, held = excluded.held, seq = excluded.seq",
    [S_EOD] = "INSERT INTO eod_positions SELECT CAST(?1 AS TEXT), CAST(?2 AS BIGINT), CAST(?3 AS BIGINT), "
              "user_id, asset,"
              " available, held FROM balances",
};

/* The tables whose rows are buffered (store.h, rstore_add): appended only,
 * never read or updated while the writer writes.  A trade's fees are added
 * to its row and its executions before they are buffered (trade_done). */
static const struct {
    const char *head;
    int ncols;
} ROWS[S_COUNT] = {
    [S_CMD] = {"INSERT INTO commands VALUES", 6},
    [S_ORDER] = {"INSERT INTO orders VALUES", 18},
    [S_EVENT] = {"INSERT INTO events VALUES", 12},
    [S_TRADE] = {"INSERT INTO trades(seq, ts, symbol_id, price, qty, buy_order_id, sell_order_id, buyer_id,"
                 " seller_id, buy_fee, sell_fee, aggressor, trade_id) VALUES",
                 13},
    [S_EXEC] = {"INSERT INTO executions VALUES", 11},
    [S_LEDGER] = {"INSERT INTO ledger VALUES", 11},
};

static const char *const EV_NAMES[] = {"",         "OK",       "ERROR", "ACCEPTED", "REJECTED", "TRADE",
                                       "CANCELED", "REPLACED", "LEVEL", "BALANCE",  "FEE",      "ACCOUNT"};
static const char *const CMD_NAMES[] = {
    "",       "symbol", "user",    "deposit",   "withdraw", "limit",     "open",    "close",
    "order",  "cancel", "replace", "book",      "balance",  "rules",     "fees",    "halt",
    "resume", "block",  "unblock", "cancelall", "haltall",  "resumeall", "account", "fixsess"};
static const char *const TIFS[] = {"day", "gtc", "ioc", "fok"};

const char *rw_side_name(int s)
{
    return s == BOURSE_SELL ? "sell" : "buy";
}

void rw_fail(rwriter *w, const char *why)
{
    if (!w->failed)
        snprintf(w->err, sizeof w->err, "seq %" PRIu64 ": %s", w->cmd.seq, why);
    w->failed = 1;
}

/* Step a statement that returns no row, then reset it. */
/* Run statement s with n parameters; 1 with *out (the first column of its
 * first row, when out != NULL), 0 without a row, -1 on failure. */
int rw_run(rwriter *w, int s, const rval *p, int n, int64_t *out, char *outs, size_t outslen)
{
    char err[1024];
    int rc = rstore_run(w->db, s, p, n, out, outs, outslen, err, sizeof err);
    if (rc < 0)
        rw_fail(w, err);
    return rc;
}

/* Buffer a row of a ROWS table. */
void rw_add(rwriter *w, int s, const rval *p)
{
    char err[1024];
    if (!w->failed && rstore_add(w->db, s, p, err, sizeof err) != 0)
        rw_fail(w, err);
}

rval rw_name(const char *s, size_t max)
{
    return rv_text(s, (int)strnlen(s, max));
}

rwriter *rwriter_new(rstore *db, char *err, size_t errlen)
{
    rwriter *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->db = db;
    if (!(w->oids = roids_new())) {
        snprintf(err, errlen, "out of memory");
        rwriter_free(w);
        return NULL;
    }
    for (int i = 0; i < S_COUNT; i++)
        if (ROWS[i].head ? rstore_prepare_rows(db, i, ROWS[i].head, ROWS[i].ncols, err, errlen) != 0
                         : rstore_prepare(db, i, SQL[i], err, errlen) != 0) {
            rwriter_free(w);
            return NULL;
        }
    return w;
}

void rwriter_free(rwriter *w)
{
    if (!w)
        return;
    for (uint32_t u = 0; u < w->nusers; u++)
        free(w->users[u].a);
    free(w->users);
    free(w->legs);
    free(w->touched);
    free(w->q);
    free(w->done);
    free(w->dirty);
    roids_free(w->oids);
    free(w);
}

uint64_t rwriter_events(const rwriter *w)
{
    return w->events;
}

int rw_grow(void **p, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return 0;
    int n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, (size_t)n * size);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

static bal *cached(rwriter *w, uint32_t user, int64_t asset, int add)
{
    if (user >= w->nusers) {
        if (!add)
            return NULL;
        uint32_t n = w->nusers ? w->nusers : 64;
        while (n <= user)
            n *= 2;
        ubal *u = realloc(w->users, n * sizeof *u);
        if (!u)
            return NULL;
        memset(u + w->nusers, 0, (n - w->nusers) * sizeof *u);
        w->users = u;
        w->nusers = n;
    }
    ubal *u = &w->users[user];
    for (int i = 0; i < u->n; i++)
        if (u->a[i].asset == asset)
            return &u->a[i];
    if (!add || rw_grow((void **)&u->a, &u->cap, u->n + 1, sizeof *u->a) != 0)
        return NULL;
    u->a[u->n] = (bal){.asset = asset};
    return &u->a[u->n++];
}

static void resume_row(void *ctx, const int64_t *v)
{
    rwriter *w = ctx;
    bal *b = cached(w, (uint32_t)v[0], v[1], 1);
    if (!b) {
        rw_fail(w, "out of memory");
        return;
    }
    b->avail = v[2];
    b->held = v[3];
}

int rwriter_resume(rwriter *w, char *err, size_t errlen)
{
    int64_t next = 1;
    if (rstore_int(w->db, "SELECT COALESCE(MAX(entry), 0) + 1 FROM ledger", &next, err, errlen) != 0)
        return -1;
    w->next_entry = next;
    if (rstore_int(w->db, "SELECT COALESCE(MAX(order_id), 0) + 1 FROM orders", &w->next_order, err, errlen) !=
            0 ||
        rstore_int(w->db, "SELECT COALESCE(MAX(trade_id), 0) + 1 FROM trades", &w->next_trade, err, errlen) !=
            0)
        return -1;
    if (rstore_rows(w->db, "SELECT user_id, asset, available, held FROM balances", resume_row, w, err,
                    errlen) != 0)
        return -1;
    if (w->failed) {
        snprintf(err, errlen, "%s", w->err);
        return -1;
    }
    return 0;
}

static int has_user(int type)
{
    switch (type) {
    case BOURSE_CMD_DEPOSIT:
    case BOURSE_CMD_WITHDRAW:
    case BOURSE_CMD_LIMIT:
    case BOURSE_CMD_ORDER:
    case BOURSE_CMD_CANCEL:
    case BOURSE_CMD_REPLACE:
    case BOURSE_CMD_BALANCE:
    case BOURSE_CMD_BLOCK:
    case BOURSE_CMD_UNBLOCK:
    case BOURSE_CMD_CANCELALL: return 1;
    default: return 0;
    }
}

static void touch(rwriter *w, uint32_t user)
{
    if (user >= BOURSE_CASH)
        return;
    for (int i = 0; i < w->ntouched; i++)
        if (w->touched[i] == user)
            return;
    if (rw_grow((void **)&w->touched, &w->captouched, w->ntouched + 1, sizeof *w->touched) != 0) {
        snprintf(w->err, sizeof w->err, "out of memory");
        w->failed = 1;
        return;
    }
    w->touched[w->ntouched++] = user;
}

int rwriter_begin_cmd(rwriter *w, const bourse_engine *e, const bourse_cmd *cmd, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    w->e = e;
    w->cmd = *cmd;
    w->nev = w->ok = 0;
    w->cmd_order = w->trade_id = 0;
    w->nlegs = w->ntouched = 0;
    w->trade_open = 0;
    /* The command's line needs its names: records carry ids. */
    bourse_cmd *c = &w->cmd;
    if (has_user(c->type) && c->user != BOURSE_NONE) {
        const bourse_name *u = bourse_user_name(e, c->user);
        if (u)
            c->user_name = *u;
        touch(w, c->user);
    }
    if (c->type != BOURSE_CMD_SYMBOL && c->symbol == BOURSE_CASH) {
        memset(&c->symbol_name, 0, sizeof c->symbol_name);
        memcpy(c->symbol_name.s, "CASH", 4);
    } else if (c->type != BOURSE_CMD_SYMBOL && c->symbol != BOURSE_NONE) {
        const bourse_symbol_name *s = bourse_symbol_name_of(e, c->symbol);
        if (s)
            c->symbol_name = *s;
    }
    char line[BOURSE_TEXT_LINE_MAX + 1];
    size_t n = bourse_text_cmd(c, line);
    while (n && line[n - 1] == '\n')
        n--;
    rval p[6] = {rv_int((int64_t)c->seq),
                 rv_int(c->ts_ns),
                 rv_text(c->type < BOURSE_CMD_COUNT_ ? CMD_NAMES[c->type] : "?", -1),
                 {0},
                 {0},
                 rv_text(line, (int)n)};
    if (has_user(c->type) && c->user < BOURSE_CASH)
        p[3] = rv_int(c->user);
    if (c->type != BOURSE_CMD_SYMBOL && c->symbol < BOURSE_CASH)
        p[4] = rv_int(c->symbol);
    rw_add(w, S_CMD, p);
    return 0;
}

/* ---- the ledger ---- */

static void entry_begin(rwriter *w)
{
    w->leg_no = 0;
}

static void entry_end(rwriter *w)
{
    w->next_entry++;
}

/* One leg; user BOURSE_NONE: outside the exchange (account names it). */
static void post(rwriter *w, const char *kind, uint32_t user, const char *account, int64_t asset,
                 int64_t amount, int64_t order, int64_t trade, int explicit_leg)
{
    rval p[11] = {rv_int(w->next_entry), rv_int(++w->leg_no), rv_int((int64_t)w->cmd.seq),
                  rv_int(w->cmd.ts_ns),  rv_text(kind, -1),   user < BOURSE_CASH ? rv_int(user) : (rval){0},
                  rv_text(account, -1),  rv_int(asset),       rv_int(amount),
                  rv_opt(order),         rv_opt(trade)};
    rw_add(w, S_LEDGER, p);
    if (explicit_leg && user < BOURSE_CASH) {
        if (rw_grow((void **)&w->legs, &w->caplegs, w->nlegs + 1, sizeof *w->legs) != 0) {
            snprintf(w->err, sizeof w->err, "out of memory");
            w->failed = 1;
            return;
        }
        w->legs[w->nlegs++] =
            (leg){.user = user, .held = !strcmp(account, "held"), .asset = asset, .amount = amount};
    }
}

static int64_t asset_of(uint32_t symbol)
{
    return symbol == BOURSE_CASH ? REPORT_CASH : (int64_t)symbol;
}

/* The trade being written goes to its buffers, fees included. */
static void trade_done(rwriter *w)
{
    if (!w->trade_open)
        return;
    w->trade_open = 0;
    rw_add(w, S_TRADE, w->trade);
    rw_add(w, S_EXEC, w->exec[0]);
    rw_add(w, S_EXEC, w->exec[1]);
}

static void on_trade(rwriter *w, const bourse_event *ev, int64_t *buy, int64_t *sell)
{
    trade_done(w);
    *buy = rw_find_order(w, ev->user, &ev->oid);
    *sell = rw_find_order(w, ev->user2, &ev->oid2);
    const bourse_cmd *c = &w->cmd;
    const bourse_name *mine = c->type == BOURSE_CMD_REPLACE ? &c->new_oid : &c->oid;
    int buyer_took = c->user == ev->user && !memcmp(mine, &ev->oid, sizeof *mine);
    int64_t t = w->trade_id = w->next_trade++;
    rval p[13] = {rv_int((int64_t)c->seq),
                  rv_int(c->ts_ns),
                  rv_int(ev->symbol),
                  rv_int(ev->price),
                  rv_int(ev->qty),
                  rv_int(*buy),
                  rv_int(*sell),
                  rv_int(ev->user),
                  rv_int(ev->user2),
                  rv_int(0),
                  rv_int(0),
                  rv_text(buyer_took ? "buy" : "sell", -1),
                  rv_int(t)};
    memcpy(w->trade, p, sizeof p);
    for (int s = 0; s < 2; s++) {
        rval x[11] = {rv_int(t),
                      rv_text(rw_side_name(s), -1),
                      rv_int(s ? *sell : *buy),
                      rv_int(s ? ev->user2 : ev->user),
                      rv_int(ev->symbol),
                      rv_int(ev->qty),
                      rv_int(ev->price),
                      rv_int(0),
                      rv_text((s == BOURSE_BUY) == buyer_took ? "taker" : "maker", -1),
                      rv_int((int64_t)c->seq),
                      rv_int(c->ts_ns)};
        memcpy(w->exec[s], x, sizeof x);
    }
    w->trade_open = 1;
    rw_fill(w, ev->user, &ev->oid, *buy, ev->qty);
    rw_fill(w, ev->user2, &ev->oid2, *sell, ev->qty);
    /* Cash from the buyer's hold to the seller, shares from the seller's
     * hold to the buyer. */
    int64_t value = ev->qty * ev->price, sym = ev->symbol;
    entry_begin(w);
    post(w, "trade", ev->user, "held", REPORT_CASH, -value, *buy, t, 1);
    post(w, "trade", ev->user2, "available", REPORT_CASH, value, *sell, t, 1);
    post(w, "trade", ev->user2, "held", sym, -ev->qty, *sell, t, 1);
    post(w, "trade", ev->user, "available", sym, ev->qty, *buy, t, 1);
    entry_end(w);
}

static void on_fee(rwriter *w, const bourse_event *ev, int64_t order)
{
    int buy = ev->side == BOURSE_BUY;
    if (w->trade_open) { /* the engine sends a trade's fees right after it */
        w->trade[buy ? 9 : 10].i += ev->qty;
        w->exec[buy ? 0 : 1][7].i += ev->qty;
    }
    /* A buyer's fee comes out of its hold (H(Q) reserves it), a seller's
     * out of what it has; it goes to the FEES account. */
    uint32_t fees = bourse_user_find(w->e, "FEES", 4);
    entry_begin(w);
    post(w, "fee", ev->user, buy ? "held" : "available", REPORT_CASH, -ev->qty, order, w->trade_id, 1);
    post(w, "fee", fees, fees < BOURSE_CASH ? "available" : "fees", REPORT_CASH, ev->qty, 0, w->trade_id, 1);
    entry_end(w);
    touch(w, fees);
}

static void record_cmd(rwriter *w, const bourse_engine *e, const bourse_cmd *c);

void rwriter_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    rwriter *w = ctx;
    const bourse_cmd *c = &w->cmd;
    if (c->type == BOURSE_CMD_ACCOUNT && cmd->type != BOURSE_CMD_ACCOUNT && ev->type == BOURSE_EV_OK &&
        !w->failed &&
        (cmd->type == BOURSE_CMD_USER || cmd->type == BOURSE_CMD_DEPOSIT ||
         cmd->type == BOURSE_CMD_WITHDRAW)) {
        if (cmd->user != BOURSE_NONE)
            touch(w, cmd->user);
        record_cmd(w, w->e, cmd);
        return;
    }
    int n = w->nev++;
    if (ev->type == BOURSE_EV_LEVEL || ev->type == BOURSE_EV_BALANCE || w->failed)
        return; /* answers to queries: no state of the exchange */
    int64_t order = 0, order2 = 0;
    switch (ev->type) {
    case BOURSE_EV_OK: w->ok = 1; break;
    case BOURSE_EV_ACCEPTED:
        order = rw_insert_order(w, ev->user, &ev->oid, ev->symbol, ev->side, TIFS[c->tif & 3],
                                c->type == BOURSE_CMD_ORDER ? c->price : ev->price,
                                c->type == BOURSE_CMD_ORDER ? c->qty : ev->qty, "open", NULL, ev->qty, 0);
        w->cmd_order = order;
        touch(w, ev->user);
        break;
    case BOURSE_EV_REJECTED:
        if (c->type == BOURSE_CMD_ORDER && ev->user < BOURSE_CASH)
            order = rw_insert_order(w, ev->user, &ev->oid, c->symbol, c->side, TIFS[c->tif & 3], c->price,
                                    c->qty, "rejected", bourse_reason_name(ev->reason), 0, 0);
        else if (c->type == BOURSE_CMD_CANCEL || c->type == BOURSE_CMD_REPLACE)
            order = rw_find_order(w, c->user, &c->oid);
        break;
    case BOURSE_EV_TRADE:
        on_trade(w, ev, &order, &order2);
        touch(w, ev->user);
        touch(w, ev->user2);
        break;
    case BOURSE_EV_FEE:
        order = rw_find_order(w, ev->user, &ev->oid);
        on_fee(w, ev, order);
        break;
    case BOURSE_EV_CANCELED: {
        order = rw_find_order(w, ev->user, &ev->oid);
        roid *r = rw_mine(w, ev->user, &ev->oid, order);
        if (r) {
            r->status = "canceled";
            r->reason = bourse_reason_name(ev->reason);
            r->open = 0;
            rw_changed(w, r);
        } else {
            rw_update(w, S_CANCEL, order, 0, bourse_reason_name(ev->reason));
        }
        touch(w, ev->user);
        break;
    }
    case BOURSE_EV_REPLACED: {
        order = rw_find_order(w, ev->user, &ev->oid);
        char tif[8] = "day";
        roid *r = rw_mine(w, ev->user, &ev->oid, order);
        if (r) { /* closed before the new row is made: it may take r's slot (the same id) */
            snprintf(tif, sizeof tif, "%s", r->tif);
            r->status = "replaced";
            r->replaced_by = w->next_order;
            r->open = 0;
            rw_changed(w, r);
        } else {
            rval p[1] = {rv_int(order)};
            rw_run(w, S_TIF, p, 1, NULL, tif, sizeof tif);
        }
        order2 = rw_insert_order(w, ev->user, &ev->oid2, ev->symbol, ev->side, tif, ev->price, ev->qty,
                                 "open", NULL, ev->qty, order);
        if (!r)
            rw_update(w, S_REPLACED, order, order2, NULL);
        w->cmd_order = order2;
        touch(w, ev->user);
        break;
    }
    default: break;
    }
    char line[BOURSE_TEXT_LINE_MAX + 1];
    size_t len = bourse_text_event(w->e, c, ev, line);
    while (len && line[len - 1] == '\n')
        len--;
    int has_side = ev->type == BOURSE_EV_ACCEPTED || ev->type == BOURSE_EV_CANCELED ||
                   ev->type == BOURSE_EV_REPLACED || ev->type == BOURSE_EV_FEE;
    int named = ev->type != BOURSE_EV_OK && ev->type != BOURSE_EV_ERROR;
    rval p[12] = {rv_int((int64_t)c->seq),
                  rv_int(n),
                  rv_text(ev->type < BOURSE_EV_COUNT_ ? EV_NAMES[ev->type] : "?", -1),
                  ev->reason ? rv_text(bourse_reason_name(ev->reason), -1) : (rval){0},
                  named && ev->user < BOURSE_CASH ? rv_int(ev->user) : (rval){0},
                  named && ev->symbol < BOURSE_CASH ? rv_int(ev->symbol) : (rval){0},
                  has_side ? rv_text(rw_side_name(ev->side), -1) : (rval){0},
                  rv_int(ev->qty),
                  rv_int(ev->price),
                  rv_opt(order),
                  rv_opt(order2),
                  rv_text(line, (int)len)};
    rw_add(w, S_EVENT, p);
    w->events++;
}

/* ---- after the events: accounts, deposits, holds, end of day ---- */

static void on_balance(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    rwriter *w = ctx;
    (void)cmd;
    if (ev->type != BOURSE_EV_BALANCE)
        return;
    if (rw_grow((void **)&w->q, &w->capq, w->nq + 1, sizeof *w->q) != 0) {
        snprintf(w->err, sizeof w->err, "out of memory");
        w->failed = 1;
        return;
    }
    w->q[w->nq++] = (bal){.asset = asset_of(ev->symbol), .avail = ev->qty, .held = ev->count};
}

/* The change of one (user, asset) from old to now, less what the events'
 * legs explain, is a hold or a release. */
static int settle(rwriter *w, uint32_t user, int64_t asset, int64_t avail, int64_t held)
{
    bal *b = cached(w, user, asset, 1);
    if (!b) {
        snprintf(w->err, sizeof w->err, "out of memory");
        return -1;
    }
    int64_t ea = 0, eh = 0;
    for (int i = 0; i < w->nlegs; i++)
        if (w->legs[i].user == user && w->legs[i].asset == asset)
            *(w->legs[i].held ? &eh : &ea) += w->legs[i].amount;
    int64_t ra = avail - b->avail - ea, rh = held - b->held - eh;
    if (ra != -rh) {
        snprintf(w->err, sizeof w->err,
                 "%s: seq %" PRIu64 ": the ledger does not balance for user %u asset %" PRId64
                 ": available moved %" PRId64 " and held %" PRId64 " beyond what the events say",
                 rstore_name(w->db), w->cmd.seq, user, asset, ra, rh);
        return -1;
    }
    if (rh) {
        const char *kind = rh > 0 ? "hold" : "release";
        entry_begin(w);
        post(w, kind, user, "available", asset, -rh, w->cmd_order, 0, 0);
        post(w, kind, user, "held", asset, rh, w->cmd_order, 0, 0);
        entry_end(w);
    }
    if (avail != b->avail || held != b->held) {
        /* Written at the commit (rwriter_flush): the row is the state at
         * the transaction's last seq, one statement however often the
         * balance moved. */
        if (!b->dirty) {
            if (rw_grow((void **)&w->dirty, &w->capdirty, w->ndirty + 1, sizeof *w->dirty) != 0) {
                snprintf(w->err, sizeof w->err, "out of memory");
                return -1;
            }
            w->dirty[w->ndirty].user = user;
            w->dirty[w->ndirty++].i = (int)(b - w->users[user].a);
            b->dirty = 1;
        }
        b->avail = avail;
        b->held = held;
        b->seq = (int64_t)w->cmd.seq;
    }
    return w->failed ? -1 : 0;
}

static int settle_user(rwriter *w, bourse_engine *e, uint32_t user)
{
    bourse_cmd q = {.type = BOURSE_CMD_BALANCE, .user = user, .symbol = BOURSE_NONE, .seq = w->cmd.seq};
    w->nq = 0;
    bourse_engine_apply(e, &q, on_balance, w);
    if (w->failed)
        return -1;
    for (int i = 0; i < w->nq; i++)
        if (settle(w, user, w->q[i].asset, w->q[i].avail, w->q[i].held) != 0)
            return -1;
    /* Assets the answer does not list (never held) that legs touched. */
    for (int i = 0; i < w->nlegs; i++) {
        if (w->legs[i].user != user)
            continue;
        int listed = 0;
        for (int k = 0; k < w->nq && !listed; k++)
            listed = w->q[k].asset == w->legs[i].asset;
        if (!listed && settle(w, user, w->legs[i].asset, 0, 0) != 0)
            return -1;
    }
    return 0;
}

static void day_of(int64_t ts, char *out, size_t n)
{
    time_t t = (time_t)(ts / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%d", &tm);
}

/* A user listed, cash or shares moved in: its row, its ledger entry.  c is
 * the journal's command, or one an account command ran inside the core
 * (the user of an approval, the deposit of an approved funding request:
 * bourse/account.h), seen by its OK. */
static void record_cmd(rwriter *w, const bourse_engine *e, const bourse_cmd *c)
{
    if (c->type == BOURSE_CMD_USER || c->type == BOURSE_CMD_SYMBOL) {
        int user = c->type == BOURSE_CMD_USER;
        const char *name = user ? c->user_name.s : c->symbol_name.s;
        size_t max = user ? BOURSE_NAME_LEN : BOURSE_SYMBOL_LEN;
        uint32_t id = user ? bourse_user_find(e, name, strnlen(name, max))
                           : bourse_symbol_find(e, name, strnlen(name, max));
        rval p[4] = {rv_int(id), rw_name(name, max), rv_int((int64_t)c->seq), rv_int(c->ts_ns)};
        rw_run(w, user ? S_ACCOUNT : S_SYMBOL, p, 4, NULL, NULL, 0);
    } else if (c->type == BOURSE_CMD_DEPOSIT || c->type == BOURSE_CMD_WITHDRAW) {
        int64_t amt = c->type == BOURSE_CMD_DEPOSIT ? c->qty : -c->qty;
        const char *kind = c->type == BOURSE_CMD_DEPOSIT ? "deposit" : "withdrawal";
        entry_begin(w);
        post(w, kind, c->user, "available", asset_of(c->symbol), amt, 0, 0, 1);
        post(w, kind, BOURSE_NONE, "outside", asset_of(c->symbol), -amt, 0, 0, 1);
        entry_end(w);
    }
}

/* The balances changed since the last commit, into their table. */
static void write_balances(rwriter *w)
{
    for (int i = 0; i < w->ndirty && !w->failed; i++) {
        uint32_t user = w->dirty[i].user;
        bal *b = &w->users[user].a[w->dirty[i].i];
        rval p[5] = {rv_int(user), rv_int(b->asset), rv_int(b->avail), rv_int(b->held), rv_int(b->seq)};
        rw_run(w, S_BALANCE, p, 5, NULL, NULL, 0);
        b->dirty = 0;
    }
    w->ndirty = 0;
}

int rwriter_flush(rwriter *w, char *err, size_t errlen)
{
    rw_write_orders(w);
    write_balances(w);
    if (w->failed) {
        snprintf(err, errlen, "%s", w->err);
        return -1;
    }
    return rstore_flush(w->db, err, errlen);
}

void rwriter_discard(rwriter *w)
{
    rstore_discard(w->db);
    for (int i = 0; i < w->ndirty; i++)
        w->users[w->dirty[i].user].a[w->dirty[i].i].dirty = 0;
    w->ndirty = 0;
}

int rwriter_end_cmd(rwriter *w, bourse_engine *e, char *err, size_t errlen)
{
    const bourse_cmd *c = &w->cmd;
    w->e = e;
    trade_done(w);
    if (!w->failed && w->ok)
        record_cmd(w, e, c);
    for (int i = 0; i < w->ntouched && !w->failed; i++)
        if (settle_user(w, e, w->touched[i]) != 0)
            w->failed = 1;
    if (!w->failed && w->ok && c->type == BOURSE_CMD_CLOSE) {
        char day[16];
        day_of(c->ts_ns, day, sizeof day);
        rval p[3] = {rv_text(day, -1), rv_int((int64_t)c->seq), rv_int(c->ts_ns)};
        write_balances(w); /* the positions are read from them */
        rw_run(w, S_EOD, p, 3, NULL, NULL, 0);
    }
    if (w->failed) {
        snprintf(err, errlen, "%s", w->err);
        return -1;
    }
    return 0;
}
