/*
 * text.c - parse and print the replay format (shared/spec/replay-v2.md,
 * which is version 1 plus the venue rules: `rules`, `fees`, `halt`,
 * `resume`, `block`, `unblock`, `cancelall`, the price word `market` and
 * the FEE event).
 *
 * A line is split into at most 8 words on spaces and tabs; each command
 * checks its word count, then each word against its grammar, and the first
 * failure becomes the message of the bad-input rule.  Numbers are parsed by
 * hand: no sign, no exponent, no locale, at most 4 decimals, and values too
 * large for int64 saturate so that they fail the range check instead of
 * wrapping.
 */
#include "bourse/text.h"
#include "bourse/account.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum { MAX_WORDS = 8 };

typedef struct word {
    const char *s;
    size_t n;
} word;

/* ---- numbers ---- */

static int digits(const char *s, size_t n, int64_t *out)
{
    if (n == 0)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        int d = s[i] - '0';
        v = v > (INT64_MAX - d) / 10 ? INT64_MAX : v * 10 + d;
    }
    *out = v;
    return 0;
}

/* A decimal with at most 4 fractional digits, in 1/10,000 units. */
static int decimal(const char *s, size_t n, int64_t *out)
{
    const char *dot = memchr(s, '.', n);
    size_t ni = dot ? (size_t)(dot - s) : n;
    int64_t ip, fp = 0;
    if (digits(s, ni, &ip) != 0)
        return -1;
    if (dot) {
        size_t nf = n - ni - 1;
        if (nf == 0 || nf > 4 || digits(dot + 1, nf, &fp) != 0)
            return -1;
        for (size_t i = nf; i < 4; i++)
            fp *= 10;
    }
    *out = ip > (INT64_MAX - fp) / BOURSE_SCALE ? INT64_MAX : ip * BOURSE_SCALE + fp;
    return 0;
}

int bourse_text_price(const char *s, size_t len, int64_t *out)
{
    return decimal(s, len, out) == 0 && *out >= 1 && *out <= BOURSE_PRICE_MAX ? 0 : -1;
}

int bourse_text_whole(const char *s, size_t len, int64_t max, int64_t *out)
{
    return digits(s, len, out) == 0 && *out <= max ? 0 : -1;
}

/* Digits of v at p; returns the end.  (printf costs more than matching.) */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

size_t bourse_text_decimal(int64_t v, char *buf)
{
    char *p = buf;
    uint64_t u = (uint64_t)v;
    if (v < 0) {
        *p++ = '-';
        u = -u;
    }
    p = put_u64(p, u / BOURSE_SCALE);
    unsigned f = (unsigned)(u % BOURSE_SCALE);
    if (f) {
        *p++ = '.';
        for (unsigned d = 1000; f; d /= 10) {
            *p++ = (char)('0' + f / d);
            f %= d;
        }
    }
    *p = 0;
    return (size_t)(p - buf);
}

/* ---- names ---- */

static int user_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int symbol_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.';
}

static int name_ok(word w, size_t max, int (*ok)(char))
{
    if (w.n == 0 || w.n > max)
        return 0;
    for (size_t i = 0; i < w.n; i++)
        if (!ok(w.s[i]))
            return 0;
    return 1;
}

static int is(word w, const char *lit)
{
    return w.n == strlen(lit) && memcmp(w.s, lit, w.n) == 0;
}

/* ---- the parser ---- */

typedef struct parser {
    word w[MAX_WORDS + 1];
    int n;
    bourse_cmd *c;
    char *err;
    size_t errlen;
} parser;

/* The message quotes the offending word, with bytes that would not print
 * (control characters, NUL, anything past ASCII) shown as \xNN. */
static int fail(parser *p, const char *fmt, word w)
{
    char shown[4 * 40 + 4];
    size_t n = 0;
    for (size_t i = 0; i < w.n && i < 40; i++) {
        unsigned char ch = (unsigned char)w.s[i];
        if (ch >= 0x20 && ch < 0x7f)
            shown[n++] = (char)ch;
        else
            n += (size_t)snprintf(shown + n, 5, "\\x%02x", ch);
    }
    if (w.n > 40)
        shown[n++] = '.', shown[n++] = '.', shown[n++] = '.';
    snprintf(p->err, p->errlen, fmt, (int)n, shown);
    return BOURSE_TEXT_BAD;
}

