/*
 * engine_thread.c - the one thread that owns the engine.
 *
 * It drains the in ring, and for each command: resolves names, appends it to
 * the journal (which sequences and timestamps it), applies it, and turns its
 * events into out-ring messages tagged with the command's seq.  The gateway
 * releases them once the journal says that seq is durable, so this thread
 * never waits for the disk or a socket.  It also lists the configured
 * symbols at start and opens and closes the market on schedule, through the
 * same path as every other command, so each is journaled exactly once.
 */
#include "accounts/accounts.h"
#include "bourse/account.h"
#include "bourse/text.h"
#include "cluster/cluster.h"
#include "journal/apply.h"
#include "journal/journal.h"
#include "server/server.h"
#include "server/stages.h"
#include "util/futex.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { BATCH = 256, WAKE_EVERY = 32 };
/* Cluster mode: the origins of the commands proposed and not yet applied,
 * by seq (an admin connection's answer goes to it); a command older than
 * ORIGINS proposals loses its admin answer, never its reports. */
enum { ORIGINS = 1 << 14 };

typedef struct eng {
    srv *s;
    bourse_engine *e;
    japply ap;      /* the one path to the engine: resolve, journal, apply */
    uint64_t match; /* trades so far: the next match number - 1 */
    const srv_in *origin;
    int is_open;
    int64_t next_boundary; /* schedule: next open, close or day end, ns; 0 = none */
    uint64_t since_snapshot;
    uint64_t durable; /* the last durable seq seen */
    uint32_t wake;    /* bit i: gateway i has something it can send now */
    int capacity_logged;
    uint64_t refused;        /* commands refused since the last line about it */
    int64_t refused_said_ns; /* when that line was written */
    /* cluster mode: the batch being collected, and origins by seq */
    uint32_t npend;
    bourse_cmd pend[BATCH];
    srv_in porig[BATCH];
    srv_in *orig;
    uint64_t cur_seq;
    /* metrics (metrics.h): the command being run still owes its origin
     * its first report, which carries the round trip's start */
    int timed;
    uint32_t sample; /* commands since the last timed one */
    /* account commands: each gateway's fragments so far of its message
     * being sent (account_fragment) */
    bourse_cmd (*stage)[BOURSE_ACCOUNT_FRAGMENTS];
    uint32_t nstage[SRV_MAX_GATES];
} eng;

static void push_out(eng *g, uint32_t to, const srv_out *o)
{
    srv *s = g->s;
    srv_gate *gate = &s->gates[to];
    srv_out *slot;
    while (!(slot = spsc_slot(&gate->out, sizeof *slot))) {
        srv_wake_gate(gate);
        sched_yield();
    }
    *slot = *o;
    if ((slot->flags & OUT_TIMED) && (!g->origin || to != g->origin->gate))
        slot->flags &= (uint8_t)~OUT_TIMED; /* a copy to another gateway (drop copies) */
    spsc_push(&gate->out);
    spsc_publish(&gate->out);
    /* Wake the gateway only for what it can send now; the rest it learns
     * about from journal_notify_fd when the journal syncs. */
    if (o->seq <= g->durable || o->seq <= (g->durable = srv_durable_seq(s)))
        g->wake |= 1u << to;
}

/* OUT_SYSTEM goes to every gateway: each tells its own users. */
static void push_out_all(eng *g, const srv_out *o)
{
    for (uint32_t i = 0; i < g->s->ngates; i++)
        push_out(g, i, o);
}

static void push_text(eng *g, uint64_t seq, const char *line, size_t len, int done)
{
    srv *s = g->s;
    srv_text *slot;
    while (!(slot = spsc_slot(&s->text, sizeof *slot))) {
        srv_wake_gate(&s->gates[SRV_ACCEPTOR]);
        sched_yield();
    }
    slot->conn = g->origin->conn;
    slot->gen = g->origin->gen;
    slot->seq = seq;
    slot->len = (uint16_t)len;
    slot->done = (uint8_t)done;
    memcpy(slot->line, line, len);
    spsc_push(&s->text);
    spsc_publish(&s->text);
    if (seq <= g->durable || seq <= (g->durable = srv_durable_seq(s)))
        g->wake |= 1;
}

