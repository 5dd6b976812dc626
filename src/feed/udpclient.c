/*
 * udpclient.c - the MoldUDP64 feed's receiver side (udpclient.h).
 *
 * Messages are applied strictly in sequence order, each exactly once: one
 * below `next` is a duplicate (a retransmission that crossed the live copy,
 * or a multicast echo) and is dropped; one above it waits in a window
 * indexed by sequence number until the gap before it is filled; one beyond
 * the window is dropped too (it will be asked for again when its turn
 * comes).  Datagrams and heartbeats raise `known`, the number below which
 * every message exists; while next < known a gap is open and the request
 * server is asked for it, from `next`, `chunk` messages at a time.
 *
 * Asking: one request at a time.  The next goes out as soon as the last is
 * answered (next reached its end), or after RETRY_US if the answer did not
 * come (lost too: UDP both ways; on loopback an answer takes well under a
 * millisecond, so a short wait).  The server bounds its answer to a few
 * datagrams; a client asking for more learns that bound from the first
 * short answer and asks for that many afterwards, so a long catch-up is a
 * chain of fully answered requests rather than a chain of timeouts.  Until
 * the first heartbeat naming `next` (caught_up) the client also asks beyond
 * what it knows of, so a joiner learns at once where the stream is: the
 * server answers a request for a message not yet published with a
 * heartbeat.
 */
#include "feed/udpclient.h"

#include "util/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { UDPC_WINDOW = 1 << 16, RETRY_US = 20000, FIRST_CHUNK = 64, READS_PER_POLL = 256 };

static int fail(udp_client *c, char *err, size_t errlen, const char *what, const char *why)
{
    snprintf(err, errlen, "%s: %s", what, why);
    udp_client_close(c);
    return -1;
}

int udp_client_open(udp_client *c, const char *feed_addr, const char *req_addr, char *err, size_t errlen)
{
    const char *why;
    struct sockaddr_in at;
    memset(c, 0, sizeof *c);
    c->fd = c->rfd = -1;
    c->chunk = FIRST_CHUNK;
    c->next = 1;
    if (mold_addr_parse(feed_addr, &at, &why) < 0)
        return fail(c, err, errlen, feed_addr, why);
    if (mold_addr_parse(req_addr, &c->req, &why) < 0)
        return fail(c, err, errlen, req_addr, why);
    c->win = malloc((size_t)UDPC_WINDOW * sizeof *c->win);
    c->wlen = malloc(UDPC_WINDOW);
    c->wseq = calloc(UDPC_WINDOW, sizeof *c->wseq); /* 0: empty (sequence numbers start at 1) */
    if (!c->win || !c->wlen || !c->wseq)
        return fail(c, err, errlen, "udp", "out of memory");
    c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return fail(c, err, errlen, "socket", strerror(errno));
    /* A burst must wait in the kernel while the book is being applied: ask
     * for 4 MiB, beyond rmem_max if allowed to. */
    int sz = 4 << 20, one = 1;
    if (setsockopt(c->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) != 0)
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    int multicast = IN_MULTICAST(ntohl(at.sin_addr.s_addr));
    /* Several receivers may share a group; a unicast address is one
     * receiver's (with SO_REUSEADDR a second would silently take it over). */
    if (multicast)
        setsockopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(c->fd, (struct sockaddr *)&at, sizeof at) != 0)
        return fail(c, err, errlen, feed_addr, strerror(errno));
    if (multicast) {
        struct ip_mreq m = {.imr_multiaddr = at.sin_addr, .imr_interface.s_addr = htonl(INADDR_LOOPBACK)};
        if (setsockopt(c->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) != 0)
            return fail(c, err, errlen, "cannot join the multicast group on loopback", strerror(errno));
    }
    /* Requests go out from a socket of their own, and the answers come back
     * to it: one bound to a group address cannot be a source, and replies to
     * a port that several receivers share would reach only one of them. */
    c->rfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->rfd < 0)
        return fail(c, err, errlen, "socket", strerror(errno));
    if (setsockopt(c->rfd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) != 0)
        setsockopt(c->rfd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    return 0;
}

void udp_client_start(udp_client *c, follower *fw, uint64_t after_seq, const char *session)
{
    c->fw = fw;
    c->next = after_seq + 1;
    if (c->known < c->next)
        c->known = c->next;
    if (session)
        snprintf(c->session, sizeof c->session, "%s", session);
}

void udp_client_close(udp_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    if (c->rfd >= 0)
        close(c->rfd);
    c->fd = c->rfd = -1;
    free(c->win);
    free(c->wlen);
    free(c->wseq);
    c->win = NULL;
    c->wlen = NULL;
    c->wseq = NULL;
}

/* ---- in order, once ------------------------------------------------------ */

