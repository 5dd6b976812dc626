/*
 * linkcarrier.c - one thread that owns every socket of the HTTP API's
 * links into the gateway (oelink.c), in a descriptor table of its own.
 *
 * Why: the descriptor table.  A logged-in HTTP user with a private
 * WebSocket holds two descriptors: the WebSocket, which libwebsockets owns
 * on the HTTP thread, and the user's link, a SoupBinTCP/OUCH session into
 * the gateway's trusted unix socket.  The kernel checks the open-file limit
 * (RLIMIT_NOFILE) against the table a descriptor goes into, and where the
 * hard limit cannot be raised (20,000 in this sandbox and in some
 * containers, EPERM even for root) one table with both halves stops at
 * 10,000 users less what else the process holds.  A thread that calls
 * unshare(CLONE_FILES) gets a private copy of the table with a limit of its
 * own, as the gateways (src/server/handoff.c) and `bourse load`'s holders
 * (src/load/hold.c) do, so the links move here and the HTTP thread's table
 * keeps only the users' WebSockets and HTTP connections.
 *
 * A descriptor number means nothing outside its table, so the two threads
 * never pass one: the HTTP thread names a link by an id (slot and
 * generation) and talks to the carrier through two queues in memory, each
 * a byte buffer of records under a mutex that the reader swaps for an
 * empty one and works through outside the lock (so a wake drains
 * everything queued since the last).  Each queue has an eventfd made
 * before the thread starts, so its number is the same in both tables and
 * either thread can write it: the writer signals when it put the first
 * record into an empty queue.  The carrier's epoll waits on its queue's
 * eventfd and the links' sockets; the HTTP thread has a copy of the other
 * eventfd adopted into libwebsockets as a raw file (oelink.c drains when
 * it turns readable).  lws_cancel_service() cannot be the wake-up: it
 * writes to libwebsockets' own pipe by its number in the HTTP thread's
 * table, which in the carrier's table is some other descriptor or none.
 *
 * HTTP thread to carrier: open link id (connect to the gateway's socket),
 * send bytes on id, close id.  Carrier to HTTP thread: bytes read on id,
 * id ended (the gateway closed it, the connect failed, a read or write
 * failed, or it was too slow).  A link's bytes come before its end, in
 * the queue's order.  The HTTP thread only reuses a slot once the link in
 * it ended (a "closed" came, or it asked for the close before the new
 * open, which the carrier sees first); records of an old generation are
 * dropped on either side.
 *
 * Back-pressure.  Out: what a link cannot send at once waits in the link's
 * buffer; past out_max bytes (the gateway not reading) the link is closed
 * as slow, as the gateway cuts a client that does not read.  In: while
 * more than up_max bytes wait for the HTTP thread, the carrier reads no
 * socket (the kernel's buffers and then the gateway's own slow-reader rule
 * hold the rest) and looks again every 10 ms or when the HTTP thread sends.
 *
 * Under ThreadSanitizer the carrier shares the process's table, as the
 * gateways do (util/sanitizer.h); everything else runs the same.
 */
#include "http/linkcarrier.h"

#include "util/sanitizer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { R_OPEN = 1, R_SEND, R_CLOSE, R_RX, R_CLOSED };
enum { READ_CHUNK = 65536, READS_PER_TURN = 4, EVENTS = 256 };
#define WAKE_ID UINT64_MAX

typedef struct rec {
    uint8_t type, why;
    uint16_t pad;
    uint32_t len;
    uint64_t id;
} rec;

typedef struct lcq {
    pthread_mutex_t mu;
    uint8_t *buf;
    size_t len, cap;
    int fd;         /* eventfd: written when the first record goes into an empty queue */
    uint8_t *spare; /* the reader's: swapped with buf to drain */
    size_t spare_cap;
} lcq;

typedef struct clink {
    uint64_t id;
    int fd; /* -1: the slot is free */
    int want_out;
    uint8_t *out;
    size_t off, len, cap;
} clink;

struct link_carrier {
    lc_config cfg;
    char path[108];
    pthread_t tid;
    lcq down, up; /* down: HTTP thread to carrier; up: carrier to HTTP thread */
    atomic_int stop;
    pthread_mutex_t start_mu;
    pthread_cond_t start_cv;
    int started; /* 1 running, -1 failed */
    int own;     /* the carrier has a table of its own */
    /* the carrier thread's own */
    int ep;
    clink *links;
    uint8_t *scratch;
};

