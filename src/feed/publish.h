/*
 * publish.h - the publisher's logic: the engine's events in, market-data
 * messages out.  No threads, sockets or clocks here (feed.c runs it on the
 * feed's thread), so tests drive it straight from an engine.
 *
 * The engine thread turns each event it wants published into one compact
 * record (feed_rec_fill) written straight into an SPSC ring; the feed's
 * thread hands them to pub_apply in order.  The last record of a command
 * carries `end` (set when the command's events are complete), or a COMMIT
 * record follows.  The add of an incoming order is published only then,
 * because only then is its booked quantity known: an order may trade on
 * arrival and only its rest is booked.
 *
 * Order reference numbers are assigned 1, 2, 3... in the order orders are
 * booked, and trade match numbers likewise, so a replay of the same commands
 * publishes the same stream.
 */
#ifndef BOURSE_FEED_PUBLISH_H
#define BOURSE_FEED_PUBLISH_H

#include "bourse/bourse.h"
#include "feed/itch.h"
#include "feed/model.h"

#include <string.h>

enum feed_rec_kind {
    REC_SYMBOL = 1, /* name */
    REC_OPEN,
    REC_CLOSE,
    REC_ACCEPTED, /* order, symbol, side, qty, price: the incoming order */
    REC_TRADE,    /* order: the resting one; side: the aggressor; qty, price */
    REC_CANCELED, /* order, qty */
    REC_REPLACED, /* order, qty, price (new) */
    REC_COMMIT,   /* nothing but the end of a command */
    REC_SNAPSHOT, /* not for pub_apply: the feed saves its history at seq `price` (fsnap.h) */
    REC_HALT,     /* symbol, side = 1 halted, 0 resumed */
    REC_HALTALL,  /* qty = 1 the emergency stop, 0 its end */
    REC_BAND,     /* symbol, price = reference price, qty = band (basis points of a percent) */
};

/* 32 bytes, two to a cache line of the ring: orders are named by the
 * engine's handles (bourse_event.order), not by (user, 16-byte order id),
 * which made every record (a replace carries two ids) a whole 64-byte line
 * for the engine thread to write and the feed's to read. */
typedef struct feed_rec {
    uint8_t kind;
    uint8_t side;
    uint8_t end; /* the last record of its command */
    uint8_t pad_;
    uint32_t symbol;
    uint32_t qty;
    uint32_t order; /* the engine's handle of the order; 0 = none (ioc, fok) */
    union {
        int64_t price;
        char name[BOURSE_SYMBOL_LEN]; /* REC_SYMBOL */
    };
    int64_t ts; /* the command's, from the sequencer */
} feed_rec;
_Static_assert(sizeof(feed_rec) == 32, "two records per cache line");

/* These two run on the engine thread for every event, hence inline.
 *
 * The kind of record an event makes, or 0 when it makes none. */
static inline int feed_rec_kind(const bourse_cmd *cmd, const bourse_event *ev)
{
    switch (ev->type) {
    case BOURSE_EV_ACCEPTED: return REC_ACCEPTED;
    case BOURSE_EV_TRADE: return REC_TRADE;
    case BOURSE_EV_CANCELED: return REC_CANCELED;
    case BOURSE_EV_REPLACED: return REC_REPLACED;
    case BOURSE_EV_OK:
        return cmd->type == BOURSE_CMD_SYMBOL      ? REC_SYMBOL
               : cmd->type == BOURSE_CMD_OPEN      ? REC_OPEN
               : cmd->type == BOURSE_CMD_CLOSE     ? REC_CLOSE
               : cmd->type == BOURSE_CMD_HALT      ? REC_HALT
               : cmd->type == BOURSE_CMD_RESUME    ? REC_HALT
               : cmd->type == BOURSE_CMD_HALTALL   ? REC_HALTALL
               : cmd->type == BOURSE_CMD_RESUMEALL ? REC_HALTALL
               : cmd->type == BOURSE_CMD_RULES     ? REC_BAND
                                                   : 0;
    default: return 0;
    }
}

/* Every field is written (the slot holds an older record), each straight
 * into the slot: a record built on the stack and then copied is reloaded
 * with wide loads from narrow stores, which store forwarding cannot serve. */
static inline void feed_rec_fill(feed_rec *r, int kind, const bourse_cmd *cmd, const bourse_event *ev)
{
    r->kind = (uint8_t)kind;
    r->side = ev->side;
    r->end = 0;
    r->pad_ = 0;
    r->symbol = ev->symbol;
    r->qty = (uint32_t)ev->qty;
    r->order = ev->order;
    r->price = ev->price;
    r->ts = cmd->ts_ns;
    if (kind == REC_TRADE) /* the aggressor: the command's user (self-trades never happen) */
        r->side = ev->user == cmd->user ? BOURSE_BUY : BOURSE_SELL;
    else if (kind == REC_SYMBOL)
        memcpy(r->name, cmd->symbol_name.s, BOURSE_SYMBOL_LEN);
}

/* The record for one event in *out; 0 when the event makes none. */
int feed_rec_make(feed_rec *out, const bourse_cmd *cmd, const bourse_event *ev);

/* Receives every sequenced message.  For EXECUTED, price (the trade's) and
 * side (the aggressor's, 'B' or 'S') are filled in too, for local use. */
typedef void (*pub_emit_fn)(void *ctx, const itch_msg *m);

typedef struct pub_pending {
    int kind; /* 0 none, REC_ACCEPTED or REC_REPLACED */
    uint32_t symbol;
    uint32_t order; /* the engine's handle */
    int side;
    int64_t price;
    int64_t rest; /* still unfilled */
    uint32_t old; /* replace: the order being moved */
} pub_pending;

/* A symbol's last PUB_TAPE trades, for the WebSocket trades channel: the
 * tape is history (it survives a restart through fsnap.h), so it is kept
 * here with the rest of what the events built, not in ws.c. */
typedef struct pub_trade {
    int64_t ts, price, qty;
    uint64_t match;
    uint8_t side; /* the aggressor's, BOURSE_BUY or BOURSE_SELL */
} pub_trade;
#define PUB_TAPE 1024
typedef struct pub_tape {
    pub_trade t[PUB_TAPE];
    uint64_t n; /* trades ever: t holds the last PUB_TAPE, trade i at i % PUB_TAPE */
} pub_tape;

typedef struct pub {
    fbook book;
    pub_tape *tapes; /* per symbol */
    uint32_t tape_cap;
    uint32_t *by_handle; /* the engine's order handle -> order index, or FB_NIL */
    uint32_t handles_cap;
    uint64_t next_ref, next_match;
    pub_pending pend;
    int64_t ts; /* timestamp of the latest record */
    int open;
    int halted_all;  /* the emergency stop: every symbol halted */
    uint64_t errors; /* events that did not fit the model (a bug upstream) */
    pub_emit_fn emit;
    void *ctx;
} pub;

int pub_init(pub *p, uint32_t candle_depth, pub_emit_fn emit, void *ctx);
void pub_free(pub *p);
void pub_apply(pub *p, const feed_rec *r);

/* Emit the whole current state (directory, market state, every booked order
 * in time priority, stats, candles) through fn; the caller follows it with
 * a SNAPSHOT_END. Call between commands (after a COMMIT). */
void pub_snapshot(const pub *p, pub_emit_fn fn, void *ctx);

/* Take the halts, the emergency stop and the bands of the engine e as the
 * publisher's own, silently (no message): for a publisher restored from a
 * feed snapshot taken at e's sequence number, whose stream already told
 * them. */
void pub_set_rules(pub *p, const bourse_engine *e);

#endif
