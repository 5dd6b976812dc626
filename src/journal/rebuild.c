/*
 * rebuild.c - journal_replay_prefix: the first commands of a data directory
 * applied again to a scratch engine, for a consumer whose state is derived
 * from every event since the start and that lost it (market data whose
 * feed snapshot is missing or damaged: src/feed/persist.c).
 *
 * Read-only, and it may run inside journal_open's hooks: it scans the
 * segments as recovery does (scan.c, so it agrees on what is sound) and
 * makes its engine as the directory's first segment says, growing tables
 * before each command exactly when the live writer did.  It needs the
 * journal from seq 1: once segments are archived the start is gone, and it
 * says so rather than replay from the middle.
 */
#include "apply.h"
#include "journal_int.h"
#include "scan.h"

#include <stdio.h>
#include <string.h>

typedef struct prefix {
    japply a;
    uint64_t to_seq, applied;
    void (*on_command)(void *ctx, const bourse_cmd *cmd);
    bourse_event_fn on_event;
    void *ctx;
} prefix;

static const char *apply_one(void *ctx, const bourse_cmd *c)
{
    prefix *p = ctx;
    if (c->seq > p->to_seq)
        return NULL; /* read on only to check the rest is sound, as recovery will */
    const char *why = journal_ids_known(p->a.e, c);
    if (why)
        return why;
    if (p->on_command)
        p->on_command(p->ctx, c);
    if ((why = japply_record(&p->a, c, p->on_event, p->ctx)) == NULL)
        p->applied++;
    return why;
}

int journal_replay_prefix(const char *dir, uint64_t to_seq,
                          void (*on_command)(void *ctx, const bourse_cmd *cmd), bourse_event_fn on_event,
                          void *ctx, char *err, size_t errlen)
{
    return journal_replay_prefix_e(dir, to_seq, NULL, on_command, on_event, ctx, err, errlen);
}

int journal_replay_prefix_e(const char *dir, uint64_t to_seq,
                            void (*on_engine)(void *ctx, const bourse_engine *e),
                            void (*on_command)(void *ctx, const bourse_cmd *cmd), bourse_event_fn on_event,
                            void *ctx, char *err, size_t errlen)
{
    jscan probe = {.dir = dir, .from_seq = UINT64_MAX};
    if (jscan_run(&probe, err, errlen) != 0)
        return -1;
    if (probe.first_seq != 1 || probe.last_seq < to_seq) {
        snprintf(err, errlen, "%s: the journal holds seqs %llu to %llu, not 1 to %llu%s", dir,
                 (unsigned long long)probe.first_seq, (unsigned long long)probe.last_seq,
                 (unsigned long long)to_seq, probe.first_seq > 1 ? " (the start is archived)" : "");
        return -1;
    }
    prefix p = {.a = {.e = bourse_engine_new(&probe.header.limits),
                      .grow = (probe.header.flags & SEG_FLAG_GROW) != 0},
                .to_seq = to_seq,
                .on_command = on_command,
                .on_event = on_event,
                .ctx = ctx};
    if (!p.a.e) {
        snprintf(err, errlen, "out of memory for a scratch engine");
        return -1;
    }
    if (on_engine)
        on_engine(ctx, p.a.e);
    jscan sc = {.dir = dir, .from_seq = 1, .on_record = apply_one, .ctx = &p};
    int rc = jscan_run(&sc, err, errlen);
    if (rc == 0 && p.applied != to_seq) {
        snprintf(err, errlen, "%s: replayed %llu commands, not %llu", dir, (unsigned long long)p.applied,
                 (unsigned long long)to_seq);
        rc = -1;
    }
    bourse_engine_free(p.a.e);
    return rc;
}
