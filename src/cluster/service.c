/*
 * service.c - `bourse cluster`: a replicated exchange node that takes
 * commands on its admin socket (cluster.h, docs/replication.md).
 *
 * This is the cluster's first front door, before the order-entry gateways
 * of `bourse serve` are wired to it: DIR/admin.sock speaks the admin
 * protocol (a replay-format line in; its events as lines, then "."), so
 * `bourse admin --data DIR ...` and `bourse load`'s set-up work against it
 * unchanged, and so does every tool that reads DIR's journal.
 *
 * On the leader, the lines read from a connection in one go are proposed
 * as one Raft entry (one batch, one consensus round); each line's answer
 * is written only once its command has been committed and applied here,
 * so an answered command is on a majority's disks.  A follower refuses
 * commands with "! not the leader: the leader is node N (ADDR)", naming
 * the leader's order-entry address when the configuration gives one.
 *
 * Answers come from the state machine's event hook on the Raft thread: an
 * event whose seq is one this node proposed is turned into its text line
 * there and appended to that line's answer, under one mutex (this is a
 * tool's path, per batch and per event, not the matching hot path).  A
 * proposed command can lose its seq: the leader loses office before commit
 * and the new leader gives the same seq to another command.  The slot
 * remembers the timestamp it was stamped with, so that case is told apart
 * and answered "! not committed", and such a command was applied nowhere.
 * A command whose fate is still unknown after a while is answered
 * "! outcome unknown": the client must look before it resends (an order
 * id makes a resend of an order harmless: a duplicate id is rejected).
 *
 * `cluster` (a line of its own) answers the node's status: role, term,
 * last, commit and applied index, seq, and on the leader each node's
 * replicated index and lag.  `cluster transfer [N]` hands leadership over.
 */
#include "bourse/text.h"
#include "cluster/cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { CLIENTS = 32, SLOTS = 1024, LINE = 1024, UNKNOWN_AFTER_MS = 5000 };

typedef struct slot {
    uint64_t seq;    /* 0: answered without the log (text below is all) */
    int64_t ts_ns;   /* the stamp it was proposed with */
    int64_t sent_ms; /* when proposed */
    int done;
    char *text; /* malloc'd answer lines, "." included once done */
    size_t len, cap;
    size_t off; /* written so far (the socket is non-blocking) */
} slot;

typedef struct client {
    int fd;
    char in[LINE];
    size_t in_len;
    slot slots[SLOTS]; /* a FIFO: answers go out in the order of the lines */
    uint32_t head, tail;
} client;

typedef struct service {
    const cluster_service_config *cfg;
    cluster_state *st;
    cluster_node *node;
    pthread_mutex_t mu; /* the slots' text and done, against the Raft thread */
    client clients[CLIENTS];
} service;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put(slot *s, const char *text, size_t len)
{
    if (s->len + len + 1 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        while (cap < s->len + len + 1)
            cap *= 2;
        char *p = realloc(s->text, cap);
        if (!p)
            return; /* the answer loses a line; the "." still comes */
        s->text = p, s->cap = cap;
    }
    memcpy(s->text + s->len, text, len);
    s->len += len;
}

/* The pending slot of `seq`, or NULL (under mu). */
static slot *find(service *sv, uint64_t seq)
{
    for (int i = 0; i < CLIENTS; i++) {
        client *c = &sv->clients[i];
        if (c->fd < 0)
            continue;
        for (uint32_t k = c->head; k != c->tail; k++) {
            slot *s = &c->slots[k % SLOTS];
            if (s->seq == seq && !s->done)
                return s;
        }
    }
    return NULL;
}

/* Raft thread: an event of an applied command. */
static void on_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    service *sv = ctx;
    pthread_mutex_lock(&sv->mu);
    slot *s = find(sv, cmd->seq);
    if (s && s->ts_ns == cmd->ts_ns) {
        char line[BOURSE_TEXT_LINE_MAX];
        size_t n = bourse_text_event(cluster_state_engine(sv->st), cmd, ev, line);
        put(s, line, n);
    }
    pthread_mutex_unlock(&sv->mu);
}

/* Raft thread: a command is applied (after its events). */
static void on_command(void *ctx, const bourse_cmd *cmd)
{
    service *sv = ctx;
    pthread_mutex_lock(&sv->mu);
    slot *s = find(sv, cmd->seq);
    if (s) {
        if (s->ts_ns != cmd->ts_ns) {
            s->len = 0;
            const char *m = "! not committed: leadership changed first; it was applied nowhere\n";
            put(s, m, strlen(m));
        }
        put(s, ".\n", 2);
        s->done = 1;
    }
    pthread_mutex_unlock(&sv->mu);
}

static slot *new_slot(client *c)
{
    if (c->tail - c->head == SLOTS)
        return NULL;
    slot *s = &c->slots[c->tail % SLOTS];
    *s = (slot){0};
    return s;
}

