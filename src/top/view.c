/*
 * view.c - the screen of `bourse top` (top.h) and its loop.
 *
 * Every figure is of the last interval (two readings a second apart):
 * rates are differences over the time between the readings, percentiles
 * those of the buckets that grew in it.  So the view says what the server
 * is doing now, not its average since the start, which Prometheus keeps.
 *
 * The chart is p99 of the order round trip (every protocol) per interval,
 * over the last `history` intervals, drawn in plain ASCII on a log scale
 * (a tail of 50 us and one of 5 ms both show), so it works in any
 * terminal; a column with no orders is blank.
 *
 * The terminal: the screen is redrawn from its top with ANSI escapes,
 * stdin is put in non-canonical mode so that `q` acts at once, and the
 * terminal is restored on `q`, Ctrl-C (SIGINT) and SIGTERM.  --once (for
 * tests and scripts) prints one view, with no escapes, and exits.
 */
#include "top/top.h"

#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

enum { CHART_ROWS = 6, MAX_HISTORY = 600, TOP_SYMBOLS = 5 };

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* A duration in seconds, short: "850ns", "42.1us", "3.20ms", "1.05s". */
static const char *dur(double s, char *buf, size_t n)
{
    if (s < 0)
        snprintf(buf, n, "-");
    else if (s < 1e-6)
        snprintf(buf, n, "%.0fns", s * 1e9);
    else if (s < 1e-3)
        snprintf(buf, n, "%.1fus", s * 1e6);
    else if (s < 1)
        snprintf(buf, n, "%.2fms", s * 1e3);
    else
        snprintf(buf, n, "%.2fs", s);
    return buf;
}

static double rate(const top_reading *c, const top_reading *p, const char *name, const char *has)
{
    double dt = c->t - p->t;
    return dt > 0 ? (top_sum(c, name, has) - top_sum(p, name, has)) / dt : 0;
}

/* The label values of NAME's samples, each once (at most max). */
static int label_values(const top_reading *r, const char *name, const char *key, char out[][64], int max)
{
    int n = 0;
    for (size_t i = 0; i < r->n && n < max; i++) {
        char v[64];
        if (strcmp(r->s[i].name, name) || top_label(r->s[i].labels, key, v, sizeof v) != 0)
            continue;
        int j = 0;
        while (j < n && strcmp(out[j], v))
            j++;
        if (j == n)
            memcpy(out[n++], v, sizeof v);
    }
    return n;
}

static void latency(FILE *f, const top_reading *c, const top_reading *p)
{
    char protos[8][64], has[600], a[16], b[16], d[16];
    int n = label_values(c, "bourse_order_round_trip_seconds_count", "protocol", protos, 8);
    fprintf(f, "\nround trip (read -> first report out)   msgs     p50       p99       p99.9\n");
    for (int i = 0; i < n; i++) {
        snprintf(has, sizeof has, "protocol=\"%s\"", protos[i]);
        double k = top_sum(c, "bourse_order_round_trip_seconds_count", has) -
                   top_sum(p, "bourse_order_round_trip_seconds_count", has);
        fprintf(f, "  %-38s %7.0f   %-9s %-9s %s\n", protos[i], k,
                dur(top_quantile(c, p, "bourse_order_round_trip_seconds", has, 0.5), a, sizeof a),
                dur(top_quantile(c, p, "bourse_order_round_trip_seconds", has, 0.99), b, sizeof b),
                dur(top_quantile(c, p, "bourse_order_round_trip_seconds", has, 0.999), d, sizeof d));
    }
    if (!n)
        fprintf(f, "  (no order-entry protocol)\n");
}

