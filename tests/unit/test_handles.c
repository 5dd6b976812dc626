/*
 * test_handles.c - the gateways' cache of order handles (src/server/
 * handles.c, issue #20): what it enters and forgets as it follows events,
 * and that commands stamped from it give the engine exactly the answers
 * of commands without a handle, while most cancels and replaces do carry
 * one.
 */
#include "check.h"
#include "lines.h"
#include "rng.h"
#include "server/handles.h"

#include <stdio.h>
#include <string.h>

static bourse_name tok(const char *s)
{
    bourse_name n = {{0}};
    memcpy(n.s, s, strlen(s));
    return n;
}

static bourse_event ev_of(int type, uint32_t user, const char *oid, const char *oid2, uint32_t order)
{
    return (bourse_event){
        .type = (uint8_t)type, .user = user, .oid = tok(oid), .oid2 = tok(oid2), .order = order};
}

/* Enter on a resting ACCEPTED, move on REPLACED, forget on CANCELED. */
static void test_follow(void)
{
    handle_cache c;
    CHECK_EQ(handle_cache_init(&c, 1000), 0);
    CHECK_EQ(c.mask, 1023);
    bourse_name a = tok("A1"), b = tok("A2"), i = tok("IOC");
    bourse_event ev = ev_of(BOURSE_EV_ACCEPTED, 3, "A1", "", 7);
    handle_cache_follow(&c, &ev);
    ev = ev_of(BOURSE_EV_ACCEPTED, 3, "IOC", "", 0); /* an ioc: no handle */
    handle_cache_follow(&c, &ev);
    CHECK_EQ(handle_cache_get(&c, 3, &a), 7);
    CHECK_EQ(handle_cache_get(&c, 4, &a), 0); /* another user's token */
    CHECK_EQ(handle_cache_get(&c, 3, &i), 0);
    ev = ev_of(BOURSE_EV_TRADE, 3, "A1", "", 7); /* fills change nothing */
    handle_cache_follow(&c, &ev);
    CHECK_EQ(handle_cache_get(&c, 3, &a), 7);
    ev = ev_of(BOURSE_EV_REPLACED, 3, "A1", "A2", 7);
    handle_cache_follow(&c, &ev);
    CHECK_EQ(handle_cache_get(&c, 3, &a), 0);
    CHECK_EQ(handle_cache_get(&c, 3, &b), 7);
    bourse_cmd cmd = {.type = BOURSE_CMD_REPLACE, .user = 3, .oid = b};
    handle_cache_stamp(&c, &cmd);
    CHECK_EQ(cmd.order, 7);
    cmd = (bourse_cmd){.type = BOURSE_CMD_ORDER, .user = 3, .oid = b};
    handle_cache_stamp(&c, &cmd); /* a new order names no open order */
    CHECK_EQ(cmd.order, 0);
    ev = ev_of(BOURSE_EV_CANCELED, 3, "A2", "", 7);
    handle_cache_follow(&c, &ev);
    CHECK_EQ(handle_cache_get(&c, 3, &b), 0);
    CHECK_EQ(c.hits, 4);
    CHECK_EQ(c.misses, 4);
    handle_cache_free(&c);
}

typedef struct run {
    const bourse_engine *e;
    handle_cache *cache; /* follows the events, as a gateway does; NULL: none */
    char out[1 << 14];
    size_t len;
} run;

static void collect_ev(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    run *r = ctx;
    if (r->cache)
        handle_cache_follow(r->cache, ev);
    char line[BOURSE_TEXT_LINE_MAX];
    size_t n = bourse_text_event(r->e, cmd, ev, line);
    n += (size_t)snprintf(line + n, sizeof line - n, " #%u\n", ev->order);
    if (r->len + n < sizeof r->out) {
        memcpy(r->out + r->len, line, n);
        r->len += n;
    }
}

/* Random orders, cancels and replaces of three users through two engines,
 * one given no handles, the other handles from a cache small enough that
 * entries collide and go stale: every event and the final state are the
 * same, and the cache did resolve most cancels and replaces. */
static void test_same_answers(void)
{
    static const char *const setup[] = {"symbol ACME",
                                        "user u0",
                                        "user u1",
                                        "user u2",
                                        "deposit u0 CASH 100000000",
                                        "deposit u1 CASH 100000000",
                                        "deposit u2 CASH 100000000",
                                        "deposit u0 ACME 10000000",
                                        "deposit u1 ACME 10000000",
                                        "deposit u2 ACME 10000000",
                                        NULL};
    bourse_limits l = {0};
    bourse_engine *plain = bourse_engine_new(&l), *hinted = bourse_engine_new(&l);
    apply_ok(plain, setup);
    apply_ok(hinted, setup);
    handle_cache cache;
    CHECK_EQ(handle_cache_init(&cache, 16), 0);
    static run a, b;
    a = (run){.e = plain};
    b = (run){.e = hinted, .cache = &cache};
    rng_state = 20;
    static unsigned owner[40000]; /* of each order id: most cancels and replaces name an open order */
    uint32_t next = 0, stamped = 0, mods = 0;
    for (int i = 0; i < 20000; i++) {
        char line[128];
        uint64_t r = rnd();
        unsigned u = (unsigned)(r % 3), k = (unsigned)(r >> 8) % 10;
        unsigned old =
            next ? next - 1 - (unsigned)((r >> 16) % (next < 40 ? next : 40)) : 0; /* a recent one */
        unsigned px = 95 + (unsigned)((r >> 32) % 11), qty = 1 + (unsigned)((r >> 40) % 20);
        if (k < 5 || !next) {
            owner[next] = u;
            snprintf(line, sizeof line, "%s u%u o%u ACME %u %u%s", r >> 60 & 1 ? "sell" : "buy", u, next, qty,
                     px, k == 0 ? " ioc" : "");
            next++;
        } else if (k < 8) {
            snprintf(line, sizeof line, "cancel u%u o%u", owner[old], old);
        } else {
            owner[next] = owner[old];
            snprintf(line, sizeof line, "replace u%u o%u o%u %u %u", owner[old], old, next, qty, px);
            next++;
        }
        bourse_cmd ca, cb;
        char err[100];
        CHECK_EQ(bourse_text_parse(line, strlen(line), &ca, err, sizeof err), BOURSE_TEXT_CMD);
        bourse_engine_resolve(plain, &ca);
        cb = ca;
        handle_cache_stamp(&cache, &cb);
        if (ca.type != BOURSE_CMD_ORDER) {
            mods++;
            stamped += cb.order != 0;
        }
        a.len = b.len = 0;
        bourse_engine_apply(plain, &ca, collect_ev, &a);
        bourse_engine_apply(hinted, &cb, collect_ev, &b);
        if (a.len != b.len || memcmp(a.out, b.out, a.len)) {
            printf("FAIL after '%s' (handle %u):\n%.*s--- hinted:\n%.*s", line, cb.order, (int)a.len, a.out,
                   (int)b.len, b.out);
            check_failures++;
            break;
        }
    }
    CHECK(bourse_engine_hash(plain) == bourse_engine_hash(hinted));
    /* Many hints are stale (fills, collisions in 16 slots): about a fifth are stamped. */
    CHECK(stamped > mods / 8);
    CHECK(cache.misses > 0);
    handle_cache_free(&cache);
    bourse_engine_free(plain);
    bourse_engine_free(hinted);
}

int main(void)
{
    RUN(test_follow);
    RUN(test_same_answers);
    return CHECK_DONE();
}
