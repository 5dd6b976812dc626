/*
 * apply.c - see apply.h: the leader's resolve -> journal -> apply, and the
 * follower's check -> apply, shared by every caller.
 */
#include "apply.h"
#include "journal_int.h"

#include <stdio.h>

void japply_drop(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    (void)ctx, (void)cmd, (void)ev;
}

japply japply_leader(bourse_engine *e, journal *j, int grow)
{
    japply a = {.e = e, .j = j, .grow = grow};
    if (j) {
        a.grow = journal_recovered(j)->grow;
        a.seq = journal_last_seq(j);
    }
    return a;
}

int japply_command(japply *a, bourse_cmd *cmd, bourse_event_fn on_event, void *ctx)
{
    if (a->grow && bourse_engine_reserve(a->e) != 0)
        return JAPPLY_NOMEM;
    bourse_engine_resolve(a->e, cmd);
    if (a->j) {
        if (!journal_append(a->j, cmd))
            return JAPPLY_REFUSED;
    } else {
        if (!a->keep_seq)
            cmd->seq = a->seq + 1;
        if (a->clock_ns)
            cmd->ts_ns = a->clock_ns(a->clock_ctx);
    }
    a->seq = cmd->seq;
    bourse_engine_apply(a->e, cmd, on_event ? on_event : japply_drop, ctx);
    return JAPPLY_OK;
}

const char *japply_record(japply *a, const bourse_cmd *c, bourse_event_fn on_event, void *ctx)
{
    if (c->seq != a->seq + 1)
        return "sequence number does not follow the last one applied";
    const char *why = journal_ids_known(a->e, c);
    if (why)
        return why;
    if (a->grow && bourse_engine_reserve(a->e) != 0)
        return "out of memory";
    bourse_engine_apply(a->e, c, on_event ? on_event : japply_drop, ctx);
    a->seq = c->seq;
    return NULL;
}
