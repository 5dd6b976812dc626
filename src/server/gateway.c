/*
 * gateway.c - the gateway thread: one epoll loop over the order-entry
 * listener, its connections, the admin socket and the rings.
 *
 * Each turn of the loop: take password-check results, take engine output
 * (up to the durable seq: a message whose command is not yet durable stays
 * at the head of its ring until journal_notify_fd says it is), read the
 * sockets that are readable, then write every connection that got output
 * in this turn once.  Reads go to one scratch buffer; a connection keeps
 * only an incomplete packet between reads, and an output buffer only while
 * it has something to write, so an idle session costs a few hundred bytes.
 *
 * A connection that lets more than max_output bytes pile up (it does not
 * read) is dropped rather than buffered: one slow client never holds up the
 * others or the engine.
 */
#include "server/gateway.h"
#include "journal/journal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { SCRATCH = 1 << 16, ADMIN_LINE = 1024, ADMIN_MAX_OUTPUT = 64 << 20, TICK_MS = 50 };
/* epoll data tags for the non-connection descriptors */
#define TAG_LISTEN (UINT64_MAX - 1)
#define TAG_ADMIN (UINT64_MAX - 2)
#define TAG_WAKE (UINT64_MAX - 3)
#define TAG_DURABLE (UINT64_MAX - 4)
#define TAG_HANDOFF (UINT64_MAX - 5)

void gw_log_conn(gateway *g, const conn *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct in_addr a = {.s_addr = c->ip};
    if (c->state == C_ADMIN)
        srv_log("admin connection %u: %s", (unsigned)(c - g->conns), msg);
    else
        srv_log("session %u (%s@%s): %s", (unsigned)(c - g->conns), c->name[0] ? c->name : "-", inet_ntoa(a),
                msg);
}

/* --- output ------------------------------------------------------------ */

void conn_put(gateway *g, conn *c, const void *bytes, size_t n)
{
    if (c->state == C_FREE || c->overflow)
        return;
    uint32_t max = c->state == C_ADMIN ? ADMIN_MAX_OUTPUT : g->cfg->max_output;
    if (c->out_len - c->out_off + n > max) {
        c->overflow = 1;
    } else {
        if (c->out_len + n > c->out_cap) {
            if (c->out_off) {
                memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
                c->out_len -= c->out_off;
                c->out_off = 0;
            }
            if (c->out_len + n > c->out_cap) {
                uint32_t cap = c->out_cap ? c->out_cap : 256; /* most output is a few reports */
                while (cap < c->out_len + n)
                    cap *= 2;
                uint8_t *p = realloc(c->out, cap);
                if (!p) {
                    c->overflow = 1;
                    goto dirty;
                }
                c->out = p;
                c->out_cap = cap;
            }
        }
        memcpy(c->out + c->out_len, bytes, n);
        c->out_len += (uint32_t)n;
    }
dirty:
    if (!c->dirty) {
        c->dirty = 1;
        g->dirty[g->ndirty++] = (uint32_t)(c - g->conns);
    }
}

void conn_interest(gateway *g, conn *c, int read)
{
    uint32_t ev = (read ? EPOLLIN : 0) | (c->polling_out ? EPOLLOUT : 0) | EPOLLRDHUP;
    struct epoll_event e = {.events = ev, .data.u64 = (uint64_t)(c - g->conns)};
    c->reading = (uint8_t)read;
    epoll_ctl(g->ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void flush(gateway *g, conn *c)
{
    if (c->overflow) {
        conn_close(g, c, "output queue full (the client does not read)");
        return;
    }
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n > 0) {
            c->out_off += (uint32_t)n;
            c->last_send_ns = g->now;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->polling_out) {
                c->polling_out = 1;
                conn_interest(g, c, c->reading);
            }
            return;
        }
        conn_close(g, c, n < 0 ? strerror(errno) : "write failed");
        return;
    }
    c->out_off = c->out_len = 0;
    if (c->out_cap > 65536) {
        free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
    if (c->polling_out) {
        c->polling_out = 0;
        conn_interest(g, c, c->reading);
    }
    if (c->closing)
        conn_close(g, c, NULL);
}

static void flush_dirty(gateway *g)
{
    for (uint32_t i = 0; i < g->ndirty; i++) {
        conn *c = &g->conns[g->dirty[i]];
        c->dirty = 0;
        if (c->state != C_FREE)
            flush(g, c);
    }
    g->ndirty = 0;
}

