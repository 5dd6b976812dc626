/*
 * cluster_mode.c - `bourse serve` as one node of a Raft cluster
 * (docs/replication.md, src/cluster).
 *
 * The server is the same: gateways, engine thread, market data.  What
 * changes is where a command goes and when its reports are released:
 *
 *   - the journal is opened by the replicated state machine
 *     (cluster_state_open, durability none: the Raft log is the durable
 *     copy), and s->journal stays NULL, so the gateways release a report
 *     once the engine thread says its seq is applied (applied_seq), which
 *     in this mode means committed on a majority and applied here;
 *   - the engine thread proposes the commands of one take_batch
 *     (cluster_propose) instead of applying them; proposals that queue
 *     up go as one Raft entry (src/cluster/node.c);
 *   - the Raft thread's apply hands each committed entry to the engine
 *     thread through a one-slot mailbox and waits for it (below): the
 *     engine thread stays the one thread that touches the engine and
 *     produces into the gateways' rings, and a Raft snapshot taken after
 *     apply returns sees the state at its index;
 *   - a follower refuses order-entry logins, naming the leader.
 */
#include "cluster/cluster.h"
#include "server/server.h"
#include "util/futex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int extra_save(void *ctx, uint64_t seq, void **buf, size_t *len);
static int extra_restore(void *ctx, uint64_t seq, const void *buf, size_t len, char *err, size_t errlen);

int srv_cluster_open(srv *s)
{
    const srv_config *cfg = s->cfg;
    char err[512];
    cluster_state_config sc = {.dir = cfg->data_dir,
                               .limits = cfg->limits,
                               .segment_bytes = (uint64_t)cfg->segment_mb << 20,
                               .on_event = srv_cluster_on_event,
                               .on_command = srv_cluster_on_command,
                               .ctx = s,
                               /* market data recovers from the journal as on a single server */
                               .recover_engine = s->hooks.on_engine,
                               .recover_command = s->hooks.on_command,
                               .recover_event = s->hooks.on_event,
                               .recover_ctx = s->hooks.ctx,
                               .extra_save = extra_save,
                               .extra_restore = extra_restore};
    s->cl_state = cluster_state_open(&sc, err, sizeof err);
    if (!s->cl_state) {
        srv_log("cannot open the journal: %s", err);
        return -1;
    }
    s->engine = cluster_state_engine(s->cl_state);
    atomic_store(&s->applied_seq, cluster_state_seq(s->cl_state));
    srv_log("cluster node %llu of %u: journal %s (durability none: the Raft log in %s/raft is the durable "
            "copy), recovered seq %llu, state %016llx",
            (unsigned long long)cfg->cluster->id, cfg->cluster->n, cfg->data_dir, cfg->data_dir,
            (unsigned long long)cluster_state_seq(s->cl_state),
            (unsigned long long)cluster_state_hash(s->cl_state));
    return 0;
}

/* The Raft thread: hand the committed batch (or, restore 1, a snapshot
 * to install; 2, a snapshot being taken) to the engine thread and wait
 * until it is done there. */
static int hand_over(srv *s, const uint8_t *buf, size_t len, int restore, const char **why)
{
    s->cl_buf = buf;
    s->cl_len = len;
    s->cl_restore = restore;
    atomic_store_explicit(&s->cl_pending, 1, memory_order_release);
    srv_wake_engine(s);
    while (atomic_load_explicit(&s->cl_pending, memory_order_acquire)) {
        if (atomic_load(&s->cl_stopping) && !__atomic_load_n(&s->cl_eng, __ATOMIC_ACQUIRE)) {
            *why = "the server stopped before its engine thread ran";
            return -1; /* srv_free after a failed start: nobody will apply it */
        }
        futex_wait(&s->cl_pending, 1, 100000000);
    }
    *why = s->cl_why;
    return s->cl_rc;
}

static int apply_on_engine(void *ctx, const uint8_t *buf, size_t len, const char **why)
{
    return hand_over(ctx, buf, len, 0, why);
}

