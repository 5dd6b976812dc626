/*
 * test_bench_hist.c - the benchmark's latency histogram (bench/hist.c):
 * bucket layout, bounded relative error, percentiles.
 */
#include "../../bench/hist.c"

#include "check.h"

static hist h;

static void exact_below_256(void)
{
    for (uint64_t v = 0; v < 256; v++) {
        CHECK_EQ(hist_index(v), v);
        CHECK_EQ(hist_bucket_high(hist_index(v)), v);
    }
}

/* Every value lands in a bucket whose range holds it and is at most 1/128 of
 * it wide; indices grow with values and never pass the array. */
static void relative_error_bounded(void)
{
    uint32_t last = 0;
    int bad = 0;
    for (uint64_t v = 1; v < (1ULL << 40); v += v / 97 + 1) {
        uint32_t i = hist_index(v);
        uint64_t high = hist_bucket_high(i);
        if (i < last || high < v || (double)(high - v) > (double)v / 128.0)
            bad++;
        last = i;
    }
    CHECK_EQ(bad, 0);
    CHECK(hist_index(UINT64_MAX) < HIST_BUCKETS);
    CHECK_EQ(hist_bucket_high(hist_index(UINT64_MAX)), UINT64_MAX);
    CHECK_EQ(hist_index(256), 256);
    CHECK_EQ(hist_index(511), 383);
    CHECK_EQ(hist_index(512), 384);
}

static void percentiles(void)
{
    hist_init(&h);
    CHECK_EQ(hist_percentile(&h, 50), 0);
    for (uint64_t v = 1; v <= 10000; v++)
        hist_record(&h, v * 100);
    CHECK_EQ(h.count, 10000);
    CHECK_EQ(h.min, 100);
    CHECK_EQ(h.max, 1000000);
    uint64_t p50 = hist_percentile(&h, 50), p99 = hist_percentile(&h, 99);
    CHECK(p50 >= 500000 && p50 <= 500000 + 500000 / 128);
    CHECK(p99 >= 990000 && p99 <= 990000 + 990000 / 128);
    CHECK_EQ(hist_percentile(&h, 100), 1000000);
    CHECK_EQ(hist_percentile(&h, 99.999), 1000000);
    hist b;
    hist_init(&b);
    hist_record(&b, 7);
    hist_merge(&h, &b);
    CHECK_EQ(h.count, 10001);
    CHECK_EQ(h.min, 7);
    CHECK_EQ(hist_percentile(&h, 0.001), 7);
}

int main(void)
{
    RUN(exact_below_256);
    RUN(relative_error_bounded);
    RUN(percentiles);
    return CHECK_DONE();
}
