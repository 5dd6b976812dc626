/*
 * acceptor.c - the acceptor's part of the gateway: listeners, accepting and
 * the caps on connections.
 *
 * One gateway, the acceptor (SRV_ACCEPTOR), owns every listening socket.  A
 * listener is a socket and the protocol adapter spoken on it, registered
 * with srv_add_port before the gateways are made; a FIX or HTTP listener is
 * one more registration.  A guarded listener's connections (order entry)
 * count against [gateway] max_sessions and sessions_per_ip and get
 * TCP_NODELAY and [gateway] sndbuf; an unguarded one's (a local tool's
 * unix socket) do not.
 *
 * The acceptor also runs every login (session.c) and keeps the per-address
 * counts for all gateways (addr.c), so password-check results and the
 * addresses of sessions closed on other gateways come to it
 * (acceptor_drain).  Connections that never log in (tools) stay with it; the others go to their user's home
 * gateway (handoff.c).
 */
#include "server/gateway.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { TICK_MS = 50 }; /* gateway.c's tick: how long accepting pauses */

int srv_add_port(srv *s, int fd, const gw_proto *proto, int flags)
{
    if (s->nports == SRV_MAX_PORTS)
        return -1;
    uint32_t i = s->nports++;
    s->ports[i] = (srv_port){.fd = fd, .proto = proto, .flags = flags};
    for (uint32_t k = 0; k < s->ngates; k++) /* made already: tell them */
        if (s->gates[k].gw && gateway_add_port(&s->gates[k], i) != 0)
            return -1;
    return 0;
}

int acceptor_listen(gateway *g)
{
    for (uint32_t i = 0; i < g->s->nports; i++)
        if (gw_add_fd(g, g->s->ports[i].fd, TAG_PORT + i) != 0)
            return -1;
    return 0;
}

void acceptor_stop(gateway *g)
{
    for (uint32_t i = 0; i < g->s->nports; i++)
        epoll_ctl(g->ep, EPOLL_CTL_DEL, g->s->ports[i].fd, NULL);
}

/* Out of descriptors or memory: the pending connection stays in the
 * backlog and the listener stays readable, so retrying at once would spin
 * (and log) without end.  Stop listening for a tick, then try again. */
static void pause_accepting(gateway *g, int err)
{
    if (g->accept_paused)
        return;
    g->accept_paused = 1;
    acceptor_stop(g);
    if (g->now - g->accept_logged_ns >= 1000000000) {
        g->accept_logged_ns = g->now;
        srv_log("accept: %s; not accepting for %d ms", strerror(err), TICK_MS);
    }
}

void acceptor_resume(gateway *g)
{
    if (!g->accept_paused || atomic_load(&g->s->stop))
        return;
    /* a listener added already answers EEXIST: it is in */
    for (uint32_t i = 0; i < g->s->nports; i++)
        if (gw_add_fd(g, g->s->ports[i].fd, TAG_PORT + i) != 0 && errno != EEXIST)
            return;
    g->accept_paused = 0;
}

/* A guarded listener's connection from `a`: within the caps?  Counts it. */
static int admit(gateway *g, int fd, const struct sockaddr_in *a, uint32_t ip)
{
    uint32_t *count = gw_ip_count(g, ip);
    int full = g->nfree <= 16 || atomic_load(&g->s->sessions) >= g->cfg->max_sessions;
    if (*count >= g->cfg->sessions_per_ip || full) {
        if (g->rejects_logged++ < 100 || g->rejects_logged % 10000 == 0)
            srv_log("refused a connection from %s: %s", inet_ntoa(a->sin_addr),
                    full ? "no free session slot" : "too many connections from it");
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (g->cfg->sndbuf) {
        int sz = (int)g->cfg->sndbuf;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    }
    /* [server] busy_poll_us: a read that finds nothing polls the device's
     * queue this long before sleeping (needs NAPI: a real NIC, not
     * loopback; raising it past net.core.busy_read wants CAP_NET_ADMIN). */
    int us = (int)g->cfg->busy_poll_us;
    if (us && setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof us) != 0 && !g->busy_poll_said) {
        g->busy_poll_said = 1;
        srv_log("[server] busy_poll_us: the kernel refused SO_BUSY_POLL (%s); sockets are not busy-polled",
                strerror(errno));
    }
    return 0;
}

void acceptor_accept(gateway *g, uint32_t port)
{
    const srv_port *pt = &g->s->ports[port];
    int guarded = (pt->flags & SRV_PORT_GUARDED) != 0;
    for (int i = 0; i < 256; i++) {
        struct sockaddr_in a;
        socklen_t al = sizeof a;
        int fd = accept4(pt->fd, (struct sockaddr *)&a, &al, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accepting(g, errno);
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                srv_log("accept: %s", strerror(errno));
            return;
        }
        uint32_t ip = !guarded ? 0 : a.sin_family == AF_INET ? a.sin_addr.s_addr : 1;
        if (guarded && admit(g, fd, &a, ip) != 0) {
            close(fd);
            continue;
        }
        conn *c = conn_new(g, fd, C_OPEN, g->port_proto[port], ip);
        if (!c) {
            close(fd);
            continue;
        }
        c->trusted = (pt->flags & SRV_PORT_TRUSTED) != 0;
        if (guarded) {
            c->guarded = 1;
            (*gw_ip_count(g, ip))++;
            atomic_fetch_add(&g->s->sessions, 1);
        }
    }
}

void acceptor_drain(gateway *g)
{
    srv *s = g->s;
    srv_auth a;
    while (spsc_get(&s->auth_res, &a, sizeof a))
        session_auth_done(g, &a);
    handoff_closed_drain(g);
}
