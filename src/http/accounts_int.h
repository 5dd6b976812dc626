/*
 * accounts_int.h - what accounts.c (the transport, the user endpoints) and
 * accounts_admin.c (the operators' endpoints) share.
 */
#ifndef BOURSE_HTTP_ACCOUNTS_INT_H
#define BOURSE_HTTP_ACCOUNTS_INT_H

#include "accounts/accounts.h"
#include "http/http.h"

/* How a call's answer is read: K_CMD an `ACCOUNT ...` line; the others a
 * question's lines. */
enum { K_CMD = 1, K_LOGIN, K_ME, K_KYCQ, K_ACCOUNTS, K_FUNDING, K_ADMIN_FUNDING, K_DOC, K_HALT };

/* Send line to the admin socket and answer r from its answer: HTTP_LATER,
 * or HTTP_DONE after answering an error.  status: a command's on success
 * (a halt's: 1 halt, 0 resume); arg: the user or symbol the answer names. */
int hacct_ask(http_server *h, http_req *r, int kind, int status, const char *line, const char *arg);
/* One word of A-Z a-z 0-9 _ - (and '.' when max is BOURSE_SYMBOL_LEN). */
int hacct_word_ok(const char *s, size_t n, size_t max);
/* A JSON string field into buf: 1, or 0 after answering 400. */
int hacct_field(http_req *r, const hj_obj *j, const char *key, char *buf, size_t cap);
void hacct_refuse(http_req *r, const acct_err *e);
int acct_admin_routes(http_server *h);
/* accounts_work.c: the handlers whose work runs on the pool */
int hacct_signup(http_server *h, http_req *r);
int hacct_kyc_document(http_server *h, http_req *r);
/* The user's last stored document, for their next POST /kyc. */
void hacct_doc_remember(const char *user, const acct_doc *d);

#endif
