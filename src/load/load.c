/*
 * load.c - `bourse load`: simulated traders against a running server.
 *
 * Setup goes through the admin socket (users, cash, shares) and the
 * password file (cheap hashes: these are test users).  Then N sessions log
 * in (from several 127.0.0.x source addresses when there are many, since
 * one address has ~28,000 ports and the server caps sessions per address)
 * and an open-loop generator sends R orders per second: order i is due at
 * start + i/R whether or not earlier ones were answered, and its latency is
 * measured from that due time, so a stall shows up in the percentiles
 * instead of slowing the generator down (no coordinated omission).
 *
 * The mix: 45% passive day orders near the mid (they rest), 25% aggressive
 * IOC orders (they trade), 25% cancels and 5% replaces of the session's
 * resting orders; a session with 64 resting orders cancels the oldest
 * instead, so the books stay bounded however long it runs.  Round trips are measured to
 * Accepted for every new order and to the first Executed of each
 * aggressive order.  A bare TCP echo (own thread, loopback, same message
 * size) is measured first as the machine's baseline: ping-pong on one
 * connection, and open loop at the same rate and timing rule over up to 64
 * connections, which is the fair comparison on a busy machine.
 *
 * One descriptor table holds at most RLIMIT_NOFILE sockets, and where the
 * hard limit cannot be raised that is less than the sessions asked for.  The
 * main loop (this file, one epoll) then keeps as many sessions as its table
 * holds, less a reserve, and only those send orders and time round trips;
 * the rest are held by threads with their own descriptor tables (hold.c),
 * which log in, heartbeat and read, so the server carries every session.
 * A run small enough for one table has no holders and measures as before.
 *
 * With --connect HOST:PORT[,HOST:PORT...] a session whose server goes away
 * logs in again (to the next address, with a growing wait: endpoints.c)
 * asking for the next report it expects, so its stream resumes with no gap
 * and no duplicate (src/server/streams.c); the report counts reconnects,
 * gaps (a Login Accepted past the number asked for) and duplicates (an
 * order accepted twice).  Orders are sent only over live sessions; those
 * the dead server never entered stay unanswered.  Held sessions (hold.c)
 * do not reconnect.
 */
#include "load/load.h"
#include "bench/hist.h"
#include "load/echo.h"
#include "load/hold.h"
#include "load/load_int.h"
#include "net/adminsock.h"
#include "net/endpoints.h"
#include "net/ouchclient.h"
#include "net/tcp.h"
#include "server/passwd.h"
#include "util/args.h"
#include "util/clock.h"

#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t rnd(load *l)
{
    l->rng ^= l->rng << 13;
    l->rng ^= l->rng >> 7;
    l->rng ^= l->rng << 17;
    return l->rng;
}

static void user_name(uint32_t u, char *out)
{
    snprintf(out, 17, "load%u", u);
}

/* --- setup through the admin socket -------------------------------------- */

int load_setup_answers(FILE *r, uint32_t cmds)
{
    char line[256];
    while (cmds && fgets(line, sizeof line, r)) {
        if (!strcmp(line, ".\n"))
            cmds--;
        else if (strncmp(line, "OK", 2) && strncmp(line, "ERROR DUPLICATE_USER", 20)) {
            arg_error("load: setup: %s", line);
            return -1;
        }
    }
    return 0;
}

static int setup(load *l)
{
    int fd = admin_connect(l->dir);
    if (fd < 0)
        return -1;
    FILE *w = fdopen(dup(fd), "w"), *r = fdopen(fd, "r");
    uint32_t cmds = 0;
    for (uint32_t u = 0; u < l->users; u++) {
        char name[17];
        user_name(u, name);
        fprintf(w, "user %s\ndeposit %s CASH 100000000000\n", name, name);
        cmds += 2;
        for (uint32_t k = 0; k < l->nsyms; k++, cmds++)
            fprintf(w, "deposit %s %s 1000000000\n", name, l->syms[k]);
        if (u % 64 == 63 || u + 1 == l->users) {
            fflush(w);
            if (load_setup_answers(r, cmds) != 0)
                return -1;
            cmds = 0;
        }
    }
    fclose(w);
    fclose(r);
    const char **names = calloc(l->users, sizeof *names), **pws = calloc(l->users, sizeof *pws);
    char(*buf)[17] = calloc(l->users, 17);
    for (uint32_t u = 0; u < l->users; u++) {
        user_name(u, buf[u]);
        names[u] = buf[u];
        pws[u] = "load-password";
    }
    char err[300];
    int rc = passwd_set(l->dir, names, pws, l->users, PASSWD_FAST, err, sizeof err);
    if (rc)
        arg_error("load: passwords: %s", err);
    free(names);
    free(pws);
    free(buf);
    return rc;
}

