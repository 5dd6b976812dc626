/*
 * replay.c - `bourse replay [FILE]`: the core on text, nothing around it.
 *
 * Input is read in large blocks and split into lines in place; events are
 * formatted into a large output buffer that is written when nearly full, so
 * a long run costs a few system calls per megabyte.  Tables start small and
 * grow between commands (bourse_engine_reserve), unless --max-* options fix
 * a capacity, in which case a full table answers CAPACITY as the server's
 * would.  On bad input the events of every earlier line are written first,
 * then the message, then the run stops with status 2 (docs/commands.md).
 */
#include "bourse/bourse.h"
#include "bourse/text.h"
#include "cli.h"
#include "journal/apply.h"
#include "journal/journal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { IN_BLOCK = 1 << 22, OUT_BLOCK = 1 << 22 };

typedef struct out_buf {
    char *buf;
    size_t len;
    FILE *f;
    const bourse_engine *e;
} out_buf;

static void out_flush(out_buf *o)
{
    if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len) {
        cli_error("writing events: output failed");
        exit(1);
    }
    o->len = 0;
}

static void on_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    out_buf *o = ctx;
    if (o->len > OUT_BLOCK - BOURSE_TEXT_LINE_MAX)
        out_flush(o);
    o->len += bourse_text_event(o->e, cmd, ev, o->buf + o->len);
}

static void help(FILE *f)
{
    fputs("usage: bourse replay [OPTIONS] [FILE]\n\n"
          "Reads commands in the replay format (docs/commands.md) from FILE,\n"
          "or standard input, and writes the events the matching core produces for\n"
          "them, one per line.  The same commands always give the same events.\n\n"
          "On a malformed line it prints `bourse: FILE:LINE: reason` on standard\n"
          "error and exits with status 2, after the events of all earlier lines.\n\n"
          "options:\n"
          "  --max-symbols N, --max-users N, --max-orders N, --max-ids N,\n"
          "  --max-positions N   fix a capacity (default: grow as needed); a full\n"
          "                      table refuses further commands with CAPACITY\n"
          "  --day-ids           order ids need only be unique within a trading day:\n"
          "                      `open` after `close` frees the ids of finished orders\n"
          "                      (as `bourse serve` does; unique for ever is the default)\n"
          "  --hash              print the final state hash to standard error\n"
          "  --journal DIR       also journal every command to data directory DIR\n"
          "                      (continuing the state already recovered there)\n"
          "  --durability MODE   with --journal: none, batch (default) or sync\n"
          "  --segment-bytes N   with --journal: size of new segment files\n"
          "  -h, --help          show this help\n",
          f);
}

typedef struct replay_opts {
    bourse_limits lim;
    int fixed;
    int hash;
    int day_ids;
    const char *path;
    const char *journal;
    int durability;
    uint64_t segment_bytes;
} replay_opts;

static int parse_opts(int argc, char **argv, replay_opts *o)
{
    static const struct {
        const char *name;
        size_t off;
    } caps[] = {
        {"--max-symbols", offsetof(bourse_limits, symbols)},
        {"--max-users", offsetof(bourse_limits, users)},
        {"--max-orders", offsetof(bourse_limits, orders)},
        {"--max-ids", offsetof(bourse_limits, ids)},
        {"--max-positions", offsetof(bourse_limits, positions)},
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        size_t c = 0;
        while (c < sizeof caps / sizeof *caps && strcmp(a, caps[c].name) != 0)
            c++;
        if (c < sizeof caps / sizeof *caps) {
            uint32_t v = (uint32_t)cli_number(a, i + 1 < argc ? argv[i + 1] : NULL, 1u << 30);
            if (v == 0) {
                cli_error("%s must be at least 1", a);
                return 2;
            }
            *(uint32_t *)((char *)&o->lim + caps[c].off) = v;
            o->fixed = 1;
            i++;
        } else if (!strcmp(a, "--hash")) {
            o->hash = 1;
        } else if (!strcmp(a, "--day-ids")) {
            o->day_ids = 1;
        } else if (!strcmp(a, "--journal") && i + 1 < argc) {
            o->journal = argv[++i];
        } else if (!strcmp(a, "--durability") && i + 1 < argc) {
            const char *m = argv[++i];
            o->durability = !strcmp(m, "none")   ? JOURNAL_NONE
                            : !strcmp(m, "sync") ? JOURNAL_SYNC
                                                 : JOURNAL_BATCH;
            if (strcmp(m, "none") && strcmp(m, "sync") && strcmp(m, "batch")) {
                cli_error("--durability: none, batch or sync, not '%s'", m);
                return 2;
            }
        } else if (!strcmp(a, "--segment-bytes")) {
            o->segment_bytes = cli_number(a, i + 1 < argc ? argv[i + 1] : NULL, 1ull << 40);
            i++;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            exit(0);
        } else if (a[0] == '-' && a[1]) {
            cli_error("replay: unknown option '%s'", a);
            help(stderr);
            return 2;
        } else if (!o->path) {
            o->path = a;
        } else {
            cli_error("replay: one FILE at most");
            return 2;
        }
    }
    return 0;
}