static size_t pad8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static void logf_(link_carrier *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(link_carrier *c, const char *fmt, ...)
{
    if (!c->cfg.log)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->cfg.log(c->cfg.log_ctx, line);
}

/* ---- the queues ------------------------------------------------------------------ */

static int q_init(lcq *q)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    q->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return q->fd < 0 ? -1 : 0;
}

static void q_free(lcq *q)
{
    if (q->fd >= 0)
        close(q->fd);
    pthread_mutex_destroy(&q->mu);
    free(q->buf);
    free(q->spare);
}

/* *buf (capacity *cap) made to hold need bytes, doubling from first: 0, or
 * -1 out of memory (the buffer as it was). */
static int grow(uint8_t **buf, size_t *cap, size_t need, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : first;
    while (c < need)
        c *= 2;
    uint8_t *b = realloc(*buf, c);
    if (!b)
        return -1;
    *buf = b;
    *cap = c;
    return 0;
}

static int q_push(lcq *q, uint8_t type, uint8_t why, uint64_t id, const void *p, size_t n)
{
    if (n > UINT32_MAX)
        return -1;
    size_t need = sizeof(rec) + pad8(n);
    pthread_mutex_lock(&q->mu);
    if (grow(&q->buf, &q->cap, q->len + need, 65536) != 0) {
        pthread_mutex_unlock(&q->mu);
        return -1;
    }
    int was_empty = q->len == 0;
    rec r = {.type = type, .why = why, .len = (uint32_t)n, .id = id};
    memcpy(q->buf + q->len, &r, sizeof r);
    if (n)
        memcpy(q->buf + q->len + sizeof r, p, n);
    q->len += need;
    pthread_mutex_unlock(&q->mu);
    if (was_empty) {
        uint64_t one = 1;
        ssize_t w = write(q->fd, &one, sizeof one); /* EAGAIN: the counter is already high */
        (void)w;
    }
    return 0;
}

/* The reader takes everything queued: *len bytes of records in the returned
 * buffer, which stays the reader's until its next take. */
static uint8_t *q_take(lcq *q, size_t *len)
{
    pthread_mutex_lock(&q->mu);
    uint8_t *b = q->buf;
    size_t cap = q->cap;
    *len = q->len;
    q->buf = q->spare;
    q->cap = q->spare_cap;
    q->len = 0;
    q->spare = b;
    q->spare_cap = cap;
    pthread_mutex_unlock(&q->mu);
    return b;
}

static size_t q_len(lcq *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->len;
    pthread_mutex_unlock(&q->mu);
    return n;
}

static void clear_wake(int fd)
{
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof v);
    (void)r;
}

/* ---- the HTTP thread's side ---------------------------------------------------------- */

int lc_open(link_carrier *c, uint64_t id)
{
    return q_push(&c->down, R_OPEN, 0, id, NULL, 0);
}

int lc_send(link_carrier *c, uint64_t id, const void *p, size_t n)
{
    return q_push(&c->down, R_SEND, 0, id, p, n);
}

int lc_close(link_carrier *c, uint64_t id)
{
    return q_push(&c->down, R_CLOSE, 0, id, NULL, 0);
}

void lc_drain(link_carrier *c, lc_rx_fn rx, lc_closed_fn closed, void *ctx)
{
    size_t n;
    uint8_t *b = q_take(&c->up, &n);
    for (size_t at = 0; at < n;) {
        rec r;
        memcpy(&r, b + at, sizeof r);
        const uint8_t *p = b + at + sizeof r;
        if (r.type == R_RX)
            rx(ctx, r.id, p, r.len);
        else if (r.type == R_CLOSED) {
            char detail[128];
            size_t k = r.len < sizeof detail - 1 ? r.len : sizeof detail - 1;
            memcpy(detail, p, k);
            detail[k] = 0;
            closed(ctx, r.id, r.why, detail);
        }
        at += sizeof r + pad8(r.len);
    }
}

/* ---- the carrier's links ------------------------------------------------------------- */

static clink *link_of(link_carrier *c, uint64_t id)
{
    uint32_t slot = (uint32_t)id;
    if (slot >= c->cfg.slots)
        return NULL;
    clink *k = &c->links[slot];
    return k->fd >= 0 && k->id == id ? k : NULL;
}

static void drop(clink *k)
{
    close(k->fd); /* leaves the epoll set with it */
    k->fd = -1;
    free(k->out);
    k->out = NULL;
    k->off = k->len = k->cap = 0;
    k->want_out = 0;
}

/* The link ends on the carrier's side: the HTTP thread hears why. */
static void end(link_carrier *c, clink *k, int why, const char *detail)
{
    uint64_t id = k->id;
    drop(k);
    q_push(&c->up, R_CLOSED, (uint8_t)why, id, detail, strlen(detail));
}

