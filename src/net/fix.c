/*
 * fix.c - the FIX 4.4 tag=value codec (fix.h says what each step checks).
 *
 * Lengths and tags come from the client, so each is read with a bound:
 * BodyLength has at most 7 digits and the whole message at most the
 * caller's max bytes; a tag has at most 5 digits; a message has at most
 * FIX_MAX_FIELDS fields.  Nothing is copied: fields are offsets into the
 * message, which the caller keeps until it is done with them.
 */
#include "net/fix.h"

#include <string.h>
#include <time.h>

static const char prefix[] = "8=" FIX_BEGIN "\001"
                             "9=";
enum { PREFIX_LEN = sizeof prefix - 1 };

/* The sum of the bytes mod 256, eight at a time: each 64-bit word is split
 * into its even and odd bytes as four 16-bit lanes, added up lane by lane
 * (at most 8,192 / 8 words of 255 + 255 per lane: no lane overflows for
 * messages under 64 KB, and longer ones are summed in chunks). */
unsigned fix_checksum(const char *p, size_t n)
{
    const uint64_t lo = 0x00ff00ff00ff00ffULL;
    unsigned s = 0;
    while (n >= 8) {
        size_t words = n / 8 < 128 ? n / 8 : 128;
        uint64_t acc = 0;
        for (size_t i = 0; i < words; i++, p += 8) {
            uint64_t x;
            memcpy(&x, p, 8);
            acc += (x & lo) + ((x >> 8) & lo);
        }
        n -= words * 8;
        acc = (acc & 0xffff) + ((acc >> 16) & 0xffff) + ((acc >> 32) & 0xffff) + (acc >> 48);
        s += (unsigned)acc;
    }
    for (size_t i = 0; i < n; i++)
        s += (uint8_t)p[i];
    return s % 256;
}

/* Where the next message may begin after p[0] (skipping a garbled one):
 * the next "8=FIX.4.4<SOH>9=" that follows a SOH, or the start of one cut
 * by the end of what was read; else nothing of p is kept. */
static size_t resync(const char *p, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        size_t k = n - i < PREFIX_LEN ? n - i : PREFIX_LEN;
        if (p[i - 1] == FIX_SOH && !memcmp(p + i, prefix, k))
            return i;
    }
    return n;
}

long fix_frame(const char *p, size_t n, size_t max, size_t *skip, const char **why)
{
    *skip = 0;
    size_t k = n < PREFIX_LEN ? n : PREFIX_LEN;
    if (memcmp(p, prefix, k) != 0) {
        *why = "not a FIX.4.4 message (BeginString)";
        return FIX_FATAL;
    }
    if (n < PREFIX_LEN)
        return FIX_MORE;
    size_t i = PREFIX_LEN, len = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9') {
        if (i - PREFIX_LEN >= 7 || (i == PREFIX_LEN + 1 && p[PREFIX_LEN] == '0')) {
            *why = "BodyLength unreadable";
            return FIX_FATAL;
        }
        len = len * 10 + (size_t)(p[i] - '0');
        i++;
    }
    if (i == n)
        return FIX_MORE;
    if (i == PREFIX_LEN || p[i] != FIX_SOH || len == 0) {
        *why = "BodyLength unreadable";
        return FIX_FATAL;
    }
    size_t head = i + 1, total = head + len + FIX_TAIL;
    if (total > max) {
        *why = "message longer than the venue accepts";
        return FIX_FATAL;
    }
    if (n < total)
        return FIX_MORE;
    const char *t = p + head + len;
    if (t[-1] != FIX_SOH || memcmp(t, "10=", 3) != 0 || t[6] != FIX_SOH) {
        *why = "garbled: BodyLength does not end where CheckSum begins";
        *skip = resync(p, n);
        return FIX_GARBLED;
    }
    unsigned ck = 0;
    for (int d = 3; d < 6; d++) {
        if (t[d] < '0' || t[d] > '9') {
            *why = "garbled: CheckSum is not three digits";
            *skip = total;
            return FIX_GARBLED;
        }
        ck = ck * 10 + (unsigned)(t[d] - '0');
    }
    if (ck != fix_checksum(p, head + len)) {
        *why = "garbled: wrong CheckSum";
        *skip = total;
        return FIX_GARBLED;
    }
    return (long)total;
}

static int fail(fix_error *e, int reason, uint32_t tag, const char *text)
{
    e->reason = reason;
    e->ref_tag = tag;
    e->text = text;
    return -1;
}

