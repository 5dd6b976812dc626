/*
 * json.c - the strict flat-object reader and the bounded writer
 * (json.h).
 *
 * The reader is a single pass over the bytes with an explicit state, so
 * its cost is linear in the input and it cannot be made to recurse.  A
 * value longer than HJ_VAL bytes or more than HJ_PAIRS pairs is refused
 * rather than cut: a truncated field must never be taken for the whole.
 */
#include "http/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Put code point cp as UTF-8 into out[*n..cap); -1 when it does not fit. */
static int put_utf8(char *out, size_t cap, size_t *n, uint32_t cp)
{
    char b[4];
    size_t k;
    if (cp < 0x80)
        b[0] = (char)cp, k = 1;
    else if (cp < 0x800)
        b[0] = (char)(0xC0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3F)), k = 2;
    else if (cp < 0x10000)
        b[0] = (char)(0xE0 | cp >> 12), b[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
        b[2] = (char)(0x80 | (cp & 0x3F)), k = 3;
    else
        b[0] = (char)(0xF0 | cp >> 18), b[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
        b[2] = (char)(0x80 | (cp >> 6 & 0x3F)), b[3] = (char)(0x80 | (cp & 0x3F)), k = 4;
    if (*n + k >= cap)
        return -1;
    memcpy(out + *n, b, k);
    *n += k;
    return 0;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *e)
{
    unsigned c = p[0];
    size_t k;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        k = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        k = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        k = 4, cp = c & 0x07;
    else
        return 0;
    if ((size_t)(e - p) < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return k;
}

/* A string starting after its opening quote; *pp ends after the closing
 * quote.  Unescaped into out (NUL-terminated), length in *len. */
static int read_string(const char **pp, const char *e, char *out, size_t cap, size_t *len, const char **why)
{
    const char *p = *pp;
    size_t n = 0;
    while (p < e && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20) {
            *why = "control character in a string";
            return -1;
        }
        if (c == '\\') {
            if (++p >= e)
                break;
            char esc = *p++;
            uint32_t cp;
            switch (esc) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u': {
                if (e - p < 4) {
                    *why = "bad \\u escape";
                    return -1;
                }
                cp = 0;
                for (int i = 0; i < 4; i++) {
                    int h = hexval(p[i]);
                    if (h < 0) {
                        *why = "bad \\u escape";
                        return -1;
                    }
                    cp = cp << 4 | (uint32_t)h;
                }
                p += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    *why = "lone surrogate in a string";
                    return -1;
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo = 0;
                    if (e - p < 6 || p[0] != '\\' || p[1] != 'u') {
                        *why = "lone surrogate in a string";
                        return -1;
                    }
                    for (int i = 0; i < 4; i++) {
                        int h = hexval(p[2 + i]);
                        if (h < 0) {
                            *why = "bad \\u escape";
                            return -1;
                        }
                        lo = lo << 4 | (uint32_t)h;
                    }
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        *why = "lone surrogate in a string";
                        return -1;
                    }
                    p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                if (cp == 0) {
                    *why = "NUL in a string";
                    return -1;
                }
                break;
            }
            default: *why = "bad escape in a string"; return -1;
            }
            if (put_utf8(out, cap, &n, cp) != 0) {
                *why = "string too long";
                return -1;
            }
            continue;
        }
        size_t k = utf8_len((const unsigned char *)p, (const unsigned char *)e);
        if (!k) {
            *why = "invalid UTF-8";
            return -1;
        }
        if (n + k >= cap) {
            *why = "string too long";
            return -1;
        }
        memcpy(out + n, p, k);
        n += k;
        p += k;
    }
    if (p >= e) {
        *why = "unterminated string";
        return -1;
    }
    out[n] = 0;
    *len = n;
    *pp = p + 1;
    return 0;
}

static int word(const char **pp, const char *e, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(e - *pp) < n || memcmp(*pp, w, n))
        return 0;
    *pp += n;
    return 1;
}

