/*
 * handoff.c - several gateway threads, each with a descriptor table of its
 * own, and the sessions that move between them.
 *
 * Why several tables: one epoll thread serves tens of thousands of mostly
 * idle sessions easily, but the kernel applies the open-file limit
 * (RLIMIT_NOFILE) to each file-descriptor table, and where the hard limit
 * is low (20,000 in some containers and sandboxes, where even root cannot
 * raise it) one table cannot hold 50,000 sockets.  A thread that calls
 * unshare(CLONE_FILES) gets a private copy of the table, with a limit of its
 * own, while sharing memory with the rest of the server like any thread: the
 * rings, the journal's durable sequence number and the futexes work as with
 * one gateway.  srv_init() takes as many gateways as [gateway] max_sessions
 * needs under the limit (one where the limit is generous).
 *
 * Who holds what: every user has a home gateway (srv_home) that holds all
 * of the user's sessions and the user's stream, so sequence numbers, replay
 * on re-login and sessions_per_user mean what they mean with one gateway,
 * and the engine sends each event only to its users' homes.  The acceptor
 * (gateway 0) owns the listening sockets: it accepts, lets the protocol
 * adapter read the login, has the password checked and the user resolved,
 * and then, when the home is another gateway, sends the socket there over a
 * unix SOCK_SEQPACKET pair (SCM_RIGHTS) with what the session needs: user,
 * name, address, its adapter and the adapter's state (conn->ps, plain
 * data) and the bytes that came after the login.  When the receiving
 * socket is full the login waits in a queue (its login timeout still
 * runs).  The acceptor also keeps counting connections per address for all
 * gateways (sessions_per_ip); the others tell it over a ring when one of
 * theirs closes.
 *
 * Table hygiene: a new table is a copy of the process's, so a gateway first
 * closes what it inherited and does not use (journal files, market-data
 * sockets); a copy left open would keep a socket alive after its owner
 * closed it.
 */
#include "journal/journal.h"
#include "server/gateway.h"
#include "util/sanitizer.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* What travels with the socket; any bytes after the login follow it. */
typedef struct handoff_msg {
    uint32_t user, ip;
    uint8_t proto, guarded;
    int64_t opened_ns;
    char name[BOURSE_NAME_LEN + 1];
    uint8_t ps[PROTO_STATE];
} handoff_msg;

