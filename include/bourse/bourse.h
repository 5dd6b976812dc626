/*
 * bourse.h - the deterministic matching core of Bourse.
 *
 * The core is a pure state machine: commands go in, events come out.  It never
 * reads a clock, touches a file or socket, starts a thread or keeps global
 * state, so two engines in one process are independent and the same commands
 * always give the same events.  Replay, the journal, recovery, replicas and the
 * server are all shells around this one function:
 *
 *     bourse_engine_apply(engine, &cmd, on_event, ctx);
 *
 * (A shell on the hot path may send orders, cancels and replaces as the
 * smaller bourse_op through bourse_engine_apply_op(), with the same events.)
 *
 * Identity.  Users and symbols are named in text but the engine works with
 * dense integer ids (0, 1, 2, ... in creation order), so ids are themselves
 * deterministic and a journal may record them instead of names.  A shell
 * resolves names with bourse_user_find()/bourse_symbol_find() immediately
 * before applying a command on the engine's thread; an unknown name resolves
 * to BOURSE_NONE and the engine answers UNKNOWN_USER/UNKNOWN_SYMBOL.  Order
 * ids are chosen by users and travel as 16-byte, zero-padded strings.
 *
 * Numbers.  Prices and cash are int64 in 1/10,000 units (BOURSE_SCALE);
 * quantities and share balances are whole shares.  The limits below make
 * every product and sum fit in 64 bits (see replay.md, rule 8).
 *
 * Memory.  Every table is sized at creation: orders, levels, accounts,
 * positions and the hash tables come from pools, and when one is full the
 * command is refused with CAPACITY.  bourse_engine_apply() allocates only
 * when a symbol is listed and when a book side's price index passes a power
 * of two of levels (amortised, rare).  A shell that prefers growing (replay)
 * calls bourse_engine_reserve() between commands.
 */
#ifndef BOURSE_H
#define BOURSE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BOURSE_SCALE 10000LL         /* 1.0 in price/cash units */
#define BOURSE_NONE UINT32_MAX       /* unknown user or symbol */
#define BOURSE_CASH (UINT32_MAX - 1) /* the asset id of cash */
#define BOURSE_QTY_MAX 100000000LL   /* shares per order */
#define BOURSE_PRICE_MAX (1000000LL * BOURSE_SCALE)
#define BOURSE_TOTAL_MAX 900000000000000LL /* shares of one symbol, or whole cash units */
#define BOURSE_CASH_MAX (BOURSE_TOTAL_MAX * BOURSE_SCALE)
#define BOURSE_SYMBOL_LEN 8
#define BOURSE_NAME_LEN 16 /* users and order ids */

/* Names are fixed-size, zero-padded byte arrays; compare them with memcmp. */
typedef struct bourse_name {
    char s[BOURSE_NAME_LEN];
} bourse_name;
typedef struct bourse_symbol_name {
    char s[BOURSE_SYMBOL_LEN];
} bourse_symbol_name;

enum bourse_cmd_type {
    BOURSE_CMD_SYMBOL = 1, /* symbol_name */
    BOURSE_CMD_USER,       /* user_name */
    BOURSE_CMD_DEPOSIT,    /* user, symbol (or BOURSE_CASH), amount */
    BOURSE_CMD_WITHDRAW,   /* user, symbol (or BOURSE_CASH), amount */
    BOURSE_CMD_LIMIT,      /* user, amount (shares per day, 0 = none) */
    BOURSE_CMD_OPEN,
    BOURSE_CMD_CLOSE,
    BOURSE_CMD_ORDER,   /* user, symbol, oid, side, tif, qty, price */
    BOURSE_CMD_CANCEL,  /* user, oid */
    BOURSE_CMD_REPLACE, /* user, oid, new_oid, qty, price */
    BOURSE_CMD_BOOK,    /* symbol */
    BOURSE_CMD_BALANCE, /* user */
    /* Version 2 of the replay format: the venue rules. */
    BOURSE_CMD_RULES,     /* symbol, set[BOURSE_RULE_*] (BOURSE_UNSET = keep) */
    BOURSE_CMD_FEES,      /* symbol, set[BOURSE_FEE_*] (BOURSE_UNSET = keep) */
    BOURSE_CMD_HALT,      /* symbol */
    BOURSE_CMD_RESUME,    /* symbol */
    BOURSE_CMD_BLOCK,     /* user */
    BOURSE_CMD_UNBLOCK,   /* user */
    BOURSE_CMD_CANCELALL, /* user, symbol (BOURSE_NONE with an empty symbol_name: every symbol) */
    /* Bourse's own, beyond replay-v2.md: the operators' emergency stop of
     * the whole market, and its undo.  A market-wide halt on top of each
     * symbol's own, which `resumeall` lifts leaving those as they were. */
    BOURSE_CMD_HALTALL,
    BOURSE_CMD_RESUMEALL,
    /* One fragment of an account command (bourse/account.h): side = flags,
     * tif = bytes in part[].  Never in a replay file. */
    BOURSE_CMD_ACCOUNT,
    /* A FIX session's mark in the log (docs/fix.md, "Sequence numbers
     * from the log"): user, side = enum bourse_fixsess, qty = the next
     * MsgSeqNum expected from the client, price = the gateway's tag for
     * matching its answer (opaque to the core).  The core checks the user
     * and answers one OK event carrying the four; nothing changes.  Never
     * in a replay file. */
    BOURSE_CMD_FIXSESS,
    BOURSE_CMD_COUNT_
};

