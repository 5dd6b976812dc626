/*
 * journal.h - the event store: sequencer, journal, snapshots, recovery.
 *
 * A data directory holds the exchange's history as the commands that made
 * it, so that any state can be rebuilt by applying them again to a fresh
 * engine (the core is deterministic; see bourse.h):
 *
 *     DIR/00000001.seg ...   journal segments: fixed-size, preallocated,
 *                            memory-mapped files of checksummed records
 *     DIR/snap-SEQ.snap      snapshots: the whole engine after command SEQ
 *     DIR/archive/           segments and snapshots superseded by a newer
 *                            snapshot (journal_archive), kept, never read
 *
 * The byte layout is in docs/journal.md.
 *
 * How the server uses it, all on the engine thread unless noted:
 *
 *     journal_config cfg = {.dir = "data", .on_command = ..., .ctx = srv};
 *     journal *j;  bourse_engine *e;
 *     if (journal_open(&cfg, &j, &e, err, sizeof err) != 0) die(err);
 *         // recovered: newest valid snapshot + every command after it,
 *         // replayed through cfg.on_command / cfg.on_event
 *     japply a = japply_leader(e, j, 0);             // apply.h: the one path
 *     for each command:
 *         if (japply_command(&a, &cmd, on_event, srv) != JAPPLY_OK) refuse;
 *         // = grow tables if the directory grows them, resolve ids,
 *         //   journal_append (stamps seq, ts_ns), bourse_engine_apply
 *         // hold the acknowledgements of cmd.seq until
 *         // journal_durable_seq(j) >= cmd.seq (poll it, or watch
 *         // journal_notify_fd)
 *     now and then: journal_snapshot(j, e);          // fork(): ~ms pause
 *     at exit:      journal_close(j, err, sizeof err); bourse_engine_free(e);
 *
 * The sequencer is journal_append(): it gives each command the next
 * sequence number (1, 2, 3 ... gapless across restarts) and a nanosecond
 * timestamp read once, here, and writes the record into the mapped segment.
 * Append before apply: a command the journal could not take (disk full) is
 * refused and never reaches the engine, so the journal and the engine never
 * disagree.
 *
 * Durability.  `none`: records go to the page cache only (they survive a
 * crash of the process, not of the machine).  `batch` (the default): a
 * background syncer thread runs fdatasync on the segment at most every
 * batch_us microseconds, sooner once batch_records are waiting, and then
 * advances the durable sequence number; the engine thread never waits for
 * the disk and makes no system call per record.  `sync`: journal_append
 * itself syncs every record before it returns (slow; for tests and for
 * comparison).  In every mode journal_durable_seq() is the highest seq that
 * will survive what the mode protects against, so "ack when durable_seq >=
 * seq" is always right.
 *
 * Snapshots.  journal_snapshot() forks: the child writes the engine's state
 * (copy-on-write, so matching pauses only for the fork) to a temporary file,
 * syncs the journal up to that seq, syncs and renames the file; a
 * background thread reaps the child.  Recovery loads the newest snapshot
 * that passes its checksums and replays the journal after it.
 *
 * Background threads: the syncer (batch mode: group commits only) and the
 * keeper (the next segment made ahead, pages prefaulted ahead of the
 * writer, snapshot children reaped, full segments unmapped).
 *
 * Recovery and damage.  An incomplete or checksum-failing record at the very
 * end of the newest segment is the normal trace of a crash: it is cut off
 * (cfg.on_warning is told) and appending resumes in its place.  Damage
 * anywhere else is refused: journal_open fails with a message naming the
 * segment file and byte offset, and nothing is changed on disk.
 *
 * Threads.  One thread (the engine's) calls everything except
 * journal_durable_seq() and journal_notify_fd(), which any thread may use.
 */
#ifndef BOURSE_JOURNAL_H
#define BOURSE_JOURNAL_H

#include "bourse/bourse.h"

#include <stddef.h>
#include <stdint.h>

enum journal_durability {
    JOURNAL_BATCH = 0, /* group commit by a syncer thread (the default) */
    JOURNAL_NONE,      /* page cache only */
    JOURNAL_SYNC,      /* every record synced inside journal_append */
};

typedef struct journal_config {
    const char *dir;        /* data directory; created when missing */
    int durability;         /* enum journal_durability */
    uint64_t segment_bytes; /* size of a new segment file (0: 256 MiB) */
    uint32_t batch_us;      /* batch: at most one sync per this many µs (0: 200) */
    uint32_t batch_records; /* batch: ...or as soon as this many wait (0: 8192) */
    uint32_t spin_us;       /* batch: an idle syncer polls for records this long before it sleeps (0) */
    int prefill;            /* write a new segment's blocks with zeros ahead of use, not fallocate only */

    /* The engine of a new data directory is made with these; an existing
     * directory keeps the ones it was made with (they are in its files),
     * since replay must answer CAPACITY exactly where the live engine did. */
    bourse_limits limits;
    int grow; /* the caller runs bourse_engine_reserve() before each command */

    /* Timestamps for journal_append; NULL: clock_gettime(CLOCK_REALTIME). */
    int64_t (*clock_ns)(void *clock_ctx);
    void *clock_ctx;

    /* Recovery hooks, called on the calling thread inside journal_open for
     * each replayed command (after the snapshot): on_command before it is
     * applied, on_event for each of its events.  Either may be NULL. */
    void (*on_command)(void *ctx, const bourse_cmd *cmd);
    bourse_event_fn on_event;
    /* Called once, before the first replayed command, with the engine the
     * commands go to (so the hooks can look names up in it) and the seq it
     * stands at (the snapshot's; 0: a fresh engine).  May be NULL. */
    void (*on_engine)(void *ctx, const bourse_engine *e, uint64_t seq);
    void *ctx;
    /* Warnings (a torn tail cut off, a bad snapshot skipped); NULL: print
     * "bourse: warning: ..." to stderr. */
    void (*on_warning)(void *ctx, const char *msg);
} journal_config;

