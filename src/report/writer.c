/*
 * writer.c - one command and its events into rows: commands, events,
 * accounts, symbols, orders, trades and their two executions, the ledger
 * and the balances.
 *
 * Orders.  An order is a row from its ACCEPTED (or its REJECTED: a refused
 * order is part of the audit trail) with every attribute of its command;
 * TRADE, CANCELED and REPLACED update it.  Events name orders by (user,
 * order id), and ids may be reused on a later trading day (BOURSE_DAY_IDS),
 * so an event's order is the newest non-rejected row with that pair: the
 * engine accepts an id again only once the earlier order is finished.  A
 * replace closes the row (status `replaced`) and opens a new one that
 * names it (`replaces`), so each row has one price and quantity.
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
#include "report_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bourse/text.h"

typedef struct bal {
    int64_t asset, avail, held;
} bal;
typedef struct ubal {
    bal *a;
    int n, cap;
} ubal;
typedef struct leg {
    uint32_t user;
    int held;
    int64_t asset, amount;
} leg;

enum {
    S_CMD,
    S_ACCOUNT,
    S_SYMBOL,
    S_ORDER,
    S_FIND,
    S_FILL,
    S_CANCEL,
    S_REPLACED,
    S_TIF,
    S_EVENT,
    S_TRADE,
    S_TRADE_FEE,
    S_EXEC,
    S_EXEC_FEE,
    S_LEDGER,
    S_BALANCE,
    S_EOD,
    S_COUNT
};

static const char *const SQL[S_COUNT] = {
    [S_CMD] = "INSERT INTO commands VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [S_ACCOUNT] = "INSERT INTO accounts VALUES(?1, ?2, ?3, ?4)",
    [S_SYMBOL] = "INSERT INTO symbols VALUES(?1, ?2, ?3, ?4)",
    [S_ORDER] = "INSERT INTO orders(user_id, oid, symbol_id, side, tif, price, qty, seq, ts, status, reason,"
                " open_qty, filled_qty, replaces, last_seq, last_ts)"
                " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 0, ?13, ?8, ?9)",
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
    [S_EVENT] = "INSERT INTO events VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [S_TRADE] = "INSERT INTO trades VALUES(NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, 0, ?10)",
    [S_TRADE_FEE] = "UPDATE trades SET buy_fee = buy_fee + ?2, sell_fee = sell_fee + ?3 WHERE trade_id = ?1",
    [S_EXEC] = "INSERT INTO executions VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?10)",
    [S_EXEC_FEE] = "UPDATE executions SET fee = fee + ?3 WHERE trade_id = ?1 AND side = ?2",
    [S_LEDGER] = "INSERT INTO ledger VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [S_BALANCE] = "INSERT INTO balances VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(user_id, asset) DO UPDATE"
                  " SET available = excluded.available, held = excluded.held, seq = excluded.seq",
    [S_EOD] = "INSERT INTO eod_positions SELECT ?1, ?2, ?3, user_id, asset, available, held FROM balances",
};

struct rwriter {
    report_db *db;
    sqlite3_stmt *st[S_COUNT];
    ubal *users;
    uint32_t nusers;
    leg *legs;
    int nlegs, caplegs;
    uint32_t *touched;
    int ntouched, captouched;
    bal *q; /* a balance query's answer */
    int nq, capq;
    int64_t next_entry, leg_no;
    /* the command being written */
    const bourse_engine *e;
    bourse_cmd cmd;
    int nev, ok;
    int64_t cmd_order; /* the order the command made or changed (0: none) */
    int64_t trade_id;
    uint64_t events;
    int failed;
    char err[5000];
};

static const char *const EV_NAMES[] = {"",         "OK",       "ERROR", "ACCEPTED", "REJECTED", "TRADE",
                                       "CANCELED", "REPLACED", "LEVEL", "BALANCE",  "FEE"};
static const char *const CMD_NAMES[] = {"",        "symbol",    "user",    "deposit",  "withdraw", "limit",
                                        "open",    "close",     "order",   "cancel",   "replace",  "book",
                                        "balance", "rules",     "fees",    "halt",     "resume",   "block",
                                        "unblock", "cancelall", "haltall", "resumeall"};
static const char *const TIFS[] = {"day", "gtc", "ioc", "fok"};

static const char *side_name(int s)
{
    return s == BOURSE_SELL ? "sell" : "buy";
}

