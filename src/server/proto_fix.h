/*
 * proto_fix.h - the FIX 4.4 adapter's own state, shared by its files:
 *   proto_fix.c        the session layer (Logon, heartbeats, sequence
 *                      numbers, resends, rejects, Logout) and the hooks;
 *   proto_fix_app.c    application messages: orders in, ExecutionReports
 *                      and OrderCancelRejects out, the orders' FIX view;
 *   proto_fix_mark.c   the sessions' numbers from the log (fixsess marks);
 *   proto_fix_store.c  each session's message store on disk.
 *
 * A FIX session here is one user: its SenderCompID is the user's name and
 * its TargetCompID the venue's ([fix] comp_id).  The session's state
 * (sequence numbers both ways, the store of what it was sent) lives at the
 * user's home gateway, from its first Logon in a run to the end of the run,
 * and in the data directory across runs; the connection that is logged on
 * now, if any, is remembered by index and generation.
 */
#ifndef BOURSE_SERVER_PROTO_FIX_H
#define BOURSE_SERVER_PROTO_FIX_H

#include "net/fix.h"
#include "server/gateway.h"

enum { FIX_OUT_MAX = 2048 };            /* the longest message the venue writes */
enum { FIX_MAX_DROPCOPY = FIX_DC_MAX }; /* drop copy sessions ([fix] dropcopy) */

/* Per connection, in conn->ps (plain data, travels with it). */
typedef struct fix_conn {
    uint32_t logon_seq; /* the Logon's MsgSeqNum, until it is answered */
    uint32_t treq_ms;   /* a TestRequest is out since this ms after connect; 0 = none */
    uint16_t hb_s;      /* HeartBtInt agreed at Logon */
    uint8_t reset;      /* the Logon had ResetSeqNumFlag=Y */
    uint8_t logout;     /* we sent Logout: waiting for the answer */
    uint32_t pad;
} fix_conn;
_Static_assert(sizeof(fix_conn) <= PROTO_STATE, "fix_conn must fit conn->ps");

static inline fix_conn *fix_of(conn *c)
{
    return (fix_conn *)c->ps.u64;
}

/* A session's message store (proto_fix_store.c): its two sequence numbers
 * and every application message it was sent, by sequence number; what
 * this turn of the gateway's loop added waits in pend until
 * fix_store_flush. */
typedef struct fix_store {
    int fd;
    uint8_t dirty;              /* something to write: messages or numbers */
    uint64_t next_in, next_out; /* the next expected from / to send to the client */
    uint64_t *off;              /* off[seq]: 1 + offset of the stored message, 0 = none */
    uint64_t off_cap;
    uint64_t file_end; /* bytes written; pending records follow from here */
    char *pend;        /* this turn's records, not yet written */
    size_t pend_len, pend_cap;
    char *path; /* fix_store_begin: the file, made at the first flush */
} fix_store;

/* An id the log knows since the session's inbound checkpoint (fix_sess.ids):
 * kind 'N' an order's id (accepted, rejected, replaced to), 'C' canceled. */
typedef struct fix_known_id {
    bourse_name id;
    char kind;
} fix_known_id;

typedef struct fix_sess {
    uint8_t open;     /* numbered: the log has a Logon mark of this session (a store is open) */
    uint8_t dropcopy; /* a drop copy session ([fix] dropcopy): read-only */
    uint8_t listed;   /* in fix_gw.dirty */
    int8_t dc_k;      /* a drop copy: its index in [fix] dropcopy (srv.dc), whom it covers; -1 = none */
    char name[BOURSE_NAME_LEN + 1];
    uint32_t conn, gen;    /* the logged-on connection, NO_CONN = none */
    uint64_t resend_until; /* we asked for a resend up to here: wait for the gap to fill */
    fix_store st;
    /* Messages made here (session messages, local reports) wait for their
     * mark (BOURSE_CMD_FIXSESS) to come back from the log, which gives
     * them their number: records [u32 len][u64 tag][u8 flags][message]. */
    char *q;
    size_t qlen, qcap;
    uint64_t in_marked; /* next_in as the last mark submitted here said it */
    int64_t mark_ns;    /* when that mark was submitted */
    uint64_t ids_in;    /* the IN the known ids below count from */
    fix_known_id *ids;  /* ids of the user's orders the log knows since ids_in: a PossDup resend */
    uint32_t nids, ids_cap, ids_gen; /* ids_gen: where those since the latest checkpoint start */
    uint8_t closing;                 /* a Logout waits for its mark: input is ignored */
} fix_sess;

