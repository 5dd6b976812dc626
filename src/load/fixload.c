/*
 * fixload.c - `bourse load --proto fix`: the FIX round trip beside the OUCH
 * round trip and the TCP echo, measured in one run against one server.
 *
 * One open-loop workload goes over both protocols at once, interleaved:
 * N OUCH sessions and N FIX sessions, each of its own user; request i is
 * due at start + i/R whether or not earlier ones were answered, and its
 * round trip is measured from that due time (no coordinated omission).
 * Requests come in pairs on one session: a passive limit buy of 1 share
 * below the market (it rests), then its cancel, so the books stay empty
 * however long it runs; pair k goes over OUCH when k is even and FIX when
 * it is odd, so each protocol carries half the rate and whatever else the
 * host is doing falls on both alike (on a shared machine, protocols run one
 * after the other compared the host's moods more than the protocols).  A
 * round trip ends at the order's acknowledgement (OUCH Accepted, FIX
 * ExecutionReport 150=0) or the cancel's (OUCH Canceled, FIX 150=4).  The echo baseline is
 * echo.c's, run first.  Last, the FIX codec alone: how many NewOrderSingles
 * one thread frames and parses per second (fix_frame + fix_parse + the
 * getters the gateway reads), which bounds what one gateway thread can take.
 *
 * A smaller tool than load.c (one thread, blocking logins, no holder
 * threads; the requests due are written once per turn of its loop, one
 * write per session): it measures the protocol's cost, not the server's
 * capacity.
 */
#include "bench/hist.h"
#include "load/echo.h"
#include "load/load.h"
#include "net/adminsock.h"
#include "net/fix.h"
#include "net/ouchclient.h"
#include "net/tcp.h"
#include "server/passwd.h"
#include "util/args.h"
#include "util/clock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { P_OUCH, P_FIX };
enum { INBUF = 1 << 16, MAXS = 64, OUT_MAX = 1024 };

typedef struct fsess {
    int fd;
    int proto;
    char name[17];
    uint64_t seq; /* FIX: next MsgSeqNum to send */
    uint8_t in[INBUF];
    uint8_t out[INBUF]; /* requests due, written once per turn of the loop */
    size_t out_len;
    size_t have;
} fsess;

typedef struct frun {
    const char *dir, *sym;
    uint16_t oport, fport;
    uint32_t n;
    uint64_t rate, total;
    double seconds;
    char prefix[8];
    int64_t *due;
    uint8_t *done;
    uint64_t answered, rejects;
    hist rtt[2];              /* by protocol */
    uint64_t got[2], want[2]; /* answered, requests, by protocol */
    fsess s[MAXS];            /* n OUCH sessions, then n FIX sessions */
    int64_t now;
} frun;

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void name_of(uint32_t u, char *out)
{
    snprintf(out, 17, "fixload%02u", u % MAXS);
}

static int setup(frun *r)
{
    int fd = admin_connect(r->dir);
    if (fd < 0) {
        arg_error("load: cannot reach %s/admin.sock: is the server running?", r->dir);
        return -1;
    }
    FILE *w = fdopen(dup(fd), "w"), *rd = fdopen(fd, "r");
    uint32_t cmds = 0;
    for (uint32_t u = 0; u < 2 * r->n; u++) {
        char name[17];
        name_of(u, name);
        fprintf(w, "user %s\ndeposit %s CASH 100000000000\n", name, name);
        cmds += 2;
    }
    fflush(w);
    if (load_setup_answers(rd, cmds) != 0)
        return -1;
    fclose(w);
    fclose(rd);
    const char *names[MAXS], *pws[MAXS];
    char buf[MAXS][17];
    for (uint32_t u = 0; u < 2 * r->n; u++) {
        name_of(u, buf[u]);
        names[u] = buf[u];
        pws[u] = "load-password";
    }
    char err[300];
    if (passwd_set(r->dir, names, pws, 2 * r->n, PASSWD_FAST, err, sizeof err) != 0) {
        arg_error("load: passwords: %s", err);
        return -1;
    }
    return 0;
}

/* --- FIX framing ---------------------------------------------------------- */

