/*
 * test_streams.c - the users' order-entry streams rebuilt from the log at
 * start (src/server/streams.c) on a single node, across restarts.
 *
 * A journal is written by the leader path (japply_command) with the test's
 * command generator, counting each user's reports as the engine thread
 * would route them (srv_event_out: a trade counts for both sides).  Then a
 * server is made on that directory (srv_init, two gateways so that a
 * trade's two sides may have different homes) and its streams rebuilt, and
 * each user's next sequence number must be 1 + its count.  More commands
 * are appended (with a core snapshot between them, which the rebuild must
 * not start from), the server is made again, and every stream must hold
 * the first run's messages byte for byte followed by the new ones, with
 * the numbers going on.  (A start that is archived, and kill -9, are
 * tests/sh/e2e_streams.sh's, on real sockets.)
 */
#include "check.h"
#include "journal/apply.h"
#include "journal/journal.h"
#include "journal_gen.h"
#include "rmdir.h"
#include "server/proto_soup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { USERS = 64 };

static char dir[] = "/tmp/bourse-test-streams-XXXXXX";
static const bourse_limits lim = {.symbols = 16, .users = USERS, .orders = 4096, .ids = 1 << 15};
static uint64_t reports[USERS]; /* per user, as routed live */

typedef struct counter {
    const bourse_engine *e;
    uint64_t match;
} counter;

static void count_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    counter *c = ctx;
    srv_out o;
    if (!srv_event_out(c->e, cmd, ev, &c->match, &o))
        return;
    if (ev->user < USERS)
        reports[ev->user]++;
    if (ev->type == BOURSE_EV_TRADE && ev->user2 < USERS)
        reports[ev->user2]++;
}

/* Append n generated commands (the generator goes on where it stopped),
 * with a core snapshot after `snap_at` of them (-1: none). */
static void write_log(jgen *g, int n, int snap_at)
{
    journal_config jc = {.dir = dir, .durability = JOURNAL_NONE, .limits = lim};
    journal *j;
    bourse_engine *e;
    char err[256];
    if (journal_open(&jc, &j, &e, err, sizeof err) != 0) {
        printf("FAIL journal_open: %s\n", err);
        check_failures++;
        return;
    }
    bourse_stats st;
    bourse_engine_stats(e, &st);
    counter c = {.e = e, .match = st.trades};
    japply a = japply_leader(e, j, 0);
    for (int i = 0; i < n; i++) {
        bourse_cmd cmd;
        jgen_next(g, &cmd);
        japply_command(&a, &cmd, count_event, &c);
        if (i == snap_at)
            CHECK_EQ(journal_snapshot(j, e), 0);
    }
    CHECK_EQ(journal_close(j, err, sizeof err), 0);
    bourse_engine_free(e);
}

static srv server;
static srv_config cfg;

static int make_server(void)
{
    srv_config_defaults(&cfg);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", dir);
    cfg.order_port = 0;
    strcpy(cfg.durability, "none");
    cfg.limits = lim;
    cfg.prefault = 0;
    cfg.priority = 0;
    cfg.engine_cpu = -1;
    cfg.gateway_threads = 2;
    cfg.max_sessions = 100;
    cfg.day_end_s = -1;
    if (srv_init(&server, &cfg, NULL) != 0 || srv_streams_rebuild(&server) != 0) {
        printf("FAIL the server did not start on %s\n", dir);
        check_failures++;
        return -1;
    }
    return 0;
}

static ustream *stream_of(uint32_t user)
{
    gateway *g = server.gates[srv_home(&server, user)].gw;
    soup_gw *sg = g->protos[g->port_proto[0]].st; /* srv_init's first port: SoupBinTCP */
    return user < sg->nstreams ? &sg->streams[user] : NULL;
}

/* Every user's kept messages, [u16 length][message] from seq 1, in order. */
typedef struct kept {
    uint8_t *b;
    size_t len;
    uint64_t next;
} kept;

static void take(kept *k)
{
    for (uint32_t u = 0; u < USERS; u++) {
        ustream *st = stream_of(u);
        free(k[u].b);
        k[u] = (kept){.next = st ? st->next_seq : 1};
        if (!st || !st->used)
            continue;
        CHECK_EQ(st->first_seq, 1); /* replay_bytes keeps everything here */
        k[u].b = malloc(st->used);
        k[u].len = st->used;
        for (uint32_t i = 0; i < st->used; i++)
            k[u].b[i] = st->ring[(st->head + i) % st->cap];
    }
}

static void streams_rebuilt_across_restarts(void)
{
    CHECK(mkdtemp(dir) != NULL);
    jgen g;
    jgen_init(&g, 12);
    write_log(&g, 3000, -1);
    kept one[USERS] = {{0}}, two[USERS] = {{0}};
    if (make_server() != 0)
        return;
    CHECK(!strcmp(server.session, "0000000001"));
    take(one);
    srv_free(&server);
    srv_config_free(&cfg);
    uint64_t total = 0;
    for (uint32_t u = 0; u < USERS; u++) {
        CHECK_EQ(one[u].next, reports[u] + 1);
        total += reports[u];
    }
    CHECK(total > 1000); /* the generator trades: the check is not vacuous */

    write_log(&g, 3000, 1000);
    if (make_server() != 0)
        return;
    take(two);
    srv_free(&server);
    srv_config_free(&cfg);
    for (uint32_t u = 0; u < USERS; u++) {
        CHECK_EQ(two[u].next, reports[u] + 1);
        CHECK(two[u].len >= one[u].len);
        CHECK(one[u].len == 0 || !memcmp(one[u].b, two[u].b, one[u].len));
        free(one[u].b);
        free(two[u].b);
    }
    rm_rf(dir);
}

int main(void)
{
    RUN(streams_rebuilt_across_restarts);
    return check_failures != 0;
}