static int user_word(parser *p, int i, bourse_name *out, const char *what)
{
    if (!name_ok(p->w[i], BOURSE_NAME_LEN, user_char)) {
        char fmt[96];
        snprintf(fmt, sizeof fmt, "bad %s '%%.*s': 1 to 16 of A-Z a-z 0-9 _ -", what);
        return fail(p, fmt, p->w[i]);
    }
    memset(out, 0, sizeof *out);
    memcpy(out->s, p->w[i].s, p->w[i].n);
    return 0;
}

static int symbol_word(parser *p, int i, int cash_ok)
{
    word w = p->w[i];
    if (is(w, "CASH") && !cash_ok)
        return fail(p, "'%.*s' is reserved: it cannot be a symbol", w);
    if (!name_ok(w, BOURSE_SYMBOL_LEN, symbol_char))
        return fail(p, "bad symbol '%.*s': 1 to 8 of A-Z 0-9 .", w);
    memset(&p->c->symbol_name, 0, sizeof p->c->symbol_name);
    memcpy(p->c->symbol_name.s, w.s, w.n);
    return 0;
}

static int qty_word(parser *p, int i)
{
    if (bourse_text_whole(p->w[i].s, p->w[i].n, BOURSE_QTY_MAX, &p->c->qty) != 0 || p->c->qty < 1)
        return fail(p, "bad quantity '%.*s': a whole number from 1 to 100000000", p->w[i]);
    return 0;
}

static int price_word(parser *p, int i)
{
    if (bourse_text_price(p->w[i].s, p->w[i].n, &p->c->price) != 0)
        return fail(p, "bad price '%.*s': a decimal from 0.0001 to 1000000 with at most 4 decimals", p->w[i]);
    return 0;
}

static int words(parser *p, int lo, int hi, const char *usage)
{
    if (p->n >= lo && p->n <= hi)
        return 0;
    snprintf(p->err, p->errlen, "'%.*s' takes %d word%s (%s), got %d", (int)p->w[0].n, p->w[0].s, lo - 1,
             lo == 2 ? "" : "s", usage, p->n - 1);
    if (hi > lo)
        snprintf(p->err, p->errlen, "'%.*s' takes %d or %d words (%s), got %d", (int)p->w[0].n, p->w[0].s,
                 lo - 1, hi - 1, usage, p->n - 1);
    return BOURSE_TEXT_BAD;
}

/* account first|more|last|whole HEX: one fragment of an account command. */
static int parse_account_part(parser *p)
{
    static const char *const how[] = {"more", "first", "last", "whole"};
    bourse_cmd *c = p->c;
    c->type = BOURSE_CMD_ACCOUNT;
    if (words(p, 2, 3, "first|more|last|whole HEX"))
        return BOURSE_TEXT_BAD;
    int k = 0;
    while (k < 4 && !is(p->w[1], how[k]))
        k++;
    if (k == 4)
        return fail(p, "bad fragment kind '%.*s': first, more, last or whole", p->w[1]);
    c->side = (uint8_t)k;
    word h = p->n == 3 ? p->w[2] : (word){"", 0};
    if (h.n % 2 || h.n / 2 > BOURSE_ACCOUNT_PART)
        return fail(p, "bad fragment '%.*s': up to 48 bytes in hex", h);
    for (size_t i = 0; i < h.n; i++) {
        char ch = h.s[i];
        int v = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (v < 0)
            return fail(p, "bad fragment '%.*s': lower-case hex", h);
        c->part[i / 2] = (uint8_t)(c->part[i / 2] << 4 | v);
    }
    c->tif = (uint8_t)(h.n / 2);
    return BOURSE_TEXT_CMD;
}

