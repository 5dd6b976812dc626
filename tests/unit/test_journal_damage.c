/*
 * test_journal_damage.c - torn writes and bit flips on copies of a real
 * journal.
 *   - the last record cut at every offset (zeroed, as a crash leaves a
 *     preallocated file, or the file truncated): recovery cuts it off with
 *     a warning and holds exactly the commands before it; appending resumes
 *   - any bit flipped in a record that is not the last: recovery refuses,
 *     naming the segment and the offset of the damaged record, and leaves
 *     the files as they were
 *   - a bit flipped in the last record: cut off with a warning
 *   - a missing segment or a damaged header: refused
 */
#include "check.h"
#include "journal/journal.h"
#include "journal/segment.h"
#include "journal_gen.h"
#include "rmdir.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { N = 600, SEG_BYTES = 4096 };

static char src[64];           /* the pristine journal */
static uint64_t hashes[N + 1]; /* engine hash after each prefix */
static uint32_t nsegs;         /* segment files in src (the last is the spare) */
static uint32_t active;        /* the segment holding the last record */

/* Record boundaries of each segment: off[seg][i], the end last. */
typedef struct bounds {
    uint64_t off[4096];
    int n;
} bounds;
static bounds recs[16];

static void drop(void *ctx, const bourse_cmd *c, const bourse_event *ev)
{
    (void)ctx, (void)c, (void)ev;
}

static int warnings;
static char last_warning[600];
static void on_warning(void *ctx, const char *msg)
{
    (void)ctx;
    warnings++;
    snprintf(last_warning, sizeof last_warning, "%s", msg);
}