int hj_parse(const char *s, size_t n, hj_obj *o, const char **why)
{
    const char *p = s, *e = s + n;
    o->n = 0;
    p = skip_ws(p, e);
    if (p >= e || *p != '{') {
        *why = p >= e ? "empty body" : "expected a JSON object";
        return -1;
    }
    p = skip_ws(p + 1, e);
    if (p < e && *p == '}') {
        p++;
        goto end;
    }
    for (;;) {
        if (p >= e || *p != '"') {
            *why = "expected a key";
            return -1;
        }
        if (o->n == HJ_PAIRS) {
            *why = "too many fields";
            return -1;
        }
        hj_pair *q = &o->p[o->n];
        size_t kl;
        p++;
        if (read_string(&p, e, q->key, sizeof q->key, &kl, why) != 0) {
            if (!strcmp(*why, "string too long"))
                *why = "key too long";
            return -1;
        }
        for (int i = 0; i < o->n; i++)
            if (!strcmp(o->p[i].key, q->key)) {
                *why = "duplicate key";
                return -1;
            }
        p = skip_ws(p, e);
        if (p >= e || *p != ':') {
            *why = "expected ':'";
            return -1;
        }
        p = skip_ws(p + 1, e);
        if (p >= e) {
            *why = "expected a value";
            return -1;
        }
        size_t vl = 0;
        if (*p == '"') {
            p++;
            if (read_string(&p, e, q->val, sizeof q->val, &vl, why) != 0)
                return -1;
            q->type = HJ_STRING;
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            const char *b = p;
            if (*p == '-')
                p++;
            if (p >= e || *p < '0' || *p > '9') {
                *why = "bad number";
                return -1;
            }
            if (*p == '0' && p + 1 < e && p[1] >= '0' && p[1] <= '9') {
                *why = "bad number (leading zero)";
                return -1;
            }
            while (p < e && *p >= '0' && *p <= '9')
                p++;
            q->type = HJ_INT;
            if (p < e && *p == '.') { /* valid JSON, never an integer: the getters say BAD_FIELD */
                if (++p >= e || *p < '0' || *p > '9') {
                    *why = "bad number";
                    return -1;
                }
                while (p < e && *p >= '0' && *p <= '9')
                    p++;
                q->type = HJ_NUM;
            }
            if (p < e && (*p == 'e' || *p == 'E')) {
                if (++p < e && (*p == '+' || *p == '-'))
                    p++;
                if (p >= e || *p < '0' || *p > '9') {
                    *why = "bad number";
                    return -1;
                }
                while (p < e && *p >= '0' && *p <= '9')
                    p++;
                q->type = HJ_NUM;
            }
            vl = (size_t)(p - b);
            if (vl > 40) {
                *why = "number too long";
                return -1;
            }
            memcpy(q->val, b, vl);
            q->val[vl] = 0;
        } else if (word(&p, e, "true") || word(&p, e, "false")) {
            vl = p[-1] == 'e' && p[-2] == 'u' ? 4 : 5;
            memcpy(q->val, p - vl, vl);
            q->val[vl] = 0;
            q->type = HJ_BOOL;
        } else if (word(&p, e, "null")) {
            q->val[0] = 0;
            q->type = HJ_NULL;
        } else if (*p == '{' || *p == '[') {
            *why = "nested objects and arrays are not taken here";
            return -1;
        } else {
            *why = "bad value";
            return -1;
        }
        q->len = (uint16_t)vl;
        o->n++;
        p = skip_ws(p, e);
        if (p < e && *p == ',') {
            p = skip_ws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}') {
            p++;
            break;
        }
        *why = "expected ',' or '}'";
        return -1;
    }
end:
    p = skip_ws(p, e);
    if (p != e) {
        *why = "bytes after the object";
        return -1;
    }
    return 0;
}

