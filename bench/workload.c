/*
 * workload.c - order flow in the manner of exchange-core's benchmark.
 *
 * Every book trades around a centre price (the last trade, in ticks of 0.01)
 * that wanders with the trades and is pulled back gently towards where it
 * started.  Resting orders sit a random number of ticks away from the centre
 * on their own side; aggressive ones (every IOC, and a fraction of new GTC
 * orders and of moves) are priced a few ticks through it.  The mix is
 * exchange-core's: 9% GTC limit orders, 3% IOC, 6% cancels, 82% moves
 * (BOURSE_CMD_REPLACE to a new price under a new order id).
 *
 * To know which orders are open, the generator applies each command to an
 * engine of its own as soon as it makes it and follows the events (ACCEPTED,
 * REPLACED, TRADE, CANCELED) in a mirror: per symbol an array of the open
 * orders, so a cancel or move picks a live one at random.  Three feedback
 * loops, updated every 256 commands, hold the run near its targets:
 *   - trade rate: the share of GTC orders and moves priced aggressively grows
 *     while fewer than 6% of commands trade, and shrinks above;
 *   - book size: aggressive quantities grow while the book holds more than
 *     the target number of orders, and shrink below;
 *   - levels: the spread of resting prices widens while the books have fewer
 *     levels than the target, and narrows above.
 * If the book still drifts more than 10% from its size, a cancel becomes a
 * GTC order (or the other way round); the stats report the real mix.  A
 * spec may give its own mix and cap the spread of resting prices (quantcup).
 *
 * Order ids are the decimal order number, unique across users, so an event's
 * id leads straight back to the mirror's record of that order.  Users trade
 * a few symbols each (workload_spec.symbols_per_user) and get ample cash and
 * shares in the setup, so rejections are rare and counted.
 */
#include "bench/workload.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    TICK = 100,        /* 0.01 in price units */
    CENTRE = 10000,    /* 100.00, in ticks */
    QTY_MAX = 100,     /* resting orders: 1..QTY_MAX shares */
    STEER_EVERY = 256, /* commands between feedback updates */
    THROUGH = 8,       /* aggressive prices: 1..THROUGH ticks through the centre */
};

static const double TRADE_RATE = 0.06;
static const double MOVE_SHARE = 0.1; /* moves are priced to trade this much less often than GTC orders */
static const int64_t CASH_PER_USER = 1000000000LL * BOURSE_SCALE; /* at most: see user_cash() */
static const int64_t SHARES_PER_USER = 100000000LL;

const workload_spec workload_specs[] = {
    {"exchange-core", 1, 1000, 1, 1000, 750, 3000000,
     "one symbol, 1,000 users, ~1,000 resting orders on ~750 levels"},
    {"multi", 100, 10000, 4, 100000, 75000, 3000000,
     "100 symbols, 10,000 users, ~1,000 orders on ~750 levels per book"},
    {"big", 10000, 1000000, 4, 10000000, 7500000, 3000000,
     "10,000 symbols, 1,000,000 users, ~10,000,000 resting orders"},
    /* The QuantCup 2011 contest's shape: one symbol, a few dozen traders
     * numbering their orders from one global counter, a cancel for about
     * every other order, prices in a band of a few dozen ticks. */
    {"quantcup", 1, 32, 1, 2000, 60, 3000000,
     "one symbol, 32 users, global ids, ~50% GTC/40% cancel/10% IOC, prices within 40 ticks", 50, 10, 40,
     WORKLOAD_IDS_GLOBAL, 40},
    {0},
};

const workload_spec *workload_find(const char *name)
{
    for (const workload_spec *s = workload_specs; s->name; s++)
        if (!strcmp(s->name, name))
            return s;
    return NULL;
}

/* ---- random numbers: splitmix64, deterministic from the seed ---- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static uint64_t rng_below(rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- users and symbols ---- */

/* User u trades symbols (u + j * stride) % S for j < symbols_per_user. */
static uint32_t sym_stride(const workload_spec *s)
{
    return s->symbols / s->symbols_per_user;
}

static uint32_t user_symbol(const workload_spec *s, uint32_t u, uint32_t j)
{
    return (uint32_t)((u + (uint64_t)j * sym_stride(s)) % s->symbols);
}

