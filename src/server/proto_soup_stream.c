/*
 * proto_soup_stream.c - each user's sequenced SoupBinTCP message stream
 * (see proto_soup.h), and why it survives a restart.
 *
 * What the stream is.  A user's stream is one OUCH message per order event
 * the core emitted about the user (accepted, rejected, canceled, replaced,
 * and each trade, once per side), in the log's order, numbered from 1 since
 * the journal's first command.  Nothing else takes a number: a refusal by
 * the gateway (a bad field, the rate limit), a command the journal refused
 * and the market's open and close go out as Unsequenced Data packets
 * (proto_soup.c), because the log does not hold them.  So the stream is a
 * pure function of the committed commands, and the SoupBinTCP session name
 * is that of the log (srv->session, the seq the streams are counted from:
 * "0000000001"), not of one server run.
 *
 * How it survives a restart.  Before the server takes its first command,
 * streams.c applies the whole journal again to a scratch engine and hands
 * every event, built by the same srv_event_out the engine thread uses, to
 * the adapters exactly as the engine thread would: each user's next_seq
 * comes out as it was, and the ring below holds the last replay_bytes of
 * the stream as it did.  A client that logs in with its next expected
 * number gets exactly what it missed, none twice.  A replica that applies
 * the same committed commands (japply_record) and feeds their events here
 * gets the same streams, which is what a new leader serves.
 *
 * What is kept.  The most recent replay_bytes of each stream are in a
 * circular buffer that grows by doubling up to that size, so a user who
 * never trades costs nothing and one who trades a lot costs a bounded
 * amount; appending copies into it (no allocation once grown, no system
 * call).  A client that logs in asking for an older message than is kept
 * gets the oldest kept one: its Login Accepted names the sequence number it
 * will really receive next, so the gap is visible, never silent.  When the
 * journal's start is archived (journal_archive, after a snapshot) the
 * streams cannot be derived at the next start: they start again at that
 * run's first command, under a new session name (streams.c).
 */
#include "server/proto_soup.h"

#include <stdlib.h>
#include <string.h>

ustream *stream_get(soup_gw *sg, uint32_t user)
{
    if (user >= sg->nstreams) {
        uint32_t n = sg->nstreams ? sg->nstreams : 1024;
        while (n <= user)
            n *= 2;
        ustream *s = realloc(sg->streams, (size_t)n * sizeof *s);
        if (!s)
            return NULL;
        for (uint32_t i = sg->nstreams; i < n; i++)
            s[i] = (ustream){.next_seq = 1, .first_seq = 1};
        sg->streams = s;
        sg->nstreams = n;
    }
    return &sg->streams[user];
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
static int ring_room(soup_gw *sg, ustream *st, uint32_t need)
{
    uint32_t max = sg->g->cfg->replay_bytes;
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

void stream_append(soup_gw *sg, uint32_t user, const uint8_t *msg, size_t n)
{
    gateway *g = sg->g;
    ustream *st = stream_get(sg, user);
    if (!st)
        return;
    uint8_t pkt[3 + 256];
    size_t h = soup_header(pkt, SOUP_SEQUENCED, n);
    memcpy(pkt + h, msg, n);
    st->next_seq++;
    if (g->cfg->replay_bytes && ring_room(sg, st, (uint32_t)n + 2) == 0) {
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
    gw_send_user(g, user, sg->proto, pkt, h + n);
}

int stream_attach(soup_gw *sg, conn *c, uint64_t want)
{
    gateway *g = sg->g;
    ustream *st = stream_get(sg, c->user);
    if (!st)
        return -1;
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
    /* The replay is queued: a heartbeat now tells the client it is over
     * (a client resends its unanswered orders only then, so that one
     * whose report was in the replay is not sent twice), rather than at
     * the next idle second: after a failover that second was most of
     * the time a client waited to see its order acknowledged. */
    conn_put(g, c, buf, soup_empty(buf, SOUP_SERVER_HEARTBEAT));
    return 0;
}

void stream_free_all(soup_gw *sg)
{
    for (uint32_t u = 0; u < sg->nstreams; u++)
        free(sg->streams[u].ring);
    free(sg->streams);
    sg->streams = NULL;
    sg->nstreams = 0;
}
