/*
 * test_lobster.c - replay real Nasdaq order flow (LOBSTER samples in
 * ../shared/data/lobster, see its README) through the engine.
 *
 * The message file becomes replay commands:
 *   1 submission        -> gtc buy/sell by one of four makers (by order id)
 *   2 partial cancel    -> replace with the smaller quantity (keeps priority)
 *   3 deletion          -> cancel
 *   4 visible execution -> executions sharing a time stamp are one incoming
 *                          order sweeping the book: one ioc from a taker up
 *                          to their worst price, which must trade with
 *                          exactly those orders for exactly those sizes
 *   5, 7 (hidden executions, halts) leave the visible book alone: skipped.
 * The book before the first message is not empty, so the engine is seeded
 * from the first orderbook row (the state after message 1) with one order
 * per visible level from an "INIT" user; a message about an order we never
 * saw applies to the INIT order at its price, which as the oldest order
 * there is at the head of that level, as the real one must have been.
 *
 * Two things of Nasdaq's are not in our rules, so the converter bridges
 * them and counts how often: orders entered before the open arrive with the
 * opening cross carrying their earlier priority (order numbers follow entry
 * time), so orders of ours behind a newly arrived lower number are moved to
 * the back; and where the data executes an order that plain price-time
 * priority would not have reached, the sweep is counted as a disagreement
 * and our orders are then resized to LOBSTER's sizes, so that one
 * disagreement does not spoil every later comparison.
 *
 * Every command goes through two engines (grown from capacity 1 by
 * bourse_engine_reserve, and with large fixed capacities) that must write
 * the same events and hash equal, and both must pass invariants.h
 * throughout.  After each message our book is compared with LOBSTER's
 * orderbook row on the trusted price range: the message file only reports
 * events inside the visible levels, so only prices that have been visible
 * in every row so far can be known to us.  The agreement is printed and
 * must stay above a floor.  BOURSE_LOBSTER_DEBUG=1 prints every
 * disagreement; BOURSE_LOBSTER_DUMP=PREFIX writes the replay commands to
 * PREFIX.SYM.txt.  Prints SKIP when ../shared is absent.
 */
#include "check.h"
#include "core/internal.h"
#include "invariants.h"
#include "lines.h"

#include <stdlib.h>

#define DATA "../shared/data/lobster/"

typedef struct msg {
    int64_t ns; /* time after midnight */
    int type, dir;
    long long id;
    int64_t size, price;
} msg;

/* One order we placed: a LOBSTER order (id > 0) or an INIT level (id < 0). */
typedef struct placed {
    long long id;
    int side, version;
    int64_t price;
    int64_t lob; /* LOBSTER's open quantity of it (ours is in the engine) */
    char user[8];
} placed;

typedef struct replay {
    const char *sym;
    bourse_engine *a, *b;
    placed *orders;
    int n, cap;
    long long takers;
    /* results */
    long counts[8], exec_ok, exec_bad, submit_crossed, unknown, commands, requeued, resynced;
    long rows, rows_agree, levels, levels_agree, best, best_agree;
    char out_a[1 << 16];
    FILE *dump;
    int broken; /* an invariant failed: stop checking */
} replay;

static int read_csv(const char *path, int64_t **rows, int cols)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = 0, cap = 0;
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        if (n == cap) {
            cap = cap * 2 + 1024;
            *rows = realloc(*rows, (size_t)cap * (size_t)cols * sizeof **rows);
        }
        char *p = line;
        for (int c = 0; c < cols; c++) {
            int64_t v = strtoll(p, &p, 10);
            if (*p == '.') { /* the time column: seconds with up to 9 decimals, kept in ns */
                int64_t ns = 0, digits = 0;
                for (p++; *p >= '0' && *p <= '9'; p++, digits++)
                    ns = digits < 9 ? ns * 10 + (*p - '0') : ns;
                for (; digits < 9; digits++)
                    ns *= 10;
                v = v * 1000000000 + ns;
            }
            (*rows)[n * cols + c] = v;
            while (*p && *p != ',' && *p != '\n')
                p++;
            if (*p == ',')
                p++;
        }
        n++;
    }
    fclose(f);
    return n;
}

