/*
 * test_feed_restore.c - feed snapshots (src/feed/fsnap.c): a publisher
 * saved at a seq and loaded again (with the engine as it was at that seq)
 * equals the publisher that went on without a break, field by field and in
 * every message it publishes afterwards; damaged or disagreeing files are
 * refused whole, leaving the publisher untouched.
 *
 * The continuous publisher gets each command's records as the live feed
 * does (the last marked `end`); the restored one as recovery replays them
 * (each applied at once, a COMMIT after the command): both paths are
 * checked to agree.
 */
#include "check.h"
#include "feed/fsnap.h"
#include "journal/crc32c.h"
#include "test_feed_sim.h"

#include <unistd.h>

#define STEPS 18000
#define SAVE_AT 16000

typedef struct bytes {
    uint8_t *p;
    size_t n, cap;
} bytes;

static void bytes_put(bytes *b, const void *v, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, v, n);
    b->n += n;
}

static void to_bytes(void *ctx, const itch_msg *m)
{
    uint8_t buf[ITCH_MAX];
    bytes_put(ctx, buf, itch_encode(m, buf));
}

typedef struct world {
    sim s;
    pub live, restored;
    bytes live_out, restored_out;
    int have_restored;
    bourse_engine *at; /* the restarted engine: loaded from a snapshot, it numbers its orders afresh */
    feed_rec pend[4096];
    int npend;
    int restored_open; /* the restored publisher has records of this command */
} world;

static void on_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    world *w = ctx;
    if (w->npend < 4096 && feed_rec_make(&w->pend[w->npend], cmd, ev))
        w->npend++;
}

/* The restored publisher follows the restarted engine, as in a server. */
static void on_restored_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    world *w = ctx;
    feed_rec r;
    if (feed_rec_make(&r, cmd, ev)) {
        pub_apply(&w->restored, &r);
        w->restored_open = 1;
    }
}

static void on_done(void *ctx, const bourse_cmd *cmd)
{
    world *w = ctx;
    if (w->npend)
        w->pend[w->npend - 1].end = 1;
    for (int i = 0; i < w->npend; i++)
        pub_apply(&w->live, &w->pend[i]);
    w->npend = 0;
    if (!w->have_restored)
        return;
    bourse_cmd c = *cmd;
    bourse_engine_apply(w->at, &c, on_restored_event, w);
    if (w->restored_open)
        pub_apply(&w->restored, &(feed_rec){.kind = REC_COMMIT, .ts = cmd->ts_ns});
    w->restored_open = 0;
}

static int mem_write(void *ctx, const void *buf, size_t len)
{
    bytes_put(ctx, buf, len);
    return 0;
}

typedef struct reader {
    const bytes *b;
    size_t at;
} reader;

static int mem_read(void *ctx, void *buf, size_t len)
{
    reader *r = ctx;
    if (r->b->n - r->at < len)
        return -1;
    memcpy(buf, r->b->p + r->at, len);
    r->at += len;
    return 0;
}

/* The engine as it is now, for loading a feed snapshot against later. */
static bourse_engine *clone_engine(const bourse_engine *e)
{
    bytes b = {0};
    char err[200];
    bourse_engine_save(e, mem_write, &b);
    reader r = {&b, 0};
    bourse_engine *c = bourse_engine_load(mem_read, &r, err, sizeof err);
    free(b.p);
    return c;
}

/* Field by field, then everything a late joiner is sent, byte for byte. */
static void check_same(const pub *a, const pub *b)
{
    CHECK_EQ(a->next_ref, b->next_ref);
    CHECK_EQ(a->next_match, b->next_match);
    CHECK_EQ(a->open, b->open);
    CHECK_EQ(a->ts, b->ts);
    CHECK_EQ(a->book.open_orders, b->book.open_orders);
    CHECK_EQ(a->book.nsyms, b->book.nsyms);
    for (uint32_t s = 0; s < a->book.nsyms && s < b->book.nsyms; s++) {
        const fb_symbol *x = &a->book.syms[s], *y = &b->book.syms[s];
        CHECK(!strcmp(x->name, y->name));
        CHECK_EQ(x->last_price, y->last_price);
        CHECK_EQ(x->last_qty, y->last_qty);
        CHECK_EQ(x->last_side, y->last_side);
        CHECK_EQ(x->volume, y->volume);
        CHECK_EQ(x->trades, y->trades);
        CHECK_EQ(x->last_ts, y->last_ts);
        for (int iv = 0; iv < CANDLE_INTERVALS; iv++) {
            CHECK_EQ(x->candles[iv].n, y->candles[iv].n);
            for (uint32_t i = 0; i < x->candles[iv].n && i < y->candles[iv].n; i++)
                CHECK(!memcmp(candle_ring_get(&x->candles[iv], i), candle_ring_get(&y->candles[iv], i),
                              sizeof(candle)));
        }
        const pub_tape *t = &a->tapes[s], *u = &b->tapes[s];
        CHECK_EQ(t->n, u->n);
        for (uint64_t i = t->n > PUB_TAPE ? t->n - PUB_TAPE : 0; i < t->n && t->n == u->n; i++) {
            const pub_trade *p = &t->t[i % PUB_TAPE], *q = &u->t[i % PUB_TAPE];
            CHECK(p->ts == q->ts && p->price == q->price && p->qty == q->qty && p->match == q->match &&
                  p->side == q->side);
        }
    }
    bytes sa = {0}, sb = {0};
    pub_snapshot(a, to_bytes, &sa);
    pub_snapshot(b, to_bytes, &sb);
    CHECK(sa.n > 0 && sa.n == sb.n && !memcmp(sa.p, sb.p, sa.n));
    free(sa.p);
    free(sb.p);
}

