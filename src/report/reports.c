/*
 * reports.c - the reports read from the database: trade history, account
 * statement, end-of-day settlement, the audit trail of an order and the
 * surveillance queries (P&L and reconciliation have files of their own).
 *
 * Each is one or a few SQL queries over the tables writer.c fills; amounts
 * stay integers (1/10,000 units) until out.c spells them.  Periods are
 * inclusive at both ends and compare the sequencer's timestamps, the one
 * clock of the exchange: a replay gives the same reports.
 */
#include "bourse/text.h"
#include "report_int.h"
#include "store.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int report_parse_time(const char *s, int end, int64_t *out)
{
    char *p;
    if (!strchr(s, '-')) {
        long long v = strtoll(s, &p, 10);
        if (*p || v < 0)
            return -1;
        *out = v;
        return 0;
    }
    struct tm tm = {0};
    p = strptime(s, "%Y-%m-%d", &tm);
    if (!p)
        return -1;
    int date_only = !*p;
    if (*p == 'T' || *p == ' ') {
        p = strptime(p + 1, "%H:%M:%S", &tm);
        if (!p || (*p && strcmp(p, "Z") != 0))
            return -1;
    } else if (*p) {
        return -1;
    }
    int64_t sec = (int64_t)timegm(&tm);
    *out = sec * 1000000000 + (end ? (date_only ? 86400LL * 1000000000 - 1 : 999999999) : 0);
    return 0;
}

static void row_int(void *ctx, int n, const rcell *c)
{
    if (n > 0 && c[0].kind == RV_INT)
        *(int64_t *)ctx = c[0].i;
}

/* The parameters of a report's queries (store.h, RQ_PARAMS). */
static void params(const report_query *q, int64_t user, rval *p)
{
    p[0] = rv_int(user);
    p[1] = rv_int(q->from_ns);
    p[2] = rv_int(q->to_ns);
    p[3] = q->symbol ? rv_text(q->symbol, -1) : (rval){0};
    p[4] = q->oid ? rv_text(q->oid, -1) : (rval){0};
    p[5] = rv_int(q->volume);
    p[6] = q->user ? rv_text(q->user, -1) : (rval){0};
}

int64_t report_user_id(rstore *db, const report_query *q, char *err, size_t errlen)
{
    int64_t id = -1;
    if (!q->user) {
        snprintf(err, errlen, "this report needs --user NAME");
        return -1;
    }
    rval p[RQ_PARAMS];
    params(q, 0, p);
    if (rstore_query(db, "SELECT user_id FROM accounts WHERE name = ?7", p, row_int, &id, err, errlen) != 0)
        return -1;
    if (id < 0)
        snprintf(err, errlen, "no account named '%s' in the report database", q->user);
    return id;
}

static void row_out(void *ctx, int n, const rcell *c)
{
    rout *o = ctx;
    for (int i = 0; i < n; i++) {
        if (c[i].kind == RV_INT)
            rout_int(o, c[i].i);
        else if (c[i].kind == RV_TEXT)
            rout_text(o, c[i].s);
        else
            rout_null(o);
    }
}

int report_query_out(rstore *db, rout *o, const char *title, const char *cols, const char *sql,
                     const report_query *q, int64_t user, char *err, size_t errlen)
{
    rval p[RQ_PARAMS];
    params(q, user, p);
    rout_section(o, title, cols);
    return rstore_query(db, sql, p, row_out, o, err, errlen);
}

#define query report_query_out

#define ASSET_NAME "(SELECT name FROM assets a WHERE a.asset = %s)"

static int history(rstore *db, const report_query *q, rout *o, char *err, size_t errlen)
{
    int64_t u = report_user_id(db, q, err, errlen);
    if (u < 0)
        return -1;
    return query(
        db, o, "trades", "trade:i,seq:i,time:s,symbol,side,order,tif,qty:i,price:d,value:d,fee:d,liquidity",
        "SELECT x.trade_id, x.seq, x.ts, s.name, x.side, o.oid, o.tif, x.qty, x.price, x.qty * x.price,"
        " x.fee, x.liquidity FROM executions x JOIN orders o USING(order_id)"
        " JOIN symbols s ON s.symbol_id = x.symbol_id"
        " WHERE x.user_id = ?1 AND x.ts BETWEEN ?2 AND ?3 AND (?4 IS NULL OR s.name = ?4)"
        " ORDER BY x.seq, x.trade_id",
        q, u, err, errlen);
}

