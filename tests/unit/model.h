/*
 * model.h - a shadow model of the matching rules, for test_property.c.
 *
 * A deliberately naive second implementation of shared/spec/replay-v2.md:
 * resting orders live in one unordered array and every question (best
 * opposite order, FOK liquidity, book levels, orders in booking order) is
 * a linear scan, so it shares nothing with src/core but the rules.  The
 * venue rules (v2) are written from the spec's own formulas: band edges and
 * fees in 128-bit arithmetic straight from their definitions (the core uses
 * division-free and split forms), holds as H(Q) = Q x P + fee(Q x P, max
 * rate), a FEES account found by name.  It reads
 * commands as plain structs over small name pools and writes the events it
 * expects as replay text, to be compared byte for byte with the engine's.
 * Order ids are "o<N>"; users and symbols are indexes into the pools below.
 * Capacities are mirrored only as far as the public limits promise (see
 * bourse_limits): zero means unlimited.
 */
#ifndef BOURSE_TEST_MODEL_H
#define BOURSE_TEST_MODEL_H

#include "bourse/bourse.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MU = 8, MS = 7, GHOST = MU - 1, NOPE = MS - 1, CASH = -1 };
/* Pool names; the last of each is never created. */
static const char *const user_names[MU] = {"alice", "bob", "carol", "dave", "eve-1", "F_2", "FEES", "ghost"};
enum { FEES_USER = 6 }; /* the fee account of replay-v2.md, rule 16 */
static const char *const sym_names[MS] = {"ACME", "B", "BRK.B", "A.1", "ZZ9", "Q", "NOPE"};
static int sym_order[MS]; /* pool indexes in name byte order, for `balance` */

/* ---- commands ---- */

typedef struct tcmd {
    int type;      /* enum bourse_cmd_type */
    int user, sym; /* pool indexes; sym CASH for cash (cancelall: -2 = every symbol) */
    int side, tif, say_day;
    int oid, noid;
    int64_t qty, price; /* price 0: a market order */
    int64_t set[6];     /* rules/fees settings, -1 = not given */
} tcmd;

static void dec(char *buf, int64_t v)
{
    int n = sprintf(buf, "%lld", (long long)(v / 10000));
    if (v % 10000) {
        n += sprintf(buf + n, ".%04lld", (long long)(v % 10000));
        while (buf[n - 1] == '0')
            buf[--n] = 0;
    }
}

static const char *sym_word(int s)
{
    return s == CASH ? "CASH" : sym_names[s];
}

