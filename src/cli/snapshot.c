/*
 * snapshot.c - `bourse snapshot save|info|list`: write a snapshot of a data
 * directory's recovered state, or look at snapshot files.
 *
 * save recovers the directory as the server would, writes a snapshot at its
 * last seq through the journal (so exactly as the server does: a forked
 * child, checksummed, synced, renamed), and with --archive moves the
 * segments and snapshots it supersedes into DIR/archive.
 */
#include "bourse/bourse.h"
#include "cli.h"
#include "journal/journal.h"
#include "journal/snapfile.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void help(FILE *f)
{
    fputs("usage: bourse snapshot save [--archive] DIR\n"
          "       bourse snapshot info FILE\n"
          "       bourse snapshot list DIR\n\n"
          "save   recover data directory DIR and write a snapshot of its state at\n"
          "       the last journaled command (DIR/snap-SEQ.snap); --archive then\n"
          "       moves the segments and snapshots it supersedes to DIR/archive\n"
          "info   check a snapshot file (checksums, a full load, the state hash)\n"
          "       and describe it; exit 1 when it is damaged\n"
          "list   the snapshots in DIR, each checked\n",
          f);
}

static void warn(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "bourse: warning: %s\n", msg);
}

static int save(const char *dir, int archive)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) { /* inspect, never create */
        cli_error("%s: no such data directory", dir);
        return 1;
    }
    journal_config cfg = {.dir = dir, .durability = JOURNAL_NONE, .on_warning = warn};
    journal *j;
    bourse_engine *e;
    char err[600];
    if (journal_open(&cfg, &j, &e, err, sizeof err) != 0) {
        cli_error("%s", err);
        return 1;
    }
    uint64_t seq = journal_last_seq(j);
    if (seq == 0) {
        cli_error("%s: the journal is empty: nothing to snapshot", dir);
        journal_close(j, err, sizeof err);
        bourse_engine_free(e);
        return 1;
    }
    int rc = journal_snapshot_seq(j) == seq ? 0 : journal_snapshot(j, e);
    while (rc == 0 && journal_snapshot_seq(j) < seq && !journal_error(j)[0])
        usleep(2000);
    if (rc != 0 || journal_snapshot_seq(j) < seq) {
        cli_error("%s", journal_error(j)[0] ? journal_error(j) : "snapshot failed");
        rc = 1;
    } else {
        char path[4200];
        snap_path(path, sizeof path, dir, seq);
        printf("%s: seq %" PRIu64 ", hash %016" PRIx64 "\n", path, seq, bourse_engine_hash(e));
        if (archive) {
            int moved = journal_archive(j);
            if (moved < 0) {
                cli_error("%s", journal_error(j));
                rc = 1;
            } else {
                printf("archived %d file%s to %s/archive\n", moved, moved == 1 ? "" : "s", dir);
            }
        }
    }
    if (journal_close(j, err, sizeof err) != 0) {
        cli_error("%s", err);
        rc = 1;
    }
    bourse_engine_free(e);
    return rc;
}

static int describe(const char *path, int brief)
{
    snap_info info;
    char err[600];
    bourse_engine *e = snap_load(path, &info, err, sizeof err);
    if (!e) {
        if (brief)
            printf("%s: DAMAGED: %s\n", path, err);
        else
            cli_error("%s", err);
        return 1;
    }
    bourse_stats st;
    bourse_engine_stats(e, &st);
    if (brief) {
        printf("%s: seq %" PRIu64 ", hash %016" PRIx64 ", %" PRIu64 " bytes, sound\n", path, info.seq,
               info.hash, info.body_bytes + SNAP_FILE_HEADER);
    } else {
        char when[64] = "-";
        time_t secs = (time_t)(info.ts_ns / 1000000000);
        struct tm tm;
        if (info.ts_ns && gmtime_r(&secs, &tm))
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("snapshot  %s\nseq       %" PRIu64 "\ntime      %s (%" PRId64 " ns)\nhash      %016" PRIx64
               "\nbytes     %" PRIu64 "\ntables    %s\nstate     %u symbols, %u users, %u positions, "
               "%u open orders at %u levels, %u order ids, %" PRIu64 " trades, %" PRIu64 " commands, "
               "market %s\nchecks    sound (checksums, load, hash)\n",
               path, info.seq, when, info.ts_ns, info.hash, info.body_bytes + SNAP_FILE_HEADER,
               info.flags & 1 ? "grow" : "fixed", st.symbols, st.users, st.positions, st.open_orders,
               st.levels, st.ids, st.trades, st.commands, st.is_open ? "open" : "closed");
    }
    bourse_engine_free(e);
    return 0;
}

static int list(const char *dir)
{
    uint64_t *seqs;
    size_t n;
    char err[600];
    if (snap_list(dir, &seqs, &n, err, sizeof err) != 0) {
        cli_error("%s", err);
        return 1;
    }
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4200];
        snap_path(path, sizeof path, dir, seqs[i]);
        bad |= describe(path, 1);
    }
    if (!n)
        printf("%s: no snapshots\n", dir);
    free(seqs);
    return bad;
}

int cmd_snapshot(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        help(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *what = argv[1], *arg = NULL;
    int archive = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--archive") && !strcmp(what, "save"))
            archive = 1;
        else if (argv[i][0] == '-' || arg) {
            cli_error("snapshot %s: unexpected argument '%s'", what, argv[i]);
            help(stderr);
            return 2;
        } else
            arg = argv[i];
    }
    if (!arg) {
        cli_error("snapshot %s: which %s?", what, strcmp(what, "info") ? "data directory" : "file");
        return 2;
    }
    if (!strcmp(what, "save"))
        return save(arg, archive);
    if (!strcmp(what, "info"))
        return describe(arg, 0);
    if (!strcmp(what, "list"))
        return list(arg);
    cli_error("snapshot: unknown action '%s' (save, info or list)", what);
    return 2;
}
