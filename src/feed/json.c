/*
 * json.c - the flat-object reader of json.h.
 */
#include "feed/json.h"

#include <string.h>

typedef struct rd {
    const char *p, *end;
    const char *why;
} rd;

static void skip_ws(rd *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int fail(rd *r, const char *why)
{
    if (!r->why)
        r->why = why;
    return -1;
}

static int string(rd *r, char *out, size_t cap)
{
    size_t n = 0;
    if (r->p >= r->end || *r->p != '"')
        return fail(r, "expected a string");
    r->p++;
    while (r->p < r->end && *r->p != '"') {
        char c = *r->p++;
        if ((unsigned char)c < 0x20)
            return fail(r, "control character in a string");
        if (c == '\\') {
            if (r->p >= r->end)
                break;
            c = *r->p++;
            switch (c) {
            case '"':
            case '\\':
            case '/': break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            default: return fail(r, "unsupported escape in a string");
            }
        }
        if (n + 1 >= cap)
            return fail(r, "string too long");
        out[n++] = c;
    }
    if (r->p >= r->end)
        return fail(r, "unterminated string");
    r->p++;
    out[n] = 0;
    return 0;
}

static int scalar(rd *r, char *out, size_t cap)
{
    size_t n = 0;
    if (r->p < r->end && (*r->p == '{' || *r->p == '['))
        return fail(r, "nested values are not supported");
    while (r->p < r->end && strchr("-+.0123456789eEtruefalsn", *r->p) && *r->p) {
        if (n + 1 >= cap)
            return fail(r, "value too long");
        out[n++] = *r->p++;
    }
    out[n] = 0;
    if (!n)
        return fail(r, "expected a value");
    if (!strcmp(out, "true") || !strcmp(out, "false") || !strcmp(out, "null"))
        return 0;
    const char *q = out + (*out == '-');
    if (!*q || strspn(q, "0123456789.eE+-") != strlen(q) || *q < '0' || *q > '9')
        return fail(r, "malformed value");
    return 0;
}

int json_flat(const char *s, size_t n, json_pair *out, int max, const char **why)
{
    rd r = {s, s + n, NULL};
    int count = 0;
    skip_ws(&r);
    if (r.p >= r.end || *r.p != '{') {
        *why = "expected a JSON object";
        return -1;
    }
    r.p++;
    skip_ws(&r);
    if (r.p < r.end && *r.p == '}') {
        r.p++;
    } else {
        for (;;) {
            json_pair pair = {0};
            skip_ws(&r);
            if (string(&r, pair.key, sizeof pair.key) < 0)
                break;
            skip_ws(&r);
            if (r.p >= r.end || *r.p != ':') {
                fail(&r, "expected ':'");
                break;
            }
            r.p++;
            skip_ws(&r);
            pair.is_string = r.p < r.end && *r.p == '"';
            if ((pair.is_string ? string(&r, pair.val, sizeof pair.val)
                                : scalar(&r, pair.val, sizeof pair.val)) < 0)
                break;
            if (count == max) {
                fail(&r, "too many keys");
                break;
            }
            for (int i = 0; i < count; i++)
                if (!strcmp(out[i].key, pair.key))
                    fail(&r, "duplicate key");
            if (r.why)
                break;
            out[count++] = pair;
            skip_ws(&r);
            if (r.p < r.end && *r.p == ',') {
                r.p++;
                continue;
            }
            if (r.p < r.end && *r.p == '}') {
                r.p++;
                break;
            }
            fail(&r, "expected ',' or '}'");
            break;
        }
    }
    if (!r.why) {
        skip_ws(&r);
        if (r.p != r.end)
            fail(&r, "trailing bytes after the object");
    }
    if (r.why) {
        *why = r.why;
        return -1;
    }
    return count;
}

const json_pair *json_get(const json_pair *p, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(p[i].key, key))
            return &p[i];
    return NULL;
}

size_t json_escape(const char *s, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t len = 0;
    for (size_t i = 0; i < n && len + 7 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[len++] = '\\';
            out[len++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            memcpy(out + len, "\\u00", 4);
            out[len + 4] = hex[c >> 4];
            out[len + 5] = hex[c & 15];
            len += 6;
        } else {
            out[len++] = (char)c;
        }
    }
    out[len] = 0;
    return len;
}
