/*
 * test_spsc.c - the project's one ring (src/util/spsc.h):
 *   - on one thread, against a FIFO model: a ring of 8 fills to exactly 8,
 *     refuses the ninth, gives messages back in order across many wraps,
 *     and the consumer's count says what is published and unread;
 *   - slots the consumer has read but not released stay the consumer's:
 *     the producer sees the ring full until spsc_release;
 *   - on two threads, 200,000 messages through a small ring, each side
 *     publishing in its own batches, arrive complete and in order (under
 *     `make tsan` this is also the check of the ring's ordering: a slot
 *     read before its index was seen would be a reported race).
 */
#include "check.h"
#include "util/spsc.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

typedef struct msg {
    uint64_t n;
    uint64_t check; /* ~n: a torn or stale slot shows */
    char pad[24];
} msg;

static void test_fill_wrap_count(void)
{
    msg slots[8];
    spsc q;
    spsc_init(&q, slots, 8);
    uint64_t next_in = 0, next_out = 0;
    msg m;
    CHECK(!spsc_get(&q, &m, sizeof m));
    for (int round = 0; round < 100; round++) {
        int k = 1 + round % 8; /* put k, get k: the indices wrap many times */
        for (int i = 0; i < k; i++) {
            m = (msg){.n = next_in, .check = ~next_in};
            CHECK(spsc_put(&q, &m, sizeof m));
            next_in++;
        }
        CHECK_EQ(spsc_count(&q), k);
        for (int i = 0; i < k; i++) {
            CHECK(spsc_get(&q, &m, sizeof m));
            CHECK_EQ(m.n, next_out);
            CHECK_EQ(m.check, ~next_out);
            next_out++;
        }
        CHECK_EQ(spsc_count(&q), 0);
        CHECK(!spsc_get(&q, &m, sizeof m));
    }
    for (uint64_t i = 0; i < 8; i++) {
        m = (msg){.n = i};
        CHECK(spsc_put(&q, &m, sizeof m));
    }
    CHECK(!spsc_put(&q, &m, sizeof m)); /* full at exactly its size */
    CHECK_EQ(spsc_count(&q), 8);
    CHECK(spsc_get(&q, &m, sizeof m));
    CHECK_EQ(m.n, 0);
    CHECK(spsc_put(&q, &m, sizeof m)); /* one slot back, one message in */
}

static void test_unreleased_slots_stay(void)
{
    msg slots[4];
    spsc q;
    spsc_init(&q, slots, 4);
    for (uint64_t i = 0; i < 4; i++) {
        msg *s = spsc_slot(&q, sizeof *s);
        CHECK(s != NULL);
        s->n = i;
        spsc_push(&q);
    }
    CHECK(spsc_slot(&q, sizeof(msg)) == NULL);
    CHECK_EQ(spsc_count(&q), 0); /* nothing published yet */
    spsc_publish(&q);
    CHECK_EQ(spsc_count(&q), 4);
    for (uint64_t i = 0; i < 4; i++) {
        msg *s = spsc_peek(&q, sizeof *s);
        CHECK(s != NULL && s->n == i);
        spsc_pop(&q);
    }
    CHECK(spsc_peek(&q, sizeof(msg)) == NULL);
    CHECK(spsc_slot(&q, sizeof(msg)) == NULL); /* read, not released */
    spsc_release(&q);
    CHECK(spsc_slot(&q, sizeof(msg)) != NULL);
}

enum { TOTAL = 200000, BATCH = 7 };

static void *producer(void *arg)
{
    spsc *q = arg;
    for (uint64_t i = 0; i < TOTAL; i++) {
        msg *s;
        while (!(s = spsc_slot(q, sizeof *s))) {
            spsc_publish(q); /* the consumer may be waiting for these */
            sched_yield();
        }
        s->n = i;
        s->check = ~i;
        memset(s->pad, (int)(i & 0xff), sizeof s->pad);
        spsc_push(q);
        if (i % BATCH == 0)
            spsc_publish(q);
    }
    spsc_publish(q);
    return NULL;
}

static void test_two_threads(void)
{
    static msg slots[16];
    spsc q;
    spsc_init(&q, slots, 16);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, producer, &q) == 0);
    uint64_t want = 0, bad = 0;
    unsigned since_release = 0;
    while (want < TOTAL) {
        const msg *s = spsc_peek(&q, sizeof *s);
        if (!s) {
            spsc_release(&q);
            since_release = 0;
            sched_yield();
            continue;
        }
        if (s->n != want || s->check != ~want || s->pad[23] != (char)(want & 0xff))
            bad++;
        want++;
        spsc_pop(&q);
        if (++since_release == 5) {
            spsc_release(&q);
            since_release = 0;
        }
    }
    spsc_release(&q);
    pthread_join(t, NULL);
    CHECK_EQ(bad, 0);
    CHECK_EQ(spsc_count(&q), 0);
}

int main(void)
{
    RUN(test_fill_wrap_count);
    RUN(test_unreleased_slots_stay);
    RUN(test_two_threads);
    return CHECK_DONE();
}
