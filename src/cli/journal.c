/*
 * journal.c - `bourse journal dump|verify|recover DIR`: the journal of a
 * data directory as replay text, checked, or recovered.
 *
 * dump prints the commands back in the replay format, in order, so that
 * `bourse replay` of its output gives the live engine's events and hash.
 * Records hold user and symbol ids; dump keeps the names by applying just
 * the `user` and `symbol` commands to a scratch engine made with the
 * directory's limits, which hands out exactly the ids the live engine did
 * (capacity refusals included).  When the journal's start has been
 * archived, the names come from the snapshot that covers it.
 *
 * verify reads every byte (the zeros after the records too), replays the
 * whole journal when it starts at seq 1 and compares the engine's hash
 * with every snapshot's at its seq, and loads every snapshot.
 *
 * follow is dump that does not stop at the end: it waits for the server
 * to journal more (journal/reader.h), like `tail -f`.
 *
 * recover does what the server does when it starts: newest sound snapshot,
 * replay, torn tail cut; it prints the recovered state's hash.
 */
#include "journal/journal.h"
#include "bourse/bourse.h"
#include "bourse/text.h"
#include "cli.h"
#include "journal/apply.h"
#include "journal/reader.h"
#include "journal/scan.h"
#include "journal/snapfile.h"

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum { OUT_BLOCK = 1 << 20 };

static void help(FILE *f)
{
    fputs("usage: bourse journal dump [--seq] DIR\n"
          "       bourse journal verify [--strict] [--quick] DIR\n"
          "       bourse journal recover [--events] DIR\n"
          "       bourse journal follow [--seq] [--from SEQ] [--until SEQ] DIR\n\n"
          "dump     print the journal of data directory DIR as a replay file: the\n"
          "         same commands in the same order (--seq: a `# seq N ts NS`\n"
          "         comment before each).  A torn tail is left out, with a warning.\n"
          "verify   check every segment, record and snapshot of DIR; replay the\n"
          "         journal and compare its state hash with each snapshot's\n"
          "         (--quick: checksums only).  Exit 0 when sound, 1 with the\n"
          "         damaged file and byte offset otherwise.  A torn tail (the\n"
          "         normal trace of a crash, cut off by recovery) is a warning,\n"
          "         or exit status 3 with --strict.\n"
          "recover  recover DIR as the server would at start (newest sound\n"
          "         snapshot, then the journal after it; a torn tail is cut off)\n"
          "         and print `hash HEX` of the state on standard error\n"
          "         (--events: the replayed commands' events on standard output).\n"
          "follow   as dump, from seq SEQ on (default: the start), then each command\n"
          "         as the server journals it, until Ctrl-C (or after seq --until);\n"
          "         DIR need not hold a journal yet.  Like `tail -f`: exit 0.\n",
          f);
}

static void warn(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "bourse: warning: %s\n", msg);
}

/* ---- names: a scratch engine fed only the user and symbol commands ---- */

typedef struct names {
    bourse_engine *e;
    int grow;
} names;

static void drop(void *ctx, const bourse_cmd *c, const bourse_event *ev)
{
    (void)ctx, (void)c, (void)ev;
}

