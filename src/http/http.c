/*
 * http.c - the API's HTTP side on libwebsockets: a request's life from its
 * headers to its answer, and what every request goes through.
 *
 * A request under /api/v1 (or /metrics) comes to protocol "bourse-api"
 * (an LWSMPRO_CALLBACK mount).  At its headers: the method and path are
 * matched (404 NOT_FOUND, 405), the address's rate limit is checked (429
 * RATE_LIMITED), a body is announced by Content-Length only (chunked
 * bodies are refused, 411) and refused at once past the route's limit (413
 * TOO_LARGE: body_max for JSON, upload_max for uploads); the body is read
 * into one buffer of the announced size.  Then who is asking: a signed
 * request (X-Bourse-Key...) or the bourse_session cookie; a POST or DELETE
 * with the cookie must carry X-CSRF-Token equal to its bourse_csrf (403
 * CSRF); then the key's or session's own rate limit, the operator check and
 * the handler.  A handler answers now or later (a ticket, http.h); the
 * answer is written when the socket can take it, with the security headers
 * (http_headers: a strict content security policy, nosniff, no framing, no
 * referrer, no caching of API answers).
 */
#include "http/http_int.h"

#include "bourse/account.h"
#include "http/auth.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static const struct {
    enum lws_token_indexes tok;
    const char *name;
} methods[] = {
    {WSI_TOKEN_GET_URI, "GET"},   {WSI_TOKEN_POST_URI, "POST"},   {WSI_TOKEN_DELETE_URI, "DELETE"},
    {WSI_TOKEN_PUT_URI, "PUT"},   {WSI_TOKEN_PATCH_URI, "PATCH"}, {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
    {WSI_TOKEN_HEAD_URI, "HEAD"},
};

void http_log(const http_server *h, const char *fmt, ...)
{
    if (h->cfg.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "http: %s\n", line);
}

int64_t http_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- the request API (http.h) ------------------------------------------------ */

const char *http_method(const http_req *r)
{
    return r->method;
}
const char *http_path(const http_req *r)
{
    return r->path;
}
const char *http_arg(const http_req *r, int i)
{
    return i >= 0 && i < r->args.n ? r->args.v[i] : "";
}
const uint8_t *http_body(const http_req *r, size_t *len)
{
    *len = r->blen;
    return r->body ? r->body : (const uint8_t *)"";
}
const char *http_content_type(http_req *r)
{
    return r->ctype;
}
const char *http_user(const http_req *r)
{
    return r->user;
}
int http_is_operator(const http_req *r)
{
    return r->op;
}
uint32_t http_ip(const http_req *r)
{
    return r->ip;
}

int http_query(const http_req *r, const char *name, char *buf, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = r->query; *p;) {
        size_t k = strcspn(p, "&");
        if (k > nl && !memcmp(p, name, nl) && p[nl] == '=') {
            size_t vl = k - nl - 1;
            if (vl >= cap)
                vl = cap - 1;
            memcpy(buf, p + nl + 1, vl);
            buf[vl] = 0;
            return 1;
        }
        p += k;
        if (*p == '&')
            p++;
    }
    return 0;
}

int http_body_json(http_req *r, hj_obj *o)
{
    const char *why;
    if (strncmp(r->ctype, "application/json", 16) != 0 || (r->ctype[16] && r->ctype[16] != ';')) {
        http_error(r, 415, "BAD_JSON", "Content-Type must be application/json");
        return -1;
    }
    if (hj_parse((const char *)(r->body ? r->body : (uint8_t *)""), r->blen, o, &why) != 0) {
        http_error(r, 400, "BAD_JSON", "the body is not a JSON object this API takes: %s", why);
        return -1;
    }
    return 0;
}

void http_set_role(http_req *r, int operator_)
{
    r->op = operator_ != 0;
    if (r->sess)
        auth_session_set_op(r->h->auth, r->sess, r->op);
}

void http_add_header(http_req *r, const char *name, const char *value)
{
    size_t a = strlen(name) + 1, b = strlen(value) + 1;
    if (r->elen + a + b > sizeof r->extra)
        return;
    memcpy(r->extra + r->elen, name, a);
    memcpy(r->extra + r->elen + a, value, b);
    r->elen += a + b;
}