int cmd_replay(int argc, char **argv)
{
    replay_opts o = {0};
    int rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc;
    FILE *in = stdin;
    const char *name = "<stdin>";
    if (o.path && strcmp(o.path, "-") != 0) {
        name = o.path;
        if (!(in = fopen(o.path, "rb"))) {
            cli_error("%s: cannot open: %m", o.path);
            return 1;
        }
    }
    if (!o.fixed) /* start small: tables grow as the run needs them */
        o.lim = (bourse_limits){.symbols = 16, .users = 64, .orders = 1024, .ids = 1024, .positions = 256};
    if (o.day_ids)
        o.lim.flags |= BOURSE_DAY_IDS;
    bourse_engine *e = NULL;
    journal *j = NULL;
    if (o.journal) {
        journal_config jc = {.dir = o.journal,
                             .limits = o.lim,
                             .grow = !o.fixed,
                             .durability = o.durability,
                             .segment_bytes = o.segment_bytes};
        char err[600];
        if (journal_open(&jc, &j, &e, err, sizeof err) != 0) {
            cli_error("%s", err);
            return 1;
        }
        o.fixed = !journal_recovered(j)->grow; /* the directory's way, for identical replays */
    } else {
        e = bourse_engine_new(&o.lim);
    }
    char *inbuf = malloc(IN_BLOCK + 1);
    out_buf out = {.buf = malloc(OUT_BLOCK), .f = stdout, .e = e};
    if (!e || !inbuf || !out.buf) {
        cli_error("out of memory");
        return 1;
    }
    japply ap = japply_leader(e, j, !o.fixed);
    ap.keep_seq = 1;
    size_t have = 0, lineno = 0;
    int status = 0;
    for (int eof = 0; !eof && !status;) {
        size_t got = fread(inbuf + have, 1, IN_BLOCK - have, in);
        have += got;
        eof = got == 0;
        if (eof && ferror(in)) {
            cli_error("%s: read error", name);
            status = 1;
            break;
        }
        size_t start = 0;
        for (;;) {
            char *nl = memchr(inbuf + start, '\n', have - start);
            if (!nl && !(eof && start < have))
                break;
            size_t end = nl ? (size_t)(nl - inbuf) : have;
            lineno++;
            bourse_cmd cmd;
            char err[160];
            int r = bourse_text_parse(inbuf + start, end - start, &cmd, err, sizeof err);
            start = nl ? end + 1 : have;
            if (r == BOURSE_TEXT_SKIP)
                continue;
            if (r == BOURSE_TEXT_BAD) {
                out_flush(&out);
                fflush(stdout);
                cli_error("%s:%zu: %s", name, lineno, err);
                status = 2;
                break;
            }
            cmd.seq = lineno; /* without a journal, events are numbered by line */
            int ar = japply_command(&ap, &cmd, on_event, &out);
            if (ar != JAPPLY_OK) {
                out_flush(&out);
                cli_error("%s:%zu: %s", name, lineno,
                          ar == JAPPLY_NOMEM ? "out of memory" : journal_error(j));
                status = 1;
                break;
            }
        }
        if (start == 0 && have == IN_BLOCK) {
            out_flush(&out);
            cli_error("%s:%zu: line too long", name, lineno + 1);
            status = 2;
        }
        memmove(inbuf, inbuf + start, have - start);
        have -= start;
    }
    out_flush(&out);
    if (fflush(stdout) != 0 && !status) {
        cli_error("writing events: output failed");
        status = 1;
    }
    if (o.hash)
        fprintf(stderr, "hash %016" PRIx64 "\n", bourse_engine_hash(e));
    char jerr[600];
    if (j && journal_close(j, jerr, sizeof jerr) != 0) {
        cli_error("%s", jerr);
        status = status ? status : 1;
    }
    if (in != stdin)
        fclose(in);
    free(inbuf);
    free(out.buf);
    bourse_engine_free(e);
    return status;
}
