/*
 * udp.c - the MoldUDP64 feed: the binary feed's sequenced messages, the same
 * numbers and the same bytes, as UDP datagrams to one address (unicast, or a
 * multicast group on the loopback interface), and a request server that
 * sends any of them again (docs/protocol.md, "UDP feed").
 *
 * Everything runs on the feed thread.  The messages are not copied or
 * framed again when published: feed.c's history already holds each one
 * (framed for SoupBinTCP) and seq_off finds it by number, so a datagram is
 * packed straight from the history, live or for a request alike.  Live
 * sending follows each drain of the engine's ring (once per turn of the
 * feed's loop): every message published so far goes out, as many per
 * datagram as fit in `udp_payload` bytes, the last datagram of a turn
 * possibly short, so a message never waits for company.  An idle feed sends
 * a heartbeat once a second.
 *
 * UDP semantics all the way: the socket is non-blocking, and a datagram the
 * kernel will not take (buffer full) is dropped and counted, never retried
 * or waited for: the feed thread must not stall, and a receiver that misses
 * datagrams asks for them again.  The same socket takes those requests (its
 * port is `udp_request_port`) and answers the asker, from its address, with
 * downstream packets packed from the history, as the spec says.
 *
 * A request with a blank session asks for the current one (as a SoupBinTCP
 * login may), so a receiver that has seen no datagram yet can ask too.
 * Every request is hostile.  A malformed one, one for another session, or
 * one for messages older than the history holds is ignored (counted, and
 * logged at most once a second).  The work per request is bounded (at most
 * REQ_DGRAMS datagrams; the receiver asks again for the rest), per wake-up
 * (REQ_PER_WAKE requests, then the loop's other work has its turn), and per
 * second (REPLY_BUDGET datagrams for all askers together), so a flood of
 * requests, spoofed or not, costs a bounded share of the feed thread and
 * cannot be turned into a flood of replies.  A request for messages not yet
 * published is answered by a heartbeat naming the next number: a receiver
 * learns at once that it has everything.
 */
#include "feed/feed_int.h"

#include "feed/mold.h"
#include "net/soup.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    REQ_DGRAMS = 4,       /* most datagrams answering one request */
    REQ_PER_WAKE = 64,    /* requests read each time the socket is readable */
    REPLY_BUDGET = 20000, /* reply datagrams per second, all askers together */
    END_COPIES = 3,       /* End of Session is sent this many times: it may be lost too */
};

struct udp {
    int fd;
    int port; /* the request port actually bound */
    struct sockaddr_in dest;
    size_t payload; /* most bytes per datagram */
    uint64_t next;  /* next message to send live */
    int sent;       /* a live datagram went out since the last tick */
    uint32_t budget;
    uint64_t ignored_unlogged; /* ignored requests this second beyond the one logged */
    int logged;                /* one ignored request logged this second */
    struct lws *wsi;
    uint8_t buf[MOLD_MAX_DATAGRAM];
    atomic_uint_fast64_t datagrams, messages, dropped, requests, resent, ignored;
};

/* ---- packing from the history ------------------------------------------- */

/* Is message seq still whole in the history?  Read at once, so (unlike a
 * TCP subscriber's cursor, bin.c) no margin is needed. */
static int holds(const feed *f, uint64_t seq)
{
    if (seq <= f->seq_base || seq > f->seq || f->seq - seq > f->seq_mask)
        return 0;
    return f->hist_head - f->seq_off[seq & f->seq_mask] <= f->hist_cap;
}

static void hist_read(const feed *f, uint64_t off, uint8_t *dst, size_t n)
{
    uint64_t at = off & (f->hist_cap - 1);
    size_t first = n < f->hist_cap - at ? n : (size_t)(f->hist_cap - at);
    memcpy(dst, f->hist + at, first);
    memcpy(dst + first, f->hist, n - first);
}