/* Tell the gateways that have output they can send now, if they sleep. */
static void wake_gateway(eng *g)
{
    for (uint32_t i = 0; g->wake; i++) {
        if (g->wake & (1u << i)) {
            g->wake &= ~(1u << i);
            srv_wake_gate(&g->s->gates[i]);
        }
    }
}

/* An account command applied: its password hash (order-entry logins),
 * state and role (the HTTP API's checks and pushes). */
static __attribute__((noinline, cold)) void account_changed(eng *g, const bourse_event *ev)
{
    bourse_account a;
    int i = bourse_account_find(g->e, ev->oid.s, strnlen(ev->oid.s, BOURSE_NAME_LEN));
    if (i >= 0 && bourse_account_at(g->e, (uint32_t)i, &a) == 0)
        srv_acct_note(g->s, &a);
}

static void on_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    eng *g = ctx;
    srv *s = g->s;
    consumers_publish(&s->consumers, cmd, ev);
    metrics_event(&s->metrics, g->e, ev);
    if (ev->type == BOURSE_EV_ACCOUNT && !ev->reason)
        account_changed(g, ev);
    if (g->origin && g->origin->kind == IN_ADMIN) {
        char line[BOURSE_TEXT_LINE_MAX];
        size_t n = bourse_text_event(g->e, cmd, ev, line);
        push_text(g, cmd->seq, line, n, 0);
    }
    srv_out o;
    if (!srv_event_out(g->e, cmd, ev, &g->match, &o))
        return;
    o.t_read = g->origin ? g->origin->t_read : 0; /* its stage clock goes with it */
    if (g->timed && ev->user == cmd->user && ev->type != BOURSE_EV_TRADE && ev->type != BOURSE_EV_OK) {
        o.recv_ns = g->origin->recv_ns;
        o.recv_proto = g->origin->proto;
        o.flags |= OUT_TIMED;
        g->timed = 0;
    }
    if (ev->type == BOURSE_EV_REJECTED && ev->reason == BOURSE_R_CAPACITY && !g->capacity_logged) {
        bourse_stats st;
        bourse_engine_stats(g->e, &st);
        srv_log("orders refused with CAPACITY: %u open orders, %u order ids taken today; see [limits] "
                "orders and ids (said once a trading day)",
                st.open_orders, st.ids);
        g->capacity_logged = 1;
    }
    if (s->cfg->fix_dropcopy[0]) { /* FIX drop copies may live on any gateway (docs/fix.md) */
        if (s->dc.named) {         /* who they cover, by id, before the event is on a ring (dropcopy.h) */
            dropcopy_learn(&s->dc, g->e, ev->user);
            if (ev->type == BOURSE_EV_TRADE)
                dropcopy_learn(&s->dc, g->e, ev->user2);
        }
        push_out_all(g, &o);
        return;
    }
    if (ev->type == BOURSE_EV_TRADE) {
        /* buyer and seller may live on different gateways: each gets it */
        uint32_t seller = srv_home(s, ev->user2);
        if (seller != srv_home(s, ev->user))
            push_out(g, seller, &o);
    }
    push_out(g, srv_home(s, ev->user), &o);
}

/* A command was refused before it reached the engine.  Said at once, then
 * at most once a second with a count: a full disk refuses every new order,
 * and a line per order (183,498 lines in 40 s, issue #19) cost the engine
 * thread more than the refusals did. */
static void refused(eng *g, int why)
{
    g->refused++;
    counter_add(&g->s->metrics.refused, 1);
    int64_t now = srv_now_ns();
    if (g->refused_said_ns && now - g->refused_said_ns < 1000000000)
        return;
    if (why == JAPPLY_NOMEM)
        srv_log("out of memory growing the engine's tables: %llu command%s refused",
                (unsigned long long)g->refused, g->refused == 1 ? "" : "s");
    else
        srv_log("journal refused %llu command%s%s: %s", (unsigned long long)g->refused,
                g->refused == 1 ? "" : "s", g->refused_said_ns ? " since the last line" : "",
                journal_error(g->s->journal));
    g->refused = 0;
    g->refused_said_ns = now;
}

static void after_command(eng *g, const bourse_cmd *cmd, const srv_in *origin);

