/*
 * bin.c - subscribers of the binary feed: SoupBinTCP sessions that carry the
 * ITCH-style messages of itch.h (framing from src/net/soup.h).
 *
 * A subscriber logs in with the sequence number it wants next.  0 (or one
 * the history no longer holds, or a different session) gets a snapshot:
 * Login Accepted names the sequence number that follows the snapshot, the
 * snapshot's messages come as unsequenced packets ending with SNAPSHOT_END,
 * then sequenced packets from that number on.  A number the history still
 * holds resumes from there with no snapshot (a quick reconnect).  The
 * snapshot is built on the feed thread between two messages, so it is
 * exactly the state after the message it names: no gap, no duplicate.
 *
 * Sequenced packets are framed once into the shared history; a subscriber
 * is a cursor into it, so fan-out costs no copy per subscriber beyond the
 * socket write.  One that falls further behind than the history holds is
 * disconnected (it can log in again and get a fresh snapshot).  A server
 * heartbeat follows as soon as a new subscriber has caught up, so a client
 * knows when its book is current.  Usernames
 * and passwords are not checked: the feed is public.
 */
#include "feed/feed_int.h"

#include "net/soup.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { BIN_IN = 256, LOGIN_TICKS = 10 };

typedef struct bsub {
    struct lws *wsi;
    feed *f;
    struct bsub *next, *prev;
    int live;               /* logged in */
    int idle_ticks;         /* ticks without a write: heartbeat due at 1 */
    int ticks;              /* since connect, for the login timeout */
    int bye;                /* End of Session to send */
    int hello;              /* heartbeat when first caught up: "that was all" */
    uint8_t in[BIN_IN];
    size_t inlen;
    uint8_t *snap;          /* Login Accepted and snapshot packets still to send */
    size_t snap_len, snap_off, snap_cap;
    uint64_t cursor;        /* next history byte to send */
} bsub;

static int snap_put(bsub *b, const uint8_t *p, size_t n)
{
    if (b->snap_len + n > b->snap_cap) {
        size_t cap = b->snap_cap ? b->snap_cap * 2 : 64 * 1024;
        while (cap < b->snap_len + n)
            cap *= 2;
        uint8_t *q = realloc(b->snap, cap);
        if (!q)
            return -1;
        b->snap = q;
        b->snap_cap = cap;
    }
    memcpy(b->snap + b->snap_len, p, n);
    b->snap_len += n;
    return 0;
}

static void snap_msg(void *ctx, const itch_msg *m)
{
    bsub *b = ctx;
    uint8_t pkt[SOUP_HEADER + ITCH_MAX];
    size_t n = itch_encode(m, pkt + SOUP_HEADER);
    soup_header(pkt, SOUP_UNSEQUENCED, n);
    snap_put(b, pkt, SOUP_HEADER + n);
}

/* Is message `seq` still whole in the history? */
static int in_history(const feed *f, uint64_t seq)
{
    if (seq == f->seq + 1)
        return 1;
    if (seq == 0 || seq > f->seq || f->seq - seq > f->seq_mask)
        return 0;
    return f->hist_head - f->seq_off[seq & f->seq_mask] <= f->hist_cap - FEED_CHUNK;
}

static int on_login(bsub *b, const soup_packet *p)
{
    feed *f = b->f;
    soup_login in;
    const char *why;
    uint8_t pkt[64];
    if (b->live || soup_login_parse(p, &in, &why) < 0) {
        atomic_fetch_add(&f->refused, 1);
        return -1;
    }
    int same = !in.session[0] || !strcmp(in.session, f->session);
    if (same && in.seq && in_history(f, in.seq)) {
        b->cursor = in.seq == f->seq + 1 ? f->hist_head : f->seq_off[in.seq & f->seq_mask];
        if (snap_put(b, pkt, soup_accepted_write(pkt, f->session, in.seq)) < 0)
            return -1;
    } else {
        b->cursor = f->hist_head;
        if (snap_put(b, pkt, soup_accepted_write(pkt, f->session, f->seq + 1)) < 0)
            return -1;
        pub_snapshot(&f->p, snap_msg, b);
        itch_msg end = {.type = ITCH_SNAPSHOT_END, .ts = (int64_t)f->ts, .seq = f->seq};
        snap_msg(b, &end);
        if (!b->snap)
            return -1;
        atomic_fetch_add(&f->snapshots, 1);
    }
    b->live = 1;
    b->hello = 1;
    lws_callback_on_writable(b->wsi);
    return 0;
}

static int on_rx(bsub *b, const uint8_t *p, size_t len)
{
    while (len) {
        size_t n = len < BIN_IN - b->inlen ? len : BIN_IN - b->inlen;
        memcpy(b->in + b->inlen, p, n);
        b->inlen += n;
        p += n;
        len -= n;
        size_t off = 0;
        for (;;) {
            soup_packet pk;
            long used = soup_next(b->in + off, b->inlen - off, BIN_IN - 2, &pk);
            if (used < 0) {
                atomic_fetch_add(&b->f->refused, 1);
                return -1;
            }
            if (used == 0)
                break;
            off += (size_t)used;
            if (pk.type == SOUP_LOGIN_REQUEST) {
                if (on_login(b, &pk) < 0)
                    return -1;
            } else if (pk.type == SOUP_LOGOUT_REQUEST) {
                return -1;
            } else if (pk.type != SOUP_CLIENT_HEARTBEAT) {
                atomic_fetch_add(&b->f->refused, 1);
                return -1;
            }
        }
        memmove(b->in, b->in + off, b->inlen - off);
        b->inlen -= off;
    }
    return 0;
}

