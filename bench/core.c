/*
 * bench.c - `bourse bench`: the matching core's throughput and latency.
 *
 * Everything happens in this process, on the core's public API.  The timed
 * commands are generated first (bench/workload.c), then applied to fresh
 * engines, each after the same untimed setup:
 *   throughput  closed loop, as fast as the core goes; the median of a few
 *               runs, since a shared machine steals whole time slices;
 *   latency     open loop at an offered rate R: command i is due at
 *               t0 + i/R, the loop busy-waits until then, and its latency is
 *               completion - due, so time spent queued behind a slow command
 *               counts (no coordinated omission).  Also kept: service time,
 *               completion - actual start.
 * The same two loops also run over a baseline that only builds one event per
 * command and calls the event callback, so the harness's own cost and the
 * machine's noise show beside the core's figures.
 *
 * With --ops the timed loops apply bourse_op (bourse.h: 40 bytes, ids
 * packed, orders named by handle) built untimed from the same commands, the
 * hot path's command of issue #20; the state must be the bourse_cmd runs'.
 *
 * Both timed engines get the same commands, so they must end in the same
 * state with the same events as the generator's engine: the run checks that
 * and fails if not.  `--workload journal` hands over to bench_journal()
 * (bench/journal.c).
 *
 * The venue rules (replay v2) cost: the same closed-loop runs again, each
 * right after a plain one, on engines whose setup also switched every rule
 * and fee on (workload_rules_on), set so that no order is refused: same
 * commands, same trades, plus the checks and the fees.
 */
#include "bench/bench.h"
#include "bench/hist.h"
#include "bench/workload.h"
#include "bourse/bourse.h"
#include "util/args.h"
#include "util/clock.h"

#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*apply_fn)(bourse_engine *e, const bourse_cmd *c, bourse_event_fn fn, void *ctx);

typedef struct bench_opts {
    const workload_spec *spec;
    uint64_t messages, rate, seed, runs;
    int json, cpu, ids, no_prefault, handles;
    int ops;   /* --ops: the timed loops apply bourse_op (40 bytes), not bourse_cmd */
    int rules; /* 0: plain runs each followed by a rules-on run; 1: no rules-on runs; 2: rules on in every
                  engine */
    uint32_t prefetch; /* commands ahead for the hinted throughput runs; 0 = none */
} bench_opts;

/* What a timed run saw. */
typedef struct tally {
    uint64_t ev[BOURSE_EV_COUNT_];
    uint64_t trade_msgs;
    const void *last_trade;
    const void *cur; /* the op being applied (events of an op have no cmd) */
} tally;

typedef struct latency_result {
    hist lat, svc;
    double seconds;
} latency_result;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void on_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    tally *t = ctx;
    t->ev[ev->type]++;
    const void *which = cmd ? (const void *)cmd : t->cur;
    if (ev->type == BOURSE_EV_TRADE && t->last_trade != which) {
        t->last_trade = which;
        t->trade_msgs++;
    }
}

/* --ops: the timed commands as bourse_op, built untimed like the commands;
 * the loops below still walk the commands' addresses, and op_apply applies
 * the op of the same index without reading the command. */
static const bourse_cmd *ops_of; /* the commands ops[] was built from */
static bourse_op *bench_ops;

static void op_apply(bourse_engine *e, const bourse_cmd *c, bourse_event_fn fn, void *ctx)
{
    const bourse_op *op = &bench_ops[c - ops_of];
    ((tally *)ctx)->cur = op;
    bourse_engine_apply_op(e, op, fn, ctx);
}

/* 0, or -1 when an id does not pack into 8 bytes. */
static int build_ops(const workload *w)
{
    ops_of = w->cmds;
    bench_ops = calloc(w->n ? w->n : 1, sizeof *bench_ops);
    if (!bench_ops)
        return -1;
    for (uint64_t i = 0; i < w->n; i++) {
        const bourse_cmd *c = &w->cmds[i];
        const bourse_name *id = c->type == BOURSE_CMD_REPLACE ? &c->new_oid : &c->oid;
        size_t len = strnlen(id->s, BOURSE_NAME_LEN);
        if (len > 8)
            return -1;
        bench_ops[i] = (bourse_op){.type = c->type,
                                   .side = c->side,
                                   .tif = c->tif,
                                   .user = c->user,
                                   .symbol = c->symbol,
                                   .order = c->order,
                                   .qty = (uint32_t)c->qty,
                                   .price = c->price,
                                   .oid = bourse_oid_pack(id->s, len)};
    }
    return 0;
}

