/*
 * ouch.c - the OUCH message codec (see ouch.h and docs/protocol.md).
 *
 * Every message has a fixed length per type, so a length that does not
 * match is a framing error and ends the session; a field with a bad value in
 * a well-formed message is the client's mistake about one order and gets a
 * Rejected report for that order's token instead.
 */
#include "net/ouch.h"
#include "net/soup.h"

#include <string.h>

static const char reason_codes[] = {
    [BOURSE_R_UNKNOWN_USER] = 'A',
    [BOURSE_R_UNKNOWN_SYMBOL] = 'S',
    [BOURSE_R_UNKNOWN_ORDER] = 'N',
    [BOURSE_R_DUPLICATE_ID] = 'D',
    [BOURSE_R_DUPLICATE_SYMBOL] = 'y',
    [BOURSE_R_DUPLICATE_USER] = 'w',
    [BOURSE_R_INSUFFICIENT_CASH] = 'C',
    [BOURSE_R_INSUFFICIENT_SHARES] = 'H',
    [BOURSE_R_DAILY_LIMIT] = 'L',
    [BOURSE_R_MARKET_CLOSED] = 'M',
    [BOURSE_R_OVERFLOW] = 'V',
    [BOURSE_R_CAPACITY] = 'K',
    [BOURSE_R_USER] = 'U',
    [BOURSE_R_IOC] = 'I',
    [BOURSE_R_FOK] = 'F',
    [BOURSE_R_SELF_TRADE] = 'Q',
    [BOURSE_R_SESSION_END] = 'E',
    [BOURSE_R_BLOCKED] = 'b',
    [BOURSE_R_HALTED] = 'h',
    [BOURSE_R_TICK] = 't',
    [BOURSE_R_LOT] = 'l',
    [BOURSE_R_MAX_QTY] = 'q',
    [BOURSE_R_MAX_NOTIONAL] = 'n',
    [BOURSE_R_PRICE_BAND] = 'p',
    [BOURSE_R_NO_BAND] = 'm',
    [BOURSE_R_KILL] = 'k',
    [OUCH_R_RATE_LIMIT] = 'R',
    [OUCH_R_BAD_QTY] = 'Z',
    [OUCH_R_BAD_PRICE] = 'X',
    [OUCH_R_BAD_TOKEN] = 'T',
    [OUCH_R_BAD_SYMBOL] = 'Y',
    [OUCH_R_BAD_FIELD] = 'O',
};

static const char *const gateway_reasons[] = {
    [OUCH_R_RATE_LIMIT - OUCH_R_RATE_LIMIT] = "RATE_LIMIT",
    [OUCH_R_BAD_QTY - OUCH_R_RATE_LIMIT] = "BAD_QTY",
    [OUCH_R_BAD_PRICE - OUCH_R_RATE_LIMIT] = "BAD_PRICE",
    [OUCH_R_BAD_TOKEN - OUCH_R_RATE_LIMIT] = "BAD_TOKEN",
    [OUCH_R_BAD_SYMBOL - OUCH_R_RATE_LIMIT] = "BAD_SYMBOL",
    [OUCH_R_BAD_FIELD - OUCH_R_RATE_LIMIT] = "BAD_FIELD",
};

uint8_t ouch_reason_code(int reason)
{
    if (reason <= 0 || reason >= (int)sizeof reason_codes || !reason_codes[reason])
        return 'O';
    return (uint8_t)reason_codes[reason];
}

int ouch_reason_of(uint8_t code)
{
    for (size_t i = 1; i < sizeof reason_codes; i++)
        if (reason_codes[i] && (uint8_t)reason_codes[i] == code)
            return (int)i;
    return 0;
}

const char *ouch_reason_name(int reason)
{
    if (reason >= OUCH_R_RATE_LIMIT && reason <= OUCH_R_BAD_FIELD)
        return gateway_reasons[reason - OUCH_R_RATE_LIMIT];
    return bourse_reason_name(reason);
}

static const char tif_codes[] = {
    [BOURSE_DAY] = '0', [BOURSE_GTC] = '1', [BOURSE_IOC] = '3', [BOURSE_FOK] = '4'};

static int tif_of(uint8_t c)
{
    for (int i = 0; i < 4; i++)
        if ((uint8_t)tif_codes[i] == c)
            return i;
    return -1;
}

