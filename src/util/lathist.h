/*
 * lathist.h - a latency histogram one thread writes while another reads.
 *
 * The server's stage clocks (src/server/stages.c) and the journal's sync
 * timer record into these from their own threads and the admin socket reads
 * them at any time, so every counter is stored and loaded with relaxed
 * atomics (plain moves on x86): no lock, no read-modify-write, and a reader
 * sees each counter whole, if not all of them from the same instant.  That
 * is enough for percentiles over thousands of samples.
 *
 * Log-linear buckets, like bench/hist.h but coarser (that one is for one
 * thread's benchmark loop, 58 KiB): values below 64 ns have a bucket each,
 * then every power of two is cut into 32 equal buckets (3% wide at most), up
 * to 2^40 ns (18 minutes; larger values count there).  9 KiB a histogram.
 *
 * A sample may carry a weight: a thread that times a batch records the
 * batch's time once, weighted by the orders in it, which keeps the cost per
 * batch, not per order.
 *
 * Reset is asked by the reader and done by the writer (lathist_reset_ask,
 * then the writer's next lathist_add clears its counters), so the writer
 * stays the only thread that writes them; until then readers see it empty.
 */
#ifndef BOURSE_UTIL_LATHIST_H
#define BOURSE_UTIL_LATHIST_H

#include <stdint.h>
#include <string.h>

enum {
    LATHIST_SUB_BITS = 5,
    LATHIST_SUB = 1 << LATHIST_SUB_BITS,
    LATHIST_MAX_BITS = 40,
    LATHIST_BUCKETS = (LATHIST_MAX_BITS - LATHIST_SUB_BITS + 1) * LATHIST_SUB
};

typedef struct lathist {
    uint64_t count, sum, max;
    uint32_t reset_asked, reset_done;
    uint64_t n[LATHIST_BUCKETS];
} lathist;

#define LATHIST_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define LATHIST_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

static inline uint32_t lathist_index(uint64_t v)
{
    if (v >> LATHIST_MAX_BITS)
        v = (1ull << LATHIST_MAX_BITS) - 1;
    uint32_t msb = 63 - (uint32_t)__builtin_clzll(v | 1);
    uint32_t shift = msb > LATHIST_SUB_BITS ? msb - LATHIST_SUB_BITS : 0;
    return shift * LATHIST_SUB + (uint32_t)(v >> shift);
}

/* The largest value bucket i holds. */
static inline uint64_t lathist_high(uint32_t i)
{
    if (i < 2 * LATHIST_SUB)
        return i;
    uint32_t shift = i / LATHIST_SUB - 1;
    return ((uint64_t)(i % LATHIST_SUB + LATHIST_SUB + 1) << shift) - 1;
}

/* The writer's: `weight` samples of value v (ns). */
static inline void lathist_add(lathist *h, uint64_t v, uint64_t weight)
{
    uint32_t asked = LATHIST_LOAD(&h->reset_asked);
    if (asked != h->reset_done) {
        for (uint32_t i = 0; i < LATHIST_BUCKETS; i++)
            LATHIST_STORE(&h->n[i], 0);
        LATHIST_STORE(&h->count, 0);
        LATHIST_STORE(&h->sum, 0);
        LATHIST_STORE(&h->max, 0);
        LATHIST_STORE(&h->reset_done, asked);
    }
    uint32_t i = lathist_index(v);
    LATHIST_STORE(&h->n[i], h->n[i] + weight);
    LATHIST_STORE(&h->count, h->count + weight);
    LATHIST_STORE(&h->sum, h->sum + v * weight);
    if (v > h->max)
        LATHIST_STORE(&h->max, v);
}

/* Any thread: start h over (done by its writer's next add). */
static inline void lathist_reset_ask(lathist *h)
{
    __atomic_add_fetch(&h->reset_asked, 1, __ATOMIC_RELAXED);
}

/* Any thread: add what h holds now into `into` (a private copy, zeroed
 * first by the caller): several writers' histograms of one stage merge. */
static inline void lathist_merge(lathist *into, const lathist *h)
{
    if (LATHIST_LOAD(&h->reset_asked) != LATHIST_LOAD(&h->reset_done))
        return; /* asked to start over: empty until its writer does */
    into->count += LATHIST_LOAD(&h->count);
    into->sum += LATHIST_LOAD(&h->sum);
    uint64_t m = LATHIST_LOAD(&h->max);
    if (m > into->max)
        into->max = m;
    for (uint32_t i = 0; i < LATHIST_BUCKETS; i++)
        into->n[i] += LATHIST_LOAD(&h->n[i]);
}

/* Of a private copy: the value at percentile p (0..100], as the highest
 * value of its bucket capped at the max; 0 when empty.  The counters of a
 * copy merged while its writer ran may not add up to count: the walk uses
 * their own total. */
static inline uint64_t lathist_percentile(const lathist *h, double p)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < LATHIST_BUCKETS; i++)
        total += h->n[i];
    if (!total)
        return 0;
    uint64_t rank = (uint64_t)((double)total * p / 100.0 + 0.999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < LATHIST_BUCKETS; i++) {
        seen += h->n[i];
        if (seen >= rank) {
            uint64_t v = lathist_high(i);
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}

/* Of a private copy: how many samples are <= v (whole buckets: those whose
 * highest value is <= v), for a Prometheus-style cumulative bucket. */
static inline uint64_t lathist_count_le(const lathist *h, uint64_t v)
{
    uint64_t c = 0;
    for (uint32_t i = 0; i < LATHIST_BUCKETS && lathist_high(i) <= v; i++)
        c += h->n[i];
    return c;
}

#endif
