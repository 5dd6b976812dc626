/*
 * gateway.c - the gateway thread: one epoll loop over its connections, the
 * rings and (the acceptor's) listeners.
 *
 * Each turn of the loop: take the acceptor's inputs (password-check
 * results, addresses of sessions closed elsewhere), take engine output (up
 * to the durable seq: a message whose command is not yet durable stays at
 * the head of its ring until journal_notify_fd says it is), read the
 * sockets that are readable, then write every connection that got output
 * in this turn once (conn.c).
 *
 * Engine output is protocol-neutral: an event goes to every adapter that
 * takes events (each finds its own users' sessions), a login's answer to
 * session.c, and a reply line to the adapter of the connection it answers.
 * What any of it looks like on the wire is the adapters' business.
 */
#include "server/gateway.h"
#include "journal/journal.h"
#include "server/stages.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

enum { SCRATCH = 1 << 16, TICK_MS = 50 };

/* --- input to the engine ------------------------------------------------ */

/* Move what the engine has written off its rings, to be handled later
 * (at most `max` reports held in all). */
static void spill(gateway *g, uint32_t max)
{
    srv *s = g->s;
    while (g->spill_out_n < max) {
        if (g->spill_out_n == g->spill_out_cap) {
            uint32_t cap = g->spill_out_cap ? g->spill_out_cap * 2 : 4096;
            srv_out *p = realloc(g->spill_out, cap * sizeof *p);
            if (!p)
                break;
            g->spill_out = p;
            g->spill_out_cap = cap;
        }
        if (!spsc_get(&g->gate->out, &g->spill_out[g->spill_out_n], sizeof(srv_out)))
            break;
        g->spill_out_n++;
    }
    while (g->acceptor) { /* the replies ring is the acceptor's */
        if (g->spill_text_n == g->spill_text_cap) {
            uint32_t cap = g->spill_text_cap ? g->spill_text_cap * 2 : 256;
            srv_text *p = realloc(g->spill_text, cap * sizeof *p);
            if (!p)
                break;
            g->spill_text = p;
            g->spill_text_cap = cap;
        }
        if (!spsc_get(&s->text, &g->spill_text[g->spill_text_n], sizeof(srv_text)))
            break;
        g->spill_text_n++;
    }
}

void gw_push_in(gateway *g, const srv_in *m)
{
    srv *s = g->s;
    srv_gate *gate = g->gate;
    srv_in *slot;
    while (!(slot = spsc_slot(&gate->in, sizeof *slot))) {
        /* The engine is behind: let it see what we pushed, and take its
         * output meanwhile, since it may be waiting for room there. */
        srv_wake_engine(s);
        g->pushed = 0;
        spill(g, UINT32_MAX);
        sched_yield();
    }
    *slot = *m;
    slot->gate = (uint8_t)g->idx;
    spsc_push(&gate->in);
    spsc_publish(&gate->in);
    g->pushed++;
}

void gw_submit(gateway *g, conn *c, int kind, const bourse_cmd *cmd)
{
    srv_in m = {.kind = (uint8_t)kind,
                .proto = c->proto,
                .conn = (uint32_t)(c - g->conns),
                .gen = c->gen,
                .recv_ns = g->now,
                .cmd = *cmd};
    if (kind == IN_CMD) /* the stage clocks time order entry (stages.h) */
        m.t_read = stage_stamp(g->now);
    gw_push_in(g, &m);
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
    return spsc_get(&g->gate->out, o, sizeof *o);
}

static int next_text(gateway *g, srv_text *t)
{
    if (g->spill_text_at < g->spill_text_n) {
        *t = g->spill_text[g->spill_text_at++];
        if (g->spill_text_at == g->spill_text_n)
            g->spill_text_at = g->spill_text_n = 0;
        return 1;
    }
    return g->acceptor && spsc_get(&g->s->text, t, sizeof *t);
}

