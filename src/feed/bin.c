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
 *
 * When the feed stops it says End of Session to every subscriber, and a
 * login that arrives while it does (the listener is open until the process
 * ends: a subscriber told End of Session may come straight back) gets Login
 * Rejected, "session not available".  Accepted, it would be resumed by a
 * server about to go and cut again a moment later: a client following
 * across restarts would count one resume too many (seen under load).
 *
 * So a subscriber costs the server a bounded amount whatever it does:
 *   - the snapshot is one image (bimage) shared by every joiner, built
 *     once and reference-counted.  A joiner takes the latest image while
 *     the messages since it are still in the history and less than half
 *     of it (Login Accepted then names the image's next sequence number,
 *     and the history follows as for a reconnect); only then is a new one
 *     built.  With 100,000 resting orders an image is ~4.5 MB: each
 *     subscriber that never reads used to pin a private copy;
 *   - one still reading its snapshot after cfg.snapshot_s is cut, as is
 *     one whose place in the history falls out of it (the same rule as
 *     live subscribers), so old images cannot be pinned for long;
 *   - cfg.subscribers_per_ip (peers.c) bounds how many one host may open.
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
    int live;       /* logged in */
    int idle_ticks; /* ticks without a write: heartbeat due at 1 */
    int ticks;      /* since connect, for the login timeout */
    int bye;        /* End of Session to send */
    int hello;      /* heartbeat when first caught up: "that was all" */
    int refused;    /* Login Rejected in acc: close once it is sent */
    uint32_t ip;    /* counted in peers.c; 0 = not counted */
    uint8_t in[BIN_IN];
    size_t inlen;
    uint8_t acc[SOUP_HEADER + SOUP_ACCEPTED_LEN]; /* Login Accepted (or Rejected), still to send */
    size_t acc_len, acc_off;
    struct bimage *img; /* the snapshot it is reading, or NULL */
    size_t img_off;
    int img_ticks;   /* ticks spent reading it */
    uint64_t cursor; /* next history byte to send */
} bsub;

/* A snapshot as sent: unsequenced packets ending with SNAPSHOT_END, the
 * state after message seq.  Shared by its readers (see the top). */
typedef struct bimage {
    uint32_t refs;
    int failed;
    uint64_t seq;
    uint8_t *bytes;
    size_t len, cap;
} bimage;

static void image_put(bimage *im, const uint8_t *p, size_t n)
{
    if (im->failed)
        return;
    if (im->len + n > im->cap) {
        size_t cap = im->cap ? im->cap * 2 : 64 * 1024;
        while (cap < im->len + n)
            cap *= 2;
        uint8_t *q = realloc(im->bytes, cap);
        if (!q) {
            im->failed = 1;
            return;
        }
        im->bytes = q;
        im->cap = cap;
    }
    memcpy(im->bytes + im->len, p, n);
    im->len += n;
}

static void snap_msg(void *ctx, const itch_msg *m)
{
    uint8_t pkt[SOUP_HEADER + ITCH_MAX];
    size_t n = itch_encode(m, pkt + SOUP_HEADER);
    soup_header(pkt, SOUP_UNSEQUENCED, n);
    image_put(ctx, pkt, SOUP_HEADER + n);
}

static void image_drop(bimage *im)
{
    if (im && --im->refs == 0) {
        free(im->bytes);
        free(im);
    }
}

/* Is message `seq` still whole in the history? */
static int in_history(const feed *f, uint64_t seq)
{
    if (seq == f->seq + 1)
        return 1;
    if (seq <= f->seq_base || seq > f->seq || f->seq - seq > f->seq_mask)
        return 0;
    return f->hist_head - f->seq_off[seq & f->seq_mask] <= f->hist_cap - FEED_CHUNK;
}

static uint64_t cursor_of(const feed *f, uint64_t seq)
{
    return seq == f->seq + 1 ? f->hist_head : f->seq_off[seq & f->seq_mask];
}

/* The image a joiner reads: the latest while what came since is still in
 * the history, and less than half of it; else a new one. */
static bimage *image_get(feed *f)
{
    bimage *im = f->bimage;
    if (im && in_history(f, im->seq + 1) && f->hist_head - cursor_of(f, im->seq + 1) <= f->hist_cap / 2)
        return im;
    if (!(im = calloc(1, sizeof *im)))
        return NULL;
    im->refs = 1; /* the feed's own */
    im->seq = f->seq;
    pub_snapshot(&f->p, snap_msg, im);
    itch_msg end = {.type = ITCH_SNAPSHOT_END, .ts = (int64_t)f->ts, .seq = f->seq};
    snap_msg(im, &end);
    if (im->failed) {
        image_drop(im);
        return NULL;
    }
    image_drop(f->bimage);
    f->bimage = im;
    return im;
}

