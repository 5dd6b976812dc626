/*
 * client.c - `bourse client`: trade as one user over SoupBinTCP/OUCH.
 *
 * Reads the user's own buy/sell/cancel/replace lines (replay format, user
 * field included) from standard input, sends each as an OUCH message, and
 * `balance USER` as an Account Query (the user's balances and open orders,
 * answered by the engine: docs/protocol.md), and
 * prints every report the server sends as a replay-format event line.
 * Executions are anonymous on the wire, so a TRADE line names only this
 * user's side; the other side is printed as "- -".  At the end of input it
 * waits until every command it sent has been answered (and --linger MS
 * more, for executions that follow), then logs out.  With --follow it
 * stays until the server ends the session or the connection drops.  The
 * framing and report decoding are src/net/ouchclient.c, shared with the
 * load generator.
 *
 * With --connect HOST:PORT[,HOST:PORT...] (or --reconnect) a lost server is
 * not the end: the client goes round the addresses with a growing wait
 * (src/net/endpoints.c), logs in again to the same session asking for the
 * next message it expects, so the reports it missed come first, none twice
 * (the stream is the log's, src/server/streams.c), and once the server
 * says it has nothing more to send (its first heartbeat) it sends again
 * every order still unanswered: one whose command was lost with the server
 * is entered now, one already in the log was answered by the replay (a
 * resend of it would be rejected as a duplicate id, never entered twice).
 * It gives up after --give-up seconds (default 30) without a session, or
 * at once when the server no longer has the session (its numbering started
 * again: nothing can be resumed).
 */
#include "bourse/text.h"
#include "cli.h"
#include "net/endpoints.h"
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
    uint8_t kind;                         /* BOURSE_CMD_ORDER, CANCEL or REPLACE */
    uint8_t len;                          /* of frame */
    uint8_t frame[OUCH_CLIENT_FRAME_MAX]; /* as sent, to send again after a reconnect */
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
    uint64_t heartbeats; /* server heartbeats seen */
    uint64_t resend_at;  /* resend the unanswered after this many (0: no) */
} client;

