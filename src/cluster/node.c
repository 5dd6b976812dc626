/*
 * node.c - one Raft node on its own thread (see cluster.h).
 *
 * The thread runs a libuv loop: libraft's raft_uv keeps the Raft log and
 * snapshots in the node's raft directory and raft_uv_tcp talks to the other
 * nodes.  libraft calls the state machine (state.c) on this thread, so the
 * state is only ever touched here; other threads reach the node through:
 *
 *   a proposal queue  cluster_propose stamps seq and time on the caller's
 *                     thread, encodes the batch and queues it under a mutex
 *                     (once per batch, never per order), then wakes the
 *                     loop with uv_async_send; the loop hands them to
 *                     raft_apply in order, those that waited together as
 *                     one entry (coalesce, below);
 *   a status          copied out under the same mutex (cluster_status_get),
 *                     refreshed by a 10 ms timer.
 *
 * Serving.  A node that wins an election does not take proposals at once:
 * it first appends a barrier, and only once the barrier is applied (so
 * every entry of earlier terms is committed and applied here) does it know
 * the next seq and start serving.  Each serving period is an epoch; a
 * proposal queued in one epoch and still queued when it ends is dropped,
 * so the seqs in the committed log never leave a gap (cluster.h, "Seq").
 * A synchronous raft_apply failure also ends the epoch; the next barrier
 * starts a new one.
 *
 * Role changes are seen by the timer (libraft 0.15 has no callback for
 * them) and logged with the reason Raft implies: a follower that becomes a
 * candidate heard no leader for an election timeout; a leader that becomes
 * a follower saw a higher term or lost contact with a majority.
 *
 * When a node stands for election, and whom it grants a vote, is libraft's
 * but for what elect.c adds (the vote rule, peer probes, fast failover);
 * the structure both files share is in node_int.h.
 */
#include "cluster/node_int.h"
#include "journal/record.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <raft.h>
#include <raft/uv.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

const char *cluster_role_name(int role)
{
    switch (role) {
    case CLUSTER_FOLLOWER: return "follower";
    case CLUSTER_CANDIDATE: return "candidate";
    case CLUSTER_LEADER: return "leader";
    default: return "unavailable";
    }
}

void node_say(cluster_node *n, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int k = snprintf(line, sizeof line, "cluster: node %llu: ", (unsigned long long)n->cc.id);
    vsnprintf(line + k, sizeof line - (size_t)k, fmt, ap);
    va_end(ap);
    if (n->cfg.log)
        n->cfg.log(n->cfg.log_ctx, line);
    else
        fprintf(stderr, "bourse: %s\n", line);
}

/* ---- the state machine, as libraft calls it (this thread) ---- */

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    cluster_node *n = fsm->data;
    const char *why = NULL;
    *result = NULL;
    if (n->broken)
        return RAFT_SHUTDOWN;
    int r = n->cfg.apply ? n->cfg.apply(n->cfg.apply_ctx, buf->base, buf->len, &why)
                         : cluster_state_apply(n->st, buf->base, buf->len, &why);
    if (r != 0) {
        /* The state cannot follow the log any more: stop taking part
         * (serving ends below), say why loudly, and let the operator
         * rebuild this node from the others (wipe its data directory). */
        n->broken = 1;
        atomic_store(&n->serving, 0);
        node_say(n,
                 "FATAL: cannot apply entry %llu: %s; this node stops applying (wipe its data directory "
                 "and restart it to rebuild it from the others)",
                 (unsigned long long)n->raft.last_applied + 1, why);
        return RAFT_SHUTDOWN;
    }
    return 0;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    cluster_node *n = fsm->data;
    struct raft_buffer *b = raft_malloc(sizeof *b);
    if (!b)
        return RAFT_NOMEM;
    if (cluster_state_save(n->st, &b->base, &b->len) != 0) {
        raft_free(b);
        return RAFT_NOMEM;
    }
    *bufs = b;
    *n_bufs = 1;
    return 0;
}

