/*
 * itch.c - encoding and decoding of the market-data messages (itch.h).
 * Decoding checks the exact length of each type and the values of the enum
 * fields, since the bytes come from the network.
 */
#include "feed/itch.h"

#include "bourse/text.h"

#include <stdio.h>
#include <string.h>

/* The low n bytes of v (2, 4 or 8), big-endian.  One byte-swapped store per
 * field: the publisher encodes every message, and a byte at a time was a
 * third of its instructions. */
static inline uint8_t *put(uint8_t *p, uint64_t v, int n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n == 8) {
        uint64_t b = __builtin_bswap64(v);
        memcpy(p, &b, 8);
        return p + 8;
    }
    if (n == 4) {
        uint32_t b = __builtin_bswap32((uint32_t)v);
        memcpy(p, &b, 4);
        return p + 4;
    }
    if (n == 2) {
        uint16_t b = __builtin_bswap16((uint16_t)v);
        memcpy(p, &b, 2);
        return p + 2;
    }
#endif
    for (int i = n - 1; i >= 0; i--)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

static uint64_t get(const uint8_t **pp, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | (*pp)[i];
    *pp += n;
    return v;
}

/* Stocks are 8 bytes, left-justified, padded with spaces (as in ITCH). */
static uint8_t *put_stock(uint8_t *p, const char *s)
{
    size_t n = strnlen(s, 8);
    memcpy(p, s, n);
    memset(p + n, ' ', 8 - n);
    return p + 8;
}

static int get_stock(const uint8_t **pp, char out[9])
{
    const uint8_t *p = *pp;
    size_t n = 8;
    while (n > 0 && p[n - 1] == ' ')
        n--;
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
            return -1;
    memcpy(out, p, n);
    out[n] = 0;
    *pp += 8;
    return 0;
}

static size_t body_len(char type)
{
    switch (type) {
    case ITCH_SYSTEM: return 1;
    case ITCH_DIRECTORY: return 8;
    case ITCH_ADD: return 29;
    case ITCH_EXECUTED: return 20;
    case ITCH_CANCEL: return 12;
    case ITCH_DELETE: return 8;
    case ITCH_REPLACE: return 28;
    case ITCH_STATS: return 29;
    case ITCH_CANDLE: return 49;
    case ITCH_SNAPSHOT_END: return 8;
    case ITCH_TRADING_ACTION: return 10;
    case ITCH_PRICE_BAND: return 32;
    default: return 0;
    }
}

size_t itch_encode(const itch_msg *m, uint8_t *out)
{
    size_t body = body_len(m->type);
    if (!body)
        return 0;
    uint8_t *p = out;
    *p++ = (uint8_t)m->type;
    p = put(p, m->locate, 2);
    p = put(p, 0, 2);
    p = put(p, (uint64_t)m->ts, 8);
    switch (m->type) {
    case ITCH_SYSTEM: *p++ = (uint8_t)m->event; break;
    case ITCH_DIRECTORY: p = put_stock(p, m->stock); break;
    case ITCH_ADD:
        p = put(p, m->ref, 8);
        *p++ = (uint8_t)m->side;
        p = put(p, m->qty, 4);
        p = put_stock(p, m->stock);
        p = put(p, (uint64_t)m->price, 8);
        break;
    case ITCH_EXECUTED:
        p = put(p, m->ref, 8);
        p = put(p, m->qty, 4);
        p = put(p, m->match, 8);
        break;
    case ITCH_CANCEL:
        p = put(p, m->ref, 8);
        p = put(p, m->qty, 4);
        break;
    case ITCH_DELETE: p = put(p, m->ref, 8); break;
    case ITCH_REPLACE:
        p = put(p, m->ref, 8);
        p = put(p, m->ref2, 8);
        p = put(p, m->qty, 4);
        p = put(p, (uint64_t)m->price, 8);
        break;
    case ITCH_STATS:
        p = put(p, (uint64_t)m->price, 8);
        p = put(p, m->qty, 4);
        *p++ = (uint8_t)m->side;
        p = put(p, (uint64_t)m->volume, 8);
        p = put(p, m->trades, 8);
        break;
    case ITCH_CANDLE:
        *p++ = m->interval;
        p = put(p, (uint64_t)m->c.start, 8);
        p = put(p, (uint64_t)m->c.open, 8);
        p = put(p, (uint64_t)m->c.high, 8);
        p = put(p, (uint64_t)m->c.low, 8);
        p = put(p, (uint64_t)m->c.close, 8);
        p = put(p, (uint64_t)m->c.volume, 8);
        break;
    case ITCH_SNAPSHOT_END: p = put(p, m->seq, 8); break;
    case ITCH_TRADING_ACTION:
        p = put_stock(p, m->stock);
        *p++ = (uint8_t)m->state;
        *p++ = (uint8_t)m->reason;
        break;
    case ITCH_PRICE_BAND:
        p = put_stock(p, m->stock);
        p = put(p, (uint64_t)m->price, 8);
        p = put(p, (uint64_t)m->lower, 8);
        p = put(p, (uint64_t)m->upper, 8);
        break;
    }
    return (size_t)(p - out);
}

