/*
 * reader.h - follow a data directory's journal as it is written: records in
 * order from a given seq, and at the end, wait for more.
 *
 * This is how anything outside the engine thread reads the log: `bourse
 * journal follow`, and later a replica (Raft follower) or a reporting
 * engine, each feeding what it reads to japply_record (apply.h).  It works
 * across processes: it needs only the directory, opens nothing for
 * writing, and takes no lock, so any number of readers may follow one
 * writer.
 *
 * How it knows where the log ends.  Segments are preallocated full of
 * zeros, so the end of the records is the first zero length byte (or a
 * record still being written: an incomplete one, or one failing its
 * checksum because its bytes have not all landed).  There it waits and
 * looks again.  The writer moves to segment N+1 when the next record might
 * not fit in N, leaving zeros at N's tail; segment N+1 usually exists
 * already (made ahead, empty), so its existence says nothing: the reader
 * moves on only when N+1 holds a valid first record, after one more look
 * at N (whose records were all written before N+1's first).  A bad record
 * in N once N+1 has records is damage, not a record in progress, and is
 * reported with the file and offset.
 *
 * How it waits.  The writer writes through a shared mapping, and writes
 * through a mapping raise no inotify event (IN_MODIFY is for write(2)), so
 * there is nothing to block on across processes; the reader polls, backing
 * off from 50 µs to poll_max_us (10 ms by default) while nothing comes,
 * and back to the start as soon as a record arrives.  Under load it never
 * sleeps; idle, it costs 100 wake-ups a second.  The sleep is a ppoll on
 * an eventfd, which jreader_stop() (any thread, or a signal handler) makes
 * readable, so a stop takes effect at once.
 *
 * What it reads is what the writer has written, which may be ahead of what
 * is durable (journal.h): a record read in `batch` mode and then lost to a
 * machine crash (not a process crash: the page cache survives that) comes
 * back with a different command under its seq.  A follower that must never
 * see that (a replica that acknowledges) waits for journal_durable_seq, or
 * for its leader's word, before acting on a record.
 */
#ifndef BOURSE_JOURNAL_READER_H
#define BOURSE_JOURNAL_READER_H

#include "bourse/bourse.h"

#include <stddef.h>
#include <stdint.h>

typedef struct jreader_config {
    const char *dir;
    uint64_t from_seq;    /* the first seq to deliver (0 or 1: the start) */
    uint32_t poll_max_us; /* the longest sleep between looks (0: 10,000) */
} jreader_config;

typedef struct jreader jreader;

enum jreader_result {
    JREAD_RECORD = 1,   /* *cmd holds the next record */
    JREAD_TIMEOUT = 0,  /* nothing new within the time given */
    JREAD_ERROR = -1,   /* damage, or from_seq is no longer in the directory */
    JREAD_STOPPED = -2, /* jreader_stop was called */
};

/* 0, or -1 with err set.  The directory need not hold segments yet. */
int jreader_open(const jreader_config *cfg, jreader **out, char *err, size_t errlen);

/* The next record (seqs follow one another from from_seq), waiting up to
 * timeout_ms for it (-1: until one comes or a stop).  The record's ids are
 * as written (user_name/symbol_name only where the record has them). */
int jreader_next(jreader *r, bourse_cmd *cmd, int timeout_ms);

/* The seq of the last record delivered (from_seq - 1 before the first). */
uint64_t jreader_position(const jreader *r);

/* The limits and growing of the engine the log was written for (what a
 * follower makes its engine with: japply_record needs the same), known
 * once the first segment is mapped (after the first JREAD_RECORD); 0, or
 * -1 before. */
int jreader_limits(const jreader *r, bourse_limits *limits, int *grow);

/* Why the last JREAD_ERROR. */
const char *jreader_error(const jreader *r);

/* Make jreader_next return JREAD_STOPPED now and from then on.  Any thread;
 * async-signal-safe. */
void jreader_stop(jreader *r);

void jreader_close(jreader *r);

#endif
