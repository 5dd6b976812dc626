/*
 * proto_soup.h - the SoupBinTCP/OUCH adapter's own state, shared by its two
 * files: proto_soup.c (session rules, OUCH in and out) and
 * proto_soup_stream.c (each user's sequenced message stream).
 *
 * A user's stream is what SoupBinTCP calls the session's sequenced
 * messages: every report about the user's orders, numbered from 1 since the
 * start of the log (the session name says from which seq), rebuilt from the
 * log at start (proto_soup_stream.c, streams.c).  All of a user's logged-in
 * SoupBinTCP connections receive the whole stream; the last replay_bytes of
 * it are kept so a client that reconnects can ask for what it missed.
 */
#ifndef BOURSE_SERVER_PROTO_SOUP_H
#define BOURSE_SERVER_PROTO_SOUP_H

#include "net/soup.h"
#include "server/gateway.h"
#include "server/handles.h"

/* Per connection, in conn->ps: travels with it to its home gateway. */
typedef struct soup_conn {
    uint64_t want_seq; /* requested at login */
    uint8_t asking;    /* an Account Query is with the engine (one at a time) */
} soup_conn;
_Static_assert(sizeof(soup_conn) <= PROTO_STATE, "soup_conn must fit conn->ps");

static inline soup_conn *soup_of(conn *c)
{
    return (soup_conn *)c->ps.u64;
}

typedef struct ustream {
    uint64_t next_seq;  /* seq of the next message (the first is 1) */
    uint64_t first_seq; /* seq of the oldest message kept */
    uint8_t *ring;      /* kept messages: [u16 length][message], circular */
    uint32_t cap, head, used;
} ustream;

/* Per gateway. */
typedef struct soup_gw {
    gateway *g;
    uint32_t proto; /* its index at this gateway (conn->proto) */
    ustream *streams;
    uint32_t nstreams;
    handle_cache handles; /* home users' order tokens -> core handles (handles.h) */
} soup_gw;

/* proto_soup_stream.c */
ustream *stream_get(soup_gw *sg, uint32_t user);
void stream_append(soup_gw *sg, uint32_t user, const uint8_t *msg, size_t n);
/* Send Login Accepted and the kept messages from `want` on; -1: no memory. */
int stream_attach(soup_gw *sg, conn *c, uint64_t want);
void stream_free_all(soup_gw *sg);

#endif
