/*
 * journal_int.h - the journal's state, shared by journal.c (writing,
 * syncing), recover.c (opening a data directory) and snapshots.c.
 */
#ifndef BOURSE_JOURNAL_INT_H
#define BOURSE_JOURNAL_INT_H

#include "journal.h"
#include "record.h"
#include "segment.h"
#include "snapfile.h"
#include "util/clock.h"
#include "util/hist.h"
#include "util/lathist.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

/* Pages are write-faulted this far ahead of the writer, by the syncer. */
#define PREFAULT_AHEAD (16u << 20)

/* A mapped segment.  `off` is the engine thread's; `prefaulted` the
 * syncer's; the rest is fixed. */
typedef struct jseg {
    uint32_t index;
    int fd;
    uint8_t *base;
    uint64_t size;
    uint64_t off;
    uint64_t prefaulted;         /* pages below this are mapped writable */
    _Atomic uint64_t refault_at; /* the writer asks for more past this */
    int dir_synced;              /* its directory entry is known to be on disk */
    int populate;                /* the madvise() that prefaults it */
    struct jseg *retired_next;
} jseg;

struct journal {
    char dir[SEG_PATH_MAX];
    int dirfd;
    int durability;
    uint64_t segment_bytes;
    uint32_t batch_us, batch_records;
    uint32_t spin_us; /* the syncer polls this long before it sleeps */
    int prefill;      /* the keeper zero-fills a new segment and syncs it (see make_segment) */
    char *stall;      /* test hook: fdatasync waits while this file exists (BOURSE_TEST_SYNC_STALL) */
    int64_t (*clock_ns)(void *);
    void *clock_ctx;
    seg_header hdr; /* for new segments: limits and flags (index, bytes set per file) */
    journal_recovery rec;

    /* The engine thread's. */
    jseg *cur; /* replaced only under mu, so the syncer may read it there */
    uint64_t last_seq;
    int64_t last_ts;
    rec_prev prev;
    int started;
    char error_copy[512];

    /* Shared under mu. */
    pthread_mutex_t mu;
    pthread_cond_t made;
    jseg *spare; /* the next segment, made ahead by the syncer */
    int making;  /* someone is making the spare */
    int64_t spare_retry_ns;
    int space_failed;  /* the last try to make a segment failed: don't wait for the next */
    jseg *retired;     /* full segments, newest first, for the syncer */
    jseg *prefaulting; /* the keeper is faulting this one in: not to be unmapped yet */
    char error[512];

    /* Lock-free. */
    _Atomic uint64_t written;  /* last seq fully written to the mapping */
    _Atomic uint64_t durable;  /* last seq synced (batch, sync) */
    _Atomic uint32_t sleeping; /* futex: the syncer's state */
    _Atomic uint32_t epoch;    /* futex: bumped at each durable advance */
    _Atomic uint32_t waiters;
    _Atomic int kick;                 /* work for the keeper */
    _Atomic uint32_t keeper_sleeping; /* futex */
    _Atomic int stop;
    _Atomic int failed;
    /* The syncer's, for the metrics (journal_sync_stats): how long each
     * group commit's syncs took (ns), and how many commands each made
     * durable. */
    hist sync_ns, group;
    int notify_fd;
    lathist sync_hist;        /* the syncer's: each group commit's fdatasync, ns */
    pthread_t syncer, keeper; /* started: bit 1 keeper, bit 2 syncer */

    /* Snapshots: the child's pid (0: none running) and seq. */
    _Atomic int snap_pid;
    uint64_t snap_running_seq;
    _Atomic uint64_t snap_seq; /* newest complete */
};

int64_t journal_realtime_ns(void *ctx);
void journal_set_error(journal *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void journal_warn(const journal_config *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* recover.c: NULL when a record's ids exist in e, else why not. */
const char *journal_ids_known(const bourse_engine *e, const bourse_cmd *c);
jseg *jseg_map(journal *j, int fd, uint32_t index, uint64_t bytes, char *err, size_t errlen);
void jseg_close(jseg *s);
/* [journal] prefill: zeros over a new segment's blocks, synced; 0 or -1 (errno). */
int jseg_fill(int fd, uint64_t bytes);
void jseg_prefault(jseg *s, uint64_t upto);
int journal_start(journal *j, char *err, size_t errlen);
void journal_kick_keeper(journal *j);
void journal_reap_snapshot(journal *j, int block);
void journal_free(journal *j);

#endif