static const char *oid_of(const placed *o, char *buf)
{
    if (o->id < 0)
        sprintf(buf, "I%c%lld-%d", o->side ? 'a' : 'b', -o->id, o->version);
    else
        sprintf(buf, "L%lld-%d", o->id, o->version);
    return buf;
}

/* Apply one line to both engines; returns engine A's events. */
static const char *run(replay *r, const char *line)
{
    r->commands++;
    if (r->dump)
        fprintf(r->dump, "%s\n", line);
    CHECK_EQ(bourse_engine_reserve(r->a), 0);
    snprintf(r->out_a, sizeof r->out_a, "%s", apply_line(r->a, line));
    const char *got_b = apply_line(r->b, line);
    if (strcmp(r->out_a, got_b) != 0) {
        printf("FAIL lobster %s: engines differ on '%s'\n# A:\n%s# B:\n%s", r->sym, line, r->out_a, got_b);
        check_failures++;
    }
    if (!r->broken &&
        (inv_check(r->a, "lobster A") || (r->commands % 64 == 0 && inv_check(r->b, "lobster B")))) {
        printf("# after '%s'\n", line);
        r->broken = 1;
    }
    return r->out_a;
}

static placed *find(replay *r, long long id)
{
    for (int i = r->n - 1; i >= 0; i--)
        if (r->orders[i].id == id)
            return &r->orders[i];
    return NULL;
}

/* The INIT order resting at a price, if any is left. */
static placed *find_init(replay *r, int side, int64_t price)
{
    for (int i = 0; i < r->n; i++)
        if (r->orders[i].id < 0 && r->orders[i].side == side && r->orders[i].price == price)
            return &r->orders[i];
    return NULL;
}

/* Open quantity of one of our orders in the engine (0 when gone). */
static int64_t open_qty(replay *r, const placed *o)
{
    char oid[32];
    bourse_name n = {{0}};
    oid_of(o, oid);
    memcpy(n.s, oid, strlen(oid));
    uint32_t u = bourse_user_find(r->a, o->user, strlen(o->user));
    bool used;
    uint32_t slot = u == BOURSE_NONE ? NIL : bourse__idmap_find(r->a, u, &n, &used);
    return slot == NIL ? 0 : r->a->orders[slot].qty;
}

static placed *add(replay *r, placed o)
{
    if (r->n == r->cap) {
        r->cap = r->cap * 2 + 256;
        r->orders = realloc(r->orders, (size_t)r->cap * sizeof *r->orders);
    }
    r->orders[r->n] = o;
    return &r->orders[r->n++];
}

/* Give an order a new open quantity: a smaller one by a replace that keeps
 * its place, a bigger one by a replace to the back; zero by a cancel. */
static void set_qty(replay *r, placed *o, int64_t qty)
{
    char line[160], oid[32], noid[32], p[32];
    if (qty == open_qty(r, o))
        return;
    oid_of(o, oid);
    if (qty > 0) {
        o->version++;
        bourse_text_decimal(o->price, p);
        snprintf(line, sizeof line, "replace %s %s %s %lld %s", o->user, oid, oid_of(o, noid), (long long)qty,
                 p);
    } else {
        snprintf(line, sizeof line, "cancel %s %s", o->user, oid);
    }
    run(r, line);
}

static void keep_id_order(replay *r, const placed *o);

/* After the engine and LOBSTER disagreed on what traded, make every order
 * of ours the size LOBSTER has, so one disagreement is counted once (an
 * order that grows goes to the back, then those after it in number order). */
static void resync(replay *r)
{
    for (int i = 0; i < r->n; i++) {
        placed *o = &r->orders[i];
        int64_t want = o->lob > 0 ? o->lob : 0, have = open_qty(r, o);
        if (o->id > 0 && have != want) {
            set_qty(r, o, want);
            if (want > have)
                keep_id_order(r, &r->orders[i]);
            r->resynced++;
        }
    }
}

