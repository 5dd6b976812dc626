/*
 * feed.c - `bourse feed bench`: what market data costs and sustains.
 *
 *   publisher   the publisher's logic alone (publish.c plus framing into a
 *               history buffer) over the records of a whole workload, as
 *               fast as it goes: records/s and messages/s;
 *   engine      the engine over the same workload with an empty event
 *               callback, alone, then beside a thread that only burns CPU
 *               (the control: what any busy second thread costs on this
 *               machine), then with the feed on (feed_push into the ring,
 *               the feed thread running); alternating, median of --runs;
 *   fan-out     for each N of --subscribers: a child process opens N
 *               WebSocket connections to the feed (each subscribes to the
 *               l1 channel of one symbol), the engine runs the workload at
 *               --rate commands/s stamping ts_ns with the wall clock, and
 *               the child counts messages and their latency: receipt time
 *               minus the `ts` in the message, i.e. from the engine's event
 *               to the subscriber, through ring, publisher, lws and TCP.
 *
 * The numbers depend on a shared 2-core machine: compare within one run.
 */
#include "feed/feed.h"
#include "bench/bench.h"
#include "bench/hist.h"
#include "bench/workload.h"
#include "bourse/bourse.h"
#include "feed/publish.h"
#include "feed/wsclient.h"
#include "util/args.h"
#include "util/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the workload's events as records ------------------------------------ */

typedef struct recs {
    feed_rec *r;
    size_t n, cap;
} recs;

static void rec_add(recs *v, const feed_rec *r)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 1 << 20;
        v->r = realloc(v->r, v->cap * sizeof *v->r);
        if (!v->r) {
            arg_error("feed bench: out of memory");
            exit(1);
        }
    }
    v->r[v->n++] = *r;
}

static void collect(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    feed_rec r;
    if (feed_rec_make(&r, cmd, ev))
        rec_add(ctx, &r);
}

/* The end of a command: marked on its last record, as feed_push does. */
static void collect_end(recs *v, size_t before)
{
    if (v->n > before)
        v->r[v->n - 1].end = 1;
}

/* Setup commands (passive orders) end with each event. */
static void collect_setup(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    recs *v = ctx;
    size_t before = v->n;
    collect(ctx, cmd, ev);
    collect_end(v, before);
}

static void push_setup(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    feed_push(ctx, cmd, ev);
    feed_push(ctx, cmd, NULL);
}

static void push_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    feed_push(ctx, cmd, ev);
}

static void no_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    (void)ctx, (void)cmd, (void)ev;
}

static bourse_engine *fresh(const workload *w, bourse_event_fn fn, void *ctx)
{
    bourse_engine *e = bourse_engine_new(&w->limits);
    if (!e || workload_setup(w, e, fn, ctx) != 0) {
        arg_error("feed bench: workload setup failed");
        exit(1);
    }
    return e;
}

/* ---- publisher alone ------------------------------------------------------ */

typedef struct sink {
    uint8_t *buf;
    size_t mask, head;
    uint64_t msgs;
} sink;