/* Sequence, journal and apply one command (apply.h); `origin` gets the
 * answers. */
static void run(eng *g, bourse_cmd *cmd, const srv_in *origin)
{
    srv *s = g->s;
    g->origin = origin;
    /* Without a journal a command is "durable" once given its seq, which
     * is the next one (never refused: no journal, tables fixed); say so
     * before its events, which push_out releases by that number. */
    if (!s->journal)
        atomic_store_explicit(&s->applied_seq, g->ap.seq + 1, memory_order_release);
    g->timed = origin && origin->kind == IN_CMD;
    int64_t t0 = ++g->sample == METRICS_SAMPLE ? srv_now_ns() : 0;
    int r = japply_command(&g->ap, cmd, on_event, g);
    if (t0) {
        g->sample = 0;
        int64_t t1 = srv_now_ns();
        hist_add(&s->metrics.command_ns, t1 > t0 ? (uint64_t)(t1 - t0) : 0);
    }
    if (r != JAPPLY_OK) {
        refused(g, r);
        bourse_event ev = {.type = BOURSE_EV_ERROR, .reason = BOURSE_R_CAPACITY};
        if (cmd->type == BOURSE_CMD_ORDER || cmd->type == BOURSE_CMD_CANCEL ||
            cmd->type == BOURSE_CMD_REPLACE) {
            ev.type = BOURSE_EV_REJECTED;
            ev.user = cmd->user;
            ev.oid = cmd->type == BOURSE_CMD_REPLACE ? cmd->new_oid : cmd->oid;
        }
        cmd->seq = 0;
        on_event(g, cmd, &ev);
        if (origin && origin->kind == IN_ADMIN)
            push_text(g, 0, "", 0, 1);
        return;
    }
    after_command(g, cmd, origin);
}

/* A command was applied: consumers, the market's state, admin's answer. */
static void after_command(eng *g, const bourse_cmd *cmd, const srv_in *origin)
{
    srv *s = g->s;
    consumers_publish(&s->consumers, cmd, NULL); /* the command is complete */
    g->timed = 0;
    if (cmd->type < BOURSE_CMD_COUNT_)
        counter_add(&s->metrics.commands[cmd->type], 1);
    atomic_store_explicit(&s->metrics.last_seq, cmd->seq, memory_order_relaxed);
    g->since_snapshot++;
    if (cmd->type == BOURSE_CMD_OPEN || cmd->type == BOURSE_CMD_CLOSE) {
        bourse_stats st;
        bourse_engine_stats(g->e, &st);
        if (st.is_open != g->is_open) {
            g->is_open = st.is_open;
            g->capacity_logged = 0;
            srv_out o = {
                .kind = OUT_SYSTEM, .code = st.is_open ? 'S' : 'E', .seq = cmd->seq, .ts_ns = cmd->ts_ns};
            push_out_all(g, &o);
        }
    }
    if (origin && origin->kind == IN_ADMIN)
        push_text(g, cmd->seq, "", 0, 1);
}

/* A read-only question (query.c): answered now, at seq 0 (nothing to make
 * durable), to the connection that asked. */
static void text_line(void *ctx, const char *line, size_t n)
{
    push_text(ctx, 0, line, n, 0);
}

static void account_line(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    eng *g = ctx;
    (void)cmd;
    srv_out o = {.kind = OUT_ACCOUNT, .conn = g->origin->conn, .gen = g->origin->gen, .ev = *ev};
    if (ev->symbol == BOURSE_CASH)
        memcpy(o.sym.s, "CASH", 4);
    else
        o.sym = *bourse_symbol_name_of(g->e, ev->symbol);
    push_out(g, g->origin->gate, &o);
}

static __attribute__((noinline, cold)) void query(eng *g, const srv_in *m)
{
    g->origin = m;
    if (m->kind == IN_QUERY) {
        if (m->cmd.type == ADMIN_Q_SESSIONS ||
            m->cmd.type == ADMIN_Q_METRICS) { /* the acceptor's to answer, in turn */
            push_text(g, 0, "", 0, m->cmd.type == ADMIN_Q_SESSIONS ? 2 : 3);
            return;
        }
        srv_query_text(g->e, &m->cmd, text_line, g);
        push_text(g, 0, "", 0, 1);
        return;
    }
    uint32_t n = srv_account_events(g->e, m->cmd.user, account_line, g);
    srv_out end = {.kind = OUT_ACCOUNT, .conn = m->conn, .gen = m->gen, .ev = {.count = n}};
    push_out(g, m->gate, &end);
}

