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
 * here from the acceptor's own table.  Their answers end with "." too.
 */
#include "accounts/accounts.h"
#include "net/adminsock.h"
#include "server/gateway.h"

#include <stdio.h>
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

/* An account verb (accounts/adminline.c): a command goes to the engine as
 * its fragments, one after the other from this one thread, so they reach
 * the engine's ring together (the engine thread sequences them in one go
 * once the last is in: engine_thread.c); only the last one is answered.
 * A question goes as IN_QUERY.  0: the line is no account verb. */
static int account_line(gateway *g, conn *c, const char *line, size_t len)
{
    acct_line l;
    acct_err err;
    int r = acct_line_parse(line, len, acct_today(), &l, &err);
    if (r == ACCT_LINE_NONE)
        return 0;
    char out[300];
    if (r == ACCT_LINE_CMD && l.needs_password)
        r = ACCT_LINE_BAD,
        snprintf(err.message, sizeof err.message, "%s",
                 "no password hash: `bourse admin account signup USER EMAIL` reads the password "
                 "from standard input and sends its hash");
    if (r == ACCT_LINE_CMD && l.doc_file[0])
        r = ACCT_LINE_BAD,
        snprintf(err.message, sizeof err.message, "%s",
                 "DOC must be sha256:HEX:TYPE:SIZE here (`bourse admin` stores a file and names "
                 "it so)");
    if (r == ACCT_LINE_BAD) {
        int k = snprintf(out, sizeof out, "! %s\n.\n", err.message);
        conn_put(g, c, out, (size_t)k);
        return 1;
    }
    if (r == ACCT_LINE_QUESTION) {
        bourse_cmd q = {.type = (uint8_t)(ADMIN_Q_ACCT + l.question)};
        const char *arg = l.question == ACCT_Q_SHOW ? l.cmd.user : l.arg;
        memcpy(q.user_name.s, arg, strnlen(arg, BOURSE_NAME_LEN));
        gw_submit(g, c, IN_QUERY, &q);
        return 1;
    }
    if (l.cmd.op == BOURSE_AOP_DEPOSIT && g->s->cfg->accounts_dev_mode)
        l.cmd.flag = 1; /* dev mode: deposits approved at once */
    bourse_cmd f[BOURSE_ACCOUNT_FRAGMENTS];
    size_t nf = bourse_account_encode(&l.cmd, f);
    if (!nf) {
        conn_put(g, c, "! a field is too long\n.\n", 24);
        return 1;
    }
    for (size_t i = 0; i < nf; i++)
        gw_submit(g, c, IN_ADMIN, &f[i]);
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
        if (account_line(g, c, (const char *)buf + off, len) ||
            question(g, c, (const char *)buf + off, len)) {
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

static void admin_reply(gateway *g, conn *c, const srv_text *t)
{
    if (t->done == 2)
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
