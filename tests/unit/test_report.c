/*
 * test_report.c - the reporting database (src/report): the follower against
 * a random journal (every table says what the events say; the ledger sums
 * to zero per entry and asset and equals the core's balances for every
 * user), kill -9 of the follower at random moments (the database ends
 * equal, row for row, to one written in a single run; and at chosen
 * points inside a batch: the database holds the batches before), damaged, foreign,
 * newer and other-journal databases refused, and every report's output on
 * a hand-checked scenario against golden files (tests/report/golden;
 * BOURSE_GOLDEN_UPDATE=1 rewrites them: check them by hand before you
 * commit).
 */
#include "bourse/text.h"
#include "check.h"
#include "journal/apply.h"
#include "journal/journal.h"
#include "journal_gen.h"
#include "report/report.h"
#include "rmdir.h"

#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const bourse_limits LIMITS = {
    .symbols = 16, .users = 64, .orders = 4096, .ids = 65536, .positions = 512};

enum { N = 4000 };

#define T0 1767605400000000000LL /* 2026-01-05T09:30:00Z */

static int64_t fake_clock(void *ctx)
{
    int64_t *t = ctx;
    return *t += 1000000000;
}

static char *tmpdir(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/bourse-rpXXXXXX");
    return mkdtemp(buf);
}

/* What the leader's events say. */
typedef struct truth {
    int64_t trades, buyer_took, trade_qty, trade_value, fees, accepted, replaced, rejected_orders,
        stored_events;
    uint64_t trade_hash;
} truth;

static void on_event(void *ctx, const bourse_cmd *c, const bourse_event *ev)
{
    truth *t = ctx;
    if (ev->type != BOURSE_EV_LEVEL && ev->type != BOURSE_EV_BALANCE)
        t->stored_events++;
    switch (ev->type) {
    case BOURSE_EV_TRADE:
        t->trades++;
        /* The command's user took liquidity (self-trades never happen). */
        t->buyer_took += ev->user == c->user;
        t->trade_qty += ev->qty;
        t->trade_value += ev->qty * ev->price;
        t->trade_hash = t->trade_hash * 1000003 ^ (c->seq * 31 + ev->symbol) ^ (uint64_t)ev->price * 7 ^
                        (uint64_t)ev->qty * 13 ^ ev->user * 17 ^ (uint64_t)ev->user2 << 40;
        break;
    case BOURSE_EV_FEE: t->fees += ev->qty; break;
    case BOURSE_EV_ACCEPTED: t->accepted++; break;
    case BOURSE_EV_REPLACED: t->replaced++; break;
    case BOURSE_EV_REJECTED:
        t->rejected_orders += c->type == BOURSE_CMD_ORDER && ev->user != BOURSE_NONE;
        break;
    default: break;
    }
}

static uint64_t rnd(uint64_t *r)
{
    *r ^= *r << 13, *r ^= *r >> 7, *r ^= *r << 17;
    return *r;
}

/* A busy market in replay text: ten traders, three symbols (one with
 * fees, paid to FEES), limit orders of every time in force around one
 * price so that most cross, cancels, replaces, deposits and withdrawals,
 * the kill switch, cancelall, and trading days that end. */