/*
 * A market order is a BOURSE_CMD_ORDER priced BOURSE_MARKET; its time in
 * force is ioc or fok (the engine treats day and gtc as ioc: it never
 * rests).  It needs a price band in force, and trades no worse than the
 * band's edge (replay-v2.md, rule 15).
 */
#define BOURSE_MARKET 0
/* The settings of BOURSE_CMD_RULES and BOURSE_CMD_FEES, in cmd->set. */
enum bourse_rule_key {
    BOURSE_RULE_TICK = 0,    /* price units, 1 .. BOURSE_PRICE_MAX */
    BOURSE_RULE_LOT,         /* shares, 1 .. BOURSE_QTY_MAX */
    BOURSE_RULE_MAXQTY,      /* shares, 0 (none) .. BOURSE_QTY_MAX */
    BOURSE_RULE_MAXNOTIONAL, /* cash units, 0 (none) .. BOURSE_CASH_MAX */
    BOURSE_RULE_BAND,        /* basis points of a percent (1/100 %), 0 (none) .. BOURSE_BAND_MAX */
    BOURSE_RULE_REF,         /* the reference price, 1 .. BOURSE_PRICE_MAX */
    BOURSE_RULE_COUNT_
};
enum bourse_fee_key { BOURSE_FEE_MAKER = 0, BOURSE_FEE_TAKER, BOURSE_FEE_COUNT_ };
#define BOURSE_UNSET (-1LL)        /* a setting the command leaves as it is */
#define BOURSE_BAND_MAX 100000LL   /* 1,000 % in basis points */
#define BOURSE_FEE_RATE_MAX 1000LL /* basis points of the notional (10 %) */

/* BOURSE_CMD_FIXSESS kinds: a Logon answered (the numbering goes on, or
 * starts at 1 if there is none), a Logon with ResetSeqNumFlag=Y answered
 * (the numbering starts again at 1), a message the venue's session layer
 * made (it takes the next outbound number), and a checkpoint of the inbound
 * number only (takes none). */
enum bourse_fixsess {
    BOURSE_FIXSESS_LOGON = 0,
    BOURSE_FIXSESS_RESET,
    BOURSE_FIXSESS_MSG,
    BOURSE_FIXSESS_IN,
    BOURSE_FIXSESS_COUNT_
};
#define BOURSE_FIXSESS_SEQ_MAX (1LL << 40) /* the largest MsgSeqNum a mark carries */

enum bourse_side { BOURSE_BUY = 0, BOURSE_SELL = 1 };
enum bourse_tif { BOURSE_DAY = 0, BOURSE_GTC, BOURSE_IOC, BOURSE_FOK };

/*
 * One command.  `user_name` is needed only when `user` is BOURSE_NONE (the
 * rejection must still name the user) and by BOURSE_CMD_USER; `symbol_name`
 * only by BOURSE_CMD_SYMBOL.  `seq` and `ts_ns` are stamped by the sequencer
 * and passed through to the events untouched: the core never reads a clock.
 */
