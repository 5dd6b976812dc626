/*
 * hist.h - a histogram that one thread writes and any thread reads, for the
 * metrics (src/server/metrics.c, docs/metrics.md).
 *
 * Buckets are log-linear: two to an octave (upper bounds b, 1.5b, 2b, 3b,
 * 4b, ...), from a lowest bound `lo` up; a value lands in the first bucket
 * whose bound is >= it (Prometheus's `le`), and the values past the last
 * bound in the overflow bucket (`+Inf`).  Two to an octave bounds the error
 * of a percentile read from the buckets to half a bucket: under 25%, enough
 * to tell 20 us from 40 us, and 2 x 40 buckets cover 1 us to a week, in one
 * cache-friendly array.
 *
 * Why no lock and no atomic read-modify-write: a histogram has one writer
 * (the engine thread, a gateway thread, the journal's syncer), so an add is
 * a relaxed load and a relaxed store of the same counter (a plain `mov` on
 * x86, no `lock` prefix).  A reader on another thread sees each counter
 * whole (64-bit aligned words) but not all of them at the same instant;
 * hist_read therefore derives the count from the buckets it read, so the
 * `_count` and `+Inf` it exports always agree with its buckets, which is
 * what the exposition format asks.
 *
 * The bounds are integers in the histogram's unit (ns for latencies, items
 * for sizes); hist_bound gives them, and the renderer scales them.
 */
#ifndef BOURSE_UTIL_HIST_H
#define BOURSE_UTIL_HIST_H

#include <stdatomic.h>
#include <stdint.h>

enum { HIST_BOUNDS = 40, HIST_BUCKETS = HIST_BOUNDS + 1 }; /* the last bucket: over every bound */

typedef struct hist {
    uint64_t lo; /* the first bucket's bound; bound i = lo * 2^(i/2) * (i odd ? 1.5 : 1) */
    _Atomic uint64_t bucket[HIST_BUCKETS];
    _Atomic uint64_t sum;
} hist;

static inline void hist_init(hist *h, uint64_t lo)
{
    h->lo = lo ? lo : 1;
    for (int i = 0; i < HIST_BUCKETS; i++)
        atomic_init(&h->bucket[i], 0);
    atomic_init(&h->sum, 0);
}

/* The upper bound of bucket i (i < HIST_BOUNDS). */
static inline uint64_t hist_bound(const hist *h, int i)
{
    uint64_t b = h->lo << (i / 2);
    return i & 1 ? b + b / 2 : b;
}

/* The bucket of value v: the first whose bound is >= v. */
static inline int hist_index(const hist *h, uint64_t v)
{
    if (v <= h->lo)
        return 0;
    /* octave: the largest k with lo * 2^k < v, then which half of it */
    uint64_t q = (v - 1) / h->lo; /* >= 1 */
    int k = 63 - __builtin_clzll(q);
    if (k >= HIST_BOUNDS / 2)
        return HIST_BOUNDS;
    int i = 2 * k + (v > h->lo * (1ull << k) + (h->lo << k) / 2 ? 2 : 1);
    return i < HIST_BOUNDS ? i : HIST_BOUNDS;
}

/* Only the histogram's one writer may add. */
static inline void hist_add(hist *h, uint64_t v)
{
    _Atomic uint64_t *b = &h->bucket[hist_index(h, v)];
    atomic_store_explicit(b, atomic_load_explicit(b, memory_order_relaxed) + 1, memory_order_relaxed);
    atomic_store_explicit(&h->sum, atomic_load_explicit(&h->sum, memory_order_relaxed) + v,
                          memory_order_relaxed);
}

/* A counter with one writer, added to the same way. */
static inline void counter_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

/* A copy to read at leisure, from any thread: counts per bucket (not
 * cumulative), their total, and the sum. */
typedef struct hist_snap {
    uint64_t lo;
    uint64_t bucket[HIST_BUCKETS];
    uint64_t count, sum;
} hist_snap;

static inline void hist_read(const hist *h, hist_snap *s)
{
    s->lo = h->lo;
    s->count = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        s->bucket[i] = atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        s->count += s->bucket[i];
    }
    s->sum = atomic_load_explicit(&h->sum, memory_order_relaxed);
}

/* Add another histogram's copy (same lo) into s: one series of several
 * writers (the same protocol on several gateway threads). */
static inline void hist_snap_merge(hist_snap *s, const hist_snap *o)
{
    for (int i = 0; i < HIST_BUCKETS; i++)
        s->bucket[i] += o->bucket[i];
    s->count += o->count;
    s->sum += o->sum;
}

#endif
