/*
 * journal.c - `bourse bench --workload journal`: what the event store costs.
 *
 * The commands are the exchange-core workload's (bench/workload.c), ids
 * resolved, as the server journals them.  Every figure is taken on a data
 * directory on the disk (--dir, default under /tmp) and on /dev/shm (tmpfs:
 * the same code with a free fdatasync), in the same run, so the disk's share
 * shows by difference:
 *   encode      rec_encode into memory: the floor for appending
 *   append      journal_append flat out, durability none (page cache only),
 *               batch (a syncer thread running fdatasync behind) and sync
 *               (fdatasync in every append; a short run)
 *   replay      reading the journal back: decode only, then decode + apply
 *               to an engine (after the workload's setup), against applying
 *               the same commands from memory
 *   commit      group-commit latency in batch mode at offered rates: the
 *               writer appends at rate R (open loop), an acknowledging
 *               thread spins on journal_durable_seq() and records, for each
 *               seq that becomes durable, now - the time it was appended;
 *               the same for sync mode (the append call itself)
 *   fsync       fdatasync of one 4 KiB write, the disk's own latency
 *   snapshot    the pause of journal_snapshot() (fork) on the engine after
 *               the run, and the time until the file is complete
 */
#include "journal/journal.h"
#include "bench/bench.h"
#include "bench/hist.h"
#include "bench/workload.h"
#include "bourse/bourse.h"
#include "journal/record.h"
#include "journal/scan.h"
#include "util/clock.h"

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct jbench {
    workload w;
    const char *disk;  /* parent directory on the disk */
    uint64_t messages; /* appended in the throughput runs */
    double seconds;    /* of each latency run */
    int quick;
    int replay_only; /* --replay-only: the replay on tmpfs alone (for profiling recovery) */
    const char *of;  /* --of W: the workload whose commands are journaled (exchange-core) */
    int handles;     /* --handles: cancels and moves carry their order's handle, journaled with them */
} jbench;

static void drop(void *ctx, const bourse_cmd *c, const bourse_event *ev)
{
    (void)c, (void)ev;
    (*(uint64_t *)ctx)++;
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: could not remove %s\n", dir);
}

static char *fresh_dir(const char *parent, const char *what)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/bourse-jbench-%s-XXXXXX", parent, what);
    return mkdtemp(path);
}

static journal *open_journal(const char *dir, int mode, const jbench *b, bourse_engine **e)
{
    journal_config cfg = {.dir = dir, .durability = mode, .limits = b->w.limits, .batch_us = 200};
    journal *j;
    char err[600];
    if (journal_open(&cfg, &j, e, err, sizeof err) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        exit(1);
    }
    return j;
}

static void close_journal(journal *j, bourse_engine *e)
{
    char err[600];
    if (journal_close(j, err, sizeof err) != 0)
        fprintf(stderr, "bench: close: %s\n", err);
    bourse_engine_free(e);
}

static const char *mode_name(int mode)
{
    return mode == JOURNAL_NONE ? "none" : mode == JOURNAL_BATCH ? "batch" : "sync";
}

/* ---- encode and append ---- */

static void bench_encode(const jbench *b)
{
    uint64_t n = b->w.n;
    uint8_t *buf = malloc(n * REC_MAX / 4 + REC_MAX);
    rec_prev prev = {0, 0};
    size_t at = 0;
    uint64_t t0 = mono_ns();
    for (uint64_t i = 0; i < n && at + REC_MAX < n * REC_MAX / 4; i++) {
        bourse_cmd c = b->w.cmds[i];
        c.seq = i + 1;
        c.ts_ns = (int64_t)t0 + (int64_t)i * 100;
        at += rec_encode(buf + at, &c, &prev);
    }
    double s = (double)(mono_ns() - t0) / 1e9;
    printf("encode (memory)          %6.1f M records/s   %5.1f bytes/record\n", (double)n / s / 1e6,
           (double)at / (double)n);
    free(buf);
}