typedef struct bourse_cmd {
    uint8_t type; /* enum bourse_cmd_type */
    uint8_t side; /* enum bourse_side */
    uint8_t tif;  /* enum bourse_tif */
    uint32_t user;
    uint32_t symbol;
    /* CANCEL and REPLACE: the order's handle (bourse_event.order of its
     * ACCEPTED) when the shell kept it, else 0.  A hint: the engine takes
     * the order it names only when that is open with this user and oid, and
     * otherwise finds the order by its id as usual, so the answer never
     * depends on it (the replay text and the journal do not carry it). */
    uint32_t order;
    int64_t qty;   /* shares, or the amount of deposit/withdraw/limit */
    int64_t price; /* 1/10,000 units */
    uint64_t seq;
    int64_t ts_ns;
    /* RULES and FEES carry no order ids and no user: their settings share
     * the bytes (so a command stays the same size on every ring). */
    union {
        struct {
            bourse_name oid;
            bourse_name new_oid;
            bourse_name user_name;
        };
        int64_t set[6];   /* BOURSE_RULE_* or BOURSE_FEE_* -> value or BOURSE_UNSET */
        uint8_t part[48]; /* ACCOUNT: a fragment of an account command (bourse/account.h) */
    };
    bourse_symbol_name symbol_name;
} bourse_cmd;

enum bourse_event_type {
    BOURSE_EV_OK = 1,
    BOURSE_EV_ERROR,    /* reason */
    BOURSE_EV_ACCEPTED, /* user, oid, symbol, side, qty, price */
    BOURSE_EV_REJECTED, /* user, oid, reason */
    BOURSE_EV_TRADE,    /* symbol, qty, price, user/oid = buyer, user2/oid2 = seller, side = the taker's */
    BOURSE_EV_CANCELED, /* user, oid, symbol, side, qty, price, reason */
    BOURSE_EV_REPLACED, /* user, oid, oid2 = new id, symbol, side, qty, price */
    BOURSE_EV_LEVEL,    /* symbol, side, price, qty, count = orders */
    BOURSE_EV_BALANCE,  /* user, symbol (or BOURSE_CASH), qty = available, count = held */
    BOURSE_EV_FEE,      /* right after its TRADE: user, oid, symbol, side, qty = the fee paid */
    BOURSE_EV_ACCOUNT,  /* an account command's answer: bourse/account.h */
    BOURSE_EV_COUNT_
};

enum bourse_reason {
    BOURSE_R_NONE = 0,
    BOURSE_R_UNKNOWN_USER,
    BOURSE_R_UNKNOWN_SYMBOL,
    BOURSE_R_UNKNOWN_ORDER,
    BOURSE_R_DUPLICATE_ID,
    BOURSE_R_DUPLICATE_SYMBOL,
    BOURSE_R_DUPLICATE_USER,
    BOURSE_R_INSUFFICIENT_CASH,
    BOURSE_R_INSUFFICIENT_SHARES,
    BOURSE_R_DAILY_LIMIT,
    BOURSE_R_MARKET_CLOSED,
    BOURSE_R_OVERFLOW,
    BOURSE_R_CAPACITY,
    BOURSE_R_USER,
    BOURSE_R_IOC,
    BOURSE_R_FOK,
    BOURSE_R_SELF_TRADE,
    BOURSE_R_SESSION_END,
    /* Version 2: venue rules (rejects), then the kill switch's cancels. */
    BOURSE_R_BLOCKED,
    BOURSE_R_HALTED,
    BOURSE_R_TICK,
    BOURSE_R_LOT,
    BOURSE_R_MAX_QTY,
    BOURSE_R_MAX_NOTIONAL,
    BOURSE_R_PRICE_BAND,
    BOURSE_R_NO_BAND,
    BOURSE_R_KILL,
    BOURSE_R_COUNT_
};

/*
 * One event.  Which fields mean something depends on `type` (see above); the
 * rest are zero.  ACCEPTED, CANCELED and REPLACED also carry the order's
 * symbol, side and price (and for CANCELED/REPLACED its open quantity) so that
 * market-data publishers need no book of their own to follow the core.
 * The ACCEPTED of a market order carries its protection price (the band's
 * edge it will trade no worse than) as its price.
 *
 * `order` is a small handle (1, 2, ...) of the order an ACCEPTED, CANCELED or
 * REPLACED event is about, and of the resting order of a TRADE, so that a
 * listener can follow orders without keeping (user, order id) pairs.  It is
 * 0 for an ioc or fok order (they never rest).  A handle names one order
 * from its ACCEPTED until it is no longer open (fully traded, canceled,
 * replaced and then fully traded); a replace keeps it; after that it may be
 * given to a later order, so a listener must see every event in order.
 * Handles are deterministic, but an engine loaded from a snapshot numbers its
 * open orders afresh, and they are not part of the replay text.
 */
