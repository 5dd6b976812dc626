/*
 * orders_int.h - what the two halves of order entry share: the links into
 * the gateway and what each remembers (oelink.c), and the endpoints that
 * use them (orders.c).  See oelink.c for why a link, and orders.c for the
 * requests.
 */
#ifndef BOURSE_HTTP_ORDERS_INT_H
#define BOURSE_HTTP_ORDERS_INT_H

#include "http/http_int.h"

#include "http/linkcarrier.h"
#include "net/ouch.h"

enum { LINK_BUCKETS = 8192 }; /* the links by user name: a power of two */
/* LINKS_MAX: slots of the link carrier (linkcarrier.c), whose descriptor
 * table of its own holds one socket per link up to its open-file limit;
 * LINK_OUT_MAX: bytes a link may have waiting to be sent before the carrier
 * closes it as slow; LINK_UP_MAX: bytes read from the links waiting for the
 * HTTP thread before the carrier stops reading. */
enum { LINKS_MAX = 32768, LINK_OUT_MAX = 1 << 20, LINK_UP_MAX = 16 << 20 };
enum { WAITS = 64, PARKED = 64, QUERIES = 32, ORD_MAX = 1000, FILL_MAX = 1000 };
enum { L_LOGIN = 1, L_LIVE, L_DEAD };
enum { W_LOGIN = 1, W_NEW, W_CANCEL, W_REPLACE };
enum { Q_BALANCES = 1, Q_OPEN, Q_PUSH }; /* Q_PUSH: balances for the private WebSocket */
enum { S_OPEN = 1, S_FILLED, S_CANCELED, S_REJECTED, S_REPLACED };
static const char *const status_names[] = {"?", "open", "filled", "canceled", "rejected", "replaced"};
enum { LINK_IN = 16384, LINK_IDLE_MS = 600000 }; /* LINK_IN: many whole packets (73 bytes at most) */

typedef struct ord {
    bourse_name token;
    char sym[BOURSE_SYMBOL_LEN + 1];
    uint8_t side, tif, status;
    int64_t qty, price, filled, time_ms;
} ord;

typedef struct fill {
    bourse_name token;
    char sym[BOURSE_SYMBOL_LEN + 1];
    uint8_t side, liq;
    int64_t qty, price, time_ms;
} fill;

typedef struct wait {
    http_ticket t;
    uint8_t kind, status, reason, done;
    bourse_name token;
    bourse_name old; /* a replace: its refusal may name the old id */
    int64_t filled, canceled;
} wait;

typedef struct olink {
    struct oe *o;
    struct olink *hnext; /* in its user's bucket (struct oe) */
    char user[AUTH_USER + 1];
    uint64_t id;                                 /* in the link carrier: slot (low 32 bits) and generation */
    int state, ready, primary, ask_query, moved; /* moved: reports since the last balance push */
    uint8_t in[LINK_IN];
    size_t inlen;
    wait w[WAITS];
    int nw;
    http_ticket parked[PARKED];
    int nparked;
    struct q {
        http_ticket t;
        uint8_t kind;
    } q[QUERIES];
    int nq, q_sent;
    hj_w qw; /* the answer of the query in flight, built as its records come */
    char *qbuf;
    int qn;
    ord ords[ORD_MAX];
    uint32_t nords; /* ever: ords holds the last ORD_MAX */
    fill fills[FILL_MAX];
    uint32_t nfills;
    int64_t last_use, last_sent;
} olink;

struct oe {
    http_server *h;
    olink *links[LINKS_MAX];
    olink *bucket[LINK_BUCKETS]; /* the same links by a hash of the user's name */
    uint32_t nlinks;
    uint64_t next_id;
    /* the link carrier (linkcarrier.c) and the links by its slots */
    link_carrier *lc;
    struct lws *wake; /* its eventfd, adopted as a raw file: readable = something to drain */
    int wake_fd, lc_failed;
    olink *slot[LINKS_MAX];
    uint32_t gen[LINKS_MAX];
    uint32_t free_slot[LINKS_MAX], nfree;
};

/* oelink.c: names and ids */
void oe_name_set(bourse_name *n, const char *s);
void oe_put_name(hj_w *w, const char *s, size_t max);
int oe_symbol_ok(const char *s, size_t n); /* 1-8 of A-Z 0-9 . */
void oe_new_id(struct oe *o, bourse_name *out);
/* oelink.c: links */
olink *oe_link_find(struct oe *o, const char *user);  /* the user's live primary link, or NULL */
olink *oe_link_login(struct oe *o, const char *user); /* the user's primary link still logging in */
olink *oe_link_open(struct oe *o, const char *user, const char *password); /* NULL password: trusted */
void oe_link_send(olink *l, const void *p, size_t n);
void oe_put_ord(hj_w *w, const ord *x);
wait *oe_wait_of(olink *l, const bourse_name *token); /* the request in flight for token, or NULL */
void oe_query_next(olink *l);                         /* send the next account query if none is in flight */
void oe_ask_push(olink *l);                           /* balances for the private WebSocket, once */

#endif
