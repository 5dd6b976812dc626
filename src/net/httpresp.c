/*
 * httpresp.c - a strict reader of HTTP/1.1 responses (httpresp.h).
 *
 * Every byte comes from a peer, so every byte is checked: the status line
 * must be exactly "HTTP/1.0 " or "HTTP/1.1 " and three digits, the header
 * block must end within HTTPRESP_HDR_MAX bytes, each header line must have
 * a name of token characters and a colon, and the body's end must be known
 * from one Content-Length of digits only (two that disagree are the
 * request-smuggling case and are refused; a Transfer-Encoding is refused
 * too, since our API never chunks and a reader that half-understood
 * chunking would misplace the next response).  Lengths are added only
 * after they are checked against the buffer's capacity, so nothing
 * overflows.  The garbage case is caught early: a buffer whose first five
 * bytes are not "HTTP/" is refused without waiting for a blank line that
 * may never come.
 */
#include "net/httpresp.h"

#include <string.h>

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c)); /* strchr finds the terminator for a NUL */
}

static int name_is(const char *p, size_t n, const char *name)
{
    if (strlen(name) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)p[i]) != lower((unsigned char)name[i]))
            return 0;
    return 1;
}

/* Calls fn for each header line of buf[line0..hend): 0, or -1 malformed. */
typedef int (*hdr_fn)(void *ctx, const char *name, size_t nn, const char *val, size_t vn);
static int each_header(const char *buf, size_t from, size_t hend, hdr_fn fn, void *ctx)
{
    size_t p = from;
    while (p < hend) {
        const char *eol = memmem(buf + p, hend - p, "\r\n", 2);
        size_t e = eol ? (size_t)(eol - buf) : hend;
        const char *colon = memchr(buf + p, ':', e - p);
        if (!colon || colon == buf + p)
            return -1;
        size_t nn = (size_t)(colon - (buf + p));
        for (size_t i = 0; i < nn; i++)
            if (!token_char(buf[p + i]))
                return -1;
        size_t v = (size_t)(colon - buf) + 1, ve = e;
        while (v < ve && (buf[v] == ' ' || buf[v] == '\t'))
            v++;
        while (ve > v && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'))
            ve--;
        if (fn(ctx, buf + p, nn, buf + v, ve - v) != 0)
            return -1;
        p = e + 2;
    }
    return 0;
}

typedef struct lens {
    int have, bad, te;
    size_t len;
    const char *why;
} lens;

static int on_len(void *ctx, const char *name, size_t nn, const char *val, size_t vn)
{
    lens *l = ctx;
    if (name_is(name, nn, "transfer-encoding")) {
        l->te = 1;
        return 0;
    }
    if (!name_is(name, nn, "content-length"))
        return 0;
    if (vn == 0 || vn > 9) {
        l->why = "a Content-Length that is empty or too long";
        return -1;
    }
    size_t v = 0;
    for (size_t i = 0; i < vn; i++) {
        if (val[i] < '0' || val[i] > '9') {
            l->why = "a Content-Length that is not a number";
            return -1;
        }
        v = v * 10 + (size_t)(val[i] - '0');
    }
    if (l->have && v != l->len) {
        l->why = "two different Content-Lengths";
        return -1;
    }
    l->have = 1;
    l->len = v;
    return 0;
}

int httpresp_parse(const char *buf, size_t len, size_t cap, httpresp *out, const char **why)
{
    static const char pre[] = "HTTP/";
    *why = "";
    if (memcmp(buf, pre, len < 5 ? len : 5) != 0) {
        *why = "not an HTTP response";
        return -1;
    }
    size_t look = len < HTTPRESP_HDR_MAX ? len : HTTPRESP_HDR_MAX;
    const char *end = look >= 4 ? memmem(buf, look, "\r\n\r\n", 4) : NULL;
    if (!end) {
        if (len >= HTTPRESP_HDR_MAX || len >= cap) {
            *why = "headers too long";
            return -1;
        }
        return 0;
    }
    size_t hend = (size_t)(end - buf) + 2; /* past the last header's CRLF */
    /* "HTTP/1.1 200 " or "HTTP/1.1 200\r" */
    if (hend < 14 || (memcmp(buf, "HTTP/1.1 ", 9) != 0 && memcmp(buf, "HTTP/1.0 ", 9) != 0) || buf[9] < '1' ||
        buf[9] > '5' || buf[10] < '0' || buf[10] > '9' || buf[11] < '0' || buf[11] > '9' ||
        (buf[12] != ' ' && buf[12] != '\r')) {
        *why = "a bad status line";
        return -1;
    }
    int status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    if (status < 200) {
        *why = "an interim (1xx) response";
        return -1;
    }
    const char *eol = memmem(buf, hend, "\r\n", 2);
    lens l = {0};
    if (each_header(buf, (size_t)(eol - buf) + 2,
                    hend - 2 > (size_t)(eol - buf) ? hend - 2 : (size_t)(eol - buf) + 2, on_len, &l) != 0) {
        *why = l.why ? l.why : "a header line without a name and a colon";
        return -1;
    }
    if (l.te) {
        *why = "a Transfer-Encoding (only Content-Length is taken)";
        return -1;
    }
    if (!l.have && status != 204 && status != 304) {
        *why = "no Content-Length";
        return -1;
    }
    size_t hlen = hend + 2;
    if (l.len > cap || hlen > cap - l.len) {
        *why = "a response larger than the buffer";
        return -1;
    }
    if (len < hlen + l.len)
        return 0;
    *out = (httpresp){.status = status, .hlen = hlen, .blen = l.len, .body = buf + hlen};
    return 1;
}

typedef struct find {
    const char *name, *val;
    size_t n;
} find;

static int on_find(void *ctx, const char *name, size_t nn, const char *val, size_t vn)
{
    find *f = ctx;
    if (!f->val && name_is(name, nn, f->name)) {
        f->val = val;
        f->n = vn;
    }
    return 0;
}

const char *httpresp_header(const char *buf, const httpresp *r, const char *name, size_t *n)
{
    const char *eol = memmem(buf, r->hlen, "\r\n", 2);
    find f = {.name = name};
    size_t from = (size_t)(eol - buf) + 2;
    if (from < r->hlen - 2)
        each_header(buf, from, r->hlen - 2, on_find, &f);
    *n = f.n;
    return f.val;
}

void httpresp_error_code(const httpresp *r, char *out, size_t cap)
{
    static const char key[] = "\"code\":\"";
    size_t k = 0;
    const char *p = r->blen ? memmem(r->body, r->blen, key, sizeof key - 1) : NULL;
    if (p) {
        p += sizeof key - 1;
        const char *e = r->body + r->blen;
        while (p < e && k + 1 < cap && ((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            out[k++] = *p++;
    }
    out[k] = 0;
}