/* Append the workload `rounds` times over (seqs continue); records/s. */
static double append_flat_out(journal *j, const jbench *b, uint64_t limit, double max_seconds)
{
    uint64_t n = b->w.n < limit ? b->w.n : limit;
    uint64_t t0 = mono_ns(), done = 0;
    for (uint64_t i = 0; i < n; i++) {
        bourse_cmd c = b->w.cmds[i];
        if (!journal_append(j, &c)) {
            fprintf(stderr, "bench: append: %s\n", journal_error(j));
            exit(1);
        }
        done++;
        if ((i & 255) == 0 && (double)(mono_ns() - t0) / 1e9 > max_seconds)
            break;
    }
    uint64_t t1 = mono_ns();
    journal_wait_durable(j, journal_last_seq(j));
    return (double)done / ((double)(t1 - t0) / 1e9);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The page cache's own speed, for comparison: 21-byte copies into a fresh
 * mapped file, page faults included. */
static double raw_mmap_rate(const char *parent, uint64_t n)
{
    char path[600];
    snprintf(path, sizeof path, "%s/bourse-jbench-raw-%d", parent, (int)getpid());
    size_t size = (size_t)n * 21 + 4096;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || posix_fallocate(fd, 0, (off_t)size) != 0)
        return 0;
    uint8_t *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    uint8_t rec[21];
    memset(rec, 7, sizeof rec);
    uint64_t t0 = mono_ns();
    for (uint64_t i = 0; i < n; i++) {
        rec[0] = (uint8_t)i;
        memcpy(m + i * 21, rec, 21);
    }
    double rate = (double)n / ((double)(mono_ns() - t0) / 1e9);
    munmap(m, size);
    close(fd);
    unlink(path);
    return rate;
}

static void bench_append(const jbench *b, const char *parent, const char *where)
{
    const int modes[] = {JOURNAL_NONE, JOURNAL_BATCH, JOURNAL_SYNC};
    printf("memcpy 21 B into mmap  %-10s  %10.2f M records/s  (the page cache's own speed)\n", where,
           raw_mmap_rate(parent, b->w.n) / 1e6);
    for (int m = 0; m < 3; m++) {
        int runs = modes[m] == JOURNAL_SYNC ? 1 : 3;
        double rates[3];
        uint64_t n = 0;
        for (int r = 0; r < runs; r++) {
            char *dir = fresh_dir(parent, "append");
            bourse_engine *e;
            journal *j = open_journal(dir, modes[m], b, &e);
            uint64_t limit = modes[m] == JOURNAL_SYNC ? 20000 : UINT64_MAX;
            double secs = modes[m] == JOURNAL_SYNC ? 2.0 : 60.0;
            rates[r] = append_flat_out(j, b, limit, secs);
            n = journal_last_seq(j);
            close_journal(j, e);
            rm_rf(dir);
        }
        qsort(rates, (size_t)runs, sizeof *rates, cmp_double);
        printf("append %-5s %-10s      %10.2f M records/s  (%s of %d runs of %" PRIu64 " records)\n",
               mode_name(modes[m]), where, rates[runs / 2] / 1e6, runs > 1 ? "median" : "one", runs, n);
    }
}

/* ---- replay ---- */

typedef struct replayer {
    bourse_engine *e;
    uint64_t events, records;
} replayer;

static const char *count_only(void *ctx, const bourse_cmd *c)
{
    (void)c;
    ((replayer *)ctx)->records++;
    return NULL;
}

static const char *apply_one(void *ctx, const bourse_cmd *c)
{
    replayer *r = ctx;
    r->records++;
    bourse_engine_apply(r->e, c, drop, &r->events);
    return NULL;
}

static bourse_engine *set_up(const jbench *b)
{
    bourse_engine *e = bourse_engine_new(&b->w.limits);
    uint64_t ev = 0;
    workload_setup(&b->w, e, drop, &ev);
    return e;
}

static void bench_replay(const jbench *b, const char *parent, const char *where)
{
    char *dir = fresh_dir(parent, "replay");
    bourse_engine *e;
    journal *j = open_journal(dir, JOURNAL_NONE, b, &e);
    append_flat_out(j, b, UINT64_MAX, 1e9);
    close_journal(j, e);
    char err[600];
    replayer r = {0};
    jscan s = {.dir = dir, .on_record = count_only, .ctx = &r};
    uint64_t t0 = mono_ns();
    if (jscan_run(&s, err, sizeof err) != 0)
        fprintf(stderr, "bench: %s\n", err);
    double dec = (double)(mono_ns() - t0) / 1e9;
    r = (replayer){.e = set_up(b)};
    s = (jscan){.dir = dir, .on_record = apply_one, .ctx = &r};
    t0 = mono_ns();
    jscan_run(&s, err, sizeof err);
    double app = (double)(mono_ns() - t0) / 1e9;
    uint64_t h1 = bourse_engine_hash(r.e);
    bourse_engine_free(r.e);
    /* The same commands from memory: the engine's own speed. */
    bourse_engine *m = set_up(b);
    uint64_t mev = 0;
    t0 = mono_ns();
    for (uint64_t i = 0; i < b->w.n; i++)
        bourse_engine_apply(m, &b->w.cmds[i], drop, &mev);
    double mem = (double)(mono_ns() - t0) / 1e9;
    int same = bourse_engine_hash(m) == h1;
    bourse_engine_free(m);
    printf("replay %-10s decode         %8.2f M records/s\n", where, (double)r.records / dec / 1e6);
    printf("replay %-10s decode+apply   %8.2f M commands/s  %6.2f M events/s%s\n", where,
           (double)r.records / app / 1e6, (double)r.events / app / 1e6, same ? "" : "  (STATE DIFFERS!)");
    printf("apply from memory (same commands) %6.2f M commands/s  %6.2f M events/s\n",
           (double)b->w.n / mem / 1e6, (double)mev / mem / 1e6);
    rm_rf(dir);
}