int http_session_start(http_server *h, http_req *r, const char *user, int operator_)
{
    char token[AUTH_TOKEN_HEX + 1], csrf[AUTH_TOKEN_HEX + 1], v[256];
    uint32_t s = auth_session_new(h->auth, user, operator_, http_now_ms(), token, csrf);
    if (!s)
        return -1;
    const char *sec = h->cfg.tls ? "; Secure" : "";
    snprintf(v, sizeof v, "bourse_session=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%u%s", token,
             h->cfg.session_s, sec);
    http_add_header(r, "set-cookie:", v);
    snprintf(v, sizeof v, "bourse_csrf=%s; SameSite=Strict; Path=/; Max-Age=%u%s", csrf, h->cfg.session_s,
             sec);
    http_add_header(r, "set-cookie:", v);
    r->sess = s;
    r->auth = AUTH_COOKIE;
    snprintf(r->user, sizeof r->user, "%s", user);
    r->op = operator_;
    return 0;
}

/* ---- answers ----------------------------------------------------------------- */

static int out_room(http_req *r, size_t n)
{
    if (n > HTTP_OUT_MAX)
        return -1;
    if (r->ocap >= n)
        return 0;
    char *o = realloc(r->out, LWS_PRE + n + 1);
    if (!o)
        return -1;
    r->out = o;
    r->ocap = n;
    return 0;
}

void http_reply(http_req *r, int status, const char *content_type, const void *body, size_t len)
{
    if (r->replied || !r->live)
        return;
    if (out_room(r, len) != 0) {
        status = 500;
        content_type = "application/json";
        body = "{\"error\":{\"code\":\"INTERNAL\",\"message\":\"answer too large\"}}";
        len = strlen(body);
        out_room(r, len);
    }
    if (r->out && body != r->out + LWS_PRE)
        memmove(r->out + LWS_PRE, body, len);
    r->olen = len;
    r->status = status;
    snprintf(r->rtype, sizeof r->rtype, "%s", content_type);
    r->replied = 1;
    lws_callback_on_writable(r->wsi);
}

hj_w *http_json(http_req *r)
{
    out_room(r, 64 * 1024);
    r->w = (hj_w){.p = r->out ? r->out + LWS_PRE : NULL, .cap = r->out ? r->ocap : 0, .full = !r->out};
    return &r->w;
}

void http_json_send(http_req *r, int status)
{
    if (r->w.full) {
        http_error(r, 500, "INTERNAL", "the answer did not fit");
        return;
    }
    http_reply(r, status, "application/json", r->out + LWS_PRE, r->w.len);
}

void http_error(http_req *r, int status, const char *code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char buf[600];
    hj_w w = {.p = buf, .cap = sizeof buf};
    hj_printf(&w, "{\"error\":{\"code\":");
    hj_string(&w, code, strlen(code));
    hj_printf(&w, ",\"message\":");
    hj_string(&w, msg, strlen(msg));
    hj_printf(&w, "}}");
    if (status == 429 || status == 503)
        http_add_header(r, "retry-after:", "1");
    http_reply(r, status, "application/json", buf, w.len);
}

