/*
 * record.c - encoding and decoding of journal records (see record.h).
 *
 * References to users and symbols are ids, shifted so that small numbers
 * are free for the cases that carry a name instead:
 *     user:   0 = unknown (BOURSE_NONE), a name follows;  n = id n-1
 *     symbol: 0 = unknown, a name follows;  1 = CASH;  n = id n-2
 * A name is a length byte and that many bytes.  Quantities and prices are
 * unsigned varints (7 bits a byte, least significant first).
 *
 * A cancel or replace that carries the order's handle (bourse_cmd.order, a
 * hint the engine checks) has bit 4 of its kind set and the handle as a
 * varint after the payload, so a recovery applies it as the server did
 * (without the id map's lookup where the handle still names the order).
 *
 * The commands of replay format version 2 (rules, fees, halt, resume, block,
 * unblock, cancelall) have kind bytes 0x80 | type, so the low four bits of
 * version 1's kinds keep their meaning.  `rules` and `fees` write a byte of
 * the settings given (bit k: setting k) and then each given value; a market
 * order is an order of price 0.  An account fragment (kind 0x80 | 22) is
 * its flags byte, its length byte and that many bytes (bourse/account.h).
 * A FIX session mark (kind 0x80 | 23, bourse.h) is the user, its kind byte,
 * then the next inbound MsgSeqNum and the gateway's tag as varints.
 */
#include "record.h"

#include "bourse/account.h"
#include "crc32c.h"

#include <stdbool.h>
#include <string.h>

/* ---- validation ---- */

