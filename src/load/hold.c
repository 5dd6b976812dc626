/*
 * hold.c - holder threads of `bourse load`: sessions that log in and stay
 * alive while the main loop (load.c) sends orders over its own sessions.
 *
 * Why threads with their own descriptor tables: the open-file limit
 * (RLIMIT_NOFILE) is checked against the file-descriptor table a descriptor
 * goes into, not against the process.  Where the hard limit cannot be raised
 * (this sandbox: 20,000, EPERM even for root), one table holds at most that
 * many sockets, but a thread that calls unshare(CLONE_FILES) gets a private
 * copy of the table and can fill it up to the limit again.  So the main loop
 * keeps what one table holds, and the rest of the sessions go to holder
 * threads of at most `per_thread` sessions each.
 *
 * A descriptor number means nothing outside its table, so a holder never
 * hands a descriptor to another thread: it opens, uses and closes its own,
 * and talks to the main thread only through memory (atomic counters, a stop
 * flag it checks at least every 100 ms).
 *
 * Each holder connects its share from the same source addresses the main
 * loop uses (127.0.x.y, HOLD_PER_IP sessions each) with non-blocking
 * connects, at most WINDOW logins in flight, each bounded by
 * login_timeout_ms; after the first failure it starts no more logins (as
 * the main loop stops at its first), so a server that refuses or stops
 * accepting is reported within one timeout instead of one per session.
 * Logged-in sessions get a Client Heartbeat every heartbeat_ms (a tenth of
 * them every tenth of that, not all at once: the server closes a session
 * silent for [gateway] heartbeat_timeout_ms), and everything the server sends
 * them is read and dropped: heartbeats, system events, and the reports of
 * their user, since every session of a user gets the user's whole stream
 * and one that does not read is closed as a slow reader.
 */
#include "load/hold.h"

#include "net/soup.h"
#include "util/args.h"
#include "util/clock.h"
#include "util/sanitizer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum { WINDOW = 256, SCRATCH = 1 << 16 };
/* Descriptors kept free in the main table (stdio, epoll, the admin socket,
 * the echo baseline's up to 130, files) and in each holder's (stdio, epoll). */
enum { MAIN_RESERVE = 256, HOLD_RESERVE = 64 };
enum { H_IDLE, H_CONNECTING, H_LOGIN, H_LIVE, H_DEAD };
enum { ANSWER = 2 + SOUP_ACCEPTED_LEN };

typedef struct hsess {
    int fd;
    uint8_t state, have;
    uint8_t buf[ANSWER];
    int64_t deadline;
} hsess;

typedef struct hthread {
    pthread_t tid;
    struct holders *h;
    uint32_t first, count;
    hsess *s;
    uint32_t inflight, resolved, next;
    uint32_t lo; /* every session before it is decided */
    int stop_new;
    atomic_int done; /* the login phase is over; err and done_ns are set */
    int64_t done_ns;
    atomic_uint_fast64_t logged_in, failed, disconnects;
    char err[160];
} hthread;

struct holders {
    hold_opts o;
    atomic_int stop;
    int64_t t0;
    uint32_t n;
    hthread *t;
};

void hold_source(uint32_t i, char out[32])
{
    snprintf(out, 32, "127.0.%u.%u", (i / HOLD_PER_IP) / 250, 1 + (i / HOLD_PER_IP) % 250);
}

uint32_t hold_room(uint32_t sessions, uint32_t main_cap, uint32_t *nmain)
{
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    rlim_t want = (rlim_t)sessions + 1024;
    if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < want && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max == RLIM_INFINITY || r.rlim_max > want ? want : r.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &r) != 0)
            arg_error("load: cannot raise the open file limit to %lu", (unsigned long)r.rlim_cur);
        getrlimit(RLIMIT_NOFILE, &r);
    }
    uint64_t room = r.rlim_cur == RLIM_INFINITY || r.rlim_cur > want ? want : r.rlim_cur;
    uint64_t cap = room > MAIN_RESERVE + 1 ? room - MAIN_RESERVE : 1;
    if (main_cap && main_cap < cap)
        cap = main_cap;
    *nmain = sessions < cap ? sessions : (uint32_t)cap;
    return room > HOLD_RESERVE + 1 ? (uint32_t)(room - HOLD_RESERVE) : 1;
}