static int write_answer(http_req *r)
{
    uint8_t hdr[LWS_PRE + HTTP_HDR_ROOM], *start = hdr + LWS_PRE, *p = start,
                                          *end = start + HTTP_HDR_ROOM - 1;
    struct lws *wsi = r->wsi;
    if (lws_add_http_common_headers(wsi, (unsigned)r->status, r->rtype, r->olen, &p, end))
        return -1;
    /* the vhost adds the security headers to every answer (http_headers) */
    if (lws_add_http_header_by_name(wsi, (const uint8_t *)"cache-control:", (const uint8_t *)"no-store", 8,
                                    &p, end))
        return -1;
    for (size_t off = 0; off < r->elen;) {
        const char *n = r->extra + off, *v = n + strlen(n) + 1;
        if (lws_add_http_header_by_name(wsi, (const uint8_t *)n, (const uint8_t *)v, (int)strlen(v), &p, end))
            return -1;
        off += strlen(n) + strlen(v) + 2;
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    if (r->olen && lws_write(wsi, (uint8_t *)r->out + LWS_PRE, r->olen, LWS_WRITE_HTTP_FINAL) != (int)r->olen)
        return -1;
    return 0;
}

/* ---- tickets --------------------------------------------------------------------- */

http_ticket http_ticket_of(http_req *r)
{
    http_server *h = r->h;
    if (r->ticket)
        return r->ticket;
    if (h->npend == h->pend_cap) {
        uint32_t n = h->pend_cap ? h->pend_cap * 2 : 64;
        struct pend *p = realloc(h->pend, n * sizeof *p);
        if (!p)
            return 0;
        h->pend = p;
        h->pend_cap = n;
    }
    r->ticket = ++h->next_ticket;
    h->pend[h->npend++] = (struct pend){.t = r->ticket, .r = r};
    return r->ticket;
}

http_req *http_ticket_req(http_server *h, http_ticket t)
{
    for (uint32_t i = 0; i < h->npend; i++)
        if (h->pend[i].t == t)
            return h->pend[i].r;
    return NULL;
}

static void ticket_drop(http_req *r)
{
    http_server *h = r->h;
    if (!r->ticket || !h)
        return;
    for (uint32_t i = 0; i < h->npend; i++)
        if (h->pend[i].t == r->ticket) {
            h->pend[i] = h->pend[--h->npend];
            break;
        }
    r->ticket = 0;
}

/* ---- one request ------------------------------------------------------------------ */

static void req_end(http_req *r)
{
    ticket_drop(r);
    free(r->body);
    free(r->out);
    r->body = NULL;
    r->out = NULL;
    r->ocap = r->olen = 0;
    r->live = 0;
}

static void hdr(struct lws *wsi, enum lws_token_indexes t, char *buf, size_t n)
{
    buf[0] = 0;
    if (lws_hdr_total_length(wsi, t) > 0 && lws_hdr_copy(wsi, buf, (int)n, t) < 0)
        buf[0] = 0;
}

static void custom(struct lws *wsi, const char *name, char *buf, size_t n)
{
    buf[0] = 0;
    int len = lws_hdr_custom_length(wsi, name, (int)strlen(name));
    if (len <= 0 || (size_t)len >= n || lws_hdr_custom_copy(wsi, buf, (int)n, name, (int)strlen(name)) < 0)
        buf[0] = 0;
}

/* The request's query as a&b, from lws's URL-decoded fragments. */
static void read_query(http_req *r)
{
    size_t off = 0;
    r->query[0] = 0;
    for (int i = 0; i < 16; i++) {
        char f[256];
        if (lws_hdr_copy_fragment(r->wsi, f, sizeof f, WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
            break;
        int n = snprintf(r->query + off, sizeof r->query - off, "%s%s", off ? "&" : "", f);
        if (n < 0 || (size_t)n >= sizeof r->query - off)
            break;
        off += (size_t)n;
    }
}

static uint32_t peer_ip(struct lws *wsi)
{
    struct sockaddr_storage a;
    socklen_t al = sizeof a;
    int fd = lws_get_socket_fd(wsi);
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&a, &al) != 0 || a.ss_family != AF_INET)
        return 0;
    return ((struct sockaddr_in *)&a)->sin_addr.s_addr;
}

/* Who is asking: 0 with r->auth set (or none), -1 after answering. */
static int authenticate(http_server *h, http_req *r)
{
    char id[AUTH_KEY_ID + 8], ts[32], nonce[80], sig[AUTH_SECRET_HEX + 8];
    custom(r->wsi, "x-bourse-key:", id, sizeof id);
    if (id[0]) {
        custom(r->wsi, "x-bourse-timestamp:", ts, sizeof ts);
        custom(r->wsi, "x-bourse-nonce:", nonce, sizeof nonce);
        custom(r->wsi, "x-bourse-signature:", sig, sizeof sig);
        char pq[HTTP_PATH + HTTP_QUERY + 2];
        snprintf(pq, sizeof pq, "%s%s%s", r->path, r->query[0] ? "?" : "", r->query);
        int v = auth_key_check(h->auth, id, ts, nonce, sig, r->method, pq, r->body, r->blen, http_now_ms(),
                               r->user);
        switch (v) {
        case SIG_OK: r->auth = AUTH_KEY; return 0;
        case SIG_UNKNOWN_KEY: http_error(r, 401, "UNAUTHORIZED", "unknown API key"); return -1;
        case SIG_STALE:
            http_error(r, 401, "STALE_REQUEST",
                       "X-Bourse-Timestamp must be Unix milliseconds within 30 s of the server's clock");
            return -1;
        case SIG_BAD_NONCE:
            http_error(r, 401, "BAD_SIGNATURE", "X-Bourse-Nonce must be 8-64 of A-Z a-z 0-9 - _");
            return -1;
        case SIG_REPLAYED: http_error(r, 401, "REPLAYED", "this nonce was used already"); return -1;
        case SIG_BUSY: http_error(r, 429, "RATE_LIMITED", "too many signed requests at once"); return -1;
        default: http_error(r, 401, "BAD_SIGNATURE", "the signature does not match the request"); return -1;
        }
    }
    char tok[AUTH_TOKEN_HEX + 8];
    size_t tl = sizeof tok;
    if (lws_http_cookie_get(r->wsi, "bourse_session", tok, &tl) == 0) {
        tok[tl < sizeof tok ? tl : sizeof tok - 1] = 0;
        uint32_t s = auth_session_find(h->auth, tok, http_now_ms());
        if (s) {
            r->sess = s;
            r->auth = AUTH_COOKIE;
            snprintf(r->user, sizeof r->user, "%s", auth_session_user(h->auth, s));
            r->op = auth_session_op(h->auth, s);
            if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
                char csrf[AUTH_TOKEN_HEX + 8];
                custom(r->wsi, "x-csrf-token:", csrf, sizeof csrf);
                if (!auth_session_csrf(h->auth, s, csrf)) {
                    http_error(r, 403, "CSRF", "X-CSRF-Token must carry the bourse_csrf cookie's value");
                    return -1;
                }
            }
        }
    }
    return 0;
}