static void rings(FILE *f, const top_reading *c)
{
    fprintf(f, "\nrings (waiting / slots)\n ");
    int shown = 0;
    for (size_t i = 0; i < c->n; i++) {
        const top_sample *s = &c->s[i];
        if (strcmp(s->name, "bourse_ring_depth"))
            continue;
        char ring[48], gate[8];
        top_label(s->labels, "ring", ring, sizeof ring);
        top_label(s->labels, "gateway", gate, sizeof gate);
        char has[128];
        snprintf(has, sizeof has, "ring=\"%s\",gateway=\"%s\"", ring, gate);
        if (strncmp(ring, "gateway_to", 10) && strncmp(ring, "engine_to", 9) && s->v == 0)
            continue; /* the quiet side rings only when they hold something */
        fprintf(f, " %s[%s] %.0f/%.0f", ring, gate, s->v, top_sum(c, "bourse_ring_capacity", has));
        if (++shown % 3 == 0)
            fprintf(f, "\n ");
    }
    fprintf(f, " feed %.0f\n", top_sum(c, "bourse_feed_ring_depth", NULL));
}

static void symbols(FILE *f, const top_reading *c, const top_reading *p)
{
    struct {
        char sym[64];
        double d;
    } best[TOP_SYMBOLS] = {0};
    for (size_t i = 0; i < c->n; i++) {
        const top_sample *s = &c->s[i];
        if (strcmp(s->name, "bourse_symbol_orders_total"))
            continue;
        double d = s->v - (p ? top_sum(p, s->name, s->labels) : 0);
        if (d <= 0)
            continue;
        int k = TOP_SYMBOLS;
        while (k > 0 && best[k - 1].d < d)
            k--;
        if (k == TOP_SYMBOLS)
            continue;
        memmove(&best[k + 1], &best[k], (TOP_SYMBOLS - 1 - (size_t)k) * sizeof best[0]);
        top_label(s->labels, "symbol", best[k].sym, sizeof best[k].sym);
        best[k].d = d;
    }
    double dt = p ? c->t - p->t : 1;
    fprintf(f, "\nbusiest symbols (orders/s)");
    for (int k = 0; k < TOP_SYMBOLS && best[k].d > 0; k++)
        fprintf(f, "  %s %.0f", best[k].sym, best[k].d / (dt > 0 ? dt : 1));
    fprintf(f, "\n");
}

static void threads(FILE *f, const top_reading *c, const top_reading *p)
{
    double dt = c->t - p->t;
    struct {
        char name[32];
        double pct;
    } t[8] = {0};
    int n = 0;
    for (size_t i = 0; i < c->n; i++) { /* the busiest 8, busiest first */
        const top_sample *s = &c->s[i];
        if (strcmp(s->name, "bourse_thread_cpu_seconds_total"))
            continue;
        double pct = dt > 0 ? 100 * (s->v - top_sum(p, s->name, s->labels)) / dt : 0;
        int k = n < 8 ? n++ : 8;
        while (k > 0 && t[k - 1].pct < pct) {
            if (k < 8)
                t[k] = t[k - 1];
            k--;
        }
        if (k < 8) {
            top_label(s->labels, "thread", t[k].name, sizeof t[k].name);
            t[k].pct = pct;
        }
    }
    fprintf(f, "\nmemory %.1f MiB resident; CPU of the busiest threads:",
            top_sum(c, "bourse_process_resident_memory_bytes", NULL) / 1048576);
    for (int k = 0; k < n; k++)
        fprintf(f, "%s %s %.0f%%", k % 4 ? "," : "\n ", t[k].name, t[k].pct);
    fprintf(f, "\n");
}

static void chart(FILE *f, const double *h, int n, int cols)
{
    double lo = 1e300, hi = 0;
    for (int i = 0; i < n; i++)
        if (h[i] > 0) {
            lo = h[i] < lo ? h[i] : lo;
            hi = h[i] > hi ? h[i] : hi;
        }
    char a[16], b[16];
    fprintf(f, "\np99 round trip, last %d intervals (log scale)\n", n);
    if (hi <= 0) {
        fprintf(f, "  (no orders yet)\n");
        return;
    }
    if (hi <= lo * 1.01)
        lo = hi / 2;
    double span = log(hi / lo);
    int from = n > cols ? n - cols : 0;
    for (int row = CHART_ROWS; row >= 1; row--) {
        double level = lo * exp(span * (row - 0.5) / CHART_ROWS);
        fprintf(f, "%9s |", row == CHART_ROWS ? dur(hi, a, sizeof a) : row == 1 ? dur(lo, b, sizeof b) : "");
        for (int i = from; i < n; i++)
            fputc(h[i] > 0 && h[i] >= level ? '#' : ' ', f);
        fputc('\n', f);
    }
    fprintf(f, "%9s +", "");
    for (int i = from; i < n; i++)
        fputc('-', f);
    fputc('\n', f);
}