/* The baseline "engine": one event per command, built and delivered the way
 * the core does it, and nothing else. */
static void __attribute__((noinline))
baseline_apply(bourse_engine *e, const bourse_cmd *c, bourse_event_fn fn, void *ctx)
{
    (void)e;
    bourse_event ev = {.type = c->type == BOURSE_CMD_CANCEL    ? BOURSE_EV_CANCELED
                               : c->type == BOURSE_CMD_REPLACE ? BOURSE_EV_REPLACED
                                                               : BOURSE_EV_ACCEPTED,
                       .side = c->side,
                       .user = c->user,
                       .symbol = c->symbol,
                       .qty = c->qty,
                       .price = c->price,
                       .oid = c->oid,
                       .oid2 = c->new_oid};
    fn(ctx, c, &ev);
}

static double __attribute__((noinline))
run_throughput(apply_fn apply, bourse_engine *e, const workload *w, tally *t, uint32_t ahead)
{
    const bourse_cmd *c = w->cmds;
    uint64_t n = w->n;
    uint64_t start = mono_ns();
    if (ahead) {
        /* A batch in hand: hint each command `ahead` commands early. */
        for (uint64_t i = 0; i < n; i++) {
            if (i + ahead < n)
                bourse_engine_prefetch(e, &c[i + ahead]);
            apply(e, &c[i], on_event, t);
        }
    } else {
        for (uint64_t i = 0; i < n; i++)
            apply(e, &c[i], on_event, t);
    }
    uint64_t ns = mono_ns() - start;
    return ns ? (double)n * 1e9 / (double)ns : 0;
}

static void run_latency(apply_fn apply, bourse_engine *e, const workload *w, uint64_t rate, tally *t,
                        latency_result *r)
{
    const bourse_cmd *c = w->cmds;
    double period = 1e9 / (double)rate;
    hist_init(&r->lat);
    hist_init(&r->svc);
    uint64_t t0 = mono_ns() + 1000000, now = mono_ns();
    for (uint64_t i = 0; i < w->n; i++) {
        uint64_t due = t0 + (uint64_t)((double)i * period);
        while (now < due) {
            cpu_relax();
            now = mono_ns();
        }
        uint64_t start = now;
        apply(e, &c[i], on_event, t);
        now = mono_ns();
        hist_record(&r->lat, now - due);
        hist_record(&r->svc, now - start);
    }
    r->seconds = (double)(now - t0) / 1e9;
}

/* The cost of one clock read, the best of a few tries. */
static double clock_cost_ns(void)
{
    double best = 1e9;
    for (int k = 0; k < 5; k++) {
        uint64_t a = mono_ns(), b = a;
        for (int i = 0; i < 100000; i++)
            b = mono_ns();
        double per = (double)(b - a) / 100000;
        if (per < best)
            best = per;
    }
    return best;
}

/* ---- the machine ---- */

