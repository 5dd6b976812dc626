/*
 * report.c - `bourse report`: the reporting database (src/report,
 * docs/reporting.md).
 *
 *   bourse report follow --data DIR      follow DIR's journal into
 *                                        DIR/report.db (a process of its own)
 *   bourse report REPORT --data DIR ...  print a report from it
 *
 * `--db` is a SQLite file or a postgresql:// URL, for follow and the
 * reports alike.
 *
 * Why a process and not a thread of `bourse serve`: the follower needs
 * nothing from the server but its journal files, and as its own process
 * it costs the engine thread nothing, it can be stopped, restarted or
 * crash without touching trading, and it may run on another machine that
 * shares the directory (or, later, on a replica).
 */
#include "report/report.h"
#include "cli.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void help(FILE *f)
{
    fputs(
        "usage: bourse report follow --data DIR [--db PATH] [--batch N] [--batch-ms MS]\n"
        "                            [--until SEQ] [--exit-at-end] [--stats] [--metrics-file F]\n"
        "                            [--cpu idle|low|normal] [--config FILE]\n"
        "       bourse report REPORT --data DIR [--db PATH] [--format table|csv|json] [options]\n\n"
        "follow        write DIR's journal into the reporting database (DIR/report.db, or\n"
        "              PostgreSQL with --db postgresql://USER@HOST/DB), exactly once, as the\n"
        "              server writes it; until Ctrl-C, --until SEQ or (--exit-at-end) the end;\n"
        "              --metrics-file F: its position as a Prometheus textfile (docs/metrics.md);\n"
        "              --cpu: its CPU priority beside the server (idle: SCHED_IDLE, the default;\n"
        "              low: nice 19); --config FILE: the [report] section of the server's file\n"
        "history       a user's trades (--user NAME [--symbol SYM] [--from T] [--to T])\n"
        "statement     a user's balances and movements (--user NAME [--from T] [--to T])\n"
        "pnl           realized P&L per symbol, FIFO lots (--user NAME [--symbol SYM] [--from T] [--to T])\n"
        "eod           end-of-day settlement, OHLCV and positions ([--date YYYY-MM-DD])\n"
        "audit         the life of an order: every command and event (--user NAME --order OID)\n"
        "surveillance  self-trades prevented and users trading at least --volume N shares\n"
        "              ([--from T] [--to T])\n"
        "reconcile     the ledger's balances against the core's from the journal\n"
        "              ([--seq SEQ] [--all]); exit 1 when any differs\n\n"
        "Times T: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS (UTC) or nanoseconds; both ends\n"
        "are included (a date as --to means its whole day).\n",
        f);
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static const char *need(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        cli_error("report: %s needs a value", argv[*i]);
        exit(2);
    }
    return argv[++*i];
}

