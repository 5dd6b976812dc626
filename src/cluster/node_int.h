/*
 * node_int.h - a Raft node's insides, shared by the files of src/cluster
 * that run on its thread: node.c (the thread, the state machine, the
 * proposals, the status) and elect.c (what this project adds to libraft's
 * elections: the vote rule, the peer probes, fast failover).  Nothing
 * outside src/cluster includes it.
 */
#ifndef BOURSE_CLUSTER_NODE_INT_H
#define BOURSE_CLUSTER_NODE_INT_H

#include "cluster/cluster.h"

#include <pthread.h>
#include <raft.h>
#include <raft/uv.h>
#include <stdatomic.h>
#include <uv.h>

typedef struct proposal {
    struct raft_apply req;
    struct raft_buffer buf;
    uint64_t epoch;
    struct cluster_node *node;
    struct proposal *next;
} proposal;

struct cluster_node {
    cluster_node_config cfg;
    cluster_config cc;
    cluster_state *st;
    char raft_dir[CLUSTER_PATH_MAX];
    pthread_t thread;
    uv_loop_t loop;
    uv_async_t async;
    uv_timer_t timer;
    struct raft_uv_transport tr;
    struct raft_io io;
    struct raft_fsm fsm;
    struct raft raft;
    struct raft_barrier barrier;
    struct raft_transfer transfer;
    struct raft_change change;

    pthread_mutex_t mu; /* the queue, the requests and the status */
    pthread_cond_t cv;  /* start-up */
    proposal *head, *tail;
    int stop_asked, started, start_rc;
    uint64_t transfer_to; /* asked: 1 + id (0 = none) */
    /* A membership change asked (members.c): op 'a' add, 'r' remove, 0
     * none; and the order-entry addresses of nodes added at run time (the
     * Raft configuration holds only their Raft addresses). */
    int change_op;
    int change_busy;    /* a change asked and not yet over (under mu): the next is refused */
    int change_busy_op; /* which ('a' or 'r'), for the refusal */
    uint64_t change_busy_id;
    cluster_peer want_peer;   /* the change asked (under mu) */
    cluster_peer change_peer; /* the change under way (the loop thread's) */
    cluster_peer added[CLUSTER_MAX_NODES];
    unsigned nadded;
    char start_err[256];
    cluster_status status;

    _Atomic int serving;
    _Atomic uint64_t epoch;
    _Atomic uint64_t next_seq; /* the proposer's, set before serving starts */

    /* The loop thread's own. */
    int role;
    uint64_t leader, term;
    int barrier_pending, transferring, broken, changing;
    int64_t heard_ms[CLUSTER_MAX_NODES]; /* raft_time when each peer was last seen recent (leader) */
    raft_id heard_id[CLUSTER_MAX_NODES]; /* whose (the configuration's order changes with it) */
    uint64_t proposed, failed;
    struct probe {
        struct raft_io_send req;
        struct cluster_node *node;
        raft_id to;
        int busy; /* sent, its callback not yet called: the next waits */
    } probes[CLUSTER_MAX_NODES];
    raft_time last_probe;
    /* A write to the leader failed (fast failover, below): when, to whom,
     * and whether this node has stood for it yet.  0: none since the
     * leader's last message. */
    raft_time leader_lost;
    raft_id lost_leader;
    int stood;
    /* raft_uv's start, and libraft's receive and tick callbacks it was
     * given (on_raft_message passes every message on; stand_now ticks) */
    int (*uv_start)(struct raft_io *, unsigned, raft_io_tick_cb, raft_io_recv_cb);
    raft_io_recv_cb raft_recv;
    raft_io_tick_cb raft_tick;
};

/* A line in the node's log ("cluster: node N: ..."), through the
 * configured log callback or to stderr. */
void node_say(cluster_node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* elect.c: wrap libraft's start on the node's raft_uv (before raft_init),
 * so that its receive and tick callbacks pass through elect.c first. */
void elect_wrap(cluster_node *n);

/* elect.c: every turn of the node's 10 ms timer: probes to the peers, and
 * the candidacy of fast failover when due. */
void elect_tick(cluster_node *n);

#endif