/* The account as it is now, at every request (not as it was at login): its
 * role, and a closed account's session ends, a suspended one may only read
 * /me and log out.  0 to go on, -1 after answering. */
static int account_gate(http_server *h, http_req *r)
{
    http_acct_status st;
    if (!h->acct_status || !h->acct_status(h->status_ctx, r->user, &st))
        return 0; /* no account (DATA/passwords): the login's role */
    http_set_role(r, st.operator_role);
    if (st.state == BOURSE_AS_CLOSED) {
        if (r->auth == AUTH_COOKIE)
            auth_session_end(h->auth, r->sess);
        http_error(r, 403, "NOT_ACTIVE", "this account is closed");
        return -1;
    }
    if (st.state == BOURSE_AS_SUSPENDED && strcmp(r->path, "/api/v1/me") &&
        strcmp(r->path, "/api/v1/logout")) {
        http_error(r, 403, "NOT_ACTIVE", "this account is suspended%s%s", st.reason[0] ? ": " : "",
                   st.reason);
        return -1;
    }
    return 0;
}

static void dispatch(http_server *h, http_req *r)
{
    r->dispatched = 1;
    if (r->too_large) {
        http_error(r, 413, "TOO_LARGE", "the body is larger than %zu bytes", r->bmax);
        return;
    }
    if (authenticate(h, r) != 0)
        return;
    uint32_t fl = r->rt->flags;
    if ((fl & (HTTP_AUTH | HTTP_OPERATOR)) && !r->auth) {
        http_error(r, 401, "UNAUTHORIZED", "log in (POST /api/v1/login) or sign the request with an API key");
        return;
    }
    if ((fl & HTTP_NO_KEY) && r->auth == AUTH_KEY) {
        http_error(r, 403, "FORBIDDEN", "this needs a browser session, not an API key");
        return;
    }
    if (r->auth && account_gate(h, r) != 0)
        return;
    if (r->auth && !auth_rate_key(h->auth, r->user, http_now_ms())) {
        http_error(r, 429, "RATE_LIMITED", "too many requests for this user; slow down");
        return;
    }
    if ((fl & HTTP_OPERATOR) && !r->op) {
        http_error(r, 403, "FORBIDDEN", "operators only");
        return;
    }
    int rc = ((http_handler)r->rt->handler)(h, r);
    if (rc == HTTP_LATER && !r->replied) {
        r->later = 1;
        return;
    }
    if (!r->replied)
        http_error(r, 500, "INTERNAL", "no answer");
}