/* A random user who trades symbol `sym`. */
static uint32_t pick_user(const workload_spec *s, rng *r, uint32_t sym)
{
    uint32_t j = (uint32_t)rng_below(r, s->symbols_per_user);
    uint32_t base = (uint32_t)((sym + s->symbols - (uint64_t)j * sym_stride(s) % s->symbols) % s->symbols);
    return base + s->symbols * (uint32_t)rng_below(r, s->users / s->symbols);
}

static void set_oid(bourse_name *n, uint64_t id)
{
    char tmp[24];
    int len = 0;
    do
        tmp[len++] = (char)('0' + id % 10);
    while ((id /= 10) != 0);
    memset(n->s, 0, sizeof n->s);
    for (int i = 0; i < len; i++)
        n->s[i] = tmp[len - 1 - i];
}

static uint64_t get_oid(const bourse_name *n, int from)
{
    uint64_t v = 0;
    for (int i = from; i < BOURSE_NAME_LEN && n->s[i]; i++)
        v = v * 10 + (uint64_t)(n->s[i] - '0');
    return v;
}

/*
 * Order ids.  Order number n (0, 1, 2... across the run) is named after the
 * workload's id style:
 *   user    each user counts its own orders: "1", "2", ... (the usual case:
 *           a FIX session numbers its ClOrdIDs);
 *   global  one exchange-wide counter, so a user's ids are far apart;
 *   random  six random letters then n: nothing in common between two ids.
 * The per-user counters are kept by whoever names orders (the setup and the
 * generator); the generator also keeps, per user, the order number of each
 * count, to map events back to its records.
 */
enum { RANDOM_PREFIX = 6 };

typedef struct namer {
    int style;
    uint64_t seed;
    uint32_t *count; /* user style: orders named so far, per user */
} namer;

static int namer_init(namer *nm, const workload *w)
{
    *nm = (namer){.style = w->ids, .seed = w->seed};
    if (nm->style == WORKLOAD_IDS_USER && !(nm->count = calloc(w->spec.users, sizeof *nm->count)))
        return -1;
    return 0;
}

/* Name a new order; returns the user's count for it (user style) or 0. */
static uint32_t name_new(namer *nm, bourse_name *out, uint32_t user, uint64_t n)
{
    if (nm->style == WORKLOAD_IDS_USER) {
        uint32_t k = ++nm->count[user];
        set_oid(out, k);
        return k;
    }
    set_oid(out, n);
    if (nm->style == WORKLOAD_IDS_RANDOM) {
        bourse_name digits = *out;
        rng r = {nm->seed ^ (n * 0x2545f4914f6cdd1dULL)};
        uint64_t x = rng_next(&r);
        for (int i = 0; i < RANDOM_PREFIX; i++, x /= 52)
            out->s[i] = (char)(x % 52 < 26 ? 'A' + x % 52 : 'a' + x % 52 - 26);
        memcpy(out->s + RANDOM_PREFIX, digits.s, BOURSE_NAME_LEN - RANDOM_PREFIX);
    }
    return 0;
}

/* ---- the mirror of the books ---- */

typedef struct rec {
    int64_t price;
    uint32_t user, sym;
    uint32_t qty;    /* open quantity while live */
    uint32_t slot;   /* index in its symbol's live array, or UINT32_MAX */
    uint32_t count;  /* user id style: the user's count in its id */
    uint32_t handle; /* the engine's handle from its ACCEPTED or REPLACED */
    uint8_t side;
} rec;

typedef struct book {
    uint32_t *live; /* order numbers of open orders */
    uint32_t n, cap;
    uint32_t sides[2]; /* open orders per side */
    int64_t centre;    /* ticks */
} book;

typedef struct user_ids {
    uint32_t *n; /* order number of the user's k-th order at [k - 1] */
    uint32_t len, cap;
} user_ids;

typedef struct gen {
    const workload_spec *spec;
    int handles; /* cancels and moves carry the order's handle */
    namer nm;
    user_ids *by_user; /* user id style only */
    rec *recs;
    uint64_t nrecs, next_id;
    book *books;
    uint64_t live;
    /* The incoming order of the command being applied. */
    uint64_t pending;
    int64_t pending_qty;
    int traded;
    uint64_t trades, rejects;
    int oom;
} gen;

