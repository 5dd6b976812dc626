/*
 * test_journal_crash.c - a writer killed with SIGKILL at random moments.
 *
 * A child process opens (recovering) one data directory, appends and
 * applies a deterministic command stream, snapshots now and then, and
 * publishes in shared memory the last seq it appended and the highest seq
 * journal_durable_seq() reported to it (what a server would have
 * acknowledged).  The parent kills it (and any snapshot child) at a random
 * moment, sometimes while it is still recovering, then recovers the
 * directory itself and checks that
 *   - recovery succeeds (a crash leaves at most a torn tail),
 *   - the journal holds exactly commands 1..L of the stream, in order,
 *   - every seq reported durable is in it: durable <= L <= appended + 1,
 *   - the recovered state's hash is the hash after command L.
 * Runs rotate through the durability modes; the next child carries on from
 * the recovered state, so crashes pile up on one directory.  The number of
 * runs is BOURSE_CRASH_RUNS (default 24, kept brief for `make test`).
 */
#include "check.h"
#include "journal/journal.h"
#include "journal/scan.h"
#include "journal_gen.h"
#include "rmdir.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { NMAX = 60000, SEG_BYTES = 16384 };

typedef struct shared {
    _Atomic uint64_t start, appended, durable;
    _Atomic int failed;
    char error[700];
} shared;

static bourse_cmd *cmds; /* cmds[k]: command k, resolved */
static const bourse_limits lim = {
    .symbols = 16, .users = 256, .orders = 4096, .ids = 65536, .positions = 1024};

static void drop(void *ctx, const bourse_cmd *c, const bourse_event *ev)
{
    (void)ctx, (void)c, (void)ev;
}

static void quiet(void *ctx, const char *msg)
{
    (void)ctx, (void)msg;
}

static void precompute(void)
{
    cmds = calloc(NMAX + 1, sizeof *cmds);
    bourse_engine *e = bourse_engine_new(&lim);
    jgen g;
    jgen_init(&g, 7);
    for (int k = 1; k <= NMAX; k++) {
        jgen_next(&g, &cmds[k]);
        bourse_engine_resolve(e, &cmds[k]);
        bourse_engine_apply(e, &cmds[k], drop, NULL);
    }
    bourse_engine_free(e);
}

/* The reference: an engine that has applied commands 1..at. */
typedef struct reference {
    bourse_engine *e;
    uint64_t at;
} reference;

static uint64_t hash_after(reference *ref, uint64_t k)
{
    if (!ref->e || ref->at > k) {
        bourse_engine_free(ref->e);
        ref->e = bourse_engine_new(&lim);
        ref->at = 0;
    }
    while (ref->at < k)
        bourse_engine_apply(ref->e, &cmds[++ref->at], drop, NULL);
    return bourse_engine_hash(ref->e);
}

static void child(const char *dir, int mode, shared *sh)
{
    setpgid(0, 0); /* so the parent can kill any snapshot child with us */
    journal_config cfg = {.dir = dir,
                          .durability = mode,
                          .segment_bytes = SEG_BYTES,
                          .limits = lim,
                          .batch_us = 50,
                          .batch_records = 256,
                          .on_warning = quiet};
    journal *j;
    bourse_engine *e;
    char err[512];
    if (journal_open(&cfg, &j, &e, err, sizeof err) != 0) {
        snprintf(sh->error, sizeof sh->error, "child open: %s", err);
        atomic_store(&sh->failed, 1);
        _exit(3);
    }
    uint64_t last = journal_recovered(j)->last_seq;
    atomic_store(&sh->start, last);
    atomic_store(&sh->durable, journal_durable_seq(j));
    for (uint64_t k = last + 1; k <= NMAX; k++) {
        bourse_cmd c = cmds[k];
        if (journal_append(j, &c) != k) {
            snprintf(sh->error, sizeof sh->error, "child append %llu: %s", (unsigned long long)k,
                     journal_error(j));
            atomic_store(&sh->failed, 1);
            _exit(4);
        }
        bourse_engine_apply(e, &c, drop, NULL);
        atomic_store(&sh->appended, k);
        uint64_t d = journal_durable_seq(j);
        if (d > atomic_load(&sh->durable))
            atomic_store(&sh->durable, d);
        if (k % 3000 == 0)
            journal_snapshot(j, e);
        if (k % 700 == 0 && mode == JOURNAL_BATCH) /* as a server waiting for acks */
            journal_wait_durable(j, k);
    }
    journal_wait_durable(j, NMAX);
    atomic_store(&sh->durable, journal_durable_seq(j));
    for (;;)
        pause();
}

