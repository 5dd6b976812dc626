/*
 * guard.c - password guessing: failed logins counted per user name and per
 * address, a throttle, then a lock.
 *
 * Every wrong password is answered late already (auth.c answers every
 * failure after the same delay, so timing tells nothing), which bounds
 * guesses per connection; but connections are cheap, so the count that
 * matters is per name and per address.  After throttle_after failures of
 * a name each further answer waits twice as long as the one before (up to
 * a minute); after lock_after the name is locked, and after lock_after_ip
 * the address is: every login of it is refused, with the right password
 * too, and said so in the log, until lock_s has passed or an operator
 * runs `bourse admin --data DIR unlock NAME` (auth.c reads DIR/unlocks).
 * A right password clears the name's count.
 *
 * Names are counted whether or not they exist, so a lock does not tell an
 * attacker which do.  Locking lets an attacker lock a user out on purpose:
 * the price of stopping the guessing, which the operator can lift; the
 * address limit is much higher, so a shared address (NAT) rarely trips it.
 *
 * The table is bounded (GUARD_CAP); when it fills, entries that are
 * neither locked nor recent are dropped first, then the unlocked ones.
 * Locks and counts are in memory: a restart forgets them.
 */
#include "server/guard.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { GUARD_CAP = 1 << 14, NAME_MAX_ = 24 };
enum { K_USER = 1, K_IP };

typedef struct gentry {
    uint8_t kind; /* 0 = empty */
    char name[NAME_MAX_];
    uint32_t failures;
    int64_t last_ns;   /* latest failure */
    int64_t locked_ns; /* when it was locked; 0 = not locked */
} gentry;

struct guard {
    guard_config cfg;
    gentry *t;
    uint32_t used;
};

guard *guard_new(const guard_config *cfg)
{
    guard *g = calloc(1, sizeof *g);
    if (!g || !(g->t = calloc(GUARD_CAP, sizeof *g->t))) {
        free(g);
        return NULL;
    }
    g->cfg = *cfg;
    return g;
}

void guard_free(guard *g)
{
    if (g)
        free(g->t);
    free(g);
}

static uint32_t hash(uint8_t kind, const char *s)
{
    uint32_t h = 2166136261u ^ kind;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static gentry *slot(guard *g, uint8_t kind, const char *name)
{
    uint32_t i = hash(kind, name) & (GUARD_CAP - 1);
    while (g->t[i].kind && (g->t[i].kind != kind || strcmp(g->t[i].name, name) != 0))
        i = (i + 1) & (GUARD_CAP - 1);
    return &g->t[i];
}

static int expired(const guard *g, const gentry *e, int64_t now)
{
    int64_t keep = (int64_t)g->cfg.lock_s * 1000000000;
    return g->cfg.lock_s && now - (e->locked_ns ? e->locked_ns : e->last_ns) > keep;
}

/* Make room: drop what has lapsed, then (an attacker spraying names)
 * everything not locked. */
static void sweep(guard *g, int64_t now)
{
    for (int pass = 0; pass < 2 && g->used * 4 >= GUARD_CAP * 3; pass++) {
        gentry *old = g->t;
        gentry *t = calloc(GUARD_CAP, sizeof *t);
        if (!t)
            return;
        g->t = t;
        g->used = 0;
        for (uint32_t i = 0; i < GUARD_CAP; i++) {
            gentry *e = &old[i];
            if (!e->kind || expired(g, e, now) || (pass == 1 && !e->locked_ns))
                continue;
            *slot(g, e->kind, e->name) = *e;
            g->used++;
        }
        free(old);
    }
}

static gentry *get(guard *g, uint8_t kind, const char *name, int make, int64_t now)
{
    char key[NAME_MAX_];
    snprintf(key, sizeof key, "%s", name);
    gentry *e = slot(g, kind, key);
    if (e->kind && expired(g, e, now)) {
        e->failures = 0;
        e->locked_ns = 0;
    }
    if (e->kind || !make)
        return e->kind ? e : NULL;
    if ((g->used + 1) * 4 >= GUARD_CAP * 3) {
        sweep(g, now);
        e = slot(g, kind, key);
        if (g->used + 1 >= GUARD_CAP - 1)
            return NULL; /* all locked: count nothing more */
    }
    *e = (gentry){.kind = kind};
    strcpy(e->name, key);
    g->used++;
    return e;
}

static void ip_name(uint32_t ip, char out[16])
{
    struct in_addr a = {.s_addr = ip};
    inet_ntop(AF_INET, &a, out, 16);
}

int guard_verdict(guard *g, const char *user, uint32_t ip, int64_t now)
{
    char ipn[16];
    ip_name(ip, ipn);
    gentry *e = get(g, K_USER, user, 0, now);
    if (e && e->locked_ns)
        return GUARD_USER_LOCKED;
    e = get(g, K_IP, ipn, 0, now);
    if (e && e->locked_ns)
        return GUARD_IP_LOCKED;
    return GUARD_OPEN;
}

int64_t guard_failed(guard *g, const char *user, uint32_t ip, int64_t now)
{
    char ipn[16];
    ip_name(ip, ipn);
    int64_t extra = 0;
    gentry *e = get(g, K_USER, user, 1, now);
    if (e) {
        e->failures++;
        e->last_ns = now;
        if (g->cfg.lock_after && e->failures >= g->cfg.lock_after && !e->locked_ns)
            e->locked_ns = now;
        if (e->failures > g->cfg.throttle_after) {
            uint32_t k = e->failures - g->cfg.throttle_after;
            extra = k >= 10 ? 60000000000LL : 100000000LL << (k - 1); /* 0.1 s, 0.2 s .. a minute */
            if (extra > 60000000000LL)
                extra = 60000000000LL;
        }
    }
    if ((e = get(g, K_IP, ipn, 1, now))) {
        e->failures++;
        e->last_ns = now;
        if (g->cfg.lock_after_ip && e->failures >= g->cfg.lock_after_ip && !e->locked_ns)
            e->locked_ns = now;
    }
    return extra;
}

void guard_succeeded(guard *g, const char *user)
{
    gentry *e = get(g, K_USER, user, 0, 0);
    if (e && !e->locked_ns)
        e->failures = 0;
}

int guard_unlock(guard *g, const char *name)
{
    int found = 0;
    for (uint8_t kind = K_USER; kind <= K_IP; kind++) {
        gentry *e = get(g, kind, name, 0, 0);
        if (e) {
            e->failures = 0;
            e->locked_ns = 0;
            found = 1;
        }
    }
    return found;
}

uint32_t guard_failures(guard *g, const char *user)
{
    gentry *e = get(g, K_USER, user, 0, 0);
    return e ? e->failures : 0;
}

uint32_t guard_ip_failures(guard *g, uint32_t ip, int64_t now)
{
    char ipn[16];
    ip_name(ip, ipn);
    gentry *e = get(g, K_IP, ipn, 0, now);
    return e ? e->failures : 0;
}
