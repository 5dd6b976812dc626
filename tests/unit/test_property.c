/*
 * test_property.c - random scenarios, each checked against a shadow model.
 *
 * A seeded generator writes replay lines over a few users and symbols: every
 * command and time in force, prices clustered around a mid so orders cross,
 * cancels and replaces of live orders (same price smaller/equal/bigger, new
 * price), sessions, and invalid commands (unknown names, duplicate and
 * finished ids, overdrawn withdrawals, deposits past the asset bound).  Each
 * line goes through the text parser and bourse_engine_resolve() into:
 *
 *   - the model: a deliberately naive second implementation of the rules of
 *     shared/spec/replay-v2.md (arrays and linear scans, nothing shared with
 *     src/core) that writes the events it expects as text;
 *   - engine A, created with capacities of 1 and grown by
 *     bourse_engine_reserve() before every command;
 *   - engine B, created with large capacities and never grown.
 *
 * After every command the three event texts must be byte-identical, both
 * engines must pass the internal consistency check of invariants.h, and
 * engine A's whole state (every balance, hold and resting order, in queue
 * order) must equal the model's.  A and B must also hash equal, and every
 * 500 commands B is replaced by its own snapshot, saved and loaded again
 * (bourse_engine_save/load), which must carry on identically.  A quarter of
 * the scenarios instead run one engine with small fixed capacities, which
 * the model mirrors (and which its snapshots must keep), so CAPACITY
 * refusals are checked the same way.
 *
 * Half of the scenarios also use the venue rules of version 2: instrument
 * rules, bands, halts, the kill switch, cancelall, market orders and fees.
 * Beyond the model, the engine's events must keep these promises on their
 * own: an incoming order never trades outside the band in force when it was
 * checked (a buy above its upper edge, a sell below its lower edge); the
 * FEES account receives exactly the FEE amounts of each command (when FEES
 * itself does not trade); cash is only moved; holds equal H(open quantity)
 * of the open orders and a blocked user has none (invariants.h).
 *
 * Environment (`make soak` sets the first two): BOURSE_SOAK=N runs N
 * scenarios of 5,000 commands (N=1 means 2,000) from seed BOURSE_SOAK_SEED
 * (default 1,000,000); BOURSE_SEED=S runs the one scenario S of 2,000
 * commands (of 5,000 with BOURSE_SOAK), and with BOURSE_DUMP=1 prints it as
 * a golden scenario file (see tests/sh/scenarios.sh).
 */
#include "bourse/text.h"
#include "check.h"
#include "invariants.h"
#include "model.h"

#include <stdarg.h>
#include <string.h>

#include "rng.h"