static void want_out(link_carrier *c, clink *k, int on)
{
    if (k->want_out == on)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u64 = k->id};
    epoll_ctl(c->ep, EPOLL_CTL_MOD, k->fd, &ev);
    k->want_out = on;
}

static void do_open(link_carrier *c, uint64_t id)
{
    uint32_t slot = (uint32_t)id;
    if (slot >= c->cfg.slots)
        return;
    clink *k = &c->links[slot];
    if (k->fd >= 0) /* cannot happen (see the top): the old one goes */
        drop(k);
    k->id = id;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", c->path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS)) {
        char why[128];
        snprintf(why, sizeof why, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        q_push(&c->up, R_CLOSED, LC_UNREACHABLE, id, why, strlen(why));
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = id};
    if (epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        char why[128];
        snprintf(why, sizeof why, "epoll: %s", strerror(errno));
        close(fd);
        q_push(&c->up, R_CLOSED, LC_UNREACHABLE, id, why, strlen(why));
        return;
    }
    k->fd = fd;
}

/* Write what waits; 0, or -1 when the link ended. */
static int flush(link_carrier *c, clink *k)
{
    while (k->off < k->len) {
        ssize_t w = send(k->fd, k->out + k->off, k->len - k->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            k->off += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            want_out(c, k, 1);
            return 0;
        }
        if (w < 0 && errno == EINTR)
            continue;
        end(c, k, LC_BROKEN, w < 0 ? strerror(errno) : "write returned 0");
        return -1;
    }
    k->off = k->len = 0;
    want_out(c, k, 0);
    return 0;
}

static void do_send(link_carrier *c, uint64_t id, const uint8_t *p, size_t n)
{
    clink *k = link_of(c, id);
    if (!k)
        return; /* it ended; its "closed" is on its way to the HTTP thread */
    if (k->len - k->off + n > c->cfg.out_max) {
        char why[96];
        snprintf(why, sizeof why, "%zu bytes waited to be sent", k->len - k->off + n);
        end(c, k, LC_SLOW, why);
        return;
    }
    if (k->off && k->len + n > k->cap) { /* move what is left to the front */
        memmove(k->out, k->out + k->off, k->len - k->off);
        k->len -= k->off;
        k->off = 0;
    }
    if (grow(&k->out, &k->cap, k->len + n, 4096) != 0) {
        end(c, k, LC_BROKEN, "out of memory");
        return;
    }
    memcpy(k->out + k->len, p, n);
    k->len += n;
    if (!k->want_out) /* else the socket is full: EPOLLOUT will write it */
        flush(c, k);
}