static const hj_pair *find(const hj_obj *o, const char *key)
{
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->p[i].key, key))
            return o->p[i].type == HJ_NULL ? NULL : &o->p[i];
    return NULL;
}

int hj_str(const hj_obj *o, const char *key, const char **val, size_t *len)
{
    const hj_pair *q = find(o, key);
    if (!q)
        return 0;
    if (q->type != HJ_STRING)
        return -1;
    *val = q->val;
    if (len)
        *len = q->len;
    return 1;
}

int hj_int(const hj_obj *o, const char *key, int64_t min, int64_t max, int64_t *out)
{
    const hj_pair *q = find(o, key);
    if (!q)
        return 0;
    if (q->type != HJ_INT)
        return -1;
    const char *p = q->val;
    int neg = *p == '-';
    p += neg;
    uint64_t v = 0;
    for (; *p; p++) {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return -1;
    int64_t s = neg ? -(int64_t)v : (int64_t)v;
    if (s < min || s > max)
        return -1;
    *out = s;
    return 1;
}

int hj_bool(const hj_obj *o, const char *key, int *out)
{
    const hj_pair *q = find(o, key);
    if (!q)
        return 0;
    if (q->type != HJ_BOOL)
        return -1;
    *out = q->val[0] == 't';
    return 1;
}

const char *hj_unknown(const hj_obj *o, const char *const *known)
{
    for (int i = 0; i < o->n; i++) {
        int k = 0;
        for (const char *const *q = known; *q && !k; q++)
            k = !strcmp(*q, o->p[i].key);
        if (!k)
            return o->p[i].key;
    }
    return NULL;
}

/* ---- writer ------------------------------------------------------------- */

void hj_raw(hj_w *w, const char *s, size_t n)
{
    if (w->full || w->len + n >= w->cap) {
        w->full = 1;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
    w->p[w->len] = 0;
}

void hj_printf(hj_w *w, const char *fmt, ...)
{
    if (w->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->p + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->cap - w->len) {
        w->full = 1;
        w->p[w->len] = 0;
    } else {
        w->len += (size_t)n;
    }
}

void hj_string(hj_w *w, const char *s, size_t n)
{
    hj_raw(w, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char b[2] = {'\\', (char)c};
            hj_raw(w, b, 2);
        } else if (c < 0x20 || c == 0x7F || c == '<' || c == '>' || c == '&') {
            /* also <, >, &: a JSON answer must never read as markup */
            char b[8];
            snprintf(b, sizeof b, "\\u%04x", c);
            hj_raw(w, b, 6);
        } else {
            hj_raw(w, (const char *)&s[i], 1);
        }
    }
    hj_raw(w, "\"", 1);
}

void hj_amount(hj_w *w, int64_t v)
{
    uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char b[40];
    int n = snprintf(b, sizeof b, "\"%s%llu", v < 0 ? "-" : "", (unsigned long long)(a / 10000));
    unsigned frac = (unsigned)(a % 10000);
    if (frac) {
        char f[8];
        snprintf(f, sizeof f, "%04u", frac);
        size_t k = 4;
        while (f[k - 1] == '0')
            k--;
        f[k] = 0;
        n += snprintf(b + n, sizeof b - (size_t)n, ".%s", f);
    }
    b[n++] = '"';
    hj_raw(w, b, (size_t)n);
}

int hj_parse_amount(const char *s, size_t n, int64_t max, int64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    if (!n || s[0] < '0' || s[0] > '9')
        return -1;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (i >= 15)
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    v *= 10000;
    if (i < n) {
        if (s[i] != '.' || i + 1 == n || n - i - 1 > 4)
            return -1;
        uint64_t scale = 1000;
        for (i++; i < n; i++, scale /= 10) {
            if (s[i] < '0' || s[i] > '9')
                return -1;
            v += (uint64_t)(s[i] - '0') * scale;
        }
    }
    if (v > (uint64_t)max)
        return -1;
    *out = (int64_t)v;
    return 0;
}