/* --- sessions ------------------------------------------------------------ */

int load_connect_all(load *l)
{
    soup_login lg = {0};
    snprintf(lg.password, sizeof lg.password, "load-password");
    int64_t t0 = mono_ns();
    for (uint32_t i = 0; i < l->nmain; i++) {
        lsess *s = &l->s[i];
        char from[32];
        uint32_t at = load_session_at(l, i); /* its number among every process's sessions */
        hold_source(at, from);
        s->fd = tcp_connect(l->host, l->port, from, 0);
        if (s->fd < 0) {
            arg_error("load: connect %u from %s: %s", i, from, strerror(errno));
            return -1;
        }
        s->user = at % l->users;
        user_name(s->user, lg.user);
        uint8_t buf[128];
        if (tcp_write_all(s->fd, buf, soup_login_write(buf, &lg)) != 0)
            return -1;
    }
    /* collect the Login Accepted packets */
    for (uint32_t i = 0; i < l->nmain; i++) {
        lsess *s = &l->s[i];
        uint8_t buf[64];
        size_t have = 0;
        while (have < 2 + SOUP_ACCEPTED_LEN) {
            struct pollfd p = {.fd = s->fd, .events = POLLIN};
            if (poll(&p, 1, 30000) <= 0) {
                arg_error("load: session %u: no login answer", i);
                return -1;
            }
            ssize_t k = read(s->fd, buf + have, 2 + SOUP_ACCEPTED_LEN - have);
            if (k <= 0) {
                arg_error("load: session %u: login refused or closed", i);
                return -1;
            }
            have += (size_t)k;
            if (have >= 3 && buf[2] != SOUP_LOGIN_ACCEPTED) {
                arg_error("load: session %u: login refused", i);
                return -1;
            }
        }
        soup_packet ap;
        if (soup_next(buf, have, sizeof buf, &ap) <= 0 ||
            soup_accepted_parse(&ap, s->session, &s->next_seq) != 0) {
            arg_error("load: session %u: bad Login Accepted", i);
            return -1;
        }
        int fl = 1;
        setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &fl, sizeof fl);
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = i};
        epoll_ctl(l->ep, EPOLL_CTL_ADD, s->fd, &e);
        s->live = 1;
        s->out = malloc(OUTBUF);
    }
    if (!l->json)
        fprintf(stderr, "bourse: load: %u sessions logged in in %.2f s\n", l->nmain,
                (double)(mono_ns() - t0) / 1e9);
    return 0;
}

/* --- orders -------------------------------------------------------------- */

