/*
 * proto_fix_mark.c - a FIX session's numbers from the log (docs/fix.md,
 * "Sequence numbers from the log").
 *
 * Why.  A session's outbound numbers count the reports of its user's
 * orders, which are events every node applies, and the messages the
 * venue's session layer makes itself (Logon answers, Heartbeats,
 * TestRequests, Rejects, ResendRequests, Logouts, reports made by the
 * gateway), which are in no event.  Kept only where they were sent, those
 * numbers are lost with the node, and a client logging on to a new leader
 * after a failover would find them gone back.  So every message the venue
 * makes itself goes through the one sequencer first: a `fixsess` command
 * (a mark: BOURSE_CMD_FIXSESS, bourse.h) with the session's user, a kind
 * (logon, reset, msg, in), the next MsgSeqNum expected from the client and
 * a tag, while the message waits in the session's queue at its gateway.
 * The core checks the user and answers one event; when it comes back
 * (durable, or committed in cluster mode) fixs_mark_event gives the next
 * outbound number -- on this node to the queued message with that tag,
 * which goes out; on every other node, and here after a restart, to a slot
 * that a resend gap-fills, as FIX allows for session messages.  A report of
 * an event takes the next number on every node from the event alone
 * (proto_fix_app.c), whether or not the session is connected there.  So
 * every node numbers every session the same, from its first Logon mark in
 * the log (a reset mark starts it again at 1), and the store of what was
 * sent (proto_fix_store.c) is a cache the streams' rebuild at start fills
 * again from the log (streams.c).
 *
 * Inbound.  The client's MsgSeqNums are in no event either; each mark
 * carries the next one expected, so a node that did not serve the session
 * expects what the last mark said: a client ahead of it (orders since that
 * mark) gets a ResendRequest, and what it sends again with PossDupFlag=Y
 * and the log already has is dropped (fix_sess.ids, proto_fix_app.c's
 * possdup_known).  A session sends an `in` mark (no number) at most once a
 * HeartBtInt when the number moved, and one when its connection closes,
 * so that window stays small.
 *
 * Cost.  Nothing per order: a mark per session message (a Heartbeat is at
 * most one per HeartBtInt) and per `in` checkpoint, and a session message
 * leaves one log commit later than it did.
 */
#include "server/proto_fix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The user's slot, made (not numbered) if there is none; NULL: memory. */
fix_sess *fixs_slot(fix_gw *fg, uint32_t user)
{
    if (user >= fg->nsess) {
        uint32_t n = fg->nsess ? fg->nsess : 64;
        while (n <= user)
            n *= 2;
        fix_sess *s = realloc(fg->sess, (size_t)n * sizeof *s);
        if (!s)
            return NULL;
        fg->sess = s;
        uint32_t *d = realloc(fg->dirty, (size_t)n * sizeof *d);
        if (!d)
            return NULL;
        fg->dirty = d;
        memset(s + fg->nsess, 0, (size_t)(n - fg->nsess) * sizeof *s);
        for (uint32_t i = fg->nsess; i < n; i++) {
            s[i].conn = NO_CONN;
            s[i].st.fd = -1;
            s[i].st.next_in = s[i].st.next_out = 1;
        }
        fg->nsess = n;
    }
    return &fg->sess[user];
}

/* s is numbered from now on: its first mark is in the log.  The store
 * starts empty (the log rebuilds it at start: streams.c) and the inbound
 * number this node knows stays. */