/* deposit/withdraw U ASSET AMOUNT: cash is a decimal, shares are whole. */
static int parse_transfer(parser *p)
{
    if (words(p, 4, 4, "U ASSET AMOUNT") || user_word(p, 1, &p->c->user_name, "user") || symbol_word(p, 2, 1))
        return BOURSE_TEXT_BAD;
    word a = p->w[3];
    if (is(p->w[2], "CASH")) {
        if (decimal(a.s, a.n, &p->c->qty) != 0 || p->c->qty < 1 || p->c->qty > BOURSE_CASH_MAX)
            return fail(p, "bad amount '%.*s': a decimal above 0 and at most 900000000000000", a);
    } else if (bourse_text_whole(a.s, a.n, BOURSE_TOTAL_MAX, &p->c->qty) != 0 || p->c->qty < 1) {
        return fail(p, "bad amount '%.*s': whole shares from 1 to 900000000000000", a);
    }
    return BOURSE_TEXT_CMD;
}

static int parse_order(parser *p, int side)
{
    bourse_cmd *c = p->c;
    bool market = p->n >= 6 && is(p->w[5], "market");
    if (words(p, 6, 7, "U OID SYM QTY PRICE [TIF]") || user_word(p, 1, &c->user_name, "user") ||
        user_word(p, 2, &c->oid, "order id") || symbol_word(p, 3, 0) || qty_word(p, 4) ||
        (!market && price_word(p, 5)))
        return BOURSE_TEXT_BAD;
    c->type = BOURSE_CMD_ORDER;
    c->side = (uint8_t)side;
    c->tif = market ? BOURSE_IOC : BOURSE_DAY;
    if (market)
        c->price = BOURSE_MARKET;
    if (p->n == 7) {
        static const char *const tifs[] = {"day", "gtc", "ioc", "fok"};
        int t = 0;
        while (t < 4 && !is(p->w[6], tifs[t]))
            t++;
        if (t == 4)
            return fail(p, "bad time in force '%.*s': day, gtc, ioc or fok", p->w[6]);
        if (market && t < BOURSE_IOC)
            return fail(p, "bad time in force '%.*s' for a market order: ioc or fok", p->w[6]);
        c->tif = (uint8_t)t;
    }
    return BOURSE_TEXT_CMD;
}

/* A percentage with at most 2 decimals, 0 to 1000, in basis points. */
static int percent(const char *s, size_t n, int64_t *out)
{
    const char *dot = memchr(s, '.', n);
    size_t nf = dot ? n - (size_t)(dot - s) - 1 : 0;
    if (dot && nf > 2)
        return -1;
    int64_t v;
    if (decimal(s, n, &v) != 0 || v > 1000 * BOURSE_SCALE)
        return -1;
    *out = v / 100; /* 1/10,000 of a unit -> 1/100 of a percent */
    return 0;
}

/* `rules SYM KEY=VALUE...` and `fees SYM KEY=VALUE...`: each key at most
 * once, at least one. */