/* An order of a FIX session's user, as FIX reports it (proto_fix_app.c). */
enum { FO_EMPTY = 0, FO_PENDING_NEW, FO_PENDING_REPLACE, FO_LIVE, FO_GONE };
typedef struct fix_order {
    uint32_t user;
    uint8_t state, side, tif, cxl; /* cxl: a cancel request is in flight */
    bourse_name oid;
    bourse_name req; /* the cancel's ClOrdID; a replace: the order it replaces */
    bourse_symbol_name sym;
    int64_t qty, cum, price;
    int64_t notional; /* sum of fills' qty x price, for AvgPx */
    uint64_t order_id;
    uint32_t handle; /* the core's handle of the resting order (ACCEPTED, REPLACED), 0 = none:
                      * stamped on cancels and replaces as bourse_cmd.order, a hint (handles.h) */
} fix_order;

/* Per gateway. */
typedef struct fix_gw {
    gateway *g;
    uint32_t proto;
    fix_sess *sess;
    uint32_t nsess;
    fix_order *orders; /* open addressing on (user, oid) */
    uint32_t ocap, oused;
    uint32_t dc[FIX_MAX_DROPCOPY]; /* users of the drop copy sessions open here */
    uint32_t ndc;
    uint32_t *dirty; /* users whose store has something to write this turn */
    uint32_t ndirty;
    uint8_t local;   /* handling a client's message or a tick: what is sent waits for its mark */
    uint8_t possdup; /* the message being handled has PossDupFlag=Y */
    uint64_t nonce;  /* this run's part of the marks' tags */
    uint64_t tags;   /* marks submitted */
} fix_gw;

/* proto_fix.c: send one message of session s (header, seq, store). */
typedef struct fix_writer fix_writer;
void fixs_begin(fix_gw *fg, fix_sess *s, fix_writer *w, char *buf, const char *type);
void fixs_send(fix_gw *fg, fix_sess *s, fix_writer *w, int app);
fix_sess *fixs_get(fix_gw *fg, uint32_t user);       /* NULL: none numbered */
void fixs_touched(fix_gw *fg, fix_sess *s);          /* s's store has something to write this turn */
conn *fixs_live_conn(fix_gw *fg, const fix_sess *s); /* logged on to s now, or NULL */
void fixs_header(fix_gw *fg, fix_sess *s, fix_writer *w, char *buf, const char *type, uint64_t seq);
void fixs_copy_body(fix_writer *w, const fix_msg *m); /* the fields after the standard header */

/* proto_fix_mark.c: the numbers from the log. */
enum { FIX_Q_APP = 1, FIX_Q_CLOSE = 2 };        /* a queued message: kept for resends; close after it */
fix_sess *fixs_slot(fix_gw *fg, uint32_t user); /* made, not numbered, if none; NULL: memory */
/* Queue message m of s (live) and submit its mark of kind (BOURSE_FIXSESS_*). */
void fixs_defer(fix_gw *fg, fix_sess *s, const char *m, size_t n, int flags, int kind);
void fixs_submit_mark(fix_gw *fg, fix_sess *s, conn *c, int kind, uint64_t tag);
/* A mark's event (BOURSE_EV_OK of BOURSE_CMD_FIXSESS) at the user's home. */
void fixs_mark_event(fix_gw *fg, const srv_out *o);
/* The log knows this id of s's user since the last checkpoint (kind 'N'/'C'). */
void fixs_known_add(fix_sess *s, const bourse_name *id, char kind);
int fixs_known(const fix_sess *s, const bourse_name *id, char kind);

/* proto_fix_app.c */
/* An application message (D, F, G, H) from c; 0, or -1 when the session
 * must end (closed). */
void fixa_message(fix_gw *fg, fix_sess *s, conn *c, const fix_msg *m, const char *type);
void fixa_event(fix_gw *fg, const srv_out *o);
void fixa_free(fix_gw *fg);

/* proto_fix_store.c */
int fix_store_open(fix_store *st, const char *dir, const char *user, int reset);
/* An empty store of user's whose file (truncated) is opened at its first
 * flush, on the thread that flushes it: the gateway threads each have a
 * table of descriptors of their own, and a store may be filled before
 * (the streams' rebuild at start, streams.c).  -1: out of memory. */
int fix_store_begin(fix_store *st, const char *dir, const char *user);
void fix_store_close(fix_store *st);
void fix_store_reset(fix_store *st);
/* Keep message seq (the whole message as sent), pending; -1: not kept. */
int fix_store_put(fix_store *st, uint64_t seq, const char *msg, size_t n);
/* Write what is pending and the numbers (next_in, next_out), if anything
 * changed, in one write; -1: the disk refused it. */
int fix_store_flush(fix_store *st);
/* The message seq as sent, into buf; its length, 0 if none is kept. */
size_t fix_store_get(const fix_store *st, uint64_t seq, char *buf, size_t cap);

#endif
