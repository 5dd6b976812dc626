/*
 * test_journal_follow.c - the live log reader (journal/reader.h) against a
 * journal being written at the same time: by another process (so nothing
 * but the files connects them) and by another thread, across many segment
 * rollovers, from the start and from the middle; a follower applying what
 * it reads (japply_record) ends with the writer's state hash; a stop wakes
 * a waiting reader; a missing start and damage in the middle are errors.
 * Every wait is bounded (a reader times out after seconds, not forever).
 */
#include "check.h"
#include "journal/apply.h"
#include "journal/journal.h"
#include "journal/reader.h"
#include "journal_gen.h"
#include "rmdir.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { N = 20000, SEG = 8192, WAIT_MS = 10000 };

static const bourse_limits LIMITS = {
    .symbols = 16, .users = 64, .orders = 4096, .ids = 65536, .positions = 512};

static char *tmpdir(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/bourse-jfXXXXXX");
    return mkdtemp(buf);
}

/* Write n generated commands through the leader path, pausing now and
 * then so that the reader catches up and must wait at the end.  Returns
 * the state hash, 0 on failure. */
static uint64_t write_journal(const char *dir, int n, int pause_us)
{
    journal_config cfg = {.dir = dir, .durability = JOURNAL_NONE, .segment_bytes = SEG, .limits = LIMITS};
    journal *j;
    bourse_engine *e;
    char err[600];
    if (journal_open(&cfg, &j, &e, err, sizeof err) != 0) {
        printf("open: %s\n", err);
        return 0;
    }
    japply a = japply_leader(e, j, 0);
    jgen g;
    jgen_init(&g, 7);
    for (int i = 0; i < n; i++) {
        bourse_cmd c;
        jgen_next(&g, &c);
        if (japply_command(&a, &c, NULL, NULL) != JAPPLY_OK) {
            printf("append: %s\n", journal_error(j));
            return 0;
        }
        if (pause_us && i % 128 == 0)
            usleep((useconds_t)pause_us);
    }
    uint64_t h = bourse_engine_hash(e);
    if (journal_close(j, err, sizeof err) != 0)
        h = 0;
    bourse_engine_free(e);
    return h;
}

/* Follow dir from `from` until seq `to`, checking order; with apply, a
 * follower engine is built and its hash returned (else 1). */
static uint64_t follow(const char *dir, uint64_t from, uint64_t to, int apply)
{
    jreader *r;
    char err[600];
    if (jreader_open(&(jreader_config){.dir = dir, .from_seq = from}, &r, err, sizeof err) != 0) {
        printf("reader: %s\n", err);
        return 0;
    }
    japply a = {0};
    uint64_t want = from, h = 1;
    while (want <= to) {
        bourse_cmd c;
        int rc = jreader_next(r, &c, WAIT_MS);
        if (rc != JREAD_RECORD) {
            printf("# reader stopped at seq %llu: %d %s\n", (unsigned long long)want, rc, jreader_error(r));
            h = 0;
            break;
        }
        if (c.seq != want) {
            printf("# got seq %llu, wanted %llu\n", (unsigned long long)c.seq, (unsigned long long)want);
            h = 0;
            break;
        }
        if (apply) {
            if (!a.e) {
                bourse_limits lim;
                CHECK_EQ(jreader_limits(r, &lim, &a.grow), 0);
                CHECK(!memcmp(&lim, &LIMITS, sizeof lim));
                a.e = bourse_engine_new(&lim);
                a.seq = from - 1;
            }
            const char *why = japply_record(&a, &c, NULL, NULL);
            if (why) {
                printf("# apply seq %llu: %s\n", (unsigned long long)c.seq, why);
                h = 0;
                break;
            }
        }
        CHECK_EQ(jreader_position(r), c.seq);
        want++;
    }
    if (a.e) {
        h = h ? bourse_engine_hash(a.e) : 0;
        bourse_engine_free(a.e);
    }
    jreader_close(r);
    return h;
}

static int count_segments(const char *dir)
{
    int n = 0;
    char p[700];
    for (int i = 1; i < 100000; i++) {
        snprintf(p, sizeof p, "%s/%08d.seg", dir, i);
        if (access(p, F_OK) != 0)
            break;
        n++;
    }
    return n;
}