static void busy_line(uint64_t *r, uint64_t i, char *line, size_t n)
{
    static const char *const setup[] = {
        "symbol S0", "symbol S1", "symbol S2", "user FEES", "fees S0 maker=5 taker=20", "open"};
    if (i < 6) {
        snprintf(line, n, "%s", setup[i]);
        return;
    }
    if (i < 6 + 10 * 5) {
        int u = (int)(i - 6) / 5, k = (int)(i - 6) % 5;
        if (k == 0)
            snprintf(line, n, "user u%d", u);
        else if (k == 1)
            snprintf(line, n, "deposit u%d CASH 1000000", u);
        else
            snprintf(line, n, "deposit u%d S%d 500", u, k - 2);
        return;
    }
    int u = (int)(rnd(r) % 10), s = (int)(rnd(r) % 3);
    uint64_t k = rnd(r) % 1000, back = 1 + rnd(r) % 30, id = i;
    static const char *const tifs[] = {"day", "day", "day", "gtc", "ioc", "fok"};
    if (k < 600)
        snprintf(line, n, "%s u%d o%llu S%d %d %d.%d %s", rnd(r) & 1 ? "buy" : "sell", u,
                 (unsigned long long)id, s, 1 + (int)(rnd(r) % 40), 95 + (int)(rnd(r) % 11),
                 (int)(rnd(r) % 10), tifs[rnd(r) % 6]);
    else if (k < 750)
        snprintf(line, n, "cancel u%d o%llu", u, (unsigned long long)(id > back ? id - back : 1));
    else if (k < 850)
        snprintf(line, n, "replace u%d o%llu o%llu %d %d", u, (unsigned long long)(id > back ? id - back : 1),
                 (unsigned long long)id, 1 + (int)(rnd(r) % 40), 95 + (int)(rnd(r) % 11));
    else if (k < 900)
        snprintf(line, n, "%s u%d %s %d", rnd(r) & 1 ? "deposit" : "withdraw", u, rnd(r) & 1 ? "CASH" : "S1",
                 1 + (int)(rnd(r) % 300));
    else if (k < 910)
        snprintf(line, n, "%s", rnd(r) & 1 ? "close" : "open");
    else if (k < 920)
        snprintf(line, n, "%s u%d", rnd(r) % 3 ? "unblock" : "block", u);
    else if (k < 930)
        snprintf(line, n, "cancelall u%d", u);
    else if (k < 940)
        snprintf(line, n, "open");
    else
        snprintf(line, n, "balance u%d", u);
}

/* A journal of n random commands: the busy market above, or (v2) the
 * journal tests' generator with version 2 commands (rules, halts, market
 * orders); the leader's engine is returned in *e when e != NULL. */
static int write_random(const char *dir, int n, uint64_t seed, truth *t, bourse_engine **eout)
{
    int64_t clock = T0;
    journal_config cfg = {.dir = dir,
                          .durability = JOURNAL_NONE,
                          .segment_bytes = 1 << 16,
                          .limits = LIMITS,
                          .clock_ns = fake_clock,
                          .clock_ctx = &clock};
    journal *j;
    bourse_engine *e;
    char err[600];
    if (journal_open(&cfg, &j, &e, err, sizeof err) != 0) {
        printf("FAIL journal_open: %s\n", err);
        return -1;
    }
    japply a = japply_leader(e, j, 0);
    jgen_v2 = 1;
    jgen g;
    jgen_init(&g, seed);
    uint64_t r = seed * 0x9e3779b97f4a7c15ULL + 1;
    for (int i = 0; i < n; i++) {
        bourse_cmd c;
        if (seed & 1) {
            char line[128];
            busy_line(&r, (uint64_t)i, line, sizeof line);
            if (bourse_text_parse(line, strlen(line), &c, err, sizeof err) != BOURSE_TEXT_CMD) {
                printf("FAIL %s: %s\n", line, err);
                return -1;
            }
        } else {
            jgen_next(&g, &c);
        }
        if (japply_command(&a, &c, on_event, t) != JAPPLY_OK) {
            printf("FAIL append: %s\n", journal_error(j));
            return -1;
        }
    }
    journal_close(j, err, sizeof err);
    if (eout)
        *eout = e;
    else
        bourse_engine_free(e);
    return 0;
}