/* Messages first..last (all held) into one datagram, as many as fit; *k
 * says how many (at least one: udp_payload leaves room for the longest). */
static size_t pack(feed *f, uint64_t first, uint64_t last, uint64_t *k)
{
    struct udp *u = f->udp;
    mold_writer w;
    mold_start(&w, u->buf, u->payload, f->session, first);
    uint64_t s = first;
    for (; s <= last; s++) {
        uint64_t off = f->seq_off[s & f->seq_mask];
        uint8_t hdr[SOUP_HEADER], msg[ITCH_MAX];
        hist_read(f, off, hdr, SOUP_HEADER);
        size_t len = (size_t)get_be16(hdr) - 1; /* the history's packets are SoupBinTCP 'S' */
        if (len > sizeof msg)
            break; /* cannot happen: on_message framed it */
        hist_read(f, off + SOUP_HEADER, msg, len);
        if (mold_add(&w, msg, len) < 0)
            break;
    }
    *k = s - first;
    return mold_finish(&w);
}

/* Non-blocking: a datagram the kernel does not take is dropped (UDP). */
static int send_to(struct udp *u, size_t n, const struct sockaddr_in *to)
{
    ssize_t r =
        sendto(u->fd, u->buf, n, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)to, sizeof *to);
    if (r == (ssize_t)n)
        return 0;
    atomic_fetch_add_explicit(&u->dropped, 1, memory_order_relaxed);
    return -1;
}

/* ---- the live stream -------------------------------------------------- */

void udp_begin(feed *f)
{
    /* Messages published before the thread started (recovery) are in the
     * history: receivers ask for them, rather than get a burst that would
     * overflow every socket buffer on the way. */
    if (f->udp)
        f->udp->next = f->seq + 1;
}

void udp_flush(feed *f)
{
    struct udp *u = f->udp;
    if (!u || u->next > f->seq)
        return;
    if (!holds(f, u->next)) { /* more than the history in one turn: cannot happen at its sizes */
        feed_log(f, "UDP feed: messages %llu-%llu left the history unsent", (unsigned long long)u->next,
                 (unsigned long long)f->seq);
        u->next = f->seq + 1;
        return;
    }
    while (u->next <= f->seq) {
        uint64_t k;
        size_t n = pack(f, u->next, f->seq, &k);
        if (send_to(u, n, &u->dest) == 0) {
            atomic_fetch_add_explicit(&u->datagrams, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&u->messages, k, memory_order_relaxed);
        }
        u->next += k;
        u->sent = 1;
    }
}

void udp_tick(feed *f)
{
    struct udp *u = f->udp;
    if (!u)
        return;
    if (!u->sent && send_to(u, mold_empty(u->buf, f->session, u->next, MOLD_HEARTBEAT), &u->dest) == 0)
        atomic_fetch_add_explicit(&u->datagrams, 1, memory_order_relaxed);
    u->sent = 0;
    u->budget = REPLY_BUDGET;
    if (u->ignored_unlogged)
        feed_log(f, "UDP feed: %llu more requests ignored in the last second",
                 (unsigned long long)u->ignored_unlogged);
    u->ignored_unlogged = 0;
    u->logged = 0;
}

void udp_goodbye(feed *f)
{
    struct udp *u = f->udp;
    if (!u)
        return;
    udp_flush(f);
    for (int i = 0; i < END_COPIES; i++)
        if (send_to(u, mold_empty(u->buf, f->session, u->next, MOLD_END), &u->dest) == 0)
            atomic_fetch_add_explicit(&u->datagrams, 1, memory_order_relaxed);
    uint64_t d = atomic_load(&u->datagrams), m = atomic_load(&u->messages);
    feed_log(f,
             "UDP feed: %llu datagrams, %llu messages (%.1f per datagram), %llu dropped; %llu requests "
             "answered with %llu datagrams, %llu ignored",
             (unsigned long long)d, (unsigned long long)m, d ? (double)m / (double)d : 0.0,
             (unsigned long long)atomic_load(&u->dropped), (unsigned long long)atomic_load(&u->requests),
             (unsigned long long)atomic_load(&u->resent), (unsigned long long)atomic_load(&u->ignored));
}