static void token_of(load *l, uint64_t n, bourse_name *t)
{
    memset(t, 0, sizeof *t);
    char tmp[16];
    int k = 0;
    do {
        int d = (int)(n % 36);
        tmp[k++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        n /= 36;
    } while (n);
    size_t p = strlen(l->prefix);
    memcpy(t->s, l->prefix, p);
    for (int i = 0; i < k; i++)
        t->s[p + i] = tmp[k - 1 - i];
}

static int64_t number_of(load *l, const bourse_name *t)
{
    size_t p = strlen(l->prefix);
    if (memcmp(t->s, l->prefix, p) != 0)
        return -1;
    int64_t n = 0;
    for (size_t i = p; i < BOURSE_NAME_LEN && t->s[i]; i++) {
        char c = t->s[i];
        n = n * 36 + (c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return n < (int64_t)l->total ? n : -1;
}

static void queue(load *l, lsess *s, const bourse_cmd *c)
{
    if (s->out_len + 64 > OUTBUF)
        return; /* the server is not reading: count it as unanswered */
    s->out_len += (uint32_t)ouch_client_frame(s->out + s->out_len, c);
    /* the check above left room for one framed command (at most 73 bytes) */
    assert(s->out_len <= OUTBUF);
    if (!s->dirty) {
        s->dirty = 1;
        l->dirty[l->ndirty++] = (uint32_t)(s - l->s);
    }
}

static void send_order(load *l, uint64_t n, int64_t due)
{
    lsess *s = &l->s[n % l->nmain];
    if (!s->live) {
        l->flags[n] = F_UNSENT;
        l->unsent++;
        return;
    }
    bourse_cmd c = {0};
    uint64_t r = rnd(l);
    unsigned pick = (unsigned)(r % 100);
    l->due[n] = due;
    l->sent++;
    l->sent_resumed += (uint64_t)s->resumed;
    /* a session keeps at most REST orders resting: past that it cancels */
    if (s->rest_n == REST || (pick < 30 && s->rest_n)) {
        uint32_t victim = s->rest[s->rest_head];
        s->rest_head = (s->rest_head + 1) % REST;
        s->rest_n--;
        token_of(l, victim, &c.oid);
        if (pick < 25 || pick >= 30) {
            c.type = BOURSE_CMD_CANCEL;
            l->kind[n] = K_CANCEL;
            l->flags[n] = F_ACKED; /* answered under the victim's token */
        } else {
            c.type = BOURSE_CMD_REPLACE;
            token_of(l, n, &c.new_oid);
            c.qty = 1 + (int64_t)(r >> 8) % 100;
            c.price = (100 - 1 - (int64_t)(r >> 16) % 5) * BOURSE_SCALE;
            l->kind[n] = K_REPLACE;
            s->rest[(s->rest_head + s->rest_n++) % REST] = (uint32_t)n;
        }
        queue(l, s, &c);
        return;
    }
    /* a full session cancelled above instead of adding: the ring of resting
     * candidates never holds more than REST */
    assert(s->rest_n < REST);
    c.type = BOURSE_CMD_ORDER;
    c.side = (uint8_t)((r >> 8) & 1);
    c.qty = 1 + (int64_t)(r >> 12) % 100;
    memcpy(c.symbol_name.s, l->syms[(r >> 20) % l->nsyms], BOURSE_SYMBOL_LEN);
    token_of(l, n, &c.oid);
    int64_t off = 1 + (int64_t)(r >> 28) % 5;
    if (pick < 75) { /* passive: rests on its own side of 100 */
        c.price = (c.side == BOURSE_BUY ? 100 - off : 100 + off) * BOURSE_SCALE;
        l->kind[n] = K_PASSIVE;
        s->rest[(s->rest_head + s->rest_n++) % REST] = (uint32_t)n;
    } else { /* aggressive: crosses into the other side */
        c.price = (c.side == BOURSE_BUY ? 106 : 94) * BOURSE_SCALE;
        c.tif = BOURSE_IOC;
        l->kind[n] = K_IOC;
    }
    queue(l, s, &c);
}

static void flush_all(load *l)
{
    for (uint32_t i = 0; i < l->ndirty; i++) {
        lsess *s = &l->s[l->dirty[i]];
        s->dirty = 0;
        if (s->live && s->out_len && tcp_write_all(s->fd, s->out, s->out_len) != 0) {
            s->live = 0;
            l->disconnects++;
        }
        s->out_len = 0;
    }
    l->ndirty = 0;
}

static void on_report(load *l, const ouch_report *r, int64_t now)
{
    int64_t n = number_of(l, &r->token);
    if (n < 0)
        return;
    switch (r->type) {
    case OUCH_ACCEPTED:
        l->acked++;
        if (l->flags[n] & F_DURABLE)
            l->duplicates++; /* accepted twice: a stream replayed twice */
        if (!(l->flags[n] & F_ACKED)) {
            l->flags[n] |= F_ACKED | F_DURABLE;
            hist_record(&l->rtt_ack, (uint64_t)(now - l->due[n]));
            int64_t slot = (l->due[n] - l->run_start) / LOAD_TL_NS;
            if (slot >= 0 && slot < LOAD_TL) { /* over time, by when it was due */
                load_tl *t = &l->tl[slot];
                uint64_t v = (uint64_t)(now - l->due[n]);
                t->n++;
                t->sum += v;
                if (v > t->max)
                    t->max = v;
            }
        }
        break;
    case OUCH_EXECUTED:
        l->execs++;
        if (r->liquidity == 'R' && l->kind[n] == K_IOC && !(l->flags[n] & F_EXEC)) {
            l->flags[n] |= F_EXEC;
            hist_record(&l->rtt_exec, (uint64_t)(now - l->due[n]));
        }
        break;
    case OUCH_REJECTED:
        l->rejected++;
        l->flags[n] |= F_ACKED;
        /* a cancel or replace of an order that has traded meanwhile is normal */
        if (r->reason != BOURSE_R_UNKNOWN_ORDER && r->reason != BOURSE_R_DUPLICATE_ID) {
            l->errors++;
            l->reasons[r->reason]++;
        }
        break;
    case OUCH_CANCELED:
        l->canceled++;
        l->flags[n] |= F_ACKED;
        break;
    case OUCH_REPLACED: l->flags[n] |= F_ACKED | F_DURABLE; break;
    }
}

typedef struct report_ctx {
    load *l;
    lsess *s;
    int64_t now;
} report_ctx;

static void on_packet(void *ctx, const ouch_report *r, const soup_packet *p)
{
    report_ctx *rc = ctx;
    if (p->type == SOUP_SEQUENCED)
        rc->s->next_seq++;
    if (r)
        on_report(rc->l, r, rc->now);
}

static void read_session(load *l, lsess *s)
{
    ssize_t k = read(s->fd, s->in + s->in_len, INBUF - s->in_len);
    /* the time the reports were in hand, taken per read: one clock for a
     * whole epoll batch would credit later sessions with earlier times */
    int64_t now = mono_ns();
    if (k <= 0) {
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        s->live = 0;
        l->disconnects++;
        epoll_ctl(l->ep, EPOLL_CTL_DEL, s->fd, NULL);
        return;
    }
    s->in_len += (uint32_t)k;
    size_t have = s->in_len;
    report_ctx rc = {l, s, now};
    if (ouch_client_take(s->in, &have, on_packet, &rc) < 0) {
        s->live = 0; /* a malformed length: the stream cannot be followed */
        l->disconnects++;
        epoll_ctl(l->ep, EPOLL_CTL_DEL, s->fd, NULL);
    }
    s->in_len = (uint32_t)have;
}

static void poll_reports(load *l, int64_t timeout_ns)
{
    struct epoll_event evs[512];
    struct timespec ts = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
    int n = epoll_pwait2(l->ep, evs, 512, &ts, NULL);
    for (int i = 0; i < n; i++)
        read_session(l, &l->s[evs[i].data.u32]);
}

/* Heartbeats, a tenth of the sessions every 100 ms (so each gets one a
 * second) rather than a burst of all of them at once. */
static void heartbeat_some(load *l, uint32_t part)
{
    uint8_t hb[3];
    soup_empty(hb, SOUP_CLIENT_HEARTBEAT);
    for (uint32_t i = part; i < l->nmain; i += 10)
        if (l->s[i].live && write(l->s[i].fd, hb, 3) != 3)
            l->s[i].live = 0;
}

/* A session that went down (--connect): once its wait is over, log in
 * again at the current address asking for its next report; the replay of
 * what it missed follows.  Connecting to a dead server fails at once on
 * loopback; a live one answers the login within its timeout. */
static void revive(load *l, int64_t now)
{
    if (!l->eps.n)
        return;
    soup_login lg = {0};
    snprintf(lg.password, sizeof lg.password, "load-password");
    for (uint32_t i = 0; i < l->nmain; i++) {
        lsess *s = &l->s[i];
        if (s->live || now < s->retry_ns)
            continue;
        if (s->fd >= 0) {
            epoll_ctl(l->ep, EPOLL_CTL_DEL, s->fd, NULL);
            close(s->fd);
            s->fd = -1;
        }
        s->in_len = 0;
        const endpoint *e = &l->eps.e[l->eps.at];
        char from[32], sess[SOUP_SESSION_LEN + 1];
        hold_source(load_session_at(l, i), from);
        int fd = tcp_connect(e->host, e->port, from, 0);
        uint64_t next = 0;
        user_name(s->user, lg.user);
        snprintf(lg.session, sizeof lg.session, "%s", s->session);
        lg.seq = s->next_seq;
        if (fd < 0 || soup_client_login(fd, &lg, 2000, sess, &next) != 0) {
            if (fd >= 0) {
                close(fd);
                s->answered = 1; /* alive: a follower, say, until a leader serves */
            }
            endpoints_next(&l->eps);
            /* The other addresses at once (the next leader is one of them),
             * then a wait per round failed, 10 ms doubling to 250 ms
             * (net/endpoints.h): a wait before each try only lengthened
             * the failover this session saw. */
            if (++s->tried < l->eps.n) {
                s->retry_ns = now;
                continue;
            }
            s->tried = 0;
            if (s->answered && s->fast < ENDPOINTS_FAST_ROUNDS) {
                s->fast++;
                s->retry_ns = now + 10 * 1000000;
            } else {
                s->backoff_ms = s->backoff_ms ? (s->backoff_ms < 250 ? s->backoff_ms * 2 : 250) : 10;
                s->retry_ns = now + (int64_t)s->backoff_ms * 1000000;
            }
            s->answered = 0;
            continue;
        }
        if (next != s->next_seq)
            l->gaps++;
        s->next_seq = next;
        s->fd = fd;
        s->backoff_ms = 0;
        s->fast = 0;
        s->tried = 0;
        int fl = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &fl, sizeof fl);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
        epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
        s->live = 1;
        s->resumed = 1;
        l->reconnects++;
    }
}

/* SIGINT/SIGTERM end the sending early (a fault test stops the load once
 * its faults are done); the answers are still awaited and reported. */
static volatile sig_atomic_t stop_asked;
static void ask_stop(int sig)
{
    (void)sig;
    stop_asked = 1;
}

void load_run(load *l)
{
    int64_t start = mono_ns(), end = start + (int64_t)(l->seconds * 1e9), last_hb = start;
    l->run_start = start;
    uint64_t n = 0;
    uint32_t hb_part = 0;
    for (;;) {
        int64_t now = mono_ns();
        if ((now >= end && n >= l->total) || stop_asked)
            break;
        /* orders 0 .. due_n-1 are due: order i at start + i/R */
        uint64_t due_n = l->rate ? (uint64_t)((double)(now - start) * (double)l->rate / 1e9) + 1 : 0;
        if (due_n > l->total)
            due_n = l->total;
        int64_t first_due = n < due_n ? start + (int64_t)((double)n * 1e9 / (double)l->rate) : 0;
        /* due_n is capped at total: the per-order arrays have total slots */
        assert(due_n <= l->total);
        while (n < due_n) {
            int64_t due = start + (int64_t)((double)n * 1e9 / (double)l->rate);
            send_order(l, n++, due);
        }
        flush_all(l);
        /* The generator's own lateness is part of every round trip (they
         * count from the due time); shown apart, so a generator that cannot
         * keep up is seen as such. */
        if (first_due)
            hist_record(&l->lag, (uint64_t)(mono_ns() - first_due));
        if (now - last_hb > 100000000) {
            revive(l, now);
            heartbeat_some(l, hb_part);
            hb_part = (hb_part + 1) % 10;
            last_hb = now;
        }
        /* sleep until the next order is due (at least 10 us, so that at
         * high rates orders go out in batches, as a real gateway client's
         * would), reading reports meanwhile */
        int64_t wait = 100000000;
        if (l->rate && n < l->total) {
            int64_t next = start + (int64_t)((double)n * 1e9 / (double)l->rate);
            wait = next - mono_ns();
            if (wait < 10000)
                wait = 10000;
        }
        poll_reports(l, wait);
    }
    /* let the last answers arrive (at most 3 s) */
    int64_t stop = mono_ns() + 3000000000LL;
    uint64_t first = 0; /* every order before it is answered */
    while (mono_ns() < stop) {
        while (first < n && (l->flags[first] & (F_ACKED | F_UNSENT)))
            first++;
        if (first == n)
            break;
        revive(l, mono_ns());
        poll_reports(l, 10000000);
    }
    for (uint64_t i = 0; i < n; i++)
        if (!(l->flags[i] & (F_ACKED | F_UNSENT)))
            l->unanswered++;
    l->errors += l->unanswered;
}

/* Orders the server acknowledged: Accepted, or Replaced under their token. */
static void write_acked(load *l)
{
    FILE *f = fopen(l->acked_path, "w");
    if (!f) {
        arg_error("load: %s: %s", l->acked_path, strerror(errno));
        return;
    }
    for (uint64_t n = 0; n < l->sent; n++) {
        if (!(l->flags[n] & F_DURABLE))
            continue;
        char user[17];
        bourse_name t;
        user_name(l->s[n % l->nmain].user, user);
        token_of(l, n, &t);
        fprintf(f, "%s %s\n", user, t.s);
    }
    fclose(f);
}

/* --- the echo baseline --------------------------------------------------- */

/* --- options and report -------------------------------------------------- */

static int parse(load *l, int argc, char **argv)
{
    const char *syms = "AAPL,MSFT,AMZN,GOOGL,META,NVDA,TSLA,JPM";
    long port = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            load_help(stdout);
            exit(0);
        } else if (!strcmp(a, "--json")) {
            l->json = 1;
            continue;
        } else if (!v) {
            arg_error("load: %s needs a value", a);
            return 2;
        } else if (!strcmp(a, "--data")) {
            l->dir = v;
        } else if (!strcmp(a, "--host")) {
            l->host = v;
        } else if (!strcmp(a, "--order-port")) {
            port = (long)arg_number(a, v, 65535);
        } else if (!strcmp(a, "--connect")) {
            const char *why;
            if (endpoints_add(&l->eps, v, &why) != 0) {
                arg_error("load: --connect %s: %s", v, why);
                return 2;
            }
            l->host = l->eps.e[0].host;
            port = l->eps.e[0].port;
        } else if (!strcmp(a, "--users")) {
            l->users = (uint32_t)arg_number(a, v, 1000000);
        } else if (!strcmp(a, "--sessions")) {
            l->sessions = (uint32_t)arg_number(a, v, 1000000);
        } else if (!strcmp(a, "--rate")) {
            l->rate = arg_number(a, v, 100000000);
        } else if (!strcmp(a, "--seconds")) {
            l->seconds = (double)arg_number(a, v, 86400);
        } else if (!strcmp(a, "--main-sessions")) {
            l->main_cap = (uint32_t)arg_number(a, v, 1000000);
        } else if (!strcmp(a, "--hold-threads")) {
            l->hold_threads = (uint32_t)arg_number(a, v, 1000);
        } else if (!strcmp(a, "--hold-heartbeat-ms")) {
            l->hold_hb_ms = (int)arg_number(a, v, 3600000);
        } else if (!strcmp(a, "--symbols")) {
            syms = v;
        } else if (!strcmp(a, "--acked")) {
            l->acked_path = v;
        } else if (!strcmp(a, "--procs")) {
            l->procs = (uint32_t)arg_number(a, v, LOAD_MAX_PROCS);
        } else if (!strcmp(a, "--cpu")) {
            if (load_cpus_parse(l, v) != 0) {
                arg_error("load: --cpu %s: a list of CPU numbers and ranges, as 2,3 or 4-7", v);
                return 2;
            }
        } else {
            arg_error("load: unknown option '%s'", a);
            load_help(stderr);
            return 2;
        }
        i++;
    }
    if (!l->dir || port < 0 || !l->users) {
        arg_error("load: --data, --order-port (or --connect) and --users are required");
        return 2;
    }
    l->port = (uint16_t)port;
    if (!l->sessions)
        l->sessions = l->users;
    for (const char *p = syms; *p && l->nsyms < 16;) {
        size_t n = strcspn(p, ",");
        if (n && n <= 8) {
            memcpy(l->syms[l->nsyms], p, n);
            l->syms[l->nsyms++][n] = 0;
        }
        p += n + (p[n] == ',');
    }
    return l->nsyms ? 0 : 2;
}