static void help(FILE *f)
{
    fputs("usage: bourse client --user U [--order-port P] [--host ADDR] [--password-file F]\n"
          "                     [--seq N] [--linger MS] [--follow]\n"
          "       bourse client --user U --connect ADDR:PORT[,ADDR:PORT...] [--reconnect]\n"
          "                     [--give-up S] [...]\n\n"
          "Logs in to the order-entry gateway (SoupBinTCP/OUCH, docs/protocol.md) as\n"
          "U, sends U's buy/sell/cancel/replace lines from standard input (the replay\n"
          "format, docs/commands.md; lines of other users are refused) and prints\n"
          "every report as a replay-format event line.  `balance U` asks for U's own\n"
          "account: a `BALANCE U ASSET AVAILABLE HELD` line per asset and an\n"
          "`ORDER U ID SYMBOL BUY|SELL OPEN-QTY PRICE` line per open order.\n\n"
          "  --user U           the trader to log in as (required)\n"
          "  --order-port P     the server's order-entry port (default 9001)\n"
          "  --host ADDR        the server's IPv4 address (default 127.0.0.1)\n"
          "  --password-file F  the password is F's first line (default: the\n"
          "                     environment variable BOURSE_PASSWORD)\n"
          "  --seq N            first replay U's messages from number N (default 0:\n"
          "                     only new ones), e.g. after a disconnect\n"
          "  --linger MS        at the end of input, once every line sent has been\n"
          "                     answered, wait MS more milliseconds for reports that\n"
          "                     follow (executions of resting orders), then log out\n"
          "                     (default 100)\n"
          "  --follow           do not log out at the end of input: keep printing\n"
          "                     reports until the server ends the session; a server\n"
          "                     that stops or a lost connection is reported on\n"
          "                     standard error with status 1\n"
          "  --connect A:P,...  one or more servers (the option may be repeated), in\n"
          "                     place of --host/--order-port: when the server goes\n"
          "                     away the client goes to the next, with a growing\n"
          "                     wait, resumes its stream at the next message it\n"
          "                     expects and sends again the orders still unanswered\n"
          "  --reconnect        the same with --host/--order-port alone\n"
          "  --give-up S        stop after S seconds without a server (default 30)\n",
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

/* An answer to `balance USER` (the Account Query): BALANCE lines as the
 * replay format prints them, ORDER USER OID SYMBOL BUY|SELL QTY PRICE for
 * each open order, and nothing for its end but the pending entry cleared. */
static void print_answer(client *c, const ouch_report *r)
{
    char a[32], h[32];
    switch (r->type) {
    case OUCH_BALANCE:
        if (!strcmp(r->stock.s, "CASH")) {
            a[bourse_text_decimal(r->qty, a)] = 0;
            h[bourse_text_decimal(r->price, h)] = 0;
        } else {
            snprintf(a, sizeof a, "%lld", (long long)r->qty);
            snprintf(h, sizeof h, "%lld", (long long)r->price);
        }
        printf("BALANCE %s %s %s %s\n", c->user, r->stock.s, a, h);
        break;
    case OUCH_OPEN_ORDER:
        a[bourse_text_decimal(r->price, a)] = 0;
        printf("ORDER %s %s %s %s %lld %s\n", c->user, r->token.s, r->stock.s,
               r->side == BOURSE_BUY ? "BUY" : "SELL", (long long)r->qty, a);
        break;
    case OUCH_ACCOUNT_END:
        if (r->event == OUCH_BUSY)
            cli_error("client: balance: refused (one question at a time, within the order rate)");
        for (size_t i = 0; i < c->np; i++)
            if (c->p[i].kind == BOURSE_CMD_BALANCE) {
                c->p[i] = c->p[--c->np];
                break;
            }
        break;
    }
}

static void on_packet(void *ctx, const ouch_report *r, const soup_packet *p)
{
    client *c = ctx;
    if (p->type == SOUP_SERVER_HEARTBEAT) {
        c->heartbeats++;
        return;
    }
    if (p->type == SOUP_UNSEQUENCED && r &&
        (r->type == OUCH_BALANCE || r->type == OUCH_OPEN_ORDER || r->type == OUCH_ACCOUNT_END)) {
        print_answer(c, r);
        return;
    }
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
    if (cmd.type != BOURSE_CMD_ORDER && cmd.type != BOURSE_CMD_CANCEL && cmd.type != BOURSE_CMD_REPLACE &&
        cmd.type != BOURSE_CMD_BALANCE) {
        cli_error("<stdin>:%zu: only buy, sell, cancel, replace and balance can be sent here", lineno);
        return -1;
    }
    if (strncmp(cmd.user_name.s, c->user, BOURSE_NAME_LEN) != 0) {
        cli_error("<stdin>:%zu: refused: the line is for user '%.16s', this session is '%s'", lineno,
                  cmd.user_name.s, c->user);
        return -1;
    }
    if (c->np == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->p = realloc(c->p, c->cap * sizeof *c->p);
    }
    pending *pd = &c->p[c->np++];
    pd->kind = cmd.type;
    pd->token = cmd.type == BOURSE_CMD_REPLACE ? cmd.new_oid : cmd.oid;
    if (cmd.type == BOURSE_CMD_BALANCE) { /* the Account Query (docs/protocol.md) */
        pd->frame[SOUP_HEADER] = OUCH_ACCOUNT_QUERY;
        pd->len = (uint8_t)(soup_header(pd->frame, SOUP_UNSEQUENCED, OUCH_ACCOUNT_QUERY_LEN) +
                            OUCH_ACCOUNT_QUERY_LEN);
    } else {
        pd->len = (uint8_t)ouch_client_frame(pd->frame, &cmd);
    }
    if (c->fd < 0 || c->resend_at) /* reconnecting: sent once the stream is resumed */
        return 0;
    if (tcp_write_all(c->fd, pd->frame, pd->len) != 0)
        return -2;
    return 0;
}

/* Log in on fd (asking for message `seq` next); 0, or the reason as
 * soup_client_login gives it.  Says so on stderr. */
static int login(client *c, int fd, soup_login *l, char session[SOUP_SESSION_LEN + 1], const char *where)
{
    uint64_t asked = l->seq;
    int r = soup_client_login(fd, l, 10000, session, &c->seq);
    if (r != 0)
        return r;
    fprintf(stderr, "bourse: logged in as %s at %s (session %s, next message %llu)\n", l->user, where,
            session, (unsigned long long)c->seq);
    if (asked && c->seq > asked)
        fprintf(stderr, "bourse: messages %llu to %llu are no longer kept by the server\n",
                (unsigned long long)asked, (unsigned long long)c->seq - 1);
    return 0;
}

/* The server went away: round the addresses until one takes the session
 * again (0), or give up (-1).  The replay of what was missed follows the
 * login; the unanswered orders go again after it (resend_at). */
static int reconnect(client *c, endpoints *eps, soup_login *l, char session[SOUP_SESSION_LEN + 1],
                     int give_up_s)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->have = 0;
    c->ended = 0;
    endpoints_next(eps); /* the one that went away last */
    int64_t until = mono_ms() + (int64_t)give_up_s * 1000;
    char where[ENDPOINT_HOST_MAX + 8];
    while (mono_ms() < until) {
        struct timespec ts = {0, (long)endpoints_wait_ms(eps) * 1000000L};
        nanosleep(&ts, NULL);
        int fd = endpoints_connect(eps);
        if (fd < 0)
            continue;
        l->seq = c->seq;
        snprintf(l->session, sizeof l->session, "%s", session);
        int r = login(c, fd, l, session, endpoints_name(eps, where, sizeof where));
        if (r == 0) {
            c->fd = fd;
            endpoints_ok(eps);
            c->resend_at = c->heartbeats + 1;
            return 0;
        }
        close(fd);
        if (r == 'S') {
            cli_error("client: %s no longer has session %s: the stream cannot be resumed", where, session);
            return -1;
        }
        endpoints_answered(eps); /* alive: a follower, say, until a leader serves */
        endpoints_next(eps);
    }
    cli_error("client: no server for %d seconds; giving up", give_up_s);
    return -1;
}

/* After a reconnect, once the replay is over: every order still without an
 * answer goes again (harmless if it was entered: a duplicate id). */
static int resend_unanswered(client *c)
{
    c->resend_at = 0;
    if (c->np)
        fprintf(stderr, "bourse: sending %zu unanswered order%s again\n", c->np, c->np == 1 ? "" : "s");
    for (size_t i = 0; i < c->np; i++)
        if (tcp_write_all(c->fd, c->p[i].frame, c->p[i].len) != 0)
            return -1;
    return 0;
}

int cmd_client(int argc, char **argv)
{
    const char *host = "127.0.0.1", *user = NULL, *pwfile = NULL, *why;
    long port = -1, linger = 100; /* port: 9001 (the server's default) unless --connect */
    uint64_t want = 0;
    int follow = 0, again = 0, give_up = 30;
    static endpoints eps;
    /* a server that hangs up is an error to report, not a silent death */
    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            return 0;
        } else if (!strcmp(a, "--follow")) {
            follow = 1;
        } else if (!strcmp(a, "--reconnect")) {
            again = 1;
        } else if (!v) {
            cli_error("client: %s needs a value", a);
            return 2;
        } else if (!strcmp(a, "--order-port")) {
            port = (long)cli_number(a, v, 65535), i++;
        } else if (!strcmp(a, "--host")) {
            host = v, i++;
        } else if (!strcmp(a, "--connect")) {
            if (endpoints_add(&eps, v, &why) != 0) {
                cli_error("client: --connect %s: %s", v, why);
                return 2;
            }
            again = 1, i++;
        } else if (!strcmp(a, "--give-up")) {
            give_up = (int)cli_number(a, v, 86400), i++;
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
    if ((port >= 0 || !eps.n) && endpoints_add_one(&eps, host, port < 0 ? 9001 : (int)port, &why) != 0) {
        cli_error("client: --host %s --order-port %ld: %s", host, port < 0 ? 9001 : port, why);
        return 2;
    }
    if (!user) {
        cli_error("client: --user is required (see bourse client --help)");
        return 2;
    }
    static client c;
    c.user = user;
    soup_login l = {0};
    if (strlen(user) > SOUP_USER_LEN || read_password(pwfile, l.password, sizeof l.password) != 0)
        return 2;
    snprintf(l.user, sizeof l.user, "%s", user);
    l.seq = want;
    char where[ENDPOINT_HOST_MAX + 8];
    c.fd = endpoints_connect(&eps);
    if (c.fd < 0) {
        cli_error("client: cannot connect to %s: %s",
                  eps.n > 1 ? "any of the servers" : endpoints_name(&eps, where, sizeof where),
                  strerror(errno));
        return 1;
    }
    char session[SOUP_SESSION_LEN + 1];
    int r = login(&c, c.fd, &l, session, endpoints_name(&eps, where, sizeof where));
    if (r != 0) {
        cli_error("client: login %s", r == 'A'   ? "refused: bad user or password (or too many sessions)"
                                      : r == 'S' ? "refused: session not available"
                                                 : "failed: no answer");
        memset(l.password, 0, sizeof l.password);
        return 1;
    }
    if (!again)
        memset(l.password, 0, sizeof l.password); /* kept only to log in again */
    int status = 0, eof = 0;
    static char line[1 << 16];
    size_t cap = sizeof line, llen = 0, lineno = 0;
    int64_t last_sent = mono_ms(), quiet_since = 0;
    for (;;) {
        struct pollfd pf[2] = {{.fd = c.fd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
        int n = poll(pf, eof ? 1 : 2, 200);
        int lost = 0;
        if (n > 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && pump(&c) != 0)
            lost = 1;
        if (!lost && c.resend_at && c.heartbeats >= c.resend_at && resend_unanswered(&c) != 0)
            lost = 1;
        if (!eof && llen < cap && n > 0 && (pf[1].revents & (POLLIN | POLLHUP))) {
            ssize_t k = read(0, line + llen, cap - llen);
            if (k <= 0 && !(k < 0 && errno == EINTR)) {
                eof = 1;
                if (llen) /* a last line without its newline */
                    line[llen++] = '\n';
            }
            llen += k > 0 ? (size_t)k : 0;
        }
        /* The lines read, in every turn, not only one that read: a line
         * read in the turn the server went away stays here, and goes once
         * the session is back (a reconnect reads nothing new). */
        if (!lost && llen) {
            size_t off = 0;
            char *nl;
            while (!lost && (nl = memchr(line + off, '\n', llen - off))) {
                size_t len = (size_t)(nl - (line + off));
                lineno++;
                int s = send_line(&c, line + off, len, lineno);
                off += len + 1;
                if (s == -2) /* kept as unanswered: sent again after the reconnect */
                    lost = 1;
                else if (s < 0)
                    status = 2;
                else
                    last_sent = mono_ms();
            }
            memmove(line, line + off, llen - off);
            llen -= off;
            if (llen == cap) {
                cli_error("<stdin>:%zu: line too long", lineno + 1);
                status = 2;
                llen = 0;
            }
        }
        int64_t t = mono_ms();
        if (!lost && t - last_sent >= 1000) {
            uint8_t hb[3];
            if (tcp_write_all(c.fd, hb, soup_empty(hb, SOUP_CLIENT_HEARTBEAT)) != 0)
                lost = 1;
            last_sent = t;
        }
        if (lost) {
            int ended = c.ended;
            if (!again) {
                /* End of Session while nothing more was expected (input
                 * done, every line answered, not --follow) is the normal
                 * end; any other end is said, with status 1. */
                if (!ended)
                    cli_error("client: the server closed the connection");
                else if (follow || !eof || c.np)
                    cli_error("client: the server ended the session (it is stopping)%s",
                              c.np ? "; some lines sent were not answered" : "");
                status = !ended || follow || !eof || c.np ? 1 : status;
                break;
            }
            cli_error("client: %s %s; reconnecting", endpoints_name(&eps, where, sizeof where),
                      ended ? "ended the session" : "went away");
            if (reconnect(&c, &eps, &l, session, give_up) != 0) {
                status = 1;
                break;
            }
            last_sent = mono_ms();
            continue;
        }
        if (eof && !follow && c.np == 0 && !c.resend_at) {
            if (!quiet_since)
                quiet_since = t;
            if (t - quiet_since >= linger)
                break;
        }
    }
    memset(l.password, 0, sizeof l.password);
    if (c.fd >= 0) {
        uint8_t bye[3];
        tcp_write_all(c.fd, bye, soup_empty(bye, SOUP_LOGOUT_REQUEST));
        close(c.fd);
    }
    free(c.p);
    fflush(stdout);
    return status;
}