/* A TRADE's `side` is that of the order that took liquidity (the incoming
 * one): BOURSE_BUY when the buyer took, BOURSE_SELL when the seller did.
 * The replay text does not show it.
 *
 * The OK of `rules` carries the symbol, its reference price (price, 0 =
 * none) and band (qty); that of `halt`/`resume` the symbol and side = 1
 * when halted; that of `haltall`/`resumeall` qty = 1 when stopped: market
 * data announces them from the events alone. */
typedef struct bourse_event {
    uint8_t type;   /* enum bourse_event_type */
    uint8_t reason; /* enum bourse_reason */
    uint8_t side;
    uint32_t user;
    uint32_t user2;
    uint32_t symbol;
    uint32_t order; /* the order's handle, see above; 0 = none */
    int64_t qty;
    int64_t price;
    int64_t count;
    bourse_name oid;
    bourse_name oid2;
} bourse_event;

typedef void (*bourse_event_fn)(void *ctx, const bourse_cmd *cmd, const bourse_event *ev);

/*
 * With BOURSE_DAY_IDS an order id must be unique among its user's orders of
 * the trading day rather than of the whole run: the `open` that starts a new
 * trading day forgets the ids of every order that is no longer open (an open
 * gtc order keeps its id).  A server that runs for months needs it, since
 * otherwise every id ever accepted stays in memory; `bourse replay` follows
 * the spec, where ids are never reused, unless asked (--day-ids).
 */
#define BOURSE_DAY_IDS 1u
/*
 * With BOURSE_SELF_TRADE an incoming order trades with its own user's resting
 * orders like anyone else's (a venue without self-trade prevention, as the
 * QuantCup contest's).  Without it (the replay spec's rule) such a resting
 * order is canceled whole, CANCELED ... SELF_TRADE, and the incoming order
 * goes on to the next.  A limit like DAY_IDS: journals and snapshots keep it.
 */
#define BOURSE_SELF_TRADE 2u
#define BOURSE_FLAGS_ALL (BOURSE_DAY_IDS | BOURSE_SELF_TRADE) /* every flag this core knows */

/* Capacities.  Zero means the default in parentheses. */
typedef struct bourse_limits {
    uint32_t symbols;   /* listed symbols (1,024) */
    uint32_t users;     /* accounts (65,536) */
    uint32_t orders;    /* open orders across all books (1,048,576) */
    uint32_t ids;       /* order ids taken at once: of the run, or of the day (2 x orders) */
    uint32_t positions; /* (user, symbol) share accounts (4 x users) */
    uint32_t flags;     /* BOURSE_DAY_IDS, BOURSE_SELF_TRADE */
} bourse_limits;

typedef struct bourse_engine bourse_engine;

/* NULL when out of memory. */
bourse_engine *bourse_engine_new(const bourse_limits *limits);
void bourse_engine_free(bourse_engine *e);

/*
 * Apply one command; events are delivered to fn in order before it returns.
 * The core checks what it is given, not only what a text line can say: an
 * order or replace whose quantity is outside 1..BOURSE_QTY_MAX, whose price
 * is outside 0 (market)..BOURSE_PRICE_MAX, or whose side or time in force is
 * no enum value is REJECTED with OVERFLOW (the numbers its arithmetic is not
 * proved for), right after the user and symbol are known.
 */
