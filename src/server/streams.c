/*
 * streams.c - the users' report streams rebuilt from the log before the
 * server takes its first command (srv_streams_rebuild, from srv_start).
 *
 * Why from the log.  A report stream (SoupBinTCP's sequenced messages,
 * proto_soup_stream.c; any adapter's resend store) is numbered per user.
 * Kept only in the memory of one run, the numbers start again after a
 * restart and a client cannot ask for what it missed in the crash.  But
 * every report is an event of a command in the journal, and the core is
 * deterministic: applying the journal again gives the same events in the
 * same order, so the streams are a function of the log alone.  Here the
 * whole journal (seq 1 to what recovery found) is applied to a scratch
 * engine (journal_replay_prefix_e, the feed's rebuild), each event becomes
 * the gateways' srv_out through srv_event_out (the engine thread's own
 * function, so trade match numbers and the taker flag come out the same)
 * and goes to every adapter's on_event at its user's home gateway, as the
 * gateway thread would deliver it.  No session is connected yet, so nothing
 * is sent: the adapters only number and keep.  A replica that applies the
 * committed commands and delivers their events the same way holds the same
 * streams when it becomes leader.
 *
 * The SoupBinTCP session name says where the numbering starts: the seq of
 * the first command counted, "0000000001" for a whole log.  When the log's
 * start is gone (journal_archive moved segments to DIR/archive after a
 * snapshot) the streams cannot be rebuilt: they start empty, counted from
 * this run's first command, and the session name changes with them, so a
 * client that asks for the old session is refused (its numbers would mean
 * other messages) and one that logs in with a blank name sees its next
 * number start again at 1.  Said in the log, never silent.
 *
 * Cost.  One replay of the journal at start, through a second engine made
 * as the directory says and freed at the end; measured in
 * docs/benchmarks.md.  Nothing on the engine thread or per order: the
 * adapters append to their rings as they do live.
 */
#include "cluster/cluster.h"
#include "journal/journal.h"
#include "server/dropcopy.h"
#include "server/gateway.h"
#include "util/clock.h"

#include <stdio.h>
#include <string.h>

typedef struct rebuild {
    srv *s;
    const bourse_engine *e;
    uint64_t match;  /* trades so far */
    uint64_t events; /* delivered */
} rebuild;

static void take_engine(void *ctx, const bourse_engine *e)
{
    ((rebuild *)ctx)->e = e;
}

static void deliver(srv *s, uint32_t gate, const srv_out *o)
{
    gateway *g = s->gates[gate].gw;
    g->now = o->ts_ns;
    for (uint32_t i = 0; i < g->nprotos; i++)
        if (g->protos[i].p->on_event)
            g->protos[i].p->on_event(g, g->protos[i].st, o);
}

static void on_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    rebuild *r = ctx;
    srv_out o;
    if (!srv_event_out(r->e, cmd, ev, &r->match, &o))
        return;
    if (r->s->cfg->fix_dropcopy[0]) { /* as the engine thread does: drop copies live anywhere */
        if (r->s->dc.named) {
            dropcopy_learn(&r->s->dc, r->e, ev->user);
            if (ev->type == BOURSE_EV_TRADE)
                dropcopy_learn(&r->s->dc, r->e, ev->user2);
        }
        for (uint32_t k = 0; k < r->s->ngates; k++)
            deliver(r->s, k, &o);
        r->events++;
        return;
    }
    uint32_t home = srv_home(r->s, ev->user);
    if (ev->type == BOURSE_EV_TRADE && srv_home(r->s, ev->user2) != home)
        deliver(r->s, srv_home(r->s, ev->user2), &o);
    deliver(r->s, home, &o);
    r->events++;
}

/* Forget what a failed rebuild left: each adapter's gateway state anew. */
static int reset_adapters(srv *s)
{
    for (uint32_t k = 0; k < s->ngates; k++) {
        gateway *g = s->gates[k].gw;
        for (uint32_t i = 0; i < g->nprotos; i++) {
            gw_slot *sl = &g->protos[i];
            if (!sl->p->gw_new)
                continue;
            sl->p->gw_free(g, sl->st);
            if (!(sl->st = sl->p->gw_new(g, i)))
                return -1;
        }
    }
    return 0;
}

int srv_streams_rebuild(srv *s)
{
    /* In cluster mode the replicated state machine holds the journal
     * (cluster_mode.c): what it recovered is what the log holds so far. */
    uint64_t last = s->journal ? journal_last_seq(s->journal) : cluster_state_seq(s->cl_state), origin = 1;
    if (last) {
        rebuild r = {.s = s};
        char err[512];
        int64_t t0 = mono_ns();
        if (journal_replay_prefix_e(s->cfg->data_dir, last, take_engine, NULL, on_event, &r, err,
                                    sizeof err) == 0) {
            srv_log("order-entry streams rebuilt from the log: %llu commands, %llu reports, %.0f ms",
                    (unsigned long long)last, (unsigned long long)r.events, (double)(mono_ns() - t0) / 1e6);
        } else {
            origin = last + 1;
            srv_log("order-entry streams cannot be rebuilt from the log (%s): they start again at seq %llu, "
                    "session %010llu",
                    err, (unsigned long long)origin, (unsigned long long)origin);
            if (reset_adapters(s) != 0) {
                srv_log("out of memory");
                return -1;
            }
        }
    }
    snprintf(s->session, sizeof s->session, "%010llu", (unsigned long long)(origin % 10000000000ULL));
    return 0;
}