static int parse_settings(parser *p, bool fees)
{
    static const char *const rule_keys[] = {"tick", "lot", "maxqty", "maxnotional", "band", "ref"};
    static const char *const fee_keys[] = {"maker", "taker"};
    const char *const *keys = fees ? fee_keys : rule_keys;
    int nkeys = fees ? BOURSE_FEE_COUNT_ : BOURSE_RULE_COUNT_;
    bourse_cmd *c = p->c;
    c->type = fees ? BOURSE_CMD_FEES : BOURSE_CMD_RULES;
    if (p->n < 3) {
        snprintf(p->err, p->errlen, "'%s' takes SYM and at least one KEY=VALUE, got %d word%s",
                 fees ? "fees" : "rules", p->n - 1, p->n == 2 ? "" : "s");
        return BOURSE_TEXT_BAD;
    }
    if (symbol_word(p, 1, 0))
        return BOURSE_TEXT_BAD;
    for (int i = 0; i < 6; i++)
        c->set[i] = BOURSE_UNSET;
    for (int i = 2; i < p->n; i++) {
        word w = p->w[i];
        const char *eq = memchr(w.s, '=', w.n);
        size_t kn = eq ? (size_t)(eq - w.s) : w.n;
        int k = 0;
        while (k < nkeys && !(kn == strlen(keys[k]) && memcmp(w.s, keys[k], kn) == 0))
            k++;
        if (!eq || k == nkeys)
            return fail(p,
                        fees ? "bad setting '%.*s': maker=BPS or taker=BPS"
                             : "bad setting '%.*s': tick=, lot=, maxqty=, maxnotional=, band= or ref=",
                        w);
        if (c->set[k] != BOURSE_UNSET)
            return fail(p, "setting '%.*s' given twice", w);
        const char *v = eq + 1;
        size_t vn = w.n - kn - 1;
        int64_t x = -1;
        if (fees) {
            if (bourse_text_whole(v, vn, BOURSE_FEE_RATE_MAX, &x) != 0)
                return fail(p, "bad fee rate '%.*s': whole basis points from 0 to 1000", w);
        } else if (k == BOURSE_RULE_TICK || k == BOURSE_RULE_REF) {
            if (bourse_text_price(v, vn, &x) != 0)
                return fail(
                    p, "bad price in '%.*s': a decimal from 0.0001 to 1000000 with at most 4 decimals", w);
        } else if (k == BOURSE_RULE_LOT || k == BOURSE_RULE_MAXQTY) {
            if (bourse_text_whole(v, vn, BOURSE_QTY_MAX, &x) != 0 || (k == BOURSE_RULE_LOT && x < 1))
                return fail(p,
                            k == BOURSE_RULE_LOT
                                ? "bad lot in '%.*s': a whole number from 1 to 100000000"
                                : "bad maximum in '%.*s': a whole number from 0 to 100000000",
                            w);
        } else if (k == BOURSE_RULE_MAXNOTIONAL) {
            if (decimal(v, vn, &x) != 0 || x > BOURSE_CASH_MAX)
                return fail(p, "bad amount in '%.*s': a decimal from 0 to 900000000000000", w);
        } else if (percent(v, vn, &x) != 0) {
            return fail(p, "bad band in '%.*s': a percentage from 0 to 1000 with at most 2 decimals", w);
        }
        c->set[k] = x;
    }
    return BOURSE_TEXT_CMD;
}

static const char *const fixsess_kinds[] = {"logon", "reset", "msg", "in"};