int fix_parse(const char *p, size_t n, fix_msg *m, fix_error *e)
{
    m->buf = p;
    m->len = (uint32_t)n;
    m->n = 0;
    size_t i = 0;
    uint64_t seen[16] = {0}; /* tags under 1024 met so far */
    while (i < n) {
        uint32_t tag = 0;
        size_t t0 = i;
        while (i < n && p[i] >= '0' && p[i] <= '9' && i - t0 < 6) {
            tag = tag * 10 + (uint32_t)(p[i] - '0');
            i++;
        }
        if (i == t0 || i == n || p[i] != '=' || p[t0] == '0' || tag > FIX_TAG_MAX)
            return fail(e, FIX_R_INVALID_TAG, 0, "invalid tag number");
        size_t v0 = ++i;
        while (i < n && p[i] != FIX_SOH)
            i++;
        if (i == n)
            return fail(e, FIX_R_BAD_FORMAT, tag, "field not ended by SOH");
        if (i == v0)
            return fail(e, FIX_R_NO_VALUE, tag, "tag specified without a value");
        i++; /* the SOH */
        if (m->n == FIX_MAX_FIELDS)
            return fail(e, FIX_R_OTHER, tag, "too many fields");
        int dup = 0;
        if (tag < 1024) { /* most tags: one bit each */
            uint64_t bit = 1ULL << (tag & 63);
            dup = (seen[tag >> 6] & bit) != 0;
            seen[tag >> 6] |= bit;
        } else {
            for (uint32_t j = 0; j < m->n; j++)
                dup |= m->f[j].tag == tag;
        }
        if (dup)
            return fail(e, FIX_R_DUPLICATE, tag, "tag appears more than once");
        uint32_t k = m->n;
        static const uint32_t first[3] = {8, 9, 35};
        if ((k < 3 && tag != first[k]) || (k >= 3 && (tag == 8 || tag == 9 || tag == 35)))
            return fail(e, FIX_R_ORDER, tag, "tag specified out of required order");
        if (tag == 10 && i != n)
            return fail(e, FIX_R_ORDER, tag, "CheckSum is not the last field");
        m->f[k] = (fix_field){.tag = tag, .off = (uint32_t)v0, .len = (uint32_t)(i - 1 - v0)};
        m->n = k + 1;
    }
    if (m->n < 4 || m->f[m->n - 1].tag != 10)
        return fail(e, FIX_R_REQUIRED_MISSING, m->n < 3 ? 35 : 10, "required tag missing");
    return 0;
}

const char *fix_get(const fix_msg *m, uint32_t tag, size_t *len)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->f[i].tag == tag) {
            *len = m->f[i].len;
            return m->buf + m->f[i].off;
        }
    *len = 0;
    return NULL;
}

int fix_is(const fix_msg *m, uint32_t tag, const char *s)
{
    size_t n;
    const char *v = fix_get(m, tag, &n);
    return v && n == strlen(s) && !memcmp(v, s, n);
}

int fix_get_u64(const fix_msg *m, uint32_t tag, uint64_t *v)
{
    size_t n;
    const char *s = fix_get(m, tag, &n);
    if (!s)
        return -1;
    if (n > 18)
        return -2;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -2;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    return 0;
}

int fix_get_char(const fix_msg *m, uint32_t tag, char *c)
{
    size_t n;
    const char *s = fix_get(m, tag, &n);
    if (!s)
        return -1;
    if (n != 1)
        return -2;
    *c = s[0];
    return 0;
}

int fix_get_decimal(const fix_msg *m, uint32_t tag, int max_decimals, int64_t max, int64_t *v)
{
    size_t n;
    const char *s = fix_get(m, tag, &n);
    if (!s)
        return -1;
    int64_t x = 0;
    size_t i = 0;
    int digits = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        if (digits >= 15)
            return -2;
        x = x * 10 + (s[i] - '0');
    }
    if (!digits)
        return -2;
    int dec = 0;
    if (i < n) {
        if (s[i] != '.' || i + 1 == n)
            return -2;
        for (i++; i < n; i++) {
            if (s[i] < '0' || s[i] > '9')
                return -2;
            if (dec < max_decimals) {
                x = x * 10 + (s[i] - '0');
                dec++;
            } else if (s[i] != '0') {
                return -2; /* more precision than the venue's units */
            }
        }
    }
    for (; dec < max_decimals; dec++)
        x *= 10;
    if (x > max)
        return -2;
    *v = x;
    return 0;
}

