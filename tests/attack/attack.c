/*
 * attack.c - the attacks of issue #19, as a tool: each one run against a
 * live server on loopback, with the figures it measures printed as
 * "key=value" lines for scripts/attack.sh (the long runs, `make attack`)
 * and tests/sh/e2e_attack.sh (the bounded ones, `make test`).
 *
 *   attack flood  --port P --addrs N --inflight K --seconds S --after S2
 *                 --victim USER [--hangup] --probe USER:PW[,USER:PW...]
 *       N attacking addresses (127.0.1.1..), each keeping K logins with a
 *       wrong password in flight (or, --hangup, sending one and closing at
 *       once, over and over) for S seconds, while every 250 ms a
 *       legitimate login of each probe user from 127.0.0.1 is timed; then
 *       S2 more seconds of probes alone.  The first probe user is logged in
 *       once before the attack (its password is then known to the server).
 *   attack guess  --port P --user U --conns C --seconds S --right PW
 *       C connections guessing U's password as fast as the server answers;
 *       then the right password once.
 *   attack timing --port P --known U --unknown V --n N
 *       N wrong logins of each, alternating: the time to each answer.
 *   attack login  --port P --user U --right PW
 *       One login: login=accepted|rejected|no-answer, and its time.
 *   attack hogs   --port FEEDPORT --subs N --addrs M --hold S --pid PID
 *       N binary-feed subscribers (from M addresses 127.0.2.1..) that log
 *       in for a snapshot and never read; after S seconds the server's
 *       resident memory, how many it has cut, and the time a new subscriber
 *       takes to get its snapshot and catch up.
 */
#include "feed/itch.h"
#include "net/soup.h"
#include "net/tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host = "127.0.0.1";
static uint16_t port;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
    nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000}, NULL);
}

static soup_login login_of(const char *user, const char *pw)
{
    soup_login l = {0};
    snprintf(l.user, sizeof l.user, "%s", user);
    snprintf(l.password, sizeof l.password, "%s", pw);
    return l;
}

/* One login from `from`: 0 accepted, 'A'/'S' rejected, -1 no answer; *secs its time. */
static int try_login(const char *from, const char *user, const char *pw, int timeout_ms, double *secs)
{
    double t0 = now_s();
    int fd = tcp_connect(host, port, from, 0), r = -1;
    if (fd >= 0) {
        soup_login l = login_of(user, pw);
        char session[SOUP_SESSION_LEN + 1];
        uint64_t next;
        r = soup_client_login(fd, &l, timeout_ms, session, &next);
        if (r == 0) {
            uint8_t bye[3];
            tcp_write_all(fd, bye, soup_empty(bye, SOUP_LOGOUT_REQUEST));
        }
        close(fd);
    }
    *secs = now_s() - t0;
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
    if (!n)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int i = (int)(p * (n - 1) + 0.5);
    return v[i];
}

/* ---- flood -------------------------------------------------------------- */

typedef struct flooder {
    pthread_t t;
    char from[32];
    int inflight, hangup;
    const char *victim;
    atomic_int *stop;
    long sent;
} flooder;

