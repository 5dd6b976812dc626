/*
 * consumer.h - what reads the exchange's output besides the gateways: a
 * consumer of the sequenced commands and their events.
 *
 * A consumer is three things of its own:
 *
 *   a ring     single producer (the engine thread), single consumer (its
 *              thread): util/spsc.h, the project's one ring for this.  The
 *              engine thread writes into it in `publish`, per event, and
 *              never waits on a socket, a disk or a lock; a full ring makes
 *              it wait for the consumer (nothing is dropped), so size it for
 *              the consumer's worst pause.
 *   a thread   that drains the ring and does the slow part (encoding,
 *              sockets, files) - started by `start`, joined by `stop`.
 *   a position the seq of the last command it has taken: every command up
 *              to it whose events it wanted is in its state.  A consumer
 *              that restarts resumes after its position, from the journal
 *              (journal/reader.h, which also serves consumers in another
 *              process).
 *
 * The engine thread holds a consumer_set and calls, for each command, after
 * it is journaled and while it is applied (apply.h):
 *     consumers_publish(set, cmd, ev)     for each event,
 *     consumers_publish(set, cmd, NULL)   when its events are complete,
 * and between commands consumers_snapshot(set, seq) when a core snapshot at
 * seq was started (a consumer with state of its own saves it there, so a
 * restart needs only the journal after it).  Registration is before the
 * engine thread starts; the set is then read-only, so publishing takes no
 * lock.  A publish is one indirect call per consumer per event: the
 * filtering (which events this consumer wants) belongs in `publish`, on the
 * engine thread, so that the ring carries only what the thread will use.
 *
 * Where things plug in:
 *   market data   src/feed (feed_consumer): the first consumer.
 *   reporting     (drop copies, trade reports, end-of-day files) a consumer
 *                 whose ring carries trades and order states and whose
 *                 thread writes them out; or, out of process, a follower of
 *                 the journal (jreader + japply_record) that rebuilds the
 *                 state and derives its reports from the events, with no
 *                 cost at all to the engine thread.
 *   metrics       counters are cheapest on the engine thread itself (it
 *                 owns them); a metrics consumer's `publish` only counts
 *                 (no ring), and its thread reads the counters and its
 *                 position (lag = journal_last_seq - position) to export.
 *   replicas      a Raft follower does not consume events: it takes the
 *                 journal's records (jreader, or records shipped by the
 *                 leader over the network) and applies them with
 *                 japply_record, producing the same state and events.  On
 *                 the leader, shipping is a consumer whose `publish` with
 *                 ev == NULL passes the command's seq (the records are in
 *                 the mapped segment) to a sender thread; the gateways'
 *                 acknowledgement rule "seq <= durable" becomes "seq <=
 *                 committed by a quorum".
 */
#ifndef BOURSE_JOURNAL_CONSUMER_H
#define BOURSE_JOURNAL_CONSUMER_H

#include "bourse/bourse.h"

#include <stdint.h>

typedef struct consumer_ops {
    const char *name;
    /* Engine thread: one event of cmd; ev == NULL: cmd's events are
     * complete.  Must not block except on its own full ring. */
    void (*publish)(void *ctx, const bourse_cmd *cmd, const bourse_event *ev);
    /* Engine thread, between commands: a core snapshot at seq was started.
     * May be NULL. */
    void (*snapshot)(void *ctx, uint64_t seq);
    /* Any thread: the seq of the last command taken (see above).  May be
     * NULL (the consumer keeps none). */
    uint64_t (*position)(const void *ctx);
    /* A replica's snapshot (cluster mode; all three may be NULL): the
     * consumer's own state travels inside the Raft snapshot, so a node that
     * installs one restarts with the consumer where the others' are.
     * replica_snapshot: engine thread, between commands, state at seq (as
     * snapshot, and keep the state for replica_state).  replica_state: any
     * thread, after it: the state's bytes (*buf malloc'd), waiting at most
     * wait_ms; 0 or -1.  replica_install: any thread, the consumer not
     * running: put such bytes in DIR for the next start at seq; 0 or -1
     * with err. */
    void (*replica_snapshot)(void *ctx, uint64_t seq);
    int (*replica_state)(void *ctx, uint64_t seq, int wait_ms, void **buf, size_t *len);
    int (*replica_install)(void *ctx, const char *dir, uint64_t seq, const void *buf, size_t len, char *err,
                           size_t errlen);
} consumer_ops;

typedef struct consumer_set {
    const consumer_ops **ops;
    void **ctx;
    int n;
} consumer_set;

/* Before the engine thread starts.  0, or -1 (out of memory). */
int consumers_add(consumer_set *set, const consumer_ops *ops, void *ctx);
void consumers_free(consumer_set *set);

static inline void consumers_publish(const consumer_set *set, const bourse_cmd *cmd, const bourse_event *ev)
{
    for (int i = 0; i < set->n; i++)
        set->ops[i]->publish(set->ctx[i], cmd, ev);
}

static inline void consumers_snapshot(const consumer_set *set, uint64_t seq)
{
    for (int i = 0; i < set->n; i++)
        if (set->ops[i]->snapshot)
            set->ops[i]->snapshot(set->ctx[i], seq);
}

/* The lowest position of the consumers that keep one (UINT64_MAX: none
 * does): how far the slowest has got. */
uint64_t consumers_position(const consumer_set *set);

#endif