/* An engine event, durable now, to every adapter that takes events. */
static void deliver(gateway *g, const srv_out *o)
{
    if (o->kind == OUT_LOGIN) {
        session_login_done(g, o);
        return;
    }
    if (o->kind == OUT_DROP) { /* cluster mode: this node no longer leads */
        for (uint32_t i = o->conn == NO_CONN_ALL ? 0 : o->conn; i < g->nconns; i++) {
            conn *c = &g->conns[i];
            if (c->state == C_LIVE && conn_slot(g, c)->p->logs_in &&
                (o->conn == NO_CONN_ALL || c->gen == o->gen))
                conn_close(g, c, "this node no longer leads: log in to the leader");
            if (o->conn != NO_CONN_ALL)
                break;
        }
        return;
    }
    if (o->kind == OUT_ACCOUNT) { /* to the one session that asked, never as events */
        conn *c = &g->conns[o->conn];
        if (c->gen == o->gen && c->state == C_LIVE && conn_slot(g, c)->p->on_account)
            conn_slot(g, c)->p->on_account(g, c, o);
        return;
    }
    for (uint32_t i = 0; i < g->nprotos; i++)
        if (g->protos[i].p->on_event)
            g->protos[i].p->on_event(g, g->protos[i].st, o);
    if ((o->flags & OUT_TIMED) && o->recv_proto < METRICS_PROTOS &&
        g->idx < METRICS_GATES) { /* metrics.h: round trip */
        int64_t now = srv_now_ns();
        hist_add(&g->s->metrics.gates[g->idx].round_trip[o->recv_proto],
                 now > o->recv_ns ? (uint64_t)(now - o->recv_ns) : 0);
    }
}

static void drain(gateway *g)
{
    srv *s = g->s;
    uint64_t durable = srv_durable_seq(s);
    if (g->acceptor)
        acceptor_drain(g);
    for (int n = 0; n < 65536; n++) {
        if (!g->has_held_out) {
            if (!next_out(g, &g->held_out))
                break;
            g->has_held_out = 1;
        }
        if (g->held_out.seq > durable && g->held_out.seq > (durable = srv_durable_seq(s))) {
            /* Waiting for the disk.  Left in the ring, the reports behind
             * this one would fill it, and the engine would then wait for
             * room, that is for the disk: a slow disk would stop the
             * matching instead of delaying the reports.  So once the ring
             * is half full they move to memory, up to [gateway] held_max. */
            if (spsc_count(&g->gate->out) > g->gate->out.mask / 2)
                spill(g, g->cfg->held_max);
            break;
        }
        g->has_held_out = 0;
        if (g->held_out.t_read) {
            g->stage_since += stage_since(g->held_out.t_read, g->now);
            g->stage_n++;
        }
        deliver(g, &g->held_out);
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
        if (c->gen != t->gen || c->state == C_FREE || !conn_slot(g, c)->p->on_reply)
            continue;
        conn_slot(g, c)->p->on_reply(g, c, t);
    }
}