/* ---- the request server ------------------------------------------------- */

static void ignore(feed *f, const struct sockaddr_in *from, const char *why)
{
    struct udp *u = f->udp;
    atomic_fetch_add_explicit(&u->ignored, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&f->refused, 1, memory_order_relaxed);
    if (u->logged) {
        u->ignored_unlogged++;
        return;
    }
    u->logged = 1;
    char a[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &from->sin_addr, a, sizeof a);
    feed_log(f, "UDP feed: ignored a request from %s:%d: %s", a, ntohs(from->sin_port), why);
}

static void answer(feed *f, const mold_request *q, const struct sockaddr_in *from)
{
    struct udp *u = f->udp;
    if (!u->budget) {
        ignore(f, from, "over the reply budget of this second");
        return;
    }
    atomic_fetch_add_explicit(&u->requests, 1, memory_order_relaxed);
    if (q->seq > f->seq) { /* nothing yet: say where the stream is */
        u->budget--;
        if (send_to(u, mold_empty(u->buf, f->session, f->seq + 1, MOLD_HEARTBEAT), from) == 0)
            atomic_fetch_add_explicit(&u->resent, 1, memory_order_relaxed);
        return;
    }
    if (!holds(f, q->seq)) {
        ignore(f, from, "messages older than the history holds");
        return;
    }
    uint64_t s = q->seq, last = q->seq + q->count - 1; /* mold_request_parse: no overflow */
    if (last > f->seq)
        last = f->seq;
    for (int d = 0; d < REQ_DGRAMS && s <= last && u->budget; d++) {
        uint64_t k;
        size_t n = pack(f, s, last, &k);
        u->budget--;
        if (send_to(u, n, from) == 0)
            atomic_fetch_add_explicit(&u->resent, 1, memory_order_relaxed);
        s += k;
    }
}

static void on_readable(feed *f)
{
    struct udp *u = f->udp;
    for (int i = 0; i < REQ_PER_WAKE; i++) {
        uint8_t in[MOLD_REQUEST_LEN + 1];
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        /* MSG_TRUNC: the datagram's real length, so a long one is refused
         * as long rather than read as its first bytes. */
        ssize_t r = recvfrom(u->fd, in, sizeof in, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fl);
        if (r < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                feed_log(f, "UDP feed: reading requests: %s", strerror(errno));
            return;
        }
        if (fl != sizeof from || from.sin_family != AF_INET || !from.sin_port) {
            atomic_fetch_add_explicit(&u->ignored, 1, memory_order_relaxed);
            continue; /* nowhere to answer */
        }
        mold_request q;
        const char *why;
        if (mold_request_parse(in, (size_t)r, &q, &why) < 0)
            ignore(f, &from, why);
        else if (q.session[0] && strcmp(q.session, f->session) != 0) /* blank: the current one */
            ignore(f, &from, "another session");
        else
            answer(f, &q, &from);
    }
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user;
    (void)in;
    (void)len;
    feed *f = lws_vhost_user(lws_get_vhost(wsi));
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        if (f && f->udp)
            on_readable(f);
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (f && f->udp && f->udp->wsi == wsi) { /* lws closes the descriptor */
            f->udp->wsi = NULL;
            f->udp->fd = -1;
        }
        return 0;
    default: return 0;
    }
}

