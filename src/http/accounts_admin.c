/*
 * accounts_admin.c - the operators' account endpoints (/api/v1/admin/...,
 * role operator only: the router answers anyone else 403 FORBIDDEN): the
 * KYC queue, a user's identity document, approve and reject, the accounts
 * and their suspend, resume and close, funding requests and their
 * decisions, and trading halts.  Each is one admin-socket verb
 * (accounts.c has the transport); every value from the path or the body
 * is checked to be one word (names, ids, symbols) or one line (reasons)
 * before it goes into the line.
 */
#include "accounts/accounts.h"
#include "http/accounts_int.h"
#include "http/http_int.h"

#include <stdio.h>
#include <string.h>

/* ---- operator endpoints -------------------------------------------------------- */

static int user_arg(http_req *r, char *out)
{
    const char *u = http_arg(r, 0);
    if (!u || !hacct_word_ok(u, strlen(u), AUTH_USER)) {
        http_error(r, 404, "NOT_FOUND", "no such account");
        return 0;
    }
    snprintf(out, AUTH_USER + 1, "%s", u);
    return 1;
}

/* An optional {"reason"} body: 1 with it (or "" when none and !needed). */
static int reason_of(http_req *r, char *out, size_t cap, int needed)
{
    size_t n;
    http_body(r, &n);
    out[0] = 0;
    if (!n && !needed)
        return 1;
    hj_obj j;
    if (http_body_json(r, &j) != 0)
        return 0;
    if (!hacct_field(r, &j, "reason", out, cap))
        return 0;
    acct_err e = {0};
    if (acct_check_reason(out, &e) != 0) {
        hacct_refuse(r, &e);
        return 0;
    }
    return 1;
}

static int admin_kyc(http_server *h, http_req *r)
{
    return hacct_ask(h, r, K_KYCQ, 200, "kyc queue", NULL);
}

static int admin_doc(http_server *h, http_req *r)
{
    char u[AUTH_USER + 1], line[64];
    if (!user_arg(r, u))
        return HTTP_DONE;
    snprintf(line, sizeof line, "account show %s", u);
    return hacct_ask(h, r, K_DOC, 200, line, u);
}

static int admin_user_verb(http_server *h, http_req *r, const char *verb, int reason)
{
    char u[AUTH_USER + 1], why[256], line[400];
    if (!user_arg(r, u) || !reason_of(r, why, sizeof why, reason == 2))
        return HTTP_DONE;
    snprintf(line, sizeof line, "%s %s%s%s", verb, u, why[0] ? " " : "", why);
    return hacct_ask(h, r, K_CMD, 200, line, NULL);
}

static int kyc_approve(http_server *h, http_req *r)
{
    return admin_user_verb(h, r, "kyc approve", 0);
}
static int kyc_reject(http_server *h, http_req *r)
{
    return admin_user_verb(h, r, "kyc reject", 2);
}
static int acct_suspend(http_server *h, http_req *r)
{
    return admin_user_verb(h, r, "account suspend", 1);
}
static int acct_resume(http_server *h, http_req *r)
{
    return admin_user_verb(h, r, "account resume", 0);
}
static int acct_close(http_server *h, http_req *r)
{
    return admin_user_verb(h, r, "account close", 1);
}

static int admin_accounts(http_server *h, http_req *r)
{
    return hacct_ask(h, r, K_ACCOUNTS, 200, "account list", NULL);
}

static int admin_funding(http_server *h, http_req *r)
{
    char st[16], line[64] = "funding list";
    if (http_query(r, "state", st, sizeof st)) {
        if (strcmp(st, "pending") && strcmp(st, "approved") && strcmp(st, "rejected")) {
            http_error(r, 400, "BAD_FIELD", "state is pending, approved or rejected");
            return HTTP_DONE;
        }
        snprintf(line, sizeof line, "funding list %s", st);
    }
    return hacct_ask(h, r, K_ADMIN_FUNDING, 200, line, NULL);
}

static int funding_verb(http_server *h, http_req *r, const char *verb, int reason)
{
    const char *id = http_arg(r, 0);
    size_t n = id ? strlen(id) : 0;
    if (!n || n > 18 || strspn(id, "0123456789") != n) {
        http_error(r, 404, "NOT_FOUND", "no such funding request");
        return HTTP_DONE;
    }
    char why[256], line[400];
    if (!reason_of(r, why, sizeof why, reason))
        return HTTP_DONE;
    snprintf(line, sizeof line, "funding %s %s%s%s", verb, id, why[0] ? " " : "", why);
    return hacct_ask(h, r, K_CMD, 200, line, NULL);
}

static int fund_approve(http_server *h, http_req *r)
{
    return funding_verb(h, r, "approve", 0);
}
static int fund_reject(http_server *h, http_req *r)
{
    return funding_verb(h, r, "reject", 1);
}

static int halt_verb(http_server *h, http_req *r, int halt)
{
    const char *s = http_arg(r, 0);
    if (!s || !hacct_word_ok(s, strlen(s), BOURSE_SYMBOL_LEN)) {
        http_error(r, 400, "UNKNOWN_SYMBOL", "no such symbol");
        return HTTP_DONE;
    }
    char line[64];
    snprintf(line, sizeof line, "%s %s", halt ? "halt" : "resume", s);
    return hacct_ask(h, r, K_HALT, halt, line, s);
}

static int halt(http_server *h, http_req *r)
{
    return halt_verb(h, r, 1);
}
static int resume(http_server *h, http_req *r)
{
    return halt_verb(h, r, 0);
}

int acct_admin_routes(http_server *h)
{
    return http_route(h, "GET", "/api/v1/admin/kyc", HTTP_OPERATOR, admin_kyc) ||
           http_route(h, "GET", "/api/v1/admin/kyc/{user}/document", HTTP_OPERATOR, admin_doc) ||
           http_route(h, "POST", "/api/v1/admin/kyc/{user}/approve", HTTP_OPERATOR, kyc_approve) ||
           http_route(h, "POST", "/api/v1/admin/kyc/{user}/reject", HTTP_OPERATOR, kyc_reject) ||
           http_route(h, "GET", "/api/v1/admin/accounts", HTTP_OPERATOR, admin_accounts) ||
           http_route(h, "POST", "/api/v1/admin/accounts/{user}/suspend", HTTP_OPERATOR, acct_suspend) ||
           http_route(h, "POST", "/api/v1/admin/accounts/{user}/resume", HTTP_OPERATOR, acct_resume) ||
           http_route(h, "POST", "/api/v1/admin/accounts/{user}/close", HTTP_OPERATOR, acct_close) ||
           http_route(h, "GET", "/api/v1/admin/funding", HTTP_OPERATOR, admin_funding) ||
           http_route(h, "POST", "/api/v1/admin/funding/{id}/approve", HTTP_OPERATOR, fund_approve) ||
           http_route(h, "POST", "/api/v1/admin/funding/{id}/reject", HTTP_OPERATOR, fund_reject) ||
           http_route(h, "POST", "/api/v1/admin/halt/{sym}", HTTP_OPERATOR, halt) ||
           http_route(h, "POST", "/api/v1/admin/resume/{sym}", HTTP_OPERATOR, resume);
}