static int fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    (void)fsm;
    for (unsigned i = 0; i < *n_bufs; i++)
        raft_free((*bufs)[i].base);
    raft_free(*bufs);
    *bufs = NULL;
    *n_bufs = 0;
    return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    cluster_node *n = fsm->data;
    char err[256];
    uint64_t before = cluster_state_seq(n->st);
    int rc = n->cfg.restore ? n->cfg.restore(n->cfg.apply_ctx, buf->base, buf->len, err, sizeof err)
                            : cluster_state_restore(n->st, buf->base, buf->len, err, sizeof err);
    if (rc != 0) {
        n->broken = 1;
        node_say(n, "FATAL: cannot install a snapshot: %s", err);
        return RAFT_IOERR;
    }
    if (cluster_state_seq(n->st) != before)
        node_say(n, "installed a snapshot: state at seq %llu (was %llu)",
                 (unsigned long long)cluster_state_seq(n->st), (unsigned long long)before);
    raft_free(buf->base); /* ours on success */
    return 0;
}

/* ---- proposals ---- */

static void proposal_free(proposal *p, int owned_buf)
{
    if (owned_buf)
        raft_free(p->buf.base);
    free(p);
}

static void end_serving(cluster_node *n, const char *why)
{
    if (atomic_exchange(&n->serving, 0))
        node_say(n, "stops serving: %s", why);
}

static void apply_done(struct raft_apply *req, int status, void *result)
{
    (void)result;
    proposal *p = req->data;
    cluster_node *n = p->node;
    if (status != 0) {
        n->failed++;
        if (p->epoch == atomic_load(&n->epoch))
            end_serving(n, raft_strerror(status));
    }
    proposal_free(p, 0);
}

/* Coalescing.  Each proposal is one take_batch of the engine thread, a
 * command or two at a moderate rate, and one Raft entry costs the same
 * whatever it holds: an append synced on every node, a round trip, and on
 * every node a hand-over to its engine thread (cluster_mode.c).  Three
 * nodes on two shared vCPUs topped out near 4,000 entries a second (1.2 to
 * 1.5 commands each), so past about 5,000 orders/s the queue grew without
 * bound.  Proposals that waited here together (the Raft thread was busy:
 * syncing, applying) go as one entry: their commands are consecutive seqs
 * of one epoch, so one batch header (the first's seq, the sum of counts)
 * over the commands end to end is the same log, in fewer entries.  The
 * busier the Raft thread, the bigger its entries; idle, nothing changes. */
enum { COALESCE_MAX = 4096 }; /* commands in one entry: bounds its size (~1 MB) */

/* Proposals are batches cluster_propose made: sound. */
static uint32_t batch_count(const proposal *p)
{
    return (uint32_t)cluster_batch_count(p->buf.base, p->buf.len);
}

static uint64_t batch_first(const proposal *p)
{
    return cluster_batch_first(p->buf.base);
}

/* Merge into p the proposals after it that continue its seqs in its epoch
 * (up to COALESCE_MAX commands); those are freed. */
static void coalesce(proposal *p)
{
    uint32_t count = batch_count(p);
    proposal *q = p->next;
    uint32_t total = count;
    while (q && q->epoch == p->epoch && batch_first(q) == batch_first(p) + total &&
           total + batch_count(q) <= COALESCE_MAX) {
        total += batch_count(q);
        q = q->next;
    }
    if (total == count)
        return;
    uint8_t *buf = raft_malloc(cluster_batch_size(total));
    if (!buf)
        return; /* each goes alone */
    memcpy(buf, p->buf.base, p->buf.len);
    size_t at = p->buf.len;
    cluster_batch_header(buf, total, batch_first(p));
    for (proposal *r = p->next; r != q;) {
        size_t body = r->buf.len - cluster_batch_size(0);
        memcpy(buf + at, (const uint8_t *)r->buf.base + cluster_batch_size(0), body);
        at += body;
        proposal *after = r->next;
        proposal_free(r, 1);
        r = after;
    }
    raft_free(p->buf.base);
    p->buf = (struct raft_buffer){.base = buf, .len = at};
    p->next = q;
}

