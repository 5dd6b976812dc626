/*
 * test_journal_snapshot.c - engine snapshots (src/core/snapshot.c) and
 * snapshot files (src/journal/snapfile.c): a loaded engine hashes like the
 * saved one and answers every later command with the same events; damaged
 * or truncated streams are refused without crashing.
 */
#include "bourse/text.h"
#include "check.h"
#include "evlog.h"
#include "journal/snapfile.h"
#include "journal_gen.h"
#include "membuf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void apply(bourse_engine *e, int grow, bourse_cmd c, evlog *l)
{
    if (grow)
        bourse_engine_reserve(e);
    bourse_engine_resolve(e, &c);
    l->e = e;
    bourse_engine_apply(e, &c, evlog_event, l);
}

static bourse_engine *save_load(const bourse_engine *e, buf *b)
{
    b->len = b->pos = 0;
    CHECK_EQ(bourse_engine_save(e, buf_write, b), 0);
    char err[200];
    bourse_engine *copy = bourse_engine_load(buf_read, b, err, sizeof err);
    if (!copy)
        printf("load failed: %s\n", err);
    CHECK(copy != NULL);
    CHECK_EQ(b->pos, b->len);
    return copy;
}

/* Run `n` commands, snapshotting at `at`; the copy must match to the end. */
static void round_trip(const bourse_limits *lim, int grow, int n, int at, uint64_t seed)
{
    bourse_engine *a = bourse_engine_new(lim), *b = NULL;
    jgen g;
    jgen_init(&g, seed);
    evlog la = {0}, lb = {0};
    buf sb = {0};
    for (int i = 0; i < n; i++) {
        bourse_cmd c;
        jgen_next(&g, &c);
        if (i == at) {
            b = save_load(a, &sb);
            if (!b)
                break;
            CHECK_EQ(bourse_engine_hash(a), bourse_engine_hash(b));
            la.len = 0;
        }
        apply(a, grow, c, &la);
        if (b)
            apply(b, grow, c, &lb);
    }
    if (b) {
        CHECK_EQ(bourse_engine_hash(a), bourse_engine_hash(b));
        CHECK_EQ(la.len, lb.len);
        CHECK(la.len == lb.len && memcmp(la.s, lb.s, la.len) == 0);
        bourse_stats sa, sbs;
        bourse_engine_stats(a, &sa);
        bourse_engine_stats(b, &sbs);
        CHECK_EQ(sa.open_orders, sbs.open_orders);
        CHECK_EQ(sa.trades, sbs.trades);
        CHECK_EQ(sa.commands, sbs.commands);
    }
    bourse_engine_free(a);
    bourse_engine_free(b);
    free(la.s);
    free(lb.s);
    free(sb.p);
}

static void test_snapshot_round_trip(void)
{
    bourse_limits big = {.orders = 4096, .users = 1024};
    for (int at = 0; at <= 4000; at += 500)
        round_trip(&big, 0, 6000, at, 1);
}

static void test_snapshot_round_trip_grow(void)
{
    bourse_limits small = {.symbols = 2, .users = 4, .orders = 8, .ids = 8, .positions = 4};
    for (int at = 0; at <= 3000; at += 300)
        round_trip(&small, 1, 4000, at, 2);
}

/* Fixed small capacities: CAPACITY must come at the same commands. */
static void test_snapshot_round_trip_capacity(void)
{
    bourse_limits tight = {.symbols = 4, .users = 30, .orders = 40, .ids = 300, .positions = 60};
    for (int at = 100; at <= 2000; at += 100)
        round_trip(&tight, 0, 2500, at, 3);
}

static bourse_engine *busy_engine(int n)
{
    bourse_limits lim = {.orders = 2048, .users = 256, .symbols = 16};
    bourse_engine *e = bourse_engine_new(&lim);
    jgen g;
    jgen_init(&g, 9);
    evlog l = {0};
    for (int i = 0; i < n; i++) {
        bourse_cmd c;
        jgen_next(&g, &c);
        apply(e, 0, c, &l);
    }
    free(l.s);
    return e;
}

