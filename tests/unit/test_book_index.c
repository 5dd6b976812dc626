/*
 * test_book_index.c - each side's price index (src/core/book.c: the ladder
 * and the sorted far levels) under many levels made and removed at the top,
 * the bottom and in between, so both ways of opening and closing a hole,
 * re-centring and growth all run, with prices all far, all in the ladder
 * (some off its grid) and both, and sides emptied now and then so that the
 * ladder moves.
 * The book's LEVEL events are checked against a model after every step.
 */
#include "bourse/bourse.h"
#include "check.h"
#include "core/internal.h"
#include "invariants.h"

#include <string.h>

enum { PRICES = 600, STEPS = 20000 };

typedef struct model {
    int64_t qty[2][PRICES];
    int64_t count[2][PRICES];
} model;

typedef struct seen {
    int n, bad;
    int side[2 * PRICES], idx[2 * PRICES];
    int64_t qty[2 * PRICES], count[2 * PRICES];
} seen;

static model m;
static seen got;
#include "rng.h"

/* Price index i of a side is at base[side] + i x unit, and, when `odd` is
 * set, every 7th index is 5 units off the grid: bids below asks, never
 * crossing.  Whole units put most levels out of the ladder's range (far);
 * cents put them all in range, the odd ones off its grid; 0.05 both. */
static int64_t unit, base[2];
static int odd;
static uint32_t most_ladder, most_far; /* the most levels seen in each part of a side */

static int64_t price_of(int side, int i)
{
    return base[side] + i * unit + (odd && i % 7 == 3 ? 5 : 0);
}

static void prices(int64_t u, int off_grid)
{
    unit = u, odd = off_grid;
    base[BOURSE_BUY] = 100 * BOURSE_SCALE;
    base[BOURSE_SELL] = base[BOURSE_BUY] + (PRICES + 1) * u;
}

static void on_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    (void)ctx, (void)cmd;
    if (ev->type == BOURSE_EV_LEVEL && got.n < 2 * PRICES) {
        int i = (int)((ev->price - base[ev->side]) / unit);
        got.side[got.n] = ev->side, got.idx[got.n] = i;
        got.qty[got.n] = ev->qty, got.count[got.n] = ev->count;
        got.n++;
    } else if (ev->type != BOURSE_EV_LEVEL && ev->type != BOURSE_EV_OK && ev->type != BOURSE_EV_ACCEPTED &&
               ev->type != BOURSE_EV_CANCELED) {
        got.bad++;
    }
}

static int book_matches(bourse_engine *e)
{
    got.n = 0;
    bourse_cmd c = {.type = BOURSE_CMD_BOOK, .symbol = 0};
    bourse_engine_apply(e, &c, on_event, NULL);
    int k = 0;
    for (int side = 0; side < 2; side++) {
        /* Best first: bids from the highest price, asks from the lowest. */
        for (int j = 0; j < PRICES; j++) {
            int i = side == BOURSE_BUY ? PRICES - 1 - j : j;
            if (!m.count[side][i])
                continue;
            if (k >= got.n || got.side[k] != side || got.idx[k] != i || got.qty[k] != m.qty[side][i] ||
                got.count[k] != m.count[side][i])
                return 0;
            k++;
        }
    }
    return k == got.n;
}

static void cmd_name(bourse_name *n, const char *s)
{
    memset(n, 0, sizeof *n);
    memcpy(n->s, s, strlen(s));
}

