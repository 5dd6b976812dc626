/*
 * reconcile.c - proof that the ledger's balances are the exchange's.
 *
 * The core's balances at seq S come from the journal itself: a fresh core
 * (from the start of the journal, or the newest snapshot it continues)
 * applies every command up to S, independently of the follower that wrote
 * the database.  The ledger's balance of (user, asset, bucket) at S is the
 * sum of its legs up to S.  Every pair must be equal, and every entry must
 * sum to zero per asset; each difference is named (user, asset, both
 * values), and the exit status says whether there was any.
 */
#include "journal/reader.h"
#include "report_int.h"
#include "store.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { S_CORE_BAL = 61 };

typedef struct core_ctx {
    rstore *db;
    int failed;
    char err[512];
} core_ctx;

static void on_balance(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    core_ctx *c = ctx;
    if (ev->type != BOURSE_EV_BALANCE || c->failed)
        return;
    rval p[4] = {rv_int(cmd->user), rv_int(ev->symbol == BOURSE_CASH ? REPORT_CASH : (int64_t)ev->symbol),
                 rv_int(ev->qty), rv_int(ev->count)};
    if (rstore_run(c->db, S_CORE_BAL, p, 4, NULL, NULL, 0, c->err, sizeof c->err) < 0)
        c->failed = 1;
}

/* The core's balances into a temporary table core_bal. */
static int core_balances(rstore *db, bourse_engine *e, char *err, size_t errlen)
{
    if (rstore_exec(db, "DROP TABLE IF EXISTS core_bal", err, errlen) != 0 ||
        rstore_exec(db,
                    "CREATE TEMP TABLE core_bal(user_id BIGINT, asset BIGINT, available BIGINT, held BIGINT,"
                    " PRIMARY KEY(user_id, asset))",
                    err, errlen) != 0 ||
        rstore_prepare(db, S_CORE_BAL, "INSERT INTO core_bal VALUES(?1, ?2, ?3, ?4)", err, errlen) != 0)
        return -1;
    core_ctx c = {.db = db};
    bourse_stats stats;
    bourse_engine_stats(e, &stats);
    for (uint32_t u = 0; u < stats.users && !c.failed; u++) {
        bourse_cmd q = {.type = BOURSE_CMD_BALANCE, .user = u, .symbol = BOURSE_NONE};
        bourse_engine_apply(e, &q, on_balance, &c);
    }
    if (c.failed) {
        snprintf(err, errlen, "%s", c.err);
        return -1;
    }
    return 0;
}

