/*
 * cluster.h - replicas on Raft (issue #12): one replicated log of
 * commands, applied in log order by every node through the one apply path.
 *
 * The consensus is libraft's (Debian's libraft-dev 0.15, with its libuv
 * disk and TCP I/O), not a protocol of our own.  What this component adds
 * is the exchange around it:
 *
 *   config.c   the [cluster] section: this node's id, every node's id and
 *              Raft address, timeouts (docs/configuration.md).
 *   batch.c    what one Raft entry holds: a batch of commands the leader's
 *              sequencer stamped with seq and time, still carrying names
 *              (see "Why names" below): a header, then the commands as the
 *              build lays them out (every node must run the same build).
 *   state.c    the state machine: an engine and its journal in DIR; apply
 *              takes a batch and runs each command through japply_command
 *              (apply.h), exactly as a single server does, so every node
 *              writes the same journal records and reaches the same state
 *              hash.  Raft snapshots are the core's snapshot (bourse_engine
 *              save/load); installing one restarts the journal at its seq.
 *   node.c     the Raft node: its own thread running a libuv loop with
 *              raft_uv (the Raft log and its snapshots in DIR/raft) and
 *              raft_uv_tcp; proposals are handed to it through a queue and
 *              an async handle; its role, term, commit and applied index
 *              and each peer's progress are published for any thread;
 *              every role change is logged with its reason.
 *
 * Why names, not ids.  The journal's records carry ids resolved against
 * the state just before the command (a `user` then a `deposit` of that new
 * user in one batch).  A leader that applied before commit could resolve
 * them, but it would then hold state that Raft may still throw away (an
 * entry it appended and never committed), and its snapshots would contain
 * it.  Here nothing is applied before it is committed: the leader only
 * stamps seq and time (the sequencer), the entry carries the command as the
 * gateway gave it, and every node resolves and applies it on commit, in log
 * order.  The journal each node writes on apply is the same journal a
 * single server writes; its durability is `none` (the Raft log, synced on a
 * majority before commit, is the durable copy).
 *
 * Seq.  The leader numbers commands from the last seq applied when it took
 * office (after a barrier has applied everything its predecessors
 * committed), so the committed log is gapless.  A command whose seq is at
 * or below the node's state is skipped on apply: that happens after a
 * restart, when the journal already holds what Raft replays.
 *
 * Threads.  The node's thread runs libraft and, by default, the state
 * machine's apply.  Any thread may call cluster_propose, cluster_status
 * and cluster_transfer.
 */
#ifndef BOURSE_CLUSTER_H
#define BOURSE_CLUSTER_H

#include "bourse/bourse.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define CLUSTER_MAX_NODES 9
#define CLUSTER_ADDR_MAX 64
#define CLUSTER_PATH_MAX 512

/* ---- configuration (config.c) ---- */

typedef struct cluster_peer {
    uint64_t id;                  /* > 0 */
    char addr[CLUSTER_ADDR_MAX];  /* Raft's address, "A.B.C.D:PORT" */
    char serve[CLUSTER_ADDR_MAX]; /* its order-entry address, told to refused clients ("" = unknown) */
} cluster_peer;

typedef struct cluster_config {
    uint64_t id; /* this node; 0 = no cluster (a single server) */
    unsigned n;
    cluster_peer peers[CLUSTER_MAX_NODES];
    unsigned election_ms;        /* base election timeout (libraft randomizes 1x-2x) */
    unsigned heartbeat_ms;       /* leader's heartbeat */
    unsigned snapshot_threshold; /* Raft entries between snapshots */
    unsigned snapshot_trailing;  /* entries kept after a snapshot */
    unsigned install_ms;         /* a snapshot sent and not acknowledged by then is sent again */
    unsigned segment_mb;         /* [journal] segment_mb: new journal segments' size (0: the journal's) */
    int fast_failover;           /* 1: a follower whose writes to the leader fail stands at once (node.c) */
    int join; /* `--join`: a new node joining a running cluster: bootstrap nothing, wait to be added */
} cluster_config;

void cluster_config_defaults(cluster_config *c);

/* One `[cluster]` key: node (this node's id), nodes ("ID=ADDR[/SERVE]"
 * separated by commas or spaces), election_ms, heartbeat_ms,
 * snapshot_entries, snapshot_trailing, install_ms, fast_failover (0 or
 * 1).  0, or -1 with err. */
int cluster_config_set(cluster_config *c, const char *key, const char *value, char *err, size_t errlen);

/* After every key: the node is one of the nodes, ids and addresses are
 * unique, timeouts make sense.  0, or -1 with err. */
int cluster_config_check(const cluster_config *c, char *err, size_t errlen);

const cluster_peer *cluster_peer_of(const cluster_config *c, uint64_t id);

/* The [cluster] section of an INI file, and [journal] segment_mb (other
 * keys are ignored: the same file configures `bourse serve`).  0, or -1
 * with err. */
int cluster_config_load(cluster_config *c, const char *path, char *err, size_t errlen);