static int parse_words(parser *p)
{
    bourse_cmd *c = p->c;
    word cmd = p->w[0];
    if (is(cmd, "buy") || is(cmd, "sell"))
        return parse_order(p, is(cmd, "buy") ? BOURSE_BUY : BOURSE_SELL);
    if (is(cmd, "cancel")) {
        c->type = BOURSE_CMD_CANCEL;
        if (words(p, 3, 3, "U OID") || user_word(p, 1, &c->user_name, "user") ||
            user_word(p, 2, &c->oid, "order id"))
            return BOURSE_TEXT_BAD;
        return BOURSE_TEXT_CMD;
    }
    if (is(cmd, "replace")) {
        c->type = BOURSE_CMD_REPLACE;
        if (words(p, 6, 6, "U OID NEWOID QTY PRICE") || user_word(p, 1, &c->user_name, "user") ||
            user_word(p, 2, &c->oid, "order id") || user_word(p, 3, &c->new_oid, "order id") ||
            qty_word(p, 4) || price_word(p, 5))
            return BOURSE_TEXT_BAD;
        return BOURSE_TEXT_CMD;
    }
    if (is(cmd, "symbol") || is(cmd, "book")) {
        c->type = is(cmd, "symbol") ? BOURSE_CMD_SYMBOL : BOURSE_CMD_BOOK;
        if (words(p, 2, 2, "SYM") || symbol_word(p, 1, 0))
            return BOURSE_TEXT_BAD;
        return BOURSE_TEXT_CMD;
    }
    if (is(cmd, "user") || is(cmd, "balance")) {
        c->type = is(cmd, "user") ? BOURSE_CMD_USER : BOURSE_CMD_BALANCE;
        if (words(p, 2, 2, "U") || user_word(p, 1, &c->user_name, "user"))
            return BOURSE_TEXT_BAD;
        return BOURSE_TEXT_CMD;
    }
    if (is(cmd, "deposit") || is(cmd, "withdraw")) {
        c->type = is(cmd, "deposit") ? BOURSE_CMD_DEPOSIT : BOURSE_CMD_WITHDRAW;
        return parse_transfer(p);
    }
    if (is(cmd, "limit")) {
        c->type = BOURSE_CMD_LIMIT;
        if (words(p, 3, 3, "U SHARES") || user_word(p, 1, &c->user_name, "user"))
            return BOURSE_TEXT_BAD;
        if (bourse_text_whole(p->w[2].s, p->w[2].n, BOURSE_TOTAL_MAX, &c->qty) != 0)
            return fail(p, "bad limit '%.*s': whole shares from 0 to 900000000000000", p->w[2]);
        return BOURSE_TEXT_CMD;
    }
    if (is(cmd, "open") || is(cmd, "close")) {
        c->type = is(cmd, "open") ? BOURSE_CMD_OPEN : BOURSE_CMD_CLOSE;
        return words(p, 1, 1, "no arguments") ? BOURSE_TEXT_BAD : BOURSE_TEXT_CMD;
    }
    if (is(cmd, "rules") || is(cmd, "fees"))
        return parse_settings(p, is(cmd, "fees"));
    if (is(cmd, "halt") || is(cmd, "resume")) {
        c->type = is(cmd, "halt") ? BOURSE_CMD_HALT : BOURSE_CMD_RESUME;
        if (words(p, 2, 2, "SYM") || symbol_word(p, 1, 0))
            return BOURSE_TEXT_BAD;
        return BOURSE_TEXT_CMD;
    }
    if (is(cmd, "block") || is(cmd, "unblock")) {
        c->type = is(cmd, "block") ? BOURSE_CMD_BLOCK : BOURSE_CMD_UNBLOCK;
        if (words(p, 2, 2, "U") || user_word(p, 1, &c->user_name, "user"))
            return BOURSE_TEXT_BAD;
        return BOURSE_TEXT_CMD;
    }
    if (is(cmd, "haltall") || is(cmd, "resumeall")) {
        c->type = is(cmd, "haltall") ? BOURSE_CMD_HALTALL : BOURSE_CMD_RESUMEALL;
        return words(p, 1, 1, "no arguments") ? BOURSE_TEXT_BAD : BOURSE_TEXT_CMD;
    }
    if (is(cmd, "cancelall")) {
        c->type = BOURSE_CMD_CANCELALL;
        if (words(p, 2, 3, "U [SYM]") || user_word(p, 1, &c->user_name, "user") ||
            (p->n == 3 && symbol_word(p, 2, 0)))
            return BOURSE_TEXT_BAD;
        return BOURSE_TEXT_CMD;
    }
    if (is(cmd, "account")) /* a fragment, as `journal dump` prints it (bourse/account.h) */
        return parse_account_part(p);
    if (is(cmd, "fixsess")) { /* a FIX session's mark, as `journal dump` prints it (bourse.h) */
        c->type = BOURSE_CMD_FIXSESS;
        if (words(p, 5, 5, "U KIND IN TAG") || user_word(p, 1, &c->user_name, "user"))
            return BOURSE_TEXT_BAD;
        int k = 0;
        while (k < BOURSE_FIXSESS_COUNT_ &&
               !(p->w[2].n == strlen(fixsess_kinds[k]) && !memcmp(p->w[2].s, fixsess_kinds[k], p->w[2].n)))
            k++;
        if (k == BOURSE_FIXSESS_COUNT_)
            return fail(p, "bad kind '%.*s': logon, reset, msg or in", p->w[2]);
        c->side = (uint8_t)k;
        if (bourse_text_whole(p->w[3].s, p->w[3].n, BOURSE_FIXSESS_SEQ_MAX, &c->qty) != 0 || c->qty < 1)
            return fail(p, "bad MsgSeqNum '%.*s'", p->w[3]);
        if (bourse_text_whole(p->w[4].s, p->w[4].n, INT64_MAX, &c->price) != 0)
            return fail(p, "bad tag '%.*s'", p->w[4]);
        return BOURSE_TEXT_CMD;
    }
    return fail(p, "unknown command '%.*s'", cmd);
}

