/*
 * apply.h - the one path from a command to the exchange's state.
 *
 * Every state change goes resolve -> sequence (journal) -> apply, and every
 * copy of the state is rebuilt from the log by apply alone.  Before this
 * file, `bourse replay`, the server's engine thread, recovery, the feed's
 * rebuild and `journal verify` each carried their own few lines of it; a
 * Raft replica or a reporting consumer would have added more copies, each
 * free to drift (one forgot bourse_engine_reserve for directories written
 * with growing tables).  Now there are two entry points and nothing else
 * touches the engine with a command:
 *
 *   leader    japply_command: a command from outside (a gateway, a replay
 *             file, the schedule).  Tables grown when the directory grows
 *             them, names resolved to ids, the command appended to the
 *             journal (which gives it its seq and timestamp) or, without a
 *             journal, numbered here; then applied.  A command the journal
 *             refuses is not applied: the journal and the state never
 *             disagree.
 *
 *   follower  japply_record: a command already in the log (recovery, the
 *             feed's rebuild, verify, `journal follow`, and later a replica
 *             or a reporting engine reading the log with jreader).  Its
 *             seq must follow the last one applied and its ids must exist;
 *             then tables are grown as the leader grew them and it is
 *             applied.  The same record applied to the same state gives the
 *             same events (the core is deterministic), which is the whole
 *             contract between leader and followers.
 *
 * Neither takes a lock or allocates (except bourse_engine_reserve when
 * growing), so the engine thread calls the leader path per order.
 */
#ifndef BOURSE_JOURNAL_APPLY_H
#define BOURSE_JOURNAL_APPLY_H

#include "journal.h"

typedef struct japply {
    bourse_engine *e;
    journal *j;   /* NULL: no log (seqs given out here, see clock_ns) */
    int grow;     /* bourse_engine_reserve before each command */
    uint64_t seq; /* the last seq applied */
    /* Without a journal: the timestamp of each command; NULL leaves
     * cmd->ts_ns as the caller set it (replay files carry none). */
    int64_t (*clock_ns)(void *clock_ctx);
    void *clock_ctx;
    /* Without a journal: keep the caller's cmd->seq (replay numbers
     * commands by input line) instead of seq + 1. */
    int keep_seq;
} japply;

enum japply_result {
    JAPPLY_OK = 0,
    JAPPLY_NOMEM = -1,   /* tables could not grow: nothing happened */
    JAPPLY_REFUSED = -2, /* the journal refused it (journal_error): not applied */
};

/* A leader's japply: for the engine and journal journal_open returned,
 * grown as the directory says; j may be NULL (e's own limits, grow given). */
japply japply_leader(bourse_engine *e, journal *j, int grow);

/* Leader path (see above); cmd->seq and cmd->ts_ns are set on JAPPLY_OK.
 * on_event may be NULL (events dropped), as in japply_record. */
int japply_command(japply *a, bourse_cmd *cmd, bourse_event_fn on_event, void *ctx);

/* Follower path: NULL when applied, else why the record cannot be (its
 * seq does not follow, an id unknown to the state, out of memory); then
 * the state is unchanged. */
const char *japply_record(japply *a, const bourse_cmd *rec, bourse_event_fn on_event, void *ctx);

/* An event function that drops every event. */
void japply_drop(void *ctx, const bourse_cmd *cmd, const bourse_event *ev);

#endif
