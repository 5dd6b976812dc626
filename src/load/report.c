/*
 * report.c - what `bourse load` prints: its options, and the run's report
 * (text or one JSON object) with the server's memory as /proc shows it.
 */
#include "load/load_int.h"
#include "net/ouch.h"

#include <stdlib.h>
#include <string.h>

void load_help(FILE *f)
{
    fputs("usage: bourse load --data DIR --order-port P [--users N] [--sessions M]\n"
          "                   [--rate R] [--seconds S] [--symbols A,B,...] [--json]\n"
          "                   [--connect HOST:PORT[,HOST:PORT...]] [--procs N] [--cpu LIST]\n\n"
          "Creates and funds N users (load0, load1, ...) through DIR/admin.sock, sets\n"
          "their passwords, logs in M sessions (default N) and sends an open-loop mix\n"
          "of orders, cancels and replaces at R per second for S seconds (R = 0: the\n"
          "sessions only stay logged in).  Prints round-trip percentiles to Accepted\n"
          "and to Executed, measured from each order's intended send time, next to a\n"
          "bare TCP echo round trip on loopback; --json prints one JSON object.\n"
          "--acked FILE writes `USER ORDERID` for every order the server acknowledged\n"
          "(Accepted or Replaced), for checking recovery after a crash.  --connect\n"
          "(repeatable; instead of --host/--order-port) names the servers: a session\n"
          "whose server goes away logs in again to the next, resuming its reports at\n"
          "the next it expects; reconnects, gaps and duplicates are reported.\n"
          "SIGINT or SIGTERM ends the sending early; the answers are still awaited\n"
          "and the report printed.\n\n"
          "Sessions take the users in turn, 1,000 from each source address 127.0.x.y.\n"
          "Orders go only over the sessions of the main loop: as many as one\n"
          "descriptor table holds (the open-file limit, raised to the hard limit,\n"
          "less 256).  Sessions past that are held by threads with descriptor tables\n"
          "of their own: they log in, send a heartbeat every second and read what\n"
          "the server sends; their failed logins count as errors, and their closing\n"
          "by the server as disconnects.  The server's RSS is read with every session\n"
          "logged in.  For tests: --main-sessions K keeps at most K sessions in the\n"
          "main loop, --hold-threads T starts at least T holder threads, and\n"
          "--hold-heartbeat-ms MS sets the holders' heartbeat period (0: none).\n\n"
          "--procs N spreads the sessions and the rate over N processes, so that the\n"
          "generator keeps up with a fast server (its send lag is reported); --cpu\n"
          "LIST (as 2,3 or 4-7) pins them (or the one process) to those CPUs in turn.\n"
          "The server's own stage clocks (admin socket `stages`) are started over\n"
          "before the run and printed after it: where its time went.\n\n"
          "Its users, balances and orders are journaled in DIR like any: run it on a\n"
          "scratch exchange (`make try-load` starts one and removes it after), not on\n"
          "one whose state matters.\n\n"
          "Other protocols, same open loop: --proto fix (FIX beside OUCH, docs/fix.md)\n"
          "and --proto http --data DIR --http-port P [--users N] [--connections C]\n"
          "[--rate R] [--seconds S] [--symbol SYM]: order + cancel pairs over the\n"
          "HTTP API, signed with an API key per user (users hl00000...), on C\n"
          "keep-alive connections; round trips from each request's due time, the\n"
          "achieved rate and errors by status and code (docs/benchmarks.md).\n",
          f);
}

static void print_hist(FILE *f, const char *name, const hist *h, int json)
{
    if (json) {
        /* the curve: percentile, value (ns), for an HdrHistogram-style plot */
        static const double at[] = {1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999};
        fprintf(f,
                "\"%s\": {\"count\": %llu, \"p50\": %llu, \"p90\": %llu, \"p99\": %llu, \"p999\": %llu, "
                "\"max\": %llu, \"mean\": %llu, \"curve\": [",
                name, (unsigned long long)h->count, (unsigned long long)hist_percentile(h, 50),
                (unsigned long long)hist_percentile(h, 90), (unsigned long long)hist_percentile(h, 99),
                (unsigned long long)hist_percentile(h, 99.9), (unsigned long long)h->max,
                (unsigned long long)(h->count ? h->sum / h->count : 0));
        for (size_t i = 0; i < sizeof at / sizeof *at; i++)
            fprintf(f, "[%g, %llu], ", at[i], (unsigned long long)hist_percentile(h, at[i]));
        fprintf(f, "[100, %llu]]}", (unsigned long long)h->max);
        return;
    }
    fprintf(f, "%-22s n=%-9llu p50 %7.1f us  p90 %7.1f us  p99 %7.1f us  p99.9 %7.1f us  max %8.1f us\n",
            name, (unsigned long long)h->count, hist_percentile(h, 50) / 1e3, hist_percentile(h, 90) / 1e3,
            hist_percentile(h, 99) / 1e3, hist_percentile(h, 99.9) / 1e3, (double)h->max / 1e3);
}

