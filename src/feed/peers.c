/*
 * peers.c - market-data subscribers per address, for [server]
 * feed_subscribers_per_ip: the feed needs no login, so without a limit one
 * host could open subscribers up to max_subscribers, each with a socket
 * buffer and (binary feed) a snapshot to read, and leave none for anyone
 * else.  Both feeds (bin.c, ws.c) count here, on the feed thread.
 *
 * Open addressing on the IPv4 address (0 = empty); an address whose count
 * drops to 0 keeps its slot until a rebuild, as in src/server/addr.c.
 */
#include "feed/feed_int.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct peers {
    uint32_t *ip, *n, cap, used;
};

/* IPv4 as is (also when the socket is IPv6 and the address v4-mapped, as
 * libwebsockets' listeners may be); other IPv6 addresses folded to 32 bits
 * by their /64, which one host usually owns whole. */
uint32_t peers_ip(struct lws *wsi)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    int fd = lws_get_socket_fd(wsi);
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&a, &len) != 0)
        return 0;
    uint32_t ip = 0;
    if (a.ss_family == AF_INET) {
        ip = ((struct sockaddr_in *)&a)->sin_addr.s_addr;
    } else if (a.ss_family == AF_INET6) {
        const uint8_t *b = ((struct sockaddr_in6 *)&a)->sin6_addr.s6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&a)->sin6_addr)) {
            memcpy(&ip, b + 12, 4);
        } else {
            uint32_t h = 2166136261u;
            for (int i = 0; i < 8; i++)
                h = (h ^ b[i]) * 16777619u;
            ip = h;
        }
    }
    return ip ? ip : 1;
}

static uint32_t *slot(struct peers *p, uint32_t ip)
{
    uint32_t h = (ip * 2654435761u) & (p->cap - 1);
    while (p->ip[h] && p->ip[h] != ip)
        h = (h + 1) & (p->cap - 1);
    return &p->ip[h];
}

/* Drop the addresses with none open; grow when more than half stay. */
static int rebuild(struct peers *p)
{
    uint32_t live = 0;
    for (uint32_t i = 0; i < p->cap; i++)
        live += p->ip[i] && p->n[i];
    uint32_t cap = p->cap ? p->cap : 256;
    while (live * 2 >= cap)
        cap *= 2;
    struct peers q = {calloc(cap, sizeof *q.ip), calloc(cap, sizeof *q.n), cap, 0};
    if (!q.ip || !q.n) {
        free(q.ip);
        free(q.n);
        return -1;
    }
    for (uint32_t i = 0; i < p->cap; i++)
        if (p->ip[i] && p->n[i]) {
            uint32_t *k = slot(&q, p->ip[i]);
            *k = p->ip[i];
            q.n[k - q.ip] = p->n[i];
            q.used++;
        }
    free(p->ip);
    free(p->n);
    *p = q;
    return 0;
}

int peers_add(feed *f, uint32_t ip)
{
    if (!f->cfg.subscribers_per_ip || !ip)
        return 0;
    struct peers *p = f->peers;
    if (!p && !(p = f->peers = calloc(1, sizeof *p)))
        return -1;
    if ((p->used + 1) * 2 >= p->cap && rebuild(p) < 0)
        return -1;
    uint32_t *k = slot(p, ip);
    if (!*k) {
        *k = ip;
        p->used++;
    }
    uint32_t *n = &p->n[k - p->ip];
    if (*n >= f->cfg.subscribers_per_ip)
        return -1;
    (*n)++;
    return 0;
}

void peers_del(feed *f, uint32_t ip)
{
    struct peers *p = f->peers;
    if (!f->cfg.subscribers_per_ip || !ip || !p || !p->cap)
        return;
    uint32_t *k = slot(p, ip);
    if (*k && p->n[k - p->ip])
        p->n[k - p->ip]--;
}

void peers_free(feed *f)
{
    if (!f->peers)
        return;
    free(f->peers->ip);
    free(f->peers->n);
    free(f->peers);
    f->peers = NULL;
}