/* ---- cluster mode (cluster_mode.c) ---- */

/* A command a follower (or a leader not yet serving) cannot take. */
static void not_leader(eng *g, bourse_cmd *cmd, const srv_in *origin)
{
    g->origin = origin;
    cmd->seq = 0;
    if (origin->kind == IN_ADMIN) {
        char why[160], line[200];
        srv_cluster_not_leader(g->s, why, sizeof why);
        int n = snprintf(line, sizeof line, "! %s\n", why);
        push_text(g, 0, line, (size_t)n, 0);
        push_text(g, 0, "", 0, 1);
        return;
    }
    /* An order-entry session that logged in while this node led: close
     * it, so that its client logs in to the leader and resumes its stream
     * there.  Its command was sequenced nowhere: it gets no report. */
    srv_out o = {.kind = OUT_DROP, .conn = origin->conn, .gen = origin->gen};
    push_out(g, origin->gate, &o);
}

static void list_symbols(eng *g);

/* Cluster mode: the node stopped serving (it lost office, or froze past
 * the election timeout and woke up deposed): close every order-entry
 * session at every gateway, whether or not it sends anything. */
static void check_serving(eng *g)
{
    srv *s = g->s;
    if (atomic_load(&s->cl_quiet) || atomic_load(&s->cl_stopping))
        return; /* srv_cluster_stop frees the node once this thread is quiet */
    int now = cluster_serving(s->cl_node);
    if (!s->cl_was_serving && now && s->cfg->symbols && s->cfg->symbols[0])
        list_symbols(g); /* [market] symbols (and their rules and fees) the log lacks */
    if (s->cl_was_serving && !now) {
        srv_out o = {.kind = OUT_DROP, .conn = NO_CONN_ALL};
        push_out_all(g, &o);
        srv_log("no longer serving: order-entry sessions closed (their clients log in to the leader)");
    }
    s->cl_was_serving = now;
    srv_cluster_restart_due(s);
}

/* The engine thread, between two commands: a snapshot was installed
 * (srv_cluster_take): take the new engine and its counters. */
void srv_cluster_restored(srv *s)
{
    eng *g = s->cl_eng;
    s->engine = cluster_state_engine(s->cl_state);
    atomic_store_explicit(&s->applied_seq, cluster_state_seq(s->cl_state), memory_order_release);
    if (!g)
        return;
    bourse_stats st;
    bourse_engine_stats(s->engine, &st);
    g->e = s->engine;
    g->is_open = st.is_open;
    g->match = st.trades;
    g->cur_seq = 0;
}

/* Propose the commands collected from one take_batch as one Raft entry;
 * their reports come when it is committed and applied (below). */
static void propose(eng *g)
{
    uint32_t n = g->npend;
    if (!n)
        return;
    g->npend = 0;
    uint64_t last = cluster_propose(g->s->cl_node, g->pend, n);
    for (uint32_t i = 0; i < n; i++) {
        if (!last) {
            not_leader(g, &g->pend[i], &g->porig[i]);
            continue;
        }
        srv_in *o = &g->orig[(last - n + 1 + i) & (ORIGINS - 1)];
        *o = g->porig[i];
        o->cmd.seq = last - n + 1 + i;
    }
}

/* The engine thread, applying a committed batch: the command's seq is
 * "durable" (its reports may go) and its origin gets the answers. */
static eng *cluster_begin(srv *s, const bourse_cmd *cmd)
{
    eng *g = s->cl_eng;
    if (g->cur_seq != cmd->seq) {
        g->cur_seq = cmd->seq;
        g->e = cluster_state_engine(s->cl_state); /* a snapshot install replaced it */
        const srv_in *o = &g->orig[cmd->seq & (ORIGINS - 1)];
        g->origin = o->cmd.seq == cmd->seq ? o : NULL;
        g->timed = g->origin && g->origin->kind == IN_CMD;
        atomic_store_explicit(&s->applied_seq, cmd->seq, memory_order_release);
    }
    return g;
}