void bourse_engine_apply(bourse_engine *e, const bourse_cmd *cmd, bourse_event_fn fn, void *ctx);
/*
 * The hot path's command: 40 bytes to build per message instead of the
 * 104 of bourse_cmd, for a shell or a harness that has already resolved
 * names to ids and keeps the handles the engine gives (bourse_event.order of
 * an ACCEPTED), as a gateway does.  Only orders, cancels and replaces;
 * everything else, and the replay text and the journal, stay with
 * bourse_cmd.
 *
 *   type    BOURSE_CMD_ORDER, BOURSE_CMD_CANCEL or BOURSE_CMD_REPLACE; any
 *           other type changes nothing and emits nothing
 *   user    the user's id (one that names no user, BOURSE_NONE or any
 *           other, is answered UNKNOWN_USER)
 *   symbol  ORDER: the symbol's id
 *   side, tif  ORDER: enum bourse_side, enum bourse_tif
 *   order   CANCEL and REPLACE: the order's handle, which must name an open
 *           order of `user` (else REJECTED UNKNOWN_ORDER): unlike
 *           bourse_cmd.order it is the order's only name, not a hint, and
 *           the events name the order by the id it was accepted under
 *   qty, price  ORDER and REPLACE, as in bourse_cmd (qty is at most
 *           BOURSE_QTY_MAX, so 32 bits hold every valid one)
 *   oid     ORDER: the new order's id; REPLACE: the id it takes (new_oid);
 *           CANCEL: named by a REJECTED UNKNOWN_ORDER only.  An id of up to
 *           8 bytes packed little-endian (bourse_oid_pack): byte i of the
 *           16-byte name is (oid >> 8i) & 0xff, bytes 8..15 are zero.  So
 *           it is the same id as the text "1041" when it packs "1041", and
 *           the duplicate-id check and every event are the text path's.
 *
 * Events are those bourse_engine_apply() gives for the bourse_cmd that says
 * the same (with the order's id as oid), delivered to fn with cmd == NULL:
 * an op has no seq or ts_ns to pass through, and a shell that needs them
 * has them in its own hands.
 */
typedef struct bourse_op {
    uint8_t type; /* enum bourse_cmd_type: ORDER, CANCEL or REPLACE */
    uint8_t side; /* enum bourse_side */
    uint8_t tif;  /* enum bourse_tif */
    uint8_t pad_; /* zero */
    uint32_t user;
    uint32_t symbol;
    uint32_t order; /* CANCEL, REPLACE: the order's handle */
    uint32_t qty;   /* shares */
    uint32_t pad2_; /* zero */
    int64_t price;  /* 1/10,000 units */
    uint64_t oid;   /* a packed id of up to 8 bytes: see above */
} bourse_op;
void bourse_engine_apply_op(bourse_engine *e, const bourse_op *op, bourse_event_fn fn, void *ctx);

/* Pack an order id of at most 8 bytes for bourse_op.oid; an id that is
 * longer (which only bourse_cmd can carry) packs to 0. */
static inline uint64_t bourse_oid_pack(const char *s, size_t len)
{
    uint64_t v = 0;
    if (len > 8)
        return 0;
    for (size_t i = 0; i < len; i++)
        v |= (uint64_t)(unsigned char)s[i] << (8 * i);
    return v;
}

/*
 * Answer a read-only command (BOURSE_CMD_BOOK, BOURSE_CMD_BALANCE) as
 * bourse_engine_apply would, but as a query: the state, its snapshot and
 * its hash stay exactly as they were (the command is not counted), so a
 * shell may answer it without journaling it.  Other types: nothing.
 */
void bourse_engine_query(bourse_engine *e, const bourse_cmd *cmd, bourse_event_fn fn, void *ctx);

/*
 * Back to the state of a new engine with the same limits (capacities as
 * grown), keeping its memory: pools restart from their first slot and the
 * hash tables are wiped only when they hold something, so a harness that
 * runs many sessions pays neither the allocation nor fresh page faults.
 */
void bourse_engine_reset(bourse_engine *e);

/*
 * The top of a book without the BOOK command: up to n levels of one side,
 * best first (price, total open quantity, orders).  Returns how many were
 * written: 0 for an empty side or an unknown symbol.  n = 1 reads the best
 * bid or ask.  O(n); changes nothing.
 */
typedef struct bourse_depth {
    int64_t price, qty;
    uint32_t count;
} bourse_depth;
uint32_t bourse_book_depth(const bourse_engine *e, uint32_t symbol, int side, bourse_depth *out, uint32_t n);

/*
 * Make room for at least one more of everything a single command can use,
 * growing tables whose free space is low.  Returns 0, or -1 when out of
 * memory (the engine is unchanged and still valid).
 */
int bourse_engine_reserve(bourse_engine *e);

/*
 * Page in every table now, so that no command takes a page fault on memory
 * it is the first to use.  The engine's whole capacity becomes resident.
 * Optional: for a server or a benchmark that wants a steady hot path.
 */
void bourse_engine_prefault(bourse_engine *e);