static void drain_proposals(cluster_node *n)
{
    pthread_mutex_lock(&n->mu);
    proposal *p = n->head;
    n->head = n->tail = NULL;
    pthread_mutex_unlock(&n->mu);
    while (p) {
        coalesce(p);
        proposal *next = p->next;
        int live = atomic_load(&n->serving) && p->epoch == atomic_load(&n->epoch) &&
                   raft_state(&n->raft) == RAFT_LEADER;
        int rc = live ? raft_apply(&n->raft, &p->req, &p->buf, 1, apply_done) : RAFT_NOTLEADER;
        if (rc != 0) {
            n->failed++;
            if (live)
                end_serving(n, raft_strerror(rc)); /* the rest of the epoch is dropped too */
            proposal_free(p, 1);
        } else
            n->proposed++;
        p = next;
    }
}

uint64_t cluster_propose(cluster_node *n, bourse_cmd *cmds, uint32_t count)
{
    if (!atomic_load_explicit(&n->serving, memory_order_acquire) || !count)
        return 0;
    uint64_t epoch = atomic_load(&n->epoch);
    proposal *p = calloc(1, sizeof *p);
    uint8_t *buf = p ? raft_malloc(cluster_batch_size(count)) : NULL;
    if (!buf) {
        free(p);
        return 0;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    uint64_t first = atomic_load(&n->next_seq), seq = first;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < count; i++) {
        /* What the journal would refuse is refused here (seq 0), where the
         * leader still can, not on every node at apply. */
        bourse_cmd probe = cmds[i];
        if (!memcmp(probe.symbol_name.s, "CASH\0\0\0\0", BOURSE_SYMBOL_LEN))
            probe.symbol = BOURSE_CASH; /* as bourse_engine_resolve will */
        if (rec_check(&probe)) {
            cmds[i].seq = 0;
            continue;
        }
        cmds[i].seq = seq++;
        if (!cmds[i].ts_ns)
            cmds[i].ts_ns = now;
        cluster_batch_put(buf, kept++, &cmds[i]);
    }
    if (!kept) {
        raft_free(buf);
        free(p);
        return 0;
    }
    atomic_store(&n->next_seq, seq);
    cluster_batch_header(buf, kept, first);
    p->buf = (struct raft_buffer){.base = buf, .len = cluster_batch_size(kept)};
    p->epoch = epoch;
    p->node = n;
    p->req.data = p;
    pthread_mutex_lock(&n->mu);
    if (n->tail)
        n->tail->next = p;
    else
        n->head = p;
    n->tail = p;
    pthread_mutex_unlock(&n->mu);
    uv_async_send(&n->async);
    return seq - 1;
}

/* ---- serving: a barrier first ---- */

static void barrier_done(struct raft_barrier *req, int status)
{
    cluster_node *n = req->data;
    n->barrier_pending = 0;
    if (status != 0 || raft_state(&n->raft) != RAFT_LEADER || n->raft.current_term != n->term || n->broken)
        return; /* the timer tries again if still leader */
    atomic_store(&n->next_seq, cluster_state_seq(n->st) + 1);
    atomic_fetch_add(&n->epoch, 1);
    atomic_store_explicit(&n->serving, 1, memory_order_release);
    node_say(n, "serving as leader of term %llu from seq %llu", (unsigned long long)n->term,
             (unsigned long long)cluster_state_seq(n->st) + 1);
}

static void transfer_done(struct raft_transfer *req)
{
    cluster_node *n = req->data;
    raft_id id = 0;
    const char *addr = NULL;
    raft_leader(&n->raft, &id, &addr);
    n->transferring = 0;
    if (id == req->id)
        node_say(n, "leadership transferred to node %llu", (unsigned long long)id);
    else
        node_say(n, "leadership transfer to node %llu did not complete (leader now %llu)",
                 (unsigned long long)req->id, (unsigned long long)id);
}

