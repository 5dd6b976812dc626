/*
 * httpresp.h - a strict reader of HTTP/1.1 responses, for the clients of
 * our own HTTP API (the load generator, src/load/httpload.c): it finds
 * where one response ends on a keep-alive connection and its status and
 * body, and refuses what it cannot be sure of rather than guessing.
 */
#ifndef BOURSE_NET_HTTPRESP_H
#define BOURSE_NET_HTTPRESP_H

#include <stddef.h>

enum { HTTPRESP_HDR_MAX = 16384 };

typedef struct httpresp {
    int status;       /* 200-599 */
    size_t hlen;      /* the status line and headers, blank line included */
    size_t blen;      /* Content-Length */
    const char *body; /* blen bytes, inside the buffer given */
} httpresp;

/* One response at the start of buf[0..len), which may grow to cap bytes:
 * 1 whole (out filled: it is out->hlen + out->blen bytes long), 0 more bytes
 * needed, -1 not a response we take (*why says what): not "HTTP/1.x NNN",
 * a 1xx, headers past HTTPRESP_HDR_MAX or without a colon, no or a bad or
 * two different Content-Lengths (204 and 304 need none), a
 * Transfer-Encoding, or a response that would not fit in cap. */
int httpresp_parse(const char *buf, size_t len, size_t cap, httpresp *out, const char **why);

/* The value of the first header `name` (any case) of a parsed response's
 * header block, trimmed, and its length; NULL when absent. */
const char *httpresp_header(const char *buf, const httpresp *r, const char *name, size_t *n);

/* The body's {"error":{"code":"X"...}} code, copied into out (A-Z 0-9 _,
 * at most cap - 1 of them); "" when there is none. */
void httpresp_error_code(const httpresp *r, char *out, size_t cap);

#endif
