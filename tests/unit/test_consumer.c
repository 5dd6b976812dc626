/*
 * test_consumer.c - the consumer interface (journal/consumer.h): a set
 * publishes every event and every command's end to each consumer in
 * order, and reports the lowest position; the market-data feed, the first
 * consumer, reports as its position the seq of the last command whose
 * records its thread has taken (with a ring of 4 slots, so the engine side
 * wraps and waits).
 */
#include "bourse/text.h"
#include "check.h"
#include "feed/feed.h"
#include "journal/apply.h"
#include "journal/consumer.h"

#include <string.h>
#include <unistd.h>

typedef struct counter {
    uint64_t events, ends, last_end, snapshots, pos;
} counter;

static void count_publish(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    counter *c = ctx;
    if (ev) {
        c->events++;
    } else {
        c->ends++;
        CHECK(cmd->seq == c->last_end + 1); /* each command once, in order */
        c->last_end = cmd->seq;
    }
}

static void count_snapshot(void *ctx, uint64_t seq)
{
    ((counter *)ctx)->snapshots = seq;
}

static uint64_t count_position(const void *ctx)
{
    return ((const counter *)ctx)->pos;
}

static const consumer_ops counting = {
    .name = "count", .publish = count_publish, .snapshot = count_snapshot, .position = count_position};
static const consumer_ops no_position = {.name = "plain", .publish = count_publish};

static void publish_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    consumers_publish(ctx, cmd, ev);
}

/* Apply text commands through the leader path, publishing as the engine
 * thread does; returns the seq of the last. */
static uint64_t run(japply *a, consumer_set *set, const char *const *lines, int n)
{
    for (int i = 0; i < n; i++) {
        bourse_cmd c;
        char err[160];
        CHECK(bourse_text_parse(lines[i], strlen(lines[i]), &c, err, sizeof err) == BOURSE_TEXT_CMD);
        CHECK_EQ(japply_command(a, &c, publish_event, set), JAPPLY_OK);
        consumers_publish(set, &c, NULL);
    }
    return a->seq;
}

static const char *const script[] = {
    "symbol ACME",
    "user alice",
    "user bob",
    "deposit alice CASH 1000000",
    "deposit bob ACME 1000",
    "buy alice a1 ACME 10 100",
    "sell bob b1 ACME 4 100",
    "cancel alice a1",
    "buy alice a2 ACME 5 99",
    "deposit bob CASH 5",
};

static void test_set(void)
{
    bourse_limits lim = {16, 64, 1024, 1024, 256};
    japply a = japply_leader(bourse_engine_new(&lim), NULL, 0);
    consumer_set set = {0};
    counter c1 = {.pos = 7}, c2 = {0}, c3 = {.pos = 3};
    CHECK(consumers_add(&set, &counting, &c1) == 0);
    CHECK(consumers_add(&set, &no_position, &c2) == 0);
    CHECK_EQ(consumers_position(&set), 7);
    CHECK(consumers_add(&set, &counting, &c3) == 0);
    int n = (int)(sizeof script / sizeof *script);
    CHECK_EQ(run(&a, &set, script, n), n);
    CHECK_EQ(c1.ends, n);
    CHECK_EQ(c2.ends, n);
    CHECK(c1.events > (uint64_t)n && c1.events == c2.events && c2.events == c3.events);
    consumers_snapshot(&set, 42);
    CHECK_EQ(c1.snapshots, 42);
    CHECK_EQ(c3.snapshots, 42);
    CHECK_EQ(consumers_position(&set), 3);
    consumers_free(&set);
    CHECK_EQ(consumers_position(&set), UINT64_MAX);
    bourse_engine_free(a.e);
}

static uint64_t wait_position(feed *f, uint64_t want)
{
    for (int i = 0; i < 5000 && feed_position(f) < want; i++)
        usleep(1000);
    return feed_position(f);
}

static void test_feed_position(void)
{
    feed_config cfg = {.feed_port = -1, .http_port = -1, .quiet = 1, .ring = 4};
    feed *f = feed_new(&cfg);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(feed_start(f) == 0);
    CHECK_EQ(feed_position(f), 0);
    bourse_limits lim = {16, 64, 8192, 8192, 256};
    japply a = japply_leader(bourse_engine_new(&lim), NULL, 0);
    consumer_set set = {0};
    CHECK(consumers_add(&set, &feed_consumer, f) == 0);
    /* up to a2 (seq 9): its ACCEPTED is the last record; the deposit after
     * it gives the feed nothing, so the position stays at 9 */
    int n = (int)(sizeof script / sizeof *script);
    CHECK_EQ(run(&a, &set, script, n), n);
    CHECK_EQ(wait_position(f, 9), 9);
    usleep(20000);
    CHECK_EQ(feed_position(f), 9);
    /* many more, through a ring of 4 slots */
    char buf[64];
    for (int i = 0; i < 3000; i++) {
        snprintf(buf, sizeof buf, "buy alice x%d ACME 1 %d", i, 50 + i % 40);
        const char *line = buf;
        run(&a, &set, &line, 1);
    }
    CHECK_EQ(wait_position(f, a.seq), a.seq);
    CHECK_EQ(consumers_position(&set), a.seq);
    feed_stop(f);
    feed_free(f);
    consumers_free(&set);
    bourse_engine_free(a.e);
}

int main(void)
{
    RUN(test_set);
    RUN(test_feed_position);
    return check_failures != 0;
}