/* The headers are in: route, limits; then the body or the handler. */
static int on_request(http_server *h, http_req *r, struct lws *wsi)
{
    memset(r, 0, sizeof *r);
    r->h = h;
    r->wsi = wsi;
    r->live = 1;
    for (size_t i = 0; i < sizeof methods / sizeof *methods && !r->method[0]; i++)
        if (lws_hdr_total_length(wsi, methods[i].tok) > 0) {
            strcpy(r->method, methods[i].name);
            if (lws_hdr_total_length(wsi, methods[i].tok) >= (int)sizeof r->path) {
                http_error(r, 414, "TOO_LARGE", "the path is too long");
                return 0;
            }
            lws_hdr_copy(wsi, r->path, sizeof r->path, methods[i].tok);
        }
    read_query(r);
    hdr(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, r->ctype, sizeof r->ctype);
    r->ip = peer_ip(wsi);
    if (!r->method[0]) {
        http_error(r, 405, "NOT_FOUND", "method not allowed");
        return 0;
    }
    if (!auth_rate_ip(h->auth, r->ip, http_now_ms())) {
        http_error(r, 429, "RATE_LIMITED", "too many requests from this address; slow down");
        return 0;
    }
    int other;
    r->rt = route_find(&h->rt, !strcmp(r->method, "HEAD") ? "GET" : r->method, r->path, &r->args, &other);
    if (!r->rt) {
        if (other)
            http_error(r, 405, "NOT_FOUND", "%s is not allowed on %s", r->method, r->path);
        else
            http_error(r, 404, "NOT_FOUND", "no such endpoint: %s", r->path);
        return 0;
    }
    char te[32], cl[32];
    hdr(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING, te, sizeof te);
    hdr(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, cl, sizeof cl);
    if (te[0]) {
        http_error(r, 411, "BAD_JSON", "send the body with a Content-Length, not chunked");
        return 0;
    }
    r->bmax = (r->rt->flags & HTTP_UPLOAD) ? h->cfg.upload_max : h->cfg.body_max;
    if (cl[0]) {
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (*end || cl[0] == '-') {
            http_error(r, 400, "BAD_JSON", "bad Content-Length");
            return 0;
        }
        if (n > r->bmax) {
            r->too_large = 1;
            dispatch(h, r);
            return 0;
        }
        if (n) {
            r->bwant = (size_t)n;
            r->body = malloc(r->bwant + 1);
            if (!r->body) {
                http_error(r, 503, "CAPACITY", "out of memory");
                return 0;
            }
            return 0; /* the body comes through LWS_CALLBACK_HTTP_BODY */
        }
    }
    dispatch(h, r);
    return 0;
}

static int on_body(http_req *r, const void *in, size_t len)
{
    if (!r->live || r->dispatched)
        return 0;
    if (!r->body || r->blen + len > r->bwant) {
        r->too_large = 1;
        return 0;
    }
    memcpy(r->body + r->blen, in, len);
    r->blen += len;
    return 0;
}

/* /metrics and /api/v1/openapi.yaml are served here, not through routes
 * with JSON handlers. */
static int metrics_handler(http_server *h, http_req *r)
{
    if (!h->metrics) {
        http_error(r, 404, "NOT_FOUND", "no metrics in this server");
        return HTTP_DONE;
    }
    if (out_room(r, HTTP_OUT_MAX) != 0) {
        http_error(r, 503, "CAPACITY", "out of memory");
        return HTTP_DONE;
    }
    size_t n = h->metrics(h->metrics_ctx, r->out + LWS_PRE, HTTP_OUT_MAX);
    http_reply(r, 200, "text/plain; version=0.0.4", r->out + LWS_PRE, n);
    return HTTP_DONE;
}