static void conn_free(gateway *g, conn *c)
{
    free(c->part);
    free(c->held);
    free(c->out);
    uint32_t gen = c->gen + 1;
    *c = (conn){.fd = -1, .gen = gen, .unext = NO_CONN, .uprev = NO_CONN};
    g->free_list[g->nfree++] = (uint32_t)(c - g->conns);
}

void conn_close(gateway *g, conn *c, const char *why)
{
    if (c->state == C_FREE)
        return;
    if (why)
        gw_log_conn(g, c, "closed: %s", why);
    if (c->state == C_LIVE)
        stream_detach(g, c);
    if (c->state != C_ADMIN) {
        session_check_over(g, c);
        gw_ip_closed(g, c->ip);
        atomic_fetch_sub(&g->s->sessions, 1);
    }
    close(c->fd);
    conn_free(g, c);
}

void conn_release(gateway *g, conn *c)
{
    /* Out of this epoll first: the socket itself stays open in the other
     * gateway's table, and epoll forgets a descriptor only when its file
     * is closed everywhere. */
    epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    conn_free(g, c);
}

conn *conn_new(gateway *g, int fd, int state, uint32_t ip)
{
    if (!g->nfree)
        return NULL;
    conn *c = &g->conns[g->free_list[--g->nfree]];
    c->fd = fd;
    c->state = (uint8_t)state;
    c->ip = ip;
    c->opened_ns = c->last_recv_ns = c->last_send_ns = g->now;
    c->part = malloc(state == C_ADMIN ? ADMIN_LINE : g->cfg->max_frame + 2);
    c->reading = state != C_RESOLVE;
    uint32_t ev = (c->reading ? EPOLLIN : 0) | EPOLLRDHUP;
    struct epoll_event e = {.events = ev, .data.u64 = (uint64_t)(c - g->conns)};
    if (!c->part || epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &e) != 0) {
        free(c->part);
        c->part = NULL;
        c->state = C_FREE;
        g->free_list[g->nfree++] = (uint32_t)(c - g->conns);
        return NULL;
    }
    return c;
}

/* --- input -------------------------------------------------------------- */

/* Move what the engine has written off its rings, to be handled later. */
static void spill(gateway *g)
{
    srv *s = g->s;
    for (;;) {
        if (g->spill_out_n == g->spill_out_cap) {
            uint32_t cap = g->spill_out_cap ? g->spill_out_cap * 2 : 4096;
            srv_out *p = realloc(g->spill_out, cap * sizeof *p);
            if (!p)
                break;
            g->spill_out = p;
            g->spill_out_cap = cap;
        }
        if (!ck_ring_dequeue_spsc_srv_out(&g->gate->out.ring, g->gate->out.buf,
                                          &g->spill_out[g->spill_out_n]))
            break;
        g->spill_out_n++;
    }
    while (g->idx == 0) {
        if (g->spill_text_n == g->spill_text_cap) {
            uint32_t cap = g->spill_text_cap ? g->spill_text_cap * 2 : 256;
            srv_text *p = realloc(g->spill_text, cap * sizeof *p);
            if (!p)
                break;
            g->spill_text = p;
            g->spill_text_cap = cap;
        }
        if (!ck_ring_dequeue_spsc_srv_text(&s->text.ring, s->text.buf, &g->spill_text[g->spill_text_n]))
            break;
        g->spill_text_n++;
    }
}

void gw_push_in(gateway *g, const srv_in *m)
{
    srv *s = g->s;
    srv_gate *gate = g->gate;
    srv_in *slot;
    while (!(slot = ck_ring_enqueue_reserve_spsc_srv_in(&gate->in.ring, gate->in.buf))) {
        /* The engine is behind: let it see what we pushed, and take its
         * output meanwhile, since it may be waiting for room there. */
        srv_wake_engine(s);
        g->pushed = 0;
        spill(g);
        sched_yield();
    }
    *slot = *m;
    slot->gate = (uint8_t)g->idx;
    ck_ring_enqueue_commit_spsc(&gate->in.ring);
    g->pushed++;
}

/* Out of descriptors or memory: the pending connection stays in the
 * backlog and the listener stays readable, so retrying at once would spin
 * (and log) without end.  Stop listening for a tick, then try again. */