/* ---- the consumers' state in a Raft snapshot (the feed's numbering) ----
 *
 * The Raft thread takes a snapshot at seq while no entry is being applied,
 * so the engine thread is between commands at seq: it asks each consumer
 * for its state there (replica_snapshot, one record in its ring), and this
 * thread waits for each (a ring behind: microseconds; at most
 * REPLICA_STATE_WAIT_MS, else the snapshot goes without, and a node
 * installing it numbers its feed from the snapshot, as before).  The
 * bytes: per consumer, its name's length (u32), its name, the state's
 * length (u64), the state. */

/* The Raft thread sends no heartbeat while it waits here: a bound well
 * under the election timeout (300 ms by default, heartbeats every 50 ms)
 * keeps a slow feed from making the followers start an election. */
enum { REPLICA_STATE_WAIT_MS = 100 };

static int extra_save(void *ctx, uint64_t seq, void **buf, size_t *len)
{
    srv *s = ctx;
    const consumer_set *cs = &s->consumers;
    int any = 0;
    for (int i = 0; i < cs->n; i++)
        any |= cs->ops[i]->replica_snapshot && cs->ops[i]->replica_state;
    const char *why = NULL;
    if (!any || s->cl_starting || hand_over(s, NULL, 0, 2, &why) != 0)
        return -1;
    uint8_t *out = NULL;
    size_t n = 0;
    for (int i = 0; i < cs->n; i++) {
        const consumer_ops *o = cs->ops[i];
        void *st = NULL;
        size_t sl = 0;
        if (!o->replica_snapshot || !o->replica_state)
            continue;
        if (o->replica_state(cs->ctx[i], seq, REPLICA_STATE_WAIT_MS, &st, &sl) != 0) {
            srv_log("cluster: snapshot at seq %llu goes without the %s's state (not ready in %d ms)",
                    (unsigned long long)seq, o->name, REPLICA_STATE_WAIT_MS);
            continue;
        }
        uint32_t nl = (uint32_t)strlen(o->name);
        uint64_t l = sl;
        uint8_t *p = realloc(out, n + 4 + nl + 8 + sl);
        if (!p) {
            free(st);
            continue;
        }
        out = p;
        memcpy(out + n, &nl, 4);
        memcpy(out + n + 4, o->name, nl);
        memcpy(out + n + 4 + nl, &l, 8);
        memcpy(out + n + 12 + nl, st, sl);
        n += 12 + nl + sl;
        free(st);
    }
    if (!out)
        return -1;
    *buf = out;
    *len = n;
    return 0;
}

static int extra_restore(void *ctx, uint64_t seq, const void *buf, size_t len, char *err, size_t errlen)
{
    srv *s = ctx;
    const consumer_set *cs = &s->consumers;
    const uint8_t *p = buf;
    size_t at = 0;
    while (at < len) {
        uint32_t nl;
        uint64_t sl;
        if (len - at < 4 || (memcpy(&nl, p + at, 4), len - at - 4 < (size_t)nl + 8)) {
            snprintf(err, errlen, "damaged consumers' state");
            return -1;
        }
        memcpy(&sl, p + at + 4 + nl, 8);
        if (len - at - 12 - nl < sl) {
            snprintf(err, errlen, "damaged consumers' state");
            return -1;
        }
        const uint8_t *st = p + at + 12 + nl;
        for (int i = 0; i < cs->n; i++) {
            const consumer_ops *o = cs->ops[i];
            if (!o->replica_install || strlen(o->name) != nl || memcmp(o->name, p + at + 4, nl))
                continue;
            char why[300];
            if (o->replica_install(cs->ctx[i], s->cfg->data_dir, seq, st, (size_t)sl, why, sizeof why) != 0) {
                snprintf(err, errlen, "%s: %s", o->name, why);
                return -1;
            }
            srv_log("cluster: the snapshot's %s state at seq %llu installed (%llu bytes)", o->name,
                    (unsigned long long)seq, (unsigned long long)sl);
        }
        at += 12 + nl + (size_t)sl;
    }
    return 0;
}

/* A snapshot install replaces the engine and restarts the journal: done on
 * the engine thread between two commands, never under its feet (a query,
 * a stream's rebuild and the apply path all hold the engine). */