/* 1: user names and order ids, 2: symbols (both: A-Z 0-9). */
static const uint8_t name_class[256] = {
    ['-'] = 1, ['_'] = 1, ['.'] = 2, ['0'] = 3, ['1'] = 3, ['2'] = 3, ['3'] = 3, ['4'] = 3, ['5'] = 3,
    ['6'] = 3, ['7'] = 3, ['8'] = 3, ['9'] = 3, ['A'] = 3, ['B'] = 3, ['C'] = 3, ['D'] = 3, ['E'] = 3,
    ['F'] = 3, ['G'] = 3, ['H'] = 3, ['I'] = 3, ['J'] = 3, ['K'] = 3, ['L'] = 3, ['M'] = 3, ['N'] = 3,
    ['O'] = 3, ['P'] = 3, ['Q'] = 3, ['R'] = 3, ['S'] = 3, ['T'] = 3, ['U'] = 3, ['V'] = 3, ['W'] = 3,
    ['X'] = 3, ['Y'] = 3, ['Z'] = 3, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1,
    ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

/* A zero-padded name of 1..max characters of class `cls`.  Every record is
 * checked on append and again on replay, so this is a hot loop: the length
 * comes from the last nonzero byte of the name's words (max is 8 or 16),
 * and a zero byte before it fails the class test like any other bad
 * character, which is the same rule as "characters, then only zeros". */
static inline int name_valid(const char *s, size_t max, int cls)
{
    uint64_t w[2] = {0, 0}; /* fixed-size copies: loads, not a call */
    memcpy(&w[0], s, 8);
    if (max > 8)
        memcpy(&w[1], s + 8, 8);
    size_t n = w[1]   ? 16 - (size_t)(__builtin_clzll(w[1]) >> 3)
               : w[0] ? 8 - (size_t)(__builtin_clzll(w[0]) >> 3)
                      : 0;
    for (size_t i = 0; i < n; i++)
        if (!(name_class[(unsigned char)s[i]] & cls))
            return 0;
    return n > 0;
}

static int user_valid(const bourse_name *n)
{
    return name_valid(n->s, BOURSE_NAME_LEN, 1);
}

static int symbol_valid(const bourse_symbol_name *n)
{
    return name_valid(n->s, BOURSE_SYMBOL_LEN, 2) && memcmp(n->s, "CASH\0\0\0\0", 8) != 0;
}

static int in_range(int64_t v, int64_t lo, int64_t hi)
{
    return v >= lo && v <= hi;
}

static const char *check_user(const bourse_cmd *c)
{
    return c->user != BOURSE_NONE || user_valid(&c->user_name) ? NULL : "bad user name";
}

static const char *check_symbol(const bourse_cmd *c, int cash_ok)
{
    if (c->symbol == BOURSE_CASH)
        return cash_ok ? NULL : "CASH is not a symbol here";
    return c->symbol != BOURSE_NONE || symbol_valid(&c->symbol_name) ? NULL : "bad symbol name";
}

static const char *check_order_fields(const bourse_cmd *c)
{
    if (!in_range(c->qty, 1, BOURSE_QTY_MAX))
        return "quantity out of range";
    bool market = c->type == BOURSE_CMD_ORDER && c->price == BOURSE_MARKET &&
                  (c->tif == BOURSE_IOC || c->tif == BOURSE_FOK);
    if (!market && !in_range(c->price, 1, BOURSE_PRICE_MAX))
        return "price out of range";
    return user_valid(&c->oid) ? NULL : "bad order id";
}

static int settings_valid(const bourse_cmd *c);

const char *rec_check(const bourse_cmd *c)
{
    const char *why;
    switch (c->type) {
    case BOURSE_CMD_SYMBOL: return symbol_valid(&c->symbol_name) ? NULL : "bad symbol name";
    case BOURSE_CMD_USER: return user_valid(&c->user_name) ? NULL : "bad user name";
    case BOURSE_CMD_DEPOSIT:
    case BOURSE_CMD_WITHDRAW:
        if ((why = check_user(c)) || (why = check_symbol(c, 1)))
            return why;
        return in_range(c->qty, 1, c->symbol == BOURSE_CASH ? BOURSE_CASH_MAX : BOURSE_TOTAL_MAX)
                   ? NULL
                   : "amount out of range";
    case BOURSE_CMD_LIMIT:
        if ((why = check_user(c)))
            return why;
        return in_range(c->qty, 0, BOURSE_TOTAL_MAX) ? NULL : "limit out of range";
    case BOURSE_CMD_OPEN:
    case BOURSE_CMD_CLOSE: return NULL;
    case BOURSE_CMD_ORDER:
        if (c->side > BOURSE_SELL || c->tif > BOURSE_FOK)
            return "bad side or time in force";
        if ((why = check_user(c)) || (why = check_symbol(c, 0)))
            return why;
        return check_order_fields(c);
    case BOURSE_CMD_CANCEL:
        if ((why = check_user(c)))
            return why;
        return user_valid(&c->oid) ? NULL : "bad order id";
    case BOURSE_CMD_REPLACE:
        if ((why = check_user(c)) || (why = check_order_fields(c)))
            return why;
        return user_valid(&c->new_oid) ? NULL : "bad new order id";
    case BOURSE_CMD_BOOK: return check_symbol(c, 0);
    case BOURSE_CMD_BALANCE: return check_user(c);
    case BOURSE_CMD_RULES:
    case BOURSE_CMD_FEES:
        if ((why = check_symbol(c, 0)))
            return why;
        return settings_valid(c) ? NULL : "setting out of range";
    case BOURSE_CMD_HALT:
    case BOURSE_CMD_RESUME: return check_symbol(c, 0);
    case BOURSE_CMD_BLOCK:
    case BOURSE_CMD_UNBLOCK: return check_user(c);
    case BOURSE_CMD_CANCELALL:
        if ((why = check_user(c)))
            return why;
        if (c->symbol == BOURSE_NONE && !c->symbol_name.s[0])
            return NULL; /* every symbol */
        return check_symbol(c, 0);
    case BOURSE_CMD_HALTALL:
    case BOURSE_CMD_RESUMEALL: return NULL;
    case BOURSE_CMD_ACCOUNT:
        return c->side <= (BOURSE_ACCOUNT_FIRST | BOURSE_ACCOUNT_LAST) && c->tif <= BOURSE_ACCOUNT_PART
                   ? NULL
                   : "bad account fragment";
    case BOURSE_CMD_FIXSESS:
        if ((why = check_user(c)))
            return why;
        if (c->side >= BOURSE_FIXSESS_COUNT_ || !in_range(c->qty, 1, BOURSE_FIXSESS_SEQ_MAX) ||
            !in_range(c->price, 0, INT64_MAX))
            return "bad FIX session mark";
        return NULL;
    default: return "unknown command type";
    }
}

/* Each setting unset or in its range (replay-v2.md, rules 10 and 16), and
 * at least one given. */
static const int64_t rule_lo[] = {1, 1, 0, 0, 0, 1};
static const int64_t rule_hi[] = {BOURSE_PRICE_MAX, BOURSE_QTY_MAX,  BOURSE_QTY_MAX,
                                  BOURSE_CASH_MAX,  BOURSE_BAND_MAX, BOURSE_PRICE_MAX};

static int nsettings(const bourse_cmd *c)
{
    return c->type == BOURSE_CMD_FEES ? BOURSE_FEE_COUNT_ : BOURSE_RULE_COUNT_;
}

static int settings_valid(const bourse_cmd *c)
{
    int given = 0, n = nsettings(c);
    for (int k = 0; k < 6; k++) {
        int64_t v = c->set[k];
        if (v == BOURSE_UNSET)
            continue;
        if (k >= n)
            return 0;
        int64_t lo = c->type == BOURSE_CMD_FEES ? 0 : rule_lo[k];
        int64_t hi = c->type == BOURSE_CMD_FEES ? BOURSE_FEE_RATE_MAX : rule_hi[k];
        if (!in_range(v, lo, hi))
            return 0;
        given++;
    }
    return given > 0;
}

/* ---- encoding ---- */

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static uint8_t *put_name(uint8_t *p, const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    *p++ = (uint8_t)n;
    memcpy(p, s, n);
    return p + n;
}

static uint8_t *put_user(uint8_t *p, const bourse_cmd *c)
{
    if (c->user != BOURSE_NONE)
        return put_varint(p, (uint64_t)c->user + 1);
    *p++ = 0;
    return put_name(p, c->user_name.s, BOURSE_NAME_LEN);
}

static uint8_t *put_symbol(uint8_t *p, const bourse_cmd *c)
{
    if (c->symbol == BOURSE_CASH) {
        *p++ = 1;
        return p;
    }
    if (c->symbol != BOURSE_NONE)
        return put_varint(p, (uint64_t)c->symbol + 2);
    *p++ = 0;
    return put_name(p, c->symbol_name.s, BOURSE_SYMBOL_LEN);
}

size_t rec_encode(uint8_t *out, const bourse_cmd *c, rec_prev *prev)
{
    uint8_t *p = out + 1;
    p = put_varint(p, c->seq - prev->seq);
    uint64_t dt = (uint64_t)c->ts_ns - (uint64_t)prev->ts;
    p = put_varint(p, (dt << 1) ^ (uint64_t)((int64_t)dt >> 63)); /* zigzag */
    uint8_t kind = c->type;
    if (c->type == BOURSE_CMD_ORDER)
        kind |= (uint8_t)(c->side << 4 | c->tif << 5);
    bool hint = (c->type == BOURSE_CMD_CANCEL || c->type == BOURSE_CMD_REPLACE) && c->order;
    if (hint)
        kind |= 0x10; /* the order's handle follows the payload */
    if (c->type >= BOURSE_CMD_RULES)
        kind = (uint8_t)(0x80 | c->type);
    *p++ = kind;
    switch (c->type) {
    case BOURSE_CMD_SYMBOL: p = put_name(p, c->symbol_name.s, BOURSE_SYMBOL_LEN); break;
    case BOURSE_CMD_USER: p = put_name(p, c->user_name.s, BOURSE_NAME_LEN); break;
    case BOURSE_CMD_DEPOSIT:
    case BOURSE_CMD_WITHDRAW:
        p = put_user(p, c);
        p = put_symbol(p, c);
        p = put_varint(p, (uint64_t)c->qty);
        break;
    case BOURSE_CMD_LIMIT:
        p = put_user(p, c);
        p = put_varint(p, (uint64_t)c->qty);
        break;
    case BOURSE_CMD_ORDER:
        p = put_user(p, c);
        p = put_symbol(p, c);
        p = put_name(p, c->oid.s, BOURSE_NAME_LEN);
        p = put_varint(p, (uint64_t)c->qty);
        p = put_varint(p, (uint64_t)c->price);
        break;
    case BOURSE_CMD_CANCEL:
        p = put_user(p, c);
        p = put_name(p, c->oid.s, BOURSE_NAME_LEN);
        break;
    case BOURSE_CMD_REPLACE:
        p = put_user(p, c);
        p = put_name(p, c->oid.s, BOURSE_NAME_LEN);
        p = put_name(p, c->new_oid.s, BOURSE_NAME_LEN);
        p = put_varint(p, (uint64_t)c->qty);
        p = put_varint(p, (uint64_t)c->price);
        break;
    case BOURSE_CMD_BOOK: p = put_symbol(p, c); break;
    case BOURSE_CMD_BALANCE: p = put_user(p, c); break;
    case BOURSE_CMD_RULES:
    case BOURSE_CMD_FEES: {
        p = put_symbol(p, c);
        uint8_t *mask = p++;
        *mask = 0;
        for (int k = 0; k < nsettings(c); k++)
            if (c->set[k] != BOURSE_UNSET) {
                *mask |= (uint8_t)(1u << k);
                p = put_varint(p, (uint64_t)c->set[k]);
            }
        break;
    }
    case BOURSE_CMD_HALT:
    case BOURSE_CMD_RESUME: p = put_symbol(p, c); break;
    case BOURSE_CMD_BLOCK:
    case BOURSE_CMD_UNBLOCK: p = put_user(p, c); break;
    case BOURSE_CMD_CANCELALL:
        p = put_user(p, c);
        p = put_symbol(p, c); /* unknown with an empty name: every symbol */
        break;
    case BOURSE_CMD_ACCOUNT: /* flags, length, the fragment's bytes (bourse/account.h) */
        *p++ = c->side;
        *p++ = c->tif;
        memcpy(p, c->part, c->tif);
        p += c->tif;
        break;
    case BOURSE_CMD_FIXSESS: /* user, kind, the next inbound MsgSeqNum, the gateway's tag */
        p = put_user(p, c);
        *p++ = c->side;
        p = put_varint(p, (uint64_t)c->qty);
        p = put_varint(p, (uint64_t)c->price);
        break;
    default: break; /* OPEN, CLOSE */
    }
    if (hint)
        p = put_varint(p, c->order);
    out[0] = (uint8_t)(p - out - 1);
    uint32_t crc = crc32c(0, out, (size_t)(p - out));
    memcpy(p, &crc, 4); /* little-endian hosts only, as everywhere in Bourse */
    prev->seq = c->seq;
    prev->ts = c->ts_ns;
    return (size_t)(p - out) + 4;
}

/* ---- decoding ---- */

typedef struct cursor {
    const uint8_t *p, *end;
    int bad;
} cursor;

static uint64_t get_varint_long(cursor *k)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (k->p == k->end) {
            k->bad = 1;
            return 0;
        }
        uint8_t b = *k->p++;
        if (shift == 63 && b > 1)
            break;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    k->bad = 1;
    return 0;
}

