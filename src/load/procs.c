/*
 * procs.c - `bourse load --procs N`: the generator spread over N processes,
 * so that it can keep up with a server faster than one of its threads.
 *
 * One process (the echo baseline, setup and report are its) makes the users
 * and forks N workers.  Worker k logs in every N-th session from the k-th
 * (their source addresses and users are those one process would have given
 * them) and sends its share of the rate, R/N, open loop on its own clock;
 * its order tokens carry a letter of its own, so a report for a user whose
 * sessions live in several workers is taken only by the one that sent the
 * order.  When every worker has logged in, the parent starts the server's
 * stage clocks over and says go to all at once; each sends back its
 * counters and histograms through a pipe (plain bytes: the same binary on
 * both ends), which the parent merges into one report, send lag included.
 *
 * Processes, not threads: the run's code and state (load.c) are one
 * process's, and a fork gives each worker its own copy, descriptor table
 * and epoll, with no locks between them.  --cpu pins worker k to the k-th
 * CPU of its list (round robin), so a run can be repeated on the same cores.
 */
#include "load/load_int.h"
#include "util/args.h"
#include "util/clock.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

int load_cpus_parse(load *l, const char *v)
{
    l->ncpus = 0;
    while (*v) {
        char *end;
        long a = strtol(v, &end, 10), b = a;
        if (end == v || a < 0 || a >= CPU_SETSIZE)
            return -1;
        if (*end == '-') {
            v = end + 1;
            b = strtol(v, &end, 10);
            if (end == v || b < a || b >= CPU_SETSIZE)
                return -1;
        }
        for (long c = a; c <= b; c++) {
            if (l->ncpus == LOAD_MAX_PROCS)
                return -1;
            l->cpus[l->ncpus++] = (int)c;
        }
        if (*end == ',')
            end++;
        else if (*end)
            return -1;
        v = end;
    }
    return l->ncpus ? 0 : -1;
}