static int sess_number(fix_gw *fg, fix_sess *s, const char *name)
{
    uint64_t in = s->st.next_in;
    if (fix_store_begin(&s->st, fg->g->cfg->data_dir, name) != 0) {
        srv_log("FIX session %s: out of memory", name);
        s->st.next_in = in;
        return -1;
    }
    s->st.next_in = in;
    s->open = 1;
    fixs_touched(fg, s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->dc_k = (int8_t)dropcopy_find(&fg->g->s->dc, name);
    s->dropcopy = s->dc_k >= 0;
    if (s->dropcopy && fg->ndc < FIX_MAX_DROPCOPY)
        fg->dc[fg->ndc++] = (uint32_t)(s - fg->sess);
    else if (s->dropcopy)
        srv_log("more than %d drop copy sessions: %s gets no reports", FIX_MAX_DROPCOPY, name);
    return 0;
}

/* --- messages made here wait for their mark -------------------------------
 *
 * A message the venue makes itself (a session message, a report made by
 * the gateway) is in no event, so its number would be known only here.
 * Instead it waits in the session's queue while its mark (a `fixsess`
 * command: kind, the next inbound number, a tag) goes through the
 * sequencer and the log; when the mark's event comes back it takes the
 * next outbound number, on this node as on every node that applies the
 * log (fixs_mark_event), and goes out.  Reports of events need no mark:
 * every node numbers them from the events alone. */

void fixs_submit_mark(fix_gw *fg, fix_sess *s, conn *c, int kind, uint64_t tag)
{
    bourse_cmd cmd = {.type = BOURSE_CMD_FIXSESS,
                      .user = c->user,
                      .side = (uint8_t)kind,
                      .qty = (int64_t)s->st.next_in,
                      .price = (int64_t)tag,
                      .symbol = BOURSE_NONE};
    memcpy(cmd.user_name.s, c->name, BOURSE_NAME_LEN);
    gw_submit(fg->g, c, IN_CMD, &cmd);
    s->in_marked = s->st.next_in;
    s->mark_ns = fg->g->now;
}

enum { Q_HEAD = 4 + 8 + 1 };

void fixs_defer(fix_gw *fg, fix_sess *s, const char *m, size_t n, int flags, int kind)
{
    conn *c = fixs_live_conn(fg, s);
    if (!c)
        return; /* made for a connection that is gone: nothing to number */
    if (s->qlen + Q_HEAD + n > s->qcap) {
        size_t cap = s->qcap ? s->qcap : 4096;
        while (cap < s->qlen + Q_HEAD + n)
            cap *= 2;
        char *q = realloc(s->q, cap);
        if (!q) {
            srv_log("FIX session %s: out of memory: a message was not sent", s->name);
            return;
        }
        s->q = q;
        s->qcap = cap;
    }
    uint64_t tag = fg->nonce + ++fg->tags;
    uint32_t len = (uint32_t)n;
    char *r = s->q + s->qlen;
    memcpy(r, &len, 4);
    memcpy(r + 4, &tag, 8);
    r[12] = (char)flags;
    memcpy(r + Q_HEAD, m, n);
    s->qlen += Q_HEAD + n;
    fixs_submit_mark(fg, s, c, kind, tag);
}

/* The mark's message at the head of s's queue (or further on: those before
 * it lost their marks, say to a refused command) goes out numbered seq; 0
 * if this node holds none with that tag (another node made it, or this one
 * before a restart): the number is a slot that a resend gap-fills. */
static int send_marked(fix_gw *fg, fix_sess *s, uint64_t tag, uint64_t seq)
{
    size_t at = 0;
    while (at + Q_HEAD <= s->qlen) {
        uint32_t len;
        uint64_t t;
        memcpy(&len, s->q + at, 4);
        memcpy(&t, s->q + at + 4, 8);
        if (t == tag)
            break;
        at += Q_HEAD + len;
    }
    if (at + Q_HEAD > s->qlen)
        return 0;
    if (at)
        srv_log("FIX session %s: %zu bytes of messages lost their marks (not sent)", s->name, at);
    uint32_t len;
    memcpy(&len, s->q + at, 4);
    int flags = s->q[at + 12];
    fix_msg m;
    fix_error e;
    char buf[FIX_OUT_MAX];
    size_t tl;
    const char *t;
    if (fix_parse(s->q + at + Q_HEAD, len, &m, &e) == 0 && (t = fix_get(&m, 35, &tl)) && tl <= 2) {
        char type[3] = {0};
        memcpy(type, t, tl);
        fix_writer w;
        fixs_header(fg, s, &w, buf, type, seq);
        fix_put_time(&w, 52, fg->g->now);
        fixs_copy_body(&w, &m);
        const char *out;
        size_t n = fix_end(&w, &out);
        if (n && (flags & FIX_Q_APP) && fix_store_put(&s->st, seq, out, n) != 0)
            srv_log("FIX session %s: message %llu not kept (disk): it will be gap-filled on resend", s->name,
                    (unsigned long long)seq);
        conn *c = fixs_live_conn(fg, s);
        if (c && n)
            conn_put(fg->g, c, out, n);
        if (c && (flags & FIX_Q_CLOSE)) {
            c->closing = 1;
            conn_put(fg->g, c, NULL, 0);
        }
    }
    size_t used = at + Q_HEAD + len;
    memmove(s->q, s->q + used, s->qlen - used);
    s->qlen -= used;
    return 1;
}

void fixs_mark_event(fix_gw *fg, const srv_out *o)
{
    const bourse_event *ev = &o->ev;
    if (!gw_is_home(fg->g, ev->user))
        return;
    fix_sess *s = fixs_slot(fg, ev->user);
    if (!s)
        return;
    int kind = ev->side;
    uint64_t in = (uint64_t)ev->qty;
    conn *c = fixs_live_conn(fg, s);
    if (!s->open || kind == BOURSE_FIXSESS_RESET) {
        char name[BOURSE_NAME_LEN + 1] = {0};
        memcpy(name, ev->oid.s, BOURSE_NAME_LEN);
        uint64_t keep = s->st.next_in;
        if (!s->open && sess_number(fg, s, name) != 0)
            return;
        fix_store_reset(&s->st);
        s->st.next_in = keep;
        if (kind == BOURSE_FIXSESS_RESET)
            s->nids = s->ids_gen = 0;
        if (kind == BOURSE_FIXSESS_RESET && !c)
            s->st.next_in = in;
    }
    /* The inbound number: the connection logged on here keeps its own
     * (the mark said what it was then); elsewhere the mark's is the
     * latest the log knows. */
    if (!c && in > s->st.next_in)
        s->st.next_in = in;
    if (in > s->ids_in) { /* a checkpoint: keep the ids since the one before */
        if (s->ids_gen)
            memmove(s->ids, s->ids + s->ids_gen, (s->nids - s->ids_gen) * sizeof *s->ids);
        s->nids -= s->ids_gen;
        s->ids_gen = s->nids;
        s->ids_in = in;
    }
    fixs_touched(fg, s);
    if (kind == BOURSE_FIXSESS_IN)
        return;
    uint64_t seq = s->st.next_out++;
    send_marked(fg, s, (uint64_t)ev->price, seq);
}

enum {
    KNOWN_MAX = 1 << 16
}; /* ids kept per session: a session with no checkpoint (logged out) trading
    * over OUCH all day keeps its latest this many */

void fixs_known_add(fix_sess *s, const bourse_name *id, char kind)
{
    if (s->nids == KNOWN_MAX) {
        uint32_t drop = KNOWN_MAX / 2;
        memmove(s->ids, s->ids + drop, (size_t)(s->nids - drop) * sizeof *s->ids);
        s->nids -= drop;
        s->ids_gen = s->ids_gen > drop ? s->ids_gen - drop : 0;
    }
    if (s->nids == s->ids_cap) {
        uint32_t n = s->ids_cap ? s->ids_cap * 2 : 64;
        fix_known_id *p = realloc(s->ids, (size_t)n * sizeof *p);
        if (!p)
            return;
        s->ids = p;
        s->ids_cap = n;
    }
    s->ids[s->nids++] = (fix_known_id){.id = *id, .kind = kind};
}

int fixs_known(const fix_sess *s, const bourse_name *id, char kind)
{
    for (uint32_t i = 0; i < s->nids; i++)
        if (s->ids[i].kind == kind && !memcmp(s->ids[i].id.s, id->s, BOURSE_NAME_LEN))
            return 1;
    return 0;
}