static void fail(hthread *t, uint32_t k, const char *why, int err)
{
    hsess *s = &t->s[k];
    if (!t->err[0]) {
        char from[32];
        hold_source(t->first + k, from);
        snprintf(t->err, sizeof t->err, "session %u from %s: %s%s%s", t->first + k, from, why,
                 err ? ": " : "", err ? strerror(err) : "");
    }
    if (s->fd >= 0)
        close(s->fd); /* also leaves the epoll set */
    s->fd = -1;
    s->state = H_DEAD;
    t->inflight--;
    t->resolved++;
    t->stop_new = 1;
    atomic_fetch_add(&t->failed, 1);
}

static void send_login(hthread *t, uint32_t k, int ep)
{
    hsess *s = &t->s[k];
    soup_login lg = {0};
    t->h->o.user_name((t->first + k) % t->h->o.users, lg.user);
    snprintf(lg.password, sizeof lg.password, "%s", t->h->o.password);
    uint8_t buf[128];
    size_t n = soup_login_write(buf, &lg);
    /* a new socket's send buffer always has room for one login */
    if (send(s->fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n) {
        fail(t, k, "sending the login", errno);
        return;
    }
    struct epoll_event e = {.events = EPOLLIN, .data.u32 = k};
    epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &e);
    s->state = H_LOGIN;
}

static void start(hthread *t, uint32_t k, int ep, int64_t now)
{
    hsess *s = &t->s[k];
    char from[32];
    hold_source(t->first + k, from);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(t->h->o.port)};
    struct sockaddr_in b = {.sin_family = AF_INET};
    int one = 1;
    t->inflight++;
    s->deadline = now + (int64_t)t->h->o.login_timeout_ms * 1000000;
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        fail(t, k, "socket", errno);
        return;
    }
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* the port is chosen at connect, per destination: each source address
     * then has the whole ephemeral range */
    setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (inet_pton(AF_INET, t->h->o.host, &a.sin_addr) != 1 || inet_pton(AF_INET, from, &b.sin_addr) != 1) {
        fail(t, k, "bad address", EINVAL);
        return;
    }
    if (bind(s->fd, (struct sockaddr *)&b, sizeof b) != 0) {
        fail(t, k, "bind", errno);
        return;
    }
    int r = connect(s->fd, (struct sockaddr *)&a, sizeof a);
    if (r != 0 && errno != EINPROGRESS) {
        fail(t, k, "connect", errno);
        return;
    }
    struct epoll_event e = {.events = EPOLLOUT, .data.u32 = k};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &e) != 0) {
        fail(t, k, "epoll_ctl", errno);
        return;
    }
    s->state = H_CONNECTING;
    if (r == 0)
        send_login(t, k, ep);
}

/* Read the Login Accepted (and nothing past it). */
static void read_answer(hthread *t, uint32_t k)
{
    hsess *s = &t->s[k];
    ssize_t n = read(s->fd, s->buf + s->have, ANSWER - s->have);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        fail(t, k, "closed by the server before a login answer", n < 0 ? errno : 0);
        return;
    }
    s->have = (uint8_t)(s->have + n);
    if (s->have >= 3 && s->buf[2] != SOUP_LOGIN_ACCEPTED) {
        fail(t, k,
             s->buf[2] == SOUP_LOGIN_REJECTED ? "login refused (bad user or password, or too many sessions "
                                                "for the user: [gateway] sessions_per_user)"
                                              : "unexpected answer to the login",
             0);
        return;
    }
    if (s->have >= 3 && get_be16(s->buf) != SOUP_ACCEPTED_LEN) {
        fail(t, k, "malformed Login Accepted", 0);
        return;
    }
    if (s->have == ANSWER) {
        s->state = H_LIVE;
        t->inflight--;
        t->resolved++;
        atomic_fetch_add(&t->logged_in, 1);
    }
}