int bourse_text_parse(const char *line, size_t len, bourse_cmd *out, char *err, size_t errlen)
{
    parser p = {.c = out, .err = err, .errlen = errlen};
    if (len && line[len - 1] == '\r')
        len--;
    for (size_t i = 0; i < len;) {
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i == len)
            break;
        if (p.n == 0 && line[i] == '#')
            return BOURSE_TEXT_SKIP;
        size_t start = i;
        while (i < len && line[i] != ' ' && line[i] != '\t')
            i++;
        if (p.n <= MAX_WORDS)
            p.w[p.n] = (word){line + start, i - start};
        p.n++;
    }
    if (p.n == 0)
        return BOURSE_TEXT_SKIP;
    if (p.n > MAX_WORDS) {
        snprintf(err, errlen, "too many words (%d)", p.n);
        return BOURSE_TEXT_BAD;
    }
    memset(out, 0, sizeof *out);
    out->user = out->symbol = BOURSE_NONE;
    return parse_words(&p);
}

/* ---- printing ---- */

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    p[n] = ' ';
    return p + n + 1;
}

static char *put_str(char *p, const char *s)
{
    return put(p, s, strlen(s));
}

static char *put_name(char *p, const char *s, size_t max)
{
    return put(p, s, strnlen(s, max));
}

static char *put_user(char *p, const bourse_engine *e, const bourse_cmd *c, uint32_t u)
{
    const bourse_name *n = bourse_user_name(e, u);
    /* No user and no command (a bourse_op's events): nothing names it. */
    return put_name(p, n ? n->s : c ? c->user_name.s : "?", BOURSE_NAME_LEN);
}

static char *put_symbol(char *p, const bourse_engine *e, uint32_t s)
{
    const bourse_symbol_name *n = bourse_symbol_name_of(e, s);
    return put_name(p, n ? n->s : "?", BOURSE_SYMBOL_LEN);
}

static char *put_dec(char *p, int64_t v)
{
    p += bourse_text_decimal(v, p);
    *p = ' ';
    return p + 1;
}

static char *put_int(char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    if (v < 0) {
        *p++ = '-';
        u = -u; /* in unsigned arithmetic, so INT64_MIN prints too */
    }
    p = put_u64(p, u);
    *p = ' ';
    return p + 1;
}

static const char *const event_names[BOURSE_EV_COUNT_] = {
    "",         "OK",       "ERROR", "ACCEPTED", "REJECTED", "TRADE",
    "CANCELED", "REPLACED", "LEVEL", "BALANCE",  "FEE",      "ACCOUNT",
};

size_t bourse_text_event(const bourse_engine *e, const bourse_cmd *c, const bourse_event *ev, char *buf)
{
    char *p = put_str(buf, ev->type < BOURSE_EV_COUNT_ ? event_names[ev->type] : "?");
    switch (ev->type) {
    case BOURSE_EV_ERROR: p = put_str(p, bourse_reason_name(ev->reason)); break;
    case BOURSE_EV_ACCEPTED:
    case BOURSE_EV_REJECTED:
    case BOURSE_EV_CANCELED:
    case BOURSE_EV_REPLACED:
        p = put_user(p, e, c, ev->user);
        p = put_name(p, ev->oid.s, BOURSE_NAME_LEN);
        if (ev->type == BOURSE_EV_REPLACED)
            p = put_name(p, ev->oid2.s, BOURSE_NAME_LEN);
        if (ev->type == BOURSE_EV_CANCELED)
            p = put_int(p, ev->qty);
        if (ev->type == BOURSE_EV_REJECTED || ev->type == BOURSE_EV_CANCELED)
            p = put_str(p, bourse_reason_name(ev->reason));
        break;
    case BOURSE_EV_TRADE:
        p = put_symbol(p, e, ev->symbol);
        p = put_int(p, ev->qty);
        p = put_dec(p, ev->price);
        p = put_user(p, e, c, ev->user);
        p = put_name(p, ev->oid.s, BOURSE_NAME_LEN);
        p = put_user(p, e, c, ev->user2);
        p = put_name(p, ev->oid2.s, BOURSE_NAME_LEN);
        break;
    case BOURSE_EV_FEE:
        p = put_user(p, e, c, ev->user);
        p = put_name(p, ev->oid.s, BOURSE_NAME_LEN);
        p = put_dec(p, ev->qty);
        break;
    case BOURSE_EV_ACCOUNT: /* ACCOUNT USER OP [FUNDING-ID] STATE | ERROR REASON */
        p = put_name(p, ev->oid.s[0] ? ev->oid.s : "-", BOURSE_NAME_LEN);
        p = put_str(p, bourse_account_op_name(ev->side));
        if (ev->count)
            p = put_int(p, ev->count);
        if (ev->reason) {
            p = put_str(p, "ERROR");
            p = put_str(p, bourse_account_error_name(ev->reason));
        } else if (ev->side >= BOURSE_AOP_DEPOSIT)
            p = put_str(p, bourse_funding_state_name((int)ev->qty));
        else
            p = put_str(p, bourse_account_state_name((int)ev->qty));
        break;
    case BOURSE_EV_LEVEL:
        p = put_symbol(p, e, ev->symbol);
        p = put_str(p, ev->side == BOURSE_BUY ? "BID" : "ASK");
        p = put_dec(p, ev->price);
        p = put_int(p, ev->qty);
        p = put_int(p, ev->count);
        break;
    case BOURSE_EV_BALANCE:
        p = put_user(p, e, c, ev->user);
        if (ev->symbol == BOURSE_CASH) {
            p = put_str(p, "CASH");
            p = put_dec(p, ev->qty);
            p = put_dec(p, ev->count);
        } else {
            p = put_symbol(p, e, ev->symbol);
            p = put_int(p, ev->qty);
            p = put_int(p, ev->count);
        }
        break;
    default: break;
    }
    p[-1] = '\n';
    return (size_t)(p - buf);
}