void fix_begin(fix_writer *w, char *buf, size_t cap, const char *type)
{
    w->buf = buf;
    w->cap = cap;
    w->pos = FIX_HEAD_ROOM;
    w->full = cap <= FIX_HEAD_ROOM + FIX_TAIL;
    fix_puts(w, 35, type);
}

void fix_put(fix_writer *w, uint32_t tag, const char *s, size_t len)
{
    /* the tag's digits, right to left into t[5 - k .. 4], then '=' */
    char t[6];
    size_t k = 0;
    do {
        t[4 - k++] = (char)('0' + tag % 10);
        tag /= 10;
    } while (tag && k < 5);
    t[5] = '=';
    if (w->full || w->pos + k + 1 + len + 1 + FIX_TAIL > w->cap) {
        w->full = 1;
        return;
    }
    char *o = w->buf + w->pos;
    memcpy(o, t + 5 - k, k + 1);
    memcpy(o + k + 1, s, len);
    o[k + 1 + len] = FIX_SOH;
    w->pos += k + 1 + len + 1;
}

void fix_puts(fix_writer *w, uint32_t tag, const char *s)
{
    fix_put(w, tag, s, strlen(s));
}

size_t fix_fmt_u64(char *out, uint64_t v)
{
    char rev[24];
    size_t k = 0;
    do {
        rev[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < k; i++)
        out[i] = rev[k - 1 - i];
    return k;
}

void fix_put_int(fix_writer *w, uint32_t tag, int64_t v)
{
    char s[24];
    size_t k = 0;
    uint64_t u = (uint64_t)v;
    if (v < 0) {
        s[k++] = '-';
        u = 0 - u;
    }
    k += fix_fmt_u64(s + k, u);
    fix_put(w, tag, s, k);
}

void fix_put_decimal(fix_writer *w, uint32_t tag, int64_t v)
{
    char s[32];
    size_t k = 0;
    uint64_t u = (uint64_t)v;
    if (v < 0) {
        s[k++] = '-';
        u = 0 - u;
    }
    k += fix_fmt_u64(s + k, u / 10000);
    unsigned frac = (unsigned)(u % 10000);
    if (frac) {
        s[k++] = '.';
        for (unsigned d = 1000; frac; d /= 10) {
            s[k++] = (char)('0' + frac / d);
            frac %= d;
        }
    }
    fix_put(w, tag, s, k);
}

/* UTCTimestamp with milliseconds.  The date and time to the second are
 * formatted once per second per thread (gmtime_r and strftime cost more
 * than the rest of a report) and only the milliseconds per call. */
void fix_put_time(fix_writer *w, uint32_t tag, int64_t ns)
{
    static _Thread_local int64_t cached_secs = -1;
    static _Thread_local char cached[24];
    static _Thread_local size_t cached_len;
    int64_t secs = ns / 1000000000;
    if (secs != cached_secs) {
        time_t t = (time_t)secs;
        struct tm tm;
        gmtime_r(&t, &tm);
        cached_len = strftime(cached, sizeof cached, "%Y%m%d-%H:%M:%S", &tm);
        cached_secs = secs;
    }
    char s[32];
    size_t k = cached_len;
    memcpy(s, cached, k);
    unsigned ms = (unsigned)((ns / 1000000) % 1000);
    s[k++] = '.';
    s[k++] = (char)('0' + ms / 100);
    s[k++] = (char)('0' + ms / 10 % 10);
    s[k++] = (char)('0' + ms % 10);
    fix_put(w, tag, s, k);
}

size_t fix_end(fix_writer *w, const char **start)
{
    if (w->full)
        return 0;
    size_t body = w->pos - FIX_HEAD_ROOM;
    char len[12];
    size_t k = fix_fmt_u64(len, body);
    size_t head = PREFIX_LEN + k + 1;
    char *h = w->buf + FIX_HEAD_ROOM - head;
    memcpy(h, prefix, PREFIX_LEN);
    memcpy(h + PREFIX_LEN, len, k);
    h[PREFIX_LEN + k] = FIX_SOH;
    unsigned ck = fix_checksum(h, head + body);
    char *t = w->buf + w->pos;
    memcpy(t, "10=", 3);
    t[3] = (char)('0' + ck / 100);
    t[4] = (char)('0' + ck / 10 % 10);
    t[5] = (char)('0' + ck % 10);
    t[6] = FIX_SOH;
    *start = h;
    return head + body + FIX_TAIL;
}