void srv_cluster_on_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    on_event(cluster_begin(ctx, cmd), cmd, ev);
}

void srv_cluster_on_command(void *ctx, const bourse_cmd *cmd)
{
    eng *g = cluster_begin(ctx, cmd);
    after_command(g, cmd, g->origin);
}

/*
 * One fragment of an account command (bourse/account.h).  A message's
 * fragments arrive one after the other on one gateway's ring, but this
 * thread may take them in two batches with other gateways' commands in
 * between; so they wait here, per gateway, until the last one is in, and
 * are then sequenced back to back: no other command can fall between them
 * in the journal (or, in cluster mode, in the proposals).  Only the last
 * one's origin gets the answer.  A fragment the journal refuses ends the
 * message: the core never applies a message whose start it did not see.
 */
static __attribute__((noinline, cold)) void account_fragment(eng *g, srv_in *m)
{
    uint32_t gi = m->gate < SRV_MAX_GATES ? m->gate : 0;
    uint32_t *n = &g->nstage[gi];
    if (m->cmd.side & BOURSE_ACCOUNT_FIRST)
        *n = 0;
    if (*n == BOURSE_ACCOUNT_FRAGMENTS) {
        *n = 0; /* too many: not a message bourse_account_encode made */
        return;
    }
    g->stage[gi][(*n)++] = m->cmd;
    if (!(m->cmd.side & BOURSE_ACCOUNT_LAST))
        return;
    uint32_t k = *n;
    *n = 0;
    if (g->s->cl_state) {
        if (g->npend + k > BATCH)
            propose(g);
        for (uint32_t i = 0; i < k; i++) {
            g->porig[g->npend] = *m;
            if (i + 1 < k)
                g->porig[g->npend].kind = IN_CMD; /* no answer of its own */
            g->pend[g->npend++] = g->stage[gi][i];
        }
        return;
    }
    for (uint32_t i = 0; i < k; i++) {
        bourse_cmd c = g->stage[gi][i];
        run(g, &c, i + 1 < k ? NULL : m);
        if (c.seq == 0 && i + 1 < k) { /* refused (the journal): say so to the sender */
            g->origin = m;
            if (m->kind == IN_ADMIN) {
                static const char why[] = "! the journal refused the account command\n";
                push_text(g, 0, why, sizeof why - 1, 0);
                push_text(g, 0, "", 0, 1);
            }
            return;
        }
    }
}

/* An order-entry login of a user whose account is not active. */
static int login_refused(eng *g, const bourse_cmd *c, srv_out *o)
{
    int i = bourse_account_find(g->e, c->user_name.s, strnlen(c->user_name.s, BOURSE_NAME_LEN));
    bourse_account a;
    if (i < 0 || bourse_account_at(g->e, (uint32_t)i, &a) != 0 || a.state == BOURSE_AS_ACTIVE)
        return 0;
    o->flags = OUT_NOT_ACTIVE;
    o->ev.qty = a.state;
    o->ev.user = BOURSE_NONE;
    return 1;
}

static void process(eng *g, srv_in *m)
{
    if (m->kind == IN_QUERY || m->kind == IN_ACCOUNT) {
        query(g, m);
        return;
    }
    if (m->cmd.type == BOURSE_CMD_ACCOUNT) {
        account_fragment(g, m);
        return;
    }
    if (m->kind == IN_LOGIN) {
        srv_out o = {.kind = OUT_LOGIN, .conn = m->conn, .gen = m->gen};
        if (g->s->cl_state) {
            cluster_status st;
            cluster_status_get(g->s->cl_node, &st);
            if (!st.serving) {
                o.flags = OUT_NOT_LEADER;
                o.ev.user = BOURSE_NONE;
                push_out(g, m->gate, &o);
                return;
            }
        }
        o.ev.user = bourse_user_find(g->e, m->cmd.user_name.s, strnlen(m->cmd.user_name.s, BOURSE_NAME_LEN));
        o.ev.type = g->is_open;
        login_refused(g, &m->cmd, &o);
        push_out(g, m->gate, &o);
        return;
    }
    if (g->s->cl_state) {
        g->porig[g->npend] = *m;
        g->pend[g->npend++] = m->cmd;
        return;
    }
    run(g, &m->cmd, m);
}