/* Balances at the period's ends and every movement between, with a
 * running balance per asset; holds and releases move nothing between the
 * user and anyone else, so they are left out. */
static int statement(rstore *db, const report_query *q, rout *o, char *err, size_t errlen)
{
    int64_t u = report_user_id(db, q, err, errlen);
    if (u < 0)
        return -1;
    if (query(db, o, "balances", "asset,opening,closing,available,held",
              "SELECT a.name, fmt(COALESCE(SUM(CASE WHEN l.ts < ?2 THEN l.amount END), 0), l.asset),"
              " fmt(COALESCE(SUM(CASE WHEN l.ts <= ?3 THEN l.amount END), 0), l.asset),"
              " fmt(COALESCE(SUM(CASE WHEN l.ts <= ?3 AND l.account = 'available' THEN l.amount END), 0), "
              "l.asset),"
              " fmt(COALESCE(SUM(CASE WHEN l.ts <= ?3 AND l.account = 'held' THEN l.amount END), 0), l.asset)"
              " FROM ledger l JOIN assets a USING(asset) WHERE l.user_id = ?1"
              " GROUP BY l.asset, a.name ORDER BY l.asset = -1 DESC, a.name",
              q, u, err, errlen) != 0)
        return -1;
    /* Shares are whole numbers, cash 1/10,000s: one decimal column would
     * misspell one of them, so the amount is text spelled per asset. */
    return query(
        db, o, "movements", "entry:i,seq:i,time:s,kind,asset,amount,balance,order,trade:i",
        "WITH m AS (SELECT l.entry, l.seq, l.ts, l.kind, l.asset, SUM(l.amount) AS amount,"
        " MAX(l.order_id) AS order_id, MAX(l.trade_id) AS trade_id FROM ledger l"
        " WHERE l.user_id = ?1 AND l.ts <= ?3 GROUP BY l.entry, l.asset, l.seq, l.ts, l.kind"
        " HAVING SUM(l.amount) <> 0),"
        " r AS (SELECT m.*, SUM(amount) OVER (PARTITION BY asset ORDER BY entry) AS balance FROM m)"
        " SELECT r.entry, r.seq, r.ts, r.kind, a.name, fmt(r.amount, r.asset), fmt(r.balance, r.asset),"
        " o.oid, r.trade_id FROM r JOIN assets a USING(asset) LEFT JOIN orders o USING(order_id)"
        " WHERE r.ts >= ?2 ORDER BY r.entry, r.asset",
        q, u, err, errlen);
}

