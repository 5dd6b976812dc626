/*
 * test_core_api.c - what a harness driving the core through its API relies
 * on (issue #20): the self-trade switch, the core's own range checks, the
 * reset, the depth read and the taker's side on trades.
 */
#include "check.h"
#include "core/internal.h"
#include "invariants.h"
#include "lines.h"

static const char *const setup[] = {"symbol ACME",
                                    "user alice",
                                    "user bob",
                                    "deposit alice CASH 1000",
                                    "deposit alice ACME 100",
                                    "deposit bob CASH 1000",
                                    "deposit bob ACME 100",
                                    NULL};

static bourse_engine *engine_with(uint32_t flags)
{
    bourse_limits l = {.flags = flags};
    bourse_engine *e = bourse_engine_new(&l);
    apply_ok(e, setup);
    return e;
}

/* The replay spec cancels a user's own resting order; BOURSE_SELF_TRADE
 * lets it trade, and fok counts it. */
static void test_self_trade_switch(void)
{
    bourse_engine *e = engine_with(0);
    CHECK_LINE(e, "sell alice s1 ACME 10 5", "ACCEPTED alice s1\n");
    CHECK_LINE(e, "buy alice b1 ACME 10 5 ioc",
               "ACCEPTED alice b1\nCANCELED alice s1 10 SELF_TRADE\n"
               "CANCELED alice b1 10 IOC\n");
    bourse_engine_free(e);

    e = engine_with(BOURSE_SELF_TRADE);
    CHECK_LINE(e, "sell alice s1 ACME 10 5", "ACCEPTED alice s1\n");
    CHECK_LINE(e, "buy alice b1 ACME 4 5 fok", "ACCEPTED alice b1\nTRADE ACME 4 5 alice b1 alice s1\n");
    CHECK_LINE(e, "buy alice b2 ACME 6 5", "ACCEPTED alice b2\nTRADE ACME 6 5 alice b2 alice s1\n");
    /* Shares and cash went round in one account: nothing created or lost. */
    CHECK_LINE(e, "balance alice", "BALANCE alice CASH 1000 0\nBALANCE alice ACME 100 0\n");
    CHECK(!inv_check(e, "self trade"));
    /* The flag is part of the limits: a snapshot keeps it. */
    bourse_stats st;
    bourse_engine_stats(e, &st);
    CHECK_EQ(st.trades, 2);
    CHECK_EQ(e->lim.flags, BOURSE_SELF_TRADE);
    bourse_engine_free(e);
    /* Unknown flags are refused. */
    bourse_limits bad = {.flags = 4};
    CHECK(bourse_engine_new(&bad) == NULL);
}

static char got[512];
static size_t got_len;

static void collect(void *ctx, const bourse_cmd *c, const bourse_event *ev)
{
    got_len += bourse_text_event(ctx, c, ev, got + got_len);
    got[got_len] = 0;
}

/* Apply a command built by hand, as an API caller would; its events as text. */
static const char *apply_raw(bourse_engine *e, bourse_cmd c)
{
    got_len = 0;
    got[0] = 0;
    bourse_engine_apply(e, &c, collect, e);
    return got;
}

static bourse_cmd raw_order(int side, int tif, int64_t qty, int64_t price)
{
    bourse_cmd c = {.type = BOURSE_CMD_ORDER,
                    .side = (uint8_t)side,
                    .tif = (uint8_t)tif,
                    .user = 0,
                    .symbol = 0,
                    .qty = qty,
                    .price = price};
    memcpy(c.oid.s, "r1", 2);
    return c;
}