static int cmp_int(const void *a, const void *b)
{
    return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* Close every descriptor from 3 up except those in keep[0..n). */
static void close_all_but(int *keep, int n)
{
    qsort(keep, (size_t)n, sizeof *keep, cmp_int);
    unsigned from = 3;
    for (int i = 0; i < n; i++) {
        if (keep[i] < 0 || (unsigned)keep[i] < from)
            continue;
        if ((unsigned)keep[i] > from)
            close_range(from, (unsigned)keep[i] - 1, 0);
        from = (unsigned)keep[i] + 1;
    }
    close_range(from, ~0u, 0);
}

void handoff_own_table(gateway *g)
{
    srv *s = g->s;
    if (BOURSE_TSAN) { /* see util/sanitizer.h */
        srv_log("gateway %u: shares the process's descriptor table (a ThreadSanitizer build)", g->idx);
        return;
    }
    if (unshare(CLONE_FILES) != 0) {
        srv_log("gateway %u: no descriptor table of its own (%s): it shares the process's open-file limit",
                g->idx, strerror(errno));
        return;
    }
    int keep[8 + SRV_MAX_PORTS + SRV_MAX_GATES], n = 0;
    keep[n++] = g->ep;
    keep[n++] = g->gate->wake_fd;
    if (s->journal)
        keep[n++] = journal_notify_fd(s->journal);
    if (g->acceptor) {
        for (uint32_t i = 0; i < s->nports; i++)
            keep[n++] = s->ports[i].fd;
        keep[n++] = s->auth_fd;
        for (uint32_t i = 1; i < s->ngates; i++)
            keep[n++] = s->gates[i].handoff[0];
    } else {
        keep[n++] = g->gate->handoff[1];
    }
    close_all_but(keep, n);
}

/* --- the acceptor: sending ---------------------------------------------- */

/* 0 sent, 1 no room now, -1 failed. */
static int send_one(gateway *g, conn *c)
{
    srv_gate *to = &g->s->gates[srv_home(g->s, c->user)];
    handoff_msg m = {
        .user = c->user, .ip = c->ip, .proto = c->proto, .guarded = c->guarded, .opened_ns = c->opened_ns};
    memcpy(m.name, c->name, sizeof m.name);
    memcpy(m.ps, c->ps.b, sizeof m.ps);
    struct iovec iov[2] = {{&m, sizeof m}, {c->held, c->held_len}};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr mh = {.msg_iov = iov,
                        .msg_iovlen = c->held_len ? 2 : 1,
                        .msg_control = ctl.buf,
                        .msg_controllen = sizeof ctl.buf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &c->fd, sizeof(int));
    if (sendmsg(to->handoff[0], &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EINTR ? 1 : -1;
    conn_release(g, c);
    return 0;
}

int handoff_send(gateway *g, conn *c)
{
    int r = g->nhanding ? 1 : send_one(g, c); /* first come, first sent */
    if (r < 0) {
        conn_close(g, c, "could not hand the session to its gateway");
        return -1;
    }
    if (r > 0) /* it stays in C_RESOLVE, not read, until sent or closed */
        g->handing[g->nhanding++] = (struct handing){(uint32_t)(c - g->conns), c->gen};
    return 0;
}

int handoff_retry(gateway *g)
{
    uint32_t i = 0;
    for (; i < g->nhanding; i++) {
        conn *c = &g->conns[g->handing[i].conn];
        if (c->gen != g->handing[i].gen || c->state != C_RESOLVE)
            continue; /* closed while it waited */
        int r = send_one(g, c);
        if (r > 0)
            break;
        if (r < 0)
            conn_close(g, c, "could not hand the session to its gateway");
    }
    memmove(g->handing, g->handing + i, (g->nhanding - i) * sizeof *g->handing);
    g->nhanding -= i;
    return g->nhanding > 0;
}

/* --- other gateways: receiving ----------------------------------------- */

/* A session that arrived but cannot stay: the acceptor still counts it. */
static void drop(gateway *g, int fd, const handoff_msg *m, const char *why)
{
    srv_log("gateway %u: a session handed over was dropped: %s", g->idx, why);
    const gw_proto *p = g->protos[m->proto].p;
    if (fd >= 0) {
        uint8_t buf[64];
        if (p->refusal && write(fd, buf, p->refusal(buf)) < 0) {
            /* it is closed anyway */
        }
        close(fd);
    }
    if (m->guarded) {
        gw_ip_closed(g, m->ip);
        atomic_fetch_sub(&g->s->sessions, 1);
    }
}

static int received_fd(struct msghdr *mh)
{
    int fd = -1;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
            cm->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    return fd;
}

void handoff_receive(gateway *g)
{
    for (;;) {
        handoff_msg m;
        union {
            struct cmsghdr h;
            char buf[CMSG_SPACE(sizeof(int))];
        } ctl;
        struct iovec iov[2] = {{&m, sizeof m}, {g->scratch, 65536}};
        struct msghdr mh = {
            .msg_iov = iov, .msg_iovlen = 2, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
        ssize_t n = recvmsg(g->gate->handoff[1], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                srv_log("gateway %u: handoff: %s", g->idx, strerror(errno));
            return;
        }
        int fd = received_fd(&mh);
        if ((size_t)n < sizeof m || (mh.msg_flags & MSG_TRUNC) || m.proto >= g->nprotos) {
            /* cannot happen between two of our threads; never trust it */
            srv_log("gateway %u: handoff: a malformed message", g->idx);
            if (fd >= 0)
                close(fd);
            continue;
        }
        if (fd < 0) {
            drop(g, fd, &m,
                 (mh.msg_flags & MSG_CTRUNC) ? "no descriptor left (open-file limit)" : "no socket");
            continue;
        }
        conn *c = conn_new(g, fd, C_RESOLVE, m.proto, m.ip);
        if (!c) {
            drop(g, fd, &m, "no free session slot");
            continue;
        }
        c->user = m.user;
        c->guarded = m.guarded;
        memcpy(c->name, m.name, sizeof c->name);
        c->name[BOURSE_NAME_LEN] = 0;
        memcpy(c->ps.b, m.ps, sizeof c->ps.b);
        c->opened_ns = m.opened_ns;
        size_t held = (size_t)n - sizeof m;
        if (held && (c->held = malloc(held))) {
            memcpy(c->held, g->scratch, held);
            c->held_len = (uint32_t)held;
        }
        session_go_live(g, c);
    }
}

/* --- addresses of closed sessions, back to the acceptor ----------------- */

void handoff_closed_drain(gateway *g)
{
    srv *s = g->s;
    srv_ip a;
    for (uint32_t i = 1; i < s->ngates; i++)
        while (spsc_get(&s->gates[i].closed, &a, sizeof a))
            gw_ip_closed(g, a.ip);
}

int handoff_closed_flush(gateway *g)
{
    srv_gate *gate = g->gate;
    uint32_t i = 0;
    if (!g->nclosed_spill)
        return 0;
    while (i < g->nclosed_spill && spsc_put(&gate->closed, &g->closed_spill[i], sizeof(srv_ip)))
        i++;
    memmove(g->closed_spill, g->closed_spill + i, (g->nclosed_spill - i) * sizeof *g->closed_spill);
    g->nclosed_spill -= i;
    return g->nclosed_spill > 0;
}
