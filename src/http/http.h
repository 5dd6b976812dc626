/*
 * http.h - the HTTP/JSON API (/api/v1, docs/http.md, docs/openapi.yaml) and
 * the browser-facing side of the server, on the market-data feed's
 * libwebsockets vhost (http_port).
 *
 * Where it runs.  libwebsockets serves the web page, the market-data
 * WebSocket (src/feed/ws.c, unchanged) and this API from one event loop on
 * the feed's thread; the feed takes this component's protocols and mounts
 * through feed_config (http_protocols, http_mounts, http_headers), so the
 * feed does not know the API and the API reads market data through the
 * feed's public calls (feed_api_*), on the same thread, without locks.
 *
 * Order entry is an adapter like FIX: each trader with a browser session or
 * an API key gets one SoupBinTCP/OUCH session into the gateway, over a
 * unix socket the server trusts (`[data]/api.sock`, mode 0600, a login
 * there needs no password since this component authenticated the user), so
 * an order goes through the same gateway, rate limits, engine and journal
 * as OUCH and FIX, and its answer comes from its report, which the gateway
 * releases only once the command is durable.  See oelink.c and orders.c.
 *
 * Extending it.  Another part of the server (accounts, say) adds endpoints
 * with http_route() before the feed starts; a handler runs on the feed's
 * thread, must not block, and answers with http_reply/http_json_* /
 * http_error, now or later (return HTTP_LATER, keep the request's ticket
 * (http_ticket) and answer through http_ticket_req when its result comes;
 * NULL then means the client has gone).
 */
#ifndef BOURSE_HTTP_H
#define BOURSE_HTTP_H

#include "http/json.h"

#include <stddef.h>
#include <stdint.h>

typedef struct http_server http_server;
typedef struct http_req http_req;
struct feed;

typedef struct http_config {
    struct feed *feed;      /* market data (public endpoints) */
    const char *data_dir;   /* API keys file; the order-entry socket */
    const char *order_sock; /* the trusted unix socket into the gateway; NULL = no order entry */
    const char *openapi;    /* path of docs/openapi.yaml, NULL = not served */
    int tls;                /* cookies get Secure */
    uint32_t body_max;      /* JSON bodies, bytes (65,536) */
    uint32_t upload_max;    /* routes flagged HTTP_UPLOAD (5 MiB) */
    uint32_t rate_ip;       /* requests per second per address (50), burst 2x */
    uint32_t rate_key;      /* requests per second per API key or session (20), burst 2x */
    uint32_t login_fails;   /* failed logins per account or address before LOCKED (5) */
    uint32_t login_lock_s;  /* how long LOCKED lasts (300) */
    uint32_t session_s;     /* idle browser session lifetime (3600) */
    uint32_t workers;       /* threads for argon2id and documents' fsync (2) */
    uint32_t work_queue;    /* such jobs at once, waiting or running, before 503 (64) */
    uint32_t nonces;        /* signed requests' nonce cache entries (65,536) */
    int quiet;
} http_config;

http_server *http_new(const http_config *cfg);
void http_free(http_server *h);
/* The market data, when made after the API (before the feed starts). */
void http_set_feed(http_server *h, struct feed *f);

/* For feed_config: the protocols (a NULL-terminated struct lws_protocols
 * array), the mounts (struct lws_http_mount chain, /api/v1 and /metrics)
 * and the headers of every answer (struct lws_protocol_vhost_options: the
 * content security policy and friends). */
const void *http_protocols(http_server *h);
const void *http_mounts(http_server *h);
const void *http_headers(http_server *h);

/* /metrics: the server registers a function that writes the exposition
 * text into buf (at most cap bytes) and returns its length. */
typedef size_t (*http_metrics_fn)(void *ctx, char *buf, size_t cap);
void http_set_metrics(http_server *h, http_metrics_fn fn, void *ctx);

