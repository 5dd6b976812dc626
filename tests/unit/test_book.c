/*
 * test_book.c - price levels, queues and the order pool (src/core/book.c),
 * through the public API with a look at the internals after each step.
 */
#include "check.h"
#include "core/internal.h"
#include "invariants.h"
#include "lines.h"

static bourse_engine *market(const bourse_limits *lim)
{
    static const char *const setup[] = {"symbol ACME",
                                        "symbol ZED",
                                        "user a",
                                        "user b",
                                        "user c",
                                        "deposit a CASH 1000000",
                                        "deposit b CASH 1000000",
                                        "deposit c CASH 1000000",
                                        "deposit a ACME 10000",
                                        "deposit b ACME 10000",
                                        "deposit c ACME 10000",
                                        NULL};
    bourse_engine *e = bourse_engine_new(lim);
    apply_ok(e, setup);
    return e;
}

static const book_side *side_of(const bourse_engine *e, const char *sym, int side)
{
    return &e->symbols[bourse_symbol_find(e, sym, strlen(sym))].side[side];
}

/* The oids of one level's queue, head first, as "o1 o2 o3". */
static const char *queue(const bourse_engine *e, const char *sym, int side, int64_t price)
{
    static char buf[512];
    size_t n = 0;
    buf[0] = 0;
    uint32_t lv = bourse__book_level_find(e, bourse_symbol_find(e, sym, strlen(sym)), side, price);
    if (lv == NIL)
        return "(none)";
    for (uint32_t o = e->levels[lv].head; o != NIL && n < sizeof buf - 20; o = e->orders[o].next)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%.16s", n ? " " : "", e->orders[o].oid.s);
    return buf;
}

static int64_t best_price(const bourse_engine *e, const char *sym, int side)
{
    uint32_t lv = bourse__book_best(e, bourse_symbol_find(e, sym, strlen(sym)), side);
    return lv == NIL ? -1 : e->levels[lv].price;
}

static void test_fifo_within_level(void)
{
    bourse_engine *e = market(NULL);
    CHECK_LINE(e, "sell a s1 ACME 10 5", "ACCEPTED a s1\n");
    CHECK_LINE(e, "sell b s2 ACME 20 5", "ACCEPTED b s2\n");
    CHECK_LINE(e, "sell a s3 ACME 30 5", "ACCEPTED a s3\n");
    CHECK_STR(queue(e, "ACME", BOURSE_SELL, 50000), "s1 s2 s3");
    CHECK_LINE(e, "buy c b1 ACME 25 5 ioc",
               "ACCEPTED c b1\nTRADE ACME 10 5 c b1 a s1\nTRADE ACME 15 5 c b1 b s2\n");
    CHECK_STR(queue(e, "ACME", BOURSE_SELL, 50000), "s2 s3");
    CHECK_LINE(e, "book ACME", "LEVEL ACME ASK 5 35 2\n");
    /* A later order at the same price goes behind, even from the head's owner. */
    CHECK_LINE(e, "sell b s4 ACME 1 5", "ACCEPTED b s4\n");
    CHECK_STR(queue(e, "ACME", BOURSE_SELL, 50000), "s2 s3 s4");
    CHECK_LINE(e, "buy c b2 ACME 36 5",
               "ACCEPTED c b2\nTRADE ACME 5 5 c b2 b s2\nTRADE ACME 30 5 c b2 a s3\n"
               "TRADE ACME 1 5 c b2 b s4\n");
    CHECK_STR(queue(e, "ACME", BOURSE_SELL, 50000), "(none)");
    CHECK_EQ(e->nlevels, 0);
    CHECK(!inv_check(e, "fifo"));
    bourse_engine_free(e);
}