static int on_login(bsub *b, const soup_packet *p)
{
    feed *f = b->f;
    soup_login in;
    const char *why;
    if (b->live || b->refused || soup_login_parse(p, &in, &why) < 0) {
        atomic_fetch_add(&f->refused, 1);
        return -1;
    }
    if (atomic_load(&f->stop)) {
        /* The feed is stopping: End of Session is said (or about to be) to
         * every subscriber it has.  A login in that moment (a subscriber
         * told End of Session that comes straight back while the listener
         * is still open) is refused, "session not available", rather than
         * resumed and cut again a moment later, when the process ends: it
         * tries again and finds the next server. */
        atomic_fetch_add(&f->refused, 1);
        feed_log(f, "refused a binary subscriber's login: the feed is stopping (End of Session)");
        b->acc_len = soup_rejected_write(b->acc, SOUP_REJECT_SESSION);
        b->refused = 1;
        lws_callback_on_writable(b->wsi);
        return 0;
    }
    int same = !in.session[0] || !strcmp(in.session, f->session);
    if (same && in.seq > f->seq + 1 && f->cfg.refuse_ahead) {
        atomic_fetch_add(&f->refused, 1); /* not here yet (feed.h): it asks again */
        return -1;
    }
    if (same && in.seq && in_history(f, in.seq)) {
        b->cursor = cursor_of(f, in.seq);
        b->acc_len = soup_accepted_write(b->acc, f->session, in.seq);
    } else {
        bimage *im = image_get(f);
        if (!im)
            return -1;
        im->refs++;
        b->img = im;
        b->img_off = 0;
        b->cursor = cursor_of(f, im->seq + 1);
        b->acc_len = soup_accepted_write(b->acc, f->session, im->seq + 1);
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

static int cut(bsub *b, const char *why)
{
    /* What it did not read is of no use to it any more: the close resets
     * the connection rather than leave the kernel trying to deliver it. */
    struct linger now = {.l_onoff = 1, .l_linger = 0};
    setsockopt(lws_get_socket_fd(b->wsi), SOL_SOCKET, SO_LINGER, &now, sizeof now);
    atomic_fetch_add(&b->f->cut, 1);
    feed_log(b->f, "a binary subscriber %s and was disconnected", why);
    return -1;
}

static int on_writeable(bsub *b)
{
    feed *f = b->f;
    if (b->acc_off < b->acc_len) {
        if (write_out(b, b->acc + b->acc_off, b->acc_len - b->acc_off) < 0)
            return -1;
        b->acc_off = b->acc_len;
        if (b->refused)
            return -1;
        lws_callback_on_writable(b->wsi);
        return 0;
    }
    if (b->img) {
        bimage *im = b->img;
        size_t n = im->len - b->img_off;
        n = n < FEED_CHUNK ? n : FEED_CHUNK;
        if (write_out(b, im->bytes + b->img_off, n) < 0)
            return -1;
        b->img_off += n;
        if (b->img_off == im->len) {
            image_drop(im);
            b->img = NULL;
        }
        lws_callback_on_writable(b->wsi);
        return 0;
    }
    if (!b->live)
        return 0;
    uint64_t lag = f->hist_head - b->cursor;
    if (lag > f->hist_cap - FEED_CHUNK)
        return cut(b, "fell too far behind");
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
            b->f = NULL;
            return -1;
        }
        if (peers_add(f, peers_ip(wsi)) < 0) {
            atomic_fetch_add(&f->refused, 1);
            feed_log(f, "refused a binary subscriber: %u already from its address",
                     f->cfg.subscribers_per_ip);
            b->f = NULL;
            return -1;
        }
        b->ip = peers_ip(wsi);
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
        image_drop(b->img);
        b->img = NULL;
        peers_del(f, b->ip);
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
        if (b->live && !b->img && b->acc_off == b->acc_len && b->cursor != f->hist_head)
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
            cut(b, "fell too far behind");
            lws_set_timeout(b->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            continue;
        }
        if (b->img && (uint32_t)++b->img_ticks > f->cfg.snapshot_s) {
            cut(b, "did not read its snapshot in time");
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

void bin_free(feed *f)
{
    image_drop(f->bimage);
    f->bimage = NULL;
}
