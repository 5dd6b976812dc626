/*
 * client.h - a subscriber of the binary feed over TCP, for `bourse feed` and
 * the tests: log in, take the snapshot, then follow the sequenced messages,
 * building the book (follow.h) as it goes.  Blocking sockets, one thread.
 */
#ifndef BOURSE_FEED_CLIENT_H
#define BOURSE_FEED_CLIENT_H

#include "feed/follow.h"

#include <stddef.h>
#include <stdint.h>

typedef struct feed_client {
    int fd;
    follower fw;
    char session[11];
    uint64_t next_seq;   /* of the next sequenced message */
    uint64_t heartbeats; /* server heartbeats seen; the first means "caught up" */
    int logged_in, ended;
    uint64_t bad;         /* messages that did not decode or fit */
    uint64_t resume_seq;  /* feed_client_resume: the seq asked for, until Login Accepted */
    uint64_t resnapshots; /* resumes the server answered with a snapshot instead */
    uint8_t buf[1 << 16];
    size_t len;
} feed_client;

/* Called for every message, before it is applied to c->fw; sequenced is 0
 * for snapshot messages. */
typedef void (*feed_client_fn)(void *ctx, const itch_msg *m, int sequenced, uint64_t seq);

/* Connect and log in asking for message `seq` next (0: snapshot).
 * Returns 0, or -1 with a reason in err. */
int feed_client_open(feed_client *c, const char *host, int port, uint64_t seq, char *err, size_t errlen);
void feed_client_close(feed_client *c);

/* The connection was lost: connect again (to host:port, the same server or
 * another) and log in to the same session asking for c->next_seq, keeping
 * the book.  The server resumes from there when it still holds that
 * message (the feed's numbering goes on across its restarts,
 * src/feed/persist.c); else it sends a snapshot, and the book is built
 * anew from it (resnapshots counts those).  0, or -1 with err. */
int feed_client_resume(feed_client *c, const char *host, int port, char *err, size_t errlen);

/* Wait up to timeout_ms for data and apply what arrived (fn may be NULL).
 * Returns 1 when something was read, 0 on timeout, -1 when the connection
 * ended (c->ended tells an orderly End of Session) or broke. */
int feed_client_poll(feed_client *c, int timeout_ms, feed_client_fn fn, void *ctx);

#endif
