/*
 * test_feed_publish.c - the publisher against the core: random commands go
 * through an engine, every event through the publisher, and
 *   - the publisher's book (LEVEL lines) equals the core's `book` output,
 *   - subscribers that join late (snapshot, then increments) end with the
 *     same book, volume and candles,
 *   - traded volume on the feed equals the core's trades,
 *   - candles equal candles computed independently (with libc's gmtime) from
 *     the core's trades,
 *   - every message survives encode/decode, and a replay gives the same
 *     stream byte for byte.
 */
#include "bourse/text.h"
#include "check.h"
#include "feed/follow.h"
#include "feed/publish.h"
#include "test_feed_sim.h"

#include <time.h>

#define STEPS 3000
#define JOINERS 6

typedef struct trade_rec {
    uint32_t sym;
    int64_t ts, price, qty;
} trade_rec;

typedef struct world {
    sim s;
    pub p;
    itch_msg *msgs;
    size_t nmsgs, cap;
    uint8_t *bytes; /* every encoded message, for the replay check */
    size_t nbytes, bcap;
    trade_rec *trades;
    size_t ntrades, tcap;
    int64_t session_volume[SIM_SYMS];
    int closed;
    int codec_errors;
    feed_rec pend[4096]; /* the current command's records */
    int npend;
} world;

static void on_msg(void *ctx, const itch_msg *m)
{
    world *w = ctx;
    uint8_t buf[ITCH_MAX];
    uint8_t again[ITCH_MAX];
    itch_msg back = {0};
    size_t n = itch_encode(m, buf);
    if (n == 0 || itch_decode(buf, n, &back) < 0 || itch_encode(&back, again) != n || memcmp(buf, again, n))
        w->codec_errors++;
    if (w->nmsgs == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 4096;
        w->msgs = realloc(w->msgs, w->cap * sizeof *w->msgs);
    }
    w->msgs[w->nmsgs++] = back;
    if (w->nbytes + n > w->bcap) {
        w->bcap = (w->nbytes + n) * 2;
        w->bytes = realloc(w->bytes, w->bcap);
    }
    memcpy(w->bytes + w->nbytes, buf, n);
    w->nbytes += n;
}

static void on_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    world *w = ctx;
    if (w->npend < 4096 && feed_rec_make(&w->pend[w->npend], cmd, ev))
        w->npend++;
    if (ev->type == BOURSE_EV_TRADE) {
        if (w->ntrades == w->tcap) {
            w->tcap = w->tcap ? w->tcap * 2 : 1024;
            w->trades = realloc(w->trades, w->tcap * sizeof *w->trades);
        }
        w->trades[w->ntrades++] = (trade_rec){ev->symbol, cmd->ts_ns, ev->price, ev->qty};
        w->session_volume[ev->symbol] += ev->qty;
    }
    if (ev->type == BOURSE_EV_OK && cmd->type == BOURSE_CMD_CLOSE)
        w->closed = 1;
    if (ev->type == BOURSE_EV_OK && cmd->type == BOURSE_CMD_OPEN && w->closed) {
        w->closed = 0;
        memset(w->session_volume, 0, sizeof w->session_volume);
    }
}

static void commit(world *w)
{
    /* The command's records, its end marked as the feed's producer does it,
     * or (every other command) followed by a COMMIT record. */
    int explicit_commit = w->s.seq % 2;
    if (w->npend && !explicit_commit)
        w->pend[w->npend - 1].end = 1;
    for (int i = 0; i < w->npend; i++)
        pub_apply(&w->p, &w->pend[i]);
    if (explicit_commit)
        pub_apply(&w->p, &(feed_rec){.kind = REC_COMMIT, .ts = w->s.ts});
    w->npend = 0;
}

static void snap_msg(void *ctx, const itch_msg *m)
{
    follower *f = ctx;
    uint8_t buf[ITCH_MAX];
    itch_msg back = {0};
    size_t n = itch_encode(m, buf);
    if (itch_decode(buf, n, &back) < 0 || follow_apply(f, &back) < 0)
        f->errors++;
}