int report_reconcile(rstore *db, const report_query *q, rout *o, char *err, size_t errlen)
{
    if (!q->dir) {
        snprintf(err, errlen, "reconcile needs --data DIR (the journal to check against)");
        return -1;
    }
    int64_t last = 0;
    if (rstore_int(db, "SELECT value FROM meta WHERE key = 'last_seq'", &last, err, errlen) != 0)
        return -1;
    uint64_t at = q->seq ? q->seq : (uint64_t)last;
    if (at > (uint64_t)last) {
        snprintf(err, errlen, "the report database is at seq %lld, before seq %" PRIu64, (long long)last, at);
        return -1;
    }
    rcore *c = rcore_open(q->dir, at, err, errlen);
    if (!c)
        return -1;
    if (rcore_seq(c) > at) {
        snprintf(err, errlen, "no journal or snapshot of %s holds the state at seq %" PRIu64, q->dir, at);
        rcore_close(c);
        return -1;
    }
    while (rcore_seq(c) < at) {
        bourse_cmd cmd;
        int r = rcore_next(c, &cmd, 1000, err, errlen);
        if (r != JREAD_RECORD) {
            if (r == JREAD_TIMEOUT)
                snprintf(err, errlen, "the journal of %s ended before seq %" PRIu64, q->dir, at);
            rcore_close(c);
            return -1;
        }
        const char *why = rcore_apply(c, &cmd, NULL, NULL);
        if (why) {
            snprintf(err, errlen, "%s: seq %" PRIu64 ": %s", q->dir, cmd.seq, why);
            rcore_close(c);
            return -1;
        }
    }
    int rc = core_balances(db, rcore_engine(c), err, errlen);
    rcore_close(c);
    if (rc != 0)
        return -1;
    char sql[2048];
    snprintf(
        sql, sizeof sql,
        "WITH l AS (SELECT user_id, asset, SUM(CASE WHEN account = 'available' THEN amount ELSE 0 END) AS a,"
        " SUM(CASE WHEN account = 'held' THEN amount ELSE 0 END) AS h FROM ledger"
        " WHERE seq <= %" PRIu64 " AND user_id IS NOT NULL GROUP BY user_id, asset),"
        " j AS (SELECT COALESCE(l.user_id, c.user_id) AS user_id, COALESCE(l.asset, c.asset) AS asset,"
        " COALESCE(l.a, 0) AS la, COALESCE(c.available, 0) AS ca, COALESCE(l.h, 0) AS lh,"
        " COALESCE(c.held, 0) AS ch FROM l FULL OUTER JOIN core_bal c"
        " ON c.user_id = l.user_id AND c.asset = l.asset)"
        " SELECT u.name, a.name, fmt(la, j.asset), fmt(ca, j.asset), fmt(lh, j.asset), fmt(ch, j.asset),"
        " CASE WHEN la = ca AND lh = ch THEN 'ok' ELSE 'DIFFERENT' END FROM j"
        " LEFT JOIN accounts u USING(user_id) LEFT JOIN assets a USING(asset)"
        " WHERE %s OR la <> ca OR lh <> ch ORDER BY j.user_id, j.asset = -1 DESC, a.name",
        at, q->all ? "TRUE" : "FALSE");
    if (report_query_out(db, o, "balances",
                         "user,asset,ledger_available,core_available,ledger_held,core_held,status", sql, q, 0,
                         err, errlen) != 0)
        return -1;
    snprintf(sql, sizeof sql,
             "SELECT entry, seq, kind, (SELECT name FROM assets a WHERE a.asset = l.asset), fmt(SUM(amount), "
             "asset)"
             " FROM ledger l WHERE seq <= %" PRIu64
             " GROUP BY entry, asset, seq, kind HAVING SUM(amount) <> 0 ORDER BY entry",
             at);
    if (report_query_out(db, o, "unbalanced_entries", "entry:i,seq:i,kind,asset,sum", sql, q, 0, err,
                         errlen) != 0)
        return -1;
    int64_t diff = 0, bad = 0, checked = 0;
    snprintf(
        sql, sizeof sql,
        "SELECT count(*) FROM (SELECT user_id, asset, SUM(CASE WHEN account = 'available' THEN amount END) "
        "AS a,"
        " SUM(CASE WHEN account = 'held' THEN amount END) AS h FROM ledger WHERE seq <= %" PRIu64
        " AND user_id IS NOT NULL GROUP BY user_id, asset) l FULL OUTER JOIN core_bal c"
        " ON c.user_id = l.user_id AND c.asset = l.asset WHERE COALESCE(l.a, 0) <> COALESCE(c.available, 0)"
        " OR COALESCE(l.h, 0) <> COALESCE(c.held, 0)",
        at);
    if (rstore_int(db, sql, &diff, err, errlen) != 0)
        return -1;
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM (SELECT 1 FROM ledger WHERE seq <= %" PRIu64
             " GROUP BY entry, asset HAVING SUM(amount) <> 0) x",
             at);
    if (rstore_int(db, sql, &bad, err, errlen) != 0 ||
        rstore_int(db, "SELECT count(*) FROM core_bal", &checked, err, errlen) != 0)
        return -1;
    rout_section(o, "summary", "seq:i,balances:i,differences:i,unbalanced_entries:i,result");
    rout_int(o, (int64_t)at);
    rout_int(o, checked);
    rout_int(o, diff);
    rout_int(o, bad);
    rout_text(o, diff || bad ? "DIFFERENT" : "reconciled");
    return diff || bad ? 1 : 0;
}