void load_pin(const load *l, uint32_t k)
{
    if (!l->ncpus)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(l->cpus[k % l->ncpus], &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        arg_error("load: --cpu %d: %s", l->cpus[k % l->ncpus], strerror(errno));
}

/* What a worker sends back. */
typedef struct lres {
    uint64_t sent, acked, rejected, errors, execs, canceled, disconnects, unanswered;
    uint64_t reasons[256];
    hist rtt_ack, rtt_exec, lag;
    int64_t run_start;
    load_tl tl[LOAD_TL];
} lres;

static lres res; /* 250 KiB: not on the stack */

static int io_all(int fd, void *p, size_t n, int out)
{
    uint8_t *b = p;
    while (n) {
        ssize_t k = out ? write(fd, b, n) : read(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

static void worker(load *l, uint32_t k, int ready, int go, int out)
{
    uint32_t n = l->procs;
    l->part = k;
    l->nmain = (l->nmain - k + n - 1) / n;
    l->rate = l->rate / n + (k < l->rate % n);
    l->total = (uint64_t)((double)l->rate * l->seconds); /* at most the arrays' */
    size_t p = strlen(l->prefix);
    l->prefix[p] = (char)('g' + k % 20); /* after the hex digits: never one of them */
    l->prefix[p + 1] = (char)('a' + k / 20);
    l->prefix[p + 2] = 0;
    l->rng = (l->rng ^ (0x9e3779b97f4a7c15ull * (k + 1))) | 1;
    l->json = 1; /* the parent speaks */
    load_pin(l, k);
    close(l->ep); /* the parent's epoll: each worker needs its own */
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    char c = l->ep >= 0 && load_connect_all(l) == 0 ? 'R' : 'E';
    if (io_all(ready, &c, 1, 1) != 0 || c != 'R' || io_all(go, &c, 1, 0) != 0)
        _exit(1);
    load_run(l);
    res = (lres){.sent = l->sent,
                 .acked = l->acked,
                 .rejected = l->rejected,
                 .errors = l->errors,
                 .execs = l->execs,
                 .canceled = l->canceled,
                 .disconnects = l->disconnects,
                 .unanswered = l->unanswered};
    memcpy(res.reasons, l->reasons, sizeof res.reasons);
    res.rtt_ack = l->rtt_ack;
    res.rtt_exec = l->rtt_exec;
    res.lag = l->lag;
    res.run_start = l->run_start;
    memcpy(res.tl, l->tl, sizeof res.tl);
    _exit(io_all(out, &res, sizeof res, 1) == 0 ? 0 : 1);
}

static void merge(load *l, const lres *r)
{
    l->sent += r->sent;
    l->acked += r->acked;
    l->rejected += r->rejected;
    l->errors += r->errors;
    l->execs += r->execs;
    l->canceled += r->canceled;
    l->disconnects += r->disconnects;
    l->unanswered += r->unanswered;
    for (int i = 0; i < 256; i++)
        l->reasons[i] += r->reasons[i];
    hist_merge(&l->rtt_ack, &r->rtt_ack);
    hist_merge(&l->rtt_exec, &r->rtt_exec);
    hist_merge(&l->lag, &r->lag);
    for (int i = 0; i < LOAD_TL; i++) { /* the workers started together, at go */
        l->tl[i].n += r->tl[i].n;
        l->tl[i].sum += r->tl[i].sum;
        if (r->tl[i].max > l->tl[i].max)
            l->tl[i].max = r->tl[i].max;
    }
}

int load_procs(load *l, long rss0)
{
    uint32_t n = l->procs;
    if (l->nmain < l->sessions || l->acked_path || l->eps.n || l->nmain < n) {
        arg_error("load: --procs %u needs at least as many sessions, all in the main loop, and no --acked "
                  "or --connect",
                  n);
        return 2;
    }
    int ready[2], go[2], out[LOAD_MAX_PROCS];
    pid_t pid[LOAD_MAX_PROCS];
    if (pipe(ready) != 0 || pipe(go) != 0) {
        arg_error("load: pipe: %s", strerror(errno));
        return 1;
    }
    fflush(stdout);
    fflush(stderr);
    int64_t t0 = mono_ns();
    uint32_t started = 0;
    for (; started < n; started++) {
        int o[2];
        if (pipe(o) != 0)
            break;
        pid[started] = fork();
        if (pid[started] == 0) {
            close(ready[0]);
            close(go[1]);
            close(o[0]);
            worker(l, started, ready[1], go[0], o[1]);
        }
        close(o[1]);
        if (pid[started] < 0) {
            close(o[0]);
            break;
        }
        out[started] = o[0];
    }
    close(ready[1]);
    close(go[0]);
    uint32_t up = 0;
    char c;
    for (uint32_t k = 0; k < started; k++)
        if (io_all(ready[0], &c, 1, 0) == 0 && c == 'R')
            up++;
    l->login_secs = (double)(mono_ns() - t0) / 1e9;
    long rss1 = load_server_rss_kb(l->dir);
    int rc = 0;
    if (up < n) {
        arg_error("load: %u of %u worker processes did not log in their sessions", n - up, n);
        for (uint32_t k = 0; k < started; k++)
            kill(pid[k], SIGKILL);
        rc = 1;
    } else {
        load_stages_reset(l); /* the server's stage clocks: this run's orders only */
        t0 = mono_ns();
        for (uint32_t k = 0; k < n; k++)
            if (io_all(go[1], "g", 1, 1) != 0)
                rc = 1;
    }
    for (uint32_t k = 0; k < started; k++) {
        if (!rc) {
            if (io_all(out[k], &res, sizeof res, 0) == 0)
                merge(l, &res);
            else {
                arg_error("load: worker %u ended without its report", k);
                l->errors++;
            }
        }
        close(out[k]);
        waitpid(pid[k], NULL, 0);
    }
    close(ready[0]);
    close(go[1]);
    if (rc)
        return rc;
    double secs = (double)(mono_ns() - t0) / 1e9;
    load_stages_read(l);
    load_report(l, secs, rss0, rss1, load_server_rss_kb(l->dir));
    return l->errors || l->disconnects ? 1 : 0;
}