static void world_init(world *w, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    CHECK(pub_init(&w->p, 64, on_msg, w) == 0);
    sim_init(&w->s, seed, on_event, w);
    commit(w);
}

static void world_free(world *w)
{
    bourse_engine_free(w->s.e);
    pub_free(&w->p);
    free(w->msgs);
    free(w->bytes);
    free(w->trades);
}

/* The candles of one symbol and interval, computed with libc. */
static int64_t libc_bucket(int interval, int64_t ts)
{
    time_t t = (time_t)(ts / 1000000000LL);
    struct tm tm;
    gmtime_r(&t, &tm);
    switch (interval) {
    case CANDLE_1M: tm.tm_sec = 0; break;
    case CANDLE_5M: tm.tm_sec = 0, tm.tm_min -= tm.tm_min % 5; break;
    case CANDLE_1H: tm.tm_sec = tm.tm_min = 0; break;
    case CANDLE_1D: tm.tm_sec = tm.tm_min = tm.tm_hour = 0; break;
    case CANDLE_1W:
        tm.tm_sec = tm.tm_min = tm.tm_hour = 0;
        tm.tm_mday -= (tm.tm_wday + 6) % 7; /* back to Monday */
        break;
    default: tm.tm_sec = tm.tm_min = tm.tm_hour = 0, tm.tm_mday = 1;
    }
    return (int64_t)timegm(&tm) * 1000000000LL;
}

static void check_candles(world *w, const fbook *b, uint32_t sym)
{
    for (int iv = 0; iv < CANDLE_INTERVALS; iv++) {
        candle want[64];
        int n = 0;
        for (size_t i = 0; i < w->ntrades; i++) {
            const trade_rec *t = &w->trades[i];
            if (t->sym != sym)
                continue;
            int64_t start = libc_bucket(iv, t->ts);
            candle *c = &want[(n - 1 + 64) % 64];
            if (n && c->start == start) {
                c->high = t->price > c->high ? t->price : c->high;
                c->low = t->price < c->low ? t->price : c->low;
                c->close = t->price;
                c->volume += t->qty;
            } else {
                want[n % 64] = (candle){start, t->price, t->price, t->price, t->price, t->qty};
                n++;
            }
        }
        const candle_ring *r = &b->syms[sym].candles[iv];
        CHECK_EQ(r->n, n < 64 ? n : 64);
        for (uint32_t i = 0; i < r->n; i++) {
            const candle *got = candle_ring_get(r, i);
            const candle *c = &want[(n - 1 - (int)i + 64 * 2) % 64];
            CHECK(got && !memcmp(got, c, sizeof *c));
        }
    }
}

static void check_book(world *w, const fbook *b)
{
    for (uint32_t sym = 0; sym < SIM_SYMS; sym++) {
        char *want = sim_book(&w->s, sim_syms[sym]);
        size_t cap = strlen(want) + 64;
        char *got = malloc(cap);
        size_t n = fbook_format_levels(b, sym, got, cap);
        CHECK(n < cap && !strcmp(got, want));
        if (n >= cap || strcmp(got, want))
            printf("# want:\n%s# got:\n%s", want, n < cap ? got : "(too long)\n");
        CHECK_EQ(b->syms[sym].volume, w->session_volume[sym]);
        free(want);
        free(got);
    }
}