static void levels_everywhere(const char *name)
{
    memset(&m, 0, sizeof m);
    memset(&got, 0, sizeof got);
    most_ladder = most_far = 0;
    bourse_limits lim = {.orders = 4096, .ids = 2 * STEPS};
    bourse_engine *e = bourse_engine_new(&lim);
    bourse_cmd c = {.type = BOURSE_CMD_SYMBOL};
    memcpy(c.symbol_name.s, "ACME", 4);
    bourse_engine_apply(e, &c, on_event, NULL);
    c = (bourse_cmd){.type = BOURSE_CMD_USER};
    cmd_name(&c.user_name, "u");
    bourse_engine_apply(e, &c, on_event, NULL);
    c = (bourse_cmd){.type = BOURSE_CMD_DEPOSIT, .user = 0, .symbol = BOURSE_CASH, .qty = 1000000000000000LL};
    bourse_engine_apply(e, &c, on_event, NULL);
    c = (bourse_cmd){.type = BOURSE_CMD_DEPOSIT, .user = 0, .symbol = 0, .qty = 1000000000LL};
    bourse_engine_apply(e, &c, on_event, NULL);

    /* Open orders: at most one per price, named by side and price index. */
    static int open[2][PRICES], serial;
    memset(open, 0, sizeof open);
    int mismatches = 0;
    for (int step = 0; step < STEPS; step++) {
        if (step % 5000 == 4999) {
            /* Empty both sides: each side's ladder starts again from its next level. */
            for (int sd = 0; sd < 2; sd++)
                for (int k = 0; k < PRICES; k++)
                    if (open[sd][k]) {
                        char oid[16];
                        c = (bourse_cmd){.type = BOURSE_CMD_CANCEL, .user = 0};
                        snprintf(oid, sizeof oid, "o%d", open[sd][k]);
                        cmd_name(&c.oid, oid);
                        bourse_engine_apply(e, &c, on_event, NULL);
                        m.qty[sd][k] = m.count[sd][k] = 0;
                        open[sd][k] = 0;
                    }
        }
        int side = (int)(rnd() & 1);
        /* Phases: near the top, near the bottom, anywhere. */
        int phase = (step / 2000) % 3, i;
        uint64_t r = rnd() % PRICES;
        int deep = phase == 0 ? (int)(r % 40) : phase == 1 ? PRICES - 1 - (int)(r % 40) : (int)r;
        i = side == BOURSE_BUY ? PRICES - 1 - deep : deep; /* deep 0 = best */
        char oid[16];
        if (open[side][i]) {
            c = (bourse_cmd){.type = BOURSE_CMD_CANCEL, .user = 0};
            snprintf(oid, sizeof oid, "o%d", open[side][i]);
            cmd_name(&c.oid, oid);
            bourse_engine_apply(e, &c, on_event, NULL);
            m.qty[side][i] = m.count[side][i] = 0;
            open[side][i] = 0;
        } else {
            open[side][i] = ++serial;
            c = (bourse_cmd){.type = BOURSE_CMD_ORDER,
                             .user = 0,
                             .symbol = 0,
                             .side = (uint8_t)side,
                             .tif = BOURSE_GTC,
                             .qty = 1 + step % 7,
                             .price = price_of(side, i)};
            snprintf(oid, sizeof oid, "o%d", serial);
            cmd_name(&c.oid, oid);
            bourse_engine_apply(e, &c, on_event, NULL);
            m.qty[side][i] = 1 + step % 7;
            m.count[side][i] = 1;
        }
        for (int sd = 0; sd < 2; sd++) {
            const book_side *bs = &e->symbols[0].side[sd];
            most_ladder = bs->wn > most_ladder ? bs->wn : most_ladder;
            most_far = bs->n > most_far ? bs->n : most_far;
        }
        if (step % 1000 == 0 && inv_check(e, name))
            mismatches++;
        if (!book_matches(e) && mismatches++ < 3)
            printf("FAIL %s: book differs from the model after step %d\n", name, step);
    }
    CHECK_EQ(mismatches, 0);
    CHECK_EQ(got.bad, 0);
    CHECK(!inv_check(e, name));
    bourse_engine_free(e);
}

static void test_levels_far(void)
{
    prices(BOURSE_SCALE, 0);
    levels_everywhere("far");
    CHECK(most_far > 250); /* of 600 prices a side, about half open */
}

static void test_levels_ladder(void)
{
    prices(100, 1);
    levels_everywhere("ladder");
    CHECK(most_ladder > 250 && most_far > 20);
}

static void test_levels_both(void)
{
    prices(500, 0);
    levels_everywhere("both");
    CHECK(most_ladder > 150 && most_far > 150);
}

int main(void)
{
    rng_state = 42;
    RUN(test_levels_far);
    RUN(test_levels_ladder);
    RUN(test_levels_both);
    return CHECK_DONE();
}