static void test_levels_at_and_away_from_top(void)
{
    bourse_engine *e = market(NULL);
    CHECK_LINE(e, "buy a b10 ACME 1 10", "ACCEPTED a b10\n");
    CHECK_LINE(e, "buy a b12 ACME 1 12", "ACCEPTED a b12\n"); /* new top */
    CHECK_LINE(e, "buy a b11 ACME 1 11", "ACCEPTED a b11\n"); /* between */
    CHECK_LINE(e, "buy a b9 ACME 1 9", "ACCEPTED a b9\n");    /* new bottom */
    CHECK_LINE(e, "sell b s14 ACME 1 14", "ACCEPTED b s14\n");
    CHECK_LINE(e, "sell b s13 ACME 1 13", "ACCEPTED b s13\n"); /* new top */
    CHECK_LINE(e, "sell b s15 ACME 1 15", "ACCEPTED b s15\n"); /* new bottom */
    CHECK_EQ(best_price(e, "ACME", BOURSE_BUY), 120000);
    CHECK_EQ(best_price(e, "ACME", BOURSE_SELL), 130000);
    CHECK_EQ(side_levels(side_of(e, "ACME", BOURSE_BUY)), 4);
    CHECK_LINE(e, "book ACME",
               "LEVEL ACME BID 12 1 1\nLEVEL ACME BID 11 1 1\nLEVEL ACME BID 10 1 1\nLEVEL ACME BID 9 1 1\n"
               "LEVEL ACME ASK 13 1 1\nLEVEL ACME ASK 14 1 1\nLEVEL ACME ASK 15 1 1\n");
    /* Removing away from the top: middle, then bottom. */
    CHECK_LINE(e, "cancel a b11", "CANCELED a b11 1 USER\n");
    CHECK_LINE(e, "cancel a b9", "CANCELED a b9 1 USER\n");
    CHECK_LINE(e, "cancel b s14", "CANCELED b s14 1 USER\n");
    CHECK_EQ(best_price(e, "ACME", BOURSE_BUY), 120000);
    CHECK_LINE(e, "book ACME",
               "LEVEL ACME BID 12 1 1\nLEVEL ACME BID 10 1 1\nLEVEL ACME ASK 13 1 1\n"
               "LEVEL ACME ASK 15 1 1\n");
    /* The other symbol's book is untouched by all this. */
    CHECK_LINE(e, "book ZED", "");
    CHECK(!inv_check(e, "levels"));
    bourse_engine_free(e);
}

static void test_best_after_best_empties(void)
{
    bourse_engine *e = market(NULL);
    CHECK_LINE(e, "sell a s1 ACME 5 10", "ACCEPTED a s1\n");
    CHECK_LINE(e, "sell a s2 ACME 5 10.5", "ACCEPTED a s2\n");
    CHECK_LINE(e, "sell a s3 ACME 5 11", "ACCEPTED a s3\n");
    /* Emptied by a trade: the next level becomes best. */
    CHECK_LINE(e, "buy b b1 ACME 5 10", "ACCEPTED b b1\nTRADE ACME 5 10 b b1 a s1\n");
    CHECK_EQ(best_price(e, "ACME", BOURSE_SELL), 105000);
    /* Emptied by a cancel. */
    CHECK_LINE(e, "cancel a s2", "CANCELED a s2 5 USER\n");
    CHECK_EQ(best_price(e, "ACME", BOURSE_SELL), 110000);
    /* Emptied by a replace to a worse price: it moves down the book. */
    CHECK_LINE(e, "sell a s4 ACME 5 12", "ACCEPTED a s4\n");
    CHECK_LINE(e, "replace a s3 s5 5 13", "REPLACED a s3 s5\n");
    CHECK_EQ(best_price(e, "ACME", BOURSE_SELL), 120000);
    CHECK_LINE(e, "book ACME", "LEVEL ACME ASK 12 5 1\nLEVEL ACME ASK 13 5 1\n");
    /* Sweep everything: the side is empty. */
    CHECK_LINE(e, "buy b b2 ACME 20 20",
               "ACCEPTED b b2\nTRADE ACME 5 12 b b2 a s4\nTRADE ACME 5 13 b b2 a s5\n");
    CHECK_EQ(best_price(e, "ACME", BOURSE_SELL), -1);
    CHECK_EQ(best_price(e, "ACME", BOURSE_BUY), 200000);
    CHECK_LINE(e, "book ACME", "LEVEL ACME BID 20 10 1\n");
    CHECK(!inv_check(e, "best"));
    bourse_engine_free(e);
}