static size_t fix_msg_out(fsess *s, char *buf, size_t cap, const char *type, const bourse_cmd *c)
{
    fix_writer w;
    fix_begin(&w, buf, cap, type);
    fix_puts(&w, 49, s->name);
    fix_puts(&w, 56, "BOURSE");
    fix_put_int(&w, 34, (int64_t)s->seq++);
    fix_put_time(&w, 52, wall_ns());
    if (c && c->type == BOURSE_CMD_ORDER) {
        fix_put(&w, 11, c->oid.s, strnlen(c->oid.s, BOURSE_NAME_LEN));
        fix_put(&w, 55, c->symbol_name.s, strnlen(c->symbol_name.s, BOURSE_SYMBOL_LEN));
        fix_puts(&w, 54, "1");
        fix_put_time(&w, 60, wall_ns());
        fix_put_int(&w, 38, c->qty);
        fix_puts(&w, 40, "2");
        fix_put_decimal(&w, 44, c->price);
        fix_puts(&w, 59, "0");
    } else if (c) {
        fix_put(&w, 11, c->new_oid.s, strnlen(c->new_oid.s, BOURSE_NAME_LEN));
        fix_put(&w, 41, c->oid.s, strnlen(c->oid.s, BOURSE_NAME_LEN));
        fix_put(&w, 55, c->symbol_name.s, strnlen(c->symbol_name.s, BOURSE_SYMBOL_LEN));
        fix_puts(&w, 54, "1");
        fix_put_time(&w, 60, wall_ns());
    }
    const char *start;
    size_t n = fix_end(&w, &start);
    memmove(buf, start, n);
    return n;
}

/* --- sessions ------------------------------------------------------------- */

static int await(int fd, uint8_t *buf, size_t *have, size_t want, size_t cap)
{
    while (*have < want) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0)
            return -1;
        ssize_t k = read(fd, buf + *have, cap - *have);
        if (k <= 0)
            return -1;
        *have += (size_t)k;
    }
    return 0;
}

static int login(frun *r, fsess *s, uint32_t u, int proto)
{
    name_of(u, s->name);
    s->proto = proto;
    s->fd = tcp_connect("127.0.0.1", proto == P_FIX ? r->fport : r->oport, NULL, 0);
    if (s->fd < 0) {
        arg_error("load: connect: %s", strerror(errno));
        return -1;
    }
    s->have = 0;
    s->out_len = 0;
    s->seq = 1;
    if (proto == P_OUCH) {
        soup_login lg = {0};
        snprintf(lg.user, sizeof lg.user, "%s", s->name);
        snprintf(lg.password, sizeof lg.password, "load-password");
        uint8_t b[128];
        if (tcp_write_all(s->fd, b, soup_login_write(b, &lg)) != 0 ||
            await(s->fd, s->in, &s->have, 2 + SOUP_ACCEPTED_LEN, 2 + SOUP_ACCEPTED_LEN) != 0 ||
            s->in[2] != SOUP_LOGIN_ACCEPTED) {
            arg_error("load: %s: OUCH login refused", s->name);
            return -1;
        }
        s->have = 0;
    } else {
        char b[512];
        fix_writer w;
        fix_begin(&w, b, sizeof b, "A");
        fix_puts(&w, 49, s->name);
        fix_puts(&w, 56, "BOURSE");
        fix_put_int(&w, 34, (int64_t)s->seq++);
        fix_put_time(&w, 52, wall_ns());
        fix_puts(&w, 98, "0");
        fix_puts(&w, 108, "30");
        fix_puts(&w, 141, "Y");
        fix_puts(&w, 553, s->name);
        fix_puts(&w, 554, "load-password");
        const char *m;
        size_t n = fix_end(&w, &m);
        size_t skip;
        const char *why;
        if (tcp_write_all(s->fd, m, n) != 0 || await(s->fd, s->in, &s->have, 20, sizeof s->in) != 0) {
            arg_error("load: %s: FIX logon refused", s->name);
            return -1;
        }
        long k;
        while ((k = fix_frame((char *)s->in, s->have, sizeof s->in, &skip, &why)) == FIX_MORE)
            if (await(s->fd, s->in, &s->have, s->have + 1, sizeof s->in) != 0)
                return -1;
        if (k <= 0 || !strstr((char *)s->in, "\00135=A\001")) {
            arg_error("load: %s: FIX logon not answered with a Logon", s->name);
            return -1;
        }
        memmove(s->in, s->in + k, s->have - (size_t)k);
        s->have -= (size_t)k;
    }
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return 0;
}

