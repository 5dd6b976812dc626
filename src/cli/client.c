/*
 * client.c - `bourse client`: trade as one user over SoupBinTCP/OUCH.
 *
 * Reads the user's own buy/sell/cancel/replace lines (replay format, user
 * field included) from standard input, sends each as an OUCH message, and
 * prints every report the server sends as a replay-format event line.
 * Executions are anonymous on the wire, so a TRADE line names only this
 * user's side; the other side is printed as "- -".  At the end of input it
 * waits until every command it sent has been answered (and --linger MS
 * more, for executions that follow), then logs out.  With --follow it
 * stays until the server ends the session or the connection drops.  The
 * framing and report decoding are src/net/ouchclient.c, shared with the
 * load generator.
 */
#include "bourse/text.h"
#include "cli.h"
#include "net/ouchclient.h"
#include "net/tcp.h"
#include "util/clock.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct pending {
    bourse_name token;
    uint8_t kind; /* BOURSE_CMD_ORDER, CANCEL or REPLACE */
} pending;

typedef struct client {
    int fd;
    const char *user;
    uint8_t in[1 << 16];
    size_t have;
    pending *p;
    size_t np, cap;
    uint64_t seq; /* the sequence number of the next message */
    int ended;
} client;

static void help(FILE *f)
{
    fputs("usage: bourse client --order-port P --user U [--host ADDR] [--password-file F]\n"
          "                     [--seq N] [--linger MS] [--follow]\n\n"
          "Logs in to the order-entry gateway as U (password from $BOURSE_PASSWORD\n"
          "or the first line of F), sends U's buy/sell/cancel/replace lines from\n"
          "standard input and prints every report as replay-format event lines.\n"
          "--seq N asks the server to replay U's messages from number N first\n"
          "(default 0: only new ones).  Lines of other users are refused.\n",
          f);
}

static void answered(client *c, const bourse_name *t, int kinds)
{
    for (size_t i = 0; i < c->np; i++) {
        if ((kinds >> c->p[i].kind & 1) && !memcmp(c->p[i].token.s, t->s, BOURSE_NAME_LEN)) {
            c->p[i] = c->p[--c->np];
            return;
        }
    }
}

static void print_report(client *c, const ouch_report *r)
{
    char line[256], q[32], px[32];
    const char *u = c->user;
    int bit_o = 1 << BOURSE_CMD_ORDER, bit_c = 1 << BOURSE_CMD_CANCEL, bit_r = 1 << BOURSE_CMD_REPLACE;
    switch (r->type) {
    case OUCH_SYSTEM:
        snprintf(line, sizeof line, "# market %s\n", r->event == OUCH_START_OF_DAY ? "open" : "closed");
        break;
    case OUCH_ACCEPTED:
        snprintf(line, sizeof line, "ACCEPTED %s %s\n", u, r->token.s);
        answered(c, &r->token, bit_o);
        break;
    case OUCH_REJECTED:
        snprintf(line, sizeof line, "REJECTED %s %s %s\n", u, r->token.s, ouch_reason_name(r->reason));
        answered(c, &r->token, bit_o | bit_c | bit_r);
        break;
    case OUCH_CANCELED:
        snprintf(line, sizeof line, "CANCELED %s %s %lld %s\n", u, r->token.s, (long long)r->qty,
                 ouch_reason_name(r->reason));
        answered(c, &r->token, bit_c);
        break;
    case OUCH_REPLACED:
        snprintf(line, sizeof line, "REPLACED %s %s %s\n", u, r->token2.s, r->token.s);
        answered(c, &r->token, bit_r);
        break;
    case OUCH_EXECUTED:
        q[bourse_text_decimal(r->qty * BOURSE_SCALE, q)] = 0;
        px[bourse_text_decimal(r->price, px)] = 0;
        if (r->side == BOURSE_BUY)
            snprintf(line, sizeof line, "TRADE %s %s %s %s %s - -\n", r->stock.s, q, px, u, r->token.s);
        else
            snprintf(line, sizeof line, "TRADE %s %s %s - - %s %s\n", r->stock.s, q, px, u, r->token.s);
        break;
    default: return;
    }
    fputs(line, stdout);
}

