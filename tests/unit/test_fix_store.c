/*
 * test_fix_store.c - a FIX session's message store (src/server/
 * proto_fix_store.c): messages kept by sequence number and read back,
 * before and after the turn's flush, across a close and reopen (a restart),
 * a torn tail (a crash in the middle of a write) cut back to the last
 * whole write, a reset, one write per flush whatever it carries, and a
 * store of the first version's two files taken in.
 */
#include "check.h"
#include "rmdir.h"
#include "server/proto_fix.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void fresh_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/bourse-fixstore-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static off_t log_size(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/fix/alice.log", dir);
    struct stat sb;
    return stat(p, &sb) == 0 ? sb.st_size : -1;
}

static void put(fix_store *st, const char *msg)
{
    CHECK_EQ(fix_store_put(st, st->next_out, msg, strlen(msg)), 0);
    st->next_out++;
}

static int got(const fix_store *st, uint64_t seq, const char *want)
{
    char b[FIX_OUT_MAX];
    size_t n = fix_store_get(st, seq, b, sizeof b);
    return n == strlen(want) && !memcmp(b, want, n);
}

static void kept_before_and_after_flush_and_reopen(void)
{
    fresh_dir();
    fix_store st;
    CHECK_EQ(fix_store_open(&st, dir, "alice", 0), 0);
    CHECK_EQ(st.next_in, 1);
    CHECK_EQ(st.next_out, 1);
    put(&st, "one");
    st.next_out++; /* 2: a session message, not kept */
    put(&st, "three");
    st.next_in = 7;
    CHECK(got(&st, 1, "one")); /* pending, not yet written */
    CHECK(got(&st, 3, "three"));
    CHECK_EQ(log_size(), 0);
    CHECK_EQ(fix_store_flush(&st), 0);
    CHECK(log_size() > 0);
    CHECK(got(&st, 1, "one"));
    CHECK(got(&st, 3, "three"));
    char b[FIX_OUT_MAX];
    CHECK_EQ(fix_store_get(&st, 2, b, sizeof b), 0);
    put(&st, "four");
    CHECK(got(&st, 4, "four"));
    fix_store_close(&st); /* close writes what is pending */
    CHECK_EQ(fix_store_open(&st, dir, "alice", 0), 0);
    CHECK_EQ(st.next_in, 7);
    CHECK_EQ(st.next_out, 5);
    CHECK(got(&st, 1, "one"));
    CHECK(got(&st, 3, "three"));
    CHECK(got(&st, 4, "four"));
    CHECK_EQ(fix_store_get(&st, 2, b, sizeof b), 0);
    CHECK_EQ(fix_store_get(&st, 5, b, sizeof b), 0);
    fix_store_close(&st);
    rm_rf(dir);
}

/* A flush is one write; a flush with nothing new writes nothing. */
static void one_write_per_flush(void)
{
    fresh_dir();
    fix_store st;
    CHECK_EQ(fix_store_open(&st, dir, "alice", 0), 0);
    for (int i = 0; i < 100; i++)
        put(&st, "8=FIX.4.4|9=5|35=8|10=000|");
    CHECK_EQ(fix_store_flush(&st), 0);
    off_t one = log_size();
    CHECK_EQ(one, 100 * (12 + 26) + 20);
    CHECK_EQ(fix_store_flush(&st), 0);
    CHECK_EQ(log_size(), one);
    fix_store_close(&st);
    rm_rf(dir);
}

/* A crash in the middle of a write: the tail after the last numbers record
 * is cut, its messages are not indexed and their numbers are used again. */
static void torn_tail_is_cut(void)
{
    fresh_dir();
    fix_store st;
    CHECK_EQ(fix_store_open(&st, dir, "alice", 0), 0);
    put(&st, "kept");
    st.next_in = 3;
    CHECK_EQ(fix_store_flush(&st), 0);
    off_t whole = log_size();
    put(&st, "torn");
    CHECK_EQ(fix_store_flush(&st), 0);
    char p[128];
    snprintf(p, sizeof p, "%s/fix/alice.log", dir);
    for (off_t cut = whole + 1; cut < log_size(); cut += 7) {
        CHECK_EQ(truncate(p, cut), 0);
        fix_store t2;
        CHECK_EQ(fix_store_open(&t2, dir, "alice", 0), 0);
        CHECK_EQ(t2.next_out, 2);
        CHECK_EQ(t2.next_in, 3);
        CHECK(got(&t2, 1, "kept"));
        char b[FIX_OUT_MAX];
        CHECK_EQ(fix_store_get(&t2, 2, b, sizeof b), 0);
        CHECK_EQ(log_size(), whole);
        put(&t2, "again");
        fix_store_close(&t2);
        CHECK_EQ(fix_store_open(&t2, dir, "alice", 0), 0);
        CHECK(got(&t2, 2, "again"));
        CHECK_EQ(t2.next_out, 3);
        fix_store_close(&t2);
        CHECK_EQ(truncate(p, whole + 1), 0); /* the next cut starts from a torn tail again */
        CHECK_EQ(fix_store_open(&t2, dir, "alice", 0), 0);
        put(&t2, "torn");
        fix_store_close(&t2);
    }
    fix_store_close(&st);
    rm_rf(dir);
}