/* Numbers no text line can carry are refused by the core itself. */
static void test_range_checks(void)
{
    bourse_engine *e = engine_with(0);
    const char *over = "REJECTED alice r1 OVERFLOW\n";
    CHECK_STR(apply_raw(e, raw_order(BOURSE_BUY, BOURSE_DAY, 0, BOURSE_SCALE)), over);
    CHECK_STR(apply_raw(e, raw_order(BOURSE_BUY, BOURSE_DAY, -5, BOURSE_SCALE)), over);
    CHECK_STR(apply_raw(e, raw_order(BOURSE_SELL, BOURSE_DAY, BOURSE_QTY_MAX + 1, BOURSE_SCALE)), over);
    CHECK_STR(apply_raw(e, raw_order(BOURSE_BUY, BOURSE_DAY, 1, -1)), over);
    CHECK_STR(apply_raw(e, raw_order(BOURSE_BUY, BOURSE_DAY, 1, BOURSE_PRICE_MAX + 1)), over);
    CHECK_STR(apply_raw(e, raw_order(2, BOURSE_DAY, 1, BOURSE_SCALE)), over);
    CHECK_STR(apply_raw(e, raw_order(BOURSE_BUY, 4, 1, BOURSE_SCALE)), over);
    /* The id was not taken by a refused order; the edges themselves pass. */
    CHECK_STR(apply_raw(e, raw_order(BOURSE_SELL, BOURSE_DAY, 100, BOURSE_PRICE_MAX)), "ACCEPTED alice r1\n");
    bourse_cmd r = {.type = BOURSE_CMD_REPLACE, .user = 0, .qty = 0, .price = BOURSE_SCALE};
    memcpy(r.oid.s, "r1", 2);
    memcpy(r.new_oid.s, "r2", 2);
    CHECK_STR(apply_raw(e, r), "REJECTED alice r2 OVERFLOW\n");
    r.qty = 1, r.price = BOURSE_PRICE_MAX + 1;
    CHECK_STR(apply_raw(e, r), "REJECTED alice r2 OVERFLOW\n");
    r.price = BOURSE_SCALE;
    CHECK_STR(apply_raw(e, r), "REPLACED alice r1 r2\n");
    CHECK(!inv_check(e, "range checks"));
    bourse_engine_free(e);
}

/* A reset engine answers as a new one, over the same memory. */
static void test_reset(void)
{
    bourse_engine *e = engine_with(BOURSE_DAY_IDS);
    bourse_engine *fresh = engine_with(BOURSE_DAY_IDS);
    CHECK_LINE(e, "sell bob s1 ACME 10 5", "ACCEPTED bob s1\n");
    CHECK_LINE(e, "buy alice b1 ACME 4 5", "ACCEPTED alice b1\nTRADE ACME 4 5 alice b1 bob s1\n");
    CHECK_LINE(e, "buy alice b2 ACME 4 4", "ACCEPTED alice b2\n");
    order *pool = e->orders;
    bourse_engine_reset(e);
    CHECK(e->orders == pool);
    bourse_stats st;
    bourse_engine_stats(e, &st);
    CHECK_EQ(st.symbols, 0);
    CHECK_EQ(st.users, 0);
    CHECK_EQ(st.open_orders, 0);
    CHECK_EQ(st.ids, 0);
    CHECK_EQ(e->lim.flags, BOURSE_DAY_IDS);
    CHECK_LINE(e, "buy alice b1 ACME 4 5", "REJECTED alice b1 UNKNOWN_USER\n");
    apply_ok(e, setup);
    CHECK_EQ(bourse_engine_hash(e), bourse_engine_hash(fresh));
    /* The same ids are free again and the same orders give the same events. */
    const char *const again[] = {"sell bob s1 ACME 10 5", "buy alice b1 ACME 4 5", "buy alice b2 ACME 4 4",
                                 "cancel bob s1", NULL};
    for (const char *const *l = again; *l; l++) {
        char want[512];
        snprintf(want, sizeof want, "%s", apply_line(fresh, *l));
        CHECK_STR(apply_line(e, *l), want);
    }
    CHECK_EQ(bourse_engine_hash(e), bourse_engine_hash(fresh));
    CHECK(!inv_check(e, "reset"));
    bourse_engine_free(e);
    bourse_engine_free(fresh);
}

static void test_depth(void)
{
    bourse_engine *e = engine_with(0);
    bourse_depth d[4];
    CHECK_EQ(bourse_book_depth(e, 0, BOURSE_BUY, d, 4), 0);
    CHECK_EQ(bourse_book_depth(e, 7, BOURSE_BUY, d, 4), 0); /* no such symbol */
    CHECK_EQ(bourse_book_depth(e, 0, 2, d, 4), 0);          /* no such side */
    CHECK_LINE(e, "buy alice b1 ACME 4 5", "ACCEPTED alice b1\n");
    CHECK_LINE(e, "buy bob b2 ACME 6 5", "ACCEPTED bob b2\n");
    CHECK_LINE(e, "buy alice b3 ACME 1 4.5", "ACCEPTED alice b3\n");
    CHECK_LINE(e, "buy alice b4 ACME 2 5.5", "ACCEPTED alice b4\n");
    CHECK_LINE(e, "sell bob s1 ACME 3 6", "ACCEPTED bob s1\n");
    CHECK_EQ(bourse_book_depth(e, 0, BOURSE_BUY, d, 4), 3);
    CHECK_EQ(d[0].price, 55000);
    CHECK_EQ(d[0].qty, 2);
    CHECK_EQ(d[0].count, 1);
    CHECK_EQ(d[1].price, 50000);
    CHECK_EQ(d[1].qty, 10);
    CHECK_EQ(d[1].count, 2);
    CHECK_EQ(d[2].price, 45000);
    CHECK_EQ(d[2].qty, 1);
    CHECK_EQ(d[2].count, 1);
    CHECK_EQ(bourse_book_depth(e, 0, BOURSE_BUY, d, 1), 1); /* the best bid alone */
    CHECK_EQ(d[0].price, 55000);
    CHECK_EQ(bourse_book_depth(e, 0, BOURSE_SELL, d, 4), 1);
    CHECK_EQ(d[0].price, 60000);
    CHECK_EQ(d[0].qty, 3);
    bourse_engine_free(e);
}