static void tcmd_line(const tcmd *c, char *buf)
{
    static const char *const tifs[] = {"day", "gtc", "ioc", "fok"};
    const char *u = user_names[c->user < 0 ? 0 : c->user];
    char p[32], a[32];
    dec(p, c->price);
    if (c->sym == CASH)
        dec(a, c->qty);
    else
        sprintf(a, "%lld", (long long)c->qty);
    switch (c->type) {
    case BOURSE_CMD_SYMBOL: sprintf(buf, "symbol %s", sym_names[c->sym]); break;
    case BOURSE_CMD_USER: sprintf(buf, "user %s", u); break;
    case BOURSE_CMD_DEPOSIT: sprintf(buf, "deposit %s %s %s", u, sym_word(c->sym), a); break;
    case BOURSE_CMD_WITHDRAW: sprintf(buf, "withdraw %s %s %s", u, sym_word(c->sym), a); break;
    case BOURSE_CMD_LIMIT: sprintf(buf, "limit %s %lld", u, (long long)c->qty); break;
    case BOURSE_CMD_OPEN: sprintf(buf, "open"); break;
    case BOURSE_CMD_CLOSE: sprintf(buf, "close"); break;
    case BOURSE_CMD_ORDER:
        if (c->price == 0) { /* market: ioc by default */
            sprintf(buf, "%s %s o%d %s %lld market%s", c->side ? "sell" : "buy", u, c->oid, sym_names[c->sym],
                    (long long)c->qty,
                    c->tif == BOURSE_FOK ? " fok"
                    : c->say_day         ? " ioc"
                                         : "");
            break;
        }
        sprintf(buf, "%s %s o%d %s %lld %s%s%s", c->side ? "sell" : "buy", u, c->oid, sym_names[c->sym],
                (long long)c->qty, p, c->tif || c->say_day ? " " : "",
                c->tif || c->say_day ? tifs[c->tif] : "");
        break;
    case BOURSE_CMD_RULES:
    case BOURSE_CMD_FEES: {
        static const char *const rk[] = {"tick", "lot", "maxqty", "maxnotional", "band", "ref"};
        static const char *const fk[] = {"maker", "taker"};
        int fees = c->type == BOURSE_CMD_FEES,
            n = sprintf(buf, "%s %s", fees ? "fees" : "rules", sym_names[c->sym]);
        for (int k = 0; k < (fees ? 2 : 6); k++) {
            if (c->set[k] < 0)
                continue;
            char v[40];
            if (!fees && (k == 0 || k == 3 || k == 5))
                dec(v, c->set[k]);
            else if (!fees && k == 4)
                sprintf(v, "%lld.%02lld", (long long)(c->set[k] / 100), (long long)(c->set[k] % 100));
            else
                sprintf(v, "%lld", (long long)c->set[k]);
            n += sprintf(buf + n, " %s=%s", fees ? fk[k] : rk[k], v);
        }
        break;
    }
    case BOURSE_CMD_HALT: sprintf(buf, "halt %s", sym_names[c->sym]); break;
    case BOURSE_CMD_HALTALL: sprintf(buf, "haltall"); break;
    case BOURSE_CMD_RESUMEALL: sprintf(buf, "resumeall"); break;
    case BOURSE_CMD_RESUME: sprintf(buf, "resume %s", sym_names[c->sym]); break;
    case BOURSE_CMD_BLOCK: sprintf(buf, "block %s", u); break;
    case BOURSE_CMD_UNBLOCK: sprintf(buf, "unblock %s", u); break;
    case BOURSE_CMD_CANCELALL:
        if (c->sym == -2)
            sprintf(buf, "cancelall %s", u);
        else
            sprintf(buf, "cancelall %s %s", u, sym_names[c->sym]);
        break;
    case BOURSE_CMD_CANCEL: sprintf(buf, "cancel %s o%d", u, c->oid); break;
    case BOURSE_CMD_REPLACE:
        sprintf(buf, "replace %s o%d o%d %lld %s", u, c->oid, c->noid, (long long)c->qty, p);
        break;
    case BOURSE_CMD_BOOK: sprintf(buf, "book %s", sym_names[c->sym]); break;
    case BOURSE_CMD_BALANCE: sprintf(buf, "balance %s", u); break;
    }
}

/* ---- the model ---- */

typedef struct m_user {
    int exists, cash_ever, limit_valid, blocked;
    int64_t cash, cash_held, limit, traded, open_qty;
    int pos[MS], ever[MS];
    int64_t avail[MS], held[MS];
} m_user;

typedef struct m_order {
    int user, sym, side, tif, oid;
    int64_t qty, price;
    uint64_t seq;         /* booking time: priority within a price, and `close` order */
    int64_t maker, hrate; /* fee rates fixed at acceptance: maker, max(maker, taker) */
} m_order;

/* A symbol's venue rules (rules 10-12, 16); all 0 = none, except tick and lot. */
typedef struct m_rules {
    int64_t tick, lot, maxqty, maxnotional, band, ref, maker, taker;
    int halted;
} m_rules;

/* fee(N, r) = floor(N x r / 10000), from its definition. */
static int64_t m_fee(int64_t n, int64_t r)
{
    return (int64_t)((__int128)n * r / 10000);
}

/* H(Q) of rule 16: what a buy of open quantity q at p with reserve rate hr holds. */
static int64_t m_hold(int64_t q, int64_t p, int64_t hr)
{
    return q * p + m_fee(q * p, hr);
}

typedef struct model {
    m_user u[MU];
    int sym_exists[MS];
    int64_t sym_total[MS], cash_total;
    m_rules rules[MS];
    int halted_all; /* Bourse's emergency stop, haltall/resumeall */
    int open;
    uint64_t seq;
    m_order *live; /* resting orders, unordered */
    int nlive;
    int *idx;            /* [user * maxoid + oid]: index in live, or -1 */
    unsigned char *used; /* [user * maxoid + oid]: the id is taken */
    int maxoid;
    int nusers, nsyms, npositions, nids;
    int cap_users, cap_syms, cap_orders, cap_ids, cap_positions; /* 0: none */
    int day_ids; /* BOURSE_DAY_IDS: ids unique per trading day */
    char *out;
    size_t len, cap;
} model;

