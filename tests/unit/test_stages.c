/*
 * test_stages.c - the server's stage clocks (src/server/stages.c) and the
 * histogram under them (src/util/lathist.h): bucket layout and error bound,
 * weighted samples, percentiles, the reader-asked reset, the 32-bit stamps
 * across their wrap, and the accounting of engine batches and gateway turns
 * into stages that grow along an order's path.  No clocks are read: every
 * time is given.
 */
#include "check.h"
#include "server/server.h"
#include "server/stages.h"

#include <string.h>

static lathist h, m;

static void buckets(void)
{
    for (uint64_t v = 0; v < 64; v++) {
        CHECK_EQ(lathist_index(v), v);
        CHECK_EQ(lathist_high(lathist_index(v)), v);
    }
    uint32_t last = 0;
    int bad = 0;
    for (uint64_t v = 1; v < (1ULL << 40); v += v / 61 + 1) {
        uint32_t i = lathist_index(v);
        uint64_t high = lathist_high(i);
        /* holds v, at most 1/32 of it wide, never going back, in range */
        if (i < last || high < v || (double)(high - v) > (double)v / 32.0 || i >= LATHIST_BUCKETS)
            bad++;
        if (i && lathist_high(i - 1) >= v) /* the bucket before ends below v */
            bad++;
        last = i;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(lathist_index(64), 64);
    CHECK_EQ(lathist_high(64), 65);
    CHECK_EQ(lathist_index(UINT64_MAX), LATHIST_BUCKETS - 1); /* past 2^40: the last bucket */
}

static void weights_and_percentiles(void)
{
    memset(&h, 0, sizeof h);
    lathist_add(&h, 10, 90);      /* 90 samples of 10 ns */
    lathist_add(&h, 1000000, 10); /* 10 of 1 ms */
    memset(&m, 0, sizeof m);
    lathist_merge(&m, &h);
    CHECK_EQ(m.count, 100);
    CHECK_EQ(m.sum, 90 * 10 + 10 * 1000000);
    CHECK_EQ(m.max, 1000000);
    CHECK_EQ(lathist_percentile(&m, 50), 10);
    CHECK_EQ(lathist_percentile(&m, 90), 10);
    uint64_t p99 = lathist_percentile(&m, 99);
    CHECK(p99 <= 1000000 && p99 >= 1000000 - 1000000 / 32); /* capped at the max, within a bucket */
    CHECK_EQ(lathist_count_le(&m, 10), 90);
    CHECK_EQ(lathist_count_le(&m, 999), 90);
    CHECK_EQ(lathist_count_le(&m, UINT64_MAX), 100);
    memset(&m, 0, sizeof m);
    CHECK_EQ(lathist_percentile(&m, 99), 0); /* empty */
}

static void reset_by_the_writer(void)
{
    memset(&h, 0, sizeof h);
    lathist_add(&h, 500, 3);
    lathist_reset_ask(&h);
    memset(&m, 0, sizeof m);
    lathist_merge(&m, &h); /* asked, not yet done: reads as empty */
    CHECK_EQ(m.count, 0);
    CHECK_EQ(h.n[lathist_index(500)], 3); /* the reader wrote nothing */
    lathist_add(&h, 7, 1);                /* the writer starts over */
    memset(&m, 0, sizeof m);
    lathist_merge(&m, &h);
    CHECK_EQ(m.count, 1);
    CHECK_EQ(m.max, 7);
    CHECK_EQ(m.n[lathist_index(500)], 0);
}

static void stamps_wrap(void)
{
    int64_t read = (int64_t)0x1ffffff00LL; /* 256 ns before the low 32 bits wrap */
    uint32_t t = stage_stamp(read);
    CHECK(t != 0);
    CHECK_EQ(stage_since(t, read + 1000), 1000 - (int)(read & 1 ? 0 : 1)); /* |1 costs at most 1 ns */
    CHECK_EQ(stage_stamp(0), 1);                                           /* never "no stamp" */
    CHECK_EQ(stage_since(stage_stamp(read + 5000), read), 0); /* read after the clock: 0, not 4 s */
}

static srv s;

static uint64_t count_of(int stage)
{
    stages_read(&s, stage, &m);
    return m.count;
}

static uint64_t mean_of(int stage)
{
    stages_read(&s, stage, &m);
    return m.count ? m.sum / m.count : 0;
}

static void accounting(void)
{
    memset(&s, 0, sizeof s);
    s.ngates = 2;
    CHECK_EQ(stages_init(&s), 0);
    int64_t t0 = 5000000001; /* odd: the stamp keeps it exact */
    /* a batch of 4 orders read 17..23 us before it was taken (20 us on
     * average), done 5 us after that */
    stages_engine_batch(&s, 17000 + 19000 + 21000 + 23000, t0 + 20000, t0 + 25000, 4);
    stages_engine_batch(&s, 0, t0 + 1000, t0 + 1000, 0); /* empty: nothing */
    /* their 6 reports: 4 on gateway 0 in a turn 40 us after the reads on
     * average, written 3 us later; 2 on gateway 1, 50 us, written 1 us later */
    stages_gate_turn(&s, 0, 4 * 40000, t0 + 40000, t0 + 43000, 4);
    stages_gate_turn(&s, 1, 49000 + 51000, t0 + 50000, t0 + 51000, 2);
    CHECK_EQ(count_of(STAGE_TAKEN), 4);
    CHECK_EQ(count_of(STAGE_ENGINE), 4);
    CHECK_EQ(count_of(STAGE_RELEASED), 6); /* both gateways merged */
    CHECK_EQ(count_of(STAGE_SYNC), 0);     /* no journal */
    CHECK_EQ(mean_of(STAGE_TAKEN), 20000);
    CHECK_EQ(mean_of(STAGE_APPLIED), 25000);
    CHECK_EQ(mean_of(STAGE_ENGINE), 5000);
    CHECK_EQ(mean_of(STAGE_RELEASED), (4 * 40000 + 2 * 50000) / 6);
    CHECK_EQ(mean_of(STAGE_WRITTEN), (4 * 43000 + 2 * 51000) / 6);
    CHECK_EQ(mean_of(STAGE_WRITE), (4 * 3000 + 2 * 1000) / 6);
    /* along the path each stage is later than the one before */
    CHECK(mean_of(STAGE_TAKEN) <= mean_of(STAGE_APPLIED));
    CHECK(mean_of(STAGE_APPLIED) <= mean_of(STAGE_RELEASED));
    CHECK(mean_of(STAGE_RELEASED) <= mean_of(STAGE_WRITTEN));
    char buf[2048];
    size_t n = stages_text(&s, buf, sizeof buf);
    buf[n] = 0;
    CHECK(strstr(buf, "STAGE taken 4 20000 ") == buf);
    CHECK(strstr(buf, "\nSTAGE written 6 ") != NULL);
    CHECK(strstr(buf, "\nSTAGE sync 0 0 0 0 0 0 0\n") != NULL);
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += buf[i] == '\n';
    CHECK_EQ(lines, STAGE_N);
    CHECK(!strcmp(stages_name(STAGE_WRITE), "write"));
    CHECK(stages_help(STAGE_SYNC)[0] != 0);
    stages_reset(&s);
    CHECK_EQ(count_of(STAGE_TAKEN), 0);
    CHECK_EQ(count_of(STAGE_RELEASED), 0);
    stages_engine_batch(&s, 10000, t0 + 10000, t0 + 10000, 1);
    CHECK_EQ(count_of(STAGE_TAKEN), 1);
    CHECK_EQ(mean_of(STAGE_TAKEN), 10000);
    stages_free(&s);
    CHECK(s.stages == NULL);
}

int main(void)
{
    RUN(buckets);
    RUN(weights_and_percentiles);
    RUN(reset_by_the_writer);
    RUN(stamps_wrap);
    RUN(accounting);
    return CHECK_DONE();
}