static int work_waiting(gateway *g)
{
    srv *s = g->s;
    srv_gate *gate = g->gate;
    /* A held message (its command not yet durable) holds back those
     * behind it too: they are not work until it goes (with them counted,
     * an admin reply waiting for a slow disk made the acceptor spin). */
    if (g->acceptor &&
        (spsc_count(&s->auth_res) || ((spsc_count(&s->text) || g->spill_text_n) && !g->has_held_text)))
        return 1;
    if ((spsc_count(&gate->out) || g->spill_out_n) && !g->has_held_out)
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
    acceptor_resume(g);
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
    /* Everything the engine produced is durable: deliver it, let each
     * adapter say the session is over, and give clients a moment to read it. */
    drain(g);
    for (uint32_t i = 0; i < g->nconns; i++) {
        conn *c = &g->conns[i];
        if (c->state == C_FREE)
            continue;
        if (conn_slot(g, c)->p->on_stop)
            conn_slot(g, c)->p->on_stop(g, c);
        c->closing = 1;
    }
    for (int round = 0; round < 200; round++) {
        g->now = srv_now_ns();
        conn_flush_dirty(g);
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
        if (gw_tag_is_port(tag)) {
            acceptor_accept(g, (uint32_t)(tag - TAG_PORT));
        } else if (tag == TAG_HANDOFF) {
            handoff_receive(g);
        } else if (tag == TAG_WAKE || tag == TAG_DURABLE) {
            /* edge-triggered (see gw_add_fd): nothing to read */
        } else {
            conn *c = &g->conns[tag];
            if (c->state == C_FREE)
                continue;
            if (evs[i].events & EPOLLOUT)
                conn_flush(g, c);
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
    if (g->acceptor)
        acceptor_stop(g);
    else
        epoll_ctl(g->ep, EPOLL_CTL_DEL, g->gate->handoff[1], NULL);
    for (uint32_t i = 0; i < g->nconns; i++)
        if (g->conns[i].state != C_FREE && g->conns[i].reading)
            conn_interest(g, &g->conns[i], 0);
    atomic_store(&g->gate->input_done, 1);
    srv_wake_engine(s);
}

static int all_out(gateway *g)
{
    return atomic_load(&g->s->engine_done) && !spsc_count(&g->gate->out) &&
           (!g->acceptor || !spsc_count(&g->s->text)) && !g->has_held_out && !g->has_held_text &&
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
        int waiting = g->acceptor ? handoff_retry(g) : handoff_closed_flush(g);
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
        conn_flush_dirty(g);
        if (g->stage_n) { /* one more clock reading per turn that released reports */
            stages_gate_turn(s, g->idx, g->stage_since, g->now, srv_now_ns(), g->stage_n);
            g->stage_n = g->stage_since = 0;
        }
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
int gw_add_fd(gateway *g, int fd, uint64_t tag)
{
    uint32_t et = tag == TAG_WAKE || tag == TAG_DURABLE ? EPOLLET : 0;
    struct epoll_event e = {.events = EPOLLIN | et, .data.u64 = tag};
    return epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &e);
}

static int add_fds(gateway *g)
{
    srv *s = g->s;
    if (g->acceptor ? acceptor_listen(g) : gw_add_fd(g, g->gate->handoff[1], TAG_HANDOFF))
        return -1;
    return gw_add_fd(g, g->gate->wake_fd, TAG_WAKE) ||
           (s->journal && gw_add_fd(g, journal_notify_fd(s->journal), TAG_DURABLE));
}

/* s->ports[i]'s adapter, added once (in the order of the ports, the same
 * at every gateway, so conn->proto means the same everywhere), and the
 * scratch buffer made big enough for its incomplete frames. */
static int add_port(gateway *g, uint32_t i)
{
    const gw_proto *p = g->s->ports[i].proto;
    uint32_t k = 0;
    while (k < g->nprotos && g->protos[k].p != p)
        k++;
    g->port_proto[i] = (uint8_t)k;
    if (k < g->nprotos)
        return 0;
    gw_slot *sl = &g->protos[g->nprotos++];
    sl->p = p;
    sl->part_max = p->part_max(g->cfg);
    sl->out_max = p->output_max(g->cfg);
    if (p->gw_new && !(sl->st = p->gw_new(g, k)))
        return -1;
    if (!g->scratch || sl->part_max > g->scratch_part) {
        /* handoff.c takes up to 64 KiB of input in it too: SCRATCH is that */
        uint8_t *b = realloc(g->scratch, SCRATCH + sl->part_max);
        if (!b)
            return -1;
        g->scratch = b;
        g->scratch_part = sl->part_max;
    }
    return 0;
}

int gateway_add_port(srv_gate *gate, uint32_t i)
{
    gateway *g = gate->gw;
    if (add_port(g, i) != 0)
        return -1;
    return g->acceptor ? gw_add_fd(g, g->s->ports[i].fd, TAG_PORT + i) : 0;
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
    g->acceptor = gate->idx == SRV_ACCEPTOR;
    g->cfg = s->cfg;
    g->ep = -1;
    g->scratch_len = SCRATCH;
    for (uint32_t i = 0; i < s->nports; i++)
        if (add_port(g, i) != 0)
            return -1;
    g->nconns = gate->capacity;
    g->conns = calloc(g->nconns, sizeof *g->conns);
    g->free_list = malloc(g->nconns * sizeof *g->free_list);
    g->dirty = malloc(g->nconns * sizeof *g->dirty);
    g->handing = malloc(g->nconns * sizeof *g->handing);
    /* the acceptor counts every guarded connection per address */
    g->ip_cap = 1024;
    while (g->acceptor && g->ip_cap < 2 * ((uint64_t)s->cfg->max_sessions + 64))
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
    for (uint32_t i = 0; i < g->nprotos; i++)
        if (g->protos[i].p->gw_free && g->protos[i].st)
            g->protos[i].p->gw_free(g, g->protos[i].st);
    session_free_all(g);
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