static long proc_status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t len = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, len) && line[len] == ':')
            v = strtol(line + len + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static uint64_t rss_bytes(void)
{
    long kb = proc_status_kb("VmRSS");
    return kb > 0 ? (uint64_t)kb * 1024 : 0;
}

static double load_avg(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double l = -1;
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

/* Pin to `cpu`, or by default the last CPU we may run on (the first tends to
 * take more interrupts).  The CPU, or -1 when the OS would not. */
static int pin_cpu(int cpu)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return -1;
    if (cpu < 0)
        for (int i = 0; i < CPU_SETSIZE; i++)
            if (CPU_ISSET(i, &set))
                cpu = i;
    if (cpu < 0 || cpu >= CPU_SETSIZE)
        return -1;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? cpu : -1;
}

/* ---- options ---- */

static void help(FILE *f)
{
    fputs("usage: bourse bench [--workload NAME] [--messages N] [--rate R] [--seed S] [--json]\n\n"
          "Measures the matching core alone, in this process: no text, no I/O.\n"
          "The timed commands are generated before timing starts, by a pass that\n"
          "follows the book so moves and cancels hit open orders; every engine then\n"
          "gets the same untimed setup (symbols, users, deposits, initial book).\n\n"
          "Two measurements per run:\n"
          "  throughput  all commands back to back (closed loop); median of --runs\n"
          "  latency     open loop at R commands/s: command i is due at t0 + i/R and\n"
          "              its latency is completion - due, so queueing counts;\n"
          "              percentiles from a log-linear histogram (error < 1/128)\n"
          "A baseline (a loop that only builds and delivers one event per command)\n"
          "is measured the same way, to show the harness cost and machine noise.\n"
          "Each throughput run is followed by one with every venue rule and fee of\n"
          "replay v2 switched on (none refuses an order): what the rules cost.\n\n"
          "workloads (mix unless said: 9% GTC, 3% IOC, 6% cancel, 82% move; ~6% of\n"
          "commands trade):\n",
          f);
    for (const workload_spec *s = workload_specs; s->name; s++)
        fprintf(f, "  %-14s %s\n", s->name, s->about);
    fputs("  journal        the journal's benchmark (bench_journal), when built in\n\n"
          "options:\n"
          "  --workload NAME  exchange-core (default), multi, big, quantcup, journal\n"
          "  --messages N     timed commands (default 3,000,000)\n"
          "  --rate R         offered rate of the latency run, per second\n"
          "                   (default 1,000,000; 0 skips the latency run)\n"
          "  --seed S         the workload's random seed (default 1)\n"
          "  --ids STYLE      order ids: user (each user counts 1, 2, 3...: the\n"
          "                   default), global (one counter for all: quantcup's\n"
          "                   default) or random\n"
          "  --runs K         throughput runs, median reported (default 3; big: 1)\n"
          "  --cpu N          pin to CPU N (default: the last allowed CPU)\n"
          "  --rules MODE     both (default): each throughput run is followed by one\n"
          "                   with every venue rule on; off: no such runs; on: the\n"
          "                   rules on in every engine (for perf stat comparisons)\n"
          "  --prefetch D     also time runs that call bourse_engine_prefetch() on\n"
          "                   the command D ahead, as a shell holding a batch may\n"
          "                   (default 4; 0 skips them)\n"
          "  --handles        cancels and moves also name their order by the handle\n"
          "                   of its ACCEPTED (bourse_cmd.order), as a shell that\n"
          "                   keeps handles may: no id-map lookup for them\n"
          "  --ops            apply bourse_op (40 bytes, ids packed, orders named by\n"
          "                   handle) instead of bourse_cmd (104 bytes) in the timed\n"
          "                   loops; implies --handles, no prefetch-hinted runs\n"
          "  --no-prefault    leave the engine's tables to be paged in while timed\n"
          "                   (default: bourse_engine_prefault() before the setup)\n"
          "  --json           print one JSON object instead of the table\n"
          "  -h, --help       show this help\n",
          f);
}

static const char *opt_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        arg_error("bench: %s needs a value", argv[*i]);
        exit(2);
    }
    return argv[++*i];
}

