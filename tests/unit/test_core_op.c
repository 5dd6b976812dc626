/*
 * test_core_op.c - bourse_op, the hot path's 40-byte command (issue #20).
 *
 * The promise of bourse.h is that an op gives exactly the events of the
 * bourse_cmd that says the same, so the main test is a property: random
 * orders, cancels and replaces (with bad quantities, duplicate ids and
 * crossing prices among them) go to two engines, one as bourse_cmd (ids as
 * text, the handle as a hint) and one as bourse_op (ids packed, the handle
 * the order's name), and every event of every command must be equal field by
 * field, and the states' hashes at the end.  Then what differs on purpose:
 * an op's handle is the order's only name, so a handle that is not an open
 * order of the op's user is UNKNOWN_ORDER whatever the id says.
 */
#include "check.h"
#include "core/internal.h"
#include "invariants.h"
#include "lines.h"
#include "rng.h"

#include <stdio.h>

enum { USERS = 6, MAX_EV = 4096 };

typedef struct evlist {
    bourse_event ev[MAX_EV];
    int n;
    int null_cmd; /* events whose cmd was NULL */
} evlist;

static void record(void *ctx, const bourse_cmd *c, const bourse_event *ev)
{
    evlist *l = ctx;
    if (l->n < MAX_EV)
        l->ev[l->n++] = *ev;
    l->null_cmd += c == NULL;
}

/* Field by field: an event's padding bytes are not part of it. */
static int same_event(const bourse_event *a, const bourse_event *b)
{
    return a->type == b->type && a->reason == b->reason && a->side == b->side && a->user == b->user &&
           a->user2 == b->user2 && a->symbol == b->symbol && a->order == b->order && a->qty == b->qty &&
           a->price == b->price && a->count == b->count && !memcmp(&a->oid, &b->oid, sizeof a->oid) &&
           !memcmp(&a->oid2, &b->oid2, sizeof a->oid2);
}

static bourse_engine *setup_engine(void)
{
    bourse_limits l = {.orders = 4096, .ids = 65536};
    bourse_engine *e = bourse_engine_new(&l);
    char line[80];
    CHECK_STR(apply_line(e, "symbol ACME"), "OK\n");
    for (int u = 0; u < USERS; u++) {
        snprintf(line, sizeof line, "user u%d", u);
        CHECK_STR(apply_line(e, line), "OK\n");
        snprintf(line, sizeof line, "deposit u%d CASH 100000000", u);
        CHECK_STR(apply_line(e, line), "OK\n");
        snprintf(line, sizeof line, "deposit u%d ACME 1000000", u);
        CHECK_STR(apply_line(e, line), "OK\n");
    }
    return e;
}

static void name_of(bourse_name *n, uint64_t id)
{
    memset(n, 0, sizeof *n);
    snprintf(n->s, sizeof n->s, "%llu", (unsigned long long)id);
}

static bourse_op op_of(const bourse_cmd *c)
{
    const bourse_name *id = c->type == BOURSE_CMD_REPLACE ? &c->new_oid : &c->oid;
    return (bourse_op){.type = c->type,
                       .side = c->side,
                       .tif = c->tif,
                       .user = c->user,
                       .symbol = c->symbol,
                       .order = c->order,
                       .qty = (uint32_t)c->qty,
                       .price = c->price,
                       .oid = bourse_oid_pack(id->s, strnlen(id->s, BOURSE_NAME_LEN))};
}

/* A random command for the engine's state: orders with fresh ids (now and
 * then an id already taken, or a quantity out of range), and cancels and
 * replaces of open orders named by handle and id. */