static void fail(rwriter *w, const char *what)
{
    if (!w->failed)
        snprintf(w->err, sizeof w->err, "%s: seq %" PRIu64 ": %s: %s", w->db->path, w->cmd.seq, what,
                 sqlite3_errmsg(w->db->db));
    w->failed = 1;
}

/* Step a statement that returns no row, then reset it. */
static void run(rwriter *w, int s)
{
    if (sqlite3_step(w->st[s]) != SQLITE_DONE)
        fail(w, SQL[s]);
    sqlite3_reset(w->st[s]);
    sqlite3_clear_bindings(w->st[s]);
}

static void bind_name(sqlite3_stmt *st, int i, const char *s, size_t max)
{
    sqlite3_bind_text(st, i, s, (int)strnlen(s, max), SQLITE_TRANSIENT);
}

static void bind_opt(sqlite3_stmt *st, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

rwriter *rwriter_new(report_db *db, char *err, size_t errlen)
{
    rwriter *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->db = db;
    for (int i = 0; i < S_COUNT; i++)
        if (!(w->st[i] = rdb_prepare(db, SQL[i], err, errlen))) {
            rwriter_free(w);
            return NULL;
        }
    return w;
}

void rwriter_free(rwriter *w)
{
    if (!w)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(w->st[i]);
    for (uint32_t u = 0; u < w->nusers; u++)
        free(w->users[u].a);
    free(w->users);
    free(w->legs);
    free(w->touched);
    free(w->q);
    free(w);
}

uint64_t rwriter_events(const rwriter *w)
{
    return w->events;
}

static int grow(void **p, int *cap, int need, size_t size)
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
    if (!add || grow((void **)&u->a, &u->cap, u->n + 1, sizeof *u->a) != 0)
        return NULL;
    u->a[u->n] = (bal){.asset = asset};
    return &u->a[u->n++];
}