static int parse_opts(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){.spec = workload_find("exchange-core"),
                      .rate = 1000000,
                      .seed = 1,
                      .cpu = -1,
                      .ids = -1,
                      .prefetch = 4};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--workload")) {
            const char *name = opt_value(argc, argv, &i);
            if (!(o->spec = workload_find(name))) {
                arg_error("bench: unknown workload '%s' (see bourse bench --help)", name);
                return 2;
            }
        } else if (!strcmp(a, "--messages")) {
            o->messages = arg_number(a, opt_value(argc, argv, &i), 1000000000);
            if (!o->messages) {
                arg_error("bench: --messages must be at least 1");
                return 2;
            }
        } else if (!strcmp(a, "--rate")) {
            o->rate = arg_number(a, opt_value(argc, argv, &i), 1000000000);
        } else if (!strcmp(a, "--ids")) {
            const char *v = opt_value(argc, argv, &i);
            int k = 0;
            while (workload_id_styles[k] && strcmp(workload_id_styles[k], v) != 0)
                k++;
            if (!workload_id_styles[k]) {
                arg_error("bench: --ids is user, global or random, not '%s'", v);
                return 2;
            }
            o->ids = k;
        } else if (!strcmp(a, "--seed")) {
            o->seed = arg_number(a, opt_value(argc, argv, &i), UINT64_MAX);
        } else if (!strcmp(a, "--runs")) {
            o->runs = arg_number(a, opt_value(argc, argv, &i), 100);
        } else if (!strcmp(a, "--cpu")) {
            o->cpu = (int)arg_number(a, opt_value(argc, argv, &i), CPU_SETSIZE - 1);
        } else if (!strcmp(a, "--prefetch")) {
            o->prefetch = (uint32_t)arg_number(a, opt_value(argc, argv, &i), 64);
        } else if (!strcmp(a, "--rules") && i + 1 < argc) {
            const char *v = argv[++i];
            o->rules = !strcmp(v, "both") ? 0 : !strcmp(v, "off") ? 1 : !strcmp(v, "on") ? 2 : -1;
            if (o->rules < 0) {
                arg_error("bench: --rules takes both, off or on, not '%s'", v);
                return 2;
            }
        } else if (!strcmp(a, "--handles")) {
            o->handles = 1;
        } else if (!strcmp(a, "--ops")) {
            o->ops = o->handles = 1;
        } else if (!strcmp(a, "--no-prefault")) {
            o->no_prefault = 1;
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            exit(0);
        } else {
            arg_error("bench: unknown option '%s'", a);
            help(stderr);
            return 2;
        }
    }
    if (!o->runs)
        o->runs = !strcmp(o->spec->name, "big") ? 1 : 3;
    if (o->ids < 0)
        o->ids = o->spec->ids;
    if (o->ops)
        o->prefetch = 0; /* bourse_engine_prefetch() reads a bourse_cmd */
    return 0;
}

/* ---- one engine, set up ---- */