static void test_cancel_head_middle_tail(void)
{
    bourse_engine *e = market(NULL);
    const char *ids[] = {"o1", "o2", "o3", "o4", "o5"};
    char line[64];
    for (int i = 0; i < 5; i++) {
        snprintf(line, sizeof line, "buy %c %s ACME %d 7", "abc"[i % 3], ids[i], i + 1);
        apply_line(e, line);
    }
    CHECK_STR(queue(e, "ACME", BOURSE_BUY, 70000), "o1 o2 o3 o4 o5");
    CHECK_LINE(e, "cancel c o3", "CANCELED c o3 3 USER\n"); /* middle */
    CHECK_STR(queue(e, "ACME", BOURSE_BUY, 70000), "o1 o2 o4 o5");
    CHECK_LINE(e, "cancel a o1", "CANCELED a o1 1 USER\n"); /* head */
    CHECK_STR(queue(e, "ACME", BOURSE_BUY, 70000), "o2 o4 o5");
    CHECK_LINE(e, "cancel b o5", "CANCELED b o5 5 USER\n"); /* tail */
    CHECK_STR(queue(e, "ACME", BOURSE_BUY, 70000), "o2 o4");
    CHECK_LINE(e, "book ACME", "LEVEL ACME BID 7 6 2\n");
    CHECK(!inv_check(e, "cancel"));
    /* A canceled order is gone for good, and its id stays taken. */
    CHECK_LINE(e, "cancel c o3", "REJECTED c o3 UNKNOWN_ORDER\n");
    CHECK_LINE(e, "buy c o3 ACME 1 7", "REJECTED c o3 DUPLICATE_ID\n");
    /* Another user may use the same id. */
    CHECK_LINE(e, "cancel a o2", "REJECTED a o2 UNKNOWN_ORDER\n");
    CHECK_LINE(e, "cancel b o2", "CANCELED b o2 2 USER\n");
    CHECK_LINE(e, "cancel a o4", "CANCELED a o4 4 USER\n");
    CHECK_EQ(e->nlevels, 0);
    CHECK_EQ(e->norders, 0);
    CHECK_EQ(bourse__u64map_get(&e->level_by_key, level_key(0, BOURSE_BUY, 70000)), MAP_EMPTY);
    CHECK(!inv_check(e, "cancel"));
    bourse_engine_free(e);
}

/* More levels than a side's initial index holds, added and removed in a
 * scrambled order: the index must stay sorted and the book must print so. */
static void test_many_levels(void)
{
    bourse_engine *e = market(NULL);
    char line[80], want[4096];
    int prices[60];
    for (int i = 0; i < 60; i++)
        prices[i] = 100 + (i * 37) % 60; /* a permutation of 100..159 */
    for (int i = 0; i < 60; i++) {
        snprintf(line, sizeof line, "buy a b%d ACME 1 %d gtc", prices[i], prices[i]);
        apply_line(e, line);
        snprintf(line, sizeof line, "sell b s%d ACME 1 %d gtc", prices[i], prices[i] + 100);
        apply_line(e, line);
        if (i % 5 == 0)
            CHECK(!inv_check(e, "many levels"));
    }
    CHECK_EQ(side_levels(side_of(e, "ACME", BOURSE_BUY)), 60);
    CHECK(side_of(e, "ACME", BOURSE_BUY)->cap >= 60);
    for (int i = 0; i < 60; i += 2) { /* every other one, scrambled */
        snprintf(line, sizeof line, "cancel a b%d", prices[i]);
        apply_line(e, line);
    }
    CHECK(!inv_check(e, "many levels"));
    size_t n = 0;
    bool gone[200] = {0};
    for (int i = 0; i < 60; i += 2)
        gone[prices[i]] = true;
    for (int p = 159; p >= 100; p--)
        if (!gone[p])
            n += (size_t)snprintf(want + n, sizeof want - n, "LEVEL ACME BID %d 1 1\n", p);
    for (int p = 200; p < 260; p++)
        n += (size_t)snprintf(want + n, sizeof want - n, "LEVEL ACME ASK %d 1 1\n", p);
    CHECK_LINE(e, "book ACME", want);
    bourse_engine_free(e);
}