/* n TCP ports on 127.0.0.1 that are free now (bound together, then
 * closed), for tests and `make run-cluster`, which must write every node's
 * address before any node starts.  Drawn outside the kernel's ephemeral
 * range, so that no bind to port 0 or outgoing connection elsewhere on the
 * machine takes one before its node binds it (config.c).  0 or -1. */
int cluster_free_ports(int n, int *out);

/* ---- a batch: what one Raft entry holds (batch.c) ---- */

/* A batch's byte size for n commands. */
size_t cluster_batch_size(uint32_t n);

/* Encode n commands (seq and ts_ns set) into out[cluster_batch_size(n)];
 * or piece by piece: the header, then each command at its place. */
void cluster_batch_encode(uint8_t *out, const bourse_cmd *cmds, uint32_t n);
void cluster_batch_header(uint8_t *out, uint32_t n, uint64_t first_seq);
void cluster_batch_put(uint8_t *out, uint32_t i, const bourse_cmd *c);

/* The commands of a batch: returns how many (and *first points at the
 * first command's bytes) or -1 when buf is not a sound batch.  Each is
 * read with cluster_batch_get. */
int cluster_batch_count(const uint8_t *buf, size_t len);
void cluster_batch_get(const uint8_t *buf, uint32_t i, bourse_cmd *out);
/* The seq of a sound batch's first command (its header). */
uint64_t cluster_batch_first(const uint8_t *buf);

/* "A.B.C.D:PORT", as raft_uv_tcp wants it, into *out: 0, or -1 when it is
 * not that (config.c). */
int cluster_addr_parse(const char *a, struct sockaddr_in *out);

/* ---- the state machine (state.c) ---- */

typedef struct cluster_state cluster_state;

typedef struct cluster_state_config {
    const char *dir; /* the node's data directory: the journal, and raft/ */
    bourse_limits limits;
    int grow;
    uint64_t segment_bytes;   /* of new journal segments (0: the journal's default) */
    bourse_event_fn on_event; /* each event of each applied command; may be NULL */
    void (*on_command)(void *ctx, const bourse_cmd *cmd); /* after each is applied; may be NULL */
    void *ctx;
    /* The journal's recovery at open (journal.h's on_engine, on_command,
     * on_event; each may be NULL): `bourse serve` restores its market data
     * through them, so that every node numbers the feed's messages from the
     * same origin (the journal's start) and a new leader's feed continues
     * the old one's. */
    void (*recover_engine)(void *ctx, const bourse_engine *e, uint64_t seq);
    void (*recover_command)(void *ctx, const bourse_cmd *cmd);
    bourse_event_fn recover_event;
    void *recover_ctx;
    /* What else a Raft snapshot carries (each may be NULL; ctx is `ctx`):
     * `bourse serve` puts its market data's history and numbering there, so
     * a node that installs a snapshot numbers the feed as the others do.
     * extra_save: the Raft thread, the state at seq: bytes (*buf malloc'd)
     * to travel with the core's; 0, or -1 for none (the snapshot goes
     * without).  extra_restore: after a snapshot at seq was installed and
     * the journal starts there, with those bytes; -1 with err is said in the
     * log, not fatal (the feed then numbers from the snapshot, as before). */
    int (*extra_save)(void *ctx, uint64_t seq, void **buf, size_t *len);
    int (*extra_restore)(void *ctx, uint64_t seq, const void *buf, size_t len, char *err, size_t errlen);
} cluster_state_config;

/* Open DIR's journal (recovering it as a single server does).  NULL with
 * err on failure. */
cluster_state *cluster_state_open(const cluster_state_config *cfg, char *err, size_t errlen);
void cluster_state_close(cluster_state *st);

/* Apply one batch (a committed Raft entry).  0, or -1 with why when the
 * batch is malformed or a command's seq leaves a gap: the node's state can
 * no longer follow the log (it must stop). */
int cluster_state_apply(cluster_state *st, const uint8_t *buf, size_t len, const char **why);

/* The last seq applied, and the engine (for the thread that applies). */
uint64_t cluster_state_seq(const cluster_state *st);
bourse_engine *cluster_state_engine(cluster_state *st);
uint64_t cluster_state_hash(cluster_state *st);

/* A snapshot of the state as bytes (malloc'd with raft_malloc, so libraft
 * can own them); 0 or -1.  Restore replaces the state with one: the
 * journal directory starts again at the snapshot's seq (the old segments
 * are moved to DIR/replaced/).  0, or -1 with err. */
int cluster_state_save(cluster_state *st, void **buf, size_t *len);
int cluster_state_restore(cluster_state *st, const void *buf, size_t len, char *err, size_t errlen);

/* ---- the Raft node (node.c) ---- */

typedef struct cluster_node cluster_node;

enum cluster_role { CLUSTER_UNAVAILABLE = 0, CLUSTER_FOLLOWER, CLUSTER_CANDIDATE, CLUSTER_LEADER };

typedef struct cluster_peer_status {
    uint64_t id;
    uint64_t match;               /* highest index known replicated there (leader only) */
    int recent;                   /* heard from within an election timeout (leader only) */
    int role;                     /* RAFT_VOTER, RAFT_STANDBY or RAFT_SPARE */
    char addr[CLUSTER_ADDR_MAX];  /* its Raft address, as the configuration has it */
    char serve[CLUSTER_ADDR_MAX]; /* its order-entry address when known ("" otherwise) */
} cluster_peer_status;

