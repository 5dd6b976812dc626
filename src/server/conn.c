/*
 * conn.c - a gateway's connections, whatever protocol they speak: reading,
 * output buffers and backpressure, opening and closing.
 *
 * Reads go to one scratch buffer per gateway, after the incomplete frame
 * the connection kept from its last read; the adapter's on_bytes takes the
 * whole frames and the rest is kept again.  A connection keeps only that
 * incomplete frame between reads, and an output buffer only while it has
 * something to write, so an idle session costs a few hundred bytes.
 *
 * Output is queued by conn_put and written once per turn of the loop
 * (conn_flush_dirty), so the reports of many commands to one client go out
 * in one write.  A connection that lets more than its adapter's output_max
 * bytes pile up (it does not read) is dropped rather than buffered: one slow
 * client never holds up the others or the engine.
 */
#include "server/gateway.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

void gw_log_conn(gateway *g, const conn *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct in_addr a = {.s_addr = c->ip};
    const gw_proto *p = conn_slot(g, c)->p;
    if (!p->logs_in)
        srv_log("%s connection %u: %s", p->name, (unsigned)(c - g->conns), msg);
    else
        srv_log("session %u (%s@%s): %s", (unsigned)(c - g->conns), c->name[0] ? c->name : "-", inet_ntoa(a),
                msg);
}

/* --- output ------------------------------------------------------------ */

void conn_put(gateway *g, conn *c, const void *bytes, size_t n)
{
    if (c->state == C_FREE || c->overflow)
        return;
    if (c->out_len - c->out_off + n > conn_slot(g, c)->out_max) {
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
        if (n) /* n = 0 only marks c to be flushed (a Logout closes it then) */
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

void conn_flush(gateway *g, conn *c)
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

void conn_flush_dirty(gateway *g)
{
    for (uint32_t i = 0; i < g->ndirty; i++) {
        conn *c = &g->conns[g->dirty[i]];
        c->dirty = 0;
        if (c->state != C_FREE)
            conn_flush(g, c);
    }
    g->ndirty = 0;
}

/* --- opening and closing ------------------------------------------------ */

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
    if (c->state == C_LIVE && conn_slot(g, c)->p->on_close)
        conn_slot(g, c)->p->on_close(g, c);
    if (c->state == C_LIVE)
        session_detach(g, c);
    session_check_over(g, c);
    if (c->guarded) {
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

conn *conn_new(gateway *g, int fd, int state, uint32_t proto, uint32_t ip)
{
    if (!g->nfree)
        return NULL;
    conn *c = &g->conns[g->free_list[--g->nfree]];
    c->fd = fd;
    c->state = (uint8_t)state;
    c->proto = (uint8_t)proto;
    c->ip = ip;
    c->opened_ns = c->last_recv_ns = c->last_send_ns = g->now;
    c->part = malloc(g->protos[proto].part_max);
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

void gw_input(gateway *g, conn *c, const uint8_t *buf, size_t n)
{
    const gw_slot *sl = conn_slot(g, c);
    c->last_recv_ns = g->now;
    size_t used = sl->p->on_bytes(g, c, buf, n);
    if (c->state == C_FREE || used >= n)
        return;
    size_t rest = n - used;
    if (c->state == C_AUTH || c->state == C_RESOLVE) {
        /* a login under way (its password being checked, or a trusted
         * login's user being found): what came with it waits until it is
         * decided */
        if (!c->held && (c->held = malloc(rest))) {
            memcpy(c->held, buf + used, rest);
            c->held_len = (uint32_t)rest;
        }
        return;
    }
    if (c->closing) /* it said goodbye, or was refused */
        return;
    if (rest >= sl->part_max) { /* an adapter that does not bound its frames */
        conn_close(g, c, "frame too long");
        return;
    }
    c->part_len = (uint32_t)rest;
    memcpy(c->part, buf + used, rest);
}

void conn_readable(gateway *g, conn *c)
{
    if (!c->reading)
        return;
    uint8_t *b = g->scratch;
    memcpy(b, c->part, c->part_len);
    ssize_t n = read(c->fd, b + c->part_len, g->scratch_len);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        /* a tool's connection ends when its work is done: nothing to say */
        conn_close(g, c, n == 0 ? (conn_slot(g, c)->p->logs_in ? "disconnected" : NULL) : strerror(errno));
        return;
    }
    size_t total = c->part_len + (size_t)n;
    c->part_len = 0;
    gw_input(g, c, b, total);
}