/* Another process writes; this one follows from seq 1 and applies. */
static void test_follow_other_process(void)
{
    char dir[64];
    CHECK(tmpdir(dir, sizeof dir));
    int fd[2];
    CHECK(pipe(fd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        uint64_t h = write_journal(dir, N, 300);
        ssize_t w = write(fd[1], &h, sizeof h);
        _exit(w == sizeof h && h ? 0 : 1);
    }
    close(fd[1]);
    uint64_t got = follow(dir, 1, N, 1), want = 0;
    CHECK(read(fd[0], &want, sizeof want) == sizeof want);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(want != 0);
    CHECK_EQ(got, want);
    CHECK(count_segments(dir) > 20); /* it crossed many rollovers */
    close(fd[0]);
    rm_rf(dir);
}

typedef struct writer_arg {
    const char *dir;
    uint64_t hash;
} writer_arg;

static void *writer_main(void *p)
{
    writer_arg *w = p;
    w->hash = write_journal(w->dir, N, 200);
    return NULL;
}

/* A thread writes; readers start in the middle: at a seq not yet written,
 * and (once written) at one deep inside an earlier segment. */
static void test_follow_from_middle(void)
{
    char dir[64];
    CHECK(tmpdir(dir, sizeof dir));
    writer_arg w = {.dir = dir};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, writer_main, &w) == 0);
    CHECK_EQ(follow(dir, N / 2 + 17, N, 0), 1);
    CHECK_EQ(follow(dir, 1234, N, 0), 1);
    pthread_join(t, NULL);
    CHECK(w.hash != 0);
    rm_rf(dir);
}

static void *wait_main(void *p)
{
    jreader *r = p;
    bourse_cmd c;
    static int rc;
    rc = jreader_next(r, &c, -1);
    return &rc;
}

/* A reader waiting forever on an empty directory stops when told. */
static void test_stop(void)
{
    char dir[64], err[600];
    CHECK(tmpdir(dir, sizeof dir));
    jreader *r;
    CHECK(jreader_open(&(jreader_config){.dir = dir}, &r, err, sizeof err) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, wait_main, r) == 0);
    usleep(30000);
    jreader_stop(r);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    void *res = NULL;
    int joined = pthread_timedjoin_np(t, &res, &until) == 0;
    CHECK(joined);
    if (joined)
        CHECK_EQ(*(int *)res, JREAD_STOPPED);
    else
        _exit(1); /* the thread still uses r */
    jreader_close(r);
    rm_rf(dir);
}

/* The start archived away: an error naming where the journal starts. */
static void test_start_missing(void)
{
    char dir[64], p[700];
    CHECK(tmpdir(dir, sizeof dir));
    CHECK(write_journal(dir, 3000, 0) != 0);
    snprintf(p, sizeof p, "%s/00000001.seg", dir);
    CHECK(unlink(p) == 0);
    jreader *r;
    char err[600];
    CHECK(jreader_open(&(jreader_config){.dir = dir, .from_seq = 1}, &r, err, sizeof err) == 0);
    bourse_cmd c;
    CHECK_EQ(jreader_next(r, &c, 1000), JREAD_ERROR);
    CHECK(strstr(jreader_error(r), "no longer in the journal") != NULL);
    jreader_close(r);
    /* From a seq still there it reads on to the end, then times out. */
    CHECK(jreader_open(&(jreader_config){.dir = dir, .from_seq = 2500}, &r, err, sizeof err) == 0);
    int n = 0, rc;
    while ((rc = jreader_next(r, &c, 50)) == JREAD_RECORD)
        n++;
    CHECK_EQ(rc, JREAD_TIMEOUT);
    CHECK_EQ(n, 501);
    jreader_close(r);
    rm_rf(dir);
}

/* A damaged record in a segment the writer has left is damage (file and
 * offset), not a record still being written. */
static void test_damage(void)
{
    char dir[64], p[700];
    CHECK(tmpdir(dir, sizeof dir));
    CHECK(write_journal(dir, 3000, 0) != 0);
    snprintf(p, sizeof p, "%s/00000002.seg", dir);
    int fd = open(p, O_RDWR);
    CHECK(fd >= 0);
    uint8_t b;
    CHECK(pread(fd, &b, 1, 200) == 1);
    b ^= 0x40;
    CHECK(pwrite(fd, &b, 1, 200) == 1);
    close(fd);
    jreader *r;
    char err[600];
    CHECK(jreader_open(&(jreader_config){.dir = dir}, &r, err, sizeof err) == 0);
    bourse_cmd c;
    int rc;
    while ((rc = jreader_next(r, &c, 1000)) == JREAD_RECORD)
        ;
    CHECK_EQ(rc, JREAD_ERROR);
    CHECK(strstr(jreader_error(r), "00000002.seg: offset") != NULL);
    jreader_close(r);
    rm_rf(dir);
}

int main(void)
{
    RUN(test_follow_other_process);
    RUN(test_follow_from_middle);
    RUN(test_stop);
    RUN(test_start_missing);
    RUN(test_damage);
    return check_failures != 0;
}
