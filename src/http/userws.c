/*
 * userws.c - the private WebSocket, GET /api/v1/ws: the user's own order,
 * fill and account updates as they happen.
 *
 * The upgrade is authenticated like a request: the bourse_session cookie
 * (a browser; SameSite=Strict keeps other sites' pages out, and the Origin
 * must be this host when present), or an API key's signature in the query
 * (key, ts, nonce, sig: signed as "GET" of "/api/v1/ws" with an empty
 * body).  The messages come from the user's link into the gateway
 * (oelink.c), so they are the reports of durable commands, in the order of
 * the user's stream.  Each subscriber has a bounded queue (WS_QUEUE
 * messages); one that does not read is disconnected rather than let memory
 * grow.  The client sends nothing (what it sends is ignored, up to a
 * small limit).
 *
 * Account changes.  The server counts every applied account command
 * (http_set_account_status: a generation, and each account's version);
 * each tick (250 ms) that finds the generation moved walks the
 * subscribers, and one whose account's version moved is sent
 * {"type":"account","state","role","reason"} and its balances (a deposit
 * or withdrawal approved, orders.c: oe_push_balances).  A suspended or
 * closed account's socket is closed once that message is written (close
 * code 1008), and a new one is refused while the account is so.
 */
#include "http/http_int.h"

#include "bourse/account.h"

#include <stdlib.h>
#include <string.h>

enum { WS_QUEUE = 256 };

typedef struct usub {
    struct lws *wsi;
    http_server *h;
    struct usub *next, *prev;   /* every subscriber */
    struct usub *hnext, *hprev; /* those of the same bucket of user names */
    char user[AUTH_USER + 1];
    char *q[WS_QUEUE];
    uint16_t qlen[WS_QUEUE];
    uint32_t head, n;
    int authed, linked, overflow, closing;
    uint64_t version;                  /* of the account, as last pushed */
    lws_sorted_usec_list_t close_soon; /* the policy close, outside the callback (close_now) */
} usub;

/* Every subscriber in one list (the tick's walk), and again by a hash of
 * the user's name: each report of any user looks up that user's sockets,
 * and with thousands of users open a walk of all of them per report was
 * the HTTP thread's cost (docs/benchmarks.md, the private WebSocket). */
enum { SUB_BUCKETS = 8192 };
static usub *subs;
static usub *by_user[SUB_BUCKETS];

static usub **bucket_of(const char *user)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)user; *p; p++)
        h = (h ^ *p) * 16777619u;
    return &by_user[h & (SUB_BUCKETS - 1)];
}

int oe_touch(http_server *h, const char *user);

/* The value of query argument name ("key=") in buf.  lws copies the whole
 * "key=VALUE" fragment and points past the name: the value is moved to the
 * start, or a signed upgrade would compare "key=ID" with the key's ID. */
static int query_arg(struct lws *wsi, const char *name, char *buf, int len)
{
    buf[0] = 0;
    const char *v = lws_get_urlarg_by_name(wsi, name, buf, len);
    if (!v)
        return -1;
    memmove(buf, v, strlen(v) + 1);
    return 0;
}

/* Who opens this socket: 0 with u->user set, -1 to refuse. */
static int authenticate(http_server *h, usub *u, struct lws *wsi)
{
    char uri[64];
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || strcmp(uri, "/api/v1/ws"))
        return -1;
    char key[AUTH_KEY_ID + 8];
    if (query_arg(wsi, "key=", key, sizeof key) == 0 && key[0]) {
        char ts[32], nonce[80], sig[AUTH_SECRET_HEX + 8];
        query_arg(wsi, "ts=", ts, sizeof ts);
        query_arg(wsi, "nonce=", nonce, sizeof nonce);
        query_arg(wsi, "sig=", sig, sizeof sig);
        return auth_key_check(h->auth, key, ts, nonce, sig, "GET", "/api/v1/ws", NULL, 0, http_now_ms(),
                              u->user) == SIG_OK
                   ? 0
                   : -1;
    }
    char tok[AUTH_TOKEN_HEX + 8];
    size_t tl = sizeof tok;
    if (lws_http_cookie_get(wsi, "bourse_session", tok, &tl) != 0)
        return -1;
    tok[tl < sizeof tok ? tl : sizeof tok - 1] = 0;
    uint32_t s = auth_session_find(h->auth, tok, http_now_ms());
    if (!s)
        return -1;
    /* a browser's cross-site socket carries its Origin: it must be ours */
    char origin[256], host[256];
    if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) > 0) {
        if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0)
            return -1;
        const char *o = strstr(origin, "://");
        if (!o || strcmp(o + 3, host))
            return -1;
    }
    snprintf(u->user, sizeof u->user, "%s", auth_session_user(h->auth, s));
    return 0;
}

/* A suspended or closed account opens no private socket; 0 when it may. */
static int account_open(http_server *h, usub *u)
{
    http_acct_status st;
    if (!h->acct_status || !h->acct_status(h->status_ctx, u->user, &st))
        return 0;
    u->version = st.version;
    return st.state == BOURSE_AS_SUSPENDED || st.state == BOURSE_AS_CLOSED ? -1 : 0;
}

static void unlink_sub(usub *u)
{
    if (u->prev)
        u->prev->next = u->next;
    else if (subs == u)
        subs = u->next;
    if (u->next)
        u->next->prev = u->prev;
    u->next = u->prev = NULL;
    if (u->hprev)
        u->hprev->hnext = u->hnext;
    else if (*bucket_of(u->user) == u)
        *bucket_of(u->user) = u->hnext;
    if (u->hnext)
        u->hnext->hprev = u->hprev;
    u->hnext = u->hprev = NULL;
    while (u->n) {
        free(u->q[u->head % WS_QUEUE]);
        u->head++;
        u->n--;
    }
    u->linked = 0;
}