static void make_source(void)
{
    /* tmpfs when there is one: a trial syncs, and a disk sync is slow */
    snprintf(src, sizeof src, "%s/bourse-jdXXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    CHECK(mkdtemp(src) != NULL);
    journal_config cfg = {.dir = src,
                          .durability = JOURNAL_NONE,
                          .segment_bytes = SEG_BYTES,
                          .limits = {.orders = 4096, .users = 256, .symbols = 16}};
    journal *j;
    bourse_engine *e;
    char err[600];
    CHECK_EQ(journal_open(&cfg, &j, &e, err, sizeof err), 0);
    jgen g;
    jgen_init(&g, 42);
    hashes[0] = bourse_engine_hash(e);
    for (int i = 1; i <= N; i++) {
        bourse_cmd c;
        jgen_next(&g, &c);
        bourse_engine_resolve(e, &c);
        CHECK(journal_append(j, &c) == (uint64_t)i);
        bourse_engine_apply(e, &c, drop, NULL);
        hashes[i] = bourse_engine_hash(e);
    }
    CHECK_EQ(journal_close(j, err, sizeof err), 0);
    bourse_engine_free(e);
}

static const char *note_offset(void *ctx, const bourse_cmd *c, uint64_t off)
{
    (void)c;
    bounds *b = ctx;
    if (b->n < 4095)
        b->off[b->n++] = off;
    return NULL;
}

static void find_records(void)
{
    for (nsegs = 0; nsegs < 16; nsegs++) {
        char path[SEG_PATH_MAX], err[300];
        seg_path(path, sizeof path, src, nsegs + 1);
        size_t len;
        if (access(path, F_OK) != 0)
            break;
        uint8_t *buf = seg_map_read(path, &len, err, sizeof err);
        seg_scan r;
        bounds *b = &recs[nsegs];
        seg_scan_records(buf, len, 0, UINT64_MAX, note_offset, b, &r);
        b->off[b->n] = r.end;
        if (r.records)
            active = nsegs + 1;
    }
    printf("# %u segment files, the last record in %08u.seg\n", nsegs, active);
    CHECK(active >= 3);
}

static void copy_dir(const char *to)
{
    mkdir(to, 0700); /* as the journal makes them: else it warns */
    for (uint32_t i = 1; i <= nsegs; i++) {
        char a[SEG_PATH_MAX], b[SEG_PATH_MAX];
        seg_path(a, sizeof a, src, i);
        seg_path(b, sizeof b, to, i);
        int in = open(a, O_RDONLY), out = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        char buf[SEG_BYTES];
        ssize_t n;
        while ((n = read(in, buf, sizeof buf)) > 0)
            CHECK(write(out, buf, (size_t)n) == n);
        close(in);
        close(out);
    }
}

static void poke(const char *dir, uint32_t seg, uint64_t off, uint8_t xor_mask)
{
    char path[SEG_PATH_MAX];
    seg_path(path, sizeof path, dir, seg);
    int fd = open(path, O_RDWR);
    uint8_t b = 0;
    CHECK(pread(fd, &b, 1, (off_t)off) == 1);
    b ^= xor_mask;
    CHECK(pwrite(fd, &b, 1, (off_t)off) == 1);
    close(fd);
}

/* Zero [from, to); returns whether that changed anything (the last bytes
 * of a checksum may be zero already). */
static int zero_range(const char *dir, uint32_t seg, uint64_t from, uint64_t to)
{
    char path[SEG_PATH_MAX];
    seg_path(path, sizeof path, dir, seg);
    int fd = open(path, O_RDWR);
    static const uint8_t zeros[256];
    uint8_t old[256];
    CHECK(pread(fd, old, to - from, (off_t)from) == (ssize_t)(to - from));
    CHECK(pwrite(fd, zeros, to - from, (off_t)from) == (ssize_t)(to - from));
    close(fd);
    return memcmp(old, zeros, to - from) != 0;
}

static uint64_t dir_sum(const char *dir)
{
    uint64_t h = 1469598103934665603ULL;
    for (uint32_t i = 1; i <= nsegs; i++) {
        char path[SEG_PATH_MAX];
        seg_path(path, sizeof path, dir, i);
        FILE *f = fopen(path, "rb");
        int c;
        while (f && (c = fgetc(f)) != EOF)
            h = (h ^ (uint64_t)c) * 1099511628211ULL;
        if (f)
            fclose(f);
    }
    return h;
}

/* Open a copy; returns 0 with the recovered last seq in *last (and checks
 * the hash of that prefix), or -1 with the error in err. */
static int try_open(const char *dir, uint64_t *last, char *err, size_t errlen, int append_more)
{
    journal_config cfg = {.dir = dir, .durability = JOURNAL_NONE, .on_warning = on_warning};
    journal *j;
    bourse_engine *e;
    warnings = 0;
    last_warning[0] = 0;
    if (journal_open(&cfg, &j, &e, err, errlen) != 0)
        return -1;
    *last = journal_recovered(j)->last_seq;
    CHECK(*last <= N);
    if (*last <= N)
        CHECK(bourse_engine_hash(e) == hashes[*last]);
    if (append_more) { /* the journal goes on after the cut */
        jgen g;
        jgen_init(&g, 43);
        for (int i = 0; i < 50; i++) {
            bourse_cmd c;
            jgen_next(&g, &c);
            bourse_engine_resolve(e, &c);
            CHECK(journal_append(j, &c) == *last + 1 + (uint64_t)i);
            bourse_engine_apply(e, &c, drop, NULL);
        }
    }
    uint64_t h = bourse_engine_hash(e);
    char cerr[600];
    CHECK_EQ(journal_close(j, cerr, sizeof cerr), 0);
    bourse_engine_free(e);
    if (append_more) { /* and reopens cleanly, without warnings */
        cfg.on_warning = on_warning;
        int w = warnings;
        CHECK_EQ(journal_open(&cfg, &j, &e, err, errlen), 0);
        CHECK_EQ(warnings, w);
        CHECK_EQ(journal_recovered(j)->last_seq, *last + 50);
        CHECK(journal_recovered(j)->hash == h);
        journal_close(j, cerr, sizeof cerr);
        bourse_engine_free(e);
    }
    return 0;
}

static void test_torn_last_record(void)
{
    bounds *b = &recs[active - 1];
    uint64_t start = b->off[b->n - 1], end = b->off[b->n];
    char dir[128];
    int trials = 0;
    for (uint64_t cut = start; cut < end; cut++) {
        for (int truncate_file = 0; truncate_file < 2; truncate_file++) {
            snprintf(dir, sizeof dir, "%s.t", src);
            copy_dir(dir);
            int changed = 1;
            if (truncate_file) {
                char path[SEG_PATH_MAX];
                seg_path(path, sizeof path, dir, active);
                CHECK(truncate(path, (off_t)cut) == 0);
            } else {
                changed = zero_range(dir, active, cut, end);
            }
            uint64_t last = 0;
            char err[600];
            int rc = try_open(dir, &last, err, sizeof err, trials++ % 4 == 0);
            if (rc)
                printf("cut at %llu: %s\n", (unsigned long long)cut, err);
            CHECK_EQ(rc, 0);
            CHECK_EQ(last, changed ? N - 1 : N);
            CHECK_EQ(warnings > 0, changed && cut > start);
            if (changed && cut > start) {
                char want[64];
                snprintf(want, sizeof want, "%08u.seg: offset %llu:", active, (unsigned long long)start);
                CHECK(strstr(last_warning, want) != NULL);
            }
            rm_rf(dir);
        }
    }
}

/* Every bit of a record that is not the last, in each segment. */
static void test_flips_in_the_middle(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s.m", src);
    copy_dir(dir);
    uint64_t sum = dir_sum(dir);
    int trials = 0;
    for (uint32_t s = 1; s <= active; s++) {
        bounds *b = &recs[s - 1];
        /* The first, a middle and the last record of the segment (not the
         * journal's very last record), every bit of each. */
        int picks[3] = {0, b->n / 2, b->n - 1};
        for (int p = 0; p < 3; p++) {
            int k = picks[p];
            if (s == active && k == b->n - 1)
                k--;
            for (uint64_t off = b->off[k]; off < b->off[k + 1]; off++) {
                for (int bit = 0; bit < 8; bit += (off == b->off[k] ? 1 : 3)) {
                    poke(dir, s, off, (uint8_t)(1u << bit));
                    uint64_t last;
                    char err[600] = "", want[64];
                    int rc = try_open(dir, &last, err, sizeof err, 0);
                    snprintf(want, sizeof want, "%08u.seg: offset %llu:", s, (unsigned long long)b->off[k]);
                    if (rc == 0 || !strstr(err, want))
                        printf("flip seg %u off %llu bit %d: rc %d, err '%s', want '%s'\n", s,
                               (unsigned long long)off, bit, rc, err, want);
                    CHECK(rc != 0);
                    CHECK(strstr(err, want) != NULL);
                    CHECK(dir_sum(dir) != sum); /* still damaged: nothing was rewritten */
                    poke(dir, s, off, (uint8_t)(1u << bit));
                    trials++;
                }
            }
        }
        /* The header. */
        for (uint64_t off = 0; off < SEG_HEADER; off += 7) {
            poke(dir, s, off, 0x40);
            uint64_t last;
            char err[600] = "", want[64];
            snprintf(want, sizeof want, "%08u.seg: offset 0:", s);
            CHECK(try_open(dir, &last, err, sizeof err, 0) != 0);
            CHECK(strstr(err, want) != NULL);
            poke(dir, s, off, 0x40);
        }
    }
    CHECK(dir_sum(dir) == sum);
    CHECK(trials > 200);
    rm_rf(dir);
}

static void test_flips_in_the_tail(void)
{
    bounds *b = &recs[active - 1];
    uint64_t start = b->off[b->n - 1], end = b->off[b->n];
    char dir[128];
    snprintf(dir, sizeof dir, "%s.f", src);
    for (uint64_t off = start; off < end; off++) {
        for (int bit = 0; bit < 8; bit += 2) {
            copy_dir(dir);
            poke(dir, active, off, (uint8_t)(1u << bit));
            uint64_t last = 0;
            char err[600] = "", want[64];
            int rc = try_open(dir, &last, err, sizeof err, off == start + 3);
            snprintf(want, sizeof want, "%08u.seg: offset %llu:", active, (unsigned long long)start);
            if (rc || last != N - 1 || !strstr(last_warning, want))
                printf("tail flip at %llu bit %d: rc %d err '%s' last %llu warning '%s'\n",
                       (unsigned long long)off, bit, rc, err, (unsigned long long)last, last_warning);
            CHECK_EQ(rc, 0);
            CHECK_EQ(last, N - 1);
            CHECK(strstr(last_warning, want) != NULL);
            rm_rf(dir);
        }
    }
    /* Stray bytes just after the end: cut too, no record lost. */
    copy_dir(dir);
    poke(dir, active, end + 10, 0x20);
    uint64_t last = 0;
    char err[600];
    CHECK_EQ(try_open(dir, &last, err, sizeof err, 1), 0);
    CHECK_EQ(last, N);
    CHECK(warnings > 0);
    rm_rf(dir);
}

static void test_missing_segment(void)
{
    char dir[128], path[SEG_PATH_MAX];
    snprintf(dir, sizeof dir, "%s.g", src);
    copy_dir(dir);
    seg_path(path, sizeof path, dir, 2);
    unlink(path);
    uint64_t last;
    char err[600] = "";
    CHECK(try_open(dir, &last, err, sizeof err, 0) != 0);
    CHECK(strstr(err, "00000002.seg: missing") != NULL);
    rm_rf(dir);
    /* The first segment gone: the journal no longer starts at seq 1. */
    copy_dir(dir);
    seg_path(path, sizeof path, dir, 1);
    unlink(path);
    CHECK(try_open(dir, &last, err, sizeof err, 0) != 0);
    CHECK(strstr(err, "missing") != NULL);
    rm_rf(dir);
}

int main(void)
{
    make_source();
    find_records();
    RUN(test_torn_last_record);
    RUN(test_flips_in_the_middle);
    RUN(test_flips_in_the_tail);
    RUN(test_missing_segment);
    rm_rf(src);
    return CHECK_DONE();
}