/* A space-padded token: 1-16 of A-Z a-z 0-9 _ -, then only spaces. */
static int get_token(const uint8_t *src, bourse_name *out)
{
    memset(out, 0, sizeof *out);
    size_t n = 0;
    while (n < OUCH_TOKEN_LEN && src[n] != ' ') {
        uint8_t c = src[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-'))
            return -1;
        out->s[n] = (char)c;
        n++;
    }
    for (size_t i = n; i < OUCH_TOKEN_LEN; i++)
        if (src[i] != ' ')
            return -1;
    return n ? 0 : -1;
}

static int get_stock(const uint8_t *src, bourse_symbol_name *out)
{
    memset(out, 0, sizeof *out);
    size_t n = 0;
    while (n < OUCH_STOCK_LEN && src[n] != ' ') {
        uint8_t c = src[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'))
            return -1;
        out->s[n] = (char)c;
        n++;
    }
    for (size_t i = n; i < OUCH_STOCK_LEN; i++)
        if (src[i] != ' ')
            return -1;
    if (n == 0 || (n == 4 && !memcmp(out->s, "CASH", 4)))
        return -1;
    return 0;
}

/* The raw token bytes, for rejecting a message whose token is invalid. */
static void raw_token(const uint8_t *src, bourse_name *out)
{
    memset(out, 0, sizeof *out);
    size_t n = OUCH_TOKEN_LEN;
    while (n && src[n - 1] == ' ')
        n--;
    memcpy(out->s, src, n);
}

/* A price of 0 is a market order (replay-v2.md, rule 15), allowed only on
 * an Enter Order with time in force ioc or fok. */
static int check_qty_price(int64_t qty, int64_t price, int market_ok)
{
    if (qty < 1 || qty > BOURSE_QTY_MAX)
        return OUCH_R_BAD_QTY;
    if ((price < 1 && !(price == BOURSE_MARKET && market_ok)) || price > BOURSE_PRICE_MAX)
        return OUCH_R_BAD_PRICE;
    return 0;
}

static int parse_enter(const uint8_t *m, bourse_cmd *cmd)
{
    cmd->type = BOURSE_CMD_ORDER;
    if (get_token(m + 1, &cmd->oid) != 0) {
        raw_token(m + 1, &cmd->oid);
        return OUCH_R_BAD_TOKEN;
    }
    cmd->qty = get_be32(m + 18);
    cmd->price = (int64_t)get_be64(m + 30);
    int tif = tif_of(m[38]);
    if ((m[17] != 'B' && m[17] != 'S') || tif < 0)
        return OUCH_R_BAD_FIELD;
    cmd->side = m[17] == 'B' ? BOURSE_BUY : BOURSE_SELL;
    cmd->tif = (uint8_t)tif;
    if (get_stock(m + 22, &cmd->symbol_name) != 0)
        return OUCH_R_BAD_SYMBOL;
    return check_qty_price(cmd->qty, cmd->price, tif == BOURSE_IOC || tif == BOURSE_FOK);
}

static int parse_replace(const uint8_t *m, bourse_cmd *cmd)
{
    cmd->type = BOURSE_CMD_REPLACE;
    /* A replace is answered under its new token, as the core does. */
    if (get_token(m + 17, &cmd->new_oid) != 0) {
        raw_token(m + 17, &cmd->oid);
        return OUCH_R_BAD_TOKEN;
    }
    if (get_token(m + 1, &cmd->oid) != 0) {
        cmd->oid = cmd->new_oid;
        return OUCH_R_BAD_TOKEN;
    }
    cmd->qty = get_be32(m + 33);
    cmd->price = (int64_t)get_be64(m + 37);
    int r = check_qty_price(cmd->qty, cmd->price, 0);
    if (r)
        cmd->oid = cmd->new_oid;
    return r;
}

int ouch_parse(const uint8_t *m, size_t len, bourse_cmd *cmd, const char **why)
{
    memset(cmd, 0, sizeof *cmd);
    if (len == 0) {
        *why = "empty message";
        return -1;
    }
    size_t want = m[0] == OUCH_ENTER     ? OUCH_ENTER_LEN
                  : m[0] == OUCH_REPLACE ? OUCH_REPLACE_LEN
                  : m[0] == OUCH_CANCEL  ? OUCH_CANCEL_LEN
                                         : 0;
    if (!want) {
        *why = "unknown message type";
        return -1;
    }
    if (len != want) {
        *why = "message of the wrong length for its type";
        return -1;
    }
    if (m[0] == OUCH_ENTER)
        return parse_enter(m, cmd);
    if (m[0] == OUCH_REPLACE)
        return parse_replace(m, cmd);
    cmd->type = BOURSE_CMD_CANCEL;
    if (get_token(m + 1, &cmd->oid) != 0) {
        raw_token(m + 1, &cmd->oid);
        return OUCH_R_BAD_TOKEN;
    }
    return 0;
}

static void put_name(uint8_t *dst, size_t width, const char *s)
{
    soup_put_alpha(dst, width, s, strnlen(s, width));
}

size_t ouch_write_cmd(uint8_t *buf, const bourse_cmd *cmd)
{
    switch (cmd->type) {
    case BOURSE_CMD_ORDER:
        buf[0] = OUCH_ENTER;
        put_name(buf + 1, OUCH_TOKEN_LEN, cmd->oid.s);
        buf[17] = cmd->side == BOURSE_BUY ? 'B' : 'S';
        put_be32(buf + 18, (uint32_t)cmd->qty);
        put_name(buf + 22, OUCH_STOCK_LEN, cmd->symbol_name.s);
        put_be64(buf + 30, (uint64_t)cmd->price);
        buf[38] = (uint8_t)tif_codes[cmd->tif & 3];
        return OUCH_ENTER_LEN;
    case BOURSE_CMD_REPLACE:
        buf[0] = OUCH_REPLACE;
        put_name(buf + 1, OUCH_TOKEN_LEN, cmd->oid.s);
        put_name(buf + 17, OUCH_TOKEN_LEN, cmd->new_oid.s);
        put_be32(buf + 33, (uint32_t)cmd->qty);
        put_be64(buf + 37, (uint64_t)cmd->price);
        return OUCH_REPLACE_LEN;
    case BOURSE_CMD_CANCEL:
        buf[0] = OUCH_CANCEL;
        put_name(buf + 1, OUCH_TOKEN_LEN, cmd->oid.s);
        return OUCH_CANCEL_LEN;
    }
    return 0;
}

size_t ouch_write(uint8_t *b, const ouch_report *r)
{
    b[0] = r->type;
    put_be64(b + 1, r->ts_ns);
    if (r->type == OUCH_SYSTEM) {
        b[9] = r->event;
        return OUCH_SYSTEM_LEN;
    }
    put_name(b + 9, OUCH_TOKEN_LEN, r->token.s);
    switch (r->type) {
    case OUCH_ACCEPTED:
    case OUCH_REPLACED:
        b[25] = r->side == BOURSE_BUY ? 'B' : 'S';
        put_be32(b + 26, (uint32_t)r->qty);
        put_name(b + 30, OUCH_STOCK_LEN, r->stock.s);
        put_be64(b + 38, (uint64_t)r->price);
        if (r->type == OUCH_REPLACED) {
            put_be64(b + 46, r->ref);
            put_name(b + 54, OUCH_TOKEN_LEN, r->token2.s);
            return OUCH_REPLACED_LEN;
        }
        b[46] = (uint8_t)tif_codes[r->tif & 3];
        put_be64(b + 47, r->ref);
        return OUCH_ACCEPTED_LEN;
    case OUCH_CANCELED:
        put_be32(b + 25, (uint32_t)r->qty);
        b[29] = ouch_reason_code(r->reason);
        return OUCH_CANCELED_LEN;
    case OUCH_EXECUTED:
        put_be32(b + 25, (uint32_t)r->qty);
        put_be64(b + 29, (uint64_t)r->price);
        b[37] = r->liquidity;
        put_be64(b + 38, r->ref);
        b[46] = r->side == BOURSE_BUY ? 'B' : 'S';
        put_name(b + 47, OUCH_STOCK_LEN, r->stock.s);
        return OUCH_EXECUTED_LEN;
    case OUCH_REJECTED: b[25] = ouch_reason_code(r->reason); return OUCH_REJECTED_LEN;
    }
    return 0;
}

static void get_name(const uint8_t *src, size_t width, char *dst)
{
    size_t n = width;
    while (n && src[n - 1] == ' ')
        n--;
    memcpy(dst, src, n);
}

int ouch_read(const uint8_t *m, size_t len, ouch_report *r)
{
    memset(r, 0, sizeof *r);
    if (len < 9)
        return -1;
    r->type = m[0];
    r->ts_ns = get_be64(m + 1);
    size_t want = 0;
    switch (m[0]) {
    case OUCH_SYSTEM: want = OUCH_SYSTEM_LEN; break;
    case OUCH_ACCEPTED: want = OUCH_ACCEPTED_LEN; break;
    case OUCH_REPLACED: want = OUCH_REPLACED_LEN; break;
    case OUCH_CANCELED: want = OUCH_CANCELED_LEN; break;
    case OUCH_EXECUTED: want = OUCH_EXECUTED_LEN; break;
    case OUCH_REJECTED: want = OUCH_REJECTED_LEN; break;
    }
    if (!want || len != want)
        return -1;
    if (m[0] == OUCH_SYSTEM) {
        r->event = m[9];
        return 0;
    }
    get_name(m + 9, OUCH_TOKEN_LEN, r->token.s);
    switch (m[0]) {
    case OUCH_ACCEPTED:
    case OUCH_REPLACED:
        r->side = m[25] == 'B' ? BOURSE_BUY : BOURSE_SELL;
        r->qty = get_be32(m + 26);
        get_name(m + 30, OUCH_STOCK_LEN, r->stock.s);
        r->price = (int64_t)get_be64(m + 38);
        if (m[0] == OUCH_REPLACED) {
            r->ref = get_be64(m + 46);
            get_name(m + 54, OUCH_TOKEN_LEN, r->token2.s);
        } else {
            int t = tif_of(m[46]);
            r->tif = (uint8_t)(t < 0 ? 0 : t);
            r->ref = get_be64(m + 47);
        }
        break;
    case OUCH_CANCELED:
        r->qty = get_be32(m + 25);
        r->reason = (uint8_t)ouch_reason_of(m[29]);
        break;
    case OUCH_EXECUTED:
        r->qty = get_be32(m + 25);
        r->price = (int64_t)get_be64(m + 29);
        r->liquidity = m[37];
        r->ref = get_be64(m + 38);
        r->side = m[46] == 'B' ? BOURSE_BUY : BOURSE_SELL;
        get_name(m + 47, OUCH_STOCK_LEN, r->stock.s);
        break;
    case OUCH_REJECTED: r->reason = (uint8_t)ouch_reason_of(m[25]); break;
    }
    return 0;
}