static void do_read(link_carrier *c, clink *k)
{
    for (int i = 0; i < READS_PER_TURN; i++) {
        ssize_t r = read(k->fd, c->scratch, READ_CHUNK);
        if (r > 0) {
            if (q_push(&c->up, R_RX, 0, k->id, c->scratch, (size_t)r) != 0) {
                end(c, k, LC_BROKEN, "out of memory");
                return;
            }
            if (r < READ_CHUNK)
                return;
            continue;
        }
        if (r == 0) {
            end(c, k, LC_PEER, "");
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            end(c, k, LC_BROKEN, strerror(errno));
        return;
    }
}

/* Everything the HTTP thread asked since the last turn. */
static void commands(link_carrier *c)
{
    size_t n;
    uint8_t *b = q_take(&c->down, &n);
    for (size_t at = 0; at < n;) {
        rec r;
        memcpy(&r, b + at, sizeof r);
        const uint8_t *p = b + at + sizeof r;
        switch (r.type) {
        case R_OPEN: do_open(c, r.id); break;
        case R_SEND: do_send(c, r.id, p, r.len); break;
        case R_CLOSE: {
            clink *k = link_of(c, r.id);
            if (k)
                drop(k);
            break;
        }
        }
        at += sizeof r + pad8(r.len);
    }
}

/* ---- the thread ------------------------------------------------------------------------ */

static int cmp_int(const void *a, const void *b)
{
    return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* A private copy of the process's table, emptied of everything but the two
 * queues' eventfds and stdio: a copy of an HTTP client's socket left open
 * here would keep it alive after libwebsockets closed it. */
static void own_table(link_carrier *c)
{
    if (BOURSE_TSAN) { /* see util/sanitizer.h and the top of this file */
        logf_(c, "the links into the gateway share the process's descriptor table (a ThreadSanitizer build)");
        return;
    }
    if (unshare(CLONE_FILES) != 0) {
        logf_(c,
              "the links into the gateway have no descriptor table of their own (%s): they share the "
              "HTTP thread's open-file limit",
              strerror(errno));
        return;
    }
    c->own = 1;
    int keep[2] = {c->down.fd, c->up.fd};
    qsort(keep, 2, sizeof *keep, cmp_int);
    unsigned from = 3;
    for (int i = 0; i < 2; i++) {
        if ((unsigned)keep[i] > from)
            close_range(from, (unsigned)keep[i] - 1, 0);
        from = (unsigned)keep[i] + 1;
    }
    close_range(from, ~0u, 0);
}

static void started(link_carrier *c, int how)
{
    pthread_mutex_lock(&c->start_mu);
    c->started = how;
    pthread_cond_signal(&c->start_cv);
    pthread_mutex_unlock(&c->start_mu);
}

static void *run(void *arg)
{
    link_carrier *c = arg;
    own_table(c);
    c->ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event wake = {.events = EPOLLIN, .data.u64 = WAKE_ID};
    if (c->ep < 0 || epoll_ctl(c->ep, EPOLL_CTL_ADD, c->down.fd, &wake) != 0) {
        logf_(c, "the links' thread cannot wait for its sockets: %s", strerror(errno));
        started(c, -1);
        return NULL;
    }
    started(c, 1);
    struct epoll_event ev[EVENTS];
    while (!atomic_load(&c->stop)) {
        commands(c);
        if (atomic_load(&c->stop))
            break;
        if (q_len(&c->up) > c->cfg.up_max) { /* the HTTP thread is behind: read nothing for now */
            struct pollfd p = {.fd = c->down.fd, .events = POLLIN};
            if (poll(&p, 1, 10) > 0)
                clear_wake(c->down.fd);
            continue;
        }
        int n = epoll_wait(c->ep, ev, EVENTS, 1000);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.u64 == WAKE_ID) {
                clear_wake(c->down.fd);
                continue;
            }
            clink *k = link_of(c, ev[i].data.u64);
            if (k && (ev[i].events & EPOLLOUT) && flush(c, k) != 0)
                continue;
            if (k && (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                do_read(c, k);
        }
    }
    for (uint32_t i = 0; i < c->cfg.slots; i++)
        if (c->links[i].fd >= 0)
            drop(&c->links[i]);
    close(c->ep);
    if (c->own) { /* this table's copies; the HTTP thread closes its own */
        close(c->down.fd);
        close(c->up.fd);
    }
    return NULL;
}

link_carrier *lc_start(const lc_config *cfg, int *wake_fd)
{
    link_carrier *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cfg = *cfg;
    snprintf(c->path, sizeof c->path, "%s", cfg->path ? cfg->path : "");
    c->down.fd = c->up.fd = -1;
    c->links = malloc(cfg->slots * sizeof *c->links);
    c->scratch = malloc(READ_CHUNK);
    int qd = q_init(&c->down), qu = q_init(&c->up);
    *wake_fd = qu == 0 ? fcntl(c->up.fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (!c->links || !c->scratch || qd != 0 || qu != 0 || *wake_fd < 0)
        goto fail;
    for (uint32_t i = 0; i < cfg->slots; i++)
        c->links[i] = (clink){.fd = -1};
    pthread_mutex_init(&c->start_mu, NULL);
    pthread_cond_init(&c->start_cv, NULL);
    if (pthread_create(&c->tid, NULL, run, c) != 0)
        goto fail_sync;
    pthread_setname_np(c->tid, "bourse-links"); /* in top and perf */
    pthread_mutex_lock(&c->start_mu);
    while (!c->started)
        pthread_cond_wait(&c->start_cv, &c->start_mu);
    pthread_mutex_unlock(&c->start_mu);
    if (c->started < 0) {
        pthread_join(c->tid, NULL);
        goto fail_sync;
    }
    return c;
fail_sync:
    pthread_mutex_destroy(&c->start_mu);
    pthread_cond_destroy(&c->start_cv);
fail:
    if (*wake_fd >= 0)
        close(*wake_fd);
    *wake_fd = -1;
    q_free(&c->down);
    q_free(&c->up);
    free(c->links);
    free(c->scratch);
    free(c);
    return NULL;
}

void lc_stop(link_carrier *c)
{
    if (!c)
        return;
    atomic_store(&c->stop, 1);
    uint64_t one = 1;
    ssize_t w = write(c->down.fd, &one, sizeof one);
    (void)w;
    pthread_join(c->tid, NULL);
    pthread_mutex_destroy(&c->start_mu);
    pthread_cond_destroy(&c->start_cv);
    q_free(&c->down);
    q_free(&c->up);
    free(c->links);
    free(c->scratch);
    free(c);
}