static void *flood_main(void *arg)
{
    flooder *w = arg;
    int *fds = calloc((size_t)w->inflight, sizeof *fds);
    struct pollfd *p = calloc((size_t)w->inflight, sizeof *p);
    uint8_t pkt[SOUP_HEADER + SOUP_LOGIN_LEN];
    for (int i = 0; i < w->inflight; i++)
        fds[i] = -1;
    unsigned n = 0;
    while (!atomic_load(w->stop)) {
        for (int i = 0; i < w->inflight; i++) {
            if (fds[i] >= 0)
                continue;
            int fd = tcp_connect(host, port, w->from, 0);
            if (fd < 0) {
                sleep_ms(10);
                continue;
            }
            char pw[32];
            snprintf(pw, sizeof pw, "wrong%u", n++);
            soup_login l = login_of(w->victim, pw);
            if (tcp_write_all(fd, pkt, soup_login_write(pkt, &l)) == 0)
                w->sent++;
            if (w->hangup) {
                close(fd);
                continue;
            }
            fds[i] = fd;
        }
        if (w->hangup) {
            sleep_ms(1);
            continue;
        }
        for (int i = 0; i < w->inflight; i++)
            p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        if (poll(p, (nfds_t)w->inflight, 100) <= 0)
            continue;
        for (int i = 0; i < w->inflight; i++)
            if (p[i].revents) {
                close(fds[i]); /* answered (rejected) or closed: the next one */
                fds[i] = -1;
            }
    }
    for (int i = 0; i < w->inflight; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
    free(p);
    return NULL;
}

typedef struct phase {
    const char *name;
    int n, ok;
    double lat[4096];
} phase;

static void probe(phase *ph, const char *user, const char *pw)
{
    double t;
    int r = try_login("127.0.0.1", user, pw, 15000, &t);
    if (ph->n < 4096) {
        ph->ok += r == 0;
        ph->lat[ph->n++] = t;
    }
}

static void report(const char *user, phase *ph)
{
    double p50 = pct(ph->lat, ph->n, 0.5), mx = ph->n ? ph->lat[ph->n - 1] : 0; /* pct sorted it */
    printf("%s_%s_ok=%d/%d\n%s_%s_p50_ms=%.1f\n%s_%s_max_ms=%.1f\n", ph->name, user, ph->ok, ph->n, ph->name,
           user, p50 * 1e3, ph->name, user, mx * 1e3);
}

static int cmd_flood(int naddr, int inflight, double secs, double after, const char *victim, int hangup,
                     char *probes)
{
    char *users[8], *pws[8];
    int np = 0;
    for (char *tok = strtok(probes, ","); tok && np < 8; tok = strtok(NULL, ",")) {
        char *c = strchr(tok, ':');
        if (!c)
            return 2;
        *c = 0;
        users[np] = tok;
        pws[np++] = c + 1;
    }
    if (!np)
        return 2;
    double t;
    if (try_login("127.0.0.1", users[0], pws[0], 15000, &t) != 0)
        fprintf(stderr, "attack: warm-up login of %s failed\n", users[0]);
    printf("warmup_%s_ms=%.1f\n", users[0], t * 1e3);
    atomic_int stop = 0;
    flooder *w = calloc((size_t)naddr, sizeof *w);
    for (int i = 0; i < naddr; i++) {
        snprintf(w[i].from, sizeof w[i].from, "127.0.1.%d", i + 1);
        w[i].inflight = inflight;
        w[i].hangup = hangup;
        w[i].victim = victim;
        w[i].stop = &stop;
        pthread_create(&w[i].t, NULL, flood_main, &w[i]);
    }
    static phase during[8], later[8];
    sleep_ms(500); /* the attack under way */
    double end = now_s() + secs - 0.5;
    while (now_s() < end) {
        for (int k = 0; k < np; k++) {
            during[k].name = "during";
            probe(&during[k], users[k], pws[k]);
        }
        sleep_ms(250);
    }
    atomic_store(&stop, 1);
    long sent = 0;
    for (int i = 0; i < naddr; i++) {
        pthread_join(w[i].t, NULL);
        sent += w[i].sent;
    }
    printf("attack_logins_sent=%ld\n", sent);
    end = now_s() + after;
    while (now_s() < end) {
        for (int k = 0; k < np; k++) {
            later[k].name = "after";
            probe(&later[k], users[k], pws[k]);
        }
        sleep_ms(250);
    }
    for (int k = 0; k < np; k++) {
        report(users[k], &during[k]);
        report(users[k], &later[k]);
    }
    free(w);
    return 0;
}

/* ---- guess -------------------------------------------------------------- */

typedef struct guesser {
    pthread_t t;
    const char *user;
    atomic_int *stop;
    int idx;
    long answered, accepted;
} guesser;

static void *guess_main(void *arg)
{
    guesser *g = arg;
    for (unsigned n = 0; !atomic_load(g->stop); n++) {
        char pw[32];
        snprintf(pw, sizeof pw, "guess%d-%u", g->idx, n);
        double t;
        int r = try_login("127.0.0.1", g->user, pw, 65000, &t);
        if (r >= 0)
            g->answered++;
        if (r == 0)
            g->accepted++;
        if (r < 0)
            sleep_ms(10);
    }
    return NULL;
}

static int cmd_guess(const char *user, int conns, double secs, const char *right)
{
    atomic_int stop = 0;
    guesser *g = calloc((size_t)conns, sizeof *g);
    double t0 = now_s();
    for (int i = 0; i < conns; i++) {
        g[i] = (guesser){.user = user, .stop = &stop, .idx = i};
        pthread_create(&g[i].t, NULL, guess_main, &g[i]);
    }
    sleep_ms((int)(secs * 1000));
    atomic_store(&stop, 1);
    long answered = 0, accepted = 0;
    for (int i = 0; i < conns; i++) {
        pthread_join(g[i].t, NULL);
        answered += g[i].answered;
        accepted += g[i].accepted;
    }
    double el = now_s() - t0, t;
    int r = try_login("127.0.0.1", user, right, 15000, &t);
    printf("guesses=%ld\nguesses_per_s=%.1f\nwrong_accepted=%ld\nright_after=%s\nright_after_ms=%.1f\n",
           answered, answered / el, accepted,
           r == 0  ? "accepted"
           : r < 0 ? "no-answer"
                   : "rejected",
           t * 1e3);
    free(g);
    return 0;
}

/* ---- timing ------------------------------------------------------------- */

static int cmd_timing(const char *known, const char *unknown, int n)
{
    double *a = calloc((size_t)n, sizeof *a), *b = calloc((size_t)n, sizeof *b);
    for (int i = 0; i < n; i++) {
        char pw[32];
        snprintf(pw, sizeof pw, "nope%d", i);
        try_login("127.0.0.1", known, pw, 65000, &a[i]);
        try_login("127.0.0.1", unknown, pw, 65000, &b[i]);
    }
    double ka = pct(a, n, 0.5), kb = pct(b, n, 0.5); /* sorted now: [0] is the least */
    printf("known_p50_ms=%.1f\nknown_min_ms=%.1f\nknown_max_ms=%.1f\n", ka * 1e3, a[0] * 1e3, a[n - 1] * 1e3);
    printf("unknown_p50_ms=%.1f\nunknown_min_ms=%.1f\nunknown_max_ms=%.1f\n", kb * 1e3, b[0] * 1e3,
           b[n - 1] * 1e3);
    free(a);
    free(b);
    return 0;
}

/* ---- hogs --------------------------------------------------------------- */

static long rss_kb(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

/* A new subscriber: login for a snapshot, read to SNAPSHOT_END and the
 * heartbeat that says it caught up.  Seconds, or -1. */
static double join_time(long *snap_bytes)
{
    double t0 = now_s();
    int fd = tcp_connect(host, port, "127.0.0.1", 0);
    if (fd < 0)
        return -1;
    uint8_t pkt[SOUP_HEADER + SOUP_LOGIN_LEN];
    soup_login l = login_of("", "");
    tcp_write_all(fd, pkt, soup_login_write(pkt, &l));
    static uint8_t buf[1 << 16];
    size_t have = 0;
    int ended = 0;
    *snap_bytes = 0;
    while (now_s() - t0 < 60) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 1000) <= 0)
            continue;
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        size_t off = 0;
        soup_packet sp;
        long used;
        while ((used = soup_next(buf + off, have - off, 65535, &sp)) > 0) {
            off += (size_t)used;
            if (sp.type == SOUP_UNSEQUENCED) {
                *snap_bytes += used;
                if (sp.len && sp.payload[0] == ITCH_SNAPSHOT_END)
                    ended = 1;
            } else if (sp.type == SOUP_SERVER_HEARTBEAT && ended) {
                close(fd);
                return now_s() - t0;
            }
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    close(fd);
    return -1;
}

/* A subscriber's socket with a small receive buffer, set before connecting
 * so the window it offers stays small: what it does not read stays on the
 * server's side, as with a real client that stopped reading. */
static int hog_connect(const char *from)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), small = 4096;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)}, b = {.sin_family = AF_INET};
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || inet_pton(AF_INET, from, &b.sin_addr) != 1 ||
        bind(fd, (struct sockaddr *)&b, sizeof b) != 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int cmd_hogs(int subs, int naddr, double hold, int pid)
{
    long before = rss_kb(pid), snap = 0;
    double j0 = join_time(&snap);
    printf("rss_before_kb=%ld\njoin_before_ms=%.1f\nsnapshot_bytes=%ld\n", before, j0 * 1e3, snap);
    int *fds = calloc((size_t)subs, sizeof *fds), opened = 0;
    uint8_t pkt[SOUP_HEADER + SOUP_LOGIN_LEN];
    soup_login l = login_of("", "");
    size_t n = soup_login_write(pkt, &l);
    for (int i = 0; i < subs; i++) {
        char from[32];
        snprintf(from, sizeof from, "127.0.2.%d", 1 + i % (naddr ? naddr : 1));
        fds[i] = hog_connect(from);
        if (fds[i] < 0)
            continue;
        if (tcp_write_all(fds[i], pkt, n) == 0)
            opened++;
    }
    sleep_ms((int)(hold * 1000));
    long during = rss_kb(pid);
    int gone = 0;
    for (int i = 0; i < subs; i++) {
        struct tcp_info ti;
        socklen_t len = sizeof ti;
        if (fds[i] < 0 ||
            (getsockopt(fds[i], IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 && ti.tcpi_state != TCP_ESTABLISHED))
            gone++;
    }
    double j1 = join_time(&snap);
    printf(
        "hogs=%d\nhogs_logged_in=%d\nhogs_gone=%d\nrss_hogs_kb=%ld\nrss_growth_kb=%ld\njoin_during_ms=%.1f\n",
        subs, opened, gone, during, during - before, j1 * 1e3);
    for (int i = 0; i < subs; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
    return 0;
}

/* ---- main --------------------------------------------------------------- */

static void usage(void)
{
    fputs("usage: attack flood|guess|timing|hogs --port P [options] (see tests/attack/attack.c)\n", stderr);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    const char *cmd = argv[1], *victim = "nobody", *user = NULL, *right = "", *known = NULL,
               *unknown = "nobody";
    char *probes = NULL;
    int addrs = 1, inflight = 4, hangup = 0, conns = 1, n = 20, subs = 10, pid = 0;
    double secs = 5, after = 5, hold = 3;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--hangup")) {
            hangup = 1;
            continue;
        }
        if (!v) {
            usage();
            return 2;
        }
        i++;
        if (!strcmp(a, "--port"))
            port = (uint16_t)atoi(v);
        else if (!strcmp(a, "--addrs"))
            addrs = atoi(v);
        else if (!strcmp(a, "--inflight"))
            inflight = atoi(v);
        else if (!strcmp(a, "--seconds"))
            secs = atof(v);
        else if (!strcmp(a, "--after"))
            after = atof(v);
        else if (!strcmp(a, "--victim"))
            victim = v;
        else if (!strcmp(a, "--probe"))
            probes = strdup(v);
        else if (!strcmp(a, "--user"))
            user = v;
        else if (!strcmp(a, "--conns"))
            conns = atoi(v);
        else if (!strcmp(a, "--right"))
            right = v;
        else if (!strcmp(a, "--known"))
            known = v;
        else if (!strcmp(a, "--unknown"))
            unknown = v;
        else if (!strcmp(a, "--n"))
            n = atoi(v);
        else if (!strcmp(a, "--subs"))
            subs = atoi(v);
        else if (!strcmp(a, "--hold"))
            hold = atof(v);
        else if (!strcmp(a, "--pid"))
            pid = atoi(v);
        else {
            usage();
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!port) {
        usage();
        return 2;
    }
    if (!strcmp(cmd, "login") && user) {
        double t;
        int r = try_login("127.0.0.1", user, right, 15000, &t);
        printf("login=%s\nlogin_ms=%.1f\n", r == 0 ? "accepted" : r < 0 ? "no-answer" : "rejected", t * 1e3);
        return r == 0 ? 0 : 1;
    }
    if (!strcmp(cmd, "flood") && probes)
        return cmd_flood(addrs, inflight, secs, after, victim, hangup, probes);
    if (!strcmp(cmd, "guess") && user)
        return cmd_guess(user, conns, secs, right);
    if (!strcmp(cmd, "timing") && known)
        return cmd_timing(known, unknown, n);
    if (!strcmp(cmd, "hogs") && pid)
        return cmd_hogs(subs, addrs, hold, pid);
    usage();
    return 2;
}