static int openapi_handler(http_server *h, http_req *r)
{
    if (!h->openapi) {
        http_error(r, 404, "NOT_FOUND", "docs/openapi.yaml was not found at start");
        return HTTP_DONE;
    }
    http_reply(r, 200, "application/yaml", h->openapi, h->openapi_len);
    return HTTP_DONE;
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
    http_server *h = lws_container_of(sul, http_server, tick);
    if (h->oe)
        oe_tick(h->oe);
    if (h->work) /* a wake-up is never lost for long */
        work_reap(h->work);
    userws_tick(h);
    lws_sul_schedule(h->ctx, 0, &h->tick, on_tick, 250 * LWS_US_PER_MS);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    http_req *r = user;
    const struct lws_protocols *pr = lws_get_protocol(wsi);
    http_server *h = pr ? pr->user : NULL;
    switch (reason) {
    case LWS_CALLBACK_PROTOCOL_INIT:
        if (h && !h->vh) {
            h->vh = lws_get_vhost(wsi);
            h->ctx = lws_get_context(wsi);
            if (h->cfg.data_dir) { /* browser sessions outlive a restart (the directory exists by now) */
                char f[4096];
                snprintf(f, sizeof f, "%s/http-sessions", h->cfg.data_dir);
                if (auth_sessions_persist(h->auth, f, http_now_ms()) != 0)
                    http_log(h, "cannot keep sessions in %s: a restart logs everyone out", f);
            }
            lws_sul_schedule(h->ctx, 0, &h->tick, on_tick, 250 * LWS_US_PER_MS);
        }
        return 0;
    case LWS_CALLBACK_PROTOCOL_DESTROY:
        if (h && h->ctx)
            lws_sul_cancel(&h->tick);
        if (h && h->work) { /* while the context lives: a worker's wake-up must not reach a freed one */
            work_free(h->work);
            h->work = NULL;
        }
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED: /* a worker finished a job (work_wake) */
        if (h && h->work)
            work_reap(h->work);
        return 0;
    case LWS_CALLBACK_HTTP: return h && r ? on_request(h, r, wsi) : -1;
    case LWS_CALLBACK_HTTP_BODY: return r ? on_body(r, in, len) : -1;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (r && r->live && !r->dispatched) {
            if (r->blen != r->bwant)
                r->too_large = r->too_large || r->blen > r->bwant;
            dispatch(h, r);
        }
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!r || !r->live || !r->replied)
            return 0;
        if (write_answer(r) != 0)
            return -1;
        if (r->too_large) { /* the body was not read: the connection cannot go on */
            req_end(r);
            return -1;
        }
        req_end(r);
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (r && r->h)
            req_end(r);
        return 0;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

/* ---- setup ------------------------------------------------------------------------ */

/* From a worker: break the loop's poll so that it reaps the job. */
static void work_wake(void *ctx)
{
    http_server *h = ctx;
    if (h->ctx)
        lws_cancel_service(h->ctx);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = cap <= (16u << 20) ? realloc(b, cap) : NULL;
            if (!nb) {
                free(b);
                fclose(f);
                return NULL;
            }
            b = nb;
        }
        size_t k = fread(b + n, 1, cap - n, f);
        n += k;
        if (!k)
            break;
    }
    fclose(f);
    *len = n;
    return b;
}

