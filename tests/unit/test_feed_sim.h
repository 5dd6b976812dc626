/*
 * test_feed_sim.h - a random market for the feed's tests: an engine, a few
 * symbols and traders, and a generator of orders, cancels, replaces and
 * session changes, stamped with seq and a clock that jumps across minutes,
 * days, weeks and months.  sim_step() applies one command and hands every
 * event to the callback, like the server's engine thread does.
 */
#ifndef TEST_FEED_SIM_H
#define TEST_FEED_SIM_H

#include "bourse/bourse.h"
#include "bourse/text.h"
#include "evlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_SYMS 3
#define SIM_USERS 6

static const char *const sim_syms[SIM_SYMS] = {"ACME", "BRK.B", "Z9"};

typedef struct sim {
    bourse_engine *e;
    uint64_t rng, seq;
    int64_t ts;
    int norders;
    unsigned char owner[1 << 16]; /* user of each order id */
    bourse_event_fn fn;
    void *ctx;
    void (*done)(void *ctx, const bourse_cmd *cmd); /* after each command, if set */
} sim;

static uint64_t sim_rand(sim *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

static void sim_line(sim *s, const char *line)
{
    bourse_cmd c;
    char err[128];
    if (bourse_text_parse(line, strlen(line), &c, err, sizeof err) != BOURSE_TEXT_CMD) {
        printf("FAIL sim: bad line '%s': %s\n", line, err);
        exit(1);
    }
    bourse_engine_resolve(s->e, &c);
    c.seq = ++s->seq;
    c.ts_ns = s->ts;
    bourse_engine_reserve(s->e);
    bourse_engine_apply(s->e, &c, s->fn, s->ctx);
    if (s->done)
        s->done(s->ctx, &c);
}

/* 2024-01-31T23:50:00Z: month, week and day ends come soon. */
static void sim_init_done(sim *s, uint64_t seed, bourse_event_fn fn, void (*done)(void *, const bourse_cmd *),
                          void *ctx)
{
    memset(s, 0, sizeof *s);
    s->done = done;
    s->e = bourse_engine_new(NULL);
    s->rng = seed * 2654435761ULL + 88172645463325252ULL;
    s->ts = 1706745000LL * 1000000000LL;
    s->fn = fn;
    s->ctx = ctx;
    char line[128];
    for (int i = 0; i < SIM_SYMS; i++) {
        snprintf(line, sizeof line, "symbol %s", sim_syms[i]);
        sim_line(s, line);
    }
    for (int u = 0; u < SIM_USERS; u++) {
        snprintf(line, sizeof line, "user u%d", u);
        sim_line(s, line);
        snprintf(line, sizeof line, "deposit u%d CASH 100000000", u);
        sim_line(s, line);
        for (int i = 0; i < SIM_SYMS; i++) {
            snprintf(line, sizeof line, "deposit u%d %s 1000000", u, sim_syms[i]);
            sim_line(s, line);
        }
    }
}

static inline void sim_init(sim *s, uint64_t seed, bourse_event_fn fn, void *ctx)
{
    sim_init_done(s, seed, fn, NULL, ctx);
}

static void sim_step(sim *s)
{
    static const char *const tifs[] = {"", " day", " gtc", " ioc", " fok", "", ""};
    char line[160];
    int u = (int)(sim_rand(s) % SIM_USERS);
    int kind = (int)(sim_rand(s) % 100);
    /* Mostly small steps, sometimes a jump of hours or days. */
    s->ts += (int64_t)(sim_rand(s) % 20000) * 1000000LL;
    if (kind == 0)
        s->ts += (int64_t)(sim_rand(s) % (9 * 86400)) * 1000000000LL;
    if (kind < 2) {
        sim_line(s, kind ? "close" : "open");
        return;
    }
    if (kind < 4) {
        sim_line(s, "open");
        return;
    }
    int oid =
        s->norders ? s->norders - 1 - (int)(sim_rand(s) % (s->norders < 40 ? (unsigned)s->norders : 40u)) : 0;
    if (s->norders >= (1 << 16) - 1)
        return;
    if (s->norders && sim_rand(s) % 8)
        u = s->owner[oid]; /* mostly the order's own user */
    if (kind < 18 && s->norders) {
        snprintf(line, sizeof line, "cancel u%d o%d", u, oid);
    } else if (kind < 32 && s->norders) {
        s->owner[s->norders] = (unsigned char)u;
        snprintf(line, sizeof line, "replace u%d o%d o%d %d %d.%d", u, oid, s->norders++,
                 1 + (int)(sim_rand(s) % 60), 95 + (int)(sim_rand(s) % 10), (int)(sim_rand(s) % 2) * 5);
    } else {
        s->owner[s->norders] = (unsigned char)u;
        snprintf(line, sizeof line, "%s u%d o%d %s %d %d.%d%s", sim_rand(s) % 2 ? "buy" : "sell", u,
                 s->norders++, sim_syms[sim_rand(s) % SIM_SYMS], 1 + (int)(sim_rand(s) % 80),
                 95 + (int)(sim_rand(s) % 10), (int)(sim_rand(s) % 2) * 5, tifs[sim_rand(s) % 7]);
    }
    sim_line(s, line);
}

/* The core's own `book SYM` output, as LEVEL lines; caller frees it. */
static inline char *sim_book(sim *s, const char *sym)
{
    evlog t = {.e = s->e};
    char line[64];
    bourse_cmd c;
    char err[128];
    snprintf(line, sizeof line, "book %s", sym);
    bourse_text_parse(line, strlen(line), &c, err, sizeof err);
    bourse_engine_resolve(s->e, &c);
    bourse_engine_apply(s->e, &c, evlog_event, &t);
    if (!t.s)
        t.s = calloc(1, 1);
    return t.s;
}

#endif