typedef struct checker {
    uint64_t next;
    const char *why;
} checker;

static const char *same_command(void *ctx, const bourse_cmd *c)
{
    checker *k = ctx;
    const bourse_cmd *w = &cmds[k->next];
    if (c->seq != k->next || c->type != w->type || c->qty != w->qty || c->price != w->price ||
        memcmp(c->oid.s, w->oid.s, BOURSE_NAME_LEN) != 0 ||
        memcmp(c->new_oid.s, w->new_oid.s, BOURSE_NAME_LEN) ||
        (c->type == BOURSE_CMD_ORDER && (c->side != w->side || c->tif != w->tif)))
        return "record differs from the command written";
    if (c->type != BOURSE_CMD_USER && c->type != BOURSE_CMD_SYMBOL && c->user != BOURSE_NONE &&
        c->user != w->user)
        return "record names another user";
    k->next++;
    return NULL;
}

static void test_kill_at_random(void)
{
    const char *env = getenv("BOURSE_CRASH_RUNS");
    int runs = env ? atoi(env) : 24;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/bourse-jcXXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint64_t rng = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 20;
    const char *seed = getenv("BOURSE_CRASH_SEED");
    if (seed)
        rng = strtoull(seed, NULL, 10);
    printf("# crash test: %d runs, seed %llu (BOURSE_CRASH_SEED)\n", runs, (unsigned long long)rng);
    int torn = 0, from_snapshot = 0;
    reference ref = {0};
    uint64_t total = 0;
    for (int run = 0; run < runs && !check_failures; run++) {
        static const int modes[] = {JOURNAL_BATCH, JOURNAL_NONE, JOURNAL_SYNC};
        int mode = modes[run % 3];
        memset(sh, 0, sizeof *sh);
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0)
            child(dir, mode, sh);
        setpgid(pid, pid);
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        usleep((useconds_t)(rng % 6 == 0 ? rng % 3000 : 2000 + rng % 40000));
        killpg(pid, SIGKILL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        if (atomic_load(&sh->failed)) {
            printf("run %d: %s\n", run, sh->error);
            CHECK(0);
            break;
        }
        uint64_t start = atomic_load(&sh->start), appended = atomic_load(&sh->appended),
                 durable = atomic_load(&sh->durable);
        int warned = 0;
        journal_config cfg = {.dir = dir, .durability = JOURNAL_NONE, .on_warning = quiet};
        (void)warned;
        journal *j;
        bourse_engine *e;
        char err[600];
        if (journal_open(&cfg, &j, &e, err, sizeof err) != 0) {
            printf("run %d (mode %d): recovery refused: %s\n", run, mode, err);
            CHECK(0);
            break;
        }
        const journal_recovery *r = journal_recovered(j);
        uint64_t last = r->last_seq;
        torn += r->torn_bytes > 0;
        from_snapshot += r->snapshot_seq > 0;
        if (last < durable || last < start || (appended && last > appended + 1) || last > NMAX)
            printf("run %d (mode %d): recovered up to %llu; child started at %llu, appended %llu, durable "
                   "%llu\n",
                   run, mode, (unsigned long long)last, (unsigned long long)start,
                   (unsigned long long)appended, (unsigned long long)durable);
        CHECK(last >= durable);
        CHECK(last >= start);
        CHECK(!appended || last <= appended + 1);
        uint64_t want = last <= NMAX ? hash_after(&ref, last) : 0;
        CHECK(r->hash == want);
        CHECK(bourse_engine_hash(e) == want);
        total += last - start;
        CHECK_EQ(journal_close(j, err, sizeof err), 0);
        bourse_engine_free(e);
        /* The journal itself: exactly commands 1..last, in order. */
        checker k = {.next = 1};
        jscan s = {.dir = dir, .on_record = same_command, .ctx = &k};
        if (jscan_run(&s, err, sizeof err) != 0) {
            printf("run %d: journal check: %s\n", run, err);
            CHECK(0);
        }
        CHECK_EQ(k.next, last + 1);
        CHECK_EQ(s.torn_bytes, 0); /* recovery zeroed it */
        if (last > NMAX / 2) {
            rm_rf(dir);
            CHECK(mkdir(dir, 0700) == 0);
        }
    }
    printf("# %llu commands written across the runs; %d torn tails cut, %d recoveries from a snapshot\n",
           (unsigned long long)total, torn, from_snapshot);
    munmap(sh, sizeof *sh);
    bourse_engine_free(ref.e);
    rm_rf(dir);
}

int main(void)
{
    precompute();
    RUN(test_kill_at_random);
    free(cmds);
    return CHECK_DONE();
}