static bourse_cmd random_cmd(const bourse_engine *e, uint64_t *next_id)
{
    bourse_cmd c = {.user = (uint32_t)(rnd() % USERS), .symbol = 0};
    uint64_t k = rnd() % 100;
    if (k < 45 || e->orders_hwm == 0) {
        c.type = BOURSE_CMD_ORDER;
        c.side = (uint8_t)(rnd() & 1);
        c.tif = rnd() % 10 == 0 ? BOURSE_IOC : BOURSE_GTC;
        c.qty = rnd() % 50 == 0 ? 0 : 1 + (int64_t)(rnd() % 100);
        c.price = (95 + (int64_t)(rnd() % 11)) * 100;
        name_of(&c.oid, rnd() % 40 == 0 && *next_id > 1 ? 1 + rnd() % (*next_id - 1) : (*next_id)++);
        return c;
    }
    uint32_t o = (uint32_t)(rnd() % e->orders_hwm);
    for (uint32_t tries = 0; tries < e->orders_hwm && !e->orders[o].live; tries++)
        o = (o + 1) % e->orders_hwm;
    if (!e->orders[o].live) /* nothing open: an order instead */
        return random_cmd(e, next_id);
    c.user = e->orders[o].user;
    c.order = o + 1;
    c.oid = e->orders[o].oid;
    if (k < 70) {
        c.type = BOURSE_CMD_CANCEL;
        return c;
    }
    c.type = BOURSE_CMD_REPLACE;
    c.qty = 1 + (int64_t)(rnd() % 100);
    c.price = rnd() % 3 == 0 ? e->orders[o].price : (95 + (int64_t)(rnd() % 11)) * 100;
    name_of(&c.new_oid, rnd() % 40 == 0 ? 1 + rnd() % *next_id : (*next_id)++);
    return c;
}

static evlist ea, eb;

static void test_op_same_events(void)
{
    rng_state = 20;
    bourse_engine *a = setup_engine(), *b = setup_engine();
    uint64_t next_id = 1, events = 0, diffs = 0;
    int kinds[BOURSE_EV_COUNT_] = {0};
    for (int i = 0; i < 20000; i++) {
        bourse_cmd c = random_cmd(a, &next_id);
        bourse_op op = op_of(&c);
        ea.n = eb.n = eb.null_cmd = 0;
        bourse_engine_apply(a, &c, record, &ea);
        bourse_engine_apply_op(b, &op, record, &eb);
        int same = ea.n == eb.n;
        for (int j = 0; same && j < ea.n; j++)
            same = same_event(&ea.ev[j], &eb.ev[j]);
        for (int j = 0; j < ea.n; j++)
            kinds[ea.ev[j].type]++;
        if (!same && diffs++ < 3)
            printf("# command %d (type %d): %d events as bourse_cmd, %d as bourse_op, not the same\n", i,
                   c.type, ea.n, eb.n);
        events += (uint64_t)ea.n;
        CHECK_EQ(eb.null_cmd, eb.n);
    }
    printf("# %llu events: %d trades, %d canceled, %d replaced, %d rejected\n", (unsigned long long)events,
           kinds[BOURSE_EV_TRADE], kinds[BOURSE_EV_CANCELED], kinds[BOURSE_EV_REPLACED],
           kinds[BOURSE_EV_REJECTED]);
    CHECK_EQ(diffs, 0);
    CHECK(bourse_engine_hash(a) == bourse_engine_hash(b));
    /* The run met what it is meant to: trades, cancels, replaces, rejects. */
    CHECK(kinds[BOURSE_EV_TRADE] > 1000);
    CHECK(kinds[BOURSE_EV_CANCELED] > 1000);
    CHECK(kinds[BOURSE_EV_REPLACED] > 1000);
    CHECK(kinds[BOURSE_EV_REJECTED] > 100);
    CHECK(events > 22000);
    CHECK(!inv_check(a, "as bourse_cmd"));
    CHECK(!inv_check(b, "as bourse_op"));
    bourse_engine_free(a);
    bourse_engine_free(b);
}

static char text[1024];
static size_t text_len;

static void as_text(void *ctx, const bourse_cmd *c, const bourse_event *ev)
{
    CHECK(c == NULL);
    text_len += bourse_text_event(ctx, c, ev, text + text_len);
    text[text_len] = 0;
}