/* ---- membership: adding and removing nodes (the node's thread) ----
 *
 * Raft keeps the membership itself: each change is a configuration entry
 * in the log, committed like any, so a restart (and a snapshot) keeps it
 * and the file's `nodes` only bootstraps a new cluster.  A node is added as
 * a spare (it votes on nothing), then promoted to voter: libraft's
 * raft_assign first catches it up (rounds of entries, or a snapshot) and
 * only then appends the configuration that counts it, so a new node never
 * weighs on the majority while it is empty.  One change at a time: from
 * the moment one is taken (cluster_change) until libraft says it is over,
 * another is refused with "a membership change is in progress ... retry"
 * (change_busy, under mu), never answered OK and then dropped. */

static void serve_of(cluster_node *n, uint64_t id, char *out, size_t len)
{
    const cluster_peer *p = cluster_peer_of(&n->cc, id);
    for (unsigned i = 0; !p && i < n->nadded; i++)
        if (n->added[i].id == id)
            p = &n->added[i];
    snprintf(out, len, "%s", p ? p->serve : "");
}

/* The change under way is over (done, failed or never started): the next
 * `cluster add|remove` is taken again. */
static void change_over(cluster_node *n)
{
    n->changing = 0;
    pthread_mutex_lock(&n->mu);
    n->change_busy = 0;
    pthread_mutex_unlock(&n->mu);
}

static void assign_done(struct raft_change *req, int status)
{
    cluster_node *n = req->data;
    change_over(n);
    if (status)
        node_say(n, "membership: node %llu not made a voter: %s", (unsigned long long)n->change_peer.id,
                 raft_strerror(status));
    else
        node_say(n, "membership: node %llu caught up and is a voter (%u nodes)",
                 (unsigned long long)n->change_peer.id, n->raft.configuration.n);
}

static void add_done(struct raft_change *req, int status)
{
    cluster_node *n = req->data;
    if (status) {
        change_over(n);
        node_say(n, "membership: adding node %llu failed: %s", (unsigned long long)n->change_peer.id,
                 raft_strerror(status));
        return;
    }
    node_say(n, "membership: node %llu (%s) added as a spare; catching it up before it votes",
             (unsigned long long)n->change_peer.id, n->change_peer.addr);
    int rc = raft_assign(&n->raft, &n->change, n->change_peer.id, RAFT_VOTER, assign_done);
    if (rc) {
        change_over(n);
        node_say(n, "membership: node %llu not made a voter: %s", (unsigned long long)n->change_peer.id,
                 raft_strerror(rc));
    }
}

static void remove_done(struct raft_change *req, int status)
{
    cluster_node *n = req->data;
    change_over(n);
    if (status)
        node_say(n, "membership: removing node %llu failed: %s", (unsigned long long)n->change_peer.id,
                 raft_strerror(status));
    else
        node_say(n, "membership: node %llu removed (%u nodes)", (unsigned long long)n->change_peer.id,
                 n->raft.configuration.n);
}

static void start_change(cluster_node *n, int op, const cluster_peer *p)
{
    if (raft_state(&n->raft) != RAFT_LEADER || n->changing) {
        node_say(n, "membership: %s node %llu not started: %s", op == 'a' ? "adding" : "removing",
                 (unsigned long long)p->id,
                 n->changing ? "another change is under way" : "no longer the leader");
        if (!n->changing)
            change_over(n);
        return;
    }
    n->change_peer = *p;
    n->change.data = n;
    int rc = op == 'a' ? raft_add(&n->raft, &n->change, p->id, p->addr, add_done)
                       : raft_remove(&n->raft, &n->change, p->id, remove_done);
    if (rc) {
        node_say(n, "membership: %s node %llu refused: %s", op == 'a' ? "adding" : "removing",
                 (unsigned long long)p->id, raft_strerror(rc));
        change_over(n);
        return;
    }
    n->changing = 1;
    node_say(n, "membership: %s node %llu%s%s (asked by an operator)", op == 'a' ? "adding" : "removing",
             (unsigned long long)p->id, op == 'a' ? " at " : "", op == 'a' ? p->addr : "");
}