static void live_add(gen *g, uint64_t id, uint32_t qty)
{
    rec *r = &g->recs[id];
    book *b = &g->books[r->sym];
    if (b->n == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 64;
        uint32_t *p = realloc(b->live, cap * sizeof *p);
        if (!p) {
            g->oom = 1;
            return;
        }
        b->live = p, b->cap = cap;
    }
    r->qty = qty;
    r->slot = b->n;
    b->live[b->n++] = (uint32_t)id;
    b->sides[r->side]++;
    g->live++;
}

static void live_del(gen *g, uint64_t id)
{
    rec *r = &g->recs[id];
    if (r->slot == UINT32_MAX)
        return;
    book *b = &g->books[r->sym];
    uint32_t last = b->live[--b->n];
    b->live[r->slot] = last;
    g->recs[last].slot = r->slot;
    r->slot = UINT32_MAX;
    b->sides[r->side]--;
    g->live--;
}

/* The order number an event's (user, id) names. */
static uint64_t order_of(const gen *g, uint32_t user, const bourse_name *oid)
{
    switch (g->nm.style) {
    case WORKLOAD_IDS_USER: return g->by_user[user].n[get_oid(oid, 0) - 1];
    case WORKLOAD_IDS_RANDOM: return get_oid(oid, RANDOM_PREFIX);
    default: return get_oid(oid, 0);
    }
}

/* The id of order number n. */
static void oid_of(const gen *g, uint64_t n, bourse_name *out)
{
    if (g->nm.style == WORKLOAD_IDS_USER) {
        set_oid(out, g->recs[n].count);
    } else {
        namer nm = g->nm;
        name_new(&nm, out, 0, n);
    }
}

/* One side of a trade or a cancel: the incoming order, or a resting one. */
static void fill(gen *g, uint64_t id, int64_t qty)
{
    if (id == g->pending) {
        g->pending_qty -= qty;
        return;
    }
    rec *r = &g->recs[id];
    if (r->slot == UINT32_MAX)
        return;
    if ((r->qty -= (uint32_t)qty) == 0)
        live_del(g, id);
}

static void on_gen_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    gen *g = ctx;
    (void)cmd;
    switch (ev->type) {
    case BOURSE_EV_ACCEPTED:
        g->pending = order_of(g, ev->user, &ev->oid);
        g->pending_qty = ev->qty;
        g->recs[g->pending].handle = ev->order;
        break;
    case BOURSE_EV_REPLACED:
        live_del(g, order_of(g, ev->user, &ev->oid));
        g->pending = order_of(g, ev->user, &ev->oid2);
        g->pending_qty = ev->qty;
        g->recs[g->pending].handle = ev->order;
        break;
    case BOURSE_EV_TRADE:
        fill(g, order_of(g, ev->user, &ev->oid), ev->qty);
        fill(g, order_of(g, ev->user2, &ev->oid2), ev->qty);
        g->books[ev->symbol].centre = ev->price / TICK;
        g->trades++;
        g->traded = 1;
        break;
    case BOURSE_EV_CANCELED: {
        uint64_t id = order_of(g, ev->user, &ev->oid);
        if (id == g->pending)
            g->pending_qty = 0;
        else
            live_del(g, id);
        break;
    }
    case BOURSE_EV_REJECTED: g->rejects++; break;
    default: break;
    }
}

/* A new order record and its id. */
static uint64_t new_rec(gen *g, uint32_t user, uint32_t sym, int side, int64_t price, bourse_name *oid)
{
    uint64_t id = g->next_id++;
    uint32_t k = name_new(&g->nm, oid, user, id);
    g->recs[id] = (rec){
        .price = price, .user = user, .sym = sym, .side = (uint8_t)side, .slot = UINT32_MAX, .count = k};
    if (g->by_user) {
        user_ids *u = &g->by_user[user];
        if (u->len == u->cap) {
            uint32_t cap = u->cap ? u->cap * 2 : 8;
            uint32_t *p = realloc(u->n, cap * sizeof *p);
            if (!p) {
                g->oom = 1;
                return id;
            }
            u->n = p, u->cap = cap;
        }
        u->n[u->len++] = (uint32_t)id;
    }
    return id;
}

/* ---- setup ---- */