/* The sequencer's own command (symbol listing, schedule). */
static void run_own(eng *g, const bourse_cmd *c)
{
    bourse_cmd cmd = *c;
    if (g->s->cl_state) { /* cluster mode: proposed like any, applied once committed */
        uint64_t seq = cluster_propose(g->s->cl_node, &cmd, 1);
        if (seq)
            g->orig[seq & (ORIGINS - 1)].cmd.seq = 0; /* nobody to answer */
        return;
    }
    run(g, &cmd, NULL);
}

/* [market] rules and fees: the default venue rules of a symbol listed at
 * start, as `rules SYM ...` and `fees SYM ...` commands of the sequencer's
 * own, journaled like any.  Fees need the fee account: the user FEES is
 * opened first when there is none. */
static void list_defaults(eng *g, const char *sym, size_t n)
{
    const char *set[2][2] = {{"rules", g->s->cfg->rules}, {"fees", g->s->cfg->fees}};
    for (int i = 0; i < 2; i++) {
        if (!set[i][1][0])
            continue;
        char line[256], err[160];
        bourse_cmd c;
        snprintf(line, sizeof line, "%s %.*s %s", set[i][0], (int)n, sym, set[i][1]);
        if (i == 1 && bourse_user_find(g->e, "FEES", 4) == BOURSE_NONE) {
            bourse_cmd u = {.type = BOURSE_CMD_USER};
            memcpy(u.user_name.s, "FEES", 4);
            run_own(g, &u);
        }
        if (bourse_text_parse(line, strlen(line), &c, err, sizeof err) == BOURSE_TEXT_CMD)
            run_own(g, &c);
    }
}

static void run_own_cb(void *ctx, const bourse_cmd *c)
{
    run_own(ctx, c);
}

static void list_symbols(eng *g)
{
    const char *p = g->s->cfg->symbols;
    int added = 0;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, " \t,");
        if (n && n <= BOURSE_SYMBOL_LEN && bourse_symbol_find(g->e, p, n) == BOURSE_NONE) {
            bourse_cmd c = {.type = BOURSE_CMD_SYMBOL};
            memcpy(c.symbol_name.s, p, n);
            run_own(g, &c);
            added++;
            list_defaults(g, p, n);
        }
        p += n;
    }
    if (added)
        srv_log("listed %d symbols", added);
}

/* The next time (ns) that is `target` seconds after a local midnight, from
 * the local time tm, which is now_s seconds after its midnight. */
static int64_t next_local(const struct tm *tm, int now_s, int target)
{
    struct tm b = *tm;
    b.tm_hour = target / 3600;
    b.tm_min = target / 60 % 60;
    b.tm_sec = target % 60;
    if (target <= now_s)
        b.tm_mday++;
    b.tm_isdst = -1;
    return (int64_t)mktime(&b) * 1000000000;
}

/* Whether the market should be open now (with a schedule), and when the
 * next open, close or (without one) end of the trading day comes. */
static int64_t next_boundary(const srv_config *cfg, int64_t now_ns, int *should_open)
{
    time_t t = (time_t)(now_ns / 1000000000);
    struct tm tm;
    localtime_r(&t, &tm);
    int now_s = (tm.tm_hour * 60 + tm.tm_min) * 60 + tm.tm_sec;
    if (!cfg->schedule) {
        *should_open = -1;
        return next_local(&tm, now_s, cfg->day_end_s);
    }
    int o = cfg->open_s, c = cfg->close_s;
    *should_open = o < c ? (now_s >= o && now_s < c) : (now_s >= o || now_s < c);
    return next_local(&tm, now_s, *should_open ? c : o);
}

/*
 * The sequencer's clock.  With market hours it opens and closes the market.
 * Without, the market stays open but the trading day still ends, at
 * [market] day_end: a `close` and an `open` back to back expire the day
 * orders, restart the daily limits and, with [limits] day_ids, free the ids
 * of finished orders, so a server can run for months.
 */