/* --- requests and answers ------------------------------------------------- */

static void oid_of(const frun *r, char kind, uint64_t k, bourse_name *out)
{
    char t[48];
    int n = snprintf(t, sizeof t, "%s%c%llu", r->prefix, kind, (unsigned long long)k);
    memset(out, 0, sizeof *out);
    memcpy(out->s, t, n < BOURSE_NAME_LEN ? (size_t)n : BOURSE_NAME_LEN);
}

/* Pair k (requests 2k, 2k+1) goes over OUCH when k is even, FIX when odd. */
static int proto_of(uint64_t i)
{
    return (int)((i / 2) % 2);
}

static void answered(frun *r, uint64_t i)
{
    if (i < r->total && !r->done[i]) {
        r->done[i] = 1;
        r->answered++;
        r->got[proto_of(i)]++;
        hist_record(&r->rtt[proto_of(i)], (uint64_t)(r->now - r->due[i]));
    }
}

/* The request number a token or ClOrdID answers, or UINT64_MAX. */
static uint64_t request_of(const frun *r, const char *id, size_t n, int cancel)
{
    size_t p = strlen(r->prefix);
    if (n <= p + 1 || memcmp(id, r->prefix, p))
        return UINT64_MAX;
    uint64_t k = 0;
    for (size_t i = p + 1; i < n && id[i] >= '0' && id[i] <= '9'; i++)
        k = k * 10 + (uint64_t)(id[i] - '0');
    return 2 * k + (cancel ? 1 : 0);
}

static void on_ouch(void *ctx, const ouch_report *rep, const soup_packet *p)
{
    (void)p;
    frun *r = ctx;
    if (!rep)
        return;
    size_t n = strnlen(rep->token.s, BOURSE_NAME_LEN);
    if (rep->type == OUCH_ACCEPTED)
        answered(r, request_of(r, rep->token.s, n, 0));
    else if (rep->type == OUCH_CANCELED)
        answered(r, request_of(r, rep->token.s, n, 1));
    else if (rep->type == OUCH_REJECTED)
        r->rejects++;
}

static int take(frun *r, fsess *s)
{
    ssize_t k = read(s->fd, s->in + s->have, sizeof s->in - s->have);
    if (k <= 0)
        return -1;
    s->have += (size_t)k;
    if (s->proto == P_OUCH)
        return ouch_client_take(s->in, &s->have, on_ouch, r) < 0 ? -1 : 0;
    size_t off = 0;
    for (;;) {
        size_t skip;
        const char *why;
        long m = fix_frame((char *)s->in + off, s->have - off, sizeof s->in, &skip, &why);
        if (m == FIX_MORE)
            break;
        if (m < 0)
            return -1;
        fix_msg f;
        fix_error e;
        if (fix_parse((char *)s->in + off, (size_t)m, &f, &e) == 0 && fix_is(&f, 35, "8")) {
            size_t n;
            const char *id = fix_get(&f, 11, &n);
            if (id && fix_is(&f, 150, "0"))
                answered(r, request_of(r, id, n, 0));
            else if (id && fix_is(&f, 150, "4"))
                answered(r, request_of(r, id, n, 1));
            else if (fix_is(&f, 150, "8"))
                r->rejects++;
        } else if (fix_is(&f, 35, "1")) {
            /* a TestRequest: answer it so the session stays up */
            char b[256];
            size_t il;
            const char *id = fix_get(&f, 112, &il);
            fix_writer w;
            fix_begin(&w, b, sizeof b, "0");
            fix_puts(&w, 49, s->name);
            fix_puts(&w, 56, "BOURSE");
            fix_put_int(&w, 34, (int64_t)s->seq++);
            fix_put_time(&w, 52, wall_ns());
            if (id)
                fix_put(&w, 112, id, il);
            const char *out;
            size_t on = fix_end(&w, &out);
            if (tcp_write_all(s->fd, out, on) != 0)
                return -1;
        }
        off += (size_t)m;
    }
    memmove(s->in, s->in + off, s->have - off);
    s->have -= off;
    return 0;
}