typedef struct setup_ctx {
    bourse_event_fn fn;
    void *ctx;
    uint64_t bad;
    uint32_t handle; /* of the last ACCEPTED: the initial book's orders are named by it too */
} setup_ctx;

static void on_setup_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    setup_ctx *s = ctx;
    if (ev->type != BOURSE_EV_OK && ev->type != BOURSE_EV_ACCEPTED)
        s->bad++;
    if (ev->type == BOURSE_EV_ACCEPTED)
        s->handle = ev->order;
    if (s->fn)
        s->fn(s->ctx, cmd, ev);
}

/* A passive price `ticks` away from the centre on `side`. */
static int64_t passive_price(int side, int64_t centre, int64_t ticks)
{
    int64_t t = side == BOURSE_BUY ? centre - ticks : centre + ticks;
    return (t < 1 ? 1 : t) * TICK;
}

static int64_t spread_ticks(rng *r, double width)
{
    return 1 + (int64_t)(rng_unit(r) * width);
}

/* The initial spread of resting prices, in ticks either side of the centre:
 * n orders placed uniformly over w ticks fill about w(1 - e^(-n/w)) levels;
 * solve that for the target by bisection. */
static double initial_width(const workload_spec *s)
{
    double n = (double)s->resting / s->symbols / 2, want = (double)s->levels / s->symbols / 2;
    if (s->max_width && n > s->max_width)
        n = s->max_width;
    if (want >= n)
        return n;
    double lo = want, hi = 1e7;
    for (int k = 0; k < 100; k++) {
        double w = (lo + hi) / 2;
        if (w * (1 - exp(-n / w)) < want)
            lo = w;
        else
            hi = w;
    }
    return lo;
}

/* prefix + decimal digits of v, zero-padded to cap bytes. */
static void name_num(char *dst, size_t cap, char prefix, uint64_t v)
{
    bourse_name digits;
    set_oid(&digits, v);
    memset(dst, 0, cap);
    dst[0] = prefix;
    memcpy(dst + 1, digits.s, strnlen(digits.s, cap - 1));
}

/* Ample cash for every user, with the exchange-wide total well inside
 * BOURSE_CASH_MAX however many users there are. */
static int64_t user_cash(const workload_spec *s)
{
    int64_t fair = BOURSE_CASH_MAX / 2 / s->users;
    return fair < CASH_PER_USER ? fair : CASH_PER_USER;
}

static uint64_t setup_run(const workload *w, bourse_engine *e, bourse_event_fn fn, void *ctx, gen *g)
{
    const workload_spec *s = &w->spec;
    setup_ctx sc = {fn, ctx, 0, 0};
    bourse_cmd c;
    for (uint32_t i = 0; i < s->symbols; i++) {
        c = (bourse_cmd){.type = BOURSE_CMD_SYMBOL};
        name_num(c.symbol_name.s, BOURSE_SYMBOL_LEN, 'S', i);
        bourse_engine_apply(e, &c, on_setup_event, &sc);
    }
    for (uint32_t u = 0; u < s->users; u++) {
        c = (bourse_cmd){.type = BOURSE_CMD_USER};
        name_num(c.user_name.s, BOURSE_NAME_LEN, 'u', u);
        bourse_engine_apply(e, &c, on_setup_event, &sc);
        c = (bourse_cmd){.type = BOURSE_CMD_DEPOSIT, .user = u, .symbol = BOURSE_CASH, .qty = user_cash(s)};
        bourse_engine_apply(e, &c, on_setup_event, &sc);
        for (uint32_t j = 0; j < s->symbols_per_user; j++) {
            c = (bourse_cmd){.type = BOURSE_CMD_DEPOSIT,
                             .user = u,
                             .symbol = user_symbol(s, u, j),
                             .qty = SHARES_PER_USER};
            bourse_engine_apply(e, &c, on_setup_event, &sc);
        }
    }
    /* The initial books: passive GTC orders around the centre, both sides. */
    rng r = {w->seed ^ 0x5e7095e7095e7ULL};
    namer nm;
    if (!g && namer_init(&nm, w) != 0)
        return UINT64_MAX;
    double width = initial_width(s);
    for (uint64_t i = 0; i < s->resting; i++) {
        uint32_t sym = (uint32_t)(i % s->symbols);
        int side = (int)((i / s->symbols) & 1);
        c = (bourse_cmd){.type = BOURSE_CMD_ORDER,
                         .side = (uint8_t)side,
                         .tif = BOURSE_GTC,
                         .user = pick_user(s, &r, sym),
                         .symbol = sym,
                         .qty = 1 + (int64_t)rng_below(&r, QTY_MAX),
                         .price = passive_price(side, CENTRE, spread_ticks(&r, width))};
        uint64_t book_rec = 0;
        if (g)
            live_add(g, book_rec = new_rec(g, c.user, sym, side, c.price, &c.oid), (uint32_t)c.qty);
        else
            name_new(&nm, &c.oid, c.user, i);
        bourse_engine_apply(e, &c, on_setup_event, &sc);
        if (g)
            g->recs[book_rec].handle = sc.handle;
    }
    if (!g)
        free(nm.count);
    return sc.bad;
}