static int side_ok(char s)
{
    return s == 'B' || s == 'S';
}

int itch_decode(const uint8_t *p, size_t len, itch_msg *m)
{
    memset(m, 0, sizeof *m);
    if (len < ITCH_HEADER)
        return -1;
    m->type = (char)p[0];
    size_t body = body_len(m->type);
    if (!body || len != ITCH_HEADER + body)
        return -1;
    p++;
    m->locate = (uint16_t)get(&p, 2);
    get(&p, 2);
    m->ts = (int64_t)get(&p, 8);
    switch (m->type) {
    case ITCH_SYSTEM: m->event = (char)*p; return strchr("OQMC", m->event) && m->event ? 0 : -1;
    case ITCH_DIRECTORY: return get_stock(&p, m->stock);
    case ITCH_ADD:
        m->ref = get(&p, 8);
        m->side = (char)*p++;
        m->qty = (uint32_t)get(&p, 4);
        if (get_stock(&p, m->stock) < 0)
            return -1;
        m->price = (int64_t)get(&p, 8);
        return side_ok(m->side) ? 0 : -1;
    case ITCH_EXECUTED:
        m->ref = get(&p, 8);
        m->qty = (uint32_t)get(&p, 4);
        m->match = get(&p, 8);
        return 0;
    case ITCH_CANCEL:
        m->ref = get(&p, 8);
        m->qty = (uint32_t)get(&p, 4);
        return 0;
    case ITCH_DELETE: m->ref = get(&p, 8); return 0;
    case ITCH_REPLACE:
        m->ref = get(&p, 8);
        m->ref2 = get(&p, 8);
        m->qty = (uint32_t)get(&p, 4);
        m->price = (int64_t)get(&p, 8);
        return 0;
    case ITCH_STATS:
        m->price = (int64_t)get(&p, 8);
        m->qty = (uint32_t)get(&p, 4);
        m->side = (char)*p++;
        m->volume = (int64_t)get(&p, 8);
        m->trades = get(&p, 8);
        return side_ok(m->side) || m->side == ' ' ? 0 : -1;
    case ITCH_CANDLE:
        m->interval = *p++;
        m->c.start = (int64_t)get(&p, 8);
        m->c.open = (int64_t)get(&p, 8);
        m->c.high = (int64_t)get(&p, 8);
        m->c.low = (int64_t)get(&p, 8);
        m->c.close = (int64_t)get(&p, 8);
        m->c.volume = (int64_t)get(&p, 8);
        return m->interval < CANDLE_INTERVALS ? 0 : -1;
    case ITCH_SNAPSHOT_END: m->seq = get(&p, 8); return 0;
    case ITCH_TRADING_ACTION:
        if (get_stock(&p, m->stock) != 0)
            return -1;
        m->state = (char)*p++;
        m->reason = (char)*p++;
        return (m->state == 'H' || m->state == 'T') &&
                       (m->reason == 'S' || m->reason == 'M' || m->reason == ' ')
                   ? 0
                   : -1;
    case ITCH_PRICE_BAND:
        if (get_stock(&p, m->stock) != 0)
            return -1;
        m->price = (int64_t)get(&p, 8);
        m->lower = (int64_t)get(&p, 8);
        m->upper = (int64_t)get(&p, 8);
        return m->price >= 0 && m->lower >= 0 && m->upper >= m->lower ? 0 : -1;
    }
    return -1;
}