static int names_init(names *n, const char *dir, const jscan *probe, char *err, size_t errlen)
{
    n->grow = (probe->header.flags & SEG_FLAG_GROW) != 0;
    n->e = NULL;
    if (probe->first_seq > 1) { /* the start is archived: names from a snapshot covering it */
        uint64_t *seqs;
        size_t k;
        if (snap_list(dir, &seqs, &k, err, errlen) != 0)
            return -1;
        for (size_t i = 0; i < k && !n->e; i++) {
            char path[4200];
            snap_info info;
            if (seqs[i] + 1 < probe->first_seq)
                continue;
            snap_path(path, sizeof path, dir, seqs[i]);
            n->e = snap_load(path, &info, err, errlen);
            if (n->e)
                fprintf(stderr,
                        "bourse: note: the journal starts at seq %" PRIu64 "; names before it come from %s\n",
                        probe->first_seq, path);
        }
        free(seqs);
        if (!n->e) {
            snprintf(err, errlen, "%s: the journal starts at seq %" PRIu64 " and no snapshot covers it", dir,
                     probe->first_seq);
            return -1;
        }
        return 0;
    }
    n->e = bourse_engine_new(&probe->header.limits);
    if (!n->e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Track a command; NULL, or why its ids cannot be right. */
static const char *names_track(names *n, bourse_cmd *c, uint64_t known_upto)
{
    if (c->user != BOURSE_NONE) {
        const bourse_name *u = bourse_user_name(n->e, c->user);
        if (!u)
            return "user id not created by any earlier command";
        c->user_name = *u;
    }
    if (c->symbol == BOURSE_CASH) {
        memset(&c->symbol_name, 0, sizeof c->symbol_name);
        memcpy(c->symbol_name.s, "CASH", 4);
    } else if (c->symbol != BOURSE_NONE) {
        const bourse_symbol_name *s = bourse_symbol_name_of(n->e, c->symbol);
        if (!s)
            return "symbol id not created by any earlier command";
        c->symbol_name = *s;
    }
    /* An account command may make a user (an approval: bourse/account.h),
     * so the names follow it too. */
    if ((c->type == BOURSE_CMD_USER || c->type == BOURSE_CMD_SYMBOL || c->type == BOURSE_CMD_ACCOUNT) &&
        c->seq > known_upto) {
        if (n->grow && bourse_engine_reserve(n->e) != 0)
            return "out of memory";
        bourse_engine_apply(n->e, c, drop, NULL);
    }
    return NULL;
}

/* ---- dump ---- */

typedef struct dumper {
    names n;
    uint64_t known_upto; /* seqs whose users/symbols are in n already */
    int seq;
    char *buf;
    size_t len;
} dumper;

static void flush_out(dumper *d)
{
    if (d->len && fwrite(d->buf, 1, d->len, stdout) != d->len) {
        cli_error("writing the dump: output failed");
        exit(1);
    }
    d->len = 0;
}

static const char *dump_one(void *ctx, const bourse_cmd *cmd)
{
    dumper *d = ctx;
    bourse_cmd c = *cmd;
    const char *why = names_track(&d->n, &c, d->known_upto);
    if (why)
        return why;
    if (d->len > OUT_BLOCK - 2 * BOURSE_TEXT_LINE_MAX)
        flush_out(d);
    if (d->seq)
        d->len += (size_t)sprintf(d->buf + d->len, "# seq %" PRIu64 " ts %" PRId64 "\n", c.seq, c.ts_ns);
    d->len += bourse_text_cmd(&c, d->buf + d->len);
    return NULL;
}

static int probe_dir(const char *dir, jscan *probe)
{
    char err[600];
    *probe = (jscan){.dir = dir, .from_seq = UINT64_MAX};
    if (jscan_run(probe, err, sizeof err) != 0) {
        cli_error("%s", err);
        return 1;
    }
    if (!probe->nsegs) {
        cli_error("%s: no journal segments", dir);
        return 1;
    }
    return 0;
}

static void report_torn(const char *dir, const jscan *s)
{
    fprintf(stderr,
            "bourse: warning: %s/%08u.seg: offset %" PRIu64 ": %s: torn tail of %" PRIu64
            " bytes after seq %" PRIu64 " (recovery cuts it off)\n",
            dir, s->active_index, s->torn_off, s->torn_why, s->torn_bytes, s->last_seq);
}

/* Which seqs' users and symbols the names engine knows already: none
 * (from seq 1), or those up to the snapshot it was loaded from. */
static void start_names(dumper *d, const char *dir, const jscan *probe)
{
    char err[600];
    d->known_upto = probe->first_seq > 1 ? UINT64_MAX : 0;
    if (!probe->first_seq) {
        /* No command at all: a journal begun at a snapshot (a replica's
         * install) and nothing since.  Say so, or the empty dump would
         * read as a whole journal of nothing. */
        uint64_t *seqs;
        size_t k;
        if (snap_list(dir, &seqs, &k, err, sizeof err) == 0) {
            if (k && seqs[k - 1])
                d->len += (size_t)sprintf(d->buf + d->len,
                                          "# journal of %s from seq %" PRIu64
                                          " (earlier commands archived; none since the snapshot)\n",
                                          dir, seqs[k - 1] + 1);
            free(seqs);
        }
        return;
    }
    if (probe->first_seq > 1) {
        /* Names known from the snapshot: its users/symbols were created at
         * or before its seq, so track only later creations. */
        uint64_t *seqs;
        size_t k;
        if (snap_list(dir, &seqs, &k, err, sizeof err) == 0) {
            for (size_t i = 0; i < k; i++)
                if (seqs[i] + 1 >= probe->first_seq) {
                    d->known_upto = seqs[i];
                    break;
                }
            free(seqs);
        }
        d->len += (size_t)sprintf(d->buf + d->len,
                                  "# journal of %s from seq %" PRIu64 " (earlier commands archived)\n", dir,
                                  probe->first_seq);
    }
}

static int dump(const char *dir, int seq)
{
    jscan probe;
    char err[600];
    if (probe_dir(dir, &probe))
        return 1;
    dumper d = {.seq = seq, .buf = malloc(OUT_BLOCK)};
    if (!d.buf || names_init(&d.n, dir, &probe, err, sizeof err) != 0) {
        cli_error("%s", d.buf ? err : "out of memory");
        free(d.buf);
        return 1;
    }
    start_names(&d, dir, &probe);
    if (probe.nsegs && probe.header.limits.flags & BOURSE_DAY_IDS)
        d.len +=
            (size_t)sprintf(d.buf + d.len, "# order ids are unique per trading day: replay with --day-ids\n");
    jscan s = {.dir = dir, .on_record = dump_one, .ctx = &d};
    int rc = jscan_run(&s, err, sizeof err);
    flush_out(&d);
    fflush(stdout);
    if (rc != 0)
        cli_error("%s", err);
    else if (s.torn_bytes)
        report_torn(dir, &s);
    bourse_engine_free(d.n.e);
    free(d.buf);
    return rc ? 1 : 0;
}

/* ---- follow ---- */

static jreader *following;

static void stop_following(int sig)
{
    (void)sig;
    if (following)
        jreader_stop(following);
}

/*
 * dump, and then the commands as they are written (journal/reader.h),
 * until a signal (SIGINT, SIGTERM: exit 0) or --until.  Output is flushed
 * whenever the reader reaches the end, so a pipe sees each command soon
 * after it is journaled.  Names need every user and symbol command, so the
 * reader starts where the journal does and prints from `from` on.
 */
static int follow(const char *dir, int seq, uint64_t from, uint64_t until)
{
    /* The probe reads a journal that may be written as it reads: a record
     * half written at its end, or a segment rolled over under it, can look
     * like damage for a moment.  Damage stays; so look again a few times
     * (half a second in all) before calling it that. */
    jscan probe;
    char err[600];
    for (int tries = 0;; tries++) {
        probe = (jscan){.dir = dir, .from_seq = UINT64_MAX};
        if (jscan_run(&probe, err, sizeof err) == 0)
            break;
        if (tries == 50) {
            cli_error("%s", err);
            return 1;
        }
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    dumper d = {.seq = seq, .buf = malloc(OUT_BLOCK)};
    if (!d.buf) {
        cli_error("out of memory");
        return 1;
    }
    uint64_t start = 1;
    if (probe.records) {
        if (names_init(&d.n, dir, &probe, err, sizeof err) != 0) {
            cli_error("%s", err);
            free(d.buf);
            return 1;
        }
        start_names(&d, dir, &probe);
        start = probe.first_seq;
    }
    if (from < start)
        from = start;
    jreader *r;
    if (jreader_open(&(jreader_config){.dir = dir, .from_seq = start}, &r, err, sizeof err) != 0) {
        cli_error("%s", err);
        free(d.buf);
        return 1;
    }
    following = r;
    struct sigaction sa = {.sa_handler = stop_following};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed pipe: the write fails, we exit 1 */
    int status = 0;
    for (;;) {
        bourse_cmd c;
        int rc = jreader_next(r, &c, 0);
        if (rc == JREAD_TIMEOUT) {
            flush_out(&d);
            if (fflush(stdout) != 0) {
                status = 1;
                break;
            }
            rc = jreader_next(r, &c, -1);
        }
        if (rc == JREAD_STOPPED)
            break;
        if (rc == JREAD_ERROR) {
            flush_out(&d);
            cli_error("%s", jreader_error(r));
            status = 1;
            break;
        }
        if (!d.n.e) { /* the directory had no records when we started */
            bourse_limits lim;
            jreader_limits(r, &lim, &d.n.grow);
            if (!(d.n.e = bourse_engine_new(&lim))) {
                cli_error("out of memory");
                status = 1;
                break;
            }
        }
        const char *why;
        if (c.seq >= from) {
            why = dump_one(&d, &c);
        } else {
            bourse_cmd n = c;
            why = names_track(&d.n, &n, d.known_upto);
        }
        if (why) {
            flush_out(&d);
            cli_error("%s: seq %" PRIu64 ": %s", dir, c.seq, why);
            status = 1;
            break;
        }
        if (until && c.seq >= until)
            break;
    }
    following = NULL;
    flush_out(&d);
    fflush(stdout);
    jreader_close(r);
    bourse_engine_free(d.n.e);
    free(d.buf);
    return status;
}

/* ---- verify ---- */

typedef struct verifier {
    japply a;
    const uint64_t *snaps; /* snapshot seqs, ascending */
    const uint64_t *hashes;
    size_t nsnaps, next;
    const char *dir;
    int mismatches;
} verifier;

static const char *verify_one(void *ctx, const bourse_cmd *cmd)
{
    verifier *v = ctx;
    const char *why = japply_record(&v->a, cmd, NULL, NULL);
    if (why)
        return why;
    while (v->next < v->nsnaps && v->snaps[v->next] <= cmd->seq) {
        if (v->snaps[v->next] == cmd->seq && v->hashes[v->next] != bourse_engine_hash(v->a.e)) {
            cli_error("%s/snap-%020" PRIu64 ".snap: its hash differs from the journal's replay at that seq",
                      v->dir, cmd->seq);
            v->mismatches++;
        }
        v->next++;
    }
    return NULL;
}

static int verify_snapshots(const char *dir, uint64_t **seqs, uint64_t **hashes, size_t *n)
{
    char err[600];
    int bad = 0;
    if (snap_list(dir, seqs, n, err, sizeof err) != 0) {
        cli_error("%s", err);
        return 1;
    }
    *hashes = calloc(*n + 1, sizeof **hashes);
    for (size_t i = 0; i < *n; i++) {
        char path[4200];
        snap_info info;
        snap_path(path, sizeof path, dir, (*seqs)[i]);
        bourse_engine *e = snap_load(path, &info, err, sizeof err);
        if (!e) {
            cli_error("%s", err);
            bad = 1;
        } else if (info.seq != (*seqs)[i]) {
            cli_error("%s: offset 16: header says seq %" PRIu64, path, info.seq);
            bad = 1;
        }
        (*hashes)[i] = info.hash;
        bourse_engine_free(e);
    }
    return bad;
}

static int verify(const char *dir, int strict, int quick)
{
    jscan probe;
    char err[600];
    if (probe_dir(dir, &probe))
        return 1;
    uint64_t *snaps = NULL, *hashes = NULL;
    size_t nsnaps = 0;
    int bad = verify_snapshots(dir, &snaps, &hashes, &nsnaps);
    int replay = !quick && probe.first_seq <= 1;
    verifier v = {.a.grow = (probe.header.flags & SEG_FLAG_GROW) != 0,
                  .snaps = snaps,
                  .hashes = hashes,
                  .nsnaps = nsnaps,
                  .dir = dir};
    if (replay && !(v.a.e = bourse_engine_new(&probe.header.limits))) {
        cli_error("out of memory");
        return 1;
    }
    jscan s = {.dir = dir, .zero_check = UINT64_MAX, .on_record = replay ? verify_one : NULL, .ctx = &v};
    int rc = jscan_run(&s, err, sizeof err);
    if (rc != 0) {
        cli_error("%s", err);
        bad = 1;
    }
    bad |= v.mismatches > 0;
    if (rc == 0) {
        printf("%s: %u segment%s (%08u to %08u), %" PRIu64 " records, seq %" PRIu64 " to %" PRIu64
               ", %zu snapshot%s\n",
               dir, s.nsegs, s.nsegs == 1 ? "" : "s", s.first_index, s.last_index, s.records,
               s.records ? s.first_seq : 0, s.last_seq, nsnaps, nsnaps == 1 ? "" : "s");
        if (replay)
            printf("hash %016" PRIx64 " after seq %" PRIu64 "\n", bourse_engine_hash(v.a.e), s.last_seq);
        else if (!quick)
            printf("not replayed: the journal starts at seq %" PRIu64 " (the rest is archived)\n",
                   s.first_seq);
        if (s.torn_bytes)
            report_torn(dir, &s);
    }
    printf("%s\n", bad ? "DAMAGED" : s.torn_bytes ? "sound, with a torn tail" : "sound");
    bourse_engine_free(v.a.e);
    free(snaps);
    free(hashes);
    return bad ? 1 : s.torn_bytes && strict ? 3 : 0;
}

/* ---- recover ---- */

typedef struct recover_out {
    const bourse_engine *e;
    char *buf;
    size_t len;
} recover_out;

static void on_engine(void *ctx, const bourse_engine *e, uint64_t seq)
{
    (void)seq;
    ((recover_out *)ctx)->e = e;
}

static void print_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    recover_out *o = ctx;
    if (o->len > OUT_BLOCK - BOURSE_TEXT_LINE_MAX) {
        if (fwrite(o->buf, 1, o->len, stdout) != o->len) {
            cli_error("writing events: output failed");
            exit(1);
        }
        o->len = 0;
    }
    o->len += bourse_text_event(o->e, cmd, ev, o->buf + o->len);
}

static int recover(const char *dir, int events)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) { /* inspect, never create */
        cli_error("%s: no such data directory", dir);
        return 1;
    }
    recover_out out = {.buf = events ? malloc(OUT_BLOCK) : NULL};
    journal_config cfg = {.dir = dir,
                          .durability = JOURNAL_NONE,
                          .on_warning = warn,
                          .ctx = &out,
                          .on_engine = on_engine,
                          .on_event = events && out.buf ? print_event : NULL};
    journal *j;
    bourse_engine *e;
    char err[600];
    int rc = journal_open(&cfg, &j, &e, err, sizeof err);
    if (out.len && fwrite(out.buf, 1, out.len, stdout) != out.len)
        rc = -1;
    fflush(stdout);
    free(out.buf);
    if (rc != 0) {
        cli_error("%s", err);
        return 1;
    }
    const journal_recovery *r = journal_recovered(j);
    fprintf(stderr,
            "recovered %s: snapshot at seq %" PRIu64 ", %" PRIu64 " commands replayed, last seq %" PRIu64
            "%s\n",
            dir, r->snapshot_seq, r->replayed, r->last_seq, r->torn_bytes ? ", torn tail cut off" : "");
    fprintf(stderr, "hash %016" PRIx64 "\n", r->hash);
    rc = journal_close(j, err, sizeof err);
    if (rc)
        cli_error("%s", err);
    bourse_engine_free(e);
    return rc ? 1 : 0;
}