int rwriter_resume(rwriter *w, char *err, size_t errlen)
{
    int64_t next = 1;
    if (rdb_int(w->db, "SELECT COALESCE(MAX(entry), 0) + 1 FROM ledger", NULL, &next, err, errlen) != 0)
        return -1;
    w->next_entry = next;
    sqlite3_stmt *st =
        rdb_prepare(w->db, "SELECT user_id, asset, available, held FROM balances", err, errlen);
    if (!st)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        bal *b = cached(w, (uint32_t)sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), 1);
        if (!b) {
            sqlite3_finalize(st);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        b->avail = sqlite3_column_int64(st, 2);
        b->held = sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: %s", w->db->path, sqlite3_errmsg(w->db->db));
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
    if (grow((void **)&w->touched, &w->captouched, w->ntouched + 1, sizeof *w->touched) != 0) {
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
    sqlite3_stmt *st = w->st[S_CMD];
    sqlite3_bind_int64(st, 1, (int64_t)c->seq);
    sqlite3_bind_int64(st, 2, c->ts_ns);
    sqlite3_bind_text(st, 3, c->type < BOURSE_CMD_COUNT_ ? CMD_NAMES[c->type] : "?", -1, SQLITE_STATIC);
    if (has_user(c->type) && c->user < BOURSE_CASH)
        sqlite3_bind_int64(st, 4, c->user);
    if (c->type != BOURSE_CMD_SYMBOL && c->symbol < BOURSE_CASH)
        sqlite3_bind_int64(st, 5, c->symbol);
    sqlite3_bind_text(st, 6, line, (int)n, SQLITE_TRANSIENT);
    run(w, S_CMD);
    return 0;
}

static int64_t find_order(rwriter *w, uint32_t user, const bourse_name *oid)
{
    if (user >= BOURSE_CASH)
        return 0;
    sqlite3_stmt *st = w->st[S_FIND];
    sqlite3_bind_int64(st, 1, user);
    bind_name(st, 2, oid->s, BOURSE_NAME_LEN);
    int64_t id = 0;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        fail(w, "finding an order");
    sqlite3_reset(st);
    return id;
}

static int64_t insert_order(rwriter *w, uint32_t user, const bourse_name *oid, uint32_t symbol, int side,
                            const char *tif, int64_t price, int64_t qty, const char *status,
                            const char *reason, int64_t open, int64_t replaces)
{
    sqlite3_stmt *st = w->st[S_ORDER];
    sqlite3_bind_int64(st, 1, user);
    bind_name(st, 2, oid->s, BOURSE_NAME_LEN);
    if (symbol < BOURSE_CASH)
        sqlite3_bind_int64(st, 3, symbol);
    sqlite3_bind_text(st, 4, side_name(side), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, tif, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, price);
    sqlite3_bind_int64(st, 7, qty);
    sqlite3_bind_int64(st, 8, (int64_t)w->cmd.seq);
    sqlite3_bind_int64(st, 9, w->cmd.ts_ns);
    sqlite3_bind_text(st, 10, status, -1, SQLITE_STATIC);
    if (reason)
        sqlite3_bind_text(st, 11, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, open);
    bind_opt(st, 13, replaces);
    run(w, S_ORDER);
    return sqlite3_last_insert_rowid(w->db->db);
}

static void update(rwriter *w, int s, int64_t order, int64_t a, const char *text)
{
    if (!order)
        return;
    sqlite3_stmt *st = w->st[s];
    sqlite3_bind_int64(st, 1, order);
    if (text)
        sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 2, a);
    sqlite3_bind_int64(st, 3, (int64_t)w->cmd.seq);
    sqlite3_bind_int64(st, 4, w->cmd.ts_ns);
    run(w, s);
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
    sqlite3_stmt *st = w->st[S_LEDGER];
    sqlite3_bind_int64(st, 1, w->next_entry);
    sqlite3_bind_int64(st, 2, ++w->leg_no);
    sqlite3_bind_int64(st, 3, (int64_t)w->cmd.seq);
    sqlite3_bind_int64(st, 4, w->cmd.ts_ns);
    sqlite3_bind_text(st, 5, kind, -1, SQLITE_STATIC);
    if (user < BOURSE_CASH)
        sqlite3_bind_int64(st, 6, user);
    sqlite3_bind_text(st, 7, account, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, asset);
    sqlite3_bind_int64(st, 9, amount);
    bind_opt(st, 10, order);
    bind_opt(st, 11, trade);
    run(w, S_LEDGER);
    if (explicit_leg && user < BOURSE_CASH) {
        if (grow((void **)&w->legs, &w->caplegs, w->nlegs + 1, sizeof *w->legs) != 0) {
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

static void on_trade(rwriter *w, const bourse_event *ev, int64_t *buy, int64_t *sell)
{
    *buy = find_order(w, ev->user, &ev->oid);
    *sell = find_order(w, ev->user2, &ev->oid2);
    const bourse_cmd *c = &w->cmd;
    const bourse_name *mine = c->type == BOURSE_CMD_REPLACE ? &c->new_oid : &c->oid;
    int buyer_took = c->user == ev->user && !memcmp(mine, &ev->oid, sizeof *mine);
    sqlite3_stmt *st = w->st[S_TRADE];
    sqlite3_bind_int64(st, 1, (int64_t)c->seq);
    sqlite3_bind_int64(st, 2, c->ts_ns);
    sqlite3_bind_int64(st, 3, ev->symbol);
    sqlite3_bind_int64(st, 4, ev->price);
    sqlite3_bind_int64(st, 5, ev->qty);
    sqlite3_bind_int64(st, 6, *buy);
    sqlite3_bind_int64(st, 7, *sell);
    sqlite3_bind_int64(st, 8, ev->user);
    sqlite3_bind_int64(st, 9, ev->user2);
    sqlite3_bind_text(st, 10, buyer_took ? "buy" : "sell", -1, SQLITE_STATIC);
    run(w, S_TRADE);
    int64_t t = w->trade_id = sqlite3_last_insert_rowid(w->db->db);
    for (int s = 0; s < 2; s++) {
        st = w->st[S_EXEC];
        sqlite3_bind_int64(st, 1, t);
        sqlite3_bind_text(st, 2, side_name(s), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, s ? *sell : *buy);
        sqlite3_bind_int64(st, 4, s ? ev->user2 : ev->user);
        sqlite3_bind_int64(st, 5, ev->symbol);
        sqlite3_bind_int64(st, 6, ev->qty);
        sqlite3_bind_int64(st, 7, ev->price);
        sqlite3_bind_text(st, 8, (s == BOURSE_BUY) == buyer_took ? "taker" : "maker", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, (int64_t)c->seq);
        sqlite3_bind_int64(st, 10, c->ts_ns);
        run(w, S_EXEC);
    }
    update(w, S_FILL, *buy, ev->qty, NULL);
    update(w, S_FILL, *sell, ev->qty, NULL);
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
    sqlite3_stmt *st = w->st[S_TRADE_FEE];
    sqlite3_bind_int64(st, 1, w->trade_id);
    sqlite3_bind_int64(st, 2, buy ? ev->qty : 0);
    sqlite3_bind_int64(st, 3, buy ? 0 : ev->qty);
    run(w, S_TRADE_FEE);
    st = w->st[S_EXEC_FEE];
    sqlite3_bind_int64(st, 1, w->trade_id);
    sqlite3_bind_text(st, 2, side_name(ev->side), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ev->qty);
    run(w, S_EXEC_FEE);
    /* A buyer's fee comes out of its hold (H(Q) reserves it), a seller's
     * out of what it has; it goes to the FEES account. */
    uint32_t fees = bourse_user_find(w->e, "FEES", 4);
    entry_begin(w);
    post(w, "fee", ev->user, buy ? "held" : "available", REPORT_CASH, -ev->qty, order, w->trade_id, 1);
    post(w, "fee", fees, fees < BOURSE_CASH ? "available" : "fees", REPORT_CASH, ev->qty, 0, w->trade_id, 1);
    entry_end(w);
    touch(w, fees);
}

void rwriter_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    rwriter *w = ctx;
    const bourse_cmd *c = &w->cmd;
    (void)cmd;
    int n = w->nev++;
    if (ev->type == BOURSE_EV_LEVEL || ev->type == BOURSE_EV_BALANCE || w->failed)
        return; /* answers to queries: no state of the exchange */
    int64_t order = 0, order2 = 0;
    switch (ev->type) {
    case BOURSE_EV_OK: w->ok = 1; break;
    case BOURSE_EV_ACCEPTED:
        order = insert_order(w, ev->user, &ev->oid, ev->symbol, ev->side, TIFS[c->tif & 3],
                             c->type == BOURSE_CMD_ORDER ? c->price : ev->price,
                             c->type == BOURSE_CMD_ORDER ? c->qty : ev->qty, "open", NULL, ev->qty, 0);
        w->cmd_order = order;
        touch(w, ev->user);
        break;
    case BOURSE_EV_REJECTED:
        if (c->type == BOURSE_CMD_ORDER && ev->user < BOURSE_CASH)
            order = insert_order(w, ev->user, &ev->oid, c->symbol, c->side, TIFS[c->tif & 3], c->price,
                                 c->qty, "rejected", bourse_reason_name(ev->reason), 0, 0);
        else if (c->type == BOURSE_CMD_CANCEL || c->type == BOURSE_CMD_REPLACE)
            order = find_order(w, c->user, &c->oid);
        break;
    case BOURSE_EV_TRADE:
        on_trade(w, ev, &order, &order2);
        touch(w, ev->user);
        touch(w, ev->user2);
        break;
    case BOURSE_EV_FEE:
        order = find_order(w, ev->user, &ev->oid);
        on_fee(w, ev, order);
        break;
    case BOURSE_EV_CANCELED:
        order = find_order(w, ev->user, &ev->oid);
        update(w, S_CANCEL, order, 0, bourse_reason_name(ev->reason));
        touch(w, ev->user);
        break;
    case BOURSE_EV_REPLACED: {
        order = find_order(w, ev->user, &ev->oid);
        char tif[8] = "day";
        sqlite3_stmt *st = w->st[S_TIF];
        sqlite3_bind_int64(st, 1, order);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(tif, sizeof tif, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_reset(st);
        order2 = insert_order(w, ev->user, &ev->oid2, ev->symbol, ev->side, tif, ev->price, ev->qty, "open",
                              NULL, ev->qty, order);
        update(w, S_REPLACED, order, order2, NULL);
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
    sqlite3_stmt *st = w->st[S_EVENT];
    sqlite3_bind_int64(st, 1, (int64_t)c->seq);
    sqlite3_bind_int64(st, 2, n);
    sqlite3_bind_text(st, 3, ev->type < BOURSE_EV_COUNT_ ? EV_NAMES[ev->type] : "?", -1, SQLITE_STATIC);
    if (ev->reason)
        sqlite3_bind_text(st, 4, bourse_reason_name(ev->reason), -1, SQLITE_STATIC);
    if (ev->user < BOURSE_CASH && ev->type != BOURSE_EV_OK && ev->type != BOURSE_EV_ERROR)
        sqlite3_bind_int64(st, 5, ev->user);
    if (ev->type != BOURSE_EV_OK && ev->type != BOURSE_EV_ERROR && ev->symbol < BOURSE_CASH)
        sqlite3_bind_int64(st, 6, ev->symbol);
    if (ev->type == BOURSE_EV_ACCEPTED || ev->type == BOURSE_EV_CANCELED || ev->type == BOURSE_EV_REPLACED ||
        ev->type == BOURSE_EV_FEE)
        sqlite3_bind_text(st, 7, side_name(ev->side), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, ev->qty);
    sqlite3_bind_int64(st, 9, ev->price);
    bind_opt(st, 10, order);
    bind_opt(st, 11, order2);
    sqlite3_bind_text(st, 12, line, (int)len, SQLITE_TRANSIENT);
    run(w, S_EVENT);
    w->events++;
}

/* ---- after the events: accounts, deposits, holds, end of day ---- */

static void on_balance(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    rwriter *w = ctx;
    (void)cmd;
    if (ev->type != BOURSE_EV_BALANCE)
        return;
    if (grow((void **)&w->q, &w->capq, w->nq + 1, sizeof *w->q) != 0) {
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
                 w->db->path, w->cmd.seq, user, asset, ra, rh);
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
        b->avail = avail;
        b->held = held;
        sqlite3_stmt *st = w->st[S_BALANCE];
        sqlite3_bind_int64(st, 1, user);
        sqlite3_bind_int64(st, 2, asset);
        sqlite3_bind_int64(st, 3, avail);
        sqlite3_bind_int64(st, 4, held);
        sqlite3_bind_int64(st, 5, (int64_t)w->cmd.seq);
        run(w, S_BALANCE);
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

int rwriter_end_cmd(rwriter *w, bourse_engine *e, char *err, size_t errlen)
{
    const bourse_cmd *c = &w->cmd;
    w->e = e;
    if (!w->failed && w->ok) {
        if (c->type == BOURSE_CMD_USER || c->type == BOURSE_CMD_SYMBOL) {
            int user = c->type == BOURSE_CMD_USER;
            const char *name = user ? c->user_name.s : c->symbol_name.s;
            size_t max = user ? BOURSE_NAME_LEN : BOURSE_SYMBOL_LEN;
            uint32_t id = user ? bourse_user_find(e, name, strnlen(name, max))
                               : bourse_symbol_find(e, name, strnlen(name, max));
            sqlite3_stmt *st = w->st[user ? S_ACCOUNT : S_SYMBOL];
            sqlite3_bind_int64(st, 1, id);
            bind_name(st, 2, name, max);
            sqlite3_bind_int64(st, 3, (int64_t)c->seq);
            sqlite3_bind_int64(st, 4, c->ts_ns);
            run(w, user ? S_ACCOUNT : S_SYMBOL);
        } else if (c->type == BOURSE_CMD_DEPOSIT || c->type == BOURSE_CMD_WITHDRAW) {
            int64_t amt = c->type == BOURSE_CMD_DEPOSIT ? c->qty : -c->qty;
            const char *kind = c->type == BOURSE_CMD_DEPOSIT ? "deposit" : "withdrawal";
            entry_begin(w);
            post(w, kind, c->user, "available", asset_of(c->symbol), amt, 0, 0, 1);
            post(w, kind, BOURSE_NONE, "outside", asset_of(c->symbol), -amt, 0, 0, 1);
            entry_end(w);
        }
    }
    for (int i = 0; i < w->ntouched && !w->failed; i++)
        if (settle_user(w, e, w->touched[i]) != 0)
            w->failed = 1;
    if (!w->failed && w->ok && c->type == BOURSE_CMD_CLOSE) {
        char day[16];
        day_of(c->ts_ns, day, sizeof day);
        sqlite3_stmt *st = w->st[S_EOD];
        sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, (int64_t)c->seq);
        sqlite3_bind_int64(st, 3, c->ts_ns);
        run(w, S_EOD);
    }
    if (w->failed) {
        snprintf(err, errlen, "%s", w->err);
        return -1;
    }
    return 0;
}