static void sink_msg(void *ctx, const itch_msg *m)
{
    sink *s = ctx;
    uint8_t pkt[3 + ITCH_MAX];
    size_t n = itch_encode(m, pkt + 3);
    pkt[0] = (uint8_t)((n + 1) >> 8), pkt[1] = (uint8_t)(n + 1), pkt[2] = 'S';
    for (size_t i = 0; i < n + 3; i++)
        s->buf[(s->head + i) & s->mask] = pkt[i];
    s->head += n + 3;
    s->msgs++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void bench_publisher(const workload *w, int runs)
{
    recs v = {0};
    bourse_engine *e = fresh(w, collect_setup, &v);
    size_t setup = v.n;
    for (uint64_t i = 0; i < w->n; i++) {
        bourse_cmd c = w->cmds[i];
        c.seq = i + 1;
        c.ts_ns = (int64_t)i * 1000;
        size_t before = v.n;
        bourse_engine_apply(e, &c, collect, &v);
        collect_end(&v, before);
    }
    bourse_engine_free(e);
    double rps[16], mps[16];
    uint64_t msgs = 0, errors = 0;
    sink s = {.buf = malloc(1 << 26), .mask = (1 << 26) - 1};
    for (int r = 0; r < runs; r++) {
        pub p;
        pub_init(&p, 256, sink_msg, &s);
        for (size_t i = 0; i < setup; i++)
            pub_apply(&p, &v.r[i]);
        s.msgs = 0;
        uint64_t t0 = mono_ns();
        for (size_t i = setup; i < v.n; i++)
            pub_apply(&p, &v.r[i]);
        double sec = (double)(mono_ns() - t0) / 1e9;
        rps[r] = (double)(v.n - setup) / sec;
        mps[r] = (double)s.msgs / sec;
        msgs = s.msgs;
        errors = p.errors;
        pub_free(&p);
    }
    printf("publisher: %llu records (one per published event) -> %llu messages; %.2fM records/s, %.2fM "
           "messages/s (median of %d)%s\n",
           (unsigned long long)(v.n - setup), (unsigned long long)msgs, median(rps, runs) / 1e6,
           median(mps, runs) / 1e6, runs, errors ? "  ERRORS" : "");
    free(s.buf);
    free(v.r);
}

/* ---- engine with and without the feed ------------------------------------- */

static double engine_run(const workload *w, feed *f)
{
    bourse_engine *e = fresh(w, f ? push_setup : NULL, f);
    uint64_t t0 = mono_ns();
    for (uint64_t i = 0; i < w->n; i++) {
        bourse_cmd c = w->cmds[i];
        c.seq = i + 1;
        c.ts_ns = (int64_t)i * 1000;
        if (f) {
            bourse_engine_apply(e, &c, push_event, f);
            feed_push(f, &c, NULL);
        } else {
            bourse_engine_apply(e, &c, no_event, NULL);
        }
    }
    double sec = (double)(mono_ns() - t0) / 1e9;
    bourse_engine_free(e);
    return (double)w->n / sec;
}

/* The control: a thread that only burns CPU, sharing no memory with the
 * engine.  On a machine whose two CPUs are siblings (or oversubscribed),
 * any busy second thread slows the first; this shows how much. */
static atomic_int spin_stop;
static volatile uint64_t spin_sink;

static void *spinner(void *arg)
{
    uint64_t x = 1;
    (void)arg;
    while (!atomic_load_explicit(&spin_stop, memory_order_relaxed)) {
        for (int i = 0; i < 1000; i++)
            x = x * 6364136223846793005ULL + 1;
        spin_sink = x;
    }
    return NULL;
}

static void bench_engine(const workload *w, int runs)
{
    double off[16], spin[16], on[16], push[16];
    uint64_t waits = 0, errors = 0;
    for (int r = 0; r < runs; r++) {
        off[r] = engine_run(w, NULL);
        /* The producer's own cost: records into a ring big enough for the
         * whole run, the feed thread not started. */
        feed_config big = {
            .feed_port = -1, .http_port = -1, .quiet = 1, .ring = (uint32_t)(w->n * 2 + (1 << 20))};
        feed *pf = feed_new(&big);
        if (!pf)
            exit(1);
        push[r] = engine_run(w, pf);
        feed_free(pf);
        pthread_t t;
        atomic_store(&spin_stop, 0);
        pthread_create(&t, NULL, spinner, NULL);
        spin[r] = engine_run(w, NULL);
        atomic_store(&spin_stop, 1);
        pthread_join(t, NULL);
        feed_config cfg = {.feed_port = -1, .http_port = -1, .quiet = 1};
        feed *f = feed_new(&cfg);
        if (!f || feed_start(f) != 0)
            exit(1);
        on[r] = engine_run(w, f);
        feed_stop(f);
        feed_stats st;
        feed_get_stats(f, &st);
        waits += st.engine_waits;
        errors += st.errors;
        feed_free(f);
    }
    double a = median(off, runs), c = median(spin, runs), b = median(on, runs), d = median(push, runs);
    printf(
        "engine: %.2fM commands/s alone; %.2fM pushing to the feed's ring with no feed thread (%+.1f%%: the "
        "engine thread's own cost); %.2fM beside a CPU-burning thread (%+.1f%%: the control); %.2fM with the "
        "feed running (%+.1f%% vs alone, %+.1f%% vs the control); ring full %llu times%s (median of %d, "
        "alternating)\n",
        a / 1e6, d / 1e6, (d - a) / a * 100, c / 1e6, (c - a) / a * 100, b / 1e6, (b - a) / a * 100,
        (b - c) / c * 100, (unsigned long long)waits, errors ? "  ERRORS" : "", runs);
}

/* ---- fan-out ---------------------------------------------------------------- */

typedef struct conn {
    int fd, ready;
    size_t len;
    uint8_t buf[8192];
} conn;

typedef struct fan_result {
    uint64_t msgs, conns, elapsed_ns;
    hist lat;
} fan_result;

static int connect_one(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char req[256];
    int n = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* Returns -1 when the connection is gone. */
static int on_readable(conn *c, int nsyms, int idx, fan_result *res, int measuring)
{
    for (;;) {
        ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (r <= 0)
            return -1;
        c->len += (size_t)r;
        size_t off = 0;
        if (!c->ready) {
            uint8_t *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
            if (!end)
                continue;
            off = (size_t)(end + 4 - c->buf);
            char sub[128], name[16];
            snprintf(name, sizeof name, "S%d", idx % nsyms);
            int n = snprintf(sub, sizeof sub, "{\"op\":\"subscribe\",\"channel\":\"l1\",\"symbol\":\"%s\"}",
                             name);
            uint8_t frame[160];
            size_t fl = ws_frame_write(frame, WS_OP_TEXT, sub, (size_t)n);
            if (write(c->fd, frame, fl) != (ssize_t)fl)
                return -1;
            c->ready = 1;
        }
        int64_t now = real_ns();
        for (;;) {
            int op;
            const uint8_t *p;
            size_t pl;
            long n = ws_frame(c->buf + off, c->len - off, &op, &p, &pl);
            if (n < 0)
                return -1;
            if (n == 0)
                break;
            off += (size_t)n;
            if (c->ready == 1)
                c->ready = 2; /* the snapshot */
            const uint8_t *ts = memmem(p, pl, "\"ts\":", 5);
            if (measuring && ts) {
                int64_t t = strtoll((const char *)ts + 5, NULL, 10);
                hist_record(&res->lat, now > t ? (uint64_t)(now - t) : 0);
                res->msgs++;
            }
        }
        memmove(c->buf, c->buf + off, c->len - off);
        c->len -= off;
    }
}

/* The child: N subscribers; ready -> write(ready_fd); measure until stop_fd
 * closes; result -> write(ready_fd). */
static void fan_child(int port, int n, int nsyms, int ready_fd, int stop_fd)
{
    conn *cs = calloc((size_t)n, sizeof *cs);
    int ep = epoll_create1(0);
    fan_result res = {0};
    hist_init(&res.lat);
    for (int i = 0; i < n; i++) {
        cs[i].fd = connect_one(port);
        if (cs[i].fd < 0)
            continue;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
        res.conns++;
    }
    struct epoll_event stop_ev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    epoll_ctl(ep, EPOLL_CTL_ADD, stop_fd, &stop_ev);
    struct epoll_event evs[512];
    int ready = 0, measuring = 0;
    uint64_t t0 = 0, waited = mono_ns();
    for (;;) {
        int k = epoll_wait(ep, evs, 512, 100);
        for (int i = 0; i < k; i++) {
            if (evs[i].data.u32 == UINT32_MAX) {
                res.elapsed_ns = mono_ns() - t0;
                (void)!write(ready_fd, &res, sizeof res);
                _exit(0);
            }
            conn *c = &cs[evs[i].data.u32];
            int was = c->ready;
            if (on_readable(c, nsyms, (int)evs[i].data.u32, &res, measuring) < 0) {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                res.conns--;
            }
            ready += was < 2 && c->ready == 2;
        }
        if (!measuring && (ready >= (int)res.conns || mono_ns() - waited > 30000000000ull)) {
            measuring = 1;
            t0 = mono_ns();
            char b = 1;
            (void)!write(ready_fd, &b, 1);
        }
    }
}

static void bench_fanout(const workload *w, int n, uint64_t rate, int seconds)
{
    feed_config cfg = {.feed_port = -1, .http_port = 0, .quiet = 1, .max_subscribers = (uint32_t)n + 100};
    feed *f = feed_new(&cfg);
    if (!f || feed_start(f) != 0)
        exit(1);
    bourse_engine *e = fresh(w, push_setup, f);
    int ready[2], stop[2];
    if (pipe(ready) || pipe(stop))
        exit(1);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(ready[0]);
        close(stop[1]);
        fan_child(feed_port(f, 'h'), n, (int)w->spec.symbols, ready[1], stop[0]);
        _exit(0);
    }
    close(ready[1]);
    close(stop[0]);
    char b;
    if (read(ready[0], &b, 1) != 1) {
        arg_error("feed bench: the subscribers did not start");
        exit(1);
    }
    /* The engine at `rate` commands/s, open loop. */
    uint64_t t0 = mono_ns(), end = t0 + (uint64_t)seconds * 1000000000u, i = 0;
    while ((uint64_t)mono_ns() < end && i < w->n) {
        uint64_t due = t0 + i * 1000000000u / rate;
        while ((uint64_t)mono_ns() < due)
            ;
        bourse_cmd c = w->cmds[i];
        c.seq = ++i;
        c.ts_ns = real_ns();
        bourse_engine_apply(e, &c, push_event, f);
        feed_push(f, &c, NULL);
    }
    double engine_sec = (double)(mono_ns() - t0) / 1e9;
    usleep(200000); /* let the last updates arrive */
    close(stop[1]);
    fan_result res;
    ssize_t got = 0;
    while (got < (ssize_t)sizeof res) {
        ssize_t r = read(ready[0], (char *)&res + got, sizeof res - (size_t)got);
        if (r <= 0)
            break;
        got += r;
    }
    waitpid(pid, NULL, 0);
    feed_stats st;
    feed_get_stats(f, &st);
    if (got == (ssize_t)sizeof res) {
        double sec = (double)res.elapsed_ns / 1e9;
        printf("fan-out %d WebSocket subscribers (%llu connected, l1): engine %.0f commands/s, %llu feed "
               "messages; "
               "subscribers got %.2fM messages/s; latency event->subscriber p50 %.0f us, p99 %.0f us, "
               "p99.9 %.0f us, max %.0f us; ring full %llu\n",
               n, (unsigned long long)res.conns, (double)i / engine_sec, (unsigned long long)st.messages,
               (double)res.msgs / sec / 1e6, hist_percentile(&res.lat, 50) / 1e3,
               hist_percentile(&res.lat, 99) / 1e3, hist_percentile(&res.lat, 99.9) / 1e3,
               (double)res.lat.max / 1e3, (unsigned long long)st.engine_waits);
    }
    bourse_engine_free(e);
    feed_free(f);
    close(ready[0]);
}

int bench_feed(int argc, char **argv)
{
    const char *wl = "exchange-core", *subs = "", *only = "";
    uint64_t messages = 1000000, rate = 100000, seconds = 5, runs = 3;
    for (int i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            arg_error("feed bench: %s needs a value", a);
            return 2;
        }
        if (!strcmp(a, "--workload"))
            wl = v;
        else if (!strcmp(a, "--only"))
            only = v;
        else if (!strcmp(a, "--subscribers"))
            subs = v;
        else if (!strcmp(a, "--messages"))
            messages = arg_number(a, v, 100000000);
        else if (!strcmp(a, "--rate"))
            rate = arg_number(a, v, 100000000);
        else if (!strcmp(a, "--seconds"))
            seconds = arg_number(a, v, 3600);
        else if (!strcmp(a, "--runs"))
            runs = arg_number(a, v, 15);
        else {
            arg_error("feed bench: unknown option '%s'", a);
            return 2;
        }
    }
    const workload_spec *spec = workload_find(wl);
    if (!spec) {
        arg_error("feed bench: unknown workload '%s'", wl);
        return 2;
    }
    if (!runs || !rate)
        runs = runs ? runs : 1, rate = rate ? rate : 1;
    signal(SIGPIPE, SIG_IGN);
    workload w;
    if (workload_build(&w, spec, messages, 1, WORKLOAD_IDS_USER, 0) != 0) {
        arg_error("feed bench: cannot build the workload");
        return 1;
    }
    printf("workload %s: %llu commands, %llu trades\n", wl, (unsigned long long)w.n,
           (unsigned long long)w.stats.trades);
    fflush(stdout);
    if (!*subs && strcmp(only, "engine"))
        bench_publisher(&w, (int)runs);
    fflush(stdout);
    if (!*subs && strcmp(only, "publisher"))
        bench_engine(&w, (int)runs);
    for (const char *p = subs; *p;) {
        int n = atoi(p);
        if (n > 0)
            bench_fanout(&w, n, rate, (int)seconds);
        p += strcspn(p, ",");
        p += *p == ',';
        fflush(stdout);
    }
    workload_free(&w);
    return 0;
}