static void pause_accepting(gateway *g, int err)
{
    if (g->accept_paused)
        return;
    g->accept_paused = 1;
    epoll_ctl(g->ep, EPOLL_CTL_DEL, g->s->listen_fd, NULL);
    if (g->now - g->accept_logged_ns >= 1000000000) {
        g->accept_logged_ns = g->now;
        srv_log("accept: %s; not accepting for %d ms", strerror(err), TICK_MS);
    }
}

static int add_fd(gateway *g, int fd, uint64_t tag);

static void resume_accepting(gateway *g)
{
    if (g->accept_paused && !atomic_load(&g->s->stop) && add_fd(g, g->s->listen_fd, TAG_LISTEN) == 0)
        g->accept_paused = 0;
}

static void accept_orders(gateway *g)
{
    for (int i = 0; i < 256; i++) {
        struct sockaddr_in a;
        socklen_t al = sizeof a;
        int fd = accept4(g->s->listen_fd, (struct sockaddr *)&a, &al, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accepting(g, errno);
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                srv_log("accept: %s", strerror(errno));
            return;
        }
        uint32_t ip = a.sin_family == AF_INET ? a.sin_addr.s_addr : 1;
        uint32_t *count = gw_ip_count(g, ip);
        int full = g->nfree <= 16 || atomic_load(&g->s->sessions) >= g->cfg->max_sessions;
        if (*count >= g->cfg->sessions_per_ip || full) {
            if (g->rejects_logged++ < 100 || g->rejects_logged % 10000 == 0)
                srv_log("refused a connection from %s: %s", inet_ntoa(a.sin_addr),
                        full ? "no free session slot" : "too many connections from it");
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (g->cfg->sndbuf) {
            int sz = (int)g->cfg->sndbuf;
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        }
        if (!conn_new(g, fd, C_LOGIN, ip)) {
            close(fd);
            continue;
        }
        (*count)++;
        atomic_fetch_add(&g->s->sessions, 1);
    }
}

static void accept_admin(gateway *g)
{
    for (;;) {
        int fd = accept4(g->s->admin_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (!conn_new(g, fd, C_ADMIN, 0))
            close(fd);
    }
}

/* Admin connections send replay-format lines; each gets its events, then ".". */
static void admin_input(gateway *g, conn *c, const uint8_t *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        const uint8_t *nl = memchr(buf + off, '\n', n - off);
        if (!nl)
            break;
        size_t len = (size_t)(nl - (buf + off));
        bourse_cmd cmd;
        char err[160];
        int r = bourse_text_parse((const char *)buf + off, len, &cmd, err, sizeof err);
        off += len + 1;
        if (r == BOURSE_TEXT_CMD) {
            srv_in m = {.kind = IN_ADMIN, .conn = (uint32_t)(c - g->conns), .gen = c->gen, .cmd = cmd};
            gw_push_in(g, &m);
        } else if (r == BOURSE_TEXT_BAD) {
            char line[200];
            int k = snprintf(line, sizeof line, "! %s\n.\n", err);
            conn_put(g, c, line, (size_t)k);
        } else {
            conn_put(g, c, ".\n", 2);
        }
    }
    if (n - off >= ADMIN_LINE) {
        conn_close(g, c, "admin line too long");
        return;
    }
    c->part_len = (uint32_t)(n - off);
    memcpy(c->part, buf + off, n - off);
}

static void conn_readable(gateway *g, conn *c)
{
    if (!c->reading)
        return;
    uint8_t *b = g->scratch;
    memcpy(b, c->part, c->part_len);
    ssize_t n = read(c->fd, b + c->part_len, SCRATCH - c->part_len);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        conn_close(g, c, n == 0 ? (c->state == C_ADMIN ? NULL : "disconnected") : strerror(errno));
        return;
    }
    size_t total = c->part_len + (size_t)n;
    c->part_len = 0;
    if (c->state == C_ADMIN)
        admin_input(g, c, b, total);
    else
        session_input(g, c, b, total);
}

/* --- engine output ------------------------------------------------------ */

static int next_out(gateway *g, srv_out *o)
{
    if (g->spill_out_at < g->spill_out_n) {
        *o = g->spill_out[g->spill_out_at++];
        if (g->spill_out_at == g->spill_out_n)
            g->spill_out_at = g->spill_out_n = 0;
        return 1;
    }
    return ck_ring_dequeue_spsc_srv_out(&g->gate->out.ring, g->gate->out.buf, o);
}

