/*
 * test_book_index.c - each side's sorted price index (src/core/book.c) under
 * many levels made and removed at the top, the bottom and in between, so
 * both ways of opening and closing a hole, re-centring and growth all run.
 * The book's LEVEL events are checked against a model after every step.
 */
#include "bourse/bourse.h"
#include "check.h"

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

/* Bids at 1..PRICES, asks at 10,001.. : never crossing. */
static int64_t price_of(int side, int i)
{
    return (side == BOURSE_BUY ? 1 + i : 10001 + i) * BOURSE_SCALE;
}

static void on_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    (void)ctx, (void)cmd;
    if (ev->type == BOURSE_EV_LEVEL && got.n < 2 * PRICES) {
        int i = (int)(ev->price / BOURSE_SCALE - (ev->side == BOURSE_BUY ? 1 : 10001));
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

static void test_levels_everywhere(void)
{
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
    int mismatches = 0;
    for (int step = 0; step < STEPS; step++) {
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
        if (!book_matches(e) && mismatches++ < 3)
            printf("FAIL test_levels_everywhere: book differs from the model after step %d\n", step);
    }
    CHECK_EQ(mismatches, 0);
    CHECK_EQ(got.bad, 0);
    bourse_engine_free(e);
}

int main(void)
{
    rng_state = 42;
    RUN(test_levels_everywhere);
    return CHECK_DONE();
}
