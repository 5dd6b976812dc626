/*
 * endpoints.h - the servers a client may talk to, and how it goes round
 * them when one goes away: `bourse client`, `bourse load` and `bourse
 * feed` take `--connect HOST:PORT[,HOST:PORT...]` (the option may be
 * repeated) and use these.
 *
 * Why a list: a venue runs more than one server (a Raft cluster's nodes, a
 * standby), and which one serves is not the client's to know in advance.
 * A client connects to the first; when that connection fails or the server
 * goes away it tries the others at once (a Raft cluster's next leader is
 * one of them, and serves within about an election timeout: a wait before
 * each try only adds to the failover a client sees), and only after a
 * whole round failed waits, doubling from 10 ms to 250 ms (so a restarting
 * server or a new leader is found within a quarter of a second of being
 * there, and a dead venue gets a few tries a second, not a flood).  A round
 * in which a server answered but refused the session (a Raft follower
 * while its cluster elects a leader: alive, about to serve or to name the
 * one that does) waits only 10 ms, for ENDPOINTS_FAST_ROUNDS rounds, so a
 * leader that starts serving 200 ms after the last one died is found
 * within 10 ms, not at the next step of a doubling wait (which added
 * 60 ms at the median to the failover a client saw).  What it resumes is
 * the protocol's business: order entry logs in again with its next
 * expected sequence number (docs/protocol.md), the feed likewise.
 *
 * An entry is kept as text, "HOST:PORT"; HOST is an IPv4 address for the
 * order-entry clients (tcp_connect), a name too for the feed's.
 */
#ifndef BOURSE_NET_ENDPOINTS_H
#define BOURSE_NET_ENDPOINTS_H

#include <stddef.h>
#include <stdint.h>

enum { ENDPOINTS_MAX = 16, ENDPOINT_HOST_MAX = 256, ENDPOINTS_FAST_ROUNDS = 200 };

typedef struct endpoint {
    char host[ENDPOINT_HOST_MAX];
    uint16_t port;
} endpoint;

typedef struct endpoints {
    endpoint e[ENDPOINTS_MAX];
    int n;
    int at;         /* the one in use, or to try next */
    int backoff_ms; /* the wait before the next round */
    int tried;      /* tries since the last wait: a round is n */
    int answered;   /* a server answered in this round (endpoints_answered) */
    int fast;       /* short waits taken since the last session */
} endpoints;

/* Add "HOST:PORT[,HOST:PORT...]" (port 1-65535).
 * 0, or -1 with why set (a bad entry, or more than ENDPOINTS_MAX). */
int endpoints_add(endpoints *l, const char *list, const char **why);

/* Add one host and port (the older --host H --order-port P options). */
int endpoints_add_one(endpoints *l, const char *host, int port, const char **why);

/* Connect (blocking TCP) to the current endpoint, then the next ones, a
 * round at most; -1 when none answered (errno from the last), after which
 * the caller waits endpoints_wait_ms() and tries again. */
int endpoints_connect(endpoints *l);

/* How long to wait before the next try: 0 until a whole round of
 * addresses was tried, then the round's wait (10 ms after a round in which
 * a server answered, at most ENDPOINTS_FAST_ROUNDS times; else doubling
 * each round, 10 ms to 250 ms; back to none once a session worked:
 * endpoints_ok). */
int endpoints_wait_ms(endpoints *l);

/* The current endpoint answered (connected) but refused the session:
 * the round's wait is the short one (see above). */
void endpoints_answered(endpoints *l);
/* A session was established on the current endpoint: the next failure
 * starts from the short wait again. */
void endpoints_ok(endpoints *l);

/* The one in use: "HOST:PORT" into buf. */
const char *endpoints_name(const endpoints *l, char *buf, size_t n);

/* The current one failed: move on to the next. */
void endpoints_next(endpoints *l);

#endif