static int restore_on_engine(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
    srv *s = ctx;
    if (s->cl_starting) { /* raft_start loads its last snapshot: no engine thread yet */
        int rc = cluster_state_restore(s->cl_state, buf, len, err, errlen);
        if (rc == 0)
            srv_cluster_restored(s);
        return rc;
    }
    const char *why = NULL;
    int rc = hand_over(s, buf, len, 1, &why);
    if (rc)
        snprintf(err, errlen, "%s", why ? why : "failed");
    return rc;
}

int srv_cluster_take(srv *s)
{
    if (!atomic_load_explicit(&s->cl_pending, memory_order_acquire))
        return 0;
    const char *why = NULL;
    if (s->cl_restore == 2) { /* a Raft snapshot is being taken at the applied seq */
        const consumer_set *cs = &s->consumers;
        uint64_t seq = cluster_state_seq(s->cl_state);
        for (int i = 0; i < cs->n; i++)
            if (cs->ops[i]->replica_snapshot && cs->ops[i]->replica_state)
                cs->ops[i]->replica_snapshot(cs->ctx[i], seq);
        s->cl_rc = 0;
    } else if (s->cl_restore) {
        s->cl_rc = cluster_state_restore(s->cl_state, s->cl_buf, s->cl_len, s->cl_err, sizeof s->cl_err);
        why = s->cl_err;
        if (s->cl_rc == 0) {
            srv_cluster_restored(s);
            /* The engine and the journal are the snapshot's now, but the
             * report streams were numbered from the commands this node
             * applied, and the ones the snapshot covers were never
             * delivered here: numbers would mean other reports.  They are
             * rebuilt from the journal only at start (a journal that starts
             * at a snapshot gives a new session name: clients are refused
             * rather than misled), so the node stops and its supervisor
             * starts it again: srv_cluster_restart_due, once libraft has
             * finished the install (its next apply, or 2 s). */
            s->cl_restart_at = srv_now_ns() + 2000000000LL;
            atomic_store(&s->cl_restart, 1);
            srv_log("installed a snapshot while running: the order-entry streams need a restart");
        }
    } else {
        s->cl_rc = cluster_state_apply(s->cl_state, s->cl_buf, s->cl_len, &why);
        if (atomic_load(&s->cl_restart) == 1)
            s->cl_restart_at = 0; /* libraft applies again: the install is over */
    }
    s->cl_why = why;
    atomic_store_explicit(&s->cl_pending, 0, memory_order_release);
    futex_wake(&s->cl_pending, 1);
    return 1;
}

void srv_cluster_restart_due(srv *s)
{
    if (atomic_load(&s->cl_restart) != 1 || srv_now_ns() < s->cl_restart_at)
        return;
    atomic_store(&s->cl_restart, 2);
    /* At once, as after a crash, which a node is built to survive: the Raft
     * log and snapshot are on disk, the journal (written on apply, without
     * a sync of its own) is in the page cache, and at start the entries past
     * the Raft snapshot are applied again (those the journal holds are
     * skipped).  Nothing of the orderly stop is needed: a node that has
     * just caught up by a snapshot is a follower and owes no client. */
    srv_log(
        "exiting to rebuild the order-entry streams from the new journal (exit status %d: start me again)",
        SRV_EXIT_RESTART);
    _exit(SRV_EXIT_RESTART);
}

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    srv_log("cluster: %s", line);
}

int srv_cluster_start(srv *s)
{
    char dir[SRV_PATH_MAX + 8], err[400];
    snprintf(dir, sizeof dir, "%s/raft", s->cfg->data_dir);
    cluster_node_config nc = {.cluster = s->cfg->cluster,
                              .state = s->cl_state,
                              .raft_dir = dir,
                              .log = log_line,
                              .apply = apply_on_engine,
                              .restore = restore_on_engine,
                              .apply_ctx = s};
    s->cl_starting = 1; /* cluster_start returns once raft_start has run */
    s->cl_node = cluster_start(&nc, err, sizeof err);
    s->cl_starting = 0;
    if (!s->cl_node) {
        srv_log("cannot start the cluster node: %s", err);
        return -1;
    }
    return 0;
}