static int64_t q1(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        printf("# %s: %s\n", sql, sqlite3_errmsg(db));
        return -1;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int follow_all(const char *dir, const char *db, uint32_t batch, char *err, size_t errlen)
{
    report_follow_config cfg = {.dir = dir, .db_path = db, .exit_at_end = 1, .idle_ms = 50, .batch = batch};
    return report_follow(&cfg, NULL, err, errlen);
}

typedef struct bal_check {
    sqlite3 *db;
    int bad, n;
} bal_check;

static void check_balance(void *ctx, const bourse_cmd *c, const bourse_event *ev)
{
    bal_check *b = ctx;
    if (ev->type != BOURSE_EV_BALANCE)
        return;
    char sql[300];
    int64_t asset = ev->symbol == BOURSE_CASH ? -1 : (int64_t)ev->symbol;
    snprintf(sql, sizeof sql,
             "SELECT COALESCE(SUM(CASE WHEN account = 'available' THEN amount ELSE 0 END), 0) * 1000003 +"
             " COALESCE(SUM(CASE WHEN account = 'held' THEN amount ELSE 0 END), 0) FROM ledger"
             " WHERE user_id = %u AND asset = %lld",
             c->user, (long long)asset);
    b->n++;
    if (q1(b->db, sql) != ev->qty * 1000003 + ev->count) {
        if (b->bad++ < 5)
            printf("# user %u asset %lld: ledger differs from balance %lld/%lld\n", c->user, (long long)asset,
                   (long long)ev->qty, (long long)ev->count);
    }
}

/* seed odd: the busy market; even: the journal tests' generator (v2). */
static void random_scenario(uint64_t seed)
{
    char dir[64], db[128], err[1200];
    CHECK(tmpdir(dir, sizeof dir));
    truth t = {0};
    bourse_engine *e = NULL;
    CHECK_EQ(write_random(dir, N, seed, &t, &e), 0);
    snprintf(db, sizeof db, "%s/report.db", dir);
    int rc = follow_all(dir, NULL, 500, err, sizeof err);
    if (rc != 0)
        printf("# follow: %s\n", err);
    CHECK_EQ(rc, 0);
    sqlite3 *s;
    CHECK_EQ(sqlite3_open(db, &s), SQLITE_OK);
    CHECK_EQ(q1(s, "SELECT value FROM meta WHERE key = 'last_seq'"), N);
    CHECK_EQ(q1(s, "SELECT count(*) FROM commands"), N);
    CHECK_EQ(q1(s, "SELECT count(*) FROM events"), t.stored_events);
    printf("# random: %lld trades, %lld fees, %lld orders\n", (long long)t.trades, (long long)t.fees,
           (long long)t.accepted);
    CHECK(t.trades > (seed & 1 ? 500 : 20)); /* the scenario trades enough to say something */
    CHECK_EQ(q1(s, "SELECT count(*) FROM trades"), t.trades);
    CHECK_EQ(q1(s, "SELECT SUM(qty) FROM trades"), t.trade_qty);
    CHECK_EQ(q1(s, "SELECT SUM(qty * price) FROM trades"), t.trade_value);
    CHECK_EQ(q1(s, "SELECT count(*) FROM executions"), 2 * t.trades);
    CHECK_EQ(q1(s, "SELECT count(*) FROM trades WHERE aggressor = 'buy'"), t.buyer_took);
    CHECK_EQ(q1(s, "SELECT count(*) FROM trades t JOIN executions x ON x.trade_id = t.trade_id"
                   " AND x.side = t.aggressor WHERE x.liquidity = 'taker'"),
             t.trades);
    CHECK_EQ(q1(s, "SELECT COALESCE(SUM(fee), 0) FROM executions"), t.fees);
    CHECK_EQ(q1(s, "SELECT COALESCE(SUM(buy_fee + sell_fee), 0) FROM trades"), t.fees);
    CHECK_EQ(q1(s, "SELECT count(*) FROM orders"), t.accepted + t.replaced + t.rejected_orders);
    /* Each trade's executions name its two orders, of its symbol and side. */
    CHECK_EQ(q1(s, "SELECT count(*) FROM executions x JOIN orders o USING(order_id)"
                   " WHERE o.symbol_id = x.symbol_id AND o.side = x.side AND o.user_id = x.user_id"),
             2 * t.trades);
    /* The trades in order, field by field (a hash of the sequence). */
    sqlite3_stmt *st;
    uint64_t h = 0;
    sqlite3_prepare_v2(s,
                       "SELECT seq, symbol_id, price, qty, buyer_id, seller_id FROM trades ORDER BY trade_id",
                       -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW)
        h = h * 1000003 ^
            ((uint64_t)sqlite3_column_int64(st, 0) * 31 + (uint64_t)sqlite3_column_int64(st, 1)) ^
            (uint64_t)sqlite3_column_int64(st, 2) * 7 ^ (uint64_t)sqlite3_column_int64(st, 3) * 13 ^
            (uint64_t)sqlite3_column_int64(st, 4) * 17 ^ (uint64_t)sqlite3_column_int64(st, 5) << 40;
    sqlite3_finalize(st);
    CHECK(h == t.trade_hash);
    /* Open orders: the engine's resting orders, quantity for quantity. */
    bourse_stats stats;
    bourse_engine_stats(e, &stats);
    CHECK_EQ(q1(s, "SELECT count(*) FROM orders WHERE status = 'open'"), stats.open_orders);
    CHECK_EQ(q1(s, "SELECT count(*) FROM orders WHERE open_qty < 0 OR filled_qty < 0"), 0);
    /* Every ledger entry balances per asset, and the whole ledger too. */
    CHECK_EQ(
        q1(s, "SELECT count(*) FROM (SELECT 1 FROM ledger GROUP BY entry, asset HAVING SUM(amount) <> 0)"),
        0);
    CHECK_EQ(q1(s, "SELECT count(*) FROM (SELECT 1 FROM ledger GROUP BY asset HAVING SUM(amount) <> 0)"), 0);
    CHECK(q1(s, "SELECT count(DISTINCT kind) FROM ledger") >= 5);
    /* The ledger per user equals `balance` for every user. */
    bal_check b = {.db = s};
    for (uint32_t u = 0; u < stats.users; u++) {
        bourse_cmd q = {.type = BOURSE_CMD_BALANCE, .user = u, .symbol = BOURSE_NONE};
        bourse_engine_apply(e, &q, check_balance, &b);
    }
    CHECK_EQ(b.bad, 0);
    CHECK(b.n > 20);
    /* And the balances table too. */
    CHECK_EQ(
        q1(s,
           "SELECT count(*) FROM balances b WHERE available <> (SELECT COALESCE(SUM(amount), 0) FROM ledger"
           " l WHERE l.user_id = b.user_id AND l.asset = b.asset AND account = 'available')"),
        0);
    sqlite3_close(s);
    /* reconcile agrees, at the end and at a seq in the middle. */
    rstore *r = report_store_open(db, err, sizeof err);
    CHECK(r != NULL);
    FILE *devnull = fopen("/dev/null", "w");
    report_query q = {.dir = dir, .to_ns = INT64_MAX};
    CHECK_EQ(report_run(r, "reconcile", &q, devnull, err, sizeof err), 0);
    q.seq = N / 2;
    CHECK_EQ(report_run(r, "reconcile", &q, devnull, err, sizeof err), 0);
    fclose(devnull);
    report_store_close(r);
    bourse_engine_free(e);
    rm_rf(dir);
}

static void test_random_busy(void)
{
    random_scenario(11);
}

static void test_random_v2(void)
{
    random_scenario(12);
}

/* Every table, every row, in a canonical order, as one string. */
static char *dump(const char *path)
{
    static const char *const tables[] = {"meta",   "accounts", "symbols",      "commands",
                                         "orders", "events",   "trades",       "executions",
                                         "ledger", "balances", "eod_positions"};
    sqlite3 *s;
    if (sqlite3_open(path, &s) != SQLITE_OK)
        return NULL;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY 1, 2, 3", tables[i]);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s, sql, -1, &st, NULL) != SQLITE_OK)
            continue;
        fprintf(f, "[%s]\n", tables[i]);
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(st); c++)
                fprintf(f, "%s|",
                        sqlite3_column_type(st, c) == SQLITE_NULL ? "NULL"
                                                                  : (const char *)sqlite3_column_text(st, c));
            fputc('\n', f);
        }
        sqlite3_finalize(st);
    }
    fclose(f);
    sqlite3_close(s);
    return out;
}