static const struct lws_protocols udp_protocols[] = {
    {"bourse-mold", callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- setup -------------------------------------------------------------- */

static int fail(struct udp *u, const char *what, const char *detail)
{
    log_line("market data: UDP feed: %s: %s", what, detail);
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
    return -1;
}

int udp_open(feed *f)
{
    const char *why;
    struct udp *u = calloc(1, sizeof *u);
    if (!u) {
        log_line("market data: out of memory");
        return -1;
    }
    f->udp = u;
    u->fd = -1;
    u->next = 1;
    u->budget = REPLY_BUDGET;
    u->payload = f->cfg.udp_payload ? f->cfg.udp_payload : 1400;
    if (u->payload < MOLD_HEADER + 2 + ITCH_MAX || u->payload > MOLD_MAX_DATAGRAM)
        return fail(u, "payload size", "not 86-65507 bytes");
    if (mold_addr_parse(f->cfg.udp_feed, &u->dest, &why) < 0)
        return fail(u, f->cfg.udp_feed, why);
    struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->cfg.udp_request_port)};
    const char *iface = f->cfg.listen ? f->cfg.listen : "127.0.0.1";
    if (inet_pton(AF_INET, iface, &local.sin_addr) != 1)
        return fail(u, iface, "not an IPv4 address");
    u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (u->fd < 0)
        return fail(u, "socket", strerror(errno));
    if (bind(u->fd, (struct sockaddr *)&local, sizeof local) != 0) {
        char what[64];
        snprintf(what, sizeof what, "request port %s:%d", iface, f->cfg.udp_request_port);
        return fail(u, what, strerror(errno));
    }
    socklen_t ll = sizeof local;
    getsockname(u->fd, (struct sockaddr *)&local, &ll);
    u->port = ntohs(local.sin_port);
    if (f->cfg.sndbuf) {
        int sz = (int)f->cfg.sndbuf;
        setsockopt(u->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    }
    if (IN_MULTICAST(ntohl(u->dest.sin_addr.s_addr))) {
        /* Out through the listening interface (loopback by default), looped
         * back to this host's members; TTL 0 keeps a loopback feed on the
         * host, 1 keeps any other on its link. */
        int loop = 1, ttl = (ntohl(local.sin_addr.s_addr) >> 24) == 127 ? 0 : 1;
        if (setsockopt(u->fd, IPPROTO_IP, IP_MULTICAST_IF, &local.sin_addr, sizeof local.sin_addr) != 0 ||
            setsockopt(u->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) != 0 ||
            setsockopt(u->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0)
            return fail(u, "multicast options", strerror(errno));
    }
    struct lws_context_creation_info vi = {0};
    vi.vhost_name = "udp";
    vi.port = CONTEXT_PORT_NO_LISTEN;
    vi.protocols = udp_protocols;
    vi.user = f;
    struct lws_vhost *vh = lws_create_vhost(f->ctx, &vi);
    lws_sock_file_fd_type fd = {.filefd = u->fd};
    if (!vh || !(u->wsi = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, fd, "bourse-mold", NULL)))
        return fail(u, "request port", "libwebsockets would not take the socket");
    return 0;
}

int udp_port(const feed *f)
{
    return f->udp && f->udp->fd >= 0 ? f->udp->port : -1;
}

void udp_stats(const feed *f, feed_stats *out)
{
    struct udp *u = f->udp;
    out->udp_datagrams = out->udp_messages = out->udp_dropped = 0;
    out->udp_requests = out->udp_resent = out->udp_ignored = 0;
    if (!u)
        return;
    out->udp_datagrams = atomic_load(&u->datagrams);
    out->udp_messages = atomic_load(&u->messages);
    out->udp_dropped = atomic_load(&u->dropped);
    out->udp_requests = atomic_load(&u->requests);
    out->udp_resent = atomic_load(&u->resent);
    out->udp_ignored = atomic_load(&u->ignored);
}

/* After lws_context_destroy, which closed an adopted socket. */
void udp_free(feed *f)
{
    if (!f->udp)
        return;
    if (f->udp->fd >= 0 && !f->udp->wsi)
        close(f->udp->fd);
    free(f->udp);
    f->udp = NULL;
}