http_server *http_new(const http_config *cfg)
{
    http_server *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->cfg = *cfg;
    http_config *c = &h->cfg;
    if (!c->body_max)
        c->body_max = 64 * 1024;
    if (!c->upload_max)
        c->upload_max = 5u << 20;
    if (!c->rate_ip)
        c->rate_ip = 50;
    if (!c->rate_key)
        c->rate_key = 20;
    if (!c->login_fails)
        c->login_fails = 5;
    if (!c->login_lock_s)
        c->login_lock_s = 300;
    if (!c->session_s)
        c->session_s = 3600;
    if (!c->workers)
        c->workers = 2;
    if (!c->work_queue)
        c->work_queue = 64;
    h->work = work_new(c->workers, c->work_queue, work_wake, h);
    if (!h->work)
        goto fail;
    char keys[4096];
    if (c->data_dir)
        snprintf(keys, sizeof keys, "%s/api-keys", c->data_dir);
    auth_limits al = {.session_s = c->session_s,
                      .login_fails = c->login_fails,
                      .login_lock_s = c->login_lock_s,
                      .rate_ip = c->rate_ip,
                      .rate_key = c->rate_key,
                      .nonces = c->nonces};
    h->auth = auth_new(&al, c->data_dir ? keys : NULL);
    if (!h->auth)
        goto fail;

    if (c->openapi)
        h->openapi = read_file(c->openapi, &h->openapi_len);
    h->protocols[0] = (struct lws_protocols){"bourse-api", callback, sizeof(http_req), 0, 0, h, 0};
    h->protocols[1] = oe_protocol;
    h->protocols[1].user = h;
    h->protocols[2] = user_ws_protocol;
    h->protocols[2].user = h;
    h->protocols[3] = acct_protocol;
    h->protocols[3].user = h;
    h->mounts[0] = (struct lws_http_mount){.mountpoint = "/api/v1",
                                           .mountpoint_len = 7,
                                           .origin = "bourse-api",
                                           .origin_protocol = LWSMPRO_CALLBACK,
                                           .mount_next = &h->mounts[1]};
    h->mounts[1] = (struct lws_http_mount){.mountpoint = "/metrics",
                                           .mountpoint_len = 8,
                                           .origin = "bourse-api",
                                           .origin_protocol = LWSMPRO_CALLBACK};
    /* every answer of the vhost, the web page's files included: the page
     * loads only its own scripts and styles, talks only to its origin */
    static const char *const hv[][2] = {
        {"content-security-policy:",
         "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
         "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
        {"x-content-type-options:", "nosniff"},
        {"x-frame-options:", "DENY"},
        {"referrer-policy:", "no-referrer"},
    };
    for (size_t i = 0; i < 4; i++)
        h->hdrs[i] = (struct lws_protocol_vhost_options){
            .next = i + 1 < 4 ? &h->hdrs[i + 1] : NULL, .name = hv[i][0], .value = hv[i][1]};
    if (http_route(h, "GET", "/metrics", HTTP_PUBLIC, metrics_handler) ||
        http_route(h, "GET", "/api/v1/openapi.yaml", HTTP_PUBLIC, openapi_handler) || market_routes(h) ||
        session_routes(h) || acct_routes(h))
        goto fail;
    if (c->order_sock && (!(h->oe = oe_new(h)) || oe_routes(h)))
        goto fail;
    return h;
fail:
    http_free(h);
    return NULL;
}

void http_free(http_server *h)
{
    if (!h)
        return;
    work_free(h->work);
    oe_free(h->oe);
    auth_free(h->auth);
    free(h->openapi);
    free(h->pend);
    free(h);
}

const void *http_protocols(http_server *h)
{
    return h->protocols;
}
const void *http_mounts(http_server *h)
{
    return h->mounts;
}
const void *http_headers(http_server *h)
{
    return h->hdrs;
}

void http_set_feed(http_server *h, struct feed *f)
{
    h->cfg.feed = f;
}

void http_set_accounts(http_server *h, const char *admin_sock, http_acct_hash_fn fn, void *ctx)
{
    snprintf(h->admin_sock, sizeof h->admin_sock, "%s", admin_sock ? admin_sock : "");
    h->acct_hash = fn;
    h->acct_ctx = ctx;
}

void http_set_account_status(http_server *h, http_acct_status_fn fn, http_acct_gen_fn gen, void *ctx)
{
    h->acct_status = fn;
    h->acct_gen = gen;
    h->status_ctx = ctx;
}

void http_set_metrics(http_server *h, http_metrics_fn fn, void *ctx)
{
    h->metrics = fn;
    h->metrics_ctx = ctx;
}

int http_route(http_server *h, const char *method, const char *pattern, uint32_t flags, http_handler fn)
{
    return route_add(&h->rt, method, pattern, flags, (void *)fn);
}