/* An order pool of 4: full pool refuses resting orders with CAPACITY and
 * changes nothing; released slots are reused, the high-water mark stays. */
static void test_pool_reuse_and_capacity(void)
{
    bourse_engine *e = market(&(bourse_limits){.orders = 4, .ids = 4096});
    char line[80];
    for (int i = 0; i < 4; i++) {
        snprintf(line, sizeof line, "buy a p%d ACME 1 %d gtc", i, 10 + i);
        apply_line(e, line);
    }
    CHECK_EQ(e->norders, 4);
    uint64_t h = bourse_engine_hash(e);
    CHECK_LINE(e, "buy b x1 ACME 1 5", "REJECTED b x1 CAPACITY\n");
    CHECK_LINE(e, "sell b x2 ACME 1 50 gtc", "REJECTED b x2 CAPACITY\n");
    CHECK_EQ(bourse_engine_hash(e), h); /* the refused id is still free */
    CHECK_LINE(e, "sell b x1 ACME 1 50 ioc", "ACCEPTED b x1\nCANCELED b x1 1 IOC\n");
    /* ioc and fok never rest, so they need no slot. */
    CHECK_LINE(e, "sell b x3 ACME 1 13 fok", "ACCEPTED b x3\nTRADE ACME 1 13 a p3 b x3\n");
    CHECK_EQ(e->norders, 3);
    /* Even a resting order that would fill at once needs a free slot. */
    CHECK_LINE(e, "buy b x4 ACME 1 10", "ACCEPTED b x4\n");
    CHECK_LINE(e, "sell c x5 ACME 1 10", "REJECTED c x5 CAPACITY\n");
    /* A replace reuses its own slot. */
    CHECK_LINE(e, "replace a p0 q0 2 11", "REPLACED a p0 q0\n");
    CHECK(!inv_check(e, "pool"));
    /* Churn: cancel and re-add many times within the 4 slots. */
    for (int i = 0; i < 200; i++) {
        snprintf(line, sizeof line, "cancel b %s%d", i ? "r" : "x", i ? i - 1 : 4);
        apply_line(e, line);
        snprintf(line, sizeof line, "buy b r%d ACME 1 %d", i, 1 + i % 9);
        CHECK(strncmp(apply_line(e, line), "ACCEPTED", 8) == 0);
    }
    CHECK_EQ(e->orders_hwm, 4);
    CHECK_EQ(e->norders, 4);
    CHECK(e->levels_hwm <= 4);
    CHECK(!inv_check(e, "pool"));
    bourse_engine_free(e);
}

