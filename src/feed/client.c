/*
 * client.c - the binary feed's subscriber side (client.h).
 */
#include "feed/client.h"

#include "net/soup.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connect and send the Login Request (seq next, in `session`; blank: the
 * current one); c->fd is the connection.  0, or -1 with err. */
static int dial(feed_client *c, const char *host, int port, const char *session, uint64_t seq, char *err,
                size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int rc = getaddrinfo(host, ps, &hints, &ai);
    if (rc) {
        snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        c->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
        if (c->fd >= 0 && connect(c->fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        if (c->fd >= 0)
            close(c->fd);
        c->fd = -1;
    }
    freeaddrinfo(ai);
    if (c->fd < 0) {
        snprintf(err, errlen, "cannot connect to %s port %d: %s", host, port, strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    soup_login in = {.seq = seq};
    snprintf(in.user, sizeof in.user, "feed");
    snprintf(in.session, sizeof in.session, "%s", session);
    uint8_t pkt[2 + SOUP_LOGIN_LEN];
    size_t n = soup_login_write(pkt, &in);
    if (write(c->fd, pkt, n) != (ssize_t)n) {
        snprintf(err, errlen, "cannot send the login: %s", strerror(errno));
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

int feed_client_open(feed_client *c, const char *host, int port, uint64_t seq, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    if (follow_init(&c->fw, 0) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (dial(c, host, port, "", seq, err, errlen) != 0) {
        follow_free(&c->fw);
        return -1;
    }
    return 0;
}

int feed_client_resume(feed_client *c, const char *host, int port, char *err, size_t errlen)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->len = 0;
    c->ended = 0;
    c->logged_in = 0;
    c->resume_seq = c->next_seq;
    return dial(c, host, port, c->session, c->next_seq, err, errlen);
}

void feed_client_close(feed_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    follow_free(&c->fw);
}

static void on_data(feed_client *c, const soup_packet *p, feed_client_fn fn, void *ctx)
{
    itch_msg m;
    int sequenced = p->type == SOUP_SEQUENCED;
    if (itch_decode(p->payload, p->len, &m) < 0) {
        c->bad++;
        if (sequenced)
            c->next_seq++;
        return;
    }
    uint64_t seq = sequenced ? c->next_seq++ : 0;
    if (m.type == ITCH_SNAPSHOT_END && m.seq + 1 != c->next_seq)
        c->bad++; /* the snapshot does not meet the stream: a server bug */
    if (fn)
        fn(ctx, &m, sequenced, seq); /* before it changes the book: tail looks orders up */
    if (follow_apply(&c->fw, &m) < 0)
        c->bad++;
    if (sequenced)
        c->fw.seq = seq;
}

int feed_client_poll(feed_client *c, int timeout_ms, feed_client_fn fn, void *ctx)
{
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    int rc = poll(&pfd, 1, timeout_ms);
    if (rc <= 0)
        return rc < 0 && errno != EINTR ? -1 : 0;
    ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
    if (n <= 0)
        return -1;
    c->len += (size_t)n;
    size_t off = 0;
    for (;;) {
        soup_packet p;
        long used = soup_next(c->buf + off, c->len - off, sizeof c->buf - 2, &p);
        if (used < 0)
            return -1;
        if (used == 0)
            break;
        off += (size_t)used;
        switch (p.type) {
        case SOUP_LOGIN_ACCEPTED:
            if (soup_accepted_parse(&p, c->session, &c->next_seq) < 0)
                return -1;
            c->logged_in = 1;
            if (c->resume_seq && c->next_seq != c->resume_seq) {
                /* not resumed: a snapshot follows, of a book to build anew */
                follow_free(&c->fw);
                if (follow_init(&c->fw, 0) < 0)
                    return -1;
                c->resnapshots++;
            }
            c->resume_seq = 0;
            break;
        case SOUP_LOGIN_REJECTED: return -1;
        case SOUP_SEQUENCED:
        case SOUP_UNSEQUENCED: on_data(c, &p, fn, ctx); break;
        case SOUP_SERVER_HEARTBEAT: c->heartbeats++; break;
        case SOUP_END_OF_SESSION: c->ended = 1; return -1;
        default: break;
        }
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    return 1;
}