/* ---- group commit latency ---- */

typedef struct commit_run {
    journal *j;
    uint64_t *t_append; /* by seq */
    _Atomic uint64_t n;
    _Atomic int done;
    hist lat;
} commit_run;

/* The acknowledging thread, as the server's: it sleeps on the journal's
 * eventfd and, when durable_seq moves, "acks" every seq it passed. */
static void *acker(void *arg)
{
    commit_run *c = arg;
    uint64_t seen = 0;
    struct pollfd p = {.fd = journal_notify_fd(c->j), .events = POLLIN};
    hist_init(&c->lat);
    while (seen < c->n || !atomic_load(&c->done)) {
        uint64_t d = journal_durable_seq(c->j);
        if (d > seen) {
            uint64_t now = mono_ns();
            for (uint64_t s = seen + 1; s <= d; s++) {
                uint64_t t;
                while ((t = __atomic_load_n(&c->t_append[s], __ATOMIC_ACQUIRE)) == 0)
                    ;
                hist_record(&c->lat, now > t ? now - t : 0);
            }
            seen = d;
            continue;
        }
        if (atomic_load(&c->done) && seen >= c->n)
            break;
        poll(&p, 1, 5);
        uint64_t drain;
        if (read(p.fd, &drain, sizeof drain) < 0)
            continue;
    }
    return NULL;
}

static void print_lat(const char *label, const hist *h, double offered, double achieved)
{
    printf("%-34s %9.0f/s %9.0f/s  p50 %8.1f  p99 %8.1f  p99.9 %8.1f  max %8.1f us\n", label, offered,
           achieved, (double)hist_percentile(h, 50) / 1e3, (double)hist_percentile(h, 99) / 1e3,
           (double)hist_percentile(h, 99.9) / 1e3, (double)h->max / 1e3);
}