long load_server_rss_kb(const char *dir)
{
    char p[600], line[256];
    snprintf(p, sizeof p, "%s/server.pid", dir);
    FILE *f = fopen(p, "r");
    long pid = 0, kb = -1;
    if (!f || fscanf(f, "%ld", &pid) != 1) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    snprintf(p, sizeof p, "/proc/%ld/status", pid);
    if (!(f = fopen(p, "r")))
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

void load_report(load *l, double secs, long rss0, long rss1, long rss2)
{
    uint64_t logged_in = l->nmain + l->hs.logged_in;
    double per_session = rss0 > 0 && rss1 > 0 ? (double)(rss1 - rss0) * 1024.0 / (double)logged_in : -1;
    FILE *f = stdout;
    if (l->json) {
        fprintf(f,
                "{\"orders\": %llu, \"orders_per_sec\": %.0f, \"rate\": %llu, \"seconds\": %.2f, "
                "\"sessions\": %u, \"users\": %u, \"errors\": %llu, \"disconnects\": %llu, "
                "\"accepted\": %llu, \"rejected\": %llu, \"executions\": %llu, \"canceled\": %llu, ",
                (unsigned long long)l->sent, (double)l->sent / (l->seconds > 0 ? l->seconds : 1),
                (unsigned long long)l->rate, secs, l->sessions, l->users, (unsigned long long)l->errors,
                (unsigned long long)l->disconnects, (unsigned long long)l->acked,
                (unsigned long long)l->rejected, (unsigned long long)l->execs,
                (unsigned long long)l->canceled);
        fprintf(f,
                "\"sessions_main\": %u, \"sessions_held\": %u, \"holder_threads\": %u, \"logged_in\": %llu, "
                "\"login_seconds\": %.2f, \"login_failures\": %llu, \"held_disconnects\": %llu, "
                "\"generator_procs\": %u, ",
                l->nmain, l->sessions - l->nmain, l->hs.threads, (unsigned long long)logged_in, l->login_secs,
                (unsigned long long)l->hs.failed, (unsigned long long)l->hs.disconnects,
                l->procs > 1 ? l->procs : 1);
        print_hist(f, "rtt_ns", &l->rtt_ack, 1);
        fputs(", ", f);
        print_hist(f, "exec_rtt_ns", &l->rtt_exec, 1);
        fputs(", ", f);
        print_hist(f, "echo_rtt_ns", &l->echo, 1);
        fputs(", ", f);
        print_hist(f, "echo_open_loop_rtt_ns", &l->echo_open, 1);
        fputs(", ", f);
        print_hist(f, "send_lag_ns", &l->lag, 1);
        fputs(", ", f);
        load_stages_report(l, f, 1);
        /* round trips to Accepted by when each was due: orders, mean, max */
        fputs(", \"timeline_100ms\": [", f);
        int last = -1;
        for (int i = 0; i < LOAD_TL; i++)
            if (l->tl[i].n)
                last = i;
        for (int i = 0; i <= last; i++)
            fprintf(f, "%s[%llu, %llu, %llu]", i ? ", " : "", (unsigned long long)l->tl[i].n,
                    (unsigned long long)(l->tl[i].n ? l->tl[i].sum / l->tl[i].n : 0),
                    (unsigned long long)l->tl[i].max);
        fputc(']', f);
        fprintf(f,
                ", \"server_rss_kb\": %ld, \"server_rss_kb_idle\": %ld, \"bytes_per_session\": %.0f, "
                "\"reconnects\": %llu, \"gaps\": %llu, \"duplicates\": %llu, \"unanswered\": %llu}\n",
                rss2, rss1, per_session, (unsigned long long)l->reconnects, (unsigned long long)l->gaps,
                (unsigned long long)l->duplicates, (unsigned long long)l->unanswered);
        return;
    }
    fprintf(f,
            "load: %llu orders in %.1f s (%.0f/s target %llu/s), %u sessions, %llu errors, %llu "
            "disconnects\n",
            (unsigned long long)l->sent, l->seconds, (double)l->sent / (l->seconds > 0 ? l->seconds : 1),
            (unsigned long long)l->rate, l->sessions, (unsigned long long)l->errors,
            (unsigned long long)l->disconnects);
    fprintf(f, "sessions: %llu of %u logged in in %.2f s; %u in the main loop send the orders",
            (unsigned long long)logged_in, l->sessions, l->login_secs, l->nmain);
    if (l->hold)
        fprintf(f, ", %u held by %u thread%s (%llu logins failed, %llu closed by the server)",
                l->sessions - l->nmain, l->hs.threads, l->hs.threads == 1 ? "" : "s",
                (unsigned long long)l->hs.failed, (unsigned long long)l->hs.disconnects);
    fputc('\n', f);
    if (l->eps.n)
        fprintf(f,
                "reconnects: %llu, gaps %llu, duplicates %llu, orders not sent while down %llu, sent after "
                "a reconnect %llu\n",
                (unsigned long long)l->reconnects, (unsigned long long)l->gaps,
                (unsigned long long)l->duplicates, (unsigned long long)l->unsent,
                (unsigned long long)l->sent_resumed);
    if (l->errors) {
        fprintf(f, "errors: %llu unanswered", (unsigned long long)l->unanswered);
        for (int i = 0; i < 256; i++)
            if (l->reasons[i])
                fprintf(f, ", %llu %s", (unsigned long long)l->reasons[i], ouch_reason_name(i));
        if (l->hs.failed)
            fprintf(f, ", %llu held sessions not logged in (%s)", (unsigned long long)l->hs.failed,
                    l->hs.first_error);
        fputc('\n', f);
    }
    print_hist(f, "round trip to Accepted", &l->rtt_ack, 0);
    print_hist(f, "round trip to Executed", &l->rtt_exec, 0);
    print_hist(f, "TCP echo, ping-pong", &l->echo, 0);
    print_hist(f, "TCP echo, open loop", &l->echo_open, 0);
    print_hist(f, "generator send lag", &l->lag, 0);
    load_stages_report(l, f, 0);
    if (rss1 > 0)
        fprintf(f,
                "server RSS: %ld MiB before login, %ld MiB with %llu sessions (%.0f bytes each), %ld MiB "
                "at the end\n",
                rss0 / 1024, rss1 / 1024, (unsigned long long)logged_in, per_session, rss2 / 1024);
}
