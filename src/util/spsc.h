/*
 * spsc.h - the project's one ring between two threads: single producer,
 * single consumer, slots of one fixed size.  Every such ring of the exchange is
 * one: engine -> consumer (journal/consumer.h; the market-data feed's
 * 32-byte records, two to a cache line), and the server's (server.h):
 * gateway -> engine commands, engine -> gateway events and admin replies,
 * gateway <-> auth logins, gateway -> acceptor closed addresses.
 *
 * libck's ck_ring, which the server used until issue #11, publishes the
 * producer's index and reads the consumer's on every enqueue (and the
 * consumer likewise on every dequeue), so the two cores pass the index
 * cache lines back and forth once per message.  Here each side keeps a
 * private copy of its own index and a cached copy of the other's: the
 * producer writes a message straight into its slot (no copy) and reads the
 * consumer's index only when its cached copy says the ring is full; the
 * consumer reads the producer's index only when it has used up what it last
 * saw.  Each side publishes its own index when it chooses: the feed's
 * producer once per command, the engine's in-ring consumer once per batch,
 * the server's other rings once per message (spsc_put, spsc_get), since a
 * wake-up follows each.  Shared indices sit on separate cache lines.
 *
 * Ordering: publishing is a release store and reading the other side's
 * index an acquire load, so a slot's contents are visible before its
 * index, and ThreadSanitizer checks it (tests/tsan.supp has no entry for
 * it).  A consumer that sleeps sets its flag, then a seq_cst fence, then
 * looks at the ring; a producer publishes, then a seq_cst fence, then looks
 * at the flag (server.c srv_wake): one of the two sees the other, so no
 * message waits for a sleeper nobody wakes.  Measured: docs/benchmarks.md,
 * "Market data" and "One ring".
 */
#ifndef BOURSE_UTIL_SPSC_H
#define BOURSE_UTIL_SPSC_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

typedef struct spsc {
    /* producer's line */
    alignas(64) uint64_t head; /* next slot to write (private) */
    uint64_t limit;            /* head may reach this without looking (cached tail + size) */
    /* consumer's line */
    alignas(64) uint64_t tail; /* next slot to read (private) */
    uint64_t seen;             /* the producer's published head, as last read */
    /* shared */
    alignas(64) _Atomic uint64_t pub_head;
    alignas(64) _Atomic uint64_t pub_tail;
    alignas(64) uint64_t mask;
    void *slots; /* (mask + 1) slots of `size` bytes */
} spsc;

/* Set up a ring over n slots (a power of two: indices are masked) that
 * the caller allocated and keeps. */
static inline void spsc_init(spsc *q, void *slots, uint64_t n)
{
    q->head = q->tail = q->seen = 0;
    q->limit = n;
    atomic_init(&q->pub_head, 0);
    atomic_init(&q->pub_tail, 0);
    q->mask = n - 1;
    q->slots = slots;
}

/* How far ahead the producer asks for its slots' cache lines. */
enum { SPSC_PREFETCH = 8 };

/* Ask for a cache line in order to write it.  __builtin_prefetch(p, 1, 3)
 * gives that only when the compiler may assume PREFETCHW (-mprfchw); the
 * build targets plain x86-64, where it silently becomes a read prefetch,
 * after which the store must still take the line from the consumer.
 * PREFETCHW is in the hint space that executes as a no-op where absent. */
static inline void spsc_prefetchw(const void *p)
{
#if defined(__x86_64__) && !defined(__PRFCHW__)
    __asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p, 1, 3);
#endif
}

/* Producer: a slot to fill, or NULL when the ring is full.
 *
 * The slot's line was last in the consumer's cache, or out in L3: writing
 * it costs the engine thread a miss.  Asking for the line SPSC_PREFETCH
 * slots ahead, for writing, overlaps that miss with the engine's own work
 * (it halved the producer's cost in `bourse feed bench --only engine`). */
static inline void *spsc_slot(spsc *q, size_t size)
{
    if (q->head == q->limit) {
        q->limit = atomic_load_explicit(&q->pub_tail, memory_order_acquire) + q->mask + 1;
        if (q->head == q->limit)
            return NULL;
    }
    spsc_prefetchw((char *)q->slots + ((q->head + SPSC_PREFETCH) & q->mask) * size);
    return (char *)q->slots + (q->head & q->mask) * size;
}

/* Producer: the slot from spsc_slot is filled. */
static inline void spsc_push(spsc *q)
{
    q->head++;
}

/* Producer: make everything pushed so far visible to the consumer. */
static inline void spsc_publish(spsc *q)
{
    atomic_store_explicit(&q->pub_head, q->head, memory_order_release);
}

/* Consumer: the next slot, or NULL when there is nothing published. */
static inline void *spsc_peek(spsc *q, size_t size)
{
    if (q->tail == q->seen) {
        q->seen = atomic_load_explicit(&q->pub_head, memory_order_acquire);
        if (q->tail == q->seen)
            return NULL;
    }
    return (char *)q->slots + (q->tail & q->mask) * size;
}

/* Consumer: done with the slot from spsc_peek. */
static inline void spsc_pop(spsc *q)
{
    q->tail++;
}

/* Consumer: give the slots read so far back to the producer. */
static inline void spsc_release(spsc *q)
{
    atomic_store_explicit(&q->pub_tail, q->tail, memory_order_release);
}

/* Consumer: is anything published that it has not read? */
static inline int spsc_waiting(spsc *q)
{
    return atomic_load_explicit(&q->pub_head, memory_order_acquire) != q->tail;
}

/* Consumer: how many published slots it has not read yet. */
static inline uint64_t spsc_count(const spsc *q)
{
    return atomic_load_explicit(&q->pub_head, memory_order_acquire) - q->tail;
}

/* The copying pair, for rings of small messages with no batch to publish
 * at the end of (the server's logins, replies, closed addresses): each call
 * moves one message and publishes (or releases) at once, so it costs what
 * ck_ring's did, less the read of the other side's index, which stays
 * cached until the ring looks full (or empty).  1 if it moved one. */
static inline int spsc_put(spsc *q, const void *msg, size_t size)
{
    void *slot = spsc_slot(q, size);
    if (!slot)
        return 0;
    memcpy(slot, msg, size);
    spsc_push(q);
    spsc_publish(q);
    return 1;
}

static inline int spsc_get(spsc *q, void *msg, size_t size)
{
    const void *slot = spsc_peek(q, size);
    if (!slot)
        return 0;
    memcpy(msg, slot, size);
    spsc_pop(q);
    spsc_release(q);
    return 1;
}

#endif