static void on_packet(void *ctx, const ouch_report *r, const soup_packet *p)
{
    client *c = ctx;
    if (p->type == SOUP_SEQUENCED)
        c->seq++;
    if (r)
        print_report(c, r);
    else
        cli_error("client: malformed report (type '%c')", p->len ? p->payload[0] : '?');
}

/* Read what the server sent; -1 when the connection ended. */
static int pump(client *c)
{
    ssize_t k = read(c->fd, c->in + c->have, sizeof c->in - c->have);
    if (k < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (k <= 0)
        return -1;
    c->have += (size_t)k;
    int r = ouch_client_take(c->in, &c->have, on_packet, c);
    if (r == 1)
        c->ended = 1;
    else if (r < 0)
        cli_error("client: malformed packet length from the server");
    fflush(stdout);
    return r != 0 ? -1 : 0;
}

static int read_password(const char *file, char *pw, size_t n)
{
    const char *env = getenv("BOURSE_PASSWORD");
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f || !fgets(pw, (int)n, f)) {
            cli_error("client: cannot read a password from %s", file);
            if (f)
                fclose(f);
            return -1;
        }
        fclose(f);
        pw[strcspn(pw, "\r\n")] = 0;
        return 0;
    }
    if (!env) {
        cli_error("client: set BOURSE_PASSWORD or use --password-file");
        return -1;
    }
    snprintf(pw, n, "%s", env);
    return 0;
}

static int send_line(client *c, const char *line, size_t len, size_t lineno)
{
    bourse_cmd cmd;
    char err[160];
    int r = bourse_text_parse(line, len, &cmd, err, sizeof err);
    if (r == BOURSE_TEXT_SKIP)
        return 0;
    if (r == BOURSE_TEXT_BAD) {
        cli_error("<stdin>:%zu: %s", lineno, err);
        return -1;
    }
    if (cmd.type != BOURSE_CMD_ORDER && cmd.type != BOURSE_CMD_CANCEL && cmd.type != BOURSE_CMD_REPLACE) {
        cli_error("<stdin>:%zu: only buy, sell, cancel and replace can be sent here", lineno);
        return -1;
    }
    if (strncmp(cmd.user_name.s, c->user, BOURSE_NAME_LEN) != 0) {
        cli_error("<stdin>:%zu: refused: the line is for user '%.16s', this session is '%s'", lineno,
                  cmd.user_name.s, c->user);
        return -1;
    }
    uint8_t buf[OUCH_CLIENT_FRAME_MAX];
    if (tcp_write_all(c->fd, buf, ouch_client_frame(buf, &cmd)) != 0) {
        cli_error("client: connection lost");
        return -2;
    }
    if (c->np == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->p = realloc(c->p, c->cap * sizeof *c->p);
    }
    c->p[c->np].kind = cmd.type;
    c->p[c->np++].token = cmd.type == BOURSE_CMD_REPLACE ? cmd.new_oid : cmd.oid;
    return 0;
}