static int takers[4], ntakers;

static void on_trade(void *ctx, const bourse_cmd *c, const bourse_event *ev)
{
    (void)ctx, (void)c;
    if (ev->type == BOURSE_EV_TRADE && ntakers < 4)
        takers[ntakers++] = ev->side;
}

static bourse_cmd parsed(const bourse_engine *e, const char *line)
{
    bourse_cmd c;
    char err[100];
    CHECK_EQ(bourse_text_parse(line, strlen(line), &c, err, sizeof err), BOURSE_TEXT_CMD);
    bourse_engine_resolve(e, &c);
    return c;
}

/* A TRADE's side is the incoming order's, whoever is buyer and seller. */
static void test_taker_side(void)
{
    bourse_engine *e = engine_with(0);
    const char *const lines[] = {"sell bob s1 ACME 10 5", "buy alice b1 ACME 4 5",   "buy alice b2 ACME 4 4",
                                 "sell bob s2 ACME 2 4",  "replace bob s1 s3 6 3.9", NULL};
    for (const char *const *l = lines; *l; l++) {
        bourse_cmd c = parsed(e, *l);
        bourse_engine_apply(e, &c, on_trade, NULL);
    }
    CHECK_EQ(ntakers, 3);
    CHECK_EQ(takers[0], BOURSE_BUY);  /* alice's buy took bob's resting sell */
    CHECK_EQ(takers[1], BOURSE_SELL); /* bob's sell took alice's resting buy */
    CHECK_EQ(takers[2], BOURSE_SELL); /* a replace that crosses takes too */
    bourse_engine_free(e);
}

static uint32_t handles[8], nhandles;

static void on_accepted(void *ctx, const bourse_cmd *c, const bourse_event *ev)
{
    collect(ctx, c, ev);
    if (ev->type == BOURSE_EV_ACCEPTED && nhandles < 8)
        handles[nhandles++] = ev->order;
}

static bourse_cmd by_handle(const bourse_engine *e, const char *line, uint32_t handle)
{
    bourse_cmd c = parsed(e, line);
    c.order = handle;
    return c;
}

/* A cancel or replace may name its order by handle; a handle that does not
 * name that open order changes nothing: the id decides. */
static void test_order_handles(void)
{
    bourse_engine *e = engine_with(0);
    const char *const lines[] = {"sell bob s1 ACME 10 5", "sell bob s2 ACME 10 6", "sell alice s3 ACME 10 7",
                                 NULL};
    for (const char *const *l = lines; *l; l++) {
        bourse_cmd c = parsed(e, *l);
        got_len = 0;
        bourse_engine_apply(e, &c, on_accepted, e);
    }
    CHECK_EQ(nhandles, 3);
    CHECK_STR(apply_raw(e, by_handle(e, "cancel bob s1", handles[0])), "CANCELED bob s1 10 USER\n");
    /* s2's handle with s1's id: s1 is gone, whatever the handle. */
    CHECK_STR(apply_raw(e, by_handle(e, "cancel bob s1", handles[1])), "REJECTED bob s1 UNKNOWN_ORDER\n");
    /* alice's order's handle on bob's id, and handles past the pool. */
    CHECK_STR(apply_raw(e, by_handle(e, "replace bob s2 s4 5 6", handles[2])), "REPLACED bob s2 s4\n");
    CHECK_STR(apply_raw(e, by_handle(e, "cancel alice s3", 12345678)), "CANCELED alice s3 10 USER\n");
    CHECK_STR(apply_raw(e, by_handle(e, "cancel bob s4", UINT32_MAX)), "CANCELED bob s4 5 USER\n");
    CHECK(!inv_check(e, "handles"));
    bourse_engine_free(e);
}

int main(void)
{
    RUN(test_self_trade_switch);
    RUN(test_range_checks);
    RUN(test_reset);
    RUN(test_depth);
    RUN(test_taker_side);
    RUN(test_order_handles);
    return CHECK_DONE();
}