int cmd_journal(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        help(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *what = argv[1], *dir = NULL;
    int seq = 0, strict = 0, quick = 0, events = 0;
    uint64_t from = 0, until = 0;
    int following_cmd = !strcmp(what, "follow");
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--seq") && (!strcmp(what, "dump") || following_cmd))
            seq = 1;
        else if (!strcmp(argv[i], "--from") && following_cmd)
            from = cli_number(argv[i], i + 1 < argc ? argv[i + 1] : NULL, UINT64_MAX / 2), i++;
        else if (!strcmp(argv[i], "--until") && following_cmd)
            until = cli_number(argv[i], i + 1 < argc ? argv[i + 1] : NULL, UINT64_MAX / 2), i++;
        else if (!strcmp(argv[i], "--strict") && !strcmp(what, "verify"))
            strict = 1;
        else if (!strcmp(argv[i], "--quick") && !strcmp(what, "verify"))
            quick = 1;
        else if (!strcmp(argv[i], "--events") && !strcmp(what, "recover"))
            events = 1;
        else if (argv[i][0] == '-' || dir) {
            cli_error("journal %s: unexpected argument '%s'", what, argv[i]);
            help(stderr);
            return 2;
        } else
            dir = argv[i];
    }
    if (!dir) {
        cli_error("journal %s: which data directory?", what);
        return 2;
    }
    if (!strcmp(what, "dump"))
        return dump(dir, seq);
    if (!strcmp(what, "verify"))
        return verify(dir, strict, quick);
    if (!strcmp(what, "recover"))
        return recover(dir, events);
    if (following_cmd)
        return follow(dir, seq, from, until);
    cli_error("journal: unknown action '%s' (dump, verify, recover or follow)", what);
    return 2;
}