int cmd_client(int argc, char **argv)
{
    const char *host = "127.0.0.1", *user = NULL, *pwfile = NULL;
    long port = -1, linger = 100;
    uint64_t want = 0;
    int follow = 0;
    /* a server that hangs up is an error to report, not a silent death */
    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            return 0;
        } else if (!strcmp(a, "--follow")) {
            follow = 1;
        } else if (!v) {
            cli_error("client: %s needs a value", a);
            return 2;
        } else if (!strcmp(a, "--order-port")) {
            port = (long)cli_number(a, v, 65535), i++;
        } else if (!strcmp(a, "--host")) {
            host = v, i++;
        } else if (!strcmp(a, "--user")) {
            user = v, i++;
        } else if (!strcmp(a, "--password-file")) {
            pwfile = v, i++;
        } else if (!strcmp(a, "--seq")) {
            want = cli_number(a, v, UINT64_MAX), i++;
        } else if (!strcmp(a, "--linger")) {
            linger = (long)cli_number(a, v, 3600000), i++;
        } else {
            cli_error("client: unknown option '%s'", a);
            help(stderr);
            return 2;
        }
    }
    if (port < 0 || !user) {
        cli_error("client: --order-port and --user are required");
        return 2;
    }
    static client c;
    c.user = user;
    soup_login l = {0};
    if (strlen(user) > SOUP_USER_LEN || read_password(pwfile, l.password, sizeof l.password) != 0)
        return 2;
    snprintf(l.user, sizeof l.user, "%s", user);
    l.seq = want;
    c.fd = tcp_connect(host, (uint16_t)port, NULL, 0);
    if (c.fd < 0) {
        cli_error("client: cannot connect to %s:%ld: %s", host, port, strerror(errno));
        return 1;
    }
    char session[SOUP_SESSION_LEN + 1];
    int r = soup_client_login(c.fd, &l, 10000, session, &c.seq);
    memset(l.password, 0, sizeof l.password);
    if (r != 0) {
        cli_error("client: login %s", r == 'A'   ? "refused: bad user or password (or too many sessions)"
                                      : r == 'S' ? "refused: session not available"
                                                 : "failed: no answer");
        return 1;
    }
    fprintf(stderr, "bourse: logged in as %s (session %s, next message %llu)\n", user, session,
            (unsigned long long)c.seq);
    int status = 0, eof = 0;
    static char line[1 << 16];
    size_t cap = sizeof line, llen = 0, lineno = 0;
    int64_t last_sent = mono_ms(), quiet_since = 0;
    for (;;) {
        struct pollfd pf[2] = {{.fd = c.fd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
        int n = poll(pf, eof ? 1 : 2, 200);
        if (n > 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && pump(&c) != 0) {
            if (!c.ended)
                cli_error("client: the server closed the connection");
            status = c.ended ? status : 1;
            break;
        }
        if (!eof && n > 0 && (pf[1].revents & (POLLIN | POLLHUP))) {
            ssize_t k = read(0, line + llen, cap - llen);
            if (k <= 0 && !(k < 0 && errno == EINTR)) {
                eof = 1;
                if (llen) /* a last line without its newline */
                    line[llen++] = '\n';
            }
            llen += k > 0 ? (size_t)k : 0;
            size_t off = 0;
            char *nl;
            while ((nl = memchr(line + off, '\n', llen - off))) {
                size_t len = (size_t)(nl - (line + off));
                lineno++;
                int s = send_line(&c, line + off, len, lineno);
                off += len + 1;
                if (s == -2) {
                    status = 1;
                    eof = 2;
                    break;
                }
                if (s < 0)
                    status = 2;
                else
                    last_sent = mono_ms();
            }
            if (eof == 2)
                break;
            memmove(line, line + off, llen - off);
            llen -= off;
            if (llen == cap) {
                cli_error("<stdin>:%zu: line too long", lineno + 1);
                status = 2;
                llen = 0;
            }
        }
        int64_t t = mono_ms();
        if (t - last_sent >= 1000) {
            uint8_t hb[3];
            if (tcp_write_all(c.fd, hb, soup_empty(hb, SOUP_CLIENT_HEARTBEAT)) != 0)
                break;
            last_sent = t;
        }
        if (eof && !follow && c.np == 0) {
            if (!quiet_since)
                quiet_since = t;
            if (t - quiet_since >= linger)
                break;
        }
    }
    uint8_t bye[3];
    tcp_write_all(c.fd, bye, soup_empty(bye, SOUP_LOGOUT_REQUEST));
    close(c.fd);
    free(c.p);
    fflush(stdout);
    return status;
}