/* Read and drop what the server sent a live session. */
static void drain(hthread *t, uint32_t k, uint8_t *scratch)
{
    hsess *s = &t->s[k];
    for (int i = 0; i < 16; i++) {
        ssize_t n = read(s->fd, scratch, SCRATCH);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        close(s->fd);
        s->fd = -1;
        s->state = H_DEAD;
        atomic_fetch_add(&t->disconnects, 1);
        return;
    }
}

static void on_event(hthread *t, uint32_t k, uint32_t events, int ep, uint8_t *scratch)
{
    hsess *s = &t->s[k];
    if (s->state == H_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err || (events & (EPOLLERR | EPOLLHUP)))
            fail(t, k, "connect", err ? err : ECONNREFUSED);
        else
            send_login(t, k, ep);
    } else if (s->state == H_LOGIN) {
        read_answer(t, k);
    } else if (s->state == H_LIVE) {
        drain(t, k, scratch);
    }
}

/* Start logins up to the window, time out the late ones, and note when
 * every session of the thread is decided. */
static void login_step(hthread *t, int ep, int64_t now)
{
    while (!t->stop_new && t->next < t->count && t->inflight < WINDOW)
        start(t, t->next++, ep, now);
    if (t->stop_new && t->next < t->count) {
        uint32_t left = t->count - t->next; /* never tried: count them as failed */
        t->next = t->count;
        t->resolved += left;
        atomic_fetch_add(&t->failed, left);
    }
    while (t->lo < t->next && t->s[t->lo].state != H_CONNECTING && t->s[t->lo].state != H_LOGIN)
        t->lo++;
    for (uint32_t k = t->lo; k < t->next && t->inflight; k++) {
        hsess *s = &t->s[k];
        if ((s->state == H_CONNECTING || s->state == H_LOGIN) && now > s->deadline) {
            char why[64];
            snprintf(why, sizeof why, "no login answer within %d ms", t->h->o.login_timeout_ms);
            fail(t, k, why, 0);
        }
    }
    if (t->resolved == t->count) {
        t->done_ns = mono_ns();
        atomic_store(&t->done, 1);
    }
}