typedef struct cluster_status {
    int role;    /* enum cluster_role */
    int serving; /* leader and everything of earlier terms applied: may propose */
    uint64_t term;
    uint64_t leader; /* id of the known leader, 0 = none */
    uint64_t last_index, commit_index, applied_index;
    uint64_t applied_seq;      /* the state's last seq */
    uint64_t next_seq;         /* the seq the next proposed command gets (serving only) */
    uint64_t proposed, failed; /* batches proposed / whose proposal failed */
    unsigned n;
    cluster_peer_status peers[CLUSTER_MAX_NODES];
} cluster_status;

typedef struct cluster_node_config {
    const cluster_config *cluster;
    cluster_state *state;
    const char *raft_dir; /* created when missing */
    /* One line per role change and failure; NULL: stderr. */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
    /* NULL: the node's thread applies each committed batch itself
     * (cluster_state_apply).  Set: it calls this instead and counts on it
     * to have applied the batch when it returns (`bourse serve` hands it to
     * its engine thread, the one thread that touches the engine). */
    int (*apply)(void *ctx, const uint8_t *buf, size_t len, const char **why);
    /* NULL: the node's thread installs a snapshot itself
     * (cluster_state_restore).  Set: called instead, and counted on to
     * have installed it when it returns (0) — `bourse serve` hands it to
     * its engine thread too, so the engine and journal are never replaced
     * under a thread that is using them.  apply_ctx is its ctx. */
    int (*restore)(void *ctx, const void *buf, size_t len, char *err, size_t errlen);
    void *apply_ctx;
} cluster_node_config;

/* Start the node's thread (bootstrapping the configured cluster on a
 * pristine Raft directory).  NULL with err. */
cluster_node *cluster_start(const cluster_node_config *cfg, char *err, size_t errlen);

/* Stop the thread, close Raft and free.  The state stays the caller's. */
void cluster_stop(cluster_node *n);

/*
 * Stamp and propose commands as one Raft entry.  Only while serving: each
 * command gets the next seq and, when its ts_ns is 0, the current time.
 * Returns the last seq given, or 0 when not serving (not the leader, or
 * still applying what earlier leaders committed) or out of memory: then
 * nothing was proposed.  A proposal can still fail after this returns
 * (leadership lost): its commands are then never applied anywhere, and
 * cluster_status's `failed` counts it.
 */
uint64_t cluster_propose(cluster_node *n, bourse_cmd *cmds, uint32_t count);

void cluster_status_get(cluster_node *n, cluster_status *out);

/* The status as the admin socket's `cluster` answers it (both `bourse
 * cluster` and `bourse serve` in cluster mode): a line `node ID ROLE term T
 * leader L last I commit I applied I seq S[ serving]`, then on the leader a
 * line `peer ID match I lag N[ unreachable]` per node.  The length. */
size_t cluster_status_text(cluster_node *n, uint64_t id, char *buf, size_t len);

/* Whether the node serves (may propose) now: one atomic load, cheap enough
 * for the engine thread's loop (it drops order-entry sessions when its
 * node stops serving). */
int cluster_serving(cluster_node *n);

/* Hand leadership to node `to` (0: the most up to date follower).  Asked
 * of the node's thread; the outcome is logged.  0, or -1 when not leader. */
int cluster_transfer(cluster_node *n, uint64_t to);

const char *cluster_role_name(int role);

/*
 * Membership (node.c, members.c).  cluster_change asks the node's thread
 * to add (op 'a': as a spare, then, once libraft has caught it up, as a
 * voter) or remove (op 'r') node p->id; p->addr is its Raft address and
 * p->serve its order-entry address (told to refused clients).  Only on the
 * leader, one change at a time, and not the leader itself.  0 (the outcome
 * is logged and shown by `cluster`'s member lines), or -1 with err.
 */
int cluster_change(cluster_node *n, int op, const cluster_peer *p, char *err, size_t errlen);

/* The admin lines `cluster add ID RAFTADDR[/ORDERADDR]` and `cluster
 * remove ID` (both `bourse cluster` and `bourse serve`): 1 when line is one
 * of these (out holds the answer line, "OK ..." or "! ..."), 0 otherwise. */
int cluster_admin_members(cluster_node *n, const char *line, char *out, size_t outlen);

/* ---- `bourse cluster`: a node serving its admin socket (service.c) ---- */

typedef struct cluster_service_config {
    const cluster_config *cluster; /* with this node's id */
    const char *data_dir;          /* the journal; DIR/raft; DIR/admin.sock */
    bourse_limits limits;          /* of a new data directory */
    int stop_fd;                   /* readable: stop (a signalfd) */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
} cluster_service_config;

/* Run the node until stop_fd is readable.  0, or -1 with err when it
 * could not start. */
int cluster_serve(const cluster_service_config *cfg, char *err, size_t errlen);

#endif