static int send_request(frun *r, uint64_t i)
{
    uint64_t k = i / 2;
    int proto = proto_of(i);
    fsess *s = &r->s[(uint32_t)proto * r->n + (k / 2) % r->n];
    bourse_cmd c = {.type = i % 2 ? BOURSE_CMD_CANCEL : BOURSE_CMD_ORDER, .side = BOURSE_BUY, .qty = 1};
    c.price = 10000 + (int64_t)(k % 100) * 100; /* 1.00 to 1.99: far below any market here */
    memcpy(c.symbol_name.s, r->sym, strnlen(r->sym, BOURSE_SYMBOL_LEN));
    oid_of(r, 'o', k, &c.oid);
    oid_of(r, 'c', k, &c.new_oid);
    uint8_t buf[OUT_MAX];
    size_t n = proto == P_OUCH ? ouch_client_frame(buf, &c)
                               : fix_msg_out(s, (char *)buf, sizeof buf, i % 2 ? "F" : "D", &c);
    if (s->out_len + n > sizeof s->out) {
        if (tcp_write_all(s->fd, s->out, s->out_len) != 0)
            return -1;
        s->out_len = 0;
    }
    memcpy(s->out + s->out_len, buf, n);
    s->out_len += n;
    return 0;
}

static int flush(frun *r)
{
    for (uint32_t u = 0; u < 2 * r->n; u++) {
        fsess *s = &r->s[u];
        if (s->out_len && tcp_write_all(s->fd, s->out, s->out_len) != 0)
            return -1;
        s->out_len = 0;
    }
    return 0;
}

static int run(frun *r)
{
    snprintf(r->prefix, sizeof r->prefix, "%04llxL", (unsigned long long)(wall_ns() / 1000000) & 0xffff);
    for (int p = 0; p < 2; p++) {
        hist_init(&r->rtt[p]);
        r->got[p] = r->want[p] = 0;
    }
    for (uint64_t i = 0; i < r->total; i++)
        r->want[proto_of(i)]++;
    r->answered = r->rejects = 0;
    memset(r->done, 0, r->total);
    uint32_t ns = 2 * r->n;
    for (uint32_t u = 0; u < ns; u++)
        if (login(r, &r->s[u], u, u < r->n ? P_OUCH : P_FIX) != 0)
            return -1;
    int64_t t0 = mono_ns() + 20000000;
    for (uint64_t i = 0; i < r->total; i++)
        r->due[i] = t0 + (int64_t)((double)i * 1e9 / (double)r->rate);
    uint64_t i = 0;
    struct pollfd p[MAXS];
    for (uint32_t u = 0; u < ns; u++)
        p[u] = (struct pollfd){.fd = r->s[u].fd, .events = POLLIN};
    int64_t end = r->due[r->total - 1] + 5000000000LL;
    while ((i < r->total || r->answered < r->total) && (r->now = mono_ns()) < end) {
        while (i < r->total && r->due[i] <= r->now) {
            if (send_request(r, i) != 0) {
                arg_error("load: a session closed while sending");
                return -1;
            }
            i++;
        }
        if (flush(r) != 0) {
            arg_error("load: a session closed while sending");
            return -1;
        }
        int64_t wait = i < r->total ? r->due[i] - mono_ns() : 1000000;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = wait > 0 ? wait : 0};
        if (ppoll(p, ns, &ts, NULL) <= 0)
            continue;
        r->now = mono_ns();
        for (uint32_t u = 0; u < ns; u++)
            if (p[u].revents && take(r, &r->s[u]) != 0) {
                arg_error("load: %s: the session closed", r->s[u].name);
                return -1;
            }
    }
    for (uint32_t u = 0; u < ns; u++)
        close(r->s[u].fd);
    return 0;
}

/* The codec alone: NewOrderSingles framed and parsed per second. */
static double parse_rate(void)
{
    fsess s = {.seq = 1};
    snprintf(s.name, sizeof s.name, "fixload0");
    bourse_cmd c = {.type = BOURSE_CMD_ORDER, .qty = 100, .price = 1505000};
    memcpy(c.oid.s, "o12345678", 9);
    memcpy(c.symbol_name.s, "AAPL", 4);
    char buf[512];
    size_t n = fix_msg_out(&s, buf, sizeof buf, "D", &c);
    uint64_t reps = 2000000, sink = 0;
    int64_t t0 = mono_ns();
    for (uint64_t k = 0; k < reps; k++) {
        size_t skip;
        const char *why;
        fix_msg f;
        fix_error e;
        int64_t px = 0, qty = 0;
        long m = fix_frame(buf, n, 8192, &skip, &why);
        if (m > 0 && fix_parse(buf, (size_t)m, &f, &e) == 0) {
            fix_get_decimal(&f, 44, 4, BOURSE_PRICE_MAX, &px);
            fix_get_decimal(&f, 38, 0, BOURSE_QTY_MAX, &qty);
            sink += (uint64_t)(px + qty) + f.n;
        }
    }
    int64_t dt = mono_ns() - t0;
    return sink ? (double)reps * 1e9 / (double)dt : 0;
}