static void schedule(eng *g, int64_t now)
{
    const srv_config *cfg = g->s->cfg;
    if ((!cfg->schedule && cfg->day_end_s < 0) || (g->next_boundary && now < g->next_boundary))
        return;
    int first = !g->next_boundary, should_open;
    g->next_boundary = next_boundary(cfg, now, &should_open);
    if (should_open < 0) {
        if (first || !g->is_open)
            return; /* closed by hand: the next `open` starts the day */
        srv_log("schedule: the trading day ends; the market closes and reopens");
        run_own(g, &(bourse_cmd){.type = BOURSE_CMD_CLOSE});
        run_own(g, &(bourse_cmd){.type = BOURSE_CMD_OPEN});
    } else if (should_open != g->is_open) {
        bourse_cmd c = {.type = should_open ? BOURSE_CMD_OPEN : BOURSE_CMD_CLOSE};
        srv_log("schedule: market %s", should_open ? "opens" : "closes");
        run_own(g, &c);
    }
}

static void maybe_snapshot(eng *g)
{
    srv *s = g->s;
    /* Only when idle: the fork copies the page tables and then every page
     * the engine writes, a pause proportional to the engine's size. */
    uint32_t every = s->cfg->snapshot_every;
    if (!s->journal || !every || g->since_snapshot < every)
        return;
    int r = journal_snapshot(s->journal, g->e);
    if (r == 0) {
        g->since_snapshot = 0;
        consumers_snapshot(&s->consumers,
                           journal_last_seq(s->journal)); /* market data saves its history there */
    } else if (r < 0)
        srv_log("snapshot failed: %s", journal_error(s->journal));
}

static int input_waiting(srv *s)
{
    if (s->cl_state && atomic_load_explicit(&s->cl_pending, memory_order_acquire))
        return 1;
    for (uint32_t i = 0; i < s->ngates; i++)
        if (spsc_count(&s->gates[i].in))
            return 1;
    return 0;
}

static int input_over(srv *s)
{
    for (uint32_t i = 0; i < s->ngates; i++)
        if (!atomic_load(&s->gates[i].input_done) || spsc_count(&s->gates[i].in))
            return 0;
    return 1;
}

static void wait_input(eng *g, int64_t start);

/* Wait for input, counting the time waited (metrics: the engine's busy
 * ratio is the rest): two clock reads per wait, none per command. */
static void idle(eng *g)
{
    srv_metrics *m = &g->s->metrics;
    int64_t t0 = srv_now_ns();
    atomic_store_explicit(&m->idle_since_ns, (uint64_t)t0, memory_order_relaxed);
    wait_input(g, t0);
    int64_t t1 = srv_now_ns();
    atomic_store_explicit(&m->idle_since_ns, 0, memory_order_relaxed);
    counter_add(&m->idle_ns, t1 > t0 ? (uint64_t)(t1 - t0) : 0);
}

static void wait_input(eng *g, int64_t start)
{
    srv *s = g->s;
    /* Poll a little first: a wake-up through the kernel costs tens of
     * microseconds, more than most gaps between commands under load. */
    int64_t until = start + (int64_t)s->cfg->spin_us * 1000;
    do {
        for (int i = 0; i < 64; i++) {
            if (input_waiting(s))
                return;
            __builtin_ia32_pause();
        }
    } while (srv_now_ns() < until);
    atomic_store(&s->engine_sleeping, 1);
    atomic_thread_fence(memory_order_seq_cst);
    if (!input_waiting(s) && !input_over(s)) {
        int timeout = 1000;
        if (g->next_boundary) {
            int64_t left = (g->next_boundary - srv_now_ns()) / 1000000 + 1;
            if (left < timeout)
                timeout = left < 0 ? 0 : (int)left;
        }
        futex_wait(&s->engine_sleeping, 1, (int64_t)timeout * 1000000);
    }
    atomic_store(&s->engine_sleeping, 0);
}

/* Up to BATCH commands from one gateway.  The gateway is woken once per
 * WAKE_EVERY commands (and at the end of a batch), not after each: woken
 * per command, it took one command's reports, wrote them and slept again,
 * so every command cost it a wake-up and the engine a system call.  The
 * stage clocks (stages.h) cost two clock readings per batch, at its start
 * and end, an addition per order and one record of the batch. */
