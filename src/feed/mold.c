/*
 * mold.c - MoldUDP64 packets (mold.h).
 *
 * The session field is written as the spec's alpha fields are: left-
 * justified, padded with spaces.  Bourse's sessions are 10 digits, so the
 * padding never shows; a reader strips spaces on both sides, as the
 * SoupBinTCP side does, so either justification compares equal.
 */
#include "feed/mold.h"

#include "net/soup.h"

#include <arpa/inet.h>
#include <assert.h>
#include <string.h>

static void put_session(uint8_t *p, const char *session)
{
    size_t n = strlen(session);
    soup_put_alpha(p, MOLD_SESSION_LEN, session, n < MOLD_SESSION_LEN ? n : MOLD_SESSION_LEN);
}

/* Printable ASCII only: a NUL or control byte would not survive as text. */
static int get_session(const uint8_t *p, char *out)
{
    for (int i = 0; i < MOLD_SESSION_LEN; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return -1;
    soup_get_alpha(p, MOLD_SESSION_LEN, out);
    return 0;
}

void mold_start(mold_writer *w, uint8_t *buf, size_t cap, const char *session, uint64_t seq)
{
    /* Every caller hands a whole datagram buffer: the header always fits. */
    assert(cap >= MOLD_HEADER);
    w->buf = buf;
    w->cap = cap;
    w->len = MOLD_HEADER;
    w->count = 0;
    put_session(buf, session);
    put_be64(buf + MOLD_SESSION_LEN, seq);
}

int mold_add(mold_writer *w, const uint8_t *msg, size_t len)
{
    if (len > 0xFFFF || w->count == MOLD_MAX_COUNT || w->cap - w->len < 2 + len)
        return -1;
    put_be16(w->buf + w->len, (uint16_t)len);
    memcpy(w->buf + w->len + 2, msg, len);
    w->len += 2 + len;
    w->count++;
    return 0;
}

size_t mold_finish(mold_writer *w)
{
    /* mold_add() refuses a message that would not fit or a count past
     * MOLD_MAX_COUNT (0xFFFF would read as End of Session). */
    assert(w->len <= w->cap && w->count <= MOLD_MAX_COUNT);
    put_be16(w->buf + MOLD_SESSION_LEN + 8, w->count);
    return w->len;
}

size_t mold_empty(uint8_t *buf, const char *session, uint64_t next_seq, uint16_t count)
{
    put_session(buf, session);
    put_be64(buf + MOLD_SESSION_LEN, next_seq);
    put_be16(buf + MOLD_SESSION_LEN + 8, count);
    return MOLD_HEADER;
}

static int refuse(const char **why, const char *reason)
{
    *why = reason;
    return -1;
}

int mold_parse(const uint8_t *p, size_t n, mold_packet *out, const char **why)
{
    if (n < MOLD_HEADER)
        return refuse(why, "shorter than the 20-byte header");
    if (n > MOLD_MAX_DATAGRAM)
        return refuse(why, "longer than a UDP datagram");
    if (get_session(p, out->session) < 0)
        return refuse(why, "session not printable ASCII");
    out->seq = get_be64(p + MOLD_SESSION_LEN);
    out->count = get_be16(p + MOLD_SESSION_LEN + 8);
    out->body = p + MOLD_HEADER;
    out->body_len = n - MOLD_HEADER;
    if (out->seq == 0)
        return refuse(why, "sequence number 0");
    if (out->count == MOLD_HEARTBEAT || out->count == MOLD_END) {
        if (out->body_len)
            return refuse(why, "heartbeat or end of session with a body");
        return 0;
    }
    if (out->seq > UINT64_MAX - out->count)
        return refuse(why, "sequence numbers past 2^64");
    size_t off = 0;
    for (uint32_t i = 0; i < out->count; i++) {
        if (out->body_len - off < 2)
            return refuse(why, "fewer messages than the count");
        size_t len = get_be16(out->body + off);
        if (out->body_len - off - 2 < len)
            return refuse(why, "a message runs past the end of the datagram");
        off += 2 + len;
    }
    if (off != out->body_len)
        return refuse(why, "bytes after the last message");
    return 0;
}

int mold_next(const mold_packet *pk, size_t *off, const uint8_t **msg, size_t *len)
{
    /* mold_parse checked every length; checked again so a caller that
     * skipped it cannot be walked off the end. */
    if (pk->body_len - *off < 2)
        return 0;
    size_t l = get_be16(pk->body + *off);
    if (pk->body_len - *off - 2 < l)
        return 0;
    *msg = pk->body + *off + 2;
    *len = l;
    *off += 2 + l;
    return 1;
}

size_t mold_request_write(uint8_t *buf, const char *session, uint64_t seq, uint16_t count)
{
    return mold_empty(buf, session, seq, count);
}

int mold_request_parse(const uint8_t *p, size_t n, mold_request *out, const char **why)
{
    if (n != MOLD_REQUEST_LEN)
        return refuse(why, "a request is 20 bytes");
    if (get_session(p, out->session) < 0)
        return refuse(why, "session not printable ASCII");
    out->seq = get_be64(p + MOLD_SESSION_LEN);
    out->count = get_be16(p + MOLD_SESSION_LEN + 8);
    if (out->seq == 0)
        return refuse(why, "sequence number 0");
    if (out->count == 0)
        return refuse(why, "requested count 0");
    if (out->seq > UINT64_MAX - out->count)
        return refuse(why, "sequence numbers past 2^64");
    return 0;
}