static void heartbeat_part(hthread *t, uint32_t part)
{
    uint8_t hb[3];
    soup_empty(hb, SOUP_CLIENT_HEARTBEAT);
    /* a full send buffer (the server not reading) only skips this one; a
     * closed session is found by its read */
    for (uint32_t k = part; k < t->count; k += 10)
        if (t->s[k].state == H_LIVE)
            (void)send(t->s[k].fd, hb, 3, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void *holder(void *arg)
{
    hthread *t = arg;
    holders *h = t->h;
    /* A private copy of the descriptor table: RLIMIT_NOFILE is enforced per
     * table, so this thread may open up to the limit again (see the top of
     * this file).  The copy holds every descriptor the process had (the
     * main loop's sockets, its epoll, ...): close them here, keeping only
     * stdin, stdout and stderr, so the room is ours; the main thread's table
     * and its descriptors are untouched.  Not under ThreadSanitizer, whose
     * own descriptors would be closed or shadowed (util/sanitizer.h): there
     * the holders share the table, which the tests' few sessions fit. */
    if (!BOURSE_TSAN && unshare(CLONE_FILES) != 0) {
        snprintf(t->err, sizeof t->err, "unshare(CLONE_FILES): %s", strerror(errno));
        atomic_store(&t->failed, t->count);
        t->done_ns = mono_ns();
        atomic_store(&t->done, 1);
        return NULL;
    }
    if (!BOURSE_TSAN)
        close_range(3, ~0U, 0);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    uint8_t *scratch = malloc(SCRATCH);
    if (ep < 0 || !scratch) {
        snprintf(t->err, sizeof t->err, "epoll or memory: %s", strerror(errno));
        atomic_store(&t->failed, t->count);
        t->done_ns = mono_ns();
        atomic_store(&t->done, 1);
        free(scratch);
        return NULL;
    }
    int64_t step = (int64_t)h->o.heartbeat_ms * 100000; /* a tenth of the period, in ns */
    int64_t next_hb = mono_ns() + step;
    uint32_t part = 0;
    struct epoll_event evs[512];
    while (!atomic_load(&h->stop)) {
        int64_t now = mono_ns();
        if (!atomic_load_explicit(&t->done, memory_order_relaxed))
            login_step(t, ep, now);
        if (step && now >= next_hb) {
            heartbeat_part(t, part);
            part = (part + 1) % 10;
            /* on schedule, not from now: each session gets one every
             * heartbeat_ms on average; after a stall, start again from now */
            next_hb = next_hb + step < now ? now + step : next_hb + step;
        }
        int wait = atomic_load_explicit(&t->done, memory_order_relaxed) ? 100 : 10;
        if (step && (next_hb - now) / 1000000 < wait)
            wait = next_hb > now ? (int)((next_hb - now) / 1000000) + 1 : 0;
        int n = epoll_wait(ep, evs, 512, wait);
        for (int i = 0; i < n; i++)
            on_event(t, evs[i].data.u32, evs[i].events, ep, scratch);
    }
    for (uint32_t k = 0; k < t->count; k++)
        if (t->s[k].fd >= 0)
            close(t->s[k].fd);
    close(ep);
    free(scratch);
    return NULL;
}

holders *hold_start(const hold_opts *o)
{
    holders *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->o = *o;
    uint32_t per = o->per_thread ? o->per_thread : 1;
    h->n = (o->count + per - 1) / per;
    if (h->n < o->min_threads)
        h->n = o->min_threads < o->count ? o->min_threads : o->count;
    h->t = calloc(h->n ? h->n : 1, sizeof *h->t);
    h->t0 = mono_ns();
    if (!h->t) {
        free(h);
        return NULL;
    }
    uint32_t started = 0;
    for (uint32_t i = 0; i < h->n; i++) {
        hthread *t = &h->t[i];
        uint32_t a = (uint32_t)((uint64_t)o->count * i / h->n),
                 b = (uint32_t)((uint64_t)o->count * (i + 1) / h->n);
        t->h = h;
        t->first = o->first + a;
        t->count = b - a;
        t->s = calloc(t->count ? t->count : 1, sizeof *t->s);
        for (uint32_t k = 0; t->s && k < t->count; k++)
            t->s[k].fd = -1;
        int err = t->s ? pthread_create(&t->tid, NULL, holder, t) : ENOMEM;
        if (err) {
            snprintf(t->err, sizeof t->err, "cannot start a holder thread: %s", strerror(err));
            atomic_store(&t->failed, t->count);
            t->done_ns = mono_ns();
            atomic_store(&t->done, 1);
            t->count = 0; /* marks it as not started */
        } else {
            started++;
        }
    }
    if (!started) {
        arg_error("load: %s", h->t[0].err);
        for (uint32_t i = 0; i < h->n; i++)
            free(h->t[i].s);
        free(h->t);
        free(h);
        return NULL;
    }
    return h;
}

int hold_logins_done(holders *h)
{
    for (uint32_t i = 0; i < h->n; i++)
        if (!atomic_load(&h->t[i].done))
            return 0;
    return 1;
}

void hold_get(holders *h, hold_stats *st)
{
    memset(st, 0, sizeof *st);
    st->threads = h->n;
    int64_t last = h->t0;
    int all = 1;
    for (uint32_t i = 0; i < h->n; i++) {
        hthread *t = &h->t[i];
        st->logged_in += atomic_load(&t->logged_in);
        st->failed += atomic_load(&t->failed);
        st->disconnects += atomic_load(&t->disconnects);
        if (!atomic_load(&t->done)) { /* err and done_ns are the thread's until then */
            all = 0;
            continue;
        }
        if (t->done_ns > last)
            last = t->done_ns;
        if (t->err[0] && !st->first_error[0])
            snprintf(st->first_error, sizeof st->first_error, "%s", t->err);
    }
    st->login_seconds = (double)((all ? last : mono_ns()) - h->t0) / 1e9;
}

void hold_stop(holders *h, hold_stats *st)
{
    atomic_store(&h->stop, 1);
    for (uint32_t i = 0; i < h->n; i++)
        if (h->t[i].count)
            pthread_join(h->t[i].tid, NULL);
    hold_get(h, st);
    for (uint32_t i = 0; i < h->n; i++)
        free(h->t[i].s);
    free(h->t);
    free(h);
}
