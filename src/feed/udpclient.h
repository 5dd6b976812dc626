/*
 * udpclient.h - a receiver of the MoldUDP64 feed (udp.c), for `bourse feed
 * --udp` and the tests: take datagrams, put the messages in sequence order,
 * ask the request server for any that are missing, and apply each message
 * once, in order, to a book (follow.h).
 *
 * UDP carries no snapshot, so the book starts either from a snapshot the
 * caller took over TCP (client.h) at some sequence number S, the socket
 * having been bound first so that nothing after S can be missed, or empty
 * at sequence number 0, every message then coming from the request server
 * (which works while its history still holds message 1).
 */
#ifndef BOURSE_FEED_UDPCLIENT_H
#define BOURSE_FEED_UDPCLIENT_H

#include "feed/client.h"
#include "feed/mold.h"

#include <netinet/in.h>

typedef struct udp_client {
    int fd;                             /* bound to the feed's address */
    int rfd;                            /* requests go out from it, answers come back to it */
    struct sockaddr_in req;             /* the request server */
    follower *fw;                       /* the book (the caller's) */
    char session[MOLD_SESSION_LEN + 1]; /* "" until known: requests then ask for the current one */
    uint64_t next;                      /* next message to apply */
    uint64_t known;                     /* every message below this exists (packets and heartbeats say so) */
    int caught_up;                      /* a heartbeat named `next`: nothing was missing then */
    int ended;                          /* End of Session seen */
    int no_fill;                        /* test flag: never ask for missing messages */
    uint32_t drop_every;                /* test flag: drop every Nth datagram received */
    uint64_t datagrams, dropped, dups, bad, requests;
    uint64_t req_seq, req_end; /* the last request: [req_seq, req_end) */
    int64_t req_us;
    uint32_t chunk;           /* messages asked for at a time */
    uint8_t (*win)[ITCH_MAX]; /* messages that came before their turn, by seq % UDPC_WINDOW */
    uint8_t *wlen;
    uint64_t *wseq;
    uint8_t buf[MOLD_MAX_DATAGRAM + 1];
} udp_client;

/* Bind to feed_addr ("A.B.C.D:PORT": this host's unicast address, or a
 * multicast group joined on the loopback interface) and aim requests at
 * req_addr.  The book and starting point come later (udp_client_start),
 * so a caller can bind first and take a TCP snapshot after.  0, or -1 with
 * a reason in err. */
int udp_client_open(udp_client *c, const char *feed_addr, const char *req_addr, char *err, size_t errlen);
/* Apply messages from after_seq on to fw (after its snapshot at after_seq,
 * or empty at 0); session may be NULL (learnt from the first datagram). */
void udp_client_start(udp_client *c, follower *fw, uint64_t after_seq, const char *session);
void udp_client_close(udp_client *c);

/* Wait up to timeout_ms, take what arrived, apply what is in order (fn is
 * called before each message is applied, may be NULL), ask for what is
 * missing.  1 when something arrived, 0 on timeout, -1 once the session has
 * ended and every message of it has been applied. */
int udp_client_poll(udp_client *c, int timeout_ms, feed_client_fn fn, void *ctx);

#endif