/* Every prefix of a snapshot is refused; so are many single-byte changes
 * (those that load anyway must give a self-consistent engine). */
static void test_snapshot_damage(void)
{
    bourse_engine *e = busy_engine(1500);
    buf b = {0};
    CHECK_EQ(bourse_engine_save(e, buf_write, &b), 0);
    char err[200];
    size_t full = b.len;
    int refused = 0;
    for (size_t cut = 0; cut < full; cut += 1 + cut / 64) {
        b.len = cut, b.pos = 0;
        bourse_engine *x = bourse_engine_load(buf_read, &b, err, sizeof err);
        refused += x == NULL;
        bourse_engine_free(x);
    }
    int tries = 0;
    for (size_t cut = 0; cut < full; cut += 1 + cut / 64)
        tries++;
    CHECK_EQ(refused, tries);
    b.len = full;
    uint64_t rng = 77;
    for (int i = 0; i < 3000; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        size_t at = rng % full;
        unsigned char old = b.p[at];
        b.p[at] ^= (unsigned char)(1u << (rng >> 40) % 8);
        b.pos = 0;
        bourse_engine *x = bourse_engine_load(buf_read, &b, err, sizeof err);
        if (x) { /* still usable: run commands on it */
            jgen g;
            jgen_init(&g, 5);
            evlog l = {0};
            for (int k = 0; k < 200; k++) {
                bourse_cmd c;
                jgen_next(&g, &c);
                apply(x, 0, c, &l);
            }
            bourse_engine_hash(x);
            free(l.s);
            bourse_engine_free(x);
        }
        b.p[at] = old;
    }
    free(b.p);
    bourse_engine_free(e);
}

static void test_snapshot_file(void)
{
    char dir[] = "/tmp/bourse-snapXXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    bourse_engine *e = busy_engine(2000);
    snap_info in = {.seq = 2000, .ts_ns = 123456789, .flags = 1}, out;
    char err[300], path[4200];
    CHECK_EQ(snap_save(dir, e, &in, NULL, 0, err, sizeof err), 0);
    snap_path(path, sizeof path, dir, 2000);
    bourse_engine *x = snap_load(path, &out, err, sizeof err);
    CHECK(x != NULL);
    CHECK_EQ(out.seq, 2000);
    CHECK_EQ(out.ts_ns, 123456789);
    CHECK_EQ(out.flags, 1);
    CHECK_EQ(out.hash, bourse_engine_hash(e));
    CHECK(x && bourse_engine_hash(x) == bourse_engine_hash(e));
    uint64_t *seqs;
    size_t n;
    CHECK_EQ(snap_list(dir, &seqs, &n, err, sizeof err), 0);
    CHECK_EQ(n, 1);
    CHECK(n == 1 && seqs[0] == 2000);
    free(seqs);
    /* A flipped byte anywhere in the file is caught by a checksum. */
    FILE *f = fopen(path, "r+b");
    long size = (fseek(f, 0, SEEK_END), ftell(f));
    int caught = 0, tries = 0;
    for (long at = 0; at < size; at += 1 + size / 300, tries++) {
        fseek(f, at, SEEK_SET);
        int ch = fgetc(f);
        fseek(f, at, SEEK_SET);
        fputc(ch ^ 0x10, f);
        fflush(f);
        bourse_engine *y = snap_load(path, &out, err, sizeof err);
        caught += y == NULL;
        bourse_engine_free(y);
        fseek(f, at, SEEK_SET);
        fputc(ch, f);
        fflush(f);
    }
    fclose(f);
    CHECK_EQ(caught, tries);
    unlink(path);
    rmdir(dir);
    bourse_engine_free(x);
    bourse_engine_free(e);
}

int main(void)
{
    RUN(test_snapshot_round_trip);
    RUN(test_snapshot_round_trip_grow);
    RUN(test_snapshot_round_trip_capacity);
    RUN(test_snapshot_damage);
    RUN(test_snapshot_file);
    return CHECK_DONE();
}
