/*
 * ouch_account.c - a trader's own account over order entry: the Account
 * Query and its answer (docs/protocol.md, "Account query").
 *
 * OUCH has no way for a trader to ask what they hold; Bourse adds one.  The
 * client sends an Account Query ('Q', one byte) in an Unsequenced Data
 * packet, as any order; the server answers with one Balance ('b') per
 * account the user ever had (cash, then each symbol), one Open Order ('o')
 * per resting order, and an Account End ('q') with their count, all in
 * SoupBinTCP Unsequenced Data packets ('U', server to client: a Bourse
 * extension).  Unsequenced because an answer is no report: it is not part
 * of the user's numbered stream, is never replayed at a re-login and moves
 * no sequence number, so a client that asks loses nothing of its stream.
 *
 * Layout as every outbound message: type, then the timestamp (8 bytes,
 * nanoseconds since the epoch), then fixed fields, big-endian integers and
 * space-padded text:
 *   b  stock(8, "CASH" for cash) available(8, signed) held(8, signed)  33
 *   o  token(16) side(1 B/S) shares(4) stock(8) price(8)               46
 *   q  status(1: ' ' answered, 'B' busy: one query at a time) count(4)  14
 * Cash amounts and prices have 4 implied decimals; shares are whole.
 */
#include "net/ouch.h"
#include "net/soup.h"

#include <string.h>

static void get_name(const uint8_t *src, size_t width, char *dst)
{
    size_t n = width;
    while (n && src[n - 1] == ' ')
        n--;
    memcpy(dst, src, n);
}

size_t ouch_account_write(uint8_t *b, const ouch_report *r)
{
    b[0] = r->type;
    put_be64(b + 1, r->ts_ns);
    switch (r->type) {
    case OUCH_BALANCE:
        soup_put_alpha(b + 9, OUCH_STOCK_LEN, r->stock.s, strnlen(r->stock.s, OUCH_STOCK_LEN));
        put_be64(b + 17, (uint64_t)r->qty);
        put_be64(b + 25, (uint64_t)r->price);
        return OUCH_BALANCE_LEN;
    case OUCH_OPEN_ORDER:
        soup_put_alpha(b + 9, OUCH_TOKEN_LEN, r->token.s, strnlen(r->token.s, OUCH_TOKEN_LEN));
        b[25] = r->side == BOURSE_BUY ? 'B' : 'S';
        put_be32(b + 26, (uint32_t)r->qty);
        soup_put_alpha(b + 30, OUCH_STOCK_LEN, r->stock.s, strnlen(r->stock.s, OUCH_STOCK_LEN));
        put_be64(b + 38, (uint64_t)r->price);
        return OUCH_OPEN_ORDER_LEN;
    case OUCH_ACCOUNT_END:
        b[9] = r->event;
        put_be32(b + 10, (uint32_t)r->ref);
        return OUCH_ACCOUNT_END_LEN;
    }
    return 0;
}

int ouch_account_read(const uint8_t *m, size_t len, ouch_report *r)
{
    memset(r, 0, sizeof *r);
    size_t want = !len                       ? 0
                  : m[0] == OUCH_BALANCE     ? OUCH_BALANCE_LEN
                  : m[0] == OUCH_OPEN_ORDER  ? OUCH_OPEN_ORDER_LEN
                  : m[0] == OUCH_ACCOUNT_END ? OUCH_ACCOUNT_END_LEN
                                             : 0;
    if (!want || len != want)
        return -1;
    r->type = m[0];
    r->ts_ns = get_be64(m + 1);
    switch (m[0]) {
    case OUCH_BALANCE:
        get_name(m + 9, OUCH_STOCK_LEN, r->stock.s);
        r->qty = (int64_t)get_be64(m + 17);
        r->price = (int64_t)get_be64(m + 25);
        break;
    case OUCH_OPEN_ORDER:
        get_name(m + 9, OUCH_TOKEN_LEN, r->token.s);
        r->side = m[25] == 'B' ? BOURSE_BUY : BOURSE_SELL;
        r->qty = get_be32(m + 26);
        get_name(m + 30, OUCH_STOCK_LEN, r->stock.s);
        r->price = (int64_t)get_be64(m + 38);
        break;
    default:
        r->event = m[9];
        r->ref = get_be32(m + 10);
        break;
    }
    return 0;
}