uint64_t workload_setup(const workload *w, bourse_engine *e, bourse_event_fn fn, void *ctx)
{
    return setup_run(w, e, fn, ctx, NULL);
}

uint64_t workload_rules_on(const workload *w, bourse_engine *e)
{
    setup_ctx sc = {NULL, NULL, 0};
    bourse_cmd c = {.type = BOURSE_CMD_USER};
    memcpy(c.user_name.s, "FEES", 4);
    bourse_engine_apply(e, &c, on_setup_event, &sc);
    for (uint32_t i = 0; i < w->spec.symbols; i++) {
        c = (bourse_cmd){.type = BOURSE_CMD_RULES, .symbol = i, .user = BOURSE_NONE};
        c.set[BOURSE_RULE_TICK] = TICK;
        c.set[BOURSE_RULE_LOT] = 1;
        c.set[BOURSE_RULE_MAXQTY] = BOURSE_QTY_MAX;
        c.set[BOURSE_RULE_MAXNOTIONAL] = BOURSE_CASH_MAX;
        c.set[BOURSE_RULE_BAND] = 10000; /* 100 %: [0.0001, 2 x the last trade] */
        c.set[BOURSE_RULE_REF] = CENTRE * TICK;
        bourse_engine_apply(e, &c, on_setup_event, &sc);
        c = (bourse_cmd){.type = BOURSE_CMD_FEES, .symbol = i, .user = BOURSE_NONE};
        for (int k = 0; k < 6; k++)
            c.set[k] = BOURSE_UNSET;
        c.set[BOURSE_FEE_MAKER] = 1;
        c.set[BOURSE_FEE_TAKER] = 2;
        bourse_engine_apply(e, &c, on_setup_event, &sc);
    }
    return sc.bad;
}

/* ---- the timed commands ---- */

typedef struct steer {
    double aggressive; /* share of GTC orders and moves priced to trade */
    double size;       /* aggressive quantity, as a multiple of a resting one */
    double width;      /* resting prices: 1..width ticks from the centre */
} steer;

static int clamp_side(double p_buy, rng *r)
{
    return rng_unit(r) < p_buy ? BOURSE_BUY : BOURSE_SELL;
}

/* A price `ticks` through the centre for an aggressive order on `side`. */
static int64_t aggressive_price(int side, int64_t centre, int64_t ticks)
{
    return passive_price(!side, centre, ticks);
}

static int64_t aggressive_qty(rng *r, const steer *st)
{
    uint64_t top = (uint64_t)(QTY_MAX * st->size);
    return 1 + (int64_t)rng_below(r, top ? top : 1);
}

/* Side for a new order: lean towards the thinner side of the book, and for
 * aggressive orders towards pulling the price back to where it started. */
static int new_side(rng *r, const book *b, int aggressive)
{
    double p_buy = 0.5;
    if (aggressive)
        p_buy += (double)(CENTRE - b->centre) / (4.0 * CENTRE / 100);
    else if (b->sides[0] + b->sides[1])
        p_buy = 1.0 - (double)b->sides[0] / (b->sides[0] + b->sides[1]);
    p_buy = p_buy < 0.2 ? 0.2 : p_buy > 0.8 ? 0.8 : p_buy;
    return clamp_side(p_buy, r);
}

enum { K_GTC, K_IOC, K_CANCEL, K_MOVE };