static void answer_now(service *sv, client *c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void answer_now(service *sv, client *c, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&sv->mu);
    slot *s = new_slot(c);
    if (s) {
        put(s, buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
        put(s, ".\n", 2);
        s->done = 1;
        c->tail++;
    }
    pthread_mutex_unlock(&sv->mu);
}

static void say_status(service *sv, client *c)
{
    char buf[4096];
    cluster_status_text(sv->node, sv->cfg->cluster->id, buf, sizeof buf);
    answer_now(sv, c, "%s", buf);
}

static void refuse_not_leader(service *sv, client *c)
{
    cluster_status s;
    cluster_status_get(sv->node, &s);
    const cluster_peer *p = s.leader ? cluster_peer_of(sv->cfg->cluster, s.leader) : NULL;
    if (s.role == CLUSTER_LEADER)
        answer_now(sv, c,
                   "! not serving yet: this node was just elected and is applying earlier terms; retry\n");
    else if (p)
        answer_now(sv, c, "! not the leader: the leader is node %llu (%s)\n", (unsigned long long)p->id,
                   p->serve[0] ? p->serve : p->addr);
    else
        answer_now(sv, c, "! not the leader: no leader known yet (election under way); retry\n");
}

/* The complete lines of a read: each parsed; the commands proposed as one
 * batch, in the order of the lines. */
static void take_lines(service *sv, client *c)
{
    bourse_cmd cmds[64];
    slot *slots[64];
    uint32_t n = 0;
    size_t off = 0;
    for (;;) {
        char *nl = memchr(c->in + off, '\n', c->in_len - off);
        if (!nl || n == 64 || c->tail - c->head >= SLOTS - 1)
            break;
        size_t len = (size_t)(nl - (c->in + off));
        char *line = c->in + off;
        line[len] = 0;
        if (len && line[len - 1] == '\r')
            line[--len] = 0;
        off = (size_t)(nl - c->in) + 1;
        if (!strcmp(line, "cluster") || !strcmp(line, "cluster status")) {
            say_status(sv, c);
            continue;
        }
        char mline[256];
        if (cluster_admin_members(sv->node, line, mline, sizeof mline)) {
            answer_now(sv, c, "%s", mline);
            continue;
        }
        if (!strncmp(line, "cluster transfer", 16)) {
            unsigned long long to = strtoull(line + 16, NULL, 10);
            if (cluster_transfer(sv->node, to) == 0)
                answer_now(sv, c, "OK transferring leadership to %s%llu\n",
                           to ? "node " : "the best follower ", to);
            else
                refuse_not_leader(sv, c);
            continue;
        }
        char err[160];
        bourse_cmd cmd;
        int r = bourse_text_parse(line, len, &cmd, err, sizeof err);
        if (r == BOURSE_TEXT_SKIP) {
            answer_now(sv, c, "%s", "");
            continue;
        }
        if (r == BOURSE_TEXT_BAD) {
            answer_now(sv, c, "! %s\n", err);
            continue;
        }
        cmd.ts_ns = 0;
        cmds[n] = cmd;
        pthread_mutex_lock(&sv->mu);
        slots[n] = new_slot(c); /* room: checked at the top of the loop */
        c->tail++;
        pthread_mutex_unlock(&sv->mu);
        n++;
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    if (!n)
        return;
    char refusal[200] = "";
    cluster_status st;
    cluster_status_get(sv->node, &st);
    const cluster_peer *p = st.leader ? cluster_peer_of(sv->cfg->cluster, st.leader) : NULL;
    if (p && st.role != CLUSTER_LEADER)
        snprintf(refusal, sizeof refusal, "! not the leader: the leader is node %llu (%s)\n.\n",
                 (unsigned long long)p->id, p->serve[0] ? p->serve : p->addr);
    else
        snprintf(refusal, sizeof refusal, "! not serving: no leader ready yet; retry\n.\n");
    /* Under mu from the proposal on: the Raft thread cannot apply one of
     * these before its slot knows its seq. */
    pthread_mutex_lock(&sv->mu);
    uint64_t last = cluster_propose(sv->node, cmds, n);
    int64_t now = mono_ms();
    for (uint32_t i = 0; i < n; i++) {
        slot *s = slots[i];
        s->sent_ms = now;
        if (last && cmds[i].seq) {
            s->seq = cmds[i].seq;
            s->ts_ns = cmds[i].ts_ns;
            continue;
        }
        const char *m = last ? "! the journal cannot take this command\n.\n" : refusal;
        put(s, m, strlen(m));
        s->done = 1;
    }
    pthread_mutex_unlock(&sv->mu);
}

static void drop_client(client *c)
{
    for (uint32_t k = c->head; k != c->tail; k++)
        free(c->slots[k % SLOTS].text);
    close(c->fd);
    c->fd = -1;
    c->head = c->tail = 0;
    c->in_len = 0;
}

/* Write the answers that are complete, in order, as far as the socket
 * takes them (it is non-blocking: a client that does not read holds up only
 * itself); 0, or -1 when the client is gone. */
static int flush_client(service *sv, client *c)
{
    int64_t now = mono_ms();
    pthread_mutex_lock(&sv->mu);
    while (c->head != c->tail) {
        slot *s = &c->slots[c->head % SLOTS];
        if (!s->done && now - s->sent_ms > UNKNOWN_AFTER_MS) {
            s->len = 0;
            const char *m = "! outcome unknown: not applied here yet; look before resending\n.\n";
            put(s, m, strlen(m));
            s->done = 1;
        }
        if (!s->done)
            break;
        while (s->off < s->len) {
            ssize_t w = write(c->fd, s->text + s->off, s->len - s->off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                pthread_mutex_unlock(&sv->mu);
                return 0; /* the rest when it reads */
            }
            if (w <= 0) {
                pthread_mutex_unlock(&sv->mu);
                return -1;
            }
            s->off += (size_t)w;
        }
        free(s->text);
        s->text = NULL;
        c->head++;
    }
    pthread_mutex_unlock(&sv->mu);
    return 0;
}

/* Whether any answer is still being waited for (then the loop polls often,
 * to write it as soon as the Raft thread completes it). */
static int waiting(service *sv)
{
    for (int i = 0; i < CLIENTS; i++)
        if (sv->clients[i].fd >= 0 && sv->clients[i].head != sv->clients[i].tail)
            return 1;
    return 0;
}

static int listen_admin(const char *dir, char *err, size_t errlen)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if ((size_t)snprintf(a.sun_path, sizeof a.sun_path, "%s/admin.sock", dir) >= sizeof a.sun_path) {
        snprintf(err, errlen, "%s/admin.sock: path too long", dir);
        return -1;
    }
    unlink(a.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || chmod(a.sun_path, 0600) != 0 ||
        listen(fd, 64) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", a.sun_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int cluster_serve(const cluster_service_config *cfg, char *err, size_t errlen)
{
    static service sv; /* one per process; the slots are large */
    memset(&sv, 0, sizeof sv);
    sv.cfg = cfg;
    pthread_mutex_init(&sv.mu, NULL);
    for (int i = 0; i < CLIENTS; i++)
        sv.clients[i].fd = -1;
    cluster_state_config sc = {.dir = cfg->data_dir,
                               .limits = cfg->limits,
                               .on_event = on_event,
                               .on_command = on_command,
                               .ctx = &sv};
    if (!(sv.st = cluster_state_open(&sc, err, errlen)))
        return -1;
    char raft_dir[CLUSTER_PATH_MAX + 8];
    snprintf(raft_dir, sizeof raft_dir, "%s/raft", cfg->data_dir);
    cluster_node_config nc = {.cluster = cfg->cluster,
                              .state = sv.st,
                              .raft_dir = raft_dir,
                              .log = cfg->log,
                              .log_ctx = cfg->log_ctx};
    int lfd = listen_admin(cfg->data_dir, err, errlen);
    if (lfd < 0 || !(sv.node = cluster_start(&nc, err, errlen))) {
        if (lfd >= 0)
            close(lfd);
        cluster_state_close(sv.st);
        return -1;
    }
    for (;;) {
        struct pollfd pf[CLIENTS + 2];
        int np = 0;
        pf[np++] = (struct pollfd){.fd = cfg->stop_fd, .events = POLLIN};
        pf[np++] = (struct pollfd){.fd = lfd, .events = POLLIN};
        for (int i = 0; i < CLIENTS; i++)
            if (sv.clients[i].fd >= 0)
                pf[np++] = (struct pollfd){.fd = sv.clients[i].fd, .events = POLLIN};
        poll(pf, (nfds_t)np, waiting(&sv) ? 1 : 200);
        if (pf[0].revents)
            break;
        if (pf[1].revents & POLLIN) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            int i = 0;
            while (fd >= 0 && i < CLIENTS && sv.clients[i].fd >= 0)
                i++;
            if (fd >= 0 && i == CLIENTS)
                close(fd);
            else if (fd >= 0)
                sv.clients[i].fd = fd;
        }
        for (int i = 0; i < CLIENTS; i++) {
            client *c = &sv.clients[i];
            if (c->fd < 0)
                continue;
            struct pollfd q = {.fd = c->fd, .events = POLLIN};
            if (poll(&q, 1, 0) == 1) {
                ssize_t r = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
                if (r <= 0 && c->head == c->tail) {
                    drop_client(c);
                    continue;
                }
                if (r > 0)
                    c->in_len += (size_t)r;
                if (c->in_len == sizeof c->in && !memchr(c->in, '\n', c->in_len)) {
                    drop_client(c); /* a line longer than any command */
                    continue;
                }
            }
            take_lines(&sv, c);
            if (flush_client(&sv, c) != 0)
                drop_client(c);
        }
    }
    close(lfd);
    cluster_stop(sv.node);
    for (int i = 0; i < CLIENTS; i++)
        if (sv.clients[i].fd >= 0)
            drop_client(&sv.clients[i]);
    cluster_state_close(sv.st);
    char path[CLUSTER_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/admin.sock", cfg->data_dir);
    unlink(path);
    return 0;
}