typedef struct journal journal;

/* What journal_open found. */
typedef struct journal_recovery {
    uint64_t snapshot_seq; /* seq of the snapshot loaded, 0 for none */
    uint64_t replayed;     /* commands replayed after it */
    uint64_t last_seq;     /* the last seq in the journal (0: empty) */
    uint64_t torn_bytes;   /* bytes of a torn tail cut off (0: clean) */
    uint64_t hash;         /* bourse_engine_hash of the recovered engine */
    /* What the directory was made with (see journal_config.grow/limits):
     * the caller must call bourse_engine_reserve() before each command
     * exactly when `grow` is set, whatever its own configuration says. */
    int grow;
    bourse_limits limits;
} journal_recovery;

/*
 * Open (creating or recovering) the data directory and start the syncer.
 * On success returns 0 with *out and *engine set; the caller owns the engine
 * and frees it after journal_close.  On failure returns -1 with a one-line
 * reason in err (for damage: "DIR/00000003.seg: offset 1234: ...").
 */
int journal_open(const journal_config *cfg, journal **out, bourse_engine **engine, char *err, size_t errlen);

const journal_recovery *journal_recovered(const journal *j);

/*
 * Sequence and write one resolved command: sets cmd->seq and cmd->ts_ns and
 * returns the seq, or 0 when the record could not be written (the command
 * is not one the replay format accepts, the next segment could not be
 * created, or a sync has failed so nothing could become durable any more:
 * see journal_error); then nothing was written and the command must be
 * refused, not applied.  No system call except when a segment fills up
 * (and in `sync` mode).
 */
uint64_t journal_append(journal *j, bourse_cmd *cmd);

/* The last seq given out (0 before the first). */
uint64_t journal_last_seq(const journal *j);

/* The highest seq known durable (see above).  Any thread; lock-free. */
uint64_t journal_durable_seq(const journal *j);

/* For the metrics, any thread (util/hist.h): the syncer's group commits,
 * each one's sync time in ns (group 0), or the commands it made durable
 * (group 1).  Empty in `sync` and `none` durability. */
struct hist;
const struct hist *journal_sync_hist(const journal *j, int group);

/* An eventfd that becomes readable whenever durable_seq advances (read it
 * to clear it), for an event loop.  Any thread. */
int journal_notify_fd(const journal *j);

/* Block until durable_seq >= seq (or the syncer failed); 0 or -1. */
int journal_wait_durable(journal *j, uint64_t seq);

/*
 * Start writing a snapshot of `e` at journal_last_seq(j) in a forked child;
 * `e` must be the engine every appended command has been applied to.
 * Returns 0 when started, 1 when one is still being written (try later),
 * -1 on failure (journal_error says why).
 */
int journal_snapshot(journal *j, const bourse_engine *e);

/* The seq of the newest snapshot known complete (0: none).  When a snapshot
 * child fails, journal_error says why. */
uint64_t journal_snapshot_seq(const journal *j);

/* Move segments and snapshots superseded by the newest snapshot into
 * DIR/archive.  Returns how many files were moved, -1 on error. */
int journal_archive(journal *j);

/*
 * Read-only, for a consumer that must see every event from the start and
 * lost its own state (the feed, src/feed/persist.c): apply DIR's commands 1
 * to to_seq to a scratch engine made as the directory says, calling
 * on_command before each and on_event for each event.  May run inside
 * journal_open's hooks.  0, or -1 with err (damage; or the journal does not
 * hold seq 1 to to_seq, e.g. its start is archived).
 */
int journal_replay_prefix(const char *dir, uint64_t to_seq,
                          void (*on_command)(void *ctx, const bourse_cmd *cmd), bourse_event_fn on_event,
                          void *ctx, char *err, size_t errlen);
/* The same, giving the scratch engine to on_engine before the first command
 * (to look up what an event names by id: its symbol); on_command and
 * on_engine may be NULL (the order-entry streams' rebuild,
 * src/server/streams.c). */
int journal_replay_prefix_e(const char *dir, uint64_t to_seq,
                            void (*on_engine)(void *ctx, const bourse_engine *e),
                            void (*on_command)(void *ctx, const bourse_cmd *cmd), bourse_event_fn on_event,
                            void *ctx, char *err, size_t errlen);

/* The time each group commit's fdatasync took (durability batch: the
 * syncer writes it, anyone reads it, util/lathist.h), ns: the disk's own
 * figure under the load of the moment, for the server's stage clocks. */
struct lathist;
struct lathist *journal_sync_lathist(journal *j);

/* The last error (disk full, a failed sync or snapshot), "" when none. */
const char *journal_error(const journal *j);

/* Sync everything, stop the syncer, unmap and close.  0, or -1 when the
 * final sync failed (err says why).  Waits for a running snapshot. */
int journal_close(journal *j, char *err, size_t errlen);

#endif