static int pick_kind(rng *r, const gen *g)
{
    uint64_t x = rng_below(r, 100);
    const workload_spec *s = g->spec;
    uint64_t gtc = 9, ioc = 3, cancel = 6;
    if (s->gtc | s->ioc | s->cancel)
        gtc = s->gtc, ioc = s->ioc, cancel = s->cancel;
    int k = x < gtc ? K_GTC : x < gtc + ioc ? K_IOC : x < gtc + ioc + cancel ? K_CANCEL : K_MOVE;
    uint64_t target = g->spec->resting;
    if (k == K_CANCEL && g->live < target)
        k = K_GTC;
    else if (k == K_GTC && g->live * 10 > target * 11)
        k = K_CANCEL;
    return k;
}

static void make_order(gen *g, rng *r, const steer *st, uint32_t sym, int ioc, bourse_cmd *c)
{
    book *b = &g->books[sym];
    int aggressive = ioc || rng_unit(r) < st->aggressive;
    int side = new_side(r, b, aggressive);
    uint32_t user = pick_user(g->spec, r, sym);
    int64_t price, qty;
    if (aggressive) {
        price = aggressive_price(side, b->centre, 1 + (int64_t)rng_below(r, THROUGH));
        qty = aggressive_qty(r, st);
    } else {
        price = passive_price(side, b->centre, spread_ticks(r, st->width));
        qty = 1 + (int64_t)rng_below(r, QTY_MAX);
    }
    *c = (bourse_cmd){.type = BOURSE_CMD_ORDER,
                      .side = (uint8_t)side,
                      .tif = (uint8_t)(ioc ? BOURSE_IOC : BOURSE_GTC),
                      .user = user,
                      .symbol = sym,
                      .qty = qty,
                      .price = price};
    new_rec(g, user, sym, side, price, &c->oid);
}

static void make_move(gen *g, rng *r, const steer *st, uint32_t old, bourse_cmd *c)
{
    const rec *o = &g->recs[old];
    const book *b = &g->books[o->sym];
    int64_t price, qty = o->qty;
    if (rng_unit(r) < st->aggressive * MOVE_SHARE) {
        price = aggressive_price(o->side, b->centre, 1 + (int64_t)rng_below(r, THROUGH));
    } else {
        price = passive_price(o->side, b->centre, spread_ticks(r, st->width));
    }
    *c = (bourse_cmd){.type = BOURSE_CMD_REPLACE,
                      .user = o->user,
                      .symbol = o->sym,
                      .order = g->handles ? o->handle : 0,
                      .qty = qty,
                      .price = price};
    oid_of(g, old, &c->oid);
    new_rec(g, o->user, o->sym, o->side, price, &c->new_oid);
}

static void steer_update(const gen *g, const bourse_engine *e, uint64_t done, uint64_t trade_msgs, steer *st,
                         workload_stats *ws)
{
    bourse_stats bs;
    bourse_engine_stats(e, &bs);
    ws->avg_orders += bs.open_orders;
    ws->avg_levels += bs.levels;
    double rate = (double)trade_msgs / (double)done;
    st->aggressive *= rate < TRADE_RATE ? 1.05 : 1 / 1.05;
    st->aggressive = st->aggressive < 0.001 ? 0.001 : st->aggressive > 0.5 ? 0.5 : st->aggressive;
    st->size *= g->live > g->spec->resting * 1.2 ? 1.05 : 1 / 1.05;
    st->size = st->size < 0.05 ? 0.05 : st->size > 20 ? 20 : st->size;
    st->width *= bs.levels < g->spec->levels ? 1.01 : 1 / 1.01;
    double top = g->spec->max_width ? g->spec->max_width : 1e5;
    st->width = st->width < 2 ? 2 : st->width > top ? top : st->width;
}

