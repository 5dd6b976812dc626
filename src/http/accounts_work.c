/*
 * accounts_work.c - the account requests whose work is slow, done on the
 * HTTP API's worker pool (work.h) so that the loop answers every other
 * client meanwhile: a sign-up (argon2id hash), a signed-up account's login
 * (argon2id check) and an identity document (checked, written, fsync'd,
 * renamed, the directory fsync'd).
 *
 * Each is an ajob: the handler checks what is cheap to check, copies what
 * the job needs (the password, the document's bytes taken over from the
 * request) and hands it to the pool; its done runs back on the loop and
 * answers through the request's ticket (the client may have gone), going
 * on to the admin socket (accounts.c) where the request needs it.  The
 * pool takes [http] work_queue jobs at once; past that the request is
 * answered 503 UNAVAILABLE (Retry-After) at once.  A password is zeroed as
 * soon as the job has used it.
 */
#include "accounts/accounts.h"
#include "http/accounts_int.h"
#include "http/http_int.h"
#include "http/work.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- slow work on the pool (work.h): argon2id, a document's fsync ------------ */

typedef struct ajob {
    work_job j;
    http_server *h;
    http_ticket t;
    int rc;
    char user[AUTH_USER + 8], email[BOURSE_ACCOUNT_EMAIL_MAX + 8], pw[ACCT_PASSWORD_MAX + 8];
    char hash[BOURSE_ACCOUNT_HASH_MAX + 1];
    bourse_account_cmd c;
    acct_err e;
    uint8_t *body; /* a document's bytes (the request's, taken over) */
    size_t blen;
    char ctype[64];
    acct_doc d;
} ajob;

static void ajob_free(ajob *a)
{
    free(a->body);
    sodium_memzero(a, sizeof *a);
    free(a);
}

/* Hand a to the pool and answer later; or answer 503 at once. */
static int ajob_go(http_server *h, http_req *r, ajob *a)
{
    a->h = h;
    a->t = http_ticket_of(r);
    if (!h->work || !a->t || work_submit(h->work, &a->j) != 0) {
        ajob_free(a);
        http_error(r, 503, "UNAVAILABLE", "the server is busy checking passwords and documents; try again");
        return HTTP_DONE;
    }
    return HTTP_LATER;
}

static ajob *ajob_new(void (*run)(work_job *), void (*done)(work_job *), http_req *r)
{
    ajob *a = calloc(1, sizeof *a);
    if (!a)
        http_error(r, 503, "CAPACITY", "out of memory");
    else
        a->j = (work_job){.run = run, .done = done};
    return a;
}

static void signup_run(work_job *j)
{
    ajob *a = (ajob *)j;
    a->rc = acct_signup_cmd(a->user, a->email, a->pw, 0, &a->c, &a->e);
    sodium_memzero(a->pw, sizeof a->pw);
}

static void signup_done(work_job *j)
{
    ajob *a = (ajob *)j;
    http_req *r = j->run ? http_ticket_req(a->h, a->t) : NULL;
    if (r) {
        if (a->rc != 0)
            hacct_refuse(r, &a->e);
        else if (strchr(a->c.email, ' '))
            http_error(r, 400, "BAD_FIELD", "the e-mail address has a space");
        else {
            char line[1024];
            snprintf(line, sizeof line, "account signup %s %s %s", a->c.user, a->c.email, a->c.hash);
            snprintf(r->user, sizeof r->user, "%s", a->c.user); /* the call's user (the request has none) */
            hacct_ask(a->h, r, K_CMD, 201, line, NULL);
            r->user[0] = 0;
        }
    }
    ajob_free(a);
}

