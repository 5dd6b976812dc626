/*
 * ouch.h - Bourse's OUCH order-entry messages (docs/protocol.md).
 *
 * Modelled on Nasdaq OUCH 4.2: fixed-length messages, big-endian binary
 * integers, space-padded alphanumerics and prices with 4 implied decimals,
 * carried in SoupBinTCP unsequenced (client to server) and sequenced (server
 * to client) packets.  Bourse's differences: order tokens are 16 bytes (a
 * Bourse order id), prices are 8 bytes (as in OUCH 5.0, since a price may
 * reach 1,000,000), time in force is one FIX-style character, a cancel is
 * always whole, and Executed names the order's side and symbol so every
 * report can be read on its own.
 *
 * Inbound messages become bourse_cmd values and outbound reports are built
 * from an ouch_report; both directions are pure byte codecs.
 */
#ifndef BOURSE_NET_OUCH_H
#define BOURSE_NET_OUCH_H

#include "bourse/bourse.h"

#include <stddef.h>
#include <stdint.h>

#define OUCH_TOKEN_LEN BOURSE_NAME_LEN
#define OUCH_STOCK_LEN BOURSE_SYMBOL_LEN

/* Client to server. */
enum { OUCH_ENTER = 'O', OUCH_REPLACE = 'U', OUCH_CANCEL = 'X' };
enum { OUCH_ENTER_LEN = 39, OUCH_REPLACE_LEN = 45, OUCH_CANCEL_LEN = 17 };

/* Server to client. */
enum {
    OUCH_SYSTEM = 'S',
    OUCH_ACCEPTED = 'A',
    OUCH_REPLACED = 'U',
    OUCH_CANCELED = 'C',
    OUCH_EXECUTED = 'E',
    OUCH_REJECTED = 'J',
};
enum {
    OUCH_SYSTEM_LEN = 10,
    OUCH_ACCEPTED_LEN = 55,
    OUCH_REPLACED_LEN = 70,
    OUCH_CANCELED_LEN = 30,
    OUCH_EXECUTED_LEN = 55,
    OUCH_REJECTED_LEN = 26,
    OUCH_MAX_LEN = 70,
};

/* The Account Query (client to server) and its answer, in Unsequenced Data
 * packets both ways (ouch_account.c; docs/protocol.md, "Account query"). */
enum { OUCH_ACCOUNT_QUERY = 'Q', OUCH_ACCOUNT_QUERY_LEN = 1 };
enum { OUCH_BALANCE = 'b', OUCH_OPEN_ORDER = 'o', OUCH_ACCOUNT_END = 'q' };
enum { OUCH_BALANCE_LEN = 33, OUCH_OPEN_ORDER_LEN = 46, OUCH_ACCOUNT_END_LEN = 14 };
enum { OUCH_ANSWERED = ' ', OUCH_BUSY = 'B' }; /* Account End status */

/* System event codes. */
enum { OUCH_START_OF_DAY = 'S', OUCH_END_OF_DAY = 'E' };

/*
 * Reasons the gateway itself rejects an order with, beyond the core's
 * enum bourse_reason (they share one number space in ouch_report.reason).
 */
enum {
    OUCH_R_RATE_LIMIT = 64, /* the session's order rate was exceeded */
    OUCH_R_BAD_QTY,         /* shares 0 or above 100,000,000 */
    OUCH_R_BAD_PRICE,       /* price 0 or above 1,000,000 */
    OUCH_R_BAD_TOKEN,       /* order token not 1-16 of A-Z a-z 0-9 _ - */
    OUCH_R_BAD_SYMBOL,      /* stock not 1-8 of A-Z 0-9 . */
    OUCH_R_BAD_FIELD,       /* side or time in force not one of the codes */
};

/* One outbound report, decoded. Which fields mean something depends on type. */
typedef struct ouch_report {
    uint8_t type;
    uint8_t side;      /* enum bourse_side */
    uint8_t tif;       /* enum bourse_tif */
    uint8_t reason;    /* enum bourse_reason or OUCH_R_* */
    uint8_t event;     /* system event code */
    uint8_t liquidity; /* 'A' the order rested, 'R' it took liquidity */
    uint64_t ts_ns;    /* nanoseconds since the Unix epoch */
    int64_t qty;
    int64_t price;
    uint64_t ref; /* order reference number, or match number */
    bourse_name token;
    bourse_name token2; /* Replaced: the previous token */
    bourse_symbol_name stock;
} ouch_report;

/*
 * Parse one inbound message into cmd (type, side, tif, qty, price, oid,
 * new_oid, symbol_name; the user is the session's, set by the caller).
 * Returns 0 when valid; -1 when malformed (unknown type or wrong length:
 * the session ends, *why says why); or an OUCH_R_* code when well formed
 * but a field is invalid (cmd->oid holds the token to reject).
 */
int ouch_parse(const uint8_t *m, size_t len, bourse_cmd *cmd, const char **why);

/* Write an inbound message for cmd (ORDER, CANCEL or REPLACE); returns its length. */
size_t ouch_write_cmd(uint8_t *buf, const bourse_cmd *cmd);

/* Write an outbound report; returns its length (0 for an unknown type). */
size_t ouch_write(uint8_t *buf, const ouch_report *r);
/* Decode an outbound report; 0 on success, -1 if malformed. */
int ouch_read(const uint8_t *m, size_t len, ouch_report *r);

/* An answer to an Account Query: Balance (stock, qty = available, price =
 * held), Open Order (token, side, qty, stock, price) or Account End (event
 * = status, ref = count); write returns the length (0: not one of these),
 * read 0 or -1 when malformed. */
size_t ouch_account_write(uint8_t *buf, const ouch_report *r);
int ouch_account_read(const uint8_t *m, size_t len, ouch_report *r);

/* One-character codes on the wire for reasons, and back (0 if unknown). */
uint8_t ouch_reason_code(int reason);
int ouch_reason_of(uint8_t code);
/* Printable name of a reason: the core's names plus RATE_LIMIT, BAD_QTY... */
const char *ouch_reason_name(int reason);

#endif
