/*
 * mold.h - MoldUDP64 packets (Nasdaq's "MoldUDP64 Protocol Specification"
 * 1.00), as the UDP market-data feed speaks it (docs/protocol.md, "UDP
 * feed").  Pure functions over byte buffers: no sockets here (udp.c sends,
 * udpclient.c receives).
 *
 * A downstream packet is a 20-byte header
 *     Session (10, alpha) | Sequence Number (8) | Message Count (2)
 * then Message Count message blocks, each a 2-byte length and that many
 * bytes.  The sequence number is the first message's; a count of 0 is a
 * heartbeat and 0xFFFF the end of the session (both carry the next sequence
 * number and nothing else).  A request packet is the same 20 bytes, the
 * count being how many messages are wanted from that sequence number on.
 * All integers big-endian.
 *
 * Every byte that comes in is hostile: the parsers check every length
 * against the datagram before reading and say why they refuse.
 */
#ifndef BOURSE_FEED_MOLD_H
#define BOURSE_FEED_MOLD_H

#include "net/inaddr.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define MOLD_SESSION_LEN 10
#define MOLD_HEADER 20      /* session, sequence number, count */
#define MOLD_REQUEST_LEN 20 /* session, sequence number, requested count */
#define MOLD_HEARTBEAT 0
#define MOLD_END 0xFFFF /* end of session */
#define MOLD_MAX_COUNT 0xFFFE
#define MOLD_MAX_DATAGRAM 65507 /* the most a UDP datagram over IPv4 carries */

/* A downstream packet, parsed; body points into the datagram. */
typedef struct mold_packet {
    char session[MOLD_SESSION_LEN + 1]; /* spaces stripped, NUL-terminated */
    uint64_t seq;                       /* of the first message; the next one for heartbeat and end */
    uint16_t count;                     /* messages, MOLD_HEARTBEAT or MOLD_END */
    const uint8_t *body;                /* the message blocks */
    size_t body_len;
} mold_packet;

typedef struct mold_request {
    char session[MOLD_SESSION_LEN + 1];
    uint64_t seq;   /* first message wanted, >= 1 */
    uint16_t count; /* messages wanted, >= 1 */
} mold_request;

/* Building a downstream packet in buf[0..cap). */
typedef struct mold_writer {
    uint8_t *buf;
    size_t cap, len;
    uint16_t count;
} mold_writer;

/* Header for messages from seq on; cap >= MOLD_HEADER. */
void mold_start(mold_writer *w, uint8_t *buf, size_t cap, const char *session, uint64_t seq);
/* Append one message; -1 when it does not fit (or the count is full). */
int mold_add(mold_writer *w, const uint8_t *msg, size_t len);
/* Write the count; returns the packet's length. */
size_t mold_finish(mold_writer *w);
/* A heartbeat (MOLD_HEARTBEAT) or end of session (MOLD_END) naming the next
 * sequence number: MOLD_HEADER bytes. */
size_t mold_empty(uint8_t *buf, const char *session, uint64_t next_seq, uint16_t count);

/* Check a whole datagram: 0 with *out filled, or -1 with a reason. */
int mold_parse(const uint8_t *p, size_t n, mold_packet *out, const char **why);
/* The messages of a parsed packet, in order: *off starts at 0; returns 1
 * with the next message, 0 after the last. */
int mold_next(const mold_packet *pk, size_t *off, const uint8_t **msg, size_t *len);

size_t mold_request_write(uint8_t *buf, const char *session, uint64_t seq, uint16_t count);
int mold_request_parse(const uint8_t *p, size_t n, mold_request *out, const char **why);

/* mold_addr_parse(), the feed's and the config's address syntax, is in
 * net/inaddr.h. */

#endif
