/*
 * elect.c - what this project adds to libraft 0.15's elections, on the
 * node's thread (node_int.h): the vote rule that lets the first survivor
 * to stand win, probes that find a peer's dead connection before an
 * election needs it, and fast failover, which stands for election as soon
 * as writes to a dead leader fail.  libraft's receive and tick callbacks
 * are wrapped at start (elect_wrap), so every message passes here first;
 * the node's 10 ms timer calls elect_tick.  Each piece's why is above it.
 * Safety never rests on any of this, only on Raft's votes: each piece
 * changes when a node stands or how soon it may be granted a vote.
 */
#include "cluster/node_int.h"

#include <stddef.h>

/* Leader stickiness at the vote.  libraft 0.15 refuses a vote (and a
 * pre-vote) for as long as a follower knows a leader, that is until the
 * follower's own randomized timeout (1 to 2 election timeouts) fires,
 * while the Raft dissertation (4.2.3) only asks a server to refuse "within
 * the minimum election timeout of hearing from a current leader".  So
 * after a leader's death the first survivor to stand was refused by the
 * other ("local server has a leader -> reject" in libraft's trace, on
 * every failover), and the election waited for the second one's timer:
 * the later of two draws.  Here every message libraft receives passes
 * first (the transport's receive callback, wrapped at start): a vote
 * request that reaches a follower whose leader has been silent for half an
 * election timeout is handed to libraft with the leader's id hidden for
 * that call, so the vote is judged as if no leader were known; unless the
 * call changed the term (a real vote of a higher term makes libraft drop
 * its leader itself), the id is put back.  The leader's address is never
 * touched: libraft answers appends in flight to it.  Half, not one: the
 * survivors heard the leader's last heartbeat at nearly the same moment,
 * so the first to stand after its whole timeout of silence might still
 * find the other a few ms short of one.  A follower that has seen its own
 * write to the leader fail since the leader last spoke (fast failover,
 * below) judges so at once.  Safety does not rest on this rule, only on
 * the votes; a leader silent that long is what elections are for.  On the
 * Raft thread, as every libraft callback; an append or snapshot from the
 * leader clears a failed write (the leader lives). */
static void on_raft_message(struct raft_io *io, struct raft_message *m)
{
    cluster_node *n = (cluster_node *)((char *)io - offsetof(cluster_node, io));
    struct raft *r = &n->raft;
    raft_id leader = raft_state(r) == RAFT_FOLLOWER ? r->follower_state.current_leader.id : 0;
    if (leader && m->server_id == leader &&
        (m->type == RAFT_IO_APPEND_ENTRIES || m->type == RAFT_IO_INSTALL_SNAPSHOT))
        n->leader_lost = 0, n->stood = 0; /* it speaks: whatever failed, it lives */
    int lost = n->leader_lost && n->lost_leader == leader;
    if (m->type != RAFT_IO_REQUEST_VOTE || !leader ||
        (!lost && r->io->time(r->io) - r->election_timer_start < r->election_timeout / 2)) {
        n->raft_recv(io, m);
        return;
    }
    raft_term term = r->current_term;
    r->follower_state.current_leader.id = 0;
    n->raft_recv(io, m);
    if (r->current_term == term && raft_state(r) == RAFT_FOLLOWER && !r->follower_state.current_leader.id)
        r->follower_state.current_leader.id = leader;
}

static int io_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick, raft_io_recv_cb recv)
{
    cluster_node *n = (cluster_node *)((char *)io - offsetof(cluster_node, io));
    n->raft_recv = recv;
    n->raft_tick = tick;
    return n->uv_start(io, msecs, tick, on_raft_message);
}

/* Peer probes.  libraft's transport writes to a peer over a connection of
 * its own and reads nothing from it, so a connection to a peer that has
 * since restarted (kill -9, then started again) looks healthy until a
 * write fails: the first message written to it is lost (the peer's kernel
 * answers it with a reset) and only the next one reconnects.  Followers
 * write to each other only during an election, so the message lost was a
 * vote request or its answer, and the election waited a whole new timeout
 * (seen in libraft's trace: a pre-vote granted, written, never received).
 * So every node writes a message every heartbeat to every peer that
 * Raft's own rules ignore: a RequestVote result of term 0, older than any
 * term (terms start at 1), which a candidate drops as stale and anyone
 * else as unasked.  A stale connection is then found and replaced within
 * two heartbeats of the peer's restart, not in the middle of an
 * election.  One probe per peer in flight; none while the peer is down
 * (the transport queues it, and the slot waits for its callback). */