static void test_random_market(void)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        world w;
        world_init(&w, seed);
        follower f[JOINERS];
        size_t joined_at[JOINERS];
        int joined = 0;
        for (int step = 0; step < STEPS; step++) {
            sim_step(&w.s);
            commit(&w);
            if (joined < JOINERS && step == (joined * joined + 1) * STEPS / (JOINERS * JOINERS + 1)) {
                follow_init(&f[joined], 64);
                pub_snapshot(&w.p, snap_msg, &f[joined]);
                itch_msg end = {.type = ITCH_SNAPSHOT_END, .seq = w.nmsgs};
                snap_msg(&f[joined], &end);
                joined_at[joined++] = w.nmsgs;
            }
            if (step % 500 == 0)
                check_book(&w, &w.p.book);
        }
        CHECK_EQ(w.p.errors, 0);
        CHECK_EQ(w.codec_errors, 0);
        CHECK(w.ntrades > 100);
        check_book(&w, &w.p.book);
        for (uint32_t sym = 0; sym < SIM_SYMS; sym++)
            check_candles(&w, &w.p.book, sym);

        /* Feed volume = core trades. */
        int64_t fed = 0, core = 0;
        for (size_t i = 0; i < w.nmsgs; i++)
            fed += w.msgs[i].type == ITCH_EXECUTED ? w.msgs[i].qty : 0;
        for (size_t i = 0; i < w.ntrades; i++)
            core += w.trades[i].qty;
        CHECK_EQ(fed, core);

        for (int j = 0; j < joined; j++) {
            for (size_t i = joined_at[j]; i < w.nmsgs; i++)
                follow_apply(&f[j], &w.msgs[i]);
            CHECK_EQ(f[j].errors, 0);
            check_book(&w, &f[j].book);
            for (uint32_t sym = 0; sym < SIM_SYMS; sym++)
                check_candles(&w, &f[j].book, sym);
            follow_free(&f[j]);
        }

        /* The same commands publish the same bytes. */
        world again;
        world_init(&again, seed);
        for (int step = 0; step < STEPS; step++) {
            sim_step(&again.s);
            commit(&again);
        }
        CHECK(again.nbytes == w.nbytes && !memcmp(again.bytes, w.bytes, w.nbytes));
        world_free(&again);
        world_free(&w);
    }
}

static void test_candle_boundaries(void)
{
    /* 2024-02-29T12:34:56Z is a Thursday in a leap February. */
    int64_t ts = 1709210096LL * 1000000000LL + 5;
    char buf[32];
    candle_time_format(candle_bucket(CANDLE_1W, ts), buf);
    CHECK(!strcmp(buf, "2024-02-26T00:00:00Z"));
    candle_time_format(candle_bucket(CANDLE_1MO, ts), buf);
    CHECK(!strcmp(buf, "2024-02-01T00:00:00Z"));
    candle_time_format(candle_bucket(CANDLE_5M, ts), buf);
    CHECK(!strcmp(buf, "2024-02-29T12:30:00Z"));
    candle_time_format(candle_bucket(CANDLE_1MO, -1), buf);
    CHECK(!strcmp(buf, "1969-12-01T00:00:00Z"));
    CHECK_EQ(candle_interval_parse("1M"), CANDLE_1MO);
    CHECK_EQ(candle_interval_parse("2m"), -1);
}

static void test_decode_hostile(void)
{
    uint8_t buf[ITCH_MAX + 8];
    itch_msg m;
    uint64_t rng = 7;
    int ok = 0;
    for (int i = 0; i < 200000; i++) {
        static const size_t lens[] = {14, 21, 42, 33, 25, 21, 41, 42, 62, 21, 0, 1, 13, 70};
        size_t n = lens[rng % 14];
        for (size_t j = 0; j < n; j++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            buf[j] = (uint8_t)rng;
        }
        if (n)
            buf[0] = "SRAEXDUVKGZ"[rng % 11];
        ok += itch_decode(buf, n, &m) == 0;
    }
    CHECK(ok > 0);
}

/* replay v2 on the feed: halts and the emergency stop as trading actions
 * (H), the reference price and band as J, also after a trade moves it, and
 * both in a late joiner's snapshot. */
#define CHECK_STR(got, want)                                                                                 \
    do {                                                                                                     \
        const char *g_ = (got), *w_ = (want);                                                                \
        if (strcmp(g_, w_) != 0) {                                                                           \
            printf("FAIL %s:%d: got '%s', want '%s'\n", __FILE__, __LINE__, g_, w_);                         \
            check_failures++;                                                                                \
        }                                                                                                    \
    } while (0)

typedef struct v2_feed {
    bourse_engine *e;
    pub p;
    char text[4096];
    size_t len;
    feed_rec recs[64];
    int n;
} v2_feed;

