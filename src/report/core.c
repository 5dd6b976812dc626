/*
 * core.c - the reporter's own core: an engine kept at the journal's
 * position by japply_record, fed by a jreader.
 *
 * Where it starts.  From seq 1 when the journal still has it; otherwise
 * (the start archived by `journal_archive`) from the newest snapshot the
 * journal continues (its seq + 1 is in the journal) that is not past
 * `at_most`: the follower must see every command after the last one its
 * database holds, so it cannot start after that.  The journal is probed
 * first and must reach at_most: a database ahead of its journal belongs to
 * another data directory (or the journal was cut back), and writing on
 * would mix two histories.
 */
#include "journal/apply.h"
#include "journal/reader.h"
#include "journal/scan.h"
#include "journal/snapfile.h"
#include "report_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct rcore {
    jreader *r;
    japply a;
};

/* A journal being written can look damaged for a moment at its end (a
 * record half written, a rollover under way): look again for half a
 * second before believing it. */
static int probe(const char *dir, jscan *s, char *err, size_t errlen)
{
    for (int tries = 0;; tries++) {
        *s = (jscan){.dir = dir, .from_seq = UINT64_MAX};
        if (jscan_run(s, err, errlen) == 0)
            return 0;
        if (tries == 50)
            return -1;
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
}

rcore *rcore_open(const char *dir, uint64_t at_most, char *err, size_t errlen)
{
    jscan s;
    if (probe(dir, &s, err, errlen) != 0)
        return NULL;
    if (s.last_seq < at_most) {
        snprintf(err, errlen,
                 "the report database is at seq %" PRIu64 " but the journal of %s ends at seq %" PRIu64
                 ": it belongs to another data directory, or the journal was cut back",
                 at_most, dir, s.last_seq);
        return NULL;
    }
    rcore *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    uint64_t from = 1;
    if (s.records && s.first_seq > 1) {
        uint64_t *seqs;
        size_t k;
        if (snap_list(dir, &seqs, &k, err, errlen) != 0) {
            free(c);
            return NULL;
        }
        for (size_t i = k; i-- > 0 && !c->a.e;) {
            if (seqs[i] + 1 < s.first_seq || seqs[i] > at_most)
                continue;
            char path[4200];
            snap_info info;
            snap_path(path, sizeof path, dir, seqs[i]);
            bourse_engine *e = snap_load(path, &info, err, errlen);
            if (e) {
                c->a = (japply){.e = e, .grow = (info.flags & SEG_FLAG_GROW) != 0, .seq = info.seq};
                from = info.seq + 1;
            }
        }
        free(seqs);
        if (!c->a.e) {
            snprintf(err, errlen,
                     "the journal of %s starts at seq %" PRIu64 " (earlier commands archived) and no snapshot"
                     " between seq %" PRIu64 " and the database's seq %" PRIu64 " can stand for them",
                     dir, s.first_seq, s.first_seq - 1, at_most);
            free(c);
            return NULL;
        }
    }
    if (jreader_open(&(jreader_config){.dir = dir, .from_seq = from}, &c->r, err, errlen) != 0) {
        bourse_engine_free(c->a.e);
        free(c);
        return NULL;
    }
    return c;
}

int rcore_next(rcore *c, bourse_cmd *cmd, int timeout_ms, char *err, size_t errlen)
{
    int rc = jreader_next(c->r, cmd, timeout_ms);
    if (rc == JREAD_ERROR)
        snprintf(err, errlen, "%s", jreader_error(c->r));
    if (rc == JREAD_RECORD && !c->a.e) {
        bourse_limits lim;
        jreader_limits(c->r, &lim, &c->a.grow);
        if (!(c->a.e = bourse_engine_new(&lim))) {
            snprintf(err, errlen, "out of memory");
            return JREAD_ERROR;
        }
    }
    return rc;
}

const char *rcore_apply(rcore *c, const bourse_cmd *cmd, bourse_event_fn fn, void *ctx)
{
    return japply_record(&c->a, cmd, fn ? fn : japply_drop, ctx);
}

bourse_engine *rcore_engine(rcore *c)
{
    return c->a.e;
}

uint64_t rcore_seq(const rcore *c)
{
    return c->a.seq;
}

void rcore_close(rcore *c)
{
    if (!c)
        return;
    jreader_close(c->r);
    bourse_engine_free(c->a.e);
    free(c);
}
