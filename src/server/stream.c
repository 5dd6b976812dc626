/*
 * stream.c - each user's sequenced message stream (see gateway.h).
 *
 * A message is appended once and copied to every live session of its user,
 * framed as a SoupBinTCP sequenced data packet.  The most recent
 * replay_bytes of the stream are kept in a circular buffer that grows by
 * doubling up to that size, so a user who never trades costs nothing and
 * one who trades a lot costs a bounded amount.  A client that logs in asking
 * for an older message than is kept gets the oldest kept one: its Login
 * Accepted names the sequence number it will really receive next, so the
 * gap is visible, never silent.
 */
#include "server/gateway.h"

#include <stdlib.h>
#include <string.h>

ustream *stream_get(gateway *g, uint32_t user)
{
    if (user >= g->nstreams) {
        uint32_t n = g->nstreams ? g->nstreams : 1024;
        while (n <= user)
            n *= 2;
        ustream *s = realloc(g->streams, (size_t)n * sizeof *s);
        if (!s)
            return NULL;
        for (uint32_t i = g->nstreams; i < n; i++)
            s[i] = (ustream){.next_seq = 1, .first_seq = 1, .first_conn = NO_CONN};
        g->streams = s;
        g->nstreams = n;
    }
    return &g->streams[user];
}

static void ring_copy_in(ustream *st, uint32_t off, const uint8_t *src, uint32_t n)
{
    uint32_t at = off % st->cap, first = st->cap - at < n ? st->cap - at : n;
    memcpy(st->ring + at, src, first);
    memcpy(st->ring, src + first, n - first);
}

static void ring_copy_out(const ustream *st, uint32_t off, uint8_t *dst, uint32_t n)
{
    uint32_t at = off % st->cap, first = st->cap - at < n ? st->cap - at : n;
    memcpy(dst, st->ring + at, first);
    memcpy(dst + first, st->ring, n - first);
}

/* Make room for `need` more bytes: grow, then drop the oldest messages. */
static int ring_room(gateway *g, ustream *st, uint32_t need)
{
    uint32_t max = g->cfg->replay_bytes;
    if (need > max)
        return -1;
    if (st->used + need > st->cap && st->cap < max) {
        uint32_t cap = st->cap ? st->cap : 1024;
        while (cap < st->used + need && cap < max)
            cap *= 2;
        if (cap > max)
            cap = max;
        uint8_t *r = malloc(cap);
        if (!r)
            return -1;
        if (st->used)
            ring_copy_out(st, st->head, r, st->used);
        free(st->ring);
        st->ring = r;
        st->cap = cap;
        st->head = 0;
    }
    while (st->used + need > st->cap) {
        uint8_t len[2];
        ring_copy_out(st, st->head, len, 2);
        uint32_t n = 2u + get_be16(len);
        st->head = (st->head + n) % st->cap;
        st->used -= n;
        st->first_seq++;
    }
    return 0;
}

void stream_append(gateway *g, uint32_t user, const uint8_t *msg, size_t n)
{
    ustream *st = stream_get(g, user);
    if (!st)
        return;
    uint8_t pkt[3 + 256];
    size_t h = soup_header(pkt, SOUP_SEQUENCED, n);
    memcpy(pkt + h, msg, n);
    st->next_seq++;
    if (g->cfg->replay_bytes && ring_room(g, st, (uint32_t)n + 2) == 0) {
        uint8_t len[2];
        put_be16(len, (uint16_t)n);
        ring_copy_in(st, st->head + st->used, len, 2);
        ring_copy_in(st, st->head + st->used + 2, msg, (uint32_t)n);
        st->used += (uint32_t)n + 2;
    } else {
        /* not kept: nothing older can be replayed either */
        st->head = st->used = 0;
        st->first_seq = st->next_seq;
    }
    for (uint32_t i = st->first_conn; i != NO_CONN; i = g->conns[i].unext)
        conn_put(g, &g->conns[i], pkt, h + n);
}

void stream_broadcast(gateway *g, const uint8_t *msg, size_t n)
{
    for (uint32_t u = 0; u < g->nstreams; u++)
        if (g->streams[u].active)
            stream_append(g, u, msg, n);
}

void stream_attach(gateway *g, conn *c, uint64_t want)
{
    ustream *st = stream_get(g, c->user);
    uint64_t from = want == 0 || want > st->next_seq ? st->next_seq : want;
    if (from < st->first_seq)
        from = st->first_seq;
    uint8_t buf[64];
    conn_put(g, c, buf, soup_accepted_write(buf, g->s->session, from));
    uint32_t off = st->head;
    uint8_t pkt[3 + 256];
    for (uint64_t seq = st->first_seq; seq < st->next_seq; seq++) {
        uint8_t len[2];
        ring_copy_out(st, off, len, 2);
        uint32_t n = get_be16(len);
        if (seq >= from) {
            size_t h = soup_header(pkt, SOUP_SEQUENCED, n);
            ring_copy_out(st, off + 2, pkt + h, n);
            conn_put(g, c, pkt, h + n);
        }
        off += 2 + n;
    }
    c->unext = st->first_conn;
    c->uprev = NO_CONN;
    uint32_t id = (uint32_t)(c - g->conns);
    if (st->first_conn != NO_CONN)
        g->conns[st->first_conn].uprev = id;
    st->first_conn = id;
    st->nsessions++;
    st->active = 1;
}

void stream_detach(gateway *g, conn *c)
{
    ustream *st = stream_get(g, c->user);
    if (c->uprev != NO_CONN)
        g->conns[c->uprev].unext = c->unext;
    else
        st->first_conn = c->unext;
    if (c->unext != NO_CONN)
        g->conns[c->unext].uprev = c->uprev;
    c->unext = c->uprev = NO_CONN;
    st->nsessions--;
}

void stream_free_all(gateway *g)
{
    for (uint32_t u = 0; u < g->nstreams; u++)
        free(g->streams[u].ring);
    free(g->streams);
    g->streams = NULL;
    g->nstreams = 0;
}