static void v2_msg(void *ctx, const itch_msg *m)
{
    v2_feed *v = ctx;
    uint8_t buf[ITCH_MAX];
    itch_msg back = {0};
    size_t n = itch_encode(m, buf);
    CHECK(n > 0 && itch_decode(buf, n, &back) == 0);
    char line[200];
    if (m->type == ITCH_TRADING_ACTION || m->type == ITCH_PRICE_BAND) {
        itch_format(&back, line, sizeof line);
        const char *t = strchr(line, ' ') + 1; /* without the time */
        v->len += (size_t)snprintf(v->text + v->len, sizeof v->text - v->len, "%u %s\n", back.locate, t);
    }
}

static void v2_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    v2_feed *v = ctx;
    if (v->n < 64 && feed_rec_make(&v->recs[v->n], cmd, ev))
        v->n++;
}

static const char *v2_line(v2_feed *v, const char *line)
{
    bourse_cmd c;
    char err[200];
    CHECK_EQ(bourse_text_parse(line, strlen(line), &c, err, sizeof err), BOURSE_TEXT_CMD);
    bourse_engine_resolve(v->e, &c);
    v->len = 0, v->text[0] = 0, v->n = 0;
    bourse_engine_apply(v->e, &c, v2_event, v);
    for (int i = 0; i < v->n; i++) {
        v->recs[i].end = i == v->n - 1;
        pub_apply(&v->p, &v->recs[i]);
    }
    return v->text;
}

static void test_halts_and_bands(void)
{
    v2_feed v = {.e = bourse_engine_new(NULL)};
    CHECK(pub_init(&v.p, 8, v2_msg, &v) == 0);
    static const char *const setup[] = {"symbol ACME", "symbol BETA",         "user a",
                                        "user b",      "deposit a CASH 1000", "deposit b ACME 100"};
    for (size_t i = 0; i < sizeof setup / sizeof *setup; i++)
        CHECK_STR(v2_line(&v, setup[i]), "");
    CHECK_STR(v2_line(&v, "halt ACME"), "1 HALT ACME\n");
    CHECK_STR(v2_line(&v, "halt ACME"), "");
    CHECK_STR(v2_line(&v, "haltall"), "2 HALT BETA market-wide\n");
    CHECK_STR(v2_line(&v, "resume ACME"), ""); /* still stopped market-wide */
    CHECK_STR(v2_line(&v, "resumeall"), "1 RESUME ACME\n2 RESUME BETA\n");
    CHECK_STR(v2_line(&v, "rules ACME band=10 ref=10"), "1 BAND ACME ref 10 9 11\n");
    CHECK_STR(v2_line(&v, "rules ACME tick=0.01"), ""); /* band and reference unchanged */
    CHECK_STR(v2_line(&v, "sell b s1 ACME 10 10.5"), "");
    CHECK_STR(v2_line(&v, "buy a b1 ACME 5 10.5"), "1 BAND ACME ref 10.5 9.45 11.55\n");
    CHECK_STR(v2_line(&v, "halt BETA"), "2 HALT BETA\n");
    /* a late joiner learns both from the snapshot */
    follower f;
    CHECK(follow_init(&f, 8) == 0);
    pub_snapshot(&v.p, snap_msg, &f);
    CHECK_EQ(f.errors, 0);
    CHECK(!f.book.syms[0].halted && f.book.syms[1].halted);
    CHECK_EQ(f.book.syms[0].ref, 105000);
    CHECK_EQ(f.book.syms[0].band_lo, 94500);
    CHECK_EQ(f.book.syms[0].band_hi, 115500);
    CHECK_EQ(f.book.syms[1].band_hi, 0);
    CHECK_EQ(v.p.errors, 0);
    follow_free(&f);
    pub_free(&v.p);
    bourse_engine_free(v.e);
}

int main(void)
{
    RUN(test_candle_boundaries);
    RUN(test_decode_hostile);
    RUN(test_random_market);
    RUN(test_halts_and_bands);
    return CHECK_DONE();
}