static int64_t rint_in(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static int chance(int percent)
{
    return (int)(rnd() % 100) < percent;
}

/* ---- the engines under test ---- */

typedef struct engine_run {
    const char *tag;
    bourse_engine *e;
    int grow; /* bourse_engine_reserve() before every command */
    char *buf;
    size_t len, cap;
    int64_t *limit_of; /* [engine user * maxoid + oid]: the order's limit price, from its events */
    int maxoid;
    /* Of the command being applied: the band in force when it is checked
     * (band_hi 0 = none), the FEE amounts it produced and whether FEES
     * itself traded. */
    int64_t band_lo, band_hi, fee_sum;
    int fees_traded;
} engine_run;

static int oid_num(const engine_run *r, const bourse_name *n)
{
    int v = n->s[0] == 'o' ? atoi(n->s + 1) : -1;
    return v >= 0 && v < r->maxoid ? v : -1;
}

static int64_t *limit_slot(engine_run *r, uint32_t u, const bourse_name *oid)
{
    static int64_t none;
    int o = oid_num(r, oid);
    none = 0;
    return u < MU && o >= 0 ? &r->limit_of[u * (uint32_t)r->maxoid + (uint32_t)o] : &none;
}

static void bad_event(engine_run *r, const char *what, const char *line)
{
    printf("FAIL %s: malformed event (%s): %s", r->tag, what, line);
    check_failures++;
}

/* Events must be well formed on their own, whatever the model says. */
static void check_event(engine_run *r, const bourse_cmd *c, const bourse_event *ev, const char *line)
{
    switch (ev->type) {
    case BOURSE_EV_ACCEPTED:
        /* a market order's ACCEPTED carries its protection price, the band's edge */
        if (ev->user != c->user || ev->symbol != c->symbol || ev->side != c->side || ev->qty != c->qty ||
            (c->price ? ev->price != c->price
                      : ev->price != (c->side == BOURSE_BUY ? r->band_hi : r->band_lo)) ||
            memcmp(&ev->oid, &c->oid, sizeof ev->oid) != 0)
            bad_event(r, "ACCEPTED differs from its command", line);
        *limit_slot(r, ev->user, &ev->oid) = ev->price;
        break;
    case BOURSE_EV_REPLACED:
        if (ev->user != c->user || ev->qty != c->qty || ev->price != c->price ||
            memcmp(&ev->oid2, &c->new_oid, sizeof ev->oid) != 0)
            bad_event(r, "REPLACED differs from its command", line);
        *limit_slot(r, ev->user, &ev->oid2) = ev->price;
        break;
    case BOURSE_EV_TRADE: {
        int64_t bl = *limit_slot(r, ev->user, &ev->oid), sl = *limit_slot(r, ev->user2, &ev->oid2);
        if (ev->qty <= 0 || ev->user == ev->user2 || ev->user >= MU || ev->user2 >= MU)
            bad_event(r, "TRADE quantity or parties", line);
        if (!bl || !sl || ev->price > bl || ev->price < sl)
            bad_event(r, "TRADE price outside the orders' limits", line);
        /* the incoming order (the command's) never trades outside the band of
         * when it was checked */
        const bourse_name *in = c->type == BOURSE_CMD_REPLACE ? &c->new_oid : &c->oid;
        bool buys = ev->user == c->user && !memcmp(&ev->oid, in, sizeof *in);
        bool sells = ev->user2 == c->user && !memcmp(&ev->oid2, in, sizeof *in);
        if (r->band_hi && ((buys && ev->price > r->band_hi) || (sells && ev->price < r->band_lo)))
            bad_event(r, "TRADE outside the band of the incoming order", line);
        const bourse_name *fn = bourse_user_name(r->e, ev->user), *fn2 = bourse_user_name(r->e, ev->user2);
        if ((fn && !strcmp(fn->s, "FEES")) || (fn2 && !strcmp(fn2->s, "FEES")))
            r->fees_traded = 1;
        break;
    }
    case BOURSE_EV_FEE:
        if (ev->qty <= 0)
            bad_event(r, "FEE not above 0", line);
        r->fee_sum += ev->qty;
        break;
    case BOURSE_EV_CANCELED:
        if (ev->qty <= 0 || ev->reason < BOURSE_R_USER ||
            (ev->reason > BOURSE_R_SESSION_END && ev->reason != BOURSE_R_KILL))
            bad_event(r, "CANCELED quantity or reason", line);
        break;
    case BOURSE_EV_LEVEL:
        if (ev->qty < ev->count || ev->count <= 0 || ev->price <= 0)
            bad_event(r, "LEVEL quantity or count", line);
        break;
    case BOURSE_EV_BALANCE:
        if (ev->qty < 0 || ev->count < 0)
            bad_event(r, "negative BALANCE", line);
        break;
    }
}

static void on_event(void *ctx, const bourse_cmd *c, const bourse_event *ev)
{
    engine_run *r = ctx;
    if (r->len + BOURSE_TEXT_LINE_MAX + 1 > r->cap) {
        r->cap = r->cap * 2 + 8192;
        r->buf = realloc(r->buf, r->cap);
    }
    char *line = r->buf + r->len;
    r->len += bourse_text_event(r->e, c, ev, line);
    r->buf[r->len] = 0;
    check_event(r, c, ev, line);
}

static int64_t fees_cash(const bourse_engine *e)
{
    uint32_t f = bourse_user_find(e, "FEES", 4);
    return f == BOURSE_NONE ? 0 : e->users[f].cash + e->users[f].cash_held;
}

static void run_apply(engine_run *r, const bourse_cmd *parsed)
{
    bourse_cmd c = *parsed;
    if (r->grow && bourse_engine_reserve(r->e) != 0) {
        printf("FAIL %s: bourse_engine_reserve failed\n", r->tag);
        check_failures++;
    }
    bourse_engine_resolve(r->e, &c);
    r->len = 0;
    if (r->buf)
        r->buf[0] = 0;
    r->fee_sum = 0, r->fees_traded = 0;
    int64_t before = fees_cash(r->e);
    bourse_engine_apply(r->e, &c, on_event, r);
    /* FEES receives exactly what the command's FEE events say (withdrawals
     * and FEES' own trades move its cash for other reasons) */
    if (!r->fees_traded && c.type != BOURSE_CMD_WITHDRAW && c.type != BOURSE_CMD_DEPOSIT &&
        fees_cash(r->e) - before != r->fee_sum) {
        printf("FAIL %s: FEES received %lld, the FEE events say %lld\n", r->tag,
               (long long)(fees_cash(r->e) - before), (long long)r->fee_sum);
        check_failures++;
    }
}

static int pool_index(const char *const *names, int n, const char *s, size_t max)
{
    for (int i = 0; i < n; i++)
        if (strncmp(names[i], s, max) == 0 && strlen(names[i]) == strnlen(s, max))
            return i;
    return -1;
}

/* The engine's whole state must be the model's: accounts, and every resting
 * order in queue order (increasing model booking time within each level). */
static int compare_state(const bourse_engine *e, const model *m, const char *tag)
{
    int bad = 0;
    INV(e->nusers == (uint32_t)m->nusers && e->nsymbols == (uint32_t)m->nsyms, "users %u/%d symbols %u/%d",
        e->nusers, m->nusers, e->nsymbols, m->nsyms);
    INV(e->npositions == (uint32_t)m->npositions && e->order_by_id.n == (uint32_t)m->nids &&
            e->norders == (uint32_t)m->nlive && e->is_open == (bool)m->open,
        "positions %u/%d ids %u/%d orders %u/%d open %d/%d", e->npositions, m->npositions, e->order_by_id.n,
        m->nids, e->norders, m->nlive, e->is_open, m->open);
    INV(e->cash_total == m->cash_total, "cash total %lld, model %lld", (long long)e->cash_total,
        (long long)m->cash_total);
    INV(e->halted_all == (bool)m->halted_all, "emergency stop %d, model %d", e->halted_all, m->halted_all);
    for (uint32_t u = 0; u < e->nusers; u++) {
        const account *a = &e->users[u];
        int pu = pool_index(user_names, MU, a->name.s, BOURSE_NAME_LEN);
        INV(pu >= 0 && m->u[pu].exists, "user %u '%.16s' unknown to the model", u, a->name.s);
        const m_user *mu = &m->u[pu];
        INV(a->cash == mu->cash && a->cash_held == mu->cash_held && a->open_qty == mu->open_qty &&
                a->limit == mu->limit && bourse__day_traded(e, a) == mu->traded &&
                a->cash_ever == mu->cash_ever,
            "user %s: cash %lld/%lld held %lld/%lld open %lld/%lld limit %lld/%lld traded %lld/%lld",
            user_names[pu], (long long)a->cash, (long long)mu->cash, (long long)a->cash_held,
            (long long)mu->cash_held, (long long)a->open_qty, (long long)mu->open_qty, (long long)a->limit,
            (long long)mu->limit, (long long)bourse__day_traded(e, a), (long long)mu->traded);
        INV(!a->limit || !mu->limit_valid || bourse__day_traded(e, a) + a->open_qty <= a->limit,
            "user %s: traded %lld + open %lld past limit %lld", user_names[pu],
            (long long)bourse__day_traded(e, a), (long long)a->open_qty, (long long)a->limit);
        int npos = 0;
        for (uint32_t p = a->positions; p != NIL; p = e->positions[p].next, npos++) {
            const position *ps = &e->positions[p];
            int s = pool_index(sym_names, MS, e->symbols[ps->symbol].name.s, BOURSE_SYMBOL_LEN);
            INV(s >= 0 && mu->pos[s] && ps->avail == mu->avail[s] && ps->held == mu->held[s] &&
                    ps->ever == mu->ever[s],
                "user %s symbol %u: avail %lld held %lld ever %d", user_names[pu], ps->symbol,
                (long long)ps->avail, (long long)ps->held, ps->ever);
        }
        for (int s = 0; s < MS; s++)
            npos -= mu->pos[s];
        INV(npos == 0, "user %s: position count differs by %d", user_names[pu], npos);
        INV(a->blocked == mu->blocked, "user %s: blocked %d, model %d", user_names[pu], a->blocked,
            mu->blocked);
    }
    for (uint32_t s = 0; s < e->nsymbols; s++) {
        int ps = pool_index(sym_names, MS, e->symbols[s].name.s, BOURSE_SYMBOL_LEN);
        INV(ps >= 0 && m->sym_exists[ps] && e->symbols[s].total == m->sym_total[ps], "symbol %u total", s);
        const instrument *in = &e->symbols[s];
        const m_rules *mr = &m->rules[ps];
        INV(in->tick == mr->tick && in->lot == mr->lot && in->maxqty == mr->maxqty &&
                in->maxnotional == mr->maxnotional && in->band == mr->band && in->ref == mr->ref &&
                in->maker == mr->maker && in->taker == mr->taker && in->halted == mr->halted,
            "symbol %s: rules differ from the model's (ref %lld/%lld)", sym_names[ps], (long long)in->ref,
            (long long)mr->ref);
        for (int side = 0; side < 2; side++) {
            const book_side *bs = &e->symbols[s].side[side];
            side_iter it;
            for (uint32_t lv = bourse__side_first(bs, &it); lv != NIL; lv = bourse__side_next(&it)) {
                uint64_t last = 0;
                for (uint32_t o = e->levels[lv].head; o != NIL; o = e->orders[o].next) {
                    const order *ord = &e->orders[o];
                    int pu = pool_index(user_names, MU, e->users[ord->user].name.s, BOURSE_NAME_LEN);
                    int oid = atoi(ord->oid.s + 1);
                    INV(pu >= 0 && oid >= 0 && oid < m->maxoid && m->idx[pu * m->maxoid + oid] >= 0,
                        "resting %.16s of user %u unknown to the model", ord->oid.s, ord->user);
                    const m_order *mo = &m->live[m->idx[pu * m->maxoid + oid]];
                    INV(mo->sym == ps && mo->side == side && mo->price == ord->price && mo->qty == ord->qty &&
                            mo->tif == ord->tif && mo->seq > last && mo->maker == ord->maker &&
                            mo->hrate == ord->hold_rate,
                        "resting %s %.16s: qty %u/%lld price %lld/%lld tif %d/%d or out of time order",
                        user_names[pu], ord->oid.s, ord->qty, (long long)mo->qty, (long long)ord->price,
                        (long long)mo->price, ord->tif, mo->tif);
                    last = mo->seq;
                }
            }
        }
    }
done:
    return bad;
}

/* ---- the generator ---- */

typedef struct gen {
    model *m;
    int64_t mid[MS], tick[MS];
    int next_oid, never_oid;
    int v2; /* also the venue rules of replay-v2.md */
} gen;

/* Mostly a name that exists; now and then any name of the pool. */
static int pick_user(gen *g)
{
    int have[MU], k = 0;
    for (int i = 0; i < MU; i++)
        if (g->m->u[i].exists)
            have[k++] = i;
    return k && chance(96) ? have[rint_in(0, k - 1)] : (int)rint_in(0, MU - 1);
}

static int pick_sym(gen *g)
{
    int have[MS], k = 0;
    for (int i = 0; i < MS; i++)
        if (g->m->sym_exists[i])
            have[k++] = i;
    return k && chance(96) ? have[rint_in(0, k - 1)] : (int)rint_in(0, MS - 1);
}

static int64_t pick_price(gen *g, int s, int side)
{
    if (chance(3))
        return rint_in(1, g->mid[s] * 3);
    int64_t p = g->mid[s] + g->tick[s] * (side == BOURSE_BUY ? rint_in(-4, 3) : rint_in(-3, 4));
    return p < 1 ? 1 : p;
}

static int64_t pick_qty(void)
{
    int r = (int)rint_in(0, 99);
    return r < 70   ? rint_in(1, 20)
           : r < 90 ? rint_in(21, 200)
           : r < 99 ? rint_in(201, 2000)
                    : rint_in(1, 100000);
}

static int old_oid(gen *g)
{
    return g->next_oid && chance(90) ? (int)rint_in(0, g->next_oid - 1) : g->never_oid;
}

/* A live order of the model, or -1. */
static int pick_live(gen *g)
{
    return g->m->nlive && chance(85) ? (int)rint_in(0, g->m->nlive - 1) : -1;
}

static void gen_order(gen *g, tcmd *c)
{
    static const int tif_weights[] = {40, 70, 85, 100};
    int r = (int)rint_in(0, 99), t = 0;
    while (r >= tif_weights[t])
        t++;
    c->type = BOURSE_CMD_ORDER;
    c->side = chance(50) ? BOURSE_BUY : BOURSE_SELL;
    c->tif = t;
    c->say_day = t == BOURSE_DAY && chance(20);
    c->qty = pick_qty();
    c->price = pick_price(g, c->sym, c->side);
    c->oid = chance(92) ? g->next_oid++ : old_oid(g);
}

static void gen_replace(gen *g, tcmd *c)
{
    c->type = BOURSE_CMD_REPLACE;
    int i = pick_live(g);
    c->noid = chance(92) ? g->next_oid++ : old_oid(g);
    if (i < 0) {
        c->oid = old_oid(g);
        c->qty = pick_qty();
        c->price = pick_price(g, c->sym, BOURSE_BUY);
        return;
    }
    const m_order *o = &g->m->live[i];
    c->user = o->user;
    c->oid = o->oid;
    if (chance(3))
        c->noid = o->oid;
    c->qty = o->qty, c->price = o->price;
    switch (rint_in(0, 4)) {
    case 0: c->qty = o->qty > 1 ? rint_in(1, o->qty - 1) : 1; break;
    case 1: break;
    case 2: c->qty = o->qty + rint_in(1, 50); break;
    case 3: c->price = pick_price(g, o->sym, o->side), c->qty = pick_qty(); break;
    default: c->price = pick_price(g, o->sym, !o->side); break; /* likely crosses */
    }
    if (c->qty > BOURSE_QTY_MAX)
        c->qty = BOURSE_QTY_MAX;
}

static void gen_transfer(gen *g, tcmd *c, int type)
{
    c->type = type;
    const m_user *us = &g->m->u[c->user];
    if (chance(40)) {
        c->sym = CASH;
        c->qty = rint_in(1, 50000) * 10000 + (chance(30) ? rint_in(0, 9999) : 0);
        if (type == BOURSE_CMD_WITHDRAW && us->cash > 0 && chance(80))
            c->qty = rint_in(1, us->cash + us->cash / 4);
        if (chance(1))
            c->qty = BOURSE_CASH_MAX - rint_in(0, 2) * 10000;
        if (c->qty > BOURSE_CASH_MAX)
            c->qty = BOURSE_CASH_MAX;
    } else {
        c->qty = rint_in(1, 2000);
        if (type == BOURSE_CMD_WITHDRAW && us->avail[c->sym] > 0 && chance(80))
            c->qty = rint_in(1, us->avail[c->sym] + us->avail[c->sym] / 4);
        if (chance(1) || c->qty > BOURSE_TOTAL_MAX)
            c->qty = BOURSE_TOTAL_MAX - rint_in(0, 2);
    }
}

/* A command of version 2: settings near the generator's prices, so that
 * they bite now and then without stopping the trading. */
static void gen_v2(gen *g, tcmd *c)
{
    int r = (int)rint_in(0, 99), s = c->sym;
    for (int k = 0; k < 6; k++)
        c->set[k] = -1;
    if (r < 35) {
        c->type = BOURSE_CMD_ORDER;
        c->side = chance(50) ? BOURSE_BUY : BOURSE_SELL;
        c->tif = chance(20) ? BOURSE_FOK : BOURSE_IOC;
        c->say_day = chance(30);
        c->qty = pick_qty();
        c->price = 0;
        c->oid = chance(92) ? g->next_oid++ : old_oid(g);
    } else if (r < 55) {
        c->type = BOURSE_CMD_RULES;
        int n = 0;
        while (n == 0)
            for (int k = 0; k < 6; k++)
                if (chance(25)) {
                    static const int64_t lots[] = {1, 1, 2, 5, 10};
                    static const int64_t bands[] = {0, 50, 250, 1000, 2500, 10000, 20000, 100000};
                    int64_t v = 0;
                    switch (k) {
                    case 0: v = chance(60) ? g->tick[s] : chance(50) ? 1 : g->tick[s] * 2; break;
                    case 1: v = lots[rint_in(0, 4)]; break;
                    case 2: v = chance(40) ? 0 : rint_in(1, 3000); break;
                    case 3: v = chance(40) ? 0 : g->mid[s] * rint_in(1, 2000); break;
                    case 4:
                        v = bands[rint_in(0, 7)] + (chance(20) ? rint_in(0, 99) : 0);
                        v = v > BOURSE_BAND_MAX ? BOURSE_BAND_MAX : v;
                        break;
                    default: v = g->mid[s] + g->tick[s] * rint_in(-5, 5); break;
                    }
                    c->set[k] = v < 1 && (k == 0 || k == 1 || k == 5) ? 1 : v;
                    n++;
                }
    } else if (r < 65) {
        c->type = BOURSE_CMD_FEES;
        c->set[0] = chance(40) ? rint_in(0, 1000) : -1;
        c->set[1] = chance(60) || c->set[0] < 0 ? (chance(80) ? rint_in(0, 60) : rint_in(0, 1000)) : -1;
    } else if (r < 74) {
        c->type = chance(35) ? BOURSE_CMD_HALT : BOURSE_CMD_RESUME;
    } else if (r < 75) {
        c->type = g->m->halted_all || chance(30) ? BOURSE_CMD_RESUMEALL : BOURSE_CMD_HALTALL;
    } else if (r < 85) {
        c->type = chance(30) ? BOURSE_CMD_BLOCK : BOURSE_CMD_UNBLOCK;
    } else {
        c->type = BOURSE_CMD_CANCELALL;
        if (chance(50))
            c->sym = -2;
    }
}

static void gen_cmd(gen *g, tcmd *c)
{
    memset(c, 0, sizeof *c);
    c->user = pick_user(g);
    c->sym = pick_sym(g);
    if (!g->m->open && chance(25)) {
        c->type = BOURSE_CMD_OPEN;
        return;
    }
    if (g->v2 && chance(15))
        return gen_v2(g, c);
    int r = (int)rint_in(0, 199), i;
    if (r < 100) {
        gen_order(g, c);
    } else if (r < 124) {
        c->type = BOURSE_CMD_CANCEL;
        c->oid = old_oid(g);
        if ((i = pick_live(g)) >= 0)
            c->user = g->m->live[i].user, c->oid = g->m->live[i].oid;
    } else if (r < 148) {
        gen_replace(g, c);
    } else if (r < 164) {
        gen_transfer(g, c, BOURSE_CMD_DEPOSIT);
    } else if (r < 172) {
        gen_transfer(g, c, BOURSE_CMD_WITHDRAW);
    } else if (r < 175) {
        c->type = BOURSE_CMD_LIMIT;
        c->qty = chance(40) ? 0 : rint_in(1, 3000);
    } else if (r < 178) {
        c->type = BOURSE_CMD_CLOSE;
    } else if (r < 179) {
        c->type = BOURSE_CMD_OPEN;
    } else if (r < 185) {
        c->type = BOURSE_CMD_BOOK;
    } else if (r < 191) {
        c->type = BOURSE_CMD_BALANCE;
    } else if (r < 195) {
        c->type = BOURSE_CMD_SYMBOL;
        c->sym = (int)rint_in(0, NOPE - 1);
    } else {
        c->type = BOURSE_CMD_USER;
        c->user = (int)rint_in(0, GHOST - 1);
    }
}

/* The opening commands: a few symbols and funded users. */
static int gen_setup(gen *g, tcmd *out)
{
    int n = 0, ns = (int)rint_in(1, 3), nu = (int)rint_in(2, 6);
    int syms[MS], users[MU];
    for (int i = 0; i < MS; i++)
        syms[i] = i;
    for (int i = 0; i < MU; i++)
        users[i] = i;
    for (int i = 0; i < ns; i++) { /* a random subset, in random order */
        int j = (int)rint_in(i, NOPE - 1), t = syms[i];
        syms[i] = syms[j], syms[j] = t;
        out[n++] = (tcmd){.type = BOURSE_CMD_SYMBOL, .sym = syms[i]};
    }
    for (int i = 0; i < nu; i++) {
        int j = (int)rint_in(i, GHOST - 1), t = users[i];
        users[i] = users[j], users[j] = t;
        out[n++] = (tcmd){.type = BOURSE_CMD_USER, .user = users[i]};
    }
    for (int i = 0; i < nu; i++) {
        int64_t cash = rint_in(1, 200) * g->mid[syms[0]] * 100;
        out[n++] = (tcmd){.type = BOURSE_CMD_DEPOSIT, .user = users[i], .sym = CASH, .qty = cash};
        for (int k = 0; k < ns; k++)
            if (chance(75))
                out[n++] = (tcmd){
                    .type = BOURSE_CMD_DEPOSIT, .user = users[i], .sym = syms[k], .qty = rint_in(10, 2000)};
    }
    return n;
}

/* ---- scenarios ---- */

/* How often each kind of event came out ("TRADE", "REJECTED DUPLICATE_ID"). */
static struct {
    char key[40];
    long n;
} kinds[64];

static void count_kinds(const char *text)
{
    for (const char *l = text; *l;) {
        const char *nl = strchr(l, '\n'), *sp = strchr(l, ' ');
        const char *last = nl;
        while (last > l && last[-1] != ' ')
            last--;
        char key[40];
        int w = (int)((sp && sp < nl ? sp : nl) - l);
        if (!strncmp(l, "REJECTED", 8) || !strncmp(l, "CANCELED", 8) || !strncmp(l, "ERROR", 5))
            snprintf(key, sizeof key, "%.*s %.*s", w, l, (int)(nl - last), last);
        else
            snprintf(key, sizeof key, "%.*s", w, l);
        int k = 0;
        while (k < 63 && kinds[k].n && strcmp(kinds[k].key, key))
            k++;
        snprintf(kinds[k].key, sizeof kinds[k].key, "%s", key);
        kinds[k].n++;
        l = nl + 1;
    }
}

static long kind_count(const char *key)
{
    for (int k = 0; k < 64 && kinds[k].n; k++)
        if (!strcmp(kinds[k].key, key))
            return kinds[k].n;
    return 0;
}

static void show_diff(const char *want, const char *got)
{
    printf("# want:\n%s# got:\n%s", want, got);
}

/* Snapshots (bourse_engine_save/load) through memory. */
typedef struct membuf {
    char *p;
    size_t len, cap, pos;
} membuf;

static int mem_write(void *ctx, const void *buf, size_t len)
{
    membuf *b = ctx;
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, buf, len);
    b->len += len;
    return 0;
}