void userws_order(http_server *h, const char *user, const char *json, size_t n)
{
    for (usub *u = *bucket_of(user); u; u = u->hnext) {
        if (u->h != h || strcmp(u->user, user) || u->closing)
            continue;
        if (u->n == WS_QUEUE) {
            u->overflow = 1;
            lws_callback_on_writable(u->wsi);
            continue;
        }
        char *m = malloc(LWS_PRE + n);
        if (!m)
            continue;
        memcpy(m + LWS_PRE, json, n);
        uint32_t i = (u->head + u->n++) % WS_QUEUE;
        u->q[i] = m;
        u->qlen[i] = (uint16_t)n;
        lws_callback_on_writable(u->wsi);
    }
}

void userws_tick(http_server *h)
{
    if (!h->acct_gen || !subs)
        return;
    uint64_t gen = h->acct_gen(h->status_ctx);
    if (gen == h->seen_gen)
        return;
    h->seen_gen = gen;
    for (usub *u = subs; u; u = u->next) {
        http_acct_status st;
        if (u->h != h || u->closing || !h->acct_status(h->status_ctx, u->user, &st) ||
            st.version == u->version)
            continue;
        u->version = st.version;
        char buf[512];
        hj_w w = {.p = buf, .cap = sizeof buf};
        const char *state = bourse_account_state_name(st.state);
        hj_printf(&w, "{\"type\":\"account\",\"state\":");
        hj_string(&w, state, strlen(state));
        hj_printf(&w, ",\"role\":\"%s\",\"reason\":", st.operator_role ? "operator" : "user");
        if (st.reason[0])
            hj_string(&w, st.reason, strlen(st.reason));
        else
            hj_printf(&w, "null");
        hj_printf(&w, "}");
        if (!w.full)
            userws_order(h, u->user, buf, w.len); /* to each of the user's sockets */
        if (st.state == BOURSE_AS_SUSPENDED || st.state == BOURSE_AS_CLOSED) {
            for (usub *v = *bucket_of(u->user); v; v = v->hnext)
                if (v->h == h && !strcmp(v->user, u->user)) {
                    v->closing = 1;
                    v->version = st.version;
                    lws_callback_on_writable(v->wsi);
                }
        } else {
            for (usub *v = *bucket_of(u->user); v; v = v->hnext) /* its other sockets have had it */
                if (v->h == h && !strcmp(v->user, u->user))
                    v->version = st.version;
            oe_push_balances(h, u->user);
        }
    }
}

int userws_listening(http_server *h, const char *user)
{
    for (usub *u = *bucket_of(user); u; u = u->hnext)
        if (u->h == h && !strcmp(u->user, user))
            return 1;
    return 0;
}

/* Close with 1008 once all is out.  From a timer, not by returning -1
 * from the callback: on the libuv loop (src/feed/loop.c) Debian's
 * libwebsockets, built with _DEBUG, closes a connection whose callback
 * returned -1 a second time at once ("close_and_handled uv repeat test"),
 * and that second close drops the close frame the first one queued.  A
 * close from outside a callback is made once: the frame goes, then the
 * connection ends. */
static void close_now(lws_sorted_usec_list_t *sul)
{
    usub *u = lws_container_of(sul, usub, close_soon);
    lws_close_reason(u->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)"account not active", 18);
    lws_set_timeout(u->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    usub *u = user;
    const struct lws_protocols *pr = lws_get_protocol(wsi);
    http_server *h = pr ? pr->user : NULL;
    (void)in;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        if (!h || !u)
            return -1;
        memset(u, 0, sizeof *u);
        if (authenticate(h, u, wsi) != 0 || account_open(h, u) != 0)
            return -1;
        u->authed = 1;
        return 0;
    case LWS_CALLBACK_ESTABLISHED:
        if (!u || !u->authed || !h)
            return -1;
        u->wsi = wsi;
        u->h = h;
        u->next = subs;
        if (subs)
            subs->prev = u;
        subs = u;
        usub **b = bucket_of(u->user);
        u->hnext = *b;
        if (*b)
            (*b)->hprev = u;
        *b = u;
        u->linked = 1;
        oe_touch(h, u->user); /* its reports flow from the user's link */
        return 0;
    case LWS_CALLBACK_RECEIVE: return len > 4096 ? -1 : 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (!u || !u->linked || u->overflow)
            return -1;
        if (u->closing && !u->n) {
            lws_sul_schedule(lws_get_context(wsi), 0, &u->close_soon, close_now, 1);
            return 0;
        }
        if (u->n) {
            uint32_t i = u->head % WS_QUEUE;
            int w = lws_write(wsi, (unsigned char *)u->q[i] + LWS_PRE, u->qlen[i], LWS_WRITE_TEXT);
            free(u->q[i]);
            u->head++;
            u->n--;
            if (w < (int)u->qlen[i])
                return -1;
            if (u->n || u->closing) /* more, or the close once all is out */
                lws_callback_on_writable(wsi);
        }
        return 0;
    case LWS_CALLBACK_CLOSED:
        if (u)
            lws_sul_cancel(&u->close_soon);
        if (u && u->linked)
            unlink_sub(u);
        return 0;
    default: return 0;
    }
}

const struct lws_protocols user_ws_protocol = {"bourse-user", callback, sizeof(usub), 4096, 0, NULL, 0};