/* Most varints (sequence deltas, ids, quantities) are one byte: that case
 * inline, the rest in the loop above.  (Decoding up to 8 bytes at once in
 * word operations was tried: more instructions than this loop for the 2-3
 * byte prices and time deltas of a journal.) */
static inline uint64_t get_varint(cursor *k)
{
    if (k->p < k->end && *k->p < 0x80)
        return *k->p++;
    return get_varint_long(k);
}

static void get_name(cursor *k, char *s, size_t max)
{
    if (k->p == k->end || *k->p > max || (size_t)(k->end - k->p - 1) < *k->p) {
        k->bad = 1;
        return;
    }
    size_t n = *k->p++;
    memcpy(s, k->p, n);
    k->p += n;
}

static void get_user(cursor *k, bourse_cmd *c)
{
    uint64_t u = get_varint(k);
    if (u == 0) {
        c->user = BOURSE_NONE;
        get_name(k, c->user_name.s, BOURSE_NAME_LEN);
    } else if (u - 1 >= BOURSE_CASH) {
        k->bad = 1;
    } else {
        c->user = (uint32_t)(u - 1);
    }
}

static void get_symbol(cursor *k, bourse_cmd *c)
{
    uint64_t s = get_varint(k);
    if (s == 0) {
        c->symbol = BOURSE_NONE;
        get_name(k, c->symbol_name.s, BOURSE_SYMBOL_LEN);
    } else if (s == 1) {
        c->symbol = BOURSE_CASH;
    } else if (s - 2 >= BOURSE_CASH) {
        k->bad = 1;
    } else {
        c->symbol = (uint32_t)(s - 2);
    }
}