static int mem_read(void *ctx, void *buf, size_t len)
{
    membuf *b = ctx;
    if (len > b->len - b->pos)
        return -1;
    memcpy(buf, b->p + b->pos, len);
    b->pos += len;
    return 0;
}

/* Replace the run's engine by one saved and loaded again: it must hash the
 * same and, from here on, answer every command as the model does. */
static int snapshot_round_trip(engine_run *r, const char *tag, int i)
{
    membuf b = {0};
    char err[200] = "";
    uint64_t h = bourse_engine_hash(r->e);
    bourse_engine *e = NULL;
    if (bourse_engine_save(r->e, mem_write, &b) == 0)
        e = bourse_engine_load(mem_read, &b, err, sizeof err);
    free(b.p);
    if (!e || bourse_engine_hash(e) != h || b.pos != b.len) {
        printf("FAIL %s: snapshot after command %d does not load back the same (%s)\n", tag, i, err);
        bourse_engine_free(e);
        return 1;
    }
    bourse_engine_free(r->e);
    r->e = e;
    return 0;
}

/* One scenario; returns 0 when every check held. */
static int scenario(uint64_t seed, int ncmds, int dump)
{
    char tag[64], line[256], err[256];
    snprintf(tag, sizeof tag, "property seed %llu", (unsigned long long)seed);
    rng_state = seed * 0x2545f4914f6cdd1dULL;
    model m;
    m_init(&m, ncmds + 1);
    gen g = {.m = &m, .never_oid = ncmds};
    for (int s = 0; s < MS; s++) {
        static const int64_t ticks[] = {1, 100, 500, 10000};
        g.tick[s] = ticks[rint_in(0, 3)];
        g.mid[s] = g.tick[s] * rint_in(20, 2000);
    }
    int caps = chance(25);
    g.v2 = chance(50);
    bourse_limits la = {1, 1, 1, 1, 1}, lb = {64, 64, 1 << 14, 1 << 15, 1 << 10};
    if (caps) {
        m.cap_syms = (int)rint_in(1, 4), m.cap_users = (int)rint_in(2, 6);
        m.cap_orders = (int)rint_in(1, 64), m.cap_ids = 8 << rint_in(0, 8);
        m.cap_positions = (int)rint_in(2, 20);
        la = (bourse_limits){(uint32_t)m.cap_syms, (uint32_t)m.cap_users, (uint32_t)m.cap_orders,
                             (uint32_t)m.cap_ids, (uint32_t)m.cap_positions};
    }
    if (chance(33)) { /* ids unique per trading day, as the server runs */
        m.day_ids = 1;
        la.flags = lb.flags = BOURSE_DAY_IDS;
    }
    engine_run runs[2] = {{.tag = tag, .e = bourse_engine_new(&la), .grow = !caps, .maxoid = ncmds + 1},
                          {.tag = tag, .e = caps ? NULL : bourse_engine_new(&lb), .maxoid = ncmds + 1}};
    int nruns = caps ? 1 : 2, bad = 0;
    for (int k = 0; k < nruns; k++)
        runs[k].limit_of = calloc((size_t)MU * (size_t)(ncmds + 1), sizeof(int64_t));
    if (dump && caps)
        printf("#! args --max-symbols %u --max-users %u --max-orders %u --max-ids %u --max-positions %u%s\n",
               la.symbols, la.users, la.orders, la.ids, la.positions, m.day_ids ? " --day-ids" : "");
    else if (dump && m.day_ids)
        printf("#! args --day-ids\n");
    tcmd setup[64];
    int nsetup = gen_setup(&g, setup), total = nsetup + ncmds + MS + MU;
    for (int i = 0; i < total && !bad; i++) {
        tcmd c;
        if (i < nsetup)
            c = setup[i];
        else if (i < nsetup + ncmds)
            gen_cmd(&g, &c);
        else if (i < nsetup + ncmds + MS) /* finally every book and balance */
            c = (tcmd){.type = BOURSE_CMD_BOOK, .sym = i - nsetup - ncmds};
        else
            c = (tcmd){.type = BOURSE_CMD_BALANCE, .user = i - nsetup - ncmds - MS};
        if (g.next_oid >= ncmds) /* out of fresh ids: only reuse old ones */
            g.next_oid = ncmds - 1;
        tcmd_line(&c, line);
        bourse_cmd pc;
        if (bourse_text_parse(line, strlen(line), &pc, err, sizeof err) != BOURSE_TEXT_CMD) {
            printf("FAIL %s: command %d '%s' does not parse: %s\n", tag, i, line, err);
            bad = 1;
            break;
        }
        /* the band in force for an incoming order, before it is checked */
        int64_t lo = 0, hi = 0;
        int bsym = c.type == BOURSE_CMD_ORDER && c.sym >= 0 && m.sym_exists[c.sym] ? c.sym : -1;
        if (c.type == BOURSE_CMD_REPLACE && c.user >= 0 && c.oid < m.maxoid &&
            m_idx(&m, c.user, c.oid)[0] >= 0)
            bsym = m.live[*m_idx(&m, c.user, c.oid)].sym;
        if (bsym < 0 || !m_band(&m, bsym, &lo, &hi))
            lo = hi = 0;
        for (int k = 0; k < nruns; k++)
            runs[k].band_lo = lo, runs[k].band_hi = hi;
        m_apply(&m, &c);
        count_kinds(m.out ? m.out : "");
        if (dump) {
            printf("%s\n", line);
            for (const char *l = m.out; l && *l; l = strchr(l, '\n') + 1)
                printf("#> %.*s\n", (int)(strchr(l, '\n') - l), l);
        }
        for (int k = 0; k < nruns && !bad; k++) {
            engine_run *r = &runs[k];
            run_apply(r, &pc);
            const char *got = r->buf ? r->buf : "", *want = m.out ? m.out : "";
            if (strcmp(got, want) != 0) {
                printf("FAIL %s: engine %c, command %d '%s': events differ from the model\n", tag, 'A' + k, i,
                       line);
                show_diff(want, got);
                bad = 1;
            }
            if (!bad && (k == 0 || i % 16 == 0 || i == total - 1))
                bad = inv_check(r->e, tag) || compare_state(r->e, &m, tag);
        }
        if (!bad && i % 500 == 250)
            bad = snapshot_round_trip(&runs[nruns - 1], tag, i);
        if (!bad && nruns == 2 && (i % 64 == 0 || i == total - 1) &&
            bourse_engine_hash(runs[0].e) != bourse_engine_hash(runs[1].e)) {
            printf("FAIL %s: after command %d, engines A and B hash differently\n", tag, i);
            bad = 1;
        }
    }
    if (bad) {
        check_failures++;
        printf("# rerun: BOURSE_SEED=%llu BOURSE_DUMP=1 build/tests/test_property\n",
               (unsigned long long)seed);
    }
    for (int k = 0; k < nruns; k++) {
        bourse_engine_free(runs[k].e);
        free(runs[k].buf);
        free(runs[k].limit_of);
    }
    m_free(&m);
    return bad;
}

