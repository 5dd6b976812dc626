/*
 * hist.h - a log-linear latency histogram (HdrHistogram-like).
 *
 * Values below 256 have a bucket each; above, every power of two is split
 * into 128 equal buckets, so a bucket's width is at most 1/128 of the values
 * it holds and any percentile read back is within 0.8% of the truth.
 * Recording is a few shifts and an increment: O(1), no allocation, no
 * branches that depend on the history, so it can sit in the timed loop.
 * The whole histogram is a fixed array (7,424 counters, 58 KiB) that covers
 * every uint64_t value.
 */
#ifndef BOURSE_BENCH_HIST_H
#define BOURSE_BENCH_HIST_H

#include <stdint.h>

enum { HIST_SUB_BITS = 7, HIST_SUB = 1 << HIST_SUB_BITS, HIST_BUCKETS = (64 - HIST_SUB_BITS + 1) * HIST_SUB };

typedef struct hist {
    uint64_t count, min, max, sum;
    uint64_t n[HIST_BUCKETS];
} hist;

void hist_init(hist *h);

/* Bucket index of v: v itself below 256, then 128 buckets per octave. */
static inline uint32_t hist_index(uint64_t v)
{
    uint32_t msb = 63 - (uint32_t)__builtin_clzll(v | 1);
    uint32_t shift = msb > HIST_SUB_BITS ? msb - HIST_SUB_BITS : 0;
    return shift * HIST_SUB + (uint32_t)(v >> shift);
}

static inline void hist_record(hist *h, uint64_t v)
{
    h->n[hist_index(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
    if (v < h->min)
        h->min = v;
}

/* The largest value that falls in bucket i. */
uint64_t hist_bucket_high(uint32_t i);

/* The value at percentile p (0..100]: the highest value of the bucket that
 * holds the ceil(p% x count)-th smallest sample, capped at the exact max.
 * 0 when empty. */
uint64_t hist_percentile(const hist *h, double p);

/* Add every sample of b into a. */
void hist_merge(hist *a, const hist *b);

/* One line of a load generator's report (ns samples, printed in us):
 * "WHAT  N/TOTAL WORD  p50 ..  p99 ..  p99.9 ..  max .." (WORD "answered",
 * "ok"; the tests grep for it). */
void hist_print_line(const char *what, const char *word, const hist *h, uint64_t n, uint64_t total);

#endif