/* Executions with one time stamp are one incoming order sweeping the book,
 * so they become one taker ioc, up to the worst of their prices, which must
 * trade with exactly those orders for exactly those sizes (in any order:
 * within one time stamp LOBSTER does not always list them by priority). */
static void execute(replay *r, const msg *ms, placed **targets, int n)
{
    char line[160], p[32], want[64][32];
    int64_t total = 0, worst = ms[0].price, left[64];
    int buy = ms[0].dir < 0; /* sell orders executed: a buyer came */
    for (int i = 0; i < n; i++) {
        total += ms[i].size;
        worst =
            buy ? (ms[i].price > worst ? ms[i].price : worst) : (ms[i].price < worst ? ms[i].price : worst);
        oid_of(targets[i], want[i]);
        left[i] = ms[i].size;
    }
    bourse_text_decimal(worst, p);
    snprintf(line, sizeof line, "%s T t%lld %s %lld %s ioc", buy ? "buy" : "sell", ++r->takers, r->sym,
             (long long)total, p);
    const char *ev = run(r, line);
    int ok = 1;
    for (const char *t = strstr(ev, "\nTRADE "); t; t = strstr(t + 1, "\nTRADE ")) {
        char sym[16], px[32], bu[20], bo[20], su[20], so[20];
        long long q;
        if (sscanf(t + 1, "TRADE %15s %lld %31s %19s %19s %19s %19s", sym, &q, px, bu, bo, su, so) != 7) {
            ok = 0;
            break;
        }
        /* Several executions may be of one order (an INIT level stands for
         * many): take the trade off each of them in turn. */
        int64_t tp = 0;
        bourse_text_price(px, strlen(px), &tp);
        for (int k = 0; k < n && q > 0; k++) {
            if (strcmp(buy ? so : bo, want[k]) != 0 || left[k] == 0 || ms[k].price != tp)
                continue;
            int64_t take = q < left[k] ? q : left[k];
            left[k] -= take;
            q -= take;
        }
        ok &= q == 0;
    }
    for (int i = 0; i < n; i++) {
        ok &= left[i] == 0;
        if (targets[i]->id > 0)
            targets[i]->lob -= ms[i].size;
    }
    ok ? r->exec_ok++ : r->exec_bad++;
    if (!ok && getenv("BOURSE_LOBSTER_DEBUG"))
        printf("sweep of %d executions (first %s): %s => %s", n, want[0], line, ev);
    if (!ok)
        resync(r);
}

/* The order a message is about: ours, or else the INIT order at its price. */
static placed *target_of(replay *r, const msg *m)
{
    int side = m->dir < 0 ? BOURSE_SELL : BOURSE_BUY;
    placed *o = find(r, m->id);
    if (!o || !open_qty(r, o))
        o = find_init(r, side, m->price);
    return o && open_qty(r, o) ? o : NULL;
}

static const char *submit(replay *r, placed *o, int64_t qty)
{
    char line[160], p[32], oid[32];
    bourse_text_decimal(o->price, p);
    snprintf(line, sizeof line, "%s %s %s %s %lld %s gtc", o->side ? "sell" : "buy", o->user, oid_of(o, oid),
             r->sym, (long long)qty, p);
    return run(r, line);
}

