/*
 * hist.c - reading percentiles back out of a log-linear histogram; see
 * hist.h for the bucket layout.
 */
#include "bench/hist.h"

#include <stdio.h>

#include <math.h>
#include <string.h>

void hist_init(hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

uint64_t hist_bucket_high(uint32_t i)
{
    if (i < 2 * HIST_SUB)
        return i; /* the exact region: values 0..255 are buckets 0..255 */
    /* Bucket i = shift * 128 + (v >> shift), with v >> shift in 128..255. */
    uint32_t shift = i / HIST_SUB - 1;
    uint64_t low = (uint64_t)(i % HIST_SUB + HIST_SUB) << shift;
    return low + ((1ULL << shift) - 1);
}

uint64_t hist_percentile(const hist *h, double p)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
    if (rank < 1)
        rank = 1;
    if (rank >= h->count)
        return h->max;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->n[i];
        if (seen >= rank) {
            uint64_t v = hist_bucket_high(i);
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}

void hist_merge(hist *a, const hist *b)
{
    for (uint32_t i = 0; i < HIST_BUCKETS; i++)
        a->n[i] += b->n[i];
    a->count += b->count;
    a->sum += b->sum;
    if (b->max > a->max)
        a->max = b->max;
    if (b->min < a->min)
        a->min = b->min;
}

void hist_print_line(const char *what, const char *word, const hist *h, uint64_t n, uint64_t total)
{
    printf("%-22s %8llu/%llu %s  p50 %8.1f us  p99 %9.1f us  p99.9 %9.1f us  max %9.1f us\n", what,
           (unsigned long long)n, (unsigned long long)total, word, hist_percentile(h, 50) / 1e3,
           hist_percentile(h, 99) / 1e3, hist_percentile(h, 99.9) / 1e3, hist_percentile(h, 100) / 1e3);
}