/*
 * A hint for a shell holding a batch of commands: start loading the memory
 * `cmd` will need (its order ids' slots in the id map, the user's account),
 * so that applying it a few commands later waits less.  Changes nothing and
 * emits nothing; cmd->user and cmd->symbol must already be resolved.
 */
void bourse_engine_prefetch(const bourse_engine *e, const bourse_cmd *cmd);

/* Name lookups: an id, or BOURSE_NONE. */
uint32_t bourse_user_find(const bourse_engine *e, const char *name, size_t len);
uint32_t bourse_symbol_find(const bourse_engine *e, const char *name, size_t len);
/*
 * Fill cmd->user and cmd->symbol from cmd->user_name and cmd->symbol_name
 * (BOURSE_NONE when unknown; a symbol_name of "CASH" gives BOURSE_CASH).
 * Call it on the engine's thread right before bourse_engine_apply(), since
 * the ids depend on every user and symbol created before.
 */
void bourse_engine_resolve(const bourse_engine *e, bourse_cmd *cmd);
/* The zero-padded name of an existing id. */
const bourse_name *bourse_user_name(const bourse_engine *e, uint32_t user);
const bourse_symbol_name *bourse_symbol_name_of(const bourse_engine *e, uint32_t symbol);

/*
 * Every resting order as an ACCEPTED event (user, oid, symbol, side, open
 * qty, price), symbol by symbol, bids then asks, best price first and in
 * time priority within a price; cmd is a zeroed command.  For a shell that
 * must rebuild its view of the books from a recovered engine (market data).
 */
void bourse_engine_each_order(const bourse_engine *e, bourse_event_fn fn, void *ctx);

/* Counters, for tests, benchmarks and monitoring. */
typedef struct bourse_stats {
    uint32_t symbols, users, open_orders, levels, positions, ids;
    uint64_t trades, commands;
    int is_open;
} bourse_stats;
void bourse_engine_stats(const bourse_engine *e, bourse_stats *out);

/*
 * A 64-bit hash of the whole state in canonical order (independent of pool
 * layout and table sizes): equal states give equal hashes.
 */
uint64_t bourse_engine_hash(const bourse_engine *e);

/*
 * A symbol's venue rules and trading state (replay-v2.md, rules 10-16), for
 * shells that show or publish them (admin, market data).  Returns -1 for an
 * unknown symbol.  `ref` is 0 when the symbol has no reference price.
 */
typedef struct bourse_symbol_state {
    int64_t tick, lot, maxqty, maxnotional, band, ref;
    int64_t maker, taker;
    int halted;     /* its own halt (`halt SYM`) */
    int halted_all; /* the whole market's (`haltall`) */
} bourse_symbol_state;
int bourse_symbol_state_of(const bourse_engine *e, uint32_t symbol, bourse_symbol_state *out);
/*
 * The edges [*lo, *hi] of a price band of `band` basis points of a percent
 * around the reference price `ref` (replay-v2.md, rule 11: rounded inward,
 * the upper edge at most BOURSE_PRICE_MAX).  Returns 0 (and sets nothing)
 * when no band is in force: band or ref 0.
 */
int bourse_band_edges(int64_t ref, int64_t band, int64_t *lo, int64_t *hi);
/* 1 when the user's kill switch is on, 0 when not, -1 for an unknown user. */
int bourse_user_blocked(const bourse_engine *e, uint32_t user);

/* Enum names as printed in the replay format ("UNKNOWN_USER", "day", ...). */
const char *bourse_reason_name(int reason);

/*
 * Snapshots (src/core/snapshot.c): the whole state as a byte stream, passed
 * through callbacks so the core does no I/O.  A callback returns 0 on
 * success; the read callback must deliver exactly `len` bytes.  Save returns
 * 0 or the first nonzero value of fn.  Load returns a new engine that hashes
 * and behaves exactly as the saved one (same capacities, same answers), or
 * NULL with a reason in err when the stream is short, malformed or does not
 * add up.
 */
typedef int (*bourse_write_fn)(void *ctx, const void *buf, size_t len);
typedef int (*bourse_read_fn)(void *ctx, void *buf, size_t len);
int bourse_engine_save(const bourse_engine *e, bourse_write_fn fn, void *ctx);
bourse_engine *bourse_engine_load(bourse_read_fn fn, void *ctx, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