static const char *const tif_names[] = {"day", "gtc", "ioc", "fok"};

/* `rules SYM k=v ...` / `fees SYM k=v ...`: the given settings, in key order. */
static char *put_settings(char *p, const bourse_cmd *c)
{
    static const char *const rule_keys[] = {"tick=", "lot=", "maxqty=", "maxnotional=", "band=", "ref="};
    static const char *const fee_keys[] = {"maker=", "taker="};
    bool fees = c->type == BOURSE_CMD_FEES;
    p = put_str(p, fees ? "fees" : "rules");
    p = put_name(p, c->symbol_name.s, BOURSE_SYMBOL_LEN);
    for (int k = 0; k < (fees ? BOURSE_FEE_COUNT_ : BOURSE_RULE_COUNT_); k++) {
        int64_t v = c->set[k];
        if (v < 0)
            continue;
        const char *key = fees ? fee_keys[k] : rule_keys[k];
        memcpy(p, key, strlen(key));
        p += strlen(key);
        if (!fees && (k == BOURSE_RULE_TICK || k == BOURSE_RULE_REF || k == BOURSE_RULE_MAXNOTIONAL))
            p = put_dec(p, v);
        else if (!fees && k == BOURSE_RULE_BAND)
            p = put_dec(p, v * 100); /* basis points of a percent, as a percentage */
        else
            p = put_int(p, v);
    }
    return p;
}

