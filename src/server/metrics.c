/*
 * metrics.c - what the server exports (docs/metrics.md lists every metric),
 * rendered on demand by whichever thread asks (metrics.h says who writes
 * each counter).
 *
 * Reading another thread's state here is safe because nothing read is
 * ever freed or moved while the server runs and every word read is either
 * an atomic (the counters, the rings' published indices, the journal's
 * seqs) or written once before the threads start (the gateways' adapters,
 * the consumer set).  What a thread keeps in plain memory and may grow
 * (the engine's tables, a gateway's connections) is not read at all: a
 * symbol's name for the busiest symbols is copied by the engine thread
 * into srv_metrics when the symbol is first counted.
 *
 * The process figures come from /proc: RSS from /proc/self/statm, CPU per
 * thread from /proc/self/task/TID/stat (utime + stime, clock ticks) with
 * the thread's name from its `comm` (pthread_setname_np: bourse-engine,
 * bourse-gw0, bourse-auth, ...).  A scrape costs some system calls on the
 * thread that renders, never on the engine thread.
 */
#include "server/metrics.h"
#include "cluster/cluster.h"
#include "journal/journal.h"
#include "server/gateway.h"
#include "server/server.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void metrics_init(srv_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->started_ns = srv_now_ns();
    hist_init(&m->command_ns, 100);
    for (int g = 0; g < METRICS_GATES; g++)
        for (int p = 0; p < METRICS_PROTOS; p++)
            hist_init(&m->gates[g].round_trip[p], 1000);
}

void metrics_set_feed(srv *s, void (*fn)(void *ctx, metrics_feed *out), void *ctx)
{
    s->metrics.feed_fn = fn;
    s->metrics.feed_ctx = ctx;
}

int metrics_add_hist(srv *s, const char *name, const char *help, const char *labels, const hist *h,
                     double div)
{
    srv_metrics *m = &s->metrics;
    if (m->nextra == METRICS_EXTRA)
        return -1;
    m->extra[m->nextra++] = (metrics_extra){name, help, labels ? labels : "", h, div > 0 ? div : 1};
    return 0;
}

static const char *const cmd_names[BOURSE_CMD_COUNT_] = {
    [BOURSE_CMD_SYMBOL] = "symbol",       [BOURSE_CMD_USER] = "user",
    [BOURSE_CMD_DEPOSIT] = "deposit",     [BOURSE_CMD_WITHDRAW] = "withdraw",
    [BOURSE_CMD_LIMIT] = "limit",         [BOURSE_CMD_OPEN] = "open",
    [BOURSE_CMD_CLOSE] = "close",         [BOURSE_CMD_ORDER] = "order",
    [BOURSE_CMD_CANCEL] = "cancel",       [BOURSE_CMD_REPLACE] = "replace",
    [BOURSE_CMD_BOOK] = "book",           [BOURSE_CMD_BALANCE] = "balance",
    [BOURSE_CMD_RULES] = "rules",         [BOURSE_CMD_FEES] = "fees",
    [BOURSE_CMD_HALT] = "halt",           [BOURSE_CMD_RESUME] = "resume",
    [BOURSE_CMD_BLOCK] = "block",         [BOURSE_CMD_UNBLOCK] = "unblock",
    [BOURSE_CMD_CANCELALL] = "cancelall", [BOURSE_CMD_HALTALL] = "haltall",
    [BOURSE_CMD_RESUMEALL] = "resumeall", [BOURSE_CMD_ACCOUNT] = "account",
    [BOURSE_CMD_FIXSESS] = "fixsess",
};

static const char *const ev_names[BOURSE_EV_COUNT_] = {
    [BOURSE_EV_OK] = "ok",
    [BOURSE_EV_ERROR] = "error",
    [BOURSE_EV_ACCEPTED] = "accepted",
    [BOURSE_EV_REJECTED] = "rejected",
    [BOURSE_EV_TRADE] = "trade",
    [BOURSE_EV_CANCELED] = "canceled",
    [BOURSE_EV_REPLACED] = "replaced",
    [BOURSE_EV_LEVEL] = "level",
    [BOURSE_EV_BALANCE] = "balance",
    [BOURSE_EV_FEE] = "fee",
    [BOURSE_EV_ACCOUNT] = "account",
};