int cluster_change(cluster_node *n, int op, const cluster_peer *p, char *err, size_t errlen)
{
    pthread_mutex_lock(&n->mu);
    const cluster_status *s = &n->status;
    int member = 0, rc = -1;
    for (unsigned i = 0; i < s->n; i++)
        if (s->peers[i].id == p->id || (op == 'a' && !strcmp(s->peers[i].addr, p->addr)))
            member = 1;
    if (s->role != CLUSTER_LEADER)
        snprintf(err, errlen, "not the leader");
    else if (n->change_op || n->change_busy)
        snprintf(err, errlen,
                 "a membership change is in progress (%s node %llu); retry once `cluster` shows it done",
                 n->change_busy_op == 'a' ? "adding" : "removing", (unsigned long long)n->change_busy_id);
    else if (op == 'a' && member)
        snprintf(err, errlen, "node %llu or address %s is already a member", (unsigned long long)p->id,
                 p->addr);
    else if (op == 'a' && s->n >= CLUSTER_MAX_NODES)
        snprintf(err, errlen, "at most %d nodes", CLUSTER_MAX_NODES);
    else if (op == 'r' && !member)
        snprintf(err, errlen, "node %llu is not a member", (unsigned long long)p->id);
    else if (op == 'r' && p->id == n->cc.id)
        snprintf(err, errlen, "node %llu leads: hand leadership over first (cluster transfer)",
                 (unsigned long long)p->id);
    else {
        n->change_op = op;
        n->change_busy = 1;
        n->change_busy_op = op;
        n->change_busy_id = p->id;
        n->want_peer = *p;
        if (op == 'a' && p->serve[0] && n->nadded < CLUSTER_MAX_NODES)
            n->added[n->nadded++] = *p;
        rc = 0;
    }
    pthread_mutex_unlock(&n->mu);
    return rc;
}

/* ---- the timer: roles, status, requests ---- */