static bourse_engine *fresh_engine(const workload *w, const bench_opts *o)
{
    bourse_engine *e = bourse_engine_new(&w->limits);
    if (!e) {
        arg_error("bench: out of memory for the engine");
        exit(1);
    }
    if (!o->no_prefault)
        bourse_engine_prefault(e);
    uint64_t bad = workload_setup(w, e, NULL, NULL);
    if (!bad && o->rules == 2)
        bad = workload_rules_on(w, e);
    if (bad) {
        arg_error("bench: %" PRIu64 " setup commands failed", bad);
        exit(1);
    }
    return e;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- output ---- */

typedef struct report {
    const bench_opts *o;
    const workload *w;
    int cpu;
    double load_before, load_after, clock_ns;
    double ops[100], ops_median, base_ops;
    double pf[100], pf_median; /* with bourse_engine_prefetch() hints */
    double ru[100], ru_median; /* with every venue rule and fee on */
    tally ru_t;
    latency_result lat, base_lat;
    tally t;
    uint64_t rss, rss_engine, rss_peak, hash;
    int same_state;
} report;

static const double PCT[] = {50, 90, 99, 99.9, 99.99};
static const char *const PCT_KEY[] = {"p50", "p90", "p99", "p999", "p9999"};

static void json_hist(const char *name, const hist *h)
{
    printf("\"%s\": {", name);
    for (int i = 0; i < 5; i++)
        printf("\"%s\": %" PRIu64 ", ", PCT_KEY[i], hist_percentile(h, PCT[i]));
    printf("\"max\": %" PRIu64 ", \"mean\": %.1f}", h->max, h->count ? (double)h->sum / h->count : 0.0);
}

static void print_json(const report *r)
{
    const workload *w = r->w;
    const workload_stats *s = &w->stats;
    printf("{\"workload\": \"%s\", \"messages\": %" PRIu64 ", \"seed\": %" PRIu64
           ", \"ids\": \"%s\", \"bourse_op\": %s, \"ops_per_sec\": %.0f, \"ops_per_sec_runs\": [",
           w->spec.name, w->n, w->seed, workload_id_styles[w->ids], r->o->ops ? "true" : "false",
           r->ops_median);
    for (uint64_t i = 0; i < r->o->runs; i++)
        printf("%s%.0f", i ? ", " : "", r->ops[i]);
    printf("], ");
    if (r->o->prefetch)
        printf("\"ops_per_sec_prefetch\": %.0f, \"prefetch_ahead\": %u, ", r->pf_median, r->o->prefetch);
    printf("\"ops_per_sec_rules_on\": %.0f, \"ops_per_sec_rules_on_runs\": [", r->ru_median);
    for (uint64_t i = 0; i < r->o->runs; i++)
        printf("%s%.0f", i ? ", " : "", r->ru[i]);
    printf("], \"rules_on_fees\": %" PRIu64 ", \"rules_on_rejects\": %" PRIu64 ", ",
           r->ru_t.ev[BOURSE_EV_FEE], r->ru_t.ev[BOURSE_EV_REJECTED]);
    printf("\"offered_per_sec\": %" PRIu64 ", ", r->o->rate);
    if (r->o->rate) {
        printf("\"achieved_per_sec\": %.0f, ", (double)w->n / r->lat.seconds);
        json_hist("latency_ns", &r->lat.lat);
        printf(", ");
        json_hist("service_ns", &r->lat.svc);
        printf(", ");
    }
    printf("\"rss_bytes\": %" PRIu64 ", \"rss_engine_bytes\": %" PRIu64 ", \"rss_peak_bytes\": %" PRIu64
           ", \"commands_bytes\": %" PRIu64 ", ",
           r->rss, r->rss_engine, r->rss_peak, (uint64_t)(w->n * sizeof *w->cmds));
    printf("\"trades\": %" PRIu64 ", \"trade_msgs\": %" PRIu64 ", \"rejects\": %" PRIu64
           ", \"reject_rate\": %.6f, ",
           r->t.ev[BOURSE_EV_TRADE], r->t.trade_msgs, r->t.ev[BOURSE_EV_REJECTED],
           (double)r->t.ev[BOURSE_EV_REJECTED] / (double)w->n);
    printf("\"mix\": {\"gtc\": %" PRIu64 ", \"ioc\": %" PRIu64 ", \"cancel\": %" PRIu64 ", \"move\": %" PRIu64
           "}, \"book\": {\"orders\": %.0f, \"levels\": %.0f, \"symbols\": %u, \"users\": %u}, ",
           s->gtc, s->ioc, s->cancels, s->moves, s->avg_orders, s->avg_levels, w->spec.symbols,
           w->spec.users);
    printf("\"baseline\": {\"ops_per_sec\": %.0f", r->base_ops);
    if (r->o->rate) {
        printf(", ");
        json_hist("latency_ns", &r->base_lat.lat);
    }
    printf("}, \"prefault\": %s, \"clock_ns\": %.1f, \"pinned_cpu\": %d, \"loadavg\": [%.2f, %.2f], "
           "\"state_hash\": \"%016" PRIx64 "\", \"deterministic\": %s}\n",
           r->o->no_prefault ? "false" : "true", r->clock_ns, r->cpu, r->load_before, r->load_after, r->hash,
           r->same_state ? "true" : "false");
}

static void table_row(const char *name, const hist *h)
{
    printf("  %-18s", name);
    for (int i = 0; i < 5; i++)
        printf(" %9" PRIu64, hist_percentile(h, PCT[i]));
    printf(" %9" PRIu64 "\n", h->max);
}

static void print_table(const report *r)
{
    const workload *w = r->w;
    const workload_stats *s = &w->stats;
    printf("workload %s: %s\n", w->spec.name, w->spec.about);
    printf("  %" PRIu64 " commands (seed %" PRIu64 ", %s ids%s%s): %.1f%% GTC, %.1f%% IOC, %.1f%% cancel,"
           " %.1f%% move\n",
           w->n, w->seed, workload_id_styles[w->ids], w->handles ? ", handles" : "",
           r->o->ops ? ", as bourse_op" : "", 100.0 * s->gtc / w->n, 100.0 * s->ioc / w->n,
           100.0 * s->cancels / w->n, 100.0 * s->moves / w->n);
    printf("  book: %.0f open orders on %.0f levels on average; %.2f%% of commands traded"
           " (%" PRIu64 " trades), %.3f%% rejected\n",
           s->avg_orders, s->avg_levels, 100.0 * r->t.trade_msgs / w->n, r->t.ev[BOURSE_EV_TRADE],
           100.0 * r->t.ev[BOURSE_EV_REJECTED] / w->n);
    printf("  cpu: %s", r->cpu >= 0 ? "pinned to " : "not pinned");
    if (r->cpu >= 0)
        printf("%d", r->cpu);
    printf("; load average %.2f before, %.2f after; clock read %.1f ns\n\n", r->load_before, r->load_after,
           r->clock_ns);
    printf("throughput (closed loop)  %12.0f ops/s   median of", r->ops_median);
    for (uint64_t i = 0; i < r->o->runs; i++)
        printf(" %.2fM", r->ops[i] / 1e6);
    printf("\n");
    if (r->o->prefetch) {
        printf("  with prefetch hints     %12.0f ops/s   median of", r->pf_median);
        for (uint64_t i = 0; i < r->o->runs; i++)
            printf(" %.2fM", r->pf[i] / 1e6);
        printf("   (%u commands ahead)\n", r->o->prefetch);
    }
    if (r->o->rules == 0) {
        printf("  venue rules on          %12.0f ops/s   median of", r->ru_median);
        for (uint64_t i = 0; i < r->o->runs; i++)
            printf(" %.2fM", r->ru[i] / 1e6);
        printf("   (%+.1f%%; %" PRIu64 " FEE events, %" PRIu64 " rejected)\n",
               r->ops_median ? 100.0 * (r->ru_median - r->ops_median) / r->ops_median : 0.0,
               r->ru_t.ev[BOURSE_EV_FEE], r->ru_t.ev[BOURSE_EV_REJECTED]);
    }
    printf("  baseline                %12.0f ops/s   (callback only)\n", r->base_ops);
    if (r->o->rate) {
        printf("\nlatency (open loop, %" PRIu64 "/s offered, %.0f/s achieved), ns:\n", r->o->rate,
               (double)w->n / r->lat.seconds);
        printf("  %-18s %9s %9s %9s %9s %9s %9s\n", "", "p50", "p90", "p99", "p99.9", "p99.99", "max");
        table_row("latency", &r->lat.lat);
        table_row("service time", &r->lat.svc);
        table_row("baseline latency", &r->base_lat.lat);
    }
    printf("\nmemory: RSS %.1f MiB (engine %.1f MiB, commands %.1f MiB), peak %.1f MiB\n", r->rss / 1048576.0,
           r->rss_engine / 1048576.0, (double)(w->n * sizeof *w->cmds) / 1048576.0, r->rss_peak / 1048576.0);
    printf("state hash %016" PRIx64 " %s\n", r->hash,
           r->same_state ? "(same in every engine)" : "DIFFERS BETWEEN ENGINES");
}

/* ---- the run ---- */

static int wants_journal(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--workload") && !strcmp(argv[i + 1], "journal"))
            return 1;
    return 0;
}

static double median(const double *v, uint64_t n)
{
    double sorted[100];
    memcpy(sorted, v, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    return sorted[n / 2];
}

/* Plain runs (ahead 0) into r->ops; runs with prefetch hints into r->pf. */
static void measure_throughput(report *r, const workload *w, uint32_t ahead)
{
    for (uint64_t k = 0; k < r->o->runs; k++) {
        uint64_t before = rss_bytes();
        bourse_engine *e = fresh_engine(w, r->o);
        tally t = {0};
        double ops = r->o->ops ? run_throughput(op_apply, e, w, &t, 0)
                               : run_throughput(bourse_engine_apply, e, w, &t, ahead);
        if (!ahead && r->o->rules == 0) { /* the same commands with the rules on, right after */
            bourse_engine *er = fresh_engine(w, r->o);
            if (workload_rules_on(w, er) != 0) {
                arg_error("bench: the engine refused the venue rules' setup");
                exit(1);
            }
            tally tr = {0};
            r->ru[k] = r->o->ops ? run_throughput(op_apply, er, w, &tr, 0)
                                 : run_throughput(bourse_engine_apply, er, w, &tr, 0);
            if (k == 0)
                r->ru_t = tr;
            else if (memcmp(&tr.ev, &r->ru_t.ev, sizeof tr.ev) != 0)
                r->same_state = 0;
            bourse_engine_free(er);
        }
        if (ahead) {
            r->pf[k] = ops;
            if (bourse_engine_hash(e) != r->hash || memcmp(&t.ev, &r->t.ev, sizeof t.ev) != 0)
                r->same_state = 0;
            bourse_engine_free(e);
            continue;
        }
        r->ops[k] = ops;
        if (k == 0) {
            r->t = t;
            r->rss = rss_bytes();
            r->rss_engine = r->rss > before ? r->rss - before : 0;
            r->hash = bourse_engine_hash(e);
        } else if (bourse_engine_hash(e) != r->hash) {
            r->same_state = 0;
        }
        bourse_engine_free(e);
    }
    if (ahead) {
        r->pf_median = median(r->pf, r->o->runs);
    } else {
        r->ops_median = median(r->ops, r->o->runs);
        r->ru_median = median(r->ru, r->o->runs);
    }
}

int bench_main(int argc, char **argv)
{
    if (wants_journal(argc, argv)) {
        return bench_journal(argc, argv);
    }
    bench_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc;
    static report r; /* holds four histograms: too big for the stack */
    r = (report){.o = &o, .same_state = 1, .load_before = load_avg()};
    r.cpu = pin_cpu(o.cpu);
    if (!o.json)
        fprintf(stderr, "bench: generating %s...\n", o.spec->name);
    static workload w;
    int built = workload_build(&w, o.spec, o.messages, o.seed, o.ids, o.handles);
    if (built != 0) {
        arg_error("bench: %s", built == -1 ? "out of memory generating the workload"
                                           : "the engine refused part of the workload's setup");
        return 1;
    }
    if (o.ops && build_ops(&w) != 0) {
        arg_error("bench: --ops needs order ids of at most 8 bytes, and memory for the ops");
        return 1;
    }
    r.w = &w;
    r.clock_ns = clock_cost_ns();

    tally bt = {0};
    r.base_ops = run_throughput(baseline_apply, NULL, &w, &bt, 0);
    if (o.rate)
        run_latency(baseline_apply, NULL, &w, o.rate, &bt, &r.base_lat);

    if (!o.json)
        fprintf(stderr, "bench: throughput...\n");
    measure_throughput(&r, &w, 0);
    if (o.prefetch)
        measure_throughput(&r, &w, o.prefetch);
    if (o.rate) {
        if (!o.json)
            fprintf(stderr, "bench: latency...\n");
        bourse_engine *e = fresh_engine(&w, &o);
        tally t = {0};
        run_latency(o.ops ? op_apply : bourse_engine_apply, e, &w, o.rate, &t, &r.lat);
        if (bourse_engine_hash(e) != r.hash || memcmp(&t.ev, &r.t.ev, sizeof t.ev) != 0)
            r.same_state = 0;
        bourse_engine_free(e);
    }
    if (r.t.ev[BOURSE_EV_TRADE] != w.stats.trades || r.t.ev[BOURSE_EV_REJECTED] != w.stats.rejects)
        r.same_state = 0;
    long peak = proc_status_kb("VmHWM");
    r.rss_peak = peak > 0 ? (uint64_t)peak * 1024 : 0;
    r.load_after = load_avg();
    if (o.json)
        print_json(&r);
    else
        print_table(&r);
    workload_free(&w);
    free(bench_ops);
    if (!r.same_state) {
        arg_error("bench: engines given the same commands ended differently: the core is not deterministic");
        return 1;
    }
    return 0;
}