static void world_init(world *w, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    CHECK(pub_init(&w->live, 16, to_bytes, &w->live_out) == 0);
    CHECK(pub_init(&w->restored, 16, to_bytes, &w->restored_out) == 0);
    sim_init_done(&w->s, seed, on_event, on_done, w);
}

static void world_free(world *w)
{
    bourse_engine_free(w->s.e);
    pub_free(&w->live);
    pub_free(&w->restored);
    free(w->live_out.p);
    free(w->restored_out.p);
}

/* Saved at SAVE_AT, restored, then both go on to STEPS. */
static void test_restore_equals_continuous(void)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        world w;
        world_init(&w, seed);
        for (int step = 0; step < SAVE_AT; step++)
            sim_step(&w.s);
        uint8_t *buf;
        size_t len;
        CHECK(fsnap_encode(&w.live, w.s.seq, &buf, &len) == 0);
        bourse_engine *at = clone_engine(w.s.e);
        char err[300] = "";
        int rc = fsnap_apply(&w.restored, buf, len, w.s.seq, at, err, sizeof err);
        if (rc != 0)
            printf("FAIL fsnap_apply: %s\n", err);
        CHECK(rc == 0);
        CHECK(w.live.tapes[0].n > PUB_TAPE); /* the tape has wrapped */
        CHECK(w.live.book.open_orders > 2);  /* refs to carry over (clang and gcc draw other markets) */
        check_same(&w.live, &w.restored);
        /* Candle rings of another depth keep the newest candles. */
        pub shallow;
        bytes shallow_out = {0};
        pub_init(&shallow, 4, to_bytes, &shallow_out);
        CHECK(fsnap_apply(&shallow, buf, len, w.s.seq, at, err, sizeof err) == 0);
        CHECK_EQ(shallow.book.syms[0].candles[CANDLE_1M].n, 4);
        CHECK(!memcmp(candle_ring_get(&shallow.book.syms[0].candles[CANDLE_1M], 0),
                      candle_ring_get(&w.live.book.syms[0].candles[CANDLE_1M], 0), sizeof(candle)));
        pub_free(&shallow);
        free(shallow_out.p);
        size_t live_from = w.live_out.n, restored_from = w.restored_out.n;
        w.at = at;
        w.have_restored = 1;
        for (int step = SAVE_AT; step < STEPS; step++)
            sim_step(&w.s);
        CHECK_EQ(w.live.errors, 0);
        CHECK_EQ(w.restored.errors, 0);
        check_same(&w.live, &w.restored);
        /* The same messages after the restart as without it, byte for byte. */
        CHECK(w.live_out.n - live_from == w.restored_out.n - restored_from &&
              !memcmp(w.live_out.p + live_from, w.restored_out.p + restored_from, w.live_out.n - live_from));
        free(buf);
        bourse_engine_free(at);
        world_free(&w);
    }
}

/* Recompute both checksums after editing a body, as a hostile writer would. */
static void fix_crcs(uint8_t *buf, size_t len)
{
    uint32_t b = crc32c(0, buf + FSNAP_HEADER, len - FSNAP_HEADER);
    uint64_t body = len - FSNAP_HEADER;
    memcpy(buf + 32, &body, 8);
    memcpy(buf + 40, &b, 4);
    uint32_t h = crc32c(0, buf, 60);
    memcpy(buf + 60, &h, 4);
}

/* Refused, with err naming why, and the publisher untouched. */
static int refused(const uint8_t *buf, size_t len, uint64_t seq, const bourse_engine *e, const char *want)
{
    pub p;
    bytes out = {0};
    pub_init(&p, 16, to_bytes, &out);
    char err[300] = "";
    int rc = fsnap_apply(&p, buf, len, seq, e, err, sizeof err);
    int ok = rc == -1 && err[0] && out.n == 0 && p.book.nsyms == 0 && p.next_ref == 1 && p.tapes == NULL;
    if (ok && want && !strstr(err, want)) {
        printf("FAIL refused for '%s', not '%s'\n", err, want);
        ok = 0;
    }
    pub_free(&p);
    free(out.p);
    return ok;
}