static uint64_t load(const _Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static uint64_t ring_depth(const spsc *q)
{
    uint64_t h = atomic_load_explicit(&((spsc *)q)->pub_head, memory_order_relaxed);
    uint64_t t = atomic_load_explicit(&((spsc *)q)->pub_tail, memory_order_relaxed);
    return h > t ? h - t : 0;
}

static void engine(mout *o, srv *s)
{
    srv_metrics *m = &s->metrics;
    mout_head(o, "bourse_commands_total", "counter",
              "Commands the engine ran (sequenced, journaled and applied), by type.");
    for (int t = 1; t < BOURSE_CMD_COUNT_; t++)
        if (cmd_names[t])
            mout_printf(o, "bourse_commands_total{type=\"%s\"} %llu\n", cmd_names[t],
                        (unsigned long long)load(&m->commands[t]));
    mout_head(o, "bourse_commands_refused_total", "counter",
              "Commands refused before the engine (journal full or failing, out of memory).");
    mout_printf(o, "bourse_commands_refused_total %llu\n", (unsigned long long)load(&m->refused));
    mout_head(o, "bourse_events_total", "counter", "Events the engine produced, by type.");
    for (int t = 1; t < BOURSE_EV_COUNT_; t++)
        if (ev_names[t]) /* a new event type without a name is left out, not printed as NULL */
            mout_printf(o, "bourse_events_total{type=\"%s\"} %llu\n", ev_names[t],
                        (unsigned long long)load(&m->events[t]));
    mout_head(o, "bourse_last_seq", "gauge", "The seq of the last command the engine ran.");
    mout_printf(o, "bourse_last_seq %llu\n", (unsigned long long)load(&m->last_seq));
    mout_head(o, "bourse_durable_seq", "gauge",
              "The last seq known durable (reports are released up to it).");
    mout_printf(o, "bourse_durable_seq %llu\n", (unsigned long long)srv_durable_seq(s));

    int64_t now = srv_now_ns(), up = now - m->started_ns;
    uint64_t idle = load(&m->idle_ns);
    int64_t since = (int64_t)load(&m->idle_since_ns);
    if (since && now > since)
        idle += (uint64_t)(now - since);
    double busy = up > (int64_t)idle ? (double)(up - (int64_t)idle) / 1e9 : 0;
    mout_head(o, "bourse_uptime_seconds", "gauge", "Seconds since the server started.");
    mout_printf(o, "bourse_uptime_seconds %.3f\n", (double)up / 1e9);
    mout_head(o, "bourse_engine_busy_seconds_total", "counter",
              "Seconds the engine thread spent not waiting for input; its rate is the engine's busy ratio.");
    mout_printf(o, "bourse_engine_busy_seconds_total %.6f\n", busy);
    hist_snap h;
    hist_read(&m->command_ns, &h);
    mout_head(
        o, "bourse_engine_command_seconds", "histogram",
        "Engine time of one command in 64: resolve, journal append, apply, publish to rings and consumers.");
    mout_hist(o, "bourse_engine_command_seconds", "", &h, 1e9);
}

/* Round trips per protocol, summed over the gateways that speak it. */
static void round_trips(mout *o, srv *s)
{
    srv_metrics *m = &s->metrics;
    const char *names[METRICS_PROTOS * METRICS_GATES];
    hist_snap sums[METRICS_PROTOS];
    int n = 0;
    mout_head(o, "bourse_order_round_trip_seconds", "histogram",
              "From reading an order entry message to handing its first report (durable) to its protocol, "
              "by protocol.");
    for (uint32_t gi = 0; gi < s->ngates && gi < METRICS_GATES; gi++) {
        const gateway *g = s->gates[gi].gw;
        if (!g)
            continue;
        for (uint32_t p = 0; p < g->nprotos && p < METRICS_PROTOS; p++) {
            if (!g->protos[p].p->logs_in)
                continue;
            const char *name = g->protos[p].p->name;
            int k = 0;
            while (k < n && strcmp(names[k], name))
                k++;
            if (k == METRICS_PROTOS)
                continue;
            hist_snap one;
            hist_read(&m->gates[gi].round_trip[p], &one);
            if (k == n) {
                names[n++] = name;
                sums[k] = one;
            } else
                hist_snap_merge(&sums[k], &one);
        }
    }
    for (int k = 0; k < n; k++) {
        char labels[64];
        mout lo = {.buf = labels, .cap = sizeof labels - 1};
        mout_printf(&lo, "protocol=\"");
        mout_label(&lo, names[k], strlen(names[k]));
        mout_printf(&lo, "\"");
        labels[lo.len < sizeof labels - 1 ? lo.len : sizeof labels - 1] = 0;
        mout_hist(o, "bourse_order_round_trip_seconds", labels, &sums[k], 1e9);
    }
}

static void gateways(mout *o, srv *s)
{
    srv_metrics *m = &s->metrics;
    mout_head(o, "bourse_sessions", "gauge", "Logged-in order-entry sessions, by gateway thread.");
    for (uint32_t g = 0; g < s->ngates && g < METRICS_GATES; g++)
        mout_printf(o, "bourse_sessions{gateway=\"%u\"} %llu\n", g,
                    (unsigned long long)load(&m->gates[g].sessions));
    mout_head(o, "bourse_logins_total", "counter",
              "Sessions that logged in, by the gateway thread that holds them.");
    for (uint32_t g = 0; g < s->ngates && g < METRICS_GATES; g++)
        mout_printf(o, "bourse_logins_total{gateway=\"%u\"} %llu\n", g,
                    (unsigned long long)load(&m->gates[g].logins));
    mout_head(o, "bourse_connections", "gauge",
              "Order-entry connections open (logged in or not), all gateways.");
    mout_printf(o, "bourse_connections %u\n", atomic_load(&s->sessions));

    struct ring {
        const char *name;
        const spsc *q;
        uint32_t gate;
    } r[3 * SRV_MAX_GATES + 3];
    int n = 0;
    for (uint32_t g = 0; g < s->ngates; g++) {
        r[n++] = (struct ring){"gateway_to_engine", &s->gates[g].in, g};
        r[n++] = (struct ring){"engine_to_gateway", &s->gates[g].out, g};
        r[n++] = (struct ring){"closed_to_acceptor", &s->gates[g].closed, g};
    }
    r[n++] = (struct ring){"admin_replies", &s->text, 0};
    r[n++] = (struct ring){"auth_requests", &s->auth_req, 0};
    r[n++] = (struct ring){"auth_results", &s->auth_res, 0};
    for (int pass = 0; pass < 2; pass++) {
        if (pass)
            mout_head(o, "bourse_ring_capacity", "gauge", "Slots of a ring between two threads.");
        else
            mout_head(o, "bourse_ring_depth", "gauge", "Messages waiting in a ring between two threads.");
        for (int i = 0; i < n; i++) {
            if (!r[i].q->slots)
                continue;
            mout_printf(o, "%s{ring=\"%s\",gateway=\"%u\"} %llu\n",
                        pass ? "bourse_ring_capacity" : "bourse_ring_depth", r[i].name, r[i].gate,
                        (unsigned long long)(pass ? r[i].q->mask + 1 : ring_depth(r[i].q)));
        }
    }
}

static void journal_part(mout *o, srv *s)
{
    if (!s->journal)
        return;
    hist_snap h;
    hist_read(journal_sync_hist(s->journal, 0), &h);
    mout_head(o, "bourse_journal_sync_seconds", "histogram",
              "Time of one group commit's syncs (fdatasync) by the journal's syncer.");
    mout_hist(o, "bourse_journal_sync_seconds", "", &h, 1e9);
    hist_read(journal_sync_hist(s->journal, 1), &h);
    mout_head(o, "bourse_journal_group_commands", "histogram", "Commands made durable by one group commit.");
    mout_hist(o, "bourse_journal_group_commands", "", &h, 1);
}

static void consumers(mout *o, srv *s)
{
    uint64_t last = load(&s->metrics.last_seq);
    mout_head(o, "bourse_consumer_lag_commands", "gauge",
              "Commands run by the engine that a consumer of its events has not taken yet.");
    for (int i = 0; i < s->consumers.n; i++) {
        const consumer_ops *c = s->consumers.ops[i];
        if (!c->position)
            continue;
        uint64_t p = c->position(s->consumers.ctx[i]);
        mout_printf(o, "bourse_consumer_lag_commands{consumer=\"");
        mout_label(o, c->name ? c->name : "?", 64);
        mout_printf(o, "\"} %llu\n", (unsigned long long)(last > p ? last - p : 0));
    }
    if (!s->metrics.feed_fn)
        return;
    metrics_feed f = {0};
    s->metrics.feed_fn(s->metrics.feed_ctx, &f);
    mout_head(o, "bourse_feed_subscribers", "gauge", "Market-data subscribers connected, by kind.");
    mout_printf(o, "bourse_feed_subscribers{kind=\"binary\"} %llu\n", (unsigned long long)f.bin_subscribers);
    mout_printf(o, "bourse_feed_subscribers{kind=\"websocket\"} %llu\n",
                (unsigned long long)f.ws_subscribers);
    mout_head(o, "bourse_feed_messages_total", "counter", "Sequenced market-data messages published.");
    mout_printf(o, "bourse_feed_messages_total %llu\n", (unsigned long long)f.messages);
    mout_head(o, "bourse_feed_ring_depth", "gauge",
              "Records the engine put in the feed's ring not yet taken.");
    mout_printf(o, "bourse_feed_ring_depth %llu\n", (unsigned long long)f.ring_depth);
    mout_head(o, "bourse_feed_engine_waits_total", "counter", "Times the engine found the feed's ring full.");
    mout_printf(o, "bourse_feed_engine_waits_total %llu\n", (unsigned long long)f.engine_waits);
    mout_head(o, "bourse_feed_cut_total", "counter", "Subscribers disconnected for falling behind.");
    mout_printf(o, "bourse_feed_cut_total %llu\n", (unsigned long long)f.cut);
    mout_head(o, "bourse_feed_udp_dropped_total", "counter", "UDP datagrams the kernel would not take.");
    mout_printf(o, "bourse_feed_udp_dropped_total %llu\n", (unsigned long long)f.udp_dropped);
}

static void cluster_part(mout *o, srv *s)
{
    if (!s->cl_node)
        return;
    cluster_status st;
    cluster_status_get(s->cl_node, &st);
    static const char *const roles[] = {"unavailable", "follower", "candidate", "leader"};
    mout_head(o, "bourse_cluster_role", "gauge", "This node's Raft role: 1 for the role it has.");
    for (int r = 0; r < 4; r++)
        mout_printf(o, "bourse_cluster_role{role=\"%s\"} %d\n", roles[r], st.role == r);
    mout_head(o, "bourse_cluster_term", "gauge", "The Raft term.");
    mout_printf(o, "bourse_cluster_term %llu\n", (unsigned long long)st.term);
    mout_head(o, "bourse_cluster_apply_lag_entries", "gauge",
              "Raft entries committed and not yet applied here.");
    mout_printf(
        o, "bourse_cluster_apply_lag_entries %llu\n",
        (unsigned long long)(st.commit_index > st.applied_index ? st.commit_index - st.applied_index : 0));
    if (st.role != CLUSTER_LEADER)
        return;
    mout_head(o, "bourse_cluster_replication_lag_entries", "gauge",
              "The leader's log entries not yet known replicated on a peer, by peer id.");
    for (unsigned i = 0; i < st.n && i < CLUSTER_MAX_NODES; i++) {
        const cluster_peer_status *p = &st.peers[i];
        mout_printf(o, "bourse_cluster_replication_lag_entries{peer=\"%llu\"} %llu\n",
                    (unsigned long long)p->id,
                    (unsigned long long)(st.last_index > p->match ? st.last_index - p->match : 0));
    }
}

static void symbols(mout *o, srv *s)
{
    srv_metrics *m = &s->metrics;
    for (int pass = 0; pass < 2; pass++) {
        const char *name = pass ? "bourse_symbol_trades_total" : "bourse_symbol_orders_total";
        mout_head(o, name, "counter",
                  pass ? "Trades, by symbol (the first 1024 symbols listed)."
                       : "Orders accepted, by symbol (the first 1024 symbols listed).");
        for (int i = 0; i < METRICS_SYMBOLS; i++) {
            const metrics_symbol *y = &m->symbols[i];
            if (!atomic_load_explicit(&y->named, memory_order_acquire))
                continue;
            mout_printf(o, "%s{symbol=\"", name);
            mout_label(o, y->name.s, BOURSE_SYMBOL_LEN);
            mout_printf(o, "\"} %llu\n", (unsigned long long)load(pass ? &y->trades : &y->orders));
        }
    }
}

/* /proc/self/task/TID/stat: the name and utime + stime in ticks, or -1. */
static int thread_cpu(const char *tid, char *comm, size_t n, unsigned long long *ticks)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%s/stat", tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t k = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (k <= 0)
        return -1;
    buf[k] = 0;
    char *l = strchr(buf, '('), *r = strrchr(buf, ')');
    if (!l || !r || r < l)
        return -1;
    size_t len = (size_t)(r - l - 1) < n - 1 ? (size_t)(r - l - 1) : n - 1;
    memcpy(comm, l + 1, len);
    comm[len] = 0;
    /* after ") ": state (3), then fields 4.. ; utime is 14, stime 15 */
    unsigned long long ut = 0, st = 0;
    if (sscanf(r + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    *ticks = ut + st;
    return 0;
}

static void process(mout *o)
{
    long page = sysconf(_SC_PAGESIZE), hz = sysconf(_SC_CLK_TCK);
    FILE *f = fopen("/proc/self/statm", "re");
    unsigned long long size = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%llu %llu", &size, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    mout_head(o, "bourse_process_resident_memory_bytes", "gauge", "Resident memory of the server process.");
    mout_printf(o, "bourse_process_resident_memory_bytes %llu\n", rss * (unsigned long long)page);
    mout_head(o, "bourse_process_virtual_memory_bytes", "gauge", "Virtual memory of the server process.");
    mout_printf(o, "bourse_process_virtual_memory_bytes %llu\n", size * (unsigned long long)page);
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return;
    mout_head(o, "bourse_thread_cpu_seconds_total", "counter", "CPU time (user + system) of each thread.");
    unsigned long long all = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char comm[32];
        unsigned long long t;
        if (e->d_name[0] == '.' || thread_cpu(e->d_name, comm, sizeof comm, &t) != 0)
            continue;
        all += t;
        mout_printf(o, "bourse_thread_cpu_seconds_total{thread=\"");
        mout_label(o, comm, sizeof comm);
        mout_printf(o, "\",tid=\"%s\"} %.2f\n", e->d_name, (double)t / (double)hz);
    }
    closedir(d);
    mout_head(o, "bourse_process_cpu_seconds_total", "counter", "CPU time of the server's live threads.");
    mout_printf(o, "bourse_process_cpu_seconds_total %.2f\n", (double)all / (double)hz);
}

static void extras(mout *o, srv *s)
{
    srv_metrics *m = &s->metrics;
    for (int i = 0; i < m->nextra; i++) {
        const metrics_extra *x = &m->extra[i];
        int first = 1; /* one HELP/TYPE per family: extras of one name are listed together */
        for (int j = 0; j < i; j++)
            if (!strcmp(m->extra[j].name, x->name))
                first = 0;
        if (!first)
            continue;
        mout_head(o, x->name, "histogram", x->help);
        for (int j = i; j < m->nextra; j++) {
            if (strcmp(m->extra[j].name, x->name))
                continue;
            hist_snap h;
            hist_read(m->extra[j].h, &h);
            mout_hist(o, x->name, m->extra[j].labels, &h, m->extra[j].div);
        }
    }
}

size_t metrics_render(srv *s, char *buf, size_t cap)
{
    mout o = {.buf = buf, .cap = cap};
    engine(&o, s);
    if (!atomic_load_explicit(&s->metrics.ready, memory_order_acquire)) { /* before srv_start is done */
        if (cap)
            buf[o.len < cap ? o.len : cap - 1] = 0;
        return o.len;
    }
    round_trips(&o, s);
    gateways(&o, s);
    journal_part(&o, s);
    consumers(&o, s);
    cluster_part(&o, s);
    symbols(&o, s);
    extras(&o, s);
    process(&o);
    if (cap)
        buf[o.len < cap ? o.len : cap - 1] = 0;
    return o.len;
}

size_t srv_metrics_render(void *s, char *buf, size_t cap)
{
    size_t n = metrics_render(s, buf, cap);
    return n < cap ? n : cap - 1; /* a cut text, never past the buffer (1 MiB: far above today's) */
}

char *metrics_text(srv *s, size_t *len)
{
    size_t cap = 64 << 10;
    for (int tries = 0; tries < 4; tries++) {
        char *b = malloc(cap);
        if (!b)
            return NULL;
        size_t n = metrics_render(s, b, cap);
        if (n < cap) {
            *len = n;
            return b;
        }
        free(b);
        cap = n + (16 << 10); /* threads or symbols appeared meanwhile: a margin */
    }
    return NULL;
}
