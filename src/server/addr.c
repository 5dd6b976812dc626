/*
 * addr.c - connections per address, for [gateway] sessions_per_ip and
 * logins_per_ip.
 *
 * The acceptor accepts every connection, so it alone keeps the counts, for the sessions it handed to other
 * gateways too (handoff.c): they report each close back.  Open addressing on the IPv4 address (0 = empty); an
 * address stays in the table while it has a connection open or a login being checked, and a rebuild drops the
 * rest.
 */
#include "server/gateway.h"

#include <stdlib.h>
#include <string.h>

static uint32_t *ip_slot(gateway *g, uint32_t ip)
{
    uint32_t h = (ip * 2654435761u) & (g->ip_cap - 1);
    while (g->ip_key[h] && g->ip_key[h] != ip)
        h = (h + 1) & (g->ip_cap - 1);
    return &g->ip_key[h];
}

/* Drop the addresses with nothing open or being checked.  The counts are
 * rehashed, not recounted from this gateway's connections: the acceptor
 * counts the sessions it handed to other gateways too. */
static void ip_rebuild(gateway *g)
{
    uint32_t n = 0, *keep = malloc((size_t)g->ip_used * 3 * sizeof *keep);
    if (!keep)
        return; /* the table stays as it is: only lookups get slower */
    for (uint32_t i = 0; i < g->ip_cap; i++)
        if (g->ip_key[i] && (g->ip_count[i] || g->ip_checking[i])) {
            keep[n * 3] = g->ip_key[i];
            keep[n * 3 + 1] = g->ip_count[i];
            keep[n * 3 + 2] = g->ip_checking[i];
            n++;
        }
    memset(g->ip_key, 0, g->ip_cap * sizeof *g->ip_key);
    memset(g->ip_count, 0, g->ip_cap * sizeof *g->ip_count);
    memset(g->ip_checking, 0, g->ip_cap * sizeof *g->ip_checking);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t *k = ip_slot(g, keep[i * 3]);
        *k = keep[i * 3];
        g->ip_count[k - g->ip_key] = keep[i * 3 + 1];
        g->ip_checking[k - g->ip_key] = keep[i * 3 + 2];
    }
    g->ip_used = n;
    free(keep);
}

/* The slot of ip, made when missing (it is, while a connection from ip is open). */
static uint32_t ip_index(gateway *g, uint32_t ip)
{
    uint32_t *k = ip_slot(g, ip);
    if (!*k) {
        if (g->ip_used * 2 >= g->ip_cap) {
            ip_rebuild(g);
            k = ip_slot(g, ip);
        }
        if (!*k) {
            *k = ip;
            g->ip_used++;
        }
    }
    return (uint32_t)(k - g->ip_key);
}

uint32_t *gw_ip_count(gateway *g, uint32_t ip)
{
    return &g->ip_count[ip_index(g, ip)];
}

void gw_ip_closed(gateway *g, uint32_t ip)
{
    if (g->acceptor) {
        (*gw_ip_count(g, ip))--;
        return;
    }
    if (g->nclosed_spill == g->closed_spill_cap) {
        uint32_t cap = g->closed_spill_cap ? g->closed_spill_cap * 2 : 1024;
        srv_ip *p = realloc(g->closed_spill, cap * sizeof *p);
        if (!p)
            return; /* the acceptor will count that address high */
        g->closed_spill = p;
        g->closed_spill_cap = cap;
    }
    g->closed_spill[g->nclosed_spill++] = (srv_ip){ip};
}

/* argon2id costs tens of milliseconds of the auth thread per try, so one
 * address may not have more than a few checks queued: a flood of logins
 * from it waits its own turn instead of delaying everyone else's. */
int gw_checking(gateway *g, conn *c, int on)
{
    uint32_t *n = &g->ip_checking[ip_index(g, c->ip)];
    if (on && *n >= g->cfg->logins_per_ip)
        return -1;
    if (on != c->checking) {
        *n += on ? 1 : -1u;
        c->checking = (uint8_t)on;
    }
    return 0;
}