static int take_batch(eng *g, srv_gate *gate)
{
    srv_in *m;
    int n = 0;
    uint64_t stamped = 0, since = 0; /* stage clocks: orders, and their waits in the ring, summed */
    int64_t taken = 0;
    /* Each command is run in its slot, not copied out; the slots go back
     * to the gateway with the wake-ups (spsc.h: one index store per batch). */
    while (n < BATCH && (m = spsc_peek(&gate->in, sizeof *m))) {
        if (m->t_read) {
            if (!stamped++)
                taken = srv_now_ns();
            since += stage_since(m->t_read, taken);
        }
        process(g, m);
        spsc_pop(&gate->in);
        if (g->npend == BATCH)
            propose(g);
        if (++n % WAKE_EVERY == 0) {
            spsc_release(&gate->in);
            wake_gateway(g);
        }
    }
    propose(g);
    spsc_release(&gate->in);
    if (stamped)
        stages_engine_batch(g->s, since, taken, srv_now_ns(), stamped);
    return n;
}

static int64_t now_ns(void *ctx)
{
    (void)ctx;
    return srv_now_ns();
}

void *srv_engine_main(void *arg)
{
    srv *s = arg;
    eng g = {.s = s, .e = s->engine};
    bourse_stats st;
    bourse_engine_stats(s->engine, &st);
    g.is_open = st.is_open;
    g.match = st.trades;
    g.ap = japply_leader(s->engine, s->journal, 0);
    if (!s->journal) {
        g.ap.seq = atomic_load(&s->applied_seq);
        g.ap.clock_ns = now_ns;
    }
    g.stage = calloc(SRV_MAX_GATES, sizeof *g.stage);
    if (!g.stage) {
        srv_log("out of memory");
        abort();
    }
    if (s->cl_state) {
        srv_acct_hashes_load(s, cluster_state_engine(s->cl_state));
        g.orig = calloc(ORIGINS, sizeof *g.orig);
        if (!g.orig) {
            srv_log("out of memory");
            abort();
        }
        g.e = cluster_state_engine(s->cl_state); /* Raft may have installed a snapshot at start */
        __atomic_store_n(&s->cl_eng, (void *)&g, __ATOMIC_RELEASE);
        srv_log("cluster mode: [market] symbols, rules, fees and the schedule's open and close are proposed "
                "by the leader once it serves");
    } else {
        list_symbols(&g);
        srv_acct_start(s, g.e, run_own_cb, &g);
        schedule(&g, srv_now_ns());
    }
    for (;;) {
        int n = 0;
        if (s->cl_state) {
            n += srv_cluster_take(s);
            check_serving(&g);
        }
        for (uint32_t i = 0; i < s->ngates; i++) /* in turn: no gateway starves another */
            n += take_batch(&g, &s->gates[i]);
        wake_gateway(&g);
        if (n)
            continue;
        if (input_over(s)) {
            if (!s->cl_state)
                break;
            atomic_store(&s->cl_quiet, 1);
            futex_wake(&s->cl_quiet, 1);
            if (atomic_load(&s->cl_stopped))
                break;
            sched_yield();
            continue;
        }
        if (s->cl_state) {
            /* The schedule is the serving leader's: it proposes `open` or
             * `close` when the applied state differs from the hours (the
             * barrier has applied every earlier leader's, so a new leader
             * never repeats one); a node not serving starts over. */
            if (cluster_serving(s->cl_node) && !atomic_load(&s->cl_stopping))
                schedule(&g, srv_now_ns());
            else
                g.next_boundary = 0;
            wake_gateway(&g);
            idle(&g);
            continue;
        }
        schedule(&g, srv_now_ns());
        wake_gateway(&g);
        maybe_snapshot(&g);
        idle(&g);
    }
    /* Everything is applied: make it durable, then let the gateways finish. */
    if (s->journal) {
        uint64_t last = journal_last_seq(s->journal);
        if (journal_wait_durable(s->journal, last) != 0)
            srv_log("final journal sync failed: %s", journal_error(s->journal));
        atomic_store(&s->applied_seq, last);
    }
    free(g.orig);
    free(g.stage);
    atomic_store(&s->engine_done, 1);
    for (uint32_t i = 0; i < s->ngates; i++)
        srv_wake_gate(&s->gates[i]);
    return NULL;
}