/* Append at `rate`/s (0: flat out) for the run's seconds. */
static void commit_latency(const jbench *b, const char *parent, const char *where, int mode, double rate)
{
    char *dir = fresh_dir(parent, "commit");
    bourse_engine *e;
    journal *j = open_journal(dir, mode, b, &e);
    uint64_t max = rate > 0 ? (uint64_t)(rate * b->seconds) : b->w.n;
    if (mode == JOURNAL_SYNC && max > 20000)
        max = 20000;
    if (max > b->w.n)
        max = b->w.n;
    commit_run c = {.j = j, .t_append = calloc(max + 2, sizeof(uint64_t)), .n = UINT64_MAX};
    pthread_t th;
    int threaded = mode == JOURNAL_BATCH;
    hist sync_lat;
    hist_init(&sync_lat);
    if (threaded)
        pthread_create(&th, NULL, acker, &c);
    double period = rate > 0 ? 1e9 / rate : 0;
    uint64_t t0 = mono_ns() + 1000000, now = 0, n = 0;
    for (uint64_t i = 0; i < max; i++) {
        uint64_t due = t0 + (uint64_t)((double)i * period);
        if ((now = mono_ns()) + 100000 < due) { /* far: sleep, to leave the cores to the syncer */
            struct timespec ts = {(time_t)((due - 50000) / 1000000000u), (long)((due - 50000) % 1000000000u)};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
        while ((now = mono_ns()) < due)
            ;
        bourse_cmd cmd = b->w.cmds[i];
        uint64_t seq = journal_append(j, &cmd);
        if (!seq)
            break;
        uint64_t after = mono_ns();
        __atomic_store_n(&c.t_append[seq], rate > 0 ? due : now, __ATOMIC_RELEASE);
        if (!threaded)
            hist_record(&sync_lat, after - (rate > 0 ? due : now));
        n++;
        if (mode == JOURNAL_SYNC && (double)(after - t0) / 1e9 > b->seconds)
            break;
    }
    double secs = (double)(mono_ns() - t0) / 1e9;
    c.n = n;
    atomic_store(&c.done, 1);
    journal_wait_durable(j, n);
    if (threaded)
        pthread_join(th, NULL);
    char label[80];
    if (rate > 0)
        snprintf(label, sizeof label, "commit %-5s %-10s at", mode_name(mode), where);
    else
        snprintf(label, sizeof label, "commit %-5s %-10s flat out", mode_name(mode), where);
    print_lat(label, threaded ? &c.lat : &sync_lat, rate, (double)n / secs);
    free(c.t_append);
    close_journal(j, e);
    rm_rf(dir);
}

static void bench_fsync(const char *parent, const char *where)
{
    char path[600];
    snprintf(path, sizeof path, "%s/bourse-jbench-fsync-%d", parent, (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    hist h;
    hist_init(&h);
    for (int i = 0; i < 200; i++) {
        uint64_t t0 = mono_ns();
        if (pwrite(fd, buf, sizeof buf, (off_t)(i % 64) * 4096) != (ssize_t)sizeof buf || fdatasync(fd) != 0)
            break;
        hist_record(&h, mono_ns() - t0);
    }
    close(fd);
    unlink(path);
    printf("fdatasync of 4 KiB %-10s  p50 %8.1f  p99 %8.1f  max %8.1f us\n", where,
           (double)hist_percentile(&h, 50) / 1e3, (double)hist_percentile(&h, 99) / 1e3, (double)h.max / 1e3);
}

/* ---- snapshot pause ---- */

static double rss_mib(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = 0;
    if (f)
        fclose(f);
    return (double)rss * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

/* Apply cmds[0, n) timing each; returns commands/s. */
static double timed_apply(bourse_engine *e, const bourse_cmd *cmds, uint64_t n, hist *h)
{
    uint64_t ev = 0, t0 = mono_ns(), prev = t0;
    hist_init(h);
    for (uint64_t i = 0; i < n; i++) {
        bourse_engine_apply(e, &cmds[i], drop, &ev);
        uint64_t now = mono_ns();
        hist_record(h, now - prev);
        prev = now;
    }
    return (double)n / ((double)(prev - t0) / 1e9);
}

/*
 * A snapshot of the engine after half a workload, through a journal holding
 * that many records: the fork pause, the time until the file is complete,
 * and what the copy-on-write faults cost the engine thread, which goes on
 * with the other half right after the fork, against a twin engine that
 * applies the same half with no snapshot running.
 */
static void bench_snapshot(const char *name, uint64_t messages, const char *parent, const char *where)
{
    jbench b = {0};
    const workload_spec *spec = workload_find(name);
    if (!spec || workload_build(&b.w, spec, messages, 2, WORKLOAD_IDS_USER, 0) != 0) {
        fprintf(stderr, "bench: cannot build workload %s\n", name);
        return;
    }
    uint64_t half = b.w.n / 2, rest = b.w.n - half;
    char *dir = fresh_dir(parent, "snap");
    bourse_engine *e0;
    journal *j = open_journal(dir, JOURNAL_NONE, &b, &e0);
    append_flat_out(j, &b, half, 1e9);
    bourse_engine *e = set_up(&b), *twin = set_up(&b);
    uint64_t ev = 0;
    for (uint64_t i = 0; i < half; i++) {
        bourse_engine_apply(e, &b.w.cmds[i], drop, &ev);
        bourse_engine_apply(twin, &b.w.cmds[i], drop, &ev);
    }
    bourse_cmd *later = malloc(rest * sizeof *later);
    memcpy(later, b.w.cmds + half, rest * sizeof *later);
    workload_free(&b.w); /* the process now holds about what a server would */
    bourse_stats st;
    bourse_engine_stats(e, &st);
    hist calm, during;
    double calm_rate = timed_apply(twin, later, rest, &calm);
    bourse_engine_free(twin);
    double rss = rss_mib();
    uint64_t seq = journal_last_seq(j);
    uint64_t t0 = mono_ns();
    int rc = journal_snapshot(j, e);
    uint64_t pause = mono_ns() - t0;
    double during_rate = timed_apply(e, later, rest, &during);
    while (rc == 0 && journal_snapshot_seq(j) < seq && !journal_error(j)[0] &&
           mono_ns() - t0 < 120000000000ull)
        usleep(1000);
    double total = (double)(mono_ns() - t0) / 1e9;
    char path[700];
    snprintf(path, sizeof path, "%s/snap-%020" PRIu64 ".snap", dir, seq);
    struct stat sb = {0};
    stat(path, &sb);
    printf("snapshot %-13s %-5s fork pause %6.2f ms (process RSS %5.0f MiB), file complete after %5.2f s, "
           "%5.1f MiB (%u users, %u open orders, %u order ids) %s\n",
           name, where, (double)pause / 1e6, rss, total, (double)sb.st_size / 1048576.0, st.users,
           st.open_orders, st.ids, journal_snapshot_seq(j) == seq ? "" : journal_error(j));
    printf("   engine right after the fork: %5.2f M commands/s, p99.9 %6.1f us, max %7.1f us"
           "  (twin without a snapshot: %5.2f M/s, p99.9 %6.1f us, max %7.1f us)\n",
           during_rate / 1e6, (double)hist_percentile(&during, 99.9) / 1e3, (double)during.max / 1e3,
           calm_rate / 1e6, (double)hist_percentile(&calm, 99.9) / 1e3, (double)calm.max / 1e3);
    free(later);
    bourse_engine_free(e);
    close_journal(j, e0);
    rm_rf(dir);
}

/* ---- driver ---- */

static int parse(int argc, char **argv, jbench *b)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--workload") && v)
            i++;
        else if (!strcmp(a, "--dir") && v)
            b->disk = v, i++;
        else if (!strcmp(a, "--messages") && v)
            b->messages = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--seconds") && v)
            b->seconds = atof(v), i++;
        else if (!strcmp(a, "--quick"))
            b->quick = 1;
        else if (!strcmp(a, "--replay-only"))
            b->replay_only = 1;
        else if (!strcmp(a, "--handles"))
            b->handles = 1;
        else if (!strcmp(a, "--of") && v)
            b->of = v, i++;
        else {
            fprintf(stderr, "usage: bourse bench --workload journal [--dir DIR] [--messages N] [--seconds S] "
                            "[--quick] [--replay-only] [--of W] [--handles]\n"
                            "  --dir DIR       a directory on the disk to measure (default /tmp)\n"
                            "  --messages N    commands appended and replayed (default 4000000)\n"
                            "  --seconds S     length of each group-commit latency run (default 2)\n"
                            "  --quick         fewer, shorter runs (for tests)\n"
                            "  --replay-only   only the replay (decode, decode + apply), on tmpfs\n"
                            "  --of W          journal workload W's commands (default exchange-core)\n"
                            "  --handles       cancels and moves carry their order's handle (journaled)\n");
            return 2;
        }
    }
    return 0;
}

int bench_journal(int argc, char **argv)
{
    jbench b = {.disk = "/tmp", .messages = 4000000, .seconds = 2, .of = "exchange-core"};
    int rc = parse(argc, argv, &b);
    if (rc)
        return rc;
    if (b.quick)
        b.messages = 200000, b.seconds = 0.2;
    const workload_spec *spec = workload_find(b.of);
    if (!spec || workload_build(&b.w, spec, b.messages, 1, WORKLOAD_IDS_USER, b.handles) != 0) {
        fprintf(stderr, "bench: cannot build the workload\n");
        return 1;
    }
    int shm = access("/dev/shm", W_OK) == 0;
    printf("bourse bench --workload journal: %" PRIu64 " %s commands; disk = %s, tmpfs = %s\n\n", b.w.n, b.of,
           b.disk, shm ? "/dev/shm" : "(none)");
    const char *where[2] = {"disk", "tmpfs"}, *dirs[2] = {b.disk, "/dev/shm"};
    int places = shm ? 2 : 1;
    if (b.replay_only) {
        bench_replay(&b, dirs[places - 1], where[places - 1]);
        workload_free(&b.w);
        return 0;
    }
    bench_encode(&b);
    for (int p = 0; p < places; p++)
        bench_append(&b, dirs[p], where[p]);
    putchar('\n');
    for (int p = 0; p < places; p++)
        bench_replay(&b, dirs[p], where[p]);
    putchar('\n');
    for (int p = 0; p < places; p++)
        bench_fsync(dirs[p], where[p]);
    printf("\n%-34s %11s %11s  latency from append to durable (batch: as seen by an acker thread\n"
           "%-58s woken by journal_notify_fd; sync: the append call)\n",
           "", "offered", "achieved", "");
    const double rates[] = {1000, 10000, 100000, 1000000, 0};
    for (int p = 0; p < places; p++) {
        for (size_t r = 0; r < sizeof rates / sizeof *rates; r++)
            if (!b.quick || r % 2 == 0)
                commit_latency(&b, dirs[p], where[p], JOURNAL_BATCH, rates[r]);
        commit_latency(&b, dirs[p], where[p], JOURNAL_SYNC, 0);
    }
    putchar('\n');
    workload_free(&b.w);
    bench_snapshot("exchange-core", b.quick ? 100000 : 1000000, b.disk, where[0]);
    if (!b.quick)
        bench_snapshot("multi", 1000000, b.disk, where[0]);
    return 0;
}