static void test_damage_refused(void)
{
    world w;
    world_init(&w, 9);
    for (int step = 0; step < 800; step++)
        sim_step(&w.s);
    uint8_t *buf;
    size_t len;
    uint64_t seq = w.s.seq;
    CHECK(fsnap_encode(&w.live, seq, &buf, &len) == 0);
    bourse_engine *at = clone_engine(w.s.e);
    uint8_t *copy = malloc(len);
    int bad = 0;
    /* Every bit of the header, a bit of every 3rd byte of the body. */
    for (size_t i = 0; i < len; i += i < FSNAP_HEADER ? 1 : 3)
        for (int bit = 0; bit < (i < FSNAP_HEADER ? 8 : 1); bit++) {
            memcpy(copy, buf, len);
            copy[i] ^= (uint8_t)(1u << ((bit + i) % 8));
            bad += !refused(copy, len, seq, at, NULL);
        }
    CHECK_EQ(bad, 0);
    for (size_t n = 0; n < len; n += n < 200 ? 1 : 97)
        bad += !refused(buf, n, seq, at, n < FSNAP_HEADER ? "shorter than the header" : "body");
    CHECK_EQ(bad, 0);
    CHECK(refused(buf, len, seq + 1, at, "its header says seq"));

    /* Sound checksums, wrong contents. */
    memcpy(copy, buf, len);
    memcpy(copy + FSNAP_HEADER + 32, "NOPE\0\0\0\0", 8); /* the first symbol's name */
    fix_crcs(copy, len);
    CHECK(refused(copy, len, seq, at, "'NOPE' here but 'ACME' in the engine"));
    memcpy(copy, buf, len);
    memcpy(copy + len - 4 - 8, copy + len - 4 - 16, 8); /* the last ref twice */
    fix_crcs(copy, len);
    CHECK(refused(copy, len, seq, at, NULL));
    /* The engine at another seq: its books differ. */
    for (int i = 0; i < 50; i++)
        sim_step(&w.s);
    CHECK(refused(buf, len, seq, w.s.e, NULL));

    /* Random edits with the checksums fixed up: refused or sound, never
     * a crash (run under ASan by `make test`). */
    uint64_t rng = 12345;
    int accepted = 0;
    for (int k = 0; k < 3000; k++) {
        memcpy(copy, buf, len);
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        size_t pos = FSNAP_HEADER + rng % (len - FSNAP_HEADER);
        copy[pos] = (uint8_t)(rng >> 32);
        fix_crcs(copy, len);
        pub p;
        bytes out = {0};
        pub_init(&p, 16, to_bytes, &out);
        char err[300];
        if (fsnap_apply(&p, copy, len, seq, at, err, sizeof err) == 0)
            accepted++;
        pub_free(&p);
        free(out.p);
    }
    CHECK(accepted < 3000);
    free(copy);
    free(buf);
    bourse_engine_free(at);
    world_free(&w);
}

static void test_files(void)
{
    char dir[] = "/tmp/bourse-fsnap-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    uint8_t data[100];
    for (int i = 0; i < 100; i++)
        data[i] = (uint8_t)i;
    char err[600], path[300];
    for (uint64_t s = 10; s <= 30; s += 10)
        CHECK(fsnap_write(dir, s, data, sizeof data, err, sizeof err) == 0);
    uint8_t *back;
    size_t len;
    fsnap_path(path, sizeof path, dir, 20);
    CHECK(fsnap_read(path, &back, &len, err, sizeof err) == 0 && len == 100 && !memcmp(back, data, 100));
    free(back);
    fsnap_path(path, sizeof path, dir, 25);
    CHECK(fsnap_read(path, &back, &len, err, sizeof err) == -1 && strstr(err, path));
    /* Pruning keeps what a core snapshot pairs with, and the newest. */
    snprintf(path, sizeof path, "%s/snap-%020d.snap", dir, 10);
    FILE *f = fopen(path, "w");
    fclose(f);
    snprintf(path, sizeof path, "%s/feed-%020d.snap.tmp", dir, 40);
    f = fopen(path, "w");
    fclose(f);
    fsnap_prune(dir, 30);
    CHECK(access(path, F_OK) != 0);
    for (uint64_t s = 10; s <= 30; s += 10) {
        fsnap_path(path, sizeof path, dir, s);
        CHECK((access(path, F_OK) == 0) == (s != 20));
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/snap-%020d.snap", dir, 10);
    unlink(path);
    CHECK(rmdir(dir) == 0);
}

int main(void)
{
    RUN(test_restore_equals_continuous);
    RUN(test_damage_refused);
    RUN(test_files);
    return CHECK_DONE();
}