static int generate(workload *w, gen *g, bourse_engine *e)
{
    rng r = {w->seed};
    steer st = {.aggressive = 0.03, .size = 1, .width = initial_width(&w->spec)};
    workload_stats *ws = &w->stats;
    uint64_t samples = 0;
    for (uint64_t i = 0; i < w->n && !g->oom; i++) {
        bourse_cmd *c = &w->cmds[i];
        uint32_t sym = (uint32_t)rng_below(&r, w->spec.symbols);
        book *b = &g->books[sym];
        int kind = pick_kind(&r, g);
        if ((kind == K_CANCEL || kind == K_MOVE) && b->n == 0)
            kind = K_GTC;
        switch (kind) {
        case K_GTC: make_order(g, &r, &st, sym, 0, c), ws->gtc++; break;
        case K_IOC: make_order(g, &r, &st, sym, 1, c), ws->ioc++; break;
        case K_CANCEL: {
            uint32_t old = b->live[rng_below(&r, b->n)];
            *c = (bourse_cmd){.type = BOURSE_CMD_CANCEL,
                              .user = g->recs[old].user,
                              .symbol = sym,
                              .order = w->handles ? g->recs[old].handle : 0};
            oid_of(g, old, &c->oid);
            ws->cancels++;
            break;
        }
        default:
            make_move(g, &r, &st, b->live[rng_below(&r, b->n)], c);
            ws->moves++;
            break;
        }
        c->seq = i + 1;
        g->pending = UINT64_MAX;
        g->pending_qty = 0;
        g->traded = 0;
        bourse_engine_apply(e, c, on_gen_event, g);
        ws->trade_msgs += (uint64_t)g->traded;
        int rests = c->type == BOURSE_CMD_REPLACE || (c->type == BOURSE_CMD_ORDER && c->tif == BOURSE_GTC);
        if (g->pending != UINT64_MAX && g->pending_qty > 0 && rests)
            live_add(g, g->pending, (uint32_t)g->pending_qty);
        if ((i + 1) % STEER_EVERY == 0) {
            steer_update(g, e, i + 1, ws->trade_msgs, &st, ws);
            samples++;
        }
    }
    if (samples) {
        ws->avg_orders /= (double)samples;
        ws->avg_levels /= (double)samples;
    }
    ws->trades = g->trades;
    ws->rejects = g->rejects;
    return g->oom ? -1 : 0;
}

int workload_build(workload *w, const workload_spec *spec, uint64_t messages, uint64_t seed, int ids_style,
                   int handles)
{
    memset(w, 0, sizeof *w);
    w->handles = handles;
    w->spec = *spec;
    w->seed = seed;
    w->ids = ids_style;
    w->n = messages ? messages : spec->messages;
    const workload_spec *s = &w->spec;
    w->setup_cmds = s->symbols + (uint64_t)s->users * (2 + s->symbols_per_user) + s->resting;
    uint64_t ids = s->resting + w->n + 1024;
    uint64_t orders = s->resting + s->resting / 4 + 1024;
    w->limits = (bourse_limits){.symbols = s->symbols,
                                .users = s->users + 1, /* FEES, for workload_rules_on */
                                .orders = (uint32_t)orders,
                                .ids = (uint32_t)ids,
                                .positions = s->users * s->symbols_per_user + 1024};
    w->cmds = calloc(w->n, sizeof *w->cmds);
    gen g = {.spec = s, .nrecs = ids, .handles = w->handles};
    int named = namer_init(&g.nm, w);
    g.recs = malloc(ids * sizeof *g.recs);
    g.books = calloc(s->symbols, sizeof *g.books);
    if (ids_style == WORKLOAD_IDS_USER)
        g.by_user = calloc(s->users, sizeof *g.by_user);
    bourse_engine *e = bourse_engine_new(&w->limits);
    int rc = -1;
    if (w->cmds && named == 0 && g.recs && g.books && e && (g.by_user || ids_style != WORKLOAD_IDS_USER)) {
        for (uint32_t i = 0; i < s->symbols; i++)
            g.books[i].centre = CENTRE;
        if (setup_run(w, e, NULL, NULL, &g) != 0)
            rc = -2;
        else if (!g.oom)
            rc = generate(w, &g, e);
    }
    for (uint32_t i = 0; g.books && i < s->symbols; i++)
        free(g.books[i].live);
    for (uint32_t i = 0; g.by_user && i < s->users; i++)
        free(g.by_user[i].n);
    free(g.by_user);
    free(g.nm.count);
    free(g.books);
    free(g.recs);
    bourse_engine_free(e);
    if (rc != 0)
        workload_free(w);
    return rc;
}

const char *const workload_id_styles[] = {"user", "global", "random", NULL};

void workload_free(workload *w)
{
    free(w->cmds);
    w->cmds = NULL;
}
