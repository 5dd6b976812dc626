/*
 * query.c - read-only questions to the engine: what exists, and one user's
 * account, answered on the engine thread between two commands.
 *
 * An operator asks through the admin socket (`bourse admin symbols`,
 * `users`, `orders USER`, `account USER`: IN_QUERY, answered with text
 * lines like a command's events); a trader asks over order entry for their
 * own account (the OUCH Account Query, IN_ACCOUNT: docs/protocol.md),
 * answered with Balance and Open Order messages.  A question changes
 * nothing, so it is neither sequenced nor journaled, and its answer need not
 * wait for the disk (seq 0: released at once).  Only the engine thread may
 * read the engine, so that is where the answer is made; a question is rare,
 * and walking every open order for one user's (bourse_engine_each_order) is
 * cheaper than keeping a per-user index on the hot path.
 */
#include "server/server.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct walk {
    uint32_t user;
    bourse_event_fn fn;
    void *ctx;
    uint32_t n;
} walk;

static void one_order(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    walk *w = ctx;
    if (ev->user == w->user) {
        w->n++;
        w->fn(w->ctx, cmd, ev);
    }
}

static void one_balance(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    walk *w = ctx;
    if (ev->type == BOURSE_EV_BALANCE) {
        w->n++;
        w->fn(w->ctx, cmd, ev);
    }
}

uint32_t srv_account_events(bourse_engine *e, uint32_t user, bourse_event_fn fn, void *ctx)
{
    walk w = {.user = user, .fn = fn, .ctx = ctx};
    bourse_cmd b = {.type = BOURSE_CMD_BALANCE, .user = user};
    memcpy(b.user_name.s, bourse_user_name(e, user)->s, BOURSE_NAME_LEN);
    bourse_engine_query(e, &b, one_balance, &w);
    bourse_engine_each_order(e, one_order, &w);
    return w.n;
}

typedef struct text {
    const bourse_engine *e;
    srv_line_fn fn;
    void *ctx;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    char line[BOURSE_TEXT_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    t->fn(t->ctx, line, (size_t)n);
}

/* BALANCE lines as `balance USER` prints them; ORDER USER OID SYMBOL
 * BUY|SELL OPEN-QTY PRICE for each open order. */
static void account_line(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    text *t = ctx;
    if (ev->type == BOURSE_EV_BALANCE) {
        char line[BOURSE_TEXT_LINE_MAX];
        t->fn(t->ctx, line, bourse_text_event(t->e, cmd, ev, line));
        return;
    }
    char px[32];
    px[bourse_text_decimal(ev->price, px)] = 0;
    put(t, "ORDER %.16s %.16s %.8s %s %lld %s", bourse_user_name(t->e, ev->user)->s, ev->oid.s,
        bourse_symbol_name_of(t->e, ev->symbol)->s, ev->side == BOURSE_BUY ? "BUY" : "SELL",
        (long long)ev->qty, px);
}

static void order_line(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    if (ev->type != BOURSE_EV_BALANCE)
        account_line(ctx, cmd, ev);
}

void srv_query_text(bourse_engine *e, const bourse_cmd *q, srv_line_fn fn, void *ctx)
{
    text t = {.e = e, .fn = fn, .ctx = ctx};
    bourse_stats st;
    bourse_engine_stats(e, &st);
    switch (q->type) {
    case ADMIN_Q_SYMBOLS:
        for (uint32_t i = 0; i < st.symbols; i++) {
            bourse_symbol_state ss;
            bourse_symbol_state_of(e, i, &ss);
            put(&t, "SYMBOL %.8s%s", bourse_symbol_name_of(e, i)->s, ss.halted ? " halted" : "");
        }
        break;
    case ADMIN_Q_USERS:
        for (uint32_t i = 0; i < st.users; i++)
            put(&t, "USER %.16s%s", bourse_user_name(e, i)->s, bourse_user_blocked(e, i) ? " blocked" : "");
        break;
    case ADMIN_Q_ORDERS:
    case ADMIN_Q_ACCOUNT: {
        uint32_t u = bourse_user_find(e, q->user_name.s, strnlen(q->user_name.s, BOURSE_NAME_LEN));
        if (u == BOURSE_NONE) {
            put(&t, "! unknown user %.16s", q->user_name.s);
            break;
        }
        srv_account_events(e, u, q->type == ADMIN_Q_ORDERS ? order_line : account_line, &t);
        break;
    }
    default:
        if (q->type > ADMIN_Q_ACCT)
            srv_acct_query(e, q, fn, ctx);
        else
            put(&t, "! unknown query");
        break;
    }
}
