/*
 * session.c - logging in and out, who am I, and API keys.
 *
 * POST /api/v1/login checks the API's own throttle first (failed logins
 * per account and per address, auth.c: 429 LOCKED), then the password:
 * through the gateway's password check (orders.c, oe_login), which has its
 * own throttles and locks too.  A good login starts a browser session
 * (cookies: http_session_start); a signed-up account is checked by
 * accounts.c (acct_login) instead.  API keys are made by a browser session
 * only (a key cannot make keys), shown once, kept in DATA/api-keys.
 */
#include "http/http_int.h"

#include <sodium.h>
#include <string.h>

static int login(http_server *h, http_req *r)
{
    hj_obj j;
    if (http_body_json(r, &j) != 0)
        return HTTP_DONE;
    const char *u, *p;
    size_t ul, pl;
    int gu = hj_str(&j, "username", &u, &ul), gp = hj_str(&j, "password", &p, &pl);
    if (gu <= 0 || gp <= 0) {
        http_error(r, 400, gu < 0 || gp < 0 ? "BAD_FIELD" : "MISSING_FIELD",
                   "username and password (strings) are required");
        return HTTP_DONE;
    }
    if (!oe_id_ok(u, ul) || !pl || pl > 128) {
        http_error(r, 401, "UNAUTHORIZED", "wrong user name or password");
        return HTTP_DONE;
    }
    if (auth_login_allowed(h->auth, u, r->ip, http_now_ms()) != 0) {
        http_error(r, 429, "LOCKED", "too many failed logins for this account or address; try again later");
        return HTTP_DONE;
    }
    int ar = acct_login(h, r, u, ul, p, pl); /* a signed-up account (accounts.c) */
    if (ar >= 0) {
        sodium_memzero(j.p, sizeof j.p);
        return ar;
    }
    if (pl > 32) { /* order-entry passwords fit OUCH */
        http_error(r, 401, "UNAUTHORIZED", "wrong user name or password");
        return HTTP_DONE;
    }
    if (!h->oe) {
        http_error(r, 503, "UNAVAILABLE", "logins are not available in this server");
        return HTTP_DONE;
    }
    int rc = oe_login(h, r, u, p);
    sodium_memzero(j.p, sizeof j.p);
    return rc;
}

static int logout(http_server *h, http_req *r)
{
    if (r->auth == AUTH_COOKIE)
        auth_session_end(h->auth, r->sess);
    http_add_header(r, "set-cookie:", "bourse_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    http_add_header(r, "set-cookie:", "bourse_csrf=; SameSite=Strict; Path=/; Max-Age=0");
    http_reply(r, 204, "application/json", "", 0);
    return HTTP_DONE;
}

static int new_key(http_server *h, http_req *r)
{
    hj_obj j;
    if (http_body_json(r, &j) != 0)
        return HTTP_DONE;
    const char *label = "";
    size_t n = 0;
    int g = hj_str(&j, "label", &label, &n);
    if (g < 0 || n > 64) {
        http_error(r, 400, "BAD_FIELD", "label must be a string of at most 64 characters");
        return HTTP_DONE;
    }
    char lab[65];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) /* one word in the keys file */
        lab[k++] = label[i] > ' ' && label[i] < 0x7f ? label[i] : '_';
    lab[k] = 0;
    char id[AUTH_KEY_ID + 1], secret[AUTH_SECRET_HEX + 1];
    if (auth_key_new(h->auth, r->user, k ? lab : "-", id, secret) != 0) {
        http_error(r, 503, "CAPACITY", "the key could not be saved");
        return HTTP_DONE;
    }
    hj_w *w = http_json(r);
    hj_printf(w, "{\"key_id\":\"%s\",\"secret\":\"%s\"}", id, secret);
    sodium_memzero(secret, sizeof secret);
    http_json_send(r, 201);
    return HTTP_DONE;
}

int session_routes(http_server *h)
{
    return http_route(h, "POST", "/api/v1/login", HTTP_PUBLIC, login) ||
           http_route(h, "POST", "/api/v1/logout", HTTP_PUBLIC, logout) ||
           http_route(h, "POST", "/api/v1/keys", HTTP_AUTH | HTTP_NO_KEY, new_key);
}
