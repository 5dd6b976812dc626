/*
 * proto_admin.c - the admin socket's adapter: replay-format text lines
 * (docs/protocol.md, `bourse admin`).
 *
 * Each line is one command (src/core/text.c parses it) sent to the engine
 * as IN_ADMIN; the engine answers with the command's events as lines, which
 * the gateway holds until the command is durable like any report, and then
 * "." ends the answer.  A line that does not parse gets "! why" and "."; a
 * blank or comment line gets ".".  Admin connections never log in (the
 * socket is the data directory owner's, mode 0600), so they stay with the
 * acceptor, count in no cap and have no timeouts.
 *
 * Questions are no commands: `symbols`, `users`, `orders USER` and
 * `account USER` go to the engine as IN_QUERY (answered there from its
 * state, never journaled: src/server/query.c), and `sessions` is answered
 * here from the acceptor's own table, `stages` (where orders' time went,
 * stages.h: "STAGE name count mean p50 p90 p99 p999 max" in ns) from the
 * stage clocks, `metrics` here from the counters (metrics.c), each when the
 * engine reaches it, so that answers keep the order of the lines asked.
 * Their answers end with "." too.
 */
#include "net/adminsock.h"
#include "server/gateway.h"
#include "server/stages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { ADMIN_LINE = 1024, ADMIN_MAX_OUTPUT = 64 << 20 };

/* `sessions`: the logged-in sessions in this (the acceptor's) table, then
 * the count of every order-entry connection.  A session handed to another
 * gateway thread ([gateway] threads > 1) lives in that thread's table,
 * which only that thread reads: it is counted, not listed. */
static void sessions(gateway *g, conn *c)
{
    char line[200];
    uint32_t listed = 0;
    for (uint32_t i = 0; i < g->nconns; i++) {
        const conn *s = &g->conns[i];
        if (s->state != C_LIVE || !conn_slot(g, s)->p->logs_in)
            continue;
        time_t t = (time_t)(s->opened_ns / 1000000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        char since[32];
        strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
        int k = snprintf(line, sizeof line, "SESSION %s %u.%u.%u.%u %s %s\n", s->name, s->ip >> 24,
                         s->ip >> 16 & 255, s->ip >> 8 & 255, s->ip & 255, conn_slot(g, s)->p->name, since);
        conn_put(g, c, line, (size_t)k);
        listed++;
    }
    unsigned open = atomic_load(&g->s->sessions);
    int k = snprintf(line, sizeof line, "SESSIONS %u listed, %u order-entry connections open%s\n.\n", listed,
                     open, g->s->ngates > 1 ? " (sessions on the other gateway threads are not listed)" : "");
    conn_put(g, c, line, (size_t)k);
}

/* `stages` and `stages reset`: the stage clocks' histograms (stages.h),
 * answered here at once from the counters, not in turn with the commands
 * before them (they are statistics, never state). */
static int stages(gateway *g, conn *c, const char *line, size_t len)
{
    if (len == 6 && !memcmp(line, "stages", 6)) {
        char buf[2048];
        size_t n = stages_text(g->s, buf, sizeof buf);
        conn_put(g, c, buf, n);
        conn_put(g, c, ".\n", 2);
        return 1;
    }
    if (len == 12 && !memcmp(line, "stages reset", 12)) {
        stages_reset(g->s);
        conn_put(g, c, "OK stages reset\n.\n", 18);
        return 1;
    }
    return 0;
}

/* A question (not a command, net/adminsock.h): to the engine, which
 * answers in turn with the commands before it (`sessions` too: the engine
 * then says "now", and the lines are made here). */
static int question(gateway *g, conn *c, const char *line, size_t len)
{
    char user[17];
    int q = admin_question(line, len, user);
    if (!q)
        return 0;
    bourse_cmd cmd = {.type = (uint8_t)q};
    memcpy(cmd.user_name.s, user, strlen(user));
    gw_submit(g, c, IN_QUERY, &cmd);
    return 1;
}

static size_t admin_bytes(gateway *g, conn *c, const uint8_t *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        const uint8_t *nl = memchr(buf + off, '\n', n - off);
        if (!nl)
            break;
        size_t len = (size_t)(nl - (buf + off));
        bourse_cmd cmd;
        char err[160];
        char ans[4096];
        if (srv_cluster_admin(g->s, (const char *)buf + off, len, ans, sizeof ans)) {
            conn_put(g, c, ans, strlen(ans));
            off += len + 1;
            continue;
        }
        if (stages(g, c, (const char *)buf + off, len) || question(g, c, (const char *)buf + off, len)) {
            off += len + 1;
            continue;
        }
        int r = bourse_text_parse((const char *)buf + off, len, &cmd, err, sizeof err);
        off += len + 1;
        if (r == BOURSE_TEXT_CMD) {
            gw_submit(g, c, IN_ADMIN, &cmd);
        } else if (r == BOURSE_TEXT_BAD) {
            char line[200];
            int k = snprintf(line, sizeof line, "! %s\n.\n", err);
            conn_put(g, c, line, (size_t)k);
        } else {
            conn_put(g, c, ".\n", 2);
        }
    }
    if (n - off >= ADMIN_LINE)
        conn_close(g, c, "admin line too long");
    return off;
}

/* `metrics`: the Prometheus text (metrics.c), then ".".  The text has no
 * line "." of its own (every line is a sample, or a comment starting '#'). */
static void metrics(gateway *g, conn *c)
{
    size_t n;
    char *text = metrics_text(g->s, &n);
    if (text)
        conn_put(g, c, text, n);
    else
        conn_put(g, c, "! out of memory\n", 16);
    free(text);
    conn_put(g, c, ".\n", 2);
}

static void admin_reply(gateway *g, conn *c, const srv_text *t)
{
    if (t->done == 3)
        metrics(g, c);
    else if (t->done == 2)
        sessions(g, c);
    else if (t->done)
        conn_put(g, c, ".\n", 2);
    else
        conn_put(g, c, t->line, t->len);
}

static uint32_t admin_part_max(const srv_config *cfg)
{
    (void)cfg;
    return ADMIN_LINE;
}

static uint32_t admin_output_max(const srv_config *cfg)
{
    (void)cfg;
    return ADMIN_MAX_OUTPUT; /* a big query's answer, read by our own tool */
}

const gw_proto proto_admin = {
    .name = "admin",
    .part_max = admin_part_max,
    .output_max = admin_output_max,
    .on_bytes = admin_bytes,
    .on_reply = admin_reply,
};