static int64_t db_last_seq(const char *path)
{
    sqlite3 *s;
    int64_t v = -1;
    if (sqlite3_open_v2(path, &s, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
        v = q1(s, "SELECT value FROM meta WHERE key = 'last_seq'");
    sqlite3_close(s);
    return v;
}

static void test_kill9(void)
{
    char dir[64], one[128], many[128], err[1200];
    CHECK(tmpdir(dir, sizeof dir));
    truth t = {0};
    CHECK_EQ(write_random(dir, N, 23, &t, NULL), 0); /* busy */
    snprintf(one, sizeof one, "%s/one.db", dir);
    snprintf(many, sizeof many, "%s/many.db", dir);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_EQ(follow_all(dir, one, 300, err, sizeof err), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* Kill the follower again and again at random moments, then let it
     * finish.  The moments scale with how long a whole run took here (at
     * least 20 ms), so a slow machine (sanitizers, a busy CI) still kills
     * runs that have committed something and a fast one still kills
     * before the end. */
    int64_t whole_us = ((int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec)) / 1000;
    if (whole_us < 20000)
        whole_us = 20000;
    uint64_t rng = 12345;
    int kills = 0, done = 0;
    /* On a slow machine the first forty may all die before a commit: then
     * go on (the delays grow) until one has committed. */
    for (int round = 0; !done && (round < 40 || (round < 300 && db_last_seq(many) <= 0)); round++) {
        pid_t p = fork();
        if (p == 0) {
            char e2[1200];
            _exit(follow_all(dir, many, 37, e2, sizeof e2) == 0 ? 0 : 3);
        }
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        /* from 5% of a whole run to about 120%: later kills reach further */
        usleep(
            (useconds_t)(whole_us / 20 + whole_us * round / 40 + (int64_t)(rng % 1000) * whole_us / 10000));
        kill(p, SIGKILL);
        int status;
        waitpid(p, &status, 0);
        if (WIFSIGNALED(status))
            kills++;
        else
            done = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) != 0));
    }
    CHECK(kills >= 3);
    /* The killed runs got somewhere: rows were committed before the end. */
    sqlite3 *s;
    CHECK_EQ(sqlite3_open(many, &s), SQLITE_OK);
    int64_t mid = q1(s, "SELECT value FROM meta WHERE key = 'last_seq'");
    sqlite3_close(s);
    printf("# kill9: the killed runs reached seq %lld of %d\n", (long long)mid, N);
    CHECK(mid > 0);
    CHECK_EQ(follow_all(dir, many, 37, err, sizeof err), 0);
    char *a = dump(one), *b = dump(many);
    CHECK(a && b && strlen(a) > 100000);
    CHECK(a && b && strcmp(a, b) == 0);
    printf("# kill9: %d kills\n", kills);
    free(a);
    free(b);
    rm_rf(dir);
}