static void view(FILE *f, const top_reading *c, const top_reading *p, const double *hist, int nh,
                 const char *dir)
{
    char a[16], b[16];
    double dt = c->t - p->t;
    fprintf(f, "bourse top - %s - up %.0f s, seq %.0f (durable %.0f)\n", dir,
            top_sum(c, "bourse_uptime_seconds", NULL), top_sum(c, "bourse_last_seq", NULL),
            top_sum(c, "bourse_durable_seq", NULL));
    double busy = dt > 0 ? 100 *
                               (top_sum(c, "bourse_engine_busy_seconds_total", NULL) -
                                top_sum(p, "bourse_engine_busy_seconds_total", NULL)) /
                               dt
                         : 0;
    fprintf(f,
            "commands/s %.0f  orders/s %.0f  cancels/s %.0f  replaces/s %.0f  trades/s %.0f  engine busy "
            "%.0f%%\n",
            rate(c, p, "bourse_commands_total", NULL), rate(c, p, "bourse_commands_total", "type=\"order\""),
            rate(c, p, "bourse_commands_total", "type=\"cancel\""),
            rate(c, p, "bourse_commands_total", "type=\"replace\""),
            rate(c, p, "bourse_events_total", "type=\"trade\""), busy);
    fprintf(f, "accepted/s %.0f  rejected/s %.0f  refused %.0f  engine time/command p50 %s p99 %s\n",
            rate(c, p, "bourse_events_total", "type=\"accepted\""),
            rate(c, p, "bourse_events_total", "type=\"rejected\""),
            top_sum(c, "bourse_commands_refused_total", NULL),
            dur(top_quantile(c, p, "bourse_engine_command_seconds", NULL, 0.5), a, sizeof a),
            dur(top_quantile(c, p, "bourse_engine_command_seconds", NULL, 0.99), b, sizeof b));
    latency(f, c, p);
    double groups = top_sum(c, "bourse_journal_group_commands_count", NULL) -
                    top_sum(p, "bourse_journal_group_commands_count", NULL);
    double grouped = top_sum(c, "bourse_journal_group_commands_sum", NULL) -
                     top_sum(p, "bourse_journal_group_commands_sum", NULL);
    fprintf(f, "\njournal: syncs/s %.0f, commands per sync %.1f, sync p50 %s p99 %s\n",
            dt > 0 ? groups / dt : 0, groups > 0 ? grouped / groups : 0,
            dur(top_quantile(c, p, "bourse_journal_sync_seconds", NULL, 0.5), a, sizeof a),
            dur(top_quantile(c, p, "bourse_journal_sync_seconds", NULL, 0.99), b, sizeof b));
    rings(f, c);
    fprintf(f, "\nsessions %.0f (", top_sum(c, "bourse_sessions", NULL));
    char gates[16][64];
    int ng = label_values(c, "bourse_sessions", "gateway", gates, 16);
    for (int i = 0; i < ng; i++) {
        char has[1100];
        snprintf(has, sizeof has, "gateway=\"%s\"", gates[i]);
        fprintf(f, "%sgw%s %.0f", i ? ", " : "", gates[i], top_sum(c, "bourse_sessions", has));
    }
    fprintf(f, "), logins/s %.0f, connections %.0f; feed subscribers %.0f binary, %.0f WebSocket\n",
            rate(c, p, "bourse_logins_total", NULL), top_sum(c, "bourse_connections", NULL),
            top_sum(c, "bourse_feed_subscribers", "kind=\"binary\""),
            top_sum(c, "bourse_feed_subscribers", "kind=\"websocket\""));
    char cons[8][64];
    int nc = label_values(c, "bourse_consumer_lag_commands", "consumer", cons, 8);
    for (int i = 0; i < nc; i++) {
        char has[600];
        snprintf(has, sizeof has, "consumer=\"%s\"", cons[i]);
        fprintf(f, "%s%s %.0f", i ? ", " : "consumer lag (commands): ", cons[i],
                top_sum(c, "bourse_consumer_lag_commands", has));
    }
    if (nc)
        fprintf(f, "\n");
    char roles[4][64];
    int nr = label_values(c, "bourse_cluster_role", "role", roles, 4);
    for (int i = 0; i < nr; i++) {
        char has[600];
        snprintf(has, sizeof has, "role=\"%s\"", roles[i]);
        if (top_sum(c, "bourse_cluster_role", has) > 0)
            fprintf(f, "cluster: %s, term %.0f, apply lag %.0f, replication lag (max over peers) ", roles[i],
                    top_sum(c, "bourse_cluster_term", NULL),
                    top_sum(c, "bourse_cluster_apply_lag_entries", NULL));
    }
    if (nr) {
        double worst = 0;
        for (size_t i = 0; i < c->n; i++)
            if (!strcmp(c->s[i].name, "bourse_cluster_replication_lag_entries") && c->s[i].v > worst)
                worst = c->s[i].v;
        fprintf(f, "%.0f\n", worst);
    }
    symbols(f, c, p);
    threads(f, c, p);
    chart(f, hist, nh, 100);
}