/* Start the holder threads for sessions nmain.. and wait until they are
 * logged in (bounded: each login has a timeout), heartbeating the main
 * loop's sessions meanwhile, as run() does. */
static int hold_all(load *l, uint32_t per_thread)
{
    hold_opts o = {.host = l->host,
                   .port = l->port,
                   .first = l->nmain,
                   .count = l->sessions - l->nmain,
                   .users = l->users,
                   .user_name = user_name,
                   .password = "load-password",
                   .per_thread = per_thread,
                   .min_threads = l->hold_threads,
                   .heartbeat_ms = l->hold_hb_ms,
                   .login_timeout_ms = 10000};
    if (!(l->hold = hold_start(&o)))
        return -1;
    int64_t last_hb = mono_ns();
    uint32_t part = 0;
    while (!hold_logins_done(l->hold)) {
        if (mono_ns() - last_hb > 100000000) {
            heartbeat_some(l, part);
            part = (part + 1) % 10;
            last_hb = mono_ns();
        }
        poll_reports(l, 20000000);
    }
    hold_get(l->hold, &l->hs);
    if (l->hs.failed)
        arg_error("load: %llu of %u held sessions not logged in (no more were tried after the first "
                  "failure); first: %s",
                  (unsigned long long)l->hs.failed, o.count, l->hs.first_error);
    if (!l->json)
        fprintf(stderr, "bourse: load: %llu more sessions held by %u thread%s, logged in in %.2f s\n",
                (unsigned long long)l->hs.logged_in, l->hs.threads, l->hs.threads == 1 ? "" : "s",
                l->hs.login_seconds);
    return 0;
}