static void apply(udp_client *c, const uint8_t *p, size_t len, feed_client_fn fn, void *ctx)
{
    itch_msg m;
    uint64_t seq = c->next++;
    if (itch_decode(p, len, &m) < 0) {
        c->bad++;
        return;
    }
    if (fn)
        fn(ctx, &m, 1, seq); /* before it changes the book: tail looks orders up */
    if (follow_apply(c->fw, &m) < 0)
        c->bad++;
    c->fw->seq = seq;
}

static void deliver(udp_client *c, uint64_t seq, const uint8_t *p, size_t len, feed_client_fn fn, void *ctx)
{
    if (seq < c->next) {
        c->dups++;
        return;
    }
    if (seq == c->next) {
        apply(c, p, len, fn, ctx);
        uint32_t w;
        while (c->wseq[w = (uint32_t)(c->next % UDPC_WINDOW)] == c->next)
            apply(c, c->win[w], c->wlen[w], fn, ctx);
        return;
    }
    if (seq - c->next >= UDPC_WINDOW || len > ITCH_MAX)
        return; /* asked for again when its turn comes (or malformed: refused then) */
    uint32_t w = (uint32_t)(seq % UDPC_WINDOW);
    if (c->wseq[w] == seq) {
        c->dups++;
        return;
    }
    memcpy(c->win[w], p, len);
    c->wlen[w] = (uint8_t)len;
    c->wseq[w] = seq;
}

static void on_datagram(udp_client *c, const uint8_t *p, size_t n, feed_client_fn fn, void *ctx)
{
    c->datagrams++;
    if (c->drop_every && c->datagrams % c->drop_every == 0) {
        c->dropped++;
        return;
    }
    mold_packet pk;
    const char *why;
    if (mold_parse(p, n, &pk, &why) < 0) {
        c->bad++;
        return;
    }
    if (!c->session[0])
        memcpy(c->session, pk.session, sizeof c->session);
    else if (strcmp(c->session, pk.session) != 0) {
        c->bad++; /* another session (another server run): not ours */
        return;
    }
    if (pk.count == MOLD_HEARTBEAT || pk.count == MOLD_END) {
        if (pk.seq > c->known)
            c->known = pk.seq;
        if (pk.seq == c->next)
            c->caught_up = 1;
        if (pk.count == MOLD_END)
            c->ended = 1;
        return;
    }
    if (pk.seq + pk.count > c->known)
        c->known = pk.seq + pk.count;
    size_t off = 0, len;
    const uint8_t *m;
    for (uint64_t s = pk.seq; mold_next(&pk, &off, &m, &len); s++)
        deliver(c, s, m, len, fn, ctx);
}

/* ---- asking for what is missing ----------------------------------------- */

static void ask(udp_client *c)
{
    if (c->no_fill || (c->next >= c->known && c->caught_up))
        return;
    int64_t now = mono_us();
    int answered = c->req_end && c->next >= c->req_end;
    if (!answered && c->req_us && now - c->req_us < RETRY_US)
        return;
    if (!answered && c->req_us && c->next > c->req_seq)
        c->chunk = (uint32_t)(c->next - c->req_seq); /* a short answer: the server's bound */
    uint64_t n = 1;
    if (c->next < c->known) /* the gap: up to the first message already here */
        while (n < c->chunk && c->next + n < c->known && c->wseq[(c->next + n) % UDPC_WINDOW] != c->next + n)
            n++;
    else
        n = c->chunk;
    uint8_t q[MOLD_REQUEST_LEN];
    mold_request_write(q, c->session, c->next, (uint16_t)n);
    sendto(c->rfd, q, sizeof q, MSG_DONTWAIT, (struct sockaddr *)&c->req, sizeof c->req);
    c->requests++;
    c->req_seq = c->next;
    c->req_end = c->next + n;
    c->req_us = now;
}

int udp_client_poll(udp_client *c, int timeout_ms, feed_client_fn fn, void *ctx)
{
    ask(c);
    if (c->next < c->known || !c->caught_up) /* wake for a retry */
        timeout_ms = timeout_ms < RETRY_US / 1000 ? timeout_ms : RETRY_US / 1000;
    struct pollfd pfd[2] = {{.fd = c->fd, .events = POLLIN}, {.fd = c->rfd, .events = POLLIN}};
    int rc = poll(pfd, 2, timeout_ms), got = 0;
    if (rc < 0 && errno != EINTR)
        return -1;
    for (int k = 0; rc > 0 && k < 2; k++)
        for (int i = 0; pfd[k].revents && i < READS_PER_POLL; i++) {
            ssize_t n = recv(pfd[k].fd, c->buf, sizeof c->buf, MSG_DONTWAIT);
            if (n < 0)
                break;
            on_datagram(c, c->buf, (size_t)n, fn, ctx);
            got = 1;
        }
    ask(c);
    if (c->ended && c->next >= c->known)
        return -1;
    return got;
}