static void m_out(model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void m_out(model *m, const char *fmt, ...)
{
    if (m->len + 256 > m->cap) {
        m->cap = m->cap * 2 + 4096;
        m->out = realloc(m->out, m->cap);
    }
    va_list ap;
    va_start(ap, fmt);
    m->len += (size_t)vsnprintf(m->out + m->len, m->cap - m->len, fmt, ap);
    va_end(ap);
}

static void m_reject(model *m, const tcmd *c, int oid, const char *why)
{
    m_out(m, "REJECTED %s o%d %s\n", user_names[c->user], oid, why);
}

static int *m_idx(model *m, int u, int oid)
{
    return &m->idx[u * m->maxoid + oid];
}

static void m_push(model *m, m_order o)
{
    o.seq = ++m->seq;
    m->live[m->nlive] = o;
    *m_idx(m, o.user, o.oid) = m->nlive++;
    m->u[o.user].open_qty += o.qty;
}

static void m_remove(model *m, int i)
{
    m_order *o = &m->live[i];
    m->u[o->user].open_qty -= o->qty;
    *m_idx(m, o->user, o->oid) = -1;
    *o = m->live[--m->nlive];
    if (i < m->nlive)
        *m_idx(m, o->user, o->oid) = i;
}

/* Give back what `qty` of an order at `price` (reserve rate hr) holds. */
static void m_release(model *m, int u, int sym, int side, int64_t qty, int64_t price, int64_t hr)
{
    m_user *us = &m->u[u];
    if (side == BOURSE_BUY)
        us->cash_held -= m_hold(qty, price, hr), us->cash += m_hold(qty, price, hr);
    else
        us->held[sym] -= qty, us->avail[sym] += qty;
}

static void m_take_hold(model *m, int u, int sym, int side, int64_t qty, int64_t price, int64_t hr)
{
    m_user *us = &m->u[u];
    if (side == BOURSE_BUY)
        us->cash_held += m_hold(qty, price, hr), us->cash -= m_hold(qty, price, hr);
    else
        us->held[sym] += qty, us->avail[sym] -= qty;
}

static void m_cancel_at(model *m, int i, const char *why)
{
    m_order *o = &m->live[i];
    m_out(m, "CANCELED %s o%d %lld %s\n", user_names[o->user], o->oid, (long long)o->qty, why);
    m_release(m, o->user, o->sym, o->side, o->qty, o->price, o->hrate);
    m_remove(m, i);
}

static int crosses(int side, int64_t limit, int64_t price)
{
    return side == BOURSE_BUY ? price <= limit : price >= limit;
}

/* The resting order an incoming order on `side` meets first, or -1. */
static int m_best(const model *m, int sym, int side, int64_t limit)
{
    int best = -1;
    for (int i = 0; i < m->nlive; i++) {
        const m_order *o = &m->live[i];
        if (o->sym != sym || o->side == side || !crosses(side, limit, o->price))
            continue;
        if (best < 0)
            best = i;
        const m_order *b = &m->live[best];
        int better = side == BOURSE_BUY ? o->price < b->price : o->price > b->price;
        if (better || (o->price == b->price && o->seq < b->seq))
            best = i;
    }
    return best;
}

/* The incoming order's fee rates: its taker rate and reserve rate. */
static void m_take(model *m, int u, int sym, int side, int64_t limit, int oid, int64_t *qty, int64_t taker,
                   int64_t hr)
{
    while (*qty > 0) {
        int i = m_best(m, sym, side, limit);
        if (i < 0)
            return;
        m_order *r = &m->live[i];
        if (r->user == u) {
            m_cancel_at(m, i, "SELF_TRADE");
            continue;
        }
        int64_t q = *qty < r->qty ? *qty : r->qty, px = r->price;
        int buyer = side == BOURSE_BUY ? u : r->user, seller = side == BOURSE_BUY ? r->user : u;
        int boid = side == BOURSE_BUY ? oid : r->oid, soid = side == BOURSE_BUY ? r->oid : oid;
        char ps[32];
        dec(ps, px);
        m_out(m, "TRADE %s %lld %s %s o%d %s o%d\n", sym_names[sym], (long long)q, ps, user_names[buyer],
              boid, user_names[seller], soid);
        m_user *b = &m->u[buyer], *s = &m->u[seller];
        int64_t n = q * px;
        int64_t bopen = side == BOURSE_BUY ? *qty : r->qty, blimit = side == BOURSE_BUY ? limit : px;
        int64_t bhr = side == BOURSE_BUY ? hr : r->hrate;
        int64_t fb = m_fee(n, side == BOURSE_BUY ? taker : r->maker);
        int64_t fs = m_fee(n, side == BOURSE_BUY ? r->maker : taker);
        int64_t freed = m_hold(bopen, blimit, bhr) - m_hold(bopen - q, blimit, bhr);
        b->cash_held -= freed;
        b->cash += freed - n - fb;
        b->avail[sym] += q;
        b->ever[sym] = 1;
        s->held[sym] -= q;
        s->cash += n - fs;
        s->cash_ever = 1;
        if (fb + fs > 0) {
            m->u[FEES_USER].cash += fb + fs;
            m->u[FEES_USER].cash_ever = 1;
        }
        if (fb > 0 || fs > 0) {
            char fa[32];
            if (fb > 0)
                dec(fa, fb), m_out(m, "FEE %s o%d %s\n", user_names[buyer], boid, fa);
            if (fs > 0)
                dec(fa, fs), m_out(m, "FEE %s o%d %s\n", user_names[seller], soid, fa);
        }
        m->rules[sym].ref = px;
        b->traded += q;
        s->traded += q;
        r->qty -= q;
        m->u[r->user].open_qty -= q;
        *qty -= q;
        if (r->qty == 0)
            m_remove(m, i);
    }
}

static int m_fillable(const model *m, int u, int sym, int side, int64_t limit, int64_t qty)
{
    int64_t have = 0;
    for (int i = 0; i < m->nlive; i++) {
        const m_order *o = &m->live[i];
        if (o->sym == sym && o->side != side && o->user != u && crosses(side, limit, o->price))
            have += o->qty;
    }
    return have >= qty;
}

static int m_user_ok(const model *m, int u)
{
    return u >= 0 && m->u[u].exists;
}

static int over_limit(const m_user *us, int64_t open_qty, int64_t qty)
{
    return us->limit && us->traded + open_qty + qty > us->limit;
}

/* Rule 11: is a band in force, and its edges [lo, hi]. */
static int m_band(const model *m, int sym, int64_t *lo, int64_t *hi)
{
    const m_rules *r = &m->rules[sym];
    if (!r->band || !r->ref)
        return 0;
    __int128 up = (__int128)r->ref * (10000 + r->band) / 10000;
    *hi = up > BOURSE_PRICE_MAX ? BOURSE_PRICE_MAX : (int64_t)up;
    if (r->band >= 10000)
        *lo = 1;
    else {
        __int128 num = (__int128)r->ref * (10000 - r->band);
        *lo = (int64_t)(num / 10000 + (num % 10000 != 0));
    }
    return 1;
}

/* Rules 10 and 11, in rule 7's order, for qty at *price (0: market, which
 * gets its protection price); the reject reason or NULL. */
static const char *m_rules_check(const model *m, int sym, int side, int64_t qty, int64_t *price)
{
    const m_rules *r = &m->rules[sym];
    int market = *price == 0;
    if (!market && *price % r->tick)
        return "TICK";
    if (qty % r->lot)
        return "LOT";
    if (r->maxqty && qty > r->maxqty)
        return "MAX_QTY";
    int64_t lo = 0, hi = 0;
    int band = m_band(m, sym, &lo, &hi);
    if (market && !band)
        return "NO_BAND";
    if (market)
        *price = side == BOURSE_BUY ? hi : lo;
    else if (band && ((__int128)*price * 10000 < (__int128)r->ref * (10000 - r->band) ||
                      (__int128)*price * 10000 > (__int128)r->ref * (10000 + r->band)))
        return "PRICE_BAND";
    if (r->maxnotional && qty * *price > r->maxnotional)
        return "MAX_NOTIONAL";
    return NULL;
}

static void m_order_cmd(model *m, const tcmd *c)
{
    if (!m->open)
        return m_reject(m, c, c->oid, "MARKET_CLOSED");
    if (!m_user_ok(m, c->user))
        return m_reject(m, c, c->oid, "UNKNOWN_USER");
    if (!m->sym_exists[c->sym])
        return m_reject(m, c, c->oid, "UNKNOWN_SYMBOL");
    if (m->used[c->user * m->maxoid + c->oid])
        return m_reject(m, c, c->oid, "DUPLICATE_ID");
    m_user *us = &m->u[c->user];
    if (us->blocked)
        return m_reject(m, c, c->oid, "BLOCKED");
    const m_rules *ru = &m->rules[c->sym];
    if (ru->halted || m->halted_all)
        return m_reject(m, c, c->oid, "HALTED");
    int64_t price = c->price;
    const char *why = m_rules_check(m, c->sym, c->side, c->qty, &price);
    if (why)
        return m_reject(m, c, c->oid, why);
    int tif = c->price == 0 && c->tif != BOURSE_FOK ? BOURSE_IOC : c->tif;
    int64_t maker = ru->maker, taker = ru->taker, hr = maker > taker ? maker : taker;
    if (c->side == BOURSE_BUY && us->cash < m_hold(c->qty, price, hr))
        return m_reject(m, c, c->oid, "INSUFFICIENT_CASH");
    if (c->side == BOURSE_SELL && us->avail[c->sym] < c->qty)
        return m_reject(m, c, c->oid, "INSUFFICIENT_SHARES");
    if (over_limit(us, us->open_qty, c->qty))
        return m_reject(m, c, c->oid, "DAILY_LIMIT");
    int rests = tif == BOURSE_DAY || tif == BOURSE_GTC;
    if ((m->cap_ids && m->nids >= m->cap_ids) || (rests && m->cap_orders && m->nlive >= m->cap_orders))
        return m_reject(m, c, c->oid, "CAPACITY");
    if (!us->pos[c->sym]) {
        if (m->cap_positions && m->npositions >= m->cap_positions)
            return m_reject(m, c, c->oid, "CAPACITY");
        us->pos[c->sym] = 1;
        m->npositions++;
    }
    m_out(m, "ACCEPTED %s o%d\n", user_names[c->user], c->oid);
    m->used[c->user * m->maxoid + c->oid] = 1;
    m->nids++;
    if (tif == BOURSE_FOK && !m_fillable(m, c->user, c->sym, c->side, price, c->qty)) {
        m_out(m, "CANCELED %s o%d %lld FOK\n", user_names[c->user], c->oid, (long long)c->qty);
        return;
    }
    int64_t left = c->qty;
    m_take_hold(m, c->user, c->sym, c->side, c->qty, price, hr);
    m_take(m, c->user, c->sym, c->side, price, c->oid, &left, taker, hr);
    if (left && tif == BOURSE_FOK)
        m_out(m, "MODEL-BUG fillable fok has %lld left\n", (long long)left);
    if (left && rests) {
        m_push(m, (m_order){c->user, c->sym, c->side, tif, c->oid, left, price, 0, maker, hr});
    } else if (left) {
        m_release(m, c->user, c->sym, c->side, left, price, hr);
        m_out(m, "CANCELED %s o%d %lld IOC\n", user_names[c->user], c->oid, (long long)left);
    }
}

static void m_cancel_cmd(model *m, const tcmd *c)
{
    if (!m_user_ok(m, c->user))
        return m_reject(m, c, c->oid, "UNKNOWN_USER");
    int i = *m_idx(m, c->user, c->oid);
    if (i < 0)
        return m_reject(m, c, c->oid, "UNKNOWN_ORDER");
    m_cancel_at(m, i, "USER");
}

static void m_replace_cmd(model *m, const tcmd *c)
{
    if (!m->open)
        return m_reject(m, c, c->noid, "MARKET_CLOSED");
    if (!m_user_ok(m, c->user))
        return m_reject(m, c, c->noid, "UNKNOWN_USER");
    int i = *m_idx(m, c->user, c->oid);
    if (i < 0)
        return m_reject(m, c, c->noid, "UNKNOWN_ORDER");
    if (m->used[c->user * m->maxoid + c->noid])
        return m_reject(m, c, c->noid, "DUPLICATE_ID");
    m_order o = m->live[i];
    m_user *us = &m->u[c->user];
    if (us->blocked)
        return m_reject(m, c, c->noid, "BLOCKED");
    const m_rules *ru = &m->rules[o.sym];
    if (ru->halted || m->halted_all)
        return m_reject(m, c, c->noid, "HALTED");
    int64_t price = c->price;
    const char *why = m_rules_check(m, o.sym, o.side, c->qty, &price);
    if (why)
        return m_reject(m, c, c->noid, why);
    int64_t maker = ru->maker, taker = ru->taker, hr = maker > taker ? maker : taker;
    if (o.side == BOURSE_BUY && us->cash + m_hold(o.qty, o.price, o.hrate) < m_hold(c->qty, c->price, hr))
        return m_reject(m, c, c->noid, "INSUFFICIENT_CASH");
    if (o.side == BOURSE_SELL && us->avail[o.sym] + o.qty < c->qty)
        return m_reject(m, c, c->noid, "INSUFFICIENT_SHARES");
    if (over_limit(us, us->open_qty - o.qty, c->qty))
        return m_reject(m, c, c->noid, "DAILY_LIMIT");
    if (m->cap_ids && m->nids >= m->cap_ids)
        return m_reject(m, c, c->noid, "CAPACITY");
    m_out(m, "REPLACED %s o%d o%d\n", user_names[c->user], c->oid, c->noid);
    m->used[c->user * m->maxoid + c->noid] = 1;
    m->nids++;
    m_release(m, c->user, o.sym, o.side, o.qty, o.price, o.hrate);
    m_take_hold(m, c->user, o.sym, o.side, c->qty, c->price, hr);
    m_remove(m, i);
    o.oid = c->noid;
    o.maker = maker, o.hrate = hr;                /* the rates in force when it takes effect */
    if (c->price == o.price && c->qty <= o.qty) { /* keeps its place in the queue */
        o.qty = c->qty;
        m_push(m, o);
        m->live[m->nlive - 1].seq = o.seq;
        m->seq--;
        return;
    }
    int64_t left = c->qty;
    m_take(m, c->user, o.sym, o.side, c->price, c->noid, &left, taker, hr);
    if (left)
        m_push(m, (m_order){c->user, o.sym, o.side, o.tif, c->noid, left, c->price, 0, maker, hr});
}

static void m_book(model *m, int sym)
{
    /* Each side, best price first: repeatedly print the best price not yet printed. */
    for (int side = 0; side < 2; side++) {
        int64_t after = side == BOURSE_BUY ? INT64_MAX : 0;
        for (;;) {
            int64_t px = -1, qty = 0, n = 0;
            for (int i = 0; i < m->nlive; i++) {
                const m_order *o = &m->live[i];
                if (o->sym != sym || o->side != side)
                    continue;
                int beyond = side == BOURSE_BUY ? o->price < after : o->price > after;
                int better = px < 0 || (side == BOURSE_BUY ? o->price > px : o->price < px);
                if (beyond && better)
                    px = o->price;
            }
            if (px < 0)
                break;
            for (int i = 0; i < m->nlive; i++)
                if (m->live[i].sym == sym && m->live[i].side == side && m->live[i].price == px)
                    qty += m->live[i].qty, n++;
            char ps[32];
            dec(ps, px);
            m_out(m, "LEVEL %s %s %s %lld %lld\n", sym_names[sym], side ? "ASK" : "BID", ps, (long long)qty,
                  (long long)n);
            after = px;
        }
    }
}

static void m_balance(model *m, int u)
{
    m_user *us = &m->u[u];
    char a[32], h[32];
    if (us->cash_ever) {
        dec(a, us->cash), dec(h, us->cash_held);
        m_out(m, "BALANCE %s CASH %s %s\n", user_names[u], a, h);
    }
    for (int k = 0; k < MS; k++) {
        int s = sym_order[k];
        if (us->pos[s] && us->ever[s])
            m_out(m, "BALANCE %s %s %lld %lld\n", user_names[u], sym_names[s], (long long)us->avail[s],
                  (long long)us->held[s]);
    }
}

static void m_transfer(model *m, const tcmd *c)
{
    int dep = c->type == BOURSE_CMD_DEPOSIT;
    if (!m_user_ok(m, c->user))
        return m_out(m, "ERROR UNKNOWN_USER\n");
    m_user *us = &m->u[c->user];
    if (c->sym == CASH) {
        if (dep && c->qty > BOURSE_CASH_MAX - m->cash_total)
            return m_out(m, "ERROR OVERFLOW\n");
        if (!dep && us->cash < c->qty)
            return m_out(m, "ERROR INSUFFICIENT_CASH\n");
        us->cash += dep ? c->qty : -c->qty;
        m->cash_total += dep ? c->qty : -c->qty;
        us->cash_ever |= dep;
        return m_out(m, "OK\n");
    }
    int s = c->sym;
    if (!m->sym_exists[s])
        return m_out(m, "ERROR UNKNOWN_SYMBOL\n");
    if (dep && c->qty > BOURSE_TOTAL_MAX - m->sym_total[s])
        return m_out(m, "ERROR OVERFLOW\n");
    if (!dep && us->avail[s] < c->qty)
        return m_out(m, "ERROR INSUFFICIENT_SHARES\n");
    if (dep && !us->pos[s]) {
        if (m->cap_positions && m->npositions >= m->cap_positions)
            return m_out(m, "ERROR CAPACITY\n");
        us->pos[s] = 1;
        m->npositions++;
    }
    us->avail[s] += dep ? c->qty : -c->qty;
    m->sym_total[s] += dep ? c->qty : -c->qty;
    us->ever[s] |= dep;
    m_out(m, "OK\n");
}

static void m_close(model *m)
{
    for (;;) {
        int first = -1;
        for (int i = 0; i < m->nlive; i++)
            if (m->live[i].tif == BOURSE_DAY && (first < 0 || m->live[i].seq < m->live[first].seq))
                first = i;
        if (first < 0)
            return;
        m_cancel_at(m, first, "SESSION_END");
    }
}

/* Every open order of u (on sym, or all when sym is -2), oldest booking
 * first: block and cancelall. */
static void m_cancel_user(model *m, int u, int sym, const char *why)
{
    for (;;) {
        int first = -1;
        for (int i = 0; i < m->nlive; i++)
            if (m->live[i].user == u && (sym == -2 || m->live[i].sym == sym) &&
                (first < 0 || m->live[i].seq < m->live[first].seq))
                first = i;
        if (first < 0)
            return;
        m_cancel_at(m, first, why);
    }
}

static void m_settings(model *m, const tcmd *c)
{
    if (!m->sym_exists[c->sym])
        return m_out(m, "ERROR UNKNOWN_SYMBOL\n");
    m_rules *r = &m->rules[c->sym];
    if (c->type == BOURSE_CMD_FEES) {
        if (!m->u[FEES_USER].exists)
            return m_out(m, "ERROR UNKNOWN_USER\n");
        if (c->set[0] >= 0)
            r->maker = c->set[0];
        if (c->set[1] >= 0)
            r->taker = c->set[1];
        return m_out(m, "OK\n");
    }
    int64_t *f[6] = {&r->tick, &r->lot, &r->maxqty, &r->maxnotional, &r->band, &r->ref};
    for (int k = 0; k < 6; k++)
        if (c->set[k] >= 0)
            *f[k] = c->set[k];
    m_out(m, "OK\n");
}

static void m_apply(model *m, const tcmd *c)
{
    m->len = 0;
    if (m->out)
        m->out[0] = 0;
    m_user *us = c->user >= 0 ? &m->u[c->user] : NULL;
    switch (c->type) {
    case BOURSE_CMD_SYMBOL:
        if (m->sym_exists[c->sym])
            return m_out(m, "ERROR DUPLICATE_SYMBOL\n");
        if (m->cap_syms && m->nsyms >= m->cap_syms)
            return m_out(m, "ERROR CAPACITY\n");
        m->sym_exists[c->sym] = 1, m->nsyms++;
        return m_out(m, "OK\n");
    case BOURSE_CMD_USER:
        if (us->exists)
            return m_out(m, "ERROR DUPLICATE_USER\n");
        if (m->cap_users && m->nusers >= m->cap_users)
            return m_out(m, "ERROR CAPACITY\n");
        us->exists = 1, us->limit_valid = 1, m->nusers++;
        return m_out(m, "OK\n");
    case BOURSE_CMD_DEPOSIT:
    case BOURSE_CMD_WITHDRAW: return m_transfer(m, c);
    case BOURSE_CMD_LIMIT:
        if (!m_user_ok(m, c->user))
            return m_out(m, "ERROR UNKNOWN_USER\n");
        us->limit = c->qty;
        us->limit_valid = !c->qty || us->traded + us->open_qty <= c->qty;
        return m_out(m, "OK\n");
    case BOURSE_CMD_OPEN:
        m_out(m, "OK\n");
        if (!m->open) {
            for (int u = 0; u < MU; u++)
                m->u[u].traded = 0;
            if (m->day_ids) /* a new trading day: only open orders keep their ids */
                for (int i = 0; i < MU * m->maxoid; i++)
                    if (m->used[i] && m->idx[i] < 0) {
                        m->used[i] = 0;
                        m->nids--;
                    }
        }
        m->open = 1;
        return;
    case BOURSE_CMD_CLOSE:
        m_out(m, "OK\n");
        if (m->open)
            m_close(m);
        m->open = 0;
        return;
    case BOURSE_CMD_ORDER: return m_order_cmd(m, c);
    case BOURSE_CMD_CANCEL: return m_cancel_cmd(m, c);
    case BOURSE_CMD_REPLACE: return m_replace_cmd(m, c);
    case BOURSE_CMD_BOOK:
        if (!m->sym_exists[c->sym])
            return m_out(m, "ERROR UNKNOWN_SYMBOL\n");
        return m_book(m, c->sym);
    case BOURSE_CMD_BALANCE:
        if (!m_user_ok(m, c->user))
            return m_out(m, "ERROR UNKNOWN_USER\n");
        return m_balance(m, c->user);
    case BOURSE_CMD_RULES:
    case BOURSE_CMD_FEES: return m_settings(m, c);
    case BOURSE_CMD_HALT:
    case BOURSE_CMD_RESUME:
        if (!m->sym_exists[c->sym])
            return m_out(m, "ERROR UNKNOWN_SYMBOL\n");
        m->rules[c->sym].halted = c->type == BOURSE_CMD_HALT;
        return m_out(m, "OK\n");
    case BOURSE_CMD_HALTALL:
    case BOURSE_CMD_RESUMEALL: m->halted_all = c->type == BOURSE_CMD_HALTALL; return m_out(m, "OK\n");
    case BOURSE_CMD_BLOCK:
    case BOURSE_CMD_UNBLOCK:
        if (!m_user_ok(m, c->user))
            return m_out(m, "ERROR UNKNOWN_USER\n");
        us->blocked = c->type == BOURSE_CMD_BLOCK;
        m_out(m, "OK\n");
        if (us->blocked)
            m_cancel_user(m, c->user, -2, "KILL");
        return;
    case BOURSE_CMD_CANCELALL:
        if (!m_user_ok(m, c->user))
            return m_out(m, "ERROR UNKNOWN_USER\n");
        if (c->sym != -2 && !m->sym_exists[c->sym])
            return m_out(m, "ERROR UNKNOWN_SYMBOL\n");
        m_out(m, "OK\n");
        return m_cancel_user(m, c->user, c->sym, "USER");
    }
}

/* A fresh model (market open) for order ids o0 .. o<maxoid - 1>. */
static void m_init(model *m, int maxoid)
{
    memset(m, 0, sizeof *m);
    m->open = 1;
    m->maxoid = maxoid;
    m->live = calloc((size_t)maxoid, sizeof *m->live);
    m->idx = malloc((size_t)MU * (size_t)maxoid * sizeof *m->idx);
    m->used = calloc((size_t)MU * (size_t)maxoid, 1);
    if (!m->live || !m->idx || !m->used)
        abort();
    for (int i = 0; i < MU * maxoid; i++)
        m->idx[i] = -1;
    for (int i = 0; i < MS; i++)
        m->rules[i].tick = m->rules[i].lot = 1;
    for (int i = 0; i < MS; i++) { /* insertion sort by name bytes */
        int j = i;
        for (; j > 0 && strcmp(sym_names[sym_order[j - 1]], sym_names[i]) > 0; j--)
            sym_order[j] = sym_order[j - 1];
        sym_order[j] = i;
    }
}

static void m_free(model *m)
{
    free(m->live);
    free(m->idx);
    free(m->used);
    free(m->out);
}

#endif
