/*
 * accounts.h - the shell's half of the account life cycle: what is checked
 * before an account command is sent (bourse/account.h is the core's half,
 * the state machine itself), and the identity documents on disk.
 *
 * The HTTP layer (src/http) and `bourse admin` call these; each refusal
 * fills an acct_err with a stable upper-case code of docs/openapi.yaml
 * (BAD_FIELD, TOO_LARGE, ...) and a message a person can act on ("the
 * password is one of the most common ones").  The checks need no server
 * state: that a name is free is the core's to answer (CONFLICT), since only
 * the sequencer knows what came before.
 *
 * Documents.  An uploaded document is checked by its content (the magic
 * bytes of PNG, JPEG or PDF; the Content-Type a browser sends is only
 * compared with it) and its size (ACCT_DOC_MAX), then stored as
 * DATA/kyc/USER/SHA256.EXT (owner-only, written to a temporary name,
 * fsync'd, renamed, the directory fsync'd) before the KYC command that
 * names it by sha256, type and size is sent: a journaled KYC never points
 * at a file a crash could lose.  The name is the content's hash, so a
 * repeated upload is the same file, and an operator can check the file
 * against the journal.
 */
#ifndef BOURSE_ACCOUNTS_H
#define BOURSE_ACCOUNTS_H

#include "bourse/account.h"

#include <stddef.h>
#include <stdint.h>

#define ACCT_DOC_MAX (5u << 20) /* bytes of an identity document */
#define ACCT_PASSWORD_MIN 10
#define ACCT_PASSWORD_MAX 128
#define ACCT_AGE_MIN 18

typedef struct acct_err {
    const char *code; /* "BAD_FIELD", "TOO_LARGE", "MISSING_FIELD" */
    char field[24];   /* the JSON field at fault ("password"), or "" */
    char message[200];
} acct_err;

/* Each returns 0, or -1 with *err filled. */
int acct_check_username(const char *user, acct_err *err); /* 3-16 of A-Z a-z 0-9 _ -, a letter first */
int acct_check_email(const char *email, acct_err *err);
/* 10-128 bytes, not the user name (nor containing it), not a common
 * password, not one repeated character. */
int acct_check_password(const char *password, const char *user, acct_err *err);
/* Identity data; today is YYYYMMDD (the shell's clock, passed in: the age
 * check of a test does not change with the date it runs). */
int acct_check_kyc(const char *legal_name, const char *dob, const char *country, const char *id_number,
                   uint32_t today, acct_err *err);
/* A valid ISO 3166-1 alpha-2 code (upper case): 1, else 0. */
int acct_country_known(const char *code);
/* A funding request's amount: a decimal string of up to 4 decimals for
 * CASH ("1000.25"), a whole number of shares for a symbol; > 0. */
int acct_parse_amount(const char *text, int cash, int64_t *out, acct_err *err);
/* A reason an operator gives (reject, suspend, close, funding): 1-200
 * bytes of printable UTF-8. */
int acct_check_reason(const char *reason, acct_err *err);

/* Documents. */
enum acct_doc_type { ACCT_DOC_NONE = 0, ACCT_DOC_PNG, ACCT_DOC_JPEG, ACCT_DOC_PDF };
int acct_doc_sniff(const void *data, size_t len); /* enum acct_doc_type */
const char *acct_doc_type_name(int type);         /* "png", "jpeg", "pdf" */
const char *acct_doc_mime(int type);              /* "image/png", ... */
int acct_doc_type_of(const char *name);           /* "png" -> ACCT_DOC_PNG, else NONE */
typedef struct acct_doc {
    int type;
    uint32_t size;
    char sha256[65]; /* lower-case hex */
} acct_doc;
/* Check a document (content_type: the request's Content-Type, or NULL)
 * and describe it: 0, or -1 (BAD_FIELD for an unknown or mismatched type,
 * TOO_LARGE past ACCT_DOC_MAX). */
int acct_doc_check(const void *data, size_t len, const char *content_type, acct_doc *out, acct_err *err);
/* Store a checked document durably under dir/kyc/USER/ (see above). */
int acct_doc_store(const char *dir, const char *user, const void *data, size_t len, const acct_doc *doc,
                   acct_err *err);
/* The document's path, for reading it back (the operator's review). */
void acct_doc_path(const char *dir, const char *user, const char *sha256, const char *type, char *out,
                   size_t outlen);

/* Passwords: argon2id (libsodium's crypto_pwhash_str), the same as
 * DIR/passwords; fast = the cheapest cost, for tests only. */
int acct_hash_password(const char *password, int fast, char hash[BOURSE_ACCOUNT_HASH_MAX + 1]);
int acct_verify_password(const char *hash, const char *password); /* 1 when it matches */

/*
 * Build the account commands after every check: sign-up (hashes the
 * password; 0 or -1 with err), KYC (the identity data and a stored
 * document's description).  The caller encodes them with
 * bourse_account_encode and sends the fragments in one go.
 */
int acct_signup_cmd(const char *user, const char *email, const char *password, int fast,
                    bourse_account_cmd *out, acct_err *err);
int acct_kyc_cmd(const char *user, const char *legal_name, const char *dob, const char *country,
                 const char *id_number, const acct_doc *doc, uint32_t today, bourse_account_cmd *out,
                 acct_err *err);

/* The admin socket's account verbs (adminline.c has the list). */
enum { ACCT_LINE_BAD = -1, ACCT_LINE_NONE = 0, ACCT_LINE_CMD, ACCT_LINE_QUESTION };
enum { ACCT_Q_LIST = 1, ACCT_Q_SHOW, ACCT_Q_KYC_QUEUE, ACCT_Q_FUNDING };
typedef struct acct_line {
    bourse_account_cmd cmd; /* ACCT_LINE_CMD */
    int question;           /* ACCT_LINE_QUESTION: ACCT_Q_*, with cmd.user (SHOW) or arg (FUNDING) */
    char arg[16];
    int needs_password; /* `account signup USER EMAIL`: the client adds the hash */
    char doc_file[256]; /* `account kyc ... FILE ...`: the client stores it and names it */
} acct_line;
/* One line: ACCT_LINE_NONE (not an account verb), CMD, QUESTION, or BAD
 * with err.  today: YYYYMMDD, for the age check. */
int acct_line_parse(const char *line, size_t len, uint32_t today, acct_line *out, acct_err *err);
/* The server's form of a sign-up or KYC line (with the hash, the
 * document's sha256:HEX:TYPE:SIZE); 0 for other ops. */
size_t acct_line_format(const acct_line *l, char *out, size_t size);
/* Today as YYYYMMDD in UTC, from the shell's clock. */
uint32_t acct_today(void);

/* The HTTP status of a refusal code ("CONFLICT" -> 409), and of the core's
 * account errors (bourse_account_error_name). */
int acct_http_status(const char *code);
/* The API code (API.md) of the core's account error: WRONG_STATE is
 * answered as CONFLICT, the others by their own names. */
const char *acct_api_code(int bourse_account_error);

#endif