int load_fix_main(int argc, char **argv)
{
    static frun r;
    r.n = 4;
    r.rate = 10000;
    r.seconds = 5;
    r.sym = "AAPL";
    int fport = -1, oport = 9001;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--proto")) {
            i++;
        } else if (!strcmp(a, "--data") && v) {
            r.dir = v;
            i++;
        } else if (!strcmp(a, "--fix-port") && v) {
            fport = atoi(v);
            i++;
        } else if (!strcmp(a, "--order-port") && v) {
            oport = atoi(v);
            i++;
        } else if (!strcmp(a, "--sessions") && v) {
            r.n = (uint32_t)atoi(v);
            i++;
        } else if (!strcmp(a, "--rate") && v) {
            r.rate = (uint64_t)atoll(v);
            i++;
        } else if (!strcmp(a, "--seconds") && v) {
            r.seconds = atof(v);
            i++;
        } else if (!strcmp(a, "--symbol") && v) {
            r.sym = v;
            i++;
        } else {
            arg_error("load --proto fix: unknown option '%s' (--data DIR --fix-port P --order-port P "
                      "--sessions N --rate R --seconds S --symbol SYM)",
                      a);
            return 2;
        }
    }
    if (!r.dir || fport <= 0 || oport <= 0 || r.n < 1 || r.n > MAXS / 2 || r.rate < 4 || r.seconds <= 0) {
        arg_error("load --proto fix: needs --data DIR and --fix-port P; 1-%d sessions, a rate of 4 or more",
                  MAXS / 2);
        return 2;
    }
    r.fport = (uint16_t)fport;
    r.oport = (uint16_t)oport;
    r.total = (uint64_t)((double)r.rate * r.seconds) & ~3ULL; /* whole pairs of pairs: half each */
    r.due = calloc(r.total + 1, sizeof *r.due);
    r.done = calloc(r.total + 1, 1);
    if (!r.due || !r.done || r.total < 4)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    if (setup(&r) != 0)
        return 1;
    hist pp, ol;
    hist_init(&pp);
    hist_init(&ol);
    echo_baseline(r.n, r.rate, &pp, &ol);
    printf("load --proto fix: %u OUCH and %u FIX sessions, %llu requests/s in all for %.1f s (order + cancel "
           "pairs, open loop, half over each protocol, interleaved)\n",
           r.n, r.n, (unsigned long long)r.rate, r.seconds);
    hist_print_line("tcp echo (ping-pong)", "answered", &pp, pp.count, pp.count);
    hist_print_line("tcp echo (open loop)", "answered", &ol, ol.count, ol.count);
    if (run(&r) != 0)
        return 1;
    hist_print_line("ouch round trip", "answered", &r.rtt[P_OUCH], r.got[P_OUCH], r.want[P_OUCH]);
    hist_print_line("fix round trip", "answered", &r.rtt[P_FIX], r.got[P_FIX], r.want[P_FIX]);
    int rc = 0;
    if (r.rejects)
        printf("  %llu orders rejected (is %s listed, without a price band?)\n",
               (unsigned long long)r.rejects, r.sym);
    if (r.answered < r.total || r.rejects)
        rc = 1;
    if (r.got[P_OUCH] && r.got[P_FIX])
        printf("fix / ouch: p50 %.2fx  p99 %.2fx\n",
               (double)hist_percentile(&r.rtt[P_FIX], 50) / (double)hist_percentile(&r.rtt[P_OUCH], 50),
               (double)hist_percentile(&r.rtt[P_FIX], 99) / (double)hist_percentile(&r.rtt[P_OUCH], 99));
    printf("fix codec: %.0f NewOrderSingles/s framed and parsed by one thread\n", parse_rate());
    return rc;
}
