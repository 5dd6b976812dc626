/*
 * follow.c - `bourse report follow`: the journal into the reporting
 * database, exactly once (report.h says why this works).
 *
 * The loop.  Records up to the database's last_seq are applied to the
 * core only (their rows are there already); from the next one on, each
 * record is applied with the writer listening to its events, inside a
 * transaction that is committed after `batch` commands or `batch_ms`
 * milliseconds, whichever comes first, together with the new last_seq.
 * Batching is what makes it fast (one WAL sync per batch, not per
 * command); the time bound keeps the database at most that far behind a
 * quiet exchange.
 *
 * Two checks tie the database to its journal: the timestamp of seq 1
 * (first_ts) names the journal, and that of the last command written
 * (last_ts) must be the journal's at that seq on restart; a different one
 * means the journal was replaced, or its unsynced tail lost to a machine
 * crash and written again with other commands (journal/reader.h), and the
 * rows already written describe commands that no longer exist.  Both are
 * refused.
 */
#include "journal/reader.h"
#include "report_int.h"
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

int report_cpu_parse(const char *s)
{
    return !strcmp(s, "normal") ? REPORT_CPU_NORMAL
           : !strcmp(s, "low")  ? REPORT_CPU_LOW
           : !strcmp(s, "idle") ? REPORT_CPU_IDLE
                                : -1;
}

const char *report_cpu_name(int cpu)
{
    return cpu == REPORT_CPU_LOW ? "low" : cpu == REPORT_CPU_IDLE ? "idle" : "normal";
}

/* The calling thread's priority (the follower is one thread: neither the
 * journal reader nor SQLite starts any).  On Linux both calls act on the
 * calling thread, which is the point: a library that ran the follower on
 * a thread of a bigger process would lower that thread only.  Lowering
 * needs no privilege; an error (a seccomp filter, say) is reported. */