/* A crash inside a batch at chosen points: the follower kills itself
 * (crash_at_seq) after writing a seq's rows and before the commit that
 * would hold them, so the rows buffered in memory, those already sent in
 * multi-row INSERTs, the balances kept for the commit and the open orders
 * it remembers are all lost with the transaction.  Each time the database
 * must hold exactly the batches before (last_seq on a batch boundary), and
 * the follower, resumed from there and crashed again further on, must end
 * with a database equal row for row to one written in a single run.
 * Points: a batch's first command, its middle, its last (the commit would
 * be next), the very first command, and right after a resume. */
static void test_batch_crash(void)
{
    enum { BATCH = 250 };
    static const uint64_t points[] = {1, 251, 377, 500, 501, 1733, 1501, 2999, 3000};
    char dir[64], one[128], many[128], err[1200];
    CHECK(tmpdir(dir, sizeof dir));
    truth t = {0};
    CHECK_EQ(write_random(dir, N, 41, &t, NULL), 0);
    snprintf(one, sizeof one, "%s/one.db", dir);
    snprintf(many, sizeof many, "%s/many.db", dir);
    CHECK_EQ(follow_all(dir, one, 4096, err, sizeof err), 0);
    int64_t prev = 0;
    for (size_t i = 0; i < sizeof points / sizeof *points; i++) {
        pid_t p = fork();
        if (p == 0) {
            char e2[1200];
            /* Only the count bounds a batch here (not the clock), so the
             * last commit before the crash is known. */
            report_follow_config cfg = {.dir = dir,
                                        .db_path = many,
                                        .exit_at_end = 1,
                                        .idle_ms = 50,
                                        .batch = BATCH,
                                        .batch_ms = 3600000,
                                        .crash_at_seq = points[i]};
            _exit(report_follow(&cfg, NULL, e2, sizeof e2) == 0 ? 0 : 3);
        }
        int status;
        waitpid(p, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        sqlite3 *s;
        CHECK_EQ(sqlite3_open(many, &s), SQLITE_OK);
        int64_t last = q1(s, "SELECT value FROM meta WHERE key = 'last_seq'");
        /* The batches of this run start at the previous run's last_seq + 1. */
        int64_t want = prev + (int64_t)(points[i] - 1 - (uint64_t)prev) / BATCH * BATCH;
        if (last != want)
            printf("# batch_crash: crashed at seq %llu, the database is at %lld, not %lld\n",
                   (unsigned long long)points[i], (long long)last, (long long)want);
        CHECK_EQ(last, want);
        /* Nothing past the last commit is there. */
        CHECK_EQ(q1(s, "SELECT COALESCE(MAX(seq), 0) FROM commands"), want);
        sqlite3_close(s);
        prev = last;
    }
    CHECK_EQ(follow_all(dir, many, BATCH, err, sizeof err), 0);
    char *a = dump(one), *b = dump(many);
    CHECK(a && b && strlen(a) > 100000);
    CHECK(a && b && strcmp(a, b) == 0);
    free(a);
    free(b);
    rm_rf(dir);
}

static int write_file(const char *dir, FILE *in, const bourse_limits *lim);

/* Order ids given again (BOURSE_DAY_IDS: on a later trading day) while
 * the earlier order's row is still in the writer's memory, waiting for the
 * commit: both rows must be written, each with its own end.  One batch
 * for everything against a commit after every command, table for table. */
static void test_reused_ids(void)
{
    static const char script[] =
        "symbol S\nuser a\nuser b\ndeposit a CASH 100000\ndeposit b S 1000\nopen\n"
        "buy a o1 S 5 10\ncancel a o1\nclose\nopen\n"          /* o1 canceled */
        "buy a o1 S 5 10\nsell b s1 S 5 10\nclose\nopen\n"     /* o1 filled */
        "buy a o1 S 3 10\nreplace a o1 o2 4 10\nclose\nopen\n" /* o1 replaced, o2 expires */
        "buy a o2 S 2 10\nsell b s1 S 1 10\nreplace a o2 o1 2 11\nsell b s2 S 2 11\n";
    char dir[64], one[128], many[128], err[1200];
    CHECK(tmpdir(dir, sizeof dir));
    bourse_limits lim = LIMITS;
    lim.flags |= BOURSE_DAY_IDS;
    FILE *in = fmemopen((void *)script, sizeof script - 1, "r");
    CHECK(in && write_file(dir, in, &lim) == 0);
    snprintf(one, sizeof one, "%s/one.db", dir);
    snprintf(many, sizeof many, "%s/many.db", dir);
    CHECK_EQ(follow_all(dir, one, 1, err, sizeof err), 0);
    CHECK_EQ(follow_all(dir, many, 4096, err, sizeof err), 0);
    sqlite3 *s;
    CHECK_EQ(sqlite3_open(one, &s), SQLITE_OK);
    CHECK_EQ(q1(s, "SELECT count(*) FROM orders WHERE oid = 'o1'"), 4);
    CHECK_EQ(q1(s, "SELECT count(*) FROM orders WHERE oid = 'o1' AND status = 'open'"), 0);
    sqlite3_close(s);
    char *a = dump(one), *b = dump(many);
    CHECK(a && b && strstr(a, "|o1|0|buy|day|100000|5|") && strstr(a, "canceled|USER|0|0|"));
    CHECK(a && b && strcmp(a, b) == 0);
    free(a);
    free(b);
    rm_rf(dir);
}

static int refused(const char *path, const char *want)
{
    char err[1200];
    report_db *db;
    if (report_db_open(path, 1, &db, err, sizeof err) == 0) {
        report_db_close(db);
        printf("# %s was opened\n", path);
        return 0;
    }
    if (!strstr(err, want)) {
        printf("# %s: '%s' lacks '%s'\n", path, err, want);
        return 0;
    }
    return 1;
}

static void test_refused(void)
{
    char dir[64], path[128], err[1200];
    CHECK(tmpdir(dir, sizeof dir));
    truth t = {0};
    CHECK_EQ(write_random(dir, 600, 5, &t, NULL), 0);
    /* Not SQLite at all. */
    snprintf(path, sizeof path, "%s/garbage.db", dir);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 5000; i++)
        fputc("not a database "[i % 15], f);
    fclose(f);
    CHECK(refused(path, "not a readable SQLite database"));
    /* Another program's SQLite file. */
    snprintf(path, sizeof path, "%s/other.db", dir);
    sqlite3 *s;
    sqlite3_open(path, &s);
    sqlite3_exec(s, "CREATE TABLE t(x); INSERT INTO t VALUES(1);", NULL, NULL, NULL);
    sqlite3_close(s);
    CHECK(refused(path, "not a Bourse report database"));
    /* A newer schema. */
    snprintf(path, sizeof path, "%s/report.db", dir);
    CHECK_EQ(follow_all(dir, NULL, 100, err, sizeof err), 0);
    sqlite3_open(path, &s);
    sqlite3_exec(s, "PRAGMA user_version = 99", NULL, NULL, NULL);
    sqlite3_close(s);
    CHECK(refused(path, "newer"));
    /* A version 1 database (the events' order indexes whole, before
     * migration 2 made them partial) is migrated by follow, in place. */
    sqlite3_open(path, &s);
    CHECK_EQ(sqlite3_exec(s,
                          "DROP INDEX events_by_order; DROP INDEX events_by_order2;"
                          " CREATE INDEX events_by_order ON events(order_id);"
                          " CREATE INDEX events_by_order2 ON events(order2_id); PRAGMA user_version = 1",
                          NULL, NULL, NULL),
             SQLITE_OK);
    sqlite3_close(s);
    CHECK_EQ(follow_all(dir, NULL, 100, err, sizeof err), 0);
    sqlite3_open(path, &s);
    CHECK_EQ(q1(s, "PRAGMA user_version"), REPORT_SCHEMA_VERSION);
    CHECK_EQ(
        q1(s, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'events_by_order%' AND sql LIKE '%WHERE%'"),
        2);
    sqlite3_close(s);
    /* Damaged pages: one in the middle (rows, not the schema or meta,
     * which a first read would trip over: quick_check must find it). */
    char copy[160];
    snprintf(copy, sizeof copy, "%s/damaged.db", dir);
    f = fopen(path, "rb");
    FILE *g = fopen(copy, "wb");
    int ch;
    long pos = 0;
    fseek(f, 0, SEEK_END);
    long mid = ftell(f) / 4096 / 2;
    rewind(f);
    while ((ch = fgetc(f)) != EOF)
        fputc(pos++ / 4096 == mid ? 0x5a : ch, g);
    fclose(f);
    fclose(g);
    CHECK(refused(copy, "damaged"));
    /* The database of another journal: a new directory whose commands
     * have other timestamps, given this database. */
    char dir2[64];
    CHECK(tmpdir(dir2, sizeof dir2));
    int64_t clock = T0 + 777;
    journal_config cfg = {.dir = dir2,
                          .durability = JOURNAL_NONE,
                          .limits = LIMITS,
                          .clock_ns = fake_clock,
                          .clock_ctx = &clock};
    journal *j;
    bourse_engine *e;
    CHECK_EQ(journal_open(&cfg, &j, &e, err, sizeof err), 0);
    japply a = japply_leader(e, j, 0);
    jgen gen;
    jgen_init(&gen, 5);
    for (int i = 0; i < 700; i++) {
        bourse_cmd c;
        jgen_next(&gen, &c);
        japply_command(&a, &c, NULL, NULL);
    }
    journal_close(j, err, sizeof err);
    bourse_engine_free(e);
    report_follow_config fc = {.dir = dir2, .db_path = path, .exit_at_end = 1, .idle_ms = 50};
    CHECK(report_follow(&fc, NULL, err, sizeof err) != 0);
    CHECK(strstr(err, "another journal"));
    /* A database ahead of its journal. */
    char dir3[64];
    CHECK(tmpdir(dir3, sizeof dir3));
    truth t3 = {0};
    CHECK_EQ(write_random(dir3, 100, 5, &t3, NULL), 0);
    fc.dir = dir3;
    CHECK(report_follow(&fc, NULL, err, sizeof err) != 0);
    CHECK(strstr(err, "ends at seq 100"));
    rm_rf(dir);
    rm_rf(dir2);
    rm_rf(dir3);
}

/* ---- golden files ---- */

static const struct golden {
    const char *file, *report;
    report_query q;
    const char *from, *to;
} GOLDEN[] = {
    {"history.txt", "history", {.user = "alice"}, NULL, NULL},
    {"statement.txt", "statement", {.user = "alice"}, "2026-01-05T09:30:17", "2026-01-05T09:30:23"},
    {"pnl.txt", "pnl", {.user = "alice"}, NULL, NULL},
    {"pnl.csv", "pnl", {.user = "alice", .format = REPORT_CSV}, NULL, NULL},
    {"eod.txt", "eod", {.date = "2026-01-05"}, NULL, NULL},
    {"eod.json", "eod", {.format = REPORT_JSON}, NULL, NULL},
    {"audit.txt", "audit", {.user = "bob", .oid = "b4"}, NULL, NULL},
    {"audit_a5.txt", "audit", {.user = "alice", .oid = "a5"}, NULL, NULL},
    {"surveillance.txt", "surveillance", {.volume = 7}, NULL, NULL},
    {"reconcile.txt", "reconcile", {.all = 1}, NULL, NULL},
};

static int write_scenario(const char *dir)
{
    FILE *in = fopen("tests/report/scenario.txt", "r");
    if (!in) {
        printf("FAIL tests/report/scenario.txt: run from the repository root\n");
        return -1;
    }
    return write_file(dir, in, &LIMITS);
}

/* A journal of the text commands in `in` (closed). */
static int write_file(const char *dir, FILE *in, const bourse_limits *lim)
{
    int64_t clock = T0;
    journal_config cfg = {
        .dir = dir, .durability = JOURNAL_NONE, .limits = *lim, .clock_ns = fake_clock, .clock_ctx = &clock};
    journal *j;
    bourse_engine *e;
    char err[600], line[512];
    if (journal_open(&cfg, &j, &e, err, sizeof err) != 0)
        return -1;
    japply a = japply_leader(e, j, 0);
    while (fgets(line, sizeof line, in)) {
        bourse_cmd c;
        size_t n = strcspn(line, "\n");
        if (bourse_text_parse(line, n, &c, err, sizeof err) == BOURSE_TEXT_CMD)
            japply_command(&a, &c, NULL, NULL);
    }
    fclose(in);
    journal_close(j, err, sizeof err);
    bourse_engine_free(e);
    return 0;
}

static void test_golden(void)
{
    char dir[64], db[128], err[1200];
    CHECK(tmpdir(dir, sizeof dir));
    CHECK_EQ(write_scenario(dir), 0);
    CHECK_EQ(follow_all(dir, NULL, 0, err, sizeof err), 0);
    snprintf(db, sizeof db, "%s/report.db", dir);
    rstore *r = report_store_open(db, err, sizeof err);
    CHECK(r != NULL);
    int update = getenv("BOURSE_GOLDEN_UPDATE") != NULL;
    for (size_t i = 0; i < sizeof GOLDEN / sizeof *GOLDEN; i++) {
        const struct golden *g = &GOLDEN[i];
        report_query q = g->q;
        q.dir = dir;
        q.to_ns = INT64_MAX;
        if (g->from)
            report_parse_time(g->from, 0, &q.from_ns);
        if (g->to)
            report_parse_time(g->to, 1, &q.to_ns);
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        int rc = report_run(r, g->report, &q, f, err, sizeof err);
        fclose(f);
        if (rc < 0)
            printf("# %s: %s\n", g->file, err);
        CHECK_EQ(rc, 0);
        char path[256];
        snprintf(path, sizeof path, "tests/report/golden/%s", g->file);
        if (update) {
            FILE *w = fopen(path, "w");
            fwrite(out, 1, len, w);
            fclose(w);
        }
        FILE *gf = fopen(path, "r");
        char want[65536];
        size_t n = gf ? fread(want, 1, sizeof want - 1, gf) : 0;
        if (gf)
            fclose(gf);
        want[n] = 0;
        if (strcmp(want, out) != 0) {
            printf("FAIL golden %s differs; the report gives:\n%s", path, out);
            check_failures++;
        }
        free(out);
    }
    report_store_close(r);
    rm_rf(dir);
}

int main(void)
{
    RUN(test_random_busy);
    RUN(test_random_v2);
    RUN(test_kill9);
    RUN(test_batch_crash);
    RUN(test_reused_ids);
    RUN(test_refused);
    RUN(test_golden);
    return CHECK_DONE();
}