static void probe_done(struct raft_io_send *req, int status)
{
    struct probe *p = req->data;
    p->busy = 0;
    if (status == 0 || status == RAFT_CANCELED) /* written, or the node closing */
        return;
    cluster_node *n = p->node;
    struct raft *r = &n->raft;
    if (n->cc.fast_failover && raft_state(r) == RAFT_FOLLOWER &&
        p->to == r->follower_state.current_leader.id && !n->leader_lost) {
        n->leader_lost = r->io->time(r->io);
        n->lost_leader = p->to;
        n->stood = 0;
    }
}

static void probe_peers(cluster_node *n)
{
    struct raft *r = &n->raft;
    raft_time now = r->io->time(r->io);
    if (raft_state(r) == RAFT_UNAVAILABLE)
        return;
    int all = now - n->last_probe >= n->cc.heartbeat_ms;
    if (all)
        n->last_probe = now;
    /* The leader, every turn of the timer (10 ms): fast failover's
     * detector (below).  The others every heartbeat. */
    raft_id leader =
        n->cc.fast_failover && raft_state(r) == RAFT_FOLLOWER ? r->follower_state.current_leader.id : 0;
    for (unsigned i = 0; i < r->configuration.n && i < CLUSTER_MAX_NODES; i++) {
        const struct raft_server *sv = &r->configuration.servers[i];
        struct probe *p = &n->probes[i];
        if (sv->id == n->cc.id || p->busy || (!all && sv->id != leader))
            continue;
        struct raft_message m = {
            .type = RAFT_IO_REQUEST_VOTE_RESULT, .server_id = sv->id, .server_address = sv->address};
        m.request_vote_result = (struct raft_request_vote_result){
            .term = 0, .vote_granted = false, .pre_vote = raft_tribool_false};
        p->req.data = p;
        p->node = n;
        p->to = sv->id;
        p->busy = 1;
        if (r->io->send(r->io, &p->req, &m, probe_done) != 0)
            p->busy = 0;
    }
}

/* Fast failover.  A leader killed, or whose process ended, leaves its
 * peers nothing to wait for: its kernel closed its sockets.  libraft
 * learns of it only by its election timer (1 to 2 timeouts of silence,
 * checked once a heartbeat), but the probes above write to the leader
 * every 10 ms, and the second write after its death fails (the first is
 * answered by a reset).  A follower whose write to its leader fails, and
 * who has heard nothing from that leader since, stands for election at
 * once instead of waiting out its timer: its timer is made to have
 * expired and libraft's tick is run.  Two survivors detect within about
 * one probe of each other, and two candidates standing together split
 * the vote (each votes for itself, and both wait a whole timeout again),
 * so they stand in turn: the survivors are ranked by id, and the k-th
 * stands k heartbeats after its detection, by which time the first has
 * normally won (an election is one round trip for the pre-vote and one
 * for the vote).  A survivor that has itself seen its write to the
 * leader fail grants the vote at once (on_raft_message).  A leader that
 * is alive but cut off, stopped or slow fails no write (the kernel
 * buffers them): that is the election timeout's case, unchanged.  Safety
 * does not rest on any of this, only on the votes: at worst a follower
 * stands early and is refused (its pre-vote loses, so no term is
 * spent).  [cluster] fast_failover = 0 turns it off. */
static void stand_now(cluster_node *n)
{
    struct raft *r = &n->raft;
    raft_id leader = r->follower_state.current_leader.id;
    if (!n->leader_lost)
        return;
    if (raft_state(r) != RAFT_FOLLOWER || leader != n->lost_leader) {
        n->leader_lost = 0; /* an election came, or another leader */
        return;
    }
    if (n->stood)
        return;
    unsigned rank = 0;
    int voter = 0;
    for (unsigned i = 0; i < r->configuration.n; i++) {
        const struct raft_server *sv = &r->configuration.servers[i];
        if (sv->id == n->cc.id)
            voter = sv->role == RAFT_VOTER;
        else if (sv->role == RAFT_VOTER && sv->id != leader && sv->id < n->cc.id)
            rank++;
    }
    raft_time now = r->io->time(r->io);
    raft_time all = 2 * (raft_time)r->election_timeout; /* past any randomized timeout */
    if (!voter || now < n->leader_lost + rank * n->cc.heartbeat_ms || now < all)
        return;
    n->stood = 1;
    node_say(
        n, "writes to the leader (node %llu) fail and it has been silent %llu ms: standing for election now",
        (unsigned long long)leader, (unsigned long long)(now - r->election_timer_start));
    r->election_timer_start = now - all;
    n->raft_tick(&n->io);
}

void elect_wrap(cluster_node *n)
{
    n->uv_start = n->io.start;
    n->io.start = io_start;
}

void elect_tick(cluster_node *n)
{
    probe_peers(n);
    stand_now(n);
}