int load_main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--proto") && !strcmp(argv[i + 1], "fix"))
            return load_fix_main(argc, argv); /* fixload.c */
        else if (!strcmp(argv[i], "--proto") && !strcmp(argv[i + 1], "http"))
            return load_http_main(argc, argv); /* httpload.c */
    static load l;
    l.host = "127.0.0.1";
    l.seconds = 10;
    l.hold_hb_ms = 1000;
    int rc = parse(&l, argc, argv);
    if (rc)
        return rc;
    /* A server that dies (the crash test kills it) must show up as
     * disconnects and a report, not end this process silently at its
     * next write. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, ask_stop);
    signal(SIGTERM, ask_stop);
    uint32_t per_thread = hold_room(l.sessions, l.main_cap, &l.nmain);
    l.rng = (uint64_t)mono_ns() | 1;
    prctl(PR_SET_TIMERSLACK, 1000UL); /* sleep to the microsecond, not 50 */
    snprintf(l.prefix, sizeof l.prefix, "%05llx", (unsigned long long)(time(NULL) & 0xfffff));
    l.total = (uint64_t)((double)l.rate * l.seconds);
    l.due = calloc(l.total + 1, sizeof *l.due);
    l.kind = calloc(l.total + 1, 1);
    l.flags = calloc(l.total + 1, 1);
    l.s = calloc(l.nmain, sizeof *l.s);
    l.dirty = calloc(l.nmain, sizeof *l.dirty);
    l.ep = epoll_create1(EPOLL_CLOEXEC);
    if (!l.due || !l.kind || !l.flags || !l.s || !l.dirty || l.ep < 0) {
        arg_error("load: out of memory");
        return 1;
    }
    hist_init(&l.rtt_ack);
    hist_init(&l.rtt_exec);
    hist_init(&l.echo);
    hist_init(&l.echo_open);
    hist_init(&l.lag);
    echo_baseline(l.nmain < 64 ? l.nmain : 64, l.rate, &l.echo, &l.echo_open);
    if (setup(&l) != 0)
        return 1;
    long rss0 = load_server_rss_kb(l.dir);
    int64_t t0 = mono_ns();
    if (l.procs > 1)
        return load_procs(&l, rss0); /* procs.c: the run over several processes */
    load_pin(&l, 0);
    if (load_connect_all(&l) != 0)
        return 1;
    if (l.nmain < l.sessions && hold_all(&l, per_thread) != 0)
        return 1;
    l.login_secs = (double)(mono_ns() - t0) / 1e9;
    long rss1 = load_server_rss_kb(l.dir); /* with every session logged in */
    load_stages_reset(&l);                 /* the server's stage clocks: this run's orders only */
    t0 = mono_ns();
    load_run(&l);
    double secs = (double)(mono_ns() - t0) / 1e9;
    load_stages_read(&l);
    long rss2 = load_server_rss_kb(l.dir);
    if (l.hold) {
        hold_stop(l.hold, &l.hs);
        l.errors += l.hs.failed;
        l.disconnects += l.hs.disconnects;
    }
    load_report(&l, secs, rss0, rss1, rss2);
    if (l.acked_path)
        write_acked(&l);
    for (uint32_t i = 0; i < l.nmain; i++) {
        close(l.s[i].fd);
        free(l.s[i].out);
    }
    return l.errors || l.disconnects ? 1 : 0;
}