static int write_out(bsub *b, const uint8_t *p, size_t n)
{
    uint8_t *buf = b->f->scratch + LWS_PRE;
    memcpy(buf, p, n);
    b->idle_ticks = 0;
    return lws_write(b->wsi, buf, n, LWS_WRITE_RAW) < (int)n ? -1 : 0;
}

static int cut(bsub *b)
{
    atomic_fetch_add(&b->f->cut, 1);
    feed_log(b->f, "a binary subscriber fell too far behind and was disconnected");
    return -1;
}

static int on_writeable(bsub *b)
{
    feed *f = b->f;
    if (b->snap) {
        size_t n = b->snap_len - b->snap_off;
        n = n < FEED_CHUNK ? n : FEED_CHUNK;
        if (write_out(b, b->snap + b->snap_off, n) < 0)
            return -1;
        b->snap_off += n;
        if (b->snap_off == b->snap_len) {
            free(b->snap);
            b->snap = NULL;
            b->snap_len = b->snap_off = b->snap_cap = 0;
        }
        lws_callback_on_writable(b->wsi);
        return 0;
    }
    if (!b->live)
        return 0;
    uint64_t lag = f->hist_head - b->cursor;
    if (lag > f->hist_cap - FEED_CHUNK)
        return cut(b);
    if (lag) {
        size_t n = lag < FEED_CHUNK ? (size_t)lag : FEED_CHUNK;
        uint64_t at = b->cursor & (f->hist_cap - 1);
        size_t first = n < f->hist_cap - at ? n : (size_t)(f->hist_cap - at);
        uint8_t *buf = f->scratch + LWS_PRE;
        memcpy(buf, f->hist + at, first);
        memcpy(buf + first, f->hist, n - first);
        b->idle_ticks = 0;
        /* Caught up: the hello heartbeat goes in the same write, so it does
         * not wait for the next turn of an idle, dozing loop (feed.c). */
        size_t hb = 0;
        if (b->hello && !b->bye && n == lag) {
            hb = soup_empty(buf + n, SOUP_SERVER_HEARTBEAT);
            b->hello = 0;
        }
        if (lws_write(b->wsi, buf, n + hb, LWS_WRITE_RAW) < (int)(n + hb))
            return -1;
        b->cursor += n;
        if (b->cursor != f->hist_head || b->bye || b->hello)
            lws_callback_on_writable(b->wsi);
        return 0;
    }
    uint8_t pkt[4];
    if (b->bye) {
        write_out(b, pkt, soup_empty(pkt, SOUP_END_OF_SESSION));
        return -1;
    }
    if (b->idle_ticks > 0 || b->hello) {
        b->hello = 0;
        return write_out(b, pkt, soup_empty(pkt, SOUP_SERVER_HEARTBEAT));
    }
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    bsub *b = user;
    feed *f;
    switch (reason) {
    case LWS_CALLBACK_RAW_ADOPT:
        f = lws_vhost_user(lws_get_vhost(wsi));
        memset(b, 0, sizeof *b);
        b->wsi = wsi;
        b->f = f;
        if (atomic_load(&f->nbin) + atomic_load(&f->nws) >= f->cfg.max_subscribers) {
            atomic_fetch_add(&f->refused, 1);
            return -1;
        }
        if (f->cfg.sndbuf) {
            int fd = lws_get_socket_fd(wsi), sz = (int)f->cfg.sndbuf;
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        }
        b->next = f->bsubs;
        if (f->bsubs)
            f->bsubs->prev = b;
        f->bsubs = b;
        atomic_fetch_add(&f->nbin, 1);
        return 0;
    case LWS_CALLBACK_RAW_RX: return on_rx(b, in, len);
    case LWS_CALLBACK_RAW_WRITEABLE: return on_writeable(b);
    case LWS_CALLBACK_RAW_CLOSE:
        if (!b->f)
            return 0;
        f = b->f;
        if (b->prev)
            b->prev->next = b->next;
        else
            f->bsubs = b->next;
        if (b->next)
            b->next->prev = b->prev;
        free(b->snap);
        b->f = NULL;
        atomic_fetch_sub(&f->nbin, 1);
        return 0;
    default: return 0;
    }
}

const struct lws_protocols feed_bin_protocols[] = {
    {"bourse-itch", callback, sizeof(bsub), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

void bin_notify(feed *f)
{
    for (bsub *b = f->bsubs; b; b = b->next)
        if (b->live && !b->snap && b->cursor != f->hist_head)
            lws_callback_on_writable(b->wsi);
}

void bin_tick(feed *f)
{
    for (bsub *b = f->bsubs; b; b = b->next) {
        b->ticks++;
        if (!b->live && b->ticks > LOGIN_TICKS) {
            lws_set_timeout(b->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            continue;
        }
        if (b->live && f->hist_head - b->cursor > f->hist_cap - FEED_CHUNK) {
            cut(b);
            lws_set_timeout(b->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            continue;
        }
        if (b->live && b->idle_ticks++ >= 1)
            lws_callback_on_writable(b->wsi);
    }
}

void bin_goodbye(feed *f)
{
    for (bsub *b = f->bsubs; b; b = b->next) {
        b->bye = 1;
        lws_callback_on_writable(b->wsi);
    }
}