static int report_cpu_apply(int cpu, char *err, size_t errlen)
{
    if (cpu == REPORT_CPU_IDLE) {
        struct sched_param p = {.sched_priority = 0};
        if (sched_setscheduler(0, SCHED_IDLE, &p) != 0) {
            snprintf(err, errlen, "cannot run at SCHED_IDLE (--cpu idle): %s", strerror(errno));
            return -1;
        }
    }
    if (cpu == REPORT_CPU_LOW && setpriority(PRIO_PROCESS, 0, 19) != 0) {
        snprintf(err, errlen, "cannot run at nice 19 (--cpu low): %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

typedef struct follower {
    rstore *db;
    rwriter *w;
    int in_txn;
    uint32_t pending;
    int64_t deadline;
    uint64_t seq;
    int64_t ts;
    report_follow_stats *st;
    struct timespec t0;
    const char *metrics_file;
    int64_t metrics_ms; /* when it was last written */
} follower;

/* The textfile of report_follow_config.metrics_file: written whole beside
 * it, then renamed over it, so a scraper never reads half of one; at most
 * once a second, after a commit or while the journal is quiet (so the
 * last commit's seq gets there, and a stalled follower shows by its
 * timestamp).  A
 * failure to write it is not the follower's: it is skipped. */
static void write_metrics(follower *f, int now)
{
    int64_t t = now_ms();
    if (!f->metrics_file || (!now && t - f->metrics_ms < 1000))
        return;
    f->metrics_ms = t;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->metrics_file);
    FILE *o = fopen(tmp, "w");
    if (!o)
        return;
    fprintf(
        o,
        "# HELP bourse_report_last_seq The last seq written into the reporting database.\n"
        "# TYPE bourse_report_last_seq gauge\nbourse_report_last_seq %" PRIu64 "\n"
        "# HELP bourse_report_commands_written_total Commands whose rows this follower wrote.\n"
        "# TYPE bourse_report_commands_written_total counter\nbourse_report_commands_written_total %" PRIu64
        "\n"
        "# HELP bourse_report_commits_total Transactions this follower committed.\n"
        "# TYPE bourse_report_commits_total counter\nbourse_report_commits_total %" PRIu64 "\n"
        "# HELP bourse_report_write_timestamp_seconds When this file was written (Unix time).\n"
        "# TYPE bourse_report_write_timestamp_seconds gauge\nbourse_report_write_timestamp_seconds %lld\n",
        f->st->last_seq, f->st->written, f->st->commits, (long long)time(NULL));
    if (fclose(o) != 0 || rename(tmp, f->metrics_file) != 0)
        remove(tmp);
}

static int meta_set(rstore *db, const char *key, int64_t v, char *err, size_t errlen)
{
    rval p[2] = {rv_int(v), rv_text(key, -1)};
    return rstore_run(db, RSTORE_META_SET, p, 2, NULL, NULL, 0, err, errlen) < 0 ? -1 : 0;
}

static int commit(follower *f, char *err, size_t errlen)
{
    if (!f->in_txn)
        return 0;
    if (rwriter_flush(f->w, err, errlen) != 0 ||
        meta_set(f->db, "last_seq", (int64_t)f->seq, err, errlen) != 0 ||
        meta_set(f->db, "last_ts", f->ts, err, errlen) != 0 || rstore_exec(f->db, "COMMIT", err, errlen) != 0)
        return -1;
    f->in_txn = 0;
    f->pending = 0;
    f->st->commits++;
    f->st->last_seq = f->seq;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    f->st->write_s = (double)(t.tv_sec - f->t0.tv_sec) + (double)(t.tv_nsec - f->t0.tv_nsec) / 1e9;
    write_metrics(f, 0);
    return 0;
}

int report_follow(const report_follow_config *cfg, report_follow_stats *st, char *err, size_t errlen)
{
    report_follow_stats dummy;
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof *st);
    char path[4200];
    if (cfg->db_path)
        snprintf(path, sizeof path, "%s", cfg->db_path);
    else
        report_db_path(path, sizeof path, cfg->dir);
    uint32_t batch = cfg->batch ? cfg->batch : 4096, batch_ms = cfg->batch_ms ? cfg->batch_ms : 200;
    uint32_t idle_ms = cfg->idle_ms ? cfg->idle_ms : 300;
    follower f = {.st = st, .metrics_file = cfg->metrics_file};
    if (report_cpu_apply(cfg->cpu, err, errlen) != 0)
        return -1;
    if (!(f.db = rstore_open(path, 1, err, errlen)))
        return -1;
    if (rstore_prepare(f.db, RSTORE_META_SET, "UPDATE meta SET value = ?1 WHERE key = ?2", err, errlen) !=
        0) {
        rstore_close(f.db);
        return -1;
    }
    int64_t last = 0, last_ts = 0, first_ts = 0;
    if (rstore_int(f.db, "SELECT value FROM meta WHERE key = 'last_seq'", &last, err, errlen) != 0 ||
        rstore_int(f.db, "SELECT value FROM meta WHERE key = 'last_ts'", &last_ts, err, errlen) != 0 ||
        rstore_int(f.db, "SELECT value FROM meta WHERE key = 'first_ts'", &first_ts, err, errlen) != 0) {
        rstore_close(f.db);
        return -1;
    }
    f.seq = (uint64_t)last;
    f.ts = last_ts;
    st->last_seq = f.seq;
    rcore *core = rcore_open(cfg->dir, (uint64_t)last, err, errlen);
    if (!core || !(f.w = rwriter_new(f.db, err, errlen))) {
        rcore_close(core);
        rstore_close(f.db);
        return -1;
    }
    int resumed = 0, rc = 0;
    int64_t idle_since = now_ms();
    while (!(cfg->stop && *cfg->stop)) {
        if (cfg->until_seq && f.seq >= cfg->until_seq)
            break;
        int wait = f.in_txn ? (int)(f.deadline - now_ms()) : (int)(idle_ms < 100 ? idle_ms : 100);
        if (wait < 0)
            wait = 0;
        bourse_cmd c;
        int r = rcore_next(core, &c, wait, err, errlen);
        if (r == JREAD_TIMEOUT) {
            if (f.in_txn && now_ms() >= f.deadline && commit(&f, err, errlen) != 0)
                goto fail;
            write_metrics(&f, 0); /* quiet: the last commit's seq, and a fresh timestamp */
            if (!f.in_txn && cfg->exit_at_end && now_ms() - idle_since >= idle_ms)
                break;
            continue;
        }
        if (r != JREAD_RECORD)
            goto fail;
        idle_since = now_ms();
        if (c.seq == 1 && first_ts && c.ts_ns != first_ts) {
            snprintf(err, errlen,
                     "%s was written from another journal (its seq 1 is at ts %" PRId64
                     ", this journal's at %" PRId64 ")",
                     path, first_ts, c.ts_ns);
            goto fail;
        }
        if (c.seq <= (uint64_t)last) {
            const char *why = rcore_apply(core, &c, NULL, NULL);
            if (why) {
                snprintf(err, errlen, "%s: seq %" PRIu64 ": %s", cfg->dir, c.seq, why);
                goto fail;
            }
            if (c.seq == (uint64_t)last && c.ts_ns != last_ts) {
                snprintf(err, errlen,
                         "%s: seq %" PRIu64 " is not the command the database holds (ts %" PRId64
                         ", the journal's %" PRId64 "): the journal was replaced or rewritten after it",
                         path, c.seq, last_ts, c.ts_ns);
                goto fail;
            }
            st->replayed++;
            continue;
        }
        if (!resumed) {
            if (rwriter_resume(f.w, err, errlen) != 0)
                goto fail;
            resumed = 1;
            clock_gettime(CLOCK_MONOTONIC, &f.t0);
        }
        if (!f.in_txn) {
            if (rstore_begin(f.db, err, errlen) != 0)
                goto fail;
            f.in_txn = 1;
            f.deadline = now_ms() + batch_ms;
        }
        if (c.seq == 1 && meta_set(f.db, "first_ts", c.ts_ns, err, errlen) != 0)
            goto fail;
        bourse_engine *e = rcore_engine(core);
        if (rwriter_begin_cmd(f.w, e, &c, err, errlen) != 0)
            goto fail;
        const char *why = rcore_apply(core, &c, rwriter_event, f.w);
        if (why) {
            snprintf(err, errlen, "%s: seq %" PRIu64 ": %s", cfg->dir, c.seq, why);
            goto fail;
        }
        if (rwriter_end_cmd(f.w, e, err, errlen) != 0)
            goto fail;
        f.seq = c.seq;
        f.ts = c.ts_ns;
        st->written++;
        if (cfg->crash_at_seq == c.seq)
            raise(SIGKILL);
        if (++f.pending >= batch && commit(&f, err, errlen) != 0)
            goto fail;
    }
    if (commit(&f, err, errlen) != 0)
        goto fail;
    goto done;
fail:
    rc = -1;
    if (f.in_txn) {
        char ignore[8];
        rstore_exec(f.db, "ROLLBACK", ignore, sizeof ignore);
        if (f.w)
            rwriter_discard(f.w);
    }
done:
    write_metrics(&f, 1);
    st->events = rwriter_events(f.w);
    rwriter_free(f.w);
    rcore_close(core);
    rstore_close(f.db);
    return rc;
}