static void tick(uv_timer_t *t)
{
    cluster_node *n = t->data;
    struct raft *r = &n->raft;
    int role = raft_state(r);
    raft_id leader = 0;
    const char *laddr = NULL;
    elect_tick(n);
    role = raft_state(r);
    raft_leader(r, &leader, &laddr);
    if (role != n->role) {
        const char *why = "";
        if (role == RAFT_CANDIDATE)
            why = n->role == RAFT_LEADER       ? ""
                  : n->stood && n->leader_lost ? ": writes to the leader failed (fast failover)"
                                               : ": no word from a leader within the election timeout";
        else if (role == RAFT_LEADER)
            why = ": won the election";
        else if (role == RAFT_FOLLOWER && n->role == RAFT_LEADER)
            why = r->current_term > n->term ? ": saw a higher term" : ": lost contact with a majority";
        else if (role == RAFT_FOLLOWER && n->role == RAFT_CANDIDATE)
            why = leader ? ": another node won the election" : ": election lost";
        node_say(n, "%s -> %s (term %llu)%s", cluster_role_name(n->role), cluster_role_name(role),
                 (unsigned long long)r->current_term, why);
        if (n->role == RAFT_LEADER)
            end_serving(n, "no longer the leader");
        n->role = role;
    }
    if (role == RAFT_LEADER && r->current_term != n->term)
        end_serving(n, "a new term");
    n->term = r->current_term;
    if (leader != n->leader && leader && role != RAFT_LEADER)
        node_say(n, "the leader is node %llu (%s)", (unsigned long long)leader, laddr ? laddr : "?");
    n->leader = leader;
    if (role == RAFT_LEADER && !atomic_load(&n->serving) && !n->barrier_pending && !n->broken) {
        n->barrier.data = n;
        if (raft_barrier(r, &n->barrier, barrier_done) == 0)
            n->barrier_pending = 1;
    }

    pthread_mutex_lock(&n->mu);
    uint64_t to = n->transfer_to;
    n->transfer_to = 0;
    cluster_status *s = &n->status;
    s->role = n->broken ? CLUSTER_UNAVAILABLE : role;
    s->serving = atomic_load(&n->serving);
    s->term = r->current_term;
    s->leader = leader;
    s->last_index = raft_last_index(r);
    s->commit_index = r->commit_index;
    s->applied_index = r->last_applied;
    s->applied_seq = cluster_state_seq(n->st);
    s->next_seq = s->serving ? atomic_load(&n->next_seq) : 0;
    s->proposed = n->proposed;
    s->failed = n->failed;
    s->n = 0;
    for (unsigned i = 0; i < r->configuration.n && i < CLUSTER_MAX_NODES; i++) {
        cluster_peer_status *ps = &s->peers[s->n++];
        ps->id = r->configuration.servers[i].id;
        ps->role = r->configuration.servers[i].role;
        snprintf(ps->addr, sizeof ps->addr, "%s", r->configuration.servers[i].address);
        serve_of(n, ps->id, ps->serve, sizeof ps->serve);
        ps->match = role == RAFT_LEADER ? r->leader_state.progress[i].match_index : 0;
        /* libraft clears recent_recv at each election-timeout check, so a
         * sample right after the clear says nothing: a peer counts as
         * unreachable only when not heard from for two timeouts. */
        int64_t now = (int64_t)r->io->time(r->io);
        if (n->heard_id[i] != ps->id) /* a membership change moved the nodes */
            n->heard_id[i] = ps->id, n->heard_ms[i] = now;
        if (role == RAFT_LEADER && r->leader_state.progress[i].recent_recv)
            n->heard_ms[i] = now;
        ps->recent = role == RAFT_LEADER && now - n->heard_ms[i] < 2 * (int64_t)n->cc.election_ms;
        if (ps->id == n->cc.id)
            ps->match = raft_last_index(r), ps->recent = 1;
    }
    int op = n->change_op;
    cluster_peer change = n->want_peer;
    n->change_op = 0;
    pthread_mutex_unlock(&n->mu);

    if (op)
        start_change(n, op, &change);
    if (to && role == RAFT_LEADER && !n->transferring) {
        n->transfer.data = n;
        int rc = raft_transfer(r, &n->transfer, to - 1, transfer_done);
        if (rc == 0) {
            n->transferring = 1;
            node_say(n, "transferring leadership to node %llu (asked by an operator)",
                     (unsigned long long)to - 1);
        } else
            node_say(n, "leadership transfer refused: %s", raft_strerror(rc));
    }
}

int cluster_transfer(cluster_node *n, uint64_t to)
{
    pthread_mutex_lock(&n->mu);
    int leader = n->status.role == CLUSTER_LEADER;
    if (leader)
        n->transfer_to = to + 1;
    pthread_mutex_unlock(&n->mu);
    return leader ? 0 : -1;
}

size_t cluster_status_text(cluster_node *node, uint64_t id, char *buf, size_t len)
{
    cluster_status s;
    cluster_status_get(node, &s);
    int n = snprintf(
        buf, len, "node %llu %s term %llu leader %llu last %llu commit %llu applied %llu seq %llu%s\n",
        (unsigned long long)id, cluster_role_name(s.role), (unsigned long long)s.term,
        (unsigned long long)s.leader, (unsigned long long)s.last_index, (unsigned long long)s.commit_index,
        (unsigned long long)s.applied_index, (unsigned long long)s.applied_seq, s.serving ? " serving" : "");
    for (unsigned i = 0; s.role == CLUSTER_LEADER && i < s.n && n < (int)len - 100; i++)
        n += snprintf(buf + n, len - (size_t)n, "peer %llu match %llu lag %llu%s\n",
                      (unsigned long long)s.peers[i].id, (unsigned long long)s.peers[i].match,
                      (unsigned long long)(s.last_index - s.peers[i].match),
                      s.peers[i].recent ? "" : " unreachable");
    /* The membership as Raft has it (the last configuration entry this
     * node holds, committed or not), on every node. */
    static const char *const roles[] = {"standby", "voter", "spare"};
    for (unsigned i = 0; i < s.n && n < (int)len - 200; i++)
        n += snprintf(buf + n, len - (size_t)n, "member %llu %s %s%s%s\n", (unsigned long long)s.peers[i].id,
                      s.peers[i].role >= 0 && s.peers[i].role <= 2 ? roles[s.peers[i].role] : "?",
                      s.peers[i].addr, s.peers[i].serve[0] ? "/" : "", s.peers[i].serve);
    return n < (int)len ? (size_t)n : len - 1;
}

