/*
 * model.h - a shadow model of the matching rules, for test_property.c.
 *
 * A deliberately naive second implementation of shared/spec/replay.md:
 * resting orders live in one unordered array and every question (best
 * opposite order, FOK liquidity, book levels, day orders in booking order) is
 * a linear scan, so it shares nothing with src/core but the rules.  It reads
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
static const char *const user_names[MU] = {"alice", "bob", "carol", "dave", "eve-1", "F_2", "zed", "ghost"};
static const char *const sym_names[MS] = {"ACME", "B", "BRK.B", "A.1", "ZZ9", "Q", "NOPE"};
static int sym_order[MS]; /* pool indexes in name byte order, for `balance` */

/* ---- commands ---- */

typedef struct tcmd {
    int type;      /* enum bourse_cmd_type */
    int user, sym; /* pool indexes; sym CASH for cash */
    int side, tif, say_day;
    int oid, noid;
    int64_t qty, price;
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
        sprintf(buf, "%s %s o%d %s %lld %s%s%s", c->side ? "sell" : "buy", u, c->oid, sym_names[c->sym],
                (long long)c->qty, p, c->tif || c->say_day ? " " : "",
                c->tif || c->say_day ? tifs[c->tif] : "");
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
    int exists, cash_ever, limit_valid;
    int64_t cash, cash_held, limit, traded, open_qty;
    int pos[MS], ever[MS];
    int64_t avail[MS], held[MS];
} m_user;

typedef struct m_order {
    int user, sym, side, tif, oid;
    int64_t qty, price;
    uint64_t seq; /* booking time: priority within a price, and `close` order */
} m_order;

typedef struct model {
    m_user u[MU];
    int sym_exists[MS];
    int64_t sym_total[MS], cash_total;
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

/* Give back what `qty` of an order at `price` holds. */
static void m_release(model *m, int u, int sym, int side, int64_t qty, int64_t price)
{
    m_user *us = &m->u[u];
    if (side == BOURSE_BUY)
        us->cash_held -= qty * price, us->cash += qty * price;
    else
        us->held[sym] -= qty, us->avail[sym] += qty;
}

static void m_take_hold(model *m, int u, int sym, int side, int64_t qty, int64_t price)
{
    m_release(m, u, sym, side, -qty, price);
}

static void m_cancel_at(model *m, int i, const char *why)
{
    m_order *o = &m->live[i];
    m_out(m, "CANCELED %s o%d %lld %s\n", user_names[o->user], o->oid, (long long)o->qty, why);
    m_release(m, o->user, o->sym, o->side, o->qty, o->price);
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

static void m_take(model *m, int u, int sym, int side, int64_t limit, int oid, int64_t *qty)
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
        int64_t blimit = side == BOURSE_BUY ? limit : px;
        b->cash_held -= q * blimit;
        b->cash += q * (blimit - px);
        b->avail[sym] += q;
        b->ever[sym] = 1;
        s->held[sym] -= q;
        s->cash += q * px;
        s->cash_ever = 1;
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
    if (c->side == BOURSE_BUY && us->cash < c->qty * c->price)
        return m_reject(m, c, c->oid, "INSUFFICIENT_CASH");
    if (c->side == BOURSE_SELL && us->avail[c->sym] < c->qty)
        return m_reject(m, c, c->oid, "INSUFFICIENT_SHARES");
    if (over_limit(us, us->open_qty, c->qty))
        return m_reject(m, c, c->oid, "DAILY_LIMIT");
    int rests = c->tif == BOURSE_DAY || c->tif == BOURSE_GTC;
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
    if (c->tif == BOURSE_FOK && !m_fillable(m, c->user, c->sym, c->side, c->price, c->qty)) {
        m_out(m, "CANCELED %s o%d %lld FOK\n", user_names[c->user], c->oid, (long long)c->qty);
        return;
    }
    int64_t left = c->qty;
    m_take_hold(m, c->user, c->sym, c->side, c->qty, c->price);
    m_take(m, c->user, c->sym, c->side, c->price, c->oid, &left);
    if (left && c->tif == BOURSE_FOK)
        m_out(m, "MODEL-BUG fillable fok has %lld left\n", (long long)left);
    if (left && rests) {
        m_push(m, (m_order){c->user, c->sym, c->side, c->tif, c->oid, left, c->price, 0});
    } else if (left) {
        m_release(m, c->user, c->sym, c->side, left, c->price);
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
    if (o.side == BOURSE_BUY && us->cash + o.qty * o.price < c->qty * c->price)
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
    m_release(m, c->user, o.sym, o.side, o.qty, o.price);
    m_take_hold(m, c->user, o.sym, o.side, c->qty, c->price);
    m_remove(m, i);
    o.oid = c->noid;
    if (c->price == o.price && c->qty <= o.qty) { /* keeps its place in the queue */
        o.qty = c->qty;
        m_push(m, o);
        m->live[m->nlive - 1].seq = o.seq;
        m->seq--;
        return;
    }
    int64_t left = c->qty;
    m_take(m, c->user, o.sym, o.side, c->price, c->noid, &left);
    if (left)
        m_push(m, (m_order){c->user, o.sym, o.side, o.tif, c->noid, left, c->price, 0});
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