int hacct_signup(http_server *h, http_req *r)
{
    hj_obj j;
    if (http_body_json(r, &j) != 0)
        return HTTP_DONE;
    ajob *a = ajob_new(signup_run, signup_done, r);
    if (!a)
        return HTTP_DONE;
    if (!hacct_field(r, &j, "username", a->user, sizeof a->user) ||
        !hacct_field(r, &j, "email", a->email, sizeof a->email) ||
        !hacct_field(r, &j, "password", a->pw, sizeof a->pw)) {
        ajob_free(a);
        return HTTP_DONE;
    }
    sodium_memzero(j.p, sizeof j.p);
    /* the cheap checks here: a weak password is refused without the pool */
    if (acct_check_username(a->user, &a->e) || acct_check_email(a->email, &a->e) ||
        acct_check_password(a->pw, a->user, &a->e)) {
        hacct_refuse(r, &a->e);
        ajob_free(a);
        return HTTP_DONE;
    }
    return ajob_go(h, r, a);
}

int oe_login(http_server *h, http_req *r, const char *user, const char *password);

static void login_run(work_job *j)
{
    ajob *a = (ajob *)j;
    a->rc = acct_verify_password(a->hash, a->pw);
    sodium_memzero(a->pw, sizeof a->pw);
}

static void login_done(work_job *j)
{
    ajob *a = (ajob *)j;
    http_req *r = j->run ? http_ticket_req(a->h, a->t) : NULL;
    if (r && !a->rc) {
        auth_login_failed(a->h->auth, a->user, r->ip, http_now_ms());
        http_error(r, 401, "UNAUTHORIZED", "wrong user name or password");
    } else if (r) {
        char line[64];
        snprintf(line, sizeof line, "account show %s", a->user);
        snprintf(r->user, sizeof r->user, "%.*s", AUTH_USER, a->user);
        hacct_ask(a->h, r, K_LOGIN, 200, line, NULL);
        r->user[0] = 0;
    }
    ajob_free(a);
}

/* Login of a signed-up account: its hash (checked on the pool), then its
 * state and role. */
int acct_login(http_server *h, http_req *r, const char *u, size_t ul, const char *p, size_t pl)
{
    char user[AUTH_USER + 1];
    if (!h->acct_hash || ul > AUTH_USER || pl > ACCT_PASSWORD_MAX)
        return -1;
    memcpy(user, u, ul), user[ul] = 0;
    ajob *a = ajob_new(login_run, login_done, r);
    if (!a)
        return HTTP_DONE;
    if (!h->acct_hash(h->acct_ctx, user, a->hash, sizeof a->hash)) {
        ajob_free(a);
        return -1; /* not a signed-up account: the gateway's check */
    }
    memcpy(a->user, user, ul + 1);
    memcpy(a->pw, p, pl), a->pw[pl] = 0;
    return ajob_go(h, r, a);
}

static void doc_run(work_job *j)
{
    ajob *a = (ajob *)j;
    a->rc = acct_doc_check(a->body, a->blen, a->ctype, &a->d, &a->e) != 0 ||
                    acct_doc_store(a->h->cfg.data_dir, a->user, a->body, a->blen, &a->d, &a->e) != 0
                ? -1
                : 0;
}

static void doc_done(work_job *j)
{
    ajob *a = (ajob *)j;
    http_req *r = j->run ? http_ticket_req(a->h, a->t) : NULL;
    if (!a->rc && j->run) /* stored: the user's next POST /kyc names it, answered or not */
        hacct_doc_remember(a->user, &a->d);
    if (r && a->rc)
        hacct_refuse(r, &a->e);
    else if (r) {
        hj_w *w = http_json(r);
        hj_printf(w, "{\"sha256\":\"%s\",\"size\":%u,\"type\":\"%s\"}", a->d.sha256, a->d.size,
                  acct_doc_mime(a->d.type));
        http_json_send(r, 201);
    }
    ajob_free(a);
}

int hacct_kyc_document(http_server *h, http_req *r)
{
    ajob *a = ajob_new(doc_run, doc_done, r);
    if (!a)
        return HTTP_DONE;
    snprintf(a->user, sizeof a->user, "%s", r->user);
    snprintf(a->ctype, sizeof a->ctype, "%s", http_content_type(r));
    a->body = r->body; /* taken over: the request may go while the pool writes it */
    a->blen = r->blen;
    r->body = NULL;
    r->blen = 0;
    return ajob_go(h, r, a);
}