static int env_int(const char *name, int def)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : def;
}

static int nscenarios = 200, ncommands = 2000, first_seed = 1;

static void test_random_scenarios(void)
{
    int failed = 0;
    for (int s = 0; s < nscenarios && failed < 3; s++)
        failed += scenario((uint64_t)(first_seed + s), ncommands, 0);
}

/* The generator must actually reach every rule, or the runs prove little. */
static void test_coverage(void)
{
    static const char *const want[] = {"OK",
                                       "ACCEPTED",
                                       "TRADE",
                                       "REPLACED",
                                       "LEVEL",
                                       "BALANCE",
                                       "CANCELED USER",
                                       "CANCELED IOC",
                                       "CANCELED FOK",
                                       "CANCELED SELF_TRADE",
                                       "CANCELED SESSION_END",
                                       "REJECTED MARKET_CLOSED",
                                       "REJECTED UNKNOWN_USER",
                                       "REJECTED UNKNOWN_SYMBOL",
                                       "REJECTED UNKNOWN_ORDER",
                                       "REJECTED DUPLICATE_ID",
                                       "REJECTED INSUFFICIENT_CASH",
                                       "REJECTED INSUFFICIENT_SHARES",
                                       "REJECTED DAILY_LIMIT",
                                       "REJECTED CAPACITY",
                                       "ERROR UNKNOWN_USER",
                                       "ERROR UNKNOWN_SYMBOL",
                                       "ERROR DUPLICATE_USER",
                                       "ERROR DUPLICATE_SYMBOL",
                                       "ERROR INSUFFICIENT_CASH",
                                       "ERROR INSUFFICIENT_SHARES",
                                       "ERROR OVERFLOW",
                                       "ERROR CAPACITY",
                                       "FEE",
                                       "CANCELED KILL",
                                       "REJECTED BLOCKED",
                                       "REJECTED HALTED",
                                       "REJECTED TICK",
                                       "REJECTED LOT",
                                       "REJECTED MAX_QTY",
                                       "REJECTED MAX_NOTIONAL",
                                       "REJECTED PRICE_BAND",
                                       "REJECTED NO_BAND"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (kind_count(want[i]) == 0) {
            printf("FAIL test_coverage: no '%s' event in any scenario\n", want[i]);
            check_failures++;
        }
    printf("# events:");
    for (int k = 0; k < 64 && kinds[k].n; k++)
        printf(" %s=%ld", kinds[k].key, kinds[k].n);
    printf("\n");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* a crash must not swallow the FAIL lines before it */
    int soak = env_int("BOURSE_SOAK", 0), seed = env_int("BOURSE_SEED", 0);
    if (soak) {
        nscenarios = soak > 1 ? soak : 2000;
        ncommands = 5000;
        first_seed = env_int("BOURSE_SOAK_SEED", 1000000);
    }
    if (seed)
        return scenario((uint64_t)seed, ncommands, env_int("BOURSE_DUMP", 0)) ? 1 : 0;
    RUN(test_random_scenarios);
    RUN(test_coverage);
    return CHECK_DONE();
}