static int next_text(gateway *g, srv_text *t)
{
    if (g->spill_text_at < g->spill_text_n) {
        *t = g->spill_text[g->spill_text_at++];
        if (g->spill_text_at == g->spill_text_n)
            g->spill_text_at = g->spill_text_n = 0;
        return 1;
    }
    return g->idx == 0 && ck_ring_dequeue_spsc_srv_text(&g->s->text.ring, g->s->text.buf, t);
}

static void drain(gateway *g)
{
    srv *s = g->s;
    uint64_t durable = srv_durable_seq(s);
    srv_auth a;
    if (g->idx == 0) {
        while (ck_ring_dequeue_spsc_srv_auth(&s->auth_res.ring, s->auth_res.buf, &a))
            session_auth_done(g, &a);
        handoff_closed_drain(g);
    }
    for (int n = 0; n < 65536; n++) {
        if (!g->has_held_out) {
            if (!next_out(g, &g->held_out))
                break;
            g->has_held_out = 1;
        }
        if (g->held_out.seq > durable && g->held_out.seq > (durable = srv_durable_seq(s)))
            break;
        g->has_held_out = 0;
        if (g->held_out.kind == OUT_LOGIN)
            session_login_done(g, &g->held_out);
        else
            session_deliver(g, &g->held_out);
    }
    for (;;) {
        if (!g->has_held_text) {
            if (!next_text(g, &g->held_text))
                break;
            g->has_held_text = 1;
        }
        srv_text *t = &g->held_text;
        if (t->seq > durable && t->seq > (durable = srv_durable_seq(s)))
            break;
        g->has_held_text = 0;
        conn *c = &g->conns[t->conn];
        if (c->gen != t->gen || c->state != C_ADMIN)
            continue;
        if (t->done)
            conn_put(g, c, ".\n", 2);
        else
            conn_put(g, c, t->line, t->len);
    }
}

static int work_waiting(gateway *g)
{
    srv *s = g->s;
    srv_gate *gate = g->gate;
    if (g->idx == 0 &&
        (ck_ring_size(&s->auth_res.ring) || ck_ring_size(&s->text.ring) > (unsigned)g->has_held_text))
        return 1;
    if ((ck_ring_size(&gate->out.ring) || g->spill_out_n || g->spill_text_n) && !g->has_held_out)
        return 1;
    uint64_t d = srv_durable_seq(s);
    return (g->has_held_out && g->held_out.seq <= d) || (g->has_held_text && g->held_text.seq <= d);
}

/* --- the loop ----------------------------------------------------------- */

/* Timeouts and heartbeats.  Each tick visits one fifth of the connections,
 * so each is visited every 5 ticks, and the heartbeats of many idle sessions
 * go out in small batches instead of one burst. */
static void tick(gateway *g)
{
    resume_accepting(g);
    uint32_t part = g->tick_part++ % 5, from = (uint32_t)((uint64_t)g->nconns * part / 5),
             to = (uint32_t)((uint64_t)g->nconns * (part + 1) / 5);
    for (uint32_t i = from; i < to; i++) {
        conn *c = &g->conns[i];
        if (c->state == C_FREE)
            continue;
        if (c->closing && g->now - c->last_send_ns > 2000000000LL) {
            conn_close(g, c, "did not read its last messages");
            continue;
        }
        session_tick(g, c);
        if (c->state != C_FREE && c->out && c->out_off == c->out_len &&
            g->now - c->last_send_ns > 1000000000LL) {
            free(c->out);
            c->out = NULL;
            c->out_cap = c->out_off = c->out_len = 0;
        }
    }
}