int rec_decode(const uint8_t *buf, size_t avail, bourse_cmd *c, rec_prev *prev, const char **why)
{
    if (avail == 0)
        return REC_SHORT;
    size_t len = buf[0];
    if (len == 0)
        return REC_END;
    if (len > REC_BODY_MAX) {
        *why = "bad record length";
        return REC_BAD;
    }
    if (avail < 1 + len + 4)
        return REC_SHORT;
    uint32_t want;
    memcpy(&want, buf + 1 + len, 4);
    if (crc32c(0, buf, 1 + len) != want) {
        *why = "checksum mismatch";
        return REC_BAD;
    }
    memset(c, 0, sizeof *c);
    c->user = c->symbol = BOURSE_NONE;
    cursor k = {buf + 1, buf + 1 + len, 0};
    uint64_t dseq = get_varint(&k);
    uint64_t zz = get_varint(&k);
    uint64_t dt = (zz >> 1) ^ (0 - (zz & 1));
    if (k.bad || k.p == k.end) {
        *why = "truncated record header";
        return REC_BAD;
    }
    uint8_t kind = *k.p++;
    c->type = kind & 15;
    c->seq = prev->seq + dseq;
    c->ts_ns = (int64_t)((uint64_t)prev->ts + dt);
    if (kind & 0x80) {
        c->type = kind & 0x7f;
        if (c->type < BOURSE_CMD_RULES || c->type >= BOURSE_CMD_COUNT_) {
            *why = "bad command kind";
            return REC_BAD;
        }
    } else if (c->type == BOURSE_CMD_ORDER) {
        c->side = kind >> 4 & 1;
        c->tif = kind >> 5 & 3;
    } else if ((c->type == BOURSE_CMD_CANCEL || c->type == BOURSE_CMD_REPLACE) && kind >> 4 == 1) {
        /* a handle follows the payload (below) */
    } else if (kind >> 4) {
        *why = "bad command kind";
        return REC_BAD;
    }
    switch (c->type) {
    case BOURSE_CMD_SYMBOL: get_name(&k, c->symbol_name.s, BOURSE_SYMBOL_LEN); break;
    case BOURSE_CMD_USER: get_name(&k, c->user_name.s, BOURSE_NAME_LEN); break;
    case BOURSE_CMD_DEPOSIT:
    case BOURSE_CMD_WITHDRAW:
        get_user(&k, c);
        get_symbol(&k, c);
        c->qty = (int64_t)get_varint(&k);
        break;
    case BOURSE_CMD_LIMIT:
        get_user(&k, c);
        c->qty = (int64_t)get_varint(&k);
        break;
    case BOURSE_CMD_ORDER:
        get_user(&k, c);
        get_symbol(&k, c);
        get_name(&k, c->oid.s, BOURSE_NAME_LEN);
        c->qty = (int64_t)get_varint(&k);
        c->price = (int64_t)get_varint(&k);
        break;
    case BOURSE_CMD_CANCEL:
        get_user(&k, c);
        get_name(&k, c->oid.s, BOURSE_NAME_LEN);
        break;
    case BOURSE_CMD_REPLACE:
        get_user(&k, c);
        get_name(&k, c->oid.s, BOURSE_NAME_LEN);
        get_name(&k, c->new_oid.s, BOURSE_NAME_LEN);
        c->qty = (int64_t)get_varint(&k);
        c->price = (int64_t)get_varint(&k);
        break;
    case BOURSE_CMD_BOOK: get_symbol(&k, c); break;
    case BOURSE_CMD_BALANCE: get_user(&k, c); break;
    case BOURSE_CMD_RULES:
    case BOURSE_CMD_FEES: {
        get_symbol(&k, c);
        for (int i = 0; i < 6; i++)
            c->set[i] = BOURSE_UNSET;
        uint8_t mask = k.p < k.end ? *k.p++ : (k.bad = 1, 0);
        if (mask >> nsettings(c))
            k.bad = 1;
        for (int i = 0; i < nsettings(c); i++)
            if (mask >> i & 1) {
                uint64_t v = get_varint(&k);
                c->set[i] = v > (uint64_t)INT64_MAX ? (k.bad = 1, 0) : (int64_t)v;
            }
        break;
    }
    case BOURSE_CMD_HALT:
    case BOURSE_CMD_RESUME: get_symbol(&k, c); break;
    case BOURSE_CMD_BLOCK:
    case BOURSE_CMD_UNBLOCK: get_user(&k, c); break;
    case BOURSE_CMD_CANCELALL:
        get_user(&k, c);
        get_symbol(&k, c);
        break;
    case BOURSE_CMD_ACCOUNT:
        if (k.end - k.p < 2 || k.p[1] > BOURSE_ACCOUNT_PART || k.end - k.p - 2 < k.p[1]) {
            k.bad = 1;
            break;
        }
        c->side = *k.p++;
        c->tif = *k.p++;
        memcpy(c->part, k.p, c->tif);
        k.p += c->tif;
        break;
    case BOURSE_CMD_FIXSESS:
        get_user(&k, c);
        c->side = k.p < k.end ? *k.p++ : (k.bad = 1, 0);
        c->qty = (int64_t)get_varint(&k);
        c->price = (int64_t)get_varint(&k);
        if (c->side >= BOURSE_FIXSESS_COUNT_ || c->qty < 1 || c->qty > BOURSE_FIXSESS_SEQ_MAX || c->price < 0)
            k.bad = 1;
        break;
    default: break;
    }
    if (kind >> 4 == 1 && (c->type == BOURSE_CMD_CANCEL || c->type == BOURSE_CMD_REPLACE)) {
        uint64_t h = get_varint(&k);
        if (h == 0 || h > UINT32_MAX)
            k.bad = 1;
        c->order = (uint32_t)h;
    }
    if (k.bad || k.p != k.end) {
        *why = k.bad ? "truncated command" : "trailing bytes in record";
        return REC_BAD;
    }
    if ((*why = rec_check(c)) != NULL)
        return REC_BAD;
    prev->seq = c->seq;
    prev->ts = c->ts_ns;
    return (int)(1 + len + 4);
}