static const char *apply_op(bourse_engine *e, bourse_op op)
{
    text_len = 0;
    text[0] = 0;
    bourse_engine_apply_op(e, &op, as_text, e);
    return text;
}

static uint32_t accepted_handle;

static void on_accept(void *ctx, const bourse_cmd *c, const bourse_event *ev)
{
    as_text(ctx, c, ev);
    if (ev->type == BOURSE_EV_ACCEPTED)
        accepted_handle = ev->order;
}

/* The handle alone names the order: another user's, a finished one, 0 and
 * handles past the pool are UNKNOWN_ORDER, whatever the op's id says. */
static void test_op_handle_names_order(void)
{
    bourse_engine *e = setup_engine();
    CHECK_EQ(bourse_oid_pack("1041", 4), 0x31343031);
    CHECK_EQ(bourse_oid_pack("123456789", 9), 0);
    bourse_op o = {.type = BOURSE_CMD_ORDER,
                   .side = BOURSE_SELL,
                   .tif = BOURSE_GTC,
                   .user = 1,
                   .qty = 10,
                   .price = 1000000,
                   .oid = bourse_oid_pack("s1", 2)};
    text_len = 0;
    bourse_engine_apply_op(e, &o, on_accept, e);
    CHECK_STR(text, "ACCEPTED u1 s1\n");
    uint32_t h = accepted_handle;
    /* The id packed is the text path's id: the same name is a duplicate. */
    CHECK_STR(apply_line(e, "sell u1 s1 ACME 5 100"), "REJECTED u1 s1 DUPLICATE_ID\n");
    bourse_op c = {.type = BOURSE_CMD_CANCEL, .user = 2, .order = h, .oid = bourse_oid_pack("s1", 2)};
    CHECK_STR(apply_op(e, c), "REJECTED u2 s1 UNKNOWN_ORDER\n");
    c.user = 1, c.order = 0;
    CHECK_STR(apply_op(e, c), "REJECTED u1 s1 UNKNOWN_ORDER\n");
    c.order = UINT32_MAX;
    CHECK_STR(apply_op(e, c), "REJECTED u1 s1 UNKNOWN_ORDER\n");
    /* A replace by handle: the events name the order by its own id. */
    bourse_op r = {.type = BOURSE_CMD_REPLACE, .user = 1, .order = h, .qty = 4, .price = 990000};
    r.oid = bourse_oid_pack("s2", 2);
    CHECK_STR(apply_op(e, r), "REPLACED u1 s1 s2\n");
    c.order = h, c.oid = 0; /* the id of a cancel by handle is not needed */
    CHECK_STR(apply_op(e, c), "CANCELED u1 s2 4 USER\n");
    c.oid = bourse_oid_pack("s2", 2);
    CHECK_STR(apply_op(e, c), "REJECTED u1 s2 UNKNOWN_ORDER\n"); /* finished */
    /* An op's user is checked: no user is UNKNOWN_USER, not a read past
     * the accounts (and the text of an event with no user and no command
     * names it "?"). */
    o.user = 99;
    CHECK_STR(apply_op(e, o), "REJECTED ? s1 UNKNOWN_USER\n");
    o.user = BOURSE_NONE;
    CHECK_STR(apply_op(e, o), "REJECTED ? s1 UNKNOWN_USER\n");
    c.user = 99;
    CHECK_STR(apply_op(e, c), "REJECTED ? s2 UNKNOWN_USER\n");
    /* Other types change nothing, not even the count of commands. */
    bourse_stats before, after;
    bourse_engine_stats(e, &before);
    bourse_op bad = {.type = BOURSE_CMD_DEPOSIT, .user = 1, .symbol = BOURSE_CASH, .qty = 5};
    CHECK_STR(apply_op(e, bad), "");
    bourse_engine_stats(e, &after);
    CHECK_EQ(after.commands, before.commands);
    CHECK(!inv_check(e, "op handles"));
    bourse_engine_free(e);
}

int main(void)
{
    RUN(test_op_same_events);
    RUN(test_op_handle_names_order);
    return CHECK_DONE();
}