static void finish(gateway *g)
{
    /* Everything the engine produced is durable: deliver it, say the session
     * is over, and give clients a moment to read it. */
    drain(g);
    uint8_t z[4];
    size_t zn = soup_empty(z, SOUP_END_OF_SESSION);
    for (uint32_t i = 0; i < g->nconns; i++) {
        conn *c = &g->conns[i];
        if (c->state == C_LIVE)
            conn_put(g, c, z, zn);
        if (c->state != C_FREE)
            c->closing = 1;
    }
    for (int round = 0; round < 200; round++) {
        g->now = srv_now_ns();
        flush_dirty(g);
        int left = 0;
        for (uint32_t i = 0; i < g->nconns; i++) {
            conn *c = &g->conns[i];
            if (c->state == C_FREE)
                continue;
            if (c->out_off < c->out_len) {
                left++;
                if (!c->dirty) {
                    c->dirty = 1;
                    g->dirty[g->ndirty++] = i;
                }
            } else {
                conn_close(g, c, NULL);
            }
        }
        if (!left)
            break;
        usleep(10000);
    }
    for (uint32_t i = 0; i < g->nconns; i++)
        if (g->conns[i].state != C_FREE)
            conn_close(g, &g->conns[i], "server stopped");
}

static void handle_events(gateway *g, struct epoll_event *evs, int n)
{
    srv *s = g->s;
    for (int i = 0; i < n; i++) {
        uint64_t tag = evs[i].data.u64;
        if (tag == TAG_LISTEN) {
            accept_orders(g);
        } else if (tag == TAG_ADMIN) {
            accept_admin(g);
        } else if (tag == TAG_HANDOFF) {
            handoff_receive(g);
        } else if (tag == TAG_WAKE || tag == TAG_DURABLE) {
            /* edge-triggered (see add_fd): nothing to read */
        } else {
            conn *c = &g->conns[tag];
            if (c->state == C_FREE)
                continue;
            if (evs[i].events & EPOLLOUT)
                flush(g, c);
            if (c->state != C_FREE && (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
                conn_readable(g, c);
            /* not reading (its login is being checked): a hang-up would be
             * reported again and again, so end it now */
            if (c->state != C_FREE && !c->reading && (evs[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
                conn_close(g, c, "disconnected");
        }
    }
    if (g->pushed) {
        g->pushed = 0;
        srv_wake_engine(s);
    }
}

/* Stop taking input: the engine finishes what it has. */
static void stop_input(gateway *g)
{
    srv *s = g->s;
    if (g->idx == 0) {
        epoll_ctl(g->ep, EPOLL_CTL_DEL, s->listen_fd, NULL);
        epoll_ctl(g->ep, EPOLL_CTL_DEL, s->admin_fd, NULL);
    } else {
        epoll_ctl(g->ep, EPOLL_CTL_DEL, g->gate->handoff[1], NULL);
    }
    for (uint32_t i = 0; i < g->nconns; i++)
        if (g->conns[i].state != C_FREE && g->conns[i].reading)
            conn_interest(g, &g->conns[i], 0);
    atomic_store(&g->gate->input_done, 1);
    srv_wake_engine(s);
}

static int all_out(gateway *g)
{
    return atomic_load(&g->s->engine_done) && !ck_ring_size(&g->gate->out.ring) &&
           (g->idx || !ck_ring_size(&g->s->text.ring)) && !g->has_held_out && !g->has_held_text &&
           !g->spill_out_n && !g->spill_text_n;
}

void *srv_gateway_main(void *arg)
{
    srv_gate *gate = arg;
    srv *s = gate->s;
    gateway *g = gate->gw;
    struct epoll_event evs[256];
    int64_t next_tick = srv_now_ns();
    int input_open = 1;
    handoff_own_table(g);
    for (;;) {
        g->now = srv_now_ns();
        drain(g);
        /* handoffs, and addresses of closed sessions, waiting for room */
        int waiting = g->idx ? handoff_closed_flush(g) : handoff_retry(g);
        if (input_open && atomic_load(&s->stop)) {
            input_open = 0;
            stop_input(g);
        }
        if (!input_open && all_out(g)) {
            finish(g);
            handoff_closed_flush(g);
            return NULL;
        }
        if (g->now >= next_tick) {
            tick(g);
            next_tick = g->now + TICK_MS * 1000000LL;
        }
        flush_dirty(g);
        int timeout = waiting ? 1 : (int)((next_tick - g->now) / 1000000) + 1;
        /* Poll a little before sleeping (see engine_thread.c). */
        if (g->cfg->spin_us && input_open && !work_waiting(g)) {
            int64_t until = g->now + (int64_t)g->cfg->spin_us * 1000;
            int n = 0;
            while (!work_waiting(g) && (n = epoll_wait(g->ep, evs, 256, 0)) == 0 && srv_now_ns() < until)
                __builtin_ia32_pause();
            if (n > 0) {
                g->now = srv_now_ns();
                handle_events(g, evs, n);
                continue;
            }
        }
        atomic_store(&gate->sleeping, 1);
        atomic_thread_fence(memory_order_seq_cst);
        if (work_waiting(g) || !input_open)
            timeout = input_open ? 0 : 5;
        int n = epoll_wait(g->ep, evs, 256, timeout);
        atomic_store(&gate->sleeping, 0);
        g->now = srv_now_ns();
        handle_events(g, evs, n);
    }
}

/* The two eventfds that only wake the loop are edge-triggered: every write
 * to an eventfd is a new edge, so they never need reading, which saves a
 * system call per wake-up (the counter would take 2^64 writes to fill). */
static int add_fd(gateway *g, int fd, uint64_t tag)
{
    uint32_t et = tag == TAG_WAKE || tag == TAG_DURABLE ? EPOLLET : 0;
    struct epoll_event e = {.events = EPOLLIN | et, .data.u64 = tag};
    return epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &e);
}

static int add_fds(gateway *g)
{
    srv *s = g->s;
    if (g->idx == 0 ? add_fd(g, s->listen_fd, TAG_LISTEN) || add_fd(g, s->admin_fd, TAG_ADMIN)
                    : add_fd(g, g->gate->handoff[1], TAG_HANDOFF))
        return -1;
    return add_fd(g, g->gate->wake_fd, TAG_WAKE) ||
           (s->journal && add_fd(g, journal_notify_fd(s->journal), TAG_DURABLE));
}

int gateway_new(srv_gate *gate)
{
    gateway *g = calloc(1, sizeof *g);
    if (!g)
        return -1;
    srv *s = gate->s;
    gate->gw = g;
    g->s = s;
    g->gate = gate;
    g->idx = gate->idx;
    g->cfg = s->cfg;
    g->ep = -1;
    g->nconns = gate->capacity;
    g->conns = calloc(g->nconns, sizeof *g->conns);
    g->free_list = malloc(g->nconns * sizeof *g->free_list);
    g->dirty = malloc(g->nconns * sizeof *g->dirty);
    g->handing = malloc(g->nconns * sizeof *g->handing);
    g->scratch = malloc(SCRATCH + ADMIN_LINE + 65536 + 2);
    /* gateway 0 counts every order-entry connection per address */
    g->ip_cap = 1024;
    while (g->idx == 0 && g->ip_cap < 2 * ((uint64_t)s->cfg->max_sessions + 64))
        g->ip_cap *= 2;
    g->ip_key = calloc(g->ip_cap, sizeof *g->ip_key);
    g->ip_count = calloc(g->ip_cap, sizeof *g->ip_count);
    g->ip_checking = calloc(g->ip_cap, sizeof *g->ip_checking);
    g->parked_head = g->parked_tail = NO_CONN;
    g->ep = epoll_create1(EPOLL_CLOEXEC);
    if (!g->conns || !g->free_list || !g->dirty || !g->handing || !g->scratch || !g->ip_key || !g->ip_count ||
        !g->ip_checking || g->ep < 0)
        return -1;
    for (uint32_t i = 0; i < g->nconns; i++) {
        g->conns[i] = (conn){.fd = -1, .unext = NO_CONN, .uprev = NO_CONN};
        g->free_list[i] = g->nconns - 1 - i;
    }
    g->nfree = g->nconns;
    return add_fds(g);
}

/* Memory only: the sockets were in the gateway's own descriptor table,
 * which went with its thread (finish() closed them before that). */
void gateway_free(srv_gate *gate)
{
    gateway *g = gate->gw;
    if (!g)
        return;
    for (uint32_t i = 0; g->conns && i < g->nconns; i++) {
        conn *c = &g->conns[i];
        free(c->part);
        free(c->held);
        free(c->out);
        free(c->login);
    }
    stream_free_all(g);
    free(g->spill_out);
    free(g->spill_text);
    free(g->conns);
    free(g->free_list);
    free(g->dirty);
    free(g->handing);
    free(g->closed_spill);
    free(g->scratch);
    free(g->ip_key);
    free(g->ip_count);
    free(g->ip_checking);
    if (g->ep >= 0)
        close(g->ep);
    free(g);
    gate->gw = NULL;
}