/* Refusals for each full table leave the state exactly as it was. */
static void test_capacity_refusals(void)
{
    bourse_limits lim = {.symbols = 2, .users = 3, .orders = 64, .ids = 8, .positions = 5};
    bourse_engine *e = bourse_engine_new(&lim);
    static const char *const setup[] = {"symbol A",
                                        "symbol B",
                                        "user u1",
                                        "user u2",
                                        "user u3",
                                        "deposit u1 CASH 1000",
                                        "deposit u2 CASH 1000",
                                        "deposit u1 A 10",
                                        "deposit u1 B 10",
                                        "deposit u2 A 10",
                                        "deposit u3 B 10",
                                        NULL};
    apply_ok(e, setup);
    uint64_t h = bourse_engine_hash(e);
    CHECK_LINE(e, "symbol C", "ERROR CAPACITY\n");
    CHECK_LINE(e, "symbol A", "ERROR DUPLICATE_SYMBOL\n"); /* duplicate comes first */
    CHECK_LINE(e, "user u4", "ERROR CAPACITY\n");
    CHECK_LINE(e, "user u1", "ERROR DUPLICATE_USER\n");
    CHECK_EQ(bourse_engine_hash(e), h);
    /* Positions: 4 of 5 used; u2 buying B opens the 5th, then none is left. */
    CHECK_LINE(e, "buy u2 b1 B 1 1", "ACCEPTED u2 b1\n");
    CHECK_EQ(e->npositions, 5);
    h = bourse_engine_hash(e);
    CHECK_LINE(e, "deposit u3 A 1", "ERROR CAPACITY\n");
    CHECK_LINE(e, "buy u3 b2 A 1 1", "REJECTED u3 b2 INSUFFICIENT_CASH\n"); /* rule 7 checks first */
    CHECK_LINE(e, "deposit u3 CASH 5", "OK\n");                             /* cash needs no position */
    CHECK_LINE(e, "buy u3 b2 A 1 1", "REJECTED u3 b2 CAPACITY\n");
    CHECK_LINE(e, "deposit u2 A 1", "OK\n"); /* an existing position */
    CHECK(!inv_check(e, "capacity"));
    /* Ids: 8 may be taken in all; replaces take one too. */
    CHECK_LINE(e, "buy u1 i1 A 1 1", "ACCEPTED u1 i1\n");
    CHECK_LINE(e, "replace u1 i1 i2 1 1", "REPLACED u1 i1 i2\n");
    char line[64];
    for (int i = 3; i <= 7; i++) {
        snprintf(line, sizeof line, "buy u1 i%d A 1 1", i);
        apply_line(e, line);
    }
    CHECK_EQ(e->order_by_id.n, 8);
    h = bourse_engine_hash(e);
    CHECK_LINE(e, "buy u1 i8 A 1 1", "REJECTED u1 i8 CAPACITY\n");
    CHECK_LINE(e, "sell u1 i8 A 1 1 ioc", "REJECTED u1 i8 CAPACITY\n");
    CHECK_LINE(e, "replace u1 i2 i9 1 1", "REJECTED u1 i9 CAPACITY\n");
    CHECK_LINE(e, "buy u1 i1 A 1 1", "REJECTED u1 i1 DUPLICATE_ID\n");
    CHECK_EQ(bourse_engine_hash(e), h);
    /* Cancels need no capacity. */
    CHECK_LINE(e, "cancel u1 i2", "CANCELED u1 i2 1 USER\n");
    CHECK(!inv_check(e, "capacity"));
    bourse_engine_free(e);
}

/* Tables grown by bourse_engine_reserve() keep every table's contents. */
static void test_reserve_growth(void)
{
    bourse_engine *e = bourse_engine_new(&(bourse_limits){1, 1, 1, 1, 1});
    char line[80];
    for (int i = 0; i < 300; i++) {
        CHECK_EQ(bourse_engine_reserve(e), 0);
        int k = i % 6;
        if (k == 0)
            snprintf(line, sizeof line, "symbol S%d", i);
        else if (k == 1)
            snprintf(line, sizeof line, "user u%d", i);
        else if (k == 2)
            snprintf(line, sizeof line, "deposit u%d CASH 1000", i - 1);
        else if (k == 3)
            snprintf(line, sizeof line, "deposit u%d S%d 100", i - 2, i - 3);
        else if (k == 4)
            snprintf(line, sizeof line, "buy u%d b%d S%d 1 %d", i - 3, i, i - 4, 1 + i % 7);
        else
            snprintf(line, sizeof line, "sell u%d s%d S%d 1 %d", i - 4, i, i - 5, 9 + i % 7);
        const char *got = apply_line(e, line);
        CHECK(strncmp(got, "OK", 2) == 0 || strncmp(got, "ACCEPTED", 8) == 0);
    }
    CHECK_EQ(e->nsymbols, 50);
    CHECK_EQ(e->nusers, 50);
    CHECK_EQ(e->norders, 100);
    CHECK(!inv_check(e, "reserve"));
    for (int i = 0; i < 300; i += 6) {
        snprintf(line, sizeof line, "S%d", i);
        CHECK_EQ(bourse_symbol_find(e, line, strlen(line)), i / 6);
        snprintf(line, sizeof line, "u%d", i + 1);
        CHECK_EQ(bourse_user_find(e, line, strlen(line)), i / 6);
    }
    bourse_engine_free(e);
}

int main(void)
{
    RUN(test_fifo_within_level);
    RUN(test_levels_at_and_away_from_top);
    RUN(test_best_after_best_empties);
    RUN(test_cancel_head_middle_tail);
    RUN(test_many_levels);
    RUN(test_pool_reuse_and_capacity);
    RUN(test_capacity_refusals);
    RUN(test_reserve_growth);
    return CHECK_DONE();
}