int cluster_serving(cluster_node *n)
{
    return atomic_load_explicit(&n->serving, memory_order_acquire);
}

void cluster_status_get(cluster_node *n, cluster_status *out)
{
    pthread_mutex_lock(&n->mu);
    *out = n->status;
    pthread_mutex_unlock(&n->mu);
}

/* ---- the thread ---- */

static void closed_handle(uv_handle_t *h)
{
    (void)h;
}

static void raft_closed(struct raft *r)
{
    cluster_node *n = r->data;
    raft_uv_close(&n->io);
    raft_uv_tcp_close(&n->tr);
    uv_close((uv_handle_t *)&n->async, closed_handle);
    uv_close((uv_handle_t *)&n->timer, closed_handle);
}

static void on_async(uv_async_t *a)
{
    cluster_node *n = a->data;
    pthread_mutex_lock(&n->mu);
    int stop = n->stop_asked == 1;
    if (stop)
        n->stop_asked = 2;
    pthread_mutex_unlock(&n->mu);
    if (stop) {
        atomic_store(&n->serving, 0);
        drain_proposals(n); /* dropped: not serving */
        uv_timer_stop(&n->timer);
        raft_close(&n->raft, raft_closed);
        return;
    }
    if (n->stop_asked != 2)
        drain_proposals(n);
}

/* Why libraft could not start, where its own message is only "I/O
 * error": can the Raft address ("A.B.C.D:PORT") be bound?  errno of the
 * bind (as libuv binds: SO_REUSEADDR), or 0. */
static int bind_error(const char *addr)
{
    struct sockaddr_in a;
    if (cluster_addr_parse(addr, &a) != 0)
        return 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, e = 0;
    if (fd < 0)
        return 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0)
        e = errno;
    close(fd);
    return e;
}

static int start_raft(cluster_node *n, char *err, size_t errlen)
{
    const cluster_peer *me = cluster_peer_of(&n->cc, n->cc.id);
    int rc;
    if (uv_loop_init(&n->loop) != 0) {
        snprintf(err, errlen, "cannot start an event loop");
        return -1;
    }
    if ((rc = raft_uv_tcp_init(&n->tr, &n->loop)) != 0 ||
        (rc = raft_uv_init(&n->io, &n->loop, n->raft_dir, &n->tr)) != 0) {
        snprintf(err, errlen, "%.200s: %s", n->raft_dir, raft_strerror(rc));
        return -1;
    }
    raft_uv_set_connect_retry_delay(&n->io, 50);
    elect_wrap(n);
    n->fsm = (struct raft_fsm){.version = 2,
                               .data = n,
                               .apply = fsm_apply,
                               .snapshot = fsm_snapshot,
                               .restore = fsm_restore,
                               .snapshot_finalize = fsm_snapshot_finalize};
    if ((rc = raft_init(&n->raft, &n->io, &n->fsm, n->cc.id, me->addr)) != 0) {
        snprintf(err, errlen, "raft: %s", raft_errmsg(&n->raft));
        return -1;
    }
    n->raft.data = n;
    raft_set_election_timeout(&n->raft, n->cc.election_ms);
    raft_set_heartbeat_timeout(&n->raft, n->cc.heartbeat_ms);
    raft_set_snapshot_threshold(&n->raft, n->cc.snapshot_threshold);
    raft_set_snapshot_trailing(&n->raft, n->cc.snapshot_trailing);
    /* libraft's default is 30 s: a snapshot whose answer was lost (the
     * answer travels on a connection the new node may still be making)
     * would leave that node 30 s behind. */
    raft_set_install_snapshot_timeout(&n->raft, n->cc.install_ms);
    raft_set_pre_vote(&n->raft, true);
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    for (unsigned i = 0; i < n->cc.n; i++)
        if ((rc = raft_configuration_add(&conf, n->cc.peers[i].id, n->cc.peers[i].addr, RAFT_VOTER)) != 0) {
            raft_configuration_close(&conf);
            snprintf(err, errlen, "raft configuration: %s", raft_strerror(rc));
            return -1;
        }
    /* RAFT_CANTBOOTSTRAP: not pristine, as after a restart.  A node that
     * joins a running cluster bootstraps nothing: it waits, empty, until
     * the leader adds it (`cluster add`) and sends it the log. */
    rc = n->cc.join ? 0 : raft_bootstrap(&n->raft, &conf);
    raft_configuration_close(&conf);
    if (rc != 0 && rc != RAFT_CANTBOOTSTRAP) {
        snprintf(err, errlen, "raft bootstrap: %s", raft_errmsg(&n->raft));
        return -1;
    }
    if ((rc = raft_start(&n->raft)) != 0) {
        /* libraft leaves the why in one of three places: a Raft port that
         * cannot be bound (taken by another process) says so only in the
         * transport's message. */
        const char *why = raft_errmsg(&n->raft);
        if (!why[0])
            why = n->io.errmsg[0] ? n->io.errmsg : n->tr.errmsg[0] ? n->tr.errmsg : raft_strerror(rc);
        int e = bind_error(me->addr);
        if (e)
            snprintf(err, errlen, "raft start: cannot listen on %.64s (this node's Raft address): %s",
                     me->addr, strerror(e));
        else
            snprintf(err, errlen, "raft start: %.150s", why);
        return -1;
    }
    n->async.data = n;
    n->timer.data = n;
    uv_async_init(&n->loop, &n->async, on_async);
    uv_timer_init(&n->loop, &n->timer);
    uv_timer_start(&n->timer, tick, 0, 10);
    return 0;
}