static void sleep_or_key(double s, int tty)
{
    struct pollfd pf = {.fd = 0, .events = POLLIN};
    if (poll(&pf, tty ? 1 : 0, (int)(s * 1000)) > 0) {
        char ch;
        if (read(0, &ch, 1) == 1 && (ch == 'q' || ch == 'Q' || ch == 3))
            stop_flag = 1;
    }
}

int top_run(const top_options *o, FILE *out)
{
    top_reading r[2] = {{0}};
    char err[300];
    int cur = 0, history = o->history > 0 && o->history <= MAX_HISTORY ? o->history : 120, nh = 0;
    double *hist = calloc((size_t)history, sizeof *hist);
    if (!hist || top_read(&r[0], o->dir, err, sizeof err) != 0) {
        fprintf(stderr, "bourse: top: %s\n", hist ? err : "out of memory");
        free(hist);
        top_reading_free(&r[0]);
        return 1;
    }
    int tty = !o->once && isatty(0) && isatty(1);
    struct termios saved;
    if (tty && tcgetattr(0, &saved) == 0) {
        struct termios raw = saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        tcsetattr(0, TCSANOW, &raw);
        fputs("\033[?25l", out); /* no cursor */
    } else
        tty = 0;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int rc = 0;
    while (!stop_flag) {
        sleep_or_key(o->interval_s, tty);
        if (stop_flag)
            break;
        int next = cur ^ 1;
        if (top_read(&r[next], o->dir, err, sizeof err) != 0) {
            fprintf(stderr, "bourse: top: %s\n", err);
            rc = 1;
            break;
        }
        double p99 = top_quantile(&r[next], &r[cur], "bourse_order_round_trip_seconds", NULL, 0.99);
        if (nh == history) {
            memmove(hist, hist + 1, (size_t)(history - 1) * sizeof *hist);
            nh--;
        }
        hist[nh++] = p99;
        if (tty)
            fputs("\033[H\033[2J", out);
        view(out, &r[next], &r[cur], hist, nh, o->dir);
        if (tty)
            fputs("\n(q to quit)", out);
        fflush(out);
        cur = next;
        if (o->once)
            break;
    }
    if (tty) {
        tcsetattr(0, TCSANOW, &saved);
        fputs("\033[?25h\n", out);
    }
    free(hist);
    top_reading_free(&r[0]);
    top_reading_free(&r[1]);
    return rc;
}
