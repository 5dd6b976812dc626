/*
 * report.h - the reporting database: a follower of the journal that keeps
 * trade history, statements, a double-entry ledger and end-of-day positions
 * in SQL, and the reports read from it (docs/reporting.md).
 *
 * Why a follower and not a consumer.  Reporting is where correctness
 * matters more than speed: every row must be there exactly once, after any
 * crash of the server or of the reporter.  A follower reads the journal
 * (journal/reader.h), re-derives the events with a core of its own
 * (japply_record: the core is deterministic, so its events are the
 * server's) and writes them in its own process, so the engine thread pays
 * nothing, a slow disk or a locked database never stalls trading, and the
 * reporter can stop, crash and catch up at will.
 *
 * Exactly once.  The seq of the last command whose rows are written is
 * stored in the database, in the same transaction as those rows.  On start
 * the follower rebuilds its core from the journal up to that seq (writing
 * nothing) and writes from the next one: a crash inside a transaction
 * loses the transaction and its seq together, so the commands are written
 * again, once.
 *
 * The database is SQLite (DIR/report.db, WAL); its schema is versioned
 * (PRAGMA user_version) and migrated forward on open; a file that is not
 * a Bourse report database, is damaged, was made by a newer Bourse or
 * from another journal is refused with a reason, never rebuilt.
 */
#ifndef BOURSE_REPORT_REPORT_H
#define BOURSE_REPORT_REPORT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct report_db report_db;

/* The newest schema version this build writes. */
#define REPORT_SCHEMA_VERSION 2

/* Open (create = 1: create or migrate) the database at path.  0, or -1
 * with err set (damaged, foreign, newer, missing). */
int report_db_open(const char *path, int create, report_db **out, char *err, size_t errlen);
void report_db_close(report_db *db);
/* The seq of the last command written (0: none). */
uint64_t report_db_last_seq(report_db *db);
/* DIR/report.db */
void report_db_path(char *out, size_t n, const char *dir);

/* How much of a shared machine's CPU the follower may take (follow.c,
 * report_cpu_apply; docs/reporting.md, "Beside the server"):
 *   NORMAL  unchanged (the scheduler's default);
 *   LOW     nice 19: about 1/70 of a CPU that a normal thread wants;
 *   IDLE    SCHED_IDLE: only CPU time that no other thread wants. */
enum { REPORT_CPU_NORMAL = 0, REPORT_CPU_LOW, REPORT_CPU_IDLE };
/* "normal", "low", "idle" -> REPORT_CPU_*, or -1. */
int report_cpu_parse(const char *s);
const char *report_cpu_name(int cpu);

typedef struct report_follow_config {
    const char *dir;             /* the data directory whose journal to follow */
    const char *db_path;         /* NULL: DIR/report.db */
    uint64_t until_seq;          /* stop once this seq is written (0: never) */
    int exit_at_end;             /* stop when the journal has nothing new for idle_ms */
    uint32_t idle_ms;            /* with exit_at_end (0: 300) */
    uint32_t batch;              /* commands per transaction at most (0: 4096) */
    uint32_t batch_ms;           /* a transaction is committed this soon at most (0: 200) */
    volatile sig_atomic_t *stop; /* set (a signal handler): commit and return */
    /* Prometheus textfile (docs/metrics.md), rewritten after a commit at
     * most once a second and at the end: the database's last_seq, so that
     * the reporting consumer's lag is the server's bourse_last_seq minus
     * bourse_report_last_seq.  NULL: none. */
    const char *metrics_file;
    /* The follower's CPU priority against the trading server's threads on
     * the same machine (report_cpu_apply).  The library's default is
     * REPORT_CPU_NORMAL; `bourse report follow` defaults to idle. */
    int cpu;
    /* Tests only: SIGKILL itself once this seq's rows are written, before
     * any commit that would follow them (0: never): a crash inside a
     * batch at a chosen point (tests/unit/test_report.c). */
    uint64_t crash_at_seq;
} report_follow_config;

typedef struct report_follow_stats {
    uint64_t replayed; /* commands applied without writing (already in the database) */
    uint64_t written;  /* commands whose rows were written */
    uint64_t events;   /* events those gave */
    uint64_t commits;
    uint64_t last_seq;
    double write_s; /* seconds from the first command written to the last commit */
} report_follow_stats;

/* Follow until a stop, until_seq or (exit_at_end) the end.  0, or -1 with
 * err set. */
/* The [report] section of an INI file (config.c) into fc and, when it
 * names one, db (a path or URL); other sections are skipped.  0, or -1
 * with err naming the file and line. */
int report_config_load(const char *path, report_follow_config *fc, char *db, size_t dblen, char *err,
                       size_t errlen);

int report_follow(const report_follow_config *cfg, report_follow_stats *st, char *err, size_t errlen);

/* Output of the reports. */
enum report_format { REPORT_TABLE = 0, REPORT_CSV, REPORT_JSON };

typedef struct report_query {
    const char *user;       /* history, statement, pnl, audit */
    const char *oid;        /* audit */
    const char *symbol;     /* history, pnl: only this symbol (NULL: all) */
    int64_t from_ns, to_ns; /* the period, both inclusive (0, INT64_MAX: all) */
    const char *date;       /* eod: YYYY-MM-DD (NULL: the last day with trades) */
    int64_t volume;         /* surveillance: users who traded at least this many shares */
    int all;                /* reconcile: list every balance, not only differences */
    uint64_t seq;           /* reconcile: at this seq (0: the database's last) */
    const char *dir;        /* reconcile: the data directory */
    int format;             /* enum report_format */
} report_query;

/* The database a report reads: a SQLite file (which must exist) or a
 * postgresql:// URL.  NULL with err set. */
typedef struct rstore rstore;
rstore *report_store_open(const char *where, char *err, size_t errlen);
void report_store_close(rstore *s);

/* Run one report ("history", "statement", "pnl", "eod", "audit",
 * "surveillance", "reconcile") to f.  0; 1 when reconcile found
 * differences; -1 with err set. */
int report_run(rstore *db, const char *name, const report_query *q, FILE *f, char *err, size_t errlen);

/* "2026-12-04", "2026-12-04T10:00:00" (UTC) or nanoseconds; end = 1 makes
 * a bare date mean its last nanosecond.  0, or -1. */
int report_parse_time(const char *s, int end, int64_t *out);

#endif