static const char *dec(int64_t v, char *buf)
{
    buf[bourse_text_decimal(v, buf)] = 0;
    return buf;
}

size_t itch_format(const itch_msg *m, char *buf, size_t cap)
{
    char a[32], b[32], c[32], d[32], t[32];
    int n = 0;
    candle_time_format(m->ts, t);
    switch (m->type) {
    case ITCH_SYSTEM:
        n = snprintf(buf, cap, "%s SYSTEM %s", t,
                     m->event == 'O'   ? "START"
                     : m->event == 'Q' ? "OPEN"
                     : m->event == 'M' ? "CLOSE"
                                       : "END");
        break;
    case ITCH_DIRECTORY: n = snprintf(buf, cap, "%s SYMBOL %u %s", t, m->locate, m->stock); break;
    case ITCH_ADD:
        n = snprintf(buf, cap, "%s ADD %s #%llu %s %u %s", t, m->stock, (unsigned long long)m->ref,
                     m->side == 'B' ? "BID" : "ASK", m->qty, dec(m->price, a));
        break;
    case ITCH_EXECUTED:
        n = snprintf(buf, cap, "%s EXECUTED %u #%llu %u match %llu", t, m->locate, (unsigned long long)m->ref,
                     m->qty, (unsigned long long)m->match);
        break;
    case ITCH_CANCEL:
        n = snprintf(buf, cap, "%s CANCEL %u #%llu %u", t, m->locate, (unsigned long long)m->ref, m->qty);
        break;
    case ITCH_DELETE:
        n = snprintf(buf, cap, "%s DELETE %u #%llu", t, m->locate, (unsigned long long)m->ref);
        break;
    case ITCH_REPLACE:
        n = snprintf(buf, cap, "%s REPLACE %u #%llu -> #%llu %u %s", t, m->locate, (unsigned long long)m->ref,
                     (unsigned long long)m->ref2, m->qty, dec(m->price, a));
        break;
    case ITCH_STATS:
        n = snprintf(buf, cap, "%s STATS %u last %s %u volume %lld trades %llu", t, m->locate,
                     dec(m->price, a), m->qty, (long long)m->volume, (unsigned long long)m->trades);
        break;
    case ITCH_CANDLE: {
        char s[32];
        candle_time_format(m->c.start, s);
        n = snprintf(buf, cap, "%s CANDLE %u %s %s %s %s %s %s %lld", t, m->locate,
                     candle_interval_name(m->interval), s, dec(m->c.open, a), dec(m->c.high, b),
                     dec(m->c.low, c), dec(m->c.close, d), (long long)m->c.volume);
        break;
    }
    case ITCH_SNAPSHOT_END:
        n = snprintf(buf, cap, "%s SNAPSHOT_END seq %llu", t, (unsigned long long)m->seq);
        break;
    case ITCH_TRADING_ACTION:
        n = snprintf(buf, cap, "%s %s %s%s", t, m->state == 'H' ? "HALT" : "RESUME", m->stock,
                     m->reason == 'M' ? " market-wide" : "");
        break;
    case ITCH_PRICE_BAND:
        n = snprintf(buf, cap, "%s BAND %s ref %s %s %s", t, m->stock, dec(m->price, a), dec(m->lower, b),
                     dec(m->upper, c));
        break;
    }
    return n < 0 ? 0 : (size_t)n;
}