static int last_trade_day(rstore *db, char *day, size_t n, char *err, size_t errlen)
{
    int64_t ts = -1;
    if (rstore_int(db, "SELECT COALESCE(MAX(ts), -1) FROM trades", &ts, err, errlen) != 0)
        return -1;
    if (ts < 0 && rstore_int(db, "SELECT COALESCE(MAX(ts), 0) FROM commands", &ts, err, errlen) != 0)
        return -1;
    time_t t = (time_t)(ts / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(day, n, "%Y-%m-%d", &tm);
    return 0;
}

static int eod(rstore *db, const report_query *q0, rout *o, char *err, size_t errlen)
{
    char day[32];
    if (q0->date)
        snprintf(day, sizeof day, "%s", q0->date);
    else if (last_trade_day(db, day, sizeof day, err, errlen) != 0)
        return -1;
    report_query q = *q0;
    if (report_parse_time(day, 0, &q.from_ns) != 0 || report_parse_time(day, 1, &q.to_ns) != 0 ||
        strlen(day) != 10) {
        snprintf(err, errlen, "eod: --date wants YYYY-MM-DD, not '%s'", day);
        return -1;
    }
    rout_section(o, "day", "date");
    rout_text(o, day);
    if (query(db, o, "settlement",
              "user,symbol,bought:i,bought_value:d,sold:i,sold_value:d,fees:d,net_cash:d,net_shares:i",
              "SELECT u.name, s.name, SUM(CASE WHEN x.side = 'buy' THEN x.qty ELSE 0 END),"
              " SUM(CASE WHEN x.side = 'buy' THEN x.qty * x.price ELSE 0 END),"
              " SUM(CASE WHEN x.side = 'sell' THEN x.qty ELSE 0 END),"
              " SUM(CASE WHEN x.side = 'sell' THEN x.qty * x.price ELSE 0 END), SUM(x.fee),"
              " SUM(CASE WHEN x.side = 'sell' THEN x.qty * x.price ELSE -x.qty * x.price END) - SUM(x.fee),"
              " SUM(CASE WHEN x.side = 'buy' THEN x.qty ELSE -x.qty END)"
              " FROM executions x JOIN accounts u USING(user_id) JOIN symbols s USING(symbol_id)"
              " WHERE x.ts BETWEEN ?2 AND ?3 GROUP BY x.user_id, x.symbol_id, u.name, s.name ORDER BY "
              "u.name, s.name",
              &q, 0, err, errlen) != 0)
        return -1;
    if (query(db, o, "ohlcv", "symbol,open:d,high:d,low:d,close:d,volume:i,value:d,trades:i",
              "SELECT s.name, (SELECT price FROM trades f WHERE f.symbol_id = t.symbol_id AND f.ts BETWEEN "
              "?2 AND"
              " ?3 ORDER BY trade_id LIMIT 1), MAX(t.price), MIN(t.price),"
              " (SELECT price FROM trades l WHERE l.symbol_id = t.symbol_id AND l.ts BETWEEN ?2 AND ?3"
              " ORDER BY trade_id DESC LIMIT 1), SUM(t.qty), SUM(t.qty * t.price), COUNT(*)"
              " FROM trades t JOIN symbols s USING(symbol_id) WHERE t.ts BETWEEN ?2 AND ?3"
              " GROUP BY t.symbol_id, s.name ORDER BY s.name",
              &q, 0, err, errlen) != 0)
        return -1;
    return query(db, o, "positions", "close_seq:i,user,asset,available,held",
                 "SELECT p.seq, u.name, a.name, fmt(p.available, p.asset), fmt(p.held, p.asset)"
                 " FROM eod_positions p JOIN accounts u USING(user_id) JOIN assets a USING(asset)"
                 " WHERE p.seq = (SELECT MAX(seq) FROM eod_positions WHERE ts BETWEEN ?2 AND ?3)"
                 " AND (p.available <> 0 OR p.held <> 0) ORDER BY u.name, p.asset = -1 DESC, a.name",
                 &q, 0, err, errlen);
}

/* Every order that (user, order id) named (ids may come back on later
 * days), and the replaces before and after each. */
#define CHAIN                                                                                                \
    "WITH RECURSIVE chain(id) AS (SELECT order_id FROM orders WHERE user_id = ?1 AND oid = ?5"               \
    " UNION SELECT o.order_id FROM orders o JOIN chain ON o.replaces = chain.id OR "                         \
    "o.replaced_by = chain.id) "

static int audit(rstore *db, const report_query *q, rout *o, char *err, size_t errlen)
{
    int64_t u = report_user_id(db, q, err, errlen);
    if (u < 0)
        return -1;
    if (!q->oid) {
        snprintf(err, errlen, "audit needs --order OID");
        return -1;
    }
    int64_t n = 0;
    rval p[RQ_PARAMS];
    params(q, u, p);
    if (rstore_query(db, "SELECT count(*) FROM orders WHERE user_id = ?1 AND oid = ?5", p, row_int, &n, err,
                     errlen) != 0)
        return -1;
    if (!n) {
        snprintf(err, errlen, "no order '%s' in the report database", q->oid);
        return -1;
    }
    if (query(
            db, o, "orders",
            "order:i,user,oid,symbol,side,tif,price:d,qty:i,seq:i,time:s,status,reason,filled:i,open:i,"
            "replaces:i,replaced_by:i",
            CHAIN
            "SELECT o.order_id, u.name, o.oid, s.name, o.side, o.tif, o.price, o.qty, o.seq, o.ts, o.status,"
            " o.reason, o.filled_qty, o.open_qty, o.replaces, o.replaced_by FROM orders o"
            " JOIN accounts u USING(user_id) LEFT JOIN symbols s USING(symbol_id)"
            " WHERE o.order_id IN (SELECT id FROM chain) ORDER BY o.order_id",
            q, u, err, errlen) != 0)
        return -1;
    return query(db, o, "trail", "seq:i,n:i,time:s,what,line",
                 CHAIN
                 ", ev AS (SELECT * FROM events WHERE order_id IN (SELECT id FROM chain) OR order2_id IN "
                 "(SELECT id FROM chain))"
                 " SELECT c.seq, NULL, c.ts, 'command', c.line FROM commands c"
                 " WHERE c.seq IN (SELECT seq FROM ev)"
                 " UNION ALL SELECT e.seq, e.n, c.ts, 'event', e.line FROM ev e JOIN commands c USING(seq)"
                 " ORDER BY 1, 2 NULLS FIRST",
                 q, u, err, errlen);
}

static int surveillance(rstore *db, const report_query *q, rout *o, char *err, size_t errlen)
{
    if (query(
            db, o, "self_trades_prevented", "seq:i,time:s,event,user,symbol,order,side,qty:i,price:d",
            "SELECT e.seq, c.ts, e.type, u.name, s.name, o.oid, o.side, e.qty, o.price FROM events e"
            " JOIN commands c USING(seq) LEFT JOIN accounts u ON u.user_id = e.user_id"
            " LEFT JOIN orders o ON o.order_id = e.order_id LEFT JOIN symbols s ON s.symbol_id = o.symbol_id"
            " WHERE e.reason = 'SELF_TRADE' AND c.ts BETWEEN ?2 AND ?3 ORDER BY e.seq, e.n",
            q, 0, err, errlen) != 0)
        return -1;
    return query(db, o, "large_traders", "user,trades:i,volume:i,bought:i,sold:i,value:d",
                 "SELECT u.name, COUNT(*), SUM(x.qty), SUM(CASE WHEN x.side = 'buy' THEN x.qty ELSE 0 END),"
                 " SUM(CASE WHEN x.side = 'sell' THEN x.qty ELSE 0 END), SUM(x.qty * x.price)"
                 " FROM executions x JOIN accounts u USING(user_id) WHERE x.ts BETWEEN ?2 AND ?3"
                 " GROUP BY x.user_id, u.name HAVING SUM(x.qty) >= ?6 ORDER BY SUM(x.qty) DESC, u.name",
                 q, 0, err, errlen);
}

/* fmt(amount, asset): cash as a decimal of 1/10,000s, shares whole. */
static void fmt_fn(sqlite3_context *ctx, int n, sqlite3_value **v)
{
    (void)n;
    if (sqlite3_value_type(v[0]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    int64_t amount = sqlite3_value_int64(v[0]);
    char buf[64];
    if (sqlite3_value_int64(v[1]) == REPORT_CASH) {
        bourse_text_decimal(amount, buf);
    } else {
        snprintf(buf, sizeof buf, "%lld", (long long)amount);
    }
    sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

void report_sqlite_functions(sqlite3 *db)
{
    sqlite3_create_function(db, "fmt", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, fmt_fn, NULL, NULL);
}

int report_run(rstore *db, const char *name, const report_query *q, FILE *f, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        int (*fn)(rstore *, const report_query *, rout *, char *, size_t);
    } reports[] = {{"history", history},
                   {"statement", statement},
                   {"pnl", report_pnl},
                   {"eod", eod},
                   {"audit", audit},
                   {"surveillance", surveillance},
                   {"reconcile", report_reconcile}};
    for (size_t i = 0; i < sizeof reports / sizeof *reports; i++) {
        if (strcmp(name, reports[i].name) != 0)
            continue;
        rout *o = rout_new(f, q->format);
        if (!o) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        /* One read transaction: every section sees the same seq. */
        rstore_exec(db, "BEGIN", err, errlen);
        int rc = reports[i].fn(db, q, o, err, errlen);
        char ignore[8];
        rstore_exec(db, "COMMIT", ignore, sizeof ignore);
        if (rout_finish(o) != 0 && rc >= 0) {
            snprintf(err, errlen, "writing the report failed");
            rc = -1;
        }
        return rc;
    }
    snprintf(err, errlen, "no report '%s' (history, statement, pnl, eod, audit, surveillance, reconcile)",
             name);
    return -1;
}