int cmd_report(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        help(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *what = argv[1], *dir = NULL, *db_path = NULL;
    /* The follower yields the CPU to the server unless told otherwise
     * (src/report/follow.c, "Beside the server"). */
    report_follow_config fc = {.cpu = REPORT_CPU_IDLE};
    report_query q = {.to_ns = INT64_MAX};
    int stats = 0;
    char err[1024], config_db[1024] = "";
    /* --config first, so that the command line's options win over it. */
    for (int i = 2; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--config") &&
            report_config_load(argv[i + 1], &fc, config_db, sizeof config_db, err, sizeof err) != 0) {
            cli_error("report: %s", err);
            return 2;
        }
    if (*config_db)
        db_path = config_db;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--config"))
            need(argc, argv, &i);
        else if (!strcmp(a, "--cpu")) {
            const char *v = need(argc, argv, &i);
            if ((fc.cpu = report_cpu_parse(v)) < 0) {
                cli_error("report: --cpu is idle, low or normal, not '%s'", v);
                return 2;
            }
        } else if (!strcmp(a, "--data"))
            dir = need(argc, argv, &i);
        else if (!strcmp(a, "--db"))
            db_path = need(argc, argv, &i);
        else if (!strcmp(a, "--batch"))
            fc.batch = (uint32_t)cli_number(a, need(argc, argv, &i), 1000000);
        else if (!strcmp(a, "--batch-ms"))
            fc.batch_ms = (uint32_t)cli_number(a, need(argc, argv, &i), 3600000);
        else if (!strcmp(a, "--until"))
            fc.until_seq = cli_number(a, need(argc, argv, &i), UINT64_MAX);
        else if (!strcmp(a, "--exit-at-end"))
            fc.exit_at_end = 1;
        else if (!strcmp(a, "--metrics-file"))
            fc.metrics_file = need(argc, argv, &i);
        else if (!strcmp(a, "--stats"))
            stats = 1;
        else if (!strcmp(a, "--user"))
            q.user = need(argc, argv, &i);
        else if (!strcmp(a, "--order"))
            q.oid = need(argc, argv, &i);
        else if (!strcmp(a, "--symbol"))
            q.symbol = need(argc, argv, &i);
        else if (!strcmp(a, "--date"))
            q.date = need(argc, argv, &i);
        else if (!strcmp(a, "--volume"))
            q.volume = (int64_t)cli_number(a, need(argc, argv, &i), INT64_MAX);
        else if (!strcmp(a, "--seq"))
            q.seq = cli_number(a, need(argc, argv, &i), UINT64_MAX);
        else if (!strcmp(a, "--all"))
            q.all = 1;
        else if (!strcmp(a, "--from") || !strcmp(a, "--to")) {
            const char *v = need(argc, argv, &i);
            int end = !strcmp(a, "--to");
            if (report_parse_time(v, end, end ? &q.to_ns : &q.from_ns) != 0) {
                cli_error("report: %s: bad time '%s' (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS or nanoseconds)", a, v);
                return 2;
            }
        } else if (!strcmp(a, "--format")) {
            const char *v = need(argc, argv, &i);
            if (!strcmp(v, "table"))
                q.format = REPORT_TABLE;
            else if (!strcmp(v, "csv"))
                q.format = REPORT_CSV;
            else if (!strcmp(v, "json"))
                q.format = REPORT_JSON;
            else {
                cli_error("report: --format is table, csv or json, not '%s'", v);
                return 2;
            }
        } else {
            cli_error("report: unknown option '%s' (see bourse report --help)", a);
            return 2;
        }
    }
    if (!dir) {
        cli_error("report: --data DIR is required");
        return 2;
    }
    if (!strcmp(what, "follow")) {
        fc.dir = dir;
        fc.db_path = db_path;
        fc.stop = &stop_flag;
        struct sigaction sa = {.sa_handler = on_signal};
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        report_follow_stats st;
        int rc = report_follow(&fc, &st, err, sizeof err);
        if (stats || rc != 0)
            fprintf(stderr,
                    "report: seq %llu: %llu commands written (%llu events), %llu replayed, %llu commits\n",
                    (unsigned long long)st.last_seq, (unsigned long long)st.written,
                    (unsigned long long)st.events, (unsigned long long)st.replayed,
                    (unsigned long long)st.commits);
        if (stats && st.write_s > 0)
            fprintf(stderr, "report: written in %.3f s: %.0f commands/s, %.0f events/s\n", st.write_s,
                    (double)st.written / st.write_s, (double)st.events / st.write_s);
        if (rc != 0) {
            cli_error("%s", err);
            return 1;
        }
        return 0;
    }
    char path[4200];
    if (db_path)
        snprintf(path, sizeof path, "%s", db_path);
    else
        report_db_path(path, sizeof path, dir);
    rstore *db = report_store_open(path, err, sizeof err);
    if (!db) {
        cli_error("%s", err);
        return 1;
    }
    q.dir = dir;
    int rc = report_run(db, what, &q, stdout, err, sizeof err);
    report_store_close(db);
    if (rc < 0) {
        cli_error("report %s: %s", what, err);
        return 1;
    }
    return rc;
}