static int by_id(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/*
 * Nasdaq ranks a level by order entry time, which its order numbers follow;
 * the engine ranks by arrival.  They differ when orders entered before the
 * open arrive all at once with the opening cross (lower numbers than orders
 * already booked).  So a submission moves every order of ours at its level
 * with a higher number to the back, in number order: cancel, resubmit.
 */
static void keep_id_order(replay *r, const placed *o)
{
    long long later[256];
    int n = 0;
    for (int i = 0; i < r->n && n < 256; i++) {
        const placed *x = &r->orders[i];
        if (x->id > o->id && x->side == o->side && x->price == o->price && open_qty(r, x))
            later[n++] = x->id;
    }
    qsort(later, (size_t)n, sizeof *later, by_id);
    for (int i = 0; i < n; i++) {
        placed *x = find(r, later[i]);
        char line[160], oid[32];
        int64_t q = open_qty(r, x);
        snprintf(line, sizeof line, "cancel %s %s", x->user, oid_of(x, oid));
        run(r, line);
        x->version++;
        submit(r, x, q);
        r->requeued++;
    }
}

static void on_message(replay *r, const msg *m)
{
    int side = m->dir < 0 ? BOURSE_SELL : BOURSE_BUY;
    if (m->type == 1) {
        placed o = {.id = m->id, .side = side, .price = m->price, .lob = m->size};
        snprintf(o.user, sizeof o.user, "M%lld", m->id % 4);
        const char *ev = submit(r, add(r, o), m->size);
        keep_id_order(r, &r->orders[r->n - 1]);
        if (strchr(ev, '\n') != ev + strlen(ev) - 1) { /* more than ACCEPTED */
            r->submit_crossed++;
            resync(r);
        }
        return;
    }
    if (m->type != 2 && m->type != 3)
        return;
    placed *o = target_of(r, m);
    if (!o) {
        r->unknown++;
    } else if (o->id < 0) { /* some order of an INIT level */
        set_qty(r, o, open_qty(r, o) - m->size);
    } else {
        o->lob = m->type == 2 ? o->lob - m->size : 0;
        set_qty(r, o, o->lob > 0 ? o->lob : 0);
    }
}

/*
 * The message file only reports events inside the visible levels, so an
 * order beyond them may change or vanish unreported.  A price is trusted
 * only if it has been inside the visible levels in every row so far: for
 * asks, at most the lowest deepest-visible ask ever seen (bids likewise).
 */
static void tighten(int64_t bound[2], const int64_t *row, int nlev)
{
    if (row[4 * (nlev - 1) + 1] > 0 && row[4 * (nlev - 1)] < bound[BOURSE_SELL])
        bound[BOURSE_SELL] = row[4 * (nlev - 1)];
    if (row[4 * (nlev - 1) + 3] > 0 && row[4 * (nlev - 1) + 2] > bound[BOURSE_BUY])
        bound[BOURSE_BUY] = row[4 * (nlev - 1) + 2];
}

/* Compare both sides with one orderbook row, on the price range known to
 * hold every order (bounded by the first row's deepest levels). */
static void compare(replay *r, const int64_t *row, int nlev, const int64_t bound[2])
{
    uint32_t s = bourse_symbol_find(r->a, r->sym, strlen(r->sym));
    const bourse_engine *e = r->a;
    int row_ok = 1;
    for (int side = 0; side < 2; side++) {
        const book_side *bs = &e->symbols[s].side[side];
        int col = side == BOURSE_SELL ? 0 : 2;
        int64_t deepest = 0;
        for (int i = 0; i < nlev; i++) {
            int64_t px = row[4 * i + col], sz = row[4 * i + col + 1];
            if (sz == 0 || (side == BOURSE_SELL ? px > bound[side] : px < bound[side]))
                break;
            deepest = px;
            uint32_t lv = bourse__book_level_find(e, s, side, px);
            int ok = lv != NIL && e->levels[lv].qty == sz;
            if (!ok && getenv("BOURSE_LOBSTER_DEBUG"))
                printf("row %ld side %d level %d px %lld: lobster %lld ours %lld\n", r->rows, side, i,
                       (long long)px, (long long)sz, lv == NIL ? -1LL : (long long)e->levels[lv].qty);
            r->levels++, r->levels_agree += ok, row_ok &= ok;
            if (i == 0)
                r->best++, r->best_agree += ok && bourse__book_best(e, s, side) == lv;
        }
        /* Levels of ours inside that range that LOBSTER does not have. */
        side_iter it;
        for (uint32_t lv = deepest ? bourse__side_first(bs, &it) : NIL; lv != NIL;
             lv = bourse__side_next(&it)) {
            int64_t px = e->levels[lv].price;
            if (side == BOURSE_SELL ? px > deepest : px < deepest)
                break;
            int there = 0;
            for (int k = 0; k < nlev; k++)
                there |= row[4 * k + col] == px && row[4 * k + col + 1] > 0;
            if (!there && getenv("BOURSE_LOBSTER_DEBUG"))
                printf("row %ld side %d px %lld: only ours (%lld)\n", r->rows, side, (long long)px,
                       (long long)e->levels[lv].qty);
            if (!there)
                r->levels++, row_ok = 0;
        }
    }
    r->rows++;
    r->rows_agree += row_ok;
    if (!row_ok && getenv("BOURSE_LOBSTER_DEBUG") && r->rows - r->rows_agree < 6) {
        printf("row %ld differs; lobster:", r->rows);
        for (int i = 0; i < 5; i++)
            printf(" a%lld/%lld b%lld/%lld", (long long)row[4 * i], (long long)row[4 * i + 1],
                   (long long)row[4 * i + 2], (long long)row[4 * i + 3]);
        printf("\nours:");
        for (int side = 0; side < 2; side++) {
            const book_side *bs = &e->symbols[s].side[side];
            side_iter it;
            uint32_t k = 0;
            for (uint32_t lv = bourse__side_first(bs, &it); lv != NIL && k < 5;
                 lv = bourse__side_next(&it), k++)
                printf(" %c%lld/%lld", side ? 'a' : 'b', (long long)e->levels[lv].price,
                       (long long)e->levels[lv].qty);
        }
        printf("\n");
    }
}

static void run_sample(const char *sym, const char *msgs_file, const char *book_file, int nlev,
                       double min_levels, double min_sweeps)
{
    int64_t *mrows = NULL, *brows = NULL;
    int nm = read_csv(msgs_file, &mrows, 6), nb = read_csv(book_file, &brows, 4 * nlev);
    if (nm < 0 || nb < 0) {
        printf("SKIP lobster %s: %s not found\n", sym, nm < 0 ? msgs_file : book_file);
        free(mrows), free(brows);
        return;
    }
    CHECK_EQ(nm, nb);
    replay *r = calloc(1, sizeof *r);
    r->sym = sym;
    r->a = bourse_engine_new(&(bourse_limits){1, 1, 1, 1, 1});
    r->b = bourse_engine_new(&(bourse_limits){4, 16, 1 << 14, 1 << 15, 64});
    const char *dump = getenv("BOURSE_LOBSTER_DUMP");
    if (dump) {
        char path[512];
        snprintf(path, sizeof path, "%s.%s.txt", dump, sym);
        r->dump = fopen(path, "w");
    }
    char line[200];
    snprintf(line, sizeof line, "symbol %s", sym);
    run(r, line);
    static const char *const users[] = {"INIT", "M0", "M1", "M2", "M3", "T"};
    for (int i = 0; i < 6; i++) {
        snprintf(line, sizeof line, "user %s", users[i]);
        run(r, line);
        snprintf(line, sizeof line, "deposit %s CASH 100000000000", users[i]);
        run(r, line);
        snprintf(line, sizeof line, "deposit %s %s 100000000000", users[i], sym);
        run(r, line);
    }
    /* Seed: one INIT order per level of the first row. */
    int64_t bound[2] = {0, INT64_MAX};
    for (int i = 0; i < nlev; i++)
        for (int side = 0; side < 2; side++) {
            int col = side == BOURSE_SELL ? 0 : 2;
            int64_t px = brows[4 * i + col], sz = brows[4 * i + col + 1];
            if (sz <= 0)
                continue;
            placed *o = add(r, (placed){.id = -(i + 1), .side = side, .price = px, .user = "INIT"});
            char p[32], oid[32];
            bourse_text_decimal(px, p);
            snprintf(line, sizeof line, "%s INIT %s %s %lld %s gtc", side ? "sell" : "buy", oid_of(o, oid),
                     sym, (long long)sz, p);
            run(r, line);
        }
    tighten(bound, brows, nlev);
    compare(r, brows, nlev, bound);
    msg *ms = calloc((size_t)nm, sizeof *ms);
    for (int k = 0; k < nm; k++) {
        const int64_t *mr = &mrows[k * 6];
        ms[k] = (msg){
            .ns = mr[0], .type = (int)mr[1], .id = mr[2], .size = mr[3], .price = mr[4], .dir = (int)mr[5]};
        if (ms[k].type >= 1 && ms[k].type <= 7)
            r->counts[ms[k].type]++;
    }
    for (int k = 1; k < nm;) {
        int n = 1;
        if (ms[k].type == 4) { /* a sweep: executions sharing a time stamp and direction */
            placed *targets[64];
            int known = 1;
            while (k + n < nm && n < 64 && ms[k + n].type == 4 && ms[k + n].ns == ms[k].ns &&
                   ms[k + n].dir == ms[k].dir)
                n++;
            for (int i = 0; i < n; i++)
                known &= (targets[i] = target_of(r, &ms[k + i])) != NULL;
            if (known)
                execute(r, &ms[k], targets, n);
            else
                r->unknown += n;
        } else {
            on_message(r, &ms[k]);
        }
        /* Book rows between the messages of a sweep show it half done. */
        for (int i = 0; i < n; i++, k++)
            tighten(bound, &brows[k * 4 * nlev], nlev);
        compare(r, &brows[(k - 1) * 4 * nlev], nlev, bound);
    }
    free(ms);
    CHECK(bourse_engine_hash(r->a) == bourse_engine_hash(r->b));
    CHECK(!inv_check(r->a, "lobster end") && !inv_check(r->b, "lobster end"));
    double pct = r->levels ? 100.0 * (double)r->levels_agree / (double)r->levels : 0;
    printf(
        "# lobster %s: %d messages (submit %ld, partial cancel %ld, delete %ld, exec %ld, hidden exec %ld), "
        "%ld commands\n",
        sym, nm, r->counts[1], r->counts[2], r->counts[3], r->counts[4], r->counts[5], r->commands);
    printf("# lobster %s: execution sweeps that traded with exactly the executed orders %ld/%ld; submissions "
           "that traded on arrival %ld; messages about orders never seen %ld; orders requeued by number %ld; "
           "resized to LOBSTER's "
           "after a disagreement %ld\n",
           sym, r->exec_ok, r->exec_ok + r->exec_bad, r->submit_crossed, r->unknown, r->requeued,
           r->resynced);
    printf("# lobster %s: on the trusted price range, book rows agreeing %ld/%ld, best levels %ld/%ld, "
           "levels %ld/%ld (%.2f%%)\n",
           sym, r->rows_agree, r->rows, r->best_agree, r->best, r->levels_agree, r->levels, pct);
    double sweeps =
        100.0 * (double)r->exec_ok / (double)(r->exec_ok + r->exec_bad + !(r->exec_ok + r->exec_bad));
    if (pct < min_levels || sweeps < min_sweeps) {
        printf("FAIL lobster %s: %.2f%% of levels and %.1f%% of sweeps agree with LOBSTER (want %.2f%%, "
               "%.1f%%)\n",
               sym, pct, sweeps, min_levels, min_sweeps);
        check_failures++;
    }
    if (r->dump)
        fclose(r->dump);
    bourse_engine_free(r->a);
    bourse_engine_free(r->b);
    free(r->orders);
    free(r);
    free(mrows);
    free(brows);
}

static void test_lobster_aapl(void)
{
    run_sample("AAPL", DATA "AAPL_2012-06-21_34200000_57600000_message_10.csv",
               DATA "AAPL_2012-06-21_34200000_57600000_orderbook_10.csv", 10, 99.5, 99);
}

static void test_lobster_msft(void)
{
    run_sample("MSFT", DATA "MSFT_2012-06-21_34200000_37800000_message_50.csv",
               DATA "MSFT_2012-06-21_34200000_37800000_orderbook_50.csv", 50, 99.5, 90);
}

int main(void)
{
    FILE *f = fopen(DATA "LOBSTER_SampleFiles_ReadMe.txt", "r");
    if (!f) {
        printf("SKIP test_lobster: " DATA " is absent\n");
        return 0;
    }
    fclose(f);
    RUN(test_lobster_aapl);
    RUN(test_lobster_msft);
    return CHECK_DONE();
}
