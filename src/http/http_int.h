/*
 * http_int.h - what the files of src/http share: the server's state and a
 * request's (http.h is the component's public face).
 */
#ifndef BOURSE_HTTP_INT_H
#define BOURSE_HTTP_INT_H

#include "http/auth.h"
#include "http/http.h"
#include "http/router.h"
#include "http/work.h"

#include <libwebsockets.h>

enum { HTTP_PATH = 256, HTTP_QUERY = 512, HTTP_HDR_ROOM = 2048, HTTP_OUT_MAX = 1 << 20 };

struct oe; /* oelink.c, orders.c (orders_int.h) */

struct http_req {
    http_server *h;
    struct lws *wsi;
    int live; /* between LWS_CALLBACK_HTTP and the close */
    char method[8];
    char path[HTTP_PATH]; /* URL-decoded, without the query */
    char query[HTTP_QUERY];
    char ctype[64];
    const route *rt;
    route_args args;
    uint32_t ip;
    uint8_t *body;
    size_t blen, bmax, bwant;
    int too_large, dispatched;
    /* who: AUTH_NONE, AUTH_COOKIE, AUTH_KEY */
    int auth;
    char user[AUTH_USER + 1];
    int op;
    uint32_t sess; /* cookie session slot + 1 */
    /* the answer */
    int status, replied, later;
    char rtype[48];
    char *out; /* LWS_PRE + body */
    size_t olen, ocap;
    hj_w w;
    char extra[768]; /* header lines "name\0value\0" pairs */
    size_t elen;
    http_ticket ticket;
};

struct http_server {
    http_config cfg;
    router rt;
    struct lws_protocols protocols[5];
    struct lws_http_mount mounts[2];
    struct lws_protocol_vhost_options hdrs[6];
    struct lws_vhost *vh;
    struct lws_context *ctx;
    lws_sorted_usec_list_t tick;
    http_metrics_fn metrics;
    void *metrics_ctx;
    auth_state *auth;
    work_pool *work; /* argon2id and fsync off the loop (work.h) */
    struct oe *oe;
    /* accounts.c: the admin socket, and the signed-up accounts' hashes */
    char admin_sock[256];
    http_acct_hash_fn acct_hash;
    void *acct_ctx;
    http_acct_status_fn acct_status;
    http_acct_gen_fn acct_gen;
    void *status_ctx;
    uint64_t seen_gen; /* userws.c: the changes already pushed */
    char *openapi;     /* the file, read at start */
    size_t openapi_len;
    /* requests waiting for a later answer (tickets) */
    struct pend {
        http_ticket t;
        http_req *r;
    } * pend;
    uint32_t npend, pend_cap;
    http_ticket next_ticket;
};

void http_log(const http_server *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int64_t http_now_ms(void);

/* market.c, orders.c, session.c: their routes; oelink.c: the links into the gateway */
int market_routes(http_server *h);
int session_routes(http_server *h);
int oe_routes(http_server *h);
struct oe *oe_new(http_server *h);
void oe_free(struct oe *o);
void oe_tick(struct oe *o);
extern const struct lws_protocols oe_protocol; /* the raw sockets into the gateway */
/* session.c's login through the gateway's password check (orders.c); a
 * user name or an order id: 1-16 of A-Z a-z 0-9 _ - (oelink.c; bourse.h's
 * names, AUTH_USER = BOURSE_NAME_LEN) */
int oe_login(http_server *h, http_req *r, const char *user, const char *password);
int oe_id_ok(const char *s, size_t n);
extern const struct lws_protocols user_ws_protocol; /* /api/v1/ws */
/* userws.c: every tick, the account changes to push (and suspended
 * users' sockets to close); a user's balances to push (orders.c) */
void userws_tick(http_server *h);
void userws_order(http_server *h, const char *user, const char *json, size_t n);
int userws_listening(http_server *h, const char *user);
int oe_push_balances(http_server *h, const char *user);
/* accounts.c */
int acct_routes(http_server *h);
extern const struct lws_protocols acct_protocol; /* the admin socket's calls */
/* A signed-up account's login: -1 when user has none (the gateway's check
 * then), else HTTP_DONE or HTTP_LATER. */
int acct_login(http_server *h, http_req *r, const char *u, size_t ul, const char *p, size_t pl);

#endif
