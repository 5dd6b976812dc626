/*
 * ouchclient.c - framing and report decoding for order-entry clients
 * (ouchclient.h).
 *
 * The server's packets arrive split and joined at any byte boundary, so
 * ouch_client_take() works on an accumulating buffer: whole packets are
 * handed on, a partial one stays at the front for the next read.  A length
 * of 0 or one past 65,535 bytes cannot be skipped safely and ends the
 * stream (-1); the callers treat that as a lost connection.
 */
#include "net/ouchclient.h"

#include <assert.h>
#include <string.h>

size_t ouch_client_frame(uint8_t *buf, const bourse_cmd *c)
{
    size_t n = ouch_write_cmd(buf + SOUP_HEADER, c);
    /* The callers size buf as OUCH_CLIENT_FRAME_MAX: an encoder that wrote
     * more (a new message type) would have overrun it already. */
    assert(n > 0 && n <= OUCH_MAX_LEN);
    soup_header(buf, SOUP_UNSEQUENCED, n);
    return n + SOUP_HEADER;
}

int ouch_client_take(uint8_t *in, size_t *have, ouch_client_fn fn, void *ctx)
{
    size_t off = 0;
    int rc = 0;
    for (;;) {
        soup_packet p;
        long r = soup_next(in + off, *have - off, 65535, &p);
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r == 0)
            break;
        off += (size_t)r;
        if (p.type == SOUP_SEQUENCED) {
            ouch_report rep;
            fn(ctx, ouch_read(p.payload, p.len, &rep) == 0 ? &rep : NULL, &p);
        } else if (p.type == SOUP_UNSEQUENCED) {
            /* A report outside the stream, or an Account Query's answer
             * (types b, o, q: no report has them). */
            ouch_report rep;
            int ok = ouch_read(p.payload, p.len, &rep) == 0 || ouch_account_read(p.payload, p.len, &rep) == 0;
            fn(ctx, ok ? &rep : NULL, &p);
        } else if (p.type == SOUP_SERVER_HEARTBEAT) {
            fn(ctx, NULL, &p);
        } else if (p.type == SOUP_END_OF_SESSION) {
            rc = 1;
        }
    }
    memmove(in, in + off, *have - off);
    *have -= off;
    return rc;
}