/* Accounts (accounts.c, docs/accounts.md): the server's admin socket
 * (DATA/admin.sock), through which account commands and questions go, and
 * a lookup of a signed-up account's argon2id hash (any thread; 1 with the
 * hash, 0 when none) for web logins.  Without it the account endpoints
 * answer 503. */
typedef int (*http_acct_hash_fn)(void *ctx, const char *user, char *hash, size_t size);
void http_set_accounts(http_server *h, const char *admin_sock, http_acct_hash_fn fn, void *ctx);

/* What the API checks at every request and pushes on the private
 * WebSocket: an account's state (enum bourse_account_state), role, last
 * reason and a version that goes up at each change of the account (1 with
 * them, 0 for a user without account: DATA/passwords users), and a
 * counter of all changes (any thread).  Without it roles are those of the
 * login. */
typedef struct http_acct_status {
    int state, operator_role;
    uint64_t version;
    char reason[256];
} http_acct_status;
typedef int (*http_acct_status_fn)(void *ctx, const char *user, http_acct_status *out);
typedef uint64_t (*http_acct_gen_fn)(void *ctx);
void http_set_account_status(http_server *h, http_acct_status_fn fn, http_acct_gen_fn gen, void *ctx);

/* --- routes -------------------------------------------------------------- */

enum {
    HTTP_PUBLIC = 0,
    HTTP_AUTH = 1,     /* a browser session or a signed API-key request; else 401 */
    HTTP_OPERATOR = 2, /* the user's role is operator; else 403 FORBIDDEN */
    HTTP_UPLOAD = 4,   /* the body may be up to upload_max rather than body_max */
    HTTP_NO_KEY = 8,   /* a browser session only (creating API keys) */
};
enum { HTTP_DONE = 0, HTTP_LATER = 1 };

typedef int (*http_handler)(http_server *h, http_req *r);
/* Pattern as router.h: "/api/v1/orders/{id}".  0, or -1 (table full). */
int http_route(http_server *h, const char *method, const char *pattern, uint32_t flags, http_handler fn);

/* --- the request ----------------------------------------------------------- */

const char *http_method(const http_req *r);
const char *http_path(const http_req *r);
const char *http_arg(const http_req *r, int i); /* the pattern's {args}, in order */
/* The query parameter's value (URL-decoded) into buf: 1, or 0 when absent. */
int http_query(const http_req *r, const char *name, char *buf, size_t cap);
const uint8_t *http_body(const http_req *r, size_t *len);
/* The content type the client sent ("" if none). */
const char *http_content_type(http_req *r);
/* Parse the body as one flat JSON object; -1 after answering 400 BAD_JSON. */
int http_body_json(http_req *r, hj_obj *o);
/* The authenticated user ("" when none), and whether they are an operator. */
const char *http_user(const http_req *r);
int http_is_operator(const http_req *r);
uint32_t http_ip(const http_req *r); /* IPv4, network order; 0 for others */

/* Mark the session of this request's user as an operator (1) or not: the
 * accounts part knows roles, this part only keeps them. */
void http_set_role(http_req *r, int operator_);
/* Start a browser session for user on this request's answer: the
 * bourse_session and bourse_csrf cookies. */
int http_session_start(http_server *h, http_req *r, const char *user, int operator_);

/* --- answers --------------------------------------------------------------- */

void http_reply(http_req *r, int status, const char *content_type, const void *body, size_t len);
/* Begin a JSON answer: a writer over the request's answer buffer. */
hj_w *http_json(http_req *r);
/* Send what the writer holds, with status (500 if it overflowed). */
void http_json_send(http_req *r, int status);
/* {"error":{"code":code,"message":...}} with status. */
void http_error(http_req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An extra header line on the answer ("Set-Cookie: ..."), before replying. */
void http_add_header(http_req *r, const char *name, const char *value);

/* Answers that come later: a ticket names the request while it waits. */
typedef uint64_t http_ticket;
http_ticket http_ticket_of(http_req *r);
http_req *http_ticket_req(http_server *h, http_ticket t); /* NULL: the client has gone */

#endif