static void reset_starts_at_one(void)
{
    fresh_dir();
    fix_store st;
    CHECK_EQ(fix_store_open(&st, dir, "alice", 0), 0);
    put(&st, "old");
    st.next_in = 9;
    fix_store_close(&st);
    CHECK_EQ(fix_store_open(&st, dir, "alice", 1), 0);
    CHECK_EQ(st.next_in, 1);
    CHECK_EQ(st.next_out, 1);
    char b[FIX_OUT_MAX];
    CHECK_EQ(fix_store_get(&st, 1, b, sizeof b), 0);
    fix_store_close(&st);
    CHECK_EQ(fix_store_open(&st, dir, "alice", 0), 0);
    CHECK_EQ(st.next_in, 1);
    CHECK_EQ(st.next_out, 1);
    CHECK_EQ(fix_store_get(&st, 1, b, sizeof b), 0);
    fix_store_close(&st);
    rm_rf(dir);
}

/* Garbage in the file (not a store's) ends the reading, never a crash. */
static void garbage_file_is_refused_quietly(void)
{
    fresh_dir();
    char p[128];
    snprintf(p, sizeof p, "%s/fix", dir);
    CHECK_EQ(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/fix/alice.log", dir);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    for (int i = 0; i < 5000; i++)
        fputc((i * 7919) & 0xff, f);
    fclose(f);
    fix_store st;
    CHECK_EQ(fix_store_open(&st, dir, "alice", 0), 0);
    CHECK_EQ(st.next_out, 1);
    CHECK_EQ(st.next_in, 1);
    put(&st, "fresh");
    fix_store_close(&st);
    CHECK_EQ(fix_store_open(&st, dir, "alice", 0), 0);
    CHECK(got(&st, 1, "fresh"));
    fix_store_close(&st);
    rm_rf(dir);
}

static void old_record(FILE *f, uint64_t seq, const char *msg)
{
    uint32_t len = (uint32_t)strlen(msg);
    fwrite(&len, 4, 1, f);
    fwrite(&seq, 8, 1, f);
    fwrite(msg, 1, len, f);
}

/* The first version's files (USER.seqnums, USER.body with a torn last
 * record) are taken into the log once, and removed. */
static void first_version_store_is_imported(void)
{
    fresh_dir();
    char p[160];
    snprintf(p, sizeof p, "%s/fix", dir);
    CHECK_EQ(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/fix/alice.seqnums", dir);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    fprintf(f, "%020llu%020llu", 5ULL, 4ULL);
    fclose(f);
    snprintf(p, sizeof p, "%s/fix/alice.body", dir);
    f = fopen(p, "w");
    CHECK(f != NULL);
    old_record(f, 1, "one");
    old_record(f, 3, "three");
    fwrite("\x09\0\0\0torn", 1, 8, f);
    fclose(f);
    fix_store st;
    CHECK_EQ(fix_store_open(&st, dir, "alice", 0), 0);
    CHECK_EQ(st.next_in, 5);
    CHECK_EQ(st.next_out, 4);
    CHECK(got(&st, 1, "one"));
    CHECK(got(&st, 3, "three"));
    CHECK(access(p, F_OK) != 0);
    put(&st, "four");
    fix_store_close(&st);
    CHECK_EQ(fix_store_open(&st, dir, "alice", 0), 0);
    CHECK_EQ(st.next_in, 5);
    CHECK_EQ(st.next_out, 5);
    CHECK(got(&st, 3, "three"));
    CHECK(got(&st, 4, "four"));
    fix_store_close(&st);
    rm_rf(dir);
}

int main(void)
{
    RUN(kept_before_and_after_flush_and_reopen);
    RUN(one_write_per_flush);
    RUN(torn_tail_is_cut);
    RUN(reset_starts_at_one);
    RUN(garbage_file_is_refused_quietly);
    RUN(first_version_store_is_imported);
    return CHECK_DONE();
}