static void *node_main(void *arg)
{
    cluster_node *n = arg;
    char err[256] = "";
    int rc = start_raft(n, err, sizeof err);
    pthread_mutex_lock(&n->mu);
    n->started = 1;
    n->start_rc = rc;
    snprintf(n->start_err, sizeof n->start_err, "%s", err);
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
    if (rc != 0)
        return NULL;
    uv_run(&n->loop, UV_RUN_DEFAULT);
    uv_loop_close(&n->loop);
    return NULL;
}

cluster_node *cluster_start(const cluster_node_config *cfg, char *err, size_t errlen)
{
    cluster_node *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    n->cfg = *cfg;
    n->cc = *cfg->cluster;
    n->st = cfg->state;
    n->role = RAFT_FOLLOWER;
    snprintf(n->raft_dir, sizeof n->raft_dir, "%s", cfg->raft_dir);
    if (cluster_config_check(&n->cc, err, errlen) != 0 || !n->cc.id) {
        if (!n->cc.id)
            snprintf(err, errlen, "no [cluster] node");
        free(n);
        return NULL;
    }
    if (mkdir(n->raft_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", n->raft_dir, strerror(errno));
        free(n);
        return NULL;
    }
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, NULL);
    if (pthread_create(&n->thread, NULL, node_main, n) != 0) {
        snprintf(err, errlen, "cannot start the cluster thread");
        free(n);
        return NULL;
    }
    pthread_mutex_lock(&n->mu);
    while (!n->started)
        pthread_cond_wait(&n->cv, &n->mu);
    int rc = n->start_rc;
    pthread_mutex_unlock(&n->mu);
    if (rc != 0) {
        snprintf(err, errlen, "%s", n->start_err);
        pthread_join(n->thread, NULL);
        free(n);
        return NULL;
    }
    return n;
}

void cluster_stop(cluster_node *n)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    n->stop_asked = 1;
    pthread_mutex_unlock(&n->mu);
    uv_async_send(&n->async);
    pthread_join(n->thread, NULL);
    proposal *p = n->head;
    while (p) {
        proposal *next = p->next;
        proposal_free(p, 1);
        p = next;
    }
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->cv);
    free(n);
}