size_t bourse_text_cmd(const bourse_cmd *c, char *buf)
{
    char *p = buf;
    const char *user = c->user_name.s, *sym = c->symbol_name.s;
    switch (c->type) {
    case BOURSE_CMD_SYMBOL: p = put_str(p, "symbol"), p = put_name(p, sym, BOURSE_SYMBOL_LEN); break;
    case BOURSE_CMD_USER: p = put_str(p, "user"), p = put_name(p, user, BOURSE_NAME_LEN); break;
    case BOURSE_CMD_DEPOSIT:
    case BOURSE_CMD_WITHDRAW:
        p = put_str(p, c->type == BOURSE_CMD_DEPOSIT ? "deposit" : "withdraw");
        p = put_name(p, user, BOURSE_NAME_LEN);
        p = put_name(p, sym, BOURSE_SYMBOL_LEN);
        p = strncmp(sym, "CASH", BOURSE_SYMBOL_LEN) == 0 ? put_dec(p, c->qty) : put_int(p, c->qty);
        break;
    case BOURSE_CMD_LIMIT:
        p = put_str(p, "limit"), p = put_name(p, user, BOURSE_NAME_LEN), p = put_int(p, c->qty);
        break;
    case BOURSE_CMD_OPEN: p = put_str(p, "open"); break;
    case BOURSE_CMD_CLOSE: p = put_str(p, "close"); break;
    case BOURSE_CMD_ORDER:
        p = put_str(p, c->side == BOURSE_BUY ? "buy" : "sell");
        p = put_name(p, user, BOURSE_NAME_LEN);
        p = put_name(p, c->oid.s, BOURSE_NAME_LEN);
        p = put_name(p, sym, BOURSE_SYMBOL_LEN);
        p = put_int(p, c->qty);
        if (c->price == BOURSE_MARKET) {
            p = put_str(p, "market");
            if (c->tif == BOURSE_FOK)
                p = put_str(p, "fok");
        } else {
            p = put_dec(p, c->price);
            if (c->tif != BOURSE_DAY && c->tif < 4)
                p = put_str(p, tif_names[c->tif]);
        }
        break;
    case BOURSE_CMD_ACCOUNT: { /* account first|more|last|whole HEX: a fragment (bourse/account.h) */
        static const char *const how[] = {"more", "first", "last", "whole"};
        static const char hex[] = "0123456789abcdef";
        p = put_str(p, "account");
        p = put_str(p, how[c->side & 3]);
        for (int i = 0; i < c->tif && i < BOURSE_ACCOUNT_PART; i++) {
            *p++ = hex[c->part[i] >> 4];
            *p++ = hex[c->part[i] & 15];
        }
        *p++ = ' ';
        break;
    }
    case BOURSE_CMD_CANCEL:
        p = put_str(p, "cancel"), p = put_name(p, user, BOURSE_NAME_LEN);
        p = put_name(p, c->oid.s, BOURSE_NAME_LEN);
        break;
    case BOURSE_CMD_REPLACE:
        p = put_str(p, "replace"), p = put_name(p, user, BOURSE_NAME_LEN);
        p = put_name(p, c->oid.s, BOURSE_NAME_LEN);
        p = put_name(p, c->new_oid.s, BOURSE_NAME_LEN);
        p = put_int(p, c->qty);
        p = put_dec(p, c->price);
        break;
    case BOURSE_CMD_BOOK: p = put_str(p, "book"), p = put_name(p, sym, BOURSE_SYMBOL_LEN); break;
    case BOURSE_CMD_BALANCE: p = put_str(p, "balance"), p = put_name(p, user, BOURSE_NAME_LEN); break;
    case BOURSE_CMD_RULES:
    case BOURSE_CMD_FEES: p = put_settings(p, c); break;
    case BOURSE_CMD_HALT: p = put_str(p, "halt"), p = put_name(p, sym, BOURSE_SYMBOL_LEN); break;
    case BOURSE_CMD_RESUME: p = put_str(p, "resume"), p = put_name(p, sym, BOURSE_SYMBOL_LEN); break;
    case BOURSE_CMD_BLOCK: p = put_str(p, "block"), p = put_name(p, user, BOURSE_NAME_LEN); break;
    case BOURSE_CMD_UNBLOCK: p = put_str(p, "unblock"), p = put_name(p, user, BOURSE_NAME_LEN); break;
    case BOURSE_CMD_HALTALL: p = put_str(p, "haltall"); break;
    case BOURSE_CMD_RESUMEALL: p = put_str(p, "resumeall"); break;
    case BOURSE_CMD_FIXSESS:
        p = put_str(p, "fixsess"), p = put_name(p, user, BOURSE_NAME_LEN);
        p = put_str(p, c->side < BOURSE_FIXSESS_COUNT_ ? fixsess_kinds[c->side] : "?");
        p = put_int(p, c->qty);
        p = put_int(p, c->price);
        break;
    case BOURSE_CMD_CANCELALL:
        p = put_str(p, "cancelall"), p = put_name(p, user, BOURSE_NAME_LEN);
        if (sym[0])
            p = put_name(p, sym, BOURSE_SYMBOL_LEN);
        break;
    default: p = put_str(p, "# unknown command");
    }
    p[-1] = '\n';
    return (size_t)(p - buf);
}