void srv_cluster_stop(srv *s)
{
    if (!s->cl_node)
        return;
    /* The engine thread proposes nothing once the gateways took their last
     * input; then the node can go (its thread may be waiting in
     * apply_on_engine, which the engine thread still serves). */
    atomic_store(&s->cl_stopping, 1);
    for (int i = 0; i < 10000 && __atomic_load_n(&s->cl_eng, __ATOMIC_ACQUIRE) && !atomic_load(&s->cl_quiet);
         i++)
        futex_wait(&s->cl_quiet, 0, 1000000);
    cluster_stop(s->cl_node);
    s->cl_node = NULL;
    atomic_store(&s->cl_stopped, 1);
    srv_wake_engine(s);
}

void srv_cluster_not_leader(srv *s, char *buf, size_t len)
{
    cluster_status st = {0};
    if (s->cl_node)
        cluster_status_get(s->cl_node, &st);
    /* The leader's order-entry address: the file's, or the one `cluster
     * add` gave; its Raft address when neither is known. */
    const cluster_peer *p = st.leader ? cluster_peer_of(s->cfg->cluster, st.leader) : NULL;
    const char *addr = p ? (p->serve[0] ? p->serve : p->addr) : NULL;
    for (unsigned i = 0; !addr && i < st.n; i++)
        if (st.peers[i].id == st.leader)
            addr = st.peers[i].serve[0] ? st.peers[i].serve : st.peers[i].addr;
    if (!st.leader || !addr || st.leader == s->cfg->cluster->id)
        snprintf(buf, len, "not the leader: no leader serving yet; retry");
    else
        snprintf(buf, len, "not the leader: the leader is node %llu (%s)", (unsigned long long)st.leader,
                 addr);
}

/* The admin socket's cluster lines (a gateway thread; cluster_status_get
 * takes the node's lock): `cluster` (or `cluster status`) and `cluster
 * transfer [N]`, `cluster add ID ADDR[/ORDERADDR]`, `cluster remove ID`
 * (members.c).  Answered at once, not in turn with the commands before
 * them.  1 when the line was one of these (out holds the answer, ".\n"
 * ended), 0 otherwise. */
int srv_cluster_admin(srv *s, const char *line, size_t len, char *out, size_t outlen)
{
    if (!s->cl_node || len < 7 || memcmp(line, "cluster", 7) || (len > 7 && line[7] != ' '))
        return 0;
    char l[200];
    snprintf(l, sizeof l, "%.*s", (int)(len < sizeof l - 1 ? len : sizeof l - 1), line);
    size_t n = 0;
    if (!strcmp(l, "cluster") || !strcmp(l, "cluster status")) {
        n = cluster_status_text(s->cl_node, s->cfg->cluster->id, out, outlen - 3);
    } else if (cluster_admin_members(s->cl_node, l, out, outlen - 3)) {
        n = strlen(out);
    } else if (!strncmp(l, "cluster transfer", 16) && (l[16] == 0 || l[16] == ' ')) {
        char *end;
        unsigned long long to = strtoull(l + 16, &end, 10);
        cluster_status st;
        cluster_status_get(s->cl_node, &st);
        int member = !to;
        for (unsigned i = 0; i < st.n; i++)
            member |= st.peers[i].id == to;
        if (*end || (!member && (st.n || !cluster_peer_of(s->cfg->cluster, to))))
            n = (size_t)snprintf(out, outlen, "! cluster transfer: node %s is not a member\n", l + 17);
        else if (cluster_transfer(s->cl_node, to) == 0)
            n = (size_t)snprintf(out, outlen, "OK transferring leadership to %s%llu\n",
                                 to ? "node " : "the best follower ", to);
        else {
            char why[160];
            srv_cluster_not_leader(s, why, sizeof why);
            n = (size_t)snprintf(out, outlen, "! %s\n", why);
        }
    } else {
        n = (size_t)snprintf(out, outlen,
                             "! unknown cluster command '%s' (cluster, cluster transfer [N], cluster add ID "
                             "RAFTADDR/ORDERADDR, cluster remove ID)\n",
                             l);
    }
    if (n > outlen - 3)
        n = outlen - 3;
    memcpy(out + n, ".\n", 3);
    return 1;
}
